//! The board the actors of one scenario share: captured values, raised signals, and the first
//! failure, which stops everyone.

use super::result::Failure;
use crate::implementation::Clock;
use crate::vocab::Address;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// Why a wait on the board ended without its value.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WaitError {
    /// Another actor failed; the scenario is stopping.
    Aborted,
    /// The deadline passed.
    Deadline,
}

#[derive(Default)]
struct State {
    values: HashMap<String, Address>,
    counts: HashMap<String, usize>,
    signals: HashSet<String>,
    failure: Option<Failure>,
    aborted: bool,
    /// The scenario was stopped from outside (`cancel`, e.g. on SIGINT).
    cancelled: bool,
    /// Actors that finished, or that the watchdog gave up on: no longer waited for.
    done: HashSet<usize>,
    /// Actors the watchdog gave up on (also in `done`).
    given_up: HashSet<usize>,
    /// The step each actor is at (its index), to say where a scenario that ran out of time was.
    at_step: HashMap<usize, usize>,
    /// Actors waiting on the board that released a simulated clock (see [`Board::wait_for`]).
    parked: usize,
    /// Counts the updates that held the clock again for the parked actors.
    generation: u64,
}

/// Shared between a scenario's actors. Every wait is bounded by a deadline and ends early when the
/// scenario aborts.
///
/// On a simulated clock, an actor that waits here releases the clock (it will not act until
/// another actor does something), and whoever updates the board holds it again for every such
/// actor before waking them, so the clock cannot move between the update and their waking.
#[derive(Default)]
pub(crate) struct Board {
    state: Mutex<State>,
    changed: Condvar,
    /// A simulated clock, told which actors wait.
    clock: Option<Arc<dyn Clock>>,
}

impl Board {
    /// A board whose waiting actors release `clock` (a simulated one) while they wait.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Board {
        Board {
            clock: clock.is_simulated().then_some(clock),
            ..Board::default()
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        let mut state = self.lock();
        f(&mut state);
        if let Some(clock) = &self.clock {
            for _ in 0..state.parked {
                clock.hold();
            }
            state.parked = 0;
            state.generation += 1;
        }
        drop(state);
        self.changed.notify_all();
    }

    /// Waits until `ready` yields a value, the scenario aborts, or the deadline passes. The
    /// caller is an actor: on a simulated clock it is parked (the clock released) while it
    /// waits, and running again (held) when this returns.
    fn wait_for<T>(
        &self,
        deadline: Instant,
        mut ready: impl FnMut(&State) -> Option<T>,
    ) -> Result<T, WaitError> {
        let mut ready = |state: &State| match ready(state) {
            Some(value) => Some(Ok(value)),
            None => state.aborted.then_some(Err(WaitError::Aborted)),
        };
        let Some(clock) = &self.clock else {
            return self
                .wait_until(deadline, ready)
                .unwrap_or(Err(WaitError::Deadline));
        };
        let mut state = self.lock();
        // The generation at which this actor parked, while it is parked.
        let mut parked: Option<u64> = None;
        loop {
            // An update since parking held the clock again for this actor.
            if parked.is_some_and(|at| at != state.generation) {
                parked = None;
            }
            let outcome = ready(&state);
            let left = deadline.saturating_duration_since(Instant::now());
            if outcome.is_some() || left.is_zero() {
                if parked.is_some() {
                    state.parked -= 1;
                    clock.hold();
                }
                return outcome.unwrap_or(Err(WaitError::Deadline));
            }
            if parked.is_none() {
                state.parked += 1;
                parked = Some(state.generation);
                clock.release();
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits until `ready` yields something or the deadline passes (`None`).
    fn wait_until<T>(
        &self,
        deadline: Instant,
        mut ready: impl FnMut(&State) -> Option<T>,
    ) -> Option<T> {
        let mut state = self.lock();
        loop {
            if let Some(value) = ready(&state) {
                return Some(value);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Stores a captured address.
    pub fn capture(&self, name: &str, address: Address) {
        self.update(|s| {
            s.values.insert(name.to_string(), address);
        });
    }

    /// Waits for a captured address.
    pub fn value(&self, name: &str, deadline: Instant) -> Result<Address, WaitError> {
        self.wait_for(deadline, |s| s.values.get(name).cloned())
    }

    /// Stores a captured count (what a `send` returned).
    pub fn capture_count(&self, name: &str, count: usize) {
        self.update(|s| {
            s.counts.insert(name.to_string(), count);
        });
    }

    /// Waits for a captured count.
    pub fn count(&self, name: &str, deadline: Instant) -> Result<usize, WaitError> {
        self.wait_for(deadline, |s| s.counts.get(name).copied())
    }

    /// Raises a signal.
    pub fn signal(&self, name: &str) {
        self.update(|s| {
            s.signals.insert(name.to_string());
        });
    }

    /// True once the signal has been raised.
    pub fn is_raised(&self, name: &str) -> bool {
        self.lock().signals.contains(name)
    }

    /// Waits for a signal.
    pub fn wait_signal(&self, name: &str, deadline: Instant) -> Result<(), WaitError> {
        self.wait_for(deadline, |s| s.signals.contains(name).then_some(()))
    }

    /// Records a failure and stops the scenario; only the first failure is kept.
    /// Returns true when this was the first.
    pub fn fail(&self, failure: Failure) -> bool {
        let mut first = false;
        self.update(|s| {
            if !s.aborted {
                s.failure = Some(failure);
                first = true;
            }
            s.aborted = true;
        });
        first
    }

    /// Stops the scenario without a step failure (its time limit passed).
    pub fn abort(&self) {
        self.update(|s| s.aborted = true);
    }

    /// True once the scenario is stopping.
    pub fn is_aborted(&self) -> bool {
        self.lock().aborted
    }

    /// Stops the scenario because the whole run is being stopped.
    pub fn cancel(&self) {
        self.update(|s| {
            s.aborted = true;
            s.cancelled = true;
        });
    }

    /// True once the scenario was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.lock().cancelled
    }

    /// Marks actor `actor` finished, or given up: the runner waits for it no longer.
    pub fn done(&self, actor: usize) {
        self.update(|s| {
            s.done.insert(actor);
        });
    }

    /// Notes that actor `actor` is starting its step `step` (an index).
    pub fn at_step(&self, actor: usize, step: usize) {
        self.lock().at_step.insert(actor, step);
    }

    /// The actors not done yet, each with the step it is at (if it has started one).
    pub fn unfinished(&self, count: usize) -> Vec<(usize, Option<usize>)> {
        let state = self.lock();
        (0..count)
            .filter(|actor| !state.done.contains(actor))
            .map(|actor| (actor, state.at_step.get(&actor).copied()))
            .collect()
    }

    /// Gives actor `actor` up: its call outlasted the watchdog; its thread is not waited for.
    pub fn give_up(&self, actor: usize) {
        self.update(|s| {
            s.done.insert(actor);
            s.given_up.insert(actor);
        });
    }

    /// True once actor `actor`'s thread has returned (it is [`done`](Board::done) and was not
    /// [given up](Board::give_up)); false for an actor still running or abandoned.
    pub fn has_returned(&self, actor: usize) -> bool {
        let state = self.lock();
        state.done.contains(&actor) && !state.given_up.contains(&actor)
    }

    /// Waits until `count` actors are done; false when the deadline passed first.
    pub fn wait_done(&self, count: usize, deadline: Instant) -> bool {
        // Not cut short by an abort: stopping actors are what is waited for then.
        self.wait_until(deadline, |state| (state.done.len() >= count).then_some(()))
            .is_some()
    }

    /// The first failure, if any.
    pub fn take_failure(&self) -> Option<Failure> {
        self.lock().failure.take()
    }
}
