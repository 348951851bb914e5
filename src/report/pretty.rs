//! The human-readable report: a line per scenario as it finishes, a summary, failures in full.

use super::Summary;
use crate::runner::{ScenarioResult, Status};

/// One line for a finished scenario: `PASS tcp/echo (3 ms)`.
pub fn progress_line(result: &ScenarioResult) -> String {
    let label = match result.status {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Unsupported => "SKIP",
        Status::Error => "ERROR",
        Status::Timeout => "TIMEOUT",
    };
    let mut line = format!(
        "{label:<7} {} ({} ms)",
        result.scenario,
        result.duration.as_millis()
    );
    if result.status == Status::Unsupported {
        if let Some(reason) = &result.reason {
            line.push_str(&format!(": unsupported, {reason}"));
        }
    }
    line
}

/// `42 scenarios against reference: 40 passed, 1 failed, 1 unsupported, 0 errors, 0 timeouts`.
pub fn summary_line(implementation: &str, results: &[ScenarioResult]) -> String {
    let s = Summary::of(results);
    format!(
        "{} scenarios against {implementation}: {} passed, {} failed, {} unsupported, {} errors, {} timeouts",
        s.total, s.passed, s.failed, s.unsupported, s.errors, s.timeouts
    )
}

/// Every failure, error and timeout in full, with the scenario's title and requirements.
pub fn failures_in_full(results: &[ScenarioResult]) -> String {
    let mut out = String::new();
    for r in results.iter().filter(|r| r.status.is_failure()) {
        out.push_str(&format!(
            "\n--- {} [{}]: {}\n    {}\n    requirements: {}\n    {}\n",
            r.scenario,
            r.status,
            r.title,
            r.path,
            r.requirements.join(", "),
            r.explanation().replace('\n', "\n    ")
        ));
    }
    out
}
