//! `sockspec driver-check`: tells a driver's author what their driver gets wrong.
//!
//! First the protocol itself, spoken directly ([`check_protocol`]): the handshake, an unknown
//! operation, `bye` and the exit status. Then every operation through the runner, with an
//! embedded scenario, so that each problem is reported with the step (the request) that
//! provoked it. This half lives with the command line because it uses the runner and the
//! scenario model, which the driver module, below them, must not.

use crate::driver::{check_protocol, Driver, Finding};
use crate::requirements::Requirements;
use crate::runner::{run_scenario, RunOptions, Status};
use crate::scenario::{parse, LoadError, ScenarioPath};
use std::path::{Path, PathBuf};

/// The embedded scenario: every operation on loopback, with the errors and modes drivers get
/// wrong most.
const SCENARIO: &str = include_str!("driver_check.yaml");

/// The one requirement the embedded scenario cites. It is not part of the spec: the scenario
/// checks a driver's plumbing, and is not run with the suite, so it cites this id of its own
/// (and the command needs no spec directory).
const REQUIREMENT: &str = "### `driver.check` — every operation reaches the driver and back\n";

/// Checks the driver that `command` starts; every finding, passed or not.
pub fn check_driver(command: &str) -> Vec<Finding> {
    let mut findings = check_protocol(command);
    // A driver that did not start or shake hands has nothing more to show.
    if let [only] = findings.as_slice() {
        if only.problem.is_some() {
            return findings;
        }
    }
    let driver = match Driver::start(command, command) {
        Ok(d) => d,
        Err(e) => {
            findings.push(Finding::wrong("second start", e.to_string()));
            return findings;
        }
    };
    let mut requirements = Requirements::default();
    let _ = requirements.add_file(Path::new("driver-check"), REQUIREMENT);
    let found = ScenarioPath {
        path: PathBuf::from("driver-check/driver_check.yaml"),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// driver-check exercises every operation of the table (`setblocking` counts as
    /// `settimeout`, which it sends).
    #[test]
    fn the_embedded_scenario_makes_every_operation() {
        let mut requirements = Requirements::default();
        requirements
            .add_file(Path::new("driver-check"), REQUIREMENT)
            .unwrap();
        let found = ScenarioPath {
            path: PathBuf::from("driver_check.yaml"),
            id: "driver-check".to_string(),
        };
        let scenario = parse(&found, SCENARIO, &requirements).expect("the scenario loads");
        let used: std::collections::BTreeSet<&str> = scenario
            .actors
            .iter()
            .flat_map(|actor| &actor.steps)
            .map(|step| match step.op.name() {
                "setblocking" => "settimeout",
                name => name,
            })
            .collect();
        let missing: Vec<&str> = crate::operation::Call::NAMES
            .iter()
            .copied()
            .filter(|name| !used.contains(name))
            .collect();
        assert!(
            missing.is_empty(),
            "src/cli/driver_check.yaml never makes {missing:?}"
        );
    }
}
