//! Walking the kernel's VMAs and populated pages without trusting it to keep
//! the [`AddressSpace`] contract.
//!
//! Every loop over [`AddressSpace::vma_after`] or
//! [`AddressSpace::next_populated_page`] goes through these two functions: a
//! VMA that does not lie above the cursor (`end <= cursor`, or `start >=
//! end`), or a page outside `[start, end)` or at the very top of the address
//! space, is a broken contract. It is counted
//! ([`Statistics::contract_violations`](super::Statistics::contract_violations))
//! and ends the walk with [`Broken`]; a walk never spins on it and never
//! overflows.

use super::stats::Counters;
use crate::arch::layout::PAGE_SIZE;
use crate::mm::{AddressSpace, Vma};

/// The kernel broke the [`AddressSpace`] contract during a walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Broken;

/// The next VMA at or above `cursor` that starts below `limit`.
pub(crate) fn next_vma<M: AddressSpace + ?Sized>(
    mm: &M,
    cursor: u64,
    limit: u64,
    counters: &Counters,
) -> Result<Option<Vma>, Broken> {
    let Some(vma) = mm.vma_after(cursor) else {
        return Ok(None);
    };
    if vma.end <= cursor || vma.start >= vma.end {
        Counters::bump(&counters.contract_violations, 1);
        return Err(Broken);
    }
    Ok((vma.start < limit).then_some(vma))
}

/// The first populated page in `[start, end)` (page aligned), checked: a page
/// below `start`'s page, at or above `end`, or so high that the page after it
/// does not exist, is a broken contract.
pub(crate) fn next_populated<M: AddressSpace + ?Sized>(
    mm: &M,
    start: u64,
    end: u64,
    counters: &Counters,
) -> Result<Option<u64>, Broken> {
    let Some(page) = mm.next_populated_page(start, end) else {
        return Ok(None);
    };
    let page = page & !(PAGE_SIZE - 1);
    let in_range = page >= start & !(PAGE_SIZE - 1) && page < end;
    if !in_range || page.checked_add(PAGE_SIZE).is_none() {
        Counters::bump(&counters.contract_violations, 1);
        return Err(Broken);
    }
    Ok(Some(page))
}

#[cfg(test)]
mod tests {
    //! A kernel that breaks the [`AddressSpace`] contract: the manager reports
    //! it and carries on, never spinning and never overflowing.

    use crate::arch::{Bndcfg, BndcfgFlags, Mode};
    use crate::manager::{MpxManager, UnmapError};
    use crate::mm::{AddressSpace, MmError, Residency, Vma, VmaKind};
    use crate::sim::{SimAddressSpace, SimUserAccess};
    use core::cell::Cell;
    use std::vec::Vec;

    const MIB: u64 = 1 << 20;
    const AREA: u64 = 1 << 36;

    /// How the kernel lies.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Lie {
        None,
        /// `vma_after(x)` returns a VMA ending at `x` (one not above it).
        VmaEndingAtCursor,
        /// `vma_after(x)` returns an empty VMA.
        EmptyVma,
        /// `next_populated_page` returns the top page of the address space.
        TopPage,
        /// `next_populated_page` returns a page below `start`.
        PageBelowStart,
    }

    struct Liar {
        inner: SimAddressSpace,
        lie: Cell<Lie>,
    }

    impl AddressSpace for Liar {
        fn vma_after(&self, address: u64) -> Option<Vma> {
            match self.lie.get() {
                Lie::VmaEndingAtCursor if address > 0 => Some(Vma {
                    start: address - 4096,
                    end: address,
                    kind: VmaKind::Data,
                }),
                Lie::EmptyVma => Some(Vma {
                    start: address + 4096,
                    end: address + 4096,
                    kind: VmaKind::Data,
                }),
                _ => self.inner.vma_after(address),
            }
        }
        fn map_bounds_table(&mut self, len: u64, directory_entry: u64) -> Result<u64, MmError> {
            self.inner.map_bounds_table(len, directory_entry)
        }
        fn unmap_bounds_table(&mut self, start: u64, end: u64) -> Result<(), MmError> {
            self.inner.unmap_bounds_table(start, end)
        }
        fn release_pages(&mut self, start: u64, end: u64) -> u64 {
            self.inner.release_pages(start, end)
        }
        fn is_populated(&self, address: u64) -> bool {
            self.inner.is_populated(address)
        }
        fn next_populated_page(&self, start: u64, end: u64) -> Option<u64> {
            match self.lie.get() {
                Lie::TopPage => Some(0xffff_ffff_ffff_f000),
                Lie::PageBelowStart if start >= 4096 => Some((start & !4095) - 4096),
                _ => self.inner.next_populated_page(start, end),
            }
        }
        fn fault_in(&self, address: u64, write: bool) -> Result<(), MmError> {
            self.inner.fault_in(address, write)
        }
    }

    impl Residency for Liar {
        fn resident_bytes(&self, start: u64, end: u64) -> u64 {
            self.inner.resident_bytes(start, end)
        }
    }

    /// A managed 64-bit process over a lying kernel, with data at AREA and a
    /// table for its first span; the manager, the user access, the entry.
    fn process() -> (MpxManager<Liar>, SimUserAccess, u64) {
        let mut inner = SimAddressSpace::new(Mode::Long64);
        let user = inner.user_access();
        let geometry = crate::arch::Geometry::of(Mode::Long64);
        let bd = inner.map_anywhere(geometry.directory_bytes()).unwrap();
        inner.insert(AREA, AREA + 2 * MIB, VmaKind::Data);
        let mpx = MpxManager::new(
            Liar {
                inner,
                lie: Cell::new(Lie::None),
            },
            Mode::Long64,
            || 1,
        );
        let config = Bndcfg::new(bd, BndcfgFlags::ENABLE).unwrap();
        mpx.write().enable(config, bd).unwrap();
        let entry = bd + geometry.directory_entry_offset(AREA);
        mpx.allocate_table(&user, entry).unwrap();
        assert_eq!(mpx.statistics().live_tables, 1);
        (mpx, user, entry)
    }

    fn lie(mpx: &MpxManager<Liar>, lie: Lie) {
        mpx.lock().read().lie.set(lie);
    }

    #[test]
    fn a_vma_not_above_the_cursor_ends_walks_with_an_error() {
        for kind in [Lie::VmaEndingAtCursor, Lie::EmptyVma] {
            let (mpx, user, _) = process();
            lie(&mpx, kind);
            // Statistics end (the count is whatever was seen before the lie).
            let stats = mpx.statistics();
            assert!(stats.contract_violations >= 1);
            let _ = mpx.resident_table_bytes();
            let before = mpx.statistics().contract_violations;
            let mut removed = 0;
            let result = mpx
                .write()
                .munmap(&user, AREA, AREA + MIB, |_, _, _| removed += 1);
            assert_eq!(result, Err(UnmapError::BrokenContract));
            assert!(mpx.statistics().contract_violations > before);
            // The data range itself still goes.
            assert!(removed >= 1);
        }
    }

    #[test]
    fn a_populated_page_outside_the_range_ends_walks_with_an_error() {
        for kind in [Lie::TopPage, Lie::PageBelowStart] {
            let (mpx, user, entry) = process();
            lie(&mpx, kind);
            let mut removed = Vec::new();
            let result = mpx
                .write()
                .munmap(&user, AREA, AREA + MIB, |mm: &mut Liar, a, b| {
                    mm.inner.remove(a, b);
                    removed.push((a, b));
                });
            assert_eq!(result, Err(UnmapError::BrokenContract));
            assert_eq!(removed, [(AREA, AREA + MIB)]);
            assert!(mpx.statistics().contract_violations >= 1);
            lie(&mpx, Lie::None);
            // Nothing was freed on a lie: the entry still names its table.
            assert_eq!(user.store.peek(entry, 8) & 1, 1);
            assert_eq!(mpx.statistics().live_tables, 1);
        }
    }

    #[test]
    fn enable_over_a_lying_kernel_is_refused() {
        let (mpx, _, _) = process();
        let bd = mpx.directory_base().unwrap();
        lie(&mpx, Lie::VmaEndingAtCursor);
        let config = Bndcfg::new(bd, BndcfgFlags::ENABLE).unwrap();
        assert_eq!(
            mpx.write().enable(config, bd),
            Err(crate::manager::EnableError::DirectoryNotMapped)
        );
        assert!(mpx.statistics().contract_violations >= 1);
    }
}
