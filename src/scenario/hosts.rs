//! Multi-host scenarios: the hosts a scenario declares (`hosts:`), their links, addresses,
//! routes, neighbour entries and settings, where each actor runs (`host:`), and the steps that
//! change the network mid-scenario (`link_down`, `link_up`, `route`).
//!
//! Every address comes from the ranges reserved for documentation and benchmarking
//! (`198.18.0.0/15`, RFC 2544; `2001:db8::/32`, RFC 3849), and exists only inside the
//! scenario's own network namespaces, so no scenario reaches a real network
//! (`spec/scenario-format.md` §14).

use super::model::Location;
use crate::vocab::did_you_mean;
use crate::yaml::{Positions, Seg};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// The most hosts a scenario may declare (each is a network namespace and a thread).
pub const MAX_HOSTS: usize = 16;

/// A scenario's hosts and the placement of its actors on them; empty for a loopback scenario.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Topology {
    /// The hosts by name (`hosts:`).
    pub hosts: BTreeMap<String, Host>,
    /// Each actor's host (`host: {actor: host}`).
    pub placement: BTreeMap<String, String>,
}

impl Topology {
    /// True for a scenario that declares no host: everything runs on this machine's loopback.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// The links: each interface name with the hosts that have an interface of that name, in
    /// name order (two or more once the scenario is valid: three or more share a bridge).
    pub fn links(&self) -> BTreeMap<&str, Vec<&str>> {
        let mut links: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (host, definition) in &self.hosts {
            for interface in definition.interfaces.keys() {
                links.entry(interface).or_default().push(host);
            }
        }
        links
    }

    /// The host the actor called `actor` runs on, if the scenario places it.
    pub fn host_of(&self, actor: &str) -> Option<&str> {
        self.placement.get(actor).map(String::as_str)
    }
}

/// One host: a network namespace with its own loopback, interfaces, routes and settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Its interfaces by name; an interface of the same name on another host is the other end
    /// of the same link (a veth pair).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub interfaces: BTreeMap<String, Interface>,
    /// Routes beyond the ones its addresses make.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    /// Static neighbour (ARP/NDP) entries: an address that resolves to a hardware address no
    /// one owns is a host that silently drops everything.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub neighbours: Vec<Neighbour>,
    /// Settings of its network namespace, by sysctl name (`net.ipv4.tcp_syn_retries: 1`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctl: BTreeMap<String, SysctlValue>,
}

/// One end of a link.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    /// Its addresses with their prefix lengths (`198.18.0.1/24`, `2001:db8::1/64`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Prefix>,
    /// Its MTU in bytes (default: the kernel's, 1500 for a veth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// The rate it sends at, at most (a token bucket filter on its egress): `8mbit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
}

/// A route of a host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The destination prefix (`0.0.0.0/0` for the IPv4 default route).
    pub to: Prefix,
    /// What the route does (default `unicast`).
    #[serde(
        rename = "type",
        default,
        skip_serializing_if = "RouteType::is_unicast"
    )]
    pub kind: RouteType,
    /// The gateway, for a unicast route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<IpAddr>,
    /// The interface, for a unicast route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    /// The preferred source address of connections that take the route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<IpAddr>,
}

/// `route:` as a step: a route to add (or replace) on a host, or to delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteStep {
    /// The host whose routing table changes.
    pub host: String,
    /// The destination prefix.
    pub to: Prefix,
    /// What the route does (default `unicast`).
    #[serde(
        rename = "type",
        default,
        skip_serializing_if = "RouteType::is_unicast"
    )]
    pub kind: RouteType,
    /// The gateway, for a unicast route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<IpAddr>,
    /// The interface, for a unicast route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    /// The preferred source address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<IpAddr>,
    /// Delete the route to `to` instead of adding it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete: bool,
}

impl RouteStep {
    /// The route it adds (or, with `delete`, the one it deletes).
    pub fn route(&self) -> Route {
        Route {
            to: self.to,
            kind: self.kind,
            via: self.via,
            dev: self.dev.clone(),
            src: self.src,
        }
    }
}

/// What a route does with a packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteType {
    /// Forwards it (through `via` or out of `dev`).
    #[default]
    Unicast,
    /// Drops it silently (a connect fails with `EINVAL` on Linux).
    Blackhole,
    /// Refuses it as unreachable (`EHOSTUNREACH`).
    Unreachable,
    /// Refuses it as administratively prohibited (`EACCES`).
    Prohibit,
}

impl RouteType {
    fn is_unicast(&self) -> bool {
        *self == RouteType::Unicast
    }

    /// The name iproute2 and the scenario format give it.
    pub fn name(self) -> &'static str {
        match self {
            RouteType::Unicast => "unicast",
            RouteType::Blackhole => "blackhole",
            RouteType::Unreachable => "unreachable",
            RouteType::Prohibit => "prohibit",
        }
    }
}

/// A static neighbour entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Neighbour {
    /// The IP address it resolves.
    pub address: IpAddr,
    /// The hardware address it resolves to (`02:00:00:00:00:09`).
    pub lladdr: MacAddress,
    /// The interface it is on.
    pub dev: String,
}

/// An IP address with a prefix length: `198.18.0.1/24`; a bare address is a host prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prefix {
    /// The address.
    pub address: IpAddr,
    /// The prefix length.
    pub len: u8,
}

impl Prefix {
    /// True when `ip` lies in this prefix.
    pub fn contains(&self, ip: IpAddr) -> bool {
        fn bits(ip: IpAddr) -> (u128, u8) {
            match ip {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)) << 96, 32),
                IpAddr::V6(v6) => (u128::from(v6), 128),
            }
        }
        let (mine, width) = bits(self.address);
        let (theirs, other) = bits(ip);
        if width != other {
            return false;
        }
        let len = u32::from(self.len);
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - len)
        };
        mine & mask == theirs & mask
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.len)
    }
}

impl FromStr for Prefix {
    type Err = String;
    fn from_str(text: &str) -> Result<Prefix, String> {
        let wrong = || {
            format!("`{text}` is not an IP address with a prefix length (`198.18.0.1/24`, `2001:db8::1/64`)")
        };
        let (address, len) = match text.split_once('/') {
            Some((address, len)) => (address, Some(len)),
            None => (text, None),
        };
        let address: IpAddr = address.parse().map_err(|_| wrong())?;
        let most = if address.is_ipv4() { 32 } else { 128 };
        let len = match len {
            Some(len) => len
                .parse::<u8>()
                .ok()
                .filter(|l| *l <= most)
                .ok_or_else(|| {
                    format!("`{text}`: the prefix length must be a number from 0 to {most}")
                })?,
            None => most,
        };
        Ok(Prefix { address, len })
    }
}

/// A rate limit, in bits per second: `8mbit`, `500kbit`, `1gbit`, `64000bit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate(pub u64);

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}bit", self.0)
    }
}

impl FromStr for Rate {
    type Err = String;
    fn from_str(text: &str) -> Result<Rate, String> {
        let wrong = || {
            format!(
                "`{text}` is not a rate: a number of bits per second with its unit, `bit`, `kbit`, \
                 `mbit` or `gbit` (`8mbit`), from 8kbit to 10gbit"
            )
        };
        let digits = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let number: u64 = text[..digits].parse().map_err(|_| wrong())?;
        let unit = match &text[digits..] {
            "bit" => 1,
            "kbit" => 1_000,
            "mbit" => 1_000_000,
            "gbit" => 1_000_000_000,
            _ => return Err(wrong()),
        };
        let rate = number.checked_mul(unit).ok_or_else(wrong)?;
        if !(8_000..=10_000_000_000).contains(&rate) {
            return Err(wrong());
        }
        Ok(Rate(rate))
    }
}

/// A hardware address, six bytes: `02:00:00:00:00:09`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacAddress(pub [u8; 6]);

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl FromStr for MacAddress {
    type Err = String;
    fn from_str(text: &str) -> Result<MacAddress, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let mut bytes = [0u8; 6];
        let ok = parts.len() == 6
            && parts.iter().zip(bytes.iter_mut()).all(|(part, byte)| {
                part.len() == 2 && u8::from_str_radix(part, 16).map(|b| *byte = b).is_ok()
            });
        if ok {
            Ok(MacAddress(bytes))
        } else {
            Err(format!(
                "`{text}` is not a hardware address: six hex bytes separated by `:` (`02:00:00:00:00:09`)"
            ))
        }
    }
}

/// A sysctl's value as written (`1`, `"4096 87380 6291456"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SysctlValue(pub String);

/// Types written as one string in YAML, read through [`FromStr`].
macro_rules! as_text {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
as_text!(Prefix, Rate, MacAddress);

impl Serialize for SysctlValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.parse::<i64>() {
            Ok(n) => s.serialize_i64(n),
            Err(_) => s.serialize_str(&self.0),
        }
    }
}

impl<'de> Deserialize<'de> for SysctlValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Scalar;
        impl serde::de::Visitor<'_> for Scalar {
            type Value = SysctlValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string")
            }
            fn visit_i64<E>(self, v: i64) -> Result<SysctlValue, E> {
                Ok(SysctlValue(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<SysctlValue, E> {
                Ok(SysctlValue(v.to_string()))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SysctlValue, E> {
                if v.contains(['\n', '\0']) {
                    return Err(E::custom("a sysctl value is one line"));
                }
                Ok(SysctlValue(v.to_string()))
            }
        }
        d.deserialize_any(Scalar)
    }
}

/// True for an address of the ranges reserved for documentation and benchmarking, which
/// multi-host scenarios use: `198.18.0.0/15` and `2001:db8::/32`.
pub fn is_scenario_network_address(ip: IpAddr) -> bool {
    const RANGES: [Prefix; 2] = [
        Prefix {
            address: IpAddr::V4(std::net::Ipv4Addr::new(198, 18, 0, 0)),
            len: 15,
        },
        Prefix {
            address: IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0)),
            len: 32,
        },
    ];
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    RANGES.iter().any(|range| range.contains(ip))
}

/// The ranges [`is_scenario_network_address`] accepts, as messages say them.
pub const SCENARIO_NETWORK_RANGES: &str = "198.18.0.0/15 or 2001:db8::/32";

/// True for a name an interface may have: 1 to 15 characters (the kernel's `IFNAMSIZ` less
/// the terminating NUL) of `a-z`, `0-9`, `-`, `_`, not `lo`.
fn interface_name_ok(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && name != "lo"
}

/// True for a sysctl of a network namespace as a scenario may name it: `net.` then dotted
/// names of `A-Za-z0-9_-` (so that it can only ever name a file below `/proc/sys/net`).
fn sysctl_name_ok(name: &str) -> bool {
    name.strip_prefix("net.").is_some_and(|rest| {
        rest.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
    })
}

/// The problems of a scenario's hosts and placement, each with its position. `actors` are the
/// scenario's actor names.
pub(crate) fn validate(
    topology: &Topology,
    actors: &[&str],
    positions: &Positions,
) -> Vec<(Location, String)> {
    let mut problems = Vec::new();
    let top = |key: &str| positions.find_key(&[], key).unwrap_or_default();
    if topology.hosts.is_empty() {
        // A `hosts:` that did not parse has its own error already.
        if !topology.placement.is_empty() && positions.find_key(&[], "hosts").is_none() {
            problems.push((
                top("host"),
                "`host` places actors on hosts, but the scenario declares no `hosts`".to_string(),
            ));
        }
        return problems;
    }
    if topology.hosts.len() > MAX_HOSTS {
        problems.push((
            top("hosts"),
            format!(
                "{} hosts: a scenario may declare at most {MAX_HOSTS}",
                topology.hosts.len()
            ),
        ));
    }
    let host_at = |host: &str, path: &[Seg]| {
        let mut full = vec![Seg::Key("hosts"), Seg::Key(host)];
        full.extend_from_slice(path);
        positions
            .find(&full)
            .or_else(|| positions.find_key(&[Seg::Key("hosts")], host))
            .unwrap_or_default()
    };
    let mut owners: BTreeMap<IpAddr, &str> = BTreeMap::new();
    for (host, definition) in &topology.hosts {
        let valid_host_name = !host.is_empty()
            && host.len() <= 32
            && host
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !valid_host_name {
            problems.push((
                host_at(host, &[]),
                format!(
                    "host `{host}`: a host's name is 1 to 32 characters of a-z, 0-9, `-` and `_`"
                ),
            ));
        }
        for (name, interface) in &definition.interfaces {
            let at = host_at(host, &[Seg::Key("interfaces"), Seg::Key(name)]);
            if !interface_name_ok(name) {
                problems.push((
                    at,
                    format!(
                        "host `{host}`: `{name}` is not an interface name: 1 to 15 characters of \
                         a-z, 0-9, `-` and `_`, and not `lo`"
                    ),
                ));
            }
            for (i, prefix) in interface.addresses.iter().enumerate() {
                let at = host_at(
                    host,
                    &[
                        Seg::Key("interfaces"),
                        Seg::Key(name),
                        Seg::Key("addresses"),
                        Seg::Index(i),
                    ],
                );
                if !is_scenario_network_address(prefix.address) {
                    problems.push((
                        at,
                        format!(
                            "host `{host}`, interface `{name}`: `{prefix}` is outside the ranges \
                             reserved for scenario networks ({SCENARIO_NETWORK_RANGES})"
                        ),
                    ));
                }
                if let Some(first) = owners.insert(prefix.address, host) {
                    problems.push((
                        at,
                        format!(
                            "host `{host}`, interface `{name}`: `{}` is already an address of \
                             host `{first}`; each address belongs to one interface",
                            prefix.address
                        ),
                    ));
                }
            }
            if let Some(mtu) = interface.mtu {
                if !(68..=65_535).contains(&mtu) {
                    problems.push((
                        at,
                        format!(
                            "host `{host}`, interface `{name}`: mtu {mtu} is not from 68 to 65535"
                        ),
                    ));
                }
            }
        }
        for (i, route) in definition.routes.iter().enumerate() {
            let at = host_at(host, &[Seg::Key("routes"), Seg::Index(i)]);
            for problem in route_problems(&route_of(route), definition) {
                problems.push((at, format!("host `{host}`, route {}: {problem}", i + 1)));
            }
        }
        for (i, neighbour) in definition.neighbours.iter().enumerate() {
            let at = host_at(host, &[Seg::Key("neighbours"), Seg::Index(i)]);
            if !is_scenario_network_address(neighbour.address) {
                problems.push((
                    at,
                    format!(
                        "host `{host}`, neighbour {}: `{}` is outside {SCENARIO_NETWORK_RANGES}",
                        i + 1,
                        neighbour.address
                    ),
                ));
            }
            if !definition.interfaces.contains_key(&neighbour.dev) {
                problems.push((
                    at,
                    format!(
                        "host `{host}`, neighbour {}: `{}` is not an interface of host \
                         `{host}`{}",
                        i + 1,
                        neighbour.dev,
                        did_you_mean(
                            &neighbour.dev,
                            definition.interfaces.keys().map(String::as_str)
                        )
                    ),
                ));
            }
        }
        for name in definition.sysctl.keys() {
            if !sysctl_name_ok(name) {
                problems.push((
                    host_at(host, &[Seg::Key("sysctl"), Seg::Key(name)]),
                    format!(
                        "host `{host}`: `{name}` is not a network namespace's setting: a host's \
                         sysctls are those under `net.` (`net.ipv4.tcp_syn_retries`)"
                    ),
                ));
            }
        }
    }
    for (link, ends) in topology.links() {
        if let [host] = ends[..] {
            let at = host_at(host, &[Seg::Key("interfaces"), Seg::Key(link)]);
            problems.push((
                at,
                format!(
                    "host `{host}`: interface `{link}` has no other end: a link joins two hosts \
                     or more, each with an interface of the link's name"
                ),
            ));
        }
    }
    let placed_at = |actor: &str| {
        positions
            .find(&[Seg::Key("host"), Seg::Key(actor)])
            .unwrap_or_else(|| top("host"))
    };
    for (actor, host) in &topology.placement {
        if !actors.contains(&actor.as_str()) {
            problems.push((
                positions
                    .find_key(&[Seg::Key("host")], actor)
                    .unwrap_or_else(|| top("host")),
                format!(
                    "`host` places `{actor}`, which is not an actor of this scenario{}",
                    did_you_mean(actor, actors.iter().copied())
                ),
            ));
        }
        if !topology.hosts.contains_key(host) {
            problems.push((
                placed_at(actor),
                format!(
                    "`host` places `{actor}` on `{host}`, which is not a host of this scenario{}",
                    did_you_mean(host, topology.hosts.keys().map(String::as_str))
                ),
            ));
        }
    }
    for actor in actors {
        if !topology.placement.contains_key(*actor) {
            problems.push((
                top("hosts"),
                format!(
                    "actor `{actor}` has no host: in a scenario with `hosts`, `host:` places \
                     every actor (`host: {{{actor}: {}}}`)",
                    topology.hosts.keys().next().map_or("", String::as_str)
                ),
            ));
        }
    }
    problems
}

fn route_of(route: &Route) -> RouteStep {
    RouteStep {
        host: String::new(),
        to: route.to,
        kind: route.kind,
        via: route.via,
        dev: route.dev.clone(),
        src: route.src,
        delete: false,
    }
}

/// What is wrong with a route (declared, or a `route` step's) of a host defined as `host`.
pub(crate) fn route_problems(route: &RouteStep, host: &Host) -> Vec<String> {
    let mut problems = Vec::new();
    let family = route.to.address.is_ipv4();
    if route.kind == RouteType::Unicast
        && route.via.is_none()
        && route.dev.is_none()
        && !route.delete
    {
        problems.push(format!(
            "a unicast route to `{}` needs `via` (a gateway) or `dev` (an interface); or give it \
             a `type`: blackhole, unreachable or prohibit",
            route.to
        ));
    }
    if route.kind != RouteType::Unicast && (route.via.is_some() || route.dev.is_some()) {
        problems.push(format!(
            "a {} route goes nowhere: it takes no `via` or `dev`",
            route.kind.name()
        ));
    }
    for (what, ip) in [("via", route.via), ("src", route.src)] {
        if let Some(ip) = ip {
            if ip.is_ipv4() != family {
                problems.push(format!(
                    "`{what}: {ip}` is not of the family of `{}`",
                    route.to
                ));
            } else if !is_scenario_network_address(ip) {
                problems.push(format!(
                    "`{what}: {ip}` is outside {SCENARIO_NETWORK_RANGES}"
                ));
            }
        }
    }
    if let Some(dev) = &route.dev {
        if !host.interfaces.contains_key(dev) {
            problems.push(format!(
                "`dev: {dev}` is not an interface of the host{}",
                did_you_mean(dev, host.interfaces.keys().map(String::as_str))
            ));
        }
    }
    problems
}

/// The problems of the steps that change the network (`link_down`, `link_up`, `route`), given
/// as `(link or host named, step's route if any)`; each message without position.
pub(crate) fn step_problems(
    topology: &Topology,
    link: Option<&str>,
    route: Option<&RouteStep>,
) -> Vec<String> {
    let mut problems = Vec::new();
    if topology.hosts.is_empty() {
        problems.push(
            "this step changes the scenario's network, but the scenario declares no `hosts`"
                .to_string(),
        );
        return problems;
    }
    let links = topology.links();
    if let Some(link) = link {
        if !links.contains_key(link) {
            problems.push(format!(
                "`{link}` is not a link of this scenario{}",
                did_you_mean(link, links.keys().copied())
            ));
        }
    }
    if let Some(route) = route {
        match topology.hosts.get(&route.host) {
            Some(host) => problems.extend(route_problems(route, host)),
            None => problems.push(format!(
                "`{}` is not a host of this scenario{}",
                route.host,
                did_you_mean(&route.host, topology.hosts.keys().map(String::as_str))
            )),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_reads_address_and_length_and_defaults_to_a_host_prefix() {
        let p: Prefix = "198.18.0.1/24".parse().unwrap();
        assert_eq!(p.len, 24);
        assert_eq!("2001:db8::1".parse::<Prefix>().unwrap().len, 128);
        assert!("198.18.0.1/33".parse::<Prefix>().is_err());
        assert!("wire".parse::<Prefix>().is_err());
    }

    #[test]
    fn prefix_contains_only_addresses_of_its_family_under_its_mask() {
        let p: Prefix = "198.18.0.0/15".parse().unwrap();
        assert!(p.contains("198.19.255.1".parse().unwrap()));
        assert!(!p.contains("198.20.0.1".parse().unwrap()));
        assert!(!p.contains("2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn scenario_network_addresses_are_the_benchmarking_and_documentation_ranges_only() {
        for ok in [
            "198.18.0.1",
            "198.19.1.1",
            "2001:db8::1",
            "::ffff:198.18.0.2",
        ] {
            assert!(is_scenario_network_address(ok.parse().unwrap()), "{ok}");
        }
        for no in [
            "8.8.8.8",
            "198.20.0.1",
            "2001:db9::1",
            "10.0.0.1",
            "127.0.0.1",
        ] {
            assert!(!is_scenario_network_address(no.parse().unwrap()), "{no}");
        }
    }

    #[test]
    fn rate_reads_units_and_refuses_nonsense() {
        assert_eq!("8mbit".parse::<Rate>().unwrap(), Rate(8_000_000));
        assert_eq!("500kbit".parse::<Rate>().unwrap(), Rate(500_000));
        for bad in ["8", "8mb", "fast", "1bit", "99999999999999999999gbit"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn mac_address_is_six_hex_bytes() {
        assert!("02:00:00:00:00:09".parse::<MacAddress>().is_ok());
        assert!("02:00:00:00:00".parse::<MacAddress>().is_err());
        assert!("02:00:00:00:00:zz".parse::<MacAddress>().is_err());
    }

    #[test]
    fn sysctl_names_stay_below_net() {
        assert!(sysctl_name_ok("net.ipv4.tcp_syn_retries"));
        assert!(sysctl_name_ok("net.ipv4.neigh.wire.retrans_time_ms"));
        for bad in [
            "kernel.panic",
            "net..x",
            "net.ipv4/../../x",
            "net.",
            "vm.swappiness",
        ] {
            assert!(!sysctl_name_ok(bad), "{bad}");
        }
    }
}
