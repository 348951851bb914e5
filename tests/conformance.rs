//! Every fixture against every implementation, each its own test:
//! `reference::tcp::server::bind_port_in_use_by_listener` runs
//! `fixtures/tcp/server/bind-port-in-use-by-listener.yaml`
//! against the reference implementation; `std::…`, `python::…` and `node::…` against the others
//! (a driver whose program is not installed, such as `node`, is skipped with a message).
//!
//! The trials are [`sockspec::harness`]'s, the harness any Rust implementation uses in its own
//! crate, here given the checkout's suite (so fixtures are found when the test binary runs, and
//! a new YAML file is a new test with no rebuild) and each implementation's
//! `expectations/NAME.yaml`. What each status becomes is in that module's documentation: a known
//! deviation passes, a stale entry fails, a fixture that does not load fails with every error at
//! its position, and an unsupported scenario is an ignored test (`--include-ignored` says why).
//!
//! A process that runs one test (`--exact NAME`, what `cargo nextest run` starts for each test)
//! starts only that test's implementation and loads only that test's fixture; under nextest, a
//! driver's handshake is made once per run ([`sockspec::driver::remember_handshakes`]).

use libtest_mimic::{Arguments, Failed, Trial};
use sockspec::harness::Harness;
use sockspec::runner::RunOptions;
use sockspec::suite::Suite;
use std::path::Path;
use std::sync::Arc;

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // nextest runs each test in a process of its own: after the run's first, a driver starts
    // no process for its handshake, and its actors' processes start as the first ended up
    // started, not through pyenv's shim.
    if let Ok(run) = std::env::var("NEXTEST_RUN_ID") {
        let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sockspec-handshakes.json");
        sockspec::driver::remember_handshakes(file, run);
    }
    let drivers = root.join(sockspec::registry::DEFAULT_DRIVERS);
    let mut trials = Vec::new();
    for name in sockspec::registry::names(&drivers) {
        // A process that runs one test (`--exact NAME`, as `cargo nextest run` starts each)
        // starts no driver but that test's: a driver's handshake costs a process start.
        if args.exact
            && args
                .filter
                .as_ref()
                .is_some_and(|f| !f.starts_with(&format!("{name}::")))
        {
            continue;
        }
        let implementation = match sockspec::registry::resolve(&name, &drivers) {
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
        let harness = Harness::shared(Arc::clone(&implementation))
            .suite(Suite::Dir(root.to_path_buf()))
            .suite_expectations()
            .prefix(&name);
        // A scenario with environment actors runs a second time with every actor on the
        // implementation (`--all-actors`, the `NAME::all_actors::…` tests), so marking an actor
        // `environment` never takes away what the implementation's own run of it checked.
        let all_actors = Harness::shared(implementation)
            .suite(Suite::Dir(root.to_path_buf()))
            .suite_expectations()
            .prefix(format!("{name}::all_actors"))
            .options(RunOptions {
                environment_on_reference: false,
                ..RunOptions::default()
            })
            .select(|scenario| !scenario.environment.is_empty());
        for harness in [harness, all_actors] {
            match harness.trials_matching(&args) {
                Ok(made) => trials.extend(made),
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(101);
                }
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
