//! One munmap across many spans.

use super::*;

#[test]
fn scenario_one_munmap_across_64_spans_frees_all_tables() {
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, 64 * MIB).unwrap();
    for span in 0..64 {
        store_self(&p, a + span * MIB + span * 8);
    }
    assert_live(&p, 64);
    assert_eq!(p.stats().tables_allocated, 64);

    p.munmap(a, 64 * MIB).unwrap();
    assert_live(&p, 0);
    assert_eq!(p.resident_table_bytes(), 0);
    assert_eq!(p.stats().tables_freed, 64);
    for span in 0..64 {
        assert_eq!(p.directory_entry(a + span * MIB), Some(0));
    }
    assert_eq!(p.vmas(), vec![(bd, bd + (2 << 30), false)]);
}

#[test]
fn scenario_unaligned_munmap_across_spans_frees_inner_and_trims_edges() {
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, 16 * MIB).unwrap();
    for span in 0..16 {
        store_self(&p, a + span * MIB);
        store_self(&p, a + span * MIB + MIB - 8);
    }
    assert_live(&p, 16);
    let first = table_of(&p, a);
    let last = table_of(&p, a + 15 * MIB);

    // From the middle of span 0 to the middle of span 15.
    p.munmap(a + MIB / 2, 15 * MIB).unwrap();
    assert_live(&p, 2);
    assert_eq!(p.directory_entry(a), Some(first | 1));
    assert_eq!(p.directory_entry(a + 15 * MIB), Some(last | 1));
    for span in 1..15 {
        assert_eq!(p.directory_entry(a + span * MIB), Some(0));
    }
    let s = p.stats();
    assert_eq!(s.tables_freed, 14);
    // Span 0 lost its last table page, span 15 its first.
    assert_eq!(s.bytes_released, 2 * PAGE);
    assert_self_bounds(&p, a);
    assert_self_bounds(&p, a + 15 * MIB + MIB - 8);
    assert_eq!(p.resident_table_bytes(), 2 * PAGE);
}
