//! The saved bound registers and the report built from a decoded check.

use core::fmt;

use super::decode::{decode, Bnd, BoundsCheck, CheckKind, DecodeError};
use super::regs::RegisterFile;
use crate::arch::Mode;

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
    /// Size of XSAVE component 3 (BNDREGS) in bytes.
    pub const XSAVE_COMPONENT_SIZE: usize = 64;

    /// All four registers in the INIT state (lower 0, stored upper 0, i.e.
    /// the whole address space allowed).
    pub const INIT: BoundRegisters = BoundRegisters {
        registers: [[0; 2]; 4],
    };

    /// Bound registers from raw `[lower, stored upper]` pairs, BND0 first.
    pub const fn new(registers: [[u64; 2]; 4]) -> Self {
        BoundRegisters { registers }
    }

    /// Parses XSAVE component 3 (BNDREGS) from its 64 bytes.
    pub fn from_xsave_component(component: &[u8; 64]) -> Self {
        let mut registers = [[0u64; 2]; 4];
        for (register, chunk) in registers.iter_mut().zip(component.chunks_exact(16)) {
            for (value, word) in register.iter_mut().zip(chunk.chunks_exact(8)) {
                let mut raw = [0u8; 8];
                raw.copy_from_slice(word);
                *value = u64::from_le_bytes(raw);
            }
        }
        BoundRegisters { registers }
    }

    /// The bound registers saved in a whole XSAVE image (see
    /// [`crate::arch::xsave::read_bound_registers`]): INIT bounds when the
    /// image marks component 3 as in its init state. `None` if the image is
    /// too short.
    pub fn from_xsave_image(image: &[u8]) -> Option<Self> {
        crate::arch::xsave::read_bound_registers(image).map(Self::new)
    }

    /// Parses XSAVE component 3 from a slice that starts at the component.
    ///
    /// Returns `None` if `bytes` holds fewer than 64 bytes; bytes after the
    /// first 64 are ignored, so a slice running to the end of the XSAVE area
    /// is fine.
    pub fn from_xsave_slice(bytes: &[u8]) -> Option<Self> {
        let component: &[u8; 64] = bytes.get(..Self::XSAVE_COMPONENT_SIZE)?.try_into().ok()?;
        Some(Self::from_xsave_component(component))
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

impl ViolationReport {
    /// Builds the report for an already decoded check.
    ///
    /// In 32-bit mode the address and both bounds are reduced to their low
    /// 32 bits (the CPU ignores the upper halves outside 64-bit mode).
    pub fn from_check<R: RegisterFile + ?Sized>(
        check: &BoundsCheck,
        regs: &R,
        bounds: &BoundRegisters,
    ) -> Self {
        let bnd = check.bound_register;
        let upper = match check.kind {
            CheckKind::Lower | CheckKind::Upper => bounds.upper(bnd),
            CheckKind::UpperNoComplement => bounds.upper_stored(bnd),
        };
        let width_mask = match check.mode {
            Mode::Long64 => u64::MAX,
            Mode::Compat32 => 0xFFFF_FFFF,
        };
        ViolationReport {
            address: check.checked_address(regs) & width_mask,
            lower: bounds.lower(bnd) & width_mask,
            upper: upper & width_mask,
            bound_register: bnd,
            kind: check.kind,
            instruction_len: check.length,
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
/// kernel should then send a plain SIGSEGV without bounds (see
/// [`BoundsFault`](super::BoundsFault)).
pub fn build_report<R: RegisterFile + ?Sized>(
    mode: Mode,
    insn: &[u8],
    regs: &R,
    bounds: &BoundRegisters,
) -> Result<ViolationReport, DecodeError> {
    let check = decode(mode, insn)?;
    Ok(ViolationReport::from_check(&check, regs, bounds))
}
