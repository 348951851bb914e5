//! An implementation over turmoil-net (the `turmoil` feature): a simulated, deterministic socket
//! stack from the tokio-rs/turmoil repository, driven through its public, tokio-shaped shim
//! (`TcpListener`, `TcpStream`, `UdpSocket`).
//!
//! Each scenario runs on a fresh simulated network with one host (loopback only) and a virtual
//! clock ([`Implementation::for_scenario`]): calls wait on the simulation, never on real time,
//! and a scenario that waits out a timeout takes no real time. The simulation lives on a thread
//! of its own, since turmoil-net's `Net` is thread-local and its API async (see
//! `src/turmoil/sim.rs`).
//!
//! What the shim cannot express is declared (→ `unsupported`), never emulated by hand: Unix
//! sockets, socketpairs, backlogs, most options, `shutdown` of the reading side, receive flags
//! other than peek, `poll`, descriptors, and a non-blocking `connect`. Like std's, the shim has
//! no socket before bind or connect and no bound, idle stream socket: `bind` on a stream socket
//! is `TcpListener::bind` (bind and listen in one), recorded in `expectations/turmoil.yaml`.
//! Timeout mode is the simulation's clock bounding a call, as `tokio::time::timeout` around a
//! shim call does under turmoil's paused clock; non-blocking mode is one try with a no-op waker,
//! as the shim's `try_read`/`try_write`/`poll_accept` make it.

mod ops;
mod session;
mod sim;

use crate::implementation::clock::OnAdvance;
use crate::implementation::{Capabilities, Clock, Implementation, Session, SessionError};
use crate::operation::Call;
use crate::vocab::{Family, Feature, SocketOption, SocketType};
use session::TurmoilSession;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The turmoil-net this is built against, for reports.
const VERSION: &str = "turmoil-net 0.1.0";

/// The implementation's name, on the command line and in reports.
const NAME: &str = "turmoil";

/// The port `closed:IP` names: nothing in a scenario binds it, and turmoil-net picks ephemeral
/// ports from 49152 up, so nothing is ever there.
const CLOSED_PORT: u16 = 9;

/// How long dropping a simulation waits for its thread to end before leaving it behind.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// The operations the shim has no form of: no message headers, no raw option buffers, no
/// readiness `poll`, no descriptor, no query of a mode (the mode is this adapter's), and no
/// `socketpair`.
const UNEXPRESSIBLE_OPERATIONS: &[&str] = &[
    "sendmsg",
    "recvmsg",
    "setsockopt_bytes",
    "getsockopt_bytes",
    "poll",
    "gettimeout",
    "getblocking",
    "fileno",
    "socketpair",
];

/// turmoil-net, named `turmoil`. Sessions opened on it directly (by the property and
/// differential tests, which open their own) share one simulation; a scenario run gets a fresh
/// one through [`for_scenario`](Implementation::for_scenario).
#[derive(Default)]
pub struct Turmoil {
    shared: OnceLock<Result<Arc<World>, String>>,
}

impl Turmoil {
    /// turmoil-net, with no simulation started yet.
    pub fn new() -> Turmoil {
        Turmoil::default()
    }

    fn shared_world(&self) -> Result<Arc<World>, SessionError> {
        self.shared
            .get_or_init(|| World::start(false).map(Arc::new))
            .clone()
            .map_err(|reason| SessionError {
                implementation: NAME.to_string(),
                reason,
            })
    }
}

/// What the shim expresses.
fn capabilities() -> Capabilities {
    Capabilities {
        families: [Family::Inet, Family::Inet6].into_iter().collect(),
        types: [SocketType::Stream, SocketType::Dgram]
            .into_iter()
            .collect(),
        // `set_nodelay` (TcpStream), `set_broadcast` (UdpSocket), `set_ttl` (all three).
        options: [
            SocketOption::TcpNoDelay,
            SocketOption::Broadcast,
            SocketOption::IpTtl,
        ]
        .into_iter()
        .collect(),
        features: [
            Feature::UnboundSockets,
            Feature::NonBlockingMode,
            Feature::TimeoutMode,
            Feature::Shutdown,
            // MSG_PEEK (`peek`, `peek_from`) and MSG_DONTWAIT (one try, as `try_read`); a call
            // with MSG_WAITALL or MSG_TRUNC is answered unsupported.
            Feature::RecvFlags,
            // Host names, resolved as the shim resolves them (its DNS knows `localhost`).
            Feature::NameResolution,
        ]
        .into_iter()
        .collect(),
        operations: Some(Call::names_except(UNEXPRESSIBLE_OPERATIONS)),
        sockets: None,
        option_types: [
            (SocketOption::TcpNoDelay, [SocketType::Stream]),
            (SocketOption::Broadcast, [SocketType::Dgram]),
        ]
        .into_iter()
        .map(|(option, types)| (option, types.into_iter().collect()))
        .collect(),
        shapes: Default::default(),
    }
}

impl Implementation for Turmoil {
    fn name(&self) -> &str {
        NAME
    }

    fn version(&self) -> Option<String> {
        Some(VERSION.to_string())
    }

    fn capabilities(&self) -> Capabilities {
        capabilities()
    }

    fn open_session(&self) -> Result<Box<dyn Session>, SessionError> {
        self.shared_world()?.open_session("")
    }

    fn clock(&self) -> Arc<dyn Clock> {
        match self.shared_world() {
            Ok(world) => Arc::new(SimClock(Arc::clone(&world.sim))),
            Err(_) => Arc::new(crate::implementation::RealClock::new()),
        }
    }

    fn for_scenario(&self) -> Result<Option<Arc<dyn Implementation>>, SessionError> {
        let world = World::start(true).map_err(|reason| SessionError {
            implementation: NAME.to_string(),
            reason,
        })?;
        Ok(Some(Arc::new(ScenarioWorld(world))))
    }

    fn own_network(&self) -> bool {
        true
    }

    fn closed_port(&self, ip: IpAddr) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip, CLOSED_PORT))
    }
}

/// One simulation and its thread, which ends when this is dropped.
struct World {
    sim: Arc<sim::Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Disconnects when the thread has ended (in a mutex: an implementation is shared).
    ended: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
    /// Its sessions are the runner's actors, which the runner reports to the clock.
    managed: bool,
}

impl World {
    fn start(managed: bool) -> Result<World, String> {
        let (sim, thread, ended) = sim::start(managed)
            .map_err(|e| format!("cannot start the simulation's thread: {e}"))?;
        Ok(World {
            sim,
            thread: Some(thread),
            ended: std::sync::Mutex::new(ended),
            managed,
        })
    }

    /// A session for the actor called `actor`: in a scenario's simulation the runner reports it
    /// to the clock; otherwise the session holds the clock while it is not in a call.
    fn open_session(&self, actor: &str) -> Result<Box<dyn Session>, SessionError> {
        TurmoilSession::open(Arc::clone(&self.sim), !self.managed, actor)
            .map(|s| Box::new(s) as Box<dyn Session>)
            .ok_or_else(|| SessionError {
                implementation: NAME.to_string(),
                reason: "the simulation has ended".to_string(),
            })
    }
}

impl Drop for World {
    fn drop(&mut self) {
        // Without a sender the thread's receive ends, and it closes every socket.
        self.sim
            .sender
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some(thread) = self.thread.take() else {
            return;
        };
        // Bounded: a simulation stuck in turmoil-net is left behind rather than hang the run.
        let ended = self.ended.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(std::sync::mpsc::RecvTimeoutError::Disconnected) = ended.recv_timeout(STOP_GRACE)
        {
            let _ = thread.join();
        }
    }
}

/// The instance one scenario runs on: its own simulation and clock.
struct ScenarioWorld(World);

impl Implementation for ScenarioWorld {
    fn name(&self) -> &str {
        NAME
    }

    fn version(&self) -> Option<String> {
        Some(VERSION.to_string())
    }

    fn capabilities(&self) -> Capabilities {
        capabilities()
    }

    fn open_session(&self) -> Result<Box<dyn Session>, SessionError> {
        self.0.open_session("")
    }

    fn open_session_for(&self, actor: &str) -> Result<Box<dyn Session>, SessionError> {
        self.0.open_session(actor)
    }

    fn clock(&self) -> Arc<dyn Clock> {
        Arc::new(SimClock(Arc::clone(&self.0.sim)))
    }

    fn own_network(&self) -> bool {
        true
    }

    fn closed_port(&self, ip: IpAddr) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip, CLOSED_PORT))
    }
}

/// A simulation's virtual clock.
struct SimClock(Arc<sim::Shared>);

impl Clock for SimClock {
    fn now(&self) -> Duration {
        self.0.now()
    }

    fn is_simulated(&self) -> bool {
        true
    }

    fn wake_at(&self, at: Duration) {
        self.0.send(sim::Msg::WakeAt(at));
    }

    fn on_advance(&self, callback: OnAdvance) {
        self.0.send(sim::Msg::OnAdvance(callback));
    }

    fn hold(&self) {
        self.0.send(sim::Msg::Hold);
    }

    fn release(&self) {
        self.0.send(sim::Msg::Release);
    }
}
