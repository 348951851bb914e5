//! Counterexamples as scenarios: YAML that `sockspec run` replays.

use super::lifecycle::{self, Action, AfterClose, ClosedSocket, Expected, Observed, Ran, Setup};
use super::{DatagramTransport, Payload, StreamTransport};
use crate::scenario::hex;
use crate::vocab::{scenario_name, Family, Mode, SocketType};
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
    recv_timeout: bool,
) -> String {
    if transport == StreamTransport::Socketpair {
        return socketpair_fixture(payload, bufsizes, message, recv_timeout);
    }
    let family = transport.family();
    let address = address_text(family, "server.sock");
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
fn socketpair_fixture(
    payload: &Payload,
    bufsizes: &[usize],
    message: &str,
    recv_timeout: bool,
) -> String {
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
    out.push_str("actors:\n  pair:\n    - socketpair: {type: stream, as: [left, right]}\n");
    if recv_timeout {
        // As the property did: missing bytes fail the recv instead of stalling it.
        out.push_str("    - setsockopt: {socket: right, option: recv_timeout_ms, value: 250}\n");
    }
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
    let family = transport.family();
    let (rx, tx) = (
        address_text(family, "rx.sock"),
        address_text(family, "tx.sock"),
    );
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

/// [`super::local_address`] as a scenario writes it: `name` is a Unix path in the scenario's
/// directory.
fn address_text(family: Family, name: &str) -> String {
    match family {
        Family::Inet => "\"127.0.0.1:0\"".to_string(),
        Family::Inet6 => "\"[::1]:0\"".to_string(),
        Family::Unix => format!("\"unix:{name}\""),
    }
}

/// A scenario that builds the socket, closes it and expects EBADF from each operation.
pub(super) fn closed_fixture(target: ClosedSocket, ops: &[AfterClose], message: &str) -> String {
    let ClosedSocket {
        family,
        kind,
        setup,
    } = target;
    let (fam, kind_text) = (family, kind);
    let mut out = header(
        "use-after-close",
        message,
        &format!("Every operation on a closed {fam} {kind_text} socket ({setup:?} before) fails with EBADF"),
        "close.use-after-close, close.twice",
    );
    let _ = writeln!(out, "actors:\n  main:");
    let mut step = |text: String| {
        let _ = writeln!(out, "    - {text}");
    };
    if setup == Setup::Paired {
        step(format!("socketpair: {{type: {kind_text}, as: [s, other]}}"));
    } else {
        step(format!(
            "socket: {{family: {fam}, type: {kind_text}, as: s}}"
        ));
    }
    match setup {
        Setup::Unbound | Setup::Paired => {}
        Setup::Bound | Setup::Listening => {
            step(format!(
                "bind: {{socket: s, address: {}}}",
                address_text(family, "s.sock")
            ));
            if setup == Setup::Listening {
                step("listen: {socket: s}".to_string());
            }
        }
        Setup::Connected | Setup::Accepted | Setup::ShutDown => {
            step(format!(
                "socket: {{family: {fam}, type: {kind_text}, as: other}}"
            ));
            step(format!(
                "bind: {{socket: other, address: {}}}",
                address_text(family, "peer.sock")
            ));
            if kind == SocketType::Stream {
                step("listen: {socket: other}".to_string());
            }
            step("getsockname: {socket: other, capture: other}".to_string());
            if setup == Setup::Accepted {
                step(format!(
                    "socket: {{family: {fam}, type: stream, as: client}}"
                ));
                step("connect: {socket: client, address: $other}".to_string());
                step("accept: {socket: other, as: s}".to_string());
            } else {
                step("connect: {socket: s, address: $other}".to_string());
            }
            if setup == Setup::ShutDown {
                step("shutdown: {socket: s, how: both}".to_string());
            }
        }
    }
    step("close: {socket: s}".to_string());
    let somewhere = address_text(family, "after-close.sock");
    for op in ops {
        let text = match op {
            AfterClose::Bind => format!("bind: {{socket: s, address: {somewhere}}}"),
            AfterClose::Listen => "listen: {socket: s}".to_string(),
            AfterClose::Accept => "accept: {socket: s, as: never}".to_string(),
            AfterClose::Connect => format!("connect: {{socket: s, address: {somewhere}}}"),
            AfterClose::Send => "send: {socket: s, data: x}".to_string(),
            AfterClose::Sendall => "sendall: {socket: s, data: x}".to_string(),
            AfterClose::Sendto => {
                format!("sendto: {{socket: s, data: x, address: {somewhere}}}")
            }
            AfterClose::Recv => "recv: {socket: s, bufsize: 16}".to_string(),
            AfterClose::Recvfrom => "recvfrom: {socket: s, bufsize: 16}".to_string(),
            AfterClose::Shutdown(how) => {
                format!("shutdown: {{socket: s, how: {}}}", scenario_name(how))
            }
            AfterClose::Getsockname => "getsockname: {socket: s}".to_string(),
            AfterClose::Getpeername => "getpeername: {socket: s}".to_string(),
            AfterClose::Setsockopt(o) => format!(
                "setsockopt: {{socket: s, option: {}, value: 1}}",
                scenario_name(o)
            ),
            AfterClose::Getsockopt(o) => {
                format!("getsockopt: {{socket: s, option: {}}}", scenario_name(o))
            }
            AfterClose::SetMode(Mode::Blocking) => {
                "settimeout: {socket: s, timeout: null}".to_string()
            }
            AfterClose::SetMode(Mode::NonBlocking) => {
                "setblocking: {socket: s, blocking: false}".to_string()
            }
            AfterClose::SetMode(Mode::Timeout(t)) => {
                format!("settimeout: {{socket: s, timeout: {}ms}}", t.as_millis())
            }
            AfterClose::Close => "close: {socket: s}".to_string(),
        };
        if *op == AfterClose::Close {
            step(text);
        } else {
            step(format!("{text}\n      expect: {{error: EBADF}}"));
        }
    }
    out
}

/// A scenario replaying the calls of [`super::shutdown_interleaving`]: calls that passed expect
/// what they did (where the spec allows alternatives that leave the stream alone, all of them);
/// the failing call expects what the model allowed.
pub(super) fn lifecycle_fixture(transport: StreamTransport, ran: &[Ran], message: &str) -> String {
    let mut out = header(
        "shutdown-interleaving",
        message,
        &format!(
            "{} sends, receives and shutdowns on both ends of a connected stream",
            ran.len()
        ),
        "data.shutdown.write.send, data.shutdown.read, data.shutdown.read.data, data.eof.shutdown-write, data.half-close, data.shutdown.repeat, data.shutdown.both-finished",
    );
    // Socket names, per end; and the actor each end belongs to.
    let (names, peers) = match transport {
        StreamTransport::Socketpair => (["a", "b"], ["$b_name", "$a_name"]),
        _ => (["cli", "conn"], ["$server", "$client"]),
    };
    let _ = writeln!(out, "actors:");
    let mut actors: [String; 2] = Default::default();
    if transport == StreamTransport::Socketpair {
        actors[0] = "    - socketpair: {type: stream, as: [a, b]}\n    - getsockname: {socket: a, capture: a_name}\n    - getsockname: {socket: b, capture: b_name}\n".to_string();
    } else {
        let family = transport.family();
        let address = address_text(family, "server.sock");
        actors[1] = format!(
            "    - socket: {{family: {family}, type: stream, as: srv}}
    - bind: {{socket: srv, address: {address}}}
    - listen: {{socket: srv}}
    - getsockname: {{socket: srv, capture: server}}
    - accept: {{socket: srv, as: conn, peer: client}}
    - signal: accepted
"
        );
        actors[0] = format!(
            "    - socket: {{family: {family}, type: stream, as: cli}}
    - connect: {{socket: cli, address: $server}}
    - wait: accepted
"
        );
    }
    let single = transport == StreamTransport::Socketpair;
    // Which actor writes a step: with two actors, a turn passes by a signal.
    let mut turn: Option<usize> = None;
    let mut signals = 0;
    for r in ran {
        let e = match r.action.end() {
            lifecycle::End::A => 0,
            lifecycle::End::B => 1,
        };
        let actor = if single { 0 } else { e };
        if !single && turn.is_some_and(|t| t != actor) {
            signals += 1;
            let _ = writeln!(actors[1 - actor], "    - signal: turn{signals}");
            let _ = writeln!(actors[actor], "    - wait: turn{signals}");
        }
        turn = Some(actor);
        let socket = names[e];
        let (step, mut alternatives) = match r.action {
            Action::Send { end, len } => (
                format!(
                    "send: {{socket: {socket}, data: {}}}",
                    stream_repeat(end, r.position, len)
                ),
                send_alternatives(&r.expected, r.observed.as_ref(), len),
            ),
            Action::Recv { end, bufsize } => (
                match &r.observed {
                    // A recv that passed is replayed for as many bytes as it got: how many one
                    // call returns can depend on timing (TCP may still be delivering).
                    Some(Observed::Bytes(got))
                        if !got.is_empty() && matches!(r.expected, Expected::Data { .. }) =>
                    {
                        format!(
                            "recv_exact: {{socket: {socket}, size: {}, bufsize: {bufsize}}}",
                            got.len()
                        )
                    }
                    _ => format!("recv: {{socket: {socket}, bufsize: {bufsize}}}"),
                },
                recv_alternatives(r, end.peer(), bufsize),
            ),
            Action::Shutdown { how, .. } => (
                format!(
                    "shutdown: {{socket: {socket}, how: {}}}",
                    scenario_name(&how)
                ),
                match r.expected {
                    Expected::OkOrNotConnected => {
                        vec!["ok".to_string(), "{error: ENOTCONN}".to_string()]
                    }
                    _ => vec!["ok".to_string()],
                },
            ),
            Action::Getpeername { .. } => (
                format!("getpeername: {{socket: {socket}}}"),
                match r.expected {
                    Expected::Peer { maybe_closed: true } => vec![
                        format!("{{address: {}}}", peers[e]),
                        "{error: ENOTCONN}".to_string(),
                    ],
                    _ => vec![format!("{{address: {}}}", peers[e])],
                },
            ),
        };
        if r.reset_possible {
            for error in ["ECONNRESET", "EPIPE", "ENOTCONN"] {
                let alternative = format!("{{error: {error}}}");
                if !alternatives.contains(&alternative) {
                    alternatives.push(alternative);
                }
            }
        }
        let _ = writeln!(actors[actor], "    - {step}");
        match alternatives.as_slice() {
            [only] if only == "ok" => {}
            [only] => {
                let _ = writeln!(actors[actor], "      expect: {only}");
            }
            _ => {
                let _ = writeln!(
                    actors[actor],
                    "      expect:\n        one_of: [{}]\n        why: {WHY:?}",
                    alternatives.join(", ")
                );
            }
        }
        if r.reset_possible
            && r.observed
                .as_ref()
                .is_some_and(|o| matches!(o, Observed::Failed(_)))
        {
            break;
        }
    }
    let labels = if single { ["pair", ""] } else { ["a", "b"] };
    for (label, steps) in labels.iter().zip(&actors) {
        if !label.is_empty() {
            let _ = write!(out, "  {label}:\n{steps}");
        }
    }
    out
}

/// Why a step allows several outcomes, in every scenario this property writes.
const WHY: &str = "implementation-defined: after SHUT_RD, data sent to the socket may be delivered, refused (EPIPE) or reset the connection (data.shutdown.read.data; Linux resets TCP shut down both ways); once both ends of a TCP connection shut down writing, shutdown and getpeername may fail with ENOTCONN (data.shutdown.both-finished)";

/// `len` bytes of `end`'s stream from `at`, as a scenario payload.
fn stream_repeat(end: lifecycle::End, at: usize, len: usize) -> String {
    format!(
        "{{repeat: {:?}, len: {len}}}",
        lifecycle::stream_pattern(end, at)
    )
}

fn send_alternatives(expected: &Expected, observed: Option<&Observed>, len: usize) -> Vec<String> {
    let count = match observed {
        Some(Observed::Count(n)) => *n,
        _ => len,
    };
    match expected {
        Expected::BrokenPipe => vec!["{error: EPIPE}".to_string()],
        Expected::SendsOrRefused(_) => vec![
            format!("{{returns: {count}}}"),
            "{error: EPIPE}".to_string(),
            "{error: ECONNRESET}".to_string(),
        ],
        _ => vec![format!("{{returns: {count}}}")],
    }
}

/// A recv that passed expects what it returned; the failing one what the model allowed.
fn recv_alternatives(r: &Ran, from: lifecycle::End, bufsize: usize) -> Vec<String> {
    let data = |at: usize, len: usize| format!("{{data: {}}}", stream_repeat(from, at, len));
    if let (Expected::EofOrLater { .. }, Some(Observed::Bytes(_))) = (&r.expected, &r.observed) {
        // After its own SHUT_RD a socket may return queued or later bytes, or b'' (which one is
        // implementation-defined, and an earlier alternative may have changed what is queued).
        return vec!["{eof: true}".to_string(), "{eof: false}".to_string()];
    }
    if let Some(Observed::Bytes(got)) = &r.observed {
        return vec![if got.is_empty() {
            "{eof: true}".to_string()
        } else {
            // Where the bytes start in the peer's stream: the model's cursor, plus what a
            // SHUT_RD may have skipped; found again by searching the stream.
            let next = match &r.expected {
                Expected::Data { next } => next.clone(),
                Expected::EofOrLater { rest } => rest.clone(),
                _ => Vec::new(),
            };
            match next.windows(got.len()).position(|w| w == got.as_slice()) {
                Some(skip) => data(r.position + skip, got.len()),
                None => format!("{{data: {{hex: \"{}\"}}}}", hex(got)),
            }
        }];
    }
    match &r.expected {
        Expected::Data { next } => vec![data(r.position, next.len())],
        Expected::EofOrLater { rest } => vec![
            "{eof: true}".to_string(),
            data(r.position, rest.len().min(bufsize)),
        ],
        _ => vec!["{eof: true}".to_string()],
    }
}
