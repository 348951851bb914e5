//! Throughput of the stream property against the reference implementation: cases per second and
//! bytes per second, per transport. `cargo bench --bench stream_property` (release build).
//!
//! The inputs are drawn from a fixed seed so that runs compare: payloads of 0 to 1 MiB and one to
//! five recv sizes of 1 to 64 KiB, like the property test draws them.

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use sockspec::properties::{stream_round_trip, Payload, StreamTransport};
use sockspec::reference::Reference;
use std::time::{Duration, Instant};

/// How long each transport is measured.
const MEASURE: Duration = Duration::from_secs(3);

fn main() {
    let seed = [7u8; 32];
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    let strategy = (
        ("[a-z0-9]{1,7}", 0..=(1usize << 20)).prop_map(|(pattern, len)| Payload { pattern, len }),
        proptest::collection::vec(1..=65_536usize, 1..=5),
    );
    let cases: Vec<(Payload, Vec<usize>)> = (0..256)
        .map(|_| strategy.new_tree(&mut runner).expect("inputs").current())
        .collect();

    println!(
        "stream property throughput, reference implementation ({} distinct cases)",
        cases.len()
    );
    for transport in [
        StreamTransport::Tcp4,
        StreamTransport::Tcp6,
        StreamTransport::UnixStream,
        StreamTransport::Socketpair,
    ] {
        let started = Instant::now();
        let (mut n, mut bytes) = (0usize, 0usize);
        while started.elapsed() < MEASURE {
            let (payload, bufsizes) = &cases[n % cases.len()];
            if let Err(failure) = stream_round_trip(&Reference, transport, payload, bufsizes) {
                panic!("the property failed on the reference implementation: {failure}");
            }
            n += 1;
            bytes += payload.len;
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{:>12}: {:>8.1} cases/s  {:>8.1} MiB/s  ({n} cases in {seconds:.1} s)",
            format!("{transport:?}"),
            n as f64 / seconds,
            bytes as f64 / seconds / (1 << 20) as f64
        );
    }
}
