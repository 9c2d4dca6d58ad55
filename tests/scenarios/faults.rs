//! Systematic fault injection: every directory-entry access a scenario makes
//! fails in turn.
//!
//! Each scenario sets a process up, then runs a body of operations (stores
//! that allocate, unmaps of every kind, enable and disable, statistics). A dry
//! run counts the accesses `K` the body makes through the kernel's user
//! access. Then, for every `N` in `0..K`, the body runs again on a fresh
//! process with access `N` failing once, and with every access from `N` on
//! failing, each with the `fault_in` that follows a failure succeeding (the
//! page comes back) or failing (it cannot be made present). After every
//! operation of the body the invariant must hold ([`SimProcess::check_invariant`]:
//! valid entries name whole tables made for them, no table outlives both its
//! entry and its data, the books balance). After the body the process must
//! work again with injection off, and a teardown (munmap of all user space)
//! must leave no table and balanced books.

use super::*;
use mpx::sim::{FailWhen, FaultPlan};
use std::cell::Cell;

/// One run of a scenario: the process, and the plan armed when the body starts.
struct Run<'a> {
    p: &'a SimProcess,
    /// `(N, from_on, fault_in_fails)`, N counted from the body's start.
    plan: Option<(u64, bool, bool)>,
    /// Accesses made before the body.
    armed_at: Cell<u64>,
    /// Operations of the body that returned an error.
    errors: Cell<u64>,
}

impl Run<'_> {
    /// The setup is done: arm the plan.
    fn arm(&self) {
        let at = self.p.manager_accesses();
        self.armed_at.set(at);
        self.p
            .inject(self.plan.map(|(n, from_on, fault_in_fails)| FaultPlan {
                fail: if from_on {
                    FailWhen::FromOn(at + n)
                } else {
                    FailWhen::Once(at + n)
                },
                fault_in_fails,
            }));
    }

    /// One operation of the body has returned `result`: errors are allowed
    /// (a failed access is the process's SIGSEGV), but the invariant must hold.
    #[track_caller]
    fn step<T>(&self, what: &str, result: Result<T, SimError>) {
        if result.is_err() {
            self.errors.set(self.errors.get() + 1);
        }
        if let Err(e) = self.p.check_invariant() {
            panic!(
                "plan {:?}, after {what} ({:?}): invariant broken: {e}\nVMAs {:#x?}",
                self.plan,
                result.err(),
                self.p.vmas()
            );
        }
    }
}

struct Scenario {
    name: &'static str,
    mode: Mode,
    body: fn(&Run),
}

/// Four spans of data at AREA, each with bounds stored (a table each).
fn four_spans(p: &SimProcess) -> u64 {
    let a = p.mmap_fixed(AREA, 4 * MIB).unwrap();
    for span in 0..4 {
        store_self(p, a + span * MIB);
    }
    a
}

fn store(r: &Run, slot: u64) {
    r.step("bndstx", r.p.bndstx(slot, slot, slot, slot + 99));
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "allocation",
        mode: Mode::Long64,
        body: |r| {
            let a = r.p.mmap_fixed(AREA, 4 * MIB).unwrap();
            r.arm();
            for span in 0..4 {
                store(r, a + span * MIB);
            }
            // A second store into a span that has its table now.
            store(r, a + 8);
            r.step("bndldx", r.p.bndldx(a, a));
            // The table a load's #BR makes.
            r.step("bndldx", r.p.bndldx(a + 5 * MIB, 0));
        },
    },
    Scenario {
        name: "whole-span unmap",
        mode: Mode::Long64,
        body: |r| {
            let a = four_spans(r.p);
            r.arm();
            r.step("munmap", r.p.munmap(a, 3 * MIB));
            r.step("munmap", r.p.munmap(a + 3 * MIB, MIB));
        },
    },
    Scenario {
        name: "partial unmap",
        mode: Mode::Long64,
        body: |r| {
            let a = four_spans(r.p);
            store_self(r.p, a + MIB - 8);
            r.arm();
            r.step("munmap", r.p.munmap(a + MIB / 2, MIB));
            r.step("munmap", r.p.munmap(a, MIB / 2));
            r.step("mmap_fixed", r.p.mmap_fixed(a + 2 * MIB, PAGE));
            store(r, a + 3 * MIB + 64);
        },
    },
    Scenario {
        name: "table unmap",
        mode: Mode::Long64,
        body: |r| {
            let a = four_spans(r.p);
            let t0 = table_of(r.p, a);
            let t3 = table_of(r.p, a + 3 * MIB);
            r.arm();
            r.step("munmap table", r.p.munmap(t0, TABLE_64));
            r.step("munmap table page", r.p.munmap(t0 + TABLE_64 + PAGE, PAGE));
            // The rest of the tables and the data after them, in one range.
            let d = r.p.mmap_fixed(t3 + TABLE_64, MIB);
            r.step("mmap_fixed", d);
            store(r, t3 + TABLE_64);
            r.step("munmap mixed", r.p.munmap(t0, t3 + TABLE_64 + MIB - t0));
            store(r, a);
        },
    },
    Scenario {
        name: "directory-part unmap",
        mode: Mode::Long64,
        body: |r| {
            let a = four_spans(r.p);
            let far = r.p.mmap_fixed(AREA + TIB, MIB).unwrap();
            store_self(r.p, far);
            let bd = r.p.manager().directory_base().unwrap();
            let page = entry_address(r.p, bd, a) & !(PAGE - 1);
            r.arm();
            r.step("munmap directory page", r.p.munmap(page, PAGE));
            store(r, far + 8);
            r.step("munmap data", r.p.munmap(far, MIB));
        },
    },
    Scenario {
        name: "enable and statistics",
        mode: Mode::Long64,
        body: |r| {
            let a = four_spans(r.p);
            r.arm();
            let _ = r.p.stats();
            r.step("disable", r.p.disable_mpx_management());
            r.step("munmap unmanaged", r.p.munmap(a, MIB));
            r.step("enable", r.p.enable_management());
            r.step("munmap", r.p.munmap(a + MIB, MIB));
            r.step("enable another directory", r.p.enable_mpx());
            store(r, a + 2 * MIB);
            let _ = r.p.stats();
            r.step("munmap", r.p.munmap(a + 2 * MIB, 2 * MIB));
        },
    },
    Scenario {
        name: "32-bit allocation and unmaps",
        mode: Mode::Compat32,
        body: |r| {
            let span = r.p.geometry().span_bytes();
            let a = r.p.mmap_fixed(0x4000_0000, 4 * span).unwrap();
            r.arm();
            for i in 0..4 {
                store(r, a + i * span);
            }
            r.step("munmap part", r.p.munmap(a, span / 2));
            r.step("munmap span", r.p.munmap(a + span, span));
            let t = r.p.directory_entry(a + 2 * span).unwrap_or(0) & !3;
            if t != 0 {
                r.step("munmap table", r.p.munmap(t, r.p.geometry().table_bytes()));
            }
            r.step("munmap rest", r.p.munmap(a, 4 * span));
        },
    },
];

/// Runs `scenario` under `plan`; returns the accesses its body made and how
/// many of its operations failed.
fn run(scenario: &Scenario, plan: Option<(u64, bool, bool)>) -> (u64, u64) {
    let p = SimProcess::with_mode(scenario.mode);
    p.enable_mpx().expect("enable MPX");
    let r = Run {
        p: &p,
        plan,
        armed_at: Cell::new(0),
        errors: Cell::new(0),
    };
    (scenario.body)(&r);
    let accesses = p.manager_accesses() - r.armed_at.get();
    p.inject(None);
    let context = || format!("{} under {plan:?}", scenario.name);
    if let Err(e) = p.check_invariant() {
        panic!("{}: invariant broken after the body: {e}", context());
    }
    // The process works again: a store and a load in a fresh span.
    let fresh = p.mmap(p.geometry().span_bytes()).unwrap();
    p.bndstx(fresh, fresh, fresh, fresh + 99)
        .unwrap_or_else(|e| panic!("{}: store after the faults: {e}", context()));
    assert_eq!(
        p.bndldx(fresh, fresh).unwrap(),
        (fresh, fresh + 99),
        "{}",
        context()
    );
    // Teardown: nothing left, books balanced.
    let top = match scenario.mode {
        Mode::Long64 => 1 << 47,
        Mode::Compat32 => 1 << 32,
    };
    p.munmap(0, top)
        .unwrap_or_else(|e| panic!("{}: teardown: {e}", context()));
    assert!(p.vmas().is_empty(), "{}: {:#x?}", context(), p.vmas());
    let s = p.stats();
    assert_eq!(s.live_tables, 0, "{}", context());
    assert_eq!(s.tables_allocated, s.tables_freed, "{}: {s:?}", context());
    assert_eq!(s.would_deadlock, 0, "{}", context());
    (accesses, r.errors.get())
}

#[test]
fn scenario_every_access_fails_in_turn_and_the_invariant_holds() {
    let mut schedules = 0;
    let mut failed_operations = 0;
    for scenario in SCENARIOS {
        let (k, errors) = run(scenario, None);
        assert_eq!(errors, 0, "{}: errors without injection", scenario.name);
        assert!(k > 0, "{}: the body makes no entry access", scenario.name);
        for n in 0..k {
            for from_on in [false, true] {
                for fault_in_fails in [false, true] {
                    let (_, errors) = run(scenario, Some((n, from_on, fault_in_fails)));
                    failed_operations += errors;
                    schedules += 1;
                }
            }
        }
        println!("{}: {k} accesses, {} schedules", scenario.name, 4 * k);
    }
    println!("{schedules} fault schedules, {failed_operations} operations failed under them");
    assert!(
        failed_operations > 0,
        "the injection never made anything fail"
    );
}
