//! Socket options, blocking modes, shutdown directions and receive flags.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// The protocol level an option lives at: the `level` argument of setsockopt(2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// `SOL_SOCKET`: the socket layer, for every family.
    Socket,
    /// `IPPROTO_TCP`: TCP sockets (tcp(7)).
    Tcp,
    /// `IPPROTO_IP`: IPv4 sockets (ip(7)); Linux applies most of them to IPv6 TCP/UDP too.
    Ip,
    /// `IPPROTO_IPV6`: IPv6 sockets (ipv6(7)).
    Ipv6,
}

impl Level {
    /// The constant's name as C and Python spell it.
    pub fn constant(self) -> &'static str {
        match self {
            Level::Socket => "SOL_SOCKET",
            Level::Tcp => "IPPROTO_TCP",
            Level::Ip => "IPPROTO_IP",
            Level::Ipv6 => "IPPROTO_IPV6",
        }
    }
}

/// How a scenario's integer stands for an option's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// An "integer boolean flag": any non-zero value sets it; it reads back as 0 or 1.
    Bool,
    /// A C `int`, passed and read back unchanged.
    Int,
    /// A `struct timeval`, in milliseconds (0: no timeout).
    Millis,
    /// A `struct linger`: a value `n >= 0` is `{l_onoff = 1, l_linger = n}` (linger `n` seconds;
    /// 0 resets the connection on close); `-1` is `{l_onoff = 0, l_linger = 0}` (off). Reading
    /// gives `l_linger` when `l_onoff` is set, else `-1`.
    Linger,
    /// Read-only: `getsockopt` gives an integer; `setsockopt` passes the C `int` to the system,
    /// which refuses it (Linux: `ENOPROTOOPT`).
    ReadOnly,
}

/// The one table of socket options: variant, YAML name, constant (C and Python), level, kind.
/// [`SocketOption::ALL`], its names, constants, levels and kinds all come from here.
macro_rules! socket_options {
    ($( $(#[$doc:meta])* $Variant:ident = $name:literal, $constant:literal, $level:ident, $kind:ident; )*) => {
        /// A socket option a scenario may set with `setsockopt` or read with `getsockopt`.
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
        )]
        pub enum SocketOption {
            $( $(#[$doc])* #[serde(rename = $name)] $Variant, )*
        }

        impl SocketOption {
            /// Every option, in the table's order.
            pub const ALL: &'static [SocketOption] = &[$(SocketOption::$Variant),*];

            /// The name scenarios and the driver protocol use (`reuse_addr`, `tcp_nodelay`).
            pub fn name(self) -> &'static str {
                match self { $(SocketOption::$Variant => $name,)* }
            }

            /// The constant's name as C and Python spell it (`SO_REUSEADDR`).
            pub fn constant(self) -> &'static str {
                match self { $(SocketOption::$Variant => $constant,)* }
            }

            /// The level it lives at.
            pub fn level(self) -> Level {
                match self { $(SocketOption::$Variant => Level::$level,)* }
            }

            /// How its value is written in scenarios.
            pub fn kind(self) -> ValueKind {
                match self { $(SocketOption::$Variant => ValueKind::$kind,)* }
            }
        }
    };
}

socket_options! {
    /// `SO_REUSEADDR` (boolean).
    ReuseAddr = "reuse_addr", "SO_REUSEADDR", Socket, Bool;
    /// `SO_REUSEPORT` (boolean; Linux and the BSDs).
    ReusePort = "reuse_port", "SO_REUSEPORT", Socket, Bool;
    /// `SO_RCVTIMEO`, in milliseconds (0 disables it).
    RecvTimeoutMs = "recv_timeout_ms", "SO_RCVTIMEO", Socket, Millis;
    /// `SO_SNDTIMEO`, in milliseconds (0 disables it).
    SendTimeoutMs = "send_timeout_ms", "SO_SNDTIMEO", Socket, Millis;
    /// `SO_RCVBUF`, in bytes.
    RecvBuffer = "recv_buffer", "SO_RCVBUF", Socket, Int;
    /// `SO_SNDBUF`, in bytes.
    SendBuffer = "send_buffer", "SO_SNDBUF", Socket, Int;
    /// `SO_LINGER`: seconds to linger on close (0: reset the connection), `-1` for off.
    Linger = "linger", "SO_LINGER", Socket, Linger;
    /// `SO_ERROR` (read-only): the pending error's number, cleared by reading; 0 for none.
    Error = "error", "SO_ERROR", Socket, ReadOnly;
    /// `SO_TYPE` (read-only): the socket's type (`SOCK_STREAM`, `SOCK_DGRAM`…) as a number.
    Type = "type", "SO_TYPE", Socket, ReadOnly;
    /// `SO_ACCEPTCONN` (read-only boolean): 1 once the socket listens.
    AcceptConn = "accept_conn", "SO_ACCEPTCONN", Socket, ReadOnly;
    /// `SO_KEEPALIVE` (boolean).
    KeepAlive = "keepalive", "SO_KEEPALIVE", Socket, Bool;
    /// `SO_RCVLOWAT`, in bytes.
    RecvLowWater = "recv_low_water", "SO_RCVLOWAT", Socket, Int;
    /// `SO_BROADCAST` (boolean).
    Broadcast = "broadcast", "SO_BROADCAST", Socket, Bool;
    /// `TCP_NODELAY` (boolean).
    TcpNoDelay = "tcp_nodelay", "TCP_NODELAY", Tcp, Bool;
    /// `TCP_KEEPIDLE`, in seconds (Linux; macOS calls it `TCP_KEEPALIVE`).
    TcpKeepIdle = "tcp_keepidle", "TCP_KEEPIDLE", Tcp, Int;
    /// `TCP_KEEPINTVL`, in seconds.
    TcpKeepIntvl = "tcp_keepintvl", "TCP_KEEPINTVL", Tcp, Int;
    /// `TCP_KEEPCNT`, a number of probes.
    TcpKeepCnt = "tcp_keepcnt", "TCP_KEEPCNT", Tcp, Int;
    /// `TCP_USER_TIMEOUT`, in milliseconds: how long sent data may stay unacknowledged (and a
    /// connect unanswered) before the connection fails with `ETIMEDOUT` (Linux).
    TcpUserTimeout = "tcp_user_timeout", "TCP_USER_TIMEOUT", Tcp, Int;
    /// `IP_TTL`, hops (1 to 255; Linux: -1 restores the default).
    IpTtl = "ip_ttl", "IP_TTL", Ip, Int;
    /// `IP_RECVERR` (boolean; Linux).
    IpRecvErr = "ip_recverr", "IP_RECVERR", Ip, Bool;
    /// `IP_RECVTOS` (boolean): deliver each datagram's TOS byte as ancillary data.
    IpRecvTos = "ip_recvtos", "IP_RECVTOS", Ip, Bool;
    /// `IP_FREEBIND` (boolean; Linux).
    IpFreeBind = "ip_freebind", "IP_FREEBIND", Ip, Bool;
    /// `IP_MTU_DISCOVER` (Linux): 0 `IP_PMTUDISC_DONT`, 1 `WANT`, 2 `DO` (datagrams beyond the
    /// path MTU are refused with `EMSGSIZE`), 3 `PROBE`.
    IpMtuDiscover = "ip_mtu_discover", "IP_MTU_DISCOVER", Ip, Int;
    /// `IPV6_V6ONLY` (boolean).
    Ipv6V6Only = "ipv6_v6only", "IPV6_V6ONLY", Ipv6, Bool;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_are_the_table_names() {
        for option in SocketOption::ALL {
            let json = serde_json::to_string(option).unwrap();
            assert_eq!(json, format!("\"{}\"", option.name()));
            let back: SocketOption = serde_json::from_str(&json).unwrap();
            assert_eq!(back, *option);
        }
    }

    /// scenario-format §5.6 lists every option, with its constant and level, and nothing else.
    #[test]
    fn the_scenario_format_lists_every_option() {
        let format = include_str!("../../spec/scenario-format.md");
        let rows: Vec<&str> = format
            .lines()
            .filter(|l| {
                l.starts_with("| `")
                    && (l.contains("| `SOL_SOCKET` |") || l.contains("| `IPPROTO_"))
            })
            .collect();
        for option in SocketOption::ALL {
            let row = format!(
                "| `{}` | `{}` | `{}` |",
                option.name(),
                option.constant(),
                option.level().constant()
            );
            assert!(
                rows.iter().any(|r| r.starts_with(&row)),
                "spec/scenario-format.md §5.6 lacks the row {row}"
            );
        }
        assert_eq!(rows.len(), SocketOption::ALL.len(), "{rows:#?}");
    }
}
