//! The data properties' checks: streams arrive intact, datagrams keep their boundaries, both
//! ends agree on names. Each returns what went wrong as text; [`super`] turns it into a
//! [`super::Counterexample`].

use super::base::{
    bounded, call, chunk_of, fail_when_missing, local_address, open_two, stream_pair,
    DatagramTransport, Payload, StreamTransport,
};
use crate::implementation::{Handle, Implementation, Plain, Session};
use crate::vocab::{Address, Family, RecvFlags, Shutdown, SocketType};

/// The stream property ([`super::stream_round_trip`]): what went wrong, if anything.
pub(super) fn stream_round_trip(
    implementation: &dyn Implementation,
    transport: StreamTransport,
    payload: &Payload,
    bufsizes: &[usize],
) -> Result<(), String> {
    if transport == StreamTransport::Socketpair {
        return socketpair_round_trip(implementation, payload, bufsizes);
    }
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let (tx, rx) = open_two(implementation)?;
    let (client, conn, _) = stream_pair(tx.as_ref(), rx.as_ref(), transport, dir.path())?;
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

/// The datagram property ([`super::datagram_boundaries`]): what went wrong, if anything.
pub(super) fn datagram_boundaries(
    implementation: &dyn Implementation,
    transport: DatagramTransport,
    datagrams: &[(Payload, usize)],
) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let (tx, rx) = open_two(implementation)?;
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
    check()
}

/// The names property ([`super::names_agree`]): what went wrong, if anything.
pub(super) fn names_agree(
    implementation: &dyn Implementation,
    host: std::net::Ipv4Addr,
) -> Result<(), String> {
    let (a, b) = open_two(implementation)?;
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
    check()
}
