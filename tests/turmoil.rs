//! The simulated implementation, turmoil (the `turmoil` feature): the suite on it is
//! deterministic, its time is the simulation's (a timeout takes no real time, and `min_elapsed`
//! and limits are measured in it), and the properties and the differential test run on it.
//! Its per-fixture trials are `turmoil::…` in `tests/conformance.rs`.

#![cfg(feature = "turmoil")]

use sockspec::differential::Profile;
use sockspec::implementation::Implementation;
use sockspec::properties::regressions_dir;
use sockspec::properties::search::{
    check_closed, check_datagrams, check_interleavings, check_names, check_streams, Search,
};
use sockspec::properties::StreamTransport;
use sockspec::requirements::Requirements;
use sockspec::runner::{run_all, run_scenario, RunOptions, ScenarioResult, Status};
use sockspec::scenario::{parse, Limits, Scenario, ScenarioPath};
use sockspec::suite::Suite;
use sockspec::turmoil::Turmoil;
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod common;
use common::root;

fn requirements() -> Requirements {
    Requirements::load(&root().join("spec")).expect("the spec loads")
}

/// A scenario from YAML text, checked against the suite's spec.
fn scenario(yaml: &str) -> Scenario {
    let file = ScenarioPath {
        path: PathBuf::from("turmoil-test.yaml"),
        id: "turmoil-test".to_string(),
    };
    parse(&file, yaml, &requirements()).expect("the test's scenario is valid")
}

/// Every outcome of a run, as it would be reported: status, reason and failure message.
fn outcomes(results: &[ScenarioResult]) -> Vec<(String, Status, String)> {
    results
        .iter()
        .map(|r| (r.scenario.clone(), r.status, r.explanation()))
        .collect()
}

#[test]
fn two_runs_of_the_suite_on_turmoil_give_the_same_outcome_for_every_scenario() {
    let requirements = requirements();
    let (scenarios, errors) = Suite::Dir(root())
        .scenarios(&requirements, &Limits::default())
        .expect("the suite loads");
    assert!(errors.is_empty(), "{errors:?}");
    let turmoil = Turmoil::new();
    let run = || {
        let options = RunOptions::default();
        run_all(&scenarios, &turmoil, &options, 32, |_| {})
    };
    let first = outcomes(&run());
    let second = outcomes(&run());
    assert_eq!(first.len(), scenarios.len());
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a, b, "the two runs differ on {}", a.0);
    }
    // Not vacuous: the runs passed scenarios, and failed some (the known deviations).
    let count = |status| first.iter().filter(|o| o.1 == status).count();
    assert!(count(Status::Pass) >= 77, "{} passed", count(Status::Pass));
    assert!(count(Status::Fail) + count(Status::Timeout) > 0);
}

#[test]
fn a_timeout_mode_recv_waits_its_timeout_in_simulated_time_not_real_time() {
    // Ten seconds of timeout and a min_elapsed of ten seconds: it passes only if the
    // simulation's clock moved, and the real time it takes shows the clock was not real.
    let yaml = r#"
title: a recv in timeout mode waits its whole timeout
requirements: [modes.timeout]
step_timeout: 60s
timeout: 120s
actors:
  main:
    - socket: {family: inet, type: dgram, as: u}
    - bind: {socket: u, address: "127.0.0.1:0"}
    - settimeout: {socket: u, timeout: 10s}
    - recv: {socket: u, bufsize: 10}
      expect: {error: timeout}
      min_elapsed: 10s
    - close: {socket: u}
"#;
    let started = Instant::now();
    let result = run_scenario(&scenario(yaml), &Turmoil::new(), &RunOptions::default());
    assert_eq!(result.status, Status::Pass, "{}", result.explanation());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?} of real time",
        started.elapsed()
    );
}

#[test]
fn min_elapsed_longer_than_the_simulated_timeout_fails() {
    // The other side of the check: a recv that times out after 1 s of simulated time does not
    // satisfy a min_elapsed of 2 s.
    let yaml = r#"
title: a recv in timeout mode cannot take longer than its timeout
requirements: [modes.timeout]
actors:
  main:
    - socket: {family: inet, type: dgram, as: u}
    - bind: {socket: u, address: "127.0.0.1:0"}
    - settimeout: {socket: u, timeout: 1s}
    - recv: {socket: u, bufsize: 10}
      expect: {error: timeout}
      min_elapsed: 2s
"#;
    let result = run_scenario(&scenario(yaml), &Turmoil::new(), &RunOptions::default());
    assert_eq!(result.status, Status::Fail, "{}", result.explanation());
    assert!(
        result.explanation().contains("at least 2s"),
        "{}",
        result.explanation()
    );
}

#[test]
fn a_call_that_never_returns_times_out_at_its_limit_in_simulated_time() {
    // Nothing is ever sent: the recv blocks until the step's limit, an hour of simulated time,
    // which the watchdog measures on the simulation's clock.
    let yaml = r#"
title: a blocking recv with nothing to receive
requirements: [modes.timeout]
step_timeout: 1h
timeout: 1h
actors:
  main:
    - socket: {family: inet, type: dgram, as: u}
    - bind: {socket: u, address: "127.0.0.1:0"}
    - recv: {socket: u, bufsize: 10}
"#;
    let started = Instant::now();
    let result = run_scenario(&scenario(yaml), &Turmoil::new(), &RunOptions::default());
    assert_eq!(result.status, Status::Timeout, "{}", result.explanation());
    assert!(
        result.explanation().contains("within 1h"),
        "{}",
        result.explanation()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn the_scenario_limit_is_measured_in_simulated_time() {
    // Each step is within its own limit, but together they outlast the scenario's.
    let yaml = r#"
title: two recvs in timeout mode outlast the scenario's limit
requirements: [modes.timeout]
timeout: 15s
actors:
  main:
    - socket: {family: inet, type: dgram, as: u}
    - bind: {socket: u, address: "127.0.0.1:0"}
    - settimeout: {socket: u, timeout: 4s}
    - recv: {socket: u, bufsize: 10}
      expect: {error: timeout}
    - recv: {socket: u, bufsize: 10}
      expect: {error: timeout}
    - recv: {socket: u, bufsize: 10}
      expect: {error: timeout}
    - recv: {socket: u, bufsize: 10}
      expect: {error: timeout}
"#;
    let started = Instant::now();
    let result = run_scenario(&scenario(yaml), &Turmoil::new(), &RunOptions::default());
    assert_eq!(result.status, Status::Timeout, "{}", result.explanation());
    assert!(
        result.explanation().contains("did not finish within 15s"),
        "{}",
        result.explanation()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn an_actor_waiting_for_another_does_not_let_simulated_time_pass_under_it() {
    // The receiver waits in timeout mode for a datagram the sender sends only after a signal
    // the receiver raises first. Simulated time must not move while the sender runs, or the
    // receiver would time out before the datagram comes.
    let yaml = r#"
title: a datagram sent after a signal arrives within a short timeout
requirements: [modes.timeout]
actors:
  receiver:
    - socket: {family: inet, type: dgram, as: r}
    - bind: {socket: r, address: "127.0.0.1:0"}
    - getsockname: {socket: r, capture: receiver}
    - settimeout: {socket: r, timeout: 10ms}
    - signal: ready
    - recvfrom: {socket: r, bufsize: 10}
      expect: {data: hi}
  sender:
    - socket: {family: inet, type: dgram, as: s}
    - wait: ready
    - sendto: {socket: s, data: hi, address: $receiver}
"#;
    for _ in 0..20 {
        let result = run_scenario(&scenario(yaml), &Turmoil::new(), &RunOptions::default());
        assert_eq!(result.status, Status::Pass, "{}", result.explanation());
    }
}

fn search(cases: u32) -> Search {
    Search::new(common::proptest_cases(cases), regressions_dir())
}

#[test]
fn the_properties_hold_on_turmoil_within_what_it_expresses() {
    let turmoil = Turmoil::new();
    check_datagrams(&turmoil, &search(12)).unwrap();
    check_names(&turmoil, &search(12)).unwrap();
    check_closed(&turmoil, &search(12)).unwrap();
    check_interleavings(&turmoil, &search(12)).unwrap();
    // Up to 60 KiB, within one receive window: beyond it turmoil-net's window stalls when the
    // reader takes less than half its buffer at a time (the fixture
    // data/small-reads-drain-a-full-receive-buffer, expected to time out on it).
    check_streams(
        &turmoil,
        &[StreamTransport::Tcp4, StreamTransport::Tcp6],
        &search(12),
        60 << 10,
    )
    .unwrap();
}

#[test]
fn turmoil_agrees_with_the_reference_within_its_limits() {
    // Like std, the shim's bind listens and it has no object for a socket before bind or
    // connect; unlike std it sets no SO_REUSEADDR.
    let turmoil = Turmoil::new();
    let profile = Profile {
        listen_after_bind: true,
        wrong_state_calls: false,
        ..Profile::of(&turmoil.capabilities())
    };
    let cases = common::proptest_cases(24);
    let search = Search {
        max_shrink_iters: 16,
        ..Search::new(cases, regressions_dir())
    };
    match sockspec::differential::search(&turmoil, profile, &search) {
        // A difference that is a known deviation (in expectations/turmoil.yaml) ends the search
        // as any difference does; any other one fails the test.
        Err(message) if known_difference(&message).is_some() => {}
        Err(message) => panic!("{message}"),
        Ok(agreed) => assert!(
            agreed >= 2 * cases as usize,
            "only {agreed} operations agreed in {cases} sequences"
        ),
    }
}

/// The known deviation (its scenario in expectations/turmoil.yaml) that the differential
/// test's message shows, if it is one:
/// - a send to a peer that closed is taken (turmoil-net's closed socket keeps receiving) where
///   Linux has reset the connection;
/// - a UDP socket connected to loopback still reports the wildcard address it was bound to.
fn known_difference(message: &str) -> Option<&'static str> {
    let first = message.lines().next().unwrap_or_default();
    let send_taken = first.contains("(Send {")
        && (first.contains("the reference gave error EPIPE, it gave ok")
            || first.contains("the reference gave error ECONNRESET, it gave ok"));
    let wildcard_name = first.contains("(Getsockname {")
        && first.contains("the reference gave ok, 127.0.0.1:")
        && first.contains("it gave ok, 0.0.0.0:");
    if send_taken {
        Some("data/send-after-peer-close-first-succeeds-then-epipe")
    } else if wildcard_name {
        Some("udp/connect-of-wildcard-bound-socket-reports-loopback-linux")
    } else {
        None
    }
}

#[test]
fn only_the_known_deviations_count_as_known_differences() {
    let send = "Test failed: turmoil differs from the reference at step 21 (Send { socket: 2, \
                len: 158 }): the reference gave error EPIPE, it gave ok, 158.\nminimal…";
    assert!(known_difference(send).is_some());
    let name = "Test failed: turmoil differs from the reference at step 3 (Getsockname { \
                socket: 0 }): the reference gave ok, 127.0.0.1:E0, it gave ok, 0.0.0.0:E0.";
    assert!(known_difference(name).is_some());
    let other = "Test failed: turmoil differs from the reference at step 4 (Recv { socket: 1, \
                 bufsize: 10 }): the reference gave ok, b\"a\", it gave error EAGAIN.";
    assert!(known_difference(other).is_none());
}

#[test]
fn turmoil_cannot_be_mixed_with_an_implementation_on_the_host_network() {
    let output = common::sockspec(&[
        "run",
        "--impl",
        "server=reference",
        "--impl",
        "client=turmoil",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = common::text(&output.stderr);
    assert!(
        stderr.contains("`turmoil` runs on a simulated network of its own"),
        "{stderr}"
    );
}

#[test]
fn sockspec_run_impl_turmoil_fails_nothing_beyond_its_known_deviations() {
    // Every deviation is in expectations/turmoil.yaml, so the run exits 0; a new one (or a
    // stale entry) fails it.
    let output = common::sockspec(&["run", "--impl", "turmoil"]);
    let stdout = common::text(&output.stdout);
    let summary = stdout
        .lines()
        .find(|line| line.contains(" scenarios against turmoil: "))
        .unwrap_or_default();
    // Everything but the passing and unsupported lines: the failures in full, and the summary.
    let unexpected: Vec<&str> = stdout
        .lines()
        .filter(|line| {
            !["PASS ", "UNSUPP ", "XFAIL ", "SKIP "]
                .iter()
                .any(|s| line.starts_with(s))
        })
        .collect();
    assert_eq!(output.status.code(), Some(0), "{}", unexpected.join("\n"));
    assert!(
        summary.contains(" 0 failed, ") && summary.contains(" 0 errors, 0 timeouts"),
        "{}",
        unexpected.join("\n")
    );
    // Every actor ran on the simulation: the reference cannot reach its network.
    assert!(!stdout.contains("actors ran on"), "{summary}");
}

#[test]
fn a_multi_host_scenario_is_unsupported_on_a_simulation_with_the_reason() {
    let multi_host = scenario(
        r#"
title: two hosts
requirements: [net.remote.connect]
hosts:
  alpha:
    interfaces:
      wire: {addresses: [198.18.0.1/24]}
  beta:
    interfaces:
      wire: {addresses: [198.18.0.2/24]}
host: {client: alpha}
actors:
  client:
    - socket: {family: inet, type: stream, as: c}
"#,
    );
    let result = run_scenario(&multi_host, &Turmoil::new(), &RunOptions::default());
    assert_eq!(
        result.status,
        Status::Unsupported,
        "{}",
        result.explanation()
    );
    assert!(
        result.explanation().contains("a network of its own"),
        "{}",
        result.explanation()
    );
}
