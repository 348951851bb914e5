//! Known deviations, kept outside the fixtures: one file per implementation
//! (`expectations/python.yaml`), in the spirit of toml-test's `ignore` lists.
//!
//! An entry says which status a scenario is known to end with on that implementation, and why.
//! A run turns a matching failure into `expected-fail`, and a pass of a listed scenario into
//! `unexpected-pass`, which fails the run so that stale entries are noticed.

use crate::runner::{ScenarioResult, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The status an entry expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expected {
    /// A step does something other than the spec says.
    Fail,
    /// The implementation fails to run the scenario.
    Error,
    /// A step does not return in time.
    Timeout,
    /// Do not run it at all (e.g. it would disturb other scenarios).
    Skip,
}

impl Expected {
    fn status(self) -> Status {
        match self {
            Expected::Fail => Status::Fail,
            Expected::Error => Status::Error,
            Expected::Timeout => Status::Timeout,
            Expected::Skip => Status::Skip,
        }
    }
}

/// One known deviation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The status the scenario ends with on this implementation.
    pub status: Expected,
    /// Why: which behaviour differs from the spec, and whether the spec or the implementation is
    /// at fault.
    pub reason: String,
    /// A bug report or documentation page, if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// One implementation's expectations file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// The implementation it describes.
    pub implementation: String,
    /// Entries by scenario id.
    #[serde(default)]
    pub expectations: BTreeMap<String, Expectation>,
}

/// An expectations file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExpectationsError {
    /// The file exists but cannot be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid expectations file.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where (from 1).
        line: usize,
        /// Where (from 1).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The file is about another implementation.
    #[error("{}: describes implementation `{describes}`, not `{wanted}`", path.display())]
    OtherImplementation {
        /// The file.
        path: PathBuf,
        /// The implementation it names.
        describes: String,
        /// The implementation being run.
        wanted: String,
    },
}

/// The reason written for entries a run adds, for a person to replace.
pub const TODO_REASON: &str = "TODO: say why this deviates (spec, fixture or implementation?)";

impl Expectations {
    /// The default file of an implementation: `expectations/NAME.yaml`.
    pub fn default_path(implementation: &str) -> PathBuf {
        let name: String = implementation
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        PathBuf::from("expectations").join(format!("{name}.yaml"))
    }

    /// Reads a file; a missing file is no expectations.
    pub fn load(path: &Path, implementation: &str) -> Result<Expectations, ExpectationsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Expectations {
                    implementation: implementation.to_string(),
                    ..Expectations::default()
                })
            }
            Err(source) => {
                return Err(ExpectationsError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        Expectations::parse(path, &text, implementation)
    }

    /// Parses an expectations file's `text` as if read from `path` (which errors name).
    pub fn parse(
        path: &Path,
        text: &str,
        implementation: &str,
    ) -> Result<Expectations, ExpectationsError> {
        let file: Expectations =
            crate::yaml::from_str(text).map_err(|e| ExpectationsError::Invalid {
                path: path.to_path_buf(),
                line: e.location.line,
                column: e.location.column,
                message: e.message,
            })?;
        if file.implementation != implementation {
            return Err(ExpectationsError::OtherImplementation {
                path: path.to_path_buf(),
                describes: file.implementation,
                wanted: implementation.to_string(),
            });
        }
        Ok(file)
    }

    /// The entry that says to skip `scenario`, if any.
    pub fn skip(&self, scenario: &str) -> Option<&Expectation> {
        self.expectations
            .get(scenario)
            .filter(|e| e.status == Expected::Skip)
    }

    /// Applies the entries to a run's result.
    pub fn apply(&self, result: &mut ScenarioResult) {
        let Some(entry) = self.expectations.get(&result.scenario) else {
            return;
        };
        result.expectation = Some(entry.reason.clone());
        if result.status == Status::Pass {
            result.status = Status::UnexpectedPass;
        } else if result.status == entry.status.status() {
            result.status = Status::ExpectedFail;
        }
    }

    /// Entries for scenarios that none of `ids` names (renamed or deleted fixtures).
    pub fn unknown<'a>(&'a self, ids: &[&str]) -> Vec<&'a str> {
        self.expectations
            .keys()
            .map(String::as_str)
            .filter(|k| !ids.contains(k))
            .collect()
    }

    /// Updates the entries from a run's (unapplied) results: failures gain an entry (keeping an
    /// existing reason), passes lose theirs. Skips and unsupported scenarios are left alone.
    pub fn update(&mut self, results: &[ScenarioResult]) {
        for r in results {
            let expected = match r.status {
                Status::Fail => Expected::Fail,
                Status::Error => Expected::Error,
                Status::Timeout => Expected::Timeout,
                Status::Pass => {
                    self.expectations.remove(&r.scenario);
                    continue;
                }
                _ => continue,
            };
            let reason = self
                .expectations
                .get(&r.scenario)
                .map_or_else(|| TODO_REASON.to_string(), |e| e.reason.clone());
            let link = self
                .expectations
                .get(&r.scenario)
                .and_then(|e| e.link.clone());
            self.expectations.insert(
                r.scenario.clone(),
                Expectation {
                    status: expected,
                    reason,
                    link,
                },
            );
        }
    }

    /// The file's text.
    pub fn to_yaml(&self) -> String {
        let body = crate::yaml::to_string(self).unwrap_or_default();
        format!(
            "# Known deviations of `{}` from the spec: scenario id -> the status it ends with and why.\n\
             # `sockspec run --impl {0}` reads this file; `sockspec expectations --impl {0} --write` updates it.\n{body}",
            self.implementation
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::Status;
    use rstest::rstest;
    use std::time::Duration;

    fn result(id: &str, status: Status) -> ScenarioResult {
        ScenarioResult {
            scenario: id.to_string(),
            title: String::new(),
            path: String::new(),
            requirements: vec![],
            implementation: "x".to_string(),
            status,
            duration: Duration::ZERO,
            failure: None,
            reason: None,
            expectation: None,
        }
    }

    fn file(status: Expected) -> Expectations {
        let mut e = Expectations {
            implementation: "x".to_string(),
            ..Expectations::default()
        };
        e.expectations.insert(
            "a".to_string(),
            Expectation {
                status,
                reason: "known".to_string(),
                link: None,
            },
        );
        e
    }

    #[rstest]
    #[case(Expected::Fail, Status::Fail, Status::ExpectedFail)]
    #[case(Expected::Timeout, Status::Timeout, Status::ExpectedFail)]
    #[case(Expected::Fail, Status::Pass, Status::UnexpectedPass)]
    #[case(Expected::Fail, Status::Timeout, Status::Timeout)]
    #[case(Expected::Fail, Status::Unsupported, Status::Unsupported)]
    fn an_entry_turns_its_status_into_expected_fail_and_a_pass_into_unexpected_pass(
        #[case] expected: Expected,
        #[case] actual: Status,
        #[case] reported: Status,
    ) {
        let mut r = result("a", actual);
        file(expected).apply(&mut r);
        assert_eq!(r.status, reported);
    }

    #[test]
    fn update_adds_failures_keeps_reasons_and_drops_passes() {
        let mut e = file(Expected::Fail);
        e.update(&[result("a", Status::Timeout), result("b", Status::Fail)]);
        assert_eq!(e.expectations["a"].status, Expected::Timeout);
        assert_eq!(e.expectations["a"].reason, "known");
        assert_eq!(e.expectations["b"].reason, TODO_REASON);
        e.update(&[result("a", Status::Pass)]);
        assert!(!e.expectations.contains_key("a"));
    }

    #[test]
    fn the_written_file_reads_back() {
        let e = file(Expected::Fail);
        let text = e.to_yaml();
        let back: Expectations = crate::yaml::from_str(&text).unwrap();
        assert_eq!(back, e);
    }
}
