//! The TAP version 14 report (<https://testanything.org/tap-version-14-specification.html>),
//! for harnesses that consume the Test Anything Protocol.

use super::pretty::summary_line;
use crate::runner::{ScenarioResult, Status};

/// `TAP version 14`, the plan `1..N`, then a test point per scenario in the order given.
///
/// `pass` is `ok`; `fail`, `error`, `timeout` and `unexpected-pass` are `not ok` with a YAML
/// diagnostic block; `unsupported` and `skip` are `ok … # SKIP reason`; `expected-fail` is
/// `not ok … # TODO reason`, TAP's way to mark a known failure that does not fail the run.
pub fn tap(implementation: &str, results: &[ScenarioResult]) -> String {
    let mut out = format!("TAP version 14\n1..{}\n", results.len());
    for (index, result) in results.iter().enumerate() {
        out.push_str(&test_point(index + 1, result));
    }
    out.push_str(&format!("# {}\n", summary_line(implementation, results)));
    out
}

fn test_point(number: usize, result: &ScenarioResult) -> String {
    let id = description(&result.scenario);
    match result.status {
        Status::Pass => format!("ok {number} - {id}\n"),
        Status::Unsupported => format!(
            "ok {number} - {id} # SKIP {}\n",
            directive_reason(result.reason.as_deref(), "unsupported")
        ),
        Status::Skip => format!(
            "ok {number} - {id} # SKIP {}\n",
            directive_reason(result.expectation.as_deref(), "skipped")
        ),
        Status::ExpectedFail => {
            let mut point = format!(
                "not ok {number} - {id} # TODO {}\n",
                directive_reason(result.expectation.as_deref(), "known failure")
            );
            point.push_str(&diagnostic(result, &result.explanation(), "todo"));
            point
        }
        Status::UnexpectedPass => {
            let message = format!(
                "passed, but the expectations file says it fails ({}): the entry is stale",
                result.expectation.as_deref().unwrap_or("no reason given")
            );
            format!(
                "not ok {number} - {id}\n{}",
                diagnostic(result, &message, "fail")
            )
        }
        Status::Fail | Status::Error | Status::Timeout | Status::Interrupted => format!(
            "not ok {number} - {id}\n{}",
            diagnostic(result, &result.explanation(), "fail")
        ),
    }
}

/// A test point's description: `#` would start a directive and `\` escapes, so both are escaped.
fn description(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('#', "\\#")
        .replace('\n', " ")
}

/// A SKIP or TODO reason must stay on the test point's line.
fn directive_reason(reason: Option<&str>, fallback: &str) -> String {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    reason
        .unwrap_or(fallback)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The YAML block after a `not ok`, indented two spaces as TAP 14 requires.
fn diagnostic(result: &ScenarioResult, message: &str, severity: &str) -> String {
    let mut fields = vec![
        ("message", yaml_scalar(message)),
        ("severity", severity.to_string()),
        ("status", result.status.name().to_string()),
        ("title", yaml_scalar(&result.title)),
        ("file", yaml_scalar(&result.path)),
    ];
    if let Some(failure) = &result.failure {
        fields.extend([
            ("actor", yaml_scalar(&failure.actor)),
            ("step", failure.step.to_string()),
            ("op", yaml_scalar(&failure.op)),
            ("at", yaml_scalar(&failure.location)),
        ]);
        // A timeout or a broken implementation has no expectation to show, only what happened.
        for (key, value) in [("expected", &failure.expected), ("got", &failure.actual)] {
            if !value.is_empty() {
                fields.push((key, yaml_scalar(value)));
            }
        }
    }
    fields.push(("duration_ms", result.duration.as_millis().to_string()));
    let mut block = String::from("  ---\n");
    for (key, value) in fields {
        block.push_str(&format!("  {key}: {value}\n"));
    }
    block.push_str("  ...\n");
    block
}

/// A YAML value that reads back as exactly `text`: a literal block for multi-line text (readable
/// in a terminal), a double-quoted string otherwise. JSON strings are valid YAML, and quoting
/// always avoids YAML's surprises (`no`, `: `, a leading `*`).
fn yaml_scalar(text: &str) -> String {
    let printable = !text
        .chars()
        .any(|c| (c.is_control() && c != '\n') || c == '\u{feff}');
    if text.contains('\n') && printable && !text.ends_with('\n') {
        // The explicit indentation indicator (2, relative to the key) keeps lines that start with
        // spaces (a data diff's alignment) intact; `-` drops the final newline.
        let mut block = String::from("|2-");
        for line in text.lines() {
            block.push_str("\n    ");
            block.push_str(line);
        }
        block
    } else {
        serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{Failure, FailureKind};
    use rstest::rstest;
    use std::time::Duration;

    fn result(id: &str, status: Status) -> ScenarioResult {
        ScenarioResult {
            scenario: id.to_string(),
            title: "a title".to_string(),
            path: format!("fixtures/{id}.yaml"),
            requirements: vec![],
            implementation: "reference".to_string(),
            status,
            duration: Duration::from_millis(2),
            failure: None,
            reason: None,
            expectation: None,
        }
    }

    fn lines(text: &str) -> Vec<&str> {
        text.lines().collect()
    }

    #[test]
    fn the_version_and_plan_come_first_and_points_are_numbered_from_one() {
        let out = tap(
            "reference",
            &[
                result("tcp/echo", Status::Pass),
                result("udp/echo", Status::Pass),
                result("unix/echo", Status::Pass),
            ],
        );
        assert_eq!(
            lines(&out)[..5],
            [
                "TAP version 14",
                "1..3",
                "ok 1 - tcp/echo",
                "ok 2 - udp/echo",
                "ok 3 - unix/echo"
            ]
        );
    }

    #[test]
    fn an_empty_run_has_the_plan_one_to_zero() {
        assert_eq!(lines(&tap("x", &[]))[..2], ["TAP version 14", "1..0"]);
    }

    #[test]
    fn a_failure_is_not_ok_with_a_yaml_diagnostic() {
        let mut r = result("data/recv", Status::Fail);
        r.failure = Some(Failure {
            kind: FailureKind::Mismatch,
            actor: "server".to_string(),
            step: 6,
            op: "recv".to_string(),
            location: "fixtures/data/recv.yaml:21".to_string(),
            expected: "4 bytes".to_string(),
            actual: "data \"hello\"".to_string(),
            detail: Some("  byte 4: expected none, got 'o'".to_string()),
        });
        let out = tap("reference", &[result("a/ok", Status::Pass), r]);
        let l = lines(&out);
        assert_eq!(l[3], "not ok 2 - data/recv");
        assert_eq!(l[4], "  ---");
        assert!(l[5].starts_with("  message: |2-"), "{out}");
        // The block's indentation (4), then the text's own: 2 from the failure, 2 from the diff.
        assert!(out.contains("\n        byte 4: expected none"), "{out}");
        assert!(out.contains("\n  severity: fail\n"), "{out}");
        assert!(out.contains("\n  got: \"data \\\"hello\\\"\"\n"), "{out}");
        assert!(out.contains("\n  ...\n"), "{out}");
    }

    /// The YAML between `  ---` and `  ...` of the first diagnostic, without TAP's indentation.
    fn first_diagnostic(out: &str) -> serde_yaml::Value {
        let start = out.find("  ---\n").expect(out) + 6;
        let end = start + out[start..].find("  ...\n").expect(out);
        let yaml: String = out[start..end]
            .lines()
            .map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l)))
            .collect();
        serde_yaml::from_str(&yaml).unwrap_or_else(|e| panic!("{e}:\n{yaml}"))
    }

    #[rstest]
    #[case::one_line("expected 4 bytes, got 5: no")]
    #[case::yaml_lookalikes("- *a: {b} # c")]
    #[case::multi_line_with_indented_diff(
        "first line\n  expected: 68 65\n  actual:   68 66\n\nend"
    )]
    #[case::control_characters("tab\there\r\nand a NUL \u{0}")]
    fn the_diagnostic_message_reads_back_exactly(#[case] message: &str) {
        let mut r = result("a/b", Status::Error);
        r.reason = Some(message.to_string());
        let yaml = first_diagnostic(&tap("x", &[r]));
        assert_eq!(yaml["message"].as_str(), Some(message), "{yaml:?}");
        assert_eq!(yaml["severity"].as_str(), Some("fail"));
    }

    #[rstest]
    #[case::unsupported(Status::Unsupported, "ok 1 - a/b # SKIP no unix sockets")]
    #[case::skip(Status::Skip, "ok 1 - a/b # SKIP no unix sockets")]
    #[case::expected_fail(Status::ExpectedFail, "not ok 1 - a/b # TODO no unix sockets")]
    fn directives_carry_the_reason_on_one_line(#[case] status: Status, #[case] line: &str) {
        let mut r = result("a/b", status);
        r.reason = Some("no unix\nsockets".to_string());
        r.expectation = Some("no unix\nsockets".to_string());
        assert_eq!(lines(&tap("x", &[r]))[2], line);
    }

    #[test]
    fn an_unexpected_pass_is_not_ok_and_says_the_expectation_is_stale() {
        let mut r = result("a/b", Status::UnexpectedPass);
        r.expectation = Some("old bug".to_string());
        let out = tap("x", &[r]);
        assert_eq!(lines(&out)[2], "not ok 1 - a/b");
        assert!(out.contains("old bug") && out.contains("stale"), "{out}");
    }

    #[test]
    fn a_hash_in_a_scenario_id_does_not_start_a_directive() {
        let out = tap("x", &[result("a/b#c", Status::Pass)]);
        assert_eq!(lines(&out)[2], "ok 1 - a/b\\#c");
    }

    #[test]
    fn the_summary_is_a_trailing_comment() {
        let out = tap("std", &[result("a/b", Status::Pass)]);
        assert!(
            out.ends_with("# 1 scenarios against std: 1 passed, 0 failed, 0 unsupported, 0 errors, 0 timeouts\n"),
            "{out}"
        );
    }
}
