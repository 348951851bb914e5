//! The per-scenario environment: a temporary directory for Unix socket files, a unique prefix
//! for abstract names, and the ports held closed (`closed:IP`), all gone when the scenario ends.

use super::closed_port::ClosedPort;
use crate::scenario::AddressExpr;
use crate::vocab::Address;
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Every scenario directory that exists now, so that a run stopped at once (a second SIGINT)
/// can still remove them.
static LIVE_DIRS: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn live_dirs() -> std::sync::MutexGuard<'static, BTreeSet<PathBuf>> {
    LIVE_DIRS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes every scenario directory that still exists (the process is about to exit).
pub(crate) fn remove_all_dirs() {
    for dir in std::mem::take(&mut *live_dirs()) {
        super::fs::restore_permissions(&dir);
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Where a scenario's Unix names live.
///
/// The directory is removed by [`remove`](Env::remove) or on drop, whichever comes first: the
/// runner removes it when the scenario ends even if an abandoned actor thread still holds the
/// environment.
pub(crate) struct Env {
    path: PathBuf,
    dir: Mutex<Option<tempfile::TempDir>>,
    abstract_prefix: String,
    /// The ports held closed, one per loopback address a `closed:IP` named, made when first
    /// resolved (most scenarios need none).
    closed: Mutex<Vec<ClosedPort>>,
    /// An implementation with a network of its own names its closed ports itself (the runner
    /// cannot hold a port there); the ports it named, for [`display`](Env::display).
    own_closed: Option<OwnClosedPorts>,
    named_closed: Mutex<Vec<SocketAddr>>,
}

/// The closed port an implementation with a network of its own names on an IP.
pub(crate) type OwnClosedPorts = Box<dyn Fn(IpAddr) -> Option<SocketAddr> + Send + Sync>;

impl Env {
    /// Creates the temporary directory.
    pub fn new() -> std::io::Result<Env> {
        let dir = tempfile::Builder::new().prefix("sockspec-").tempdir()?;
        // The directory's random name makes abstract names unique to this run, so scenarios can
        // run in parallel (abstract names have no directory to keep them apart).
        let unique = dir
            .path()
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let path = dir.path().to_path_buf();
        live_dirs().insert(path.clone());
        Ok(Env {
            abstract_prefix: format!("{unique}."),
            path,
            dir: Mutex::new(Some(dir)),
            closed: Mutex::new(Vec::new()),
            own_closed: None,
            named_closed: Mutex::new(Vec::new()),
        })
    }

    /// `closed:IP` names what `ports` says, on an implementation whose network is its own.
    pub fn with_own_closed_ports(mut self, ports: OwnClosedPorts) -> Env {
        self.own_closed = Some(ports);
        self
    }

    fn dir(&self) -> &Path {
        &self.path
    }

    /// Removes the directory and everything in it, and releases the ports held closed.
    pub fn remove(&self) {
        self.closed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        let dir = self.dir.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(dir) = dir {
            live_dirs().remove(&self.path);
            // An `fs` step may have taken away the permissions its removal needs.
            super::fs::restore_permissions(&self.path);
            let _ = dir.close();
        }
    }

    /// The path of `unix:NAME`.
    pub fn unix_path(&self, name: &str) -> PathBuf {
        self.dir().join(name)
    }

    /// A path inside the directory exactly `len` bytes long.
    pub fn path_of_length(&self, len: usize) -> Result<PathBuf, String> {
        let base = self.dir().as_os_str().len() + 1;
        if len <= base {
            return Err(format!(
                "a path of {len} bytes cannot be made inside {} ({base} bytes with the slash)",
                self.dir().display()
            ));
        }
        Ok(self.dir().join("p".repeat(len - base)))
    }

    /// The abstract name of `abstract:NAME`.
    pub fn abstract_name(&self, name: &str) -> Vec<u8> {
        format!("{}{name}", self.abstract_prefix).into_bytes()
    }

    /// The address of `closed:IP`: the same port for every step of the scenario, held from its
    /// first use until the scenario ends.
    pub fn closed_port(&self, ip: IpAddr) -> Result<Address, String> {
        if let Some(own) = &self.own_closed {
            let address = own(ip).ok_or_else(|| {
                format!(
                    "the implementation names no closed port for `{}`",
                    AddressExpr::ClosedPort(ip)
                )
            })?;
            self.named_closed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(address);
            return Ok(Address::Ip(address));
        }
        let mut closed = self.closed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(held) = closed.iter().find(|c| c.address.ip() == ip) {
            return Ok(Address::Ip(held.address));
        }
        let held = ClosedPort::hold(ip).map_err(|e| {
            format!(
                "cannot hold a port closed for `{}`: {e}",
                AddressExpr::ClosedPort(ip)
            )
        })?;
        let address = held.address;
        closed.push(held);
        Ok(Address::Ip(address))
    }

    /// Resolves an address that needs no captured value.
    pub fn resolve_static(&self, address: &AddressExpr) -> Option<Result<Address, String>> {
        Some(Ok(match address {
            AddressExpr::Literal(a) => a.clone(),
            AddressExpr::UnixName(n) => Address::UnixPath(self.unix_path(n)),
            AddressExpr::UnixPathOfLength(n) => {
                return Some(self.path_of_length(*n).map(Address::UnixPath))
            }
            AddressExpr::AbstractName(n) => Address::UnixAbstract(self.abstract_name(n)),
            AddressExpr::ClosedPort(ip) => return Some(self.closed_port(*ip)),
            AddressExpr::Var(_) | AddressExpr::HostPortOf { .. } | AddressExpr::AnyPort(_) => {
                return None
            }
        }))
    }

    /// An address as the scenario would write it: paths and names without the run's prefixes.
    pub fn display(&self, address: &Address) -> String {
        match address {
            Address::UnixPath(p) => match p.strip_prefix(self.dir()) {
                Ok(name) if p.as_os_str().len() > 60 => {
                    format!(
                        "unix-path-of-length:{} (unix:{})",
                        p.as_os_str().len(),
                        name.display()
                    )
                }
                Ok(name) => format!("unix:{}", name.display()),
                Err(_) => address.to_string(),
            },
            Address::UnixAbstract(name) => match name.strip_prefix(self.abstract_prefix.as_bytes())
            {
                Some(short) => format!("abstract:{}", short.escape_ascii()),
                None => address.to_string(),
            },
            // A held port is named as the scenario wrote it, so a failure reads `closed:…`.
            Address::Ip(a) => {
                let closed = self.closed.lock().unwrap_or_else(|e| e.into_inner());
                let named = self.named_closed.lock().unwrap_or_else(|e| e.into_inner());
                match closed.iter().any(|c| c.address == *a) || named.contains(a) {
                    true => format!("{address} ({})", AddressExpr::ClosedPort(a.ip())),
                    false => address.to_string(),
                }
            }
            other => other.to_string(),
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        self.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, TcpListener};

    #[test]
    fn every_closed_address_of_a_scenario_is_the_same_port_until_it_ends() {
        let env = Env::new().unwrap();
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let first = env.closed_port(ip).unwrap();
        assert_eq!(env.closed_port(ip).unwrap(), first);
        let Address::Ip(held) = first else {
            panic!("a closed port is an IP address: {first}")
        };
        assert_eq!(env.display(&first), format!("{first} (closed:127.0.0.1)"));
        TcpListener::bind(held).expect_err("held while the scenario runs");
        env.remove();
        TcpListener::bind(held).expect("released when the scenario ends");
    }
}
