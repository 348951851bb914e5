//! Out-of-process drivers: CPython's passes its own protocol self-test, and each deliberately
//! broken driver in `tests/drivers/` is caught with a clear message while the run completes and
//! no driver process outlives it.

use std::process::{Command, Output};

mod common;
use common::root;

/// `sockspec run` of the driver test scenarios against `tests/drivers/DRIVER.py`.
fn run_broken(driver: &str) -> (Output, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(["run", "--spec", "tests/data/spec", "--jobs", "2"])
        .arg(format!("--impl=exec:python3 tests/drivers/{driver}.py"))
        .arg("tests/data/drivers")
        .current_dir(root())
        .output()
        .expect("sockspec runs");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        report.contains("4 scenarios against"),
        "the run did not complete:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::assert_no_driver_left(driver, None);
    (out, report)
}

#[test]
fn a_driver_that_ignores_bind_errors_fails_the_bind_in_use_scenario() {
    let (out, report) = run_broken("ignores_bind_errors");
    assert_eq!(out.status.code(), Some(1));
    assert!(report.contains("FAIL    bind-in-use"), "{report}");
    assert!(
        report.contains("expected error EADDRINUSE, got success"),
        "{report}"
    );
}

#[test]
fn a_driver_that_returns_more_than_bufsize_fails_the_recv_scenario() {
    let (out, report) = run_broken("recv_more_than_bufsize");
    assert_eq!(out.status.code(), Some(1));
    assert!(report.contains("FAIL    recv-at-most-bufsize"), "{report}");
    assert!(
        report.contains("got success with data \"abcde\""),
        "{report}"
    );
}

#[test]
fn a_driver_that_merges_datagrams_fails_the_boundaries_scenario() {
    let (out, report) = run_broken("merges_datagrams");
    assert_eq!(out.status.code(), Some(1));
    assert!(report.contains("FAIL    datagram-boundaries"), "{report}");
    assert!(
        report.contains("got success with data \"onetwo\""),
        "{report}"
    );
}

#[test]
fn a_driver_that_hangs_times_out_and_is_killed() {
    let (out, report) = run_broken("hangs");
    assert_eq!(out.status.code(), Some(1));
    assert!(report.contains("TIMEOUT accept-with-client"), "{report}");
    assert!(report.contains("did not return within 1s"), "{report}");
}

#[test]
fn a_driver_that_crashes_is_an_error_naming_its_exit_status_and_stderr() {
    let (out, report) = run_broken("crashes");
    assert_eq!(out.status.code(), Some(1));
    assert!(report.contains("ERROR   accept-with-client"), "{report}");
    assert!(
        report.contains("exited without answering `connect` (exit status: 3)"),
        "{report}"
    );
    assert!(report.contains("crashing on purpose"), "{report}");
}

#[test]
fn a_driver_that_prints_garbage_is_an_error_quoting_the_line() {
    let (out, report) = run_broken("garbage");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        report.contains("answered `listen` with garbage"),
        "{report}"
    );
    assert!(
        report.contains("listening! (this line is not JSON)"),
        "{report}"
    );
}

#[test]
fn a_driver_that_does_not_start_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(["run", "--impl", "exec:/nonexistent/driver"])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("failed its handshake"));
}

/// `sockspec run` of bundled fixtures against `tests/drivers/speaks_v2.py ARGS`.
fn run_v2(args: &str, fixtures: &[&str]) -> (Output, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(["run", "--jobs", "2"])
        .arg(format!(
            "--impl=exec:python3 tests/drivers/speaks_v2.py{args}"
        ))
        .args(fixtures)
        .current_dir(root())
        .output()
        .expect("sockspec runs");
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    common::assert_no_driver_left("speaks_v2", None);
    (out, said)
}

/// One test, not three: each run checks that no `speaks_v2.py` process is left, which a run of
/// the same driver in a parallel test would break.
#[test]
fn a_version_2_driver_is_refused_what_it_cannot_express_and_its_library_errors_are_shown() {
    // Finer capabilities refuse, before anything starts, what the driver cannot express.
    let (out, report) = run_v2(
        "",
        &[
            "fixtures/sockets/poll-on-closed-socket-is-rejected.yaml",
            "fixtures/unix/dgram-send-without-destination-fails.yaml",
            "fixtures/tcp/server/bind-port-in-use-by-listener.yaml",
            "fixtures/tutorial/echo.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{report}");
    for (scenario, reason) in [
        ("sockets/poll-on-closed-socket-is-rejected", "operation poll"),
        ("unix/dgram-send-without-destination-fails", "unix dgram sockets"),
        ("tcp/server/bind-port-in-use-by-listener", "what a stream socket's bind does on its own (deferred_bind: a stream socket's address is applied at listen/connect)"),
    ] {
        // The line's duration (the time to refuse it) is left out: it varies with load.
        let said = report
            .lines()
            .find(|l| l.starts_with(&format!("UNSUPP  {scenario} (")))
            .unwrap_or_else(|| panic!("no UNSUPP line for {scenario} in:\n{report}"));
        assert!(
            said.ends_with(&format!(
                "): python3 tests/drivers/speaks_v2.py does not support {reason}"
            )),
            "{said}"
        );
    }
    assert!(report.contains("PASS    tutorial/echo"), "{report}");

    // A library error fails the step, showing the library's own name for it.
    let (out, report) = run_v2(
        "",
        &["fixtures/udp/sendmsg-to-an-address-sends-one-datagram.yaml"],
    );
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains(
            "expected success with returning 12, got error library: ERR_TEST_OWN: this test driver's own error"
        ),
        "{report}"
    );

    // Version 2's capabilities under version 1 are refused, saying so.
    let (out, said) = run_v2(" --v1", &["fixtures/tutorial/echo.yaml"]);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains(
            "it speaks protocol version 1 but declares `operations`, which version 2 added"
        ),
        "{said}"
    );
}

#[test]
fn the_cpython_driver_passes_its_protocol_self_test() {
    let out = Command::new("python3")
        .arg("tests/drivers/selftest.py")
        .current_dir(root())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `sockspec driver-check COMMAND`.
fn driver_check(command: &str) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(["driver-check", command])
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn driver_check_passes_the_cpython_driver() {
    let (code, report) = driver_check("python3 drivers/python/sockspec_driver.py");
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains("15 checks: 15 passed, 0 failed, 0 skipped"),
        "{report}"
    );
    // How long a process takes to be ready, through the command and started directly.
    let ready = millis_after(&report, "answered `hello` in ");
    let direct = millis_after(&report, "answers `hello` the same (ready in ");
    assert!(ready > 0 && direct > 0, "{report}");
    assert!(
        report.contains(&format!("ms, against {ready} ms through the command)")),
        "{report}"
    );
}

/// The number of milliseconds written right after `prefix` in `report` ("… in 42 ms").
fn millis_after(report: &str, prefix: &str) -> u64 {
    let at = report
        .find(prefix)
        .unwrap_or_else(|| panic!("no `{prefix}` in:\n{report}"))
        + prefix.len();
    let digits: String = report[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert!(report[at + digits.len()..].starts_with(" ms"), "{report}");
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number after `{prefix}` in:\n{report}"))
}

#[test]
fn driver_check_runs_the_node_driver_and_its_failures_are_nodes_own() {
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("skipped: node is not installed (apt-get install nodejs)");
        return;
    }
    // As drivers/drivers.yaml starts it.
    let config = sockspec::registry::Drivers::file(&root().join("drivers/drivers.yaml"))
        .config()
        .unwrap();
    let (code, report) = driver_check(&config["node"].command);
    assert!(
        report.contains("15 checks: 7 passed, 2 failed, 6 skipped"),
        "{report}"
    );
    assert_eq!(code, Some(1), "{report}");
    for expected in [
        "ok    handshake: node ",
        "ok    an unknown op is answered `unsupported`",
        "ok    `bye` is answered and the driver exits with status 0",
        "ok    a process started again as the first ended up started answers `hello` the same",
        // reset destroys every Node object and awaits its 'close'.
        "ok    `reset` closes every socket and forgets every handle",
        "ok    a TCP connection",
        "ok    shutdown",
        // Node delivers whole datagrams and has no receive size to truncate them to.
        "[unsupported] actor datagrams, step 7 (recvfrom",
        // Binding a Node stream socket is server.listen(): it listens from bind on
        // (expectations/node.yaml, tcp/client/connect-to-bound-but-not-listening-socket-is-refused).
        "[fail] actor errors, step 6 (connect, driver-check/errors.yaml:12): expected error ECONNREFUSED, got success",
        // Node has no poll, which its version 2 hello says, so the check is skipped up front.
        "skip  poll, recvmsg, recv_into, recvfrom_into, fileno\n      the driver does not declare operation fileno, operation poll",
    ] {
        assert!(report.contains(expected), "no `{expected}` in:\n{report}");
    }
}

#[test]
fn driver_check_names_the_request_a_broken_driver_gets_wrong_and_goes_on() {
    let (code, report) = driver_check("python3 tests/drivers/merges_datagrams.py");
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("step 7 (recvfrom, driver-check/datagrams.yaml:13)"),
        "{report}"
    );
    assert!(
        report.contains("a receive never returns more than bufsize"),
        "{report}"
    );
    // The checks after the failing one still ran: every problem is reported, not the first.
    let failed_at = report.find("FAIL  UDP").expect("the datagram check failed");
    assert!(
        report[failed_at..].contains("ok    errors by name"),
        "{report}"
    );
    assert!(report.contains("1 failed"), "{report}");
}

#[test]
fn driver_check_runs_what_a_modest_driver_declares_and_skips_the_rest_saying_why() {
    // It declares IPv4 streams and datagrams and unbound sockets only.
    let (code, report) = driver_check("python3 tests/drivers/declares_little.py");
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains("ok    a TCP connection")
            && report.contains("ok    UDP")
            && report.contains("ok    errors by name"),
        "{report}"
    );
    assert!(
        report.contains(
            "skip  socketpair\n      the driver does not declare family unix, feature socketpair"
        ),
        "{report}"
    );
    assert!(
        report.contains("15 checks: 9 passed, 0 failed, 6 skipped"),
        "{report}"
    );
}

/// Every message the CPython driver exchanged in its self-test fits the generated JSON Schema,
/// and every `ok` fits its operation's own definition. Uses Python's `jsonschema` (Debian's
/// `python3-jsonschema`, which `.ci/run` installs); skipped with a message where it is absent.
/// Runs `body`, a Python script, after a prelude that loads the protocol's schema and defines
/// `errors(message, ref)` and `check(message, ref)` (which exits on the first error), with
/// Python's `jsonschema` (Debian's `python3-jsonschema`, which `.ci/run` installs). Returns what
/// it printed, or `None` (saying it skipped) where `jsonschema` is absent.
fn with_protocol_schema(body: &str, args: &[&std::ffi::OsStr]) -> Option<String> {
    let has_jsonschema = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !has_jsonschema {
        eprintln!(
            "skipped: Python's jsonschema module is not installed (apt-get install python3-jsonschema)"
        );
        return None;
    }
    let prelude = r###"
import json, sys, jsonschema
schema = json.load(open("spec/driver-protocol.schema.json"))
def errors(message, ref):
    sub = dict(schema, **{"$ref": ref}); sub.pop("oneOf")
    return list(jsonschema.Draft202012Validator(sub).iter_errors(message))
def check(message, ref):
    found = errors(message, ref)
    if found:
        sys.exit("%s does not fit %s: %s" % (json.dumps(message), ref, found[0].message))
"###;
    let out = Command::new("python3")
        .arg("-c")
        .arg(format!("{prelude}{body}"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Every message the CPython driver exchanged in its self-test fits the generated JSON Schema,
/// and every `ok` fits its operation's own definition (skipped without Python's `jsonschema`).
#[test]
fn the_cpython_drivers_messages_fit_the_protocol_schema() {
    let dir = tempfile::tempdir().unwrap();
    let transcript = dir.path().join("transcript.jsonl");
    let out = Command::new("python3")
        .arg("tests/drivers/selftest.py")
        .arg("--transcript")
        .arg(&transcript)
        .current_dir(root())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body = r###"
count = 0
for line in open(sys.argv[1]):
    exchange = json.loads(line)
    request, reply = exchange["request"], exchange["reply"]
    check(reply, "#/$defs/reply")
    if errors(request, "#/$defs/request"):
        # The self-test also sends requests outside the protocol (unknown operations, a
        # negative timeout) to see them refused: the driver must answer with an error.
        if "error" not in reply:
            sys.exit("%s is outside the protocol but was answered %s" % (json.dumps(request), json.dumps(reply)))
        continue
    if "ok" in reply:
        check(reply["ok"], "#/$defs/ok-" + request["op"])
    count += 1
print(count)
"###;
    let Some(printed) = with_protocol_schema(body, &[transcript.as_os_str()]) else {
        return;
    };
    let exchanges: usize = printed.trim().parse().unwrap();
    assert!(exchanges > 50, "only {exchanges} exchanges were checked");
}

/// The annotated session of driver-protocol.md §7 is made of messages the schema accepts, each
/// reply's `ok` fitting its request's operation (skipped without Python's `jsonschema`).
#[test]
fn the_documented_session_fits_the_protocol_schema() {
    let body = r###"
doc = open("spec/driver-protocol.md").read()
session = doc.split("## 7.")[1].split("```jsonl\n")[1].split("```")[0]
lines = [json.loads(l) for l in session.strip().splitlines()]
for request, reply in zip(lines[0::2], lines[1::2]):
    check(request, "#/$defs/request")
    check(reply, "#/$defs/reply")
    if reply["seq"] != request["seq"]:
        sys.exit("reply %s does not answer %s" % (reply, request))
    if "ok" in reply:
        check(reply["ok"], "#/$defs/ok-" + request["op"])
print(len(lines))
"###;
    let Some(printed) = with_protocol_schema(body, &[]) else {
        return;
    };
    assert_eq!(printed.trim(), "24");
}
