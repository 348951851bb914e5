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
    steps, Actor, AddressExpr, CountRange, ExpectFields, Names, OptionValue, Payload, Scenario,
    Step, Timeout,
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
        steps.push(Step::new(
            steps::Socket {
                family: Family::Inet,
                kind: SocketType::Stream,
                names: Names::new_socket(&pool),
            }
            .into(),
        ));
        steps.push(Step::new(
            steps::Bind {
                handle: pool.clone(),
                address: AddressExpr::Literal(crate::vocab::Address::from(("127.0.0.1", 0))),
                names: Names::none(),
            }
            .into(),
        ));
        steps.push(Step::new(
            steps::Getsockname {
                handle: pool.clone(),
                names: Names::none().capturing(&format!("p{p}")),
            }
            .into(),
        ));
        steps.push(Step::new(
            steps::Close {
                handle: pool,
                names: Names::none(),
            }
            .into(),
        ));
    }
    let mut kinds = SocketKinds::default();
    let mut closed = std::collections::BTreeSet::new();
    for (op, outcome) in ops.iter().zip(outcomes) {
        // The name a socket this step creates gets.
        let created = socket(kinds.len());
        let name = created.clone();
        let step: Do = match *op {
            Op::Socket { udp, unix } => steps::Socket {
                family: if unix { Family::Unix } else { Family::Inet },
                kind: if udp {
                    SocketType::Dgram
                } else {
                    SocketType::Stream
                },
                names: Names::new_socket(&created),
            }
            .into(),
            Op::Bind { socket: s, port } => {
                if profile.reuse_addr_streams && kinds.stream(s) && !closed.contains(&s) {
                    steps.push(Step::new(
                        steps::Setsockopt {
                            handle: socket(s),
                            option: SocketOption::ReuseAddr,
                            value: OptionValue(1),
                            names: Names::none(),
                        }
                        .into(),
                    ));
                }
                steps::Bind {
                    handle: socket(s),
                    address: pool_address(kinds.unix(s), port),
                    names: Names::none(),
                }
                .into()
            }
            Op::Listen { socket: s, backlog } => steps::Listen {
                handle: socket(s),
                backlog: backlog.then_some(BACKLOG),
                names: Names::none(),
            }
            .into(),
            Op::Connect { socket: s, port } => steps::Connect {
                handle: socket(s),
                address: pool_address(kinds.unix(s), port),
                names: Names::none(),
            }
            .into(),
            Op::Accept { socket: s } => steps::Accept {
                handle: socket(s),
                names: Names::new_socket(&created),
            }
            .into(),
            Op::Send { socket: s, len } => steps::Send {
                handle: socket(s),
                data: Payload::Hex(bytes(len)),
                names: Names::none(),
            }
            .into(),
            // No flags unless needed: a scenario that needs none runs where flags are
            // unsupported.
            Op::Recv {
                socket: s,
                bufsize,
                waitall,
            } => steps::Recv {
                handle: socket(s),
                bufsize,
                flags: RecvFlags {
                    waitall,
                    ..RecvFlags::default()
                },
                names: Names::none(),
            }
            .into(),
            Op::Shutdown { socket: s, write } => steps::Shutdown {
                handle: socket(s),
                how: if write {
                    Shutdown::Write
                } else {
                    Shutdown::Read
                },
                names: Names::none(),
            }
            .into(),
            Op::Close { socket: s } => {
                closed.insert(s);
                steps::Close {
                    handle: socket(s),
                    names: Names::none(),
                }
                .into()
            }
            Op::Getsockname { socket: s } => steps::Getsockname {
                handle: socket(s),
                names: Names::none(),
            }
            .into(),
            Op::Getpeername { socket: s } => steps::Getpeername {
                handle: socket(s),
                names: Names::none(),
            }
            .into(),
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
            steps.push(Step::new(
                steps::Settimeout {
                    handle: name,
                    timeout: Timeout(Some(TIMEOUT_MODE)),
                    names: Names::none(),
                }
                .into(),
            ));
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
