//! Every socket operation an implementation performs, defined once.
//!
//! [`operations!`] is the one table of operations: each entry names the operation (as the driver
//! protocol writes it), the [`Session`](crate::implementation::Session) method that performs it,
//! its arguments (a `…Call` struct), what it returns, and the feature an implementation must
//! declare to be asked for it. Everything else is generated from the table:
//!
//! - the argument structs and [`Call`], one variant per operation, which are also the driver
//!   protocol's requests (serde, tagged by `op`);
//! - [`Reply`], what each operation returned, and [`Call::reply_from`], which reads a driver's
//!   `ok` value as the type its operation promises;
//! - the per-operation methods of the `Session` trait, each with a default that forwards to
//!   [`Session::perform`](crate::implementation::Session::perform) (so that an implementation
//!   implements what it supports, and a driver implements one method for all);
//! - [`dispatch`](crate::implementation::dispatch), which sends a [`Call`] to its method;
//! - [`Call::needs`], the capability a call needs, and [`Call::NAMES`];
//! - the driver protocol's JSON Schema (see [`crate::driver::schema`]).
//!
//! The table is an "X macro": `operations!(then)` calls the macro `then` with every entry, so each
//! layer generates its part where it lives. This module depends on the socket vocabulary alone;
//! the session side (the trait and `dispatch`) is generated in [`crate::implementation`].
//!
//! Adding an operation: see CONTRIBUTING.md, "Adding an operation".

mod wire;

pub use wire::{
    Accepted, Backlog, Bytes, Filled, FilledFrom, Message, Millis, Named, Opened, Pair, Ready,
    Received, ReceivedFrom,
};

use crate::vocab::{
    Address, ErrorCode, Family, Feature, Mode, PollEvent, RecvFlags, SockError, SocketOption,
    SocketType,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A socket inside one session: an opaque number the session chose.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
#[schemars(
    rename = "handle",
    description = "A socket, as the implementation numbered it; local to one session (one driver process)."
)]
pub struct Handle(pub u64);

impl std::fmt::Display for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The result of a socket call.
pub type SockResult<T> = Result<T, SockError>;

/// The table of operations. `operations!(then)` expands to `then! { …every entry… }`; an entry is
///
/// ```text
/// /// docs
/// "wire-name" => method: Variant(ArgsStruct { fields… }) -> OkType, needs [features…];
/// ```
///
/// and a field is `/// docs` and serde attributes (for the driver protocol), then
/// `name as "key": Type = default,`. A scenario step writes the field under `key` (the field's
/// name without `as`), and may leave it out when it has a `= default` (in the step's terms) or
/// its type is an `Option`; see [`crate::scenario::Argument`] for how each type is written in a
/// step. A field named `bufsize` bounds the bytes the call may return.
///
/// `operations!(brief => then)` gives `then` the entries without their fields, for the layers
/// that only dispatch: `/// docs "wire-name" => method: Variant(ArgsStruct) -> OkType;`.
macro_rules! operations {
    ($then:ident) => {
        $crate::operation::operations! { @ [$then] }
    };
    (brief => $then:ident) => {
        $crate::operation::operations! { @ [$crate::operation::brief] $then; }
    };
    (@ [$($macro:tt)*] $($prefix:tt)*) => {
        $($macro)*! {
            $($prefix)*
            /// `socket.socket(family, type)`: a new socket.
            "socket" => socket: Socket(SocketCall {
                /// The address family.
                family: Family,
                /// The socket type.
                #[serde(rename = "type")]
                kind as "type": SocketType,
            }) -> Opened, needs [UnboundSockets];
            /// `socket.socketpair(family, type)`: two sockets connected to each other.
            "socketpair" => socketpair: Socketpair(SocketpairCall {
                /// The address family.
                family: Family = Family::Unix,
                /// The socket type.
                #[serde(rename = "type")]
                kind as "type": SocketType,
            }) -> Pair, needs [Socketpair];
            /// `sock.bind(address)`.
            "bind" => bind: Bind(BindCall {
                /// The socket.
                handle as "socket": Handle,
                /// The local address.
                address: Address,
            }) -> (), needs [];
            /// `sock.listen(backlog)`; no backlog is Python's `listen()` with its default.
            "listen" => listen: Listen(ListenCall {
                /// The socket.
                handle as "socket": Handle,
                /// The backlog, or `null` for the library's default.
                backlog: Option<Backlog>,
            }) -> (), needs [];
            /// `sock.accept()`: the new connection and the peer's address.
            "accept" => accept: Accept(AcceptCall {
                /// The listening socket.
                handle as "socket": Handle,
            }) -> Accepted, needs [];
            /// `sock.connect(address)`.
            "connect" => connect: Connect(ConnectCall {
                /// The socket.
                handle as "socket": Handle,
                /// The peer's address.
                address: Address,
            }) -> (), needs [];
            /// `sock.send(data)`: how many bytes were taken.
            "send" => send: Send(SendCall {
                /// The socket.
                handle as "socket": Handle,
                /// The bytes to send.
                data: Bytes,
            }) -> usize, needs [];
            /// `sock.sendall(data)`: all of it, or an error.
            "sendall" => sendall: Sendall(SendallCall {
                /// The socket.
                handle as "socket": Handle,
                /// The bytes to send.
                data: Bytes,
            }) -> (), needs [];
            /// `sock.sendto(data, address)`: how many bytes were taken.
            "sendto" => sendto: Sendto(SendtoCall {
                /// The socket.
                handle as "socket": Handle,
                /// The bytes to send.
                data: Bytes,
                /// Where to.
                address: Address,
            }) -> usize, needs [];
            /// `sock.sendmsg([data], [], 0, address)`: one buffer, no ancillary data; how many
            /// bytes were taken. Without an address, to the connected peer.
            "sendmsg" => sendmsg: Sendmsg(SendmsgCall {
                /// The socket.
                handle as "socket": Handle,
                /// The bytes to send (the one buffer).
                data: Bytes,
                /// Where to, or `null` for the connected peer.
                address: Option<Address>,
            }) -> usize, needs [];
            /// `sock.recv(bufsize, flags)`: at most `bufsize` bytes; none at end of stream.
            "recv" => recv: Recv(RecvCall {
                /// The socket.
                handle as "socket": Handle,
                /// The most bytes to receive (Python's bufsize).
                bufsize: usize,
                /// `MSG_PEEK`, `MSG_WAITALL`, `MSG_DONTWAIT`.
                flags: RecvFlags = RecvFlags::default(),
            }) -> Received, needs [];
            /// `sock.recvfrom(bufsize)`: data and the sender's address.
            "recvfrom" => recvfrom: Recvfrom(RecvfromCall {
                /// The socket.
                handle as "socket": Handle,
                /// The most bytes to receive (Python's bufsize).
                bufsize: usize,
            }) -> ReceivedFrom, needs [];
            /// `sock.shutdown(how)`.
            "shutdown" => shutdown: Shutdown(ShutdownCall {
                /// The socket.
                handle as "socket": Handle,
                /// Which direction to shut.
                how: crate::vocab::Shutdown,
            }) -> (), needs [Shutdown];
            /// `sock.close()`. The handle stays known: later calls on it fail with `EBADF`.
            "close" => close: Close(CloseCall {
                /// The socket.
                handle as "socket": Handle,
            }) -> (), needs [];
            /// `sock.__exit__(None, None, None)`: what leaving a `with sock:` block does.
            "exit_context" => exit_context: ExitContext(ExitContextCall {
                /// The socket.
                handle as "socket": Handle,
            }) -> (), needs [];
            /// `sock.getsockname()`.
            "getsockname" => getsockname: Getsockname(GetsocknameCall {
                /// The socket.
                handle as "socket": Handle,
            }) -> Named, needs [];
            /// `sock.getpeername()`.
            "getpeername" => getpeername: Getpeername(GetpeernameCall {
                /// The socket.
                handle as "socket": Handle,
            }) -> Named, needs [];
            /// `sock.setsockopt(level, option, value)`; booleans are 0 or 1.
            "setsockopt" => setsockopt: Setsockopt(SetsockoptCall {
                /// The socket.
                handle as "socket": Handle,
                /// The option (its level is part of its name).
                option: SocketOption,
                /// The value, as an integer.
                value: i64,
            }) -> (), needs [];
            /// `sock.getsockopt(level, option)`: the option's value as an integer.
            "getsockopt" => getsockopt: Getsockopt(GetsockoptCall {
                /// The socket.
                handle as "socket": Handle,
                /// The option (its level is part of its name).
                option: SocketOption,
            }) -> i64, needs [];
            /// `sock.setsockopt(level, option, value)` with `value` a bytes object: the bytes
            /// are the option's buffer as given, its length their count.
            "setsockopt_bytes" => setsockopt_bytes: SetsockoptBytes(SetsockoptBytesCall {
                /// The socket.
                handle as "socket": Handle,
                /// The option (its level is part of its name).
                option: SocketOption,
                /// The option's buffer.
                value: Bytes,
            }) -> (), needs [];
            /// `sock.getsockopt(level, option, buflen)`: the option's buffer, at most `buflen`
            /// bytes of it.
            "getsockopt_bytes" => getsockopt_bytes: GetsockoptBytes(GetsockoptBytesCall {
                /// The socket.
                handle as "socket": Handle,
                /// The option (its level is part of its name).
                option: SocketOption,
                /// The buffer's size.
                buflen: usize,
            }) -> Received, needs [];
            /// `sock.recvmsg(bufsize, ancbufsize, flags)`: data, `msg_flags` by name, and the
            /// sender. The ancillary items themselves are not reported; `msg_flags` says
            /// (`ctrunc`) when they did not fit.
            "recvmsg" => recvmsg: Recvmsg(RecvmsgCall {
                /// The socket.
                handle as "socket": Handle,
                /// The most bytes to receive (Python's bufsize).
                bufsize: usize,
                /// The size of the buffer for ancillary data (Python's `ancbufsize`; 0: none).
                ancbufsize: usize = 0,
                /// `MSG_PEEK`, `MSG_WAITALL`, `MSG_DONTWAIT`, `MSG_TRUNC`.
                flags: RecvFlags = RecvFlags::default(),
            }) -> Message, needs [];
            /// `sock.recv_into(buffer, nbytes, flags)`: the count, and the whole buffer after.
            "recv_into" => recv_into: RecvInto(RecvIntoCall {
                /// The buffer's contents before the call (a `bytearray` of these bytes).
                buffer: Bytes,
                /// The socket.
                handle as "socket": Handle,
                /// The most bytes to receive; 0 means the buffer's size.
                nbytes: usize = 0,
                /// `MSG_PEEK`, `MSG_WAITALL`, `MSG_DONTWAIT`, `MSG_TRUNC`.
                flags: RecvFlags = RecvFlags::default(),
            }) -> Filled, needs [];
            /// `sock.recvfrom_into(buffer, nbytes, flags)`: the count, the buffer, the sender.
            "recvfrom_into" => recvfrom_into: RecvfromInto(RecvfromIntoCall {
                /// The buffer's contents before the call (a `bytearray` of these bytes).
                buffer: Bytes,
                /// The socket.
                handle as "socket": Handle,
                /// The most bytes to receive; 0 means the buffer's size.
                nbytes: usize = 0,
                /// `MSG_PEEK`, `MSG_WAITALL`, `MSG_DONTWAIT`, `MSG_TRUNC`.
                flags: RecvFlags = RecvFlags::default(),
            }) -> FilledFrom, needs [];
            /// `sock.gettimeout()`: `null` (blocking), `0` (non-blocking) or seconds.
            "gettimeout" => gettimeout: Gettimeout(GettimeoutCall {
                /// The socket.
                handle as "socket": Handle,
            }) -> Mode, needs [];
            /// `sock.getblocking()`.
            "getblocking" => getblocking: Getblocking(GetblockingCall {
                /// The socket.
                handle as "socket": Handle,
            }) -> bool, needs [];
            /// `sock.fileno()`: the descriptor, or -1 once closed.
            "fileno" => fileno: Fileno(FilenoCall {
                /// The socket.
                handle as "socket": Handle,
            }) -> i64, needs [];
            /// `select.poll()` with the socket registered for `events`, then `poll(timeout)`:
            /// the events reported (none when the timeout passed).
            "poll" => poll: Poll(PollCall {
                /// The socket.
                handle as "socket": Handle,
                /// The events asked for.
                events: Vec<PollEvent>,
                /// Milliseconds to wait at most; `null` waits until an event.
                timeout_ms as "timeout": Option<Millis>,
            }) -> Ready, needs [];
            /// `sock.settimeout(timeout)` (and `sock.setblocking(flag)`, which sets the same).
            "settimeout" => settimeout: Settimeout(SettimeoutCall {
                /// The socket.
                handle as "socket": Handle,
                /// `null` blocks, `0` is non-blocking, else seconds.
                timeout: Mode,
            }) -> (), needs [];
        }
    };
}
pub(crate) use operations;

/// `operations!(brief => then)`: the table's entries without their fields (see [`operations!`]).
macro_rules! brief {
    ($then:ident; $(
        $(#[$doc:meta])*
        $name:literal => $method:ident: $Variant:ident($Args:ident {
            $( $(#[$field_attr:meta])* $field:ident $(as $key:literal)? : $field_ty:ty $(= $default:expr)?, )*
        }) -> $Ok:ty, needs [$($need:ident),*];
    )*) => {
        $then! {
            $( $(#[$doc])* $name => $method: $Variant($Args) -> $Ok; )*
        }
    };
}
pub(crate) use brief;

/// Generates the argument structs, [`Call`], [`Reply`] and their helpers.
macro_rules! define_calls {
    ($(
        $(#[$doc:meta])*
        $name:literal => $method:ident: $Variant:ident($Args:ident {
            $( $(#[$field_attr:meta])* $field:ident $(as $key:literal)? : $field_ty:ty $(= $default:expr)?, )*
        }) -> $Ok:ty, needs [$($need:ident),*];
    )*) => {
        $(
            #[doc = concat!("The arguments of `", $name, "`.")]
            #[doc = ""]
            $(#[$doc])*
            #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
            #[serde(deny_unknown_fields)]
            pub struct $Args {
                $( $(#[$field_attr])* pub $field: $field_ty, )*
            }

            impl From<$Args> for Call {
                fn from(args: $Args) -> Call {
                    Call::$Variant(args)
                }
            }
        )*

        /// One call of one operation, with its arguments: what the runner asks a session to do,
        /// and (with a `seq`) a driver protocol request.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(tag = "op")]
        pub enum Call {
            $(
                $(#[$doc])*
                #[serde(rename = $name)]
                $Variant($Args),
            )*
        }

        /// What a call returned, by operation.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Reply {
            $(
                #[doc = concat!("What `", $name, "` returned.")]
                $Variant($Ok),
            )*
        }

        impl Call {
            /// Every operation's name, as the driver protocol writes it, in table order.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// Every operation's name but those in `unexpressible`: the operations an
            /// implementation declares when its API has no form of those.
            pub fn names_except(unexpressible: &[&str]) -> std::collections::BTreeSet<String> {
                Self::NAMES
                    .iter()
                    .filter(|op| !unexpressible.contains(op))
                    .map(|op| op.to_string())
                    .collect()
            }

            /// The operation's name, as the driver protocol writes it.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Call::$Variant(_) => $name, )*
                }
            }

            /// The features an implementation must declare to be asked for this operation
            /// (arguments may need more, e.g. a backlog; the scenario loader adds those).
            pub fn needs(&self) -> &'static [Feature] {
                needs_of(self.name())
            }

            /// Reads a driver's `ok` value as what this operation returns.
            pub fn reply_from(&self, ok: serde_json::Value) -> Result<Reply, serde_json::Error> {
                match self {
                    $( Call::$Variant(_) => serde_json::from_value::<$Ok>(ok).map(Reply::$Variant), )*
                }
            }
        }

        impl Reply {
            /// The operation this reply answers.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Reply::$Variant(_) => $name, )*
                }
            }

            /// The sockets the call created: a new socket, a pair, an accepted connection.
            pub fn created(&self) -> Vec<Handle> {
                match self {
                    $( Reply::$Variant(ok) => wire::Creates::created(ok), )*
                }
            }

            /// The reply as the driver protocol's `ok` value.
            pub fn to_json(&self) -> serde_json::Value {
                match self {
                    $( Reply::$Variant(ok) => serde_json::to_value(ok).unwrap_or_default(), )*
                }
            }
        }

        /// The features an implementation must declare to be asked for the operation called
        /// `name` (none for a name that is not an operation of the table).
        pub fn needs_of(name: &str) -> &'static [Feature] {
            match name {
                $( $name => &[$(Feature::$need),*], )*
                _ => &[],
            }
        }

        /// The JSON Schema of each operation's `ok` value, by operation name, in table order.
        pub fn ok_schemas(
            generator: &mut schemars::SchemaGenerator,
        ) -> Vec<(&'static str, schemars::Schema)> {
            vec![$( ($name, generator.subschema_for::<$Ok>()), )*]
        }
    };
}

operations!(define_calls);

/// The error a session answers for an operation it cannot express.
pub fn unsupported(operation: &str) -> SockError {
    SockError {
        code: ErrorCode::Unsupported,
        message: format!("`{operation}` is not supported by this implementation"),
    }
}

/// The part of a `recv_into`/`recvfrom_into` buffer the call may fill: the first `nbytes`
/// bytes, or all of it when `nbytes` is 0. More than the buffer holds is refused before any
/// system call, as CPython refuses it (`ValueError: buffer too small for requested bytes`).
pub fn recv_into_target(buffer: &mut [u8], nbytes: usize) -> SockResult<&mut [u8]> {
    match nbytes {
        0 => Ok(buffer),
        n if n <= buffer.len() => Ok(&mut buffer[..n]),
        n => Err(SockError {
            code: ErrorCode::Rejected,
            message: format!(
                "nbytes ({n}) is greater than the length of the buffer ({})",
                buffer.len()
            ),
        }),
    }
}

/// The error for a reply that answers another operation than the call asked.
pub fn mismatched(call: &str, reply: &Reply) -> SockError {
    SockError {
        code: ErrorCode::Broken,
        message: format!(
            "the implementation answered `{call}` with the result of `{}`",
            reply.name()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_a_request_tagged_by_its_operation() {
        let call = Call::from(BindCall {
            handle: Handle(3),
            address: "127.0.0.1:80".parse().unwrap(),
        });
        let json = serde_json::to_value(&call).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"op": "bind", "handle": 3, "address": "127.0.0.1:80"})
        );
        assert_eq!(serde_json::from_value::<Call>(json).unwrap(), call);
    }

    #[test]
    fn a_request_with_an_unknown_field_is_refused() {
        let json = serde_json::json!({"op": "close", "handle": 3, "how": "read"});
        assert!(serde_json::from_value::<Call>(json).is_err());
    }

    #[test]
    fn a_reply_is_read_as_the_type_its_operation_promises() {
        let call = Call::from(CloseCall { handle: Handle(1) });
        assert_eq!(
            call.reply_from(serde_json::Value::Null).unwrap(),
            Reply::Close(())
        );
        assert!(call.reply_from(serde_json::json!(3)).is_err());
        let recv = Call::from(RecvCall {
            handle: Handle(1),
            bufsize: 4,
            flags: RecvFlags::default(),
        });
        let reply = recv
            .reply_from(serde_json::json!({"data": "aGk="}))
            .unwrap();
        assert_eq!(
            reply,
            Reply::Recv(Received {
                data: Bytes(b"hi".to_vec())
            })
        );
        assert_eq!(reply.to_json(), serde_json::json!({"data": "aGk="}));
    }

    #[test]
    fn the_names_are_unique() {
        let mut names = Call::NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Call::NAMES.len());
    }
}
