//! sockspec: a specification-driven conformance suite and reference implementation for the
//! BSD/Python socket API.
//!
//! Data flows one way: [`cli`] → [`runner`] → ([`scenario`], [`implementation`]) → [`vocab`].
#![deny(missing_docs)]

pub mod vocab;
pub mod implementation;
pub mod reference;
pub mod requirements;
pub mod scenario;
