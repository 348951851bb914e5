//! The board the actors of one scenario share: captured values, raised signals, and the first
//! failure, which stops everyone.

use super::result::Failure;
use crate::vocab::Address;
use std::collections::{HashMap, HashSet};
use std::sync::{Condvar, Mutex, MutexGuard};
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
    signals: HashSet<String>,
    failure: Option<Failure>,
    aborted: bool,
    finished: usize,
}

/// Shared between a scenario's actors. Every wait is bounded by a deadline and ends early when the
/// scenario aborts.
#[derive(Default)]
pub(crate) struct Board {
    state: Mutex<State>,
    changed: Condvar,
}

impl Board {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.changed.notify_all();
    }

    /// Waits until `ready` yields a value, the scenario aborts, or the deadline passes.
    fn wait_for<T>(
        &self,
        deadline: Instant,
        mut ready: impl FnMut(&State) -> Option<T>,
    ) -> Result<T, WaitError> {
        let mut state = self.lock();
        loop {
            if let Some(value) = ready(&state) {
                return Ok(value);
            }
            if state.aborted {
                return Err(WaitError::Aborted);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(WaitError::Deadline);
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

    /// Marks one actor finished.
    pub fn finished(&self) {
        self.update(|s| s.finished += 1);
    }

    /// Waits until `count` actors have finished; false when the deadline passed first.
    pub fn wait_finished(&self, count: usize, deadline: Instant) -> bool {
        let mut state = self.lock();
        while state.finished < count {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// The first failure, if any.
    pub fn take_failure(&self) -> Option<Failure> {
        self.lock().failure.take()
    }
}
