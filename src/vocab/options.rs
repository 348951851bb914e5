//! Socket options, blocking modes, shutdown directions and receive flags.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// A socket option a scenario may set with `setsockopt`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SocketOption {
    /// `SO_REUSEADDR` (boolean).
    ReuseAddr,
    /// `SO_REUSEPORT` (boolean; Linux and the BSDs).
    ReusePort,
    /// `SO_RCVTIMEO`, in milliseconds (0 disables it).
    RecvTimeoutMs,
    /// `SO_SNDTIMEO`, in milliseconds (0 disables it).
    SendTimeoutMs,
    /// `SO_RCVBUF`, in bytes.
    RecvBuffer,
    /// `SO_SNDBUF`, in bytes.
    SendBuffer,
}

impl SocketOption {
    /// Every option, in a fixed order.
    pub const ALL: [SocketOption; 6] = [
        SocketOption::ReuseAddr,
        SocketOption::ReusePort,
        SocketOption::RecvTimeoutMs,
        SocketOption::SendTimeoutMs,
        SocketOption::RecvBuffer,
        SocketOption::SendBuffer,
    ];

    /// The constant's name as C and Python spell it.
    pub fn constant(self) -> &'static str {
        match self {
            SocketOption::ReuseAddr => "SO_REUSEADDR",
            SocketOption::ReusePort => "SO_REUSEPORT",
            SocketOption::RecvTimeoutMs => "SO_RCVTIMEO",
            SocketOption::SendTimeoutMs => "SO_SNDTIMEO",
            SocketOption::RecvBuffer => "SO_RCVBUF",
            SocketOption::SendBuffer => "SO_SNDBUF",
        }
    }
}

impl fmt::Display for SocketOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.constant())
    }
}

/// How calls on a socket wait, in Python's terms (`setblocking` / `settimeout`).
///
/// Its text form is the argument of Python's `settimeout`: `null` (blocking), `0`
/// (non-blocking) or a number of seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Calls wait as long as it takes (`settimeout(None)`, `setblocking(True)`).
    Blocking,
    /// Calls that would wait fail at once with `EAGAIN`/`EINPROGRESS`
    /// (`settimeout(0)`, `setblocking(False)`).
    NonBlocking,
    /// Calls wait at most this long, then fail with a timeout (`settimeout(t)`).
    Timeout(Duration),
}

impl Mode {
    /// The mode `settimeout(seconds)` sets: `None` blocks, zero is non-blocking.
    pub fn of_timeout(seconds: Option<Duration>) -> Mode {
        match seconds {
            None => Mode::Blocking,
            Some(t) if t.is_zero() => Mode::NonBlocking,
            Some(t) => Mode::Timeout(t),
        }
    }

    /// The argument of `settimeout` that sets this mode.
    pub fn timeout(self) -> Option<Duration> {
        match self {
            Mode::Blocking => None,
            Mode::NonBlocking => Some(Duration::ZERO),
            Mode::Timeout(t) => Some(t),
        }
    }
}

impl Serialize for Mode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Mode::Blocking => serializer.serialize_none(),
            Mode::NonBlocking => serializer.serialize_u8(0),
            Mode::Timeout(t) => serializer.serialize_f64(t.as_secs_f64()),
        }
    }
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let seconds = Option::<f64>::deserialize(deserializer)?;
        let timeout = seconds
            .map(|s| Duration::try_from_secs_f64(s).map_err(serde::de::Error::custom))
            .transpose()?;
        Ok(Mode::of_timeout(timeout))
    }
}

impl JsonSchema for Mode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "timeout".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": ["number", "null"],
            "minimum": 0,
            "description": "Python's settimeout argument: null blocks, 0 is non-blocking, else seconds."
        })
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Blocking => f.write_str("blocking"),
            Mode::NonBlocking => f.write_str("non-blocking"),
            Mode::Timeout(d) => write!(f, "timeout {}", humantime::format_duration(*d)),
        }
    }
}

/// Which direction `shutdown(2)` closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Shutdown {
    /// `SHUT_RD`: no more receptions.
    Read,
    /// `SHUT_WR`: no more transmissions (the peer sees end of file).
    Write,
    /// `SHUT_RDWR`: both.
    Both,
}

impl fmt::Display for Shutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Shutdown::Read => "SHUT_RD",
            Shutdown::Write => "SHUT_WR",
            Shutdown::Both => "SHUT_RDWR",
        })
    }
}

/// Flags for `recv(2)` that scenarios may use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RecvFlags {
    /// `MSG_PEEK`: return data without removing it from the queue.
    pub peek: bool,
    /// `MSG_WAITALL`: on a stream, wait until the full buffer is filled (or EOF / error).
    pub waitall: bool,
    /// `MSG_DONTWAIT`: this one call does not wait, whatever the socket's mode.
    pub dontwait: bool,
    /// `MSG_TRUNC`: on a datagram socket, return the datagram's real length even when it is
    /// longer than the buffer (Linux); on TCP, discard the bytes instead of copying them.
    pub trunc: bool,
}

impl RecvFlags {
    /// True when no flag is set.
    pub fn is_empty(&self) -> bool {
        *self == RecvFlags::default()
    }
}
