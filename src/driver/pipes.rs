//! Reading a driver's output without trusting it: reply lines are capped at [`MAX_LINE`], standard
//! error is kept as a tail of at most [`STDERR_TAIL`] bytes, and every wait on a pipe stops when
//! told to, whether or not the pipe ever closes (a descendant of the driver may hold it open for
//! ever).

use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::{ChildStderr, ChildStdin};
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

/// Tells every wait on a driver's pipes to stop (the request waiting for a reply, the stderr
/// reader): closing the write end of a pipe wakes every `poll` on its read end at once.
pub(crate) struct Stop {
    wake: OwnedFd,
    signal: Mutex<Option<OwnedFd>>,
}

impl Stop {
    /// A stop not yet given. Its pipe is close-on-exec: a copy of the write end in a process
    /// started meanwhile (the driver itself, or any other) would keep the read end from waking
    /// when the runner closes its own.
    pub fn new() -> std::io::Result<Stop> {
        let (wake, signal) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        Ok(Stop {
            wake,
            signal: Mutex::new(Some(signal)),
        })
    }

    /// Wakes every wait, now and later.
    pub fn stop(&self) {
        lock(&self.signal).take();
    }
}

/// How long `poll` may wait for `deadline` (for ever without one): rounded up to whole
/// milliseconds, so that a wait does not end, and spin, just short of the deadline. `None` once
/// the deadline has passed.
fn poll_timeout(deadline: Option<Instant>) -> Option<nix::poll::PollTimeout> {
    use nix::poll::PollTimeout;
    let Some(deadline) = deadline else {
        return Some(PollTimeout::NONE);
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return None;
    }
    let millis = left.as_nanos().div_ceil(1_000_000);
    Some(PollTimeout::try_from(millis.min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX))
}

/// What waiting for a pipe gave.
enum Ready {
    Data(usize),
    /// The pipe closed (every writer closed it).
    Closed,
    /// The driver process exited (its pidfd is readable) and the pipe holds nothing more.
    Exited,
    Stopped,
    /// The deadline passed first.
    TimedOut,
    Failed(String),
}

/// Reads what is there, or waits for data, the end of the pipe, the driver's exit (when `exited`
/// is given), [`Stop::stop`] or `deadline`.
fn read_some(
    pipe: &mut (impl Read + AsFd),
    stop: &Stop,
    exited: Option<&OwnedFd>,
    buffer: &mut [u8],
    deadline: Option<Instant>,
) -> Ready {
    use nix::poll::{poll, PollFd, PollFlags};
    loop {
        let Some(timeout) = poll_timeout(deadline) else {
            return Ready::TimedOut;
        };
        let mut fds = [
            PollFd::new(stop.wake.as_fd(), PollFlags::POLLIN),
            PollFd::new(pipe.as_fd(), PollFlags::POLLIN),
            // Without a pidfd, a second look at `stop` (asking for nothing), never read below.
            match exited {
                Some(pidfd) => PollFd::new(pidfd.as_fd(), PollFlags::POLLIN),
                None => PollFd::new(stop.wake.as_fd(), PollFlags::empty()),
            },
        ];
        match poll(&mut fds, timeout) {
            // Timed out: the loop's next turn says whether the deadline has passed.
            Ok(0) => continue,
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
        if exited.is_some() && ready(&fds[2]) {
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

/// What [`Replies::next_line`] gave.
pub(crate) enum Received {
    /// A line, without its `\n`.
    Line(Vec<u8>),
    /// No more lines will come, and why.
    Ended(End),
    /// [`Stop::stop`] was called: the driver is being killed.
    Stopped,
    /// The deadline passed first.
    TimedOut,
}

/// A driver's standard output, read by the thread that waits for a reply: no reader thread
/// stands between the driver's write and the request that waits for it, which saves a thread
/// wake-up on every step (a third of a step's cost through a warm driver). Nothing is read while
/// no request waits, so a driver that floods its output blocks on the pipe.
pub(crate) struct Replies {
    stdout: std::fs::File,
    /// The driver's pidfd: its exit ends the wait even while a process it started holds the
    /// pipe open.
    exited: Option<OwnedFd>,
    /// Bytes read and not yet taken as a line.
    pending: Vec<u8>,
    /// How much of `pending` is known to hold no `\n` (so that each byte is scanned once).
    scanned: usize,
    chunk: Box<[u8]>,
    end: Option<End>,
}

impl Replies {
    /// The replies on `stdout` (the read end of the driver's standard output) of the driver
    /// whose pidfd is `exited`.
    pub fn new(stdout: impl Into<OwnedFd>, exited: Option<OwnedFd>) -> Replies {
        Replies {
            stdout: std::fs::File::from(stdout.into()),
            exited,
            pending: Vec::new(),
            scanned: 0,
            chunk: vec![0u8; 64 << 10].into_boxed_slice(),
            end: None,
        }
    }

    /// The next line (without its `\n`), or why there is none, waiting until `deadline` if one
    /// is given, and at most until [`Stop::stop`]. A line longer than [`MAX_LINE`] ends the
    /// output.
    pub fn next_line(&mut self, stop: &Stop, deadline: Option<Instant>) -> Received {
        loop {
            let unscanned = &self.pending[self.scanned..];
            let newline = (unscanned.iter())
                .position(|b| *b == b'\n')
                .map(|at| self.scanned + at);
            // A line (or what there is of one) past the limit ends the output.
            if newline.unwrap_or(self.pending.len()) > MAX_LINE {
                self.end = Some(End::TooLong);
                self.forget();
                return Received::Ended(End::TooLong);
            }
            if let Some(newline) = newline {
                let rest = self.pending.split_off(newline + 1);
                let mut line = std::mem::replace(&mut self.pending, rest);
                line.truncate(newline);
                self.scanned = 0;
                return Received::Line(line);
            }
            self.scanned = self.pending.len();
            if let Some(end) = &self.end {
                return Received::Ended(end.clone());
            }
            let read = read_some(
                &mut self.stdout,
                stop,
                self.exited.as_ref(),
                &mut self.chunk,
                deadline,
            );
            match read {
                Ready::Data(n) => self.pending.extend_from_slice(&self.chunk[..n]),
                Ready::Closed => self.end = Some(End::Closed),
                Ready::Exited => self.end = Some(End::Exited),
                Ready::Failed(e) => self.end = Some(End::Failed(e)),
                // The process is being killed (or will be, past its deadline): what it wrote is
                // never read, so its memory (up to a line's limit) is not kept until it is dropped.
                Ready::Stopped => {
                    self.forget();
                    return Received::Stopped;
                }
                Ready::TimedOut => {
                    self.forget();
                    return Received::TimedOut;
                }
            }
        }
    }

    /// Drops the bytes kept (and their memory).
    fn forget(&mut self) {
        self.pending = Vec::new();
        self.scanned = 0;
    }

    /// True when nothing arrived that no request asked for: no bytes kept or waiting in the
    /// pipe, and the output has not ended.
    pub fn is_idle(&self) -> bool {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        if !self.pending.is_empty() || self.end.is_some() {
            return false;
        }
        let mut fds = [PollFd::new(self.stdout.as_fd(), PollFlags::POLLIN)];
        matches!(poll(&mut fds, PollTimeout::ZERO), Ok(0))
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
    use nix::poll::{poll, PollFd, PollFlags};
    use std::io::{ErrorKind, Write};
    while !bytes.is_empty() {
        match stdin.write(bytes) {
            Ok(0) => return Err(WriteError::Closed),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let Some(timeout) = poll_timeout(deadline) else {
                    return Err(WriteError::Stopped);
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
    while let Ready::Data(n) = read_some(&mut stderr, stop, None, &mut chunk, None) {
        tail.push(&chunk[..n]);
    }
    tail.finish();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Duration;

    /// Replies read from a pipe the test writes to.
    fn replies() -> (Replies, std::fs::File, Stop) {
        // Close-on-exec, as the driver's pipes are: other tests of this binary start processes.
        let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("a pipe");
        let stop = Stop::new().expect("a stop pipe");
        (Replies::new(read, None), std::fs::File::from(write), stop)
    }

    fn line(received: Received) -> Vec<u8> {
        match received {
            Received::Line(line) => line,
            Received::Ended(end) => panic!("ended: {end:?}"),
            Received::Stopped => panic!("stopped"),
            Received::TimedOut => panic!("timed out"),
        }
    }

    #[test]
    fn lines_are_split_across_reads_and_kept_when_written_together() {
        let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("a pipe");
        let unread = read
            .try_clone()
            .expect("a second descriptor of the read end");
        let (mut replies, mut driver) = (Replies::new(read, None), std::fs::File::from(write));
        let stop = Stop::new().expect("a stop pipe");
        driver.write_all(b"{\"seq\":0,").unwrap();
        let soon = || Some(Instant::now() + Duration::from_secs(5));
        let writer = std::thread::spawn(move || {
            // The rest of the line once the first part has been read, so that it takes two reads.
            let started = Instant::now();
            loop {
                let mut queued: libc::c_int = 0;
                // SAFETY: FIONREAD writes the count of unread bytes into `queued`.
                let ok = unsafe { libc::ioctl(unread.as_raw_fd(), libc::FIONREAD, &mut queued) };
                assert_eq!(ok, 0, "FIONREAD");
                if queued == 0 {
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(10), "never read");
                std::thread::sleep(Duration::from_millis(1));
            }
            driver.write_all(b"\"ok\":1}\nsecond\n").unwrap();
            driver
        });
        assert_eq!(
            line(replies.next_line(&stop, soon())),
            b"{\"seq\":0,\"ok\":1}"
        );
        let driver = writer.join().unwrap();
        // The second line arrived with the first: it is kept, and the output is not idle.
        assert!(!replies.is_idle());
        assert_eq!(line(replies.next_line(&stop, soon())), b"second");
        assert!(replies.is_idle());
        drop(driver);
        assert!(matches!(
            replies.next_line(&stop, soon()),
            Received::Ended(End::Closed)
        ));
        assert!(!replies.is_idle());
    }

    #[test]
    fn bytes_waiting_in_the_pipe_make_the_output_not_idle() {
        let (replies, mut driver, _stop) = replies();
        assert!(replies.is_idle());
        driver.write_all(b"unasked").unwrap();
        assert!(!replies.is_idle());
    }

    #[test]
    fn a_wait_for_a_line_ends_at_its_deadline_and_at_stop() {
        let (mut replies, _driver, stop) = replies();
        let started = Instant::now();
        let deadline = started + Duration::from_millis(50);
        assert!(matches!(
            replies.next_line(&stop, Some(deadline)),
            Received::TimedOut
        ));
        assert!(Instant::now() >= deadline);
        let stop = std::sync::Arc::new(stop);
        let stopper = std::sync::Arc::clone(&stop);
        let stopping = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            stopper.stop();
        });
        assert!(matches!(replies.next_line(&stop, None), Received::Stopped));
        stopping.join().unwrap();
    }

    #[test]
    fn stop_wakes_a_wait_while_a_process_started_after_it_runs() {
        let (mut replies, _driver, stop) = replies();
        // Started after the stop pipe was made: it must not hold a copy of its write end.
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("sleep starts");
        let stop = std::sync::Arc::new(stop);
        let stopper = std::sync::Arc::clone(&stop);
        let stopping = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            stopper.stop();
        });
        let started = Instant::now();
        let deadline = started + Duration::from_secs(4);
        let received = replies.next_line(&stop, Some(deadline));
        let _ = child.kill();
        let _ = child.wait();
        stopping.join().unwrap();
        assert!(matches!(received, Received::Stopped), "not woken by stop");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn a_line_past_the_limit_ends_the_output() {
        let (mut replies, driver, stop) = replies();
        let writer = std::thread::spawn(move || {
            let mut driver = driver;
            let chunk = vec![b'x'; 1 << 20];
            // Until the reader stops reading (its end closes): then the write fails.
            while driver.write_all(&chunk).is_ok() {}
        });
        assert!(matches!(
            replies.next_line(&stop, None),
            Received::Ended(End::TooLong)
        ));
        drop(replies);
        writer.join().unwrap();
    }

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
