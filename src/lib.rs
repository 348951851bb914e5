//! sockspec: a specification-driven conformance suite and reference implementation for the
//! BSD/Python socket API.
//!
//! Data flows one way: [`cli`] → [`runner`] → ([`scenario`], [`implementation`]) → [`vocab`].
#![deny(missing_docs)]

pub mod cli;
pub mod differential;
pub mod driver;
pub mod expectations;
pub mod harness;
pub mod implementation;
pub mod netns;
pub mod operation;
mod procfs;
pub mod properties;
pub mod reference;
pub mod registry;
pub mod report;
pub mod requirements;
pub mod runner;
pub mod scenario;
pub mod stdnet;
pub mod suite;
#[cfg(feature = "turmoil")]
pub mod turmoil;
pub mod vocab;
pub mod yaml;
