//! A process's whole life (issue 12): fork, exec, threads sharing one
//! manager, the table limit, trace events, the 47-bit window, teardown.

use super::*;
use mpx::trace::TraceEvent;
use mpx::violation::{BoundRegisters, Gpr, RegisterSnapshot};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The invariant and the books, with a message naming `who`.
#[track_caller]
fn assert_sound(p: &SimProcess, who: &str) {
    if let Err(e) = p.check_invariant() {
        panic!("{who}: {e}");
    }
}

/// The books balance and nothing is left.
#[track_caller]
fn assert_ended(last: Statistics, p: &SimProcess) {
    assert_eq!(last.live_tables, 0, "{last:?}");
    assert_eq!(last.table_bytes_mapped, 0);
    assert_eq!(
        last.tables_inherited + last.tables_allocated,
        last.tables_freed,
        "{last:?}"
    );
    assert!(p.vmas().is_empty(), "{:#x?}", p.vmas());
    assert_eq!(p.manager().directory_base(), None);
    assert_eq!(p.resident_bytes(), 0);
}

#[test]
fn scenario_fork_child_inherits_management_and_tables() {
    let (parent, bd) = managed();
    let a = parent.mmap_fixed(AREA, 4 * MIB).unwrap();
    for span in 0..4 {
        store_self(&parent, a + span * MIB);
    }
    let child = parent.fork();
    // The child manages the same directory, holds copies of the four tables
    // (inherited, not allocated) and sees the parent's bounds.
    assert_eq!(child.manager().directory_base(), Some(bd));
    let s = child.stats();
    assert_eq!(
        (s.tables_inherited, s.tables_allocated, s.live_tables),
        (4, 0, 4)
    );
    for span in 0..4 {
        let slot = a + span * MIB;
        assert_eq!(child.directory_entry(slot), parent.directory_entry(slot));
        assert_self_bounds(&child, slot);
    }
    assert_sound(&child, "child");
    assert_sound(&parent, "parent");

    // Apart from here on: the parent frees span 0's table, the child keeps its
    // copy; the child's new table is not the parent's.
    parent.munmap(a, MIB).unwrap();
    assert_live(&parent, 3);
    assert_live(&child, 4);
    assert_self_bounds(&child, a);
    child.bndstx(a + 8, 7, 7, 8).unwrap();
    assert_eq!(child.bndldx(a + 8, 7).unwrap(), (7, 8));
    let b = AREA + 8 * MIB;
    child.mmap_fixed(b, MIB).unwrap();
    store_self(&child, b);
    assert_live(&child, 5);
    assert_eq!(parent.directory_entry(b), Some(0));
    assert_eq!(child.stats().tables_allocated, 1);
    assert_sound(&child, "child");
    assert_sound(&parent, "parent");

    let last = child.teardown();
    assert_eq!(
        (
            last.tables_inherited,
            last.tables_allocated,
            last.tables_freed
        ),
        (4, 1, 5)
    );
    assert_ended(last, &child);
    // The parent is untouched by the child's end.
    assert_live(&parent, 3);
    assert_self_bounds(&parent, a + MIB);
    let last = parent.teardown();
    assert_eq!((last.tables_allocated, last.tables_freed), (4, 4));
    assert_ended(last, &parent);
}

#[test]
fn scenario_fork_of_an_unmanaged_process_stays_unmanaged() {
    let p = SimProcess::new();
    p.mmap_fixed(AREA, MIB).unwrap();
    let child = p.fork();
    assert_eq!(child.manager().directory_base(), None);
    assert_eq!(child.vmas(), p.vmas());
    // MPX off: BNDSTX is a NOP, no table anywhere.
    child.bndstx(AREA, 1, 1, 2).unwrap();
    assert_live(&child, 0);
}

/// One process's part of the churn: random maps, unmaps and stores in its
/// arena, checking after every store that its own bounds come back, and the
/// invariant now and then. Returns the slots it stored last, with bounds.
fn churn_alone(p: &SimProcess, seed: u64, tag: u64, ops: u64) -> BTreeMap<u64, (u64, u64)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut stored = BTreeMap::new();
    for op in 0..ops {
        let start = AREA + rng.random_range(0..64u64) * MIB / 2;
        let len = rng.random_range(1..=256u64) * PAGE;
        match rng.random_range(0..10u32) {
            0..=2 => {
                p.mmap_fixed(start, len).unwrap();
                stored.retain(|&slot, _| slot < start || slot >= start + len);
            }
            3..=4 => {
                p.munmap(start, len).unwrap();
                stored.retain(|&slot, _| slot < start || slot >= start + len);
            }
            _ => {
                // A pointer kept in mapped memory (bounds for slots in
                // unmapped memory go with their span's table).
                let slot = start + rng.random_range(0..len / 8) * 8;
                if !p
                    .vmas()
                    .iter()
                    .any(|&(s, e, table)| !table && s <= slot && slot < e)
                {
                    continue;
                }
                let bounds = (slot ^ tag, (slot ^ tag) + tag);
                p.bndstx(slot, slot, bounds.0, bounds.1).unwrap();
                assert_eq!(p.bndldx(slot, slot).unwrap(), bounds, "tag {tag}");
                stored.insert(slot, bounds);
            }
        }
        if op % 100 == 0 {
            assert_sound(p, &format!("process {tag} at op {op}"));
        }
    }
    stored
}

#[test]
fn scenario_fork_then_parent_and_child_churn_apart() {
    let (parent, _bd) = managed();
    // Shared history before the fork.
    let before = churn_alone(&parent, 1, 1, 300);
    let child = parent.fork();
    for (&slot, &bounds) in &before {
        assert_eq!(child.bndldx(slot, slot).unwrap(), bounds);
    }
    let (from_parent, from_child) = std::thread::scope(|s| {
        let p = s.spawn(|| churn_alone(&parent, 2, 3, 1500));
        let c = s.spawn(|| churn_alone(&child, 3, 5, 1500));
        (p.join().unwrap(), c.join().unwrap())
    });
    // Each sees exactly its own last bounds, never the other's.
    for (who, p, stored) in [
        ("parent", &parent, &from_parent),
        ("child", &child, &from_child),
    ] {
        for (&slot, &bounds) in stored {
            assert_eq!(p.bndldx(slot, slot).unwrap(), bounds, "{who} {slot:#x}");
        }
        assert_sound(p, who);
        assert_no_deadlock(p);
    }
    for (who, p) in [("parent", &parent), ("child", &child)] {
        let last = p.teardown();
        assert!(last.tables_allocated > 0, "{who}: {last:?}");
        assert_ended(last, p);
    }
}

#[test]
fn scenario_exec_ends_management_and_starts_empty() {
    let (p, _bd) = managed();
    p.set_table_limit(Some(5));
    let a = p.mmap_fixed(AREA, 2 * MIB).unwrap();
    store_self(&p, a);
    store_self(&p, a + MIB);
    let old = p.exec();
    assert_eq!(
        (old.tables_allocated, old.tables_freed, old.live_tables),
        (2, 2, 0)
    );
    // The new image: nothing mapped, MPX off, fresh books, the limit kept.
    assert!(p.vmas().is_empty());
    assert_eq!(p.manager().directory_base(), None);
    assert_eq!(p.stats(), Statistics::default());
    assert_eq!(p.manager().table_limit(), Some(5));
    p.mmap_fixed(AREA, MIB).unwrap();
    p.bndstx(AREA, 1, 1, 2).unwrap(); // MPX off: a NOP
    assert_live(&p, 0);
    // It can start MPX again, from scratch.
    p.enable_mpx().unwrap();
    store_self(&p, AREA);
    assert_live(&p, 1);
    assert_eq!(p.stats().tables_allocated, 1);
    assert_sound(&p, "after exec");
}

#[test]
fn scenario_table_limit_refused_cleanly_freed_allocated_again() {
    let (p, _bd) = managed();
    p.set_table_limit(Some(2));
    let a = p.mmap_fixed(AREA, 4 * MIB).unwrap();
    store_self(&p, a);
    store_self(&p, a + MIB);
    let refused = p.bndstx(a + 2 * MIB, 1, 1, 2);
    let entry =
        p.manager().directory_base().unwrap() + p.geometry().directory_entry_offset(a + 2 * MIB);
    assert_eq!(
        refused,
        Err(SimError::BoundsFault(AllocError::TableLimit {
            entry,
            limit: 2
        }))
    );
    assert_eq!(p.directory_entry(a + 2 * MIB), Some(0));
    assert_eq!(p.stats().limit_refusals, 1);
    // Still usable: the tables it has work, stores into them need no #BR.
    assert_self_bounds(&p, a);
    p.bndstx(a + MIB + 64, 3, 3, 4).unwrap();
    assert_live(&p, 2);
    assert_sound(&p, "at the limit");
    // A stale #BR at the limit (its entry got a table meanwhile) is handled.
    let valid = p.manager().directory_base().unwrap() + p.geometry().directory_entry_offset(a);
    assert_eq!(
        p.manager().allocate_table(p.user(), valid),
        Ok(mpx::manager::Allocation::AlreadyInstalled { entry: valid })
    );
    // Freeing one brings it back under the limit.
    p.munmap(a, MIB).unwrap();
    store_self(&p, a + 2 * MIB);
    assert_live(&p, 2);
    // A child inherits the limit (and is at it with its two copies).
    let child = p.fork();
    assert_eq!(child.manager().table_limit(), Some(2));
    assert!(matches!(
        child.bndstx(a + 3 * MIB, 1, 1, 2),
        Err(SimError::BoundsFault(AllocError::TableLimit {
            limit: 2,
            ..
        }))
    ));
    // No limit: as many as it likes.
    p.set_table_limit(None);
    store_self(&p, a + 3 * MIB);
    assert_live(&p, 3);
    assert_eq!(p.stats().limit_refusals, 1);
    assert_sound(&p, "after the limit");
    // A limit of zero refuses every table.
    let q = managed().0;
    q.set_table_limit(Some(0));
    q.mmap_fixed(AREA, MIB).unwrap();
    assert!(q.bndstx(AREA, 1, 1, 2).is_err());
    assert_live(&q, 0);
}

#[test]
fn scenario_threads_share_one_manager() {
    // Every thread of a process works on the same manager: a table one thread
    // installs is the one the others use; none allocates a second.
    let (p, _bd) = managed();
    let a = p.mmap_fixed(AREA, 8 * MIB).unwrap();
    let barrier = Barrier::new(4);
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let (p, barrier) = (&p, &barrier);
            s.spawn(move || {
                barrier.wait();
                for span in 0..8 {
                    let slot = a + span * MIB + t * 8;
                    p.bndstx(slot, slot, slot, slot + t).unwrap();
                }
            });
        }
    });
    assert_live(&p, 8);
    let s = p.stats();
    assert_eq!(s.tables_allocated, 8, "{s:?}");
    for t in 0..4u64 {
        for span in 0..8 {
            let slot = a + span * MIB + t * 8;
            assert_eq!(p.bndldx(slot, slot).unwrap(), (slot, slot + t));
        }
    }
    assert_sound(&p, "threads");
}

#[test]
fn scenario_trace_events_exactly_when_they_happen() {
    let (p, bd) = managed();
    let entry = |addr: u64| bd + p.geometry().directory_entry_offset(addr);
    let status = |addr: u64| entry(addr) | 2;
    let bndcfgu = bd | 1; // EN, as enable_mpx sets it
    p.record_trace(true);
    let a = AREA;

    // MAP_FIXED runs the unmap hook over the range first (Linux too).
    p.mmap_fixed(a, 4 * MIB).unwrap();
    assert_eq!(
        p.take_trace(),
        [TraceEvent::UnmapSearch {
            start: a,
            end: a + 4 * MIB
        }]
    );

    // A store into an empty span: the #BR, the new table.
    store_self(&p, a);
    let t0 = table_of(&p, a);
    assert_eq!(
        p.take_trace(),
        [
            TraceEvent::BoundsException {
                bndcfgu,
                bndstatus: status(a)
            },
            TraceEvent::NewTable {
                entry: entry(a),
                table: t0
            },
        ]
    );
    store_self(&p, a + MIB);
    let t1 = table_of(&p, a + MIB);
    assert_eq!(
        p.take_trace(),
        [
            TraceEvent::BoundsException {
                bndcfgu,
                bndstatus: status(a + MIB)
            },
            TraceEvent::NewTable {
                entry: entry(a + MIB),
                table: t1
            },
        ]
    );
    // A store into a table that exists, and a load: nothing.
    p.bndstx(a + 64, 1, 1, 2).unwrap();
    p.bndldx(a + 64, 1).unwrap();
    assert_eq!(p.take_trace(), []);

    // A partial unmap keeps the table and releases the pages behind the hole.
    p.munmap(a + MIB, 64 * KIB).unwrap();
    assert_eq!(
        p.take_trace(),
        [
            TraceEvent::UnmapSearch {
                start: a + MIB,
                end: a + MIB + 64 * KIB
            },
            TraceEvent::UnmapZap {
                start: t1,
                end: t1 + 256 * KIB
            },
        ]
    );
    // The whole span: the table goes.
    p.munmap(a, MIB).unwrap();
    assert_eq!(
        p.take_trace(),
        [
            TraceEvent::UnmapSearch {
                start: a,
                end: a + MIB
            },
            TraceEvent::TableFreed {
                entry: entry(a),
                table: t0
            },
        ]
    );

    // The directory page out of reach: the hook faults it in first.
    store_self(&p, a + 2 * MIB);
    let t2 = table_of(&p, a + 2 * MIB);
    p.take_trace();
    assert!(p.swap_out(entry(a + 2 * MIB)));
    p.munmap(a + 2 * MIB, MIB).unwrap();
    assert_eq!(
        p.take_trace(),
        [
            TraceEvent::UnmapSearch {
                start: a + 2 * MIB,
                end: a + 3 * MIB
            },
            TraceEvent::FaultResolved {
                address: entry(a + 2 * MIB)
            },
            TraceEvent::TableFreed {
                entry: entry(a + 2 * MIB),
                table: t2
            },
        ]
    );

    // A lost race: another thread's table lands first.
    let other = table_of(&p, a + MIB) | 1;
    p.race_next_table_install(other);
    let _ = p.bndstx(a + 3 * MIB, 1, 1, 2);
    assert_eq!(
        p.take_trace(),
        [
            TraceEvent::BoundsException {
                bndcfgu,
                bndstatus: status(a + 3 * MIB)
            },
            TraceEvent::RaceLost {
                entry: entry(a + 3 * MIB)
            },
        ]
    );
    p.write_u64(entry(a + 3 * MIB), 0).unwrap(); // undo the fake winner

    // A corrupt entry: refused, nothing unmapped for it.
    p.write_u64(entry(a + 3 * MIB), 0x5000).unwrap();
    assert!(p.bndstx(a + 3 * MIB, 1, 1, 2).is_err());
    assert_eq!(
        p.take_trace(),
        [
            TraceEvent::BoundsException {
                bndcfgu,
                bndstatus: status(a + 3 * MIB)
            },
            TraceEvent::CorruptEntry {
                entry: entry(a + 3 * MIB),
                value: 0x5000
            },
        ]
    );
    p.write_u64(entry(a + 3 * MIB), 0).unwrap();

    // The limit.
    p.set_table_limit(Some(1));
    assert!(p.bndstx(a + 3 * MIB, 1, 1, 2).is_err());
    assert_eq!(
        p.take_trace(),
        [
            TraceEvent::BoundsException {
                bndcfgu,
                bndstatus: status(a + 3 * MIB)
            },
            TraceEvent::LimitReached {
                entry: entry(a + 3 * MIB),
                limit: 1
            },
        ]
    );
    p.set_table_limit(None);

    // A violation report through the manager.
    let regs = RegisterSnapshot::default().with(Gpr::RAX, 0x1010);
    let bounds = BoundRegisters::new([[0x1000, !0x100f], [0; 2], [0; 2], [0; 2]]);
    let report = p
        .manager()
        .report_violation(&[0xF2, 0x0F, 0x1A, 0xC0], &regs, &bounds)
        .unwrap();
    assert_eq!(report.address, 0x1010);
    assert_eq!(
        p.take_trace(),
        [TraceEvent::BoundsRegisterException {
            address: 0x1010,
            lower: 0x1000,
            upper: 0x100f
        }]
    );
    // An undecodable one: no event.
    assert!(p
        .manager()
        .report_violation(&[0x90], &regs, &bounds)
        .is_err());
    assert_eq!(p.take_trace(), []);

    // Management off: a #BR is refused with no allocation event; unmaps run
    // no hook, so no search.
    p.disable_mpx_management().unwrap();
    let _ = p.bndstx(a + 3 * MIB, 1, 1, 2);
    let events = p.take_trace();
    assert!(
        events
            .iter()
            .all(|e| matches!(e, TraceEvent::BoundsException { .. })),
        "{events:?}"
    );
    p.munmap(a, 4 * MIB).unwrap();
    assert_eq!(p.take_trace(), []);

    // Recording off: nothing.
    p.record_trace(false);
    p.enable_mpx().unwrap();
    p.mmap_fixed(a, MIB).unwrap();
    store_self(&p, a);
    assert_eq!(p.take_trace(), []);
}

#[test]
fn scenario_trace_buffer_of_a_child_is_its_own() {
    let (p, _bd) = managed();
    p.record_trace(true);
    let child = p.fork();
    child.mmap_fixed(AREA, MIB).unwrap();
    store_self(&child, AREA);
    assert_eq!(p.take_trace(), []);
    assert_eq!(child.take_trace().len(), 3); // search, #BR, new table
}

#[test]
fn scenario_enable_refused_above_the_47_bit_window() {
    // 5-level paging without keeping managed processes below 2^47: refused.
    let wide = SimProcess::with_la57(false);
    assert_eq!(
        wide.enable_mpx(),
        Err(SimError::Enable(EnableError::AddressSpaceTooWide {
            limit: 1 << 57
        }))
    );
    assert_eq!(wide.manager().directory_base(), None);

    // A kernel that keeps them below: refused while anything is mapped above.
    let p = SimProcess::with_la57(true);
    let high = 1 << 48;
    p.mmap_fixed(high, MIB).unwrap();
    assert_eq!(
        p.enable_mpx(),
        Err(SimError::Enable(EnableError::MappingAboveWindow {
            start: high
        }))
    );
    p.munmap(high, MIB).unwrap();
    let window = 1u64 << 47;
    // Straddling the window counts from the window.
    p.mmap_fixed(window - PAGE, 2 * PAGE).unwrap();
    assert_eq!(
        p.enable_mpx(),
        Err(SimError::Enable(EnableError::MappingAboveWindow {
            start: window
        }))
    );
    p.munmap(window - PAGE, 2 * PAGE).unwrap();
    // A mapping ending exactly at the window is fine, but not one above it
    // beyond that (the check must not stop at the first mapping it meets).
    p.mmap_fixed(window - PAGE, PAGE).unwrap();
    p.mmap_fixed(high, MIB).unwrap();
    assert_eq!(
        p.enable_mpx(),
        Err(SimError::Enable(EnableError::MappingAboveWindow {
            start: high
        }))
    );
    p.munmap(high, MIB).unwrap();
    p.enable_mpx().unwrap();
    // Managed: MAP_FIXED above or across the window is ENOMEM, nothing changes;
    // below it is fine; unhinted mappings land below.
    let before = p.vmas();
    assert_eq!(p.mmap_fixed(high, MIB), Err(SimError::NoMemory));
    assert_eq!(
        p.mmap_fixed(window - PAGE, 2 * PAGE),
        Err(SimError::NoMemory)
    );
    assert_eq!(p.vmas(), before);
    p.mmap_fixed(window - MIB, MIB).unwrap();
    let anywhere = p.mmap(MIB).unwrap();
    assert!(anywhere + MIB <= window);
    store_self(&p, window - MIB);
    assert_live(&p, 1);
    // Off again: the whole address space is the process's.
    p.disable_mpx_management().unwrap();
    p.mmap_fixed(high, MIB).unwrap();
}

#[test]
fn scenario_teardown_balances_the_books_managed_or_not() {
    for managed_at_exit in [true, false] {
        let (p, _bd) = managed();
        let a = p.mmap_fixed(AREA, 4 * MIB).unwrap();
        for span in 0..4 {
            store_self(&p, a + span * MIB);
        }
        p.munmap(a, MIB).unwrap();
        if !managed_at_exit {
            p.disable_mpx_management().unwrap();
        }
        let last = p.teardown();
        assert_eq!(
            (last.tables_allocated, last.tables_freed),
            (4, 4),
            "{managed_at_exit}"
        );
        assert_ended(last, &p);
        // Usable afterwards as an empty process.
        p.mmap_fixed(AREA, MIB).unwrap();
        assert_eq!(p.vmas().len(), 1);
    }
    // 32-bit too.
    let p = SimProcess::with_mode(Mode::Compat32);
    p.enable_mpx().unwrap();
    let a = p.mmap(64 * KIB).unwrap();
    store_self(&p, a);
    let last = p.teardown();
    assert_eq!((last.tables_allocated, last.tables_freed), (1, 1));
    assert_ended(last, &p);
}

#[test]
fn scenario_trace_events_of_table_directory_and_corrupt_unmaps() {
    let (p, bd) = managed();
    let entry = |addr: u64| bd + p.geometry().directory_entry_offset(addr);
    let a = p.mmap_fixed(AREA, 3 * MIB).unwrap();
    for span in 0..3 {
        store_self(&p, a + span * MIB);
    }
    let t = |span: u64| table_of(&p, a + span * MIB);
    let (t0, t1) = (t(0), t(1));
    p.record_trace(true);

    // The user unmaps a table itself: its entry is cleared, the table freed.
    p.munmap(t0, TABLE_64).unwrap();
    assert_eq!(
        p.take_trace(),
        [
            TraceEvent::UnmapSearch {
                start: t0,
                end: t0 + TABLE_64
            },
            TraceEvent::TableFreed {
                entry: entry(a),
                table: t0
            },
        ]
    );

    // A corrupt entry met by the hook: refused, reported; the span's data goes.
    p.write_u64(entry(a + 2 * MIB), 0x10).unwrap();
    assert!(p.munmap(a + 2 * MIB, MIB).is_err());
    assert_eq!(
        p.take_trace(),
        [
            TraceEvent::UnmapSearch {
                start: a + 2 * MIB,
                end: a + 3 * MIB
            },
            TraceEvent::CorruptEntry {
                entry: entry(a + 2 * MIB),
                value: 0x10
            },
        ]
    );
    p.write_u64(entry(a + 2 * MIB), 0).unwrap();
    // (The span's own table, no longer named, goes with a later teardown.)

    // The directory page holding span 1's entry: its tables go by their tags.
    let page = entry(a + MIB) & !(PAGE - 1);
    p.munmap(page, PAGE).unwrap();
    let events = p.take_trace();
    assert_eq!(
        events[0],
        TraceEvent::UnmapSearch {
            start: page,
            end: page + PAGE
        }
    );
    assert!(
        events.contains(&TraceEvent::TableFreed {
            entry: entry(a + MIB),
            table: t1
        }),
        "{events:?}"
    );
    assert!(
        events[1..]
            .iter()
            .all(|e| matches!(e, TraceEvent::TableFreed { .. })),
        "{events:?}"
    );
    assert_live(&p, 0);
}

// ---- Regressions from the review of this work -------------------------------

const WINDOW: u64 = 1 << 47;

#[test]
fn scenario_confined_la57_places_mappings_and_tables_below_the_window() {
    // Everything below the window taken: an unhinted mmap or a table must not
    // land above it (it used to, at 2^47).
    let p = SimProcess::with_la57(true);
    let bd = p.enable_mpx().unwrap();
    let dir_end = bd + p.geometry().directory_bytes();
    p.mmap_fixed(dir_end, WINDOW - dir_end).unwrap();
    assert_eq!(p.mmap(MIB), Err(SimError::NoMemory));
    assert!(matches!(
        p.bndstx(AREA, 1, 1, 2),
        Err(SimError::BoundsFault(AllocError::NoTableMemory(_)))
    ));
    assert_live(&p, 0);
    assert_sound(&p, "full window");
}

#[test]
fn scenario_a_table_going_unnamed_while_managed_counts_as_freed() {
    // Its entry cleared by the user, or of an earlier directory: the table
    // goes with the user's munmap, and the books and the trace say so.
    let (p, bd) = managed();
    p.mmap_fixed(AREA, 2 * MIB).unwrap();
    store_self(&p, AREA);
    store_self(&p, AREA + MIB);
    let (t0, t1) = (table_of(&p, AREA), table_of(&p, AREA + MIB));
    p.record_trace(true);
    p.write_u64(entry_address(&p, bd, AREA), 0).unwrap();
    p.munmap(t0, TABLE_64).unwrap();
    assert_eq!(
        p.take_trace(),
        [
            TraceEvent::UnmapSearch {
                start: t0,
                end: t0 + TABLE_64
            },
            TraceEvent::TableFreed {
                entry: entry_address(&p, bd, AREA),
                table: t0
            },
        ]
    );
    assert_sound(&p, "orphan unmapped");
    // A second directory: the first one's table is no longer managed, but it
    // is this process's, and its unmap counts.
    p.enable_mpx().unwrap();
    p.munmap(t1, TABLE_64).unwrap();
    let s = p.stats();
    assert_eq!(
        (s.tables_allocated, s.tables_freed, s.live_tables),
        (2, 2, 0),
        "{s:?}"
    );
    // Pieces: only the last one counts.
    let (q, qbd) = managed();
    q.mmap_fixed(AREA, MIB).unwrap();
    store_self(&q, AREA);
    let t = table_of(&q, AREA);
    q.write_u64(entry_address(&q, qbd, AREA), 0).unwrap();
    q.munmap(t, PAGE).unwrap();
    assert_eq!(q.stats().tables_freed, 0);
    q.munmap(t + PAGE, TABLE_64 - PAGE).unwrap();
    assert_eq!(q.stats().tables_freed, 1);
    assert_sound(&q, "orphan pieces");
}

#[test]
fn scenario_teardown_balances_whatever_happened_while_management_was_off() {
    // A table unmapped while off, and two tables split into pieces of the
    // same entry within one table's size of each other: at the end every
    // table is gone, and counted.
    let (p, bd) = managed();
    p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, AREA);
    let a = table_of(&p, AREA);
    p.disable_mpx_management().unwrap();
    p.munmap(a + PAGE, TABLE_64 - PAGE).unwrap();
    p.write_u64(entry_address(&p, bd, AREA), 0).unwrap();
    p.enable_management().unwrap();
    store_self(&p, AREA);
    let b = table_of(&p, AREA);
    p.disable_mpx_management().unwrap();
    p.munmap(b + PAGE, TABLE_64 - PAGE).unwrap();
    p.enable_management().unwrap();
    p.mmap_fixed(AREA + MIB, MIB).unwrap();
    store_self(&p, AREA + MIB);
    let c = table_of(&p, AREA + MIB);
    p.disable_mpx_management().unwrap();
    p.munmap(c, TABLE_64).unwrap();
    let last = p.teardown();
    assert_eq!(
        (last.tables_allocated, last.tables_freed),
        (3, 3),
        "{last:?}"
    );
    assert_ended(last, &p);
}

#[test]
fn scenario_a_stale_br_is_a_lost_race_at_the_limit_too() {
    let (p, bd) = managed();
    p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, AREA);
    let entry = entry_address(&p, bd, AREA);
    p.record_trace(true);
    p.manager().allocate_table(p.user(), entry).unwrap();
    p.set_table_limit(Some(1));
    p.manager().allocate_table(p.user(), entry).unwrap();
    assert_eq!(p.stats().races_lost, 2);
    assert_eq!(
        p.take_trace(),
        [
            TraceEvent::RaceLost { entry },
            TraceEvent::RaceLost { entry }
        ]
    );
}

#[test]
fn scenario_fork_memory_is_the_childs_own() {
    let (p, _bd) = managed();
    p.mmap_fixed(AREA, MIB).unwrap();
    store_self(&p, AREA);
    p.write_u64(AREA + 8, 42).unwrap();
    let c = p.fork();
    p.bndstx(AREA, AREA, 1, 2).unwrap();
    p.write_u64(AREA + 8, 43).unwrap();
    assert_self_bounds(&c, AREA);
    assert_eq!(c.read_u64(AREA + 8).unwrap(), 42);
    c.munmap(AREA, MIB).unwrap();
    assert_eq!(p.bndldx(AREA, AREA).unwrap(), (1, 2));
    assert_live(&p, 1);
    assert_live(&c, 0);
    assert_sound(&c, "child");
    assert_sound(&p, "parent");
}

#[test]
fn scenario_check_mapping_refuses_an_empty_or_reversed_range() {
    let (p, _bd) = managed();
    let mm = p.manager().write();
    assert_eq!(
        mm.check_mapping(AREA, AREA),
        Err(mpx::manager::MapRefused::EmptyRange)
    );
    assert_eq!(
        mm.check_mapping(AREA, 0),
        Err(mpx::manager::MapRefused::EmptyRange)
    );
    assert_eq!(mm.check_mapping(AREA, AREA + PAGE), Ok(()));
}

// ---- Random lives ------------------------------------------------------------

/// One step of a random family of processes.
#[derive(Clone, Debug)]
enum LifeOp {
    /// MAP_FIXED of `pages` pages at page `page` of the arena (16 spans).
    Map { who: usize, page: u64, pages: u64 },
    /// munmap of the same.
    Unmap { who: usize, page: u64, pages: u64 },
    /// BNDSTX for a pointer kept at slot `slot` (8-byte units) of the arena.
    Store { who: usize, slot: u64 },
    /// munmap of the table of span `span`, or of its first page, if it has one.
    UnmapTable { who: usize, span: u64, whole: bool },
    /// fork (the family grows to at most four).
    Fork { who: usize },
    /// exec, then MPX enabled again in the new image.
    Exec { who: usize },
    /// The table limit.
    Limit { who: usize, max: Option<usize> },
    /// Management off, or on again.
    Toggle { who: usize },
    /// exit, and a fresh process in its place.
    Exit { who: usize },
}

const ARENA_SPANS: u64 = 16;

fn life_op() -> impl Strategy<Value = LifeOp> {
    let who = 0..4usize;
    let pages = ARENA_SPANS * MIB / PAGE;
    prop_oneof![
        3 => (who.clone(), 0..pages, 1..512u64).prop_map(|(who, page, pages)| LifeOp::Map { who, page, pages }),
        2 => (who.clone(), 0..pages, 1..1024u64).prop_map(|(who, page, pages)| LifeOp::Unmap { who, page, pages }),
        6 => (who.clone(), 0..ARENA_SPANS * MIB / 8).prop_map(|(who, slot)| LifeOp::Store { who, slot }),
        1 => (who.clone(), 0..ARENA_SPANS, any::<bool>()).prop_map(|(who, span, whole)| LifeOp::UnmapTable { who, span, whole }),
        1 => who.clone().prop_map(|who| LifeOp::Fork { who }),
        1 => who.clone().prop_map(|who| LifeOp::Exec { who }),
        1 => (who.clone(), proptest::option::of(0..6usize)).prop_map(|(who, max)| LifeOp::Limit { who, max }),
        1 => who.clone().prop_map(|who| LifeOp::Toggle { who }),
        1 => who.prop_map(|who| LifeOp::Exit { who }),
    ]
}

/// A process of the family and what it stored last in mapped memory.
struct Member {
    p: SimProcess,
    stored: BTreeMap<u64, (u64, u64)>,
}

impl Member {
    /// A managed process with its whole arena mapped.
    fn new() -> Member {
        let p = SimProcess::new();
        p.enable_mpx().unwrap();
        p.mmap_fixed(AREA, ARENA_SPANS * MIB).unwrap();
        Member {
            p,
            stored: BTreeMap::new(),
        }
    }

    fn forget(&mut self, start: u64, end: u64) {
        self.stored.retain(|&slot, _| slot < start || slot >= end);
    }

    fn mapped(&self, slot: u64) -> bool {
        self.p
            .vmas()
            .iter()
            .any(|&(s, e, table)| !table && s <= slot && slot < e)
    }
}

fn run_life(ops: &[LifeOp]) -> Result<(), TestCaseError> {
    let mut family = vec![Member::new()];
    for (step, op) in ops.iter().enumerate() {
        let pick = |who: usize, n: usize| who % n;
        let n = family.len();
        match *op {
            LifeOp::Map { who, page, pages } => {
                let m = &mut family[pick(who, n)];
                let start = AREA + page * PAGE;
                let end = (start + pages * PAGE).min(AREA + ARENA_SPANS * MIB);
                if m.p.mmap_fixed(start, end - start).is_ok() {
                    m.forget(start, end);
                }
            }
            LifeOp::Unmap { who, page, pages } => {
                let m = &mut family[pick(who, n)];
                let start = AREA + page * PAGE;
                let end = (start + pages * PAGE).min(AREA + ARENA_SPANS * MIB);
                let _ = m.p.munmap(start, end - start);
                m.forget(start, end);
            }
            LifeOp::Store { who, slot } => {
                let m = &mut family[pick(who, n)];
                let slot = AREA + slot * 8;
                if m.mapped(slot) {
                    let bounds = (slot, slot + 7 * (step as u64 + 1));
                    match m.p.bndstx(slot, slot, bounds.0, bounds.1) {
                        Ok(()) => {
                            if m.p.manager().directory_base().is_some() {
                                m.stored.insert(slot, bounds);
                            }
                        }
                        Err(SimError::BoundsFault(AllocError::TableLimit { .. }))
                        | Err(SimError::BoundsFault(AllocError::NotManaged)) => {}
                        Err(e) => prop_assert!(false, "step {step}: store: {e}"),
                    }
                }
            }
            LifeOp::UnmapTable { who, span, whole } => {
                let m = &mut family[pick(who, n)];
                let addr = AREA + span * MIB;
                if let Some(entry) = m.p.directory_entry(addr).filter(|e| e & 1 == 1) {
                    let t = entry & !7;
                    let len = if whole { TABLE_64 } else { PAGE };
                    let _ = m.p.munmap(t, len);
                    m.forget(addr, addr + MIB);
                }
            }
            LifeOp::Fork { who } => {
                if n < 4 {
                    let parent = &family[pick(who, n)];
                    let child = Member {
                        p: parent.p.fork(),
                        stored: parent.stored.clone(),
                    };
                    prop_assert_eq!(child.p.stats().live_tables, parent.p.stats().live_tables);
                    family.push(child);
                }
            }
            LifeOp::Exec { who } => {
                let m = &mut family[pick(who, n)];
                let old = m.p.exec();
                prop_assert_eq!(old.live_tables, 0);
                prop_assert_eq!(
                    old.tables_inherited + old.tables_allocated,
                    old.tables_freed
                );
                prop_assert!(m.p.vmas().is_empty());
                m.stored.clear();
                m.p.enable_mpx().unwrap();
                m.p.mmap_fixed(AREA, ARENA_SPANS * MIB).unwrap();
            }
            LifeOp::Limit { who, max } => family[pick(who, n)].p.set_table_limit(max),
            LifeOp::Toggle { who } => {
                let m = &mut family[pick(who, n)];
                if m.p.manager().directory_base().is_some() {
                    m.p.disable_mpx_management().unwrap();
                } else {
                    // Tables may have gone while off: what was stored may be lost.
                    m.p.enable_management().unwrap();
                    m.stored.clear();
                }
            }
            LifeOp::Exit { who } => {
                let i = pick(who, n);
                let last = family[i].p.teardown();
                prop_assert_eq!(last.live_tables, 0);
                prop_assert_eq!(
                    last.tables_inherited + last.tables_allocated,
                    last.tables_freed
                );
                prop_assert!(family[i].p.vmas().is_empty());
                family[i] = Member::new();
            }
        }
        // Every member: the invariant while managed, and its own bounds.
        for (i, m) in family.iter().enumerate() {
            if m.p.manager().directory_base().is_some() {
                if let Err(e) = m.p.check_invariant() {
                    prop_assert!(false, "step {step} ({op:?}), process {i}: {e}");
                }
                for (&slot, &bounds) in &m.stored {
                    prop_assert_eq!(
                        m.p.bndldx(slot, slot).unwrap(),
                        bounds,
                        "step {} process {} slot {:#x}",
                        step,
                        i,
                        slot
                    );
                }
            }
        }
    }
    for m in &family {
        let last = m.p.teardown();
        prop_assert_eq!(
            last.tables_inherited + last.tables_allocated,
            last.tables_freed
        );
        prop_assert!(m.p.vmas().is_empty());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(128)))]

    /// Families of processes living random lives (fork, exec, exit, the
    /// limit, management off and on, and the usual maps, unmaps, stores and
    /// table unmaps): after every step each managed member holds the
    /// invariant and sees exactly its own last bounds; exec and exit leave
    /// nothing and balance the books.
    #[test]
    fn random_lives_keep_every_member_sound(ops in proptest::collection::vec(life_op(), 1..60)) {
        run_life(&ops)?;
    }
}
