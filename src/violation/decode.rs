//! A pure, panic-free decoder for the BNDCL/BNDCU/BNDCN at a faulting RIP.
//!
//! # What is accepted
//!
//! Only the three bounds *checks* (SDM vol. 2A, "BNDCL" and "BNDCU/BNDCN"):
//!
//! | bytes          | instruction | [`CheckKind`]                     |
//! |----------------|-------------|-----------------------------------|
//! | `F3 0F 1A /r`  | BNDCL       | [`CheckKind::Lower`]              |
//! | `F2 0F 1A /r`  | BNDCU       | [`CheckKind::Upper`]              |
//! | `F2 0F 1B /r`  | BNDCN       | [`CheckKind::UpperNoComplement`]  |
//!
//! The other instructions sharing `0F 1A` / `0F 1B` (BNDMK `F3 0F 1B`,
//! BNDMOV `66 0F 1A/1B`, BNDLDX/BNDSTX with no mandatory prefix) never raise
//! a bound-range #BR and decode to [`DecodeError::NotABoundsCheck`], like
//! every other opcode.
//!
//! # Encoding rules implemented
//!
//! * Legacy prefixes in any order and number: `F0` (LOCK), `F2`/`F3`,
//!   `66`, `67`, segment overrides `26 2E 36 3E 64 65`. The *last* `F2`/`F3`
//!   picks the instruction and `66` is ignored when one is present (the rule
//!   for mandatory prefixes; GNU objdump does the same). The last segment
//!   override is recorded. LOCK makes the instruction #UD, so it is rejected
//!   ([`DecodeError::LockPrefix`]).
//! * REX (`40`-`4F`) in 64-bit mode only, and only when it is the last
//!   prefix before `0F`; a REX followed by a legacy prefix is ignored, as the
//!   CPU ignores it. In 32-bit mode `40`-`4F` are INC/DEC, so such bytes are
//!   not a bounds check.
//! * The whole instruction, prefixes included, is at most
//!   [`MAX_INSTRUCTION_LEN`] (15) bytes; longer is [`DecodeError::TooLong`]
//!   (the CPU raises #GP, never #BR).
//! * ModRM.reg (with REX.R) names the bound register; 4..=15 is #UD on the
//!   CPU and [`DecodeError::BadBoundRegister`] here. It is never used as an
//!   index.
//! * ModRM mod = 11: register operand (REX.B extends it).
//! * rm = 100: a SIB byte follows. SIB.index = 100 without REX.X means no
//!   index (with REX.X it is r12, a real index). SIB.base = 101 with mod = 00
//!   means no base and a disp32 (whatever REX.B says); with mod = 01/10 it is
//!   rbp/r13 plus the displacement.
//! * mod = 00, rm = 101: RIP-relative disp32 in 64-bit mode (REX.B does not
//!   change this), absolute disp32 in 32-bit mode.
//! * mod = 01: disp8, sign-extended; mod = 10: disp32.
//!
//! # Address size (the `67` prefix)
//!
//! MPX instructions do not follow the general `67` rule. The SDM (vol. 1,
//! §17.5.1, table 17-3 "Effective Address Size of Intel MPX Instructions with
//! 67H Prefix") says:
//!
//! * 64-bit mode: 64-bit addressing **with or without** `67`. The prefix is
//!   accepted and ignored; the effective address is *not* truncated to 32
//!   bits. GNU as refuses 32-bit addresses in 64-bit MPX instructions and
//!   objdump prints the prefix as an unused `addr32`.
//! * 32-bit mode with `67` (i.e. 16-bit addressing): #UD for memory forms.
//!   Such bytes can never have raised #BR, so they are rejected with
//!   [`DecodeError::SixteenBitAddressing`] rather than decoded. Register
//!   forms ignore `67` (same table) and decode normally.
//!
//! [`Mode::Compat32`] means a 32-bit code segment (CS.D = 1); 16-bit code
//! segments are not modelled.
//!
//! # Robustness
//!
//! The bytes are whatever the kernel could copy from user memory at RIP:
//! hostile and possibly fewer than the instruction needs. The decoder never
//! panics, never indexes out of bounds, and never reads past
//! `min(bytes.len(), 15)`. A prefix of a valid encoding that stops before its
//! end always gives [`DecodeError::Truncated`], never a shorter "valid"
//! instruction. Extra bytes after the instruction are ignored. Besides the
//! tests (`tests/decode.rs`: every ModRM and SIB byte in both modes, every
//! copy length, random bytes), `fuzz/` has a cargo-fuzz target that runs on
//! stable Rust: `cargo fuzz run --sanitizer none decode`.

use core::fmt;

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

/// The SIB scale factor applied to the index register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scale {
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
    const fn from_bits(bits: u8) -> Scale {
        match bits & 3 {
            0 => Scale::One,
            1 => Scale::Two,
            2 => Scale::Four,
            _ => Scale::Eight,
        }
    }

    /// The factor: 1, 2, 4 or 8.
    pub const fn factor(self) -> u8 {
        1 << self.shift()
    }

    /// log2 of the factor: 0..=3.
    pub const fn shift(self) -> u32 {
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
pub enum AddressSize {
    /// 32-bit addresses, wrapping at 2^32 (every 32-bit-mode operand).
    Bits32,
    /// 64-bit addresses (every 64-bit-mode operand, `67` or not; see the
    /// module docs).
    Bits64,
}

/// A segment-override prefix.
///
/// Recorded for reporting only: the bounds checks compare the *effective*
/// address ("TEMP := LEA(mem)" in the SDM pseudo-code), so the segment base
/// never enters the checked address. In 64-bit mode only FS and GS
/// overrides have any effect on normal accesses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    /// `26` ES override.
    Es,
    /// `2E` CS override.
    Cs,
    /// `36` SS override.
    Ss,
    /// `3E` DS override.
    Ds,
    /// `64` FS override.
    Fs,
    /// `65` GS override.
    Gs,
}

impl Segment {
    /// The lower-case register name: `"es"`, `"cs"`, ...
    pub const fn name(self) -> &'static str {
        match self {
            Segment::Es => "es",
            Segment::Cs => "cs",
            Segment::Ss => "ss",
            Segment::Ds => "ds",
            Segment::Fs => "fs",
            Segment::Gs => "gs",
        }
    }
}

/// The base of a memory operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Base {
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
pub struct ScaledIndex {
    /// The index register (never rsp: SIB.index = 100 without REX.X means
    /// "no index"; r12 is possible).
    pub register: Gpr,
    /// The scale applied to the index.
    pub scale: Scale,
}

/// How the displacement was encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DisplacementSize {
    /// No displacement bytes (ModRM.mod = 00 with a base register).
    None,
    /// One byte, sign-extended (ModRM.mod = 01).
    Disp8,
    /// Four bytes (ModRM.mod = 10, or the no-base/RIP-relative forms).
    Disp32,
}

/// A decoded memory operand: `segment:displacement(base, index, scale)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoryOperand {
    /// Base register, RIP, or none.
    pub base: Base,
    /// Scaled index register, if any.
    pub index: Option<ScaledIndex>,
    /// Signed displacement (disp8 sign-extended, or disp32; 0 if none).
    pub displacement: i32,
    /// How the displacement was encoded (`0x0(%rbp)` has a zero
    /// [`DisplacementSize::Disp8`]; `(%rax)` has none).
    pub displacement_size: DisplacementSize,
    /// Width of the address computation.
    pub address_size: AddressSize,
    /// The last segment-override prefix, if any (not part of the address).
    pub segment: Option<Segment>,
}

impl MemoryOperand {
    /// True if the operand is RIP-relative.
    pub const fn is_rip_relative(&self) -> bool {
        matches!(self.base, Base::Rip)
    }

    /// Computes the effective address the way LEA would.
    ///
    /// `next_rip` is the address of the following instruction (faulting RIP
    /// plus instruction length); it matters only for RIP-relative operands.
    /// Arithmetic wraps at 2^64, or at 2^32 with only the low 32 bits of each
    /// register used for [`AddressSize::Bits32`].
    pub fn effective_address<R: RegisterFile + ?Sized>(&self, regs: &R, next_rip: u64) -> u64 {
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
pub enum Operand {
    /// A register: the checked address is the register's value.
    Register(Gpr),
    /// A memory operand: the checked address is its effective address (no
    /// memory is read).
    Memory(MemoryOperand),
}

/// A successfully decoded bounds-check instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BoundsCheck {
    /// The mode the bytes were decoded in.
    pub mode: Mode,
    /// BNDCL, BNDCU or BNDCN.
    pub kind: CheckKind,
    /// The bound register compared against (ModRM.reg).
    pub bound_register: Bnd,
    /// The checked operand (ModRM.r/m).
    pub operand: Operand,
    /// Instruction length in bytes, prefixes included: `1..=15`, and never
    /// more than the number of bytes given to [`decode`].
    pub length: usize,
}

impl BoundsCheck {
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

/// Reads bytes one at a time, enforcing both the copy length and the
/// 15-byte architectural limit.
struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Cursor<'a> {
    const fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, position: 0 }
    }

    /// The next byte. The length limit is checked first, so a valid
    /// encoding (at most 15 bytes) that is cut short is always `Truncated`.
    fn next(&mut self) -> Result<u8, DecodeError> {
        if self.position >= MAX_INSTRUCTION_LEN {
            return Err(DecodeError::TooLong);
        }
        let byte = *self
            .bytes
            .get(self.position)
            .ok_or(DecodeError::Truncated)?;
        self.position += 1;
        Ok(byte)
    }

    fn disp8(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from(self.next()? as i8))
    }

    fn disp32(&mut self) -> Result<i32, DecodeError> {
        let mut raw = [0u8; 4];
        for byte in &mut raw {
            *byte = self.next()?;
        }
        Ok(i32::from_le_bytes(raw))
    }
}

/// The mandatory-prefix candidates `F2` and `F3`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// `F2` (REPNE).
    F2,
    /// `F3` (REP/REPE).
    F3,
}

/// The REX bits that matter here (W is irrelevant for MPX).
#[derive(Clone, Copy, Default)]
struct Rex {
    r: u8,
    x: u8,
    b: u8,
}

impl Rex {
    const fn from_byte(byte: u8) -> Rex {
        Rex {
            r: (byte >> 2) & 1,
            x: (byte >> 1) & 1,
            b: byte & 1,
        }
    }
}

/// Everything the prefix bytes say.
struct Prefixes {
    lock: bool,
    repeat: Option<Repeat>,
    address_size_override: bool,
    segment: Option<Segment>,
    rex: Rex,
}

/// Consumes prefixes and returns them with the first non-prefix byte.
fn read_prefixes(mode: Mode, cursor: &mut Cursor<'_>) -> Result<(Prefixes, u8), DecodeError> {
    let mut prefixes = Prefixes {
        lock: false,
        repeat: None,
        address_size_override: false,
        segment: None,
        rex: Rex::default(),
    };
    loop {
        let byte = cursor.next()?;
        match byte {
            0xF0 => prefixes.lock = true,
            0xF2 => prefixes.repeat = Some(Repeat::F2),
            0xF3 => prefixes.repeat = Some(Repeat::F3),
            // Operand size: BNDMOV's mandatory prefix when there is no
            // F2/F3, ignored otherwise. Neither case needs it recorded: the
            // opcode table below treats "no F2/F3" as not-a-check anyway.
            0x66 => {}
            0x67 => prefixes.address_size_override = true,
            0x26 => prefixes.segment = Some(Segment::Es),
            0x2E => prefixes.segment = Some(Segment::Cs),
            0x36 => prefixes.segment = Some(Segment::Ss),
            0x3E => prefixes.segment = Some(Segment::Ds),
            0x64 => prefixes.segment = Some(Segment::Fs),
            0x65 => prefixes.segment = Some(Segment::Gs),
            0x40..=0x4F if mode == Mode::Long64 => {
                // A REX counts only if nothing but the opcode follows it; a
                // later REX replaces it, a later legacy prefix cancels it.
                prefixes.rex = Rex::from_byte(byte);
                continue;
            }
            _ => return Ok((prefixes, byte)),
        }
        prefixes.rex = Rex::default();
    }
}

/// Decodes the instruction at the start of `bytes` as a bounds check.
///
/// `bytes` are the bytes copied from the faulting RIP (fewer than 15 is
/// fine; bytes after the instruction are ignored). `mode` is the mode of the
/// process: REX and RIP-relative addressing exist only in
/// [`Mode::Long64`].
///
/// # Errors
///
/// Any [`DecodeError`]; see its variants. Never panics.
pub fn decode(mode: Mode, bytes: &[u8]) -> Result<BoundsCheck, DecodeError> {
    let mut cursor = Cursor::new(bytes);
    let (prefixes, escape) = read_prefixes(mode, &mut cursor)?;
    if escape != 0x0F {
        return Err(DecodeError::NotABoundsCheck);
    }
    let opcode = cursor.next()?;
    let kind = match (opcode, prefixes.repeat) {
        (0x1A, Some(Repeat::F3)) => CheckKind::Lower,
        (0x1A, Some(Repeat::F2)) => CheckKind::Upper,
        (0x1B, Some(Repeat::F2)) => CheckKind::UpperNoComplement,
        // F3 0F 1B is BNDMK; 66 0F 1A/1B is BNDMOV; 0F 1A/1B alone is
        // BNDLDX/BNDSTX; anything else is not MPX at all.
        _ => return Err(DecodeError::NotABoundsCheck),
    };

    let modrm = cursor.next()?;
    let mode_bits = modrm >> 6;
    let reg_bits = (modrm >> 3) & 7;
    let rm_bits = modrm & 7;

    if prefixes.lock {
        return Err(DecodeError::LockPrefix);
    }
    let bound_number = reg_bits | (prefixes.rex.r << 3);
    let bound_register = Bnd::new(bound_number).ok_or(DecodeError::BadBoundRegister {
        number: bound_number,
    })?;

    let operand = if mode_bits == 0b11 {
        // Register forms ignore 67 in every mode (SDM vol. 1 table 17-3).
        Operand::Register(Gpr::from_low_bits(rm_bits | (prefixes.rex.b << 3)))
    } else {
        let address_size = match mode {
            Mode::Long64 => AddressSize::Bits64,
            Mode::Compat32 if prefixes.address_size_override => {
                return Err(DecodeError::SixteenBitAddressing)
            }
            Mode::Compat32 => AddressSize::Bits32,
        };
        let (base, index, absolute_disp32) = if rm_bits == 0b100 {
            let sib = cursor.next()?;
            let scale = Scale::from_bits(sib >> 6);
            let index_number = ((sib >> 3) & 7) | (prefixes.rex.x << 3);
            let index = if index_number == 0b100 {
                None
            } else {
                Some(ScaledIndex {
                    register: Gpr::from_low_bits(index_number),
                    scale,
                })
            };
            let base_bits = sib & 7;
            if base_bits == 0b101 && mode_bits == 0b00 {
                (Base::None, index, true)
            } else {
                let base = Gpr::from_low_bits(base_bits | (prefixes.rex.b << 3));
                (Base::Register(base), index, false)
            }
        } else if rm_bits == 0b101 && mode_bits == 0b00 {
            let base = match mode {
                Mode::Long64 => Base::Rip,
                Mode::Compat32 => Base::None,
            };
            (base, None, true)
        } else {
            let base = Gpr::from_low_bits(rm_bits | (prefixes.rex.b << 3));
            (Base::Register(base), None, false)
        };
        let (displacement, displacement_size) = match mode_bits {
            0b01 => (cursor.disp8()?, DisplacementSize::Disp8),
            0b10 => (cursor.disp32()?, DisplacementSize::Disp32),
            _ if absolute_disp32 => (cursor.disp32()?, DisplacementSize::Disp32),
            _ => (0, DisplacementSize::None),
        };
        Operand::Memory(MemoryOperand {
            base,
            index,
            displacement,
            displacement_size,
            address_size,
            segment: prefixes.segment,
        })
    };

    Ok(BoundsCheck {
        mode,
        kind,
        bound_register,
        operand,
        length: cursor.position,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(mode: Mode, bytes: &[u8]) -> BoundsCheck {
        match decode(mode, bytes) {
            Ok(check) => check,
            Err(error) => panic!("{bytes:02x?} in {mode:?}: {error:?}"),
        }
    }

    fn memory(check: &BoundsCheck) -> MemoryOperand {
        match check.operand {
            Operand::Memory(memory) => memory,
            Operand::Register(reg) => panic!("register operand {reg}"),
        }
    }

    fn scaled(register: Gpr, scale: Scale) -> Option<ScaledIndex> {
        Some(ScaledIndex { register, scale })
    }

    #[test]
    fn kinds_and_bound_registers() {
        let c = ok(Mode::Long64, &[0xF3, 0x0F, 0x1A, 0xC0]);
        assert_eq!(
            (c.kind, c.bound_register, c.length),
            (CheckKind::Lower, Bnd::Bnd0, 4)
        );
        assert_eq!(c.operand, Operand::Register(Gpr::RAX));
        let c = ok(Mode::Long64, &[0xF2, 0x0F, 0x1A, 0xD9]);
        assert_eq!((c.kind, c.bound_register), (CheckKind::Upper, Bnd::Bnd3));
        assert_eq!(c.operand, Operand::Register(Gpr::RCX));
        let c = ok(Mode::Compat32, &[0xF2, 0x0F, 0x1B, 0xCF]);
        assert_eq!(
            (c.kind, c.bound_register),
            (CheckKind::UpperNoComplement, Bnd::Bnd1)
        );
        assert_eq!(c.operand, Operand::Register(Gpr::RDI));
    }

    #[test]
    fn register_operand_with_rex_b() {
        let c = ok(Mode::Long64, &[0xF2, 0x41, 0x0F, 0x1A, 0xC7]);
        assert_eq!(c.operand, Operand::Register(Gpr::R15));
        assert_eq!(c.length, 5);
    }

    #[test]
    fn bound_register_numbers_above_three_are_errors() {
        for reg in 4u8..8 {
            let modrm = 0xC0 | (reg << 3);
            assert_eq!(
                decode(Mode::Long64, &[0xF3, 0x0F, 0x1A, modrm]),
                Err(DecodeError::BadBoundRegister { number: reg })
            );
            assert_eq!(
                decode(Mode::Compat32, &[0xF3, 0x0F, 0x1A, modrm]),
                Err(DecodeError::BadBoundRegister { number: reg })
            );
        }
        for reg in 0u8..8 {
            let modrm = reg << 3;
            assert_eq!(
                decode(Mode::Long64, &[0xF2, 0x44, 0x0F, 0x1A, modrm]),
                Err(DecodeError::BadBoundRegister { number: reg + 8 })
            );
        }
    }

    #[test]
    fn sib_index_100_is_no_index_unless_rex_x() {
        // (%rsp,%riz,2): index field 100 without REX.X.
        let m = memory(&ok(Mode::Long64, &[0xF3, 0x0F, 0x1A, 0x04, 0x64]));
        assert_eq!((m.base, m.index), (Base::Register(Gpr::RSP), None));
        // REX.X: index 1100 = r12 is a real index.
        let m = memory(&ok(Mode::Long64, &[0xF3, 0x42, 0x0F, 0x1A, 0x04, 0x64]));
        assert_eq!(m.base, Base::Register(Gpr::RSP));
        assert_eq!(m.index, scaled(Gpr::R12, Scale::Two));
    }

    #[test]
    fn sib_base_101_mod_00_is_disp32_without_base() {
        let c = ok(
            Mode::Long64,
            &[0xF3, 0x41, 0x0F, 0x1A, 0x04, 0xC5, 0x78, 0x56, 0x34, 0x12],
        );
        let m = memory(&c);
        assert_eq!(
            m.base,
            Base::None,
            "REX.B does not bring r13 back with mod 00"
        );
        assert_eq!(m.index, scaled(Gpr::RAX, Scale::Eight));
        assert_eq!(m.displacement, 0x1234_5678);
        assert_eq!(c.length, 10);
        // mod 01: rbp / r13 base with disp8.
        let m = memory(&ok(
            Mode::Long64,
            &[0xF3, 0x41, 0x0F, 0x1A, 0x44, 0x25, 0xF0],
        ));
        assert_eq!(
            (m.base, m.index, m.displacement),
            (Base::Register(Gpr::R13), None, -16)
        );
    }

    #[test]
    fn rm_101_mod_00_is_rip_in_64_and_absolute_in_32() {
        let bytes = [0xF3, 0x0F, 0x1A, 0x05, 0xF0, 0xFF, 0xFF, 0xFF];
        let m = memory(&ok(Mode::Long64, &bytes));
        assert!(m.is_rip_relative());
        assert_eq!(m.displacement, -16);
        let m = memory(&ok(Mode::Compat32, &bytes));
        assert_eq!((m.base, m.address_size), (Base::None, AddressSize::Bits32));
        // REX.B does not turn RIP-relative into r13.
        let m = memory(&ok(
            Mode::Long64,
            &[0xF3, 0x41, 0x0F, 0x1A, 0x05, 0, 0, 0, 0],
        ));
        assert_eq!(m.base, Base::Rip);
    }

    #[test]
    fn not_a_check() {
        for bytes in [
            &[0xF3, 0x0F, 0x1B, 0x00][..], // BNDMK
            &[0x66, 0x0F, 0x1A, 0xC1],     // BNDMOV
            &[0x66, 0x0F, 0x1B, 0xC1],     // BNDMOV
            &[0x0F, 0x1A, 0x04, 0x18],     // BNDLDX
            &[0x0F, 0x1B, 0x04, 0x18],     // BNDSTX
            &[0x90],
            &[0xF3, 0x90],
            &[0xF3, 0x0F, 0x1C, 0x00],
        ] {
            assert_eq!(
                decode(Mode::Long64, bytes),
                Err(DecodeError::NotABoundsCheck)
            );
            assert_eq!(
                decode(Mode::Compat32, bytes),
                Err(DecodeError::NotABoundsCheck)
            );
        }
        // 48 is DEC EAX in 32-bit mode, a (ignored) REX.W in 64-bit mode.
        let bytes = [0xF3, 0x48, 0x0F, 0x1A, 0x00];
        assert_eq!(
            decode(Mode::Compat32, &bytes),
            Err(DecodeError::NotABoundsCheck)
        );
        assert_eq!(ok(Mode::Long64, &bytes).length, 5);
    }

    #[test]
    fn mandatory_prefix_rules() {
        // The last of F2/F3 wins; 66 is ignored next to them.
        assert_eq!(
            ok(Mode::Long64, &[0xF3, 0xF2, 0x0F, 0x1A, 0x00]).kind,
            CheckKind::Upper
        );
        assert_eq!(
            ok(Mode::Long64, &[0xF2, 0xF3, 0x0F, 0x1A, 0x00]).kind,
            CheckKind::Lower
        );
        assert_eq!(
            ok(Mode::Long64, &[0x66, 0xF3, 0x0F, 0x1A, 0x00]).kind,
            CheckKind::Lower
        );
        assert_eq!(
            ok(Mode::Long64, &[0xF3, 0x66, 0x0F, 0x1A, 0x00]).kind,
            CheckKind::Lower
        );
        assert_eq!(
            decode(Mode::Long64, &[0xF2, 0xF3, 0x0F, 0x1B, 0x00]),
            Err(DecodeError::NotABoundsCheck),
            "F3 0F 1B is BNDMK"
        );
    }

    #[test]
    fn rex_must_be_last() {
        // 41 then F3: the REX is cancelled, so the base is rax, not r8.
        let c = ok(Mode::Long64, &[0x41, 0xF3, 0x0F, 0x1A, 0x00]);
        assert_eq!(memory(&c).base, Base::Register(Gpr::RAX));
        assert_eq!(c.length, 5);
        // 41 then 40: the REX.B of the first one is gone too.
        let c = ok(Mode::Long64, &[0xF3, 0x41, 0x40, 0x0F, 0x1A, 0x00]);
        assert_eq!(memory(&c).base, Base::Register(Gpr::RAX));
        // Two REX: the last one counts.
        let c = ok(Mode::Long64, &[0xF3, 0x44, 0x41, 0x0F, 0x1A, 0x00]);
        assert_eq!(memory(&c).base, Base::Register(Gpr::R8));
        assert_eq!(c.bound_register, Bnd::Bnd0);
    }

    #[test]
    fn address_size_prefix() {
        // 64-bit mode: 67 is ignored by MPX (SDM vol. 1 table 17-3).
        let m = memory(&ok(Mode::Long64, &[0x67, 0xF3, 0x0F, 0x1A, 0x00]));
        assert_eq!(m.address_size, AddressSize::Bits64);
        // 32-bit mode: memory forms are #UD, register forms ignore it.
        assert_eq!(
            decode(Mode::Compat32, &[0x67, 0xF3, 0x0F, 0x1A, 0x00]),
            Err(DecodeError::SixteenBitAddressing)
        );
        assert_eq!(
            ok(Mode::Compat32, &[0x67, 0xF3, 0x0F, 0x1A, 0xC0]).length,
            5
        );
    }

    #[test]
    fn lock_is_rejected() {
        assert_eq!(
            decode(Mode::Long64, &[0xF0, 0xF3, 0x0F, 0x1A, 0x00]),
            Err(DecodeError::LockPrefix)
        );
    }

    #[test]
    fn length_limit() {
        // 7 prefixes + an 8-byte instruction = 15: fine.
        let mut bytes = [0x2E; 20];
        bytes[7..15].copy_from_slice(&[0xF3, 0x0F, 0x1A, 0x80, 1, 2, 3, 4]);
        assert_eq!(ok(Mode::Long64, &bytes).length, 15);
        // 8 prefixes: 16 bytes.
        let mut bytes = [0x2E; 20];
        bytes[8..16].copy_from_slice(&[0xF3, 0x0F, 0x1A, 0x80, 1, 2, 3, 4]);
        assert_eq!(decode(Mode::Long64, &bytes), Err(DecodeError::TooLong));
        assert_eq!(decode(Mode::Long64, &[0x66; 15]), Err(DecodeError::TooLong));
        assert_eq!(
            decode(Mode::Long64, &[0x66; 14]),
            Err(DecodeError::Truncated)
        );
        assert_eq!(decode(Mode::Long64, &[]), Err(DecodeError::Truncated));
    }

    #[test]
    fn effective_address_wraps() {
        use crate::violation::RegisterSnapshot;
        let regs = RegisterSnapshot::default()
            .with(Gpr::RAX, u64::MAX)
            .with(Gpr::RBX, 0x1_0000_0010);
        // bndcu -0x10(%rax,%rbx,8): wraps at 2^64.
        let c = ok(Mode::Long64, &[0xF2, 0x0F, 0x1A, 0x44, 0xD8, 0xF0]);
        let expected = u64::MAX
            .wrapping_add(0x1_0000_0010u64.wrapping_mul(8))
            .wrapping_sub(16);
        assert_eq!(c.checked_address(&regs), expected);
        // Same bytes in 32-bit mode: only low halves, wraps at 2^32.
        let c = ok(Mode::Compat32, &[0xF2, 0x0F, 0x1A, 0x44, 0xD8, 0xF0]);
        assert_eq!(
            c.checked_address(&regs),
            0xFFFF_FFFFu64.wrapping_add(0x80 - 16) & 0xFFFF_FFFF
        );
    }

    #[test]
    fn rip_relative_uses_next_instruction() {
        use crate::violation::RegisterSnapshot;
        let regs = RegisterSnapshot::new([0; 16], 0x40_1000);
        let c = ok(Mode::Long64, &[0xF2, 0x0F, 0x1A, 0x05, 0x10, 0, 0, 0]);
        assert_eq!(c.checked_address(&regs), 0x40_1000 + 8 + 0x10);
    }
}
