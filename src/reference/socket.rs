//! A Python-style socket over the operating system.

use super::address::{from_sockaddr, to_sockaddr};
use crate::vocab::{
    Address, ErrorCode, Family, Level, Mode, MsgFlag, PollEvent, RecvFlags, Shutdown, SockError,
    SocketOption, SocketType, ValueKind,
};
use socket2::{Domain, SockAddr, Type};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, IntoRawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The result of a socket call.
pub type Result<T> = std::result::Result<T, SockError>;

/// The backlog Python's `listen()` uses when none is given: `min(SOMAXCONN, 128)`.
pub const DEFAULT_BACKLOG: i32 = 128;

/// The largest `buflen` CPython's `getsockopt(level, option, buflen)` accepts.
pub const MAX_GETSOCKOPT_BUFLEN: usize = 1024;

/// A socket with Python's `socket.socket` API.
///
/// Modes follow Python: blocking by default; [`settimeout`](Socket::settimeout) puts the file
/// descriptor in non-blocking mode and, as CPython's `sock_call` does, waits with poll(2) for
/// the socket to be ready before each call (except `connect`, which is made first and then
/// waited for), for at most the timeout, so a call that would wait longer fails with
/// [`ErrorCode::Timeout`].
#[derive(Debug)]
pub struct Socket {
    inner: socket2::Socket,
    family: Family,
    kind: SocketType,
    mode: Mutex<Mode>,
    /// Set by [`interrupt`](Socket::interrupt): a timeout-mode wait ends at its next wake-up.
    interrupted: AtomicBool,
}

/// Which readiness a call waits for in timeout mode.
#[derive(Clone, Copy)]
enum Ready {
    Read,
    Write,
}

impl Socket {
    /// `socket.socket(family, type)`: socket(2). Spec: `tcp.server.socket`, `socket.create`.
    pub fn new(family: Family, kind: SocketType) -> Result<Socket> {
        let inner = socket2::Socket::new(domain(family), socket_type(kind), None)?;
        Ok(Socket::wrap(inner, family, kind))
    }

    /// `socket.socketpair(family, type)`: socketpair(2). Spec: `unix.socketpair`.
    pub fn pair(family: Family, kind: SocketType) -> Result<(Socket, Socket)> {
        let (a, b) = socket2::Socket::pair(domain(family), socket_type(kind), None)?;
        Ok((Socket::wrap(a, family, kind), Socket::wrap(b, family, kind)))
    }

    fn wrap(inner: socket2::Socket, family: Family, kind: SocketType) -> Socket {
        Socket {
            inner,
            family,
            kind,
            mode: Mutex::new(Mode::Blocking),
            interrupted: AtomicBool::new(false),
        }
    }

    /// The socket's family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The socket's type.
    pub fn kind(&self) -> SocketType {
        self.kind
    }

    /// `sock.bind(address)`: bind(2). Spec: `tcp.server.bind`.
    pub fn bind(&self, address: impl Into<Address>) -> Result<()> {
        let address = to_sockaddr(&address.into(), self.family, self.kind)?;
        Ok(self.inner.bind(&address)?)
    }

    /// `sock.listen(backlog)`: listen(2). Spec: `tcp.server.listen`.
    ///
    /// Python clamps a negative backlog to 0 before the call; so does this.
    pub fn listen(&self, backlog: i32) -> Result<()> {
        Ok(self.inner.listen(backlog.max(0))?)
    }

    /// `sock.accept()`: accept4(2) with `SOCK_CLOEXEC`. Spec: `tcp.server.accept`.
    ///
    /// The new socket is in blocking mode, as in Python with no default timeout.
    pub fn accept(&self) -> Result<(Socket, Address)> {
        let (inner, peer) = self.call(Ready::Read, || self.inner.accept())?;
        inner.set_nonblocking(false)?;
        Ok((
            Socket::wrap(inner, self.family, self.kind),
            from_sockaddr(&peer),
        ))
    }

    /// `sock.connect(address)`: connect(2). Spec: `tcp.client.connect`.
    ///
    /// In timeout mode, as in Python, a connect that is in progress is waited for with poll(2) and
    /// its result read from `SO_ERROR`.
    pub fn connect(&self, address: impl Into<Address>) -> Result<()> {
        let address = to_sockaddr(&address.into(), self.family, self.kind)?;
        let timeout = match self.mode() {
            Mode::Timeout(t) => t,
            Mode::Blocking | Mode::NonBlocking => return Ok(self.inner.connect(&address)?),
        };
        match self.inner.connect(&address) {
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
                if !self.wait(Ready::Write, Instant::now() + timeout)? {
                    return Err(SockError::new(ErrorCode::Timeout));
                }
                match self.inner.take_error()? {
                    Some(e) => Err(e.into()),
                    None => Ok(()),
                }
            }
            other => Ok(other?),
        }
    }

    /// `sock.send(data)`: send(2) with `MSG_NOSIGNAL`, so a closed peer is `EPIPE`, not SIGPIPE.
    /// Returns how many bytes the kernel took. Spec: `data.send.count`.
    pub fn send(&self, data: &[u8]) -> Result<usize> {
        self.call(Ready::Write, || {
            self.inner.send_with_flags(data, libc::MSG_NOSIGNAL)
        })
    }

    /// `sock.sendall(data)`: send(2) until every byte is taken. Spec: `data.sendall`.
    ///
    /// In timeout mode the timeout bounds the whole call, as in Python 3.5 and later.
    pub fn sendall(&self, mut data: &[u8]) -> Result<()> {
        let deadline = match self.mode() {
            Mode::Timeout(t) => Some(Instant::now() + t),
            _ => None,
        };
        while !data.is_empty() {
            let sent = self.call_until(Ready::Write, deadline, || {
                self.inner.send_with_flags(data, libc::MSG_NOSIGNAL)
            })?;
            data = &data[sent..];
        }
        Ok(())
    }

    /// `sock.sendto(data, address)`: sendto(2). Spec: `udp.sendto`.
    pub fn sendto(&self, data: &[u8], address: impl Into<Address>) -> Result<usize> {
        let address = to_sockaddr(&address.into(), self.family, self.kind)?;
        self.call(Ready::Write, || {
            self.inner
                .send_to_with_flags(data, &address, libc::MSG_NOSIGNAL)
        })
    }

    /// `sock.sendmsg([data], [], 0, address)`: sendmsg(2) with one buffer and no ancillary
    /// data, to `address` or, without one, to the connected peer. Spec: `data.sendmsg`.
    pub fn sendmsg(&self, data: &[u8], address: Option<Address>) -> Result<usize> {
        let buffers = [std::io::IoSlice::new(data)];
        match address {
            Some(address) => {
                let address = to_sockaddr(&address, self.family, self.kind)?;
                self.call(Ready::Write, || {
                    self.inner
                        .send_to_vectored_with_flags(&buffers, &address, libc::MSG_NOSIGNAL)
                })
            }
            None => self.call(Ready::Write, || {
                self.inner
                    .send_vectored_with_flags(&buffers, libc::MSG_NOSIGNAL)
            }),
        }
    }

    /// `sock.recv(bufsize, flags)`: recv(2). At most `bufsize` bytes; empty at end of stream.
    /// Spec: `data.recv.bufsize`.
    pub fn recv(&self, bufsize: usize, flags: RecvFlags) -> Result<Vec<u8>> {
        let mut buffer = receive_buffer(bufsize, flags)?;
        let n = self.call(Ready::Read, || {
            self.inner.recv_with_flags(&mut buffer, recv_flags(flags))
        })?;
        let mut data = initialised(buffer, n.min(bufsize));
        // With MSG_TRUNC a datagram socket returns the datagram's real length, and CPython
        // returns a bytes object that long: the kernel wrote only `bufsize` bytes, and the rest
        // is whatever was in CPython's buffer (uninitialised memory). Here it is zeros; the
        // spec leaves those bytes unspecified (`udp.recv.msg-trunc.length`).
        if n > bufsize {
            data.try_reserve_exact(n - bufsize)
                .map_err(|_| SockError::errno(nix::errno::Errno::ENOMEM))?;
            data.resize(n, 0);
        }
        Ok(data)
    }

    /// `sock.recvfrom(bufsize)`: recvfrom(2); the data and the sender's address. Spec: `udp.recvfrom`.
    pub fn recvfrom(&self, bufsize: usize) -> Result<(Vec<u8>, Address)> {
        let mut buffer = receive_buffer(bufsize, RecvFlags::default())?;
        let (n, from) = self.call(Ready::Read, || self.inner.recv_from(&mut buffer))?;
        Ok((initialised(buffer, n.min(bufsize)), from_sockaddr(&from)))
    }

    /// `sock.recv_into(buffer, nbytes, flags)`: recv(2) into the first `nbytes` bytes of
    /// `buffer` (0: all of it); returns the count recv(2) returned, which with `MSG_TRUNC` on a
    /// datagram socket is the datagram's real length. As in CPython, `nbytes` beyond the buffer
    /// is refused before any call (`ValueError`), and an empty buffer returns 0 without one.
    /// Spec: `data.recv-into.count`, `data.recv-into.nbytes.*`.
    pub fn recv_into(&self, buffer: &mut [u8], nbytes: usize, flags: RecvFlags) -> Result<usize> {
        let target = crate::operation::recv_into_target(buffer, nbytes)?;
        if target.is_empty() {
            return Ok(0);
        }
        self.call(Ready::Read, || {
            // SAFETY: recv(2) writes at most `target.len()` bytes into `target`.
            let n = unsafe {
                libc::recv(
                    self.inner.as_raw_fd(),
                    target.as_mut_ptr().cast(),
                    target.len(),
                    recv_flags(flags),
                )
            };
            if n < 0 {
                Err(std::io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        })
    }

    /// `sock.recvfrom_into(buffer, nbytes, flags)`: as [`recv_into`](Socket::recv_into), with
    /// recvfrom(2) and the sender's address. Spec: `data.recv-into.*`.
    pub fn recvfrom_into(
        &self,
        buffer: &mut [u8],
        nbytes: usize,
        flags: RecvFlags,
    ) -> Result<(usize, Address)> {
        let target = crate::operation::recv_into_target(buffer, nbytes)?;
        let (n, from) = self.call(Ready::Read, || {
            // SAFETY: recvfrom(2) writes at most `target.len()` bytes into `target`, and at most
            // `len` bytes of address into `storage`, and sets `len` to the address's length.
            unsafe {
                SockAddr::try_init(|storage, len| {
                    let n = libc::recvfrom(
                        self.inner.as_raw_fd(),
                        target.as_mut_ptr().cast(),
                        target.len(),
                        recv_flags(flags),
                        storage.cast(),
                        len,
                    );
                    if n < 0 {
                        Err(std::io::Error::last_os_error())
                    } else {
                        Ok(n as usize)
                    }
                })
            }
        })?;
        Ok((n, from_sockaddr(&from)))
    }

    /// `sock.recvmsg(bufsize, 0, flags)`: recvmsg(2) with no ancillary buffer; the bytes (at
    /// most `bufsize`, even when `MSG_TRUNC` makes the kernel return more), the flags it set in
    /// `msg_flags`, and the sender (`unnamed` when the kernel gave none, Python's `None`).
    /// Spec: `data.recvmsg.*`, `udp.recvmsg.trunc`.
    pub fn recvmsg(
        &self,
        bufsize: usize,
        ancbufsize: usize,
        flags: RecvFlags,
    ) -> Result<(Vec<u8>, Vec<MsgFlag>, Address)> {
        let mut buffer = receive_buffer(bufsize, flags)?;
        // As CPython: no control buffer at all for 0 (the kernel then reports any ancillary
        // data it had as `MSG_CTRUNC`), else one of exactly `ancbufsize` bytes.
        let mut control = Vec::new();
        control
            .try_reserve_exact(ancbufsize)
            .map_err(|_| SockError::errno(nix::errno::Errno::ENOMEM))?;
        control.resize(ancbufsize, 0u8);
        let ((n, msg_flags), from) = self.call(Ready::Read, || {
            // SAFETY: one iovec over `buffer`'s `bufsize` bytes, a control buffer of
            // `ancbufsize` bytes (or none), and the name buffer socket2 gives with its length;
            // the kernel updates those lengths.
            unsafe {
                SockAddr::try_init(|storage, len| {
                    let mut iov = libc::iovec {
                        iov_base: buffer.as_mut_ptr().cast(),
                        iov_len: bufsize,
                    };
                    let mut msg: libc::msghdr = std::mem::zeroed();
                    msg.msg_name = storage.cast();
                    msg.msg_namelen = *len;
                    msg.msg_iov = &mut iov;
                    msg.msg_iovlen = 1;
                    if ancbufsize > 0 {
                        msg.msg_control = control.as_mut_ptr().cast();
                        msg.msg_controllen = ancbufsize as _;
                    }
                    let n = libc::recvmsg(self.inner.as_raw_fd(), &mut msg, recv_flags(flags));
                    if n < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    *len = msg.msg_namelen;
                    Ok((n as usize, msg.msg_flags))
                })
            }
        })?;
        let names = MsgFlag::ALL
            .into_iter()
            .filter(|f| msg_flags & msg_flag(*f) != 0)
            .collect();
        Ok((
            initialised(buffer, n.min(bufsize)),
            names,
            from_sockaddr(&from),
        ))
    }

    /// `select.poll()`, `register(sock, events)`, `poll(timeout_ms)`: the events poll(2)
    /// reported for the socket, none when the timeout passed. `None` waits until an event. As
    /// Python's since 3.5 (PEP 475), poll(2) is restarted on `EINTR` with what is left of the
    /// timeout. Spec: `modes.poll.*`.
    pub fn poll(&self, events: &[PollEvent], timeout: Option<Duration>) -> Result<Vec<PollEvent>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mask = events.iter().fold(0, |m, e| m | poll_event(*e));
        loop {
            let millis = match deadline {
                None => -1,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    // Rounded up, as Python rounds a float timeout (ROUND_CEILING).
                    left.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32
                }
            };
            let mut fd = libc::pollfd {
                fd: self.inner.as_raw_fd(),
                events: mask,
                revents: 0,
            };
            // SAFETY: one valid pollfd, and the count says one.
            match unsafe { libc::poll(&mut fd, 1, millis) } {
                n if n >= 0 => {
                    return Ok(PollEvent::ALL
                        .into_iter()
                        .filter(|e| fd.revents & poll_event(*e) != 0)
                        .collect())
                }
                _ => match std::io::Error::last_os_error() {
                    e if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    e => return Err(e.into()),
                },
            }
        }
    }

    /// `sock.fileno()` of an open socket: its descriptor. (Python's `-1` after close is the
    /// session's to answer: a closed socket is no longer a `Socket`.)
    pub fn fileno(&self) -> i64 {
        i64::from(self.inner.as_raw_fd())
    }

    /// Wakes a call blocked on this socket in another thread, for a watchdog: shutdown(2) both
    /// ways (on Linux it wakes a blocked accept, recv, send or connect; close(2) does not), and a
    /// call in timeout mode fails with [`ErrorCode::Timeout`] at its next wake-up instead of
    /// waiting out its timeout (a shut-down UDP socket polls readable while recv(2) still says
    /// EAGAIN). The blocking mode is left as it is.
    pub fn interrupt(&self) {
        self.interrupted.store(true, Ordering::SeqCst);
        let _ = self.inner.shutdown(std::net::Shutdown::Both);
    }

    /// `sock.shutdown(how)`: shutdown(2). Spec: `data.shutdown`.
    pub fn shutdown(&self, how: Shutdown) -> Result<()> {
        let how = match how {
            Shutdown::Read => std::net::Shutdown::Read,
            Shutdown::Write => std::net::Shutdown::Write,
            Shutdown::Both => std::net::Shutdown::Both,
        };
        Ok(self.inner.shutdown(how)?)
    }

    /// `sock.close()`: close(2). Spec: `tcp.server.close`.
    ///
    /// Python ignores `ECONNRESET` from close (bpo-30319); so does this.
    pub fn close(self) -> Result<()> {
        let fd = self.inner.into_raw_fd();
        // SAFETY: `fd` came from `into_raw_fd`, so nothing else owns or closes it.
        if unsafe { libc::close(fd) } == 0 {
            return Ok(());
        }
        match std::io::Error::last_os_error() {
            e if e.raw_os_error() == Some(libc::ECONNRESET) => Ok(()),
            e => Err(e.into()),
        }
    }

    /// `sock.getsockname()`: getsockname(2). Spec: `names.getsockname`.
    pub fn getsockname(&self) -> Result<Address> {
        Ok(from_sockaddr(&self.inner.local_addr()?))
    }

    /// `sock.getpeername()`: getpeername(2). Spec: `names.getpeername`.
    pub fn getpeername(&self) -> Result<Address> {
        Ok(from_sockaddr(&self.inner.peer_addr()?))
    }

    /// `sock.setsockopt(level, option, value)`: setsockopt(2), at the option's level. Spec:
    /// the `options.*` requirements.
    ///
    /// As in CPython, an integer option's value goes to the kernel as a C `int`, unchanged: any
    /// non-zero value turns a flag on (`-1` too), a negative buffer size or an out-of-range TTL
    /// is the kernel's to judge, and a read-only option is offered to the kernel, which refuses
    /// it. A value that is no C `int` is refused before the call (`rejected`), as Python refuses
    /// it; so is a linger value below -1, which has no `struct linger`.
    pub fn setsockopt(&self, option: SocketOption, value: i64) -> Result<()> {
        let millis = |v: i64| (v > 0).then(|| Duration::from_millis(v as u64));
        let int = || i32::try_from(value).map_err(|_| SockError::new(ErrorCode::Rejected));
        Ok(match option.kind() {
            ValueKind::Bool | ValueKind::Int | ValueKind::ReadOnly => self.set_int(option, int()?),
            ValueKind::Millis => match option {
                SocketOption::SendTimeoutMs => self.inner.set_write_timeout(millis(value)),
                _ => self.inner.set_read_timeout(millis(value)),
            },
            ValueKind::Linger => match int()? {
                -1 => self.inner.set_linger(None),
                n @ 0.. => self.inner.set_linger(Some(Duration::from_secs(n as u64))),
                _ => return Err(SockError::new(ErrorCode::Rejected)),
            },
        }?)
    }

    /// `sock.setsockopt(level, option, buffer)`: setsockopt(2) with the bytes as given, their
    /// count as the option's length, as CPython passes a bytes-like value. What a buffer of the
    /// wrong size gets is the kernel's to say. Spec: `options.bytes-value`.
    pub fn setsockopt_bytes(&self, option: SocketOption, value: &[u8]) -> Result<()> {
        let (level, name) = raw_option(option);
        let len = libc::socklen_t::try_from(value.len())
            .map_err(|_| SockError::new(ErrorCode::Rejected))?;
        // SAFETY: a valid descriptor, and a pointer to `len` readable bytes.
        let result = unsafe {
            libc::setsockopt(
                self.inner.as_raw_fd(),
                level,
                name,
                value.as_ptr().cast(),
                len,
            )
        };
        if result == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error().into())
        }
    }

    /// `sock.getsockopt(level, option, buflen)`: getsockopt(2) into a buffer of `buflen` bytes;
    /// what the kernel wrote, which may be shorter. As CPython, a `buflen` outside 1 to 1024 is
    /// refused before the call. Spec: `options.bytes-value.get`.
    pub fn getsockopt_bytes(&self, option: SocketOption, buflen: usize) -> Result<Vec<u8>> {
        if !(1..=MAX_GETSOCKOPT_BUFLEN).contains(&buflen) {
            return Err(SockError::new(ErrorCode::Rejected));
        }
        let (level, name) = raw_option(option);
        let mut buffer = vec![0u8; buflen];
        let mut len = buflen as libc::socklen_t;
        // SAFETY: a valid descriptor, and a pointer to `len` writable bytes; the kernel writes
        // at most `len` and stores the count it wrote there.
        let result = unsafe {
            libc::getsockopt(
                self.inner.as_raw_fd(),
                level,
                name,
                buffer.as_mut_ptr().cast(),
                &mut len,
            )
        };
        if result != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        buffer.truncate(len as usize);
        Ok(buffer)
    }

    /// setsockopt(2) at the option's level with a C `int` value.
    fn set_int(&self, option: SocketOption, value: i32) -> std::io::Result<()> {
        let (level, name) = raw_option(option);
        let value: libc::c_int = value;
        // SAFETY: a valid descriptor, and a pointer to a C int with its exact size.
        let result = unsafe {
            libc::setsockopt(
                self.inner.as_raw_fd(),
                level,
                name,
                (&value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if result == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    /// getsockopt(2) at the option's level of a C `int`, as Python's two-argument `getsockopt`.
    fn get_int(&self, option: SocketOption) -> std::io::Result<i64> {
        let (level, name) = raw_option(option);
        let mut value: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: a valid descriptor, and a pointer to a C int with its size in `len`.
        let result = unsafe {
            libc::getsockopt(
                self.inner.as_raw_fd(),
                level,
                name,
                (&mut value as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        if result == 0 {
            Ok(i64::from(value))
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    /// `sock.getsockopt(level, option)`: getsockopt(2). Spec: the `options.*` requirements.
    ///
    /// A flag reads back as the kernel gives it (Linux: 0 or 1); `SO_ERROR` gives the pending
    /// error's number and clears it.
    pub fn getsockopt(&self, option: SocketOption) -> Result<i64> {
        let millis = |d: Option<Duration>| d.map_or(0, |d| d.as_millis() as i64);
        Ok(match option.kind() {
            ValueKind::Bool | ValueKind::Int | ValueKind::ReadOnly => self.get_int(option)?,
            ValueKind::Millis => millis(match option {
                SocketOption::SendTimeoutMs => self.inner.write_timeout()?,
                _ => self.inner.read_timeout()?,
            }),
            ValueKind::Linger => self.inner.linger()?.map_or(-1, |d| d.as_secs() as i64),
        })
    }

    /// `sock.setblocking(flag)`: `O_NONBLOCK` through fcntl(2). Spec: `modes.blocking`.
    pub fn setblocking(&self, blocking: bool) -> Result<()> {
        self.set_mode(if blocking {
            Mode::Blocking
        } else {
            Mode::NonBlocking
        })
    }

    /// `sock.settimeout(t)`: `None` is blocking, zero is non-blocking, else timeout mode.
    /// Spec: `modes.timeout`.
    pub fn settimeout(&self, timeout: Option<Duration>) -> Result<()> {
        self.set_mode(match timeout {
            None => Mode::Blocking,
            Some(t) if t.is_zero() => Mode::NonBlocking,
            Some(t) => Mode::Timeout(t),
        })
    }

    /// `sock.gettimeout()`.
    pub fn gettimeout(&self) -> Option<Duration> {
        match self.mode() {
            Mode::Blocking => None,
            Mode::NonBlocking => Some(Duration::ZERO),
            Mode::Timeout(t) => Some(t),
        }
    }

    /// Sets the mode; the file descriptor is non-blocking in every mode but blocking.
    pub fn set_mode(&self, mode: Mode) -> Result<()> {
        self.inner.set_nonblocking(mode != Mode::Blocking)?;
        *self.mode.lock().unwrap_or_else(|e| e.into_inner()) = mode;
        Ok(())
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        *self.mode.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes the call; in timeout mode waits with poll(2) whenever it would block.
    fn call<T>(&self, ready: Ready, f: impl FnMut() -> std::io::Result<T>) -> Result<T> {
        let deadline = match self.mode() {
            Mode::Timeout(t) => Some(Instant::now() + t),
            _ => None,
        };
        self.call_until(ready, deadline, f)
    }

    fn call_until<T>(
        &self,
        ready: Ready,
        deadline: Option<Instant>,
        mut f: impl FnMut() -> std::io::Result<T>,
    ) -> Result<T> {
        loop {
            if let Some(deadline) = deadline {
                // As CPython's sock_call: in timeout mode, wait for readiness first, then make
                // the call (so a call the kernel would refuse at once, such as recv on a
                // listener, waits out the timeout, as in Python). Checked on every wake-up, not
                // only when poll(2) times out: after the watchdog's shutdown(2) a UDP socket
                // polls readable while recv(2) still says EAGAIN, and the loop must not spin.
                if self.interrupted.load(Ordering::SeqCst)
                    || Instant::now() >= deadline
                    || !self.wait(ready, deadline)?
                {
                    return Err(SockError::new(ErrorCode::Timeout));
                }
            }
            match f() {
                // Ready was a false positive (another reader took the data): wait again.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && deadline.is_some() => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                other => return Ok(other?),
            }
        }
    }

    /// poll(2) until the socket is ready or the deadline passes; false on the deadline.
    fn wait(&self, ready: Ready, deadline: Instant) -> Result<bool> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let millis = left.as_millis().min(i32::MAX as u128) as i32;
            let events = match ready {
                Ready::Read => libc::POLLIN,
                Ready::Write => libc::POLLOUT,
            };
            let mut fd = libc::pollfd {
                fd: self.inner.as_raw_fd(),
                events,
                revents: 0,
            };
            // SAFETY: one valid pollfd, and the count says one.
            match unsafe { libc::poll(&mut fd, 1, millis) } {
                0 if left.is_zero() => return Ok(false),
                0 => continue,
                n if n > 0 => return Ok(true),
                _ => match std::io::Error::last_os_error() {
                    e if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    e => return Err(e.into()),
                },
            }
        }
    }
}

/// A buffer of `bufsize` bytes for recv(2); running out of memory is an error (`ENOMEM`), not an
/// abort. With `MSG_TRUNC` the kernel may return a count without writing the bytes (a stream
/// discards them), so the buffer is zeroed first: what the caller gets back is then zeros, not
/// memory nobody wrote.
fn receive_buffer(bufsize: usize, flags: RecvFlags) -> Result<Vec<MaybeUninit<u8>>> {
    let mut buffer = Vec::new();
    buffer
        .try_reserve_exact(bufsize)
        .map_err(|_| SockError::errno(nix::errno::Errno::ENOMEM))?;
    let fill = if flags.trunc {
        MaybeUninit::new(0)
    } else {
        MaybeUninit::uninit()
    };
    buffer.resize(bufsize, fill);
    Ok(buffer)
}

fn domain(family: Family) -> Domain {
    match family {
        Family::Inet => Domain::IPV4,
        Family::Inet6 => Domain::IPV6,
        Family::Unix => Domain::UNIX,
    }
}

fn socket_type(kind: SocketType) -> Type {
    match kind {
        SocketType::Stream => Type::STREAM,
        SocketType::Dgram => Type::DGRAM,
        SocketType::Seqpacket => Type::SEQPACKET,
    }
}

fn recv_flags(flags: RecvFlags) -> libc::c_int {
    let mut bits = 0;
    if flags.peek {
        bits |= libc::MSG_PEEK;
    }
    if flags.waitall {
        bits |= libc::MSG_WAITALL;
    }
    if flags.dontwait {
        bits |= libc::MSG_DONTWAIT;
    }
    if flags.trunc {
        bits |= libc::MSG_TRUNC;
    }
    bits
}

fn msg_flag(flag: MsgFlag) -> libc::c_int {
    match flag {
        MsgFlag::Trunc => libc::MSG_TRUNC,
        MsgFlag::Ctrunc => libc::MSG_CTRUNC,
        MsgFlag::Eor => libc::MSG_EOR,
        MsgFlag::Oob => libc::MSG_OOB,
        MsgFlag::Errqueue => libc::MSG_ERRQUEUE,
    }
}

fn poll_event(event: PollEvent) -> libc::c_short {
    match event {
        PollEvent::In => libc::POLLIN,
        PollEvent::Pri => libc::POLLPRI,
        PollEvent::Out => libc::POLLOUT,
        PollEvent::Err => libc::POLLERR,
        PollEvent::Hup => libc::POLLHUP,
        PollEvent::Nval => libc::POLLNVAL,
        PollEvent::Rdhup => libc::POLLRDHUP,
        PollEvent::Rdnorm => libc::POLLRDNORM,
        PollEvent::Rdband => libc::POLLRDBAND,
        PollEvent::Wrnorm => libc::POLLWRNORM,
        PollEvent::Wrband => libc::POLLWRBAND,
    }
}

/// The first `len` bytes of `buffer`, which the kernel wrote, in the same allocation: no copy on
/// the data path, but shrunk when it holds less than half of what was reserved, so that a small
/// reply to a large `bufsize` does not keep the large allocation.
fn initialised(buffer: Vec<MaybeUninit<u8>>, len: usize) -> Vec<u8> {
    let mut buffer = std::mem::ManuallyDrop::new(buffer);
    let len = len.min(buffer.len());
    // SAFETY: MaybeUninit<u8> has the layout of u8, and the allocation is handed over whole
    // (pointer, capacity) from a Vec of the same global allocator; the first `len` bytes are
    // initialised: the kernel wrote them (recv returned their count), or, with MSG_TRUNC,
    // `receive_buffer` zeroed them.
    let mut bytes =
        unsafe { Vec::from_raw_parts(buffer.as_mut_ptr().cast::<u8>(), len, buffer.capacity()) };
    if bytes.len() < bytes.capacity() / 2 {
        bytes.shrink_to_fit();
    }
    bytes
}

/// An option's level and name as the system numbers them.
fn raw_option(option: SocketOption) -> (libc::c_int, libc::c_int) {
    let level = match option.level() {
        Level::Socket => libc::SOL_SOCKET,
        Level::Tcp => libc::IPPROTO_TCP,
        Level::Ip => libc::IPPROTO_IP,
        Level::Ipv6 => libc::IPPROTO_IPV6,
    };
    let name = match option {
        SocketOption::ReuseAddr => libc::SO_REUSEADDR,
        SocketOption::ReusePort => libc::SO_REUSEPORT,
        SocketOption::RecvTimeoutMs => libc::SO_RCVTIMEO,
        SocketOption::SendTimeoutMs => libc::SO_SNDTIMEO,
        SocketOption::RecvBuffer => libc::SO_RCVBUF,
        SocketOption::SendBuffer => libc::SO_SNDBUF,
        SocketOption::Linger => libc::SO_LINGER,
        SocketOption::Error => libc::SO_ERROR,
        SocketOption::Type => libc::SO_TYPE,
        SocketOption::AcceptConn => libc::SO_ACCEPTCONN,
        SocketOption::KeepAlive => libc::SO_KEEPALIVE,
        SocketOption::RecvLowWater => libc::SO_RCVLOWAT,
        SocketOption::Broadcast => libc::SO_BROADCAST,
        SocketOption::TcpNoDelay => libc::TCP_NODELAY,
        SocketOption::TcpKeepIdle => libc::TCP_KEEPIDLE,
        SocketOption::TcpKeepIntvl => libc::TCP_KEEPINTVL,
        SocketOption::TcpKeepCnt => libc::TCP_KEEPCNT,
        SocketOption::TcpUserTimeout => libc::TCP_USER_TIMEOUT,
        SocketOption::IpTtl => libc::IP_TTL,
        SocketOption::IpRecvErr => libc::IP_RECVERR,
        SocketOption::IpRecvTos => libc::IP_RECVTOS,
        SocketOption::IpFreeBind => libc::IP_FREEBIND,
        SocketOption::IpMtuDiscover => libc::IP_MTU_DISCOVER,
        SocketOption::Ipv6V6Only => libc::IPV6_V6ONLY,
    };
    (level, name)
}
