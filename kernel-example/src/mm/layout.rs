//! The virtual layout every address space shares, and the physical map.
//!
//! - `0 .. 2^47` ([`USER_END`]): user half, private to each process (PML4 slots
//!   0..256).
//! - [`PHYS_OFFSET`] (slot 256): all RAM below 4 GiB, supervisor only.
//! - `-2 GiB` (slot 511): the kernel image, supervisor only.

use x86_64::{PhysAddr, VirtAddr};

/// Bytes per page.
pub const PAGE: u64 = 4096;
/// Virtual address of physical address 0 in the physical map.
pub const PHYS_OFFSET: u64 = 0xFFFF_8000_0000_0000;
/// First address above the user half.
pub const USER_END: u64 = 1 << 47;
/// RAM the physical map covers (and the frame allocator manages).
pub const PHYS_MAP_SIZE: u64 = 4 << 30;

/// The virtual address of `phys` in the physical map.
pub fn phys_to_virt(phys: PhysAddr) -> VirtAddr {
    VirtAddr::new(PHYS_OFFSET + phys.as_u64())
}
