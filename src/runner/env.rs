//! The per-scenario environment: a temporary directory for Unix socket files and a unique prefix
//! for abstract names, both gone when the scenario ends.

use crate::scenario::AddressExpr;
use crate::vocab::Address;
use std::path::PathBuf;

/// Where a scenario's Unix names live.
pub(crate) struct Env {
    dir: tempfile::TempDir,
    abstract_prefix: String,
}

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
        Ok(Env {
            abstract_prefix: format!("{unique}."),
            dir,
        })
    }

    /// The path of `unix:NAME`.
    pub fn unix_path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A path inside the directory exactly `len` bytes long.
    pub fn path_of_length(&self, len: usize) -> Result<PathBuf, String> {
        let base = self.dir.path().as_os_str().len() + 1;
        if len <= base {
            return Err(format!(
                "a path of {len} bytes cannot be made inside {} ({base} bytes with the slash)",
                self.dir.path().display()
            ));
        }
        Ok(self.dir.path().join("p".repeat(len - base)))
    }

    /// The abstract name of `abstract:NAME`.
    pub fn abstract_name(&self, name: &str) -> Vec<u8> {
        format!("{}{name}", self.abstract_prefix).into_bytes()
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
            AddressExpr::Var(_) | AddressExpr::HostPortOf { .. } | AddressExpr::AnyPort(_) => {
                return None
            }
        }))
    }

    /// An address as the scenario would write it: paths and names without the run's prefixes.
    pub fn display(&self, address: &Address) -> String {
        match address {
            Address::UnixPath(p) => match p.strip_prefix(self.dir.path()) {
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
            other => other.to_string(),
        }
    }
}
