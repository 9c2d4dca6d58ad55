//! The unmap hook: free the tables that covered an unmapped range.
//!
//! [`MpxWriteGuard::munmap`](super::MpxWriteGuard::munmap) runs the hook
//! ([`UnmapWalk`]) with the mm lock held for write, *before* the kernel
//! removes the VMAs of `[start, end)`. Then:
//! 1. If bounds-table mappings overlap the range, the user is unmapping
//!    tables: for each one whose directory entry still names it, the entry is
//!    cleared first (so the CPU never walks freed memory, and the next store
//!    simply gets a new table) and every piece of the table is unmapped, also
//!    outside the range. Nothing more: no tables are looked for on behalf of
//!    tables, so nesting never exceeds one level.
//! 2. Otherwise each span (the addresses one directory entry covers) that
//!    meets the range is examined, reading only directory pages that may hold
//!    entries ([`AddressSpace::next_populated_page`]), so the cost follows
//!    the populated part of the directory, not the size of the range:
//!    - no table: nothing to do;
//!    - the entry must point at the start of a bounds-table mapping of
//!      exactly table size, mapped for this entry; otherwise an error and
//!      nothing is touched;
//!    - no ordinary mapping left anywhere in the span: clear the entry
//!      (compare-exchange; already zero counts as done), then unmap the table;
//!    - otherwise: release the table pages that only describe addresses no
//!      mapping uses any more (the unmapped part, widened to the whole hole
//!      it leaves in the span), and keep the table.

use super::access::{Entries, EntryAccessError};
use super::stats::Counters;
use super::MpxManager;
use crate::arch::entry::EntryState;
use crate::arch::layout::PAGE_SIZE;
use crate::arch::{DirectoryEntry, Geometry};
use crate::mm::{AddressSpace, MmError, UserAccess, Vma, VmaKind};
use core::fmt;

/// What one call of the unmap hook did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnmapSummary {
    /// Tables freed whole.
    pub tables_freed: u64,
    /// Tables kept, with some of their pages released.
    pub tables_trimmed: u64,
    /// Physical bytes released from kept tables.
    pub bytes_released: u64,
    /// Physical bytes of directory pages released because every entry in
    /// them was zero and the unmapped range covered all their spans.
    pub directory_bytes_released: u64,
    /// Directory entries read.
    pub entries_read: u64,
}

/// Why the unmap hook failed for a span (or, in step 1, a table). The hook
/// carries on with the other spans and tables and returns the first error;
/// the span or table named here is left as it was, except after
/// [`UnmapError::Mm`], which can come after its entry was cleared. Linux
/// sent SIGSEGV.
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
    /// The entry changed to another non-zero value while being cleared.
    EntryChanged {
        /// Address of the directory entry.
        entry: u64,
        /// The value found.
        value: u64,
    },
    /// A directory page could not be made present (the rest of that page of
    /// entries is skipped too).
    DirectoryUnreachable {
        /// Address of the directory entry.
        entry: u64,
    },
    /// The kernel failed to unmap or release table memory.
    Mm(MmError),
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
        }
    }
}

/// One run of the unmap hook over `[start, end)`: the manager, the mm under
/// the write lock, the directory entries, and what the run did so far.
pub(crate) struct UnmapWalk<'a, M, U> {
    manager: &'a MpxManager<M>,
    geometry: Geometry,
    mm: &'a mut M,
    entries: Entries<'a, U>,
    base: u64,
    start: u64,
    end: u64,
    summary: UnmapSummary,
    failure: Option<UnmapError>,
}

impl<'a, M: AddressSpace, U: UserAccess> UnmapWalk<'a, M, U> {
    /// A run for the directory at `base` (management is on).
    pub(crate) fn new(
        manager: &'a MpxManager<M>,
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
            entries: Entries::new(user, geometry.entry_width(), &manager.counters),
            base,
            start,
            end: end.min(geometry.address_limit()),
            summary: UnmapSummary::default(),
            failure: None,
        }
    }

    /// Runs both steps; the summary, or the first error.
    pub(crate) fn run(mut self) -> Result<UnmapSummary, UnmapError> {
        if self.start < self.end && !self.unmap_tables_in_range() {
            self.free_tables_for_range();
        }
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

    /// Step 1: the range holds bounds tables. Returns whether it held any.
    fn unmap_tables_in_range(&mut self) -> bool {
        let mut found = false;
        let mut cursor = self.start;
        while let Some(vma) = self.mm.vma_after(cursor).filter(|v| v.start < self.end) {
            cursor = vma.end;
            let VmaKind::BoundsTable { directory_entry } = vma.kind else {
                continue;
            };
            found = true;
            if self.manager.entry_in_directory(directory_entry).is_none() {
                continue; // A table of an earlier directory: the kernel unmaps it.
            }
            let value = match self.entries.read(&*self.mm, directory_entry) {
                Ok(value) => value,
                Err(e) => {
                    self.fail(entry_error(directory_entry, e));
                    continue;
                }
            };
            self.summary.entries_read += 1;
            let EntryState::Table(table) = DirectoryEntry::from_raw(value).state(&self.geometry)
            else {
                continue; // Already invalidated (or never installed).
            };
            let table_end = table.saturating_add(self.geometry.table_bytes());
            if !vma.overlaps(table, table_end) {
                continue; // The entry names another table: not this one's business.
            }
            match self.entries.exchange(&*self.mm, directory_entry, value, 0) {
                Ok(Ok(_)) => {}
                Ok(Err(_)) => continue, // Changed under us: the new value is not ours to judge here.
                Err(e) => {
                    self.fail(entry_error(directory_entry, e));
                    continue;
                }
            }
            // The entry no longer names the table: free every piece of it.
            // (The cursor stays at this VMA's end: `table_end` comes from
            // user memory and must not make the walk skip a VMA.)
            if let Err(e) = self.unmap_table_pieces(table, table_end, directory_entry) {
                self.fail(e);
                continue;
            }
            Counters::bump(&self.counters().tables_freed, 1);
            self.summary.tables_freed += 1;
        }
        found
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
        while let Some(piece) = self.mm.vma_after(cursor).filter(|v| v.start < table_end) {
            cursor = piece.end;
            if piece.kind == (VmaKind::BoundsTable { directory_entry }) {
                self.mm
                    .unmap_bounds_table(piece.start, piece.end)
                    .map_err(UnmapError::Mm)?;
            }
        }
        Ok(())
    }

    /// Step 2: walk the directory entries for `[start, end)`, skipping
    /// directory pages that hold nothing.
    fn free_tables_for_range(&mut self) {
        let g = self.geometry;
        let width = g.directory_entry_bytes();
        let mut entry = self.base + g.directory_entry_offset(self.start);
        let last = self.base + g.directory_entry_offset(self.end - 1) + width;
        while entry < last {
            let Some(page) = self.mm.next_populated_page(entry, last) else {
                break;
            };
            // (A page below the cursor's would break the kernel's contract;
            // reading the cursor's page then keeps the walk moving.)
            let page = (page & !(PAGE_SIZE - 1)).max(entry & !(PAGE_SIZE - 1));
            entry = entry.max(page);
            let page_end = (page + PAGE_SIZE).min(last);
            // Whether every entry of this directory page is read here and
            // found (or left) zero: then the page itself can go.
            let mut page_clear = entry == page && page_end == page + PAGE_SIZE;
            while entry < page_end {
                let value = match self.entries.read(&*self.mm, entry) {
                    Ok(value) => value,
                    Err(e) => {
                        // The rest of this page is as unreachable.
                        self.fail(entry_error(entry, e));
                        entry = page_end;
                        page_clear = false;
                        break;
                    }
                };
                self.summary.entries_read += 1;
                if value != 0 {
                    let index = (entry - self.base) / width;
                    match self.free_span(entry, value, index) {
                        Ok(cleared) => page_clear &= cleared,
                        Err(e) => {
                            self.fail(e);
                            page_clear = false;
                        }
                    }
                }
                entry += width;
            }
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
    /// zero (the table was freed).
    fn free_span(&mut self, entry: u64, value: u64, index: u64) -> Result<bool, UnmapError> {
        let g = self.geometry;
        let table = match DirectoryEntry::from_raw(value).state(&g) {
            EntryState::Absent => return Ok(true),
            EntryState::Corrupt(value) => return Err(UnmapError::CorruptEntry { entry, value }),
            EntryState::Table(table) => table,
        };
        let expected = VmaKind::BoundsTable {
            directory_entry: entry,
        };
        let whole_table = self.mm.vma_after(table).is_some_and(|v: Vma| {
            v.start == table && v.end.wrapping_sub(v.start) == g.table_bytes() && v.kind == expected
        });
        if !whole_table {
            return Err(UnmapError::NotATable { entry, table });
        }

        let span_start = g.span_start(index);
        let span_end = span_start + g.span_bytes();
        let (hole_start, hole_end) =
            match hole_left(&*self.mm, span_start, span_end, self.start, self.end) {
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
            Counters::bump(&self.counters().bytes_released, released);
            self.summary.bytes_released += released;
        }
        self.summary.tables_trimmed += 1;
        Ok(false)
    }

    fn free_whole_table(&mut self, entry: u64, value: u64, table: u64) -> Result<(), UnmapError> {
        match self.entries.exchange(&*self.mm, entry, value, 0) {
            // Cleared by someone else (the user): the table, checked to be
            // this entry's, is now referenced by nothing; free it all the same.
            Ok(Ok(_)) | Ok(Err(0)) => {}
            Ok(Err(value)) => return Err(UnmapError::EntryChanged { entry, value }),
            Err(e) => return Err(entry_error(entry, e)),
        }
        self.mm
            .unmap_bounds_table(table, table + self.geometry.table_bytes())
            .map_err(UnmapError::Mm)?;
        Counters::bump(&self.counters().tables_freed, 1);
        self.summary.tables_freed += 1;
        Ok(())
    }
}

fn entry_error(entry: u64, _error: EntryAccessError) -> UnmapError {
    UnmapError::DirectoryUnreachable { entry }
}

/// The hole that unmapping `[start, end)` leaves in the span
/// `[span_start, span_end)`: the largest range around the unmapped part with
/// no ordinary mapping left in it. `None` when no ordinary mapping is left in
/// the span at all (bounds tables never count).
fn hole_left<M: AddressSpace + ?Sized>(
    mm: &M,
    span_start: u64,
    span_end: u64,
    start: u64,
    end: u64,
) -> Option<(u64, u64)> {
    let unmapped_start = start.max(span_start);
    let unmapped_end = end.min(span_end);
    let (mut hole_start, mut hole_end) = (span_start, span_end);
    let mut neighbour = false;
    let mut cursor = span_start;
    while let Some(vma) = mm.vma_after(cursor).filter(|v| v.start < span_end) {
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
    neighbour.then_some((hole_start, hole_end))
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
            bytes_released: PAGE,
            directory_bytes_released: 0,
            entries_read: 4,
        };
        assert_eq!(summary, expected);
        let summary = p.munmap_summary(a + 3 * MIB + MIB / 2, MIB / 2).unwrap();
        let expected = UnmapSummary {
            tables_freed: 1,
            tables_trimmed: 0,
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
