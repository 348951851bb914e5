//! The implementations this build knows by name.

use crate::implementation::Implementation;
use crate::reference::Reference;
use std::sync::Arc;

/// Every built-in implementation, the default (`reference`) first.
pub fn all() -> Vec<Arc<dyn Implementation>> {
    vec![Arc::new(Reference)]
}

/// The implementation called `name`.
pub fn by_name(name: &str) -> Option<Arc<dyn Implementation>> {
    all().into_iter().find(|i| i.name() == name)
}

/// The names of all built-in implementations.
pub fn names() -> Vec<String> {
    all().iter().map(|i| i.name().to_string()).collect()
}
