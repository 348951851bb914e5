//! The one module that knows which YAML libraries parse sockspec's files (scenarios, driver
//! configurations).
//!
//! serde_yaml is no longer maintained; swapping it for a maintained fork with the same API
//! (serde_yml, serde_norway, serde_yaml_ng) is the `use … as backend` line below.
//! yaml-rust2 (maintained) reads the same text once more for the positions of nodes, which
//! serde does not expose: the runner reports failures as `file:line` of the step.

use serde::de::DeserializeOwned;
use serde_yaml as backend;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A line and column in a YAML file, both counted from 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1.
    pub column: usize,
}

/// A YAML error with its position.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    /// Where (line 0 when the parser could not tell).
    pub location: Location,
    /// What is wrong, with the path of keys leading to it (`actors.server[1].listen: …`).
    pub message: String,
}

/// Deserializes `text`. Externally tagged enums are read as single-key maps
/// (`how: read`, `{bind: {…}}`), which keeps positions in error messages.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, SyntaxError> {
    let deserializer = backend::Deserializer::from_str(text);
    backend::with::singleton_map_recursive::deserialize(deserializer).map_err(|e| {
        let location = e
            .location()
            .map(|l| Location {
                line: l.line(),
                column: l.column(),
            })
            .unwrap_or_default();
        let mut message = e.to_string();
        // The backend appends its own " at line L column C"; we print positions our way.
        if let Some(at) = message.rfind(" at line ") {
            message.truncate(at);
        }
        SyntaxError { location, message }
    })
}

/// Serializes `value` as YAML.
pub fn to_string<T: serde::Serialize>(value: &T) -> Result<String, String> {
    backend::to_string(value).map_err(|e| e.to_string())
}

/// One step in a path into the document: a map key or a sequence index.
#[derive(Clone, Copy, Debug)]
pub enum Seg<'a> {
    /// A key in a map.
    Key(&'a str),
    /// An index in a sequence.
    Index(usize),
}

/// A YAML document with the position of every node, for pointing at things after parsing.
#[derive(Debug, Default)]
pub struct Positions {
    root: Option<Node>,
}

#[derive(Debug)]
enum Node {
    Scalar(String, Location),
    Seq(Vec<Node>, Location),
    Map(Vec<(Node, Node)>, Location),
}

impl Node {
    /// A map's position is its first key's (the parser marks block maps oddly).
    fn location(&self) -> Location {
        match self {
            Node::Scalar(_, l) | Node::Seq(_, l) => *l,
            Node::Map(entries, l) => entries.first().map_or(*l, |(k, _)| k.location()),
        }
    }
}

impl Positions {
    /// Reads the positions of `text`'s nodes (empty if it does not parse).
    pub fn of(text: &str) -> Positions {
        let mut builder = Builder::default();
        let parsed = Parser::new_from_str(text).load(&mut builder, false);
        match (parsed, builder.stack.pop()) {
            (Ok(()), Some(Frame::Doc(root))) => Positions { root },
            _ => Positions::default(),
        }
    }

    /// The position of the node at `path`, if it exists.
    pub fn find(&self, path: &[Seg]) -> Option<Location> {
        self.node(path).map(Node::location)
    }

    /// The position of the key `key` of the map at `path` (where the key itself is written).
    pub fn find_key(&self, path: &[Seg], key: &str) -> Option<Location> {
        match self.node(path)? {
            Node::Map(entries, _) => entries
                .iter()
                .find(|(k, _)| matches!(k, Node::Scalar(s, _) if s == key))
                .map(|(k, _)| k.location()),
            _ => None,
        }
    }

    fn node(&self, path: &[Seg]) -> Option<&Node> {
        let mut node = self.root.as_ref()?;
        for seg in path {
            node = match (node, seg) {
                (Node::Map(entries, _), Seg::Key(key)) => entries
                    .iter()
                    .find(|(k, _)| matches!(k, Node::Scalar(s, _) if s == key))
                    .map(|(_, v)| v)?,
                (Node::Seq(items, _), Seg::Index(i)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }
}

enum Frame {
    Doc(Option<Node>),
    Seq(Vec<Node>, Location),
    Map(Vec<(Node, Node)>, Option<Node>, Location),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
}

impl Builder {
    fn push_node(&mut self, node: Node) {
        match self.stack.last_mut() {
            Some(Frame::Doc(slot)) => *slot = Some(node),
            Some(Frame::Seq(items, _)) => items.push(node),
            Some(Frame::Map(entries, pending, _)) => match pending.take() {
                Some(key) => entries.push((key, node)),
                None => *pending = Some(node),
            },
            None => {}
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let location = Location {
            line: mark.line(),
            column: mark.col() + 1,
        };
        match event {
            Event::DocumentStart => self.stack.push(Frame::Doc(None)),
            Event::SequenceStart(..) => self.stack.push(Frame::Seq(Vec::new(), location)),
            Event::MappingStart(..) => self.stack.push(Frame::Map(Vec::new(), None, location)),
            Event::SequenceEnd => {
                if let Some(Frame::Seq(items, l)) = self.stack.pop() {
                    self.push_node(Node::Seq(items, l));
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map(entries, _, l)) = self.stack.pop() {
                    self.push_node(Node::Map(entries, l));
                }
            }
            Event::Scalar(value, ..) => self.push_node(Node::Scalar(value, location)),
            Event::Alias(_) => self.push_node(Node::Scalar(String::new(), location)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "title: x\nactors:\n  server:\n    - socket: {family: inet, as: s}\n    - listen:\n        socket: s\n";

    #[test]
    fn positions_point_at_each_step() {
        let p = Positions::of(DOC);
        let step = |i| {
            p.find(&[Seg::Key("actors"), Seg::Key("server"), Seg::Index(i)])
                .unwrap()
        };
        assert_eq!(step(0), Location { line: 4, column: 7 });
        assert_eq!(step(1), Location { line: 5, column: 7 });
    }

    #[test]
    fn syntax_error_carries_line_and_column() {
        let e = from_str::<std::collections::BTreeMap<String, u32>>("a: 1\nb: [\n").unwrap_err();
        assert!(e.location.line >= 2, "{e:?}");
        assert!(!e.message.contains(" at line "), "{}", e.message);
    }
}
