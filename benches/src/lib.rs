//! Benchmarks for the labwire crates; the benches live in `benches/`.
//!
//! Every bench checks the result of what it times before timing it, reports
//! throughput in bytes, and runs in test mode in CI (`cargo bench --no-run`, or
//! `cargo test --benches` to execute each once). Run them for real with
//! `cargo bench -p labwire-benches`.
#![forbid(unsafe_code)]
