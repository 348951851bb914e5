//! The watchdog: bounds every socket call without changing the socket's mode.
//!
//! Sockets stay in the mode the scenario chose (putting them in timeout mode to get a time limit
//! would change the very behaviour under test). Instead an actor arms the watchdog before a call;
//! if the deadline passes, or the scenario aborts, the watchdog escalates until the call is over:
//!
//! 1. it asks the implementation to [`interrupt`](crate::implementation::Session::interrupt) the
//!    socket, which wakes the call (a call with no socket skips to 2);
//! 2. [`INTERRUPT_GRACE`] later, if the call has not returned, it asks the session to
//!    [`abandon`](crate::implementation::Session::abandon) it (a driver is killed);
//! 3. [`ABANDON_GRACE`] after that, it gives the actor up: the runner reports the step as timed
//!    out and stops waiting for its thread.
//!
//! So a call always ends, for the runner, within its limit plus [`ESCALATION`].
//!
//! Deadlines are in the implementation's [`Clock`]'s time; the escalations after them in real
//! time. On a simulated clock the watchdog does not sleep towards a deadline: the clock calls
//! [`due`](Watchdog::due) each time its time moves, and the runner acts on what is due at once.

use crate::implementation::{Clock, Handle, RealClock};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long an interrupted call has to return before its session is abandoned.
pub(crate) const INTERRUPT_GRACE: Duration = Duration::from_millis(300);
/// How long an abandoned call has to return before its actor is given up.
pub(crate) const ABANDON_GRACE: Duration = Duration::from_millis(300);
/// The most a call can outlast its deadline, for the runner.
pub(crate) const ESCALATION: Duration =
    Duration::from_millis(INTERRUPT_GRACE.as_millis() as u64 + ABANDON_GRACE.as_millis() as u64);

struct Armed {
    handle: Option<Handle>,
    /// The step's index in its actor, to name it if the actor is given up.
    step: usize,
    /// In the clock's time.
    deadline: Duration,
    /// The deadline passed before the call returned.
    timed_out: bool,
    /// When the implementation was asked to wake the call.
    interrupted: Option<Instant>,
    /// When the session was asked to end the call by any means.
    abandoned: Option<Instant>,
    /// The actor was given up.
    given_up: bool,
}

impl Armed {
    /// How long (in real time) until this call next needs the watchdog, if ever; `now` is the
    /// clock's time. A deadline on a simulated clock is not slept towards: the clock says when
    /// its time moves.
    fn next_escalation(&self, clock: &dyn Clock, now: Duration) -> Option<Duration> {
        match (self.interrupted, self.abandoned) {
            (None, _) if clock.is_simulated() => None,
            (None, _) => Some(self.deadline.saturating_sub(now)),
            (Some(at), None) => {
                Some((at + INTERRUPT_GRACE).saturating_duration_since(Instant::now()))
            }
            (Some(_), Some(at)) if !self.given_up => {
                Some((at + ABANDON_GRACE).saturating_duration_since(Instant::now()))
            }
            _ => None,
        }
    }

    /// Marks the call's deadline passed (or the scenario aborting) and says what to do first.
    fn expire(&mut self, actor: usize, timed_out: bool) -> Escalation {
        let now = Instant::now();
        self.timed_out = timed_out;
        self.interrupted = Some(now);
        match self.handle {
            Some(handle) => Escalation::Interrupt(actor, handle),
            None => {
                // Nothing to interrupt: straight to abandoning.
                self.abandoned = Some(now);
                Escalation::Abandon(actor)
            }
        }
    }
}

#[derive(Default)]
struct State {
    armed: HashMap<usize, Armed>,
    aborting: bool,
    stopped: bool,
}

/// What the watchdog asks the runner to do about one actor's call.
#[derive(Clone, Copy)]
pub(crate) enum Escalation {
    /// Ask actor `.0`'s session to wake the call on handle `.1`.
    Interrupt(usize, Handle),
    /// Ask actor `.0`'s session to end its call by any means.
    Abandon(usize),
    /// Give actor `.0` up; it was at its step `.1` (an index).
    GiveUp(usize, usize),
}

/// One per scenario run; actors are known by index.
pub(crate) struct Watchdog {
    state: Mutex<State>,
    changed: Condvar,
    /// The implementation's clock, which deadlines are in.
    clock: Arc<dyn Clock>,
}

impl Default for Watchdog {
    fn default() -> Self {
        Watchdog::new(Arc::new(RealClock::new()))
    }
}

impl Watchdog {
    /// A watchdog whose deadlines are in `clock`'s time.
    pub fn new(clock: Arc<dyn Clock>) -> Watchdog {
        Watchdog {
            state: Mutex::default(),
            changed: Condvar::new(),
            clock,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bounds the call actor `actor` is about to make, at its step `step`, on `handle`, until
    /// `deadline` in the clock's time.
    pub fn arm(&self, actor: usize, step: usize, handle: Option<Handle>, deadline: Duration) {
        self.clock.wake_at(deadline);
        self.lock().armed.insert(
            actor,
            Armed {
                handle,
                step,
                deadline,
                timed_out: false,
                interrupted: None,
                abandoned: None,
                given_up: false,
            },
        );
        self.changed.notify_all();
    }

    /// The call returned; true when its deadline had passed first.
    pub fn disarm(&self, actor: usize) -> bool {
        self.lock()
            .armed
            .remove(&actor)
            .is_some_and(|a| a.timed_out)
    }

    /// On a simulated clock: marks the call whose deadline has passed and returns what to do
    /// about it, for the clock's [`on_advance`](Clock::on_advance) to do at once. Of calls whose
    /// limits pass at the same instant only the first actor's is taken: its timeout stops the
    /// scenario, so the one reported is the same on every run.
    pub fn due(&self) -> Option<Escalation> {
        let now = self.clock.now();
        let mut state = self.lock();
        let due = state
            .armed
            .iter_mut()
            .filter(|(_, armed)| armed.interrupted.is_none() && now >= armed.deadline)
            .min_by_key(|(&actor, _)| actor)
            .map(|(&actor, armed)| armed.expire(actor, true));
        drop(state);
        // The loop sleeps towards the escalations that follow.
        self.changed.notify_all();
        due
    }

    /// Interrupts every armed call: the scenario is stopping.
    pub fn abort(&self) {
        self.lock().aborting = true;
        self.changed.notify_all();
    }

    /// Ends [`run`](Watchdog::run).
    pub fn stop(&self) {
        self.lock().stopped = true;
        self.changed.notify_all();
    }

    /// The watchdog's loop: sleeps until the nearest deadline or escalation (or a change), and
    /// hands what is due to `act`, which MUST return quickly (an implementation's interrupt may
    /// not: run it elsewhere), or the other actors' escalations wait.
    pub fn run(&self, act: impl Fn(Escalation)) {
        let mut state = self.lock();
        loop {
            if state.stopped {
                return;
            }
            let now = Instant::now();
            let clock_now = self.clock.now();
            let aborting = state.aborting;
            let mut actions = Vec::new();
            // A simulated clock's deadlines are handled by `due`, at the instant they pass.
            let simulated = self.clock.is_simulated();
            for (&actor, armed) in state.armed.iter_mut() {
                match (armed.interrupted, armed.abandoned) {
                    (None, _) if aborting || (!simulated && clock_now >= armed.deadline) => {
                        actions.push(armed.expire(actor, clock_now >= armed.deadline));
                    }
                    (Some(at), None) if now >= at + INTERRUPT_GRACE => {
                        armed.abandoned = Some(now);
                        actions.push(Escalation::Abandon(actor));
                    }
                    (Some(_), Some(at)) if !armed.given_up && now >= at + ABANDON_GRACE => {
                        armed.given_up = true;
                        actions.push(Escalation::GiveUp(actor, armed.step));
                    }
                    _ => {}
                }
            }
            if !actions.is_empty() {
                // Unlocked: the actors disarm meanwhile.
                drop(state);
                for action in actions {
                    act(action);
                }
                state = self.lock();
                continue;
            }
            let clock_now = self.clock.now();
            let next = state
                .armed
                .values()
                .filter_map(|armed| armed.next_escalation(self.clock.as_ref(), clock_now))
                .min();
            state = match next {
                Some(left) => {
                    self.changed
                        .wait_timeout(state, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => self.changed.wait(state).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}
