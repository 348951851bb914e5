//! Parameterised scenarios: values drawn with proptest, shrunk on failure.

use super::{execute, RunOptions, Status};
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
    // Once a case is unsupported or interrupted, so is the scenario: later cases (and proptest's
    // shrinking, which follows a failure) end at once instead of running.
    let decided: Mutex<Option<Outcome>> = Mutex::new(None);
    let result = runner.run(&strategy, |drawn| {
        if decided.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
            return Err(TestCaseError::fail("decided already"));
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
        let (status, failure, reason) = execute(&case, implementation, options);
        match status {
            Status::Pass => Ok(()),
            Status::Unsupported | Status::Interrupted => {
                *decided.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((status, failure, reason));
                Err(TestCaseError::fail("decided"))
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
