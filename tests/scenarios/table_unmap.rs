//! The user unmaps a table mapping itself.

use super::*;

#[test]
fn scenario_user_munmap_of_a_table_invalidates_its_entry_only() {
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    let b = p.mmap_fixed(AREA + 8 * MIB, MIB).unwrap();
    store_self(&p, a);
    store_self(&p, b);
    assert_live(&p, 2);
    let ta = table_of(&p, a);
    let tb = table_of(&p, b);
    assert!(table_vmas(&p).contains(&(ta, ta + TABLE_64)));

    p.munmap(ta, TABLE_64).unwrap();
    // Only that table went; no table was looked for on behalf of the table.
    assert_live(&p, 1);
    assert_eq!(table_vmas(&p), vec![(tb, tb + TABLE_64)]);
    assert_eq!(p.directory_entry(a), Some(0));
    assert_eq!(p.directory_entry(b), Some(tb | 1));
    assert_self_bounds(&p, b);
    let s = p.stats();
    assert_eq!((s.tables_allocated, s.tables_freed), (2, 1));
    // The data mappings are untouched.
    assert!(p.vmas().contains(&(a, a + MIB, false)));

    // The next access to span a gets a fresh, empty table.
    assert_eq!(p.bndldx(a, a).unwrap(), INIT);
    assert_live(&p, 2);
    assert_ne!(p.directory_entry(a), Some(0));
    store_self(&p, a);
    assert_self_bounds(&p, a);
    assert_eq!(p.stats().tables_allocated, 3);
    assert_no_deadlock(&p);
}

#[test]
fn scenario_user_munmap_of_one_table_page_frees_the_whole_table() {
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, a);
    let table = table_of(&p, a);
    // Unmap one page in the middle of the table: no table pieces survive.
    p.munmap(table + 64 * PAGE, PAGE).unwrap();
    assert_live(&p, 0);
    assert_eq!(p.directory_entry(a), Some(0));
    assert_eq!(p.stats().tables_freed, 1);
    store_self(&p, a);
    assert_live(&p, 1);
    assert_self_bounds(&p, a);
}

#[test]
fn scenario_user_munmap_over_all_tables_frees_each_once() {
    // One munmap covering every table mapping (and nothing else).
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, 4 * MIB).unwrap();
    for span in 0..4 {
        store_self(&p, a + span * MIB);
    }
    let tables = table_vmas(&p);
    assert_eq!(tables.len(), 4);
    let (lo, hi) = (tables[0].0, tables[3].1);
    assert_eq!(
        hi - lo,
        4 * TABLE_64,
        "tables are placed next to each other"
    );
    p.munmap(lo, hi - lo).unwrap();
    assert_live(&p, 0);
    assert_eq!(p.stats().tables_freed, 4);
    for span in 0..4 {
        assert_eq!(p.directory_entry(a + span * MIB), Some(0));
    }
    // The data is still mapped; its spans now have no tables to free.
    p.munmap(a, 4 * MIB).unwrap();
    assert_eq!(p.stats().tables_freed, 4);
}

#[test]
fn scenario_no_tables_for_tables_recursion_depth_one() {
    // A pointer kept inside a table's memory gets a table of its own (the
    // CPU allows it). Unmapping the first table frees it alone: the hook
    // does not go looking for tables that describe table memory.
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, a);
    let ta = table_of(&p, a);
    store_self(&p, ta + 64);
    assert_live(&p, 2);
    let tt = table_of(&p, ta + 64);
    assert_ne!(tt, ta);

    p.munmap(ta, TABLE_64).unwrap();
    assert_eq!(table_vmas(&p), vec![(tt, tt + TABLE_64)]);
    assert_eq!(p.directory_entry(a), Some(0));
    assert_eq!(p.directory_entry(ta), Some(tt | 1));
    assert_eq!(p.stats().tables_freed, 1);
    // The table of the table is an ordinary table to unmap.
    p.munmap(tt, TABLE_64).unwrap();
    assert_live(&p, 0);
    assert_eq!(p.directory_entry(ta), Some(0));
}

#[test]
fn scenario_munmap_of_tables_and_data_together_frees_both() {
    // A range holding both bounds tables and data frees the tables in it and
    // the tables of the data's spans left without data (no table outlives both
    // its entry and its data; Linux 4.x freed only the tables, and the data's
    // table lived on until a later unmap of its span, or forever).
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, a);
    let ta = table_of(&p, a);
    // The simulator places the next mapping right after the table, and its
    // table after that.
    let d = p.mmap(MIB).unwrap();
    assert_eq!(d, ta + TABLE_64);
    store_self(&p, d);
    let td = table_of(&p, d);
    assert!(td >= d + MIB);

    let summary = p.munmap_summary(ta, d + MIB - ta).unwrap();
    assert_eq!(summary.tables_freed, 2);
    assert_eq!(p.directory_entry(a), Some(0));
    assert_eq!(p.directory_entry(d), Some(0));
    assert_live(&p, 0);
}
