//! Exhaustive interleavings of the #BR / unmap / enable / disable protocol,
//! checked with [loom](https://docs.rs/loom).
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" cargo test --release --test loom --target-dir target/loom -- --nocapture`
//! (CI does). Under `cfg(loom)` the crate's mm lock and directory base are
//! loom's (`src/sync.rs`), and here a fake kernel keeps the directory entries
//! in loom atomics, so loom runs every model once per distinct interleaving
//! of the threads' lock operations and entry accesses (and their memory
//! orderings). Each run ends with the invariant: every valid entry names a
//! live bounds-table mapping of exact table size made for that entry; no
//! table stays mapped that is neither named by its entry nor needed by data in
//! its span; tables allocated = freed + live. Each model prints how many
//! interleavings it explored.
#![cfg(loom)]

use loom::sync::atomic::{AtomicU64, Ordering};
use loom::sync::Arc;
use loom::thread;
use mpx::arch::entry::EntryState;
use mpx::arch::{Bndcfg, BndcfgFlags, DirectoryEntry, EntryWidth, Geometry, Mode};
use mpx::manager::{AllocError, Allocation, MpxManager, UnmapError};
use mpx::mm::{AccessFault, AddressSpace, MmError, UserAccess, Vma, VmaKind};
use std::collections::BTreeMap;

const MIB: u64 = 1 << 20;
const GEOMETRY: Geometry = Geometry::of(Mode::Long64);
/// The two directories a model may enable (2 GiB each).
const DIRECTORY: u64 = 0x1000_0000;
const OTHER_DIRECTORY: u64 = 0x1_0000_0000;
/// Where the fake kernel places tables.
const TABLES: u64 = 0x10_0000_0000;
/// Two spans of data.
const SPAN_A: u64 = 1 << 36;
const SPAN_B: u64 = SPAN_A + MIB;

fn entry_of(directory: u64, slot: u64) -> u64 {
    directory + GEOMETRY.directory_entry_offset(slot)
}

fn context() -> u64 {
    use std::sync::atomic::{AtomicU64 as Id, Ordering::Relaxed};
    static NEXT: Id = Id::new(1);
    loom::thread_local! {
        static ID: u64 = NEXT.fetch_add(1, Relaxed);
    }
    ID.with(|id| *id)
}

/// The directory entries the models use, as loom atomics: the user memory
/// the CPU and the threads share. Any other address reads as zero and cannot
/// be written.
#[derive(Clone)]
struct User {
    entries: Arc<Vec<(u64, AtomicU64)>>,
}

impl User {
    fn new() -> User {
        let mut entries = Vec::new();
        for directory in [DIRECTORY, OTHER_DIRECTORY] {
            for slot in [SPAN_A, SPAN_B] {
                entries.push((entry_of(directory, slot), AtomicU64::new(0)));
            }
        }
        User {
            entries: Arc::new(entries),
        }
    }

    fn cell(&self, address: u64) -> Option<&AtomicU64> {
        self.entries
            .iter()
            .find(|(a, _)| *a == address)
            .map(|(_, cell)| cell)
    }

    /// A user store into the directory (an 8-byte store); returns what it
    /// overwrote, which tells the model whether it came before the kernel's
    /// clear of the entry or after it.
    fn store(&self, address: u64, value: u64) -> u64 {
        self.cell(address)
            .expect("a model entry")
            .swap(value, Ordering::SeqCst)
    }

    fn load(&self, address: u64) -> u64 {
        self.cell(address).map_or(0, |c| c.load(Ordering::SeqCst))
    }
}

impl UserAccess for User {
    fn read_entry(&self, address: u64, _width: EntryWidth) -> Result<u64, AccessFault> {
        Ok(self.load(address))
    }

    fn compare_exchange_entry(
        &self,
        address: u64,
        _width: EntryWidth,
        current: u64,
        new: u64,
    ) -> Result<Result<u64, u64>, AccessFault> {
        let cell = self.cell(address).ok_or(AccessFault { address })?;
        Ok(cell.compare_exchange(current, new, Ordering::SeqCst, Ordering::SeqCst))
    }
}

/// The fake kernel's mm: VMAs by start, tables placed one after another.
/// Only ever touched under the crate's mm lock.
struct Mm {
    vmas: BTreeMap<u64, (u64, VmaKind)>,
    next_table: u64,
    /// The directory being managed, as the model set it under the write lock
    /// with each enable and disable: a table mapped for an entry of any other
    /// directory (or while not managing) is a protocol violation.
    managing: Option<u64>,
}

impl Mm {
    fn new() -> Mm {
        let mut vmas = BTreeMap::new();
        for directory in [DIRECTORY, OTHER_DIRECTORY] {
            vmas.insert(
                directory,
                (directory + GEOMETRY.directory_bytes(), VmaKind::Data),
            );
        }
        vmas.insert(SPAN_A, (SPAN_B + MIB, VmaKind::Data));
        Mm {
            vmas,
            next_table: TABLES,
            managing: None,
        }
    }

    fn split_at(&mut self, address: u64) {
        if let Some((&start, &(end, kind))) = self.vmas.range(..address).next_back() {
            if start < address && address < end {
                self.vmas.insert(start, (address, kind));
                self.vmas.insert(address, (end, kind));
            }
        }
    }

    /// The kernel's own unmap of `[start, end)`.
    fn remove(&mut self, start: u64, end: u64) {
        self.split_at(start);
        self.split_at(end);
        let inside: Vec<u64> = self.vmas.range(start..end).map(|(&s, _)| s).collect();
        for s in inside {
            self.vmas.remove(&s);
        }
    }

    fn list(&self) -> impl Iterator<Item = Vma> + '_ {
        self.vmas
            .iter()
            .map(|(&start, &(end, kind))| Vma { start, end, kind })
    }
}

impl AddressSpace for Mm {
    fn vma_after(&self, address: u64) -> Option<Vma> {
        self.list().find(|v| v.end > address)
    }

    fn map_bounds_table(&mut self, len: u64, directory_entry: u64) -> Result<u64, MmError> {
        assert!(
            self.managing
                .is_some_and(|d| (d..d + GEOMETRY.directory_bytes()).contains(&directory_entry)),
            "a table mapped for {directory_entry:#x} while managing {:#x?}",
            self.managing
        );
        let start = self.next_table;
        self.next_table += len;
        self.vmas.insert(
            start,
            (start + len, VmaKind::BoundsTable { directory_entry }),
        );
        Ok(start)
    }

    fn unmap_bounds_table(&mut self, start: u64, end: u64) -> Result<(), MmError> {
        if self
            .list()
            .any(|v| v.overlaps(start, end) && !v.is_bounds_table())
        {
            return Err(MmError::Invalid);
        }
        self.remove(start, end);
        Ok(())
    }

    fn release_pages(&mut self, _start: u64, _end: u64) -> u64 {
        0
    }

    fn is_populated(&self, address: u64) -> bool {
        let page = address & !0xfff;
        [DIRECTORY, OTHER_DIRECTORY].iter().any(|&d| {
            [SPAN_A, SPAN_B]
                .iter()
                .any(|&s| entry_of(d, s) & !0xfff == page)
        })
    }

    fn fault_in(&self, _address: u64, _write: bool) -> Result<(), MmError> {
        Ok(())
    }
}

/// One model's process: the manager over the fake mm, and the user memory.
#[derive(Clone)]
struct World {
    mpx: Arc<MpxManager<Mm>>,
    user: User,
}

impl World {
    /// Management on for DIRECTORY.
    fn new() -> World {
        let world = World {
            mpx: Arc::new(MpxManager::new(Mm::new(), Mode::Long64, context)),
            user: User::new(),
        };
        world.enable(DIRECTORY);
        world
    }

    fn enable(&self, directory: u64) {
        let config = Bndcfg::new(directory, BndcfgFlags::ENABLE).unwrap();
        let mut mm = self.mpx.write();
        mm.enable(config, directory).unwrap();
        mm.managing = Some(directory);
    }

    fn disable(&self) {
        let mut mm = self.mpx.write();
        mm.disable();
        mm.managing = None;
    }

    /// A #BR for `slot`'s entry in `directory`.
    fn br(&self, directory: u64, slot: u64) -> Result<Allocation, AllocError> {
        self.mpx
            .allocate_table(&self.user, entry_of(directory, slot))
    }

    fn munmap(&self, start: u64, end: u64) -> Result<(), UnmapError> {
        self.mpx
            .write()
            .munmap(&self.user, start, end, Mm::remove)
            .map(|_| ())
    }

    /// The table `slot`'s entry in `directory` names, if it names one.
    fn table_of(&self, directory: u64, slot: u64) -> Option<u64> {
        match DirectoryEntry::from_raw(self.user.load(entry_of(directory, slot))).state(&GEOMETRY) {
            EntryState::Table(table) => Some(table),
            _ => None,
        }
    }

    fn live_tables(&self) -> u64 {
        self.mpx.statistics().live_tables
    }

    /// The invariant (see the module doc), over both directories' entries.
    /// `user_entries` are entries the user wrote last (their value is the
    /// user's, so it is not required to name a table).
    #[track_caller]
    fn check(&self, user_entries: &[u64]) {
        let mm = self.mpx.lock().read();
        for (entry, cell) in self.user.entries.iter() {
            let value = cell.load(Ordering::SeqCst);
            if user_entries.contains(entry) {
                continue;
            }
            if let EntryState::Table(table) = DirectoryEntry::from_raw(value).state(&GEOMETRY) {
                let whole = mm.list().any(|v| {
                    v.start == table
                        && v.end - v.start == GEOMETRY.table_bytes()
                        && v.kind
                            == VmaKind::BoundsTable {
                                directory_entry: *entry,
                            }
                });
                assert!(
                    whole,
                    "entry {entry:#x} = {value:#x} names no table made for it"
                );
            }
        }
        for vma in mm.list() {
            let VmaKind::BoundsTable { directory_entry } = vma.kind else {
                continue;
            };
            let named =
                match DirectoryEntry::from_raw(self.user.load(directory_entry)).state(&GEOMETRY) {
                    EntryState::Table(t) => t == vma.start,
                    _ => false,
                };
            let span = [SPAN_A, SPAN_B]
                .into_iter()
                .find(|&s| {
                    [DIRECTORY, OTHER_DIRECTORY]
                        .iter()
                        .any(|&d| entry_of(d, s) == directory_entry)
                })
                .expect("a table for a model entry");
            let data = mm
                .list()
                .any(|v| v.kind == VmaKind::Data && v.overlaps(span, span + MIB));
            assert!(
                named || data,
                "table {:#x} for entry {directory_entry:#x}: neither named nor needed",
                vma.start
            );
        }
        drop(mm);
        let s = self.mpx.statistics();
        assert_eq!(s.tables_allocated, s.tables_freed + s.live_tables, "{s:?}");
        assert_eq!(s.would_deadlock, 0);
    }
}

/// Runs `model` under loom and prints how many interleavings it explored.
fn explore(name: &str, model: impl Fn() + Sync + Send + 'static) {
    use std::sync::atomic::{AtomicU64 as Count, Ordering::Relaxed};
    let runs = std::sync::Arc::new(Count::new(0));
    let counted = runs.clone();
    loom::model(move || {
        counted.fetch_add(1, Relaxed);
        model();
    });
    let n = runs.load(Relaxed);
    println!("loom model {name}: {n} interleavings explored");
    assert!(n > 1, "{name}: only one interleaving");
}

fn installed(result: Result<Allocation, AllocError>) {
    assert!(
        matches!(
            result,
            Ok(Allocation::Installed { .. } | Allocation::AlreadyInstalled { .. })
        ),
        "{result:?}"
    );
}

#[test]
fn two_brs_on_one_entry_install_one_table() {
    explore("two #BRs on one entry", || {
        let w = World::new();
        let other = w.clone();
        let t = thread::spawn(move || installed(other.br(DIRECTORY, SPAN_A)));
        installed(w.br(DIRECTORY, SPAN_A));
        t.join().unwrap();
        w.check(&[]);
        assert!(w.table_of(DIRECTORY, SPAN_A).is_some());
        let s = w.mpx.statistics();
        assert_eq!((s.live_tables, s.tables_allocated), (1, 1), "{s:?}");
    });
}

#[test]
fn two_brs_on_two_entries_at_a_limit_of_one_table() {
    explore("two #BRs on two entries, limit 1", || {
        let w = World::new();
        w.mpx.set_table_limit(Some(1));
        let other = w.clone();
        let t = thread::spawn(move || other.br(DIRECTORY, SPAN_B));
        let here = w.br(DIRECTORY, SPAN_A);
        let there = t.join().unwrap();
        // Exactly one gets a table; the other is refused by the limit.
        let refused = |r: &Result<Allocation, AllocError>| {
            matches!(r, Err(AllocError::TableLimit { limit: 1, .. }))
        };
        assert!(
            (here.is_ok() && refused(&there)) || (refused(&here) && there.is_ok()),
            "{here:?} {there:?}"
        );
        w.check(&[]);
        let s = w.mpx.statistics();
        assert_eq!(
            (s.live_tables, s.tables_allocated, s.limit_refusals),
            (1, 1, 1),
            "{s:?}"
        );
    });
}

#[test]
fn br_against_the_munmap_of_its_span() {
    explore("#BR vs munmap of its span", || {
        let w = World::new();
        let other = w.clone();
        let t = thread::spawn(move || installed(other.br(DIRECTORY, SPAN_A)));
        w.munmap(SPAN_A, SPAN_A + MIB).unwrap();
        t.join().unwrap();
        // The #BR came first (its table was freed with the span) or after
        // (its table is named by the entry, for a span now empty, as on a CPU
        // whose store raced the munmap): either way the invariant holds.
        w.check(&[]);
        let named = w.table_of(DIRECTORY, SPAN_A).is_some();
        assert_eq!(w.live_tables(), u64::from(named));
    });
}

#[test]
fn br_against_disable_and_enable_of_another_directory() {
    explore("#BR vs disable/enable", || {
        let w = World::new();
        let other = w.clone();
        let t = thread::spawn(move || {
            let result = other.br(DIRECTORY, SPAN_A);
            // Installed in the old directory before the switch, or refused:
            // never a table put into a directory no longer managed.
            assert!(
                matches!(
                    result,
                    Ok(Allocation::Installed { .. })
                        | Err(AllocError::NotManaged)
                        | Err(AllocError::EntryOutsideDirectory { .. })
                ),
                "{result:?}"
            );
        });
        w.disable();
        w.enable(OTHER_DIRECTORY);
        t.join().unwrap();
        w.check(&[]);
        assert!(w.table_of(OTHER_DIRECTORY, SPAN_A).is_none());
        // The new directory is served; the old one's table (if any) is left.
        installed(w.br(OTHER_DIRECTORY, SPAN_A));
        w.check(&[]);
    });
}

#[test]
fn user_unmapping_a_table_against_a_br_on_its_entry() {
    explore("the user unmapping a table vs #BR on its entry", || {
        let w = World::new();
        installed(w.br(DIRECTORY, SPAN_A));
        let table = w.table_of(DIRECTORY, SPAN_A).unwrap();
        let other = w.clone();
        // A #BR on the entry (a stale one, or one after the entry was
        // cleared) while the user unmaps the table.
        let t = thread::spawn(move || installed(other.br(DIRECTORY, SPAN_A)));
        w.munmap(table, table + GEOMETRY.table_bytes()).unwrap();
        t.join().unwrap();
        w.check(&[]);
        // Never the removed table: the entry is empty or names a new one.
        assert_ne!(w.table_of(DIRECTORY, SPAN_A), Some(table));
    });
}

/// After an unmap that freed the table `installed` named, raced by a user
/// store of `stored` (still naming the table) that overwrote `overwritten`:
/// the table is gone whatever the order. A store before the kernel's clear
/// (it overwrote the installed value) must have been re-read and cleared; a
/// store after it (it overwrote 0) is the user's own stale value, left alone.
#[track_caller]
fn stored_before_or_after_the_clear(
    w: &World,
    entry: u64,
    installed: u64,
    stored: u64,
    overwritten: u64,
) {
    assert_eq!(w.live_tables(), 0);
    let value = w.user.load(entry);
    if overwritten == installed {
        assert_eq!(value, 0, "a store before the clear left {value:#x}");
        w.check(&[]);
    } else {
        assert_eq!((overwritten, value), (0, stored));
        w.check(&[entry]);
    }
}

#[test]
fn data_unmap_against_a_user_store_to_the_entry() {
    explore("munmap of a span vs a user store to its entry", || {
        let w = World::new();
        installed(w.br(DIRECTORY, SPAN_A));
        let table = w.table_of(DIRECTORY, SPAN_A).unwrap();
        let entry = entry_of(DIRECTORY, SPAN_A);
        let other = w.clone();
        // The user sets a reserved bit: the entry still names the table.
        let t = thread::spawn(move || other.user.store(entry, table | 5));
        w.munmap(SPAN_A, SPAN_A + MIB).unwrap();
        let overwritten = t.join().unwrap();
        stored_before_or_after_the_clear(&w, entry, table | 1, table | 5, overwritten);
    });
}

#[test]
fn user_unmapping_a_table_against_a_user_store_to_its_entry() {
    explore(
        "the user unmapping a table vs a user store to its entry",
        || {
            let w = World::new();
            installed(w.br(DIRECTORY, SPAN_B));
            let table = w.table_of(DIRECTORY, SPAN_B).unwrap();
            let entry = entry_of(DIRECTORY, SPAN_B);
            let other = w.clone();
            let t = thread::spawn(move || other.user.store(entry, table | 3));
            w.munmap(table, table + GEOMETRY.table_bytes()).unwrap();
            let overwritten = t.join().unwrap();
            stored_before_or_after_the_clear(&w, entry, table | 1, table | 3, overwritten);
        },
    );
}

#[test]
fn brs_on_two_entries_against_the_munmap_of_both_spans() {
    explore("two #BRs on two entries vs munmap of both spans", || {
        let w = World::new();
        let (a, b) = (w.clone(), w.clone());
        let ta = thread::spawn(move || installed(a.br(DIRECTORY, SPAN_A)));
        let tb = thread::spawn(move || installed(b.br(DIRECTORY, SPAN_B)));
        w.munmap(SPAN_A, SPAN_B + MIB).unwrap();
        ta.join().unwrap();
        tb.join().unwrap();
        w.check(&[]);
        let named = [SPAN_A, SPAN_B]
            .iter()
            .filter(|&&s| w.table_of(DIRECTORY, s).is_some())
            .count() as u64;
        assert_eq!(w.live_tables(), named);
    });
}
