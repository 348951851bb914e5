//! Finding scenario files, parsing them, and naming them.

use super::limits::{self, Limits};
use super::model::{Location, ParameterHeader, Parameters, Scenario};
use super::read;
use super::template;
use super::validate::validate;
use crate::requirements::Requirements;
use crate::yaml::{Positions, Seg};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// A scenario file that is wrong, with the place: `path:line:column: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// Where in it (line 0 when the whole file is meant).
    pub location: Location,
    /// What is wrong and what was expected.
    pub message: String,
}

impl LoadError {
    /// An error in `found` at `location`.
    pub fn at(found: &ScenarioPath, location: Location, message: String) -> LoadError {
        LoadError {
            path: found.path.clone(),
            location,
            message,
        }
    }

    /// Several errors, one `path:line:column: message` per line.
    pub fn lines(errors: &[LoadError]) -> String {
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location.line {
            0 => write!(f, "{}: {}", self.path.display(), self.message),
            line => write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                line,
                self.location.column,
                self.message
            ),
        }
    }
}

/// A scenario file found on disk, with the id it will have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioPath {
    /// The file.
    pub path: PathBuf,
    /// Its id: the path below the fixture root without the extension, `/`-separated.
    pub id: String,
}

/// Finds the scenario files (`*.yaml`, `*.yml`) in `paths`, sorted by id.
///
/// Ids are relative to the nearest directory named `fixtures` (the path itself or an ancestor);
/// outside one, a directory's files get ids relative to it and a file's id is its stem.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<ScenarioPath>, LoadError> {
    let mut found = Vec::new();
    for root in paths {
        // Ids are relative to the nearest `fixtures` directory, so that a scenario has the same
        // id (and expectation entries still match) however it is named on the command line.
        let base = root
            .ancestors()
            .find(|a| a.file_name().is_some_and(|n| n == "fixtures"));
        if root.is_dir() {
            walk(base.unwrap_or(root), root, &mut found)?;
        } else if root.is_file() {
            let id = match base {
                Some(base) => id_of(base, root),
                None => root
                    .file_stem()
                    .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
            };
            found.push(ScenarioPath {
                path: root.clone(),
                id,
            });
        } else {
            return Err(LoadError {
                path: root.clone(),
                location: Location::default(),
                message: "no such file or directory".to_string(),
            });
        }
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    found.dedup_by(|a, b| a.id == b.id);
    Ok(found)
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<ScenarioPath>) -> Result<(), LoadError> {
    let error = |e: std::io::Error| LoadError {
        path: dir.to_path_buf(),
        location: Location::default(),
        message: format!("cannot read directory: {e}"),
    };
    for entry in std::fs::read_dir(dir).map_err(error)? {
        let path = entry.map_err(error)?.path();
        if path.is_dir() {
            walk(root, &path, found)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            found.push(ScenarioPath {
                id: id_of(root, &path),
                path,
            });
        }
    }
    Ok(())
}

fn id_of(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path).with_extension("");
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Reads, parses and validates one scenario file under the default [`Limits`]. Every problem
/// found is returned, each with its position.
pub fn load(found: &ScenarioPath, requirements: &Requirements) -> Result<Scenario, Vec<LoadError>> {
    load_with_limits(found, requirements, &Limits::default())
}

/// [`load`] under `limits`.
pub fn load_with_limits(
    found: &ScenarioPath,
    requirements: &Requirements,
    limits: &Limits,
) -> Result<Scenario, Vec<LoadError>> {
    let at = |location: Location, message: String| vec![LoadError::at(found, location, message)];
    let cannot = |e: std::io::Error| at(Location::default(), format!("cannot read: {e}"));
    let file = std::fs::File::open(&found.path).map_err(cannot)?;
    let mut bytes = Vec::new();
    // One byte more than the limit tells a file at the limit from one beyond it, without
    // reading a file of any size.
    let most = u64::try_from(limits.max_file).unwrap_or(u64::MAX);
    std::io::Read::read_to_end(&mut std::io::Read::take(file, most + 1), &mut bytes)
        .map_err(cannot)?;
    if bytes.len() > limits.max_file {
        return Err(at(Location::default(), too_big(limits)));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let valid = e.utf8_error().valid_up_to();
        let before = &bytes[..valid];
        let line = 1 + before.iter().filter(|b| **b == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let column = 1 + String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count();
        at(
            Location { line, column },
            format!(
                "the file is not UTF-8: byte 0x{:02x} cannot start or continue a character here",
                bytes[valid]
            ),
        )
    })?;
    parse_with_limits(found, &text, requirements, limits)
}

fn too_big(limits: &Limits) -> String {
    format!(
        "the file is larger than the limit of {} for a scenario file",
        limits::bytes(limits.max_file)
    )
}

/// Parses and validates scenario text as if it were the file `found`, under the default
/// [`Limits`]. A parameterised scenario (`parameters:`) is checked at every corner of its ranges,
/// is the case with every parameter at its minimum, and keeps its text for [`instantiate`].
pub fn parse(
    found: &ScenarioPath,
    text: &str,
    requirements: &Requirements,
) -> Result<Scenario, Vec<LoadError>> {
    parse_with_limits(found, text, requirements, &Limits::default())
}

/// How many unknown names of one file get a "did you mean": measuring a name against the known
/// ones costs time, so a file with thousands of misspelt names would otherwise load in a time
/// that grows with their number times the number of known names. Later names keep their error.
const SUGGESTIONS_PER_FILE: usize = 20;

/// [`parse`] under `limits`.
pub fn parse_with_limits(
    found: &ScenarioPath,
    text: &str,
    requirements: &Requirements,
    limits: &Limits,
) -> Result<Scenario, Vec<LoadError>> {
    // Editors that write a byte order mark hide it; the file is read as if it were not there.
    let text = crate::yaml::without_bom(text);
    crate::vocab::with_budget(SUGGESTIONS_PER_FILE, || {
        parse_text(found, text, requirements, limits)
    })
}

fn parse_text(
    found: &ScenarioPath,
    text: &str,
    requirements: &Requirements,
    limits: &Limits,
) -> Result<Scenario, Vec<LoadError>> {
    let at = |location: Location, message: String| LoadError::at(found, location, message);
    if text.len() > limits.max_file {
        return Err(vec![at(Location::default(), too_big(limits))]);
    }
    let positions = Positions::parse(text, limits.max_yaml_depth)
        .map_err(|e| vec![at(e.location, e.message)])?;
    let header_node = match positions.root() {
        Some(root @ crate::yaml::Node::Map(..)) => Some(root),
        _ => None,
    };
    let header: ParameterHeader = match header_node.map(|n| n.deserialize()) {
        Some(Ok(header)) => header,
        Some(Err(e)) => return Err(vec![at(e.location, e.message)]),
        None => return parse_case(found, text, requirements, limits),
    };
    if header.parameters.is_empty() {
        return parse_case(found, text, requirements, limits);
    }
    let mut problems = Vec::new();
    if header.parameters.len() > limits.max_parameters {
        let location = positions
            .find(&[Seg::Key("parameters")])
            .unwrap_or_default();
        problems.push(at(
            location,
            format!(
                "{} parameters, more than the limit of {}",
                header.parameters.len(),
                limits.max_parameters
            ),
        ));
    }
    let cases = header.cases.unwrap_or(16);
    if cases == 0 {
        let location = positions.find(&[Seg::Key("cases")]).unwrap_or_default();
        problems.push(at(
            location,
            "cases: 0 would run nothing; a parameterised scenario runs at least 1 case".to_string(),
        ));
    }
    if cases > limits.max_cases {
        let location = positions.find(&[Seg::Key("cases")]).unwrap_or_default();
        problems.push(at(
            location,
            format!(
                "cases: {cases} is more than the limit of {}",
                limits.max_cases
            ),
        ));
    }
    for (name, range) in &header.parameters {
        if range.min > range.max {
            let location = positions
                .find(&[Seg::Key("parameters"), Seg::Key(name)])
                .unwrap_or_default();
            problems.push(at(
                location,
                format!(
                    "parameter `{name}`: min {} is greater than max {}",
                    range.min, range.max
                ),
            ));
        }
    }
    let mut used = std::collections::BTreeSet::new();
    for t in template::templates(text) {
        let (line, column, body) = (t.line, t.column, t.body);
        if !t.closed {
            problems.push(at(
                Location { line, column },
                template::UNCLOSED.to_string(),
            ));
        }
        match template::Expr::parse(body) {
            Err(e) => {
                problems.push(at(
                    Location {
                        line,
                        column: column + 2 + e.offset,
                    },
                    format!("in `$({})`: {}", template::shorten(body), e.message),
                ));
                // Its names still count as used, so that one mistake gives one error.
                for word in body.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                    used.insert(word.to_string());
                }
            }
            Ok(expr) => {
                for name in expr.names() {
                    used.insert(name.to_string());
                    if !header.parameters.contains_key(name) {
                        problems.push(at(
                            Location { line, column },
                            format!(
                                "`{name}` in `$({body})` is not a parameter this scenario declares{}",
                                crate::vocab::did_you_mean(
                                    name,
                                    header.parameters.keys().map(String::as_str)
                                )
                            ),
                        ));
                    }
                }
            }
        }
    }
    for name in header.parameters.keys() {
        if !used.contains(name) {
            let location = positions
                .find_key(&[Seg::Key("parameters")], name)
                .unwrap_or_default();
            problems.push(at(
                location,
                format!(
                    "parameter `{name}` is never used (write `$({name})` where its value goes)"
                ),
            ));
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|e| e.location);
        return Err(problems);
    }
    // Every case must load at every corner of the ranges (all minimums, all maximums, and each
    // mix): a size that goes negative or beyond a limit is the author's mistake, found here
    // rather than in a drawn case.
    let names: Vec<&String> = header.parameters.keys().collect();
    let mut minimum = None;
    for corner in 0u32..(1 << names.len()) {
        let values = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let range = &header.parameters[*name];
                let v = if corner & (1 << i) == 0 {
                    range.min
                } else {
                    range.max
                };
                ((*name).clone(), v)
            })
            .collect::<BTreeMap<_, _>>();
        let shown: Vec<String> = values.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let with = |mut e: LoadError| {
            e.message = format!("{} (with {})", e.message, shown.join(", "));
            e
        };
        let case = template::expand(text, &values).map_err(|(line, column, message)| {
            vec![with(at(Location { line, column }, message))]
        })?;
        match parse_case(found, &case, requirements, limits) {
            Ok(scenario) if corner == 0 => minimum = Some(scenario),
            Ok(_) => {}
            Err(errors) => return Err(errors.into_iter().map(with).collect()),
        }
    }
    let mut scenario = minimum.expect("corner 0 is the minimum, and it loaded");
    scenario.parameters = Some(Parameters {
        ranges: header.parameters,
        cases,
        template: text.to_string(),
        limits: *limits,
    });
    Ok(scenario)
}

/// One case of a parameterised scenario: its text with these values, parsed under the limits
/// the scenario was loaded under. The case keeps the scenario's id and file; its requirement ids
/// were checked when the scenario was loaded.
pub fn instantiate(
    scenario: &Scenario,
    values: &BTreeMap<String, u64>,
) -> Result<Scenario, Vec<LoadError>> {
    let Some(parameters) = &scenario.parameters else {
        return Ok(scenario.clone());
    };
    let mut known = Requirements::default();
    let headings: String = scenario
        .requirements
        .iter()
        .map(|id| format!("### `{id}` — cited\n"))
        .collect();
    let _ = known.add_file(Path::new("cited"), &headings);
    let found = ScenarioPath {
        path: scenario.path.clone(),
        id: scenario.id.clone(),
    };
    let case =
        template::expand(&parameters.template, values).map_err(|(line, column, message)| {
            vec![LoadError::at(&found, Location { line, column }, message)]
        })?;
    crate::vocab::with_budget(SUGGESTIONS_PER_FILE, || {
        parse_case(&found, &case, &known, &parameters.limits)
    })
}

/// Parses and validates the text of one concrete scenario.
fn parse_case(
    found: &ScenarioPath,
    text: &str,
    requirements: &Requirements,
    limits: &Limits,
) -> Result<Scenario, Vec<LoadError>> {
    let at = |location: Location, message: String| LoadError::at(found, location, message);
    let positions = Positions::parse(text, limits.max_yaml_depth)
        .map_err(|e| vec![at(e.location, e.message)])?;
    let (scenario, read_errors) = read::scenario(found, &positions);
    let mut problems: Vec<(Location, String)> = read_errors
        .into_iter()
        .map(|e| (e.location, e.message))
        .collect();
    let counted = count(&scenario, &positions, limits);
    let over = !counted.is_empty();
    problems.extend(counted);
    if !over {
        problems.extend(limits::check(&scenario, &positions, limits));
        // Steps that did not parse are missing: checks that follow sockets, variables and
        // signals from step to step would only report what those steps would have provided.
        let partial = !problems.is_empty();
        problems.extend(validate(&scenario, &positions, requirements, partial));
    }
    if problems.is_empty() {
        return Ok(scenario);
    }
    // A check that could not find its node points at the start of the file rather than nowhere.
    for (location, _) in &mut problems {
        if location.line == 0 {
            *location = Location { line: 1, column: 1 };
        }
    }
    problems.sort_by_key(|(l, _)| *l);
    problems.dedup();
    Err(problems
        .into_iter()
        .map(|(location, message)| at(location, message))
        .collect())
}

/// The actors and steps beyond the limits (checked first: every later check is linear in them).
fn count(scenario: &Scenario, positions: &Positions, limits: &Limits) -> Vec<(Location, String)> {
    let mut problems = Vec::new();
    if let Some(actor) = scenario.actors.get(limits.max_actors) {
        let location = positions
            .find_key(&[Seg::Key("actors")], &actor.name)
            .unwrap_or_default();
        problems.push((
            location,
            format!(
                "actor {}: {} actors, more than the limit of {} (each actor is a thread)",
                actor.name,
                scenario.actors.len(),
                limits.max_actors
            ),
        ));
    }
    let total: usize = scenario.actors.iter().map(|a| a.steps.len()).sum();
    if total > limits.max_steps {
        let location = positions.find_key(&[], "actors").unwrap_or_default();
        problems.push((
            location,
            format!(
                "{total} steps, more than the limit of {} for a scenario",
                limits.max_steps
            ),
        ));
    }
    problems
}

/// Loads every scenario in `paths` under the default [`Limits`]: the good ones, and every error
/// of the bad ones.
pub fn load_all(paths: &[PathBuf], requirements: &Requirements) -> (Vec<Scenario>, Vec<LoadError>) {
    load_all_with_limits(paths, requirements, &Limits::default())
}

/// [`load_all`] under `limits`.
pub fn load_all_with_limits(
    paths: &[PathBuf],
    requirements: &Requirements,
    limits: &Limits,
) -> (Vec<Scenario>, Vec<LoadError>) {
    let found = match discover(paths) {
        Ok(found) => found,
        Err(e) => return (Vec::new(), vec![e]),
    };
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for f in &found {
        match load_with_limits(f, requirements, limits) {
            Ok(s) => scenarios.push(s),
            Err(e) => errors.extend(e),
        }
    }
    (scenarios, errors)
}
