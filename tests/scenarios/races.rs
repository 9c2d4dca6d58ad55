//! Racing threads.

use super::*;

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
