//! `labwire_dicom_header`: a DICOM file's header, read by tag or keyword.

use core::ffi::c_char;

use labwire_dicom_meta::{Element, Header, ParseOptions, Tag, Vr};

use crate::boundary::{
    CBuf, Done, Failure, Outcome, Status, call_mut, copy_out, free_handle, impl_handle,
    input_bytes, input_text, new_handle, out_param, write_text,
};
use crate::owned::{Borrowing, Owned};
use crate::{labwire_error, labwire_result};

/// `Header<'a>` over bytes the handle owns.
struct DicomView;

impl Borrowing for DicomView {
    type View<'a> = Header<'a>;

    fn shorten<'short, 'long: 'short>(
        view: &'short Self::View<'long>,
    ) -> &'short Self::View<'short> {
        view
    }
}

/// A DICOM header: the preamble, the file meta information and the data set up to
/// the pixel data (never read), indexed; values are decoded when asked for.
///
/// Create with `labwire_dicom_header_new`, then `labwire_dicom_header_parse` (again
/// for each file: the handle is reusable). The handle keeps a copy of the bytes
/// parsed. Owned by the caller; free with `labwire_dicom_header_free`. Not for
/// concurrent use: one thread at a time (it may move between threads).
pub struct labwire_dicom_header {
    status: Status,
    parsed: Option<Owned<DicomView>>,
    value: CBuf,
    event: CBuf,
}

impl_handle!(labwire_dicom_header);

/// The failure of a DICOM error.
fn dicom_failure(code: labwire_result, error: &labwire_dicom_meta::Error) -> Failure {
    Failure::new(code, error.to_string())
        .at(error.location().to_string())
        .with_offset(Some(error.offset()))
}

/// An element's value as text: text VRs decoded with the Specific Character Set and
/// trimmed; binary numbers (US SS UL SL SV UV FL FD, and OW words such as LUT Data read
/// in implicit VR) and attribute tags (AT) formatted;
/// several values joined with `\`, as DICOM writes multi-valued text (PS3.5 §6.4).
fn element_text(element: &Element<'_>) -> Result<String, labwire_dicom_meta::Error> {
    let vr = element.effective_vr();
    if [Vr::US, Vr::SS, Vr::UL, Vr::SL, Vr::SV, Vr::UV, Vr::OW].contains(&vr) {
        let values: Vec<String> = element.ints()?.iter().map(ToString::to_string).collect();
        return Ok(values.join("\\"));
    }
    if [Vr::FL, Vr::FD].contains(&vr) {
        let values: Vec<String> = element.floats()?.iter().map(ToString::to_string).collect();
        return Ok(values.join("\\"));
    }
    if vr == Vr::AT {
        let values: Vec<String> = element
            .attribute_tags()?
            .iter()
            .map(ToString::to_string)
            .collect();
        return Ok(values.join("\\"));
    }
    // Text VRs; the others (OB, SQ …) fail with the reason.
    Ok(element.string()?.into_owned())
}

impl labwire_dicom_header {
    fn header(&self) -> Result<&Header<'_>, Failure> {
        self.parsed.as_ref().map(Owned::view).ok_or_else(|| {
            Failure::new(
                labwire_result::InvalidState,
                "no header is parsed (none yet, or the last parse failed)",
            )
        })
    }

    fn parse(&mut self, bytes: &[u8], strict: bool) -> Outcome {
        let options = if strict {
            ParseOptions::strict()
        } else {
            ParseOptions::default()
        };
        self.value.clear();
        self.event.clear();
        self.parsed = None;
        let owned = Owned::<DicomView>::try_new(bytes.to_vec(), |bytes| {
            labwire_dicom_meta::parse_with(bytes, &options)
        })
        .map_err(|(error, _)| dicom_failure(labwire_result::DicomParse, &error))?;
        let stopped = owned
            .view()
            .error()
            .map(|error| dicom_failure(labwire_result::DicomParse, error));
        self.parsed = Some(owned);
        Ok(match stopped {
            Some(failure) => Done::Partial(failure),
            None => Done::Ok,
        })
    }

    fn get(&self, tag: Tag) -> Result<String, Failure> {
        let header = self.header()?;
        let element = header.get(tag).ok_or_else(|| {
            Failure::new(
                labwire_result::NotFound,
                format!("{tag} is not in the header"),
            )
            .at(tag.to_string())
        })?;
        element_text(&element).map_err(|error| dicom_failure(labwire_result::DicomValue, &error))
    }

    fn tag_of(keyword: &str) -> Result<Tag, Failure> {
        labwire_dicom_meta::dictionary::tag_for_keyword(keyword).ok_or_else(|| {
            Failure::new(
                labwire_result::DicomKeyword,
                format!("{keyword:?} is not a keyword of the DICOM data dictionary (PS3.6)"),
            )
            .at("keyword")
        })
    }
}

/// Creates an empty header handle. On success `*out` is the new handle; on failure it
/// is NULL.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER` if `out` is NULL.
///
/// # Safety
/// `out` is NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_dicom_header_new(
    out: *mut *mut labwire_dicom_header,
) -> labwire_result {
    // SAFETY: forwarded from the caller.
    unsafe {
        new_handle(out, || {
            Ok(labwire_dicom_header {
                status: Status::default(),
                parsed: None,
                value: CBuf::default(),
                event: CBuf::default(),
            })
        })
    }
}

/// Frees a header handle and everything it returned. NULL is ignored.
///
/// # Safety
/// `header` is NULL or a handle from `labwire_dicom_header_new` not yet freed; it is
/// not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_dicom_header_free(header: *mut labwire_dicom_header) {
    // SAFETY: forwarded from the caller.
    unsafe { free_handle(header) }
}

/// Parses a DICOM file or data set `(bytes, len)` (a whole file, or a prefix that holds
/// the header), replacing what the handle held. The bytes are copied. Hostile input is
/// safe: declared lengths are checked against the bytes present, nesting and sizes are
/// capped.
///
/// Lenient by default (no preamble, a wrong group length, implicit VR under an
/// explicit transfer syntax … are accepted); `strict` refuses every deviation.
///
/// Returns `LABWIRE_RESULT_OK`, or `LABWIRE_RESULT_PARTIAL` when the header was cut
/// short (a truncated file, a limit reached): what was read is usable, the last error
/// says where it stopped.
///
/// Errors: `LABWIRE_RESULT_DICOM_PARSE` when nothing could be read (not DICOM, or any
/// deviation in strict mode); the handle then holds no header.
/// `LABWIRE_RESULT_NULL_PARAMETER`, `LABWIRE_RESULT_INVALID_ARGUMENT` for the input.
///
/// # Safety
/// `header` is NULL or a live handle, not used by another thread during the call;
/// `bytes` is NULL or valid for reading `len` bytes that are not this handle's outputs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_dicom_header_parse(
    header: *mut labwire_dicom_header,
    bytes: *const u8,
    len: usize,
    strict: bool,
) -> labwire_result {
    let body = |header: &mut labwire_dicom_header| -> Outcome {
        // SAFETY: the caller guarantees the input is NULL or readable; it is
        // copied before the handle changes.
        let bytes = unsafe { input_bytes(bytes, len, "bytes") }?;
        header.parse(bytes, strict)
    };
    // SAFETY: the caller guarantees `header` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(header, body) }
}

/// The value of the top-level element `tag` (group in the high 16 bits: `0x00100010`
/// is Patient Name; group 0002 is the file meta information) as text: text VRs decoded
/// to UTF-8 with the Specific Character Set and padding trimmed; US SS UL SL SV UV FL
/// FD and AT values formatted; several values joined with `\`.
///
/// `*value` is NUL-terminated and owned by the handle (valid until the next non-const
/// call on it, or its free).
///
/// Errors: `LABWIRE_RESULT_NOT_FOUND` if the header has no such element;
/// `LABWIRE_RESULT_DICOM_VALUE` for a value that is not text or numbers (OB, SQ …) or
/// is malformed; `LABWIRE_RESULT_INVALID_STATE` if no header is parsed;
/// `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `header` is NULL or a live handle, not used by another thread during the call;
/// `value` and `value_len` are NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_dicom_header_get(
    header: *mut labwire_dicom_header,
    tag: u32,
    value: *mut *const c_char,
    value_len: *mut usize,
) -> labwire_result {
    let body = |header: &mut labwire_dicom_header| -> Outcome {
        // SAFETY: the caller guarantees the pointers are NULL or valid for writes.
        let value = unsafe { out_param(value, "value") }?;
        // SAFETY: as above.
        let value_len = unsafe { out_param(value_len, "value_len") }?;
        let text = header.get(Tag::from_u32(tag))?;
        header.value.set(text.as_bytes());
        write_text(&header.value, value, value_len);
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `header` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(header, body) }
}

/// `labwire_dicom_header_get` by keyword of the data dictionary (`"PatientName"`,
/// `"ContainerIdentifier"`; case-sensitive, PS3.6).
///
/// Errors: those of `labwire_dicom_header_get`, and `LABWIRE_RESULT_DICOM_KEYWORD` for
/// a keyword the dictionary does not know; `LABWIRE_RESULT_INVALID_UTF8`.
///
/// # Safety
/// As `labwire_dicom_header_get`; `keyword` is NULL or valid for reading `keyword_len`
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_dicom_header_get_by_keyword(
    header: *mut labwire_dicom_header,
    keyword: *const c_char,
    keyword_len: usize,
    value: *mut *const c_char,
    value_len: *mut usize,
) -> labwire_result {
    let body = |header: &mut labwire_dicom_header| -> Outcome {
        // SAFETY: the caller guarantees the pointers are NULL or valid for writes.
        let value = unsafe { out_param(value, "value") }?;
        // SAFETY: as above.
        let value_len = unsafe { out_param(value_len, "value_len") }?;
        // SAFETY: as above; read before the handle changes.
        let keyword = unsafe { input_text(keyword, keyword_len, "keyword") }?;
        let text = header.get(labwire_dicom_header::tag_of(keyword)?)?;
        header.value.set(text.as_bytes());
        write_text(&header.value, value, value_len);
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `header` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(header, body) }
}

/// `labwire_dicom_header_get` into the caller's buffer `(buf, buf_len)`: the value and
/// a NUL. `*value_len` receives the value's length (without the NUL) whenever the value
/// was read, so a call with `buf_len` 0 and `buf` NULL asks for the size.
///
/// Errors: those of `labwire_dicom_header_get`, and
/// `LABWIRE_RESULT_INSUFFICIENT_SIZE` if `buf_len` is not more than the length
/// (nothing is written to `buf`).
///
/// # Safety
/// As `labwire_dicom_header_get`; `buf` is NULL or valid for writing `buf_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_dicom_header_get_into(
    header: *mut labwire_dicom_header,
    tag: u32,
    buf: *mut c_char,
    buf_len: usize,
    value_len: *mut usize,
) -> labwire_result {
    let body = |header: &mut labwire_dicom_header| -> Outcome {
        let text = header.get(Tag::from_u32(tag))?;
        // SAFETY: the caller guarantees `buf` and `value_len`; `text` is ours.
        unsafe { copy_out(text.as_bytes(), buf.cast::<u8>(), buf_len, value_len) }
    };
    // SAFETY: the caller guarantees `header` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(header, body) }
}

/// The header as a lab event (an imaging study: study, series and instance UIDs,
/// modality, device, specimens and their containers), in the labwire model's JSON;
/// one object, no newline. `*json` is NUL-terminated and owned by the handle.
///
/// Errors: `LABWIRE_RESULT_INVALID_STATE` if no header is parsed;
/// `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `header` is NULL or a live handle, not used by another thread during the call;
/// `json` and `json_len` are NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_dicom_header_event_json(
    header: *mut labwire_dicom_header,
    json: *mut *const c_char,
    json_len: *mut usize,
) -> labwire_result {
    let body = |header: &mut labwire_dicom_header| -> Outcome {
        // SAFETY: the caller guarantees the pointers are NULL or valid for writes.
        let json = unsafe { out_param(json, "json") }?;
        // SAFETY: as above.
        let json_len = unsafe { out_param(json_len, "json_len") }?;
        let event = labwire_dicom_meta::model::lab_event(header.header()?);
        let text = serde_json::to_vec(&event).map_err(|error| {
            Failure::new(
                labwire_result::ModelJson,
                format!("writing the event as JSON: {error}"),
            )
        })?;
        header.event.set_vec(text);
        write_text(&header.event, json, json_len);
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `header` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(header, body) }
}

/// The last error of the handle: how its last non-const call failed (code
/// `LABWIRE_RESULT_OK` if it did not), with the byte offset and the element path.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `header` is NULL or a live handle, not changed during the call; `error` is NULL or
/// valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_dicom_header_last_error(
    header: *const labwire_dicom_header,
    error: *mut labwire_error,
) -> labwire_result {
    // SAFETY: forwarded from the caller.
    unsafe { crate::api::last_error(header, error) }
}

#[cfg(test)]
mod tests {
    use std::ptr::{null, null_mut};

    use super::*;

    /// A data set without preamble, explicit VR little endian: Modality `SM`, Rows 2,
    /// Patient Name `Doe^Jane`, and a truncated element after them.
    fn data_set(truncated: bool) -> Vec<u8> {
        let mut bytes = b"\x08\x00\x60\x00CS\x02\x00SM".to_vec();
        bytes.extend_from_slice(b"\x10\x00\x10\x00PN\x08\x00Doe^Jane");
        bytes.extend_from_slice(b"\x28\x00\x10\x00US\x02\x00\x02\x00");
        if truncated {
            bytes.extend_from_slice(b"\x28\x00\x11\x00US\x10\x00\x02");
        }
        bytes
    }

    fn parsed(bytes: &[u8]) -> (*mut labwire_dicom_header, labwire_result) {
        let mut header = null_mut();
        // SAFETY: valid pointers throughout.
        unsafe {
            labwire_dicom_header_new(&mut header);
            let code = labwire_dicom_header_parse(header, bytes.as_ptr(), bytes.len(), false);
            (header, code)
        }
    }

    fn get(header: *mut labwire_dicom_header, tag: u32) -> Result<String, labwire_result> {
        let (mut value, mut len) = (null(), 0);
        // SAFETY: a live handle and valid pointers.
        let code = unsafe { labwire_dicom_header_get(header, tag, &mut value, &mut len) };
        if code != labwire_result::Ok {
            return Err(code);
        }
        // SAFETY: the handle owns `len` bytes at `value`.
        let bytes = unsafe { std::slice::from_raw_parts(value.cast::<u8>(), len) };
        Ok(String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[test]
    fn values_are_read_by_tag_and_keyword() {
        let (header, code) = parsed(&data_set(false));
        assert_eq!(code, labwire_result::Ok);
        assert_eq!(get(header, 0x0008_0060).unwrap(), "SM");
        assert_eq!(get(header, 0x0028_0010).unwrap(), "2");
        assert_eq!(get(header, 0x0010_0020), Err(labwire_result::NotFound));
        let (mut value, mut len) = (null(), 0);
        for (keyword, expected) in [
            ("PatientName", labwire_result::Ok),
            ("NoSuchKeyword", labwire_result::DicomKeyword),
        ] {
            // SAFETY: a live handle and valid pointers.
            let code = unsafe {
                labwire_dicom_header_get_by_keyword(
                    header,
                    keyword.as_ptr().cast(),
                    keyword.len(),
                    &mut value,
                    &mut len,
                )
            };
            assert_eq!(code, expected);
        }
        let (mut json, mut json_len) = (null(), 0);
        // SAFETY: a live handle and valid pointers.
        let code = unsafe { labwire_dicom_header_event_json(header, &mut json, &mut json_len) };
        assert_eq!(code, labwire_result::Ok);
        assert!(json_len > 2);
        // SAFETY: a handle from `labwire_dicom_header_new`, freed once.
        unsafe { labwire_dicom_header_free(header) };
    }

    #[test]
    fn a_truncated_header_is_partial() {
        let (header, code) = parsed(&data_set(true));
        assert_eq!(code, labwire_result::Partial);
        assert_eq!(get(header, 0x0008_0060).unwrap(), "SM");
        // SAFETY: a handle from `labwire_dicom_header_new`, freed once.
        unsafe { labwire_dicom_header_free(header) };
        let (header, code) = parsed(b"not dicom");
        assert_eq!(code, labwire_result::DicomParse);
        assert_eq!(get(header, 0x0008_0060), Err(labwire_result::InvalidState));
        // SAFETY: as above.
        unsafe { labwire_dicom_header_free(header) };
    }
}
