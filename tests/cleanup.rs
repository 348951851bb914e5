//! Nothing leaks: after a scenario that times out with calls blocked in two actors, the process
//! has the same open file descriptors and threads as before, and the temporary directory (with
//! its socket file) is gone.
//!
//! This file holds one test so that no other test's sockets or threads are counted.

use sockspec::requirements::Requirements;
use sockspec::runner::{run_scenario, RunOptions, Status};
use sockspec::scenario::{discover, load};
use std::path::PathBuf;

fn count(dir: &str) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn a_timed_out_scenario_leaves_no_descriptors_threads_or_files() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().unwrap();
    // The runner's temporary directories go where TMPDIR says; watch a fresh one.
    std::env::set_var("TMPDIR", scratch.path());
    let requirements = Requirements::load(&root.join("tests/data/spec")).unwrap();
    let file = discover(&[root.join("tests/data/failing/accept-without-client.yaml")]).unwrap();
    let scenario = load(&file[0], &requirements).unwrap();

    let (fds, threads) = (count("/proc/self/fd"), count("/proc/self/task"));
    for _ in 0..3 {
        let result = run_scenario(
            &scenario,
            &sockspec::reference::Reference,
            &RunOptions::default(),
        );
        assert_eq!(result.status, Status::Timeout, "{}", result.explanation());
    }
    assert_eq!(count("/proc/self/fd"), fds, "file descriptors leaked");
    assert_eq!(count("/proc/self/task"), threads, "threads leaked");
    assert_eq!(
        std::fs::read_dir(scratch.path()).unwrap().count(),
        0,
        "temporary files left behind"
    );
}
