//! Six threads of one process doing random operations at once, with
//! directory pages swapped out and unmapped under them.
//!
//! Each thread stores and loads bounds anywhere in a shared arena, unmaps and
//! maps data ranges there, unmaps bounds tables and directory pages, and
//! swaps directory pages out. Loads must never see another slot's bounds;
//! nothing may panic or hang. Every [`ROUND`] operations per thread all
//! threads stop at a barrier and the manager's invariant is checked on the
//! quiet process. At the end a teardown leaves nothing and the books balance.
//!
//! `MPX_SOAK_OPS` sets the total number of operations (`scripts/soak.sh`
//! runs 10^6 in release mode).

use super::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

const THREADS: u64 = 6;
/// Operations per thread between invariant checks.
const ROUND: u64 = 1000;
/// The arena: 32 spans of data (64-bit).
const SPANS: u64 = 32;
/// The pointer every store uses: bounds are told apart by their lower bound
/// (the slot), so a load that finds another slot's bounds is caught.
const PTR: u64 = 0xc0ffee;

#[test]
fn scenario_six_threads_churning_with_swap_outs_keep_the_invariant() {
    let total = soak_or("MPX_SOAK_OPS", THREADS * 2 * ROUND);
    let rounds = total.div_ceil(THREADS * ROUND).max(1);
    let (p, bd) = managed();
    assert_eq!(p.mmap_fixed(AREA, SPANS * MIB), Ok(AREA));
    let barrier = Barrier::new(THREADS as usize);
    let errors = AtomicU64::new(0);
    let loads_checked = AtomicU64::new(0);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (p, barrier, errors, loads_checked) = (&p, &barrier, &errors, &loads_checked);
            s.spawn(move || {
                let mut rng = StdRng::seed_from_u64(t + 1);
                for _ in 0..rounds {
                    for _ in 0..ROUND {
                        if !churn_step(p, bd, &mut rng, loads_checked) {
                            errors.fetch_add(1, Relaxed);
                        }
                    }
                    // Quiet: one thread checks, then all go on.
                    if barrier.wait().is_leader() {
                        if let Err(e) = p.check_invariant() {
                            panic!("invariant broken: {e}");
                        }
                    }
                    barrier.wait();
                }
            });
        }
    });
    let ops = rounds * THREADS * ROUND;
    println!(
        "churn: {ops} operations on {THREADS} threads, {} failed (SIGSEGV-like), {} loads checked; {:?}",
        errors.load(Relaxed),
        loads_checked.load(Relaxed),
        p.stats()
    );
    p.check_invariant().unwrap();
    p.munmap(0, 1 << 47).unwrap();
    assert!(p.vmas().is_empty());
    let s = p.stats();
    assert_eq!(s.live_tables, 0);
    assert_eq!(s.tables_allocated, s.tables_freed, "{s:?}");
    assert_no_deadlock(&p);
}

/// One random operation; whether it succeeded.
fn churn_step(p: &SimProcess, bd: u64, rng: &mut StdRng, loads_checked: &AtomicU64) -> bool {
    let span = AREA + rng.random_range(0..SPANS) * MIB;
    let slot = span + rng.random_range(0..MIB / 8) * 8;
    match rng.random_range(0..100u32) {
        0..=39 => p.bndstx(slot, PTR, slot, slot + 64).is_ok(),
        40..=64 => match p.bndldx(slot, PTR) {
            Ok(bounds) => {
                assert!(
                    bounds == INIT || bounds.0 == slot,
                    "slot {slot:#x} sees bounds {bounds:#x?} stored for another slot"
                );
                loads_checked.fetch_add(1, Relaxed);
                true
            }
            Err(_) => false,
        },
        65..=79 => {
            let len = rng.random_range(1..=512u64) * PAGE;
            let len = len.min(AREA + SPANS * MIB - span);
            let unmapped = p.munmap(span, len).is_ok();
            p.mmap_fixed(span, len).is_ok() && unmapped
        }
        80..=86 => {
            let tables = table_vmas(p);
            if tables.is_empty() {
                return true;
            }
            let (t, end) = tables[rng.random_range(0..tables.len())];
            if rng.random_bool(0.5) {
                p.munmap(t, end - t).is_ok()
            } else {
                p.munmap(t + rng.random_range(0..(end - t) / PAGE) * PAGE, PAGE)
                    .is_ok()
            }
        }
        87..=88 => {
            // A directory page goes and comes back (zeros).
            let page = entry_address(p, bd, span) & !(PAGE - 1);
            let unmapped = p.munmap(page, PAGE).is_ok();
            p.mmap_fixed(page, PAGE).is_ok() && unmapped
        }
        _ => {
            p.swap_out(entry_address(p, bd, span));
            true
        }
    }
}
