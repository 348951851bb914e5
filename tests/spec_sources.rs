//! Every phrase the spec quotes from a man page is in that man page, and every phrase it quotes
//! from Python's documentation is in CPython's documentation or docstrings.
//!
//! A quotation is a `"…"` span outside code spans and fenced blocks. It belongs to the source the
//! same paragraph or list item names last before it — `recv(2)`, `Python`, or another kind of
//! source (`POSIX`, `RFC`, `CPython`, `tutorial`, `Linux`, …, which are not checked) — provided no
//! sentence ends (`.`, `;`) between that name, or that source's previous quotation, and the
//! quotation. A quotation with no such source is the spec's own wording (a term, an error's
//! message) and is not checked. Inside a quotation, `…` or `...` marks an elision: each piece
//! must be found, in order.
//!
//! Man pages are rendered with `man` (`MANWIDTH=1000`, through `col -b`); Python's
//! documentation is read from the Debian `python3.11-doc` sources
//! (`/usr/share/doc/python3*/html/_sources/`) and from `pydoc` of the `socket` module. Both sides
//! are normalised: whitespace collapsed, typographic quotes and hyphens made ASCII, reST and
//! Markdown markup (roles, backticks, `*`) removed. A source that is not installed is skipped
//! with a message, never failed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Who a quotation is attributed to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    /// A man page: name and section, as in `recv(2)`.
    Man(String, char),
    /// Python's documentation (the `socket` module's reference, its HOWTO, its docstrings).
    Python,
    /// A source this test cannot read (POSIX, an RFC, the tutorial, kernel or CPython source,
    /// an experiment's output).
    Other(&'static str),
}

#[derive(Debug)]
struct Quotation {
    file: String,
    line: usize,
    source: Option<Source>,
    text: String,
}

/// Words that name a source that is not checked. Matched as whole words in prose.
const OTHER_SOURCES: &[&str] = &[
    "CPython", "POSIX", "RFC", "tutorial", "Tutorial", "Linux", "glibc", "socket2", "kernel",
];

fn spec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("spec")
}

/// The requirement documents: every `spec/*.md` except the formats, which quote no sources.
fn spec_documents() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(spec_dir())
        .expect("spec/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name != "scenario-format.md" && name != "driver-protocol.md"
        })
        .collect();
    files.sort();
    files
}

/// Splits a Markdown document into blocks (paragraphs and list items), each with its first line
/// number, leaving out fenced code blocks and headings.
fn blocks(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    let mut fenced = false;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            fenced = !fenced;
            out.extend(current.take());
            continue;
        }
        if fenced {
            continue;
        }
        let starts_item = trimmed.starts_with("- ")
            || trimmed.split_once(". ").is_some_and(|(n, _)| {
                !n.is_empty() && n.len() <= 2 && n.chars().all(|c| c.is_ascii_digit())
            });
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('|') {
            out.extend(current.take());
            continue;
        }
        if starts_item || line.starts_with("**") {
            out.extend(current.take());
        }
        match &mut current {
            Some((_, block)) => {
                block.push('\n');
                block.push_str(trimmed);
            }
            None => current = Some((i + 1, trimmed.to_string())),
        }
    }
    out.extend(current);
    out
}

/// The last source named in `prose` (text outside quotations and code), with the byte offset
/// just after it.
fn last_source(prose: &str) -> Option<(usize, Source)> {
    let bytes = prose.as_bytes();
    let mut found: Option<(usize, Source)> = None;
    let word_start =
        |i: usize| i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
    let word_end =
        |j: usize| j >= bytes.len() || !(bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_');
    let mut i = 0;
    while i < bytes.len() {
        if !word_start(i) || !(bytes[i].is_ascii_alphabetic()) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
            j += 1;
        }
        let word = &prose[i..j];
        // name(N)
        if bytes.get(j) == Some(&b'(')
            && bytes.get(j + 1).is_some_and(u8::is_ascii_digit)
            && bytes.get(j + 2) == Some(&b')')
            && word.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        {
            let before = prose[..i].trim_end();
            let system = ["BSD", "FreeBSD", "macOS"]
                .into_iter()
                .find(|b| before.ends_with(b));
            found = Some(match system {
                // Another system's manual is not installed here.
                Some(_) => (j + 3, Source::Other("BSD")),
                None => (j + 3, Source::Man(word.to_string(), bytes[j + 1] as char)),
            });
        } else if word == "Python" && word_end(j) {
            // "Python 3.11 raises …" records an experiment, not the documentation.
            let rest = prose[j..].trim_start();
            if rest.starts_with(|c: char| c.is_ascii_digit()) {
                found = Some((j, Source::Other("experiment")));
            } else {
                found = Some((j, Source::Python));
            }
        } else if let Some(kind) = OTHER_SOURCES.iter().find(|k| **k == word) {
            found = Some((j, Source::Other(kind)));
        }
        i = j;
    }
    found
}

/// The most prose (code spans count as one character) between a source's name and a quotation
/// from it.
const MAX_GAP: usize = 80;

/// Whether a quotation that follows `prose` still belongs to the source named before it: no
/// sentence ends in between, and the gap is short.
fn near(prose: &str) -> bool {
    prose.chars().count() <= MAX_GAP && !sentence_ends(prose)
}

/// Whether a sentence ends in `prose`.
fn sentence_ends(prose: &str) -> bool {
    prose.contains(';')
        || prose
            .char_indices()
            .any(|(i, c)| c == '.' && prose[i + 1..].starts_with(|n: char| n.is_whitespace()))
        || prose.trim_end().ends_with('.')
}

/// The quotations of one block, each attributed as the module documentation describes.
fn block_quotations(file: &str, first_line: usize, block: &str) -> Vec<Quotation> {
    #[derive(PartialEq)]
    enum State {
        Prose,
        Code,
        Quote,
    }
    let mut out = Vec::new();
    let mut state = State::Prose;
    let mut prose = String::new(); // prose since the last attribution point
    let mut quote = String::new();
    let mut quote_line = first_line;
    let mut line = first_line;
    let mut current: Option<Source> = None;
    let experiment = block.starts_with("- **Linux:**");
    for c in block.chars() {
        if c == '\n' {
            line += 1;
        }
        match state {
            State::Prose => match c {
                '`' => {
                    state = State::Code;
                    prose.push('x');
                }
                '"' => {
                    state = State::Quote;
                    quote.clear();
                    quote_line = line;
                }
                _ => prose.push(c),
            },
            State::Code => {
                if c == '`' {
                    state = State::Prose;
                }
            }
            State::Quote => {
                if c == '"' {
                    state = State::Prose;
                    let source = match last_source(&prose) {
                        Some((end, s)) => near(&prose[end..]).then_some(s),
                        None => current.clone().filter(|_| near(&prose)),
                    };
                    // What Python printed in an experiment is not its documentation.
                    let source = match source {
                        Some(Source::Python) if experiment => Some(Source::Other("experiment")),
                        s => s,
                    };
                    out.push(Quotation {
                        file: file.to_string(),
                        line: quote_line,
                        source: source.clone(),
                        text: quote.clone(),
                    });
                    current = source;
                    prose.clear();
                } else {
                    quote.push(c);
                }
            }
        }
    }
    out
}

fn all_quotations() -> Vec<Quotation> {
    let mut out = Vec::new();
    for path in spec_documents() {
        let text = std::fs::read_to_string(&path).expect("a spec document is readable");
        let name = format!("spec/{}", path.file_name().unwrap().to_string_lossy());
        for (line, block) in blocks(&text) {
            out.extend(block_quotations(&name, line, &block));
        }
    }
    out
}

/// Renders reST roles as Sphinx shows them: `:meth:`~socket.recv`` as `recv()`,
/// `:const:`AF_INET`` as `AF_INET`, `:ref:`text <label>`` as `text`.
fn render_roles(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(colon) = rest.find(':') {
        let after = &rest[colon + 1..];
        let role_len = after.find(":`").filter(|n| {
            *n > 0
                && after[..*n]
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-')
        });
        let Some(n) = role_len else {
            out.push_str(&rest[..=colon]);
            rest = after;
            continue;
        };
        let role = &after[..n];
        let body = &after[n + 2..];
        let Some(close) = body.find('`') else {
            out.push_str(&rest[..=colon]);
            rest = after;
            continue;
        };
        out.push_str(&rest[..colon]);
        let mut target = &body[..close];
        if let Some((label, _)) = target.split_once(" <") {
            target = label;
        }
        if let Some(short) = target.strip_prefix('~') {
            target = short.rsplit('.').next().unwrap_or(short);
        }
        out.push_str(target);
        if matches!(role, "meth" | "func") && !target.ends_with(')') {
            out.push_str("()");
        }
        rest = &body[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Collapses whitespace, makes typographic punctuation ASCII and removes markup, so a phrase
/// and its source compare equal however each was typeset. Double quotes become single ones: a
/// quotation inside a quotation is written with single quotes.
fn normalise(text: &str) -> String {
    let text = render_roles(text);
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2212}' => s.push('-'),
            '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201c}' | '\u{201d}' | '"' => s.push('\''),
            '\u{00a0}' => s.push(' '),
            '`' | '*' | '\\' => {}
            _ => s.push(c),
        }
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The pieces of a quotation between its elisions.
fn pieces(quotation: &str) -> Vec<String> {
    quotation
        .replace("...", "…")
        .split('…')
        .map(normalise)
        .map(|p| {
            p.trim_matches(|c: char| c == ' ' || c == ',' || c == '.')
                .to_string()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// Whether every piece occurs in `haystack`, in order.
fn found_in(pieces: &[String], haystack: &str) -> bool {
    let mut from = 0;
    for piece in pieces {
        match haystack[from..].find(piece.as_str()) {
            Some(at) => from += at + piece.len(),
            None => return false,
        }
    }
    true
}

/// A man page as plain text, or `None` where `man` or the page is missing.
fn man_page(name: &str, section: char) -> Option<String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("man {section} {name} 2>/dev/null | col -b"))
        .env("MANWIDTH", "1000")
        .env("MAN_KEEP_FORMATTING", "0")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.success() && text.lines().count() > 5).then(|| normalise(&text))
}

/// Python's documentation as one text: the reST sources Debian's `python3.X-doc` installs and
/// the `socket` module's docstrings; `None` where neither is available.
fn python_docs() -> Option<String> {
    let mut text = String::new();
    if let Ok(dirs) = std::fs::read_dir("/usr/share/doc") {
        let mut dirs: Vec<PathBuf> = dirs.flatten().map(|e| e.path()).collect();
        dirs.sort();
        for dir in dirs {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with("python3.") {
                continue;
            }
            for page in ["library/socket.rst.txt", "howto/sockets.rst.txt"] {
                if let Ok(t) = std::fs::read_to_string(dir.join("html/_sources").join(page)) {
                    text.push_str(&t);
                    text.push('\n');
                }
            }
        }
    }
    let pydoc = Command::new("python3")
        .args([
            "-c",
            "import pydoc, socket; print(pydoc.render_doc(socket, renderer=pydoc.plaintext))",
        ])
        .output();
    if let Ok(out) = pydoc {
        if out.status.success() {
            text.push_str(&String::from_utf8_lossy(&out.stdout));
        }
    }
    (!text.is_empty()).then(|| normalise(&text))
}

#[test]
fn every_quotation_of_a_man_page_or_of_python_is_in_that_source() {
    let quotations = all_quotations();
    if std::env::var_os("SPEC_SOURCES_LIST").is_some() {
        for q in &quotations {
            println!("{}:{}: {:?} {:?}", q.file, q.line, q.source, q.text);
        }
    }
    let mut pages: HashMap<(String, char), Option<String>> = HashMap::new();
    let mut python: Option<Option<String>> = None;
    let (mut man_checked, mut python_checked, mut skipped, mut other, mut own) = (0, 0, 0, 0, 0);
    let mut missing = Vec::new();
    let mut absent = Vec::new();
    for q in &quotations {
        let haystack = match &q.source {
            Some(Source::Man(name, section)) => {
                let page = pages
                    .entry((name.clone(), *section))
                    .or_insert_with(|| man_page(name, *section));
                if page.is_none() {
                    absent.push(format!("{name}({section})"));
                }
                page.as_deref()
            }
            Some(Source::Python) => {
                let docs = python.get_or_insert_with(python_docs);
                if docs.is_none() {
                    absent.push("Python's documentation".to_string());
                }
                docs.as_deref()
            }
            Some(Source::Other(_)) => {
                other += 1;
                continue;
            }
            None => {
                own += 1;
                continue;
            }
        };
        let Some(haystack) = haystack else {
            skipped += 1;
            continue;
        };
        match q.source {
            Some(Source::Man(..)) => man_checked += 1,
            _ => python_checked += 1,
        }
        if !found_in(&pieces(&q.text), haystack) {
            missing.push(format!(
                "{}:{}: {:?} is not in {}",
                q.file,
                q.line,
                q.text,
                match &q.source {
                    Some(Source::Man(n, s)) => format!("{n}({s})"),
                    _ => "Python's documentation".to_string(),
                }
            ));
        }
    }
    absent.sort();
    absent.dedup();
    for source in &absent {
        println!("skipped: {source} is not installed here; its quotations are not checked");
    }
    println!(
        "{} quotations: {man_checked} checked against man pages, {python_checked} against \
         Python's documentation, {skipped} skipped (source not installed), {other} from sources \
         not checked (POSIX, RFCs, the tutorial, source code, experiments), {own} the spec's own",
        quotations.len()
    );
    assert!(
        missing.is_empty(),
        "{} quotation(s) not found in their source (whitespace, typographic quotes and markup \
         are ignored; … marks an elision):\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn quotations_are_attributed_to_the_source_named_before_them() {
    let text = "- **Sources:** send(2): \"ENOTCONN The socket\"; POSIX send: \"[EPIPE] gone\"; \
                Python `socket.recv` (\"See the Unix manual page\" and \"more\"). On Linux the \
                \"port unreachable\" error is dropped.";
    let qs = block_quotations("x.md", 1, text);
    let got: Vec<(&str, Option<Source>)> = qs
        .iter()
        .map(|q| (q.text.as_str(), q.source.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("ENOTCONN The socket", Some(Source::Man("send".into(), '2'))),
            ("[EPIPE] gone", Some(Source::Other("POSIX"))),
            ("See the Unix manual page", Some(Source::Python)),
            ("more", Some(Source::Python)),
            ("port unreachable", Some(Source::Other("Linux"))),
        ]
    );
}

#[test]
fn normalising_ignores_typesetting() {
    assert_eq!(
        normalise("The :meth:`~socket.recv`  call\n   is\u{2010}blocking ``x`` :const:`A`"),
        "The recv() call is-blocking x A"
    );
    assert!(found_in(&pieces("a b … d"), "a b c d"));
    assert!(!found_in(&pieces("d … a"), "a b c d"));
}
