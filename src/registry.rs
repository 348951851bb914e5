//! The implementations a run can name: built in (`reference`), named drivers from a
//! configuration file (`python`), and any driver command (`exec:COMMAND`).

use crate::driver::{load_config, Driver};
use crate::implementation::Implementation;
use crate::reference::Reference;
use crate::stdnet::StdNet;
use std::path::Path;
use std::sync::Arc;

/// Where named drivers are configured, relative to the current directory.
pub const DEFAULT_DRIVERS: &str = "drivers/drivers.yaml";

/// The implementations built into this crate, the default (`reference`) first.
pub fn builtin() -> Vec<Arc<dyn Implementation>> {
    vec![Arc::new(Reference), Arc::new(StdNet)]
}

/// The names a run can use: built-ins, then the drivers configured in `drivers`.
pub fn names(drivers: &Path) -> Vec<String> {
    let mut names: Vec<String> = builtin().iter().map(|i| i.name().to_string()).collect();
    if let Ok(config) = load_config(drivers) {
        names.extend(config.into_keys());
    }
    names
}

/// The implementation called `name`: a built-in, `exec:COMMAND`, or a driver configured in
/// `drivers`. Drivers are started once here, for their handshake.
pub fn resolve(name: &str, drivers: &Path) -> Resolved {
    if let Some(found) = builtin().into_iter().find(|i| i.name() == name) {
        return Ok(found);
    }
    if let Some(command) = name.strip_prefix("exec:") {
        return Driver::start(command, command)
            .map(|d| Arc::new(d) as Arc<dyn Implementation>)
            .map_err(|e| e.to_string());
    }
    let config = load_config(drivers).map_err(|e| e.to_string())?;
    match config.get(name) {
        Some(entry) => Driver::start(name, &entry.command)
            .map(|d| Arc::new(d) as Arc<dyn Implementation>)
            .map_err(|e| e.to_string()),
        None => Err(format!(
            "unknown implementation `{name}`; known: {} (or `exec:COMMAND` for any driver)",
            names(drivers).join(", ")
        )),
    }
}

/// An implementation, or why it could not be had.
pub type Resolved = Result<Arc<dyn Implementation>, String>;

/// Every implementation: the built-ins and every configured driver (a driver that fails its
/// handshake is returned as the error, with its name).
pub fn all(drivers: &Path) -> Vec<(String, Resolved)> {
    names(drivers)
        .into_iter()
        .map(|name| {
            let resolved = resolve(&name, drivers);
            (name, resolved)
        })
        .collect()
}
