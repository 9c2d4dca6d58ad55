//! The manager's write guard: the mm lock held for write, with the operations
//! that need it.

use super::stats::Counters;
use super::unmap::UnmapWalk;
use super::{
    covered_by_data, walk, EnableError, MpxManager, Statistics, UnmapError, UnmapSummary,
    NOT_MANAGED,
};
use crate::arch::layout::PAGE_SIZE;
use crate::arch::{Bndcfg, Mode};
use crate::lock::MmWriteGuard;
use crate::mm::{AddressSpace, UserAccess};
use crate::sync::Ordering;
use crate::trace::{NoTrace, Trace};
use core::fmt;
use core::ops::{Deref, DerefMut};

/// The mm lock of one [`MpxManager`] held for write.
///
/// Issued only by [`MpxManager::write`] and [`MpxManager::try_write`], so the
/// operations on it always act on the manager whose lock it holds. It derefs
/// to the mm state `M`, for the kernel's own changes under the same lock.
pub struct MpxWriteGuard<'a, M, T = NoTrace> {
    mm: MmWriteGuard<'a, M>,
    manager: &'a MpxManager<M, T>,
}

impl<'a, M, T> MpxWriteGuard<'a, M, T> {
    pub(crate) fn new(manager: &'a MpxManager<M, T>, mm: MmWriteGuard<'a, M>) -> Self {
        MpxWriteGuard { mm, manager }
    }

    /// The manager whose lock this is.
    pub fn manager(&self) -> &'a MpxManager<M, T> {
        self.manager
    }
}

/// Why the kernel's mmap must refuse a mapping of a managed process
/// ([`MpxWriteGuard::check_mapping`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MapRefused {
    /// The range reaches above the addresses the directory describes (Linux:
    /// `MAP_FIXED` above the 47-bit window → ENOMEM).
    AboveWindow {
        /// The first address the directory does not describe.
        limit: u64,
    },
    /// `end <= start`: no range at all.
    EmptyRange,
}

impl fmt::Display for MapRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapRefused::AboveWindow { limit } => {
                write!(
                    f,
                    "mapping reaches above {limit:#x}, where MPX cannot describe it"
                )
            }
            MapRefused::EmptyRange => f.write_str("empty or reversed range"),
        }
    }
}

impl<M, T> Deref for MpxWriteGuard<'_, M, T> {
    type Target = M;
    fn deref(&self) -> &M {
        &self.mm
    }
}

impl<M, T> DerefMut for MpxWriteGuard<'_, M, T> {
    fn deref_mut(&mut self) -> &mut M {
        &mut self.mm
    }
}

impl<M, T> fmt::Debug for MpxWriteGuard<'_, M, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpxWriteGuard")
            .field("manager", self.manager)
            .finish()
    }
}

impl<M: AddressSpace, T: Trace> MpxWriteGuard<'_, M, T> {
    /// Starts managing the process's bounds tables (Linux:
    /// `PR_MPX_ENABLE_MANAGEMENT`).
    ///
    /// `config` is the process's BNDCFGU as saved (a BNDCSR component in its
    /// init state is all zero, hence disabled). `effective_base` is the
    /// directory address the CPU really walks: the architectural
    /// [`Bndcfg::base`] on SDM-conforming CPUs; the kernel, which knows its
    /// CPU, decides (QEMU, for one, decodes the field differently). Calling it
    /// again replaces the recorded directory; the old directory's tables and
    /// entries are left alone (no longer managed).
    ///
    /// # Errors
    /// [`EnableError`]; management stays as it was.
    pub fn enable(&mut self, config: Bndcfg, effective_base: u64) -> Result<(), EnableError> {
        let geometry = self.manager.geometry;
        if !config.is_enabled() {
            return Err(EnableError::MpxDisabled);
        }
        if config.has_reserved_bits() {
            return Err(EnableError::ReservedBits);
        }
        if effective_base & (PAGE_SIZE - 1) != 0 {
            return Err(EnableError::Misaligned);
        }
        let end = effective_base
            .checked_add(geometry.directory_bytes())
            .filter(|&end| end <= geometry.address_limit())
            .ok_or(EnableError::OutOfRange)?;
        if !covered_by_data(&**self, effective_base, end, &self.manager.counters) {
            return Err(EnableError::DirectoryNotMapped);
        }
        // Linux 4.14+ (LA57): enable refuses while anything is mapped above
        // the 47-bit window, and the kernel keeps the process below it after.
        let window = geometry.user_limit();
        // (A 32-bit process cannot address past its 4 GiB directory's reach.)
        let limit = self.mm.address_limit();
        if geometry.mode() == Mode::Long64 && limit > window {
            return Err(EnableError::AddressSpaceTooWide { limit });
        }
        if let Some(vma) = self.mm.vma_after(window) {
            return Err(EnableError::MappingAboveWindow {
                start: vma.start.max(window),
            });
        }
        self.manager
            .directory
            .store(effective_base, Ordering::Release);
        Ok(())
    }

    /// Stops managing (Linux: `PR_MPX_DISABLE_MANAGEMENT`): later #BRs get
    /// [`AllocError::NotManaged`](super::AllocError::NotManaged) and unmaps
    /// leave tables alone. Tables already mapped stay mapped, as ordinary
    /// memory of the process.
    pub fn disable(&mut self) {
        self.manager.directory.store(NOT_MANAGED, Ordering::Release);
    }

    /// Whether the kernel's mmap may place `[start, end)` while this process
    /// is managed: not above the addresses the directory describes (the
    /// 47-bit window in 64-bit mode). The kernel refuses a `MAP_FIXED` that
    /// fails this (Linux: ENOMEM) and searches below the window for a hint
    /// that does (Linux drops the hint). An empty or reversed range is
    /// refused whatever the state; otherwise always `Ok` while not managing.
    ///
    /// # Errors
    /// [`MapRefused`].
    pub fn check_mapping(&self, start: u64, end: u64) -> Result<(), MapRefused> {
        if end <= start {
            return Err(MapRefused::EmptyRange);
        }
        let limit = self.manager.geometry.user_limit();
        let managed = self.manager.directory_base().is_some();
        if managed && (end > limit || start >= limit) {
            return Err(MapRefused::AboveWindow { limit });
        }
        Ok(())
    }

    /// Makes the manager of a forked child whose mm state `child` the kernel
    /// has just copied from this one, under this guard (so that no #BR or
    /// unmap changed the parent meanwhile).
    ///
    /// The copy must keep every VMA with its [`VmaKind`](crate::mm::VmaKind) (bounds-table tags
    /// and their entry addresses unchanged: the child's directory is at the
    /// same address) and the memory (directory and tables are ordinary user
    /// memory; copy-on-write is fine). The child manages the same directory
    /// if the parent does (Linux: the child inherits `bd_addr`), with the
    /// parent's table limit and a copy of its tracer; its counters start
    /// fresh, with the copied table mappings as
    /// [`Statistics::tables_inherited`]. Parent and child then allocate and
    /// free on their own: a table is named only by its own process's entry.
    pub fn fork(&self, child: M) -> MpxManager<M, T>
    where
        T: Clone,
    {
        let parent = self.manager;
        let manager = MpxManager::with_trace(
            child,
            parent.geometry.mode(),
            parent.lock.context(),
            parent.trace.clone(),
        );
        manager.set_table_limit(parent.table_limit());
        let inherited = {
            let mm = manager.lock.read();
            manager.tables_of(&mm)
        };
        Counters::bump(&manager.counters.tables_inherited, inherited);
        manager
            .directory
            .store(parent.directory.load(Ordering::Acquire), Ordering::Release);
        manager
    }

    /// The process's exit: management ends and every mapping goes through
    /// `remove(mm, a, b)` (the kernel's own unmap, as for
    /// [`MpxWriteGuard::munmap`]), with no unmap hook: the directory and the
    /// tables go with the rest. Every table the process ever had is gone
    /// then, so the ones not counted as freed yet are counted now (also
    /// tables the user unmapped while management was off, which the hook
    /// could not count): the books balance, `tables_inherited +
    /// tables_allocated = tables_freed`, nothing live. No
    /// [`TableFreed`](crate::trace::TraceEvent::TableFreed) events: the
    /// process is gone. Returns the final statistics.
    ///
    /// Call it once the process's last thread is gone, whether management is
    /// on or off.
    pub fn teardown(&mut self, remove: impl FnMut(&mut M, u64, u64)) -> Statistics {
        self.disable();
        self.remove_everything(remove);
        let books = self.manager.counters.snapshot();
        let made = books.tables_inherited + books.tables_allocated;
        Counters::bump(
            &self.manager.counters.tables_freed,
            made.saturating_sub(books.tables_freed),
        );
        self.manager.statistics_of(&self.mm)
    }

    /// exec of an image of the same mode: the old image's end
    /// ([`MpxWriteGuard::teardown`], whose final statistics it returns), then
    /// the new image under the same manager: unmanaged, no tables, counters
    /// from zero; the table limit and the tracer stay (Linux resets
    /// `bd_addr` at exec; an rlimit survives it). For an image of the other
    /// mode (a 64-bit process executing a 32-bit program), tear down and make
    /// a new manager with [`MpxManager::with_trace`] and the old
    /// [`MpxManager::table_limit`].
    pub fn exec(&mut self, remove: impl FnMut(&mut M, u64, u64)) -> Statistics {
        let old = self.teardown(remove);
        self.manager.counters.reset();
        old
    }

    /// Removes every VMA through `remove`, in address order (a broken
    /// contract ends the walk; what is left is the kernel's).
    fn remove_everything(&mut self, mut remove: impl FnMut(&mut M, u64, u64)) {
        let mut cursor = 0;
        while let Ok(Some(vma)) =
            walk::next_vma(&*self.mm, cursor, u64::MAX, &self.manager.counters)
        {
            cursor = vma.end;
            remove(&mut self.mm, vma.start, vma.end);
        }
    }

    /// The whole munmap of `[start, end)` (page aligned): the unmap hook,
    /// then the kernel's removal of the range, then the hook's result.
    ///
    /// `remove(mm, a, b)` is the kernel's own unmap of `[a, b)`: remove the
    /// VMAs, free their pages, shoot down the TLBs. The manager calls it for
    /// the pieces of the range the kernel must remove, in address order; it
    /// leaves out a bounds table the hook could not unlink (its directory
    /// entry could not be cleared), so that no valid entry ever names removed
    /// memory: that table stays mapped, its entry valid, and the result
    /// reports why ([`UnmapSummary::tables_kept`] counts them).
    ///
    /// Use it for every path that takes memory away: munmap, the old range of
    /// mremap, a `MAP_FIXED` mapping over existing ones (then map the new
    /// mapping under the same guard), a shrinking brk. Does nothing but
    /// `remove` while management is off.
    ///
    /// # Errors
    /// The first [`UnmapError`] the hook met. The hook carries on past a bad
    /// span or table, and the removal of everything but kept tables always
    /// happens (Linux sent SIGSEGV after unmapping).
    pub fn munmap<U: UserAccess>(
        &mut self,
        user: &U,
        start: u64,
        end: u64,
        mut remove: impl FnMut(&mut M, u64, u64),
    ) -> Result<UnmapSummary, UnmapError> {
        let manager = self.manager;
        if start >= end {
            return Ok(UnmapSummary::default());
        }
        match manager.directory_base() {
            Some(base) => {
                UnmapWalk::new(manager, &mut self.mm, user, base, start, end).run(&mut remove)
            }
            None => {
                remove(&mut self.mm, start, end);
                Ok(UnmapSummary::default())
            }
        }
    }
}
