//! A session: an actor's calls, sent to the simulation thread and answered from it.

use super::sim::{Msg, Shared};
use crate::implementation::{Handle, Session, SockResult};
use crate::operation::{Call, Reply};
use crate::vocab::{ErrorCode, SockError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

/// Sessions are numbered across every simulation, so a number is never reused.
static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

/// One actor's sockets, which live on the simulation thread.
pub(crate) struct TurmoilSession {
    sim: Arc<Shared>,
    id: u64,
    /// It holds the simulation's clock while it is open and not in a call (a session opened
    /// outside the runner, whose actors nobody reports).
    holds: bool,
}

impl TurmoilSession {
    /// Opens a session on the simulation `sim`, for the actor called `key` (which orders the
    /// actors' turns).
    pub fn open(sim: Arc<Shared>, holds: bool, key: &str) -> Option<TurmoilSession> {
        let id = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
        sim.send(Msg::Open {
            session: id,
            holds,
            key: key.to_string(),
        })
        .then_some(TurmoilSession { sim, id, holds })
    }
}

fn ended() -> SockError {
    SockError {
        code: ErrorCode::Broken,
        message: "the turmoil simulation has ended".to_string(),
    }
}

impl Session for TurmoilSession {
    fn perform(&self, call: &Call) -> SockResult<Reply> {
        let (reply, answer) = mpsc::channel();
        let sent = self.sim.send(Msg::Call {
            session: self.id,
            call: call.clone(),
            reply,
        });
        if !sent {
            return Err(ended());
        }
        answer.recv().unwrap_or_else(|_| Err(ended()))
    }

    fn interrupt(&self, socket: Handle) {
        self.sim.send(Msg::Interrupt {
            session: self.id,
            handle: socket,
        });
    }
}

impl Drop for TurmoilSession {
    fn drop(&mut self) {
        self.sim.send(Msg::Close {
            session: self.id,
            holds: self.holds,
        });
    }
}
