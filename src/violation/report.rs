//! The saved bound registers and the report built from a decoded check.

use core::fmt;

use super::check::{Bnd, BoundsCheck, CheckKind, DecodeError};
use super::decode::decode;
use super::regs::RegisterFile;
use crate::arch::{Geometry, Mode};

/// The four bound registers as saved by XSAVE (component 3, BNDREGS).
///
/// Each register is `[lower, upper]` exactly as stored: the upper bound is in
/// the one's-complement form the hardware keeps it in (so all-zero means
/// "no bounds", the INIT state). SDM vol. 1 §17.3.1 and §13 (XSAVE layout):
/// component 3 is 64 bytes, four 16-byte entries `{LB: u64, UB: u64}`,
/// little-endian.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BoundRegisters {
    registers: [[u64; 2]; 4],
}

impl BoundRegisters {
    /// All four registers in the INIT state (lower 0, stored upper 0, i.e.
    /// the whole address space allowed).
    pub const INIT: BoundRegisters = BoundRegisters {
        registers: [[0; 2]; 4],
    };

    /// Bound registers from raw `[lower, stored upper]` pairs, BND0 first.
    pub const fn new(registers: [[u64; 2]; 4]) -> Self {
        BoundRegisters { registers }
    }

    /// The bound registers saved in a standard-format XSAVE image (the
    /// task's XSAVE area, or the one in a signal frame): component 3 at
    /// offset 960 (BNDREGS), INIT bounds when XSTATE_BV marks the component
    /// as in its init state. `None` if the image is too short to hold what it
    /// says it holds. The one way to read the bound registers from XSAVE.
    pub fn from_xsave(image: &[u8]) -> Option<Self> {
        use crate::arch::xsave::{read_u64, xstate_bv, BNDREGS_OFFSET, XSTATE_BNDREGS};
        let mut registers = [[0u64; 2]; 4];
        if xstate_bv(image)? & XSTATE_BNDREGS == 0 {
            return Some(BoundRegisters { registers });
        }
        for (i, register) in registers.iter_mut().enumerate() {
            let at = BNDREGS_OFFSET + 16 * i;
            *register = [read_u64(image, at)?, read_u64(image, at + 8)?];
        }
        Some(BoundRegisters { registers })
    }

    /// The raw `[lower, stored upper]` pairs, BND0 first.
    pub const fn raw(&self) -> [[u64; 2]; 4] {
        self.registers
    }

    /// The lower bound of `bnd` (stored as is).
    pub const fn lower(&self, bnd: Bnd) -> u64 {
        self.registers[bnd.index()][0]
    }

    /// The upper-bound field of `bnd` exactly as stored (normally one's
    /// complemented).
    pub const fn upper_stored(&self, bnd: Bnd) -> u64 {
        self.registers[bnd.index()][1]
    }

    /// The real inclusive upper bound of `bnd` under the usual convention:
    /// the complement of the stored field (what BNDCU compares against).
    pub const fn upper(&self, bnd: Bnd) -> u64 {
        !self.upper_stored(bnd)
    }
}

/// What a kernel tells the process about a bound-range violation: the
/// analogue of Linux's `SEGV_BNDERR` siginfo (`si_addr`, `si_lower`,
/// `si_upper`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ViolationReport {
    /// The address that was checked (`si_addr`): the register's value for a
    /// register operand, else the operand's effective address.
    pub address: u64,
    /// The lower bound of the bound register (`si_lower`).
    pub lower: u64,
    /// The inclusive upper bound the check compared against (`si_upper`).
    ///
    /// For BNDCL and BNDCU this is the complement of the stored field, the
    /// real upper bound. For BNDCN it is the stored field itself, because
    /// BNDCN compares against it without complementing (SDM "BNDCU/BNDCN").
    /// Linux complemented in every case, which for BNDCN reports a bound the
    /// instruction never used.
    pub upper: u64,
    /// The bound register the instruction named.
    pub bound_register: Bnd,
    /// Which check failed.
    pub kind: CheckKind,
    /// Length of the faulting instruction in bytes (1..=15), e.g. for a
    /// debugger that wants to skip it.
    pub instruction_len: usize,
}

impl BoundsCheck {
    /// The report for this check, given the registers and bound registers
    /// saved at the fault.
    ///
    /// In 32-bit mode the address and both bounds are reduced to their low
    /// 32 bits (the CPU ignores the upper halves outside 64-bit mode).
    pub fn report<R: RegisterFile + ?Sized>(
        &self,
        regs: &R,
        bounds: &BoundRegisters,
    ) -> ViolationReport {
        let bnd = self.bound_register;
        let upper = match self.kind {
            CheckKind::Lower | CheckKind::Upper => bounds.upper(bnd),
            CheckKind::UpperNoComplement => bounds.upper_stored(bnd),
        };
        let width_mask = Geometry::of(self.mode).entry_width().mask();
        ViolationReport {
            address: self.checked_address(regs) & width_mask,
            lower: bounds.lower(bnd) & width_mask,
            upper: upper & width_mask,
            bound_register: bnd,
            kind: self.kind,
            instruction_len: self.length,
        }
    }
}

impl fmt::Display for ViolationReport {
    /// One line, e.g.
    /// `bounds violation: BNDCU bnd0 address 0x1010 outside [0x1000, 0x100f] (insn 4 bytes)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bounds violation: {} {} address {:#x} outside [{:#x}, {:#x}] (insn {} bytes)",
            self.kind,
            self.bound_register,
            self.address,
            self.lower,
            self.upper,
            self.instruction_len
        )
    }
}

/// Decodes the instruction at the faulting RIP and builds the report.
///
/// `insn` is what the kernel could copy from user memory at `regs.rip()`
/// (up to 15 bytes; fewer is fine if the instruction fits). `bounds` are the
/// bound registers from the task's XSAVE image at the time of the fault.
///
/// # Errors
///
/// The [`DecodeError`] if `insn` is not a complete BNDCL/BNDCU/BNDCN; the
/// kernel should then send a plain SIGSEGV without bounds.
pub fn build_report<R: RegisterFile + ?Sized>(
    mode: Mode,
    insn: &[u8],
    regs: &R,
    bounds: &BoundRegisters,
) -> Result<ViolationReport, DecodeError> {
    Ok(decode(mode, insn)?.report(regs, bounds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::violation::{Gpr, RegisterSnapshot};

    #[test]
    fn bndcl_report_and_truncated_bytes() {
        let regs = RegisterSnapshot::default().with(Gpr::RAX, 5);
        let bounds = BoundRegisters::new([[8, !16], [0; 2], [0; 2], [0; 2]]);
        // bndcl %rax, %bnd0
        let bndcl = [0xF3, 0x0F, 0x1A, 0xC0];
        assert_eq!(
            build_report(Mode::Long64, &bndcl, &regs, &bounds),
            Ok(ViolationReport {
                address: 5,
                lower: 8,
                upper: 16,
                bound_register: Bnd::Bnd0,
                kind: CheckKind::Lower,
                instruction_len: 4,
            })
        );
        assert_eq!(
            build_report(Mode::Long64, &bndcl[..3], &regs, &bounds),
            Err(DecodeError::Truncated)
        );
    }

    #[test]
    fn bound_registers_from_xsave_images() {
        use crate::arch::xsave::{BNDREGS_OFFSET, XSAVE_HEADER_OFFSET, XSTATE_BNDREGS};
        let mut image = [0u8; 1088];
        image[BNDREGS_OFFSET + 16 * 2..BNDREGS_OFFSET + 16 * 2 + 8]
            .copy_from_slice(&7u64.to_le_bytes());
        // Component 3 in its init state: INIT bounds, whatever the bytes say.
        assert_eq!(
            BoundRegisters::from_xsave(&image),
            Some(BoundRegisters::INIT)
        );
        image[XSAVE_HEADER_OFFSET] |= XSTATE_BNDREGS as u8;
        let regs = BoundRegisters::from_xsave(&image).unwrap();
        assert_eq!(regs.lower(Bnd::Bnd2), 7);
        assert_eq!(BoundRegisters::from_xsave(&image[..100]), None);
        assert_eq!(
            BoundRegisters::from_xsave(&image[..BNDREGS_OFFSET + 40]),
            None
        );
    }
}
