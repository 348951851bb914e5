//! Reports: of a run (human-readable, JSON) and of the spec's coverage by scenarios.

mod coverage;
mod json;
mod pretty;

pub use coverage::{Coverage, Covered};

pub use json::json_document;
pub use pretty::{failures_in_full, progress_line, summary_line};

use crate::runner::{ScenarioResult, Status};
use serde::Serialize;

/// How many results have each status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// All results.
    pub total: usize,
    /// `pass`.
    pub passed: usize,
    /// `fail`.
    pub failed: usize,
    /// `unsupported`.
    pub unsupported: usize,
    /// `error`.
    pub errors: usize,
    /// `timeout`.
    pub timeouts: usize,
}

impl Summary {
    /// Counts the results.
    pub fn of(results: &[ScenarioResult]) -> Summary {
        let mut s = Summary {
            total: results.len(),
            ..Summary::default()
        };
        for r in results {
            match r.status {
                Status::Pass => s.passed += 1,
                Status::Fail => s.failed += 1,
                Status::Unsupported => s.unsupported += 1,
                Status::Error => s.errors += 1,
                Status::Timeout => s.timeouts += 1,
            }
        }
        s
    }

    /// True when nothing failed, errored or timed out.
    pub fn all_passed(&self) -> bool {
        self.failed + self.errors + self.timeouts == 0
    }
}
