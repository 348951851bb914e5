//! SIGINT and SIGTERM during a run, with a driver blocked in `accept`: the run stops, prints the
//! summary with the interrupted scenario marked, exits 130 or 143, and leaves no driver process
//! and no temporary directory behind; a second SIGINT exits at once, leaving nothing behind too.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{descendants, root};

/// True while process `pid` exists and is not a zombie.
fn is_running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            let state = stat[stat.rfind(')').unwrap_or(0) + 2..].chars().next();
            state != Some('Z')
        })
        .unwrap_or(false)
}

/// `sockspec run ARGS` from the repository root, with TMPDIR in `scratch`, its output piped.
fn start_run(args: &[&str], scratch: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(["run", "--spec", "tests/data/spec"])
        .args(args)
        .env("TMPDIR", scratch)
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (at most 30 s) until some descendants of `ancestor` satisfy `found`; returns them.
fn wait_for_descendants(ancestor: u32, what: &str, found: impl Fn(u32) -> bool) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let matching: Vec<u32> = descendants(ancestor)
            .into_iter()
            .filter(|pid| found(*pid))
            .collect();
        if !matching.is_empty() {
            return matching;
        }
        assert!(Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `signals` to `child`, waits (at most `limit`) for it to exit; its exit code, stdout and
/// stderr.
fn stop(
    mut child: Child,
    signals: &[nix::sys::signal::Signal],
    limit: Duration,
) -> (Option<i32>, String, String) {
    for signal in signals {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), *signal).unwrap();
    }
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < limit,
            "sockspec did not stop within {limit:?} of {signals:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code(), stdout, stderr)
}

/// None of `pids` runs, and `scratch` is empty.
fn assert_nothing_left(pids: &[u32], scratch: &Path) {
    for pid in pids {
        assert!(!is_running(*pid), "driver process {pid} was left running");
    }
    let left: Vec<_> = std::fs::read_dir(scratch).unwrap().flatten().collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}

fn stops_on(signals: &[nix::sys::signal::Signal], code: i32) {
    let signal = signals[0];
    let scratch = tempfile::tempdir().unwrap();
    let child = start_run(
        &[
            "--impl",
            "python",
            "--jobs",
            "1",
            "tests/data/hostile/accept-blocks.yaml",
            "tests/data/hostile/passes.yaml",
        ],
        scratch.path(),
    );
    let blocked = wait_for_descendants(child.id(), "a driver blocking in accept", |pid| {
        std::fs::read_to_string(format!("/proc/{pid}/wchan")).is_ok_and(|w| w.contains("accept"))
    });
    let drivers = descendants(child.id());
    let (status, stdout, stderr) = stop(child, signals, Duration::from_secs(5));

    assert_eq!(status, Some(code), "{stdout}\n{stderr}");
    assert!(stderr.contains(&format!("{signal}: stopping")), "{stderr}");
    if signals.len() == 1 {
        // Stopped in order: the summary is printed.
        assert!(stdout.contains("INTR    accept-blocks"), "{stdout}");
        assert!(
            stdout.contains("1 scenarios against python: 0 passed, 0 failed, 0 unsupported, 0 errors, 0 timeouts, 1 interrupted"),
            "{stdout}"
        );
    }
    assert!(
        !stdout.contains("passes ("),
        "a scenario started after the signal: {stdout}"
    );
    assert_nothing_left(&[blocked, drivers].concat(), scratch.path());
}

#[test]
fn sigint_stops_the_run_reports_and_leaves_nothing_behind() {
    stops_on(&[nix::sys::signal::Signal::SIGINT], 130);
}

#[test]
fn a_second_sigint_exits_at_once_and_still_leaves_nothing_behind() {
    use nix::sys::signal::Signal::SIGINT;
    stops_on(&[SIGINT, SIGINT], 130);
}

#[test]
fn sigterm_stops_the_run_reports_and_leaves_nothing_behind() {
    stops_on(&[nix::sys::signal::Signal::SIGTERM], 143);
}

#[test]
fn sigint_while_a_driver_is_in_its_handshake_stops_at_once() {
    let scratch = tempfile::tempdir().unwrap();
    let child = start_run(
        &[
            "--impl=exec:python3 tests/drivers/never_answers_hello.py",
            "tests/data/hostile/passes.yaml",
        ],
        scratch.path(),
    );
    // Its process is there once its Python has started.
    let driver = wait_for_descendants(child.id(), "the driver's start", |pid| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains("never_answers_hello"))
    });
    // The hello limit is 10 s; stopping must not wait for it.
    let (status, _, _) = stop(
        child,
        &[nix::sys::signal::Signal::SIGINT],
        Duration::from_secs(3),
    );
    assert_eq!(status, Some(130));
    assert_nothing_left(&driver, scratch.path());
}
