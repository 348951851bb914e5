//! SIGINT and SIGTERM during a run, with a driver blocked in `accept`: the run stops, prints the
//! summary with the interrupted scenario marked, exits 130 or 143, and leaves no driver process
//! and no temporary directory behind; a second SIGINT exits at once, leaving nothing behind too.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::root;

/// The parent of process `pid`, from /proc/PID/stat.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces.
    let after = &stat[stat.rfind(')')? + 2..];
    after.split(' ').nth(1)?.parse().ok()
}

/// Every live process descended from `ancestor`.
fn descendants(ancestor: u32) -> Vec<u32> {
    let pids: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    pids.into_iter()
        .filter(|&pid| {
            let mut at = pid;
            for _ in 0..64 {
                match parent_of(at) {
                    Some(p) if p == ancestor => return true,
                    Some(p) if p > 1 => at = p,
                    _ => return false,
                }
            }
            false
        })
        .collect()
}

/// True while process `pid` exists and is not a zombie.
fn is_running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            let state = stat[stat.rfind(')').unwrap_or(0) + 2..].chars().next();
            state != Some('Z')
        })
        .unwrap_or(false)
}

fn stops_on(signals: &[nix::sys::signal::Signal], code: i32) {
    let signal = signals[0];
    let scratch = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args([
            "run",
            "--spec",
            "tests/data/spec",
            "--impl",
            "python",
            "--jobs",
            "1",
        ])
        .args([
            "tests/data/hostile/accept-blocks.yaml",
            "tests/data/hostile/passes.yaml",
        ])
        .env("TMPDIR", scratch.path())
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sockspec = child.id();

    // Wait until a driver is blocked in accept(2).
    let deadline = Instant::now() + Duration::from_secs(30);
    let blocked = loop {
        let in_accept: Vec<u32> = descendants(sockspec)
            .into_iter()
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/wchan"))
                    .is_ok_and(|w| w.contains("accept"))
            })
            .collect();
        if !in_accept.is_empty() {
            break in_accept;
        }
        assert!(
            Instant::now() < deadline,
            "no driver ever blocked in accept"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let drivers = descendants(sockspec);
    for signal in signals {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(sockspec as i32), *signal).unwrap();
    }

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "sockspec did not stop within 5 s of {signal}"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();

    assert_eq!(status.code(), Some(code), "{stdout}\n{stderr}");
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
    for pid in blocked.iter().chain(&drivers) {
        assert!(!is_running(*pid), "driver process {pid} was left running");
    }
    let left: Vec<_> = std::fs::read_dir(scratch.path())
        .unwrap()
        .flatten()
        .collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(["run", "--spec", "tests/data/spec"])
        .arg("--impl=exec:python3 tests/drivers/never_answers_hello.py")
        .arg("tests/data/hostile/passes.yaml")
        .env("TMPDIR", scratch.path())
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sockspec = child.id();
    // Wait until the driver has said it will never answer (it logs that on stderr, which the
    // runner reads; its process is there once its Python has started).
    let deadline = Instant::now() + Duration::from_secs(30);
    let driver = loop {
        let started: Vec<u32> = descendants(sockspec)
            .into_iter()
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains("never_answers_hello"))
            })
            .collect();
        if !started.is_empty() {
            break started;
        }
        assert!(Instant::now() < deadline, "the driver never started");
        std::thread::sleep(Duration::from_millis(10));
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(sockspec as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        // The hello limit is 10 s; stopping must not wait for it.
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "sockspec waited for the handshake after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(130));
    for pid in driver {
        assert!(!is_running(pid), "driver process {pid} was left running");
    }
    let left: Vec<_> = std::fs::read_dir(scratch.path())
        .unwrap()
        .flatten()
        .collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}
