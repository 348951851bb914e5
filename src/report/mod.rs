//! Reports: of a run (pretty, JSON, JUnit XML, TAP, Markdown), of saved runs side by side (the
//! report site, the Markdown matrix), and of the spec's coverage by scenarios.

mod coverage;
mod junit;
mod look;
mod markdown;
mod matrix;
mod pretty;
mod run;
mod site;
mod tap;

pub use coverage::{Coverage, Covered};
pub use junit::junit_xml;
pub use markdown::markdown_summary;
pub use matrix::Matrix;
pub use pretty::{failures_in_full, placement_line, progress_line, summary_line};
pub use run::{run_schema, run_schema_text, Machine, Run, RunFileError, RUN_FORMAT_VERSION};
pub use site::{Site, SiteError};
pub use tap::tap;

use crate::runner::{ScenarioResult, Status};
use serde::{Deserialize, Serialize};

/// How many results have each status.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Summary {
    /// All results.
    pub total: usize,
    /// `pass`.
    pub passed: usize,
    /// `fail`.
    pub failed: usize,
    /// `expected-fail`.
    pub expected_failures: usize,
    /// `unexpected-pass`.
    pub unexpected_passes: usize,
    /// `unsupported`.
    pub unsupported: usize,
    /// `skip`.
    pub skipped: usize,
    /// `error`.
    pub errors: usize,
    /// `timeout`.
    pub timeouts: usize,
    /// `interrupted`.
    pub interrupted: usize,
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
                Status::ExpectedFail => s.expected_failures += 1,
                Status::UnexpectedPass => s.unexpected_passes += 1,
                Status::Unsupported => s.unsupported += 1,
                Status::Skip => s.skipped += 1,
                Status::Error => s.errors += 1,
                Status::Timeout => s.timeouts += 1,
                Status::Interrupted => s.interrupted += 1,
            }
        }
        s
    }

    /// True when nothing failed, errored, timed out or passed unexpectedly.
    pub fn all_passed(&self) -> bool {
        self.failed + self.unexpected_passes + self.errors + self.timeouts + self.interrupted == 0
    }
}
