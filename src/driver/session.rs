//! A driver process behind the [`Session`] trait: each call is one request.

use super::process::DriverProcess;
use crate::implementation::{Handle, Session, SessionEndError, SockResult};
use crate::vocab::{
    Address, ErrorCode, Family, Mode, RecvFlags, Shutdown, SockError, SocketOption, SocketType,
};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Value};

/// One actor's driver process.
pub(crate) struct DriverSession {
    pub(crate) process: DriverProcess,
}

/// A reply that does not have the shape its operation promises.
fn malformed(op: &str, value: &Value) -> SockError {
    SockError {
        code: ErrorCode::Broken,
        message: format!("driver answered `{op}` with a malformed result: {value}"),
    }
}

fn json_name<T: serde::Serialize>(value: T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl DriverSession {
    fn call(&self, op: &str, fields: Value) -> SockResult<Value> {
        self.process.request(op, fields)
    }

    fn nothing(&self, op: &str, fields: Value) -> SockResult<()> {
        self.call(op, fields).map(|_| ())
    }

    fn handle_of(op: &str, value: &Value, key: &str) -> SockResult<Handle> {
        value
            .get(key)
            .and_then(Value::as_u64)
            .map(Handle)
            .ok_or_else(|| malformed(op, value))
    }

    fn address_of(op: &str, value: &Value) -> SockResult<Address> {
        value
            .get("address")
            .and_then(Value::as_str)
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| malformed(op, value))
    }

    fn data_of(op: &str, value: &Value) -> SockResult<Vec<u8>> {
        value
            .get("data")
            .and_then(Value::as_str)
            .and_then(|d| BASE64.decode(d).ok())
            .ok_or_else(|| malformed(op, value))
    }

    fn count_of(op: &str, value: &Value) -> SockResult<usize> {
        value
            .as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| malformed(op, value))
    }
}

impl Session for DriverSession {
    fn socket(&self, family: Family, kind: SocketType) -> SockResult<Handle> {
        let ok = self.call(
            "socket",
            json!({"family": json_name(family), "type": json_name(kind)}),
        )?;
        Self::handle_of("socket", &ok, "handle")
    }

    fn socketpair(&self, family: Family, kind: SocketType) -> SockResult<(Handle, Handle)> {
        let ok = self.call(
            "socketpair",
            json!({"family": json_name(family), "type": json_name(kind)}),
        )?;
        match ok
            .get("handles")
            .and_then(Value::as_array)
            .map(|a| a.as_slice())
        {
            Some([a, b]) => match (a.as_u64(), b.as_u64()) {
                (Some(a), Some(b)) => Ok((Handle(a), Handle(b))),
                _ => Err(malformed("socketpair", &ok)),
            },
            _ => Err(malformed("socketpair", &ok)),
        }
    }

    fn bind(&self, socket: Handle, address: &Address) -> SockResult<()> {
        self.nothing(
            "bind",
            json!({"handle": socket.0, "address": address.to_string()}),
        )
    }

    fn listen(&self, socket: Handle, backlog: Option<i32>) -> SockResult<()> {
        self.nothing("listen", json!({"handle": socket.0, "backlog": backlog}))
    }

    fn accept(&self, socket: Handle) -> SockResult<(Handle, Address)> {
        let ok = self.call("accept", json!({"handle": socket.0}))?;
        Ok((
            Self::handle_of("accept", &ok, "handle")?,
            Self::address_of("accept", &ok)?,
        ))
    }

    fn connect(&self, socket: Handle, address: &Address) -> SockResult<()> {
        self.nothing(
            "connect",
            json!({"handle": socket.0, "address": address.to_string()}),
        )
    }

    fn send(&self, socket: Handle, data: &[u8]) -> SockResult<usize> {
        let ok = self.call(
            "send",
            json!({"handle": socket.0, "data": BASE64.encode(data)}),
        )?;
        Self::count_of("send", &ok)
    }

    fn sendall(&self, socket: Handle, data: &[u8]) -> SockResult<()> {
        self.nothing(
            "sendall",
            json!({"handle": socket.0, "data": BASE64.encode(data)}),
        )
    }

    fn sendto(&self, socket: Handle, data: &[u8], address: &Address) -> SockResult<usize> {
        let ok = self.call(
            "sendto",
            json!({"handle": socket.0, "data": BASE64.encode(data), "address": address.to_string()}),
        )?;
        Self::count_of("sendto", &ok)
    }

    fn recv(&self, socket: Handle, bufsize: usize, flags: RecvFlags) -> SockResult<Vec<u8>> {
        let ok = self.call(
            "recv",
            json!({"handle": socket.0, "bufsize": bufsize, "flags": flags}),
        )?;
        Self::data_of("recv", &ok)
    }

    fn recvfrom(&self, socket: Handle, bufsize: usize) -> SockResult<(Vec<u8>, Address)> {
        let ok = self.call("recvfrom", json!({"handle": socket.0, "bufsize": bufsize}))?;
        Ok((
            Self::data_of("recvfrom", &ok)?,
            Self::address_of("recvfrom", &ok)?,
        ))
    }

    fn shutdown(&self, socket: Handle, how: Shutdown) -> SockResult<()> {
        self.nothing(
            "shutdown",
            json!({"handle": socket.0, "how": json_name(how)}),
        )
    }

    fn close(&self, socket: Handle) -> SockResult<()> {
        self.nothing("close", json!({"handle": socket.0}))
    }

    fn getsockname(&self, socket: Handle) -> SockResult<Address> {
        let ok = self.call("getsockname", json!({"handle": socket.0}))?;
        Self::address_of("getsockname", &ok)
    }

    fn getpeername(&self, socket: Handle) -> SockResult<Address> {
        let ok = self.call("getpeername", json!({"handle": socket.0}))?;
        Self::address_of("getpeername", &ok)
    }

    fn setsockopt(&self, socket: Handle, option: SocketOption, value: i64) -> SockResult<()> {
        self.nothing(
            "setsockopt",
            json!({"handle": socket.0, "option": json_name(option), "value": value}),
        )
    }

    fn getsockopt(&self, socket: Handle, option: SocketOption) -> SockResult<i64> {
        let ok = self.call(
            "getsockopt",
            json!({"handle": socket.0, "option": json_name(option)}),
        )?;
        ok.as_i64().ok_or_else(|| malformed("getsockopt", &ok))
    }

    fn set_mode(&self, socket: Handle, mode: Mode) -> SockResult<()> {
        let timeout = match mode {
            Mode::Blocking => Value::Null,
            Mode::NonBlocking => json!(0),
            Mode::Timeout(t) => json!(t.as_secs_f64()),
        };
        self.nothing(
            "settimeout",
            json!({"handle": socket.0, "timeout": timeout}),
        )
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
