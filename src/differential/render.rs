//! A differing sequence as a scenario: the operations, with the reference's outcomes as
//! expectations, replayable by `sockspec run`. The scenario is built as a model and serialised
//! ([`crate::scenario::to_yaml`]), so it is always one the loader reads.
//!
//! A scenario gets its pool ports by binding to port 0 and letting go, so they lie in the
//! ephemeral range, unlike the differential run's own pools: about once in a thousand sequences
//! an implicit bind (connect, listen) lands on a pool port and the replay differs at that step.
//! Run it again before suspecting the implementation.

use super::model::{bytes, Op, Profile, SocketKinds, BACKLOG, TIMEOUT_MODE};
use super::{Outcome, POOL};
use crate::scenario::Op as Do;
use crate::scenario::{
    AcceptArgs, Actor, AddressArgs, AddressExpr, CountRange, ExpectFields, ListenArgs, NameArgs,
    OptionValue, Payload, RecvArgs, Scenario, SendArgs, SetsockoptArgs, SettimeoutArgs,
    ShutdownArgs, SocketArgs, SocketRef, Step,
};
use crate::vocab::{ErrorCode, Family, RecvFlags, Shutdown, SocketOption, SocketType};

/// The scenario for `ops`, expecting `outcomes` (as the reference gave them under `profile`),
/// as YAML with a comment saying where it came from.
pub(super) fn scenario(ops: &[Op], outcomes: &[Outcome], profile: Profile) -> String {
    let mut comment = "Written by the differential test: an implementation differed from the \
                       reference at\nthe last step. Replay: sockspec run --impl NAME THIS-FILE. \
                       Keep it: move it into fixtures/."
        .to_string();
    if profile.reuse_addr_streams {
        comment.push_str(
            "\nThe reference set SO_REUSEADDR before each stream bind, as the implementation does\n\
             by itself (std's listeners): those steps are written out, so an implementation that\n\
             cannot set options reports this scenario unsupported; drop them to replay it there.",
        );
    }
    let scenario = model(ops, outcomes, profile);
    crate::scenario::to_yaml(&scenario, &comment).unwrap_or_else(|e| format!("# {e}\n"))
}

/// The scenario for `ops` as a model.
fn model(ops: &[Op], outcomes: &[Outcome], profile: Profile) -> Scenario {
    let socket = |i: usize| format!("s{i}");
    let mut steps = Vec::new();
    // The pool: ports that were free, held by captured names.
    for p in 0..POOL {
        let pool = format!("pool{p}");
        steps.push(Step::new(Do::Socket(SocketArgs {
            family: Family::Inet,
            kind: SocketType::Stream,
            name: pool.clone(),
        })));
        steps.push(Step::new(Do::Bind(AddressArgs {
            socket: pool.clone(),
            address: AddressExpr::Literal(crate::vocab::Address::from(("127.0.0.1", 0))),
        })));
        steps.push(Step::new(Do::Getsockname(NameArgs {
            socket: pool.clone(),
            capture: Some(format!("p{p}")),
        })));
        steps.push(Step::new(Do::Close(SocketRef { socket: pool })));
    }
    let mut kinds = SocketKinds::default();
    let mut closed = std::collections::BTreeSet::new();
    for (op, outcome) in ops.iter().zip(outcomes) {
        // The name a socket this step creates gets.
        let created = socket(kinds.len());
        let name = created.clone();
        let step = match *op {
            Op::Socket { udp, unix } => Do::Socket(SocketArgs {
                family: if unix { Family::Unix } else { Family::Inet },
                kind: if udp {
                    SocketType::Dgram
                } else {
                    SocketType::Stream
                },
                name: created,
            }),
            Op::Bind { socket: s, port } => {
                if profile.reuse_addr_streams && kinds.stream(s) && !closed.contains(&s) {
                    steps.push(Step::new(Do::Setsockopt(SetsockoptArgs {
                        socket: socket(s),
                        option: SocketOption::ReuseAddr,
                        value: OptionValue(1),
                    })));
                }
                Do::Bind(AddressArgs {
                    socket: socket(s),
                    address: pool_address(kinds.unix(s), port),
                })
            }
            Op::Listen { socket: s, backlog } => Do::Listen(ListenArgs {
                socket: socket(s),
                backlog: backlog.then_some(BACKLOG),
            }),
            Op::Connect { socket: s, port } => Do::Connect(AddressArgs {
                socket: socket(s),
                address: pool_address(kinds.unix(s), port),
            }),
            Op::Accept { socket: s } => Do::Accept(AcceptArgs {
                socket: socket(s),
                name: created,
                peer: None,
            }),
            Op::Send { socket: s, len } => Do::Send(SendArgs {
                socket: socket(s),
                data: Payload::Hex(bytes(len)),
                capture: None,
            }),
            // No flags unless needed: a scenario that needs none runs where flags are
            // unsupported.
            Op::Recv {
                socket: s,
                bufsize,
                waitall,
            } => Do::Recv(RecvArgs {
                socket: socket(s),
                bufsize,
                flags: RecvFlags {
                    waitall,
                    ..RecvFlags::default()
                },
            }),
            Op::Shutdown { socket: s, write } => Do::Shutdown(ShutdownArgs {
                socket: socket(s),
                how: if write {
                    Shutdown::Write
                } else {
                    Shutdown::Read
                },
            }),
            Op::Close { socket: s } => {
                closed.insert(s);
                Do::Close(SocketRef { socket: socket(s) })
            }
            Op::Getsockname { socket: s } => Do::Getsockname(NameArgs {
                socket: socket(s),
                capture: None,
            }),
            Op::Getpeername { socket: s } => Do::Getpeername(NameArgs {
                socket: socket(s),
                capture: None,
            }),
        };
        let creates = matches!(op, Op::Socket { .. } | Op::Accept { .. });
        if !matches!(outcome, Outcome::Error(_)) {
            kinds.note(op);
        }
        let expect = match outcome {
            Outcome::Ok => ExpectFields::default(),
            Outcome::Count(n) => ExpectFields {
                returns: Some(CountRange::exactly(*n)),
                ..ExpectFields::default()
            },
            Outcome::Data(d) => ExpectFields {
                data: Some(Payload::Hex(d.clone())),
                ..ExpectFields::default()
            },
            Outcome::Value(v) => ExpectFields {
                value: Some(OptionValue(*v)),
                ..ExpectFields::default()
            },
            Outcome::Address(a) => ExpectFields {
                address: address(a),
                ..ExpectFields::default()
            },
            Outcome::Error(e) => ExpectFields {
                error: e.parse::<ErrorCode>().ok(),
                ..ExpectFields::default()
            },
            // Not made by the model; nothing to expect of it.
            Outcome::Other(_) => ExpectFields::default(),
        };
        steps.push(Step::new(step).expecting(expect));
        if profile.timeout_mode && creates && !matches!(outcome, Outcome::Error(_)) {
            steps.push(Step::new(Do::Settimeout(SettimeoutArgs {
                socket: name,
                timeout: Some(TIMEOUT_MODE),
            })));
        }
    }
    Scenario::new(
        "differential",
        format!(
            "A sequence of {} operations on which an implementation differed from the reference",
            ops.len()
        ),
        [
            "tcp.server.bind.in-use",
            "tcp.client.connect",
            "data.recv.bufsize",
            "names.getsockname.bound",
        ]
        .map(String::from)
        .to_vec(),
        ["differential", "regression"].map(String::from).to_vec(),
        vec![Actor {
            name: "main".to_string(),
            steps,
        }],
    )
}

/// Pool entry `port` as a scenario writes it: a captured port, or a path for a Unix socket.
fn pool_address(unix: bool, port: usize) -> AddressExpr {
    if unix {
        AddressExpr::UnixName(format!("p{port}.sock"))
    } else {
        AddressExpr::HostPortOf {
            host: "127.0.0.1".to_string(),
            var: format!("p{port}"),
        }
    }
}

/// A normalised address as a scenario pattern: pool ports by their captured name, other ports as
/// any port (their numbering across steps cannot be written as a pattern).
fn address(normalised: &str) -> Option<AddressExpr> {
    if let Some(i) = normalised.strip_prefix("unix:P") {
        return Some(AddressExpr::UnixName(format!("p{i}.sock")));
    }
    let (host, port) = normalised.rsplit_once(':')?;
    if let Some(p) = port.strip_prefix('P') {
        return Some(AddressExpr::HostPortOf {
            host: host.to_string(),
            var: format!("p{p}"),
        });
    }
    if port.starts_with('E') {
        return host.parse().ok().map(AddressExpr::AnyPort);
    }
    AddressExpr::parse(normalised).ok()
}
