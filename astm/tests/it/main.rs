//! Integration tests of `labwire-astm`, one binary (DESIGN.md §6):
//!
//! * [`sessions`]: captured-shape sessions (`tests/data/sessions/`) through the link, the
//!   record parser and the model, compared with golden JSON (`tests/data/golden/`), and the
//!   mapping bugs they exposed, as ignored tests named after the bug;
//! * [`order_download`]: work orders written as ASTM order downloads, framed, sent through a
//!   link pair and read back.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod order_download;
mod sessions;
