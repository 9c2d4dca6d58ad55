//! A process's address space as the kernel keeps it: VMAs, demand paging (with the
//! shared zero page and copy on write, for Linux processes), access rights, and the
//! frames behind bounds tables.
//!
//! [`Mm`] lives behind the process's mm lock (owned by its `MpxManager`). Its page
//! tables sit behind a lock of their own (per mm), shared with the process's
//! [`UserMemory`](super::user::UserMemory): the page-fault path maps pages under the
//! mm lock held only for *read*, possibly on several CPUs at once, so the page-table
//! lock is what keeps two faulting CPUs from both mapping a page.

use super::frames;
use super::layout::{PAGE, USER_END};
use super::paging::{PageTables, ZERO_PAGE};
use super::user::UserMemory;
use super::vma::{vma, Backing, KernelVma, Placement, Prot, VmaName, Vmas};
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use mpx::mm::{MmError, Vma, VmaKind};
use spin::Mutex;
use x86_64::structures::paging::{PageTableFlags as Flags, PhysFrame};
use x86_64::PhysAddr;

/// How an address space behaves.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Where mappings without an address go.
    pub placement: Placement,
    /// Lowest address a mapping may start at.
    pub floor: u64,
    /// Where user space ends: no mapping reaches past it (at most `USER_END`; Linux
    /// keeps the last page below 2^47 unmapped, `TASK_SIZE`).
    pub ceiling: u64,
    /// Whether a read of untouched anonymous memory maps the shared zero page (Linux)
    /// instead of a fresh frame (the native programs, whose checks count frames).
    pub zero_page_reads: bool,
}

/// The access a fault (or a kernel access on the process's behalf) needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A load.
    Read,
    /// A store.
    Write,
    /// An instruction fetch.
    Exec,
}

/// Where a new mapping goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// Exactly here; the range must be free.
    Exactly(u64),
    /// Here if the range is free and at or above `Policy::floor`, else where the
    /// policy places it.
    Hint(u64),
    /// Where the policy places it.
    Anywhere,
}

/// A mapping to create.
#[derive(Clone, Debug)]
pub struct MapRequest {
    /// Where.
    pub at: At,
    /// Bytes (a page multiple).
    pub len: u64,
    /// Data or a bounds table.
    pub kind: VmaKind,
    /// What backs it.
    pub backing: Backing,
    /// Access allowed.
    pub prot: Prot,
    /// How `/proc/<pid>/maps` names it.
    pub name: VmaName,
}

/// A process's mm state (inside the mm lock its `MpxManager` owns).
pub struct Mm {
    tables: Arc<Mutex<PageTables>>,
    vmas: Vmas,
    policy: Policy,
    table_frames: AtomicU64,
    table_frames_peak: AtomicU64,
}

/// The page-table flags for a page of a VMA with `prot`: writable only for a frame
/// of the process's own, never executable unless `EXEC`; `PROT_NONE` keeps the page
/// (and its frame, which unmapping frees) present for the kernel only.
fn page_flags(prot: Prot, private: bool) -> Flags {
    let mut flags = Flags::PRESENT;
    if !prot.is_empty() {
        flags |= Flags::USER_ACCESSIBLE;
    }
    if prot.contains(Prot::WRITE) && private {
        flags |= Flags::WRITABLE;
    }
    if !prot.contains(Prot::EXEC) && crate::arch::cpu::no_execute() {
        flags |= Flags::NO_EXECUTE;
    }
    if !private {
        flags |= ZERO_PAGE;
    }
    flags
}

impl Mm {
    /// An empty address space; `None` without a frame for its page tables.
    pub fn new(policy: Policy) -> Option<Mm> {
        Some(Mm {
            tables: Arc::new(Mutex::new(PageTables::new()?)),
            vmas: Vmas::default(),
            policy,
            table_frames: AtomicU64::new(0),
            table_frames_peak: AtomicU64::new(0),
        })
    }

    /// The kernel's access to this address space's user memory.
    pub fn user_memory(&self) -> UserMemory {
        UserMemory::new(self.tables.clone())
    }

    /// Switches the CPU to this address space.
    pub fn activate(&self) {
        self.tables.lock().activate();
    }

    /// The VMAs.
    pub fn vmas(&self) -> &Vmas {
        &self.vmas
    }

    /// Frames currently backing bounds-table VMAs.
    pub fn table_frames(&self) -> u64 {
        self.table_frames.load(Ordering::Relaxed)
    }

    /// The most frames that backed bounds-table VMAs at once.
    pub fn table_frames_peak(&self) -> u64 {
        self.table_frames_peak.load(Ordering::Relaxed)
    }

    fn count_frame(&self, vma: &KernelVma, delta: i64) {
        if vma.vma.is_bounds_table() {
            if delta > 0 {
                let now = self.table_frames.fetch_add(1, Ordering::Relaxed) + 1;
                self.table_frames_peak.fetch_max(now, Ordering::Relaxed);
            } else {
                self.table_frames.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// The end of user space for this address space.
    fn ceiling(&self) -> u64 {
        self.policy.ceiling.min(USER_END)
    }

    /// Where a mapping of `len` bytes without an address would go (the policy's
    /// placement, above its floor); `None` if no gap is large enough.
    pub fn find_free(&self, len: u64) -> Option<u64> {
        self.vmas.find_free(
            len,
            self.policy.placement,
            self.policy.floor,
            self.ceiling(),
        )
    }

    /// Creates a mapping; returns its start.
    pub fn map(&mut self, request: MapRequest) -> Result<u64, MmError> {
        let len = request.len;
        if len == 0 || !len.is_multiple_of(PAGE) {
            return Err(MmError::Invalid);
        }
        if !self.vmas.has_room(1) {
            return Err(MmError::NoMemory);
        }
        let fits = |s: u64| {
            s.is_multiple_of(PAGE)
                && s >= self.policy.floor
                && s.checked_add(len).is_some_and(|e| e <= self.ceiling())
        };
        let anywhere = || self.find_free(len).ok_or(MmError::NoAddressSpace);
        let start = match request.at {
            At::Exactly(s) if !fits(s) => return Err(MmError::Invalid),
            At::Exactly(s) if !self.vmas.is_free(s, s + len) => {
                return Err(MmError::NoAddressSpace)
            }
            At::Exactly(s) => s,
            At::Hint(s) if fits(s) && self.vmas.is_free(s, s + len) => s,
            At::Hint(_) | At::Anywhere => anywhere()?,
        };
        let mut new = vma(
            start,
            start + len,
            request.kind,
            request.backing,
            request.prot,
        );
        new.name = request.name;
        if let Backing::Image { phys } = new.backing {
            let mut tables = self.tables.lock();
            for off in (0..len).step_by(PAGE as usize) {
                let frame = PhysFrame::containing_address(PhysAddr::new(phys + off));
                let flags = page_flags(new.prot, true) - Flags::WRITABLE;
                tables
                    .map_with(start + off, frame, flags)
                    .ok_or(MmError::NoMemory)?;
            }
        }
        self.vmas.insert(new);
        Ok(start)
    }

    /// Adds `vma` (its range must be free) as it is: the kernel's own mapping of a
    /// moved or copied range.
    pub fn insert(&mut self, vma: KernelVma) -> Result<(), MmError> {
        if !self.vmas.has_room(1) {
            return Err(MmError::NoMemory);
        }
        if !self.vmas.is_free(vma.vma.start, vma.vma.end) {
            return Err(MmError::NoAddressSpace);
        }
        self.vmas.insert(vma);
        Ok(())
    }

    /// Moves the end of the VMA starting at `start` to `new_end` (the addresses
    /// between must be free).
    pub fn extend(&mut self, start: u64, new_end: u64) -> Result<(), MmError> {
        if self.vmas.extend(start, new_end, self.ceiling()) {
            Ok(())
        } else {
            Err(MmError::NoAddressSpace)
        }
    }

    /// Writes `bytes` at `va` on the kernel's behalf (loading a program, filling a
    /// file mapping), whatever the VMA's access: every page written gets a frame of
    /// its own.
    pub fn write_bytes(&self, va: u64, bytes: &[u8]) -> Result<(), MmError> {
        let mut done = 0usize;
        while done < bytes.len() {
            let at = va + done as u64;
            let page = at & !(PAGE - 1);
            let vma = self.vmas.find(at).ok_or(MmError::Fault)?;
            if vma.backing != Backing::Anonymous {
                return Err(MmError::Fault);
            }
            let mut tables = self.tables.lock();
            let frame = match tables.translate(page) {
                Some((phys, flags)) if !flags.contains(ZERO_PAGE) => {
                    PhysFrame::containing_address(phys)
                }
                _ => {
                    let frame = frames::alloc().ok_or(MmError::NoMemory)?;
                    if tables
                        .map_with(page, frame, page_flags(vma.prot, true))
                        .is_none()
                    {
                        frames::free(frame);
                        return Err(MmError::NoMemory);
                    }
                    x86_64::instructions::tlb::flush(x86_64::VirtAddr::new(page));
                    self.count_frame(vma, 1);
                    frame
                }
            };
            let offset = (at - page) as usize;
            let n = (PAGE as usize - offset).min(bytes.len() - done);
            let dst = crate::mm::layout::phys_to_virt(frame.start_address() + offset as u64);
            // SAFETY: `dst..dst+n` lies in a frame this address space owns (mapped
            // just above or found mapped), reached through the physical map; the
            // page-table lock keeps it from being unmapped meanwhile.
            unsafe {
                core::ptr::copy_nonoverlapping(bytes[done..].as_ptr(), dst.as_mut_ptr::<u8>(), n)
            };
            done += n;
        }
        Ok(())
    }

    /// Unmaps the present pages of `piece` (a VMA part), freeing the process's own
    /// frames. Returns the bytes freed.
    fn free_pages(&self, piece: &KernelVma) -> u64 {
        let mut tables = self.tables.lock();
        let mut freed = 0;
        let mut cursor = piece.vma.start;
        while let Some(page) = tables.next_present(cursor, piece.vma.end) {
            if let Some((frame, flags)) = tables.unmap(page) {
                let owned = piece.backing == Backing::Anonymous && !flags.contains(ZERO_PAGE);
                if owned {
                    frames::free(frame);
                    freed += PAGE;
                    self.count_frame(piece, -1);
                }
            }
            cursor = page + PAGE;
        }
        tables.prune(piece.vma.start, piece.vma.end);
        freed
    }

    /// Frames of this address space's page tables (below the root).
    pub fn page_table_frames(&self) -> u64 {
        self.tables.lock().table_frames()
    }

    /// Removes every VMA part inside `[start, end)` for which `which` holds, freeing
    /// its pages. VMAs straddling the bounds are split.
    pub fn unmap(&mut self, start: u64, end: u64, which: impl Fn(&KernelVma) -> bool) {
        for piece in self.vmas.remove(start, end, which) {
            self.free_pages(&piece);
        }
    }

    /// Makes the page holding `address` present for `access`, as a page fault would:
    /// zero-filled for anonymous memory (the shared zero page for a read where the
    /// policy says so; a write to it gets a frame of its own). Fails if no VMA allows
    /// the access, or no frame is left.
    pub fn populate(&self, address: u64, access: Access) -> Result<(), MmError> {
        let vma = self.vmas.find(address).ok_or(MmError::Fault)?;
        let allowed = match access {
            Access::Read => !vma.prot.is_empty(),
            Access::Write => vma.prot.contains(Prot::WRITE),
            Access::Exec => vma.prot.contains(Prot::EXEC),
        };
        if !allowed {
            return Err(MmError::Fault);
        }
        let page = address & !(PAGE - 1);
        // Check and map under the page-table lock: two CPUs faulting on one page
        // cannot both map it.
        let mut tables = self.tables.lock();
        let present = tables.translate(page);
        match (present, vma.backing) {
            (Some((_, flags)), _) if !(flags.contains(ZERO_PAGE) && access == Access::Write) => {
                // Present already (another CPU was first), or a page whose flags
                // refuse the access although the VMA allows it (a kernel bug, kept
                // from looping forever on the fault).
                let refused = (access == Access::Write && !flags.contains(Flags::WRITABLE))
                    || (access == Access::Exec && flags.contains(Flags::NO_EXECUTE));
                if refused {
                    Err(MmError::Fault)
                } else {
                    Ok(())
                }
            }
            (None, Backing::Image { .. }) => Err(MmError::Fault),
            (Some(_), _) | (None, Backing::Anonymous) => {
                if present.is_none() && access != Access::Write && self.policy.zero_page_reads {
                    let flags = page_flags(vma.prot, false);
                    return tables
                        .map_with(page, frames::zero_frame(), flags)
                        .ok_or(MmError::NoMemory);
                }
                // A fresh frame (zeroed), replacing the zero page if it was there.
                let frame = frames::alloc().ok_or(MmError::NoMemory)?;
                if tables
                    .map_with(page, frame, page_flags(vma.prot, true))
                    .is_none()
                {
                    frames::free(frame);
                    return Err(MmError::NoMemory);
                }
                x86_64::instructions::tlb::flush(x86_64::VirtAddr::new(page));
                self.count_frame(vma, 1);
                Ok(())
            }
        }
    }

    /// Changes the access of `[start, end)` (wholly mapped) to `prot`, for the VMAs
    /// and the pages already present.
    pub fn protect(&mut self, start: u64, end: u64, prot: Prot) -> Result<(), MmError> {
        if !self.vmas.has_room(self.vmas.cut_cost(start, end)) {
            return Err(MmError::NoMemory);
        }
        if !self.vmas.protect(start, end, prot) {
            return Err(MmError::Fault);
        }
        let mut tables = self.tables.lock();
        let mut cursor = start;
        while let Some(page) = tables.next_present(cursor, end) {
            let Some((_, flags)) = tables.translate(page) else {
                break;
            };
            let private = !flags.contains(ZERO_PAGE);
            let is_image = self
                .vmas
                .find(page)
                .is_some_and(|v| v.backing != Backing::Anonymous);
            let mut new = page_flags(prot, private);
            if is_image {
                new -= Flags::WRITABLE;
            }
            tables.set_flags(page, new);
            cursor = page + PAGE;
        }
        Ok(())
    }

    /// Frees the frames behind `[start, end)` of every VMA there, keeping the
    /// mappings (demand-zero again). Returns the bytes freed.
    pub fn release(&mut self, start: u64, end: u64) -> u64 {
        let mut freed = 0;
        let mut cursor = start;
        while let Some(vma) = self.vmas.after(cursor).filter(|v| v.vma.start < end) {
            let piece = KernelVma {
                vma: Vma {
                    start: vma.vma.start.max(start),
                    end: vma.vma.end.min(end),
                    kind: vma.vma.kind,
                },
                ..vma.clone()
            };
            cursor = vma.vma.end;
            if piece.backing == Backing::Anonymous {
                freed += self.free_pages(&piece);
            }
        }
        freed
    }

    /// Moves the pages of `[from, from + len)` to `[to, to + len)` (mremap): the frames
    /// change address, not owner. Both ranges are the caller's VMAs.
    pub fn move_pages(&mut self, from: u64, to: u64, len: u64) -> Result<(), MmError> {
        let mut tables = self.tables.lock();
        let mut cursor = from;
        while let Some(page) = tables.next_present(cursor, from + len) {
            let Some((frame, flags)) = tables.unmap(page) else {
                break;
            };
            if tables.map_with(to + (page - from), frame, flags).is_none() {
                // No frame for the new page table: the page goes back where it was
                // (its table is still there: unmapping frees none), nothing is lost.
                let _ = tables.map_with(page, frame, flags);
                return Err(MmError::NoMemory);
            }
            cursor = page + PAGE;
        }
        Ok(())
    }

    /// The crate's view of the VMA containing `address`, or else the next one.
    pub fn vma_after(&self, address: u64) -> Option<Vma> {
        self.vmas.vma_after(address)
    }

    /// Whether the page holding `address` has a frame of its own (may hold non-zero
    /// data: the crate's "populated").
    pub fn is_populated(&self, address: u64) -> bool {
        address < USER_END
            && self
                .tables
                .lock()
                .translate(address)
                .is_some_and(|(_, f)| !f.contains(ZERO_PAGE))
    }

    /// The first page in `[start, end)` with a frame of its own.
    pub fn next_populated(&self, start: u64, end: u64) -> Option<u64> {
        let tables = self.tables.lock();
        let mut cursor = start;
        loop {
            let page = tables.next_present(cursor, end)?;
            let (_, flags) = tables.translate(page)?;
            if !flags.contains(ZERO_PAGE) {
                return Some(page);
            }
            cursor = page + PAGE;
        }
    }

    /// Whether the page holding `address` is present at all (the zero page included:
    /// `mincore`'s answer).
    pub fn is_resident(&self, address: u64) -> bool {
        address < USER_END && self.tables.lock().translate(address).is_some()
    }

    /// Bytes of `[start, end)` backed by frames of the process's own.
    pub fn resident_bytes(&self, start: u64, end: u64) -> u64 {
        let mut bytes = 0;
        let mut cursor = start;
        while let Some(page) = self.next_populated(cursor, end) {
            bytes += PAGE;
            cursor = page + PAGE;
        }
        bytes
    }

    /// Unmaps everything (the page tables themselves go when the mm is dropped).
    pub fn teardown(&mut self) {
        self.unmap(0, USER_END, |_| true);
    }
}

impl Drop for Mm {
    /// An address space dropped without a teardown (a program the loader refused
    /// half-way) gives its frames back all the same.
    fn drop(&mut self) {
        self.teardown();
    }
}
