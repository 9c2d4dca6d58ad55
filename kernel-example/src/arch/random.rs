//! Random bytes for `getrandom`, `/dev/urandom` and `AT_RANDOM`: RDRAND where the CPU
//! has it, else a SplitMix64 stream seeded from the time-stamp counter (not
//! cryptographic: enough for glibc's stack protector and malloc).

use core::arch::x86_64::{__cpuid, _rdtsc};
use core::sync::atomic::{AtomicU64, Ordering};

static FALLBACK: AtomicU64 = AtomicU64::new(0);

fn has_rdrand() -> bool {
    __cpuid(1).ecx & (1 << 30) != 0
}

fn rdrand() -> Option<u64> {
    for _ in 0..10 {
        let (value, ok): (u64, u8);
        // SAFETY: RDRAND is supported (checked by the caller); it only writes the
        // output register and CF.
        unsafe {
            core::arch::asm!("rdrand {}", "setc {}", out(reg) value, out(reg_byte) ok,
                             options(nomem, nostack))
        };
        if ok != 0 {
            return Some(value);
        }
    }
    None
}

fn splitmix() -> u64 {
    let mut seed = FALLBACK.load(Ordering::Relaxed);
    if seed == 0 {
        // SAFETY: RDTSC has no preconditions in ring 0.
        seed = unsafe { _rdtsc() } | 1;
    }
    seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    FALLBACK.store(seed, Ordering::Relaxed);
    let mut z = seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One random 64-bit value.
pub fn next_u64() -> u64 {
    if has_rdrand() {
        if let Some(value) = rdrand() {
            return value;
        }
    }
    splitmix()
}

/// Fills `buf` with random bytes.
pub fn fill(buf: &mut [u8]) {
    for chunk in buf.chunks_mut(8) {
        let bytes = next_u64().to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}
