//! Reading a scenario's YAML tree into the model, reporting every error rather than stopping at
//! the first: an unknown key, a step that does not parse or an unknown errno name each get their
//! own message, and reading goes on with the next key or step.

use super::model::{optional_duration_node, Actor, Location, ParsedStep, Scenario, Step};
use super::ScenarioPath;
use crate::vocab::did_you_mean;
use crate::yaml::{Node, Positions, SyntaxError};
use serde::de::DeserializeOwned;

/// The keys of a scenario's top level.
pub const TOP_KEYS: &[&str] = &[
    "title",
    "description",
    "requirements",
    "tags",
    "requires",
    "fixed_port_why",
    "unprivileged",
    "environment",
    "hosts",
    "host",
    "parameters",
    "cases",
    "timeout",
    "step_timeout",
    "actors",
];

/// The scenario `positions` holds, as far as it could be read, and every error found reading
/// it. Steps that could not be read are left out (so later checks that follow names from step
/// to step must not trust an actor's steps when there are errors).
pub(crate) fn scenario(
    found: &ScenarioPath,
    positions: &Positions,
) -> (Scenario, Vec<SyntaxError>) {
    let mut errors = Vec::new();
    let mut scenario = Scenario {
        path: found.path.clone(),
        ..Scenario::new(&found.id, String::new(), Vec::new(), Vec::new(), Vec::new())
    };
    let start = Location { line: 1, column: 1 };
    let entries = match positions.root() {
        Some(Node::Map(entries, _)) => entries,
        Some(other) => {
            errors.push(SyntaxError {
                location: other.location(),
                message: "a scenario is a map with `title`, `requirements` and `actors`"
                    .to_string(),
            });
            return (scenario, errors);
        }
        None => {
            errors.push(SyntaxError {
                location: start,
                message: "the file is empty: a scenario needs `title`, `requirements` and `actors`"
                    .to_string(),
            });
            return (scenario, errors);
        }
    };
    let mut seen = Vec::new();
    for (key, value) in entries {
        let Some(name) = key.as_str() else {
            errors.push(SyntaxError {
                location: key.location(),
                message: "a scenario's keys are names".to_string(),
            });
            continue;
        };
        seen.push(name);
        let read = |e: &mut Vec<SyntaxError>, result: Result<(), SyntaxError>| {
            if let Err(mut error) = result {
                error.message = format!("{name}: {}", error.message);
                e.push(error);
            }
        };
        match name {
            "title" => read(&mut errors, field(value, &mut scenario.title)),
            "description" => read(&mut errors, field(value, &mut scenario.description)),
            "requirements" => read(&mut errors, field(value, &mut scenario.requirements)),
            "tags" => read(&mut errors, field(value, &mut scenario.tags)),
            "requires" => read(&mut errors, field(value, &mut scenario.requires)),
            "fixed_port_why" => read(&mut errors, field(value, &mut scenario.fixed_port_why)),
            "unprivileged" => read(&mut errors, field(value, &mut scenario.unprivileged)),
            "environment" => read(&mut errors, field(value, &mut scenario.environment)),
            "hosts" => read(&mut errors, field(value, &mut scenario.topology.hosts)),
            "host" => read(&mut errors, field(value, &mut scenario.topology.placement)),
            "timeout" => read(
                &mut errors,
                optional_duration_node(value).map(|d| scenario.timeout = d),
            ),
            "step_timeout" => read(
                &mut errors,
                optional_duration_node(value).map(|d| scenario.step_timeout = d),
            ),
            // Read by the parameter header, before the cases are made.
            "parameters" | "cases" => {}
            "actors" => scenario.actors = actors(value, &mut errors),
            other => errors.push(SyntaxError {
                location: key.location(),
                message: format!(
                    "unknown field `{other}`, expected one of {}{}",
                    TOP_KEYS.join(", "),
                    did_you_mean(other, TOP_KEYS.iter().copied())
                ),
            }),
        }
    }
    for required in ["title", "requirements", "actors"] {
        if !seen.contains(&required) {
            errors.push(SyntaxError {
                location: start,
                message: format!("missing field `{required}`"),
            });
        }
    }
    (scenario, errors)
}

fn field<T: DeserializeOwned>(node: &Node, into: &mut T) -> Result<(), SyntaxError> {
    *into = node.deserialize()?;
    Ok(())
}

/// `actors:`, a map of actor names to their steps, in file order.
fn actors(node: &Node, errors: &mut Vec<SyntaxError>) -> Vec<Actor> {
    let Node::Map(entries, _) = node else {
        errors.push(SyntaxError {
            location: node.location(),
            message: "actors: a map of actor names to their steps".to_string(),
        });
        return Vec::new();
    };
    let mut actors = Vec::new();
    for (key, value) in entries {
        let Some(name) = key.as_str() else {
            errors.push(SyntaxError {
                location: key.location(),
                message: "actors: an actor's name is text".to_string(),
            });
            continue;
        };
        let Node::Seq(items, _) = value else {
            errors.push(SyntaxError {
                location: value.location(),
                message: format!("actor {name}: its steps are a list (`- step`)"),
            });
            continue;
        };
        let mut steps = Vec::new();
        for (index, item) in items.iter().enumerate() {
            match ParsedStep::from_node(item) {
                Ok(parsed) => steps.push(Step {
                    location: item.location(),
                    op: parsed.op,
                    expect: parsed.expect,
                    timeout: parsed.timeout,
                    announce: parsed.announce,
                    blocks_until: parsed.blocks_until,
                    min_elapsed: parsed.min_elapsed,
                }),
                Err(step_errors) => errors.extend(step_errors.into_iter().map(|mut e| {
                    e.message = format!("actor {name}, step {}: {}", index + 1, e.message);
                    e
                })),
            }
        }
        actors.push(Actor {
            name: name.to_string(),
            steps,
        });
    }
    actors
}
