//! The simulated process's VMA set, implementing [`AddressSpace`].

use super::memory::PageStore;
use crate::arch::layout::PAGE_SIZE;
use crate::mm::{AddressSpace, MmError, Vma, VmaKind};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Lowest address the simulator hands out for mappings it places.
pub(crate) const MMAP_BASE: u64 = 0x1000_0000;

/// The mm state of a simulated process: VMAs by start address.
#[derive(Debug)]
pub(crate) struct SimMm {
    vmas: BTreeMap<u64, (u64, VmaKind)>,
    pub(crate) store: Arc<PageStore>,
    /// One past the highest user address.
    pub(crate) user_limit: u64,
    /// When set, the next table mapping also writes this value into the
    /// directory entry it is for: another thread winning the race, landing
    /// between the manager's look and its compare-exchange.
    pub(crate) race_next_install: Option<u64>,
}

impl SimMm {
    pub(crate) fn new(store: Arc<PageStore>, user_limit: u64) -> SimMm {
        SimMm {
            vmas: BTreeMap::new(),
            store,
            user_limit,
            race_next_install: None,
        }
    }

    /// All VMAs, sorted.
    pub(crate) fn list(&self) -> impl Iterator<Item = Vma> + '_ {
        self.vmas
            .iter()
            .map(|(&start, &(end, kind))| Vma { start, end, kind })
    }

    /// The lowest free page-aligned range of `len` bytes at or above MMAP_BASE.
    pub(crate) fn find_free(&self, len: u64) -> Result<u64, MmError> {
        let mut candidate = MMAP_BASE;
        for (&start, &(end, _)) in self.vmas.range(..) {
            if end <= candidate {
                continue;
            }
            if start >= candidate && start - candidate >= len {
                break;
            }
            candidate = candidate.max(end);
        }
        match candidate.checked_add(len) {
            Some(end) if end <= self.user_limit => Ok(candidate),
            _ => Err(MmError::NoAddressSpace),
        }
    }

    /// Splits the VMA containing `address` (if any) so that a VMA starts there.
    fn split_at(&mut self, address: u64) {
        let Some((&start, &(end, kind))) = self.vmas.range(..address).next_back() else {
            return;
        };
        if start < address && address < end {
            self.vmas.insert(start, (address, kind));
            self.vmas.insert(address, (end, kind));
        }
    }

    /// Removes every VMA piece in `[start, end)` and drops its pages.
    pub(crate) fn remove_range(&mut self, start: u64, end: u64) {
        self.split_at(start);
        self.split_at(end);
        while let Some((&s, _)) = self.vmas.range(start..end).next() {
            self.vmas.remove(&s);
        }
        self.store.discard(start, end);
    }

    /// Inserts a VMA over a range known to be free.
    pub(crate) fn insert(&mut self, start: u64, end: u64, kind: VmaKind) {
        self.vmas.insert(start, (end, kind));
    }

    /// The VMA containing `address`.
    pub(crate) fn vma_containing(&self, address: u64) -> Option<Vma> {
        self.vma_after(address).filter(|v| v.start <= address)
    }
}

impl AddressSpace for SimMm {
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
            let width = if self.user_limit <= 1 << 32 { 4 } else { 8 };
            self.store.store(directory_entry, width, value);
        }
        Ok(start)
    }

    fn unmap_bounds_table(&mut self, start: u64, end: u64) -> Result<(), MmError> {
        if self
            .list()
            .any(|v| v.overlaps(start, end) && !v.is_bounds_table())
        {
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

    fn resident_bytes(&self, start: u64, end: u64) -> u64 {
        self.store.resident_bytes(start, end)
    }

    fn fault_in(&self, address: u64, _write: bool) -> Result<(), MmError> {
        self.vma_containing(address).ok_or(MmError::Fault)?;
        self.store.populate(address);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_split_and_lookup() {
        let mut mm = SimMm::new(Arc::new(PageStore::default()), 1 << 47);
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
}
