//! Every fixture against every implementation, each its own test:
//! `reference::tcp::server::bind_port_in_use_by_listener` runs
//! `fixtures/tcp/server/bind-port-in-use-by-listener.yaml`
//! against the reference implementation; `std::…`, `python::…` and `node::…` against the others
//! (a driver whose program is not installed, such as `node`, is skipped with a message).
//!
//! Fixtures are found when the test binary runs, so a new YAML file is a new test with no
//! rebuild. A fixture that does not load is a failing test that prints every error with its
//! position. Each implementation's `expectations/NAME.yaml` applies: a known deviation passes as
//! an expected failure, a listed scenario that passes fails (the entry is stale), and `skip`
//! entries are ignored tests. A scenario the implementation declares it cannot express is an
//! ignored test; one it finds it cannot express while running passes (libtest cannot turn a
//! running test into an ignored one; `sockspec run --impl NAME` shows those as `UNSUPP`, with why).

use libtest_mimic::{Arguments, Failed, Trial};
use sockspec::expectations::Expectations;
use sockspec::requirements::Requirements;
use sockspec::runner::{run_scenario, unsupported_reason_with, RunOptions, Status};
use sockspec::scenario::{discover, load, LoadError};
use std::path::Path;
use std::sync::Arc;

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fail = |what: String| -> ! {
        eprintln!("{what}");
        std::process::exit(101);
    };
    let requirements = Requirements::load(&root.join("spec"))
        .unwrap_or_else(|e| fail(format!("cannot load the spec: {e}")));
    let found = discover(&[root.join("fixtures")])
        .unwrap_or_else(|e| fail(format!("cannot find the fixtures: {e}")));
    let mut trials = Vec::new();
    for (name, implementation) in
        sockspec::registry::all(&root.join(sockspec::registry::DEFAULT_DRIVERS))
    {
        let implementation = match implementation {
            Ok(implementation) => implementation,
            Err(message) => {
                // A driver whose program is not installed (`node` on a machine without Node.js)
                // is skipped, saying so; `.ci/run` installs what it can.
                if let Some(program) = missing_program(root, &name) {
                    eprintln!(
                        "skipped: the `{name}` driver's fixtures (`{program}` is not installed)"
                    );
                    trials.push(
                        Trial::test(format!("{name}::not_installed"), || Ok(()))
                            .with_ignored_flag(true),
                    );
                    continue;
                }
                // A driver that cannot start fails one test that says why, not one per fixture.
                trials.push(Trial::test(format!("{name}::handshake"), move || {
                    Err(Failed::from(message))
                }));
                continue;
            }
        };
        let expectations = Expectations::load(&root.join(Expectations::default_path(&name)), &name)
            .unwrap_or_else(|e| fail(e.to_string()));
        let expectations = Arc::new(expectations);
        // A scenario with environment actors runs twice: as `sockspec run` places its actors
        // (environment actors on the reference), and with every actor on the implementation
        // (`--all-actors`, the `NAME::all_actors::…` tests), so marking an actor `environment`
        // never takes away what the implementation's own run of it checked.
        let placements = [
            ("", RunOptions::default()),
            (
                "all_actors::",
                RunOptions {
                    environment_on_reference: false,
                    ..RunOptions::default()
                },
            ),
        ];
        for file in &found {
            for (prefix, options) in &placements {
                let test = format!(
                    "{name}::{prefix}{}",
                    file.id.replace('/', "::").replace('-', "_")
                );
                let trial = match load(file, &requirements) {
                    Ok(scenario) if !prefix.is_empty() && scenario.environment.is_empty() => {
                        continue
                    }
                    Ok(scenario) => {
                        let ignored =
                            unsupported_reason_with(&scenario, implementation.as_ref(), options)
                                .is_some()
                                || expectations.skip(&scenario.id).is_some();
                        let implementation = implementation.clone();
                        let expectations = Arc::clone(&expectations);
                        let options = options.clone();
                        Trial::test(test, move || {
                            let mut result =
                                run_scenario(&scenario, implementation.as_ref(), &options);
                            expectations.apply(&mut result);
                            match result.status {
                                Status::Pass
                                | Status::ExpectedFail
                                | Status::Unsupported
                                | Status::Skip => Ok(()),
                                _ => Err(Failed::from(format!(
                                    "[{}] {}",
                                    result.status,
                                    result.explanation()
                                ))),
                            }
                        })
                        .with_ignored_flag(ignored)
                    }
                    // A file that does not load fails once, in the default placement.
                    Err(_) if !prefix.is_empty() => continue,
                    Err(errors) => {
                        let message = LoadError::lines(&errors);
                        Trial::test(test, move || Err(Failed::from(message)))
                    }
                };
                trials.push(trial);
            }
        }
    }
    // Run, then drop the trials (and with them the drivers, whose warm processes are then sent
    // `bye`) before exiting.
    let conclusion = libtest_mimic::run(&args, trials);
    conclusion.exit();
}

/// The program a configured driver's command starts (its first word), when it is not found on
/// `PATH`.
fn missing_program(root: &Path, name: &str) -> Option<String> {
    let config =
        sockspec::driver::load_config(&root.join(sockspec::registry::DEFAULT_DRIVERS)).ok()?;
    let program = config
        .get(name)?
        .command
        .split_whitespace()
        .next()?
        .to_string();
    if program.contains('/') {
        return (!root.join(&program).exists()).then_some(program);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path).any(|dir| dir.join(&program).is_file());
    (!found).then_some(program)
}
