//! A random mmap / munmap / store workload on a simulated MPX process,
//! printing bounds tables and table memory over time beside what a kernel
//! that never frees tables would hold.
//!
//! ```text
//! cargo run --release --example churn --features sim [-- OPS [SEED]] [--svg FILE]
//! ```
//!
//! The process keeps pointers (and so bounds) in a 1 GiB arena: each step
//! maps a random range there (`MAP_FIXED`), unmaps one, or stores bounds for
//! a pointer kept in mapped memory (`BNDSTX`), which makes the CPU walk the
//! bounds directory and, on an empty entry, raise the #BR that allocates a
//! table. The "never freed" columns count what a kernel without an unmap hook
//! would hold: every table ever allocated stays mapped (4 MiB each), and
//! every table page ever touched stays resident.
//!
//! Every operation costs O(log mappings): the live-table count comes from the
//! manager's O(1) statistics, a store's slot is found with one `vma_after`
//! lookup, and the walks (mapped bytes, resident table bytes) run only at the
//! report rows and plot samples. `--svg FILE` writes the plot.

mod svg;

use mpx::mm::AddressSpace;
use mpx::sim::{SimError, SimProcess};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::collections::{BTreeSet, HashSet};
use std::time::Instant;

/// Where the workload keeps its data mappings.
const ARENA: u64 = 1 << 40;
/// Size of the arena: 1024 table-covered spans of 1 MiB.
const ARENA_BYTES: u64 = 1 << 30;
const PAGE: u64 = 4096;
const MIB: f64 = (1u64 << 20) as f64;
/// Points per curve in the plot.
const SAMPLES: u64 = 200;

/// What the run found out, per sample (for the plot) and in total.
struct Run {
    samples: Vec<svg::Sample>,
    spans_ever: BTreeSet<u64>,
    pages_ever: HashSet<(u64, u64)>,
    peak_tables: u64,
    peak_resident: u64,
    counts: [u64; 3],
}

fn main() -> Result<(), SimError> {
    let mut ops: u64 = 20_000;
    let mut seed: u64 = 1;
    let mut svg_path = None;
    let mut positional = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--svg" {
            svg_path = args.next();
            if svg_path.is_none() {
                eprintln!("churn: --svg needs a file name");
                std::process::exit(2);
            }
            continue;
        }
        let Ok(n) = arg.parse() else {
            eprintln!("churn: usage: churn [OPS [SEED]] [--svg FILE]");
            std::process::exit(2);
        };
        match positional {
            0 => ops = n,
            _ => seed = n,
        }
        positional += 1;
    }

    let process = SimProcess::new();
    let directory = process.enable_mpx()?;
    let geometry = process.geometry();
    println!(
        "churn: {ops} operations, seed {seed}; bounds directory at {directory:#x}, \
         arena {ARENA:#x}..{:#x} ({} spans of {} KiB, one {} MiB table each)",
        ARENA + ARENA_BYTES,
        ARENA_BYTES / geometry.span_bytes(),
        geometry.span_bytes() >> 10,
        geometry.table_bytes() >> 20
    );
    println!(
        "{:>8} {:>7} {:>7} {:>10} {:>13} | never freed: {:>7} {:>10} {:>13}",
        "op",
        "mapped",
        "tables",
        "table MiB",
        "resident MiB",
        "tables",
        "table MiB",
        "resident MiB"
    );

    let started = Instant::now();
    let run = churn(&process, ops, seed)?;
    let elapsed = started.elapsed();

    // Unmap the whole arena: every table must go.
    process.munmap(ARENA, ARENA_BYTES)?;
    print_row(&process, ops, &run);
    let stats = process.stats();
    let [maps, unmaps, stores] = run.counts;
    println!(
        "done: {maps} maps, {unmaps} unmaps, {stores} stores; after unmapping the arena: \
         {} live tables, {} table bytes resident",
        stats.live_tables,
        process.resident_table_bytes()
    );
    println!(
        "peak: {} tables, {:.2} MiB of table pages resident (at the samples); a never-freeing \
         kernel ends with {} tables ({:.0} MiB mapped, {:.2} MiB resident)",
        run.peak_tables,
        run.peak_resident as f64 / MIB,
        run.spans_ever.len(),
        (run.spans_ever.len() as u64 * geometry.table_bytes()) as f64 / MIB,
        (run.pages_ever.len() as u64 * PAGE) as f64 / MIB
    );
    println!(
        "manager: {} tables allocated, {} freed, {:.2} MiB released by partial unmaps, \
         {} directory entries read, {} would-deadlock events",
        stats.tables_allocated,
        stats.tables_freed,
        stats.bytes_released as f64 / MIB,
        stats.directory_entries_read,
        stats.would_deadlock
    );
    println!(
        "time: {:.2} s, {:.2} µs/op (with the report rows and plot samples); peak RSS {}",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / ops.max(1) as f64,
        peak_rss().unwrap_or_else(|| "unknown".into())
    );
    if let Some(path) = svg_path {
        let picture = svg::plot(&run.samples, geometry.table_bytes());
        if let Err(e) = std::fs::write(&path, picture) {
            eprintln!("churn: cannot write {path}: {e}");
            std::process::exit(1);
        }
        println!("plot: {path}");
    }
    Ok(())
}

/// Runs `ops` random operations; prints the report rows.
fn churn(process: &SimProcess, ops: u64, seed: u64) -> Result<Run, SimError> {
    let geometry = process.geometry();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut run = Run {
        samples: Vec::new(),
        spans_ever: BTreeSet::new(),
        pages_ever: HashSet::new(),
        peak_tables: 0,
        peak_resident: 0,
        counts: [0; 3],
    };
    let report_every = (ops / 20).max(1);
    let sample_every = (ops / SAMPLES).max(1);
    for op in 1..=ops {
        match rng.random_range(0..10u32) {
            // Map 4 KiB .. 2 MiB somewhere in the arena.
            0..=2 => {
                let len = rng.random_range(1..=512u64) * PAGE;
                let start = ARENA + rng.random_range(0..(ARENA_BYTES - len) / PAGE) * PAGE;
                process.mmap_fixed(start, len)?;
                run.counts[0] += 1;
            }
            // Unmap 4 KiB .. 4 MiB somewhere in the arena.
            3..=4 => {
                let len = rng.random_range(1..=1024u64) * PAGE;
                let start = ARENA + rng.random_range(0..(ARENA_BYTES - len) / PAGE) * PAGE;
                process.munmap(start, len)?;
                run.counts[1] += 1;
            }
            // Store bounds for a pointer kept somewhere in mapped data.
            _ => {
                let Some(slot) = random_slot(process, &mut rng) else {
                    continue;
                };
                let pointer = rng.random_range(ARENA..ARENA + ARENA_BYTES);
                process.bndstx(slot, pointer, pointer, pointer + 63)?;
                run.counts[2] += 1;
                let span = slot / geometry.span_bytes();
                run.spans_ever.insert(span);
                run.pages_ever
                    .insert((span, geometry.table_entry_offset(slot) / PAGE));
            }
        }
        run.peak_tables = run.peak_tables.max(process.stats().live_tables);
        if op % sample_every == 0 || op == ops {
            let resident = process.resident_table_bytes();
            run.peak_resident = run.peak_resident.max(resident);
            run.samples.push(svg::Sample {
                op,
                tables: process.stats().live_tables,
                resident,
                tables_never_freed: run.spans_ever.len() as u64,
                resident_never_freed: run.pages_ever.len() as u64 * PAGE,
            });
        }
        if op % report_every == 0 || op == ops {
            print_row(process, op, &run);
        }
    }
    Ok(run)
}

/// A random 8-byte slot in mapped arena data: one `vma_after` lookup from a
/// random arena address (wrapping to the arena's start), `None` if the arena
/// is empty.
fn random_slot(process: &SimProcess, rng: &mut StdRng) -> Option<u64> {
    let probe = ARENA + rng.random_range(0..ARENA_BYTES / PAGE) * PAGE;
    let vma = {
        let mm = process.manager().lock().read();
        mm.vma_after(probe)
            .filter(|v| v.start < ARENA + ARENA_BYTES)
            .or_else(|| mm.vma_after(ARENA))
            .filter(|v| v.start < ARENA + ARENA_BYTES && !v.is_bounds_table())?
    };
    Some(vma.start + rng.random_range(0..(vma.end - vma.start) / 8) * 8)
}

fn print_row(process: &SimProcess, op: u64, run: &Run) {
    let geometry = process.geometry();
    let mapped: u64 = process
        .vmas()
        .iter()
        .filter(|&&(start, _, table)| !table && start >= ARENA)
        .map(|&(start, end, _)| end - start)
        .sum();
    let tables = process.stats().live_tables;
    let ever = run.spans_ever.len() as u64;
    println!(
        "{op:>8} {:>6.0}M {tables:>7} {:>10.0} {:>13.2} |              {:>7} {:>10.0} {:>13.2}",
        mapped as f64 / MIB,
        (tables * geometry.table_bytes()) as f64 / MIB,
        process.resident_table_bytes() as f64 / MIB,
        ever,
        (ever * geometry.table_bytes()) as f64 / MIB,
        (run.pages_ever.len() as u64 * PAGE) as f64 / MIB
    );
}

/// The process's peak resident set (`VmHWM` in /proc/self/status), if known.
fn peak_rss() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.trim_start_matches("VmHWM:").trim().to_string())
}
