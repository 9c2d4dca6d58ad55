//! Sparse, page-granular simulated memory and the kernel's user access over it.
//!
//! Only touched pages cost host memory: a 2 GiB directory or a 4 MiB table
//! that holds one entry costs one page. A page is either resident or swapped
//! out (content kept, but not present: any access faults until it is
//! faulted back in), which lets tests put a directory page out of reach.
//!
//! # TLB shootdowns
//! On a real machine, a page leaves a process (unmap, zap, swap-out) only
//! after a TLB shootdown, which every other CPU acknowledges *between*
//! instructions: an instruction that already translated an address finishes
//! with the old page before the page can be reused. The store models this
//! with a lock: a simulated instruction holds it shared from its first
//! access to its last ([`PageStore::instruction`]); taking pages away holds
//! it exclusively. Without this, a BNDSTX that walked to a table just before
//! another thread's munmap freed it could write into whatever table is
//! mapped at that address next, which no CPU does.

use super::inject::Injection;
use crate::arch::layout::PAGE_SIZE;
use crate::arch::EntryWidth;
use crate::mm::{AccessFault, UserAccess};
use std::boxed::Box;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::vec::Vec;

type PageData = Box<[u8; PAGE_SIZE as usize]>;

/// State of one populated page.
#[derive(Clone, Debug)]
enum Page {
    Resident(PageData),
    Swapped(PageData),
}

/// All populated pages of one simulated process, by page address.
#[derive(Debug, Default)]
pub(crate) struct PageStore {
    pages: Mutex<BTreeMap<u64, Page>>,
    /// Shared by instructions in flight, exclusive for taking pages away.
    shootdown: RwLock<()>,
}

pub(crate) const fn page_of(address: u64) -> u64 {
    address & !(PAGE_SIZE - 1)
}

impl PageStore {
    fn with_pages<R>(&self, f: impl FnOnce(&mut BTreeMap<u64, Page>) -> R) -> R {
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut pages)
    }

    /// A copy of every page, in the same state (fork: the child's memory).
    pub(crate) fn duplicate(&self) -> PageStore {
        let pages = self.with_pages(|pages| pages.clone());
        PageStore {
            pages: Mutex::new(pages),
            shootdown: RwLock::new(()),
        }
    }

    /// Makes the page holding `address` resident (zero-filled if new).
    pub(crate) fn populate(&self, address: u64) {
        self.with_pages(|pages| {
            let page = pages
                .remove(&page_of(address))
                .map(|p| match p {
                    Page::Resident(d) | Page::Swapped(d) => d,
                })
                .unwrap_or_else(|| Box::new([0; PAGE_SIZE as usize]));
            pages.insert(page_of(address), Page::Resident(page));
        });
    }

    /// Marks the start of a simulated instruction: until the guard is
    /// dropped, no page is taken away (swapped out, released or unmapped).
    /// The instruction must not wait for anything else (the mm lock, a page
    /// fault) while holding it: on a page fault it drops the guard, and the
    /// instruction restarts from scratch, as a CPU restarts a faulting one.
    pub(crate) fn instruction(&self) -> RwLockReadGuard<'_, ()> {
        self.shootdown.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for the instructions in flight to retire (the TLB shootdown)
    /// and takes pages away with `f` before another one can start.
    fn with_shootdown<R>(&self, f: impl FnOnce(&mut BTreeMap<u64, Page>) -> R) -> R {
        let _shootdown = self.shootdown.write().unwrap_or_else(|e| e.into_inner());
        self.with_pages(f)
    }

    /// Puts a populated page out of reach, keeping its content. Returns
    /// whether the page was populated.
    pub(crate) fn swap_out(&self, address: u64) -> bool {
        self.with_shootdown(|pages| match pages.remove(&page_of(address)) {
            Some(Page::Resident(d)) | Some(Page::Swapped(d)) => {
                pages.insert(page_of(address), Page::Swapped(d));
                true
            }
            None => false,
        })
    }

    /// Drops every page in `[start, end)`; returns the resident bytes freed.
    pub(crate) fn discard(&self, start: u64, end: u64) -> u64 {
        self.with_shootdown(|pages| {
            let doomed: Vec<u64> = pages.range(start..end).map(|(&a, _)| a).collect();
            let mut freed = 0;
            for address in doomed {
                if let Some(Page::Resident(_)) = pages.remove(&address) {
                    freed += PAGE_SIZE;
                }
            }
            freed
        })
    }

    /// Whether the page holding `address` is resident or swapped.
    pub(crate) fn is_populated(&self, address: u64) -> bool {
        self.with_pages(|pages| pages.contains_key(&page_of(address)))
    }

    /// The first populated page in `[start, end)`.
    pub(crate) fn next_populated(&self, start: u64, end: u64) -> Option<u64> {
        self.with_pages(|pages| {
            pages
                .range(page_of(start)..end)
                .next()
                .map(|(&address, _)| address)
        })
    }

    /// Resident bytes in `[start, end)`.
    pub(crate) fn resident_bytes(&self, start: u64, end: u64) -> u64 {
        self.with_pages(|pages| {
            pages
                .range(start..end)
                .filter(|(_, p)| matches!(p, Page::Resident(_)))
                .count() as u64
                * PAGE_SIZE
        })
    }

    /// Resident bytes overall.
    pub(crate) fn total_resident(&self) -> u64 {
        self.resident_bytes(0, u64::MAX)
    }

    /// Runs `f` on the bytes `[address, address + len)` if the page is
    /// resident; the range must not cross a page. `None` if not present.
    pub(crate) fn access<R>(
        &self,
        address: u64,
        len: u64,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        let offset = (address - page_of(address)) as usize;
        if offset + len as usize > PAGE_SIZE as usize {
            return None;
        }
        self.with_pages(|pages| match pages.get_mut(&page_of(address)) {
            Some(Page::Resident(data)) => Some(f(&mut data[offset..offset + len as usize])),
            _ => None,
        })
    }

    /// Loads a little-endian value of `width` bytes from a resident page.
    pub(crate) fn load(&self, address: u64, width: u64) -> Option<u64> {
        self.access(address, width, |bytes| decode(bytes))
    }

    /// Reads a value whatever the page's state (zero if never touched),
    /// without changing it: for inspection by tests.
    pub(crate) fn peek(&self, address: u64, width: u64) -> u64 {
        let offset = (address - page_of(address)) as usize;
        self.with_pages(|pages| match pages.get(&page_of(address)) {
            Some(Page::Resident(d) | Page::Swapped(d)) => {
                let mut raw = [0u8; 8];
                let end = (offset + width as usize).min(PAGE_SIZE as usize);
                raw[..end - offset].copy_from_slice(&d[offset..end]);
                u64::from_le_bytes(raw)
            }
            None => 0,
        })
    }

    /// Stores a little-endian value of `width` bytes into a resident page.
    pub(crate) fn store(&self, address: u64, width: u64, value: u64) -> Option<()> {
        self.access(address, width, |bytes| {
            match <&mut [u8; 8]>::try_from(&mut *bytes) {
                // The common widths without a variable-length copy.
                Ok(word) => *word = value.to_le_bytes(),
                Err(_) => {
                    let len = bytes.len();
                    bytes.copy_from_slice(&value.to_le_bytes()[..len]);
                }
            }
        })
    }

    /// Compare-exchange of `width` bytes on a resident page (atomic: the
    /// store's lock is held throughout).
    pub(crate) fn compare_exchange(
        &self,
        address: u64,
        width: u64,
        current: u64,
        new: u64,
    ) -> Option<Result<u64, u64>> {
        self.access(address, width, |bytes| {
            let len = bytes.len();
            let mut raw = [0u8; 8];
            raw[..len].copy_from_slice(bytes);
            let actual = u64::from_le_bytes(raw);
            if actual == current {
                bytes.copy_from_slice(&new.to_le_bytes()[..len]);
                Ok(actual)
            } else {
                Err(actual)
            }
        })
    }
}

/// The kernel's user access for a simulated process (the [`UserAccess`] a
/// kernel writes): page faults disabled, user addresses only. Made by
/// [`SimAddressSpace::user_access`](super::SimAddressSpace::user_access); it
/// shares the process's memory.
#[derive(Clone, Debug)]
pub struct SimUserAccess {
    pub(crate) store: Arc<PageStore>,
    pub(crate) user_limit: u64,
    pub(crate) injection: Arc<Injection>,
}

impl SimUserAccess {
    fn check(&self, address: u64, width: EntryWidth) -> Result<(), AccessFault> {
        let fits = address
            .checked_add(width.bytes())
            .is_some_and(|end| end <= self.user_limit);
        if fits && address % width.bytes() == 0 {
            Ok(())
        } else {
            Err(AccessFault { address })
        }
    }
}

impl UserAccess for SimUserAccess {
    fn read_entry(&self, address: u64, width: EntryWidth) -> Result<u64, AccessFault> {
        self.check(address, width)?;
        if self.injection.access_fails() {
            return Err(AccessFault { address });
        }
        self.store
            .load(address, width.bytes())
            .ok_or(AccessFault { address })
    }

    /// One page lookup and one copy for the group (one access as fault
    /// injection counts them).
    fn read_entries(
        &self,
        address: u64,
        width: EntryWidth,
        out: &mut [u64],
    ) -> Result<(), AccessFault> {
        let w = width.bytes();
        let len = (out.len() as u64)
            .checked_mul(w)
            .ok_or(AccessFault { address })?;
        self.check(address, width)?;
        let fits = address
            .checked_add(len)
            .is_some_and(|end| end <= self.user_limit);
        if !fits {
            return Err(AccessFault { address });
        }
        if self.injection.access_fails() {
            return Err(AccessFault { address });
        }
        self.store
            .access(address, len, |bytes| match width {
                EntryWidth::Eight => {
                    for (slot, raw) in out.iter_mut().zip(bytes.chunks_exact(8)) {
                        *slot = decode(raw);
                    }
                }
                EntryWidth::Four => {
                    for (slot, raw) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                        *slot = decode(raw);
                    }
                }
            })
            .ok_or(AccessFault { address })
    }

    fn compare_exchange_entry(
        &self,
        address: u64,
        width: EntryWidth,
        current: u64,
        new: u64,
    ) -> Result<Result<u64, u64>, AccessFault> {
        self.check(address, width)?;
        if self.injection.access_fails() {
            return Err(AccessFault { address });
        }
        if let Some(value) = self.injection.take_race(address) {
            // Another thread's store lands between the read and the exchange.
            self.store.store(address, width.bytes(), value);
        }
        self.store
            .compare_exchange(address, width.bytes(), current, new)
            .ok_or(AccessFault { address })
    }
}

/// A little-endian value of up to 8 bytes (zero-extended), without a
/// variable-length copy for the entry widths.
fn decode(bytes: &[u8]) -> u64 {
    if let Ok(word) = <[u8; 8]>::try_from(bytes) {
        return u64::from_le_bytes(word);
    }
    if let Ok(half) = <[u8; 4]>::try_from(bytes) {
        return u64::from(u32::from_le_bytes(half));
    }
    let mut raw = [0u8; 8];
    raw[..bytes.len()].copy_from_slice(bytes);
    u64::from_le_bytes(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_sparse_and_swappable() {
        let store = PageStore::default();
        assert_eq!(store.load(0x5000, 8), None);
        store.populate(0x5008);
        assert_eq!(store.load(0x5000, 8), Some(0));
        store.store(0x5010, 8, 42).unwrap();
        assert!(store.swap_out(0x5000));
        assert_eq!(store.load(0x5010, 8), None);
        assert!(store.is_populated(0x5fff));
        assert_eq!(store.resident_bytes(0, u64::MAX), 0);
        store.populate(0x5000);
        assert_eq!(store.load(0x5010, 8), Some(42));
        assert_eq!(store.compare_exchange(0x5010, 4, 42, 7), Some(Ok(42)));
        assert_eq!(store.compare_exchange(0x5010, 4, 42, 7), Some(Err(7)));
        assert_eq!(store.next_populated(0x1000, 0x9000), Some(0x5000));
        assert_eq!(store.next_populated(0x6000, 0x9000), None);
        assert_eq!(store.discard(0, 0x10000), PAGE_SIZE);
        assert_eq!(store.total_resident(), 0);
        // A load must not cross a page.
        assert_eq!(store.load(0x5ffc, 8), None);
    }

    /// One entry at a time, through the trait's default `read_entries`.
    struct OneByOne<'a>(&'a SimUserAccess);

    impl UserAccess for OneByOne<'_> {
        fn read_entry(&self, address: u64, width: EntryWidth) -> Result<u64, AccessFault> {
            self.0.read_entry(address, width)
        }

        fn compare_exchange_entry(
            &self,
            address: u64,
            width: EntryWidth,
            current: u64,
            new: u64,
        ) -> Result<Result<u64, u64>, AccessFault> {
            self.0.compare_exchange_entry(address, width, current, new)
        }
    }

    #[test]
    fn bulk_reads_agree_with_single_reads() {
        let mm = crate::sim::SimAddressSpace::new(crate::arch::Mode::Long64);
        let user = mm.user_access();
        let page = 0x7000_0000;
        user.store.populate(page);
        for (i, value) in [(0, 1u64), (3, 0xdead_beef_0000_0001), (511, u64::MAX)] {
            user.store.store(page + i * 8, 8, value).unwrap();
        }
        for width in [EntryWidth::Eight, EntryWidth::Four] {
            let n = (PAGE_SIZE / width.bytes()) as usize;
            let (mut bulk, mut single) = (std::vec![7; n], std::vec![9; n]);
            user.read_entries(page, width, &mut bulk).unwrap();
            OneByOne(&user)
                .read_entries(page, width, &mut single)
                .unwrap();
            assert_eq!(bulk, single, "{width:?}");
            assert!(bulk.iter().any(|&v| v != 0));
        }
        let mut out = [0u64; 4];
        // Across the end of the page, or on a page not resident: a fault.
        assert!(user
            .read_entries(page + PAGE_SIZE - 16, EntryWidth::Eight, &mut out)
            .is_err());
        assert!(user
            .read_entries(page + PAGE_SIZE, EntryWidth::Eight, &mut out)
            .is_err());
        assert!(OneByOne(&user)
            .read_entries(page + PAGE_SIZE, EntryWidth::Eight, &mut out)
            .is_err());
    }
}
