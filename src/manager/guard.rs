//! The manager's write guard: the mm lock held for write, with the operations
//! that need it.

use super::unmap::UnmapWalk;
use super::{covered_by_data, EnableError, MpxManager, UnmapError, UnmapSummary, NOT_MANAGED};
use crate::arch::layout::PAGE_SIZE;
use crate::arch::Bndcfg;
use crate::lock::MmWriteGuard;
use crate::mm::{AddressSpace, UserAccess};
use crate::sync::Ordering;
use core::fmt;
use core::ops::{Deref, DerefMut};

/// The mm lock of one [`MpxManager`] held for write.
///
/// Issued only by [`MpxManager::write`] and [`MpxManager::try_write`], so the
/// operations on it always act on the manager whose lock it holds. It derefs
/// to the mm state `M`, for the kernel's own changes under the same lock.
pub struct MpxWriteGuard<'a, M> {
    mm: MmWriteGuard<'a, M>,
    manager: &'a MpxManager<M>,
}

impl<'a, M> MpxWriteGuard<'a, M> {
    pub(crate) fn new(manager: &'a MpxManager<M>, mm: MmWriteGuard<'a, M>) -> Self {
        MpxWriteGuard { mm, manager }
    }

    /// The manager whose lock this is.
    pub fn manager(&self) -> &'a MpxManager<M> {
        self.manager
    }
}

impl<M> Deref for MpxWriteGuard<'_, M> {
    type Target = M;
    fn deref(&self) -> &M {
        &self.mm
    }
}

impl<M> DerefMut for MpxWriteGuard<'_, M> {
    fn deref_mut(&mut self) -> &mut M {
        &mut self.mm
    }
}

impl<M> fmt::Debug for MpxWriteGuard<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpxWriteGuard")
            .field("manager", self.manager)
            .finish()
    }
}

impl<M: AddressSpace> MpxWriteGuard<'_, M> {
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
