//! The scenarios: ring-3 programs plus the kernel's own checks, one `MPX-RESULT` line each.
//!
//! A scenario passes when its programs end as expected (exit 0, or killed for the
//! expected reason), the manager's counters match, the frames behind bounds tables are
//! as expected, and every frame the processes took came back after teardown.

use crate::abi::layout::*;
use crate::process::{self, Exit, KillReason, Outcome};
use crate::user::Program;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// Names accepted by `scenario=`, in the order of a full run.
pub const ALL: [&str; 9] = [
    "alloc",
    "free",
    "partial",
    "violation",
    "load-alloc",
    "table-unmap",
    "corrupt",
    "disable",
    "churn",
];

/// The result of one scenario.
#[derive(Debug, Default)]
pub struct ScenarioResult {
    /// Scenario name.
    pub name: &'static str,
    /// Failed expectations (empty: pass).
    pub failures: Vec<String>,
    /// Tables installed (summed over the scenario's processes).
    pub tables_allocated: u64,
    /// Tables freed.
    pub tables_freed: u64,
    /// Peak frames behind bounds tables (largest over the processes).
    pub table_frames_peak: u64,
    /// Frames behind bounds tables when the processes ended (summed).
    pub table_frames_end: u64,
}

impl ScenarioResult {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    fn expect(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            let what = what();
            kprintln!("  FAILED: {}", what);
            self.failures.push(what);
        }
    }

    /// Runs `program`, prints what happened, checks the universal expectations (no
    /// leaked frame, no deadlock avoided) and folds its counts in.
    fn run(&mut self, program: Program, expected: Exit) -> Outcome {
        kprintln!("[{}] running {:?}", self.name, program);
        let outcome = process::run(program.entry(), 0);
        let s = &outcome.stats;
        kprintln!(
            "[{}] {:?} ended: {:x?}; tables allocated {} freed {} live {}; table frames end {} peak {}; frames leaked {}",
            self.name, program, outcome.exit, s.tables_allocated, s.tables_freed, s.live_tables,
            outcome.table_frames_end, outcome.table_frames_peak, outcome.frames_leaked
        );
        self.expect(outcome.exit == expected, || {
            let mut m = String::new();
            let _ = write!(
                m,
                "{:?}: expected {:?}, got {:?}",
                program, expected, outcome.exit
            );
            m
        });
        self.expect(outcome.frames_leaked == 0, || {
            let mut m = String::new();
            let _ = write!(
                m,
                "{:?}: {} frames not returned",
                program, outcome.frames_leaked
            );
            m
        });
        self.expect(s.would_deadlock == 0, || {
            String::from("fault path found its own write lock")
        });
        self.tables_allocated += s.tables_allocated;
        self.tables_freed += s.tables_freed;
        self.table_frames_peak = self.table_frames_peak.max(outcome.table_frames_peak);
        self.table_frames_end += outcome.table_frames_end;
        outcome
    }

    fn expect_counts(&mut self, allocated: u64, freed: u64, frames_end: u64) {
        let (a, f, e) = (
            self.tables_allocated,
            self.tables_freed,
            self.table_frames_end,
        );
        self.expect((a, f, e) == (allocated, freed, frames_end), || {
            let mut m = String::new();
            let _ = write!(
                m,
                "expected tables allocated/freed/frames at end {}/{}/{}, got {}/{}/{}",
                allocated, freed, frames_end, a, f, e
            );
            m
        });
    }

    /// Prints the machine-readable line.
    pub fn print(&self) {
        kprintln!(
            "MPX-RESULT scenario={} status={} tables_allocated={} tables_freed={} table_frames_peak={} table_frames_end={}",
            self.name,
            if self.passed() { "pass" } else { "fail" },
            self.tables_allocated,
            self.tables_freed,
            self.table_frames_peak,
            self.table_frames_end
        );
    }
}

const OK: Exit = Exit::Code(0);

/// Runs the scenario `name`; `None` if there is no such scenario.
pub fn run(name: &str) -> Option<ScenarioResult> {
    let name = *ALL.iter().find(|&&n| n == name)?;
    let mut r = ScenarioResult {
        name,
        ..ScenarioResult::default()
    };
    kprintln!("== scenario {} ==", name);
    match name {
        "alloc" => {
            r.run(Program::Alloc, OK);
            r.expect_counts(ALLOC_SPANS, 0, ALLOC_SPANS);
        }
        "free" => {
            r.run(Program::Free, OK);
            r.expect_counts(4, 4, 0);
        }
        "partial" => {
            r.run(Program::Partial, OK);
            r.expect_counts(1, 1, 0);
            let peak = r.table_frames_peak;
            r.expect(peak == 2, || {
                alloc::format!("expected a peak of 2 table frames, got {peak}")
            });
        }
        "violation" => {
            let expected = Exit::Killed(KillReason::BoundsViolation {
                address: Some(DATA_BASE + VIOLATION_OFFSET),
                lower: Some(DATA_BASE),
                upper: Some(DATA_BASE + VIOLATION_LEN - 1),
            });
            r.run(Program::Violation, expected);
            let segv = Exit::Killed(KillReason::SegmentationFault(SEGV_ADDRESS));
            r.run(Program::Segv, segv);
            r.run(Program::Hello, OK);
            r.expect_counts(0, 0, 0);
        }
        "load-alloc" => {
            r.run(Program::LoadAlloc, OK);
            r.expect_counts(1, 1, 0);
        }
        "table-unmap" => {
            r.run(Program::TableUnmap, OK);
            r.expect_counts(2, 2, 0);
        }
        "corrupt" => {
            r.run(Program::CorruptStore, Exit::Killed(KillReason::BoundsError));
            let outcome = r.run(Program::CorruptUnmap, OK);
            // The table whose entry was overwritten stays mapped until teardown.
            let live = outcome.table_frames_end;
            r.expect(live == 1, || {
                alloc::format!("expected 1 table frame at exit, got {live}")
            });
            r.run(Program::Hello, OK);
            r.expect_counts(1, 0, 1);
        }
        "disable" => {
            r.run(Program::Disable, Exit::Killed(KillReason::BoundsError));
            r.expect_counts(1, 0, 1);
        }
        "churn" => {
            r.run(Program::Churn, OK);
            let (a, f) = (r.tables_allocated, r.tables_freed);
            r.expect(a > 0 && a == f, || {
                alloc::format!("tables allocated {a}, freed {f}")
            });
            r.expect(r.table_frames_end == 0 && r.table_frames_peak > 0, || {
                String::from("table frames must peak above 0 and end at 0")
            });
        }
        _ => unreachable!("listed in ALL"),
    }
    r.print();
    Some(r)
}
