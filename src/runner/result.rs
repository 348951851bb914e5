//! What running a scenario produced.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// A scenario's verdict.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every step did what it was expected to.
    Pass,
    /// A step did something else.
    Fail,
    /// It failed as the implementation's expectations file says it does (a known deviation).
    ExpectedFail,
    /// It passed although the expectations file says it fails: the entry is stale.
    UnexpectedPass,
    /// The implementation lacks something the scenario needs.
    Unsupported,
    /// Not run: the expectations file says to skip it.
    Skip,
    /// The scenario could not be run, or the implementation itself failed.
    Error,
    /// A step, or the whole scenario, did not finish within its time limit.
    Timeout,
    /// The run was stopped (SIGINT, SIGTERM) while this scenario ran.
    Interrupted,
}

impl Status {
    /// Every status, in report order.
    pub const ALL: [Status; 9] = [
        Status::Pass,
        Status::Fail,
        Status::ExpectedFail,
        Status::UnexpectedPass,
        Status::Unsupported,
        Status::Skip,
        Status::Error,
        Status::Timeout,
        Status::Interrupted,
    ];

    /// True for the statuses that make a run fail.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Status::Fail
                | Status::UnexpectedPass
                | Status::Error
                | Status::Timeout
                | Status::Interrupted
        )
    }

    /// The name used in reports and expectation files (`expected-fail`).
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::ExpectedFail => "expected-fail",
            Status::UnexpectedPass => "unexpected-pass",
            Status::Unsupported => "unsupported",
            Status::Skip => "skip",
            Status::Error => "error",
            Status::Timeout => "timeout",
            Status::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of failure a step had.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The call returned something other than expected.
    Mismatch,
    /// The call, or a wait for another actor, did not finish within the step's time limit.
    Timeout,
    /// The implementation said, when called, that it cannot express the step.
    Unsupported,
    /// The implementation itself failed (crashed, hung up, answered garbage).
    Broken,
}

/// Where and how a scenario went wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Failure {
    /// Mismatch or timeout.
    pub kind: FailureKind,
    /// The actor whose step failed.
    pub actor: String,
    /// The step's number in its actor, from 1.
    pub step: usize,
    /// The step's operation (`accept`).
    pub op: String,
    /// `file:line` of the step.
    pub location: String,
    /// What the scenario expected.
    pub expected: String,
    /// What happened.
    pub actual: String,
    /// More: a data diff, the implementation's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Failure {
    /// The failure of `actor`'s step at `index` (from 0) in `scenario`, located at its line.
    pub(crate) fn of_step(
        kind: FailureKind,
        scenario: &crate::scenario::Scenario,
        actor: &crate::scenario::Actor,
        index: usize,
        expected: String,
        actual: String,
        detail: Option<String>,
    ) -> Failure {
        let step = &actor.steps[index];
        Failure {
            kind,
            actor: actor.name.clone(),
            step: index + 1,
            op: step.op.name().to_string(),
            location: format!("{}:{}", scenario.path.display(), step.location.line),
            expected,
            actual,
            detail,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "actor {}, step {} ({}, {}): ",
            self.actor, self.step, self.op, self.location
        )?;
        match self.kind {
            FailureKind::Mismatch => write!(f, "expected {}, got {}", self.expected, self.actual)?,
            FailureKind::Timeout | FailureKind::Unsupported | FailureKind::Broken => {
                write!(f, "{}", self.actual)?
            }
        }
        if let Some(detail) = &self.detail {
            write!(f, "\n  {}", detail.replace('\n', "\n  "))?;
        }
        Ok(())
    }
}

/// The result of one scenario against one implementation.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScenarioResult {
    /// The scenario's id (`tcp/echo`).
    pub scenario: String,
    /// Its title.
    pub title: String,
    /// Its file.
    pub path: String,
    /// The requirement ids it checks.
    pub requirements: Vec<String>,
    /// The implementation it ran against.
    pub implementation: String,
    /// The verdict.
    pub status: Status,
    /// How long it took.
    #[serde(
        rename = "duration_ms",
        serialize_with = "millis",
        deserialize_with = "from_millis"
    )]
    #[schemars(with = "f64")]
    pub duration: Duration,
    /// For `fail` and `timeout`: the step that went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// For `unsupported`, `error` and scenario-level `timeout`: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For `expected-fail`, `unexpected-pass` and `skip`: the expectation entry's reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expectation: Option<String>,
}

impl ScenarioResult {
    /// A result for `scenario` on `implementation`, not yet run (status `skip`).
    pub fn new(scenario: &crate::scenario::Scenario, implementation: &str) -> ScenarioResult {
        ScenarioResult {
            scenario: scenario.id.clone(),
            title: scenario.title.clone(),
            path: scenario.path.display().to_string(),
            requirements: scenario.requirements.clone(),
            implementation: implementation.to_string(),
            status: Status::Skip,
            duration: Duration::ZERO,
            failure: None,
            reason: None,
            expectation: None,
        }
    }

    /// The failure or reason, as one text (empty for a pass).
    pub fn explanation(&self) -> String {
        match (&self.failure, &self.reason) {
            (Some(f), Some(r)) => format!("{f}\n{r}"),
            (Some(f), None) => f.to_string(),
            (None, Some(r)) => r.clone(),
            (None, None) => String::new(),
        }
    }
}

/// A duration written as milliseconds (`duration_ms`); a negative or non-finite one is refused.
fn from_millis<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let ms = f64::deserialize(d)?;
    Duration::try_from_secs_f64(ms / 1000.0).map_err(|_| {
        serde::de::Error::custom(format!(
            "duration_ms {ms} is not a duration (milliseconds, 0 or more)"
        ))
    })
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0)
}
