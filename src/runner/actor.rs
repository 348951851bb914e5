//! One actor's thread: its steps in order, each bounded, checked, and its values shared.

use super::board::{Board, WaitError};
use super::check::{check, describe_outcome, Outcome, Pattern, Value};
use super::env::Env;
use super::result::{Failure, FailureKind};
use super::watchdog::Watchdog;
use crate::implementation::{dispatch, Clock, Handle, Session};
use crate::operation::{
    Accepted, Filled, FilledFrom, Message, Named, Opened, Pair, Ready, Received, ReceivedFrom,
    RecvCall, Reply, SettimeoutCall,
};
use crate::scenario::{Actor, AddressExpr, Count, Op, Resolve, Returns, Scenario, Step};
use crate::vocab::{Address, ErrorCode, Mode, RecvFlags, SockError};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How an actor's run ended.
pub(crate) enum Ending {
    /// All steps passed.
    Completed,
    /// A step failed (recorded on the board).
    Failed,
    /// Another actor failed, or the scenario ran out of time.
    Stopped,
}

/// Everything an actor needs, borrowed from the scenario run.
pub(crate) struct ActorRun<'a> {
    pub index: usize,
    pub actor: &'a Actor,
    pub scenario: &'a Scenario,
    pub session: &'a dyn Session,
    pub board: &'a Board,
    pub watchdog: &'a Watchdog,
    pub env: &'a Env,
    /// A multi-host scenario's network: the actor's thread enters its host first.
    pub network: Option<&'a super::hosts::Network>,
    /// The implementation's clock, which limits and `min_elapsed` are measured in.
    pub clock: &'a dyn Clock,
    pub step_timeout: Duration,
    /// The most a `recv_until_eof` collects (see [`RunOptions`](super::RunOptions)).
    pub max_received: usize,
    /// The scenario marks this actor `unprivileged`: its thread drops its capabilities first.
    pub unprivileged: bool,
}

/// A step that cannot go on.
enum Stop {
    Failed(Box<Failure>),
    Stopped,
}

impl ActorRun<'_> {
    /// Runs every step; the board learns of the first failure.
    pub fn run(self) -> Ending {
        let mut sockets: HashMap<String, Handle> = HashMap::new();
        // Before dropping privileges: entering a namespace needs CAP_SYS_ADMIN.
        if let Some(Err(e)) = self.network.map(|n| n.enter_for(&self.actor.name)) {
            if let Stop::Failed(failure) = self.failure_of(
                FailureKind::Broken,
                0,
                "the actor to run on its host".to_string(),
                e.to_string(),
                None,
            ) {
                self.board.fail(*failure);
                self.watchdog.abort();
            }
            return Ending::Failed;
        }
        if self.unprivileged {
            // In-process calls run on this thread; a driver's process was started unprivileged.
            if let Err(e) = crate::implementation::privileges::drop_for_this_thread() {
                let failure = self.failure_of(
                    FailureKind::Broken,
                    0,
                    "the actor to run without privileges".to_string(),
                    format!("its capabilities could not be dropped: {e}"),
                    None,
                );
                if let Stop::Failed(failure) = failure {
                    self.board.fail(*failure);
                    self.watchdog.abort();
                }
                return Ending::Failed;
            }
        }
        for (index, step) in self.actor.steps.iter().enumerate() {
            if self.board.is_aborted() {
                return Ending::Stopped;
            }
            self.board.at_step(self.index, index);
            match self.step(index, step, &mut sockets) {
                Ok(()) => {}
                Err(Stop::Stopped) => return Ending::Stopped,
                Err(Stop::Failed(failure)) => {
                    // Record the failure before waking the others: a woken call must find the
                    // scenario already stopping, or it would report itself as the failure.
                    let first = self.board.fail(*failure);
                    self.watchdog.abort();
                    return if first {
                        Ending::Failed
                    } else {
                        Ending::Stopped
                    };
                }
            }
        }
        Ending::Completed
    }

    fn failure(
        &self,
        index: usize,
        expected: String,
        actual: String,
        detail: Option<String>,
    ) -> Stop {
        self.failure_of(FailureKind::Mismatch, index, expected, actual, detail)
    }

    fn failure_of(
        &self,
        kind: FailureKind,
        index: usize,
        expected: String,
        actual: String,
        detail: Option<String>,
    ) -> Stop {
        Stop::Failed(Box::new(Failure::of_step(
            kind,
            self.scenario,
            self.actor,
            index,
            expected,
            actual,
            detail,
        )))
    }

    fn step(
        &self,
        index: usize,
        step: &Step,
        sockets: &mut HashMap<String, Handle>,
    ) -> Result<(), Stop> {
        let limit = super::step_limit(self.scenario, step, self.step_timeout);
        // In real time: bounds waits for other actors (which act in real time).
        let deadline = super::deadline_after(limit);
        let waited = |what: String, e: WaitError| {
            match e {
            WaitError::Aborted => Stop::Stopped,
            WaitError::Deadline => self.failure_of(
                FailureKind::Timeout,
                index,
                format!("{what} within {}", humantime::format_duration(limit)),
                format!(
                    "waited {} for {what}, which never came (did the actor that provides it fail or stop early?)",
                    humantime::format_duration(limit)
                ),
                None,
            ),
        }
        };

        // Inputs first: an address another actor captures is waited for, not raced.
        let mut addresses = Vec::new();
        for expr in step.op.addresses() {
            let address = self.resolve(expr, deadline).map_err(|e| {
                e.into_stop(waited, |reason| {
                    self.failure(index, format!("a usable address for {expr}"), reason, None)
                })
            })?;
            addresses.push(address);
        }
        let handle = match step.op.socket() {
            Some(name) => Some(*sockets.get(name).ok_or_else(|| {
                self.failure(
                    index,
                    format!("socket `{name}` to exist"),
                    "no such socket".to_string(),
                    None,
                )
            })?),
            None => None,
        };

        match &step.op {
            Op::Signal(name) => {
                self.board.signal(name);
                return Ok(());
            }
            Op::Wait(name) => {
                return self
                    .board
                    .wait_signal(name, deadline)
                    .map_err(|e| waited(format!("signal `{name}`"), e));
            }
            _ => {}
        }

        if let Some(name) = &step.announce {
            self.board.signal(name);
        }
        let started = self.clock.now();
        // A file-system step is the runner's own, quick and not the implementation's to wake.
        if !matches!(
            step.op,
            Op::Fs(_) | Op::LinkDown(_) | Op::LinkUp(_) | Op::Route(_)
        ) {
            let call_deadline = started.saturating_add(limit);
            self.watchdog.arm(self.index, index, handle, call_deadline);
        }
        let outcome = self.call(&step.op, handle, &addresses, sockets);
        // In the implementation's time: a simulated timeout takes no real time.
        let elapsed = self.clock.now().saturating_sub(started);
        let timed_out = self.watchdog.disarm(self.index);
        if self.board.is_aborted() {
            return Err(Stop::Stopped);
        }
        if timed_out {
            return Err(self.failure_of(
                FailureKind::Timeout,
                index,
                format!(
                    "the call to return within {}",
                    humantime::format_duration(limit)
                ),
                format!(
                    "did not return within {} (the watchdog then woke it; it gave {})",
                    humantime::format_duration(limit),
                    describe_outcome(&outcome, self.env)
                ),
                None,
            ));
        }
        if let Err(e) = &outcome {
            let kind = match e.code {
                ErrorCode::Unsupported => Some(FailureKind::Unsupported),
                ErrorCode::Broken => Some(FailureKind::Broken),
                _ => None,
            };
            if let Some(kind) = kind {
                return Err(self.failure_of(
                    kind,
                    index,
                    "a result".to_string(),
                    e.to_string(),
                    None,
                ));
            }
        }
        // recv(2) never returns more than it was asked for, whatever the step expects.
        let bufsize = match &step.op {
            // These collect many receives; each was bounded by its own bufsize.
            Op::RecvExact(_) | Op::RecvUntilEof(_) => None,
            // With MSG_TRUNC, recv on a datagram socket returns the datagram's real length,
            // and Python's recv a bytes object that long (`udp.recv.msg-trunc.length`).
            Op::Call(call)
                if call.returns() == Returns::Data
                    && call.parts().flags.is_some_and(|f| f.trunc) =>
            {
                None
            }
            op => op.bufsize(),
        };
        if let (
            Some(bufsize),
            Ok(Value::Data(d) | Value::DataFrom(d, _) | Value::Message(d, _, _)),
        ) = (bufsize, &outcome)
        {
            if d.len() > bufsize {
                return Err(self.failure(
                    index,
                    format!("at most {bufsize} bytes (a receive never returns more than bufsize)"),
                    describe_outcome(&outcome, self.env),
                    None,
                ));
            }
        }
        if let Some(least) = step.min_elapsed.filter(|least| elapsed < *least) {
            return Err(self.failure(
                index,
                format!(
                    "the call to take at least {}",
                    humantime::format_duration(least)
                ),
                format!(
                    "it returned after {:?}, with {}",
                    elapsed,
                    describe_outcome(&outcome, self.env)
                ),
                None,
            ));
        }
        if let Some(signal) = &step.blocks_until {
            if !self.board.is_raised(signal) {
                return Err(self.failure(
                    index,
                    format!("the call to block until `{signal}` is signalled"),
                    format!(
                        "it returned before that, with {}",
                        describe_outcome(&outcome, self.env)
                    ),
                    None,
                ));
            }
        }
        let mut pattern = |expr: &AddressExpr| -> Result<Pattern, String> {
            if let AddressExpr::AnyPort(ip) = expr {
                return Ok(Pattern::AnyPort(*ip));
            }
            self.resolve(expr, deadline)
                .map(Pattern::Exact)
                .map_err(|e| e.to_string())
        };
        let expect = self.resolve_counts(&step.expect, deadline).map_err(|e| {
            e.into_stop(waited, |reason| {
                self.failure(index, "a count".to_string(), reason, None)
            })
        })?;
        check(&expect, &outcome, self.env, &mut pattern)
            .map_err(|m| self.failure(index, m.expected, m.actual, m.detail))?;

        match (step.op.captures(), &outcome) {
            (
                Some(var),
                Ok(
                    Value::Address(a)
                    | Value::DataFrom(_, a)
                    | Value::Message(_, _, a)
                    | Value::Filled(_, _, Some(a)),
                ),
            ) => self.board.capture(var, a.clone()),
            (Some(var), Ok(Value::Count(n))) => self.board.capture_count(var, *n),
            _ => {}
        }
        Ok(())
    }

    /// `expect` with every captured count (`size: $NAME`) replaced by its value, waiting for it.
    fn resolve_counts(
        &self,
        expect: &crate::scenario::Expect,
        deadline: Instant,
    ) -> Result<crate::scenario::Expect, ResolveError> {
        let mut resolved = expect.clone();
        if let Some(Count::Captured(var)) = &expect.0.size {
            let n = self
                .board
                .count(var, deadline)
                .map_err(|e| ResolveError::Wait(format!("`${var}` to be captured"), e))?;
            resolved.0.size = Some(Count::Fixed(n));
        }
        resolved.0.one_of = expect
            .0
            .one_of
            .iter()
            .map(|alternative| self.resolve_counts(alternative, deadline))
            .collect::<Result<_, _>>()?;
        Ok(resolved)
    }

    /// The address an expression names in this run, waiting for captured values.
    fn resolve(&self, expr: &AddressExpr, deadline: Instant) -> Result<Address, ResolveError> {
        if let Some(resolved) = self.env.resolve_static(expr) {
            return resolved.map_err(ResolveError::Invalid);
        }
        match expr {
            AddressExpr::Var(var) => self
                .board
                .value(var, deadline)
                .map_err(|e| ResolveError::Wait(format!("`${var}` to be captured"), e)),
            AddressExpr::HostPortOf { host, var } => {
                let captured = self
                    .board
                    .value(var, deadline)
                    .map_err(|e| ResolveError::Wait(format!("`${var}` to be captured"), e))?;
                let port = captured.port().ok_or_else(|| {
                    ResolveError::Invalid(format!("`${var}` is {captured}, which has no port"))
                })?;
                Ok(Address::from((host.as_str(), port)))
            }
            other => Err(ResolveError::Invalid(format!(
                "`{other}` is not an address a call can use"
            ))),
        }
    }

    /// Makes the step's socket call(s).
    fn call(
        &self,
        op: &Op,
        handle: Option<Handle>,
        addresses: &[Address],
        sockets: &mut HashMap<String, Handle>,
    ) -> Outcome {
        let s = self.session;
        let h = || handle.ok_or_else(|| SockError::errno(nix::errno::Errno::EBADF));
        match op {
            Op::Call(step) => {
                let call = step.to_call(&mut Resolved {
                    sockets,
                    addresses: addresses.iter(),
                })?;
                let reply = dispatch(s, &call)?;
                let created = reply.created();
                let value = value_of(reply);
                for (name, handle) in step.names().new.iter().zip(created) {
                    sockets.insert(name.clone(), handle);
                }
                Ok(value)
            }
            Op::Setblocking(a) => s
                .settimeout(&SettimeoutCall {
                    handle: h()?,
                    timeout: if a.blocking {
                        Mode::Blocking
                    } else {
                        Mode::NonBlocking
                    },
                })
                .map(|()| Value::Nothing),
            Op::RecvExact(a) => {
                let mut data = Vec::new();
                data.try_reserve_exact(a.size).map_err(|e| SockError {
                    code: ErrorCode::Broken,
                    message: format!(
                        "sockspec could not allocate {} bytes to receive into ({e})",
                        a.size
                    ),
                })?;
                while data.len() < a.size {
                    let chunk = s.recv(&RecvCall {
                        handle: h()?,
                        bufsize: a.bufsize.min(a.size - data.len()),
                        flags: RecvFlags::default(),
                    })?;
                    if chunk.data.0.is_empty() {
                        break;
                    }
                    data.extend_from_slice(&chunk.data.0);
                }
                Ok(Value::Data(data))
            }
            Op::RecvUntilEof(a) => {
                let mut data = Vec::new();
                loop {
                    let chunk = s.recv(&RecvCall {
                        handle: h()?,
                        bufsize: a.bufsize,
                        flags: RecvFlags::default(),
                    })?;
                    if chunk.data.0.is_empty() {
                        return Ok(Value::Data(data));
                    }
                    data.extend_from_slice(&chunk.data.0);
                    if data.len() > self.max_received {
                        // No end in sight: what arrived so far is the outcome, and it is more
                        // than any expectation can allow.
                        return Ok(Value::Data(data));
                    }
                }
            }
            Op::Signal(_) | Op::Wait(_) => Ok(Value::Nothing),
            Op::Fs(step) => super::fs::perform(step, self.env),
            Op::LinkDown(link) => self.change_network(|n| n.set_link(link, false)),
            Op::LinkUp(link) => self.change_network(|n| n.set_link(link, true)),
            Op::Route(route) => self.change_network(|n| n.route(route)),
        }
    }
}

impl ActorRun<'_> {
    /// A step that changes the scenario's network: the runner's own, so a failure is `broken`.
    fn change_network(
        &self,
        change: impl FnOnce(&super::hosts::Network) -> Result<(), crate::netns::NetnsError>,
    ) -> Result<Value, SockError> {
        let network = self.network.ok_or_else(|| SockError {
            code: ErrorCode::Broken,
            message: "the scenario has no network of hosts to change".to_string(),
        })?;
        change(network)
            .map(|()| Value::Nothing)
            .map_err(|e| SockError {
                code: ErrorCode::Broken,
                message: format!("sockspec could not change the network: {e}"),
            })
    }
}

/// A step's names, as this actor's run has resolved them: its sockets, and the addresses
/// resolved before the call (waiting for captures), in the order the step uses them.
struct Resolved<'a, I> {
    sockets: &'a HashMap<String, Handle>,
    addresses: I,
}

impl<'a, I: Iterator<Item = &'a Address>> Resolve for Resolved<'a, I> {
    type Error = SockError;

    fn socket(&mut self, name: &str) -> Result<Handle, SockError> {
        self.sockets
            .get(name)
            .copied()
            .ok_or_else(|| SockError::errno(nix::errno::Errno::EBADF))
    }

    fn address(&mut self, _: &AddressExpr) -> Result<Address, SockError> {
        self.addresses
            .next()
            .cloned()
            .ok_or_else(|| SockError::new(ErrorCode::Rejected))
    }
}

/// What a call's result is to the checks.
trait IntoValue {
    fn into_value(self) -> Value;
}

macro_rules! into_value {
    ($( $ty:ty => |$ok:pat_param| $value:expr; )*) => {
        $(
            impl IntoValue for $ty {
                fn into_value(self) -> Value {
                    let $ok = self;
                    $value
                }
            }
        )*
    };
}

into_value! {
    () => |()| Value::Nothing;
    Opened => |_| Value::Nothing;
    Pair => |_| Value::Nothing;
    Accepted => |a| Value::Address(a.address);
    usize => |n| Value::Count(n);
    Received => |r| Value::Data(r.data.0);
    ReceivedFrom => |r| Value::DataFrom(r.data.0, r.address);
    Named => |n| Value::Address(n.address);
    i64 => |n| Value::Number(n);
    bool => |b| Value::Number(i64::from(b));
    Message => |m| Value::Message(m.data.0, m.flags.into_iter().collect(), m.address);
    Filled => |f| Value::Filled(f.count, f.buffer.0, None);
    FilledFrom => |f| Value::Filled(f.count, f.buffer.0, Some(f.address));
    Mode => |m| Value::Timeout(m);
    Ready => |r| Value::Events(r.events.into_iter().collect());
}

/// Generates [`value_of`] from the table of operations.
macro_rules! value_of_reply {
    ($( $(#[$doc:meta])* $name:literal => $method:ident: $Variant:ident($Args:ident) -> $Ok:ty; )*) => {
        /// What a call returned, as the checks see it.
        fn value_of(reply: Reply) -> Value {
            match reply {
                $( Reply::$Variant(ok) => ok.into_value(), )*
            }
        }
    };
}

crate::operation::operations!(brief => value_of_reply);

/// Why an address could not be had.
enum ResolveError {
    Wait(String, WaitError),
    Invalid(String),
}

impl ResolveError {
    fn into_stop(
        self,
        waited: impl FnOnce(String, WaitError) -> Stop,
        invalid: impl FnOnce(String) -> Stop,
    ) -> Stop {
        match self {
            ResolveError::Wait(what, e) => waited(what, e),
            ResolveError::Invalid(reason) => invalid(reason),
        }
    }
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::Wait(what, WaitError::Aborted) => {
                write!(f, "stopped while waiting for {what}")
            }
            ResolveError::Wait(what, WaitError::Deadline) => {
                write!(f, "timed out waiting for {what}")
            }
            ResolveError::Invalid(reason) => f.write_str(reason),
        }
    }
}
