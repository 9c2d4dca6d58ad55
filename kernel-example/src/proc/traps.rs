//! The handlers for traps from ring 3 (installed with `arch::trap::install` at boot):
//! demand paging, `#BR`, and every other exception, which ends the process like a
//! signal would. The kernel carries on.

use super::process::{with_current, Exit, Flow, KillReason, SyscallEntry};
use super::run::kill_current;
use crate::arch::trap::{exception_name, TrapFrame};
use crate::mm::space::Access;
use crate::mpx_glue::{BrVerdict, PageFaultError};
use mpx::violation::MAX_INSTRUCTION_LEN;

/// `#PF` from ring 3: demand paging (and copy on write of the zero page) for the
/// running process; a fault no VMA allows kills it, like SIGSEGV.
pub fn page_fault(frame: &mut TrapFrame) {
    let address = x86_64::registers::control::Cr2::read_raw();
    let code = frame.error_code;
    let access = if code & (1 << 4) != 0 {
        Access::Exec
    } else if code & 2 != 0 {
        Access::Write
    } else {
        Access::Read
    };
    // A reserved-bit fault is never the process's to resolve.
    let resolved = code & (1 << 3) == 0
        && with_current(|p| match p.mm.page_fault(address, access) {
            Ok(()) => true,
            Err(PageFaultError::NotAllowed) => false,
            Err(PageFaultError::OutOfMemory) => {
                kprintln!(
                    "process killed: out of memory for the page at {:#x} ({} frames free)",
                    address,
                    crate::mm::frames::free_count()
                );
                false
            }
            Err(PageFaultError::Lock(e)) => {
                kprintln!("page fault: mm lock unavailable ({})", e);
                false
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

/// `int 0x80` from ring 3: the process's ABI serves it.
pub fn syscall_int80(frame: &mut TrapFrame) {
    syscall(frame, SyscallEntry::Int80);
}

/// The `syscall` instruction from ring 3: the process's ABI serves it.
pub fn syscall_instruction(frame: &mut TrapFrame) {
    syscall(frame, SyscallEntry::Syscall);
}

fn syscall(frame: &mut TrapFrame, entry: SyscallEntry) {
    if let Flow::End(exit) = with_current(|p| p.abi.syscall(p, frame, entry)) {
        kill_current(exit);
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
