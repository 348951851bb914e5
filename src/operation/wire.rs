//! The values operations return, in the shapes the driver protocol gives them.

use super::Handle;
use crate::vocab::{Address, MsgFlag, PollEvent};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes, written as base64 (RFC 4648, with padding) in the driver protocol.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&BASE64.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        BASE64
            .decode(text)
            .map(Bytes)
            .map_err(|e| serde::de::Error::custom(format!("data is not base64: {e}")))
    }
}

impl JsonSchema for Bytes {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "data".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "contentEncoding": "base64",
            "description": "Bytes, base64 (RFC 4648, with padding).",
            "pattern": "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
        })
    }
}

/// What `socket` returns: the new socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Opened {
    /// The new socket.
    pub handle: Handle,
}

/// What `socketpair` returns: the two connected sockets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pair {
    /// The two sockets, in the order Python returns them.
    pub handles: [Handle; 2],
}

/// What `accept` returns: the new connection and its peer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    /// The new connection.
    pub handle: Handle,
    /// The peer's address.
    pub address: Address,
}

/// What `recv` returns: the bytes received (none at end of stream).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Received {
    /// The bytes.
    pub data: Bytes,
}

/// What `recvfrom` returns: the bytes and who sent them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceivedFrom {
    /// The bytes.
    pub data: Bytes,
    /// The sender's address (`unnamed` where there is none).
    pub address: Address,
}

/// What `getsockname` and `getpeername` return: an address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Named {
    /// The address.
    pub address: Address,
}

/// What `recvmsg` returns: the bytes, the flags the kernel set in `msg_flags`, and the sender.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// The bytes.
    pub data: Bytes,
    /// `msg_flags`, by name (`trunc`, `ctrunc`…), in any order.
    pub flags: Vec<MsgFlag>,
    /// The sender's address (`unnamed` where there is none, e.g. Python's `None` on a connected
    /// stream).
    pub address: Address,
}

/// What `recv_into` returns: the count, and the buffer's contents after the call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Filled {
    /// What the call returned: the count of bytes received (with `MSG_TRUNC` on a datagram
    /// socket, the datagram's real length, which may exceed what was written).
    pub count: usize,
    /// The whole buffer after the call.
    pub buffer: Bytes,
}

/// What `recvfrom_into` returns: the count, the buffer after the call, and the sender.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilledFrom {
    /// What the call returned: the count of bytes received.
    pub count: usize,
    /// The whole buffer after the call.
    pub buffer: Bytes,
    /// The sender's address (`unnamed` where there is none).
    pub address: Address,
}

/// What `poll` returns: the events reported for the socket (`revents`), none on a timeout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ready {
    /// The events, by name, in any order.
    pub events: Vec<PollEvent>,
}

/// A `listen` backlog (a scenario that sets one needs the `backlog` feature).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(inline)]
pub struct Backlog(pub i32);

/// A number of milliseconds (`poll`'s timeout).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(inline)]
pub struct Millis(pub u64);

/// The sockets a result brings into being; none for most.
pub(super) trait Creates {
    fn created(&self) -> Vec<Handle> {
        Vec::new()
    }
}

impl Creates for Opened {
    fn created(&self) -> Vec<Handle> {
        vec![self.handle]
    }
}

impl Creates for Pair {
    fn created(&self) -> Vec<Handle> {
        self.handles.to_vec()
    }
}

impl Creates for Accepted {
    fn created(&self) -> Vec<Handle> {
        vec![self.handle]
    }
}

impl Creates for () {}
impl Creates for usize {}
impl Creates for i64 {}
impl Creates for bool {}
impl Creates for crate::vocab::Mode {}
impl Creates for Received {}
impl Creates for ReceivedFrom {}
impl Creates for Named {}
impl Creates for Message {}
impl Creates for Filled {}
impl Creates for FilledFrom {}
impl Creates for Ready {}
