//! The protocol itself, spoken directly to a driver: the handshake, an unknown operation, `bye`
//! and the exit status (the first half of `sockspec driver-check`; the second, every operation
//! through the runner, is the command line's, which may use the runner).

use super::handshake;
use super::hello_limit;
use super::process::DriverProcess;
use crate::vocab::ErrorCode;
use serde_json::json;

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
    let process = match DriverProcess::spawn(command, command) {
        Ok(p) => p,
        Err(e) => return vec![Finding::wrong("start", e)],
    };
    match handshake(&process) {
        Ok(hello) => findings.push(Finding::ok(&format!(
            "handshake: {} {} speaks protocol {}",
            hello.name, hello.version, hello.protocol
        ))),
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
