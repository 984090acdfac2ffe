//! The crate's error type, HL7 locations and lenient-mode warnings.
//!
//! Every problem carries the byte offset where it was found (in the message, batch file or
//! MLLP stream) and, where it applies, a [`Location`] in HL7 terms such as `PID-3(2).4.1` or
//! `segment 5 (OBX)`. Errors stop the operation; [`Warning`]s record what lenient mode
//! tolerated so that a caller can log or count it.

use core::fmt;

use crate::message::Terminator;
use crate::path::PathError;

/// Shorthand for `Result<T, labwire_hl7::error::Error>`.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// The maximum number of bytes of a segment id kept in a [`SegmentId`].
const SEGMENT_ID_CAPACITY: usize = 8;

/// A segment id as found on the wire (`MSH`, `OBX`, `ZBR`, or anything a sender wrote).
///
/// Standard ids are three characters; longer ones (seen in broken feeds) are kept up to
/// eight bytes and shown with a trailing `…` when cut.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SegmentId {
    bytes: [u8; SEGMENT_ID_CAPACITY],
    len: u8,
    truncated: bool,
}

impl SegmentId {
    /// Builds an id from wire bytes, keeping at most eight of them.
    pub fn new(id: &[u8]) -> Self {
        let mut bytes = [0u8; SEGMENT_ID_CAPACITY];
        let kept = id.len().min(SEGMENT_ID_CAPACITY);
        for (slot, byte) in bytes.iter_mut().zip(id.iter()) {
            *slot = *byte;
        }
        Self {
            bytes,
            len: kept as u8,
            truncated: id.len() > SEGMENT_ID_CAPACITY,
        }
    }

    /// The kept bytes of the id.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// True when the id on the wire was longer than what is kept here.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}

impl fmt::Display for SegmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.as_bytes();
        let printable = |byte: &u8| byte.is_ascii_graphic() || *byte == b' ';
        // The usual case, `OBX`: one write instead of one per byte.
        if bytes.iter().all(printable)
            && let Ok(text) = core::str::from_utf8(bytes)
        {
            f.write_str(text)?;
            return if self.truncated {
                f.write_str("…")
            } else {
                Ok(())
            };
        }
        for &byte in bytes {
            if printable(&byte) {
                write!(f, "{}", char::from(byte))?;
            } else {
                write!(f, "\\x{byte:02X}")?;
            }
        }
        if self.truncated {
            f.write_str("…")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SegmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SegmentId({self})")
    }
}

/// Where in a message something is, in HL7 terms.
///
/// Field, repetition, component and subcomponent numbers are 1-based as in the standard.
/// Renders as `PID-3(2).4.1` when a field is known, else as `segment 5 (OBX)`
/// (segment numbers count from 1 in message order), else as `message`.
///
/// ```
/// use labwire_hl7::error::{Location, SegmentId};
/// let loc = Location::segment(2, SegmentId::new(b"PID"))
///     .with_field(3)
///     .with_repetition(2)
///     .with_component(4)
///     .with_subcomponent(1);
/// assert_eq!(loc.to_string(), "PID-3(2).4.1");
/// assert_eq!(Location::segment(5, SegmentId::new(b"OBX")).to_string(), "segment 5 (OBX)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct Location {
    /// 1-based position of the segment in the message.
    pub segment_number: Option<u32>,
    /// The id of that segment.
    pub segment_id: Option<SegmentId>,
    /// 1-based field number (HL7 numbering: `MSH-1` is the field separator).
    pub field: Option<u32>,
    /// 1-based repetition number.
    pub repetition: Option<u32>,
    /// 1-based component number.
    pub component: Option<u32>,
    /// 1-based subcomponent number.
    pub subcomponent: Option<u32>,
}

impl Location {
    /// A location naming only the whole message.
    pub fn message() -> Self {
        Self::default()
    }

    /// The segment at 1-based position `number` with the given id.
    pub fn segment(number: u32, id: SegmentId) -> Self {
        Self {
            segment_number: Some(number),
            segment_id: Some(id),
            ..Self::default()
        }
    }

    /// This location narrowed to field `field`.
    pub fn with_field(mut self, field: u32) -> Self {
        self.field = Some(field);
        self
    }

    /// This location narrowed to repetition `repetition`.
    pub fn with_repetition(mut self, repetition: u32) -> Self {
        self.repetition = Some(repetition);
        self
    }

    /// This location narrowed to component `component`.
    pub fn with_component(mut self, component: u32) -> Self {
        self.component = Some(component);
        self
    }

    /// This location narrowed to subcomponent `subcomponent`.
    pub fn with_subcomponent(mut self, subcomponent: u32) -> Self {
        self.subcomponent = Some(subcomponent);
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.field, self.segment_id, self.segment_number) {
            (Some(field), id, number) => {
                match (id, number) {
                    (Some(id), _) => write!(f, "{id}-{field}")?,
                    (None, Some(number)) => write!(f, "segment {number} field {field}")?,
                    (None, None) => write!(f, "field {field}")?,
                }
                if let Some(repetition) = self.repetition {
                    write!(f, "({repetition})")?;
                }
                if let Some(component) = self.component {
                    write!(f, ".{component}")?;
                }
                if let Some(subcomponent) = self.subcomponent {
                    write!(f, ".{subcomponent}")?;
                }
                Ok(())
            }
            (None, Some(id), Some(number)) => write!(f, "segment {number} ({id})"),
            (None, None, Some(number)) => write!(f, "segment {number}"),
            (None, Some(id), None) => write!(f, "segment {id}"),
            (None, None, None) => f.write_str("message"),
        }
    }
}

/// Which configured limit was exceeded (see [`ParseOptions`](crate::message::ParseOptions)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// Total message (or batch file) size in bytes.
    MessageSize,
    /// Number of segments in one message or file.
    Segments,
    /// Number of fields in one segment.
    FieldsPerSegment,
    /// Number of items the editor would have to create to reach a path.
    EditPadding,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MessageSize => "message size",
            Self::Segments => "segment count",
            Self::FieldsPerSegment => "fields per segment",
            Self::EditPadding => "items created by one edit",
        })
    }
}

/// What is wrong with the encoding characters in MSH-1/MSH-2 (or FHS/BHS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DelimiterProblem {
    /// The header ends before the field separator.
    MissingFieldSeparator,
    /// MSH-2 holds fewer than the four encoding characters (strict mode).
    TooFew {
        /// How many were found.
        found: u8,
    },
    /// MSH-2 holds more than five characters.
    TooMany,
    /// The same character is used for two delimiters.
    Repeated {
        /// The repeated byte.
        byte: u8,
    },
    /// A delimiter is a letter, digit, CR, LF or a non-ASCII byte.
    NotAllowed {
        /// The rejected byte.
        byte: u8,
    },
}

impl fmt::Display for DelimiterProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingFieldSeparator => f.write_str("no field separator after the segment id"),
            Self::TooFew { found } => write!(f, "{found} encoding characters, 4 required"),
            Self::TooMany => f.write_str("more than 5 encoding characters"),
            Self::Repeated { byte } => write!(f, "delimiter 0x{byte:02X} used twice"),
            Self::NotAllowed { byte } => {
                write!(
                    f,
                    "0x{byte:02X} cannot be a delimiter (alphanumeric, CR, LF or non-ASCII)"
                )
            }
        }
    }
}

/// What is wrong with an escape sequence (`\F\`, `\X41\` …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EscapeProblem {
    /// An escape character without a closing escape character.
    Unterminated,
    /// An escape sequence whose code is not defined by the standard.
    Unknown,
    /// `\X…\` with an odd number of digits or a non-hex digit.
    InvalidHex,
    /// The text needs escaping but the message defines no escape character.
    NoEscapeCharacter,
}

impl fmt::Display for EscapeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unterminated => "unterminated escape sequence",
            Self::Unknown => "unknown escape sequence",
            Self::InvalidHex => "malformed hexadecimal escape",
            Self::NoEscapeCharacter => {
                "text contains a delimiter but MSH-2 defines no escape character"
            }
        })
    }
}

/// What is wrong with text in its character set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CharsetProblem {
    /// A byte above 0x7F in a message declared (or defaulted) as ASCII.
    NonAscii,
    /// An invalid UTF-8 sequence in a message declared as UTF-8.
    InvalidUtf8,
    /// MSH-18 names a character set this crate does not decode.
    Unsupported,
    /// MSH-18 holds a value that is not a known character set name.
    Unknown,
    /// A character that the message's character set cannot represent (when writing).
    Unencodable {
        /// The character.
        character: char,
    },
}

impl fmt::Display for CharsetProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NonAscii => f.write_str("non-ASCII byte in an ASCII message"),
            Self::InvalidUtf8 => f.write_str("invalid UTF-8"),
            Self::Unsupported => f.write_str("unsupported character set in MSH-18"),
            Self::Unknown => f.write_str("unknown character set in MSH-18"),
            Self::Unencodable { character } => {
                write!(
                    f,
                    "{character:?} cannot be written in the message's character set"
                )
            }
        }
    }
}

/// What is wrong with a batch file's structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BatchProblem {
    /// The count in BTS-1 or FTS-1 differs from what the file holds.
    CountMismatch {
        /// The count written in the trailer.
        declared: u64,
        /// The count found.
        actual: u64,
    },
    /// BTS-1 or FTS-1 is not a number.
    InvalidCount,
    /// A header or trailer segment out of place (e.g. BTS without BHS, FHS after a batch).
    Misplaced,
}

impl fmt::Display for BatchProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CountMismatch { declared, actual } => {
                write!(f, "trailer count {declared}, found {actual}")
            }
            Self::InvalidCount => f.write_str("trailer count is not a number"),
            Self::Misplaced => f.write_str("header or trailer segment out of place"),
        }
    }
}

/// What went wrong in MLLP framing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MllpProblem {
    /// The frame payload exceeds the decoder's maximum; it is discarded and the decoder
    /// resynchronises at the next start byte (0x0B).
    FrameTooLarge {
        /// The configured maximum payload size.
        max: usize,
    },
    /// 0x1C was not followed by 0x0D (strict mode only).
    MissingCarriageReturn,
    /// A start byte 0x0B inside a frame (strict mode only); the partial frame is dropped.
    UnexpectedStartBlock,
    /// `push` was called while more than one frame of undecoded data was buffered; drain
    /// with `next_frame` first.
    BufferFull,
    /// The stream ended inside a frame.
    Truncated,
    /// A payload to encode contains 0x0B or 0x1C, which cannot be framed.
    PayloadContainsFramingByte {
        /// The offending byte.
        byte: u8,
    },
}

impl fmt::Display for MllpProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FrameTooLarge { max } => write!(f, "frame larger than {max} bytes"),
            Self::MissingCarriageReturn => f.write_str("end block 0x1C not followed by 0x0D"),
            Self::UnexpectedStartBlock => f.write_str("start block 0x0B inside a frame"),
            Self::BufferFull => f.write_str("decoder buffer full; call next_frame before push"),
            Self::Truncated => f.write_str("stream ended inside a frame"),
            Self::PayloadContainsFramingByte { byte } => {
                write!(f, "payload contains framing byte 0x{byte:02X}")
            }
        }
    }
}

/// Why an edit was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EditProblem {
    /// MSH-1/MSH-2 (and FHS/BHS-1/2) define the delimiters and cannot be edited.
    ReadOnly,
    /// Raw text contains a delimiter of the same or a higher level than its target
    /// (or a segment terminator).
    DelimiterInRawValue {
        /// The offending byte.
        byte: u8,
    },
    /// The path needs a delimiter that MSH-2 does not define.
    MissingDelimiter,
    /// A segment id that is not three ASCII letters or digits.
    InvalidSegmentId,
}

impl fmt::Display for EditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReadOnly => f.write_str("the encoding characters are read-only"),
            Self::DelimiterInRawValue { byte } => {
                write!(
                    f,
                    "raw value contains delimiter 0x{byte:02X} not allowed at this level"
                )
            }
            Self::MissingDelimiter => f.write_str("MSH-2 does not define the needed delimiter"),
            Self::InvalidSegmentId => f.write_str("segment id must be 3 ASCII letters or digits"),
        }
    }
}

/// Every error of this crate.
///
/// Offsets are byte offsets into the input given to the parser (for MLLP: into the whole
/// stream since the decoder was created).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input does not start with the expected header segment.
    #[error("not HL7 v2: expected {expected} at byte {offset}")]
    MissingHeader {
        /// Where the header was expected.
        offset: usize,
        /// What was expected (`"MSH"`, `"FHS, BHS or MSH"`).
        expected: &'static str,
    },
    /// The encoding characters are unusable.
    #[error("invalid encoding characters at byte {offset} ({location}): {problem}")]
    InvalidDelimiters {
        /// Offset of the offending byte.
        offset: usize,
        /// Usually `MSH-2`.
        location: Location,
        /// What is wrong.
        problem: DelimiterProblem,
    },
    /// A configured limit was exceeded.
    #[error("{limit} exceeds {max} at byte {offset} ({location})")]
    LimitExceeded {
        /// Where the limit was crossed.
        offset: usize,
        /// The element being counted.
        location: Location,
        /// Which limit.
        limit: Limit,
        /// The configured maximum.
        max: usize,
    },
    /// A segment terminator other than CR (strict mode; HL7 v2 ch. 2 "message delimiters"
    /// defines CR as the only segment terminator).
    #[error("segment terminator {found} at byte {offset} ({location}); HL7 requires CR")]
    NonStandardTerminator {
        /// Offset of the terminator.
        offset: usize,
        /// The segment it ends.
        location: Location,
        /// What was found.
        found: Terminator,
    },
    /// An empty line between segments (strict mode).
    #[error("empty segment at byte {offset} ({location})")]
    EmptySegment {
        /// Offset of the empty line.
        offset: usize,
        /// The segment before it.
        location: Location,
    },
    /// A segment id that is not three upper-case letters or digits (strict mode).
    #[error("invalid segment id at byte {offset} ({location})")]
    InvalidSegmentId {
        /// Offset of the segment.
        offset: usize,
        /// The segment.
        location: Location,
    },
    /// A malformed escape sequence (strict decoding), or text that cannot be escaped.
    #[error("{problem} at byte {offset} ({location})")]
    InvalidEscape {
        /// Offset of the escape character.
        offset: usize,
        /// The value holding it.
        location: Location,
        /// What is wrong.
        problem: EscapeProblem,
    },
    /// Text that does not fit its character set (strict decoding), an unsupported MSH-18
    /// (strict parsing) or a character that cannot be written.
    #[error("{problem} at byte {offset} ({location})")]
    Charset {
        /// Offset of the offending byte.
        offset: usize,
        /// The value holding it.
        location: Location,
        /// What is wrong.
        problem: CharsetProblem,
    },
    /// A malformed path such as `PID-3(x)`.
    #[error("malformed path: {0}")]
    Path(#[from] PathError),
    /// A batch file whose structure or counts are wrong (strict mode for counts).
    #[error("batch: {problem} at byte {offset} ({location})")]
    Batch {
        /// Offset of the segment concerned.
        offset: usize,
        /// The segment concerned.
        location: Location,
        /// What is wrong.
        problem: BatchProblem,
    },
    /// An MLLP framing problem.
    #[error("MLLP: {problem} at stream byte {offset}")]
    Mllp {
        /// Offset in the stream (or payload, when encoding).
        offset: usize,
        /// What is wrong.
        problem: MllpProblem,
    },
    /// An edit the editor refuses.
    #[error("cannot edit {location}: {problem}")]
    Edit {
        /// The target of the edit.
        location: Location,
        /// Why.
        problem: EditProblem,
    },
}

impl Error {
    /// The byte offset the error refers to, when it has one.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Self::MissingHeader { offset, .. }
            | Self::InvalidDelimiters { offset, .. }
            | Self::LimitExceeded { offset, .. }
            | Self::NonStandardTerminator { offset, .. }
            | Self::EmptySegment { offset, .. }
            | Self::InvalidSegmentId { offset, .. }
            | Self::InvalidEscape { offset, .. }
            | Self::Charset { offset, .. }
            | Self::Batch { offset, .. }
            | Self::Mllp { offset, .. } => Some(*offset),
            Self::Path(error) => Some(error.offset()),
            Self::Edit { .. } => None,
        }
    }

    /// The HL7 location the error refers to, when it has one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Self::InvalidDelimiters { location, .. }
            | Self::LimitExceeded { location, .. }
            | Self::NonStandardTerminator { location, .. }
            | Self::EmptySegment { location, .. }
            | Self::InvalidSegmentId { location, .. }
            | Self::InvalidEscape { location, .. }
            | Self::Charset { location, .. }
            | Self::Batch { location, .. }
            | Self::Edit { location, .. } => Some(location),
            Self::MissingHeader { .. } | Self::Path(_) | Self::Mllp { .. } => None,
        }
    }
}

/// What lenient mode tolerated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// Bytes before `MSH` (a UTF-8 byte order mark, whitespace) were skipped.
    LeadingBytesSkipped {
        /// How many bytes.
        count: usize,
    },
    /// Segments end with LF or CRLF instead of CR (reported once per message).
    NonStandardTerminator(Terminator),
    /// Some segments end differently from the first one (e.g. CRLF in a CR message).
    InconsistentTerminators,
    /// An empty line between segments was skipped.
    EmptySegment,
    /// A segment id that is not three upper-case letters or digits.
    UnusualSegmentId,
    /// A second `MSH` inside one message (several messages in one input: use
    /// [`batch`](crate::batch)).
    AnotherMessageHeader,
    /// MSH-2 holds fewer than four encoding characters; the missing ones are unused.
    MissingEncodingCharacters {
        /// How many were found.
        found: u8,
    },
    /// An escape sequence was kept verbatim.
    Escape(EscapeProblem),
    /// Text did not fit its declared character set and was decoded another way.
    Charset(CharsetProblem),
    /// BTS-1/FTS-1 disagrees with the file, or the batch structure was repaired.
    Batch(BatchProblem),
    /// MLLP: bytes outside frames were skipped.
    MllpJunk {
        /// How many bytes.
        count: usize,
    },
    /// MLLP: a frame ended with 0x1C without the following 0x0D.
    MllpMissingCarriageReturn,
    /// MLLP: a frame was abandoned because a new start byte arrived before its end.
    MllpFrameAbandoned,
    /// More warnings were produced than `max_warnings`; the rest were dropped.
    TooManyWarnings,
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LeadingBytesSkipped { count } => {
                write!(f, "skipped {count} bytes before the header")
            }
            Self::NonStandardTerminator(found) => write!(f, "segments end with {found}, not CR"),
            Self::InconsistentTerminators => f.write_str("segments end with different terminators"),
            Self::EmptySegment => f.write_str("empty segment skipped"),
            Self::UnusualSegmentId => {
                f.write_str("segment id is not 3 upper-case letters or digits")
            }
            Self::AnotherMessageHeader => f.write_str("another MSH segment inside the message"),
            Self::MissingEncodingCharacters { found } => {
                write!(f, "only {found} encoding characters in MSH-2")
            }
            Self::Escape(problem) => write!(f, "{problem}, kept verbatim"),
            Self::Charset(problem) => write!(f, "{problem}"),
            Self::Batch(problem) => write!(f, "{problem}"),
            Self::MllpJunk { count } => write!(f, "skipped {count} bytes outside MLLP frames"),
            Self::MllpMissingCarriageReturn => {
                f.write_str("MLLP end block without carriage return")
            }
            Self::MllpFrameAbandoned => f.write_str("MLLP frame abandoned at a new start block"),
            Self::TooManyWarnings => f.write_str("further warnings dropped"),
        }
    }
}

/// Something lenient mode tolerated, with where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Warning {
    /// What was tolerated.
    pub kind: WarningKind,
    /// Byte offset in the input (or stream).
    pub offset: usize,
    /// The HL7 location, when known.
    pub location: Option<Location>,
}

impl Warning {
    /// A warning of `kind` at `offset`.
    pub fn new(kind: WarningKind, offset: usize, location: Option<Location>) -> Self {
        Self {
            kind,
            offset,
            location,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)?;
        if let Some(location) = &self.location {
            write!(f, " ({location})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_renders_field_paths_and_segments() {
        let pid = SegmentId::new(b"PID");
        assert_eq!(Location::segment(2, pid).with_field(3).to_string(), "PID-3");
        assert_eq!(
            Location::segment(2, pid)
                .with_field(3)
                .with_repetition(2)
                .with_component(4)
                .to_string(),
            "PID-3(2).4"
        );
        assert_eq!(
            Location::segment(5, SegmentId::new(b"OBX")).to_string(),
            "segment 5 (OBX)"
        );
        assert_eq!(Location::message().to_string(), "message");
    }

    #[test]
    fn segment_id_keeps_eight_bytes_and_marks_truncation() {
        let id = SegmentId::new(b"emphis_Hosp^PI");
        assert_eq!(id.as_bytes(), b"emphis_H");
        assert!(id.is_truncated());
        assert_eq!(id.to_string(), "emphis_H…");
        assert_eq!(SegmentId::new(b"\x01AB").to_string(), "\\x01AB");
    }

    #[test]
    fn error_display_names_offset_and_location() {
        let error = Error::EmptySegment {
            offset: 17,
            location: Location::segment(1, SegmentId::new(b"MSH")),
        };
        assert_eq!(
            error.to_string(),
            "empty segment at byte 17 (segment 1 (MSH))"
        );
        assert_eq!(error.offset(), Some(17));
    }
}
