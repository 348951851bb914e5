//! Environment actors (`environment: [peer]`): the actors that only build a scenario's situation
//! run on the reference implementation, so that an implementation is tested on what the
//! scenario is about, not on the set-up its API may not express.

use crate::implementation::{Capabilities, Implementation, Session, SessionError};
use crate::reference::Reference;

/// `under_test`, except that the actors named in `environment` run on the reference.
pub(crate) struct WithEnvironment<'a> {
    pub under_test: &'a dyn Implementation,
    pub environment: &'a [String],
}

impl WithEnvironment<'_> {
    fn for_actor(&self, actor: &str) -> &dyn Implementation {
        if self.environment.iter().any(|a| a == actor) {
            &Reference
        } else {
            self.under_test
        }
    }
}

impl Implementation for WithEnvironment<'_> {
    fn name(&self) -> &str {
        self.under_test.name()
    }

    fn capabilities(&self) -> Capabilities {
        self.under_test.capabilities()
    }

    fn capabilities_of(&self, actor: &str) -> Capabilities {
        self.for_actor(actor).capabilities_of(actor)
    }

    fn implementation_of(&self, actor: &str) -> String {
        self.for_actor(actor).implementation_of(actor)
    }

    fn open_session(&self) -> Result<Box<dyn Session>, SessionError> {
        self.under_test.open_session()
    }

    fn open_sessions(&self, count: usize) -> Result<Vec<Box<dyn Session>>, SessionError> {
        self.under_test.open_sessions(count)
    }

    fn open_session_for(&self, actor: &str) -> Result<Box<dyn Session>, SessionError> {
        self.for_actor(actor).open_session_for(actor)
    }

    fn open_unprivileged_session_for(&self, actor: &str) -> Result<Box<dyn Session>, SessionError> {
        self.for_actor(actor).open_unprivileged_session_for(actor)
    }
}
