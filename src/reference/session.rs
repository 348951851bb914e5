//! The reference implementation behind the [`Implementation`] trait.

use super::socket::{Socket, DEFAULT_BACKLOG};
use crate::implementation::{
    Capabilities, Handle, Implementation, Session, SessionError, SockResult,
};
use crate::operation::{
    AcceptCall, Accepted, BindCall, Bytes, CloseCall, ConnectCall, FilenoCall, Filled, FilledFrom,
    GetblockingCall, GetpeernameCall, GetsocknameCall, GetsockoptCall, GettimeoutCall, ListenCall,
    Message, Named, Opened, Pair, PollCall, Ready, Received, ReceivedFrom, RecvCall, RecvIntoCall,
    RecvfromCall, RecvfromIntoCall, RecvmsgCall, SendCall, SendallCall, SendmsgCall, SendtoCall,
    SetsockoptBytesCall, GetsockoptBytesCall, ExitContextCall, SetsockoptCall, SettimeoutCall, ShutdownCall, SocketCall, SocketpairCall,
};
use crate::vocab::{ErrorCode, Mode, SockError};
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

/// A socket slot: open, or closed (later calls fail with `EBADF`, as Python's do). A closed
/// Python socket object still records its timeout: `gettimeout` and `getblocking` answer it, and
/// `settimeout` records a new one before failing with `EBADF`.
enum Slot {
    Open(Arc<Socket>),
    Closed(Mode),
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
            Some(Slot::Closed(_)) | None => Err(SockError::errno(nix::errno::Errno::EBADF)),
        }
    }

    /// The mode a socket records, open or closed (Python's `sock_timeout`).
    fn mode(&self, handle: Handle) -> SockResult<Mode> {
        match self.table().slots.get(&handle.0) {
            Some(Slot::Open(socket)) => Ok(socket.mode()),
            Some(Slot::Closed(mode)) => Ok(*mode),
            None => Err(SockError::errno(nix::errno::Errno::EBADF)),
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
    fn socket(&self, call: &SocketCall) -> SockResult<Opened> {
        let handle = self.insert(Socket::new(call.family, call.kind)?);
        Ok(Opened { handle })
    }

    fn socketpair(&self, call: &SocketpairCall) -> SockResult<Pair> {
        let (a, b) = Socket::pair(call.family, call.kind)?;
        Ok(Pair {
            handles: [self.insert(a), self.insert(b)],
        })
    }

    fn bind(&self, call: &BindCall) -> SockResult<()> {
        self.get(call.handle)?.bind(call.address.clone())
    }

    fn listen(&self, call: &ListenCall) -> SockResult<()> {
        self.get(call.handle)?
            .listen(call.backlog.map_or(DEFAULT_BACKLOG, |b| b.0))
    }

    fn accept(&self, call: &AcceptCall) -> SockResult<Accepted> {
        let (conn, address) = self.get(call.handle)?.accept()?;
        Ok(Accepted {
            handle: self.insert(conn),
            address,
        })
    }

    fn connect(&self, call: &ConnectCall) -> SockResult<()> {
        self.get(call.handle)?.connect(call.address.clone())
    }

    fn send(&self, call: &SendCall) -> SockResult<usize> {
        self.get(call.handle)?.send(&call.data.0)
    }

    fn sendall(&self, call: &SendallCall) -> SockResult<()> {
        self.get(call.handle)?.sendall(&call.data.0)
    }

    fn sendto(&self, call: &SendtoCall) -> SockResult<usize> {
        self.get(call.handle)?
            .sendto(&call.data.0, call.address.clone())
    }

    fn sendmsg(&self, call: &SendmsgCall) -> SockResult<usize> {
        self.get(call.handle)?
            .sendmsg(&call.data.0, call.address.clone())
    }

    fn recv(&self, call: &RecvCall) -> SockResult<Received> {
        let data = self.get(call.handle)?.recv(call.bufsize, call.flags)?;
        Ok(Received { data: Bytes(data) })
    }

    fn recvfrom(&self, call: &RecvfromCall) -> SockResult<ReceivedFrom> {
        let (data, address) = self.get(call.handle)?.recvfrom(call.bufsize)?;
        Ok(ReceivedFrom {
            data: Bytes(data),
            address,
        })
    }

    fn shutdown(&self, call: &ShutdownCall) -> SockResult<()> {
        self.get(call.handle)?.shutdown(call.how)
    }

    fn close(&self, call: &CloseCall) -> SockResult<()> {
        let previous = {
            let mut table = self.table();
            match table.slots.get_mut(&call.handle.0) {
                Some(slot) => {
                    let mode = match slot {
                        Slot::Open(socket) => socket.mode(),
                        Slot::Closed(mode) => *mode,
                    };
                    std::mem::replace(slot, Slot::Closed(mode))
                }
                None => return Err(SockError::errno(nix::errno::Errno::EBADF)),
            }
        };
        match previous {
            // Closing twice is allowed and does nothing, as in Python.
            Slot::Closed(_) => Ok(()),
            Slot::Open(socket) => match Arc::try_unwrap(socket) {
                Ok(socket) => socket.close(),
                // A call is still in flight on another thread: it closes when that call returns.
                Err(_) => Ok(()),
            },
        }
    }

    fn getsockname(&self, call: &GetsocknameCall) -> SockResult<Named> {
        let address = self.get(call.handle)?.getsockname()?;
        Ok(Named { address })
    }

    fn getpeername(&self, call: &GetpeernameCall) -> SockResult<Named> {
        let address = self.get(call.handle)?.getpeername()?;
        Ok(Named { address })
    }

    fn setsockopt(&self, call: &SetsockoptCall) -> SockResult<()> {
        self.get(call.handle)?.setsockopt(call.option, call.value)
    }

    fn getsockopt(&self, call: &GetsockoptCall) -> SockResult<i64> {
        self.get(call.handle)?.getsockopt(call.option)
    }

    fn setsockopt_bytes(&self, call: &SetsockoptBytesCall) -> SockResult<()> {
        self.get(call.handle)?
            .setsockopt_bytes(call.option, &call.value.0)
    }

    fn getsockopt_bytes(&self, call: &GetsockoptBytesCall) -> SockResult<Received> {
        let data = self.get(call.handle)?.getsockopt_bytes(call.option, call.buflen)?;
        Ok(Received { data: Bytes(data) })
    }

    /// As CPython's `socket.__exit__`, which calls `close()`.
    fn exit_context(&self, call: &ExitContextCall) -> SockResult<()> {
        self.close(&CloseCall { handle: call.handle })
    }

    fn settimeout(&self, call: &SettimeoutCall) -> SockResult<()> {
        let socket = {
            let mut table = self.table();
            match table.slots.get_mut(&call.handle.0) {
                Some(Slot::Open(socket)) => Arc::clone(socket),
                // As CPython: the timeout is recorded, then setting the descriptor's mode
                // fails (`modes.closed-socket-keeps-timeout`).
                Some(Slot::Closed(mode)) => {
                    *mode = call.timeout;
                    return Err(SockError::errno(nix::errno::Errno::EBADF));
                }
                None => return Err(SockError::errno(nix::errno::Errno::EBADF)),
            }
        };
        socket.set_mode(call.timeout)
    }

    fn recvmsg(&self, call: &RecvmsgCall) -> SockResult<Message> {
        let (data, flags, address) =
            self.get(call.handle)?
                .recvmsg(call.bufsize, call.ancbufsize, call.flags)?;
        Ok(Message {
            data: Bytes(data),
            flags,
            address,
        })
    }

    fn recv_into(&self, call: &RecvIntoCall) -> SockResult<Filled> {
        let mut buffer = call.buffer.0.clone();
        let socket = match self.get(call.handle) {
            Ok(socket) => socket,
            // As CPython, which checks `nbytes` and returns 0 for nothing to receive before it
            // makes any call, closed socket or not.
            Err(e) => {
                return match crate::operation::recv_into_target(&mut buffer, call.nbytes)?.len() {
                    0 => Ok(Filled {
                        count: 0,
                        buffer: Bytes(buffer),
                    }),
                    _ => Err(e),
                }
            }
        };
        let count = socket.recv_into(&mut buffer, call.nbytes, call.flags)?;
        Ok(Filled {
            count,
            buffer: Bytes(buffer),
        })
    }

    fn recvfrom_into(&self, call: &RecvfromIntoCall) -> SockResult<FilledFrom> {
        let socket = self.get(call.handle)?;
        let mut buffer = call.buffer.0.clone();
        let (count, address) = socket.recvfrom_into(&mut buffer, call.nbytes, call.flags)?;
        Ok(FilledFrom {
            count,
            buffer: Bytes(buffer),
            address,
        })
    }

    fn gettimeout(&self, call: &GettimeoutCall) -> SockResult<Mode> {
        // No system call: Python answers what it recorded, even after close.
        self.mode(call.handle)
    }

    fn getblocking(&self, call: &GetblockingCall) -> SockResult<bool> {
        // No system call: `gettimeout() != 0`, as Python computes it.
        Ok(self.mode(call.handle)? != Mode::NonBlocking)
    }

    fn fileno(&self, call: &FilenoCall) -> SockResult<i64> {
        match self.table().slots.get(&call.handle.0) {
            Some(Slot::Open(socket)) => Ok(socket.fileno()),
            Some(Slot::Closed(_)) => Ok(-1),
            None => Err(SockError::errno(nix::errno::Errno::EBADF)),
        }
    }

    fn poll(&self, call: &PollCall) -> SockResult<Ready> {
        let socket = match self.table().slots.get(&call.handle.0) {
            Some(Slot::Open(socket)) => Arc::clone(socket),
            // Python's poll.register(sock) takes sock.fileno(), -1 once closed, and refuses it
            // (`ValueError: file descriptor cannot be a negative integer (-1)`).
            Some(Slot::Closed(_)) => {
                return Err(SockError {
                    code: ErrorCode::Rejected,
                    message: "file descriptor cannot be a negative integer (-1)".to_string(),
                })
            }
            None => return Err(SockError::errno(nix::errno::Errno::EBADF)),
        };
        let timeout = call
            .timeout_ms
            .map(|ms| std::time::Duration::from_millis(ms.0));
        let events = socket.poll(&call.events, timeout)?;
        Ok(Ready { events })
    }

    fn interrupt(&self, socket: Handle) {
        // shutdown(2) wakes accept, recv, send and connect blocked on this socket on Linux,
        // without touching the socket's blocking mode.
        if let Ok(socket) = self.get(socket) {
            socket.interrupt();
        }
    }
}
