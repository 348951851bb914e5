//! Properties that hold for every conforming implementation, checked on inputs that proptest
//! draws (see `tests/properties.rs`), and turned into a YAML fixture when they fail.
//!
//! Each check opens sessions of the implementation like a scenario's actors do, works on real
//! loopback sockets, and on failure returns a [`Counterexample`] whose `fixture` is a scenario
//! that `sockspec run` replays: moving that file into `fixtures/` makes the found bug a permanent
//! test.

mod lifecycle;
mod render;

pub use lifecycle::{
    closed_socket_refuses_everything, shutdown_interleaving, stream_bytes, Action, AfterClose,
    Choice, ClosedSocket, ConnectionModel, End, Expected, Observed, Ran, Setup,
};

use crate::implementation::{within, Handle, Implementation, Plain, Session};
use crate::vocab::{Address, Family, RecvFlags, Shutdown, SockError, SocketOption, SocketType};
use render::{datagram_fixture, names_fixture, stream_fixture};
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
fn local_address(family: Family, dir: &Path, name: &str) -> Address {
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
        self.pattern.bytes().cycle().take(self.len).collect()
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

/// Where counterexamples go: `target/sockspec-regressions/` (or `$SOCKSPEC_REGRESSIONS`).
pub fn regressions_dir() -> PathBuf {
    std::env::var_os("SOCKSPEC_REGRESSIONS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/sockspec-regressions")
        })
}

/// A socket call's failure, as text, in context.
fn call<T>(what: &str, r: Result<T, SockError>) -> Result<T, String> {
    r.map_err(|e| format!("{what} failed: {e}"))
}

/// Runs `body`, interrupting `handles` if it takes longer than [`CHECK_LIMIT`].
fn bounded<T>(
    handles: &[(&dyn Session, Handle)],
    body: impl FnOnce() -> Result<T, String>,
) -> Result<T, String> {
    within(CHECK_LIMIT, handles, body).0
}

/// Whether the implementation can bound a receive with `SO_RCVTIMEO`.
fn has_recv_timeout(implementation: &dyn Implementation) -> bool {
    implementation
        .capabilities()
        .options
        .contains(&SocketOption::RecvTimeoutMs)
}

/// Makes a receive on `socket` fail after [`MISSING_AFTER_MS`] instead of waiting, where the
/// implementation can: for bytes that should already be queued.
fn fail_when_missing(
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
type Sessions = Box<dyn Session>;

/// Two sessions, like two actors, opened side by side (a driver's start-up is most of a case).
fn open_two(implementation: &dyn Implementation) -> Result<(Sessions, Sessions), String> {
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| implementation.open_session());
        let b = implementation.open_session();
        (a.join(), b)
    });
    let a = a
        .map_err(|_| "opening a session panicked".to_string())?
        .map_err(|e| e.to_string())?;
    Ok((a, b.map_err(|e| e.to_string())?))
}

/// A connected stream pair across two sessions (like two actors): (sender side, receiver side).
fn stream_pair(
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

/// Streams: whatever the payload and the sequence of recv sizes, each recv returns between 1 and
/// bufsize bytes (0 only at end of stream) and the concatenation is what was sent.
/// Spec: `data.recv.bufsize`, `data.stream.no-boundaries`, `data.sendall`, `data.eof.shutdown-write`.
pub fn stream_round_trip(
    implementation: &dyn Implementation,
    transport: StreamTransport,
    payload: &Payload,
    bufsizes: &[usize],
) -> Result<(), Counterexample> {
    let fail = |message: String| Counterexample {
        // Its own name over a socketpair: the scenario has another shape, and its own file.
        property: if transport == StreamTransport::Socketpair {
            "socketpair-round-trip"
        } else {
            "stream-round-trip"
        },
        implementation: implementation.name().to_string(),
        fixture: stream_fixture(
            transport,
            payload,
            bufsizes,
            &message,
            has_recv_timeout(implementation),
        ),
        message,
    };
    if transport == StreamTransport::Socketpair {
        return socketpair_round_trip(implementation, payload, bufsizes).map_err(fail);
    }
    let dir = tempfile::tempdir().map_err(|e| fail(format!("temporary directory: {e}")))?;
    let (tx, rx) = open_two(implementation).map_err(fail)?;
    let (client, conn, _) =
        stream_pair(tx.as_ref(), rx.as_ref(), transport, dir.path()).map_err(fail)?;
    let sent = payload.bytes();
    let interrupt = [(tx.as_ref(), client), (rx.as_ref(), conn)];
    bounded(&interrupt, || {
        std::thread::scope(|scope| {
            let sender = scope.spawn(|| {
                call("sendall", Plain(&*tx).sendall(client, &sent))?;
                call(
                    "shutdown(SHUT_WR)",
                    Plain(&*tx).shutdown(client, Shutdown::Write),
                )
            });
            let mut reader = Reader::new(bufsizes, sent.len());
            let mut problem = None;
            loop {
                match reader.recv(rx.as_ref(), conn) {
                    Err(e) => {
                        problem = Some(e);
                        break;
                    }
                    Ok(0) => break,
                    Ok(_) => {}
                }
            }
            if problem.is_some() {
                // Unblock the sender before joining it.
                rx.interrupt(conn);
            }
            let sender = sender
                .join()
                .unwrap_or_else(|_| Err("the sender panicked".to_string()));
            if let Some(problem) = problem {
                return Err(problem);
            }
            sender?;
            reader.matches(&sent)
        })
    })
    .map_err(fail)
}

/// The stream property over a `socketpair()`: one session holds both ends, so the sender sends
/// at most [`SOCKETPAIR_CHUNK`] bytes with `sendall` and the receiver drains them before the next
/// chunk; recv sizes still cycle through `bufsizes` across chunks.
fn socketpair_round_trip(
    implementation: &dyn Implementation,
    payload: &Payload,
    bufsizes: &[usize],
) -> Result<(), String> {
    let session = implementation.open_session().map_err(|e| e.to_string())?;
    let session = session.as_ref();
    let (left, right) = call(
        "socketpair",
        Plain(session).socketpair(Family::Unix, SocketType::Stream),
    )?;
    // A Unix stream queues the bytes at the peer before send returns: bytes that are not there
    // at once are missing (dropped), and waiting for them would only stall.
    fail_when_missing(implementation, session, right)?;
    let sent = payload.bytes();
    bounded(&[(session, left), (session, right)], || {
        let mut reader = Reader::new(bufsizes, sent.len());
        for chunk in sent.chunks(chunk_of(payload)) {
            call("sendall", Plain(&*session).sendall(left, chunk))?;
            let want = reader.received.len() + chunk.len();
            while reader.received.len() < want {
                let before = reader.received.len();
                let got = reader.recv(session, right).map_err(|e| {
                    format!(
                        "{e}, with {} of the {want} bytes sent so far received",
                        before
                    )
                })?;
                if got == 0 {
                    return Err(format!(
                        "recv returned b'' (end of stream) after {} of {} bytes",
                        reader.received.len(),
                        sent.len()
                    ));
                }
            }
        }
        call(
            "shutdown(SHUT_WR)",
            Plain(&*session).shutdown(left, Shutdown::Write),
        )?;
        let n = reader.recv(session, right)?;
        if n != 0 {
            return Err(format!(
                "recv returned {n} more bytes after everything sent had arrived"
            ));
        }
        reader.matches(&sent)
    })
}

/// The socketpair chunk for `payload`: [`SOCKETPAIR_CHUNK`] rounded down to whole patterns, so
/// that every chunk is the same bytes.
pub(crate) fn chunk_of(payload: &Payload) -> usize {
    let pattern = payload.pattern.len().max(1);
    (SOCKETPAIR_CHUNK / pattern).max(1) * pattern
}

/// The receiving end of the stream property: recv sizes cycle through `bufsizes`; every recv is
/// checked against its bufsize and the total against what was sent.
struct Reader<'a> {
    bufsizes: &'a [usize],
    expected: usize,
    calls: usize,
    received: Vec<u8>,
}

impl<'a> Reader<'a> {
    fn new(bufsizes: &'a [usize], expected: usize) -> Self {
        Reader {
            bufsizes,
            expected,
            calls: 0,
            received: Vec::with_capacity(expected),
        }
    }

    /// One recv; the number of bytes it returned (0: end of stream).
    fn recv(&mut self, session: &dyn Session, socket: Handle) -> Result<usize, String> {
        let bufsize = self.bufsizes[self.calls % self.bufsizes.len()];
        self.calls += 1;
        let n = self.calls;
        let chunk = Plain(session)
            .recv(socket, bufsize, RecvFlags::default())
            .map_err(|e| format!("recv #{n} ({bufsize}) failed: {e}"))?;
        if chunk.len() > bufsize {
            return Err(format!(
                "recv #{n} returned {} bytes, more than bufsize {bufsize}",
                chunk.len()
            ));
        }
        self.received.extend_from_slice(&chunk);
        if self.received.len() > self.expected {
            return Err(format!(
                "received {} bytes, more than the {} sent",
                self.received.len(),
                self.expected
            ));
        }
        Ok(chunk.len())
    }

    /// Whether the concatenation is `sent`; where they differ if not.
    fn matches(&self, sent: &[u8]) -> Result<(), String> {
        if self.received == sent {
            return Ok(());
        }
        let at = self
            .received
            .iter()
            .zip(sent)
            .position(|(a, b)| a != b)
            .unwrap_or(self.received.len().min(sent.len()));
        Err(format!(
            "received {} bytes, sent {}; they differ from byte {at}",
            self.received.len(),
            sent.len()
        ))
    }
}

/// Datagrams: each recv returns exactly one datagram's first min(len, bufsize) bytes, in order on
/// loopback, and nothing of a truncated datagram leaks into the next.
/// Spec: `udp.boundaries`, `udp.truncation`, `udp.delivery.loopback`.
pub fn datagram_boundaries(
    implementation: &dyn Implementation,
    transport: DatagramTransport,
    datagrams: &[(Payload, usize)],
) -> Result<(), Counterexample> {
    let fail = |message: String| Counterexample {
        property: "datagram-boundaries",
        implementation: implementation.name().to_string(),
        fixture: datagram_fixture(transport, datagrams, &message),
        message,
    };
    let dir = tempfile::tempdir().map_err(|e| fail(format!("temporary directory: {e}")))?;
    let (tx, rx) = open_two(implementation).map_err(fail)?;
    let family = transport.family();
    let bind = local_address(family, dir.path(), "rx.sock");
    let check = || -> Result<(), String> {
        let receiver = call("socket", Plain(&*rx).socket(family, SocketType::Dgram))?;
        call("bind", Plain(&*rx).bind(receiver, &bind))?;
        // Everything is sent before anything is read, and loopback queues a datagram before
        // sendto returns: a datagram that is not there at once is missing (merged into another,
        // lost), and waiting for it would only stall.
        fail_when_missing(implementation, rx.as_ref(), receiver)?;
        let address = call("getsockname", Plain(&*rx).getsockname(receiver))?;
        let sender = call("socket", Plain(&*tx).socket(family, SocketType::Dgram))?;
        if family == Family::Unix {
            // Bound, so that it has a name to send from (an unbound one is unnamed).
            call(
                "bind",
                Plain(&*tx).bind(sender, &local_address(family, dir.path(), "tx.sock")),
            )?;
        }
        for (i, (payload, _)) in datagrams.iter().enumerate() {
            let n = call(
                &format!("sendto #{}", i + 1),
                Plain(&*tx).sendto(sender, &payload.bytes(), &address),
            )?;
            if n != payload.len {
                return Err(format!(
                    "sendto #{} took {n} of {} bytes",
                    i + 1,
                    payload.len
                ));
            }
        }
        bounded(&[(rx.as_ref(), receiver)], || {
            for (i, (payload, bufsize)) in datagrams.iter().enumerate() {
                let got = call(
                    &format!("recv #{} ({bufsize})", i + 1),
                    Plain(&*rx).recv(receiver, *bufsize, RecvFlags::default()),
                )?;
                let bytes = payload.bytes();
                let want = &bytes[..payload.len.min(*bufsize)];
                if got != want {
                    return Err(format!(
                        "recv #{} ({bufsize}) returned {} bytes; datagram #{} of {} bytes should give its first {}",
                        i + 1,
                        got.len(),
                        i + 1,
                        payload.len,
                        want.len()
                    ));
                }
            }
            Ok(())
        })
    };
    check().map_err(fail)
}

/// Names: the addresses getsockname, getpeername, accept and recvfrom report agree between the
/// two ends. Spec: `names.getpeername.connected`, `names.getsockname.implicit`, `udp.recvfrom.sender`.
pub fn names_agree(
    implementation: &dyn Implementation,
    host: std::net::Ipv4Addr,
) -> Result<(), Counterexample> {
    let fail = |message: String| Counterexample {
        property: "names-agree",
        implementation: implementation.name().to_string(),
        fixture: names_fixture(host, &message),
        message,
    };
    let (a, b) = open_two(implementation).map_err(fail)?;
    let check = || -> Result<(), String> {
        let bind = Address::from((host.to_string().as_str(), 0));
        let listener = call(
            "socket",
            Plain(&*b).socket(Family::Inet, SocketType::Stream),
        )?;
        call("bind", Plain(&*b).bind(listener, &bind))?;
        call("listen", Plain(&*b).listen(listener, None))?;
        let server = call("getsockname", Plain(&*b).getsockname(listener))?;
        let client = call(
            "socket",
            Plain(&*a).socket(Family::Inet, SocketType::Stream),
        )?;
        call("connect", Plain(&*a).connect(client, &server))?;
        let (conn, peer) = call("accept", Plain(&*b).accept(listener))?;
        let client_name = call("getsockname", Plain(&*a).getsockname(client))?;
        let client_peer = call("getpeername", Plain(&*a).getpeername(client))?;
        let conn_name = call("getsockname", Plain(&*b).getsockname(conn))?;
        let conn_peer = call("getpeername", Plain(&*b).getpeername(conn))?;
        let agree = |what: &str, x: &Address, y: &Address| {
            if x == y {
                Ok(())
            } else {
                Err(format!("{what}: {x} != {y}"))
            }
        };
        agree(
            "accept's peer vs the client's getsockname",
            &peer,
            &client_name,
        )?;
        agree(
            "the connection's getpeername vs the client's getsockname",
            &conn_peer,
            &client_name,
        )?;
        agree(
            "the client's getpeername vs the listener's getsockname",
            &client_peer,
            &server,
        )?;
        agree(
            "the connection's getsockname vs the listener's getsockname",
            &conn_name,
            &server,
        )?;

        let rx = call("socket", Plain(&*b).socket(Family::Inet, SocketType::Dgram))?;
        call("bind", Plain(&*b).bind(rx, &bind))?;
        let rx_name = call("getsockname", Plain(&*b).getsockname(rx))?;
        let tx = call("socket", Plain(&*a).socket(Family::Inet, SocketType::Dgram))?;
        // Bound explicitly: an autobound sender reports the wildcard address, not the one used.
        call("bind", Plain(&*a).bind(tx, &bind))?;
        call("sendto", Plain(&*a).sendto(tx, b"who", &rx_name))?;
        let tx_name = call("getsockname", Plain(&*a).getsockname(tx))?;
        let (_, from) = call("recvfrom", Plain(&*b).recvfrom(rx, 16))?;
        agree(
            "recvfrom's sender vs the sender's getsockname",
            &from,
            &tx_name,
        )
    };
    check().map_err(fail)
}
