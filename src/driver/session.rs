//! A driver process behind the [`Session`] trait: each call is one request.

use super::process::DriverProcess;
use crate::implementation::{Handle, Session, SessionEndError, SockResult};
use crate::operation::{Call, Reply};
use crate::vocab::{ErrorCode, SockError};

/// One actor's driver process.
pub(crate) struct DriverSession {
    pub(crate) process: DriverProcess,
}

impl Session for DriverSession {
    /// Every operation is one request, its `ok` read as the type the operation promises.
    fn perform(&self, call: &Call) -> SockResult<Reply> {
        let fields = serde_json::to_value(call).map_err(|e| SockError {
            code: ErrorCode::Broken,
            message: format!("sockspec could not write `{}` as JSON: {e}", call.name()),
        })?;
        let ok = self.process.request(call.name(), fields)?;
        call.reply_from(ok.clone()).map_err(|e| SockError {
            code: ErrorCode::Broken,
            message: format!(
                "driver answered `{}` with a malformed result: {ok} ({e})",
                call.name()
            ),
        })
    }

    fn interrupt(&self, _socket: Handle) {
        // A driver handles one request at a time, so a blocked call can only be ended by ending
        // the process; the scenario is failing or stopping anyway.
        self.process.kill();
    }

    fn abandon(&self) {
        self.process.kill();
    }

    fn end(&self) -> Result<(), SessionEndError> {
        self.process.finish().map_err(|reason| SessionEndError {
            implementation: self.process.name().to_string(),
            reason,
        })
    }
}
