//! ASTM E1381 (CLSI LIS01) and E1394 (CLSI LIS02) for laboratory instruments.
//!
//! This crate will hold the E1381 frame codec and link state machine (sans-IO: fed
//! bytes and time, it returns bytes to write and events), the E1394 record syntax
//! (H P O R C Q M S L records, delimiters from the H record) and `model`, which maps
//! messages to [`labwire_model::LabEvent`]. See the ASTM issue for the full scope;
//! nothing is implemented yet.
#![forbid(unsafe_code)]

pub mod model;
pub mod record;
