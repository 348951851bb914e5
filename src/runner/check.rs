//! Comparing what a call did with what the step expects, and saying both in words.

use super::env::Env;
use crate::scenario::{hex, Expect, ExpectFields, ModeCheck};
use crate::vocab::{Address, Mode, MsgFlag, PollEvent, SockError};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// What a successful call returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    Nothing,
    Count(usize),
    Data(Vec<u8>),
    DataFrom(Vec<u8>, Address),
    Address(Address),
    Number(i64),
    File(crate::scenario::FileStatus),
    /// `recvmsg`: the bytes, `msg_flags`, the sender.
    Message(Vec<u8>, BTreeSet<MsgFlag>, Address),
    /// `recv_into` / `recvfrom_into`: the count, the whole buffer after the call, the sender.
    Filled(usize, Vec<u8>, Option<Address>),
    /// `gettimeout`.
    Timeout(Mode),
    /// `poll`: the events reported.
    Events(BTreeSet<PollEvent>),
}

/// What a call did.
pub(crate) type Outcome = Result<Value, SockError>;

/// An expected address, resolved for this run.
#[derive(Clone, Debug)]
pub(crate) enum Pattern {
    Exact(Address),
    AnyPort(IpAddr),
}

impl Pattern {
    fn matches(&self, address: &Address) -> bool {
        match (self, address) {
            (Pattern::Exact(expected), actual) => expected == actual,
            (Pattern::AnyPort(ip), Address::Ip(actual)) => actual.ip() == *ip,
            (Pattern::AnyPort(_), _) => false,
        }
    }

    fn describe(&self, env: &Env) -> String {
        match self {
            Pattern::Exact(a) => env.display(a),
            Pattern::AnyPort(ip @ IpAddr::V6(_)) => format!("[{ip}]:*"),
            Pattern::AnyPort(ip) => format!("{ip}:*"),
        }
    }
}

/// Expected and actual, in words.
#[derive(Debug)]
pub(crate) struct Mismatch {
    pub expected: String,
    pub actual: String,
    pub detail: Option<String>,
}

/// Checks `outcome` against `expect`. `pattern` resolves an `expect.address`.
pub(crate) fn check(
    expect: &Expect,
    outcome: &Outcome,
    env: &Env,
    pattern: &mut dyn FnMut(&crate::scenario::AddressExpr) -> Result<Pattern, String>,
) -> Result<(), Mismatch> {
    let e = &expect.0;
    if !e.one_of.is_empty() {
        let mut expected = Vec::new();
        for alternative in &e.one_of {
            match check(alternative, outcome, env, pattern) {
                Ok(()) => return Ok(()),
                Err(m) => expected.push(m.expected),
            }
        }
        return Err(Mismatch {
            expected: format!("one of: {}", expected.join(" | ")),
            actual: describe_outcome(outcome, env),
            detail: e.why.as_ref().map(|w| format!("allowed because: {w}")),
        });
    }
    let address = match &e.address {
        Some(expr) => Some(pattern(expr).map_err(|reason| Mismatch {
            expected: format!("address {expr}"),
            actual: describe_outcome(outcome, env),
            detail: Some(reason),
        })?),
        None => None,
    };
    let expected = describe_expect(e, address.as_ref(), env);
    let mismatch = |detail: Option<String>| Mismatch {
        expected: expected.clone(),
        actual: describe_outcome(outcome, env),
        detail,
    };
    let value = match (outcome, &e.error) {
        (Err(actual), Some(wanted)) if actual.code == *wanted => return Ok(()),
        (Err(_), _) | (Ok(_), Some(_)) => return Err(mismatch(None)),
        (Ok(value), None) => value,
    };
    if let Some(range) = e.returns {
        if !matches!(value, Value::Count(n) | Value::Filled(n, _, _) if range.contains(*n)) {
            return Err(mismatch(None));
        }
    }
    if let Some(wanted) = &e.value {
        if *value != Value::Number(wanted.0) {
            return Err(mismatch(None));
        }
    }
    if let Some(wanted) = &e.file {
        let ok = match value {
            Value::File(found) => {
                wanted.kind.is_none_or(|k| k == found.kind)
                    && match wanted.mode {
                        None => true,
                        Some(ModeCheck::Bits(bits)) => bits == found.mode,
                        Some(ModeCheck::FromUmask) => {
                            super::fs::socket_file_mode().is_ok_and(|bits| bits == found.mode)
                        }
                    }
            }
            _ => false,
        };
        if !ok {
            return Err(mismatch(None));
        }
    }
    if let Some(least) = e.min_value {
        if !matches!(value, Value::Number(n) if *n >= least) {
            return Err(mismatch(None));
        }
    }
    if let Some(wanted) = &e.msg_flags {
        let wanted: BTreeSet<MsgFlag> = wanted.iter().copied().collect();
        if !matches!(value, Value::Message(_, flags, _) if *flags == wanted) {
            return Err(mismatch(None));
        }
    }
    if let Some(wanted) = e.timeout {
        if *value != Value::Timeout(wanted) {
            return Err(mismatch(None));
        }
    }
    if e.events.is_some() || e.events_include.is_some() || e.events_exclude.is_some() {
        let Value::Events(reported) = value else {
            return Err(mismatch(None));
        };
        let set = |v: &Option<Vec<PollEvent>>| -> Option<BTreeSet<PollEvent>> {
            v.as_ref().map(|v| v.iter().copied().collect())
        };
        let exact = set(&e.events).is_none_or(|wanted| *reported == wanted);
        let includes = set(&e.events_include).is_none_or(|wanted| wanted.is_subset(reported));
        let excludes = set(&e.events_exclude).is_none_or(|unwanted| unwanted.is_disjoint(reported));
        if !(exact && includes && excludes) {
            return Err(mismatch(None));
        }
    }
    let (data, from) = match value {
        Value::Data(d) => (Some(d), None),
        Value::DataFrom(d, a) | Value::Message(d, _, a) => (Some(d), Some(a)),
        Value::Filled(_, d, a) => (Some(d), a.as_ref()),
        Value::Address(a) => (None, Some(a)),
        _ => (None, None),
    };
    if let Some(data) = data {
        if let Some(payload) = &e.data {
            if !payload.matches(data) {
                // The bytes are made only to show the difference (and not shown without memory).
                let detail = match payload.bytes() {
                    Ok(wanted) => diff(&wanted, data),
                    Err(e) => e.to_string(),
                };
                return Err(mismatch(Some(detail)));
            }
        }
        let n = data.len();
        // A captured count was resolved before the check (see the actor); unresolved never holds.
        let size_ok = e.size.as_ref().is_none_or(|s| s.fixed() == Some(n))
            && e.min_size.is_none_or(|s| n >= s)
            && e.max_size.is_none_or(|s| n <= s)
            && e.eof.is_none_or(|eof| eof == (n == 0));
        if !size_ok {
            return Err(mismatch(None));
        }
    }
    if let Some(pattern) = &address {
        if !from.is_some_and(|a| pattern.matches(a)) {
            return Err(mismatch(None));
        }
    }
    Ok(())
}

/// The expectation in words.
fn describe_expect(e: &ExpectFields, address: Option<&Pattern>, env: &Env) -> String {
    if let Some(error) = &e.error {
        return format!("error {}", error.name());
    }
    let mut parts = Vec::new();
    if let Some(range) = e.returns {
        parts.push(format!("returning {range}"));
    }
    if let Some(data) = &e.data {
        parts.push(format!("data {data}"));
    }
    if e.eof == Some(true) {
        parts.push("end of stream (no bytes)".to_string());
    }
    if e.eof == Some(false) {
        parts.push("at least one byte".to_string());
    }
    if let Some(n) = &e.size {
        parts.push(format!("exactly {n} bytes"));
    }
    if let Some(n) = e.min_size {
        parts.push(format!("at least {n} bytes"));
    }
    if let Some(n) = e.max_size {
        parts.push(format!("at most {n} bytes"));
    }
    if let Some(a) = address {
        parts.push(format!("address {}", a.describe(env)));
    }
    if let Some(v) = &e.value {
        parts.push(format!("value {}", v.0));
    }
    if let Some(file) = &e.file {
        parts.push(match file.kind {
            Some(kind) => format!("a file of type {kind}"),
            None => "a file".to_string(),
        });
        match file.mode {
            Some(ModeCheck::Bits(bits)) => parts.push(format!("mode {bits}")),
            Some(ModeCheck::FromUmask) => parts.push(match super::fs::socket_file_mode() {
                Ok(bits) => format!("mode {bits} (0o777 without the umask)"),
                Err(e) => format!("mode 0o777 without the umask ({e})"),
            }),
            None => {}
        }
    }
    if let Some(v) = e.min_value {
        parts.push(format!("a value of at least {v}"));
    }
    if let Some(flags) = &e.msg_flags {
        parts.push(format!("msg_flags {}", names(flags)));
    }
    if let Some(mode) = e.timeout {
        parts.push(format!("timeout {}", timeout(mode)));
    }
    if let Some(events) = &e.events {
        parts.push(format!("exactly the events {}", names(events)));
    }
    if let Some(events) = &e.events_include {
        parts.push(format!("the events {} among others", names(events)));
    }
    if let Some(events) = &e.events_exclude {
        parts.push(format!("none of the events {}", names(events)));
    }
    if parts.is_empty() {
        "success".to_string()
    } else {
        format!("success with {}", parts.join(", "))
    }
}

/// What happened, in words.
pub(crate) fn describe_outcome(outcome: &Outcome, env: &Env) -> String {
    match outcome {
        Err(e) => format!("error {e}"),
        Ok(Value::Nothing) => "success".to_string(),
        Ok(Value::Count(n)) => format!("success returning {n}"),
        Ok(Value::Data(d)) => format!("success with data {}", preview(d)),
        Ok(Value::DataFrom(d, a)) => {
            format!("success with data {} from {}", preview(d), env.display(a))
        }
        Ok(Value::Address(a)) => format!("success with address {}", env.display(a)),
        Ok(Value::Number(v)) => format!("success with value {v}"),
        Ok(Value::File(status)) => format!("success with a {status}"),
        Ok(Value::Message(d, flags, a)) => format!(
            "success with data {} from {}, msg_flags {}",
            preview(d),
            env.display(a),
            names(flags)
        ),
        Ok(Value::Filled(n, buffer, from)) => format!(
            "success returning {n}, the buffer then {}{}",
            preview(buffer),
            from.as_ref()
                .map(|a| format!(", from {}", env.display(a)))
                .unwrap_or_default()
        ),
        Ok(Value::Timeout(mode)) => format!("success with timeout {}", timeout(*mode)),
        Ok(Value::Events(events)) => format!("success with the events {}", names(events)),
    }
}

/// Flags or events by name, as a scenario writes them: `[out, err]`.
fn names<'a, T: std::fmt::Display + 'a>(items: impl IntoIterator<Item = &'a T>) -> String {
    let names: Vec<String> = items.into_iter().map(ToString::to_string).collect();
    format!("[{}]", names.join(", "))
}

/// A timeout as Python's `gettimeout` returns it.
fn timeout(mode: Mode) -> String {
    match mode {
        Mode::Blocking => "null (blocking)".to_string(),
        Mode::NonBlocking => "0 (non-blocking)".to_string(),
        Mode::Timeout(t) => humantime::format_duration(t).to_string(),
    }
}

/// Bytes, short: text when printable, else hex; long data by size and start.
pub(crate) fn preview(data: &[u8]) -> String {
    const MAX: usize = 48;
    let head = &data[..data.len().min(MAX)];
    let shown = match std::str::from_utf8(head) {
        Ok(text)
            if !text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t') =>
        {
            format!("{text:?}")
        }
        _ => format!("hex {}", hex(head)),
    };
    match data.len() {
        0 => "(0 bytes)".to_string(),
        n if n <= MAX => format!("{shown} ({n} bytes)"),
        n => format!("{n} bytes starting {shown}…"),
    }
}

/// Where two byte strings first differ.
fn diff(expected: &[u8], actual: &[u8]) -> String {
    let at = expected
        .iter()
        .zip(actual)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(actual.len()));
    let window = |d: &[u8]| match &d[at.min(d.len())..(at + 16).min(d.len())] {
        [] => "the end of the data".to_string(),
        rest => preview(rest),
    };
    format!(
        "data differs at byte {at} (expected {} bytes, got {}): expected {}, got {}",
        expected.len(),
        actual.len(),
        window(expected),
        window(actual)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_names_first_differing_byte() {
        let d = diff(b"hello world", b"hello there");
        assert!(
            d.starts_with("data differs at byte 6 (expected 11 bytes, got 11)"),
            "{d}"
        );
    }

    #[test]
    fn preview_shows_text_or_hex() {
        assert_eq!(preview(b"hi"), "\"hi\" (2 bytes)");
        assert_eq!(preview(&[0, 1]), "hex 0001 (2 bytes)");
        assert!(preview(&[b'a'; 100]).starts_with("100 bytes starting"));
    }
}
