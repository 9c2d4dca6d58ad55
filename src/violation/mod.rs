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
//! A kernel's #BR handler first decodes BNDSTATUS
//! ([`BndStatus::cause`](crate::arch::BndStatus::cause)); for
//! [`BrCause::Violation`](crate::arch::BrCause::Violation) it copies up to
//! [`MAX_INSTRUCTION_LEN`] bytes from RIP and calls [`build_report`], which
//! needs no lock and no manager.
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

mod check;
mod decode;
mod operand;
mod regs;
mod report;

pub use check::{Bnd, BoundsCheck, CheckKind, DecodeError, MAX_INSTRUCTION_LEN};
pub use decode::decode;
pub use regs::{Gpr, RegisterFile, RegisterSnapshot};
pub use report::{build_report, BoundRegisters, ViolationReport};
