//! The stubs the probe harness runs: a few fixed instruction forms assembled by
//! hand around a case's bytes (see `harness` for what they do).

use super::case::{Case, CODE, FAR_POINTER, REGS_IN, REGS_OUT, RSP_AFTER, SAVED_RSP, TAIL};
use crate::arch::gdt;

/// Register numbers the stub loads and stores (all but RSP).
const GPRS: [u8; 7] = [0, 1, 2, 3, 5, 6, 7];

/// A byte buffer for one stub.
pub(super) struct Emitter {
    pub(super) buf: [u8; 1024],
    pub(super) len: usize,
}

impl Default for Emitter {
    fn default() -> Self {
        Emitter {
            buf: [0; 1024],
            len: 0,
        }
    }
}

impl Emitter {
    fn bytes(&mut self, bytes: &[u8]) {
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    fn abs32(&mut self, address: u64) {
        let address = u32::try_from(address).expect("probe address below 4 GiB");
        self.bytes(&address.to_le_bytes());
    }

    /// `mov [abs32], r64` (64-bit mode: REX.W 89 /r with a SIB of no base and no index).
    fn store64(&mut self, reg: u8, address: u64) {
        self.bytes(&[0x48, 0x89, (reg << 3) | 4, 0x25]);
        self.abs32(address);
    }

    /// `mov r64, [abs32]` (64-bit mode).
    fn load64(&mut self, reg: u8, address: u64) {
        self.bytes(&[0x48, 0x8b, (reg << 3) | 4, 0x25]);
        self.abs32(address);
    }

    /// `mov [abs32], r32` (32-bit mode: ModRM 00 reg 101 = disp32).
    fn store32(&mut self, reg: u8, address: u64) {
        self.bytes(&[0x89, (reg << 3) | 5]);
        self.abs32(address);
    }

    /// `mov r32, [abs32]` (32-bit mode).
    fn load32(&mut self, reg: u8, address: u64) {
        self.bytes(&[0x8b, (reg << 3) | 5]);
        self.abs32(address);
    }

    /// The 64-bit exit: `mov rsp, [SAVED_RSP]; ret`.
    fn exit64(&mut self) {
        self.load64(4, SAVED_RSP);
        self.bytes(&[0xc3]);
    }
}

/// The 64-bit stub; returns the offset of its exit.
pub(super) fn emit_long(e: &mut Emitter, case: &Case<'_>) -> u64 {
    e.store64(4, SAVED_RSP);
    for &r in &GPRS {
        e.load64(r, REGS_IN + 8 * u64::from(r));
    }
    e.bytes(case.setup);
    e.bytes(case.test);
    for _ in 0..TAIL {
        e.bytes(&[0x50]); // push rax
    }
    e.store64(4, RSP_AFTER);
    e.load64(4, SAVED_RSP);
    e.bytes(case.after);
    for &r in &GPRS {
        e.store64(r, REGS_OUT + 8 * u64::from(r));
    }
    let exit = e.len as u64;
    e.exit64();
    exit
}

/// The compatibility-mode stub: a 64-bit entry that far-returns into the 32-bit code
/// segment, the 32-bit body, a far jump back through [`FAR_POINTER`], and the 64-bit
/// exit. Returns the offset of the exit.
pub(super) fn emit_compat(e: &mut Emitter, case: &Case<'_>) -> u64 {
    let sel = gdt::selectors();
    let code32 = u8::try_from(sel.kernel_code32.0).expect("small selector");
    assert!(code32 < 0x80, "push imm8 sign-extends");
    e.store64(4, SAVED_RSP);
    // push code32; push body; lretq. The body's offset is patched below.
    e.bytes(&[0x6a, code32, 0x68]);
    let patch = e.len;
    e.bytes(&[0, 0, 0, 0, 0x48, 0xcb]);
    let body = CODE + e.len as u64;
    e.buf[patch..patch + 4].copy_from_slice(&(body as u32).to_le_bytes());
    for &r in &GPRS {
        e.load32(r, REGS_IN + 8 * u64::from(r));
    }
    e.bytes(case.setup);
    e.bytes(case.test);
    for _ in 0..TAIL {
        e.bytes(&[0x40]); // inc eax
    }
    e.bytes(case.after);
    for &r in &GPRS {
        e.store32(r, REGS_OUT + 8 * u64::from(r));
    }
    // jmp far [FAR_POINTER] (FF /5, m16:32).
    e.bytes(&[0xff, 0x2d]);
    e.abs32(FAR_POINTER);
    let exit = e.len as u64;
    e.exit64();
    exit
}
