//! The scenarios: ring-3 programs plus the kernel's own checks, one `MPX-RESULT` line each.
//!
//! Each ring-3 program checks its own expectations and exits with the number of the
//! first that failed. The kernel checks its side for every process: the exit (code 0,
//! or killed for the expected reason); its table bookkeeping against the manager's
//! after every `munmap` (all but `churn`) and at exit (one bounds-table VMA per live
//! table, table frames = resident table bytes); tables allocated, freed and live and table frames
//! at exit against what the scenario expects; and, after teardown, that every frame
//! and every heap byte the process took came back (the kernel is intact).

use crate::abi::native::layout::*;
use crate::abi::native::programs::{self, Program};
use crate::abi::native::{REPORT_MMAPS, REPORT_MUNMAPS, REPORT_STORES};
use crate::proc::process::{Exit, KillReason};
use crate::proc::run::{self, Baseline, Outcome, RunOptions};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering};

static CHURN_SEED: AtomicU64 = AtomicU64::new(CHURN_DEFAULT_SEED);

/// Sets the seed of `churn`'s random sequence (0 keeps the default).
pub fn set_churn_seed(seed: u64) {
    if seed != 0 {
        CHURN_SEED.store(seed, Ordering::Relaxed);
    }
}

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

fn text(args: core::fmt::Arguments<'_>) -> String {
    let mut m = String::new();
    let _ = m.write_fmt(args);
    m
}

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
    /// Tables live when the processes ended (summed).
    pub live_tables_end: u64,
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

    /// Runs `program`, prints what happened, checks the expectations every process
    /// has (its exit, no frame or heap byte leaked, the kernel's table bookkeeping
    /// agreeing with the manager's, no deadlock avoided) and folds its counts in.
    fn run(&mut self, program: Program, expected: Exit) -> Outcome {
        self.run_with(program, 0, expected)
    }

    /// [`ScenarioResult::run`], handing `arg` to the program.
    fn run_with(&mut self, program: Program, arg: u64, expected: Exit) -> Outcome {
        if arg == 0 {
            kprintln!("[{}] running {:?}", self.name, program);
        } else {
            kprintln!("[{}] running {:?}({:#x})", self.name, program, arg);
        }
        // Every munmap is audited, except in churn: its thousands of munmaps are
        // checked as a whole at exit.
        let options = RunOptions {
            audit_unmaps: program != Program::Churn,
        };
        let baseline = Baseline::now();
        let outcome = run::run(programs::start(program, arg), baseline, options);
        let s = &outcome.stats;
        kprintln!(
            "[{}] {:?} ended: {:x?}; tables allocated {} freed {} live {}; table frames end {} peak {}; frames leaked {}",
            self.name, program, outcome.exit, s.tables_allocated, s.tables_freed, s.live_tables,
            outcome.table_frames_end, outcome.table_frames_peak, outcome.frames_leaked
        );
        self.expect(outcome.exit == expected, || {
            text(format_args!(
                "{:?}: expected {:?}, got {:?}",
                program, expected, outcome.exit
            ))
        });
        self.expect(outcome.frames_leaked == 0, || {
            text(format_args!(
                "{:?}: {} frames not returned",
                program, outcome.frames_leaked
            ))
        });
        self.expect(outcome.heap_leaked == 0, || {
            text(format_args!(
                "{:?}: {} heap bytes not returned",
                program, outcome.heap_leaked
            ))
        });
        self.expect(outcome.invariant_failures == 0, || {
            text(format_args!(
                "{:?}: kernel table bookkeeping disagreed with the manager {} times",
                program, outcome.invariant_failures
            ))
        });
        self.expect(s.would_deadlock == 0, || {
            String::from("fault path found its own write lock")
        });
        self.tables_allocated += s.tables_allocated;
        self.live_tables_end += s.live_tables;
        self.tables_freed += s.tables_freed;
        self.table_frames_peak = self.table_frames_peak.max(outcome.table_frames_peak);
        self.table_frames_end += outcome.table_frames_end;
        outcome
    }

    /// Checks the totals over the scenario's processes: tables allocated and freed,
    /// and at the processes' ends tables live and frames behind tables.
    fn expect_counts(&mut self, allocated: u64, freed: u64, live_end: u64, frames_end: u64) {
        let got = (
            self.tables_allocated,
            self.tables_freed,
            self.live_tables_end,
            self.table_frames_end,
        );
        let want = (allocated, freed, live_end, frames_end);
        self.expect(got == want, || {
            text(format_args!(
                "tables allocated/freed/live at end, table frames at end: expected {:?}, got {:?}",
                want, got
            ))
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

/// The kernel's side of `churn`: the program's operation counts against the system
/// calls the kernel served, at least [`CHURN_MIN_OPS`] operations, and no table (nor
/// table frame) left once everything is unmapped.
fn churn_checks(r: &mut ScenarioResult, outcome: &Outcome) {
    let [mmaps, munmaps, stores] = [REPORT_MMAPS, REPORT_MUNMAPS, REPORT_STORES]
        .map(|key| outcome.reports[key as usize].unwrap_or(0));
    let operations = mmaps + munmaps + stores;
    kprintln!(
        "MPX-CHURN operations={} mmap={} munmap={} stores={} kernel_mmap_calls={} kernel_munmap_calls={}",
        operations, mmaps, munmaps, stores, outcome.mmap_calls, outcome.munmap_calls
    );
    r.expect(
        operations == CHURN_OPS && operations >= CHURN_MIN_OPS,
        || {
            text(format_args!(
            "expected {CHURN_OPS} (at least {CHURN_MIN_OPS}) operations reported, got {operations}"
        ))
        },
    );
    // Besides the counted operations the program maps its directory once and
    // unmaps everything once at the end.
    let calls = (outcome.mmap_calls, outcome.munmap_calls);
    r.expect(calls == (mmaps + 1, munmaps + 1), || {
        text(format_args!(
            "the kernel served {calls:?} mmap/munmap calls, the program counted {:?} (+1 each)",
            (mmaps, munmaps)
        ))
    });
    let (a, f) = (r.tables_allocated, r.tables_freed);
    r.expect(a > 0 && a == f && a <= stores, || {
        text(format_args!(
            "tables allocated {a}, freed {f} (from {stores} stores)"
        ))
    });
    r.expect(
        r.live_tables_end == 0 && r.table_frames_end == 0 && r.table_frames_peak > 0,
        || String::from("table frames must peak above 0; no table or table frame at the end"),
    );
}

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
            r.expect_counts(ALLOC_SPANS, 0, ALLOC_SPANS, ALLOC_SPANS);
        }
        "free" => {
            r.run(Program::Free, OK);
            r.expect_counts(4, 4, 0, 0);
        }
        "partial" => {
            r.run(Program::Partial, OK);
            r.expect_counts(1, 1, 0, 0);
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
            let kernel = Exit::Killed(KillReason::SegmentationFault(KERNEL_ADDRESS));
            r.run(Program::KernelRead, kernel);
            r.run(Program::Hello, OK);
            r.expect_counts(0, 0, 0, 0);
        }
        "load-alloc" => {
            r.run(Program::LoadAlloc, OK);
            r.expect_counts(1, 1, 0, 0);
        }
        "table-unmap" => {
            r.run(Program::TableUnmap, OK);
            r.expect_counts(2, 2, 0, 0);
        }
        "corrupt" => {
            r.run(Program::CorruptStore, Exit::Killed(KillReason::BoundsError));
            // In both, the table whose entry was overwritten stays mapped (and
            // counted live) until teardown, which frees it: no frame leaks.
            for program in [Program::CorruptUnmap, Program::CorruptPointer] {
                let outcome = r.run(program, OK);
                let frames = outcome.table_frames_end;
                r.expect(frames == 1, || {
                    text(format_args!(
                        "{program:?}: expected 1 table frame at exit, got {frames}"
                    ))
                });
            }
            // The kernel is intact: a fresh process runs.
            r.run(Program::Hello, OK);
            r.expect_counts(2, 0, 2, 2);
        }
        "disable" => {
            r.run(Program::Disable, Exit::Killed(KillReason::BoundsError));
            r.expect_counts(1, 0, 1, 1);
        }
        "churn" => {
            let seed = CHURN_SEED.load(Ordering::Relaxed);
            let outcome = r.run_with(Program::Churn, seed, OK);
            churn_checks(&mut r, &outcome);
        }
        _ => unreachable!("listed in ALL"),
    }
    r.print();
    Some(r)
}
