//! 4-level page tables: the kernel's physical map and the per-process user tables.
//!
//! Virtual layout:
//! - `0 .. 2^47`: user half, private to each process (PML4 slots 0..256), all pages
//!   and intermediate tables USER-accessible.
//! - [`PHYS_OFFSET`] (slot 256): all RAM below 4 GiB, supervisor only.
//! - `-2 GiB` (slot 511): the kernel image, supervisor only.
//!
//! A process's PML4 shares slots 256..512 with the kernel's. User page tables are
//! walked through the physical map; the walker can skip empty subtrees, so that
//! scanning a 2 GiB bounds directory costs what is populated, not its size.

use crate::frames;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::page_table::PageTableEntry;
use x86_64::structures::paging::{PageTable, PageTableFlags as Flags, PhysFrame};
use x86_64::{PhysAddr, VirtAddr};

/// Virtual address of physical address 0 in the physical map.
pub const PHYS_OFFSET: u64 = 0xFFFF_8000_0000_0000;
/// First address above the user half.
pub const USER_END: u64 = 1 << 47;
const PAGE: u64 = 4096;

/// The virtual address of `phys` in the physical map.
pub fn phys_to_virt(phys: PhysAddr) -> VirtAddr {
    VirtAddr::new(PHYS_OFFSET + phys.as_u64())
}

/// The kernel's PML4 frame (the boot tables, minus the identity map).
static KERNEL_ROOT: spin::Once<PhysFrame> = spin::Once::new();

/// Drops the boot identity map and remembers the kernel's PML4.
pub fn init() {
    let (root, _) = Cr3::read();
    KERNEL_ROOT.call_once(|| root);
    // SAFETY: the PML4 is reachable through the physical map; slot 0 (identity map) is
    // no longer used: the kernel runs at -2 GiB and reaches RAM through PHYS_OFFSET.
    unsafe { table(root.start_address())[0].set_unused() };
    x86_64::instructions::tlb::flush_all();
}

/// The kernel's PML4.
pub fn kernel_root() -> PhysFrame {
    *KERNEL_ROOT.get().expect("paging::init not called")
}

/// Switches to the page tables rooted at `root`.
pub fn activate(root: PhysFrame) {
    // SAFETY: every root this kernel builds maps the kernel half like the kernel's own.
    unsafe { Cr3::write(root, Cr3Flags::empty()) };
}

/// A page table in the physical map.
///
/// # Safety
/// `phys` must be the address of a page-table frame that is not otherwise borrowed for
/// the lifetime of the reference (single CPU, interrupts off: callers keep it short).
#[allow(clippy::mut_from_ref)]
unsafe fn table(phys: PhysAddr) -> &'static mut PageTable {
    // SAFETY: forwarded to the caller.
    unsafe { &mut *phys_to_virt(phys).as_mut_ptr::<PageTable>() }
}

/// Creates a user PML4 sharing the kernel half.
pub fn new_user_root() -> Option<PhysFrame> {
    let frame = frames::alloc()?;
    // SAFETY: both are page tables; the new frame is ours alone.
    unsafe {
        let kernel = table(kernel_root().start_address());
        let new = table(frame.start_address());
        for i in 256..512 {
            new[i] = kernel[i].clone();
        }
    }
    Some(frame)
}

fn index(va: u64, level: u32) -> usize {
    ((va >> (12 + 9 * (level - 1))) & 0x1ff) as usize
}

/// The leaf entry for `va` in the user tables at `root`, creating the intermediate
/// tables if `create`.
fn leaf(root: PhysFrame, va: u64, create: bool) -> Option<&'static mut PageTableEntry> {
    debug_assert!(va < USER_END);
    let mut phys = root.start_address();
    for level in [4, 3, 2] {
        // SAFETY: `phys` is a page-table frame of this user tree.
        let entry = unsafe { &mut table(phys)[index(va, level)] };
        if entry.is_unused() {
            if !create {
                return None;
            }
            let frame = frames::alloc()?;
            entry.set_frame(
                frame,
                Flags::PRESENT | Flags::WRITABLE | Flags::USER_ACCESSIBLE,
            );
        }
        phys = entry.addr();
    }
    // SAFETY: `phys` is the level-1 table of this user tree.
    Some(unsafe { &mut table(phys)[index(va, 1)] })
}

/// Maps the user page at `va` to `frame`, user-accessible, writable if `writable`.
///
/// Returns `None` if a page-table frame could not be allocated.
pub fn map_user(root: PhysFrame, va: u64, frame: PhysFrame, writable: bool) -> Option<()> {
    let entry = leaf(root, va, true)?;
    let mut flags = Flags::PRESENT | Flags::USER_ACCESSIBLE;
    if writable {
        flags |= Flags::WRITABLE;
    }
    entry.set_frame(frame, flags);
    Some(())
}

/// The frame and flags mapped at user page `va`, if present.
pub fn translate(root: PhysFrame, va: u64) -> Option<(PhysAddr, Flags)> {
    let entry = leaf(root, va & !(PAGE - 1), false)?;
    if entry.flags().contains(Flags::PRESENT) {
        Some((entry.addr() + (va & (PAGE - 1)), entry.flags()))
    } else {
        None
    }
}

/// Removes the mapping of user page `va` and returns its frame (the caller frees it).
pub fn unmap_user(root: PhysFrame, va: u64) -> Option<PhysFrame> {
    let entry = leaf(root, va, false)?;
    if !entry.flags().contains(Flags::PRESENT) {
        return None;
    }
    let frame = PhysFrame::containing_address(entry.addr());
    entry.set_unused();
    x86_64::instructions::tlb::flush(VirtAddr::new(va));
    Some(frame)
}

/// The first present user page in `[start, end)`, skipping empty subtrees.
pub fn next_present(root: PhysFrame, start: u64, end: u64) -> Option<u64> {
    fn walk(phys: PhysAddr, level: u32, base: u64, start: u64, end: u64) -> Option<u64> {
        let span = 1u64 << (12 + 9 * (level - 1));
        let first = if start > base {
            ((start - base) / span) as usize
        } else {
            0
        };
        for i in first..512 {
            let lo = base + i as u64 * span;
            if lo >= end {
                break;
            }
            // SAFETY: `phys` is a page-table frame of this user tree.
            let entry = unsafe { &table(phys)[i] };
            if !entry.flags().contains(Flags::PRESENT) {
                continue;
            }
            if level == 1 {
                return Some(lo);
            }
            if let Some(va) = walk(entry.addr(), level - 1, lo, start.max(lo), end) {
                return Some(va);
            }
        }
        None
    }
    let end = end.min(USER_END);
    if start >= end {
        return None;
    }
    walk(root.start_address(), 4, 0, start & !(PAGE - 1), end)
}

/// Frees every user page-table frame of `root` and the root itself. The leaf pages
/// must have been unmapped (and freed) before.
pub fn free_user_root(root: PhysFrame) {
    fn free_level(phys: PhysAddr, level: u32, slots: usize) {
        for i in 0..slots {
            // SAFETY: `phys` is a page-table frame of this user tree.
            let entry = unsafe { &mut table(phys)[i] };
            if entry.is_unused() {
                continue;
            }
            assert!(level > 1, "user page still mapped at teardown");
            free_level(entry.addr(), level - 1, 512);
            frames::free(PhysFrame::containing_address(entry.addr()));
            entry.set_unused();
        }
    }
    free_level(root.start_address(), 4, 256);
    frames::free(root);
}

/// Copies `dst.len()` bytes from user address `va` in the tables at `root`; fails
/// (without faulting) if a page is not present and user-readable.
pub fn copy_from_user(root: PhysFrame, va: u64, dst: &mut [u8]) -> Result<(), u64> {
    let mut done = 0usize;
    while done < dst.len() {
        let addr = va.checked_add(done as u64).ok_or(va)?;
        if addr >= USER_END {
            return Err(addr);
        }
        let (phys, flags) = translate(root, addr).ok_or(addr)?;
        if !flags.contains(Flags::USER_ACCESSIBLE) {
            return Err(addr);
        }
        let in_page = (PAGE - (addr & (PAGE - 1))) as usize;
        let n = in_page.min(dst.len() - done);
        // SAFETY: `phys..phys+n` lies in one present user page, reached through the
        // physical map; `dst` is a distinct kernel buffer.
        unsafe {
            core::ptr::copy_nonoverlapping(
                phys_to_virt(phys).as_ptr::<u8>(),
                dst[done..].as_mut_ptr(),
                n,
            )
        };
        done += n;
    }
    Ok(())
}
