//! munmap of a span's only mapping.

use super::*;

#[test]
fn scenario_munmap_of_only_mapping_frees_table_and_zeroes_entry() {
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, a);
    store_self(&p, a + MIB / 2);
    assert_live(&p, 1);

    p.munmap(a, MIB).unwrap();
    assert_live(&p, 0);
    assert_eq!(p.directory_entry(a), Some(0));
    assert_eq!(p.resident_table_bytes(), 0);
    let s = p.stats();
    assert_eq!((s.tables_allocated, s.tables_freed), (1, 1));
    assert_eq!(s.table_bytes_mapped, 0);
    assert_eq!(s.bytes_released, 0);
    // Only the directory is left.
    assert_eq!(p.vmas(), vec![(bd, bd + (2 << 30), false)]);
    assert_no_deadlock(&p);
}

#[test]
fn scenario_small_mapping_alone_in_its_span_frees_the_table() {
    // A 64 KiB mapping in the middle of a span; nothing else in the span.
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA + 3 * MIB + 256 * KIB, 64 * KIB).unwrap();
    store_self(&p, a);
    store_self(&p, a + 60 * KIB);
    assert_live(&p, 1);
    p.munmap(a, 64 * KIB).unwrap();
    assert_live(&p, 0);
    assert_eq!(p.directory_entry(a), Some(0));

    // The span is usable again: a new store gets a new table.
    let b = p.mmap_fixed(AREA + 3 * MIB, 4 * KIB).unwrap();
    assert_eq!(p.bndldx(b, b).unwrap(), INIT);
    store_self(&p, b);
    assert_live(&p, 1);
    assert_self_bounds(&p, b);
    assert_eq!(p.stats().tables_allocated, 2);
}

#[test]
fn scenario_mapping_spread_over_two_spans_frees_both_only_when_gone() {
    // One mapping straddling a span boundary, unmapped in two steps.
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA + MIB / 2, MIB).unwrap();
    store_self(&p, a);
    store_self(&p, a + MIB / 2);
    assert_live(&p, 2);
    // The first half empties span 0 entirely; span 1 keeps its half.
    p.munmap(a, MIB / 2).unwrap();
    assert_live(&p, 1);
    assert_eq!(p.directory_entry(AREA), Some(0));
    assert_self_bounds(&p, a + MIB / 2);
    p.munmap(a + MIB / 2, MIB / 2).unwrap();
    assert_live(&p, 0);
    assert_eq!(p.directory_entry(AREA + MIB), Some(0));
    assert_eq!(p.stats().tables_freed, 2);
}
