//! `labwire_hl7_message`: one HL7 v2 message, parsed, read by path and acknowledged.

use core::ffi::c_char;

use labwire_hl7::ack::{Ack, AcknowledgmentCode};
use labwire_hl7::{Message, ParseOptions};

use crate::boundary::{
    CBuf, Done, Failure, Outcome, Status, call_mut, call_ref, copy_out, enum_arg, free_handle,
    impl_handle, input_bytes, input_text, new_handle, out_param, write_buf, write_text,
};
use crate::owned::{Borrowing, Owned};
use crate::{labwire_error, labwire_result};

/// MSA-1, the acknowledgment code (HL7 table 0008), for `labwire_hl7_message_ack`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum labwire_ack_code {
    /// `AA`: application accept.
    ApplicationAccept = 0,
    /// `AE`: application error.
    ApplicationError = 1,
    /// `AR`: application reject.
    ApplicationReject = 2,
    /// `CA`: commit accept (enhanced mode).
    CommitAccept = 3,
    /// `CE`: commit error.
    CommitError = 4,
    /// `CR`: commit reject.
    CommitReject = 5,
}

impl labwire_ack_code {
    const ALL: [(u32, Self); 6] = [
        (0, Self::ApplicationAccept),
        (1, Self::ApplicationError),
        (2, Self::ApplicationReject),
        (3, Self::CommitAccept),
        (4, Self::CommitError),
        (5, Self::CommitReject),
    ];

    fn code(self) -> AcknowledgmentCode {
        match self {
            Self::ApplicationAccept => AcknowledgmentCode::ApplicationAccept,
            Self::ApplicationError => AcknowledgmentCode::ApplicationError,
            Self::ApplicationReject => AcknowledgmentCode::ApplicationReject,
            Self::CommitAccept => AcknowledgmentCode::CommitAccept,
            Self::CommitError => AcknowledgmentCode::CommitError,
            Self::CommitReject => AcknowledgmentCode::CommitReject,
        }
    }
}

/// `Message<'a>` over bytes the handle owns.
struct Hl7View;

impl Borrowing for Hl7View {
    type View<'a> = Message<'a>;

    fn shorten<'short, 'long: 'short>(
        view: &'short Self::View<'long>,
    ) -> &'short Self::View<'short> {
        view
    }
}

/// What the handle holds.
enum Parsed {
    /// Nothing parsed yet.
    Nothing,
    /// The last parse succeeded.
    Message(Owned<Hl7View>),
    /// The last parse failed: the bytes and why, to answer with a reject.
    Failed {
        bytes: Vec<u8>,
        error: labwire_hl7::Error,
    },
}

/// One HL7 v2 message: parse it, read values by path (`"OBX(2)-5"`), build its
/// acknowledgment.
///
/// Create with `labwire_hl7_message_new`, then `labwire_hl7_message_parse` (again for
/// each message: the handle is reusable). The handle keeps a copy of the message
/// bytes. Owned by the caller; free with `labwire_hl7_message_free`. Not for
/// concurrent use: one thread at a time (it may move between threads).
pub struct labwire_hl7_message {
    status: Status,
    parsed: Parsed,
    value: CBuf,
    ack: CBuf,
}

impl_handle!(labwire_hl7_message);

/// The failure of an HL7 syntax-layer error.
fn hl7_failure(code: labwire_result, error: &labwire_hl7::Error) -> Failure {
    Failure::new(code, error.to_string())
        .at(error
            .location()
            .map(ToString::to_string)
            .unwrap_or_default())
        .with_offset(error.offset().map(|offset| offset as u64))
}

impl labwire_hl7_message {
    fn message(&self) -> Result<&Message<'_>, Failure> {
        match &self.parsed {
            Parsed::Message(owned) => Ok(owned.view()),
            Parsed::Nothing => Err(Failure::new(
                labwire_result::InvalidState,
                "no message was parsed yet",
            )),
            Parsed::Failed { .. } => Err(Failure::new(
                labwire_result::InvalidState,
                "the last parse failed: there is no message to read",
            )),
        }
    }

    fn parse(&mut self, bytes: &[u8], strict: bool) -> Outcome {
        let options = if strict {
            ParseOptions::strict()
        } else {
            ParseOptions::default()
        };
        self.value.clear();
        self.ack.clear();
        match Owned::<Hl7View>::try_new(bytes.to_vec(), |bytes| Message::parse(bytes, &options)) {
            Ok(owned) => {
                self.parsed = Parsed::Message(owned);
                Ok(Done::Ok)
            }
            Err((error, bytes)) => {
                let failure = hl7_failure(labwire_result::Hl7Syntax, &error);
                self.parsed = Parsed::Failed { bytes, error };
                Err(failure)
            }
        }
    }

    /// The decoded text at `path`.
    fn get(&self, path: &str) -> Result<String, Failure> {
        let message = self.message()?;
        let value = message
            .try_get(path)
            .map_err(|error| {
                Failure::new(
                    labwire_result::Hl7Path,
                    format!("malformed path {path:?}: {error}"),
                )
                .at("path")
                .with_offset(Some(error.offset() as u64))
            })?
            .ok_or_else(|| {
                Failure::new(
                    labwire_result::NotFound,
                    format!("{path} is not in the message"),
                )
                .at(path)
            })?;
        match value.decoded() {
            Ok(text) => Ok(text.into_owned()),
            Err(error) => Err(hl7_failure(labwire_result::Hl7Value, &error)),
        }
    }

    fn ack(&mut self, code: labwire_ack_code, control_id: &str, time: &str) -> Outcome {
        let ack = Ack::new(code.code(), control_id, time);
        let bytes = match &self.parsed {
            Parsed::Message(owned) => ack.for_message(owned.view()),
            Parsed::Failed { bytes, error } => ack.for_parse_error(bytes, error),
            Parsed::Nothing => {
                return Err(Failure::new(
                    labwire_result::InvalidState,
                    "no message was parsed yet",
                ));
            }
        }
        .map_err(|error| hl7_failure(labwire_result::Hl7Ack, &error))?;
        self.ack.set_vec(bytes);
        Ok(Done::Ok)
    }
}

/// Creates an empty message handle. On success `*out` is the new handle; on failure
/// it is NULL.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER` if `out` is NULL.
///
/// # Safety
/// `out` is NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_hl7_message_new(
    out: *mut *mut labwire_hl7_message,
) -> labwire_result {
    // SAFETY: forwarded from the caller.
    unsafe {
        new_handle(out, || {
            Ok(labwire_hl7_message {
                status: Status::default(),
                parsed: Parsed::Nothing,
                value: CBuf::default(),
                ack: CBuf::default(),
            })
        })
    }
}

/// Frees a message handle and everything it returned. NULL is ignored.
///
/// # Safety
/// `message` is NULL or a handle from `labwire_hl7_message_new` not yet freed; it is
/// not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_hl7_message_free(message: *mut labwire_hl7_message) {
    // SAFETY: forwarded from the caller.
    unsafe { free_handle(message) }
}

/// Parses one HL7 v2 message `(bytes, len)` (starting with `MSH`; without MLLP
/// framing), replacing what the handle held. The bytes are copied.
///
/// Lenient by default: LF or CRLF segment terminators, a byte order mark, blank lines,
/// unusual segment ids, short encoding characters and bad escapes are accepted.
/// `strict` refuses each (HL7 v2 ch. 2 as written).
///
/// Errors: `LABWIRE_RESULT_HL7_SYNTAX` when the message does not parse, with the byte
/// offset and segment in the last error; the handle then holds no message but can
/// still build the reject acknowledgment (`labwire_hl7_message_ack`).
/// `LABWIRE_RESULT_NULL_PARAMETER`, `LABWIRE_RESULT_INVALID_ARGUMENT` for the input.
///
/// # Safety
/// `message` is NULL or a live handle, not used by another thread during the call;
/// `bytes` is NULL or valid for reading `len` bytes that are not this handle's outputs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_hl7_message_parse(
    message: *mut labwire_hl7_message,
    bytes: *const u8,
    len: usize,
    strict: bool,
) -> labwire_result {
    let body = |message: &mut labwire_hl7_message| -> Outcome {
        // SAFETY: the caller guarantees the input is NULL or readable, and not an
        // output of this handle (it is copied before the handle changes anyway).
        let bytes = unsafe { input_bytes(bytes, len, "bytes") }?;
        message.parse(bytes, strict)
    };
    // SAFETY: the caller guarantees `message` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(message, body) }
}

/// The value at `(path, path_len)`, decoded (escapes resolved, character set of MSH-18
/// converted to UTF-8). Paths: `PID-5` (field), `PID-5.1` (component), `PID-3(2).4`
/// (repetition 2), `OBX(2)-5` (second OBX), `PID-5.1.2` (subcomponent). MSH-1 is the
/// field separator, as HL7 counts.
///
/// `*value` is NUL-terminated and owned by the handle (valid until the next non-const
/// call on it, or its free). A field present but empty gives an empty string.
///
/// Errors: `LABWIRE_RESULT_NOT_FOUND` if the message has no such value;
/// `LABWIRE_RESULT_HL7_PATH` for a malformed path; `LABWIRE_RESULT_HL7_VALUE` if the
/// value cannot be decoded (strict parsing only); `LABWIRE_RESULT_INVALID_STATE` if
/// no message is parsed; `LABWIRE_RESULT_INVALID_UTF8`; `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `message` is NULL or a live handle, not used by another thread during the call;
/// `path` is NULL or valid for reading `path_len` bytes; `value` and `value_len` are
/// NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_hl7_message_get(
    message: *mut labwire_hl7_message,
    path: *const c_char,
    path_len: usize,
    value: *mut *const c_char,
    value_len: *mut usize,
) -> labwire_result {
    let body = |message: &mut labwire_hl7_message| -> Outcome {
        // SAFETY: the caller guarantees the pointers are NULL or valid.
        let value = unsafe { out_param(value, "value") }?;
        // SAFETY: as above.
        let value_len = unsafe { out_param(value_len, "value_len") }?;
        // SAFETY: as above; the path is read before the handle changes.
        let path = unsafe { input_text(path, path_len, "path") }?;
        let text = message.get(path)?;
        message.value.set(text.as_bytes());
        write_text(&message.value, value, value_len);
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `message` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(message, body) }
}

/// `labwire_hl7_message_get` into the caller's buffer `(buf, buf_len)`: the value and a
/// NUL. `*value_len` receives the value's length (without the NUL) whenever the value
/// was found, so a call with `buf_len` 0 and `buf` NULL asks for the size.
///
/// Errors: those of `labwire_hl7_message_get`, and `LABWIRE_RESULT_INSUFFICIENT_SIZE`
/// if `buf_len` is not more than the length (nothing is written to `buf`).
///
/// # Safety
/// As `labwire_hl7_message_get`; `buf` is NULL or valid for writing `buf_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_hl7_message_get_into(
    message: *mut labwire_hl7_message,
    path: *const c_char,
    path_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    value_len: *mut usize,
) -> labwire_result {
    let body = |message: &mut labwire_hl7_message| -> Outcome {
        // SAFETY: the caller guarantees the pointer is NULL or valid.
        let path = unsafe { input_text(path, path_len, "path") }?;
        let text = message.get(path)?;
        // SAFETY: the caller guarantees `buf` and `value_len`; `text` is ours.
        unsafe { copy_out(text.as_bytes(), buf.cast::<u8>(), buf_len, value_len) }
    };
    // SAFETY: the caller guarantees `message` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(message, body) }
}

/// Builds the acknowledgment (ACK) of the parsed message: MSH with the original's
/// delimiters, MSH-3/4 and MSH-5/6 swapped, MSH-7 `(time, time_len)` (an HL7 DTM such
/// as `20240301101503`; the library reads no clock), MSH-9 `ACK^<trigger>^ACK`, MSH-10
/// `(control_id, control_id_len)`, MSH-11/12/18 copied; MSA-1 `code` (a
/// `labwire_ack_code`), MSA-2 the original MSH-10. Segments end with CR.
///
/// After a failed parse it answers the bytes that did not parse: a reject (`AR`, or
/// `CR` for a commit code) with an ERR segment for the error, echoing what can be read
/// of the MSH.
///
/// `*ack` is owned by the handle (valid until the next non-const call on it, or its
/// free) and NUL-terminated; frame it with `labwire_mllp_encode` to send it.
///
/// Errors: `LABWIRE_RESULT_INVALID_STATE` if nothing was parsed;
/// `LABWIRE_RESULT_INVALID_ARGUMENT` for a `code` that is not a `labwire_ack_code`;
/// `LABWIRE_RESULT_HL7_ACK` if a value cannot be written; `LABWIRE_RESULT_INVALID_UTF8`;
/// `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `message` is NULL or a live handle, not used by another thread during the call; the
/// text arguments are NULL or valid for reading their lengths; `ack` and `ack_len` are
/// NULL or valid for writes.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // C has no tuples: each text is a pointer and a length.
pub unsafe extern "C" fn labwire_hl7_message_ack(
    message: *mut labwire_hl7_message,
    code: u32,
    control_id: *const c_char,
    control_id_len: usize,
    time: *const c_char,
    time_len: usize,
    ack: *mut *const u8,
    ack_len: *mut usize,
) -> labwire_result {
    let body = |message: &mut labwire_hl7_message| -> Outcome {
        // SAFETY: the caller guarantees the pointers are NULL or valid.
        let ack = unsafe { out_param(ack, "ack") }?;
        // SAFETY: as above.
        let ack_len = unsafe { out_param(ack_len, "ack_len") }?;
        // SAFETY: as above; the texts are copied before the handle changes.
        let control_id = unsafe { input_text(control_id, control_id_len, "control_id") }?;
        // SAFETY: as above.
        let time = unsafe { input_text(time, time_len, "time") }?;
        let code = enum_arg(code, &labwire_ack_code::ALL, "code")?;
        let (control_id, time) = (control_id.to_owned(), time.to_owned());
        message.ack(code, &control_id, &time)?;
        write_buf(&message.ack, ack, ack_len);
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `message` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(message, body) }
}

/// The number of segments of the parsed message.
///
/// Errors: `LABWIRE_RESULT_INVALID_STATE` if no message is parsed;
/// `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `message` is NULL or a live handle, not changed during the call; `count` is NULL or
/// valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_hl7_message_segment_count(
    message: *const labwire_hl7_message,
    count: *mut usize,
) -> labwire_result {
    let body = |message: &labwire_hl7_message| -> Outcome {
        // SAFETY: the caller guarantees `count` is NULL or valid for writes.
        let count = unsafe { out_param(count, "count") }?;
        count.write(message.message()?.segment_count());
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `message` is NULL or a live handle that nothing
    // changes during the call.
    unsafe { call_ref(message, body) }
}

/// The last error of the handle: how its last non-const call failed (code
/// `LABWIRE_RESULT_OK` if it did not). For a failed parse: the byte offset and the
/// segment or field.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `message` is NULL or a live handle, not changed during the call; `error` is NULL or
/// valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_hl7_message_last_error(
    message: *const labwire_hl7_message,
    error: *mut labwire_error,
) -> labwire_result {
    // SAFETY: forwarded from the caller.
    unsafe { crate::api::last_error(message, error) }
}

#[cfg(test)]
mod tests {
    use std::ptr::{null, null_mut};

    use super::*;

    const ORU: &[u8] = b"MSH|^~\\&|AN|LAB|LIS|HOSP|20240301101502||ORU^R01|MSG42|P|2.5.1\r\
OBR|1|P-1|F-1|GLU\r\
OBX|1|NM|2345-7^Glucose^LN||5.40|mmol/L|||||F\r\
OBX|2|ST|5778-6^Color^LN||Straw \\T\\ clear||||||F\r";

    fn parsed(bytes: &[u8], strict: bool) -> (*mut labwire_hl7_message, labwire_result) {
        let mut message = null_mut();
        // SAFETY: valid pointers throughout.
        unsafe {
            assert_eq!(labwire_hl7_message_new(&mut message), labwire_result::Ok);
            let code = labwire_hl7_message_parse(message, bytes.as_ptr(), bytes.len(), strict);
            (message, code)
        }
    }

    fn get(message: *mut labwire_hl7_message, path: &str) -> Result<String, labwire_result> {
        let (mut value, mut len) = (null(), 0);
        // SAFETY: a live handle and valid pointers.
        let code = unsafe {
            labwire_hl7_message_get(
                message,
                path.as_ptr().cast(),
                path.len(),
                &mut value,
                &mut len,
            )
        };
        if code != labwire_result::Ok {
            return Err(code);
        }
        // SAFETY: the handle owns `len` bytes at `value`.
        let bytes = unsafe { std::slice::from_raw_parts(value.cast::<u8>(), len) };
        Ok(String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[test]
    fn values_are_read_by_path() {
        let (message, code) = parsed(ORU, false);
        assert_eq!(code, labwire_result::Ok);
        assert_eq!(get(message, "OBX(2)-5").unwrap(), "Straw & clear");
        assert_eq!(get(message, "MSH-9.1").unwrap(), "ORU");
        assert_eq!(get(message, "PID-3"), Err(labwire_result::NotFound));
        assert_eq!(get(message, "OBX(x)-5"), Err(labwire_result::Hl7Path));
        let mut count = 0;
        // SAFETY: a live handle and a valid pointer.
        unsafe { labwire_hl7_message_segment_count(message, &mut count) };
        assert_eq!(count, 4);
        let mut buf = [0 as c_char; 4];
        let mut len = 0;
        let path = "OBX(2)-5";
        // SAFETY: `buf` is valid for 4 bytes.
        let code = unsafe {
            labwire_hl7_message_get_into(
                message,
                path.as_ptr().cast(),
                path.len(),
                buf.as_mut_ptr(),
                buf.len(),
                &mut len,
            )
        };
        assert_eq!(code, labwire_result::InsufficientSize);
        assert_eq!(len, "Straw & clear".len());
        // SAFETY: a handle from `labwire_hl7_message_new`, freed once.
        unsafe { labwire_hl7_message_free(message) };
    }

    #[test]
    fn the_ack_echoes_the_control_id() {
        let (message, _) = parsed(ORU, false);
        let (mut ack, mut len) = (null(), 0);
        let (id, time) = ("ACK-1", "20240301101503");
        // SAFETY: a live handle and valid pointers.
        let code = unsafe {
            labwire_hl7_message_ack(
                message,
                0,
                id.as_ptr().cast(),
                id.len(),
                time.as_ptr().cast(),
                time.len(),
                &mut ack,
                &mut len,
            )
        };
        assert_eq!(code, labwire_result::Ok);
        // SAFETY: the handle owns `len` bytes at `ack`.
        let ack = unsafe { std::slice::from_raw_parts(ack, len) };
        let text = String::from_utf8(ack.to_vec()).unwrap();
        assert!(text.contains("MSA|AA|MSG42\r"), "{text}");
        // SAFETY: a handle from `labwire_hl7_message_new`, freed once.
        unsafe { labwire_hl7_message_free(message) };
    }

    #[test]
    fn a_failed_parse_is_answered_with_a_reject() {
        let (message, code) = parsed(b"MSH|^~\\&|A|B|C|D|2024||ORU^R01|X9|P|2.5.1\npid|1\n", true);
        assert_eq!(code, labwire_result::Hl7Syntax);
        assert_eq!(get(message, "MSH-10"), Err(labwire_result::InvalidState));
        let (mut ack, mut len) = (null(), 0);
        // SAFETY: a live handle; NULL texts with length 0 are empty.
        let code = unsafe {
            labwire_hl7_message_ack(message, 0, null(), 0, null(), 0, &mut ack, &mut len)
        };
        assert_eq!(code, labwire_result::Ok);
        // SAFETY: the handle owns `len` bytes at `ack`.
        let ack = unsafe { std::slice::from_raw_parts(ack, len) };
        let text = String::from_utf8(ack.to_vec()).unwrap();
        assert!(text.contains("MSA|AR|X9"), "{text}");
        let (mut ack, mut len) = (null(), 0);
        // SAFETY: a live handle and valid pointers.
        let code = unsafe {
            labwire_hl7_message_ack(message, 6, null(), 0, null(), 0, &mut ack, &mut len)
        };
        assert_eq!(code, labwire_result::InvalidArgument);
        // SAFETY: a handle from `labwire_hl7_message_new`, freed once.
        unsafe { labwire_hl7_message_free(message) };
    }
}
