//! "Did you mean …?": the nearest known name to a misspelt one.
//!
//! Measuring a name against every known one costs time in both their numbers: a file with
//! thousands of misspelt names among thousands of known ones would take minutes to load. So
//! candidates that cannot be close enough are skipped by their length, the distance is measured
//! in a band and given up as soon as it cannot beat the best so far, and within a
//! [`with_budget`] scope (one per scenario file) only the first few unknown names get a
//! suggestion: later ones keep their error, without one.

use std::cell::Cell;

/// Longer inputs are not names anyone misspelt; measuring them would only cost time.
const LONGEST: usize = 64;

thread_local! {
    /// Suggestions still allowed in the current [`with_budget`] scope (`None`: no scope).
    static LEFT: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Runs `f` with at most `suggestions` names given a suggestion (on this thread), so that the
/// time spent suggesting does not grow with the number of misspelt names. Scopes nest: an inner
/// scope gets what is left of the outer one, and gives back what it did not use.
pub fn with_budget<T>(suggestions: usize, f: impl FnOnce() -> T) -> T {
    /// Puts the outer scope back, less what this one used (also if `f` panics).
    struct Restore {
        outer: Option<usize>,
        start: usize,
    }
    impl Drop for Restore {
        fn drop(&mut self) {
            let left = LEFT.with(Cell::get).unwrap_or(0);
            let used = self.start.saturating_sub(left);
            LEFT.with(|l| l.set(self.outer.map(|outer| outer.saturating_sub(used))));
        }
    }
    let outer = LEFT.with(Cell::get);
    let start = outer.map_or(suggestions, |outer| outer.min(suggestions));
    let _restore = Restore { outer, start };
    LEFT.with(|l| l.set(Some(start)));
    f()
}

/// Takes one suggestion from the current scope's budget; false when none is left.
fn take_one() -> bool {
    LEFT.with(|left| match left.get() {
        None => true,
        Some(0) => false,
        Some(n) => {
            left.set(Some(n - 1));
            true
        }
    })
}

/// The known name nearest to `name`, if one is at most two edits away (or a third of its
/// length, for long names); ties go to the first in `known`. Case is ignored when measuring, so
/// `eaddrinuse` finds `EADDRINUSE`. Within a [`with_budget`] scope whose budget is spent, none.
///
/// Time is linear in the total length of `known` times the allowed distance.
pub fn nearest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if name.len() > LONGEST || !take_one() {
        return None;
    }
    let original = name;
    let name: Vec<char> = name.chars().map(|c| c.to_ascii_lowercase()).collect();
    let allowed = (name.len() / 3).max(2);
    let mut best: Option<(usize, &str)> = None;
    let mut row = Vec::new();
    let mut candidate_chars = Vec::new();
    for candidate in known {
        // Ties go to the first: a later candidate must be strictly nearer.
        let bound = best.map_or(allowed, |(d, _)| d - 1);
        if candidate == original
            || candidate.len() > LONGEST
            // Each char is at least one byte and at most four.
            || candidate.len() + bound < name.len()
            || candidate.len() > 4 * (name.len() + bound)
        {
            continue;
        }
        candidate_chars.clear();
        candidate_chars.extend(candidate.chars().map(|c| c.to_ascii_lowercase()));
        if let Some(distance) = distance_within(&name, &candidate_chars, bound, &mut row) {
            best = Some((distance, candidate));
            if distance == 0 {
                break;
            }
        }
    }
    best.map(|(_, known)| known)
}

/// `" (did you mean `x`?)"` for the nearest known name, or nothing.
pub fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    nearest(name, known).map_or_else(String::new, |k| format!(" (did you mean `{k}`?)"))
}

/// The Levenshtein distance between `a` and `b` if it is at most `bound`, else `None`. Only the
/// band of cells within `bound` of the diagonal is computed, and it stops as soon as every cell
/// of a row exceeds `bound`: time is `O(len × bound)`.
fn distance_within(a: &[char], b: &[char], bound: usize, row: &mut Vec<usize>) -> Option<usize> {
    if a.len().abs_diff(b.len()) > bound {
        return None;
    }
    let over = bound + 1;
    // row[j]: distance between a[..i] and b[..j]; cells outside the band hold `over`.
    row.clear();
    row.extend((0..=b.len()).map(|j| j.min(over)));
    for (i, ca) in a.iter().enumerate() {
        let i = i + 1;
        let lo = i.saturating_sub(bound).max(1);
        let hi = (i + bound).min(b.len());
        // Column lo - 1 of this row: the left edge of the band, or a[..i] against nothing.
        let mut diagonal = row[lo - 1];
        row[lo - 1] = if lo == 1 { i.min(over) } else { over };
        let mut smallest = row[lo - 1];
        for j in lo..=hi {
            let up = row[j];
            let cell = (diagonal + usize::from(*ca != b[j - 1]))
                .min(row[j - 1] + 1)
                .min(up + 1)
                .min(over);
            diagonal = up;
            row[j] = cell;
            smallest = smallest.min(cell);
        }
        if hi < b.len() {
            // The cell just right of the band is out of it in the next row's terms.
            row[hi + 1] = over;
        }
        if smallest > bound {
            return None;
        }
    }
    Some(row[b.len()]).filter(|d| *d <= bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain Levenshtein distance, to check the banded one against.
    fn full(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut previous = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let current = row[j + 1];
                row[j + 1] = (previous + usize::from(ca != *cb))
                    .min(row[j] + 1)
                    .min(current + 1);
                previous = current;
            }
        }
        row[b.len()]
    }

    #[test]
    fn the_nearest_name_is_suggested() {
        assert_eq!(nearest("lisen", ["listen", "close"]), Some("listen"));
        assert_eq!(
            nearest("ECONREFUSED", ["ECONNREFUSED"]),
            Some("ECONNREFUSED")
        );
        assert_eq!(nearest("eaddrinuse", ["EADDRINUSE"]), Some("EADDRINUSE"));
        assert_eq!(nearest("frobnicate", ["listen", "close"]), None);
        assert_eq!(nearest("listen", ["listen"]), None);
        // Ties go to the first; a nearer later one wins.
        assert_eq!(nearest("ab", ["xb", "ax"]), Some("xb"));
        assert_eq!(nearest("abcd", ["xxcd", "abcx"]), Some("abcx"));
    }

    #[test]
    fn the_banded_distance_agrees_with_the_full_one() {
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "abc",
            "acb",
            "listen",
            "lisen",
            "silent",
            "close",
            "closed",
            "kitten",
            "sitting",
            "ECONNREFUSED",
            "econrefused",
            "sock_00001_abcdefghijklmnop",
            "sack_00017_abcdefghijklmnoq",
            "ééa",
            "aéé",
        ];
        let mut row = Vec::new();
        for a in words {
            for b in words {
                let (ac, bc): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
                let d = full(a, b);
                for bound in 0..8 {
                    let want = (d <= bound).then_some(d);
                    assert_eq!(
                        distance_within(&ac, &bc, bound, &mut row),
                        want,
                        "{a} {b} {bound}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_budget_limits_how_many_names_get_a_suggestion() {
        let got: Vec<_> = with_budget(2, || {
            (0..4)
                .map(|_| nearest("lisen", ["listen"]))
                .collect::<Vec<_>>()
        });
        assert_eq!(got, [Some("listen"), Some("listen"), None, None]);
        // Outside the scope, every name gets one again.
        assert_eq!(nearest("lisen", ["listen"]), Some("listen"));
        // An inner scope spends the outer one's budget.
        with_budget(3, || {
            with_budget(10, || {
                assert!(nearest("lisen", ["listen"]).is_some());
                assert!(nearest("lisen", ["listen"]).is_some());
            });
            assert!(nearest("lisen", ["listen"]).is_some());
            assert!(nearest("lisen", ["listen"]).is_none());
        });
        with_budget(3, || {
            with_budget(1, || {
                assert!(nearest("lisen", ["listen"]).is_some());
                assert!(nearest("lisen", ["listen"]).is_none());
            });
            assert!(nearest("lisen", ["listen"]).is_some());
            assert!(nearest("lisen", ["listen"]).is_some());
            assert!(nearest("lisen", ["listen"]).is_none());
        });
    }
}
