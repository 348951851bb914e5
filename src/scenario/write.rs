//! Scenarios written back as YAML: the model serialised, never formatted by hand, so that what a
//! property or the differential test writes is a scenario the loader reads back as the same model.

use super::{
    Actor, AddressExpr, Count, CountRange, DurationText, Expect, OptionValue, Payload, Scenario,
    Step,
};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::time::Duration;

/// The scenario as a YAML document in the format of `spec/scenario-format.md` (without its
/// `parameters`: a written scenario is one case). `comment` lines, if any, go first as `#`
/// comments.
pub fn to_yaml(scenario: &Scenario, comment: &str) -> Result<String, crate::yaml::WriteError> {
    let mut out = String::new();
    for line in comment.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&crate::yaml::to_string(&Document(scenario))?);
    Ok(out)
}

/// A scenario's top level, in the order the format lists its keys.
struct Document<'a>(&'a Scenario);

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let s = self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("title", &s.title)?;
        if let Some(description) = &s.description {
            map.serialize_entry("description", description)?;
        }
        map.serialize_entry("requirements", &s.requirements)?;
        if !s.tags.is_empty() {
            map.serialize_entry("tags", &s.tags)?;
        }
        let requires = &s.requires;
        if !(requires.families.is_empty()
            && requires.types.is_empty()
            && requires.options.is_empty()
            && requires.features.is_empty()
            && requires.platforms.is_empty())
        {
            map.serialize_entry("requires", requires)?;
        }
        if let Some(why) = &s.fixed_port_why {
            map.serialize_entry("fixed_port_why", why)?;
        }
        if !s.unprivileged.is_empty() {
            map.serialize_entry("unprivileged", &s.unprivileged)?;
        }
        if !s.environment.is_empty() {
            map.serialize_entry("environment", &s.environment)?;
        }
        if !s.topology.hosts.is_empty() {
            map.serialize_entry("hosts", &s.topology.hosts)?;
        }
        if !s.topology.placement.is_empty() {
            map.serialize_entry("host", &s.topology.placement)?;
        }
        if let Some(timeout) = s.timeout {
            map.serialize_entry("timeout", &DurationText(timeout))?;
        }
        if let Some(timeout) = s.step_timeout {
            map.serialize_entry("step_timeout", &DurationText(timeout))?;
        }
        map.serialize_entry("actors", &Actors(&s.actors))?;
        map.end()
    }
}

/// `actors:`, in file order.
struct Actors<'a>(&'a [Actor]);

impl Serialize for Actors<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for actor in self.0 {
            map.serialize_entry(&actor.name, &actor.steps)?;
        }
        map.end()
    }
}

impl Serialize for Step {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.op.serialize_entry(&mut map)?;
        if self.expect != Expect::default() {
            map.serialize_entry("expect", &self.expect)?;
        }
        if let Some(timeout) = self.timeout {
            map.serialize_entry("timeout", &DurationText(timeout))?;
        }
        if let Some(name) = &self.announce {
            map.serialize_entry("announce", name)?;
        }
        if let Some(name) = &self.blocks_until {
            map.serialize_entry("blocks_until", name)?;
        }
        if let Some(least) = self.min_elapsed {
            map.serialize_entry("min_elapsed", &DurationText(least))?;
        }
        map.end()
    }
}

/// A duration as the format writes it: `5s`, `250ms`.
impl Serialize for DurationText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&humantime::format_duration(self.0))
    }
}

/// Writes an optional duration: `null`, or as [`DurationText`].
pub(super) fn optional_duration<S: Serializer>(
    value: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(d) => DurationText(*d).serialize(serializer),
        None => serializer.serialize_none(),
    }
}

impl Serialize for Expect {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if *self == Expect::default() {
            serializer.serialize_str("ok")
        } else {
            self.0.serialize(serializer)
        }
    }
}

impl Serialize for Count {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Count::Fixed(n) => serializer.serialize_u64(*n as u64),
            Count::Captured(name) => serializer.collect_str(&format_args!("${name}")),
        }
    }
}

impl Serialize for CountRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.min == self.max {
            return serializer.serialize_u64(self.min as u64);
        }
        let mut map = serializer.serialize_map(None)?;
        if self.min != 0 {
            map.serialize_entry("min", &self.min)?;
        }
        if self.max != usize::MAX {
            map.serialize_entry("max", &self.max)?;
        }
        map.end()
    }
}

impl Serialize for OptionValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0)
    }
}

impl Serialize for AddressExpr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Payload::Text(text) => serializer.serialize_str(text),
            Payload::Hex(bytes) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("hex", &super::hex(bytes))?;
                map.end()
            }
            Payload::Repeat { pattern, len } => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("repeat", &String::from_utf8_lossy(pattern))?;
                map.serialize_entry("len", len)?;
                map.end()
            }
        }
    }
}

/// Writes an expected `gettimeout` result as the format does: `null`, `0s` or a duration.
pub(super) fn expected_timeout<S: Serializer>(
    value: &Option<crate::vocab::Mode>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    optional_duration(&value.and_then(crate::vocab::Mode::timeout), serializer)
}
