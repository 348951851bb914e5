//! Readiness events (`poll`) and the flags `recvmsg` reports (`msg_flags`), by name.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A poll(2) event, as a scenario names it: requested in `events`, reported in `revents`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum PollEvent {
    /// `POLLIN`: there is data to read (or end of stream, or a connection to accept).
    In,
    /// `POLLPRI`: an exceptional condition (TCP urgent data).
    Pri,
    /// `POLLOUT`: writing will not block (a non-blocking connect has completed, or failed).
    Out,
    /// `POLLERR`: an error is pending (reported whether requested or not).
    Err,
    /// `POLLHUP`: hang up (reported whether requested or not).
    Hup,
    /// `POLLNVAL`: the descriptor is not open (reported whether requested or not).
    Nval,
    /// `POLLRDHUP` (Linux): the peer shut down its writing half.
    Rdhup,
    /// `POLLRDNORM`: normal data to read.
    Rdnorm,
    /// `POLLRDBAND`: priority data to read.
    Rdband,
    /// `POLLWRNORM`: as `POLLOUT`.
    Wrnorm,
    /// `POLLWRBAND`: priority data may be written.
    Wrband,
}

impl PollEvent {
    /// Every event, in a fixed order.
    pub const ALL: [PollEvent; 11] = [
        PollEvent::In,
        PollEvent::Pri,
        PollEvent::Out,
        PollEvent::Err,
        PollEvent::Hup,
        PollEvent::Nval,
        PollEvent::Rdhup,
        PollEvent::Rdnorm,
        PollEvent::Rdband,
        PollEvent::Wrnorm,
        PollEvent::Wrband,
    ];

    /// The constant's name as C and Python's `select` module spell it.
    pub fn constant(self) -> &'static str {
        match self {
            PollEvent::In => "POLLIN",
            PollEvent::Pri => "POLLPRI",
            PollEvent::Out => "POLLOUT",
            PollEvent::Err => "POLLERR",
            PollEvent::Hup => "POLLHUP",
            PollEvent::Nval => "POLLNVAL",
            PollEvent::Rdhup => "POLLRDHUP",
            PollEvent::Rdnorm => "POLLRDNORM",
            PollEvent::Rdband => "POLLRDBAND",
            PollEvent::Wrnorm => "POLLWRNORM",
            PollEvent::Wrband => "POLLWRBAND",
        }
    }
}

impl fmt::Display for PollEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::scenario_name(self))
    }
}

/// A flag recvmsg(2) reports in `msg_flags`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum MsgFlag {
    /// `MSG_TRUNC`: the datagram was longer than the buffer; the rest was discarded.
    Trunc,
    /// `MSG_CTRUNC`: ancillary data was discarded for lack of space.
    Ctrunc,
    /// `MSG_EOR`: end of record.
    Eor,
    /// `MSG_OOB`: out-of-band data was received.
    Oob,
    /// `MSG_ERRQUEUE` (Linux): the data came from the error queue.
    Errqueue,
}

impl MsgFlag {
    /// Every flag, in a fixed order.
    pub const ALL: [MsgFlag; 5] = [
        MsgFlag::Trunc,
        MsgFlag::Ctrunc,
        MsgFlag::Eor,
        MsgFlag::Oob,
        MsgFlag::Errqueue,
    ];

    /// The constant's name as C and Python spell it.
    pub fn constant(self) -> &'static str {
        match self {
            MsgFlag::Trunc => "MSG_TRUNC",
            MsgFlag::Ctrunc => "MSG_CTRUNC",
            MsgFlag::Eor => "MSG_EOR",
            MsgFlag::Oob => "MSG_OOB",
            MsgFlag::Errqueue => "MSG_ERRQUEUE",
        }
    }
}

impl fmt::Display for MsgFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::scenario_name(self))
    }
}
