//! What the boot loader tells the kernel: the command line, the RAM map and the boot
//! modules (multiboot 1, read through the physical map).

use super::layout::{phys_to_virt, PHYS_MAP_SIZE};
use alloc::string::String;
use alloc::vec::Vec;

/// Physical-map translation for the `multiboot` crate (read-only use).
struct PhysMap;

impl multiboot::information::MemoryManagement for PhysMap {
    unsafe fn paddr_to_slice(&self, addr: u64, length: usize) -> Option<&'static [u8]> {
        if addr.checked_add(length as u64)? > PHYS_MAP_SIZE {
            return None;
        }
        let virt = phys_to_virt(x86_64::PhysAddr::new(addr));
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
pub struct BootInfo {
    /// The kernel command line (`-append`).
    pub command_line: String,
    /// Available RAM regions, `[start, end)`.
    pub ram: Vec<(u64, u64)>,
    /// The boot modules (`-initrd`), in order.
    pub modules: Vec<BootModule>,
}

/// A multiboot module: a file the boot loader put in memory for the kernel.
pub struct BootModule {
    /// Its physical range, `[start, end)`.
    pub start: u64,
    /// See `start`.
    pub end: u64,
    /// Its string (QEMU: the `-initrd` entry, host path first).
    pub string: String,
}

impl BootModule {
    /// Its bytes, through the physical map; `None` if it lies beyond the map.
    pub fn bytes(&self) -> Option<&'static [u8]> {
        let len = self.end.checked_sub(self.start)?;
        if self.end > PHYS_MAP_SIZE {
            return None;
        }
        let virt = phys_to_virt(x86_64::PhysAddr::new(self.start));
        // SAFETY: the range is inside the physical map and the frame allocator never
        // hands out a module's frames (the kernel reserves them at boot), so nothing
        // writes them while this slice lives.
        Some(unsafe { core::slice::from_raw_parts(virt.as_ptr(), len as usize) })
    }

    /// Its page-aligned physical range, to keep out of the frame allocator.
    pub fn reserved(&self) -> (u64, u64) {
        (self.start & !0xfff, self.end.next_multiple_of(0x1000))
    }
}

/// Reads the boot loader's information (`magic` and `info` as the trampoline passed
/// them).
///
/// # Panics
/// If the kernel was not booted by a multiboot loader.
pub fn read_boot_info(magic: u32, info: u32) -> BootInfo {
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
    let modules = mb
        .modules()
        .into_iter()
        .flatten()
        .filter(|m| m.end >= m.start)
        .map(|m| BootModule {
            start: m.start,
            end: m.end,
            string: String::from(m.string.unwrap_or("")),
        })
        .collect();
    BootInfo {
        command_line,
        ram,
        modules,
    }
}

/// Physical address of the end of the kernel image (its `.bss` included).
pub fn kernel_phys_end() -> u64 {
    let end: u64;
    // SAFETY: loads a linker-script symbol as an absolute constant.
    unsafe {
        core::arch::asm!("movabs {}, offset __bss_end_phys", out(reg) end, options(nomem, nostack))
    };
    end
}
