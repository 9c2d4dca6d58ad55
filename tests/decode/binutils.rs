//! The table tests: the decoder against the rows of [`super::tables`].

use super::tables::{Agree, AGREE, DISAGREE, REJECT};
use super::*;

fn decode_ok(mode: Mode, bytes: &[u8], source: &str) -> BoundsCheck {
    decode(mode, bytes).unwrap_or_else(|error| panic!("{source} ({mode:?}): {error:?}"))
}

#[test]
fn table_is_big_enough() {
    // Every kind in both modes, every register operand, plus the special
    // cases listed in the module docs.
    assert_eq!(AGREE.len(), 450);
    assert_eq!(REJECT.len(), 30);
    assert_eq!(DISAGREE.len(), 3);
    for mode in [L64, C32] {
        for kind in [
            CheckKind::Lower,
            CheckKind::Upper,
            CheckKind::UpperNoComplement,
        ] {
            for bnd in Bnd::ALL {
                assert!(AGREE.iter().any(|row| {
                    row.mode == mode && {
                        let check = decode_ok(row.mode, row.bytes, row.source);
                        check.kind() == kind && check.bound_register() == bnd
                    }
                }));
            }
        }
    }
}

#[test]
fn agrees_with_objdump() {
    for row in AGREE {
        let check = decode_ok(row.mode, row.bytes, row.source);
        assert_eq!(check.length(), row.bytes.len(), "{}", row.source);
        assert_eq!(check.mode(), row.mode);
        let (lone_rex, last) = match row.objdump.rsplit_once(" | ") {
            Some((lone_rex, last)) => (Some(lone_rex), last),
            None => (None, row.objdump),
        };
        if let Some(lone_rex) = lone_rex {
            assert!(
                row.mode == L64
                    && lone_rex
                        .split(" | ")
                        .all(|word| is_prefix_word(word.trim())),
                "{}: {}",
                row.source,
                row.objdump
            );
        }
        let (expected, comment) = normalize_objdump(last);
        if let Err(difference) = same_as_objdump(&check, row.mode, &expected, row.bytes.len()) {
            panic!("{} ({:?}): {difference}", row.source, row.mode);
        }

        // RIP-relative target: the row was assembled at address 0.
        let at_zero = test_registers(0);
        match comment {
            Some(target) => {
                assert!(is_rip_relative(&check), "{}", row.source);
                assert_eq!(check.checked_address(&at_zero), target, "{}", row.source);
            }
            None => assert!(!is_rip_relative(&check), "{}", row.source),
        }
    }
}

#[test]
fn rejects_what_objdump_rejects() {
    for row in REJECT {
        assert_eq!(
            decode(row.mode, row.bytes),
            Err(row.error),
            "{}",
            row.source
        );
        let first = row.objdump.split(" | ").next().unwrap();
        let (normalized, _) = normalize_objdump(first);
        let objdump_accepts_check = ["bndcl ", "bndcu ", "bndcn "]
            .iter()
            .any(|m| normalized.starts_with(m))
            && !normalized.contains("(bad)");
        assert!(
            !objdump_accepts_check,
            "{}: objdump {:?}",
            row.source, row.objdump
        );
    }
}

#[test]
fn deliberate_disagreements() {
    for row in DISAGREE {
        match (decode(row.mode, row.bytes), row.ours) {
            (Ok(check), Ok(ours)) => {
                assert_eq!(check.length(), row.bytes.len(), "{}", row.source);
                if let Err(difference) = same_as_objdump(&check, row.mode, ours, row.bytes.len()) {
                    panic!("{} ({}): {difference}", row.source, row.why);
                }
            }
            (Err(error), Err(ours)) => assert_eq!(error, ours, "{}", row.source),
            (got, ours) => panic!("{}: decoded {got:?}, table says {ours:?}", row.source),
        }
        let last = row.objdump.rsplit(" | ").next().unwrap();
        let (theirs, _) = normalize_objdump(last);
        assert_ne!(
            Ok(theirs.as_str()),
            row.ours,
            "{}: not a disagreement",
            row.source
        );
    }
}

#[test]
fn every_short_copy_is_truncated_and_longer_copies_agree() {
    for row in AGREE {
        let full = decode_ok(row.mode, row.bytes, row.source);
        for len in 0..row.bytes.len() {
            assert_eq!(
                decode(row.mode, &row.bytes[..len]),
                Err(DecodeError::Truncated),
                "{} cut to {len}",
                row.source
            );
        }
        for junk in [0x00u8, 0x0F, 0x66, 0x90, 0xF3, 0xFF] {
            let mut longer = row.bytes.to_vec();
            while longer.len() < 20 {
                longer.push(junk);
                assert_eq!(
                    decode(row.mode, &longer),
                    Ok(full),
                    "{} + {junk:#x}",
                    row.source
                );
            }
        }
    }
}

#[test]
fn every_copy_length_of_every_table_row() {
    // Copies of 0..=15 bytes of each row (followed by more bytes when the
    // copy is longer than the row): Truncated until the decoder can decide,
    // then the answer for the whole row, and never anything else.
    let rows = AGREE
        .iter()
        .map(|row| (row.mode, row.bytes, row.source))
        .chain(REJECT.iter().map(|row| (row.mode, row.bytes, row.source)))
        .chain(DISAGREE.iter().map(|row| (row.mode, row.bytes, row.source)));
    for (mode, bytes, source) in rows {
        let full = decode(mode, bytes);
        let mut copy = bytes.to_vec();
        copy.resize(copy.len().max(MAX_INSTRUCTION_LEN), 0x0F);
        let mut decided = false;
        for len in 0..=MAX_INSTRUCTION_LEN {
            let got = decode(mode, &copy[..len]);
            if len >= bytes.len() {
                assert_eq!(got, full, "{source} ({mode:?}) copy of {len}");
            } else if got != Err(DecodeError::Truncated) {
                assert!(full.is_err(), "{source}: a shorter copy decoded");
                assert_eq!(got, full, "{source} ({mode:?}) copy of {len}");
                decided = true;
            } else {
                assert!(!decided, "{source} ({mode:?}): Truncated again at {len}");
            }
        }
    }
}

/// A memory operand as objdump prints it (normalised), with the
/// displacement encoding taken from the ModRM byte.
struct Printed<'a> {
    base: Option<&'a str>,
    index: Option<(&'a str, u8)>,
    /// ModRM.mod: 0 (no displacement, or disp32 without a base), 1 (disp8),
    /// 2 (disp32).
    modrm_mod: u8,
    /// A segment-override prefix before the opcode.
    segment_prefix: bool,
}

/// The memory operand of an AGREE row, `None` for a register operand.
fn printed(row: &'static Agree) -> Option<Printed<'static>> {
    let last = row.objdump.rsplit(" | ").next().unwrap();
    let (text, _) = normalize_objdump(last);
    let text: &'static str = Box::leak(text.into_boxed_str());
    let operand = text.split_once(' ')?.1.rsplit_once(',')?.0;
    let operand = operand.split_once(':').map_or(operand, |(_, rest)| rest);
    if operand.starts_with('%') {
        return None;
    }
    let inner = operand
        .split_once('(')
        .map(|(_, inner)| inner.trim_end_matches(')'));
    let parts: Vec<&str> = inner.map_or(Vec::new(), |inner| inner.split(',').collect());
    let base = parts.first().filter(|b| !b.is_empty()).map(|b| &b[1..]);
    let index = (parts.len() == 3).then(|| (&parts[1][1..], parts[2].parse().unwrap()));
    let escape = row.bytes.iter().position(|&b| b == 0x0F).unwrap();
    Some(Printed {
        base,
        index,
        modrm_mod: row.bytes[escape + 2] >> 6,
        segment_prefix: row.bytes[..escape]
            .iter()
            .any(|b| matches!(b, 0x26 | 0x2E | 0x36 | 0x3E | 0x64 | 0x65)),
    })
}

#[test]
fn each_special_case_is_in_the_table() {
    // Guard against the table losing a case the module docs promise.
    let has = |predicate: &dyn Fn(&Agree, &Printed) -> bool| {
        AGREE
            .iter()
            .any(|row| printed(row).is_some_and(|p| predicate(row, &p)))
    };
    for mode in [L64, C32] {
        let named = |p: &Printed, names: [&str; 2]| p.base.is_some_and(|b| names.contains(&b));
        assert!(has(&|r, p| r.mode == mode
            && p.modrm_mod == 0
            && p.base.is_some()));
        assert!(has(&|r, p| r.mode == mode && p.modrm_mod == 1));
        assert!(has(&|r, p| r.mode == mode
            && p.modrm_mod == 2
            && p.base.is_some()));
        for scale in [1, 2, 4, 8] {
            assert!(has(
                &|r, p| r.mode == mode && p.index.is_some_and(|i| i.1 == scale)
            ));
        }
        // SIB base 101 with mod 00: no base, disp32, with and without index.
        assert!(has(&|r, p| r.mode == mode
            && p.base.is_none()
            && p.index.is_some()));
        assert!(has(&|r, p| r.mode == mode
            && p.base.is_none()
            && p.index.is_none()
            && r.bytes.contains(&0x25)));
        assert!(has(&|r, p| r.mode == mode && p.segment_prefix));
        assert!(has(&|r, p| r.mode == mode && named(p, ["rsp", "esp"])));
        assert!(has(&|r, p| r.mode == mode && named(p, ["rbp", "ebp"])));
    }
    assert!(has(&|r, p| r.mode == L64 && p.base == Some("rip")));
    assert!(has(&|r, p| r.mode == C32 && p.base.is_none()));
    assert!(has(&|_, p| p.index.is_some_and(|i| i.0 == "r12")));
    assert!(has(&|_, p| p.base == Some("r12")));
    assert!(has(&|_, p| p.base == Some("r13")));
    for register in 0..16 {
        let gpr = Gpr::new(register).unwrap();
        assert!(AGREE.iter().any(|row| row.mode == L64
            && decode_ok(row.mode, row.bytes, row.source).register_operand() == Some(gpr)));
    }
}

/// Re-assembles every row with the installed binutils.
#[test]
#[ignore = "needs GNU as and objdump; re-checks the table against them"]
fn table_matches_installed_binutils() {
    fn assemble(mode: Mode, source: &str, n: usize) -> Vec<(Vec<u8>, String)> {
        objdump_listing(mode, source, &n.to_string())
            .into_iter()
            .map(|(_, bytes, text)| (bytes, text))
            .collect()
    }

    fn row_text(bytes: &[u8]) -> String {
        let list: Vec<String> = bytes.iter().map(|b| format!("{b:#04x}")).collect();
        format!("&[{}]", list.join(", "))
    }

    // What the installed binutils make of row `n`: its bytes, and objdump's
    // instructions joined by " | ".
    let fresh = |mode: Mode, source: &str, n: usize| -> (Vec<u8>, String) {
        let got = assemble(mode, source, n);
        let bytes = got.iter().flat_map(|(bytes, _)| bytes.clone()).collect();
        let texts: Vec<&str> = got.iter().map(|(_, text)| text.as_str()).collect();
        (bytes, texts.join(" | "))
    };
    let mode_name = |mode: Mode| if mode == L64 { "L64" } else { "C32" };

    let mut mismatches = 0;
    for (n, row) in AGREE.iter().enumerate() {
        let (bytes, text) = fresh(row.mode, row.source, n);
        if bytes != row.bytes || text != row.objdump {
            mismatches += 1;
            eprintln!(
                "    ok({}, {:?}, {}, {:?}),",
                mode_name(row.mode),
                row.source,
                row_text(&bytes),
                text
            );
        }
    }
    for (n, row) in REJECT.iter().enumerate() {
        let (bytes, text) = fresh(row.mode, row.source, AGREE.len() + n);
        if bytes != row.bytes || text != row.objdump {
            mismatches += 1;
            eprintln!(
                "    bad({}, {:?}, {}, {:?}, DecodeError::{:?}),",
                mode_name(row.mode),
                row.source,
                row_text(&bytes),
                text,
                row.error
            );
        }
    }
    for (n, row) in DISAGREE.iter().enumerate() {
        let (bytes, text) = fresh(row.mode, row.source, AGREE.len() + REJECT.len() + n);
        if bytes != row.bytes || text != row.objdump {
            mismatches += 1;
            eprintln!(
                "    differ({}, {:?}, {}, {:?}, {:?}, {:?}),",
                mode_name(row.mode),
                row.source,
                row_text(&bytes),
                text,
                row.ours,
                row.why
            );
        }
    }
    assert_eq!(
        mismatches, 0,
        "rows differ from the installed binutils (printed above)"
    );
}
