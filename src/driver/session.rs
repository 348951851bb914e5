//! A driver process behind the [`Session`] trait: each call is one request.

use super::pool::Pool;
use super::process::DriverProcess;
use crate::implementation::{Handle, Session, SessionEndError, SockResult};
use crate::operation::{Call, Reply};
use crate::vocab::{ErrorCode, SockError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a driver may take to answer `reset` before it is killed (as for `bye`).
const RESET_LIMIT: Duration = Duration::from_secs(1);

/// One actor's driver process.
pub(crate) struct DriverSession {
    process: Arc<DriverProcess>,
    /// Where the process goes after a successful `reset`; `None` for a driver without `reset`,
    /// whose process serves this session alone.
    pool: Option<Arc<Pool>>,
    ended: AtomicBool,
    /// Set, under its lock, when the process goes back to its pool: it then serves another
    /// session, and this one's late escalations (the watchdog's `interrupt` or `abandon` runs on
    /// a thread of its own, and can come after the scenario ended) must not kill it.
    released: Mutex<bool>,
}

impl DriverSession {
    /// A session on `process` (just past its handshake, or just reset), returned to `pool` at
    /// its end if it is still fit to serve.
    pub(crate) fn new(process: Arc<DriverProcess>, pool: Option<Arc<Pool>>) -> DriverSession {
        DriverSession {
            process,
            pool,
            ended: AtomicBool::new(false),
            released: Mutex::new(false),
        }
    }

    /// Kills the process, unless it went back to its pool.
    fn kill_unless_released(&self) {
        let released = self.released.lock().unwrap_or_else(|e| e.into_inner());
        if !*released {
            self.process.kill();
        }
    }

    fn end_error(&self, reason: String) -> SessionEndError {
        SessionEndError {
            implementation: self.process.name().to_string(),
            reason,
        }
    }
}

impl Session for DriverSession {
    /// Every operation is one request, its `ok` read as the type the operation promises.
    fn perform(&self, call: &Call) -> SockResult<Reply> {
        let fields = serde_json::to_value(call).map_err(|e| SockError {
            code: ErrorCode::Broken,
            message: format!("sockspec could not write `{}` as JSON: {e}", call.name()),
        })?;
        let ok = self.process.request(call.name(), fields)?;
        call.reply_from(ok.clone()).map_err(|e| {
            self.process.mark_misbehaved();
            SockError {
                code: ErrorCode::Broken,
                message: format!(
                    "driver answered `{}` with a malformed result: {ok} ({e})",
                    call.name()
                ),
            }
        })
    }

    fn interrupt(&self, _socket: Handle) {
        // A driver handles one request at a time, so a blocked call can only be ended by ending
        // the process; the scenario is failing or stopping anyway.
        self.kill_unless_released();
    }

    fn abandon(&self) {
        self.kill_unless_released();
    }

    /// `reset`, and the process back to its pool, if the driver has `reset` and did nothing
    /// wrong; otherwise `bye` (or the kill of a process that cannot serve again). A driver that
    /// fails its `reset` is killed, and the failure is this session's error.
    fn end(&self) -> Result<(), SessionEndError> {
        if self.ended.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        if let Some(pool) = &self.pool {
            if self.process.is_reusable() {
                return match self.process.reset(RESET_LIMIT) {
                    Ok(()) => {
                        // A kill before this point leaves a process the pool will not hand out.
                        let mut released = self.released.lock().unwrap_or_else(|e| e.into_inner());
                        *released = true;
                        pool.put(Arc::clone(&self.process));
                        Ok(())
                    }
                    Err(reason) => {
                        let _ = self.process.finish();
                        Err(self.end_error(reason))
                    }
                };
            }
        }
        self.process
            .finish()
            .map_err(|reason| self.end_error(reason))
    }
}
