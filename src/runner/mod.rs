//! The runner: executes scenarios against an implementation.
//!
//! One thread per actor, a shared board of captured values and signals, and a watchdog that
//! bounds every call without touching socket modes. Everything a
//! scenario creates (sessions and their sockets, the temporary directory, threads) is gone when
//! [`run_scenario`] returns, whatever the verdict.

mod actor;
mod board;
mod check;
mod env;
mod parameters;
mod result;
mod watchdog;

pub use result::{Failure, FailureKind, ScenarioResult, Status};

use crate::implementation::{Implementation, Session, SessionError};
use crate::scenario::Scenario;
use actor::{ActorRun, Ending};
use board::Board;
use env::Env;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use watchdog::Watchdog;

/// Time limits for a run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The time limit of a step whose scenario sets none.
    pub step_timeout: Duration,
    /// The time limit of a scenario that sets none.
    pub scenario_timeout: Duration,
    /// When set, replaces every scenario's and step's own limits (`--timeout`).
    pub force_timeout: Option<Duration>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            step_timeout: Duration::from_secs(5),
            scenario_timeout: Duration::from_secs(30),
            force_timeout: None,
        }
    }
}

/// Runs one scenario against one implementation.
pub fn run_scenario(
    scenario: &Scenario,
    implementation: &dyn Implementation,
    options: &RunOptions,
) -> ScenarioResult {
    let started = Instant::now();
    let mut result = ScenarioResult::new(scenario, implementation.name());
    let (status, failure, reason) = match &scenario.parameters {
        Some(parameters) => {
            parameters::execute_parameterised(scenario, parameters, implementation, options)
        }
        None => execute(scenario, implementation, options),
    };
    result.status = status;
    result.failure = failure;
    result.reason = reason;
    result.duration = started.elapsed();
    result
}

/// Why a scenario cannot run here, if it cannot.
pub fn unsupported_reason(
    scenario: &Scenario,
    implementation: &dyn Implementation,
) -> Option<String> {
    let platforms = &scenario.requires.platforms;
    if !platforms.is_empty() && !platforms.iter().any(|p| p == std::env::consts::OS) {
        return Some(format!(
            "needs platform {} (this is {})",
            platforms.join(" or "),
            std::env::consts::OS
        ));
    }
    let missing = implementation.capabilities().missing(&scenario.needs());
    (!missing.is_empty()).then(|| {
        format!(
            "{} does not support {}",
            implementation.name(),
            missing.join(", ")
        )
    })
}

fn execute(
    scenario: &Scenario,
    implementation: &dyn Implementation,
    options: &RunOptions,
) -> (Status, Option<Failure>, Option<String>) {
    if let Some(reason) = unsupported_reason(scenario, implementation) {
        return (Status::Unsupported, None, Some(reason));
    }
    let env = match Env::new() {
        Ok(env) => env,
        Err(e) => {
            return (
                Status::Error,
                None,
                Some(format!("cannot create a temporary directory: {e}")),
            )
        }
    };
    // Opened side by side: a driver's start-up is most of a short scenario's time.
    let opened: Vec<_> = std::thread::scope(|scope| {
        let opening: Vec<_> = scenario
            .actors
            .iter()
            .map(|actor| scope.spawn(|| implementation.open_session_for(&actor.name)))
            .collect();
        opening.into_iter().map(|o| o.join()).collect()
    });
    let sessions: Vec<Box<dyn Session>> = match opened
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|_| {
                Err(SessionError {
                    implementation: implementation.name().to_string(),
                    reason: "opening a session panicked".to_string(),
                })
            })
        })
        .collect()
    {
        Ok(sessions) => sessions,
        Err(e) => return (Status::Error, None, Some(e.to_string())),
    };
    let step_timeout = options.force_timeout.unwrap_or(options.step_timeout);
    let scenario_timeout = options
        .force_timeout
        .or(scenario.timeout)
        .unwrap_or(options.scenario_timeout);
    let scenario = &force_step_timeouts(scenario, options.force_timeout);
    let board = Board::default();
    let watchdog = Watchdog::default();
    let deadline = Instant::now() + scenario_timeout;

    let (endings, finished_in_time) = std::thread::scope(|scope| {
        let watchdog_thread = scope.spawn(|| watchdog.run(&sessions));
        let actors: Vec<_> = scenario
            .actors
            .iter()
            .enumerate()
            .map(|(index, actor)| {
                let run = ActorRun {
                    index,
                    actor,
                    scenario,
                    session: sessions[index].as_ref(),
                    board: &board,
                    watchdog: &watchdog,
                    env: &env,
                    step_timeout,
                };
                let board = &board;
                scope.spawn(move || {
                    // Counted as finished even if the implementation panics, so the wait ends.
                    struct Finished<'b>(&'b Board);
                    impl Drop for Finished<'_> {
                        fn drop(&mut self) {
                            self.0.finished();
                        }
                    }
                    let _finished = Finished(board);
                    run.run()
                })
            })
            .collect();
        let in_time = board.wait_finished(actors.len(), deadline);
        if !in_time {
            board.abort();
            watchdog.abort();
        }
        let endings: Vec<_> = actors.into_iter().map(|a| a.join()).collect();
        watchdog.stop();
        let _ = watchdog_thread.join();
        (endings, in_time)
    });
    drop(sessions);
    drop(env);

    if let Some(failure) = board.take_failure() {
        let status = match failure.kind {
            FailureKind::Timeout => Status::Timeout,
            FailureKind::Mismatch => Status::Fail,
            FailureKind::Unsupported => Status::Unsupported,
            FailureKind::Broken => Status::Error,
        };
        return (status, Some(failure), None);
    }
    for (actor, ending) in scenario.actors.iter().zip(&endings) {
        if let Err(panic) = ending {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            return (
                Status::Error,
                None,
                Some(format!("actor {} panicked: {message}", actor.name)),
            );
        }
    }
    if !finished_in_time {
        return (
            Status::Timeout,
            None,
            Some(format!(
                "the scenario did not finish within {}",
                humantime::format_duration(scenario_timeout)
            )),
        );
    }
    debug_assert!(endings.iter().all(|e| matches!(e, Ok(Ending::Completed))));
    (Status::Pass, None, None)
}

/// With `--timeout`, every step gets that limit, whatever the scenario says.
fn force_step_timeouts(scenario: &Scenario, force: Option<Duration>) -> Scenario {
    let mut scenario = scenario.clone();
    if let Some(limit) = force {
        scenario.step_timeout = Some(limit);
        for step in scenario.actors.iter_mut().flat_map(|a| a.steps.iter_mut()) {
            step.timeout = None;
        }
    }
    scenario
}

/// Runs scenarios on `jobs` threads, calling `on_result` as each finishes (in completion order;
/// it may amend the result, e.g. apply expectations); returns the results in the scenarios' order.
pub fn run_all(
    scenarios: &[Scenario],
    implementation: &dyn Implementation,
    options: &RunOptions,
    jobs: usize,
    mut on_result: impl FnMut(&mut ScenarioResult),
) -> Vec<ScenarioResult> {
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel();
    let mut results: Vec<Option<ScenarioResult>> = vec![None; scenarios.len()];
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, scenarios.len().max(1)) {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(scenario) = scenarios.get(index) else {
                    break;
                };
                if sender
                    .send((index, run_scenario(scenario, implementation, options)))
                    .is_err()
                {
                    break;
                }
            });
        }
        drop(sender);
        for (index, mut result) in receiver {
            on_result(&mut result);
            results[index] = Some(result);
        }
    });
    results.into_iter().flatten().collect()
}
