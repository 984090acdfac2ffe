//! Integration tests of `labwire-hl7`'s ACK builder and lab model mapping: goldens for
//! every fixture, every OBX accounted for, ACKs parsed back field by field, and
//! model → HL7 → model round trips.
// Test helpers outside `#[test]` functions panic on purpose, as the tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod accounting;
mod ack;
mod fixtures;
mod goldens;
mod lab_profiles;
mod round_trip;
