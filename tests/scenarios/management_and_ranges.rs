//! Management off, bad ranges, 32-bit processes, MAP_FIXED.

use super::*;

#[test]
fn scenario_disabled_management_leaves_tables_and_refuses_br() {
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, a);
    let table = table_of(&p, a);
    p.disable_mpx_management().unwrap();
    assert_eq!(p.directory_entry(a), None);
    assert_eq!(p.manager().directory_base(), None);

    // The hardware still walks the directory: existing bounds load.
    assert_self_bounds(&p, a);
    // A fresh span raises #BR, which is no longer handled.
    let b = p.mmap_fixed(AREA + MIB, MIB).unwrap();
    assert_eq!(
        p.bndstx(b, b, b, b + 1),
        Err(SimError::BoundsFault(AllocError::NotManaged))
    );
    assert_eq!(p.read_u64(entry_address(&p, bd, b)).unwrap(), 0);

    // munmap leaves the table (and its entry) alone.
    p.munmap(a, 2 * MIB).unwrap();
    assert_eq!(table_vmas(&p), vec![(table, table + TABLE_64)]);
    assert_eq!(p.read_u64(entry_address(&p, bd, a)).unwrap(), table | 1);
    let s = p.stats();
    assert_eq!((s.tables_allocated, s.tables_freed), (1, 0));

    // Management back on: the old table is managed again.
    p.enable_management().unwrap();
    assert_eq!(p.directory_entry(a), Some(table | 1));
    p.munmap(table, TABLE_64).unwrap();
    assert_eq!(p.directory_entry(a), Some(0));
    assert_live(&p, 0);
}

#[test]
fn scenario_live_tables_follow_the_mappings_when_the_manager_frees_nothing() {
    // Tables can go without the hook unlinking them: orphaned (entry cleared
    // by the user) and then unmapped, which counts as freed; or unmapped by
    // the user while management is off, which the manager cannot count. The
    // statistics count what is mapped, not allocated minus freed.
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, 2 * MIB).unwrap();
    store_self(&p, a);
    store_self(&p, a + MIB);
    let (t0, t1) = (table_of(&p, a), table_of(&p, a + MIB));
    assert_live(&p, 2);

    // Orphaned: the user clears the entry, then unmaps the table.
    p.write_u64(entry_address(&p, bd, a), 0).unwrap();
    p.munmap(t0, TABLE_64).unwrap();
    assert_live(&p, 1);
    let s = p.stats();
    assert_eq!((s.tables_allocated, s.tables_freed), (2, 1));

    // Management off, then the user unmaps the other table.
    p.disable_mpx_management().unwrap();
    p.munmap(t1, TABLE_64).unwrap();
    assert_eq!(p.live_tables(), 0);
    assert_eq!(p.stats().live_tables, 0);
    assert_eq!(p.stats().table_bytes_mapped, 0);

    // A table split in two by a user munmap of its middle page (management
    // off) is two mappings, and counted so: the kernel counts mappings.
    p.enable_management().unwrap();
    p.write_u64(entry_address(&p, bd, a + MIB), 0).unwrap();
    store_self(&p, a + MIB);
    let t2 = table_of(&p, a + MIB);
    p.disable_mpx_management().unwrap();
    p.munmap(t2 + MIB, PAGE).unwrap();
    assert_eq!(table_vmas(&p).len(), 2);
    let s = p.stats();
    assert_eq!(s.live_tables, 2);
    assert_eq!(s.table_bytes_mapped, TABLE_64 - PAGE);
}

#[test]
fn scenario_enable_refuses_bad_configurations() {
    let p = SimProcess::new();
    // No BNDCFGU loaded: EN is clear.
    assert_eq!(
        p.enable_management(),
        Err(SimError::Enable(EnableError::MpxDisabled))
    );
    // A directory base nothing is mapped at.
    p.set_bndcfgu(AREA | 1);
    assert_eq!(
        p.enable_management(),
        Err(SimError::Enable(EnableError::DirectoryNotMapped))
    );
    // Reserved bits.
    let bd = p.mmap(2 << 30).unwrap();
    p.set_bndcfgu(bd | 0x10 | 1);
    assert_eq!(
        p.enable_management(),
        Err(SimError::Enable(EnableError::ReservedBits))
    );
    // A directory that does not fit below the top of the address space.
    p.set_bndcfgu(((1 << 48) - PAGE) | 1);
    assert_eq!(
        p.enable_management(),
        Err(SimError::Enable(EnableError::OutOfRange))
    );
    // A directory half covered by a mapping.
    let half = p.mmap_fixed(AREA, 1 << 30).unwrap();
    p.set_bndcfgu(half | 1);
    assert_eq!(
        p.enable_management(),
        Err(SimError::Enable(EnableError::DirectoryNotMapped))
    );
    assert_eq!(p.manager().directory_base(), None);
    // And the good one.
    p.set_bndcfgu(bd | 1);
    p.enable_management().unwrap();
    assert_eq!(p.manager().directory_base(), Some(bd));
}

#[test]
fn scenario_bad_ranges_are_errors_and_change_nothing() {
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, a);
    let vmas = p.vmas();
    let stats = p.stats();

    let bad = [
        p.munmap(u64::MAX - 4095, 8192),
        p.munmap(u64::MAX - 4095, 4096),
        p.munmap(a, 0),
        p.munmap(a + 8, PAGE),
        p.munmap(a, u64::MAX),
        p.munmap((1 << 47) - PAGE, 2 * PAGE),
        p.munmap(1 << 47, PAGE),
        p.munmap(0xffff_8000_0000_0000, PAGE),
        p.mmap_fixed(a, 0).map(|_| ()),
        p.mmap_fixed(a + 1, PAGE).map(|_| ()),
        p.mmap_fixed(u64::MAX - 4095, 8192).map(|_| ()),
        p.mmap_fixed(1 << 47, PAGE).map(|_| ()),
        p.mmap(0).map(|_| ()),
        p.mmap(u64::MAX).map(|_| ()),
        p.read_u64(a + 4).map(|_| ()),
        p.write_u64(a + 4, 1),
    ];
    for (i, r) in bad.iter().enumerate() {
        assert_eq!(*r, Err(SimError::Invalid), "case {i}");
    }
    assert_eq!(p.vmas(), vmas);
    assert_eq!(p.stats(), stats);
    assert_self_bounds(&p, a);

    // Too large a mapping for the address space.
    assert_eq!(p.mmap(1 << 47), Err(SimError::NoMemory));
    // Touching unmapped memory.
    assert_eq!(
        p.read_u64(AREA + MIB),
        Err(SimError::SegmentationFault {
            address: AREA + MIB
        })
    );
    // Unmapping nothing, or the last page of the address space: fine.
    p.munmap(AREA + 100 * MIB, PAGE).unwrap();
    p.munmap((1 << 47) - PAGE, PAGE).unwrap();
    assert_eq!(p.vmas(), vmas);
    assert_live(&p, 1);
    assert_eq!(
        p.stats().directory_entries_read,
        stats.directory_entries_read + 1
    );
}

#[test]
fn scenario_compat32_process_has_16k_tables_per_4k_span() {
    let p = SimProcess::with_mode(Mode::Compat32);
    let g = p.geometry();
    assert_eq!((g.table_bytes(), g.span_bytes()), (16 * KIB, 4 * KIB));
    let bd = p.enable_mpx().unwrap();
    assert_eq!(p.vmas(), vec![(bd, bd + 4 * MIB, false)]);
    assert!(bd + 4 * MIB <= 1 << 32);

    let a = p.mmap_fixed(0x4000_0000, 4 * PAGE).unwrap();
    for page in 0..4 {
        let slot = a + page * PAGE + 4 * page;
        p.bndstx(slot, slot, slot, slot + 99).unwrap();
    }
    // One table per 4 KiB page.
    assert_live(&p, 4);
    for (s, e) in table_vmas(&p) {
        assert_eq!(e - s, 16 * KIB);
        assert!(e <= 1 << 32);
    }
    // 4-byte entries, each naming its table.
    for page in 0..4 {
        let slot = a + page * PAGE;
        let entry = p.directory_entry(slot).unwrap();
        assert_eq!(entry & 1, 1);
        assert!(entry <= u32::MAX as u64);
        assert_eq!(entry_address(&p, bd, slot) - bd, (slot >> 12) * 4);
        assert!(table_vmas(&p).contains(&(entry & !3, (entry & !3) + 16 * KIB)));
    }
    // Bounds read back in 32 bits; the pointer must match in 32 bits.
    let slot = a + 2 * PAGE + 8;
    assert_eq!(p.bndldx(slot, slot).unwrap(), (slot, slot + 99));
    assert_eq!(p.bndldx(slot, slot + 4).unwrap(), (0, u64::MAX));
    p.bndstx(slot, slot, 0x10, u64::MAX).unwrap();
    assert_eq!(p.bndldx(slot, slot).unwrap(), (0x10, 0xffff_ffff));

    // Unmapping one page frees its span's table; the rest stay.
    p.munmap(a + PAGE, PAGE).unwrap();
    assert_live(&p, 3);
    assert_eq!(p.directory_entry(a + PAGE), Some(0));
    assert_eq!(p.bndldx(a, a).unwrap(), (a, a + 99));
    // The user unmaps a table.
    let t = p.directory_entry(a).unwrap() & !3;
    p.munmap(t, 16 * KIB).unwrap();
    assert_live(&p, 2);
    assert_eq!(p.directory_entry(a), Some(0));
    p.munmap(a, 4 * PAGE).unwrap();
    assert_live(&p, 0);
    assert_eq!(p.stats().tables_freed, 4);
    // Ranges above 4 GiB do not exist for it.
    assert_eq!(p.munmap(1 << 32, PAGE), Err(SimError::Invalid));
    assert_eq!(
        p.mmap_fixed((1 << 32) - PAGE, 2 * PAGE),
        Err(SimError::Invalid)
    );
    assert_no_deadlock(&p);
}

#[test]
fn scenario_compat32_last_directory_entry_is_a_4_byte_access() {
    // The span at the top of a 32-bit address space: its entry is the last
    // 4 bytes of the directory page, so an 8-byte access would cross into
    // the next page and fail.
    let p = SimProcess::with_mode(Mode::Compat32);
    let bd = p.enable_mpx().unwrap();
    let top = (1u64 << 32) - PAGE;
    assert_eq!(entry_address(&p, bd, top), bd + 4 * MIB - 4);
    p.mmap_fixed(top, PAGE).unwrap();
    p.bndstx(top + PAGE - 4, 7, 1, 2).unwrap();
    assert_eq!(p.bndldx(top + PAGE - 4, 7).unwrap(), (1, 2));
    assert_live(&p, 1);
    let entry = p.directory_entry(top).unwrap();
    assert_eq!(entry & 1, 1);
    // The 4 bytes before it (the previous span's entry) are untouched.
    assert_eq!(p.peek_u64(bd + 4 * MIB - 8), entry << 32);
    p.munmap(top, PAGE).unwrap();
    assert_live(&p, 0);
    assert_eq!(p.directory_entry(top), Some(0));
    assert_no_deadlock(&p);
}

#[test]
fn scenario_mmap_fixed_over_a_span_runs_the_unmap_hook() {
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, 2 * MIB).unwrap();
    store_self(&p, a);
    store_self(&p, a + MIB + MIB / 2);
    p.write_u64(a + 64, 7).unwrap();
    assert_live(&p, 2);

    // Replace all of span 0: its table is freed, the new mapping is fresh.
    assert_eq!(p.mmap_fixed(a, MIB), Ok(a));
    assert_eq!(p.directory_entry(a), Some(0));
    assert_live(&p, 1);
    assert_eq!(p.stats().tables_freed, 1);
    assert_eq!(p.read_u64(a + 64).unwrap(), 0);
    assert!(p.vmas().contains(&(a, a + MIB, false)));

    // Replace the upper half of span 1: the table stays, its pages for the
    // replaced half are released.
    let before = p.resident_table_bytes();
    assert_eq!(
        p.mmap_fixed(a + MIB + MIB / 2, MIB / 2),
        Ok(a + MIB + MIB / 2)
    );
    assert_live(&p, 1);
    assert_eq!(p.resident_table_bytes(), before - PAGE);
    assert_eq!(p.stats().bytes_released, PAGE);
    assert_eq!(
        p.bndldx(a + MIB + MIB / 2, a + MIB + MIB / 2).unwrap(),
        INIT
    );
}

#[test]
fn scenario_mmap_fixed_over_a_table_invalidates_its_entry() {
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, a);
    let t = table_of(&p, a);
    assert_eq!(p.mmap_fixed(t, PAGE), Ok(t));
    assert_live(&p, 0);
    assert_eq!(p.directory_entry(a), Some(0));
    assert!(p.vmas().contains(&(t, t + PAGE, false)));
    // The next store gets a table elsewhere, not the data page.
    store_self(&p, a);
    assert_ne!(table_of(&p, a), t);
    assert_self_bounds(&p, a);
}
