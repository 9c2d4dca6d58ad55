//! A directory page out of reach during the unmap hook.

use super::*;

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
