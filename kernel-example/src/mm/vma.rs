//! The VMAs of one address space: what each range is, what backs it, who may touch
//! it, and where a new mapping goes.

use super::layout::PAGE;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use mpx::mm::{TableMappings, Vma, VmaKind};

bitflags::bitflags! {
    /// Access a mapping allows (Linux's `PROT_*` values).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Prot: u8 {
        /// Loads.
        const READ = 1;
        /// Stores.
        const WRITE = 2;
        /// Instruction fetches.
        const EXEC = 4;
    }
}

/// What backs a VMA's pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// Zero-filled on first touch (a read maps the shared zero page, a write a frame
    /// of the process's own); frames owned by the process.
    Anonymous,
    /// The native program image in the kernel binary: mapped read-only, never freed.
    Image {
        /// Physical address of the VMA's first page.
        phys: u64,
    },
}

/// What `/proc/<pid>/maps` calls a mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VmaName {
    /// Nothing (anonymous memory).
    None,
    /// A file: its path, and the file offset of the VMA's start.
    File(Arc<str>, u64),
    /// The `brk` heap.
    Heap,
    /// The main thread's stack.
    Stack,
}

/// A VMA as the kernel keeps it: the crate's view plus what backs it.
#[derive(Clone, Debug)]
pub struct KernelVma {
    /// Range and kind, as the crate sees them.
    pub vma: Vma,
    /// What backs the pages.
    pub backing: Backing,
    /// Access allowed.
    pub prot: Prot,
    /// How `/proc/<pid>/maps` names it.
    pub name: VmaName,
}

impl KernelVma {
    /// The part of the VMA in `[start, end)` (which must overlap it): same access,
    /// backing and name (file offsets and image addresses moved along).
    pub fn piece(&self, start: u64, end: u64) -> KernelVma {
        let (lo, hi) = (self.vma.start.max(start), self.vma.end.min(end));
        let skipped = lo - self.vma.start;
        let mut piece = self.clone();
        piece.vma.start = lo;
        piece.vma.end = hi;
        if let Backing::Image { phys } = self.backing {
            piece.backing = Backing::Image {
                phys: phys + skipped,
            };
        }
        if let VmaName::File(path, offset) = &self.name {
            piece.name = VmaName::File(path.clone(), offset + skipped);
        }
        piece
    }
}

/// Where mappings without an address go.
#[derive(Clone, Copy, Debug)]
pub enum Placement {
    /// The lowest free range at or above the address (the native programs).
    BottomUp(u64),
    /// The highest free range below the address (Linux's `mmap_base`).
    TopDown(u64),
}

/// Most VMAs one address space may have (Linux's `vm.max_map_count` is 65530; the
/// kernel heap here is 8 MiB): a mapping, `mprotect` or `munmap` that would need more
/// fails with `MmError::NoMemory` (`-ENOMEM`).
pub const MAX_VMAS: usize = 8192;

/// The VMAs by start address.
#[derive(Debug, Default)]
pub struct Vmas {
    map: BTreeMap<u64, KernelVma>,
    /// The bounds-table VMAs, counted on every change (what the manager's O(1)
    /// statistics read through `AddressSpace::table_mappings`).
    tables: TableMappings,
}

impl Vmas {
    /// Whether `extra` more VMAs fit under [`MAX_VMAS`].
    pub fn has_room(&self, extra: usize) -> bool {
        self.map.len() + extra <= MAX_VMAS
    }

    /// VMAs an unmap of `[start, end)` adds: one when a single VMA reaches past both
    /// ends (it is split in two), else none.
    pub fn split_cost(&self, start: u64, end: u64) -> usize {
        usize::from(
            self.find(start)
                .is_some_and(|v| v.vma.start < start && v.vma.end > end),
        )
    }

    /// VMAs a change of `[start, end)` in place (`mprotect`) adds: one per end that
    /// falls inside a VMA.
    pub fn cut_cost(&self, start: u64, end: u64) -> usize {
        let inside = |at: u64| self.find(at).is_some_and(|v| v.vma.start < at);
        usize::from(inside(start)) + usize::from(inside(end))
    }

    /// The VMA containing `address`.
    pub fn find(&self, address: u64) -> Option<&KernelVma> {
        let (_, vma) = self.map.range(..=address).next_back()?;
        (vma.vma.end > address).then_some(vma)
    }

    /// The VMA containing `address`, or else the first one after it.
    pub fn after(&self, address: u64) -> Option<&KernelVma> {
        self.find(address)
            .or_else(|| self.map.range(address..).next().map(|(_, v)| v))
    }

    /// Every VMA, in address order.
    pub fn iter(&self) -> impl Iterator<Item = &KernelVma> {
        self.map.values()
    }

    /// Whether nothing is mapped in `[start, end)`.
    pub fn is_free(&self, start: u64, end: u64) -> bool {
        self.after(start).is_none_or(|v| v.vma.start >= end)
    }

    /// A free, page-aligned range of `len` bytes, placed as `placement` says, within
    /// `[floor, ceiling)`.
    pub fn find_free(
        &self,
        len: u64,
        placement: Placement,
        floor: u64,
        ceiling: u64,
    ) -> Option<u64> {
        match placement {
            Placement::BottomUp(base) => {
                let mut candidate = base.max(floor);
                for vma in self.map.range(..).map(|(_, v)| &v.vma) {
                    if vma.end <= candidate {
                        continue;
                    }
                    if vma.start >= candidate.checked_add(len)? {
                        break;
                    }
                    candidate = candidate.max(vma.end);
                }
                (candidate.checked_add(len)? <= ceiling).then_some(candidate)
            }
            Placement::TopDown(top) => {
                let mut candidate_end = top.min(ceiling);
                for vma in self.map.range(..top).rev().map(|(_, v)| &v.vma) {
                    if vma.start >= candidate_end {
                        continue;
                    }
                    if vma.end <= candidate_end.checked_sub(len)? {
                        break;
                    }
                    candidate_end = candidate_end.min(vma.start);
                }
                let start = candidate_end.checked_sub(len)?;
                (start >= floor).then_some(start)
            }
        }
    }

    /// Inserts a VMA over a range known to be free.
    pub fn insert(&mut self, vma: KernelVma) {
        debug_assert!(vma.vma.start.is_multiple_of(PAGE) && vma.vma.end.is_multiple_of(PAGE));
        if vma.vma.is_bounds_table() {
            self.tables.count += 1;
            self.tables.bytes += vma.vma.end - vma.vma.start;
        }
        self.map.insert(vma.vma.start, vma);
    }

    /// Takes the VMA starting at `key` out of the map and the table counters.
    fn take(&mut self, key: u64) -> Option<KernelVma> {
        let vma = self.map.remove(&key)?;
        if vma.vma.is_bounds_table() {
            self.tables.count -= 1;
            self.tables.bytes -= vma.vma.end - vma.vma.start;
        }
        Some(vma)
    }

    /// Removes every part of a VMA inside `[start, end)` for which `which` holds,
    /// splitting VMAs that straddle the bounds; returns the removed parts.
    pub fn remove(
        &mut self,
        start: u64,
        end: u64,
        which: impl Fn(&KernelVma) -> bool,
    ) -> Vec<KernelVma> {
        let keys: Vec<u64> = self
            .map
            .range(..end)
            .filter(|(_, v)| v.vma.end > start && which(v))
            .map(|(&k, _)| k)
            .collect();
        let mut removed = Vec::with_capacity(keys.len());
        for key in keys {
            let Some(vma) = self.take(key) else {
                continue;
            };
            if vma.vma.start < start {
                self.insert(vma.piece(vma.vma.start, start));
            }
            if end < vma.vma.end {
                self.insert(vma.piece(end, vma.vma.end));
            }
            removed.push(vma.piece(start, end));
        }
        removed
    }

    /// Replaces the access of every VMA part in `[start, end)` with `prot`
    /// (splitting at the bounds). Returns false, changing nothing, unless the range
    /// is wholly mapped.
    pub fn protect(&mut self, start: u64, end: u64, prot: Prot) -> bool {
        if !self.covers(start, end) {
            return false;
        }
        for mut piece in self.remove(start, end, |_| true) {
            piece.prot = prot;
            self.insert(piece);
        }
        true
    }

    /// Whether `[start, end)` is mapped without a hole.
    pub fn covers(&self, start: u64, end: u64) -> bool {
        let mut cursor = start;
        while cursor < end {
            match self.find(cursor) {
                Some(v) => cursor = v.vma.end,
                None => return false,
            }
        }
        true
    }

    /// Moves the end of the VMA that starts at `start` to `new_end` (> its end, at
    /// most `ceiling`), if the addresses between are free; whether it did.
    pub fn extend(&mut self, start: u64, new_end: u64, ceiling: u64) -> bool {
        let Some(vma) = self.map.get(&start) else {
            return false;
        };
        let end = vma.vma.end;
        if new_end <= end || new_end > ceiling || !self.is_free(end, new_end) {
            return false;
        }
        if let Some(vma) = self.map.get_mut(&start) {
            vma.vma.end = new_end;
            if vma.vma.is_bounds_table() {
                self.tables.bytes += new_end - end;
            }
        }
        true
    }

    /// Bounds-table VMAs (a table split by a partial user `munmap` counts per piece)
    /// and their bytes, kept as counters.
    pub fn table_mappings(&self) -> TableMappings {
        self.tables
    }

    /// Bounds-table VMAs counted by a walk: what the process's end-of-run check
    /// holds the counters (and so the manager's statistics) to.
    pub fn table_vmas(&self) -> u64 {
        self.map
            .values()
            .filter(|v| v.vma.is_bounds_table())
            .count() as u64
    }

    /// The crate's view of the VMA containing `address`, or the next.
    pub fn vma_after(&self, address: u64) -> Option<Vma> {
        self.after(address).map(|v| v.vma)
    }
}

/// A new VMA of `kind` over `[start, end)`.
pub fn vma(start: u64, end: u64, kind: VmaKind, backing: Backing, prot: Prot) -> KernelVma {
    KernelVma {
        vma: Vma { start, end, kind },
        backing,
        prot,
        name: VmaName::None,
    }
}
