//! The human-readable report: a line per scenario as it finishes, a summary, failures in full.

use super::Summary;
use crate::runner::{ScenarioResult, Status};
use std::collections::BTreeMap;

/// One line for a finished scenario: `PASS tcp/echo (3 ms)`.
pub fn progress_line(result: &ScenarioResult) -> String {
    let label = match result.status {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::ExpectedFail => "XFAIL",
        Status::UnexpectedPass => "XPASS",
        Status::Unsupported => "UNSUPP",
        Status::Skip => "SKIP",
        Status::Error => "ERROR",
        Status::Timeout => "TIMEOUT",
        Status::Interrupted => "INTR",
    };
    let mut line = format!(
        "{label:<7} {} ({} ms)",
        result.scenario,
        result.duration.as_millis()
    );
    let note = match result.status {
        Status::Unsupported => result.reason.clone(),
        Status::ExpectedFail | Status::Skip => {
            result.expectation.as_ref().map(|r| format!("known: {r}"))
        }
        Status::UnexpectedPass => {
            Some("passes, but the expectations file says it does not (a stale entry?)".to_string())
        }
        _ => None,
    };
    if let Some(note) = note {
        line.push_str(&format!(": {note}"));
    }
    line
}

/// `42 scenarios against reference: 40 passed, 1 failed, 1 unsupported, 0 errors, 0 timeouts`,
/// with expected failures, unexpected passes and skips when there are any.
pub fn summary_line(implementation: &str, results: &[ScenarioResult]) -> String {
    let s = Summary::of(results);
    let mut line = format!(
        "{} scenarios against {implementation}: {} passed, {} failed, {} unsupported, {} errors, {} timeouts",
        s.total, s.passed, s.failed, s.unsupported, s.errors, s.timeouts
    );
    for (n, what) in [
        (s.expected_failures, "expected failures"),
        (s.unexpected_passes, "unexpected passes"),
        (s.skipped, "skipped"),
        (s.interrupted, "interrupted"),
    ] {
        if n > 0 {
            line.push_str(&format!(", {n} {what}"));
        }
    }
    line
}

/// For a run that put actors on several implementations: on how many of the scenarios that ran
/// each implementation had actors, e.g. `actors ran on: python in 180 scenarios, reference in
/// 321 scenarios`. `None` when every actor ran on one implementation.
pub fn placement_line(scenarios_with_actors_on: &BTreeMap<String, usize>) -> Option<String> {
    if scenarios_with_actors_on.len() < 2 {
        return None;
    }
    let parts: Vec<String> = scenarios_with_actors_on
        .iter()
        .map(|(implementation, n)| {
            format!(
                "{implementation} in {n} scenario{}",
                if *n == 1 { "" } else { "s" }
            )
        })
        .collect();
    Some(format!("actors ran on: {}", parts.join(", ")))
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
