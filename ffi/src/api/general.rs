//! Functions without a handle: version, result names, format detection.

use core::ffi::c_char;

use crate::boundary::{Done, Failure, call, input_bytes, out_param};
use crate::decode::{self, Format};
use crate::labwire_result;

/// A wire format, as `labwire_detect_format` reports it and `labwire_decoder_set_format`
/// takes it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum labwire_format {
    /// Not recognized; as a decoder setting: recognize it from the content (the
    /// default).
    Unknown = 0,
    /// HL7 v2, with or without MLLP framing, or a batch file.
    Hl7 = 1,
    /// ASTM E1394 records, E1381-framed or raw.
    Astm = 2,
    /// DICOM Part 10, or a bare data set.
    Dicom = 3,
}

impl labwire_format {
    /// The valid values, for checking a `uint32_t` argument.
    pub(crate) const ALL: [(u32, Self); 4] = [
        (0, Self::Unknown),
        (1, Self::Hl7),
        (2, Self::Astm),
        (3, Self::Dicom),
    ];

    /// The C value of a detected format.
    pub(crate) fn of(format: Option<Format>) -> Self {
        match format {
            Some(Format::Hl7) => Self::Hl7,
            Some(Format::Astm) => Self::Astm,
            Some(Format::Dicom) => Self::Dicom,
            None => Self::Unknown,
        }
    }

    /// The format to decode as; `None` to recognize it.
    pub(crate) fn format(self) -> Option<Format> {
        match self {
            Self::Unknown => None,
            Self::Hl7 => Some(Format::Hl7),
            Self::Astm => Some(Format::Astm),
            Self::Dicom => Some(Format::Dicom),
        }
    }
}

/// The library version, `"0.1.0"`, with a terminating NUL.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The version of the labwire library, e.g. `"0.1.0"` (semantic versioning).
///
/// On success `*version` points to a static NUL-terminated string of `*version_len`
/// bytes (the NUL not counted), valid for the life of the process.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER` if `version` or `version_len` is NULL.
///
/// # Safety
/// `version` and `version_len` are NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_version(
    version: *mut *const c_char,
    version_len: *mut usize,
) -> labwire_result {
    call(|| {
        // SAFETY: the caller guarantees the pointers are NULL or valid for writes.
        let version = unsafe { out_param(version, "version") }?;
        // SAFETY: as above.
        let version_len = unsafe { out_param(version_len, "version_len") }?;
        version.write(VERSION.as_ptr().cast());
        version_len.write(VERSION.len().saturating_sub(1));
        Ok(Done::Ok)
    })
}

/// The name of a result code, e.g. `"LABWIRE_RESULT_HL7_SYNTAX"`, as a static
/// NUL-terminated string; `"LABWIRE_RESULT_UNKNOWN"` for a value that is not a code.
///
/// One of the two exceptions to "every function returns a `labwire_result`" (the other
/// is the `_free` functions): it cannot fail and is meant for error handling code.
#[unsafe(no_mangle)]
pub extern "C" fn labwire_result_name(result: u32) -> *const c_char {
    let name = std::panic::catch_unwind(|| {
        labwire_result::ALL
            .iter()
            .find(|code| **code as u32 == result)
            .map_or("LABWIRE_RESULT_UNKNOWN\0", |code| code.c_name())
    })
    .unwrap_or("LABWIRE_RESULT_UNKNOWN\0");
    name.as_ptr().cast()
}

/// Recognizes the format of `(bytes, len)` from its first bytes and writes it to
/// `*format`: `LABWIRE_FORMAT_UNKNOWN` when it is none of HL7 (MSH, FHS, BHS or an
/// MLLP start block, after an optional byte order mark and whitespace), ASTM (an E1381
/// control character or an `H` record) or DICOM (`DICM` at 128 or 0, or a data set in
/// group 0002 or 0008).
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER` if `format` is NULL, or `bytes` is NULL
/// with a non-zero `len`; `LABWIRE_RESULT_INVALID_ARGUMENT` if `len` is over
/// `PTRDIFF_MAX`.
///
/// # Safety
/// `bytes` is NULL or valid for reading `len` bytes; `format` is NULL or valid for
/// writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_detect_format(
    bytes: *const u8,
    len: usize,
    format: *mut labwire_format,
) -> labwire_result {
    call(|| {
        // SAFETY: the caller guarantees the pointers are NULL or valid.
        let format = unsafe { out_param(format, "format") }?;
        // SAFETY: as above.
        let bytes = unsafe { input_bytes(bytes, len, "bytes") }?;
        format.write(labwire_format::of(decode::detect(bytes)));
        Ok(Done::Ok)
    })
}

/// Proves the panic boundary: panics inside the library and returns the
/// `LABWIRE_RESULT_PANIC` that every entry point returns when it catches one. Nothing
/// else happens (no message is printed). Integrators can test their handling of that
/// code with it.
#[unsafe(no_mangle)]
pub extern "C" fn labwire_check_panic_boundary() -> labwire_result {
    call(|| -> Result<Done, Failure> {
        // `resume_unwind` unwinds like a panic without running the panic hook.
        std::panic::resume_unwind(Box::new("labwire_check_panic_boundary"))
    })
}

impl labwire_result {
    /// The C name with a NUL, for `labwire_result_name`.
    pub(crate) const fn c_name(self) -> &'static str {
        match self {
            Self::Ok => "LABWIRE_RESULT_OK\0",
            Self::NeedMore => "LABWIRE_RESULT_NEED_MORE\0",
            Self::Partial => "LABWIRE_RESULT_PARTIAL\0",
            Self::NullParameter => "LABWIRE_RESULT_NULL_PARAMETER\0",
            Self::Panic => "LABWIRE_RESULT_PANIC\0",
            Self::InsufficientSize => "LABWIRE_RESULT_INSUFFICIENT_SIZE\0",
            Self::InvalidUtf8 => "LABWIRE_RESULT_INVALID_UTF8\0",
            Self::InvalidArgument => "LABWIRE_RESULT_INVALID_ARGUMENT\0",
            Self::InvalidState => "LABWIRE_RESULT_INVALID_STATE\0",
            Self::IndexOutOfRange => "LABWIRE_RESULT_INDEX_OUT_OF_RANGE\0",
            Self::NotFound => "LABWIRE_RESULT_NOT_FOUND\0",
            Self::BufferFull => "LABWIRE_RESULT_BUFFER_FULL\0",
            Self::UnknownFormat => "LABWIRE_RESULT_UNKNOWN_FORMAT\0",
            Self::Hl7Syntax => "LABWIRE_RESULT_HL7_SYNTAX\0",
            Self::Hl7Path => "LABWIRE_RESULT_HL7_PATH\0",
            Self::Hl7Value => "LABWIRE_RESULT_HL7_VALUE\0",
            Self::Hl7Mapping => "LABWIRE_RESULT_HL7_MAPPING\0",
            Self::Hl7Ack => "LABWIRE_RESULT_HL7_ACK\0",
            Self::Mllp => "LABWIRE_RESULT_MLLP\0",
            Self::AstmRecord => "LABWIRE_RESULT_ASTM_RECORD\0",
            Self::AstmLink => "LABWIRE_RESULT_ASTM_LINK\0",
            Self::AstmConfig => "LABWIRE_RESULT_ASTM_CONFIG\0",
            Self::AstmSend => "LABWIRE_RESULT_ASTM_SEND\0",
            Self::DicomParse => "LABWIRE_RESULT_DICOM_PARSE\0",
            Self::DicomValue => "LABWIRE_RESULT_DICOM_VALUE\0",
            Self::DicomKeyword => "LABWIRE_RESULT_DICOM_KEYWORD\0",
            Self::ModelJson => "LABWIRE_RESULT_MODEL_JSON\0",
            Self::MqttConfig => "LABWIRE_RESULT_MQTT_CONFIG\0",
            Self::MqttMap => "LABWIRE_RESULT_MQTT_MAP\0",
            Self::InvalidTimestamp => "LABWIRE_RESULT_INVALID_TIMESTAMP\0",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;

    fn name(code: u32) -> String {
        // SAFETY: `labwire_result_name` returns a static NUL-terminated string.
        unsafe { CStr::from_ptr(labwire_result_name(code)) }
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn every_code_has_a_distinct_name_and_value() {
        let mut names = std::collections::HashSet::new();
        let mut values = std::collections::HashSet::new();
        for code in labwire_result::ALL {
            assert!(names.insert(name(code as u32)));
            assert!(values.insert(code as u32));
            assert!(name(code as u32).starts_with("LABWIRE_RESULT_"));
        }
        assert_eq!(name(0), "LABWIRE_RESULT_OK");
        assert_eq!(name(300), "LABWIRE_RESULT_HL7_SYNTAX");
        assert_eq!(name(99_999), "LABWIRE_RESULT_UNKNOWN");
    }

    #[test]
    fn the_version_is_the_crate_version() {
        let mut version = std::ptr::null();
        let mut len = 0;
        // SAFETY: both pointers are valid for writes.
        let code = unsafe { labwire_version(&mut version, &mut len) };
        assert_eq!(code, labwire_result::Ok);
        // SAFETY: `version` is a static string of `len` bytes and a NUL.
        let text = unsafe { CStr::from_ptr(version) }.to_str().unwrap();
        assert_eq!(text, env!("CARGO_PKG_VERSION"));
        assert_eq!(len, text.len());
        // SAFETY: NULL is allowed.
        let code = unsafe { labwire_version(std::ptr::null_mut(), &mut len) };
        assert_eq!(code, labwire_result::NullParameter);
    }

    #[test]
    fn detection_reports_the_format() {
        let mut format = labwire_format::Dicom;
        let input = b"MSH|^~\\&|";
        // SAFETY: the input and output are valid.
        let code = unsafe { labwire_detect_format(input.as_ptr(), input.len(), &mut format) };
        assert_eq!(code, labwire_result::Ok);
        assert_eq!(format, labwire_format::Hl7);
        // SAFETY: NULL with length 0 is the empty input.
        let code = unsafe { labwire_detect_format(std::ptr::null(), 0, &mut format) };
        assert_eq!(code, labwire_result::Ok);
        assert_eq!(format, labwire_format::Unknown);
        // SAFETY: NULL with a length is refused before any read.
        let code = unsafe { labwire_detect_format(std::ptr::null(), 3, &mut format) };
        assert_eq!(code, labwire_result::NullParameter);
    }

    #[test]
    fn the_panic_boundary_catches_panics() {
        assert_eq!(labwire_check_panic_boundary(), labwire_result::Panic);
    }
}
