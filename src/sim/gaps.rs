//! The free stretches of a simulated address space, for first-fit placement
//! without scanning every mapping.
//!
//! Gaps are kept by start and, for the search, by length: the lowest gap of
//! at least `len` bytes is the lowest start among the gaps of each length
//! `>= len`, so a search visits one entry per distinct gap length, not one
//! per mapping (a process of tables has few lengths: 4 MiB holes and the rest).

use std::collections::{BTreeMap, BTreeSet};
use std::vec::Vec;

/// Free `[start, end)` stretches within `[low, high)`.
#[derive(Clone, Debug)]
pub(crate) struct Gaps {
    low: u64,
    high: u64,
    /// start → end.
    by_start: BTreeMap<u64, u64>,
    /// length → starts.
    by_len: BTreeMap<u64, BTreeSet<u64>>,
}

impl Gaps {
    /// All of `[low, high)` free.
    pub(crate) fn new(low: u64, high: u64) -> Gaps {
        let mut gaps = Gaps {
            low,
            high,
            by_start: BTreeMap::new(),
            by_len: BTreeMap::new(),
        };
        gaps.add(low, high);
        gaps
    }

    fn add(&mut self, start: u64, end: u64) {
        if start < end {
            self.by_start.insert(start, end);
            self.by_len.entry(end - start).or_default().insert(start);
        }
    }

    fn drop_gap(&mut self, start: u64, end: u64) {
        self.by_start.remove(&start);
        if let Some(starts) = self.by_len.get_mut(&(end - start)) {
            starts.remove(&start);
            if starts.is_empty() {
                self.by_len.remove(&(end - start));
            }
        }
    }

    /// `[start, end)` is now in use (it was free, or partly outside the
    /// tracked window).
    pub(crate) fn take(&mut self, start: u64, end: u64) {
        let (start, end) = (start.max(self.low), end.min(self.high));
        if start >= end {
            return;
        }
        // The gaps meeting [start, end): the one containing start, then those after.
        let first = self
            .by_start
            .range(..=start)
            .next_back()
            .map(|(&s, &e)| (s, e))
            .filter(|&(_, e)| e > start);
        let later: Vec<(u64, u64)> = self
            .by_start
            .range(start..end)
            .map(|(&s, &e)| (s, e))
            .collect();
        for (s, e) in first.into_iter().chain(later) {
            self.drop_gap(s, e);
            self.add(s, s.max(start).min(e));
            self.add(e.min(end).max(s), e);
        }
    }

    /// `[start, end)` is free again (it was in use), merged with its neighbours.
    pub(crate) fn give(&mut self, start: u64, end: u64) {
        let (mut start, mut end) = (start.max(self.low), end.min(self.high));
        if start >= end {
            return;
        }
        if let Some((&s, &e)) = self.by_start.range(..=start).next_back() {
            if e >= start {
                self.drop_gap(s, e);
                start = s;
                end = end.max(e);
            }
        }
        let after: Vec<(u64, u64)> = self
            .by_start
            .range(start..=end)
            .map(|(&s, &e)| (s, e))
            .collect();
        for (s, e) in after {
            self.drop_gap(s, e);
            end = end.max(e);
        }
        self.add(start, end);
    }

    /// The lowest start of a gap of at least `len` bytes.
    pub(crate) fn first_fit(&self, len: u64) -> Option<u64> {
        self.by_len
            .range(len..)
            .filter_map(|(_, starts)| starts.first().copied())
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::Gaps;

    #[test]
    fn first_fit_takes_the_lowest_gap_that_fits() {
        let mut g = Gaps::new(0x1000, 0x100000);
        assert_eq!(g.first_fit(0x1000), Some(0x1000));
        g.take(0x1000, 0x9000);
        assert_eq!(g.first_fit(0x1000), Some(0x9000));
        g.give(0x2000, 0x3000);
        g.give(0x5000, 0x8000);
        assert_eq!(g.first_fit(0x1000), Some(0x2000));
        assert_eq!(g.first_fit(0x2000), Some(0x5000));
        assert_eq!(g.first_fit(0x4000), Some(0x9000));
        // Merging: the hole grows back into the free tail.
        g.give(0x8000, 0x9000);
        assert_eq!(g.first_fit(0x4000), Some(0x5000));
        g.give(0x1000, 0x2000);
        g.give(0x3000, 0x5000);
        assert_eq!(g.first_fit(0xff000), Some(0x1000));
        assert_eq!(g.first_fit(0x100000), None);
    }

    #[test]
    fn take_splits_and_clips() {
        let mut g = Gaps::new(0x1000, 0x10000);
        g.take(0x0, 0x2000); // partly below the window
        g.take(0x4000, 0x5000);
        g.take(0xf000, 0x20000); // partly above it
        assert_eq!(g.first_fit(0x2000), Some(0x2000));
        assert_eq!(g.first_fit(0x3000), Some(0x5000));
        assert_eq!(g.first_fit(0xb000), None);
        assert_eq!(g.first_fit(0xa000), Some(0x5000));
    }
}
