//! What an implementation declares it can do.

use super::{Family, SocketOption, SocketType};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// An ability beyond families, types and options that some scenarios need.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// `socketpair()`.
    Socketpair,
    /// Linux's abstract Unix namespace (`abstract:` addresses).
    AbstractNamespace,
    /// Host names in addresses (`localhost:0`), resolved by the implementation.
    NameResolution,
    /// `settimeout(t)` with t > 0.
    TimeoutMode,
    /// `setblocking(False)` / `settimeout(0)`.
    NonBlockingMode,
    /// An explicit backlog argument to `listen`.
    Backlog,
    /// Sockets that exist before `bind`/`connect` (`socket()` as its own step).
    UnboundSockets,
    /// `shutdown()`.
    Shutdown,
    /// `recv` flags (`MSG_PEEK`, `MSG_WAITALL`, `MSG_DONTWAIT`).
    RecvFlags,
    /// Actors that run without privileges (`unprivileged:`): the implementation makes such an
    /// actor's calls without any Linux capability.
    Unprivileged,
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::scenario_name(self))
    }
}

/// What an implementation can express.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Capabilities {
    /// Address families it supports.
    pub families: BTreeSet<Family>,
    /// Socket types it supports.
    pub types: BTreeSet<SocketType>,
    /// Socket options it can set.
    pub options: BTreeSet<SocketOption>,
    /// Further abilities.
    pub features: BTreeSet<Feature>,
}

impl Capabilities {
    /// Everything this crate knows how to name.
    pub fn everything() -> Capabilities {
        Capabilities {
            families: Family::ALL.into_iter().collect(),
            types: SocketType::ALL.into_iter().collect(),
            options: SocketOption::ALL.iter().copied().collect(),
            features: [
                Feature::Socketpair,
                Feature::AbstractNamespace,
                Feature::NameResolution,
                Feature::TimeoutMode,
                Feature::NonBlockingMode,
                Feature::Backlog,
                Feature::UnboundSockets,
                Feature::Shutdown,
                Feature::RecvFlags,
                Feature::Unprivileged,
            ]
            .into_iter()
            .collect(),
        }
    }

    /// What of `needed` this implementation lacks, as readable words (empty when nothing).
    pub fn missing(&self, needed: &Capabilities) -> Vec<String> {
        let mut missing = Vec::new();
        missing.extend(
            needed
                .families
                .difference(&self.families)
                .map(|f| format!("family {f}")),
        );
        missing.extend(
            needed
                .types
                .difference(&self.types)
                .map(|t| format!("type {t}")),
        );
        missing.extend(
            needed
                .options
                .difference(&self.options)
                .map(|o| format!("option {o}")),
        );
        missing.extend(
            needed
                .features
                .difference(&self.features)
                .map(|x| format!("feature {x}")),
        );
        missing
    }
}
