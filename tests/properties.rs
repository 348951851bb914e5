//! Properties over every implementation (reference, std, CPython), on inputs proptest draws.
//!
//! `cargo test` runs a small number of cases (fast); `PROPTEST_CASES=N` raises it, and
//! `PROPTEST_CASES=1000 cargo test --release --test properties --test differential` is the long
//! run (see the README). A failure writes its shrunk case as a scenario under
//! `target/sockspec-regressions/` that `sockspec run` replays. The deliberately broken drivers in
//! `tests/drivers/` prove the properties catch what they claim to.

use sockspec::driver::Driver;
use sockspec::implementation::Implementation;
use sockspec::properties::search::{
    check_closed, check_datagrams, check_interleavings, check_names, check_streams, Search,
    EVERY_STREAM,
};
use sockspec::properties::{
    closed_socket_refuses_everything, regression_path, regressions_dir, render, stream_bytes,
    Action, AfterClose, ClosedSocket, DatagramTransport, End, Expected, Observed, Payload, Ran,
    Setup, StreamTransport, SOCKETPAIR_CHUNK,
};
use sockspec::requirements::Requirements;
use sockspec::scenario::{parse, to_yaml, Scenario, ScenarioPath};
use sockspec::vocab::{Address, Family, Shutdown, SockError, SocketType};
use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::{Arc, OnceLock};

mod common;
use common::{content, root};

/// Cases per property for in-process implementations: PROPTEST_CASES, else a few.
fn cases() -> u32 {
    common::proptest_cases(12)
}

/// `cases` cases per property, counterexamples written under `target/sockspec-regressions/`.
fn config(cases: u32) -> Search {
    Search::new(cases, regressions_dir())
}

fn python() -> Arc<dyn Implementation> {
    static PYTHON: OnceLock<Arc<dyn Implementation>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            std::env::set_current_dir(root()).unwrap();
            Arc::new(
                Driver::start("python", "python3 drivers/python/sockspec_driver.py")
                    .expect("the CPython driver starts"),
            )
        })
        .clone()
}

fn driver(file: &str) -> Arc<dyn Implementation> {
    Arc::new(common::exec_driver(&format!(
        "python3 tests/drivers/{file}"
    )))
}

#[test]
fn every_operation_on_a_closed_socket_fails_with_ebadf() {
    for implementation in [
        &sockspec::reference::Reference as &dyn Implementation,
        &sockspec::stdnet::StdNet,
    ] {
        check_closed(implementation, &config(cases() * 2)).unwrap();
    }
    check_closed(python().as_ref(), &config((cases() / 2).max(2))).unwrap();
}

#[test]
fn the_close_property_tries_every_operation_that_acts_on_a_socket() {
    let tried: Vec<&str> = AfterClose::every(Family::Inet)
        .iter()
        .map(|group| group[0].0.name())
        .collect();
    // Every operation of the table but the two that make sockets.
    let acting: Vec<&str> = sockspec::operation::Call::NAMES
        .iter()
        .copied()
        .filter(|name| !["socket", "socketpair"].contains(name))
        .collect();
    assert_eq!(tried, acting);
}

#[test]
fn every_call_on_a_closed_socket_of_every_history_gives_what_the_spec_says() {
    for target in every_closed_socket() {
        for implementation in [
            &sockspec::reference::Reference as &dyn Implementation,
            python().as_ref(),
        ] {
            closed_socket_refuses_everything(
                implementation,
                target,
                &every_after_close(target.family),
            )
            .unwrap_or_else(|c| panic!("{target:?}: {}", c.message));
        }
    }
}

#[test]
fn shutdown_behaves_as_the_spec_says_in_any_interleaving() {
    let mut cases = Vec::new();
    for implementation in [
        &sockspec::reference::Reference as &dyn Implementation,
        &sockspec::stdnet::StdNet,
    ] {
        cases.extend(check_interleavings(implementation, &config(self::cases() * 2)).unwrap());
    }
    cases.extend(
        check_interleavings(python().as_ref(), &config((self::cases() / 2).max(2))).unwrap(),
    );
    // The generator reaches the interesting cases: on one end, a send after its own
    // shutdown(SHUT_WR) and a receive after its own shutdown(SHUT_RD), in the same case.
    let after = |case: &[Action], shut: &[Shutdown], then: fn(&Action) -> Option<End>| {
        case.iter().enumerate().any(|(i, a)| match a {
            Action::Shutdown { end, how } if shut.contains(how) => {
                case[i + 1..].iter().any(|b| then(b) == Some(*end))
            }
            _ => false,
        })
    };
    let send_of = |a: &Action| match a {
        Action::Send { end, .. } => Some(*end),
        _ => None,
    };
    let recv_of = |a: &Action| match a {
        Action::Recv { end, .. } => Some(*end),
        _ => None,
    };
    assert!(
        cases
            .iter()
            .any(|c| after(c, &[Shutdown::Write, Shutdown::Both], send_of)),
        "no send after its own end's shutdown(SHUT_WR) was drawn"
    );
    assert!(
        cases
            .iter()
            .any(|c| after(c, &[Shutdown::Read, Shutdown::Both], recv_of)),
        "no recv after its own end's shutdown(SHUT_RD) was drawn"
    );
}

#[test]
fn streams_arrive_intact_whatever_the_recv_sizes() {
    for implementation in [
        &sockspec::reference::Reference as &dyn Implementation,
        &sockspec::stdnet::StdNet,
    ] {
        check_streams(implementation, EVERY_STREAM, &config(cases()), 4 << 20).unwrap();
    }
    check_streams(
        python().as_ref(),
        EVERY_STREAM,
        &config((cases() / 4).max(2)),
        256 << 10,
    )
    .unwrap();
}

#[test]
fn datagrams_keep_their_boundaries_and_truncate_alone() {
    for implementation in [
        &sockspec::reference::Reference as &dyn Implementation,
        &sockspec::stdnet::StdNet,
    ] {
        check_datagrams(implementation, &config(cases())).unwrap();
    }
    check_datagrams(python().as_ref(), &config((cases() / 4).max(2))).unwrap();
}

#[test]
fn both_ends_agree_on_names() {
    for implementation in [
        &sockspec::reference::Reference as &dyn Implementation,
        &sockspec::stdnet::StdNet,
    ] {
        check_names(implementation, &config(cases())).unwrap();
    }
    check_names(python().as_ref(), &config((cases() / 4).max(2))).unwrap();
}

/// For the broken drivers: enough cases to find the bug, a short shrink (the point is that the
/// bug is found and the scenario replays it, not the smallest case).
fn hunting() -> Search {
    Search {
        max_shrink_iters: 6,
        ..config(64)
    }
}

/// The written scenario fails on `broken` and passes on the reference implementation.
fn assert_replays(property: &str, broken: &dyn Implementation) {
    let path = regression_path(&regressions_dir(), property, broken.name());
    assert!(path.exists(), "no scenario written at {}", path.display());
    let run = |implementation: &str| {
        Command::new(env!("CARGO_BIN_EXE_sockspec"))
            .arg("run")
            .arg(format!("--impl={implementation}"))
            .arg(&path)
            .current_dir(root())
            .output()
            .unwrap()
    };
    let on_broken = run(broken.name());
    assert_eq!(
        on_broken.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&on_broken.stdout)
    );
    let on_reference = run("reference");
    assert_eq!(
        on_reference.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&on_reference.stdout)
    );
}

/// The broken driver `file` makes the property fail, and the scenario written for
/// `property` fails on it and passes on the reference.
fn assert_caught(
    file: &str,
    property: &str,
    check: impl Fn(&dyn Implementation) -> Result<(), String>,
) {
    let broken = driver(file);
    let failure = check(broken.as_ref()).expect_err("the property should fail");
    assert!(failure.contains(property), "{failure}");
    assert_replays(property, broken.as_ref());
}

#[test]
fn a_driver_that_drops_the_last_byte_of_large_sends_is_caught_and_replayed() {
    // Not over a socketpair: that is the next test, with its own property name and file.
    let listened = &EVERY_STREAM[..3];
    assert!(!listened.contains(&StreamTransport::Socketpair));
    assert_caught("drops_last_byte.py", "stream-round-trip", |broken| {
        check_streams(broken, listened, &hunting(), 1 << 20)
    });
}

#[test]
fn a_driver_that_drops_the_last_byte_is_caught_over_a_socketpair_too() {
    // Over a socketpair the property sends in chunks (one session holds both ends), so the
    // written scenario is a different shape: it must replay as well.
    assert_caught("drops_last_byte.py", "socketpair-round-trip", |broken| {
        check_streams(broken, &[StreamTransport::Socketpair], &hunting(), 1 << 20)
    });
}

#[test]
fn a_driver_that_merges_datagrams_is_caught_and_replayed() {
    assert_caught("merges_datagrams.py", "datagram-boundaries", |broken| {
        check_datagrams(broken, &hunting())
    });
}

#[test]
fn a_driver_that_reports_the_wrong_peer_is_caught_and_replayed() {
    assert_caught("wrong_peer.py", "names-agree", |broken| {
        check_names(broken, &hunting())
    });
}

#[test]
fn a_driver_whose_shutdown_read_also_shuts_writing_is_caught_and_replayed() {
    // Over TCP the bug can hide: a socket shut down both ways resets the connection when data
    // arrives, which the property allows and which ends its case. A send on the "read-only"
    // shut end (EPIPE instead of a count), and the Unix and socketpair cases, catch it.
    assert_caught(
        "shutdown_read_closes_both.py",
        "shutdown-interleaving",
        |broken| check_interleavings(broken, &hunting()).map(drop),
    );
}

#[test]
fn a_driver_whose_recv_after_close_returns_nothing_is_caught_and_replayed() {
    assert_caught(
        "recv_after_close_returns_nothing.py",
        "use-after-close",
        |broken| check_closed(broken, &hunting()),
    );
}

/// The counterexample `property` writes for `scenario` is a scenario the loader reads as the
/// same model, with a header saying where it came from; writing the loaded model again gives
/// the same content, and the same text.
fn assert_reads_back(property: &str, scenario: &Scenario, requirements: &Requirements) {
    let message = "step 3, Recv { end: B, bufsize: 7 }: returned 2 bytes \"ab\"\nwhere: {x: 1}";
    let text = render::fixture(property, message, scenario);
    let header: Vec<&str> = text.lines().take_while(|l| l.starts_with('#')).collect();
    assert_eq!(
        header,
        [
            format!("# Written by the property `{property}` when it failed:").as_str(),
            "#   step 3, Recv { end: B, bufsize: 7 }: returned 2 bytes \"ab\"",
            "#   where: {x: 1}",
            "# Replay: sockspec run --impl NAME THIS-FILE. Keep it: move it into fixtures/.",
        ],
        "{text}"
    );
    let found = ScenarioPath {
        path: format!("{property}.yaml").into(),
        id: property.to_string(),
    };
    let loaded = parse(&found, &text, requirements)
        .unwrap_or_else(|e| panic!("{property} wrote\n{text}\nwhich does not load: {e:?}"));
    assert_eq!(content(&loaded), content(scenario), "{text}");
    let comment: String = header
        .iter()
        .map(|l| format!("{}\n", l.strip_prefix("# ").unwrap_or(l)))
        .collect();
    let again = to_yaml(&loaded, &comment).expect("it serialises");
    let reloaded = parse(&found, &again, requirements)
        .unwrap_or_else(|e| panic!("{property} rewritten as\n{again}\ndoes not load: {e:?}"));
    assert_eq!(content(&reloaded), content(&loaded), "{again}");
    assert_eq!(again, text);
}

/// Every closed socket the close property can draw: each family, type and possible history.
fn every_closed_socket() -> Vec<ClosedSocket> {
    let mut targets = Vec::new();
    for family in [Family::Inet, Family::Inet6, Family::Unix] {
        for kind in [SocketType::Stream, SocketType::Dgram] {
            for setup in Setup::ALL {
                let target = ClosedSocket {
                    family,
                    kind,
                    setup,
                };
                if target.is_possible() {
                    targets.push(target);
                }
            }
        }
    }
    targets
}

/// Every call the close property tries after `close` on a socket of `family`.
fn every_after_close(family: Family) -> Vec<AfterClose> {
    AfterClose::every(family).concat()
}

/// Calls of the interleaving property with every kind of action, expected outcome and observed
/// outcome: passed, failed (`observed: None`, last), reset, bytes found in the stream or not.
fn every_kind_of_call() -> Vec<Vec<Ran>> {
    let ran = |action, position, expected, reset_possible, observed| Ran {
        action,
        position,
        expected,
        reset_possible,
        observed,
    };
    let (a, b) = (End::A, End::B);
    let send = |end, len| Action::Send { end, len };
    let recv = |end, bufsize| Action::Recv { end, bufsize };
    let passed = vec![
        ran(
            send(a, 10),
            0,
            Expected::Sends(10),
            false,
            Some(Observed::Count(7)),
        ),
        ran(
            recv(b, 5),
            0,
            Expected::Data {
                next: stream_bytes(a, 0, 5),
            },
            false,
            Some(Observed::Bytes(stream_bytes(a, 0, 3))),
        ),
        ran(
            Action::Shutdown {
                end: b,
                how: Shutdown::Read,
            },
            0,
            Expected::Ok,
            false,
            Some(Observed::Done),
        ),
        ran(
            send(a, 4),
            7,
            Expected::SendsOrRefused(4),
            true,
            Some(Observed::Count(4)),
        ),
        ran(
            recv(b, 100),
            3,
            Expected::EofOrLater {
                rest: stream_bytes(a, 3, 8),
            },
            true,
            Some(Observed::Bytes(stream_bytes(a, 5, 6))),
        ),
        ran(
            Action::Getpeername { end: a },
            0,
            Expected::Peer {
                maybe_closed: false,
            },
            false,
            Some(Observed::Name(Address::from(("127.0.0.1", 4000)))),
        ),
        ran(
            Action::Shutdown {
                end: a,
                how: Shutdown::Write,
            },
            0,
            Expected::Ok,
            false,
            Some(Observed::Done),
        ),
        ran(
            recv(b, 9),
            11,
            Expected::Eof,
            false,
            Some(Observed::Bytes(Vec::new())),
        ),
        ran(
            send(a, 3),
            11,
            Expected::BrokenPipe,
            false,
            Some(Observed::Failed(SockError::errno(nix::errno::Errno::EPIPE))),
        ),
        ran(
            Action::Shutdown {
                end: b,
                how: Shutdown::Both,
            },
            0,
            Expected::OkOrNotConnected,
            false,
            Some(Observed::Done),
        ),
        ran(
            Action::Getpeername { end: b },
            0,
            Expected::Peer { maybe_closed: true },
            false,
            Some(Observed::Name(Address::from(("127.0.0.1", 4001)))),
        ),
        // Bytes that are not where the model expects them: written out as they came.
        ran(
            recv(a, 16),
            0,
            Expected::Data {
                next: stream_bytes(b, 0, 4),
            },
            false,
            Some(Observed::Bytes(b"\x00\xff".to_vec())),
        ),
    ];
    // Each way of failing, after those: the failing call expects what the model allowed.
    let failing = [
        ran(
            recv(b, 8),
            11,
            Expected::Data {
                next: stream_bytes(a, 11, 8),
            },
            false,
            None,
        ),
        ran(
            recv(b, 8),
            11,
            Expected::EofOrLater {
                rest: stream_bytes(a, 11, 20),
            },
            false,
            None,
        ),
        ran(recv(b, 8), 11, Expected::Eof, false, None),
        ran(send(b, 8), 0, Expected::Sends(8), false, None),
        ran(send(b, 8), 0, Expected::SendsOrRefused(8), false, None),
        ran(send(b, 8), 0, Expected::BrokenPipe, false, None),
        ran(
            Action::Shutdown {
                end: a,
                how: Shutdown::Read,
            },
            0,
            Expected::Ok,
            false,
            None,
        ),
        ran(
            Action::Shutdown {
                end: a,
                how: Shutdown::Both,
            },
            0,
            Expected::OkOrNotConnected,
            true,
            None,
        ),
        ran(
            Action::Getpeername { end: b },
            0,
            Expected::Peer {
                maybe_closed: false,
            },
            false,
            None,
        ),
        ran(
            Action::Getpeername { end: a },
            0,
            Expected::Peer { maybe_closed: true },
            true,
            None,
        ),
        // A reset ends the case: the calls after it are not written.
        ran(
            send(a, 2),
            14,
            Expected::Sends(2),
            true,
            Some(Observed::Failed(SockError::errno(
                nix::errno::Errno::ECONNRESET,
            ))),
        ),
    ];
    let mut cases: Vec<Vec<Ran>> = failing
        .into_iter()
        .map(|last| {
            let mut case = passed.clone();
            case.push(last);
            case
        })
        .collect();
    cases.push(Vec::new());
    cases
}

#[test]
fn every_kind_of_counterexample_reads_back_as_the_same_scenario() {
    let requirements = Requirements::load(&root().join("spec")).expect("the spec loads");
    let payloads = [
        Payload {
            pattern: "a".to_string(),
            len: 0,
        },
        Payload {
            pattern: "xyz".to_string(),
            len: 1000,
        },
        // More than one socketpair chunk, the last a short one.
        Payload {
            pattern: "q7".to_string(),
            len: 2 * SOCKETPAIR_CHUNK + 13,
        },
    ];
    for transport in EVERY_STREAM.iter().copied() {
        for payload in &payloads {
            for recv_timeout in [false, true] {
                let scenario = render::stream(transport, payload, &[7, 1, 65536], recv_timeout);
                assert_reads_back(render::stream_property(transport), &scenario, &requirements);
            }
        }
    }
    let datagrams = [
        (
            Payload {
                pattern: "abc".to_string(),
                len: 100,
            },
            30,
        ),
        (
            Payload {
                pattern: "z".to_string(),
                len: 0,
            },
            1,
        ),
        (
            Payload {
                pattern: "0123".to_string(),
                len: 65_507,
            },
            70_000,
        ),
    ];
    for transport in [DatagramTransport::Udp4, DatagramTransport::UnixDgram] {
        let scenario = render::datagrams(transport, &datagrams);
        assert_reads_back(render::DATAGRAM_PROPERTY, &scenario, &requirements);
    }
    for host in [Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(127, 200, 3, 254)] {
        assert_reads_back(render::NAMES_PROPERTY, &render::names(host), &requirements);
    }
    let mut targets = 0;
    for target in every_closed_socket() {
        let scenario = render::closed(target, &every_after_close(target.family));
        assert_reads_back(render::CLOSED_PROPERTY, &scenario, &requirements);
        targets += 1;
    }
    // Streams: six histories per family and a socketpair's end; datagrams: three, and a
    // socketpair's end.
    assert_eq!(targets, (3 * 6 + 1) + (3 * 3 + 1));
    for transport in EVERY_STREAM.iter().copied() {
        for case in every_kind_of_call() {
            let scenario = render::interleaving(transport, &case);
            assert_reads_back(render::INTERLEAVING_PROPERTY, &scenario, &requirements);
        }
    }
}
