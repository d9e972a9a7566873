//! Conformance tests of the generated crates against the spec they came from.
//!
//! The tests live in `tests/`; each loads `api-spec/` and checks a generated crate
//! against it, so a new error code, route or scope is covered without editing a list.
//!
//! The library holds what tests and benchmarks share: [`fixed_links`], a links family
//! with canned answers for checking the router around a handler, and [`redis_server`],
//! a real Redis of a test's own.

pub mod fixed_links;
pub mod redis_server;
