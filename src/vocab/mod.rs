//! The socket vocabulary: the words scenarios, implementations and reports share.
//!
//! Nothing in here performs a system call; it only names things (families, types, addresses,
//! options, errors) so that every other module speaks the same language. It is the bottom of the
//! dependency graph: it imports nothing else from this crate.

mod address;
mod capabilities;
mod error;
mod flags;
mod kind;
mod options;
mod suggest;

pub use address::{Address, AddressParseError};
pub use capabilities::{ApiShape, Capabilities, Feature, SocketKind};
pub use error::{ErrorCode, SockError, UnknownErrorName};
pub use flags::{MsgFlag, PollEvent};
pub use kind::{Family, SocketType};
pub use options::{Level, Mode, RecvFlags, Shutdown, SocketOption, ValueKind};
pub use suggest::{did_you_mean, nearest, with_budget};

/// The name a scenario file (and the driver protocol) writes for a vocabulary value: its serde
/// name, such as `reuse_addr`, `write` or `socketpair`.
pub fn scenario_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "?".to_string())
}
