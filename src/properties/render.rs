//! Counterexamples as scenarios: YAML that `sockspec run` replays.

use super::{DatagramTransport, Payload, StreamTransport};
use std::fmt::Write;

fn header(property: &str, message: &str, title: &str, requirements: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Written by the property `{property}` when it failed:"
    );
    for line in message.lines() {
        let _ = writeln!(out, "#   {line}");
    }
    let _ = writeln!(
        out,
        "# Replay: sockspec run --impl NAME THIS-FILE. Keep it: move it into fixtures/."
    );
    let _ = writeln!(out, "title: {title:?}");
    let _ = writeln!(out, "requirements: [{requirements}]");
    let _ = writeln!(out, "tags: [property, regression]");
    out
}

fn repeat(payload: &Payload) -> String {
    format!("{{repeat: {:?}, len: {}}}", payload.pattern, payload.len)
}

/// A scenario sending `payload` over `transport` and expecting it back intact, then end of stream.
pub(super) fn stream_fixture(
    transport: StreamTransport,
    payload: &Payload,
    bufsizes: &[usize],
    message: &str,
) -> String {
    let (family, address) = match transport {
        StreamTransport::Socketpair => return socketpair_fixture(payload, bufsizes, message),
        StreamTransport::Tcp4 => ("inet", "\"127.0.0.1:0\""),
        StreamTransport::Tcp6 => ("inet6", "\"[::1]:0\""),
        StreamTransport::UnixStream => ("unix", "\"unix:server.sock\""),
    };
    let smallest = bufsizes.iter().copied().min().unwrap_or(1).max(1);
    let largest = bufsizes.iter().copied().max().unwrap_or(1).max(1);
    let mut out = header(
        "stream-round-trip",
        message,
        &format!(
            "{} bytes over {family} stream arrive intact, received {smallest} bytes at a time",
            payload.len
        ),
        "data.recv.bufsize, data.stream.no-boundaries, data.sendall, data.eof.shutdown-write",
    );
    let _ = write!(
        out,
        "actors:
  receiver:
    - socket: {{family: {family}, type: stream, as: srv}}
    - bind: {{socket: srv, address: {address}}}
    - listen: {{socket: srv}}
    - getsockname: {{socket: srv, capture: server}}
    - accept: {{socket: srv, as: conn}}
    - recv_exact: {{socket: conn, size: {len}, bufsize: {smallest}}}
      expect: {{data: {data}}}
    - recv: {{socket: conn, bufsize: {largest}}}
      expect: {{eof: true}}
  sender:
    - socket: {{family: {family}, type: stream, as: cli}}
    - connect: {{socket: cli, address: $server}}
    - sendall: {{socket: cli, data: {data}}}
    - shutdown: {{socket: cli, how: write}}
",
        len = payload.len,
        data = repeat(payload),
    );
    out
}

/// The socketpair form of [`stream_fixture`]: one actor sends a chunk at a time and drains it
/// before the next, as the property does.
fn socketpair_fixture(payload: &Payload, bufsizes: &[usize], message: &str) -> String {
    let smallest = bufsizes.iter().copied().min().unwrap_or(1).max(1);
    let largest = bufsizes.iter().copied().max().unwrap_or(1).max(1);
    let mut out = header(
        "socketpair-round-trip",
        message,
        &format!(
            "{} bytes over a stream socketpair arrive intact, received {smallest} bytes at a time",
            payload.len
        ),
        "data.recv.bufsize, data.stream.no-boundaries, data.sendall, data.eof.shutdown-write",
    );
    out.push_str(
        "actors:
  pair:
    - socketpair: {type: stream, as: [left, right]}
    - setsockopt: {socket: right, option: recv_timeout_ms, value: 250}
",
    );
    let chunk = super::chunk_of(payload);
    let mut left = payload.len;
    while left > 0 {
        let part = Payload {
            pattern: payload.pattern.clone(),
            len: left.min(chunk),
        };
        left -= part.len;
        let _ = write!(
            out,
            "    - sendall: {{socket: left, data: {data}}}
    - recv_exact: {{socket: right, size: {len}, bufsize: {smallest}}}
      expect: {{data: {data}}}
",
            data = repeat(&part),
            len = part.len,
        );
    }
    let _ = write!(
        out,
        "    - shutdown: {{socket: left, how: write}}
    - recv: {{socket: right, bufsize: {largest}}}
      expect: {{eof: true}}
"
    );
    out
}

/// A scenario sending each datagram and expecting each receive to return its prefix.
pub(super) fn datagram_fixture(
    transport: DatagramTransport,
    datagrams: &[(Payload, usize)],
    message: &str,
) -> String {
    let (family, rx, tx) = match transport {
        DatagramTransport::Udp4 => ("inet", "\"127.0.0.1:0\"", "\"127.0.0.1:0\""),
        DatagramTransport::UnixDgram => ("unix", "\"unix:rx.sock\"", "\"unix:tx.sock\""),
    };
    let mut out = header(
        "datagram-boundaries",
        message,
        &format!(
            "{} datagrams over {family} dgram are received one by one, each cut to its bufsize",
            datagrams.len()
        ),
        "udp.boundaries, udp.truncation, udp.delivery.loopback",
    );
    let _ = write!(
        out,
        "actors:
  receiver:
    - socket: {{family: {family}, type: dgram, as: rx}}
    - bind: {{socket: rx, address: {rx}}}
    - getsockname: {{socket: rx, capture: rx}}
    - setsockopt: {{socket: rx, option: recv_timeout_ms, value: 250}}
    - wait: sent
"
    );
    for (payload, bufsize) in datagrams {
        let prefix = Payload {
            pattern: payload.pattern.clone(),
            len: payload.len.min(*bufsize),
        };
        let _ = write!(
            out,
            "    - recv: {{socket: rx, bufsize: {bufsize}}}\n      expect: {{data: {}}}\n",
            repeat(&prefix)
        );
    }
    let _ = write!(
        out,
        "  sender:
    - socket: {{family: {family}, type: dgram, as: tx}}
    - bind: {{socket: tx, address: {tx}}}
"
    );
    for (payload, _) in datagrams {
        let _ = write!(
            out,
            "    - sendto: {{socket: tx, data: {}, address: $rx}}\n      expect: {{returns: {}}}\n",
            repeat(payload),
            payload.len
        );
    }
    out.push_str("    - signal: sent\n");
    out
}

/// A scenario checking that both ends of a TCP connection and a UDP exchange on `host` report
/// agreeing names.
pub(super) fn names_fixture(host: std::net::Ipv4Addr, message: &str) -> String {
    let mut out = header(
        "names-agree",
        message,
        &format!("getsockname, getpeername, accept and recvfrom agree on {host}"),
        "names.getpeername.connected, names.getsockname.implicit, udp.recvfrom.sender",
    );
    let _ = write!(
        out,
        "actors:
  server:
    - socket: {{family: inet, type: stream, as: srv}}
    - bind: {{socket: srv, address: \"{host}:0\"}}
    - listen: {{socket: srv}}
    - getsockname: {{socket: srv, capture: server}}
    - accept: {{socket: srv, as: conn, peer: client}}
    - getsockname: {{socket: conn}}
      expect: {{address: $server}}
    - getpeername: {{socket: conn}}
      expect: {{address: $client}}
    - socket: {{family: inet, type: dgram, as: rx}}
    - bind: {{socket: rx, address: \"{host}:0\"}}
    - getsockname: {{socket: rx, capture: rx}}
    - recvfrom: {{socket: rx, bufsize: 16}}
      expect: {{address: $tx}}
  client:
    - socket: {{family: inet, type: stream, as: cli}}
    - connect: {{socket: cli, address: $server}}
    - getsockname: {{socket: cli}}
      expect: {{address: $client}}
    - getpeername: {{socket: cli}}
      expect: {{address: $server}}
    - socket: {{family: inet, type: dgram, as: tx}}
    - bind: {{socket: tx, address: \"{host}:0\"}}
    - getsockname: {{socket: tx, capture: tx}}
    - sendto: {{socket: tx, data: who, address: $rx}}
"
    );
    out
}
