//! Cost of a huge sparse unmap.

use super::*;

#[test]
fn scenario_huge_sparse_unmap_reads_few_entries() {
    let (p, _bd) = managed();
    let start = TIB;
    let len = 64 * TIB;
    assert!(start + len < 1 << 47);
    let spots = [start, start + 21 * TIB + 7 * MIB, start + len - MIB];
    for &spot in &spots {
        p.mmap_fixed(spot, MIB).unwrap();
        store_self(&p, spot);
    }
    assert_live(&p, 3);

    let before = p.stats().directory_entries_read;
    let summary = p.munmap_summary(start, len).unwrap();
    let sparse = p.stats().directory_entries_read - before;
    assert_eq!(summary.entries_read, sparse);
    assert_eq!(summary.tables_freed, 3);
    // The three directory pages held nothing else: given back.
    assert_eq!(summary.directory_bytes_released, 3 * PAGE);
    assert_live(&p, 0);
    assert_eq!(p.stats().tables_freed, 3);
    for &spot in &spots {
        assert_eq!(p.directory_entry(spot), Some(0));
    }

    let a = p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, a);
    let before = p.stats().directory_entries_read;
    p.munmap(a, MIB).unwrap();
    let small = p.stats().directory_entries_read - before;
    assert_live(&p, 0);

    // The same 64 TiB unmap again, now with no table at all.
    let before = p.stats().directory_entries_read;
    p.munmap(start, len).unwrap();
    let empty = p.stats().directory_entries_read - before;

    assert_eq!(empty, 0, "the emptied directory pages were released");
    println!(
        "entries read: 64 TiB sparse = {sparse}, 1 MiB = {small}, 64 TiB empty = {empty} \
         (the range spans {} entries)",
        len / MIB
    );
    assert!(sparse < 5000, "64 TiB sparse unmap read {sparse} entries");
    assert!(small <= 2, "1 MiB unmap read {small} entries");
    assert!(empty < 5000, "64 TiB empty unmap read {empty} entries");
}

#[test]
fn scenario_directory_page_is_released_only_when_all_its_entries_are_zero() {
    // One directory page holds the entries of 512 spans (512 MiB).
    let (p, bd) = managed();
    let region = 512 * MIB;
    let base = AREA;
    let bd_page = entry_address(&p, bd, base);
    assert_eq!(bd_page % PAGE, 0);
    p.mmap_fixed(base, region).unwrap();
    for span in [0, 100, 511] {
        store_self(&p, base + span * MIB);
    }
    // A mapping left in span 100: its table stays, so the page stays.
    p.munmap(base, 100 * MIB + MIB / 2).unwrap();
    p.munmap(base + 101 * MIB, region - 101 * MIB).unwrap();
    assert_live(&p, 1);
    assert_eq!(p.stats().directory_bytes_released, 0);
    // A range that covers only part of the page keeps it too, even with
    // every entry zero.
    p.munmap(base + 100 * MIB, MIB).unwrap();
    assert_live(&p, 0);
    assert_eq!(p.stats().directory_bytes_released, 0);
    // The whole page's spans, all empty: the page goes, and reads as zeros.
    p.munmap(base, region).unwrap();
    assert_eq!(p.stats().directory_bytes_released, PAGE);
    assert_eq!(p.directory_entry(base), Some(0));
    // The next store there faults the page back in and gets a table.
    let a = p.mmap_fixed(base + 7 * MIB, MIB).unwrap();
    store_self(&p, a);
    assert_live(&p, 1);
    assert_self_bounds(&p, a);
    assert_eq!(p.read_u64(bd_page).unwrap(), 0);
}
