//! The `sockspec` binary as a user meets it: exit codes, messages with positions, report formats.

use std::path::Path;
use std::process::{Command, Output};

/// The spec that the scenarios under tests/data cite.
const TEST_SPEC: &str = "tests/data/spec";

mod common;
use common::{root, sockspec, text};

fn data(name: &str) -> String {
    Path::new("tests/data").join(name).display().to_string()
}

#[test]
fn check_reports_a_misspelt_step_with_line_column_and_suggestion() {
    let out = sockspec(&[
        "check",
        &data("bad/misspelt-step.yaml"),
        "--spec",
        TEST_SPEC,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "tests/data/bad/misspelt-step.yaml:6:7: actor server, step 2: unknown step `lisen`"
        ),
        "{err}"
    );
    assert!(err.contains("did you mean `listen`?"), "{err}");
}

#[test]
fn check_reports_an_unknown_field_with_its_position() {
    let out = sockspec(&[
        "check",
        &data("bad/unknown-field.yaml"),
        "--spec",
        TEST_SPEC,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("unknown-field.yaml:8:9:"), "{err}");
    assert!(
        err.contains("`listen` has no argument `backlgo`: it takes socket, backlog (did you mean `backlog`?)"),
        "{err}"
    );
}

#[test]
fn check_reports_every_dangling_name_at_its_step() {
    let out = sockspec(&[
        "check",
        &data("bad/dangling-names.yaml"),
        "--spec",
        TEST_SPEC,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    for expected in [
        "dangling-names.yaml:2:26: `no.such.requirement` is not a requirement that spec/ defines",
        "dangling-names.yaml:6:7: actor client, step 2: `$never_captured` is used but never captured",
        "dangling-names.yaml:7:7: actor client, step 3: signal `never-raised` is never raised",
        "dangling-names.yaml:8:7: actor client, step 4: socket `other` is not created before this step in actor `client`",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
}

#[test]
fn check_accepts_the_bundled_fixtures() {
    let out = sockspec(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn check_of_a_missing_path_is_an_input_error() {
    let out = sockspec(&["check", "no/such/dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no/such/dir: no such file or directory"));
}

#[test]
fn run_of_a_failing_scenario_exits_1_and_names_actor_step_and_data_difference() {
    let out = sockspec(&["run", &data("failing/wrong-data.yaml"), "--spec", TEST_SPEC]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(report.contains("FAIL    wrong-data"), "{report}");
    assert!(
        report.contains("actor writer, step 3 (recv_exact, tests/data/failing/wrong-data.yaml:7): expected success with data \"hello there\""),
        "{report}"
    );
    assert!(report.contains("data differs at byte 6"), "{report}");
    assert!(report.contains("0 passed, 1 failed"), "{report}");
}

#[test]
fn run_reports_a_call_that_never_returns_as_a_timeout_within_its_limit() {
    let started = std::time::Instant::now();
    let out = sockspec(&[
        "run",
        &data("failing/accept-without-client.yaml"),
        "--spec",
        TEST_SPEC,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(
        report.contains("actor server, step 4 (accept, tests/data/failing/accept-without-client.yaml:9): did not return within 200ms"),
        "{report}"
    );
    // The bystander's 10 s recv was woken too: the run ends soon after the 200 ms limit.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn run_json_is_one_document_with_summary_and_results() {
    let out = sockspec(&[
        "run",
        "--format",
        "json",
        &data("failing/wrong-data.yaml"),
        "--spec",
        TEST_SPEC,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["implementation"], "reference");
    assert!(
        doc["date"].as_str().is_some_and(|d| d.ends_with('Z')),
        "{doc}"
    );
    assert_eq!(doc["machine"]["os"], std::env::consts::OS);
    assert_eq!(doc["summary"]["failed"], 1);
    assert_eq!(doc["summary"]["passed"], 0);
    let result = &doc["results"][0];
    assert_eq!(result["scenario"], "wrong-data");
    assert_eq!(result["status"], "fail");
    assert_eq!(result["failure"]["actor"], "writer");
    assert_eq!(result["failure"]["step"], 3);
    assert!(result["duration_ms"].is_number());
}

#[test]
fn run_with_an_unknown_implementation_is_a_usage_error() {
    let out = sockspec(&["run", "--impl", "nonesuch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown implementation `nonesuch`; known: reference"));
}

#[test]
fn run_with_a_bad_flag_is_a_usage_error() {
    let out = sockspec(&["run", "--jobz", "2"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn run_filter_selects_scenarios_by_id_substring() {
    let out = sockspec(&["run", "--filter", "tutorial/echo"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("1 scenarios against reference: 1 passed"));
}

#[test]
fn list_prints_id_title_and_requirements() {
    let out = sockspec(&["list", "fixtures/tutorial/echo.yaml"]);
    assert_eq!(out.status.code(), Some(0));
    let line = text(&out.stdout);
    assert!(line.starts_with("tutorial/echo\t"), "{line}");
    assert!(line.contains("tutorial."), "{line}");
}

#[test]
fn coverage_of_the_bundled_fixtures_is_complete() {
    let out = sockspec(&["coverage"]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(report.contains("(100.0 %)"), "{report}");
}

#[test]
fn coverage_of_a_subset_lists_the_uncovered_and_exits_1() {
    let out = sockspec(&["coverage", "fixtures/tutorial/echo.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("uncovered: "));
}

#[test]
fn check_refuses_destinations_off_this_machine() {
    let out = sockspec(&[
        "check",
        &data("bad/off-machine-destination.yaml"),
        "--spec",
        TEST_SPEC,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("off-machine-destination.yaml:6:7: actor a, step 2: `192.0.2.1:53` is not on this machine"),
        "{err}"
    );
    assert!(
        err.contains("off-machine-destination.yaml:7:7: actor a, step 3: `example.com:80` is not on this machine"),
        "{err}"
    );
    assert!(!err.contains(":8:7:"), "127.0.0.2 is loopback: {err}");
}

#[test]
fn run_puts_each_named_actor_on_its_own_implementation() {
    // The server on the reference implementation, the client on CPython: they interoperate.
    let out = sockspec(&[
        "run",
        "--impl",
        "server=reference",
        "--impl",
        "client=python",
        "fixtures/tutorial/echo.yaml",
    ]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(
        report
            .contains("1 scenarios against reference (client=python, server=reference): 1 passed"),
        "{report}"
    );
    // The summary says what ran where.
    assert!(
        report.contains("actors ran on: python in 1 scenario, reference in 1 scenario"),
        "{report}"
    );
}

#[test]
fn a_run_on_one_implementation_says_nothing_of_placement() {
    let out = sockspec(&["run", "fixtures/tutorial/echo.yaml"]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(!report.contains("actors ran on"), "{report}");
}

#[test]
fn matrix_saves_each_run_then_writes_the_report_and_the_markdown_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let out = sockspec(&[
        "matrix",
        "fixtures/tutorial",
        "--impl",
        "reference",
        "--impl",
        "std",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let markdown = std::fs::read_to_string(dir.path().join("matrix.md")).unwrap();
    assert!(
        markdown.contains("| reference |") && markdown.contains("| std |"),
        "{markdown}"
    );
    assert!(markdown.contains("`tutorial/echo`"), "{markdown}");
    for run in ["runs/reference.json", "runs/std.json"] {
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join(run)).unwrap()).unwrap();
        assert_eq!(doc["format_version"], 1, "{run}");
    }
    let page = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{}", &page[..40]);
    assert!(page.contains("<code>tutorial</code>"), "{page}");
    assert!(dir.path().join("scenario/tutorial/echo.html").is_file());
}

#[test]
fn run_formats_junit_and_tap() {
    let junit = sockspec(&["run", "--format", "junit", "fixtures/tutorial/echo.yaml"]);
    assert_eq!(junit.status.code(), Some(0));
    let xml = text(&junit.stdout);
    assert!(
        xml.contains("<testsuite") && xml.contains("tutorial/echo"),
        "{xml}"
    );
    let tap = sockspec(&[
        "run",
        "--format",
        "tap",
        "--spec",
        TEST_SPEC,
        &data("failing/wrong-data.yaml"),
    ]);
    assert_eq!(tap.status.code(), Some(1));
    let tap = text(&tap.stdout);
    assert!(
        tap.starts_with("TAP version 14\n1..1\nnot ok 1 - wrong-data"),
        "{tap}"
    );
}

#[test]
fn a_parameterised_failure_is_shrunk_to_the_smallest_failing_values() {
    let out = sockspec(&[
        "run",
        "--spec",
        TEST_SPEC,
        &data("parameterised/fails-above-100.yaml"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(
        report.contains("with size=101 (the smallest failing values found)"),
        "{report}"
    );
}

#[test]
fn check_reports_parameters_declared_wrong_or_undeclared() {
    let out = sockspec(&[
        "check",
        "--spec",
        TEST_SPEC,
        &data("bad/undeclared-parameter.yaml"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    for expected in [
        "undeclared-parameter.yaml:4:3: parameter `size` is never used",
        "undeclared-parameter.yaml:5:12: parameter `unused`: min 5 is greater than max 1",
        "undeclared-parameter.yaml:9:54: `sise` in `$(sise)` is not a parameter this scenario declares",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
}

#[test]
fn check_reports_template_expressions_that_do_not_parse_or_go_negative() {
    let out = sockspec(&[
        "check",
        "--spec",
        TEST_SPEC,
        &data("bad/bad-expression.yaml"),
        &data("bad/negative-expression.yaml"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    for expected in [
        "bad-expression.yaml:9:62: in `$(size +)`: the expression ends here; expected a number",
        "negative-expression.yaml:10:34: `$(bufsize - size)`: evaluates to -9, which is negative (with bufsize=1, size=10)",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
}

#[test]
fn a_call_that_returns_before_min_elapsed_fails() {
    let out = sockspec(&[
        "run",
        &data("failing/timeout-sooner-than-min-elapsed.yaml"),
        "--spec",
        TEST_SPEC,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(
        report.contains("(recv, tests/data/failing/timeout-sooner-than-min-elapsed.yaml:8): expected the call to take at least 2s, got it returned after"),
        "{report}"
    );
}

#[test]
fn run_refuses_nonsense_options_with_exit_2() {
    let scenario = data("valid/echo.yaml");
    for (args, message) in [
        (vec!["--jobs", "0"], "must be at least 1"),
        (vec!["--timeout", "0s"], "must be longer than zero"),
        (vec!["--timeout", "2h"], "must be at most 1h"),
        (vec!["--max-data", "5GiB"], "must be at most 4GiB"),
        (vec!["--max-data", "100"], "must be at least 1KiB"),
        (vec!["--max-data", "1TB"], "unknown unit `TB`"),
        (
            vec!["--expectations", "tests/data/no-such-expectations.yaml"],
            "--expectations tests/data/no-such-expectations.yaml: no such file",
        ),
    ] {
        let mut all = vec!["run", "--spec", TEST_SPEC];
        all.extend(&args);
        all.push(&scenario);
        let out = sockspec(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(message),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn an_expectations_entry_naming_no_scenario_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stale.yaml");
    std::fs::write(
        &file,
        "implementation: reference\nexpectations:\n  tcp/no-such-scenario:\n    status: fail\n    reason: \"TODO: say why\"\n",
    )
    .unwrap();
    let out = sockspec(&["run", "--expectations", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("name `tcp/no-such-scenario`, which is not a scenario"),
        "{err}"
    );
    assert!(err.contains("still has no reason"), "{err}");
}

#[test]
fn a_closed_standard_output_ends_list_quietly() {
    // `sockspec list | head -0`: the reading end is closed before sockspec writes anything.
    let (reader, writer) = nix::unistd::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .arg("list")
        .current_dir(root())
        .stdout(std::process::Stdio::from(writer))
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(out.status.code(), Some(141));
}

#[test]
fn max_data_lowers_and_raises_the_data_limit() {
    let fixture = "fixtures/data/unix-stream-sendall-4mib-arrives-intact.yaml";
    let out = sockspec(&["check", "--max-data", "1MiB", fixture]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(
            "more than the limit of 1048576 bytes per step (1 MiB; raise it with --max-data)"
        ),
        "{}",
        text(&out.stderr)
    );
    let out = sockspec(&["check", "--max-data", "8MiB", fixture]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn a_parameterised_failure_only_at_a_range_end_is_found_every_time() {
    // 16 random draws from 100,000 values almost never hit the maximum; the corners always do.
    let out = sockspec(&[
        "run",
        "--spec",
        TEST_SPEC,
        &data("parameterised/fails-only-at-the-maximum.yaml"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(
        report.contains("with size=100000 (a corner of the ranges)"),
        "{report}"
    );
}

#[test]
fn a_send_that_overstates_its_count_is_caught_by_the_captured_count() {
    // The count is within `returns: {min: 1, max: …}`, so only comparing it with what arrived
    // (`size: $taken`) shows the lost byte.
    let out = sockspec(&[
        "run",
        "--impl=exec:python3 tests/drivers/send_overstates_count.py",
        "fixtures/data/unix-stream-send-non-blocking-partial-then-eagain.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let report = text(&out.stdout);
    assert!(report.contains("recv_until_eof"), "{report}");
    assert!(report.contains("expected success with exactly"), "{report}");
}

#[test]
fn properties_hold_on_the_reference_from_any_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(["properties", "--cases", "4", "--seed", "1"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}{}", text(&out.stderr));
    assert!(
        report.contains("5 properties on reference (4 cases each): 5 held, 0 failed"),
        "{report}"
    );
}

#[test]
fn properties_find_a_broken_driver_and_write_a_scenario_that_replays() {
    let out_dir = tempfile::tempdir().unwrap();
    let driver = format!(
        "--impl=exec:python3 {}",
        root().join("tests/drivers/merges_datagrams.py").display()
    );
    let out = sockspec(&[
        "properties",
        &driver,
        "--cases",
        "4",
        "--seed",
        "1",
        "--out",
        &out_dir.path().display().to_string(),
    ]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("FAIL  datagram-boundaries"), "{report}");
    let written: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let replay = sockspec(&["run", &driver, &written[0].display().to_string()]);
    assert_eq!(replay.status.code(), Some(1), "{}", text(&replay.stdout));
}

#[test]
fn differential_finds_cpython_in_agreement_with_the_reference() {
    let out = sockspec(&[
        "differential",
        "--impl",
        "python",
        "--cases",
        "4",
        "--seed",
        "2",
    ]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}{}", text(&out.stderr));
    assert!(
        report.contains("python agrees with the reference on 4 sequences"),
        "{report}"
    );
}

#[test]
fn environment_actors_run_on_the_reference_unless_every_actor_is_asked_for() {
    // The `third` actor only receives, with a timeout, which std cannot set: it is an
    // environment actor, so std runs the scenario's client and peer, and the rest on the
    // reference; with --all-actors std is asked for everything and lacks timeout mode.
    let fixture = "fixtures/udp/connected-socket-sendto-other-address.yaml";
    let out = sockspec(&["run", "--impl", "std", fixture]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(report.contains("1 passed"), "{report}");
    assert!(
        report.contains("actors ran on: reference in 1 scenario, std in 1 scenario"),
        "{report}"
    );
    let out = sockspec(&["run", "--impl", "std", "--all-actors", fixture]);
    let report = text(&out.stdout);
    assert!(
        report.contains("std does not support feature timeout_mode"),
        "{report}"
    );
    assert!(report.contains("1 unsupported"), "{report}");
}

/// Runs `sockspec ARGS` from `dir`, with `TMPDIR` set to `tmp` when given.
fn sockspec_in(dir: &Path, tmp: Option<&Path>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockspec"));
    command.args(args).current_dir(dir);
    if let Some(tmp) = tmp {
        command.env("TMPDIR", tmp);
    }
    command.output().expect("the sockspec binary runs")
}

#[test]
fn run_from_any_directory_uses_the_built_in_suite() {
    let dir = tempfile::tempdir().unwrap();
    let out = sockspec_in(dir.path(), None, &["run"]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}{}", text(&out.stderr));
    let listed = text(&sockspec(&["list"]).stdout);
    let count = listed.lines().count();
    assert!(count > 100, "{listed}");
    assert!(
        report.contains(&format!(
            "{count} scenarios against reference: {count} passed, 0 failed"
        )),
        "{report}"
    );
    // The same scenarios, with the same ids and titles, as the checkout's.
    let built_in = sockspec_in(dir.path(), None, &["list"]);
    assert_eq!(text(&built_in.stdout), listed);
    // Nothing was written where it ran.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_named_driver_of_the_built_in_suite_runs_from_any_directory_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = sockspec_in(
        dir.path(),
        Some(tmp.path()),
        &["run", "--impl", "python", "--filter", "tutorial/echo"],
    );
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}{}", text(&out.stderr));
    assert!(report.contains("against python: 1 passed"), "{report}");
    // The built-in suite the driver ran from was written to TMPDIR and removed at the end.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    // The built-in expectations cannot be written back.
    let out = sockspec_in(
        dir.path(),
        None,
        &["expectations", "--filter", "tutorial/echo", "--write"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("the built-in suite cannot be written"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_suite_directory_that_is_missing_or_incomplete_is_a_usage_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-suite");
    let out = sockspec(&["run", "--suite", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stdout).is_empty(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "--suite {}: cannot read the directory",
            missing.display()
        )),
        "{err}"
    );
    std::fs::create_dir(dir.path().join("fixtures")).unwrap();
    let out = sockspec(&["check", "--suite", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "cannot read {}",
            dir.path().join("spec").display()
        )),
        "{err}"
    );
    // An empty spec or fixtures directory is an error, not a run of nothing.
    std::fs::create_dir(dir.path().join("spec")).unwrap();
    let out = sockspec(&["list", "--suite", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("the spec defines no requirements"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn export_writes_a_suite_that_suite_runs() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("suite");
    let suite_arg = suite.to_str().unwrap();
    let out = sockspec_in(dir.path(), None, &["export", "suite"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for part in ["fixtures", "spec", "expectations", "drivers"] {
        assert!(suite.join(part).is_dir(), "{part}/ was not written");
    }
    // A directory with files in it is refused, unless --force.
    let out = sockspec_in(dir.path(), None, &["export", "suite"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not empty"),
        "{}",
        text(&out.stderr)
    );
    let out = sockspec_in(dir.path(), None, &["export", "--force", "suite"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // --suite runs what the directory holds: here only the tutorial's scenarios.
    for entry in std::fs::read_dir(suite.join("fixtures")).unwrap() {
        let path = entry.unwrap().path();
        if !path.ends_with("tutorial") {
            std::fs::remove_dir_all(path).unwrap();
        }
    }
    let elsewhere = tempfile::tempdir().unwrap();
    let out = sockspec_in(
        elsewhere.path(),
        None,
        &["run", "--suite", suite_arg, "--impl", "python"],
    );
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}{}", text(&out.stderr));
    let tutorial = std::fs::read_dir(suite.join("fixtures/tutorial"))
        .unwrap()
        .count();
    assert!(
        report.contains(&format!(
            "{tutorial} scenarios against python: {tutorial} passed, 0 failed"
        )),
        "{report}"
    );
}

#[test]
fn properties_write_counterexamples_under_the_current_directory_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let driver = format!(
        "--impl=exec:python3 {}",
        root().join("tests/drivers/merges_datagrams.py").display()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(["properties", &driver, "--cases", "4", "--seed", "1"])
        .current_dir(dir.path())
        .env_remove("SOCKSPEC_REGRESSIONS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let written: Vec<_> = std::fs::read_dir(dir.path().join("target/sockspec-regressions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
}

#[test]
fn run_starts_the_scenario_expected_to_wait_longest_first() {
    // Listed second, but it waits out a 200 ms poll timeout: with one job it runs first, so the
    // long wait overlaps the short scenarios in a run with more jobs.
    let out = sockspec(&[
        "run",
        "--jobs",
        "1",
        "fixtures/tutorial/echo.yaml",
        "fixtures/sockets/poll-with-nothing-ready-waits-its-timeout.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    let order: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("PASS"))
        .map(|l| l.split_whitespace().nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        order,
        [
            "sockets/poll-with-nothing-ready-waits-its-timeout",
            "tutorial/echo"
        ],
        "{report}"
    );
}
