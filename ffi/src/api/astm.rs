//! ASTM E1381 (CLSI LIS01): `labwire_astm_frame_decoder`, the frame codec, and
//! `labwire_astm_link`, the link state machine.

use core::ffi::c_char;

use labwire_astm::frame::{Checksum, FrameDecoder, FrameItem};
use labwire_astm::link::{Direction, Instant, Link, LinkConfig, LinkEvent, Role, SessionEnd};

use crate::boundary::{
    CBuf, Done, Failure, Outcome, Status, call_mut, call_ref, enum_arg, free_handle, impl_handle,
    input_bytes, new_handle, out_param, write_buf,
};
use crate::{LABWIRE_NO_DEADLINE, LABWIRE_NO_OFFSET, labwire_error, labwire_result};

// ---------------------------------------------------------------------------------
// Frame decoder
// ---------------------------------------------------------------------------------

/// What a `labwire_astm_frame_item` is.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum labwire_astm_item_kind {
    /// A complete frame: `STX FN text ETB|ETX C1 C2` (the trailer is skipped).
    Frame = 0,
    /// A control character outside a frame: ENQ, ACK, NAK or EOT.
    Control = 1,
    /// Bytes outside any frame that are not control characters.
    Junk = 2,
}

/// The checksum of a frame as received (E1381 §6.3.3: two uppercase hex digits of the
/// sum of FN through ETB/ETX, modulo 256).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum labwire_astm_checksum {
    /// Not a frame.
    None = 0,
    /// Two uppercase hex digits, matching.
    Valid = 1,
    /// Matching, with lowercase hex digits.
    Lowercase = 2,
    /// One hex digit whose value matches (not zero-padded).
    OneDigit = 3,
    /// No checksum digits.
    Missing = 4,
    /// Digits whose value does not match.
    Mismatch = 5,
}

/// One item found by `labwire_astm_frame_decoder_next`. Pointers are owned by the
/// decoder (valid until its next non-const call, or its free).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct labwire_astm_frame_item {
    /// Frame, control character or junk.
    pub kind: labwire_astm_item_kind,
    /// Stream offset of the item (of the STX for a frame), counted from the first byte
    /// pushed.
    pub offset: u64,
    /// The frame text (between the frame number and ETB/ETX), or the junk bytes; empty
    /// for a control character. NUL-terminated, the NUL not counted.
    pub text: *const u8,
    /// Length of `text`.
    pub text_len: usize,
    /// The byte in the frame-number position as received (`'0'`..`'7'` when valid); 0
    /// for other items.
    pub frame_number: u8,
    /// For a frame: ETX (the last frame of a message) rather than ETB.
    pub last: bool,
    /// For a frame: how its checksum compares.
    pub checksum: labwire_astm_checksum,
    /// For a frame: the checksum computed over it.
    pub checksum_computed: u8,
    /// For a frame with digits: their value.
    pub checksum_received: u8,
    /// For a control character: its byte (`0x05` ENQ, `0x06` ACK, `0x15` NAK, `0x04`
    /// EOT); 0 for other items.
    pub control: u8,
}

/// The most bytes pushed and not yet decoded; pushing more is refused until
/// `labwire_astm_frame_decoder_next` has consumed them.
const MAX_PENDING: usize = 1 << 20;

/// A streaming E1381 frame decoder: push bytes in any chunking, take frames, control
/// characters and junk one by one. It checks nothing but the frame syntax (the link
/// state machine decides what to accept); use `labwire_astm_link` to receive messages.
///
/// Create with `labwire_astm_frame_decoder_new`; owned by the caller; free with
/// `labwire_astm_frame_decoder_free`. Not for concurrent use: one thread at a time (it
/// may move between threads).
pub struct labwire_astm_frame_decoder {
    status: Status,
    decoder: FrameDecoder,
    /// Bytes pushed; `pending[consumed..]` are not decoded yet.
    pending: Vec<u8>,
    consumed: usize,
    text: CBuf,
}

impl_handle!(labwire_astm_frame_decoder);

/// The failure of an ASTM link-layer error.
fn link_failure(error: &labwire_astm::Error) -> Failure {
    Failure::new(labwire_result::AstmLink, error.to_string())
        .with_offset(crate::decode::astm_error_offset(error))
}

impl labwire_astm_frame_decoder {
    fn push(&mut self, bytes: &[u8]) -> Outcome {
        self.pending.drain(..self.consumed.min(self.pending.len()));
        self.consumed = 0;
        if self.pending.len() > MAX_PENDING {
            return Err(Failure::new(
                labwire_result::BufferFull,
                format!(
                    "{} bytes wait to be decoded: take items with labwire_astm_frame_decoder_next first",
                    self.pending.len()
                ),
            ));
        }
        self.pending.extend_from_slice(bytes);
        Ok(Done::Ok)
    }

    fn next(&mut self) -> Result<(Done, labwire_astm_frame_item), Failure> {
        self.text.clear();
        let input = self.pending.get(self.consumed..).unwrap_or_default();
        let (used, item) = self.decoder.decode(input);
        self.consumed = self.consumed.saturating_add(used);
        let mut out = labwire_astm_frame_item {
            kind: labwire_astm_item_kind::Junk,
            offset: LABWIRE_NO_OFFSET,
            text: core::ptr::null(),
            text_len: 0,
            frame_number: 0,
            last: false,
            checksum: labwire_astm_checksum::None,
            checksum_computed: 0,
            checksum_received: 0,
            control: 0,
        };
        let Some(item) = item else {
            self.pending.clear();
            self.consumed = 0;
            out.text = self.text.ptr();
            return Ok((Done::NeedMore, out));
        };
        match item {
            FrameItem::Frame(frame) => {
                // E1381 §6.3.3: the sum of the bytes from FN through ETB/ETX, mod 256.
                let computed = frame
                    .text
                    .iter()
                    .fold(frame.number_byte, |sum, byte| sum.wrapping_add(*byte))
                    .wrapping_add(frame.kind.terminator());
                let (checksum, received) = match frame.checksum {
                    Checksum::Valid => (labwire_astm_checksum::Valid, computed),
                    Checksum::Lowercase => (labwire_astm_checksum::Lowercase, computed),
                    Checksum::OneDigit => (labwire_astm_checksum::OneDigit, computed),
                    Checksum::Missing { .. } => (labwire_astm_checksum::Missing, 0),
                    Checksum::Mismatch { received, .. } => {
                        (labwire_astm_checksum::Mismatch, received)
                    }
                    // A form added later: reported as not matching.
                    _ => (labwire_astm_checksum::Mismatch, 0),
                };
                out.kind = labwire_astm_item_kind::Frame;
                out.offset = frame.offset;
                out.frame_number = frame.number_byte;
                out.last = frame.kind == labwire_astm::frame::FrameKind::Last;
                out.checksum = checksum;
                out.checksum_computed = computed;
                out.checksum_received = received;
                self.text.set(frame.text);
            }
            FrameItem::Control { control, offset } => {
                out.kind = labwire_astm_item_kind::Control;
                out.offset = offset;
                out.control = control.byte();
            }
            FrameItem::Junk { bytes, offset } => {
                out.kind = labwire_astm_item_kind::Junk;
                out.offset = offset;
                self.text.set(bytes);
            }
            FrameItem::Error(error) => return Err(link_failure(&error)),
        }
        out.text = self.text.ptr();
        out.text_len = self.text.len();
        Ok((Done::Ok, out))
    }
}

/// Creates a frame decoder accepting frame texts of up to `max_text` bytes (0: the
/// E1381-95 240; at most 64,000, LIS01-A2's limit). Longer frames are discarded and
/// reported as errors. On success `*out` is the new handle; on failure it is NULL.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER` if `out` is NULL;
/// `LABWIRE_RESULT_INVALID_ARGUMENT` if `max_text` is over 64,000.
///
/// # Safety
/// `out` is NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_astm_frame_decoder_new(
    max_text: usize,
    out: *mut *mut labwire_astm_frame_decoder,
) -> labwire_result {
    // SAFETY: forwarded from the caller.
    unsafe {
        new_handle(out, || {
            let max_text = match max_text {
                0 => labwire_astm::frame::DEFAULT_MAX_TEXT,
                1..=labwire_astm::frame::MAX_TEXT_LIMIT => max_text,
                _ => {
                    return Err(Failure::invalid(
                        "max_text",
                        format!("{max_text} is over the limit of 64000"),
                    ));
                }
            };
            Ok(labwire_astm_frame_decoder {
                status: Status::default(),
                decoder: FrameDecoder::new(max_text),
                pending: Vec::new(),
                consumed: 0,
                text: CBuf::default(),
            })
        })
    }
}

/// Frees a frame decoder and everything it returned. NULL is ignored.
///
/// # Safety
/// `decoder` is NULL or a handle from `labwire_astm_frame_decoder_new` not yet freed;
/// it is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_astm_frame_decoder_free(decoder: *mut labwire_astm_frame_decoder) {
    // SAFETY: forwarded from the caller.
    unsafe { free_handle(decoder) }
}

/// Adds received bytes `(bytes, len)`; they are copied.
///
/// Errors: `LABWIRE_RESULT_BUFFER_FULL` (nothing of `bytes` is kept) while more than
/// 1 MiB pushed earlier waits to be decoded: take items with
/// `labwire_astm_frame_decoder_next` until `LABWIRE_RESULT_NEED_MORE` first.
/// `LABWIRE_RESULT_NULL_PARAMETER`, `LABWIRE_RESULT_INVALID_ARGUMENT` for the input.
///
/// # Safety
/// `decoder` is NULL or a live handle, not used by another thread during the call;
/// `bytes` is NULL or valid for reading `len` bytes that are not this handle's outputs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_astm_frame_decoder_push(
    decoder: *mut labwire_astm_frame_decoder,
    bytes: *const u8,
    len: usize,
) -> labwire_result {
    let body = |decoder: &mut labwire_astm_frame_decoder| -> Outcome {
        // SAFETY: the caller guarantees the input is NULL or readable.
        let bytes = unsafe { input_bytes(bytes, len, "bytes") }?;
        decoder.push(bytes)
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(decoder, body) }
}

/// Takes the next item of the pushed bytes into `*item`.
///
/// Returns `LABWIRE_RESULT_OK` with an item, or `LABWIRE_RESULT_NEED_MORE` when every
/// pushed byte is consumed (a frame split across pushes is kept inside, at most
/// `max_text` + 1 bytes).
///
/// Errors: `LABWIRE_RESULT_ASTM_LINK` for a broken frame (too long, empty, or cut off
/// by a control character), dropped, with its stream offset in the last error;
/// decoding goes on with the next call. `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `decoder` is NULL or a live handle, not used by another thread during the call;
/// `item` is NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_astm_frame_decoder_next(
    decoder: *mut labwire_astm_frame_decoder,
    item: *mut labwire_astm_frame_item,
) -> labwire_result {
    let body = |decoder: &mut labwire_astm_frame_decoder| -> Outcome {
        // SAFETY: the caller guarantees `item` is NULL or valid for writes.
        let item = unsafe { out_param(item, "item") }?;
        let (done, found) = decoder.next()?;
        item.write(found);
        Ok(done)
    };
    // SAFETY: the caller guarantees `decoder` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(decoder, body) }
}

/// The last error of the frame decoder: how its last non-const call failed (code
/// `LABWIRE_RESULT_OK` if it did not), with the stream offset.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `decoder` is NULL or a live handle, not changed during the call; `error` is NULL or
/// valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_astm_frame_decoder_last_error(
    decoder: *const labwire_astm_frame_decoder,
    error: *mut labwire_error,
) -> labwire_result {
    // SAFETY: forwarded from the caller.
    unsafe { crate::api::last_error(decoder, error) }
}

// ---------------------------------------------------------------------------------
// Link
// ---------------------------------------------------------------------------------

/// Which end of an E1381 link, for `labwire_astm_link_new`. It only matters for
/// contention (E1381 §6.2.1: the instrument has priority); both roles receive.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum labwire_astm_role {
    /// The computer system (LIS): what a host or gateway is.
    Computer = 0,
    /// The laboratory instrument: for simulators and tests.
    Instrument = 1,
}

impl labwire_astm_role {
    const ALL: [(u32, Self); 2] = [(0, Self::Computer), (1, Self::Instrument)];
}

/// What a `labwire_astm_event` reports.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum labwire_astm_event_kind {
    /// A session began (`detail`: `sending` or `receiving`).
    SessionStarted = 0,
    /// A session ended; the line is neutral (`detail`: direction and how it ended).
    SessionEnded = 1,
    /// A complete message arrived: `text` is the concatenated text of its frames
    /// (E1394 records separated by CR, as sent), `frames` how many carried it, `detail`
    /// the relaxations applied to them (empty if none).
    MessageReceived = 2,
    /// A message that will not be completed: `text` is what arrived of it, `detail`
    /// why (end of transmission, timeout, sender restarted, too large).
    PartialMessage = 3,
    /// A message queued with `labwire_astm_link_send` was acknowledged: `message_id`.
    Delivered = 4,
    /// A message queued with `labwire_astm_link_send` was given up: `message_id`, its
    /// `text` to send again if wanted, `detail` why.
    Failed = 5,
    /// Something odd that did not disturb the protocol (`detail`, `offset`).
    Warning = 6,
    /// A protocol error the link recovered from by NAK or by ignoring bytes
    /// (`detail`, `offset`).
    ProtocolError = 7,
    /// An event this version of the C API does not name (`detail`).
    Other = 8,
}

/// One event of `labwire_astm_link_poll_event`. Pointers are owned by the link (valid
/// until its next non-const call, or its free); fields an event kind does not use are
/// empty, 0 or `LABWIRE_NO_OFFSET`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct labwire_astm_event {
    /// What happened.
    pub kind: labwire_astm_event_kind,
    /// A message text (received, partial or failed); NUL-terminated, the NUL not
    /// counted.
    pub text: *const u8,
    /// Length of `text`.
    pub text_len: usize,
    /// How many frames carried a received or partial message.
    pub frames: u32,
    /// The id `labwire_astm_link_send` returned, for delivered and failed messages.
    pub message_id: u64,
    /// The stream offset of a warning or protocol error, or `LABWIRE_NO_OFFSET`.
    pub offset: u64,
    /// A description for people (UTF-8, NUL-terminated).
    pub detail: *const c_char,
    /// Length of `detail`.
    pub detail_len: usize,
}

/// The E1381 link state machine (either role) on one connection: feed it the bytes
/// received and the time, write what it produces, take the messages it reassembles.
/// Sans-IO: it never reads, writes, sleeps or looks at a clock.
///
/// A driver loop: on readable bytes call `labwire_astm_link_handle_bytes`; when
/// `labwire_astm_link_next_deadline` is reached call `labwire_astm_link_handle_timeout`;
/// after every call write `labwire_astm_link_take_output` to the connection and drain
/// `labwire_astm_link_poll_event` until `LABWIRE_RESULT_NEED_MORE`. Time is milliseconds
/// since an epoch the caller chooses, from a monotonic clock: it must not go backwards.
///
/// Create with `labwire_astm_link_new`; owned by the caller; free with
/// `labwire_astm_link_free`. One per connection. Not for concurrent use: one thread at
/// a time (it may move between threads).
pub struct labwire_astm_link {
    status: Status,
    link: Link,
    output: CBuf,
    event_text: CBuf,
    event_detail: CBuf,
}

impl_handle!(labwire_astm_link);

impl labwire_astm_link {
    fn take_output(&mut self) {
        self.output.set_vec(self.link.take_output());
    }

    fn poll_event(&mut self) -> Option<labwire_astm_event> {
        self.event_text.clear();
        self.event_detail.clear();
        let mut out = labwire_astm_event {
            kind: labwire_astm_event_kind::Other,
            text: core::ptr::null(),
            text_len: 0,
            frames: 0,
            message_id: 0,
            offset: LABWIRE_NO_OFFSET,
            detail: core::ptr::null(),
            detail_len: 0,
        };
        let event = self.link.poll_event();
        let (kind, detail) = match event {
            None => return None,
            Some(LinkEvent::SessionStarted { direction }) => (
                labwire_astm_event_kind::SessionStarted,
                direction_name(direction).to_owned(),
            ),
            Some(LinkEvent::SessionEnded { direction, reason }) => (
                labwire_astm_event_kind::SessionEnded,
                format!("{}: {}", direction_name(direction), end_name(reason)),
            ),
            Some(LinkEvent::MessageReceived {
                text,
                frames,
                warnings,
            }) => {
                self.event_text.set_vec(text);
                out.frames = frames;
                let detail: Vec<String> = warnings
                    .iter()
                    .map(|warning| format!("{warning:?}"))
                    .collect();
                (labwire_astm_event_kind::MessageReceived, detail.join("; "))
            }
            Some(LinkEvent::PartialMessage {
                text,
                frames,
                reason,
            }) => {
                self.event_text.set_vec(text);
                out.frames = frames;
                (
                    labwire_astm_event_kind::PartialMessage,
                    format!("{reason:?}"),
                )
            }
            Some(LinkEvent::Delivered { id }) => {
                out.message_id = id.get();
                (labwire_astm_event_kind::Delivered, String::new())
            }
            Some(LinkEvent::Failed { id, reason, text }) => {
                out.message_id = id.get();
                self.event_text.set_vec(text);
                (labwire_astm_event_kind::Failed, format!("{reason:?}"))
            }
            Some(LinkEvent::Warning(warning)) => {
                out.offset =
                    crate::decode::astm_warning_offset(&warning).unwrap_or(LABWIRE_NO_OFFSET);
                (labwire_astm_event_kind::Warning, format!("{warning:?}"))
            }
            Some(LinkEvent::ProtocolError(error)) => {
                out.offset = crate::decode::astm_error_offset(&error).unwrap_or(LABWIRE_NO_OFFSET);
                (labwire_astm_event_kind::ProtocolError, error.to_string())
            }
            Some(other) => (labwire_astm_event_kind::Other, format!("{other:?}")),
        };
        self.event_detail.set(detail.as_bytes());
        out.kind = kind;
        out.text = self.event_text.ptr();
        out.text_len = self.event_text.len();
        out.detail = self.event_detail.c_ptr();
        out.detail_len = self.event_detail.len();
        Some(out)
    }
}

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Sending => "sending",
        Direction::Receiving => "receiving",
    }
}

fn end_name(reason: SessionEnd) -> String {
    match reason {
        SessionEnd::Completed => "completed".to_owned(),
        SessionEnd::Aborted => "aborted".to_owned(),
        SessionEnd::Interrupted => "interrupted".to_owned(),
        SessionEnd::TimedOut => "timed out".to_owned(),
        SessionEnd::PeerRestarted => "peer restarted".to_owned(),
        SessionEnd::Reset => "reset".to_owned(),
        other => format!("{other:?}"),
    }
}

/// Creates a link in the neutral state, with E1381's defaults (15 s reply and 30 s
/// receive timeouts, 6 attempts, frames of 240 bytes, messages of up to 4 MiB, bad
/// checksums refused with NAK). `role` is a `labwire_astm_role`. On success `*out` is
/// the new handle; on failure it is NULL.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER` if `out` is NULL;
/// `LABWIRE_RESULT_INVALID_ARGUMENT` for a `role` that is not a `labwire_astm_role`.
///
/// # Safety
/// `out` is NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_astm_link_new(
    role: u32,
    out: *mut *mut labwire_astm_link,
) -> labwire_result {
    // SAFETY: forwarded from the caller.
    unsafe {
        new_handle(out, || {
            let role = match enum_arg(role, &labwire_astm_role::ALL, "role")? {
                labwire_astm_role::Computer => Role::Computer,
                labwire_astm_role::Instrument => Role::Instrument,
            };
            let link = Link::new(LinkConfig::new(role))
                .map_err(|error| Failure::new(labwire_result::AstmConfig, error.to_string()))?;
            Ok(labwire_astm_link {
                status: Status::default(),
                link,
                output: CBuf::default(),
                event_text: CBuf::default(),
                event_detail: CBuf::default(),
            })
        })
    }
}

/// Frees a link and everything it returned. NULL is ignored.
///
/// # Safety
/// `link` is NULL or a handle from `labwire_astm_link_new` not yet freed; it is not
/// used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_astm_link_free(link: *mut labwire_astm_link) {
    // SAFETY: forwarded from the caller.
    unsafe { free_handle(link) }
}

/// Processes bytes received from the peer `(bytes, len)`, in any chunking, at time
/// `now_ms`. Then take the output and drain the events: while 1024 events wait, the
/// link counts further warnings instead of queueing them and refuses new sessions and
/// frames (NAK), so feed a long capture in chunks of a few hundred bytes with the
/// events drained in between.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`, `LABWIRE_RESULT_INVALID_ARGUMENT` for the
/// input. Protocol problems are events, not errors: the link answers them (NAK).
///
/// # Safety
/// `link` is NULL or a live handle, not used by another thread during the call;
/// `bytes` is NULL or valid for reading `len` bytes that are not this handle's outputs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_astm_link_handle_bytes(
    link: *mut labwire_astm_link,
    bytes: *const u8,
    len: usize,
    now_ms: u64,
) -> labwire_result {
    let body = |link: &mut labwire_astm_link| -> Outcome {
        // SAFETY: the caller guarantees the input is NULL or readable and not one
        // of this handle's outputs.
        let bytes = unsafe { input_bytes(bytes, len, "bytes") }?;
        link.link.handle_bytes(bytes, Instant::from_millis(now_ms));
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `link` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(link, body) }
}

/// Processes the passage of time: call when `labwire_astm_link_next_deadline` is
/// reached (earlier or more often is harmless). Then take the output and drain the
/// events.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `link` is NULL or a live handle, not used by another thread during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_astm_link_handle_timeout(
    link: *mut labwire_astm_link,
    now_ms: u64,
) -> labwire_result {
    let body = |link: &mut labwire_astm_link| -> Outcome {
        link.link.handle_timeout(Instant::from_millis(now_ms));
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `link` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(link, body) }
}

/// Takes the bytes to write to the peer, in order (ACK, NAK, EOT, ENQ, frames); empty
/// when there are none. `*bytes` is owned by the link (valid until its next non-const
/// call, or its free). Write them before processing more input: bytes received
/// before a frame was taken cannot be its reply and are ignored.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `link` is NULL or a live handle, not used by another thread during the call; `bytes`
/// and `len` are NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_astm_link_take_output(
    link: *mut labwire_astm_link,
    bytes: *mut *const u8,
    len: *mut usize,
) -> labwire_result {
    let body = |link: &mut labwire_astm_link| -> Outcome {
        // SAFETY: the caller guarantees the pointers are NULL or valid for writes.
        let bytes = unsafe { out_param(bytes, "bytes") }?;
        // SAFETY: as above.
        let len = unsafe { out_param(len, "len") }?;
        link.take_output();
        write_buf(&link.output, bytes, len);
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `link` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(link, body) }
}

/// When `labwire_astm_link_handle_timeout` next has something to do, in the caller's
/// milliseconds; `LABWIRE_NO_DEADLINE` when no timer runs.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `link` is NULL or a live handle, not changed during the call; `deadline_ms` is NULL
/// or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_astm_link_next_deadline(
    link: *const labwire_astm_link,
    deadline_ms: *mut u64,
) -> labwire_result {
    let body = |link: &labwire_astm_link| -> Outcome {
        // SAFETY: the caller guarantees `deadline_ms` is NULL or valid for writes.
        let deadline_ms = unsafe { out_param(deadline_ms, "deadline_ms") }?;
        deadline_ms.write(
            link.link
                .next_deadline()
                .map_or(LABWIRE_NO_DEADLINE, Instant::as_millis),
        );
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `link` is NULL or a live handle that nothing
    // changes during the call.
    unsafe { call_ref(link, body) }
}

/// Takes the next event, oldest first, into `*event`: `LABWIRE_RESULT_OK`, or
/// `LABWIRE_RESULT_NEED_MORE` when there is none. Received messages come as
/// `LABWIRE_ASTM_EVENT_KIND_MESSAGE_RECEIVED`; decode their text with a
/// `labwire_decoder` set to `LABWIRE_FORMAT_ASTM`.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `link` is NULL or a live handle, not used by another thread during the call; `event`
/// is NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_astm_link_poll_event(
    link: *mut labwire_astm_link,
    event: *mut labwire_astm_event,
) -> labwire_result {
    let body = |link: &mut labwire_astm_link| -> Outcome {
        // SAFETY: the caller guarantees `event` is NULL or valid for writes.
        let event = unsafe { out_param(event, "event") }?;
        match link.poll_event() {
            Some(found) => {
                event.write(found);
                Ok(Done::Ok)
            }
            None => Ok(Done::NeedMore),
        }
    };
    // SAFETY: the caller guarantees `link` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(link, body) }
}

/// Queues a message `(text, len)` for sending (E1394 records, each ending with CR; it
/// is copied and split into frames) and starts the establishment phase at `now_ms` if
/// the line is free. `*message_id` identifies it in the `DELIVERED` or `FAILED` event.
///
/// Errors: `LABWIRE_RESULT_ASTM_SEND` if the text is over 4 MiB, contains a character
/// E1381 §6.6 forbids in frames (a control character), or 64 messages are queued
/// already; `LABWIRE_RESULT_NULL_PARAMETER`, `LABWIRE_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
/// `link` is NULL or a live handle, not used by another thread during the call; `text`
/// is NULL or valid for reading `len` bytes; `message_id` is NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_astm_link_send(
    link: *mut labwire_astm_link,
    text: *const u8,
    len: usize,
    now_ms: u64,
    message_id: *mut u64,
) -> labwire_result {
    let body = |link: &mut labwire_astm_link| -> Outcome {
        // SAFETY: the caller guarantees the pointers are NULL or valid.
        let message_id = unsafe { out_param(message_id, "message_id") }?;
        // SAFETY: as above; copied before the link changes.
        let text = unsafe { input_bytes(text, len, "text") }?.to_vec();
        let id = link
            .link
            .send(text, Instant::from_millis(now_ms))
            .map_err(|error| {
                Failure::new(labwire_result::AstmSend, error.to_string())
                    .with_offset(crate::decode::astm_error_offset(&error))
            })?;
        message_id.write(id.get());
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `link` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(link, body) }
}

/// The last error of the link: how its last non-const call failed (code
/// `LABWIRE_RESULT_OK` if it did not).
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `link` is NULL or a live handle, not changed during the call; `error` is NULL or
/// valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_astm_link_last_error(
    link: *const labwire_astm_link,
    error: *mut labwire_error,
) -> labwire_result {
    // SAFETY: forwarded from the caller.
    unsafe { crate::api::last_error(link, error) }
}

#[cfg(test)]
mod tests {
    use std::ptr::{null, null_mut};

    use super::*;

    const TEXT: &[u8] = b"H|\\^&\rL|1|N\r";

    fn link(role: u32) -> *mut labwire_astm_link {
        let mut link = null_mut();
        // SAFETY: a valid out pointer.
        let code = unsafe { labwire_astm_link_new(role, &mut link) };
        assert_eq!(code, labwire_result::Ok);
        link
    }

    fn output(link: *mut labwire_astm_link) -> Vec<u8> {
        let (mut bytes, mut len) = (null(), 0);
        // SAFETY: a live handle and valid pointers.
        unsafe { labwire_astm_link_take_output(link, &mut bytes, &mut len) };
        // SAFETY: the link owns `len` bytes at `bytes`.
        unsafe { std::slice::from_raw_parts(bytes, len) }.to_vec()
    }

    fn events(link: *mut labwire_astm_link) -> Vec<(labwire_astm_event_kind, Vec<u8>, u64)> {
        let mut found = Vec::new();
        loop {
            let mut event = std::mem::MaybeUninit::<labwire_astm_event>::uninit();
            // SAFETY: a live handle and a valid out pointer.
            let code = unsafe { labwire_astm_link_poll_event(link, event.as_mut_ptr()) };
            if code == labwire_result::NeedMore {
                return found;
            }
            assert_eq!(code, labwire_result::Ok);
            // SAFETY: written on OK.
            let event = unsafe { event.assume_init() };
            // SAFETY: the link owns `text_len` bytes at `text`.
            let text = unsafe { std::slice::from_raw_parts(event.text, event.text_len) };
            found.push((event.kind, text.to_vec(), event.message_id));
        }
    }

    #[test]
    fn an_instrument_link_delivers_to_a_computer_link() {
        let (instrument, computer) = (link(1), link(0));
        let mut id = 99;
        // SAFETY: live handles and valid pointers.
        let code =
            unsafe { labwire_astm_link_send(instrument, TEXT.as_ptr(), TEXT.len(), 0, &mut id) };
        assert_eq!(code, labwire_result::Ok);
        assert_eq!(id, 0);
        let mut received = Vec::new();
        let mut delivered = false;
        for now in 0..20 {
            let to_computer = output(instrument);
            // SAFETY: live handles and valid inputs.
            unsafe {
                labwire_astm_link_handle_bytes(
                    computer,
                    to_computer.as_ptr(),
                    to_computer.len(),
                    now,
                )
            };
            let to_instrument = output(computer);
            // SAFETY: as above.
            unsafe {
                labwire_astm_link_handle_bytes(
                    instrument,
                    to_instrument.as_ptr(),
                    to_instrument.len(),
                    now,
                )
            };
            for (kind, text, _) in events(computer) {
                if kind == labwire_astm_event_kind::MessageReceived {
                    received.push(text);
                }
            }
            delivered |= events(instrument)
                .iter()
                .any(|(kind, _, id)| *kind == labwire_astm_event_kind::Delivered && *id == 0);
        }
        assert_eq!(received, [TEXT.to_vec()]);
        assert!(delivered);
        let mut deadline = 0;
        // SAFETY: a live handle and a valid pointer.
        unsafe { labwire_astm_link_next_deadline(computer, &mut deadline) };
        assert_eq!(deadline, LABWIRE_NO_DEADLINE);
        // SAFETY: handles from `labwire_astm_link_new`, freed once.
        unsafe {
            labwire_astm_link_free(instrument);
            labwire_astm_link_free(computer);
        }
    }

    #[test]
    fn a_receive_session_times_out() {
        let computer = link(0);
        // SAFETY: a live handle and a valid input.
        unsafe { labwire_astm_link_handle_bytes(computer, b"\x05".as_ptr(), 1, 1000) };
        assert_eq!(output(computer), b"\x06");
        let mut deadline = 0;
        // SAFETY: a live handle and a valid pointer.
        unsafe { labwire_astm_link_next_deadline(computer, &mut deadline) };
        assert_eq!(deadline, 31_000);
        // SAFETY: a live handle.
        unsafe { labwire_astm_link_handle_timeout(computer, deadline) };
        let kinds: Vec<_> = events(computer)
            .into_iter()
            .map(|(kind, ..)| kind)
            .collect();
        assert!(
            kinds.contains(&labwire_astm_event_kind::SessionEnded),
            "{kinds:?}"
        );
        // SAFETY: a handle from `labwire_astm_link_new`, freed once.
        unsafe { labwire_astm_link_free(computer) };
    }

    #[test]
    fn the_frame_decoder_reports_items() {
        let mut decoder = null_mut();
        // SAFETY: a valid out pointer.
        unsafe { labwire_astm_frame_decoder_new(0, &mut decoder) };
        let mut wire = vec![0x05];
        labwire_astm::frame::encode_message_into(
            &mut wire,
            TEXT,
            240,
            labwire_astm::frame::FrameNumber::FIRST,
        )
        .unwrap();
        wire.extend_from_slice(b"zz\x04");
        let mut kinds = Vec::new();
        for chunk in wire.chunks(3) {
            // SAFETY: a live handle and a valid input.
            unsafe { labwire_astm_frame_decoder_push(decoder, chunk.as_ptr(), chunk.len()) };
            loop {
                let mut item = std::mem::MaybeUninit::<labwire_astm_frame_item>::uninit();
                // SAFETY: a live handle and a valid out pointer.
                let code = unsafe { labwire_astm_frame_decoder_next(decoder, item.as_mut_ptr()) };
                if code == labwire_result::NeedMore {
                    break;
                }
                assert_eq!(code, labwire_result::Ok);
                // SAFETY: written on OK.
                let item = unsafe { item.assume_init() };
                if item.kind == labwire_astm_item_kind::Frame {
                    // SAFETY: the decoder owns `text_len` bytes at `text`.
                    let text = unsafe { std::slice::from_raw_parts(item.text, item.text_len) };
                    assert_eq!(text, TEXT);
                    assert!(item.last);
                    assert_eq!(item.frame_number, b'1');
                    assert_eq!(item.checksum, labwire_astm_checksum::Valid);
                    assert_eq!(item.checksum_received, item.checksum_computed);
                }
                kinds.push(item.kind);
            }
        }
        use labwire_astm_item_kind as kind;
        assert!(
            kinds.starts_with(&[kind::Control, kind::Frame]),
            "{kinds:?}"
        );
        assert!(kinds.contains(&kind::Junk));
        assert_eq!(kinds.last(), Some(&kind::Control));
        // SAFETY: a handle from `labwire_astm_frame_decoder_new`, freed once.
        unsafe { labwire_astm_frame_decoder_free(decoder) };
    }

    #[test]
    fn broken_frames_are_errors_and_decoding_goes_on() {
        let mut decoder = null_mut();
        // SAFETY: a valid out pointer.
        unsafe { labwire_astm_frame_decoder_new(4, &mut decoder) };
        let wire = b"\x021TOO LONG\x0300\r\n\x04";
        // SAFETY: a live handle and a valid input.
        unsafe { labwire_astm_frame_decoder_push(decoder, wire.as_ptr(), wire.len()) };
        let mut item = std::mem::MaybeUninit::<labwire_astm_frame_item>::uninit();
        let mut codes = Vec::new();
        for _ in 0..6 {
            // SAFETY: a live handle and a valid out pointer.
            codes.push(unsafe { labwire_astm_frame_decoder_next(decoder, item.as_mut_ptr()) });
        }
        assert!(codes.contains(&labwire_result::AstmLink), "{codes:?}");
        assert_eq!(codes.last(), Some(&labwire_result::NeedMore));
        let mut too_big = null_mut();
        // SAFETY: a valid out pointer.
        let code = unsafe { labwire_astm_frame_decoder_new(64_001, &mut too_big) };
        assert_eq!(code, labwire_result::InvalidArgument);
        assert!(too_big.is_null());
        // SAFETY: a handle from `labwire_astm_frame_decoder_new`, freed once.
        unsafe { labwire_astm_frame_decoder_free(decoder) };
    }
}
