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
//!   for mandatory prefixes; GNU objdump does the same). Segment overrides
//!   change nothing (the checks compare effective addresses). LOCK makes the instruction #UD, so it is rejected
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
//! tests (`tests/decode/`: every ModRM and SIB byte in both modes, every
//! copy length, random bytes), `fuzz/` has a cargo-fuzz target that runs on
//! stable Rust: `cargo fuzz run --sanitizer none decode`.

use super::check::{Bnd, BoundsCheck, CheckKind, DecodeError, MAX_INSTRUCTION_LEN};
use super::operand::{AddressSize, Base, MemoryOperand, Operand, Scale, ScaledIndex};
use super::regs::Gpr;
use crate::arch::Mode;

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
    rex: Rex,
}

/// Consumes prefixes and returns them with the first non-prefix byte.
fn read_prefixes(mode: Mode, cursor: &mut Cursor<'_>) -> Result<(Prefixes, u8), DecodeError> {
    let mut prefixes = Prefixes {
        lock: false,
        repeat: None,
        address_size_override: false,
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
            // Segment overrides: the checks use the effective address, which
            // no segment base enters.
            0x26 | 0x2E | 0x36 | 0x3E | 0x64 | 0x65 => {}
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
        let displacement = match mode_bits {
            0b01 => cursor.disp8()?,
            0b10 => cursor.disp32()?,
            _ if absolute_disp32 => cursor.disp32()?,
            _ => 0,
        };
        Operand::Memory(MemoryOperand {
            base,
            index,
            displacement,
            address_size,
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
