//! Drivers' `hello` replies, remembered across the processes of one test run.
//!
//! `cargo nextest run` runs each test in a process of its own, and each would start its driver
//! afresh: a process only to learn what the driver supports (its handshake), before the test's
//! actors start theirs, and each through `/bin/sh` and whatever launcher stands in front of the
//! program (pyenv's `python3` shim is a tree of about twenty bash processes, some 70 ms of CPU
//! against 9 ms for the interpreter itself). A test binary that calls [`remember_handshakes`]
//! keeps each driver's `hello` reply in a file, tagged with the run it belongs to (nextest's
//! `NEXTEST_RUN_ID`). A later process of the same run then starts no process for the handshake:
//! its actors' processes start when the scenario opens them, side by side, from the program the
//! driver declared (`exec`, driver-protocol.md §3) when it declared one, and each must answer
//! `hello` exactly as remembered (every process is held to its driver's first reply anyway). A
//! record of another run is never used, so a changed interpreter or `PATH` between runs cannot
//! be picked up stale. The file is one per directory, replaced whole, and holds one entry per
//! driver command.

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
    /// Each driver command's `hello` reply (its `ok` value), by [`key`].
    replies: BTreeMap<String, Value>,
}

/// Makes every driver started from now on in this process remember, in `file`, its `hello`
/// reply, for the processes of the same `run` (any text that names one run of the test suite,
/// such as `NEXTEST_RUN_ID`), and start from such a record when there is one: no process for the
/// handshake, and the driver's further processes from the program it declared. Only the first
/// call has an effect.
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
    let dir = dir.map_or_else(
        || std::env::current_dir().unwrap_or_default(),
        Path::to_path_buf,
    );
    let path = std::env::var("PATH").unwrap_or_default();
    format!("{command}\n{}\n{path}", dir.display())
}

fn read(memory: &Memory) -> Option<Records> {
    let text = std::fs::read_to_string(&memory.file).ok()?;
    serde_json::from_str::<Records>(&text)
        .ok()
        .filter(|records| records.run == memory.run)
}

/// The `hello` reply `command`, run from `dir`, gave earlier in this run, if any.
pub(crate) fn recalled(command: &str, dir: Option<&Path>) -> Option<Value> {
    let memory = MEMORY.get()?;
    read(memory)?.replies.remove(&key(command, dir))
}

/// Records that `command`, run from `dir`, answered `hello` with `reply`. Best effort: a record
/// that cannot be written only means that the next process does the handshake itself. Processes
/// writing at once each replace the file whole (written aside, then renamed), so a reader never
/// sees half of one; an entry lost to a concurrent writer is learnt again.
pub(crate) fn remember(command: &str, dir: Option<&Path>, reply: &Value) {
    let Some(memory) = MEMORY.get() else { return };
    let mut records = read(memory).unwrap_or_else(|| Records {
        run: memory.run.clone(),
        replies: BTreeMap::new(),
    });
    let key = key(command, dir);
    if records.replies.get(&key) == Some(reply) {
        return;
    }
    records.replies.insert(key, reply.clone());
    let Ok(text) = serde_json::to_string(&records) else {
        return;
    };
    let aside = memory
        .file
        .with_extension(format!("{}.partial", std::process::id()));
    if let Some(parent) = memory.file.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    if std::fs::write(&aside, text).is_err() || std::fs::rename(&aside, &memory.file).is_err() {
        let _ = std::fs::remove_file(&aside);
    }
}

/// Checks a declared `exec`: a program given by its absolute path (it runs without a shell,
/// from the driver's directory, so a bare name or a relative path would depend on both), then
/// its arguments.
pub(crate) fn check_declared(argv: &[String]) -> Result<(), String> {
    match argv.first() {
        None => Err(
            "its hello declares an empty `exec`: name the program, then its arguments".to_string(),
        ),
        Some(program) if !Path::new(program).is_absolute() => Err(format!(
            "its hello declares `exec` with the program `{program}`, which is not an absolute \
             path: the runner starts it directly, without a shell or PATH"
        )),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_exec_must_start_with_an_absolute_program() {
        assert!(check_declared(&[]).unwrap_err().contains("empty"));
        let relative = check_declared(&["python3".to_string()]).unwrap_err();
        assert!(relative.contains("`python3`"), "{relative}");
        assert!(check_declared(&["/usr/bin/python3".to_string(), "-I".to_string()]).is_ok());
    }

    #[test]
    fn records_of_another_run_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("handshakes.json");
        let written = Records {
            run: "old".to_string(),
            replies: BTreeMap::from([(key("x", None), json!({"name": "x"}))]),
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
            read(&memory).unwrap().replies[&key("x", None)],
            json!({"name": "x"})
        );
    }
}
