//! Every fixture against every built-in implementation, each its own test:
//! `reference::tcp::echo` for `fixtures/tcp/echo.yaml`.
//!
//! Fixtures are found when the test binary runs, so a new YAML file is a new test with no
//! rebuild. A fixture that does not load is a failing test that prints every error with its
//! position; a scenario an implementation cannot express is an ignored test.

use libtest_mimic::{Arguments, Failed, Trial};
use sockspec::requirements::Requirements;
use sockspec::runner::{run_scenario, unsupported_reason, RunOptions, Status};
use sockspec::scenario::{discover, load};
use std::path::Path;

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let requirements = match Requirements::load(&root.join("spec")) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot load the spec: {e}");
            std::process::exit(101);
        }
    };
    let found = match discover(&[root.join("fixtures")]) {
        Ok(found) => found,
        Err(e) => {
            eprintln!("cannot find the fixtures: {e}");
            std::process::exit(101);
        }
    };
    let mut trials = Vec::new();
    for (name, implementation) in
        sockspec::registry::all(&root.join(sockspec::registry::DEFAULT_DRIVERS))
    {
        let implementation = match implementation {
            Ok(implementation) => implementation,
            Err(message) => {
                // A driver that cannot start fails one test that says why, not one per fixture.
                trials.push(Trial::test(format!("{name}::handshake"), move || {
                    Err(Failed::from(message))
                }));
                continue;
            }
        };
        for file in &found {
            let name = format!(
                "{}::{}",
                implementation.name(),
                file.id.replace('/', "::").replace('-', "_")
            );
            let trial = match load(file, &requirements) {
                Ok(scenario) => {
                    let unsupported =
                        unsupported_reason(&scenario, implementation.as_ref()).is_some();
                    let implementation = implementation.clone();
                    Trial::test(name, move || {
                        let result = run_scenario(
                            &scenario,
                            implementation.as_ref(),
                            &RunOptions::default(),
                        );
                        match result.status {
                            Status::Pass => Ok(()),
                            _ => Err(Failed::from(format!(
                                "[{}] {}",
                                result.status,
                                result.explanation()
                            ))),
                        }
                    })
                    .with_ignored_flag(unsupported)
                }
                Err(errors) => {
                    let message = errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n");
                    Trial::test(name, move || Err(Failed::from(message)))
                }
            };
            trials.push(trial);
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
