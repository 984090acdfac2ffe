//! Integration tests of the lab model: JSON round trips on arbitrary events, the
//! pinned JSON shape, and redaction.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod fixtures;
mod golden;
mod json_round_trip;
mod mqtt;
mod mqtt_schema;
mod redaction;
mod regressions;
