//! The integration tests of labwire-ffi: the checked-in header is what cbindgen makes
//! of the sources, the C and C++ test programs pass against the static and the shared
//! library (under valgrind with `LABWIRE_VALGRIND=1`), and the Python example works.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    reason = "test code, helpers included: a failed expect is a failed test, and what ran \
              (or was skipped) is reported on stderr"
)]

mod c_api;
mod header;
mod python;
mod support;
