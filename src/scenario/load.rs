//! Finding scenario files, parsing them, and naming them.

use super::model::{Actor, Location, ParameterHeader, Parameters, Scenario, ScenarioFile, Step};
use super::template;
use super::validate::validate;
use crate::requirements::Requirements;
use crate::yaml::{self, Positions, Seg};
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

/// Reads, parses and validates one scenario file. Every problem found is returned, each with its
/// position.
pub fn load(found: &ScenarioPath, requirements: &Requirements) -> Result<Scenario, Vec<LoadError>> {
    let at = |location: Location, message: String| LoadError::at(found, location, message);
    let text = std::fs::read_to_string(&found.path)
        .map_err(|e| vec![at(Location::default(), format!("cannot read: {e}"))])?;
    parse(found, &text, requirements)
}

/// Parses and validates scenario text as if it were the file `found`. A parameterised scenario
/// (`parameters:`) is checked as its case with every parameter at its minimum, and keeps its text
/// for [`instantiate`].
pub fn parse(
    found: &ScenarioPath,
    text: &str,
    requirements: &Requirements,
) -> Result<Scenario, Vec<LoadError>> {
    let at = |location: Location, message: String| LoadError::at(found, location, message);
    let header: ParameterHeader = match yaml::from_str(text) {
        Ok(header) => header,
        // A plain scenario with a syntax error: parse it as such, for the full message.
        Err(_) => return parse_case(found, text, requirements),
    };
    if header.parameters.is_empty() {
        return parse_case(found, text, requirements);
    }
    let mut problems = Vec::new();
    for (name, range) in &header.parameters {
        if range.min > range.max {
            let location = Positions::of(text)
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
                    format!("in `$({body})`: {}", e.message),
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
                                "`{name}` in `$({body})` is not a parameter this scenario declares"
                            ),
                        ));
                    }
                }
            }
        }
    }
    for name in header.parameters.keys() {
        if !used.contains(name) {
            let location = Positions::of(text)
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
    if problems.is_empty() {
        // Every expression must have a value at every corner of the ranges (all minimums, all
        // maximums, and each mix): a size that goes negative is the author's mistake, found
        // here rather than in a drawn case.
        let names: Vec<&String> = header.parameters.keys().collect();
        for corner in 0u32..(1 << names.len().min(8)) {
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
            if let Err((line, column, message)) = template::expand(text, &values) {
                let shown: Vec<String> = values.iter().map(|(n, v)| format!("{n}={v}")).collect();
                problems.push(at(
                    Location { line, column },
                    format!("{message} (with {})", shown.join(", ")),
                ));
                break;
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let minimum = header
        .parameters
        .iter()
        .map(|(name, range)| (name.clone(), range.min))
        .collect();
    let case = template::expand(text, &minimum)
        .map_err(|(line, column, message)| vec![at(Location { line, column }, message)])?;
    let mut scenario = parse_case(found, &case, requirements)?;
    scenario.parameters = Some(Parameters {
        ranges: header.parameters,
        cases: header.cases.unwrap_or(16),
        template: text.to_string(),
    });
    Ok(scenario)
}

/// One case of a parameterised scenario: its text with these values, parsed. The case keeps the
/// scenario's id and file; its requirement ids were checked when the scenario was loaded.
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
    parse_case(&found, &case, &known)
}

/// Parses and validates the text of one concrete scenario.
fn parse_case(
    found: &ScenarioPath,
    text: &str,
    requirements: &Requirements,
) -> Result<Scenario, Vec<LoadError>> {
    let at = |location: Location, message: String| LoadError::at(found, location, message);
    let file: ScenarioFile = yaml::from_str(text).map_err(|e| vec![at(e.location, e.message)])?;
    let positions = Positions::of(text);
    let actors = file
        .actors
        .0
        .into_iter()
        .map(|(name, steps)| {
            let steps = steps
                .into_iter()
                .enumerate()
                .map(|(index, parsed)| Step {
                    location: positions
                        .find(&[Seg::Key("actors"), Seg::Key(&name), Seg::Index(index)])
                        .unwrap_or_default(),
                    op: parsed.op,
                    expect: parsed.expect,
                    timeout: parsed.timeout,
                    announce: parsed.announce,
                    blocks_until: parsed.blocks_until,
                    min_elapsed: parsed.min_elapsed,
                })
                .collect();
            Actor { name, steps }
        })
        .collect();
    let scenario = Scenario {
        id: found.id.clone(),
        path: found.path.clone(),
        title: file.title,
        description: file.description,
        requirements: file.requirements,
        tags: file.tags,
        requires: file.requires,
        timeout: file.timeout,
        step_timeout: file.step_timeout,
        actors,
        parameters: None,
    };
    let problems = validate(&scenario, &positions, requirements);
    if problems.is_empty() {
        Ok(scenario)
    } else {
        Err(problems
            .into_iter()
            .map(|(location, message)| at(location, message))
            .collect())
    }
}

/// Loads every scenario in `paths`: the good ones, and every error of the bad ones.
pub fn load_all(paths: &[PathBuf], requirements: &Requirements) -> (Vec<Scenario>, Vec<LoadError>) {
    let found = match discover(paths) {
        Ok(found) => found,
        Err(e) => return (Vec::new(), vec![e]),
    };
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for f in &found {
        match load(f, requirements) {
            Ok(s) => scenarios.push(s),
            Err(e) => errors.extend(e),
        }
    }
    (scenarios, errors)
}
