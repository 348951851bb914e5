//! Throughput of the stream property against the reference implementation: cases per second and
//! bytes per second, per transport. `cargo bench --bench stream_property` (release build).
//!
//! The inputs are drawn from a fixed seed so that runs compare: payloads of 0 to 1 MiB and one to
//! five recv sizes of 1 to 64 KiB, like the property test draws them.
//!
//! Over TCP/IPv4 and Unix streams the same cases are then moved with bare socket2 calls in the
//! same run (listener, connect, accept, a thread that sends all and shuts down writing, recv
//! with the case's sizes until end of stream, compare): what loopback carries without the
//! property's machinery (sessions, handles, watchdog, the checks), and the ratio between the two.
//! For the ratio the two take turns, a few cases each, on the same cases.

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use socket2::{Domain, SockAddr, Socket, Type};
use sockspec::properties::{stream_round_trip, Payload, StreamTransport};
use sockspec::reference::Reference;
use std::io::{Read, Write};
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
        let rate = measure(&cases, |payload, bufsizes| {
            if let Err(failure) = stream_round_trip(&Reference, transport, payload, bufsizes) {
                panic!("the property failed on the reference implementation: {failure}");
            }
        });
        println!("{:>12}: {rate}", format!("{transport:?}"));
    }
    println!(
        "the same cases with bare socket2 calls, in turns with the property (blocks of {TURN} \
         cases each, so that both see the same load), and the property's share of their throughput"
    );
    for (transport, domain) in [
        (StreamTransport::Tcp4, Domain::IPV4),
        (StreamTransport::UnixStream, Domain::UNIX),
    ] {
        let (property, bare) = in_turns(
            &cases,
            |payload, bufsizes| {
                if let Err(failure) = stream_round_trip(&Reference, transport, payload, bufsizes) {
                    panic!("the property failed on the reference implementation: {failure}");
                }
            },
            |payload, bufsizes| bare_round_trip(domain, payload, bufsizes),
        );
        println!(
            "{:>12}: property {property}\n{:>12}  bare     {bare}  property/bare: {:.2}",
            format!("{transport:?}"),
            "",
            property.mib_per_s / bare.mib_per_s
        );
    }
}

/// Cases in each turn of [`in_turns`].
const TURN: usize = 16;

/// The throughput of `property` and of `bare` over the same cases, measured in alternating turns
/// of [`TURN`] cases until each has run for [`MEASURE`]: a load that comes and goes meets both
/// alike, where one measurement after the other let it decide the ratio (0.77 to 0.92 in three
/// runs on a quiet machine).
fn in_turns(
    cases: &[(Payload, Vec<usize>)],
    mut property: impl FnMut(&Payload, &[usize]),
    mut bare: impl FnMut(&Payload, &[usize]),
) -> (Rate, Rate) {
    let mut totals = [(Duration::ZERO, 0usize, 0usize); 2];
    let mut next = 0;
    while totals[0].0 < MEASURE || totals[1].0 < MEASURE {
        let turn: Vec<&(Payload, Vec<usize>)> = (next..next + TURN)
            .map(|i| &cases[i % cases.len()])
            .collect();
        next += TURN;
        // Each goes first every other turn, so that neither always meets the other's leftovers.
        let order = if (next / TURN) % 2 == 0 {
            [0, 1]
        } else {
            [1, 0]
        };
        for which in order {
            let total = &mut totals[which];
            let started = Instant::now();
            for (payload, bufsizes) in &turn {
                match which {
                    0 => property(payload, bufsizes),
                    _ => bare(payload, bufsizes),
                }
                total.1 += 1;
                total.2 += payload.len;
            }
            total.0 += started.elapsed();
        }
    }
    let rate = |(elapsed, n, bytes): (Duration, usize, usize)| Rate {
        cases_per_s: n as f64 / elapsed.as_secs_f64(),
        mib_per_s: bytes as f64 / elapsed.as_secs_f64() / (1 << 20) as f64,
        cases: n,
        seconds: elapsed.as_secs_f64(),
    };
    (rate(totals[0]), rate(totals[1]))
}

/// Cases and bytes per second of `round_trip` over `cases`, measured for [`MEASURE`].
fn measure(
    cases: &[(Payload, Vec<usize>)],
    mut round_trip: impl FnMut(&Payload, &[usize]),
) -> Rate {
    let started = Instant::now();
    let (mut n, mut bytes) = (0usize, 0usize);
    while started.elapsed() < MEASURE {
        let (payload, bufsizes) = &cases[n % cases.len()];
        round_trip(payload, bufsizes);
        n += 1;
        bytes += payload.len;
    }
    let seconds = started.elapsed().as_secs_f64();
    Rate {
        cases_per_s: n as f64 / seconds,
        mib_per_s: bytes as f64 / seconds / (1 << 20) as f64,
        cases: n,
        seconds,
    }
}

/// A measured throughput.
#[derive(Clone, Copy)]
struct Rate {
    cases_per_s: f64,
    mib_per_s: f64,
    cases: usize,
    seconds: f64,
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>8.1} cases/s  {:>8.1} MiB/s  ({} cases in {:.1} s)",
            self.cases_per_s, self.mib_per_s, self.cases, self.seconds
        )
    }
}

/// One case with bare socket2 calls: what the property does, without its machinery. Panics if
/// the bytes do not arrive intact (the bench measures only correct transfers).
fn bare_round_trip(domain: Domain, payload: &Payload, bufsizes: &[usize]) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let address = if domain == Domain::UNIX {
        SockAddr::unix(dir.path().join("s")).expect("a Unix address")
    } else {
        SockAddr::from(
            "127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .expect("an address"),
        )
    };
    let listener = Socket::new(domain, Type::STREAM, None).expect("socket");
    listener.bind(&address).expect("bind");
    listener.listen(1).expect("listen");
    let client = Socket::new(domain, Type::STREAM, None).expect("socket");
    client
        .connect(&listener.local_addr().expect("getsockname"))
        .expect("connect");
    let (mut conn, _) = listener.accept().expect("accept");
    let sent = payload.bytes();
    let mut received = Vec::with_capacity(sent.len());
    std::thread::scope(|scope| {
        let (mut client, sent) = (&client, &sent);
        scope.spawn(move || {
            client.write_all(sent).expect("sendall");
            client
                .shutdown(std::net::Shutdown::Write)
                .expect("shutdown");
        });
        let mut buffer = vec![0u8; bufsizes.iter().copied().max().unwrap_or(1)];
        for &size in bufsizes.iter().cycle() {
            let n = conn.read(&mut buffer[..size]).expect("recv");
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buffer[..n]);
        }
    });
    assert!(received == sent, "the bytes did not arrive intact");
}
