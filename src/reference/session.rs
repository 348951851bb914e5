//! The reference implementation behind the [`Implementation`] trait.

use super::socket::{Socket, DEFAULT_BACKLOG};
use crate::implementation::{
    Capabilities, Handle, Implementation, Session, SessionError, SockResult,
};
use crate::vocab::{
    Address, Family, Mode, RecvFlags, Shutdown, SockError, SocketOption, SocketType,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The reference implementation, named `reference`: [`Socket`] over the operating system.
#[derive(Clone, Copy, Debug, Default)]
pub struct Reference;

impl Implementation for Reference {
    fn name(&self) -> &str {
        "reference"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::everything()
    }

    fn open_session(&self) -> Result<Box<dyn Session>, SessionError> {
        Ok(Box::<ReferenceSession>::default())
    }
}

/// A socket slot: open, or closed (later calls fail with `EBADF`, as Python's do).
enum Slot {
    Open(Arc<Socket>),
    Closed,
}

/// One actor's sockets. A call clones the socket's `Arc` and releases the table before the
/// system call, so a blocked call never stops calls on other handles; `close` drops the table's
/// reference, and the descriptor closes when the last call in flight returns, as in the kernel.
#[derive(Default)]
struct ReferenceSession {
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    next: u64,
    slots: HashMap<u64, Slot>,
}

impl ReferenceSession {
    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, handle: Handle) -> SockResult<Arc<Socket>> {
        match self.table().slots.get(&handle.0) {
            Some(Slot::Open(socket)) => Ok(Arc::clone(socket)),
            Some(Slot::Closed) | None => Err(SockError::errno(nix::errno::Errno::EBADF)),
        }
    }

    fn insert(&self, socket: Socket) -> Handle {
        let mut table = self.table();
        table.next += 1;
        let id = table.next;
        table.slots.insert(id, Slot::Open(Arc::new(socket)));
        Handle(id)
    }
}

impl Session for ReferenceSession {
    fn socket(&self, family: Family, kind: SocketType) -> SockResult<Handle> {
        Ok(self.insert(Socket::new(family, kind)?))
    }

    fn socketpair(&self, family: Family, kind: SocketType) -> SockResult<(Handle, Handle)> {
        let (a, b) = Socket::pair(family, kind)?;
        Ok((self.insert(a), self.insert(b)))
    }

    fn bind(&self, socket: Handle, address: &Address) -> SockResult<()> {
        self.get(socket)?.bind(address.clone())
    }

    fn listen(&self, socket: Handle, backlog: Option<i32>) -> SockResult<()> {
        self.get(socket)?.listen(backlog.unwrap_or(DEFAULT_BACKLOG))
    }

    fn accept(&self, socket: Handle) -> SockResult<(Handle, Address)> {
        let (conn, peer) = self.get(socket)?.accept()?;
        Ok((self.insert(conn), peer))
    }

    fn connect(&self, socket: Handle, address: &Address) -> SockResult<()> {
        self.get(socket)?.connect(address.clone())
    }

    fn send(&self, socket: Handle, data: &[u8]) -> SockResult<usize> {
        self.get(socket)?.send(data)
    }

    fn sendall(&self, socket: Handle, data: &[u8]) -> SockResult<()> {
        self.get(socket)?.sendall(data)
    }

    fn sendto(&self, socket: Handle, data: &[u8], address: &Address) -> SockResult<usize> {
        self.get(socket)?.sendto(data, address.clone())
    }

    fn recv(&self, socket: Handle, bufsize: usize, flags: RecvFlags) -> SockResult<Vec<u8>> {
        self.get(socket)?.recv(bufsize, flags)
    }

    fn recvfrom(&self, socket: Handle, bufsize: usize) -> SockResult<(Vec<u8>, Address)> {
        self.get(socket)?.recvfrom(bufsize)
    }

    fn shutdown(&self, socket: Handle, how: Shutdown) -> SockResult<()> {
        self.get(socket)?.shutdown(how)
    }

    fn close(&self, socket: Handle) -> SockResult<()> {
        let previous = {
            let mut table = self.table();
            match table.slots.get_mut(&socket.0) {
                Some(slot) => std::mem::replace(slot, Slot::Closed),
                None => return Err(SockError::errno(nix::errno::Errno::EBADF)),
            }
        };
        match previous {
            // Closing twice is allowed and does nothing, as in Python.
            Slot::Closed => Ok(()),
            Slot::Open(socket) => match Arc::try_unwrap(socket) {
                Ok(socket) => socket.close(),
                // A call is still in flight on another thread: it closes when that call returns.
                Err(_) => Ok(()),
            },
        }
    }

    fn getsockname(&self, socket: Handle) -> SockResult<Address> {
        self.get(socket)?.getsockname()
    }

    fn getpeername(&self, socket: Handle) -> SockResult<Address> {
        self.get(socket)?.getpeername()
    }

    fn setsockopt(&self, socket: Handle, option: SocketOption, value: i64) -> SockResult<()> {
        self.get(socket)?.setsockopt(option, value)
    }

    fn getsockopt(&self, socket: Handle, option: SocketOption) -> SockResult<i64> {
        self.get(socket)?.getsockopt(option)
    }

    fn set_mode(&self, socket: Handle, mode: Mode) -> SockResult<()> {
        self.get(socket)?.set_mode(mode)
    }

    fn interrupt(&self, socket: Handle) {
        // shutdown(2) wakes accept, recv, send and connect blocked on this socket on Linux,
        // without touching the socket's blocking mode.
        if let Ok(socket) = self.get(socket) {
            socket.interrupt();
        }
    }
}
