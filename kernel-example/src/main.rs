//! An x86_64 kernel that manages Intel MPX bounds tables with the `mpx` crate.
//!
//! Boots from QEMU `-kernel` (multiboot 1), runs ring-3 scenario programs that use MPX,
//! allocates bounds tables on `#BR` and frees them on `munmap`, and reports one
//! `MPX-RESULT` line per scenario before leaving through `isa-debug-exit`
//! (see [`arch::exit::Verdict`] for the exit codes).
//!
//! Layers, each importing only those below it: [`arch`] (the machine), [`mm`]
//! (memory), [`quirk`] (boot probes), [`mpx_glue`] (the crate's wiring: what a kernel
//! author copies), [`proc`] (processes), [`abi`] (system calls and ring-3 programs),
//! [`harness`] (scenarios and verdict), and this file, which boots them in order.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    missing_docs,
    clippy::undocumented_unsafe_blocks,
    clippy::missing_safety_doc
)]

extern crate alloc;

#[macro_use]
mod arch;

mod abi;
mod fs;
mod harness;
mod mm;
mod mpx_glue;
mod proc;
mod quirk;
mod rt;

use arch::exit::{exit_qemu, Verdict};
use mm::{boot_info, frames, heap, paging};

/// Rust entry point, called by the trampoline in [`arch::boot`] on the high kernel
/// stack: brings the machine up layer by layer, probes the CPU's MPX, installs the
/// trap handlers, and hands over to the harness.
#[no_mangle]
pub extern "C" fn kmain(magic: u32, info: u32) -> ! {
    arch::serial::init();
    kprintln!("mpx example kernel");
    arch::pic::disable();
    arch::gdt::init();
    arch::idt::init();
    arch::syscall::init();
    arch::time::init();
    paging::init();
    heap::init();
    let boot = boot_info::read_boot_info(magic, info);
    let mut reserved = alloc::vec![(0, 0x10_0000), (0x10_0000, boot_info::kernel_phys_end())];
    reserved.extend(boot.modules.iter().map(|m| m.reserved()));
    for &(start, end) in &boot.ram {
        frames::add_region(start, end, &reserved);
    }
    frames::init_zero_frame();
    kprintln!(
        "memory: {} frames free ({} MiB); command line: {:?}",
        frames::free_count(),
        (frames::free_count() * 4096) >> 20,
        boot.command_line
    );

    match arch::cpu::init() {
        Ok(layout) => kprintln!(
            "cpu: MPX and XSAVE present; XSAVE area {} bytes, BNDREGS at {:#x}, BNDCSR at {:#x}",
            layout.size,
            layout.bndregs_offset,
            layout.bndcsr_offset
        ),
        Err(missing) => {
            kprintln!("MPX-UNSUPPORTED: this CPU cannot run the example ({:?} missing); use QEMU -accel tcg -cpu max", missing);
            exit_qemu(Verdict::NoMpx);
        }
    }
    // The probes claim their own kernel-mode traps; nothing else runs yet.
    arch::trap::install(arch::trap::Handlers {
        syscall: proc::traps::syscall_int80,
        syscall_instruction: proc::traps::syscall_instruction,
        bound_range: proc::traps::bound_range,
        page_fault: proc::traps::page_fault,
        user_exception: proc::traps::user_exception,
        kernel_trap: quirk::harness::on_kernel_trap,
        user_entry: proc::traps::user_entry,
        user_exit: proc::traps::user_exit,
    });
    let findings = quirk::probe();
    findings.print();
    if let Err(why) = findings.native_programs_ok() {
        kprintln!(
            "cpu: the scenario programs cannot run correctly on this CPU: {}",
            why
        );
        exit_qemu(Verdict::Fail);
    }
    arch::cpu::enable_no_execute();
    let (smep, smap) = arch::cpu::protect_user_memory();
    kprintln!("cpu: SMEP {}, SMAP {}", on_off(smep), on_off(smap));

    exit_qemu(harness::run(&boot.command_line, &boot.modules))
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off (not supported)"
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    arch::serial::print_emergency(format_args!("KERNEL PANIC: {}\n", info));
    exit_qemu(Verdict::Panic)
}
