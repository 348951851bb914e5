//! Lifecycle properties: what `close` and `shutdown` do, whatever came before them.
//!
//! - [`closed_socket_refuses_everything`]: after `close`, every operation fails with `EBADF`
//!   (`close` again, `fileno`, `gettimeout`, `getblocking` and `poll` answer as
//!   [`AfterClose::expected`] says), whatever state the socket was in.
//! - [`shutdown_interleaving`]: on a connected stream, any interleaving of sends, receives,
//!   shutdowns (either direction, either end) and `getpeername` has the outcomes the spec allows.
//!   A small model of the connection decides what each call may return, and lets only calls
//!   through that cannot block for ever.
//!
//! A check returns what failed as data (a message; for the interleaving, also the calls made),
//! not as a scenario: `super::render` writes that, and `super` puts the two together.

use super::base::{bounded, call, local_address, open_two, stream_pair, StreamTransport};
use crate::implementation::{dispatch, Handle, Implementation, Plain, Session};
use crate::operation::Reply;
use crate::scenario::{AddressExpr, CallStep, Resolve, SampleContext};
use crate::vocab::{Address, ErrorCode, Family, RecvFlags, Shutdown, SockError, SocketType};
use nix::errno::Errno::{EBADF, ECONNRESET, ENOTCONN, EPIPE};
use std::path::Path;
use std::time::Duration;

/// What a socket had been through before it was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setup {
    /// Created only.
    Unbound,
    /// Bound to a loopback address (or a path).
    Bound,
    /// Bound and listening (streams).
    Listening,
    /// Connected: a stream client whose connection was queued, or a datagram socket given a peer.
    Connected,
    /// A connection returned by `accept` (streams).
    Accepted,
    /// One end of a `socketpair()` (Unix).
    Paired,
    /// A connected stream after `shutdown(SHUT_RDWR)`.
    ShutDown,
}

impl Setup {
    /// Every history, in a fixed order.
    pub const ALL: [Setup; 7] = [
        Setup::Unbound,
        Setup::Bound,
        Setup::Listening,
        Setup::Connected,
        Setup::Accepted,
        Setup::Paired,
        Setup::ShutDown,
    ];
}

/// The socket the close property closes: its family, type and history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClosedSocket {
    /// Its address family.
    pub family: Family,
    /// Its type.
    pub kind: SocketType,
    /// What happened to it before `close`.
    pub setup: Setup,
}

impl ClosedSocket {
    /// Whether the setup makes sense for the family and type (no listening datagram socket, no
    /// Internet socketpair).
    pub fn is_possible(&self) -> bool {
        let stream = self.kind == SocketType::Stream;
        match self.setup {
            Setup::Unbound | Setup::Bound | Setup::Connected => true,
            Setup::Listening | Setup::Accepted | Setup::ShutDown => stream,
            Setup::Paired => self.family == Family::Unix,
        }
    }
}

/// A call tried on a closed socket: a sample of an operation of the table that acts on a
/// socket ([`CallStep::samples`]), so that every operation is tried, a new one included.
#[derive(Clone, Debug, PartialEq)]
pub struct AfterClose(pub CallStep);

/// What the spec says a call on a closed socket gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClosedOutcome {
    /// It fails with `EBADF` (`close.use-after-close`).
    Ebadf,
    /// It succeeds: `close` again (`close.twice`), and `gettimeout`/`getblocking`, which read
    /// what the socket object keeps (`modes.closed-socket`).
    Succeeds,
    /// It returns this value: `fileno` is -1 (`close.fileno`).
    Value(i64),
    /// It is refused before any system call: `poll` has no descriptor to register
    /// (`readiness.poll.closed`).
    Rejected,
}

impl AfterClose {
    /// Every call to try on a closed socket of `family`, grouped by operation; their address
    /// is `closed_address` of the family.
    pub fn every(family: Family) -> Vec<Vec<AfterClose>> {
        let context = SampleContext {
            socket: "s".to_string(),
            address: closed_address(family),
        };
        CallStep::samples(&context)
            .into_iter()
            .map(|group| group.into_iter().map(AfterClose).collect())
            .collect()
    }

    /// What the call must give. The operations that do not fail with `EBADF` are named here,
    /// each with its requirement: a new operation is expected to fail like the others until
    /// the spec says otherwise.
    pub fn expected(&self) -> ClosedOutcome {
        match self.0.name() {
            "close" | "exit_context" | "gettimeout" | "getblocking" => ClosedOutcome::Succeeds,
            "fileno" => ClosedOutcome::Value(-1),
            "poll" => ClosedOutcome::Rejected,
            _ => ClosedOutcome::Ebadf,
        }
    }
}

/// The address calls on a closed socket of `family` use: loopback, or `after-close.sock` in
/// the scenario's directory.
pub fn closed_address(family: Family) -> AddressExpr {
    match family {
        Family::Inet => AddressExpr::Literal(Address::from(("127.0.0.1", 0))),
        Family::Inet6 => AddressExpr::Literal(Address::from(("::1", 0))),
        Family::Unix => AddressExpr::UnixName("after-close.sock".to_string()),
    }
}

/// Why a closed socket could not be set up.
enum SetUpError {
    /// The implementation cannot express a call the set-up needs: nothing to check.
    Unsupported,
    /// A call failed.
    Failed(String),
}

impl From<String> for SetUpError {
    fn from(message: String) -> Self {
        SetUpError::Failed(message)
    }
}

/// Builds the socket `target` describes in `session`; returns it.
fn set_up(session: &dyn Session, target: ClosedSocket, dir: &Path) -> Result<Handle, SetUpError> {
    let ClosedSocket {
        family,
        kind,
        setup,
    } = target;
    if setup == Setup::Paired {
        return Ok(call("socketpair", Plain(session).socketpair(family, kind))?.0);
    }
    let socket = call("socket", Plain(session).socket(family, kind))?;
    match setup {
        Setup::Unbound | Setup::Paired => Ok(socket),
        Setup::Bound => {
            call(
                "bind",
                Plain(session).bind(socket, &local_address(family, dir, "s.sock")),
            )?;
            Ok(socket)
        }
        Setup::Listening => {
            call(
                "bind",
                Plain(session).bind(socket, &local_address(family, dir, "s.sock")),
            )?;
            call("listen", Plain(session).listen(socket, None))?;
            Ok(socket)
        }
        Setup::Connected | Setup::Accepted | Setup::ShutDown => {
            // The other end, in the same session: a stream connect completes from the listen
            // queue, a datagram connect needs only a bound address.
            let other = call("socket", Plain(session).socket(family, kind))?;
            call(
                "bind",
                Plain(session).bind(other, &local_address(family, dir, "peer.sock")),
            )?;
            if kind == SocketType::Stream {
                call("listen", Plain(session).listen(other, None))?;
            }
            let address = call("getsockname", Plain(session).getsockname(other))?;
            call("connect", Plain(session).connect(socket, &address))?;
            match setup {
                Setup::Accepted => Ok(call("accept", Plain(session).accept(other))?.0),
                Setup::ShutDown => {
                    match Plain(session).shutdown(socket, Shutdown::Both) {
                        // turmoil's shim shuts down writing only: a shutdown of the reading side
                        // it cannot make, so the case is one it cannot be put in.
                        Err(e) if e.code == ErrorCode::Unsupported => Err(SetUpError::Unsupported),
                        r => {
                            call("shutdown", r)?;
                            Ok(socket)
                        }
                    }
                }
                _ => Ok(socket),
            }
        }
    }
}

/// Makes `op` on the closed `socket`.
fn try_after_close(
    session: &dyn Session,
    socket: Handle,
    op: &AfterClose,
    dir: &Path,
) -> Result<Reply, SockError> {
    let call = op.0.to_call(&mut OnClosed { socket, dir })?;
    dispatch(session, &call)
}

/// The names of a call on a closed socket: the socket itself, and a path in the property's
/// directory for a Unix address.
struct OnClosed<'a> {
    socket: Handle,
    dir: &'a Path,
}

impl Resolve for OnClosed<'_> {
    type Error = SockError;

    fn socket(&mut self, _: &str) -> Result<Handle, SockError> {
        Ok(self.socket)
    }

    fn address(&mut self, expr: &AddressExpr) -> Result<Address, SockError> {
        match expr {
            AddressExpr::Literal(address) => Ok(address.clone()),
            AddressExpr::UnixName(name) => Ok(Address::UnixPath(self.dir.join(name))),
            other => Err(SockError {
                code: ErrorCode::Broken,
                message: format!("the close property has no address for `{other}`"),
            }),
        }
    }
}

/// How long the close property lets a call on a closed socket take: it should fail at once,
/// and one that blocks instead (an `accept` or `recv` that went to a live descriptor) must not
/// hang the run.
const AFTER_CLOSE_LIMIT: Duration = Duration::from_secs(5);

/// The close property ([`super::closed_socket_refuses_everything`]): what went wrong, if
/// anything.
pub(super) fn closed_socket_refuses_everything(
    implementation: &dyn Implementation,
    target: ClosedSocket,
    ops: &[AfterClose],
) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let session = implementation.open_session().map_err(|e| e.to_string())?;
    let session = session.as_ref();
    let socket = match set_up(session, target, dir.path()) {
        Ok(socket) => socket,
        Err(SetUpError::Unsupported) => return Ok(()),
        Err(SetUpError::Failed(message)) => return Err(message),
    };
    call("close", Plain(session).close(socket))?;
    let (result, _) =
        crate::implementation::within(AFTER_CLOSE_LIMIT, &[(session, socket)], || {
            for (i, op) in ops.iter().enumerate() {
                let outcome = try_after_close(session, socket, op, dir.path());
                let step = format!("{} (#{} after close)", op.0.name(), i + 1);
                match (op.expected(), outcome) {
                    // An operation the implementation cannot express says so; it proves nothing.
                    (_, Err(e)) if e.code == ErrorCode::Unsupported => {}
                    (ClosedOutcome::Ebadf, Err(e)) if e.code == ErrorCode::errno(EBADF) => {}
                    (ClosedOutcome::Ebadf, Err(e)) => {
                        return Err(format!("{step} failed with {e}, not EBADF"))
                    }
                    (ClosedOutcome::Ebadf, Ok(reply)) => {
                        return Err(format!(
                            "{step} succeeded ({}); it should fail with EBADF",
                            reply.to_json()
                        ))
                    }
                    (ClosedOutcome::Succeeds, Ok(_)) => {}
                    (ClosedOutcome::Value(v), Ok(Reply::Fileno(n))) if n == v => {}
                    (ClosedOutcome::Value(v), Ok(reply)) => {
                        return Err(format!("{step} returned {}, not {v}", reply.to_json()))
                    }
                    (ClosedOutcome::Rejected, Err(e)) if e.code == ErrorCode::Rejected => {}
                    (ClosedOutcome::Rejected, Ok(reply)) => {
                        return Err(format!(
                            "{step} returned {}; it should be refused (`rejected`)",
                            reply.to_json()
                        ))
                    }
                    (ClosedOutcome::Succeeds | ClosedOutcome::Value(_), Err(e)) => {
                        return Err(format!("{step} failed with {e}; it should succeed"))
                    }
                    (ClosedOutcome::Rejected, Err(e)) => {
                        return Err(format!("{step} failed with {e}, not `rejected`"))
                    }
                }
            }
            Ok(())
        });
    result
}

/// One end of the connection in [`shutdown_interleaving`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The connecting end (a socketpair's first socket).
    A,
    /// The accepted end (a socketpair's second socket).
    B,
}

impl Action {
    /// The end making the call.
    pub fn end(self) -> End {
        match self {
            Action::Send { end, .. }
            | Action::Recv { end, .. }
            | Action::Shutdown { end, .. }
            | Action::Getpeername { end } => end,
        }
    }
}

impl End {
    fn index(self) -> usize {
        match self {
            End::A => 0,
            End::B => 1,
        }
    }
    /// The other end.
    pub fn peer(self) -> End {
        match self {
            End::A => End::B,
            End::B => End::A,
        }
    }
}

/// A call in [`shutdown_interleaving`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `send` of `len` bytes, the next of the end's outgoing stream.
    Send {
        /// The sending end.
        end: End,
        /// How many bytes.
        len: usize,
    },
    /// `recv(bufsize)`.
    Recv {
        /// The receiving end.
        end: End,
        /// Its bufsize.
        bufsize: usize,
    },
    /// `shutdown(how)`.
    Shutdown {
        /// The end shutting down.
        end: End,
        /// Which direction.
        how: Shutdown,
    },
    /// `getpeername()`.
    Getpeername {
        /// The asking end.
        end: End,
    },
}

/// A raw choice drawn by proptest; [`ConnectionModel::choose`] turns it into an [`Action`] or
/// drops it (a recv that would wait for ever, a send that could fill the buffers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    /// Which end (even: A).
    pub end: u8,
    /// Which call.
    pub kind: u8,
    /// Its argument (a length, a bufsize, a direction).
    pub arg: u16,
}

/// At most this many bytes are unread in each direction, so that no send can block.
const MAX_UNREAD: usize = 32 * 1024;

/// The alphabet of the streams: 61 letters and digits, a prime number of them, so that no send
/// or recv size lines up with the period.
const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxy";

/// The bytes of the stream from `end`, from position `at`: the alphabet repeated, shifted by
/// half a period in the other direction so that the two streams differ.
pub fn stream_bytes(end: End, at: usize, len: usize) -> Vec<u8> {
    let offset = 30 * end.index();
    (at..at + len)
        .map(|i| ALPHABET[(i + offset) % ALPHABET.len()])
        .collect()
}

/// The stream from `end` at `at` as a repeated pattern (the alphabet, rotated): a scenario writes
/// `{repeat: PATTERN, len: N}` instead of the bytes.
pub fn stream_pattern(end: End, at: usize) -> String {
    String::from_utf8_lossy(&stream_bytes(end, at, ALPHABET.len())).into_owned()
}

/// What the model knows of one end.
#[derive(Clone, Copy, Debug, Default)]
struct EndState {
    /// It has shut down writing.
    write_shut: bool,
    /// It has shut down reading.
    read_shut: bool,
    /// Bytes it has sent (the length of its outgoing stream).
    sent: usize,
    /// Bytes of the peer's stream it has received (the position of its cursor).
    received: usize,
}

/// The model of a connection: the two ends, and whether it is TCP.
#[derive(Clone, Debug)]
pub struct ConnectionModel {
    ends: [EndState; 2],
    tcp: bool,
    /// An end that shut down reading had bytes unread (sent, or still on their way): the
    /// connection may have been reset (`data.shutdown.read.data`; Linux resets a TCP socket shut
    /// down in both directions when data arrives).
    /// Also when such a send was refused: an implementation that took the bytes (as the spec
    /// allows) may have been reset, and the run and the scenario it writes must agree on what
    /// they allow.
    reset_possible: bool,
}

/// What an action is expected to do, as the model decided before the call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// The call succeeds (shutdown).
    Ok,
    /// The call succeeds or fails with `ENOTCONN` (TCP after both ends shut down writing).
    OkOrNotConnected,
    /// `send` fails with `EPIPE`.
    BrokenPipe,
    /// `send` returns 1 to `len`.
    Sends(usize),
    /// `send` returns 1 to `len`, or fails with `EPIPE` or `ECONNRESET` (the peer shut down
    /// reading).
    SendsOrRefused(usize),
    /// `recv` returns the next 1 to `max` bytes of the peer's stream.
    Data {
        /// The next bytes of the peer's stream, as many as may come back.
        next: Vec<u8>,
    },
    /// `recv` returns `b''`.
    Eof,
    /// `recv` returns `b''`, or bytes of the peer's stream at or after the cursor (own
    /// `SHUT_RD`: queued and later data may be delivered or discarded).
    EofOrLater {
        /// The rest of the peer's stream from the cursor.
        rest: Vec<u8>,
    },
    /// `getpeername` names the peer, or fails with `ENOTCONN` if `maybe_closed`.
    Peer {
        /// TCP after both ends shut down writing.
        maybe_closed: bool,
    },
}

impl ConnectionModel {
    /// A fresh connection.
    pub fn new(transport: StreamTransport) -> Self {
        ConnectionModel {
            ends: [EndState::default(); 2],
            reset_possible: false,
            tcp: matches!(transport, StreamTransport::Tcp4 | StreamTransport::Tcp6),
        }
    }

    fn end(&self, end: End) -> &EndState {
        &self.ends[end.index()]
    }

    /// TCP after both ends shut down writing: the FIN handshake is over and the connection is
    /// closed (`data.shutdown.both-finished`).
    fn finished(&self) -> bool {
        self.tcp && self.ends.iter().all(|e| e.write_shut)
    }

    /// Bytes of the peer's stream that `end` has not received.
    fn unread(&self, end: End) -> usize {
        self.end(end.peer()).sent - self.end(end).received
    }

    /// The action `choice` stands for here, or `None` if it could block.
    pub fn choose(&self, choice: Choice) -> Option<Action> {
        let end = if choice.end % 2 == 0 { End::A } else { End::B };
        let arg = usize::from(choice.arg);
        match choice.kind % 4 {
            0 => {
                let len = 1 + arg % 4096;
                (self.unread(end.peer()) + len <= MAX_UNREAD).then_some(Action::Send { end, len })
            }
            1 => {
                let me = self.end(end);
                let returns_at_once =
                    self.unread(end) > 0 || self.end(end.peer()).write_shut || me.read_shut;
                returns_at_once.then_some(Action::Recv {
                    end,
                    bufsize: 1 + arg % 8192,
                })
            }
            2 => Some(Action::Shutdown {
                end,
                how: match arg % 3 {
                    0 => Shutdown::Read,
                    1 => Shutdown::Write,
                    _ => Shutdown::Both,
                },
            }),
            _ => Some(Action::Getpeername { end }),
        }
    }

    /// What `action` is allowed to do now.
    pub fn expect(&self, action: Action) -> Expected {
        match action {
            Action::Send { end, len } => {
                if self.end(end).write_shut {
                    Expected::BrokenPipe
                } else if self.end(end.peer()).read_shut {
                    Expected::SendsOrRefused(len)
                } else {
                    Expected::Sends(len)
                }
            }
            Action::Recv { end, bufsize } => {
                let me = self.end(end);
                let from = end.peer();
                let unread = self.unread(end);
                if me.read_shut {
                    Expected::EofOrLater {
                        rest: stream_bytes(from, me.received, unread),
                    }
                } else if unread > 0 {
                    Expected::Data {
                        next: stream_bytes(from, me.received, unread.min(bufsize)),
                    }
                } else {
                    Expected::Eof
                }
            }
            Action::Shutdown { .. } if self.finished() => Expected::OkOrNotConnected,
            Action::Shutdown { .. } => Expected::Ok,
            Action::Getpeername { .. } => Expected::Peer {
                maybe_closed: self.finished(),
            },
        }
    }

    /// Records what happened: `sent` bytes taken by a send, `received` bytes (starting `skipped`
    /// bytes after the cursor) returned by a recv.
    fn record(&mut self, action: Action, sent: usize, skipped: usize, received: usize) {
        match action {
            Action::Send { end, .. } => {
                self.ends[end.index()].sent += sent;
                self.reset_possible |= !self.end(end).write_shut && self.end(end.peer()).read_shut;
            }
            Action::Recv { end, .. } => self.ends[end.index()].received += skipped + received,
            Action::Shutdown { end, how } => {
                let me = &mut self.ends[end.index()];
                me.read_shut |= how != Shutdown::Write;
                me.write_shut |= how != Shutdown::Read;
            }
            Action::Getpeername { .. } => {}
        }
        // Unread bytes at an end that shut down reading may still be in flight (TCP holds small
        // sends back until the previous one is acknowledged: Nagle's algorithm), so they may
        // arrive after the shutdown, which Linux answers with a reset once the end has shut
        // down writing too.
        for end in [End::A, End::B] {
            self.reset_possible |= self.end(end).read_shut && self.unread(end) > 0;
        }
    }
}

/// What a call in [`shutdown_interleaving`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    /// `send` returned this count.
    Count(usize),
    /// `recv` returned these bytes.
    Bytes(Vec<u8>),
    /// `getpeername` returned this name.
    Name(Address),
    /// `shutdown` succeeded.
    Done,
    /// The call failed.
    Failed(SockError),
}

/// A call the property made: what it was, what the model allowed, and what it did (`None` for
/// the call that broke the property).
#[derive(Clone, Debug)]
pub struct Ran {
    /// The call.
    pub action: Action,
    /// Where in the stream the call starts: for a send, the end's outgoing stream; for a recv,
    /// the peer's stream (the cursor).
    pub position: usize,
    /// What the model allowed.
    pub expected: Expected,
    /// A conforming implementation may have reset the connection before this call (so
    /// ECONNRESET, EPIPE or ENOTCONN ends the case, and a written scenario allows them).
    pub reset_possible: bool,
    /// What it did, if that was allowed.
    pub observed: Option<Observed>,
}

/// Is `e` the errno `errno`?
fn is(e: &SockError, errno: nix::errno::Errno) -> bool {
    e.code == ErrorCode::errno(errno)
}

/// Makes the call.
fn perform(session: &dyn Session, socket: Handle, action: Action, position: usize) -> Observed {
    let result = match action {
        Action::Send { end, len } => Plain(session)
            .send(socket, &stream_bytes(end, position, len))
            .map(Observed::Count),
        Action::Recv { bufsize, .. } => Plain(session)
            .recv(socket, bufsize, RecvFlags::default())
            .map(Observed::Bytes),
        Action::Shutdown { how, .. } => Plain(session)
            .shutdown(socket, how)
            .map(|()| Observed::Done),
        Action::Getpeername { .. } => Plain(session).getpeername(socket).map(Observed::Name),
    };
    result.unwrap_or_else(Observed::Failed)
}

/// Whether `observed` is what `expected` allows; for a receive, how many bytes of the peer's
/// stream it skipped (discarded after `SHUT_RD`).
fn check(
    action: Action,
    expected: &Expected,
    observed: &Observed,
    peer_name: &Address,
) -> Result<usize, String> {
    let allowed = match (expected, observed) {
        (Expected::BrokenPipe, Observed::Failed(e)) => is(e, EPIPE),
        (Expected::Sends(len) | Expected::SendsOrRefused(len), Observed::Count(n)) => {
            (1..=*len).contains(n)
        }
        (Expected::SendsOrRefused(_), Observed::Failed(e)) => is(e, EPIPE) || is(e, ECONNRESET),
        (_, Observed::Bytes(got)) if matches!(action, Action::Recv { bufsize, .. } if got.len() > bufsize) =>
        {
            return Err(format!("returned {} bytes, more than bufsize", got.len()));
        }
        (Expected::Eof, Observed::Bytes(got)) => got.is_empty(),
        (Expected::Data { next }, Observed::Bytes(got)) => !got.is_empty() && next.starts_with(got),
        (Expected::EofOrLater { .. }, Observed::Bytes(got)) if got.is_empty() => true,
        (Expected::EofOrLater { rest }, Observed::Bytes(got)) => {
            // The first place in the rest of the stream where these bytes are.
            if let Some(skipped) = rest.windows(got.len()).position(|w| w == got.as_slice()) {
                return Ok(skipped);
            }
            false
        }
        (Expected::Ok | Expected::OkOrNotConnected, Observed::Done) => true,
        (Expected::OkOrNotConnected, Observed::Failed(e)) => is(e, ENOTCONN),
        (Expected::Peer { .. }, Observed::Name(name)) => name == peer_name,
        (Expected::Peer { maybe_closed }, Observed::Failed(e)) => *maybe_closed && is(e, ENOTCONN),
        _ => false,
    };
    if allowed {
        Ok(0)
    } else {
        Err(format!(
            "{} where the spec allows {}",
            describe(observed),
            allows(expected, peer_name)
        ))
    }
}

/// An outcome, for messages.
fn describe(observed: &Observed) -> String {
    match observed {
        Observed::Count(n) => format!("returned {n}"),
        Observed::Bytes(b) if b.is_empty() => "returned b'' (end of stream)".to_string(),
        Observed::Bytes(b) => format!(
            "returned {} bytes {:?}",
            b.len(),
            String::from_utf8_lossy(b)
        ),
        Observed::Name(name) => format!("returned {name}"),
        Observed::Done => "succeeded".to_string(),
        Observed::Failed(e) => format!("failed with {e}"),
    }
}

/// What the model allows, for messages.
fn allows(expected: &Expected, peer_name: &Address) -> String {
    match expected {
        Expected::Ok => "success".to_string(),
        Expected::OkOrNotConnected => "success or ENOTCONN (data.shutdown.both-finished)".to_string(),
        Expected::BrokenPipe => "only EPIPE (data.shutdown.write.send)".to_string(),
        Expected::Sends(len) => format!("a count from 1 to {len}"),
        Expected::SendsOrRefused(len) => {
            format!("a count from 1 to {len}, EPIPE or ECONNRESET (data.shutdown.read.data)")
        }
        Expected::Data { next } => format!(
            "the next 1 to {} bytes of the stream, {:?}… (data.recv.bufsize)",
            next.len(),
            String::from_utf8_lossy(&next[..next.len().min(16)])
        ),
        Expected::Eof => "only b'': the peer shut down writing and everything it sent was read (data.eof.shutdown-write)".to_string(),
        Expected::EofOrLater { .. } => {
            "b'' or bytes of the stream (data.shutdown.read, data.shutdown.read.data)".to_string()
        }
        Expected::Peer { maybe_closed: false } => format!("{peer_name} (names.getpeername.connected)"),
        Expected::Peer { maybe_closed: true } => {
            format!("{peer_name} or ENOTCONN (data.shutdown.both-finished)")
        }
    }
}

/// How [`shutdown_interleaving`] failed: what went wrong, and the calls made up to the one that
/// broke the property (the last, with no `observed`), or all of them if the connection could
/// not be set up or a call was interrupted.
#[derive(Clone, Debug)]
pub(super) struct Interrupted {
    /// What went wrong.
    pub message: String,
    /// The calls made.
    pub ran: Vec<Ran>,
}

/// The interleaving property ([`super::shutdown_interleaving`]): the actions run, or how it
/// failed.
pub(super) fn shutdown_interleaving(
    implementation: &dyn Implementation,
    transport: StreamTransport,
    choices: &[Choice],
) -> Result<Vec<Action>, Interrupted> {
    let mut ran: Vec<Ran> = Vec::new();
    let mut model = ConnectionModel::new(transport);
    let outcome = (|| -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let sessions;
        let single;
        // (session, socket) of A and of B.
        let ends: [(&dyn Session, Handle); 2] = if transport == StreamTransport::Socketpair {
            single = implementation.open_session().map_err(|e| e.to_string())?;
            let (a, b) = call(
                "socketpair",
                Plain(&*single).socketpair(Family::Unix, SocketType::Stream),
            )?;
            [(single.as_ref(), a), (single.as_ref(), b)]
        } else {
            sessions = open_two(implementation)?;
            let (a, b, _) = stream_pair(
                sessions.0.as_ref(),
                sessions.1.as_ref(),
                transport,
                dir.path(),
            )?;
            [(sessions.0.as_ref(), a), (sessions.1.as_ref(), b)]
        };
        let names = [
            call("getsockname", Plain(ends[0].0).getsockname(ends[0].1))?,
            call("getsockname", Plain(ends[1].0).getsockname(ends[1].1))?,
        ];
        bounded(&ends, || {
            for &choice in choices {
                let Some(action) = model.choose(choice) else {
                    continue;
                };
                let end = action.end();
                let (session, socket) = ends[end.index()];
                let position = match action {
                    Action::Recv { .. } => model.end(end).received,
                    _ => model.end(end).sent,
                };
                let expected = model.expect(action);
                let peer_name = &names[end.peer().index()];
                let observed = perform(session, socket, action, position);
                // A call the implementation cannot express (turmoil's shim has no shutdown of
                // the reading side) says nothing about the model: the case ends here.
                if matches!(&observed, Observed::Failed(e) if e.code == ErrorCode::Unsupported) {
                    break;
                }
                let reset_possible = model.reset_possible;
                // After a reset the rest is `data.reset.after`'s business: the case ends here.
                let reset = reset_possible
                    && matches!(&observed, Observed::Failed(e)
                        if is(e, ECONNRESET) || is(e, EPIPE) || is(e, ENOTCONN));
                let verdict = if reset {
                    Ok(0)
                } else {
                    check(action, &expected, &observed, peer_name)
                };
                let step = ran.len() + 1;
                ran.push(Ran {
                    action,
                    position,
                    expected,
                    reset_possible,
                    observed: verdict.is_ok().then(|| observed.clone()),
                });
                if reset {
                    break;
                }
                let skipped = verdict.map_err(|e| format!("step {step}, {action:?}: {e}"))?;
                let (sent, received) = match observed {
                    Observed::Count(n) => (n, 0),
                    Observed::Bytes(b) => (0, b.len()),
                    _ => (0, 0),
                };
                model.record(action, sent, skipped, received);
            }
            Ok(())
        })
    })();
    match outcome {
        Ok(()) => Ok(ran.into_iter().map(|r| r.action).collect()),
        Err(message) => Err(Interrupted { message, ran }),
    }
}
