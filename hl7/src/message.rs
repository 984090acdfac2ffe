//! Zero-copy HL7 v2 (ER7) messages: parse once, then read segments, fields, repetitions,
//! components and subcomponents as borrowed views.
//!
//! Parsing locates every segment and every field separator in one pass (eight bytes at a
//! time, switching to `memchr` across long runs without delimiters such as base64) and
//! stores them as `u32` offsets in two vectors (one for segments, one shared by all field
//! boundaries), so the number of allocations does not grow with the number of fields
//! (about 2.5–3 GB/s on one core for lab messages in release builds).
//! Repetitions, components and subcomponents are found on access by scanning the (short)
//! field text, which allocates nothing. Text is decoded (escapes, then MSH-18 charset) only
//! when [`Field::decoded`] and friends are called, and is borrowed when there is nothing to
//! decode.
//!
//! ```
//! use labwire_hl7::message::{Message, ParseOptions};
//! let input = b"MSH|^~\\&|LAB|ACME|||20240101||ORU^R01|42|P|2.5.1\r\
//!               PID|1||123^^^HOSP~456^^^LAB||DOE^JANE\r\
//!               OBX|1|NM|GLU^Glucose||5.4|mmol/L\r";
//! let msg = Message::parse(input, &ParseOptions::default()).unwrap();
//! assert_eq!(msg.segment_count(), 3);
//! let msh = msg.segment(0).unwrap();
//! assert_eq!(msh.field(9).component(1).raw(), b"ORU"); // MSH-9.1: MSH-1 is the separator
//! let pid = msg.segments_by_id("PID").next().unwrap();
//! assert_eq!(pid.field(3).repetition(2).component(4).as_str(), Some("LAB"));
//! assert_eq!(msg.get("PID-5.2").unwrap().decoded().unwrap(), "JANE");
//! assert_eq!(msg.get("OBX-5").unwrap().as_str(), Some("5.4"));
//! ```
//!
//! Numbering follows the standard: fields, repetitions, components and subcomponents count
//! from 1. In `MSH`, `FHS` and `BHS`, field 1 is the field separator itself and field 2 the
//! encoding characters (both opaque: never split or unescaped), so `MSH-9` is the ninth
//! field although it is the eighth token after the segment id. Indexes out of range return
//! empty views (`is_present() == false`), never panic.
//!
//! Views (`Segment<'m>`, `Field<'m>` …) are `Copy` and borrow the [`Message`] (which
//! holds the index); their `raw()` slices point into the original input.

use std::borrow::Cow;
use std::fmt;

use crate::charset::{self, Charset, Declaration, Origin};
use crate::encoding::Delimiters;
use crate::error::{
    CharsetProblem, Error, Limit, Location, Result, SegmentId, Warning, WarningKind,
};
use crate::escape::{self, DecodeOptions};
use crate::path::{Path, PathError};

/// The hard ceiling of any input: offsets are stored as `u32`.
pub const MAX_INPUT_SIZE: usize = u32::MAX as usize;

/// The segment terminator a message uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Terminator {
    /// Carriage return, the only terminator the standard defines.
    #[default]
    Cr,
    /// Line feed (files written on Unix, many sample sets).
    Lf,
    /// Carriage return + line feed (files written on Windows).
    CrLf,
}

impl Terminator {
    /// The terminator's bytes.
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            Self::Cr => b"\r",
            Self::Lf => b"\n",
            Self::CrLf => b"\r\n",
        }
    }
}

impl fmt::Display for Terminator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cr => "CR",
            Self::Lf => "LF",
            Self::CrLf => "CRLF",
        })
    }
}

/// Parser limits and the relaxations of lenient mode.
///
/// `ParseOptions::default()` is lenient: every relaxation below is on, each recorded as a
/// [`Warning`] when used. [`ParseOptions::strict()`] turns them all off, so the input must
/// follow the standard.
///
/// ```
/// use labwire_hl7::message::{Message, ParseOptions, Terminator};
/// let lf = b"MSH|^~\\&|A\nPID|1\n";
/// let msg = Message::parse(lf, &ParseOptions::default()).unwrap();
/// assert_eq!(msg.terminator(), Terminator::Lf);
/// assert_eq!(msg.warnings().len(), 1);
/// assert!(Message::parse(lf, &ParseOptions::strict()).is_err());
///
/// // Each relaxation: lenient parses with a warning, strict refuses.
/// for input in [
///     &b"MSH|^~\\&\r\nPID|1\r\n"[..],                      // accept_lf_terminators (CRLF)
///     b"\xEF\xBB\xBFMSH|^~\\&\rPID|1\r",                    // skip_leading_bytes
///     b"MSH|^~\\&\r\rPID|1\r",                             // skip_empty_segments
///     b"MSH|^~\\&\rpid|1\r",                               // accept_unusual_segment_ids
///     b"MSH|^~\rPID|1\r",                                   // accept_short_encoding_characters
///     b"MSH|^~\\&||||||||||||||||8859/2\r",                // lenient_charset (unsupported MSH-18)
/// ] {
///     let msg = Message::parse(input, &ParseOptions::default()).unwrap();
///     assert!(!msg.warnings().is_empty());
///     assert!(Message::parse(input, &ParseOptions::strict()).is_err());
/// }
///
/// // Value-level relaxations act when decoding.
/// let input = b"MSH|^~\\&||||||||||||||||UNICODE UTF-8\rNTE|1||4\\5 \xFF\r";
/// let lenient = Message::parse(input, &ParseOptions::default()).unwrap();
/// assert_eq!(lenient.get("NTE-3").unwrap().decoded().unwrap(), "4\\5 \u{FFFD}");
/// let mut escapes_strict = ParseOptions::default();
/// escapes_strict.lenient_escapes = false;
/// let msg = Message::parse(input, &escapes_strict).unwrap();
/// assert!(msg.get("NTE-3").unwrap().decoded().is_err()); // lenient_escapes
/// let strict = Message::parse(input, &ParseOptions::strict()).unwrap();
/// assert!(strict.get("NTE-3").unwrap().decoded().is_err()); // lenient_charset
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Largest accepted input in bytes (default 16 MiB; never more than `u32::MAX`).
    pub max_message_size: usize,
    /// Most segments in one message (default 100 000).
    pub max_segments: usize,
    /// Most fields in one segment (default 10 000).
    pub max_fields_per_segment: usize,
    /// Most warnings recorded per message; then one `TooManyWarnings` (default 100).
    pub max_warnings: usize,
    /// Accept LF and CRLF as segment terminators. The standard (v2 ch. 2, "message
    /// delimiters") allows CR only; files on disk and many senders use LF or CRLF. The
    /// terminator of the first segment decides: with CR (or CRLF) a bare LF inside a
    /// segment is data, with LF a bare CR is data.
    pub accept_lf_terminators: bool,
    /// Skip a UTF-8 byte order mark and whitespace before `MSH` (the standard has the
    /// message start with `MSH`).
    pub skip_leading_bytes: bool,
    /// Skip empty lines between segments (every segment has an id per the standard).
    /// Trailing empty lines after the last segment are accepted in both modes.
    pub skip_empty_segments: bool,
    /// Accept segment ids that are not three upper-case letters or digits.
    pub accept_unusual_segment_ids: bool,
    /// Accept fewer than four encoding characters in MSH-2; the missing delimiters are
    /// treated as unused.
    pub accept_short_encoding_characters: bool,
    /// Keep malformed escape sequences verbatim instead of failing to decode the value.
    pub lenient_escapes: bool,
    /// Decode bytes that do not match MSH-18 as the [charset module](crate::charset)
    /// describes, instead of failing; accept unsupported/unknown MSH-18 values.
    pub lenient_charset: bool,
    /// Batch files: accept BTS-1/FTS-1 counts that disagree with the file, and BHS/BTS/FHS/
    /// FTS segments out of order (v2 ch. 2 §2.10 requires `[FHS] {BHS … BTS} [FTS]`).
    pub lenient_batches: bool,
    /// How values are decoded when MSH-18 is unsupported or unknown (default
    /// [`Charset::Auto`]: UTF-8 if valid, else Windows-1252).
    pub fallback_charset: Charset,
    /// How formatting escapes (`\.br\` …) are decoded.
    pub escapes: DecodeOptions,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self {
            max_message_size: 16 * 1024 * 1024,
            max_segments: 100_000,
            max_fields_per_segment: 10_000,
            max_warnings: 100,
            accept_lf_terminators: true,
            skip_leading_bytes: true,
            skip_empty_segments: true,
            accept_unusual_segment_ids: true,
            accept_short_encoding_characters: true,
            lenient_escapes: true,
            lenient_charset: true,
            lenient_batches: true,
            fallback_charset: Charset::Auto,
            escapes: DecodeOptions::default(),
        }
    }
}

impl ParseOptions {
    /// Every relaxation off: CR terminators only, `MSH` at byte 0, no empty lines,
    /// standard segment ids, four encoding characters, well-formed escapes and text that
    /// matches MSH-18, well-formed batches.
    pub fn strict() -> Self {
        Self {
            accept_lf_terminators: false,
            skip_leading_bytes: false,
            skip_empty_segments: false,
            accept_unusual_segment_ids: false,
            accept_short_encoding_characters: false,
            lenient_escapes: false,
            lenient_charset: false,
            lenient_batches: false,
            ..Self::default()
        }
    }

    fn size_limit(&self) -> usize {
        self.max_message_size.min(MAX_INPUT_SIZE)
    }
}

/// Where one segment lies in the input, and where its field boundaries are in the shared
/// boundary vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SegmentSpan {
    /// Offset of the first byte of the segment id.
    start: u32,
    /// Offset just past the last byte before the terminator.
    end: u32,
    /// Index of this segment's first field separator offset in `Message::bounds`.
    first_bound: u32,
    /// Number of field separators in the segment.
    bound_count: u32,
    /// Whether the id is `MSH`, `FHS` or `BHS` (field 1 is the field separator),
    /// decided once here rather than on every field lookup.
    header: bool,
}

/// Warnings collected during a parse, capped by `max_warnings`.
pub(crate) struct WarningSink {
    warnings: Vec<Warning>,
    max: usize,
}

impl WarningSink {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            warnings: Vec::new(),
            max,
        }
    }

    pub(crate) fn push(&mut self, warning: Warning) {
        if self.warnings.len() < self.max {
            self.warnings.push(warning);
        } else if self.warnings.len() == self.max {
            self.warnings.push(Warning::new(
                WarningKind::TooManyWarnings,
                warning.offset,
                None,
            ));
        }
    }

    pub(crate) fn into_vec(self) -> Vec<Warning> {
        self.warnings
    }
}

/// Header segments whose field 1 is the field separator.
pub(crate) const HEADER_IDS: [&[u8]; 3] = [b"MSH", b"FHS", b"BHS"];

fn is_header_id(id: &[u8]) -> bool {
    HEADER_IDS.contains(&id)
}

fn is_standard_segment_id(id: &[u8]) -> bool {
    matches!(id, [first, rest @ ..] if rest.len() == 2
        && first.is_ascii_uppercase()
        && rest.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
}

/// `0x0101…01`: multiplying a byte by it copies the byte into every lane of a `u64`.
const BYTE_LANES: u64 = 0x0101_0101_0101_0101;
/// Words without a delimiter after which the scan switches to `memchr2` to skip ahead.
const SPARSE_WORDS: u32 = 4;
/// `0x7F7F…7F`.
const LOW_SEVEN_BITS: u64 = 0x7F7F_7F7F_7F7F_7F7F;

/// `0x80` in each byte lane of `word` that is zero, `0x00` elsewhere. Exact: adding
/// `0x7F` to the low seven bits of a lane cannot carry into the next lane.
#[inline]
fn matching_bytes(word: u64) -> u64 {
    !(((word & LOW_SEVEN_BITS).wrapping_add(LOW_SEVEN_BITS)) | word | LOW_SEVEN_BITS)
}

/// True for bytes a blank line may consist of.
fn is_blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n' | 0)
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A parsed message: the input bytes plus an index of its segments and fields.
///
/// Create one with [`Message::parse`]; it borrows the input. Unedited, it writes back byte
/// for byte ([`Message::as_bytes`]; also [`crate::write`]).
#[derive(Clone, Debug)]
pub struct Message<'a> {
    input: &'a [u8],
    start: u32,
    delimiters: Delimiters,
    terminator: Terminator,
    charset: Charset,
    declaration: Declaration,
    escapes: DecodeOptions,
    strict_escapes: bool,
    strict_charset: bool,
    segments: Vec<SegmentSpan>,
    bounds: Vec<u32>,
    warnings: Vec<Warning>,
}

impl<'a> Message<'a> {
    /// Parses one message. The input must start with `MSH` (lenient mode skips a byte
    /// order mark and whitespace before it, with a warning). Problems lenient mode
    /// tolerates are in [`Message::warnings`].
    pub fn parse(input: &'a [u8], options: &ParseOptions) -> Result<Self> {
        Self::parse_with_headers(input, options, &[b"MSH"], "MSH")
    }

    /// [`Message::parse`] for text.
    pub fn parse_str(input: &'a str, options: &ParseOptions) -> Result<Self> {
        Self::parse(input.as_bytes(), options)
    }

    /// Parses input starting with one of `headers` (`MSH`, `FHS` or `BHS`).
    pub(crate) fn parse_with_headers(
        input: &'a [u8],
        options: &ParseOptions,
        headers: &[&[u8]],
        expected: &'static str,
    ) -> Result<Self> {
        check_size(input, options)?;
        let mut sink = WarningSink::new(options.max_warnings);
        let start = find_header_start(input, options, headers, expected, &mut sink)?;
        let header = input.get(start..).unwrap_or_default();
        let (delimiters, info) =
            Delimiters::from_header(header, start, !options.accept_short_encoding_characters)?;
        if let Some(warning) = info.warning {
            sink.push(warning);
        }
        let mut message = Self::index(input, start, delimiters, options, sink)?;
        message.resolve_charset(options)?;
        Ok(message)
    }

    /// Indexes segments (such as BTS/FTS trailers) with delimiters defined elsewhere.
    pub(crate) fn parse_with_delimiters(
        input: &'a [u8],
        delimiters: Delimiters,
        options: &ParseOptions,
    ) -> Result<Self> {
        check_size(input, options)?;
        Self::index(
            input,
            0,
            delimiters,
            options,
            WarningSink::new(options.max_warnings),
        )
    }

    fn index(
        input: &'a [u8],
        start: usize,
        delimiters: Delimiters,
        options: &ParseOptions,
        mut sink: WarningSink,
    ) -> Result<Self> {
        let body = input.get(start..).unwrap_or_default();
        let terminator = match memchr::memchr2(b'\r', b'\n', body) {
            None => Terminator::Cr,
            Some(position) => {
                let at = start.saturating_add(position);
                let terminator = match (body.get(position), body.get(position.saturating_add(1))) {
                    (Some(b'\r'), Some(b'\n')) => Terminator::CrLf,
                    (Some(b'\r'), _) => Terminator::Cr,
                    _ => Terminator::Lf,
                };
                if terminator != Terminator::Cr {
                    let location =
                        Location::segment(1, SegmentId::new(body.get(..3).unwrap_or_default()));
                    if !options.accept_lf_terminators {
                        return Err(Error::NonStandardTerminator {
                            offset: at,
                            location,
                            found: terminator,
                        });
                    }
                    sink.push(Warning::new(
                        WarningKind::NonStandardTerminator(terminator),
                        at,
                        Some(location),
                    ));
                }
                terminator
            }
        };
        let mut scanner = Scanner {
            input,
            options,
            terminator,
            segments: Vec::with_capacity(16),
            bounds: Vec::with_capacity(body.len().min(1 << 16) / 8),
            sink,
            first_bound: 0,
            pending_empty: None,
            inconsistent_reported: false,
        };
        scanner.scan(start, delimiters.field())?;
        Ok(Self {
            input,
            start: start as u32,
            delimiters,
            terminator,
            charset: Charset::Ascii,
            declaration: Declaration::Absent,
            escapes: options.escapes,
            strict_escapes: !options.lenient_escapes,
            strict_charset: !options.lenient_charset,
            segments: scanner.segments,
            bounds: scanner.bounds,
            warnings: scanner.sink.into_vec(),
        })
    }

    fn resolve_charset(&mut self, options: &ParseOptions) -> Result<()> {
        let Some(header) = self.segment(0) else {
            return Ok(());
        };
        let msh18 = header.field(18);
        let declared = msh18.repetition(1).raw();
        let (charset, declaration) = charset::resolve(declared, options.fallback_charset);
        let problem = match declaration {
            Declaration::Unsupported => Some(CharsetProblem::Unsupported),
            Declaration::Unknown => Some(CharsetProblem::Unknown),
            _ => None,
        };
        if let Some(problem) = problem {
            let offset = msh18.offset();
            let location = msh18.location();
            if !options.lenient_charset {
                return Err(Error::Charset {
                    offset,
                    location,
                    problem,
                });
            }
            let warning = Warning::new(WarningKind::Charset(problem), offset, Some(location));
            if self.warnings.len() < options.max_warnings {
                self.warnings.push(warning);
            }
        }
        self.charset = charset;
        self.declaration = declaration;
        Ok(())
    }

    /// The whole input, including any bytes skipped before `MSH` and after the last
    /// segment: an unedited message writes back byte for byte.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.input
    }

    /// Bytes skipped before the header segment (a byte order mark, whitespace).
    pub fn prefix(&self) -> &'a [u8] {
        self.input.get(..self.start as usize).unwrap_or_default()
    }

    /// Offset of the header segment in the input.
    pub fn header_offset(&self) -> usize {
        self.start as usize
    }

    /// The delimiters from MSH-1/MSH-2.
    pub fn delimiters(&self) -> &Delimiters {
        &self.delimiters
    }

    /// The segment terminator of the first segment (CR if the message has one segment
    /// and no terminator).
    pub fn terminator(&self) -> Terminator {
        self.terminator
    }

    /// The charset values are decoded with (from MSH-18, or the fallback).
    pub fn charset(&self) -> Charset {
        self.charset
    }

    /// How MSH-18 was understood.
    pub fn charset_declaration(&self) -> Declaration {
        self.declaration
    }

    /// What lenient mode tolerated while parsing.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Number of segments.
    #[inline]
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// The segment at 0-based `index`.
    #[inline]
    pub fn segment(&self, index: usize) -> Option<Segment<'_>> {
        let span = *self.segments.get(index)?;
        Some(Segment {
            message: self,
            index,
            span,
        })
    }

    /// All segments in order.
    pub fn segments(&self) -> Segments<'_> {
        Segments {
            message: self,
            range: 0..self.segments.len(),
        }
    }

    /// The segments with id `id`, in order (Z-segments and unknown ids included).
    pub fn segments_by_id(&self, id: &str) -> impl Iterator<Item = Segment<'_>> {
        self.segments()
            .filter(move |segment| segment.id() == id.as_bytes())
    }

    /// The header segment (`MSH`), if the message starts with one.
    pub fn msh(&self) -> Option<Segment<'_>> {
        self.segment(0).filter(|segment| segment.id() == b"MSH")
    }

    /// MSH-9, the message type (`ORU^R01^ORU_R01`).
    pub fn message_type(&self) -> Field<'_> {
        self.header_field(9)
    }

    /// MSH-10, the message control id.
    pub fn control_id(&self) -> Field<'_> {
        self.header_field(10)
    }

    /// MSH-12, the version id.
    pub fn version(&self) -> Field<'_> {
        self.header_field(12)
    }

    fn header_field(&self, number: usize) -> Field<'_> {
        match self.segment(0) {
            Some(header) => header.field(number),
            None => Field {
                piece: Piece::absent(self, Pos::default()),
            },
        }
    }

    /// The value at `path` (see [`crate::path`]), or `None` when it is not in the message
    /// or the path is malformed (use [`Message::try_get`] to tell these apart).
    pub fn get(&self, path: &str) -> Option<Value<'_>> {
        self.try_get(path).ok().flatten()
    }

    /// The value at `path`, or an error for a malformed path.
    pub fn try_get(&self, path: &str) -> core::result::Result<Option<Value<'_>>, PathError> {
        Ok(self.get_path(&Path::parse(path)?))
    }

    /// The value at a parsed path.
    pub fn get_path(&self, path: &Path) -> Option<Value<'_>> {
        let segment = self
            .segments()
            .filter(|segment| segment.id() == path.segment_id())
            .nth(path.occurrence().saturating_sub(1))?;
        let field = segment.field(path.field());
        if !field.is_present() {
            return None;
        }
        let mut piece = field.piece;
        let repetition = match (path.repetition(), path.component()) {
            (Some(n), _) => Some(n),
            (None, Some(_)) => Some(1),
            (None, None) => None,
        };
        if let Some(n) = repetition {
            piece = field.repetition(n).piece;
            if !piece.present {
                return None;
            }
            if path.repetition().is_none() {
                // Implicit first repetition: locate as `PID-5.1`, not `PID-5(1).1`.
                piece.pos.repetition = 0;
            }
        }
        if let Some(n) = path.component() {
            piece = Repetition { piece }.component(n).piece;
            if !piece.present {
                return None;
            }
        }
        if let Some(n) = path.subcomponent() {
            piece = Component { piece }.subcomponent(n).piece;
            if !piece.present {
                return None;
            }
        }
        Some(Value { piece })
    }

    /// Each segment with id `head` together with the run of segments right after it whose
    /// ids are in `members`. `groups("OBR", &["OBX", "NTE"])` gives each order with its
    /// results and notes.
    pub fn groups<'s>(&self, head: &'s str, members: &'s [&'s str]) -> Groups<'_, 's> {
        Groups {
            message: self,
            next: 0,
            head,
            members,
        }
    }

    /// Each OBX with the NTE segments that follow it (ORU/OUL-shaped messages).
    ///
    /// ```
    /// use labwire_hl7::message::{Message, ParseOptions};
    /// let msg = Message::parse(b"MSH|^~\\&\rOBR|1\rOBX|1\rNTE|1\rNTE|2\rOBX|2\r", &ParseOptions::default()).unwrap();
    /// let groups: Vec<_> = msg.observations().collect();
    /// assert_eq!(groups.len(), 2);
    /// assert_eq!(groups[0].members().len(), 2);
    /// assert_eq!(groups[1].head().field(1).as_str(), Some("2"));
    /// ```
    pub fn observations(&self) -> Groups<'_, 'static> {
        Groups {
            message: self,
            next: 0,
            head: "OBX",
            members: &["NTE"],
        }
    }

    #[inline]
    fn span_bounds(&self, span: &SegmentSpan) -> &[u32] {
        let first = span.first_bound as usize;
        self.bounds
            .get(first..first.saturating_add(span.bound_count as usize))
            .unwrap_or_default()
    }

    #[inline]
    fn slice(&self, start: usize, end: usize) -> &'a [u8] {
        self.input.get(start..end).unwrap_or_default()
    }
}

pub(crate) fn check_size(input: &[u8], options: &ParseOptions) -> Result<()> {
    let limit = options.size_limit();
    if input.len() > limit {
        return Err(Error::LimitExceeded {
            offset: limit,
            location: Location::message(),
            limit: Limit::MessageSize,
            max: limit,
        });
    }
    Ok(())
}

pub(crate) fn find_header_start(
    input: &[u8],
    options: &ParseOptions,
    headers: &[&[u8]],
    expected: &'static str,
    sink: &mut WarningSink,
) -> Result<usize> {
    let starts_with_header = |at: usize| {
        input
            .get(at..at.saturating_add(3))
            .is_some_and(|id| headers.contains(&id))
    };
    if starts_with_header(0) {
        return Ok(0);
    }
    if options.skip_leading_bytes {
        let after_bom = if input.starts_with(UTF8_BOM) {
            UTF8_BOM.len()
        } else {
            0
        };
        let rest = input.get(after_bom..).unwrap_or_default();
        let start = after_bom.saturating_add(rest.iter().take_while(|&&b| is_blank(b)).count());
        if starts_with_header(start) {
            sink.push(Warning::new(
                WarningKind::LeadingBytesSkipped { count: start },
                0,
                None,
            ));
            return Ok(start);
        }
    }
    Err(Error::MissingHeader {
        offset: 0,
        expected,
    })
}

/// The state of the one-pass structural scan.
struct Scanner<'i, 'o> {
    input: &'i [u8],
    options: &'o ParseOptions,
    terminator: Terminator,
    segments: Vec<SegmentSpan>,
    bounds: Vec<u32>,
    sink: WarningSink,
    first_bound: usize,
    /// Offset of the first blank line since the last segment.
    pending_empty: Option<usize>,
    inconsistent_reported: bool,
}

impl<'i> Scanner<'i, '_> {
    fn location(&self, id: &[u8]) -> Location {
        Location::segment(
            u32::try_from(self.segments.len().saturating_add(1)).unwrap_or(u32::MAX),
            SegmentId::new(id),
        )
    }

    fn id_of(&self, start: usize, end: usize) -> &'i [u8] {
        let input = self.input;
        let id_end = self
            .bounds
            .get(self.first_bound)
            .map_or(end, |&bound| bound as usize);
        input.get(start..id_end.min(end)).unwrap_or_default()
    }

    /// Finds every field separator and segment terminator in one pass. The bytes are
    /// read 8 at a time as a `u64` and compared with both delimiters at once (SWAR), so
    /// the cost per byte stays flat even though about one byte in seven is a delimiter
    /// (where a `memchr`-style search restarting after each hit loses its advantage).
    fn scan(&mut self, start: usize, field: u8) -> Result<()> {
        let split = if self.terminator == Terminator::Lf {
            b'\n'
        } else {
            b'\r'
        };
        let body = self.input.get(start..).unwrap_or_default();
        let field_word = BYTE_LANES.wrapping_mul(u64::from(field));
        let split_word = BYTE_LANES.wrapping_mul(u64::from(split));
        let mut segment_start = start;
        // `index` walks `body`; after `SPARSE_WORDS` words without a delimiter (base64,
        // long text) the next one is looked up with `memchr2`, which skips fast.
        let mut index = 0usize;
        let mut empty_words = 0u32;
        while let Some(chunk) = body.get(index..index + 8) {
            let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
                break;
            };
            let base = start + index;
            let word = u64::from_le_bytes(bytes);
            let fields = matching_bytes(word ^ field_word);
            let terminators = matching_bytes(word ^ split_word);
            index += 8;
            if fields | terminators == 0 {
                empty_words += 1;
                if empty_words >= SPARSE_WORDS {
                    empty_words = 0;
                    let rest = body.get(index..).unwrap_or_default();
                    // Land on the next delimiter (or the end); the word loop resumes there.
                    index += memchr::memchr2(field, split, rest).unwrap_or(rest.len());
                }
                continue;
            }
            empty_words = 0;
            if terminators == 0 {
                let mut mask = fields;
                while mask != 0 {
                    self.field_separator(
                        base + (mask.trailing_zeros() / 8) as usize,
                        segment_start,
                    )?;
                    mask &= mask - 1;
                }
            } else {
                let mut mask = fields | terminators;
                while mask != 0 {
                    let lowest = mask & mask.wrapping_neg();
                    let position = base + (mask.trailing_zeros() / 8) as usize;
                    if terminators & lowest != 0 {
                        segment_start = self.terminator_at(position, segment_start, split)?;
                    } else {
                        self.field_separator(position, segment_start)?;
                    }
                    mask &= mask - 1;
                }
            }
        }
        for (i, &byte) in body.get(index..).unwrap_or_default().iter().enumerate() {
            let position = start + index + i;
            if byte == field {
                self.field_separator(position, segment_start)?;
            } else if byte == split {
                segment_start = self.terminator_at(position, segment_start, split)?;
            }
        }
        if segment_start < self.input.len() {
            self.close_segment(segment_start, self.input.len())?;
        }
        Ok(())
    }

    #[inline]
    fn field_separator(&mut self, position: usize, segment_start: usize) -> Result<()> {
        let max_fields = self.options.max_fields_per_segment;
        if self.bounds.len() - self.first_bound >= max_fields {
            let id = self.id_of(segment_start, position);
            return Err(Error::LimitExceeded {
                offset: position,
                location: self.location(id),
                limit: Limit::FieldsPerSegment,
                max: max_fields,
            });
        }
        self.bounds.push(position as u32);
        Ok(())
    }

    /// Ends the segment at the terminator byte `position`; returns where the next one
    /// starts.
    fn terminator_at(&mut self, position: usize, segment_start: usize, split: u8) -> Result<usize> {
        let input = self.input;
        let mut segment_end = position;
        let mut next_start = position + 1;
        let consistent = if split == b'\n' {
            // LF message: a CR right before an LF belongs to the terminator.
            if position > segment_start && input.get(position - 1) == Some(&b'\r') {
                segment_end = position - 1;
                false
            } else {
                true
            }
        } else if input.get(position + 1) == Some(&b'\n') {
            next_start = position + 2;
            self.terminator == Terminator::CrLf
        } else {
            self.terminator == Terminator::Cr
        };
        if !consistent && !self.inconsistent_reported {
            self.inconsistent_reported = true;
            self.sink.push(Warning::new(
                WarningKind::InconsistentTerminators,
                segment_end,
                None,
            ));
        }
        self.close_segment(segment_start, segment_end)?;
        Ok(next_start)
    }

    fn close_segment(&mut self, start: usize, end: usize) -> Result<()> {
        let bytes = self.input.get(start..end).unwrap_or_default();
        if bytes.iter().all(|&b| is_blank(b)) {
            // Blank lines hold no field separator, so no boundary was recorded for them.
            self.first_bound = self.bounds.len();
            if self.pending_empty.is_none() {
                self.pending_empty = Some(start);
            }
            return Ok(());
        }
        let id = self.id_of(start, end);
        if let Some(offset) = self.pending_empty.take() {
            let location = self.location(id);
            if !self.options.skip_empty_segments {
                return Err(Error::EmptySegment { offset, location });
            }
            self.sink.push(Warning::new(
                WarningKind::EmptySegment,
                offset,
                Some(location),
            ));
        }
        if self.segments.len() >= self.options.max_segments {
            return Err(Error::LimitExceeded {
                offset: start,
                location: self.location(id),
                limit: Limit::Segments,
                max: self.options.max_segments,
            });
        }
        if !is_standard_segment_id(id) {
            let location = self.location(id);
            if !self.options.accept_unusual_segment_ids {
                return Err(Error::InvalidSegmentId {
                    offset: start,
                    location,
                });
            }
            self.sink.push(Warning::new(
                WarningKind::UnusualSegmentId,
                start,
                Some(location),
            ));
        } else if id == b"MSH" && !self.segments.is_empty() {
            let location = self.location(id);
            self.sink.push(Warning::new(
                WarningKind::AnotherMessageHeader,
                start,
                Some(location),
            ));
        }
        let bound_count = self.bounds.len() - self.first_bound;
        self.segments.push(SegmentSpan {
            start: start as u32,
            end: end as u32,
            first_bound: self.first_bound as u32,
            bound_count: bound_count as u32,
            header: is_header_id(id),
        });
        self.first_bound = self.bounds.len();
        Ok(())
    }
}

/// Position of a view, for locations (0 = not at that level).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Pos {
    segment: u32,
    field: u32,
    repetition: u32,
    component: u32,
    subcomponent: u32,
}

/// The common part of every view: a slice of the input and where it is.
#[derive(Clone, Copy)]
struct Piece<'m> {
    message: &'m Message<'m>,
    raw: &'m [u8],
    offset: u32,
    present: bool,
    /// MSH-1/MSH-2: never split or unescaped.
    opaque: bool,
    /// Known to hold no repetition, subcomponent or escape character and only ASCII:
    /// one repetition, one subcomponent per component, and text that decodes to
    /// itself. Set for fields that are so (checked once) and inherited by their parts;
    /// `false` only means "not known", never changes a result.
    simple: bool,
    pos: Pos,
}

impl<'m> Piece<'m> {
    #[inline]
    fn absent(message: &'m Message<'m>, pos: Pos) -> Self {
        Self {
            message,
            raw: &[],
            offset: 0,
            present: false,
            opaque: false,
            simple: false,
            pos,
        }
    }

    fn location(&self) -> Location {
        let message = self.message;
        let Some(span) = message.segments.get(self.pos.segment as usize) else {
            return Location::message();
        };
        let id = Segment {
            message,
            index: self.pos.segment as usize,
            span: *span,
        }
        .id();
        let mut location =
            Location::segment(self.pos.segment.saturating_add(1), SegmentId::new(id));
        let nonzero = |n: u32| (n != 0).then_some(n);
        location.field = nonzero(self.pos.field);
        location.repetition = nonzero(self.pos.repetition);
        location.component = nonzero(self.pos.component);
        location.subcomponent = nonzero(self.pos.subcomponent);
        location
    }

    #[inline]
    fn offset(&self) -> usize {
        if self.present {
            self.offset as usize
        } else {
            // Absent views point at the end of their segment.
            self.message
                .segments
                .get(self.pos.segment as usize)
                .map_or(0, |span| span.end as usize)
        }
    }

    /// The `n`th (1-based) piece of this one split on `delimiter`.
    #[inline]
    fn nth(&self, delimiter: Option<u8>, n: usize, pos: Pos) -> Self {
        if !self.present || n == 0 || (self.raw.is_empty() && !self.opaque) {
            return Self::absent(self.message, pos);
        }
        let found = match (self.opaque, delimiter) {
            (true, _) | (false, None) => (n == 1).then_some((0, self.raw)),
            // A simple piece holds no repetition or subcomponent separator.
            (false, Some(_)) if self.simple && delimiter != self.message.delimiters.component() => {
                (n == 1).then_some((0, self.raw))
            }
            (false, Some(d)) => nth_split(self.raw, d, n - 1),
        };
        match found {
            Some((start, raw)) => Self {
                message: self.message,
                raw,
                offset: self.offset.saturating_add(start as u32),
                present: true,
                opaque: self.opaque,
                simple: self.simple,
                pos,
            },
            None => Self::absent(self.message, pos),
        }
    }

    #[inline]
    fn count(&self, delimiter: Option<u8>) -> usize {
        if !self.present || (self.raw.is_empty() && !self.opaque) {
            return 0;
        }
        match (self.opaque, delimiter) {
            (false, Some(d)) => count_byte(d, self.raw) + 1,
            _ => 1,
        }
    }

    #[inline]
    fn children(&self, delimiter: Option<u8>) -> Children<'m> {
        // A simple piece holds no repetition or subcomponent separator: one child, the
        // whole piece, without a search.
        let unsplit =
            self.opaque || (self.simple && delimiter != self.message.delimiters.component());
        let delimiter = if unsplit { None } else { delimiter };
        let empty = !self.present || (self.raw.is_empty() && !self.opaque);
        Children {
            parent: *self,
            splits: Splits {
                rest: self.raw,
                offset: 0,
                delimiter,
                done: empty,
            },
            index: 0,
        }
    }

    fn decoded_with(&self, warnings: &mut Vec<Warning>) -> Result<Cow<'m, str>> {
        let message = self.message;
        if self.opaque {
            return Ok(String::from_utf8_lossy(self.raw));
        }
        // Most values are plain ASCII without an escape character: every charset
        // decodes those to themselves, so they are borrowed without looking further
        // (and without building the location that only a warning would need).
        let escape = message.delimiters.escape();
        if (self.simple
            || self
                .raw
                .iter()
                .all(|&byte| byte.is_ascii() && Some(byte) != escape))
            && let Ok(text) = core::str::from_utf8(self.raw)
        {
            return Ok(Cow::Borrowed(text));
        }
        let location = Some(self.location());
        let offset = self.offset as usize;
        let bytes = escape::decode_inner(
            self.raw,
            &message.delimiters,
            &message.escapes,
            message.strict_escapes,
            offset,
            location,
            warnings,
        )?;
        let origin = Origin {
            offset,
            exact: matches!(bytes, Cow::Borrowed(_)),
            location,
        };
        charset::decode_cow(
            bytes,
            message.charset,
            message.strict_charset,
            &origin,
            warnings,
        )
    }
}

/// Values up to this length are searched byte by byte: for the short fields and
/// components of HL7, that is faster than setting up a vectorized search.
const SHORT_VALUE: usize = 48;

/// The position of the first `byte` in `haystack`.
#[inline]
fn find_byte(byte: u8, haystack: &[u8]) -> Option<usize> {
    if haystack.len() <= SHORT_VALUE {
        haystack.iter().position(|&b| b == byte)
    } else {
        memchr::memchr(byte, haystack)
    }
}

/// The high bit of every lane of a `u64`.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Whether a lane of `word` is zero (exact for "any", the classic test).
#[inline]
fn has_zero_lane(word: u64) -> bool {
    word.wrapping_sub(BYTE_LANES) & !word & HIGH_BITS != 0
}

/// Whether `raw` is ASCII without the repetition, subcomponent and escape characters
/// (see `Piece::simple`). Eight bytes at a time.
#[inline]
fn is_simple(raw: &[u8], delimiters: &Delimiters) -> bool {
    // An absent delimiter is stood in for by 0x80, which no ASCII byte equals.
    let [repetition, subcomponent, escape] = [
        delimiters.repetition(),
        delimiters.subcomponent(),
        delimiters.escape(),
    ]
    .map(|byte| byte.unwrap_or(0x80));
    let lanes =
        [repetition, subcomponent, escape].map(|byte| BYTE_LANES.wrapping_mul(u64::from(byte)));
    let mut words = raw.chunks_exact(8);
    for chunk in &mut words {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
            return false;
        };
        let word = u64::from_le_bytes(bytes);
        if word & HIGH_BITS != 0 || lanes.iter().any(|&lane| has_zero_lane(word ^ lane)) {
            return false;
        }
    }
    words.remainder().iter().all(|&byte| {
        byte.is_ascii() && byte != repetition && byte != subcomponent && byte != escape
    })
}

/// The `index`-th (0-based) piece of `raw` split on `delimiter`, with its offset:
/// what `Splits::new(raw, delimiter).nth(index)` yields, in one loop.
#[inline]
fn nth_split(raw: &[u8], delimiter: u8, index: usize) -> Option<(usize, &[u8])> {
    let mut start = 0usize;
    let mut seen = 0usize;
    let mut end_of = |position: usize| -> Option<Option<(usize, &[u8])>> {
        if seen == index {
            return Some(raw.get(start..position).map(|piece| (start, piece)));
        }
        seen = seen.saturating_add(1);
        start = position.saturating_add(1);
        None
    };
    if raw.len() <= SHORT_VALUE {
        for (position, &byte) in raw.iter().enumerate() {
            if byte == delimiter
                && let Some(found) = end_of(position)
            {
                return found;
            }
        }
    } else {
        for position in memchr::memchr_iter(delimiter, raw) {
            if let Some(found) = end_of(position) {
                return found;
            }
        }
    }
    if seen == index {
        raw.get(start..).map(|piece| (start, piece))
    } else {
        None
    }
}

/// How often `byte` occurs in `haystack`.
#[inline]
fn count_byte(byte: u8, haystack: &[u8]) -> usize {
    if haystack.len() <= SHORT_VALUE {
        haystack.iter().filter(|&&b| b == byte).count()
    } else {
        memchr::memchr_iter(byte, haystack).count()
    }
}

/// Splits a slice on one byte, yielding `(offset, piece)`.
#[derive(Clone, Copy)]
struct Splits<'m> {
    rest: &'m [u8],
    offset: usize,
    delimiter: Option<u8>,
    done: bool,
}

impl<'m> Splits<'m> {
    #[cfg(test)]
    fn new(raw: &'m [u8], delimiter: u8) -> Self {
        Self {
            rest: raw,
            offset: 0,
            delimiter: Some(delimiter),
            done: false,
        }
    }
}

impl<'m> Iterator for Splits<'m> {
    type Item = (usize, &'m [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let found = self.delimiter.and_then(|d| find_byte(d, self.rest));
        match found {
            Some(position) => {
                let (piece, after) = self.rest.split_at_checked(position)?;
                let item = (self.offset, piece);
                self.rest = after.get(1..).unwrap_or_default();
                self.offset = self.offset.saturating_add(position).saturating_add(1);
                Some(item)
            }
            None => {
                self.done = true;
                Some((self.offset, self.rest))
            }
        }
    }
}

/// Iterates the child pieces of a view.
#[derive(Clone)]
struct Children<'m> {
    parent: Piece<'m>,
    splits: Splits<'m>,
    index: u32,
}

impl<'m> Children<'m> {
    #[inline]
    fn next_piece(&mut self, level: Level) -> Option<Piece<'m>> {
        let (start, raw) = self.splits.next()?;
        self.index = self.index.saturating_add(1);
        let mut pos = self.parent.pos;
        level.set(&mut pos, self.index);
        Some(Piece {
            message: self.parent.message,
            raw,
            offset: self.parent.offset.saturating_add(start as u32),
            present: true,
            opaque: self.parent.opaque,
            simple: self.parent.simple,
            pos,
        })
    }
}

#[derive(Clone, Copy)]
enum Level {
    Repetition,
    Component,
    Subcomponent,
}

impl Level {
    #[inline]
    fn set(self, pos: &mut Pos, n: u32) {
        match self {
            Self::Repetition => pos.repetition = n,
            Self::Component => pos.component = n,
            Self::Subcomponent => pos.subcomponent = n,
        }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One segment of a message.
#[derive(Clone, Copy)]
pub struct Segment<'m> {
    message: &'m Message<'m>,
    index: usize,
    span: SegmentSpan,
}

impl<'m> Segment<'m> {
    /// The segment id: the bytes before the first field separator (`PID`, `ZBR`, or
    /// whatever a broken sender wrote).
    #[inline]
    pub fn id(&self) -> &'m [u8] {
        let end = self
            .message
            .span_bounds(&self.span)
            .first()
            .map_or(self.span.end, |&b| b);
        self.message.slice(self.span.start as usize, end as usize)
    }

    /// The segment id as text (empty if it is not UTF-8).
    pub fn id_str(&self) -> &'m str {
        core::str::from_utf8(self.id()).unwrap_or_default()
    }

    /// The segment's bytes without its terminator.
    pub fn raw(&self) -> &'m [u8] {
        self.message
            .slice(self.span.start as usize, self.span.end as usize)
    }

    /// The bytes between this segment and the next one (its terminator, plus any blank
    /// lines that were skipped); after the last segment, everything up to the end.
    pub fn trailing_bytes(&self) -> &'m [u8] {
        let next = self
            .message
            .segments
            .get(self.index.saturating_add(1))
            .map_or(self.message.input.len(), |span| span.start as usize);
        self.message.slice(self.span.end as usize, next)
    }

    /// Offset of the segment in the input.
    pub fn offset(&self) -> usize {
        self.span.start as usize
    }

    /// 0-based position in the message.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Where this segment is (`segment 5 (OBX)`).
    pub fn location(&self) -> Location {
        Location::segment(
            to_u32(self.index.saturating_add(1)),
            SegmentId::new(self.id()),
        )
    }

    /// True for `MSH`, `FHS` and `BHS`, whose field 1 is the field separator.
    pub fn is_header(&self) -> bool {
        self.span.header
    }

    /// Number of fields (for a header segment this counts MSH-1).
    pub fn field_count(&self) -> usize {
        let separators = self.span.bound_count as usize;
        if self.is_header() && separators > 0 {
            separators + 1
        } else {
            separators
        }
    }

    /// Field `number` (1-based, HL7 numbering). Out of range gives an absent field.
    #[inline]
    pub fn field(&self, number: usize) -> Field<'m> {
        let message = self.message;
        let pos = Pos {
            segment: to_u32(self.index),
            field: to_u32(number),
            ..Pos::default()
        };
        let bounds = message.span_bounds(&self.span);
        let header = self.is_header();
        let token = if header {
            number.saturating_sub(1)
        } else {
            number
        };
        if header && number == 1 {
            // MSH-1 is the field separator itself.
            if let Some(&separator) = bounds.first() {
                return Field {
                    piece: Piece {
                        message,
                        raw: message.slice(separator as usize, separator as usize + 1),
                        offset: separator,
                        present: true,
                        opaque: true,
                        simple: false,
                        pos,
                    },
                };
            }
        }
        if number == 0 || token == 0 {
            return Field {
                piece: Piece::absent(message, pos),
            };
        }
        let (Some(&separator), Some(end)) = (
            bounds.get(token - 1),
            bounds.get(token).copied().or(Some(self.span.end)),
        ) else {
            return Field {
                piece: Piece::absent(message, pos),
            };
        };
        let start = separator.saturating_add(1);
        let raw = message.slice(start as usize, end as usize);
        let opaque = header && number == 2;
        Field {
            piece: Piece {
                message,
                raw,
                offset: start,
                present: true,
                opaque,
                simple: false,
                pos,
            },
        }
    }

    /// Fields 1..=`field_count()`.
    pub fn fields(&self) -> impl Iterator<Item = Field<'m>> + use<'m> {
        let segment = *self;
        (1..=self.field_count()).map(move |n| segment.field(n))
    }
}

impl fmt::Debug for Segment<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Segment")
            .field("index", &self.index)
            .field("raw", &String::from_utf8_lossy(self.raw()))
            .finish()
    }
}

/// Iterator over a range of segments.
#[derive(Clone, Debug)]
pub struct Segments<'m> {
    message: &'m Message<'m>,
    range: core::ops::Range<usize>,
}

impl<'m> Iterator for Segments<'m> {
    type Item = Segment<'m>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let index = self.range.next()?;
        self.message.segment(index)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.range.size_hint()
    }
}

impl DoubleEndedIterator for Segments<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let index = self.range.next_back()?;
        self.message.segment(index)
    }
}

impl ExactSizeIterator for Segments<'_> {}

/// A segment and the run of segments that follow it (see [`Message::groups`]).
#[derive(Clone)]
pub struct Group<'m> {
    head: Segment<'m>,
    members: Segments<'m>,
}

impl<'m> Group<'m> {
    /// The segment that starts the group (e.g. the OBX).
    pub fn head(&self) -> Segment<'m> {
        self.head
    }

    /// The segments after the head (e.g. its NTEs).
    pub fn members(&self) -> Segments<'m> {
        self.members.clone()
    }
}

impl fmt::Debug for Group<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field("head", &self.head)
            .field("members", &self.members.range)
            .finish()
    }
}

/// Iterator over groups (see [`Message::groups`]).
#[derive(Clone, Debug)]
pub struct Groups<'m, 's> {
    message: &'m Message<'m>,
    next: usize,
    head: &'s str,
    members: &'s [&'s str],
}

impl<'m> Iterator for Groups<'m, '_> {
    type Item = Group<'m>;

    fn next(&mut self) -> Option<Self::Item> {
        let message = self.message;
        let head = (self.next..message.segment_count())
            .filter_map(|i| message.segment(i))
            .find(|segment| segment.id() == self.head.as_bytes())?;
        let first_member = head.index.saturating_add(1);
        let end = (first_member..message.segment_count())
            .find(|&i| {
                message
                    .segment(i)
                    .is_none_or(|s| !self.members.iter().any(|m| m.as_bytes() == s.id()))
            })
            .unwrap_or(message.segment_count());
        self.next = end;
        Some(Group {
            head,
            members: Segments {
                message,
                range: first_member..end,
            },
        })
    }
}

macro_rules! value_methods {
    ($name:ident) => {
        impl<'m> $name<'m> {
            /// The bytes as on the wire (escapes not decoded).
            #[inline]
            pub fn raw(&self) -> &'m [u8] {
                self.piece.raw
            }

            /// The raw bytes as text, if they are UTF-8 (escapes not decoded).
            pub fn as_str(&self) -> Option<&'m str> {
                core::str::from_utf8(self.piece.raw).ok()
            }

            /// Known to need no splitting on repetitions or subcomponents and no
            /// decoding (see `Piece::simple`).
            #[inline]
            pub(crate) fn is_simple(&self) -> bool {
                self.piece.simple
            }

            /// True when the element exists in the message (it may still be empty).
            #[inline]
            pub fn is_present(&self) -> bool {
                self.piece.present
            }

            /// True when the element is absent or has no bytes.
            #[inline]
            pub fn is_empty(&self) -> bool {
                self.piece.raw.is_empty()
            }

            /// True for the explicit null `""`, which tells the receiver to delete its
            /// value (unlike an empty element, which leaves it unchanged).
            #[inline]
            pub fn is_null(&self) -> bool {
                self.piece.raw == b"\"\""
            }

            /// Offset in the input (for an absent element: the end of its segment).
            #[inline]
            pub fn offset(&self) -> usize {
                self.piece.offset()
            }

            /// Where the element is, e.g. `PID-3(2).4`.
            pub fn location(&self) -> Location {
                self.piece.location()
            }

            /// The text with escapes decoded and MSH-18 applied; borrowed when there is
            /// nothing to decode. Warnings of lenient mode are dropped; in strict mode a
            /// malformed escape or a byte outside the charset is an error. The explicit null
            /// decodes to `""` (two quote characters): check [`Self::is_null`].
            pub fn decoded(&self) -> Result<Cow<'m, str>> {
                self.piece.decoded_with(&mut Vec::new())
            }

            /// [`Self::decoded`], adding lenient-mode warnings to `warnings`.
            #[inline]
            pub fn decoded_with_warnings(
                &self,
                warnings: &mut Vec<Warning>,
            ) -> Result<Cow<'m, str>> {
                self.piece.decoded_with(warnings)
            }
        }

        impl fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("location", &self.location().to_string())
                    .field("raw", &String::from_utf8_lossy(self.raw()))
                    .finish()
            }
        }
    };
}

/// One field of a segment (all its repetitions).
#[derive(Clone, Copy)]
pub struct Field<'m> {
    piece: Piece<'m>,
}

value_methods!(Field);

impl<'m> Field<'m> {
    /// Number of repetitions (0 for an empty field).
    #[inline]
    pub fn repetition_count(&self) -> usize {
        self.piece.count(self.piece.message.delimiters.repetition())
    }

    /// Repetition `n` (1-based).
    #[inline]
    pub fn repetition(&self, n: usize) -> Repetition<'m> {
        let mut pos = self.piece.pos;
        pos.repetition = to_u32(n);
        Repetition {
            piece: self
                .classified()
                .nth(self.piece.message.delimiters.repetition(), n, pos),
        }
    }

    /// The repetitions in order (none for an empty field).
    #[inline]
    pub fn repetitions(&self) -> impl Iterator<Item = Repetition<'m>> + use<'m> {
        let mut children = self
            .classified()
            .children(self.piece.message.delimiters.repetition());
        core::iter::from_fn(move || {
            children
                .next_piece(Level::Repetition)
                .map(|piece| Repetition { piece })
        })
    }

    /// The field's piece, marked simple when it is (see `Piece::simple`). Splitting
    /// into repetitions reads the field anyway; this reads it once, word by word, so
    /// that its parts need no further search for repetitions, subcomponents or escapes.
    #[inline]
    fn classified(&self) -> Piece<'m> {
        let mut piece = self.piece;
        piece.simple =
            piece.simple || (!piece.opaque && is_simple(piece.raw, &piece.message.delimiters));
        piece
    }

    /// Component `n` of the first repetition (`PID-5.1`).
    #[inline]
    pub fn component(&self, n: usize) -> Component<'m> {
        let mut first = self.repetition(1);
        // The repetition is implicit, as in the path `PID-5.1`.
        first.piece.pos.repetition = 0;
        first.component(n)
    }
}

/// One repetition of a field.
#[derive(Clone, Copy)]
pub struct Repetition<'m> {
    piece: Piece<'m>,
}

value_methods!(Repetition);

impl<'m> Repetition<'m> {
    /// Number of components (0 when empty).
    #[inline]
    pub fn component_count(&self) -> usize {
        self.piece.count(self.piece.message.delimiters.component())
    }

    /// Component `n` (1-based).
    #[inline]
    pub fn component(&self, n: usize) -> Component<'m> {
        let mut pos = self.piece.pos;
        pos.component = to_u32(n);
        Component {
            piece: self
                .piece
                .nth(self.piece.message.delimiters.component(), n, pos),
        }
    }

    /// The components in order.
    #[inline]
    pub fn components(&self) -> impl Iterator<Item = Component<'m>> + use<'m> {
        let mut children = self
            .piece
            .children(self.piece.message.delimiters.component());
        core::iter::from_fn(move || {
            children
                .next_piece(Level::Component)
                .map(|piece| Component { piece })
        })
    }

    /// Components 1 to `N` split in one pass: element `i` is `self.component(i + 1)`
    /// (absent past the last component), without rescanning the repetition per
    /// component.
    #[inline]
    pub(crate) fn first_components<const N: usize>(&self) -> [Component<'m>; N] {
        let message = self.piece.message;
        let parent = self.piece.pos;
        let mut children = self
            .piece
            .children(self.piece.message.delimiters.component());
        // `from_fn` fills the slots in order, so each takes the next component.
        core::array::from_fn(|index| match children.next_piece(Level::Component) {
            Some(piece) => Component { piece },
            None => {
                let mut pos = parent;
                pos.component = to_u32(index.saturating_add(1));
                Component {
                    piece: Piece::absent(message, pos),
                }
            }
        })
    }
}

/// One component of a repetition.
#[derive(Clone, Copy)]
pub struct Component<'m> {
    piece: Piece<'m>,
}

value_methods!(Component);

impl<'m> Component<'m> {
    /// Number of subcomponents (0 when empty).
    #[inline]
    pub fn subcomponent_count(&self) -> usize {
        self.piece
            .count(self.piece.message.delimiters.subcomponent())
    }

    /// Subcomponent `n` (1-based).
    #[inline]
    pub fn subcomponent(&self, n: usize) -> Subcomponent<'m> {
        let mut pos = self.piece.pos;
        pos.subcomponent = to_u32(n);
        Subcomponent {
            piece: self
                .piece
                .nth(self.piece.message.delimiters.subcomponent(), n, pos),
        }
    }

    /// The subcomponents in order.
    #[inline]
    pub fn subcomponents(&self) -> impl Iterator<Item = Subcomponent<'m>> + use<'m> {
        let mut children = self
            .piece
            .children(self.piece.message.delimiters.subcomponent());
        core::iter::from_fn(move || {
            children
                .next_piece(Level::Subcomponent)
                .map(|piece| Subcomponent { piece })
        })
    }
}

/// One subcomponent of a component.
#[derive(Clone, Copy)]
pub struct Subcomponent<'m> {
    piece: Piece<'m>,
}

value_methods!(Subcomponent);

/// The value a [path](crate::path) points at: a field, repetition, component or
/// subcomponent.
#[derive(Clone, Copy)]
pub struct Value<'m> {
    piece: Piece<'m>,
}

value_methods!(Value);

#[cfg(test)]
mod tests {
    use super::*;

    const ORU: &[u8] =
        b"MSH|^~\\&|LAB|ACME|LIS|HOSP|20240101120000||ORU^R01^ORU_R01|MSG42|P|2.5.1\r\
PID|1||123^^^HOSP^MR~456^^^LAB||DOE^JANE^Q||19800101|F\r\
OBR|1|ORD1|FIL1|GLU^Glucose^L\r\
OBX|1|NM|GLU^Glucose^L||5.4|mmol/L|3.9-6.1|N|||F\r\
NTE|1||fasting\r\
OBX|2|ST|CMT^Comment^L||a\\T\\b \\F\\ c|||||F\r\
ZBR|1|custom&sub^x\r";

    fn parse(input: &[u8]) -> Message<'_> {
        Message::parse(input, &ParseOptions::default()).unwrap()
    }

    #[test]
    fn msh_numbering_is_offset_by_the_field_separator() {
        let msg = parse(ORU);
        let msh = msg.msh().unwrap();
        assert_eq!(msh.field(1).raw(), b"|");
        assert_eq!(msh.field(2).raw(), b"^~\\&");
        assert_eq!(msh.field(3).raw(), b"LAB");
        assert_eq!(msh.field(9).raw(), b"ORU^R01^ORU_R01");
        assert_eq!(msh.field(10).raw(), b"MSG42");
        assert_eq!(msh.field(12).raw(), b"2.5.1");
        assert_eq!(msh.field_count(), 12);
        assert_eq!(msg.message_type().component(2).raw(), b"R01");
        assert_eq!(msg.control_id().as_str(), Some("MSG42"));
        assert_eq!(msg.version().as_str(), Some("2.5.1"));
    }

    #[test]
    fn encoding_characters_are_opaque() {
        let msg = parse(ORU);
        let msh2 = msg.msh().unwrap().field(2);
        assert_eq!(msh2.repetition_count(), 1);
        assert_eq!(msh2.component(1).raw(), b"^~\\&");
        assert_eq!(msh2.decoded().unwrap(), "^~\\&");
        assert!(!msh2.component(2).is_present());
    }

    #[test]
    fn other_segments_count_from_the_first_field_separator() {
        let msg = parse(ORU);
        let pid = msg.segment(1).unwrap();
        assert_eq!(pid.id(), b"PID");
        assert_eq!(pid.field(1).raw(), b"1");
        assert_eq!(pid.field(3).repetition_count(), 2);
        assert_eq!(pid.field(3).repetition(2).component(1).raw(), b"456");
        assert_eq!(pid.field(3).repetition(1).component(5).raw(), b"MR");
        assert_eq!(pid.field(5).component(2).raw(), b"JANE");
        assert_eq!(pid.field(8).raw(), b"F");
        assert_eq!(pid.field_count(), 8);
        assert!(!pid.field(9).is_present());
        assert!(!pid.field(0).is_present());
    }

    #[test]
    fn out_of_range_indexes_give_empty_views() {
        let msg = parse(ORU);
        let pid = msg.segment(1).unwrap();
        let far = pid.field(1000).repetition(3).component(7).subcomponent(2);
        assert!(!far.is_present());
        assert!(far.is_empty());
        assert_eq!(far.decoded().unwrap(), "");
        assert_eq!(pid.field(5).component(0).raw(), b"");
        assert!(msg.segment(99).is_none());
    }

    #[test]
    fn locations_name_the_element() {
        let msg = parse(ORU);
        let pid = msg.segment(1).unwrap();
        let cx4 = pid.field(3).repetition(2).component(4);
        assert_eq!(cx4.location().to_string(), "PID-3(2).4");
        assert_eq!(
            cx4.offset(),
            ORU.windows(9).position(|w| w == b"456^^^LAB").unwrap() + 6
        );
        assert_eq!(pid.location().to_string(), "segment 2 (PID)");
        let sub = msg
            .segment(6)
            .unwrap()
            .field(2)
            .component(1)
            .subcomponent(2);
        assert_eq!(sub.raw(), b"sub");
        assert_eq!(sub.location().to_string(), "ZBR-2.1.2");
        assert_eq!(
            msg.get("PID-5.2").unwrap().location().to_string(),
            "PID-5.2"
        );
        assert_eq!(
            msg.get("PID-3(2).4").unwrap().location().to_string(),
            "PID-3(2).4"
        );
    }

    #[test]
    fn iterators_yield_each_level() {
        let msg = parse(ORU);
        let ids: Vec<_> = msg.segments().map(|s| s.id_str()).collect();
        assert_eq!(ids, ["MSH", "PID", "OBR", "OBX", "NTE", "OBX", "ZBR"]);
        assert_eq!(msg.segments_by_id("OBX").count(), 2);
        let pid = msg.segment(1).unwrap();
        let reps: Vec<_> = pid.field(3).repetitions().map(|r| r.raw()).collect();
        assert_eq!(reps, [&b"123^^^HOSP^MR"[..], b"456^^^LAB"]);
        let components: Vec<_> = pid
            .field(5)
            .repetition(1)
            .components()
            .map(|c| c.raw())
            .collect();
        assert_eq!(components, [&b"DOE"[..], b"JANE", b"Q"]);
        let last = pid
            .field(3)
            .repetitions()
            .last()
            .unwrap()
            .components()
            .nth(3)
            .unwrap();
        assert_eq!(last.location().to_string(), "PID-3(2).4");
        assert_eq!(pid.fields().count(), 8);
        assert_eq!(pid.field(2).repetitions().count(), 0);
    }

    #[test]
    fn decoded_borrows_plain_values_and_decodes_escapes() {
        let msg = parse(ORU);
        let plain = msg.get("OBX-3.2").unwrap().decoded().unwrap();
        assert!(matches!(plain, Cow::Borrowed("Glucose")));
        let escaped = msg.get("OBX(2)-5").unwrap();
        assert_eq!(escaped.decoded().unwrap(), "a&b | c");
    }

    #[test]
    fn null_differs_from_empty() {
        let msg = parse(b"MSH|^~\\&\rPID|1|\"\"||x\r");
        let pid = msg.segment(1).unwrap();
        assert!(pid.field(2).is_null());
        assert!(!pid.field(2).is_empty());
        assert!(pid.field(3).is_empty());
        assert!(pid.field(3).is_present());
        assert!(!pid.field(3).is_null());
    }

    #[test]
    fn groups_collect_following_segments() {
        let msg = parse(ORU);
        let groups: Vec<_> = msg.observations().collect();
        assert_eq!(groups.len(), 2);
        assert_eq!(
            groups[0].members().map(|s| s.id_str()).collect::<Vec<_>>(),
            ["NTE"]
        );
        assert_eq!(groups[1].members().len(), 0);
        let orders: Vec<_> = msg.groups("OBR", &["OBX", "NTE"]).collect();
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0].members().len(), 3);
    }

    #[test]
    fn custom_delimiters_are_honoured() {
        let msg = parse(b"MSH#$%@!#APP#FAC\rPID#1##a$b%c$d!e#x@F@y\r");
        let pid = msg.segment(1).unwrap();
        assert_eq!(msg.msh().unwrap().field(3).raw(), b"APP");
        assert_eq!(
            pid.field(3)
                .repetition(2)
                .component(2)
                .subcomponent(2)
                .raw(),
            b"e"
        );
        assert_eq!(pid.field(4).decoded().unwrap(), "x#y");
    }

    #[test]
    fn lf_and_crlf_terminators_are_recorded_with_one_warning() {
        let lf = parse(b"MSH|^~\\&|A\nPID|1\nOBX|1\n");
        assert_eq!(lf.terminator(), Terminator::Lf);
        assert_eq!(lf.segment_count(), 3);
        assert_eq!(lf.warnings().len(), 1);
        let crlf = parse(b"MSH|^~\\&|A\r\nPID|1\r\nOBX|1\r\n");
        assert_eq!(crlf.terminator(), Terminator::CrLf);
        assert_eq!(crlf.segment(2).unwrap().raw(), b"OBX|1");
        assert_eq!(crlf.segment(1).unwrap().trailing_bytes(), b"\r\n");
        assert!(matches!(
            crlf.warnings()[0].kind,
            WarningKind::NonStandardTerminator(Terminator::CrLf)
        ));
    }

    #[test]
    fn raw_lf_inside_cr_terminated_nte_is_data() {
        // deoxxa/hl7 PR #3: NTE text carries raw LF.
        let msg = parse(b"MSH|^~\\&\rNTE|1||line one\nline two\rOBX|1\r");
        assert_eq!(msg.segment_count(), 3);
        assert_eq!(
            msg.segment(1).unwrap().field(3).raw(),
            b"line one\nline two"
        );
    }

    #[test]
    fn strict_mode_rejects_each_relaxation() {
        let strict = ParseOptions::strict();
        for input in [
            &b"MSH|^~\\&\nPID|1\n"[..],
            b"\xEF\xBB\xBFMSH|^~\\&\rPID|1\r",
            b"MSH|^~\\&\r\rPID|1\r",
            b"MSH|^~\\&\rpid|1\r",
            b"MSH|^~|\rPID|1\r",
        ] {
            assert!(Message::parse(input, &strict).is_err(), "{input:?}");
            assert!(
                Message::parse(input, &ParseOptions::default()).is_ok(),
                "{input:?}"
            );
        }
        // Trailing terminators are fine even in strict mode.
        assert!(Message::parse(b"MSH|^~\\&\rPID|1\r\r\r", &strict).is_ok());
    }

    #[test]
    fn leading_bom_is_skipped_and_kept_for_writing() {
        let input = b"\xEF\xBB\xBFMSH|^~\\&|A\n";
        let msg = parse(input);
        assert_eq!(msg.prefix(), b"\xEF\xBB\xBF");
        assert_eq!(msg.as_bytes(), input);
        assert!(matches!(
            msg.warnings()[0].kind,
            WarningKind::LeadingBytesSkipped { count: 3 }
        ));
    }

    #[test]
    fn missing_header_is_an_error() {
        assert!(matches!(
            Message::parse(b"PID|1\r", &ParseOptions::default()),
            Err(Error::MissingHeader { .. })
        ));
        assert!(Message::parse(b"", &ParseOptions::default()).is_err());
        assert!(Message::parse(b"MSH", &ParseOptions::default()).is_err());
    }

    #[test]
    fn limits_are_enforced_with_location() {
        let options = ParseOptions {
            max_segments: 2,
            ..ParseOptions::default()
        };
        let err = Message::parse(b"MSH|^~\\&\rPID|1\rOBX|1\r", &options).unwrap_err();
        assert!(matches!(
            err,
            Error::LimitExceeded {
                limit: Limit::Segments,
                ..
            }
        ));
        assert_eq!(err.location().unwrap().to_string(), "segment 3 (OBX)");
        let options = ParseOptions {
            max_fields_per_segment: 3,
            ..ParseOptions::default()
        };
        let err = Message::parse(b"MSH|^~\\&\rPID|1|2|3|4\r", &options).unwrap_err();
        assert_eq!(err.offset(), Some(18));
        let options = ParseOptions {
            max_message_size: 5,
            ..ParseOptions::default()
        };
        assert!(Message::parse(b"MSH|^~\\&\r", &options).is_err());
    }

    #[test]
    fn unusual_segment_ids_are_kept_and_reachable() {
        let msg = parse(b"MSH|^~\\&\rOLIS|x\rZ1|y\r");
        assert_eq!(msg.segment(1).unwrap().id(), b"OLIS");
        assert_eq!(
            msg.segments_by_id("Z1").next().unwrap().field(1).raw(),
            b"y"
        );
        assert_eq!(msg.warnings().len(), 2);
    }

    #[test]
    fn charset_from_msh18_drives_decoding() {
        let latin1 = b"MSH|^~\\&|||||||ADT^A01|1|P|2.5||||||8859/1\rPID|1||||M\xFCller\r";
        let msg = parse(latin1);
        assert_eq!(msg.charset(), Charset::Latin1);
        assert_eq!(msg.get("PID-5").unwrap().decoded().unwrap(), "Müller");
        let bad_utf8 = b"MSH|^~\\&|||||||ADT^A01|1|P|2.5||||||UNICODE UTF-8\rPID|1||||M\xFCller\r";
        let msg = parse(bad_utf8);
        let mut warnings = Vec::new();
        let name = msg.get("PID-5").unwrap();
        assert_eq!(
            name.decoded_with_warnings(&mut warnings).unwrap(),
            "M\u{FFFD}ller"
        );
        assert_eq!(warnings[0].offset, name.offset() + 1);
        let options = ParseOptions {
            lenient_charset: false,
            ..ParseOptions::default()
        };
        let msg = Message::parse(bad_utf8, &options).unwrap();
        assert!(msg.get("PID-5").unwrap().decoded().is_err());
        let unknown = b"MSH|^~\\&|||||||ADT^A01|1|P|2.5||||||KLINGON\r";
        assert_eq!(parse(unknown).charset_declaration(), Declaration::Unknown);
        assert!(Message::parse(unknown, &options).is_err());
    }

    #[test]
    fn truncation_character_in_v27_header() {
        let msg = parse(b"MSH|^~\\&#|A|B\rPID|1||abc#\r");
        assert_eq!(msg.delimiters().truncation(), Some(b'#'));
        assert_eq!(msg.msh().unwrap().field(3).raw(), b"A");
        assert_eq!(msg.get("PID-3").unwrap().decoded().unwrap(), "abc#");
    }

    #[test]
    fn message_without_any_terminator_is_one_segment() {
        let msg = parse(b"MSH|^~\\&|A|B");
        assert_eq!(msg.segment_count(), 1);
        assert_eq!(msg.terminator(), Terminator::Cr);
        assert_eq!(msg.msh().unwrap().field(4).raw(), b"B");
    }

    #[test]
    fn inconsistent_terminators_warn_once() {
        let msg = parse(b"MSH|^~\\&\rPID|1\r\nOBX|1\r\nNTE|1\r");
        assert_eq!(msg.segment_count(), 4);
        assert_eq!(msg.segment(2).unwrap().raw(), b"OBX|1");
        let count = msg
            .warnings()
            .iter()
            .filter(|w| w.kind == WarningKind::InconsistentTerminators)
            .count();
        assert_eq!(count, 1);
    }

    #[test]
    fn second_msh_is_flagged() {
        let msg = parse(b"MSH|^~\\&|A\rPID|1\rMSH|^~\\&|B\rPID|2\r");
        assert!(
            msg.warnings()
                .iter()
                .any(|w| w.kind == WarningKind::AnotherMessageHeader)
        );
        assert_eq!(msg.segment(2).unwrap().field(3).raw(), b"B");
    }

    /// Reference split for CR messages: segments on CR (an LF right after a CR belongs to
    /// the terminator), fields on `|`, blank lines skipped.
    fn naive_fields(input: &[u8]) -> Vec<Vec<&[u8]>> {
        input
            .split(|b| *b == b'\r')
            .enumerate()
            .map(|(i, line)| {
                if i > 0 {
                    line.strip_prefix(b"\n").unwrap_or(line)
                } else {
                    line
                }
            })
            .filter(|line| !line.iter().all(|&b| is_blank(b)))
            .map(|line| line.split(|b| *b == b'|').skip(1).collect())
            .collect()
    }

    /// A component as the tests compare them: where it is and what it holds.
    fn component_summary(component: &Component<'_>) -> (Vec<u8>, usize, bool, String) {
        (
            component.raw().to_vec(),
            component.offset(),
            component.is_present(),
            component.location().to_string(),
        )
    }

    proptest::proptest! {
        #[test]
        fn nth_split_matches_the_split_iterator(
            raw in proptest::collection::vec(
                proptest::sample::select(b"ab^^~ ".to_vec()),
                0..120,
            ),
            index in 0usize..12,
        ) {
            proptest::prop_assert_eq!(
                nth_split(&raw, b'^', index),
                Splits::new(&raw, b'^').nth(index)
            );
            proptest::prop_assert_eq!(find_byte(b'^', &raw), raw.iter().position(|&b| b == b'^'));
            proptest::prop_assert_eq!(count_byte(b'^', &raw), raw.iter().filter(|&&b| b == b'^').count());
        }

        #[test]
        fn first_components_are_the_components(
            field in proptest::collection::vec(
                proptest::sample::select(b"ab^^~&\\".to_vec()),
                0..80,
            ),
        ) {
            let mut input = b"MSH|^~\\&|A\rOBX|1|".to_vec();
            input.extend_from_slice(&field);
            input.extend_from_slice(b"|x\r");
            let msg = Message::parse(&input, &ParseOptions::default()).unwrap();
            let obx = msg.segment(1).unwrap();
            for repetition in [obx.field(2).repetition(1), obx.field(2).repetition(2), obx.field(9).repetition(1)] {
                let split: [Component<'_>; 6] = repetition.first_components();
                for (n, component) in split.iter().enumerate() {
                    proptest::prop_assert_eq!(
                        component_summary(component),
                        component_summary(&repetition.component(n + 1))
                    );
                }
            }
        }

        #[test]
        fn views_split_like_a_naive_split(
            field in proptest::collection::vec(
                proptest::sample::select(b"ab^^~&\\\xc3\xa9".to_vec()),
                0..60,
            ),
        ) {
            let mut input = b"MSH|^~\\&|A\rOBX|1|".to_vec();
            input.extend_from_slice(&field);
            input.extend_from_slice(b"|x\r");
            let msg = Message::parse(&input, &ParseOptions::default()).unwrap();
            let obx = msg.segment(1).unwrap();
            let naive = |raw: &[u8], d: u8, n: usize| -> Option<Vec<u8>> {
                if raw.is_empty() {
                    return None;
                }
                raw.split(|&b| b == d).nth(n - 1).map(<[u8]>::to_vec)
            };
            let field_view = obx.field(2);
            for r in 1..=3 {
                let repetition = naive(&field, b'~', r);
                proptest::prop_assert_eq!(
                    field_view.repetition(r).raw(),
                    repetition.as_deref().unwrap_or_default()
                );
                for c in 1..=4 {
                    let component = repetition.as_deref().and_then(|raw| naive(raw, b'^', c));
                    let view = field_view.repetition(r).component(c);
                    proptest::prop_assert_eq!(view.raw(), component.as_deref().unwrap_or_default());
                    for sub in 1..=3 {
                        let subcomponent = component.as_deref().and_then(|raw| naive(raw, b'&', sub));
                        proptest::prop_assert_eq!(
                            view.subcomponent(sub).raw(),
                            subcomponent.as_deref().unwrap_or_default()
                        );
                    }
                    proptest::prop_assert_eq!(view.subcomponent_count(), component.as_deref().map_or(0, |raw| if raw.is_empty() { 0 } else { raw.split(|&b| b == b'&').count() }));
                }
                let parts: Vec<Vec<u8>> = field_view
                    .repetition(r)
                    .components()
                    .map(|component| component.raw().to_vec())
                    .collect();
                let expected: Vec<Vec<u8>> = repetition
                    .as_deref()
                    .filter(|raw| !raw.is_empty())
                    .map(|raw| raw.split(|&b| b == b'^').map(<[u8]>::to_vec).collect())
                    .unwrap_or_default();
                proptest::prop_assert_eq!(parts, expected);
            }
            let repetitions: Vec<Vec<u8>> = field_view.repetitions().map(|r| r.raw().to_vec()).collect();
            let expected: Vec<Vec<u8>> = if field.is_empty() {
                Vec::new()
            } else {
                field.split(|&b| b == b'~').map(<[u8]>::to_vec).collect()
            };
            proptest::prop_assert_eq!(repetitions, expected);
            // Decoding a simple field is borrowing it.
            if !field.iter().any(|&b| b == b'\\' || !b.is_ascii()) {
                let decoded = field_view.component(1).decoded().unwrap();
                proptest::prop_assert!(matches!(decoded, Cow::Borrowed(_)));
            }
        }

        #[test]
        fn word_scan_matches_a_naive_split(
            body in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => proptest::strategy::Just(b'a'),
                    2 => proptest::strategy::Just(b'|'),
                    1 => proptest::strategy::Just(b'\r'),
                    1 => proptest::strategy::Just(b'^'),
                    1 => proptest::sample::select(vec![b'\n', b' ', 0u8, 0xFF]),
                ],
                0..400,
            ),
            run in 0usize..100,
        ) {
            let mut input = b"MSH|^~\\&|".to_vec();
            input.extend(core::iter::repeat_n(b'x', run));
            input.push(b'\r');
            input.extend_from_slice(&body);
            let msg = Message::parse(&input, &ParseOptions::default()).unwrap();
            let expected = naive_fields(&input);
            proptest::prop_assert_eq!(msg.segment_count(), expected.len());
            for (segment, fields) in msg.segments().zip(&expected) {
                // MSH-1 is the separator itself, so MSH token k is field k + 1.
                let shift = usize::from(segment.is_header());
                proptest::prop_assert_eq!(segment.field_count(), fields.len() + shift);
                for (k, field) in fields.iter().enumerate() {
                    proptest::prop_assert_eq!(segment.field(k + 1 + shift).raw(), *field);
                }
            }
            proptest::prop_assert_eq!(msg.to_bytes(), input);
        }

        #[test]
        fn arbitrary_input_never_panics(
            input in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(b"MSH|^~\\&\r\n\"#FBHOXPID0123.".to_vec()),
                    proptest::prelude::any::<u8>(),
                ],
                0..200,
            ),
            prefix in proptest::bool::ANY,
            path in "[A-Z]{3}(\\([0-9]\\))?-[0-9]{1,2}(\\([0-9]\\))?(\\.[0-9](\\.[0-9])?)?",
        ) {
            let mut bytes = if prefix { b"MSH|^~\\&|".to_vec() } else { Vec::new() };
            bytes.extend_from_slice(&input);
            for options in [ParseOptions::default(), ParseOptions::strict()] {
                if let Ok(msg) = Message::parse(&bytes, &options) {
                    proptest::prop_assert_eq!(msg.to_bytes(), bytes.clone());
                    for segment in msg.segments() {
                        for field in segment.fields() {
                            let _ = field.decoded();
                            for repetition in field.repetitions() {
                                for component in repetition.components() {
                                    for subcomponent in component.subcomponents() {
                                        let _ = subcomponent.decoded();
                                        let _ = subcomponent.location().to_string();
                                    }
                                }
                            }
                        }
                    }
                    if let Some(value) = msg.get(&path) {
                        let _ = value.decoded();
                    }
                    let mut owned = crate::write::OwnedMessage::from_message(&msg);
                    let _ = owned.set(&path, "x|y");
                    let _ = Message::parse(&owned.to_bytes(), &options);
                }
                let _ = crate::batch::BatchFile::parse(&bytes, &options);
            }
        }
    }

    #[test]
    fn warnings_are_capped() {
        let mut input = b"MSH|^~\\&\r".to_vec();
        for _ in 0..10 {
            input.extend_from_slice(b"x|1\r");
        }
        let options = ParseOptions {
            max_warnings: 3,
            ..ParseOptions::default()
        };
        let msg = Message::parse(&input, &options).unwrap();
        assert_eq!(msg.warnings().len(), 4);
        assert_eq!(msg.warnings()[3].kind, WarningKind::TooManyWarnings);
    }
}
