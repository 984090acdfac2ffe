//! The labwire C API.
//!
//! This crate will wrap the labwire parsers for C, C++ and any language with a C
//! FFI: opaque handles with `_new`/`_free`, a numeric result code for every call, no
//! panic crossing the boundary, and a cbindgen header checked in. See the FFI issue;
//! nothing is implemented yet.
// The FFI issue replaces this with `deny` plus a `// SAFETY:` comment on every block.
#![forbid(unsafe_code)]
