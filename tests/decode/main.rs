//! Host tests for the bounds-check decoder and the violation report.
//!
//! # The binutils tables
//!
//! [`tables::AGREE`], [`tables::REJECT`] and [`tables::DISAGREE`] were
//! produced with GNU as 2.40 and objdump 2.40 (Debian): each row's `source`
//! was assembled on its own (`as --64` or `as --32`, one object per row, at
//! offset 0) and disassembled with `objdump -d --insn-width=16`; `bytes` and
//! `objdump` are that output, verbatim (several instructions are joined by
//! ` | `). Rows whose source is `.byte ...` cover encodings as never emits
//! (redundant prefixes, SIB index 100, REX placement, `67`). The ignored test
//! `binutils::table_matches_installed_binutils` repeats the assembly and prints every
//! row that no longer matches, in the table's own syntax; run it (and the
//! sweep below) with `cargo test --test decode -- --ignored` after adding a
//! row (`bytes` and `objdump` may be left empty in a new row and copied from
//! its output). `binutils::every_copy_length_of_every_table_row` cuts every
//! row of the three tables to each copy length 0..=15.
//!
//! The decoder's operand model is private to the crate, so the tests compare
//! what a kernel can see, which is what matters: for each [`tables::AGREE`]
//! row the decoder must
//! * accept exactly `bytes` (length = `bytes.len()`),
//! * name objdump's mnemonic and bound register, after removing prefix
//!   words objdump prints for prefixes that change nothing (`cs`, `data16`,
//!   `addr32`, `rex.W`, ...) and its `%riz`/`%eiz` "no index" pseudo-register,
//! * have a register operand exactly when objdump shows one, the same one,
//! * compute the same checked address as an independent evaluation of
//!   objdump's operand text, at three unrelated register files and three
//!   RIPs (an address is affine in the registers, so this pins down base,
//!   index, scale, displacement and RIP-relativity),
//! * compute the same RIP-relative target as objdump's `# 0x...` comment, and
//! * give `Truncated` for every shorter copy and the same result for every
//!   longer one (junk appended, up to 20 bytes).
//!
//! For each [`tables::REJECT`] row the decoder returns the listed error and objdump
//! shows `(bad)` or some other instruction.
//!
//! [`tables::DISAGREE`] lists where the decoder follows the SDM and objdump does not,
//! each with its reason: a LOCK prefix (objdump prints `lock bndcl`, the CPU
//! raises #UD) and two REX prefixes in a row (objdump splits the instruction,
//! the CPU ignores the first REX).
//!
//! # The sweep
//!
//! [`sweep::sweep`] builds every ModRM byte, and every SIB byte where one follows,
//! for each of BNDCL/BNDCU/BNDCN, in 64-bit mode without a prefix, with
//! `67` and with each of the sixteen REX bytes, and in 32-bit mode with and
//! without `67`: 382,560 encodings. `sweep::every_modrm_and_sib_in_both_modes`
//! checks the decoder on each against a model written from the SDM tables
//! (length, checked address, bound register, error), and
//! `sweep::every_copy_length_of_every_sweep_case` every copy length 0..=15 of
//! each. The ignored test `sweep::sweep_matches_installed_binutils` runs the
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

//!
//! # Modules
//! - [`tables`]: the binutils tables (generated) and their row types;
//! - [`binutils`]: the table tests;
//! - [`sweep`]: every ModRM and SIB byte in both modes;
//! - [`reports`]: violation reports built from decoded checks;
//! - [`properties`]: arbitrary bytes never panic and keep the invariants.
//!
//! The helpers they share (objdump's text, its independent evaluation, the
//! comparison of a decoded check with it) are here.

use mpx::arch::Mode;
use mpx::violation::{
    build_report, decode, Bnd, BoundRegisters, BoundsCheck, CheckKind, DecodeError, Gpr,
    RegisterFile, RegisterSnapshot, ViolationReport, MAX_INSTRUCTION_LEN,
};

mod binutils;
mod properties;
mod reports;
mod sweep;
mod tables;

const L64: Mode = Mode::Long64;
const C32: Mode = Mode::Compat32;

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

/// Register files whose values are unrelated to each other, and RIPs a
/// 64-bit and a 32-bit process can have: agreement on all of them means the
/// same affine address function.
fn register_files() -> Vec<RegisterSnapshot> {
    let mut files = Vec::new();
    for (n, multiplier) in [
        0x9E37_79B9_7F4A_7C15u64,
        0xC2B2_AE3D_27D4_EB4F,
        0x1656_67B1_9E37_79F9,
    ]
    .into_iter()
    .enumerate()
    {
        let mut gprs = [0u64; 16];
        for (i, value) in gprs.iter_mut().enumerate() {
            *value = multiplier.wrapping_mul(i as u64 + 1 + 16 * n as u64) ^ (i as u64);
        }
        for rip in [0, 0x0804_8000, 0x7fff_ffff_f000] {
            files.push(RegisterSnapshot::new(gprs, rip));
        }
    }
    files
}

/// Whether `check`, `len` bytes long, is the instruction objdump printed as
/// `text` (normalised, without its comment): the same mnemonic and bound
/// register, a register operand exactly when objdump shows one, and the same
/// checked address on every file of [`register_files`]. `Err` says what
/// differs.
fn same_as_objdump(check: &BoundsCheck, mode: Mode, text: &str, len: usize) -> Result<(), String> {
    let (mnemonic, operands) = text
        .split_once(' ')
        .ok_or_else(|| format!("no operands in {text:?}"))?;
    let (operand, bnd) = operands
        .rsplit_once(',')
        .ok_or_else(|| format!("no bound register in {text:?}"))?;
    let ours = check.kind().mnemonic().to_ascii_lowercase();
    if mnemonic != ours {
        return Err(format!("mnemonic {ours}, objdump {mnemonic}"));
    }
    if bnd != format!("%{}", check.bound_register()) {
        return Err(format!(
            "bound register {}, objdump {bnd}",
            check.bound_register()
        ));
    }
    let unsegmented = operand.split_once(':').map_or(operand, |(_, rest)| rest);
    let theirs_register = unsegmented.strip_prefix('%').map(register_by_name);
    if check.register_operand() != theirs_register {
        return Err(format!(
            "register operand {:?}, objdump {operand}",
            check.register_operand()
        ));
    }
    for regs in register_files() {
        let next_rip = regs.rip().wrapping_add(len as u64);
        let (ours, theirs) = (
            check.checked_address(&regs),
            evaluate_att(mode, operand, &regs, next_rip),
        );
        if ours != theirs {
            return Err(format!(
                "checked address {ours:#x}, objdump's operand {theirs:#x} at rip {:#x}",
                regs.rip()
            ));
        }
    }
    Ok(())
}

/// Whether `check`'s address depends on RIP (a RIP-relative operand).
fn is_rip_relative(check: &BoundsCheck) -> bool {
    let regs = test_registers(0);
    let moved = RegisterSnapshot::new(regs.gprs, 0x1234_5000);
    check.checked_address(&regs) != check.checked_address(&moved)
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
