//! The site's pages, as maud templates: every value inserted with `(…)` is escaped.

use super::{
    is_failing, requirement_anchor, scenario_page, Filter, RequirementEntry, ScenarioRow, Site,
};
use crate::report::look::look;
use crate::report::{Run, Summary};
use crate::runner::{ScenarioResult, Status};
use maud::{html, Markup, DOCTYPE};
use std::collections::BTreeMap;
use std::time::Duration;

/// A duration shown only from this long up: below it, time tells a reader nothing.
const NOTABLE: Duration = Duration::from_secs(1);

/// The frame of every page. `root` leads from the page back to the site's directory (`../../`).
fn page(root: &str, title: &str, current: &str, body: Markup) -> String {
    let nav = [
        ("index.html", "Overview"),
        ("scenarios.html", "Scenarios"),
        ("failures.html", "Failures"),
        ("differences.html", "Differences"),
        ("requirements.html", "Requirements"),
    ];
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · sockspec report" }
                link rel="stylesheet" href={ (root) "style.css" };
                script defer src={ (root) "filter.js" } {}
            }
            body {
                header {
                    nav {
                        span.brand { "sockspec" }
                        @for (href, name) in nav {
                            @if href == current {
                                a.current href={ (root) (href) } aria-current="page" { (name) }
                            } @else {
                                a href={ (root) (href) } { (name) }
                            }
                        }
                    }
                    h1 { (title) }
                }
                main { (body) }
            }
        }
    }
    .into_string()
}

/// index.html: the runs, then implementations × areas.
pub(super) fn overview(site: &Site) -> String {
    let mut areas: BTreeMap<&str, Vec<&ScenarioRow>> = BTreeMap::new();
    for row in &site.scenarios {
        areas.entry(row.area.as_str()).or_default().push(row);
    }
    let body = html! {
        p.note {
            (site.scenarios.len()) " scenarios, " (site.requirements.len()) " requirements, "
            (site.columns.len()) " runs. "
            a href="failures.html" { "Only failures" } " · "
            a href="differences.html" { "only differences" } "."
        }
        h2 { "Runs" }
        div.scroll {
            table.summary {
                thead { tr {
                    th { "implementation" } th { "date" } th { "machine" }
                    th.num { "scenarios" } th.num { "pass" } th.num { "fail" }
                    th.num { "xfail" } th.num { "unsupported" } th.num { "other" }
                } }
                tbody {
                    @for column in &site.columns {
                        (run_row(&column.label, &column.run))
                    }
                }
            }
        }
        h2 { "By area" }
        p.note { "Each cell: passed / ran, then how many failed, how many failed as the implementation's expectations file says (known deviations), and how many were unsupported. An area is the directory of its scenarios." }
        div.scroll {
            table.areas {
                thead { tr {
                    th { "area" } th.num { "scenarios" }
                    @for column in &site.columns { th { (column.label) } }
                } }
                tbody {
                    @for (area, rows) in &areas {
                        tr {
                            th scope="row" { a href={ "scenarios.html#" (area_anchor(area)) } { code { (area) } } }
                            td.num { (rows.len()) }
                            @for index in 0..site.columns.len() {
                                (area_cell(rows, index))
                            }
                        }
                    }
                }
            }
        }
        (legend())
    };
    page("", "Conformance report", "index.html", body)
}

fn run_row(label: &str, run: &Run) -> Markup {
    let s: &Summary = &run.summary;
    let other = s.unexpected_passes + s.skipped + s.errors + s.timeouts + s.interrupted;
    let machine = &run.machine;
    html! {
        tr {
            th scope="row" {
                (label)
                @if let Some(version) = &run.implementation_version { div.muted { (version) } }
            }
            td.date { (run.date.replacen('T', " ", 1)) }
            td title=[machine.kernel.as_ref().map(|k| format!("kernel {k}"))] {
                @if let Some(host) = &machine.hostname { (host) " · " }
                (machine.os) " " (machine.arch)
            }
            td.num { (s.total) }
            td.num.s-pass[s.passed > 0] { (s.passed) }
            td.num.s-fail[s.failed > 0] { (s.failed) }
            td.num { (s.expected_failures) }
            td.num { (s.unsupported) }
            td.num.s-error[other > 0] { (other) }
        }
    }
}

fn area_cell(rows: &[&ScenarioRow], index: usize) -> Markup {
    let mut counts: BTreeMap<Status, usize> = BTreeMap::new();
    for row in rows {
        if let Some(result) = &row.cells[index] {
            *counts.entry(result.status).or_default() += 1;
        }
    }
    let get = |s: Status| counts.get(&s).copied().unwrap_or(0);
    let unsupported = get(Status::Unsupported) + get(Status::Skip);
    let ran: usize = counts.values().sum::<usize>() - unsupported;
    let failing: usize = counts
        .iter()
        .filter(|(s, _)| s.is_failure())
        .map(|(_, n)| n)
        .sum();
    let known = get(Status::ExpectedFail);
    let class = if failing > 0 {
        "s-fail"
    } else if known > 0 {
        "s-xfail"
    } else if ran > 0 {
        "s-pass"
    } else {
        "s-unsupported"
    };
    let detail: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    html! {
        td.tally.(class) title=(detail.join(", ")) {
            (get(Status::Pass)) " / " (ran)
            @if failing > 0 { " · " span.bad { (failing) " failing" } }
            @if known > 0 { " · " span.known { (known) " known" } }
            @if unsupported > 0 { " · " span.muted { (unsupported) " unsupported" } }
        }
    }
}

/// The anchor of an area's table in the scenario lists.
fn area_anchor(area: &str) -> String {
    format!("area-{}", requirement_anchor(area))
}

/// scenarios.html, failures.html, differences.html: the scenarios the filter keeps, by area.
pub(super) fn scenario_list(site: &Site, filter: Filter) -> String {
    let mut areas: BTreeMap<&str, Vec<&ScenarioRow>> = BTreeMap::new();
    for row in &site.scenarios {
        // The page of all scenarios has every row, marked, so that the script can filter in
        // place; the other pages have only theirs, and work without it.
        if filter.keeps(row) {
            areas.entry(row.area.as_str()).or_default().push(row);
        }
    }
    let shown: usize = areas.values().map(Vec::len).sum();
    let body = html! {
        div.filters role="group" aria-label="filter" {
            @for f in Filter::ALL {
                @if f == filter {
                    a.current href=(f.page()) data-filter=(f.name().1) aria-current="page" { (f.name().0) }
                } @else {
                    a href=(f.page()) data-filter=(f.name().1) { (f.name().0) }
                }
            }
        }
        p.note {
            span.shown { (shown) } " of " (site.scenarios.len()) " scenarios"
            @match filter {
                Filter::All => ".",
                Filter::Failures => ": those on which some implementation failed, failed as expected, errored or timed out.",
                Filter::Differences => ": those on which the implementations that ran them (neither unsupported nor skipped) disagree.",
            }
        }
        @if shown == 0 { p.empty { "None." } }
        @for (area, rows) in &areas {
            section.area id=(area_anchor(area)) {
                h2 { code { (area) } }
                div.scroll {
                    table.matrix {
                        thead { tr {
                            th.scenario { "scenario" } th.reqs { "requirements" }
                            @for column in &site.columns { th { (column.label) } }
                        } }
                        tbody {
                            @for row in rows {
                                tr data-failing[row.fails_somewhere()] data-differs[row.differs()] {
                                    td.scenario {
                                        a href=(scenario_page(&row.id)) { code { (row.id) } }
                                        div.title { (row.title) }
                                    }
                                    td.reqs { (requirement_links("", &row.requirements, site)) }
                                    @for (cell, column) in row.cells.iter().zip(&site.columns) {
                                        (status_cell(cell.as_ref(), &column.label))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        (legend())
    };
    let title = match filter {
        Filter::All => "Scenarios",
        Filter::Failures => "Failures",
        Filter::Differences => "Differences",
    };
    page("", title, filter.page(), body)
}

/// Requirement ids, each a link to its section; one the spec does not define is marked.
fn requirement_links(root: &str, ids: &[String], site: &Site) -> Markup {
    html! {
        @for id in ids {
            @let entry = site.requirements.iter().find(|r| &r.id == id);
            @let title = entry.and_then(|r| r.title.clone());
            @if title.is_some() {
                a.req href={ (root) "requirements.html#" (requirement_anchor(id)) } title=[title] { (id) }
            } @else {
                a.req.unknown href={ (root) "requirements.html#" (requirement_anchor(id)) } title="not defined by this spec" { (id) }
            }
            " "
        }
    }
}

/// A result in a table: its status, and for anything but a pass, why, in a `<details>`.
fn status_cell(result: Option<&ScenarioResult>, label: &str) -> Markup {
    let Some(result) = result else {
        return html! { td.cell.s-none { "not run" } };
    };
    let look = look(result.status);
    let why = explanation(result);
    html! {
        td.cell.(look.class) title={ (label) ": " (result.status.name()) } {
            @if let Some(why) = why {
                details {
                    summary { span.sym { (look.symbol) } " " (look.word) }
                    (why)
                }
            } @else {
                span.sym { (look.symbol) } " " (look.word)
            }
        }
    }
}

/// Why a result is what it is: the failure's fields, the reason, the expectation entry, and its
/// duration where it matters; `None` for a plain pass.
fn explanation(result: &ScenarioResult) -> Option<Markup> {
    if result.failure.is_none()
        && result.reason.is_none()
        && result.expectation.is_none()
        && result.status != Status::UnexpectedPass
    {
        return None;
    }
    Some(html! {
        div.why {
            @if result.status == Status::UnexpectedPass {
                p.reason { "Passed, but the expectations file says it fails: the entry is stale." }
            }
            @if let Some(failure) = &result.failure {
                dl {
                    dt { "actor" } dd { (failure.actor) }
                    dt { "step" } dd { (failure.step) " (" (failure.op) ")" }
                    dt { "location" } dd { code { (failure.location) } }
                    @if !failure.expected.is_empty() { dt { "expected" } dd { pre { (failure.expected) } } }
                    @if !failure.actual.is_empty() { dt { "actual" } dd { pre.message { (failure.actual) } } }
                    @if let Some(detail) = &failure.detail { dt { "detail" } dd { pre.message { (detail) } } }
                }
            }
            @if let Some(reason) = &result.reason { pre.reason.message { (reason) } }
            @if let Some(expectation) = &result.expectation {
                p.expectation { b { "expectation: " } (expectation) }
            }
            @if result.status == Status::Timeout || result.duration >= NOTABLE {
                p.duration { "took " (format_duration(result.duration)) }
            }
        }
    })
}

fn format_duration(d: Duration) -> String {
    if d >= NOTABLE {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// requirements.html: a section per requirement, anchored by its id.
pub(super) fn requirements(site: &Site) -> String {
    let body = html! {
        p.note { (site.requirements.len()) " requirements. Each links to the scenarios that check it; each scenario shows every run's result." }
        @for entry in &site.requirements {
            (requirement_section(site, entry))
        }
        (legend())
    };
    page("", "Requirements", "requirements.html", body)
}

fn requirement_section(site: &Site, entry: &RequirementEntry) -> Markup {
    let rows: Vec<&ScenarioRow> = site
        .scenarios
        .iter()
        .filter(|row| entry.scenarios.contains(&row.id))
        .collect();
    html! {
        section.requirement id=(requirement_anchor(&entry.id)) {
            h2 {
                a.anchor href={ "#" (requirement_anchor(&entry.id)) } { code { (entry.id) } }
                @if let Some(title) = &entry.title { " — " (title) }
                @if let Some(level) = &entry.level { " " span.level { (level) } }
            }
            @if let Some(place) = &entry.place { p.note { code { (place) } } }
            @match &entry.text {
                Some(text) => details.spec open {
                    summary { "Spec text" }
                    pre.spec { (text) }
                },
                None if entry.place.is_none() => p.note { "Not defined by this spec: a run cites it." },
                None => p.note { "The spec's file could not be read." },
            }
            @if rows.is_empty() {
                p.note { "No scenario in these runs checks it." }
            } @else {
                div.scroll {
                    table.matrix {
                        thead { tr {
                            th.scenario { "scenario" }
                            @for column in &site.columns { th { (column.label) } }
                        } }
                        tbody {
                            @for row in &rows {
                                tr {
                                    td.scenario {
                                        a href=(scenario_page(&row.id)) { code { (row.id) } }
                                        div.title { (row.title) }
                                    }
                                    @for (cell, column) in row.cells.iter().zip(&site.columns) {
                                        (status_cell(cell.as_ref(), &column.label))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// scenario/ID.html: a scenario, each run's outcome with its message open, and its YAML.
pub(super) fn scenario(site: &Site, row: &ScenarioRow) -> String {
    let depth = scenario_page(&row.id).matches('/').count();
    let root = "../".repeat(depth);
    let body = html! {
        p.note { code { (row.id) } " · " code { (row.path) } }
        p { "Requirements: " (requirement_links(&root, &row.requirements, site)) }
        h2 { "Results" }
        // One block per run rather than a table: a failure's message needs the page's width,
        // which a table's third column does not get on a phone.
        @for (cell, column) in row.cells.iter().zip(&site.columns) {
            section.outcome {
                @match cell {
                    Some(result) => {
                        @let look = look(result.status);
                        h3 {
                            (column.label) " "
                            span.chip.(look.class) { span.sym { (look.symbol) } " " (look.word) }
                        }
                        @if let Some(why) = explanation(result) {
                            details open[is_failing(result.status)] {
                                summary { (look.meaning) }
                                (why)
                            }
                        }
                    },
                    None => {
                        h3 { (column.label) " " span.chip.s-none { "not run" } }
                    },
                }
            }
        }
        h2 { "Source" }
        @match &row.source {
            Some(source) => pre.source { (source) },
            None => p.note { "The suite has no file " code { (row.path) } "." },
        }
    };
    page(&root, &row.title, "", body)
}

/// What the statuses mean.
fn legend() -> Markup {
    html! {
        details.legend {
            summary { "What the statuses mean" }
            ul {
                @for status in Status::ALL {
                    @let look = look(status);
                    li { span.chip.(look.class) { span.sym { (look.symbol) } " " (look.word) } " " (look.meaning) }
                }
            }
        }
    }
}
