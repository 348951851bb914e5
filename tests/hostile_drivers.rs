//! Hostile drivers: each driver in `tests/drivers/` misbehaves in one way (never answers, floods,
//! escapes its process group, lies about sequence numbers...). Whatever it does, `sockspec run`
//! ends within its limits, reports the scenario it broke as `error` or `timeout`, goes on with
//! the others, and leaves no process and no temporary directory behind; `driver-check` ends too.
//!
//! Limits are kept short (`--timeout 1s`, a 1 s `hello` limit) so that the file runs in seconds;
//! the time bound asserted adds slack for Python's start-up on a loaded machine, far below a hang.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::root;

/// `--timeout` and the `hello` limit of every run here.
const LIMIT: Duration = Duration::from_secs(1);

/// The `hello` limit of every run here: long enough for Python to start on a machine loaded by
/// the other tests (at 1 s, drivers were refused now and then), short enough to keep the file fast.
const HELLO_LIMIT: Duration = Duration::from_secs(3);

/// The longest a run may take: its limit, the 1 s the runner may add, and start-up slack.
const SLACK: Duration = Duration::from_secs(3);

/// How much longer than its bound a run is waited for before it is taken to hang (and killed).
const HANG: Duration = Duration::from_secs(5);

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Runs `sockspec ARGS` with a fresh TMPDIR and the short `hello` limit; checks that it ended
/// within `bound`, that no process it started survives it, and that TMPDIR is left empty.
fn sockspec(driver: &str, args: &[String], bound: Duration) -> Outcome {
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(args)
        .current_dir(root())
        .env("TMPDIR", tmp.path())
        .env(sockspec::driver::HELLO_TIMEOUT_VARIABLE, "3s")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sockspec starts");
    let pid = child.id();
    let (code, stdout, stderr) = wait_at_most(child, bound + HANG);
    let outcome = Outcome {
        code,
        stdout,
        stderr,
        elapsed: started.elapsed(),
    };
    assert!(
        outcome.elapsed <= bound,
        "`sockspec {}` took {:?} (more than {bound:?}):\n{}\n{}",
        args.join(" "),
        outcome.elapsed,
        outcome.stdout,
        outcome.stderr
    );
    common::assert_no_driver_left(driver, Some(pid));
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
    outcome
}

/// Waits for `child`; if it is still running after `limit`, kills it and the processes its
/// drivers started (a hang must fail the test, not hang it) and says so.
fn wait_at_most(mut child: Child, limit: Duration) -> (Option<i32>, String, String) {
    let pid = child.id();
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = read(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = read(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            kill_processes_of(pid);
            panic!("sockspec hung: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (
        status.code(),
        stdout.join().unwrap(),
        stderr.join().unwrap(),
    )
}

/// SIGKILL to every process carrying a driver token of sockspec `pid` (after a hang).
fn kill_processes_of(pid: u32) {
    let token = format!("{}={pid}-", sockspec::driver::TOKEN_VARIABLE);
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if environ
            .split(|b| *b == 0)
            .any(|e| e.starts_with(token.as_bytes()))
        {
            if let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse().ok()) {
                // SAFETY: kill(2) with a pid and a signal number.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

/// `sockspec run` of the driver test scenarios against `tests/drivers/DRIVER.py ARGS`.
fn run(driver: &str, driver_args: &str) -> Outcome {
    run_within(driver, driver_args, LIMIT)
}

/// [`run`] with `--timeout LIMIT`.
fn run_within(driver: &str, driver_args: &str, limit: Duration) -> Outcome {
    let args = [
        "run",
        "--spec",
        "tests/data/spec",
        "--jobs",
        "4",
        "--timeout",
    ]
    .map(String::from)
    .into_iter()
    .chain([
        format!("{}ms", limit.as_millis()),
        format!("--impl=exec:python3 tests/drivers/{driver}.py{driver_args}"),
        "tests/data/drivers".to_string(),
    ])
    .collect::<Vec<_>>();
    let outcome = sockspec(driver, &args, limit.max(HELLO_LIMIT) + SLACK);
    assert!(
        outcome.stdout.contains("4 scenarios against"),
        "the run did not go on to every scenario:\n{}\n{}",
        outcome.stdout,
        outcome.stderr
    );
    assert_eq!(outcome.code, Some(1), "{}", outcome.stdout);
    outcome
}

/// `sockspec driver-check python3 tests/drivers/DRIVER.py ARGS`, which must end within `bound`.
fn driver_check(driver: &str, driver_args: &str, bound: Duration) -> Outcome {
    let args = [
        "driver-check".to_string(),
        format!("python3 tests/drivers/{driver}.py{driver_args}"),
    ];
    sockspec(driver, &args, bound)
}

/// The scenario's one-line result in the report, e.g. `ERROR   accept-with-client`.
fn assert_line(outcome: &Outcome, line: &str) {
    assert!(
        outcome.stdout.lines().any(|l| l.starts_with(line)),
        "no line `{line}` in:\n{}",
        outcome.stdout
    );
}

fn assert_says(outcome: &Outcome, text: &str) {
    assert!(
        outcome.stdout.contains(text) || outcome.stderr.contains(text),
        "`{text}` is not said in:\n{}\n{}",
        outcome.stdout,
        outcome.stderr
    );
}

#[test]
fn a_driver_that_never_answers_hello_is_refused_after_the_hello_limit() {
    let outcome = sockspec(
        "never_answers_hello",
        &[
            "run".to_string(),
            "--spec".to_string(),
            "tests/data/spec".to_string(),
            "--impl=exec:python3 tests/drivers/never_answers_hello.py".to_string(),
            "tests/data/drivers".to_string(),
        ],
        HELLO_LIMIT + SLACK,
    );
    assert_eq!(outcome.code, Some(2), "{}", outcome.stderr);
    assert_says(&outcome, "did not answer `hello` within 3s");
    assert_says(&outcome, "hello: sleeping forever");
}

#[test]
fn a_driver_that_stalls_in_socket_times_out_and_the_run_goes_on() {
    let outcome = run("stalls_on_socket", "");
    assert_line(&outcome, "TIMEOUT accept-with-client");
    assert_line(&outcome, "PASS    recv-at-most-bufsize");
}

#[test]
fn a_driver_whose_second_process_stalls_at_hello_is_an_error_for_each_scenario() {
    let state = tempfile::tempdir().unwrap();
    let marker = state.path().join("first");
    let outcome = run(
        "stalls_second_hello",
        &format!(" {}", marker.to_str().unwrap()),
    );
    for scenario in [
        "accept-with-client",
        "bind-in-use",
        "datagram-boundaries",
        "recv-at-most-bufsize",
    ] {
        assert_line(&outcome, &format!("ERROR   {scenario}"));
    }
    assert_says(&outcome, "did not answer `hello` within 3s");
}

#[test]
fn a_driver_that_floods_stdout_without_a_newline_is_an_error_at_the_line_limit() {
    // 64 MiB takes a while on a loaded machine: a longer limit, so that the line limit, not the
    // step's time limit, is what ends the call.
    let outcome = run_within("floods_stdout", "", Duration::from_secs(10));
    assert_line(&outcome, "ERROR   accept-with-client");
    assert_line(&outcome, "PASS    datagram-boundaries");
    assert_says(
        &outcome,
        "answered `listen` with a line longer than the limit of 64 MiB",
    );
}

#[test]
fn a_driver_that_floods_stderr_is_shown_by_a_bounded_tail() {
    let outcome = run("floods_stderr", "");
    assert_line(&outcome, "ERROR   accept-with-client");
    assert_says(
        &outcome,
        "exited without answering `connect` (exit status: 4)",
    );
    assert_says(&outcome, "exiting on purpose after the flood");
    assert!(
        outcome.stdout.len() < 4 * sockspec::driver::STDERR_TAIL,
        "the report holds {} bytes",
        outcome.stdout.len()
    );
}

#[test]
fn a_driver_whose_setsid_grandchild_holds_the_pipes_is_an_error_and_the_grandchild_is_killed() {
    let outcome = run("setsid_grandchild", "");
    assert_line(&outcome, "ERROR   accept-with-client");
    assert_says(
        &outcome,
        "exited without answering `connect` (exit status: 3)",
    );
    assert_line(&outcome, "PASS    bind-in-use");
}

#[test]
fn a_driver_that_starts_a_daemon_times_out_and_the_daemon_is_killed() {
    let outcome = run("daemon_grandchild", "");
    assert_line(&outcome, "TIMEOUT accept-with-client");
    assert_line(&outcome, "PASS    bind-in-use");
}

#[test]
fn a_driver_that_ignores_sigterm_and_outstays_bye_is_killed() {
    let outcome = run("ignores_sigterm", "");
    assert_line(&outcome, "TIMEOUT accept-with-client");
    assert_line(&outcome, "PASS    bind-in-use");
}

#[test]
fn a_driver_that_replies_twice_is_an_error_naming_the_sequence_number() {
    let outcome = run("replies_twice", "");
    assert_line(&outcome, "ERROR   accept-with-client");
    assert_says(&outcome, "a reply whose seq is not");
    assert_line(&outcome, "PASS    datagram-boundaries");
}

#[test]
fn a_driver_that_replies_with_a_wrong_sequence_number_is_an_error() {
    let outcome = run("wrong_seq", "");
    assert_line(&outcome, "ERROR   bind-in-use");
    assert_says(&outcome, "answered `bind` with a reply whose seq is not");
    assert_line(&outcome, "PASS    recv-at-most-bufsize");
}

#[test]
fn a_driver_that_closes_stdout_and_keeps_running_is_an_error_not_a_timeout() {
    let outcome = run("closes_stdout", "");
    assert_line(&outcome, "ERROR   accept-with-client");
    assert_says(
        &outcome,
        "closed its standard output without answering `listen` (it is still running)",
    );
    assert!(!outcome.stdout.contains("TIMEOUT"), "{}", outcome.stdout);
}

#[test]
fn driver_check_ends_on_a_driver_that_never_answers_hello() {
    let outcome = driver_check("never_answers_hello", "", HELLO_LIMIT + SLACK);
    assert_eq!(outcome.code, Some(1), "{}", outcome.stdout);
    assert_says(&outcome, "did not answer `hello` within 3s");
}

#[test]
fn driver_check_ends_on_a_driver_whose_second_process_stalls_at_hello() {
    let state = tempfile::tempdir().unwrap();
    let marker = state.path().join("first");
    let args = format!(" {}", marker.to_str().unwrap());
    // Two later processes stall, each for the hello limit: the one started again as the first
    // ended up started, and the second start's.
    let outcome = driver_check("stalls_second_hello", &args, 2 * HELLO_LIMIT + SLACK);
    assert_eq!(outcome.code, Some(1), "{}", outcome.stdout);
    assert_says(&outcome, "did not answer `hello` within 3s");
    assert!(
        outcome.stdout.contains(
            "FAIL  a process started again as the first ended up started answers `hello` the same"
        ),
        "{}",
        outcome.stdout
    );
}

#[test]
fn driver_check_ends_on_a_driver_that_floods_stdout() {
    let outcome = driver_check("floods_stdout", "", HELLO_LIMIT + SLACK);
    assert_eq!(outcome.code, Some(1), "{}", outcome.stdout);
    assert_says(&outcome, "longer than the limit of 64 MiB");
}

#[test]
fn driver_check_ends_on_a_driver_whose_grandchild_holds_the_pipes() {
    let outcome = driver_check("setsid_grandchild", "", HELLO_LIMIT + SLACK);
    assert_eq!(outcome.code, Some(1), "{}", outcome.stdout);
    assert_says(&outcome, "exited without answering `connect`");
}

#[test]
fn driver_check_ends_on_a_driver_that_stalls_in_socket() {
    // driver-check runs its scenario with the default 5 s step limit.
    let bound = Duration::from_secs(5) + SLACK;
    let outcome = driver_check("stalls_on_socket", "", bound);
    assert_eq!(outcome.code, Some(1), "{}", outcome.stdout);
}

#[test]
fn a_driver_that_never_answers_bye_makes_passing_scenarios_errors_within_a_second_more() {
    // Every process of a scenario is sent `bye` at once, so the wait is one second per
    // scenario, not one per actor (plus one for the start-up handshake's process).
    let outcome = run("never_answers_bye", "");
    assert_line(&outcome, "ERROR   accept-with-client");
    assert_line(&outcome, "ERROR   bind-in-use");
    assert_says(
        &outcome,
        "every step passed, but at the end of the scenario: driver",
    );
    assert_says(&outcome, "did not answer `bye`");
}

#[test]
fn a_daemon_that_clears_its_environment_is_killed_by_the_subreaper() {
    let args = [
        "run",
        "--spec",
        "tests/data/spec",
        "--impl=exec:python3 tests/drivers/anonymous_daemon.py",
        "tests/data/drivers",
    ]
    .map(String::from);
    let outcome = sockspec("anonymous_daemon", &args, HELLO_LIMIT + SLACK);
    // Every step works; the daemons (one per driver process) are what must not survive.
    assert_eq!(outcome.code, Some(0), "{}", outcome.stdout);
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        assert!(
            cmdline.trim() != "sleep 987654",
            "a daemon was left running: {:?}",
            entry.path()
        );
    }
}
