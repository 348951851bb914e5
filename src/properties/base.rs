//! What the properties share: their inputs (transports, payloads), what a failure is
//! ([`Counterexample`]), and the helpers every check uses (sessions, calls, time limits,
//! addresses). The bottom layer: it uses no other module of `properties`.

use crate::implementation::{within, Handle, Implementation, Plain, Session};
use crate::vocab::{Address, Family, SockError, SocketOption, SocketType};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a receiver waits for a datagram (or socketpair bytes) that should already be queued.
const MISSING_AFTER_MS: i64 = 250;

/// The most a socketpair's end sends before its peer drains it: both ends belong to one session,
/// whose calls run one at a time, so a send must never wait for the peer to read. Far below
/// Linux's default Unix stream buffer (208 KiB); a multiple of 420 so that every chunk of a
/// pattern of 1 to 7 bytes starts at the pattern's start (the fixture repeats one chunk).
pub const SOCKETPAIR_CHUNK: usize = 65_520;

/// How long one check may take before its sockets are interrupted.
const CHECK_LIMIT: Duration = Duration::from_secs(20);

/// The stream transports the stream property runs over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamTransport {
    /// TCP over 127.0.0.1.
    Tcp4,
    /// TCP over ::1.
    Tcp6,
    /// A Unix stream socket bound to a path.
    UnixStream,
    /// Both ends of a stream `socketpair()`, in one session (one actor).
    Socketpair,
}

impl StreamTransport {
    /// Its address family.
    pub fn family(self) -> Family {
        match self {
            StreamTransport::Tcp4 => Family::Inet,
            StreamTransport::Tcp6 => Family::Inet6,
            StreamTransport::UnixStream | StreamTransport::Socketpair => Family::Unix,
        }
    }
}

/// The datagram transports the datagram property runs over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatagramTransport {
    /// UDP over 127.0.0.1.
    Udp4,
    /// A Unix datagram socket bound to a path.
    UnixDgram,
}

impl DatagramTransport {
    /// Its address family.
    pub fn family(self) -> Family {
        match self {
            DatagramTransport::Udp4 => Family::Inet,
            DatagramTransport::UnixDgram => Family::Unix,
        }
    }
}

/// A local address of `family` to bind: port 0 on loopback, or the path `name` in `dir`.
pub(super) fn local_address(family: Family, dir: &Path, name: &str) -> Address {
    match family {
        Family::Inet => Address::from(("127.0.0.1", 0)),
        Family::Inet6 => Address::from(("::1", 0)),
        Family::Unix => Address::UnixPath(dir.join(name)),
    }
}

/// Bytes as a scenario can write them: `pattern` repeated and cut to `len`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    /// The repeated text (non-empty, printable ASCII).
    pub pattern: String,
    /// The length in bytes.
    pub len: usize,
}

impl Payload {
    /// The bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.len);
        crate::scenario::payload::repeat_into(&mut bytes, self.pattern.as_bytes(), self.len);
        bytes
    }
}

/// A failed property: what went wrong, and a scenario that shows it.
#[derive(Clone, Debug)]
pub struct Counterexample {
    /// The property's name (`stream-round-trip`).
    pub property: &'static str,
    /// The implementation.
    pub implementation: String,
    /// What went wrong.
    pub message: String,
    /// A scenario (YAML) that reproduces it through `sockspec run`.
    pub fixture: String,
}

impl std::fmt::Display for Counterexample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} on {}: {}",
            self.property, self.implementation, self.message
        )
    }
}

impl Counterexample {
    /// Writes the fixture to `dir/PROPERTY-IMPLEMENTATION.yaml` (replacing an older one: the
    /// shrunk case comes last) and returns its path.
    pub fn write(&self, dir: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = regression_path(dir, self.property, &self.implementation);
        // Written whole, then renamed into place: a replay reading the file meanwhile sees the
        // old scenario or the new one, never half of one.
        let mut staged = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut staged, self.fixture.as_bytes())?;
        staged.persist(&path).map_err(|e| e.error)?;
        Ok(path)
    }
}

/// Where [`Counterexample::write`] puts the scenario of `property` failing on `implementation`:
/// `dir/PROPERTY-IMPLEMENTATION.yaml`, the implementation's name with anything but letters and
/// digits turned into `-`.
pub fn regression_path(dir: &Path, property: &str, implementation: &str) -> PathBuf {
    let name: String = implementation
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    dir.join(format!("{property}-{name}.yaml"))
}

/// Where counterexamples go by default, relative to the current directory.
pub const DEFAULT_REGRESSIONS_DIR: &str = "target/sockspec-regressions";

/// Where counterexamples go: `$SOCKSPEC_REGRESSIONS`, else [`DEFAULT_REGRESSIONS_DIR`] of the
/// current directory (not of the directory sockspec was built in, which an installed binary's
/// user may not have).
pub fn regressions_dir() -> PathBuf {
    std::env::var_os("SOCKSPEC_REGRESSIONS")
        .map_or_else(|| PathBuf::from(DEFAULT_REGRESSIONS_DIR), PathBuf::from)
}

/// A socket call's failure, as text, in context.
pub(super) fn call<T>(what: &str, r: Result<T, SockError>) -> Result<T, String> {
    r.map_err(|e| format!("{what} failed: {e}"))
}

/// Runs `body`, interrupting `handles` if it takes longer than [`CHECK_LIMIT`].
pub(super) fn bounded<T>(
    handles: &[(&dyn Session, Handle)],
    body: impl FnOnce() -> Result<T, String>,
) -> Result<T, String> {
    within(CHECK_LIMIT, handles, body).0
}

/// Whether the implementation can bound a receive with `SO_RCVTIMEO`.
pub(super) fn has_recv_timeout(implementation: &dyn Implementation) -> bool {
    implementation
        .capabilities()
        .options
        .contains(&SocketOption::RecvTimeoutMs)
}

/// Makes a receive on `socket` fail after [`MISSING_AFTER_MS`] instead of waiting, where the
/// implementation can: for bytes that should already be queued.
pub(super) fn fail_when_missing(
    implementation: &dyn Implementation,
    session: &dyn Session,
    socket: Handle,
) -> Result<(), String> {
    if !has_recv_timeout(implementation) {
        return Ok(());
    }
    call(
        "setsockopt(SO_RCVTIMEO)",
        Plain(session).setsockopt(socket, SocketOption::RecvTimeoutMs, MISSING_AFTER_MS),
    )
}

/// A session of the implementation under test.
pub(super) type Sessions = Box<dyn Session>;

/// Two sessions, like two actors (side by side where opening one starts a process: see
/// [`Implementation::open_sessions`]).
pub(super) fn open_two(
    implementation: &dyn Implementation,
) -> Result<(Sessions, Sessions), String> {
    let mut sessions = implementation
        .open_sessions(2)
        .map_err(|e| e.to_string())?
        .into_iter();
    match (sessions.next(), sessions.next()) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(format!(
            "{} opened fewer sessions than the two asked for",
            implementation.name()
        )),
    }
}

/// A connected stream pair across two sessions (like two actors): (sender side, receiver side).
pub(super) fn stream_pair(
    tx: &dyn Session,
    rx: &dyn Session,
    transport: StreamTransport,
    dir: &Path,
) -> Result<(Handle, Handle, Handle), String> {
    if transport == StreamTransport::Socketpair {
        return Err("a socketpair is made by socketpair(), not a listener".to_string());
    }
    let family = transport.family();
    let bind = local_address(family, dir, "server.sock");
    let listener = call("socket", Plain(rx).socket(family, SocketType::Stream))?;
    call("bind", Plain(rx).bind(listener, &bind))?;
    call("listen", Plain(rx).listen(listener, None))?;
    let address = call("getsockname", Plain(rx).getsockname(listener))?;
    let client = call("socket", Plain(tx).socket(family, SocketType::Stream))?;
    // connect completes from the listen queue, before accept.
    call("connect", Plain(tx).connect(client, &address))?;
    let (conn, _) = call("accept", Plain(rx).accept(listener))?;
    Ok((client, conn, listener))
}

/// The socketpair chunk for `payload`: [`SOCKETPAIR_CHUNK`] rounded down to whole patterns, so
/// that every chunk is the same bytes.
pub(super) fn chunk_of(payload: &Payload) -> usize {
    let pattern = payload.pattern.len().max(1);
    (SOCKETPAIR_CHUNK / pattern).max(1) * pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counterexamples_go_under_the_current_directory_by_default() {
        assert!(Path::new(DEFAULT_REGRESSIONS_DIR).is_relative());
        if std::env::var_os("SOCKSPEC_REGRESSIONS").is_none() {
            assert_eq!(regressions_dir(), Path::new(DEFAULT_REGRESSIONS_DIR));
        }
    }
}
