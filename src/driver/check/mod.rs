//! `sockspec driver-check`: tells a driver's author what their driver gets wrong.
//!
//! First the protocol itself, spoken directly: the handshake, an unknown operation, `bye` and the
//! exit status. Then every operation through the runner, with an embedded scenario, so that each
//! problem is reported with the step (the request) that provoked it.

use super::process::DriverProcess;
use super::{handshake, hello_limit, Driver};
use crate::requirements::Requirements;
use crate::runner::{run_scenario, RunOptions, Status};
use crate::scenario::{parse, LoadError, ScenarioPath};
use crate::vocab::ErrorCode;
use serde_json::json;
use std::path::{Path, PathBuf};

const SCENARIO: &str = include_str!("protocol.yaml");

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What was checked.
    pub check: String,
    /// `None` when it passed; else what is wrong.
    pub problem: Option<String>,
}

impl Finding {
    fn ok(check: &str) -> Finding {
        Finding {
            check: check.to_string(),
            problem: None,
        }
    }

    fn wrong(check: &str, problem: impl Into<String>) -> Finding {
        Finding {
            check: check.to_string(),
            problem: Some(problem.into()),
        }
    }
}

/// Checks the driver that `command` starts; every finding, passed or not.
pub fn check_driver(command: &str) -> Vec<Finding> {
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
    drop(process);

    let driver = match Driver::start(command, command) {
        Ok(d) => d,
        Err(e) => {
            findings.push(Finding::wrong("second start", e.to_string()));
            return findings;
        }
    };
    let mut requirements = Requirements::default();
    let _ = requirements.add_file(
        Path::new("driver-check"),
        "### `driver.check` — driver-check\n",
    );
    let found = ScenarioPath {
        path: PathBuf::from("driver-check/protocol.yaml"),
        id: "driver-check".to_string(),
    };
    let scenario = match parse(&found, SCENARIO, &requirements) {
        Ok(s) => s,
        Err(e) => {
            findings.push(Finding::wrong("embedded scenario", LoadError::lines(&e)));
            return findings;
        }
    };
    let check = "every operation on loopback (socket … close, errors, modes)";
    let result = run_scenario(&scenario, &driver, &RunOptions::default());
    findings.push(match result.status {
        Status::Pass => Finding::ok(check),
        status => Finding::wrong(check, format!("[{status}] {}", result.explanation())),
    });
    findings
}
