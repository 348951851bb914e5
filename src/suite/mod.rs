//! The suite: the scenarios (`fixtures/`), the spec they cite (`spec/`), the known deviations
//! (`expectations/`) and the named drivers (`drivers/`), read either from a directory or from
//! the copy built into the binary.
//!
//! Which one a command uses: `--suite DIR` if given; else the current directory when it is a
//! checkout (it has `fixtures/` and `spec/scenario-format.md`); else the built-in copy, so that
//! an installed `sockspec` runs from any directory. Built-in files are named by their path in
//! the repository (`fixtures/tcp/echo.yaml`), so ids, positions and reports are the same either
//! way. `sockspec export DIR` writes the built-in copy out.
//!
//! A named driver's command names files of the suite (`python3 drivers/python/...`), so it runs
//! from the suite's directory; for the built-in suite that is a temporary directory it is written
//! to on first need ([`materialised`]) and removed when the command ends
//! ([`remove_materialised`]).

use crate::expectations::{Expectations, ExpectationsError};
use crate::registry::{Drivers, DEFAULT_DRIVERS};
use crate::requirements::{Requirements, SpecError};
use crate::scenario::{discover, load_with_limits, parse_with_limits, Limits, LoadError};
use crate::scenario::{Scenario, ScenarioPath};
use include_dir::{include_dir, Dir};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The built-in suite's parts: directories of the repository, embedded whole. (build.rs asks
/// for a rebuild when a file is added to or removed from one; the macro already tracks edits.)
static EMBEDDED: [(&str, Dir<'static>); 4] = [
    ("fixtures", include_dir!("$CARGO_MANIFEST_DIR/fixtures")),
    ("spec", include_dir!("$CARGO_MANIFEST_DIR/spec")),
    (
        "expectations",
        include_dir!("$CARGO_MANIFEST_DIR/expectations"),
    ),
    ("drivers", include_dir!("$CARGO_MANIFEST_DIR/drivers")),
];

/// The directories a suite has; `fixtures` and `spec` are required, the others optional.
pub const PARTS: [&str; 4] = ["fixtures", "spec", "expectations", "drivers"];

/// Where a command's suite comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Suite {
    /// The copy built into the binary.
    Embedded,
    /// A directory: a checkout, or a suite written by `sockspec export`. The empty path is the
    /// current directory (so that paths read `fixtures/...`, as they are written).
    Dir(PathBuf),
}

/// A suite that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SuiteError {
    /// `--suite DIR` names no suite.
    #[error("--suite {}: {reason} (a suite has fixtures/ and spec/; `sockspec export DIR` writes one)", path.display())]
    NotASuite {
        /// The directory given.
        path: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// The spec cannot be read, or is wrong.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The spec directory has no requirement in it.
    #[error("{}: the spec defines no requirements (no `### `id` — title` heading in any .md file)", path.display())]
    EmptySpec {
        /// The spec directory.
        path: PathBuf,
    },
    /// The fixtures directory holds no scenario.
    #[error("{}: holds no scenario files (*.yaml, *.yml)", path.display())]
    NoScenarios {
        /// The fixtures directory.
        path: PathBuf,
    },
    /// `export` would write into a directory that already holds files.
    #[error("{}: is not empty (pass --force to write the suite into it anyway, replacing files of the same names)", path.display())]
    NotEmpty {
        /// The directory.
        path: PathBuf,
    },
    /// The fixtures directory cannot be listed.
    #[error(transparent)]
    Unreadable(LoadError),
    /// A file could not be written.
    #[error("{}: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl Suite {
    /// The suite a command uses: `chosen` (`--suite DIR`, checked), else the current directory
    /// if it is a checkout, else the built-in copy.
    pub fn locate(chosen: Option<&Path>) -> Result<Suite, SuiteError> {
        match chosen {
            Some(dir) => Suite::dir(dir),
            None if is_checkout(Path::new(".")) => Ok(Suite::Dir(PathBuf::new())),
            None => Ok(Suite::Embedded),
        }
    }

    /// The suite in `dir`, which must have the directories `fixtures/` and `spec/`.
    pub fn dir(dir: &Path) -> Result<Suite, SuiteError> {
        let not = |reason: String| SuiteError::NotASuite {
            path: dir.to_path_buf(),
            reason,
        };
        match std::fs::metadata(dir) {
            Err(e) => return Err(not(format!("cannot read the directory: {e}"))),
            Ok(m) if !m.is_dir() => return Err(not("is not a directory".to_string())),
            Ok(_) => {}
        }
        for part in ["fixtures", "spec"] {
            let path = dir.join(part);
            match std::fs::metadata(&path) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(not(format!("{} is not a directory", path.display()))),
                Err(e) => return Err(not(format!("cannot read {}: {e}", path.display()))),
            }
        }
        Ok(Suite::Dir(dir.to_path_buf()))
    }

    /// Where the suite is, for people: `the built-in suite` or `the suite in DIR`.
    pub fn describe(&self) -> String {
        match self {
            Suite::Embedded => "the built-in suite".to_string(),
            Suite::Dir(dir) if dir.as_os_str().is_empty() => {
                "the suite in the current directory".to_string()
            }
            Suite::Dir(dir) => format!("the suite in {}", dir.display()),
        }
    }

    /// A path of the suite (`spec`, `expectations/python.yaml`) as it is named: below the
    /// suite's directory, or as it is for the built-in suite.
    pub fn path(&self, relative: &str) -> PathBuf {
        match self {
            Suite::Embedded => PathBuf::from(relative),
            Suite::Dir(dir) => dir.join(relative),
        }
    }

    /// The requirements the suite's spec defines; an error if it defines none.
    pub fn requirements(&self) -> Result<Requirements, SuiteError> {
        let requirements = match self {
            Suite::Dir(dir) => Requirements::load(&dir.join("spec"))?,
            Suite::Embedded => {
                let mut requirements = Requirements::default();
                for (path, bytes) in embedded_files("spec") {
                    if path.extension().is_some_and(|e| e == "md") {
                        requirements.add_file(&path, &String::from_utf8_lossy(bytes))?;
                    }
                }
                requirements
            }
        };
        if requirements.is_empty() {
            return Err(SuiteError::EmptySpec {
                path: self.path("spec"),
            });
        }
        Ok(requirements)
    }

    /// Every scenario of the suite's `fixtures/`, sorted by id: the good ones, and every error of
    /// the bad ones; an error if it has none.
    pub fn scenarios(
        &self,
        requirements: &Requirements,
        limits: &Limits,
    ) -> Result<(Vec<Scenario>, Vec<LoadError>), SuiteError> {
        let files = match self.scenario_files(requirements, limits) {
            Ok(files) => files,
            // A fixtures directory that cannot be read is reported as the file errors are.
            Err(SuiteError::Unreadable(e)) => return Ok((Vec::new(), vec![e])),
            Err(e) => return Err(e),
        };
        let mut scenarios = Vec::new();
        let mut errors = Vec::new();
        for file in files {
            match file.scenario {
                Ok(s) => scenarios.push(s),
                Err(e) => errors.extend(e),
            }
        }
        Ok((scenarios, errors))
    }

    /// Every scenario file of the suite's `fixtures/`, sorted by id, each loaded: its scenario,
    /// or every error it has (so that a bad file can be reported as that file's failure). An
    /// error if the suite has none, or its fixtures cannot be listed.
    pub fn scenario_files(
        &self,
        requirements: &Requirements,
        limits: &Limits,
    ) -> Result<Vec<ScenarioFile>, SuiteError> {
        Ok(self
            .scenario_paths()?
            .into_iter()
            .map(|found| ScenarioFile {
                scenario: self.load_scenario(&found, requirements, limits),
                found,
            })
            .collect())
    }

    /// Every scenario file of the suite's `fixtures/`, sorted by id, without reading any: to
    /// name each (its id) before loading only those needed ([`Suite::load_scenario`]). An error
    /// if the suite has none, or its fixtures cannot be listed.
    pub fn scenario_paths(&self) -> Result<Vec<ScenarioPath>, SuiteError> {
        let fixtures = self.path("fixtures");
        let found: Vec<ScenarioPath> = match self {
            Suite::Dir(_) => {
                discover(std::slice::from_ref(&fixtures)).map_err(SuiteError::Unreadable)?
            }
            Suite::Embedded => {
                let mut found: Vec<ScenarioPath> = embedded_files("fixtures")
                    .into_iter()
                    .filter(|(path, _)| path.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                    .map(|(path, _)| {
                        let id = path
                            .strip_prefix("fixtures")
                            .unwrap_or(&path)
                            .with_extension("")
                            .components()
                            .map(|c| c.as_os_str().to_string_lossy())
                            .collect::<Vec<_>>()
                            .join("/");
                        ScenarioPath { path, id }
                    })
                    .collect();
                found.sort_by(|a, b| a.id.cmp(&b.id));
                found
            }
        };
        if found.is_empty() {
            return Err(SuiteError::NoScenarios { path: fixtures });
        }
        Ok(found)
    }

    /// The scenario file `found` (one of [`Suite::scenario_paths`]) loaded and validated: its
    /// scenario, or every error it has.
    pub fn load_scenario(
        &self,
        found: &ScenarioPath,
        requirements: &Requirements,
        limits: &Limits,
    ) -> Result<Scenario, Vec<LoadError>> {
        match self {
            Suite::Dir(_) => load_with_limits(found, requirements, limits),
            Suite::Embedded => {
                let bytes = embedded_file(&found.path).ok_or_else(|| {
                    vec![LoadError {
                        path: found.path.clone(),
                        location: Default::default(),
                        message: "no such file in the built-in suite".to_string(),
                    }]
                })?;
                match std::str::from_utf8(bytes) {
                    Ok(text) => parse_with_limits(found, text, requirements, limits),
                    Err(e) => Err(vec![LoadError {
                        path: found.path.clone(),
                        location: Default::default(),
                        message: format!("the file is not UTF-8: {e}"),
                    }]),
                }
            }
        }
    }

    /// The suite's expectations file of `implementation` (`expectations/NAME.yaml`): where it
    /// is, as messages name it.
    pub fn expectations_path(&self, implementation: &str) -> PathBuf {
        match self {
            Suite::Embedded => Expectations::default_path(implementation),
            Suite::Dir(dir) => dir.join(Expectations::default_path(implementation)),
        }
    }

    /// The suite's expectations of `implementation`; none if it has no file for it.
    pub fn expectations(&self, implementation: &str) -> Result<Expectations, ExpectationsError> {
        let path = self.expectations_path(implementation);
        match self {
            Suite::Dir(_) => Expectations::load(&path, implementation),
            Suite::Embedded => match embedded_file(&path) {
                Some(bytes) => {
                    Expectations::parse(&path, &String::from_utf8_lossy(bytes), implementation)
                }
                None => Ok(Expectations {
                    implementation: implementation.to_string(),
                    ..Expectations::default()
                }),
            },
        }
    }

    /// The suite's named drivers (`drivers/drivers.yaml`), their commands run from the suite's
    /// directory.
    pub fn drivers(&self) -> Drivers {
        match self {
            Suite::Embedded => Drivers::built_in(
                Path::new(DEFAULT_DRIVERS),
                embedded_file(Path::new(DEFAULT_DRIVERS))
                    .and_then(|bytes| std::str::from_utf8(bytes).ok())
                    .unwrap_or(""),
            ),
            Suite::Dir(dir) => Drivers::in_dir(&dir.join(DEFAULT_DRIVERS), dir),
        }
    }
}

/// One scenario file of a suite, loaded.
#[derive(Debug)]
pub struct ScenarioFile {
    /// Where it is, and its id.
    pub found: ScenarioPath,
    /// Its scenario, or every error it has.
    pub scenario: Result<Scenario, Vec<LoadError>>,
}

/// True when `dir` is a checkout of the suite (or an exported one): it has `fixtures/` and
/// `spec/scenario-format.md`. (`fixtures/` and `spec/` alone are common names in other projects.)
pub fn is_checkout(dir: &Path) -> bool {
    dir.join("fixtures").is_dir() && dir.join("spec/scenario-format.md").is_file()
}

/// Every built-in file under `part` (`fixtures`, …), named by its path in the repository
/// (`fixtures/tcp/echo.yaml`), sorted by it.
fn embedded_files(part: &str) -> Vec<(PathBuf, &'static [u8])> {
    fn walk(prefix: &Path, dir: &'static Dir<'static>, out: &mut Vec<(PathBuf, &'static [u8])>) {
        for file in dir.files() {
            out.push((prefix.join(file.path()), file.contents()));
        }
        // Python's caches, if a build embedded them, are no part of the suite.
        for sub in dir.dirs().filter(|d| !d.path().ends_with("__pycache__")) {
            walk(prefix, sub, out);
        }
    }
    let mut files = Vec::new();
    for (name, dir) in EMBEDDED.iter().filter(|(name, _)| *name == part) {
        walk(Path::new(name), dir, &mut files);
    }
    files.sort();
    files
}

/// The built-in file at `path` (`expectations/python.yaml`).
fn embedded_file(path: &Path) -> Option<&'static [u8]> {
    let mut parts = path.components();
    let part = parts.next()?.as_os_str().to_str()?;
    let rest = parts.as_path();
    EMBEDDED
        .iter()
        .find(|(name, _)| *name == part)
        .and_then(|(_, dir)| dir.get_file(rest))
        .map(|f| f.contents())
}

/// Every built-in file, named by its path in the repository, sorted.
pub fn embedded() -> Vec<(PathBuf, &'static [u8])> {
    PARTS.iter().flat_map(|part| embedded_files(part)).collect()
}

/// Writes the built-in suite into `dir` (created if missing): `fixtures/`, `spec/`,
/// `expectations/` and `drivers/`. A directory that already holds anything is refused unless
/// `overwrite`, which replaces files of the same names and leaves the others. Returns how many
/// files were written.
pub fn export(dir: &Path, overwrite: bool) -> Result<usize, SuiteError> {
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SuiteError::Write { path, source }
    };
    if !overwrite {
        if let Ok(mut entries) = std::fs::read_dir(dir) {
            if entries.next().is_some() {
                return Err(SuiteError::NotEmpty {
                    path: dir.to_path_buf(),
                });
            }
        }
    }
    let files = embedded();
    for (relative, bytes) in &files {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(failed(parent))?;
        }
        std::fs::write(&path, bytes).map_err(failed(&path))?;
        // Scripts (`#!`) stay runnable, as they are in the repository.
        if bytes.starts_with(b"#!") {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(failed(&path))?;
        }
    }
    Ok(files.len())
}

/// The built-in suite written out to a temporary directory, for configured drivers' commands to
/// run from; written on the first call, removed by [`remove_materialised`].
static MATERIALISED: Mutex<Option<tempfile::TempDir>> = Mutex::new(None);

/// The directory the built-in suite is written out to (see [`MATERIALISED`]).
pub fn materialised() -> Result<PathBuf, String> {
    let mut held = MATERIALISED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(dir) = held.as_ref() {
        return Ok(dir.path().to_path_buf());
    }
    let dir = tempfile::Builder::new()
        .prefix("sockspec-suite-")
        .tempdir()
        .map_err(|e| format!("cannot create a directory for the built-in suite: {e}"))?;
    export(dir.path(), true).map_err(|e| format!("cannot write out the built-in suite: {e}"))?;
    let path = dir.path().to_path_buf();
    *held = Some(dir);
    Ok(path)
}

/// Removes the directory [`materialised`] wrote, if any (the command is ending).
pub fn remove_materialised() {
    let dir = MATERIALISED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    drop(dir);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_suite_is_the_repository_s() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for (path, bytes) in embedded() {
            let on_disk = std::fs::read(root.join(&path)).unwrap_or_else(|e| {
                panic!(
                    "{}: built in but not in the repository: {e}",
                    path.display()
                )
            });
            assert_eq!(
                on_disk,
                bytes,
                "{}: differs from the repository's",
                path.display()
            );
        }
        // And every file of the repository's suite is built in (build.rs rebuilds when one is
        // added).
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    if !path.ends_with("__pycache__") {
                        walk(&path, out);
                    }
                } else {
                    out.push(path);
                }
            }
        }
        let mut on_disk = Vec::new();
        for part in PARTS {
            walk(&root.join(part), &mut on_disk);
        }
        let built_in: Vec<PathBuf> = embedded().into_iter().map(|(p, _)| root.join(p)).collect();
        for path in on_disk {
            assert!(built_in.contains(&path), "{}: not built in", path.display());
        }
        assert!(embedded_file(Path::new("spec/scenario-format.md")).is_some());
        assert!(embedded_file(Path::new(DEFAULT_DRIVERS)).is_some());
    }

    #[test]
    fn built_in_scenarios_have_the_ids_and_paths_of_the_checkout_s() {
        let built_in = Suite::Embedded;
        let checkout = Suite::Dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let requirements = built_in.requirements().unwrap();
        assert_eq!(requirements.len(), checkout.requirements().unwrap().len());
        let (scenarios, errors) = built_in
            .scenarios(&requirements, &Limits::default())
            .unwrap();
        assert!(errors.is_empty(), "{}", LoadError::lines(&errors));
        let (on_disk, _) = checkout
            .scenarios(&requirements, &Limits::default())
            .unwrap();
        let ids = |s: &[Scenario]| s.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&scenarios), ids(&on_disk));
        let echo = scenarios
            .iter()
            .find(|s| s.id == "tutorial/echo")
            .expect("tutorial/echo is built in");
        assert_eq!(echo.path, Path::new("fixtures/tutorial/echo.yaml"));
    }

    #[test]
    fn a_directory_without_a_spec_is_no_suite() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("fixtures")).unwrap();
        let err = Suite::dir(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains(&dir.path().join("spec").display().to_string()),
            "{err}"
        );
        let err = Suite::dir(&dir.path().join("nowhere"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("nowhere: cannot read the directory"), "{err}");
    }

    #[test]
    fn an_empty_spec_or_fixtures_directory_is_an_error_not_an_empty_run() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("fixtures")).unwrap();
        std::fs::create_dir(dir.path().join("spec")).unwrap();
        let suite = Suite::dir(dir.path()).unwrap();
        assert!(matches!(
            suite.requirements(),
            Err(SuiteError::EmptySpec { .. })
        ));
        let requirements = Suite::Embedded.requirements().unwrap();
        assert!(matches!(
            suite.scenarios(&requirements, &Limits::default()),
            Err(SuiteError::NoScenarios { .. })
        ));
    }

    #[test]
    fn export_refuses_a_directory_with_files_unless_told() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        assert!(matches!(
            export(dir.path(), false),
            Err(SuiteError::NotEmpty { .. })
        ));
        let written = export(dir.path(), true).unwrap();
        assert_eq!(written, embedded().len());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
            "mine"
        );
        assert!(is_checkout(dir.path()));
    }
}
