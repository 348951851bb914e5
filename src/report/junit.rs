//! The JUnit XML report, for CI systems that show test results (GitLab, Jenkins, GitHub actions).

use crate::runner::{ScenarioResult, Status};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

/// One `<testsuite>` named after the implementation, with a `<testcase>` per scenario.
///
/// A test case is named by the scenario id; its class name is the implementation and the id's
/// first path component (`reference.tcp`), which is how CI systems group cases. `fail` and
/// `unexpected-pass` become `<failure>`, `error` and `timeout` `<error>`, `unsupported` and
/// `skip` `<skipped>`; an `expected-fail` is a success whose `<system-out>` says why it is known
/// to fail, since JUnit has no notion of an expected failure.
pub fn junit_xml(implementation: &str, results: &[ScenarioResult]) -> String {
    let mut suite = TestSuite::new(implementation);
    suite.set_time(results.iter().map(|r| r.duration).sum());
    suite.add_test_cases(results.iter().map(|r| test_case(implementation, r)));
    let mut report = Report::new("sockspec");
    report.add_test_suite(suite);
    report.to_string().unwrap_or_else(|e| {
        // Writing to a String cannot fail for I/O reasons, but stay well-formed if it ever does.
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- sockspec: cannot write the JUnit report: {} -->\n<testsuites/>\n",
            e.to_string().replace("--", "- -")
        )
    })
}

fn test_case(implementation: &str, result: &ScenarioResult) -> TestCase {
    let area = result.scenario.split('/').next().unwrap_or_default();
    let mut case = TestCase::new(result.scenario.as_str(), status(result));
    case.set_classname(format!("{implementation}.{area}"));
    case.set_time(result.duration);
    if result.status == Status::ExpectedFail {
        let mut out = format!(
            "expected failure: {}",
            result
                .expectation
                .as_deref()
                .unwrap_or("listed in the expectations file")
        );
        let explanation = result.explanation();
        if !explanation.is_empty() {
            out.push('\n');
            out.push_str(&explanation);
        }
        case.set_system_out(out);
    }
    case
}

fn status(result: &ScenarioResult) -> TestCaseStatus {
    let (mut status, message, description) = match result.status {
        Status::Pass | Status::ExpectedFail => return TestCaseStatus::success(),
        Status::Fail => (
            TestCaseStatus::non_success(NonSuccessKind::Failure),
            first_line(&result.explanation()),
            result.explanation(),
        ),
        Status::UnexpectedPass => {
            let message = format!(
                "passed, but the expectations file says it fails ({}): the entry is stale",
                result.expectation.as_deref().unwrap_or("no reason given")
            );
            (
                TestCaseStatus::non_success(NonSuccessKind::Failure),
                message.clone(),
                message,
            )
        }
        Status::Error | Status::Timeout | Status::Interrupted => (
            TestCaseStatus::non_success(NonSuccessKind::Error),
            first_line(&result.explanation()),
            result.explanation(),
        ),
        Status::Unsupported => (
            TestCaseStatus::skipped(),
            result.reason.clone().unwrap_or_default(),
            String::new(),
        ),
        Status::Skip => (
            TestCaseStatus::skipped(),
            result.expectation.clone().unwrap_or_default(),
            String::new(),
        ),
    };
    status.set_type(result.status.name());
    if !message.is_empty() {
        status.set_message(message);
    }
    if !description.is_empty() {
        status.set_description(description);
    }
    status
}

/// The first line: a `message` attribute is shown on one line, the full text goes in the body.
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{Failure, FailureKind};
    use std::time::Duration;

    fn result(id: &str, status: Status) -> ScenarioResult {
        ScenarioResult {
            scenario: id.to_string(),
            title: format!("title of {id}"),
            path: format!("fixtures/{id}.yaml"),
            requirements: vec!["tcp.bind.in-use".to_string()],
            implementation: "reference".to_string(),
            status,
            duration: Duration::from_millis(1500),
            failure: None,
            reason: None,
            expectation: None,
        }
    }

    fn mismatch() -> Failure {
        Failure {
            kind: FailureKind::Mismatch,
            actor: "server".to_string(),
            step: 6,
            op: "recv".to_string(),
            location: "fixtures/data/x.yaml:21".to_string(),
            expected: "success with exactly 4 bytes".to_string(),
            actual: "success with data \"hello\" <5 bytes>".to_string(),
            detail: Some("first difference at byte 4".to_string()),
        }
    }

    /// The text between `<tag` and `</tag>` (or the self-closing end), to look inside one element.
    fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
        let start = xml.find(&format!("<{tag}"))?;
        let rest = &xml[start..];
        let end = rest
            .find(&format!("</{tag}>"))
            .map(|e| e + tag.len() + 3)
            .or_else(|| rest.find("/>").map(|e| e + 2))?;
        Some(&rest[..end])
    }

    #[test]
    fn a_failed_scenario_is_a_failure_element_with_its_escaped_text() {
        let mut r = result("data/recv", Status::Fail);
        r.failure = Some(mismatch());
        let xml = junit_xml("reference", &[r]);
        let failure = element(&xml, "failure").expect(&xml);
        assert!(failure.contains("type=\"fail\""), "{failure}");
        assert!(failure.contains("&lt;5 bytes&gt;"), "{failure}");
        assert!(failure.contains("first difference at byte 4"), "{failure}");
    }

    #[test]
    fn one_suite_named_after_the_implementation_with_a_case_per_scenario() {
        let xml = junit_xml(
            "std",
            &[
                result("tcp/echo", Status::Pass),
                result("udp/x", Status::Pass),
            ],
        );
        assert_eq!(xml.matches("<testsuite ").count(), 1, "{xml}");
        assert!(xml.contains("<testsuite name=\"std\""), "{xml}");
        assert_eq!(xml.matches("<testcase ").count(), 2, "{xml}");
        assert!(
            xml.contains("name=\"tcp/echo\" classname=\"std.tcp\""),
            "{xml}"
        );
        assert!(xml.contains("time=\"1.500\""), "{xml}");
    }

    #[test]
    fn errors_and_timeouts_are_error_elements() {
        let mut e = result("a/e", Status::Error);
        e.reason = Some("driver crashed".to_string());
        let mut t = result("a/t", Status::Timeout);
        t.reason = Some("scenario took longer than 30 s".to_string());
        let xml = junit_xml("x", &[e, t]);
        assert_eq!(xml.matches("<error ").count(), 2, "{xml}");
        assert!(xml.contains("message=\"driver crashed\""), "{xml}");
        assert!(!xml.contains("<failure"), "{xml}");
    }

    #[rstest::rstest]
    #[case::unsupported(Status::Unsupported)]
    #[case::skip(Status::Skip)]
    fn unsupported_and_skipped_scenarios_are_skipped_with_their_reason(#[case] status: Status) {
        let mut r = result("a/b", status);
        r.reason = Some("no unix sockets".to_string());
        r.expectation = Some("no unix sockets".to_string());
        let xml = junit_xml("x", &[r]);
        let skipped = element(&xml, "skipped").expect(&xml);
        assert!(skipped.contains("no unix sockets"), "{skipped}");
    }

    #[test]
    fn an_expected_failure_passes_with_the_expectation_in_system_out() {
        let mut r = result("a/b", Status::ExpectedFail);
        r.failure = Some(mismatch());
        r.expectation = Some("std cannot set SO_LINGER".to_string());
        let xml = junit_xml("std", &[r]);
        assert!(
            !xml.contains("<failure") && !xml.contains("<error"),
            "{xml}"
        );
        let out = element(&xml, "system-out").expect(&xml);
        assert!(out.contains("std cannot set SO_LINGER"), "{out}");
    }

    #[test]
    fn an_unexpected_pass_is_a_failure_that_calls_the_expectation_stale() {
        let mut r = result("a/b", Status::UnexpectedPass);
        r.expectation = Some("old bug".to_string());
        let xml = junit_xml("std", &[r]);
        let failure = element(&xml, "failure").expect(&xml);
        assert!(
            failure.contains("stale") && failure.contains("old bug"),
            "{failure}"
        );
    }

    #[test]
    fn the_document_is_balanced_xml() {
        let mut f = result("a/f", Status::Fail);
        f.failure = Some(mismatch());
        let xml = junit_xml("x & y", &[f, result("a/p", Status::Pass)]);
        assert!(xml.starts_with("<?xml"), "{xml}");
        assert!(xml.contains("name=\"x &amp; y\""), "{xml}");
        // Every opened element is closed, in order: a tiny stack-based check.
        let mut stack = Vec::new();
        for piece in xml.split('<').skip(2) {
            let tag = piece.split(['>', ' ', '/']).next().unwrap_or_default();
            if let Some(closing) = piece.strip_prefix('/') {
                let name = closing.split('>').next().unwrap_or_default();
                assert_eq!(stack.pop(), Some(name.to_string()), "{xml}");
            } else if !piece.split('>').next().unwrap_or_default().ends_with('/') {
                stack.push(tag.to_string());
            }
        }
        assert!(stack.is_empty(), "unclosed {stack:?} in {xml}");
    }
}
