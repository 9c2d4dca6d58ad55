//! The unmap hook: free the tables that covered an unmapped range.
//!
//! [`MpxWriteGuard::munmap`](super::MpxWriteGuard::munmap) runs the hook
//! ([`UnmapWalk`]) with the mm lock held for write. The walk looks at the VMAs
//! as they are before the range goes, then removes the range itself:
//! 1. **Data spans.** Each span (the addresses one directory entry covers)
//!    that meets the range is examined, reading only directory pages that may
//!    hold entries ([`AddressSpace::next_populated_page`]), so the cost follows
//!    the populated part of the directory, not the size of the range. Spans
//!    whose unmapped part is all bounds-table memory are skipped: no table is
//!    ever looked for on behalf of a table, so nesting never exceeds one level.
//!    - no table: nothing to do;
//!    - the entry must point at the start of a bounds-table mapping of
//!      exactly table size, mapped for this entry; otherwise an error and
//!      nothing is touched;
//!    - no ordinary mapping left anywhere in the span: clear the entry
//!      (compare-exchange, retried while the entry still names the table;
//!      already zero counts as done), then unmap the table;
//!    - otherwise: release the table pages that only describe addresses no
//!      mapping uses any more (the unmapped part, widened to the whole hole
//!      it leaves in the span), and keep the table.
//! 2. **The directory itself.** Entries in the unmapped part of the directory
//!    are about to disappear: every table made for one of them is freed
//!    (found by the VMAs' entry tags), since nothing could ever reach or free
//!    it afterwards. (Linux left those tables mapped until the process ended.)
//! 3. **Tables in the range** (the user unmaps bounds tables): for each one
//!    whose directory entry still names it, the entry is cleared first (so the
//!    CPU never walks freed memory, and the next store simply gets a new
//!    table) and every piece of the table is unmapped, also outside the range.
//!    A table whose entry cannot be cleared (its directory page cannot be made
//!    present, or the entry keeps changing while still naming it) is **kept**:
//!    left mapped with its entry, and reported. A table whose entry no longer
//!    names it, whose entry's directory page is unmapped, or that belongs to
//!    an earlier directory goes with the range like any mapping.
//! 4. **Removal.** The kernel's `remove` runs for the range minus the tables
//!    step 3 kept.
//!
//! The invariant, after any unmap under any fault or race: every valid entry
//! of the managed directory that the manager wrote names a live table mapping
//! of exact table size made for that entry, and no table the manager freed
//! stays mapped.

use super::access::{Entries, EntryAccessError};
use super::stats::{Counters, TableTally};
use super::walk::{next_populated, next_vma, Broken};
use super::MpxManager;
use crate::arch::entry::EntryState;
use crate::arch::layout::PAGE_SIZE;
use crate::arch::{DirectoryEntry, Geometry};
use crate::mm::{AddressSpace, MmError, UserAccess, Vma, VmaKind};
use crate::trace::{Trace, TraceEvent};
use core::fmt;

/// Directory entries the hook reads with one bulk access (within a page); a
/// chunk of zeros is skipped with one test.
const CHUNK: usize = 64;

/// Times an entry that changes under the hook, while still naming the table
/// being freed, is read again before the table is kept instead.
const CLEAR_ATTEMPTS: usize = 8;

/// What one call of the unmap hook did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnmapSummary {
    /// Tables freed whole.
    pub tables_freed: u64,
    /// Tables kept, with some of their pages released.
    pub tables_trimmed: u64,
    /// Tables the user unmapped that stay mapped because their entry could
    /// not be cleared (reported in the result as well).
    pub tables_kept: u64,
    /// Physical bytes released from kept tables.
    pub bytes_released: u64,
    /// Physical bytes of directory pages released because every entry in
    /// them was zero and the unmapped range covered all their spans.
    pub directory_bytes_released: u64,
    /// Directory entries read.
    pub entries_read: u64,
}

/// Why the unmap hook failed for a span or a table. The hook carries on with
/// the others and returns the first error; the span or table named here is
/// left as it was (a table the user unmapped stays mapped, with its entry),
/// except after [`UnmapError::Mm`] and [`UnmapError::EntryChanged`], which can
/// come after the entry was cleared or after the table was freed. Linux sent
/// SIGSEGV.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnmapError {
    /// An entry holds address bits without the valid bit.
    CorruptEntry {
        /// Address of the directory entry.
        entry: u64,
        /// Its value.
        value: u64,
    },
    /// A valid entry does not point at the start of a whole bounds table
    /// mapped for it: the memory it points at is left alone.
    NotATable {
        /// Address of the directory entry.
        entry: u64,
        /// The address it points at.
        table: u64,
    },
    /// The entry kept changing while being cleared: either it still named the
    /// table after every attempt (the table is kept), or it now names
    /// something else, which is left alone (the table, no longer referenced,
    /// is freed).
    EntryChanged {
        /// Address of the directory entry.
        entry: u64,
        /// The value found last.
        value: u64,
    },
    /// A directory page could not be made present (the rest of that page of
    /// entries is skipped too; a table the user unmapped is kept).
    DirectoryUnreachable {
        /// Address of the directory entry.
        entry: u64,
    },
    /// The kernel failed to unmap or release table memory.
    Mm(MmError),
    /// The kernel broke the [`AddressSpace`] contract (a VMA that does not lie
    /// above the walk's cursor, a populated page outside the range asked for):
    /// the walk stopped there. Counted in
    /// [`Statistics::contract_violations`](super::Statistics::contract_violations).
    BrokenContract,
}

impl fmt::Display for UnmapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnmapError::CorruptEntry { entry, value } => {
                write!(f, "corrupt bounds-directory entry {entry:#x} = {value:#x}")
            }
            UnmapError::NotATable { entry, table } => write!(
                f,
                "bounds-directory entry {entry:#x} names {table:#x}, not a bounds table mapped for it"
            ),
            UnmapError::EntryChanged { entry, value } => write!(
                f,
                "bounds-directory entry {entry:#x} changed to {value:#x} while being cleared"
            ),
            UnmapError::DirectoryUnreachable { entry } => {
                write!(f, "bounds-directory entry {entry:#x} cannot be made present")
            }
            UnmapError::Mm(error) => write!(f, "bounds-table memory not freed: {error}"),
            UnmapError::BrokenContract => {
                f.write_str("the kernel's address space broke its contract during the unmap")
            }
        }
    }
}

impl From<Broken> for UnmapError {
    fn from(_: Broken) -> UnmapError {
        UnmapError::BrokenContract
    }
}

/// How clearing an entry that named a table ended.
enum Cleared {
    /// The entry is zero now (cleared here, or by the user).
    Zero,
    /// The entry names something else now (left alone): the table is free.
    Other(u64),
}

/// One run of the unmap hook over `[start, end)`: the manager, the mm under
/// the write lock, the directory entries, and what the run did so far.
pub(crate) struct UnmapWalk<'a, M, U, T> {
    manager: &'a MpxManager<M, T>,
    geometry: Geometry,
    mm: &'a mut M,
    entries: Entries<'a, U, T>,
    base: u64,
    start: u64,
    end: u64,
    summary: UnmapSummary,
    failure: Option<UnmapError>,
}

impl<'a, M: AddressSpace, U: UserAccess, T: Trace> UnmapWalk<'a, M, U, T> {
    /// A run for the directory at `base` (management is on).
    pub(crate) fn new(
        manager: &'a MpxManager<M, T>,
        mm: &'a mut M,
        user: &'a U,
        base: u64,
        start: u64,
        end: u64,
    ) -> Self {
        let geometry = manager.geometry;
        UnmapWalk {
            manager,
            geometry,
            mm,
            entries: Entries::new(
                user,
                geometry.entry_width(),
                &manager.counters,
                &manager.trace,
            ),
            base,
            start,
            end,
            summary: UnmapSummary::default(),
            failure: None,
        }
    }

    /// Runs the steps and the removal (`remove`, the kernel's own unmap of a
    /// range); the summary, or the first error.
    pub(crate) fn run(
        mut self,
        remove: &mut impl FnMut(&mut M, u64, u64),
    ) -> Result<UnmapSummary, UnmapError> {
        self.manager.emit(TraceEvent::UnmapSearch {
            start: self.start,
            end: self.end,
        });
        let described_end = self.end.min(self.geometry.address_limit());
        if self.start < described_end {
            self.free_tables_for_range(self.start, described_end);
        }
        self.free_tables_of_directory_part();
        self.unmap_tables_in_range();
        self.remove_all_but_kept(remove);
        match self.failure {
            Some(e) => Err(e),
            None => Ok(self.summary),
        }
    }

    /// Records `error` if it is the first; the walk carries on.
    fn fail(&mut self, error: UnmapError) {
        self.failure.get_or_insert(error);
    }

    fn counters(&self) -> &'a Counters {
        &self.manager.counters
    }

    fn vma(&self, cursor: u64, limit: u64) -> Result<Option<Vma>, Broken> {
        next_vma(&*self.mm, cursor, limit, self.counters())
    }

    /// Clears `entry`, which held `value` naming `table`: compare-exchange to
    /// zero, read again and retried while the entry still names the table
    /// (the user may change bits that do not change the table).
    fn clear_entry(&mut self, entry: u64, value: u64, table: u64) -> Result<Cleared, UnmapError> {
        let mut current = value;
        for _ in 0..CLEAR_ATTEMPTS {
            match self.entries.exchange(&*self.mm, entry, current, 0) {
                Ok(Ok(_)) | Ok(Err(0)) => return Ok(Cleared::Zero),
                Ok(Err(actual)) => match DirectoryEntry::from_raw(actual).state(&self.geometry) {
                    EntryState::Table(t) if t == table => current = actual,
                    _ => return Ok(Cleared::Other(actual)),
                },
                Err(e) => return Err(entry_error(entry, e)),
            }
        }
        Err(UnmapError::EntryChanged {
            entry,
            value: current,
        })
    }

    /// Step 3: the range holds bounds tables.
    fn unmap_tables_in_range(&mut self) {
        let mut cursor = self.start;
        loop {
            let vma = match self.vma(cursor, self.end) {
                Ok(Some(vma)) => vma,
                Ok(None) => break,
                Err(broken) => {
                    self.fail(broken.into());
                    break;
                }
            };
            cursor = vma.end;
            let VmaKind::BoundsTable { directory_entry } = vma.kind else {
                continue;
            };
            let (a, b) = (vma.start.max(self.start), vma.end.min(self.end));
            if let Err(e) = self.table_in_range(vma, directory_entry, a, b) {
                self.fail(e);
            }
        }
    }

    /// One bounds-table VMA `vma` (tagged for `directory_entry`) meeting the
    /// range in `[a, b)`: freed, or kept (an error says why).
    fn table_in_range(
        &mut self,
        vma: Vma,
        directory_entry: u64,
        a: u64,
        b: u64,
    ) -> Result<(), UnmapError> {
        // Nobody else's to judge: a table of an earlier directory, or one its
        // entry no longer names, goes with the range like any mapping.
        let in_range_only = |walk: &mut Self| {
            walk.mm.unmap_bounds_table(a, b).map_err(UnmapError::Mm)?;
            walk.count_if_last_piece(vma, directory_entry, a, b);
            Ok(())
        };
        if self.manager.entry_in_directory(directory_entry).is_none() {
            return in_range_only(self);
        }
        let value = match self.entries.read(&*self.mm, directory_entry) {
            Ok(value) => value,
            Err(_) if !self.entry_is_mapped(directory_entry) => return in_range_only(self),
            Err(e) => {
                self.summary.tables_kept += 1;
                return Err(entry_error(directory_entry, e));
            }
        };
        self.summary.entries_read += 1;
        let table = match DirectoryEntry::from_raw(value).state(&self.geometry) {
            EntryState::Table(table) => table,
            _ => return in_range_only(self),
        };
        let table_end = table.saturating_add(self.geometry.table_bytes());
        if !vma.overlaps(table, table_end) {
            return in_range_only(self);
        }
        match self.clear_entry(directory_entry, value, table) {
            Ok(cleared) => {
                // The entry no longer names the table: free every piece of it.
                self.unmap_table_pieces(table, table_end, directory_entry)?;
                Counters::bump(&self.counters().tables_freed, 1);
                self.manager.emit(TraceEvent::TableFreed {
                    entry: directory_entry,
                    table,
                });
                self.summary.tables_freed += 1;
                match cleared {
                    Cleared::Zero => Ok(()),
                    Cleared::Other(value) => Err(UnmapError::EntryChanged {
                        entry: directory_entry,
                        value,
                    }),
                }
            }
            Err(e) => {
                self.summary.tables_kept += 1;
                Err(e)
            }
        }
    }

    /// Unmaps the VMAs in `[table, table_end)` that are pieces of the table
    /// mapped for `directory_entry`, and nothing else.
    fn unmap_table_pieces(
        &mut self,
        table: u64,
        table_end: u64,
        directory_entry: u64,
    ) -> Result<(), UnmapError> {
        let mut cursor = table;
        while let Some(piece) = self.vma(cursor, table_end)? {
            cursor = piece.end;
            if piece.kind == (VmaKind::BoundsTable { directory_entry }) {
                self.mm
                    .unmap_bounds_table(piece.start, piece.end)
                    .map_err(UnmapError::Mm)?;
            }
        }
        Ok(())
    }

    /// Step 4: the kernel's removal of the range, minus the bounds tables
    /// still mapped in it (step 3 unmapped every other one: these are kept).
    fn remove_all_but_kept(&mut self, remove: &mut impl FnMut(&mut M, u64, u64)) {
        // Everything in [start, from) is removed or kept already.
        let mut from = self.start;
        let mut cursor = self.start;
        loop {
            match self.vma(cursor, self.end) {
                Ok(Some(vma)) => {
                    cursor = vma.end;
                    if vma.is_bounds_table() {
                        let kept_start = vma.start.max(from);
                        if from < kept_start {
                            remove(self.mm, from, kept_start);
                        }
                        from = vma.end.min(self.end).max(from);
                    }
                }
                Ok(None) => break,
                Err(broken) => {
                    // Without a trustworthy VMA list nothing can be told
                    // apart: the rest goes.
                    self.fail(broken.into());
                    break;
                }
            }
        }
        if from < self.end {
            remove(self.mm, from, self.end);
        }
    }

    /// Step 1: walk the directory entries for `[start, end)`, skipping
    /// directory pages that hold nothing.
    fn free_tables_for_range(&mut self, start: u64, end: u64) {
        let g = self.geometry;
        let width = g.directory_entry_bytes();
        let mut entry = self.base + g.directory_entry_offset(start);
        let last = self.base + g.directory_entry_offset(end - 1) + width;
        while entry < last {
            let page = match next_populated(&*self.mm, entry, last, self.counters()) {
                Ok(Some(page)) => page,
                Ok(None) => break,
                Err(broken) => {
                    self.fail(broken.into());
                    break;
                }
            };
            entry = entry.max(page);
            let page_end = (page + PAGE_SIZE).min(last);
            // Whether every entry of this directory page is read here and
            // found (or left) zero: then the page itself can go.
            let mut page_clear = entry == page && page_end == page + PAGE_SIZE;
            while entry < page_end {
                let n = (((page_end - entry) / width) as usize).min(CHUNK);
                let mut chunk = [0u64; CHUNK];
                let values = &mut chunk[..n];
                if let Err(e) = self.entries.read_many(&*self.mm, entry, values) {
                    // The rest of this page is as unreachable; a page with no
                    // mapping holds no entries at all.
                    if self.entry_is_mapped(entry) {
                        self.fail(entry_error(entry, e));
                    }
                    page_clear = false;
                    break;
                }
                self.summary.entries_read += n as u64;
                // Most chunks of a sparse directory are all zero: one test.
                if values.iter().fold(0, |any, v| any | v) != 0 {
                    for (i, &value) in values.iter().enumerate() {
                        if value == 0 {
                            continue;
                        }
                        let at = entry + i as u64 * width;
                        match self.free_span(at, value, (at - self.base) / width) {
                            Ok(cleared) => page_clear &= cleared,
                            Err(e) => {
                                self.fail(e);
                                page_clear = false;
                            }
                        }
                    }
                }
                entry += n as u64 * width;
            }
            entry = entry.max(page_end);
            if page_clear {
                // A directory page of zeros, for addresses nothing is mapped
                // at any more: give its memory back (it reads as zeros, as
                // before) and let later unmaps skip it. Safe under the write
                // lock: the manager writes entries only while holding it,
                // and the CPU only reads them.
                let released = self.mm.release_pages(page, page + PAGE_SIZE);
                Counters::bump(&self.counters().directory_bytes_released, released);
                self.summary.directory_bytes_released += released;
            }
        }
    }

    /// One span whose entry is non-zero. Returns whether its entry is now
    /// zero (the table was freed, or there was none).
    fn free_span(&mut self, entry: u64, value: u64, index: u64) -> Result<bool, UnmapError> {
        let g = self.geometry;
        let table = match DirectoryEntry::from_raw(value).state(&g) {
            EntryState::Absent => return Ok(true),
            EntryState::Corrupt(value) => {
                self.manager.emit(TraceEvent::CorruptEntry { entry, value });
                return Err(UnmapError::CorruptEntry { entry, value });
            }
            EntryState::Table(table) => table,
        };
        let span_start = g.span_start(index);
        let span_end = span_start + g.span_bytes();
        // The unmapped part of the span is all bounds-table memory: no table
        // is looked for on behalf of tables.
        if self.only_tables(span_start.max(self.start), span_end.min(self.end))? {
            return Ok(false);
        }
        if !self.is_whole_table(table, entry)? {
            return Err(UnmapError::NotATable { entry, table });
        }
        let (hole_start, hole_end) = match self.hole_left(span_start, span_end)? {
            None => {
                self.free_whole_table(entry, value, table)?;
                return Ok(true);
            }
            Some(hole) => hole,
        };
        // Keep the table; release the pages describing only the hole.
        // Data bytes described by one table entry (8 or 4).
        let slot = g.span_bytes() / g.table_entries();
        let entry_bytes_ceil = |offset: u64| g.table_offset_for_span_offset(offset + slot - 1);
        let release_start =
            (table + entry_bytes_ceil(hole_start - span_start)).next_multiple_of(PAGE_SIZE);
        let release_end =
            (table + g.table_offset_for_span_offset(hole_end - span_start)) & !(PAGE_SIZE - 1);
        if release_start < release_end {
            let released = self.mm.release_pages(release_start, release_end);
            self.manager.emit(TraceEvent::UnmapZap {
                start: release_start,
                end: release_end,
            });
            Counters::bump(&self.counters().bytes_released, released);
            self.summary.bytes_released += released;
        }
        self.summary.tables_trimmed += 1;
        Ok(false)
    }

    /// After `[a, b)` of the table VMA `vma` (tagged for `entry`) went with
    /// the range on the kernel's side (a table its entry no longer names, or
    /// of an earlier directory, or whose entry's memory is gone): if that was
    /// the table's last mapping (no piece tagged for the same entry left
    /// within a table's size), the table is freed, and counted so that the
    /// books balance.
    fn count_if_last_piece(&mut self, vma: Vma, entry: u64, a: u64, b: u64) {
        if a > vma.start || b < vma.end {
            return;
        }
        let reach = self.geometry.table_bytes();
        let tag = VmaKind::BoundsTable {
            directory_entry: entry,
        };
        let (from, to) = (
            vma.start.saturating_sub(reach),
            vma.end.saturating_add(reach),
        );
        let mut cursor = from;
        loop {
            match self.vma(cursor, to) {
                Ok(Some(other)) if other.start < to => {
                    if other.kind == tag {
                        return;
                    }
                    cursor = other.end;
                }
                Ok(_) => break,
                // A lying kernel: not counted (the contract counter says why).
                Err(_) => return,
            }
        }
        Counters::bump(&self.counters().tables_freed, 1);
        self.summary.tables_freed += 1;
        self.manager.emit(TraceEvent::TableFreed {
            entry,
            table: vma.start,
        });
    }

    /// Whether a bounds-table mapping of exactly table size, made for
    /// `entry`, starts at `table`.
    fn is_whole_table(&self, table: u64, entry: u64) -> Result<bool, Broken> {
        let expected = VmaKind::BoundsTable {
            directory_entry: entry,
        };
        let size = self.geometry.table_bytes();
        Ok(self.vma(table, u64::MAX)?.is_some_and(|v| {
            v.start == table && v.end.wrapping_sub(v.start) == size && v.kind == expected
        }))
    }

    /// Whether bounds-table mappings cover all of `[a, b)`.
    fn only_tables(&self, a: u64, b: u64) -> Result<bool, Broken> {
        let mut cursor = a;
        while cursor < b {
            match self.vma(cursor, b)? {
                Some(vma) if vma.start <= cursor && vma.is_bounds_table() => cursor = vma.end,
                _ => return Ok(false),
            }
        }
        Ok(true)
    }

    fn free_whole_table(&mut self, entry: u64, value: u64, table: u64) -> Result<(), UnmapError> {
        let cleared = self.clear_entry(entry, value, table)?;
        self.mm
            .unmap_bounds_table(table, table + self.geometry.table_bytes())
            .map_err(UnmapError::Mm)?;
        Counters::bump(&self.counters().tables_freed, 1);
        self.manager.emit(TraceEvent::TableFreed { entry, table });
        self.summary.tables_freed += 1;
        match cleared {
            Cleared::Zero => Ok(()),
            // The table, checked to be this entry's, is referenced by nothing
            // now; what the entry holds instead is the user's.
            Cleared::Other(value) => Err(UnmapError::EntryChanged { entry, value }),
        }
    }

    /// Step 2: the unmapped part of the directory itself. Every table made
    /// for an entry in that part goes: once the entry's memory is removed
    /// (step 4, under the same write lock) nothing could reach or free such a
    /// table. The tables are found by their VMAs' entry tags, not by reading
    /// the entries, so neither a directory page that cannot be made present
    /// nor an entry the user rewrote hides one.
    ///
    /// The entries are not cleared first: they go with the removal. A CPU
    /// walking one meanwhile finds its table unmapped and page-faults; the
    /// fault waits for the write lock, and by then the entry is gone too.
    fn free_tables_of_directory_part(&mut self) {
        let g = self.geometry;
        let (from, to) = (
            self.start.max(self.base),
            self.end.min(self.base + g.directory_bytes()),
        );
        if from >= to {
            return;
        }
        // Counts tables exactly as `MpxManager::statistics` does, so that the
        // books (allocated = freed + live) stay balanced.
        let mut tally = TableTally::new(g.table_bytes());
        let mut cursor = 0;
        loop {
            let vma = match self.vma(cursor, u64::MAX) {
                Ok(Some(vma)) => vma,
                Ok(None) => break,
                Err(broken) => {
                    self.fail(broken.into());
                    break;
                }
            };
            cursor = vma.end;
            let VmaKind::BoundsTable { directory_entry } = vma.kind else {
                continue;
            };
            let new_table = tally.is_new_table(vma.start, vma.end, directory_entry);
            if directory_entry < from || directory_entry >= to {
                continue;
            }
            match self.mm.unmap_bounds_table(vma.start, vma.end) {
                Ok(()) if new_table => {
                    Counters::bump(&self.counters().tables_freed, 1);
                    self.manager.emit(TraceEvent::TableFreed {
                        entry: directory_entry,
                        table: vma.start,
                    });
                    self.summary.tables_freed += 1;
                }
                Ok(()) => {}
                Err(e) => self.fail(UnmapError::Mm(e)),
            }
        }
    }

    /// Whether the directory entry at `entry` is memory at all. A directory
    /// page the user unmapped holds no entry (the CPU faults on it): a table
    /// made for one of its entries is named by nothing.
    fn entry_is_mapped(&self, entry: u64) -> bool {
        // A broken contract answers "mapped": the cautious answer (keep).
        self.vma(entry, entry.saturating_add(1))
            .map_or(true, |v| v.is_some_and(|v| v.start <= entry))
    }

    /// The hole that unmapping `[start, end)` leaves in the span
    /// `[span_start, span_end)`: the largest range around the unmapped part
    /// with no ordinary mapping left in it. `None` when no ordinary mapping is
    /// left in the span at all (bounds tables never count).
    fn hole_left(&self, span_start: u64, span_end: u64) -> Result<Option<(u64, u64)>, Broken> {
        let unmapped_start = self.start.max(span_start);
        let unmapped_end = self.end.min(span_end);
        // All of the span goes: nothing of it can survive (the common case
        // of a large munmap, answered without a lookup).
        if unmapped_start == span_start && unmapped_end == span_end {
            return Ok(None);
        }
        let (mut hole_start, mut hole_end) = (span_start, span_end);
        let mut neighbour = false;
        let mut cursor = span_start;
        while let Some(vma) = self.vma(cursor, span_end)? {
            cursor = vma.end;
            if vma.kind != VmaKind::Data {
                continue;
            }
            let (a, b) = (vma.start.max(span_start), vma.end.min(span_end));
            // The parts of this VMA that survive the unmap.
            if a < unmapped_start {
                neighbour = true;
                hole_start = hole_start.max(b.min(unmapped_start));
            }
            if b > unmapped_end {
                neighbour = true;
                hole_end = hole_end.min(a.max(unmapped_end));
            }
        }
        Ok(neighbour.then_some((hole_start, hole_end)))
    }
}

fn entry_error(entry: u64, _error: EntryAccessError) -> UnmapError {
    UnmapError::DirectoryUnreachable { entry }
}

#[cfg(test)]
mod tests {
    use super::UnmapSummary;
    use crate::sim::SimProcess;
    use std::sync::atomic::{AtomicBool, Ordering};

    const MIB: u64 = 1 << 20;
    const PAGE: u64 = 4096;
    const AREA: u64 = 1 << 36;

    /// Sets the flag when dropped, also while unwinding from a failed assertion.
    struct StopOnDrop<'a>(&'a AtomicBool);

    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    #[test]
    fn summary_of_a_partial_and_whole_unmap() {
        let p = SimProcess::new();
        p.enable_mpx().unwrap();
        let a = p.mmap_fixed(AREA, 4 * MIB).unwrap();
        for span in 0..4 {
            p.bndstx(a + span * MIB, 1, 2, 3).unwrap();
            p.bndstx(a + span * MIB + MIB - 8, 1, 2, 3).unwrap();
        }
        // Spans 0-2 whole, and the first half of span 3 (whose table page 0
        // holds the entry stored at the span's start).
        let summary = p.munmap_summary(a, 3 * MIB + MIB / 2).unwrap();
        let expected = UnmapSummary {
            tables_freed: 3,
            tables_trimmed: 1,
            tables_kept: 0,
            bytes_released: PAGE,
            directory_bytes_released: 0,
            entries_read: 4,
        };
        assert_eq!(summary, expected);
        let summary = p.munmap_summary(a + 3 * MIB + MIB / 2, MIB / 2).unwrap();
        let expected = UnmapSummary {
            tables_freed: 1,
            tables_trimmed: 0,
            tables_kept: 0,
            bytes_released: 0,
            directory_bytes_released: 0,
            entries_read: 1,
        };
        assert_eq!(summary, expected);
    }

    #[test]
    fn summary_counts_only_its_own_entry_reads() {
        // #BRs on another thread read directory entries too (outside the mm
        // lock); the summary of an unmap must not count them.
        let p = SimProcess::new();
        p.enable_mpx().unwrap();
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    // A fresh table each time: a #BR, which reads the entry.
                    let slot = AREA + 64 * MIB + (i % 8) * MIB;
                    p.bndldx(slot, slot).unwrap();
                    p.munmap(slot, MIB).unwrap();
                    i += 1;
                }
            });
            // Stop the loader even if an assertion below fails.
            let _stop = StopOnDrop(&stop);
            for _ in 0..500 {
                let a = p.mmap_fixed(AREA, MIB).unwrap();
                p.bndstx(a, 1, 2, 3).unwrap();
                let summary = p.munmap_summary(a, MIB).unwrap();
                assert_eq!(summary.entries_read, 1);
                assert_eq!(summary.tables_freed, 1);
            }
        });
    }
}
