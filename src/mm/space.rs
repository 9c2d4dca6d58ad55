//! The process's VMAs and page tables, as the manager needs them.

use super::MmError;
use crate::arch::layout::PAGE_SIZE;

/// What a VMA holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VmaKind {
    /// Any mapping that is not a bounds table.
    Data,
    /// A bounds table the manager mapped (Linux: `VM_MPX`), with the address of
    /// the directory entry it was mapped for.
    BoundsTable {
        /// Address of the directory entry the table was allocated for.
        directory_entry: u64,
    },
}

/// One virtual memory area: `[start, end)`, page aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Vma {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// What the VMA holds.
    pub kind: VmaKind,
}

impl Vma {
    /// Whether the VMA is a bounds-table mapping.
    pub const fn is_bounds_table(&self) -> bool {
        matches!(self.kind, VmaKind::BoundsTable { .. })
    }

    /// Whether `[start, end)` and the VMA share an address.
    pub const fn overlaps(&self, start: u64, end: u64) -> bool {
        self.start < end && start < self.end
    }
}

/// How many VMAs are bounds-table mappings, and their bytes: what
/// [`AddressSpace::table_mappings`] reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableMappings {
    /// VMAs tagged [`VmaKind::BoundsTable`] (a table split into pieces counts
    /// once per piece).
    pub count: u64,
    /// The sum of their sizes.
    pub bytes: u64,
}

/// A process's mm state: its VMAs and page tables.
///
/// Implemented by the kernel on the type that the manager keeps behind the
/// process's mm lock ([`MpxManager`](crate::manager::MpxManager) owns the
/// [`MmLock`](crate::lock::MmLock)). Methods taking `&mut self` are called
/// with the lock held for write; methods taking `&self` with it held for read
/// or write, so **several `&self` calls may run at once on different CPUs**
/// (statistics and the kernel's page-fault handler, both under the read
/// lock). A kernel must make those safe the way its page-fault handler
/// already is, e.g. with a per-mm page-table lock.
///
/// # Contract
/// - Each bounds table the manager maps stays one VMA of exactly the mapped
///   length, reported as [`VmaKind::BoundsTable`] with the directory entry it
///   was mapped for: never merged with a neighbour (the entry tag differs),
///   never reported as [`VmaKind::Data`]. A user `munmap` may still split
///   it: the unmap hook then frees the whole table (every piece tagged for
///   its entry) when the user unmaps part of it while management is on.
/// - Freeing a table's memory follows the order an SMP kernel must keep:
///   the manager clears the directory entry first; the kernel's
///   [`unmap_bounds_table`](AddressSpace::unmap_bounds_table) and
///   [`release_pages`](AddressSpace::release_pages) then shoot down the
///   TLBs of every CPU running the process *before* the frames are reused.
/// - A forked child's mm is a copy made under the parent's write lock: every
///   VMA with its [`VmaKind`] (bounds-table tags, with their directory-entry
///   addresses, unchanged) and the memory behind it (directory and tables
///   are ordinary user memory; copy-on-write is fine); then
///   [`MpxWriteGuard::fork`](crate::manager::MpxWriteGuard::fork).
/// - While the process is managed, the kernel's mmap keeps every mapping
///   below [`Geometry::user_limit`](crate::arch::Geometry::user_limit)
///   ([`MpxWriteGuard::check_mapping`](crate::manager::MpxWriteGuard::check_mapping)).
/// - Nothing here calls back into the manager or takes the mm lock.
pub trait AddressSpace {
    /// The VMA with the lowest `end` above `address`, i.e. the VMA containing
    /// `address` or else the first one after it.
    fn vma_after(&self, address: u64) -> Option<Vma>;

    /// Maps `len` bytes of anonymous, zero-filled, read-write user memory
    /// tagged as a bounds table for the directory entry at `directory_entry`,
    /// wherever the kernel chooses, and returns its start (aligned to at least
    /// 8 bytes). Pages should be populated on demand: a table is mostly empty.
    fn map_bounds_table(&mut self, len: u64, directory_entry: u64) -> Result<u64, MmError>;

    /// Removes the bounds-table mappings in `[start, end)` and frees their
    /// pages, *without* calling the unmap hook (the manager calls this from
    /// the hook itself). Flushes the TLBs for the range before the frames
    /// are freed.
    fn unmap_bounds_table(&mut self, start: u64, end: u64) -> Result<(), MmError>;

    /// Frees the physical pages behind the page-aligned range `[start, end)` but
    /// keeps the mapping (Linux: `zap_page_range`): later reads see zeros.
    /// Flushes the TLBs for the range before the frames are freed. Returns
    /// the bytes freed.
    fn release_pages(&mut self, start: u64, end: u64) -> u64;

    /// Whether the page holding `address` may hold non-zero data: resident,
    /// or swapped out. A page never touched (or released) reads as zeros and is
    /// not populated.
    fn is_populated(&self, address: u64) -> bool;

    /// The first page at or above `start` and below `end` that
    /// [is populated](AddressSpace::is_populated), if any.
    ///
    /// The default asks page by page; a kernel should skip empty page-table
    /// levels instead, so that the unmap hook costs in proportion to the
    /// populated part of the directory, not the size of the range.
    fn next_populated_page(&self, start: u64, end: u64) -> Option<u64> {
        let mut page = start & !(PAGE_SIZE - 1);
        while page < end {
            if self.is_populated(page) {
                return Some(page);
            }
            page = page.checked_add(PAGE_SIZE)?;
        }
        None
    }

    /// The bounds-table mappings ([`TableMappings`]), if the kernel keeps
    /// them as counters: updated wherever a VMA tagged as a bounds table is
    /// created, split or removed (including by a user munmap while management
    /// is off), so that this is O(1).
    /// [`MpxManager::statistics`](crate::manager::MpxManager::statistics) uses
    /// it; the default, `None`, makes it walk every VMA instead (O(mappings)).
    fn table_mappings(&self) -> Option<TableMappings> {
        None
    }

    /// One past the highest address this process can map while it is
    /// managed. The default, 2^47, is 4-level paging (and any 32-bit
    /// process). A kernel with 5-level paging returns 2^47 only if it keeps a
    /// managed process below the 47-bit window (refusing `MAP_FIXED` above
    /// it and dropping hints above it, with
    /// [`MpxWriteGuard::check_mapping`](crate::manager::MpxWriteGuard::check_mapping),
    /// as Linux 4.14+ did); otherwise 2^57, and
    /// [`MpxWriteGuard::enable`](crate::manager::MpxWriteGuard::enable)
    /// refuses: without MAWA the directory describes only 47 bits.
    fn address_limit(&self) -> u64 {
        1 << 47
    }

    /// Makes the page holding `address` present and writable (if `write`)
    /// in the page tables, as a page fault would (Linux: `get_user_pages`).
    /// Called with the mm lock held for read or write, possibly on several
    /// CPUs at once for the same process and even the same page (see the
    /// trait's doc): it must not take the mm lock, and two concurrent calls
    /// must never both map the page.
    fn fault_in(&self, address: u64, write: bool) -> Result<(), MmError>;
}

/// How much of a range is backed by physical memory: needed only for
/// [`MpxManager::resident_table_bytes`](crate::manager::MpxManager::resident_table_bytes),
/// a statistic a kernel may leave out.
pub trait Residency: AddressSpace {
    /// Bytes of `[start, end)` resident in physical memory. Called with the mm
    /// lock held for read.
    fn resident_bytes(&self, start: u64, end: u64) -> u64;
}
