//! The report as its readers meet it: runs saved by `sockspec run --format json`, the site
//! `sockspec report` builds from them, the Markdown summary, and the pages in a real browser
//! (headless Chromium; skipped, saying so, where it is not installed).

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;
use common::{root, sockspec, text};

/// A scenario that passes everywhere, and one that the broken driver fails.
const PASSES: &str = "fixtures/tcp/server/bind-port-in-use-by-listener.yaml";
const FAILS: &str = "fixtures/data/sendall-8mib-waits-for-reader-and-arrives-intact.yaml";
const FAILING_PAGE: &str = "scenario/data/sendall-8mib-waits-for-reader-and-arrives-intact.html";
/// The driver that drops the last byte of large sends.
const BROKEN: &str = "exec:python3 tests/drivers/drops_last_byte.py";

/// Real runs on loopback, saved: the reference (all pass) and the broken driver (one fails).
fn saved_runs(dir: &Path) -> (PathBuf, PathBuf) {
    let mut paths = Vec::new();
    for (name, implementation, code) in [("ref.json", "reference", 0), ("broken.json", BROKEN, 1)] {
        let out = sockspec(&[
            "run",
            "--impl",
            implementation,
            "--format",
            "json",
            PASSES,
            FAILS,
        ]);
        assert_eq!(out.status.code(), Some(code), "{}", text(&out.stderr));
        let path = dir.join(name);
        std::fs::write(&path, &out.stdout).unwrap();
        paths.push(path);
    }
    (paths.remove(0), paths.remove(0))
}

/// The site of both runs, in `dir/site`.
fn built_site(dir: &Path) -> PathBuf {
    let (reference, broken) = saved_runs(dir);
    let site = dir.join("site");
    let out = sockspec(&[
        "report",
        reference.to_str().unwrap(),
        broken.to_str().unwrap(),
        "--out",
        site.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    site
}

#[test]
fn a_saved_run_records_the_implementation_its_version_the_suite_the_date_and_the_machine() {
    let dir = tempfile::tempdir().unwrap();
    let (_, broken) = saved_runs(dir.path());
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(broken).unwrap()).unwrap();
    assert_eq!(doc["format_version"], 1);
    assert_eq!(
        doc["implementation"],
        "python3 tests/drivers/drops_last_byte.py"
    );
    // The driver's hello names its implementation and version.
    assert!(
        doc["implementation_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("cpython 3.")),
        "{doc}"
    );
    assert_eq!(doc["suite_version"], env!("CARGO_PKG_VERSION"));
    assert!(doc["date"].as_str().is_some_and(|d| d.len() == 20), "{doc}");
    assert_eq!(doc["machine"]["arch"], std::env::consts::ARCH);
    assert_eq!(doc["summary"]["failed"], 1);
}

#[test]
fn a_saved_run_is_valid_against_the_committed_schema() {
    let check = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output();
    if !check.is_ok_and(|o| o.status.success()) {
        eprintln!(
            "skipped: Python's jsonschema is not installed (apt-get install python3-jsonschema)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (reference, broken) = saved_runs(dir.path());
    let script = "import json, sys, jsonschema\n\
                  schema = json.load(open('spec/report.schema.json'))\n\
                  for path in sys.argv[1:]:\n    \
                      jsonschema.validate(json.load(open(path)), schema)\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&reference)
        .arg(&broken)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn report_builds_the_site_from_saved_runs_with_the_failure_and_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let site = built_site(dir.path());
    let page = std::fs::read_to_string(site.join(FAILING_PAGE)).unwrap();
    assert!(page.contains("data differs at byte 8388607"), "{page}");
    assert!(page.contains("title: sendall of 8 MiB"), "{page}");
    let requirements = std::fs::read_to_string(site.join("requirements.html")).unwrap();
    assert!(requirements.contains("id=\"data.sendall\""));
    let summary = std::fs::read_to_string(site.join("summary.md")).unwrap();
    assert!(summary.contains("### Failures (1)"), "{summary}");
}

#[test]
fn report_outside_a_checkout_shows_the_built_in_suites_text_not_the_current_directorys() {
    let dir = tempfile::tempdir().unwrap();
    let (_, broken) = saved_runs(dir.path());
    // A directory that is no suite, but has files of the suite's names: they must not be shown.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(elsewhere.join("spec")).unwrap();
    std::fs::create_dir_all(elsewhere.join("fixtures/data")).unwrap();
    std::fs::write(elsewhere.join("spec/data.md"), "DECOY SPEC\n").unwrap();
    std::fs::write(elsewhere.join(FAILS), "DECOY\n").unwrap();
    let site = dir.path().join("site");
    let out = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args([
            "report",
            broken.to_str().unwrap(),
            "--out",
            site.to_str().unwrap(),
        ])
        .current_dir(&elsewhere)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let page = std::fs::read_to_string(site.join(FAILING_PAGE)).unwrap();
    assert!(page.contains("title: sendall of 8 MiB"), "{page}");
    assert!(!page.contains("DECOY"), "{page}");
    let requirements = std::fs::read_to_string(site.join("requirements.html")).unwrap();
    assert!(!requirements.contains("DECOY"));
    assert!(!requirements.contains("<pre class=\"spec\"></pre>"));
}

#[test]
fn report_refuses_every_bad_run_with_its_place_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"format_version\": 1,\n \"implementation\": 3}").unwrap();
    let old = dir.path().join("old.json");
    std::fs::write(&old, "{\"format_version\": 0}").unwrap();
    let out_dir = dir.path().join("site");
    let out = sockspec(&[
        "report",
        bad.to_str().unwrap(),
        old.to_str().unwrap(),
        dir.path().join("missing.json").to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("bad.json:2:"), "{err}");
    assert!(
        err.contains("old.json: the run's format_version is 0"),
        "{err}"
    );
    assert!(err.contains("missing.json: cannot read the run"), "{err}");
    assert!(!out_dir.exists());
}

#[test]
fn run_markdown_gives_counts_then_each_failure_with_its_message() {
    let out = sockspec(&[
        "run", "--impl", BROKEN, "--format", "markdown", PASSES, FAILS,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let md = text(&out.stdout);
    assert!(
        md.contains("| python3 tests/drivers/drops_last_byte.py (cpython 3."),
        "{md}"
    );
    assert!(
        md.contains(" | 2 | 1 | 1 | 0 | 0 | 0 | 0 | 0 | 0 |"),
        "{md}"
    );
    assert!(
        md.contains("- **fail** `data/sendall-8mib-waits-for-reader-and-arrives-intact`"),
        "{md}"
    );
    assert!(md.contains("data differs at byte 8388607"), "{md}");
}

// ---- In a real browser --------------------------------------------------------------------

/// The Chromium to use: `SOCKSPEC_CHROMIUM`, else the first of the usual names on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SOCKSPEC_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Headless Chromium, in a profile of its own that is removed afterwards, bounded in time, and
/// with every process it started killed when it ends (it starts helpers in its process group).
struct Browser {
    binary: PathBuf,
    profile: tempfile::TempDir,
}

impl Browser {
    fn new(binary: PathBuf) -> Browser {
        Browser {
            binary,
            profile: tempfile::tempdir().unwrap(),
        }
    }

    /// Runs it with `args`; returns its standard output.
    fn run(&self, args: &[String]) -> String {
        let mut child = Command::new(&self.binary)
            .args([
                "--headless",
                // CI runs as root, where Chromium's sandbox cannot start.
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--hide-scrollbars",
                // The check page reads the report's pages from its frames.
                "--allow-file-access-from-files",
                // Scripts get this much time (virtual, so no waiting) before the DOM is taken.
                "--virtual-time-budget=5000",
            ])
            .arg(format!("--user-data-dir={}", self.profile.path().display()))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromium starts");
        let group = child.id() as i32;
        let mut stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut out = String::new();
            let _ = stdout.read_to_string(&mut out);
            let _ = tx.send(out);
        });
        // Its output ends when it exits; a browser that hangs is killed, and the test fails.
        let out = rx.recv_timeout(Duration::from_secs(90));
        // SAFETY: killpg only sends a signal, to the group this test started.
        unsafe { libc::killpg(group, libc::SIGKILL) };
        let _ = child.wait();
        out.expect("chromium finished within 90 s")
    }

    fn dump_dom(&self, url: &str) -> String {
        self.run(&["--dump-dom".to_string(), url.to_string()])
    }

    fn screenshot(&self, url: &str, png: &Path, width: u32, height: u32) {
        let _ = std::fs::remove_file(png);
        self.run(&[
            format!("--screenshot={}", png.display()),
            format!("--window-size={width},{height}"),
            url.to_string(),
        ]);
        let size = std::fs::metadata(png).map(|m| m.len()).unwrap_or(0);
        assert!(size > 1000, "no screenshot written to {}", png.display());
    }
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Every `href="…"` and `src="…"` of `html`, unescaped.
fn links(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["href=\"", "src=\""] {
        let mut rest = html;
        while let Some(start) = rest.find(attribute) {
            rest = &rest[start + attribute.len()..];
            let end = rest.find('"').unwrap_or(rest.len());
            found.push(rest[..end].replace("&amp;", "&"));
            rest = &rest[end..];
        }
    }
    found
}

/// Every local link of `html` (the page `page` of the site in `site`) names a file of the site,
/// and its fragment an element of that file. Returns the links checked.
fn check_links(site: &Path, page: &Path, html: &str) -> usize {
    let mut checked = 0;
    for link in links(html) {
        assert!(
            !link.starts_with("http:") && !link.starts_with("https:") && !link.starts_with("//"),
            "{}: an external link {link}",
            page.display()
        );
        let (file, fragment) = link.split_once('#').unwrap_or((&link, ""));
        let target = if file.is_empty() {
            page.to_path_buf()
        } else {
            page.parent().unwrap().join(file)
        };
        let target = target
            .canonicalize()
            .unwrap_or_else(|_| panic!("{}: {link} names no file", page.display()));
        assert!(
            target.starts_with(site),
            "{}: {link} leaves the site",
            page.display()
        );
        if !fragment.is_empty() {
            let content = std::fs::read_to_string(&target).unwrap();
            assert!(
                content.contains(&format!("id=\"{fragment}\"")),
                "{}: {link}: no element has the id {fragment}",
                page.display()
            );
        }
        checked += 1;
    }
    checked
}

/// A page that loads the report's pages in frames and does what a reader does: expands a
/// failure, and filters the list with the script. It writes what it saw into its body.
const CHECKS: &str = r#"<!DOCTYPE html><html><body><pre id="out"></pre>
<iframe id="list" src="site/failures.html" width="1000" height="800"></iframe>
<iframe id="all" src="site/scenarios.html" width="1000" height="800"></iframe>
<script>
function say(line) { document.getElementById("out").textContent += line + "\n"; }
var loaded = 0;
function both() {
  if (++loaded < 2) return;
  try {
    var doc = document.getElementById("list").contentDocument;
    var details = doc.querySelector("td.s-fail details");
    var message = details.querySelector(".message");
    say("collapsed-visible " + message.checkVisibility());
    details.querySelector("summary").click();
    say("open " + details.open);
    say("expanded-visible " + message.checkVisibility());
    say("message " + details.textContent.indexOf("data differs at byte 8388607"));
    var all = document.getElementById("all").contentDocument;
    var rows = function () {
      return Array.prototype.filter.call(all.querySelectorAll("section.area tbody tr"),
        function (r) { return r.offsetParent !== null; }).length;
    };
    say("rows-all " + rows());
    all.querySelector('a[data-filter="failures"]').click();
    say("rows-failures " + rows());
    say("shown " + all.querySelector(".shown").textContent);
    say("done");
  } catch (e) { say("error " + e); }
}
document.getElementById("list").onload = both;
document.getElementById("all").onload = both;
</script></body></html>
"#;

#[test]
fn the_report_in_headless_chromium_links_resolve_failures_expand_filters_work() {
    let Some(binary) = chromium() else {
        eprintln!(
            "skipped: no Chromium (apt-get install chromium, or set SOCKSPEC_CHROMIUM to a binary)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let site = built_site(dir.path()).canonicalize().unwrap();
    let browser = Browser::new(binary);

    // Links, on the pages as the browser builds them, and in every file of the site.
    let mut checked = 0;
    for page in [
        "index.html",
        "scenarios.html",
        "failures.html",
        "differences.html",
        "requirements.html",
        FAILING_PAGE,
    ] {
        let path = site.join(page);
        let dom = browser.dump_dom(&file_url(&path));
        assert!(dom.contains("<main>"), "{page} did not load: {dom}");
        checked += check_links(&site, &path, &dom);
    }
    for entry in walk(&site) {
        if entry.extension().is_some_and(|e| e == "html") {
            let html = std::fs::read_to_string(&entry).unwrap();
            checked += check_links(&site, &entry, &html);
        }
    }
    assert!(checked > 100, "only {checked} links");

    // The failing scenario's page shows its message open.
    let dom = browser.dump_dom(&file_url(&site.join(FAILING_PAGE)));
    let open = dom
        .find("<details open=\"\">")
        .expect("a failure open on its page");
    assert!(
        dom[open..].contains("data differs at byte 8388607"),
        "{dom}"
    );

    // A reader expands a failure in a list, and filters the list with the script.
    let checks = dir.path().join("checks.html");
    std::fs::write(&checks, CHECKS).unwrap();
    let dom = browser.dump_dom(&file_url(&checks));
    for seen in [
        "collapsed-visible false",
        "open true",
        "expanded-visible true",
        "rows-all 2",
        "rows-failures 1",
        "shown 1",
        "done",
    ] {
        assert!(dom.contains(seen), "expected `{seen}` in {dom}");
    }
    assert!(!dom.contains("message -1"), "{dom}");

    // Screenshots: the overview, and a failure at a phone's width (docs/ has copies).
    let shots = root().join("target/sockspec-report-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    browser.screenshot(
        &file_url(&site.join("index.html")),
        &shots.join("overview.png"),
        1000,
        560,
    );
    browser.screenshot(
        &file_url(&site.join(FAILING_PAGE)),
        &shots.join("failure-phone.png"),
        390,
        844,
    );
}

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
