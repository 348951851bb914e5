//! Out-of-process implementations: drivers that speak the JSON-lines protocol of
//! `spec/driver-protocol.md` on their standard input and output.
//!
//! The runner gives each actor a driver process of its own, so a blocking call in one actor
//! never stops another; the watchdog ends a blocked call by killing that process. A driver that
//! declares `reset` in its `hello` is kept warm: at the end of a session its process is reset and
//! waits in a pool for the next session (`pool.rs` says which may), instead of a new process for
//! every actor of every scenario.

mod handshakes;
mod pipes;
mod pool;
mod probe;
mod process;
mod relaunch;
pub mod schema;
mod session;
mod tree;

pub use handshakes::remember_handshakes;
pub use pipes::{MAX_LINE, STDERR_TAIL};
pub use probe::{check_protocol, check_reset, Finding, Verdict};
pub use tree::{become_subreaper, kill_all_drivers, TOKEN_VARIABLE};

use crate::implementation::{Capabilities, Implementation, Session, SessionError};
use crate::vocab::SockError;
use pool::Pool;
use process::{DriverProcess, Launch};
use serde::Deserialize;
use serde_json::json;
use session::DriverSession;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The protocol version this runner speaks, and asks for in `hello`.
pub const PROTOCOL_VERSION: u32 = 2;

/// The versions it accepts: a version 1 driver is served as before (its replies cannot use
/// what version 2 added).
pub const ACCEPTED_VERSIONS: [u32; 2] = [1, 2];

/// How long a driver may take to answer `hello` (and, in `driver-check`, any request made outside
/// a scenario) before it is killed: 10 s, unless [`HELLO_TIMEOUT_VARIABLE`] says otherwise.
pub const HELLO_LIMIT: Duration = Duration::from_secs(10);

/// The environment variable that sets the `hello` limit (`SOCKSPEC_HELLO_TIMEOUT=30s`).
pub const HELLO_TIMEOUT_VARIABLE: &str = "SOCKSPEC_HELLO_TIMEOUT";

/// The `hello` limit in force: [`HELLO_TIMEOUT_VARIABLE`] if it holds a duration, else
/// [`HELLO_LIMIT`].
pub fn hello_limit() -> Duration {
    std::env::var(HELLO_TIMEOUT_VARIABLE)
        .ok()
        .and_then(|v| humantime::parse_duration(v.trim()).ok())
        .filter(|d| !d.is_zero())
        .unwrap_or(HELLO_LIMIT)
}

/// What a driver says about itself in the handshake.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[schemars(title = "The hello reply: who the driver is and what it supports")]
pub struct Hello {
    /// The protocol version it speaks.
    pub protocol: u32,
    /// Its implementation's name (`cpython`).
    pub name: String,
    /// Its implementation's version.
    pub version: String,
    /// What it supports.
    pub capabilities: Capabilities,
    /// True if it implements `reset` (driver-protocol.md §1): one process then serves many
    /// sessions. A driver that leaves it out gets one process per actor.
    #[serde(default)]
    pub reset: bool,
}

/// The directory a driver's processes run in: `dir`, or else the current directory (empty if
/// that is unknown, which nothing then matches).
fn directory(dir: Option<&Path>) -> PathBuf {
    dir.map_or_else(
        || std::env::current_dir().unwrap_or_default(),
        Path::to_path_buf,
    )
}

/// A driver that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The handshake failed: the driver did not start, crashed, or answered wrongly.
    #[error("driver `{name}` (`{command}`) failed its handshake: {reason}")]
    Handshake {
        /// The driver's name.
        name: String,
        /// Its command.
        command: String,
        /// What went wrong.
        reason: String,
    },
    /// A driver configuration file is wrong.
    #[error("{0}")]
    Config(String),
}

/// An implementation behind a driver command.
#[derive(Clone, Debug)]
pub struct Driver {
    name: String,
    command: String,
    dir: Option<PathBuf>,
    hello: Hello,
    /// The `hello` reply as it came: every later process of the driver must give the same.
    reply: serde_json::Value,
    /// How to start a process of the driver without its command's shell and launchers, when
    /// that is the same start (see [`relaunch`]).
    relaunch: Option<relaunch::Relaunch>,
    /// The warm processes of a driver with `reset`, privileged and unprivileged (a process
    /// started without capabilities never serves a privileged actor, nor the reverse). Shared by
    /// the clones; the last one dropped says `bye` to every idle process.
    pools: Option<Arc<[Arc<Pool>; 2]>>,
    /// A privileged process started beside the handshake's and not yet used: the next session
    /// that would start a process takes it instead (and does its handshake). Shared by the
    /// clones; ended with the last of them if no session took it.
    spare: Arc<Spare>,
}

/// [`Driver::spare`]'s slot.
#[derive(Default)]
struct Spare(Mutex<Option<DriverProcess>>);

impl Spare {
    fn take(&self) -> Option<DriverProcess> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl std::fmt::Debug for Spare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spare")
    }
}

impl Driver {
    /// Starts the driver once to learn what it is and supports. Its command runs in the current
    /// directory.
    pub fn start(name: &str, command: &str) -> Result<Driver, DriverError> {
        Driver::start_in(name, command, None)
    }

    /// [`start`](Driver::start), with every process of the driver run in `dir` (the current
    /// directory if `None`): the directory a configured command's relative paths start from.
    ///
    /// A second process starts beside the handshake's, for the first session that needs a new
    /// one: most scenarios have two actors, and the first scenario's second process would
    /// otherwise start only after the first's handshake.
    ///
    /// Once the handshake's process has answered, `/proc` tells whether further processes can
    /// start as it ended up started, without the shell and launchers of the command (see
    /// [`relaunch`]); they then do.
    ///
    /// Where [`remember_handshakes`] is in force and this run already saw the command's driver
    /// answer `hello`, no process starts here: the remembered reply says what the driver is and
    /// supports, and each session's process starts when the session opens (directly, if the
    /// first process of the run could be started so), and must answer `hello` the same.
    pub fn start_in(name: &str, command: &str, dir: Option<&Path>) -> Result<Driver, DriverError> {
        let driver = |hello: Hello, reply, relaunch, process: Option<DriverProcess>, spare| {
            let pools = hello
                .reset
                .then(|| Arc::new([Arc::new(Pool::default()), Arc::new(Pool::default())]));
            match (&pools, process) {
                // Just past its handshake, it can serve the first session.
                (Some(pools), Some(process)) => pools[0].put(Arc::new(process)),
                (_, process) => drop(process),
            }
            Driver {
                name: name.to_string(),
                command: command.to_string(),
                dir: dir.map(Path::to_path_buf),
                hello,
                reply,
                relaunch,
                pools,
                spare: Arc::new(Spare(Mutex::new(spare))),
            }
        };
        // A record is checked as a reply is: one that no longer reads as a valid reply is
        // ignored (and replaced below), and a direct start that is not usable is dropped.
        if let Some((reply, relaunch)) = handshakes::recalled(command, dir) {
            let relaunch = relaunch.filter(relaunch::Relaunch::is_usable);
            if let Ok(hello) = read_hello(&reply) {
                return Ok(driver(hello, reply, relaunch, None, None));
            }
        }
        let failed = |reason: String| DriverError::Handshake {
            name: name.to_string(),
            command: command.to_string(),
            reason,
        };
        let launch = Launch::Command(command);
        let process = DriverProcess::launch(name, launch, false, dir).map_err(failed)?;
        // One that cannot start is no error yet: the session that needs it starts its own.
        let spare = DriverProcess::launch(name, launch, false, dir).ok();
        let (hello, reply) = handshake(&process).map_err(failed)?;
        let relaunch = process.relaunch(command, &directory(dir)).ok();
        handshakes::remember(command, dir, &reply, relaunch.as_ref());
        Ok(driver(hello, reply, relaunch, Some(process), spare))
    }

    /// Says `bye` to every idle warm process (a driver with `reset`), and waits, bounded, until
    /// each is gone. Dropping the last clone of the driver does the same; the driver can still
    /// be used afterwards (it then starts new processes).
    pub fn shut_down(&self) {
        for pool in self.pools.iter().flat_map(|pools| pools.iter()) {
            pool.shut_down();
        }
        if let Some(spare) = self.spare.take() {
            let _ = spare.finish();
        }
    }

    /// What the driver said in its handshake.
    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    /// The command that starts it.
    pub fn command(&self) -> &str {
        &self.command
    }
}

impl Driver {
    /// A session: a warm process from the pool if the driver has `reset` and one is idle, else a
    /// new process, privileged or not, that has passed its handshake.
    fn open(&self, unprivileged: bool) -> Result<Box<dyn Session>, SessionError> {
        // A warm process lives in this machine's network; an actor on a scenario's host gets a
        // process started there (by this thread, which is inside), never pooled.
        let pool = self
            .pools
            .as_ref()
            .filter(|_| !crate::netns::entered())
            .map(|pools| Arc::clone(&pools[usize::from(unprivileged)]));
        if let Some(process) = pool.as_ref().and_then(|pool| pool.take()) {
            return Ok(Box::new(DriverSession::new(process, pool)));
        }
        let failed = |reason: String| SessionError {
            implementation: self.name.clone(),
            reason,
        };
        // The spare was started in this machine's network: never for an actor on a host.
        let spare = (!unprivileged && !crate::netns::entered())
            .then(|| self.spare.take())
            .flatten();
        let process = match spare {
            Some(process) => process,
            None => {
                let dir = self.dir.as_deref();
                let command = Launch::Command(&self.command);
                // A program gone since the first start: the command, as without a direct start.
                let direct = self.relaunch.as_ref().and_then(|relaunch| {
                    DriverProcess::launch(&self.name, Launch::Direct(relaunch), unprivileged, dir)
                        .ok()
                });
                match direct {
                    Some(process) => process,
                    None => DriverProcess::launch(&self.name, command, unprivileged, dir)
                        .map_err(failed)?,
                }
            }
        };
        let (_, reply) = handshake(&process).map_err(failed)?;
        if reply != self.reply {
            // Dropping `process` kills it.
            return Err(failed(format!(
                "a process of the driver answered `hello` differently from its first: {reply} \
                 against {}; every process of a driver must say the same",
                self.reply
            )));
        }
        Ok(Box::new(DriverSession::new(Arc::new(process), pool)))
    }
}

/// Runs one of sockspec's own short-lived helper programs (iproute2 building a scenario's
/// network) to its end, with `input` on its standard input, and returns its output. It is
/// registered with the drivers while it runs, so that the orphan reaper (which kills every
/// other child of a subreaper sockspec) leaves it alone.
pub(crate) fn run_helper(
    command: &mut std::process::Command,
    input: &[u8],
) -> std::io::Result<std::process::Output> {
    use std::io::Write;
    let child = {
        let mut registered = tree::drivers();
        let child = command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        registered.push(child.id());
        child
    };
    let pid = child.id();
    let mut child = child;
    if let Some(mut stdin) = child.stdin.take() {
        // A failure to write shows as the helper's own failure.
        let _ = stdin.write_all(input);
    }
    let output = child.wait_with_output();
    tree::drivers().retain(|p| *p != pid);
    output
}

/// `hello` (within [`hello_limit`]): the reply as it came, and read by [`read_hello`].
fn handshake(process: &DriverProcess) -> Result<(Hello, serde_json::Value), String> {
    let ok = process
        .request_within(
            "hello",
            json!({"protocol": PROTOCOL_VERSION}),
            hello_limit(),
        )
        .map_err(|e: SockError| e.message)?;
    Ok((read_hello(&ok)?, ok))
}

/// Reads a `hello` reply: checks the version and what a version 1 reply may hold.
fn read_hello(ok: &serde_json::Value) -> Result<Hello, String> {
    let hello: Hello = serde_json::from_value(ok.clone())
        .map_err(|e| format!("its hello reply does not fit the protocol ({e}): {ok}"))?;
    if !ACCEPTED_VERSIONS.contains(&hello.protocol) {
        return Err(format!(
            "it speaks protocol version {}; this runner speaks versions 1 and 2",
            hello.protocol
        ));
    }
    if hello.protocol == 1 {
        let c = &hello.capabilities;
        let added = [
            ("operations", c.operations.is_some()),
            ("sockets", c.sockets.is_some()),
            ("option_types", !c.option_types.is_empty()),
            ("shapes", !c.shapes.is_empty()),
        ];
        if let Some((field, _)) = added.iter().find(|(_, present)| *present) {
            return Err(format!(
                "it speaks protocol version 1 but declares `{field}`, which version 2 added; \
                 answer `hello` with \"protocol\": 2"
            ));
        }
    }
    Ok(hello)
}

impl Implementation for Driver {
    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> Option<String> {
        Some(format!("{} {}", self.hello.name, self.hello.version))
    }

    fn capabilities(&self) -> Capabilities {
        let mut capabilities = self.hello.capabilities.clone();
        // sockspec starts the process, so it can always start it without privileges.
        capabilities
            .features
            .insert(crate::vocab::Feature::Unprivileged);
        capabilities
    }

    fn open_session(&self) -> Result<Box<dyn Session>, SessionError> {
        self.open(false)
    }

    /// Side by side: a session may have to start a process. Where no thread can be started,
    /// one after the other. If one fails, the others opened are ended with it.
    fn open_sessions(&self, count: usize) -> Result<Vec<Box<dyn Session>>, SessionError> {
        if count < 2 {
            return (0..count).map(|_| self.open(false)).collect();
        }
        std::thread::scope(|scope| {
            let opening: Vec<_> = (0..count)
                .map(|_| {
                    std::thread::Builder::new()
                        .name("driver-open".into())
                        .spawn_scoped(scope, || self.open(false))
                })
                .collect();
            opening
                .into_iter()
                .map(|opening| match opening {
                    Ok(thread) => SessionError::from_opening_thread(self.name(), thread.join()),
                    Err(_) => self.open(false),
                })
                .collect()
        })
    }

    /// The driver's process is started without any capability.
    fn open_unprivileged_session_for(
        &self,
        _actor: &str,
    ) -> Result<Box<dyn Session>, SessionError> {
        self.open(true)
    }

    /// Two scenarios per core: every step is a round trip through a process of the driver's
    /// language, so more at once only adds processes (each warm pool keeps one per actor in
    /// flight) that compete for the same cores. Measured with the CPython driver on two cores:
    /// 4 at once took 3.8 s, 8 took 3.7 s and 16 took 6.9 s for the suite.
    fn scenarios_at_once(&self) -> Option<usize> {
        Some(2 * crate::runner::cores())
    }
}

/// A named driver in a configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriverEntry {
    /// The command that starts it (run by `/bin/sh -c`, from the directory of the suite that
    /// configures it, or the current directory for a `--drivers` file).
    pub command: String,
    /// What it drives, for people.
    #[serde(default)]
    pub description: Option<String>,
}

/// Reads a driver configuration: a YAML map from names to [`DriverEntry`]. A missing file is an
/// empty configuration.
pub fn load_config(path: &Path) -> Result<BTreeMap<String, DriverEntry>, DriverError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => {
            return Err(DriverError::Config(format!(
                "{}: cannot read: {e}",
                path.display()
            )))
        }
    };
    parse_config(path, &text)
}

/// Parses a driver configuration's `text` as if read from `path` (which errors name).
pub fn parse_config(path: &Path, text: &str) -> Result<BTreeMap<String, DriverEntry>, DriverError> {
    crate::yaml::from_str(text).map_err(|e| {
        DriverError::Config(format!(
            "{}:{}:{}: {}",
            path.display(),
            e.location.line,
            e.location.column,
            e.message
        ))
    })
}
