//! Random sequences under faults and races: injected access failures, entries
//! changing under the unmap hook, directory pages swapped out or unmapped,
//! tables unmapped by the user. After every step the manager's invariant
//! holds ([`SimProcess::check_invariant`]) and no span ever sees another
//! span's bounds (two entries sharing a table); at the end a teardown leaves
//! nothing and the books balance.
//!
//! `MPX_SOAK_CASES` sets the number of cases (`scripts/soak.sh` runs 10^5).

use super::*;
use mpx::sim::{FailWhen, FaultPlan};

/// The pointer every store uses: bounds are told apart by their lower bound,
/// which is the slot itself, so a load that finds another slot's bounds
/// (two spans sharing a table) is caught.
const PTR: u64 = 0x5eed;

#[derive(Clone, Copy, Debug)]
struct Region {
    mode: Mode,
    start: u64,
    spans: u64,
}

impl Region {
    fn span(&self) -> u64 {
        mpx::arch::Geometry::of(self.mode).span_bytes()
    }
    fn slot(&self, span: u64, word: u64) -> u64 {
        let g = mpx::arch::Geometry::of(self.mode);
        self.start
            + (span % self.spans) * self.span()
            + (word % (self.span() / g.directory_entry_bytes())) * g.directory_entry_bytes()
    }
    fn limit(&self) -> u64 {
        match self.mode {
            Mode::Long64 => 1 << 47,
            Mode::Compat32 => 1 << 32,
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// BNDSTX at `slot(span, word)` with upper bound `slot + len`.
    Store { span: u64, word: u64, len: u64 },
    /// BNDLDX at `slot(span, word)`.
    Load { span: u64, word: u64 },
    /// munmap of `spans` spans from `span` plus `pages` pages, then mapped again.
    UnmapData {
        span: u64,
        spans: u64,
        pages: u64,
        remap: bool,
    },
    /// The user unmaps the `index`-th table, whole or one page of it.
    UnmapTable { index: usize, whole: bool },
    /// The directory page holding `span`'s entry is unmapped, then mapped
    /// again (zeros) if `remap`.
    UnmapDirectoryPage { span: u64, remap: bool },
    /// The directory page holding `span`'s entry is swapped out.
    SwapOut { span: u64 },
    /// The next step's entry access number `n` fails (once, or from then on),
    /// with the `fault_in` after it failing too or not.
    Inject {
        n: u64,
        from_on: bool,
        fault_in_fails: bool,
    },
    /// During the next step, before the next compare-exchange of `span`'s
    /// entry, the user sets reserved bits `bits` in it (it still names its
    /// table).
    Race { span: u64, bits: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    let span = 0..64u64;
    prop_oneof![
        6 => (span.clone(), any::<u64>(), 1..4096u64).prop_map(|(span, word, len)| Op::Store { span, word, len }),
        3 => (span.clone(), any::<u64>()).prop_map(|(span, word)| Op::Load { span, word }),
        3 => (span.clone(), 0..3u64, 0..300u64, any::<bool>())
            .prop_map(|(span, spans, pages, remap)| Op::UnmapData { span, spans, pages, remap }),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(index, whole)| Op::UnmapTable { index, whole }),
        1 => (span.clone(), any::<bool>()).prop_map(|(span, remap)| Op::UnmapDirectoryPage { span, remap }),
        1 => span.clone().prop_map(|span| Op::SwapOut { span }),
        3 => (0..12u64, any::<bool>(), any::<bool>())
            .prop_map(|(n, from_on, fault_in_fails)| Op::Inject { n, from_on, fault_in_fails }),
        1 => (span, prop_oneof![Just(3u64), Just(5), Just(7)]).prop_map(|(span, bits)| Op::Race { span, bits }),
    ]
}

fn run(region: Region, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let p = SimProcess::with_mode(region.mode);
    let bd = p.enable_mpx().unwrap();
    let g = p.geometry();
    let data_len = region.spans * region.span();
    prop_assert_eq!(p.mmap_fixed(region.start, data_len), Ok(region.start));
    let mut armed = false;
    for op in ops {
        // An injection or a race lasts one step.
        if armed {
            armed = false;
        } else {
            p.inject(None);
        }
        match op {
            Op::Store { span, word, len } => {
                let slot = region.slot(span, word);
                let _ = p.bndstx(slot, PTR, slot, slot + len);
            }
            Op::Load { span, word } => {
                let slot = region.slot(span, word);
                if let Ok(bounds) = p.bndldx(slot, PTR) {
                    prop_assert!(
                        bounds == INIT || bounds.0 == slot,
                        "slot {:#x} sees bounds {:#x?} stored for another slot",
                        slot,
                        bounds
                    );
                }
            }
            Op::UnmapData {
                span,
                spans,
                pages,
                remap,
            } => {
                let at = region.slot(span, 0);
                let len = (spans * region.span() + pages * PAGE).max(PAGE);
                let len = len.min(region.start + data_len - at);
                let _ = p.munmap(at, len);
                if remap {
                    let _ = p.mmap_fixed(at, len);
                }
            }
            Op::UnmapTable { index, whole } => {
                let tables = table_vmas(&p);
                if !tables.is_empty() {
                    let (t, end) = tables[index % tables.len()];
                    let (at, len) = if whole {
                        (t, end - t)
                    } else {
                        (t + (index as u64 % ((end - t) / PAGE)) * PAGE, PAGE)
                    };
                    let _ = p.munmap(at, len);
                }
            }
            Op::UnmapDirectoryPage { span, remap } => {
                let page = entry_address(&p, bd, region.slot(span, 0)) & !(PAGE - 1);
                let _ = p.munmap(page, PAGE);
                if remap {
                    let _ = p.mmap_fixed(page, PAGE);
                }
            }
            Op::SwapOut { span } => {
                p.swap_out(entry_address(&p, bd, region.slot(span, 0)));
            }
            Op::Inject {
                n,
                from_on,
                fault_in_fails,
            } => {
                let at = p.manager_accesses() + n;
                p.inject(Some(FaultPlan {
                    fail: if from_on {
                        FailWhen::FromOn(at)
                    } else {
                        FailWhen::Once(at)
                    },
                    fault_in_fails,
                }));
                armed = true;
            }
            Op::Race { span, bits } => {
                let slot = region.slot(span, 0);
                if let Some(entry) = p.directory_entry(slot).filter(|e| e & 1 == 1) {
                    let mask = g.directory_entry_bytes() - 1;
                    p.race_next_exchange(slot, (entry & !mask) | (bits & mask));
                    armed = true;
                }
            }
        }
        if let Err(e) = p.check_invariant() {
            return Err(TestCaseError::fail(format!("{e}; VMAs {:#x?}", p.vmas())));
        }
    }
    p.inject(None);
    prop_assert_eq!(p.munmap(0, region.limit()), Ok(()));
    prop_assert!(p.vmas().is_empty(), "{:#x?}", p.vmas());
    let s = p.stats();
    prop_assert_eq!(s.live_tables, 0);
    prop_assert_eq!(s.tables_allocated, s.tables_freed, "{:?}", s);
    prop_assert_eq!(s.would_deadlock, 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(1024)))]

    #[test]
    fn scenario_hostile_sequences_keep_the_invariant(ops in proptest::collection::vec(op(), 1..48)) {
        run(Region { mode: Mode::Long64, start: AREA, spans: 8 }, ops)?;
    }

    #[test]
    fn scenario_hostile_sequences_compat32(ops in proptest::collection::vec(op(), 1..48)) {
        run(Region { mode: Mode::Compat32, start: 0x4000_0000, spans: 64 }, ops)?;
    }
}
