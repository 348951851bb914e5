//! An implementation over Rust's standard library: `std::net` and `std::os::unix::net`.
//!
//! std cannot express everything the suite asks: a TCP socket exists only once it is bound and
//! listening (`TcpListener::bind`) or connected (`TcpStream::connect`); there is no backlog, no
//! `SO_REUSEADDR`, no Python-style timeout mode, no recv flags but peek, and name-resolution errors
//! lose their `EAI_` code. It declares what it can do; what it cannot do at run time is reported
//! `unsupported`, never worked around.
//!
//! One deviation is inherent and documented in `expectations/std.yaml`: `bind` on a stream socket
//! has to create the listener (`TcpListener::bind` is bind and listen in one), so the socket
//! accepts connections from `bind` on rather than from `listen` on.

mod session;

use crate::implementation::{Capabilities, Implementation, Session, SessionError};
use crate::operation::Call;
use crate::vocab::{Family, Feature, SocketOption, SocketType};

/// Rust's standard library, named `std`.
#[derive(Clone, Copy, Debug, Default)]
pub struct StdNet;

/// The operations std's types have no form of: no `recvmsg`/`sendmsg` (no message headers),
/// no raw option buffers, no `poll`, and no query of a socket's mode (`gettimeout` and
/// `getblocking`: std sets timeouts and non-blocking mode but reads back only the timeouts).
const UNEXPRESSIBLE_OPERATIONS: &[&str] = &[
    "sendmsg",
    "recvmsg",
    "setsockopt_bytes",
    "getsockopt_bytes",
    "poll",
    "gettimeout",
    "getblocking",
];

impl Implementation for StdNet {
    fn name(&self) -> &str {
        "std"
    }

    fn capabilities(&self) -> Capabilities {
        let mut features = vec![
            Feature::Socketpair,
            Feature::NonBlockingMode,
            Feature::UnboundSockets,
            Feature::Shutdown,
        ];
        if cfg!(any(target_os = "linux", target_os = "android")) {
            features.push(Feature::AbstractNamespace);
            // Its calls run on the actor's thread, which the runner makes unprivileged.
            features.push(Feature::Unprivileged);
        }
        Capabilities {
            families: Family::ALL.into_iter().collect(),
            types: [SocketType::Stream, SocketType::Dgram]
                .into_iter()
                .collect(),
            // What std's types offer: the timeouts, `set_nodelay`, `set_broadcast`, `set_ttl`
            // and `take_error` (SO_ERROR).
            options: [
                SocketOption::RecvTimeoutMs,
                SocketOption::SendTimeoutMs,
                SocketOption::TcpNoDelay,
                SocketOption::Broadcast,
                SocketOption::IpTtl,
                SocketOption::Error,
            ]
            .into_iter()
            .collect(),
            features: features.into_iter().collect(),
            // The calls std's types have no form of (see UNEXPRESSIBLE_OPERATIONS).
            operations: Some(Call::names_except(UNEXPRESSIBLE_OPERATIONS)),
            sockets: None,
            // `set_nodelay` is TcpStream's; `set_broadcast` is UdpSocket's.
            option_types: [
                (SocketOption::TcpNoDelay, [SocketType::Stream]),
                (SocketOption::Broadcast, [SocketType::Dgram]),
            ]
            .into_iter()
            .map(|(option, types)| (option, types.into_iter().collect()))
            .collect(),
            shapes: Default::default(),
        }
    }

    fn open_session(&self) -> Result<Box<dyn Session>, SessionError> {
        Ok(Box::<session::StdSession>::default())
    }
}
