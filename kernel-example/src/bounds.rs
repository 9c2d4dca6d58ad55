//! The `#BR` handler: BNDSTATUS decoded once, then table allocation (code 2) or a
//! violation report (code 1) through the crate, and termination for everything else.
//!
//! The handler runs on its own IST stack with no lock held. It reads BNDSTATUS and the
//! bound registers with `XSAVE` (components 4 and 3) into the task's area, asks the
//! crate what the #BR means ([`BndStatus::cause`]), and then either lets
//! [`mpx::manager::MpxManager::allocate_table`] install a table (it takes the mm lock
//! itself; the instruction then retries) or copies the instruction at RIP and builds
//! the [`mpx::violation::ViolationReport`] to kill the process with.

use crate::cpu::{XFEATURE_BNDCSR, XFEATURE_BNDREGS};
use crate::interrupts::TrapFrame;
use crate::process::{self, Exit, KillReason};
use mpx::arch::{BndStatus, BrCause};
use mpx::violation::{build_report, BoundRegisters, Gpr, RegisterFile, MAX_INSTRUCTION_LEN};
impl RegisterFile for TrapFrame {
    fn gpr(&self, reg: Gpr) -> u64 {
        [
            self.rax, self.rcx, self.rdx, self.rbx, self.rsp, self.rbp, self.rsi, self.rdi,
            self.r8, self.r9, self.r10, self.r11, self.r12, self.r13, self.r14, self.r15,
        ][reg.index()]
    }

    fn rip(&self) -> u64 {
        self.rip
    }
}

/// Handles vector 5.
pub fn handle_bound_range(frame: &mut TrapFrame) {
    if !frame.is_from_user() {
        // The boot probes' #BRs never get here (the dispatcher's probe hook takes them).
        crate::interrupts::kernel_fault(frame, "kernel #BR");
    }
    let process = process::current();
    let (status, bounds) = {
        let mut xsave = process.xsave.lock();
        xsave.save(XFEATURE_BNDREGS | XFEATURE_BNDCSR);
        let mut regs = [[0u64; 2]; 4];
        for (n, reg) in regs.iter_mut().enumerate() {
            let (lower, upper) = xsave.bound_register(n);
            *reg = [lower, upper];
        }
        (
            BndStatus::from_raw(xsave.bndstatus()),
            BoundRegisters::new(regs),
        )
    };
    let reason = match status.cause() {
        BrCause::MissingTable { entry } => {
            match process.mm.allocate_table(&process.user(), entry) {
                Ok(_) => return, // the instruction retries and finds the table
                Err(error) => {
                    kprintln!(
                        "process killed: #BR not handled: {} (BNDSTATUS {:#x}, rip {:#x})",
                        error,
                        status.raw(),
                        frame.rip
                    );
                    KillReason::BoundsError
                }
            }
        }
        BrCause::Violation => {
            // Only a violation needs the instruction: a table allocation does
            // not pay for the copy.
            let mut insn = [0u8; MAX_INSTRUCTION_LEN];
            let len = copy_instruction(frame.rip, &mut insn);
            let mode = process.mm.geometry().mode();
            match build_report(mode, &insn[..len], frame, &bounds) {
                Ok(report) => {
                    kprintln!("process killed: {} at rip {:#x}", report, frame.rip);
                    KillReason::BoundsViolation {
                        address: Some(report.address),
                        lower: Some(report.lower),
                        upper: Some(report.upper),
                    }
                }
                Err(error) => {
                    // A plain SIGSEGV, without bounds.
                    kprintln!(
                        "process killed: bounds violation at an undecodable instruction: {} ({} of {} bytes readable at rip {:#x}); BNDSTATUS {:#x}, bounds {:x?}",
                        error,
                        len,
                        MAX_INSTRUCTION_LEN,
                        frame.rip,
                        status.raw(),
                        bounds.raw()
                    );
                    KillReason::BoundsViolation {
                        address: None,
                        lower: None,
                        upper: None,
                    }
                }
            }
        }
        cause @ (BrCause::NotMpx | BrCause::Reserved) => {
            kprintln!(
                "process killed: #BR not handled: {} (BNDSTATUS {:#x}, rip {:#x})",
                cause,
                status.raw(),
                frame.rip
            );
            KillReason::BoundsError
        }
    };
    process::kill_current(Exit::Killed(reason))
}

/// Copies as much of the instruction at `rip` as is readable into `insn` (the copy may
/// stop at a page boundary) and returns the number of bytes copied.
fn copy_instruction(rip: u64, insn: &mut [u8; MAX_INSTRUCTION_LEN]) -> usize {
    let root = process::current().mm.lock().read().root();
    let mut len = 0;
    while len < insn.len() {
        let Some(address) = rip.checked_add(len as u64) else {
            break;
        };
        if crate::paging::copy_from_user(root, address, &mut insn[len..len + 1]).is_err() {
            break;
        }
        len += 1;
    }
    len
}
