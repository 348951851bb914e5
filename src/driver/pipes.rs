//! Reading a driver's output without trusting it: reply lines are capped at [`MAX_LINE`], standard
//! error is kept as a tail of at most [`STDERR_TAIL`] bytes, and every reader stops when told to,
//! whether or not the pipe ever closes (a descendant of the driver may hold it open for ever).

use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::{ChildStderr, ChildStdin, ChildStdout};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// The longest reply line a driver may write (without its `\n`): 64 MiB.
pub const MAX_LINE: usize = 64 << 20;

/// How much of a driver's standard error is kept (the end of it): 64 KiB.
pub const STDERR_TAIL: usize = 64 << 10;

/// How many of the kept standard-error lines a diagnostic shows.
const STDERR_LINES: usize = 20;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Tells a driver's readers to stop: closing the write end of a pipe wakes every `poll` on its
/// read end at once.
pub(crate) struct Stop {
    wake: OwnedFd,
    signal: Mutex<Option<OwnedFd>>,
}

impl Stop {
    pub fn new() -> std::io::Result<Stop> {
        let (wake, signal) = nix::unistd::pipe()?;
        Ok(Stop {
            wake,
            signal: Mutex::new(Some(signal)),
        })
    }

    pub fn stop(&self) {
        lock(&self.signal).take();
    }
}

/// What waiting for a pipe gave.
enum Ready {
    Data(usize),
    /// The pipe closed (every writer closed it).
    Closed,
    /// The driver process exited (its pidfd is readable) and the pipe holds nothing more.
    Exited,
    Stopped,
    Failed(String),
}

/// Reads what is there, or waits for data, the end of the pipe, the driver's exit (when `exited`
/// is given) or [`Stop::stop`].
fn read_some(
    pipe: &mut (impl Read + AsFd),
    stop: &Stop,
    exited: Option<&OwnedFd>,
    buffer: &mut [u8],
) -> Ready {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    loop {
        let mut fds = vec![
            PollFd::new(stop.wake.as_fd(), PollFlags::POLLIN),
            PollFd::new(pipe.as_fd(), PollFlags::POLLIN),
        ];
        if let Some(pidfd) = exited {
            fds.push(PollFd::new(pidfd.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Ready::Failed(e.to_string()),
        }
        let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
        if ready(&fds[0]) {
            return Ready::Stopped;
        }
        if ready(&fds[1]) {
            return match pipe.read(buffer) {
                Ok(0) => Ready::Closed,
                Ok(n) => Ready::Data(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Ready::Failed(e.to_string()),
            };
        }
        if fds.get(2).is_some_and(ready) {
            return Ready::Exited;
        }
    }
}

/// Why no more replies will come.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// The driver closed its standard output.
    Closed,
    /// The driver exited (a process it started may still hold its standard output).
    Exited,
    /// A line grew past [`MAX_LINE`] without its `\n`.
    TooLong,
    /// Reading failed.
    Failed(String),
}

/// What [`Mailbox::take`] gave.
pub(crate) enum Received {
    Line(Vec<u8>),
    Ended(End),
    /// [`Mailbox::stop`] was called: the driver is being killed.
    Stopped,
    TimedOut,
}

#[derive(Default)]
struct Slot {
    line: Option<Vec<u8>>,
    end: Option<End>,
    stopped: bool,
}

/// Where the stdout reader leaves one line at a time for the request waiting for it. Holding one
/// line (not a queue) bounds memory and makes a driver that floods lines block on its pipe.
#[derive(Default)]
pub(crate) struct Mailbox {
    slot: Mutex<Slot>,
    changed: Condvar,
}

impl Mailbox {
    /// Leaves `line` once the previous one was taken; false if stopped first.
    fn put(&self, line: Vec<u8>) -> bool {
        let mut slot = lock(&self.slot);
        while slot.line.is_some() && !slot.stopped {
            slot = self.changed.wait(slot).unwrap_or_else(|e| e.into_inner());
        }
        if slot.stopped {
            return false;
        }
        slot.line = Some(line);
        self.changed.notify_all();
        true
    }

    fn end(&self, end: End) {
        lock(&self.slot).end = Some(end);
        self.changed.notify_all();
    }

    /// Wakes every waiter for good: the driver is being killed.
    pub fn stop(&self) {
        lock(&self.slot).stopped = true;
        self.changed.notify_all();
    }

    /// True when no line is waiting and the output has neither ended nor been stopped: nothing
    /// arrived that no request asked for.
    pub fn is_idle(&self) -> bool {
        let slot = lock(&self.slot);
        slot.line.is_none() && slot.end.is_none() && !slot.stopped
    }

    /// The next line, or why there is none, waiting until `deadline` if one is given.
    pub fn take(&self, deadline: Option<Instant>) -> Received {
        let mut slot = lock(&self.slot);
        loop {
            if slot.stopped {
                return Received::Stopped;
            }
            if let Some(line) = slot.line.take() {
                self.changed.notify_all();
                return Received::Line(line);
            }
            if let Some(end) = &slot.end {
                return Received::Ended(end.clone());
            }
            slot = match deadline {
                None => self.changed.wait(slot).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Received::TimedOut;
                    }
                    self.changed
                        .wait_timeout(slot, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }
}

/// The stdout reader's loop: splits lines (scanning each byte once), refuses one longer than
/// [`MAX_LINE`], and notices the driver's exit through `exited` (its pidfd) even when a process it
/// started keeps the pipe open.
pub(crate) fn read_replies(
    mut stdout: ChildStdout,
    stop: &Stop,
    exited: Option<OwnedFd>,
    mailbox: &Mailbox,
) {
    let mut pending: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = match read_some(&mut stdout, stop, exited.as_ref(), &mut chunk) {
            Ready::Data(n) => n,
            Ready::Closed => return mailbox.end(End::Closed),
            Ready::Exited => return mailbox.end(End::Exited),
            Ready::Stopped => return,
            Ready::Failed(e) => return mailbox.end(End::Failed(e)),
        };
        let mut rest = &chunk[..n];
        while let Some(newline) = rest.iter().position(|b| *b == b'\n') {
            if pending.len() + newline > MAX_LINE {
                return mailbox.end(End::TooLong);
            }
            pending.extend_from_slice(&rest[..newline]);
            if !mailbox.put(std::mem::take(&mut pending)) {
                return;
            }
            rest = &rest[newline + 1..];
        }
        if pending.len() + rest.len() > MAX_LINE {
            return mailbox.end(End::TooLong);
        }
        pending.extend_from_slice(rest);
    }
}

/// Why a request could not be written.
pub(crate) enum WriteError {
    /// The driver stopped reading (its end of the pipe is closed).
    Closed,
    /// [`Stop::stop`] was called, or `deadline` passed, while the pipe was full.
    Stopped,
}

/// Writes all of `bytes` to the driver's standard input, which MUST be in non-blocking mode, so
/// that a driver that does not read (or a descendant that holds the pipe) cannot block the write
/// beyond [`Stop::stop`] or `deadline`.
pub(crate) fn write_request(
    stdin: &mut ChildStdin,
    mut bytes: &[u8],
    stop: &Stop,
    deadline: Option<Instant>,
) -> Result<(), WriteError> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::io::{ErrorKind, Write};
    while !bytes.is_empty() {
        match stdin.write(bytes) {
            Ok(0) => return Err(WriteError::Closed),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let timeout = match deadline {
                    None => PollTimeout::NONE,
                    Some(deadline) => {
                        let left = deadline.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            return Err(WriteError::Stopped);
                        }
                        PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX)
                    }
                };
                let mut fds = [
                    PollFd::new(stop.wake.as_fd(), PollFlags::POLLIN),
                    PollFd::new(stdin.as_fd(), PollFlags::POLLOUT),
                ];
                match poll(&mut fds, timeout) {
                    Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                    Err(_) => return Err(WriteError::Closed),
                }
                if fds[0].revents().is_some_and(|r| !r.is_empty()) {
                    return Err(WriteError::Stopped);
                }
            }
            Err(_) => return Err(WriteError::Closed),
        }
    }
    Ok(())
}

/// Puts the runner's end of a pipe in non-blocking mode (for [`write_request`]).
pub(crate) fn set_nonblocking(fd: &impl AsFd) -> std::io::Result<()> {
    let fd = fd.as_fd().as_raw_fd();
    // SAFETY: F_GETFL and F_SETFL on a descriptor we own read and set its status flags only.
    let set = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) == 0
    };
    if set {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[derive(Default)]
struct TailState {
    bytes: Vec<u8>,
    /// Bytes were dropped from the front.
    cut: bool,
    ended: bool,
}

/// The end of a driver's standard error: at most [`STDERR_TAIL`] bytes are shown, kept in linear
/// time (the buffer is trimmed only when it has doubled).
#[derive(Default)]
pub(crate) struct StderrTail {
    state: Mutex<TailState>,
    ended: Condvar,
}

impl StderrTail {
    fn push(&self, bytes: &[u8]) {
        let mut state = lock(&self.state);
        state.bytes.extend_from_slice(bytes);
        if state.bytes.len() > 2 * STDERR_TAIL {
            let cut = state.bytes.len() - STDERR_TAIL;
            state.bytes.drain(..cut);
            state.cut = true;
        }
    }

    fn finish(&self) {
        lock(&self.state).ended = true;
        self.ended.notify_all();
    }

    /// Waits until standard error has ended (the driver exited) or `deadline`; true if it ended.
    pub fn wait_ended(&self, deadline: Instant) -> bool {
        let mut state = lock(&self.state);
        while !state.ended {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .ended
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Drops what was kept, so that the lines shown for a warm process are its current
    /// session's (a line written just before may still arrive after).
    pub fn forget(&self) {
        let mut state = lock(&self.state);
        state.bytes.clear();
        state.cut = false;
    }

    /// The last [`STDERR_LINES`] lines of the last [`STDERR_TAIL`] bytes.
    pub fn lines(&self) -> Vec<String> {
        let state = lock(&self.state);
        let start = state.bytes.len().saturating_sub(STDERR_TAIL);
        let text = String::from_utf8_lossy(&state.bytes[start..]);
        let all: Vec<&str> = text.lines().collect();
        let shown = &all[all.len().saturating_sub(STDERR_LINES)..];
        let mut lines: Vec<String> = shown.iter().map(|l| l.trim_end().to_string()).collect();
        if (state.cut || start > 0) && shown.len() == all.len() {
            if let Some(first) = lines.first_mut() {
                first.insert(0, '…');
            }
        }
        lines
    }
}

/// The stderr reader's loop: keeps the tail until the pipe closes or [`Stop::stop`].
pub(crate) fn read_stderr(mut stderr: ChildStderr, stop: &Stop, tail: &StderrTail) {
    let mut chunk = vec![0u8; 64 << 10];
    while let Ready::Data(n) = read_some(&mut stderr, stop, None, &mut chunk) {
        tail.push(&chunk[..n]);
    }
    tail.finish();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stderr_tail_keeps_the_last_lines_of_the_last_bytes() {
        let tail = StderrTail::default();
        for i in 0..100_000 {
            tail.push(format!("line {i}\n").as_bytes());
        }
        let lines = tail.lines();
        assert_eq!(lines.len(), STDERR_LINES);
        assert_eq!(lines.last().unwrap(), "line 99999");
        assert!(lock(&tail.state).bytes.len() <= 2 * STDERR_TAIL);
    }

    #[test]
    fn a_long_stderr_line_is_cut_to_the_tail() {
        let tail = StderrTail::default();
        for _ in 0..1000 {
            tail.push(&[b'x'; 4096]);
        }
        let lines = tail.lines();
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with('…'));
        assert_eq!(lines[0].chars().count(), STDERR_TAIL + 1);
    }
}
