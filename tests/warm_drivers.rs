//! Warm drivers: a driver that declares `reset` serves scenario after scenario from one process,
//! a driver without it still gets one process per actor, a driver whose `reset` hangs or fails is
//! killed and never reused, and `reset` leaves nothing of one scenario to the next.
//!
//! The processes are counted honestly: `tests/drivers/counted.py` (the CPython driver, with a
//! chosen way of treating `reset`) appends each process's pid to a file.

use serde_json::json;
use sockspec::driver::Driver;
use sockspec::implementation::Implementation;
use sockspec::implementation::{dispatch, Session};
use sockspec::operation::{Call, Reply};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{assert_all_gone, counted, pids, root};

/// The scenarios the counting runs use: two dozen or so, of one to three actors each.
const SCENARIOS: &str = "fixtures/tcp/client";

/// Two scenarios of two actors each, for the runs that watch `reset` fail.
const TWO: [&str; 2] = [
    "fixtures/tutorial/echo.yaml",
    "fixtures/tcp/client/connect-twice-fails-with-eisconn.yaml",
];

/// `sockspec run --jobs 2 --impl exec:COMMAND INPUTS…`: its exit code, report, and the pids
/// its driver processes logged (all of which have exited by then).
fn run(mode: &str, inputs: &[&str]) -> (Option<i32>, String, Vec<u32>) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("pids");
    let out = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(["run", "--jobs", "2"])
        .arg(format!("--impl=exec:{}", counted(&log, mode)))
        .args(inputs)
        .current_dir(root())
        .output()
        .expect("sockspec runs");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    let pids = pids(&log);
    assert_all_gone(&pids);
    (out.status.code(), report, pids)
}

#[test]
fn a_run_with_reset_starts_far_fewer_processes_than_one_per_actor() {
    let (cold_code, cold, cold_pids) = run("no-reset", &[SCENARIOS]);
    let (warm_code, warm, warm_pids) = run("reset", &[SCENARIOS]);
    assert_eq!(cold_code, Some(0), "without reset:\n{cold}");
    assert_eq!(warm_code, Some(0), "with reset:\n{warm}");
    let scenarios = std::fs::read_dir(root().join(SCENARIOS))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        })
        .count();
    assert!(
        warm.contains(&format!("{scenarios} scenarios against")),
        "{warm}"
    );
    // Without reset: one process for the handshake, then one per actor of every scenario.
    assert!(
        cold_pids.len() > scenarios,
        "{} processes without reset",
        cold_pids.len()
    );
    eprintln!(
        "{} processes with reset, {} without",
        warm_pids.len(),
        cold_pids.len()
    );
    // With it: at most the actors of the scenarios running at once (2 jobs), plus a few that
    // were killed by the watchdog on purpose (scenarios that end a blocked call).
    assert!(
        warm_pids.len() * 4 <= cold_pids.len(),
        "{} processes with reset against {} without",
        warm_pids.len(),
        cold_pids.len()
    );
}

#[test]
fn a_driver_whose_reset_hangs_is_killed_and_never_reused() {
    let (_, _, cold_pids) = run("no-reset", &TWO);
    let (code, report, pids) = run("reset-hangs", &TWO);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("did not answer `reset` within 1s"),
        "the failed reset is not named:\n{report}"
    );
    // Every session had a process of its own: the handshake's served the first (as a warm
    // process does), and no process that failed its reset served again.
    assert_eq!(
        pids.len(),
        cold_pids.len() - 1,
        "{pids:?} against {cold_pids:?}"
    );
}

#[test]
fn a_driver_whose_reset_fails_is_an_error_and_its_process_is_not_reused() {
    let (_, _, cold_pids) = run("no-reset", &TWO);
    let (code, report, pids) = run("reset-fails", &TWO);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("answered `reset` with an error (EIO: reset: cannot reset (test fixture))"),
        "the failed reset is not named:\n{report}"
    );
    assert_eq!(
        pids.len(),
        cold_pids.len() - 1,
        "{pids:?} against {cold_pids:?}"
    );
}

/// `call` (as the protocol writes it) made on `session`: its reply, or its error's name.
fn call(session: &dyn Session, call: serde_json::Value) -> Result<Reply, String> {
    let call: Call = serde_json::from_value(call).unwrap();
    dispatch(session, &call).map_err(|e| e.code.name().to_string())
}

/// `counted.py` with `reset`, started from the repository root, logging its processes to
/// `pids` in the directory returned with it.
fn warm_counted() -> (tempfile::TempDir, Driver) {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_current_dir(root()).unwrap();
    let driver = Driver::start("counted", &counted(&dir.path().join("pids"), "reset")).unwrap();
    (dir, driver)
}

#[test]
fn a_socket_left_open_by_one_session_is_closed_before_the_next() {
    let (dir, driver) = warm_counted();
    let log = dir.path().join("pids");
    let first = driver.open_session().unwrap();
    let socket = json!({"op": "socket", "family": "inet", "type": "stream"});
    let Ok(Reply::Socket(opened)) = call(first.as_ref(), socket) else {
        panic!("socket failed");
    };
    let handle = opened.handle;
    let bind = json!({"op": "bind", "handle": handle, "address": "127.0.0.1:0"});
    call(first.as_ref(), bind).unwrap();
    call(
        first.as_ref(),
        json!({"op": "listen", "handle": handle, "backlog": 1}),
    )
    .unwrap();
    let named = call(
        first.as_ref(),
        json!({"op": "getsockname", "handle": handle}),
    );
    let Ok(Reply::Getsockname(named)) = named else {
        panic!("getsockname failed: {named:?}");
    };
    let address = named.address.to_string();
    // Left open: the session ends with the listener still listening.
    assert!(std::net::TcpStream::connect(&address).is_ok());
    first.end().unwrap();
    drop(first);
    let refused = std::net::TcpStream::connect(&address).unwrap_err();
    assert_eq!(
        refused.kind(),
        std::io::ErrorKind::ConnectionRefused,
        "{refused}"
    );

    let second = driver.open_session().unwrap();
    let old = call(
        second.as_ref(),
        json!({"op": "getsockname", "handle": handle}),
    );
    assert_eq!(
        old.err().as_deref(),
        Some("EBADF"),
        "the first session's handle is still known"
    );
    second.end().unwrap();
    drop(second);
    // The handshake's process served both sessions: no process started beside it and the
    // second that starts with it (which waited, unused).
    assert!(pids(&log).len() <= 2, "{:?}", pids(&log));
    let started = pids(&log);
    driver.shut_down();
    assert_all_gone(&started);
}

#[test]
fn driver_check_catches_a_reset_that_leaves_sockets_open() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("pids");
    let out = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(["driver-check", &counted(&log, "reset-leaks")])
        .current_dir(root())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    let line = report
        .lines()
        .skip_while(|line| !line.contains("`reset` closes every socket"))
        .take(2)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(line.starts_with("FAIL"), "{report}");
    assert!(
        line.contains("not EBADF") && line.contains("still open"),
        "{line}"
    );
    assert_all_gone(&pids(&log));
}

/// No process carries a driver token of the sockspec whose pid is `sockspec`.
fn assert_no_token_of(sockspec: u32) {
    let token = format!("{}={sockspec}-", sockspec::driver::TOKEN_VARIABLE);
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        assert!(
            !environ
                .split(|b| *b == 0)
                .any(|e| e.starts_with(token.as_bytes())),
            "a process of a driver was left running: {:?}",
            entry.path()
        );
    }
}

#[test]
fn an_interrupted_run_leaves_no_warm_process() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("pids");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(["run", "--jobs", "2"])
        .arg(format!("--impl=exec:{}", counted(&log, "reset")))
        .arg("fixtures/tcp")
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Interrupted once scenarios are running on warm processes (the handshake's, the second
    // started beside it, and another).
    let deadline = Instant::now() + Duration::from_secs(30);
    while pids(&log).len() < 3 {
        assert!(Instant::now() < deadline, "no scenario started");
        std::thread::sleep(Duration::from_millis(10));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    // Bounded: a run that does not stop is killed and the test fails.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the interrupted run did not stop within 30 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(130), "{status}");
    assert_all_gone(&pids(&log));
    assert_no_token_of(child.id());
}

/// Unprivileged actors have a pool of their own: after a scenario left two privileged warm
/// processes idle, a scenario whose actors run without privileges still gets processes without
/// them (as root, a privileged process would bind port 1 and fail it), and then reuses them.
#[test]
fn an_unprivileged_actor_never_gets_a_privileged_warm_process() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("pids");
    let out = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(["run", "--jobs", "1"])
        .arg(format!("--impl=exec:{}", counted(&log, "reset")))
        .args([
            "fixtures/tcp/client/connect-twice-fails-with-eisconn.yaml",
            "fixtures/tcp/server/bind-reserved-port-unprivileged-fails-with-eacces.yaml",
            "fixtures/unix/bind-in-directory-without-write-permission-fails-with-eacces.yaml",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(report.contains("3 scenarios against"), "{report}");
    let started = pids(&log);
    assert_all_gone(&started);
    // Two privileged processes (the handshake's and the one started beside it), and the
    // unprivileged ones of the second scenario, which served the third's unprivileged actors
    // too.
    assert!(started.len() <= 4, "{started:?}");
}

/// The watchdog's escalations run on threads of their own and can come after a scenario ended:
/// an `abandon` or `interrupt` of a session whose process went back to the pool must leave that
/// process alone, since it may already serve another scenario's actor.
#[test]
fn a_late_escalation_of_an_ended_session_does_not_kill_its_process_serving_the_next() {
    let (dir, driver) = warm_counted();
    let log = dir.path().join("pids");
    let first = driver.open_session().unwrap();
    first.end().unwrap();
    let second = driver.open_session().unwrap();
    // The first session's watchdog, late.
    first.abandon();
    first.interrupt(sockspec::implementation::Handle(1));
    let socket = json!({"op": "socket", "family": "inet", "type": "stream"});
    assert!(
        call(second.as_ref(), socket).is_ok(),
        "the process serving the second session was killed by the first's escalation"
    );
    second.end().unwrap();
    drop((first, second));
    // One process served both: the handshake's (the other is the one started beside it).
    assert!(pids(&log).len() <= 2, "{:?}", pids(&log));
    driver.shut_down();
    assert_all_gone(&pids(&log));
}
