//! What the decoder reports: a bounds check, or why the bytes are not one.

use core::fmt;

use super::operand::Operand;
use super::regs::{Gpr, RegisterFile};
use crate::arch::Mode;

/// The architectural limit on x86 instruction length, prefixes included.
pub const MAX_INSTRUCTION_LEN: usize = 15;

/// Which bounds check raised the #BR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckKind {
    /// BNDCL (`F3 0F 1A`): the address was below the lower bound.
    #[doc(alias = "BNDCL")]
    Lower,
    /// BNDCU (`F2 0F 1A`): the address was above the one's-complemented
    /// upper bound (the usual upper-bound check).
    #[doc(alias = "BNDCU")]
    Upper,
    /// BNDCN (`F2 0F 1B`): the address was above the upper bound taken
    /// as stored, without complementing it.
    #[doc(alias = "BNDCN")]
    UpperNoComplement,
}

impl CheckKind {
    /// The SDM mnemonic in upper case: `"BNDCL"`, `"BNDCU"` or `"BNDCN"`.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            CheckKind::Lower => "BNDCL",
            CheckKind::Upper => "BNDCU",
            CheckKind::UpperNoComplement => "BNDCN",
        }
    }
}

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mnemonic())
    }
}

/// One of the four bound registers BND0-BND3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bnd {
    /// BND0.
    Bnd0,
    /// BND1.
    Bnd1,
    /// BND2.
    Bnd2,
    /// BND3.
    Bnd3,
}

impl Bnd {
    /// All four bound registers in order.
    pub const ALL: [Bnd; 4] = [Bnd::Bnd0, Bnd::Bnd1, Bnd::Bnd2, Bnd::Bnd3];

    /// The bound register with number `number`, or `None` unless it is 0..=3.
    pub const fn new(number: u8) -> Option<Bnd> {
        match number {
            0 => Some(Bnd::Bnd0),
            1 => Some(Bnd::Bnd1),
            2 => Some(Bnd::Bnd2),
            3 => Some(Bnd::Bnd3),
            _ => None,
        }
    }

    /// The register number, 0..=3.
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// The register number as an array index, always `< 4`.
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Bnd {
    /// Prints `bnd0`..`bnd3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bnd{}", self.number())
    }
}

/// A successfully decoded bounds-check instruction: which check, which bound
/// register, how long, and (given the registers) which address it checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BoundsCheck {
    pub(crate) mode: Mode,
    pub(crate) kind: CheckKind,
    pub(crate) bound_register: Bnd,
    pub(crate) operand: Operand,
    pub(crate) length: usize,
}

impl BoundsCheck {
    /// The mode the bytes were decoded in.
    pub const fn mode(&self) -> Mode {
        self.mode
    }

    /// BNDCL, BNDCU or BNDCN.
    pub const fn kind(&self) -> CheckKind {
        self.kind
    }

    /// The bound register compared against (ModRM.reg).
    pub const fn bound_register(&self) -> Bnd {
        self.bound_register
    }

    /// Instruction length in bytes, prefixes included: `1..=15`, and never
    /// more than the number of bytes given to [`decode`](super::decode()).
    /// RIP plus this is where execution resumes if the check is skipped.
    pub const fn length(&self) -> usize {
        self.length
    }

    /// The register a register-form check compares (`bndcu bnd0, rdx`), or
    /// `None` for a memory operand (`bndcu bnd0, [rdx]`), whose effective
    /// address is compared. (QEMU 10 gets register forms wrong: README, "QEMU
    /// MPX bugs", bug C.)
    pub const fn register_operand(&self) -> Option<Gpr> {
        match self.operand {
            Operand::Register(reg) => Some(reg),
            Operand::Memory(_) => None,
        }
    }

    /// The address the instruction compared against the bound, given the
    /// registers saved at the fault (RIP = address of this instruction).
    ///
    /// In 32-bit mode the result is below 2^32.
    pub fn checked_address<R: RegisterFile + ?Sized>(&self, regs: &R) -> u64 {
        match self.operand {
            Operand::Register(reg) => {
                let value = regs.gpr(reg);
                match self.mode {
                    Mode::Long64 => value,
                    Mode::Compat32 => value & 0xFFFF_FFFF,
                }
            }
            Operand::Memory(memory) => {
                // `length` is at most 15, so the cast is lossless.
                let next_rip = regs.rip().wrapping_add(self.length as u64);
                memory.effective_address(regs, next_rip)
            }
        }
    }
}

/// Why the bytes at RIP are not a bounds check this crate can report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes end before the instruction does (including an empty
    /// copy). The kernel may have copied too little, or the instruction
    /// runs into an unreadable page.
    Truncated,
    /// More than 15 bytes would be needed (e.g. a run of prefixes): the CPU
    /// raises #GP for such an instruction, never #BR.
    TooLong,
    /// Not BNDCL, BNDCU or BNDCN: some other opcode, or one of BNDMK,
    /// BNDMOV, BNDLDX, BNDSTX (which do not check bounds), or an INC/DEC
    /// (`40`-`4F`) in 32-bit mode.
    NotABoundsCheck,
    /// ModRM.reg (extended by REX.R) names a bound register above 3.
    BadBoundRegister {
        /// The register number that was encoded, 4..=15.
        number: u8,
    },
    /// A LOCK prefix (`F0`) is present; the CPU raises #UD for it.
    LockPrefix,
    /// A memory operand with the `67` prefix in 32-bit mode: 16-bit
    /// addressing, which MPX does not support (#UD).
    SixteenBitAddressing,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => f.write_str("instruction bytes end early"),
            DecodeError::TooLong => f.write_str("instruction longer than 15 bytes"),
            DecodeError::NotABoundsCheck => f.write_str("not a BNDCL/BNDCU/BNDCN instruction"),
            DecodeError::BadBoundRegister { number } => {
                write!(f, "bound register {number} does not exist")
            }
            DecodeError::LockPrefix => f.write_str("LOCK prefix on a bounds check"),
            DecodeError::SixteenBitAddressing => f.write_str("16-bit addressing on a bounds check"),
        }
    }
}
