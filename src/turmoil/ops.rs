//! The operations, on the simulation thread: each call made through turmoil-net's tokio-shaped
//! shim (`TcpListener`, `TcpStream`, `UdpSocket`), or answered `unsupported` where the shim has
//! no form of it.
//!
//! A call's future borrows its socket for as long as it waits: the shim's streams are read and
//! written through `Pin<&mut TcpStream>`. The borrow cannot clash: a socket belongs to one
//! session, whose actor makes one call at a time, and a call that is interrupted or abandoned
//! is dropped, which ends its borrow.
#![allow(clippy::await_holding_refcell_ref)]

use super::sim::CallFuture;
use crate::implementation::Handle;
use crate::operation::{
    Accepted, Bytes, Call, Filled, FilledFrom, Named, Opened, Received, ReceivedFrom, RecvCall,
    RecvfromCall, Reply, SockResult,
};
use crate::vocab::{
    Address, ErrorCode, Family, Mode, RecvFlags, Shutdown, SockError, SocketOption, SocketType,
};
use nix::errno::Errno;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use turmoil_net::shim::tokio::net::{TcpListener, TcpStream, UdpSocket};

/// A socket as the shim can hold it.
pub(super) enum Sock {
    /// `socket()` before bind/connect: the shim has no such object (its sockets are made by
    /// `TcpListener::bind`, `TcpStream::connect` and `UdpSocket::bind`), so creation waits for
    /// them, as for std.
    Fresh(Family, SocketType),
    Listener(TcpListener),
    Stream(TcpStream),
    Udp(UdpSocket),
}

/// One socket of a session, with the mode its calls are made in.
pub(super) struct Entry {
    sock: RefCell<Sock>,
    mode: Cell<Mode>,
}

#[derive(Default)]
struct SessionTable {
    next: u64,
    sockets: BTreeMap<u64, Rc<Entry>>,
    /// Handles closed already: closing one again succeeds, as Python's `close` does.
    closed: std::collections::BTreeSet<u64>,
}

/// Every session's sockets. Ordered maps: a session's sockets close in a fixed order.
#[derive(Clone, Default)]
pub(super) struct Table(Rc<RefCell<BTreeMap<u64, SessionTable>>>);

impl Table {
    pub fn open(&self, session: u64) {
        self.0.borrow_mut().entry(session).or_default();
    }

    /// Closes every socket of the session, in the order they were made.
    pub fn close(&self, session: u64) {
        let removed = self.0.borrow_mut().remove(&session);
        drop(removed);
    }

    fn insert(&self, session: u64, sock: Sock) -> Handle {
        let mut sessions = self.0.borrow_mut();
        let table = sessions.entry(session).or_default();
        table.next += 1;
        let id = table.next;
        table.sockets.insert(
            id,
            Rc::new(Entry {
                sock: RefCell::new(sock),
                mode: Cell::new(Mode::Blocking),
            }),
        );
        Handle(id)
    }

    fn get(&self, session: u64, handle: Handle) -> SockResult<Rc<Entry>> {
        self.0
            .borrow()
            .get(&session)
            .and_then(|t| t.sockets.get(&handle.0))
            .cloned()
            .ok_or_else(|| SockError::errno(Errno::EBADF))
    }

    fn remove(&self, session: u64, handle: Handle) -> SockResult<()> {
        let removed = self.0.borrow_mut().get_mut(&session).and_then(|t| {
            if t.closed.contains(&handle.0) {
                return Some(None);
            }
            let removed = t.sockets.remove(&handle.0)?;
            t.closed.insert(handle.0);
            Some(Some(removed))
        });
        match removed {
            Some(None) => Ok(()),
            // Dropped outside the borrow: the shim's Drop closes the socket in the kernel.
            Some(Some(entry)) => {
                drop(entry);
                Ok(())
            }
            None => Err(SockError::errno(Errno::EBADF)),
        }
    }
}

/// How a call that may wait is to wait.
pub(super) enum Wait {
    /// As long as it takes.
    Block,
    /// At most this long in virtual time, then `timeout` (Python's timeout mode; what
    /// `tokio::time::timeout` around the call does under turmoil's paused clock).
    Timeout(Duration),
    /// Not at all: one try, else this error (the shim's `try_read`, `try_write`,
    /// `poll_accept` with a no-op waker).
    NonBlocking(SockError),
}

/// A call made at once, or a future to poll.
pub(super) enum Prepared {
    Done(SockResult<Reply>),
    Wait(CallFuture, Wait),
}

/// The socket a call is about, for the watchdog's interrupt.
pub(super) fn handle_of(call: &Call) -> Option<Handle> {
    match call {
        Call::Socket(_) | Call::Socketpair(_) => None,
        Call::Bind(c) => Some(c.handle),
        Call::Listen(c) => Some(c.handle),
        Call::Accept(c) => Some(c.handle),
        Call::Connect(c) => Some(c.handle),
        Call::Send(c) => Some(c.handle),
        Call::Sendall(c) => Some(c.handle),
        Call::Sendto(c) => Some(c.handle),
        Call::Recv(c) => Some(c.handle),
        Call::Recvfrom(c) => Some(c.handle),
        Call::RecvInto(c) => Some(c.handle),
        Call::RecvfromInto(c) => Some(c.handle),
        _ => None,
    }
}

fn unsupported(what: &str) -> SockError {
    SockError {
        code: ErrorCode::Unsupported,
        message: format!("turmoil-net's tokio shim cannot {what}"),
    }
}

/// The errno of what the shim returned. turmoil-net reports most errors as an
/// `io::ErrorKind` without a number (as tokio does for errors it makes itself), so the kind is
/// named by the errno Linux gives for the same condition; a kind with no such errno is shown
/// by its name.
pub(super) fn error(e: io::Error) -> SockError {
    if let Some(n) = e.raw_os_error() {
        return SockError::new(ErrorCode::Errno(n));
    }
    let errno = match e.kind() {
        io::ErrorKind::AddrInUse => Errno::EADDRINUSE,
        io::ErrorKind::AddrNotAvailable => Errno::EADDRNOTAVAIL,
        io::ErrorKind::ConnectionRefused => Errno::ECONNREFUSED,
        io::ErrorKind::ConnectionReset => Errno::ECONNRESET,
        io::ErrorKind::ConnectionAborted => Errno::ECONNABORTED,
        io::ErrorKind::NotConnected => Errno::ENOTCONN,
        io::ErrorKind::BrokenPipe => Errno::EPIPE,
        io::ErrorKind::WouldBlock => Errno::EAGAIN,
        io::ErrorKind::InvalidInput => Errno::EINVAL,
        io::ErrorKind::PermissionDenied => Errno::EACCES,
        io::ErrorKind::TimedOut => Errno::ETIMEDOUT,
        io::ErrorKind::Interrupted => Errno::EINTR,
        kind => {
            return SockError {
                code: ErrorCode::Library,
                message: format!("io::ErrorKind::{kind:?}: {e}"),
            }
        }
    };
    SockError::errno(errno)
}

/// The address a call is given. A host name is resolved as the shim's `ToSocketAddrs` resolves
/// it: by the simulation's DNS (`localhost` is 127.0.0.1; other names are its hosts).
fn ip(address: &Address) -> SockResult<SocketAddr> {
    match address {
        Address::Ip(a) => Ok(*a),
        Address::Host { host, port } => {
            if let Ok(ip) = host.parse::<std::net::IpAddr>() {
                return Ok(SocketAddr::new(ip, *port));
            }
            match turmoil_net::lookup_host(host) {
                Some(ip) => Ok(SocketAddr::new(ip, *port)),
                None => Err(error(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no ip address found for hostname: {host}"),
                ))),
            }
        }
        other => Err(SockError {
            code: ErrorCode::Errno(libc::EAFNOSUPPORT),
            message: format!("{other} is not an IP address"),
        }),
    }
}

/// The unspecified address an unbound datagram socket is bound to before its first send.
fn any_of(family: Family) -> SocketAddr {
    match family {
        Family::Inet6 => SocketAddr::from(([0u16; 8], 0)),
        _ => SocketAddr::from(([0u8; 4], 0)),
    }
}

fn done<T>(r: SockResult<T>, reply: impl FnOnce(T) -> Reply) -> Prepared {
    Prepared::Done(r.map(reply))
}

fn wait(entry: &Entry, future: CallFuture, would_block: SockError) -> Prepared {
    let mode = match entry.mode.get() {
        Mode::Blocking => Wait::Block,
        Mode::Timeout(limit) => Wait::Timeout(limit),
        Mode::NonBlocking => Wait::NonBlocking(would_block),
    };
    Prepared::Wait(future, mode)
}

fn eagain() -> SockError {
    SockError::errno(Errno::EAGAIN)
}

/// Prepares `call` of `session`: made now when it cannot wait, else a future.
pub(super) fn prepare(table: &mut Table, session: u64, call: Call) -> Prepared {
    match prepare_call(table, session, call) {
        Ok(prepared) => prepared,
        Err(e) => Prepared::Done(Err(e)),
    }
}

fn prepare_call(table: &Table, session: u64, call: Call) -> SockResult<Prepared> {
    let entry = |handle: Handle| table.get(session, handle);
    Ok(match call {
        Call::Socket(c) => done(
            match (c.family, c.kind) {
                (Family::Inet | Family::Inet6, SocketType::Stream | SocketType::Dgram) => {
                    Ok(Opened {
                        handle: table.insert(session, Sock::Fresh(c.family, c.kind)),
                    })
                }
                _ => Err(unsupported(&format!(
                    "create {} {} sockets",
                    c.family, c.kind
                ))),
            },
            Reply::Socket,
        ),
        Call::Bind(c) => {
            let e = entry(c.handle)?;
            let address = ip(&c.address)?;
            let kind = match &*e.sock.borrow() {
                Sock::Fresh(_, kind) => *kind,
                _ => {
                    return Err(unsupported(
                        "bind a socket that is already bound or connected",
                    ))
                }
            };
            let target = Rc::clone(&e);
            // TcpListener::bind is bind(2) and listen(2) in one: the shim has no bound, idle
            // stream socket.
            let future: CallFuture = Box::pin(async move {
                let bound = match kind {
                    SocketType::Stream => {
                        Sock::Listener(TcpListener::bind(address).await.map_err(error)?)
                    }
                    _ => Sock::Udp(UdpSocket::bind(address).await.map_err(error)?),
                };
                *target.sock.borrow_mut() = bound;
                Ok(Reply::Bind(()))
            });
            Prepared::Wait(future, Wait::Block)
        }
        Call::Listen(c) => {
            let e = entry(c.handle)?;
            if c.backlog.is_some() {
                return Err(unsupported("set a listen backlog"));
            }
            let sock = e.sock.borrow();
            done(
                match &*sock {
                    Sock::Listener(_) => Ok(()),
                    Sock::Fresh(..) => Err(unsupported("listen on a socket that is not bound")),
                    _ => Err(unsupported(
                        "listen on a socket that is connected or not a stream",
                    )),
                },
                Reply::Listen,
            )
        }
        Call::Accept(c) => {
            let e = entry(c.handle)?;
            if !matches!(&*e.sock.borrow(), Sock::Listener(_)) {
                return Err(unsupported("accept on a socket that is not a listener"));
            }
            let (target, table) = (Rc::clone(&e), table.clone());
            let future: CallFuture = Box::pin(async move {
                let accepted = {
                    let sock = target.sock.borrow();
                    let Sock::Listener(listener) = &*sock else {
                        return Err(SockError::errno(Errno::EBADF));
                    };
                    listener.accept().await
                };
                let (stream, peer) = accepted.map_err(error)?;
                Ok(Reply::Accept(Accepted {
                    handle: table.insert(session, Sock::Stream(stream)),
                    address: Address::Ip(peer),
                }))
            });
            wait(&e, future, eagain())
        }
        Call::Connect(c) => {
            let e = entry(c.handle)?;
            let address = ip(&c.address)?;
            let fresh = match &*e.sock.borrow() {
                Sock::Fresh(family, kind) => Some((*family, *kind)),
                Sock::Udp(_) => None,
                _ => {
                    return Err(unsupported(
                        "connect a socket that is listening or already connected",
                    ))
                }
            };
            let target = Rc::clone(&e);
            let future: CallFuture = Box::pin(async move {
                let connected = match fresh {
                    Some((_, SocketType::Stream)) => {
                        Sock::Stream(TcpStream::connect(address).await.map_err(error)?)
                    }
                    Some((family, _)) => {
                        let udp = UdpSocket::bind(any_of(family)).await.map_err(error)?;
                        udp.connect(address).await.map_err(error)?;
                        Sock::Udp(udp)
                    }
                    None => {
                        let sock = target.sock.borrow();
                        if let Sock::Udp(udp) = &*sock {
                            udp.connect(address).await.map_err(error)?;
                        }
                        return Ok(Reply::Connect(()));
                    }
                };
                *target.sock.borrow_mut() = connected;
                Ok(Reply::Connect(()))
            });
            // TcpStream::connect has no non-blocking form: dropping its future closes the socket.
            wait(
                &e,
                future,
                unsupported("connect without waiting (dropping TcpStream::connect closes it)"),
            )
        }
        Call::Send(c) => {
            let e = entry(c.handle)?;
            let target = Rc::clone(&e);
            let data = c.data.0;
            check_connected(&e, "send on")?;
            let future: CallFuture = Box::pin(async move {
                let mut sock = target.sock.borrow_mut();
                let n = match &mut *sock {
                    Sock::Stream(t) => poll_fn(|cx| Pin::new(&mut *t).poll_write(cx, &data)).await,
                    Sock::Udp(u) => u.send(&data).await,
                    _ => return Err(SockError::errno(Errno::EBADF)),
                };
                Ok(Reply::Send(n.map_err(error)?))
            });
            wait(&e, future, eagain())
        }
        Call::Sendall(c) => {
            let e = entry(c.handle)?;
            let target = Rc::clone(&e);
            let data = c.data.0;
            check_connected(&e, "sendall on")?;
            let future: CallFuture = Box::pin(async move {
                let mut sock = target.sock.borrow_mut();
                match &mut *sock {
                    Sock::Stream(t) => {
                        let mut sent = 0;
                        while sent < data.len() {
                            sent += poll_fn(|cx| Pin::new(&mut *t).poll_write(cx, &data[sent..]))
                                .await
                                .map_err(error)?;
                        }
                    }
                    Sock::Udp(u) => {
                        u.send(&data).await.map_err(error)?;
                    }
                    _ => return Err(SockError::errno(Errno::EBADF)),
                }
                Ok(Reply::Sendall(()))
            });
            wait(&e, future, eagain())
        }
        Call::Sendto(c) => {
            let e = entry(c.handle)?;
            let address = ip(&c.address)?;
            let family = match &*e.sock.borrow() {
                Sock::Fresh(family, SocketType::Dgram) => Some(*family),
                Sock::Udp(_) => None,
                _ => return Err(unsupported("sendto on a stream socket")),
            };
            let (target, data) = (Rc::clone(&e), c.data.0);
            let future: CallFuture = Box::pin(async move {
                if let Some(family) = family {
                    // An unbound UDP socket is bound to the wildcard on its first send, as the
                    // kernel autobinds it; the shim's UdpSocket exists only bound.
                    let udp = UdpSocket::bind(any_of(family)).await.map_err(error)?;
                    *target.sock.borrow_mut() = Sock::Udp(udp);
                }
                let sock = target.sock.borrow();
                let Sock::Udp(u) = &*sock else {
                    return Err(SockError::errno(Errno::EBADF));
                };
                Ok(Reply::Sendto(
                    u.send_to(&data, address).await.map_err(error)?,
                ))
            });
            wait(&e, future, eagain())
        }
        Call::Recv(c) => {
            let e = entry(c.handle)?;
            let future = recv(&e, &c)?;
            if c.flags.dontwait {
                // MSG_DONTWAIT: this call alone is one try (`try_read`, `poll_peek`).
                return Ok(Prepared::Wait(future, Wait::NonBlocking(eagain())));
            }
            wait(&e, future, eagain())
        }
        Call::RecvInto(c) => {
            let e = entry(c.handle)?;
            let mut buffer = c.buffer.0.clone();
            let size = crate::operation::recv_into_target(&mut buffer, c.nbytes)?.len();
            if size == 0 {
                // As Python's: an empty buffer returns 0 without a call.
                return Ok(done(
                    Ok(Filled {
                        count: 0,
                        buffer: Bytes(buffer),
                    }),
                    Reply::RecvInto,
                ));
            }
            let inner = recv(
                &e,
                &RecvCall {
                    handle: c.handle,
                    bufsize: size,
                    flags: c.flags,
                },
            )?;
            let future: CallFuture = Box::pin(async move {
                let Reply::Recv(received) = inner.await? else {
                    return Err(SockError::errno(Errno::EBADF));
                };
                let count = received.data.0.len();
                buffer[..count].copy_from_slice(&received.data.0);
                Ok(Reply::RecvInto(Filled {
                    count,
                    buffer: Bytes(buffer),
                }))
            });
            if c.flags.dontwait {
                return Ok(Prepared::Wait(future, Wait::NonBlocking(eagain())));
            }
            wait(&e, future, eagain())
        }
        Call::Recvfrom(c) => {
            let e = entry(c.handle)?;
            let future = recvfrom(&e, &c)?;
            wait(&e, future, eagain())
        }
        Call::RecvfromInto(c) => {
            let e = entry(c.handle)?;
            if !c.flags.is_empty() {
                return Err(unsupported("pass flags to recvfrom"));
            }
            let mut buffer = c.buffer.0.clone();
            let size = crate::operation::recv_into_target(&mut buffer, c.nbytes)?.len();
            let inner = recvfrom(
                &e,
                &RecvfromCall {
                    handle: c.handle,
                    bufsize: size,
                },
            )?;
            let future: CallFuture = Box::pin(async move {
                let Reply::Recvfrom(received) = inner.await? else {
                    return Err(SockError::errno(Errno::EBADF));
                };
                let count = received.data.0.len();
                buffer[..count].copy_from_slice(&received.data.0);
                Ok(Reply::RecvfromInto(FilledFrom {
                    count,
                    buffer: Bytes(buffer),
                    address: received.address,
                }))
            });
            wait(&e, future, eagain())
        }
        Call::Shutdown(c) => {
            let e = entry(c.handle)?;
            if !matches!(&*e.sock.borrow(), Sock::Stream(_)) {
                return Err(unsupported(
                    "shut down a socket that is not a connected stream",
                ));
            }
            if c.how != Shutdown::Write {
                return Err(unsupported(
                    "shut down the reading side (tokio's TcpStream shuts down writing only)",
                ));
            }
            let target = Rc::clone(&e);
            let future: CallFuture = Box::pin(async move {
                let mut sock = target.sock.borrow_mut();
                let Sock::Stream(t) = &mut *sock else {
                    return Err(SockError::errno(Errno::EBADF));
                };
                poll_fn(|cx| Pin::new(&mut *t).poll_shutdown(cx))
                    .await
                    .map_err(error)?;
                Ok(Reply::Shutdown(()))
            });
            Prepared::Wait(future, Wait::Block)
        }
        // Rust's form of leaving a `with` block is the end of the owner's scope: the socket is
        // dropped, which is what `close` does here.
        Call::Close(c) => done(table.remove(session, c.handle), Reply::Close),
        Call::ExitContext(c) => done(table.remove(session, c.handle), Reply::ExitContext),
        Call::Getsockname(c) => {
            let e = entry(c.handle)?;
            let sock = e.sock.borrow();
            let address = match &*sock {
                Sock::Listener(l) => l.local_addr(),
                Sock::Stream(t) => t.local_addr(),
                Sock::Udp(u) => u.local_addr(),
                Sock::Fresh(..) => {
                    return Err(unsupported(
                        "name a socket that is neither bound nor connected",
                    ))
                }
            };
            done(
                address.map_err(error).map(|a| Named {
                    address: Address::Ip(a),
                }),
                Reply::Getsockname,
            )
        }
        Call::Getpeername(c) => {
            let e = entry(c.handle)?;
            let sock = e.sock.borrow();
            let address = match &*sock {
                Sock::Stream(t) => t.peer_addr(),
                Sock::Udp(u) => u.peer_addr(),
                _ => {
                    return Err(unsupported(
                        "ask the peer of a socket that is not connected",
                    ))
                }
            };
            done(
                address.map_err(error).map(|a| Named {
                    address: Address::Ip(a),
                }),
                Reply::Getpeername,
            )
        }
        Call::Setsockopt(c) => {
            let e = entry(c.handle)?;
            let sock = e.sock.borrow();
            let value = c.value;
            let result = match (c.option, &*sock) {
                (SocketOption::TcpNoDelay, Sock::Stream(t)) => t.set_nodelay(value != 0),
                (SocketOption::Broadcast, Sock::Udp(u)) => u.set_broadcast(value != 0),
                (SocketOption::IpTtl, s) if value >= 0 => {
                    let ttl = u32::try_from(value).map_err(|_| unsupported("a TTL beyond u32"))?;
                    match s {
                        Sock::Stream(t) => t.set_ttl(ttl),
                        Sock::Listener(l) => l.set_ttl(ttl),
                        Sock::Udp(u) => u.set_ttl(ttl),
                        Sock::Fresh(..) => {
                            return Err(unsupported("set IP_TTL before bind or connect"))
                        }
                    }
                }
                (option, _) => {
                    return Err(unsupported(&format!(
                        "set {option} to {value} on this socket (the shim offers TCP_NODELAY on \
                         a stream, SO_BROADCAST on UDP and a non-negative IP_TTL)"
                    )))
                }
            };
            done(result.map_err(error), Reply::Setsockopt)
        }
        Call::Getsockopt(c) => {
            let e = entry(c.handle)?;
            let sock = e.sock.borrow();
            let value = match (c.option, &*sock) {
                (SocketOption::TcpNoDelay, Sock::Stream(t)) => t.nodelay().map(i64::from),
                (SocketOption::Broadcast, Sock::Udp(u)) => u.broadcast().map(i64::from),
                (SocketOption::IpTtl, Sock::Stream(t)) => t.ttl().map(i64::from),
                (SocketOption::IpTtl, Sock::Listener(l)) => l.ttl().map(i64::from),
                (SocketOption::IpTtl, Sock::Udp(u)) => u.ttl().map(i64::from),
                (option, _) => return Err(unsupported(&format!("read {option} on this socket"))),
            };
            done(value.map_err(error), Reply::Getsockopt)
        }
        Call::Settimeout(c) => {
            let e = entry(c.handle)?;
            e.mode.set(c.timeout);
            done(Ok(()), Reply::Settimeout)
        }
        other => Prepared::Done(Err(crate::operation::unsupported(other.name()))),
    })
}

/// Fails a send on a socket that is neither a connected stream nor a UDP socket.
fn check_connected(entry: &Entry, what: &str) -> SockResult<()> {
    match &*entry.sock.borrow() {
        Sock::Stream(_) | Sock::Udp(_) => Ok(()),
        _ => Err(unsupported(&format!(
            "{what} a socket that is not connected"
        ))),
    }
}

fn recv(entry: &Rc<Entry>, call: &RecvCall) -> SockResult<CallFuture> {
    let RecvFlags {
        peek,
        waitall,
        dontwait: _,
        trunc,
    } = call.flags;
    if waitall || trunc {
        return Err(unsupported(
            "pass MSG_WAITALL or MSG_TRUNC (it reads, peeks, or tries once)",
        ));
    }
    if !matches!(&*entry.sock.borrow(), Sock::Stream(_) | Sock::Udp(_)) {
        return Err(unsupported(
            "recv on a socket that is not connected or bound",
        ));
    }
    let (target, bufsize) = (Rc::clone(entry), call.bufsize);
    Ok(Box::pin(async move {
        let mut buffer = vec![0u8; bufsize];
        let mut sock = target.sock.borrow_mut();
        let n = match &mut *sock {
            Sock::Stream(t) if peek => t.peek(&mut buffer).await,
            Sock::Stream(t) => {
                let mut read = ReadBuf::new(&mut buffer);
                poll_fn(|cx| Pin::new(&mut *t).poll_read(cx, &mut read))
                    .await
                    .map(|()| read.filled().len())
            }
            Sock::Udp(u) if peek => u.peek_from(&mut buffer).await.map(|(n, _)| n),
            Sock::Udp(u) => u.recv(&mut buffer).await,
            _ => return Err(SockError::errno(Errno::EBADF)),
        }
        .map_err(error)?;
        buffer.truncate(n);
        Ok(Reply::Recv(Received {
            data: Bytes(buffer),
        }))
    }))
}

fn recvfrom(entry: &Rc<Entry>, call: &RecvfromCall) -> SockResult<CallFuture> {
    if !matches!(&*entry.sock.borrow(), Sock::Udp(_)) {
        return Err(unsupported(
            "recvfrom on a socket that is not a bound datagram socket",
        ));
    }
    let (target, bufsize) = (Rc::clone(entry), call.bufsize);
    Ok(Box::pin(async move {
        let mut buffer = vec![0u8; bufsize];
        let sock = target.sock.borrow();
        let Sock::Udp(u) = &*sock else {
            return Err(SockError::errno(Errno::EBADF));
        };
        let (n, from) = u.recv_from(&mut buffer).await.map_err(error)?;
        buffer.truncate(n);
        Ok(Reply::Recvfrom(ReceivedFrom {
            data: Bytes(buffer),
            address: Address::Ip(from),
        }))
    }))
}
