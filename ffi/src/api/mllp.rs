//! `labwire_mllp_decoder`: HL7 messages out of an MLLP byte stream, and
//! `labwire_mllp_encode` for the way back.

use labwire_hl7::Status as FrameStatus;
use labwire_hl7::error::MllpProblem;
use labwire_hl7::mllp::{DEFAULT_MAX_FRAME, MllpDecoder};

use crate::boundary::{
    CBuf, Done, Failure, Outcome, Status, call, call_mut, copy_out, free_handle, impl_handle,
    input_bytes, new_handle, out_param, write_buf,
};
use crate::{labwire_error, labwire_result};

/// A streaming MLLP decoder (HL7 v2 Minimal Lower Layer Protocol: `0x0B`, payload,
/// `0x1C 0x0D`): push the bytes read from the connection in any chunking, pop complete
/// payloads. Sans-IO: it never reads, writes or blocks.
///
/// Create with `labwire_mllp_decoder_new`; owned by the caller; free with
/// `labwire_mllp_decoder_free`. One per connection. Not for concurrent use: one thread
/// at a time (it may move between threads).
pub struct labwire_mllp_decoder {
    status: Status,
    decoder: MllpDecoder,
    frame: CBuf,
}

impl_handle!(labwire_mllp_decoder);

/// The failure of an MLLP error.
fn mllp_failure(error: &labwire_hl7::Error) -> Failure {
    let code = match error {
        labwire_hl7::Error::Mllp {
            problem: MllpProblem::BufferFull,
            ..
        } => labwire_result::BufferFull,
        _ => labwire_result::Mllp,
    };
    Failure::new(code, error.to_string()).with_offset(error.offset().map(|offset| offset as u64))
}

impl labwire_mllp_decoder {
    fn next(&mut self) -> Outcome {
        self.frame.clear();
        match self.decoder.next_frame() {
            Ok(FrameStatus::Complete(frame)) => {
                self.frame.set(frame.payload);
                Ok(Done::Ok)
            }
            Ok(FrameStatus::NeedMore) => Ok(Done::NeedMore),
            Err(error) => Err(mllp_failure(&error)),
        }
    }

    fn finish(&mut self) -> Outcome {
        self.frame.clear();
        match self.decoder.finish() {
            Ok(Some(frame)) => {
                self.frame.set(frame.payload);
                Ok(Done::Ok)
            }
            Ok(None) => Err(Failure::new(
                labwire_result::NotFound,
                "no unfinished frame at the end of the stream",
            )),
            Err(error) => Err(mllp_failure(&error)),
        }
    }
}

/// Creates an MLLP decoder accepting payloads of at most `max_frame` bytes (0: the
/// default, 16 MiB). `strict` makes a `0x1C` without `0x0D` and a `0x0B` inside a frame
/// errors; lenient decoding accepts them. On success `*out` is the new handle; on
/// failure it is NULL.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER` if `out` is NULL.
///
/// # Safety
/// `out` is NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_mllp_decoder_new(
    max_frame: usize,
    strict: bool,
    out: *mut *mut labwire_mllp_decoder,
) -> labwire_result {
    let max_frame = if max_frame == 0 {
        DEFAULT_MAX_FRAME
    } else {
        max_frame
    };
    // SAFETY: forwarded from the caller.
    unsafe {
        new_handle(out, || {
            Ok(labwire_mllp_decoder {
                status: Status::default(),
                decoder: MllpDecoder::new(max_frame).strict(strict),
                frame: CBuf::default(),
            })
        })
    }
}

/// Frees an MLLP decoder and everything it returned. NULL is ignored.
///
/// # Safety
/// `decoder` is NULL or a handle from `labwire_mllp_decoder_new` not yet freed; it is
/// not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_mllp_decoder_free(decoder: *mut labwire_mllp_decoder) {
    // SAFETY: forwarded from the caller.
    unsafe { free_handle(decoder) }
}

/// Adds bytes received from the connection `(bytes, len)`; they are copied.
///
/// Errors: `LABWIRE_RESULT_BUFFER_FULL` (nothing of `bytes` is kept) while more than
/// one maximum frame is buffered: take the frames with `labwire_mllp_decoder_next`
/// until it returns `LABWIRE_RESULT_NEED_MORE`, then push again.
/// `LABWIRE_RESULT_NULL_PARAMETER`, `LABWIRE_RESULT_INVALID_ARGUMENT` for the input.
///
/// # Safety
/// `decoder` is NULL or a live handle, not used by another thread during the call;
/// `bytes` is NULL or valid for reading `len` bytes that are not this handle's outputs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_mllp_decoder_push(
    decoder: *mut labwire_mllp_decoder,
    bytes: *const u8,
    len: usize,
) -> labwire_result {
    let body = |decoder: &mut labwire_mllp_decoder| -> Outcome {
        // SAFETY: the caller guarantees the input is NULL or readable.
        let bytes = unsafe { input_bytes(bytes, len, "bytes") }?;
        decoder
            .decoder
            .push(bytes)
            .map_err(|error| mllp_failure(&error))?;
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(decoder, body) }
}

/// Takes the next complete frame: `*payload` is the message between `0x0B` and `0x1C`
/// (owned by the handle, valid until its next non-const call or free; NUL-terminated).
/// Bytes outside frames are skipped.
///
/// Returns `LABWIRE_RESULT_OK` with a payload, or `LABWIRE_RESULT_NEED_MORE` (and an
/// empty payload) when no complete frame is buffered.
///
/// Errors: `LABWIRE_RESULT_MLLP` for an oversized frame (discarded) or, in strict mode,
/// a malformed one, with its stream offset in the last error; decoding goes on with
/// the next call. `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `decoder` is NULL or a live handle, not used by another thread during the call;
/// `payload` and `payload_len` are NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_mllp_decoder_next(
    decoder: *mut labwire_mllp_decoder,
    payload: *mut *const u8,
    payload_len: *mut usize,
) -> labwire_result {
    let body = |decoder: &mut labwire_mllp_decoder| -> Outcome {
        // SAFETY: the caller guarantees the pointers are NULL or valid.
        let payload = unsafe { out_param(payload, "payload") }?;
        // SAFETY: as above.
        let payload_len = unsafe { out_param(payload_len, "payload_len") }?;
        let outcome = decoder.next();
        write_buf(&decoder.frame, payload, payload_len);
        outcome
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(decoder, body) }
}

/// Ends the stream (the connection closed): returns a last frame that ends with `0x1C`
/// but no `0x0D` (lenient mode), and resets the decoder.
///
/// Errors: `LABWIRE_RESULT_NOT_FOUND` when no frame was left unfinished (the normal
/// case); `LABWIRE_RESULT_MLLP` for a frame cut off before its `0x1C`, or a missing
/// `0x0D` in strict mode. `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// As `labwire_mllp_decoder_next`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_mllp_decoder_finish(
    decoder: *mut labwire_mllp_decoder,
    payload: *mut *const u8,
    payload_len: *mut usize,
) -> labwire_result {
    let body = |decoder: &mut labwire_mllp_decoder| -> Outcome {
        // SAFETY: the caller guarantees the pointers are NULL or valid.
        let payload = unsafe { out_param(payload, "payload") }?;
        // SAFETY: as above.
        let payload_len = unsafe { out_param(payload_len, "payload_len") }?;
        let outcome = decoder.finish();
        write_buf(&decoder.frame, payload, payload_len);
        outcome
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(decoder, body) }
}

/// The last error of the decoder: how its last non-const call failed (code
/// `LABWIRE_RESULT_OK` if it did not), with the stream offset.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `decoder` is NULL or a live handle, not changed during the call; `error` is NULL or
/// valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_mllp_decoder_last_error(
    decoder: *const labwire_mllp_decoder,
    error: *mut labwire_error,
) -> labwire_result {
    // SAFETY: forwarded from the caller.
    unsafe { crate::api::last_error(decoder, error) }
}

/// Frames `(payload, payload_len)` for sending: `0x0B`, the payload, `0x1C 0x0D`,
/// written with a NUL after it into the caller's buffer `(buf, buf_len)`. `*frame_len`
/// receives the frame's length (payload + 3, without the NUL) unless the payload is
/// refused, so a call with `buf_len` 0 and `buf` NULL asks for the size.
///
/// Errors: `LABWIRE_RESULT_MLLP` if the payload contains `0x0B` or `0x1C`, which cannot
/// be framed; `LABWIRE_RESULT_INSUFFICIENT_SIZE` if `buf_len` is not more than the
/// frame length (nothing is written to `buf`); `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `payload` is NULL or valid for reading `payload_len` bytes; `buf` is NULL or valid
/// for writing `buf_len` bytes and does not overlap `payload`; `frame_len` is NULL or
/// valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_mllp_encode(
    payload: *const u8,
    payload_len: usize,
    buf: *mut u8,
    buf_len: usize,
    frame_len: *mut usize,
) -> labwire_result {
    call(|| {
        // SAFETY: the caller guarantees the pointer is NULL or readable.
        let payload = unsafe { input_bytes(payload, payload_len, "payload") }?;
        // Checked before encoding, so a missing length pointer is reported as such.
        // SAFETY: the caller guarantees `frame_len` is NULL or valid for writes.
        unsafe { out_param(frame_len, "frame_len") }?;
        let mut frame = Vec::new();
        labwire_hl7::mllp::encode(payload, &mut frame).map_err(|error| mllp_failure(&error))?;
        // SAFETY: the caller guarantees `buf` and `frame_len`; `frame` is ours.
        unsafe { copy_out(&frame, buf, buf_len, frame_len) }
    })
}

#[cfg(test)]
mod tests {
    use std::ptr::{null, null_mut};

    use super::*;

    fn next(decoder: *mut labwire_mllp_decoder) -> (labwire_result, Vec<u8>) {
        let (mut payload, mut len) = (null(), 0);
        // SAFETY: a live handle and valid pointers.
        let code = unsafe { labwire_mllp_decoder_next(decoder, &mut payload, &mut len) };
        // SAFETY: the handle owns `len` bytes at `payload`.
        let bytes = unsafe { std::slice::from_raw_parts(payload, len) }.to_vec();
        (code, bytes)
    }

    #[test]
    fn frames_come_out_of_any_chunking() {
        let mut wire = vec![0u8; 32];
        let mut len = 0;
        let payload = b"MSH|^~\\&|A\r";
        // SAFETY: `wire` is valid for 32 bytes.
        let code = unsafe {
            labwire_mllp_encode(
                payload.as_ptr(),
                payload.len(),
                wire.as_mut_ptr(),
                32,
                &mut len,
            )
        };
        assert_eq!(code, labwire_result::Ok);
        assert_eq!(len, payload.len() + 3);
        wire.truncate(len);
        let mut decoder = null_mut();
        // SAFETY: valid pointers.
        unsafe { labwire_mllp_decoder_new(0, false, &mut decoder) };
        for chunk in wire.chunks(4) {
            // SAFETY: a live handle and a valid input.
            let code = unsafe { labwire_mllp_decoder_push(decoder, chunk.as_ptr(), chunk.len()) };
            assert_eq!(code, labwire_result::Ok);
        }
        assert_eq!(next(decoder), (labwire_result::Ok, payload.to_vec()));
        assert_eq!(next(decoder), (labwire_result::NeedMore, Vec::new()));
        let (mut out, mut out_len) = (null(), 0);
        // SAFETY: a live handle and valid pointers.
        let code = unsafe { labwire_mllp_decoder_finish(decoder, &mut out, &mut out_len) };
        assert_eq!(code, labwire_result::NotFound);
        // SAFETY: a handle from `labwire_mllp_decoder_new`, freed once.
        unsafe { labwire_mllp_decoder_free(decoder) };
    }

    #[test]
    fn oversized_frames_and_framing_bytes_are_errors() {
        let mut decoder = null_mut();
        // SAFETY: valid pointers.
        unsafe { labwire_mllp_decoder_new(4, false, &mut decoder) };
        let wire = b"\x0b123456789\x1c\r\x0bok\x1c\r";
        // SAFETY: a live handle and a valid input.
        unsafe { labwire_mllp_decoder_push(decoder, wire.as_ptr(), wire.len()) };
        assert_eq!(next(decoder).0, labwire_result::Mllp);
        assert_eq!(next(decoder), (labwire_result::Ok, b"ok".to_vec()));
        // SAFETY: a handle from `labwire_mllp_decoder_new`, freed once.
        unsafe { labwire_mllp_decoder_free(decoder) };
        let mut len = 0;
        // SAFETY: a size query with a valid length pointer.
        let code = unsafe { labwire_mllp_encode(b"a\x1cb".as_ptr(), 3, null_mut(), 0, &mut len) };
        assert_eq!(code, labwire_result::Mllp);
        // SAFETY: a size query with a valid length pointer.
        let code = unsafe { labwire_mllp_encode(b"ab".as_ptr(), 2, null_mut(), 0, &mut len) };
        assert_eq!(code, labwire_result::InsufficientSize);
        assert_eq!(len, 5);
    }
}
