//! The scenario model: what a YAML scenario says, after parsing.
//!
//! The format is specified in `spec/scenario-format.md`; this module is its Rust shape.

pub use crate::yaml::Location;

use super::call_step::{CallStep, Captured, Names, Parts};
use super::{AddressExpr, Payload};
use crate::vocab::did_you_mean;
use crate::vocab::{
    ApiShape, Capabilities, ErrorCode, Family, Feature, Mode, MsgFlag, PollEvent, SocketKind,
    SocketOption, SocketType,
};
use crate::yaml::{Node, SyntaxError};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A loaded, validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The stable id: the file's path below the fixture root, without `.yaml` (`tcp/echo`).
    pub id: String,
    /// The file it came from.
    pub path: PathBuf,
    /// One line saying what it shows.
    pub title: String,
    /// Longer prose, if any.
    pub description: Option<String>,
    /// The spec requirement ids it checks.
    pub requirements: Vec<String>,
    /// Free-form tags for filtering.
    pub tags: Vec<String>,
    /// What it needs beyond what its steps show.
    pub requires: Requires,
    /// Why it binds or connects to a fixed non-zero port, if it does (`fixed_port_why:`).
    pub fixed_port_why: Option<String>,
    /// The actors that run without privileges (`unprivileged: [server]`): their calls are made
    /// without any Linux capability, as an ordinary user's would be.
    pub unprivileged: Vec<String>,
    /// The actors that only build the situation (`environment: [server]`): a peer, a closed
    /// port, a full listener. They run on the reference implementation unless the run puts
    /// every actor on the implementation under test, and what they need is not asked of it.
    pub environment: Vec<String>,
    /// The hosts it declares and the host of each actor (`hosts:` and `host:`); empty for a
    /// scenario on this machine's loopback.
    pub topology: super::Topology,
    /// The time limit for the whole scenario, if it sets one.
    pub timeout: Option<Duration>,
    /// The default time limit for each step, if it sets one.
    pub step_timeout: Option<Duration>,
    /// The actors, in file order.
    pub actors: Vec<Actor>,
    /// For a parameterised scenario: its parameters, and the text its cases are made from. The
    /// scenario itself is the case with every parameter at its minimum.
    pub parameters: Option<Parameters>,
}

/// A parameterised scenario's parameters (`parameters:` and `cases:` in YAML).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parameters {
    /// Each parameter's range, by name.
    pub ranges: std::collections::BTreeMap<String, Range>,
    /// How many cases to draw (default 16).
    pub cases: u32,
    /// The scenario's text, with `$(name)` where a value goes.
    pub template: String,
    /// The limits it was loaded under, which its cases are loaded under too.
    pub limits: super::Limits,
}

impl Scenario {
    /// A scenario made of these parts, everything else empty (for scenarios built in code, such
    /// as counterexamples); its path is `ID.yaml`.
    pub fn new(
        id: &str,
        title: String,
        requirements: Vec<String>,
        tags: Vec<String>,
        actors: Vec<Actor>,
    ) -> Scenario {
        Scenario {
            id: id.to_string(),
            path: PathBuf::from(format!("{id}.yaml")),
            title,
            description: None,
            requirements,
            tags,
            requires: Requires::default(),
            fixed_port_why: None,
            unprivileged: Vec::new(),
            environment: Vec::new(),
            topology: super::Topology::default(),
            timeout: None,
            step_timeout: None,
            actors,
            parameters: None,
        }
    }

    /// How long the scenario is expected to wait, from what it declares: for each actor, the
    /// sum of its steps' `min_elapsed`, the timeouts its calls pass (`settimeout`, `poll`'s
    /// timeout) and the send and receive timeouts it sets as options; the longest actor's sum,
    /// times the cases of a parameterised scenario. An estimate for ordering a run (longest
    /// first), not a limit: a timeout that is never waited out still counts.
    pub fn expected_wait(&self) -> Duration {
        let per_actor = self.actors.iter().map(|actor| {
            actor
                .steps
                .iter()
                .map(|step| {
                    let declared = match &step.op {
                        Op::Call(call) => {
                            let parts = call.parts();
                            let option = match call {
                                CallStep::Setsockopt(set)
                                    if matches!(
                                        set.option,
                                        SocketOption::RecvTimeoutMs | SocketOption::SendTimeoutMs
                                    ) =>
                                {
                                    Duration::from_millis(u64::try_from(set.value.0).unwrap_or(0))
                                }
                                _ => Duration::ZERO,
                            };
                            parts.durations.iter().sum::<Duration>() + option
                        }
                        _ => Duration::ZERO,
                    };
                    declared + step.min_elapsed.unwrap_or_default()
                })
                .sum::<Duration>()
        });
        let longest = per_actor.max().unwrap_or_default();
        let cases = self.parameters.as_ref().map_or(1, |p| p.cases);
        longest.saturating_mul(cases)
    }

    /// Everything an implementation must support to run every actor of this scenario: what
    /// `requires` says plus what the steps use.
    pub fn needs(&self) -> Capabilities {
        self.needs_of(|_| true)
    }

    /// What an implementation must support to run the actors `runs` accepts: what `requires`
    /// says plus what their steps use.
    pub fn needs_of(&self, runs: impl Fn(&Actor) -> bool) -> Capabilities {
        let mut needs = Capabilities {
            families: self.requires.families.iter().copied().collect(),
            types: self.requires.types.iter().copied().collect(),
            options: self.requires.options.iter().copied().collect(),
            features: self.requires.features.iter().copied().collect(),
            operations: Some(BTreeSet::new()),
            sockets: Some(BTreeSet::new()),
            ..Capabilities::default()
        };
        let actors: Vec<&Actor> = self.actors.iter().filter(|a| runs(a)).collect();
        if actors.iter().any(|a| self.unprivileged.contains(&a.name)) {
            needs.features.insert(Feature::Unprivileged);
        }
        for actor in &actors {
            socket_needs(actor, &mut needs);
        }
        for step in actors.iter().flat_map(|a| &a.steps) {
            step.op.add_needs(&mut needs);
            for address in step.op.addresses() {
                match address {
                    AddressExpr::AbstractName(_) => {
                        needs.features.insert(Feature::AbstractNamespace);
                    }
                    AddressExpr::Literal(crate::vocab::Address::Host { .. }) => {
                        needs.features.insert(Feature::NameResolution);
                    }
                    // `127.0.0.1:$port` names no host to resolve; `localhost:$port` does.
                    AddressExpr::HostPortOf { host, .. }
                        if host.parse::<std::net::IpAddr>().is_err() =>
                    {
                        needs.features.insert(Feature::NameResolution);
                    }
                    _ => {}
                }
            }
        }
        needs
    }
}

/// `requires:`: capabilities and platforms a scenario needs beyond what its steps show.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Requires {
    /// Address families.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub families: Vec<Family>,
    /// Socket types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<SocketType>,
    /// Socket options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<SocketOption>,
    /// Further features.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<Feature>,
    /// Operating systems (`std::env::consts::OS` names: `linux`, `macos`…); empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
}

/// One actor: a named sequence of steps, run on its own thread like a process of its own.
#[derive(Clone, Debug)]
pub struct Actor {
    /// The actor's name (`server`, `client`…).
    pub name: String,
    /// Its steps, in order.
    pub steps: Vec<Step>,
}

/// One step: an operation, what it must produce, and how it synchronises.
#[derive(Clone, Debug)]
pub struct Step {
    /// What to do.
    pub op: Op,
    /// What must come of it (default: success).
    pub expect: Expect,
    /// This step's time limit, overriding the scenario's.
    pub timeout: Option<Duration>,
    /// A signal the runner raises just before making the call (for `blocks_until` elsewhere).
    pub announce: Option<String>,
    /// The call must not return before this signal is raised: it blocks until then.
    pub blocks_until: Option<String>,
    /// The call must take at least this long (a timeout waits out its time).
    pub min_elapsed: Option<Duration>,
    /// Where the step starts in its file.
    pub location: Location,
}

impl Step {
    /// A step making `op`, expecting success, with no limit or signal of its own (for scenarios
    /// built in code, such as counterexamples; their location is line 0).
    pub fn new(op: Op) -> Step {
        Step {
            op,
            expect: Expect::default(),
            timeout: None,
            announce: None,
            blocks_until: None,
            min_elapsed: None,
            location: Location::default(),
        }
    }

    /// This step, expecting `expect` instead.
    pub fn expecting(self, expect: ExpectFields) -> Step {
        Step {
            expect: Expect(expect),
            ..self
        }
    }
}

/// `recv_exact: {socket, size, bufsize}`: recv until `size` bytes have come (a runner loop).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecvExactArgs {
    /// The socket.
    pub socket: String,
    /// How many bytes in all.
    pub size: usize,
    /// The bufsize of each recv (default 65536).
    #[serde(default = "default_bufsize")]
    pub bufsize: usize,
}

/// `recv_until_eof: {socket, bufsize}`: recv until it returns no bytes (a runner loop).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecvUntilEofArgs {
    /// The socket.
    pub socket: String,
    /// The bufsize of each recv (default 65536).
    #[serde(default = "default_bufsize")]
    pub bufsize: usize,
}

fn default_bufsize() -> usize {
    65536
}

/// A count in an expectation: a number, or `$NAME`, the count a `send` or `sendto` captured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Count {
    /// This many.
    Fixed(usize),
    /// What the step that captured `NAME` returned.
    Captured(String),
}

impl Count {
    /// The number, if it is known before the run.
    pub fn fixed(&self) -> Option<usize> {
        match self {
            Count::Fixed(n) => Some(*n),
            Count::Captured(_) => None,
        }
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Count::Fixed(n) => write!(f, "{n}"),
            Count::Captured(name) => write!(f, "${name}"),
        }
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a count, or `$NAME` (a count a `send` captured)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Count, E> {
                usize::try_from(v).map(Count::Fixed).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Count, E> {
                usize::try_from(v)
                    .map(Count::Fixed)
                    .map_err(|_| E::custom(format!("a count cannot be negative ({v})")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Count, E> {
                match v.strip_prefix('$') {
                    Some(name) if !name.is_empty() => Ok(Count::Captured(name.to_string())),
                    _ => Err(E::custom(format!(
                        "`{v}` is not a count: write a number, or `$NAME` for a count a `send` captured"
                    ))),
                }
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// An expected count: `returns: 5` (exactly), or `returns: {min: 1, max: 4096}` (either bound
/// may be left out: at least 0, at most any).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountRange {
    /// The smallest count allowed.
    pub min: usize,
    /// The largest count allowed.
    pub max: usize,
}

impl CountRange {
    /// Exactly `n`.
    pub fn exactly(n: usize) -> CountRange {
        CountRange { min: n, max: n }
    }

    /// True when `n` is in the range.
    pub fn contains(&self, n: usize) -> bool {
        (self.min..=self.max).contains(&n)
    }

    /// The largest count the range names (its `max`, unless unbounded, then its `min`), for the
    /// limits.
    pub fn largest_named(&self) -> usize {
        if self.max == usize::MAX {
            self.min
        } else {
            self.max
        }
    }
}

impl fmt::Display for CountRange {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match (self.min, self.max) {
            (min, max) if min == max => write!(f, "{min}"),
            (min, usize::MAX) => write!(f, "at least {min}"),
            (0, max) => write!(f, "at most {max}"),
            (min, max) => write!(f, "between {min} and {max}"),
        }
    }
}

impl<'de> Deserialize<'de> for CountRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Bounds {
            min: Option<usize>,
            max: Option<usize>,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CountRange;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a count, or a range such as {min: 1, max: 4096}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<CountRange, E> {
                usize::try_from(v)
                    .map(CountRange::exactly)
                    .map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<CountRange, E> {
                usize::try_from(v)
                    .map(CountRange::exactly)
                    .map_err(|_| E::custom(format!("a count cannot be negative ({v})")))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<CountRange, A::Error> {
                let bounds = Bounds::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let range = CountRange {
                    min: bounds.min.unwrap_or(0),
                    max: bounds.max.unwrap_or(usize::MAX),
                };
                match (bounds.min, bounds.max) {
                    (None, None) => Err(de::Error::custom(
                        "a range needs `min`, `max` or both, e.g. {min: 1, max: 4096}",
                    )),
                    _ if range.min > range.max => Err(de::Error::custom(format!(
                        "`min` {} is greater than `max` {}",
                        range.min, range.max
                    ))),
                    _ => Ok(range),
                }
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// An option value: a boolean, an integer, or an errno name for its number (`SO_ERROR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionValue(pub i64);

impl<'de> Deserialize<'de> for OptionValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = OptionValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true, false, an integer or an errno name")
            }
            /// An errno name stands for its number on this system (`SO_ERROR`'s value).
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OptionValue, E> {
                match v.parse::<ErrorCode>() {
                    Ok(ErrorCode::Errno(n)) => Ok(OptionValue(i64::from(n))),
                    Ok(_) => Err(E::custom(format!(
                        "`{v}` is not an errno name; an option's value is true, false, an integer or an errno name such as ECONNREFUSED"
                    ))),
                    Err(e) => Err(E::custom(e)),
                }
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<OptionValue, E> {
                Ok(OptionValue(v as i64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<OptionValue, E> {
                Ok(OptionValue(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<OptionValue, E> {
                i64::try_from(v).map(OptionValue).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// `setblocking: {socket, blocking}`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SetblockingArgs {
    /// The socket.
    pub socket: String,
    /// True for blocking mode, false for non-blocking.
    pub blocking: bool,
}

macro_rules! composite_steps {
    ($( $(#[$doc:meta])* $name:literal => $variant:ident($args:ty), )*) => {
        /// The operation of a step: a call of an operation of the table, or one of the steps
        /// the runner builds of calls or makes itself.
        #[derive(Clone, Debug)]
        pub enum Op {
            /// One call of an operation of the table in [`crate::operation`] (`socket`,
            /// `bind`, `recv`…).
            Call(CallStep),
            $( $(#[$doc])* $variant($args), )*
        }

        impl Op {
            /// The steps that are not one call of the table, as written in YAML.
            const COMPOSITE_NAMES: &'static [&'static str] = &[$($name),*];

            /// The operation's name, as written in YAML.
            pub fn name(&self) -> &'static str {
                match self {
                    Op::Call(call) => call.name(),
                    $( Op::$variant(_) => $name, )*
                }
            }

            /// Writes the operation as its YAML entry, `name: {arguments}`, into a step's map.
            pub(crate) fn serialize_entry<M: serde::ser::SerializeMap>(
                &self,
                map: &mut M,
            ) -> Result<(), M::Error> {
                match self {
                    Op::Call(call) => call.serialize_entry(map),
                    $( Op::$variant(args) => map.serialize_entry($name, args), )*
                }
            }

            /// The operation `name` with its arguments read from `node`; `None` for a name
            /// that is not an operation.
            fn from_node(name: &str, node: &Node) -> Option<Result<Op, Vec<SyntaxError>>> {
                if let Some(call) = CallStep::from_node(name, node) {
                    return Some(call.map(Op::Call));
                }
                Some(match name {
                    $( $name => node.deserialize().map(Op::$variant).map_err(|e| vec![e]), )*
                    _ => return None,
                })
            }
        }
    };
}

composite_steps! {
    /// `sock.setblocking(flag)`: a `settimeout` call.
    "setblocking" => Setblocking(SetblockingArgs),
    /// recv until exactly `size` bytes have arrived.
    "recv_exact" => RecvExact(RecvExactArgs),
    /// recv until end of stream.
    "recv_until_eof" => RecvUntilEof(RecvUntilEofArgs),
    /// Raise a named signal (no socket call).
    "signal" => Signal(String),
    /// Wait until a named signal is raised (no socket call).
    "wait" => Wait(String),
    /// A file-system step the runner performs in the scenario's directory (no socket call).
    "fs" => Fs(super::FsStep),
    /// Take a link of the scenario's network down, both ends (no socket call).
    "link_down" => LinkDown(String),
    /// Bring a link of the scenario's network back up, with its addresses and routes.
    "link_up" => LinkUp(String),
    /// Add, replace or delete a route of a host of the scenario (no socket call).
    "route" => Route(super::RouteStep),
}

impl<T: Into<CallStep>> From<T> for Op {
    fn from(step: T) -> Op {
        Op::Call(step.into())
    }
}

impl Op {
    /// Every step's name, as written in YAML: the table's operations, then the others.
    pub fn names() -> impl Iterator<Item = &'static str> + Clone {
        CallStep::NAMES.iter().chain(Op::COMPOSITE_NAMES).copied()
    }

    /// What the operation's arguments refer to. A step that is not one call of the table names
    /// at most a socket and, for the receiving loops, the `bufsize` of each receive.
    pub fn parts(&self) -> Parts<'_> {
        fn on(socket: &str) -> Parts<'_> {
            Parts {
                socket: Some(socket),
                ..Parts::default()
            }
        }
        match self {
            Op::Call(call) => call.parts(),
            Op::Setblocking(a) => on(&a.socket),
            Op::RecvExact(a) => Parts {
                bufsize: Some(a.bufsize),
                ..on(&a.socket)
            },
            Op::RecvUntilEof(a) => Parts {
                bufsize: Some(a.bufsize),
                ..on(&a.socket)
            },
            Op::Signal(_)
            | Op::Wait(_)
            | Op::Fs(_)
            | Op::LinkDown(_)
            | Op::LinkUp(_)
            | Op::Route(_) => Parts::default(),
        }
    }

    /// The names the operation binds from its result (none for a step that is not one call).
    pub fn binds(&self) -> Option<&Names> {
        match self {
            Op::Call(call) => Some(call.names()),
            Op::Setblocking(_)
            | Op::RecvExact(_)
            | Op::RecvUntilEof(_)
            | Op::Signal(_)
            | Op::Wait(_)
            | Op::Fs(_)
            | Op::LinkDown(_)
            | Op::LinkUp(_)
            | Op::Route(_) => None,
        }
    }

    /// The socket (actor-local name) this operation acts on, if any.
    pub fn socket(&self) -> Option<&str> {
        self.parts().socket
    }

    /// The socket names this operation creates.
    pub fn creates(&self) -> Vec<&str> {
        self.binds()
            .map_or_else(Vec::new, |n| n.new.iter().map(String::as_str).collect())
    }

    /// The variable this operation captures an address or a count in, if any.
    pub fn captures(&self) -> Option<&str> {
        self.binds().and_then(|n| n.capture.as_deref())
    }

    /// True when what this operation [captures](Op::captures) is a count, not an address.
    pub fn captures_a_count(&self) -> bool {
        matches!(self, Op::Call(call) if call.captured() == Some(Captured::Count))
    }

    /// The addresses this operation reads.
    pub fn addresses(&self) -> Vec<&AddressExpr> {
        self.parts().addresses
    }

    /// The payload this operation holds, if any: what it sends, or the buffer a `recv_into`
    /// receives into.
    pub fn payload(&self) -> Option<&Payload> {
        self.parts().payload
    }

    /// The `bufsize` of each receive this operation makes, if it receives: the most one call
    /// may return.
    pub fn bufsize(&self) -> Option<usize> {
        self.parts().bufsize
    }

    /// What kind of value a successful call returns, for checking `expect`.
    pub fn returns(&self) -> Returns {
        match self {
            Op::Call(call) => call.returns(),
            Op::RecvExact(_) | Op::RecvUntilEof(_) => Returns::Data,
            Op::Fs(super::FsStep::Stat(_)) => Returns::File,
            Op::Setblocking(_)
            | Op::Signal(_)
            | Op::Wait(_)
            | Op::Fs(_)
            | Op::LinkDown(_)
            | Op::LinkUp(_)
            | Op::Route(_) => Returns::Nothing,
        }
    }

    fn add_needs(&self, needs: &mut Capabilities) {
        match self {
            Op::Call(call) => call.add_needs(needs),
            Op::Setblocking(a) => {
                if !a.blocking {
                    needs.features.insert(Feature::NonBlockingMode);
                }
            }
            Op::RecvExact(_)
            | Op::RecvUntilEof(_)
            | Op::Signal(_)
            | Op::Wait(_)
            | Op::Fs(_)
            | Op::LinkDown(_)
            | Op::LinkUp(_)
            | Op::Route(_) => {}
        }
    }
}

/// The needs of an actor's steps that depend on the kind of socket a step acts on: the
/// operations made, the kinds of socket created, the socket types each option is used on, and
/// the API shapes the steps cannot be run faithfully through.
fn socket_needs(actor: &Actor, needs: &mut Capabilities) {
    /// What the actor's steps have done to one socket so far.
    struct Known {
        kind: SocketKind,
        /// Bound, and neither listening nor connected since.
        only_bound: bool,
    }
    let mut sockets: HashMap<&str, Known> = HashMap::new();
    for step in &actor.steps {
        let operation = match &step.op {
            Op::Call(call) => Some(call.name()),
            Op::Setblocking(_) => Some("settimeout"),
            Op::RecvExact(_) | Op::RecvUntilEof(_) => Some("recv"),
            Op::Signal(_)
            | Op::Wait(_)
            | Op::Fs(_)
            | Op::LinkDown(_)
            | Op::LinkUp(_)
            | Op::Route(_) => None,
        };
        if let (Some(operation), Some(operations)) = (operation, needs.operations.as_mut()) {
            operations.insert(operation.to_string());
        }
        let Op::Call(call) = &step.op else { continue };
        let parts = step.op.parts();
        let target = parts.socket.and_then(|name| sockets.get_mut(name));
        if let (Some(option), Some(known)) = (parts.option, &target) {
            needs
                .option_types
                .entry(option)
                .or_default()
                .insert(known.kind.kind);
        }
        // What a stream socket's own bind does is seen only where the address is applied at
        // bind: in its outcome, and in its name before it listens or connects.
        let checks_bind = match call {
            CallStep::Bind(_) => {
                matches!(&target, Some(k) if k.kind.kind == SocketType::Stream)
                    && step.expect != Expect::default()
            }
            CallStep::Getsockname(_) => matches!(&target, Some(k) if k.only_bound),
            _ => false,
        };
        if checks_bind {
            needs.shapes.insert(ApiShape::DeferredBind);
        }
        match (call, target) {
            (CallStep::Bind(_), Some(known)) => {
                known.only_bound = known.kind.kind == SocketType::Stream && !step.expect.is_error()
            }
            (CallStep::Listen(_) | CallStep::Connect(_), Some(known)) => known.only_bound = false,
            _ => {}
        }
        // A socket made from a family and a type (`socket`, `socketpair`) is a new kind the
        // implementation must create; one made from another (`accept`) is of that one's kind.
        let made = parts
            .family
            .zip(parts.kind)
            .map(|(family, kind)| SocketKind { family, kind });
        let created = made.or_else(|| {
            parts
                .socket
                .and_then(|name| sockets.get(name))
                .map(|k| k.kind)
        });
        if let (Some(kind), Some(kinds)) = (made, needs.sockets.as_mut()) {
            kinds.insert(kind);
        }
        if let Some(kind) = created {
            for name in step.op.creates() {
                sockets.insert(
                    name,
                    Known {
                        kind,
                        only_bound: false,
                    },
                );
            }
        }
    }
}

/// What a successful operation returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returns {
    /// Nothing (`None` in Python).
    Nothing,
    /// A byte count.
    Count,
    /// Bytes.
    Data,
    /// Bytes and an address.
    DataAndAddress,
    /// An address.
    Address,
    /// An integer (or a boolean as 0/1): getsockopt, getblocking, fileno.
    Value,
    /// A file's type and permission bits (`fs: {stat}`).
    File,
    /// `recvmsg`: bytes, `msg_flags` and an address.
    Message,
    /// `recv_into`: a count and the buffer.
    Filled,
    /// `recvfrom_into`: a count, the buffer and an address.
    FilledFrom,
    /// `gettimeout`: a timeout (`null`, 0 or seconds).
    Timeout,
    /// `poll`: readiness events.
    Events,
}

impl Returns {
    /// A count that `returns` checks.
    pub fn has_count(self) -> bool {
        matches!(self, Returns::Count | Returns::Filled | Returns::FilledFrom)
    }

    /// Bytes that `data`, `size`… check (for `recv_into`: the whole buffer after the call).
    pub fn has_data(self) -> bool {
        matches!(
            self,
            Returns::Data
                | Returns::DataAndAddress
                | Returns::Message
                | Returns::Filled
                | Returns::FilledFrom
        )
    }

    /// An address that `address` checks.
    pub fn has_address(self) -> bool {
        matches!(
            self,
            Returns::Address | Returns::DataAndAddress | Returns::Message | Returns::FilledFrom
        )
    }
}

/// What a step must produce: by default success; or an error; or one of several outcomes.
///
/// YAML: `expect: ok`, or a map of the fields below.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectFields {
    /// The call fails with this error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorCode>,
    /// `send`/`sendto` returns this count, or a count in this range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returns: Option<CountRange>,
    /// The data received is exactly this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Payload>,
    /// The data received has exactly this many bytes (a number, or `$NAME`: a count a `send`
    /// captured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<Count>,
    /// The data received has at least this many bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_size: Option<usize>,
    /// The data received has at most this many bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_size: Option<usize>,
    /// `true`: the receive returned no bytes (end of stream).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eof: Option<bool>,
    /// The address returned (accept's peer, recvfrom's sender, getsockname…) matches this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressExpr>,
    /// `getsockopt` returns this value (booleans as 0/1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<OptionValue>,
    /// `fs: {stat}` finds a file of this type and mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<super::FileCheck>,
    /// `getsockopt`/`fileno` returns at least this value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_value: Option<i64>,
    /// `recvmsg`'s `msg_flags` are exactly these (`[]`: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_flags: Option<Vec<MsgFlag>>,
    /// `gettimeout` returns this: `null` (blocking), `0s` (non-blocking) or a duration.
    #[serde(
        default,
        deserialize_with = "expected_timeout",
        serialize_with = "super::write::expected_timeout",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout: Option<Mode>,
    /// `poll` reports exactly these events (`[]`: none, the timeout passed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<PollEvent>>,
    /// `poll` reports at least these events (and maybe others).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events_include: Option<Vec<PollEvent>>,
    /// `poll` reports none of these events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events_exclude: Option<Vec<PollEvent>>,
    /// Implementation-defined behaviour: any one of these outcomes passes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub one_of: Vec<Expect>,
    /// Why (for `one_of`: which systems do what).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// An expectation; see [`ExpectFields`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expect(pub ExpectFields);

impl Expect {
    /// True when this expects the call to fail.
    pub fn is_error(&self) -> bool {
        self.0.error.is_some()
    }
}

impl<'de> Deserialize<'de> for Expect {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Expect;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`ok` or a map such as {error: ECONNREFUSED} or {data: hello}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Expect, E> {
                match v {
                    "ok" => Ok(Expect::default()),
                    other => Err(E::custom(format!(
                        "unknown expectation `{other}`, expected `ok` or a map such as {{error: {other}}}"
                    ))),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Expect, A::Error> {
                ExpectFields::deserialize(de::value::MapAccessDeserializer::new(map)).map(Expect)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// The keys a step may have besides its operation.
pub const STEP_KEYS: &[&str] = &[
    "expect",
    "timeout",
    "announce",
    "blocks_until",
    "min_elapsed",
];

/// A step as parsed, before the loader attaches its location.
#[derive(Clone, Debug)]
pub(crate) struct ParsedStep {
    pub op: Op,
    pub expect: Expect,
    pub timeout: Option<Duration>,
    pub announce: Option<String>,
    pub blocks_until: Option<String>,
    pub min_elapsed: Option<Duration>,
}

impl ParsedStep {
    /// Reads a step, reporting every key that is wrong rather than only the first.
    pub(crate) fn from_node(node: &Node) -> Result<ParsedStep, Vec<SyntaxError>> {
        let error = |location, message: String| SyntaxError { location, message };
        let Node::Map(entries, _) = node else {
            return Err(vec![error(
                node.location(),
                "a step is a map with one operation, e.g. `close: {socket: s}`".to_string(),
            )]);
        };
        let mut errors = Vec::new();
        let mut op: Option<Op> = None;
        let mut step = ParsedStep {
            op: Op::Wait(String::new()),
            expect: Expect::default(),
            timeout: None,
            announce: None,
            blocks_until: None,
            min_elapsed: None,
        };
        let mut op_name: Option<&str> = None;
        for (key, value) in entries {
            let Some(name) = key.as_str() else {
                errors.push(error(key.location(), "a step's keys are names".to_string()));
                continue;
            };
            let result = match name {
                "expect" => value.deserialize().map(|e| step.expect = e),
                "timeout" => value
                    .deserialize::<DurationText>()
                    .map(|d| step.timeout = Some(d.0)),
                "announce" => value.deserialize().map(|a| step.announce = Some(a)),
                "blocks_until" => value.deserialize().map(|b| step.blocks_until = Some(b)),
                "min_elapsed" => value
                    .deserialize::<DurationText>()
                    .map(|d| step.min_elapsed = Some(d.0)),
                name => match Op::from_node(name, value) {
                    Some(_) if op_name.is_some() => Err(error(
                        key.location(),
                        format!(
                            "step has two operations (`{}` and `{name}`): write one step each",
                            op_name.unwrap_or("?")
                        ),
                    )),
                    Some(parsed) => {
                        op_name = Some(name);
                        match parsed {
                            Ok(parsed) => op = Some(parsed),
                            Err(mistakes) => errors.extend(mistakes),
                        }
                        Ok(())
                    }
                    None => Err(error(
                        key.location(),
                        format!(
                            "unknown step `{name}`, expected one of {}{}",
                            Op::names().collect::<Vec<_>>().join(", "),
                            did_you_mean(name, Op::names().chain(STEP_KEYS.iter().copied()))
                        ),
                    )),
                },
            };
            if let Err(e) = result {
                errors.push(e);
            }
        }
        if op_name.is_none() && errors.is_empty() {
            errors.push(error(
                node.location(),
                format!(
                    "step has no operation: expected one of {}",
                    Op::names().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        match op {
            Some(op) if errors.is_empty() => Ok(ParsedStep { op, ..step }),
            _ => Err(errors),
        }
    }
}

/// A duration written as text: `5s`, `250ms`, `1m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationText(pub Duration);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text)
            .map(DurationText)
            .map_err(|e| {
                de::Error::custom(format!(
                    "invalid duration `{text}` ({e}); write e.g. `5s` or `250ms`"
                ))
            })
    }
}

/// An optional duration read from a node (`null` for none).
pub(crate) fn optional_duration_node(node: &Node) -> Result<Option<Duration>, SyntaxError> {
    Ok(node.deserialize::<Option<DurationText>>()?.map(|d| d.0))
}

/// `timeout:` in an expectation: present and `null` is blocking (unlike an absent key).
fn expected_timeout<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Mode>, D::Error> {
    Ok(Some(Mode::of_timeout(optional_duration(deserializer)?)))
}

fn optional_duration<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    Ok(Option::<DurationText>::deserialize(deserializer)?.map(|d| d.0))
}

/// The top of a parameterised scenario, read before its `$(name)` references are replaced (every
/// other key is skipped unread).
#[derive(Deserialize)]
pub(crate) struct ParameterHeader {
    #[serde(default)]
    pub parameters: std::collections::BTreeMap<String, Range>,
    pub cases: Option<u32>,
}

/// `{min: A, max: B}`: the integers from A to B, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// The smallest value.
    pub min: u64,
    /// The largest value.
    pub max: u64,
}
