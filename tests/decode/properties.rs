//! Properties over arbitrary bytes: no panic, and the decoder's invariants.

use super::*;
use proptest::prelude::*;

/// Cases per property: `MPX_SOAK_CASES` (set by `scripts/soak.sh`), or 4096.
fn cases() -> u32 {
    std::env::var("MPX_SOAK_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4096)
}

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
        prop_assert!(check.length() <= bytes.len());
        prop_assert!(check.length() <= MAX_INSTRUCTION_LEN);
        prop_assert!(check.length() >= 4);
        prop_assert_eq!(check.mode(), mode);
        // Exactly the bytes it claims: the same answer on its own bytes...
        prop_assert_eq!(decode(mode, &bytes[..check.length()]), Ok(check));
        // ...and any shorter copy is Truncated, never a different answer.
        for len in 0..check.length() {
            prop_assert_eq!(decode(mode, &bytes[..len]), Err(DecodeError::Truncated));
        }
        if mode == C32 {
            // 32-bit addresses, and nothing RIP-relative.
            prop_assert!(!is_rip_relative(&check));
            for regs in register_files() {
                prop_assert!(check.checked_address(&regs) <= 0xFFFF_FFFF);
            }
        }
        let regs = test_registers(0xffff_ffff_ffff_fff0);
        let address = check.checked_address(&regs);
        let bounds = BoundRegisters::new([[u64::MAX, 1]; 4]);
        let report = check.report(&regs, &bounds);
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
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn arbitrary_bytes_never_panic(mode in any_mode(), bytes in prop::collection::vec(any::<u8>(), 0..=20)) {
        check_invariants(mode, &bytes)?;
    }

    #[test]
    fn likely_encodings_keep_the_invariants(mode in any_mode(), bytes in likely_check()) {
        check_invariants(mode, &bytes)?;
    }
}
