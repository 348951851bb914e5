//! The reference implementation: Python's `socket` API in Rust, straight over the operating system.
//!
//! [`Socket`] reads like Python's `socket.socket`: each method is one system call (through socket2)
//! and its doc names the man page it wraps and the spec requirement it implements.
//! [`Reference`] adapts it to the [`Implementation`](crate::implementation::Implementation) trait;
//! it is the implementation the runner uses by default.
//!
//! The tutorial's TCP server and client, on loopback:
//!
//! ```
//! use sockspec::reference::Socket;
//! use sockspec::vocab::{Family, RecvFlags, SocketType};
//!
//! # fn main() -> Result<(), sockspec::vocab::SockError> {
//! let server = Socket::new(Family::Inet, SocketType::Stream)?;
//! server.bind(("127.0.0.1", 0))?; // port 0: the system picks a free port
//! server.listen(1)?;
//! let address = server.getsockname()?;
//!
//! let client = Socket::new(Family::Inet, SocketType::Stream)?;
//! client.connect(address)?; // the backlog holds the connection until accept
//! let (connection, _peer) = server.accept()?;
//!
//! client.sendall(b"hello")?;
//! assert_eq!(connection.recv(1024, RecvFlags::default())?, b"hello");
//! connection.close()?;
//! assert_eq!(client.recv(1024, RecvFlags::default())?, b""); // end of stream
//! # Ok(())
//! # }
//! ```

mod address;
mod session;
mod socket;

pub use session::Reference;
pub use socket::{Socket, DEFAULT_BACKLOG};
