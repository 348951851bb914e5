//! Model-based differential testing: random sequences of socket operations, run step by step on
//! an implementation and on the reference, compared outcome by outcome.
//!
//! Sequences are drawn as *intentions* (plain numbers) that a small model of socket state turns
//! into operations that cannot block for ever: `accept` only when a connection is queued, `recv`
//! only when the model knows bytes are queued (with `MSG_WAITALL` for exactly those bytes, so
//! the result does not depend on timing) or the stream has ended. Everything runs in blocking
//! mode, where timing only ever means a short wait, never a different outcome. The model follows
//! the reference's outcomes; each implementation gets its own pool of ports (for TCP and UDP)
//! and of paths (for Unix streams and datagrams, in a directory of its own), and addresses are
//! compared by their place in the pool. A Unix socket's file outlives it, so paths collide even
//! more than ports. A difference is rendered as a scenario (the sequence,
//! with the reference's outcomes as expectations) that `sockspec run` replays.

mod model;
mod render;

use crate::implementation::{dispatch, within, Handle, Implementation, Session};
use crate::operation::{
    AcceptCall, Accepted, Backlog, BindCall, Bytes, Call, CloseCall, ConnectCall, Filled,
    FilledFrom, GetpeernameCall, GetsocknameCall, ListenCall, Message, Named, Opened, Pair, Ready,
    Received, ReceivedFrom, RecvCall, Reply, SendCall, SetsockoptCall, SettimeoutCall,
    ShutdownCall, SocketCall,
};
use crate::vocab::{Address, Family, Mode, RecvFlags, Shutdown, SocketOption, SocketType};
pub use model::{Intention, Op, Profile};
use model::{Model, SocketKinds};
use std::hash::{BuildHasher, Hasher};

/// A sequence's result on one implementation, normalised for comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Success with nothing to compare.
    Ok,
    /// A count (send).
    Count(usize),
    /// Bytes (recv).
    Data(Vec<u8>),
    /// An option's value (getsockopt).
    Value(i64),
    /// An address, with pool ports as `P0`…, other ports as `ephemeral`.
    Address(String),
    /// Another value, as text (an operation the model does not make today).
    Other(String),
    /// An error, by name.
    Error(String),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Ok => f.write_str("ok"),
            Outcome::Count(n) => write!(f, "ok, {n}"),
            Outcome::Data(d) => write!(f, "ok, {} bytes", d.len()),
            Outcome::Value(v) => write!(f, "ok, value {v}"),
            Outcome::Address(a) | Outcome::Other(a) => write!(f, "ok, {a}"),
            Outcome::Error(e) => write!(f, "error {e}"),
        }
    }
}

/// How long a call may wait before the model is known to have chosen one that blocks.
const STALL: std::time::Duration = std::time::Duration::from_secs(5);

/// How many ports each run's pool holds: few, so that binds collide.
pub const POOL: usize = 3;

/// One implementation's side of a run: its session, its sockets and its pool.
struct Side {
    session: std::sync::Arc<dyn Session>,
    handles: Vec<Handle>,
    pool: Vec<u16>,
    /// Other ports in the order they appeared: `E0`, `E1`… (the same order on both sides).
    seen: Vec<u16>,
    /// Set `SO_REUSEADDR` before binding a stream socket (`Profile::reuse_addr_streams`).
    reuse_addr_streams: bool,
    /// Put each new socket in timeout mode (`Profile::timeout_mode`).
    timeout_mode: bool,
    /// The family and type of each socket.
    kinds: SocketKinds,
    /// Where the pool's paths are: `p0.sock`, `p1.sock`… (each side has its own directory, so
    /// paths, unlike ports, need no reserving).
    dir: tempfile::TempDir,
}

impl Side {
    fn new(implementation: &dyn Implementation, pool: Vec<u16>) -> Result<Side, SetupError> {
        let session: std::sync::Arc<dyn Session> = implementation.open_session()?.into();
        Ok(Side {
            session,
            handles: Vec::new(),
            pool,
            seen: Vec::new(),
            reuse_addr_streams: false,
            timeout_mode: false,
            kinds: SocketKinds::default(),
            dir: tempfile::tempdir().map_err(SetupError::TemporaryDirectory)?,
        })
    }

    /// The reference's side, running as `profile` says an implementation does by itself.
    fn reference(pool: Vec<u16>, profile: Profile) -> Result<Side, SetupError> {
        let mut side = Side::new(&crate::reference::Reference, pool)?;
        side.reuse_addr_streams = profile.reuse_addr_streams;
        side.timeout_mode = profile.timeout_mode;
        Ok(side)
    }

    /// Pool entry `port` for `socket`: a port on 127.0.0.1, or a path for a Unix socket.
    fn address(&self, socket: usize, port: usize) -> Address {
        if self.kinds.unix(socket) {
            return Address::UnixPath(self.dir.path().join(format!("p{}.sock", port % POOL)));
        }
        Address::from(("127.0.0.1", self.pool[port % POOL]))
    }

    fn normalise(&mut self, address: &Address) -> String {
        if let Address::UnixPath(path) = address {
            // A pool path by its place in the pool, like a port.
            if let Ok(name) = path.strip_prefix(self.dir.path()) {
                let name = name.to_string_lossy();
                if let Some(i) = name.strip_prefix('p').and_then(|n| n.strip_suffix(".sock")) {
                    return format!("unix:P{i}");
                }
            }
        }
        let Address::Ip(a) = address else {
            return address.to_string();
        };
        if let Some(i) = self.pool.iter().position(|p| *p == a.port()) {
            return format!("{}:P{i}", a.ip());
        }
        if a.port() == 0 {
            return format!("{}:0", a.ip());
        }
        let i = match self.seen.iter().position(|p| *p == a.port()) {
            Some(i) => i,
            None => {
                self.seen.push(a.port());
                self.seen.len() - 1
            }
        };
        format!("{}:E{i}", a.ip())
    }

    /// [`run`](Side::run), but a call still waiting after [`STALL`] has its sockets interrupted
    /// and is reported as `stalled`: the model chose a call that could block, which is a bug in
    /// the model, and must fail a test rather than hang it.
    fn run_bounded(&mut self, op: &Op) -> Outcome {
        let session = std::sync::Arc::clone(&self.session);
        let handles: Vec<(&dyn Session, Handle)> = self
            .handles
            .iter()
            .map(|h| (session.as_ref(), *h))
            .collect();
        match within(STALL, &handles, || self.run(op)) {
            (_, true) => Outcome::Error("stalled".to_string()),
            (outcome, false) => outcome,
        }
    }

    fn run(&mut self, op: &Op) -> Outcome {
        let handles = self.handles.clone();
        let h = |i: usize| handles[i];
        let s = self.session.as_ref();
        let call: Call = match *op {
            Op::Socket { udp, unix } => SocketCall {
                family: if unix { Family::Unix } else { Family::Inet },
                kind: if udp {
                    SocketType::Dgram
                } else {
                    SocketType::Stream
                },
            }
            .into(),
            Op::Bind { socket, port } => {
                if self.reuse_addr_streams && self.kinds.stream(socket) {
                    // Fails only on a closed socket, where bind fails the same way next.
                    let _ = s.setsockopt(&SetsockoptCall {
                        handle: h(socket),
                        option: SocketOption::ReuseAddr,
                        value: 1,
                    });
                }
                BindCall {
                    handle: h(socket),
                    address: self.address(socket, port),
                }
                .into()
            }
            Op::Listen { socket, backlog } => ListenCall {
                handle: h(socket),
                backlog: backlog.then_some(Backlog(model::BACKLOG)),
            }
            .into(),
            Op::Connect { socket, port } => ConnectCall {
                handle: h(socket),
                address: self.address(socket, port),
            }
            .into(),
            Op::Accept { socket } => AcceptCall { handle: h(socket) }.into(),
            Op::Send { socket, len } => SendCall {
                handle: h(socket),
                data: Bytes(model::bytes(len)),
            }
            .into(),
            Op::Recv {
                socket,
                bufsize,
                waitall,
            } => RecvCall {
                handle: h(socket),
                bufsize,
                flags: RecvFlags {
                    waitall,
                    ..RecvFlags::default()
                },
            }
            .into(),
            Op::Shutdown { socket, write } => ShutdownCall {
                handle: h(socket),
                how: if write {
                    Shutdown::Write
                } else {
                    Shutdown::Read
                },
            }
            .into(),
            Op::Close { socket } => CloseCall { handle: h(socket) }.into(),
            Op::Getsockname { socket } => GetsocknameCall { handle: h(socket) }.into(),
            Op::Getpeername { socket } => GetpeernameCall { handle: h(socket) }.into(),
        };
        let timeout_mode = self.timeout_mode;
        let in_timeout_mode = |handle: Handle| {
            if timeout_mode {
                // Fails only where the next call fails the same way.
                let _ = s.settimeout(&SettimeoutCall {
                    handle,
                    timeout: Mode::Timeout(model::TIMEOUT_MODE),
                });
            }
        };
        let result = dispatch(s, &call).map(|reply| {
            let created = reply.created();
            let outcome = compared(reply);
            for &handle in &created {
                in_timeout_mode(handle);
            }
            if !created.is_empty() {
                self.handles.extend(created);
                self.kinds.note(op);
            }
            outcome
        });
        match result {
            Ok(Outcome::Address(text)) => match text.parse::<Address>() {
                Ok(address) => Outcome::Address(self.normalise(&address)),
                Err(_) => Outcome::Address(text),
            },
            Ok(other) => other,
            Err(e) => Outcome::Error(e.code.name()),
        }
    }
}

/// Two disjoint pools of ports, free for TCP and UDP a moment ago, taken from below the
/// kernel's ephemeral range: a port the kernel hands out for an implicit bind (connect, listen,
/// sendto) then never lands on a pool port between two steps, on one side only.
fn reserve_pools() -> Result<(Vec<u16>, Vec<u16>), SetupError> {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| {
            r.split_whitespace()
                .next()
                .and_then(|p| p.parse::<u16>().ok())
        })
        .unwrap_or(32768);
    let (first, last) = (10_000u16.min(low / 2), low.saturating_sub(1));
    // One cursor for the whole process walks the range, so runs going on at the same time in this
    // process never draw the same ports (a pool is released before the next run uses it, and the
    // cursor comes back to it only after the whole range). The cursor starts at a random place so
    // that separate processes rarely meet.
    static CURSOR: std::sync::OnceLock<std::sync::atomic::AtomicU64> = std::sync::OnceLock::new();
    let cursor = CURSOR.get_or_init(|| {
        std::sync::atomic::AtomicU64::new(
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish(),
        )
    });
    let span = u64::from(last - first) + 1;
    let mut held = Vec::new();
    let mut ports = Vec::new();
    for _ in 0..span {
        if ports.len() == 2 * POOL {
            break;
        }
        let k = cursor.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let port = first + (k % span) as u16;
        if ports.contains(&port) {
            continue;
        }
        // Free for both protocols, and kept so until every port is chosen.
        // The TCP probe binds as the sequence will, without SO_REUSEADDR (which std's listener
        // would set), so that a port with connections lingering in TIME_WAIT counts as taken.
        let address = socket2::SockAddr::from(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
        let tcp = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .and_then(|t| t.bind(&address).map(|()| t));
        if let (Ok(t), Ok(u)) = (tcp, std::net::UdpSocket::bind(("127.0.0.1", port))) {
            held.push((t, u));
            ports.push(port);
        }
    }
    if ports.len() < 2 * POOL {
        return Err(SetupError::NoFreePorts);
    }
    let theirs = ports.split_off(POOL);
    Ok((ports, theirs))
}

/// Why a sequence could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// No pool of free ports could be found below the kernel's ephemeral range.
    #[error("no free ports below the ephemeral range")]
    NoFreePorts,
    /// A session would not open.
    #[error(transparent)]
    Session(#[from] crate::implementation::SessionError),
    /// The directory for Unix socket paths could not be made.
    #[error("temporary directory: {0}")]
    TemporaryDirectory(std::io::Error),
}

/// Why a comparison did not come out equal.
#[derive(Debug)]
pub enum CompareError {
    /// The run could not be set up (no free ports, a session that would not open).
    Setup(SetupError),
    /// The implementation did something other than the reference.
    Differs(Box<Difference>),
}

impl std::fmt::Display for CompareError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompareError::Setup(why) => write!(f, "the comparison could not be set up: {why}"),
            CompareError::Differs(d) => d.fmt(f),
        }
    }
}

/// Where an implementation first did something other than the reference.
#[derive(Clone, Debug)]
pub struct Difference {
    /// The implementation.
    pub implementation: String,
    /// The operations up to and including the differing one.
    pub ops: Vec<Op>,
    /// The reference's outcome of each of them.
    pub reference: Vec<Outcome>,
    /// What the implementation did at the last one.
    pub actual: Outcome,
    /// A scenario replaying the sequence with the reference's outcomes as expectations.
    pub fixture: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.ops.len();
        write!(
            f,
            "{} differs from the reference at step {n} ({:?}): the reference gave {}, it gave {}",
            self.implementation,
            self.ops[n - 1],
            self.reference[n - 1],
            self.actual
        )
    }
}

/// The scenario the intentions describe, with the reference's outcomes as expectations (what a
/// difference is written as).
pub fn scenario_of(intentions: &[Intention]) -> Result<String, SetupError> {
    scenario_of_with(intentions, Profile::default())
}

/// [`scenario_of`], drawing what `profile` allows, with the reference running as it does in
/// [`compare_with`] under that profile.
pub fn scenario_of_with(intentions: &[Intention], profile: Profile) -> Result<String, SetupError> {
    let (pool, _) = reserve_pools()?;
    let mut side = Side::reference(pool, profile)?;
    let mut model = Model::with(profile);
    let (mut ops, mut outcomes) = (Vec::new(), Vec::new());
    for intention in intentions {
        let Some(op) = model.choose(intention) else {
            continue;
        };
        let outcome = side.run_bounded(&op);
        model.apply(&op, &outcome);
        ops.push(op);
        outcomes.push(outcome);
    }
    Ok(render::scenario(&ops, &outcomes, profile))
}

/// Runs the sequence the intentions describe on `implementation` and on the reference, step by
/// step; the first difference, if any, else how many operations agreed. An operation the
/// implementation says it cannot express ends the comparison without a difference.
pub fn compare(
    implementation: &dyn Implementation,
    intentions: &[Intention],
) -> Result<usize, CompareError> {
    let profile = Profile::of(&implementation.capabilities());
    compare_with(implementation, intentions, profile)
}

/// [`compare`], drawing only what `profile` allows (for an implementation with known
/// limits beyond its declared capabilities, such as `std`'s listening `bind`).
pub fn compare_with(
    implementation: &dyn Implementation,
    intentions: &[Intention],
    profile: Profile,
) -> Result<usize, CompareError> {
    let (mine, theirs) = reserve_pools().map_err(CompareError::Setup)?;
    let mut expected = Side::reference(mine, profile).map_err(CompareError::Setup)?;
    let mut actual = Side::new(implementation, theirs).map_err(CompareError::Setup)?;
    actual.timeout_mode = profile.timeout_mode;
    let mut model = Model::with(profile);
    let (mut ops, mut outcomes) = (Vec::new(), Vec::new());
    for intention in intentions {
        let Some(op) = model.choose(intention) else {
            continue;
        };
        let want = expected.run_bounded(&op);
        let got = actual.run_bounded(&op);
        ops.push(op);
        outcomes.push(want.clone());
        if got == Outcome::Error("unsupported".to_string()) {
            return Ok(ops.len() - 1);
        }
        if got != want {
            let fixture = render::scenario(&ops, &outcomes, profile);
            return Err(CompareError::Differs(Box::new(Difference {
                implementation: implementation.name().to_string(),
                ops,
                reference: outcomes,
                actual: got,
                fixture,
            })));
        }
        model.apply(&op, &want);
    }
    Ok(ops.len())
}

/// Random sequences of intentions, up to 60 each (what the differential search draws).
pub fn intentions() -> impl proptest::strategy::Strategy<Value = Vec<Intention>> {
    use proptest::prelude::*;
    prop::collection::vec(
        (any::<u8>(), any::<u8>(), any::<u16>()).prop_map(|(kind, socket, arg)| Intention {
            kind,
            socket,
            arg,
        }),
        1..60,
    )
}

/// Runs `search.cases` random sequences on `implementation` and on the reference under
/// `profile`. On a difference, shrinks it, writes its scenario to `search.out` (as the
/// property `differential`) and returns what differed with the scenario's path; else how many
/// operations agreed in all.
pub fn search(
    implementation: &dyn Implementation,
    profile: Profile,
    search: &crate::properties::search::Search,
) -> Result<usize, String> {
    use proptest::test_runner::TestCaseError;
    let agreed = std::sync::atomic::AtomicUsize::new(0);
    let path =
        crate::properties::regression_path(&search.out, "differential", implementation.name());
    search
        .runner()
        .run(&intentions(), |intentions| {
            let n = compare_with(implementation, &intentions, profile).map_err(|e| {
                if let CompareError::Differs(d) = &e {
                    // Written the way a property's counterexample is (whole, then renamed).
                    let _ = crate::properties::Counterexample {
                        property: "differential",
                        implementation: d.implementation.clone(),
                        message: d.to_string(),
                        fixture: d.fixture.clone(),
                    }
                    .write(&search.out);
                }
                TestCaseError::fail(e.to_string())
            })?;
            agreed.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        })
        .map_err(|e| format!("{e}\nscenario: {}", path.display()))?;
    Ok(agreed.into_inner())
}

/// What a call's result is to the comparison.
trait Compared {
    fn compared(self) -> Outcome;
}

macro_rules! compared_as {
    ($( $ty:ty => |$ok:pat_param| $outcome:expr; )*) => {
        $(
            impl Compared for $ty {
                fn compared(self) -> Outcome {
                    let $ok = self;
                    $outcome
                }
            }
        )*
    };
}

// The model makes only some operations; should it make others, they compare by their main value.
compared_as! {
    () => |()| Outcome::Ok;
    Opened => |_| Outcome::Ok;
    Pair => |_| Outcome::Ok;
    Accepted => |a| Outcome::Address(a.address.to_string());
    usize => |n| Outcome::Count(n);
    Received => |r| Outcome::Data(r.data.0);
    ReceivedFrom => |r| Outcome::Data(r.data.0);
    Named => |n| Outcome::Address(n.address.to_string());
    i64 => |v| Outcome::Value(v);
    bool => |b| Outcome::Value(i64::from(b));
    Message => |m| Outcome::Data(m.data.0);
    Filled => |f| Outcome::Count(f.count);
    FilledFrom => |f| Outcome::Count(f.count);
    Mode => |m| Outcome::Other(m.to_string());
    Ready => |r| Outcome::Other(format!("{:?}", r.events));
}

/// Generates [`compared`] from the table of operations.
macro_rules! compared_reply {
    ($( $(#[$doc:meta])* $name:literal => $method:ident: $Variant:ident($Args:ident) -> $Ok:ty; )*) => {
        /// What a call returned, as the comparison sees it.
        fn compared(reply: Reply) -> Outcome {
            match reply {
                $( Reply::$Variant(ok) => ok.compared(), )*
            }
        }
    };
}

crate::operation::operations!(brief => compared_reply);
