//! The implementations a run can name: built in (`reference`), named drivers from a
//! configuration file (`python`), and any driver command (`exec:COMMAND`).

use crate::driver::{load_config, parse_config, Driver, DriverEntry, DriverError};
use crate::implementation::Implementation;
use crate::reference::Reference;
use crate::stdnet::StdNet;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a suite configures its named drivers, relative to the suite's directory.
pub const DEFAULT_DRIVERS: &str = "drivers/drivers.yaml";

/// The implementations built into this crate, the default (`reference`) first.
pub fn builtin() -> Vec<Arc<dyn Implementation>> {
    #[allow(unused_mut)]
    let mut builtin: Vec<Arc<dyn Implementation>> = vec![Arc::new(Reference), Arc::new(StdNet)];
    #[cfg(feature = "turmoil")]
    builtin.push(Arc::new(crate::turmoil::Turmoil::new()));
    builtin
}

/// A named drivers' configuration: where it is read from, and where its commands run.
///
/// `exec:COMMAND` always runs from the current directory; a configured command runs from the
/// directory its relative paths are meant for: the suite's (a checkout, `--suite DIR`, or the
/// built-in suite written out to a temporary directory), or the current directory for a file
/// named with `--drivers`.
#[derive(Clone, Debug)]
pub struct Drivers {
    /// The file, as messages name it.
    file: PathBuf,
    /// Its text, when it is not read from `file` (the built-in suite's).
    text: Option<&'static str>,
    /// Where configured commands run.
    commands_in: CommandsIn,
}

#[derive(Clone, Debug)]
enum CommandsIn {
    /// The current directory.
    Current,
    /// This directory.
    Dir(PathBuf),
    /// The built-in suite, written out on first use (see [`crate::suite::materialised`]).
    BuiltIn,
}

impl Drivers {
    /// The configuration in `file`, its commands run from the current directory. A missing file
    /// configures no driver.
    pub fn file(file: &Path) -> Drivers {
        Drivers {
            file: file.to_path_buf(),
            text: None,
            commands_in: CommandsIn::Current,
        }
    }

    /// The configuration in `file`, its commands run from `dir`.
    pub fn in_dir(file: &Path, dir: &Path) -> Drivers {
        Drivers {
            commands_in: if dir.as_os_str().is_empty() {
                CommandsIn::Current
            } else {
                CommandsIn::Dir(dir.to_path_buf())
            },
            ..Drivers::file(file)
        }
    }

    /// The built-in suite's configuration (`text`, named `file`), its commands run from the
    /// built-in suite written out to a temporary directory.
    pub fn built_in(file: &Path, text: &'static str) -> Drivers {
        Drivers {
            file: file.to_path_buf(),
            text: Some(text),
            commands_in: CommandsIn::BuiltIn,
        }
    }

    /// The configuration file, as messages name it.
    pub fn path(&self) -> &Path {
        &self.file
    }

    /// The configured drivers.
    pub fn config(&self) -> Result<BTreeMap<String, DriverEntry>, DriverError> {
        match self.text {
            Some(text) => parse_config(&self.file, text),
            None => load_config(&self.file),
        }
    }

    /// The names a run can use: built-ins, then the configured drivers.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = builtin().iter().map(|i| i.name().to_string()).collect();
        if let Ok(config) = self.config() {
            names.extend(config.into_keys());
        }
        names
    }

    /// The implementation called `name`: a built-in, `exec:COMMAND`, or a configured driver.
    /// Drivers are started once here, for their handshake.
    pub fn resolve(&self, name: &str) -> Resolved {
        if let Some(found) = builtin().into_iter().find(|i| i.name() == name) {
            return Ok(found);
        }
        if let Some(command) = name.strip_prefix("exec:") {
            return Driver::start(command, command)
                .map(|d| Arc::new(d) as Arc<dyn Implementation>)
                .map_err(|e| e.to_string());
        }
        let config = self.config().map_err(|e| e.to_string())?;
        match config.get(name) {
            Some(entry) => {
                let dir = match &self.commands_in {
                    CommandsIn::Current => None,
                    CommandsIn::Dir(dir) => Some(dir.clone()),
                    CommandsIn::BuiltIn => Some(crate::suite::materialised()?),
                };
                Driver::start_in(name, &entry.command, dir.as_deref())
                    .map(|d| Arc::new(d) as Arc<dyn Implementation>)
                    .map_err(|e| e.to_string())
            }
            None => Err(format!(
                "unknown implementation `{name}`; known: {} (or `exec:COMMAND` for any driver)",
                self.names().join(", ")
            )),
        }
    }

    /// The driver called `name` (`exec:COMMAND` or a configured one), its command run as
    /// `PREFIX COMMAND` (on another machine: `ssh -T lab-a`). A built-in implementation runs in
    /// sockspec's own process and cannot be.
    pub fn resolve_on(&self, name: &str, prefix: &str) -> Resolved {
        if builtin().iter().any(|i| i.name() == name) {
            return Err(format!(
                "`{name}` runs inside sockspec's process, not on another machine: name a driver \
                 (`python`, `exec:COMMAND`)"
            ));
        }
        if let Some(command) = name.strip_prefix("exec:") {
            return Driver::start(name, &format!("{prefix} {command}"))
                .map(|d| Arc::new(d) as Arc<dyn Implementation>)
                .map_err(|e| e.to_string());
        }
        let config = self.config().map_err(|e| e.to_string())?;
        let entry = config.get(name).ok_or_else(|| {
            format!(
                "unknown driver `{name}`; known: {}",
                config.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })?;
        let dir = match &self.commands_in {
            CommandsIn::Current => None,
            CommandsIn::Dir(dir) => Some(dir.clone()),
            CommandsIn::BuiltIn => Some(crate::suite::materialised()?),
        };
        Driver::start_in(name, &format!("{prefix} {}", entry.command), dir.as_deref())
            .map(|d| Arc::new(d) as Arc<dyn Implementation>)
            .map_err(|e| e.to_string())
    }

    /// Every implementation: the built-ins and every configured driver (a driver that fails its
    /// handshake is returned as the error, with its name).
    pub fn all(&self) -> Vec<(String, Resolved)> {
        self.names()
            .into_iter()
            .map(|name| {
                let resolved = self.resolve(&name);
                (name, resolved)
            })
            .collect()
    }
}

/// The names a run can use: built-ins, then the drivers configured in `drivers` (whose commands
/// run from the current directory).
pub fn names(drivers: &Path) -> Vec<String> {
    Drivers::file(drivers).names()
}

/// The implementation called `name`: a built-in, `exec:COMMAND`, or a driver configured in
/// `drivers` (run from the current directory). Drivers are started once here, for their
/// handshake.
pub fn resolve(name: &str, drivers: &Path) -> Resolved {
    Drivers::file(drivers).resolve(name)
}

/// An implementation, or why it could not be had.
pub type Resolved = Result<Arc<dyn Implementation>, String>;

/// Every implementation: the built-ins and every driver configured in `drivers` (run from the
/// current directory).
pub fn all(drivers: &Path) -> Vec<(String, Resolved)> {
    Drivers::file(drivers).all()
}
