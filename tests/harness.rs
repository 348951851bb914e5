//! `sockspec::harness`, the suite as libtest-mimic trials of any crate: trial names, what each
//! status becomes, expectations and their errors, on small suites of its own; then the
//! repository's example crate (`examples/harness-example`), built and run as its own workspace.

mod common;

use sockspec::expectations::{Expectation, Expectations, Expected};
use sockspec::harness::{Arguments, Conclusion, Harness, HarnessError};
use sockspec::implementation::{Capabilities, Implementation, Session, SessionError};
use sockspec::reference::Reference;
use sockspec::suite::Suite;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The reference implementation, declaring it can express nothing (so every scenario that needs
/// anything is unsupported before it runs).
struct Nothing;

impl Implementation for Nothing {
    fn name(&self) -> &str {
        "nothing"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    fn open_session(&self) -> Result<Box<dyn Session>, SessionError> {
        Reference.open_session()
    }
}

const PASSES: &str = "title: A socketpair carries bytes
requirements: [example.pair]
actors:
  a:
    - socketpair: {type: stream, as: [x, y]}
    - sendall: {socket: x, data: ping}
    - recv: {socket: y, bufsize: 16}
      expect: {data: ping}
";

/// Fails on a correct implementation: it expects other bytes than were sent.
const FAILS: &str = "title: A socketpair changes bytes (wrong on purpose)
requirements: [example.pair]
actors:
  a:
    - socketpair: {type: stream, as: [x, y]}
    - sendall: {socket: x, data: ping}
    - recv: {socket: y, bufsize: 16}
      expect: {data: pong}
";

/// A suite in a temporary directory: one requirement, and `fixtures` (path, text).
fn suite(fixtures: &[(&str, &str)]) -> (tempfile::TempDir, Suite) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("spec")).unwrap();
    std::fs::write(
        dir.path().join("spec/example.md"),
        "### `example.pair` — a socketpair carries bytes\n",
    )
    .unwrap();
    for (path, text) in fixtures {
        let path = dir.path().join("fixtures").join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let suite = Suite::dir(dir.path()).unwrap();
    (dir, suite)
}

/// Runs the harness's trials with libtest's command line `args`: libtest's conclusion, and what
/// it printed (into a log file, so that the trials' failures do not read as this test's).
fn run(harness: Harness, args: &[&str]) -> (Conclusion, String) {
    let log = tempfile::NamedTempFile::new().unwrap();
    let log_path = log.path().to_str().unwrap().to_string();
    let args = ["harness", "--logfile", &log_path]
        .into_iter()
        .chain(args.iter().copied());
    let done = harness
        .run_with(&Arguments::from_iter(args))
        .expect("the trials are made");
    (done, std::fs::read_to_string(log.path()).unwrap())
}

fn names(harness: &Harness) -> Vec<String> {
    let trials = harness.trials().expect("the trials are made");
    trials.iter().map(|t| t.name().to_string()).collect()
}

/// Why the harness could not make its trials (the test fails if it could).
fn error(harness: Harness) -> HarnessError {
    match harness.trials() {
        Ok(_) => panic!("the trials were made"),
        Err(e) => e,
    }
}

fn expectations(implementation: &str, entries: &[(&str, Expected)]) -> Expectations {
    Expectations {
        implementation: implementation.to_string(),
        expectations: entries
            .iter()
            .map(|(id, status)| {
                let entry = Expectation {
                    status: *status,
                    reason: "known".to_string(),
                    link: None,
                };
                (id.to_string(), entry)
            })
            .collect(),
    }
}

#[test]
fn a_trial_per_scenario_file_named_by_its_id_in_id_order() {
    let (_dir, suite) = suite(&[("pair/bytes-arrive.yaml", PASSES), ("a-first.yaml", FAILS)]);
    let harness = Harness::new(Reference).suite(suite);
    assert_eq!(names(&harness), ["a_first", "pair::bytes_arrive"]);
    let harness = harness.prefix("mine");
    assert_eq!(
        names(&harness),
        ["mine::a_first", "mine::pair::bytes_arrive"]
    );
}

#[test]
fn the_built_in_suite_is_the_default_with_a_trial_per_embedded_fixture() {
    let fixtures: Vec<String> = sockspec::suite::embedded()
        .into_iter()
        .filter(|(path, _)| path.starts_with("fixtures") && is_yaml(path))
        .map(|(path, _)| trial_name(&path))
        .collect();
    assert!(fixtures.len() > 100, "{} fixtures", fixtures.len());
    let made = names(&Harness::new(Reference));
    assert_eq!(
        made.iter().collect::<BTreeSet<_>>(),
        fixtures.iter().collect::<BTreeSet<_>>()
    );
    assert_eq!(made.len(), fixtures.len());
}

#[test]
fn select_makes_trials_of_the_chosen_scenarios_only() {
    let harness = Harness::new(Reference).select(|s| s.id.starts_with("tutorial/"));
    let made = names(&harness);
    assert!(made.contains(&"tutorial::echo".to_string()), "{made:?}");
    assert!(made.iter().all(|n| n.starts_with("tutorial::")), "{made:?}");
}

#[test]
fn a_passing_scenario_passes_and_a_failing_one_fails_with_the_report() {
    let (dir, suite) = suite(&[("passes.yaml", PASSES), ("fails.yaml", FAILS)]);
    let (done, log) = run(Harness::new(Reference).suite(suite), &[]);
    assert_eq!((done.num_passed, done.num_failed), (1, 1), "{log}");
    let at = dir.path().join("fixtures/fails.yaml:7");
    let report = format!(
        "[fail] actor a, step 3 (recv, {}): expected success with data \"pong\"",
        at.display()
    );
    assert!(log.contains(&report), "{log}");
}

#[test]
fn a_known_deviation_passes_and_a_stale_entry_fails() {
    let (_dir, suite) = suite(&[("passes.yaml", PASSES), ("fails.yaml", FAILS)]);
    let known = expectations(
        "reference",
        &[("fails", Expected::Fail), ("passes", Expected::Fail)],
    );
    let harness = Harness::new(Reference).suite(suite).expectations(known);
    let (deviation, log) = run(harness.clone(), &["--exact", "fails"]);
    assert_eq!(
        (deviation.num_passed, deviation.num_failed),
        (1, 0),
        "{log}"
    );
    let (stale, log) = run(harness, &["--exact", "passes"]);
    assert_eq!((stale.num_passed, stale.num_failed), (0, 1), "{log}");
    assert!(
        log.contains("[unexpected-pass] it passed, but the expectations file lists it"),
        "{log}"
    );
}

#[test]
fn an_entry_of_another_status_does_not_excuse_a_failure() {
    let (_dir, suite) = suite(&[("fails.yaml", FAILS)]);
    let known = expectations("reference", &[("fails", Expected::Timeout)]);
    let harness = Harness::new(Reference).suite(suite).expectations(known);
    let (done, log) = run(harness, &[]);
    assert_eq!(done.num_failed, 1, "{log}");
    assert!(
        log.contains("the expectations file lists it with another status: known"),
        "{log}"
    );
}

#[test]
fn an_unsupported_scenario_is_ignored_and_run_anyway_says_why() {
    let (_dir, suite) = suite(&[("passes.yaml", PASSES)]);
    let harness = Harness::new(Nothing).suite(suite);
    let trials = harness.trials().unwrap();
    assert!(trials[0].has_ignored_flag());
    let (done, log) = run(harness.clone(), &[]);
    assert_eq!((done.num_ignored, done.num_passed), (1, 0), "{log}");
    // Run all the same, the runner finds it unsupported: ignored, saying why, not passed.
    let (forced, log) = run(harness, &["--include-ignored"]);
    assert_eq!((forced.num_ignored, forced.num_passed), (1, 0), "{log}");
    assert!(
        log.contains("unsupported: nothing does not support family unix"),
        "{log}"
    );
}

#[test]
fn a_skip_entry_is_an_ignored_trial_that_never_runs() {
    let (_dir, suite) = suite(&[("fails.yaml", FAILS)]);
    let skip = expectations("reference", &[("fails", Expected::Skip)]);
    let harness = Harness::new(Reference).suite(suite).expectations(skip);
    assert!(harness.trials().unwrap()[0].has_ignored_flag());
    // Were it run, it would fail: forced, it stays ignored.
    let (forced, log) = run(harness, &["--include-ignored"]);
    assert_eq!((forced.num_ignored, forced.num_failed), (1, 0), "{log}");
    assert!(log.contains("skipped by the expectations: known"), "{log}");
}

#[test]
fn a_test_the_filters_leave_out_is_not_loaded() {
    // Loaded, a scenario is ignored on `Nothing` (it needs a socketpair); a placeholder for a
    // file never read is not. So `--exact passes` read passes.yaml only.
    let (_dir, suite) = suite(&[("other.yaml", PASSES), ("passes.yaml", PASSES)]);
    let harness = Harness::new(Nothing).suite(suite);
    let arguments = Arguments::from_iter(["harness", "--exact", "passes"]);
    let trials = harness.trials_matching(&arguments).unwrap();
    let flags: Vec<(&str, bool)> = trials
        .iter()
        .map(|t| (t.name(), t.has_ignored_flag()))
        .collect();
    assert_eq!(flags, [("other", false), ("passes", true)]);
    assert!(arguments.is_filtered_out(&trials[0]));
    // Without filters every file is read; `--ignored` (what `cargo nextest run` lists ignored
    // tests with) reads them too, to tell which are.
    for args in [&["harness"][..], &["harness", "--list", "--ignored"]] {
        let all = harness
            .trials_matching(&Arguments::from_iter(args))
            .unwrap();
        assert!(all.iter().all(|t| t.has_ignored_flag()), "{args:?}");
    }
}

#[test]
fn a_broken_file_the_filters_leave_out_does_not_fail_the_test_that_runs() {
    let bad = PASSES.replace("sendall:", "sendal:");
    let (_dir, suite) = suite(&[("broken.yaml", &bad), ("passes.yaml", PASSES)]);
    let harness = Harness::new(Reference).suite(suite);
    let (done, log) = run(harness.clone(), &["--exact", "passes"]);
    let counts = (done.num_passed, done.num_failed, done.num_filtered_out);
    assert_eq!(counts, (1, 0, 1), "{log}");
    // A substring filter that takes the broken file in still reports it.
    let (done, log) = run(harness, &["broken"]);
    assert_eq!((done.num_failed, done.num_filtered_out), (1, 1), "{log}");
    assert!(log.contains("unknown step `sendal`"), "{log}");
}

#[test]
fn a_scenario_file_that_does_not_load_is_a_failing_trial_with_the_place() {
    let bad = PASSES.replace("sendall:", "sendal:");
    let (dir, suite) = suite(&[("passes.yaml", PASSES), ("broken.yaml", &bad)]);
    let harness = Harness::new(Reference).suite(suite);
    assert_eq!(names(&harness), ["broken", "passes"]);
    let (done, log) = run(harness, &[]);
    assert_eq!((done.num_passed, done.num_failed), (1, 1), "{log}");
    let at = dir.path().join("fixtures/broken.yaml:6:7");
    let message = format!("{}: actor a, step 2: unknown step `sendal`", at.display());
    assert!(log.contains(&message), "{log}");
}

#[test]
fn a_missing_expectations_file_is_an_error_that_names_it() {
    let (dir, suite) = suite(&[("passes.yaml", PASSES)]);
    let missing = dir.path().join("expectations/nope.yaml");
    let harness = Harness::new(Reference)
        .suite(suite)
        .expectations_file(&missing);
    let error = error(harness);
    assert!(matches!(error, HarnessError::NoExpectationsFile { .. }));
    let message = error.to_string();
    assert!(
        message.starts_with(&missing.display().to_string()),
        "{message}"
    );
}

#[test]
fn an_invalid_expectations_file_is_an_error_at_its_line() {
    let (dir, suite) = suite(&[("passes.yaml", PASSES)]);
    let file = dir.path().join("reference.yaml");
    std::fs::write(
        &file,
        "implementation: reference\nexpectations:\n  passes: {status: broken, reason: x}\n",
    )
    .unwrap();
    let error = error(
        Harness::new(Reference)
            .suite(suite)
            .expectations_file(&file),
    );
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("{}:3:", file.display())),
        "{message}"
    );
}

#[test]
fn an_expectations_file_of_another_implementation_is_an_error() {
    let (dir, suite) = suite(&[("passes.yaml", PASSES)]);
    let file = dir.path().join("other.yaml");
    std::fs::write(&file, "implementation: other\nexpectations: {}\n").unwrap();
    let error = error(
        Harness::new(Reference)
            .suite(suite)
            .expectations_file(&file),
    );
    let message = error.to_string();
    assert!(
        message.contains("describes implementation `other`, not `reference`"),
        "{message}"
    );
}

#[test]
fn an_entry_for_a_scenario_the_suite_lacks_is_an_error_that_names_it() {
    let (dir, suite) = suite(&[("passes.yaml", PASSES)]);
    let file = dir.path().join("reference.yaml");
    let text =
        "implementation: reference\nexpectations:\n  renamed/away: {status: fail, reason: x}\n";
    std::fs::write(&file, text).unwrap();
    let error = error(
        Harness::new(Reference)
            .suite(suite)
            .expectations_file(&file),
    );
    assert!(matches!(error, HarnessError::UnknownScenarios { .. }));
    let message = error.to_string();
    assert!(message.contains("renamed/away"), "{message}");
    assert!(
        message.starts_with(&file.display().to_string()),
        "{message}"
    );
}

/// `fixtures/tcp/echo-x.yaml` → `tcp::echo_x`.
fn trial_name(path: &Path) -> String {
    let id = path.strip_prefix("fixtures").unwrap().with_extension("");
    let id = id.to_str().unwrap();
    id.replace('/', "::").replace('-', "_")
}

fn is_yaml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yaml" || e == "yml")
}

// ---------------------------------------------------------------------------------------------
// The example crate.

/// The example crate's build directory: beside this test binary's profile directory
/// (`target/harness-example`), so that its dependencies are built once and later runs are
/// incremental. (Not the same directory as sockspec's: cargo holds that one while it runs the
/// tests, and two workspaces building sockspec there would rebuild it in turn.)
fn example_target() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/harness-HASH → target
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the test binary is in target/PROFILE/deps");
    target.join("harness-example")
}

/// `cargo ARGS` for the example crate, with its output; killed (with what it started) if it has
/// not ended within `limit`.
fn cargo(example: &Path, args: &[&str], limit: Duration) -> (bool, String, String) {
    use std::os::unix::process::CommandExt as _;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let child = Command::new(cargo)
        .arg(args[0])
        .arg("--manifest-path")
        .arg(example.join("Cargo.toml"))
        .args(&args[1..])
        .env("CARGO_TARGET_DIR", example_target())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that a timeout kills rustc and the tests too.
        .process_group(0)
        .spawn()
        .expect("cargo starts");
    let group = nix::unistd::Pid::from_raw(child.id() as i32);
    let (done, finished) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let output = child.wait_with_output();
        let _ = done.send(());
        output
    });
    if finished.recv_timeout(limit).is_err() {
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
    }
    let output = waiter.join().unwrap().expect("cargo's output");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.success(), stdout, stderr)
}

#[test]
fn the_example_crate_runs_every_scenario_as_its_own_trial_and_passes() {
    let example = common::root().join("examples/harness-example");
    if !example.join("Cargo.toml").exists() {
        // `cargo package` leaves nested packages out of the package it builds.
        eprintln!("skipped: {} is not here", example.display());
        return;
    }
    assert_same_versions(&example);
    let fixtures: BTreeSet<String> = sockspec::suite::embedded()
        .into_iter()
        .filter(|(path, _)| path.starts_with("fixtures") && is_yaml(path))
        .map(|(path, _)| trial_name(&path))
        .collect();
    // The first build compiles sockspec's dependencies once; later ones are incremental.
    let limit = Duration::from_secs(20 * 60);
    let (ok, stdout, stderr) = cargo(
        &example,
        &["test", "--locked", "--offline", "--test", "sockspec"],
        limit,
    );
    assert!(ok, "the example's tests failed:\n{stdout}\n{stderr}");
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("test result:"))
        .unwrap_or_else(|| panic!("no summary in:\n{stdout}"));
    let count = |what: &str| -> usize {
        let before = summary.split(&format!(" {what}")).next().unwrap();
        before.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(count("failed"), 0, "{summary}");
    assert_eq!(count("filtered out"), 0, "{summary}");
    assert_eq!(
        count("passed") + count("ignored"),
        fixtures.len(),
        "one trial per built-in fixture: {summary}"
    );
    // And the trials are the scenarios, by name.
    let (ok, listed, stderr) = cargo(
        &example,
        &[
            "test",
            "--locked",
            "--offline",
            "--test",
            "sockspec",
            "--",
            "--list",
        ],
        limit,
    );
    assert!(ok, "{stderr}");
    let listed: BTreeSet<String> = listed
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect();
    assert_eq!(listed, fixtures);
}

/// The example's `Cargo.lock` pins the versions of sockspec's: the example builds what sockspec
/// is tested with, from what sockspec's build already downloaded (so `--locked --offline`).
fn assert_same_versions(example: &Path) {
    let ours = packages(&common::root().join("Cargo.lock"));
    let theirs = packages(&example.join("Cargo.lock"));
    let differ: Vec<_> = theirs
        .difference(&ours)
        .filter(|(name, _)| name != "harness-example")
        .collect();
    assert!(
        differ.is_empty(),
        "examples/harness-example/Cargo.lock has versions sockspec's Cargo.lock does not: \
         {differ:?}; make it again from sockspec's: `cp Cargo.lock examples/harness-example/ && \
         cargo metadata --format-version 1 --manifest-path examples/harness-example/Cargo.toml \
         >/dev/null`"
    );
}

/// The (name, version) of every package a `Cargo.lock` lists.
fn packages(lock: &Path) -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(lock).unwrap();
    let value = |line: &str, key: &str| {
        line.strip_prefix(key)
            .and_then(|v| v.strip_prefix(" = \""))
            .and_then(|v| v.strip_suffix('"'))
            .map(str::to_string)
    };
    let mut found = BTreeSet::new();
    for block in text.split("[[package]]").skip(1) {
        let mut lines = block.lines();
        let name = lines.clone().find_map(|l| value(l, "name"));
        let version = lines.find_map(|l| value(l, "version"));
        found.insert((name.unwrap(), version.unwrap()));
    }
    found
}
