//! A saved run: the JSON document `sockspec run --format json` prints and `sockspec report` reads
//! (`spec/report-format.md` describes it; `spec/report.schema.json` is generated from these
//! types).

use super::Summary;
use crate::runner::ScenarioResult;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The version of the run format this sockspec writes, and the only one it reads. It changes
/// when a field changes meaning or a required one is added; optional fields may be added without.
pub const RUN_FORMAT_VERSION: u32 = 1;

/// One implementation's run of the suite, as saved.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "A sockspec run: one implementation's results on the suite")]
pub struct Run {
    /// The run format's version; this sockspec reads and writes 1.
    pub format_version: u32,
    /// The implementation's name on the command line (`reference`, `python`, `exec:./driver`).
    pub implementation: String,
    /// Its version where known: a driver's `hello` name and version (`cpython 3.11.2`), or the
    /// sockspec version for the built-in implementations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation_version: Option<String>,
    /// The version of sockspec, and so of its built-in suite, that made the run.
    pub suite_version: String,
    /// When the run ended, RFC 3339 in UTC (`2026-11-26T18:00:00Z`).
    pub date: String,
    /// Where it ran.
    pub machine: Machine,
    /// How many results have each status.
    pub summary: Summary,
    /// One result per scenario, sorted by scenario id.
    pub results: Vec<ScenarioResult>,
}

/// The machine a run was made on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Machine {
    /// Its host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// The operating system (`linux`).
    pub os: String,
    /// The kernel's release (`6.1.0-18-amd64`), where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// The CPU architecture (`x86_64`).
    pub arch: String,
}

impl Machine {
    /// The machine this process runs on.
    pub fn this() -> Machine {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        Machine {
            hostname: read("/proc/sys/kernel/hostname"),
            os: std::env::consts::OS.to_string(),
            kernel: read("/proc/sys/kernel/osrelease"),
            arch: std::env::consts::ARCH.to_string(),
        }
    }
}

/// A run file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunFileError {
    /// The file could not be read.
    #[error("{}: cannot read the run: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a run (not JSON, or a field is missing or of the wrong type).
    #[error("{}:{line}:{column}: not a sockspec run: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The line of the error, from 1.
        line: usize,
        /// Its column, from 1.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The file is a run of another format version.
    #[error(
        "{}: the run's format_version is {found}; this sockspec reads version {RUN_FORMAT_VERSION} \
         (make the run again with this sockspec, or report it with the sockspec that made it)",
        path.display()
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// The version it has.
        found: u64,
    },
}

impl Run {
    /// A run of `implementation` (of `version`, where known) that produced `results`, dated now,
    /// on this machine.
    pub fn new(implementation: &str, version: Option<String>, results: Vec<ScenarioResult>) -> Run {
        Run {
            format_version: RUN_FORMAT_VERSION,
            implementation: implementation.to_string(),
            implementation_version: version,
            suite_version: env!("CARGO_PKG_VERSION").to_string(),
            date: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            machine: Machine::this(),
            summary: Summary::of(&results),
            results,
        }
    }

    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }

    /// Reads a run from `text`, the content of `path`; the version is checked before the rest,
    /// so that a run of another version is refused as such, not as a missing field.
    pub fn parse(path: &Path, text: &str) -> Result<Run, RunFileError> {
        let invalid = |e: serde_json::Error| RunFileError::Invalid {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(invalid)?;
        match value.get("format_version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(RUN_FORMAT_VERSION) => {}
            Some(found) => {
                return Err(RunFileError::Version {
                    path: path.to_path_buf(),
                    found,
                })
            }
            None => {
                return Err(RunFileError::Invalid {
                    path: path.to_path_buf(),
                    line: 1,
                    column: 1,
                    message: "no `format_version` (a number): is it the output of `sockspec run \
                              --format json`?"
                        .to_string(),
                })
            }
        }
        // Parsed again from the text (not the value) so that an error keeps its line and column.
        serde_json::from_str(text).map_err(invalid)
    }

    /// Reads the run saved in `path`.
    pub fn read(path: &Path) -> Result<Run, RunFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| RunFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Run::parse(path, &text)
    }
}

/// The run format's JSON Schema, generated from [`Run`].
pub fn run_schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Run)).unwrap_or_default();
    if let Some(object) = schema.as_object_mut() {
        object.insert(
            "$id".into(),
            "https://sockspec.invalid/spec/report.schema.json".into(),
        );
        object.insert(
            "description".into(),
            "What `sockspec run --format json` prints and `sockspec report` reads; see \
             report-format.md, which is normative. Generated from the Rust types (src/report/run.rs) \
             by `sockspec report --schema`; do not edit."
                .into(),
        );
    }
    schema
}

/// The schema as committed in `spec/report.schema.json`: pretty JSON with a final newline.
pub fn run_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&run_schema()).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{Failure, FailureKind, Status};
    use std::time::Duration;

    fn failed() -> ScenarioResult {
        ScenarioResult {
            scenario: "tcp/server/bind".into(),
            title: "bind".into(),
            path: "fixtures/tcp/server/bind.yaml".into(),
            requirements: vec!["tcp.bind".into()],
            implementation: "x".into(),
            status: Status::Fail,
            duration: Duration::from_micros(1500),
            failure: Some(Failure {
                kind: FailureKind::Mismatch,
                actor: "server".into(),
                step: 2,
                op: "bind".into(),
                location: "fixtures/tcp/server/bind.yaml:4".into(),
                expected: "error EADDRINUSE".into(),
                actual: "success".into(),
                detail: None,
            }),
            reason: None,
            expectation: None,
        }
    }

    /// The committed schema is the generated one; `SOCKSPEC_BLESS=1` rewrites it.
    #[test]
    fn the_committed_report_schema_is_the_generated_one() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/report.schema.json");
        let generated = run_schema_text();
        if std::env::var_os("SOCKSPEC_BLESS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is not what src/report/run.rs generates; run `cargo run -- report --schema > {}` \
             (or SOCKSPEC_BLESS=1 cargo test) and commit it",
            path.display(),
            path.display()
        );
    }

    #[test]
    fn a_run_reads_back_as_it_was_written() {
        let run = Run::new("x", Some("x 1.0".into()), vec![failed()]);
        let back = Run::parse(Path::new("run.json"), &run.to_json()).unwrap();
        assert_eq!(back.implementation_version.as_deref(), Some("x 1.0"));
        assert_eq!(back.summary, run.summary);
        assert_eq!(back.results[0].failure, run.results[0].failure);
        assert_eq!(back.results[0].duration, Duration::from_micros(1500));
        assert_eq!(back.results[0].status, Status::Fail);
    }

    #[test]
    fn a_run_of_another_version_is_refused_naming_both_versions() {
        let text = run_text().replace("\"format_version\": 1", "\"format_version\": 7");
        let e = Run::parse(Path::new("old.json"), &text).unwrap_err();
        let message = e.to_string();
        assert!(
            message.starts_with("old.json: the run's format_version is 7"),
            "{message}"
        );
        assert!(message.contains("reads version 1"), "{message}");
    }

    #[test]
    fn a_broken_run_is_refused_with_its_line_and_column() {
        let text = run_text().replace("\"status\": \"fail\"", "\"status\": \"maybe\"");
        let message = Run::parse(Path::new("r.json"), &text)
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("r.json:"), "{message}");
        assert!(message.contains("unknown variant `maybe`"), "{message}");
        let line: usize = message.split(':').nth(1).unwrap().parse().unwrap();
        assert!(
            text.lines().nth(line - 1).unwrap().contains("maybe"),
            "{message}"
        );
    }

    #[test]
    fn a_file_without_format_version_is_refused_saying_what_a_run_is() {
        let message = Run::parse(Path::new("r.json"), "{\"results\": []}")
            .unwrap_err()
            .to_string();
        assert!(message.contains("no `format_version`"), "{message}");
        assert!(Run::parse(Path::new("r.json"), "not json").is_err());
    }

    #[test]
    fn a_negative_duration_is_refused() {
        let text = run_text().replace("\"duration_ms\": 1.5", "\"duration_ms\": -1.0");
        let message = Run::parse(Path::new("r.json"), &text)
            .unwrap_err()
            .to_string();
        assert!(message.contains("duration_ms -1"), "{message}");
    }

    fn run_text() -> String {
        Run::new("x", None, vec![failed()]).to_json()
    }
}
