//! The one module that knows which YAML libraries parse sockspec's files (scenarios, driver
//! configurations).
//!
//! serde_yaml is no longer maintained; swapping it for a maintained fork with the same API
//! (serde_yml, serde_norway, serde_yaml_ng) is the `use … as backend` line below. It reads
//! driver configurations and expectation files, and writes YAML.
//! yaml-rust2 (maintained) parses scenario files into a tree of [`Node`]s that keeps every
//! node's position, which serde does not expose, and serde reads values out of that tree: every
//! error has its `file:line:column`, and the runner reports failures as `file:line` of the step.

use serde::de::{self, DeserializeOwned, Visitor};
use serde_yaml as backend;
use std::fmt;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

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
    let text = without_bom(text);
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

/// `text` without a leading byte order mark, which some editors write and none show: a file
/// that starts with one is read as if it did not.
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// A value that cannot be written as YAML (the backend's message; its error type stays inside
/// this module).
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot write YAML: {message}")]
pub struct WriteError {
    /// What the backend said.
    pub message: String,
}

/// Serializes `value` as YAML.
pub fn to_string<T: serde::Serialize>(value: &T) -> Result<String, WriteError> {
    backend::to_string(value).map_err(|e| WriteError {
        message: e.to_string(),
    })
}

/// One step in a path into the document: a map key or a sequence index.
#[derive(Clone, Copy, Debug)]
pub enum Seg<'a> {
    /// A key in a map.
    Key(&'a str),
    /// An index in a sequence.
    Index(usize),
}

/// A YAML document with the position of every node, for pointing at things after parsing and
/// for reading values out of it with their positions ([`Node::deserialize`]).
#[derive(Debug, Default)]
pub struct Positions {
    root: Option<Node>,
}

/// A node of a YAML document, with where it starts.
#[derive(Debug)]
pub enum Node {
    /// A scalar: its text, whether it was plain (unquoted, so `5` is a number and `~` null),
    /// and its position.
    Scalar(String, bool, Location),
    /// A sequence.
    Seq(Vec<Node>, Location),
    /// A map, in file order.
    Map(Vec<(Node, Node)>, Location),
}

impl Node {
    /// Where the node starts. A block map's position is its first key's (the parser marks
    /// block maps oddly).
    pub fn location(&self) -> Location {
        match self {
            Node::Scalar(_, _, l) | Node::Seq(_, l) => *l,
            Node::Map(entries, l) => entries.first().map_or(*l, |(k, _)| k.location()),
        }
    }

    /// The text of a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar(s, _, _) => Some(s),
            _ => None,
        }
    }

    /// Reads a value out of this node. An error carries the position of the innermost node it
    /// concerns.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, SyntaxError> {
        T::deserialize(NodeDeserializer(self)).map_err(|e| SyntaxError {
            location: e.location.unwrap_or_else(|| self.location()),
            message: e.message,
        })
    }

    fn is_null(&self) -> bool {
        matches!(self, Node::Scalar(s, true, _) if matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }
}

impl Positions {
    /// Reads the positions of `text`'s nodes (empty if it does not parse).
    pub fn of(text: &str) -> Positions {
        Positions::parse(text, usize::MAX).unwrap_or_default()
    }

    /// Parses `text`, which must hold at most one document, nested at most `max_depth` levels
    /// (maps and sequences), with no aliases. Time is linear in the text: the depth is checked
    /// as the parser goes, before anything deeper is built.
    pub fn parse(text: &str, max_depth: usize) -> Result<Positions, SyntaxError> {
        let text = without_bom(text);
        let mut parser = Parser::new_from_str(text);
        let mut builder = Builder::default();
        let mut documents = 0;
        let mut depth = 0usize;
        loop {
            let (event, mark) = parser.next_token().map_err(|e| SyntaxError {
                location: location_of(*e.marker()),
                // The scanner has a nesting limit of its own, which it can meet before the
                // parser's events tell ours: say the same thing either way.
                message: match e.info() {
                    "recursion limit exceeded" => too_deep(max_depth),
                    info => info.to_string(),
                },
            })?;
            let location = location_of(mark);
            let fail = |message: String| Err(SyntaxError { location, message });
            match &event {
                Event::StreamEnd => break,
                Event::DocumentStart => {
                    documents += 1;
                    if documents > 1 {
                        return fail(
                            "a second YAML document starts here; a scenario file holds one"
                                .to_string(),
                        );
                    }
                }
                Event::SequenceStart(..) | Event::MappingStart(..) => {
                    depth += 1;
                    if depth > max_depth {
                        return fail(too_deep(max_depth));
                    }
                }
                Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
                Event::Alias(_) => return fail(
                    "aliases (`*name`) are not supported in scenario files: write the value out"
                        .to_string(),
                ),
                _ => {}
            }
            builder.on_event(event, location)?;
        }
        Ok(Positions {
            root: match builder.stack.pop() {
                Some(Frame::Doc(root)) => root,
                _ => None,
            },
        })
    }

    /// The document's root node, if it has one.
    pub fn root(&self) -> Option<&Node> {
        self.root.as_ref()
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
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, _)| k.location()),
            _ => None,
        }
    }

    /// The node at `path`, if it exists.
    pub fn node(&self, path: &[Seg]) -> Option<&Node> {
        let mut node = self.root.as_ref()?;
        for seg in path {
            node = match (node, seg) {
                (Node::Map(entries, _), Seg::Key(key)) => entries
                    .iter()
                    .find(|(k, _)| k.as_str() == Some(*key))
                    .map(|(_, v)| v)?,
                (Node::Seq(items, _), Seg::Index(i)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }
}

fn too_deep(max_depth: usize) -> String {
    format!("nested more than {max_depth} levels deep (the limit for scenario files)")
}

fn location_of(mark: Marker) -> Location {
    Location {
        line: mark.line(),
        column: mark.col() + 1,
    }
}

enum Frame {
    Doc(Option<Node>),
    Seq(Vec<Node>, Location),
    Map(
        Vec<(Node, Node)>,
        Option<Node>,
        Location,
        std::collections::HashSet<String>,
    ),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
}

impl Builder {
    fn push_node(&mut self, node: Node) -> Result<(), SyntaxError> {
        match self.stack.last_mut() {
            Some(Frame::Doc(slot)) => *slot = Some(node),
            Some(Frame::Seq(items, _)) => items.push(node),
            Some(Frame::Map(entries, pending, _, keys)) => match pending.take() {
                Some(key) => entries.push((key, node)),
                None => {
                    if let Some(text) = node.as_str() {
                        if !keys.insert(text.to_string()) {
                            return Err(SyntaxError {
                                location: node.location(),
                                message: format!("duplicate key `{text}`"),
                            });
                        }
                    }
                    *pending = Some(node);
                }
            },
            None => {}
        }
        Ok(())
    }

    fn on_event(&mut self, event: Event, location: Location) -> Result<(), SyntaxError> {
        match event {
            Event::DocumentStart => self.stack.push(Frame::Doc(None)),
            Event::SequenceStart(..) => self.stack.push(Frame::Seq(Vec::new(), location)),
            Event::MappingStart(..) => {
                self.stack
                    .push(Frame::Map(Vec::new(), None, location, Default::default()))
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq(items, l)) = self.stack.pop() {
                    self.push_node(Node::Seq(items, l))?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map(entries, _, l, _)) = self.stack.pop() {
                    self.push_node(Node::Map(entries, l))?;
                }
            }
            Event::Scalar(value, style, _, tag) => {
                // `!!str 5` is the text "5"; other tags change nothing.
                let explicit_str = tag.is_some_and(|t| t.suffix == "str");
                let plain = style == TScalarStyle::Plain && !explicit_str;
                self.push_node(Node::Scalar(value, plain, location))?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// A deserialization error, with the position of the node it concerns once known.
#[derive(Debug)]
struct NodeError {
    location: Option<Location>,
    message: String,
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NodeError {}

impl de::Error for NodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        NodeError {
            location: None,
            message: msg.to_string(),
        }
    }
}

/// Reads serde values out of a [`Node`], resolving plain scalars as YAML 1.2's core schema does
/// (as serde_yaml does): `~`/`null` null, `true`/`false` booleans, integers, floats, else text.
struct NodeDeserializer<'a>(&'a Node);

impl NodeDeserializer<'_> {
    fn at<T>(&self, result: Result<T, NodeError>) -> Result<T, NodeError> {
        result.map_err(|mut e| {
            e.location.get_or_insert(self.0.location());
            e
        })
    }
}

fn resolve_plain<'de, V: Visitor<'de>>(text: &str, visitor: V) -> Result<V::Value, NodeError> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return visitor.visit_unit(),
        "true" | "True" | "TRUE" => return visitor.visit_bool(true),
        "false" | "False" | "FALSE" => return visitor.visit_bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return visitor.visit_f64(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return visitor.visit_f64(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return visitor.visit_f64(f64::NAN),
        _ => {}
    }
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    let radix = [("0x", 16), ("0o", 8), ("0b", 2)]
        .iter()
        .find_map(|(prefix, radix)| unsigned.strip_prefix(prefix).map(|d| (d, *radix)));
    if let Some((digits, radix)) = radix {
        if let Ok(n) = u64::from_str_radix(digits, radix) {
            return visitor.visit_u64(n);
        }
    }
    if let Ok(n) = unsigned.parse::<u64>() {
        if unsigned.bytes().all(|b| b.is_ascii_digit()) {
            return visitor.visit_u64(n);
        }
    }
    if let Some(digits) = text.strip_prefix('-') {
        if digits.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = text.parse::<i64>() {
                return visitor.visit_i64(n);
            }
        }
    }
    let numeric = text.bytes().any(|b| b.is_ascii_digit())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
    if numeric {
        if let Ok(f) = text.parse::<f64>() {
            return visitor.visit_f64(f);
        }
    }
    visitor.visit_str(text)
}

impl<'de> de::Deserializer<'de> for NodeDeserializer<'_> {
    type Error = NodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, NodeError> {
        let result = match self.0 {
            Node::Scalar(text, true, _) => resolve_plain(text, visitor),
            Node::Scalar(text, false, _) => visitor.visit_str(text),
            Node::Seq(items, _) => visitor.visit_seq(Items(items.iter())),
            Node::Map(entries, _) => visitor.visit_map(Entries(entries.iter(), None)),
        };
        self.at(result)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, NodeError> {
        match self.0 {
            Node::Scalar(text, _, _) if !self.0.is_null() => {
                let result = visitor.visit_str(text);
                self.at(result)
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, NodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, NodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, NodeError> {
        if self.0.is_null() {
            visitor.visit_none()
        } else {
            let result = visitor.visit_some(NodeDeserializer(self.0));
            self.at(result)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, NodeError> {
        let result = visitor.visit_newtype_struct(NodeDeserializer(self.0));
        self.at(result)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, NodeError> {
        visitor.visit_unit()
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, NodeError> {
        let result = match self.0 {
            Node::Scalar(text, _, _) => {
                visitor.visit_enum(de::value::StrDeserializer::<NodeError>::new(text))
            }
            Node::Map(entries, _) if entries.len() == 1 => visitor.visit_enum(Variant(&entries[0])),
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        };
        self.at(result)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct
    }
}

impl NodeDeserializer<'_> {
    fn unexpected(&self) -> de::Unexpected<'_> {
        match self.0 {
            Node::Scalar(text, _, _) => de::Unexpected::Str(text),
            Node::Seq(..) => de::Unexpected::Seq,
            Node::Map(..) => de::Unexpected::Map,
        }
    }
}

struct Items<'a>(std::slice::Iter<'a, Node>);

impl<'de> de::SeqAccess<'de> for Items<'_> {
    type Error = NodeError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, NodeError> {
        self.0
            .next()
            .map(|node| seed.deserialize(NodeDeserializer(node)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries<'a>(std::slice::Iter<'a, (Node, Node)>, Option<&'a Node>);

impl<'de> de::MapAccess<'de> for Entries<'_> {
    type Error = NodeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, NodeError> {
        match self.0.next() {
            Some((key, value)) => {
                self.1 = Some(value);
                seed.deserialize(NodeDeserializer(key)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, NodeError> {
        let value = self
            .1
            .take()
            .ok_or_else(|| <NodeError as de::Error>::custom("a map value was read twice"))?;
        seed.deserialize(NodeDeserializer(value))
    }
}

/// `{variant: value}`: an externally tagged enum written as a single-key map.
struct Variant<'a>(&'a (Node, Node));

impl<'de> de::EnumAccess<'de> for Variant<'_> {
    type Error = NodeError;
    type Variant = Self;

    fn variant_seed<V: de::DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), NodeError> {
        Ok((seed.deserialize(NodeDeserializer(&self.0 .0))?, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_> {
    type Error = NodeError;

    fn unit_variant(self) -> Result<(), NodeError> {
        de::Deserialize::deserialize(NodeDeserializer(&self.0 .1))
    }

    fn newtype_variant_seed<T: de::DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, NodeError> {
        seed.deserialize(NodeDeserializer(&self.0 .1))
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, NodeError> {
        de::Deserializer::deserialize_seq(NodeDeserializer(&self.0 .1), visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, NodeError> {
        de::Deserializer::deserialize_map(NodeDeserializer(&self.0 .1), visitor)
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
