//! A socket layer that, like libuv and Rust's `std::net::TcpListener`, sets `SO_REUSEADDR` on
//! every TCP socket before binding it, and is otherwise the operating system's sockets (through
//! sockspec's reference implementation): a small, honest implementation to show how a crate
//! wires sockspec's suite into its own tests (`tests/sockspec.rs`), and how it records the
//! deviations the suite finds (`expectations/reuseaddr.yaml`).
//!
//! Your implementation does the same with its own sockets: implement
//! [`Implementation`] (which opens a [`Session`] per actor of a scenario) and the
//! [`Session`] methods of the operations it supports; the others answer `unsupported`.
#![deny(missing_docs)]

use sockspec::implementation::{
    dispatch, Capabilities, Handle, Implementation, Session, SessionEndError, SessionError,
    SockResult,
};
use sockspec::operation::{BindCall, Call, CloseCall, Opened, Reply, SetsockoptCall, SocketCall};
use sockspec::reference::Reference;
use sockspec::vocab::{Family, SocketOption, SocketType};
use std::collections::BTreeSet;
use std::sync::Mutex;

/// The socket layer: the reference implementation, but every TCP socket gets `SO_REUSEADDR`
/// before it is bound.
pub struct ReuseAddr;

impl Implementation for ReuseAddr {
    fn name(&self) -> &str {
        // The name its expectations file gives (`implementation: reuseaddr`).
        "reuseaddr"
    }

    fn capabilities(&self) -> Capabilities {
        // Every call goes to the operating system, so it can express all the suite asks.
        Reference.capabilities()
    }

    fn open_session(&self) -> Result<Box<dyn Session>, SessionError> {
        Ok(Box::new(ReuseAddrSession {
            os: Reference.open_session()?,
            tcp: Mutex::new(BTreeSet::new()),
        }))
    }
}

/// One actor's sockets: the operating system's, and which of them are TCP sockets.
struct ReuseAddrSession {
    os: Box<dyn Session>,
    tcp: Mutex<BTreeSet<Handle>>,
}

impl ReuseAddrSession {
    fn tcp(&self) -> std::sync::MutexGuard<'_, BTreeSet<Handle>> {
        self.tcp.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Session for ReuseAddrSession {
    fn socket(&self, call: &SocketCall) -> SockResult<Opened> {
        let opened = self.os.socket(call)?;
        if call.kind == SocketType::Stream && matches!(call.family, Family::Inet | Family::Inet6) {
            self.tcp().insert(opened.handle);
        }
        Ok(opened)
    }

    fn bind(&self, call: &BindCall) -> SockResult<()> {
        if self.tcp().contains(&call.handle) {
            // The one thing this layer does differently: what libuv and std do for servers that
            // restart while old connections linger in TIME_WAIT.
            self.os.setsockopt(&SetsockoptCall {
                handle: call.handle,
                option: SocketOption::ReuseAddr,
                value: 1,
            })?;
        }
        self.os.bind(call)
    }

    fn close(&self, call: &CloseCall) -> SockResult<()> {
        self.tcp().remove(&call.handle);
        self.os.close(call)
    }

    // Every other operation goes to the operating system unchanged.
    fn perform(&self, call: &Call) -> SockResult<Reply> {
        dispatch(self.os.as_ref(), call)
    }

    fn interrupt(&self, socket: Handle) {
        self.os.interrupt(socket)
    }

    fn abandon(&self) {
        self.os.abandon()
    }

    fn end(&self) -> Result<(), SessionEndError> {
        self.os.end()
    }
}
