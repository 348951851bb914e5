//! The Markdown summary, for a pull-request comment or a CI job summary: counts per
//! implementation, then every failure with its message, within what such a comment may hold.

use super::Run;
use crate::runner::ScenarioResult;
use std::fmt::Write;

/// GitHub refuses a comment over 65,536 characters; the summary stops short of that, saying how
/// many failures it left out.
const BUDGET: usize = 60_000;
/// The most of one failure's message shown; the rest is in the full report.
const MESSAGE_LIMIT: usize = 2_000;

/// The summary of `runs`: a table of counts per implementation, then each failure (a status that
/// fails a run: fail, unexpected-pass, error, timeout, interrupted) with its message.
pub fn markdown_summary(runs: &[Run]) -> String {
    let mut out = String::from("## sockspec\n\n");
    out.push_str(
        "| implementation | scenarios | pass | fail | xfail | XPASS | unsupported | skip | error | timeout |\n",
    );
    out.push_str("|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for run in runs {
        let s = &run.summary;
        let _ = writeln!(
            out,
            "| {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell_text(&run.implementation),
            run.implementation_version
                .as_deref()
                .map(|v| format!(" ({})", cell_text(v)))
                .unwrap_or_default(),
            s.total,
            s.passed,
            s.failed,
            s.expected_failures,
            s.unexpected_passes,
            s.unsupported,
            s.skipped,
            s.errors,
            s.timeouts + s.interrupted,
        );
    }
    let failures: Vec<&ScenarioResult> = runs
        .iter()
        .flat_map(|run| run.results.iter())
        .filter(|r| r.status.is_failure())
        .collect();
    if failures.is_empty() {
        out.push_str("\nNo failures.\n");
        return out;
    }
    let _ = writeln!(out, "\n### Failures ({})\n", failures.len());
    for (shown, result) in failures.iter().enumerate() {
        let entry = failure_entry(result);
        if out.len() + entry.len() > BUDGET {
            let _ = writeln!(
                out,
                "… and {} more failures, left out to fit a comment: see the full report.",
                failures.len() - shown
            );
            break;
        }
        out.push_str(&entry);
    }
    out
}

/// One failure: its id, status and implementation on a line, its message in a code block.
fn failure_entry(result: &ScenarioResult) -> String {
    let mut message = result.explanation();
    if let Some(expectation) = &result.expectation {
        message.push_str(&format!("\nexpectation: {expectation}"));
    }
    if message.len() > MESSAGE_LIMIT {
        let mut end = MESSAGE_LIMIT;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push_str("\n… (cut; the full message is in the run's JSON)");
    }
    let fence = fence_for(&message);
    format!(
        "- **{}** `{}` on {}: {}\n\n  {fence}text\n{}\n  {fence}\n\n",
        result.status.name(),
        code_text(&result.scenario),
        cell_text(&result.implementation),
        cell_text(&result.title),
        message
            .lines()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// A code fence longer than any run of backticks in `text`, so that nothing in it ends the block.
fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat(longest.max(2) + 1)
}

/// Text in a table cell or a list line: GitHub renders inline HTML, so `<` and `&` are escaped;
/// `|` would end a cell and a newline the row.
fn cell_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// Text inside inline code: a backtick would end it.
fn code_text(text: &str) -> String {
    text.replace('`', "'").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{Failure, FailureKind, Status};
    use std::time::Duration;

    fn result(id: &str, status: Status, actual: &str) -> ScenarioResult {
        ScenarioResult {
            scenario: id.into(),
            title: format!("title of {id}"),
            path: format!("fixtures/{id}.yaml"),
            requirements: vec![],
            implementation: "drv".into(),
            status,
            duration: Duration::from_millis(3),
            failure: (status == Status::Fail).then(|| Failure {
                kind: FailureKind::Mismatch,
                actor: "server".into(),
                step: 3,
                op: "recv".into(),
                location: format!("fixtures/{id}.yaml:9"),
                expected: "data hello".into(),
                actual: actual.into(),
                detail: None,
            }),
            reason: None,
            expectation: None,
        }
    }

    #[test]
    fn counts_come_first_then_each_failure_with_its_message() {
        let run = Run::new(
            "drv",
            Some("drv 2.0".into()),
            vec![
                result("a/ok", Status::Pass, ""),
                result("a/bad", Status::Fail, "data hell"),
                result("a/none", Status::Unsupported, ""),
            ],
        );
        let md = markdown_summary(&[run]);
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(
            lines[4],
            "| drv (drv 2.0) | 3 | 1 | 1 | 0 | 0 | 1 | 0 | 0 | 0 |"
        );
        assert!(md.contains("### Failures (1)"), "{md}");
        assert!(
            md.contains("- **fail** `a/bad` on drv: title of a/bad"),
            "{md}"
        );
        assert!(
            md.contains("  actor server, step 3 (recv, fixtures/a/bad.yaml:9): expected data hello, got data hell"),
            "{md}"
        );
        assert!(!md.contains("a/ok"), "{md}");
    }

    #[test]
    fn a_run_without_failures_says_so() {
        let md = markdown_summary(&[Run::new("r", None, vec![result("x", Status::Pass, "")])]);
        assert!(md.ends_with("\nNo failures.\n"), "{md}");
    }

    #[test]
    fn backticks_in_a_message_cannot_end_its_code_block() {
        let md = markdown_summary(&[Run::new(
            "r",
            None,
            vec![result("x", Status::Fail, "got ```` four")],
        )]);
        assert!(md.contains("  `````text\n"), "{md}");
    }

    #[test]
    fn many_long_failures_stay_within_a_comment_and_say_how_many_were_left_out() {
        let long = "x".repeat(10_000);
        let results: Vec<ScenarioResult> = (0..100)
            .map(|i| result(&format!("f/{i:03}"), Status::Fail, &long))
            .collect();
        let md = markdown_summary(&[Run::new("r", None, results)]);
        assert!(md.len() <= BUDGET, "{}", md.len());
        assert!(
            md.contains("more failures, left out to fit a comment"),
            "{md}"
        );
        assert!(md.contains("… (cut; the full message is in the run's JSON)"));
    }

    #[test]
    fn markup_in_a_title_is_escaped() {
        let mut r = result("x", Status::Fail, "y");
        r.title = "<img src=x onerror=alert(1)> | pipe".into();
        let md = markdown_summary(&[Run::new("r", None, vec![r])]);
        assert!(
            md.contains("&lt;img src=x onerror=alert(1)&gt; \\| pipe"),
            "{md}"
        );
        assert!(!md.contains("<img"), "{md}");
    }
}
