//! The requirement index: the ids that `spec/` defines, where, and at what level.
//!
//! A requirement is a Markdown heading of the form ``### `tcp.bind.in-use` — title`` in any
//! `.md` file under the spec directory, followed by a line `**Level:** MUST` (or SHOULD, MAY…).
//! `spec/README.md` describes the scheme.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// An RFC 2119 requirement level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// MUST / MUST NOT / REQUIRED / SHALL.
    Must,
    /// SHOULD / SHOULD NOT / RECOMMENDED.
    Should,
    /// MAY / OPTIONAL: the behaviour is implementation-defined within allowed outcomes.
    May,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        })
    }
}

/// One requirement.
#[derive(Clone, Debug)]
pub struct Requirement {
    /// The stable id (`tcp.bind.in-use`).
    pub id: String,
    /// The heading's title.
    pub title: String,
    /// Its level, if the spec states one.
    pub level: Option<Level>,
    /// The spec file that defines it.
    pub file: PathBuf,
    /// The heading's line, from 1.
    pub line: usize,
}

/// Every requirement the spec defines, by id.
#[derive(Clone, Debug, Default)]
pub struct Requirements {
    by_id: BTreeMap<String, Requirement>,
}

/// The spec could not be read, or defines an id twice.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// A file or directory could not be read.
    #[error("{path}: cannot read the spec: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Two headings define the same id.
    #[error("{file}:{line}: requirement `{id}` is already defined at {first}")]
    Duplicate {
        /// The id.
        id: String,
        /// The second definition's file.
        file: PathBuf,
        /// Its line.
        line: usize,
        /// Where the first one is (`file:line`).
        first: String,
    },
}

impl Requirements {
    /// Reads every `.md` file under `dir`.
    pub fn load(dir: &Path) -> Result<Requirements, SpecError> {
        let mut files = Vec::new();
        collect_markdown(dir, &mut files)?;
        files.sort();
        let mut requirements = Requirements::default();
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|source| SpecError::Read {
                path: file.clone(),
                source,
            })?;
            requirements.add_file(&file, &text)?;
        }
        Ok(requirements)
    }

    /// Adds the requirements one Markdown text defines.
    pub fn add_file(&mut self, file: &Path, text: &str) -> Result<(), SpecError> {
        let lines: Vec<&str> = text.lines().collect();
        let mut in_fence = false;
        for (index, line) in lines.iter().enumerate() {
            // Examples of the format inside ``` fences are not requirements.
            if line.trim_start().starts_with("```") {
                in_fence = !in_fence;
            }
            if in_fence {
                continue;
            }
            let Some(rest) = line.strip_prefix("### `") else {
                continue;
            };
            let Some((id, title)) = rest.split_once('`') else {
                continue;
            };
            let title = title
                .trim()
                .trim_start_matches(['—', '-', ':'])
                .trim()
                .to_string();
            let level = lines[index + 1..]
                .iter()
                .take_while(|l| !l.starts_with('#'))
                .find_map(|l| l.strip_prefix("**Level:**").map(parse_level))
                .flatten();
            let requirement = Requirement {
                id: id.to_string(),
                title,
                level,
                file: file.to_path_buf(),
                line: index + 1,
            };
            if let Some(first) = self.by_id.get(id) {
                return Err(SpecError::Duplicate {
                    id: id.to_string(),
                    file: file.to_path_buf(),
                    line: index + 1,
                    first: format!("{}:{}", first.file.display(), first.line),
                });
            }
            self.by_id.insert(id.to_string(), requirement);
        }
        Ok(())
    }

    /// The requirement with this id.
    pub fn get(&self, id: &str) -> Option<&Requirement> {
        self.by_id.get(id)
    }

    /// True when the spec defines `id`.
    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// Every requirement, ordered by id.
    pub fn iter(&self) -> impl Iterator<Item = &Requirement> {
        self.by_id.values()
    }

    /// How many requirements there are.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

fn parse_level(text: &str) -> Option<Level> {
    let text = text.trim();
    if text.starts_with("MUST") || text.starts_with("SHALL") || text.starts_with("REQUIRED") {
        Some(Level::Must)
    } else if text.starts_with("SHOULD") || text.starts_with("RECOMMENDED") {
        Some(Level::Should)
    } else if text.starts_with("MAY") || text.starts_with("OPTIONAL") {
        Some(Level::May)
    } else {
        None
    }
}

fn collect_markdown(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), SpecError> {
    let read_error = |source| SpecError::Read {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        if path.is_dir() {
            collect_markdown(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_with_backticked_ids_define_requirements() {
        let mut r = Requirements::default();
        r.add_file(
            Path::new("spec/x.md"),
            "# X\n\n### `tcp.bind.in-use` — Binding a held port fails\n**Level:** MUST\n\ntext\n### `a.b` — other\n**Level:** MAY\n",
        )
        .unwrap();
        let req = r.get("tcp.bind.in-use").unwrap();
        assert_eq!(
            (req.line, req.level, req.title.as_str()),
            (3, Some(Level::Must), "Binding a held port fails")
        );
        assert_eq!(r.get("a.b").unwrap().level, Some(Level::May));
    }

    #[test]
    fn headings_inside_code_fences_are_examples_not_requirements() {
        let mut r = Requirements::default();
        r.add_file(
            Path::new("s.md"),
            "```markdown\n### `example.id` — x\n```\n### `real.id` — y\n",
        )
        .unwrap();
        assert!(!r.contains("example.id"));
        assert!(r.contains("real.id"));
    }

    #[test]
    fn duplicate_ids_are_refused_with_both_places() {
        let mut r = Requirements::default();
        let err = r
            .add_file(Path::new("s.md"), "### `a` — one\n### `a` — two\n")
            .unwrap_err();
        assert!(
            err.to_string().contains("s.md:2") && err.to_string().contains("s.md:1"),
            "{err}"
        );
    }
}
