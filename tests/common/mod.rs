//! Helpers the integration tests share (each test file includes this module).

#![allow(dead_code)] // not every test file uses every helper

use sockspec::driver::Driver;
use sockspec::scenario::Scenario;
use std::path::PathBuf;

/// Runs `sockspec ARGS` from the repository root.
pub fn sockspec(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the sockspec binary runs")
}

/// Output bytes as text, for messages and searches.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The repository root, where fixtures, drivers and the spec are.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// How many cases a proptest-driven test runs: `PROPTEST_CASES`, else `default`.
pub fn proptest_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default)
}

/// A driver started as `exec:COMMAND` from the repository root (commands name files relative
/// to it).
pub fn exec_driver(command: &str) -> Driver {
    std::env::set_current_dir(root()).unwrap();
    Driver::start(&format!("exec:{command}"), command).expect("the driver starts")
}

/// No process runs `tests/drivers/DRIVER.py` any more, and (given the pid of the sockspec that
/// ran it) none carries a driver token of that sockspec: nothing a driver started was left.
pub fn assert_no_driver_left(driver: &str, sockspec: Option<u32>) {
    let path = format!("tests/drivers/{driver}.py");
    let token = sockspec.map(|pid| format!("{}={pid}-", sockspec::driver::TOKEN_VARIABLE));
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let read = |file: &str| std::fs::read(entry.path().join(file)).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&read("cmdline")).replace('\0', " ");
        // Another test's sockspec names the driver in its arguments; it is not a driver. Nor
        // is a process of another checkout (another worktree's tests, running at the same
        // time): drivers run from this repository's root.
        let first = cmdline.split(' ').next().unwrap_or("");
        let cwd = std::fs::read_link(entry.path().join("cwd")).ok();
        if first.ends_with("/sockspec") || cwd.is_some_and(|cwd| cwd != root()) {
            continue;
        }
        assert!(
            !cmdline.contains(&path),
            "a driver process was left running: {cmdline}"
        );
        if let Some(token) = &token {
            let environ = read("environ");
            assert!(
                !environ
                    .split(|b| *b == 0)
                    .any(|e| e.starts_with(token.as_bytes())),
                "a process started by a driver was left running: {cmdline} ({:?})",
                entry.path()
            );
        }
    }
}

/// Everything a scenario model says, without where it was read from: two models with the same
/// content are the same scenario (the round-trip tests compare them so).
pub fn content(scenario: &Scenario) -> String {
    let steps: Vec<String> = scenario
        .actors
        .iter()
        .flat_map(|actor| {
            actor.steps.iter().map(move |step| {
                format!(
                    "{} {:?} {:?} {:?} {:?} {:?} {:?}",
                    actor.name,
                    step.op,
                    step.expect,
                    step.timeout,
                    step.announce,
                    step.blocks_until,
                    step.min_elapsed
                )
            })
        })
        .collect();
    format!(
        "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}\n{}",
        scenario.title,
        scenario.description,
        scenario.requirements,
        scenario.tags,
        scenario.requires,
        scenario.fixed_port_why,
        scenario.unprivileged,
        scenario.environment,
        scenario.timeout,
        scenario.step_timeout,
        scenario.actors.iter().map(|a| &a.name).collect::<Vec<_>>(),
        steps.join("\n")
    )
}

/// The parent of process `pid`, from /proc/PID/stat.
pub fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces.
    let after = &stat[stat.rfind(')')? + 2..];
    after.split(' ').nth(1)?.parse().ok()
}

/// Every live process descended from `ancestor`.
pub fn descendants(ancestor: u32) -> Vec<u32> {
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

/// The command of `tests/drivers/counted.py` logging to `log`, treating `reset` as `mode` says.
pub fn counted(log: &std::path::Path, mode: &str) -> String {
    format!("python3 tests/drivers/counted.py {} {mode}", log.display())
}

/// The pids `counted.py` logged, one per process it started (also the lines of any file a
/// test's program writes a pid per line to, such as `tests/drivers/launcher.sh`).
pub fn pids(log: &std::path::Path) -> Vec<u32> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|line| line.parse().expect("a pid per line"))
        .collect()
}

/// None of `pids` is still a `counted.py` process.
pub fn assert_all_gone(pids: &[u32]) {
    for pid in pids {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&cmdline).contains("counted.py"),
            "driver process {pid} was left running"
        );
    }
}
