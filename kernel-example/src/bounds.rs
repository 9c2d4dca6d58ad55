//! The `#BR` handler: table allocation (code 2) through the crate's manager, violation
//! reports (code 1), and termination for everything else.
//!
//! The handler runs on its own IST stack with no lock held. It reads BNDSTATUS and the
//! bound registers with `XSAVE` (components 4 and 3) into the task's area, then hands
//! BNDSTATUS to [`mpx::manager::MpxManager::handle_bounds_fault`], which takes the mm
//! lock itself.

use crate::cpu::{XFEATURE_BNDCSR, XFEATURE_BNDREGS};
use crate::interrupts::TrapFrame;
use crate::process::{self, Exit, KillReason};
use mpx::arch::{BndStatus, Mode};
use mpx::manager::{BoundsFault, BoundsFaultError};
use mpx::violation::{self, BoundRegisters, Gpr, RegisterFile};

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
        if crate::quirk::on_kernel_bound_fault() {
            return;
        }
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
        (xsave.bndstatus(), BoundRegisters::new(regs))
    };
    let user = process.user();
    match process
        .mpx
        .handle_bounds_fault(&process.mm, &user, BndStatus::from_raw(status))
    {
        Ok(BoundsFault::TableInstalled { .. } | BoundsFault::AlreadyInstalled { .. }) => {}
        Ok(BoundsFault::Violation) => violation(frame, status, &bounds),
        Err(error) => {
            kprintln!(
                "process killed: #BR not handled: {} (BNDSTATUS {:#x}, rip {:#x})",
                describe(&error),
                status,
                frame.rip
            );
            process::kill_current(Exit::Killed(KillReason::BoundsError));
        }
    }
}

fn describe(error: &BoundsFaultError) -> &'static str {
    match error {
        BoundsFaultError::NotMpx => "not raised by MPX",
        BoundsFaultError::ReservedCode => "reserved BNDSTATUS code",
        BoundsFaultError::NotManaged => "bounds tables not managed for this process",
        BoundsFaultError::EntryOutsideDirectory { .. } => "entry outside the bounds directory",
        BoundsFaultError::CorruptEntry { .. } => "corrupt bounds-directory entry",
        BoundsFaultError::DirectoryUnreachable { .. } => "bounds directory not mapped",
        BoundsFaultError::NoTableMemory(_) => "no memory for a bounds table",
    }
}

fn violation(frame: &TrapFrame, status: u64, bounds: &BoundRegisters) -> ! {
    let root = process::current().mm.read().root();
    let mut insn = [0u8; violation::MAX_INSTRUCTION_LEN];
    // Copy as much of the instruction as is readable (it may end at a page boundary).
    let mut len = 0;
    while len < insn.len()
        && crate::paging::copy_from_user(root, frame.rip + len as u64, &mut insn[len..len + 1])
            .is_ok()
    {
        len += 1;
    }
    let reason = match violation::build_report(Mode::Long64, &insn[..len], frame, bounds) {
        Ok(report) => {
            kprintln!("process killed: {} at rip {:#x}", report, frame.rip);
            KillReason::BoundsViolation {
                address: Some(report.address),
                lower: Some(report.lower),
                upper: Some(report.upper),
            }
        }
        Err(error) => {
            kprintln!(
                "process killed: bounds violation at rip {:#x}, undecodable ({:?}); BNDSTATUS {:#x}, bounds {:x?}",
                frame.rip, error, status, bounds.raw()
            );
            KillReason::BoundsViolation {
                address: None,
                lower: None,
                upper: None,
            }
        }
    };
    process::kill_current(Exit::Killed(reason))
}
