//! Hosts on real machines (`sockspec run --hosts FILE`, `spec/scenario-format.md` §16.1): instead
//! of building a scenario's hosts as namespaces, each host is a machine that already has the
//! host's addresses, and every actor of a host runs on a driver started through that machine's
//! command prefix (`ssh lab-a`, or `nsenter --net=…` where namespaces stand in for machines).
//!
//! sockspec changes no machine's network: a scenario that needs a route, a neighbour entry, a
//! setting, a rate, an MTU, a link fault or an absent host is `unsupported` on machines.

use crate::implementation::{Implementation, Mixed};
use crate::scenario::{is_scenario_network_address, AddressExpr, Op, Scenario};
use crate::vocab::Address;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

/// What a hosts file says about one host.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineEntry {
    /// Put before a driver's command to run it on the machine (`ssh -T lab-a`).
    pub command_prefix: String,
    /// The machine's addresses: each address a scenario gives the host must be one of them.
    pub addresses: Vec<IpAddr>,
}

/// Why a hosts file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MachinesError {
    /// The file cannot be read or does not parse.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What is wrong, with the line and column where known.
        message: String,
    },
    /// A host's driver could not be started through its prefix.
    #[error("host `{host}`: {reason}")]
    Driver {
        /// The host.
        host: String,
        /// Why.
        reason: String,
    },
}

/// Reads a hosts file: a map from host names to [`MachineEntry`].
pub fn load_hosts_file(path: &Path) -> Result<BTreeMap<String, MachineEntry>, MachinesError> {
    let failed = |message: String| MachinesError::File {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| failed(format!("cannot read: {e}")))?;
    crate::yaml::from_str(&text).map_err(|e| {
        failed(format!(
            "{}:{}: {}",
            e.location.line, e.location.column, e.message
        ))
    })
}

/// Every host's machine: its addresses and the implementation (a driver started through the
/// machine's prefix) its actors run on.
pub struct Machines {
    hosts: BTreeMap<String, (MachineEntry, Arc<dyn Implementation>)>,
}

impl std::fmt::Debug for Machines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.hosts.iter().map(|(h, (e, _))| (h, e)))
            .finish()
    }
}

impl Machines {
    /// The machines of `entries`, each host's driver started by `start` with the host's command
    /// prefix.
    pub fn start(
        entries: BTreeMap<String, MachineEntry>,
        start: impl Fn(&str) -> Result<Arc<dyn Implementation>, String>,
    ) -> Result<Machines, MachinesError> {
        let mut hosts = BTreeMap::new();
        for (host, entry) in entries {
            let implementation =
                start(&entry.command_prefix).map_err(|reason| MachinesError::Driver {
                    host: host.clone(),
                    reason,
                })?;
            hosts.insert(host, (entry, implementation));
        }
        Ok(Machines { hosts })
    }

    /// The implementation that runs `scenario`'s actors each on its host's machine, or why the
    /// scenario cannot run on these machines.
    pub(crate) fn place(&self, scenario: &Scenario) -> Result<Mixed, String> {
        let topology = &scenario.topology;
        let mut needs: BTreeSet<&str> = BTreeSet::new();
        for host in topology.hosts.values() {
            if !host.routes.is_empty() {
                needs.insert("routes");
            }
            if !host.neighbours.is_empty() {
                needs.insert("neighbour entries");
            }
            if !host.sysctl.is_empty() {
                needs.insert("settings (sysctl)");
            }
            for interface in host.interfaces.values() {
                if interface.rate.is_some() {
                    needs.insert("a rate limit");
                }
                if interface.mtu.is_some() {
                    needs.insert("an MTU");
                }
            }
        }
        for step in scenario.actors.iter().flat_map(|a| &a.steps) {
            match &step.op {
                Op::LinkDown(_) | Op::LinkUp(_) => {
                    needs.insert("a link fault");
                }
                Op::Route(_) => {
                    needs.insert("a route change");
                }
                _ => {}
            }
        }
        let owned: BTreeSet<IpAddr> = topology
            .hosts
            .values()
            .flat_map(|h| h.interfaces.values())
            .flat_map(|i| i.addresses.iter().map(|p| p.address))
            .collect();
        for step in scenario.actors.iter().flat_map(|a| &a.steps) {
            for address in step.op.addresses() {
                if let AddressExpr::Literal(Address::Ip(a)) = address {
                    if is_scenario_network_address(a.ip()) && !owned.contains(&a.ip()) {
                        needs.insert("an address no host owns (an absent or unrouted host)");
                    }
                }
            }
        }
        if !needs.is_empty() {
            return Err(format!(
                "on machines (--hosts), sockspec changes no network, and this scenario needs {}",
                needs.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        for (name, host) in &topology.hosts {
            let Some((entry, _)) = self.hosts.get(name) else {
                return Err(format!("host `{name}` has no machine in the hosts file"));
            };
            for prefix in host.interfaces.values().flat_map(|i| &i.addresses) {
                if !entry.addresses.contains(&prefix.address) {
                    return Err(format!(
                        "the machine of host `{name}` lacks the host's address {} (the hosts file \
                         gives it {})",
                        prefix.address,
                        entry
                            .addresses
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        let by_actor = topology
            .placement
            .iter()
            .filter_map(|(actor, host)| {
                let (_, implementation) = self.hosts.get(host)?;
                Some((actor.clone(), Arc::clone(implementation)))
            })
            .collect();
        let default = self
            .hosts
            .values()
            .next()
            .map(|(_, i)| Arc::clone(i))
            .ok_or_else(|| "the hosts file names no machine".to_string())?;
        Ok(Mixed::new(default, by_actor))
    }
}
