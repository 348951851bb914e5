//! What an implementation declares it can do.

use super::{Family, SocketOption, SocketType};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
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

/// A way in which a library's API is shaped differently from BSD sockets, which some scenarios
/// cannot be run faithfully through (driver protocol version 2).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ApiShape {
    /// A stream socket's local address is applied when it listens or connects (Node's
    /// `server.listen(port)`): `bind` itself cannot fail, and a bound stream socket has no name
    /// before `listen`/`connect`. Scenarios that check what a stream socket's `bind` returns, or
    /// its name before it listens or connects, are `unsupported`.
    DeferredBind,
    /// The library accepts every connection as it arrives and queues it for the program, so no
    /// connection ever waits in a listener's backlog: scenarios that need `backlog` are
    /// `unsupported`.
    AutoAccept,
    /// Timeouts are idle timers on a connection, not a bound on each call: scenarios that need
    /// `timeout_mode` are `unsupported`.
    IdleTimeout,
}

impl ApiShape {
    /// True when an implementation of this shape cannot honour `feature`, whatever it declares.
    fn excludes(self, feature: Feature) -> bool {
        matches!(
            (self, feature),
            (ApiShape::AutoAccept, Feature::Backlog)
                | (ApiShape::IdleTimeout, Feature::TimeoutMode)
        )
    }

    /// What the steps that cannot run through this shape need, for a reason shown to people.
    fn what_steps_need(self) -> &'static str {
        match self {
            ApiShape::DeferredBind => "what a stream socket's bind does on its own",
            ApiShape::AutoAccept => "connections that wait to be accepted",
            ApiShape::IdleTimeout => "timeouts that bound each call",
        }
    }

    /// What the shape means, for a reason shown to people.
    fn explained(self) -> &'static str {
        match self {
            ApiShape::DeferredBind => {
                "deferred_bind: a stream socket's address is applied at listen/connect"
            }
            ApiShape::AutoAccept => "auto_accept: connections are accepted as they arrive",
            ApiShape::IdleTimeout => "idle_timeout: timeouts are idle timers, not per call",
        }
    }
}

impl fmt::Display for ApiShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::scenario_name(self))
    }
}

/// A kind of socket: an address family and a socket type.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct SocketKind {
    /// The address family.
    pub family: Family,
    /// The socket type.
    #[serde(rename = "type")]
    pub kind: SocketType,
}

impl fmt::Display for SocketKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} sockets", self.family, self.kind)
    }
}

/// What an implementation can express — or, as a scenario's needs, what it must express.
///
/// `families`, `types`, `options` and `features` are version 1's flat lists; the other fields
/// (driver protocol version 2) narrow them, and an implementation that leaves them out is
/// taken to support every combination of what the lists name.
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
    /// The operations it performs, by their protocol names; absent: every operation. (As needs:
    /// the operations the steps make.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<BTreeSet<String>>,
    /// The kinds of socket it can create; absent: every pair of `families` and `types`. (As
    /// needs: the kinds the steps create.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sockets: Option<BTreeSet<SocketKind>>,
    /// Options that work on some socket types only, with those types; an option not listed
    /// works on every type. (As needs: the types each option is used on.)
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub option_types: BTreeMap<SocketOption, BTreeSet<SocketType>>,
    /// How its API is shaped differently from BSD sockets. (As needs: the shapes the steps
    /// cannot be run faithfully through.)
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub shapes: BTreeSet<ApiShape>,
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
            operations: None,
            sockets: None,
            option_types: BTreeMap::new(),
            shapes: BTreeSet::new(),
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
        // A feature the implementation's API shape rules out says so, declared or not.
        let ruled_out = |feature: Feature| self.shapes.iter().find(|s| s.excludes(feature));
        missing.extend(needed.features.iter().filter_map(|&feature| {
            match (ruled_out(feature), self.features.contains(&feature)) {
                (Some(shape), _) => Some(format!("feature {feature} ({})", shape.explained())),
                (None, false) => Some(format!("feature {feature}")),
                (None, true) => None,
            }
        }));
        for shape in &self.shapes {
            if needed.shapes.contains(shape) {
                missing.push(format!(
                    "{} ({})",
                    shape.what_steps_need(),
                    shape.explained()
                ));
            }
        }
        if let (Some(have), Some(need)) = (&self.operations, &needed.operations) {
            // A feature named like the operation (`socketpair`) says it already.
            let said_as_feature = |op: &str| missing.iter().any(|m| m == &format!("feature {op}"));
            let operations: Vec<String> = need
                .difference(have)
                .filter(|op| !said_as_feature(op))
                .map(|op| format!("operation {op}"))
                .collect();
            missing.extend(operations);
        }
        if let (Some(have), Some(need)) = (&self.sockets, &needed.sockets) {
            missing.extend(
                need.difference(have)
                    // A family or type missing altogether is said above already.
                    .filter(|k| self.families.contains(&k.family) && self.types.contains(&k.kind))
                    .map(|k| k.to_string()),
            );
        }
        for (option, types) in &needed.option_types {
            if let Some(works_on) = self.option_types.get(option) {
                for kind in types.difference(works_on) {
                    missing.push(format!("option {option} on {kind} sockets"));
                }
            }
        }
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs_of(f: impl FnOnce(&mut Capabilities)) -> Capabilities {
        let mut needs = Capabilities {
            families: [Family::Inet].into_iter().collect(),
            types: [SocketType::Stream, SocketType::Dgram]
                .into_iter()
                .collect(),
            operations: Some(["socket", "setsockopt"].map(String::from).into()),
            sockets: Some(
                [SocketKind {
                    family: Family::Inet,
                    kind: SocketType::Dgram,
                }]
                .into(),
            ),
            ..Capabilities::default()
        };
        f(&mut needs);
        needs
    }

    #[test]
    fn a_version_1_declaration_supports_every_combination_of_what_it_lists() {
        let v1 = Capabilities::everything();
        let needs = needs_of(|n| {
            n.option_types
                .insert(SocketOption::Broadcast, [SocketType::Stream].into());
            n.shapes.insert(ApiShape::DeferredBind);
        });
        assert_eq!(v1.missing(&needs), Vec::<String>::new());
    }

    #[test]
    fn an_operation_a_socket_kind_or_an_option_on_a_type_not_declared_is_missing() {
        let mut have = Capabilities::everything();
        have.operations = Some(["socket".to_string()].into());
        have.sockets = Some(
            [SocketKind {
                family: Family::Inet,
                kind: SocketType::Stream,
            }]
            .into(),
        );
        have.option_types
            .insert(SocketOption::Broadcast, [SocketType::Dgram].into());
        let needs = needs_of(|n| {
            n.option_types
                .insert(SocketOption::Broadcast, [SocketType::Stream].into());
        });
        assert_eq!(
            have.missing(&needs),
            [
                "operation setsockopt",
                "inet dgram sockets",
                "option SO_BROADCAST on stream sockets"
            ]
        );
    }

    #[test]
    fn a_shape_takes_away_the_features_it_cannot_honour_and_the_steps_it_cannot_run() {
        let mut have = Capabilities::everything();
        // Declared or not, a feature the shape rules out is missing, and says why.
        have.features.remove(&Feature::Backlog);
        have.shapes = [
            ApiShape::AutoAccept,
            ApiShape::IdleTimeout,
            ApiShape::DeferredBind,
        ]
        .into();
        let needs = needs_of(|n| {
            n.features = [Feature::Backlog, Feature::TimeoutMode].into();
            n.shapes.insert(ApiShape::DeferredBind);
        });
        assert_eq!(
            have.missing(&needs),
            [
                "feature timeout_mode (idle_timeout: timeouts are idle timers, not per call)",
                "feature backlog (auto_accept: connections are accepted as they arrive)",
                "what a stream socket's bind does on its own (deferred_bind: a stream socket's address is applied at listen/connect)",
            ]
        );
    }

    #[test]
    fn an_operation_missing_as_a_feature_of_the_same_name_is_said_once() {
        let mut have = Capabilities::everything();
        have.features.remove(&Feature::Socketpair);
        have.operations = Some(["socket".to_string()].into());
        let needs = Capabilities {
            features: [Feature::Socketpair].into(),
            operations: Some(["socket", "socketpair"].map(String::from).into()),
            ..Capabilities::default()
        };
        assert_eq!(have.missing(&needs), ["feature socketpair"]);
    }
}
