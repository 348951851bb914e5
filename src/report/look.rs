//! How a status is shown in the reports that have room for more than its name.

use crate::runner::Status;

/// How a status is shown: a word, a symbol (no emoji, so it renders the same everywhere), a CSS
/// class and what it means.
pub(super) struct Look {
    /// A short word (`FAIL` in capitals for what fails a run).
    pub word: &'static str,
    /// A symbol.
    pub symbol: &'static str,
    /// A CSS class.
    pub class: &'static str,
    /// What it means.
    pub meaning: &'static str,
}

pub(super) fn look(status: Status) -> Look {
    let (word, symbol, class, meaning) = match status {
        Status::Pass => (
            "pass",
            "✓",
            "s-pass",
            "every step did what it was expected to",
        ),
        Status::Fail => ("FAIL", "✗", "s-fail", "a step did something else"),
        Status::ExpectedFail => (
            "xfail",
            "~",
            "s-xfail",
            "fails, as the expectations file says (a known deviation)",
        ),
        Status::UnexpectedPass => (
            "XPASS",
            "!",
            "s-xpass",
            "passes, but the expectations file says it fails (a stale entry)",
        ),
        Status::Unsupported => (
            "unsupported",
            "∅",
            "s-unsupported",
            "the implementation lacks something the scenario needs",
        ),
        Status::Skip => (
            "skip",
            "–",
            "s-skip",
            "not run: the expectations file says to skip it",
        ),
        Status::Error => (
            "ERROR",
            "✗",
            "s-error",
            "could not be run, or the implementation itself failed",
        ),
        Status::Timeout => (
            "TIMEOUT",
            "◷",
            "s-timeout",
            "a step or the scenario did not finish in time",
        ),
        Status::Interrupted => (
            "INTR",
            "⏹",
            "s-interrupted",
            "the run was stopped (SIGINT or SIGTERM) while it ran",
        ),
    };
    Look {
        word,
        symbol,
        class,
        meaning,
    }
}
