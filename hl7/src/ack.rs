//! Acknowledgments (ACK): MSH, MSA and ERR built for a received message, or for bytes
//! that could not be parsed.
//!
//! ```
//! use labwire_hl7::ack::{Ack, AcknowledgmentCode, ErrorCode, ErrorDetail, ErrorLocation, Severity};
//! use labwire_hl7::{Message, ParseOptions};
//!
//! let received = Message::parse(
//!     b"MSH|^~\\&|AN-1|LAB|LIS|HOSP|20240301101502||OUL^R22^OUL_R22|MSG7|P|2.5.1||||||UNICODE UTF-8\r",
//!     &ParseOptions::default(),
//! )?;
//! let ack = Ack::new(AcknowledgmentCode::ApplicationError, "A-7", "20240301101503")
//!     .with_error(
//!         ErrorDetail::new(ErrorCode::REQUIRED_FIELD_MISSING, Severity::Error)
//!             .at(ErrorLocation::field("OBX", 2, 11))
//!             .with_message("OBX-11 is empty"),
//!     );
//! let bytes = ack.for_message(&received)?;
//! assert_eq!(
//!     bytes,
//!     b"MSH|^~\\&|LIS|HOSP|AN-1|LAB|20240301101503||ACK^R22^ACK|A-7|P|2.5.1||||||UNICODE UTF-8\r\
//!       MSA|AE|MSG7\r\
//!       ERR||OBX^2^11|101^Required field missing^HL70357|E||||OBX-11 is empty\r"
//! );
//! # Ok::<(), labwire_hl7::Error>(())
//! ```
//!
//! # What is written
//!
//! - **MSH** (v2 ch. 2, "acknowledgment messages"): the original's delimiters (MSH-1,
//!   MSH-2, including a v2.7 truncation character); MSH-3/4 and MSH-5/6 swapped (the
//!   receiver answers the sender); MSH-7 and MSH-10 from the caller (no clock here);
//!   MSH-9 `ACK^<trigger>^ACK` (the third component, the message structure, exists
//!   from v2.3.1; older versions get `ACK^<trigger>`); MSH-11, MSH-12 and MSH-18 copied,
//!   so the reply is in the sender's version and character set. Copies are byte for
//!   byte (escapes included), so nothing is re-encoded.
//! - **MSA**: MSA-1 the code ([`AcknowledgmentCode`]: `AA`/`AE`/`AR` in original mode
//!   and for application acks, `CA`/`CE`/`CR` for enhanced-mode commit acks), MSA-2 the
//!   original MSH-10 byte for byte. For v2.4 and earlier MSA-3 also holds the first
//!   error's message, where those versions' receivers look for it.
//! - **ERR**, one per [`ErrorDetail`]: ERR-2 the location (ERL:
//!   `segment^sequence^field^repetition^component^subcomponent`, where the sequence is
//!   the segment's occurrence among those with its id), ERR-3 the table 0357 code as
//!   `code^text^HL70357`, ERR-4 the severity (table 0516), ERR-8 the user message,
//!   escaped and encoded in the original's character set (characters it cannot hold
//!   become `?`). For v2.4 and earlier, ERR-1 is written too, in the older ELD form
//!   `segment^sequence^field^code&text&HL70357`, which is all those versions define;
//!   ERR-2 to ERR-8 are still written, since receivers ignore fields their version
//!   does not define (v2 ch. 2, message construction rules).
//! - Segments end with CR, whatever the original used.
//!
//! An original whose MSH-2 lacks one of the four encoding characters is answered with
//! the standard `^~\&`, since an ERR message may need every one of them.
//!
//! # When the original cannot be parsed
//!
//! [`Ack::for_parse_error`] answers with a reject (`AR`, or `CR` when the ack was asked
//! with a commit code) and an ERR for the error. If the MSH line itself parses, its
//! fields are used as above and MSA-2 echoes its MSH-10; otherwise the ACK is minimal:
//! standard delimiters, MSH-9 `ACK`, MSH-11 and MSH-12 from [`Ack::with_fallback`]
//! (`P`, `2.5.1` by default), MSH-3 to MSH-6 empty and MSA-2 empty, since there is
//! nothing to echo.

use core::fmt;
use std::borrow::Cow;

use labwire_model::LabTimestamp;

use crate::charset::{self, Charset};
use crate::encoding::Delimiters;
use crate::error::{Error, Location, Result};
use crate::message::{Field, Message, ParseOptions, Segment, Terminator};
use crate::model::{MapError, MapLocation, MapWarning, MapWarningKind, ValueProblem};
use crate::write::OwnedMessage;

/// MSA-1, the acknowledgment code (HL7 table 0008).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AcknowledgmentCode {
    /// `AA`: application accept (original mode, or enhanced-mode application ack).
    ApplicationAccept,
    /// `AE`: application error.
    ApplicationError,
    /// `AR`: application reject.
    ApplicationReject,
    /// `CA`: commit accept (enhanced-mode accept ack).
    CommitAccept,
    /// `CE`: commit error.
    CommitError,
    /// `CR`: commit reject.
    CommitReject,
    /// A code table 0008 does not list, kept as given.
    Other(String),
}

impl AcknowledgmentCode {
    /// The wire code.
    pub fn code(&self) -> &str {
        match self {
            Self::ApplicationAccept => "AA",
            Self::ApplicationError => "AE",
            Self::ApplicationReject => "AR",
            Self::CommitAccept => "CA",
            Self::CommitError => "CE",
            Self::CommitReject => "CR",
            Self::Other(code) => code,
        }
    }

    /// Reads a wire code; unlisted codes are kept in `Other`.
    pub fn from_code(code: &str) -> Self {
        match code {
            "AA" => Self::ApplicationAccept,
            "AE" => Self::ApplicationError,
            "AR" => Self::ApplicationReject,
            "CA" => Self::CommitAccept,
            "CE" => Self::CommitError,
            "CR" => Self::CommitReject,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The accept code for a mode: `AA` in original mode, `CA` (commit) in enhanced.
    pub fn accept(mode: AckMode) -> Self {
        match mode {
            AckMode::Original => Self::ApplicationAccept,
            AckMode::Enhanced => Self::CommitAccept,
        }
    }

    /// Whether this is a commit (accept) acknowledgment code.
    pub fn is_commit(&self) -> bool {
        matches!(
            self,
            Self::CommitAccept | Self::CommitError | Self::CommitReject
        )
    }

    /// The reject code of the same family: `CR` for commit codes, else `AR`.
    pub fn rejecting(&self) -> Self {
        if self.is_commit() {
            Self::CommitReject
        } else {
            Self::ApplicationReject
        }
    }
}

impl fmt::Display for AcknowledgmentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// How a message asks to be acknowledged (v2 ch. 2.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AckMode {
    /// MSH-15 and MSH-16 both empty: one application ack, `AA`/`AE`/`AR`.
    Original,
    /// MSH-15 (accept ack type) or MSH-16 (application ack type, table 0155) valued:
    /// commit acks `CA`/`CE`/`CR` as MSH-15 asks, application acks as MSH-16 asks.
    Enhanced,
}

impl AckMode {
    /// The mode a message asks for.
    pub fn of(message: &Message<'_>) -> Self {
        match message.msh() {
            Some(msh) if !msh.field(15).is_empty() || !msh.field(16).is_empty() => Self::Enhanced,
            _ => Self::Original,
        }
    }
}

/// ERR-3, the HL7 error code (table 0357), as an open number: codes the table does
/// not list (and the site-specific range) are kept as given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(u16);

impl ErrorCode {
    /// 0: message accepted.
    pub const MESSAGE_ACCEPTED: Self = Self(0);
    /// 100: segment sequence error.
    pub const SEGMENT_SEQUENCE_ERROR: Self = Self(100);
    /// 101: required field missing.
    pub const REQUIRED_FIELD_MISSING: Self = Self(101);
    /// 102: data type error.
    pub const DATA_TYPE_ERROR: Self = Self(102);
    /// 103: table value not found.
    pub const TABLE_VALUE_NOT_FOUND: Self = Self(103);
    /// 200: unsupported message type.
    pub const UNSUPPORTED_MESSAGE_TYPE: Self = Self(200);
    /// 201: unsupported event code.
    pub const UNSUPPORTED_EVENT_CODE: Self = Self(201);
    /// 202: unsupported processing id.
    pub const UNSUPPORTED_PROCESSING_ID: Self = Self(202);
    /// 203: unsupported version id.
    pub const UNSUPPORTED_VERSION_ID: Self = Self(203);
    /// 204: unknown key identifier.
    pub const UNKNOWN_KEY_IDENTIFIER: Self = Self(204);
    /// 205: duplicate key identifier.
    pub const DUPLICATE_KEY_IDENTIFIER: Self = Self(205);
    /// 206: application record locked.
    pub const APPLICATION_RECORD_LOCKED: Self = Self(206);
    /// 207: application internal error.
    pub const APPLICATION_INTERNAL_ERROR: Self = Self(207);

    /// A code by number.
    pub const fn new(code: u16) -> Self {
        Self(code)
    }

    /// The number.
    pub const fn code(self) -> u16 {
        self.0
    }

    /// Reads the number of ERR-3.1.
    pub fn from_code(code: &str) -> Option<Self> {
        code.trim().parse().ok().map(Self)
    }

    /// The table's text for a listed code (v2.5.1 table 0357).
    pub fn meaning(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "Message accepted",
            100 => "Segment sequence error",
            101 => "Required field missing",
            102 => "Data type error",
            103 => "Table value not found",
            200 => "Unsupported message type",
            201 => "Unsupported event code",
            202 => "Unsupported processing id",
            203 => "Unsupported version id",
            204 => "Unknown key identifier",
            205 => "Duplicate key identifier",
            206 => "Application record locked",
            207 => "Application internal error",
            _ => return None,
        })
    }

    /// The code for a syntax-layer error:
    ///
    /// | error | code |
    /// |---|---|
    /// | no MSH at the start, bad terminators, empty segments, bad segment ids, batch structure | 100 segment sequence error |
    /// | bad MSH-1/MSH-2, malformed escapes, text outside the charset | 102 data type error |
    /// | a configured limit, and anything else | 207 application internal error |
    pub fn for_error(error: &Error) -> Self {
        match error {
            Error::MissingHeader { .. }
            | Error::NonStandardTerminator { .. }
            | Error::EmptySegment { .. }
            | Error::InvalidSegmentId { .. }
            | Error::Batch { .. } => Self::SEGMENT_SEQUENCE_ERROR,
            Error::InvalidDelimiters { .. }
            | Error::InvalidEscape { .. }
            | Error::Charset { .. } => Self::DATA_TYPE_ERROR,
            Error::LimitExceeded { .. }
            | Error::Path(_)
            | Error::Mllp { .. }
            | Error::Edit { .. } => Self::APPLICATION_INTERNAL_ERROR,
        }
    }

    /// The code for a mapping error: 200 and 201 for unsupported message types and
    /// triggers, the syntax error's code, else 207.
    pub fn for_map_error(error: &MapError) -> Self {
        match error {
            MapError::UnsupportedMessageType { .. } => Self::UNSUPPORTED_MESSAGE_TYPE,
            MapError::UnsupportedTrigger { .. } => Self::UNSUPPORTED_EVENT_CODE,
            MapError::Hl7(error) => Self::for_error(error),
            _ => Self::APPLICATION_INTERNAL_ERROR,
        }
    }

    /// The code for a mapping warning: 102 for values read another way, 103 for a
    /// LOINC code that is none, 101 for an empty OBX-11, 100 for segments out of
    /// place, 207 for data the model has no room for.
    pub fn for_warning(kind: &MapWarningKind) -> Self {
        match kind {
            MapWarningKind::ValueKeptAsText(ValueProblem::UnsupportedValueType) => {
                Self::APPLICATION_INTERNAL_ERROR
            }
            MapWarningKind::ValueKeptAsText(_)
            | MapWarningKind::ValueTypeInferred
            | MapWarningKind::InvalidTimestamp
            | MapWarningKind::InvalidNumber
            | MapWarningKind::MessageTypeRepaired
            | MapWarningKind::Decoding(_) => Self::DATA_TYPE_ERROR,
            MapWarningKind::InvalidLoinc => Self::TABLE_VALUE_NOT_FOUND,
            MapWarningKind::MissingStatus => Self::REQUIRED_FIELD_MISSING,
            MapWarningKind::ObservationOutsideGroup
            | MapWarningKind::ContainerNotMapped
            | MapWarningKind::SubstanceWithoutResult => Self::SEGMENT_SEQUENCE_ERROR,
            _ => Self::APPLICATION_INTERNAL_ERROR,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// ERR-4, the severity (HL7 table 0516).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Severity {
    /// `E`: error; the message (or part of it) was not processed.
    Error,
    /// `W`: warning; processed, with a problem worth knowing.
    Warning,
    /// `I`: information.
    Information,
    /// `F`: fatal error (v2.8.2).
    Fatal,
    /// A code the table does not list, kept as given.
    Other(String),
}

impl Severity {
    /// The wire code.
    pub fn code(&self) -> &str {
        match self {
            Self::Error => "E",
            Self::Warning => "W",
            Self::Information => "I",
            Self::Fatal => "F",
            Self::Other(code) => code,
        }
    }

    /// Reads a wire code; unlisted codes are kept in `Other`.
    pub fn from_code(code: &str) -> Self {
        match code {
            "E" => Self::Error,
            "W" => Self::Warning,
            "I" => Self::Information,
            "F" => Self::Fatal,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// ERR-2, where an error is (ERL): segment id, its occurrence, then field,
/// repetition, component and subcomponent, all 1-based.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct ErrorLocation {
    /// ERL.1, the segment id.
    pub segment: String,
    /// ERL.2, which segment with that id (1 for the first).
    pub sequence: Option<u32>,
    /// ERL.3, the field position.
    pub field: Option<u32>,
    /// ERL.4, the field repetition.
    pub repetition: Option<u32>,
    /// ERL.5, the component.
    pub component: Option<u32>,
    /// ERL.6, the subcomponent.
    pub subcomponent: Option<u32>,
}

impl ErrorLocation {
    /// The `sequence`-th segment `segment`.
    pub fn segment(segment: impl Into<String>, sequence: u32) -> Self {
        Self {
            segment: segment.into(),
            sequence: Some(sequence),
            ..Self::default()
        }
    }

    /// A field of the `sequence`-th segment `segment`.
    pub fn field(segment: impl Into<String>, sequence: u32, field: u32) -> Self {
        Self {
            field: Some(field),
            ..Self::segment(segment, sequence)
        }
    }

    /// A syntax-layer location, whose segment number counts all segments: `occurrence`
    /// is that segment's position among those with its id, when known.
    pub fn from_location(location: &Location, occurrence: Option<u32>) -> Self {
        Self {
            segment: location
                .segment_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            sequence: occurrence,
            field: location.field,
            repetition: location.repetition,
            component: location.component,
            subcomponent: location.subcomponent,
        }
    }

    /// A mapping warning's location (which already counts occurrences).
    pub fn from_map_location(location: &MapLocation) -> Self {
        Self {
            segment: location.segment.to_string(),
            sequence: Some(location.occurrence),
            field: location.field,
            repetition: location.repetition,
            component: location.component,
            subcomponent: location.subcomponent,
        }
    }
}

/// One ERR segment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ErrorDetail {
    /// ERR-3, the HL7 error code.
    pub code: ErrorCode,
    /// ERR-4, the severity.
    pub severity: Severity,
    /// ERR-2, where.
    pub location: Option<ErrorLocation>,
    /// ERR-8, the message for a user.
    pub message: Option<String>,
}

impl ErrorDetail {
    /// An error with a code and severity, nowhere in particular.
    pub fn new(code: ErrorCode, severity: Severity) -> Self {
        Self {
            code,
            severity,
            location: None,
            message: None,
        }
    }

    /// Sets ERR-2.
    pub fn at(mut self, location: ErrorLocation) -> Self {
        self.location = Some(location);
        self
    }

    /// Sets ERR-8.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// An error for a syntax-layer error met while parsing `input`: its code
    /// ([`ErrorCode::for_error`]), location (occurrence counted in `input`) and text.
    /// The error's text names offsets and locations, never the message's values.
    pub fn for_error(error: &Error, input: &[u8]) -> Self {
        let location = error.location().map(|location| {
            let occurrence = location
                .segment_number
                .and_then(|number| occurrence_in(input, number));
            ErrorLocation::from_location(location, occurrence)
        });
        Self {
            code: ErrorCode::for_error(error),
            severity: Severity::Error,
            location,
            message: Some(error.to_string()),
        }
    }

    /// An error for a mapping error of `message`.
    pub fn for_map_error(error: &MapError, message: &Message<'_>) -> Self {
        if let MapError::Hl7(error) = error {
            return Self::for_error(error, message.as_bytes());
        }
        let location = match error {
            MapError::UnsupportedMessageType { .. } | MapError::UnsupportedTrigger { .. } => {
                Some(ErrorLocation::field("MSH", 1, 9))
            }
            MapError::LimitExceeded { location, .. } => {
                Some(ErrorLocation::from_map_location(location))
            }
            _ => None,
        };
        Self {
            code: ErrorCode::for_map_error(error),
            severity: Severity::Error,
            location,
            message: Some(error.to_string()),
        }
    }

    /// A warning (`W`) for a mapping warning.
    pub fn for_warning(warning: &MapWarning) -> Self {
        Self {
            code: ErrorCode::for_warning(&warning.kind),
            severity: Severity::Warning,
            location: Some(ErrorLocation::from_map_location(&warning.location)),
            message: Some(warning.kind.to_string()),
        }
    }
}

/// MSH-7 of an ACK: a timestamp, or text written as given (escaped).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AckTime {
    /// Written in the HL7 DTM form with its precision.
    Timestamp(LabTimestamp),
    /// Written as given.
    Text(String),
}

impl From<LabTimestamp> for AckTime {
    fn from(timestamp: LabTimestamp) -> Self {
        Self::Timestamp(timestamp)
    }
}

impl From<&str> for AckTime {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for AckTime {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

/// An acknowledgment to build: code, control id, time and errors. See the
/// [module documentation](self) for what each method writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    code: AcknowledgmentCode,
    control_id: String,
    time: AckTime,
    errors: Vec<ErrorDetail>,
    fallback_processing_id: String,
    fallback_version: String,
}

/// A version as numbers (`2.3.1` → `[2, 3, 1]`; `V2.5` is read too).
fn version_numbers(raw: &[u8]) -> Option<[u32; 3]> {
    let text = core::str::from_utf8(raw).ok()?.trim();
    let text = text.strip_prefix(['V', 'v']).unwrap_or(text);
    let mut numbers = [0u32; 3];
    let mut parts = text.split('.');
    for slot in &mut numbers {
        match parts.next() {
            Some(part) => *slot = part.trim().parse().ok()?,
            None => break,
        }
    }
    Some(numbers)
}

/// Where the header segment starts: after a UTF-8 byte order mark and whitespace, as
/// lenient parsing skips them; `None` when the input does not start with `MSH` there.
fn header_start(input: &[u8]) -> Option<usize> {
    let bom = if input.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let rest = input.get(bom..)?;
    let skipped = rest
        .iter()
        .position(|&b| !(b.is_ascii_whitespace() || b == 0))
        .unwrap_or(rest.len());
    let start = bom.checked_add(skipped)?;
    input.get(start..)?.starts_with(b"MSH").then_some(start)
}

/// Occurrence of segment number `number` (1-based, as the parser counts) among the
/// segments of `input` with the same id. Best effort for input that did not parse:
/// lines are split on CR and LF, blank lines skipped, as lenient parsing does.
fn occurrence_in(input: &[u8], number: u32) -> Option<u32> {
    let body = input.get(header_start(input).unwrap_or(0)..)?;
    let separator = body.get(3).copied().unwrap_or(b'|');
    let id = |line: &[u8]| -> Vec<u8> {
        line.split(|&b| b == separator)
            .next()
            .unwrap_or_default()
            .to_vec()
    };
    let wanted = usize::try_from(number).ok()?;
    let lines: Vec<&[u8]> = body
        .split(|&b| b == b'\r' || b == b'\n')
        .filter(|line| !line.iter().all(|b| b.is_ascii_whitespace() || *b == 0))
        .take(wanted)
        .collect();
    let target = id(lines.get(wanted.checked_sub(1)?)?);
    let count = lines.iter().filter(|line| id(line) == target).count();
    u32::try_from(count).ok()
}

/// Text with the characters `charset` cannot hold replaced by `?`.
fn encodable(text: &str, charset: Charset) -> Cow<'_, str> {
    if charset::encode(text, charset).is_ok() {
        return Cow::Borrowed(text);
    }
    let mut buffer = [0u8; 4];
    Cow::Owned(
        text.chars()
            .map(|c| {
                if charset::encode(c.encode_utf8(&mut buffer), charset).is_ok() {
                    c
                } else {
                    '?'
                }
            })
            .collect(),
    )
}

/// The ACK being written, with how to copy the original's fields into it.
struct Reply {
    message: OwnedMessage,
    /// Whether the reply uses the original's delimiters (raw copies are safe).
    same_delimiters: bool,
}

impl Reply {
    fn set(&mut self, path: &str, text: &str) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        let text = encodable(text, self.message.charset());
        self.message.set(path, &text)
    }

    /// Copies a field of the original: byte for byte when the delimiters are the
    /// same and the bytes are allowed there, else as decoded text.
    fn copy(&mut self, path: &str, field: Field<'_>) -> Result<()> {
        if field.is_empty() {
            return Ok(());
        }
        if self.same_delimiters && self.message.set_raw(path, field.raw()).is_ok() {
            return Ok(());
        }
        let text = match field.decoded() {
            Ok(text) => text,
            Err(_) => String::from_utf8_lossy(field.raw()),
        };
        self.set(path, &text)
    }
}

impl Ack {
    /// An acknowledgment with MSA-1 `code`, MSH-10 `control_id` and MSH-7 `time`.
    pub fn new(
        code: AcknowledgmentCode,
        control_id: impl Into<String>,
        time: impl Into<AckTime>,
    ) -> Self {
        Self {
            code,
            control_id: control_id.into(),
            time: time.into(),
            errors: Vec::new(),
            fallback_processing_id: "P".to_owned(),
            fallback_version: "2.5.1".to_owned(),
        }
    }

    /// Adds an ERR segment.
    pub fn with_error(mut self, detail: ErrorDetail) -> Self {
        self.errors.push(detail);
        self
    }

    /// MSH-11 and MSH-12 of a minimal ACK, whose original has no readable MSH
    /// (default `P` and `2.5.1`).
    pub fn with_fallback(
        mut self,
        processing_id: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        self.fallback_processing_id = processing_id.into();
        self.fallback_version = version.into();
        self
    }

    /// The ACK for a parsed message, CR-terminated.
    ///
    /// # Errors
    /// The syntax layer's [`Error`] if a value cannot be written; with the delimiters
    /// and texts an ACK holds (unencodable characters are replaced), this does not
    /// happen in practice.
    pub fn for_message(&self, original: &Message<'_>) -> Result<Vec<u8>> {
        self.build(
            original.msh(),
            *original.delimiters(),
            &self.code,
            &self.errors,
        )
    }

    /// The ACK for bytes that did not parse (see the [module documentation](self)):
    /// a reject with an ERR for `error` before the caller's errors.
    ///
    /// # Errors
    /// As [`Ack::for_message`].
    pub fn for_parse_error(&self, input: &[u8], error: &Error) -> Result<Vec<u8>> {
        let mut errors = vec![ErrorDetail::for_error(error, input)];
        errors.extend(self.errors.iter().cloned());
        let code = self.code.rejecting();
        // The MSH line alone, parsed leniently: enough to answer in kind.
        let Some(start) = header_start(input) else {
            return self.build(None, Delimiters::default(), &code, &errors);
        };
        let line = input.get(start..).unwrap_or_default();
        let end = line
            .iter()
            .position(|&b| b == b'\r' || b == b'\n')
            .unwrap_or(line.len());
        let header_line = line.get(..end).unwrap_or_default();
        match Message::parse(header_line, &ParseOptions::default()) {
            Ok(header) => self.build(header.msh(), *header.delimiters(), &code, &errors),
            Err(_) => self.build(None, Delimiters::default(), &code, &errors),
        }
    }

    fn build(
        &self,
        msh: Option<Segment<'_>>,
        delimiters: Delimiters,
        code: &AcknowledgmentCode,
        errors: &[ErrorDetail],
    ) -> Result<Vec<u8>> {
        let complete = delimiters.component().is_some()
            && delimiters.repetition().is_some()
            && delimiters.escape().is_some()
            && delimiters.subcomponent().is_some();
        let delimiters = if complete {
            delimiters
        } else {
            Delimiters::default()
        };
        let mut reply = Reply {
            message: OwnedMessage::new(delimiters, Terminator::Cr),
            same_delimiters: complete,
        };
        let version = match msh {
            Some(msh) => {
                // MSH-18 first: it decides how the texts below are encoded.
                reply.copy("MSH-18", msh.field(18))?;
                for (to, from) in [(3, 5), (4, 6), (5, 3), (6, 4)] {
                    reply.copy(&format!("MSH-{to}"), msh.field(from))?;
                }
                reply.copy("MSH-11", msh.field(11))?;
                reply.copy("MSH-12", msh.field(12))?;
                version_numbers(msh.field(12).component(1).raw())
            }
            None => {
                reply.set("MSH-11", &self.fallback_processing_id)?;
                reply.set("MSH-12", &self.fallback_version)?;
                version_numbers(self.fallback_version.as_bytes())
            }
        };
        match &self.time {
            AckTime::Timestamp(timestamp) => reply.set("MSH-7", &timestamp.format_hl7())?,
            AckTime::Text(text) => reply.set("MSH-7", text)?,
        }
        reply.set("MSH-9.1", "ACK")?;
        if let Some(msh) = msh {
            let trigger = msh.field(9).component(2);
            if !trigger.is_empty() {
                let text = trigger.decoded().unwrap_or_default();
                reply.set("MSH-9.2", &text)?;
            }
            // MSH-9.3 (message structure) exists from v2.3.1.
            if version.is_none_or(|version| version >= [2, 3, 1]) {
                reply.set("MSH-9.3", "ACK")?;
            }
        }
        reply.set("MSH-10", &self.control_id)?;
        let legacy = version.is_some_and(|version| version < [2, 5, 0]);
        reply.message.add_segment("MSA")?;
        reply.set("MSA-1", code.code())?;
        if let Some(msh) = msh {
            reply.copy("MSA-2", msh.field(10))?;
        }
        if legacy && let Some(text) = errors.iter().find_map(|error| error.message.as_deref()) {
            reply.set("MSA-3", text)?;
        }
        for (index, error) in errors.iter().enumerate() {
            Self::error_segment(&mut reply, index.saturating_add(1), error, legacy)?;
        }
        Ok(reply.message.to_bytes())
    }

    fn error_segment(
        reply: &mut Reply,
        index: usize,
        error: &ErrorDetail,
        legacy: bool,
    ) -> Result<()> {
        reply.message.add_segment("ERR")?;
        let at = |path: &str| format!("ERR({index})-{path}");
        let number = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        let meaning = error.code.meaning().unwrap_or_default();
        let code = error.code.to_string();
        if legacy {
            // ERR-1, ELD (v2.1–2.4): segment ^ sequence ^ field ^ code&text&system.
            if let Some(location) = &error.location {
                reply.set(&at("1.1"), &location.segment)?;
                reply.set(&at("1.2"), &number(location.sequence))?;
                reply.set(&at("1.3"), &number(location.field))?;
            }
            reply.set(&at("1.4.1"), &code)?;
            reply.set(&at("1.4.2"), meaning)?;
            reply.set(&at("1.4.3"), "HL70357")?;
        }
        if let Some(location) = &error.location {
            reply.set(&at("2.1"), &location.segment)?;
            let parts = [
                location.sequence,
                location.field,
                location.repetition,
                location.component,
                location.subcomponent,
            ];
            for (component, part) in (2..).zip(parts) {
                reply.set(&at(&format!("2.{component}")), &number(part))?;
            }
        }
        reply.set(&at("3.1"), &code)?;
        reply.set(&at("3.2"), meaning)?;
        reply.set(&at("3.3"), "HL70357")?;
        reply.set(&at("4"), error.severity.code())?;
        if let Some(message) = &error.message {
            reply.set(&at("8"), message)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Message<'_> {
        Message::parse(bytes, &ParseOptions::strict()).unwrap()
    }

    #[test]
    fn versions_compare_as_numbers() {
        assert_eq!(version_numbers(b"2.3.1"), Some([2, 3, 1]));
        assert_eq!(version_numbers(b"V2.5"), Some([2, 5, 0]));
        assert_eq!(version_numbers(b" 2.10 "), Some([2, 10, 0]));
        assert_eq!(version_numbers(b"two"), None);
        assert!([2, 4, 0] < [2, 5, 0] && [2, 10, 0] > [2, 5, 1]);
    }

    #[test]
    fn occurrences_are_counted_per_segment_id() {
        let input = b"\xEF\xBB\xBFMSH|^~\\&\nOBX|1\n\nNTE|1\nOBX|2\n";
        assert_eq!(occurrence_in(input, 1), Some(1));
        assert_eq!(occurrence_in(input, 4), Some(2));
        assert_eq!(occurrence_in(input, 3), Some(1));
        assert_eq!(occurrence_in(input, 9), None);
        assert_eq!(occurrence_in(input, 0), None);
        assert_eq!(header_start(input), Some(3));
        assert_eq!(header_start(b" \r\nMSH|"), Some(3));
        // `MSH` later in the data is no header.
        assert_eq!(header_start(b"PID|1||MSH"), None);
    }

    #[test]
    fn legacy_versions_get_err_1_and_msa_3() {
        let original = parse(b"MSH|^~\\&|AN|LAB|LIS|H|20240301||ORU^R01|M1|P|2.3.1\r");
        let ack = Ack::new(AcknowledgmentCode::ApplicationError, "A1", "20240301").with_error(
            ErrorDetail::new(ErrorCode::DATA_TYPE_ERROR, Severity::Error)
                .at(ErrorLocation::field("OBX", 3, 5))
                .with_message("not a number"),
        );
        let bytes = ack.for_message(&original).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "MSH|^~\\&|LIS|H|AN|LAB|20240301||ACK^R01^ACK|A1|P|2.3.1\r\
             MSA|AE|M1|not a number\r\
             ERR|OBX^3^5^102&Data type error&HL70357|OBX^3^5|102^Data type error^HL70357|E||||not a number\r"
        );
        // Before v2.3.1 MSH-9 has two components.
        let old = parse(b"MSH|^~\\&|AN||||20240301||ORU^R01|M1|P|2.2\r");
        let bytes = Ack::new(AcknowledgmentCode::ApplicationAccept, "A2", "2024")
            .for_message(&old)
            .unwrap();
        assert!(bytes.starts_with(b"MSH|^~\\&|||AN||2024||ACK^R01|A2|P|2.2\r"));
    }

    #[test]
    fn text_the_charset_cannot_hold_becomes_question_marks() {
        assert_eq!(encodable("Zoë ✓", Charset::Latin1), "Zoë ?");
        assert_eq!(encodable("abc", Charset::Ascii), "abc");
        let original = parse(b"MSH|^~\\&|AN||||20240301||ORU^R01|M1|P|2.5.1||||||8859/1\r");
        let bytes = Ack::new(AcknowledgmentCode::ApplicationError, "A3", "2024")
            .with_error(
                ErrorDetail::new(ErrorCode::APPLICATION_INTERNAL_ERROR, Severity::Error)
                    .with_message("Zoë ✓ a|b"),
            )
            .for_message(&original)
            .unwrap();
        assert!(
            bytes.ends_with(b"|E||||Zo\xEB ? a\\F\\b\r"),
            "{}",
            String::from_utf8_lossy(&bytes)
        );
    }

    #[test]
    fn codes_round_trip_and_classify() {
        for code in ["AA", "AE", "AR", "CA", "CE", "CR", "ZZ"] {
            assert_eq!(AcknowledgmentCode::from_code(code).code(), code);
        }
        assert_eq!(
            AcknowledgmentCode::CommitAccept.rejecting(),
            AcknowledgmentCode::CommitReject
        );
        assert_eq!(
            AcknowledgmentCode::Other("X".into()).rejecting(),
            AcknowledgmentCode::ApplicationReject
        );
        for severity in ["E", "W", "I", "F", "Q"] {
            assert_eq!(Severity::from_code(severity).code(), severity);
        }
        assert_eq!(
            ErrorCode::from_code(" 207 "),
            Some(ErrorCode::APPLICATION_INTERNAL_ERROR)
        );
        assert_eq!(ErrorCode::new(999).meaning(), None);
        assert_eq!(ErrorCode::from_code("x"), None);
    }
}
