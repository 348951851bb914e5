//! The simulation thread: one turmoil-net `Net` (a single host: loopback only), the sockets of
//! every session on it, the calls in flight as futures, and the virtual clock.
//!
//! turmoil-net's API is async and its `Net` lives in a thread-local, so everything touching it
//! runs on this one thread. Actor threads send it calls and block on the reply. The thread polls
//! the calls' futures itself (turmoil-net's kernel and shim need no tokio runtime: they are
//! `poll_fn`s over the kernel) and drives the fabric between polls (`egress_all`, which folds
//! loopback packets back inline), until nothing changes.
//!
//! For a scenario (a *managed* simulation, whose actors the runner reports to the clock) the
//! actors take turns, so that a run is the same every time whatever the threads' timing: the
//! simulation does something only when no actor runs (every one waits in a call, waits for
//! another actor, or has finished), and then one thing, in a fixed order: it answers one call
//! that has finished (the first by actor name), else starts one call that has arrived (the
//! first by actor name), else moves time. So at most one actor runs at a time, and what it sees
//! depends only on the scenario.
//!
//! Virtual time advances only when nothing else can happen: no actor runs, no call is waiting
//! to start or to be answered. Time then jumps to the next timer: a call in timeout mode, or a
//! limit the runner asked to be woken at.

use super::ops::{self, Table};
use crate::implementation::clock::OnAdvance;
use crate::implementation::Handle;
use crate::operation::SockResult;
use crate::operation::{Call, Reply};
use crate::vocab::{ErrorCode, SockError};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// A call's future, on the simulation thread.
pub(super) type CallFuture = Pin<Box<dyn Future<Output = SockResult<Reply>>>>;

/// What other threads ask of the simulation.
pub(super) enum Msg {
    /// A session opened. `holds`: it holds the clock while it is not in a call (a session used
    /// outside the runner, which does not report its actors). `key`: its place in the order in
    /// which the actors take turns (the actor's name).
    Open {
        session: u64,
        holds: bool,
        key: String,
    },
    /// A call, and where to answer it.
    Call {
        session: u64,
        call: Call,
        reply: mpsc::Sender<SockResult<Reply>>,
    },
    /// Wake the call blocked on this socket (the runner's watchdog).
    Interrupt { session: u64, handle: Handle },
    /// The session ended: its sockets close.
    Close { session: u64, holds: bool },
    /// An actor runs: time must not advance.
    Hold,
    /// An actor stopped running (it waits for another, or finished).
    Release,
    /// Let time stop at this instant (a limit the runner measures).
    WakeAt(Duration),
    /// Call this whenever time advances.
    OnAdvance(OnAdvance),
}

/// What the simulation shares with other threads.
pub(super) struct Shared {
    /// Virtual time since the simulation started, in nanoseconds.
    pub now: AtomicU64,
    /// Where messages go.
    pub sender: Mutex<Option<mpsc::Sender<Msg>>>,
}

impl Shared {
    /// Sends `msg`; false when the simulation is gone.
    pub fn send(&self, msg: Msg) -> bool {
        let sender = self.sender.lock().unwrap_or_else(|e| e.into_inner());
        sender.as_ref().is_some_and(|s| s.send(msg).is_ok())
    }

    /// Virtual time now.
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.now.load(Ordering::SeqCst))
    }
}

/// The error of a call that can never return: every session waits and nothing is scheduled.
fn deadlock() -> SockError {
    SockError {
        code: ErrorCode::Library,
        message: "deadlock: every session of the turmoil simulation waits in a call and nothing \
                  is scheduled, so this call could never return"
            .to_string(),
    }
}

/// A task's waker: turmoil-net's kernel wakes it (on this thread) when its socket is ready.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A call in flight.
struct Task {
    session: u64,
    handle: Option<Handle>,
    future: CallFuture,
    reply: mpsc::Sender<SockResult<Reply>>,
    /// When a call in timeout mode gives up.
    timer: Option<Duration>,
    woken: Arc<Flag>,
}

/// The state the simulation thread owns.
struct Sim {
    shared: Arc<Shared>,
    table: Table,
    tasks: BTreeMap<u64, Task>,
    next_task: u64,
    holds: i64,
    wakes: BTreeSet<Duration>,
    on_advance: Vec<OnAdvance>,
    /// Why the simulation can no longer be trusted (turmoil-net panicked).
    broken: Option<String>,
    /// Outside the runner (no watchdog sets limits): calls that wait for what can never come
    /// fail at once instead of waiting for a real-time bound. Such a simulation does not take
    /// turns either: nobody reports when its sessions' threads run.
    fail_deadlocks: bool,
    /// Each session's place in the order of turns.
    keys: BTreeMap<u64, String>,
    /// Calls that arrived and wait for their turn to start, in arrival order.
    queued: Vec<(u64, Call, mpsc::Sender<SockResult<Reply>>)>,
    /// Results that wait for their turn to be answered, in the order they came.
    outbox: Vec<(u64, mpsc::Sender<SockResult<Reply>>, SockResult<Reply>)>,
}

/// Starts a simulation on a thread of its own.
///
/// `managed`: the runner reports its actors to the clock and bounds every call; otherwise a
/// state where every session waits in a call and no timer is set is a deadlock, and its calls
/// fail at once. Returns what it shares, its thread, and a receiver that disconnects when the
/// thread has closed every socket and ended.
pub(super) fn start(
    managed: bool,
) -> std::io::Result<(Arc<Shared>, std::thread::JoinHandle<()>, mpsc::Receiver<()>)> {
    let (sender, receiver) = mpsc::channel();
    let shared = Arc::new(Shared {
        now: AtomicU64::new(0),
        sender: Mutex::new(Some(sender)),
    });
    let on_thread = Arc::clone(&shared);
    let (ended, ending) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("turmoil simulation".to_string())
        .spawn(move || {
            run(receiver, on_thread, !managed);
            drop(ended);
        })?;
    Ok((shared, thread, ending))
}

fn run(receiver: mpsc::Receiver<Msg>, shared: Arc<Shared>, fail_deadlocks: bool) {
    let mut net = turmoil_net::Net::new();
    // One host with no address of its own: 127.0.0.1 and ::1 only, as fixture::lo builds.
    net.add_host(Vec::<std::net::IpAddr>::new());
    let guard = net.enter();
    let mut sim = Sim {
        shared: Arc::clone(&shared),
        table: Table::default(),
        tasks: BTreeMap::new(),
        next_task: 0,
        holds: 0,
        wakes: BTreeSet::new(),
        on_advance: Vec::new(),
        broken: None,
        fail_deadlocks,
        keys: BTreeMap::new(),
        queued: Vec::new(),
        outbox: Vec::new(),
    };
    loop {
        let msg = match receiver.try_recv() {
            Ok(msg) => msg,
            Err(mpsc::TryRecvError::Disconnected) => break,
            Err(mpsc::TryRecvError::Empty) => {
                if sim.guarded(&guard, |sim, guard| sim.take_turn(guard)) {
                    continue;
                }
                match receiver.recv() {
                    Ok(msg) => msg,
                    Err(_) => break,
                }
            }
        };
        sim.guarded(&guard, |sim, guard| {
            sim.handle(msg);
            sim.settle(guard);
            true
        });
    }
    // Calls still waiting are answered: their simulation has ended.
    for (_, reply, _) in std::mem::take(&mut sim.queued) {
        drop(reply);
    }
    // Every socket closes here, on the thread whose Net they belong to, before the Net goes.
    sim.tasks.clear();
    sim.table = Table::default();
    drop(guard);
}

impl Sim {
    /// Runs `f`; a panic in turmoil-net breaks the simulation: every call in flight and every
    /// later call fails, naming the panic, instead of taking the process down.
    fn guarded(
        &mut self,
        guard: &turmoil_net::EnterGuard,
        f: impl FnOnce(&mut Sim, &turmoil_net::EnterGuard) -> bool,
    ) -> bool {
        if self.broken.is_some() {
            return f(self, guard);
        }
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self, guard))) {
            Ok(done) => done,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                self.broken = Some(format!("turmoil-net panicked: {message}"));
                for (_, task) in std::mem::take(&mut self.tasks) {
                    self.outbox
                        .push((task.session, task.reply, Err(self.broken_error())));
                }
                for (session, _, reply) in std::mem::take(&mut self.queued) {
                    self.outbox.push((session, reply, Err(self.broken_error())));
                }
                true
            }
        }
    }

    fn broken_error(&self) -> SockError {
        SockError {
            code: ErrorCode::Broken,
            message: self.broken.clone().unwrap_or_default(),
        }
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Open {
                session,
                holds,
                key,
            } => {
                self.table.open(session);
                self.keys.insert(session, key);
                if holds {
                    self.holds += 1;
                }
            }
            Msg::Close { session, holds } => {
                let ids: Vec<u64> = self
                    .tasks
                    .iter()
                    .filter(|(_, t)| t.session == session)
                    .map(|(id, _)| *id)
                    .collect();
                for id in ids {
                    self.finish(id, Err(SockError::errno(nix::errno::Errno::EBADF)));
                }
                self.queued.retain(|(s, _, _)| *s != session);
                self.outbox.retain(|(s, _, _)| *s != session);
                self.table.close(session);
                self.keys.remove(&session);
                if holds {
                    self.holds -= 1;
                }
            }
            Msg::Call {
                session,
                call,
                reply,
            } => {
                // The caller was running; it now waits in the simulation, for its turn.
                self.holds -= 1;
                if self.broken.is_some() {
                    self.outbox.push((session, reply, Err(self.broken_error())));
                    return;
                }
                self.queued.push((session, call, reply));
            }
            Msg::Interrupt { session, handle } => {
                let ids: Vec<u64> = self
                    .tasks
                    .iter()
                    .filter(|(_, t)| t.session == session && t.handle == Some(handle))
                    .map(|(id, _)| *id)
                    .collect();
                for id in ids {
                    self.finish(id, Err(SockError::errno(nix::errno::Errno::EINTR)));
                }
                // A call interrupted before its turn came never starts.
                let (interrupted, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.queued)
                    .into_iter()
                    .partition(|(s, call, _)| {
                        *s == session && ops::handle_of(call) == Some(handle)
                    });
                self.queued = kept;
                for (session, _, reply) in interrupted {
                    self.outbox.push((
                        session,
                        reply,
                        Err(SockError::errno(nix::errno::Errno::EINTR)),
                    ));
                }
            }
            Msg::Hold => self.holds += 1,
            Msg::Release => self.holds -= 1,
            Msg::WakeAt(at) => {
                if at > self.shared.now() {
                    self.wakes.insert(at);
                }
            }
            Msg::OnAdvance(callback) => self.on_advance.push(callback),
        }
    }

    /// Starts a call: made at once if it does not wait, else kept as a task.
    fn start(&mut self, session: u64, call: Call, reply: mpsc::Sender<SockResult<Reply>>) {
        let handle = ops::handle_of(&call);
        let prepared = ops::prepare(&mut self.table, session, call);
        let (future, mode) = match prepared {
            ops::Prepared::Done(result) => {
                self.outbox.push((session, reply, result));
                return;
            }
            ops::Prepared::Wait(future, mode) => (future, mode),
        };
        let woken = Arc::new(Flag(AtomicBool::new(true)));
        let mut task = Task {
            session,
            handle,
            future,
            reply,
            timer: None,
            woken,
        };
        match mode {
            ops::Wait::Block => {}
            ops::Wait::Timeout(limit) => task.timer = Some(self.shared.now() + limit),
            ops::Wait::NonBlocking(would_block) => {
                // One try, as the shim's try_read/try_write/poll_accept make it.
                // A waker nobody keeps: the call is not polled again.
                let waker = Waker::from(Arc::new(Flag(AtomicBool::new(false))));
                let mut cx = Context::from_waker(&waker);
                let result = match task.future.as_mut().poll(&mut cx) {
                    Poll::Ready(result) => result,
                    Poll::Pending => Err(would_block),
                };
                drop(task.future);
                self.outbox.push((session, task.reply, result));
                return;
            }
        }
        let id = self.next_task;
        self.next_task += 1;
        self.tasks.insert(id, task);
    }

    /// Forgets task `id` (dropping its future cancels the call); its result waits for its
    /// turn to be answered.
    fn finish(&mut self, id: u64, result: SockResult<Reply>) {
        if let Some(task) = self.tasks.remove(&id) {
            drop(task.future);
            self.outbox.push((task.session, task.reply, result));
        }
    }

    /// The place of `session` in the order of turns.
    fn key(&self, session: u64) -> (&str, u64) {
        (self.keys.get(&session).map_or("", String::as_str), session)
    }

    /// Does one thing when no actor runs (see the module's documentation), or everything that
    /// is ready outside a managed simulation; false when there was nothing to do.
    fn take_turn(&mut self, guard: &turmoil_net::EnterGuard) -> bool {
        let free = self.fail_deadlocks || self.holds <= 0;
        if !free {
            return false;
        }
        if !self.outbox.is_empty() {
            let count = if self.fail_deadlocks {
                self.outbox.len()
            } else {
                1
            };
            for _ in 0..count {
                let first = (0..self.outbox.len())
                    .min_by_key(|&i| self.key(self.outbox[i].0))
                    .expect("the outbox is not empty");
                let (_, reply, result) = self.outbox.remove(first);
                let _ = reply.send(result);
                // The caller runs again.
                self.holds += 1;
            }
            return true;
        }
        if !self.queued.is_empty() {
            let first = (0..self.queued.len())
                .min_by_key(|&i| self.key(self.queued[i].0))
                .expect("the queue is not empty");
            let (session, call, reply) = self.queued.remove(first);
            self.start(session, call, reply);
            self.settle(guard);
            return true;
        }
        self.holds <= 0 && self.advance(guard)
    }

    /// Polls woken tasks and moves packets until nothing changes.
    fn settle(&mut self, guard: &turmoil_net::EnterGuard) {
        let mut outbound = Vec::new();
        loop {
            let woken: Vec<u64> = self
                .tasks
                .iter()
                .filter(|(_, t)| t.woken.0.swap(false, Ordering::SeqCst))
                .map(|(id, _)| *id)
                .collect();
            for id in &woken {
                let Some(task) = self.tasks.get_mut(id) else {
                    continue;
                };
                let waker = Waker::from(Arc::clone(&task.woken));
                let mut cx = Context::from_waker(&waker);
                if let Poll::Ready(result) = task.future.as_mut().poll(&mut cx) {
                    self.finish(*id, result);
                }
            }
            // Loopback packets are delivered inside egress; anything else (there is no other
            // host) goes through the rules and the fabric as turmoil's own scheduler sends it.
            guard.egress_all(&mut outbound);
            for packet in outbound.drain(..) {
                match guard.evaluate(&packet) {
                    turmoil_net::Verdict::Drop => {}
                    _ => guard.deliver(packet),
                }
            }
            let again = self
                .tasks
                .values()
                .any(|t| t.woken.0.load(Ordering::SeqCst));
            if woken.is_empty() && !again {
                return;
            }
        }
    }

    /// Moves time to the next timer, if there is one and a call waits for time; true if it
    /// moved. With no call in flight nothing waits on the simulation: time stands still.
    fn advance(&mut self, guard: &turmoil_net::EnterGuard) -> bool {
        if self.tasks.is_empty() {
            return false;
        }
        let now = self.shared.now();
        let next_timer = self.tasks.values().filter_map(|t| t.timer).min();
        let next_wake = self.wakes.iter().copied().find(|w| *w > now);
        let Some(next) = [next_timer, next_wake].into_iter().flatten().min() else {
            if self.fail_deadlocks {
                let ids: Vec<u64> = self.tasks.keys().copied().collect();
                for id in ids {
                    self.finish(id, Err(deadlock()));
                }
                return true;
            }
            return false;
        };
        let next = next.max(now);
        self.shared
            .now
            .store(next.as_nanos() as u64, Ordering::SeqCst);
        self.wakes = self.wakes.split_off(&(next + Duration::from_nanos(1)));
        let expired: Vec<u64> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.timer.is_some_and(|at| at <= next))
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.finish(id, Err(SockError::new(ErrorCode::Timeout)));
        }
        self.settle(guard);
        // Synchronously, so that what the watchdog does at this instant (interrupting a call)
        // is in the queue before time can move again.
        for callback in self.on_advance.clone() {
            callback();
        }
        true
    }
}
