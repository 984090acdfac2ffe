//! ASTM E1381 (CLSI LIS01) frames: encoder, streaming decoder and message reassembly.
//!
//! A frame on the wire is
//!
//! ```text
//! STX  FN  text  ETB|ETX  C1 C2  CR LF
//! ```
//!
//! where `FN` is the frame number as one ASCII digit `0`..=`7` (E1381 §6.3.2, LIS01 §8.3.2),
//! `ETB` ends an intermediate frame and `ETX` the last frame of a message (§6.3.1), and
//! `C1 C2` is the checksum: the sum of the bytes from `FN` through `ETB`/`ETX` inclusive,
//! modulo 256, as two uppercase hexadecimal digits (§6.3.3).
//!
//! * [`encode_message`] splits a message text into frames; [`write_frame`] writes one frame.
//! * [`FrameDecoder`] is a push decoder fed arbitrary chunks of a byte stream. It yields
//!   [`FrameItem`]s: frames (text borrowed from the input, or from a bounded internal buffer
//!   when a frame spans chunks), control characters, and bytes that belong to neither.
//! * [`Reassembler`] concatenates the texts of a message's frames. `ETB` never marks a record
//!   boundary: several E1394 records may share a frame and a record may span frames.
//! * [`FrameOptions`] holds the receiver's tolerance for broken senders; each relaxation names
//!   the instruments that need it.
//! * [`looks_framed`] sniffs whether a stream uses E1381 framing at all.
//!
//! ```
//! # use labwire_astm::frame::{encode_message_into, FrameDecoder, FrameItem, FrameNumber, Checksum};
//! let mut wire = Vec::new();
//! encode_message_into(&mut wire, b"L|1|N\r", 240, FrameNumber::FIRST).unwrap();
//! assert_eq!(wire, b"\x021L|1|N\r\x0304\r\n");
//!
//! let mut decoder = FrameDecoder::new(240);
//! let (_, item) = decoder.decode(&wire);
//! let Some(FrameItem::Frame(frame)) = item else { panic!() };
//! assert_eq!(frame.text, b"L|1|N\r");
//! assert_eq!(frame.checksum, Checksum::Valid);
//! ```

use core::fmt;

use crate::error::Error;

/// Start of text: begins a frame.
pub const STX: u8 = 0x02;
/// End of text: terminates the last frame of a message.
pub const ETX: u8 = 0x03;
/// End of transmission: ends a session (termination phase), or, as the reply to a frame,
/// accepts it and asks the sender to stop (receiver interrupt).
pub const EOT: u8 = 0x04;
/// Enquiry: asks to become the sender (establishment phase).
pub const ENQ: u8 = 0x05;
/// Acknowledge.
pub const ACK: u8 = 0x06;
/// Negative acknowledge.
pub const NAK: u8 = 0x15;
/// End of transmission block: terminates an intermediate frame.
pub const ETB: u8 = 0x17;
/// Carriage return: first byte of the frame trailer (and the E1394 record terminator).
pub const CR: u8 = 0x0D;
/// Line feed: second byte of the frame trailer.
pub const LF: u8 = 0x0A;

/// The default and E1381-95 maximum frame text length.
pub const DEFAULT_MAX_TEXT: usize = 240;

/// The largest frame text length this crate sends or accepts.
///
/// LIS01-A2 allows frames of up to 64,000 characters *including* the 7 bytes of overhead, i.e.
/// 63,993 text bytes; accepting 64,000 gives a little slack for senders that counted without
/// the overhead.
pub const MAX_TEXT_LIMIT: usize = 64_000;

/// Bytes of framing around the text: STX, FN, ETB/ETX, C1, C2, CR, LF.
pub const FRAME_OVERHEAD: usize = 7;

/// Bit `n` set: byte `n` (< 32) may not occur in frame text.
const RESTRICTED_MASK: u32 = (1 << 0x01) // SOH
    | (1 << STX)
    | (1 << ETX)
    | (1 << EOT)
    | (1 << ENQ)
    | (1 << ACK)
    | (1 << LF)
    | (1 << 0x10) // DLE
    | (1 << 0x11) // DC1
    | (1 << 0x12) // DC2
    | (1 << 0x13) // DC3
    | (1 << 0x14) // DC4
    | (1 << NAK)
    | (1 << 0x16) // SYN
    | (1 << ETB);

/// Whether `byte` is one of the characters E1381 §6.6 (LIS01 §8.6) forbids in frame text:
/// SOH, STX, ETX, EOT, ENQ, ACK, DLE, NAK, SYN, ETB, LF and DC1–DC4.
///
/// CR is allowed (it terminates E1394 records inside the text); so are all other bytes,
/// including 8-bit ones (the character encoding is agreed outside the protocol).
pub const fn is_restricted(byte: u8) -> bool {
    byte < 32 && (RESTRICTED_MASK >> byte) & 1 == 1
}

/// Checks that `text` contains no [restricted](is_restricted) character.
pub fn validate_text(text: &[u8]) -> Result<(), Error> {
    match text.iter().position(|&b| is_restricted(b)) {
        None => Ok(()),
        Some(offset) => Err(Error::RestrictedByte {
            offset,
            byte: text.get(offset).copied().unwrap_or_default(),
        }),
    }
}

/// A frame number, 0..=7 (E1381 §6.3.2). The first frame of a transfer phase is 1; numbers
/// then run 2, …, 7, 0, 1, … (modulo 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FrameNumber(u8);

impl FrameNumber {
    /// Frame number 1, the first frame of a transfer phase.
    pub const FIRST: FrameNumber = FrameNumber(1);
    /// Frame number 0 (follows 7).
    pub const ZERO: FrameNumber = FrameNumber(0);

    /// The frame number `value`, if it is 0..=7.
    pub const fn new(value: u8) -> Option<Self> {
        if value <= 7 {
            Some(FrameNumber(value))
        } else {
            None
        }
    }

    /// The frame number written as the ASCII digit `byte`, if it is `b'0'..=b'7'`.
    pub const fn from_digit(byte: u8) -> Option<Self> {
        match byte {
            b'0'..=b'7' => Some(FrameNumber(byte - b'0')),
            _ => None,
        }
    }

    /// The number, 0..=7.
    pub const fn value(self) -> u8 {
        self.0
    }

    /// The ASCII digit that represents this number on the wire.
    pub const fn digit(self) -> u8 {
        b'0' + self.0
    }

    /// The following frame number (7 is followed by 0).
    #[must_use]
    pub const fn next(self) -> Self {
        FrameNumber((self.0 + 1) & 7)
    }
}

impl fmt::Display for FrameNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Whether a frame continues the message (ETB) or ends it (ETX).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// Terminated by ETB: the message text continues in the next frame.
    Intermediate,
    /// Terminated by ETX: the last (or only) frame of a message.
    Last,
}

impl FrameKind {
    /// The terminator byte: ETB or ETX.
    pub const fn terminator(self) -> u8 {
        match self {
            FrameKind::Intermediate => ETB,
            FrameKind::Last => ETX,
        }
    }

    /// The kind a terminator byte stands for.
    pub const fn from_terminator(byte: u8) -> Option<Self> {
        match byte {
            ETB => Some(FrameKind::Intermediate),
            ETX => Some(FrameKind::Last),
            _ => None,
        }
    }
}

/// The single-byte control characters of the link protocol that stand outside frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Control {
    /// ENQ, 0x05.
    Enq,
    /// ACK, 0x06.
    Ack,
    /// NAK, 0x15.
    Nak,
    /// EOT, 0x04.
    Eot,
}

impl Control {
    /// The byte on the wire.
    pub const fn byte(self) -> u8 {
        match self {
            Control::Enq => ENQ,
            Control::Ack => ACK,
            Control::Nak => NAK,
            Control::Eot => EOT,
        }
    }

    /// The control character `byte` stands for, if any.
    pub const fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            ENQ => Some(Control::Enq),
            ACK => Some(Control::Ack),
            NAK => Some(Control::Nak),
            EOT => Some(Control::Eot),
            _ => None,
        }
    }
}

/// What the decoder found in a frame's checksum position, compared with the checksum it
/// computed over the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Checksum {
    /// Two uppercase hex digits, matching.
    Valid,
    /// Two hex digits, matching, at least one of them lowercase.
    Lowercase,
    /// A single hex digit whose value matches (the sender did not zero-pad).
    OneDigit,
    /// No hex digit after the terminator.
    Missing {
        /// The checksum computed over the frame.
        computed: u8,
    },
    /// One or two hex digits whose value does not match.
    Mismatch {
        /// The checksum computed over the frame.
        computed: u8,
        /// The value the sender wrote.
        received: u8,
    },
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Checksum::Valid => f.write_str("valid"),
            Checksum::Lowercase => f.write_str("valid but lowercase"),
            Checksum::OneDigit => f.write_str("valid but a single digit"),
            Checksum::Missing { computed } => write!(f, "missing (computed {computed:02X})"),
            Checksum::Mismatch { computed, received } => {
                write!(f, "received {received:02X}, computed {computed:02X}")
            }
        }
    }
}

/// What a receiver does with a checksum anomaly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumPolicy {
    /// Reject the frame: the receiver answers NAK and the sender retransmits (E1381 §6.5.1).
    Reject,
    /// Accept the frame and attach a warning to the received message.
    WarnAndAccept,
    /// Accept the frame silently.
    Ignore,
}

/// The outcome of applying [`FrameOptions`] to a [`Checksum`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumVerdict {
    /// Accept silently.
    Accept,
    /// Accept and report a warning.
    AcceptWithWarning,
    /// Reject (NAK).
    Reject,
}

/// A receiver's tolerance for senders that do not follow E1381 to the letter.
///
/// The frame decoder itself is always lenient: it reports what it saw (frame number byte,
/// checksum form, stray bytes) and decides nothing. These options are applied by the
/// [`Link`](crate::link::Link) receiver. Trailers are always accepted in every variant
/// (`CR LF`, `LF`, `CR`, or nothing before the next `STX`/control character), because the
/// trailer is outside the checksum and a frame is complete once its checksum is read:
/// senaite's cobas c111 and Pentra XLR captures end frames with `LF` only, the Afinion 2
/// capture with `CR` only.
///
/// The default rejects wrong and missing checksums, and accepts the relaxations that cannot
/// be mistaken for a transmission error. [`FrameOptions::strict`] follows E1381 exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FrameOptions {
    /// The longest frame text accepted, in bytes (clamped to 1..=[`MAX_TEXT_LIMIT`]).
    /// Default: [`MAX_TEXT_LIMIT`]. E1381-95 allows 240, but Roche "cobas type" instruments
    /// (e.g. the cobas c311 capture in senaite.astm, 624 bytes in one frame) and every
    /// LIS01-A2 sender may send longer frames. A longer frame is discarded without being
    /// buffered and answered with NAK.
    pub max_text: usize,
    /// Two hex digits that do not match the computed checksum. Default: `Reject` — the
    /// checksum is the only integrity check of E1381. Arkray Spotchem EL SE-1520 is known to
    /// send wrong checksums (senaite.astm capture); use `WarnAndAccept` for it.
    pub checksum_mismatch: ChecksumPolicy,
    /// No checksum digits at all. Default: `Reject`. bioMérieux mini VIDAS sends frames
    /// without a checksum (senaite.astm capture).
    pub checksum_missing: ChecksumPolicy,
    /// Matching checksum written in lowercase hex. Default: `Ignore` — the value is identical,
    /// so nothing is lost by accepting it; senaite.astm accepts it for the instruments it
    /// supports ("hex numbers are not case sensitive").
    pub checksum_lowercase: ChecksumPolicy,
    /// A single matching hex digit (`A` for `0A`). Default: `WarnAndAccept`. Home-grown
    /// senders format the checksum without zero padding (a PHP Sysmex CS-2500 client found in
    /// public code uses `strtoupper(dechex($sum))`). A single digit only matches when the
    /// frame's sum is below 16, so the text is as well protected as with two digits.
    pub checksum_one_digit: ChecksumPolicy,
    /// Accept `0` as the number of the first frame of a session. Default: `true`.
    /// E1381 §6.3.2 starts at 1; Mirth-style plugins expose a `frameNumberStart` setting
    /// because some senders start at 0. At the start of a session there is no previous frame
    /// that a `0` could repeat, so accepting it cannot drop data.
    pub accept_first_frame_zero: bool,
    /// Accept a frame numbered 1 (or 0, with `accept_first_frame_zero`) as the start of a new
    /// message right after a message was completed, even though the numbers should continue
    /// across messages of a session. Default: `true`. Some senders restart numbering per
    /// message. If the restarted number equals the last accepted one, the frame is taken for
    /// a retransmission only when its content is identical too, so a restarting sender loses
    /// nothing unless it sends the same single-frame message twice in a row.
    pub accept_restarted_numbering: bool,
}

impl Default for FrameOptions {
    fn default() -> Self {
        FrameOptions {
            max_text: MAX_TEXT_LIMIT,
            checksum_mismatch: ChecksumPolicy::Reject,
            checksum_missing: ChecksumPolicy::Reject,
            checksum_lowercase: ChecksumPolicy::Ignore,
            checksum_one_digit: ChecksumPolicy::WarnAndAccept,
            accept_first_frame_zero: true,
            accept_restarted_numbering: true,
        }
    }
}

impl FrameOptions {
    /// E1381 to the letter: every checksum anomaly rejected, frames numbered from 1 and
    /// continuing across the messages of a session. Frames up to [`MAX_TEXT_LIMIT`] are still
    /// accepted (LIS01-A2).
    pub fn strict() -> Self {
        FrameOptions {
            max_text: MAX_TEXT_LIMIT,
            checksum_mismatch: ChecksumPolicy::Reject,
            checksum_missing: ChecksumPolicy::Reject,
            checksum_lowercase: ChecksumPolicy::Reject,
            checksum_one_digit: ChecksumPolicy::Reject,
            accept_first_frame_zero: false,
            accept_restarted_numbering: false,
        }
    }

    /// What to do with a frame whose checksum the decoder reported as `checksum`.
    pub fn checksum_verdict(&self, checksum: Checksum) -> ChecksumVerdict {
        let policy = match checksum {
            Checksum::Valid => return ChecksumVerdict::Accept,
            Checksum::Lowercase => self.checksum_lowercase,
            Checksum::OneDigit => self.checksum_one_digit,
            Checksum::Missing { .. } => self.checksum_missing,
            Checksum::Mismatch { .. } => self.checksum_mismatch,
        };
        match policy {
            ChecksumPolicy::Reject => ChecksumVerdict::Reject,
            ChecksumPolicy::WarnAndAccept => ChecksumVerdict::AcceptWithWarning,
            ChecksumPolicy::Ignore => ChecksumVerdict::Accept,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/// Sum of `bytes` modulo 256. A plain fold over a slice, which the compiler vectorizes.
fn sum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |acc, &b| acc.wrapping_add(b))
}

/// The E1381 checksum of a frame: the sum of the frame-number digit, the text and the
/// terminator, modulo 256 (E1381 §6.3.3, LIS01 §8.3.3).
pub fn checksum(number: FrameNumber, kind: FrameKind, text: &[u8]) -> u8 {
    number
        .digit()
        .wrapping_add(sum(text))
        .wrapping_add(kind.terminator())
}

/// Uppercase hex digit for the low nibble of `nibble`.
const fn hex_digit(nibble: u8) -> u8 {
    match nibble & 0x0F {
        d @ 0..=9 => b'0' + d,
        d => b'A' + (d - 10),
    }
}

/// The value of a hex digit of either case.
const fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    }
}

/// Writes a frame without checking its text. Callers validated it.
pub(crate) fn write_frame_unchecked(
    out: &mut Vec<u8>,
    number: FrameNumber,
    kind: FrameKind,
    text: &[u8],
) {
    let sum = checksum(number, kind, text);
    out.reserve(text.len().saturating_add(FRAME_OVERHEAD));
    out.push(STX);
    out.push(number.digit());
    out.extend_from_slice(text);
    out.extend_from_slice(&[
        kind.terminator(),
        hex_digit(sum >> 4),
        hex_digit(sum),
        CR,
        LF,
    ]);
}

/// Appends one frame to `out`: `STX FN text ETB|ETX C1 C2 CR LF`.
///
/// Fails, writing nothing, if `text` contains a [restricted](is_restricted) character. The
/// length of `text` is not limited here; [`encode_message`] splits texts into frames of a
/// chosen size.
pub fn write_frame(
    out: &mut Vec<u8>,
    number: FrameNumber,
    kind: FrameKind,
    text: &[u8],
) -> Result<(), Error> {
    validate_text(text)?;
    write_frame_unchecked(out, number, kind, text);
    Ok(())
}

/// Number of frames [`encode_message`] produces for a text of `text_len` bytes: at least one
/// (an empty message is one empty last frame). `max_text` of 0 counts as 1.
pub const fn frame_count(text_len: usize, max_text: usize) -> usize {
    let max_text = if max_text == 0 { 1 } else { max_text };
    if text_len == 0 {
        1
    } else {
        text_len.div_ceil(max_text)
    }
}

fn check_max_text(max_text: usize) -> Result<(), Error> {
    if max_text == 0 {
        return Err(Error::InvalidConfig {
            field: "max_text",
            reason: "must be at least 1",
        });
    }
    if max_text > MAX_TEXT_LIMIT {
        return Err(Error::InvalidConfig {
            field: "max_text",
            reason: "must not exceed 64000 (LIS01-A2 frame size)",
        });
    }
    Ok(())
}

/// One frame of a message being encoded, borrowed from the message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutFrame<'a> {
    number: FrameNumber,
    kind: FrameKind,
    text: &'a [u8],
}

impl<'a> OutFrame<'a> {
    /// The frame number.
    pub fn number(&self) -> FrameNumber {
        self.number
    }

    /// Intermediate (ETB) or last (ETX).
    pub fn kind(&self) -> FrameKind {
        self.kind
    }

    /// The frame's part of the message text.
    pub fn text(&self) -> &'a [u8] {
        self.text
    }

    /// Bytes this frame occupies on the wire.
    pub fn encoded_len(&self) -> usize {
        self.text.len().saturating_add(FRAME_OVERHEAD)
    }

    /// Appends the frame to `out`. The text was validated by [`encode_message`].
    pub fn write_to(&self, out: &mut Vec<u8>) {
        write_frame_unchecked(out, self.number, self.kind, self.text);
    }
}

/// Iterator over the frames of a message; see [`encode_message`].
#[derive(Debug, Clone)]
pub struct MessageFrames<'a> {
    rest: &'a [u8],
    max_text: usize,
    number: FrameNumber,
    done: bool,
}

impl MessageFrames<'_> {
    /// The number the frame after the last one yielded so far gets; after the iterator is
    /// exhausted, the number to start the session's next message with (E1381 numbers frames
    /// continuously within a transfer phase).
    pub fn next_number(&self) -> FrameNumber {
        self.number
    }
}

impl<'a> Iterator for MessageFrames<'a> {
    type Item = OutFrame<'a>;

    fn next(&mut self) -> Option<OutFrame<'a>> {
        if self.done {
            return None;
        }
        let (text, rest) = self
            .rest
            .split_at_checked(self.max_text)
            .unwrap_or((self.rest, &[]));
        let kind = if rest.is_empty() {
            self.done = true;
            FrameKind::Last
        } else {
            FrameKind::Intermediate
        };
        self.rest = rest;
        let number = self.number;
        self.number = number.next();
        Some(OutFrame { number, kind, text })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = if self.done {
            0
        } else {
            frame_count(self.rest.len(), self.max_text)
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for MessageFrames<'_> {}

/// Splits a message text into frames of at most `max_text` text bytes: zero or more
/// intermediate (ETB) frames followed by one last (ETX) frame, numbered from `first` modulo 8.
/// An empty text gives one empty last frame.
///
/// `max_text` must be in 1..=[`MAX_TEXT_LIMIT`]; use [`DEFAULT_MAX_TEXT`] (240, E1381-95)
/// unless the receiver is known to accept larger frames. The text must not contain
/// [restricted](is_restricted) characters. Nothing is allocated.
pub fn encode_message(
    text: &[u8],
    max_text: usize,
    first: FrameNumber,
) -> Result<MessageFrames<'_>, Error> {
    check_max_text(max_text)?;
    validate_text(text)?;
    Ok(MessageFrames {
        rest: text,
        max_text,
        number: first,
        done: false,
    })
}

/// Appends all frames of a message to `out` (see [`encode_message`]) and returns the frame
/// number that follows the last frame written.
pub fn encode_message_into(
    out: &mut Vec<u8>,
    text: &[u8],
    max_text: usize,
    first: FrameNumber,
) -> Result<FrameNumber, Error> {
    let mut frames = encode_message(text, max_text, first)?;
    let overhead = frame_count(text.len(), max_text).saturating_mul(FRAME_OVERHEAD);
    out.reserve(text.len().saturating_add(overhead));
    for frame in frames.by_ref() {
        frame.write_to(out);
    }
    Ok(frames.next_number())
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// A decoded frame. Its text borrows from the decoder's input or internal buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Stream offset of the frame's STX.
    pub offset: u64,
    /// The byte in the frame-number position, as received. See [`Frame::number`].
    pub number_byte: u8,
    /// Intermediate (ETB) or last (ETX).
    pub kind: FrameKind,
    /// The text between the frame number and the terminator.
    pub text: &'a [u8],
    /// The checksum as received, compared with the computed one.
    pub checksum: Checksum,
}

impl Frame<'_> {
    /// The frame number, if the number byte is an ASCII digit `0`..=`7`.
    pub fn number(&self) -> Option<FrameNumber> {
        FrameNumber::from_digit(self.number_byte)
    }
}

/// One thing found in the byte stream by [`FrameDecoder::decode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameItem<'a> {
    /// A complete frame (terminator and checksum read; the trailer is skipped afterwards).
    Frame(Frame<'a>),
    /// A control character outside a frame.
    Control {
        /// Which one.
        control: Control,
        /// Its stream offset.
        offset: u64,
    },
    /// Bytes outside any frame that are not control characters: stray trailer bytes, line
    /// noise, or a stream that is not framed at all (e.g. E1394 records sent raw over TCP).
    /// A long run may be reported in several pieces.
    Junk {
        /// The bytes.
        bytes: &'a [u8],
        /// Stream offset of the first of them.
        offset: u64,
    },
    /// A broken frame, dropped: [`Error::FrameTooLong`], [`Error::EmptyFrame`] or
    /// [`Error::FrameInterrupted`]. Decoding continues after it.
    Error(Error),
}

/// Accumulated checksum digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Digits {
    count: u8,
    value: u8,
    lowercase: bool,
}

impl Digits {
    /// Consumes checksum digits from the front of `bytes`. Returns how many bytes were
    /// consumed and whether the checksum is complete (two digits read, or a non-hex byte
    /// reached, which is left unconsumed).
    fn scan(&mut self, bytes: &[u8]) -> (usize, bool) {
        let mut consumed = 0;
        for &byte in bytes {
            if self.count >= 2 {
                return (consumed, true);
            }
            let Some(value) = hex_value(byte) else {
                return (consumed, true);
            };
            self.value = (self.value << 4) | value;
            self.lowercase |= byte.is_ascii_lowercase();
            self.count += 1;
            consumed += 1;
        }
        (consumed, self.count >= 2)
    }

    fn verdict(self, computed: u8) -> Checksum {
        match self.count {
            0 => Checksum::Missing { computed },
            _ if self.value != computed => Checksum::Mismatch {
                computed,
                received: self.value,
            },
            1 => Checksum::OneDigit,
            _ if self.lowercase => Checksum::Lowercase,
            _ => Checksum::Valid,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecodeState {
    /// Outside a frame.
    Idle,
    /// Just after a frame's checksum: an optional CR, then an optional LF.
    Trailer { seen_cr: bool },
    /// Inside a frame; the body (number byte and text) read so far is in `partial`.
    Body,
    /// After the terminator of a frame whose body is in `partial`; reading checksum digits.
    Checksum { kind: FrameKind, digits: Digits },
    /// Inside a frame that exceeded `max_text`: discarding until its terminator.
    Oversized { number_byte: u8 },
    /// After the terminator of a discarded frame: skipping up to `remaining` checksum digits.
    SkipChecksum { remaining: u8 },
}

/// Where the body of a completed frame lies.
#[derive(Debug, Clone, Copy)]
enum BodySource {
    /// `input[start..end]` of the current `decode` call.
    Input { start: usize, end: usize },
    /// The decoder's `partial` buffer.
    Partial,
}

/// An item found by a decoding step, not yet borrowed from anything.
#[derive(Debug)]
enum Ready {
    Frame {
        offset: u64,
        body: BodySource,
        kind: FrameKind,
        digits: Digits,
    },
    Control {
        control: Control,
        offset: u64,
    },
    Junk {
        start: usize,
        end: usize,
        offset: u64,
    },
    Error(Error),
}

impl Ready {
    /// Makes ranges relative to a step's slice relative to the whole input.
    fn shifted(self, base: usize) -> Ready {
        match self {
            Ready::Frame {
                offset,
                body: BodySource::Input { start, end },
                kind,
                digits,
            } => Ready::Frame {
                offset,
                body: BodySource::Input {
                    start: start.saturating_add(base),
                    end: end.saturating_add(base),
                },
                kind,
                digits,
            },
            Ready::Junk { start, end, offset } => Ready::Junk {
                start: start.saturating_add(base),
                end: end.saturating_add(base),
                offset,
            },
            other => other,
        }
    }
}

/// Whether `byte` ends a frame body: its terminator (ETX, ETB) or a character that cuts
/// the frame short (STX, ENQ, EOT, ACK, NAK). The latter are restricted in frame text
/// (E1381 §6.6), so a sender that meets them in a frame has given up on it (it sends EOT
/// after a reply timeout) or started anew; a receiver that kept reading would swallow the
/// peer's protocol characters. STX, ETX, EOT, ENQ and ACK are 0x02..=0x06; NAK (0x15) and
/// ETB (0x17) differ only in bit 1.
const fn ends_body(byte: u8) -> bool {
    // `|`, not `||`: no branch, so that a block of bytes is tested with vector code.
    (byte.wrapping_sub(STX) <= ACK - STX) | (byte | 0x02 == ETB)
}

/// Position of the first byte of `bytes` that [ends a frame body](ends_body).
///
/// One pass finds the terminator and any interrupting character together. Frame bodies
/// are short (240 bytes by default), so a plain loop over 16-byte blocks, which the
/// compiler turns into a few vector instructions per block, beats several calls of a
/// general byte search, each paying its set-up.
fn find_body_end(bytes: &[u8]) -> Option<usize> {
    let mut blocks = bytes.chunks_exact(16);
    let mut base = 0usize;
    for block in blocks.by_ref() {
        if let Ok(block) = <&[u8; 16]>::try_from(block) {
            // The whole block at once, without an exit per byte.
            let mut hit = 0u8;
            for &byte in block {
                hit |= u8::from(ends_body(byte));
            }
            if hit != 0 {
                return block
                    .iter()
                    .position(|&byte| ends_body(byte))
                    .map(|at| base.saturating_add(at));
            }
        }
        base = base.saturating_add(16);
    }
    blocks
        .remainder()
        .iter()
        .position(|&byte| ends_body(byte))
        .map(|at| base.saturating_add(at))
}

/// Position of the first character that cuts a frame short: STX, ENQ, EOT, ACK or NAK (see
/// [`ends_body`]).
fn find_interrupt(bytes: &[u8]) -> Option<usize> {
    let first = memchr::memchr3(STX, ENQ, EOT, bytes);
    let before = bytes.get(..first.unwrap_or(bytes.len())).unwrap_or(bytes);
    memchr::memchr2(ACK, NAK, before).or(first)
}

/// Whether `byte` ends a run of junk outside frames.
fn starts_item(byte: u8) -> bool {
    byte == STX || Control::from_byte(byte).is_some()
}

/// Streaming E1381 frame decoder: a push parser over chunks of a byte stream.
///
/// Feed it whatever the transport delivered, in any chunking; it returns one [`FrameItem`]
/// at a time with the number of input bytes consumed. A frame contained in one chunk is
/// returned without copying; only a frame split across chunks is collected in an internal
/// buffer, which never exceeds `max_text + 1` bytes. A frame is reported as soon as its
/// checksum is read, without waiting for the trailer, so a receiver can answer at once even
/// if the sender omits the trailer.
///
/// Decoding never fails: broken frames come out as [`FrameItem::Error`] and decoding resumes
/// at the next STX or control character.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    max_text: usize,
    state: DecodeState,
    /// Body of a frame that spans `decode` calls; at most `max_text + 1` bytes.
    partial: Vec<u8>,
    /// The last item returned borrowed `partial`: clear it on the next call.
    release_partial: bool,
    /// Stream offset of the next byte to be consumed.
    position: u64,
    /// Stream offset of the STX of the current or last frame.
    frame_start: u64,
}

impl FrameDecoder {
    /// A decoder accepting frame texts of up to `max_text` bytes (clamped to
    /// 1..=[`MAX_TEXT_LIMIT`]). Longer frames are discarded and reported as
    /// [`Error::FrameTooLong`].
    pub fn new(max_text: usize) -> Self {
        FrameDecoder {
            max_text: max_text.clamp(1, MAX_TEXT_LIMIT),
            state: DecodeState::Idle,
            partial: Vec::new(),
            release_partial: false,
            position: 0,
            frame_start: 0,
        }
    }

    /// The frame text limit in effect.
    pub fn max_text(&self) -> usize {
        self.max_text
    }

    /// Stream offset of the next byte to be consumed (the number of bytes consumed so far).
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Whether the decoder is in the middle of a frame (it has seen an STX but not yet the
    /// frame's checksum).
    pub fn in_frame(&self) -> bool {
        matches!(
            self.state,
            DecodeState::Body | DecodeState::Checksum { .. } | DecodeState::Oversized { .. }
        )
    }

    /// Drops any partial frame and returns to the idle state. The stream offset keeps
    /// counting.
    pub fn reset(&mut self) {
        self.state = DecodeState::Idle;
        self.partial.clear();
        self.release_partial = false;
    }

    /// Decodes the next item from `input`.
    ///
    /// Returns the number of bytes of `input` consumed and the item found, if any. `None`
    /// means all of `input` was consumed (and buffered where needed) without completing an
    /// item; call again with the next chunk. After `Some`, call again with the unconsumed
    /// rest of `input`.
    pub fn decode<'a>(&'a mut self, input: &'a [u8]) -> (usize, Option<FrameItem<'a>>) {
        self.release();
        let (consumed, ready) = self.next_ready(input);
        let item = ready.map(|ready| self.build(ready, input));
        (consumed, item)
    }

    /// Decodes all of `input`, calling `on_item` for every item found.
    pub fn decode_each(&mut self, input: &[u8], mut on_item: impl FnMut(FrameItem<'_>)) {
        // The same as calling `decode` until it returns `None`, but each item goes
        // straight to `on_item` instead of being returned (and copied) first.
        self.release();
        let mut rest = input;
        loop {
            let (used, ready) = self.next_ready(rest);
            let Some(ready) = ready else { break };
            on_item(self.build(ready, rest));
            self.release();
            rest = rest.get(used..).unwrap_or_default();
        }
    }

    /// Clears `partial` if the last item returned borrowed it.
    fn release(&mut self) {
        if self.release_partial {
            self.partial.clear();
            self.release_partial = false;
        }
    }

    /// Steps through `input` up to the next item. Returns the bytes consumed (all of
    /// `input` if no item was found) and the item, with ranges relative to `input`.
    #[inline]
    fn next_ready(&mut self, input: &[u8]) -> (usize, Option<Ready>) {
        let mut consumed = 0usize;
        let ready = loop {
            let rest = match input.get(consumed..) {
                Some(rest) if !rest.is_empty() => rest,
                _ => break None,
            };
            let at = self.position.saturating_add(consumed as u64);
            let (used, ready) = self.step(rest, at);
            let base = consumed;
            consumed = consumed.saturating_add(used);
            if let Some(ready) = ready {
                break Some(ready.shifted(base));
            }
        };
        self.position = self.position.saturating_add(consumed as u64);
        (consumed, ready)
    }

    /// `max_text` plus the frame number and the terminator: within this many bytes after
    /// STX the terminator must appear.
    fn body_window(&self) -> usize {
        self.max_text.saturating_add(2)
    }

    /// One step of the state machine on a non-empty `rest` whose first byte is at stream
    /// offset `at`. Returns bytes consumed and, possibly, an item with ranges relative to
    /// `rest`. Every step either consumes input, yields an item, or moves towards `Idle`
    /// (which always consumes), so `decode` terminates.
    fn step(&mut self, rest: &[u8], at: u64) -> (usize, Option<Ready>) {
        match self.state {
            DecodeState::Idle => self.step_idle(rest, at),
            DecodeState::Trailer { seen_cr } => {
                // CR LF in one step when both are there, as they usually are.
                let cr = !seen_cr && rest.first() == Some(&CR);
                let used = usize::from(cr);
                match rest.get(used) {
                    Some(&LF) => {
                        self.state = DecodeState::Idle;
                        (used + 1, None)
                    }
                    Some(_) => {
                        self.state = DecodeState::Idle;
                        (used, None)
                    }
                    None => {
                        self.state = DecodeState::Trailer { seen_cr: true };
                        (used, None)
                    }
                }
            }
            DecodeState::Body => self.step_body(rest, at),
            DecodeState::Checksum { kind, mut digits } => {
                let (used, complete) = digits.scan(rest);
                if complete {
                    self.state = DecodeState::Trailer { seen_cr: false };
                    let frame = Ready::Frame {
                        offset: self.frame_start,
                        body: BodySource::Partial,
                        kind,
                        digits,
                    };
                    (used, Some(frame))
                } else {
                    self.state = DecodeState::Checksum { kind, digits };
                    (used, None)
                }
            }
            DecodeState::Oversized { number_byte } => self.step_oversized(rest, at, number_byte),
            DecodeState::SkipChecksum { remaining } => {
                let digit = rest.first().is_some_and(|&b| hex_value(b).is_some());
                if remaining > 0 && digit {
                    self.state = DecodeState::SkipChecksum {
                        remaining: remaining - 1,
                    };
                    (1, None)
                } else {
                    self.state = DecodeState::Trailer { seen_cr: false };
                    (0, None)
                }
            }
        }
    }

    fn step_idle(&mut self, rest: &[u8], at: u64) -> (usize, Option<Ready>) {
        let Some(&first) = rest.first() else {
            return (0, None);
        };
        if first == STX {
            self.frame_start = at;
            return self.start_frame(rest, at);
        }
        if let Some(control) = Control::from_byte(first) {
            return (
                1,
                Some(Ready::Control {
                    control,
                    offset: at,
                }),
            );
        }
        let end = rest
            .iter()
            .position(|&b| starts_item(b))
            .unwrap_or(rest.len());
        (
            end,
            Some(Ready::Junk {
                start: 0,
                end,
                offset: at,
            }),
        )
    }

    /// `rest` starts with the frame's STX. The fast path: the whole frame is in `rest`.
    fn start_frame(&mut self, rest: &[u8], at: u64) -> (usize, Option<Ready>) {
        let body = rest.get(1..).unwrap_or_default();
        let limit = self.body_window();
        let window = body.get(..limit).unwrap_or(body);
        match find_body_end(window) {
            Some(t) => {
                let Some(kind) = window
                    .get(t)
                    .and_then(|&byte| FrameKind::from_terminator(byte))
                else {
                    return self.interrupted(rest, at, t.saturating_add(1));
                };
                let after_terminator = t.saturating_add(2); // STX + body + terminator
                if t == 0 {
                    return self.empty_frame(after_terminator);
                }
                let mut digits = Digits::default();
                let (used, complete) =
                    digits.scan(rest.get(after_terminator..).unwrap_or_default());
                if complete {
                    let mut end = after_terminator.saturating_add(used);
                    // The usual trailer, CR LF, is skipped at once (as the `Trailer`
                    // state would); anything else is left to that state.
                    if rest.get(end..end.saturating_add(2)) == Some(&[CR, LF]) {
                        end = end.saturating_add(2);
                        self.state = DecodeState::Idle;
                    } else {
                        self.state = DecodeState::Trailer { seen_cr: false };
                    }
                    let frame = Ready::Frame {
                        offset: self.frame_start,
                        body: BodySource::Input {
                            start: 1,
                            end: t.saturating_add(1),
                        },
                        kind,
                        digits,
                    };
                    (end, Some(frame))
                } else {
                    self.partial.clear();
                    self.partial
                        .extend_from_slice(window.get(..t).unwrap_or_default());
                    self.state = DecodeState::Checksum { kind, digits };
                    (rest.len(), None)
                }
            }
            None => {
                if window.len() >= limit {
                    self.state = DecodeState::Oversized {
                        number_byte: window.first().copied().unwrap_or_default(),
                    };
                    (window.len().saturating_add(1), None)
                } else {
                    self.partial.clear();
                    self.partial.extend_from_slice(window);
                    self.state = DecodeState::Body;
                    (rest.len(), None)
                }
            }
        }
    }

    /// Continues a frame whose body so far is in `partial`.
    fn step_body(&mut self, rest: &[u8], at: u64) -> (usize, Option<Ready>) {
        // `partial` holds at most `max_text + 1` bytes, so `limit` is at least 1.
        let limit = self.body_window().saturating_sub(self.partial.len());
        let window = rest.get(..limit).unwrap_or(rest);
        match find_body_end(window) {
            Some(t) => {
                let Some(kind) = window
                    .get(t)
                    .and_then(|&byte| FrameKind::from_terminator(byte))
                else {
                    return self.interrupted(rest, at, t);
                };
                let after_terminator = t.saturating_add(1);
                self.partial
                    .extend_from_slice(window.get(..t).unwrap_or_default());
                if self.partial.is_empty() {
                    return self.empty_frame(after_terminator);
                }
                let mut digits = Digits::default();
                let (used, complete) =
                    digits.scan(rest.get(after_terminator..).unwrap_or_default());
                if complete {
                    self.state = DecodeState::Trailer { seen_cr: false };
                    let frame = Ready::Frame {
                        offset: self.frame_start,
                        body: BodySource::Partial,
                        kind,
                        digits,
                    };
                    (after_terminator.saturating_add(used), Some(frame))
                } else {
                    self.state = DecodeState::Checksum { kind, digits };
                    (rest.len(), None)
                }
            }
            None => {
                if window.len() >= limit {
                    let number_byte = self
                        .partial
                        .first()
                        .or(window.first())
                        .copied()
                        .unwrap_or_default();
                    self.partial.clear();
                    self.state = DecodeState::Oversized { number_byte };
                    (window.len(), None)
                } else {
                    self.partial.extend_from_slice(window);
                    (rest.len(), None)
                }
            }
        }
    }

    /// Discards an oversized frame up to its terminator.
    fn step_oversized(&mut self, rest: &[u8], at: u64, number_byte: u8) -> (usize, Option<Ready>) {
        let terminator = memchr::memchr2(ETX, ETB, rest);
        let before = rest.get(..terminator.unwrap_or(rest.len())).unwrap_or(rest);
        if let Some(j) = find_interrupt(before) {
            return self.interrupted(rest, at, j);
        }
        match terminator {
            Some(t) => {
                self.state = DecodeState::SkipChecksum { remaining: 2 };
                let error = Error::FrameTooLong {
                    offset: self.frame_start,
                    number_byte,
                    limit: self.max_text,
                };
                (t.saturating_add(1), Some(Ready::Error(error)))
            }
            None => (rest.len(), None),
        }
    }

    /// The frame in progress is cut off by the control character at `rest[used]`, which is
    /// left unconsumed.
    fn interrupted(&mut self, rest: &[u8], at: u64, used: usize) -> (usize, Option<Ready>) {
        self.partial.clear();
        self.state = DecodeState::Idle;
        let error = Error::FrameInterrupted {
            offset: self.frame_start,
            at: at.saturating_add(used as u64),
            byte: rest.get(used).copied().unwrap_or_default(),
        };
        (used, Some(Ready::Error(error)))
    }

    /// `STX ETB|ETX`: report, then skip the checksum.
    fn empty_frame(&mut self, used: usize) -> (usize, Option<Ready>) {
        self.partial.clear();
        self.state = DecodeState::SkipChecksum { remaining: 2 };
        let error = Error::EmptyFrame {
            offset: self.frame_start,
        };
        (used, Some(Ready::Error(error)))
    }

    fn build<'a>(&'a mut self, ready: Ready, input: &'a [u8]) -> FrameItem<'a> {
        match ready {
            Ready::Control { control, offset } => FrameItem::Control { control, offset },
            Ready::Junk { start, end, offset } => FrameItem::Junk {
                bytes: input.get(start..end).unwrap_or_default(),
                offset,
            },
            Ready::Error(error) => FrameItem::Error(error),
            Ready::Frame {
                offset,
                body,
                kind,
                digits,
            } => {
                let body: &'a [u8] = match body {
                    BodySource::Input { start, end } => input.get(start..end).unwrap_or_default(),
                    BodySource::Partial => {
                        self.release_partial = true;
                        &self.partial
                    }
                };
                let Some((&number_byte, text)) = body.split_first() else {
                    return FrameItem::Error(Error::EmptyFrame { offset });
                };
                let computed = sum(body).wrapping_add(kind.terminator());
                FrameItem::Frame(Frame {
                    offset,
                    number_byte,
                    kind,
                    text,
                    checksum: digits.verdict(computed),
                })
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reassembly
// ---------------------------------------------------------------------------------------------

/// A message text put together from its frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassembled {
    /// The concatenated frame texts.
    pub text: Vec<u8>,
    /// How many frames contributed.
    pub frames: u32,
}

/// Concatenates frame texts into a message text, up to a size limit.
///
/// The reassembler only concatenates: ETB is not a record boundary (cobas c111 ends every
/// record with ETB, Roche "cobas type" and others put several records in one frame, Yumizen
/// splits a 26 KB record over many frames). Splitting the text into E1394 records is the
/// record layer's job. Frame numbers and checksums are the link's business, not checked here.
#[derive(Debug, Clone)]
pub struct Reassembler {
    text: Vec<u8>,
    frames: u32,
    max_message: usize,
}

impl Reassembler {
    /// A reassembler for messages of at most `max_message` bytes.
    pub fn new(max_message: usize) -> Self {
        Reassembler {
            text: Vec::new(),
            frames: 0,
            max_message,
        }
    }

    /// Appends a frame's text. Returns the complete message when `frame` is a last frame.
    ///
    /// If the message would exceed the limit, returns [`Error::MessageTooLarge`] and keeps
    /// the text gathered so far (see [`take_partial`](Self::take_partial)); the frame is not
    /// appended.
    pub fn push(&mut self, frame: &Frame<'_>) -> Result<Option<Reassembled>, Error> {
        let size = self.text.len().saturating_add(frame.text.len());
        if size > self.max_message {
            return Err(Error::MessageTooLarge {
                size,
                limit: self.max_message,
                offset: Some(frame.offset),
            });
        }
        if self.text.capacity() == 0 {
            // The first frame of a message: a message of one frame gets exactly its
            // text; a message of several room for a few frames at once rather than a
            // reallocation per frame while it is short (bounded by the frame actually
            // received and by the limit).
            let room = match frame.kind {
                FrameKind::Last => frame.text.len(),
                FrameKind::Intermediate => frame.text.len().saturating_mul(4).min(self.max_message),
            };
            self.text = Vec::with_capacity(room);
        }
        self.text.extend_from_slice(frame.text);
        self.frames = self.frames.saturating_add(1);
        match frame.kind {
            FrameKind::Intermediate => Ok(None),
            FrameKind::Last => Ok(Some(Reassembled {
                text: core::mem::take(&mut self.text),
                frames: core::mem::take(&mut self.frames),
            })),
        }
    }

    /// Whether no frame of an unfinished message is held.
    pub fn is_empty(&self) -> bool {
        self.frames == 0
    }

    /// Bytes of unfinished message held.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// The text of the unfinished message held.
    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// Frames of the unfinished message held.
    pub fn frames(&self) -> u32 {
        self.frames
    }

    /// The message size limit.
    pub fn max_message(&self) -> usize {
        self.max_message
    }

    /// Takes the unfinished message, if any frames of one are held, and starts over.
    pub fn take_partial(&mut self) -> Option<Reassembled> {
        if self.is_empty() {
            return None;
        }
        Some(Reassembled {
            text: core::mem::take(&mut self.text),
            frames: core::mem::take(&mut self.frames),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Sniffing
// ---------------------------------------------------------------------------------------------

/// Guesses from the first bytes of a connection whether it uses E1381 framing.
///
/// Leading CR and LF are skipped. Then:
/// * an E1381 control character (ENQ, STX, EOT, ACK, NAK) → `Some(true)`;
/// * `H` or `h` followed by an ASCII punctuation character (the field delimiter of an E1394
///   header record, `H|\^&`) → `Some(false)`: records are sent raw, without framing, as some
///   analysers do over TCP (InterSystems' `EOTOPTIONAL` mode, OpenELIS' "non-compliant" mode);
/// * anything else, or too few bytes to tell → `None`.
pub fn looks_framed(prefix: &[u8]) -> Option<bool> {
    let start = prefix.iter().position(|&b| b != CR && b != LF)?;
    match prefix.get(start..)? {
        [STX | ENQ | EOT | ACK | NAK, ..] => Some(true),
        [b'H' | b'h', delimiter, ..] if delimiter.is_ascii_punctuation() => Some(false),
        _ => None,
    }
}

// The tests live in `frame/tests.rs`; the explicit path resolves the same whether this file is
// compiled as `crate::frame` or included elsewhere with `#[path]`.
#[cfg(test)]
#[path = "frame/tests.rs"]
mod tests;
