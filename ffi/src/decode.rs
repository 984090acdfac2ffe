//! Any supported input to lab events: the format recognized from the content, then
//! HL7 v2, ASTM or DICOM decoded and mapped to [`LabEvent`]s.
//!
//! This is what `labwire decode` does, as a library: the C API's `labwire_decoder` is
//! a shell around [`decode`], and the CLI can call it instead of its own copy.
//!
//! - **HL7 v2**: MLLP frames when the input starts with `0x0B`; a batch file when it
//!   starts with `FHS` or `BHS`; else one message per `MSH` at the start of a line.
//!   Each message is parsed and mapped on its own, so one bad message does not hide
//!   the others.
//! - **ASTM**: a capture with E1381 framing (ENQ, STX …) is received through a
//!   [`Link`] in the computer role, as the LIS would have (checksums checked,
//!   retransmissions dropped, messages reassembled); raw E1394 records are read as
//!   they are. Records are split into messages at each `H`.
//! - **DICOM**: the header (preamble, file meta, data set up to the pixel data) as an
//!   imaging study event. A header cut short still maps what was read.
//!
//! Problems do not stop the decoding: what the standard does not allow but lenient
//! reading accepts is a warning, what was rejected is an error, each with where it
//! is. Only an input of no recognizable format fails as a whole.
//!
//! ```
//! use labwire::decode::{DecodeOptions, Format, ProblemKind, decode};
//!
//! // Two messages, the second broken: the first still gives its event.
//! let input = b"MSH|^~\\&|AN|LAB|LIS|HOSP|20240301101502||ORU^R01|M1|P|2.5.1\r\
//!               OBR|1|P-1|F-1|GLU\r\
//!               OBX|1|NM|2345-7^Glucose^LN||5.40|mmol/L|||||F\r\
//!               MSH|^~\r";
//! let options = DecodeOptions::strict();
//! let decoded = decode(input, &options)?;
//! assert_eq!(decoded.format, Format::Hl7);
//! assert_eq!(decoded.events.len(), 1);
//! assert_eq!(decoded.errors.len(), 1);
//! assert_eq!(decoded.errors[0].kind, ProblemKind::Hl7Syntax);
//! assert_eq!(decoded.errors[0].location, "message 2");
//! # Ok::<(), labwire::decode::DecodeError>(())
//! ```

use core::fmt;

use labwire_astm::link::{Instant, Link, LinkConfig, LinkEvent, Role};
use labwire_astm::model::Dialect;
use labwire_astm::record::{Charset, RecordOptions, parse_messages};
use labwire_hl7::{BatchFile, MapOptions, Message, MllpDecoder, ParseOptions, Status};
use labwire_model::LabEvent;

/// A wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// HL7 v2 (ER7), with or without MLLP framing, or a batch file.
    Hl7,
    /// ASTM E1394 records, E1381-framed or raw.
    Astm,
    /// DICOM Part 10, or a bare data set.
    Dicom,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Hl7 => "HL7 v2",
            Self::Astm => "ASTM",
            Self::Dicom => "DICOM",
        })
    }
}

/// How to decode.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// The format; `None` (the default) recognizes it with [`detect`].
    pub format: Option<Format>,
    /// Refuse input that deviates from its standard instead of warning: HL7
    /// [`ParseOptions::strict`] and [`MapOptions::strict`], ASTM
    /// [`RecordOptions::strict`], DICOM `ParseOptions::strict`. Default `false`.
    pub strict: bool,
    /// How the ASTM instrument fills its fields. Default [`Dialect::generic`].
    pub astm_dialect: Dialect,
    /// The character set of ASTM text. Default UTF-8.
    pub astm_charset: Charset,
}

impl DecodeOptions {
    /// The defaults, but strict: input that deviates from its standard is rejected.
    pub fn strict() -> Self {
        Self {
            strict: true,
            ..Self::default()
        }
    }
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            format: None,
            strict: false,
            astm_dialect: Dialect::generic(),
            astm_charset: Charset::Utf8,
        }
    }
}

/// What kind of input a [`Problem`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// HL7 v2 syntax: a message or batch file that does not parse, or a lenient
    /// parse's warning.
    Hl7Syntax,
    /// HL7 v2 to the lab model: a message type not mapped, a value not read.
    Hl7Mapping,
    /// MLLP framing.
    Mllp,
    /// ASTM E1381 framing and link protocol (checksums, frame numbers, a message cut
    /// off by EOT or a timeout).
    AstmLink,
    /// ASTM E1394 records.
    AstmRecord,
    /// DICOM structure and values.
    Dicom,
    /// The input holds no message at all.
    Empty,
}

/// A warning or an error, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// What kind of input it concerns.
    pub kind: ProblemKind,
    /// Which part of the input: `message 2` (HL7, counted from 1 in input order),
    /// `message text 1` (ASTM, one per E1381 message), or empty for the whole input.
    /// The message itself holds the location inside that part.
    pub location: String,
    /// The byte offset, when the problem has one. Framing problems (MLLP, E1381), batch
    /// file problems and DICOM count from the start of the input (a DICOM deflated data
    /// set: of the inflated stream); problems inside an HL7 message or an ASTM message
    /// text count from the start of that message, or of that text as its frames
    /// carried it.
    pub offset: Option<u64>,
    /// What is wrong, for people; it names the element concerned (`OBX(3)-5`, a DICOM
    /// tag path), never a value.
    pub message: String,
}

impl Problem {
    fn new(kind: ProblemKind, location: &str, offset: Option<u64>, message: String) -> Self {
        Self {
            kind,
            location: location.to_owned(),
            offset,
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.location, self.message)
        }
    }
}

/// What one input gave.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Decoded {
    /// The format it was read as.
    pub format: Format,
    /// The events, in input order.
    pub events: Vec<LabEvent>,
    /// What was accepted although it does not follow the standard.
    pub warnings: Vec<Problem>,
    /// Parts of the input that were rejected. Other parts may still have given events.
    pub errors: Vec<Problem>,
}

impl Decoded {
    fn new(format: Format) -> Self {
        Self {
            format,
            events: Vec::new(),
            warnings: Vec::new(),
            errors: Vec::new(),
        }
    }
}

/// Why an input could not be decoded at all.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The format was not given and [`detect`] does not recognize the content.
    UnknownFormat {
        /// Offset of the first byte examined (after a byte order mark and whitespace).
        offset: u64,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownFormat { offset } => write!(
                f,
                "not HL7 (MSH or MLLP), ASTM (ENQ, STX or an H record) or DICOM (DICM), from byte {offset}"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Where the content starts: after a UTF-8 byte order mark and ASCII whitespace.
fn content_start(bytes: &[u8]) -> usize {
    let bom = if bytes.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    };
    bytes
        .iter()
        .skip(bom)
        .position(|b| !b.is_ascii_whitespace())
        .map_or(bytes.len(), |at| at.saturating_add(bom))
}

/// Recognizes the format of `bytes` from its first bytes.
///
/// DICOM: `DICM` at 128 (after the preamble) or at 0, or a data set without preamble
/// whose first tag is in group 0002 or 0008, little endian. HL7: `MSH`, `FHS`, `BHS`
/// or an MLLP start block after an optional byte order mark and whitespace. ASTM: an
/// E1381 control character or an `H` record (see
/// [`labwire_astm::frame::looks_framed`]).
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let dicom_at_128 = bytes.get(128..132) == Some(b"DICM".as_slice());
    if dicom_at_128 || bytes.starts_with(b"DICM") {
        return Some(Format::Dicom);
    }
    let text = bytes.get(content_start(bytes)..).unwrap_or_default();
    if text.starts_with(&[labwire_hl7::mllp::START_BLOCK])
        || text.starts_with(b"MSH")
        || text.starts_with(b"FHS")
        || text.starts_with(b"BHS")
    {
        return Some(Format::Hl7);
    }
    if labwire_astm::frame::looks_framed(text).is_some() {
        return Some(Format::Astm);
    }
    // A data set without preamble: group 0002 or 0008 little endian comes first.
    if matches!(bytes.get(..2), Some([0x02 | 0x08, 0x00])) {
        return Some(Format::Dicom);
    }
    None
}

/// Decodes one input (see the [module documentation](self)).
///
/// # Errors
/// [`DecodeError::UnknownFormat`] when `options.format` is `None` and the content is
/// not recognized. Everything else is reported in [`Decoded::errors`].
pub fn decode(bytes: &[u8], options: &DecodeOptions) -> Result<Decoded, DecodeError> {
    let format = match options.format {
        Some(format) => format,
        None => detect(bytes).ok_or(DecodeError::UnknownFormat {
            offset: content_start(bytes) as u64,
        })?,
    };
    Ok(match format {
        Format::Hl7 => decode_hl7(bytes, options.strict),
        Format::Astm => decode_astm(bytes, options),
        Format::Dicom => decode_dicom(bytes, options.strict),
    })
}

/// The messages of an input, split the way [`decode`] splits it, without parsing them:
/// what a sender replays one by one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Split {
    /// Each message's bytes, in input order.
    pub messages: Vec<Vec<u8>>,
    /// What was accepted although it does not follow the standard.
    pub warnings: Vec<Problem>,
    /// Parts of the input that could not be split off (a broken frame); other
    /// messages are still there.
    pub errors: Vec<Problem>,
}

/// The HL7 messages of an input: MLLP frames when it starts with a start block, else
/// one message per `MSH` at the start of a line. Batch envelope segments (`FHS`, `BHS`,
/// `BTS`, `FTS`) belong to no message and are left out.
///
/// ```
/// let split = labwire::decode::split_hl7(b"BHS|^~\\&\rMSH|^~\\&|A\rPID|1\rMSH|^~\\&|B\rBTS|2\r");
/// assert_eq!(split.messages, [b"MSH|^~\\&|A\rPID|1\r".to_vec(), b"MSH|^~\\&|B\r".to_vec()]);
/// ```
pub fn split_hl7(bytes: &[u8]) -> Split {
    let mut decoded = Decoded::new(Format::Hl7);
    let messages = hl7_messages(bytes, &mut decoded);
    Split {
        messages,
        warnings: decoded.warnings,
        errors: decoded.errors,
    }
}

/// The ASTM message texts of an input, one per `H` record: a capture with E1381
/// framing is first received through a [`Link`] in the computer role (checksums
/// checked, retransmissions dropped, frames reassembled). `options` gives the record
/// layer's strictness and character set.
///
/// ```
/// let split = labwire::decode::split_astm(
///     b"H|\\^&\rP|1\rL|1\rH|\\^&\rL|1\r",
///     &labwire::decode::DecodeOptions::default(),
/// );
/// assert_eq!(split.messages.len(), 2);
/// ```
pub fn split_astm(bytes: &[u8], options: &DecodeOptions) -> Split {
    let mut decoded = Decoded::new(Format::Astm);
    let mut messages = Vec::new();
    for_each_astm_message(bytes, options, &mut decoded, |message, _| {
        messages.push(message.as_bytes().to_vec());
    });
    Split {
        messages,
        warnings: decoded.warnings,
        errors: decoded.errors,
    }
}

// ---------------------------------------------------------------------------------
// HL7
// ---------------------------------------------------------------------------------

/// Splits HL7 input into messages: MLLP frames if framed, else at each `MSH` at the
/// start of a line. Batch files are handled by [`decode_hl7`] before this.
fn hl7_messages(bytes: &[u8], decoded: &mut Decoded) -> Vec<Vec<u8>> {
    let start = content_start(bytes);
    if bytes.get(start) == Some(&labwire_hl7::mllp::START_BLOCK) {
        // The whole input is in memory already: no frame can be longer than it.
        let mut decoder = MllpDecoder::new(bytes.len());
        let mut messages = Vec::new();
        if let Err(error) = decoder.push(bytes) {
            decoded
                .errors
                .push(hl7_problem(ProblemKind::Mllp, "", &error));
            return messages;
        }
        // Every call consumes input or ends the loop; the bound is a second guard.
        for _ in 0..=bytes.len() {
            match decoder.next_frame() {
                Ok(Status::Complete(frame)) => {
                    for warning in frame.warnings() {
                        decoded.warnings.push(Problem::new(
                            ProblemKind::Mllp,
                            "",
                            Some(warning.offset as u64),
                            warning.to_string(),
                        ));
                    }
                    messages.push(frame.payload.to_vec());
                }
                Ok(Status::NeedMore) => break,
                // The decoder resumes after an oversized or malformed frame.
                Err(error) => decoded
                    .errors
                    .push(hl7_problem(ProblemKind::Mllp, "", &error)),
            }
        }
        match decoder.finish() {
            Ok(Some(frame)) => messages.push(frame.payload.to_vec()),
            Ok(None) => {}
            Err(error) => decoded
                .errors
                .push(hl7_problem(ProblemKind::Mllp, "", &error)),
        }
        return messages;
    }
    // Line starts of `MSH` (a message begins) and of batch envelope segments (the
    // message before ends).
    let mut boundaries: Vec<(usize, bool)> = Vec::new();
    for (index, window) in bytes.windows(3).enumerate() {
        let at_line_start =
            index == start || matches!(bytes.get(index.wrapping_sub(1)), Some(b'\r' | b'\n'));
        if !at_line_start {
            continue;
        }
        match window {
            b"MSH" => boundaries.push((index, true)),
            b"FHS" | b"BHS" | b"BTS" | b"FTS" => boundaries.push((index, false)),
            _ => {}
        }
    }
    let mut messages = Vec::new();
    for (position, &(begin, is_message)) in boundaries.iter().enumerate() {
        if !is_message {
            continue;
        }
        let end = boundaries
            .get(position.saturating_add(1))
            .map_or(bytes.len(), |&(next, _)| next);
        if let Some(message) = bytes.get(begin..end) {
            messages.push(message.to_vec());
        }
    }
    messages
}

fn hl7_problem(kind: ProblemKind, location: &str, error: &labwire_hl7::Error) -> Problem {
    Problem::new(
        kind,
        location,
        error.offset().map(|offset| offset as u64),
        error.to_string(),
    )
}

/// Decodes HL7 input; each message is parsed and mapped on its own.
fn decode_hl7(bytes: &[u8], strict: bool) -> Decoded {
    let mut decoded = Decoded::new(Format::Hl7);
    let (parse_options, map_options) = if strict {
        (ParseOptions::strict(), MapOptions::strict())
    } else {
        (ParseOptions::default(), MapOptions::default())
    };
    let content = bytes.get(content_start(bytes)..).unwrap_or_default();
    if content.starts_with(b"FHS") || content.starts_with(b"BHS") {
        match BatchFile::parse(bytes, &parse_options) {
            Ok(batch) => {
                for warning in batch.warnings() {
                    decoded.warnings.push(Problem::new(
                        ProblemKind::Hl7Syntax,
                        "",
                        Some(warning.offset as u64),
                        warning.to_string(),
                    ));
                }
                for (index, message) in batch.messages().enumerate() {
                    let location = format!("message {}", index.saturating_add(1));
                    map_hl7(&location, message, &map_options, &mut decoded);
                }
            }
            Err(error) => decoded
                .errors
                .push(hl7_problem(ProblemKind::Hl7Syntax, "", &error)),
        }
        return decoded;
    }
    let messages = hl7_messages(bytes, &mut decoded);
    if messages.is_empty() && decoded.errors.is_empty() {
        decoded.errors.push(Problem::new(
            ProblemKind::Empty,
            "",
            None,
            "no HL7 message found".to_owned(),
        ));
    }
    let several = messages.len() > 1;
    for (index, text) in messages.iter().enumerate() {
        let location = if several {
            format!("message {}", index.saturating_add(1))
        } else {
            String::new()
        };
        match Message::parse(text, &parse_options) {
            Ok(message) => map_hl7(&location, &message, &map_options, &mut decoded),
            Err(error) => {
                decoded
                    .errors
                    .push(hl7_problem(ProblemKind::Hl7Syntax, &location, &error))
            }
        }
    }
    decoded
}

fn map_hl7(location: &str, message: &Message<'_>, options: &MapOptions, decoded: &mut Decoded) {
    for warning in message.warnings() {
        decoded.warnings.push(Problem::new(
            ProblemKind::Hl7Syntax,
            location,
            Some(warning.offset as u64),
            warning.to_string(),
        ));
    }
    match labwire_hl7::to_events(message, options) {
        Ok(mapped) => {
            for warning in &mapped.warnings {
                decoded.warnings.push(Problem::new(
                    ProblemKind::Hl7Mapping,
                    location,
                    Some(warning.offset as u64),
                    warning.to_string(),
                ));
            }
            decoded.events.extend(mapped.events);
        }
        Err(error) => decoded.errors.push(Problem::new(
            ProblemKind::Hl7Mapping,
            location,
            error.offset().map(|offset| offset as u64),
            error.to_string(),
        )),
    }
}

// ---------------------------------------------------------------------------------
// ASTM
// ---------------------------------------------------------------------------------

/// The stream offset a link error refers to, when it has one.
pub(crate) fn astm_error_offset(error: &labwire_astm::Error) -> Option<u64> {
    use labwire_astm::Error;
    match error {
        Error::FrameTooLong { offset, .. }
        | Error::EmptyFrame { offset }
        | Error::FrameInterrupted { offset, .. }
        | Error::InvalidFrameNumber { offset, .. }
        | Error::UnexpectedFrameNumber { offset, .. }
        | Error::ChecksumRejected { offset, .. } => Some(*offset),
        Error::MessageTooLarge { offset, .. } => *offset,
        _ => None,
    }
}

/// The stream offset a link warning refers to, when it has one.
pub(crate) fn astm_warning_offset(warning: &labwire_astm::link::Warning) -> Option<u64> {
    use labwire_astm::link::Warning;
    match warning {
        Warning::ChecksumAccepted { offset, .. }
        | Warning::FirstFrameZero { offset }
        | Warning::NumberingRestarted { offset, .. }
        | Warning::DuplicateFrame { offset, .. }
        | Warning::IgnoredBytes { offset, .. }
        | Warning::UnexpectedControl { offset, .. }
        | Warning::UnexpectedFrame { offset } => Some(*offset),
        _ => None,
    }
}

/// Runs a capture through a receiving E1381 link, as the computer would have: frames
/// are checked, retransmissions dropped, messages reassembled.
fn receive_framed(bytes: &[u8], decoded: &mut Decoded) -> Vec<Vec<u8>> {
    let mut texts = Vec::new();
    let mut link = match Link::new(LinkConfig::new(Role::Computer)) {
        Ok(link) => link,
        Err(error) => {
            decoded.errors.push(Problem::new(
                ProblemKind::AstmLink,
                "",
                None,
                error.to_string(),
            ));
            return texts;
        }
    };
    // In small chunks, drained after each: a byte completes at most one frame or
    // control item, which makes a handful of events, so 128 bytes stay far under
    // `LinkConfig::max_events` (1024) and no event of a long capture is dropped.
    let mut rest = bytes;
    while !rest.is_empty() {
        let (chunk, after) = rest.split_at(rest.len().min(128));
        rest = after;
        link.handle_bytes(chunk, Instant::from_millis(0));
        let _ = link.take_output();
        drain_link(&mut link, &mut texts, decoded);
    }
    drain_link(&mut link, &mut texts, decoded);
    texts
}

fn drain_link(link: &mut Link, texts: &mut Vec<Vec<u8>>, decoded: &mut Decoded) {
    while let Some(event) = link.poll_event() {
        match event {
            LinkEvent::MessageReceived { text, warnings, .. } => {
                for warning in &warnings {
                    decoded.warnings.push(Problem::new(
                        ProblemKind::AstmLink,
                        "",
                        astm_warning_offset(warning),
                        format!("{warning:?}"),
                    ));
                }
                texts.push(text);
            }
            LinkEvent::PartialMessage { text, reason, .. } => {
                decoded.errors.push(Problem::new(
                    ProblemKind::AstmLink,
                    "",
                    None,
                    format!(
                        "an incomplete message ({} bytes) was cut off: {reason:?}",
                        text.len()
                    ),
                ));
            }
            LinkEvent::ProtocolError(error) => decoded.warnings.push(Problem::new(
                ProblemKind::AstmLink,
                "",
                astm_error_offset(&error),
                error.to_string(),
            )),
            LinkEvent::Warning(warning) => decoded.warnings.push(Problem::new(
                ProblemKind::AstmLink,
                "",
                astm_warning_offset(&warning),
                format!("{warning:?}"),
            )),
            _ => {}
        }
    }
}

fn decode_astm(bytes: &[u8], options: &DecodeOptions) -> Decoded {
    let mut decoded = Decoded::new(Format::Astm);
    let mut events = Vec::new();
    for_each_astm_message(bytes, options, &mut decoded, |message, options| {
        events.extend(labwire_astm::model::to_events(
            message,
            &options.astm_dialect,
        ));
    });
    decoded.events = events;
    decoded
}

/// Splits ASTM input into message texts (through a receiving link if framed), reads
/// their records and hands each message to `each`; problems go to `decoded`.
fn for_each_astm_message(
    bytes: &[u8],
    options: &DecodeOptions,
    decoded: &mut Decoded,
    mut each: impl FnMut(&labwire_astm::record::Message<'_>, &DecodeOptions),
) {
    let texts = if labwire_astm::frame::looks_framed(bytes) == Some(true) {
        receive_framed(bytes, decoded)
    } else {
        vec![bytes.to_vec()]
    };
    let record_options = RecordOptions {
        strict: options.strict,
        charset: options.astm_charset,
        ..RecordOptions::default()
    };
    for (index, text) in texts.iter().enumerate() {
        let location = if texts.len() > 1 {
            format!("message text {}", index.saturating_add(1))
        } else {
            String::new()
        };
        match parse_messages(text, &record_options) {
            Ok((messages, warnings)) => {
                for warning in &warnings {
                    decoded.warnings.push(Problem::new(
                        ProblemKind::AstmRecord,
                        &location,
                        Some(warning.offset as u64),
                        format!(
                            "byte {}, record {}: {:?}",
                            warning.offset, warning.record, warning.kind
                        ),
                    ));
                }
                for message in &messages {
                    each(message, options);
                }
            }
            Err(error) => decoded.errors.push(Problem::new(
                ProblemKind::AstmRecord,
                &location,
                record_error_offset(&error),
                error.to_string(),
            )),
        }
    }
    if texts.is_empty() && decoded.errors.is_empty() {
        decoded.errors.push(Problem::new(
            ProblemKind::Empty,
            "",
            None,
            "no ASTM message found".to_owned(),
        ));
    }
}

fn record_error_offset(error: &labwire_astm::record::RecordError) -> Option<u64> {
    use labwire_astm::record::RecordError;
    match error {
        RecordError::Delimiters { offset, .. }
        | RecordError::TooManyRecords { offset, .. }
        | RecordError::Separator { offset, .. }
        | RecordError::EmptyRecord { offset, .. } => Some(*offset as u64),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------
// DICOM
// ---------------------------------------------------------------------------------

/// What [`decode`] gives for the first bytes of a DICOM file, when they hold its whole
/// header: `Some` when the parse stopped before the pixel data within `prefix` and
/// without an error, so the rest of the file cannot change the result; `None` when
/// `prefix` is not DICOM (as `options.format` or [`detect`] decide) or the header may
/// go on past it (read more, then call [`decode`]).
///
/// This lets a caller read a DICOM file's first kilobytes, not its gigabytes of
/// pixel data, and parse the header once.
#[must_use]
pub fn decode_dicom_prefix(prefix: &[u8], options: &DecodeOptions) -> Option<Decoded> {
    let format = options.format.or_else(|| detect(prefix))?;
    if format != Format::Dicom {
        return None;
    }
    let header = labwire_dicom_meta::parse_with(prefix, &dicom_options(options.strict)).ok()?;
    if header.error().is_some() || header.stop().is_none() {
        return None;
    }
    Some(dicom_header_decoded(Ok(&header)))
}

fn dicom_options(strict: bool) -> labwire_dicom_meta::ParseOptions {
    if strict {
        labwire_dicom_meta::ParseOptions::strict()
    } else {
        labwire_dicom_meta::ParseOptions::default()
    }
}

/// A DICOM header as an imaging study event. A header cut short (truncated file, a
/// limit reached) still maps what was read, and the problem is an error.
fn decode_dicom(bytes: &[u8], strict: bool) -> Decoded {
    let parsed = labwire_dicom_meta::parse_with(bytes, &dicom_options(strict));
    dicom_header_decoded(parsed.as_ref())
}

fn dicom_header_decoded(
    parsed: Result<&labwire_dicom_meta::Header<'_>, &labwire_dicom_meta::Error>,
) -> Decoded {
    let mut decoded = Decoded::new(Format::Dicom);
    match parsed {
        Ok(header) => {
            for warning in header.warnings() {
                decoded.warnings.push(Problem::new(
                    ProblemKind::Dicom,
                    "",
                    Some(warning.offset),
                    warning.to_string(),
                ));
            }
            if let Some(error) = header.error() {
                decoded.errors.push(dicom_problem(error));
            }
            decoded
                .events
                .push(labwire_dicom_meta::model::lab_event(header));
        }
        Err(error) => decoded.errors.push(dicom_problem(error)),
    }
    decoded
}

fn dicom_problem(error: &labwire_dicom_meta::Error) -> Problem {
    Problem::new(
        ProblemKind::Dicom,
        "",
        Some(error.offset()),
        error.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORU: &[u8] = b"MSH|^~\\&|AN|LAB|LIS|HOSP|20240301101502||ORU^R01|M1|P|2.5.1\r\
OBR|1|P-1|F-1|GLU\r\
OBX|1|NM|2345-7^Glucose^LN||5.40|mmol/L|||||F\r";

    #[test]
    fn formats_are_detected_by_content() {
        assert_eq!(detect(b"MSH|^~\\&|"), Some(Format::Hl7));
        assert_eq!(detect(b"\x0bMSH|^~\\&|"), Some(Format::Hl7));
        assert_eq!(detect(b"\xef\xbb\xbf\r\nFHS|^~\\&|"), Some(Format::Hl7));
        assert_eq!(detect(b"\r\nH|\\^&|||"), Some(Format::Astm));
        assert_eq!(detect(b"\x05\x021H|"), Some(Format::Astm));
        let mut dicom = vec![0u8; 128];
        dicom.extend_from_slice(b"DICM");
        assert_eq!(detect(&dicom), Some(Format::Dicom));
        assert_eq!(detect(b"DICM"), Some(Format::Dicom));
        assert_eq!(detect(b"\x08\x00\x05\x00CS"), Some(Format::Dicom));
        assert_eq!(detect(b"hello"), None);
        assert_eq!(detect(b""), None);
        assert_eq!(detect(b"\xef\xbb\xbf  "), None);
    }

    #[test]
    fn an_unknown_format_fails_with_the_offset_examined() {
        let error = decode(b"\xef\xbb\xbf \nhello", &DecodeOptions::default()).unwrap_err();
        assert_eq!(error, DecodeError::UnknownFormat { offset: 5 });
        assert!(error.to_string().contains("not HL7"));
    }

    #[test]
    fn hl7_messages_decode_one_by_one() {
        let mut input = ORU.to_vec();
        input.extend_from_slice(b"MSH|^~\\&|AN|LAB|LIS|HOSP|20240301101502||XYZ^Q99|M2|P|2.5.1\r");
        input.extend_from_slice(ORU);
        let decoded = decode(&input, &DecodeOptions::default()).unwrap();
        assert_eq!(decoded.format, Format::Hl7);
        assert_eq!(decoded.events.len(), 2);
        assert_eq!(decoded.errors.len(), 1, "{:?}", decoded.errors);
        assert_eq!(decoded.errors[0].kind, ProblemKind::Hl7Mapping);
        assert_eq!(decoded.errors[0].location, "message 2");
        assert!(decoded.errors[0].to_string().starts_with("message 2: "));
    }

    #[test]
    fn mllp_frames_are_unwrapped() {
        let mut framed = Vec::new();
        labwire_hl7::mllp::encode(ORU, &mut framed).unwrap();
        labwire_hl7::mllp::encode(ORU, &mut framed).unwrap();
        framed.extend_from_slice(b"\x0bMSH|cut off");
        let decoded = decode(&framed, &DecodeOptions::default()).unwrap();
        assert_eq!(decoded.events.len(), 2);
        assert_eq!(decoded.errors.len(), 1);
        assert_eq!(decoded.errors[0].kind, ProblemKind::Mllp);
    }

    #[test]
    fn input_without_a_message_is_an_error() {
        let options = DecodeOptions {
            format: Some(Format::Hl7),
            ..DecodeOptions::default()
        };
        let decoded = decode(b"nothing here", &options).unwrap();
        assert!(decoded.events.is_empty());
        assert_eq!(decoded.errors[0].kind, ProblemKind::Empty);
    }

    #[test]
    fn astm_framed_and_raw_give_the_same_events() {
        let text = b"H|\\^&|||AN-1\rP|1\rO|1|S24-0007\rR|1|^^^GLU|5.40|mmol/L\rL|1|N\r";
        let raw = decode(text, &DecodeOptions::default()).unwrap();
        assert_eq!(raw.format, Format::Astm);
        assert_eq!(raw.events.len(), 1);
        let mut session = vec![0x05];
        labwire_astm::frame::encode_message_into(
            &mut session,
            text,
            240,
            labwire_astm::frame::FrameNumber::FIRST,
        )
        .unwrap();
        session.push(0x04);
        let framed = decode(&session, &DecodeOptions::default()).unwrap();
        assert_eq!(framed.events, raw.events);
        assert!(framed.errors.is_empty());
    }

    #[test]
    fn an_astm_message_cut_off_is_an_error() {
        let mut session = vec![0x05];
        labwire_astm::frame::encode_message_into(
            &mut session,
            b"H|\\^&\rL|1|N\r",
            8,
            labwire_astm::frame::FrameNumber::FIRST,
        )
        .unwrap();
        // Keep the first frame only (ETB), then EOT.
        let first_end = session.iter().position(|&b| b == b'\n').unwrap();
        session.truncate(first_end + 1);
        session.push(0x04);
        let decoded = decode(&session, &DecodeOptions::default()).unwrap();
        assert!(decoded.events.is_empty());
        assert_eq!(decoded.errors[0].kind, ProblemKind::AstmLink);
    }

    #[test]
    fn a_dicom_prefix_holding_the_header_decodes_as_the_whole_file() {
        let file = include_bytes!("../../dicom-meta/tests/data/pydicom/CT_small.dcm");
        for strict in [false, true] {
            let options = DecodeOptions {
                strict,
                ..DecodeOptions::default()
            };
            let whole = decode(file, &options).unwrap();
            let prefix = file.get(..16 * 1024).unwrap();
            assert_eq!(decode_dicom_prefix(prefix, &options), Some(whole));
            // Cut inside the header: the rest is needed.
            assert_eq!(
                decode_dicom_prefix(file.get(..400).unwrap(), &options),
                None
            );
        }
        // Not DICOM, by content or by the format asked for.
        assert_eq!(decode_dicom_prefix(ORU, &DecodeOptions::default()), None);
        let as_hl7 = DecodeOptions {
            format: Some(Format::Hl7),
            ..DecodeOptions::default()
        };
        assert_eq!(decode_dicom_prefix(file, &as_hl7), None);
    }

    #[test]
    fn a_dicom_data_set_gives_an_imaging_event() {
        // (0008,0060) Modality CS "SM", explicit VR little endian, no preamble.
        let bytes = b"\x08\x00\x60\x00CS\x02\x00SM";
        let decoded = decode(bytes, &DecodeOptions::default()).unwrap();
        assert_eq!(decoded.format, Format::Dicom);
        assert_eq!(decoded.events.len(), 1);
        let options = DecodeOptions {
            format: Some(Format::Dicom),
            ..DecodeOptions::default()
        };
        let decoded = decode(b"not dicom at all", &options).unwrap();
        assert!(!decoded.errors.is_empty());
        assert_eq!(decoded.errors[0].kind, ProblemKind::Dicom);
    }
}
