//! Addresses as scenarios write them: literals, names in the scenario's temporary directory, and
//! values captured by another step.

use crate::vocab::Address;
use std::fmt;
use std::net::IpAddr;

/// An address in a scenario, before the runner resolves it.
///
/// Text forms: an [`Address`] literal (`127.0.0.1:0`, `[::1]:0`, `localhost:0`, `unnamed`);
/// `unix:NAME` (a file NAME inside the temporary directory the runner makes for the scenario;
/// NAME may name a file in a subdirectory, `dir/server.sock`, but never leave the directory);
/// `unix-path-of-length:N` (a path inside that directory exactly N bytes long);
/// `abstract:NAME` (an abstract-namespace name made unique to the run);
/// `closed:IP` (a port on the loopback address IP that the runner holds closed for the
/// scenario); `$var` (an address another step captured); `HOST:$var` (that address's port on HOST);
/// and, in expectations only, `HOST:*` (any port on HOST).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddressExpr {
    /// A literal address (IP, host name, `unnamed`).
    Literal(Address),
    /// A Unix path: this name inside the scenario's temporary directory.
    UnixName(String),
    /// A Unix path inside the scenario's temporary directory, exactly this many bytes long.
    UnixPathOfLength(usize),
    /// An abstract-namespace name, made unique per run.
    AbstractName(String),
    /// A port on this loopback address that nothing listens on or receives at, held closed by
    /// the runner for the whole scenario (`closed:127.0.0.1`, `closed:[::1]`).
    ClosedPort(IpAddr),
    /// A captured address.
    Var(String),
    /// The port of a captured address, on another host.
    HostPortOf {
        /// The host (an IP literal or a name).
        host: String,
        /// The variable whose port is used.
        var: String,
    },
    /// Any port on this IP address (expectations only).
    AnyPort(IpAddr),
}

/// Text that is not an address expression, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidAddressExpr {
    /// What is wrong, quoting the text.
    pub message: String,
}

impl AddressExpr {
    /// Parses the text form.
    pub fn parse(text: &str) -> Result<AddressExpr, InvalidAddressExpr> {
        Self::parse_text(text).map_err(|message| InvalidAddressExpr { message })
    }

    fn parse_text(text: &str) -> Result<AddressExpr, String> {
        if let Some(var) = text.strip_prefix('$') {
            return valid_name(var).map(|v| AddressExpr::Var(v.to_string()));
        }
        if let Some(name) = text.strip_prefix("unix:") {
            if !super::FsPath::is_inside(name) {
                return Err(format!(
                    "`{text}`: a Unix address names a file inside the scenario's temporary \
                     directory: {}",
                    super::FsPath::RULE
                ));
            }
            return Ok(AddressExpr::UnixName(name.to_string()));
        }
        if let Some(len) = text.strip_prefix("unix-path-of-length:") {
            return len.parse().map(AddressExpr::UnixPathOfLength).map_err(|_| {
                format!("`{text}`: expected a length in bytes after `unix-path-of-length:`")
            });
        }
        if let Some(name) = text.strip_prefix("abstract:") {
            return Ok(AddressExpr::AbstractName(name.to_string()));
        }
        if let Some(ip) = text.strip_prefix("closed:") {
            let ip = ip.trim_start_matches('[').trim_end_matches(']');
            return match ip.parse::<IpAddr>() {
                Ok(ip) if ip.is_loopback() => Ok(AddressExpr::ClosedPort(ip)),
                _ => Err(format!(
                    "`{text}`: a closed port is held on a loopback address, \
                     `closed:127.0.0.1` or `closed:[::1]`"
                )),
            };
        }
        if let Some((host, port)) = text.rsplit_once(':') {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if let Some(var) = port.strip_prefix('$') {
                return valid_name(var).map(|v| AddressExpr::HostPortOf {
                    host: host.to_string(),
                    var: v.to_string(),
                });
            }
            if port == "*" {
                return host
                    .parse()
                    .map(AddressExpr::AnyPort)
                    .map_err(|_| format!("`{text}`: `*` ports need an IP address before them"));
            }
        }
        text.parse::<Address>()
            .map(AddressExpr::Literal)
            .map_err(|e| e.to_string())
    }

    /// The variable this address reads, if any.
    pub fn var(&self) -> Option<&str> {
        match self {
            AddressExpr::Var(v) | AddressExpr::HostPortOf { var: v, .. } => Some(v),
            _ => None,
        }
    }
}

fn valid_name(name: &str) -> Result<&str, String> {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        Ok(name)
    } else {
        Err(format!(
            "`${name}`: a variable name is letters, digits, `_` and `-`"
        ))
    }
}

impl fmt::Display for AddressExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressExpr::Literal(a) => write!(f, "{a}"),
            AddressExpr::UnixName(n) => write!(f, "unix:{n}"),
            AddressExpr::UnixPathOfLength(n) => write!(f, "unix-path-of-length:{n}"),
            AddressExpr::AbstractName(n) => write!(f, "abstract:{n}"),
            AddressExpr::ClosedPort(ip @ IpAddr::V6(_)) => write!(f, "closed:[{ip}]"),
            AddressExpr::ClosedPort(ip) => write!(f, "closed:{ip}"),
            AddressExpr::Var(v) => write!(f, "${v}"),
            AddressExpr::HostPortOf { host, var } if host.contains(':') => {
                write!(f, "[{host}]:${var}")
            }
            AddressExpr::HostPortOf { host, var } => write!(f, "{host}:${var}"),
            AddressExpr::AnyPort(ip @ IpAddr::V6(_)) => write!(f, "[{ip}]:*"),
            AddressExpr::AnyPort(ip) => write!(f, "{ip}:*"),
        }
    }
}

impl<'de> serde::Deserialize<'de> for AddressExpr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        AddressExpr::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("127.0.0.1:0")]
    #[case("unix:server.sock")]
    #[case("unix:dir/server.sock")]
    #[case("unix-path-of-length:108")]
    #[case("abstract:srv")]
    #[case("$server")]
    #[case("0.0.0.0:$server")]
    #[case("[::1]:$server")]
    #[case("127.0.0.1:*")]
    #[case("[::1]:*")]
    #[case("closed:127.0.0.1")]
    #[case("closed:[::1]")]
    fn address_expressions_round_trip(#[case] text: &str) {
        assert_eq!(AddressExpr::parse(text).unwrap().to_string(), text);
    }

    #[rstest]
    #[case("unix:/tmp/absolute")]
    #[case("unix:../escape")]
    #[case("unix:dir/../../escape")]
    #[case("unix:dir//x")]
    #[case("unix:./x")]
    #[case("unix:")]
    #[case("$")]
    #[case("localhost:*")]
    #[case("closed:192.0.2.1")]
    #[case("closed:localhost")]
    #[case("closed:127.0.0.1:80")]
    fn address_expressions_reject(#[case] text: &str) {
        assert!(AddressExpr::parse(text).is_err(), "{text}");
    }
}
