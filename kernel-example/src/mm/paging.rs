//! 4-level page tables: the kernel's own, and [`PageTables`], the user half of one
//! address space.
//!
//! A [`PageTables`] value owns its tree: entries are read through `&self` and
//! changed through `&mut self`, so the borrow checker keeps two paths from aliasing
//! an entry. A process shares one between CPUs behind a lock (`mm::space`). User
//! page tables are walked through the physical map; the walker skips empty subtrees,
//! so that scanning a 2 GiB bounds directory costs what is populated, not its size.

use super::frames;
use super::layout::{phys_to_virt, PAGE, USER_END};
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::page_table::PageTableEntry;
use x86_64::structures::paging::{PageTable, PageTableFlags as Flags, PhysFrame};
use x86_64::{PhysAddr, VirtAddr};

/// Page-table flag marking a mapping of the shared zero frame (read-only; a write
/// gives the page a frame of its own, and unmapping never frees it).
pub const ZERO_PAGE: Flags = Flags::BIT_9;

/// The kernel's PML4 frame (the boot tables, minus the identity map).
static KERNEL_ROOT: spin::Once<PhysFrame> = spin::Once::new();

/// A page table in the physical map.
///
/// # Safety
/// `phys` must be the address of a page-table frame, and the caller must hold the
/// only access to it for `'a` as the reference's kind says (`&mut`: no other
/// reference; the user tables guarantee it by going through their owning
/// [`PageTables`]).
unsafe fn table<'a>(phys: PhysAddr) -> &'a mut PageTable {
    // SAFETY: forwarded to the caller.
    unsafe { &mut *phys_to_virt(phys).as_mut_ptr::<PageTable>() }
}

/// Drops the boot identity map and remembers the kernel's PML4.
pub fn init() {
    let (root, _) = Cr3::read();
    KERNEL_ROOT.call_once(|| root);
    // SAFETY: the PML4 is reachable through the physical map and only this boot code
    // touches it now; slot 0 (identity map) is no longer used: the kernel runs at
    // -2 GiB and reaches RAM through the physical map.
    unsafe { table(root.start_address())[0].set_unused() };
    x86_64::instructions::tlb::flush_all();
}

fn kernel_root() -> PhysFrame {
    *KERNEL_ROOT.get().expect("paging::init not called")
}

/// Switches to the kernel's own tables (no user half).
pub fn activate_kernel() {
    // SAFETY: the kernel's tables map the kernel as it runs now.
    unsafe { Cr3::write(kernel_root(), Cr3Flags::empty()) };
}

fn index(va: u64, level: u32) -> usize {
    ((va >> (12 + 9 * (level - 1))) & 0x1ff) as usize
}

/// The user half of one address space (the kernel half is shared with the kernel's
/// tables). Tables that map nothing any more are freed by [`PageTables::prune`], the
/// rest when it is dropped; the owner unmaps (and frees) the leaf pages first.
#[derive(Debug)]
pub struct PageTables {
    root: PhysFrame,
    /// Page-table frames below the root.
    frames: u64,
}

impl PageTables {
    /// Empty user tables sharing the kernel half; `None` without a free frame.
    pub fn new() -> Option<PageTables> {
        let frame = frames::alloc()?;
        // SAFETY: both are page tables; the new frame is ours alone, and the kernel's
        // PML4 is only read (its upper half never changes after boot).
        unsafe {
            let kernel = table(kernel_root().start_address());
            let new = table(frame.start_address());
            for i in 256..512 {
                new[i] = kernel[i].clone();
            }
        }
        Some(PageTables {
            root: frame,
            frames: 0,
        })
    }

    /// Switches the CPU to these tables.
    pub fn activate(&self) {
        // SAFETY: `new` copied the kernel half, so the kernel stays mapped.
        unsafe { Cr3::write(self.root, Cr3Flags::empty()) };
    }

    /// The leaf entry for `va`, if its intermediate tables exist.
    fn leaf(&self, va: u64) -> Option<&PageTableEntry> {
        if va >= USER_END {
            return None;
        }
        let mut phys = self.root.start_address();
        for level in [4, 3, 2] {
            // SAFETY: `phys` is a page-table frame of this tree, which `&self` keeps
            // from being changed meanwhile.
            let entry = unsafe { &table(phys)[index(va, level)] };
            if entry.is_unused() {
                return None;
            }
            phys = entry.addr();
        }
        // SAFETY: `phys` is the level-1 table of this tree (as above).
        Some(unsafe { &table(phys)[index(va, 1)] })
    }

    /// The leaf entry for `va`, creating the intermediate tables (`None` if a frame
    /// for one cannot be had, or `va` is not a user address).
    fn leaf_mut(&mut self, va: u64) -> Option<&mut PageTableEntry> {
        if va >= USER_END {
            return None;
        }
        let mut phys = self.root.start_address();
        for level in [4, 3, 2] {
            // SAFETY: `phys` is a page-table frame of this tree; `&mut self` makes
            // this the only reference into it.
            let entry = unsafe { &mut table(phys)[index(va, level)] };
            if entry.is_unused() {
                let frame = frames::alloc()?;
                self.frames += 1;
                entry.set_frame(
                    frame,
                    Flags::PRESENT | Flags::WRITABLE | Flags::USER_ACCESSIBLE,
                );
            }
            phys = entry.addr();
        }
        // SAFETY: `phys` is the level-1 table of this tree (as above).
        Some(unsafe { &mut table(phys)[index(va, 1)] })
    }

    /// Maps the user page at `va` to `frame`, user-accessible, writable if `writable`.
    /// `None` if a page-table frame could not be allocated.
    pub fn map(&mut self, va: u64, frame: PhysFrame, writable: bool) -> Option<()> {
        let mut flags = Flags::PRESENT | Flags::USER_ACCESSIBLE;
        if writable {
            flags |= Flags::WRITABLE;
        }
        self.map_with(va, frame, flags)
    }

    /// Maps the user page at `va` to `frame` with exactly `flags` (which must include
    /// `PRESENT | USER_ACCESSIBLE`). `None` if a page-table frame could not be
    /// allocated.
    pub fn map_with(&mut self, va: u64, frame: PhysFrame, flags: Flags) -> Option<()> {
        let entry = self.leaf_mut(va)?;
        entry.set_frame(frame, flags);
        Some(())
    }

    /// Replaces the flags of the present page at `va` (flushing this CPU's TLB entry).
    pub fn set_flags(&mut self, va: u64, flags: Flags) {
        if self.translate(va).is_none() {
            return;
        }
        if let Some(entry) = self.leaf_mut(va) {
            let frame = PhysFrame::containing_address(entry.addr());
            entry.set_frame(frame, flags);
            x86_64::instructions::tlb::flush(VirtAddr::new(va));
        }
    }

    /// The physical address and flags behind user address `va`, if present.
    pub fn translate(&self, va: u64) -> Option<(PhysAddr, Flags)> {
        let entry = self.leaf(va & !(PAGE - 1))?;
        entry
            .flags()
            .contains(Flags::PRESENT)
            .then(|| (entry.addr() + (va & (PAGE - 1)), entry.flags()))
    }

    /// Removes the mapping of user page `va` (flushing this CPU's TLB entry; a
    /// multi-CPU kernel would shoot down the others here) and returns its frame and
    /// flags.
    pub fn unmap(&mut self, va: u64) -> Option<(PhysFrame, Flags)> {
        self.translate(va)?;
        let entry = self.leaf_mut(va)?;
        let taken = (PhysFrame::containing_address(entry.addr()), entry.flags());
        entry.set_unused();
        x86_64::instructions::tlb::flush(VirtAddr::new(va));
        Some(taken)
    }

    /// The first present user page in `[start, end)`, skipping empty subtrees.
    pub fn next_present(&self, start: u64, end: u64) -> Option<u64> {
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
                // SAFETY: `phys` is a page-table frame of the tree `&self` borrows.
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
        walk(self.root.start_address(), 4, 0, start & !(PAGE - 1), end)
    }

    /// Page-table frames below the root (the user half's intermediate tables).
    pub fn table_frames(&self) -> u64 {
        self.frames
    }

    /// Frees the page tables under `[start, end)` that map nothing any more, clearing
    /// the entries that pointed at them (and flushing this CPU's TLB, paging-structure
    /// caches included, if any went). Returns how many frames came back.
    pub fn prune(&mut self, start: u64, end: u64) -> u64 {
        /// Prunes below the table at `phys` (level `level`, mapping from `base`);
        /// returns whether it is empty now.
        fn walk(
            phys: PhysAddr,
            level: u32,
            base: u64,
            start: u64,
            end: u64,
            freed: &mut u64,
        ) -> bool {
            let span = 1u64 << (12 + 9 * (level - 1));
            let first = (start.saturating_sub(base) / span) as usize;
            let last = ((end - 1).saturating_sub(base) / span).min(511) as usize;
            for i in first..=last {
                // SAFETY: `phys` is a page-table frame of the tree `&mut self` owns.
                let entry = unsafe { &mut table(phys)[i] };
                if level == 1 || entry.is_unused() {
                    continue;
                }
                let lo = base + i as u64 * span;
                if walk(
                    entry.addr(),
                    level - 1,
                    lo,
                    start.max(lo),
                    end.min(lo + span),
                    freed,
                ) {
                    frames::free(PhysFrame::containing_address(entry.addr()));
                    entry.set_unused();
                    *freed += 1;
                }
            }
            // SAFETY: as above.
            let all = unsafe { table(phys) };
            all.iter().all(PageTableEntry::is_unused)
        }
        let end = end.min(USER_END);
        if start >= end {
            return 0;
        }
        let mut freed = 0;
        walk(self.root.start_address(), 4, 0, start, end, &mut freed);
        if freed > 0 {
            x86_64::instructions::tlb::flush_all();
            self.frames -= freed;
        }
        freed
    }

    /// Copies as much of `src` to user address `va` as is writable, a page at a time,
    /// stopping at the first page that is not present, user-accessible and writable;
    /// returns the bytes copied.
    pub fn copy_to_prefix(&self, va: u64, src: &[u8]) -> usize {
        let mut done = 0usize;
        while done < src.len() {
            let Some(addr) = va.checked_add(done as u64) else {
                break;
            };
            let Some((phys, flags)) = self.translate(addr) else {
                break;
            };
            if !flags.contains(Flags::USER_ACCESSIBLE | Flags::WRITABLE) {
                break;
            }
            let in_page = (PAGE - (addr & (PAGE - 1))) as usize;
            let n = in_page.min(src.len() - done);
            // SAFETY: `phys..phys+n` lies in one present, writable user page of this
            // tree, reached through the physical map and kept mapped by `&self`;
            // `src` is a distinct kernel buffer.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    src[done..].as_ptr(),
                    phys_to_virt(phys).as_mut_ptr::<u8>(),
                    n,
                )
            };
            done += n;
        }
        done
    }

    /// Copies as much of `dst.len()` bytes from user address `va` as is readable,
    /// a page at a time, stopping at the first page that is not present and
    /// user-readable; returns the bytes copied.
    pub fn copy_prefix(&self, va: u64, dst: &mut [u8]) -> usize {
        let mut done = 0usize;
        while done < dst.len() {
            let Some(addr) = va.checked_add(done as u64) else {
                break;
            };
            let Some((phys, flags)) = self.translate(addr) else {
                break;
            };
            if !flags.contains(Flags::USER_ACCESSIBLE) {
                break;
            }
            let in_page = (PAGE - (addr & (PAGE - 1))) as usize;
            let n = in_page.min(dst.len() - done);
            // SAFETY: `phys..phys+n` lies in one present user page of this tree,
            // reached through the physical map; `&self` keeps it mapped (the owner
            // unmaps only through `&mut self`); `dst` is a distinct kernel buffer.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    phys_to_virt(phys).as_ptr::<u8>(),
                    dst[done..].as_mut_ptr(),
                    n,
                )
            };
            done += n;
        }
        done
    }
}

impl Drop for PageTables {
    /// Frees every user page-table frame and the root. A leaf page still mapped here
    /// is an accounting bug of the owner: it is reported and its frame left alone
    /// (the kernel's frame check then counts it as leaked), never freed twice.
    fn drop(&mut self) {
        fn free_level(phys: PhysAddr, level: u32, slots: usize) {
            for i in 0..slots {
                // SAFETY: `phys` is a page-table frame of the tree being dropped, which
                // `&mut self` owns.
                let entry = unsafe { &mut table(phys)[i] };
                if entry.is_unused() {
                    continue;
                }
                if level == 1 {
                    kprintln!("KERNEL CHECK FAILED: user page still mapped at teardown");
                } else {
                    free_level(entry.addr(), level - 1, 512);
                    frames::free(PhysFrame::containing_address(entry.addr()));
                }
                entry.set_unused();
            }
        }
        free_level(self.root.start_address(), 4, 256);
        frames::free(self.root);
    }
}
