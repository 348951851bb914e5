//! The protocol itself, spoken directly to a driver: the handshake, an unknown operation, `reset`
//! (for a driver that declares it), `bye` and the exit status (the first half of `sockspec driver-check`; the second, every operation
//! through the runner, is the command line's, which may use the runner).

use super::handshake;
use super::hello_limit;
use super::process::{DriverProcess, Launch};
use crate::vocab::ErrorCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// One check of a driver and how it came out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What was checked.
    pub check: String,
    /// How it came out.
    pub verdict: Verdict,
}

/// How a check came out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It passed.
    Passed,
    /// It found this problem.
    Failed(String),
    /// It was not made, for this reason (the driver does not declare what it needs).
    Skipped(String),
}

impl Finding {
    /// A check that passed.
    pub fn ok(check: &str) -> Finding {
        Finding {
            check: check.to_string(),
            verdict: Verdict::Passed,
        }
    }

    /// A check that found `problem`.
    pub fn wrong(check: &str, problem: impl Into<String>) -> Finding {
        Finding {
            check: check.to_string(),
            verdict: Verdict::Failed(problem.into()),
        }
    }

    /// A check that was not made, because of `why`.
    pub fn skipped(check: &str, why: impl Into<String>) -> Finding {
        Finding {
            check: check.to_string(),
            verdict: Verdict::Skipped(why.into()),
        }
    }

    /// True when the check found a problem.
    pub fn failed(&self) -> bool {
        matches!(self.verdict, Verdict::Failed(_))
    }
}

/// Checks how the driver that `command` starts speaks the protocol; every finding, passed or
/// not.
pub fn check_protocol(command: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let starting = Instant::now();
    let process = match DriverProcess::spawn(command, command) {
        Ok(p) => p,
        Err(e) => return vec![Finding::wrong("start", e)],
    };
    match handshake(&process) {
        Ok((hello, reply)) => {
            // How long a process takes to be ready: what every actor of a cold driver, and
            // every test process under nextest, waits for.
            let ready = starting.elapsed();
            findings.push(Finding::ok(&format!(
                "handshake: {} {} speaks protocol {} (started and answered `hello` in {} ms)",
                hello.name,
                hello.version,
                hello.protocol,
                ready.as_millis()
            )));
            findings.push(check_relaunch(command, &process, &reply, ready));
        }
        Err(e) => {
            findings.push(Finding::wrong("handshake", e));
            return findings;
        }
    }
    findings.push(
        match process.request_within("frobnicate", json!({}), hello_limit()) {
            Err(e) if e.code == ErrorCode::Unsupported => {
                Finding::ok("an unknown op is answered `unsupported`")
            }
            Err(e) => Finding::wrong(
                "an unknown op is answered `unsupported`",
                format!("it answered {e}"),
            ),
            Ok(v) => Finding::wrong(
                "an unknown op is answered `unsupported`",
                format!("it answered ok: {v}"),
            ),
        },
    );
    findings.push(match process.goodbye() {
        Ok(()) => Finding::ok("`bye` is answered and the driver exits with status 0"),
        Err(e) => Finding::wrong("`bye` is answered and the driver exits with status 0", e),
    });
    findings
}

/// What [`check_relaunch`] checks.
const RELAUNCH_SAME: &str =
    "a process started again as the first ended up started answers `hello` the same";

/// Whether the driver's process can be started again directly, as it ended up started (its
/// program, arguments and environment, without the command's shell and launchers; see
/// [`relaunch`](super::relaunch)), and whether a process so started passes its handshake with
/// the very reply of the first.
fn check_relaunch(
    command: &str,
    first: &DriverProcess,
    reply: &Value,
    through_command: Duration,
) -> Finding {
    let relaunch = match first.relaunch(command, &super::directory(None)) {
        Ok(relaunch) => relaunch,
        Err(why) => {
            return Finding::skipped(
                RELAUNCH_SAME,
                format!(
                    "its process cannot be started again directly ({why}); every process \
                     starts through the command, which is correct but slower"
                ),
            )
        }
    };
    let starting = Instant::now();
    let process = match DriverProcess::launch(command, Launch::Direct(&relaunch), false, None) {
        Ok(process) => process,
        Err(e) => return Finding::wrong(RELAUNCH_SAME, e),
    };
    let finding = match handshake(&process) {
        Ok((_, again)) if again == *reply => Finding::ok(&format!(
            "{RELAUNCH_SAME} (ready in {} ms, against {} ms through the command)",
            starting.elapsed().as_millis(),
            through_command.as_millis()
        )),
        Ok((_, again)) => Finding::wrong(
            RELAUNCH_SAME,
            format!("it answered {again}, and the process its command started {reply}"),
        ),
        Err(e) => Finding::wrong(RELAUNCH_SAME, e),
    };
    let _ = process.goodbye();
    finding
}

/// What [`check_reset`] checks.
const RESET_CLOSES: &str =
    "`reset` closes every socket and forgets every handle (a listener's port is free again)";

/// Checks `reset` on a process of its own (so that it can run beside the other checks), if the
/// driver that `command` starts declares it; a skipped finding if it does not.
pub fn check_reset(command: &str) -> Vec<Finding> {
    let process = match DriverProcess::spawn(command, command) {
        Ok(p) => p,
        Err(e) => return vec![Finding::wrong(RESET_CLOSES, e)],
    };
    match handshake(&process) {
        Ok((hello, _)) if hello.reset => check_reset_of(&process),
        Ok(_) => vec![Finding::skipped(
            RESET_CLOSES,
            "the driver does not declare `reset` (it gets one process per actor)",
        )],
        Err(e) => vec![Finding::wrong(RESET_CLOSES, e)],
    }
}

/// `reset` after a TCP listener was made: answered `null`, the listener's handle is then unknown
/// (`EBADF`), nothing listens on its port any more, and a new socket can bind that port.
fn check_reset_of(process: &DriverProcess) -> Vec<Finding> {
    let ask = |op: &str, fields: Value| process.request_within(op, fields, hello_limit());
    let listener = (|| {
        let handle = ask("socket", json!({"family": "inet", "type": "stream"}))?["handle"].clone();
        ask("bind", json!({"handle": handle, "address": "127.0.0.1:0"}))?;
        // No backlog: an API without one (Node's `auto_accept`) can still make the listener.
        ask("listen", json!({"handle": handle}))?;
        let address = ask("getsockname", json!({"handle": handle}))?["address"].clone();
        Ok::<_, crate::vocab::SockError>((handle, address))
    })();
    let (handle, address) = match listener {
        Ok((handle, Value::String(address))) => (handle, address),
        Ok((_, other)) => {
            return vec![Finding::wrong(
                RESET_CLOSES,
                format!("getsockname answered {other}, not an address"),
            )]
        }
        Err(e) => {
            // Without a listener, only the answer to reset can be checked.
            let reset = ask("reset", json!({}));
            return vec![
                Finding::skipped(
                    RESET_CLOSES,
                    format!("a TCP listener on 127.0.0.1 could not be made before it: {e}"),
                ),
                match reset {
                    Ok(Value::Null) => Finding::ok("`reset` is answered null"),
                    other => Finding::wrong("`reset` is answered null", format!("{other:?}")),
                },
            ];
        }
    };
    match ask("reset", json!({})) {
        Ok(Value::Null) => {}
        Ok(other) => {
            return vec![Finding::wrong(
                RESET_CLOSES,
                format!("`reset` was answered {other}, not null"),
            )]
        }
        Err(e) => return vec![Finding::wrong(RESET_CLOSES, format!("`reset` failed: {e}"))],
    }
    let mut problems = Vec::new();
    match ask("getsockname", json!({"handle": handle})) {
        Err(e) if e.code.name() == "EBADF" => {}
        other => problems.push(format!(
            "after reset, getsockname on the listener's handle {handle} was answered {other:?}, \
             not EBADF"
        )),
    }
    match std::net::TcpStream::connect(&address) {
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
        other => problems.push(format!(
            "after reset, connecting to the listener's address {address} gave {other:?}, not \
             ECONNREFUSED: the listener is still open"
        )),
    }
    let bound = ask("socket", json!({"family": "inet", "type": "stream"})).and_then(|ok| {
        let handle = ok["handle"].clone();
        ask("bind", json!({"handle": handle, "address": address}))?;
        ask("close", json!({"handle": handle}))
    });
    if let Err(e) = bound {
        problems.push(format!(
            "after reset, a new socket could not bind the listener's address {address}: {e}"
        ));
    }
    vec![if problems.is_empty() {
        Finding::ok(RESET_CLOSES)
    } else {
        Finding::wrong(RESET_CLOSES, problems.join("; "))
    }]
}
