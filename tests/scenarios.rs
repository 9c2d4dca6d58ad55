//! Scenario tests of the bounds-table manager over the host simulator.
//!
//! Each test drives a [`SimProcess`] the way a user program and its MPX
//! runtime would (mmap, munmap, BNDSTX/BNDLDX, plain loads and stores, the
//! prctl) and asserts what the kernel side must have done: which bounds-table
//! mappings are alive ([`SimProcess::vmas`], [`SimProcess::live_tables`]),
//! what each directory entry holds ([`SimProcess::directory_entry`]), how much
//! table memory is resident, the manager's [`Statistics`], and that memory the
//! manager must not touch is as it was.
//!
//! The behaviours are those of issue 2, in numbered sections: (1) allocation
//! on the first store into a span, (2)–(4) freeing on munmap (whole tables,
//! partial releases, many spans), (5) user unmaps of tables, (6) corrupt
//! directory entries, (7) racing threads, including stores racing the munmap
//! of their own spans, (8) directory pages out of reach during the unmap
//! hook, (9) the cost of a huge sparse unmap, (10) management switched off,
//! bad ranges, 32-bit processes and `MAP_FIXED` replacement, and (11)
//! randomized operation sequences, in both process kinds, checking the
//! directory/table invariants after every step.
//!
//! `scenario_huge_sparse_unmap_reads_few_entries` prints the directory
//! entries read for a 64 TiB sparse unmap and for a 1 MiB unmap, and the
//! thread tests print how many races were lost; run
//! `cargo test --test scenarios -- --nocapture` to see them.

use mpx::arch::Mode;
use mpx::manager::{BoundsFaultError, EnableError, Statistics, UnmapError};
use mpx::sim::{SimError, SimProcess};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Barrier;

const PAGE: u64 = 4096;
const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const TIB: u64 = 1 << 40;
/// Bounds a BNDLDX gives for a pointer with no matching entry.
const INIT: (u64, u64) = (0, u64::MAX);
/// A 64-bit table: 4 MiB, describing one 1 MiB span.
const TABLE_64: u64 = 4 * MIB;

/// Addresses far from where the simulator places mappings on its own (the
/// directory and the tables start at 256 MiB), aligned to a span.
const AREA: u64 = 1 << 36;

/// A 64-bit process with management on; returns it and the directory base.
#[track_caller]
fn managed() -> (SimProcess, u64) {
    let p = SimProcess::new();
    let bd = p.enable_mpx().expect("enable MPX");
    (p, bd)
}

/// Address of the directory entry covering `addr`.
fn entry_address(p: &SimProcess, bd: u64, addr: u64) -> u64 {
    bd + p.geometry().directory_entry_offset(addr)
}

/// `(start, end)` of every bounds-table mapping, sorted.
fn table_vmas(p: &SimProcess) -> Vec<(u64, u64)> {
    p.vmas()
        .into_iter()
        .filter(|v| v.2)
        .map(|(s, e, _)| (s, e))
        .collect()
}

/// The table the directory entry for `addr` names (asserting it is valid).
#[track_caller]
fn table_of(p: &SimProcess, addr: u64) -> u64 {
    let entry = p.directory_entry(addr).expect("managed");
    assert_eq!(entry & 1, 1, "entry for {addr:#x} is not valid: {entry:#x}");
    entry & !7
}

/// The simulator's view and the manager's counters agree on live tables.
#[track_caller]
fn assert_live(p: &SimProcess, n: usize) {
    assert_eq!(p.live_tables(), n, "table mappings: {:#x?}", p.vmas());
    assert_eq!(p.stats().live_tables, n as u64, "{:?}", p.stats());
    assert_eq!(table_vmas(p).len(), n);
}

/// Stores bounds for a pointer kept at `slot` pointing at itself.
#[track_caller]
fn store_self(p: &SimProcess, slot: u64) {
    p.bndstx(slot, slot, slot, slot + 99).expect("bndstx");
}

#[track_caller]
fn assert_self_bounds(p: &SimProcess, slot: u64) {
    assert_eq!(p.bndldx(slot, slot).expect("bndldx"), (slot, slot + 99));
}

/// Sets the flag when dropped, also while unwinding from a failed
/// assertion, so that threads looping on it end and the test fails instead
/// of hanging.
struct StopOnDrop<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[track_caller]
fn assert_no_deadlock(p: &SimProcess) {
    assert_eq!(p.would_deadlock_events(), 0);
    assert_eq!(p.stats().would_deadlock, 0);
}

// 1. Allocation on the first store, and the CPU's behaviour with MPX off.

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
        Err(SimError::BoundsFault(BoundsFaultError::NoTableMemory(
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

// 2. munmap of a span's only mapping.

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

// 3. A neighbour keeps the table; the pages for the unmapped part go.

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

// 4. One munmap across many spans.

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

// 5. The user unmaps a table mapping itself.

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
fn scenario_munmap_of_tables_and_data_together_only_frees_the_tables() {
    // The rule: if a range holds bounds tables, the hook frees those
    // and nothing more. Data unmapped in the same call keeps its table until
    // a later unmap of its span.
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

    p.munmap(ta, d + MIB - ta).unwrap();
    assert_eq!(p.directory_entry(a), Some(0));
    assert_eq!(p.directory_entry(d), Some(td | 1));
    assert_eq!(table_vmas(&p), vec![(td, td + TABLE_64)]);
    // d's span has no mapping left: the next unmap touching it frees td.
    p.munmap(d, PAGE).unwrap();
    assert_live(&p, 0);
    assert_eq!(p.directory_entry(d), Some(0));
}

// 6. Corrupt directory entries: an error, and that memory untouched.

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
        Err(SimError::BoundsFault(BoundsFaultError::CorruptEntry {
            entry,
            value: corrupt
        }))
    );
    assert_eq!(
        p.bndldx(a, a),
        Err(SimError::BoundsFault(BoundsFaultError::CorruptEntry {
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
            Err(SimError::BoundsFault(BoundsFaultError::CorruptEntry {
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
                BoundsFaultError::EntryOutsideDirectory { .. }
            ))
        ),
        "{r:?}"
    );
    assert_live(&p, 0);
    assert_eq!(p.stats().tables_allocated, 0);
}

// 7. Racing threads.

#[test]
fn scenario_threads_racing_into_one_fresh_span_install_one_table() {
    const THREADS: u64 = 8;
    const ROUNDS: u64 = 32;
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, ROUNDS * MIB).unwrap();
    for round in 0..ROUNDS {
        let span = a + round * MIB;
        let barrier = Barrier::new(THREADS as usize);
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let (p, barrier) = (&p, &barrier);
                s.spawn(move || {
                    let slot = span + t * 4096 + 8 * t;
                    barrier.wait();
                    p.bndstx(slot, slot, slot - t, slot + t).unwrap();
                });
            }
        });
        assert_live(&p, round as usize + 1);
        for t in 0..THREADS {
            let slot = span + t * 4096 + 8 * t;
            assert_eq!(p.bndldx(slot, slot).unwrap(), (slot - t, slot + t));
        }
    }
    let s = p.stats();
    assert_eq!(s.tables_allocated, ROUNDS);
    assert_eq!(s.tables_freed, 0);
    // Every table mapped for a lost race was dropped again.
    assert_eq!(s.table_bytes_mapped, ROUNDS * TABLE_64);
    assert!(s.races_lost <= ROUNDS * (THREADS - 1), "{s:?}");
    println!(
        "races lost in {ROUNDS} rounds of {THREADS} threads: {}",
        s.races_lost
    );
    assert_no_deadlock(&p);
    p.munmap(a, ROUNDS * MIB).unwrap();
    assert_live(&p, 0);
}

#[test]
fn scenario_threads_storing_and_unmapping_concurrently_keep_invariants() {
    // Threads each own some spans: map, store, check, unmap, repeatedly,
    // while the others do the same (the write lock serializes the hooks).
    const THREADS: u64 = 4;
    let (p, _bd) = managed();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let p = &p;
            s.spawn(move || {
                let base = AREA + t * 16 * MIB;
                for i in 0..20 {
                    let a = p.mmap_fixed(base, 4 * MIB).unwrap();
                    for span in 0..4 {
                        let slot = a + span * MIB + i * 8;
                        store_self(p, slot);
                        assert_self_bounds(p, slot);
                    }
                    p.munmap(a, 4 * MIB).unwrap();
                }
            });
        }
    });
    assert_live(&p, 0);
    let s = p.stats();
    assert_eq!(s.tables_allocated, THREADS * 20 * 4);
    assert_eq!(s.tables_freed, s.tables_allocated);
    assert_no_deadlock(&p);
}

#[test]
fn scenario_stores_racing_munmap_of_the_same_spans() {
    // Stores race munmap and MAP_FIXED of the very spans they store into.
    // A store may lose to the munmap (the table it walked to is gone: a
    // segmentation fault, as on hardware); nothing else may fail, and once
    // everything is unmapped no table survives.
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
    const SPANS: u64 = 4;
    const STORERS: u64 = 3;
    /// Stores to wait for (the spin lock is unfair: without a target the
    /// unmapping thread may finish before the storers get going).
    const STORES: u64 = 3000;
    let (p, _bd) = managed();
    let stop = AtomicBool::new(false);
    let faults = AtomicU64::new(0);
    let stores = AtomicU64::new(0);
    let rounds = std::thread::scope(|s| {
        for t in 0..STORERS {
            let (p, stop, faults, stores) = (&p, &stop, &faults, &stores);
            s.spawn(move || {
                let mut i = 0u64;
                while !stop.load(Relaxed) {
                    let slot = AREA + (i % SPANS) * MIB + ((i * 7 + t) % 4096) * 8;
                    match p.bndstx(slot, slot, slot, slot + 1) {
                        Ok(()) => {}
                        Err(SimError::SegmentationFault { .. }) => {
                            faults.fetch_add(1, Relaxed);
                        }
                        Err(e) => panic!("bndstx: {e:?}"),
                    }
                    stores.fetch_add(1, Relaxed);
                    i += 1;
                }
            });
        }
        let (p, stop, stores) = (&p, &stop, &stores);
        s.spawn(move || {
            let _stop = StopOnDrop(stop);
            let mut round = 0u64;
            while round < 200 || (stores.load(Relaxed) < STORES && round < 1_000_000) {
                let span = AREA + (round % SPANS) * MIB;
                assert_eq!(p.mmap_fixed(span, MIB), Ok(span));
                assert_eq!(p.munmap(span + (round % 3) * PAGE, MIB / 2), Ok(()));
                assert_eq!(p.munmap(span, MIB), Ok(()));
                std::thread::yield_now();
                round += 1;
            }
            round
        })
        .join()
        .unwrap()
    });
    assert!(stores.load(Relaxed) >= STORES, "storers starved");
    // Stores into spans with no mapping may have left tables: the final
    // munmap of the whole area finds them.
    p.munmap(AREA, SPANS * MIB).unwrap();
    assert_live(&p, 0);
    for span in 0..SPANS {
        assert_eq!(p.directory_entry(AREA + span * MIB), Some(0));
    }
    let s = p.stats();
    assert_eq!(s.tables_allocated, s.tables_freed);
    assert!(s.tables_allocated > 0);
    assert_no_deadlock(&p);
    println!(
        "racing stores: {} stores, {} faulted, in {rounds} unmap rounds; {} tables, {} races lost",
        stores.into_inner(),
        faults.into_inner(),
        s.tables_allocated,
        s.races_lost,
    );
}

#[test]
fn scenario_store_racing_a_table_free_never_lands_in_the_next_table() {
    // Thread A keeps storing into span 0, which has no mapping, so each
    // munmap of span 0 frees the table A walks to. Thread B then gets a table
    // for another span, usually at the freed table's address, fills and
    // checks it. A store that walked to the old table must finish before the
    // table is freed (TLB shootdown) or restart its walk after a page fault;
    // it must never land in B's table. (Before the simulator modelled this,
    // this test saw a few dozen overwritten entries in 20,000 rounds.)
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
    const ROUNDS: u64 = 1500;
    const SLOTS: u64 = 64;
    let (p, _bd) = managed();
    let stop = AtomicBool::new(false);
    let overwritten = AtomicU64::new(0);
    std::thread::scope(|s| {
        let (p, stop) = (&p, &stop);
        s.spawn(move || {
            let mut i = 0;
            while !stop.load(Relaxed) {
                let slot = AREA + (i % SLOTS) * PAGE;
                match p.bndstx(slot, 0xaaaa, 1, 2) {
                    // A store losing to the munmap may fault, as on hardware.
                    Ok(()) | Err(SimError::SegmentationFault { .. }) => {}
                    Err(e) => panic!("bndstx: {e:?}"),
                }
                i += 1;
            }
        });
        let overwritten = &overwritten;
        s.spawn(move || {
            let _stop = StopOnDrop(stop);
            for round in 0..ROUNDS {
                p.munmap(AREA, MIB).unwrap();
                let b = AREA + (1 + round % 8) * MIB;
                p.mmap_fixed(b, MIB).unwrap();
                for k in 0..SLOTS {
                    p.bndstx(b + k * PAGE, 0xbbbb, 3, 4).unwrap();
                }
                for k in 0..SLOTS {
                    if p.bndldx(b + k * PAGE, 0xbbbb).unwrap() != (3, 4) {
                        overwritten.fetch_add(1, Relaxed);
                    }
                }
                p.munmap(b, MIB).unwrap();
            }
        });
    });
    assert_eq!(overwritten.into_inner(), 0);
    p.munmap(AREA, 16 * MIB).unwrap();
    assert_live(&p, 0);
    assert_no_deadlock(&p);
}

#[test]
fn scenario_install_never_names_a_table_a_munmap_just_removed() {
    // Thread B keeps unmapping the addresses where the simulator places
    // tables (a user unmapping tables, as it may); thread A stores into 64
    // spans, allocating tables all the time. A table B removes is either
    // not installed yet or has its entry invalidated: no valid entry may
    // ever name memory that is not a table.
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    let (p, bd) = managed();
    let tables_from = bd + (2 << 30);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let (p, stop) = (&p, &stop);
        s.spawn(move || {
            while !stop.load(Relaxed) {
                p.munmap(tables_from, 256 * MIB).unwrap();
                std::thread::yield_now();
            }
        });
        let _stop = StopOnDrop(stop);
        for i in 0..100_000u64 {
            let slot = AREA + (i % 64) * MIB;
            // A store may fault when B frees its table under it.
            let _ = p.bndstx(slot, slot, 1, 2);
            if i % 64 == 63 {
                let tables = table_vmas(p);
                for span in 0..64 {
                    let entry = p.directory_entry(AREA + span * MIB).unwrap();
                    let table = entry & !7;
                    assert!(
                        entry == 0 || tables.contains(&(table, table + TABLE_64)),
                        "after {i} stores: span {span}'s entry {entry:#x} names no table"
                    );
                }
            }
        }
    });
}

#[test]
fn scenario_injected_lost_race_uses_the_winners_table() {
    // Deterministic lost race: the winner's table is t1, installed between
    // our look at the entry (zero) and our compare-exchange.
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, a);
    let t1 = table_of(&p, a);
    // The entry is cleared (t1 stays mapped), then the "other thread"
    // installs t1 again while we allocate.
    p.write_u64(entry_address(&p, bd, a), 0).unwrap();
    p.race_next_table_install(t1 | 1);
    p.bndstx(a + 8, a + 8, 1, 2).unwrap();

    let s = p.stats();
    assert_eq!(s.races_lost, 1);
    assert_eq!(s.tables_allocated, 1, "the loser's table is not counted");
    assert_live(&p, 1);
    assert_eq!(table_vmas(&p), vec![(t1, t1 + TABLE_64)]);
    assert_eq!(p.directory_entry(a), Some(t1 | 1));
    // The retried store went into the winner's table.
    assert_eq!(p.bndldx(a + 8, a + 8).unwrap(), (1, 2));
    assert_self_bounds(&p, a);
    p.munmap(a, MIB).unwrap();
    assert_live(&p, 0);
}

// 8. A directory page out of reach during the unmap hook.

#[test]
fn scenario_swapped_out_directory_page_during_munmap_is_faulted_in() {
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, 4 * MIB).unwrap();
    for span in 0..4 {
        store_self(&p, a + span * MIB);
    }
    let entry = entry_address(&p, bd, a);
    assert!(p.swap_out(entry));
    assert_eq!(p.stats().faults_resolved, 0);

    p.munmap(a, 4 * MIB).unwrap();
    let s = p.stats();
    assert!(s.faults_resolved > 0, "{s:?}");
    assert_eq!(s.tables_freed, 4);
    assert_live(&p, 0);
    for span in 0..4 {
        assert_eq!(p.directory_entry(a + span * MIB), Some(0));
    }
    assert_no_deadlock(&p);
}

#[test]
fn scenario_swapped_out_directory_page_during_partial_and_table_unmaps() {
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, 2 * MIB).unwrap();
    store_self(&p, a);
    store_self(&p, a + MIB);
    let entry = entry_address(&p, bd, a);

    // Partial unmap (table kept) with the entry's page out.
    assert!(p.swap_out(entry));
    p.munmap(a + MIB / 2, PAGE).unwrap();
    assert!(p.stats().faults_resolved >= 1);
    assert_live(&p, 2);

    // The user unmaps a table with the entry's page out.
    let before = p.stats().faults_resolved;
    assert!(p.swap_out(entry));
    let t = table_of(&p, a + MIB);
    p.munmap(t, TABLE_64).unwrap();
    assert!(p.stats().faults_resolved > before);
    assert_eq!(p.directory_entry(a + MIB), Some(0));
    assert_live(&p, 1);

    // A store whose directory page is out: the CPU's walk faults it in.
    assert!(p.swap_out(entry));
    store_self(&p, a + MIB + 8);
    assert_self_bounds(&p, a + MIB + 8);
    assert_self_bounds(&p, a);
    assert_no_deadlock(&p);
}

#[test]
fn scenario_directory_page_swapped_out_while_threads_allocate() {
    // One thread keeps swapping the directory page out while others store
    // into fresh spans: the #BR path's read and compare-exchange of the
    // entry may fault, and must be resolved without the fault path ever
    // meeting its own write lock.
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    const THREADS: u64 = 3;
    const SPANS: u64 = 128; // Per thread; all entries on one directory page.
    let (p, bd) = managed();
    let a = p.mmap_fixed(AREA, THREADS * SPANS * MIB).unwrap();
    let page = entry_address(&p, bd, a);
    assert_eq!(
        entry_address(&p, bd, a + (THREADS * SPANS - 1) * MIB) & !(PAGE - 1),
        page
    );
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let (p, stop) = (&p, &stop);
        s.spawn(move || {
            while !stop.load(Relaxed) {
                p.swap_out(page);
                // Reclaim, not an adversary: an eviction right after every
                // fault-in (this thread woken by the faulting thread's
                // unlock and preempting it) could starve the faulting thread
                // for good, and the manager gives up after a few attempts.
                std::thread::sleep(std::time::Duration::from_micros(20));
            }
        });
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    for span in 0..SPANS {
                        let slot = a + (t * SPANS + span) * MIB + 8 * t;
                        store_self(p, slot);
                        assert_self_bounds(p, slot);
                    }
                })
            })
            .collect();
        let _stop = StopOnDrop(stop);
        for w in workers {
            w.join().unwrap();
        }
    });
    assert_live(&p, (THREADS * SPANS) as usize);
    for span in 0..THREADS * SPANS {
        assert_ne!(p.directory_entry(a + span * MIB), Some(0));
    }
    println!(
        "directory swapped out under allocating threads: {} faults resolved",
        p.stats().faults_resolved
    );
    assert_no_deadlock(&p);
    p.swap_out(page);
    p.munmap(a, THREADS * SPANS * MIB).unwrap();
    assert_live(&p, 0);
    assert!(p.stats().faults_resolved > 0);
    assert_no_deadlock(&p);
}

// 9. Cost of a huge sparse unmap.

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

// 10. Management off, bad ranges, 32-bit processes, MAP_FIXED.

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
        Err(SimError::BoundsFault(BoundsFaultError::NotManaged))
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
    // Tables can go without the manager freeing them: unmapped by the user
    // while management is off, or orphaned (entry cleared by the user) and
    // then unmapped. The statistics count what is mapped, not allocated
    // minus freed.
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
    assert_eq!((s.tables_allocated, s.tables_freed), (2, 0));

    // Management off, then the user unmaps the other table.
    p.disable_mpx_management().unwrap();
    p.munmap(t1, TABLE_64).unwrap();
    assert_eq!(p.live_tables(), 0);
    assert_eq!(p.stats().live_tables, 0);
    assert_eq!(p.stats().table_bytes_mapped, 0);

    // A table split in two by a user munmap of its middle page counts once.
    p.enable_management().unwrap();
    p.write_u64(entry_address(&p, bd, a + MIB), 0).unwrap();
    store_self(&p, a + MIB);
    let t2 = table_of(&p, a + MIB);
    p.disable_mpx_management().unwrap();
    p.munmap(t2 + MIB, PAGE).unwrap();
    assert_eq!(table_vmas(&p).len(), 2);
    assert_eq!(p.stats().live_tables, 1);
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

// 11. Random operation sequences against the invariants.

/// Where the randomized sequences run, per process kind.
#[derive(Clone, Copy, Debug)]
struct Region {
    mode: Mode,
    /// First address (span aligned).
    start: u64,
    /// Spans in the region.
    spans: u64,
}

impl Region {
    const LONG64: Region = Region {
        mode: Mode::Long64,
        start: AREA,
        spans: 16,
    };
    const COMPAT32: Region = Region {
        mode: Mode::Compat32,
        start: 0x4000_0000,
        spans: 64,
    };
    /// Two whole 32-bit directory pages (1024 entries of 4 KiB spans each),
    /// so that unmaps can leave a directory page empty and release it.
    const COMPAT32_DIRECTORY_PAGES: Region = Region {
        mode: Mode::Compat32,
        start: 0x4000_0000,
        spans: 2048,
    };

    fn geometry(&self) -> mpx::arch::Geometry {
        mpx::arch::Geometry::of(self.mode)
    }
    fn span(&self) -> u64 {
        self.geometry().span_bytes()
    }
    fn pages(&self) -> u64 {
        self.spans * self.span() / PAGE
    }
    fn end(&self) -> u64 {
        self.start + self.spans * self.span()
    }
    fn table_bytes(&self) -> u64 {
        self.geometry().table_bytes()
    }
    /// The table address bits of a directory entry.
    fn table_in(&self, entry: u64) -> u64 {
        entry & !(self.geometry().directory_entry_bytes() - 1)
    }
    /// What BNDLDX gives back for a value stored (32-bit processes keep 32 bits).
    fn truncate(&self, value: u64) -> u64 {
        match self.mode {
            Mode::Long64 => value,
            Mode::Compat32 => value & 0xffff_ffff,
        }
    }
    /// A page range `(first page, pages)` of the region from raw draws.
    fn pages_from(&self, page: u64, pages: u64) -> (u64, u64) {
        let page = page % self.pages();
        (page, 1 + (pages - 1) % (self.pages() - page))
    }
}

/// One step of a random sequence; numbers are reduced to the region.
#[derive(Clone, Debug)]
enum Op {
    /// `mmap_fixed` of `pages` pages at page `page` of the region.
    Map { page: u64, pages: u64 },
    /// `munmap` of `pages` pages at page `page`.
    Unmap { page: u64, pages: u64 },
    /// BNDSTX at 8-byte word `word` of page `page`, whether mapped or not.
    Store { page: u64, word: u64, bounds: u64 },
    /// The user unmaps the `index`-th table (modulo their number), whole or
    /// one page of it.
    UnmapTable { index: usize, whole: bool },
    /// The directory page holding the entry of page `page` is swapped out.
    SwapOutDirectory { page: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    let page = 0..4096u64;
    let pages = prop_oneof![1..8u64, 1..300u64, 1..4096u64];
    prop_oneof![
        3 => (page.clone(), pages.clone()).prop_map(|(page, pages)| Op::Map { page, pages }),
        2 => (page.clone(), pages).prop_map(|(page, pages)| Op::Unmap { page, pages }),
        5 => (page.clone(), 0..512u64, any::<u64>())
            .prop_map(|(page, word, bounds)| Op::Store { page, word, bounds }),
        1 => (any::<usize>(), any::<bool>())
            .prop_map(|(index, whole)| Op::UnmapTable { index, whole }),
        1 => page.prop_map(|page| Op::SwapOutDirectory { page }),
    ]
}

/// What the test knows the process holds.
#[derive(Default)]
struct Model {
    /// Mapped pages of the region, by index.
    mapped: BTreeSet<u64>,
    /// slot → (pointer, lower, upper) stored for slots in mapped pages.
    bounds: BTreeMap<u64, (u64, u64, u64)>,
    /// Slots whose bounds were stored while their page was mapped, and whose
    /// page has been unmapped (or replaced) since: their table entries must
    /// be zero (released or freed), as in the Linux selftest's "every
    /// non-zero table entry belongs to a live mapping".
    released: BTreeSet<u64>,
}

impl Model {
    /// Forgets addresses `[lo, hi)`: they were unmapped or replaced.
    fn forget(&mut self, region: &Region, lo: u64, hi: u64) {
        for page in (lo - region.start) / PAGE..(hi - region.start) / PAGE {
            self.mapped.remove(&page);
        }
        let gone: Vec<u64> = self.bounds.range(lo..hi).map(|(&slot, _)| slot).collect();
        for slot in gone {
            self.bounds.remove(&slot);
            self.released.insert(slot);
        }
    }
}

/// Checks every invariant; returns the table each region span's entry names,
/// by span start.
fn check_invariants(
    p: &SimProcess,
    region: &Region,
    model: &Model,
) -> Result<BTreeMap<u64, u64>, TestCaseError> {
    let size = region.table_bytes();
    let tables = table_vmas(p);
    let mut by_span = BTreeMap::new();
    for span in 0..region.spans {
        let addr = region.start + span * region.span();
        let entry = p.directory_entry(addr).unwrap();
        if entry == 0 {
            continue;
        }
        prop_assert_eq!(entry & 1, 1, "span {} entry {:#x} not valid", span, entry);
        let t = region.table_in(entry);
        prop_assert!(
            tables.contains(&(t, t + size)),
            "span {} entry {:#x} names no whole table: {:#x?}",
            span,
            entry,
            tables
        );
        by_span.insert(addr, t);
    }
    // Only the region's spans ever get tables; each table is named once.
    let named: BTreeSet<u64> = by_span.values().copied().collect();
    let mapped: BTreeSet<u64> = tables.iter().map(|t| t.0).collect();
    prop_assert_eq!(&named, &mapped, "tables named vs mapped");
    prop_assert_eq!(named.len(), by_span.len(), "a table named twice");
    let s = p.stats();
    prop_assert_eq!(s.live_tables, tables.len() as u64);
    prop_assert_eq!(s.table_bytes_mapped, size * tables.len() as u64);
    prop_assert_eq!(s.tables_allocated - s.tables_freed, s.live_tables);
    prop_assert_eq!(p.would_deadlock_events(), 0);
    // Bounds stored for slots that stayed mapped are intact.
    for (&slot, &(ptr, lower, upper)) in &model.bounds {
        prop_assert_eq!(
            p.bndldx(slot, ptr).unwrap(),
            (lower, upper),
            "slot {:#x}",
            slot
        );
    }
    prop_assert_eq!(p.live_tables(), tables.len(), "a load allocated a table");
    // Table entries for unmapped data are zero.
    let g = region.geometry();
    for &slot in &model.released {
        let span = slot & !(region.span() - 1);
        let Some(&table) = by_span.get(&span) else {
            continue; // The table itself was freed.
        };
        let at = table + g.table_entry_offset(slot);
        for word in 0..g.table_entry_bytes() / 8 {
            prop_assert_eq!(
                p.peek_u64(at + 8 * word),
                0,
                "table entry for unmapped slot {:#x} not released",
                slot
            );
        }
    }
    Ok(by_span)
}

/// Runs `ops` in a fresh managed process of the region's kind, checking the
/// invariants before every step, then unmaps the whole region.
fn run_sequence(region: Region, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let p = SimProcess::with_mode(region.mode);
    let bd = p.enable_mpx().unwrap();
    let directory = p.vmas();
    let mut model = Model::default();
    for op in ops {
        let by_span = check_invariants(&p, &region, &model)?;
        match op {
            Op::Map { page, pages } => {
                let (page, pages) = region.pages_from(page, pages);
                let at = region.start + page * PAGE;
                prop_assert_eq!(p.mmap_fixed(at, pages * PAGE), Ok(at));
                model.forget(&region, at, at + pages * PAGE);
                model.mapped.extend(page..page + pages);
            }
            Op::Unmap { page, pages } => {
                let (page, pages) = region.pages_from(page, pages);
                let at = region.start + page * PAGE;
                prop_assert_eq!(p.munmap(at, pages * PAGE), Ok(()));
                model.forget(&region, at, at + pages * PAGE);
            }
            Op::Store { page, word, bounds } => {
                let page = page % region.pages();
                let slot = region.start + page * PAGE + word * 8;
                let (ptr, lower, upper) = (bounds ^ slot, bounds >> 1, bounds | 1);
                prop_assert_eq!(p.bndstx(slot, ptr, lower, upper), Ok(()));
                let expected = (region.truncate(lower), region.truncate(upper));
                prop_assert_eq!(p.bndldx(slot, ptr), Ok(expected));
                model.released.remove(&slot);
                if model.mapped.contains(&page) {
                    model.bounds.insert(slot, (ptr, expected.0, expected.1));
                }
            }
            Op::UnmapTable { index, whole } => {
                let tables = table_vmas(&p);
                if tables.is_empty() {
                    continue;
                }
                let (t, _) = tables[index % tables.len()];
                let (at, len) = if whole {
                    (t, region.table_bytes())
                } else {
                    let pages = region.table_bytes() / PAGE;
                    (t + (index as u64 % pages) * PAGE, PAGE)
                };
                prop_assert_eq!(p.munmap(at, len), Ok(()));
                let span = by_span
                    .iter()
                    .find(|(_, &table)| table == t)
                    .map(|(&span, _)| span)
                    .unwrap();
                prop_assert_eq!(p.directory_entry(span), Some(0));
                prop_assert!(!table_vmas(&p).iter().any(|v| v.0 < t + len && t < v.1));
                // The span's pages stay mapped; the bounds kept for them are gone.
                let span_end = span + region.span();
                model
                    .bounds
                    .retain(|&slot, _| slot < span || slot >= span_end);
            }
            Op::SwapOutDirectory { page } => {
                let addr = region.start + (page % region.pages()) * PAGE;
                p.swap_out(entry_address(&p, bd, addr));
            }
        }
    }
    check_invariants(&p, &region, &model)?;

    // Unmap everything but the directory: no table may survive.
    prop_assert_eq!(p.munmap(region.start, region.end() - region.start), Ok(()));
    prop_assert_eq!(p.live_tables(), 0);
    prop_assert_eq!(p.stats().live_tables, 0);
    prop_assert_eq!(p.resident_table_bytes(), 0);
    prop_assert_eq!(p.vmas(), directory);
    for span in 0..region.spans {
        prop_assert_eq!(
            p.directory_entry(region.start + span * region.span()),
            Some(0)
        );
    }
    // A region made of whole directory pages leaves them all zero: every
    // one is released, so nothing is resident any more (data, tables and
    // directory alike).
    let g = region.geometry();
    let entries_bytes = region.spans * g.directory_entry_bytes();
    if entries_bytes % PAGE == 0 && g.directory_entry_offset(region.start) % PAGE == 0 {
        prop_assert_eq!(p.resident_bytes(), 0);
    }
    let s = p.stats();
    prop_assert_eq!(s.tables_allocated, s.tables_freed);
    prop_assert_eq!(s.would_deadlock, 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn scenario_random_sequences_keep_entries_and_tables_consistent(
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        run_sequence(Region::LONG64, ops)?;
    }

    #[test]
    fn scenario_random_sequences_compat32(
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        run_sequence(Region::COMPAT32, ops)?;
    }

    #[test]
    fn scenario_random_sequences_release_directory_pages(
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        run_sequence(Region::COMPAT32_DIRECTORY_PAGES, ops)?;
    }
}
