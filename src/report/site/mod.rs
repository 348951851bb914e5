//! The report as a small static site, built from saved runs: an overview (implementations ×
//! areas), every scenario (also only those that fail somewhere, and only those where
//! implementations differ), a section per requirement with its spec text, and a page per
//! scenario with its YAML source. Pages are HTML from maud templates, which escape every value;
//! they read without JavaScript, and a few lines of it filter the scenario tables in place.

mod pages;

use super::Run;
use crate::requirements::Requirements;
use crate::runner::{ScenarioResult, Status};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The site's stylesheet, written beside the pages.
const STYLE: &str = include_str!("style.css");
/// The filters' script: optional, the pages work without it.
const SCRIPT: &str = include_str!("filter.js");

/// The report, ready to be written: the runs side by side, with the spec and the scenarios'
/// sources as the suite has them.
#[derive(Clone, Debug)]
pub struct Site {
    columns: Vec<Column>,
    scenarios: Vec<ScenarioRow>,
    requirements: Vec<RequirementEntry>,
}

/// One run: a column of every table.
#[derive(Clone, Debug)]
struct Column {
    /// The implementation, made unique when two runs have the same one (`python (2)`).
    label: String,
    run: Run,
}

/// A scenario and its result on each run.
#[derive(Clone, Debug)]
struct ScenarioRow {
    id: String,
    title: String,
    path: String,
    area: String,
    requirements: Vec<String>,
    /// One per column; `None` where that run did not have the scenario.
    cells: Vec<Option<ScenarioResult>>,
    /// Its YAML, when the suite has the file.
    source: Option<String>,
}

/// A requirement: from the spec, or only cited by a result.
#[derive(Clone, Debug)]
struct RequirementEntry {
    id: String,
    title: Option<String>,
    level: Option<String>,
    /// `spec/tcp-server.md:12`.
    place: Option<String>,
    /// Its Markdown, from the heading to the next heading.
    text: Option<String>,
    /// The ids of the scenarios that cite it.
    scenarios: Vec<String>,
}

/// The site could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SiteError {
    /// A directory or file could not be written.
    #[error("{}: cannot write the report: {source}", path.display())]
    Write {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl Site {
    /// Builds the report of `runs`, in the order given. `read` returns the text of one of the
    /// suite's files, or `None` when it has no such file: a scenario's by its name below the
    /// suite (`fixtures/tcp/x.yaml`, made from the scenario's id), a requirement's by the name
    /// `requirements` gives its file.
    pub fn new(
        runs: Vec<Run>,
        requirements: &Requirements,
        read: impl Fn(&Path) -> Option<String>,
    ) -> Site {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let columns: Vec<Column> = runs
            .into_iter()
            .map(|run| {
                let n = seen.entry(run.implementation.clone()).or_insert(0);
                *n += 1;
                let label = if *n == 1 {
                    run.implementation.clone()
                } else {
                    format!("{} ({n})", run.implementation)
                };
                Column { label, run }
            })
            .collect();
        let mut rows: BTreeMap<String, ScenarioRow> = BTreeMap::new();
        for (index, column) in columns.iter().enumerate() {
            for result in &column.run.results {
                let row = rows
                    .entry(result.scenario.clone())
                    .or_insert_with(|| ScenarioRow {
                        id: result.scenario.clone(),
                        title: result.title.clone(),
                        path: result.path.clone(),
                        area: area_of(&result.scenario),
                        requirements: result.requirements.clone(),
                        cells: vec![None; columns.len()],
                        source: None,
                    });
                row.cells[index] = Some(result.clone());
            }
        }
        let mut scenarios: Vec<ScenarioRow> = rows.into_values().collect();
        for row in &mut scenarios {
            // By id, not by the run's path: a run made elsewhere names files of that machine,
            // and a run file could name any file of this one.
            row.source = fixture_of(&row.id).and_then(|path| read(&path));
        }

        let mut cited: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in &scenarios {
            for id in &row.requirements {
                cited.entry(id.clone()).or_default().push(row.id.clone());
            }
        }
        let mut spec_files: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
        let mut entries = Vec::new();
        let mut defined = BTreeSet::new();
        for requirement in requirements.iter() {
            defined.insert(requirement.id.clone());
            let file = spec_files
                .entry(requirement.file.clone())
                .or_insert_with(|| read(&requirement.file));
            entries.push(RequirementEntry {
                id: requirement.id.clone(),
                title: Some(requirement.title.clone()),
                level: requirement.level.map(|l| l.to_string()),
                place: Some(format!(
                    "{}:{}",
                    requirement.file.display(),
                    requirement.line
                )),
                text: file
                    .as_deref()
                    .map(|text| section_at(text, requirement.line)),
                scenarios: cited.get(&requirement.id).cloned().unwrap_or_default(),
            });
        }
        // Ids a run cites that this spec does not define still get a section, saying so.
        for (id, scenarios) in cited {
            if !defined.contains(&id) {
                entries.push(RequirementEntry {
                    id,
                    title: None,
                    level: None,
                    place: None,
                    text: None,
                    scenarios,
                });
            }
        }
        entries.sort_by(|a, b| a.id.cmp(&b.id));
        Site {
            columns,
            scenarios,
            requirements: entries,
        }
    }

    /// Every file of the site: its path below the site's directory, and its content.
    pub fn files(&self) -> Vec<(String, String)> {
        let mut files = vec![
            ("index.html".to_string(), pages::overview(self)),
            (
                Filter::All.page().to_string(),
                pages::scenario_list(self, Filter::All),
            ),
            (
                Filter::Failures.page().to_string(),
                pages::scenario_list(self, Filter::Failures),
            ),
            (
                Filter::Differences.page().to_string(),
                pages::scenario_list(self, Filter::Differences),
            ),
            ("requirements.html".to_string(), pages::requirements(self)),
            ("style.css".to_string(), STYLE.to_string()),
            ("filter.js".to_string(), SCRIPT.to_string()),
        ];
        for row in &self.scenarios {
            files.push((scenario_page(&row.id), pages::scenario(self, row)));
        }
        files
    }

    /// Writes the site into `dir` (created if missing; files of the same names are replaced).
    /// Returns how many files were written.
    pub fn write(&self, dir: &Path) -> Result<usize, SiteError> {
        let files = self.files();
        for (name, content) in &files {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|source| SiteError::Write {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            std::fs::write(&path, content).map_err(|source| SiteError::Write { path, source })?;
        }
        Ok(files.len())
    }
}

/// Which scenarios a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Filter {
    /// Every one.
    All,
    /// Those on which some run did not do what the scenario says (any status but pass,
    /// unsupported and skip: failures, known deviations, stale entries, errors, timeouts).
    Failures,
    /// Those on which the runs that ran it (neither unsupported nor skipped) disagree.
    Differences,
}

impl Filter {
    /// Every filter, in the order the pages list them.
    const ALL: [Filter; 3] = [Filter::All, Filter::Failures, Filter::Differences];

    /// The page of the list.
    fn page(self) -> &'static str {
        match self {
            Filter::All => "scenarios.html",
            Filter::Failures => "failures.html",
            Filter::Differences => "differences.html",
        }
    }

    /// Its name in the filter bar, and the script's name for it.
    fn name(self) -> (&'static str, &'static str) {
        match self {
            Filter::All => ("All scenarios", "all"),
            Filter::Failures => ("Only failures", "failures"),
            Filter::Differences => ("Only differences", "differences"),
        }
    }

    fn keeps(self, row: &ScenarioRow) -> bool {
        match self {
            Filter::All => true,
            Filter::Failures => row.fails_somewhere(),
            Filter::Differences => row.differs(),
        }
    }
}

impl ScenarioRow {
    fn fails_somewhere(&self) -> bool {
        self.cells.iter().flatten().any(|r| is_failing(r.status))
    }

    fn differs(&self) -> bool {
        let ran: BTreeSet<Status> = self
            .cells
            .iter()
            .flatten()
            .map(|r| r.status)
            .filter(|s| !matches!(s, Status::Unsupported | Status::Skip))
            .collect();
        ran.len() > 1
    }
}

/// The statuses the failures filter keeps: the implementation did not do what the scenario says.
fn is_failing(status: Status) -> bool {
    !matches!(status, Status::Pass | Status::Unsupported | Status::Skip)
}

/// A scenario's area: the directory part of its id (`tcp/server` of `tcp/server/bind`).
fn area_of(id: &str) -> String {
    match id.rsplit_once('/') {
        Some((area, _)) => area.to_string(),
        None => "(top level)".to_string(),
    }
}

/// The page of a scenario, below the site's directory: `scenario/tcp/server/bind.html`. Ids come
/// from run files, which anyone can write, so anything but a plain name is replaced and no part
/// can climb out of the directory.
fn scenario_page(id: &str) -> String {
    let parts: Vec<String> = id
        .split('/')
        .filter(|p| !p.is_empty())
        .map(|part| {
            let clean: String = part
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if clean.chars().all(|c| c == '.') {
                clean.replace('.', "_")
            } else {
                clean
            }
        })
        .collect();
    let name = if parts.is_empty() {
        "_".to_string()
    } else {
        parts.join("/")
    };
    format!("scenario/{name}.html")
}

/// The file of the scenario `id` below the suite (`fixtures/tcp/x.yaml`); `None` for an id
/// that is not a plain relative path, which could name a file outside the suite.
fn fixture_of(id: &str) -> Option<PathBuf> {
    let path = PathBuf::from(format!("fixtures/{id}.yaml"));
    path.components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
        .then_some(path)
}

/// The anchor of a requirement in requirements.html: its id, where it is a plain name.
fn requirement_anchor(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The Markdown of the requirement whose heading is on `line` (from 1): that line and the
/// following ones up to the next heading of the same or a higher level (outside code fences).
fn section_at(text: &str, line: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(heading) = lines.get(line.saturating_sub(1)) else {
        return String::new();
    };
    let level = heading.chars().take_while(|c| *c == '#').count().max(1);
    let mut out = Vec::new();
    let mut in_fence = false;
    for l in &lines[line..] {
        if l.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        let hashes = l.chars().take_while(|c| *c == '#').count();
        if !in_fence && hashes > 0 && hashes <= level && l[hashes..].starts_with(' ') {
            break;
        }
        out.push(*l);
    }
    out.join("\n").trim().to_string()
}

#[cfg(test)]
mod tests;
