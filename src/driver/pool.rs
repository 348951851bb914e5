//! Warm driver processes: a driver that implements `reset` serves one session after another.
//!
//! Starting a driver (an interpreter, its imports, the handshake) costs far more than most
//! scenarios, so a session of a driver that declares `reset` in its `hello` ends with `reset`
//! instead of `bye`, and the process waits here, idle, for the next session of the same driver
//! and privilege. Only a process that did everything right goes back: not killed by the
//! watchdog, no protocol violation, `reset` answered `null` in time, nothing written since. Any
//! doubt and the process is ended as before (see [`DriverProcess::finish`]), never reused.

use super::process::DriverProcess;
use std::sync::{Arc, Mutex, MutexGuard};

/// The most idle processes one pool keeps; one more returned is ended instead. A run needs at
/// most one process per actor running at once, so this only bounds a run with very many jobs.
const MAX_IDLE: usize = 64;

/// The idle processes of one driver command at one privilege.
#[derive(Default)]
pub(crate) struct Pool {
    idle: Mutex<Vec<Arc<DriverProcess>>>,
}

impl Pool {
    fn idle(&self) -> MutexGuard<'_, Vec<Arc<DriverProcess>>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A warm process, if one is idle and still fit to serve (one that died or wrote something
    /// while idle is ended instead).
    pub fn take(&self) -> Option<Arc<DriverProcess>> {
        loop {
            let process = self.idle().pop()?;
            if process.is_reusable() {
                return Some(process);
            }
            process.kill();
            let _ = process.finish();
        }
    }

    /// Keeps `process`, which has just been reset, for the next session.
    pub fn put(&self, process: Arc<DriverProcess>) {
        let mut idle = self.idle();
        if idle.len() < MAX_IDLE {
            idle.push(process);
            return;
        }
        drop(idle);
        let _ = process.finish();
    }

    /// Says `bye` to every idle process, all at once, and waits (bounded) until each has exited
    /// and everything it started is gone. The pool can still be used afterwards.
    pub fn shut_down(&self) {
        let idle = std::mem::take(&mut *self.idle());
        std::thread::scope(|scope| {
            for process in &idle {
                let spawned = std::thread::Builder::new()
                    .name("driver bye".to_string())
                    .spawn_scoped(scope, move || {
                        let _ = process.finish();
                    });
                if spawned.is_err() {
                    let _ = process.finish();
                }
            }
        });
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pool {{ idle: {} }}", self.idle().len())
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shut_down();
    }
}
