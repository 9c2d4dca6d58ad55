//! The simulated process's VMA set: the [`AddressSpace`] a kernel writes.

use super::gaps::Gaps;
use super::inject::Injection;
use super::memory::{PageStore, SimUserAccess};
use crate::arch::layout::PAGE_SIZE;
use crate::arch::{Geometry, Mode};
use crate::mm::{AddressSpace, MmError, Residency, TableMappings, Vma, VmaKind};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Lowest address the simulator hands out for mappings it places.
pub(crate) const MMAP_BASE: u64 = 0x1000_0000;

/// A simulated process's mm state: VMAs by start address over sparse,
/// page-granular memory. It implements [`AddressSpace`] and [`Residency`] as
/// a kernel's mm does, so it can stand in for one (the README's wiring
/// example runs on it); [`SimProcess`](super::SimProcess) is the same state
/// with a simulated CPU on top.
#[derive(Debug)]
pub struct SimAddressSpace {
    vmas: BTreeMap<u64, (u64, VmaKind)>,
    pub(crate) store: Arc<PageStore>,
    geometry: Geometry,
    /// One past the highest user address.
    pub(crate) user_limit: u64,
    /// When set, the next table mapping also writes this value into the
    /// directory entry it is for: another thread winning the race, landing
    /// between the manager's look and its compare-exchange.
    pub(crate) race_next_install: Option<u64>,
    /// Fault injection shared with the user access.
    pub(crate) injection: Arc<Injection>,
    /// Free space at or above [`MMAP_BASE`], for placement.
    gaps: Gaps,
    /// The bounds-table VMAs, counted as a kernel would count them.
    tables: TableMappings,
    /// What [`AddressSpace::address_limit`] reports: the geometry's window,
    /// or more for a 5-level-paging process that is not kept below it.
    address_limit: u64,
}

impl SimAddressSpace {
    /// An empty address space for a process of `mode`: user addresses below
    /// 2^47 (64-bit) or 2^32 (32-bit).
    pub fn new(mode: Mode) -> SimAddressSpace {
        let user_limit = match mode {
            Mode::Long64 => 1 << 47,
            Mode::Compat32 => 1 << 32,
        };
        SimAddressSpace::with_limits(mode, user_limit, 1 << 47)
    }

    /// A 64-bit address space with 5-level paging: user addresses below
    /// 2^56. `confined`: the kernel keeps a managed process below the 47-bit
    /// window (refusing `MAP_FIXED` above it, as Linux 4.14+ did), so
    /// [`AddressSpace::address_limit`] is 2^47; otherwise 2^57 and enable
    /// refuses.
    pub fn with_la57(confined: bool) -> SimAddressSpace {
        let limit = if confined { 1 << 47 } else { 1 << 57 };
        SimAddressSpace::with_limits(Mode::Long64, 1 << 56, limit)
    }

    fn with_limits(mode: Mode, user_limit: u64, address_limit: u64) -> SimAddressSpace {
        SimAddressSpace {
            vmas: BTreeMap::new(),
            store: Arc::new(PageStore::default()),
            geometry: Geometry::of(mode),
            user_limit,
            race_next_install: None,
            injection: Arc::new(Injection::default()),
            gaps: Gaps::new(MMAP_BASE, user_limit),
            tables: TableMappings::default(),
            address_limit,
        }
    }

    /// The child's copy at fork: every VMA with its kind (table tags and
    /// their entry addresses unchanged) and every page with its content and
    /// state; no fault injection or pending race.
    pub fn duplicate(&self) -> SimAddressSpace {
        SimAddressSpace {
            vmas: self.vmas.clone(),
            store: Arc::new(self.store.duplicate()),
            geometry: self.geometry,
            user_limit: self.user_limit,
            race_next_install: None,
            injection: Arc::new(Injection::default()),
            gaps: self.gaps.clone(),
            tables: self.tables,
            address_limit: self.address_limit,
        }
    }

    /// The kernel's user access to this process's memory (it shares it).
    pub fn user_access(&self) -> SimUserAccess {
        SimUserAccess {
            store: self.store.clone(),
            user_limit: self.user_limit,
            injection: self.injection.clone(),
        }
    }

    /// Maps `len` bytes (a page multiple) of ordinary memory at the lowest
    /// free address, as mmap without a hint; returns it.
    pub fn map_anywhere(&mut self, len: u64) -> Result<u64, MmError> {
        if len == 0 || len % PAGE_SIZE != 0 {
            return Err(MmError::Invalid);
        }
        let start = self.find_free(len)?;
        self.insert(start, start + len, VmaKind::Data);
        Ok(start)
    }

    /// Maps ordinary memory over `[start, end)`, which must be free and
    /// page-aligned (else [`MmError::Invalid`]): the kernel's own mmap once
    /// the range is free, with no unmap hook (for reference kernels written
    /// over the simulator, such as the Linux baseline in the benchmarks).
    pub fn map_free_range(&mut self, start: u64, end: u64) -> Result<(), MmError> {
        let aligned = start % PAGE_SIZE == 0 && end % PAGE_SIZE == 0 && start < end;
        let free = !self.vma_after(start).is_some_and(|v| v.start < end);
        if !aligned || !free || end > self.user_limit {
            return Err(MmError::Invalid);
        }
        self.insert(start, end, VmaKind::Data);
        Ok(())
    }

    /// Removes every mapping piece in `[start, end)` and drops its pages:
    /// the kernel's own unmap, which the manager's
    /// [`munmap`](crate::manager::MpxWriteGuard::munmap) calls back.
    pub fn remove(&mut self, start: u64, end: u64) {
        self.remove_range(start, end);
    }

    /// Stores `value` (`width` bytes, naturally aligned) as a user store
    /// would, faulting the page in: `None` if no mapping covers it.
    pub fn user_store(&self, address: u64, width: u64, value: u64) -> Option<()> {
        self.fault_in(address, true).ok()?;
        self.store.store(address, width, value)
    }

    /// The bounds-table mappings, as counted on every change.
    pub(crate) fn table_counts(&self) -> TableMappings {
        self.tables
    }

    /// All VMAs, sorted.
    pub(crate) fn list(&self) -> impl Iterator<Item = Vma> + '_ {
        self.vmas
            .iter()
            .map(|(&start, &(end, kind))| Vma { start, end, kind })
    }

    /// The lowest free page-aligned range of `len` bytes at or above MMAP_BASE.
    /// Unhinted placement stays below [`AddressSpace::address_limit`] (a
    /// confined 5-level address space keeps it below the 47-bit window, as
    /// Linux places unhinted mappings below `DEFAULT_MAP_WINDOW`); first fit
    /// is by lowest start, so no fit below the cap is missed.
    pub(crate) fn find_free(&self, len: u64) -> Result<u64, MmError> {
        let cap = self.address_limit.min(self.user_limit);
        self.gaps
            .first_fit(len)
            .filter(|&start| start.checked_add(len).is_some_and(|end| end <= cap))
            .ok_or(MmError::NoAddressSpace)
    }

    /// Splits the VMA containing `address` (if any) so that a VMA starts there.
    fn split_at(&mut self, address: u64) {
        let Some((&start, &(end, kind))) = self.vmas.range(..address).next_back() else {
            return;
        };
        if start < address && address < end {
            self.vmas.insert(start, (address, kind));
            self.vmas.insert(address, (end, kind));
            if matches!(kind, VmaKind::BoundsTable { .. }) {
                self.tables.count += 1;
            }
        }
    }

    /// Removes every VMA piece in `[start, end)` and drops its pages.
    pub(crate) fn remove_range(&mut self, start: u64, end: u64) {
        self.split_at(start);
        self.split_at(end);
        while let Some((&s, &(e, kind))) = self.vmas.range(start..end).next() {
            self.vmas.remove(&s);
            self.gaps.give(s, e);
            if matches!(kind, VmaKind::BoundsTable { .. }) {
                self.tables.count -= 1;
                self.tables.bytes -= e - s;
            }
        }
        self.store.discard(start, end);
    }

    /// Inserts a VMA over a range known to be free.
    pub(crate) fn insert(&mut self, start: u64, end: u64, kind: VmaKind) {
        self.vmas.insert(start, (end, kind));
        self.gaps.take(start, end);
        if matches!(kind, VmaKind::BoundsTable { .. }) {
            self.tables.count += 1;
            self.tables.bytes += end - start;
        }
    }

    /// Whether a VMA that is not a bounds table meets `[start, end)`.
    fn has_data_in(&self, start: u64, end: u64) -> bool {
        let first = self
            .vmas
            .range(..=start)
            .next_back()
            .filter(|(_, &(e, _))| e > start);
        first
            .into_iter()
            .chain(self.vmas.range(start.saturating_add(1)..end))
            .any(|(_, &(_, kind))| kind == VmaKind::Data)
    }

    /// The VMA containing `address`.
    pub(crate) fn vma_containing(&self, address: u64) -> Option<Vma> {
        self.vma_after(address).filter(|v| v.start <= address)
    }
}

impl AddressSpace for SimAddressSpace {
    fn vma_after(&self, address: u64) -> Option<Vma> {
        if let Some((&start, &(end, kind))) = self.vmas.range(..=address).next_back() {
            if end > address {
                return Some(Vma { start, end, kind });
            }
        }
        self.vmas
            .range(address.saturating_add(1)..)
            .next()
            .map(|(&start, &(end, kind))| Vma { start, end, kind })
    }

    fn map_bounds_table(&mut self, len: u64, directory_entry: u64) -> Result<u64, MmError> {
        if len == 0 || len % PAGE_SIZE != 0 {
            return Err(MmError::Invalid);
        }
        let start = self.find_free(len)?;
        self.insert(start, start + len, VmaKind::BoundsTable { directory_entry });
        if let Some(value) = self.race_next_install.take() {
            self.store.populate(directory_entry);
            let width = self.geometry.entry_width().bytes();
            self.store.store(directory_entry, width, value);
        }
        Ok(start)
    }

    fn unmap_bounds_table(&mut self, start: u64, end: u64) -> Result<(), MmError> {
        if self.has_data_in(start, end) {
            return Err(MmError::Invalid);
        }
        self.remove_range(start, end);
        Ok(())
    }

    fn release_pages(&mut self, start: u64, end: u64) -> u64 {
        self.store.discard(start, end)
    }

    fn is_populated(&self, address: u64) -> bool {
        self.store.is_populated(address)
    }

    fn next_populated_page(&self, start: u64, end: u64) -> Option<u64> {
        self.store.next_populated(start, end)
    }

    fn address_limit(&self) -> u64 {
        self.address_limit
    }

    fn table_mappings(&self) -> Option<TableMappings> {
        Some(self.tables)
    }

    fn fault_in(&self, address: u64, _write: bool) -> Result<(), MmError> {
        if self.injection.fault_in_fails() {
            return Err(MmError::Fault);
        }
        self.vma_containing(address).ok_or(MmError::Fault)?;
        self.store.populate(address);
        Ok(())
    }
}

impl Residency for SimAddressSpace {
    fn resident_bytes(&self, start: u64, end: u64) -> u64 {
        self.store.resident_bytes(start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_split_and_lookup() {
        let mut mm = SimAddressSpace::new(Mode::Long64);
        let a = mm.find_free(0x3000).unwrap();
        assert_eq!(a, MMAP_BASE);
        mm.insert(a, a + 0x3000, VmaKind::Data);
        let b = mm.find_free(0x1000).unwrap();
        assert_eq!(b, a + 0x3000);
        mm.remove_range(a + 0x1000, a + 0x2000);
        assert_eq!(mm.list().count(), 2);
        assert_eq!(mm.find_free(0x1000).unwrap(), a + 0x1000);
        assert_eq!(mm.find_free(0x2000).unwrap(), a + 0x3000);
        assert_eq!(mm.vma_after(a + 0x1000).unwrap().start, a + 0x2000);
        assert_eq!(mm.vma_after(a).unwrap().end, a + 0x1000);
        assert!(mm.vma_after(a + 0x3000).is_none());
        assert!(mm.fault_in(a + 0x1000, true).is_err());
        assert!(mm.fault_in(a + 0x2000, true).is_ok());
    }

    #[test]
    fn mapping_a_free_range_and_counting_tables() {
        let mut mm = SimAddressSpace::new(Mode::Long64);
        let a = 1 << 40;
        assert_eq!(mm.map_free_range(a, a + 0x2000), Ok(()));
        // Taken, unaligned, empty or past the user limit: refused, nothing changes.
        assert_eq!(
            mm.map_free_range(a + 0x1000, a + 0x3000),
            Err(MmError::Invalid)
        );
        assert_eq!(
            mm.map_free_range(a + 0x2001, a + 0x3000),
            Err(MmError::Invalid)
        );
        assert_eq!(
            mm.map_free_range(a + 0x3000, a + 0x3000),
            Err(MmError::Invalid)
        );
        assert_eq!(
            mm.map_free_range(mm.user_limit, mm.user_limit + 0x1000),
            Err(MmError::Invalid)
        );
        assert_eq!(mm.list().count(), 1);
        // The table counters follow maps, splits and removals.
        let t = mm.map_bounds_table(4 << 20, 0x1000).unwrap();
        assert_eq!(
            mm.table_counts(),
            TableMappings {
                count: 1,
                bytes: 4 << 20
            }
        );
        mm.remove_range(t + 0x1000, t + 0x2000);
        assert_eq!(
            mm.table_counts(),
            TableMappings {
                count: 2,
                bytes: (4 << 20) - 0x1000
            }
        );
        assert_eq!(mm.table_mappings(), Some(mm.table_counts()));
        mm.remove_range(0, u64::MAX);
        assert_eq!(mm.table_counts(), TableMappings::default());
    }
}
