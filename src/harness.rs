//! The suite as tests of your own crate: one [libtest-mimic](libtest_mimic) trial per scenario,
//! run against your [`Implementation`], with your known deviations.
//!
//! In your crate's `Cargo.toml`:
//!
//! ```toml
//! [dev-dependencies]
//! sockspec = "0.1"
//!
//! [[test]]
//! name = "sockspec"
//! harness = false
//! ```
//!
//! and in `tests/sockspec.rs`:
//!
//! ```no_run
//! use sockspec::harness::Harness;
//! # use sockspec::reference::Reference as MyStack;
//!
//! fn main() {
//!     Harness::new(MyStack)
//!         .expectations_file("expectations/my-stack.yaml")
//!         .run()
//! }
//! ```
//!
//! `cargo test` then runs every scenario of the suite built into sockspec (no checkout needed),
//! each a test named after the scenario's id (`tcp::server::bind_port_in_use_by_listener` for
//! `tcp/server/bind-port-in-use-by-listener`), so that the usual filters work:
//! `cargo test --test sockspec -- tcp::server`. What each status becomes:
//!
//! | scenario | test |
//! |---|---|
//! | pass, expected-fail (a deviation the expectations file lists) | passes |
//! | fail, error, timeout, unexpected-pass (a stale entry) | fails, with the report of the failure |
//! | unsupported before it runs (the capabilities lack what it needs), or `skip` in the expectations | ignored; with `--include-ignored` it says why |
//! | unsupported at a step (the implementation answered `unsupported`) | ignored at run time, saying why |
//! | a scenario file that does not load (a suite of your own, [`Harness::suite`]) | fails, with every error at its `path:line:column` |
//!
//! The expectations file is the one `sockspec expectations --impl NAME --write` writes
//! (`implementation: NAME` and entries by scenario id); an entry naming no scenario of the suite
//! is an error, so that renamed scenarios are noticed.

use crate::expectations::{Expectations, ExpectationsError};
use crate::implementation::Implementation;
use crate::requirements::Requirements;
use crate::runner::{run_scenario, unsupported_reason_with, RunOptions, ScenarioResult, Status};
use crate::scenario::{Limits, LoadError, Scenario};
use crate::suite::{Suite, SuiteError};
use std::path::PathBuf;
use std::sync::Arc;

pub use libtest_mimic::{Arguments, Completion, Conclusion, Failed, Trial};

/// Which scenarios of the suite become trials (see [`Harness::select`]).
type Selection = Arc<dyn Fn(&Scenario) -> bool + Send + Sync>;

/// Where the known deviations come from.
#[derive(Clone, Debug)]
enum ExpectationsFrom {
    /// None: every scenario must pass.
    Nothing,
    /// A file, which must exist.
    File(PathBuf),
    /// The suite's own `expectations/NAME.yaml`, if it has one.
    Suite,
    /// Given as a value.
    Given(Expectations),
}

/// The suite as libtest-mimic trials against one implementation: a builder, ended by
/// [`run`](Harness::run) (in a `harness = false` test's `main`) or [`trials`](Harness::trials).
///
/// ```no_run
/// use sockspec::harness::Harness;
/// use sockspec::reference::Reference;
///
/// Harness::new(Reference)
///     .select(|scenario| scenario.id.starts_with("tcp/"))
///     .run()
/// ```
#[derive(Clone)]
pub struct Harness {
    implementation: Arc<dyn Implementation>,
    suite: Suite,
    expectations: ExpectationsFrom,
    prefix: Option<String>,
    select: Option<Selection>,
    options: RunOptions,
}

/// Why the harness could not make its trials (each says which file, and where).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// The suite cannot be read.
    #[error(transparent)]
    Suite(#[from] SuiteError),
    /// The expectations file cannot be read or is not valid.
    #[error(transparent)]
    Expectations(#[from] ExpectationsError),
    /// The expectations file named with [`Harness::expectations_file`] does not exist.
    #[error("{}: the expectations file does not exist (relative paths are from the current directory, {}); an empty one is `implementation: {implementation}` and `expectations: {{}}`", path.display(), current_dir())]
    NoExpectationsFile {
        /// The file.
        path: PathBuf,
        /// The implementation it was to describe.
        implementation: String,
    },
    /// Entries of the expectations file name scenarios the suite does not have.
    #[error("{}: entries for scenarios the suite does not have (renamed or deleted?): {}", path.display(), ids.join(", "))]
    UnknownScenarios {
        /// The expectations file (or `expectations/NAME.yaml` when given as a value).
        path: PathBuf,
        /// The ids of those entries.
        ids: Vec<String>,
    },
}

fn current_dir() -> String {
    std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|e| format!("unknown: {e}"))
}

impl Harness {
    /// A harness running the built-in suite against `implementation`, with no known deviations,
    /// every scenario selected, and the default [`RunOptions`] (environment actors on the
    /// reference implementation).
    pub fn new(implementation: impl Implementation + 'static) -> Harness {
        Harness::shared(Arc::new(implementation))
    }

    /// [`Harness::new`] for an implementation already shared (a driver from
    /// [`crate::registry`]).
    pub fn shared(implementation: Arc<dyn Implementation>) -> Harness {
        Harness {
            implementation,
            suite: Suite::Embedded,
            expectations: ExpectationsFrom::Nothing,
            prefix: None,
            select: None,
            options: RunOptions::default(),
        }
    }

    /// Runs the scenarios of `suite` instead of the built-in ones: a checkout or an exported
    /// suite ([`Suite::dir`]), whose fixtures are read when the trials are made.
    pub fn suite(mut self, suite: Suite) -> Harness {
        self.suite = suite;
        self
    }

    /// Applies the known deviations in `path` (relative to the current directory, which
    /// `cargo test` sets to your package's root). The file must exist and describe this
    /// implementation (`implementation: NAME`, its [`Implementation::name`]).
    pub fn expectations_file(mut self, path: impl Into<PathBuf>) -> Harness {
        self.expectations = ExpectationsFrom::File(path.into());
        self
    }

    /// Applies the suite's own expectations of this implementation (`expectations/NAME.yaml` of
    /// the suite), if it has them: what sockspec's own tests do for its built-in
    /// implementations.
    pub fn suite_expectations(mut self) -> Harness {
        self.expectations = ExpectationsFrom::Suite;
        self
    }

    /// Applies known deviations given as a value.
    pub fn expectations(mut self, expectations: Expectations) -> Harness {
        self.expectations = ExpectationsFrom::Given(expectations);
        self
    }

    /// Makes trials only of the scenarios `keep` accepts (say, by id or tag); the others are no
    /// tests at all. A file that does not load is a (failing) trial all the same, having no
    /// scenario to ask about; expectations entries are still checked against every scenario.
    pub fn select(mut self, keep: impl Fn(&Scenario) -> bool + Send + Sync + 'static) -> Harness {
        self.select = Some(Arc::new(keep));
        self
    }

    /// Starts every trial's name with `prefix::` (sockspec's own tests name theirs
    /// `reference::…`, `python::…`, to run several implementations in one binary).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Harness {
        self.prefix = Some(prefix.into());
        self
    }

    /// Runs the scenarios with `options` (time limits, whether environment actors run on the
    /// reference) instead of the defaults.
    pub fn options(mut self, options: RunOptions) -> Harness {
        self.options = options;
        self
    }

    /// The trial name of the scenario `id`: its `/` become `::` and its `-` become `_`
    /// (`tcp::echo` for `tcp/echo`), after the prefix if there is one.
    ///
    /// ```
    /// # use sockspec::{harness::Harness, reference::Reference};
    /// let harness = Harness::new(Reference).prefix("mine");
    /// assert_eq!(harness.trial_name("tcp/server/bind-port-in-use"), "mine::tcp::server::bind_port_in_use");
    /// ```
    pub fn trial_name(&self, id: &str) -> String {
        let name = id.replace('/', "::").replace('-', "_");
        match &self.prefix {
            Some(prefix) => format!("{prefix}::{name}"),
            None => name,
        }
    }

    /// One trial per scenario file of the suite (that [`select`](Harness::select) keeps), in id
    /// order, for [`libtest_mimic::run`] — to run them with trials of your own. Nothing runs
    /// until a trial does.
    ///
    /// ```
    /// use sockspec::harness::Harness;
    /// use sockspec::reference::Reference;
    ///
    /// let harness = Harness::new(Reference).select(|scenario| scenario.id == "tutorial/echo");
    /// let trials = harness.trials().expect("the built-in suite loads");
    /// assert_eq!(trials.len(), 1);
    /// assert_eq!(trials[0].name(), "tutorial::echo");
    /// ```
    pub fn trials(&self) -> Result<Vec<Trial>, HarnessError> {
        self.make_trials(None)
    }

    /// [`trials`](Harness::trials) for a run with `arguments`: a scenario whose trial the
    /// arguments' filters leave out (`--exact NAME`, a substring, `--skip`) is not read at all,
    /// so that a process that runs one test (what `cargo nextest run` starts for each) loads
    /// and validates only that test's file. Such a trial keeps its name, so `--list` and the
    /// count of filtered-out tests are as with [`trials`](Harness::trials) (with
    /// [`select`](Harness::select), the count also has the left-out scenarios it would have
    /// dropped: deciding needs the file); run anyway, it fails saying it was not loaded.
    ///
    /// ```
    /// use sockspec::harness::{Arguments, Harness};
    /// use sockspec::reference::Reference;
    ///
    /// let arguments = Arguments::from_iter(["test", "--exact", "tutorial::echo"]);
    /// let trials = Harness::new(Reference).trials_matching(&arguments).unwrap();
    /// let kept: Vec<_> = trials.iter().filter(|t| !arguments.is_filtered_out(t)).collect();
    /// assert_eq!(kept.len(), 1);
    /// assert_eq!(kept[0].name(), "tutorial::echo");
    /// ```
    pub fn trials_matching(&self, arguments: &Arguments) -> Result<Vec<Trial>, HarnessError> {
        self.make_trials(Some(arguments))
    }

    /// The trials; with `arguments`, those its filters leave out are placeholders, not loaded.
    fn make_trials(&self, arguments: Option<&Arguments>) -> Result<Vec<Trial>, HarnessError> {
        let paths = self.suite.scenario_paths()?;
        let expectations = Arc::new(self.load_expectations()?);
        let ids: Vec<&str> = paths.iter().map(|f| f.id.as_str()).collect();
        let unknown = expectations.unknown(&ids);
        if !unknown.is_empty() {
            return Err(HarnessError::UnknownScenarios {
                path: self.expectations_path(),
                ids: unknown.into_iter().map(str::to_string).collect(),
            });
        }
        // Read only when a trial that runs needs them (the spec is the first thing loading
        // validates against).
        let mut requirements: Option<Requirements> = None;
        // Only the names decide what is left unread: with `--ignored`, libtest also leaves out
        // every trial not flagged ignored, which only loading the file can tell.
        let by_name = arguments.map(|arguments| Arguments {
            ignored: false,
            ..arguments.clone()
        });
        let mut trials = Vec::with_capacity(paths.len());
        for found in paths {
            let name = self.trial_name(&found.id);
            if let Some(by_name) = &by_name {
                let id = found.id.clone();
                let placeholder = Trial::test(name.clone(), move || {
                    Err(Failed::from(format!(
                        "{id}: not loaded, as the command line's filters leave this test out"
                    )))
                });
                if by_name.is_filtered_out(&placeholder) {
                    trials.push(placeholder);
                    continue;
                }
            }
            let requirements = match &requirements {
                Some(requirements) => requirements,
                None => requirements.insert(self.suite.requirements()?),
            };
            let scenario = match self
                .suite
                .load_scenario(&found, requirements, &Limits::default())
            {
                Ok(scenario) => scenario,
                Err(errors) => {
                    let message = LoadError::lines(&errors);
                    trials.push(Trial::test(name, move || Err(Failed::from(message))));
                    continue;
                }
            };
            if self.select.as_ref().is_some_and(|keep| !keep(&scenario)) {
                continue;
            }
            // Known before running: libtest ignores the trial (nextest skips it); run anyway
            // (`--include-ignored`), it says why.
            let ignored =
                unsupported_reason_with(&scenario, self.implementation.as_ref(), &self.options)
                    .is_some()
                    || expectations.skip(&scenario.id).is_some();
            let implementation = Arc::clone(&self.implementation);
            let expectations = Arc::clone(&expectations);
            let options = self.options.clone();
            trials.push(
                Trial::ignorable_test(name, move || {
                    if let Some(entry) = expectations.skip(&scenario.id) {
                        return Ok(Completion::ignored_with(format!(
                            "skipped by the expectations: {}",
                            entry.reason
                        )));
                    }
                    let mut result = run_scenario(&scenario, implementation.as_ref(), &options);
                    expectations.apply(&mut result);
                    verdict(&result)
                })
                .with_ignored_flag(ignored),
            );
        }
        Ok(trials)
    }

    /// Parses the command line as libtest does (filters, `--list`, `--include-ignored`,
    /// `--test-threads`…), runs the trials, and exits: 0 when every trial passed, 101 when one
    /// failed, 2 (after printing why) when the trials cannot be made. For a test's `main`.
    pub fn run(self) -> ! {
        match self.run_with(&Arguments::from_args()) {
            Ok(conclusion) => conclusion.exit(),
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(2);
            }
        }
    }

    /// Runs the trials with `arguments`, returning libtest's conclusion.
    pub fn run_with(self, arguments: &Arguments) -> Result<Conclusion, HarnessError> {
        Ok(libtest_mimic::run(
            arguments,
            self.trials_matching(arguments)?,
        ))
    }

    /// The known deviations, from wherever the builder says.
    fn load_expectations(&self) -> Result<Expectations, HarnessError> {
        let name = self.implementation.name();
        Ok(match &self.expectations {
            ExpectationsFrom::Nothing => Expectations {
                implementation: name.to_string(),
                ..Expectations::default()
            },
            ExpectationsFrom::File(path) => {
                // `Expectations::load` reads a missing file as none; named here, it is a mistake.
                if !path.exists() {
                    return Err(HarnessError::NoExpectationsFile {
                        path: path.clone(),
                        implementation: name.to_string(),
                    });
                }
                Expectations::load(path, name)?
            }
            ExpectationsFrom::Suite => self.suite.expectations(name)?,
            ExpectationsFrom::Given(given) => given.clone(),
        })
    }

    /// The expectations' file, as errors name it.
    fn expectations_path(&self) -> PathBuf {
        match &self.expectations {
            ExpectationsFrom::File(path) => path.clone(),
            _ => self.suite.expectations_path(self.implementation.name()),
        }
    }
}

/// What a scenario's (expectations-applied) result makes of its trial.
fn verdict(result: &ScenarioResult) -> Result<Completion, Failed> {
    match result.status {
        Status::Pass | Status::ExpectedFail => Ok(Completion::Completed),
        Status::Unsupported => Ok(Completion::ignored_with(format!(
            "unsupported: {}",
            result.explanation()
        ))),
        Status::Skip => Ok(Completion::ignored()),
        Status::UnexpectedPass => Err(Failed::from(format!(
            "[{}] it passed, but the expectations file lists it (remove the stale entry): {}",
            result.status,
            result.expectation.as_deref().unwrap_or("")
        ))),
        Status::Fail | Status::Error | Status::Timeout | Status::Interrupted => {
            let mut message = format!("[{}] {}", result.status, result.explanation());
            if let Some(listed) = &result.expectation {
                // Listed, but with another status than it ended with.
                message.push_str(&format!(
                    "\nthe expectations file lists it with another status: {listed}"
                ));
            }
            Err(Failed::from(message))
        }
    }
}
