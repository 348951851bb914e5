//! One driver process: requests out on stdin, replies in on stdout, stderr kept for diagnostics.

use crate::vocab::{ErrorCode, SockError};
use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How many of the driver's last stderr lines a diagnostic shows.
const STDERR_LINES: usize = 20;

/// How long a driver may take to answer `bye` before it is killed.
const BYE_GRACE: Duration = Duration::from_secs(2);

struct Io {
    stdin: Option<ChildStdin>,
    replies: Receiver<String>,
    seq: u64,
}

/// A running driver.
pub(crate) struct DriverProcess {
    name: String,
    child: Mutex<Child>,
    io: Mutex<Io>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    readers: Mutex<Vec<JoinHandle<()>>>,
    /// Receives once the driver's stderr has reached its end (the process exited).
    stderr_ended: Mutex<mpsc::Receiver<()>>,
    killed: AtomicBool,
}

/// How long a driver that closed its stdout gets to finish exiting, so that the error can name
/// its exit status and the last lines of its stderr.
const EXIT_GRACE: Duration = Duration::from_secs(2);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl DriverProcess {
    /// Starts `command` with `/bin/sh -c`, in a process group of its own so that killing it kills
    /// everything it started.
    pub fn spawn(name: &str, command: &str) -> Result<DriverProcess, String> {
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start `{command}`: {e}"))?;
        let (stdin, stdout, stderr) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let (Some(stdin), Some(stdout), Some(stderr)) = (stdin, stdout, stderr) else {
            return Err("the driver's pipes were not created".to_string());
        };
        let (sender, replies) = mpsc::channel();
        let stdout_reader = std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout);
            loop {
                let mut line = String::new();
                match lines.read_line(&mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if sender.send(line).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let stderr_tail = Arc::clone(&tail);
        let (ended, stderr_ended) = mpsc::channel();
        let stderr_reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let mut stderr = stderr;
            let mut chunk = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                bytes.extend_from_slice(&chunk[..n]);
                while let Some(end) = bytes.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = bytes.drain(..=end).collect();
                    let mut tail = lock(&stderr_tail);
                    tail.push_back(String::from_utf8_lossy(&line).trim_end().to_string());
                    if tail.len() > STDERR_LINES {
                        tail.pop_front();
                    }
                }
            }
            if !bytes.is_empty() {
                lock(&stderr_tail).push_back(String::from_utf8_lossy(&bytes).into_owned());
            }
            let _ = ended.send(());
        });
        Ok(DriverProcess {
            name: name.to_string(),
            child: Mutex::new(child),
            io: Mutex::new(Io {
                stdin: Some(stdin),
                replies,
                seq: 0,
            }),
            stderr: tail,
            readers: Mutex::new(vec![stdout_reader, stderr_reader]),
            stderr_ended: Mutex::new(stderr_ended),
            killed: AtomicBool::new(false),
        })
    }

    /// Sends one request and waits for its reply: `Ok(ok)` or the error the driver reported.
    /// A driver that crashes, is killed or answers garbage gives [`ErrorCode::Broken`].
    pub fn request(&self, op: &str, fields: Value) -> Result<Value, SockError> {
        self.exchange(op, fields, None)
    }

    fn exchange(
        &self,
        op: &str,
        fields: Value,
        wait: Option<Duration>,
    ) -> Result<Value, SockError> {
        let mut io = lock(&self.io);
        let seq = io.seq;
        io.seq += 1;
        let mut message = Map::new();
        message.insert("seq".into(), json!(seq));
        message.insert("op".into(), json!(op));
        if let Value::Object(fields) = fields {
            message.extend(fields);
        }
        let mut line = Value::Object(message).to_string();
        line.push('\n');
        let written = match io.stdin.as_mut() {
            Some(stdin) => stdin
                .write_all(line.as_bytes())
                .and_then(|()| stdin.flush()),
            None => Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe)),
        };
        if written.is_err() {
            self.settle();
            return Err(self.broken(&format!("stopped reading requests before `{op}`")));
        }
        let reply = match wait {
            None => io
                .replies
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
            Some(limit) => io.replies.recv_timeout(limit),
        };
        let reply = match reply {
            Ok(reply) => reply,
            Err(RecvTimeoutError::Timeout) => return Err(self.broken(&format!("did not answer `{op}`"))),
            Err(RecvTimeoutError::Disconnected) if self.killed.load(Ordering::SeqCst) => {
                return Err(SockError {
                    code: ErrorCode::Broken,
                    message: format!("driver `{}` was stopped during `{op}` (the watchdog kills a driver to end a call)", self.name),
                })
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.settle();
                return Err(self.broken(&format!("exited without answering `{op}`")))
            }
        };
        parse_reply(&reply, seq)
            .map_err(|problem| self.broken(&format!("answered `{op}` with {problem}")))?
    }

    /// `bye`, then waits (bounded) for the process to exit; says what went wrong, if anything.
    pub fn goodbye(&self) -> Result<(), String> {
        match self.exchange("bye", json!({}), Some(BYE_GRACE)) {
            Ok(serde_json::Value::Null) => {}
            Ok(other) => return Err(format!("`bye` was answered with {other}, not null")),
            Err(e) => return Err(e.message),
        }
        lock(&self.io).stdin.take();
        // The reply came; the exit follows at once from a correct driver. Wait for it on a
        // thread so that a driver that lingers is reported, not waited for forever.
        let (sender, receiver) = mpsc::channel();
        let pid = lock(&self.child).id();
        std::thread::spawn(move || {
            let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid as i32), None);
            let _ = sender.send(status);
        });
        match receiver.recv_timeout(BYE_GRACE) {
            Ok(Ok(nix::sys::wait::WaitStatus::Exited(_, 0))) => Ok(()),
            Ok(Ok(status)) => Err(format!("it exited with {status:?}")),
            Ok(Err(e)) => Err(format!("cannot tell how it exited: {e}")),
            Err(_) => Err(format!(
                "it was still running {BYE_GRACE:?} after answering `bye`"
            )),
        }
    }

    /// Says goodbye, and makes sure the process is gone (killing it if it does not leave).
    pub fn finish(&self) {
        if !self.killed.load(Ordering::SeqCst) {
            let _ = self.exchange("bye", json!({}), Some(BYE_GRACE));
        }
        lock(&self.io).stdin.take();
        let exited = matches!(lock(&self.child).try_wait(), Ok(Some(_)));
        if !exited {
            self.kill();
        }
        let _ = lock(&self.child).wait();
        for reader in lock(&self.readers).drain(..) {
            let _ = reader.join();
        }
    }

    /// Kills the process group at once (the watchdog's way of ending a blocked call).
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        let pid = lock(&self.child).id() as i32;
        // The negative pid names the process group the driver leads.
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(-pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }

    /// A [`ErrorCode::Broken`] error saying what the driver did, with its exit status and last
    /// stderr lines.
    /// Waits (at most [`EXIT_GRACE`]) for a driver that closed its stdout to finish exiting:
    /// its stderr to end and its exit status to be there. The standard library has no wait with
    /// a time limit, so the status is polled until the deadline.
    fn settle(&self) {
        let deadline = std::time::Instant::now() + EXIT_GRACE;
        let _ = lock(&self.stderr_ended).recv_timeout(EXIT_GRACE);
        while std::time::Instant::now() < deadline {
            if !matches!(lock(&self.child).try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The error for a driver that stopped working: what it did, its exit status if it has
    /// exited, and the last lines of its stderr.
    fn broken(&self, what: &str) -> SockError {
        let status = match lock(&self.child).try_wait() {
            Ok(Some(status)) => format!(" ({status})"),
            _ => String::new(),
        };
        let tail: Vec<String> = lock(&self.stderr).iter().cloned().collect();
        let stderr = if tail.is_empty() {
            String::new()
        } else {
            format!("; its stderr ends:\n    {}", tail.join("\n    "))
        };
        SockError {
            code: ErrorCode::Broken,
            message: format!("driver `{}` {what}{status}{stderr}", self.name),
        }
    }
}

impl Drop for DriverProcess {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The `ok` value or the reported error of a reply line; `Err` describes a malformed reply.
fn parse_reply(line: &str, seq: u64) -> Result<Result<Value, SockError>, String> {
    let shown = || {
        let line = line.trim_end();
        if line.len() > 200 {
            {
                let end = (0..=200)
                    .rev()
                    .find(|i| line.is_char_boundary(*i))
                    .unwrap_or(0);
                format!("{}…", &line[..end])
            }
        } else {
            line.to_string()
        }
    };
    let value: Value =
        serde_json::from_str(line).map_err(|e| format!("garbage (not JSON: {e}): {}", shown()))?;
    let Value::Object(reply) = value else {
        return Err(format!("garbage (not a JSON object): {}", shown()));
    };
    if reply.get("seq").and_then(Value::as_u64) != Some(seq) {
        return Err(format!("a reply whose seq is not {seq}: {}", shown()));
    }
    match (reply.get("ok"), reply.get("error")) {
        (Some(ok), None) => Ok(Ok(ok.clone())),
        (None, Some(error)) => {
            let name = error
                .get("errno")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("an error without an `errno` name: {}", shown()))?;
            let code: ErrorCode = name
                .parse()
                .map_err(|_| format!("an unknown error name `{name}`: {}", shown()))?;
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            Ok(Err(SockError { code, message }))
        }
        _ => Err(format!(
            "a reply without exactly one of `ok` and `error`: {}",
            shown()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_checked_for_json_seq_and_shape() {
        assert!(parse_reply("not json\n", 0)
            .unwrap_err()
            .starts_with("garbage"));
        assert!(parse_reply("{\"seq\": 2, \"ok\": null}", 1)
            .unwrap_err()
            .contains("seq is not 1"));
        assert!(parse_reply("{\"seq\": 1}", 1)
            .unwrap_err()
            .contains("exactly one of"));
        assert_eq!(
            parse_reply("{\"seq\": 1, \"ok\": 5}", 1).unwrap().unwrap(),
            json!(5)
        );
        let e = parse_reply(
            "{\"seq\": 1, \"error\": {\"errno\": \"EBADF\", \"code\": 9, \"message\": \"x\"}}",
            1,
        )
        .unwrap()
        .unwrap_err();
        assert_eq!(e.code.name(), "EBADF");
    }
}
