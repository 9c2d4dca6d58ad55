//! Fuzzes the #BR path with arbitrary bytes: BNDSTATUS's cause, the decoder
//! and the report must never panic, and a decoded instruction must never be
//! longer than the bytes given (or than 15).
//!
//! Input layout: byte 0 picks the mode (bit 0) and the BNDSTATUS code (bits
//! 1-2); bytes 1..=8 seed the registers and bounds; the rest is what the
//! kernel copied from RIP.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mpx::arch::{BndStatus, BrCause, Mode};
use mpx::violation::{
    build_report, decode, BoundRegisters, DecodeError, RegisterSnapshot, MAX_INSTRUCTION_LEN,
};

fuzz_target!(|data: &[u8]| {
    let (control, rest) = data.split_first().unwrap_or((&0, &[]));
    let mode = if control & 1 == 0 {
        Mode::Long64
    } else {
        Mode::Compat32
    };
    let seed_bytes: [u8; 8] = rest
        .get(..8)
        .and_then(|seed| seed.try_into().ok())
        .unwrap_or([0xA5; 8]);
    let seed = u64::from_le_bytes(seed_bytes);
    let insn = rest.get(8..).unwrap_or(&[]);

    // The decoder alone, in both modes.
    for mode in [Mode::Long64, Mode::Compat32] {
        if let Ok(check) = decode(mode, insn) {
            assert!(check.length() <= insn.len());
            assert!(check.length() <= MAX_INSTRUCTION_LEN);
            assert_eq!(decode(mode, &insn[..check.length()]), Ok(check));
            if let Some(shorter) = check.length().checked_sub(1) {
                assert_eq!(decode(mode, &insn[..shorter]), Err(DecodeError::Truncated));
            }
        }
    }

    // The whole code-1 path with extreme register and bound values.
    let mut gprs = [0u64; 16];
    for (i, value) in gprs.iter_mut().enumerate() {
        *value = seed.rotate_left(i as u32 * 4) ^ (u64::MAX >> i);
    }
    let regs = RegisterSnapshot::new(gprs, seed.wrapping_neg());
    let bounds = BoundRegisters::new([
        [seed, !seed],
        [u64::MAX, 0],
        [0, u64::MAX],
        [seed.rotate_right(7), seed.rotate_left(3)],
    ]);
    let status = BndStatus::from_raw(seed & !0b11 | u64::from((control >> 1) & 0b11));
    let cause = status.cause();
    let _ = cause.to_string();
    match cause {
        BrCause::Violation => match build_report(mode, insn, &regs, &bounds) {
            Ok(report) => {
                assert!(report.instruction_len <= insn.len());
                if mode == Mode::Compat32 {
                    assert!(report.address <= u64::from(u32::MAX));
                }
                let _ = report.to_string();
            }
            Err(error) => {
                let _ = error.to_string();
            }
        },
        BrCause::MissingTable { entry } => assert_eq!(entry, status.raw() & !0b11),
        BrCause::NotMpx | BrCause::Reserved => {}
    }
});
