//! Host tests for the bounds-check decoder and the violation report.
//!
//! # The binutils tables
//!
//! [`AGREE`], [`REJECT`] and [`DISAGREE`] at the end of this file were
//! produced with GNU as 2.40 and objdump 2.40 (Debian): each row's `source`
//! was assembled on its own (`as --64` or `as --32`, one object per row, at
//! offset 0) and disassembled with `objdump -d --insn-width=16`; `bytes` and
//! `objdump` are that output, verbatim (several instructions are joined by
//! ` | `). Rows whose source is `.byte ...` cover encodings as never emits
//! (redundant prefixes, SIB index 100, REX placement, `67`). The ignored test
//! [`table_matches_installed_binutils`] repeats the assembly and prints every
//! row that no longer matches, in the table's own syntax; run it (and the
//! sweep below) with `cargo test --test decode -- --ignored` after adding a
//! row (`bytes` and `objdump` may be left empty in a new row and copied from
//! its output). [`every_copy_length_of_every_table_row`] cuts every row of
//! the three tables to each copy length 0..=15.
//!
//! For each [`AGREE`] row the decoder must
//! * accept exactly `bytes` (length = `bytes.len()`),
//! * render (as objdump would) to objdump's text, after removing prefix
//!   words objdump prints for prefixes that change nothing (`cs`, `data16`,
//!   `addr32`, `rex.W`, ...) and its `%riz`/`%eiz` "no index" pseudo-register,
//! * compute the same RIP-relative target as objdump's `# 0x...` comment,
//! * compute the same checked address as an independent evaluation of
//!   objdump's operand text, and
//! * give `Truncated` for every shorter copy and the same result for every
//!   longer one (junk appended, up to 20 bytes).
//!
//! For each [`REJECT`] row the decoder returns the listed error and objdump
//! shows `(bad)` or some other instruction.
//!
//! [`DISAGREE`] lists where the decoder follows the SDM and objdump does not,
//! each with its reason: a LOCK prefix (objdump prints `lock bndcl`, the CPU
//! raises #UD) and two REX prefixes in a row (objdump splits the instruction,
//! the CPU ignores the first REX).
//!
//! # The sweep
//!
//! [`sweep`] builds every ModRM byte, and every SIB byte where one follows,
//! for each of BNDCL/BNDCU/BNDCN, in 64-bit mode without a prefix, with
//! `67` and with each of the sixteen REX bytes, and in 32-bit mode with and
//! without `67`: 382,560 encodings. [`every_modrm_and_sib_in_both_modes`]
//! checks the decoder on each against a model written from the SDM tables
//! (length, checked address, bound register, error), and
//! [`every_copy_length_of_every_sweep_case`] every copy length 0..=15 of
//! each. The ignored test [`sweep_matches_installed_binutils`] runs the
//! whole sweep through GNU as/objdump (about ten seconds); with binutils
//! 2.40 it finds no difference.
//!
//! Not disagreements, although objdump's output looks odd, per the SDM
//! (vol. 1 table 17-3): in 64-bit mode `67` is ignored by MPX (objdump prints
//! an unused `addr32` and 64-bit registers, as the decoder does); in 32-bit
//! mode `67` with a memory operand is #UD (objdump prints `(bad)`), while the
//! register form ignores it (objdump agrees). A REX followed by a legacy
//! prefix is ignored; objdump shows it on a line of its own and the decoder
//! counts it as part of the instruction, which is where RIP points.

use mpx::arch::Mode;
use mpx::violation::{
    build_report, decode, AddressSize, Base, Bnd, BoundRegisters, BoundsCheck, CheckKind,
    DecodeError, DisplacementSize, Gpr, MemoryOperand, Operand, RegisterFile, RegisterSnapshot,
    Scale, ScaledIndex, Segment, ViolationReport, MAX_INSTRUCTION_LEN,
};
use proptest::prelude::*;

const L64: Mode = Mode::Long64;
const C32: Mode = Mode::Compat32;

/// A row objdump and the decoder both accept as BNDCL/BNDCU/BNDCN.
///
/// `objdump` is every instruction objdump saw in `bytes`, joined by ` | `:
/// normally one, but objdump shows a REX that a legacy prefix follows as a
/// separate `rex.W`-style line, while the CPU ignores such a REX as part of
/// the instruction (SDM vol. 2A §2.2.1: "Other placements are ignored"), and
/// so does the decoder.
struct Agree {
    mode: Mode,
    source: &'static str,
    bytes: &'static [u8],
    objdump: &'static str,
}

const fn ok(
    mode: Mode,
    source: &'static str,
    bytes: &'static [u8],
    objdump: &'static str,
) -> Agree {
    Agree {
        mode,
        source,
        bytes,
        objdump,
    }
}

/// A row the decoder rejects; `objdump` is every instruction objdump saw in
/// `bytes`, joined by ` | `.
struct Reject {
    mode: Mode,
    source: &'static str,
    bytes: &'static [u8],
    objdump: &'static str,
    error: DecodeError,
}

const fn bad(
    mode: Mode,
    source: &'static str,
    bytes: &'static [u8],
    objdump: &'static str,
    error: DecodeError,
) -> Reject {
    Reject {
        mode,
        source,
        bytes,
        objdump,
        error,
    }
}

/// A row where the decoder follows the SDM and objdump does something else.
struct Disagree {
    mode: Mode,
    source: &'static str,
    bytes: &'static [u8],
    objdump: &'static str,
    /// Our result: the rendered check (normalised objdump syntax) or error.
    ours: Result<&'static str, DecodeError>,
    why: &'static str,
}

const fn differ(
    mode: Mode,
    source: &'static str,
    bytes: &'static [u8],
    objdump: &'static str,
    ours: Result<&'static str, DecodeError>,
    why: &'static str,
) -> Disagree {
    Disagree {
        mode,
        source,
        bytes,
        objdump,
        ours,
        why,
    }
}

// ---------------------------------------------------------------------------
// Rendering our decode in objdump's AT&T syntax, and normalising objdump.
// ---------------------------------------------------------------------------

fn hex_signed(value: i64) -> String {
    if value < 0 {
        format!("-{:#x}", value.unsigned_abs())
    } else {
        format!("{value:#x}")
    }
}

fn render_memory(mode: Mode, memory: &MemoryOperand) -> String {
    let mut text = String::new();
    if let Some(segment) = memory.segment {
        // objdump shows every override in 32-bit mode, only FS/GS in 64-bit
        // mode (the others print as a separate, stripped `cs`/`ds`/... word).
        if mode == C32 || matches!(segment, Segment::Fs | Segment::Gs) {
            text += &format!("%{}:", segment.name());
        }
    }
    if memory.base == Base::None && memory.index.is_none() {
        // An absolute address: printed unsigned at the address width.
        let value = match mode {
            Mode::Long64 => i64::from(memory.displacement) as u64,
            Mode::Compat32 => u64::from(memory.displacement as u32),
        };
        return text + &format!("{value:#x}");
    }
    if memory.displacement_size != DisplacementSize::None {
        text += &hex_signed(i64::from(memory.displacement));
    }
    text.push('(');
    match memory.base {
        Base::None => {}
        Base::Register(reg) => text += &format!("%{}", reg.name(mode)),
        Base::Rip => text += "%rip",
    }
    if let Some(ScaledIndex { register, scale }) = memory.index {
        text += &format!(",%{},{}", register.name(mode), scale.factor());
    }
    text.push(')');
    text
}

fn render(check: &BoundsCheck) -> String {
    let operand = match &check.operand {
        Operand::Register(reg) => format!("%{}", reg.name(check.mode)),
        Operand::Memory(memory) => render_memory(check.mode, memory),
    };
    format!(
        "{} {},%{}",
        check.kind.mnemonic().to_ascii_lowercase(),
        operand,
        check.bound_register
    )
}

/// Prefix words objdump prints for prefixes that do not change the operand.
fn is_prefix_word(word: &str) -> bool {
    matches!(
        word,
        "cs" | "ds" | "es" | "ss" | "fs" | "gs" | "data16" | "addr32" | "addr16" | "repz" | "repnz"
    ) || word == "rex"
        || word.starts_with("rex.")
}

/// objdump's text without ignorable prefix words, without `%riz`/`%eiz`,
/// with single spaces, and with its `# target` comment split off.
fn normalize_objdump(text: &str) -> (String, Option<u64>) {
    let (main, comment) = match text.split_once('#') {
        Some((main, comment)) => {
            let comment = comment.trim();
            let target = u64::from_str_radix(comment.trim_start_matches("0x"), 16)
                .unwrap_or_else(|_| panic!("comment {comment:?}"));
            (main, Some(target))
        }
        None => (text, None),
    };
    let words: Vec<&str> = main
        .split_whitespace()
        .skip_while(|word| is_prefix_word(word))
        .collect();
    let mut joined = words.join(" ");
    for (pseudo, width_mask) in [("%riz", u64::MAX), ("%eiz", 0xFFFF_FFFF)] {
        for scale in ["1", "2", "4", "8"] {
            // `disp(,%riz,N)` is the absolute address disp, which objdump
            // prints signed; the decoder's rendering prints it unsigned.
            let no_index = format!("(,{pseudo},{scale})");
            while let Some(end) = joined.find(&no_index) {
                let start = joined[..end]
                    .rfind([' ', ',', ':'])
                    .map_or(0, |position| position + 1);
                let displacement = parse_signed_hex(&joined[start..end]);
                let absolute = format!("{:#x}", (displacement as u64) & width_mask);
                joined.replace_range(start..end + no_index.len(), &absolute);
            }
            joined = joined.replace(&format!(",{pseudo},{scale})"), ")");
        }
    }
    (joined, comment)
}

// ---------------------------------------------------------------------------
// An independent evaluation of objdump's operand text.
// ---------------------------------------------------------------------------

/// Distinct, mostly large register values so that any mix-up shows.
fn test_registers(rip: u64) -> RegisterSnapshot {
    let mut gprs = [0u64; 16];
    for (i, value) in gprs.iter_mut().enumerate() {
        *value = 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i as u64 + 1) ^ (i as u64);
    }
    RegisterSnapshot::new(gprs, rip)
}

fn register_by_name(name: &str) -> Gpr {
    const NAMES: [[&str; 2]; 16] = [
        ["rax", "eax"],
        ["rcx", "ecx"],
        ["rdx", "edx"],
        ["rbx", "ebx"],
        ["rsp", "esp"],
        ["rbp", "ebp"],
        ["rsi", "esi"],
        ["rdi", "edi"],
        ["r8", "r8d"],
        ["r9", "r9d"],
        ["r10", "r10d"],
        ["r11", "r11d"],
        ["r12", "r12d"],
        ["r13", "r13d"],
        ["r14", "r14d"],
        ["r15", "r15d"],
    ];
    let number = NAMES
        .iter()
        .position(|pair| pair.contains(&name))
        .unwrap_or_else(|| panic!("unknown register {name}"));
    Gpr::new(number as u8).unwrap()
}

fn parse_signed_hex(text: &str) -> i128 {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let digits = digits
        .strip_prefix("0x")
        .unwrap_or_else(|| panic!("{text}"));
    let value = i128::from_str_radix(digits, 16).unwrap();
    if negative {
        -value
    } else {
        value
    }
}

/// Evaluates an operand in objdump's (normalised) AT&T syntax: `%reg`,
/// `%seg:disp(base,index,scale)`, `disp`, `disp(%rip)`.
fn evaluate_att(mode: Mode, operand: &str, regs: &RegisterSnapshot, next_rip: u64) -> u64 {
    let mask: u128 = match mode {
        Mode::Long64 => u64::MAX.into(),
        Mode::Compat32 => 0xFFFF_FFFF,
    };
    let operand = match operand.split_once(':') {
        Some((_segment, rest)) => rest,
        None => operand,
    };
    if let Some(name) = operand.strip_prefix('%') {
        return (u128::from(regs.gpr(register_by_name(name))) & mask) as u64;
    }
    let (displacement, inner) = match operand.split_once('(') {
        Some((displacement, inner)) => (displacement, Some(inner.trim_end_matches(')'))),
        None => (operand, None),
    };
    let mut sum: i128 = if displacement.is_empty() {
        0
    } else {
        parse_signed_hex(displacement)
    };
    if let Some(inner) = inner {
        let parts: Vec<&str> = inner.split(',').collect();
        match parts[0] {
            "" => {}
            "%rip" => sum += i128::from(next_rip),
            base => {
                sum +=
                    i128::from(regs.gpr(register_by_name(&base[1..])) as u128 as u64 & mask as u64)
            }
        }
        if parts.len() == 3 {
            let index = regs.gpr(register_by_name(&parts[1][1..])) & mask as u64;
            let scale: i128 = parts[2].parse().unwrap();
            sum += i128::from(index) * scale;
        }
    }
    (sum.rem_euclid(mask as i128 + 1)) as u64
}

// ---------------------------------------------------------------------------
// The table tests.
// ---------------------------------------------------------------------------

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
                        check.kind == kind && check.bound_register == bnd
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
        assert_eq!(check.length, row.bytes.len(), "{}", row.source);
        assert_eq!(check.mode, row.mode);
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
        assert_eq!(render(&check), expected, "{} ({:?})", row.source, row.mode);

        // RIP-relative target: the row was assembled at address 0.
        let at_zero = test_registers(0);
        match (comment, check.operand) {
            (Some(target), Operand::Memory(memory)) => {
                assert!(memory.is_rip_relative(), "{}", row.source);
                assert_eq!(check.checked_address(&at_zero), target, "{}", row.source);
            }
            (None, Operand::Memory(memory)) => assert!(!memory.is_rip_relative()),
            (None, Operand::Register(_)) => {}
            (Some(_), Operand::Register(_)) => panic!("{}", row.source),
        }

        // The checked address against objdump's own operand text, at a
        // RIP where a 32-bit process could be.
        let regs = test_registers(0x0804_8000);
        let next_rip = 0x0804_8000 + row.bytes.len() as u64;
        let operand_text = expected
            .split_once(' ')
            .and_then(|(_, operands)| operands.rsplit_once(','))
            .map(|(operand, _bnd)| operand)
            .unwrap();
        assert_eq!(
            check.checked_address(&regs),
            evaluate_att(row.mode, operand_text, &regs, next_rip),
            "{} ({:?})",
            row.source,
            row.mode
        );
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
        let ours = decode(row.mode, row.bytes).map(|check| {
            assert_eq!(check.length, row.bytes.len(), "{}", row.source);
            render(&check)
        });
        assert_eq!(
            ours.as_deref().map_err(|e| *e),
            row.ours,
            "{} ({})",
            row.source,
            row.why
        );
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

#[test]
fn each_special_case_is_in_the_table() {
    // Guard against the table losing a case the module docs promise.
    let decoded: Vec<(Mode, BoundsCheck, &[u8])> = AGREE
        .iter()
        .map(|row| {
            (
                row.mode,
                decode_ok(row.mode, row.bytes, row.source),
                row.bytes,
            )
        })
        .collect();
    let has = |predicate: &dyn Fn(Mode, &MemoryOperand, &[u8]) -> bool| {
        decoded
            .iter()
            .any(|(mode, check, bytes)| match &check.operand {
                Operand::Memory(memory) => predicate(*mode, memory, bytes),
                Operand::Register(_) => false,
            })
    };
    for mode in [L64, C32] {
        assert!(has(
            &|m, o, _| m == mode && o.displacement_size == DisplacementSize::None
        ));
        assert!(has(
            &|m, o, _| m == mode && o.displacement_size == DisplacementSize::Disp8
        ));
        assert!(has(&|m, o, _| m == mode
            && o.displacement_size == DisplacementSize::Disp32
            && matches!(o.base, Base::Register(_))));
        for scale in [Scale::One, Scale::Two, Scale::Four, Scale::Eight] {
            assert!(has(
                &|m, o, _| m == mode && o.index.is_some_and(|i| i.scale == scale)
            ));
        }
        // SIB base 101 with mod 00: no base, disp32, with and without index.
        assert!(has(&|m, o, _| m == mode
            && o.base == Base::None
            && o.index.is_some()));
        assert!(has(&|m, o, b| m == mode
            && o.base == Base::None
            && o.index.is_none()
            && b.contains(&0x25)));
        assert!(has(&|m, o, _| m == mode && o.segment.is_some()));
        assert!(has(
            &|m, o, _| m == mode && o.base == Base::Register(Gpr::RSP)
        ));
        assert!(has(
            &|m, o, _| m == mode && o.base == Base::Register(Gpr::RBP)
        ));
    }
    assert!(has(&|m, o, _| m == L64 && o.is_rip_relative()));
    assert!(has(&|m, o, _| m == C32
        && o.address_size == AddressSize::Bits32
        && o.base == Base::None));
    assert!(has(&|_, o, _| o
        .index
        .is_some_and(|i| i.register == Gpr::R12)));
    assert!(has(&|_, o, _| o.base == Base::Register(Gpr::R12)));
    assert!(has(&|_, o, _| o.base == Base::Register(Gpr::R13)));
    for register in 0..16 {
        let gpr = Gpr::new(register).unwrap();
        assert!(decoded
            .iter()
            .any(|(m, c, _)| *m == L64 && c.operand == Operand::Register(gpr)));
    }
}

/// Assembles `source` with GNU as (`--64` or `--32`) and disassembles it
/// with `objdump -d --insn-width=16`: each instruction's address, bytes and
/// text. `tag` keeps concurrent temporary files apart.
fn objdump_listing(mode: Mode, source: &str, tag: &str) -> Vec<(u64, Vec<u8>, String)> {
    use std::process::Command;

    let dir = std::env::temp_dir();
    let stem = format!("mpx-decode-{}-{tag}", std::process::id());
    let asm = dir.join(format!("{stem}.s"));
    let object = dir.join(format!("{stem}.o"));
    std::fs::write(&asm, format!("{source}\n")).unwrap();
    let flag = if mode == L64 { "--64" } else { "--32" };
    let status = Command::new("as")
        .args([flag, asm.to_str().unwrap(), "-o", object.to_str().unwrap()])
        .status()
        .expect("GNU as");
    assert!(status.success(), "as failed on {}", asm.display());
    let output = Command::new("objdump")
        .args(["-d", "--insn-width=16", object.to_str().unwrap()])
        .output()
        .expect("objdump");
    let _ = std::fs::remove_file(&asm);
    let _ = std::fs::remove_file(&object);
    let text = String::from_utf8(output.stdout).unwrap();
    let mut instructions = Vec::new();
    let mut started = false;
    for line in text.lines() {
        if line.contains("<.text>:") {
            started = true;
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if !started || fields.len() < 3 || !fields[0].trim_end().ends_with(':') {
            continue;
        }
        let address = u64::from_str_radix(fields[0].trim().trim_end_matches(':'), 16).unwrap();
        let bytes = fields[1]
            .split_whitespace()
            .map(|byte| u8::from_str_radix(byte, 16).unwrap())
            .collect();
        instructions.push((
            address,
            bytes,
            fields[2..].join("\t").trim_end().to_string(),
        ));
    }
    instructions
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

// ---------------------------------------------------------------------------
// Every ModRM and SIB byte, in both modes.
// ---------------------------------------------------------------------------

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
                assert_eq!(check.length, length, "{case:x?}");
                assert_eq!(check.checked_address(&regs), address, "{case:x?}");
                assert_eq!(check.kind, case.kind, "{case:x?}");
                assert_eq!(
                    check.bound_register.number(),
                    (case.modrm >> 3) & 7,
                    "{case:x?}"
                );
                if let Operand::Memory(memory) = check.operand {
                    let rip_relative =
                        case.mode == L64 && case.modrm & 0xC7 == 0x05 && case.sib.is_none();
                    assert_eq!(memory.is_rip_relative(), rip_relative, "{case:x?}");
                }
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
                    let ours = render(&check);
                    let same_text = ours == theirs && *their_bytes == bytes;
                    let operand = theirs
                        .split_once(' ')
                        .and_then(|(_, operands)| operands.rsplit_once(','))
                        .map(|(operand, _)| operand);
                    let next_rip = address + bytes.len() as u64;
                    let same_address = same_text
                        && operand.is_some_and(|operand| {
                            evaluate_att(mode, operand, &regs, next_rip)
                                == check.checked_address(&regs)
                        })
                        && match target {
                            Some(target) => target == check.checked_address(&regs),
                            None => true,
                        };
                    if !same_address {
                        differences.push(format!(
                            "{mode:?} {bytes:02x?}: ours {ours:?}, objdump {their_bytes:02x?} {their_text:?}"
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

// ---------------------------------------------------------------------------
// Reports.
// ---------------------------------------------------------------------------

#[test]
fn bndcu_report_uncomplements_the_upper_bound() {
    // bndcu 0x10(%rsp,%r12,4), %bnd3  (from the table)
    let bytes = [0xf2, 0x42, 0x0f, 0x1a, 0x5c, 0xa4, 0x10];
    let regs = RegisterSnapshot::new([0; 16], 0x40_1000)
        .with(Gpr::RSP, 0x7fff_f000)
        .with(Gpr::R12, 0x100);
    let lower = 0x7fff_e000;
    let upper = 0x7fff_f3ff; // inclusive
    let bounds = BoundRegisters::new([[0; 2], [0; 2], [0; 2], [lower, !upper]]);
    let report = build_report(L64, &bytes, &regs, &bounds).unwrap();
    assert_eq!(
        report,
        ViolationReport {
            address: 0x7fff_f000 + 0x100 * 4 + 0x10,
            lower,
            upper,
            bound_register: Bnd::Bnd3,
            kind: CheckKind::Upper,
            instruction_len: 7,
        }
    );
    assert!(report.address > report.upper, "the check really fails");
    assert_eq!(
        report.to_string(),
        "bounds violation: BNDCU bnd3 address 0x7ffff410 outside \
         [0x7fffe000, 0x7ffff3ff] (insn 7 bytes)"
    );
}

#[test]
fn bndcl_and_bndcn_reports() {
    let regs = RegisterSnapshot::default().with(Gpr::RAX, 0x1000);
    let bounds = BoundRegisters::new([[0x2000, !0x2fff], [0x2000, 0x0fff], [0; 2], [0; 2]]);
    // bndcl %rax, %bnd0
    let report = build_report(L64, &[0xf3, 0x0f, 0x1a, 0xc0], &regs, &bounds).unwrap();
    assert_eq!(
        (report.address, report.lower, report.upper),
        (0x1000, 0x2000, 0x2fff)
    );
    assert_eq!(report.kind, CheckKind::Lower);
    // bndcn %rax, %bnd1: compares against the stored upper bound as is.
    let report = build_report(L64, &[0xf2, 0x0f, 0x1b, 0xc8], &regs, &bounds).unwrap();
    assert_eq!(
        (report.address, report.lower, report.upper),
        (0x1000, 0x2000, 0x0fff)
    );
    assert_eq!(report.kind, CheckKind::UpperNoComplement);
    assert!(report.address > report.upper);
}

#[test]
fn compat32_report_uses_low_halves() {
    // bndcu 0x10(%esp,%eax,4), %bnd1
    let bytes = [0xf2, 0x0f, 0x1a, 0x4c, 0x84, 0x10];
    let regs = RegisterSnapshot::default()
        .with(Gpr::RSP, 0xdead_beef_ffff_fff0)
        .with(Gpr::RAX, 0xffff_ffff_0000_0001);
    let bounds = BoundRegisters::new([
        [0; 2],
        [0xffff_ffff_0000_1000, !0x0000_0000_0000_1fffu64],
        [0; 2],
        [0; 2],
    ]);
    let report = build_report(C32, &bytes, &regs, &bounds).unwrap();
    // 0xfffffff0 + 4 + 0x10 wraps at 2^32.
    assert_eq!(report.address, 0x4);
    assert_eq!((report.lower, report.upper), (0x1000, 0x1fff));
}

#[test]
fn bound_registers_from_xsave() {
    let mut component = [0u8; 64];
    for (i, byte) in component.iter_mut().enumerate() {
        *byte = i as u8;
    }
    let bounds = BoundRegisters::from_xsave_component(&component);
    assert_eq!(bounds.lower(Bnd::Bnd0), 0x0706_0504_0302_0100);
    assert_eq!(bounds.upper_stored(Bnd::Bnd0), 0x0f0e_0d0c_0b0a_0908);
    assert_eq!(bounds.upper(Bnd::Bnd0), !0x0f0e_0d0c_0b0a_0908);
    assert_eq!(bounds.lower(Bnd::Bnd3), 0x3736_3534_3332_3130);
    assert_eq!(bounds.upper_stored(Bnd::Bnd3), 0x3f3e_3d3c_3b3a_3938);
    assert_eq!(BoundRegisters::from_xsave_slice(&component[..63]), None);
    let mut longer = component.to_vec();
    longer.extend_from_slice(&[0xAA; 64]);
    assert_eq!(BoundRegisters::from_xsave_slice(&longer), Some(bounds));
    assert_eq!(BoundRegisters::INIT.upper(Bnd::Bnd2), u64::MAX);

    // A whole XSAVE image: the same registers when XSTATE_BV marks
    // component 3 in use, INIT bounds when it does not.
    let mut image = vec![0u8; 1088];
    image[960..1024].copy_from_slice(&component);
    assert_eq!(
        BoundRegisters::from_xsave_image(&image),
        Some(BoundRegisters::INIT)
    );
    image[512] = 1 << 3; // XSTATE_BV: BNDREGS in use.
    assert_eq!(BoundRegisters::from_xsave_image(&image), Some(bounds));
    assert_eq!(BoundRegisters::from_xsave_image(&image[..1000]), None);
}

// ---------------------------------------------------------------------------
// Properties over arbitrary bytes.
// ---------------------------------------------------------------------------

fn any_mode() -> impl Strategy<Value = Mode> {
    prop_oneof![Just(L64), Just(C32)]
}

/// Byte strings biased towards the interesting encodings: some prefixes,
/// F2/F3, maybe a REX, `0F 1A`/`0F 1B`, then random ModRM/SIB/displacement.
fn likely_check() -> impl Strategy<Value = Vec<u8>> {
    let prefix = prop::sample::select(vec![
        0xF2u8, 0xF3, 0x66, 0x67, 0x2E, 0x3E, 0x26, 0x36, 0x64, 0x65, 0xF0, 0x40, 0x44, 0x41, 0x42,
        0x4F, 0x48,
    ]);
    (
        prop::collection::vec(prefix, 0..14),
        prop::sample::select(vec![0xF2u8, 0xF3]),
        prop::collection::vec(0x40u8..=0x4F, 0..2),
        prop::sample::select(vec![0x1Au8, 0x1B]),
        prop::collection::vec(any::<u8>(), 0..7),
    )
        .prop_map(|(prefixes, mandatory, rex, opcode, tail)| {
            let mut bytes = prefixes;
            bytes.push(mandatory);
            bytes.extend(rex);
            bytes.extend([0x0F, opcode]);
            bytes.extend(tail);
            bytes
        })
}

fn check_invariants(mode: Mode, bytes: &[u8]) -> Result<(), TestCaseError> {
    let result = decode(mode, bytes);
    if let Ok(check) = result {
        prop_assert!(check.length <= bytes.len());
        prop_assert!(check.length <= MAX_INSTRUCTION_LEN);
        prop_assert!(check.length >= 4);
        prop_assert_eq!(check.mode, mode);
        // Exactly the bytes it claims: the same answer on its own bytes...
        prop_assert_eq!(decode(mode, &bytes[..check.length]), Ok(check));
        // ...and any shorter copy is Truncated, never a different answer.
        for len in 0..check.length {
            prop_assert_eq!(decode(mode, &bytes[..len]), Err(DecodeError::Truncated));
        }
        if mode == C32 {
            if let Operand::Memory(memory) = check.operand {
                prop_assert_eq!(memory.address_size, AddressSize::Bits32);
                prop_assert!(!memory.is_rip_relative());
            }
        }
        let regs = test_registers(0xffff_ffff_ffff_fff0);
        let address = check.checked_address(&regs);
        let bounds = BoundRegisters::new([[u64::MAX, 1]; 4]);
        let report = ViolationReport::from_check(&check, &regs, &bounds);
        prop_assert_eq!(report.address, address);
        if mode == C32 {
            prop_assert!(address <= 0xFFFF_FFFF);
            prop_assert!(report.lower <= 0xFFFF_FFFF && report.upper <= 0xFFFF_FFFF);
        }
        let _ = report.to_string();
    } else if let Err(error) = result {
        let _ = error.to_string();
        if bytes.len() >= MAX_INSTRUCTION_LEN {
            prop_assert_ne!(error, DecodeError::Truncated, "15 bytes always suffice");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn arbitrary_bytes_never_panic(mode in any_mode(), bytes in prop::collection::vec(any::<u8>(), 0..=20)) {
        check_invariants(mode, &bytes)?;
    }

    #[test]
    fn likely_encodings_keep_the_invariants(mode in any_mode(), bytes in likely_check()) {
        check_invariants(mode, &bytes)?;
    }
}

// ---------------------------------------------------------------------------
// The tables (generated; see the module docs).
// ---------------------------------------------------------------------------

/// Encodings objdump disassembles as a single BNDCL/BNDCU/BNDCN.
#[rustfmt::skip]
const AGREE: &[Agree] = &[
    ok(L64, "bndcl %rax, %bnd0", &[0xf3, 0x0f, 0x1a, 0xc0], "bndcl  %rax,%bnd0"),
    ok(L64, "bndcl %rcx, %bnd1", &[0xf3, 0x0f, 0x1a, 0xc9], "bndcl  %rcx,%bnd1"),
    ok(L64, "bndcl %rdx, %bnd2", &[0xf3, 0x0f, 0x1a, 0xd2], "bndcl  %rdx,%bnd2"),
    ok(L64, "bndcl %rbx, %bnd3", &[0xf3, 0x0f, 0x1a, 0xdb], "bndcl  %rbx,%bnd3"),
    ok(L64, "bndcl %rsp, %bnd0", &[0xf3, 0x0f, 0x1a, 0xc4], "bndcl  %rsp,%bnd0"),
    ok(L64, "bndcl %rbp, %bnd1", &[0xf3, 0x0f, 0x1a, 0xcd], "bndcl  %rbp,%bnd1"),
    ok(L64, "bndcl %rsi, %bnd2", &[0xf3, 0x0f, 0x1a, 0xd6], "bndcl  %rsi,%bnd2"),
    ok(L64, "bndcl %rdi, %bnd3", &[0xf3, 0x0f, 0x1a, 0xdf], "bndcl  %rdi,%bnd3"),
    ok(L64, "bndcl %r8, %bnd0", &[0xf3, 0x41, 0x0f, 0x1a, 0xc0], "bndcl  %r8,%bnd0"),
    ok(L64, "bndcl %r9, %bnd1", &[0xf3, 0x41, 0x0f, 0x1a, 0xc9], "bndcl  %r9,%bnd1"),
    ok(L64, "bndcl %r10, %bnd2", &[0xf3, 0x41, 0x0f, 0x1a, 0xd2], "bndcl  %r10,%bnd2"),
    ok(L64, "bndcl %r11, %bnd3", &[0xf3, 0x41, 0x0f, 0x1a, 0xdb], "bndcl  %r11,%bnd3"),
    ok(L64, "bndcl %r12, %bnd0", &[0xf3, 0x41, 0x0f, 0x1a, 0xc4], "bndcl  %r12,%bnd0"),
    ok(L64, "bndcl %r13, %bnd1", &[0xf3, 0x41, 0x0f, 0x1a, 0xcd], "bndcl  %r13,%bnd1"),
    ok(L64, "bndcl %r14, %bnd2", &[0xf3, 0x41, 0x0f, 0x1a, 0xd6], "bndcl  %r14,%bnd2"),
    ok(L64, "bndcl %r15, %bnd3", &[0xf3, 0x41, 0x0f, 0x1a, 0xdf], "bndcl  %r15,%bnd3"),
    ok(L64, "bndcu %rax, %bnd0", &[0xf2, 0x0f, 0x1a, 0xc0], "bndcu  %rax,%bnd0"),
    ok(L64, "bndcu %rcx, %bnd1", &[0xf2, 0x0f, 0x1a, 0xc9], "bndcu  %rcx,%bnd1"),
    ok(L64, "bndcu %rdx, %bnd2", &[0xf2, 0x0f, 0x1a, 0xd2], "bndcu  %rdx,%bnd2"),
    ok(L64, "bndcu %rbx, %bnd3", &[0xf2, 0x0f, 0x1a, 0xdb], "bndcu  %rbx,%bnd3"),
    ok(L64, "bndcu %rsp, %bnd0", &[0xf2, 0x0f, 0x1a, 0xc4], "bndcu  %rsp,%bnd0"),
    ok(L64, "bndcu %rbp, %bnd1", &[0xf2, 0x0f, 0x1a, 0xcd], "bndcu  %rbp,%bnd1"),
    ok(L64, "bndcu %rsi, %bnd2", &[0xf2, 0x0f, 0x1a, 0xd6], "bndcu  %rsi,%bnd2"),
    ok(L64, "bndcu %rdi, %bnd3", &[0xf2, 0x0f, 0x1a, 0xdf], "bndcu  %rdi,%bnd3"),
    ok(L64, "bndcu %r8, %bnd0", &[0xf2, 0x41, 0x0f, 0x1a, 0xc0], "bndcu  %r8,%bnd0"),
    ok(L64, "bndcu %r9, %bnd1", &[0xf2, 0x41, 0x0f, 0x1a, 0xc9], "bndcu  %r9,%bnd1"),
    ok(L64, "bndcu %r10, %bnd2", &[0xf2, 0x41, 0x0f, 0x1a, 0xd2], "bndcu  %r10,%bnd2"),
    ok(L64, "bndcu %r11, %bnd3", &[0xf2, 0x41, 0x0f, 0x1a, 0xdb], "bndcu  %r11,%bnd3"),
    ok(L64, "bndcu %r12, %bnd0", &[0xf2, 0x41, 0x0f, 0x1a, 0xc4], "bndcu  %r12,%bnd0"),
    ok(L64, "bndcu %r13, %bnd1", &[0xf2, 0x41, 0x0f, 0x1a, 0xcd], "bndcu  %r13,%bnd1"),
    ok(L64, "bndcu %r14, %bnd2", &[0xf2, 0x41, 0x0f, 0x1a, 0xd6], "bndcu  %r14,%bnd2"),
    ok(L64, "bndcu %r15, %bnd3", &[0xf2, 0x41, 0x0f, 0x1a, 0xdf], "bndcu  %r15,%bnd3"),
    ok(L64, "bndcn %rax, %bnd0", &[0xf2, 0x0f, 0x1b, 0xc0], "bndcn  %rax,%bnd0"),
    ok(L64, "bndcn %rcx, %bnd1", &[0xf2, 0x0f, 0x1b, 0xc9], "bndcn  %rcx,%bnd1"),
    ok(L64, "bndcn %rdx, %bnd2", &[0xf2, 0x0f, 0x1b, 0xd2], "bndcn  %rdx,%bnd2"),
    ok(L64, "bndcn %rbx, %bnd3", &[0xf2, 0x0f, 0x1b, 0xdb], "bndcn  %rbx,%bnd3"),
    ok(L64, "bndcn %rsp, %bnd0", &[0xf2, 0x0f, 0x1b, 0xc4], "bndcn  %rsp,%bnd0"),
    ok(L64, "bndcn %rbp, %bnd1", &[0xf2, 0x0f, 0x1b, 0xcd], "bndcn  %rbp,%bnd1"),
    ok(L64, "bndcn %rsi, %bnd2", &[0xf2, 0x0f, 0x1b, 0xd6], "bndcn  %rsi,%bnd2"),
    ok(L64, "bndcn %rdi, %bnd3", &[0xf2, 0x0f, 0x1b, 0xdf], "bndcn  %rdi,%bnd3"),
    ok(L64, "bndcn %r8, %bnd0", &[0xf2, 0x41, 0x0f, 0x1b, 0xc0], "bndcn  %r8,%bnd0"),
    ok(L64, "bndcn %r9, %bnd1", &[0xf2, 0x41, 0x0f, 0x1b, 0xc9], "bndcn  %r9,%bnd1"),
    ok(L64, "bndcn %r10, %bnd2", &[0xf2, 0x41, 0x0f, 0x1b, 0xd2], "bndcn  %r10,%bnd2"),
    ok(L64, "bndcn %r11, %bnd3", &[0xf2, 0x41, 0x0f, 0x1b, 0xdb], "bndcn  %r11,%bnd3"),
    ok(L64, "bndcn %r12, %bnd0", &[0xf2, 0x41, 0x0f, 0x1b, 0xc4], "bndcn  %r12,%bnd0"),
    ok(L64, "bndcn %r13, %bnd1", &[0xf2, 0x41, 0x0f, 0x1b, 0xcd], "bndcn  %r13,%bnd1"),
    ok(L64, "bndcn %r14, %bnd2", &[0xf2, 0x41, 0x0f, 0x1b, 0xd6], "bndcn  %r14,%bnd2"),
    ok(L64, "bndcn %r15, %bnd3", &[0xf2, 0x41, 0x0f, 0x1b, 0xdf], "bndcn  %r15,%bnd3"),
    ok(L64, "bndcl (%rax), %bnd0", &[0xf3, 0x0f, 0x1a, 0x00], "bndcl  (%rax),%bnd0"),
    ok(L64, "bndcl (%rcx), %bnd1", &[0xf3, 0x0f, 0x1a, 0x09], "bndcl  (%rcx),%bnd1"),
    ok(L64, "bndcl (%rdx), %bnd2", &[0xf3, 0x0f, 0x1a, 0x12], "bndcl  (%rdx),%bnd2"),
    ok(L64, "bndcl (%rbx), %bnd3", &[0xf3, 0x0f, 0x1a, 0x1b], "bndcl  (%rbx),%bnd3"),
    ok(L64, "bndcl (%rsp), %bnd0", &[0xf3, 0x0f, 0x1a, 0x04, 0x24], "bndcl  (%rsp),%bnd0"),
    ok(L64, "bndcl (%rbp), %bnd1", &[0xf3, 0x0f, 0x1a, 0x4d, 0x00], "bndcl  0x0(%rbp),%bnd1"),
    ok(L64, "bndcl (%rsi), %bnd2", &[0xf3, 0x0f, 0x1a, 0x16], "bndcl  (%rsi),%bnd2"),
    ok(L64, "bndcl (%rdi), %bnd3", &[0xf3, 0x0f, 0x1a, 0x1f], "bndcl  (%rdi),%bnd3"),
    ok(L64, "bndcl (%r8), %bnd0", &[0xf3, 0x41, 0x0f, 0x1a, 0x00], "bndcl  (%r8),%bnd0"),
    ok(L64, "bndcl (%r9), %bnd1", &[0xf3, 0x41, 0x0f, 0x1a, 0x09], "bndcl  (%r9),%bnd1"),
    ok(L64, "bndcl (%r10), %bnd2", &[0xf3, 0x41, 0x0f, 0x1a, 0x12], "bndcl  (%r10),%bnd2"),
    ok(L64, "bndcl (%r11), %bnd3", &[0xf3, 0x41, 0x0f, 0x1a, 0x1b], "bndcl  (%r11),%bnd3"),
    ok(L64, "bndcl (%r12), %bnd0", &[0xf3, 0x41, 0x0f, 0x1a, 0x04, 0x24], "bndcl  (%r12),%bnd0"),
    ok(L64, "bndcl (%r13), %bnd1", &[0xf3, 0x41, 0x0f, 0x1a, 0x4d, 0x00], "bndcl  0x0(%r13),%bnd1"),
    ok(L64, "bndcl (%r14), %bnd2", &[0xf3, 0x41, 0x0f, 0x1a, 0x16], "bndcl  (%r14),%bnd2"),
    ok(L64, "bndcl (%r15), %bnd3", &[0xf3, 0x41, 0x0f, 0x1a, 0x1f], "bndcl  (%r15),%bnd3"),
    ok(L64, "bndcl 0x7f(%rax), %bnd0", &[0xf3, 0x0f, 0x1a, 0x40, 0x7f], "bndcl  0x7f(%rax),%bnd0"),
    ok(L64, "bndcl -0x80(%rcx), %bnd1", &[0xf3, 0x0f, 0x1a, 0x49, 0x80], "bndcl  -0x80(%rcx),%bnd1"),
    ok(L64, "bndcl 0x10(%rsp), %bnd2", &[0xf3, 0x0f, 0x1a, 0x54, 0x24, 0x10], "bndcl  0x10(%rsp),%bnd2"),
    ok(L64, "bndcl -0x8(%rbp), %bnd3", &[0xf3, 0x0f, 0x1a, 0x5d, 0xf8], "bndcl  -0x8(%rbp),%bnd3"),
    ok(L64, "bndcl 0x1(%r12), %bnd0", &[0xf3, 0x41, 0x0f, 0x1a, 0x44, 0x24, 0x01], "bndcl  0x1(%r12),%bnd0"),
    ok(L64, "bndcl 0x7f(%r13), %bnd1", &[0xf3, 0x41, 0x0f, 0x1a, 0x4d, 0x7f], "bndcl  0x7f(%r13),%bnd1"),
    ok(L64, "bndcl -0x1(%r15), %bnd2", &[0xf3, 0x41, 0x0f, 0x1a, 0x57, 0xff], "bndcl  -0x1(%r15),%bnd2"),
    ok(L64, "bndcl 0x0(%rbx), %bnd3", &[0xf3, 0x0f, 0x1a, 0x1b], "bndcl  (%rbx),%bnd3"),
    ok(L64, "bndcl 0x12345678(%rdx), %bnd0", &[0xf3, 0x0f, 0x1a, 0x82, 0x78, 0x56, 0x34, 0x12], "bndcl  0x12345678(%rdx),%bnd0"),
    ok(L64, "bndcl -0x80000000(%rsi), %bnd1", &[0xf3, 0x0f, 0x1a, 0x8e, 0x00, 0x00, 0x00, 0x80], "bndcl  -0x80000000(%rsi),%bnd1"),
    ok(L64, "bndcl 0x80(%rsp), %bnd2", &[0xf3, 0x0f, 0x1a, 0x94, 0x24, 0x80, 0x00, 0x00, 0x00], "bndcl  0x80(%rsp),%bnd2"),
    ok(L64, "bndcl 0x1000(%r12), %bnd3", &[0xf3, 0x41, 0x0f, 0x1a, 0x9c, 0x24, 0x00, 0x10, 0x00, 0x00], "bndcl  0x1000(%r12),%bnd3"),
    ok(L64, "bndcl 0x7fffffff(%r13), %bnd0", &[0xf3, 0x41, 0x0f, 0x1a, 0x85, 0xff, 0xff, 0xff, 0x7f], "bndcl  0x7fffffff(%r13),%bnd0"),
    ok(L64, "bndcl -0x81(%r8), %bnd1", &[0xf3, 0x41, 0x0f, 0x1a, 0x88, 0x7f, 0xff, 0xff, 0xff], "bndcl  -0x81(%r8),%bnd1"),
    ok(L64, "bndcl 0x100(%rdi), %bnd2", &[0xf3, 0x0f, 0x1a, 0x97, 0x00, 0x01, 0x00, 0x00], "bndcl  0x100(%rdi),%bnd2"),
    ok(L64, "bndcl (%rip), %bnd3", &[0xf3, 0x0f, 0x1a, 0x1d, 0x00, 0x00, 0x00, 0x00], "bndcl  0x0(%rip),%bnd3        # 0x8"),
    ok(L64, "bndcl 0x1234(%rip), %bnd0", &[0xf3, 0x0f, 0x1a, 0x05, 0x34, 0x12, 0x00, 0x00], "bndcl  0x1234(%rip),%bnd0        # 0x123c"),
    ok(L64, "bndcl -0x10(%rip), %bnd1", &[0xf3, 0x0f, 0x1a, 0x0d, 0xf0, 0xff, 0xff, 0xff], "bndcl  -0x10(%rip),%bnd1        # 0xfffffffffffffff8"),
    ok(L64, "bndcl 0x7fffffff(%rip), %bnd2", &[0xf3, 0x0f, 0x1a, 0x15, 0xff, 0xff, 0xff, 0x7f], "bndcl  0x7fffffff(%rip),%bnd2        # 0x80000007"),
    ok(L64, "bndcl -0x80000000(%rip), %bnd3", &[0xf3, 0x0f, 0x1a, 0x1d, 0x00, 0x00, 0x00, 0x80], "bndcl  -0x80000000(%rip),%bnd3        # 0xffffffff80000008"),
    ok(L64, "bndcl 0x12345678, %bnd0", &[0xf3, 0x0f, 0x1a, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12], "bndcl  0x12345678,%bnd0"),
    ok(L64, "bndcl -0x10, %bnd1", &[0xf3, 0x0f, 0x1a, 0x0c, 0x25, 0xf0, 0xff, 0xff, 0xff], "bndcl  0xfffffffffffffff0,%bnd1"),
    ok(L64, "bndcl 0x0, %bnd2", &[0xf3, 0x0f, 0x1a, 0x14, 0x25, 0x00, 0x00, 0x00, 0x00], "bndcl  0x0,%bnd2"),
    ok(L64, "bndcl 0x7fffffff, %bnd3", &[0xf3, 0x0f, 0x1a, 0x1c, 0x25, 0xff, 0xff, 0xff, 0x7f], "bndcl  0x7fffffff,%bnd3"),
    ok(L64, "bndcl (%rax,%rbx,1), %bnd0", &[0xf3, 0x0f, 0x1a, 0x04, 0x18], "bndcl  (%rax,%rbx,1),%bnd0"),
    ok(L64, "bndcl (%rax,%rbx,2), %bnd1", &[0xf3, 0x0f, 0x1a, 0x0c, 0x58], "bndcl  (%rax,%rbx,2),%bnd1"),
    ok(L64, "bndcl (%rax,%rbx,4), %bnd2", &[0xf3, 0x0f, 0x1a, 0x14, 0x98], "bndcl  (%rax,%rbx,4),%bnd2"),
    ok(L64, "bndcl (%rax,%rbx,8), %bnd3", &[0xf3, 0x0f, 0x1a, 0x1c, 0xd8], "bndcl  (%rax,%rbx,8),%bnd3"),
    ok(L64, "bndcl (%rsp,%r12,4), %bnd0", &[0xf3, 0x42, 0x0f, 0x1a, 0x04, 0xa4], "bndcl  (%rsp,%r12,4),%bnd0"),
    ok(L64, "bndcl 0x10(%rsp,%r12,4), %bnd1", &[0xf3, 0x42, 0x0f, 0x1a, 0x4c, 0xa4, 0x10], "bndcl  0x10(%rsp,%r12,4),%bnd1"),
    ok(L64, "bndcl (%r12,%rax,1), %bnd2", &[0xf3, 0x41, 0x0f, 0x1a, 0x14, 0x04], "bndcl  (%r12,%rax,1),%bnd2"),
    ok(L64, "bndcl (%r13,%r14,8), %bnd3", &[0xf3, 0x43, 0x0f, 0x1a, 0x5c, 0xf5, 0x00], "bndcl  0x0(%r13,%r14,8),%bnd3"),
    ok(L64, "bndcl (%rbp,%rax,2), %bnd0", &[0xf3, 0x0f, 0x1a, 0x44, 0x45, 0x00], "bndcl  0x0(%rbp,%rax,2),%bnd0"),
    ok(L64, "bndcl 0x12345678(%r13,%r15,1), %bnd1", &[0xf3, 0x43, 0x0f, 0x1a, 0x8c, 0x3d, 0x78, 0x56, 0x34, 0x12], "bndcl  0x12345678(%r13,%r15,1),%bnd1"),
    ok(L64, "bndcl -0x80(%r12,%r13,2), %bnd2", &[0xf3, 0x43, 0x0f, 0x1a, 0x54, 0x6c, 0x80], "bndcl  -0x80(%r12,%r13,2),%bnd2"),
    ok(L64, "bndcl (,%rax,8), %bnd3", &[0xf3, 0x0f, 0x1a, 0x1c, 0xc5, 0x00, 0x00, 0x00, 0x00], "bndcl  0x0(,%rax,8),%bnd3"),
    ok(L64, "bndcl 0x10(,%r12,2), %bnd0", &[0xf3, 0x42, 0x0f, 0x1a, 0x04, 0x65, 0x10, 0x00, 0x00, 0x00], "bndcl  0x10(,%r12,2),%bnd0"),
    ok(L64, "bndcl (,%rbp,1), %bnd1", &[0xf3, 0x0f, 0x1a, 0x0c, 0x2d, 0x00, 0x00, 0x00, 0x00], "bndcl  0x0(,%rbp,1),%bnd1"),
    ok(L64, "bndcl (%rax,%r12,1), %bnd2", &[0xf3, 0x42, 0x0f, 0x1a, 0x14, 0x20], "bndcl  (%rax,%r12,1),%bnd2"),
    ok(L64, "bndcl (%r15,%r12,8), %bnd3", &[0xf3, 0x43, 0x0f, 0x1a, 0x1c, 0xe7], "bndcl  (%r15,%r12,8),%bnd3"),
    ok(L64, "bndcl (,%r15,4), %bnd0", &[0xf3, 0x42, 0x0f, 0x1a, 0x04, 0xbd, 0x00, 0x00, 0x00, 0x00], "bndcl  0x0(,%r15,4),%bnd0"),
    ok(L64, "bndcl -0x1(,%rcx,1), %bnd1", &[0xf3, 0x0f, 0x1a, 0x0c, 0x0d, 0xff, 0xff, 0xff, 0xff], "bndcl  -0x1(,%rcx,1),%bnd1"),
    ok(L64, "bndcl 0x7f(%rsp,%rbp,1), %bnd2", &[0xf3, 0x0f, 0x1a, 0x54, 0x2c, 0x7f], "bndcl  0x7f(%rsp,%rbp,1),%bnd2"),
    ok(L64, "bndcl -0x80000000(%rdi,%rsi,4), %bnd3", &[0xf3, 0x0f, 0x1a, 0x9c, 0xb7, 0x00, 0x00, 0x00, 0x80], "bndcl  -0x80000000(%rdi,%rsi,4),%bnd3"),
    ok(L64, "bndcl (%rsp,%rcx,1), %bnd0", &[0xf3, 0x0f, 0x1a, 0x04, 0x0c], "bndcl  (%rsp,%rcx,1),%bnd0"),
    ok(L64, "bndcl 0x1(%r12,%r12,2), %bnd1", &[0xf3, 0x43, 0x0f, 0x1a, 0x4c, 0x64, 0x01], "bndcl  0x1(%r12,%r12,2),%bnd1"),
    ok(L64, "bndcl %fs:(%rax), %bnd2", &[0x64, 0xf3, 0x0f, 0x1a, 0x10], "bndcl  %fs:(%rax),%bnd2"),
    ok(L64, "bndcl %gs:0x10(%rsp,%r12,4), %bnd3", &[0x65, 0xf3, 0x42, 0x0f, 0x1a, 0x5c, 0xa4, 0x10], "bndcl  %gs:0x10(%rsp,%r12,4),%bnd3"),
    ok(L64, "bndcl %fs:0x8(%rip), %bnd0", &[0x64, 0xf3, 0x0f, 0x1a, 0x05, 0x08, 0x00, 0x00, 0x00], "bndcl  %fs:0x8(%rip),%bnd0        # 0x11"),
    ok(L64, "bndcl %gs:0x1000, %bnd1", &[0x65, 0xf3, 0x0f, 0x1a, 0x0c, 0x25, 0x00, 0x10, 0x00, 0x00], "bndcl  %gs:0x1000,%bnd1"),
    ok(L64, "bndcl %es:(%rcx), %bnd2", &[0x26, 0xf3, 0x0f, 0x1a, 0x11], "es bndcl (%rcx),%bnd2"),
    ok(L64, "bndcl %ss:(%rbp), %bnd3", &[0xf3, 0x0f, 0x1a, 0x5d, 0x00], "bndcl  0x0(%rbp),%bnd3"),
    ok(L64, "bndcu (%rax), %bnd0", &[0xf2, 0x0f, 0x1a, 0x00], "bndcu  (%rax),%bnd0"),
    ok(L64, "bndcu (%rcx), %bnd1", &[0xf2, 0x0f, 0x1a, 0x09], "bndcu  (%rcx),%bnd1"),
    ok(L64, "bndcu (%rdx), %bnd2", &[0xf2, 0x0f, 0x1a, 0x12], "bndcu  (%rdx),%bnd2"),
    ok(L64, "bndcu (%rbx), %bnd3", &[0xf2, 0x0f, 0x1a, 0x1b], "bndcu  (%rbx),%bnd3"),
    ok(L64, "bndcu (%rsp), %bnd0", &[0xf2, 0x0f, 0x1a, 0x04, 0x24], "bndcu  (%rsp),%bnd0"),
    ok(L64, "bndcu (%rbp), %bnd1", &[0xf2, 0x0f, 0x1a, 0x4d, 0x00], "bndcu  0x0(%rbp),%bnd1"),
    ok(L64, "bndcu (%rsi), %bnd2", &[0xf2, 0x0f, 0x1a, 0x16], "bndcu  (%rsi),%bnd2"),
    ok(L64, "bndcu (%rdi), %bnd3", &[0xf2, 0x0f, 0x1a, 0x1f], "bndcu  (%rdi),%bnd3"),
    ok(L64, "bndcu (%r8), %bnd0", &[0xf2, 0x41, 0x0f, 0x1a, 0x00], "bndcu  (%r8),%bnd0"),
    ok(L64, "bndcu (%r9), %bnd1", &[0xf2, 0x41, 0x0f, 0x1a, 0x09], "bndcu  (%r9),%bnd1"),
    ok(L64, "bndcu (%r10), %bnd2", &[0xf2, 0x41, 0x0f, 0x1a, 0x12], "bndcu  (%r10),%bnd2"),
    ok(L64, "bndcu (%r11), %bnd3", &[0xf2, 0x41, 0x0f, 0x1a, 0x1b], "bndcu  (%r11),%bnd3"),
    ok(L64, "bndcu (%r12), %bnd0", &[0xf2, 0x41, 0x0f, 0x1a, 0x04, 0x24], "bndcu  (%r12),%bnd0"),
    ok(L64, "bndcu (%r13), %bnd1", &[0xf2, 0x41, 0x0f, 0x1a, 0x4d, 0x00], "bndcu  0x0(%r13),%bnd1"),
    ok(L64, "bndcu (%r14), %bnd2", &[0xf2, 0x41, 0x0f, 0x1a, 0x16], "bndcu  (%r14),%bnd2"),
    ok(L64, "bndcu (%r15), %bnd3", &[0xf2, 0x41, 0x0f, 0x1a, 0x1f], "bndcu  (%r15),%bnd3"),
    ok(L64, "bndcu 0x7f(%rax), %bnd0", &[0xf2, 0x0f, 0x1a, 0x40, 0x7f], "bndcu  0x7f(%rax),%bnd0"),
    ok(L64, "bndcu -0x80(%rcx), %bnd1", &[0xf2, 0x0f, 0x1a, 0x49, 0x80], "bndcu  -0x80(%rcx),%bnd1"),
    ok(L64, "bndcu 0x10(%rsp), %bnd2", &[0xf2, 0x0f, 0x1a, 0x54, 0x24, 0x10], "bndcu  0x10(%rsp),%bnd2"),
    ok(L64, "bndcu -0x8(%rbp), %bnd3", &[0xf2, 0x0f, 0x1a, 0x5d, 0xf8], "bndcu  -0x8(%rbp),%bnd3"),
    ok(L64, "bndcu 0x1(%r12), %bnd0", &[0xf2, 0x41, 0x0f, 0x1a, 0x44, 0x24, 0x01], "bndcu  0x1(%r12),%bnd0"),
    ok(L64, "bndcu 0x7f(%r13), %bnd1", &[0xf2, 0x41, 0x0f, 0x1a, 0x4d, 0x7f], "bndcu  0x7f(%r13),%bnd1"),
    ok(L64, "bndcu -0x1(%r15), %bnd2", &[0xf2, 0x41, 0x0f, 0x1a, 0x57, 0xff], "bndcu  -0x1(%r15),%bnd2"),
    ok(L64, "bndcu 0x0(%rbx), %bnd3", &[0xf2, 0x0f, 0x1a, 0x1b], "bndcu  (%rbx),%bnd3"),
    ok(L64, "bndcu 0x12345678(%rdx), %bnd0", &[0xf2, 0x0f, 0x1a, 0x82, 0x78, 0x56, 0x34, 0x12], "bndcu  0x12345678(%rdx),%bnd0"),
    ok(L64, "bndcu -0x80000000(%rsi), %bnd1", &[0xf2, 0x0f, 0x1a, 0x8e, 0x00, 0x00, 0x00, 0x80], "bndcu  -0x80000000(%rsi),%bnd1"),
    ok(L64, "bndcu 0x80(%rsp), %bnd2", &[0xf2, 0x0f, 0x1a, 0x94, 0x24, 0x80, 0x00, 0x00, 0x00], "bndcu  0x80(%rsp),%bnd2"),
    ok(L64, "bndcu 0x1000(%r12), %bnd3", &[0xf2, 0x41, 0x0f, 0x1a, 0x9c, 0x24, 0x00, 0x10, 0x00, 0x00], "bndcu  0x1000(%r12),%bnd3"),
    ok(L64, "bndcu 0x7fffffff(%r13), %bnd0", &[0xf2, 0x41, 0x0f, 0x1a, 0x85, 0xff, 0xff, 0xff, 0x7f], "bndcu  0x7fffffff(%r13),%bnd0"),
    ok(L64, "bndcu -0x81(%r8), %bnd1", &[0xf2, 0x41, 0x0f, 0x1a, 0x88, 0x7f, 0xff, 0xff, 0xff], "bndcu  -0x81(%r8),%bnd1"),
    ok(L64, "bndcu 0x100(%rdi), %bnd2", &[0xf2, 0x0f, 0x1a, 0x97, 0x00, 0x01, 0x00, 0x00], "bndcu  0x100(%rdi),%bnd2"),
    ok(L64, "bndcu (%rip), %bnd3", &[0xf2, 0x0f, 0x1a, 0x1d, 0x00, 0x00, 0x00, 0x00], "bndcu  0x0(%rip),%bnd3        # 0x8"),
    ok(L64, "bndcu 0x1234(%rip), %bnd0", &[0xf2, 0x0f, 0x1a, 0x05, 0x34, 0x12, 0x00, 0x00], "bndcu  0x1234(%rip),%bnd0        # 0x123c"),
    ok(L64, "bndcu -0x10(%rip), %bnd1", &[0xf2, 0x0f, 0x1a, 0x0d, 0xf0, 0xff, 0xff, 0xff], "bndcu  -0x10(%rip),%bnd1        # 0xfffffffffffffff8"),
    ok(L64, "bndcu 0x7fffffff(%rip), %bnd2", &[0xf2, 0x0f, 0x1a, 0x15, 0xff, 0xff, 0xff, 0x7f], "bndcu  0x7fffffff(%rip),%bnd2        # 0x80000007"),
    ok(L64, "bndcu -0x80000000(%rip), %bnd3", &[0xf2, 0x0f, 0x1a, 0x1d, 0x00, 0x00, 0x00, 0x80], "bndcu  -0x80000000(%rip),%bnd3        # 0xffffffff80000008"),
    ok(L64, "bndcu 0x12345678, %bnd0", &[0xf2, 0x0f, 0x1a, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12], "bndcu  0x12345678,%bnd0"),
    ok(L64, "bndcu -0x10, %bnd1", &[0xf2, 0x0f, 0x1a, 0x0c, 0x25, 0xf0, 0xff, 0xff, 0xff], "bndcu  0xfffffffffffffff0,%bnd1"),
    ok(L64, "bndcu 0x0, %bnd2", &[0xf2, 0x0f, 0x1a, 0x14, 0x25, 0x00, 0x00, 0x00, 0x00], "bndcu  0x0,%bnd2"),
    ok(L64, "bndcu 0x7fffffff, %bnd3", &[0xf2, 0x0f, 0x1a, 0x1c, 0x25, 0xff, 0xff, 0xff, 0x7f], "bndcu  0x7fffffff,%bnd3"),
    ok(L64, "bndcu (%rax,%rbx,1), %bnd0", &[0xf2, 0x0f, 0x1a, 0x04, 0x18], "bndcu  (%rax,%rbx,1),%bnd0"),
    ok(L64, "bndcu (%rax,%rbx,2), %bnd1", &[0xf2, 0x0f, 0x1a, 0x0c, 0x58], "bndcu  (%rax,%rbx,2),%bnd1"),
    ok(L64, "bndcu (%rax,%rbx,4), %bnd2", &[0xf2, 0x0f, 0x1a, 0x14, 0x98], "bndcu  (%rax,%rbx,4),%bnd2"),
    ok(L64, "bndcu (%rax,%rbx,8), %bnd3", &[0xf2, 0x0f, 0x1a, 0x1c, 0xd8], "bndcu  (%rax,%rbx,8),%bnd3"),
    ok(L64, "bndcu (%rsp,%r12,4), %bnd0", &[0xf2, 0x42, 0x0f, 0x1a, 0x04, 0xa4], "bndcu  (%rsp,%r12,4),%bnd0"),
    ok(L64, "bndcu 0x10(%rsp,%r12,4), %bnd1", &[0xf2, 0x42, 0x0f, 0x1a, 0x4c, 0xa4, 0x10], "bndcu  0x10(%rsp,%r12,4),%bnd1"),
    ok(L64, "bndcu (%r12,%rax,1), %bnd2", &[0xf2, 0x41, 0x0f, 0x1a, 0x14, 0x04], "bndcu  (%r12,%rax,1),%bnd2"),
    ok(L64, "bndcu (%r13,%r14,8), %bnd3", &[0xf2, 0x43, 0x0f, 0x1a, 0x5c, 0xf5, 0x00], "bndcu  0x0(%r13,%r14,8),%bnd3"),
    ok(L64, "bndcu (%rbp,%rax,2), %bnd0", &[0xf2, 0x0f, 0x1a, 0x44, 0x45, 0x00], "bndcu  0x0(%rbp,%rax,2),%bnd0"),
    ok(L64, "bndcu 0x12345678(%r13,%r15,1), %bnd1", &[0xf2, 0x43, 0x0f, 0x1a, 0x8c, 0x3d, 0x78, 0x56, 0x34, 0x12], "bndcu  0x12345678(%r13,%r15,1),%bnd1"),
    ok(L64, "bndcu -0x80(%r12,%r13,2), %bnd2", &[0xf2, 0x43, 0x0f, 0x1a, 0x54, 0x6c, 0x80], "bndcu  -0x80(%r12,%r13,2),%bnd2"),
    ok(L64, "bndcu (,%rax,8), %bnd3", &[0xf2, 0x0f, 0x1a, 0x1c, 0xc5, 0x00, 0x00, 0x00, 0x00], "bndcu  0x0(,%rax,8),%bnd3"),
    ok(L64, "bndcu 0x10(,%r12,2), %bnd0", &[0xf2, 0x42, 0x0f, 0x1a, 0x04, 0x65, 0x10, 0x00, 0x00, 0x00], "bndcu  0x10(,%r12,2),%bnd0"),
    ok(L64, "bndcu (,%rbp,1), %bnd1", &[0xf2, 0x0f, 0x1a, 0x0c, 0x2d, 0x00, 0x00, 0x00, 0x00], "bndcu  0x0(,%rbp,1),%bnd1"),
    ok(L64, "bndcu (%rax,%r12,1), %bnd2", &[0xf2, 0x42, 0x0f, 0x1a, 0x14, 0x20], "bndcu  (%rax,%r12,1),%bnd2"),
    ok(L64, "bndcu (%r15,%r12,8), %bnd3", &[0xf2, 0x43, 0x0f, 0x1a, 0x1c, 0xe7], "bndcu  (%r15,%r12,8),%bnd3"),
    ok(L64, "bndcu (,%r15,4), %bnd0", &[0xf2, 0x42, 0x0f, 0x1a, 0x04, 0xbd, 0x00, 0x00, 0x00, 0x00], "bndcu  0x0(,%r15,4),%bnd0"),
    ok(L64, "bndcu -0x1(,%rcx,1), %bnd1", &[0xf2, 0x0f, 0x1a, 0x0c, 0x0d, 0xff, 0xff, 0xff, 0xff], "bndcu  -0x1(,%rcx,1),%bnd1"),
    ok(L64, "bndcu 0x7f(%rsp,%rbp,1), %bnd2", &[0xf2, 0x0f, 0x1a, 0x54, 0x2c, 0x7f], "bndcu  0x7f(%rsp,%rbp,1),%bnd2"),
    ok(L64, "bndcu -0x80000000(%rdi,%rsi,4), %bnd3", &[0xf2, 0x0f, 0x1a, 0x9c, 0xb7, 0x00, 0x00, 0x00, 0x80], "bndcu  -0x80000000(%rdi,%rsi,4),%bnd3"),
    ok(L64, "bndcu (%rsp,%rcx,1), %bnd0", &[0xf2, 0x0f, 0x1a, 0x04, 0x0c], "bndcu  (%rsp,%rcx,1),%bnd0"),
    ok(L64, "bndcu 0x1(%r12,%r12,2), %bnd1", &[0xf2, 0x43, 0x0f, 0x1a, 0x4c, 0x64, 0x01], "bndcu  0x1(%r12,%r12,2),%bnd1"),
    ok(L64, "bndcu %fs:(%rax), %bnd2", &[0x64, 0xf2, 0x0f, 0x1a, 0x10], "bndcu  %fs:(%rax),%bnd2"),
    ok(L64, "bndcu %gs:0x10(%rsp,%r12,4), %bnd3", &[0x65, 0xf2, 0x42, 0x0f, 0x1a, 0x5c, 0xa4, 0x10], "bndcu  %gs:0x10(%rsp,%r12,4),%bnd3"),
    ok(L64, "bndcu %fs:0x8(%rip), %bnd0", &[0x64, 0xf2, 0x0f, 0x1a, 0x05, 0x08, 0x00, 0x00, 0x00], "bndcu  %fs:0x8(%rip),%bnd0        # 0x11"),
    ok(L64, "bndcu %gs:0x1000, %bnd1", &[0x65, 0xf2, 0x0f, 0x1a, 0x0c, 0x25, 0x00, 0x10, 0x00, 0x00], "bndcu  %gs:0x1000,%bnd1"),
    ok(L64, "bndcu %es:(%rcx), %bnd2", &[0x26, 0xf2, 0x0f, 0x1a, 0x11], "es bndcu (%rcx),%bnd2"),
    ok(L64, "bndcu %ss:(%rbp), %bnd3", &[0xf2, 0x0f, 0x1a, 0x5d, 0x00], "bndcu  0x0(%rbp),%bnd3"),
    ok(L64, "bndcn (%rax), %bnd0", &[0xf2, 0x0f, 0x1b, 0x00], "bndcn  (%rax),%bnd0"),
    ok(L64, "bndcn (%rcx), %bnd1", &[0xf2, 0x0f, 0x1b, 0x09], "bndcn  (%rcx),%bnd1"),
    ok(L64, "bndcn (%rdx), %bnd2", &[0xf2, 0x0f, 0x1b, 0x12], "bndcn  (%rdx),%bnd2"),
    ok(L64, "bndcn (%rbx), %bnd3", &[0xf2, 0x0f, 0x1b, 0x1b], "bndcn  (%rbx),%bnd3"),
    ok(L64, "bndcn (%rsp), %bnd0", &[0xf2, 0x0f, 0x1b, 0x04, 0x24], "bndcn  (%rsp),%bnd0"),
    ok(L64, "bndcn (%rbp), %bnd1", &[0xf2, 0x0f, 0x1b, 0x4d, 0x00], "bndcn  0x0(%rbp),%bnd1"),
    ok(L64, "bndcn (%rsi), %bnd2", &[0xf2, 0x0f, 0x1b, 0x16], "bndcn  (%rsi),%bnd2"),
    ok(L64, "bndcn (%rdi), %bnd3", &[0xf2, 0x0f, 0x1b, 0x1f], "bndcn  (%rdi),%bnd3"),
    ok(L64, "bndcn (%r8), %bnd0", &[0xf2, 0x41, 0x0f, 0x1b, 0x00], "bndcn  (%r8),%bnd0"),
    ok(L64, "bndcn (%r9), %bnd1", &[0xf2, 0x41, 0x0f, 0x1b, 0x09], "bndcn  (%r9),%bnd1"),
    ok(L64, "bndcn (%r10), %bnd2", &[0xf2, 0x41, 0x0f, 0x1b, 0x12], "bndcn  (%r10),%bnd2"),
    ok(L64, "bndcn (%r11), %bnd3", &[0xf2, 0x41, 0x0f, 0x1b, 0x1b], "bndcn  (%r11),%bnd3"),
    ok(L64, "bndcn (%r12), %bnd0", &[0xf2, 0x41, 0x0f, 0x1b, 0x04, 0x24], "bndcn  (%r12),%bnd0"),
    ok(L64, "bndcn (%r13), %bnd1", &[0xf2, 0x41, 0x0f, 0x1b, 0x4d, 0x00], "bndcn  0x0(%r13),%bnd1"),
    ok(L64, "bndcn (%r14), %bnd2", &[0xf2, 0x41, 0x0f, 0x1b, 0x16], "bndcn  (%r14),%bnd2"),
    ok(L64, "bndcn (%r15), %bnd3", &[0xf2, 0x41, 0x0f, 0x1b, 0x1f], "bndcn  (%r15),%bnd3"),
    ok(L64, "bndcn 0x7f(%rax), %bnd0", &[0xf2, 0x0f, 0x1b, 0x40, 0x7f], "bndcn  0x7f(%rax),%bnd0"),
    ok(L64, "bndcn -0x80(%rcx), %bnd1", &[0xf2, 0x0f, 0x1b, 0x49, 0x80], "bndcn  -0x80(%rcx),%bnd1"),
    ok(L64, "bndcn 0x10(%rsp), %bnd2", &[0xf2, 0x0f, 0x1b, 0x54, 0x24, 0x10], "bndcn  0x10(%rsp),%bnd2"),
    ok(L64, "bndcn -0x8(%rbp), %bnd3", &[0xf2, 0x0f, 0x1b, 0x5d, 0xf8], "bndcn  -0x8(%rbp),%bnd3"),
    ok(L64, "bndcn 0x1(%r12), %bnd0", &[0xf2, 0x41, 0x0f, 0x1b, 0x44, 0x24, 0x01], "bndcn  0x1(%r12),%bnd0"),
    ok(L64, "bndcn 0x7f(%r13), %bnd1", &[0xf2, 0x41, 0x0f, 0x1b, 0x4d, 0x7f], "bndcn  0x7f(%r13),%bnd1"),
    ok(L64, "bndcn -0x1(%r15), %bnd2", &[0xf2, 0x41, 0x0f, 0x1b, 0x57, 0xff], "bndcn  -0x1(%r15),%bnd2"),
    ok(L64, "bndcn 0x0(%rbx), %bnd3", &[0xf2, 0x0f, 0x1b, 0x1b], "bndcn  (%rbx),%bnd3"),
    ok(L64, "bndcn 0x12345678(%rdx), %bnd0", &[0xf2, 0x0f, 0x1b, 0x82, 0x78, 0x56, 0x34, 0x12], "bndcn  0x12345678(%rdx),%bnd0"),
    ok(L64, "bndcn -0x80000000(%rsi), %bnd1", &[0xf2, 0x0f, 0x1b, 0x8e, 0x00, 0x00, 0x00, 0x80], "bndcn  -0x80000000(%rsi),%bnd1"),
    ok(L64, "bndcn 0x80(%rsp), %bnd2", &[0xf2, 0x0f, 0x1b, 0x94, 0x24, 0x80, 0x00, 0x00, 0x00], "bndcn  0x80(%rsp),%bnd2"),
    ok(L64, "bndcn 0x1000(%r12), %bnd3", &[0xf2, 0x41, 0x0f, 0x1b, 0x9c, 0x24, 0x00, 0x10, 0x00, 0x00], "bndcn  0x1000(%r12),%bnd3"),
    ok(L64, "bndcn 0x7fffffff(%r13), %bnd0", &[0xf2, 0x41, 0x0f, 0x1b, 0x85, 0xff, 0xff, 0xff, 0x7f], "bndcn  0x7fffffff(%r13),%bnd0"),
    ok(L64, "bndcn -0x81(%r8), %bnd1", &[0xf2, 0x41, 0x0f, 0x1b, 0x88, 0x7f, 0xff, 0xff, 0xff], "bndcn  -0x81(%r8),%bnd1"),
    ok(L64, "bndcn 0x100(%rdi), %bnd2", &[0xf2, 0x0f, 0x1b, 0x97, 0x00, 0x01, 0x00, 0x00], "bndcn  0x100(%rdi),%bnd2"),
    ok(L64, "bndcn (%rip), %bnd3", &[0xf2, 0x0f, 0x1b, 0x1d, 0x00, 0x00, 0x00, 0x00], "bndcn  0x0(%rip),%bnd3        # 0x8"),
    ok(L64, "bndcn 0x1234(%rip), %bnd0", &[0xf2, 0x0f, 0x1b, 0x05, 0x34, 0x12, 0x00, 0x00], "bndcn  0x1234(%rip),%bnd0        # 0x123c"),
    ok(L64, "bndcn -0x10(%rip), %bnd1", &[0xf2, 0x0f, 0x1b, 0x0d, 0xf0, 0xff, 0xff, 0xff], "bndcn  -0x10(%rip),%bnd1        # 0xfffffffffffffff8"),
    ok(L64, "bndcn 0x7fffffff(%rip), %bnd2", &[0xf2, 0x0f, 0x1b, 0x15, 0xff, 0xff, 0xff, 0x7f], "bndcn  0x7fffffff(%rip),%bnd2        # 0x80000007"),
    ok(L64, "bndcn -0x80000000(%rip), %bnd3", &[0xf2, 0x0f, 0x1b, 0x1d, 0x00, 0x00, 0x00, 0x80], "bndcn  -0x80000000(%rip),%bnd3        # 0xffffffff80000008"),
    ok(L64, "bndcn 0x12345678, %bnd0", &[0xf2, 0x0f, 0x1b, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12], "bndcn  0x12345678,%bnd0"),
    ok(L64, "bndcn -0x10, %bnd1", &[0xf2, 0x0f, 0x1b, 0x0c, 0x25, 0xf0, 0xff, 0xff, 0xff], "bndcn  0xfffffffffffffff0,%bnd1"),
    ok(L64, "bndcn 0x0, %bnd2", &[0xf2, 0x0f, 0x1b, 0x14, 0x25, 0x00, 0x00, 0x00, 0x00], "bndcn  0x0,%bnd2"),
    ok(L64, "bndcn 0x7fffffff, %bnd3", &[0xf2, 0x0f, 0x1b, 0x1c, 0x25, 0xff, 0xff, 0xff, 0x7f], "bndcn  0x7fffffff,%bnd3"),
    ok(L64, "bndcn (%rax,%rbx,1), %bnd0", &[0xf2, 0x0f, 0x1b, 0x04, 0x18], "bndcn  (%rax,%rbx,1),%bnd0"),
    ok(L64, "bndcn (%rax,%rbx,2), %bnd1", &[0xf2, 0x0f, 0x1b, 0x0c, 0x58], "bndcn  (%rax,%rbx,2),%bnd1"),
    ok(L64, "bndcn (%rax,%rbx,4), %bnd2", &[0xf2, 0x0f, 0x1b, 0x14, 0x98], "bndcn  (%rax,%rbx,4),%bnd2"),
    ok(L64, "bndcn (%rax,%rbx,8), %bnd3", &[0xf2, 0x0f, 0x1b, 0x1c, 0xd8], "bndcn  (%rax,%rbx,8),%bnd3"),
    ok(L64, "bndcn (%rsp,%r12,4), %bnd0", &[0xf2, 0x42, 0x0f, 0x1b, 0x04, 0xa4], "bndcn  (%rsp,%r12,4),%bnd0"),
    ok(L64, "bndcn 0x10(%rsp,%r12,4), %bnd1", &[0xf2, 0x42, 0x0f, 0x1b, 0x4c, 0xa4, 0x10], "bndcn  0x10(%rsp,%r12,4),%bnd1"),
    ok(L64, "bndcn (%r12,%rax,1), %bnd2", &[0xf2, 0x41, 0x0f, 0x1b, 0x14, 0x04], "bndcn  (%r12,%rax,1),%bnd2"),
    ok(L64, "bndcn (%r13,%r14,8), %bnd3", &[0xf2, 0x43, 0x0f, 0x1b, 0x5c, 0xf5, 0x00], "bndcn  0x0(%r13,%r14,8),%bnd3"),
    ok(L64, "bndcn (%rbp,%rax,2), %bnd0", &[0xf2, 0x0f, 0x1b, 0x44, 0x45, 0x00], "bndcn  0x0(%rbp,%rax,2),%bnd0"),
    ok(L64, "bndcn 0x12345678(%r13,%r15,1), %bnd1", &[0xf2, 0x43, 0x0f, 0x1b, 0x8c, 0x3d, 0x78, 0x56, 0x34, 0x12], "bndcn  0x12345678(%r13,%r15,1),%bnd1"),
    ok(L64, "bndcn -0x80(%r12,%r13,2), %bnd2", &[0xf2, 0x43, 0x0f, 0x1b, 0x54, 0x6c, 0x80], "bndcn  -0x80(%r12,%r13,2),%bnd2"),
    ok(L64, "bndcn (,%rax,8), %bnd3", &[0xf2, 0x0f, 0x1b, 0x1c, 0xc5, 0x00, 0x00, 0x00, 0x00], "bndcn  0x0(,%rax,8),%bnd3"),
    ok(L64, "bndcn 0x10(,%r12,2), %bnd0", &[0xf2, 0x42, 0x0f, 0x1b, 0x04, 0x65, 0x10, 0x00, 0x00, 0x00], "bndcn  0x10(,%r12,2),%bnd0"),
    ok(L64, "bndcn (,%rbp,1), %bnd1", &[0xf2, 0x0f, 0x1b, 0x0c, 0x2d, 0x00, 0x00, 0x00, 0x00], "bndcn  0x0(,%rbp,1),%bnd1"),
    ok(L64, "bndcn (%rax,%r12,1), %bnd2", &[0xf2, 0x42, 0x0f, 0x1b, 0x14, 0x20], "bndcn  (%rax,%r12,1),%bnd2"),
    ok(L64, "bndcn (%r15,%r12,8), %bnd3", &[0xf2, 0x43, 0x0f, 0x1b, 0x1c, 0xe7], "bndcn  (%r15,%r12,8),%bnd3"),
    ok(L64, "bndcn (,%r15,4), %bnd0", &[0xf2, 0x42, 0x0f, 0x1b, 0x04, 0xbd, 0x00, 0x00, 0x00, 0x00], "bndcn  0x0(,%r15,4),%bnd0"),
    ok(L64, "bndcn -0x1(,%rcx,1), %bnd1", &[0xf2, 0x0f, 0x1b, 0x0c, 0x0d, 0xff, 0xff, 0xff, 0xff], "bndcn  -0x1(,%rcx,1),%bnd1"),
    ok(L64, "bndcn 0x7f(%rsp,%rbp,1), %bnd2", &[0xf2, 0x0f, 0x1b, 0x54, 0x2c, 0x7f], "bndcn  0x7f(%rsp,%rbp,1),%bnd2"),
    ok(L64, "bndcn -0x80000000(%rdi,%rsi,4), %bnd3", &[0xf2, 0x0f, 0x1b, 0x9c, 0xb7, 0x00, 0x00, 0x00, 0x80], "bndcn  -0x80000000(%rdi,%rsi,4),%bnd3"),
    ok(L64, "bndcn (%rsp,%rcx,1), %bnd0", &[0xf2, 0x0f, 0x1b, 0x04, 0x0c], "bndcn  (%rsp,%rcx,1),%bnd0"),
    ok(L64, "bndcn 0x1(%r12,%r12,2), %bnd1", &[0xf2, 0x43, 0x0f, 0x1b, 0x4c, 0x64, 0x01], "bndcn  0x1(%r12,%r12,2),%bnd1"),
    ok(L64, "bndcn %fs:(%rax), %bnd2", &[0x64, 0xf2, 0x0f, 0x1b, 0x10], "bndcn  %fs:(%rax),%bnd2"),
    ok(L64, "bndcn %gs:0x10(%rsp,%r12,4), %bnd3", &[0x65, 0xf2, 0x42, 0x0f, 0x1b, 0x5c, 0xa4, 0x10], "bndcn  %gs:0x10(%rsp,%r12,4),%bnd3"),
    ok(L64, "bndcn %fs:0x8(%rip), %bnd0", &[0x64, 0xf2, 0x0f, 0x1b, 0x05, 0x08, 0x00, 0x00, 0x00], "bndcn  %fs:0x8(%rip),%bnd0        # 0x11"),
    ok(L64, "bndcn %gs:0x1000, %bnd1", &[0x65, 0xf2, 0x0f, 0x1b, 0x0c, 0x25, 0x00, 0x10, 0x00, 0x00], "bndcn  %gs:0x1000,%bnd1"),
    ok(L64, "bndcn %es:(%rcx), %bnd2", &[0x26, 0xf2, 0x0f, 0x1b, 0x11], "es bndcn (%rcx),%bnd2"),
    ok(L64, "bndcn %ss:(%rbp), %bnd3", &[0xf2, 0x0f, 0x1b, 0x5d, 0x00], "bndcn  0x0(%rbp),%bnd3"),
    ok(L64, ".byte 0xf3,0x0f,0x1a,0x04,0x64", &[0xf3, 0x0f, 0x1a, 0x04, 0x64], "bndcl  (%rsp,%riz,2),%bnd0"),
    ok(L64, ".byte 0xf3,0x0f,0x1a,0x04,0xa5,0x01,0x00,0x00,0x00", &[0xf3, 0x0f, 0x1a, 0x04, 0xa5, 0x01, 0x00, 0x00, 0x00], "bndcl  0x1(,%riz,4),%bnd0"),
    ok(L64, ".byte 0xf3,0x0f,0x1a,0x04,0x65,0x01,0x00,0x00,0x00", &[0xf3, 0x0f, 0x1a, 0x04, 0x65, 0x01, 0x00, 0x00, 0x00], "bndcl  0x1(,%riz,2),%bnd0"),
    ok(L64, ".byte 0xf3,0x0f,0x1a,0x44,0x65,0x10", &[0xf3, 0x0f, 0x1a, 0x44, 0x65, 0x10], "bndcl  0x10(%rbp,%riz,2),%bnd0"),
    ok(L64, ".byte 0xf2,0x0f,0x1a,0x84,0xe4,0x10,0x00,0x00,0x00", &[0xf2, 0x0f, 0x1a, 0x84, 0xe4, 0x10, 0x00, 0x00, 0x00], "bndcu  0x10(%rsp,%riz,8),%bnd0"),
    ok(L64, ".byte 0xf3,0x0f,0x1a,0x04,0x25,0x80,0xff,0xff,0xff", &[0xf3, 0x0f, 0x1a, 0x04, 0x25, 0x80, 0xff, 0xff, 0xff], "bndcl  0xffffffffffffff80,%bnd0"),
    ok(L64, ".byte 0x2e,0x2e,0xf3,0x0f,0x1a,0x00", &[0x2e, 0x2e, 0xf3, 0x0f, 0x1a, 0x00], "cs cs bndcl (%rax),%bnd0"),
    ok(L64, ".byte 0x64,0x65,0xf3,0x0f,0x1a,0x00", &[0x64, 0x65, 0xf3, 0x0f, 0x1a, 0x00], "fs bndcl %gs:(%rax),%bnd0"),
    ok(L64, ".byte 0x65,0x64,0xf2,0x0f,0x1b,0x08", &[0x65, 0x64, 0xf2, 0x0f, 0x1b, 0x08], "gs bndcn %fs:(%rax),%bnd1"),
    ok(L64, ".byte 0x3e,0xf3,0x0f,0x1a,0x00", &[0x3e, 0xf3, 0x0f, 0x1a, 0x00], "ds bndcl (%rax),%bnd0"),
    ok(L64, ".byte 0x26,0xf3,0x0f,0x1a,0x00", &[0x26, 0xf3, 0x0f, 0x1a, 0x00], "es bndcl (%rax),%bnd0"),
    ok(L64, ".byte 0x36,0xf3,0x0f,0x1a,0x00", &[0x36, 0xf3, 0x0f, 0x1a, 0x00], "ss bndcl (%rax),%bnd0"),
    ok(L64, ".byte 0x66,0xf3,0x0f,0x1a,0x00", &[0x66, 0xf3, 0x0f, 0x1a, 0x00], "data16 bndcl (%rax),%bnd0"),
    ok(L64, ".byte 0xf3,0x66,0x0f,0x1a,0x00", &[0xf3, 0x66, 0x0f, 0x1a, 0x00], "data16 bndcl (%rax),%bnd0"),
    ok(L64, ".byte 0xf3,0xf2,0x0f,0x1a,0x00", &[0xf3, 0xf2, 0x0f, 0x1a, 0x00], "repz bndcu (%rax),%bnd0"),
    ok(L64, ".byte 0xf2,0xf3,0x0f,0x1a,0x00", &[0xf2, 0xf3, 0x0f, 0x1a, 0x00], "repnz bndcl (%rax),%bnd0"),
    ok(L64, ".byte 0xf3,0xf3,0x0f,0x1a,0x00", &[0xf3, 0xf3, 0x0f, 0x1a, 0x00], "repz bndcl (%rax),%bnd0"),
    ok(L64, ".byte 0xf2,0xf2,0xf2,0x0f,0x1b,0xc9", &[0xf2, 0xf2, 0xf2, 0x0f, 0x1b, 0xc9], "repnz repnz bndcn %rcx,%bnd1"),
    ok(L64, ".byte 0x66,0xf2,0x0f,0x1b,0x10", &[0x66, 0xf2, 0x0f, 0x1b, 0x10], "data16 bndcn (%rax),%bnd2"),
    ok(L64, ".byte 0x67,0xf3,0x0f,0x1a,0x00", &[0x67, 0xf3, 0x0f, 0x1a, 0x00], "addr32 bndcl (%rax),%bnd0"),
    ok(L64, ".byte 0x67,0xf3,0x0f,0x1a,0x05,0x01,0x02,0x03,0x04", &[0x67, 0xf3, 0x0f, 0x1a, 0x05, 0x01, 0x02, 0x03, 0x04], "addr32 bndcl 0x4030201(%rip),%bnd0        # 0x403020a"),
    ok(L64, ".byte 0x67,0xf2,0x0f,0x1a,0x44,0x24,0x08", &[0x67, 0xf2, 0x0f, 0x1a, 0x44, 0x24, 0x08], "addr32 bndcu 0x8(%rsp),%bnd0"),
    ok(L64, ".byte 0x67,0xf2,0x42,0x0f,0x1a,0x04,0xe4", &[0x67, 0xf2, 0x42, 0x0f, 0x1a, 0x04, 0xe4], "addr32 bndcu (%rsp,%r12,8),%bnd0"),
    ok(L64, ".byte 0x67,0xf2,0x0f,0x1a,0xc0", &[0x67, 0xf2, 0x0f, 0x1a, 0xc0], "addr32 bndcu %rax,%bnd0"),
    ok(L64, ".byte 0x48,0xf3,0x0f,0x1a,0x00", &[0x48, 0xf3, 0x0f, 0x1a, 0x00], "rex.W | bndcl  (%rax),%bnd0"),
    ok(L64, ".byte 0x41,0xf2,0x0f,0x1a,0x04,0x24", &[0x41, 0xf2, 0x0f, 0x1a, 0x04, 0x24], "rex.B | bndcu  (%rsp),%bnd0"),
    ok(L64, ".byte 0x4c,0x66,0xf2,0x0f,0x1b,0x08", &[0x4c, 0x66, 0xf2, 0x0f, 0x1b, 0x08], "rex.WR | data16 bndcn (%rax),%bnd1"),
    ok(L64, ".byte 0x4f,0x41,0xf3,0x0f,0x1a,0x44,0x24,0x08", &[0x4f, 0x41, 0xf3, 0x0f, 0x1a, 0x44, 0x24, 0x08], "rex.WRXB | rex.B | bndcl  0x8(%rsp),%bnd0"),
    ok(L64, ".byte 0xf3,0x40,0x0f,0x1a,0x00", &[0xf3, 0x40, 0x0f, 0x1a, 0x00], "rex bndcl (%rax),%bnd0"),
    ok(L64, ".byte 0xf3,0x48,0x0f,0x1a,0x00", &[0xf3, 0x48, 0x0f, 0x1a, 0x00], "rex.W bndcl (%rax),%bnd0"),
    ok(L64, ".byte 0xf2,0x49,0x0f,0x1a,0xc7", &[0xf2, 0x49, 0x0f, 0x1a, 0xc7], "rex.WB bndcu %r15,%bnd0"),
    ok(L64, ".byte 0xf3,0x41,0x0f,0x1a,0x04,0x25,0x01,0x02,0x03,0x04", &[0xf3, 0x41, 0x0f, 0x1a, 0x04, 0x25, 0x01, 0x02, 0x03, 0x04], "bndcl  0x4030201,%bnd0"),
    ok(L64, ".byte 0xf3,0x41,0x0f,0x1a,0x05,0x01,0x02,0x03,0x04", &[0xf3, 0x41, 0x0f, 0x1a, 0x05, 0x01, 0x02, 0x03, 0x04], "bndcl  0x4030201(%rip),%bnd0        # 0x403020a"),
    ok(L64, ".byte 0xf3,0x41,0x0f,0x1a,0x45,0x00", &[0xf3, 0x41, 0x0f, 0x1a, 0x45, 0x00], "bndcl  0x0(%r13),%bnd0"),
    ok(L64, ".byte 0xf3,0x42,0x0f,0x1a,0x04,0x25,0x01,0x02,0x03,0x04", &[0xf3, 0x42, 0x0f, 0x1a, 0x04, 0x25, 0x01, 0x02, 0x03, 0x04], "bndcl  0x4030201(,%r12,1),%bnd0"),
    ok(L64, ".byte 0xf3,0x43,0x0f,0x1a,0x04,0x24", &[0xf3, 0x43, 0x0f, 0x1a, 0x04, 0x24], "bndcl  (%r12,%r12,1),%bnd0"),
    ok(L64, ".byte 0xf3,0x4b,0x0f,0x1a,0x1c,0x2c", &[0xf3, 0x4b, 0x0f, 0x1a, 0x1c, 0x2c], "rex.WXB bndcl (%r12,%r13,1),%bnd3"),
    ok(L64, ".byte 0xf2,0x43,0x0f,0x1a,0x5c,0x25,0x80", &[0xf2, 0x43, 0x0f, 0x1a, 0x5c, 0x25, 0x80], "bndcu  -0x80(%r13,%r12,1),%bnd3"),
    ok(L64, ".byte 0xf2,0x41,0x0f,0x1a,0xc4", &[0xf2, 0x41, 0x0f, 0x1a, 0xc4], "bndcu  %r12,%bnd0"),
    ok(L64, ".byte 0xf2,0x41,0x0f,0x1a,0xc5", &[0xf2, 0x41, 0x0f, 0x1a, 0xc5], "bndcu  %r13,%bnd0"),
    ok(L64, ".byte 0x2e,0x2e,0x2e,0x2e,0x2e,0x2e,0x2e,0xf3,0x0f,0x1a,0x80,0x01,0x02,0x03,0x04", &[0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0xf3, 0x0f, 0x1a, 0x80, 0x01, 0x02, 0x03, 0x04], "cs cs cs cs cs cs cs bndcl 0x4030201(%rax),%bnd0"),
    ok(L64, ".byte 0x26,0x2e,0x36,0x3e,0x64,0x65,0x66,0x67,0xf3,0x0f,0x1a,0x00", &[0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf3, 0x0f, 0x1a, 0x00], "es cs ss ds fs data16 addr32 bndcl %gs:(%rax),%bnd0"),
    ok(L64, ".byte 0x2e,0x3e,0x26,0x66,0x67,0xf3,0xf2,0x4b,0x0f,0x1b,0x44,0x24,0x08", &[0x2e, 0x3e, 0x26, 0x66, 0x67, 0xf3, 0xf2, 0x4b, 0x0f, 0x1b, 0x44, 0x24, 0x08], "cs ds es data16 addr32 repz rex.WXB bndcn 0x8(%r12,%r12,1),%bnd0"),
    ok(L64, ".byte 0x2e,0x3e,0x26,0x66,0x67,0xf2,0x4b,0x0f,0x1a,0x84,0x24,0xff,0xff,0xff,0x7f", &[0x2e, 0x3e, 0x26, 0x66, 0x67, 0xf2, 0x4b, 0x0f, 0x1a, 0x84, 0x24, 0xff, 0xff, 0xff, 0x7f], "cs ds es data16 addr32 rex.WXB bndcu 0x7fffffff(%r12,%r12,1),%bnd0"),
    ok(C32, "bndcl %eax, %bnd0", &[0xf3, 0x0f, 0x1a, 0xc0], "bndcl  %eax,%bnd0"),
    ok(C32, "bndcl %ecx, %bnd1", &[0xf3, 0x0f, 0x1a, 0xc9], "bndcl  %ecx,%bnd1"),
    ok(C32, "bndcl %edx, %bnd2", &[0xf3, 0x0f, 0x1a, 0xd2], "bndcl  %edx,%bnd2"),
    ok(C32, "bndcl %ebx, %bnd3", &[0xf3, 0x0f, 0x1a, 0xdb], "bndcl  %ebx,%bnd3"),
    ok(C32, "bndcl %esp, %bnd0", &[0xf3, 0x0f, 0x1a, 0xc4], "bndcl  %esp,%bnd0"),
    ok(C32, "bndcl %ebp, %bnd1", &[0xf3, 0x0f, 0x1a, 0xcd], "bndcl  %ebp,%bnd1"),
    ok(C32, "bndcl %esi, %bnd2", &[0xf3, 0x0f, 0x1a, 0xd6], "bndcl  %esi,%bnd2"),
    ok(C32, "bndcl %edi, %bnd3", &[0xf3, 0x0f, 0x1a, 0xdf], "bndcl  %edi,%bnd3"),
    ok(C32, "bndcu %eax, %bnd0", &[0xf2, 0x0f, 0x1a, 0xc0], "bndcu  %eax,%bnd0"),
    ok(C32, "bndcu %ecx, %bnd1", &[0xf2, 0x0f, 0x1a, 0xc9], "bndcu  %ecx,%bnd1"),
    ok(C32, "bndcu %edx, %bnd2", &[0xf2, 0x0f, 0x1a, 0xd2], "bndcu  %edx,%bnd2"),
    ok(C32, "bndcu %ebx, %bnd3", &[0xf2, 0x0f, 0x1a, 0xdb], "bndcu  %ebx,%bnd3"),
    ok(C32, "bndcu %esp, %bnd0", &[0xf2, 0x0f, 0x1a, 0xc4], "bndcu  %esp,%bnd0"),
    ok(C32, "bndcu %ebp, %bnd1", &[0xf2, 0x0f, 0x1a, 0xcd], "bndcu  %ebp,%bnd1"),
    ok(C32, "bndcu %esi, %bnd2", &[0xf2, 0x0f, 0x1a, 0xd6], "bndcu  %esi,%bnd2"),
    ok(C32, "bndcu %edi, %bnd3", &[0xf2, 0x0f, 0x1a, 0xdf], "bndcu  %edi,%bnd3"),
    ok(C32, "bndcn %eax, %bnd0", &[0xf2, 0x0f, 0x1b, 0xc0], "bndcn  %eax,%bnd0"),
    ok(C32, "bndcn %ecx, %bnd1", &[0xf2, 0x0f, 0x1b, 0xc9], "bndcn  %ecx,%bnd1"),
    ok(C32, "bndcn %edx, %bnd2", &[0xf2, 0x0f, 0x1b, 0xd2], "bndcn  %edx,%bnd2"),
    ok(C32, "bndcn %ebx, %bnd3", &[0xf2, 0x0f, 0x1b, 0xdb], "bndcn  %ebx,%bnd3"),
    ok(C32, "bndcn %esp, %bnd0", &[0xf2, 0x0f, 0x1b, 0xc4], "bndcn  %esp,%bnd0"),
    ok(C32, "bndcn %ebp, %bnd1", &[0xf2, 0x0f, 0x1b, 0xcd], "bndcn  %ebp,%bnd1"),
    ok(C32, "bndcn %esi, %bnd2", &[0xf2, 0x0f, 0x1b, 0xd6], "bndcn  %esi,%bnd2"),
    ok(C32, "bndcn %edi, %bnd3", &[0xf2, 0x0f, 0x1b, 0xdf], "bndcn  %edi,%bnd3"),
    ok(C32, "bndcl (%eax), %bnd0", &[0xf3, 0x0f, 0x1a, 0x00], "bndcl  (%eax),%bnd0"),
    ok(C32, "bndcl (%ecx), %bnd1", &[0xf3, 0x0f, 0x1a, 0x09], "bndcl  (%ecx),%bnd1"),
    ok(C32, "bndcl (%edx), %bnd2", &[0xf3, 0x0f, 0x1a, 0x12], "bndcl  (%edx),%bnd2"),
    ok(C32, "bndcl (%ebx), %bnd3", &[0xf3, 0x0f, 0x1a, 0x1b], "bndcl  (%ebx),%bnd3"),
    ok(C32, "bndcl (%esp), %bnd0", &[0xf3, 0x0f, 0x1a, 0x04, 0x24], "bndcl  (%esp),%bnd0"),
    ok(C32, "bndcl (%ebp), %bnd1", &[0xf3, 0x0f, 0x1a, 0x4d, 0x00], "bndcl  0x0(%ebp),%bnd1"),
    ok(C32, "bndcl (%esi), %bnd2", &[0xf3, 0x0f, 0x1a, 0x16], "bndcl  (%esi),%bnd2"),
    ok(C32, "bndcl (%edi), %bnd3", &[0xf3, 0x0f, 0x1a, 0x1f], "bndcl  (%edi),%bnd3"),
    ok(C32, "bndcl 0x7f(%eax), %bnd0", &[0xf3, 0x0f, 0x1a, 0x40, 0x7f], "bndcl  0x7f(%eax),%bnd0"),
    ok(C32, "bndcl -0x80(%ecx), %bnd1", &[0xf3, 0x0f, 0x1a, 0x49, 0x80], "bndcl  -0x80(%ecx),%bnd1"),
    ok(C32, "bndcl 0x10(%esp), %bnd2", &[0xf3, 0x0f, 0x1a, 0x54, 0x24, 0x10], "bndcl  0x10(%esp),%bnd2"),
    ok(C32, "bndcl -0x8(%ebp), %bnd3", &[0xf3, 0x0f, 0x1a, 0x5d, 0xf8], "bndcl  -0x8(%ebp),%bnd3"),
    ok(C32, "bndcl 0x12345678(%edx), %bnd0", &[0xf3, 0x0f, 0x1a, 0x82, 0x78, 0x56, 0x34, 0x12], "bndcl  0x12345678(%edx),%bnd0"),
    ok(C32, "bndcl -0x80000000(%esi), %bnd1", &[0xf3, 0x0f, 0x1a, 0x8e, 0x00, 0x00, 0x00, 0x80], "bndcl  -0x80000000(%esi),%bnd1"),
    ok(C32, "bndcl 0x80(%esp), %bnd2", &[0xf3, 0x0f, 0x1a, 0x94, 0x24, 0x80, 0x00, 0x00, 0x00], "bndcl  0x80(%esp),%bnd2"),
    ok(C32, "bndcl 0x100(%edi), %bnd3", &[0xf3, 0x0f, 0x1a, 0x9f, 0x00, 0x01, 0x00, 0x00], "bndcl  0x100(%edi),%bnd3"),
    ok(C32, "bndcl 0x12345678, %bnd0", &[0xf3, 0x0f, 0x1a, 0x05, 0x78, 0x56, 0x34, 0x12], "bndcl  0x12345678,%bnd0"),
    ok(C32, "bndcl -0x10, %bnd1", &[0xf3, 0x0f, 0x1a, 0x0d, 0xf0, 0xff, 0xff, 0xff], "bndcl  0xfffffff0,%bnd1"),
    ok(C32, "bndcl 0x0, %bnd2", &[0xf3, 0x0f, 0x1a, 0x15, 0x00, 0x00, 0x00, 0x00], "bndcl  0x0,%bnd2"),
    ok(C32, "bndcl 0xffffffff, %bnd3", &[0xf3, 0x0f, 0x1a, 0x1d, 0xff, 0xff, 0xff, 0xff], "bndcl  0xffffffff,%bnd3"),
    ok(C32, "bndcl (%eax,%ebx,1), %bnd0", &[0xf3, 0x0f, 0x1a, 0x04, 0x18], "bndcl  (%eax,%ebx,1),%bnd0"),
    ok(C32, "bndcl (%eax,%ebx,2), %bnd1", &[0xf3, 0x0f, 0x1a, 0x0c, 0x58], "bndcl  (%eax,%ebx,2),%bnd1"),
    ok(C32, "bndcl (%eax,%ebx,4), %bnd2", &[0xf3, 0x0f, 0x1a, 0x14, 0x98], "bndcl  (%eax,%ebx,4),%bnd2"),
    ok(C32, "bndcl (%eax,%ebx,8), %bnd3", &[0xf3, 0x0f, 0x1a, 0x1c, 0xd8], "bndcl  (%eax,%ebx,8),%bnd3"),
    ok(C32, "bndcl 0x10(%esp,%eax,4), %bnd0", &[0xf3, 0x0f, 0x1a, 0x44, 0x84, 0x10], "bndcl  0x10(%esp,%eax,4),%bnd0"),
    ok(C32, "bndcl (%ebp,%eax,2), %bnd1", &[0xf3, 0x0f, 0x1a, 0x4c, 0x45, 0x00], "bndcl  0x0(%ebp,%eax,2),%bnd1"),
    ok(C32, "bndcl (,%ecx,8), %bnd2", &[0xf3, 0x0f, 0x1a, 0x14, 0xcd, 0x00, 0x00, 0x00, 0x00], "bndcl  0x0(,%ecx,8),%bnd2"),
    ok(C32, "bndcl 0x10(,%edi,2), %bnd3", &[0xf3, 0x0f, 0x1a, 0x1c, 0x7d, 0x10, 0x00, 0x00, 0x00], "bndcl  0x10(,%edi,2),%bnd3"),
    ok(C32, "bndcl (,%ebp,1), %bnd0", &[0xf3, 0x0f, 0x1a, 0x04, 0x2d, 0x00, 0x00, 0x00, 0x00], "bndcl  0x0(,%ebp,1),%bnd0"),
    ok(C32, "bndcl -0x1(,%ecx,1), %bnd1", &[0xf3, 0x0f, 0x1a, 0x0c, 0x0d, 0xff, 0xff, 0xff, 0xff], "bndcl  -0x1(,%ecx,1),%bnd1"),
    ok(C32, "bndcl 0x7f(%esp,%ebp,1), %bnd2", &[0xf3, 0x0f, 0x1a, 0x54, 0x2c, 0x7f], "bndcl  0x7f(%esp,%ebp,1),%bnd2"),
    ok(C32, "bndcl -0x80000000(%edi,%esi,4), %bnd3", &[0xf3, 0x0f, 0x1a, 0x9c, 0xb7, 0x00, 0x00, 0x00, 0x80], "bndcl  -0x80000000(%edi,%esi,4),%bnd3"),
    ok(C32, "bndcl (%esp,%ecx,1), %bnd0", &[0xf3, 0x0f, 0x1a, 0x04, 0x0c], "bndcl  (%esp,%ecx,1),%bnd0"),
    ok(C32, "bndcl %fs:(%eax), %bnd1", &[0x64, 0xf3, 0x0f, 0x1a, 0x08], "bndcl  %fs:(%eax),%bnd1"),
    ok(C32, "bndcl %gs:0x10(%esp,%eax,4), %bnd2", &[0x65, 0xf3, 0x0f, 0x1a, 0x54, 0x84, 0x10], "bndcl  %gs:0x10(%esp,%eax,4),%bnd2"),
    ok(C32, "bndcl %es:(%ecx), %bnd3", &[0x26, 0xf3, 0x0f, 0x1a, 0x19], "bndcl  %es:(%ecx),%bnd3"),
    ok(C32, "bndcl %cs:0x10(%edx), %bnd0", &[0x2e, 0xf3, 0x0f, 0x1a, 0x42, 0x10], "bndcl  %cs:0x10(%edx),%bnd0"),
    ok(C32, "bndcl %ss:(%eax), %bnd1", &[0x36, 0xf3, 0x0f, 0x1a, 0x08], "bndcl  %ss:(%eax),%bnd1"),
    ok(C32, "bndcl %ds:(%ebp), %bnd2", &[0x3e, 0xf3, 0x0f, 0x1a, 0x55, 0x00], "bndcl  %ds:0x0(%ebp),%bnd2"),
    ok(C32, "bndcl %ds:(%esp), %bnd3", &[0x3e, 0xf3, 0x0f, 0x1a, 0x1c, 0x24], "bndcl  %ds:(%esp),%bnd3"),
    ok(C32, "bndcu (%eax), %bnd0", &[0xf2, 0x0f, 0x1a, 0x00], "bndcu  (%eax),%bnd0"),
    ok(C32, "bndcu (%ecx), %bnd1", &[0xf2, 0x0f, 0x1a, 0x09], "bndcu  (%ecx),%bnd1"),
    ok(C32, "bndcu (%edx), %bnd2", &[0xf2, 0x0f, 0x1a, 0x12], "bndcu  (%edx),%bnd2"),
    ok(C32, "bndcu (%ebx), %bnd3", &[0xf2, 0x0f, 0x1a, 0x1b], "bndcu  (%ebx),%bnd3"),
    ok(C32, "bndcu (%esp), %bnd0", &[0xf2, 0x0f, 0x1a, 0x04, 0x24], "bndcu  (%esp),%bnd0"),
    ok(C32, "bndcu (%ebp), %bnd1", &[0xf2, 0x0f, 0x1a, 0x4d, 0x00], "bndcu  0x0(%ebp),%bnd1"),
    ok(C32, "bndcu (%esi), %bnd2", &[0xf2, 0x0f, 0x1a, 0x16], "bndcu  (%esi),%bnd2"),
    ok(C32, "bndcu (%edi), %bnd3", &[0xf2, 0x0f, 0x1a, 0x1f], "bndcu  (%edi),%bnd3"),
    ok(C32, "bndcu 0x7f(%eax), %bnd0", &[0xf2, 0x0f, 0x1a, 0x40, 0x7f], "bndcu  0x7f(%eax),%bnd0"),
    ok(C32, "bndcu -0x80(%ecx), %bnd1", &[0xf2, 0x0f, 0x1a, 0x49, 0x80], "bndcu  -0x80(%ecx),%bnd1"),
    ok(C32, "bndcu 0x10(%esp), %bnd2", &[0xf2, 0x0f, 0x1a, 0x54, 0x24, 0x10], "bndcu  0x10(%esp),%bnd2"),
    ok(C32, "bndcu -0x8(%ebp), %bnd3", &[0xf2, 0x0f, 0x1a, 0x5d, 0xf8], "bndcu  -0x8(%ebp),%bnd3"),
    ok(C32, "bndcu 0x12345678(%edx), %bnd0", &[0xf2, 0x0f, 0x1a, 0x82, 0x78, 0x56, 0x34, 0x12], "bndcu  0x12345678(%edx),%bnd0"),
    ok(C32, "bndcu -0x80000000(%esi), %bnd1", &[0xf2, 0x0f, 0x1a, 0x8e, 0x00, 0x00, 0x00, 0x80], "bndcu  -0x80000000(%esi),%bnd1"),
    ok(C32, "bndcu 0x80(%esp), %bnd2", &[0xf2, 0x0f, 0x1a, 0x94, 0x24, 0x80, 0x00, 0x00, 0x00], "bndcu  0x80(%esp),%bnd2"),
    ok(C32, "bndcu 0x100(%edi), %bnd3", &[0xf2, 0x0f, 0x1a, 0x9f, 0x00, 0x01, 0x00, 0x00], "bndcu  0x100(%edi),%bnd3"),
    ok(C32, "bndcu 0x12345678, %bnd0", &[0xf2, 0x0f, 0x1a, 0x05, 0x78, 0x56, 0x34, 0x12], "bndcu  0x12345678,%bnd0"),
    ok(C32, "bndcu -0x10, %bnd1", &[0xf2, 0x0f, 0x1a, 0x0d, 0xf0, 0xff, 0xff, 0xff], "bndcu  0xfffffff0,%bnd1"),
    ok(C32, "bndcu 0x0, %bnd2", &[0xf2, 0x0f, 0x1a, 0x15, 0x00, 0x00, 0x00, 0x00], "bndcu  0x0,%bnd2"),
    ok(C32, "bndcu 0xffffffff, %bnd3", &[0xf2, 0x0f, 0x1a, 0x1d, 0xff, 0xff, 0xff, 0xff], "bndcu  0xffffffff,%bnd3"),
    ok(C32, "bndcu (%eax,%ebx,1), %bnd0", &[0xf2, 0x0f, 0x1a, 0x04, 0x18], "bndcu  (%eax,%ebx,1),%bnd0"),
    ok(C32, "bndcu (%eax,%ebx,2), %bnd1", &[0xf2, 0x0f, 0x1a, 0x0c, 0x58], "bndcu  (%eax,%ebx,2),%bnd1"),
    ok(C32, "bndcu (%eax,%ebx,4), %bnd2", &[0xf2, 0x0f, 0x1a, 0x14, 0x98], "bndcu  (%eax,%ebx,4),%bnd2"),
    ok(C32, "bndcu (%eax,%ebx,8), %bnd3", &[0xf2, 0x0f, 0x1a, 0x1c, 0xd8], "bndcu  (%eax,%ebx,8),%bnd3"),
    ok(C32, "bndcu 0x10(%esp,%eax,4), %bnd0", &[0xf2, 0x0f, 0x1a, 0x44, 0x84, 0x10], "bndcu  0x10(%esp,%eax,4),%bnd0"),
    ok(C32, "bndcu (%ebp,%eax,2), %bnd1", &[0xf2, 0x0f, 0x1a, 0x4c, 0x45, 0x00], "bndcu  0x0(%ebp,%eax,2),%bnd1"),
    ok(C32, "bndcu (,%ecx,8), %bnd2", &[0xf2, 0x0f, 0x1a, 0x14, 0xcd, 0x00, 0x00, 0x00, 0x00], "bndcu  0x0(,%ecx,8),%bnd2"),
    ok(C32, "bndcu 0x10(,%edi,2), %bnd3", &[0xf2, 0x0f, 0x1a, 0x1c, 0x7d, 0x10, 0x00, 0x00, 0x00], "bndcu  0x10(,%edi,2),%bnd3"),
    ok(C32, "bndcu (,%ebp,1), %bnd0", &[0xf2, 0x0f, 0x1a, 0x04, 0x2d, 0x00, 0x00, 0x00, 0x00], "bndcu  0x0(,%ebp,1),%bnd0"),
    ok(C32, "bndcu -0x1(,%ecx,1), %bnd1", &[0xf2, 0x0f, 0x1a, 0x0c, 0x0d, 0xff, 0xff, 0xff, 0xff], "bndcu  -0x1(,%ecx,1),%bnd1"),
    ok(C32, "bndcu 0x7f(%esp,%ebp,1), %bnd2", &[0xf2, 0x0f, 0x1a, 0x54, 0x2c, 0x7f], "bndcu  0x7f(%esp,%ebp,1),%bnd2"),
    ok(C32, "bndcu -0x80000000(%edi,%esi,4), %bnd3", &[0xf2, 0x0f, 0x1a, 0x9c, 0xb7, 0x00, 0x00, 0x00, 0x80], "bndcu  -0x80000000(%edi,%esi,4),%bnd3"),
    ok(C32, "bndcu (%esp,%ecx,1), %bnd0", &[0xf2, 0x0f, 0x1a, 0x04, 0x0c], "bndcu  (%esp,%ecx,1),%bnd0"),
    ok(C32, "bndcu %fs:(%eax), %bnd1", &[0x64, 0xf2, 0x0f, 0x1a, 0x08], "bndcu  %fs:(%eax),%bnd1"),
    ok(C32, "bndcu %gs:0x10(%esp,%eax,4), %bnd2", &[0x65, 0xf2, 0x0f, 0x1a, 0x54, 0x84, 0x10], "bndcu  %gs:0x10(%esp,%eax,4),%bnd2"),
    ok(C32, "bndcu %es:(%ecx), %bnd3", &[0x26, 0xf2, 0x0f, 0x1a, 0x19], "bndcu  %es:(%ecx),%bnd3"),
    ok(C32, "bndcu %cs:0x10(%edx), %bnd0", &[0x2e, 0xf2, 0x0f, 0x1a, 0x42, 0x10], "bndcu  %cs:0x10(%edx),%bnd0"),
    ok(C32, "bndcu %ss:(%eax), %bnd1", &[0x36, 0xf2, 0x0f, 0x1a, 0x08], "bndcu  %ss:(%eax),%bnd1"),
    ok(C32, "bndcu %ds:(%ebp), %bnd2", &[0x3e, 0xf2, 0x0f, 0x1a, 0x55, 0x00], "bndcu  %ds:0x0(%ebp),%bnd2"),
    ok(C32, "bndcu %ds:(%esp), %bnd3", &[0x3e, 0xf2, 0x0f, 0x1a, 0x1c, 0x24], "bndcu  %ds:(%esp),%bnd3"),
    ok(C32, "bndcn (%eax), %bnd0", &[0xf2, 0x0f, 0x1b, 0x00], "bndcn  (%eax),%bnd0"),
    ok(C32, "bndcn (%ecx), %bnd1", &[0xf2, 0x0f, 0x1b, 0x09], "bndcn  (%ecx),%bnd1"),
    ok(C32, "bndcn (%edx), %bnd2", &[0xf2, 0x0f, 0x1b, 0x12], "bndcn  (%edx),%bnd2"),
    ok(C32, "bndcn (%ebx), %bnd3", &[0xf2, 0x0f, 0x1b, 0x1b], "bndcn  (%ebx),%bnd3"),
    ok(C32, "bndcn (%esp), %bnd0", &[0xf2, 0x0f, 0x1b, 0x04, 0x24], "bndcn  (%esp),%bnd0"),
    ok(C32, "bndcn (%ebp), %bnd1", &[0xf2, 0x0f, 0x1b, 0x4d, 0x00], "bndcn  0x0(%ebp),%bnd1"),
    ok(C32, "bndcn (%esi), %bnd2", &[0xf2, 0x0f, 0x1b, 0x16], "bndcn  (%esi),%bnd2"),
    ok(C32, "bndcn (%edi), %bnd3", &[0xf2, 0x0f, 0x1b, 0x1f], "bndcn  (%edi),%bnd3"),
    ok(C32, "bndcn 0x7f(%eax), %bnd0", &[0xf2, 0x0f, 0x1b, 0x40, 0x7f], "bndcn  0x7f(%eax),%bnd0"),
    ok(C32, "bndcn -0x80(%ecx), %bnd1", &[0xf2, 0x0f, 0x1b, 0x49, 0x80], "bndcn  -0x80(%ecx),%bnd1"),
    ok(C32, "bndcn 0x10(%esp), %bnd2", &[0xf2, 0x0f, 0x1b, 0x54, 0x24, 0x10], "bndcn  0x10(%esp),%bnd2"),
    ok(C32, "bndcn -0x8(%ebp), %bnd3", &[0xf2, 0x0f, 0x1b, 0x5d, 0xf8], "bndcn  -0x8(%ebp),%bnd3"),
    ok(C32, "bndcn 0x12345678(%edx), %bnd0", &[0xf2, 0x0f, 0x1b, 0x82, 0x78, 0x56, 0x34, 0x12], "bndcn  0x12345678(%edx),%bnd0"),
    ok(C32, "bndcn -0x80000000(%esi), %bnd1", &[0xf2, 0x0f, 0x1b, 0x8e, 0x00, 0x00, 0x00, 0x80], "bndcn  -0x80000000(%esi),%bnd1"),
    ok(C32, "bndcn 0x80(%esp), %bnd2", &[0xf2, 0x0f, 0x1b, 0x94, 0x24, 0x80, 0x00, 0x00, 0x00], "bndcn  0x80(%esp),%bnd2"),
    ok(C32, "bndcn 0x100(%edi), %bnd3", &[0xf2, 0x0f, 0x1b, 0x9f, 0x00, 0x01, 0x00, 0x00], "bndcn  0x100(%edi),%bnd3"),
    ok(C32, "bndcn 0x12345678, %bnd0", &[0xf2, 0x0f, 0x1b, 0x05, 0x78, 0x56, 0x34, 0x12], "bndcn  0x12345678,%bnd0"),
    ok(C32, "bndcn -0x10, %bnd1", &[0xf2, 0x0f, 0x1b, 0x0d, 0xf0, 0xff, 0xff, 0xff], "bndcn  0xfffffff0,%bnd1"),
    ok(C32, "bndcn 0x0, %bnd2", &[0xf2, 0x0f, 0x1b, 0x15, 0x00, 0x00, 0x00, 0x00], "bndcn  0x0,%bnd2"),
    ok(C32, "bndcn 0xffffffff, %bnd3", &[0xf2, 0x0f, 0x1b, 0x1d, 0xff, 0xff, 0xff, 0xff], "bndcn  0xffffffff,%bnd3"),
    ok(C32, "bndcn (%eax,%ebx,1), %bnd0", &[0xf2, 0x0f, 0x1b, 0x04, 0x18], "bndcn  (%eax,%ebx,1),%bnd0"),
    ok(C32, "bndcn (%eax,%ebx,2), %bnd1", &[0xf2, 0x0f, 0x1b, 0x0c, 0x58], "bndcn  (%eax,%ebx,2),%bnd1"),
    ok(C32, "bndcn (%eax,%ebx,4), %bnd2", &[0xf2, 0x0f, 0x1b, 0x14, 0x98], "bndcn  (%eax,%ebx,4),%bnd2"),
    ok(C32, "bndcn (%eax,%ebx,8), %bnd3", &[0xf2, 0x0f, 0x1b, 0x1c, 0xd8], "bndcn  (%eax,%ebx,8),%bnd3"),
    ok(C32, "bndcn 0x10(%esp,%eax,4), %bnd0", &[0xf2, 0x0f, 0x1b, 0x44, 0x84, 0x10], "bndcn  0x10(%esp,%eax,4),%bnd0"),
    ok(C32, "bndcn (%ebp,%eax,2), %bnd1", &[0xf2, 0x0f, 0x1b, 0x4c, 0x45, 0x00], "bndcn  0x0(%ebp,%eax,2),%bnd1"),
    ok(C32, "bndcn (,%ecx,8), %bnd2", &[0xf2, 0x0f, 0x1b, 0x14, 0xcd, 0x00, 0x00, 0x00, 0x00], "bndcn  0x0(,%ecx,8),%bnd2"),
    ok(C32, "bndcn 0x10(,%edi,2), %bnd3", &[0xf2, 0x0f, 0x1b, 0x1c, 0x7d, 0x10, 0x00, 0x00, 0x00], "bndcn  0x10(,%edi,2),%bnd3"),
    ok(C32, "bndcn (,%ebp,1), %bnd0", &[0xf2, 0x0f, 0x1b, 0x04, 0x2d, 0x00, 0x00, 0x00, 0x00], "bndcn  0x0(,%ebp,1),%bnd0"),
    ok(C32, "bndcn -0x1(,%ecx,1), %bnd1", &[0xf2, 0x0f, 0x1b, 0x0c, 0x0d, 0xff, 0xff, 0xff, 0xff], "bndcn  -0x1(,%ecx,1),%bnd1"),
    ok(C32, "bndcn 0x7f(%esp,%ebp,1), %bnd2", &[0xf2, 0x0f, 0x1b, 0x54, 0x2c, 0x7f], "bndcn  0x7f(%esp,%ebp,1),%bnd2"),
    ok(C32, "bndcn -0x80000000(%edi,%esi,4), %bnd3", &[0xf2, 0x0f, 0x1b, 0x9c, 0xb7, 0x00, 0x00, 0x00, 0x80], "bndcn  -0x80000000(%edi,%esi,4),%bnd3"),
    ok(C32, "bndcn (%esp,%ecx,1), %bnd0", &[0xf2, 0x0f, 0x1b, 0x04, 0x0c], "bndcn  (%esp,%ecx,1),%bnd0"),
    ok(C32, "bndcn %fs:(%eax), %bnd1", &[0x64, 0xf2, 0x0f, 0x1b, 0x08], "bndcn  %fs:(%eax),%bnd1"),
    ok(C32, "bndcn %gs:0x10(%esp,%eax,4), %bnd2", &[0x65, 0xf2, 0x0f, 0x1b, 0x54, 0x84, 0x10], "bndcn  %gs:0x10(%esp,%eax,4),%bnd2"),
    ok(C32, "bndcn %es:(%ecx), %bnd3", &[0x26, 0xf2, 0x0f, 0x1b, 0x19], "bndcn  %es:(%ecx),%bnd3"),
    ok(C32, "bndcn %cs:0x10(%edx), %bnd0", &[0x2e, 0xf2, 0x0f, 0x1b, 0x42, 0x10], "bndcn  %cs:0x10(%edx),%bnd0"),
    ok(C32, "bndcn %ss:(%eax), %bnd1", &[0x36, 0xf2, 0x0f, 0x1b, 0x08], "bndcn  %ss:(%eax),%bnd1"),
    ok(C32, "bndcn %ds:(%ebp), %bnd2", &[0x3e, 0xf2, 0x0f, 0x1b, 0x55, 0x00], "bndcn  %ds:0x0(%ebp),%bnd2"),
    ok(C32, "bndcn %ds:(%esp), %bnd3", &[0x3e, 0xf2, 0x0f, 0x1b, 0x1c, 0x24], "bndcn  %ds:(%esp),%bnd3"),
    ok(C32, ".byte 0xf3,0x0f,0x1a,0x04,0x25,0x01,0x02,0x03,0x04", &[0xf3, 0x0f, 0x1a, 0x04, 0x25, 0x01, 0x02, 0x03, 0x04], "bndcl  0x4030201(,%eiz,1),%bnd0"),
    ok(C32, ".byte 0xf3,0x0f,0x1a,0x04,0x64", &[0xf3, 0x0f, 0x1a, 0x04, 0x64], "bndcl  (%esp,%eiz,2),%bnd0"),
    ok(C32, ".byte 0xf3,0x0f,0x1a,0x05,0x01,0x02,0x03,0x04", &[0xf3, 0x0f, 0x1a, 0x05, 0x01, 0x02, 0x03, 0x04], "bndcl  0x4030201,%bnd0"),
    ok(C32, ".byte 0x67,0xf3,0x0f,0x1a,0xc0", &[0x67, 0xf3, 0x0f, 0x1a, 0xc0], "addr16 bndcl %eax,%bnd0"),
    ok(C32, ".byte 0x66,0xf3,0x0f,0x1a,0x00", &[0x66, 0xf3, 0x0f, 0x1a, 0x00], "data16 bndcl (%eax),%bnd0"),
    ok(C32, ".byte 0xf2,0xf3,0x0f,0x1a,0x00", &[0xf2, 0xf3, 0x0f, 0x1a, 0x00], "repnz bndcl (%eax),%bnd0"),
    ok(C32, ".byte 0xf3,0xf2,0x0f,0x1b,0x00", &[0xf3, 0xf2, 0x0f, 0x1b, 0x00], "repz bndcn (%eax),%bnd0"),
    ok(C32, ".byte 0x3e,0xf3,0x0f,0x1a,0x00", &[0x3e, 0xf3, 0x0f, 0x1a, 0x00], "bndcl  %ds:(%eax),%bnd0"),
    ok(C32, ".byte 0x2e,0x36,0xf2,0x0f,0x1a,0x00", &[0x2e, 0x36, 0xf2, 0x0f, 0x1a, 0x00], "cs bndcu %ss:(%eax),%bnd0"),
    ok(C32, ".byte 0x2e,0x2e,0x2e,0x2e,0x2e,0x2e,0x2e,0xf3,0x0f,0x1a,0x80,0x01,0x02,0x03,0x04", &[0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0xf3, 0x0f, 0x1a, 0x80, 0x01, 0x02, 0x03, 0x04], "cs cs cs cs cs cs bndcl %cs:0x4030201(%eax),%bnd0"),
];

/// Encodings the decoder rejects, with what objdump made of them.
#[rustfmt::skip]
const REJECT: &[Reject] = &[
    bad(L64, ".byte 0xf3,0x44,0x0f,0x1a,0x00", &[0xf3, 0x44, 0x0f, 0x1a, 0x00], "bndcl  (%rax),(bad)", DecodeError::BadBoundRegister { number: 8 }),
    bad(L64, ".byte 0xf2,0x4c,0x0f,0x1a,0xf8", &[0xf2, 0x4c, 0x0f, 0x1a, 0xf8], "rex.WR bndcu %rax,(bad)", DecodeError::BadBoundRegister { number: 15 }),
    bad(L64, ".byte 0xf3,0x4f,0x0f,0x1a,0x04,0x24", &[0xf3, 0x4f, 0x0f, 0x1a, 0x04, 0x24], "rex.WRXB bndcl (%r12,%r12,1),(bad)", DecodeError::BadBoundRegister { number: 8 }),
    bad(L64, ".byte 0xf3,0x0f,0x1a,0x20", &[0xf3, 0x0f, 0x1a, 0x20], "bndcl  (%rax),(bad)", DecodeError::BadBoundRegister { number: 4 }),
    bad(L64, ".byte 0xf3,0x0f,0x1a,0x28", &[0xf3, 0x0f, 0x1a, 0x28], "bndcl  (%rax),(bad)", DecodeError::BadBoundRegister { number: 5 }),
    bad(L64, ".byte 0xf2,0x0f,0x1a,0xf0", &[0xf2, 0x0f, 0x1a, 0xf0], "bndcu  %rax,(bad)", DecodeError::BadBoundRegister { number: 6 }),
    bad(L64, ".byte 0xf2,0x0f,0x1b,0x3c,0x24", &[0xf2, 0x0f, 0x1b, 0x3c, 0x24], "bndcn  (%rsp),(bad)", DecodeError::BadBoundRegister { number: 7 }),
    bad(L64, "bndmk (%rax), %bnd0", &[0xf3, 0x0f, 0x1b, 0x00], "bndmk  (%rax),%bnd0", DecodeError::NotABoundsCheck),
    bad(L64, "bndmk 0x10(%rsp,%r12,4), %bnd3", &[0xf3, 0x42, 0x0f, 0x1b, 0x5c, 0xa4, 0x10], "bndmk  0x10(%rsp,%r12,4),%bnd3", DecodeError::NotABoundsCheck),
    bad(L64, "bndmov %bnd1, %bnd0", &[0x66, 0x0f, 0x1a, 0xc1], "bndmov %bnd1,%bnd0", DecodeError::NotABoundsCheck),
    bad(L64, "bndmov (%rax), %bnd2", &[0x66, 0x0f, 0x1a, 0x10], "bndmov (%rax),%bnd2", DecodeError::NotABoundsCheck),
    bad(L64, "bndmov %bnd2, (%rax)", &[0x66, 0x0f, 0x1b, 0x10], "bndmov %bnd2,(%rax)", DecodeError::NotABoundsCheck),
    bad(L64, "bndldx (%rax,%rbx), %bnd0", &[0x0f, 0x1a, 0x04, 0x18], "bndldx (%rax,%rbx,1),%bnd0", DecodeError::NotABoundsCheck),
    bad(L64, "bndstx %bnd0, (%rax,%rbx)", &[0x0f, 0x1b, 0x04, 0x18], "bndstx %bnd0,(%rax,%rbx,1)", DecodeError::NotABoundsCheck),
    bad(L64, "pause", &[0xf3, 0x90], "pause", DecodeError::NotABoundsCheck),
    bad(L64, "nop", &[0x90], "nop", DecodeError::NotABoundsCheck),
    bad(L64, "ud2", &[0x0f, 0x0b], "ud2", DecodeError::NotABoundsCheck),
    bad(L64, ".byte 0x2e,0x2e,0x2e,0x2e,0x2e,0x2e,0x2e,0x2e,0xf3,0x0f,0x1a,0x80,0x01,0x02,0x03,0x04", &[0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0xf3, 0x0f, 0x1a, 0x80, 0x01, 0x02, 0x03, 0x04], "cs cs cs cs cs cs cs cs (bad) | .byte 0x4", DecodeError::TooLong),
    bad(C32, ".byte 0x67,0xf3,0x0f,0x1a,0x00", &[0x67, 0xf3, 0x0f, 0x1a, 0x00], "addr16 bndcl (bad),%bnd0", DecodeError::SixteenBitAddressing),
    bad(C32, ".byte 0x67,0xf2,0x0f,0x1b,0x47,0x10", &[0x67, 0xf2, 0x0f, 0x1b, 0x47, 0x10], "addr16 bndcn (bad),%bnd0 | .byte 0x10", DecodeError::SixteenBitAddressing),
    bad(C32, ".byte 0xf3,0x0f,0x1a,0x20", &[0xf3, 0x0f, 0x1a, 0x20], "bndcl  (%eax),(bad)", DecodeError::BadBoundRegister { number: 4 }),
    bad(C32, ".byte 0xf2,0x0f,0x1b,0xf8", &[0xf2, 0x0f, 0x1b, 0xf8], "bndcn  %eax,(bad)", DecodeError::BadBoundRegister { number: 7 }),
    bad(C32, ".byte 0x48,0xf3,0x0f,0x1a,0x00", &[0x48, 0xf3, 0x0f, 0x1a, 0x00], "dec    %eax | bndcl  (%eax),%bnd0", DecodeError::NotABoundsCheck),
    bad(C32, ".byte 0xf3,0x41,0x0f,0x1a,0x00", &[0xf3, 0x41, 0x0f, 0x1a, 0x00], "repz inc %ecx | bndldx (%eax),%bnd0", DecodeError::NotABoundsCheck),
    bad(C32, "bndmk (%eax), %bnd0", &[0xf3, 0x0f, 0x1b, 0x00], "bndmk  (%eax),%bnd0", DecodeError::NotABoundsCheck),
    bad(C32, "bndmov %bnd1, %bnd0", &[0x66, 0x0f, 0x1a, 0xc1], "bndmov %bnd1,%bnd0", DecodeError::NotABoundsCheck),
    bad(C32, "bndldx (%eax,%ebx), %bnd0", &[0x0f, 0x1a, 0x04, 0x18], "bndldx (%eax,%ebx,1),%bnd0", DecodeError::NotABoundsCheck),
    bad(C32, "bndstx %bnd0, (%eax,%ebx)", &[0x0f, 0x1b, 0x04, 0x18], "bndstx %bnd0,(%eax,%ebx,1)", DecodeError::NotABoundsCheck),
    bad(C32, "bound %eax, (%ecx)", &[0x62, 0x01], "bound  %eax,(%ecx)", DecodeError::NotABoundsCheck),
    bad(C32, ".byte 0x2e,0x2e,0x2e,0x2e,0x2e,0x2e,0x2e,0x2e,0xf3,0x0f,0x1a,0x80,0x01,0x02,0x03,0x04", &[0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0xf3, 0x0f, 0x1a, 0x80, 0x01, 0x02, 0x03, 0x04], "cs cs cs cs cs cs cs (bad) | .byte 0x4", DecodeError::TooLong),
];

/// Encodings where the decoder deliberately differs from objdump, and why.
#[rustfmt::skip]
const DISAGREE: &[Disagree] = &[
    differ(L64, ".byte 0xf0,0xf3,0x0f,0x1a,0x00", &[0xf0, 0xf3, 0x0f, 0x1a, 0x00], "lock bndcl (%rax),%bnd0", Err(DecodeError::LockPrefix),
        "SDM: LOCK on any MPX instruction is #UD, so these bytes never raise #BR"),
    differ(C32, ".byte 0xf0,0xf3,0x0f,0x1a,0x00", &[0xf0, 0xf3, 0x0f, 0x1a, 0x00], "lock bndcl (%eax),%bnd0", Err(DecodeError::LockPrefix),
        "SDM: LOCK on any MPX instruction is #UD, so these bytes never raise #BR"),
    differ(L64, ".byte 0xf3,0x44,0x41,0x0f,0x1a,0x00", &[0xf3, 0x44, 0x41, 0x0f, 0x1a, 0x00], "repz rex.R | bndldx (%r8),%bnd0", Ok("bndcl (%r8),%bnd0"),
        "SDM vol. 2A 2.2.1: a REX not immediately before 0F is ignored; objdump ends the instruction at the second REX"),
];
