//! "An implementation under test": the trait the runner drives, and what an implementation can do.
//!
//! The trait is handle-based (every socket is a [`Handle`] number, every argument plain data) so
//! that the same operations can be spoken over a pipe to an implementation in another language.
//! The runner opens one [`Session`] per actor; a handle belongs to the session that created it.
//!
//! Running a scenario against an implementation (here the reference; yours is any type that
//! implements [`Implementation`]):
//!
//! ```
//! use sockspec::reference::Reference;
//! use sockspec::requirements::Requirements;
//! use sockspec::runner::{run_scenario, RunOptions, Status};
//! use sockspec::scenario::{parse, ScenarioPath};
//! use std::path::{Path, PathBuf};
//!
//! let mut requirements = Requirements::default();
//! requirements
//!     .add_file(Path::new("example.md"), "### `example.echo` — an echo\n")
//!     .unwrap();
//! let yaml = r#"
//! title: A socketpair carries bytes both ways
//! requirements: [example.echo]
//! actors:
//!   a:
//!     - socketpair: {type: stream, as: [x, y]}
//!     - sendall: {socket: x, data: ping}
//!     - recv: {socket: y, bufsize: 16}
//!       expect: {data: ping}
//! "#;
//! let found = ScenarioPath { path: PathBuf::from("example.yaml"), id: "example".into() };
//! let scenario = parse(&found, yaml, &requirements).expect("the scenario is valid");
//! let result = run_scenario(&scenario, &Reference, &RunOptions::default());
//! assert_eq!(result.status, Status::Pass, "{}", result.explanation());
//! ```

pub mod clock;
mod mixed;
mod plain;
pub mod privileges;
mod within;

pub use crate::vocab::{Capabilities, Feature};
pub use clock::{Clock, RealClock};
pub use mixed::Mixed;
pub use plain::Plain;
pub use within::within;

// The table's result types, which the generated trait names (its argument types are named by
// their path).
use crate::operation::{
    Accepted, Call, Filled, FilledFrom, Message, Named, Opened, Pair, Ready, Received,
    ReceivedFrom, Reply,
};
use crate::vocab::Mode;
use std::sync::Arc;

pub use crate::operation::{Handle, SockResult};

/// An implementation of the socket API that scenarios can be run against.
pub trait Implementation: Send + Sync {
    /// The short name used on the command line and in test names (`reference`).
    fn name(&self) -> &str;

    /// Its version, for reports, where known (a driver's `hello` name and version).
    fn version(&self) -> Option<String> {
        None
    }

    /// What this implementation can express; scenarios needing more are reported `unsupported`.
    fn capabilities(&self) -> Capabilities;

    /// Opens a session: the scope that owns the sockets one actor creates.
    ///
    /// Dropping the session MUST close every socket still open in it.
    fn open_session(&self) -> Result<Box<dyn Session>, SessionError>;

    /// Opens `count` sessions at once, as the properties and the differential test do for the
    /// two ends of a connection; all of them, or the first error (the others opened are then
    /// dropped). One after the other by default; an implementation whose sessions each take long
    /// to open (a process to start) opens them side by side. (The runner opens each actor's
    /// session on the actor's own thread.)
    fn open_sessions(&self, count: usize) -> Result<Vec<Box<dyn Session>>, SessionError> {
        (0..count).map(|_| self.open_session()).collect()
    }

    /// Opens the session for the actor called `actor`. Only implementations that put different
    /// actors on different implementations ([`Mixed`]) need to look at the name.
    fn open_session_for(&self, actor: &str) -> Result<Box<dyn Session>, SessionError> {
        let _ = actor;
        self.open_session()
    }

    /// What the implementation that runs the actor called `actor` can express: this one's
    /// capabilities, except for implementations that put actors on others ([`Mixed`]).
    fn capabilities_of(&self, actor: &str) -> Capabilities {
        let _ = actor;
        self.capabilities()
    }

    /// The name of the implementation that runs the actor called `actor`: this one's, except for
    /// implementations that put actors on others ([`Mixed`]).
    fn implementation_of(&self, actor: &str) -> String {
        let _ = actor;
        self.name().to_string()
    }

    /// Opens the session of an actor the scenario marks `unprivileged`: its calls MUST be made
    /// without any capability. Only implementations that declare [`Feature::Unprivileged`] are
    /// asked. The default suits an in-process implementation whose calls run on the calling
    /// thread: the runner drops the actor thread's capabilities
    /// ([`privileges::drop_for_this_thread`]) before its first step. One that runs calls
    /// elsewhere (a process, a thread of its own) MUST drop them there.
    fn open_unprivileged_session_for(&self, actor: &str) -> Result<Box<dyn Session>, SessionError> {
        self.open_session_for(actor)
    }

    /// The most scenarios a run should keep in flight on this implementation when `--jobs`
    /// does not say, or `None` when its calls cost next to nothing beside the waits scenarios
    /// declare (an in-process implementation: the runner then keeps many waiting scenarios in
    /// flight, see [`crate::runner::default_jobs`]). An implementation whose every call costs
    /// CPU elsewhere (a driver's processes) gives a bound near the number of cores, so that its
    /// processes are not starved into missing the scenarios' timing checks.
    fn scenarios_at_once(&self) -> Option<usize> {
        None
    }

    /// The clock this implementation's calls take time on, in which the runner measures limits
    /// and `min_elapsed`: real time, unless the implementation simulates its own.
    fn clock(&self) -> Arc<dyn Clock> {
        Arc::new(RealClock::new())
    }

    /// A fresh instance for one scenario, on which the runner opens that scenario's sessions and
    /// reads its [`clock`](Implementation::clock), or `None` to use this one. A simulation gives
    /// each scenario a network (and a clock) of its own, gone when the instance is dropped.
    fn for_scenario(&self) -> Result<Option<Arc<dyn Implementation>>, SessionError> {
        Ok(None)
    }

    /// True when its sockets live on a network of its own (a simulation) that the operating
    /// system's sockets cannot reach: the runner then puts a scenario's `environment` actors on
    /// it too (the reference could not talk to it), and `closed:IP` names
    /// [`closed_port`](Implementation::closed_port) instead of a port the runner holds.
    fn own_network(&self) -> bool {
        false
    }

    /// On an implementation with its [own network](Implementation::own_network): a port on
    /// `ip` where nothing is and nothing will be bound during a scenario.
    fn closed_port(&self, ip: std::net::IpAddr) -> Option<std::net::SocketAddr> {
        let _ = ip;
        None
    }
}

/// A session could not be opened (e.g. a driver process failed to start).
#[derive(Debug, thiserror::Error)]
#[error("could not open a session of `{implementation}`: {reason}")]
pub struct SessionError {
    /// The implementation's name.
    pub implementation: String,
    /// What went wrong.
    pub reason: String,
}

impl SessionError {
    /// What a thread that opened a session of `implementation` gave: its result, or an error if
    /// it panicked.
    pub(crate) fn from_opening_thread(
        implementation: &str,
        joined: std::thread::Result<Result<Box<dyn Session>, SessionError>>,
    ) -> Result<Box<dyn Session>, SessionError> {
        joined.unwrap_or_else(|_| {
            Err(SessionError {
                implementation: implementation.to_string(),
                reason: "opening a session panicked".to_string(),
            })
        })
    }
}

/// A session that misbehaved in ending (see [`Session::end`]).
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct SessionEndError {
    /// The implementation's name.
    pub implementation: String,
    /// What it did wrong, naming the implementation, e.g. that driver `x` did not answer `bye`.
    pub reason: String,
}

/// Generates the [`Session`] trait: one method per operation of the table in
/// [`crate::operation`], each forwarding to [`Session::perform`] unless implemented.
macro_rules! session_trait {
    ($( $(#[$doc:meta])* $name:literal => $method:ident: $Variant:ident($Args:ident) -> $Ok:ty; )*) => {
        /// The socket operations, one method per Python `socket` method the suite checks (the
        /// table in [`crate::operation`]), and the hooks the runner's watchdog uses.
        ///
        /// Every method may be called from any thread, and a call that blocks MUST NOT stop calls
        /// on other handles. Their exact semantics are in `spec/`.
        ///
        /// Implement the operations you support; the others answer `unsupported` (through
        /// [`perform`](Session::perform)'s default), and scenarios that use them are reported
        /// `unsupported`. An implementation that speaks every operation the same way (a driver,
        /// which sends each call down a pipe) implements [`perform`](Session::perform) alone.
        pub trait Session: Send + Sync {
            $(
                $(#[$doc])*
                fn $method(&self, call: &crate::operation::$Args) -> SockResult<$Ok> {
                    match self.perform(&Call::$Variant(call.clone()))? {
                        Reply::$Variant(ok) => Ok(ok),
                        other => Err(crate::operation::mismatched($name, &other)),
                    }
                }
            )*

            /// Performs any call: what every operation method not implemented does. The default
            /// answers `unsupported`.
            fn perform(&self, call: &Call) -> SockResult<Reply> {
                Err(crate::operation::unsupported(call.name()))
            }

            /// Wakes any call blocked on `socket`, for the runner's watchdog.
            ///
            /// It MUST NOT change the socket's mode; after it the blocked call returns (with any result),
            /// and the runner reports the step as timed out. Unknown or closed handles are ignored.
            fn interrupt(&self, socket: Handle);

            /// Ends, by any means, whatever call this session is making, for the runner's watchdog: the
            /// call had no socket to [`interrupt`](Session::interrupt) (`socket`, `socketpair`), or
            /// interrupting it did not make it return. The session is not used again afterwards.
            ///
            /// An out-of-process implementation kills its process (and everything that process
            /// started), so the blocked call returns with an error. An in-process one may do nothing:
            /// the runner then stops waiting for the call and abandons its thread.
            fn abandon(&self) {}

            /// Ends the session once its scenario is over (the runner calls it before dropping the
            /// session, for every session of a scenario at once, so that their endings overlap). An
            /// error says how the implementation misbehaved in ending (a driver that did not answer
            /// `bye`); the scenario is then reported `error`. MUST be bounded in time.
            fn end(&self) -> Result<(), SessionEndError> {
                Ok(())
            }
        }
    };
}

crate::operation::operations!(brief => session_trait);

/// Generates [`dispatch`] from the table in [`crate::operation`].
macro_rules! dispatch_fn {
    ($( $(#[$doc:meta])* $name:literal => $method:ident: $Variant:ident($Args:ident) -> $Ok:ty; )*) => {
        /// Makes `call` through the session method that performs its operation.
        pub fn dispatch(session: &(impl Session + ?Sized), call: &Call) -> SockResult<Reply> {
            match call {
                $( Call::$Variant(args) => session.$method(args).map(Reply::$Variant), )*
            }
        }
    };
}

crate::operation::operations!(brief => dispatch_fn);
