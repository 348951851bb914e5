//! Properties that hold for every conforming implementation, checked on inputs that proptest
//! draws (see `tests/properties.rs`), and turned into a YAML fixture when they fail.
//!
//! Each check opens sessions of the implementation like a scenario's actors do, works on real
//! loopback sockets, and on failure returns a [`Counterexample`] whose `fixture` is a scenario
//! that `sockspec run` replays: moving that file into `fixtures/` makes the found bug a permanent
//! test.
//!
//! The modules are layered, each using only those below it: `base` (inputs, [`Counterexample`],
//! the helpers every check uses); `transfer` and `lifecycle` (the checks, and the lifecycle
//! models; a failure comes back as data); [`render`] (a failure's scenario, built as a
//! [`crate::scenario::Scenario`] and serialised); and this module, which runs a check and, when
//! it fails, makes the [`Counterexample`] with its scenario.

mod base;
mod lifecycle;
pub mod render;
pub mod search;
mod transfer;

pub use base::{
    regression_path, regressions_dir, Counterexample, DatagramTransport, Payload, StreamTransport,
    DEFAULT_REGRESSIONS_DIR, SOCKETPAIR_CHUNK,
};
pub use lifecycle::{
    stream_bytes, Action, AfterClose, Choice, ClosedSocket, ConnectionModel, End, Expected,
    Observed, Ran, Setup,
};

use crate::implementation::Implementation;
use crate::scenario::Scenario;

/// The counterexample of `property` failing on `implementation` with `message`, shown by
/// `scenario`.
fn counterexample(
    property: &'static str,
    implementation: &dyn Implementation,
    message: String,
    scenario: &Scenario,
) -> Counterexample {
    Counterexample {
        property,
        implementation: implementation.name().to_string(),
        fixture: render::fixture(property, &message, scenario),
        message,
    }
}

/// Streams: whatever the payload and the sequence of recv sizes, each recv returns between 1 and
/// bufsize bytes (0 only at end of stream) and the concatenation is what was sent.
/// Spec: `data.recv.bufsize`, `data.stream.no-boundaries`, `data.sendall`, `data.eof.shutdown-write`.
///
/// Over a socketpair one session holds both ends, so the sender sends at most
/// [`SOCKETPAIR_CHUNK`] bytes with `sendall` and the receiver drains them before the next chunk;
/// the property then has its own name ([`render::stream_property`]), as its scenario has another
/// shape.
pub fn stream_round_trip(
    implementation: &dyn Implementation,
    transport: StreamTransport,
    payload: &Payload,
    bufsizes: &[usize],
) -> Result<(), Counterexample> {
    transfer::stream_round_trip(implementation, transport, payload, bufsizes).map_err(|message| {
        let recv_timeout = base::has_recv_timeout(implementation);
        counterexample(
            render::stream_property(transport),
            implementation,
            message,
            &render::stream(transport, payload, bufsizes, recv_timeout),
        )
    })
}

/// Datagrams: each recv returns exactly one datagram's first min(len, bufsize) bytes, in order on
/// loopback, and nothing of a truncated datagram leaks into the next.
/// Spec: `udp.boundaries`, `udp.truncation`, `udp.delivery.loopback`.
pub fn datagram_boundaries(
    implementation: &dyn Implementation,
    transport: DatagramTransport,
    datagrams: &[(Payload, usize)],
) -> Result<(), Counterexample> {
    transfer::datagram_boundaries(implementation, transport, datagrams).map_err(|message| {
        counterexample(
            render::DATAGRAM_PROPERTY,
            implementation,
            message,
            &render::datagrams(transport, datagrams),
        )
    })
}

/// Names: the addresses getsockname, getpeername, accept and recvfrom report agree between the
/// two ends. Spec: `names.getpeername.connected`, `names.getsockname.implicit`, `udp.recvfrom.sender`.
pub fn names_agree(
    implementation: &dyn Implementation,
    host: std::net::Ipv4Addr,
) -> Result<(), Counterexample> {
    transfer::names_agree(implementation, host).map_err(|message| {
        counterexample(
            render::NAMES_PROPERTY,
            implementation,
            message,
            &render::names(host),
        )
    })
}

/// Closed sockets: after `close()`, each of `ops` gives what the spec says ([`AfterClose::expected`]):
/// `EBADF`, but for the few operations that answer without the descriptor.
/// Spec: `close.use-after-close`, `close.twice`, `close.fileno`, `modes.closed-socket`,
/// `readiness.poll.closed`.
pub fn closed_socket_refuses_everything(
    implementation: &dyn Implementation,
    target: ClosedSocket,
    ops: &[AfterClose],
) -> Result<(), Counterexample> {
    lifecycle::closed_socket_refuses_everything(implementation, target, ops).map_err(|message| {
        counterexample(
            render::CLOSED_PROPERTY,
            implementation,
            message,
            &render::closed(target, ops),
        )
    })
}

/// Shutdown, interleaved: whatever the order of sends, receives, shutdowns and `getpeername`
/// on the two ends of a connected stream, each call has an outcome the spec allows, and a
/// receive never waits when the spec says it returns at once. Returns the actions run.
/// Spec: `data.shutdown.write.send`, `data.shutdown.read`, `data.shutdown.read.data`,
/// `data.eof.shutdown-write`, `data.half-close`, `data.shutdown.repeat`,
/// `data.shutdown.both-finished`, `data.recv.bufsize`, `names.getpeername.connected`.
pub fn shutdown_interleaving(
    implementation: &dyn Implementation,
    transport: StreamTransport,
    choices: &[Choice],
) -> Result<Vec<Action>, Counterexample> {
    lifecycle::shutdown_interleaving(implementation, transport, choices).map_err(|failed| {
        counterexample(
            render::INTERLEAVING_PROPERTY,
            implementation,
            failed.message,
            &render::interleaving(transport, &failed.ran),
        )
    })
}
