//! The cost of one step through the CPython driver, against the same step in process on the
//! reference: `cargo bench --bench driver_step` (release build, run from the repository root).
//!
//! A step is one call of the `Session` trait as the runner makes it: here alternately a `send`
//! of 5 bytes on one end of a Unix stream socketpair (a TCP connection on loopback for Node.js,
//! which has no socketpair) and a `recv` of at most 16 on the other,
//! so that every step does real socket work and nothing piles up. Through the driver each step
//! is one request line out and one reply line back over pipes, to a warm process. Also measured:
//! a whole session of a warm driver (taken from the pool, one `socket` and `close`, `reset`
//! and back), against a driver without `reset`, whose sessions each start a process.

use serde_json::json;
use sockspec::driver::Driver;
use sockspec::implementation::{dispatch, Handle, Implementation, Plain, Session};
use sockspec::operation::{Call, Reply};
use sockspec::reference::Reference;
use sockspec::vocab::{Address, ErrorCode, Family, SocketType};
use std::time::{Duration, Instant};

/// How long each figure is measured.
const MEASURE: Duration = Duration::from_secs(3);

/// The CPython driver, as drivers.yaml names it.
const PYTHON: &str = "python3 -I -S drivers/python/sockspec_driver.py";

/// The Node.js driver, as drivers.yaml names it.
const NODE: &str = "env -u NODE_EXTRA_CA_CERTS node drivers/node/sockspec_driver.js";

fn call(session: &dyn Session, call: serde_json::Value) -> Reply {
    let call: Call = serde_json::from_value(call).expect("a call");
    dispatch(session, &call).unwrap_or_else(|e| panic!("{} failed: {e}", call.name()))
}

/// Microseconds per step of `implementation`, measured for [`MEASURE`].
fn per_step(implementation: &dyn Implementation) -> (f64, usize) {
    let session = implementation.open_session().expect("a session");
    let session = session.as_ref();
    let [a, b] = connected_pair(session);
    let send: Call = serde_json::from_value(json!({"op": "send", "handle": a, "data": "aGVsbG8="}))
        .expect("send");
    let recv: Call =
        serde_json::from_value(json!({"op": "recv", "handle": b, "bufsize": 16, "flags": {}}))
            .expect("recv");
    let started = Instant::now();
    let mut steps = 0;
    while started.elapsed() < MEASURE {
        for _ in 0..100 {
            dispatch(session, &send).expect("send");
            dispatch(session, &recv).expect("recv");
        }
        steps += 200;
    }
    let micros = started.elapsed().as_secs_f64() * 1e6 / steps as f64;
    session.end().expect("the session ends cleanly");
    (micros, steps)
}

/// Two connected stream sockets: a Unix socketpair, or, where the implementation has no
/// `socketpair` (Node.js), a TCP connection on loopback.
fn connected_pair(session: &dyn Session) -> [Handle; 2] {
    match Plain(session).socketpair(Family::Unix, SocketType::Stream) {
        Ok((a, b)) => [a, b],
        Err(e) if e.code == ErrorCode::Unsupported => {
            let plain = Plain(session);
            let listener = plain
                .socket(Family::Inet, SocketType::Stream)
                .expect("socket");
            plain
                .bind(listener, &Address::from(("127.0.0.1", 0)))
                .expect("bind");
            plain.listen(listener, None).expect("listen");
            let address = plain.getsockname(listener).expect("getsockname");
            let client = plain
                .socket(Family::Inet, SocketType::Stream)
                .expect("socket");
            plain.connect(client, &address).expect("connect");
            let (server, _) = plain.accept(listener).expect("accept");
            [client, server]
        }
        Err(e) => panic!("socketpair failed: {e}"),
    }
}

/// Milliseconds per session of `driver` (open, `socket`, `close`, end), measured for
/// [`MEASURE`].
fn per_session(driver: &Driver) -> (f64, usize) {
    let started = Instant::now();
    let mut sessions = 0;
    while started.elapsed() < MEASURE {
        let session = driver.open_session().expect("a session");
        let Reply::Socket(opened) = call(
            session.as_ref(),
            json!({"op": "socket", "family": "inet", "type": "stream"}),
        ) else {
            panic!("socket answered something else");
        };
        call(
            session.as_ref(),
            json!({"op": "close", "handle": opened.handle}),
        );
        session.end().expect("the session ends cleanly");
        sessions += 1;
    }
    let millis = started.elapsed().as_secs_f64() * 1e3 / sessions as f64;
    (millis, sessions)
}

fn main() {
    let python = Driver::start("python", PYTHON).expect("the CPython driver starts");
    let cold = Driver::start(
        "python-without-reset",
        "python3 tests/drivers/counted.py /dev/null no-reset",
    )
    .expect("the CPython driver starts");
    println!("one step (send or recv on a Unix socketpair; on Node.js, which has none, a TCP connection), warm session:");
    let (micros, steps) = per_step(&Reference);
    println!("  reference, in process: {micros:>8.1} µs/step  ({steps} steps)");
    let (micros, steps) = per_step(&python);
    println!("  CPython driver:        {micros:>8.1} µs/step  ({steps} steps)");
    match Driver::start("node", NODE) {
        Ok(node) => {
            let (micros, steps) = per_step(&node);
            println!("  Node.js driver:        {micros:>8.1} µs/step  ({steps} steps)");
            node.shut_down();
        }
        Err(e) => println!("  Node.js driver: not measured ({e})"),
    }
    println!("one session (open, socket, close, end):");
    let (millis, sessions) = per_session(&python);
    println!("  CPython driver, warm (reset):    {millis:>7.2} ms/session  ({sessions} sessions)");
    let (millis, sessions) = per_session(&cold);
    println!("  CPython driver, a new process:   {millis:>7.2} ms/session  ({sessions} sessions)");
    python.shut_down();
    cold.shut_down();
}
