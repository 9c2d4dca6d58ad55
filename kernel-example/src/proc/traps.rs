//! The handlers for traps from ring 3 (installed with `arch::trap::install` at boot):
//! demand paging, `#BR`, and every other exception, which ends the process like a
//! signal would. The kernel carries on.

use super::process::{with_current, BoundsProblem, Flow, SyscallEntry, UserFault};
use super::run::kill_current;
use crate::arch::trap::{exception_name, TrapFrame};
use crate::arch::xsave;
use crate::mm::space::Access;
use crate::mpx_glue::{BrVerdict, PageFaultError};

/// First on every trap from ring 3: the process's whole extended state (x87, SSE, the
/// bound registers, BNDCFGU, BNDSTATUS) into its XSAVE area, where the handlers read
/// and change it; then a clean x87/SSE state for the kernel's own code.
pub fn user_entry(_frame: &mut TrapFrame) {
    with_current(|p| p.xsave.lock().save(xsave::ALL));
    xsave::reset_kernel_fpu();
}

/// Last before the return to ring 3: the process's extended state back from its area.
pub fn user_exit(_frame: &mut TrapFrame) {
    with_current(|p| p.xsave.lock().restore(xsave::ALL));
}

/// `#PF` from ring 3: demand paging (and copy on write of the zero page) for the
/// running process; a fault the kernel cannot resolve goes to the process's ABI.
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
    let result = if code & (1 << 3) != 0 {
        Err(PageFaultError::NotAllowed)
    } else {
        with_current(|p| p.mm.page_fault(address, access))
    };
    let fault = match result {
        Ok(()) => return,
        Err(PageFaultError::OutOfMemory) => UserFault::OutOfMemory { address },
        Err(PageFaultError::NotAllowed) => UserFault::Page {
            address,
            error_code: code,
            mapped: with_current(|p| p.mm.read().vmas().find(address).is_some()),
        },
        Err(PageFaultError::Lock(e)) => {
            kprintln!("page fault: mm lock unavailable ({})", e);
            UserFault::Page {
                address,
                error_code: code,
                mapped: false,
            }
        }
    };
    to_abi(frame, fault);
}

/// Hands `fault` to the running process's ABI; ends the process if it says so.
fn to_abi(frame: &mut TrapFrame, fault: UserFault) {
    if let Flow::End(exit) = with_current(|p| p.abi.fault(p, frame, fault)) {
        kill_current(exit);
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

/// `#BR` from ring 3: the crate installs a table (the instruction retries), or the
/// violation or refusal goes to the process's ABI (the kernel notes why).
pub fn bound_range(frame: &mut TrapFrame) {
    let verdict = with_current(|p| p.mm.bound_range(&p.user, &mut p.xsave.lock(), frame));
    let fault = match verdict {
        BrVerdict::Resume => return,
        BrVerdict::Violation(report) => UserFault::Bounds(report),
        BrVerdict::Undecodable { error, len } => {
            UserFault::BoundsOther(BoundsProblem::Undecodable { error, len })
        }
        BrVerdict::Refused(why) => UserFault::BoundsOther(BoundsProblem::Refused(why)),
    };
    to_abi(frame, fault);
}

/// Any other exception from ring 3: the process's ABI decides. A debug exception
/// (#DB, which has no error code) carries DR6 instead, which is then reset.
pub fn user_exception(frame: &mut TrapFrame) {
    let error_code = if frame.vector == 1 {
        let dr6: u64;
        // SAFETY: reading and resetting DR6 in ring 0 has no other effect; the kernel
        // uses no hardware breakpoints.
        unsafe {
            core::arch::asm!("mov {}, dr6", out(reg) dr6, options(nomem, nostack));
            core::arch::asm!("mov dr6, {}", in(reg) 0xffff_0ff0u64, options(nomem, nostack));
        }
        dr6
    } else {
        frame.error_code
    };
    let fault = UserFault::Exception {
        vector: frame.vector,
        error_code,
    };
    to_abi(frame, fault);
}

/// A one-line description of `fault` at `rip`, for the kernel's log.
pub fn describe(fault: UserFault, rip: u64) -> alloc::string::String {
    match fault {
        UserFault::Page {
            address,
            error_code,
            ..
        } => alloc::format!(
            "segmentation fault at {address:#x} (rip {rip:#x}, error {error_code:#x})"
        ),
        UserFault::OutOfMemory { address } => {
            alloc::format!("out of memory for the page at {address:#x} (rip {rip:#x})")
        }
        UserFault::Bounds(report) => alloc::format!("{report} at rip {rip:#x}"),
        UserFault::BoundsOther(problem) => alloc::format!("{problem} (rip {rip:#x})"),
        UserFault::Exception { vector, error_code } => alloc::format!(
            "user exception {} (error {error_code:#x}) at rip {rip:#x}",
            exception_name(vector)
        ),
    }
}
