//! Instruction counts (callgrind, through gungraun) of the manager's paths,
//! each beside a Linux-algorithm baseline and the physical floor, so that
//! every ratio comes from one run. `benches/ratios.sh` runs this and prints
//! the table; `cargo bench --bench instructions` needs valgrind and
//! `gungraun-runner` (the script installs it).
//!
//! Only each benchmark function's body is counted: the `setup` functions
//! (building the process, storing the bounds that allocate its tables) are
//! not, and every function returns its process so that its teardown is not
//! counted either.
//!
//! Definitions (fixed, so that the ratios mean the same each time):
//! - **#BR floor**: taking the write lock, `map_bounds_table` and one
//!   `compare_exchange_entry` of the entry, nothing else. The #BR case is one
//!   BNDSTX that raises #BR code 2 and installs the table.
//! - **Sparse-unmap floor**: `k` separate 1 MiB munmaps, each of a span
//!   holding one table, against one munmap of the whole range holding the same
//!   `k` tables.
//! - **Unmap floor** (1 MiB, 64 MiB dense): the hook's minimum work for the
//!   range: per table one compare-exchange of its entry to 0 and one
//!   `unmap_bounds_table`, then the kernel's removal of the range.
//! - **Linux baseline**: [`linux`] below, Linux 4.2+'s `mpx_unmap_tables`
//!   (every directory entry of the range read one by one, through the same
//!   user access) and its #BR path (`mpx_mmap` under the write lock, then the
//!   exchange with the lock dropped).
//! - **Statistics**: against the same call with 10 tables (O(1) means 1.0).

use gungraun::prelude::*;
use mpx::arch::EntryWidth;
use mpx::mm::{AddressSpace, UserAccess};
use mpx::sim::SimProcess;
use std::hint::black_box;

const MIB: u64 = 1 << 20;
const TIB: u64 = 1 << 40;
/// Where the data lives: span and directory-page aligned.
const BASE: u64 = 1 << 44;
const TABLE: u64 = 4 * MIB;
const WIDTH: EntryWidth = mpx::arch::Geometry::of(mpx::arch::Mode::Long64).entry_width();

fn managed() -> SimProcess {
    let p = SimProcess::new();
    p.enable_mpx().expect("enable MPX");
    p
}

/// Maps 1 MiB at `addr` and stores one bound there (a table).
fn span_with_table(p: &SimProcess, addr: u64) {
    p.mmap_fixed(addr, MIB).expect("mmap_fixed");
    p.bndstx(addr, addr, addr, addr + 63).expect("bndstx");
}

fn entry_of(p: &SimProcess, slot: u64) -> u64 {
    p.manager().directory_base().expect("managed") + p.geometry().directory_entry_offset(slot)
}

fn table_of(p: &SimProcess, slot: u64) -> u64 {
    p.directory_entry(slot).expect("managed") & !7
}

/// How the `k` tables of a sparse range lie.
#[derive(Clone, Copy, Debug)]
enum Layout {
    /// Evenly over the range: one directory page each (for k ≤ 2048 in 1 TiB).
    Spread,
    /// In the first `k` spans: one directory page for all.
    Packed,
}

/// The span starts of `k` tables in a `len`-byte range at BASE.
fn spans(len: u64, k: u64, layout: Layout) -> Vec<u64> {
    (0..k)
        .map(|i| match layout {
            Layout::Spread => BASE + i * (len / k),
            Layout::Packed => BASE + i * MIB,
        })
        .collect()
}

/// A process whose range at BASE of `len` bytes holds `k` one-span mappings
/// with a table each.
fn sparse(len: u64, k: u64, layout: Layout) -> (SimProcess, u64, Vec<u64>) {
    let p = managed();
    let spans = spans(len, k, layout);
    for &s in &spans {
        span_with_table(&p, s);
    }
    (p, len, spans)
}

/// The Linux 4.2+ algorithms, over the simulator's primitives, as reference
/// points: not the crate's code.
mod linux {
    use super::*;

    /// Reads an entry as Linux's `get_user_bd_entry` did: faults disabled,
    /// then `get_user_pages` and a retry.
    fn read(p: &SimProcess, mm: &impl AddressSpace, entry: u64) -> u64 {
        loop {
            if let Ok(value) = p.user().read_entry(entry, WIDTH) {
                return value;
            }
            mm.fault_in(entry, false).expect("directory mapped");
        }
    }

    /// Whether a data VMA other than `[start, end)` shares the span
    /// `[span, span_end)`: Linux's edge check (`try_unmap_single_bt` looks at
    /// the VMAs before and after the hole).
    fn shared(mm: &impl AddressSpace, span: u64, span_end: u64, start: u64, end: u64) -> bool {
        let outside = |v: &mpx::mm::Vma| {
            !v.is_bounds_table()
                && v.start < span_end
                && v.end > span
                && (v.start < start || v.end > end)
        };
        mm.vma_after(span).is_some_and(|v| outside(&v))
            || mm.vma_after(end).is_some_and(|v| outside(&v))
    }

    /// `mpx_notify_unmap` and `mpx_unmap_tables` for `[start, end)`, then the
    /// removal. Nothing for a range holding a table (no tables for tables).
    /// The two edge spans: if another mapping shares one, the table pages
    /// describing only the unmapped part are released
    /// (`zap_bt_entries_mapping`), else the table goes. Every span in between
    /// (wholly unmapped): its entry read one by one and, if valid, cleared and
    /// its table unmapped (`unmap_entire_bt`). Directory pages are never
    /// released.
    pub(super) fn munmap(p: &SimProcess, start: u64, end: u64) {
        let g = p.geometry();
        let span_bytes = g.span_bytes();
        let base = p.manager().directory_base().expect("managed");
        let mut mm = p.manager().write();
        let mut cursor = start;
        while let Some(v) = mm.vma_after(cursor).filter(|v| v.start < end) {
            if v.is_bounds_table() {
                mm.remove(start, end);
                return;
            }
            cursor = v.end;
        }
        let first = start & !(span_bytes - 1);
        let last = (end - 1) & !(span_bytes - 1);
        let mut span = first;
        while span <= last {
            let span_end = span + span_bytes;
            let entry = base + g.directory_entry_offset(span);
            let edge = span == first || span == last;
            let zap = edge && shared(&*mm, span, span_end, start, end);
            let value = read(p, &*mm, entry);
            if value & 1 == 1 {
                let table = value & !7;
                if zap {
                    let offset = |a: u64| table + g.table_offset_for_span_offset(a - span);
                    let from = offset(start.max(span)).next_multiple_of(4096);
                    let to = offset(end.min(span_end)) & !4095;
                    if from < to {
                        mm.release_pages(from, to);
                    }
                } else {
                    let _ = p.user().compare_exchange_entry(entry, WIDTH, value, 0);
                    mm.unmap_bounds_table(table, table + g.table_bytes())
                        .expect("a table");
                }
            }
            span = span_end;
        }
        mm.remove(start, end);
    }

    /// `do_mpx_bt_fault`: `mpx_mmap` under the write lock, then the
    /// exchange with the lock dropped (which is how Linux could publish a
    /// table a racing munmap had just removed).
    pub(super) fn br(p: &SimProcess, entry: u64) {
        let table = p
            .manager()
            .write()
            .map_bounds_table(TABLE, entry)
            .expect("a table");
        let _ = p.user().compare_exchange_entry(entry, WIDTH, 0, table | 1);
    }
}

// ---- 1 MiB and 64 MiB dense unmaps ---------------------------------------

fn dense(n: u64) -> (SimProcess, Vec<(u64, u64)>) {
    let p = managed();
    p.mmap_fixed(BASE, n * MIB).expect("mmap_fixed");
    let mut tables = Vec::new();
    for i in 0..n {
        let s = BASE + i * MIB;
        p.bndstx(s, s, s, s + 63).expect("bndstx");
        tables.push((entry_of(&p, s), table_of(&p, s)));
    }
    (p, tables)
}

#[library_benchmark]
#[bench::one_mib(setup = dense, args = (1))]
#[bench::dense_64_mib(setup = dense, args = (64))]
fn unmap(fixture: (SimProcess, Vec<(u64, u64)>)) -> SimProcess {
    let (p, tables) = fixture;
    black_box(p.munmap(BASE, tables.len() as u64 * MIB)).expect("munmap");
    p
}

#[library_benchmark]
#[bench::one_mib(setup = dense, args = (1))]
#[bench::dense_64_mib(setup = dense, args = (64))]
fn unmap_floor(fixture: (SimProcess, Vec<(u64, u64)>)) -> SimProcess {
    let (p, tables) = fixture;
    {
        let mut mm = p.manager().write();
        for &(entry, table) in &tables {
            let _ = black_box(p.user().compare_exchange_entry(entry, WIDTH, table | 1, 0));
            mm.unmap_bounds_table(table, table + TABLE)
                .expect("a table");
        }
        mm.remove(BASE, BASE + tables.len() as u64 * MIB);
    }
    p
}

#[library_benchmark]
#[bench::one_mib(setup = dense, args = (1))]
#[bench::dense_64_mib(setup = dense, args = (64))]
fn unmap_linux(fixture: (SimProcess, Vec<(u64, u64)>)) -> SimProcess {
    let (p, tables) = fixture;
    linux::munmap(&p, BASE, BASE + tables.len() as u64 * MIB);
    p
}

library_benchmark_group!(
    name = dense_unmaps,
    benchmarks = [unmap, unmap_floor, unmap_linux]
);

// ---- Sparse unmaps ---------------------------------------------------------

#[library_benchmark]
#[bench::t1_spread_1(setup = sparse, args = (TIB, 1, Layout::Spread))]
#[bench::t1_spread_8(setup = sparse, args = (TIB, 8, Layout::Spread))]
#[bench::t1_spread_64(setup = sparse, args = (TIB, 64, Layout::Spread))]
#[bench::t1_packed_8(setup = sparse, args = (TIB, 8, Layout::Packed))]
#[bench::t1_packed_64(setup = sparse, args = (TIB, 64, Layout::Packed))]
#[bench::t64_spread_1(setup = sparse, args = (64 * TIB, 1, Layout::Spread))]
#[bench::t64_spread_8(setup = sparse, args = (64 * TIB, 8, Layout::Spread))]
#[bench::t64_spread_64(setup = sparse, args = (64 * TIB, 64, Layout::Spread))]
#[bench::t64_packed_8(setup = sparse, args = (64 * TIB, 8, Layout::Packed))]
#[bench::t64_packed_64(setup = sparse, args = (64 * TIB, 64, Layout::Packed))]
fn sparse_unmap(fixture: (SimProcess, u64, Vec<u64>)) -> SimProcess {
    let (p, len, _) = fixture;
    black_box(p.munmap(BASE, len)).expect("munmap");
    p
}

#[library_benchmark]
#[bench::t1_spread_1(setup = sparse, args = (TIB, 1, Layout::Spread))]
#[bench::t1_spread_8(setup = sparse, args = (TIB, 8, Layout::Spread))]
#[bench::t1_spread_64(setup = sparse, args = (TIB, 64, Layout::Spread))]
#[bench::t1_packed_8(setup = sparse, args = (TIB, 8, Layout::Packed))]
#[bench::t1_packed_64(setup = sparse, args = (TIB, 64, Layout::Packed))]
#[bench::t64_spread_1(setup = sparse, args = (64 * TIB, 1, Layout::Spread))]
#[bench::t64_spread_8(setup = sparse, args = (64 * TIB, 8, Layout::Spread))]
#[bench::t64_spread_64(setup = sparse, args = (64 * TIB, 64, Layout::Spread))]
#[bench::t64_packed_8(setup = sparse, args = (64 * TIB, 8, Layout::Packed))]
#[bench::t64_packed_64(setup = sparse, args = (64 * TIB, 64, Layout::Packed))]
fn sparse_unmap_floor(fixture: (SimProcess, u64, Vec<u64>)) -> SimProcess {
    let (p, _, spans) = fixture;
    for &s in &spans {
        black_box(p.munmap(s, MIB)).expect("munmap");
    }
    p
}

// Linux's cost does not depend on k (every entry of the range is read):
// measured at 1 TiB for each layout with 64 tables; `ratios.sh` derives
// 64 TiB from it (64 times the entries).
#[library_benchmark]
#[bench::t1_spread_64(setup = sparse, args = (TIB, 64, Layout::Spread))]
#[bench::t1_packed_64(setup = sparse, args = (TIB, 64, Layout::Packed))]
fn sparse_unmap_linux(fixture: (SimProcess, u64, Vec<u64>)) -> SimProcess {
    let (p, len, _) = fixture;
    linux::munmap(&p, BASE, BASE + len);
    p
}

library_benchmark_group!(
    name = sparse_unmaps,
    benchmarks = [sparse_unmap, sparse_unmap_floor, sparse_unmap_linux]
);

// ---- #BR and BNDSTX --------------------------------------------------------

/// A process with two mapped spans; the first has a table (so the directory
/// page is resident), the second none yet. Returns the second span and its
/// directory entry's address (computed here, outside the counted code).
fn before_br() -> (SimProcess, u64, u64) {
    let p = managed();
    span_with_table(&p, BASE);
    p.mmap_fixed(BASE + MIB, MIB).expect("mmap_fixed");
    let entry = entry_of(&p, BASE + MIB);
    (p, BASE + MIB, entry)
}

// The #BR case: one BNDSTX that raises #BR code 2, whose handler installs the
// table, and the retried store (which also faults the table's page in).
// `ratios.sh` takes the handler's own count (`allocate_table`, inclusive)
// from this case's profile.
#[library_benchmark]
#[bench::alloc(setup = before_br)]
fn br(fixture: (SimProcess, u64, u64)) -> SimProcess {
    let (p, slot, _) = fixture;
    black_box(p.bndstx(slot, slot, slot, slot + 63)).expect("bndstx");
    p
}

#[library_benchmark]
#[bench::alloc(setup = before_br)]
fn br_floor(fixture: (SimProcess, u64, u64)) -> SimProcess {
    let (p, _, entry) = fixture;
    {
        let mut mm = p.manager().write();
        let table = mm.map_bounds_table(TABLE, entry).expect("a table");
        let _ = black_box(p.user().compare_exchange_entry(entry, WIDTH, 0, table | 1));
    }
    p
}

#[library_benchmark]
#[bench::alloc(setup = before_br)]
fn br_linux(fixture: (SimProcess, u64, u64)) -> SimProcess {
    let (p, _, entry) = fixture;
    linux::br(&p, entry);
    p
}

/// As [`before_br`], but the directory page of the span was released: a
/// munmap covering all of its 512 MiB freed the page's last table and the
/// page with it (the eager release policy).
fn before_br_released() -> (SimProcess, u64, u64) {
    let p = managed();
    span_with_table(&p, BASE);
    let released = p
        .munmap_summary(BASE, 512 * MIB)
        .expect("munmap")
        .directory_bytes_released;
    assert_eq!(released, 4096, "the directory page is released");
    p.mmap_fixed(BASE + MIB, MIB).expect("mmap_fixed");
    let entry = entry_of(&p, BASE + MIB);
    (p, BASE + MIB, entry)
}

// The #BR case after the release: the walk faults the directory page back in
// first (what releasing it costs the next allocation there).
#[library_benchmark]
#[bench::refault(setup = before_br_released)]
fn br_released(fixture: (SimProcess, u64, u64)) -> SimProcess {
    let (p, slot, _) = fixture;
    black_box(p.bndstx(slot, slot, slot, slot + 63)).expect("bndstx");
    p
}

// BNDSTX into a span that has its table: no kernel involvement.
#[library_benchmark]
#[bench::existing(setup = before_br)]
fn bndstx(fixture: (SimProcess, u64, u64)) -> SimProcess {
    let (p, _, _) = fixture;
    black_box(p.bndstx(BASE + 64, 1, 2, 3)).expect("bndstx");
    p
}

library_benchmark_group!(
    name = faults,
    benchmarks = [br, br_floor, br_linux, br_released, bndstx]
);

// ---- Statistics ------------------------------------------------------------

fn with_tables(n: u64) -> SimProcess {
    let p = managed();
    p.mmap_fixed(BASE, n * MIB).expect("mmap_fixed");
    for i in 0..n {
        let s = BASE + i * MIB;
        p.bndstx(s, s, s, s + 63).expect("bndstx");
    }
    p
}

#[library_benchmark]
#[bench::tables_10(setup = with_tables, args = (10))]
#[bench::tables_1000(setup = with_tables, args = (1000))]
#[bench::tables_10000(setup = with_tables, args = (10_000))]
fn statistics(p: SimProcess) -> SimProcess {
    black_box(p.stats());
    p
}

// The baseline: what a kernel without counters does to know its table
// memory (Linux had none: /proc/PID/smaps walks every VMA).
#[library_benchmark]
#[bench::tables_10(setup = with_tables, args = (10))]
#[bench::tables_1000(setup = with_tables, args = (1000))]
#[bench::tables_10000(setup = with_tables, args = (10_000))]
fn statistics_walk(p: SimProcess) -> SimProcess {
    {
        let mm = p.manager().lock().read();
        let (mut count, mut bytes, mut cursor) = (0u64, 0u64, 0u64);
        while let Some(v) = mm.vma_after(cursor) {
            if v.is_bounds_table() {
                count += 1;
                bytes += v.end - v.start;
            }
            cursor = v.end;
        }
        black_box((count, bytes));
    }
    p
}

library_benchmark_group!(name = stats, benchmarks = [statistics, statistics_walk]);

// ---- Churn -----------------------------------------------------------------

/// A small deterministic generator (the benchmark must count the same
/// instructions every run).
struct Xorshift(u64);

impl Xorshift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Churn operations per measured run.
const CHURN_OPS: u64 = 1000;
/// The churn's arena: 1 GiB.
const ARENA_SPANS: u64 = 1024;

/// Which kernel handles the churn's munmaps and #BRs.
#[derive(Clone, Copy, Debug)]
enum Kernel {
    /// The crate, through the simulator's own calls.
    Crate,
    /// The [`linux`] algorithms over the same simulator.
    Linux,
}

/// One operation of the churn mix (as `examples/churn.rs`): map, unmap, or
/// store bounds for a pointer kept in the arena.
fn churn_op(p: &SimProcess, kernel: Kernel, rng: &mut Xorshift) {
    let page = 4096;
    match rng.below(10) {
        0..=2 => {
            let len = (1 + rng.below(512)) * page;
            let start = BASE + rng.below(ARENA_SPANS * MIB / page - 512) * page;
            match kernel {
                Kernel::Crate => {
                    p.mmap_fixed(start, len).expect("mmap_fixed");
                }
                // MAP_FIXED: the munmap (and its hook) of what was there first.
                Kernel::Linux => {
                    linux::munmap(p, start, start + len);
                    let mut mm = p.manager().write();
                    mm.map_free_range(start, start + len).expect("a free range");
                }
            }
        }
        3..=4 => {
            let len = (1 + rng.below(1024)) * page;
            let start = BASE + rng.below(ARENA_SPANS * MIB / page - 1024) * page;
            match kernel {
                Kernel::Crate => p.munmap(start, len).expect("munmap"),
                Kernel::Linux => linux::munmap(p, start, start + len),
            }
        }
        _ => {
            let slot = BASE + rng.below(ARENA_SPANS * MIB / 8) * 8;
            // The CPU's walk finding no table raises #BR code 2: Linux's
            // handler installs one, and the store goes through.
            if let Kernel::Linux = kernel {
                if p.directory_entry(slot) == Some(0) {
                    linux::br(p, entry_of(p, slot));
                }
            }
            let _ = p.bndstx(slot, slot, slot, slot + 63);
        }
    }
}

/// A process after 20,000 churn operations under `kernel` (steady state).
fn churned(kernel: Kernel) -> (SimProcess, Xorshift, Kernel) {
    let p = managed();
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        churn_op(&p, kernel, &mut rng);
    }
    (p, rng, kernel)
}

// The crate's churn and the same operations under the Linux algorithms.
#[library_benchmark]
#[bench::crate_1000_ops(setup = churned, args = (Kernel::Crate))]
#[bench::linux_1000_ops(setup = churned, args = (Kernel::Linux))]
fn churn(fixture: (SimProcess, Xorshift, Kernel)) -> SimProcess {
    let (p, mut rng, kernel) = fixture;
    for _ in 0..CHURN_OPS {
        churn_op(&p, kernel, &mut rng);
    }
    p
}

library_benchmark_group!(name = steady_state, benchmarks = [churn]);

main!(
    library_benchmark_groups = dense_unmaps,
    sparse_unmaps,
    faults,
    stats,
    steady_state
);
