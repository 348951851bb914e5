//! `sockspec driver-check`: tells a driver's author what their driver gets wrong.
//!
//! First the protocol itself, spoken directly ([`check_protocol`]): the handshake, an unknown
//! operation, `bye` and the exit status. Then, side by side, `reset` ([`check_reset`], for a
//! driver that declares it) and every operation through the runner, with small
//! embedded scenarios (one per area: a TCP connection, datagrams, modes, options…), so that each
//! problem is reported with the step (the request) that provoked it and what was expected. Every
//! scenario whose needs the driver declares is run, and every problem is reported; a scenario
//! that needs what the driver does not declare is skipped, saying what. This half lives with the
//! command line because it uses the runner and the scenario model, which the driver module,
//! below them, must not.

use crate::driver::{check_protocol, check_reset, Driver, Finding};
use crate::implementation::Implementation;
use crate::requirements::Requirements;
use crate::runner::{run_all, RunOptions, Status};
use crate::scenario::{parse, LoadError, Scenario, ScenarioPath};
use std::path::{Path, PathBuf};

/// The embedded scenarios, by file name: together they make every operation of the table.
const SCENARIOS: &[(&str, &str)] = &[
    ("stream.yaml", include_str!("stream.yaml")),
    ("shutdown.yaml", include_str!("shutdown.yaml")),
    ("backlog.yaml", include_str!("backlog.yaml")),
    ("recv-flags.yaml", include_str!("recv-flags.yaml")),
    ("options.yaml", include_str!("options.yaml")),
    ("datagrams.yaml", include_str!("datagrams.yaml")),
    ("modes.yaml", include_str!("modes.yaml")),
    ("errors.yaml", include_str!("errors.yaml")),
    ("socketpair.yaml", include_str!("socketpair.yaml")),
    ("receiving.yaml", include_str!("receiving.yaml")),
];

/// The one requirement the embedded scenarios cite. It is not part of the spec: they check a
/// driver's plumbing, and are not run with the suite, so they cite this id of their own (and the
/// command needs no spec directory).
const REQUIREMENT: &str = "### `driver.check` — every operation reaches the driver and back\n";

/// The embedded scenarios, loaded (an error names the file and line of a broken one).
fn scenarios() -> Result<Vec<Scenario>, String> {
    let mut requirements = Requirements::default();
    requirements
        .add_file(Path::new("driver-check"), REQUIREMENT)
        .map_err(|e| e.to_string())?;
    SCENARIOS
        .iter()
        .map(|(file, text)| {
            let found = ScenarioPath {
                path: PathBuf::from("driver-check").join(file),
                id: format!("driver-check/{}", file.trim_end_matches(".yaml")),
            };
            parse(&found, text, &requirements).map_err(|e| LoadError::lines(&e))
        })
        .collect()
}

/// Checks the driver that `command` starts; every finding, passed, failed or skipped.
pub fn check_driver(command: &str) -> Vec<Finding> {
    let mut findings = check_protocol(command);
    // A driver that did not start or shake hands has nothing more to show.
    if let [only] = findings.as_slice() {
        if only.failed() {
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
    let scenarios = match scenarios() {
        Ok(s) => s,
        Err(e) => {
            findings.push(Finding::wrong("embedded scenarios", e));
            return findings;
        }
    };
    let declared = driver.capabilities();
    // All at once, `reset` too: they are independent (each actor has a driver process of its
    // own), and a driver that hangs then costs one step limit, not one per scenario. A
    // scenario needing what the driver does not declare ends at once, `unsupported`, without
    // starting it.
    let (reset, results) = std::thread::scope(|scope| {
        let reset = scope.spawn(|| check_reset(command));
        let results = run_all(
            &scenarios,
            &driver,
            &RunOptions::default(),
            scenarios.len(),
            |_| {},
        );
        let reset = reset.join().unwrap_or_else(|_| {
            vec![Finding::wrong(
                "reset",
                "checking reset panicked (a bug in sockspec)",
            )]
        });
        (reset, results)
    });
    findings.extend(reset);
    for result in results {
        let Some(scenario) = scenarios.iter().find(|s| s.id == result.scenario) else {
            continue;
        };
        let missing = declared.missing(&scenario.needs());
        findings.push(match result.status {
            _ if !missing.is_empty() => Finding::skipped(
                &scenario.title,
                format!("the driver does not declare {}", missing.join(", ")),
            ),
            Status::Pass => Finding::ok(&scenario.title),
            status => Finding::wrong(
                &scenario.title,
                format!("[{status}] {}", result.explanation()),
            ),
        });
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    /// driver-check's scenarios make every operation of the table (`setblocking` counts as
    /// `settimeout`, which it sends).
    #[test]
    fn the_embedded_scenario_makes_every_operation() {
        let scenarios = scenarios().expect("the embedded scenarios load");
        let used: std::collections::BTreeSet<&str> = scenarios
            .iter()
            .flat_map(|scenario| &scenario.actors)
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
            "src/cli/driver_check/*.yaml never make {missing:?}"
        );
    }
}
