//! Regressions for the defects an adversarial review found (issue 10): no
//! valid entry ever names a removed table, and no table outlives both its
//! entry and its data.

use super::*;
use mpx::sim::{FailWhen, FaultPlan};

/// Every access the manager makes from now on fails, and so does the
/// `fault_in` after each: the directory page cannot be made present.
fn directory_unreachable(p: &SimProcess) {
    p.inject(Some(FaultPlan {
        fail: FailWhen::FromOn(p.manager_accesses()),
        fault_in_fails: true,
    }));
}

#[track_caller]
fn assert_invariant(p: &SimProcess) {
    if let Err(e) = p.check_invariant() {
        panic!("invariant broken: {e}; VMAs {:#x?}", p.vmas());
    }
}

#[test]
fn scenario_unmapping_a_table_whose_entry_is_unreachable_keeps_the_table() {
    // Defect 1, made deterministic: the review's repro had one thread
    // evicting the directory page while another unmapped a table; here the
    // injection makes the entry unreachable at exactly that moment.
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    let b = p.mmap_fixed(AREA + 8 * MIB, MIB).unwrap();
    store_self(&p, a);
    let ta = table_of(&p, a);

    directory_unreachable(&p);
    let e = p.munmap(ta, TABLE_64).unwrap_err();
    assert_eq!(
        e,
        SimError::Unmap(UnmapError::DirectoryUnreachable {
            entry: entry_address(&p, bd, a)
        })
    );
    p.inject(None);
    // The table stays mapped whole, and its entry still names it.
    assert_eq!(table_vmas(&p), vec![(ta, ta + TABLE_64)]);
    assert_eq!(p.directory_entry(a), Some(ta | 1));
    assert_invariant(&p);

    // Span b's table cannot land on a's: span a's bounds are a's alone.
    store_self(&p, b);
    assert_ne!(table_of(&p, b), ta);
    assert_self_bounds(&p, a);
    assert_self_bounds(&p, b);

    // Once the directory is reachable, the same munmap frees the table.
    let summary = p.munmap_summary(ta, TABLE_64).unwrap();
    assert_eq!((summary.tables_freed, summary.tables_kept), (1, 0));
    assert_eq!(p.directory_entry(a), Some(0));
    assert_live(&p, 1);
    assert_invariant(&p);
}

#[test]
fn scenario_a_kept_table_is_counted_and_the_rest_of_the_range_goes() {
    // One munmap over a table and the data mapped right after it: the table
    // is kept (entry unreachable), the data goes.
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, a);
    let ta = table_of(&p, a);
    let d = p.mmap(MIB).unwrap();
    assert_eq!(d, ta + TABLE_64);
    directory_unreachable(&p);
    assert!(matches!(
        p.munmap(ta, d + MIB - ta),
        Err(SimError::Unmap(UnmapError::DirectoryUnreachable { .. }))
    ));
    p.inject(None);
    assert!(!p.vmas().iter().any(|v| v.0 == d), "{:#x?}", p.vmas());
    assert_eq!(table_vmas(&p), vec![(ta, ta + TABLE_64)]);
    assert_invariant(&p);

    // MAP_FIXED over a kept table maps nothing: the range is not free.
    directory_unreachable(&p);
    assert!(p.mmap_fixed(ta, MIB).is_err());
    p.inject(None);
    assert_eq!(table_vmas(&p), vec![(ta, ta + TABLE_64)]);
    assert_invariant(&p);
}

#[test]
fn scenario_an_entry_changing_while_still_naming_the_table_is_cleared() {
    // Defect 2: between the hook's read and its compare-exchange, the user
    // sets a bit that does not change the table the entry names.
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, a);
    let ta = table_of(&p, a);
    p.race_next_exchange(a, ta | 5);
    let summary = p.munmap_summary(ta, TABLE_64).unwrap();
    assert_eq!((summary.tables_freed, summary.tables_kept), (1, 0));
    assert_eq!(p.directory_entry(a), Some(0));
    assert_live(&p, 0);
    assert_invariant(&p);

    // The same on the data path (the span's last mapping goes).
    store_self(&p, a);
    let ta = table_of(&p, a);
    p.race_next_exchange(a, ta | 3);
    let summary = p.munmap_summary(a, MIB).unwrap();
    assert_eq!(summary.tables_freed, 1);
    assert_eq!(p.directory_entry(a), Some(0));
    assert_live(&p, 0);
    assert_invariant(&p);
}

#[test]
fn scenario_an_entry_changed_to_another_value_is_left_alone() {
    // The user rewrites the entry with something else entirely: the table,
    // which nothing names any more, is freed; what the user wrote stays, and
    // the hook reports it.
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, a);
    let ta = table_of(&p, a);
    p.race_next_exchange(a, 0x1234_5000);
    assert_eq!(
        p.munmap(ta, TABLE_64),
        Err(SimError::Unmap(UnmapError::EntryChanged {
            entry: entry_address(&p, bd, a),
            value: 0x1234_5000
        }))
    );
    assert_live(&p, 0);
    assert_eq!(p.directory_entry(a), Some(0x1234_5000));
    assert_eq!(p.stats().tables_freed, 1);
}

#[test]
fn scenario_live_tables_counts_an_orphaned_piece_and_a_new_table() {
    // Defect 3 through the simulator: with management off, the user unmaps
    // all but the first page of a table; back on, the user clears the entry
    // and the next store gets a new table right after the orphaned piece.
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, a);
    let ta = table_of(&p, a);
    p.disable_mpx_management().unwrap();
    p.munmap(ta + PAGE, TABLE_64 - PAGE).unwrap();
    p.enable_management().unwrap();
    p.write_u64(entry_address(&p, bd, a), 0).unwrap();
    store_self(&p, a);
    let tnew = table_of(&p, a);
    assert_eq!(tnew, ta + PAGE, "placed right after the piece");
    assert_eq!(
        table_vmas(&p),
        vec![(ta, ta + PAGE), (tnew, tnew + TABLE_64)]
    );
    assert_eq!(p.stats().live_tables, 2);
}

#[test]
fn scenario_unmapping_the_directory_frees_the_tables_it_named() {
    // Decision 5: Linux left these tables mapped for the life of the process,
    // named by nothing. Here they go with the directory page naming them.
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, 2 * MIB).unwrap();
    store_self(&p, a);
    store_self(&p, a + MIB);
    // A table far away, in another directory page.
    let far = p.mmap_fixed(AREA + TIB, MIB).unwrap();
    store_self(&p, far);
    assert_live(&p, 3);
    let entry = entry_address(&p, bd, a);
    let page = entry & !(PAGE - 1);
    assert_ne!(page, entry_address(&p, bd, far) & !(PAGE - 1));

    let summary = p.munmap_summary(page, PAGE).unwrap();
    assert_eq!(summary.tables_freed, 2);
    assert_live(&p, 1);
    // Management goes on for the rest of the directory.
    assert_self_bounds(&p, far);
    store_self(&p, far + 8);
    assert_self_bounds(&p, far + 8);
    // A store whose entry is in the unmapped page faults (SIGSEGV).
    assert!(matches!(
        p.bndstx(a, a, a, a + 99),
        Err(SimError::SegmentationFault { .. })
    ));

    // The whole directory: every table goes.
    let summary = p
        .munmap_summary(bd, p.geometry().directory_bytes())
        .unwrap();
    assert_eq!(summary.tables_freed, 1);
    assert_live(&p, 0);
    let s = p.stats();
    assert_eq!(s.tables_allocated, s.tables_freed);
}

#[test]
fn scenario_upper_half_slot_is_refused_and_allocates_nothing() {
    // Decision 6: a BNDSTX whose pointer slot is an upper-half address indexes
    // the upper half of the directory; no permitted munmap could ever free
    // a table for it, so none is made.
    let (p, bd) = managed();
    let slot = 0xffff_8000_0000_0000;
    let entry = entry_address(&p, bd, slot);
    assert_eq!(
        p.bndstx(slot, 1, 2, 3),
        Err(SimError::BoundsFault(AllocError::EntryAboveUserSpace {
            entry
        }))
    );
    assert_live(&p, 0);
    assert_eq!(p.stats().tables_allocated, 0);
    // The last span below 2^47 is still served.
    let top = (1u64 << 47) - MIB;
    p.mmap_fixed(top, MIB).unwrap();
    store_self(&p, top);
    assert_self_bounds(&p, top);
    p.munmap(top, MIB).unwrap();
    assert_live(&p, 0);
}

#[test]
fn scenario_process_teardown_frees_every_table() {
    // What exit does: unmap everything below the user limit in one go, tables
    // and data and directory together.
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, 4 * MIB).unwrap();
    for span in 0..4 {
        store_self(&p, a + span * MIB);
    }
    let ta = table_of(&p, a);
    store_self(&p, ta + 64); // a table for table memory
    p.disable_mpx_management().unwrap();
    p.enable_mpx().unwrap(); // a second directory; the first one's tables are unmanaged
    store_self(&p, a);
    assert_live(&p, 6);
    assert_invariant(&p);
    p.munmap(0, 1 << 47).unwrap();
    assert_live(&p, 0);
    assert!(p.vmas().is_empty());
}
