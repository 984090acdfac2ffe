//! The HL7 fixtures under `tests/data/` and how they are read.

use std::path::PathBuf;

use labwire_hl7::model::{MapError, MapOptions, Mapped, to_events};
use labwire_hl7::{Message, ParseOptions};

/// Fixtures that are not lab messages the mapping reads (acknowledgments and an
/// order response), with the error they give.
pub(crate) const UNMAPPED: [&str; 4] = [
    "nhapi_ack_v231_ae_err",
    "nhapi_ack_v251_ar_err",
    "nhapi_ack_v261_aa",
    "nhapi_orl_o34_v251",
];

pub(crate) fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Every `.hl7` fixture as (name without extension, bytes), sorted by name.
pub(crate) fn all() -> Vec<(String, Vec<u8>)> {
    let mut fixtures: Vec<(String, Vec<u8>)> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "hl7"))
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    fixtures.sort();
    fixtures
}

/// Parses (lenient) and maps (default options).
pub(crate) fn map(bytes: &[u8]) -> Result<Mapped, MapError> {
    let message = Message::parse(bytes, &ParseOptions::default()).unwrap();
    to_events(&message, &MapOptions::default())
}
