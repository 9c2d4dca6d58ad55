//! Every ModRM and SIB byte, in both modes, against a model of the SDM tables.

use super::*;

/// One encoding of the sweep: a bounds check built from its fields.
#[derive(Clone, Copy, Debug)]
struct Sweep {
    mode: Mode,
    kind: CheckKind,
    /// An address-size override (`67`) before the mandatory prefix.
    addr_override: bool,
    /// A REX byte between the mandatory prefix and `0F` (64-bit mode only).
    rex: Option<u8>,
    modrm: u8,
    /// Present exactly when ModRM has mod != 11 and r/m = 100.
    sib: Option<u8>,
}

/// Displacement bytes: negative as disp8 (-0x8) and as disp32
/// (0x9EFCF9F8), so sign extension matters, and all different, so byte
/// order does. Each is also a one-byte instruction (`clc`, `stc`, `cld`,
/// `sahf`), so objdump stays in step when it decodes fewer bytes than the
/// decoder (16-bit addressing in 32-bit mode).
const SWEEP_DISPLACEMENT: [u8; 4] = [0xF8, 0xF9, 0xFC, 0x9E];

impl Sweep {
    fn needs_sib(modrm: u8) -> bool {
        modrm >> 6 != 3 && modrm & 7 == 4
    }

    /// The instruction's own bytes, displacement included, nothing after.
    fn bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(12);
        if self.addr_override {
            bytes.push(0x67);
        }
        bytes.push(match self.kind {
            CheckKind::Lower => 0xF3,
            CheckKind::Upper | CheckKind::UpperNoComplement => 0xF2,
        });
        bytes.extend(self.rex);
        bytes.push(0x0F);
        bytes.push(match self.kind {
            CheckKind::Lower | CheckKind::Upper => 0x1A,
            CheckKind::UpperNoComplement => 0x1B,
        });
        bytes.push(self.modrm);
        bytes.extend(self.sib);
        let displacement = match (self.modrm >> 6, self.modrm & 7, self.sib) {
            (1, _, _) => 1,
            (2, _, _) => 4,
            (0, 5, _) => 4,
            (0, 4, Some(sib)) if sib & 7 == 5 => 4,
            _ => 0,
        };
        bytes.extend_from_slice(&SWEEP_DISPLACEMENT[..displacement]);
        bytes
    }

    /// Where a decision can first be made: after ModRM (the bound register
    /// and, in 32-bit mode, `67` with a memory operand are known there).
    fn modrm_end(&self) -> usize {
        usize::from(self.addr_override) + usize::from(self.rex.is_some()) + 4
    }

    /// What the decoder must say, derived from the fields by the SDM rules
    /// (vol. 2A tables 2-2 and 2-3, §2.2.1; vol. 1 table 17-3), written
    /// independently of the decoder: `Ok((length, checked address))` at
    /// the registers of [`test_registers`] with RIP = `rip`.
    fn expected(&self, rip: u64) -> Result<(usize, u64), DecodeError> {
        let rex = self.rex.unwrap_or(0);
        let (r, x, b) = ((rex >> 2) & 1, (rex >> 1) & 1, rex & 1);
        let (md, reg, rm) = (self.modrm >> 6, (self.modrm >> 3) & 7, self.modrm & 7);
        let bound = reg | r << 3;
        if bound > 3 {
            return Err(DecodeError::BadBoundRegister { number: bound });
        }
        let regs = test_registers(rip);
        let mask = match self.mode {
            Mode::Long64 => u64::MAX,
            Mode::Compat32 => 0xFFFF_FFFF,
        };
        let value = |number: u8| regs.gprs[usize::from(number)] & mask;
        let length = self.bytes().len();
        if md == 3 {
            return Ok((length, value(rm | b << 3)));
        }
        if self.mode == C32 && self.addr_override {
            return Err(DecodeError::SixteenBitAddressing);
        }
        let disp8 = i64::from(SWEEP_DISPLACEMENT[0] as i8) as u64;
        let disp32 = i64::from(i32::from_le_bytes(SWEEP_DISPLACEMENT)) as u64;
        let next_rip = rip.wrapping_add(length as u64);
        let address = match (md, rm, self.sib) {
            (0, 5, None) if self.mode == L64 => next_rip.wrapping_add(disp32),
            (0, 5, None) => disp32,
            (_, 4, Some(sib)) => {
                let (scale, index, base) = (sib >> 6, (sib >> 3) & 7 | x << 3, sib & 7);
                let index_term = if index == 4 { 0 } else { value(index) << scale };
                let base_term = match (md, base) {
                    (0, 5) => disp32,
                    (0, _) => value(base | b << 3),
                    (1, _) => value(base | b << 3).wrapping_add(disp8),
                    _ => value(base | b << 3).wrapping_add(disp32),
                };
                base_term.wrapping_add(index_term)
            }
            (0, _, None) => value(rm | b << 3),
            (1, _, None) => value(rm | b << 3).wrapping_add(disp8),
            (_, _, _) => value(rm | b << 3).wrapping_add(disp32),
        };
        Ok((length, address & mask))
    }
}

/// Every ModRM byte, and every SIB byte where one follows, for each of
/// BNDCL/BNDCU/BNDCN; with and without `67` in both modes, and with each
/// of the sixteen REX bytes in 64-bit mode.
fn sweep() -> Vec<Sweep> {
    let mut cases = Vec::new();
    let kinds = [
        CheckKind::Lower,
        CheckKind::Upper,
        CheckKind::UpperNoComplement,
    ];
    let mut variants: Vec<(Mode, bool, Option<u8>)> = vec![
        (L64, false, None),
        (L64, true, None),
        (C32, false, None),
        (C32, true, None),
    ];
    variants.extend((0x40..=0x4F).map(|rex| (L64, false, Some(rex))));
    for (mode, addr_override, rex) in variants {
        for kind in kinds {
            for modrm in 0..=255u8 {
                let sibs: Vec<Option<u8>> = if Sweep::needs_sib(modrm) {
                    (0..=255).map(Some).collect()
                } else {
                    vec![None]
                };
                for sib in sibs {
                    cases.push(Sweep {
                        mode,
                        kind,
                        addr_override,
                        rex,
                        modrm,
                        sib,
                    });
                }
            }
        }
    }
    cases
}

#[test]
fn every_modrm_and_sib_in_both_modes() {
    let cases = sweep();
    // 20 prefix variants x 3 kinds x (232 ModRM without SIB + 24 x 256 with).
    assert_eq!(cases.len(), 20 * 3 * (232 + 24 * 256));
    let rip = 0x0804_8000;
    let regs = test_registers(rip);
    let mut accepted = 0;
    for case in &cases {
        let bytes = case.bytes();
        let result = decode(case.mode, &bytes);
        let expected = case.expected(rip);
        match (result, expected) {
            (Ok(check), Ok((length, address))) => {
                accepted += 1;
                assert_eq!(check.length(), length, "{case:x?}");
                assert_eq!(check.checked_address(&regs), address, "{case:x?}");
                assert_eq!(check.kind(), case.kind, "{case:x?}");
                assert_eq!(
                    check.bound_register().number(),
                    (case.modrm >> 3) & 7,
                    "{case:x?}"
                );
                assert_eq!(
                    check.register_operand().is_some(),
                    case.modrm >> 6 == 3,
                    "{case:x?}"
                );
                let rip_relative =
                    case.mode == L64 && case.modrm & 0xC7 == 0x05 && case.sib.is_none();
                assert_eq!(is_rip_relative(&check), rip_relative, "{case:x?}");
            }
            (result, expected) => {
                assert_eq!(result.map(|_| ()), expected.map(|_| ()), "{case:x?}")
            }
        }
    }
    // Bound registers 0..=3 of 0..=7 (REX.R doubles the rejected ones),
    // and in 32-bit mode 67 leaves only register operands.
    assert!(accepted > cases.len() / 4, "{accepted}");
}

#[test]
fn every_copy_length_of_every_sweep_case() {
    // Every copy length 0..=15: shorter than the instruction is Truncated
    // (or, once ModRM is read, the same error as the full copy); longer
    // gives the same answer whatever follows.
    for case in sweep() {
        let bytes = case.bytes();
        let full = decode(case.mode, &bytes);
        let mut copy = bytes.clone();
        copy.resize(MAX_INSTRUCTION_LEN, 0x0F);
        for len in 0..=MAX_INSTRUCTION_LEN {
            let got = decode(case.mode, &copy[..len]);
            if len >= bytes.len() {
                assert_eq!(got, full, "{case:x?} copy of {len}");
            } else if full.is_ok() || len < case.modrm_end() {
                assert_eq!(got, Err(DecodeError::Truncated), "{case:x?} copy of {len}");
            } else {
                assert_eq!(got, full, "{case:x?} copy of {len}");
            }
        }
    }
}

/// Checks every encoding of [`sweep`] against the installed binutils: each
/// one is assembled as `.byte` data in a 32-byte slot of its own (padded
/// with one-byte NOPs) and objdump's instruction at the slot is compared with
/// the decoder's answer. Accepted encodings must have objdump's length,
/// text and (for RIP-relative ones) target; rejected ones must not be a
/// clean BNDCL/BNDCU/BNDCN for objdump. Prints every difference.
#[test]
#[ignore = "needs GNU as and objdump; sweeps every ModRM/SIB byte through them"]
fn sweep_matches_installed_binutils() {
    // At most 11 bytes of instruction, then one-byte NOPs: whatever objdump
    // makes of the bytes, an instruction (15 bytes at most) that starts
    // inside them ends before the next slot, so objdump is back in step.
    const SLOT: u64 = 32;
    let cases = sweep();
    let mut checked = 0;
    let mut accepted = 0;
    let mut differences = Vec::new();
    for mode in [L64, C32] {
        let in_mode: Vec<&Sweep> = cases.iter().filter(|case| case.mode == mode).collect();
        let mut source = String::new();
        for case in &in_mode {
            let list: Vec<String> = case.bytes().iter().map(|b| format!("{b:#04x}")).collect();
            source += &format!(".byte {}\n.p2align 5, 0x90\n", list.join(","));
        }
        let listing = objdump_listing(mode, &source, &format!("sweep-{mode:?}"));
        let at: std::collections::HashMap<u64, (Vec<u8>, String)> = listing
            .into_iter()
            .map(|(address, bytes, text)| (address, (bytes, text)))
            .collect();
        for (slot, case) in in_mode.iter().enumerate() {
            let address = slot as u64 * SLOT;
            let bytes = case.bytes();
            let Some((their_bytes, their_text)) = at.get(&address) else {
                differences.push(format!(
                    "{mode:?} {bytes:02x?}: no objdump line at {address:#x}"
                ));
                continue;
            };
            checked += 1;
            let (theirs, target) = normalize_objdump(their_text);
            let clean_check = ["bndcl ", "bndcu ", "bndcn "]
                .iter()
                .any(|m| theirs.starts_with(m))
                && !theirs.contains("(bad)");
            match decode(mode, &bytes) {
                Ok(check) => {
                    accepted += 1;
                    let regs = test_registers(address);
                    let same = *their_bytes == bytes
                        && same_as_objdump(&check, mode, &theirs, bytes.len()).is_ok()
                        && match target {
                            Some(target) => target == check.checked_address(&regs),
                            None => !is_rip_relative(&check),
                        };
                    if !same {
                        differences.push(format!(
                            "{mode:?} {bytes:02x?}: ours {check:?}, objdump {their_bytes:02x?} {their_text:?}"
                        ));
                    }
                }
                Err(error) => {
                    if clean_check {
                        differences.push(format!(
                            "{mode:?} {bytes:02x?}: ours {error:?}, objdump {their_text:?}"
                        ));
                    }
                }
            }
        }
    }
    for difference in &differences {
        eprintln!("{difference}");
    }
    eprintln!(
        "{checked} of {} sweep encodings checked against objdump ({accepted} accepted, {} rejected), {} differences",
        cases.len(),
        checked - accepted,
        differences.len()
    );
    assert_eq!(checked, cases.len());
    assert!(differences.is_empty());
}
