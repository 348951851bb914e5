//! File-system steps leave nothing behind: a scenario that takes write, search or all
//! permission off directories it made (with files, links and socket files inside) has its
//! temporary directory removed all the same, whether it passes or fails, and whether the runner
//! has root's power to ignore permissions or not (a thread without capabilities, like an
//! ordinary user's process).
//!
//! A file of its own: it points TMPDIR at a fresh directory to watch.

use sockspec::requirements::Requirements;
use sockspec::runner::{run_scenario, RunOptions, Status};
use sockspec::scenario::{discover, load, Scenario};
use std::path::{Path, PathBuf};

fn scenario(root: &Path, requirements: &Requirements, path: &str) -> Scenario {
    let file = discover(&[root.join(path)]).unwrap();
    load(&file[0], requirements).unwrap()
}

fn run_all(scenarios: &[(Scenario, Status)]) {
    for (scenario, status) in scenarios {
        let result = run_scenario(
            scenario,
            &sockspec::reference::Reference,
            &RunOptions::default(),
        );
        assert_eq!(result.status, *status, "{}", result.explanation());
    }
}

#[test]
fn locked_directories_are_removed_with_and_without_privileges() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().unwrap();
    // The runner's temporary directories go where TMPDIR says; watch a fresh one.
    std::env::set_var("TMPDIR", scratch.path());
    let requirements = Requirements::load(&root.join("tests/data/spec")).unwrap();
    let scenarios = vec![
        (
            scenario(
                &root,
                &requirements,
                "tests/data/fs/locked-directories.yaml",
            ),
            Status::Pass,
        ),
        (
            scenario(
                &root,
                &requirements,
                "tests/data/failing/fs-locked-then-fails.yaml",
            ),
            Status::Fail,
        ),
    ];

    run_all(&scenarios);
    let left: Vec<_> = std::fs::read_dir(scratch.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind with privileges: {left:?}");

    // The scenario's directory is made and removed on the thread that runs it, and its actors'
    // threads inherit that thread's (lack of) capabilities.
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                sockspec::implementation::privileges::drop_for_this_thread().unwrap();
                run_all(&scenarios);
            })
            .join()
            .unwrap();
    });
    let left: Vec<_> = std::fs::read_dir(scratch.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind without privileges: {left:?}");
}
