//! Remembered handshakes (`sockspec::driver::remember_handshakes`, what the conformance tests
//! turn on under nextest): a driver whose `hello` this run already saw starts no process to
//! learn it again, its sessions' processes start from the program it declared (`exec`), not
//! through its command, and a process that answers `hello` otherwise than remembered is refused.
//!
//! A file of its own: the memory is set once per process, for the whole process.

use sockspec::driver::{remember_handshakes, Driver};
use sockspec::implementation::Implementation;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

mod common;
use common::{assert_all_gone, counted, counted_lines, pids, root};

/// The memory's file, in a directory that lives as long as this test process.
fn memory() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    let file = dir.path().join("handshakes.json");
    remember_handshakes(&file, "run-1");
    // Leaked on purpose: the OnceLock keeps the directory for the process's life.
    Box::leak(file.into_boxed_path())
}

/// `counted.py` with `reset`, logging to `log`, marked as started through its command.
fn command(log: &Path) -> String {
    format!("COUNTED_VIA=command {}", counted(log, "reset"))
}

fn log_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("pids")
}

#[test]
fn a_remembered_handshake_starts_no_process_and_sessions_start_from_the_declared_exec() {
    memory();
    let dir = tempfile::tempdir().unwrap();
    let log = log_in(&dir);
    let command = command(&log);

    let first = Driver::start_in("counted", &command, Some(&root())).unwrap();
    assert!(
        first.hello().exec.is_some(),
        "the CPython driver declares exec"
    );
    first.shut_down();
    drop(first);
    let learnt = counted_lines(&log);
    assert!(!learnt.is_empty());
    assert!(
        learnt.iter().all(|(_, via)| via == "command"),
        "the run's first start is through the command: {learnt:?}"
    );

    let second = Driver::start_in("counted", &command, Some(&root())).unwrap();
    assert_eq!(
        counted_lines(&log).len(),
        learnt.len(),
        "a remembered handshake started a process"
    );
    assert_eq!(second.hello().name, "cpython");
    let session = second.open_session().unwrap();
    let started = counted_lines(&log);
    assert_eq!(started.len(), learnt.len() + 1, "{started:?}");
    assert_eq!(
        started.last().unwrap().1,
        "exec",
        "the session's process did not start from the declared program"
    );
    session.end().unwrap();
    drop(session);
    second.shut_down();
    drop(second);
    assert_all_gone(&pids(&log));
}

#[test]
fn a_process_that_answers_hello_otherwise_than_remembered_is_refused() {
    let file = memory();
    let dir = tempfile::tempdir().unwrap();
    let log = log_in(&dir);
    let command = command(&log);
    let first = Driver::start_in("counted", &command, Some(&root())).unwrap();
    drop(first);
    // This driver's record now says another name than the driver gives (the other test's
    // record, in the same file, is left as it is).
    let mut records: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let ours = records["replies"]
        .as_object_mut()
        .unwrap()
        .iter_mut()
        .find(|(key, _)| key.contains(&*log.to_string_lossy()))
        .expect("the first start was remembered")
        .1;
    assert_eq!(ours["name"], "cpython");
    ours["name"] = "not-cpython".into();
    std::fs::write(file, records.to_string()).unwrap();

    let second = Driver::start_in("counted", &command, Some(&root())).unwrap();
    assert_eq!(second.hello().name, "not-cpython");
    let refused = second.open_session().err().expect("the session was opened");
    assert!(
        refused.reason.contains("answered `hello` differently"),
        "{refused}"
    );
    drop(second);
    assert_all_gone(&pids(&log));
}
