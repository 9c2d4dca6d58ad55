//! A neighbour keeps the table; the pages for the unmapped part go.

use super::*;

#[test]
fn scenario_neighbour_keeps_table_and_unmapped_part_is_released() {
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, a);
    // One store per 4 KiB page of the upper half: 4 KiB of data is described
    // by 16 KiB of table, so each store makes its own table page resident.
    for page in 0..128 {
        store_self(&p, a + MIB / 2 + page * PAGE);
    }
    let table = table_of(&p, a);
    assert_eq!(p.resident_table_bytes(), 129 * PAGE);
    p.write_u64(a + 8, 0xfeed).unwrap();

    p.munmap(a + MIB / 2, MIB / 2).unwrap();
    assert_live(&p, 1);
    assert_eq!(p.directory_entry(a), Some(table | 1));
    assert_eq!(p.resident_table_bytes(), PAGE);
    let s = p.stats();
    assert_eq!(s.bytes_released, 128 * PAGE);
    assert_eq!((s.tables_allocated, s.tables_freed), (1, 0));
    // The neighbour's bounds and data are intact.
    assert_self_bounds(&p, a);
    assert_eq!(p.read_u64(a + 8).unwrap(), 0xfeed);
    // The kept table still works for the whole span.
    let b = p.mmap_fixed(a + MIB / 2, PAGE).unwrap();
    assert_eq!(
        p.bndldx(b, b).unwrap(),
        INIT,
        "released entries read as zero"
    );
    store_self(&p, b);
    assert_self_bounds(&p, b);
    assert_live(&p, 1);
}

#[test]
fn scenario_hole_in_the_middle_releases_exactly_its_table_pages() {
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    // Stores at the start of three adjacent data pages: the middle one is
    // unmapped. Its table pages ([16 KiB * 100, 16 KiB * 101)) hold one
    // resident page; the neighbours' table pages must stay.
    for page in [99, 100, 101] {
        store_self(&p, a + page * PAGE);
        store_self(&p, a + page * PAGE + PAGE - 8);
    }
    // Each data page is described by 4 table pages; first and last touched.
    assert_eq!(p.resident_table_bytes(), 6 * PAGE);
    p.munmap(a + 100 * PAGE, PAGE).unwrap();
    assert_eq!(p.resident_table_bytes(), 4 * PAGE);
    assert_eq!(p.stats().bytes_released, 2 * PAGE);
    assert_self_bounds(&p, a + 99 * PAGE + PAGE - 8);
    assert_self_bounds(&p, a + 101 * PAGE);
    assert_live(&p, 1);
}

#[test]
fn scenario_hole_widens_to_the_gap_left_between_neighbours() {
    // Mappings [0, 64K) and [512K, 576K) of a span; unmapping the second
    // leaves no mapping above 64K, so every table page from 64K up goes,
    // including those describing addresses that were never mapped.
    let (p, _bd) = managed();
    let low = p.mmap_fixed(AREA, 64 * KIB).unwrap();
    let high = p.mmap_fixed(AREA + 512 * KIB, 64 * KIB).unwrap();
    store_self(&p, low);
    store_self(&p, high);
    // A slot in the unmapped gap: BNDSTX needs no mapping at the slot.
    store_self(&p, AREA + 256 * KIB);
    store_self(&p, AREA + MIB - 8);
    assert_eq!(p.resident_table_bytes(), 4 * PAGE);
    p.munmap(high, 64 * KIB).unwrap();
    assert_live(&p, 1);
    assert_eq!(p.resident_table_bytes(), PAGE);
    assert_eq!(p.stats().bytes_released, 3 * PAGE);
    assert_self_bounds(&p, low);
}
