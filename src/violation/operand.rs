//! The operand model of a decoded bounds check (crate-private): what the
//! ModRM/SIB/displacement bytes say, and the effective address they give.
//!
//! Segment overrides are not kept: the bounds checks compare the *effective*
//! address ("TEMP := LEA(mem)" in the SDM pseudo-code), so a segment base
//! never enters the checked address.

use super::regs::{Gpr, RegisterFile};

/// The SIB scale factor applied to the index register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Scale {
    /// ×1 (SIB.scale = 00).
    One,
    /// ×2 (SIB.scale = 01).
    Two,
    /// ×4 (SIB.scale = 10).
    Four,
    /// ×8 (SIB.scale = 11).
    Eight,
}

impl Scale {
    /// Decodes the two SIB.scale bits (bits above bit 1 are ignored).
    pub(crate) const fn from_bits(bits: u8) -> Scale {
        match bits & 3 {
            0 => Scale::One,
            1 => Scale::Two,
            2 => Scale::Four,
            _ => Scale::Eight,
        }
    }

    /// log2 of the factor: 0..=3.
    pub(crate) const fn shift(self) -> u32 {
        match self {
            Scale::One => 0,
            Scale::Two => 1,
            Scale::Four => 2,
            Scale::Eight => 3,
        }
    }
}

/// The width of the effective-address computation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum AddressSize {
    /// 32-bit addresses, wrapping at 2^32 (every 32-bit-mode operand).
    Bits32,
    /// 64-bit addresses (every 64-bit-mode operand, `67` or not; see the
    /// module docs).
    Bits64,
}

/// The base of a memory operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Base {
    /// No base register: the displacement is absolute (plus any index).
    None,
    /// A general-purpose base register.
    Register(Gpr),
    /// RIP-relative: the base is the address of the *next* instruction
    /// (64-bit mode only).
    Rip,
}

/// An index register together with its scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ScaledIndex {
    /// The index register (never rsp: SIB.index = 100 without REX.X means
    /// "no index"; r12 is possible).
    pub(crate) register: Gpr,
    /// The scale applied to the index.
    pub(crate) scale: Scale,
}

/// A decoded memory operand: `displacement(base, index, scale)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct MemoryOperand {
    /// Base register, RIP, or none.
    pub(crate) base: Base,
    /// Scaled index register, if any.
    pub(crate) index: Option<ScaledIndex>,
    /// Signed displacement (disp8 sign-extended, or disp32; 0 if none).
    pub(crate) displacement: i32,
    /// Width of the address computation.
    pub(crate) address_size: AddressSize,
}

impl MemoryOperand {
    /// True if the operand is RIP-relative.
    #[cfg(test)]
    pub(crate) const fn is_rip_relative(&self) -> bool {
        matches!(self.base, Base::Rip)
    }

    /// Computes the effective address the way LEA would.
    ///
    /// `next_rip` is the address of the following instruction (faulting RIP
    /// plus instruction length); it matters only for RIP-relative operands.
    /// Arithmetic wraps at 2^64, or at 2^32 with only the low 32 bits of each
    /// register used for [`AddressSize::Bits32`].
    pub(crate) fn effective_address<R: RegisterFile + ?Sized>(
        &self,
        regs: &R,
        next_rip: u64,
    ) -> u64 {
        let base = match self.base {
            Base::None => 0,
            Base::Register(reg) => regs.gpr(reg),
            Base::Rip => next_rip,
        };
        let index = match self.index {
            None => 0,
            Some(ScaledIndex { register, scale }) => regs.gpr(register).wrapping_shl(scale.shift()),
        };
        // Sign-extend the displacement to 64 bits; two's-complement wrapping
        // addition then gives the right answer at either width.
        let displacement = i64::from(self.displacement) as u64;
        let address = base.wrapping_add(index).wrapping_add(displacement);
        match self.address_size {
            AddressSize::Bits64 => address,
            // The low 32 bits of a wrapping 64-bit sum equal the 32-bit sum
            // of the low 32 bits of each term.
            AddressSize::Bits32 => address & 0xFFFF_FFFF,
        }
    }
}

/// The checked operand: the register or memory operand in ModRM.r/m.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Operand {
    /// A register: the checked address is the register's value.
    Register(Gpr),
    /// A memory operand: the checked address is its effective address (no
    /// memory is read).
    Memory(MemoryOperand),
}
