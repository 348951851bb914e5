//! Counterexamples as scenarios that `sockspec run` replays. Each is built as a
//! [`Scenario`] and serialised ([`crate::scenario::to_yaml`]), never formatted by hand, so that
//! what a property writes is always a scenario the loader reads back as the same model.

use super::base::{chunk_of, DatagramTransport, Payload, StreamTransport};
use super::lifecycle::{
    self, Action, AfterClose, ClosedOutcome, ClosedSocket, End, Expected, Observed, Ran, Setup,
};
use crate::scenario::Op as Do;
use crate::scenario::{
    steps, Actor, AddressExpr, CountRange, Expect, ExpectFields, Names, OptionValue,
    Payload as Data, RecvExactArgs, Scenario, Step,
};
use crate::vocab::{Address, ErrorCode, Family, RecvFlags, Shutdown, SocketOption, SocketType};
use nix::errno::Errno;

/// The stream property's name over `transport`: its own over a socketpair, whose scenario has
/// another shape (and so its own file).
pub fn stream_property(transport: StreamTransport) -> &'static str {
    if transport == StreamTransport::Socketpair {
        "socketpair-round-trip"
    } else {
        "stream-round-trip"
    }
}

/// The datagram property's name.
pub const DATAGRAM_PROPERTY: &str = "datagram-boundaries";
/// The names property's name.
pub const NAMES_PROPERTY: &str = "names-agree";
/// The close property's name.
pub const CLOSED_PROPERTY: &str = "use-after-close";
/// The interleaving property's name.
pub const INTERLEAVING_PROPERTY: &str = "shutdown-interleaving";

/// `scenario` as the YAML file a counterexample writes: a comment saying which property wrote it,
/// how it failed (`message`) and how to replay it, then the scenario.
pub fn fixture(property: &str, message: &str, scenario: &Scenario) -> String {
    let mut comment = format!("Written by the property `{property}` when it failed:\n");
    for line in message.lines() {
        comment.push_str("  ");
        comment.push_str(line);
        comment.push('\n');
    }
    comment
        .push_str("Replay: sockspec run --impl NAME THIS-FILE. Keep it: move it into fixtures/.");
    crate::scenario::to_yaml(scenario, &comment).unwrap_or_else(|e| format!("# {e}\n"))
}

/// A property's scenario: `title`, checking `requirements`, made of `actors` (name, steps).
fn scenario(
    property: &str,
    title: String,
    requirements: &[&str],
    actors: Vec<(&str, Vec<Step>)>,
) -> Scenario {
    Scenario::new(
        property,
        title,
        requirements.iter().map(|r| r.to_string()).collect(),
        ["property", "regression"].map(String::from).to_vec(),
        actors
            .into_iter()
            .map(|(name, steps)| Actor {
                name: name.to_string(),
                steps,
            })
            .collect(),
    )
}

/// `pattern` repeated to `len` bytes, as a scenario writes it.
fn repeat(pattern: &str, len: usize) -> Data {
    Data::Repeat {
        pattern: pattern.as_bytes().to_vec(),
        len,
    }
}

fn repeated(payload: &Payload) -> Data {
    repeat(&payload.pattern, payload.len)
}

/// Expectations, by what they expect.
fn expect_data(data: Data) -> ExpectFields {
    ExpectFields {
        data: Some(data),
        ..ExpectFields::default()
    }
}

fn expect_eof(eof: bool) -> ExpectFields {
    ExpectFields {
        eof: Some(eof),
        ..ExpectFields::default()
    }
}

fn expect_error(errno: Errno) -> ExpectFields {
    ExpectFields {
        error: Some(ErrorCode::errno(errno)),
        ..ExpectFields::default()
    }
}

fn expect_returns(count: usize) -> ExpectFields {
    ExpectFields {
        returns: Some(CountRange::exactly(count)),
        ..ExpectFields::default()
    }
}

fn expect_address(address: AddressExpr) -> ExpectFields {
    ExpectFields {
        address: Some(address),
        ..ExpectFields::default()
    }
}

/// Steps, by operation.
fn step(call: impl Into<Do>) -> Step {
    Step::new(call.into())
}

fn socket(family: Family, kind: SocketType, name: &str) -> Step {
    step(steps::Socket {
        family,
        kind,
        names: Names::new_socket(name),
    })
}

fn socketpair(kind: SocketType, names: [&str; 2]) -> Step {
    step(steps::Socketpair {
        family: Family::Unix,
        kind,
        names: Names {
            new: names.map(String::from).to_vec(),
            capture: None,
        },
    })
}

fn bind(socket: &str, address: AddressExpr) -> Step {
    step(steps::Bind {
        handle: socket.to_string(),
        address,
        names: Names::none(),
    })
}

fn connect(socket: &str, address: AddressExpr) -> Step {
    step(steps::Connect {
        handle: socket.to_string(),
        address,
        names: Names::none(),
    })
}

fn listen(socket: &str) -> Step {
    step(steps::Listen {
        handle: socket.to_string(),
        backlog: None,
        names: Names::none(),
    })
}

fn accept(socket: &str, name: &str, peer: Option<&str>) -> Step {
    let names = Names::new_socket(name);
    step(steps::Accept {
        handle: socket.to_string(),
        names: match peer {
            Some(peer) => names.capturing(peer),
            None => names,
        },
    })
}

fn getsockname(socket: &str, capture: Option<&str>) -> Step {
    step(steps::Getsockname {
        handle: socket.to_string(),
        names: Names {
            new: Vec::new(),
            capture: capture.map(String::from),
        },
    })
}

fn getpeername(socket: &str) -> Step {
    step(steps::Getpeername {
        handle: socket.to_string(),
        names: Names::none(),
    })
}

fn send(socket: &str, data: Data) -> Step {
    step(steps::Send {
        handle: socket.to_string(),
        data,
        names: Names::none(),
    })
}

fn sendall(socket: &str, data: Data) -> Step {
    step(steps::Sendall {
        handle: socket.to_string(),
        data,
        names: Names::none(),
    })
}

fn sendto(socket: &str, data: Data, address: AddressExpr) -> Step {
    step(steps::Sendto {
        handle: socket.to_string(),
        data,
        address,
        names: Names::none(),
    })
}

fn recv(socket: &str, bufsize: usize) -> Step {
    step(steps::Recv {
        handle: socket.to_string(),
        bufsize,
        flags: RecvFlags::default(),
        names: Names::none(),
    })
}

fn recvfrom(socket: &str, bufsize: usize) -> Step {
    step(steps::Recvfrom {
        handle: socket.to_string(),
        bufsize,
        names: Names::none(),
    })
}

fn recv_exact(socket: &str, size: usize, bufsize: usize) -> Step {
    Step::new(Do::RecvExact(RecvExactArgs {
        socket: socket.to_string(),
        size,
        bufsize,
    }))
}

fn shutdown(socket: &str, how: Shutdown) -> Step {
    step(steps::Shutdown {
        handle: socket.to_string(),
        how,
        names: Names::none(),
    })
}

fn close(socket: &str) -> Step {
    step(steps::Close {
        handle: socket.to_string(),
        names: Names::none(),
    })
}

fn setsockopt(socket: &str, option: SocketOption, value: i64) -> Step {
    step(steps::Setsockopt {
        handle: socket.to_string(),
        option,
        value: OptionValue(value),
        names: Names::none(),
    })
}

/// A captured address, `$name`.
fn var(name: &str) -> AddressExpr {
    AddressExpr::Var(name.to_string())
}

/// [`super::base::local_address`] as a scenario writes it: `name` is a Unix path in the
/// scenario's directory.
fn local_address(family: Family, name: &str) -> AddressExpr {
    match family {
        Family::Inet => AddressExpr::Literal(Address::from(("127.0.0.1", 0))),
        Family::Inet6 => AddressExpr::Literal(Address::from(("::1", 0))),
        Family::Unix => AddressExpr::UnixName(name.to_string()),
    }
}

/// The scenario of the stream property: `payload` sent over `transport` and expected back
/// intact, then end of stream. `recv_timeout`: the implementation bounds a receive with
/// `SO_RCVTIMEO`, as the property then did over a socketpair.
pub fn stream(
    transport: StreamTransport,
    payload: &Payload,
    bufsizes: &[usize],
    recv_timeout: bool,
) -> Scenario {
    if transport == StreamTransport::Socketpair {
        return socketpair_stream(payload, bufsizes, recv_timeout);
    }
    let family = transport.family();
    let smallest = bufsizes.iter().copied().min().unwrap_or(1).max(1);
    let largest = bufsizes.iter().copied().max().unwrap_or(1).max(1);
    let receiver = vec![
        socket(family, SocketType::Stream, "srv"),
        bind("srv", local_address(family, "server.sock")),
        listen("srv"),
        getsockname("srv", Some("server")),
        accept("srv", "conn", None),
        recv_exact("conn", payload.len, smallest).expecting(expect_data(repeated(payload))),
        recv("conn", largest).expecting(expect_eof(true)),
    ];
    let sender = vec![
        socket(family, SocketType::Stream, "cli"),
        connect("cli", var("server")),
        sendall("cli", repeated(payload)),
        shutdown("cli", Shutdown::Write),
    ];
    scenario(
        stream_property(transport),
        format!(
            "{} bytes over {family} stream arrive intact, received {smallest} bytes at a time",
            payload.len
        ),
        &STREAM_REQUIREMENTS,
        vec![("receiver", receiver), ("sender", sender)],
    )
}

const STREAM_REQUIREMENTS: [&str; 4] = [
    "data.recv.bufsize",
    "data.stream.no-boundaries",
    "data.sendall",
    "data.eof.shutdown-write",
];

/// The socketpair form of [`stream`]: one actor sends a chunk at a time and drains it before the
/// next, as the property does.
fn socketpair_stream(payload: &Payload, bufsizes: &[usize], recv_timeout: bool) -> Scenario {
    let smallest = bufsizes.iter().copied().min().unwrap_or(1).max(1);
    let largest = bufsizes.iter().copied().max().unwrap_or(1).max(1);
    let mut steps = vec![socketpair(SocketType::Stream, ["left", "right"])];
    if recv_timeout {
        // As the property did: missing bytes fail the recv instead of stalling it.
        steps.push(setsockopt("right", SocketOption::RecvTimeoutMs, 250));
    }
    let chunk = chunk_of(payload);
    let mut left = payload.len;
    while left > 0 {
        let part = repeat(&payload.pattern, left.min(chunk));
        let len = part.len();
        left -= len;
        steps.push(sendall("left", part.clone()));
        steps.push(recv_exact("right", len, smallest).expecting(expect_data(part)));
    }
    steps.push(shutdown("left", Shutdown::Write));
    steps.push(recv("right", largest).expecting(expect_eof(true)));
    scenario(
        stream_property(StreamTransport::Socketpair),
        format!(
            "{} bytes over a stream socketpair arrive intact, received {smallest} bytes at a time",
            payload.len
        ),
        &STREAM_REQUIREMENTS,
        vec![("pair", steps)],
    )
}

/// The scenario of the datagram property: each datagram sent, and each receive expected to
/// return its prefix.
pub fn datagrams(transport: DatagramTransport, datagrams: &[(Payload, usize)]) -> Scenario {
    let family = transport.family();
    let mut receiver = vec![
        socket(family, SocketType::Dgram, "rx"),
        bind("rx", local_address(family, "rx.sock")),
        getsockname("rx", Some("rx")),
        setsockopt("rx", SocketOption::RecvTimeoutMs, 250),
        Step::new(Do::Wait("sent".to_string())),
    ];
    for (payload, bufsize) in datagrams {
        let prefix = repeat(&payload.pattern, payload.len.min(*bufsize));
        receiver.push(recv("rx", *bufsize).expecting(expect_data(prefix)));
    }
    let mut sender = vec![
        socket(family, SocketType::Dgram, "tx"),
        bind("tx", local_address(family, "tx.sock")),
    ];
    for (payload, _) in datagrams {
        sender.push(
            sendto("tx", repeated(payload), var("rx")).expecting(expect_returns(payload.len)),
        );
    }
    sender.push(Step::new(Do::Signal("sent".to_string())));
    scenario(
        DATAGRAM_PROPERTY,
        format!(
            "{} datagrams over {family} dgram are received one by one, each cut to its bufsize",
            datagrams.len()
        ),
        &["udp.boundaries", "udp.truncation", "udp.delivery.loopback"],
        vec![("receiver", receiver), ("sender", sender)],
    )
}

/// The scenario of the names property: both ends of a TCP connection and of a UDP exchange on
/// `host` report agreeing names.
pub fn names(host: std::net::Ipv4Addr) -> Scenario {
    let on_host = || AddressExpr::Literal(Address::Ip((host, 0).into()));
    let server = vec![
        socket(Family::Inet, SocketType::Stream, "srv"),
        bind("srv", on_host()),
        listen("srv"),
        getsockname("srv", Some("server")),
        accept("srv", "conn", Some("client")),
        getsockname("conn", None).expecting(expect_address(var("server"))),
        getpeername("conn").expecting(expect_address(var("client"))),
        socket(Family::Inet, SocketType::Dgram, "rx"),
        bind("rx", on_host()),
        getsockname("rx", Some("rx")),
        recvfrom("rx", 16).expecting(expect_address(var("tx"))),
    ];
    let client = vec![
        socket(Family::Inet, SocketType::Stream, "cli"),
        connect("cli", var("server")),
        getsockname("cli", None).expecting(expect_address(var("client"))),
        getpeername("cli").expecting(expect_address(var("server"))),
        socket(Family::Inet, SocketType::Dgram, "tx"),
        bind("tx", on_host()),
        getsockname("tx", Some("tx")),
        sendto("tx", Data::Text("who".to_string()), var("rx")),
    ];
    scenario(
        NAMES_PROPERTY,
        format!("getsockname, getpeername, accept and recvfrom agree on {host}"),
        &[
            "names.getpeername.connected",
            "names.getsockname.implicit",
            "udp.recvfrom.sender",
        ],
        vec![("server", server), ("client", client)],
    )
}

/// The scenario of the close property: the socket built as `target` says, closed, and each of
/// `ops` expected to fail with EBADF (but `close` again, which succeeds).
pub fn closed(target: ClosedSocket, ops: &[AfterClose]) -> Scenario {
    let ClosedSocket {
        family,
        kind,
        setup,
    } = target;
    let mut steps = Vec::new();
    if setup == Setup::Paired {
        steps.push(socketpair(kind, ["s", "other"]));
    } else {
        steps.push(socket(family, kind, "s"));
    }
    match setup {
        Setup::Unbound | Setup::Paired => {}
        Setup::Bound | Setup::Listening => {
            steps.push(bind("s", local_address(family, "s.sock")));
            if setup == Setup::Listening {
                steps.push(listen("s"));
            }
        }
        Setup::Connected | Setup::Accepted | Setup::ShutDown => {
            steps.push(socket(family, kind, "other"));
            steps.push(bind("other", local_address(family, "peer.sock")));
            if kind == SocketType::Stream {
                steps.push(listen("other"));
            }
            steps.push(getsockname("other", Some("other")));
            if setup == Setup::Accepted {
                steps.push(socket(family, SocketType::Stream, "client"));
                steps.push(connect("client", var("other")));
                steps.push(accept("other", "s", None));
            } else {
                steps.push(connect("s", var("other")));
            }
            if setup == Setup::ShutDown {
                steps.push(shutdown("s", Shutdown::Both));
            }
        }
    }
    steps.push(close("s"));
    for op in ops {
        let expect = match op.expected() {
            ClosedOutcome::Ebadf => expect_error(Errno::EBADF),
            ClosedOutcome::Succeeds => ExpectFields::default(),
            ClosedOutcome::Value(v) => ExpectFields {
                value: Some(OptionValue(v)),
                ..ExpectFields::default()
            },
            ClosedOutcome::Rejected => ExpectFields {
                error: Some(ErrorCode::Rejected),
                ..ExpectFields::default()
            },
        };
        steps.push(step(op.0.clone()).expecting(expect));
    }
    scenario(
        CLOSED_PROPERTY,
        format!(
            "Every operation on a closed {family} {kind} socket ({setup:?} before) fails with EBADF"
        ),
        &["close.use-after-close", "close.twice"],
        vec![("main", steps)],
    )
}

/// The scenario of the interleaving property, replaying the calls it made (`ran`): calls that
/// passed expect what they did (where the spec allows alternatives that leave the stream alone,
/// all of them); the failing call expects what the model allowed.
pub fn interleaving(transport: StreamTransport, ran: &[Ran]) -> Scenario {
    let single = transport == StreamTransport::Socketpair;
    // Socket names, per end; and the name each end's peer was captured as.
    let (names, peers) = if single {
        (["a", "b"], ["b_name", "a_name"])
    } else {
        (["cli", "conn"], ["server", "client"])
    };
    // The steps of each actor: with a socketpair, one actor holds both ends.
    let mut actors: [Vec<Step>; 2] = Default::default();
    if single {
        actors[0] = vec![
            socketpair(SocketType::Stream, ["a", "b"]),
            getsockname("a", Some("a_name")),
            getsockname("b", Some("b_name")),
        ];
    } else {
        let family = transport.family();
        actors[1] = vec![
            socket(family, SocketType::Stream, "srv"),
            bind("srv", local_address(family, "server.sock")),
            listen("srv"),
            getsockname("srv", Some("server")),
            accept("srv", "conn", Some("client")),
            Step::new(Do::Signal("accepted".to_string())),
        ];
        actors[0] = vec![
            socket(family, SocketType::Stream, "cli"),
            connect("cli", var("server")),
            Step::new(Do::Wait("accepted".to_string())),
        ];
    }
    // Which actor writes a step: with two actors, a turn passes by a signal.
    let mut turn: Option<usize> = None;
    let mut signals = 0;
    for r in ran {
        let e = match r.action.end() {
            End::A => 0,
            End::B => 1,
        };
        let actor = if single { 0 } else { e };
        if !single && turn.is_some_and(|t| t != actor) {
            signals += 1;
            let signal = format!("turn{signals}");
            actors[1 - actor].push(Step::new(Do::Signal(signal.clone())));
            actors[actor].push(Step::new(Do::Wait(signal)));
        }
        turn = Some(actor);
        let socket = names[e];
        let ok = ExpectFields::default;
        let (step, mut alternatives) = match r.action {
            Action::Send { end, len } => (
                send(socket, stream_repeat(end, r.position, len)),
                send_alternatives(&r.expected, r.observed.as_ref(), len),
            ),
            Action::Recv { end, bufsize } => (
                match &r.observed {
                    // A recv that passed is replayed for as many bytes as it got: how many one
                    // call returns can depend on timing (TCP may still be delivering).
                    Some(Observed::Bytes(got))
                        if !got.is_empty() && matches!(r.expected, Expected::Data { .. }) =>
                    {
                        recv_exact(socket, got.len(), bufsize)
                    }
                    _ => recv(socket, bufsize),
                },
                recv_alternatives(r, end.peer(), bufsize),
            ),
            Action::Shutdown { how, .. } => (
                shutdown(socket, how),
                match r.expected {
                    Expected::OkOrNotConnected => vec![ok(), expect_error(Errno::ENOTCONN)],
                    _ => vec![ok()],
                },
            ),
            Action::Getpeername { .. } => (
                getpeername(socket),
                match r.expected {
                    Expected::Peer { maybe_closed: true } => {
                        vec![expect_address(var(peers[e])), expect_error(Errno::ENOTCONN)]
                    }
                    _ => vec![expect_address(var(peers[e]))],
                },
            ),
        };
        if r.reset_possible {
            for errno in [Errno::ECONNRESET, Errno::EPIPE, Errno::ENOTCONN] {
                let alternative = expect_error(errno);
                if !alternatives.contains(&alternative) {
                    alternatives.push(alternative);
                }
            }
        }
        let step = match <[ExpectFields; 1]>::try_from(alternatives) {
            Ok([only]) => step.expecting(only),
            Err(alternatives) => step.expecting(ExpectFields {
                one_of: alternatives.into_iter().map(Expect).collect(),
                why: Some(WHY.to_string()),
                ..ExpectFields::default()
            }),
        };
        actors[actor].push(step);
        if r.reset_possible
            && r.observed
                .as_ref()
                .is_some_and(|o| matches!(o, Observed::Failed(_)))
        {
            break;
        }
    }
    let [a, b] = actors;
    scenario(
        INTERLEAVING_PROPERTY,
        format!(
            "{} sends, receives and shutdowns on both ends of a connected stream",
            ran.len()
        ),
        &[
            "data.shutdown.write.send",
            "data.shutdown.read",
            "data.shutdown.read.data",
            "data.eof.shutdown-write",
            "data.half-close",
            "data.shutdown.repeat",
            "data.shutdown.both-finished",
        ],
        if single {
            vec![("pair", a)]
        } else {
            vec![("a", a), ("b", b)]
        },
    )
}

/// Why a step allows several outcomes, in every scenario this property writes.
const WHY: &str = "implementation-defined: after SHUT_RD, data sent to the socket may be delivered, refused (EPIPE) or reset the connection (data.shutdown.read.data; Linux resets TCP shut down both ways); once both ends of a TCP connection shut down writing, shutdown and getpeername may fail with ENOTCONN (data.shutdown.both-finished)";

/// `len` bytes of `end`'s stream from `at`, as a scenario payload.
fn stream_repeat(end: End, at: usize, len: usize) -> Data {
    repeat(&lifecycle::stream_pattern(end, at), len)
}

fn send_alternatives(
    expected: &Expected,
    observed: Option<&Observed>,
    len: usize,
) -> Vec<ExpectFields> {
    let count = match observed {
        Some(Observed::Count(n)) => *n,
        _ => len,
    };
    match expected {
        Expected::BrokenPipe => vec![expect_error(Errno::EPIPE)],
        Expected::SendsOrRefused(_) => vec![
            expect_returns(count),
            expect_error(Errno::EPIPE),
            expect_error(Errno::ECONNRESET),
        ],
        _ => vec![expect_returns(count)],
    }
}

/// A recv that passed expects what it returned; the failing one what the model allowed.
fn recv_alternatives(r: &Ran, from: End, bufsize: usize) -> Vec<ExpectFields> {
    let data = |at: usize, len: usize| expect_data(stream_repeat(from, at, len));
    if let (Expected::EofOrLater { .. }, Some(Observed::Bytes(_))) = (&r.expected, &r.observed) {
        // After its own SHUT_RD a socket may return queued or later bytes, or b'' (which one is
        // implementation-defined, and an earlier alternative may have changed what is queued).
        return vec![expect_eof(true), expect_eof(false)];
    }
    if let Some(Observed::Bytes(got)) = &r.observed {
        return vec![if got.is_empty() {
            expect_eof(true)
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
                None => expect_data(Data::Hex(got.clone())),
            }
        }];
    }
    match &r.expected {
        Expected::Data { next } => vec![data(r.position, next.len())],
        Expected::EofOrLater { rest } => {
            vec![expect_eof(true), data(r.position, rest.len().min(bufsize))]
        }
        _ => vec![expect_eof(true)],
    }
}
