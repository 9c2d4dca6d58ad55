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
//! The behaviours are those of issue 2, one module per section:
//!
//! - [`alloc`]: (1) Allocation on the first store, and the CPU's behaviour with MPX off.
//! - [`munmap_whole`]: (2) munmap of a span's only mapping.
//! - [`partial`]: (3) A neighbour keeps the table; the pages for the unmapped part go.
//! - [`many_spans`]: (4) One munmap across many spans.
//! - [`table_unmap`]: (5) The user unmaps a table mapping itself.
//! - [`corrupt`]: (6) Corrupt directory entries: an error, and that memory untouched.
//! - [`races`]: (7) Racing threads.
//! - [`swapped_directory`]: (8) A directory page out of reach during the unmap hook.
//! - [`sparse_cost`]: (9) Cost of a huge sparse unmap.
//! - [`management_and_ranges`]: (10) Management off, bad ranges, 32-bit processes, MAP_FIXED.
//! - [`random`]: (11) Random operation sequences against the invariants.
//! - [`churn`]: six threads of random operations with swap-outs.
//! - [`faults`]: every directory-entry access of a scenario failing in turn.
//! - [`hostile`]: random sequences under injected faults and races.
//! - [`reliability`]: regressions for the defects of issue 10 (unreachable or
//!   changing entries, live-table counting, the directory unmapped, upper-half
//!   slots, teardown).
//! - [`lifecycle`]: a process's whole life (issue 12): fork, exec, threads,
//!   the table limit, trace events, the 47-bit window, teardown.
//!
//! The helpers all sections share are here.
//!
//! `scenario_huge_sparse_unmap_reads_few_entries` prints the directory
//! entries read for a 64 TiB sparse unmap and for a 1 MiB unmap, and the
//! thread tests print how many races were lost; run
//! `cargo test --test scenarios -- --nocapture` to see them.

mod alloc;
mod churn;
mod corrupt;
mod faults;
mod hostile;
mod lifecycle;
mod management_and_ranges;
mod many_spans;
mod munmap_whole;
mod partial;
mod races;
mod random;
mod reliability;
mod sparse_cost;
mod swapped_directory;
mod table_unmap;

use mpx::arch::Mode;
use mpx::manager::{AllocError, EnableError, Statistics, UnmapError};
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

/// `default`, unless the environment variable `name` (set by
/// `scripts/soak.sh`) gives another number.
fn soak_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Cases per proptest: `MPX_SOAK_CASES`, or `default`.
fn cases(default: u32) -> u32 {
    soak_or("MPX_SOAK_CASES", default.into())
        .try_into()
        .unwrap_or(u32::MAX)
}

#[track_caller]
fn assert_no_deadlock(p: &SimProcess) {
    assert_eq!(p.would_deadlock_events(), 0);
    assert_eq!(p.stats().would_deadlock, 0);
}
