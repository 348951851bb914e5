//! Socket addresses, as scenarios write them and implementations report them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// A socket address.
///
/// The text form (used in scenarios, reports and the driver protocol) is:
/// `127.0.0.1:80`, `[::1]:80`, `localhost:80` (a host name, resolved by the implementation),
/// `unix:/path/to/socket`, `abstract:name` (Linux's abstract namespace) and `unnamed`
/// (a Unix socket with no name).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Address {
    /// An IPv4 or IPv6 address and port.
    Ip(SocketAddr),
    /// A host name and port, as given to `bind`/`connect`; the implementation resolves it.
    Host {
        /// The host name, e.g. `localhost`.
        host: String,
        /// The port.
        port: u16,
    },
    /// A Unix-domain socket bound to a filesystem path.
    UnixPath(PathBuf),
    /// A Unix-domain socket in Linux's abstract namespace (the name without its leading NUL).
    UnixAbstract(Vec<u8>),
    /// A Unix-domain socket with no name (unbound, or one end of a `socketpair`).
    UnixUnnamed,
}

/// Text that is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid address `{text}`: {reason}")]
pub struct AddressParseError {
    /// The text that failed to parse.
    pub text: String,
    /// Why it is not an address.
    pub reason: String,
}

impl Address {
    /// The port of an IP address; `None` for other kinds.
    pub fn port(&self) -> Option<u16> {
        match self {
            Address::Ip(a) => Some(a.port()),
            Address::Host { port, .. } => Some(*port),
            _ => None,
        }
    }

    /// True for the three Unix-domain kinds.
    pub fn is_unix(&self) -> bool {
        matches!(
            self,
            Address::UnixPath(_) | Address::UnixAbstract(_) | Address::UnixUnnamed
        )
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Ip(a) => write!(f, "{a}"),
            Address::Host { host, port } => write!(f, "{host}:{port}"),
            Address::UnixPath(p) => write!(f, "unix:{}", p.display()),
            Address::UnixAbstract(name) => write!(f, "abstract:{}", name.escape_ascii()),
            Address::UnixUnnamed => f.write_str("unnamed"),
        }
    }
}

impl FromStr for Address {
    type Err = AddressParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |reason: &str| AddressParseError {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        if text == "unnamed" {
            return Ok(Address::UnixUnnamed);
        }
        if let Some(path) = text.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(fail("a Unix path must not be empty (use `unnamed`)"));
            }
            return Ok(Address::UnixPath(PathBuf::from(path)));
        }
        if let Some(name) = text.strip_prefix("abstract:") {
            return Ok(Address::UnixAbstract(name.as_bytes().to_vec()));
        }
        if let Ok(ip) = text.parse::<SocketAddr>() {
            return Ok(Address::Ip(ip));
        }
        let (host, port) = text.rsplit_once(':').ok_or_else(|| {
            fail("expected HOST:PORT, [IPv6]:PORT, unix:PATH, abstract:NAME or unnamed")
        })?;
        let port = port
            .parse::<u16>()
            .map_err(|_| fail("the port must be a number from 0 to 65535"))?;
        if host.is_empty() || host.contains(['[', ']', ':', ' ']) {
            return Err(fail(
                "expected a host name or an IP address before the port",
            ));
        }
        Ok(Address::Host {
            host: host.to_string(),
            port,
        })
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Address {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "address".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "scenario-format.md section 9, resolved: 127.0.0.1:80, [::1]:80, localhost:80, unix:/absolute/path, abstract:NAME, unnamed.",
            "pattern": r"^(unnamed|unix:.+|abstract:.*|\[[^\[\]]+\]:[0-9]{1,5}|[^\[\]:\s]+:[0-9]{1,5})$"
        })
    }
}

impl From<SocketAddr> for Address {
    fn from(a: SocketAddr) -> Self {
        Address::Ip(a)
    }
}

/// Python's `(host, port)` pair: an IP literal becomes [`Address::Ip`], anything else a host name.
impl From<(&str, u16)> for Address {
    fn from((host, port): (&str, u16)) -> Self {
        match host.parse() {
            Ok(ip) => Address::Ip(SocketAddr::new(ip, port)),
            Err(_) => Address::Host {
                host: host.to_string(),
                port,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("127.0.0.1:80")]
    #[case("[::1]:8080")]
    #[case("localhost:0")]
    #[case("unix:/tmp/x.sock")]
    #[case("abstract:name")]
    #[case("unnamed")]
    fn address_text_round_trips(#[case] text: &str) {
        let address: Address = text.parse().unwrap();
        assert_eq!(address.to_string(), text);
    }

    #[rstest]
    #[case("127.0.0.1")]
    #[case("localhost:99999")]
    #[case("unix:")]
    #[case(":80")]
    fn address_rejects_malformed_text(#[case] text: &str) {
        assert!(text.parse::<Address>().is_err(), "{text} parsed");
    }

    #[test]
    fn python_pair_with_ip_literal_is_an_ip_address() {
        assert_eq!(
            Address::from(("127.0.0.1", 5)),
            Address::Ip("127.0.0.1:5".parse().unwrap())
        );
        assert!(matches!(
            Address::from(("localhost", 5)),
            Address::Host { .. }
        ));
    }
}
