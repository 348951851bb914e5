//! Data a step sends or expects: text, hex, or a pattern repeated to a length.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// Bytes written in a scenario.
///
/// YAML forms: `hello` (UTF-8 text), `{hex: "00ff10"}`, and `{repeat: "abc", len: 1048576}`
/// (the pattern repeated, cut to exactly `len` bytes), so a 1 MiB transfer is one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// UTF-8 text.
    Text(String),
    /// Bytes given in hexadecimal.
    Hex(Vec<u8>),
    /// `pattern` repeated and cut to `len` bytes.
    Repeat {
        /// The repeated bytes (not empty).
        pattern: Vec<u8>,
        /// The total length.
        len: usize,
    },
}

/// The memory for a payload's bytes could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sockspec could not allocate {len} bytes for the step's data ({source})")]
pub struct PayloadAllocError {
    /// The bytes asked for.
    pub len: usize,
    source: std::collections::TryReserveError,
}

/// Fills the empty `bytes` with `pattern` repeated and cut to `len` bytes (none for an empty
/// pattern), doubling what is already made (whole patterns, so each copy continues the
/// repetition): memcpy's speed, where a byte at a time took a fifth of a run's CPU making the
/// suite's 8 MiB payloads. `bytes` must be empty: the doubling copies from its start.
pub(crate) fn repeat_into(bytes: &mut Vec<u8>, pattern: &[u8], len: usize) {
    bytes.clear();
    bytes.extend_from_slice(&pattern[..pattern.len().min(len)]);
    if bytes.is_empty() {
        return;
    }
    while bytes.len() < len {
        bytes.extend_from_within(..bytes.len().min(len - bytes.len()));
    }
}

impl Payload {
    /// The bytes, or an error if memory for them cannot be had (rather than aborting).
    pub fn bytes(&self) -> Result<Vec<u8>, PayloadAllocError> {
        let len = self.len();
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(len)
            .map_err(|source| PayloadAllocError { len, source })?;
        match self {
            Payload::Text(t) => bytes.extend_from_slice(t.as_bytes()),
            Payload::Hex(b) => bytes.extend_from_slice(b),
            Payload::Repeat { pattern, len } => repeat_into(&mut bytes, pattern, *len),
        }
        Ok(bytes)
    }

    /// True when `data` is exactly these bytes (compared without making them).
    pub fn matches(&self, data: &[u8]) -> bool {
        match self {
            Payload::Text(t) => t.as_bytes() == data,
            Payload::Hex(b) => b == data,
            Payload::Repeat { pattern, len } => {
                *len == data.len() && data.chunks(pattern.len()).all(|c| pattern.starts_with(c))
            }
        }
    }

    /// How many bytes.
    pub fn len(&self) -> usize {
        match self {
            Payload::Text(t) => t.len(),
            Payload::Hex(b) => b.len(),
            Payload::Repeat { len, .. } => *len,
        }
    }

    /// True when there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Text(t) => write!(f, "{t:?}"),
            Payload::Hex(b) => write!(f, "hex {}", hex(b)),
            Payload::Repeat { pattern, len } => {
                write!(
                    f,
                    "{len} bytes of {:?} repeated",
                    String::from_utf8_lossy(pattern)
                )
            }
        }
    }
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err(format!("hex `{text}` has an odd number of digits"));
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("hex `{text}` has a character that is not a hex digit"))
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayloadFields {
    text: Option<String>,
    hex: Option<String>,
    repeat: Option<String>,
    len: Option<usize>,
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PayloadVisitor;
        impl<'de> Visitor<'de> for PayloadVisitor {
            type Value = Payload;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("text, {hex: \"…\"}, or {repeat: \"…\", len: N}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Payload, E> {
                Ok(Payload::Text(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Payload, A::Error> {
                let fields =
                    PayloadFields::deserialize(de::value::MapAccessDeserializer::new(map))?;
                match fields {
                    PayloadFields {
                        text: Some(t),
                        hex: None,
                        repeat: None,
                        len: None,
                    } => Ok(Payload::Text(t)),
                    PayloadFields {
                        hex: Some(h),
                        text: None,
                        repeat: None,
                        len: None,
                    } => parse_hex(&h).map(Payload::Hex).map_err(de::Error::custom),
                    PayloadFields {
                        repeat: Some(p),
                        len: Some(len),
                        text: None,
                        hex: None,
                    } => {
                        if p.is_empty() {
                            return Err(de::Error::custom("`repeat` needs a non-empty pattern"));
                        }
                        Ok(Payload::Repeat {
                            pattern: p.into_bytes(),
                            len,
                        })
                    }
                    _ => Err(de::Error::custom(
                        "data must be one of: `text`, `hex`, or `repeat` with `len`",
                    )),
                }
            }
        }
        deserializer.deserialize_any(PayloadVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeat_into_cuts_inside_the_pattern_and_makes_nothing_of_an_empty_one() {
        let mut bytes = Vec::new();
        repeat_into(&mut bytes, b"abcdef", 4);
        assert_eq!(bytes, b"abcd");
        repeat_into(&mut bytes, b"", 10);
        assert!(bytes.is_empty());
        repeat_into(&mut bytes, b"xy", 100_001);
        assert_eq!(bytes.len(), 100_001);
        assert!(bytes.chunks(2).all(|c| b"xy".starts_with(c)));
    }

    #[test]
    fn repeat_is_cut_to_exact_length() {
        let p = Payload::Repeat {
            pattern: b"abc".to_vec(),
            len: 7,
        };
        assert_eq!(p.bytes().unwrap(), b"abcabca");
        assert!(p.matches(b"abcabca"));
        assert!(!p.matches(b"abcabc"));
        assert!(!p.matches(b"abcabcb"));
        assert!(!p.matches(b"abcabcab"));
    }

    #[test]
    fn repeat_is_the_pattern_over_and_over_at_every_length() {
        for pattern in [&b"x"[..], b"ab", b"The quick brown fox. "] {
            for len in (0..200).chain([4095, 4096, 65537, 1 << 20]) {
                let p = Payload::Repeat {
                    pattern: pattern.to_vec(),
                    len,
                };
                let expected: Vec<u8> = pattern.iter().copied().cycle().take(len).collect();
                assert_eq!(p.bytes().unwrap(), expected, "{pattern:?} to {len} bytes");
                assert!(p.matches(&expected));
            }
        }
    }

    #[test]
    fn memory_that_cannot_be_had_is_an_error_not_an_abort() {
        let p = Payload::Repeat {
            pattern: b"abc".to_vec(),
            len: usize::MAX / 2,
        };
        let e = p.bytes().unwrap_err();
        assert_eq!(e.len, usize::MAX / 2);
        assert!(e.to_string().starts_with(&format!(
            "sockspec could not allocate {} bytes for the step's data (",
            usize::MAX / 2
        )));
        assert!(Payload::Text("hi".into()).matches(b"hi"));
        assert!(Payload::Hex(vec![1, 2]).matches(&[1, 2]));
    }

    #[test]
    fn hex_accepts_spaces_and_rejects_odd_digits() {
        assert_eq!(parse_hex("00 ff").unwrap(), vec![0, 255]);
        assert!(parse_hex("0").is_err());
        assert!(parse_hex("zz").is_err());
    }
}
