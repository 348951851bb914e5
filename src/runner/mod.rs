//! The runner: executes scenarios against an implementation.
//!
//! One thread per actor, a shared board of captured values and signals, and a watchdog that
//! bounds every call without touching socket modes. Everything a
//! scenario creates (sessions and their sockets, the temporary directory, threads) is gone when
//! [`run_scenario`] returns, whatever the verdict.

mod actor;
mod board;
mod check;
mod closed_port;
mod env;
mod environment;
mod fs;
mod hosts;
mod machines;
mod parameters;
mod result;
mod schedule;
mod watchdog;

pub use hosts::BuildError;
pub use machines::{load_hosts_file, MachineEntry, Machines, MachinesError};
pub use result::{Failure, FailureKind, ScenarioResult, Status};
pub use schedule::{run_all, run_planned, Planned, DATA_IN_FLIGHT, LARGE_DATA};

use crate::implementation::{Clock, Implementation, Mixed, Session, SessionEndError, SessionError};
use crate::scenario::Scenario;
use actor::{ActorRun, Ending};
use board::Board;
use env::Env;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use watchdog::{Escalation, Watchdog, ESCALATION};

/// Time limits for a run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The time limit of a step whose scenario sets none.
    pub step_timeout: Duration,
    /// The time limit of a scenario that sets none.
    pub scenario_timeout: Duration,
    /// When set, replaces every scenario's and step's own limits (`--timeout`).
    pub force_timeout: Option<Duration>,
    /// The most a `recv_until_eof` step collects before it stops reading (an implementation
    /// that never ends its stream must not make the runner allocate without bound); the
    /// scenarios' data limit (`--max-data`).
    pub max_received: usize,
    /// Run the actors a scenario marks `environment` on the reference implementation (the
    /// default); `false` puts every actor on the implementation under test (`--all-actors`).
    pub environment_on_reference: bool,
    /// Run multi-host scenarios on these machines (`--hosts FILE`) instead of namespaces.
    pub machines: Option<Arc<Machines>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            step_timeout: Duration::from_secs(5),
            scenario_timeout: Duration::from_secs(30),
            force_timeout: None,
            max_received: crate::scenario::DEFAULT_MAX_DATA,
            environment_on_reference: true,
            machines: None,
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

/// Why a scenario cannot run here, if it cannot (with its environment actors on the reference,
/// as a run with default options puts them).
pub fn unsupported_reason(
    scenario: &Scenario,
    implementation: &dyn Implementation,
) -> Option<String> {
    unsupported_reason_with(scenario, implementation, &RunOptions::default())
}

/// [`unsupported_reason`] for a run with `options` (which say where environment actors run).
pub fn unsupported_reason_with(
    scenario: &Scenario,
    implementation: &dyn Implementation,
    options: &RunOptions,
) -> Option<String> {
    unsupported_reason_placed(scenario, &place(scenario, implementation, options, None))
}

/// The name of the implementation that runs the actor called `actor` of `scenario` in a run
/// with `options`: the one under test, or the reference for an environment actor.
pub fn implementation_of(
    scenario: &Scenario,
    implementation: &dyn Implementation,
    options: &RunOptions,
    actor: &str,
) -> String {
    implementation_of_actor(&scenario.environment, implementation, options, actor)
}

/// [`implementation_of`] for a scenario whose environment actors are `environment` (without
/// the scenario itself, for a run that keeps only what it needs of scenarios not running).
pub fn implementation_of_actor(
    environment: &[String],
    implementation: &dyn Implementation,
    options: &RunOptions,
    actor: &str,
) -> String {
    on_environment(environment, implementation, options).implementation_of(actor)
}

/// Where a scenario's actors run: every actor on its host's machine when the run maps hosts to
/// machines, otherwise on `under_test` with the environment actors as [`on_environment`] says.
fn place<'a>(
    scenario: &'a Scenario,
    under_test: &'a dyn Implementation,
    options: &RunOptions,
    on_machines: Option<&'a Mixed>,
) -> environment::WithEnvironment<'a> {
    match on_machines {
        Some(mixed) => environment::WithEnvironment {
            under_test: mixed,
            environment: &[],
        },
        None => on_environment(&scenario.environment, under_test, options),
    }
}

/// `implementation`, with the `environment` actors on the reference when `options` say so and
/// the reference can reach the implementation's sockets.
fn on_environment<'a>(
    environment: &'a [String],
    implementation: &'a dyn Implementation,
    options: &RunOptions,
) -> environment::WithEnvironment<'a> {
    environment::WithEnvironment {
        under_test: implementation,
        // The reference cannot reach a network of the implementation's own (a simulation).
        environment: if options.environment_on_reference && !implementation.own_network() {
            environment
        } else {
            &[]
        },
    }
}

/// [`unsupported_reason`] with the actors already placed.
fn unsupported_reason_placed(
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
    // Each actor's needs are asked of the implementation that runs it.
    let mut missing: Vec<(String, Vec<String>)> = Vec::new();
    for actor in &scenario.actors {
        let needs = scenario.needs_of(|a| a.name == actor.name);
        let lacks = implementation.capabilities_of(&actor.name).missing(&needs);
        if lacks.is_empty() {
            continue;
        }
        let who = implementation.implementation_of(&actor.name);
        let at = match missing.iter().position(|(w, _)| *w == who) {
            Some(at) => at,
            None => {
                missing.push((who, Vec::new()));
                missing.len() - 1
            }
        };
        for what in lacks {
            if !missing[at].1.contains(&what) {
                missing[at].1.push(what);
            }
        }
    }
    let said: Vec<String> = missing
        .into_iter()
        .map(|(who, lacks)| format!("{who} does not support {}", lacks.join(", ")))
        .collect();
    (!said.is_empty()).then(|| said.join("; "))
}

/// `Instant::now() + limit`, or a century from now if that does not fit.
pub(crate) fn deadline_after(limit: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(limit)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}

/// What the actor threads of one scenario share. Owned (not borrowed), because a thread whose
/// call never returns is abandoned, not waited for, and may outlive the scenario.
struct Shared {
    scenario: Scenario,
    sessions: Vec<Box<dyn Session>>,
    board: Board,
    watchdog: Watchdog,
    env: Env,
    /// A multi-host scenario's network (its hosts' namespaces); dropped after the sessions.
    network: Option<hosts::Network>,
    step_timeout: Duration,
    max_received: usize,
    /// The implementation's clock.
    clock: Arc<dyn Clock>,
    /// On a simulated clock: when (in its time) the scenario's limit passes, and, once it has,
    /// where each unfinished actor was then.
    expiry: Mutex<Expiry>,
}

/// The scenario's limit on a simulated clock.
#[derive(Default)]
struct Expiry {
    at: Option<Duration>,
    unfinished: Option<Vec<(usize, Option<usize>)>>,
}

impl Shared {
    /// What a simulated clock's move asks: calls whose limits passed are interrupted at once
    /// (before the clock can move again), and a scenario whose limit passed is stopped.
    fn on_clock_advance(&self) {
        match self.watchdog.due() {
            Some(Escalation::Interrupt(actor, handle)) => self.sessions[actor].interrupt(handle),
            Some(Escalation::Abandon(actor)) => self.sessions[actor].abandon(),
            Some(Escalation::GiveUp(..)) | None => {}
        }
        let now = self.clock.now();
        let mut expiry = self.expiry.lock().unwrap_or_else(|e| e.into_inner());
        if expiry.unfinished.is_none() && expiry.at.is_some_and(|at| now >= at) {
            expiry.unfinished = Some(self.board.unfinished(self.scenario.actors.len()));
            drop(expiry);
            self.board.abort();
            self.watchdog.abort();
        }
    }

    /// The failure of a step whose call outlasted every escalation of the watchdog.
    fn given_up(&self, actor: usize, step: usize) -> Failure {
        let actor_def = &self.scenario.actors[actor];
        let limit = step_limit(&self.scenario, &actor_def.steps[step], self.step_timeout);
        Failure::of_step(
            FailureKind::Timeout,
            &self.scenario,
            actor_def,
            step,
            format!(
                "the call to return within {}",
                humantime::format_duration(limit)
            ),
            format!(
                "it did not return, not even {} after the watchdog interrupted it and then \
                 abandoned its session; its thread was left behind",
                humantime::format_duration(ESCALATION)
            ),
            None,
        )
    }
}

/// Scenarios running now, so that [`cancel`] can stop them.
static RUNNING: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());
/// Set by [`cancel`]: no scenario starts any more.
static CANCELLED: AtomicBool = AtomicBool::new(false);

/// Stops the run: no scenario starts any more, and every running one ends at once (its calls
/// interrupted, its drivers killed), reported [`Status::Interrupted`]. For SIGINT and SIGTERM.
pub fn cancel() {
    CANCELLED.store(true, Ordering::SeqCst);
    let running = RUNNING.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for shared in running.iter().filter_map(Weak::upgrade) {
        shared.board.cancel();
        shared.watchdog.abort();
    }
}

/// True once [`cancel`] was called.
pub fn is_cancelled() -> bool {
    CANCELLED.load(Ordering::SeqCst)
}

/// For a process about to exit at once (a second SIGINT): removes every scenario's temporary
/// directory. (Ending the implementations' processes is the caller's: the runner knows only
/// sessions, and abandoning them one by one would not reach drivers still starting.)
pub fn remove_temporary_directories() {
    env::remove_all_dirs();
}

fn execute(
    scenario: &Scenario,
    implementation: &dyn Implementation,
    options: &RunOptions,
) -> (Status, Option<Failure>, Option<String>) {
    execute_within(scenario, implementation, options, None)
}

/// The scenario's time limit: `--timeout`, else its own, else the default.
fn scenario_limit(scenario: &Scenario, options: &RunOptions) -> Duration {
    options
        .force_timeout
        .or(scenario.timeout)
        .unwrap_or(options.scenario_timeout)
}

/// A step's time limit: its own `timeout`, else its scenario's `step_timeout`, else `default`.
fn step_limit(scenario: &Scenario, step: &crate::scenario::Step, default: Duration) -> Duration {
    step.timeout.or(scenario.step_timeout).unwrap_or(default)
}

/// [`execute`], ending by `deadline` at the latest (a parameterised family's cases share one).
fn execute_within(
    scenario: &Scenario,
    implementation: &dyn Implementation,
    options: &RunOptions,
    deadline: Option<Instant>,
) -> (Status, Option<Failure>, Option<String>) {
    // A simulation's network has none of a multi-host scenario's hosts (they are namespaces of
    // the real kernel), so such a scenario cannot run on it.
    if !scenario.topology.is_empty() && implementation.own_network() {
        let reason = format!(
            "{} runs on a network of its own, which has none of the scenario's hosts (multi-host \
             scenarios run in network namespaces of the real kernel)",
            implementation.name()
        );
        return (Status::Unsupported, None, Some(reason));
    }
    // On machines, every actor runs on its host's machine's driver (none on the reference).
    let on_machines = match (&options.machines, scenario.topology.is_empty()) {
        (Some(machines), false) => match machines.place(scenario) {
            Ok(mixed) => Some(mixed),
            Err(reason) => return (Status::Unsupported, None, Some(reason)),
        },
        _ => None,
    };
    if let Some(reason) = unsupported_reason_placed(
        scenario,
        &place(scenario, implementation, options, on_machines.as_ref()),
    ) {
        return (Status::Unsupported, None, Some(reason));
    }
    if is_cancelled() {
        return (Status::Interrupted, None, Some(INTERRUPTED.to_string()));
    }
    // A simulation runs each scenario on a network and a clock of its own.
    let world = match implementation.for_scenario() {
        Ok(world) => world,
        Err(e) => return (Status::Error, None, Some(e.to_string())),
    };
    let under_test: &dyn Implementation = world.as_deref().unwrap_or(implementation);
    let clock = under_test.clock();
    let implementation = &place(scenario, under_test, options, on_machines.as_ref());
    let env = match Env::new() {
        Ok(env) => match world.as_ref().filter(|w| w.own_network()) {
            Some(world) => {
                let world = Arc::clone(world);
                env.with_own_closed_ports(Box::new(move |ip| world.closed_port(ip)))
            }
            None => env,
        },
        Err(e) => {
            return (
                Status::Error,
                None,
                Some(format!("cannot create a temporary directory: {e}")),
            )
        }
    };
    let network = match build_network(scenario, on_machines.is_some()) {
        Ok(network) => network,
        Err((status, reason)) => return (status, None, Some(reason)),
    };
    let network_ref = network.as_ref();
    // Opened side by side: a driver's start-up is most of a short scenario's time.
    let opened: Vec<_> = std::thread::scope(|scope| {
        let opening: Vec<_> = scenario
            .actors
            .iter()
            .map(|actor| {
                std::thread::Builder::new()
                    .name(format!("open {}", actor.name))
                    .spawn_scoped(scope, || {
                        // A driver's process starts in the namespace of the thread that
                        // starts it: its actor's host.
                        if let Some(network) = network_ref {
                            network.enter_for(&actor.name).map_err(|e| SessionError {
                                implementation: implementation.name().to_string(),
                                reason: e.to_string(),
                            })?;
                        }
                        if scenario.unprivileged.contains(&actor.name) {
                            implementation.open_unprivileged_session_for(&actor.name)
                        } else {
                            implementation.open_session_for(&actor.name)
                        }
                    })
            })
            .collect();
        opening
            .into_iter()
            .map(|o| match o {
                Ok(thread) => {
                    SessionError::from_opening_thread(implementation.name(), thread.join())
                }
                Err(e) => Err(SessionError {
                    implementation: implementation.name().to_string(),
                    reason: format!("cannot start a thread to open it: {e}"),
                }),
            })
            .collect()
    });
    let sessions: Vec<Box<dyn Session>> = match opened.into_iter().collect() {
        Ok(sessions) => sessions,
        // A driver killed while starting because the run was stopped is not the driver's fault.
        Err(_) if is_cancelled() => {
            return (Status::Interrupted, None, Some(INTERRUPTED.to_string()))
        }
        Err(e) => return (Status::Error, None, Some(e.to_string())),
    };
    let step_timeout = options.force_timeout.unwrap_or(options.step_timeout);
    let mut scenario_timeout = scenario_limit(scenario, options);
    if let Some(deadline) = deadline {
        scenario_timeout = scenario_timeout.min(deadline.saturating_duration_since(Instant::now()));
    }
    let shared = Arc::new(Shared {
        scenario: force_step_timeouts(scenario, options.force_timeout),
        sessions,
        board: Board::with_clock(Arc::clone(&clock)),
        watchdog: Watchdog::new(Arc::clone(&clock)),
        env,
        network,
        step_timeout,
        max_received: options.max_received,
        clock,
        expiry: Mutex::default(),
    });
    RUNNING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Arc::downgrade(&shared));
    if is_cancelled() {
        // cancel() ran between the check above and the registration.
        shared.board.cancel();
    }
    let mut outcome = supervise(&shared, scenario_timeout);
    let count = shared.scenario.actors.len();
    let abandoned = (0..count).any(|actor| !shared.board.has_returned(actor));
    let problems = end_sessions(&shared.sessions, abandoned);
    if outcome.0 == Status::Pass && !problems.is_empty() {
        outcome = (
            Status::Error,
            None,
            Some(format!(
                "every step passed, but at the end of the scenario: {}",
                problems.join("; and ")
            )),
        );
    }
    RUNNING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|w| w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), Arc::as_ptr(&shared)));
    // Removed now even if an abandoned thread still holds `shared`.
    shared.env.remove();
    outcome
}

/// A multi-host scenario's network, built; `None` for a loopback scenario or one on machines; the status and
/// reason to report when it cannot be built (unsupported where namespaces cannot be made).
fn build_network(
    scenario: &Scenario,
    on_machines: bool,
) -> Result<Option<hosts::Network>, (Status, String)> {
    if scenario.topology.is_empty() || on_machines {
        return Ok(None);
    }
    match hosts::Network::build(&scenario.topology) {
        Ok(network) => Ok(Some(network)),
        Err(e @ BuildError::Unsupported(_)) => Err((Status::Unsupported, e.to_string())),
        Err(e) => Err((Status::Error, e.to_string())),
    }
}

/// Does what the watchdog asks. An implementation's `interrupt` or `abandon` runs on a thread of
/// its own (killing a driver's process tree takes a while), so that one slow implementation call
/// does not hold up the other actors' escalations.
fn escalate(shared: &Arc<Shared>, escalation: Escalation) {
    let act = move |shared: &Shared| match escalation {
        Escalation::Interrupt(actor, handle) => shared.sessions[actor].interrupt(handle),
        Escalation::Abandon(actor) => shared.sessions[actor].abandon(),
        Escalation::GiveUp(actor, step) => {
            shared.board.fail(shared.given_up(actor, step));
            shared.board.give_up(actor);
        }
    };
    if let Escalation::GiveUp(..) = escalation {
        return act(shared);
    }
    let on_thread = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name("escalation".to_string())
        .spawn(move || act(&on_thread));
    if spawned.is_err() {
        act(shared);
    }
}

/// Ends every session of a scenario at once (a driver's ending is bounded but not instant): says
/// goodbye to each, or, if an actor thread was abandoned, abandons each, so that no driver
/// lingers until the abandoned thread ends. Returns what the sessions did wrong in ending.
fn end_sessions(sessions: &[Box<dyn Session>], abandoned: bool) -> Vec<String> {
    let end = |session: &dyn Session| {
        if abandoned {
            session.abandon();
            Ok(())
        } else {
            session.end()
        }
    };
    std::thread::scope(|scope| {
        let ending: Vec<_> = sessions
            .iter()
            .map(|session| {
                let session = session.as_ref();
                std::thread::Builder::new()
                    .name("end session".to_string())
                    .spawn_scoped(scope, move || end(session))
                    .map_err(|_| session)
            })
            .collect();
        ending
            .into_iter()
            .filter_map(|ended| {
                match ended {
                    Ok(thread) => thread.join().unwrap_or_else(|_| {
                        Err(SessionEndError {
                            implementation: "a session".to_string(),
                            reason: "panicked while ending".to_string(),
                        })
                    }),
                    // No thread to spare: end it here.
                    Err(session) => end(session),
                }
                .err()
                .map(|e| e.to_string())
            })
            .collect()
    })
}

/// The reason given for a scenario the run was stopped in the middle of.
const INTERRUPTED: &str =
    "the run was interrupted (SIGINT or SIGTERM) before this scenario finished";

/// Runs the actors and the watchdog of one scenario and waits for them, within limits: the
/// scenario's time limit, then [`ESCALATION`] and a little more for calls to end. Threads that
/// are still running then are abandoned (detached), never waited for.
fn supervise(
    shared: &Arc<Shared>,
    scenario_timeout: Duration,
) -> (Status, Option<Failure>, Option<String>) {
    // In real time: on a simulated clock, a bound on the simulation itself.
    let deadline = deadline_after(scenario_timeout);
    let count = shared.scenario.actors.len();
    let simulated = shared.clock.is_simulated();
    if simulated {
        let at = shared.clock.now().saturating_add(scenario_timeout);
        shared.expiry.lock().unwrap_or_else(|e| e.into_inner()).at = Some(at);
        shared.clock.wake_at(at);
        let weak = Arc::downgrade(shared);
        shared.clock.on_advance(Arc::new(move || {
            if let Some(shared) = weak.upgrade() {
                shared.on_clock_advance();
            }
        }));
    }

    let (watchdog_ended, watchdog_ended_rx) = mpsc::channel::<()>();
    let watchdog_thread = {
        let shared = Arc::clone(shared);
        std::thread::Builder::new()
            .name("watchdog".to_string())
            .spawn(move || {
                shared
                    .watchdog
                    .run(|escalation| escalate(&shared, escalation));
                let _ = watchdog_ended.send(());
            })
    };
    let watchdog_thread = match watchdog_thread {
        Ok(thread) => thread,
        Err(e) => {
            return (
                Status::Error,
                None,
                Some(format!("cannot start the watchdog's thread: {e}")),
            )
        }
    };

    // Every actor runs from now: a simulated clock stands still until each waits or ends (all
    // held before any starts, so that the first one's call cannot move time under the others).
    for _ in 0..count {
        shared.clock.hold();
    }
    let mut actors = Vec::with_capacity(count);
    let mut spawn_error = None;
    for index in 0..count {
        let thread_shared = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name(format!("actor {}", shared.scenario.actors[index].name))
            .spawn(move || {
                let shared = thread_shared;
                // Counted as done even if the implementation panics, so the wait ends; and no
                // longer running, for a simulated clock.
                struct Done<'b>(&'b Board, usize, &'b dyn Clock);
                impl Drop for Done<'_> {
                    fn drop(&mut self) {
                        self.2.release();
                        self.0.done(self.1);
                    }
                }
                let _done = Done(&shared.board, index, shared.clock.as_ref());
                ActorRun {
                    index,
                    actor: &shared.scenario.actors[index],
                    scenario: &shared.scenario,
                    session: shared.sessions[index].as_ref(),
                    board: &shared.board,
                    watchdog: &shared.watchdog,
                    env: &shared.env,
                    network: shared.network.as_ref(),
                    clock: shared.clock.as_ref(),
                    step_timeout: shared.step_timeout,
                    max_received: shared.max_received,
                    unprivileged: shared
                        .scenario
                        .unprivileged
                        .contains(&shared.scenario.actors[index].name),
                }
                .run()
            });
        match spawned {
            Ok(thread) => actors.push(Some(thread)),
            Err(e) => {
                for _ in index..count {
                    shared.clock.release();
                }
                spawn_error = Some(format!(
                    "cannot start a thread for actor {}: {e}",
                    shared.scenario.actors[index].name
                ));
                // The actors already started stop; those never started are done already.
                shared.board.abort();
                shared.watchdog.abort();
                for never in index..count {
                    shared.board.done(never);
                    actors.push(None);
                }
                break;
            }
        }
    }

    let in_time = shared.board.wait_done(count, deadline);
    // Where each actor was when time ran out, before stopping moves them on.
    let unfinished = shared.board.unfinished(count);
    // A simulated clock's limit passed: the actors were stopped then, and were where it says.
    let expired = shared
        .expiry
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .unfinished
        .take();
    let (in_time, unfinished) = match expired {
        Some(then) => (false, then),
        None => (in_time, unfinished),
    };
    if !in_time {
        shared.board.abort();
        shared.watchdog.abort();
        // Every armed call now escalates; a little more than that is left for threads to end.
        let _ = shared
            .board
            .wait_done(count, deadline_after(ESCALATION + STRAGGLER_GRACE));
    }
    let mut endings = Vec::with_capacity(count);
    for (index, thread) in actors.into_iter().enumerate() {
        let ending = match thread {
            // Done and not given up: it has returned or is about to.
            Some(thread) if shared.board.has_returned(index) => Some(thread.join()),
            // Given up, still running, or never started: detached.
            _ => None,
        };
        endings.push(ending);
    }
    shared.watchdog.stop();
    if watchdog_ended_rx.recv_timeout(STRAGGLER_GRACE).is_ok() {
        let _ = watchdog_thread.join();
    }

    if let Some(reason) = spawn_error {
        return (Status::Error, None, Some(reason));
    }
    if shared.board.is_cancelled() {
        return (Status::Interrupted, None, Some(INTERRUPTED.to_string()));
    }
    if let Some(failure) = shared.board.take_failure() {
        let status = match failure.kind {
            FailureKind::Timeout => Status::Timeout,
            FailureKind::Mismatch => Status::Fail,
            FailureKind::Unsupported => Status::Unsupported,
            FailureKind::Broken => Status::Error,
        };
        return (status, Some(failure), None);
    }
    for (actor, ending) in shared.scenario.actors.iter().zip(&endings) {
        if let Some(Err(panic)) = ending {
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
    if !in_time {
        let scenario = &shared.scenario;
        let places: Vec<String> = unfinished
            .iter()
            .map(|&(actor, step)| {
                let actor_def = &scenario.actors[actor];
                match step.and_then(|s| Some((s, actor_def.steps.get(s)?))) {
                    Some((index, step)) => format!(
                        "actor {}, step {} ({}, {}:{}){}",
                        actor_def.name,
                        index + 1,
                        step.op.name(),
                        scenario.path.display(),
                        step.location.line,
                        if shared.board.has_returned(actor) {
                            ""
                        } else {
                            ", abandoned"
                        }
                    ),
                    None => format!("actor {} (before its first step)", actor_def.name),
                }
            })
            .collect();
        return (
            Status::Timeout,
            None,
            Some(format!(
                "the scenario did not finish within {}; still running then: {}",
                humantime::format_duration(scenario_timeout),
                places.join("; ")
            )),
        );
    }
    debug_assert!(endings
        .iter()
        .all(|e| matches!(e, Some(Ok(Ending::Completed)))));
    (Status::Pass, None, None)
}

/// How long the runner waits, beyond every limit and escalation, for threads to end before it
/// abandons them.
const STRAGGLER_GRACE: Duration = Duration::from_millis(200);

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

/// The number of cores the run may use (at least 1).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Scenarios in flight by default on an implementation bound only by the waits its scenarios
/// declare. A run of the suite spends about a fifth of its wall time on the CPU: most scenarios
/// wait out a timeout (150-420 ms) while their threads sleep, so one scenario per core left the
/// cores idle. On two cores the suite took 2.8 s at 2 jobs, 1.0 s at 8, 0.65 s at 16 and 0.62 s
/// at 32.
pub const WAITING_SCENARIOS_AT_ONCE: usize = 32;

/// How many scenarios a run keeps in flight when `--jobs` does not say: the implementation's own
/// bound ([`Implementation::scenarios_at_once`], a driver's), else
/// [`WAITING_SCENARIOS_AT_ONCE`] — never fewer than the cores.
pub fn default_jobs(implementation: &dyn Implementation) -> usize {
    implementation
        .scenarios_at_once()
        .unwrap_or(WAITING_SCENARIOS_AT_ONCE)
        .max(cores())
}
