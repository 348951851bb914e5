//! The std sockets behind the [`Session`] trait.

use crate::implementation::{Handle, Session, SockResult};
use crate::operation::{
    AcceptCall, Accepted, BindCall, Bytes, CloseCall, ConnectCall, ExitContextCall, FilenoCall, Filled, FilledFrom,
    GetpeernameCall, GetsocknameCall, GetsockoptCall, ListenCall, Named, Opened, Pair, Received,
    ReceivedFrom, RecvCall, RecvIntoCall, RecvfromCall, RecvfromIntoCall, SendCall, SendallCall,
    SendtoCall, SetsockoptCall, SettimeoutCall, ShutdownCall, SocketCall, SocketpairCall,
};
use crate::vocab::{
    Address, ErrorCode, Family, Mode, Shutdown, SockError, SocketOption, SocketType,
};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The longest a connect on a socket std has not created yet may block.
const CONNECT_BOUND: Duration = Duration::from_secs(60);

/// A socket as std can hold it.
enum Sock {
    /// `socket()` before bind/connect: std has no such object, so creation waits for them.
    Fresh(Family, SocketType),
    TcpListener(TcpListener),
    TcpStream(TcpStream),
    Udp(UdpSocket),
    UnixListener(UnixListener),
    UnixStream(UnixStream),
    UnixDatagram(UnixDatagram),
}

enum Slot {
    Open(Arc<Mutex<Sock>>),
    Closed,
}

#[derive(Default)]
pub(crate) struct StdSession {
    table: Mutex<(u64, HashMap<u64, Slot>)>,
}

fn unsupported(what: &str) -> SockError {
    SockError {
        code: ErrorCode::Unsupported,
        message: format!("std cannot {what}"),
    }
}

fn ebadf() -> SockError {
    SockError::errno(nix::errno::Errno::EBADF)
}

fn ip(address: &Address) -> SockResult<SocketAddr> {
    match address {
        Address::Ip(a) => Ok(*a),
        Address::Host { .. } => Err(unsupported(
            "report getaddrinfo's EAI_ error code, so host names are not offered",
        )),
        other => Err(SockError {
            code: ErrorCode::Errno(libc::EAFNOSUPPORT),
            message: format!("{other} is not an IP address"),
        }),
    }
}

fn unix_addr(address: &Address) -> SockResult<std::os::unix::net::SocketAddr> {
    match address {
        Address::UnixPath(p) => Ok(std::os::unix::net::SocketAddr::from_pathname(p)?),
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Address::UnixAbstract(name) => {
            use std::os::linux::net::SocketAddrExt;
            Ok(std::os::unix::net::SocketAddr::from_abstract_name(name)?)
        }
        Address::UnixUnnamed => Err(unsupported(
            "bind a Unix socket to an unnamed (autobind) address",
        )),
        other => Err(SockError {
            code: ErrorCode::Errno(libc::EINVAL),
            message: format!("{other} is not a Unix address"),
        }),
    }
}

fn from_unix(address: std::os::unix::net::SocketAddr) -> Address {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::linux::net::SocketAddrExt;
        if let Some(name) = address.as_abstract_name() {
            return Address::UnixAbstract(name.to_vec());
        }
    }
    match address.as_pathname() {
        Some(path) => Address::UnixPath(path.to_path_buf()),
        None => Address::UnixUnnamed,
    }
}

/// The unspecified address a datagram socket is bound to before its first send, as the kernel
/// would autobind it.
fn any_of(family: Family) -> SocketAddr {
    match family {
        Family::Inet6 => SocketAddr::from(([0u16; 8], 0)),
        _ => SocketAddr::from(([0u8; 4], 0)),
    }
}

impl StdSession {
    fn insert(&self, sock: Sock) -> Handle {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        table.0 += 1;
        let id = table.0;
        table.1.insert(id, Slot::Open(Arc::new(Mutex::new(sock))));
        Handle(id)
    }

    fn get(&self, handle: Handle) -> SockResult<Arc<Mutex<Sock>>> {
        match self
            .table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .get(&handle.0)
        {
            Some(Slot::Open(s)) => Ok(Arc::clone(s)),
            _ => Err(ebadf()),
        }
    }

    /// Runs `f` on the socket. The lock is per socket, so a blocked call on one socket never
    /// stops calls on another; calls on the same socket from one actor are sequential anyway.
    fn with<T>(&self, handle: Handle, f: impl FnOnce(&mut Sock) -> SockResult<T>) -> SockResult<T> {
        let sock = self.get(handle)?;
        let mut sock = sock.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut sock)
    }

    /// A duplicate of the socket's descriptor for calls that block, so that `interrupt` can reach
    /// the socket while the call holds it.
    fn clone_stream(&self, handle: Handle) -> SockResult<Sock> {
        self.with(handle, |s| {
            Ok(match s {
                Sock::TcpListener(l) => Sock::TcpListener(l.try_clone()?),
                Sock::TcpStream(t) => Sock::TcpStream(t.try_clone()?),
                Sock::Udp(u) => Sock::Udp(u.try_clone()?),
                Sock::UnixListener(l) => Sock::UnixListener(l.try_clone()?),
                Sock::UnixStream(u) => Sock::UnixStream(u.try_clone()?),
                Sock::UnixDatagram(u) => Sock::UnixDatagram(u.try_clone()?),
                Sock::Fresh(f, t) => Sock::Fresh(*f, *t),
            })
        })
    }
}

impl Session for StdSession {
    fn socket(&self, call: &SocketCall) -> SockResult<Opened> {
        let handle = match (call.family, call.kind) {
            (_, SocketType::Seqpacket) => return Err(unsupported("create SOCK_SEQPACKET sockets")),
            (Family::Unix, SocketType::Dgram) => {
                self.insert(Sock::UnixDatagram(UnixDatagram::unbound()?))
            }
            (family, kind) => self.insert(Sock::Fresh(family, kind)),
        };
        Ok(Opened { handle })
    }

    fn socketpair(&self, call: &SocketpairCall) -> SockResult<Pair> {
        let (a, b) = match (call.family, call.kind) {
            (Family::Unix, SocketType::Stream) => {
                let (a, b) = UnixStream::pair()?;
                (Sock::UnixStream(a), Sock::UnixStream(b))
            }
            (Family::Unix, SocketType::Dgram) => {
                let (a, b) = UnixDatagram::pair()?;
                (Sock::UnixDatagram(a), Sock::UnixDatagram(b))
            }
            _ => {
                return Err(unsupported(
                    "make a socketpair other than Unix stream or datagram",
                ))
            }
        };
        Ok(Pair {
            handles: [self.insert(a), self.insert(b)],
        })
    }

    fn bind(&self, call: &BindCall) -> SockResult<()> {
        let (socket, address) = (call.handle, &call.address);
        self.with(socket, |s| {
            let bound = match s {
                Sock::Fresh(Family::Unix, SocketType::Stream) => {
                    Sock::UnixListener(UnixListener::bind_addr(&unix_addr(address)?)?)
                }
                // TcpListener::bind is bind(2) and listen(2) in one: std has no bound, idle socket.
                Sock::Fresh(_, SocketType::Stream) => {
                    Sock::TcpListener(TcpListener::bind(ip(address)?)?)
                }
                Sock::Fresh(_, SocketType::Dgram) => Sock::Udp(UdpSocket::bind(ip(address)?)?),
                Sock::UnixDatagram(_) => {
                    Sock::UnixDatagram(UnixDatagram::bind_addr(&unix_addr(address)?)?)
                }
                Sock::Fresh(..) => return Err(unsupported("bind this kind of socket")),
                _ => {
                    return Err(unsupported(
                        "bind a socket that is already bound or connected",
                    ))
                }
            };
            *s = bound;
            Ok(())
        })
    }

    fn listen(&self, call: &ListenCall) -> SockResult<()> {
        let socket = call.handle;
        if call.backlog.is_some() {
            return Err(unsupported("set a listen backlog"));
        }
        self.with(socket, |s| match s {
            Sock::TcpListener(_) | Sock::UnixListener(_) => Ok(()),
            Sock::Fresh(..) => Err(unsupported("listen on a socket that is not bound")),
            _ => Err(unsupported(
                "listen on a socket that is connected or not a stream",
            )),
        })
    }

    fn accept(&self, call: &AcceptCall) -> SockResult<Accepted> {
        let accepted = match self.clone_stream(call.handle)? {
            Sock::TcpListener(l) => l
                .accept()
                .map(|(t, a)| (Sock::TcpStream(t), Address::Ip(a)))?,
            Sock::UnixListener(l) => l
                .accept()
                .map(|(u, a)| (Sock::UnixStream(u), from_unix(a)))?,
            _ => return Err(unsupported("accept on a socket that is not a listener")),
        };
        Ok(Accepted {
            handle: self.insert(accepted.0),
            address: accepted.1,
        })
    }

    fn connect(&self, call: &ConnectCall) -> SockResult<()> {
        let (socket, address) = (call.handle, &call.address);
        // Connecting can block: take the socket's kind without holding its lock during the call.
        let kind = self.with(socket, |s| {
            Ok(match s {
                Sock::Fresh(f, t) => Some((*f, *t)),
                _ => None,
            })
        })?;
        let connected = match kind {
            Some((Family::Unix, SocketType::Stream)) => {
                Sock::UnixStream(UnixStream::connect_addr(&unix_addr(address)?)?)
            }
            // The socket does not exist until std connects it, so the watchdog has nothing to
            // interrupt: bound the wait instead (far beyond any step's limit).
            Some((_, SocketType::Stream)) => {
                Sock::TcpStream(TcpStream::connect_timeout(&ip(address)?, CONNECT_BOUND)?)
            }
            Some((family, SocketType::Dgram)) => {
                let udp = UdpSocket::bind(any_of(family))?;
                udp.connect(ip(address)?)?;
                Sock::Udp(udp)
            }
            Some(_) => return Err(unsupported("connect this kind of socket")),
            None => {
                return self.with(socket, |s| match s {
                    Sock::Udp(u) => Ok(u.connect(ip(address)?)?),
                    Sock::UnixDatagram(u) => Ok(u.connect_addr(&unix_addr(address)?)?),
                    _ => Err(unsupported(
                        "connect a socket that is already bound, listening or connected",
                    )),
                })
            }
        };
        self.with(socket, |s| {
            *s = connected;
            Ok(())
        })
    }

    fn send(&self, call: &SendCall) -> SockResult<usize> {
        let (socket, data) = (call.handle, &call.data.0);
        Ok(match self.clone_stream(socket)? {
            Sock::TcpStream(mut t) => t.write(data)?,
            Sock::UnixStream(mut u) => u.write(data)?,
            Sock::Udp(u) => u.send(data)?,
            Sock::UnixDatagram(u) => u.send(data)?,
            _ => return Err(unsupported("send on a socket that is not connected")),
        })
    }

    fn sendall(&self, call: &SendallCall) -> SockResult<()> {
        let (socket, data) = (call.handle, &call.data.0);
        match self.clone_stream(socket)? {
            Sock::TcpStream(mut t) => Ok(t.write_all(data)?),
            Sock::UnixStream(mut u) => Ok(u.write_all(data)?),
            _ => Err(unsupported(
                "sendall on a socket that is not a connected stream",
            )),
        }
    }

    fn sendto(&self, call: &SendtoCall) -> SockResult<usize> {
        let (socket, data, address) = (call.handle, &call.data.0, &call.address);
        let fresh = self.with(socket, |s| {
            Ok(matches!(s, Sock::Fresh(_, SocketType::Dgram)))
        })?;
        if fresh {
            // The kernel autobinds an unbound datagram socket on its first send; so does this.
            let family = self.with(socket, |s| {
                Ok(if let Sock::Fresh(f, _) = s {
                    *f
                } else {
                    Family::Inet
                })
            })?;
            let udp = UdpSocket::bind(any_of(family))?;
            self.with(socket, |s| {
                *s = Sock::Udp(udp);
                Ok(())
            })?;
        }
        Ok(match self.clone_stream(socket)? {
            Sock::Udp(u) => u.send_to(data, ip(address)?)?,
            Sock::UnixDatagram(u) => u.send_to_addr(data, &unix_addr(address)?)?,
            _ => return Err(unsupported("sendto on a stream socket")),
        })
    }

    fn recv(&self, call: &RecvCall) -> SockResult<Received> {
        let (socket, bufsize, flags) = (call.handle, call.bufsize, call.flags);
        if flags.waitall || flags.dontwait || flags.trunc {
            return Err(unsupported("pass MSG_WAITALL, MSG_DONTWAIT or MSG_TRUNC"));
        }
        let mut buffer = vec![0u8; bufsize];
        let n = match self.clone_stream(socket)? {
            Sock::TcpStream(t) if flags.peek => t.peek(&mut buffer)?,
            Sock::TcpStream(mut t) => t.read(&mut buffer)?,
            Sock::UnixStream(mut u) if !flags.peek => u.read(&mut buffer)?,
            Sock::Udp(u) if flags.peek => u.peek(&mut buffer)?,
            Sock::Udp(u) => u.recv(&mut buffer)?,
            Sock::UnixDatagram(u) if !flags.peek => u.recv(&mut buffer)?,
            _ => {
                return Err(unsupported(
                    "recv on this socket (or peek on a Unix socket)",
                ))
            }
        };
        buffer.truncate(n);
        Ok(Received {
            data: Bytes(buffer),
        })
    }

    fn recv_into(&self, call: &RecvIntoCall) -> SockResult<Filled> {
        let mut buffer = call.buffer.0.clone();
        let target = crate::operation::recv_into_target(&mut buffer, call.nbytes)?;
        // As Python's: an empty buffer returns 0 without a call.
        let count = if target.is_empty() {
            0
        } else {
            let received = self.recv(&RecvCall {
                handle: call.handle,
                bufsize: target.len(),
                flags: call.flags,
            })?;
            target[..received.data.0.len()].copy_from_slice(&received.data.0);
            received.data.0.len()
        };
        Ok(Filled {
            count,
            buffer: Bytes(buffer),
        })
    }

    fn recvfrom_into(&self, call: &RecvfromIntoCall) -> SockResult<FilledFrom> {
        if !call.flags.is_empty() {
            return Err(unsupported("pass flags to recvfrom"));
        }
        let mut buffer = call.buffer.0.clone();
        let target = crate::operation::recv_into_target(&mut buffer, call.nbytes)?;
        let (count, address) = match self.clone_stream(call.handle)? {
            Sock::Udp(u) => u.recv_from(target).map(|(n, a)| (n, Address::Ip(a)))?,
            Sock::UnixDatagram(u) => u.recv_from(target).map(|(n, a)| (n, from_unix(a)))?,
            _ => {
                return Err(unsupported(
                    "recvfrom on a socket that is not a bound datagram socket",
                ))
            }
        };
        Ok(FilledFrom {
            count,
            buffer: Bytes(buffer),
            address,
        })
    }

    fn fileno(&self, call: &FilenoCall) -> SockResult<i64> {
        if let Some(Slot::Closed) = self
            .table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .get(&call.handle.0)
        {
            return Ok(-1);
        }
        self.with(call.handle, |s| {
            Ok(i64::from(match s {
                Sock::TcpListener(l) => l.as_raw_fd(),
                Sock::TcpStream(t) => t.as_raw_fd(),
                Sock::Udp(u) => u.as_raw_fd(),
                Sock::UnixListener(l) => l.as_raw_fd(),
                Sock::UnixStream(u) => u.as_raw_fd(),
                Sock::UnixDatagram(u) => u.as_raw_fd(),
                Sock::Fresh(..) => {
                    return Err(unsupported(
                        "give the descriptor of a socket before it is bound or connected",
                    ))
                }
            }))
        })
    }

    fn recvfrom(&self, call: &RecvfromCall) -> SockResult<ReceivedFrom> {
        let (socket, bufsize) = (call.handle, call.bufsize);
        let mut buffer = vec![0u8; bufsize];
        let (n, from) = match self.clone_stream(socket)? {
            Sock::Udp(u) => u.recv_from(&mut buffer).map(|(n, a)| (n, Address::Ip(a)))?,
            Sock::UnixDatagram(u) => u.recv_from(&mut buffer).map(|(n, a)| (n, from_unix(a)))?,
            _ => {
                return Err(unsupported(
                    "recvfrom on a socket that is not a bound datagram socket",
                ))
            }
        };
        buffer.truncate(n);
        Ok(ReceivedFrom {
            data: Bytes(buffer),
            address: from,
        })
    }

    fn shutdown(&self, call: &ShutdownCall) -> SockResult<()> {
        let socket = call.handle;
        let how = match call.how {
            Shutdown::Read => std::net::Shutdown::Read,
            Shutdown::Write => std::net::Shutdown::Write,
            Shutdown::Both => std::net::Shutdown::Both,
        };
        self.with(socket, |s| match s {
            Sock::TcpStream(t) => Ok(t.shutdown(how)?),
            Sock::UnixStream(u) => Ok(u.shutdown(how)?),
            Sock::UnixDatagram(u) => Ok(u.shutdown(how)?),
            _ => Err(unsupported("shut down a socket that is not connected")),
        })
    }

    /// Rust's form of leaving a `with` block is the end of the owner's scope: the socket is
    /// dropped, which is what `close` does here.
    fn exit_context(&self, call: &ExitContextCall) -> SockResult<()> {
        self.close(&CloseCall {
            handle: call.handle,
        })
    }

    fn close(&self, call: &CloseCall) -> SockResult<()> {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        match table.1.get_mut(&call.handle.0) {
            Some(slot) => {
                *slot = Slot::Closed;
                Ok(())
            }
            None => Err(ebadf()),
        }
    }

    fn getsockname(&self, call: &GetsocknameCall) -> SockResult<Named> {
        self.with(call.handle, |s| {
            let address = match s {
                Sock::TcpListener(l) => Address::Ip(l.local_addr()?),
                Sock::TcpStream(t) => Address::Ip(t.local_addr()?),
                Sock::Udp(u) => Address::Ip(u.local_addr()?),
                Sock::UnixListener(l) => from_unix(l.local_addr()?),
                Sock::UnixStream(u) => from_unix(u.local_addr()?),
                Sock::UnixDatagram(u) => from_unix(u.local_addr()?),
                Sock::Fresh(..) => {
                    return Err(unsupported(
                        "name a socket that is neither bound nor connected",
                    ))
                }
            };
            Ok(Named { address })
        })
    }

    fn getpeername(&self, call: &GetpeernameCall) -> SockResult<Named> {
        self.with(call.handle, |s| {
            let address = match s {
                Sock::TcpStream(t) => Address::Ip(t.peer_addr()?),
                Sock::Udp(u) => Address::Ip(u.peer_addr()?),
                Sock::UnixStream(u) => from_unix(u.peer_addr()?),
                Sock::UnixDatagram(u) => from_unix(u.peer_addr()?),
                _ => {
                    return Err(unsupported(
                        "ask the peer of a socket that is not connected",
                    ))
                }
            };
            Ok(Named { address })
        })
    }

    fn setsockopt(&self, call: &SetsockoptCall) -> SockResult<()> {
        let (socket, option, value) = (call.handle, call.option, call.value);
        let timeout = (value > 0).then(|| Duration::from_millis(value as u64));
        self.with(socket, |s| match (option, s) {
            (SocketOption::RecvTimeoutMs, Sock::TcpStream(t)) => Ok(t.set_read_timeout(timeout)?),
            (SocketOption::SendTimeoutMs, Sock::TcpStream(t)) => Ok(t.set_write_timeout(timeout)?),
            (SocketOption::RecvTimeoutMs, Sock::Udp(u)) => Ok(u.set_read_timeout(timeout)?),
            (SocketOption::SendTimeoutMs, Sock::Udp(u)) => Ok(u.set_write_timeout(timeout)?),
            (SocketOption::RecvTimeoutMs, Sock::UnixStream(u)) => Ok(u.set_read_timeout(timeout)?),
            (SocketOption::SendTimeoutMs, Sock::UnixStream(u)) => Ok(u.set_write_timeout(timeout)?),
            (SocketOption::RecvTimeoutMs, Sock::UnixDatagram(u)) => {
                Ok(u.set_read_timeout(timeout)?)
            }
            (SocketOption::SendTimeoutMs, Sock::UnixDatagram(u)) => {
                Ok(u.set_write_timeout(timeout)?)
            }
            (SocketOption::TcpNoDelay, Sock::TcpStream(t)) => Ok(t.set_nodelay(value != 0)?),
            (SocketOption::Broadcast, Sock::Udp(u)) => Ok(u.set_broadcast(value != 0)?),
            (SocketOption::IpTtl, s) if value >= 0 => {
                let ttl = u32::try_from(value).map_err(|_| unsupported("a TTL beyond u32"))?;
                match s {
                    Sock::TcpStream(t) => Ok(t.set_ttl(ttl)?),
                    Sock::TcpListener(l) => Ok(l.set_ttl(ttl)?),
                    Sock::Udp(u) => Ok(u.set_ttl(ttl)?),
                    _ => Err(unsupported("set IP_TTL on this socket")),
                }
            }
            _ => Err(unsupported(&format!(
                "set {option} to {value} on this socket (std offers TCP_NODELAY on a stream, \
                 SO_BROADCAST on UDP, a non-negative IP_TTL, and the timeouts)"
            ))),
        })
    }

    fn getsockopt(&self, call: &GetsockoptCall) -> SockResult<i64> {
        let (socket, option) = (call.handle, call.option);
        let error =
            |e: Option<std::io::Error>| e.map_or(0, |e| e.raw_os_error().map_or(-1, i64::from));
        // A closed socket is EBADF, like any other call on it; only a live one is unsupported.
        self.with(socket, |s| match (option, s) {
            (SocketOption::TcpNoDelay, Sock::TcpStream(t)) => Ok(t.nodelay()? as i64),
            (SocketOption::Broadcast, Sock::Udp(u)) => Ok(u.broadcast()? as i64),
            (SocketOption::IpTtl, Sock::TcpStream(t)) => Ok(t.ttl()?.into()),
            (SocketOption::IpTtl, Sock::TcpListener(l)) => Ok(l.ttl()?.into()),
            (SocketOption::IpTtl, Sock::Udp(u)) => Ok(u.ttl()?.into()),
            (SocketOption::Error, Sock::TcpStream(t)) => Ok(error(t.take_error()?)),
            (SocketOption::Error, Sock::TcpListener(l)) => Ok(error(l.take_error()?)),
            (SocketOption::Error, Sock::Udp(u)) => Ok(error(u.take_error()?)),
            (SocketOption::Error, Sock::UnixStream(u)) => Ok(error(u.take_error()?)),
            (SocketOption::Error, Sock::UnixDatagram(u)) => Ok(error(u.take_error()?)),
            (SocketOption::Error, Sock::UnixListener(l)) => Ok(error(l.take_error()?)),
            _ => Err(unsupported(&format!("read {option} on this socket"))),
        })
    }

    fn settimeout(&self, call: &SettimeoutCall) -> SockResult<()> {
        let socket = call.handle;
        let nonblocking = match call.timeout {
            Mode::Blocking => false,
            Mode::NonBlocking => true,
            Mode::Timeout(_) => {
                return self.with(socket, |_| Err(unsupported("use Python's timeout mode")))
            }
        };
        self.with(socket, |s| match s {
            Sock::TcpListener(l) => Ok(l.set_nonblocking(nonblocking)?),
            Sock::TcpStream(t) => Ok(t.set_nonblocking(nonblocking)?),
            Sock::Udp(u) => Ok(u.set_nonblocking(nonblocking)?),
            Sock::UnixListener(l) => Ok(l.set_nonblocking(nonblocking)?),
            Sock::UnixStream(u) => Ok(u.set_nonblocking(nonblocking)?),
            Sock::UnixDatagram(u) => Ok(u.set_nonblocking(nonblocking)?),
            Sock::Fresh(..) => Err(unsupported(
                "set the mode of a socket before it is bound or connected",
            )),
        })
    }

    fn interrupt(&self, socket: Handle) {
        // Calls run on duplicated descriptors; shutdown(2) on this one reaches the same socket.
        if let Ok(sock) = self.clone_stream(socket) {
            let result = match &sock {
                Sock::TcpListener(l) => {
                    socket2::SockRef::from(l).shutdown(std::net::Shutdown::Both)
                }
                Sock::TcpStream(t) => t.shutdown(std::net::Shutdown::Both),
                Sock::Udp(u) => socket2::SockRef::from(u).shutdown(std::net::Shutdown::Both),
                Sock::UnixListener(l) => {
                    socket2::SockRef::from(l).shutdown(std::net::Shutdown::Both)
                }
                Sock::UnixStream(u) => u.shutdown(std::net::Shutdown::Both),
                Sock::UnixDatagram(u) => u.shutdown(std::net::Shutdown::Both),
                Sock::Fresh(..) => Ok(()),
            };
            let _ = result;
        }
    }
}
