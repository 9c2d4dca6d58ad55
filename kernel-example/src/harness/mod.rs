//! The test harness: runs the scenarios the command line names (or the Linux
//! program it names, [`elf`]), checks that the kernel got back every frame and heap
//! byte, and gives the verdict.

pub mod elf;
pub mod scenarios;

use crate::arch::exit::Verdict;
use crate::mm::boot_info::BootModule;
use crate::mm::{frames, heap};
use alloc::vec::Vec;

/// Runs what `command_line` selects, the Linux program of `elf=/name` (from the
/// boot `modules`) or the scenarios of `scenario=a,b` (default all; `churn_seed=N`),
/// and returns the verdict.
pub fn run(command_line: &str, modules: &[BootModule]) -> Verdict {
    if let Some(path) = elf::requested(command_line) {
        return elf::run(command_line, path, modules);
    }
    let option = |name: &str| {
        command_line
            .split_whitespace()
            .find_map(|arg| arg.strip_prefix(name)?.strip_prefix('='))
    };
    if let Some(seed) = option("churn_seed") {
        match seed.parse::<u64>() {
            Ok(seed) => scenarios::set_churn_seed(seed),
            Err(_) => kprintln!("ignoring churn_seed={:?}: not a decimal number", seed),
        }
    }
    let selected = option("scenario").unwrap_or("all");
    let names: Vec<&str> = if selected == "all" {
        scenarios::ALL.to_vec()
    } else {
        selected.split(',').collect()
    };
    let (heap_before, frames_before) = (heap::used(), frames::free_count());
    let mut all_passed = true;
    for name in &names {
        match scenarios::run(name) {
            Some(result) => all_passed &= result.passed(),
            None => {
                kprintln!("unknown scenario {:?}; known: {:?}", name, scenarios::ALL);
                all_passed = false;
            }
        }
    }
    // Whatever the scenarios did, the kernel must be back where it started.
    let (heap_after, frames_after) = (heap::used(), frames::free_count());
    kprintln!(
        "kernel after the scenarios: heap in use {} bytes (before: {}), frames free {} (before: {})",
        heap_after,
        heap_before,
        frames_after,
        frames_before
    );
    if (heap_after, frames_after) != (heap_before, frames_before) {
        kprintln!("KERNEL CHECK FAILED: heap or frames not back to where they were");
        all_passed = false;
    }
    if all_passed {
        kprintln!("MPX-VERDICT pass");
        Verdict::Pass
    } else {
        kprintln!("MPX-VERDICT fail");
        Verdict::Fail
    }
}
