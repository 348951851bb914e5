//! The conformance matrix: several implementations' results side by side, as Markdown (for a
//! README) or as one self-contained HTML page.

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

    /// One self-contained HTML page (inline CSS, no scripts, no external resources): the summary
    /// table, a legend, then the matrix with a coloured cell per result under a sticky header;
    /// every cell that is not a plain pass expands (`<details>`) to show the failure or reason.
    pub fn html(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        out.push_str(concat!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            "<title>sockspec conformance matrix</title>\n<style>\n"
        ));
        out.push_str(STYLE);
        out.push_str("</style>\n</head>\n<body>\n<header>\n<h1>Conformance matrix</h1>\n");
        out.push_str(&format!(
            "<p class=\"note\">Generated by sockspec {}: {} scenario{} against {}. \
             Click a status to see why.</p>\n</header>\n<main>\n",
            env!("CARGO_PKG_VERSION"),
            self.rows.len(),
            if self.rows.len() == 1 { "" } else { "s" },
            self.implementation_list()
        ));
        self.html_summary(&mut out);
        out.push_str("<h2>Scenarios</h2>\n");
        html_legend(&mut out);
        self.html_matrix(&mut out);
        out.push_str("</main>\n</body>\n</html>\n");
        out
    }

    /// `a, b and c`, each in `<b>`.
    fn implementation_list(&self) -> String {
        let names: Vec<String> = self
            .implementations
            .iter()
            .map(|i| format!("<b>{}</b>", escape(i)))
            .collect();
        match names.split_last() {
            None => "no implementation".to_string(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        }
    }

    fn html_summary(&self, out: &mut String) {
        out.push_str(
            "<h2>Summary</h2>\n<table class=\"summary\">\n<thead><tr><th>implementation</th>\
             <th class=\"num\">scenarios</th>",
        );
        for status in Status::ALL {
            out.push_str(&format!("<th class=\"num\">{}</th>", status.name()));
        }
        out.push_str("<th class=\"dist\">distribution</th></tr></thead>\n<tbody>\n");
        for (implementation, summary) in self.implementations.iter().zip(&self.summaries) {
            out.push_str(&format!(
                "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td>",
                escape(implementation),
                summary.total
            ));
            for status in Status::ALL {
                let n = count(summary, status);
                if n == 0 {
                    out.push_str("<td class=\"num zero\">0</td>");
                } else {
                    out.push_str(&format!(
                        "<td class=\"num\"><span class=\"count {}\">{n}</span></td>",
                        look(status).class
                    ));
                }
            }
            out.push_str("<td class=\"dist\"><div class=\"bar\">");
            for status in Status::ALL {
                let n = count(summary, status);
                if n > 0 {
                    out.push_str(&format!(
                        "<span class=\"{}\" style=\"width:{:.3}%\" title=\"{n} {}\"></span>",
                        look(status).class,
                        100.0 * n as f64 / summary.total as f64,
                        status.name()
                    ));
                }
            }
            out.push_str("</div></td></tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
    }

    fn html_matrix(&self, out: &mut String) {
        out.push_str(
            "<table class=\"matrix\">\n<thead><tr>\
             <th class=\"scenario\">scenario</th><th class=\"reqs\">requirements</th>",
        );
        // The implementations share what the scenario and requirement columns leave, equally, so
        // no column looks more important than another.
        let width = 54.0 / self.implementations.len().max(1) as f64;
        for implementation in &self.implementations {
            out.push_str(&format!(
                "<th class=\"impl\" style=\"width:{width:.2}%\">{}</th>",
                escape(implementation)
            ));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        let mut area = None;
        for row in &self.rows {
            // A heading row per area (`tcp`, `udp`) so a long matrix can be scanned.
            let this_area = row.scenario.split('/').next().unwrap_or_default();
            if area != Some(this_area) {
                area = Some(this_area);
                out.push_str(&format!(
                    "<tr class=\"area\"><th colspan=\"{}\">{}</th></tr>\n",
                    self.implementations.len() + 2,
                    escape(this_area)
                ));
            }
            // The id lets a link point at a scenario's row (`matrix.html#scenario-tcp/echo`).
            out.push_str(&format!(
                "<tr id=\"scenario-{0}\"><td class=\"scenario\"><code>{0}</code>",
                escape(&row.scenario)
            ));
            if !row.title.is_empty() {
                out.push_str(&format!(
                    "<div class=\"title\">{}</div>",
                    escape(&row.title)
                ));
            }
            out.push_str("</td><td class=\"reqs\">");
            for requirement in &row.requirements {
                let (class, title) = match &requirement.title {
                    Some(title) => ("req", title.as_str()),
                    None => ("req unknown", "not defined in the spec"),
                };
                out.push_str(&format!(
                    "<code class=\"{class}\" title=\"{}\">{}</code> ",
                    escape(title),
                    escape(&requirement.id)
                ));
            }
            out.push_str("</td>");
            for (implementation, cell) in self.implementations.iter().zip(&row.cells) {
                match cell {
                    Some(result) => html_cell(out, implementation, result),
                    None => out.push_str(&format!(
                        "<td class=\"cell s-none\" title=\"{} did not run this scenario\">not run</td>",
                        escape(implementation)
                    )),
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
    }
}

/// What each cell colour and word means.
fn html_legend(out: &mut String) {
    out.push_str("<section class=\"legend\" aria-label=\"Legend\">\n<ul>\n");
    for status in Status::ALL {
        let look = look(status);
        out.push_str(&format!(
            "<li><span class=\"chip {}\"><span class=\"sym\">{}</span> {}</span> {}</li>\n",
            look.class,
            look.symbol,
            look.word,
            escape(look.meaning)
        ));
    }
    out.push_str("</ul>\n</section>\n");
}

/// One result's cell: the status, and for anything but a pass, a `<details>` saying why.
fn html_cell(out: &mut String, implementation: &str, result: &ScenarioResult) {
    let look = look(result.status);
    let ms = result.duration.as_millis();
    out.push_str(&format!(
        "<td class=\"cell {}\" title=\"{} on {}: {}, {ms} ms\">",
        look.class,
        escape(&result.scenario),
        escape(implementation),
        result.status.name()
    ));
    let label = format!(
        "<span class=\"sym\">{}</span> {}<span class=\"ms\">{ms} ms</span>",
        look.symbol, look.word
    );
    let why = explanation_html(result);
    if why.is_empty() {
        out.push_str(&label);
    } else {
        out.push_str(&format!(
            "<details><summary>{label}</summary><div class=\"why\">{why}</div></details>"
        ));
    }
    out.push_str("</td>");
}

/// The failure's fields, the reason and the expectation entry, as HTML; empty for a plain pass.
fn explanation_html(result: &ScenarioResult) -> String {
    let mut out = String::new();
    if result.status == Status::UnexpectedPass {
        out.push_str(
            "<p class=\"reason\">Passed, but the expectations file says it fails: \
             the entry is stale.</p>",
        );
    }
    if let Some(failure) = &result.failure {
        out.push_str("<dl>");
        let mut field = |name: &str, value: &str, pre: bool| {
            if value.is_empty() {
                return;
            }
            let value = escape(value);
            if pre {
                out.push_str(&format!("<dt>{name}</dt><dd><pre>{value}</pre></dd>"));
            } else {
                out.push_str(&format!("<dt>{name}</dt><dd>{value}</dd>"));
            }
        };
        field("actor", &failure.actor, false);
        field("step", &failure.step.to_string(), false);
        field("op", &failure.op, false);
        field("location", &failure.location, false);
        field("expected", &failure.expected, true);
        field("actual", &failure.actual, true);
        if let Some(detail) = &failure.detail {
            field("detail", detail, true);
        }
        out.push_str("</dl>");
    }
    if let Some(reason) = &result.reason {
        out.push_str(&format!("<p class=\"reason\">{}</p>", escape(reason)));
    }
    if let Some(expectation) = &result.expectation {
        out.push_str(&format!(
            "<p class=\"expectation\"><b>expectation:</b> {}</p>",
            escape(expectation)
        ));
    }
    out
}

/// How a status is shown: a word, a symbol (no emoji, so it renders the same everywhere), a CSS
/// class and what it means.
struct Look {
    word: &'static str,
    symbol: &'static str,
    class: &'static str,
    meaning: &'static str,
}

fn look(status: Status) -> Look {
    let (word, symbol, class, meaning) = match status {
        Status::Pass => (
            "pass",
            "✓",
            "s-pass",
            "every step did what it was expected to",
        ),
        Status::Fail => ("FAIL", "✗", "s-fail", "a step did something else"),
        Status::ExpectedFail => (
            "xfail",
            "~",
            "s-xfail",
            "fails, as the expectations file says (a known deviation)",
        ),
        Status::UnexpectedPass => (
            "XPASS",
            "!",
            "s-xpass",
            "passes, but the expectations file says it fails (a stale entry)",
        ),
        Status::Unsupported => (
            "unsupported",
            "∅",
            "s-unsupported",
            "the implementation lacks something the scenario needs",
        ),
        Status::Skip => (
            "skip",
            "–",
            "s-skip",
            "not run: the expectations file says to skip it",
        ),
        Status::Error => (
            "ERROR",
            "✗",
            "s-error",
            "could not be run, or the implementation itself failed",
        ),
        Status::Timeout => (
            "TIMEOUT",
            "◷",
            "s-timeout",
            "a step or the scenario did not finish in time",
        ),
        Status::Interrupted => (
            "INTR",
            "⏹",
            "s-interrupted",
            "the run was stopped (SIGINT or SIGTERM) while it ran",
        ),
    };
    Look {
        word,
        symbol,
        class,
        meaning,
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

/// `text` safe in HTML text and in quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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

const STYLE: &str = r#":root {
  --pass-bg: #e2f3e6; --pass-fg: #14622c; --pass-solid: #2f9e4f;
  --bad-bg: #fde3e0; --bad-fg: #a1160c; --bad-solid: #d93a2b;
  --xfail-bg: #fdf0cf; --xfail-fg: #765000; --xfail-solid: #e0a21b;
  --grey-bg: #eceff2; --grey-fg: #57606a; --grey-solid: #a3abb5;
  --line: #d8dde3; --head: #f5f7f9; --text: #1f2328; --muted: #656d76;
}
* { box-sizing: border-box; }
body { margin: 0; color: var(--text); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { padding: 20px 32px 4px; }
main { padding: 0 32px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 10px; }
.note { color: var(--muted); margin: 0; }
code, pre { font-family: ui-monospace, SFMono-Regular, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
table { border-collapse: separate; border-spacing: 0; }
th, td { text-align: left; vertical-align: top; padding: 6px 10px;
  border-bottom: 1px solid var(--line); }
thead th { background: var(--head); font-weight: 600; border-bottom: 2px solid var(--line); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.legend ul { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 6px 22px;
  list-style: none; margin: 0 0 14px;
  padding: 10px 14px; background: var(--head); border: 1px solid var(--line); border-radius: 6px;
  color: var(--muted); font-size: 12.5px; }
.legend li { display: grid; grid-template-columns: 8.5rem 1fr; align-items: baseline; gap: 10px; }
.chip, .count { display: inline-block; border-radius: 4px; padding: 0 7px; font-weight: 600;
  white-space: nowrap; }
.sym { display: inline-block; width: 1.1em; text-align: center; }
.summary { border: 1px solid var(--line); border-radius: 6px; overflow: hidden; }
.summary th, .summary td { padding: 6px 12px; }
.summary tbody tr:last-child > * { border-bottom: none; }
.summary .zero { color: #b8bfc7; }
.summary .dist { width: 240px; }
.bar { display: flex; height: 12px; margin-top: 4px; border-radius: 3px; overflow: hidden;
  background: var(--grey-bg); }
.bar .s-pass { background: var(--pass-solid); }
.bar .s-fail, .bar .s-xpass, .bar .s-error, .bar .s-timeout, .bar .s-interrupted { background: var(--bad-solid); }
.bar .s-xfail { background: var(--xfail-solid); }
.bar .s-unsupported, .bar .s-skip { background: var(--grey-solid); }
.matrix { width: 100%; border: 1px solid var(--line); border-radius: 6px; }
.matrix thead th { position: sticky; top: 0; z-index: 2; }
.matrix thead th:first-child { border-top-left-radius: 6px; }
.matrix thead th:last-child { border-top-right-radius: 6px; }
.matrix th.scenario { width: 24%; }
.matrix th.reqs { width: 22%; }
.matrix tr.area th { background: #fafbfc; color: var(--muted); font-size: 12px; font-weight: 600;
  text-transform: uppercase; letter-spacing: .06em; padding: 10px 10px 4px; }
.matrix td.scenario code { font-weight: 600; }
.matrix .title { color: var(--muted); font-size: 12.5px; }
.req { display: inline-block; margin: 1px 4px 1px 0; padding: 0 5px; border-radius: 3px;
  background: #eef2f7; color: #2b4a6f; font-size: 11.5px; cursor: help; }
.req.unknown { background: #fff; border: 1px dashed var(--grey-solid); color: var(--muted); }
.cell { min-width: 150px; border-left: 1px solid #fff; font-weight: 600; }
.cell .ms { float: right; margin-left: 10px; color: var(--muted); font-weight: 400; font-size: 11.5px;
  opacity: .8; }
.s-pass { background: var(--pass-bg); color: var(--pass-fg); }
.s-fail, .s-xpass, .s-error, .s-timeout, .s-interrupted { background: var(--bad-bg); color: var(--bad-fg); }
.s-xfail { background: var(--xfail-bg); color: var(--xfail-fg); }
.s-unsupported, .s-skip { background: var(--grey-bg); color: var(--grey-fg); }
.s-none { background: #fff; color: #b8bfc7; font-weight: 400; font-style: italic; }
details > summary { cursor: pointer; list-style: none; }
details > summary::-webkit-details-marker { display: none; }
details > summary::after { content: "\25B8"; margin-left: 6px; font-size: 11px; opacity: .7; }
details[open] > summary::after { content: "\25BE"; }
details[open] { min-width: 26em; }
.why { margin-top: 8px; padding: 8px 10px; background: #fff; color: var(--text); font-weight: 400;
  border: 1px solid var(--line); border-radius: 4px; font-size: 12.5px; }
.why dl { display: grid; grid-template-columns: max-content 1fr; gap: 3px 10px; margin: 0; }
.why dt { color: var(--muted); }
.why dd { margin: 0; min-width: 0; }
.why pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f8fa;
  padding: 2px 5px; border-radius: 3px; }
.why p { margin: 6px 0 0; overflow-wrap: anywhere; }
.why p:first-child { margin-top: 0; }
.why .expectation { color: var(--muted); }
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{Failure, FailureKind};
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

    #[test]
    fn escape_replaces_every_markup_character() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn a_failures_text_appears_escaped_in_its_cell() {
        let mut r = result("tcp/a", "std", Status::Fail);
        r.failure = Some(Failure {
            kind: FailureKind::Mismatch,
            actor: "server".to_string(),
            step: 6,
            op: "recv".to_string(),
            location: "fixtures/tcp/a.yaml:21".to_string(),
            expected: "<4 bytes>".to_string(),
            actual: "data \"hello\" & more".to_string(),
            detail: Some("byte 4: expected none, got 'o'".to_string()),
        });
        let html = Matrix::new(vec![("std".to_string(), vec![r])], &spec()).html();
        assert!(html.contains("<details><summary>"), "{html}");
        for text in [
            "&lt;4 bytes&gt;",
            "data &quot;hello&quot; &amp; more",
            "got &#39;o&#39;",
            "fixtures/tcp/a.yaml:21",
            "<dt>actor</dt><dd>server</dd>",
        ] {
            assert!(html.contains(text), "{text} missing in {html}");
        }
        assert!(!html.contains("<4 bytes>"), "{html}");
    }

    #[test]
    fn every_status_maps_to_a_styled_cell_class() {
        for status in Status::ALL {
            let class = look(status).class;
            assert!(STYLE.contains(&format!(".{class}")), "{class} has no style");
            let html = Matrix::new(
                vec![("x".to_string(), vec![result("a/b", "x", status)])],
                &Requirements::default(),
            )
            .html();
            assert!(
                html.contains(&format!("<td class=\"cell {class}\"")),
                "{html}"
            );
        }
    }

    #[test]
    fn status_classes_are_distinct() {
        let classes: BTreeSet<&str> = Status::ALL.iter().map(|s| look(*s).class).collect();
        assert_eq!(classes.len(), Status::ALL.len());
    }

    #[test]
    fn the_page_is_self_contained() {
        let html = two_runs().html();
        assert!(html.starts_with("<!DOCTYPE html>"));
        for external in ["<script", "<link", "src=", "http://", "https://", "@import"] {
            assert!(!html.contains(external), "{external} in {html}");
        }
    }

    #[test]
    fn requirement_titles_are_title_attributes_and_unknown_ids_are_marked() {
        let html = two_runs().html();
        assert!(
            html.contains(
                "<code class=\"req\" title=\"Binding a &quot;held&quot; port fails\">tcp.bind.in-use</code>"
            ),
            "{html}"
        );
        assert!(
            html.contains(
                "<code class=\"req unknown\" title=\"not defined in the spec\">no.such.id</code>"
            ),
            "{html}"
        );
    }

    #[test]
    fn reasons_and_expectations_are_shown_for_non_failures() {
        let mut unsupported = result("a/u", "x", Status::Unsupported);
        unsupported.reason = Some("no AF_UNIX".to_string());
        let mut xfail = result("a/x", "x", Status::ExpectedFail);
        xfail.expectation = Some("SO_LINGER unsupported".to_string());
        let html = Matrix::new(
            vec![("x".to_string(), vec![unsupported, xfail])],
            &Requirements::default(),
        )
        .html();
        assert!(
            html.contains("<p class=\"reason\">no AF_UNIX</p>"),
            "{html}"
        );
        assert!(html.contains("SO_LINGER unsupported"), "{html}");
    }
}
