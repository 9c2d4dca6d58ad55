//! The handlers for traps from ring 3 (installed with `arch::trap::install` at boot):
//! demand paging, `#BR`, and every other exception, which ends the process like a
//! signal would. The kernel carries on.

use super::process::{with_current, Exit, KillReason};
use super::run::kill_current;
use crate::arch::trap::{exception_name, TrapFrame};
use crate::mpx_glue::{BrVerdict, PageFaultError};
use mpx::violation::MAX_INSTRUCTION_LEN;

/// `#PF` from ring 3: demand paging for the running process; a fault no VMA allows
/// (or a protection fault) kills it, like SIGSEGV.
pub fn page_fault(frame: &mut TrapFrame) {
    let address = x86_64::registers::control::Cr2::read_raw();
    let write = frame.error_code & 2 != 0;
    let protection = frame.error_code & 1 != 0;
    let resolved = with_current(|p| {
        if protection {
            return false;
        }
        match p.mm.page_fault(address, write) {
            Ok(()) => true,
            Err(PageFaultError::NotAllowed) => false,
            Err(PageFaultError::Lock(e)) => {
                kprintln!("page fault: mm lock unavailable ({})", e);
                false
            }
        }
    });
    if !resolved {
        kprintln!(
            "process killed: segmentation fault at {:#x} (rip {:#x}, error {:#x})",
            address,
            frame.rip,
            frame.error_code
        );
        kill_current(Exit::Killed(KillReason::SegmentationFault(address)));
    }
}

/// `#BR` from ring 3: the crate installs a table (the instruction retries) or the
/// process is killed with what the verdict says.
pub fn bound_range(frame: &mut TrapFrame) {
    let verdict = with_current(|p| p.mm.bound_range(&p.user, &mut p.xsave.lock(), frame));
    let reason = match verdict {
        BrVerdict::Resume => return,
        BrVerdict::Violation(report) => {
            kprintln!("process killed: {} at rip {:#x}", report, frame.rip);
            KillReason::BoundsViolation {
                address: Some(report.address),
                lower: Some(report.lower),
                upper: Some(report.upper),
            }
        }
        BrVerdict::Undecodable { error, len } => {
            // A plain SIGSEGV, without bounds.
            kprintln!(
                "process killed: bounds violation at an undecodable instruction: {} ({} of {} bytes readable at rip {:#x})",
                error,
                len,
                MAX_INSTRUCTION_LEN,
                frame.rip
            );
            KillReason::BoundsViolation {
                address: None,
                lower: None,
                upper: None,
            }
        }
        BrVerdict::Refused(why) => {
            kprintln!(
                "process killed: #BR not handled: {} (rip {:#x})",
                why,
                frame.rip
            );
            KillReason::BoundsError
        }
    };
    kill_current(Exit::Killed(reason))
}

/// Any other exception from ring 3: the process is killed.
pub fn user_exception(frame: &mut TrapFrame) {
    kprintln!(
        "user exception {} (error {:#x}) at rip {:#x}",
        exception_name(frame.vector),
        frame.error_code,
        frame.rip
    );
    kill_current(Exit::Killed(KillReason::Exception(frame.vector)));
}
