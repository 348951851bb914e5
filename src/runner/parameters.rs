//! Parameterised scenarios: values drawn with proptest, shrunk on failure, then every corner of
//! the ranges.

use super::{deadline_after, execute_within, scenario_limit, RunOptions, Status};
use crate::implementation::Implementation;
use crate::runner::Failure;
use crate::scenario::{instantiate, LoadError, Parameters, Scenario};
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// What a parameterised run ended with: like [`execute`]'s result.
type Outcome = (Status, Option<Failure>, Option<String>);

/// Runs `parameters.cases` drawn cases, then every corner of the ranges; on a failure of a drawn
/// case, shrinks it and reports the smallest values found.
pub(super) fn execute_parameterised(
    scenario: &Scenario,
    parameters: &Parameters,
    implementation: &dyn Implementation,
    options: &RunOptions,
) -> Outcome {
    let names: Vec<&String> = parameters.ranges.keys().collect();
    let strategy: Vec<_> = parameters.ranges.values().map(|r| r.min..=r.max).collect();
    let config = Config {
        cases: parameters.cases,
        failure_persistence: None,
        max_shrink_iters: 64,
        // Cases are whole scenarios on real sockets: no forking, no timeouts of proptest's own.
        ..Config::default()
    };
    let values_of = |drawn: &[u64]| -> BTreeMap<String, u64> {
        names
            .iter()
            .map(|n| n.to_string())
            .zip(drawn.iter().copied())
            .collect()
    };
    let shown = |values: &BTreeMap<String, u64>| {
        values
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // The last failing case: once shrinking ends, it is the smallest one proptest found.
    let last_failure: Mutex<Option<Outcome>> = Mutex::new(None);
    let mut runner = TestRunner::new(config);
    // Once a case is unsupported, timed out, errored or interrupted, so is the scenario: later
    // cases (and proptest's shrinking, which follows a failure) end at once instead of running.
    let decided: Mutex<Option<Outcome>> = Mutex::new(None);
    let decide = |outcome: Outcome| {
        *decided.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
        Err(TestCaseError::fail("decided"))
    };
    // The scenario's time limit bounds the whole family.
    let limit = scenario_limit(scenario, options);
    let deadline = deadline_after(limit);
    let passed = std::sync::atomic::AtomicU32::new(0);
    // The family ran out of its time; `last` says how the last case was cut short, if it was.
    let out_of_time = |last: String| {
        (
            Status::Timeout,
            None,
            Some(format!(
                "the {} cases did not all run within the scenario's limit of {} ({} passed{last})",
                parameters.cases,
                humantime::format_duration(limit),
                passed.load(std::sync::atomic::Ordering::SeqCst)
            )),
        )
    };
    // One case; `corner` says whether its values are a corner of the ranges (run after the
    // random draws, and not shrunk) or drawn.
    let run_case = |drawn: Vec<u64>, corner: bool| {
        if decided.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
            return Err(TestCaseError::fail("decided already"));
        }
        if std::time::Instant::now() >= deadline {
            return decide(out_of_time(String::new()));
        }
        let values = values_of(&drawn);
        let case = match instantiate(scenario, &values) {
            Ok(case) => case,
            Err(errors) => {
                let message = LoadError::lines(&errors);
                let outcome = (
                    Status::Error,
                    None,
                    Some(format!("with {}: {message}", shown(&values))),
                );
                *last_failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
                return Err(TestCaseError::fail("the case does not load"));
            }
        };
        let (status, failure, reason) =
            execute_within(&case, implementation, options, Some(deadline));
        match status {
            Status::Pass => {
                passed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            }
            Status::Unsupported | Status::Interrupted => decide((status, failure, reason)),
            // Cut short by the family's deadline, not by its own limits.
            Status::Timeout if std::time::Instant::now() >= deadline => decide(out_of_time(
                format!("; the last was cut short, with {}", shown(&values)),
            )),
            Status::Timeout | Status::Error => {
                let reason = noted(reason, format!("with {}", shown(&values)));
                decide((status, failure, reason))
            }
            _ => {
                let note = format!(
                    "with {} ({})",
                    shown(&values),
                    if corner {
                        "a corner of the ranges"
                    } else {
                        "the smallest failing values found"
                    }
                );
                let reason = noted(reason, note);
                *last_failure.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((status, failure, reason));
                Err(TestCaseError::fail("the case failed"))
            }
        }
    };
    let result = runner.run(&strategy, |drawn| run_case(drawn, false));
    if let Some(outcome) = take(&decided) {
        return outcome;
    }
    match result {
        Ok(()) => {
            // Then the corners: an off-by-one at a range's end is found every time, not by chance.
            // (After the draws, so that a failure the draws find is shrunk.)
            for corner in corners(parameters) {
                if run_case(corner, true).is_err() {
                    return take(&decided).unwrap_or_else(|| failed(&last_failure));
                }
            }
            (Status::Pass, None, None)
        }
        Err(TestError::Fail(..)) => failed(&last_failure),
        Err(TestError::Abort(why)) => (
            Status::Error,
            None,
            Some(format!("the parameterised run stopped: {why}")),
        ),
    }
}

/// Every corner of the ranges: each parameter at its minimum or maximum, in every mix (at most
/// 2^8 = 256, the loader's limit on parameters), in the order of the ranges' names.
fn corners(parameters: &Parameters) -> Vec<Vec<u64>> {
    let mut corners: Vec<Vec<u64>> = vec![Vec::new()];
    for range in parameters.ranges.values() {
        let ends: &[u64] = if range.min == range.max {
            &[range.min]
        } else {
            &[range.min, range.max]
        };
        corners = corners
            .into_iter()
            .flat_map(|corner| {
                ends.iter().map(move |end| {
                    let mut longer = corner.clone();
                    longer.push(*end);
                    longer
                })
            })
            .collect();
    }
    corners
}

/// The outcome a case left in `slot`, if any.
fn take(slot: &Mutex<Option<Outcome>>) -> Option<Outcome> {
    slot.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// A case's reason with `note` (its values) added.
fn noted(reason: Option<String>, note: String) -> Option<String> {
    Some(match reason {
        Some(reason) => format!("{reason}; {note}"),
        None => note,
    })
}

/// The failing case's outcome, which a failed run always leaves.
fn failed(last_failure: &Mutex<Option<Outcome>>) -> Outcome {
    take(last_failure).unwrap_or((
        Status::Error,
        None,
        Some("a case failed, but its result was lost".to_string()),
    ))
}
