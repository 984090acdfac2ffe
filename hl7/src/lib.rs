//! HL7 v2 (ER7, pipe-delimited) for laboratory instruments.
//!
//! This crate will hold three layers, each usable alone: MLLP framing (a sans-IO
//! stream decoder and an encoder), the zero-copy message syntax (parse, serialize,
//! escapes, path access such as `OBX(2)-5`), and `model`, which maps laboratory
//! message profiles (ORU^R01, OUL^R22, OML^O33, ESU^U01 …) to
//! [`labwire_model::LabEvent`]. See the HL7 issue for the full scope; nothing is
//! implemented yet.
#![forbid(unsafe_code)]
