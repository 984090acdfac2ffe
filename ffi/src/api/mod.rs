//! The `extern "C"` functions, one module per handle, as `include/labwire.h` declares
//! them. Each function's documentation is its C documentation; the crate
//! documentation states the rules they share (results, ownership, lifetimes).

// In the order the header declares them (cbindgen follows the source order; the
// comments keep rustfmt from sorting the modules).

// Version, result names, format detection.
pub mod general;

// Any input to lab events.
pub mod decoder;

// HL7 v2 messages and MLLP framing.
pub mod hl7;
pub mod mllp;

// ASTM E1381 frames and link.
pub mod astm;

// DICOM headers.
pub mod dicom;

// Lab events to MQTT.
pub mod mqtt;

use crate::boundary::{Handle, call, out_param};
use crate::{labwire_error, labwire_result};

/// The body of every `_last_error` function. Unlike other calls it also works on a
/// poisoned handle, so the panic can be reported.
///
/// # Safety
/// `handle` is NULL or a live handle of type `H`, not changed during the call; `error`
/// is NULL or valid for writes.
pub(crate) unsafe fn last_error<H: Handle>(
    handle: *const H,
    error: *mut labwire_error,
) -> labwire_result {
    call(|| {
        // SAFETY: the caller guarantees `error` is NULL or valid for writes.
        let error = unsafe { out_param(error, "error") }?;
        // SAFETY: the caller guarantees `handle` is NULL or live and unchanged.
        let handle =
            unsafe { handle.as_ref() }.ok_or_else(|| crate::boundary::Failure::null("handle"))?;
        error.write(handle.status().last_error());
        Ok(crate::boundary::Done::Ok)
    })
}
