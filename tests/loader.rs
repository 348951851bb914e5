//! The loader never panics, whatever it is given, and always says where a problem is.

use proptest::prelude::*;
use sockspec::requirements::Requirements;
use sockspec::scenario::{parse, ScenarioPath};
use std::path::{Path, PathBuf};

const VALID: &str = include_str!("data/valid/echo.yaml");

fn requirements() -> Requirements {
    Requirements::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/spec")).unwrap()
}

fn file() -> ScenarioPath {
    ScenarioPath {
        path: PathBuf::from("mutant.yaml"),
        id: "mutant".to_string(),
    }
}

#[test]
fn the_unmutated_fixture_loads() {
    parse(&file(), VALID, &requirements()).expect("echo.yaml is valid");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_is_refused_with_a_message_not_a_panic(text in any::<String>()) {
        if let Err(errors) = parse(&file(), &text, &requirements()) {
            prop_assert!(!errors.is_empty());
            prop_assert!(errors.iter().all(|e| !e.message.is_empty()));
        }
    }

    #[test]
    fn a_fixture_with_a_byte_changed_loads_or_fails_with_a_position(
        at in 0..VALID.len(),
        replacement in prop::sample::select(vec!["", " ", ":", "-", "{", "}", "[", "$", "x", "\n", "  ", "\t", "&a", "*a", "!!", "'"]),
    ) {
        let mut text = VALID.to_string();
        if text.is_char_boundary(at) && text.is_char_boundary(at + 1) {
            text.replace_range(at..at + 1, replacement);
        }
        if let Err(errors) = parse(&file(), &text, &requirements()) {
            for e in &errors {
                prop_assert!(!e.message.is_empty());
                let shown = e.to_string();
                prop_assert!(shown.starts_with("mutant.yaml:"), "{}", shown);
            }
        }
    }
}

#[test]
fn expected_wait_is_the_longest_actors_declared_timeouts_and_min_elapsed() {
    let echo = parse(&file(), VALID, &requirements()).unwrap();
    assert_eq!(echo.expected_wait(), std::time::Duration::ZERO);
    // server: settimeout 150ms + min_elapsed 150ms = 300 ms; client: SO_RCVTIMEO 200ms + poll
    // 50ms + min_elapsed 40ms = 290 ms. The longest actor's sum counts, not the total.
    let waiting = r#"
title: waits
requirements: [test.any]
actors:
  server:
    - socket: {family: inet, type: stream, as: a}
    - settimeout: {socket: a, timeout: 150ms}
    - recv: {socket: a, bufsize: 1}
      expect: {error: timeout}
      min_elapsed: 150ms
  client:
    - socket: {family: inet, type: stream, as: b}
    - setsockopt: {socket: b, option: recv_timeout_ms, value: 200}
    - poll: {socket: b, events: [in], timeout: 50ms}
      min_elapsed: 40ms
"#;
    let scenario = parse(&file(), waiting, &requirements()).unwrap();
    assert_eq!(
        scenario.expected_wait(),
        std::time::Duration::from_millis(300)
    );
}
