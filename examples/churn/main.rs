//! A random mmap / munmap / store workload on a simulated MPX process,
//! printing bounds tables and table memory over time beside what a kernel
//! that never frees tables would hold.
//!
//! ```text
//! cargo run --example churn --features sim [-- OPS [SEED]]
//! ```
//!
//! The process keeps pointers (and so bounds) in a 1 GiB arena: each step
//! maps a random range there (`MAP_FIXED`), unmaps one, or stores bounds for
//! a pointer kept in mapped memory (`BNDSTX`), which makes the CPU walk the
//! bounds directory and, on an empty entry, raise the #BR that allocates a
//! table. The "never freed" columns count what a kernel without an unmap hook
//! would hold: every table ever allocated stays mapped (4 MiB each), and
//! every table page ever touched stays resident.

use mpx::sim::{SimError, SimProcess};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::collections::BTreeSet;

/// Where the workload keeps its data mappings.
const ARENA: u64 = 1 << 40;
/// Size of the arena: 1024 table-covered spans of 1 MiB.
const ARENA_BYTES: u64 = 1 << 30;
const PAGE: u64 = 4096;
const MIB: f64 = (1u64 << 20) as f64;

fn main() -> Result<(), SimError> {
    let mut args = std::env::args().skip(1);
    let ops: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let mut rng = StdRng::seed_from_u64(seed);

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

    // What a never-freeing kernel would hold: spans that ever got a table,
    // and (span, table page) pairs ever touched.
    let mut spans_ever = BTreeSet::new();
    let mut pages_ever = BTreeSet::new();
    let mut peak_tables = 0usize;
    let mut peak_resident = 0u64;
    let (mut maps, mut unmaps, mut stores) = (0u64, 0u64, 0u64);
    let report_every = (ops / 20).max(1);

    for op in 1..=ops {
        match rng.random_range(0..10u32) {
            // Map 4 KiB .. 2 MiB somewhere in the arena.
            0..=2 => {
                let len = rng.random_range(1..=512u64) * PAGE;
                let start = ARENA + rng.random_range(0..(ARENA_BYTES - len) / PAGE) * PAGE;
                process.mmap_fixed(start, len)?;
                maps += 1;
            }
            // Unmap 4 KiB .. 4 MiB somewhere in the arena.
            3..=4 => {
                let len = rng.random_range(1..=1024u64) * PAGE;
                let start = ARENA + rng.random_range(0..(ARENA_BYTES - len) / PAGE) * PAGE;
                process.munmap(start, len)?;
                unmaps += 1;
            }
            // Store bounds for a pointer kept somewhere in mapped data.
            _ => {
                let data: Vec<(u64, u64)> = process
                    .vmas()
                    .into_iter()
                    .filter(|&(start, _, table)| !table && start >= ARENA)
                    .map(|(start, end, _)| (start, end))
                    .collect();
                if data.is_empty() {
                    continue;
                }
                let (start, end) = data[rng.random_range(0..data.len())];
                let slot = start + rng.random_range(0..(end - start) / 8) * 8;
                let pointer = rng.random_range(ARENA..ARENA + ARENA_BYTES);
                process.bndstx(slot, pointer, pointer, pointer + 63)?;
                stores += 1;
                let span = slot / geometry.span_bytes();
                spans_ever.insert(span);
                pages_ever.insert((span, geometry.table_entry_offset(slot) / PAGE));
            }
        }
        peak_tables = peak_tables.max(process.live_tables());
        peak_resident = peak_resident.max(process.resident_table_bytes());
        if op % report_every == 0 || op == ops {
            print_row(&process, op, &spans_ever, &pages_ever);
        }
    }

    // Unmap the whole arena: every table must go.
    process.munmap(ARENA, ARENA_BYTES)?;
    print_row(&process, ops, &spans_ever, &pages_ever);
    let stats = process.stats();
    println!(
        "done: {maps} maps, {unmaps} unmaps, {stores} stores; after unmapping the arena: \
         {} live tables, {} table bytes resident",
        process.live_tables(),
        process.resident_table_bytes()
    );
    println!(
        "peak: {peak_tables} tables, {:.2} MiB of table pages resident; a never-freeing kernel \
         ends with {} tables ({:.0} MiB mapped, {:.2} MiB resident)",
        peak_resident as f64 / MIB,
        spans_ever.len(),
        (spans_ever.len() as u64 * geometry.table_bytes()) as f64 / MIB,
        (pages_ever.len() as u64 * PAGE) as f64 / MIB
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
    Ok(())
}

fn print_row(
    process: &SimProcess,
    op: u64,
    spans_ever: &BTreeSet<u64>,
    pages_ever: &BTreeSet<(u64, u64)>,
) {
    let geometry = process.geometry();
    let mapped: u64 = process
        .vmas()
        .iter()
        .filter(|&&(start, _, table)| !table && start >= ARENA)
        .map(|&(start, end, _)| end - start)
        .sum();
    let tables = process.live_tables();
    println!(
        "{op:>8} {:>6.0}M {tables:>7} {:>10.0} {:>13.2} |              {:>7} {:>10.0} {:>13.2}",
        mapped as f64 / MIB,
        (tables as u64 * geometry.table_bytes()) as f64 / MIB,
        process.resident_table_bytes() as f64 / MIB,
        spans_ever.len(),
        (spans_ever.len() as u64 * geometry.table_bytes()) as f64 / MIB,
        (pages_ever.len() as u64 * PAGE) as f64 / MIB
    );
}
