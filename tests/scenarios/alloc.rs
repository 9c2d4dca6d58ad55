//! Allocation on the first store, and the CPU's behaviour with MPX off.

use super::*;

#[test]
fn scenario_first_store_allocates_one_table_second_does_not() {
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    p.write_u64(a, 0x1122_3344_5566_7788).unwrap();
    assert_eq!(p.directory_entry(a), Some(0));
    assert_live(&p, 0);

    store_self(&p, a);
    assert_live(&p, 1);
    let tables = table_vmas(&p);
    let (table, table_end) = tables[0];
    assert_eq!(table_end - table, TABLE_64);
    assert_eq!(p.directory_entry(a), Some(table | 1));
    assert_eq!(p.read_u64(entry_address(&p, bd, a)).unwrap(), table | 1);
    let s = p.stats();
    assert_eq!(s.tables_allocated, 1);
    assert_eq!(s.table_bytes_mapped, TABLE_64);
    assert_eq!(s.races_lost, 0);
    assert_eq!(p.resident_table_bytes(), PAGE);

    // More stores in the same span, including its last slot: no new table.
    p.bndstx(a + 8, a + 0x40, a, a + 0xfff).unwrap();
    p.bndstx(a + MIB - 8, a + MIB - 8, a + MIB - 64, a + MIB - 1)
        .unwrap();
    assert_live(&p, 1);
    assert_eq!(p.stats().tables_allocated, 1);
    assert_eq!(p.directory_entry(a), Some(table | 1));
    // The first and the last table page are resident.
    assert_eq!(p.resident_table_bytes(), 2 * PAGE);

    // Loads read the bounds back, for the stored pointer only.
    assert_self_bounds(&p, a);
    assert_eq!(p.bndldx(a + 8, a + 0x40).unwrap(), (a, a + 0xfff));
    assert_eq!(
        p.bndldx(a + MIB - 8, a + MIB - 8).unwrap(),
        (a + MIB - 64, a + MIB - 1)
    );
    assert_eq!(p.bndldx(a, a + 1).unwrap(), INIT);
    assert_eq!(p.bndldx(a + 8, a).unwrap(), INIT);
    // A slot never stored to (same table, zero entry): INIT, and no table.
    assert_eq!(p.bndldx(a + 16, a + 16).unwrap(), INIT);
    assert_live(&p, 1);
    // BNDSTX writes the table, never the slot itself.
    assert_eq!(p.read_u64(a).unwrap(), 0x1122_3344_5566_7788);
    assert_no_deadlock(&p);
}

#[test]
fn scenario_first_load_in_a_fresh_span_also_allocates() {
    // BNDLDX walks the directory like BNDSTX: an invalid entry raises #BR
    // and gets a table, and the empty table gives INIT bounds.
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    assert_eq!(p.bndldx(a, a).unwrap(), INIT);
    assert_live(&p, 1);
    assert_eq!(p.resident_table_bytes(), PAGE);
}

#[test]
fn scenario_mpx_off_bndstx_is_a_noop_and_bndldx_gives_init() {
    let p = SimProcess::new();
    let a = p.mmap(MIB).unwrap();
    p.write_u64(a, 42).unwrap();
    let vmas = p.vmas();
    let resident = p.resident_bytes();

    p.bndstx(a, a, a, a + 99).unwrap();
    assert_eq!(p.bndldx(a, a).unwrap(), INIT);
    assert_eq!(p.directory_entry(a), None);
    assert_live(&p, 0);
    assert_eq!(p.vmas(), vmas);
    assert_eq!(p.resident_bytes(), resident);
    assert_eq!(p.read_u64(a).unwrap(), 42);
    assert_eq!(p.stats(), Statistics::default());
    p.munmap(a, MIB).unwrap();
    assert!(p.vmas().is_empty());
}

#[test]
fn scenario_no_address_space_for_a_table_is_a_clean_error() {
    // Everything above the directory is mapped: no room for a 4 MiB table.
    let (p, bd) = managed();
    let above = bd + (2 << 30);
    let top = 1 << 47;
    p.mmap_fixed(above, top - above).unwrap();
    let a = AREA;
    assert_eq!(
        p.bndstx(a, a, a, a + 99),
        Err(SimError::BoundsFault(AllocError::NoTableMemory(
            mpx::mm::MmError::NoAddressSpace
        )))
    );
    assert_live(&p, 0);
    assert_eq!(p.directory_entry(a), Some(0));
    assert_eq!(p.stats().tables_allocated, 0);
    // Room again: the store succeeds.
    p.munmap(top - 64 * MIB, 64 * MIB).unwrap();
    store_self(&p, a);
    assert_self_bounds(&p, a);
    let t = table_of(&p, a);
    assert!(t >= top - 64 * MIB);
    assert_live(&p, 1);
}
