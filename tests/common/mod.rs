//! Helpers the integration tests share (each test file includes this module).

#![allow(dead_code)] // not every test file uses every helper

use sockspec::driver::Driver;
use std::path::PathBuf;

/// The repository root, where fixtures, drivers and the spec are.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// How many cases a proptest-driven test runs: `PROPTEST_CASES`, else `default`.
pub fn proptest_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default)
}

/// A driver started as `exec:COMMAND` from the repository root (commands name files relative
/// to it).
pub fn exec_driver(command: &str) -> Driver {
    std::env::set_current_dir(root()).unwrap();
    Driver::start(&format!("exec:{command}"), command).expect("the driver starts")
}
