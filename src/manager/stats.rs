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
    pub(crate) table_unmap_failures: AtomicU64,
    pub(crate) contract_violations: AtomicU64,
    pub(crate) tables_inherited: AtomicU64,
    pub(crate) limit_refusals: AtomicU64,
}

impl Counters {
    pub(crate) const fn new() -> Counters {
        Counters {
            tables_allocated: AtomicU64::new(0),
            tables_freed: AtomicU64::new(0),
            races_lost: AtomicU64::new(0),
            bytes_released: AtomicU64::new(0),
            directory_bytes_released: AtomicU64::new(0),
            faults_resolved: AtomicU64::new(0),
            entries_read: AtomicU64::new(0),
            table_unmap_failures: AtomicU64::new(0),
            contract_violations: AtomicU64::new(0),
            tables_inherited: AtomicU64::new(0),
            limit_refusals: AtomicU64::new(0),
        }
    }

    /// Every counter back to zero (a new image after exec).
    pub(crate) fn reset(&self) {
        for counter in [
            &self.tables_allocated,
            &self.tables_freed,
            &self.races_lost,
            &self.bytes_released,
            &self.directory_bytes_released,
            &self.faults_resolved,
            &self.entries_read,
            &self.table_unmap_failures,
            &self.contract_violations,
            &self.tables_inherited,
            &self.limit_refusals,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
    }

    pub(crate) fn bump(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Ordering::Relaxed);
    }

    fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// The counters as a [`Statistics`], with the fields they do not keep zero.
    pub(crate) fn snapshot(&self) -> Statistics {
        Statistics {
            tables_allocated: Self::get(&self.tables_allocated),
            tables_freed: Self::get(&self.tables_freed),
            races_lost: Self::get(&self.races_lost),
            bytes_released: Self::get(&self.bytes_released),
            directory_bytes_released: Self::get(&self.directory_bytes_released),
            faults_resolved: Self::get(&self.faults_resolved),
            directory_entries_read: Self::get(&self.entries_read),
            table_unmap_failures: Self::get(&self.table_unmap_failures),
            contract_violations: Self::get(&self.contract_violations),
            tables_inherited: Self::get(&self.tables_inherited),
            limit_refusals: Self::get(&self.limit_refusals),
            ..Statistics::default()
        }
    }
}

/// Counts tables among bounds-table VMAs met in address order.
///
/// A VMA of a whole table's size is a table of its own. Smaller pieces (a
/// user munmap split a table while management was off) lie within one
/// table's size of each other and carry the same entry: consecutive such
/// pieces are one table.
pub(crate) struct TableTally {
    table_bytes: u64,
    /// `(entry, start)` of the first piece of the table being counted.
    previous_piece: Option<(u64, u64)>,
}

impl TableTally {
    pub(crate) const fn new(table_bytes: u64) -> TableTally {
        TableTally {
            table_bytes,
            previous_piece: None,
        }
    }

    /// Whether the bounds-table VMA `[start, end)` made for `entry`, the next
    /// one in address order, starts a table not counted yet.
    pub(crate) fn is_new_table(&mut self, start: u64, end: u64, entry: u64) -> bool {
        if end.wrapping_sub(start) >= self.table_bytes {
            self.previous_piece = None;
            return true;
        }
        let same_table = self
            .previous_piece
            .is_some_and(|(e, first)| e == entry && end.wrapping_sub(first) <= self.table_bytes);
        if !same_table {
            self.previous_piece = Some((entry, start));
        }
        !same_table
    }
}

/// A snapshot of one process's bounds-table bookkeeping.
///
/// Non-exhaustive: counters may be added; read the fields you need.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Statistics {
    /// Bounds-table mappings alive: the VMAs tagged as tables, as the kernel
    /// counts them ([`AddressSpace::table_mappings`](crate::mm::AddressSpace::table_mappings)).
    /// A table is one mapping; only a table split by a user munmap while
    /// management was off is several. Equals `tables_allocated -
    /// tables_freed` unless tables were split or unmapped while management
    /// was off. The books: `tables_inherited + tables_allocated = tables_freed
    /// + live_tables` under the same condition.
    pub live_tables: u64,
    /// Bytes of address space in bounds-table mappings.
    pub table_bytes_mapped: u64,
    /// Tables installed in a directory entry, over the process's life.
    pub tables_allocated: u64,
    /// Installed tables freed: by the unmap hook, because the user unmapped
    /// them while management was on (also tables their entry no longer
    /// names, and tables of an earlier directory: counted when their last
    /// mapping goes), or at [`teardown`](crate::manager::MpxWriteGuard::teardown),
    /// which counts every table not counted yet.
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
    /// Tables the manager failed to unmap after a lost race or a corrupt
    /// entry (the kernel's `unmap_bounds_table` refused): each is also an
    /// error returned to the #BR handler. A correct kernel keeps this at 0.
    pub table_unmap_failures: u64,
    /// Times the kernel broke the [`AddressSpace`](crate::mm::AddressSpace)
    /// contract during a walk (a VMA not above the cursor, a populated page
    /// outside the range asked for): the walk stopped there, with an error
    /// where the operation returns one. A correct kernel keeps this at 0.
    pub contract_violations: u64,
    /// Tables this process started with: copied from its parent at
    /// [`MpxWriteGuard::fork`](crate::manager::MpxWriteGuard::fork).
    pub tables_inherited: u64,
    /// #BRs refused because the process was at its table limit
    /// ([`MpxManager::set_table_limit`](crate::manager::MpxManager::set_table_limit)).
    pub limit_refusals: u64,
}
