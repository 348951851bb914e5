//! The driver protocol's JSON Schema, generated from the operation table and the protocol's types.
//!
//! `spec/driver-protocol.schema.json` is this function's output (a test checks it;
//! `sockspec schema > spec/driver-protocol.schema.json` regenerates it). Each operation's
//! request comes from its arguments' struct in [`crate::operation`], each `ok` from the type its
//! operation returns; only the envelope (`seq`, `ok`/`error`, `hello`, `reset`, `bye`) is
//! written here.

use super::{Hello, PROTOCOL_VERSION};
use crate::operation::{self, Call};
use schemars::generate::SchemaSettings;
use serde_json::{json, Map, Value};

/// The protocol's JSON Schema (draft 2020-12): every request a runner writes and every reply a
/// driver writes.
pub fn protocol_schema() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let calls = generator.root_schema_for::<Call>().to_value();
    let mut defs = Map::new();

    let mut requests = vec![json!({"$ref": "#/$defs/request-hello"})];
    defs.insert(
        "request-hello".into(),
        json!({
            "title": "hello",
            "description": "The first request: the protocol version the runner speaks.",
            "type": "object",
            "properties": {
                "seq": {"$ref": "#/$defs/seq"},
                "op": {"const": "hello"},
                "protocol": {
                    "type": "integer",
                    "description": format!("The protocol version the runner speaks ({PROTOCOL_VERSION}).")
                }
            },
            "required": ["seq", "op", "protocol"],
            "additionalProperties": false
        }),
    );
    let variants = calls["oneOf"].as_array().cloned().unwrap_or_default();
    for (name, mut variant) in Call::NAMES.iter().zip(variants) {
        // Every request also carries `seq`.
        if let Some(properties) = variant["properties"].as_object_mut() {
            properties.insert("seq".into(), json!({"$ref": "#/$defs/seq"}));
        }
        if let Some(required) = variant["required"].as_array_mut() {
            required.insert(0, json!("seq"));
        }
        if let Some(object) = variant.as_object_mut() {
            object.insert("title".into(), json!(name));
        }
        defs.insert(format!("request-{name}"), variant);
        requests.push(json!({"$ref": format!("#/$defs/request-{name}")}));
    }
    defs.insert(
        "request-reset".into(),
        json!({
            "title": "reset",
            "description": "Only to a driver whose hello declared reset: close every socket, forget every handle and all state, answer null; the process is then as just after hello (seq goes on counting).",
            "type": "object",
            "properties": {"seq": {"$ref": "#/$defs/seq"}, "op": {"const": "reset"}},
            "required": ["seq", "op"],
            "additionalProperties": false
        }),
    );
    requests.push(json!({"$ref": "#/$defs/request-reset"}));
    defs.insert(
        "request-bye".into(),
        json!({
            "title": "bye",
            "description": "The last request: answer null, then exit with status 0.",
            "type": "object",
            "properties": {"seq": {"$ref": "#/$defs/seq"}, "op": {"const": "bye"}},
            "required": ["seq", "op"],
            "additionalProperties": false
        }),
    );
    requests.push(json!({"$ref": "#/$defs/request-bye"}));
    defs.insert(
        "request".into(),
        json!({"title": "A request (runner to driver)", "oneOf": requests}),
    );

    let mut results = vec![json!({"$ref": "#/$defs/ok-hello"})];
    defs.insert(
        "ok-hello".into(),
        generator.subschema_for::<Hello>().to_value(),
    );
    for (name, schema) in operation::ok_schemas(&mut generator) {
        defs.insert(format!("ok-{name}"), schema.to_value());
        results.push(json!({"$ref": format!("#/$defs/ok-{name}")}));
    }
    defs.insert("ok-reset".into(), json!({"type": "null"}));
    defs.insert("ok-bye".into(), json!({"type": "null"}));
    defs.insert(
        "result".into(),
        json!({"title": "The ok value of any request", "anyOf": results}),
    );
    defs.insert(
        "reply".into(),
        json!({
            "title": "A reply (driver to runner): seq and exactly one of ok or error",
            "type": "object",
            "properties": {
                "seq": {"$ref": "#/$defs/seq"},
                "ok": {"$ref": "#/$defs/result"},
                "error": {"$ref": "#/$defs/error"}
            },
            "required": ["seq"],
            "oneOf": [{"required": ["ok"]}, {"required": ["error"]}],
            "additionalProperties": false
        }),
    );
    defs.insert(
        "error".into(),
        json!({
            "title": "A failed call",
            "type": "object",
            "properties": {
                "errno": {
                    "type": "string",
                    "description": "An errno name (EADDRINUSE), a getaddrinfo name (EAI_NONAME), timeout, rejected, library (version 2) or unsupported.",
                    "pattern": "^(E[A-Z0-9]+|EAI_[A-Z0-9_]+|timeout|rejected|library|unsupported)$"
                },
                "code": {
                    "type": ["integer", "null"],
                    "description": "The local number; null for timeout, rejected, library and unsupported."
                },
                "name": {
                    "type": "string",
                    "minLength": 1,
                    "description": "For `library` (and only for it): the library's own name for the error (ERR_STREAM_DESTROYED)."
                },
                "message": {"type": "string", "description": "For people."}
            },
            "required": ["errno", "code", "message"],
            "if": {"properties": {"errno": {"const": "library"}}},
            "then": {"required": ["name"]},
            "else": {"not": {"required": ["name"]}},
            "additionalProperties": false
        }),
    );
    defs.insert(
        "seq".into(),
        json!({
            "type": "integer",
            "minimum": 0,
            "description": "0 for hello, then one more for each request the process is sent (reset does not start it again); a reply echoes its request's."
        }),
    );
    // The shared definitions schemars made for the arguments and results (address, family…).
    for (name, schema) in generator.take_definitions(true) {
        defs.entry(name).or_insert(schema);
    }

    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://sockspec.invalid/spec/driver-protocol.schema.json",
        "title": format!("sockspec driver protocol, version {PROTOCOL_VERSION}"),
        "description": "Every line a runner writes to a driver (a request) and every line a driver writes back (a reply); see driver-protocol.md, which is normative. Generated by `sockspec schema` from the operation table (src/operation); do not edit. A reply does not name its operation, so the generic reply schema accepts the ok value of any operation; a runner that knows which request a reply answers can check ok against #/$defs/ok-<op> (e.g. #/$defs/ok-accept).",
        "oneOf": [{"$ref": "#/$defs/request"}, {"$ref": "#/$defs/reply"}],
        "$defs": defs
    })
}

/// The schema as committed: pretty JSON with a final newline.
pub fn protocol_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&protocol_schema()).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The committed schema is the generated one; `SOCKSPEC_BLESS=1` rewrites it.
    #[test]
    fn the_committed_schema_is_the_generated_one() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/driver-protocol.schema.json");
        let generated = protocol_schema_text();
        if std::env::var_os("SOCKSPEC_BLESS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is not what the operation table generates; run `cargo run -- schema > {}` \
             (or SOCKSPEC_BLESS=1 cargo test) and commit it",
            path.display(),
            path.display()
        );
    }

    #[test]
    fn every_operation_has_a_request_and_an_ok_definition() {
        let schema = protocol_schema();
        for name in Call::NAMES {
            assert!(
                schema["$defs"][format!("request-{name}")].is_object(),
                "{name}"
            );
            assert!(schema["$defs"][format!("ok-{name}")].is_object(), "{name}");
        }
    }
}

#[cfg(test)]
mod documented {
    use crate::operation::Call;
    use std::path::Path;

    /// driver-protocol.md §4 has one row for every operation of the table, in one table (a
    /// paragraph in the middle would split it in two), so the document cannot miss one.
    #[test]
    fn section_4_has_a_row_for_every_operation() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/driver-protocol.md");
        let text = std::fs::read_to_string(&path).unwrap();
        let section = text
            .split("## 4. Operations")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("driver-protocol.md has a section 4");
        let table: Vec<&str> = section
            .lines()
            .skip_while(|line| !line.starts_with("| op |"))
            .take_while(|line| line.starts_with('|'))
            .collect();
        for name in Call::NAMES.iter().chain(&["hello", "reset", "bye"]) {
            assert!(
                table
                    .iter()
                    .any(|row| row.starts_with(&format!("| `{name}` |"))),
                "{}: §4's table has no row for `{name}`",
                path.display()
            );
        }
    }
}
