//! The watchdog: bounds every socket call without changing the socket's mode.
//!
//! Sockets stay in the mode the scenario chose (putting them in timeout mode to get a time limit
//! would change the very behaviour under test). Instead an actor arms the watchdog before a call;
//! if the deadline passes, or the scenario aborts, the watchdog asks the implementation to
//! [`interrupt`](crate::implementation::Session::interrupt) the socket, which wakes the call.

use crate::implementation::{Handle, Session};
use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

struct Armed {
    handle: Option<Handle>,
    deadline: Instant,
    /// The deadline passed before the call returned.
    timed_out: bool,
    /// The implementation was asked to wake the call.
    interrupted: bool,
}

#[derive(Default)]
struct State {
    armed: HashMap<usize, Armed>,
    aborting: bool,
    stopped: bool,
}

/// One per scenario run; actors are known by index.
#[derive(Default)]
pub(crate) struct Watchdog {
    state: Mutex<State>,
    changed: Condvar,
}

impl Watchdog {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bounds the call actor `actor` is about to make on `handle`.
    pub fn arm(&self, actor: usize, handle: Option<Handle>, deadline: Instant) {
        self.lock().armed.insert(
            actor,
            Armed {
                handle,
                deadline,
                timed_out: false,
                interrupted: false,
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

    /// The watchdog's loop: sleeps until the nearest deadline (or a change), interrupts what
    /// expired. `sessions[i]` is actor i's session.
    pub fn run(&self, sessions: &[Box<dyn Session>]) {
        let mut state = self.lock();
        loop {
            if state.stopped {
                return;
            }
            let now = Instant::now();
            let mut to_interrupt = Vec::new();
            let aborting = state.aborting;
            for (actor, armed) in state.armed.iter_mut().filter(|(_, a)| !a.interrupted) {
                armed.timed_out = now >= armed.deadline;
                if armed.timed_out || aborting {
                    armed.interrupted = true;
                    if let Some(handle) = armed.handle {
                        to_interrupt.push((*actor, handle));
                    }
                }
            }
            if !to_interrupt.is_empty() {
                drop(state);
                for (actor, handle) in to_interrupt {
                    sessions[actor].interrupt(handle);
                }
                state = self.lock();
                continue;
            }
            let next = state
                .armed
                .values()
                .filter(|a| !a.interrupted)
                .map(|a| a.deadline)
                .min();
            state = match next {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
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
