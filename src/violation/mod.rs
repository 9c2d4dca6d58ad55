//! Bounds-violation reports (#BR with BNDSTATUS code 1).
//!
//! When a BNDCL, BNDCU or BNDCN finds an address out of bounds, the CPU sets
//! BNDSTATUS to 1 and raises #BR (vector 5, a fault: RIP still points at the
//! instruction). The process deserves the checked address and the bounds,
//! as Linux's `SEGV_BNDERR` siginfo gave it (`si_addr`, `si_lower`,
//! `si_upper`; MPX-FACTS §2.5). The hardware does not save the address, so
//! the kernel must decode the instruction at RIP and recompute it:
//!
//! ```text
//!  user bytes at RIP ──► decode() ──► BoundsCheck { kind, bnd, operand, len }
//!                                          │
//!  trap-frame registers (RegisterFile) ────┤
//!  XSAVE component 3 (BoundRegisters) ─────┴──► ViolationReport
//! ```
//!
//! The bytes at RIP are hostile input (another thread may even rewrite them
//! after the fault), so [`decode()`] is total: any byte string gives either a
//! bounds check or a [`DecodeError`], without panics. Linux's decoder had an
//! off-by-one on the bound-register number and mishandled the SIB special
//! cases (MPX-FACTS §3, item 6); both are covered by tests here.
//!
//! [`classify`] turns a BNDSTATUS value into a [`BoundsFault`] a kernel can
//! act on and print. A kernel that lets the crate manage its bounds tables
//! calls [`MpxManager::handle_br`](crate::manager::MpxManager::handle_br)
//! instead, which classifies with it and also allocates the table for
//! code 2.
//!
//! ```
//! use mpx::arch::Mode;
//! use mpx::violation::{build_report, BoundRegisters, Gpr, RegisterSnapshot};
//!
//! // bndcu %rax, %bnd0  (F2 0F 1A C0)
//! let regs = RegisterSnapshot::default().with(Gpr::RAX, 0x1010);
//! // bnd0 = [0x1000, 0x100f], upper stored one's-complemented.
//! let bounds = BoundRegisters::new([[0x1000, !0x100f], [0; 2], [0; 2], [0; 2]]);
//! let report = build_report(Mode::Long64, &[0xF2, 0x0F, 0x1A, 0xC0], &regs, &bounds).unwrap();
//! assert_eq!((report.address, report.lower, report.upper), (0x1010, 0x1000, 0x100f));
//! assert_eq!(
//!     report.to_string(),
//!     "bounds violation: BNDCU bnd0 address 0x1010 outside [0x1000, 0x100f] (insn 4 bytes)"
//! );
//! ```

use core::fmt;

use crate::arch::Mode;

pub mod decode;
pub mod regs;
pub mod report;

pub use decode::{
    decode, AddressSize, Base, Bnd, BoundsCheck, CheckKind, DecodeError, DisplacementSize,
    MemoryOperand, Operand, Scale, ScaledIndex, Segment, MAX_INSTRUCTION_LEN,
};
pub use regs::{Gpr, RegisterFile, RegisterSnapshot};
pub use report::{build_report, BoundRegisters, ViolationReport};

/// What a #BR means, by BNDSTATUS error code, with what to tell the process.
///
/// Every variant ends in a signal to the process (or, for
/// [`BoundsFault::InvalidDirectoryEntry`], in table allocation by the
/// manager); none of them is a reason to panic, since user space can write
/// BNDSTATUS through XRSTOR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BoundsFault {
    /// Code 0: the #BR did not come from MPX (e.g. the legacy BOUND
    /// instruction in 32-bit code). Send a plain SIGSEGV.
    NotMpx,
    /// Code 1, decoded: send SIGSEGV/SEGV_BNDERR with this report.
    Violation(ViolationReport),
    /// Code 1, but the bytes at RIP are not a complete BNDCL/BNDCU/BNDCN
    /// (unreadable, rewritten, truncated...). Send a plain SIGSEGV, without
    /// bounds.
    UndecodableViolation(DecodeError),
    /// Code 2: BNDLDX/BNDSTX found a bound-directory entry without its valid
    /// bit; the bounds manager should allocate a table. `entry_address` is
    /// BNDSTATUS with the two code bits cleared (bits 31:2 only in 32-bit
    /// mode).
    InvalidDirectoryEntry {
        /// Linear address of the bound-directory entry.
        entry_address: u64,
    },
    /// Code 3: reserved; only reachable if user space wrote BNDSTATUS
    /// itself. Send a plain SIGSEGV (Linux called `die()` here, a
    /// user-triggerable kernel oops).
    Reserved,
}

impl fmt::Display for BoundsFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BoundsFault::NotMpx => f.write_str("bounds fault not raised by MPX (BNDSTATUS code 0)"),
            BoundsFault::Violation(report) => report.fmt(f),
            BoundsFault::UndecodableViolation(error) => {
                write!(f, "bounds violation at an undecodable instruction: {error}")
            }
            BoundsFault::InvalidDirectoryEntry { entry_address } => write!(
                f,
                "invalid bound-directory entry at {entry_address:#x} (BNDSTATUS code 2)"
            ),
            BoundsFault::Reserved => f.write_str("reserved BNDSTATUS code 3"),
        }
    }
}

/// Classifies a #BR from the BNDSTATUS value saved in XSAVE component 4.
///
/// For code 1 this decodes `insn` (the bytes copied from RIP) and builds the
/// report from `regs` and `bounds`; for the other codes those arguments are
/// not looked at. An XSAVE image whose BNDCSR component is in its init state
/// has BNDSTATUS = 0 and so classifies as [`BoundsFault::NotMpx`], as in
/// Linux.
pub fn classify<R: RegisterFile + ?Sized>(
    mode: Mode,
    bndstatus: u64,
    insn: &[u8],
    regs: &R,
    bounds: &BoundRegisters,
) -> BoundsFault {
    match bndstatus & 0b11 {
        0 => BoundsFault::NotMpx,
        1 => match build_report(mode, insn, regs, bounds) {
            Ok(report) => BoundsFault::Violation(report),
            Err(error) => BoundsFault::UndecodableViolation(error),
        },
        2 => {
            let address_mask = match mode {
                Mode::Long64 => !0b11,
                Mode::Compat32 => 0xFFFF_FFFC,
            };
            BoundsFault::InvalidDirectoryEntry {
                entry_address: bndstatus & address_mask,
            }
        }
        _ => BoundsFault::Reserved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_each_code() {
        let regs = RegisterSnapshot::default().with(Gpr::RAX, 5);
        let bounds = BoundRegisters::new([[8, !16], [0; 2], [0; 2], [0; 2]]);
        let bndcl = [0xF3, 0x0F, 0x1A, 0xC0];
        assert_eq!(
            classify(Mode::Long64, 0, &bndcl, &regs, &bounds),
            BoundsFault::NotMpx
        );
        assert_eq!(
            classify(Mode::Long64, 1, &bndcl, &regs, &bounds),
            BoundsFault::Violation(ViolationReport {
                address: 5,
                lower: 8,
                upper: 16,
                bound_register: Bnd::Bnd0,
                kind: CheckKind::Lower,
                instruction_len: 4,
            })
        );
        assert_eq!(
            classify(Mode::Long64, 1, &bndcl[..3], &regs, &bounds),
            BoundsFault::UndecodableViolation(DecodeError::Truncated)
        );
        assert_eq!(
            classify(Mode::Long64, 0xFFFF_8000_1234_5672, &[], &regs, &bounds),
            BoundsFault::InvalidDirectoryEntry {
                entry_address: 0xFFFF_8000_1234_5670
            }
        );
        assert_eq!(
            classify(Mode::Compat32, 0xFFFF_8000_1234_5672, &[], &regs, &bounds),
            BoundsFault::InvalidDirectoryEntry {
                entry_address: 0x1234_5670
            }
        );
        assert_eq!(
            classify(Mode::Long64, 3, &[], &regs, &bounds),
            BoundsFault::Reserved
        );
    }
}
