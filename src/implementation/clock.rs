//! An implementation's time: the clock the runner measures step and scenario limits and
//! `min_elapsed` in.
//!
//! Real implementations run in real time ([`RealClock`], the default). A simulated one (turmoil)
//! has a virtual clock that moves only when nothing else can happen, so a scenario that waits
//! out a timeout takes no real time. Such a clock needs to know when the scenario's actors run:
//! its time MUST NOT advance while an actor is about to act (it would see a timeout that real
//! time would not have given). The runner therefore [holds](Clock::hold) the clock for each
//! running actor and [releases](Clock::release) it while the actor waits for another or once it
//! has finished; a session's calls are accounted by the implementation itself. The runner still
//! bounds every scenario in real time too, so a simulation that stops moving cannot hang a run.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// Something to call, on any thread, when a simulated clock's time has moved.
pub type OnAdvance = Arc<dyn Fn() + Send + Sync>;

/// The time an implementation runs in.
pub trait Clock: Send + Sync {
    /// The time since the clock started.
    fn now(&self) -> Duration;

    /// True for a simulated clock, whose time moves only as the implementation moves it; the
    /// runner then waits for [`on_advance`](Clock::on_advance) instead of sleeping.
    fn is_simulated(&self) -> bool {
        false
    }

    /// Asks that time stop at `at` (a limit the runner measures), so that a simulated clock
    /// that has nothing else to do moves to it rather than standing still. A real clock
    /// ignores it.
    fn wake_at(&self, at: Duration) {
        let _ = at;
    }

    /// Calls `callback` every time the time moves, before it moves again: what the callback
    /// does at that instant (interrupting a call whose limit passed) happens at that instant.
    fn on_advance(&self, callback: OnAdvance) {
        let _ = callback;
    }

    /// An actor runs: time must not move until it is [released](Clock::release).
    fn hold(&self) {}

    /// An actor stopped running: it waits for another actor, or it has finished.
    fn release(&self) {}
}

/// Real time, since the clock was made.
#[derive(Clone, Copy, Debug)]
pub struct RealClock {
    start: Instant,
}

impl RealClock {
    /// A clock that starts now.
    pub fn new() -> RealClock {
        RealClock {
            start: Instant::now(),
        }
    }
}

impl Default for RealClock {
    fn default() -> Self {
        RealClock::new()
    }
}

impl Clock for RealClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_real_clock_is_not_simulated_and_moves_with_real_time() {
        let clock = RealClock::new();
        assert!(!clock.is_simulated());
        let before = clock.now();
        let slept = Duration::from_millis(5);
        std::thread::sleep(slept);
        assert!(clock.now() >= before + slept);
        // The hooks for simulated clocks do nothing to it.
        clock.hold();
        clock.release();
        clock.wake_at(Duration::from_secs(1));
        assert!(clock.now() < Duration::from_secs(3600));
    }
}
