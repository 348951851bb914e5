//! Errors, named the way packetdrill, gVisor and LTP name them: by errno.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::io;
use std::str::FromStr;

/// What went wrong in a socket call, by name.
///
/// Names are portable (`EADDRINUSE` means the same thing everywhere); the numbers behind them are
/// not, so a scenario names errors and a report shows both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// An `errno` value, by its number on this system.
    Errno(i32),
    /// A `getaddrinfo(3)` failure (`EAI_NONAME`…), by its number on this system.
    AddrInfo(i32),
    /// A call in timeout mode waited for the whole timeout (Python's `socket.timeout`).
    Timeout,
    /// The library refused the arguments before making any system call (Python raises
    /// `OSError`/`ValueError` without an errno, e.g. "AF_UNIX path too long").
    Rejected,
    /// The library failed the call with an error of its own that is no errno and maps to none
    /// (Node's `ERR_STREAM_DESTROYED`); its name is in the error's message. No scenario expects
    /// one, so it fails the step, showing that name (driver protocol version 2).
    Library,
    /// The implementation cannot express this operation; the scenario is `unsupported`.
    Unsupported,
    /// The implementation itself failed (a driver crashed, hung or answered garbage); the scenario
    /// is an `error`, not a `fail`.
    Broken,
}

/// Error names that getaddrinfo(3) defines, with their values on this system.
const ADDRINFO_ERRORS: &[(&str, i32)] = &[
    // A glibc extension the libc crate does not export; CPython reports it for an IPv6 socket
    // given an IPv4 literal.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    ("EAI_ADDRFAMILY", -9),
    ("EAI_AGAIN", libc::EAI_AGAIN),
    ("EAI_BADFLAGS", libc::EAI_BADFLAGS),
    ("EAI_FAIL", libc::EAI_FAIL),
    ("EAI_FAMILY", libc::EAI_FAMILY),
    ("EAI_MEMORY", libc::EAI_MEMORY),
    ("EAI_NODATA", libc::EAI_NODATA),
    ("EAI_NONAME", libc::EAI_NONAME),
    ("EAI_SERVICE", libc::EAI_SERVICE),
    ("EAI_SOCKTYPE", libc::EAI_SOCKTYPE),
    ("EAI_SYSTEM", libc::EAI_SYSTEM),
    ("EAI_OVERFLOW", libc::EAI_OVERFLOW),
];

/// Second names that C gives to the same errno value.
const ERRNO_ALIASES: &[(&str, &str)] = &[
    ("EWOULDBLOCK", "EAGAIN"),
    ("ENOTSUP", "EOPNOTSUPP"),
    ("EDEADLOCK", "EDEADLK"),
];

/// A name that is not an errno, an `EAI_` code, `timeout` or `rejected`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error name `{0}`: expected an errno name such as EADDRINUSE, an EAI_ name such as EAI_NONAME, `timeout` or `rejected`{suggestion}", suggestion = error_suggestion(.0))]
pub struct UnknownErrorName(pub String);

/// " (did you mean `ECONNREFUSED`?)" for a misspelt error name.
fn error_suggestion(name: &str) -> String {
    let known = errno_names()
        .iter()
        .map(|(name, _)| name.as_str())
        .chain(ERRNO_ALIASES.iter().map(|(alias, _)| *alias))
        .chain(ADDRINFO_ERRORS.iter().map(|(n, _)| *n))
        .chain(["timeout", "rejected"]);
    super::did_you_mean(name, known)
}

impl ErrorCode {
    /// The portable name: `EADDRINUSE`, `EAI_NONAME`, `timeout`, `rejected`.
    pub fn name(&self) -> String {
        match *self {
            ErrorCode::Errno(n) => match nix::errno::Errno::from_raw(n) {
                nix::errno::Errno::UnknownErrno => format!("errno {n}"),
                e => format!("{e:?}"),
            },
            ErrorCode::AddrInfo(n) => ADDRINFO_ERRORS
                .iter()
                .find(|(_, v)| *v == n)
                .map_or_else(|| format!("EAI {n}"), |(name, _)| name.to_string()),
            ErrorCode::Timeout => "timeout".to_string(),
            ErrorCode::Rejected => "rejected".to_string(),
            ErrorCode::Library => "library".to_string(),
            ErrorCode::Unsupported => "unsupported".to_string(),
            ErrorCode::Broken => "broken".to_string(),
        }
    }

    /// The number on this system, where there is one.
    pub fn number(&self) -> Option<i32> {
        match *self {
            ErrorCode::Errno(n) | ErrorCode::AddrInfo(n) => Some(n),
            ErrorCode::Timeout
            | ErrorCode::Rejected
            | ErrorCode::Library
            | ErrorCode::Unsupported
            | ErrorCode::Broken => None,
        }
    }

    /// The errno with this name.
    pub fn errno(errno: nix::errno::Errno) -> ErrorCode {
        ErrorCode::Errno(errno as i32)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.number() {
            Some(n) => write!(f, "{} ({n})", self.name()),
            None => f.write_str(&self.name()),
        }
    }
}

impl FromStr for ErrorCode {
    type Err = UnknownErrorName;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "timeout" => return Ok(ErrorCode::Timeout),
            "rejected" => return Ok(ErrorCode::Rejected),
            "library" => return Ok(ErrorCode::Library),
            "unsupported" => return Ok(ErrorCode::Unsupported),
            "broken" => return Ok(ErrorCode::Broken),
            _ => {}
        }
        if let Some((_, n)) = ADDRINFO_ERRORS.iter().find(|(n, _)| *n == name) {
            return Ok(ErrorCode::AddrInfo(*n));
        }
        let canonical = ERRNO_ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .map_or(name, |(_, real)| real);
        errno_names()
            .iter()
            .find(|(known, _)| known == canonical)
            .map(|(_, e)| ErrorCode::errno(*e))
            .ok_or_else(|| UnknownErrorName(name.to_string()))
    }
}

/// Every errno of this system with its name, in number order. nix knows them by name; ask it
/// once rather than keep a table (asking for each name read made loading slow).
fn errno_names() -> &'static [(String, nix::errno::Errno)] {
    static NAMES: std::sync::OnceLock<Vec<(String, nix::errno::Errno)>> =
        std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        (1..4096)
            .map(nix::errno::Errno::from_raw)
            .filter(|e| *e != nix::errno::Errno::UnknownErrno)
            .map(|e| (format!("{e:?}"), e))
            .collect()
    })
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// A failed socket call: the error's name and number, and the implementation's own message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SockError {
    /// What went wrong, by name.
    pub code: ErrorCode,
    /// The implementation's description (`strerror`, Python's message…), for people.
    pub message: String,
}

impl SockError {
    /// An error with the given code and the system's description of it.
    pub fn new(code: ErrorCode) -> SockError {
        let message = match code {
            ErrorCode::Errno(n) => nix::errno::Errno::from_raw(n).desc().to_string(),
            ErrorCode::AddrInfo(n) => {
                // SAFETY: gai_strerror returns a pointer to a static, NUL-terminated string.
                unsafe { std::ffi::CStr::from_ptr(libc::gai_strerror(n)) }
                    .to_string_lossy()
                    .into_owned()
            }
            ErrorCode::Timeout => "timed out".to_string(),
            ErrorCode::Rejected => "rejected before any system call".to_string(),
            ErrorCode::Library => "the library's own error".to_string(),
            ErrorCode::Unsupported => "not supported by this implementation".to_string(),
            ErrorCode::Broken => "the implementation failed".to_string(),
        };
        SockError { code, message }
    }

    /// An errno error with the system's description.
    pub fn errno(errno: nix::errno::Errno) -> SockError {
        SockError::new(ErrorCode::errno(errno))
    }
}

impl From<io::Error> for SockError {
    fn from(e: io::Error) -> Self {
        match e.raw_os_error() {
            Some(n) => SockError::new(ErrorCode::Errno(n)),
            None if e.kind() == io::ErrorKind::TimedOut => SockError::new(ErrorCode::Timeout),
            None => SockError {
                code: ErrorCode::Rejected,
                message: e.to_string(),
            },
        }
    }
}

impl From<nix::errno::Errno> for SockError {
    fn from(e: nix::errno::Errno) -> Self {
        SockError::errno(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("EADDRINUSE")]
    #[case("ECONNREFUSED")]
    #[case("EAI_NONAME")]
    #[case("timeout")]
    #[case("rejected")]
    fn error_names_round_trip(#[case] name: &str) {
        assert_eq!(name.parse::<ErrorCode>().unwrap().name(), name);
    }

    #[test]
    fn errno_aliases_name_the_same_error() {
        assert_eq!(
            "EWOULDBLOCK".parse::<ErrorCode>().unwrap(),
            "EAGAIN".parse::<ErrorCode>().unwrap()
        );
    }

    #[test]
    fn unknown_error_name_is_refused() {
        assert!("EADDRINUSED".parse::<ErrorCode>().is_err());
    }

    #[test]
    fn display_shows_name_and_number() {
        let code = ErrorCode::errno(nix::errno::Errno::ECONNREFUSED);
        assert_eq!(
            code.to_string(),
            format!("ECONNREFUSED ({})", libc::ECONNREFUSED)
        );
    }
}
