//! `MpxManager`: one process's bounds tables, allocated on #BR and freed on unmap.
//!
//! The manager owns the process's mm lock ([`MmLock`]) and the mm state
//! behind it, so every operation reaches the lock it needs through the
//! manager itself and no operation can be run with another process's lock.
//! A kernel meets one entry point per event:
//!
//! | event | call | lock |
//! |---|---|---|
//! | `prctl(PR_MPX_ENABLE_MANAGEMENT)` | [`MpxManager::write`] then [`MpxWriteGuard::enable`] | write |
//! | `prctl(PR_MPX_DISABLE_MANAGEMENT)` | [`MpxWriteGuard::disable`] | write |
//! | #BR | [`BndStatus::cause`](crate::arch::BndStatus::cause), then [`MpxManager::allocate_table`] (code 2) or [`build_report`](crate::violation::build_report) (code 1) | none held; the allocation takes it |
//! | `munmap` (and `MAP_FIXED`, `brk`, `mremap`) | [`MpxWriteGuard::munmap`]: the hook, the kernel's removal, the hook's result | write |
//! | page fault | [`MpxManager::lock`] then [`MmLock::read_for_fault`] | read |
//!
//! # Locking and races
//! - Enable, disable and the unmap hook run under the write lock: they are
//!   methods of [`MpxWriteGuard`], which only [`MpxManager::write`] and
//!   [`MpxManager::try_write`] issue.
//! - [`MpxManager::allocate_table`] is called from the #BR handler with *no*
//!   mm lock held. It reads the entry first (resolving faults under a read
//!   lock), then takes the lock for write, checks again that management is
//!   on, the entry is in the current directory and still empty, and maps a
//!   table and installs it with a compare-exchange on the directory entry: a
//!   compare-exchange, because the entry is user memory that other threads
//!   (and the CPU) use concurrently; under the write lock, so that no munmap,
//!   enable or disable can come between the checks, the mapping and the
//!   install. Outcomes of the exchange:
//!   - `0 → table|valid`: installed.
//!   - the entry became valid meanwhile: another thread won the race; our
//!     table is unmapped and the fault counts as handled (the instruction
//!     retries and uses the winner's table).
//!   - the entry holds anything else: corruption; our table is unmapped and
//!     the process gets an error (Linux: SIGSEGV).
//! - Directory entries are touched only through
//!   [`UserAccess`](crate::mm::UserAccess) (page faults disabled); a fault is
//!   resolved with [`AddressSpace::fault_in`] under the lock the caller holds
//!   (or a read lock the #BR path takes) and the access retried, a bounded
//!   number of times. Nothing here enters the page-fault path.
//!
//! # Trust
//! The directory is user memory and BNDSTATUS can be loaded by the user
//! (XRSTOR), so every entry value and every status is checked before use: the
//! manager only ever unmaps a VMA that the kernel reports as a bounds table
//! mapped for that very directory entry, and only ever writes entries inside
//! the directory recorded at [`MpxWriteGuard::enable`].

mod access;
mod fault;
mod guard;
mod stats;
mod unmap;
mod walk;

pub use fault::{AllocError, Allocation};
pub use guard::MpxWriteGuard;
pub use stats::Statistics;
pub use unmap::{UnmapError, UnmapSummary};

use crate::arch::{Geometry, Mode};
use crate::lock::{ContextId, MmLock};
use crate::mm::{AddressSpace, Residency, VmaKind};
use crate::sync::{const_unless_loom, AtomicU64, Ordering};
use core::fmt;
use stats::{Counters, TableTally};

/// Sentinel for "not managing" (Linux: `MPX_INVALID_BOUNDS_DIR`); zero is a
/// legal directory address in principle, so it cannot be the sentinel.
const NOT_MANAGED: u64 = u64::MAX;

/// Why [`MpxWriteGuard::enable`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnableError {
    /// BNDCFGU has EN clear (or BNDCSR is in its init state): MPX is off.
    MpxDisabled,
    /// BNDCFGU has reserved bits set.
    ReservedBits,
    /// The directory base is not 4 KiB aligned.
    Misaligned,
    /// The directory would extend past the addresses the process can use.
    OutOfRange,
    /// No ordinary mapping covers the whole directory.
    DirectoryNotMapped,
}

impl fmt::Display for EnableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EnableError::MpxDisabled => "MPX is not enabled in BNDCFGU",
            EnableError::ReservedBits => "BNDCFGU has reserved bits set",
            EnableError::Misaligned => "bounds directory not page aligned",
            EnableError::OutOfRange => "bounds directory beyond the process's address space",
            EnableError::DirectoryNotMapped => "bounds directory not covered by ordinary mappings",
        })
    }
}

/// Bounds-table management for one process (Linux: `mm->context.bd_addr`
/// and `arch/x86/mm/mpx.c`), owning the process's mm state `M` behind its mm
/// lock.
///
/// One manager per address space: every thread of a process uses the same
/// one (it is `Sync` when `M` is `Send + Sync`).
pub struct MpxManager<M> {
    lock: MmLock<M>,
    geometry: Geometry,
    directory: AtomicU64,
    counters: Counters,
}

impl<M> MpxManager<M> {
    const_unless_loom! {
        /// A manager for a process of the given mode over its mm state `mm`, not
        /// yet managing. `context` names the running CPU or thread for the mm
        /// lock (see [`ContextId`]).
        pub fn new(mm: M, mode: Mode, context: ContextId) -> MpxManager<M> {
            MpxManager {
                lock: MmLock::new(mm, context),
                geometry: Geometry::of(mode),
                directory: AtomicU64::new(NOT_MANAGED),
                counters: Counters::new(),
            }
        }
    }

    /// The process's MPX geometry.
    pub const fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// The effective directory base, if management is on.
    pub fn directory_base(&self) -> Option<u64> {
        match self.directory.load(Ordering::Acquire) {
            NOT_MANAGED => None,
            base => Some(base),
        }
    }

    /// The process's mm lock, for the kernel's own work on the mm: the
    /// page-fault path ([`MmLock::read_for_fault`]), reading the VMAs, and
    /// changes that are not unmaps (a new mapping). Unmaps go through
    /// [`MpxManager::write`] and [`MpxWriteGuard::munmap`].
    pub const fn lock(&self) -> &MmLock<M> {
        &self.lock
    }

    /// Takes the mm lock for write and returns the guard that carries the
    /// operations needing it: [`MpxWriteGuard::enable`],
    /// [`MpxWriteGuard::disable`], [`MpxWriteGuard::munmap`]. It derefs to
    /// `M` for the kernel's own changes under the same lock.
    pub fn write(&self) -> MpxWriteGuard<'_, M> {
        MpxWriteGuard::new(self, self.lock.write())
    }

    /// [`MpxManager::write`] if the lock is free right now.
    pub fn try_write(&self) -> Option<MpxWriteGuard<'_, M>> {
        Some(MpxWriteGuard::new(self, self.lock.try_write()?))
    }

    /// The directory base if `address` is the address of an entry of the
    /// current directory; `None` otherwise (or while not managing).
    fn entry_in_directory(&self, address: u64) -> Option<u64> {
        let base = self.directory_base()?;
        let offset = address.checked_sub(base)?;
        let aligned = offset % self.geometry.directory_entry_bytes() == 0;
        (aligned && offset < self.geometry.directory_bytes()).then_some(base)
    }
}

impl<M: AddressSpace> MpxManager<M> {
    /// A snapshot of the statistics, walking the VMAs under a read lock for
    /// the live tables and the mapped table bytes.
    pub fn statistics(&self) -> Statistics {
        let (live, mapped) = {
            let mm = self.lock.read();
            let (mut live, mut mapped) = (0, 0);
            let mut tally = TableTally::new(self.geometry.table_bytes());
            let mut cursor = 0;
            while let Ok(Some(vma)) = walk::next_vma(&*mm, cursor, u64::MAX, &self.counters) {
                if let VmaKind::BoundsTable { directory_entry } = vma.kind {
                    let len = vma.end - vma.start;
                    if tally.is_new_table(vma.start, vma.end, directory_entry) {
                        live += 1;
                    }
                    mapped += len;
                }
                cursor = vma.end;
            }
            (live, mapped)
        };
        let mut stats = self.counters.snapshot();
        stats.live_tables = live;
        stats.table_bytes_mapped = mapped;
        stats.would_deadlock = self.lock.would_deadlock_events();
        stats
    }
}

impl<M: Residency> MpxManager<M> {
    /// Bytes of bounds-table mappings backed by physical memory, walking every
    /// table VMA under a read lock (a query apart from [`MpxManager::statistics`]
    /// because it costs a residency query per table).
    pub fn resident_table_bytes(&self) -> u64 {
        let mm = self.lock.read();
        let mut resident = 0;
        let mut cursor = 0;
        while let Ok(Some(vma)) = walk::next_vma(&*mm, cursor, u64::MAX, &self.counters) {
            if vma.is_bounds_table() {
                resident += mm.resident_bytes(vma.start, vma.end);
            }
            cursor = vma.end;
        }
        resident
    }
}

impl<M> fmt::Debug for MpxManager<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpxManager")
            .field("mode", &self.geometry.mode())
            .field("directory", &self.directory_base())
            .field("lock", &self.lock)
            .finish_non_exhaustive()
    }
}

/// Whether ordinary (non-table) VMAs cover `[start, end)` without a hole (a
/// broken contract answers no).
fn covered_by_data<M: AddressSpace + ?Sized>(
    mm: &M,
    start: u64,
    end: u64,
    counters: &Counters,
) -> bool {
    let mut cursor = start;
    while cursor < end {
        match walk::next_vma(mm, cursor, end, counters) {
            Ok(Some(vma)) if vma.start <= cursor && vma.kind == VmaKind::Data => cursor = vma.end,
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::MpxManager;
    use crate::arch::Mode;
    use crate::mm::VmaKind;
    use crate::sim::SimAddressSpace;

    const PAGE: u64 = 4096;
    const TABLE: u64 = 4 << 20;
    const X: u64 = 1 << 36;

    fn live_tables(vmas: &[(u64, u64, u64)]) -> u64 {
        let mut mm = SimAddressSpace::new(Mode::Long64);
        for &(start, end, entry) in vmas {
            mm.insert(
                start,
                end,
                VmaKind::BoundsTable {
                    directory_entry: entry,
                },
            );
        }
        MpxManager::new(mm, Mode::Long64, || 1)
            .statistics()
            .live_tables
    }

    #[test]
    fn an_orphaned_piece_and_a_new_table_for_one_entry_count_twice() {
        // The review's case: a one-page piece left of a table split while
        // management was off, then a new table for the same entry right after.
        assert_eq!(
            live_tables(&[(X, X + PAGE, 8), (X + PAGE, X + PAGE + TABLE, 8)]),
            2
        );
        // The new table below the piece.
        assert_eq!(
            live_tables(&[(X, X + TABLE, 8), (X + TABLE, X + TABLE + PAGE, 8)]),
            2
        );
    }

    #[test]
    fn pieces_of_one_table_count_once() {
        let pieces = [
            (X, X + PAGE, 8),
            (X + 2 * PAGE, X + 5 * PAGE, 8),
            (X + TABLE - PAGE, X + TABLE, 8),
        ];
        assert_eq!(live_tables(&pieces), 1);
        // Pieces for different entries are different tables.
        assert_eq!(
            live_tables(&[(X, X + PAGE, 8), (X + PAGE, X + 2 * PAGE, 16)]),
            2
        );
        // Two pieces further apart than a table are two tables.
        assert_eq!(
            live_tables(&[(X, X + PAGE, 8), (X + TABLE, X + TABLE + PAGE, 8)]),
            2
        );
    }
}
