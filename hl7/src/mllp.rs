//! MLLP framing (HL7 Minimal Lower Layer Protocol), sans-IO.
//!
//! A frame is `0x0B` (start block), the payload, `0x1C` (end block), `0x0D` (carriage
//! return). [`MllpDecoder`] is fed whatever bytes arrive ([`MllpDecoder::push`]) and hands
//! out complete frames ([`MllpDecoder::next_frame`]) or [`Status::NeedMore`]. It scans
//! forward, so several frames in one read come out one by one, and a frame split across
//! reads (even between `0x1C` and `0x0D`) is reassembled. It never does I/O and never
//! blocks.
//!
//! What it tolerates (lenient mode, the default), each reported on the next [`Frame`]:
//! * bytes outside frames (keep-alives, a stray LF after `0x1C 0x0D`) are skipped and
//!   counted in [`Frame::junk_before`];
//! * a frame ending with `0x1C` not followed by `0x0D` ([`Frame::missing_cr`]), e.g.
//!   when the next frame's `0x0B` follows directly or the stream ends
//!   ([`MllpDecoder::finish`]);
//! * a `0x0B` inside a frame: the unfinished frame is dropped (counted as junk, and in
//!   [`Frame::abandoned_before`]) and a new frame starts there.
//!
//! In strict mode the last two are errors. A payload longer than the maximum is an
//! [`MllpProblem::FrameTooLarge`] error; its bytes are discarded and decoding resumes at
//! the next `0x0B`. The buffer never holds more than the maximum frame plus one pushed
//! chunk: `push` refuses data ([`MllpProblem::BufferFull`]) until the caller has drained
//! complete frames with `next_frame`.
//!
//! ```
//! use labwire_hl7::mllp::{encode, MllpDecoder, Status};
//! let mut wire = Vec::new();
//! encode(b"MSH|^~\\&|A\r", &mut wire).unwrap();
//! encode(b"MSH|^~\\&|B\r", &mut wire).unwrap();
//! let mut decoder = MllpDecoder::new(1 << 20);
//! let mut payloads = Vec::new();
//! for chunk in wire.chunks(5) {
//!     decoder.push(chunk).unwrap();
//!     while let Status::Complete(frame) = decoder.next_frame().unwrap() {
//!         payloads.push(frame.payload.to_vec());
//!     }
//! }
//! assert_eq!(payloads, [b"MSH|^~\\&|A\r".to_vec(), b"MSH|^~\\&|B\r".to_vec()]);
//! ```

use crate::error::{Error, MllpProblem, Result, Warning, WarningKind};

/// Start block (VT).
pub const START_BLOCK: u8 = 0x0B;
/// End block (FS).
pub const END_BLOCK: u8 = 0x1C;
/// Carriage return after the end block.
pub const CARRIAGE_RETURN: u8 = 0x0D;
/// Default maximum payload size: 16 MiB.
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// The result of asking for the next frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status<T> {
    /// A complete item.
    Complete(T),
    /// More bytes are needed; push some.
    NeedMore,
}

/// A complete frame, borrowed from the decoder until the next call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Frame<'b> {
    /// The bytes between `0x0B` and `0x1C`.
    pub payload: &'b [u8],
    /// Stream offset of the frame's `0x0B`.
    pub offset: u64,
    /// Bytes skipped since the previous frame (outside frames, or in abandoned frames).
    pub junk_before: usize,
    /// Frames dropped since the previous frame because a new `0x0B` arrived first.
    pub abandoned_before: usize,
    /// The `0x1C` was not followed by `0x0D`.
    pub missing_cr: bool,
}

impl Frame<'_> {
    /// What lenient decoding tolerated before and in this frame, as warnings with stream
    /// offsets (saturated to `usize`).
    pub fn warnings(&self) -> Vec<Warning> {
        let offset = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let mut warnings = Vec::new();
        if self.abandoned_before > 0 {
            warnings.push(Warning::new(WarningKind::MllpFrameAbandoned, offset, None));
        }
        if self.junk_before > 0 {
            warnings.push(Warning::new(
                WarningKind::MllpJunk {
                    count: self.junk_before,
                },
                offset,
                None,
            ));
        }
        if self.missing_cr {
            warnings.push(Warning::new(
                WarningKind::MllpMissingCarriageReturn,
                offset,
                None,
            ));
        }
        warnings
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Looking for `0x0B`; bytes seen are junk.
    Idle,
    /// Looking for `0x0B` after an oversized frame; bytes seen are that frame's rest.
    Discarding,
    /// Inside a frame whose payload starts at `buf[start]`; `buf[..scanned]` holds no
    /// `0x1C` or `0x0B` after `start`.
    InFrame {
        start: usize,
        scanned: usize,
        offset: u64,
    },
}

/// A streaming MLLP decoder (see the [module documentation](self)).
#[derive(Clone, Debug)]
pub struct MllpDecoder {
    buf: Vec<u8>,
    /// `buf[..consumed]` has been handled and is dropped on the next push.
    consumed: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    state: State,
    max_frame: usize,
    strict: bool,
    junk: usize,
    abandoned: usize,
}

impl Default for MllpDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME)
    }
}

impl MllpDecoder {
    /// A lenient decoder accepting payloads of at most `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        Self {
            buf: Vec::new(),
            consumed: 0,
            base: 0,
            state: State::Idle,
            max_frame,
            strict: false,
            junk: 0,
            abandoned: 0,
        }
    }

    /// Makes a missing `0x0D` after `0x1C`, and a `0x0B` inside a frame, errors.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Bytes buffered and not yet handed out or discarded.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.consumed
    }

    /// Junk bytes seen since the last frame (e.g. to report at end of stream).
    pub fn junk_pending(&self) -> usize {
        self.junk
    }

    /// Adds received bytes. Fails with [`MllpProblem::BufferFull`] (and keeps nothing of
    /// `chunk`) if more than one maximum frame is still buffered: call
    /// [`MllpDecoder::next_frame`] until it returns [`Status::NeedMore`] first.
    pub fn push(&mut self, chunk: &[u8]) -> Result<()> {
        self.compact();
        if self.buffered() > self.max_frame.saturating_add(2) {
            return Err(self.error(self.stream_offset(self.buf.len()), MllpProblem::BufferFull));
        }
        self.buf.extend_from_slice(chunk);
        Ok(())
    }

    fn compact(&mut self) {
        if self.consumed == 0 {
            return;
        }
        let consumed = self.consumed;
        self.buf.drain(..consumed);
        self.base = self.base.saturating_add(consumed as u64);
        self.consumed = 0;
        if let State::InFrame {
            start,
            scanned,
            offset,
        } = self.state
        {
            self.state = State::InFrame {
                start: start.saturating_sub(consumed),
                scanned: scanned.saturating_sub(consumed),
                offset,
            };
        }
    }

    fn stream_offset(&self, index: usize) -> u64 {
        self.base.saturating_add(index as u64)
    }

    fn error(&self, offset: u64, problem: MllpProblem) -> Error {
        Error::Mllp {
            offset: usize::try_from(offset).unwrap_or(usize::MAX),
            problem,
        }
    }

    /// The next complete frame, or [`Status::NeedMore`]. An error reports one problem
    /// (an oversized frame, or in strict mode a malformed one); decoding continues with
    /// the next call.
    pub fn next_frame(&mut self) -> Result<Status<Frame<'_>>> {
        loop {
            match self.state {
                State::Idle | State::Discarding => {
                    let haystack = self.buf.get(self.consumed..).unwrap_or_default();
                    match memchr::memchr(START_BLOCK, haystack) {
                        None => {
                            if self.state == State::Idle {
                                self.junk = self.junk.saturating_add(haystack.len());
                            }
                            self.consumed = self.buf.len();
                            return Ok(Status::NeedMore);
                        }
                        Some(position) => {
                            if self.state == State::Idle {
                                self.junk = self.junk.saturating_add(position);
                            }
                            let start_block = self.consumed + position;
                            self.consumed = start_block + 1;
                            self.state = State::InFrame {
                                start: start_block + 1,
                                scanned: start_block + 1,
                                offset: self.stream_offset(start_block),
                            };
                        }
                    }
                }
                State::InFrame {
                    start,
                    scanned,
                    offset,
                } => {
                    let haystack = self.buf.get(scanned..).unwrap_or_default();
                    let Some(position) = memchr::memchr2(END_BLOCK, START_BLOCK, haystack) else {
                        if self.buf.len() - start > self.max_frame {
                            self.state = State::Discarding;
                            self.consumed = self.buf.len();
                            return Err(self.error(
                                offset,
                                MllpProblem::FrameTooLarge {
                                    max: self.max_frame,
                                },
                            ));
                        }
                        self.state = State::InFrame {
                            start,
                            scanned: self.buf.len(),
                            offset,
                        };
                        self.consumed = start;
                        return Ok(Status::NeedMore);
                    };
                    let at = scanned + position;
                    if self.buf.get(at) == Some(&START_BLOCK) {
                        // A new frame starts before this one ended.
                        self.consumed = at + 1;
                        self.state = State::InFrame {
                            start: at + 1,
                            scanned: at + 1,
                            offset: self.stream_offset(at),
                        };
                        if self.strict {
                            return Err(self
                                .error(self.stream_offset(at), MllpProblem::UnexpectedStartBlock));
                        }
                        self.abandoned = self.abandoned.saturating_add(1);
                        // The dropped frame's start block and payload.
                        self.junk = self.junk.saturating_add(at - start + 1);
                        continue;
                    }
                    // End block at `at`.
                    let (end, missing_cr) = match self.buf.get(at + 1) {
                        None if at - start > self.max_frame => {
                            // Waiting for the CR of an oversized frame: drop it now so the
                            // buffer stays bounded; the CR, if it comes, is discarded.
                            self.state = State::Discarding;
                            self.consumed = self.buf.len();
                            return Err(self.error(
                                offset,
                                MllpProblem::FrameTooLarge {
                                    max: self.max_frame,
                                },
                            ));
                        }
                        None => {
                            self.state = State::InFrame {
                                start,
                                scanned: at,
                                offset,
                            };
                            self.consumed = start;
                            return Ok(Status::NeedMore);
                        }
                        Some(&CARRIAGE_RETURN) => (at + 2, false),
                        Some(_) => (at + 1, true),
                    };
                    return self.complete(start, at, end, offset, missing_cr);
                }
            }
        }
    }

    /// Hands out the frame `buf[start..end_block]` and moves past `consumed_to`.
    fn complete(
        &mut self,
        start: usize,
        end_block: usize,
        consumed_to: usize,
        offset: u64,
        missing_cr: bool,
    ) -> Result<Status<Frame<'_>>> {
        self.consumed = consumed_to;
        self.state = State::Idle;
        if end_block - start > self.max_frame {
            return Err(self.error(
                offset,
                MllpProblem::FrameTooLarge {
                    max: self.max_frame,
                },
            ));
        }
        if missing_cr && self.strict {
            return Err(self.error(
                self.stream_offset(end_block),
                MllpProblem::MissingCarriageReturn,
            ));
        }
        let junk_before = core::mem::take(&mut self.junk);
        let abandoned_before = core::mem::take(&mut self.abandoned);
        Ok(Status::Complete(Frame {
            payload: self.buf.get(start..end_block).unwrap_or_default(),
            offset,
            junk_before,
            abandoned_before,
            missing_cr,
        }))
    }

    /// Ends the stream: a final frame that ends with `0x1C` but no `0x0D` is returned
    /// (lenient mode); a frame without its end block is [`MllpProblem::Truncated`]. Call
    /// after `next_frame` returned [`Status::NeedMore`]. The decoder is reset afterwards.
    pub fn finish(&mut self) -> Result<Option<Frame<'_>>> {
        let state = self.state;
        self.state = State::Idle;
        match state {
            State::Idle | State::Discarding => Ok(None),
            State::InFrame {
                start,
                scanned,
                offset,
            } => {
                let ends_with_end_block =
                    self.buf.get(scanned) == Some(&END_BLOCK) && scanned + 1 == self.buf.len();
                if !ends_with_end_block {
                    self.consumed = self.buf.len();
                    return Err(self.error(offset, MllpProblem::Truncated));
                }
                match self.complete(start, scanned, scanned + 1, offset, true)? {
                    Status::Complete(frame) => Ok(Some(frame)),
                    Status::NeedMore => Ok(None),
                }
            }
        }
    }
}

/// Appends one frame holding `payload` to `out`. Fails if the payload contains `0x0B` or
/// `0x1C`, which cannot appear inside a frame.
pub fn encode(payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
    if let Some(index) = memchr::memchr2(START_BLOCK, END_BLOCK, payload) {
        let byte = payload.get(index).copied().unwrap_or(START_BLOCK);
        return Err(Error::Mllp {
            offset: index,
            problem: MllpProblem::PayloadContainsFramingByte { byte },
        });
    }
    out.reserve(payload.len().saturating_add(3));
    out.push(START_BLOCK);
    out.extend_from_slice(payload);
    out.push(END_BLOCK);
    out.push(CARRIAGE_RETURN);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a test keeps of a frame.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Seen {
        payload: Vec<u8>,
        offset: u64,
        junk_before: usize,
        abandoned_before: usize,
        missing_cr: bool,
    }

    fn seen(frame: &Frame<'_>) -> Seen {
        Seen {
            payload: frame.payload.to_vec(),
            offset: frame.offset,
            junk_before: frame.junk_before,
            abandoned_before: frame.abandoned_before,
            missing_cr: frame.missing_cr,
        }
    }

    /// Decodes `stream` pushed in pieces cut at `cuts`; errors are kept in order too.
    fn decode_in_chunks(
        stream: &[u8],
        cuts: &[usize],
        decoder: &mut MllpDecoder,
    ) -> Vec<Result<Seen>> {
        let mut out = Vec::new();
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
        points.push(0);
        points.push(stream.len());
        points.sort_unstable();
        points.dedup();
        for pair in points.windows(2) {
            decoder.push(&stream[pair[0]..pair[1]]).unwrap();
            loop {
                match decoder.next_frame() {
                    Ok(Status::Complete(frame)) => out.push(Ok(seen(&frame))),
                    Ok(Status::NeedMore) => break,
                    Err(error) => out.push(Err(error)),
                }
            }
        }
        match decoder.finish() {
            Ok(Some(frame)) => out.push(Ok(seen(&frame))),
            Ok(None) => {}
            Err(error) => out.push(Err(error)),
        }
        out
    }

    #[test]
    fn several_frames_and_junk_in_one_chunk() {
        let stream = b"\r\n\x0bONE\x1c\r\x00\x00\x0bTWO\x1c\r\n";
        let frames = decode_in_chunks(stream, &[], &mut MllpDecoder::new(100));
        let frames: Vec<_> = frames.into_iter().map(Result::unwrap).collect();
        assert_eq!(frames.len(), 2);
        assert_eq!(
            (
                frames[0].payload.as_slice(),
                frames[0].junk_before,
                frames[0].offset
            ),
            (&b"ONE"[..], 2, 2)
        );
        assert_eq!(
            (
                frames[1].payload.as_slice(),
                frames[1].junk_before,
                frames[1].offset
            ),
            (&b"TWO"[..], 2, 10)
        );
    }

    #[test]
    fn trailer_split_between_end_block_and_carriage_return() {
        // elixir-mllp PR #11: `0x1C` in one packet, `0x0D` in the next.
        let mut decoder = MllpDecoder::new(100);
        decoder.push(b"\x0bMSG\x1c").unwrap();
        assert_eq!(decoder.next_frame().unwrap(), Status::NeedMore);
        decoder.push(b"\r").unwrap();
        match decoder.next_frame().unwrap() {
            Status::Complete(frame) => {
                assert_eq!(frame.payload, b"MSG");
                assert!(!frame.missing_cr);
            }
            Status::NeedMore => panic!("frame expected"),
        }
    }

    #[test]
    fn missing_cr_tolerated_before_next_start_block_and_at_end() {
        let frames = decode_in_chunks(b"\x0bA\x1c\x0bB\x1c", &[], &mut MllpDecoder::new(10));
        let frames: Vec<_> = frames.into_iter().map(Result::unwrap).collect();
        assert_eq!(frames.len(), 2);
        assert!(frames[0].missing_cr && frames[1].missing_cr);
        let strict = decode_in_chunks(
            b"\x0bA\x1c\x0bB\x1c\r",
            &[],
            &mut MllpDecoder::new(10).strict(true),
        );
        assert!(matches!(
            strict[0],
            Err(Error::Mllp {
                problem: MllpProblem::MissingCarriageReturn,
                offset: 2
            })
        ));
        assert_eq!(strict[1].as_ref().unwrap().payload, b"B");
    }

    #[test]
    fn start_block_inside_frame_abandons_it() {
        let frames = decode_in_chunks(b"\x0bPART\x0bFULL\x1c\r", &[], &mut MllpDecoder::new(10));
        let frame = frames[0].as_ref().unwrap();
        assert_eq!(frame.payload, b"FULL");
        assert_eq!((frame.abandoned_before, frame.junk_before), (1, 5));
        assert_eq!(frame.offset, 5);
    }

    #[test]
    fn oversized_frame_is_an_error_and_decoding_resyncs() {
        let stream = b"\x0b0123456789ABCDEF\x1c\r\x0bok\x1c\r";
        for cuts in [&[][..], &[3, 7, 12][..]] {
            let results = decode_in_chunks(stream, cuts, &mut MllpDecoder::new(8));
            assert!(matches!(
                results[0],
                Err(Error::Mllp {
                    problem: MllpProblem::FrameTooLarge { max: 8 },
                    offset: 0
                })
            ));
            let last = results.last().unwrap().as_ref().unwrap();
            assert_eq!(last.payload, b"ok");
            assert_eq!(results.len(), 2);
        }
    }

    #[test]
    fn buffer_stays_bounded() {
        let mut decoder = MllpDecoder::new(16);
        decoder.push(b"\x0b").unwrap();
        for _ in 0..1000 {
            // Without a frame end, the oversized frame is discarded as it grows.
            decoder.push(&[b'x'; 7]).unwrap();
            while let Ok(Status::Complete(_)) | Err(_) = decoder.next_frame() {}
            assert!(decoder.buf.len() <= 16 + 2 + 7, "{}", decoder.buf.len());
        }
        // Undrained frames: push refuses once more than one frame is buffered.
        let mut decoder = MllpDecoder::new(4);
        let mut refused = false;
        for _ in 0..10 {
            refused |= decoder.push(b"\x0bab\x1c\r").is_err();
        }
        assert!(refused);
        assert!(decoder.buf.len() <= 4 + 2 + 5);
    }

    #[test]
    fn oversized_frame_waiting_for_its_cr_does_not_block_push() {
        // Found by proptest: a chunk ending right after the `0x1C` of an oversized frame
        // left it buffered (waiting for the CR) without a size check, so the next push
        // failed with BufferFull.
        let mut decoder = MllpDecoder::new(4);
        decoder.push(b"\x0b0123456789\x1c").unwrap();
        assert!(matches!(
            decoder.next_frame(),
            Err(Error::Mllp {
                problem: MllpProblem::FrameTooLarge { max: 4 },
                ..
            })
        ));
        assert_eq!(decoder.next_frame().unwrap(), Status::NeedMore);
        decoder.push(b"\r\x0bok\x1c\r").unwrap();
        match decoder.next_frame().unwrap() {
            Status::Complete(frame) => {
                assert_eq!(frame.payload, b"ok");
                assert_eq!(frame.junk_before, 0);
            }
            Status::NeedMore => panic!("frame expected"),
        }
    }

    #[test]
    fn truncated_stream_is_reported_by_finish() {
        let mut decoder = MllpDecoder::new(10);
        decoder.push(b"junk\x0bhalf").unwrap();
        assert_eq!(decoder.next_frame().unwrap(), Status::NeedMore);
        assert_eq!(decoder.junk_pending(), 4);
        assert!(matches!(
            decoder.finish(),
            Err(Error::Mllp {
                problem: MllpProblem::Truncated,
                offset: 4
            })
        ));
    }

    #[test]
    fn encode_refuses_framing_bytes() {
        let mut out = Vec::new();
        assert!(encode(b"a\x1cb", &mut out).is_err());
        encode(b"ab", &mut out).unwrap();
        assert_eq!(out, b"\x0bab\x1c\r");
    }

    #[test]
    fn frame_warnings_describe_what_was_tolerated() {
        let frames = decode_in_chunks(b"xx\x0bA\x1c", &[], &mut MllpDecoder::new(10));
        let warnings = frames[0].clone().unwrap();
        let frame = Frame {
            payload: &warnings.payload,
            offset: warnings.offset,
            junk_before: warnings.junk_before,
            abandoned_before: 0,
            missing_cr: warnings.missing_cr,
        };
        let kinds: Vec<_> = frame.warnings().into_iter().map(|w| w.kind).collect();
        assert_eq!(
            kinds,
            [
                WarningKind::MllpJunk { count: 2 },
                WarningKind::MllpMissingCarriageReturn
            ]
        );
    }

    /// A stream of frames separated by junk, with the frames the decoder must produce.
    fn stream_strategy() -> impl Strategy<Value = (Vec<u8>, Vec<Seen>)> {
        let payload = proptest::collection::vec(
            any::<u8>().prop_filter("no framing", |b| *b != 0x0B && *b != 0x1C),
            0..20,
        );
        let junk =
            proptest::collection::vec(any::<u8>().prop_filter("no start", |b| *b != 0x0B), 0..6);
        proptest::collection::vec((junk, payload, any::<bool>()), 0..8).prop_map(|items| {
            let mut stream = Vec::new();
            let mut expected = Vec::new();
            let mut previous_missing_cr = false;
            for (junk, payload, with_cr) in items {
                // After a frame without CR the next byte must be a start block (a CR there
                // would complete the previous frame).
                let junk = if previous_missing_cr {
                    Vec::new()
                } else {
                    junk
                };
                stream.extend_from_slice(&junk);
                let offset = stream.len() as u64;
                stream.push(START_BLOCK);
                stream.extend_from_slice(&payload);
                stream.push(END_BLOCK);
                let missing_cr = !with_cr;
                if with_cr {
                    stream.push(CARRIAGE_RETURN);
                }
                expected.push(Seen {
                    payload,
                    offset,
                    junk_before: junk.len(),
                    abandoned_before: 0,
                    missing_cr,
                });
                previous_missing_cr = missing_cr;
            }
            (stream, expected)
        })
    }

    proptest! {
        #[test]
        fn decoding_is_independent_of_chunking(
            (stream, expected) in stream_strategy(),
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            let whole = decode_in_chunks(&stream, &[], &mut MllpDecoder::new(64));
            let split = decode_in_chunks(&stream, &cuts, &mut MllpDecoder::new(64));
            let whole: Vec<Seen> = whole.into_iter().map(Result::unwrap).collect();
            let split: Vec<Seen> = split.into_iter().map(Result::unwrap).collect();
            prop_assert_eq!(&whole, &expected);
            prop_assert_eq!(&split, &expected);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_stay_bounded(
            stream in proptest::collection::vec(prop_oneof![Just(0x0Bu8), Just(0x1C), Just(0x0D), any::<u8>()], 0..200),
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            let mut decoder = MllpDecoder::new(8);
            let _ = decode_in_chunks(&stream, &cuts, &mut decoder);
            prop_assert!(decoder.buf.len() <= 8 + 2 + stream.len());
        }
    }
}
