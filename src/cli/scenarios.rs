//! The scenarios a command names, loaded one file at a time: every file is read and validated
//! before anything runs (so that a bad one is an input error naming its place), but a run keeps
//! of each only what it needs before running it ([`Entry`]) and loads it again when it starts.
//! So neither loading nor running holds the models of the whole suite: a run's memory does not
//! grow with its number of scenarios.

use super::{input_error, Inputs};
use crate::implementation::Implementation;
use crate::requirements::Requirements;
use crate::runner::{Planned, RunOptions, ScenarioResult, Status};
use crate::scenario::{
    discover, load_with_limits, Limits, Scenario, ScenarioPath, DEFAULT_MAX_DATA,
};
use crate::suite::{Suite, SuiteError};
use std::process::ExitCode;

/// Loads and validates, one after another, every scenario file `inputs` names (`inputs.paths`,
/// else the suite's fixtures), giving `keep` each scenario that `--filter` keeps, in id order.
/// On any error, prints every one as `path:line:col: message` once all files are read, and
/// returns exit code 2.
pub(super) fn each_scenario(
    inputs: &Inputs,
    suite: &Suite,
    requirements: &Requirements,
    mut keep: impl FnMut(&ScenarioPath, Scenario),
) -> Result<(), ExitCode> {
    let source = Source::of(inputs, suite);
    let found = match &source.from_suite {
        Some(suite) => match suite.scenario_paths() {
            Ok(found) => Ok(found),
            // A fixtures directory that cannot be read is reported as the file errors are.
            Err(SuiteError::Unreadable(e)) => Err(e),
            Err(e) => return Err(input_error(e)),
        },
        None => discover(&inputs.paths),
    };
    let mut errors = Vec::new();
    match found {
        Err(e) => errors.push(e),
        Ok(found) => {
            for file in &found {
                match source.load(file, requirements) {
                    Ok(scenario) if filter_keeps(inputs.filter.as_deref(), &scenario) => {
                        keep(file, scenario)
                    }
                    Ok(_) => {}
                    Err(e) => errors.extend(e),
                }
            }
        }
    }
    if !errors.is_empty() {
        for e in &errors {
            errln!("{e}");
        }
        errln!("sockspec: {} error(s) in scenario files", errors.len());
        return Err(ExitCode::from(2));
    }
    Ok(())
}

/// True when `--filter TEXT` keeps `scenario`: its id contains TEXT, or a tag or requirement id
/// is TEXT.
fn filter_keeps(filter: Option<&str>, scenario: &Scenario) -> bool {
    filter.is_none_or(|text| {
        scenario.id.contains(text)
            || scenario.tags.iter().any(|t| t == text)
            || scenario.requirements.iter().any(|r| r == text)
    })
}

/// Where a command's scenario files come from, and the limits they are held to.
#[derive(Clone)]
struct Source {
    /// The suite, when no paths were named; files named on the command line are on disk.
    from_suite: Option<Suite>,
    limits: Limits,
}

impl Source {
    fn of(inputs: &Inputs, suite: &Suite) -> Source {
        Source {
            from_suite: inputs.paths.is_empty().then(|| suite.clone()),
            limits: Limits::with_max_data(inputs.max_data.unwrap_or(DEFAULT_MAX_DATA)),
        }
    }

    fn load(
        &self,
        file: &ScenarioPath,
        requirements: &Requirements,
    ) -> Result<Scenario, Vec<crate::scenario::LoadError>> {
        match &self.from_suite {
            Some(suite) => suite.load_scenario(file, requirements, &self.limits),
            None => load_with_limits(file, requirements, &self.limits),
        }
    }
}

/// What a run keeps of a validated scenario until it runs it.
pub(super) struct Entry {
    /// Its file and id.
    pub file: ScenarioPath,
    /// Its title.
    pub title: String,
    /// The requirement ids it checks.
    pub requirements: Vec<String>,
    /// Its actors' names.
    pub actors: Vec<String>,
    /// Its environment actors' names.
    pub environment: Vec<String>,
    /// What the scheduler needs: its expected wait and its data.
    pub plan: Planned,
}

impl Entry {
    fn of(file: &ScenarioPath, scenario: &Scenario) -> Entry {
        Entry {
            file: file.clone(),
            title: scenario.title.clone(),
            requirements: scenario.requirements.clone(),
            actors: scenario.actors.iter().map(|a| a.name.clone()).collect(),
            environment: scenario.environment.clone(),
            plan: Planned::of(scenario),
        }
    }

    /// Its id (`tcp/echo`).
    pub fn id(&self) -> &str {
        &self.file.id
    }

    /// A result for it on `implementation`, not run (status `skip`).
    pub fn not_run(&self, implementation: &str) -> ScenarioResult {
        ScenarioResult {
            scenario: self.file.id.clone(),
            title: self.title.clone(),
            path: self.file.path.display().to_string(),
            requirements: self.requirements.clone(),
            implementation: implementation.to_string(),
            status: Status::Skip,
            duration: std::time::Duration::ZERO,
            failure: None,
            reason: None,
            expectation: None,
        }
    }

    /// The implementations its actors run on in a run of `implementation` with `options`.
    pub fn placed_on(
        &self,
        implementation: &dyn Implementation,
        options: &RunOptions,
    ) -> std::collections::BTreeSet<String> {
        self.actors
            .iter()
            .map(|actor| {
                crate::runner::implementation_of_actor(
                    &self.environment,
                    implementation,
                    options,
                    actor,
                )
            })
            .collect()
    }
}

/// A run's scenarios: every file validated, each kept as an [`Entry`] and loaded again when it
/// runs ([`Scenarios::load`]).
pub(super) struct Scenarios {
    source: Source,
    requirements: Requirements,
    /// In id order.
    pub entries: Vec<Entry>,
}

impl Scenarios {
    /// Reads and validates every scenario `inputs` names (see [`each_scenario`]), keeping an
    /// [`Entry`] of each.
    pub fn read(
        inputs: &Inputs,
        suite: &Suite,
        requirements: Requirements,
    ) -> Result<Scenarios, ExitCode> {
        let mut entries = Vec::new();
        each_scenario(inputs, suite, &requirements, |file, scenario| {
            entries.push(Entry::of(file, &scenario))
        })?;
        Ok(Scenarios {
            source: Source::of(inputs, suite),
            requirements,
            entries,
        })
    }

    /// The scenario of `entry`, loaded again from its file; when it no longer loads (it was
    /// changed during the run), the `error` result to report for it instead.
    pub fn load(
        &self,
        entry: &Entry,
        implementation: &str,
    ) -> Result<Scenario, Box<ScenarioResult>> {
        self.source
            .load(&entry.file, &self.requirements)
            .map_err(|errors| {
                Box::new(ScenarioResult {
                    status: Status::Error,
                    reason: Some(format!(
                        "the file was valid when the run started but no longer loads:\n{}",
                        crate::scenario::LoadError::lines(&errors)
                    )),
                    ..entry.not_run(implementation)
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    const FIXTURE: &str = "fixtures/tcp/server/accept-blocks-until-a-client-connects.yaml";

    /// A copy of one fixture in a temporary `fixtures/` directory, read as a run reads it.
    fn read_copy() -> (tempfile::TempDir, PathBuf, Scenarios) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fixtures/accept.yaml");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::copy(root.join(FIXTURE), &file).unwrap();
        let inputs = Inputs {
            paths: vec![file.clone()],
            suite: None,
            spec: None,
            filter: None,
            max_data: None,
        };
        let requirements = Requirements::load(&root.join("spec")).unwrap();
        let suite = Suite::Dir(root.to_path_buf());
        let scenarios = Scenarios::read(&inputs, &suite, requirements).unwrap();
        (dir, file, scenarios)
    }

    #[test]
    fn a_run_keeps_what_it_needs_of_a_scenario_and_loads_it_again_when_it_starts() {
        let (_dir, _file, scenarios) = read_copy();
        let [entry] = &scenarios.entries[..] else {
            panic!("one entry");
        };
        assert_eq!(entry.id(), "accept");
        assert_eq!(entry.actors, ["server", "client"]);
        let scenario = scenarios.load(entry, "reference").unwrap();
        assert_eq!(Planned::of(&scenario), entry.plan);
        assert_eq!(scenario.title, entry.title);
    }

    #[test]
    fn a_file_that_no_longer_loads_when_its_scenario_starts_is_an_error_naming_its_place() {
        let (_dir, file, scenarios) = read_copy();
        std::fs::write(&file, "title: broken\nactors: {server: [{lisen: {}}]}\n").unwrap();
        let result = scenarios
            .load(&scenarios.entries[0], "reference")
            .unwrap_err();
        assert_eq!(result.status, Status::Error);
        assert_eq!(result.scenario, "accept");
        let reason = result.reason.unwrap();
        assert!(
            reason.starts_with("the file was valid when the run started but no longer loads:"),
            "{reason}"
        );
        assert!(reason.contains(&format!("{}:", file.display())), "{reason}");
    }
}
