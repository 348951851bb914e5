//! The model: what it knows of each socket, enough to choose only operations that cannot block
//! for ever, and to follow the reference's outcomes.

use super::{Outcome, POOL};
use std::collections::VecDeque;

/// The backlog every `listen` uses.
pub const BACKLOG: i32 = 4;

/// At most this many sockets in one sequence.
const MAX_SOCKETS: usize = 8;

/// Queued bytes a connection may hold, well under any socket buffer, so that send never waits.
const MAX_QUEUED: usize = 48 * 1024;

/// A step as drawn: plain numbers that the model interprets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Intention {
    /// Which kind of operation.
    pub kind: u8,
    /// Which socket (modulo how many exist).
    pub socket: u8,
    /// A port index, a length or a flag.
    pub arg: u16,
}

/// An operation on the sockets of one run, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `socket(AF_INET or AF_UNIX, SOCK_DGRAM or SOCK_STREAM)`.
    Socket {
        /// A datagram socket (else a stream).
        udp: bool,
        /// `AF_UNIX` (else `AF_INET`).
        unix: bool,
    },
    /// `bind` to a pool port on 127.0.0.1, or a pool path for a Unix socket.
    Bind {
        /// The socket.
        socket: usize,
        /// The pool port (or path).
        port: usize,
    },
    /// `listen(BACKLOG)`, or `listen()` for an implementation without a backlog argument.
    Listen {
        /// The socket.
        socket: usize,
        /// Whether the backlog is given (else the system's default, which is larger).
        backlog: bool,
    },
    /// `connect` to a pool port on 127.0.0.1, or a pool path for a Unix socket.
    Connect {
        /// The socket.
        socket: usize,
        /// The pool port (or path).
        port: usize,
    },
    /// `accept()`.
    Accept {
        /// The listener.
        socket: usize,
    },
    /// `send` of `len` bytes.
    Send {
        /// The socket.
        socket: usize,
        /// How many bytes.
        len: usize,
    },
    /// `recv(bufsize)`, with `MSG_WAITALL` when the model knows that many bytes are queued.
    Recv {
        /// The socket.
        socket: usize,
        /// The buffer size.
        bufsize: usize,
        /// Whether `MSG_WAITALL` is set.
        waitall: bool,
    },
    /// `shutdown(SHUT_WR or SHUT_RD)`.
    Shutdown {
        /// The socket.
        socket: usize,
        /// `SHUT_WR` (else `SHUT_RD`).
        write: bool,
    },
    /// `close()`.
    Close {
        /// The socket.
        socket: usize,
    },
    /// `getsockname()`.
    Getsockname {
        /// The socket.
        socket: usize,
    },
    /// `getpeername()`.
    Getpeername {
        /// The socket.
        socket: usize,
    },
}

/// The family and type of each socket a sequence created, by index in creation order (`socket`
/// and `accept` create them): what running and rendering an operation need to know of its socket.
#[derive(Clone, Debug, Default)]
pub struct SocketKinds(Vec<(bool, bool)>);

impl SocketKinds {
    /// Notes the socket `op` created; call it only when `op` succeeded.
    pub fn note(&mut self, op: &Op) {
        match *op {
            Op::Socket { udp, unix } => self.0.push((unix, !udp)),
            Op::Accept { socket } => self.0.push((self.unix(socket), true)),
            _ => {}
        }
    }

    /// How many sockets were created: the index the next one gets.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether socket `i` is Unix-domain.
    pub fn unix(&self, i: usize) -> bool {
        self.0.get(i).is_some_and(|k| k.0)
    }

    /// Whether socket `i` is a stream.
    pub fn stream(&self, i: usize) -> bool {
        self.0.get(i).is_some_and(|k| k.1)
    }
}

/// The index of a kind of socket in [`Model::owners`]: its pool ports (or paths) are its own.
fn kind(unix: bool, datagram: bool) -> usize {
    usize::from(unix) * 2 + usize::from(datagram)
}

/// The bytes a `send` of `len` sends.
pub fn bytes(len: usize) -> Vec<u8> {
    b"differential".iter().copied().cycle().take(len).collect()
}

/// Where a TCP socket's connection stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Link {
    /// Not connected (as far as the model knows).
    #[default]
    None,
    /// Connected, waiting in a listener's queue.
    Queued,
    /// Connected to this socket.
    Peer(usize),
    /// Connected to something the model does not follow (e.g. itself): left alone.
    Unknown,
}

#[derive(Clone, Debug, Default)]
struct Sock {
    /// A datagram socket (UDP or Unix datagram).
    udp: bool,
    /// A Unix-domain socket.
    unix: bool,
    closed: bool,
    listening: bool,
    link: Link,
    /// Bytes queued for this socket to read (TCP).
    unread: usize,
    /// Datagrams queued for this socket (UDP).
    datagrams: usize,
    /// A recv with nothing queued returns b'' at once (peer finished, or own SHUT_RD).
    ended: bool,
    /// The peer is closed or finished writing: sending to it is left alone (its reset is
    /// asynchronous).
    peer_gone: bool,
    /// This socket's own SHUT_WR.
    write_shut: bool,
    /// A reset is on its way (its listener closed while it was queued).
    reset: bool,
    /// Pool port (path) a datagram socket is connected to.
    udp_peer: Option<usize>,
    /// Pool port (path) the socket is bound to.
    bound: Option<usize>,
    /// Connections waiting to be accepted (listeners).
    queue: VecDeque<usize>,
}

/// What the implementation under test can express, so that the model draws only operations it
/// can run (the reference runs the same ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    /// `listen` takes a backlog (`Feature::Backlog`); else `listen()`, whose larger default the
    /// model's queue limit stays well under.
    pub backlog: bool,
    /// `recv` takes `MSG_WAITALL` (`Feature::RecvFlags`). Without it the model never receives
    /// on a TCP connection with bytes queued: how many come back would depend on timing.
    pub waitall: bool,
    /// A stream `bind` is always followed at once by `listen`: for an implementation with no
    /// bound-but-idle stream socket (Rust's `std::net`, whose `TcpListener::bind` listens), so
    /// that the model never observes that state.
    pub listen_after_bind: bool,
    /// Calls that can only fail because of the socket's state are drawn: `accept` on a socket
    /// that is not listening, `send`, `recv`, `shutdown` or `getpeername` on one that is not
    /// connected, `listen` or `getsockname` on one never bound. An implementation over an API
    /// that has no object for such a socket (std's `TcpStream` exists only once connected)
    /// cannot make them.
    pub wrong_state_calls: bool,
    /// The implementation sets `SO_REUSEADDR` on every stream socket it binds (std's
    /// `TcpListener::bind` does, on Unix): the reference does too, so that the port rules
    /// compared are the same.
    pub reuse_addr_streams: bool,
    /// Every socket is put in timeout mode (`settimeout` of [`TIMEOUT_MODE`]) as soon as it
    /// exists, on both sides: Python's timeout mode waits for readiness before each call (CPython's
    /// `sock_call`), a path of its own worth comparing. Only for implementations with
    /// `Feature::TimeoutMode`.
    pub timeout_mode: bool,
}

/// The timeout of [`Profile::timeout_mode`]: far longer than any call the model draws takes.
pub const TIMEOUT_MODE: std::time::Duration = std::time::Duration::from_secs(4);

impl Default for Profile {
    fn default() -> Self {
        Profile {
            backlog: true,
            waitall: true,
            listen_after_bind: false,
            wrong_state_calls: true,
            reuse_addr_streams: false,
            timeout_mode: false,
        }
    }
}

impl Profile {
    /// This profile in timeout mode, drawing no call that can only fail because of the socket's
    /// state: in timeout mode Python waits for readiness before the call, and a socket that
    /// never becomes ready makes it wait the whole timeout (`accept` on a datagram socket raises
    /// `timeout` after it, where blocking mode fails at once with `EOPNOTSUPP`), which would
    /// only make sequences slow.
    pub fn for_timeout_mode(self) -> Profile {
        Profile {
            timeout_mode: true,
            wrong_state_calls: false,
            ..self
        }
    }

    /// The profile an implementation's declared capabilities give.
    pub fn of(capabilities: &crate::vocab::Capabilities) -> Profile {
        use crate::vocab::Feature;
        Profile {
            backlog: capabilities.features.contains(&Feature::Backlog),
            waitall: capabilities.features.contains(&Feature::RecvFlags),
            listen_after_bind: false,
            wrong_state_calls: true,
            reuse_addr_streams: false,
            timeout_mode: false,
        }
    }
}

/// The model of one sequence's sockets.
#[derive(Debug, Default)]
pub struct Model {
    /// What may be drawn.
    pub profile: Profile,
    /// A stream socket just bound, to be made to listen next (`Profile::listen_after_bind`).
    must_listen: Option<usize>,
    socks: Vec<Sock>,
    /// The socket bound to each pool port or path, per kind: TCP, UDP, Unix stream, Unix
    /// datagram (see [`kind`]).
    owners: [[Option<usize>; POOL]; 4],
}

impl Model {
    /// A model drawing what `profile` allows.
    pub fn with(profile: Profile) -> Model {
        Model {
            profile,
            ..Model::default()
        }
    }

    /// The operation this intention means now, or `None` when it would block (or is unsafe).
    pub fn choose(&self, i: &Intention) -> Option<Op> {
        let op = self.choose_any(i)?;
        (self.profile.wrong_state_calls || self.in_state(&op)).then_some(op)
    }

    /// Whether `op` suits its socket's state (see `Profile::wrong_state_calls`). Calls on a
    /// closed socket always do: they fail with EBADF whatever it was.
    fn in_state(&self, op: &Op) -> bool {
        let socket = match *op {
            Op::Socket { .. } | Op::Close { .. } => return true,
            Op::Bind { socket, .. }
            | Op::Listen { socket, .. }
            | Op::Connect { socket, .. }
            | Op::Accept { socket }
            | Op::Send { socket, .. }
            | Op::Recv { socket, .. }
            | Op::Shutdown { socket, .. }
            | Op::Getsockname { socket }
            | Op::Getpeername { socket } => socket,
        };
        let s = &self.socks[socket];
        if s.closed {
            return true;
        }
        let fresh = s.bound.is_none() && s.link == Link::None && s.udp_peer.is_none();
        let connected = !s.udp && s.link != Link::None;
        match op {
            Op::Bind { .. } => fresh && !s.listening,
            Op::Listen { .. } => !s.udp && s.bound.is_some() && s.link == Link::None,
            Op::Connect { .. } => s.udp || (fresh && !s.listening),
            Op::Accept { .. } => s.listening,
            Op::Send { .. } => connected || s.udp_peer.is_some(),
            Op::Recv { .. } => connected || (s.udp && !fresh),
            Op::Shutdown { .. } => connected,
            Op::Getsockname { .. } => !fresh || s.listening,
            Op::Getpeername { .. } => connected || (s.udp && !fresh),
            Op::Socket { .. } | Op::Close { .. } => true,
        }
    }

    /// [`choose`](Model::choose), whatever the socket's state.
    fn choose_any(&self, i: &Intention) -> Option<Op> {
        if let Some(socket) = self.must_listen {
            return Some(Op::Listen {
                socket,
                backlog: self.profile.backlog,
            });
        }
        // Weighted so that connections form and carry data: closes are rare, sends and receives
        // common. Kind numbers: 0 socket, 1 bind, 2 listen, 3 connect, 4 accept, 5 send, 6 recv,
        // 7 shutdown, 8 close, 9 getsockname, 10 getpeername.
        const WEIGHTS: [u8; 24] = [
            0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 7, 8, 9, 10,
        ];
        let i = &Intention {
            kind: WEIGHTS[i.kind as usize % WEIGHTS.len()],
            ..*i
        };
        let n = self.socks.len();
        if i.kind % 11 == 0 {
            return (n < MAX_SOCKETS).then_some(Op::Socket {
                udp: i.arg % 3 == 0,
                unix: (i.arg / 3) % 3 == 0,
            });
        }
        if n == 0 {
            return None;
        }
        let socket = self.target(i, n);
        let s = &self.socks[socket];
        let listening: Vec<usize> = (0..POOL)
            .filter(|&p| {
                self.owners[kind(s.unix, false)][p]
                    .is_some_and(|l| self.socks[l].listening && !self.socks[l].closed)
            })
            .collect();
        // Connects mostly go where someone listens, so that connections form.
        let port = if i.kind == 3 && !listening.is_empty() && i.arg % 4 != 0 {
            listening[(i.arg as usize / 4) % listening.len()]
        } else {
            i.arg as usize % POOL
        };
        if s.closed {
            // Every call on a closed socket fails at once (EBADF); recv and accept included.
            return Some(match i.kind % 11 {
                1 => Op::Bind { socket, port },
                2 => Op::Listen {
                    socket,
                    backlog: self.profile.backlog,
                },
                3 => Op::Connect { socket, port },
                4 => Op::Accept { socket },
                5 => Op::Send { socket, len: 1 },
                6 => Op::Recv {
                    socket,
                    bufsize: 16,
                    waitall: false,
                },
                7 => Op::Shutdown {
                    socket,
                    write: true,
                },
                8 => Op::Close { socket },
                9 => Op::Getsockname { socket },
                _ => Op::Getpeername { socket },
            });
        }
        match i.kind % 11 {
            1 => Some(Op::Bind { socket, port }),
            2 => Some(Op::Listen {
                socket,
                backlog: self.profile.backlog,
            }),
            3 => {
                // A full listen queue drops the SYN: connect would wait. Leave it.
                let full = self.owners[kind(s.unix, false)][port]
                    .map(|l| &self.socks[l])
                    .is_some_and(|l| l.listening && l.queue.len() >= BACKLOG as usize);
                (s.udp || !full).then_some(Op::Connect { socket, port })
            }
            4 => {
                let would_wait = !s.udp && s.listening && s.queue.is_empty();
                (!would_wait && n < MAX_SOCKETS).then_some(Op::Accept { socket })
            }
            5 => {
                let len = 1 + i.arg as usize % 2048;
                if s.udp {
                    // Only to a datagram socket the model knows will take it.
                    return self
                        .receiver_of(socket)
                        .filter(|o| !self.socks[*o].closed && self.socks[*o].datagrams < 8)
                        .map(|_| Op::Send { socket, len });
                }
                match s.link {
                    Link::Peer(p) if !s.peer_gone && !s.write_shut => (self.socks[p].unread + len
                        <= MAX_QUEUED)
                        .then_some(Op::Send { socket, len }),
                    Link::Peer(_) if s.write_shut => Some(Op::Send { socket, len }),
                    Link::None if !s.listening => Some(Op::Send { socket, len }),
                    _ => None,
                }
            }
            6 => {
                let bufsize = 1 + i.arg as usize % 4096;
                if s.udp {
                    return (s.datagrams > 0).then_some(Op::Recv {
                        socket,
                        bufsize,
                        waitall: false,
                    });
                }
                match s.link {
                    _ if s.unread > 0 => self.profile.waitall.then_some(Op::Recv {
                        socket,
                        bufsize: bufsize.min(s.unread),
                        waitall: true,
                    }),
                    _ if s.ended || s.reset => Some(Op::Recv {
                        socket,
                        bufsize,
                        waitall: false,
                    }),
                    // Never connected: recv fails at once with ENOTCONN.
                    Link::None => Some(Op::Recv {
                        socket,
                        bufsize,
                        waitall: false,
                    }),
                    _ => None,
                }
            }
            7 => (!s.listening).then_some(Op::Shutdown {
                socket,
                write: i.arg % 2 == 0,
            }),
            // Closing with unread bytes resets the peer asynchronously: left alone.
            8 => (s.unread == 0).then_some(Op::Close { socket }),
            9 => Some(Op::Getsockname { socket }),
            _ => Some(Op::Getpeername { socket }),
        }
    }

    /// Follows the reference's outcome of `op`.
    pub fn apply(&mut self, op: &Op, outcome: &Outcome) {
        let ok = !matches!(outcome, Outcome::Error(_));
        if matches!(op, Op::Listen { .. }) {
            self.must_listen = None;
        }
        match *op {
            Op::Socket { udp, unix } if ok => self.socks.push(Sock {
                udp,
                unix,
                ..Sock::default()
            }),
            Op::Bind { socket, port } if ok => {
                self.socks[socket].bound = Some(port);
                if self.profile.listen_after_bind && !self.socks[socket].udp {
                    self.must_listen = Some(socket);
                }
                let s = &self.socks[socket];
                self.owners[kind(s.unix, s.udp)][port] = Some(socket);
            }
            Op::Listen { socket, .. } if ok => self.socks[socket].listening = true,
            Op::Connect { socket, port } if ok => {
                if self.socks[socket].udp {
                    self.socks[socket].udp_peer = Some(port);
                    return;
                }
                match self.owners[kind(self.socks[socket].unix, false)][port] {
                    Some(l) if self.socks[l].listening && l != socket => {
                        self.socks[l].queue.push_back(socket);
                        self.socks[socket].link = Link::Queued;
                    }
                    _ => self.socks[socket].link = Link::Unknown,
                }
            }
            Op::Accept { socket } if ok => {
                let client = self.socks[socket].queue.pop_front();
                let child = self.socks.len();
                let mut sock = Sock {
                    unix: self.socks[socket].unix,
                    ..Sock::default()
                };
                match client {
                    Some(c) => {
                        sock.link = Link::Peer(c);
                        self.socks[c].link = Link::Peer(child);
                    }
                    None => sock.link = Link::Unknown,
                }
                self.socks.push(sock);
            }
            Op::Send { socket, .. } => {
                if let (Outcome::Count(n), Some(target)) = (outcome, self.receiver_of(socket)) {
                    let target = &mut self.socks[target];
                    if target.udp {
                        target.datagrams += 1;
                    } else {
                        target.unread += n;
                    }
                }
            }
            Op::Recv { socket, .. } => {
                let s = &mut self.socks[socket];
                match outcome {
                    Outcome::Data(_) if s.udp => s.datagrams = s.datagrams.saturating_sub(1),
                    Outcome::Data(d) => s.unread = s.unread.saturating_sub(d.len()),
                    Outcome::Error(_) if s.reset => {
                        s.reset = false;
                        s.ended = true;
                    }
                    _ => {}
                }
            }
            Op::Shutdown { socket, write } if ok => {
                if write {
                    self.socks[socket].write_shut = true;
                    if let Link::Peer(p) = self.socks[socket].link {
                        self.socks[p].ended = true;
                        self.socks[p].peer_gone = true;
                    }
                } else {
                    self.socks[socket].ended = true;
                }
            }
            Op::Close { socket } if ok => {
                let s = &mut self.socks[socket];
                s.closed = true;
                let (link, queued) = (s.link, std::mem::take(&mut s.queue));
                if let Link::Peer(p) = link {
                    self.socks[p].ended = true;
                    self.socks[p].peer_gone = true;
                }
                for c in queued {
                    self.socks[c].reset = true;
                    self.socks[c].peer_gone = true;
                }
                // A Unix socket's file stays after close: binding its path fails, connecting
                // to it is refused, as the reference will say.
                for table in self.owners.iter_mut() {
                    for owner in table.iter_mut() {
                        if *owner == Some(socket) {
                            *owner = None;
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The socket an intention acts on. Three times in four, accept, send and recv go to a socket
    /// where they do something (a listener with a queued connection, a connected socket, one with
    /// bytes to read), so that sequences exchange data rather than mostly collect errors.
    fn target(&self, i: &Intention, n: usize) -> usize {
        let useful = |s: &Sock| match i.kind {
            4 => s.listening && !s.queue.is_empty(),
            5 => !s.closed && (matches!(s.link, Link::Peer(_)) || s.udp_peer.is_some()),
            6 => !s.closed && (s.unread > 0 || s.datagrams > 0),
            _ => false,
        };
        let candidates: Vec<usize> = (0..n).filter(|&k| useful(&self.socks[k])).collect();
        if candidates.is_empty() || i.arg % 4 == 0 {
            i.socket as usize % n
        } else {
            candidates[i.socket as usize % candidates.len()]
        }
    }

    /// Who receives what `socket` sends, if the model follows it.
    fn receiver_of(&self, socket: usize) -> Option<usize> {
        let s = &self.socks[socket];
        if s.udp {
            // A connected datagram socket only takes datagrams from its peer's address.
            let owner = s
                .udp_peer
                .and_then(|p| self.owners[kind(s.unix, true)][p])?;
            let accepts = match self.socks[owner].udp_peer {
                None => true,
                Some(q) => s.bound == Some(q),
            };
            return accepts.then_some(owner);
        }
        match s.link {
            Link::Peer(p) => Some(p),
            _ => None,
        }
    }
}
