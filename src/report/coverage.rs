//! Requirement coverage: which scenarios check each requirement of the spec.

use crate::requirements::{Level, Requirements};
use crate::scenario::Scenario;
use serde::Serialize;

/// One requirement and the scenarios that cite it.
#[derive(Clone, Debug, Serialize)]
pub struct Covered {
    /// The requirement id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its level, when the spec states one.
    pub level: Option<String>,
    /// `file:line` of its definition.
    pub defined_at: String,
    /// Ids of the scenarios that cite it.
    pub scenarios: Vec<String>,
}

/// Coverage of a spec by a set of scenarios.
#[derive(Clone, Debug, Serialize)]
pub struct Coverage {
    /// Every requirement, by id.
    pub requirements: Vec<Covered>,
    /// Scenario citations of ids the spec does not define, as (scenario id, requirement id).
    pub unknown: Vec<(String, String)>,
}

impl Coverage {
    /// Computes coverage.
    pub fn of(requirements: &Requirements, scenarios: &[Scenario]) -> Coverage {
        let covered = requirements
            .iter()
            .map(|r| Covered {
                id: r.id.clone(),
                title: r.title.clone(),
                level: r.level.map(|l: Level| l.to_string()),
                defined_at: format!("{}:{}", r.file.display(), r.line),
                scenarios: scenarios
                    .iter()
                    .filter(|s| s.requirements.contains(&r.id))
                    .map(|s| s.id.clone())
                    .collect(),
            })
            .collect();
        let unknown = scenarios
            .iter()
            .flat_map(|s| {
                s.requirements
                    .iter()
                    .filter(|id| !requirements.contains(id))
                    .map(|id| (s.id.clone(), id.clone()))
            })
            .collect();
        Coverage {
            requirements: covered,
            unknown,
        }
    }

    /// The requirements no scenario checks.
    pub fn uncovered(&self) -> impl Iterator<Item = &Covered> {
        self.requirements.iter().filter(|c| c.scenarios.is_empty())
    }

    /// True when every requirement is checked and every citation exists.
    pub fn is_complete(&self) -> bool {
        self.uncovered().next().is_none() && self.unknown.is_empty()
    }

    /// The share of requirements checked, in percent.
    pub fn percent(&self) -> f64 {
        match self.requirements.len() {
            0 => 100.0,
            n => 100.0 * (n - self.uncovered().count()) as f64 / n as f64,
        }
    }

    /// A table for people: one line per requirement, then the gaps, then a summary.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for c in &self.requirements {
            let level = c.level.as_deref().unwrap_or("-");
            let by = if c.scenarios.is_empty() {
                "NOT COVERED".to_string()
            } else {
                c.scenarios.join(", ")
            };
            out.push_str(&format!("{:<48} {:<6} {by}\n", c.id, level));
        }
        for c in self.uncovered() {
            out.push_str(&format!(
                "\nuncovered: {} ({}) {}",
                c.id, c.defined_at, c.title
            ));
        }
        for (scenario, id) in &self.unknown {
            out.push_str(&format!(
                "\nunknown: scenario {scenario} cites `{id}`, which the spec does not define"
            ));
        }
        let covered = self.requirements.len() - self.uncovered().count();
        out.push_str(&format!(
            "\n{covered} of {} requirements covered ({:.1} %)\n",
            self.requirements.len(),
            self.percent()
        ));
        out
    }
}
