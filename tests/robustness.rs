//! A run always ends, whatever the implementation does: an in-process implementation whose call
//! never returns (not even after the watchdog interrupts it) is abandoned at its limit plus the
//! watchdog's escalation, reported `timeout` naming the actor and the step, and the run goes on;
//! a parameterised scenario is `unsupported` at its first unsupported case; the reference's
//! timeout-mode waits end after an interrupt.

use sockspec::implementation::{
    dispatch, Capabilities, Handle, Implementation, Session, SessionError, SockResult,
};
use sockspec::operation::{Bytes, Call, Received, Reply};
use sockspec::reference::Reference;
use sockspec::requirements::Requirements;
use sockspec::runner::{run_all, run_scenario, RunOptions, ScenarioResult, Status};
use sockspec::scenario::{discover, load, Scenario};
use sockspec::vocab::{ErrorCode, SockError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::root;

fn scenario(name: &str) -> Scenario {
    let requirements = Requirements::load(&root().join("tests/data/spec")).unwrap();
    let found = discover(&[root().join("tests/data/hostile").join(name)]).unwrap();
    load(&found[0], &requirements).unwrap()
}

/// What a [`Hostile`] session does wrong.
#[derive(Clone, Copy, PartialEq)]
enum Misbehaviour {
    /// `recv` never returns, whatever the watchdog does.
    StallsInRecv,
    /// `socket` never returns (a call without a handle: nothing to interrupt).
    StallsInSocket,
    /// Every `sendall` is answered `unsupported`.
    SendallUnsupported,
    /// `recv` returns a full buffer of zeros, for ever: the stream never ends.
    EndlessRecv,
}

/// The reference, but misbehaving as told. Counts the sessions it opened.
struct Hostile {
    misbehaviour: Misbehaviour,
    opened: Arc<AtomicUsize>,
}

struct HostileSession {
    inner: Box<dyn Session>,
    misbehaviour: Misbehaviour,
}

/// Blocks the calling thread for ever: a condition that nothing signals.
fn stall() -> ! {
    let never = (Mutex::new(()), Condvar::new());
    let mut guard = never.0.lock().unwrap();
    loop {
        guard = never.1.wait(guard).unwrap();
    }
}

impl Implementation for Hostile {
    fn name(&self) -> &str {
        "hostile"
    }
    fn capabilities(&self) -> Capabilities {
        Reference.capabilities()
    }
    fn open_session(&self) -> Result<Box<dyn Session>, SessionError> {
        self.opened.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(HostileSession {
            inner: Reference.open_session()?,
            misbehaviour: self.misbehaviour,
        }))
    }
}

impl Session for HostileSession {
    /// Every call goes to the reference, except where the misbehaviour says otherwise.
    fn perform(&self, call: &Call) -> SockResult<Reply> {
        match (self.misbehaviour, call) {
            (Misbehaviour::StallsInSocket, Call::Socket(_)) => stall(),
            (Misbehaviour::SendallUnsupported, Call::Sendall(_)) => {
                return Err(SockError {
                    code: ErrorCode::Unsupported,
                    message: "sendall is not implemented".to_string(),
                })
            }
            (Misbehaviour::StallsInRecv, Call::Recv(_)) => stall(),
            (Misbehaviour::EndlessRecv, Call::Recv(recv)) => {
                return Ok(Reply::Recv(Received {
                    data: Bytes(vec![0; recv.bufsize]),
                }))
            }
            _ => {}
        }
        dispatch(self.inner.as_ref(), call)
    }
    fn interrupt(&self, socket: Handle) {
        self.inner.interrupt(socket)
    }
}

fn hostile(misbehaviour: Misbehaviour) -> Hostile {
    Hostile {
        misbehaviour,
        opened: Arc::new(AtomicUsize::new(0)),
    }
}

/// Runs `scenario` on `implementation` and checks that it ended within `bound`.
fn run_within(
    scenario: &Scenario,
    implementation: &dyn Implementation,
    options: &RunOptions,
    bound: Duration,
) -> ScenarioResult {
    let started = Instant::now();
    let result = run_scenario(scenario, implementation, options);
    assert!(started.elapsed() < bound, "took {:?}", started.elapsed());
    result
}

/// The step limit of the hostile scenarios (their `step_timeout`), plus the one second the
/// runner promises at most beyond it.
const ENDS_WITHIN: Duration = Duration::from_millis(300 + 1000);

#[test]
fn a_call_that_never_returns_is_abandoned_and_reported_as_a_timeout_of_its_step() {
    let result = run_within(
        &scenario("recv-on-a-socketpair.yaml"),
        &hostile(Misbehaviour::StallsInRecv),
        &RunOptions::default(),
        ENDS_WITHIN,
    );
    assert_eq!(result.status, Status::Timeout, "{}", result.explanation());
    let explanation = result.explanation();
    assert!(
        explanation.contains("actor reader, step 2 (recv"),
        "{explanation}"
    );
    assert!(
        explanation.contains("its thread was left behind"),
        "{explanation}"
    );
}

#[test]
fn a_call_without_a_socket_that_never_returns_is_abandoned_too() {
    let result = run_within(
        &scenario("socket-only.yaml"),
        &hostile(Misbehaviour::StallsInSocket),
        &RunOptions::default(),
        ENDS_WITHIN,
    );
    assert_eq!(result.status, Status::Timeout, "{}", result.explanation());
    assert!(
        result.explanation().contains("actor maker, step 1 (socket"),
        "{}",
        result.explanation()
    );
}

#[test]
fn the_run_goes_on_after_an_abandoned_scenario() {
    let scenarios = [
        scenario("recv-on-a-socketpair.yaml"),
        scenario("socket-only.yaml"),
    ];
    let started = Instant::now();
    let results = run_all(
        &scenarios,
        &hostile(Misbehaviour::StallsInRecv),
        &RunOptions::default(),
        1,
        |_| {},
    );
    assert!(
        started.elapsed() < ENDS_WITHIN + Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    let statuses: Vec<Status> = results.iter().map(|r| r.status).collect();
    // The second scenario makes no recv, so it passes on the same implementation.
    assert_eq!(statuses, [Status::Timeout, Status::Pass]);
}

#[test]
fn a_scenario_timeout_ends_a_stalled_run_within_its_limit_plus_a_second() {
    // The scenario's own limit is shorter than its step limit here.
    let options = RunOptions {
        scenario_timeout: Duration::from_millis(200),
        step_timeout: Duration::from_secs(30),
        ..RunOptions::default()
    };
    let mut stalled = scenario("recv-on-a-socketpair.yaml");
    stalled.step_timeout = None;
    let result = run_within(
        &stalled,
        &hostile(Misbehaviour::StallsInRecv),
        &options,
        Duration::from_millis(1200),
    );
    assert_eq!(result.status, Status::Timeout, "{}", result.explanation());
    let explanation = result.explanation();
    assert!(
        explanation.contains("still running then: actor reader, step 2 (recv, ")
            && explanation.contains(", abandoned"),
        "{explanation}"
    );
}

#[test]
fn a_parameterised_scenario_is_unsupported_at_its_first_unsupported_case() {
    let implementation = hostile(Misbehaviour::SendallUnsupported);
    let opened = Arc::clone(&implementation.opened);
    let result = run_scenario(
        &scenario("parameterised-unsupported.yaml"),
        &implementation,
        &RunOptions::default(),
    );
    assert_eq!(
        result.status,
        Status::Unsupported,
        "{}",
        result.explanation()
    );
    // One actor, one case: one session. (Before, every case was run and rejected.)
    assert_eq!(opened.load(Ordering::SeqCst), 1);
}

#[test]
fn the_reference_ends_udp_timeout_waits_once_interrupted() {
    // These fixtures wait in timeout mode on UDP sockets; after the watchdog's shutdown(2) the
    // socket polls readable while recv(2) says EAGAIN, which once made the wait spin for ever.
    let requirements = Requirements::load(&root().join("spec")).unwrap();
    let files = discover(&[root().join("fixtures/udp")]).unwrap();
    let scenarios: Vec<Scenario> = files
        .iter()
        .map(|f| load(f, &requirements).unwrap())
        .collect();
    let options = RunOptions {
        force_timeout: Some(Duration::from_millis(50)),
        ..RunOptions::default()
    };
    let started = Instant::now();
    let results = run_all(&scenarios, &Reference, &options, 2, |_| {});
    assert_eq!(results.len(), scenarios.len());
    // Each scenario ends within 50 ms plus the escalation; two at a time.
    let bound = Duration::from_millis(1100) * (scenarios.len() as u32).div_ceil(2);
    assert!(started.elapsed() < bound, "took {:?}", started.elapsed());
    assert!(
        results.iter().any(|r| r.status == Status::Timeout),
        "at 50 ms some UDP scenario times out"
    );
}

#[test]
fn a_stream_that_never_ends_is_read_only_up_to_the_data_limit() {
    let options = RunOptions {
        max_received: 1 << 20,
        ..RunOptions::default()
    };
    let result = run_scenario(
        &scenario("recv-until-eof.yaml"),
        &hostile(Misbehaviour::EndlessRecv),
        &options,
    );
    assert_eq!(result.status, Status::Fail, "{}", result.explanation());
    // Stopped just past the limit (recv_until_eof reads 64 KiB at a time by default).
    let explanation = result.explanation();
    assert!(
        explanation.contains("got success with data 1114112 bytes"),
        "{explanation}"
    );
}

#[test]
fn a_parameterised_scenario_is_decided_by_its_first_timed_out_case_without_shrinking() {
    let implementation = hostile(Misbehaviour::StallsInRecv);
    let opened = Arc::clone(&implementation.opened);
    let result = run_within(
        &scenario("parameterised-stalls.yaml"),
        &implementation,
        &RunOptions::default(),
        ENDS_WITHIN,
    );
    assert_eq!(result.status, Status::Timeout, "{}", result.explanation());
    assert_eq!(opened.load(Ordering::SeqCst), 1, "a second case ran");
    assert!(
        result.explanation().contains("with size="),
        "{}",
        result.explanation()
    );
}

#[test]
fn a_parameterised_family_ends_at_its_scenario_limit() {
    let result = run_within(
        &scenario("parameterised-many-cases.yaml"),
        &Reference,
        &RunOptions::default(),
        Duration::from_millis(300 + 1000),
    );
    assert_eq!(result.status, Status::Timeout, "{}", result.explanation());
    assert!(
        result
            .explanation()
            .contains("the 10000 cases did not all run within the scenario's limit of 300ms"),
        "{}",
        result.explanation()
    );
}
