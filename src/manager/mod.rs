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
//!   mm lock held. It takes the lock for write, checks that management is on
//!   and the entry is in the current directory, maps a table and installs it
//!   with a compare-exchange `0 → table|1` on the directory entry: a
//!   compare-exchange, because the entry is user memory that other threads
//!   (and the CPU) use concurrently; under the write lock, so that no munmap,
//!   enable or disable can come between the checks, the mapping and the
//!   install. The exchange is the look at the entry (there is no read
//!   before it: a stale #BR or a lost race costs a table mapped and unmapped,
//!   the common case one entry access less). Outcomes of the exchange:
//!   - `0 → table|valid`: installed.
//!   - the entry became valid meanwhile: another thread won the race; our
//!     table is unmapped and the fault counts as handled (the instruction
//!     retries and uses the winner's table).
//!   - the entry holds anything else: corruption; our table is unmapped and
//!     the process gets an error (Linux: SIGSEGV).
//! - Directory entries are touched only through
//!   [`UserAccess`](crate::mm::UserAccess) (page faults disabled); a fault is
//!   resolved with [`AddressSpace::fault_in`] under the lock held and the
//!   access retried, a bounded number of times. Nothing here enters the
//!   page-fault path.
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
pub use guard::{MapRefused, MpxWriteGuard};
pub use stats::Statistics;
pub use unmap::{UnmapError, UnmapSummary};

use crate::arch::{Geometry, Mode};
use crate::lock::{ContextId, MmLock};
use crate::mm::{AddressSpace, Residency, TableMappings, VmaKind};
use crate::sync::{const_unless_loom, AtomicU64, Ordering};
use crate::trace::{NoTrace, Trace, TraceEvent};
use core::fmt;
use stats::Counters;

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
    /// A mapping lies above the addresses the directory describes (the
    /// 47-bit window in 64-bit mode): its tables could never be found.
    MappingAboveWindow {
        /// Where the first such mapping starts.
        start: u64,
    },
    /// The process's address space reaches past what the directory can
    /// describe ([`AddressSpace::address_limit`], e.g. 5-level paging without
    /// MAWA) and the kernel does not keep managed processes below it.
    AddressSpaceTooWide {
        /// The kernel's limit.
        limit: u64,
    },
}

impl fmt::Display for EnableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EnableError::MpxDisabled => "MPX is not enabled in BNDCFGU",
            EnableError::ReservedBits => "BNDCFGU has reserved bits set",
            EnableError::Misaligned => "bounds directory not page aligned",
            EnableError::OutOfRange => "bounds directory beyond the process's address space",
            EnableError::DirectoryNotMapped => "bounds directory not covered by ordinary mappings",
            EnableError::MappingAboveWindow { .. } => {
                "a mapping lies above the addresses a bounds directory describes"
            }
            EnableError::AddressSpaceTooWide { .. } => {
                "the address space is wider than a bounds directory describes"
            }
        })
    }
}

/// Bounds-table management for one process (Linux: `mm->context.bd_addr`
/// and `arch/x86/mm/mpx.c`), owning the process's mm state `M` behind its mm
/// lock.
///
/// One manager per address space: every thread of a process uses the same
/// one (it is `Sync` when `M` is `Send + Sync`); a kernel keeps it with the
/// mm, not with the thread (Linux: `mm->context`, shared by every task of
/// the mm). `T` receives trace events ([`crate::trace`]); the default,
/// [`NoTrace`], costs nothing.
///
/// # A process's life
/// - **fork**: copy the address space under the parent's write lock (every
///   VMA with its [`VmaKind`], bounds-table tags and their entry addresses
///   unchanged, and the memory: directory and tables are ordinary user
///   memory, copy-on-write is fine), then [`MpxWriteGuard::fork`] makes the
///   child's manager: the same directory (management goes on, as in Linux),
///   the same table limit and tracer, fresh counters with the copied tables
///   as [`Statistics::tables_inherited`]. Parent and child then allocate and
///   free on their own.
/// - **exec**: [`MpxWriteGuard::exec`] ends management and removes every
///   mapping; the new image starts unmanaged with no tables and fresh
///   counters, keeping the table limit (as an rlimit survives exec). A
///   kernel that makes a new mm for exec makes a new manager instead and
///   passes the limit on ([`MpxManager::table_limit`]).
/// - **exit**: [`MpxWriteGuard::teardown`] removes everything, counting the
///   tables left as freed, so that the books balance; management ends.
pub struct MpxManager<M, T = NoTrace> {
    lock: MmLock<M>,
    geometry: Geometry,
    directory: AtomicU64,
    counters: Counters,
    /// Most tables the process may have (`NO_LIMIT`: none).
    limit: AtomicU64,
    trace: T,
}

/// The table limit's "no limit".
const NO_LIMIT: u64 = u64::MAX;

impl<M> MpxManager<M> {
    const_unless_loom! {
        /// A manager for a process of the given mode over its mm state `mm`, not
        /// yet managing, without tracing. `context` names the running CPU or
        /// thread for the mm lock (see [`ContextId`]).
        pub fn new(mm: M, mode: Mode, context: ContextId) -> MpxManager<M> {
            MpxManager::with_trace(mm, mode, context, NoTrace)
        }
    }
}

impl<M, T> MpxManager<M, T> {
    const_unless_loom! {
        /// As [`MpxManager::new`], with `trace` (a [`Trace`]) receiving the
        /// manager's events.
        pub fn with_trace(mm: M, mode: Mode, context: ContextId, trace: T) -> MpxManager<M, T> {
            MpxManager {
                lock: MmLock::new(mm, context),
                geometry: Geometry::of(mode),
                directory: AtomicU64::new(NOT_MANAGED),
                counters: Counters::new(),
                limit: AtomicU64::new(NO_LIMIT),
                trace,
            }
        }
    }
}

impl<M, T: Trace> MpxManager<M, T> {
    /// The tracer.
    pub const fn trace(&self) -> &T {
        &self.trace
    }

    pub(crate) fn emit(&self, event: TraceEvent) {
        self.trace.event(event);
    }
}

impl<M, T> MpxManager<M, T> {
    /// Caps the process's bounds tables at `max_tables` (`None`: no cap, the
    /// default; Linux had none). A #BR that would map a table past the cap
    /// gets [`AllocError::TableLimit`] (counted in
    /// [`Statistics::limit_refusals`]); the kernel turns it into SIGSEGV.
    /// Freeing tables brings the process back under it. The cap counts table
    /// bytes mapped ([`Statistics::table_bytes_mapped`] / table size), so
    /// pieces of a split table count for what they map. Lowering it below
    /// what is mapped frees nothing; it only refuses new tables. Carried by
    /// [`MpxWriteGuard::fork`] and [`MpxWriteGuard::exec`].
    pub fn set_table_limit(&self, max_tables: Option<u64>) {
        let raw = max_tables.map_or(NO_LIMIT, |n| n.min(NO_LIMIT - 1));
        self.limit.store(raw, Ordering::Relaxed);
    }

    /// The cap set by [`MpxManager::set_table_limit`].
    pub fn table_limit(&self) -> Option<u64> {
        match self.limit.load(Ordering::Relaxed) {
            NO_LIMIT => None,
            n => Some(n),
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
    pub fn write(&self) -> MpxWriteGuard<'_, M, T> {
        MpxWriteGuard::new(self, self.lock.write())
    }

    /// [`MpxManager::write`] if the lock is free right now.
    pub fn try_write(&self) -> Option<MpxWriteGuard<'_, M, T>> {
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

impl<M: AddressSpace, T> MpxManager<M, T> {
    /// A snapshot of the statistics. O(1) when the kernel keeps
    /// [`AddressSpace::table_mappings`] (one read lock, the counters);
    /// otherwise the VMAs are walked under the read lock for the table
    /// mappings. Resident bytes are a separate query,
    /// [`MpxManager::resident_table_bytes`].
    pub fn statistics(&self) -> Statistics {
        self.statistics_of(&self.lock.read())
    }

    /// The statistics, with `mm` already locked by the caller.
    pub(crate) fn statistics_of(&self, mm: &M) -> Statistics {
        let mappings = self.table_mappings_of(mm);
        let mut stats = self.counters.snapshot();
        stats.live_tables = mappings.count;
        stats.table_bytes_mapped = mappings.bytes;
        stats.would_deadlock = self.lock.would_deadlock_events();
        stats
    }

    /// The table mappings: the kernel's counters, or a walk of every VMA.
    pub(crate) fn table_mappings_of(&self, mm: &M) -> TableMappings {
        mm.table_mappings()
            .unwrap_or_else(|| self.walk_table_mappings(mm))
    }

    /// Tables among the VMAs (pieces of one table count once), by a walk:
    /// for fork and teardown, which copy or remove every VMA anyway.
    pub(crate) fn tables_of(&self, mm: &M) -> u64 {
        let mut tally = stats::TableTally::new(self.geometry.table_bytes());
        let mut tables = 0;
        let mut cursor = 0;
        while let Ok(Some(vma)) = walk::next_vma(mm, cursor, u64::MAX, &self.counters) {
            if let VmaKind::BoundsTable { directory_entry } = vma.kind {
                tables += u64::from(tally.is_new_table(vma.start, vma.end, directory_entry));
            }
            cursor = vma.end;
        }
        tables
    }

    /// [`TableMappings`] by walking every VMA (for kernels that do not count them).
    fn walk_table_mappings(&self, mm: &M) -> TableMappings {
        let mut mappings = TableMappings::default();
        let mut cursor = 0;
        while let Ok(Some(vma)) = walk::next_vma(mm, cursor, u64::MAX, &self.counters) {
            if vma.is_bounds_table() {
                mappings.count += 1;
                mappings.bytes += vma.end - vma.start;
            }
            cursor = vma.end;
        }
        mappings
    }
}

impl<M: Residency, T> MpxManager<M, T> {
    /// Bytes of bounds-table mappings backed by physical memory: a walk of
    /// every VMA under the read lock with one [`Residency::resident_bytes`]
    /// query per table mapping, so O(mappings) (a query apart from the O(1)
    /// [`MpxManager::statistics`] for that reason; call it when you report,
    /// not on every operation).
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

impl<M, T> fmt::Debug for MpxManager<M, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpxManager")
            .field("mode", &self.geometry.mode())
            .field("directory", &self.directory_base())
            .field("table_limit", &self.table_limit())
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
    use crate::mm::{AddressSpace, MmError, TableMappings, Vma, VmaKind};
    use crate::sim::SimAddressSpace;

    const PAGE: u64 = 4096;
    const TABLE: u64 = 4 << 20;
    const X: u64 = 1 << 36;

    /// The simulator's address space without its counters: the manager walks.
    struct Uncounted(SimAddressSpace);

    impl AddressSpace for Uncounted {
        fn vma_after(&self, address: u64) -> Option<Vma> {
            self.0.vma_after(address)
        }
        fn map_bounds_table(&mut self, len: u64, directory_entry: u64) -> Result<u64, MmError> {
            self.0.map_bounds_table(len, directory_entry)
        }
        fn unmap_bounds_table(&mut self, start: u64, end: u64) -> Result<(), MmError> {
            self.0.unmap_bounds_table(start, end)
        }
        fn release_pages(&mut self, start: u64, end: u64) -> u64 {
            self.0.release_pages(start, end)
        }
        fn is_populated(&self, address: u64) -> bool {
            self.0.is_populated(address)
        }
        fn fault_in(&self, address: u64, write: bool) -> Result<(), MmError> {
            self.0.fault_in(address, write)
        }
    }

    fn space(vmas: &[(u64, u64, u64)]) -> SimAddressSpace {
        let mut mm = SimAddressSpace::new(Mode::Long64);
        mm.insert(X - PAGE, X, VmaKind::Data);
        for &(start, end, entry) in vmas {
            mm.insert(
                start,
                end,
                VmaKind::BoundsTable {
                    directory_entry: entry,
                },
            );
        }
        mm
    }

    /// `(live_tables, table_bytes_mapped)` from the kernel's counters and
    /// from the manager's walk, which must agree.
    fn mappings(vmas: &[(u64, u64, u64)]) -> (u64, u64) {
        let counted = MpxManager::new(space(vmas), Mode::Long64, || 1).statistics();
        let walked = MpxManager::new(Uncounted(space(vmas)), Mode::Long64, || 1).statistics();
        assert_eq!(
            (counted.live_tables, counted.table_bytes_mapped),
            (walked.live_tables, walked.table_bytes_mapped)
        );
        (counted.live_tables, counted.table_bytes_mapped)
    }

    #[test]
    fn an_orphaned_piece_and_a_new_table_for_one_entry_count_twice() {
        // The review's case: a one-page piece left of a table split while
        // management was off, then a new table for the same entry right after.
        let piece_then_table = [(X, X + PAGE, 8), (X + PAGE, X + PAGE + TABLE, 8)];
        assert_eq!(mappings(&piece_then_table), (2, TABLE + PAGE));
        let table_then_piece = [(X, X + TABLE, 8), (X + TABLE, X + TABLE + PAGE, 8)];
        assert_eq!(mappings(&table_then_piece), (2, TABLE + PAGE));
    }

    #[test]
    fn every_table_mapping_counts() {
        let pieces = [
            (X, X + PAGE, 8),
            (X + 2 * PAGE, X + 5 * PAGE, 8),
            (X + TABLE - PAGE, X + TABLE, 8),
        ];
        assert_eq!(mappings(&pieces), (3, 5 * PAGE));
        assert_eq!(mappings(&[]), (0, 0));
        let tables = [(X, X + TABLE, 8), (X + TABLE, X + 2 * TABLE, 16)];
        assert_eq!(mappings(&tables), (2, 2 * TABLE));
    }

    #[test]
    fn the_kernels_counters_follow_splits_and_removals() {
        let mut mm = space(&[(X, X + TABLE, 8), (X + TABLE, X + 2 * TABLE, 16)]);
        // A user munmap in the middle of the first table (management off).
        mm.remove(X + PAGE, X + 2 * PAGE);
        assert_eq!(
            mm.table_mappings(),
            Some(TableMappings {
                count: 3,
                bytes: 2 * TABLE - PAGE
            })
        );
        mm.remove(X, X + 2 * TABLE);
        assert_eq!(mm.table_mappings(), Some(TableMappings::default()));
    }
}
