//! Drawing the properties' cases, running them, and shrinking a failure to a small scenario:
//! what `cargo test` and `sockspec properties` share.

use super::{
    closed_socket_refuses_everything, datagram_boundaries, names_agree, shutdown_interleaving,
    stream_round_trip, Action, AfterClose, Choice, ClosedSocket, Counterexample, DatagramTransport,
    Payload, Setup, StreamTransport,
};
use crate::implementation::{Feature, Implementation};
use crate::vocab::{Capabilities, Family, SocketType};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// How to search: how many cases, how long to shrink, from which seed, and where a
/// counterexample's scenario is written.
#[derive(Clone, Debug)]
pub struct Search {
    /// Cases to draw per property.
    pub cases: u32,
    /// The most shrinking steps after a failure.
    pub max_shrink_iters: u32,
    /// The seed of the random draws; `None` draws a new one each run.
    pub seed: Option<u64>,
    /// The directory counterexamples are written to.
    pub out: PathBuf,
}

impl Search {
    /// `cases` cases per property, shrinking as proptest does by default, counterexamples
    /// written to `out`.
    pub fn new(cases: u32, out: PathBuf) -> Search {
        Search {
            cases,
            max_shrink_iters: Config::default().max_shrink_iters,
            seed: None,
            out,
        }
    }

    /// A runner for one property.
    pub fn runner(&self) -> TestRunner {
        let config = Config {
            cases: self.cases,
            max_shrink_iters: self.max_shrink_iters,
            failure_persistence: None,
            ..Config::default()
        };
        match self.seed {
            Some(seed) => {
                let mut bytes = [0u8; 32];
                bytes[..8].copy_from_slice(&seed.to_le_bytes());
                TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
            }
            None => TestRunner::new(config),
        }
    }

    /// A failed case as a proptest failure, after writing its scenario (each smaller failing case
    /// found while shrinking overwrites the last, so the file ends up holding the smallest).
    pub fn report(&self, counterexample: Counterexample) -> TestCaseError {
        let written = counterexample.write(&self.out);
        let path = written.map_or_else(
            |e| format!("(could not write the scenario: {e})"),
            |p| p.display().to_string(),
        );
        TestCaseError::fail(format!("{counterexample}\nreplay: sockspec run {path}"))
    }
}

/// Every property on `implementation`, each by name with its outcome (a failure's message ends
/// with the scenario to replay). Streams carry payloads of up to `max_stream` bytes.
pub fn check_every_property(
    implementation: &dyn Implementation,
    search: &Search,
    max_stream: usize,
) -> Vec<(&'static str, Result<(), String>)> {
    vec![
        (
            "stream-round-trip",
            check_streams(implementation, EVERY_STREAM, search, max_stream),
        ),
        (
            "datagram-boundaries",
            check_datagrams(implementation, search),
        ),
        ("names-agree", check_names(implementation, search)),
        ("use-after-close", check_closed(implementation, search)),
        (
            "shutdown-interleaving",
            check_interleavings(implementation, search).map(drop),
        ),
    ]
}

/// Payloads: a short pattern repeated to a length up to 2 KiB or up to `max`.
pub fn payload(max: usize) -> impl Strategy<Value = Payload> {
    ("[a-z0-9]{1,7}", prop_oneof![0..=2048usize, 0..=max])
        .prop_map(|(pattern, len)| Payload { pattern, len })
}

/// Every stream transport.
pub const EVERY_STREAM: &[StreamTransport] = &[
    StreamTransport::Tcp4,
    StreamTransport::Tcp6,
    StreamTransport::UnixStream,
    StreamTransport::Socketpair,
];

/// Up to five datagrams with a bufsize each, all fitting a default receive buffer.
pub fn datagrams() -> impl Strategy<Value = Vec<(Payload, usize)>> {
    // Bounded so that everything sent fits the receive queue before anything is read.
    prop::collection::vec((payload(65_507), 1..=70_000usize), 1..=5)
        .prop_filter("fits a default receive buffer", |d| {
            d.iter().map(|(p, _)| p.len).sum::<usize>() <= 150_000
        })
}

/// Whether the implementation can make sockets of `family` and `kind` on their own.
pub fn supports(implementation: &dyn Implementation, family: Family, kind: SocketType) -> bool {
    let c = implementation.capabilities();
    c.families.contains(&family)
        && c.types.contains(&kind)
        && c.features.contains(&Feature::UnboundSockets)
}

/// The stream round-trip property over `transports`, with payloads up to `max` bytes.
pub fn check_streams(
    implementation: &dyn Implementation,
    transports: &[StreamTransport],
    search: &Search,
    max: usize,
) -> Result<(), String> {
    let mut runner = search.runner();
    let strategy = (
        prop::sample::select(transports.to_vec()),
        payload(max),
        prop::collection::vec(1..=100_000usize, 1..6),
    );
    runner
        .run(&strategy, |(transport, payload, bufsizes)| {
            let socketpair = implementation
                .capabilities()
                .features
                .contains(&Feature::Socketpair);
            if !supports(implementation, transport.family(), SocketType::Stream)
                || (transport == StreamTransport::Socketpair && !socketpair)
            {
                return Ok(());
            }
            stream_round_trip(implementation, transport, &payload, &bufsizes)
                .map_err(|c| search.report(c))
        })
        .map_err(|e| e.to_string())
}

/// The datagram-boundaries property over UDP and Unix datagrams.
pub fn check_datagrams(implementation: &dyn Implementation, search: &Search) -> Result<(), String> {
    let mut runner = search.runner();
    let strategy = (
        prop::sample::select(vec![DatagramTransport::Udp4, DatagramTransport::UnixDgram]),
        datagrams(),
    );
    runner
        .run(&strategy, |(transport, datagrams)| {
            if !supports(implementation, transport.family(), SocketType::Dgram) {
                return Ok(());
            }
            datagram_boundaries(implementation, transport, &datagrams).map_err(|c| search.report(c))
        })
        .map_err(|e| e.to_string())
}

/// The names property, on addresses all over 127.0.0.0/8.
pub fn check_names(implementation: &dyn Implementation, search: &Search) -> Result<(), String> {
    let mut runner = search.runner();
    // Any address in 127.0.0.0/8 is this machine's on Linux.
    let strategy =
        (0u8..=255, 0u8..=255, 1u8..=254).prop_map(|(b, c, d)| Ipv4Addr::new(127, b, c, d));
    runner
        .run(&strategy, |host| {
            if !supports(implementation, Family::Inet, SocketType::Stream) {
                return Ok(());
            }
            names_agree(implementation, host).map_err(|c| search.report(c))
        })
        .map_err(|e| e.to_string())
}

/// A socket with a history, to close: every possible family, type and setup.
pub fn closed_socket() -> impl Strategy<Value = ClosedSocket> {
    (
        prop::sample::select(vec![Family::Inet, Family::Inet6, Family::Unix]),
        prop::sample::select(vec![SocketType::Stream, SocketType::Dgram]),
        prop::sample::select(Setup::ALL.to_vec()),
    )
        .prop_map(|(family, kind, setup)| ClosedSocket {
            family,
            kind,
            setup,
        })
        .prop_filter("a possible history", ClosedSocket::is_possible)
}

/// One call to try on a closed socket of `family`: an operation drawn evenly, then one of its
/// samples (so that `setsockopt`, tried with every option, is no likelier than `listen`).
pub fn after_close(family: Family) -> impl Strategy<Value = AfterClose> {
    prop::sample::select(AfterClose::every(family)).prop_flat_map(prop::sample::select)
}

/// Whether the implementation can express the call at all (else it is left out).
pub fn expressible(implementation: &dyn Implementation, op: &AfterClose) -> bool {
    let mut needs = Capabilities::default();
    op.0.add_needs(&mut needs);
    implementation.capabilities().missing(&needs).is_empty()
}

/// The use-after-close property.
pub fn check_closed(implementation: &dyn Implementation, search: &Search) -> Result<(), String> {
    let mut runner = search.runner();
    let strategy = closed_socket().prop_flat_map(|target| {
        (
            Just(target),
            prop::collection::vec(after_close(target.family), 1..12),
        )
    });
    runner
        .run(&strategy, |(target, ops)| {
            let c = implementation.capabilities();
            if !supports(implementation, target.family, target.kind)
                || (target.setup == Setup::Paired && !c.features.contains(&Feature::Socketpair))
            {
                return Ok(());
            }
            let ops: Vec<AfterClose> = ops
                .into_iter()
                .filter(|op| expressible(implementation, op))
                .collect();
            closed_socket_refuses_everything(implementation, target, &ops)
                .map_err(|c| search.report(c))
        })
        .map_err(|e| e.to_string())
}

/// Up to 40 drawn choices for the shutdown interleaving model.
pub fn choices() -> impl Strategy<Value = Vec<Choice>> {
    prop::collection::vec(
        (any::<u8>(), any::<u8>(), any::<u16>()).prop_map(|(end, kind, arg)| Choice {
            end,
            kind,
            arg,
        }),
        1..40,
    )
}

/// Runs the interleaving property; returns the actions of each case that ran.
pub fn check_interleavings(
    implementation: &dyn Implementation,
    search: &Search,
) -> Result<Vec<Vec<Action>>, String> {
    let mut runner = search.runner();
    let strategy = (prop::sample::select(EVERY_STREAM.to_vec()), choices());
    let ran = std::sync::Mutex::new(Vec::new());
    runner
        .run(&strategy, |(transport, choices)| {
            let c = implementation.capabilities();
            if !supports(implementation, transport.family(), SocketType::Stream)
                || !c.features.contains(&Feature::Shutdown)
                || (transport == StreamTransport::Socketpair
                    && !c.features.contains(&Feature::Socketpair))
            {
                return Ok(());
            }
            let actions = shutdown_interleaving(implementation, transport, &choices)
                .map_err(|c| search.report(c))?;
            ran.lock().unwrap().push(actions);
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    Ok(ran.into_inner().unwrap())
}
