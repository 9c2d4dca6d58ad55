//! Leaving QEMU through the `isa-debug-exit` device (I/O port 0xf4) with a verdict.
//!
//! QEMU exits with status `(value << 1) | 1`. A triple fault under `-no-reboot` exits
//! with 0, so no verdict maps to 0 or to any even status.

use x86_64::instructions::port::Port;

/// The verdict written to the debug-exit port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Verdict {
    /// Every scenario passed: QEMU exit status 33.
    Pass = 0x10,
    /// At least one scenario failed: QEMU exit status 35.
    Fail = 0x11,
    /// The CPU lacks MPX or XSAVE: QEMU exit status 37.
    NoMpx = 0x12,
    /// The kernel panicked or took an unexpected exception: QEMU exit status 39.
    Panic = 0x13,
}

/// Exits QEMU with `verdict`; halts forever if the device is absent.
pub fn exit_qemu(verdict: Verdict) -> ! {
    let mut port = Port::<u32>::new(0xf4);
    // SAFETY: writing to the isa-debug-exit port only terminates the VM; without the
    // device the write is ignored.
    unsafe { port.write(verdict as u32) };
    halt_forever()
}

/// Disables interrupts and halts forever.
pub fn halt_forever() -> ! {
    loop {
        x86_64::instructions::interrupts::disable();
        x86_64::instructions::hlt();
    }
}
