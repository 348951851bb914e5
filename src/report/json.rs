//! The JSON report: one document for the whole run.

use super::Summary;
use crate::runner::ScenarioResult;
use serde::Serialize;

#[derive(Serialize)]
struct Document<'a> {
    implementation: &'a str,
    summary: Summary,
    results: &'a [ScenarioResult],
}

/// `{"implementation": …, "summary": {…}, "results": […]}`, pretty-printed.
pub fn json_document(implementation: &str, results: &[ScenarioResult]) -> String {
    let document = Document {
        implementation,
        summary: Summary::of(results),
        results,
    };
    serde_json::to_string_pretty(&document).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
