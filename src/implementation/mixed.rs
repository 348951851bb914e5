//! Several implementations in one scenario: each actor on the implementation assigned to it,
//! so that, say, a server on `reference` talks to a client on `python` (interoperability).

use super::{Capabilities, Implementation, Session, SessionError};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Actors on the implementations assigned to them by name; the others on a default.
pub struct Mixed {
    name: String,
    default: Arc<dyn Implementation>,
    by_actor: BTreeMap<String, Arc<dyn Implementation>>,
}

impl Mixed {
    /// `by_actor` maps actor names to their implementation; other actors use `default`.
    pub fn new(
        default: Arc<dyn Implementation>,
        by_actor: BTreeMap<String, Arc<dyn Implementation>>,
    ) -> Mixed {
        let assigned: Vec<String> = by_actor
            .iter()
            .map(|(actor, i)| format!("{actor}={}", i.name()))
            .collect();
        let name = if assigned.is_empty() {
            default.name().to_string()
        } else {
            format!("{} ({})", default.name(), assigned.join(", "))
        };
        Mixed {
            name,
            default,
            by_actor,
        }
    }

    fn for_actor(&self, actor: &str) -> &dyn Implementation {
        self.by_actor
            .get(actor)
            .map_or(self.default.as_ref(), |i| i.as_ref())
    }
}

impl Implementation for Mixed {
    fn name(&self) -> &str {
        &self.name
    }

    /// What every implementation involved supports (a scenario may put any actor on any of them).
    fn capabilities(&self) -> Capabilities {
        let mut all = self.default.capabilities();
        for other in self.by_actor.values() {
            let c = other.capabilities();
            all.families.retain(|f| c.families.contains(f));
            all.types.retain(|t| c.types.contains(t));
            all.options.retain(|o| c.options.contains(o));
            all.features.retain(|x| c.features.contains(x));
        }
        all
    }

    fn open_session(&self) -> Result<Box<dyn Session>, SessionError> {
        self.default.open_session()
    }

    fn open_sessions(&self, count: usize) -> Result<Vec<Box<dyn Session>>, SessionError> {
        self.default.open_sessions(count)
    }

    fn capabilities_of(&self, actor: &str) -> Capabilities {
        self.for_actor(actor).capabilities()
    }

    fn implementation_of(&self, actor: &str) -> String {
        self.for_actor(actor).name().to_string()
    }

    fn open_session_for(&self, actor: &str) -> Result<Box<dyn Session>, SessionError> {
        self.for_actor(actor).open_session()
    }

    fn open_unprivileged_session_for(&self, actor: &str) -> Result<Box<dyn Session>, SessionError> {
        self.for_actor(actor).open_unprivileged_session_for(actor)
    }

    /// The tightest bound of the implementations involved (a scenario may use them all).
    fn scenarios_at_once(&self) -> Option<usize> {
        std::iter::once(&self.default)
            .chain(self.by_actor.values())
            .filter_map(|i| i.scenarios_at_once())
            .min()
    }
}
