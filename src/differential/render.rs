//! A differing sequence as a scenario: the operations, with the reference's outcomes as
//! expectations, replayable by `sockspec run`.
//!
//! A scenario gets its pool ports by binding to port 0 and letting go, so they lie in the
//! ephemeral range, unlike the differential run's own pools: about once in a thousand sequences
//! an implicit bind (connect, listen) lands on a pool port and the replay differs at that step.
//! Run it again before suspecting the implementation.

use super::model::{bytes, Op, Profile, SocketKinds, BACKLOG};
use super::{Outcome, POOL};
use crate::scenario::hex;
use std::fmt::Write;

/// The scenario for `ops`, expecting `outcomes` (as the reference gave them under `profile`).
pub(super) fn scenario(ops: &[Op], outcomes: &[Outcome], profile: Profile) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Written by the differential test: an implementation differed from the reference at"
    );
    let _ = writeln!(out, "# the last step. Replay: sockspec run --impl NAME THIS-FILE. Keep it: move it into fixtures/.");
    let _ = writeln!(out, "title: \"A sequence of {} operations on which an implementation differed from the reference\"", ops.len());
    let _ = writeln!(out, "requirements: [tcp.server.bind.in-use, tcp.client.connect, data.recv.bufsize, names.getsockname.bound]");
    if profile.reuse_addr_streams {
        let _ = writeln!(
            out,
            "# The reference set SO_REUSEADDR before each stream bind, as the implementation does"
        );
        let _ = writeln!(
            out,
            "# by itself (std's listeners): those steps are written out, so an implementation that"
        );
        let _ = writeln!(
            out,
            "# cannot set options reports this scenario unsupported; drop them to replay it there."
        );
    }
    let _ = writeln!(out, "tags: [differential, regression]");
    let _ = writeln!(out, "actors:\n  main:");
    // The pool: ports that were free, held by captured names.
    for p in 0..POOL {
        let _ = writeln!(
            out,
            "    - socket: {{family: inet, type: stream, as: pool{p}}}"
        );
        let _ = writeln!(
            out,
            "    - bind: {{socket: pool{p}, address: \"127.0.0.1:0\"}}"
        );
        let _ = writeln!(out, "    - getsockname: {{socket: pool{p}, capture: p{p}}}");
        let _ = writeln!(out, "    - close: {{socket: pool{p}}}");
    }
    let mut kinds = SocketKinds::default();
    let mut closed = std::collections::BTreeSet::new();
    for (op, outcome) in ops.iter().zip(outcomes) {
        // The name a socket this step creates gets.
        let created = kinds.len();
        let step = match *op {
            Op::Socket { udp, unix } => {
                format!(
                    "socket: {{family: {}, type: {}, as: s{created}}}",
                    if unix { "unix" } else { "inet" },
                    if udp { "dgram" } else { "stream" }
                )
            }
            Op::Bind { socket, port } => {
                let bind = format!(
                    "bind: {{socket: s{socket}, address: \"{}\"}}",
                    pool_address(kinds.unix(socket), port)
                );
                if profile.reuse_addr_streams && kinds.stream(socket) && !closed.contains(&socket) {
                    format!("setsockopt: {{socket: s{socket}, option: reuse_addr, value: true}}\n    - {bind}")
                } else {
                    bind
                }
            }
            Op::Listen {
                socket,
                backlog: true,
            } => format!("listen: {{socket: s{socket}, backlog: {BACKLOG}}}"),
            Op::Listen { socket, .. } => format!("listen: {{socket: s{socket}}}"),
            Op::Connect { socket, port } => {
                format!(
                    "connect: {{socket: s{socket}, address: \"{}\"}}",
                    pool_address(kinds.unix(socket), port)
                )
            }
            Op::Accept { socket } => format!("accept: {{socket: s{socket}, as: s{created}}}"),
            Op::Send { socket, len } => format!(
                "send: {{socket: s{socket}, data: {{hex: \"{}\"}}}}",
                hex(&bytes(len))
            ),
            Op::Recv {
                socket,
                bufsize,
                waitall,
            } => {
                if waitall {
                    format!(
                        "recv: {{socket: s{socket}, bufsize: {bufsize}, flags: {{waitall: true}}}}"
                    )
                } else {
                    // No flags: a scenario that needs none runs where flags are unsupported.
                    format!("recv: {{socket: s{socket}, bufsize: {bufsize}}}")
                }
            }
            Op::Shutdown { socket, write } => format!(
                "shutdown: {{socket: s{socket}, how: {}}}",
                if write { "write" } else { "read" }
            ),
            Op::Close { socket } => {
                closed.insert(socket);
                format!("close: {{socket: s{socket}}}")
            }
            Op::Getsockname { socket } => format!("getsockname: {{socket: s{socket}}}"),
            Op::Getpeername { socket } => format!("getpeername: {{socket: s{socket}}}"),
        };
        if !matches!(outcome, Outcome::Error(_)) {
            kinds.note(op);
        }
        let expect = match outcome {
            Outcome::Ok => None,
            Outcome::Count(n) => Some(format!("{{returns: {n}}}")),
            Outcome::Data(d) => Some(format!("{{data: {{hex: \"{}\"}}}}", hex(d))),
            Outcome::Value(v) => Some(format!("{{value: {v}}}")),
            Outcome::Address(a) => address(a).map(|a| format!("{{address: \"{a}\"}}")),
            // Not made by the model; no expectation is rendered for it.
            Outcome::Other(_) => None,
            Outcome::Error(e) => Some(format!("{{error: {e}}}")),
        };
        let _ = writeln!(out, "    - {step}");
        if let Some(expect) = expect {
            let _ = writeln!(out, "      expect: {expect}");
        }
    }
    out
}

/// Pool entry `port` as a scenario writes it: a captured port, or a path for a Unix socket.
fn pool_address(unix: bool, port: usize) -> String {
    if unix {
        format!("unix:p{port}.sock")
    } else {
        format!("127.0.0.1:$p{port}")
    }
}

/// A normalised address as a scenario pattern: pool ports by their captured name, other ports as
/// any port (their numbering across steps cannot be written as a pattern).
fn address(normalised: &str) -> Option<String> {
    if let Some(i) = normalised.strip_prefix("unix:P") {
        return Some(format!("unix:p{i}.sock"));
    }
    let (host, port) = normalised.rsplit_once(':')?;
    if let Some(p) = port.strip_prefix('P') {
        return Some(format!("{host}:$p{p}"));
    }
    if port.starts_with('E') {
        return Some(format!("{host}:*"));
    }
    Some(normalised.to_string())
}
