//! A process's address space as the kernel keeps it: VMAs, what backs them, demand
//! paging, and the frames behind bounds tables.
//!
//! [`Mm`] lives behind the process's mm lock (owned by its `MpxManager`). Its page
//! tables sit behind a lock of their own (per mm), shared with the process's
//! [`UserMemory`](super::user::UserMemory): the page-fault path maps pages under the
//! mm lock held only for *read*, possibly on several CPUs at once, so the page-table
//! lock is what keeps two faulting CPUs from both mapping a page.

use super::frames;
use super::layout::{PAGE, USER_END};
use super::paging::PageTables;
use super::user::UserMemory;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use mpx::mm::{MmError, Vma, VmaKind};
use spin::Mutex;
use x86_64::structures::paging::PhysFrame;
use x86_64::PhysAddr;

/// Lowest address `mmap` picks by itself.
pub const MMAP_BASE: u64 = 0x1000_0000_0000;

/// What backs a VMA's pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// Zero-filled on first touch; frames owned by the process.
    Anonymous,
    /// The program image in the kernel binary: mapped read-only, never freed.
    Image {
        /// Physical address of the VMA's first page.
        phys: u64,
    },
}

/// A VMA as the kernel keeps it: the crate's view plus what backs it.
#[derive(Clone, Copy, Debug)]
pub struct KernelVma {
    /// Range and kind, as the crate sees them.
    pub vma: Vma,
    /// What backs the pages.
    pub backing: Backing,
    /// Whether user writes are allowed.
    pub writable: bool,
}

/// A process's mm state (inside the mm lock its `MpxManager` owns).
pub struct Mm {
    tables: Arc<Mutex<PageTables>>,
    vmas: BTreeMap<u64, KernelVma>,
    table_frames: AtomicU64,
    table_frames_peak: AtomicU64,
}

/// Why [`Mm::map`] failed.
pub type MapResult = Result<u64, MmError>;

impl Mm {
    /// An empty address space; `None` without a frame for its page tables.
    pub fn new() -> Option<Mm> {
        Some(Mm {
            tables: Arc::new(Mutex::new(PageTables::new()?)),
            vmas: BTreeMap::new(),
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

    /// Frames currently backing bounds-table VMAs.
    pub fn table_frames(&self) -> u64 {
        self.table_frames.load(Ordering::Relaxed)
    }

    /// The most frames that backed bounds-table VMAs at once.
    pub fn table_frames_peak(&self) -> u64 {
        self.table_frames_peak.load(Ordering::Relaxed)
    }

    /// Bounds-table VMAs (a table split by a partial user `munmap` counts per piece).
    pub fn table_vmas(&self) -> u64 {
        self.vmas
            .values()
            .filter(|v| v.vma.is_bounds_table())
            .count() as u64
    }

    /// The kernel VMA containing `address`.
    pub fn find(&self, address: u64) -> Option<KernelVma> {
        let (_, vma) = self.vmas.range(..=address).next_back()?;
        (vma.vma.end > address).then_some(*vma)
    }

    fn range_is_free(&self, start: u64, end: u64) -> bool {
        if let Some((_, before)) = self.vmas.range(..end).next_back() {
            if before.vma.end > start {
                return false;
            }
        }
        true
    }

    /// First free, page-aligned range of `len` bytes at or above [`MMAP_BASE`].
    fn find_free(&self, len: u64) -> Option<u64> {
        let mut candidate = MMAP_BASE;
        for (_, vma) in self.vmas.range(MMAP_BASE..) {
            if vma.vma.start >= candidate.checked_add(len)? {
                break;
            }
            candidate = candidate.max(vma.vma.end);
        }
        (candidate.checked_add(len)? <= USER_END).then_some(candidate)
    }

    /// Maps `[start, start+len)` (or a free range if `start` is `None`).
    pub fn map(
        &mut self,
        start: Option<u64>,
        len: u64,
        kind: VmaKind,
        backing: Backing,
        writable: bool,
    ) -> MapResult {
        if len == 0 || !len.is_multiple_of(PAGE) {
            return Err(MmError::Invalid);
        }
        let start = match start {
            Some(s) => {
                let end = s.checked_add(len).ok_or(MmError::Invalid)?;
                if s % PAGE != 0 || s == 0 || end > USER_END {
                    return Err(MmError::Invalid);
                }
                if !self.range_is_free(s, end) {
                    return Err(MmError::NoAddressSpace);
                }
                s
            }
            None => self.find_free(len).ok_or(MmError::NoAddressSpace)?,
        };
        let vma = Vma {
            start,
            end: start + len,
            kind,
        };
        self.vmas.insert(
            start,
            KernelVma {
                vma,
                backing,
                writable,
            },
        );
        if let Backing::Image { phys } = backing {
            let mut tables = self.tables.lock();
            for off in (0..len).step_by(PAGE as usize) {
                let frame = PhysFrame::containing_address(PhysAddr::new(phys + off));
                tables
                    .map(start + off, frame, false)
                    .ok_or(MmError::NoMemory)?;
            }
        }
        Ok(start)
    }

    /// Frees the frames of present pages in `[start, end)` of `vma` (kept mapped
    /// as demand-zero). Returns the bytes freed.
    fn free_pages(&self, vma: &KernelVma, start: u64, end: u64) -> u64 {
        let mut tables = self.tables.lock();
        let mut freed = 0;
        let mut cursor = start;
        while let Some(page) = tables.next_present(cursor, end) {
            if let Some(frame) = tables.unmap(page) {
                if vma.backing == Backing::Anonymous {
                    frames::free(frame);
                    freed += PAGE;
                    if vma.vma.is_bounds_table() {
                        self.table_frames.fetch_sub(1, Ordering::Relaxed);
                    }
                }
            }
            cursor = page + PAGE;
        }
        freed
    }

    /// Removes every VMA part inside `[start, end)` for which `which` holds, freeing
    /// the pages. VMAs straddling the bounds are split.
    pub fn unmap(&mut self, start: u64, end: u64, which: impl Fn(&KernelVma) -> bool) {
        let keys: alloc::vec::Vec<u64> = self
            .vmas
            .range(..end)
            .filter(|(_, v)| v.vma.end > start && which(v))
            .map(|(&k, _)| k)
            .collect();
        for key in keys {
            let vma = self.vmas.remove(&key).expect("listed above");
            let (lo, hi) = (vma.vma.start.max(start), vma.vma.end.min(end));
            self.free_pages(&vma, lo, hi);
            if vma.vma.start < lo {
                let mut left = vma;
                left.vma.end = lo;
                self.vmas.insert(left.vma.start, left);
            }
            if hi < vma.vma.end {
                let mut right = vma;
                right.vma.start = hi;
                if let Backing::Image { phys } = vma.backing {
                    right.backing = Backing::Image {
                        phys: phys + (hi - vma.vma.start),
                    };
                }
                self.vmas.insert(hi, right);
            }
        }
    }

    /// Resolves a fault on `address`: makes its page present (zero-filled for
    /// anonymous memory). Fails if no VMA allows the access.
    pub fn populate(&self, address: u64, write: bool) -> Result<(), MmError> {
        let vma = self.find(address).ok_or(MmError::Fault)?;
        if write && !vma.writable {
            return Err(MmError::Fault);
        }
        let page = address & !(PAGE - 1);
        // Check and map under the page-table lock: two CPUs faulting on one page
        // cannot both map it.
        let mut tables = self.tables.lock();
        if tables.translate(page).is_some() {
            return Ok(());
        }
        match vma.backing {
            Backing::Image { .. } => Err(MmError::Fault),
            Backing::Anonymous => {
                let frame = frames::alloc().ok_or(MmError::NoMemory)?;
                if tables.map(page, frame, vma.writable).is_none() {
                    frames::free(frame);
                    return Err(MmError::NoMemory);
                }
                if vma.vma.is_bounds_table() {
                    let now = self.table_frames.fetch_add(1, Ordering::Relaxed) + 1;
                    self.table_frames_peak.fetch_max(now, Ordering::Relaxed);
                }
                Ok(())
            }
        }
    }

    /// Unmaps everything (the page tables themselves go when the mm is dropped).
    pub fn teardown(&mut self) {
        self.unmap(0, USER_END, |_| true);
    }

    /// Frees the frames behind `[start, end)` of every VMA there, keeping the
    /// mappings (demand-zero again). Returns the bytes freed.
    pub fn release(&mut self, start: u64, end: u64) -> u64 {
        let mut freed = 0;
        let mut cursor = start;
        while let Some(vma) = self.vma_after(cursor).filter(|v| v.start < end) {
            let kvma = self.find(vma.start).expect("just found");
            freed += self.free_pages(&kvma, vma.start.max(start), vma.end.min(end));
            cursor = vma.end;
        }
        freed
    }

    /// The VMA containing `address`, or else the first one after it.
    pub fn vma_after(&self, address: u64) -> Option<Vma> {
        if let Some(vma) = self.find(address) {
            return Some(vma.vma);
        }
        self.vmas.range(address..).next().map(|(_, v)| v.vma)
    }

    /// Whether the page holding `address` is present.
    pub fn is_present(&self, address: u64) -> bool {
        address < USER_END && self.tables.lock().translate(address).is_some()
    }

    /// The first present page in `[start, end)`.
    pub fn next_present(&self, start: u64, end: u64) -> Option<u64> {
        self.tables.lock().next_present(start, end)
    }

    /// Bytes of `[start, end)` backed by frames.
    pub fn resident_bytes(&self, start: u64, end: u64) -> u64 {
        let tables = self.tables.lock();
        let mut bytes = 0;
        let mut cursor = start;
        while let Some(page) = tables.next_present(cursor, end) {
            bytes += PAGE;
            cursor = page + PAGE;
        }
        bytes
    }
}
