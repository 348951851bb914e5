//! Sessions called the way Python code calls sockets: positional arguments, plain results.

use super::{Handle, Session, SockResult};
use crate::operation::{
    AcceptCall, Backlog, BindCall, Bytes, CloseCall, ConnectCall, GetpeernameCall, GetsocknameCall,
    GetsockoptCall, ListenCall, RecvCall, RecvfromCall, SendCall, SendallCall, SendtoCall,
    SetsockoptCall, SettimeoutCall, ShutdownCall, SocketCall, SocketpairCall,
};
use crate::vocab::{Address, Family, Mode, RecvFlags, Shutdown, SocketOption, SocketType};

/// A [`Session`] with one method per operation taking positional arguments, for Rust code that
/// drives sessions itself (properties, examples, tests). It dereferences to the session, so
/// `interrupt` and the rest stay at hand.
///
/// ```
/// use sockspec::implementation::{Implementation, Plain};
/// use sockspec::reference::Reference;
/// use sockspec::vocab::{Family, SocketType};
///
/// let session = Reference.open_session().unwrap();
/// let s = Plain(session.as_ref());
/// let (a, b) = s.socketpair(Family::Unix, SocketType::Stream).unwrap();
/// assert_eq!(s.send(a, b"hi").unwrap(), 2);
/// assert_eq!(s.recv(b, 16, Default::default()).unwrap(), b"hi");
/// ```
#[derive(Clone, Copy)]
pub struct Plain<'a>(pub &'a dyn Session);

impl<'a> std::ops::Deref for Plain<'a> {
    type Target = dyn Session + 'a;

    fn deref(&self) -> &Self::Target {
        self.0
    }
}

impl Plain<'_> {
    /// `socket.socket(family, type)`.
    pub fn socket(&self, family: Family, kind: SocketType) -> SockResult<Handle> {
        Ok(self.0.socket(&SocketCall { family, kind })?.handle)
    }

    /// `socket.socketpair(family, type)`.
    pub fn socketpair(&self, family: Family, kind: SocketType) -> SockResult<(Handle, Handle)> {
        let [a, b] = self.0.socketpair(&SocketpairCall { family, kind })?.handles;
        Ok((a, b))
    }

    /// `sock.bind(address)`.
    pub fn bind(&self, handle: Handle, address: &Address) -> SockResult<()> {
        self.0.bind(&BindCall {
            handle,
            address: address.clone(),
        })
    }

    /// `sock.listen(backlog)`.
    pub fn listen(&self, handle: Handle, backlog: Option<i32>) -> SockResult<()> {
        self.0.listen(&ListenCall {
            handle,
            backlog: backlog.map(Backlog),
        })
    }

    /// `sock.accept()`.
    pub fn accept(&self, handle: Handle) -> SockResult<(Handle, Address)> {
        let accepted = self.0.accept(&AcceptCall { handle })?;
        Ok((accepted.handle, accepted.address))
    }

    /// `sock.connect(address)`.
    pub fn connect(&self, handle: Handle, address: &Address) -> SockResult<()> {
        self.0.connect(&ConnectCall {
            handle,
            address: address.clone(),
        })
    }

    /// `sock.send(data)`.
    pub fn send(&self, handle: Handle, data: &[u8]) -> SockResult<usize> {
        self.0.send(&SendCall {
            handle,
            data: Bytes(data.to_vec()),
        })
    }

    /// `sock.sendall(data)`.
    pub fn sendall(&self, handle: Handle, data: &[u8]) -> SockResult<()> {
        self.0.sendall(&SendallCall {
            handle,
            data: Bytes(data.to_vec()),
        })
    }

    /// `sock.sendto(data, address)`.
    pub fn sendto(&self, handle: Handle, data: &[u8], address: &Address) -> SockResult<usize> {
        self.0.sendto(&SendtoCall {
            handle,
            data: Bytes(data.to_vec()),
            address: address.clone(),
        })
    }

    /// `sock.recv(bufsize, flags)`.
    pub fn recv(&self, handle: Handle, bufsize: usize, flags: RecvFlags) -> SockResult<Vec<u8>> {
        let received = self.0.recv(&RecvCall {
            handle,
            bufsize,
            flags,
        })?;
        Ok(received.data.0)
    }

    /// `sock.recvfrom(bufsize)`.
    pub fn recvfrom(&self, handle: Handle, bufsize: usize) -> SockResult<(Vec<u8>, Address)> {
        let received = self.0.recvfrom(&RecvfromCall { handle, bufsize })?;
        Ok((received.data.0, received.address))
    }

    /// `sock.shutdown(how)`.
    pub fn shutdown(&self, handle: Handle, how: Shutdown) -> SockResult<()> {
        self.0.shutdown(&ShutdownCall { handle, how })
    }

    /// `sock.close()`.
    pub fn close(&self, handle: Handle) -> SockResult<()> {
        self.0.close(&CloseCall { handle })
    }

    /// `sock.getsockname()`.
    pub fn getsockname(&self, handle: Handle) -> SockResult<Address> {
        Ok(self.0.getsockname(&GetsocknameCall { handle })?.address)
    }

    /// `sock.getpeername()`.
    pub fn getpeername(&self, handle: Handle) -> SockResult<Address> {
        Ok(self.0.getpeername(&GetpeernameCall { handle })?.address)
    }

    /// `sock.setsockopt(level, option, value)`.
    pub fn setsockopt(&self, handle: Handle, option: SocketOption, value: i64) -> SockResult<()> {
        self.0.setsockopt(&SetsockoptCall {
            handle,
            option,
            value,
        })
    }

    /// `sock.getsockopt(level, option)`.
    pub fn getsockopt(&self, handle: Handle, option: SocketOption) -> SockResult<i64> {
        self.0.getsockopt(&GetsockoptCall { handle, option })
    }

    /// `sock.settimeout(…)` / `sock.setblocking(…)`.
    pub fn set_mode(&self, handle: Handle, timeout: Mode) -> SockResult<()> {
        self.0.settimeout(&SettimeoutCall { handle, timeout })
    }
}
