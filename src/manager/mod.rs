//! `MpxManager`: one process's bounds tables, allocated on #BR and freed on unmap.
//!
//! # Locking and races
//! - [`MpxManager::enable`], [`MpxManager::disable`] and
//!   [`MpxManager::notify_unmap`] need the mm lock held for write: they take
//!   `&mut MmWriteGuard`.
//! - [`MpxManager::handle_bounds_fault`] (and [`MpxManager::handle_br`]) is
//!   called from the #BR handler with *no* mm lock held. It reads the entry
//!   first (resolving faults under a read lock), then takes the lock for
//!   write, checks again that management is on, the entry is in the current
//!   directory and still empty, and maps a table and installs it with a
//!   compare-exchange on the directory entry: a compare-exchange, because
//!   the entry is user memory that other threads (and the CPU) use
//!   concurrently; under the write lock, so that no munmap, enable or
//!   disable can come between the checks, the mapping and the install.
//!   Outcomes of the exchange:
//!   - `0 → table|valid`: installed.
//!   - the entry became valid meanwhile: another thread won the race; our
//!     table is unmapped and the fault counts as handled (the instruction
//!     retries and uses the winner's table).
//!   - the entry holds anything else: corruption; our table is unmapped and
//!     the process gets an error (Linux: SIGSEGV).
//! - Directory entries are touched only through
//!   [`UserAccess`](crate::mm::UserAccess) (page faults disabled); a fault is
//!   resolved with [`AddressSpace::fault_in`]
//!   under the lock the caller holds (or a read lock the #BR path takes) and
//!   the access retried. Nothing here enters the page-fault path.
//!
//! # Trust
//! The directory is user memory and BNDSTATUS can be loaded by the user
//! (XRSTOR), so every entry value and every status is checked before use: the
//! manager only ever unmaps a VMA that the kernel reports as a bounds table
//! mapped for that very directory entry, and only ever writes entries inside
//! the directory recorded at [`MpxManager::enable`].

mod access;
mod fault;
mod stats;
mod unmap;

pub use fault::{BoundsFault, BoundsFaultError, BrOutcome};
pub use stats::Statistics;
pub use unmap::{UnmapError, UnmapSummary};

use crate::arch::{Bndcfg, Geometry, Mode};
use crate::lock::{MmLock, MmWriteGuard};
use crate::mm::{AddressSpace, VmaKind};
use core::sync::atomic::{AtomicU64, Ordering};
use stats::Counters;

/// Sentinel for "not managing" (Linux: `MPX_INVALID_BOUNDS_DIR`); zero is a
/// legal directory address in principle, so it cannot be the sentinel.
const NOT_MANAGED: u64 = u64::MAX;

/// Why [`MpxManager::enable`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// Bounds-table management for one process (Linux: `mm->context.bd_addr`
/// and `arch/x86/mm/mpx.c`).
#[derive(Debug)]
pub struct MpxManager {
    geometry: Geometry,
    directory: AtomicU64,
    counters: Counters,
}

impl MpxManager {
    /// A manager for a process of the given mode, not yet managing.
    pub const fn new(mode: Mode) -> MpxManager {
        MpxManager {
            geometry: Geometry::of(mode),
            directory: AtomicU64::new(NOT_MANAGED),
            counters: Counters {
                tables_allocated: AtomicU64::new(0),
                tables_freed: AtomicU64::new(0),
                races_lost: AtomicU64::new(0),
                bytes_released: AtomicU64::new(0),
                directory_bytes_released: AtomicU64::new(0),
                faults_resolved: AtomicU64::new(0),
                entries_read: AtomicU64::new(0),
            },
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

    /// Starts managing the process's bounds tables (Linux:
    /// `PR_MPX_ENABLE_MANAGEMENT`).
    ///
    /// `config` is the process's BNDCFGU as saved (a BNDCSR component in its
    /// init state is all zero, hence disabled). `effective_base` is the
    /// directory address the CPU really walks: the architectural
    /// [`Bndcfg::base`] on SDM-conforming CPUs; the kernel, which knows its
    /// CPU, decides (QEMU, for one, decodes the field differently). Calling it
    /// again replaces the recorded directory.
    pub fn enable<M: AddressSpace>(
        &self,
        mm: &mut MmWriteGuard<'_, M>,
        config: Bndcfg,
        effective_base: u64,
    ) -> Result<(), EnableError> {
        if !config.is_enabled() {
            return Err(EnableError::MpxDisabled);
        }
        if config.has_reserved_bits() {
            return Err(EnableError::ReservedBits);
        }
        if effective_base & (crate::arch::layout::PAGE_SIZE - 1) != 0 {
            return Err(EnableError::Misaligned);
        }
        let end = effective_base
            .checked_add(self.geometry.directory_bytes())
            .filter(|&end| end <= self.geometry.address_limit())
            .ok_or(EnableError::OutOfRange)?;
        if !covered_by_data(&**mm, effective_base, end) {
            return Err(EnableError::DirectoryNotMapped);
        }
        self.directory.store(effective_base, Ordering::Release);
        Ok(())
    }

    /// Stops managing (Linux: `PR_MPX_DISABLE_MANAGEMENT`): later #BRs get
    /// [`BoundsFaultError::NotManaged`] and unmaps leave tables alone. Tables
    /// already mapped stay mapped, as ordinary memory of the process.
    pub fn disable<M: AddressSpace>(&self, _mm: &mut MmWriteGuard<'_, M>) {
        self.directory.store(NOT_MANAGED, Ordering::Release);
    }

    /// A snapshot of the statistics, walking the VMAs under a read lock for
    /// the live tables and the mapped and resident table bytes.
    pub fn statistics<M: AddressSpace>(&self, lock: &MmLock<M>) -> Statistics {
        let (live, mapped, resident) = {
            let mm = lock.read();
            let (mut live, mut mapped, mut resident) = (0, 0, 0);
            // The table the previous table VMA belonged to: pieces of a table
            // a user munmap split in two count once.
            let mut previous: Option<(u64, u64)> = None;
            let mut cursor = 0;
            while let Some(vma) = mm.vma_after(cursor) {
                if let VmaKind::BoundsTable { directory_entry } = vma.kind {
                    let same_table = previous.is_some_and(|(entry, table_end)| {
                        entry == directory_entry && vma.start < table_end
                    });
                    if !same_table {
                        live += 1;
                        let table_end = vma.start.saturating_add(self.geometry.table_bytes());
                        previous = Some((directory_entry, table_end));
                    }
                    mapped += vma.end - vma.start;
                    resident += mm.resident_bytes(vma.start, vma.end);
                }
                cursor = vma.end;
            }
            (live, mapped, resident)
        };
        let c = &self.counters;
        let allocated = Counters::get(&c.tables_allocated);
        let freed = Counters::get(&c.tables_freed);
        Statistics {
            live_tables: live,
            table_bytes_mapped: mapped,
            table_bytes_resident: resident,
            tables_allocated: allocated,
            tables_freed: freed,
            races_lost: Counters::get(&c.races_lost),
            bytes_released: Counters::get(&c.bytes_released),
            directory_bytes_released: Counters::get(&c.directory_bytes_released),
            faults_resolved: Counters::get(&c.faults_resolved),
            would_deadlock: lock.would_deadlock_events(),
            directory_entries_read: Counters::get(&c.entries_read),
        }
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

/// Whether ordinary (non-table) VMAs cover `[start, end)` without a hole.
fn covered_by_data<M: AddressSpace + ?Sized>(mm: &M, start: u64, end: u64) -> bool {
    let mut cursor = start;
    while cursor < end {
        match mm.vma_after(cursor) {
            Some(vma) if vma.start <= cursor && vma.kind == VmaKind::Data => cursor = vma.end,
            _ => return false,
        }
    }
    true
}
