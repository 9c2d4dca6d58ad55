//! Corrupt directory entries: an error, and that memory untouched.

use super::*;

#[test]
fn scenario_invalid_nonzero_entry_is_refused_and_left_alone() {
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    p.write_u64(a, 0xabcd).unwrap();
    let entry = entry_address(&p, bd, a);
    let corrupt = 0x7777_0000; // Address bits without the valid bit.
    p.write_u64(entry, corrupt).unwrap();

    assert_eq!(
        p.bndstx(a, a, a, a + 99),
        Err(SimError::BoundsFault(AllocError::CorruptEntry {
            entry,
            value: corrupt
        }))
    );
    assert_eq!(
        p.bndldx(a, a),
        Err(SimError::BoundsFault(AllocError::CorruptEntry {
            entry,
            value: corrupt
        }))
    );
    assert_live(&p, 0);
    assert_eq!(p.stats().tables_allocated, 0);
    assert_eq!(p.directory_entry(a), Some(corrupt));
    assert_eq!(p.read_u64(a).unwrap(), 0xabcd);

    let before = p.vmas();
    assert_eq!(
        p.munmap(a, MIB),
        Err(SimError::Unmap(UnmapError::CorruptEntry {
            entry,
            value: corrupt
        }))
    );
    // The munmap itself happened; the entry was not touched.
    assert_eq!(p.directory_entry(a), Some(corrupt));
    assert_eq!(p.vmas().len(), before.len() - 1);

    // The process carries on: repair the entry, or use another span.
    let b = p.mmap_fixed(AREA + MIB, MIB).unwrap();
    store_self(&p, b);
    assert_self_bounds(&p, b);
    p.write_u64(entry, 0).unwrap();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, a);
    assert_self_bounds(&p, a);
    assert_live(&p, 2);
    p.munmap(AREA, 2 * MIB).unwrap();
    assert_live(&p, 0);
}

#[test]
fn scenario_valid_entry_pointing_at_data_is_not_unmapped() {
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    // A 4 MiB data mapping the entry pretends is a table.
    let data = p.mmap_fixed(AREA + 64 * MIB, TABLE_64).unwrap();
    for i in 0..16 {
        p.write_u64(data + i * 256 * KIB, 0x5000 + i).unwrap();
    }
    let entry = entry_address(&p, bd, a);
    p.write_u64(entry, data | 1).unwrap();

    assert_eq!(
        p.munmap(a, MIB),
        Err(SimError::Unmap(UnmapError::NotATable {
            entry,
            table: data
        }))
    );
    assert!(p.vmas().contains(&(data, data + TABLE_64, false)));
    for i in 0..16 {
        assert_eq!(p.read_u64(data + i * 256 * KIB).unwrap(), 0x5000 + i);
    }
    assert_eq!(p.directory_entry(a), Some(data | 1));
    assert_eq!(p.stats().tables_freed, 0);
    assert_live(&p, 0);

    // Still usable.
    let b = p.mmap_fixed(AREA + MIB, MIB).unwrap();
    store_self(&p, b);
    p.munmap(b, MIB).unwrap();
    assert_live(&p, 0);
    assert_eq!(p.stats().tables_freed, 1);
}

#[test]
fn scenario_entry_pointing_into_a_table_or_at_anothers_table_is_refused() {
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    let b = p.mmap_fixed(AREA + MIB, MIB).unwrap();
    store_self(&p, b);
    let table = table_of(&p, b);
    let entry = entry_address(&p, bd, a);

    // Into the middle of b's table.
    p.write_u64(entry, (table + PAGE) | 1).unwrap();
    assert_eq!(
        p.munmap(a, MIB),
        Err(SimError::Unmap(UnmapError::NotATable {
            entry,
            table: table + PAGE
        }))
    );
    assert_eq!(table_vmas(&p), vec![(table, table + TABLE_64)]);
    assert_eq!(p.directory_entry(b), Some(table | 1));
    assert_self_bounds(&p, b);

    // At the start of b's table: a whole table, but not mapped for this entry.
    // (The entry still names the middle of b's table, so even MAP_FIXED over
    // the span reports the error; the mapping is made all the same.)
    assert_eq!(
        p.mmap_fixed(AREA, MIB),
        Err(SimError::Unmap(UnmapError::NotATable {
            entry,
            table: table + PAGE
        }))
    );
    assert!(p.vmas().contains(&(a, a + MIB, false)));
    p.write_u64(entry, table | 1).unwrap();
    assert_eq!(
        p.munmap(a, MIB),
        Err(SimError::Unmap(UnmapError::NotATable { entry, table }))
    );
    assert_live(&p, 1);
    assert_eq!(p.directory_entry(b), Some(table | 1));
    assert_self_bounds(&p, b);
    assert_eq!(p.stats().tables_freed, 0);

    // b's own unmap frees it as usual.
    p.munmap(b, MIB).unwrap();
    assert_live(&p, 0);
    assert_eq!(p.directory_entry(b), Some(0));
}

#[test]
fn scenario_valid_entries_pointing_anywhere_fault_without_touching_memory() {
    // The CPU trusts a valid entry: BNDSTX/BNDLDX go to wherever it points.
    // Unmapped or wrapping addresses fault (SIGSEGV), and the manager still
    // refuses to unmap what the entry names.
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    let entry = entry_address(&p, bd, a);
    let slot = a + MIB - 8; // The last table entry: the largest offset.
    for value in [
        u64::MAX,
        (1 << 47) - 7,
        0xffff_8000_0000_0001,
        1,
        AREA + 64 * MIB + 1,
    ] {
        p.write_u64(entry, value).unwrap();
        let vmas = p.vmas();
        let resident = p.resident_bytes();
        assert!(
            matches!(
                p.bndstx(slot, slot, 1, 2),
                Err(SimError::SegmentationFault { .. })
            ),
            "entry {value:#x}"
        );
        assert!(
            matches!(
                p.bndldx(slot, slot),
                Err(SimError::SegmentationFault { .. })
            ),
            "entry {value:#x}"
        );
        assert_eq!(p.vmas(), vmas);
        assert_eq!(p.resident_bytes(), resident);
        assert_live(&p, 0);
        // munmap refuses it (and the data mapping goes, as munmap does).
        assert!(
            matches!(
                p.munmap(a, MIB),
                Err(SimError::Unmap(UnmapError::NotATable { .. }))
            ),
            "entry {value:#x}"
        );
        assert_eq!(p.directory_entry(a), Some(value));
        p.write_u64(entry, 0).unwrap();
        p.mmap_fixed(a, MIB).unwrap();
    }
    store_self(&p, slot);
    assert_self_bounds(&p, slot);
}

#[test]
fn scenario_corrupt_span_does_not_stop_the_unmap_hook() {
    // Spans 0 and 2 have tables, span 1 a corrupt entry. Span 1 is left
    // alone and reported; spans 0 and 2 are freed all the same (their data
    // is gone, so no later unmap would ever visit their tables again).
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, 3 * MIB).unwrap();
    store_self(&p, a);
    store_self(&p, a + 2 * MIB);
    let entry = entry_address(&p, bd, a + MIB);
    p.write_u64(entry, 0x10).unwrap();
    assert_eq!(
        p.munmap(a, 3 * MIB),
        Err(SimError::Unmap(UnmapError::CorruptEntry {
            entry,
            value: 0x10
        }))
    );
    assert_eq!(p.directory_entry(a), Some(0));
    assert_eq!(p.directory_entry(a + MIB), Some(0x10));
    assert_eq!(p.directory_entry(a + 2 * MIB), Some(0));
    assert_eq!(table_vmas(&p), vec![]);
    assert_eq!(p.stats().tables_freed, 2);
    // The first of several errors is the one reported; all spans are visited.
    let corrupt = Err(SimError::Unmap(UnmapError::CorruptEntry {
        entry,
        value: 0x10,
    }));
    assert_eq!(p.mmap_fixed(AREA, 3 * MIB), corrupt);
    let b = AREA;
    store_self(&p, b + 8);
    p.write_u64(entry_address(&p, bd, b + 2 * MIB), 0x20)
        .unwrap();
    assert_eq!(
        p.munmap(b, 3 * MIB),
        Err(SimError::Unmap(UnmapError::CorruptEntry {
            entry,
            value: 0x10
        }))
    );
    assert_live(&p, 0);
}

#[test]
fn scenario_hostile_entry_does_not_make_step_1_skip_a_table_piece() {
    // Table B is split (while management is off) so that one piece of it
    // is left right after table A; A's entry is then pointed 1 MiB into A,
    // so that "A's end" as the entry tells it lies inside B's piece. A user
    // munmap of both must still invalidate B's entry.
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, 2 * MIB).unwrap();
    store_self(&p, a);
    store_self(&p, a + MIB);
    let ta = table_of(&p, a);
    let tb = table_of(&p, a + MIB);
    assert_eq!(tb, ta + TABLE_64);
    p.disable_mpx_management().unwrap();
    p.munmap(tb + MIB, 3 * MIB).unwrap();
    p.enable_management().unwrap();
    p.write_u64(entry_address(&p, bd, a), (ta + MIB) | 1)
        .unwrap();
    let _ = p.munmap(ta, 5 * MIB);
    assert_eq!(p.directory_entry(a + MIB), Some(0));
    assert_eq!(table_vmas(&p), vec![]);
}

#[test]
fn scenario_compat32_entry_naming_a_table_across_a_page_does_not_hang() {
    // A 32-bit table only needs 4-byte alignment: an entry can make a
    // table entry straddle two pages, one of them unmapped.
    let p = SimProcess::with_mode(Mode::Compat32);
    let bd = p.enable_mpx().unwrap();
    let a = p.mmap_fixed(0x4000_0000, PAGE).unwrap();
    let t = p.mmap(PAGE).unwrap();
    let after = p.mmap_fixed(t + PAGE, PAGE).unwrap();
    p.munmap(after, PAGE).unwrap();
    p.write_u64(entry_address(&p, bd, a) & !7, 0).unwrap();
    let entry = entry_address(&p, bd, a);
    let word = entry & !7;
    let shift = (entry - word) * 8;
    let old = p.read_u64(word).unwrap();
    let value = ((t + 0xffc) | 1) << shift;
    p.write_u64(word, (old & !(0xffff_ffff << shift)) | value)
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(|| tx.send(p.bndstx(a, a, 1, 2)).unwrap());
        let result = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("BNDSTX must not spin");
        // Slot a's table entry starts at t + 0xffc and runs into the
        // unmapped page: a segmentation fault, as on a CPU.
        assert!(
            matches!(result, Err(SimError::SegmentationFault { .. })),
            "{result:?}"
        );
    });
}

#[test]
fn scenario_corrupt_value_landing_during_allocation_drops_our_table() {
    // Another thread writes garbage into the entry between the manager's
    // look and its compare-exchange: an error, and no table left behind.
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    p.race_next_table_install(0xdead_0000);
    let r = p.bndstx(a, a, a, a + 99);
    assert!(
        matches!(
            r,
            Err(SimError::BoundsFault(AllocError::CorruptEntry {
                value: 0xdead_0000,
                ..
            }))
        ),
        "{r:?}"
    );
    assert_live(&p, 0);
    assert_eq!(p.stats().tables_allocated, 0);
    assert_eq!(p.stats().races_lost, 0);
    assert_eq!(p.directory_entry(a), Some(0xdead_0000));
}

#[test]
fn scenario_bounds_status_outside_directory_is_refused() {
    // BNDCFGU pointing at a second, unmanaged directory: the CPU raises #BR
    // for entries outside the one the kernel recorded.
    let (p, _bd) = managed();
    let other = p.mmap(2 << 30).unwrap();
    p.set_bndcfgu(other | 1);
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    let r = p.bndstx(a, a, a, a + 99);
    assert!(
        matches!(
            r,
            Err(SimError::BoundsFault(
                AllocError::EntryOutsideDirectory { .. }
            ))
        ),
        "{r:?}"
    );
    assert_live(&p, 0);
    assert_eq!(p.stats().tables_allocated, 0);
}
