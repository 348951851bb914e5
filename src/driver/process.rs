//! One driver process: requests out on stdin, replies in on stdout, stderr kept for diagnostics.
//!
//! Nothing here waits on the driver without a bound that [`DriverProcess::kill`] can cut short:
//! a request waits for its reply on its own thread, and the stderr reader on a detached one, each
//! until told to stop (a descendant of the driver may hold the pipes open for ever), and ending a
//! driver kills its whole process tree (see [`tree`](super::tree)).

use super::pipes::{self, End, Received, Replies, StderrTail, Stop, WriteError, MAX_LINE};
use super::relaunch::{self, Relaunch};
use super::tree::{self, Token, TOKEN_VARIABLE};
use crate::vocab::{ErrorCode, SockError};
use serde_json::{json, Map, Value};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

/// How long a driver may take to answer `bye`, and then to exit, before it is killed.
const BYE_GRACE: Duration = Duration::from_secs(1);

/// How long a driver whose standard output ended gets to finish exiting, so that the error can
/// name its exit status and the last lines of its stderr. A crashing driver closes both pipes as
/// it exits; one whose stderr is still open after [`STILL_RUNNING`] is taken to be running.
const EXIT_GRACE: Duration = Duration::from_millis(300);
const STILL_RUNNING: Duration = Duration::from_millis(100);

/// How long ending a driver waits to reap it after SIGKILL (a process in uninterruptible sleep
/// dies late); after that a detached thread reaps it.
const REAP_GRACE: Duration = Duration::from_secs(1);

/// The request channel, held by the request in flight.
struct Io {
    stdin: Option<ChildStdin>,
    replies: Option<Replies>,
    seq: u64,
}

struct Process {
    child: Child,
    /// Its exit status, once reaped; the process group id is then free, and never signalled.
    status: Option<ExitStatus>,
}

impl Process {
    fn poll(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }
}

/// A running driver.
pub(crate) struct DriverProcess {
    name: String,
    pid: u32,
    token: Token,
    process: Mutex<Process>,
    io: Mutex<Io>,
    stderr: Arc<StderrTail>,
    stop: Arc<Stop>,
    killed: AtomicBool,
    finished: AtomicBool,
    /// Set when the driver broke the protocol in any way (garbage, a wrong `seq`, an exit, a
    /// request it did not read): such a process is never reused.
    misbehaved: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// True for a simple command: no lists, pipes, subshells, leading assignments or compound
/// commands.
pub(crate) fn is_simple(command: &str) -> bool {
    let first = command.split_whitespace().next().unwrap_or("");
    !command.contains([';', '&', '|', '(', ')', '\n'])
        && !first.contains('=')
        && !matches!(
            first,
            "" | "if" | "while" | "until" | "for" | "case" | "exec" | "!" | "{"
        )
}

/// The command `/bin/sh -c` runs: a simple command (no lists, pipes, subshells or leading
/// assignments) is run with `exec`, so that the driver is the runner's own child and not
/// a shell's: the shell would keep the driver's pipes open (hiding a driver that closes its
/// standard output) and stand between the runner and the driver's exit.
fn shell_command(command: &str) -> String {
    if is_simple(command) {
        format!("exec {command}")
    } else {
        command.to_string()
    }
}

/// How a driver process is started.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Launch<'a> {
    /// Its configured command, run by `/bin/sh -c`.
    Command(&'a str),
    /// As its first process ended up started, without the shell and launchers in front of it
    /// (see [`relaunch`](super::relaunch)).
    Direct(&'a Relaunch),
}

impl Launch<'_> {
    fn command(self) -> Command {
        match self {
            Launch::Command(command) => {
                let mut starting = Command::new("/bin/sh");
                starting.arg("-c").arg(shell_command(command));
                starting
            }
            Launch::Direct(relaunch) => relaunch.command(),
        }
    }
}

impl std::fmt::Display for Launch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Launch::Command(command) => f.write_str(command),
            Launch::Direct(relaunch) => {
                let arguments = relaunch.argv.get(1..).unwrap_or_default();
                write!(f, "{} {}", relaunch.program, arguments.join(" "))
            }
        }
    }
}

impl DriverProcess {
    /// Starts `command` with `/bin/sh -c`, in a process group of its own and with a [`Token`] in
    /// its environment, so that ending it kills everything it started.
    pub fn spawn(name: &str, command: &str) -> Result<DriverProcess, String> {
        Self::launch(name, Launch::Command(command), false, None)
    }

    /// Starts the driver as `launch` says, in `dir` (the current directory if `None`), in a
    /// process group of its own and with a [`Token`] in its environment, so that ending it kills
    /// everything it started; with `unprivileged`, without any capability, for good (checked
    /// once it runs: a driver that kept one is not used).
    pub fn launch(
        name: &str,
        launch: Launch<'_>,
        unprivileged: bool,
        dir: Option<&std::path::Path>,
    ) -> Result<DriverProcess, String> {
        let token = Token::new();
        let stop = Arc::new(Stop::new().map_err(|e| format!("cannot create a pipe: {e}"))?);
        let (child, pid) = {
            // Registered before the orphan reaper can see it (see `tree::drivers`).
            let mut drivers = tree::drivers();
            let mut starting = launch.command();
            starting
                .env(TOKEN_VARIABLE, token.value())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .process_group(0);
            if let Some(dir) = dir {
                starting.current_dir(dir);
            }
            if unprivileged {
                // SAFETY: drop_before_exec makes only async-signal-safe system calls.
                unsafe {
                    starting.pre_exec(crate::implementation::privileges::drop_before_exec);
                }
            }
            let child = starting
                .spawn()
                .map_err(|e| format!("cannot start `{launch}`: {e}"))?;
            drivers.push(child.id());
            let pid = child.id();
            (child, pid)
        };
        let mut process = Process {
            child,
            status: None,
        };
        let pipes = (
            process.child.stdin.take(),
            process.child.stdout.take(),
            process.child.stderr.take(),
        );
        let driver = DriverProcess {
            name: name.to_string(),
            pid,
            token,
            process: Mutex::new(process),
            io: Mutex::new(Io {
                stdin: None,
                replies: None,
                seq: 0,
            }),
            stderr: Arc::new(StderrTail::default()),
            stop,
            killed: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            misbehaved: AtomicBool::new(false),
        };
        let (Some(stdin), Some(stdout), Some(stderr)) = pipes else {
            return Err("the driver's pipes were not created".to_string());
        };
        pipes::set_nonblocking(&stdin).map_err(|e| format!("cannot configure a pipe: {e}"))?;
        {
            let mut io = lock(&driver.io);
            io.stdin = Some(stdin);
            io.replies = Some(Replies::new(stdout, tree::pidfd(pid)));
        }
        // Detached: the stderr reader ends when its pipe closes or when `stop` is called; nothing
        // waits for it.
        let (stop, tail) = (Arc::clone(&driver.stop), Arc::clone(&driver.stderr));
        std::thread::Builder::new()
            .name("driver-stderr".into())
            .spawn(move || pipes::read_stderr(stderr, &stop, &tail))
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        // The capabilities were dropped before exec; that they stayed dropped across it is
        // checked (without CAP_SETPCAP, root would get them back). Dropping `driver` kills it.
        if unprivileged && !crate::implementation::privileges::has_no_capabilities(pid) {
            return Err(
                "it could not be started without privileges (its process still has \
                 capabilities after exec)"
                    .to_string(),
            );
        }
        Ok(driver)
    }

    /// How to start another process of the driver directly, as this one ended up started, if
    /// that is the same as starting it through `command` in `dir`, which started it (see
    /// [`relaunch`]); else why not. Asked of a process that has
    /// answered `hello`, from the thread that started it.
    pub fn relaunch(&self, command: &str, dir: &std::path::Path) -> Result<Relaunch, String> {
        relaunch::observe(self.pid, command, dir, TOKEN_VARIABLE)
    }

    /// True if the process can serve another session: it was neither killed nor finished, never
    /// broke the protocol, is still running, has no request in flight, and has written nothing
    /// that no request asked for (bytes kept or waiting on its standard output, or its end).
    pub fn is_reusable(&self) -> bool {
        if self.killed.load(Ordering::SeqCst)
            || self.finished.load(Ordering::SeqCst)
            || self.misbehaved.load(Ordering::SeqCst)
        {
            return false;
        }
        let Ok(io) = self.io.try_lock() else {
            return false;
        };
        lock(&self.process).poll().is_none() && io.replies.as_ref().is_some_and(Replies::is_idle)
    }

    /// The driver's name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends one request and waits for its reply: `Ok(ok)` or the error the driver reported.
    /// A driver that crashes, is killed or answers garbage gives [`ErrorCode::Broken`]. Only
    /// [`kill`](DriverProcess::kill) bounds the wait (the runner's watchdog does it).
    pub fn request(&self, op: &str, fields: Value) -> Result<Value, SockError> {
        self.exchange(op, fields, None)
    }

    /// [`request`](DriverProcess::request), but a driver that has not answered within `limit` is
    /// killed and the request is an error saying so.
    pub fn request_within(
        &self,
        op: &str,
        fields: Value,
        limit: Duration,
    ) -> Result<Value, SockError> {
        self.exchange(op, fields, Some(limit))
    }

    fn exchange(
        &self,
        op: &str,
        fields: Value,
        limit: Option<Duration>,
    ) -> Result<Value, SockError> {
        let deadline = limit.map(|limit| Instant::now() + limit);
        let mut io = lock(&self.io);
        if self.killed.load(Ordering::SeqCst) {
            return Err(self.stopped(op));
        }
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
            Some(stdin) => pipes::write_request(stdin, line.as_bytes(), &self.stop, deadline),
            None => Err(WriteError::Closed),
        };
        match written {
            Ok(()) => {}
            Err(_) if self.killed.load(Ordering::SeqCst) => return Err(self.stopped(op)),
            Err(WriteError::Closed) => {
                self.settle();
                return Err(self.broken(&format!("stopped reading requests before `{op}`")));
            }
            Err(WriteError::Stopped) => {
                return Err(self.broken_then_kill(&format!(
                    "did not read the request `{op}` within {:?}",
                    limit.unwrap_or_default()
                )));
            }
        }
        let received = match io.replies.as_mut() {
            Some(replies) => replies.next_line(&self.stop, deadline),
            None => Received::Ended(End::Closed),
        };
        let line = match received {
            Received::Line(line) => line,
            Received::Stopped => return Err(self.stopped(op)),
            Received::Ended(_) if self.killed.load(Ordering::SeqCst) => {
                return Err(self.stopped(op))
            }
            Received::TimedOut => {
                return Err(self.broken_then_kill(&format!(
                    "did not answer `{op}` within {:?}",
                    limit.unwrap_or_default()
                )));
            }
            Received::Ended(End::TooLong) => {
                return Err(self.broken_then_kill(&format!(
                    "answered `{op}` with a line longer than the limit of {} MiB",
                    MAX_LINE >> 20
                )));
            }
            Received::Ended(End::Failed(e)) => {
                return Err(
                    self.broken_then_kill(&format!("cannot be read while answering `{op}`: {e}"))
                );
            }
            Received::Ended(End::Closed | End::Exited) => {
                let what = if self.settle() {
                    format!("exited without answering `{op}`")
                } else {
                    format!(
                        "closed its standard output without answering `{op}` (it is still running)"
                    )
                };
                return Err(self.broken(&what));
            }
        };
        parse_reply(&line, seq)
            .map_err(|problem| self.broken(&format!("answered `{op}` with {problem}")))?
    }

    /// `reset` (answered within `limit`), for a process about to serve another session. Err says
    /// what went wrong (no answer, an error, a value other than null, output after the reply);
    /// the process is then killed, and never reused.
    pub fn reset(&self, limit: Duration) -> Result<(), String> {
        let outcome = match self.exchange("reset", json!({}), Some(limit)) {
            Ok(Value::Null) if self.is_reusable() => {
                self.stderr.forget();
                Ok(())
            }
            Ok(Value::Null) => Err(self
                .broken("answered `reset` but then wrote more or stopped")
                .message),
            Ok(other) => Err(self
                .broken(&format!("answered `reset` with {other}, not null"))
                .message),
            Err(e) if e.code == ErrorCode::Broken => Err(e.message),
            Err(e) => {
                self.mark_misbehaved();
                Err(format!(
                    "driver `{}` answered `reset` with an error ({}: {})",
                    self.name,
                    e.code.name(),
                    e.message
                ))
            }
        };
        if outcome.is_err() {
            self.kill();
        }
        outcome
    }

    /// Marks the process as having broken the protocol (e.g. a result that does not fit its
    /// operation): it is not reused.
    pub fn mark_misbehaved(&self) {
        self.misbehaved.store(true, Ordering::SeqCst);
    }

    /// `bye`, then waits (bounded) for the process to exit; says what went wrong, if anything.
    pub fn goodbye(&self) -> Result<(), String> {
        match self.exchange("bye", json!({}), Some(BYE_GRACE)) {
            Ok(serde_json::Value::Null) => {}
            Ok(other) => return Err(format!("`bye` was answered with {other}, not null")),
            Err(e) => return Err(e.message),
        }
        lock(&self.io).stdin.take();
        match self.wait_exit(BYE_GRACE) {
            Some(status) if status.success() => Ok(()),
            Some(status) => Err(format!("it exited with {status}")),
            None => Err(format!(
                "it was still running {BYE_GRACE:?} after answering `bye`"
            )),
        }
    }

    /// Says goodbye (unless killed), then makes sure that the process and everything it started
    /// are gone, and the process reaped. Bounded in time whatever the driver does; does nothing
    /// the second time. An error says how the driver broke the protocol's `bye` (it did not
    /// answer it).
    pub fn finish(&self) -> Result<(), String> {
        if self.finished.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let mut outcome = Ok(());
        // A request still in flight (its thread abandoned) would make `bye` wait for it: kill.
        let busy = matches!(self.io.try_lock(), Err(TryLockError::WouldBlock));
        if !self.killed.load(Ordering::SeqCst) && !busy {
            let answer = self.exchange("bye", json!({}), Some(BYE_GRACE));
            lock(&self.io).stdin.take();
            match answer {
                Ok(_) => {
                    self.wait_exit(EXIT_GRACE);
                }
                Err(e) => outcome = Err(e.message),
            }
        }
        // Also after a clean exit: processes the driver started must not outlive it.
        self.end_tree();
        self.stop.stop();
        let mut process = lock(&self.process);
        let deadline = Instant::now() + REAP_GRACE;
        while process.poll().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        let reaped = process.status.is_some();
        drop(process);
        if reaped {
            tree::drivers().retain(|pid| *pid != self.pid);
        } else {
            // Leave it to a thread rather than wait here for ever.
            let pid = self.pid;
            std::thread::spawn(move || {
                let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid as i32), None);
                tree::drivers().retain(|p| *p != pid);
            });
        }
        outcome
    }

    /// Kills the driver and everything it started, at once, and wakes the request waiting for
    /// it, which returns an [`ErrorCode::Broken`] error (the watchdog's way of ending a blocked
    /// call). The driver is not used again.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.stop.stop();
        self.end_tree();
    }

    /// SIGKILL to the process group (while it is reserved: the driver is not reaped) and to every
    /// process carrying the token.
    fn end_tree(&self) {
        let process = lock(&self.process);
        let group = process.status.is_none().then_some(self.pid as i32);
        tree::kill_tree(group, &self.token, self.pid as i32);
    }

    /// Waits at most `limit` for the process to exit; its status if it did.
    fn wait_exit(&self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = lock(&self.process).poll() {
                return Some(status);
            }
            if Instant::now() >= deadline || self.killed.load(Ordering::SeqCst) {
                return None;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Waits (briefly) for a driver whose standard output ended to finish exiting: its stderr to
    /// end and its exit status to be there. False if it is still running.
    fn settle(&self) -> bool {
        let now = Instant::now();
        if !self.stderr.wait_ended(now + STILL_RUNNING) {
            return lock(&self.process).poll().is_some();
        }
        self.wait_exit(EXIT_GRACE.saturating_sub(now.elapsed()))
            .is_some()
    }

    /// The error for a request that ended because the driver was killed.
    fn stopped(&self, op: &str) -> SockError {
        SockError {
            code: ErrorCode::Broken,
            message: format!(
                "driver `{}` was stopped during `{op}` (the watchdog kills a driver to end a call)",
                self.name
            ),
        }
    }

    /// [`broken`](DriverProcess::broken), told before the kill (so that it does not blame the
    /// runner's SIGKILL), then [`kill`](DriverProcess::kill).
    fn broken_then_kill(&self, what: &str) -> SockError {
        let error = self.broken(what);
        self.kill();
        error
    }

    /// The error for a driver that stopped working: what it did, its exit status if it has
    /// exited, and the last lines of its stderr.
    fn broken(&self, what: &str) -> SockError {
        self.misbehaved.store(true, Ordering::SeqCst);
        let status = match lock(&self.process).poll() {
            Some(status) => format!(" ({status})"),
            None => String::new(),
        };
        let tail = self.stderr.lines();
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
        let _ = self.finish();
    }
}

/// The `ok` value or the reported error of a reply line; `Err` describes a malformed reply.
fn parse_reply(line: &[u8], seq: u64) -> Result<Result<Value, SockError>, String> {
    let shown = || {
        let line = String::from_utf8_lossy(line);
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
    let value: Value = serde_json::from_slice(line)
        .map_err(|e| format!("garbage (not JSON: {e}): {}", shown()))?;
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
            let mut message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if code == ErrorCode::Library {
                // The library's own name for its error is what a failure must show.
                let own = error
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| {
                        format!(
                            "a `library` error without the library's `name` for it: {}",
                            shown()
                        )
                    })?;
                message = format!("{own}: {message}");
            }
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
        assert!(parse_reply(b"not json\n", 0)
            .unwrap_err()
            .starts_with("garbage"));
        assert!(parse_reply(b"{\"seq\": 2, \"ok\": null}", 1)
            .unwrap_err()
            .contains("seq is not 1"));
        assert!(parse_reply(b"{\"seq\": 1}", 1)
            .unwrap_err()
            .contains("exactly one of"));
        assert_eq!(
            parse_reply(b"{\"seq\": 1, \"ok\": 5}", 1).unwrap().unwrap(),
            json!(5)
        );
        let e = parse_reply(
            b"{\"seq\": 1, \"error\": {\"errno\": \"EBADF\", \"code\": 9, \"message\": \"x\"}}",
            1,
        )
        .unwrap()
        .unwrap_err();
        assert_eq!(e.code.name(), "EBADF");
    }

    /// A driver that never answers, whose grandchild left the process group, cleared its
    /// environment (so no kill reaches it) and holds the pipes: kill() still ends the request at
    /// once, and finish() is still bounded.
    #[test]
    fn kill_ends_a_request_even_when_an_unreachable_grandchild_holds_the_pipes() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("grandchild");
        let command = format!(
            "setsid env -i sleep 30 & echo $! > {}; sleep 30",
            pidfile.display()
        );
        let driver = DriverProcess::spawn("stuck", &command).unwrap();
        let started = Instant::now();
        let outcome = std::thread::scope(|scope| {
            let request = scope.spawn(|| driver.request("hello", json!({})));
            std::thread::sleep(Duration::from_millis(200));
            driver.kill();
            request.join().unwrap()
        });
        let error = outcome.unwrap_err();
        assert_eq!(error.code, ErrorCode::Broken);
        assert!(
            error.message.contains("was stopped during `hello`"),
            "{error}"
        );
        drop(driver);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        // Out of reach by design (see `tree`); end it here.
        if let Ok(pid) = std::fs::read_to_string(&pidfile) {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }

    #[test]
    fn a_request_within_a_limit_kills_a_silent_driver() {
        let driver = DriverProcess::spawn("silent", "sleep 30").unwrap();
        let started = Instant::now();
        let error = driver
            .request_within("hello", json!({}), Duration::from_millis(200))
            .unwrap_err();
        assert!(
            error
                .message
                .contains("did not answer `hello` within 200ms"),
            "{error}"
        );
        drop(driver);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn simple_commands_are_execed_and_others_left_to_the_shell() {
        assert_eq!(
            shell_command("python3 d.py --x=1"),
            "exec python3 d.py --x=1"
        );
        assert_eq!(shell_command("cd d && ./x"), "cd d && ./x");
        assert_eq!(shell_command("A=1 ./x"), "A=1 ./x");
        assert_eq!(shell_command("exec ./x"), "exec ./x");
    }
}
