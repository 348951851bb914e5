//! Finding scenario files, parsing them, and naming them.

use super::model::{Actor, Location, Scenario, ScenarioFile, Step};
use super::validate::validate;
use crate::requirements::Requirements;
use crate::yaml::{self, Positions, Seg};
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
    let at = |location: Location, message: String| LoadError {
        path: found.path.clone(),
        location,
        message,
    };
    let text = std::fs::read_to_string(&found.path)
        .map_err(|e| vec![at(Location::default(), format!("cannot read: {e}"))])?;
    parse(found, &text, requirements)
}

/// Parses and validates scenario text as if it were the file `found`.
pub fn parse(
    found: &ScenarioPath,
    text: &str,
    requirements: &Requirements,
) -> Result<Scenario, Vec<LoadError>> {
    let at = |location: Location, message: String| LoadError {
        path: found.path.clone(),
        location,
        message,
    };
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
