//! Counters the manager keeps, and the statistics snapshot it reports.

use core::sync::atomic::{AtomicU64, Ordering};

/// Lock-free event counters, bumped on the hot paths.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) tables_allocated: AtomicU64,
    pub(crate) tables_freed: AtomicU64,
    pub(crate) races_lost: AtomicU64,
    pub(crate) bytes_released: AtomicU64,
    pub(crate) directory_bytes_released: AtomicU64,
    pub(crate) faults_resolved: AtomicU64,
    pub(crate) entries_read: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Ordering::Relaxed);
    }

    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// A snapshot of one process's bounds-table bookkeeping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statistics {
    /// Bounds-table mappings alive, counted from the VMAs (pieces of one
    /// table split by a user munmap count once). Equals `tables_allocated -
    /// tables_freed` unless tables went without the manager freeing them:
    /// unmapped while management was off, or orphaned by the user clearing
    /// their entry first.
    pub live_tables: u64,
    /// Bytes of address space in bounds-table mappings.
    pub table_bytes_mapped: u64,
    /// Bytes of bounds-table mappings backed by physical memory.
    pub table_bytes_resident: u64,
    /// Tables installed in a directory entry, over the process's life.
    pub tables_allocated: u64,
    /// Installed tables freed (by the unmap hook, or because the user unmapped them).
    pub tables_freed: u64,
    /// #BRs for an empty entry that found, once holding the mm lock for
    /// write (or at the compare-exchange), a table another thread had
    /// installed meanwhile: no table of theirs stays mapped.
    pub races_lost: u64,
    /// Physical bytes released from tables that stay mapped (partial unmaps).
    pub bytes_released: u64,
    /// Physical bytes of directory pages released by unmaps that left every
    /// entry in them zero.
    pub directory_bytes_released: u64,
    /// Faults on directory entries resolved by faulting the page in and retrying.
    pub faults_resolved: u64,
    /// Times the page-fault path found the mm lock held for write by its own
    /// context (a deadlock avoided); must stay 0.
    pub would_deadlock: u64,
    /// Directory entries read by the manager.
    pub directory_entries_read: u64,
}
