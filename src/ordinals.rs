//! Sets of event ordinals (an event's index in its object) as sorted,
//! coalesced half-open ranges `[from, to)`, and which ordinals an invocation
//! reads an object for ([`Resume`]).
//!
//! The sink reports the ordinals Firehose did not accept as such a set, and
//! a continuation carries the ones still to send before its `skipEvents`,
//! so that it resends only those. A set holds at most [`MAX_RANGES`] ranges:
//! past that, the two closest ranges are joined, which adds ordinals (sent
//! again, as duplicates) and never drops one. It knows nothing of objects,
//! messages or Firehose.

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// Ranges kept per object at most; a continuation's body stays a few KiB.
pub const MAX_RANGES: usize = 64;

/// Sorted, disjoint, non-adjacent, non-empty ranges of ordinals. Serialized
/// as `[[from, to], ...]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<(u64, u64)>", into = "Vec<(u64, u64)>")]
pub struct OrdinalRanges(Vec<(u64, u64)>);

impl OrdinalRanges {
    pub fn new() -> Self {
        OrdinalRanges(Vec::new())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The ranges, in order.
    pub fn ranges(&self) -> impl Iterator<Item = Range<u64>> + '_ {
        self.0.iter().map(|&(from, to)| from..to)
    }

    /// Ordinals in the set.
    pub fn count(&self) -> u64 {
        self.0.iter().map(|(from, to)| to - from).sum()
    }

    /// The lowest ordinal in the set.
    pub fn first(&self) -> Option<u64> {
        self.0.first().map(|r| r.0)
    }

    pub fn contains(&self, ordinal: u64) -> bool {
        // The first range that ends after `ordinal` is the only candidate.
        let i = self.0.partition_point(|&(_, to)| to <= ordinal);
        self.0.get(i).is_some_and(|&(from, _)| from <= ordinal)
    }

    /// Adds `range` (nothing when it is empty), joining what it touches.
    pub fn insert(&mut self, range: Range<u64>) {
        if range.start >= range.end {
            return;
        }
        let (mut from, mut to) = (range.start, range.end);
        // Ranges that overlap or touch [from, to) are [lo, hi).
        let lo = self.0.partition_point(|&(_, end)| end < from);
        let hi = self.0.partition_point(|&(start, _)| start <= to);
        if lo < hi {
            from = from.min(self.0[lo].0);
            to = to.max(self.0[hi - 1].1);
        }
        self.0.splice(lo..hi, [(from, to)]);
        self.bound();
    }

    /// Adds every ordinal of `other`.
    pub fn extend(&mut self, other: &OrdinalRanges) {
        for range in other.ranges() {
            self.insert(range);
        }
    }

    /// The ordinals at or after `from`.
    pub fn at_or_after(&self, from: u64) -> OrdinalRanges {
        OrdinalRanges(
            self.0
                .iter()
                .filter(|&&(_, to)| to > from)
                .map(|&(start, to)| (start.max(from), to))
                .collect(),
        )
    }

    /// Removes the last range when it reaches `end` or beyond, and returns
    /// where it started: the ordinals from there on are lost up to `end`,
    /// so a reader goes on from there instead.
    pub fn pop_reaching(&mut self, end: u64) -> Option<u64> {
        match self.0.last() {
            Some(&(from, to)) if to >= end => {
                self.0.pop();
                Some(from)
            }
            _ => None,
        }
    }

    /// Joins the closest neighbours until at most [`MAX_RANGES`] are left.
    fn bound(&mut self) {
        while self.0.len() > MAX_RANGES {
            let closest = (1..self.0.len())
                .min_by_key(|&i| self.0[i].0 - self.0[i - 1].1)
                .unwrap_or(1);
            self.0[closest - 1].1 = self.0[closest].1;
            self.0.remove(closest);
        }
    }
}

impl From<Range<u64>> for OrdinalRanges {
    fn from(range: Range<u64>) -> Self {
        let mut set = OrdinalRanges::new();
        set.insert(range);
        set
    }
}

impl TryFrom<Vec<(u64, u64)>> for OrdinalRanges {
    type Error = String;

    fn try_from(pairs: Vec<(u64, u64)>) -> Result<Self, String> {
        let mut set = OrdinalRanges::new();
        for (from, to) in pairs {
            if from > to {
                return Err(format!("range [{from}, {to}) ends before it starts"));
            }
            set.insert(from..to);
        }
        Ok(set)
    }
}

impl From<OrdinalRanges> for Vec<(u64, u64)> {
    fn from(set: OrdinalRanges) -> Self {
        set.0
    }
}

/// Which events of an object an invocation sends: those in `resend`
/// (accounted for by an earlier invocation but not accepted) and every one
/// from `skip` on. The rest were delivered (or dropped) before: parsed
/// again, for the ordinals, and not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resume {
    pub skip: u64,
    pub resend: OrdinalRanges,
}

impl Resume {
    /// Every event from `skip` on.
    pub fn from_skip(skip: u64) -> Self {
        Resume {
            skip,
            resend: OrdinalRanges::new(),
        }
    }

    pub fn wants(&self, ordinal: u64) -> bool {
        ordinal >= self.skip || self.resend.contains(ordinal)
    }

    /// The first ordinal sent.
    pub fn first(&self) -> u64 {
        self.resend.first().map_or(self.skip, |f| f.min(self.skip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ranges: &[(u64, u64)]) -> OrdinalRanges {
        let mut s = OrdinalRanges::new();
        for &(from, to) in ranges {
            s.insert(from..to);
        }
        s
    }

    fn pairs(s: &OrdinalRanges) -> Vec<(u64, u64)> {
        s.ranges().map(|r| (r.start, r.end)).collect()
    }

    #[test]
    fn ranges_coalesce_when_they_overlap_or_touch() {
        // (inserted, expected)
        type Case = (&'static [(u64, u64)], &'static [(u64, u64)]);
        let table: &[Case] = &[
            (&[(5, 7), (1, 2)], &[(1, 2), (5, 7)]),
            (&[(1, 3), (3, 5)], &[(1, 5)]),
            (&[(1, 3), (2, 9), (10, 11)], &[(1, 9), (10, 11)]),
            (&[(1, 2), (4, 5), (7, 8), (0, 10)], &[(0, 10)]),
            (&[(4, 6), (1, 2), (2, 4)], &[(1, 6)]),
            (&[(3, 3), (5, 4)], &[]),
            (&[(10, 20), (12, 15)], &[(10, 20)]),
        ];
        for (inserted, want) in table {
            assert_eq!(pairs(&set(inserted)), *want, "{inserted:?}");
        }
        let s = set(&[(1, 3), (6, 8)]);
        let inside: Vec<u64> = (0..10).filter(|&o| s.contains(o)).collect();
        assert_eq!(inside, [1, 2, 6, 7]);
        assert_eq!(s.count(), 4);
        assert_eq!(pairs(&s.at_or_after(2)), [(2, 3), (6, 8)]);
        assert_eq!(pairs(&s.at_or_after(3)), [(6, 8)]);
    }

    #[test]
    fn past_the_bound_the_closest_ranges_are_joined_and_nothing_is_dropped() {
        // Ranges of one ordinal, 10 apart, then one pair 2 apart.
        let mut s = OrdinalRanges::new();
        let mut every = Vec::new();
        for i in 0..MAX_RANGES as u64 - 1 {
            every.push(i * 10);
            s.insert(i * 10..i * 10 + 1);
        }
        every.push(1000);
        s.insert(1000..1001);
        every.push(1003);
        s.insert(1003..1004);
        assert_eq!(s.0.len(), MAX_RANGES);
        // The pair 2 apart was joined; nothing else changed.
        assert_eq!(s.0.last(), Some(&(1000, 1004)));
        assert!(every.iter().all(|&o| s.contains(o)));
        assert_eq!(s.count(), MAX_RANGES as u64 - 1 + 4);
        // One more joins the closest pair again (two 9 apart, the first).
        s.insert(2000..2001);
        assert_eq!(s.0.len(), MAX_RANGES);
        assert_eq!(s.0[0], (0, 11));
        assert!(s.contains(2000) && s.contains(5));
    }

    #[test]
    fn the_last_range_reaching_the_end_is_popped() {
        let mut s = set(&[(1, 3), (6, 8)]);
        assert_eq!(s.pop_reaching(9), None);
        assert_eq!(s.pop_reaching(8), Some(6));
        assert_eq!(s.pop_reaching(2), Some(1));
        assert!(s.is_empty());
    }

    #[test]
    fn ranges_serialize_as_pairs_and_refuse_inverted_ones() {
        let s = set(&[(1, 3), (6, 8)]);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, "[[1,3],[6,8]]");
        assert_eq!(serde_json::from_str::<OrdinalRanges>(&json).unwrap(), s);
        let unsorted: OrdinalRanges = serde_json::from_str("[[6,8],[2,7]]").unwrap();
        assert_eq!(pairs(&unsorted), [(2, 8)]);
        assert!(serde_json::from_str::<OrdinalRanges>("[[5,1]]").is_err());
    }

    #[test]
    fn a_resume_wants_its_ranges_and_everything_from_skip() {
        let resume = Resume {
            skip: 20,
            resend: set(&[(3, 5), (9, 10)]),
        };
        let wanted: Vec<u64> = (0..23).filter(|&o| resume.wants(o)).collect();
        assert_eq!(wanted, [3, 4, 9, 20, 21, 22]);
        assert_eq!(resume.first(), 3);
        assert_eq!(Resume::from_skip(7).first(), 7);
    }
}
