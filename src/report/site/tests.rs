use super::*;
use crate::runner::{Failure, FailureKind};
use std::time::Duration;

const SPEC: &str = "# Servers\n\n### `tcp.bind.in-use` — Binding a held port fails\n**Level:** MUST\n\n`bind` MUST fail with `EADDRINUSE`.\n\n```text\n### not a heading\n```\n\n### `tcp.other` — Another\nMore.\n";

fn result(id: &str, implementation: &str, status: Status) -> ScenarioResult {
    ScenarioResult {
        scenario: id.into(),
        title: format!("title of {id}"),
        path: format!("fixtures/{id}.yaml"),
        requirements: vec!["tcp.bind.in-use".into()],
        implementation: implementation.into(),
        status,
        duration: Duration::from_millis(12),
        failure: (status == Status::Fail).then(|| Failure {
            kind: FailureKind::Mismatch,
            actor: "server".into(),
            step: 2,
            op: "bind".into(),
            location: format!("fixtures/{id}.yaml:4"),
            expected: "error EADDRINUSE".into(),
            actual: "success".into(),
            detail: None,
        }),
        reason: (status == Status::Unsupported).then(|| "no backlog".to_string()),
        expectation: None,
    }
}

fn spec() -> Requirements {
    let mut r = Requirements::default();
    r.add_file(Path::new("spec/tcp.md"), SPEC).unwrap();
    r
}

fn read(path: &Path) -> Option<String> {
    match path.to_str()? {
        "spec/tcp.md" => Some(SPEC.to_string()),
        p if p.starts_with("fixtures/") => Some(format!("title: source of {p}\n")),
        _ => None,
    }
}

fn site() -> Site {
    let a = Run::new(
        "reference",
        None,
        vec![
            result("tcp/server/a", "reference", Status::Pass),
            result("tcp/client/b", "reference", Status::Pass),
            result("udp/c", "reference", Status::Pass),
        ],
    );
    let b = Run::new(
        "drv",
        Some("drv 1.0".into()),
        vec![
            result("tcp/server/a", "drv", Status::Fail),
            result("tcp/client/b", "drv", Status::Pass),
            result("udp/c", "drv", Status::Unsupported),
        ],
    );
    Site::new(vec![a, b], &spec(), read)
}

fn file(site: &Site, name: &str) -> String {
    site.files()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name}"))
        .1
}

#[test]
fn areas_are_full_directory_paths() {
    assert_eq!(area_of("tcp/server/bind"), "tcp/server");
    assert_eq!(area_of("top"), "(top level)");
    let index = file(&site(), "index.html");
    assert!(index.contains("<code>tcp/server</code>"), "{index}");
    assert!(index.contains("<code>tcp/client</code>"), "{index}");
}

#[test]
fn the_overview_counts_passes_of_those_that_ran_and_failures_per_area() {
    let index = file(&site(), "index.html");
    // drv on tcp/server: 0 of 1 passed, 1 failing; on udp: nothing ran, 1 unsupported.
    assert!(
        index.contains("0 / 1 · <span class=\"bad\">1 failing</span>"),
        "{index}"
    );
    assert!(
        index.contains("0 / 0 · <span class=\"muted\">1 unsupported</span>"),
        "{index}"
    );
    assert!(index.contains("drv 1.0"), "{index}");
}

#[test]
fn the_failures_page_has_only_scenarios_that_fail_somewhere() {
    let page = file(&site(), "failures.html");
    assert!(page.contains("tcp/server/a"), "{page}");
    assert!(!page.contains("tcp/client/b"), "{page}");
    assert!(!page.contains("udp/c"), "{page}");
}

#[test]
fn the_differences_page_ignores_unsupported_and_keeps_disagreements() {
    let page = file(&site(), "differences.html");
    assert!(page.contains("tcp/server/a"), "{page}");
    assert!(!page.contains("udp/c\""), "{page}");
    assert!(!page.contains("tcp/client/b"), "{page}");
}

#[test]
fn the_page_of_all_scenarios_marks_rows_for_the_script() {
    let page = file(&site(), "scenarios.html");
    assert!(page.contains("<tr data-failing data-differs>"), "{page}");
    assert_eq!(page.matches("<tr>").count(), 2 + 3, "{page}");
}

#[test]
fn requirement_sections_have_their_id_as_anchor_and_their_spec_text() {
    let page = file(&site(), "requirements.html");
    assert!(page.contains("id=\"tcp.bind.in-use\""), "{page}");
    assert!(
        page.contains("`bind` MUST fail with `EADDRINUSE`."),
        "{page}"
    );
    // The section ends at the next heading, not at a `###` inside a code block.
    let first =
        &page[page.find("id=\"tcp.bind.in-use\"").unwrap()..page.find("id=\"tcp.other\"").unwrap()];
    assert!(first.contains("### not a heading"), "{first}");
    assert!(!first.contains("More."), "{first}");
    assert!(
        page.contains("No scenario in these runs checks it."),
        "{page}"
    );
}

#[test]
fn requirement_ids_link_to_their_section_and_scenario_ids_to_their_page() {
    let site = site();
    let list = file(&site, "scenarios.html");
    assert!(
        list.contains("href=\"requirements.html#tcp.bind.in-use\""),
        "{list}"
    );
    assert!(
        list.contains("href=\"scenario/tcp/server/a.html\""),
        "{list}"
    );
    let page = file(&site, "scenario/tcp/server/a.html");
    assert!(
        page.contains("href=\"../../../requirements.html#tcp.bind.in-use\""),
        "{page}"
    );
    assert!(page.contains("href=\"../../../style.css\""), "{page}");
}

#[test]
fn a_scenario_page_shows_its_source_and_opens_each_failure() {
    let page = file(&site(), "scenario/tcp/server/a.html");
    assert!(
        page.contains("title: source of fixtures/tcp/server/a.yaml"),
        "{page}"
    );
    assert!(page.contains("<details open>"), "{page}");
    assert!(page.contains("error EADDRINUSE"), "{page}");
}

#[test]
fn durations_are_shown_only_where_they_matter() {
    let mut slow = result("a/slow", "x", Status::Timeout);
    slow.duration = Duration::from_millis(5300);
    slow.reason = Some("the scenario did not finish".into());
    let fast = result("a/fast", "x", Status::Fail);
    let site = Site::new(vec![Run::new("x", None, vec![slow, fast])], &spec(), read);
    assert!(file(&site, "scenario/a/slow.html").contains("took 5.3 s"));
    assert!(!file(&site, "scenario/a/fast.html").contains("took"));
}

#[test]
fn two_runs_of_one_implementation_get_distinct_columns() {
    let one = Run::new("x", None, vec![result("a/b", "x", Status::Pass)]);
    let site = Site::new(vec![one.clone(), one], &spec(), read);
    assert!(file(&site, "index.html").contains("<th>x (2)</th>"));
}

#[test]
fn hostile_text_from_a_run_appears_escaped() {
    let mut bad = result("a/<script>alert(1)</script>", "x", Status::Fail);
    bad.title = "<script>alert('title')</script>".into();
    if let Some(f) = &mut bad.failure {
        f.actual = "<img src=x onerror=alert('actual')>".into();
        f.detail = Some("driver stderr: </pre><b onmouseover=alert('stderr')>".into());
    }
    bad.requirements = vec!["\"><script>alert('req')</script>".into()];
    let mut error = result("a/error", "x", Status::Error);
    error.reason = Some("driver stderr tail:\n<script>alert('reason')</script>".into());
    let run = Run::new("<b>impl</b>", Some("\"><i>".into()), vec![bad, error]);
    let site = Site::new(vec![run], &spec(), read);
    for (name, content) in site.files() {
        if !name.ends_with(".html") {
            continue;
        }
        for raw in [
            "<script>alert",
            "<img",
            "<b onmouseover",
            "<b>impl",
            "\"><i>",
        ] {
            assert!(
                !content.contains(raw),
                "{name} has {raw} unescaped:\n{content}"
            );
        }
        assert!(!name.contains('<') && !name.contains(".."), "{name}");
    }
    let page = file(&site, &scenario_page("a/<script>alert(1)</script>"));
    assert!(
        page.contains("&lt;script&gt;alert('title')&lt;/script&gt;"),
        "{page}"
    );
    assert!(
        page.contains("&lt;img src=x onerror=alert('actual')&gt;"),
        "{page}"
    );
    assert!(
        page.contains("&lt;/pre&gt;&lt;b onmouseover=alert('stderr')&gt;"),
        "{page}"
    );
    let error = file(&site, "scenario/a/error.html");
    assert!(
        error.contains("&lt;script&gt;alert('reason')&lt;/script&gt;"),
        "{error}"
    );
}

#[test]
fn a_scenario_id_cannot_name_a_page_outside_the_site() {
    assert_eq!(
        scenario_page("../../etc/passwd"),
        "scenario/__/__/etc/passwd.html"
    );
    assert_eq!(scenario_page("/abs//x"), "scenario/abs/x.html");
    assert_eq!(scenario_page(""), "scenario/_.html");
}

#[test]
fn the_site_writes_every_file_and_needs_nothing_outside_it() {
    let dir = tempfile::tempdir().unwrap();
    let site = site();
    let written = site.write(dir.path()).unwrap();
    assert_eq!(written, site.files().len());
    assert!(dir.path().join("scenario/udp/c.html").is_file());
    for (name, content) in site.files() {
        for external in ["http://", "https://", "@import"] {
            assert!(!content.contains(external), "{external} in {name}");
        }
    }
}

#[test]
fn every_status_has_a_style() {
    for status in Status::ALL {
        let class = crate::report::look::look(status).class;
        assert!(STYLE.contains(&format!(".{class}")), "{class} has no style");
    }
}

#[test]
fn a_source_is_read_only_from_the_suites_fixtures_by_scenario_id() {
    let asked = std::cell::RefCell::new(Vec::new());
    let mut climbing = result("../../etc/passwd", "x", Status::Pass);
    climbing.path = "/etc/passwd".into();
    let mut elsewhere = result("tcp/server/a", "x", Status::Pass);
    elsewhere.path = "/home/someone/checkout/fixtures/tcp/server/a.yaml".into();
    let run = Run::new("x", None, vec![climbing, elsewhere]);
    let site = Site::new(vec![run], &Requirements::default(), |path| {
        asked.borrow_mut().push(path.display().to_string());
        read(path)
    });
    assert_eq!(*asked.borrow(), ["fixtures/tcp/server/a.yaml"]);
    let page = file(&site, "scenario/tcp/server/a.html");
    assert!(
        page.contains("title: source of fixtures/tcp/server/a.yaml"),
        "{page}"
    );
    let page = file(&site, &scenario_page("../../etc/passwd"));
    assert!(page.contains("The suite has no file"), "{page}");
}
