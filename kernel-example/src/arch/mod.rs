//! The machine: boot trampoline, descriptor tables, trap entry and dispatch, CPU
//! features and XSAVE areas, the serial console and QEMU's exit device.
//!
//! The lowest layer: it imports nothing from the rest of the kernel. The trap
//! dispatcher reaches the kernel's handlers through the table [`trap::install`]
//! receives at boot.

#[macro_use]
pub mod serial;

pub mod boot;
pub mod cpu;
pub mod exit;
pub mod gdt;
pub mod idt;
pub mod pic;
pub mod random;
pub mod syscall;
pub mod time;
pub mod trap;
pub mod xsave;
