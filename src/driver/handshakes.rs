//! Drivers' `hello` replies, remembered across the processes of one test run.
//!
//! `cargo nextest run` runs each test in a process of its own, and each would start its driver
//! afresh: a process only to learn what the driver supports (its handshake), before the test's
//! actors start theirs, and each through `/bin/sh` and whatever launcher stands in front of the
//! program (pyenv's `python3` shim is a tree of about twenty bash processes, some 70 ms of CPU
//! against 9 ms for the interpreter itself). A test binary that calls [`remember_handshakes`]
//! keeps each driver's `hello` reply in a file, tagged with the run it belongs to (nextest's
//! `NEXTEST_RUN_ID`), with how to start the driver directly when its first process could be
//! (see [`relaunch`](super::relaunch); the environment is kept as the variables the launchers
//! changed, not the whole of it). A later process of the same run then starts no process for
//! the handshake: its actors' processes start when the scenario opens them, side by side,
//! directly when they can (what was checked of the first process's start, against the thread
//! that started it, is then taken to hold for this process's threads: the same test binary,
//! run the same way by the same runner), and each must answer `hello` exactly as remembered
//! (every process is held to its driver's first reply anyway). A record of another run is never
//! used, so a changed interpreter or `PATH` between runs cannot be picked up stale. The file is
//! one per directory, replaced whole, and holds one entry per driver command.

use super::relaunch::Relaunch;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The file the records are in, and the run they must belong to.
struct Memory {
    file: PathBuf,
    run: String,
}

static MEMORY: OnceLock<Memory> = OnceLock::new();

/// The file's content.
#[derive(Default, Deserialize, Serialize)]
struct Records {
    /// The run the replies were learnt in.
    run: String,
    /// What each driver command's first process said and was, by [`key`].
    drivers: BTreeMap<String, Remembered>,
}

/// One driver command's record.
#[derive(Clone, PartialEq, Deserialize, Serialize)]
struct Remembered {
    /// Its `hello` reply (the `ok` value).
    hello: Value,
    /// How to start it directly, if its first process could be.
    relaunch: Option<Relaunch>,
}

/// Makes every driver started from now on in this process remember, in `file`, its `hello`
/// reply, for the processes of the same `run` (any text that names one run of the test suite,
/// such as `NEXTEST_RUN_ID`), and start from such a record when there is one: no process for the
/// handshake, and the driver's further processes directly when its first could be started so
/// (see [`relaunch`](super::relaunch)). Only the first call has an effect.
///
/// ```no_run
/// if let Ok(run) = std::env::var("NEXTEST_RUN_ID") {
///     sockspec::driver::remember_handshakes("target/tmp/sockspec-handshakes.json", run);
/// }
/// ```
pub fn remember_handshakes(file: impl Into<PathBuf>, run: impl Into<String>) {
    let _ = MEMORY.set(Memory {
        file: file.into(),
        run: run.into(),
    });
}

/// The same command finds another program from another directory or under another `PATH`.
fn key(command: &str, dir: Option<&Path>) -> String {
    let dir = super::directory(dir);
    let path = std::env::var("PATH").unwrap_or_default();
    format!("{command}\n{}\n{path}", dir.display())
}

fn read(memory: &Memory) -> Option<Records> {
    let text = std::fs::read_to_string(&memory.file).ok()?;
    serde_json::from_str::<Records>(&text)
        .ok()
        .filter(|records| records.run == memory.run)
}

/// The `hello` reply `command`, run from `dir`, gave earlier in this run, and how to start it
/// directly, if any.
pub(crate) fn recalled(command: &str, dir: Option<&Path>) -> Option<(Value, Option<Relaunch>)> {
    let memory = MEMORY.get()?;
    let remembered = read(memory)?.drivers.remove(&key(command, dir))?;
    Some((remembered.hello, remembered.relaunch))
}

/// Records that `command`, run from `dir`, answered `hello` with `reply`, and could be started
/// again as `relaunch` says. Best effort: a record that cannot be written only means that the
/// next process does the handshake itself. Processes writing at once each replace the file whole
/// (written aside, then renamed), so a reader never sees half of one; an entry lost to a
/// concurrent writer is learnt again.
pub(crate) fn remember(
    command: &str,
    dir: Option<&Path>,
    reply: &Value,
    relaunch: Option<&Relaunch>,
) {
    let Some(memory) = MEMORY.get() else { return };
    let mut records = read(memory).unwrap_or_else(|| Records {
        run: memory.run.clone(),
        drivers: BTreeMap::new(),
    });
    let key = key(command, dir);
    let remembered = Remembered {
        hello: reply.clone(),
        relaunch: relaunch.cloned(),
    };
    if records.drivers.get(&key) == Some(&remembered) {
        return;
    }
    records.drivers.insert(key, remembered);
    let Ok(text) = serde_json::to_string(&records) else {
        return;
    };
    // Written aside (a file of its own for every writer, readable by its owner only: the
    // environment variables launchers set are in it), then renamed over the record.
    let Some(parent) = memory.file.parent() else {
        return;
    };
    let _ = std::fs::create_dir_all(parent);
    let Ok(mut aside) = tempfile::NamedTempFile::new_in(parent) else {
        return;
    };
    use std::io::Write;
    if aside.write_all(text.as_bytes()).is_ok() {
        let _ = aside.persist(&memory.file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_of_another_run_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("handshakes.json");
        let written = Records {
            run: "old".to_string(),
            drivers: BTreeMap::from([(
                key("x", None),
                Remembered {
                    hello: json!({"name": "x"}),
                    relaunch: None,
                },
            )]),
        };
        std::fs::write(&file, serde_json::to_string(&written).unwrap()).unwrap();
        let memory = Memory {
            file: file.clone(),
            run: "new".to_string(),
        };
        assert!(read(&memory).is_none());
        let memory = Memory {
            file,
            run: "old".to_string(),
        };
        assert_eq!(
            read(&memory).unwrap().drivers[&key("x", None)].hello,
            json!({"name": "x"})
        );
    }
}
