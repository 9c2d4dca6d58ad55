//! An x86_64 kernel that manages Intel MPX bounds tables with the `mpx` crate.
//!
//! Boots from QEMU `-kernel` (multiboot 1), runs ring-3 scenario programs that use MPX,
//! allocates bounds tables on `#BR` and frees them on `munmap`, and reports one
//! `MPX-RESULT` line per scenario before leaving through `isa-debug-exit`
//! (see [`exit::Verdict`] for the exit codes).
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
mod serial;

mod abi;
mod boot;
mod bounds;
mod cpu;
mod exit;
mod frames;
mod gdt;
mod heap;
mod interrupts;
mod paging;
mod process;
mod quirk;
mod rt;
mod scenarios;
mod syscall;
mod user;

use alloc::string::String;
use alloc::vec::Vec;
use exit::{exit_qemu, Verdict};

/// Physical-map translation for the `multiboot` crate (read-only use).
struct PhysMap;

impl multiboot::information::MemoryManagement for PhysMap {
    unsafe fn paddr_to_slice(&self, addr: u64, length: usize) -> Option<&'static [u8]> {
        if addr.checked_add(length as u64)? > 4 << 30 {
            return None;
        }
        let virt = paging::phys_to_virt(x86_64::PhysAddr::new(addr));
        // SAFETY: the physical map covers the first 4 GiB; the boot loader's
        // structures are not written while the kernel reads them.
        Some(unsafe { core::slice::from_raw_parts(virt.as_ptr(), length) })
    }

    unsafe fn allocate(&mut self, _length: usize) -> Option<(u64, &mut [u8])> {
        None
    }

    unsafe fn deallocate(&mut self, _addr: u64) {}
}

/// What the kernel keeps from the boot information.
struct BootInfo {
    command_line: String,
    ram: Vec<(u64, u64)>,
}

fn read_boot_info(magic: u32, info: u32) -> BootInfo {
    assert_eq!(
        magic,
        multiboot::information::SIGNATURE_EAX,
        "not booted by multiboot"
    );
    let mut mm = PhysMap;
    // SAFETY: `info` is the multiboot information address the loader passed.
    let mb = unsafe { multiboot::information::Multiboot::from_ptr(u64::from(info), &mut mm) }
        .expect("multiboot information");
    let command_line = String::from(mb.command_line().unwrap_or(""));
    let ram = mb
        .memory_regions()
        .expect("multiboot memory map")
        .filter(|r| r.memory_type() == multiboot::information::MemoryType::Available)
        .map(|r| (r.base_address(), r.base_address() + r.length()))
        .collect();
    BootInfo { command_line, ram }
}

fn kernel_phys_end() -> u64 {
    let end: u64;
    // SAFETY: loads a linker-script symbol as an absolute constant.
    unsafe {
        core::arch::asm!("movabs {}, offset __bss_end_phys", out(reg) end, options(nomem, nostack))
    };
    end
}

/// Rust entry point, called by the trampoline in [`boot`] on the high kernel stack.
#[no_mangle]
pub extern "C" fn kmain(magic: u32, info: u32) -> ! {
    serial::init();
    kprintln!("mpx example kernel");
    gdt::init();
    interrupts::init();
    paging::init();
    heap::init();
    let boot = read_boot_info(magic, info);
    let reserved = [(0, 0x10_0000), (0x10_0000, kernel_phys_end())];
    for &(start, end) in &boot.ram {
        frames::add_region(start, end, &reserved);
    }
    kprintln!(
        "memory: {} frames free ({} MiB); command line: {:?}",
        frames::free_count(),
        (frames::free_count() * 4096) >> 20,
        boot.command_line
    );

    match cpu::init() {
        Ok(layout) => {
            kprintln!(
            "cpu: MPX and XSAVE present; XSAVE area {} bytes, BNDREGS at {:#x}, BNDCSR at {:#x}",
            layout.size, layout.bndregs_offset, layout.bndcsr_offset
        )
        }
        Err(missing) => {
            kprintln!("MPX-UNSUPPORTED: this CPU cannot run the example ({:?} missing); use QEMU -accel tcg -cpu max", missing);
            exit_qemu(Verdict::NoMpx);
        }
    }
    let findings = quirk::probe();
    findings.print();
    if let Err(why) = findings.native_programs_ok() {
        kprintln!(
            "cpu: the scenario programs cannot run correctly on this CPU: {}",
            why
        );
        exit_qemu(Verdict::Fail);
    }
    let (smep, smap) = cpu::protect_user_memory();
    kprintln!("cpu: SMEP {}, SMAP {}", on_off(smep), on_off(smap));

    let option = |name: &str| {
        boot.command_line
            .split_whitespace()
            .find_map(|arg| arg.strip_prefix(name)?.strip_prefix('='))
    };
    if let Some(seed) = option("churn_seed") {
        match seed.parse::<u64>() {
            Ok(seed) => scenarios::set_churn_seed(seed),
            Err(_) => kprintln!("ignoring churn_seed={:?}: not a decimal number", seed),
        }
    }
    let selected = option("scenario").unwrap_or("all");
    let names: Vec<&str> = if selected == "all" {
        scenarios::ALL.to_vec()
    } else {
        selected.split(',').collect()
    };
    let (heap_before, frames_before) = (heap::used(), frames::free_count());
    let mut all_passed = true;
    for name in &names {
        match scenarios::run(name) {
            Some(result) => all_passed &= result.passed(),
            None => {
                kprintln!("unknown scenario {:?}; known: {:?}", name, scenarios::ALL);
                all_passed = false;
            }
        }
    }
    // Whatever the scenarios did, the kernel must be back where it started.
    let (heap_after, frames_after) = (heap::used(), frames::free_count());
    kprintln!(
        "kernel after the scenarios: heap in use {} bytes (before: {}), frames free {} (before: {})",
        heap_after,
        heap_before,
        frames_after,
        frames_before
    );
    if (heap_after, frames_after) != (heap_before, frames_before) {
        kprintln!("KERNEL CHECK FAILED: heap or frames not back to where they were");
        all_passed = false;
    }
    if all_passed {
        kprintln!("MPX-VERDICT pass");
        exit_qemu(Verdict::Pass)
    } else {
        kprintln!("MPX-VERDICT fail");
        exit_qemu(Verdict::Fail)
    }
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
    serial::print_emergency(format_args!("KERNEL PANIC: {}\n", info));
    exit_qemu(Verdict::Panic)
}
