//! Parameterised scenarios: values drawn with proptest, shrunk on failure.

use super::{deadline_after, execute_within, scenario_limit, RunOptions, Status};
use crate::implementation::Implementation;
use crate::runner::Failure;
use crate::scenario::{instantiate, LoadError, Parameters, Scenario};
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// What a parameterised run ended with: like [`execute`]'s result.
type Outcome = (Status, Option<Failure>, Option<String>);

/// Runs `parameters.cases` cases; on a failure, shrinks it and reports the smallest values found.
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
    let result = runner.run(&strategy, |drawn| {
        if decided.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
            return Err(TestCaseError::fail("decided already"));
        }
        if std::time::Instant::now() >= deadline {
            return decide((
                Status::Timeout,
                None,
                Some(format!(
                    "the {} cases did not all run within the scenario's limit of {} ({} passed)",
                    parameters.cases,
                    humantime::format_duration(limit),
                    passed.load(std::sync::atomic::Ordering::SeqCst)
                )),
            ));
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
            Status::Timeout if std::time::Instant::now() >= deadline => decide((
                Status::Timeout,
                None,
                Some(format!(
                    "the {} cases did not all run within the scenario's limit of {} ({} passed; the last was cut short, with {})",
                    parameters.cases,
                    humantime::format_duration(limit),
                    passed.load(std::sync::atomic::Ordering::SeqCst),
                    shown(&values)
                )),
            )),
            Status::Timeout | Status::Error => {
                let note = format!("with {}", shown(&values));
                let reason = Some(reason.map_or(note.clone(), |r| format!("{r}; {note}")));
                decide((status, failure, reason))
            }
            _ => {
                let note = format!(
                    "with {} (the smallest failing values found)",
                    shown(&values)
                );
                let reason = Some(reason.map_or(note.clone(), |r| format!("{r}; {note}")));
                *last_failure.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((status, failure, reason));
                Err(TestCaseError::fail("the case failed"))
            }
        }
    });
    if let Some(outcome) = decided.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return outcome;
    }
    match result {
        Ok(()) => (Status::Pass, None, None),
        Err(TestError::Fail(..)) => last_failure
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .unwrap_or((
                Status::Error,
                None,
                Some("a case failed, but its result was lost".to_string()),
            )),
        Err(TestError::Abort(why)) => (
            Status::Error,
            None,
            Some(format!("the parameterised run stopped: {why}")),
        ),
    }
}
