//! A multi-host scenario's network: a namespace per host, built before its actors start and
//! gone when the scenario ends (`spec/scenario-format.md` §14).
//!
//! Built with iproute2 (`ip -batch`, `tc`) run inside each namespace: see the README's
//! "Multi-host scenarios" for why iproute2 rather than a netlink crate.

use crate::netns::{Namespace, NetnsError};
use crate::scenario::{Host, Route, RouteStep, RouteType, Topology};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Why a scenario's network could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// This machine cannot build it (no permission, no iproute2): the scenario is unsupported.
    #[error("{0}")]
    Unsupported(NetnsError),
    /// Building it failed.
    #[error("cannot build the scenario's network: host `{host}`: {source}")]
    Failed {
        /// The host being built.
        host: String,
        /// What failed.
        #[source]
        source: NetnsError,
    },
}

/// The hosts of a running scenario, each a namespace of its own.
#[derive(Debug)]
pub(crate) struct Network {
    topology: Topology,
    namespaces: BTreeMap<String, Namespace>,
    /// Where the bridges of links shared by three hosts or more are: a namespace of its own,
    /// so that no host sees them.
    switch: Option<Namespace>,
}

impl Network {
    /// Builds `topology`'s hosts: namespaces, links (veth pairs), settings, addresses, routes,
    /// neighbours, rate limits.
    pub fn build(topology: &Topology) -> Result<Network, BuildError> {
        let mut namespaces = BTreeMap::new();
        for host in topology.hosts.keys() {
            let namespace = Namespace::new().map_err(|e| match e {
                NetnsError::NotPermitted(_) => BuildError::Unsupported(e),
                other => BuildError::Failed {
                    host: host.clone(),
                    source: other,
                },
            })?;
            namespaces.insert(host.clone(), namespace);
        }
        let shared_links = topology.links().values().any(|ends| ends.len() > 2);
        let switch = match shared_links {
            true => Some(Namespace::new().map_err(|e| match e {
                NetnsError::NotPermitted(_) => BuildError::Unsupported(e),
                other => BuildError::Failed {
                    host: "(the switch of shared links)".to_string(),
                    source: other,
                },
            })?),
            false => None,
        };
        let network = Network {
            topology: topology.clone(),
            namespaces,
            switch,
        };
        let failed = |host: &str| {
            let host = host.to_string();
            move |source: NetnsError| match source {
                NetnsError::MissingTool(_) => BuildError::Unsupported(source),
                source => BuildError::Failed { host, source },
            }
        };
        // Each link is made from its first host's namespace, its peer created in the other's; a
        // link of three hosts or more is a bridge in the switch's namespace, with a veth pair
        // from it to each host.
        for (number, (link, ends)) in topology.links().into_iter().enumerate() {
            if let (Some(switch), true) = (&network.switch, ends.len() > 2) {
                let bridge = format!("br{number}");
                run(
                    switch,
                    "ip",
                    &["link", "add", &bridge, "type", "bridge"],
                    "",
                )
                .and_then(|()| run(switch, "ip", &["link", "set", &bridge, "up"], ""))
                .map_err(failed("(the switch of shared links)"))?;
                for (index, host) in ends.iter().enumerate() {
                    let port = format!("l{number}h{index}");
                    let peer = network.namespaces[*host].id().to_string();
                    let (here, there) = (index_of(number, 32 + index), index_of(number, index));
                    let batch = format!(
                        "link add {port} index {here} type veth peer name {link} index {there} \
                         netns {peer}\nlink set {port} master {bridge}\nlink set {port} up\n"
                    );
                    run(switch, "ip", &["-batch", "-"], &batch)
                        .map_err(failed("(the switch of shared links)"))?;
                }
                continue;
            }
            if let [a, b] = ends[..] {
                let peer = network.namespaces[b].id().to_string();
                run(
                    &network.namespaces[a],
                    "ip",
                    &[
                        "link",
                        "add",
                        link,
                        "index",
                        &index_of(number, 0),
                        "type",
                        "veth",
                        "peer",
                        "name",
                        link,
                        "index",
                        &index_of(number, 1),
                        "netns",
                        &peer,
                    ],
                    "",
                )
                .map_err(failed(a))?;
            }
        }
        for (name, host) in &topology.hosts {
            let namespace = &network.namespaces[name];
            // Per-interface settings (`net.ipv4.neigh.wire.…`) exist once the links do.
            for (key, value) in &host.sysctl {
                namespace.set_sysctl(key, &value.0).map_err(failed(name))?;
            }
            run(namespace, "ip", &["-batch", "-"], &configuration(host)).map_err(failed(name))?;
            for (interface, definition) in &host.interfaces {
                if let Some(rate) = definition.rate {
                    // A bucket of a hundredth of a second of traffic, at least 16 KiB (a
                    // burst smaller than a frame would never send one).
                    let burst = (rate.0 / 8 / 100).max(16 * 1024).to_string();
                    let rate = rate.to_string();
                    run(
                        namespace,
                        "tc",
                        &[
                            "qdisc", "replace", "dev", interface, "root", "tbf", "rate", &rate,
                            "burst", &burst, "latency", "400ms",
                        ],
                        "",
                    )
                    .map_err(failed(name))?;
                }
            }
        }
        for (name, host) in &topology.hosts {
            wait_until_up(&network.namespaces[name], host).map_err(failed(name))?;
        }
        Ok(network)
    }

    /// Moves the calling thread into the namespace of `actor`'s host.
    pub fn enter_for(&self, actor: &str) -> Result<(), NetnsError> {
        match self
            .topology
            .host_of(actor)
            .and_then(|host| self.namespaces.get(host))
        {
            Some(namespace) => namespace.enter(),
            // Validation places every actor; an unplaced one stays on this machine.
            None => Ok(()),
        }
    }

    /// `link_down: LINK` (`up` false) or `link_up: LINK`: both ends. Bringing a link up puts
    /// back its hosts' addresses and routes (the kernel drops IPv6 addresses and the routes
    /// through a link when it goes down).
    pub fn set_link(&self, link: &str, up: bool) -> Result<(), NetnsError> {
        for (name, host) in &self.topology.hosts {
            if !host.interfaces.contains_key(link) {
                continue;
            }
            let namespace = &self.namespaces[name];
            if up {
                run(namespace, "ip", &["-batch", "-"], &configuration(host))?;
            } else {
                run(namespace, "ip", &["link", "set", link, "down"], "")?;
            }
        }
        Ok(())
    }

    /// `route:`: adds (replaces) or deletes a route of a host.
    pub fn route(&self, step: &RouteStep) -> Result<(), NetnsError> {
        let Some(namespace) = self.namespaces.get(&step.host) else {
            return Err(NetnsError::Command {
                command: "route".to_string(),
                output: format!("`{}` is not a host of this scenario", step.host),
            });
        };
        let line = if step.delete {
            format!("route del {}", step.to)
        } else {
            route_line(&step.route())
        };
        run(namespace, "ip", &["-batch", "-"], &format!("{line}\n"))
    }
}

/// Runs `program args…` inside `namespace`, with `input` on its standard input.
///
/// It is started by a thread inside the namespace (a child starts in its parent thread's
/// namespace), not entered between `fork` and `exec`: a command with a `pre_exec` hook is
/// started by a full `fork`, whose child holds a copy of every descriptor of sockspec — every
/// socket of the scenarios running beside this one — until it execs, which made a closed
/// listener still accept and a freed port still taken. Without the hook the child is started
/// with `posix_spawn`, which shares the parent's memory and execs at once.
fn run(namespace: &Namespace, program: &str, args: &[&str], input: &str) -> Result<(), NetnsError> {
    let shown = format!("{program} {}", args.join(" "));
    let output = namespace.within(|| {
        let mut command = std::process::Command::new(program);
        command.args(args);
        Ok(crate::driver::run_helper(&mut command, input.as_bytes()))
    })?;
    crate::netns::check_output(program, &shown, output)
}

/// The interface index of end `end` of link number `link`: distinct for the two ends of every
/// veth pair. Each new namespace numbers its devices from 1, so both ends of a pair would
/// otherwise get the same index, and the kernel's link watch takes a veth whose peer's index
/// equals its own for a device of no urgency and handles it up to a second late (see
/// [`wait_until_up`]).
fn index_of(link: usize, end: usize) -> String {
    (1000 + link * 64 + end).to_string()
}

/// How long an interface may take to become operational once it is up.
const UP_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Waits until every interface of `host` is operational. Until the kernel's link watch has
/// handled a link that just came up, the device sends nothing (its queue discipline is still
/// `noop`): a SYN sent then is lost, retransmitted a second later, and the connection's
/// retransmission timeout starts at 3 s (RFC 6298's fallback after a lost SYN) — which made a
/// peer-vanishes scenario wait 9 s instead of 1 s when many scenarios built links at once.
/// Asked with `SIOCGIFFLAGS` (`IFF_RUNNING` is set by the link watch), not by starting `ip`
/// again and again: every process started holds copies of sockspec's descriptors until it
/// execs, and so delays the closing of other scenarios' sockets.
fn wait_until_up(namespace: &Namespace, host: &Host) -> Result<(), NetnsError> {
    if host.interfaces.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = host.interfaces.keys().map(String::as_str).collect();
    namespace.within(|| {
        let deadline = std::time::Instant::now() + UP_WITHIN;
        let probe = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)
            .map_err(|source| NetnsError::Io {
                what: "cannot open a socket to ask for the interfaces' state".to_string(),
                source,
            })?;
        loop {
            let down: Vec<&str> = names
                .iter()
                .copied()
                .filter(|name| !running(&probe, name))
                .collect();
            if down.is_empty() {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                return Err(NetnsError::Command {
                    command: "SIOCGIFFLAGS".to_string(),
                    output: format!(
                        "{} not operational within {}",
                        down.join(", "),
                        humantime::format_duration(UP_WITHIN)
                    ),
                });
            }
            // Polled: the link watch gives no event a thread can wait on without netlink.
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    })
}

/// True when the interface `name` of the probe socket's namespace is up and operational
/// (`IFF_UP` and `IFF_RUNNING`).
fn running(probe: &socket2::Socket, name: &str) -> bool {
    /// `struct ifreq` as `SIOCGIFFLAGS` reads it: the name, then the flags (the union's other
    /// members make it 40 bytes on Linux).
    #[repr(C)]
    struct IfreqFlags {
        name: [libc::c_char; libc::IFNAMSIZ],
        flags: libc::c_short,
        _rest: [u8; 22],
    }
    let mut request = IfreqFlags {
        name: [0; libc::IFNAMSIZ],
        flags: 0,
        _rest: [0; 22],
    };
    for (slot, byte) in request
        .name
        .iter_mut()
        .zip(name.bytes().take(libc::IFNAMSIZ - 1))
    {
        *slot = byte as libc::c_char;
    }
    use std::os::fd::AsRawFd;
    // SAFETY: SIOCGIFFLAGS reads the name and writes the flags of a struct of ifreq's size.
    let ok = unsafe { libc::ioctl(probe.as_raw_fd(), libc::SIOCGIFFLAGS, &mut request) } == 0;
    let wanted = (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    ok && request.flags & wanted == wanted
}

/// The `ip -batch` lines that configure `host`: loopback up, each interface's MTU, addresses
/// and state, then routes and neighbour entries. Every line replaces rather than adds, so that
/// running it again (after `link_up`) succeeds.
fn configuration(host: &Host) -> String {
    let mut lines = String::from("link set lo up\n");
    for (name, interface) in &host.interfaces {
        if let Some(mtu) = interface.mtu {
            let _ = writeln!(lines, "link set {name} mtu {mtu}");
        }
        for prefix in &interface.addresses {
            // Without duplicate address detection an IPv6 address is usable at once, not
            // "tentative" for a second or two.
            let nodad = if prefix.address.is_ipv6() {
                " nodad"
            } else {
                ""
            };
            let _ = writeln!(lines, "address replace {prefix} dev {name}{nodad}");
        }
        let _ = writeln!(lines, "link set {name} up");
    }
    for route in &host.routes {
        let _ = writeln!(lines, "{}", route_line(route));
    }
    for neighbour in &host.neighbours {
        let _ = writeln!(
            lines,
            "neighbour replace {} lladdr {} dev {} nud permanent",
            neighbour.address, neighbour.lladdr, neighbour.dev
        );
    }
    lines
}

/// `route replace …` for `route`.
fn route_line(route: &Route) -> String {
    let mut line = String::from("route replace ");
    if route.kind != RouteType::Unicast {
        let _ = write!(line, "{} ", route.kind.name());
    }
    let _ = write!(line, "{}", route.to);
    if let Some(via) = route.via {
        let _ = write!(line, " via {via}");
    }
    if let Some(dev) = &route.dev {
        let _ = write!(line, " dev {dev}");
    }
    if let Some(src) = route.src {
        let _ = write!(line, " src {src}");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Interface;

    #[test]
    fn configuration_replaces_so_that_link_up_can_run_it_again() {
        let mut host = Host::default();
        host.interfaces.insert(
            "wire".to_string(),
            Interface {
                addresses: vec![
                    "198.18.0.1/24".parse().unwrap(),
                    "2001:db8::1/64".parse().unwrap(),
                ],
                mtu: Some(1280),
                rate: None,
            },
        );
        host.routes.push(Route {
            to: "198.19.0.0/16".parse().unwrap(),
            kind: RouteType::Unreachable,
            via: None,
            dev: None,
            src: None,
        });
        let text = configuration(&host);
        assert_eq!(
            text,
            "link set lo up\nlink set wire mtu 1280\naddress replace 198.18.0.1/24 dev wire\n\
             address replace 2001:db8::1/64 dev wire nodad\nlink set wire up\n\
             route replace unreachable 198.19.0.0/16\n"
        );
    }
}
