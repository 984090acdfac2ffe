//! The integration tests of labwire-dicom-meta: one binary, so the counting
//! allocator below sees every allocation the hostile-input tests make.
//!
//! Fixtures live in `tests/data/` (see `tests/data/SOURCES.md`); nothing is read
//! from outside the crate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code, helpers included: a failed unwrap is a failed test"
)]

mod alloc_count;
mod build;
mod charset;
mod corpus;
mod deid;
mod hostile;
mod model;
mod props;
mod vr;
mod write;

#[global_allocator]
static ALLOCATOR: alloc_count::Counting = alloc_count::Counting;

/// Reads a fixture from `tests/data/`.
pub(crate) fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Every fixture file name in a directory of `tests/data/`, sorted.
pub(crate) fn fixtures_in(dir: &str) -> Vec<String> {
    let full = format!("{}/tests/data/{dir}", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&full)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".dcm"))
        .collect();
    names.sort();
    names
}
