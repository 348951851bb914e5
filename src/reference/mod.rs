//! The reference implementation: Python's `socket` API in Rust, straight over the operating system.
//!
//! [`Socket`] reads like Python's `socket.socket`: each method is one system call (through socket2)
//! and its doc names the man page it wraps and the spec requirement it implements.
//! [`Reference`] adapts it to the [`Implementation`](crate::implementation::Implementation) trait;
//! it is the implementation the runner uses by default.

mod address;
mod session;
mod socket;

pub use session::Reference;
pub use socket::{Socket, DEFAULT_BACKLOG};
