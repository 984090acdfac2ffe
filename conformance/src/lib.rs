//! Differential conformance for labwire's protocol parsers.
//!
//! This crate holds no code: its integration tests (`tests/hl7.rs`, `tests/astm.rs`,
//! `tests/dicom.rs`) parse every fixture of `labwire-hl7`, `labwire-astm` and
//! `labwire-dicom-meta` and compare what they read with goldens that reference
//! implementations (python `hl7` and `hl7apy`, python `astm` 0.5, pydicom) wrote offline
//! (`generate.py`, run through `generate.sh`; CI needs no Python). Every disagreement is
//! either fixed or listed in `known_differences.json` and explained, with the clause of the
//! standard that decides who is right, in `KNOWN_DIFFERENCES.md`. See `README.md`.
#![forbid(unsafe_code)]
