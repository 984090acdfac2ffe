//! `labwire_decoder`: any supported input to lab events as JSON (see [`crate::decode`]).

use core::ffi::c_char;

use labwire_astm::model::Dialect;
use labwire_astm::record::Charset;

use crate::api::general::labwire_format;
use crate::boundary::{
    CBuf, Done, ErrorRecord, Failure, Outcome, Status, call_mut, call_ref, copy_out, enum_arg,
    free_handle, impl_handle, input_bytes, new_handle, out_param, write_text,
};
use crate::decode::{self, DecodeOptions, Format, Problem, ProblemKind};
use crate::{labwire_error, labwire_result};

/// How an ASTM instrument fills its fields, for `labwire_decoder_set_astm_dialect`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum labwire_astm_dialect {
    /// CLSI LIS02-A2 as written (the default).
    Generic = 0,
    /// Sysmex XN series (decimal comma, test code in component 5).
    SysmexXn = 1,
    /// Roche cobas (application codes with a dilution suffix).
    RocheCobas = 2,
}

impl labwire_astm_dialect {
    const ALL: [(u32, Self); 3] = [
        (0, Self::Generic),
        (1, Self::SysmexXn),
        (2, Self::RocheCobas),
    ];
}

/// The character set of ASTM text, for `labwire_decoder_set_astm_charset`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum labwire_astm_charset {
    /// UTF-8; invalid bytes become U+FFFD (the default).
    Utf8 = 0,
    /// ISO 8859-1.
    Latin1 = 1,
    /// Windows-1252.
    Windows1252 = 2,
}

impl labwire_astm_charset {
    const ALL: [(u32, Self); 3] = [(0, Self::Utf8), (1, Self::Latin1), (2, Self::Windows1252)];
}

/// Decodes whole inputs (a file, a capture) of any supported format into lab events,
/// written as JSON lines.
///
/// Create with `labwire_decoder_new`, set options, then call `labwire_decoder_decode`
/// for each input; the results of the last input stay in the handle until the next
/// decode. Owned by the caller; free with `labwire_decoder_free`. Not for concurrent
/// use: one thread at a time (it may move between threads).
pub struct labwire_decoder {
    status: Status,
    options: DecodeOptions,
    format: labwire_format,
    events_json: CBuf,
    event_count: usize,
    warnings: Vec<ErrorRecord>,
    errors: Vec<ErrorRecord>,
}

impl_handle!(labwire_decoder);

impl labwire_decoder {
    fn new() -> Self {
        Self {
            status: Status::default(),
            options: DecodeOptions::default(),
            format: labwire_format::Unknown,
            events_json: CBuf::default(),
            event_count: 0,
            warnings: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn clear_outputs(&mut self) {
        self.format = labwire_format::Unknown;
        self.events_json.clear();
        self.event_count = 0;
        self.warnings.clear();
        self.errors.clear();
    }

    fn decode(&mut self, bytes: &[u8]) -> Outcome {
        self.clear_outputs();
        let decoded = decode::decode(bytes, &self.options).map_err(|error| {
            let decode::DecodeError::UnknownFormat { offset } = error;
            Failure::new(labwire_result::UnknownFormat, error.to_string()).with_offset(Some(offset))
        })?;
        let format = decoded.format;
        let mut json = Vec::new();
        for event in &decoded.events {
            serde_json::to_writer(&mut json, event).map_err(|error| {
                Failure::new(
                    labwire_result::ModelJson,
                    format!("writing an event as JSON: {error}"),
                )
            })?;
            json.push(b'\n');
        }
        self.format = labwire_format::of(Some(format));
        self.events_json.set_vec(json);
        self.event_count = decoded.events.len();
        let failures: Vec<Failure> = decoded
            .errors
            .iter()
            .map(|problem| problem_failure(problem, format))
            .collect();
        self.warnings = decoded
            .warnings
            .iter()
            .map(|problem| ErrorRecord::from_failure(&problem_failure(problem, format)))
            .collect();
        self.errors = failures.iter().map(ErrorRecord::from_failure).collect();
        match failures.into_iter().next() {
            None => Ok(Done::Ok),
            Some(first) if self.event_count > 0 => Ok(Done::Partial(first)),
            Some(first) => Err(first),
        }
    }
}

/// The failure (code, message, location, offset) of a decoding problem.
fn problem_failure(problem: &Problem, format: Format) -> Failure {
    let code = match problem.kind {
        ProblemKind::Hl7Syntax => labwire_result::Hl7Syntax,
        ProblemKind::Hl7Mapping => labwire_result::Hl7Mapping,
        ProblemKind::Mllp => labwire_result::Mllp,
        ProblemKind::AstmLink => labwire_result::AstmLink,
        ProblemKind::AstmRecord => labwire_result::AstmRecord,
        ProblemKind::Dicom => labwire_result::DicomParse,
        // `Empty`, and kinds added later: the format's own syntax code.
        _ => match format {
            Format::Astm => labwire_result::AstmRecord,
            Format::Dicom => labwire_result::DicomParse,
            _ => labwire_result::Hl7Syntax,
        },
    };
    Failure::new(code, problem.message.clone())
        .at(problem.location.clone())
        .with_offset(problem.offset)
}

/// Creates a decoder with the default options: format recognized from the content,
/// lenient, ASTM generic dialect in UTF-8. On success `*out` is the new handle; on
/// failure it is NULL.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER` if `out` is NULL.
///
/// # Safety
/// `out` is NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_decoder_new(out: *mut *mut labwire_decoder) -> labwire_result {
    // SAFETY: forwarded from the caller.
    unsafe { new_handle(out, || Ok(labwire_decoder::new())) }
}

/// Frees a decoder and everything it returned. NULL is ignored.
///
/// # Safety
/// `decoder` is NULL or a handle from `labwire_decoder_new` not yet freed; it is not
/// used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_decoder_free(decoder: *mut labwire_decoder) {
    // SAFETY: forwarded from the caller.
    unsafe { free_handle(decoder) }
}

/// Sets the format to read inputs as: a `labwire_format` value;
/// `LABWIRE_FORMAT_UNKNOWN` (the default) recognizes it from the content.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`; `LABWIRE_RESULT_INVALID_ARGUMENT` for a
/// value that is not a `labwire_format`.
///
/// # Safety
/// `decoder` is NULL or a live handle, not used by another thread during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_decoder_set_format(
    decoder: *mut labwire_decoder,
    format: u32,
) -> labwire_result {
    let body = |decoder: &mut labwire_decoder| -> Outcome {
        let format = enum_arg(format, &labwire_format::ALL, "format")?;
        decoder.options.format = format.format();
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(decoder, body) }
}

/// Sets strict reading: input that deviates from its standard is rejected instead of
/// accepted with a warning (default: lenient).
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `decoder` is NULL or a live handle, not used by another thread during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_decoder_set_strict(
    decoder: *mut labwire_decoder,
    strict: bool,
) -> labwire_result {
    let body = |decoder: &mut labwire_decoder| -> Outcome {
        decoder.options.strict = strict;
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(decoder, body) }
}

/// Sets how ASTM fields are read: a `labwire_astm_dialect` value.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`; `LABWIRE_RESULT_INVALID_ARGUMENT` for a
/// value that is not a `labwire_astm_dialect`.
///
/// # Safety
/// `decoder` is NULL or a live handle, not used by another thread during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_decoder_set_astm_dialect(
    decoder: *mut labwire_decoder,
    dialect: u32,
) -> labwire_result {
    let body = |decoder: &mut labwire_decoder| -> Outcome {
        decoder.options.astm_dialect =
            match enum_arg(dialect, &labwire_astm_dialect::ALL, "dialect")? {
                labwire_astm_dialect::Generic => Dialect::generic(),
                labwire_astm_dialect::SysmexXn => Dialect::sysmex_xn(),
                labwire_astm_dialect::RocheCobas => Dialect::roche_cobas(),
            };
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(decoder, body) }
}

/// Sets the character set of ASTM text: a `labwire_astm_charset` value.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`; `LABWIRE_RESULT_INVALID_ARGUMENT` for a
/// value that is not a `labwire_astm_charset`.
///
/// # Safety
/// `decoder` is NULL or a live handle, not used by another thread during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_decoder_set_astm_charset(
    decoder: *mut labwire_decoder,
    charset: u32,
) -> labwire_result {
    let body = |decoder: &mut labwire_decoder| -> Outcome {
        decoder.options.astm_charset =
            match enum_arg(charset, &labwire_astm_charset::ALL, "charset")? {
                labwire_astm_charset::Utf8 => Charset::Utf8,
                labwire_astm_charset::Latin1 => Charset::Latin1,
                labwire_astm_charset::Windows1252 => Charset::Windows1252,
            };
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(decoder, body) }
}

/// Decodes one whole input `(bytes, len)`: HL7 v2 (plain, MLLP-framed or a batch
/// file), ASTM (E1381-framed capture or raw records) or a DICOM header, into lab
/// events. The input is not kept.
///
/// Returns `LABWIRE_RESULT_OK` when everything was read;
/// `LABWIRE_RESULT_PARTIAL` when some events were produced but part of the input was
/// rejected (one message of several); the code of the first error
/// (`LABWIRE_RESULT_HL7_SYNTAX`, `_MLLP`, `_ASTM_LINK`, `_ASTM_RECORD`, `_DICOM_PARSE`
/// …) when nothing was produced; `LABWIRE_RESULT_UNKNOWN_FORMAT` when the format is not
/// set and not recognized. In every case but NULL arguments the outputs describe this
/// input: `labwire_decoder_events_json`, the warnings and errors, and the last error
/// (the first rejected part).
///
/// # Safety
/// `decoder` is NULL or a live handle, not used by another thread during the call;
/// `bytes` is NULL or valid for reading `len` bytes that are not the decoder's own
/// outputs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_decoder_decode(
    decoder: *mut labwire_decoder,
    bytes: *const u8,
    len: usize,
) -> labwire_result {
    let body = |decoder: &mut labwire_decoder| -> Outcome {
        // SAFETY: the caller guarantees the input is NULL or readable and not the
        // decoder's own output.
        let bytes = unsafe { input_bytes(bytes, len, "bytes") }?;
        decoder.decode(bytes)
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(decoder, body) }
}

/// The events of the last decoded input as JSON lines (NDJSON): one lab event per
/// line, each line ending with `\n`, in input order; empty when there are none. The
/// JSON is the labwire model's serde form (see `labwire_model::LabEvent`).
///
/// `*json` is NUL-terminated and owned by the decoder (valid until the next non-const
/// call on it, or its free).
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `decoder` is NULL or a live handle, not changed during the call; `json` and
/// `json_len` are NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_decoder_events_json(
    decoder: *const labwire_decoder,
    json: *mut *const c_char,
    json_len: *mut usize,
) -> labwire_result {
    let body = |decoder: &labwire_decoder| -> Outcome {
        // SAFETY: the caller guarantees the pointers are NULL or valid for writes.
        let json = unsafe { out_param(json, "json") }?;
        // SAFETY: as above.
        let json_len = unsafe { out_param(json_len, "json_len") }?;
        write_text(&decoder.events_json, json, json_len);
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that nothing
    // changes during the call.
    unsafe { call_ref(decoder, body) }
}

/// Copies the events JSON of `labwire_decoder_events_json`, and a NUL, into the
/// caller's buffer `(buf, buf_len)`. `*json_len` receives the JSON's length (without
/// the NUL) in every case but NULL arguments, so a call with `buf_len` 0 and `buf`
/// NULL asks for the size.
///
/// Errors: `LABWIRE_RESULT_INSUFFICIENT_SIZE` if `buf_len` is not more than the length
/// (nothing is written to `buf`); `LABWIRE_RESULT_NULL_PARAMETER` if `json_len` is NULL,
/// or `buf` is NULL with a `buf_len` that would be enough.
///
/// # Safety
/// `decoder` is NULL or a live handle, not changed during the call; `buf` is NULL or
/// valid for writing `buf_len` bytes; `json_len` is NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_decoder_copy_events_json(
    decoder: *const labwire_decoder,
    buf: *mut c_char,
    buf_len: usize,
    json_len: *mut usize,
) -> labwire_result {
    let body = |decoder: &labwire_decoder| -> Outcome {
        // SAFETY: the caller guarantees `buf` and `json_len`; the decoder's buffer
        // cannot overlap the caller's.
        unsafe {
            copy_out(
                decoder.events_json.as_bytes(),
                buf.cast::<u8>(),
                buf_len,
                json_len,
            )
        }
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that nothing
    // changes during the call.
    unsafe { call_ref(decoder, body) }
}

/// The number of events of the last decoded input (the lines of
/// `labwire_decoder_events_json`).
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `decoder` is NULL or a live handle, not changed during the call; `count` is NULL or
/// valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_decoder_event_count(
    decoder: *const labwire_decoder,
    count: *mut usize,
) -> labwire_result {
    let body = |decoder: &labwire_decoder| -> Outcome {
        // SAFETY: the caller guarantees `count` is NULL or valid for writes.
        unsafe { out_param(count, "count") }?.write(decoder.event_count);
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that nothing
    // changes during the call.
    unsafe { call_ref(decoder, body) }
}

/// The format the last input was read as; `LABWIRE_FORMAT_UNKNOWN` before the first
/// decode and after `LABWIRE_RESULT_UNKNOWN_FORMAT`.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `decoder` is NULL or a live handle, not changed during the call; `format` is NULL
/// or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_decoder_format(
    decoder: *const labwire_decoder,
    format: *mut labwire_format,
) -> labwire_result {
    let body = |decoder: &labwire_decoder| -> Outcome {
        // SAFETY: the caller guarantees `format` is NULL or valid for writes.
        unsafe { out_param(format, "format") }?.write(decoder.format);
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that nothing
    // changes during the call.
    unsafe { call_ref(decoder, body) }
}

/// The number of warnings of the last decoded input: what was accepted although the
/// standard does not allow it.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `decoder` is NULL or a live handle, not changed during the call; `count` is NULL or
/// valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_decoder_warning_count(
    decoder: *const labwire_decoder,
    count: *mut usize,
) -> labwire_result {
    let body = |decoder: &labwire_decoder| -> Outcome {
        // SAFETY: the caller guarantees `count` is NULL or valid for writes.
        unsafe { out_param(count, "count") }?.write(decoder.warnings.len());
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that nothing
    // changes during the call.
    unsafe { call_ref(decoder, body) }
}

/// Warning `index` (from 0) of the last decoded input. Its `code` names the kind of
/// input it is about (`LABWIRE_RESULT_HL7_SYNTAX`, `_ASTM_LINK` …); its strings are
/// owned by the decoder.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`; `LABWIRE_RESULT_INDEX_OUT_OF_RANGE`.
///
/// # Safety
/// `decoder` is NULL or a live handle, not changed during the call; `warning` is NULL
/// or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_decoder_warning(
    decoder: *const labwire_decoder,
    index: usize,
    warning: *mut labwire_error,
) -> labwire_result {
    let body = |decoder: &labwire_decoder| -> Outcome {
        // SAFETY: the caller guarantees `warning` is NULL or valid for writes.
        let warning = unsafe { out_param(warning, "warning") }?;
        warning.write(item(&decoder.warnings, index)?.to_c());
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that nothing
    // changes during the call.
    unsafe { call_ref(decoder, body) }
}

/// The number of errors of the last decoded input: parts that were rejected.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `decoder` is NULL or a live handle, not changed during the call; `count` is NULL or
/// valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_decoder_error_count(
    decoder: *const labwire_decoder,
    count: *mut usize,
) -> labwire_result {
    let body = |decoder: &labwire_decoder| -> Outcome {
        // SAFETY: the caller guarantees `count` is NULL or valid for writes.
        unsafe { out_param(count, "count") }?.write(decoder.errors.len());
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that nothing
    // changes during the call.
    unsafe { call_ref(decoder, body) }
}

/// Error `index` (from 0) of the last decoded input, with the code it would have
/// returned alone; its strings are owned by the decoder.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`; `LABWIRE_RESULT_INDEX_OUT_OF_RANGE`.
///
/// # Safety
/// `decoder` is NULL or a live handle, not changed during the call; `error` is NULL or
/// valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_decoder_error(
    decoder: *const labwire_decoder,
    index: usize,
    error: *mut labwire_error,
) -> labwire_result {
    let body = |decoder: &labwire_decoder| -> Outcome {
        // SAFETY: the caller guarantees `error` is NULL or valid for writes.
        let error = unsafe { out_param(error, "error") }?;
        error.write(item(&decoder.errors, index)?.to_c());
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that nothing
    // changes during the call.
    unsafe { call_ref(decoder, body) }
}

/// The last error of the decoder: how its last non-const call failed (code
/// `LABWIRE_RESULT_OK` and empty strings if it did not). Const calls do not change it.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `decoder` is NULL or a live handle, not changed during the call; `error` is NULL or
/// valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_decoder_last_error(
    decoder: *const labwire_decoder,
    error: *mut labwire_error,
) -> labwire_result {
    // SAFETY: forwarded from the caller.
    unsafe { crate::api::last_error(decoder, error) }
}

/// Item `index` of a list, or `LABWIRE_RESULT_INDEX_OUT_OF_RANGE`.
fn item<T>(list: &[T], index: usize) -> Result<&T, Failure> {
    list.get(index).ok_or_else(|| {
        Failure::new(
            labwire_result::IndexOutOfRange,
            format!("index {index}, but there are {}", list.len()),
        )
        .at("index")
    })
}

#[cfg(test)]
mod tests {
    use std::ptr::{null, null_mut};

    use super::*;

    const ORU: &[u8] = b"MSH|^~\\&|AN|LAB|LIS|HOSP|20240301101502||ORU^R01|M1|P|2.5.1\r\
OBR|1|P-1|F-1|GLU\r\
OBX|1|NM|2345-7^Glucose^LN||5.40|mmol/L|||||F\r";

    fn new() -> *mut labwire_decoder {
        let mut decoder = null_mut();
        // SAFETY: `decoder` is valid for writes.
        let code = unsafe { labwire_decoder_new(&mut decoder) };
        assert_eq!(code, labwire_result::Ok);
        decoder
    }

    fn json(decoder: *const labwire_decoder) -> String {
        let (mut json, mut len) = (null(), 0);
        // SAFETY: a live handle and valid out pointers.
        let code = unsafe { labwire_decoder_events_json(decoder, &mut json, &mut len) };
        assert_eq!(code, labwire_result::Ok);
        // SAFETY: the decoder owns `len` bytes at `json`.
        let bytes = unsafe { std::slice::from_raw_parts(json.cast::<u8>(), len) };
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn a_message_decodes_to_json_lines() {
        let decoder = new();
        // SAFETY: a live handle and a valid input.
        let code = unsafe { labwire_decoder_decode(decoder, ORU.as_ptr(), ORU.len()) };
        assert_eq!(code, labwire_result::Ok);
        let text = json(decoder);
        assert_eq!(text.lines().count(), 1);
        assert!(text.ends_with('\n'));
        let event: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert!(event.is_object());
        let mut count = 0;
        // SAFETY: a live handle and a valid out pointer.
        unsafe { labwire_decoder_event_count(decoder, &mut count) };
        assert_eq!(count, 1);
        let mut format = labwire_format::Unknown;
        // SAFETY: a live handle and a valid out pointer.
        unsafe { labwire_decoder_format(decoder, &mut format) };
        assert_eq!(format, labwire_format::Hl7);
        let mut buf = vec![0 as c_char; text.len() + 1];
        let mut len = 0;
        // SAFETY: `buf` is valid for its length.
        let code = unsafe {
            labwire_decoder_copy_events_json(decoder, buf.as_mut_ptr(), buf.len(), &mut len)
        };
        assert_eq!(code, labwire_result::Ok);
        assert_eq!(len, text.len());
        // SAFETY: a handle from `labwire_decoder_new`, freed once.
        unsafe { labwire_decoder_free(decoder) };
    }

    #[test]
    fn a_partly_rejected_input_is_partial() {
        let decoder = new();
        let mut input = ORU.to_vec();
        input.extend_from_slice(b"MSH|^~\\&|AN|LAB|LIS|HOSP|2024||XYZ^Q99|M2|P|2.5.1\r");
        // SAFETY: a live handle and a valid input.
        let code = unsafe { labwire_decoder_decode(decoder, input.as_ptr(), input.len()) };
        assert_eq!(code, labwire_result::Partial);
        let mut error = labwire_error {
            code: labwire_result::Ok,
            message: null(),
            message_len: 0,
            location: null(),
            location_len: 0,
            offset: 0,
        };
        // SAFETY: a live handle and a valid out pointer.
        unsafe { labwire_decoder_last_error(decoder, &mut error) };
        assert_eq!(error.code, labwire_result::Hl7Mapping);
        // SAFETY: the decoder owns the location string.
        let location = unsafe { std::ffi::CStr::from_ptr(error.location) };
        assert_eq!(location.to_str().unwrap(), "message 2");
        let mut count = 0;
        // SAFETY: a live handle and a valid out pointer.
        unsafe { labwire_decoder_error_count(decoder, &mut count) };
        assert_eq!(count, 1);
        // SAFETY: as above.
        let code = unsafe { labwire_decoder_error(decoder, 1, &mut error) };
        assert_eq!(code, labwire_result::IndexOutOfRange);
        // SAFETY: a handle from `labwire_decoder_new`, freed once.
        unsafe { labwire_decoder_free(decoder) };
    }

    #[test]
    fn options_are_checked() {
        let decoder = new();
        // SAFETY: a live handle.
        unsafe {
            assert_eq!(
                labwire_decoder_set_format(decoder, 9),
                labwire_result::InvalidArgument
            );
            assert_eq!(labwire_decoder_set_format(decoder, 2), labwire_result::Ok);
            assert_eq!(
                labwire_decoder_set_astm_dialect(decoder, 1),
                labwire_result::Ok
            );
            assert_eq!(
                labwire_decoder_set_astm_charset(decoder, 3),
                labwire_result::InvalidArgument
            );
            assert_eq!(
                labwire_decoder_set_strict(decoder, true),
                labwire_result::Ok
            );
            assert_eq!(
                labwire_decoder_set_strict(null_mut(), true),
                labwire_result::NullParameter
            );
            labwire_decoder_free(decoder);
            labwire_decoder_free(null_mut());
        }
    }

    #[test]
    fn an_unknown_format_is_reported() {
        let decoder = new();
        // SAFETY: a live handle and a valid input.
        let code = unsafe { labwire_decoder_decode(decoder, b"hello".as_ptr(), 5) };
        assert_eq!(code, labwire_result::UnknownFormat);
        assert_eq!(json(decoder), "");
        // SAFETY: a handle from `labwire_decoder_new`, freed once.
        unsafe { labwire_decoder_free(decoder) };
    }
}
