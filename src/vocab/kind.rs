//! Address families and socket types.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An address family (the first argument of `socket(2)`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// `AF_INET`: IPv4.
    Inet,
    /// `AF_INET6`: IPv6.
    Inet6,
    /// `AF_UNIX`: Unix-domain sockets on the same machine.
    Unix,
}

impl Family {
    /// Every family, in a fixed order.
    pub const ALL: [Family; 3] = [Family::Inet, Family::Inet6, Family::Unix];

    /// The constant's name as C and Python spell it.
    pub fn constant(self) -> &'static str {
        match self {
            Family::Inet => "AF_INET",
            Family::Inet6 => "AF_INET6",
            Family::Unix => "AF_UNIX",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Inet => "inet",
            Family::Inet6 => "inet6",
            Family::Unix => "unix",
        })
    }
}

/// A socket type (the second argument of `socket(2)`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum SocketType {
    /// `SOCK_STREAM`: a reliable byte stream (TCP, or a Unix stream socket).
    Stream,
    /// `SOCK_DGRAM`: datagrams that keep their boundaries (UDP, or a Unix datagram socket).
    Dgram,
    /// `SOCK_SEQPACKET`: connected, reliable, with boundaries (Unix only on Linux; IP families
    /// refuse it, which makes it the suite's invalid family/type combination).
    Seqpacket,
}

impl SocketType {
    /// Every type, in a fixed order.
    pub const ALL: [SocketType; 3] = [SocketType::Stream, SocketType::Dgram, SocketType::Seqpacket];

    /// The constant's name as C and Python spell it.
    pub fn constant(self) -> &'static str {
        match self {
            SocketType::Stream => "SOCK_STREAM",
            SocketType::Dgram => "SOCK_DGRAM",
            SocketType::Seqpacket => "SOCK_SEQPACKET",
        }
    }
}

impl fmt::Display for SocketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SocketType::Stream => "stream",
            SocketType::Dgram => "dgram",
            SocketType::Seqpacket => "seqpacket",
        })
    }
}
