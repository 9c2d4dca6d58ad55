//! Random operation sequences against the invariants.

use super::*;

/// Where the randomized sequences run, per process kind.
#[derive(Clone, Copy, Debug)]
struct Region {
    mode: Mode,
    /// First address (span aligned).
    start: u64,
    /// Spans in the region.
    spans: u64,
}

impl Region {
    const LONG64: Region = Region {
        mode: Mode::Long64,
        start: AREA,
        spans: 16,
    };
    const COMPAT32: Region = Region {
        mode: Mode::Compat32,
        start: 0x4000_0000,
        spans: 64,
    };
    /// Two whole 32-bit directory pages (1024 entries of 4 KiB spans each),
    /// so that unmaps can leave a directory page empty and release it.
    const COMPAT32_DIRECTORY_PAGES: Region = Region {
        mode: Mode::Compat32,
        start: 0x4000_0000,
        spans: 2048,
    };

    fn geometry(&self) -> mpx::arch::Geometry {
        mpx::arch::Geometry::of(self.mode)
    }
    fn span(&self) -> u64 {
        self.geometry().span_bytes()
    }
    fn pages(&self) -> u64 {
        self.spans * self.span() / PAGE
    }
    fn end(&self) -> u64 {
        self.start + self.spans * self.span()
    }
    fn table_bytes(&self) -> u64 {
        self.geometry().table_bytes()
    }
    /// The table address bits of a directory entry.
    fn table_in(&self, entry: u64) -> u64 {
        entry & !(self.geometry().directory_entry_bytes() - 1)
    }
    /// What BNDLDX gives back for a value stored (32-bit processes keep 32 bits).
    fn truncate(&self, value: u64) -> u64 {
        match self.mode {
            Mode::Long64 => value,
            Mode::Compat32 => value & 0xffff_ffff,
        }
    }
    /// A page range `(first page, pages)` of the region from raw draws.
    fn pages_from(&self, page: u64, pages: u64) -> (u64, u64) {
        let page = page % self.pages();
        (page, 1 + (pages - 1) % (self.pages() - page))
    }
}

/// One step of a random sequence; numbers are reduced to the region.
#[derive(Clone, Debug)]
enum Op {
    /// `mmap_fixed` of `pages` pages at page `page` of the region.
    Map { page: u64, pages: u64 },
    /// `munmap` of `pages` pages at page `page`.
    Unmap { page: u64, pages: u64 },
    /// BNDSTX at 8-byte word `word` of page `page`, whether mapped or not.
    Store { page: u64, word: u64, bounds: u64 },
    /// The user unmaps the `index`-th table (modulo their number), whole or
    /// one page of it.
    UnmapTable { index: usize, whole: bool },
    /// The directory page holding the entry of page `page` is swapped out.
    SwapOutDirectory { page: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    let page = 0..4096u64;
    let pages = prop_oneof![1..8u64, 1..300u64, 1..4096u64];
    prop_oneof![
        3 => (page.clone(), pages.clone()).prop_map(|(page, pages)| Op::Map { page, pages }),
        2 => (page.clone(), pages).prop_map(|(page, pages)| Op::Unmap { page, pages }),
        5 => (page.clone(), 0..512u64, any::<u64>())
            .prop_map(|(page, word, bounds)| Op::Store { page, word, bounds }),
        1 => (any::<usize>(), any::<bool>())
            .prop_map(|(index, whole)| Op::UnmapTable { index, whole }),
        1 => page.prop_map(|page| Op::SwapOutDirectory { page }),
    ]
}

/// What the test knows the process holds.
#[derive(Default)]
struct Model {
    /// Mapped pages of the region, by index.
    mapped: BTreeSet<u64>,
    /// slot → (pointer, lower, upper) stored for slots in mapped pages.
    bounds: BTreeMap<u64, (u64, u64, u64)>,
    /// Slots whose bounds were stored while their page was mapped, and whose
    /// page has been unmapped (or replaced) since: their table entries must
    /// be zero (released or freed), as in the Linux selftest's "every
    /// non-zero table entry belongs to a live mapping".
    released: BTreeSet<u64>,
}

impl Model {
    /// Forgets addresses `[lo, hi)`: they were unmapped or replaced.
    fn forget(&mut self, region: &Region, lo: u64, hi: u64) {
        for page in (lo - region.start) / PAGE..(hi - region.start) / PAGE {
            self.mapped.remove(&page);
        }
        let gone: Vec<u64> = self.bounds.range(lo..hi).map(|(&slot, _)| slot).collect();
        for slot in gone {
            self.bounds.remove(&slot);
            self.released.insert(slot);
        }
    }
}

/// Checks every invariant; returns the table each region span's entry names,
/// by span start.
fn check_invariants(
    p: &SimProcess,
    region: &Region,
    model: &Model,
) -> Result<BTreeMap<u64, u64>, TestCaseError> {
    let size = region.table_bytes();
    let tables = table_vmas(p);
    let mut by_span = BTreeMap::new();
    for span in 0..region.spans {
        let addr = region.start + span * region.span();
        let entry = p.directory_entry(addr).unwrap();
        if entry == 0 {
            continue;
        }
        prop_assert_eq!(entry & 1, 1, "span {} entry {:#x} not valid", span, entry);
        let t = region.table_in(entry);
        prop_assert!(
            tables.contains(&(t, t + size)),
            "span {} entry {:#x} names no whole table: {:#x?}",
            span,
            entry,
            tables
        );
        by_span.insert(addr, t);
    }
    // Only the region's spans ever get tables; each table is named once.
    let named: BTreeSet<u64> = by_span.values().copied().collect();
    let mapped: BTreeSet<u64> = tables.iter().map(|t| t.0).collect();
    prop_assert_eq!(&named, &mapped, "tables named vs mapped");
    prop_assert_eq!(named.len(), by_span.len(), "a table named twice");
    let s = p.stats();
    prop_assert_eq!(s.live_tables, tables.len() as u64);
    prop_assert_eq!(s.table_bytes_mapped, size * tables.len() as u64);
    prop_assert_eq!(s.tables_allocated - s.tables_freed, s.live_tables);
    prop_assert_eq!(p.would_deadlock_events(), 0);
    // Bounds stored for slots that stayed mapped are intact.
    for (&slot, &(ptr, lower, upper)) in &model.bounds {
        prop_assert_eq!(
            p.bndldx(slot, ptr).unwrap(),
            (lower, upper),
            "slot {:#x}",
            slot
        );
    }
    prop_assert_eq!(p.live_tables(), tables.len(), "a load allocated a table");
    // Table entries for unmapped data are zero.
    let g = region.geometry();
    for &slot in &model.released {
        let span = slot & !(region.span() - 1);
        let Some(&table) = by_span.get(&span) else {
            continue; // The table itself was freed.
        };
        let at = table + g.table_entry_offset(slot);
        for word in 0..g.table_entry_bytes() / 8 {
            prop_assert_eq!(
                p.peek_u64(at + 8 * word),
                0,
                "table entry for unmapped slot {:#x} not released",
                slot
            );
        }
    }
    Ok(by_span)
}

/// Runs `ops` in a fresh managed process of the region's kind, checking the
/// invariants before every step, then unmaps the whole region.
fn run_sequence(region: Region, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let p = SimProcess::with_mode(region.mode);
    let bd = p.enable_mpx().unwrap();
    let directory = p.vmas();
    let mut model = Model::default();
    for op in ops {
        let by_span = check_invariants(&p, &region, &model)?;
        match op {
            Op::Map { page, pages } => {
                let (page, pages) = region.pages_from(page, pages);
                let at = region.start + page * PAGE;
                prop_assert_eq!(p.mmap_fixed(at, pages * PAGE), Ok(at));
                model.forget(&region, at, at + pages * PAGE);
                model.mapped.extend(page..page + pages);
            }
            Op::Unmap { page, pages } => {
                let (page, pages) = region.pages_from(page, pages);
                let at = region.start + page * PAGE;
                prop_assert_eq!(p.munmap(at, pages * PAGE), Ok(()));
                model.forget(&region, at, at + pages * PAGE);
            }
            Op::Store { page, word, bounds } => {
                let page = page % region.pages();
                let slot = region.start + page * PAGE + word * 8;
                let (ptr, lower, upper) = (bounds ^ slot, bounds >> 1, bounds | 1);
                prop_assert_eq!(p.bndstx(slot, ptr, lower, upper), Ok(()));
                let expected = (region.truncate(lower), region.truncate(upper));
                prop_assert_eq!(p.bndldx(slot, ptr), Ok(expected));
                model.released.remove(&slot);
                if model.mapped.contains(&page) {
                    model.bounds.insert(slot, (ptr, expected.0, expected.1));
                }
            }
            Op::UnmapTable { index, whole } => {
                let tables = table_vmas(&p);
                if tables.is_empty() {
                    continue;
                }
                let (t, _) = tables[index % tables.len()];
                let (at, len) = if whole {
                    (t, region.table_bytes())
                } else {
                    let pages = region.table_bytes() / PAGE;
                    (t + (index as u64 % pages) * PAGE, PAGE)
                };
                prop_assert_eq!(p.munmap(at, len), Ok(()));
                let span = by_span
                    .iter()
                    .find(|(_, &table)| table == t)
                    .map(|(&span, _)| span)
                    .unwrap();
                prop_assert_eq!(p.directory_entry(span), Some(0));
                prop_assert!(!table_vmas(&p).iter().any(|v| v.0 < t + len && t < v.1));
                // The span's pages stay mapped; the bounds kept for them are gone.
                let span_end = span + region.span();
                model
                    .bounds
                    .retain(|&slot, _| slot < span || slot >= span_end);
            }
            Op::SwapOutDirectory { page } => {
                let addr = region.start + (page % region.pages()) * PAGE;
                p.swap_out(entry_address(&p, bd, addr));
            }
        }
    }
    check_invariants(&p, &region, &model)?;

    // Unmap everything but the directory: no table may survive.
    prop_assert_eq!(p.munmap(region.start, region.end() - region.start), Ok(()));
    prop_assert_eq!(p.live_tables(), 0);
    prop_assert_eq!(p.stats().live_tables, 0);
    prop_assert_eq!(p.resident_table_bytes(), 0);
    prop_assert_eq!(p.vmas(), directory);
    for span in 0..region.spans {
        prop_assert_eq!(
            p.directory_entry(region.start + span * region.span()),
            Some(0)
        );
    }
    // A region made of whole directory pages leaves them all zero: every
    // one is released, so nothing is resident any more (data, tables and
    // directory alike).
    let g = region.geometry();
    let entries_bytes = region.spans * g.directory_entry_bytes();
    if entries_bytes % PAGE == 0 && g.directory_entry_offset(region.start) % PAGE == 0 {
        prop_assert_eq!(p.resident_bytes(), 0);
    }
    let s = p.stats();
    prop_assert_eq!(s.tables_allocated, s.tables_freed);
    prop_assert_eq!(s.would_deadlock, 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn scenario_random_sequences_keep_entries_and_tables_consistent(
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        run_sequence(Region::LONG64, ops)?;
    }

    #[test]
    fn scenario_random_sequences_compat32(
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        run_sequence(Region::COMPAT32, ops)?;
    }

    #[test]
    fn scenario_random_sequences_release_directory_pages(
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        run_sequence(Region::COMPAT32_DIRECTORY_PAGES, ops)?;
    }
}
