//! The steps that make one socket call, derived from the table of operations.
//!
//! Every operation of [`crate::operation`]'s table is a step of the same name: its arguments are
//! the call's fields as a scenario writes them ([`Argument`] says how each type is written: a
//! handle as the socket's name, an address as an [`AddressExpr`], bytes as a [`Payload`]…), and
//! what it returns decides which names it binds ([`Outcome`]: `as` for the sockets it creates,
//! `capture`, `peer` or `sender` for the value it returns). From the table come the step structs
//! ([`steps`]), [`CallStep`], their parsing (every wrong key reported, with its location) and
//! writing, what each step needs of an implementation, and [`CallStep::to_call`], which makes
//! the [`Call`] once the runner has resolved the names.
//!
//! So adding an operation whose fields and result have types this module knows takes no code
//! here; a new type needs its [`Argument`] or [`Outcome`] implementation.

use super::model::{DurationText, OptionValue, Returns};
use super::{AddressExpr, Payload};
use crate::operation::{
    Accepted, Backlog, Bytes, Call, Filled, FilledFrom, Handle, Message, Millis, Named, Opened,
    Pair, Ready, Received, ReceivedFrom,
};
use crate::vocab::{
    did_you_mean, Address, Capabilities, ErrorCode, Family, Feature, Mode, PollEvent, RecvFlags,
    SockError, SocketOption, SocketType,
};
use crate::yaml::{Location, Node, SyntaxError};
use serde::de::{DeserializeOwned, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// What a step's arguments refer to, for the loader's checks and the runner.
#[derive(Clone, Debug, Default)]
pub struct Parts<'a> {
    /// The socket the call acts on (a handle field).
    pub socket: Option<&'a str>,
    /// The addresses it uses.
    pub addresses: Vec<&'a AddressExpr>,
    /// The bytes it sends, or the buffer it receives into.
    pub payload: Option<&'a Payload>,
    /// The most bytes one call may return (a field named `bufsize`).
    pub bufsize: Option<usize>,
    /// Its `recv` flags.
    pub flags: Option<RecvFlags>,
    /// The durations it passes (a timeout), for the limits.
    pub durations: Vec<Duration>,
    /// The values it passes as a C `int` (an option's value), which must fit in one.
    pub c_ints: Vec<i64>,
    /// The family of the socket it creates.
    pub family: Option<Family>,
    /// The type of the socket it creates.
    pub kind: Option<SocketType>,
    /// The socket option it sets or reads.
    pub option: Option<SocketOption>,
}

/// Turns the names a step uses into the values a call takes; the runner implements it.
pub trait Resolve {
    /// Why a name could not be resolved; a payload sockspec cannot allocate is a
    /// [`SockError`] (`broken`: sockspec's failure, not the implementation's).
    type Error: From<SockError>;
    /// The handle of the socket this actor named `name`.
    fn socket(&mut self, name: &str) -> Result<Handle, Self::Error>;
    /// The address `expr` stands for in this run.
    fn address(&mut self, expr: &AddressExpr) -> Result<Address, Self::Error>;
}

/// How a call's argument of this type is written in a step, and what it stands for.
pub trait Argument: Sized {
    /// What the step holds.
    type Written: Clone + fmt::Debug + PartialEq + DeserializeOwned + Serialize;

    /// The value when the step leaves the key out, if it may (an `Option` is then `None`).
    fn absent() -> Option<Self::Written> {
        None
    }

    /// Adds what the argument refers to.
    fn parts<'a>(_written: &'a Self::Written, _parts: &mut Parts<'a>) {}

    /// Adds what an implementation must support for this value.
    fn needs(_written: &Self::Written, _needs: &mut Capabilities) {}

    /// The call's value.
    fn resolve<R: Resolve>(written: &Self::Written, resolver: &mut R) -> Result<Self, R::Error>;

    /// Values to try for a required argument of this type in generated calls (see
    /// [`CallStep::samples`]); none when there is no sensible one (an operation that needs it
    /// is then not sampled).
    fn samples(_context: &SampleContext) -> Vec<Self::Written> {
        Vec::new()
    }
}

/// What generated calls use for their socket and their address (see [`CallStep::samples`]).
#[derive(Clone, Debug)]
pub struct SampleContext {
    /// The socket every call acts on.
    pub socket: String,
    /// The address every call that takes one uses.
    pub address: AddressExpr,
}

impl Argument for Handle {
    type Written = String;
    fn parts<'a>(written: &'a String, parts: &mut Parts<'a>) {
        parts.socket = Some(written);
    }
    fn resolve<R: Resolve>(written: &String, resolver: &mut R) -> Result<Handle, R::Error> {
        resolver.socket(written)
    }
    fn samples(context: &SampleContext) -> Vec<String> {
        vec![context.socket.clone()]
    }
}

impl Argument for Address {
    type Written = AddressExpr;
    fn parts<'a>(written: &'a AddressExpr, parts: &mut Parts<'a>) {
        parts.addresses.push(written);
    }
    fn resolve<R: Resolve>(written: &AddressExpr, resolver: &mut R) -> Result<Address, R::Error> {
        resolver.address(written)
    }
    fn samples(context: &SampleContext) -> Vec<AddressExpr> {
        vec![context.address.clone()]
    }
}

impl Argument for Bytes {
    type Written = Payload;
    fn parts<'a>(written: &'a Payload, parts: &mut Parts<'a>) {
        parts.payload = Some(written);
    }
    fn resolve<R: Resolve>(written: &Payload, _: &mut R) -> Result<Bytes, R::Error> {
        // Memory sockspec cannot get is its own failure (`error`), not the implementation's.
        written.bytes().map(Bytes).map_err(|e| {
            R::Error::from(SockError {
                code: ErrorCode::Broken,
                message: e.to_string(),
            })
        })
    }
    fn samples(_: &SampleContext) -> Vec<Payload> {
        vec![Payload::Text("x".to_string())]
    }
}

impl<T: Argument> Argument for Option<T> {
    type Written = Option<T::Written>;
    fn absent() -> Option<Self::Written> {
        Some(None)
    }
    fn parts<'a>(written: &'a Self::Written, parts: &mut Parts<'a>) {
        if let Some(w) = written {
            T::parts(w, parts);
        }
    }
    fn needs(written: &Self::Written, needs: &mut Capabilities) {
        if let Some(w) = written {
            T::needs(w, needs);
        }
    }
    fn resolve<R: Resolve>(written: &Self::Written, resolver: &mut R) -> Result<Self, R::Error> {
        written
            .as_ref()
            .map(|w| T::resolve(w, resolver))
            .transpose()
    }
}

/// Arguments written as the call takes them, with what each needs and the values generated
/// calls try.
macro_rules! written_as_is {
    ($( $ty:ty => |$w:ident, $needs:ident| $body:expr,
        parts |$pw:ident, $parts:ident| $parts_body:expr,
        samples $samples:expr; )*) => {
        $(
            impl Argument for $ty {
                type Written = $ty;
                fn parts<'a>($pw: &'a $ty, $parts: &mut Parts<'a>) {
                    $parts_body
                }
                fn needs($w: &$ty, $needs: &mut Capabilities) {
                    $body
                }
                fn resolve<R: Resolve>(written: &$ty, _: &mut R) -> Result<$ty, R::Error> {
                    Ok(written.clone())
                }
                fn samples(_: &SampleContext) -> Vec<$ty> {
                    $samples
                }
            }
        )*
    };
}

written_as_is! {
    // A call that makes a socket is not tried on another one.
    Family => |family, needs| { needs.families.insert(*family); },
        parts |family, parts| { parts.family = Some(*family); }, samples vec![];
    SocketType => |kind, needs| { needs.types.insert(*kind); },
        parts |kind, parts| { parts.kind = Some(*kind); }, samples vec![];
    SocketOption => |option, needs| { needs.options.insert(*option); },
        parts |option, parts| { parts.option = Some(*option); },
        samples SocketOption::ALL.to_vec();
    usize => |_n, _needs| {}, parts |_n, _parts| {}, samples vec![16];
    crate::vocab::Shutdown => |_how, _needs| {}, parts |_how, _parts| {}, samples vec![
        crate::vocab::Shutdown::Read,
        crate::vocab::Shutdown::Write,
        crate::vocab::Shutdown::Both,
    ];
    Vec<PollEvent> => |_events, _needs| {}, parts |_events, _parts| {},
        samples vec![vec![PollEvent::In]];
}

impl Argument for RecvFlags {
    type Written = RecvFlags;
    fn parts<'a>(written: &'a RecvFlags, parts: &mut Parts<'a>) {
        parts.flags = Some(*written);
    }
    fn needs(flags: &RecvFlags, needs: &mut Capabilities) {
        if !flags.is_empty() {
            needs.features.insert(Feature::RecvFlags);
        }
    }
    fn resolve<R: Resolve>(written: &RecvFlags, _: &mut R) -> Result<RecvFlags, R::Error> {
        Ok(*written)
    }
}

impl Argument for Backlog {
    type Written = i32;
    fn needs(_: &i32, needs: &mut Capabilities) {
        needs.features.insert(Feature::Backlog);
    }
    fn resolve<R: Resolve>(written: &i32, _: &mut R) -> Result<Backlog, R::Error> {
        Ok(Backlog(*written))
    }
}

/// An option's value: `true`, `false`, an integer or an errno name.
impl Argument for i64 {
    type Written = OptionValue;
    fn parts<'a>(written: &'a OptionValue, parts: &mut Parts<'a>) {
        parts.c_ints.push(written.0);
    }
    fn resolve<R: Resolve>(written: &OptionValue, _: &mut R) -> Result<i64, R::Error> {
        Ok(written.0)
    }
    fn samples(_: &SampleContext) -> Vec<OptionValue> {
        vec![OptionValue(1)]
    }
}

/// Milliseconds, written as a duration (`250ms`, `0s`).
impl Argument for Millis {
    type Written = DurationText;
    fn parts<'a>(written: &'a DurationText, parts: &mut Parts<'a>) {
        parts.durations.push(written.0);
    }
    fn resolve<R: Resolve>(written: &DurationText, _: &mut R) -> Result<Millis, R::Error> {
        Ok(Millis(
            u64::try_from(written.0.as_millis()).unwrap_or(u64::MAX),
        ))
    }
}

/// A socket's mode, written as `settimeout`'s argument: `null` blocks, `0s` is non-blocking,
/// any other duration is timeout mode.
impl Argument for Mode {
    type Written = Timeout;
    fn parts<'a>(written: &'a Timeout, parts: &mut Parts<'a>) {
        parts.durations.extend(written.0);
    }
    fn needs(written: &Timeout, needs: &mut Capabilities) {
        needs.features.insert(match written.0 {
            Some(t) if t.is_zero() => Feature::NonBlockingMode,
            None | Some(_) => Feature::TimeoutMode,
        });
    }
    fn resolve<R: Resolve>(written: &Timeout, _: &mut R) -> Result<Mode, R::Error> {
        Ok(Mode::of_timeout(written.0))
    }
    fn samples(_: &SampleContext) -> Vec<Timeout> {
        vec![
            Timeout(None),
            Timeout(Some(Duration::ZERO)),
            Timeout(Some(Duration::from_millis(1500))),
        ]
    }
}

/// A timeout as `settimeout` takes it: `null` (none: blocking) or a duration (`0s`, `1.5s`).
/// Unlike an optional key, it must be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeout(pub Option<Duration>);

impl<'de> Deserialize<'de> for Timeout {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Timeout(
            Option::<DurationText>::deserialize(deserializer)?.map(|d| d.0),
        ))
    }
}

impl Serialize for Timeout {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.map(DurationText).serialize(serializer)
    }
}

/// What a call's result lets a step check and name.
pub trait Outcome {
    /// The kind of value, for checking `expect`.
    const RETURNS: Returns;
    /// How many sockets the call creates (named by the step's `as`).
    const CREATES: usize = 0;
    /// The key under which a step captures the returned value, and what it captures.
    const CAPTURE: Option<(&'static str, Captured)> = None;
}

/// What a step's capture holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Captured {
    /// An address (`$NAME` in later addresses).
    Address,
    /// A count (`size: $NAME` in later expectations).
    Count,
}

macro_rules! outcomes {
    ($( $ty:ty => $returns:ident $(, creates $n:literal)? $(, $key:literal => $captured:ident)?; )*) => {
        $(
            impl Outcome for $ty {
                const RETURNS: Returns = Returns::$returns;
                $( const CREATES: usize = $n; )?
                $( const CAPTURE: Option<(&'static str, Captured)> = Some(($key, Captured::$captured)); )?
            }
        )*
    };
}

outcomes! {
    () => Nothing;
    Opened => Nothing, creates 1;
    Pair => Nothing, creates 2;
    Accepted => Address, creates 1, "peer" => Address;
    usize => Count, "capture" => Count;
    Received => Data;
    ReceivedFrom => DataAndAddress, "sender" => Address;
    Named => Address, "capture" => Address;
    i64 => Value;
    bool => Value;
    Message => Message, "sender" => Address;
    Filled => Filled;
    FilledFrom => FilledFrom, "sender" => Address;
    Mode => Timeout;
    Ready => Events;
}

/// The names a step binds from its call's result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    /// `as`: the names the sockets the call creates get in this actor.
    pub new: Vec<String>,
    /// The variable the returned address or count is captured in (`capture`, `peer` or
    /// `sender`, as the operation calls it).
    pub capture: Option<String>,
}

impl Names {
    /// No names.
    pub fn none() -> Names {
        Names::default()
    }

    /// `as: name`.
    pub fn new_socket(name: &str) -> Names {
        Names {
            new: vec![name.to_string()],
            capture: None,
        }
    }

    /// This, capturing the result in `var`.
    pub fn capturing(self, var: &str) -> Names {
        Names {
            capture: Some(var.to_string()),
            ..self
        }
    }
}

/// Reads a step's arguments, collecting every mistake.
struct Reader<'a> {
    operation: &'static str,
    entries: &'a [(Node, Node)],
    location: Location,
    errors: Vec<SyntaxError>,
    /// Whether a key was not one of the operation's: a missing argument is then most likely
    /// that key misspelt, which its own error already says.
    misspelt: bool,
}

impl<'a> Reader<'a> {
    /// Checks that `node` is a map whose keys are all `keys` or the operation's names.
    fn new(
        operation: &'static str,
        node: &'a Node,
        keys: &[&'static str],
        creates: usize,
        capture: Option<&'static str>,
    ) -> Result<Reader<'a>, Vec<SyntaxError>> {
        let Node::Map(entries, _) = node else {
            return Err(vec![SyntaxError {
                location: node.location(),
                message: format!(
                    "`{operation}` takes a map of its arguments, e.g. {{{}: …}}",
                    keys.first().copied().unwrap_or("socket")
                ),
            }]);
        };
        let mut known: Vec<&'static str> = keys.to_vec();
        if creates > 0 {
            known.push("as");
        }
        known.extend(capture);
        let mut reader = Reader {
            operation,
            entries,
            location: node.location(),
            errors: Vec::new(),
            misspelt: false,
        };
        for (key, _) in entries {
            match key.as_str() {
                Some(k) if known.contains(&k) => {}
                other => {
                    let k = other.unwrap_or("?");
                    reader.misspelt = true;
                    reader.errors.push(SyntaxError {
                        location: key.location(),
                        message: format!(
                            "`{operation}` has no argument `{k}`: it takes {}{}",
                            known.join(", "),
                            did_you_mean(k, known.iter().copied())
                        ),
                    });
                }
            }
        }
        Ok(reader)
    }

    fn value(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The argument under `key`, or its default.
    fn take<T: Argument>(
        &mut self,
        key: &'static str,
        default: Option<T::Written>,
    ) -> Option<T::Written> {
        match self.value(key) {
            Some(node) => node
                .deserialize::<T::Written>()
                .map_err(|e| self.errors.push(e))
                .ok(),
            None => default.or_else(T::absent).or_else(|| {
                if !self.misspelt {
                    self.errors.push(SyntaxError {
                        location: self.location,
                        message: format!("`{}` needs `{key}`", self.operation),
                    });
                }
                None
            }),
        }
    }

    /// The names the step binds.
    fn names(&mut self, creates: usize, capture: Option<&'static str>) -> Names {
        let new = match (creates, self.value("as")) {
            (0, _) => Vec::new(),
            (_, None) if self.misspelt => Vec::new(),
            (_, None) => {
                self.errors.push(SyntaxError {
                    location: self.location,
                    message: format!(
                        "`{}` needs `as`: the name{} of the socket{} it creates",
                        self.operation,
                        if creates == 1 { "" } else { "s" },
                        if creates == 1 { "" } else { "s" },
                    ),
                });
                Vec::new()
            }
            (1, Some(node)) => node
                .deserialize::<String>()
                .map(|name| vec![name])
                .map_err(|e| self.errors.push(e))
                .unwrap_or_default(),
            (_, Some(node)) => match node.deserialize::<Vec<String>>() {
                Ok(names) if names.len() == creates => names,
                Ok(names) => {
                    self.errors.push(SyntaxError {
                        location: node.location(),
                        message: format!(
                            "`as` names the {creates} sockets `{}` creates, e.g. [a, b]; got {} name{}",
                            self.operation,
                            names.len(),
                            if names.len() == 1 { "" } else { "s" }
                        ),
                    });
                    Vec::new()
                }
                Err(e) => {
                    self.errors.push(e);
                    Vec::new()
                }
            },
        };
        let capture = capture.and_then(|key| self.value(key)).and_then(|node| {
            node.deserialize::<String>()
                .map_err(|e| self.errors.push(e))
                .ok()
        });
        Names { new, capture }
    }
}

/// Writes the names a step binds after its arguments.
fn serialize_names<M: SerializeMap>(
    map: &mut M,
    names: &Names,
    creates: usize,
    capture: Option<&'static str>,
) -> Result<(), M::Error> {
    match creates {
        0 => {}
        1 => map.serialize_entry("as", names.new.first().map_or("", String::as_str))?,
        _ => map.serialize_entry("as", &names.new)?,
    }
    if let (Some(key), Some(var)) = (capture, &names.capture) {
        map.serialize_entry(key, var)?;
    }
    Ok(())
}

/// A field's key in a step: its name, or what `as "key"` says.
macro_rules! step_key {
    ($field:ident) => {
        stringify!($field)
    };
    ($field:ident $key:literal) => {
        $key
    };
}

/// A field's default in a step, if the table gives one.
macro_rules! step_default {
    () => {
        None
    };
    ($default:expr) => {
        Some($default)
    };
}

/// The bufsize a field gives, if it is the `bufsize` field.
macro_rules! bufsize_of {
    (bufsize, $value:expr) => {
        Some(*$value)
    };
    ($field:ident, $value:expr) => {
        None
    };
}

macro_rules! define_steps {
    ($(
        $(#[$doc:meta])*
        $name:literal => $method:ident: $Variant:ident($Args:ident {
            $( $(#[$field_attr:meta])* $field:ident $(as $key:literal)? : $field_ty:ty $(= $default:expr)?, )*
        }) -> $Ok:ty, needs [$($need:ident),*];
    )*) => {
        /// One struct per operation: a step's arguments and the names it binds.
        pub mod steps {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[doc = concat!("The step `", $name, "`: its arguments as the scenario wrote them, and the names it binds.")]
                #[doc = ""]
                $(#[$doc])*
                #[derive(Clone, Debug, PartialEq)]
                pub struct $Variant {
                    $(
                        #[doc = concat!("`", step_key!($field $($key)?), "`: the call's `", stringify!($field), "`, as the step writes it.")]
                        pub $field: <$field_ty as Argument>::Written,
                    )*
                    /// The names the step binds from the result.
                    pub names: Names,
                }

                impl $Variant {
                    const KEYS: &'static [&'static str] = &[$( step_key!($field $($key)?), )*];

                    pub(in crate::scenario) fn from_node(node: &Node) -> Result<$Variant, Vec<SyntaxError>> {
                        let creates = <$Ok as Outcome>::CREATES;
                        let capture = <$Ok as Outcome>::CAPTURE.map(|(key, _)| key);
                        let mut reader = Reader::new($name, node, Self::KEYS, creates, capture)?;
                        $(
                            let $field = reader.take::<$field_ty>(
                                step_key!($field $($key)?),
                                step_default!($($default)?),
                            );
                        )*
                        let names = reader.names(creates, capture);
                        match ($($field,)*) {
                            ($(Some($field),)*) if reader.errors.is_empty() => {
                                Ok($Variant { $($field,)* names })
                            }
                            _ => Err(reader.errors),
                        }
                    }

                    pub(in crate::scenario) fn parts(&self) -> Parts<'_> {
                        let mut parts = Parts::default();
                        $(
                            <$field_ty as Argument>::parts(&self.$field, &mut parts);
                            if let Some(bufsize) = bufsize_of!($field, &self.$field) {
                                parts.bufsize = Some(bufsize);
                            }
                        )*
                        parts
                    }

                    pub(in crate::scenario) fn add_needs(&self, needs: &mut Capabilities) {
                        $( <$field_ty as Argument>::needs(&self.$field, needs); )*
                    }

                    pub(in crate::scenario) fn to_call<R: Resolve>(&self, resolver: &mut R) -> Result<Call, R::Error> {
                        Ok(Call::$Variant(crate::operation::$Args {
                            $( $field: <$field_ty as Argument>::resolve(&self.$field, resolver)?, )*
                        }))
                    }
                }

                impl $Variant {
                    #[allow(unused_assignments, unused_mut, unused_variables)]
                    pub(in crate::scenario) fn samples(context: &SampleContext) -> Vec<CallStep> {
                        $(
                            let default: Option<<$field_ty as Argument>::Written> =
                                step_default!($($default)?);
                            let $field = match default.or_else(<$field_ty as Argument>::absent) {
                                Some(value) => vec![value],
                                None => <$field_ty as Argument>::samples(context),
                            };
                        )*
                        let total = 1 $( * $field.len() )*;
                        let names = Names {
                            new: (0..<$Ok as Outcome>::CREATES)
                                .map(|i| format!("never{}", i + 1))
                                .collect(),
                            capture: None,
                        };
                        (0..total)
                            .map(|i| {
                                let mut rest = i;
                                CallStep::$Variant($Variant {
                                    $(
                                        $field: {
                                            let value = $field[rest % $field.len()].clone();
                                            rest /= $field.len();
                                            value
                                        },
                                    )*
                                    names: names.clone(),
                                })
                            })
                            .collect()
                    }
                }

                impl Serialize for $Variant {
                    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                        let mut map = serializer.serialize_map(None)?;
                        $(
                            let default: Option<<$field_ty as Argument>::Written> =
                                step_default!($($default)?);
                            let absent = <$field_ty as Argument>::absent();
                            // Left out when it is what leaving it out means.
                            if default.or(absent).as_ref() != Some(&self.$field) {
                                map.serialize_entry(step_key!($field $($key)?), &self.$field)?;
                            }
                        )*
                        serialize_names(
                            &mut map,
                            &self.names,
                            <$Ok as Outcome>::CREATES,
                            <$Ok as Outcome>::CAPTURE.map(|(key, _)| key),
                        )?;
                        map.end()
                    }
                }

                impl From<$Variant> for CallStep {
                    fn from(step: $Variant) -> CallStep {
                        CallStep::$Variant(step)
                    }
                }
            )*
        }

        /// A step that makes one call of an operation of the table.
        #[derive(Clone, Debug, PartialEq)]
        pub enum CallStep {
            $(
                $(#[$doc])*
                $Variant(steps::$Variant),
            )*
        }

        impl CallStep {
            /// Every operation's step name, in table order.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// The step's name (the operation's).
            pub fn name(&self) -> &'static str {
                match self { $( CallStep::$Variant(_) => $name, )* }
            }

            /// The step `name` read from `node`; `None` when `name` is no operation of the
            /// table.
            pub(crate) fn from_node(
                name: &str,
                node: &Node,
            ) -> Option<Result<CallStep, Vec<SyntaxError>>> {
                Some(match name {
                    $( $name => steps::$Variant::from_node(node).map(CallStep::$Variant), )*
                    _ => return None,
                })
            }

            /// What the step's arguments refer to.
            pub fn parts(&self) -> Parts<'_> {
                match self { $( CallStep::$Variant(s) => s.parts(), )* }
            }

            /// The names it binds.
            pub fn names(&self) -> &Names {
                match self { $( CallStep::$Variant(s) => &s.names, )* }
            }

            /// What a successful call returns.
            pub fn returns(&self) -> Returns {
                match self { $( CallStep::$Variant(_) => <$Ok as Outcome>::RETURNS, )* }
            }

            /// What the step's capture holds, if the operation has one.
            pub fn captured(&self) -> Option<Captured> {
                match self {
                    $( CallStep::$Variant(_) => <$Ok as Outcome>::CAPTURE.map(|(_, c)| c), )*
                }
            }

            /// Adds what an implementation must support to make this call: what the table
            /// says of the operation, and what the arguments need.
            pub fn add_needs(&self, needs: &mut Capabilities) {
                match self {
                    $(
                        CallStep::$Variant(s) => {
                            needs.features.extend(crate::operation::needs_of($name).iter().copied());
                            s.add_needs(needs);
                        }
                    )*
                }
            }

            /// Calls of every operation that acts on `context.socket`, grouped by operation:
            /// each argument with a default takes it, each other one every value its type's
            /// [`Argument::samples`] gives (so `setsockopt` is tried with every option); the
            /// sockets a call creates are named `never1`, `never2`. An operation with an
            /// argument that has no sample (a family: `socket`) is left out.
            pub fn samples(context: &SampleContext) -> Vec<Vec<CallStep>> {
                let mut every = vec![$( steps::$Variant::samples(context), )*];
                every.retain(|group: &Vec<CallStep>| {
                    group.first().is_some_and(|call| call.parts().socket.is_some())
                });
                every
            }

            /// The call, with the names resolved.
            pub fn to_call<R: Resolve>(&self, resolver: &mut R) -> Result<Call, R::Error> {
                match self { $( CallStep::$Variant(s) => s.to_call(resolver), )* }
            }

            /// Writes the step as its YAML entry, `name: {arguments}`, into a step's map.
            pub(crate) fn serialize_entry<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
                match self { $( CallStep::$Variant(s) => map.serialize_entry($name, s), )* }
            }
        }
    };
}

crate::operation::operations!(define_steps);
