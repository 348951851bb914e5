//! A driver's further processes start as its first ended up started, without the launcher in
//! front of it (`tests/drivers/launcher.sh` stands for pyenv's shim and notes each start); with
//! remembered handshakes (`sockspec::driver::remember_handshakes`, what the conformance tests
//! turn on under nextest), a driver whose `hello` this run already saw starts no process to
//! learn it again; and a process that answers `hello` otherwise than remembered is refused.
//!
//! A file of its own: the memory is set once per process, for the whole process.

use sockspec::driver::{remember_handshakes, Driver};
use sockspec::implementation::Implementation;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

mod common;
use common::{assert_all_gone, counted, pids, root};

/// The memory's file, in a directory that lives as long as this test process, and a guard that
/// keeps the tests, which share it, from running at once.
fn memory() -> (PathBuf, MutexGuard<'static, ()>) {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let file = DIR
        .get_or_init(|| tempfile::tempdir().unwrap())
        .path()
        .join("handshakes.json");
    remember_handshakes(&file, "run-1");
    (file, guard)
}

/// Waits, bounded, until the launcher has noted `count` starts and each driver it became has
/// logged its pid (a process started beside the handshake's may still be starting when the
/// handshake is done).
fn settled(dir: &Path, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (processes, launches) = (pids(&dir.join("pids")), pids(&dir.join("launches")));
        if launches.len() >= count && processes.len() >= launches.len() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{launches:?} launched, {processes:?} started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `counted.py` with `reset`, logging its processes to `dir/pids`, behind the launcher, which
/// logs its starts to `dir/launches`.
fn command(dir: &Path) -> String {
    format!(
        "sh tests/drivers/launcher.sh {} {}",
        dir.join("launches").display(),
        counted(&dir.join("pids"), "reset")
    )
}

#[test]
fn further_processes_start_without_the_launcher_and_a_remembered_handshake_starts_none() {
    let (_file, _one_at_a_time) = memory();
    let dir = tempfile::tempdir().unwrap();
    let (processes, launches) = (dir.path().join("pids"), dir.path().join("launches"));
    let command = command(dir.path());

    let first = Driver::start_in("counted", &command, Some(&root())).unwrap();
    // The handshake's process and the one started beside it came through the launcher.
    settled(dir.path(), 2);
    assert_eq!(pids(&processes).len(), 2, "{:?}", pids(&processes));
    assert_eq!(pids(&launches).len(), 2);
    // Three sessions at once: the handshake's warm process, the one beside it, and a new one,
    // started directly.
    let sessions = [
        first.open_session().unwrap(),
        first.open_session().unwrap(),
        first.open_session().unwrap(),
    ];
    assert_eq!(pids(&processes).len(), 3, "{:?}", pids(&processes));
    assert_eq!(
        pids(&launches).len(),
        2,
        "the third process started through the launcher again"
    );
    for session in sessions {
        session.end().unwrap();
    }
    first.shut_down();
    drop(first);

    let second = Driver::start_in("counted", &command, Some(&root())).unwrap();
    assert_eq!(
        pids(&processes).len(),
        3,
        "a remembered handshake started a process"
    );
    assert_eq!(second.hello().name, "cpython");
    let session = second.open_session().unwrap();
    assert_eq!(pids(&processes).len(), 4);
    assert_eq!(
        pids(&launches).len(),
        2,
        "the remembered driver's process started through the launcher"
    );
    session.end().unwrap();
    drop(session);
    second.shut_down();
    drop(second);
    assert_all_gone(&pids(&processes));
}

#[test]
fn a_process_that_answers_hello_otherwise_than_remembered_is_refused() {
    let (file, _one_at_a_time) = memory();
    let dir = tempfile::tempdir().unwrap();
    let command = command(dir.path());
    drop(Driver::start_in("counted", &command, Some(&root())).unwrap());
    // This driver's record now says another name than the driver gives (the other test's
    // record, in the same file, is left as it is).
    let mut records: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let ours = records["drivers"]
        .as_object_mut()
        .unwrap()
        .iter_mut()
        .find(|(key, _)| key.contains(&*dir.path().to_string_lossy()))
        .expect("the first start was remembered")
        .1;
    assert_eq!(ours["hello"]["name"], "cpython");
    ours["hello"]["name"] = "not-cpython".into();
    std::fs::write(&file, records.to_string()).unwrap();

    let second = Driver::start_in("counted", &command, Some(&root())).unwrap();
    assert_eq!(second.hello().name, "not-cpython");
    let refused = second.open_session().err().expect("the session was opened");
    assert!(
        refused.reason.contains("answered `hello` differently"),
        "{refused}"
    );
    drop(second);
    assert_all_gone(&pids(&dir.path().join("pids")));
}
