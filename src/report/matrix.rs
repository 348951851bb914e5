//! The conformance matrix: several implementations' results side by side, as Markdown (for a
//! README). The HTML report is the site (`site`).

use super::look::look;
use super::Summary;
use crate::requirements::Requirements;
use crate::runner::{ScenarioResult, Status};
use std::collections::{BTreeMap, BTreeSet};

/// Scenarios (rows) × implementations (columns), with each scenario's requirements.
#[derive(Clone, Debug)]
pub struct Matrix {
    implementations: Vec<String>,
    summaries: Vec<Summary>,
    rows: Vec<Row>,
}

#[derive(Clone, Debug)]
struct Row {
    scenario: String,
    title: String,
    requirements: Vec<RequirementRef>,
    /// One per implementation, in column order; `None` where it did not run the scenario.
    cells: Vec<Option<ScenarioResult>>,
}

#[derive(Clone, Debug)]
struct RequirementRef {
    id: String,
    /// `None` when the spec does not define the id.
    title: Option<String>,
}

impl Matrix {
    /// Builds the matrix of `runs`, each an implementation's name and its results.
    ///
    /// Rows are the union of the scenario ids, sorted; columns are the implementations in the
    /// order given. Requirement titles come from `requirements` where the spec defines the id.
    pub fn new(runs: Vec<(String, Vec<ScenarioResult>)>, requirements: &Requirements) -> Matrix {
        let ids: BTreeSet<String> = runs
            .iter()
            .flat_map(|(_, results)| results.iter().map(|r| r.scenario.clone()))
            .collect();
        let mut rows: BTreeMap<String, Row> = ids
            .into_iter()
            .map(|id| {
                let row = Row {
                    scenario: id.clone(),
                    title: String::new(),
                    requirements: Vec::new(),
                    cells: vec![None; runs.len()],
                };
                (id, row)
            })
            .collect();
        let mut implementations = Vec::with_capacity(runs.len());
        let mut summaries = Vec::with_capacity(runs.len());
        for (column, (implementation, results)) in runs.into_iter().enumerate() {
            summaries.push(Summary::of(&results));
            implementations.push(implementation);
            for result in results {
                let Some(row) = rows.get_mut(&result.scenario) else {
                    continue;
                };
                // Every run loaded the same fixture, but take the first non-empty description in
                // case one run's results were produced from an older copy.
                if row.title.is_empty() {
                    row.title = result.title.clone();
                }
                if row.requirements.is_empty() {
                    row.requirements = result
                        .requirements
                        .iter()
                        .map(|id| RequirementRef {
                            id: id.clone(),
                            title: requirements.get(id).map(|r| r.title.clone()),
                        })
                        .collect();
                }
                row.cells[column] = Some(result);
            }
        }
        Matrix {
            implementations,
            summaries,
            rows: rows.into_values().collect(),
        }
    }

    /// The implementations, in column order.
    pub fn implementations(&self) -> &[String] {
        &self.implementations
    }

    /// The scenario ids, in row order.
    pub fn scenarios(&self) -> impl Iterator<Item = &str> {
        self.rows.iter().map(|r| r.scenario.as_str())
    }

    /// The status of `scenario` on `implementation`; `None` if it did not run there.
    pub fn status(&self, scenario: &str, implementation: &str) -> Option<Status> {
        let column = self
            .implementations
            .iter()
            .position(|i| i == implementation)?;
        let row = self.rows.iter().find(|r| r.scenario == scenario)?;
        row.cells[column].as_ref().map(|r| r.status)
    }

    /// A summary table (implementation × count of each status), then the full table (scenario,
    /// requirements, one column per implementation), as GitHub-flavoured Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::from("| implementation | scenarios |");
        for status in Status::ALL {
            out.push_str(&format!(" {} |", look(status).word));
        }
        out.push_str("\n|:--|--:|");
        out.push_str(&"--:|".repeat(Status::ALL.len()));
        out.push('\n');
        for (implementation, summary) in self.implementations.iter().zip(&self.summaries) {
            out.push_str(&format!(
                "| {} | {} |",
                markdown_text(implementation),
                summary.total
            ));
            for status in Status::ALL {
                out.push_str(&format!(" {} |", count(summary, status)));
            }
            out.push('\n');
        }

        out.push_str("\n| scenario | requirements |");
        for implementation in &self.implementations {
            out.push_str(&format!(" {} |", markdown_text(implementation)));
        }
        out.push_str("\n|:--|:--|");
        out.push_str(&":--|".repeat(self.implementations.len()));
        out.push('\n');
        for row in &self.rows {
            let requirements: Vec<String> = row
                .requirements
                .iter()
                .map(|r| match &r.title {
                    Some(title) => format!("{} {}", markdown_code(&r.id), markdown_text(title)),
                    None => markdown_code(&r.id),
                })
                .collect();
            out.push_str(&format!(
                "| {} | {} |",
                markdown_code(&row.scenario),
                requirements.join("<br>")
            ));
            for cell in &row.cells {
                match cell {
                    Some(result) => {
                        let look = look(result.status);
                        out.push_str(&format!(" {} {} |", look.symbol, look.word));
                    }
                    None => out.push_str(" not run |"),
                }
            }
            out.push('\n');
        }
        out
    }
}

fn count(summary: &Summary, status: Status) -> usize {
    match status {
        Status::Pass => summary.passed,
        Status::Fail => summary.failed,
        Status::ExpectedFail => summary.expected_failures,
        Status::UnexpectedPass => summary.unexpected_passes,
        Status::Unsupported => summary.unsupported,
        Status::Skip => summary.skipped,
        Status::Error => summary.errors,
        Status::Timeout => summary.timeouts,
        Status::Interrupted => summary.interrupted,
    }
}

/// `text` in a Markdown table cell: `<` and `&` escaped because GitHub renders inline HTML (quotes
/// stay readable, they mean nothing outside a tag), `|` would end the cell and a newline the row.
fn markdown_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace('\n', " ")
}

/// `text` as inline code in a Markdown table cell; GitHub unescapes `\|` even inside code.
fn markdown_code(text: &str) -> String {
    format!("`{}`", text.replace('|', "\\|").replace('\n', " "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::time::Duration;

    fn result(id: &str, implementation: &str, status: Status) -> ScenarioResult {
        ScenarioResult {
            scenario: id.to_string(),
            title: format!("title of {id}"),
            path: format!("fixtures/{id}.yaml"),
            requirements: vec!["tcp.bind.in-use".to_string(), "no.such.id".to_string()],
            implementation: implementation.to_string(),
            status,
            duration: Duration::from_millis(3),
            failure: None,
            reason: None,
            expectation: None,
        }
    }

    fn spec() -> Requirements {
        let mut r = Requirements::default();
        r.add_file(
            Path::new("spec/tcp.md"),
            "### `tcp.bind.in-use` — Binding a \"held\" port fails\n**Level:** MUST\n",
        )
        .unwrap();
        r
    }

    fn two_runs() -> Matrix {
        Matrix::new(
            vec![
                (
                    "reference".to_string(),
                    vec![
                        result("udp/b", "reference", Status::Pass),
                        result("tcp/a", "reference", Status::Pass),
                    ],
                ),
                (
                    "std".to_string(),
                    vec![
                        result("tcp/a", "std", Status::Fail),
                        result("unix/c", "std", Status::Unsupported),
                    ],
                ),
            ],
            &spec(),
        )
    }

    #[test]
    fn rows_are_the_sorted_union_of_scenarios_and_columns_keep_the_given_order() {
        let m = two_runs();
        assert_eq!(
            m.scenarios().collect::<Vec<_>>(),
            ["tcp/a", "udp/b", "unix/c"]
        );
        assert_eq!(m.implementations(), ["reference", "std"]);
        assert_eq!(m.status("tcp/a", "std"), Some(Status::Fail));
        assert_eq!(m.status("udp/b", "std"), None);
    }

    #[test]
    fn markdown_has_a_summary_then_a_row_per_scenario_with_requirement_titles() {
        let md = two_runs().markdown();
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(
            lines[0],
            "| implementation | scenarios | pass | FAIL | xfail | XPASS | unsupported | skip | ERROR | TIMEOUT | INTR |"
        );
        assert_eq!(
            lines[2],
            "| reference | 2 | 2 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |"
        );
        assert_eq!(lines[3], "| std | 2 | 0 | 1 | 0 | 0 | 1 | 0 | 0 | 0 | 0 |");
        assert_eq!(lines[5], "| scenario | requirements | reference | std |");
        assert_eq!(
            lines[7],
            "| `tcp/a` | `tcp.bind.in-use` Binding a \"held\" port fails<br>`no.such.id` | ✓ pass | ✗ FAIL |"
        );
        assert!(lines[8].ends_with("| ✓ pass | not run |"), "{md}");
    }

    #[test]
    fn a_pipe_in_markdown_text_does_not_split_the_cell() {
        let m = Matrix::new(
            vec![("a|b".to_string(), vec![result("x/y", "a|b", Status::Pass)])],
            &Requirements::default(),
        );
        assert!(m.markdown().contains("| a\\|b |"), "{}", m.markdown());
    }
}
