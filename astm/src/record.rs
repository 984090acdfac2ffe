//! E1394 / CLSI LIS02-A2 records: zero-copy views over a reassembled message text.
//!
//! A message is `H` … `L`, one record per line (CR; LF and CR LF tolerated). The `H`
//! record defines the delimiters: `H|\^&` gives field `|`, repeat `\`, component `^`
//! and escape `&` (LIS02-A2 §6.2), and any other choice such as Cepheid's `H|@^\` is
//! read the same way. Fields nest as repeats then components; there is no
//! sub-component level. Field numbers follow the standard: the record type letter is
//! field 1, so `R.4` is the value and [`Record::field`]`(4)` returns it.
//!
//! Text is decoded in the [`Charset`] configured for the instrument
//! ([`RecordOptions::charset`]). Shift-JIS needs more than decoding: the second byte of
//! a double-byte character can have a delimiter's value, so with
//! [`Charset::ShiftJis`] fields, repeats, components and escapes are found by a scan
//! that steps over double-byte characters. Reading many fields or components of one
//! record is fastest through [`Record::field_table`] (fields located in one pass,
//! components read straight from the record text), [`Record::locate_fields`] and
//! [`Field::locate_components`], which find them all in one pass.
//!
//! ```
//! use labwire_astm::record::{Message, RecordOptions, RecordType};
//!
//! let text = b"H|\\^&|||ANALYZER^1.0|||||||P|1|20240301101502\rP|1||PID-1\rO|1|S24-000123^R1^3||^^^GLU\rR|1|^^^GLU|5.40|mmol/L|3.9-6.1|N||F||OP1|20240301101000|20240301101502|AN-01\rL|1|N\r";
//! let (message, warnings) = Message::parse(text, &RecordOptions::default())?;
//! assert!(warnings.is_empty());
//! let result = message.records().find(|r| r.kind() == RecordType::RESULT).unwrap();
//! assert_eq!(result.field(3).component(4).text(), "GLU");
//! assert_eq!(result.field(4).text(), "5.40");
//! assert_eq!(result.field(5).text(), "mmol/L");
//! assert_eq!(message.as_bytes(), text); // unedited messages write back byte for byte
//! # Ok::<(), labwire_astm::record::RecordError>(())
//! ```

use std::borrow::Cow;
use std::fmt;

mod views;

pub use views::{
    CommentRecord, HeaderRecord, OrderRecord, PatientRecord, QueryRecord, ResultRecord,
    TerminatorRecord,
};

/// Record separator: the standard's CR.
const CR: u8 = b'\r';
const LF: u8 = b'\n';

/// The four delimiters of a message, from its `H` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Delimiters {
    /// Between fields (`|`).
    pub field: u8,
    /// Between repeats (`\`).
    pub repeat: u8,
    /// Between components (`^`).
    pub component: u8,
    /// Opens and closes escape sequences (`&`).
    pub escape: u8,
}

impl Default for Delimiters {
    /// `|\^&`, the standard's recommendation.
    fn default() -> Self {
        Self {
            field: b'|',
            repeat: b'\\',
            component: b'^',
            escape: b'&',
        }
    }
}

impl Delimiters {
    /// Reads the delimiters from the start of an `H` record: `H`, the field
    /// delimiter, then repeat, component and escape (LIS02-A2 §6.2).
    // Inlined: a result returned through memory, its delimiters stored byte by byte
    // and loaded as a word, stalls the processor until the stores complete.
    #[inline]
    pub fn from_header(record: &[u8]) -> Result<Self, RecordError> {
        let bad = |reason: &'static str| RecordError::Delimiters { offset: 0, reason };
        match record {
            [b'H' | b'h', field, repeat, component, escape, ..] => {
                let delimiters = Self {
                    field: *field,
                    repeat: *repeat,
                    component: *component,
                    escape: *escape,
                };
                let all = [*field, *repeat, *component, *escape];
                if all.iter().any(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'\r' | b'\n' | b' ') || !b.is_ascii()
                }) {
                    return Err(bad(
                        "a delimiter is a letter, digit, space, line end or not ASCII",
                    ));
                }
                for (index, byte) in all.iter().enumerate() {
                    if all.iter().skip(index + 1).any(|other| other == byte) {
                        return Err(bad("two delimiters are the same character"));
                    }
                }
                Ok(delimiters)
            }
            [b'H' | b'h', ..] => Err(bad("the H record is too short to define the delimiters")),
            _ => Err(bad("a message must start with an H record")),
        }
    }

    /// The four characters as the `H` record writes them after `H`.
    pub fn header_text(&self) -> [u8; 4] {
        [self.field, self.repeat, self.component, self.escape]
    }
}

/// A record type: the record's first character, upper-cased. Open, so manufacturer
/// and unknown record types survive.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordType(pub u8);

impl RecordType {
    /// `H`, message header.
    pub const HEADER: Self = Self(b'H');
    /// `P`, patient.
    pub const PATIENT: Self = Self(b'P');
    /// `O`, test order.
    pub const ORDER: Self = Self(b'O');
    /// `R`, result.
    pub const RESULT: Self = Self(b'R');
    /// `C`, comment.
    pub const COMMENT: Self = Self(b'C');
    /// `Q`, request information (an instrument's query).
    pub const QUERY: Self = Self(b'Q');
    /// `M`, manufacturer information.
    pub const MANUFACTURER: Self = Self(b'M');
    /// `S`, scientific.
    pub const SCIENTIFIC: Self = Self(b'S');
    /// `L`, message terminator.
    pub const TERMINATOR: Self = Self(b'L');

    /// Whether the standard defines this type.
    pub fn is_standard(self) -> bool {
        matches!(
            self.0,
            b'H' | b'P' | b'O' | b'R' | b'C' | b'Q' | b'M' | b'S' | b'L'
        )
    }
}

impl fmt::Debug for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordType({:?})", char::from(self.0))
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", char::from(self.0))
    }
}

/// The character set of record text. The standard says 7-bit ASCII; instruments send
/// Latin-1, Windows-1252 and UTF-8 names and units (`µmol/L`), so it is configured per
/// instrument, never guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Charset {
    /// UTF-8; invalid bytes become U+FFFD.
    #[default]
    Utf8,
    /// ISO 8859-1: every byte is the code point of the same number.
    Latin1,
    /// Windows-1252: Latin-1 with printable characters in 0x80..=0x9F (`€`, `‰` …).
    Windows1252,
    /// Shift-JIS as Windows writes it (code page 932, the WHATWG `Shift_JIS`), sent by
    /// Japanese analyzers (Sysmex, Hitachi/Roche, A&T, Tosoh) for names and comments.
    /// Bytes below 0x80 are ASCII (0x5C is `\`, not `¥`).
    ///
    /// The second byte of a double-byte character can have the value of a delimiter
    /// (`ソ` is 0x83 0x5C, `\`), so in this charset fields, repeats, components and
    /// escape sequences are found by a scan that steps over double-byte characters
    /// rather than by looking for the delimiter byte: `サトウ^ソウタ` is two
    /// components, not three. Such characters are written raw, never escaped.
    ShiftJis,
}

/// Limits and leniency of the record parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOptions {
    /// Refuse anything but CR between records (LIS02-A2 §5.2) and blank records.
    pub strict: bool,
    /// The most records in one message (default 100,000).
    pub max_records: usize,
    /// The character set of the text.
    pub charset: Charset,
}

impl Default for RecordOptions {
    fn default() -> Self {
        Self {
            strict: false,
            max_records: 100_000,
            charset: Charset::Utf8,
        }
    }
}

/// Why a message was refused. Offsets are byte offsets into the message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// No usable delimiter definition.
    #[error("byte {offset}: H record delimiters: {reason}")]
    Delimiters {
        /// Where.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// More records than [`RecordOptions::max_records`].
    #[error("byte {offset}: more than {limit} records")]
    TooManyRecords {
        /// Where the record over the limit starts.
        offset: usize,
        /// The limit.
        limit: usize,
    },
    /// Strict mode: a record separator other than CR.
    #[error("byte {offset}: record {record} ends with LF; the standard separator is CR")]
    Separator {
        /// Where.
        offset: usize,
        /// The record's index (0 is the H record).
        record: usize,
    },
    /// Strict mode: an empty record.
    #[error("byte {offset}: record {record} is empty")]
    EmptyRecord {
        /// Where.
        offset: usize,
        /// The record's index.
        record: usize,
    },
}

/// Something lenient mode accepted that the standard does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordWarning {
    /// Where, as a byte offset into the message.
    pub offset: usize,
    /// The record's index in the message (0 is the H record).
    pub record: usize,
    /// What.
    pub kind: RecordWarningKind,
}

/// Kinds of [`RecordWarning`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordWarningKind {
    /// Records separated by LF or CR LF.
    Separator,
    /// A blank line between records, skipped.
    EmptyRecord,
    /// The message has no `L` record: it is incomplete.
    MissingTerminator,
    /// A record after the `L` record that does not start a new message with `H`;
    /// it was skipped (`record` is 0: it belongs to no message).
    AfterTerminator,
    /// A record type the standard does not define.
    UnknownRecordType(u8),
    /// A record out of the H → P → O → R hierarchy (LIS02-A2 §5.1).
    Hierarchy {
        /// The record's type.
        found: RecordType,
        /// The type of the closest preceding record that is not C or M.
        after: RecordType,
    },
    /// A sequence number that is not the previous one plus one under its parent.
    Sequence {
        /// The record's type.
        kind: RecordType,
        /// The number expected.
        expected: u32,
        /// The field as sent.
        found: String,
    },
    /// An escape sequence that is not defined, kept verbatim.
    UnknownEscape(String),
}

/// A parsed message: the text, its delimiters and where each record is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    text: &'a [u8],
    /// `text` as text when it reads as itself: ASCII, or valid UTF-8 in a UTF-8
    /// message. Checked once here so that no record or field has to be again.
    utf8: Option<&'a str>,
    /// The delimiters and the charset, as every record carries them.
    format: Format,
    /// `(start, end)` of each record's text, without its separator.
    records: Vec<(u32, u32)>,
    complete: bool,
}

impl<'a> Message<'a> {
    /// Parses one message. Text after the first `L` record is not part of it: use
    /// [`parse_messages`] for a stream of several.
    pub fn parse(
        text: &'a [u8],
        options: &RecordOptions,
    ) -> Result<(Self, Vec<RecordWarning>), RecordError> {
        let mut warnings = Vec::new();
        let message = parse_one(text, options, &mut warnings)?;
        Ok((message, warnings))
    }

    /// The message text as received, separators included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.text
    }

    /// The delimiters.
    pub fn delimiters(&self) -> Delimiters {
        self.format.delimiters()
    }

    /// Whether the message ends with an `L` record.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// How many records it has.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether it has no records (never true for a parsed message: it has an H).
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The records, in order.
    #[inline]
    pub fn records(&self) -> impl Iterator<Item = Record<'a>> + '_ {
        (0..self.records.len()).filter_map(|index| self.record(index))
    }

    /// One record by index (0 is the H record).
    #[inline]
    pub fn record(&self, index: usize) -> Option<Record<'a>> {
        let (start, end) = *self.records.get(index)?;
        let range = start as usize..end as usize;
        let text = self.text.get(range.clone())?;
        Some(Record {
            text,
            utf8: self.utf8.and_then(|utf8| utf8.get(range)),
            index,
            offset: start as usize,
            format: self.format,
        })
    }

    /// The `H` record.
    pub fn header(&self) -> Option<Record<'a>> {
        self.record(0)
    }
}

/// Adds the text of an E1381 message, as the link hands it over
/// ([`LinkEvent::MessageReceived`](crate::link::LinkEvent::MessageReceived)), to
/// `session`, the text of the messages received before it in the same session, ready
/// for [`parse_messages`].
///
/// E1381 messages and E1394 messages need not match: an instrument may send each
/// record as a message of its own (Roche Elecsys), or several H…L messages in one.
/// Joined, they read as one stream of records. A message whose last record lacks its
/// CR (some senders omit it before ETX) gets one, so that the record ends where the
/// message ends instead of running into the next message's first record.
///
/// The first message of a session is taken over as it is, without a copy. `session`
/// grows by the messages given to it; the link bounds each of them
/// ([`LinkConfig::max_message`](crate::link::LinkConfig::max_message)) and the caller
/// clears `session` when the session ends.
pub fn join_message(session: &mut Vec<u8>, message: Vec<u8>) {
    let ends_record = matches!(message.last(), Some(&(CR | LF)) | None);
    if session.is_empty() && session.capacity() < message.len() {
        *session = message;
    } else {
        session.extend_from_slice(&message);
    }
    if !ends_record {
        session.push(CR);
    }
}

/// Splits a stream of records into messages: every `H` starts one. Several H…L
/// messages in one session (or one file) are common.
pub fn parse_messages<'a>(
    text: &'a [u8],
    options: &RecordOptions,
) -> Result<(Vec<Message<'a>>, Vec<RecordWarning>), RecordError> {
    let mut messages = Vec::new();
    let mut warnings = Vec::new();
    let mut rest = text;
    let mut consumed = 0usize;
    loop {
        let skipped = rest
            .iter()
            .take_while(|b| matches!(b, &&CR | &&LF | &&b' ' | &&b'\t'))
            .count();
        rest = rest.get(skipped..).unwrap_or_default();
        consumed += skipped;
        if rest.is_empty() {
            break;
        }
        if !messages.is_empty() && !matches!(rest.first(), Some(b'H' | b'h')) {
            // A record after an L that does not open a new message (a repeated L,
            // stray bytes): reported and skipped, so the messages around it survive.
            let line = rest
                .iter()
                .position(|b| matches!(b, &CR | &LF))
                .unwrap_or(rest.len());
            warnings.push(RecordWarning {
                offset: consumed,
                record: 0,
                kind: RecordWarningKind::AfterTerminator,
            });
            rest = rest.get(line..).unwrap_or_default();
            consumed += line;
            continue;
        }
        let first = warnings.len();
        let message = parse_one(rest, options, &mut warnings)?;
        let used = message.text.len().max(1);
        for warning in warnings.iter_mut().skip(first) {
            warning.offset += consumed;
        }
        messages.push(message);
        rest = rest.get(used..).unwrap_or_default();
        consumed += used;
    }
    Ok((messages, warnings))
}

fn parse_one<'a>(
    text: &'a [u8],
    options: &RecordOptions,
    warnings: &mut Vec<RecordWarning>,
) -> Result<Message<'a>, RecordError> {
    let delimiters = Delimiters::from_header(text)?;
    // Record offsets are u32; longer input is cut at 4 GiB and reads as incomplete.
    let text = text
        .get(..text.len().min(u32::MAX as usize))
        .unwrap_or_default();
    // Most messages have a few dozen records at most: room for the first few up front
    // rather than growing from one (a constant, not read off the input).
    let mut records: Vec<(u32, u32)> = Vec::with_capacity(16);
    let mut complete = false;
    let mut at = 0usize;
    let mut end_of_message = text.len();
    let mut warned_separator = false;
    let mut hierarchy = Hierarchy::default();
    let format = Format::new(delimiters, options.charset);
    while at < text.len() {
        let rest = text.get(at..).unwrap_or_default();
        let line_len = find_line_end(rest).unwrap_or(rest.len());
        let line_end = at + line_len;
        // The separator: CR, CR LF or LF.
        let (separator_len, is_lf) = match rest.get(line_len..) {
            Some([CR, LF, ..]) => (2, true),
            Some([CR, ..]) => (1, false),
            Some([LF, ..]) => (1, true),
            _ => (0, false),
        };
        let index = records.len();
        if is_lf {
            if options.strict {
                return Err(RecordError::Separator {
                    offset: line_end,
                    record: index,
                });
            }
            if !warned_separator {
                warned_separator = true;
                warnings.push(RecordWarning {
                    offset: line_end,
                    record: index,
                    kind: RecordWarningKind::Separator,
                });
            }
        }
        let line = rest.get(..line_len).unwrap_or_default();
        if line.iter().all(|b| *b == b' ' || *b == b'\t') {
            if options.strict && separator_len > 0 {
                return Err(RecordError::EmptyRecord {
                    offset: at,
                    record: index,
                });
            }
            if !line.is_empty() || separator_len > 0 {
                warnings.push(RecordWarning {
                    offset: at,
                    record: index,
                    kind: RecordWarningKind::EmptyRecord,
                });
            }
            at = line_end + separator_len;
            continue;
        }
        let kind = RecordType(line.first().copied().unwrap_or(b' ').to_ascii_uppercase());
        if index > 0 && kind == RecordType::HEADER {
            // The next message starts here: this one had no L.
            end_of_message = at;
            break;
        }
        if records.len() >= options.max_records {
            return Err(RecordError::TooManyRecords {
                offset: at,
                limit: options.max_records,
            });
        }
        records.push((at as u32, line_end as u32));
        let record = Record {
            text: line,
            utf8: None,
            index,
            offset: at,
            format,
        };
        hierarchy.check(&record, warnings);
        at = line_end + separator_len;
        if kind == RecordType::TERMINATOR {
            complete = true;
            end_of_message = at;
            break;
        }
    }
    if !complete {
        warnings.push(RecordWarning {
            offset: end_of_message,
            record: records.len(),
            kind: RecordWarningKind::MissingTerminator,
        });
    }
    let text = text.get(..end_of_message).unwrap_or(text);
    let utf8 = if options.charset == Charset::Utf8 || text.is_ascii() {
        std::str::from_utf8(text).ok()
    } else {
        None
    };
    Ok(Message {
        text,
        utf8,
        format,
        records,
        complete,
    })
}

/// Tracks the H → P → O → R levels and the sequence numbers under each parent.
#[derive(Default)]
struct Hierarchy {
    /// The last record that is not C or M.
    last: Option<RecordType>,
    /// The next sequence number expected for P, O, R, Q, and for C/M after a record.
    next: [u32; 5],
}

impl Hierarchy {
    fn check(&mut self, record: &Record<'_>, warnings: &mut Vec<RecordWarning>) {
        let kind = record.kind();
        let mut warn = |kind| {
            warnings.push(RecordWarning {
                offset: record.offset,
                record: record.index,
                kind,
            })
        };
        if !kind.is_standard() {
            warn(RecordWarningKind::UnknownRecordType(kind.0));
            return;
        }
        if kind == RecordType::COMMENT || kind == RecordType::MANUFACTURER {
            self.sequence(4, record, &mut warn);
            return;
        }
        let after = self.last.unwrap_or(RecordType::HEADER);
        // Which record types may precede each one (LIS02-A2 §5.1; S, Q and L are
        // level 0 or 1, so they may follow anything).
        let allowed = match (kind.0, after.0) {
            (b'H', _) => false,
            (b'P', previous) => matches!(previous, b'H' | b'P' | b'O' | b'R' | b'Q' | b'S'),
            (b'O', previous) => matches!(previous, b'P' | b'O' | b'R'),
            (b'R', previous) => matches!(previous, b'O' | b'R'),
            (_, previous) => matches!(previous, b'H' | b'P' | b'O' | b'R' | b'Q' | b'S' | b'L'),
        };
        if record.index > 0 && !allowed {
            warn(RecordWarningKind::Hierarchy { found: kind, after });
        }
        match kind.0 {
            b'P' => {
                self.sequence(0, record, &mut warn);
                self.next[1] = 1;
            }
            b'O' => {
                self.sequence(1, record, &mut warn);
                self.next[2] = 1;
            }
            b'R' => self.sequence(2, record, &mut warn),
            b'Q' => self.sequence(3, record, &mut warn),
            _ => {}
        }
        // Comments and manufacturer records restart under every record.
        self.next[4] = 1;
        self.last = Some(kind);
    }

    fn sequence(
        &mut self,
        slot: usize,
        record: &Record<'_>,
        warn: &mut impl FnMut(RecordWarningKind),
    ) {
        let Some(expected) = self.next.get_mut(slot) else {
            return;
        };
        if *expected == 0 {
            *expected = 1;
        }
        // The common case, the expected number, is read off the bytes: no text to make.
        if leading_number(record.text, record.delimiters().field) == Some(*expected)
            || plain_number(record.field_bytes(2)) == Some(*expected)
        {
            *expected = expected.saturating_add(1);
            return;
        }
        let field = record.field(2);
        let found = field.text();
        match found.trim().parse::<u32>() {
            Ok(number) if number == *expected => {}
            Ok(number) => {
                warn(RecordWarningKind::Sequence {
                    kind: record.kind(),
                    expected: *expected,
                    found: found.into_owned(),
                });
                *expected = number;
            }
            Err(_) => warn(RecordWarningKind::Sequence {
                kind: record.kind(),
                expected: *expected,
                found: found.into_owned(),
            }),
        }
        *expected = expected.saturating_add(1);
    }
}

/// Field 2 of a record as a number when it is one right after the type letter, as
/// in `R|12|…`: one to nine digits between the first two field delimiters (or the
/// end). Found without splitting the record; digits and the delimiters are ASCII, so
/// no Shift-JIS character can hide among them.
fn leading_number(record: &[u8], field_delimiter: u8) -> Option<u32> {
    let [_, delimiter, rest @ ..] = record else {
        return None;
    };
    if *delimiter != field_delimiter {
        return None;
    }
    let digits = rest
        .iter()
        .take(10)
        .take_while(|b| b.is_ascii_digit())
        .count();
    let (number, after) = rest.split_at_checked(digits)?;
    match after.first() {
        None => plain_number(number),
        Some(&byte) if byte == field_delimiter => plain_number(number),
        Some(_) => None,
    }
}

/// The value of `bytes` if it is one to nine ASCII digits (so that it fits a `u32`).
fn plain_number(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 9 {
        return None;
    }
    bytes.iter().try_fold(0u32, |value, &byte| {
        byte.is_ascii_digit()
            .then(|| value * 10 + u32::from(byte - b'0'))
    })
}

/// One record.
#[derive(Clone, Copy)]
pub struct Record<'a> {
    text: &'a [u8],
    /// `text` as text when the message reads as itself (see `Message::utf8`).
    utf8: Option<&'a str>,
    index: usize,
    offset: usize,
    /// The message's delimiters and charset, in one word (see [`Format`]): records
    /// are made for every access, and a word is copied whole.
    format: Format,
}

impl fmt::Debug for Record<'_> {
    /// Record contents can identify patients, so Debug shows only where it is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("kind", &self.kind())
            .field("index", &self.index)
            .field("offset", &self.offset)
            .field("len", &self.text.len())
            .finish()
    }
}

impl<'a> Record<'a> {
    /// Its type, upper-cased (some instruments send lower-case letters).
    pub fn kind(&self) -> RecordType {
        RecordType(
            self.text
                .first()
                .copied()
                .unwrap_or(b' ')
                .to_ascii_uppercase(),
        )
    }

    /// The message's delimiters.
    fn delimiters(&self) -> Delimiters {
        self.format.delimiters()
    }

    /// The message's charset.
    fn charset(&self) -> Charset {
        self.format.charset()
    }

    /// Its index in the message (0 is the H record).
    pub fn index(&self) -> usize {
        self.index
    }

    /// Its byte offset in the message.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The record text, without its separator.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.text
    }

    /// How many fields it has, the type letter included.
    #[inline]
    pub fn field_count(&self) -> usize {
        if self.charset() == Charset::ShiftJis && !self.text.is_ascii() {
            return self.field_ranges().count();
        }
        1 + count_byte(self.text, self.delimiters().field)
    }

    /// Field `number`, counting the record type letter as field 1 (`R.4` is the
    /// value). In the H record, field 2 is the delimiter definition (`\^&`), returned
    /// whole. A field past the end is empty.
    pub fn field(&self, number: usize) -> Field<'a> {
        let range = number
            .checked_sub(1)
            .and_then(|index| nth_range(self.text, self.delimiters().field, index, self.charset()));
        let Some((start, end)) = range else {
            return self.empty_field();
        };
        // `H|\^&|…`: the delimiter definition cannot contain the field delimiter, so
        // plain splitting finds it; it only must not be split further.
        let structured = !(self.kind() == RecordType::HEADER && number == 2);
        let raw = self.text.get(start..end).unwrap_or_default();
        let plain = self
            .utf8
            .and_then(|utf8| utf8.get(start..end))
            .filter(|_| !raw.contains(&self.delimiters().escape));
        self.field_of(raw, plain, structured)
    }

    /// The bytes of field `number` (see [`Record::field`]), escapes not decoded.
    fn field_bytes(&self, number: usize) -> &'a [u8] {
        number
            .checked_sub(1)
            .and_then(|index| nth_range(self.text, self.delimiters().field, index, self.charset()))
            .and_then(|(start, end)| self.text.get(start..end))
            .unwrap_or_default()
    }

    /// An empty field of this record.
    fn empty_field(&self) -> Field<'a> {
        self.field_of(&[], Some(""), true)
    }

    /// A field of this record from its bytes, with its plain text: `plain` if the
    /// caller knows it, else found now.
    fn field_of(&self, raw: &'a [u8], plain: Option<&'a str>, structured: bool) -> Field<'a> {
        let format = self.format;
        Field {
            raw,
            plain: plain.or_else(|| plain_text(raw, self.delimiters().escape, self.charset())),
            format: if structured {
                format
            } else {
                format.unstructured()
            },
        }
    }

    /// The record as text when it needs no decoding (see `plain_text`).
    fn plain_text(&self) -> Option<&'a str> {
        match self.utf8 {
            Some(utf8) => (!self.text.contains(&self.delimiters().escape)).then_some(utf8),
            None => plain_text(self.text, self.delimiters().escape, self.charset()),
        }
    }

    /// The byte ranges of the fields (see [`Ranges`]).
    fn field_ranges(&self) -> Ranges<'a> {
        Ranges::new(self.text, Some(self.delimiters().field), self.charset())
    }

    /// The fields in one pass, with the record's plain text found once, so that no
    /// field (and none of their components) has to be checked again.
    fn field_iter(&self) -> impl Iterator<Item = Field<'a>> + use<'a> {
        let record = *self;
        let plain = self.plain_text();
        self.field_ranges()
            .enumerate()
            .map(move |(index, range)| record.field_at(index, range, plain))
    }

    /// Field `index + 1` at `start..end` of the record, `plain` being the record's
    /// plain text if it has one.
    fn field_at(
        &self,
        index: usize,
        (start, end): (usize, usize),
        plain: Option<&'a str>,
    ) -> Field<'a> {
        let raw = self.text.get(start..end).unwrap_or_default();
        let plain = plain.and_then(|plain| plain.get(start..end));
        let field = self.field_of(raw, plain, true);
        if index == 1 && self.kind() == RecordType::HEADER {
            // H-2, the delimiter definition, is not split.
            return Field {
                format: field.format.unstructured(),
                ..field
            };
        }
        field
    }

    /// The first `N` fields in one pass over the record (`fields[0]` is the type
    /// letter, so `fields[3]` is field 4); missing fields are empty. Reading many
    /// fields this way is linear, where repeated [`Record::field`] calls rescan.
    pub fn first_fields<const N: usize>(&self) -> [Field<'a>; N] {
        let located = self.locate_fields::<N>();
        core::array::from_fn(|index| located.get(index + 1))
    }

    /// Finds where the first `N` fields are, in one pass, without making them: each
    /// is made when asked for ([`LocatedFields::get`]). The fast way to read many
    /// fields of a record.
    pub fn locate_fields<const N: usize>(&self) -> LocatedFields<'a, N> {
        let format = self.format;
        let shift_jis = self.charset() == Charset::ShiftJis && !self.text.is_ascii();
        if shift_jis {
            let mut ends = [self.text.len(); N];
            let mut count = 0usize;
            for (slot, (_, end)) in ends.iter_mut().zip(self.field_ranges()) {
                *slot = end;
                count += 1;
            }
            return LocatedFields {
                record: *self,
                format,
                plain: self.plain_text(),
                ends,
                count,
            };
        }
        let (ends, count, escaped) =
            piece_ends::<N>(self.text, self.delimiters().field, self.delimiters().escape);
        // `escaped` covers at least the located fields, which is all `plain` is
        // used for.
        let plain = match self.utf8 {
            Some(utf8) => (!escaped).then_some(utf8),
            None => plain_text(self.text, self.delimiters().escape, self.charset()),
        };
        LocatedFields {
            record: *self,
            format,
            plain,
            ends,
            count,
        }
    }

    /// The first `N` fields and their components, located in one pass (see
    /// [`FieldTable`]): the fast way to read many fields and components of a record.
    #[inline]
    pub fn field_table<const N: usize>(&self) -> FieldTable<'a, N> {
        FieldTable::new(self)
    }

    /// The fields, the type letter first.
    pub fn fields(&self) -> impl Iterator<Item = Field<'a>> + '_ {
        self.field_iter()
    }
}

/// The first `N` fields of a record, located by [`Record::locate_fields`].
#[derive(Clone, Copy)]
pub struct LocatedFields<'a, const N: usize> {
    record: Record<'a>,
    /// The format of the record's fields (H-2 aside).
    format: Format,
    /// The record's plain text, if it has one (at least as far as the located fields).
    plain: Option<&'a str>,
    /// Where each field ends.
    ends: [usize; N],
    /// How many of `ends` are fields: the others are past the end of the record.
    count: usize,
}

impl<const N: usize> fmt::Debug for LocatedFields<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocatedFields")
            .field("record", &self.record)
            .field("count", &self.count)
            .finish()
    }
}

impl<'a, const N: usize> LocatedFields<'a, N> {
    /// Field `number`, as [`Record::field`] numbers them: empty past the end of the
    /// record, and read from the record again past the `N` located.
    pub fn get(&self, number: usize) -> Field<'a> {
        let Some(index) = number.checked_sub(1) else {
            return self.record.empty_field();
        };
        if index >= N {
            return self.record.field(number);
        }
        let Some(&end) = self.ends.get(index).filter(|_| index < self.count) else {
            return self.record.empty_field();
        };
        let start = match index
            .checked_sub(1)
            .and_then(|previous| self.ends.get(previous))
        {
            Some(previous) => previous + 1,
            None => 0,
        };
        if index == 1 && self.record.kind() == RecordType::HEADER {
            return self.record.field_at(index, (start, end), self.plain);
        }
        let raw = self.record.text.get(start..end).unwrap_or_default();
        let plain = match self.plain {
            Some(plain) => plain.get(start..end),
            None => plain_text(raw, self.record.delimiters().escape, self.record.charset()),
        };
        Field {
            raw,
            plain,
            format: self.format,
        }
    }
}

/// The first `N` fields of a record located in one pass over the record by
/// [`Record::field_table`], and their components read straight from the record text:
/// no field or component is cut out of the record more than once, and no text is
/// checked for escapes or decoding again.
///
/// The fast reading applies to records that read as themselves (no escape character
/// among the fields located, text that needs no decoding) other than the `H` record,
/// whose H-2 is not split: what analyzers send nearly always. Any other record is read
/// as [`Record::locate_fields`] and [`Field::component`] read it; both ways give the
/// same fields.
#[derive(Clone, Copy)]
pub struct FieldTable<'a, const N: usize> {
    /// The fields located the general way, for records read the general way.
    located: Option<LocatedFields<'a, N>>,
    record: Record<'a>,
    /// The record's text (records read the fast way).
    plain: &'a str,
    /// Where each of the first `N` fields ends.
    ends: [u16; N],
    /// How many of `ends` are fields: the others are past the end of the record.
    fields: usize,
}

impl<const N: usize> fmt::Debug for FieldTable<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldTable")
            .field("record", &self.record)
            .field("fast", &self.located.is_none())
            .field("fields", &self.fields)
            .finish()
    }
}

impl<'a, const N: usize> FieldTable<'a, N> {
    /// Locates the fields of `record`, the fast way when it can (see the type).
    #[inline]
    fn new(record: &Record<'a>) -> Self {
        let mut table = Self {
            located: None,
            record: *record,
            plain: "",
            ends: [0; N],
            fields: 0,
        };
        let fast = match record.utf8 {
            // Delimiters are ASCII, so a UTF-8 text splits at them into UTF-8 text;
            // in a Shift-JIS message the text is UTF-8 only when it is ASCII.
            Some(plain) if record.kind() != RecordType::HEADER => {
                table.plain = plain;
                table.locate()
            }
            _ => false,
        };
        if !fast {
            table.located = Some(record.locate_fields::<N>());
        }
        table
    }

    /// Finds where the first `N` fields end, in one pass over the record; false when
    /// the part of the record scanned has an escape character or the record is
    /// longer than the positions hold.
    fn locate(&mut self) -> bool {
        let bytes = self.plain.as_bytes();
        if bytes.len() > usize::from(u16::MAX) {
            return false;
        }
        let delimiters = self.record.delimiters();
        let mut found = 0usize;
        let mut base = 0usize;
        while base < bytes.len() {
            let (word, valid) = word_at(bytes, base);
            if matches_in(word, delimiters.escape) & valid != 0 {
                return false;
            }
            let mut mask = matches_in(word, delimiters.field) & valid;
            while mask != 0 {
                let Some(end) = self.ends.get_mut(found) else {
                    self.fields = found;
                    return true;
                };
                // Below u16::MAX: the length is checked above.
                *end = (base + lowest_byte(mask)) as u16;
                found += 1;
                mask &= mask - 1;
            }
            base += 8;
        }
        // The last field runs to the end of the record.
        if let Some(end) = self.ends.get_mut(found) {
            *end = bytes.len() as u16;
            found += 1;
        }
        self.fields = found;
        true
    }

    /// Whether the record is read the fast way (see the type).
    pub fn is_fast(&self) -> bool {
        self.located.is_none()
    }

    /// Where field `index` (0-based) starts and ends; `None` past the end of the
    /// record.
    #[inline]
    fn span(&self, index: usize) -> Option<(usize, usize)> {
        if index >= self.fields {
            return None;
        }
        let end = usize::from(*self.ends.get(index)?);
        let start = match index.checked_sub(1) {
            Some(previous) => usize::from(*self.ends.get(previous)?) + 1,
            None => 0,
        };
        Some((start, end))
    }

    /// The part of the record at `start..end`, as a field.
    #[inline]
    fn part(&self, start: usize, end: usize) -> Field<'a> {
        let plain = self.plain.get(start..end).unwrap_or_default();
        Field {
            raw: plain.as_bytes(),
            plain: Some(plain),
            format: self.record.format,
        }
    }

    /// Field `number`, as [`Record::field`] numbers them: empty past the end of the
    /// record, and read from the record again past the `N` located.
    #[inline]
    pub fn get(&self, number: usize) -> Field<'a> {
        if let Some(located) = &self.located {
            return located.get(number);
        }
        let Some(index) = number.checked_sub(1) else {
            return self.record.empty_field();
        };
        if index >= N {
            return self.record.field(number);
        }
        match self.span(index) {
            Some((start, end)) => self.part(start, end),
            None => self.record.empty_field(),
        }
    }

    /// Component `component` (1-based) of the first repeat of field `number`, as
    /// [`Field::component`] reads it.
    #[inline]
    pub fn component(&self, number: usize, component: usize) -> Field<'a> {
        let span = match number.checked_sub(1) {
            Some(index) if self.located.is_none() && index < N => self.span(index),
            _ => return self.get(number).component(component),
        };
        let (Some((start, end)), Some(wanted)) = (span, component.checked_sub(1)) else {
            return self.record.empty_field();
        };
        let delimiters = self.record.delimiters();
        let field = self.plain.as_bytes().get(start..end).unwrap_or_default();
        let mut seen = 0usize;
        let mut from = 0usize;
        let mut until = field.len();
        for (at, &byte) in field.iter().enumerate() {
            if byte == delimiters.component {
                if seen == wanted {
                    return self.part(start + from, start + at);
                }
                seen += 1;
                from = at + 1;
            } else if byte == delimiters.repeat {
                until = at;
                break;
            }
        }
        if seen == wanted {
            self.part(start + from, start + until)
        } else {
            self.record.empty_field()
        }
    }

    /// The first `M` components of the first repeat of field `number`, as
    /// [`Field::locate_components`] finds them.
    pub fn components<const M: usize>(&self, number: usize) -> LocatedComponents<'a, M> {
        let span = match number.checked_sub(1) {
            Some(index) if self.located.is_none() && index < N => self.span(index),
            _ => return self.get(number).locate_components::<M>(),
        };
        let Some((start, end)) = span else {
            return self.record.empty_field().locate_components::<M>();
        };
        let delimiters = self.record.delimiters();
        let field = self.plain.as_bytes().get(start..end).unwrap_or_default();
        let mut ends = [0usize; M];
        // Component delimiters seen, counted up to M + 1.
        let mut seen = 0usize;
        let mut until = field.len();
        for (at, &byte) in field.iter().enumerate() {
            if byte == delimiters.component {
                if let Some(end) = ends.get_mut(seen) {
                    *end = at;
                }
                seen = (seen + 1).min(M + 1);
            } else if byte == delimiters.repeat {
                until = at;
                break;
            }
        }
        // The last component ends where the first repeat ends.
        for end in ends.iter_mut().skip(seen) {
            *end = until;
        }
        LocatedComponents {
            first: self.part(start, start + until),
            repeated: until < field.len(),
            ends,
            count: (seen + 1).min(M + 1),
        }
    }
}

/// The first `N` components of a field's first repeat, located by
/// [`Field::locate_components`].
#[derive(Clone, Copy)]
pub struct LocatedComponents<'a, const N: usize> {
    /// The first repeat.
    first: Field<'a>,
    /// Whether the field has more than one repeat.
    repeated: bool,
    /// Where each component ends.
    ends: [usize; N],
    /// How many components there are (more than `N` when there are more).
    count: usize,
}

impl<const N: usize> fmt::Debug for LocatedComponents<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocatedComponents")
            .field("count", &self.count)
            .field("repeated", &self.repeated)
            .finish()
    }
}

impl<'a, const N: usize> LocatedComponents<'a, N> {
    /// Component `number` (1-based), as [`Field::component`] numbers them: empty
    /// past the end, and read again past the `N` located.
    pub fn get(&self, number: usize) -> Field<'a> {
        let Some(index) = number.checked_sub(1) else {
            return self.first.empty();
        };
        if index >= N {
            return self.first.component(number);
        }
        let Some(&end) = self.ends.get(index).filter(|_| index < self.count) else {
            return self.first.empty();
        };
        let start = match index
            .checked_sub(1)
            .and_then(|previous| self.ends.get(previous))
        {
            Some(previous) => previous + 1,
            None => 0,
        };
        self.first.part((start, end))
    }

    /// How many components the first repeat has.
    pub fn len(&self) -> usize {
        if self.count <= N {
            self.count
        } else {
            self.first.components().count()
        }
    }

    /// Whether the first repeat has no components: never (an empty repeat has one,
    /// empty); for symmetry with [`LocatedComponents::len`].
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether the field has more than one repeat.
    pub fn is_repeated(&self) -> bool {
        self.repeated
    }

    /// The whole field's first repeat.
    pub fn first_repeat(&self) -> Field<'a> {
        self.first
    }
}

/// The byte ranges of the pieces of a record or field between one delimiter: fields,
/// repeats or components.
///
/// In Shift-JIS the second byte of a double-byte character can be any of 0x40..=0x7E
/// and 0x80..=0xFC, so it can have the value of an ASCII delimiter: `ソ` is 0x83 0x5C
/// (`\`), `ポ` 0x83 0x7C (`|`), `タ` 0x83 0x5E (`^`). Cutting at every delimiter byte
/// would split such a character in two and shift every field after it; with
/// [`Charset::ShiftJis`] the scan steps over each double-byte character instead (a
/// lead byte 0x81..=0x9F or 0xE0..=0xFC followed by a trail byte), which is how
/// Japanese analyzers and their hosts read the records. A lead byte followed by
/// anything else (a CR, a delimiter below 0x40) stands alone, as the WHATWG decoder
/// reads it. ASCII text is cut the same way in every charset.
#[derive(Clone)]
struct Ranges<'a> {
    bytes: &'a [u8],
    /// `None`: one piece, the whole.
    delimiter: Option<u8>,
    /// Whether double-byte characters must be stepped over.
    shift_jis: bool,
    /// Where the next piece starts; past the end when done.
    at: usize,
}

impl<'a> Ranges<'a> {
    /// The pieces of `bytes` between `delimiter`s, read in `charset`.
    fn new(bytes: &'a [u8], delimiter: Option<u8>, charset: Charset) -> Self {
        Self {
            bytes,
            delimiter,
            shift_jis: charset == Charset::ShiftJis && !bytes.is_ascii(),
            at: 0,
        }
    }
}

impl Iterator for Ranges<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let start = self.at;
        let rest = self.bytes.get(start..)?;
        let found = self
            .delimiter
            .and_then(|delimiter| find_byte(rest, delimiter, self.shift_jis));
        let end = match found {
            Some(found) => start + found,
            None => self.bytes.len(),
        };
        // One past the delimiter; past the end after the last piece.
        self.at = end + 1;
        Some((start, end))
    }
}

// Delimiters are found eight bytes at a time ("SWAR": SIMD within a register): a
// word of the text is compared with all eight bytes at once and the matches are
// read off a bit mask. Records and fields are short, with a delimiter every few
// bytes; a byte-by-byte loop pays a mispredicted branch at most delimiters and a
// vectorized search (memchr) its setup on every call.

/// Every byte of a word set to 0x7F.
const LOW_SEVEN: u64 = 0x7F7F_7F7F_7F7F_7F7F;

/// The word of up to eight bytes of `bytes` from `at`, little-endian (the byte at
/// `at` lowest), with the high bit set in `valid` for each byte that exists.
fn word_at(bytes: &[u8], at: usize) -> (u64, u64) {
    if let Some(chunk) = bytes.get(at..at.saturating_add(8))
        && let Ok(chunk) = <[u8; 8]>::try_from(chunk)
    {
        return (u64::from_le_bytes(chunk), !LOW_SEVEN);
    }
    // Fewer than eight bytes left: assembled in a register (a word stored byte by
    // byte and then loaded whole stalls the processor until the stores complete).
    // The first and the last bytes are read as two overlapping pieces and put
    // together; where they overlap they hold the same bytes.
    let rest = bytes.get(at..).unwrap_or_default();
    let len = rest.len();
    let le = |piece: &[u8]| {
        piece
            .iter()
            .rev()
            .fold(0u64, |word, byte| word << 8 | u64::from(*byte))
    };
    let word = match len {
        4..=7 => {
            let low = le(rest.get(..4).unwrap_or_default());
            let high = le(rest.get(len - 4..).unwrap_or_default());
            low | high << (8 * (len - 4))
        }
        2 | 3 => {
            let low = le(rest.get(..2).unwrap_or_default());
            let high = le(rest.get(len - 2..).unwrap_or_default());
            low | high << (8 * (len - 2))
        }
        _ => le(rest.get(..len.min(1)).unwrap_or_default()),
    };
    // `len` is below 8 here, so the shift is too.
    let valid = !LOW_SEVEN & ((1u64 << (8 * len.min(7))) - 1);
    (word, valid)
}

/// The high bit of each byte of `word` that equals `byte`, and no other bit (exact:
/// no carry from one byte into the next).
fn matches_in(word: u64, byte: u8) -> u64 {
    let diff = word ^ (u64::from(byte) * 0x0101_0101_0101_0101);
    !((diff & LOW_SEVEN).wrapping_add(LOW_SEVEN) | diff | LOW_SEVEN)
}

/// The offset in its word of the byte a match mask's lowest bit marks.
fn lowest_byte(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// Bytes scanned at once by the block loops below: the width of an SSE2 register,
/// which every x86-64 processor has; the compiler turns a loop over a block into a few
/// vector instructions.
const BLOCK: usize = 16;

/// Where the first CR or LF of `bytes` is: the end of a record.
///
/// Records are short, a few dozen bytes: a block loop finds their end sooner than a
/// general byte search, which pays a set-up on every call. Long records (manufacturer
/// records of tens of kilobytes) go to memchr after the first blocks.
fn find_line_end(bytes: &[u8]) -> Option<usize> {
    let is_end = |byte: u8| (byte == CR) | (byte == LF);
    let mut blocks = bytes.chunks_exact(BLOCK);
    let mut base = 0usize;
    for block in blocks.by_ref() {
        if let Ok(block) = <&[u8; BLOCK]>::try_from(block) {
            let mut hit = 0u8;
            for &byte in block {
                hit |= u8::from(is_end(byte));
            }
            if hit != 0 {
                return block
                    .iter()
                    .position(|&byte| is_end(byte))
                    .map(|at| base + at);
            }
        }
        base += BLOCK;
        if base >= 8 * BLOCK {
            let rest = bytes.get(base..).unwrap_or_default();
            return memchr::memchr2(CR, LF, rest).map(|at| base + at);
        }
    }
    let rest = blocks.remainder();
    let (word, valid) = word_at(rest, 0);
    let mask = (matches_in(word, CR) | matches_in(word, LF)) & valid;
    if mask != 0 {
        return Some(base + lowest_byte(mask));
    }
    // At most 15 bytes: a second word covers the rest.
    let (word, valid) = word_at(rest, 8);
    let mask = (matches_in(word, CR) | matches_in(word, LF)) & valid;
    (mask != 0).then(|| base + 8 + lowest_byte(mask))
}

/// How many times `byte` occurs in `bytes`.
///
/// Counted per block (see [`find_line_end`]); memchr's counter steps through inputs
/// shorter than its vector width byte by byte, which most records are.
fn count_byte(bytes: &[u8], byte: u8) -> usize {
    if bytes.len() >= 256 {
        return memchr::memchr_iter(byte, bytes).count();
    }
    let mut blocks = bytes.chunks_exact(BLOCK);
    let mut count = 0usize;
    for block in blocks.by_ref() {
        if let Ok(block) = <&[u8; BLOCK]>::try_from(block) {
            let mut found = 0u8;
            for &other in block {
                found += u8::from(other == byte);
            }
            count += usize::from(found);
        }
    }
    // One bit per matching byte, at the top of each byte: gathered as 0 or 1 per byte,
    // then the bytes are added up with a multiplication into the top byte.
    let count_in = |word: u64, valid: u64| {
        let mask = matches_in(word, byte) & valid;
        ((mask >> 7).wrapping_mul(0x0101_0101_0101_0101) >> 56) as usize
    };
    let rest = blocks.remainder();
    let mut left = rest.len();
    if let Some(first) = rest.get(..8)
        && let Ok(first) = <[u8; 8]>::try_from(first)
    {
        count += count_in(u64::from_le_bytes(first), !LOW_SEVEN);
        left -= 8;
    }
    if left == 0 {
        return count;
    }
    // The last bytes, as the end of a word that overlaps what was counted already
    // (cheaper than assembling a short word), when there are eight bytes to read.
    if let Some(last) = bytes.len().checked_sub(8).and_then(|at| bytes.get(at..))
        && let Ok(last) = <[u8; 8]>::try_from(last)
    {
        // The top `left` bytes of the word (1..=7 of them) are new.
        let valid = !LOW_SEVEN & !((1u64 << (8 * (8 - left))) - 1);
        return count + count_in(u64::from_le_bytes(last), valid);
    }
    let (word, valid) = word_at(rest, 0);
    count + count_in(word, valid)
}

/// Where the first `N` pieces of `bytes` between `delimiter`s end, how many pieces
/// there are (more than `N` when there are more), and whether the bytes scanned (at
/// least the first `N` pieces) hold an `escape`: `ends[k]` is the end of piece `k`
/// for `k` below that count. Not for Shift-JIS text with double-byte characters
/// (see [`Ranges`]).
fn piece_ends<const N: usize>(
    bytes: &[u8],
    delimiter: u8,
    escape: u8,
) -> ([usize; N], usize, bool) {
    let mut ends = [bytes.len(); N];
    let mut found = 0usize;
    let mut escapes = 0u64;
    let mut base = 0usize;
    while base < bytes.len() {
        let (word, valid) = word_at(bytes, base);
        escapes |= matches_in(word, escape) & valid;
        let mut mask = matches_in(word, delimiter) & valid;
        while mask != 0 {
            let Some(end) = ends.get_mut(found) else {
                return (ends, found + 1, escapes != 0);
            };
            *end = base + lowest_byte(mask);
            found += 1;
            mask &= mask - 1;
        }
        base += 8;
    }
    (ends, found + 1, escapes != 0)
}

/// The byte range of piece `index` (0-based) of the part of `bytes` before the first
/// `stop` byte, cut at `delimiter`; `None` past the last piece. Not for Shift-JIS
/// text with double-byte characters (see [`Ranges`]).
fn piece_range(
    bytes: &[u8],
    delimiter: u8,
    stop: Option<u8>,
    index: usize,
) -> Option<(usize, usize)> {
    let mut start = 0usize;
    let mut seen = 0usize;
    let mut base = 0usize;
    while base < bytes.len() {
        let (word, valid) = word_at(bytes, base);
        let mut ends = matches_in(word, delimiter) & valid;
        let stops = stop.map_or(0, |stop| matches_in(word, stop) & valid);
        if stops != 0 {
            // Only the delimiters before the first stop count.
            ends &= (stops & stops.wrapping_neg()) - 1;
        }
        while ends != 0 {
            let at = base + lowest_byte(ends);
            if seen == index {
                return Some((start, at));
            }
            seen += 1;
            start = at + 1;
            ends &= ends - 1;
        }
        if stops != 0 {
            return (seen == index).then_some((start, base + lowest_byte(stops)));
        }
        base += 8;
    }
    (seen == index).then_some((start, bytes.len()))
}

/// The byte range of piece `index` (0-based) of `bytes` cut at `delimiter`, read in
/// `charset` (see [`Ranges`]); `None` past the last piece.
fn nth_range(
    bytes: &[u8],
    delimiter: u8,
    index: usize,
    charset: Charset,
) -> Option<(usize, usize)> {
    if charset == Charset::ShiftJis && !bytes.is_ascii() {
        return Ranges::new(bytes, Some(delimiter), charset).nth(index);
    }
    piece_range(bytes, delimiter, None, index)
}

/// Where `byte` (an ASCII delimiter) first occurs in `bytes`, stepping over Shift-JIS
/// double-byte characters when `shift_jis` is set (see [`Ranges`]).
fn find_byte(bytes: &[u8], byte: u8, shift_jis: bool) -> Option<usize> {
    if !shift_jis {
        if bytes.len() >= 64 {
            return memchr::memchr(byte, bytes);
        }
        if bytes.len() < 8 {
            // A flag, a status, a short code: a few compares, no word to assemble.
            return bytes.iter().position(|other| *other == byte);
        }
        let mut base = 0usize;
        while base < bytes.len() {
            let (word, valid) = word_at(bytes, base);
            let mask = matches_in(word, byte) & valid;
            if mask != 0 {
                return Some(base + lowest_byte(mask));
            }
            base += 8;
        }
        return None;
    }
    let mut at = 0usize;
    while let Some(&current) = bytes.get(at) {
        if current == byte {
            return Some(at);
        }
        let pair = is_shift_jis_lead(current)
            && bytes
                .get(at + 1)
                .is_some_and(|next| is_shift_jis_trail(*next));
        at += if pair { 2 } else { 1 };
    }
    None
}

/// A Shift-JIS lead byte (WHATWG Encoding Standard, Shift_JIS decoder).
fn is_shift_jis_lead(byte: u8) -> bool {
    matches!(byte, 0x81..=0x9F | 0xE0..=0xFC)
}

/// A Shift-JIS trail byte (WHATWG Encoding Standard, Shift_JIS decoder).
fn is_shift_jis_trail(byte: u8) -> bool {
    matches!(byte, 0x40..=0x7E | 0x80..=0xFC)
}

/// `raw` as text when reading it needs no decoding: no escape character, and ASCII
/// (the same in every charset here) or valid UTF-8 in a UTF-8 message.
fn plain_text(raw: &[u8], escape: u8, charset: Charset) -> Option<&str> {
    if raw.contains(&escape) || (charset != Charset::Utf8 && !raw.is_ascii()) {
        return None;
    }
    std::str::from_utf8(raw).ok()
}

/// One field: repeats of components.
#[derive(Clone, Copy)]
pub struct Field<'a> {
    raw: &'a [u8],
    /// `raw` as text when it reads as itself (see `plain_text`): found once per record
    /// and carried to every repeat and component, so reading their text costs nothing.
    plain: Option<&'a str>,
    format: Format,
}

/// How a field reads: the message's delimiters and charset, and whether the field is
/// split into repeats and components (all but H-2), packed in one word. Fields are
/// made and copied many times per record; a word written whole is copied with one
/// load, where bytes stored one by one and then copied as a word stall the processor
/// until the stores complete.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Format(u64);

impl fmt::Debug for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Format")
            .field("delimiters", &self.delimiters())
            .field("charset", &self.charset())
            .field("structured", &self.structured())
            .finish()
    }
}

impl Format {
    /// The bit of the byte after the charset that marks an unsplit field.
    const UNSTRUCTURED: u64 = 1 << 40;

    /// Fields of a message with `delimiters` in `charset`.
    fn new(delimiters: Delimiters, charset: Charset) -> Self {
        let charset = match charset {
            Charset::Utf8 => 0u8,
            Charset::Latin1 => 1,
            Charset::Windows1252 => 2,
            Charset::ShiftJis => 3,
        };
        Self(u64::from_le_bytes([
            delimiters.field,
            delimiters.repeat,
            delimiters.component,
            delimiters.escape,
            charset,
            0,
            0,
            0,
        ]))
    }

    /// The same, for a field that is not split (H-2).
    fn unstructured(self) -> Self {
        Self(self.0 | Self::UNSTRUCTURED)
    }

    fn delimiters(self) -> Delimiters {
        let [field, repeat, component, escape, ..] = self.0.to_le_bytes();
        Delimiters {
            field,
            repeat,
            component,
            escape,
        }
    }

    fn charset(self) -> Charset {
        match self.0.to_le_bytes() {
            [_, _, _, _, 1, ..] => Charset::Latin1,
            [_, _, _, _, 2, ..] => Charset::Windows1252,
            [_, _, _, _, 3, ..] => Charset::ShiftJis,
            _ => Charset::Utf8,
        }
    }

    fn structured(self) -> bool {
        self.0 & Self::UNSTRUCTURED == 0
    }
}

impl fmt::Debug for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Field")
            .field("len", &self.raw.len())
            .finish()
    }
}

impl<'a> Field<'a> {
    /// The message's delimiters.
    fn delimiters(&self) -> Delimiters {
        self.format.delimiters()
    }

    /// The message's charset.
    fn charset(&self) -> Charset {
        self.format.charset()
    }

    /// False for H-2, the delimiter definition, which is not split.
    fn structured(&self) -> bool {
        self.format.structured()
    }

    /// The raw bytes, escapes not decoded.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The part of this field in `start..end`, as a field of the same kind.
    #[inline]
    fn part(&self, (start, end): (usize, usize)) -> Field<'a> {
        // Plain text is its bytes: one cut serves both.
        if let Some(plain) = self.plain.and_then(|plain| plain.get(start..end)) {
            return Field {
                raw: plain.as_bytes(),
                plain: Some(plain),
                ..*self
            };
        }
        let raw = self.raw.get(start..end).unwrap_or_default();
        // Delimiters are ASCII, and ASCII bytes are whole characters in UTF-8, so the
        // plain text's parts start and end on character boundaries.
        let plain = match self.plain {
            Some(plain) => plain.get(start..end),
            None => plain_text(raw, self.delimiters().escape, self.charset()),
        };
        Field {
            raw,
            plain,
            ..*self
        }
    }

    /// An empty field of the same kind.
    fn empty(&self) -> Field<'a> {
        Field {
            raw: &[],
            plain: Some(""),
            ..*self
        }
    }

    /// The bytes of the first repeat (the whole field when it is not split).
    fn first_repeat(&self) -> Field<'a> {
        if !self.structured() {
            return *self;
        }
        let shift_jis = self.charset() == Charset::ShiftJis && self.plain.is_none();
        match find_byte(self.raw, self.delimiters().repeat, shift_jis) {
            Some(end) => self.part((0, end)),
            None => *self,
        }
    }

    /// The repeats (at least one, possibly empty).
    pub fn repeats(&self) -> impl Iterator<Item = Field<'a>> + use<'a> {
        let field = *self;
        let repeat = self.structured().then_some(self.delimiters().repeat);
        Ranges::new(self.raw, repeat, self.charset()).map(move |range| field.part(range))
    }

    /// Repeat `number` (1-based); the field itself if it has no repeats and
    /// `number` is 1; empty past the end.
    pub fn repeat(&self, number: usize) -> Field<'a> {
        let Some(index) = number.checked_sub(1) else {
            return self.empty();
        };
        if !self.structured() {
            return if index == 0 { *self } else { self.empty() };
        }
        nth_range(self.raw, self.delimiters().repeat, index, self.charset())
            .map_or_else(|| self.empty(), |range| self.part(range))
    }

    /// Component `number` (1-based) of the first repeat; empty past the end.
    pub fn component(&self, number: usize) -> Field<'a> {
        let Some(index) = number.checked_sub(1) else {
            return self.empty();
        };
        if self.charset() == Charset::ShiftJis && self.plain.is_none() {
            let first = self.first_repeat();
            return nth_range(
                first.raw,
                self.delimiters().component,
                index,
                self.charset(),
            )
            .map_or_else(|| self.empty(), |range| first.part(range));
        }
        // The common case: component `index` of the part before the first repeat
        // delimiter, in one pass.
        let repeat = self.structured().then_some(self.delimiters().repeat);
        piece_range(self.raw, self.delimiters().component, repeat, index)
            .map_or_else(|| self.empty(), |range| self.part(range))
    }

    /// Finds where the first `N` components of the first repeat are, in one pass,
    /// without making them: each is made when asked for
    /// ([`LocatedComponents::get`]). The fast way to read several components.
    pub fn locate_components<const N: usize>(&self) -> LocatedComponents<'a, N> {
        let first = self.first_repeat();
        let delimiters = self.delimiters();
        let (ends, count) = if self.charset() == Charset::ShiftJis && first.plain.is_none() {
            let mut ends = [first.raw.len(); N];
            let mut count = 0usize;
            let ranges = Ranges::new(first.raw, Some(delimiters.component), self.charset());
            for (index, (_, end)) in ranges.enumerate() {
                if let Some(slot) = ends.get_mut(index) {
                    *slot = end;
                }
                count += 1;
            }
            (ends, count)
        } else {
            let (ends, count, _) =
                piece_ends::<N>(first.raw, delimiters.component, delimiters.escape);
            (ends, count)
        };
        LocatedComponents {
            first,
            repeated: first.raw.len() < self.raw.len(),
            ends,
            count,
        }
    }

    /// The components of the first repeat.
    pub fn components(&self) -> impl Iterator<Item = Field<'a>> + use<'a> {
        let first = self.first_repeat();
        Ranges::new(first.raw, Some(self.delimiters().component), self.charset())
            .map(move |range| first.part(range))
    }

    /// The text with escapes decoded and the charset applied; borrowed when
    /// nothing needed decoding. Undefined escapes are kept verbatim (see
    /// [`Field::decode`] to learn about them).
    pub fn text(&self) -> Cow<'a, str> {
        match self.plain {
            Some(plain) => Cow::Borrowed(plain),
            None => self.decode(&mut |_| {}),
        }
    }

    /// [`Field::text`], reporting each undefined escape sequence to `unknown`.
    ///
    /// | sequence | decoded as |
    /// |---|---|
    /// | `&F&` `&R&` `&S&` `&E&` | the field, repeat, component, escape delimiter |
    /// | `&Xhh…&` | the bytes `hh…` (then the charset applies) |
    /// | `&H&` `&N&` | nothing (start and end of highlighting) |
    /// | `&.br&` | a line feed |
    /// | anything else, and an unclosed `&` | kept verbatim |
    ///
    /// In [`Charset::ShiftJis`], a byte with the escape character's value that is the
    /// second byte of a double-byte character belongs to that character.
    pub fn decode(&self, unknown: &mut dyn FnMut(&str)) -> Cow<'a, str> {
        if let Some(plain) = self.plain {
            return Cow::Borrowed(plain);
        }
        let escape = self.delimiters().escape;
        let shift_jis = self.charset() == Charset::ShiftJis && !self.raw.is_ascii();
        if !self.structured() || find_byte(self.raw, escape, shift_jis).is_none() {
            return decode_charset(self.raw, self.charset());
        }
        let mut bytes = Vec::with_capacity(self.raw.len());
        let mut rest = self.raw;
        while let Some(start) = find_byte(rest, escape, shift_jis) {
            bytes.extend_from_slice(rest.get(..start).unwrap_or_default());
            let after = rest.get(start + 1..).unwrap_or_default();
            let Some(close) = find_byte(after, escape, shift_jis) else {
                // An unclosed escape character is data.
                bytes.extend_from_slice(rest.get(start..).unwrap_or_default());
                rest = &[];
                break;
            };
            let body = after.get(..close).unwrap_or_default();
            match body {
                b"F" => bytes.push(self.delimiters().field),
                b"R" => bytes.push(self.delimiters().repeat),
                b"S" => bytes.push(self.delimiters().component),
                b"E" => bytes.push(escape),
                b"H" | b"N" => {}
                b".br" => bytes.push(b'\n'),
                [b'X', hex @ ..]
                    if !hex.is_empty()
                        && hex.len() % 2 == 0
                        && hex.iter().all(u8::is_ascii_hexdigit) =>
                {
                    for pair in hex.chunks(2) {
                        let text = std::str::from_utf8(pair).unwrap_or("3F");
                        bytes.push(u8::from_str_radix(text, 16).unwrap_or(b'?'));
                    }
                }
                _ => {
                    let verbatim = rest.get(start..start + close + 2).unwrap_or_default();
                    unknown(&decode_charset(verbatim, self.charset()));
                    bytes.extend_from_slice(verbatim);
                }
            }
            rest = after.get(close + 1..).unwrap_or_default();
        }
        bytes.extend_from_slice(rest);
        Cow::Owned(decode_charset(&bytes, self.charset()).into_owned())
    }
}

/// Bytes to text in `charset`, borrowed when the bytes are ASCII or valid UTF-8.
pub fn decode_charset(bytes: &[u8], charset: Charset) -> Cow<'_, str> {
    if bytes.is_ascii() {
        return Cow::Borrowed(std::str::from_utf8(bytes).unwrap_or_default());
    }
    match charset {
        Charset::Utf8 => String::from_utf8_lossy(bytes),
        Charset::Latin1 => Cow::Owned(bytes.iter().map(|b| char::from(*b)).collect()),
        Charset::Windows1252 => Cow::Owned(bytes.iter().map(|b| windows_1252(*b)).collect()),
        // WHATWG Shift_JIS (what Windows code page 932 writes): ASCII bytes are ASCII,
        // malformed sequences become U+FFFD.
        Charset::ShiftJis => encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes).0,
    }
}

/// Windows-1252 differs from Latin-1 only in 0x80..=0x9F.
fn windows_1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9f => HIGH
            .get(usize::from(byte - 0x80))
            .copied()
            .unwrap_or('\u{fffd}'),
        _ => char::from(byte),
    }
}

/// Escapes `text` for a field: delimiters become `&F&`, `&R&`, `&S&`, `&E&`, and CR
/// and LF become `&X0D&` and `&X0A&` (a raw CR would end the record).
pub fn escape(text: &str, delimiters: Delimiters, out: &mut Vec<u8>) {
    for byte in text.bytes() {
        let sequence: Option<&[u8]> = match byte {
            b if b == delimiters.field => Some(b"F"),
            b if b == delimiters.repeat => Some(b"R"),
            b if b == delimiters.component => Some(b"S"),
            b if b == delimiters.escape => Some(b"E"),
            CR => Some(b"X0D"),
            LF => Some(b"X0A"),
            _ => None,
        };
        match sequence {
            Some(sequence) => {
                out.push(delimiters.escape);
                out.extend_from_slice(sequence);
                out.push(delimiters.escape);
            }
            None => out.push(byte),
        }
    }
}

/// Test input: an `H|\^&` header record, then `lines` as records, encoded in the
/// charset `pick` (0 to 3: UTF-8, Latin-1, Windows-1252, Shift-JIS), and the options
/// that read it.
#[cfg(test)]
pub(crate) fn test_session(lines: &[String], pick: usize) -> (Vec<u8>, RecordOptions) {
    let charsets = [
        Charset::Utf8,
        Charset::Latin1,
        Charset::Windows1252,
        Charset::ShiftJis,
    ];
    let charset = charsets[pick % charsets.len()];
    let mut text = String::from("H|\\^&\r");
    for line in lines {
        text.push_str(line);
        text.push('\r');
    }
    let bytes = match charset {
        Charset::ShiftJis => encoding_rs::SHIFT_JIS.encode(&text).0.into_owned(),
        _ => text.into_bytes(),
    };
    let options = RecordOptions {
        charset,
        ..RecordOptions::default()
    };
    (bytes, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROCHE_LIKE: &[u8] = b"H|\\^&|||host^1|||||||P|1|20240301101502\rP|1|PAT-1\rO|1|S1||^^^GLU\\^^^CRP|R\rR|1|^^^GLU|5.40|mmol/L||N||F\rC|1|I|Hemolysis&F&index 2|G\rR|2|^^^CRP|<0.5|mg/L||L||F\rL|1|N\r";

    #[test]
    fn fields_are_numbered_as_the_standard_numbers_them() {
        let (message, warnings) = Message::parse(ROCHE_LIKE, &RecordOptions::default()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(message.is_complete());
        assert_eq!(message.len(), 7);
        let header = message.header().unwrap();
        assert_eq!(header.field(2).text(), "\\^&");
        assert_eq!(header.field(5).component(1).text(), "host");
        assert_eq!(header.field(12).text(), "P");
        let order = message.record(2).unwrap();
        assert_eq!(order.kind(), RecordType::ORDER);
        assert_eq!(order.field(5).repeats().count(), 2);
        assert_eq!(order.field(5).repeat(2).component(4).text(), "CRP");
        let comment = message.record(4).unwrap();
        assert_eq!(comment.field(4).text(), "Hemolysis|index 2");
        assert_eq!(message.record(5).unwrap().field(4).text(), "<0.5");
        assert_eq!(message.record(5).unwrap().field(40).text(), "");
        assert_eq!(message.as_bytes(), ROCHE_LIKE);
    }

    #[test]
    fn delimiters_come_from_the_header() {
        // Cepheid GeneXpert: repeat `@`, component `^`, escape `\`.
        let text = b"H|@^\\|URM-1||GeneXpert^Dx^4.8|||||LIS||P|1394-97|20240301\rR|1|^MTB^^Xpert@^RIF|POS|||||F\rL|1|N\r";
        let (message, _) = Message::parse(text, &RecordOptions::default()).unwrap();
        assert_eq!(message.delimiters().repeat, b'@');
        let result = message.record(1).unwrap();
        assert_eq!(result.field(3).repeats().count(), 2);
        assert_eq!(result.field(3).component(2).text(), "MTB");
        assert!(Delimiters::from_header(b"H|||||").is_err());
        assert!(Delimiters::from_header(b"H|a^&").is_err());
        assert!(Delimiters::from_header(b"P|1").is_err());
    }

    #[test]
    fn escapes_decode_and_encode() {
        let delimiters = Delimiters::default();
        for text in ["a|b", "x\\y^z&w", "line\rbreak\n", "plain", "&F&"] {
            let mut escaped = Vec::new();
            escape(text, delimiters, &mut escaped);
            let field = Field {
                raw: &escaped,
                plain: None,
                format: Format::new(delimiters, Charset::Utf8),
            };
            assert_eq!(field.text(), text, "{}", String::from_utf8_lossy(&escaped));
        }
        let field = Field {
            raw: b"A&H&B&N&C&X41&&Zlocal&&",
            plain: None,
            format: Format::new(delimiters, Charset::Utf8),
        };
        let mut unknown = Vec::new();
        assert_eq!(
            field.decode(&mut |seq| unknown.push(seq.to_owned())),
            "ABCA&Zlocal&&"
        );
        assert_eq!(unknown, ["&Zlocal&"]);
    }

    #[test]
    fn charsets_are_applied_to_non_ascii_bytes() {
        assert_eq!(decode_charset(b"\xb5mol/L", Charset::Latin1), "µmol/L");
        assert_eq!(decode_charset(b"\x80 5", Charset::Windows1252), "€ 5");
        assert_eq!(decode_charset("µmol/L".as_bytes(), Charset::Utf8), "µmol/L");
        assert_eq!(decode_charset(b"\xff", Charset::Utf8), "\u{fffd}");
    }

    #[test]
    fn lenient_mode_reports_what_strict_mode_refuses() {
        let text = b"h|\\^&\nP|1\n\nO|1|S1\nR|3|^^^GLU|1\nL|1\n";
        let (message, warnings) = Message::parse(text, &RecordOptions::default()).unwrap();
        assert_eq!(message.len(), 5);
        let kinds: Vec<&RecordWarningKind> = warnings.iter().map(|w| &w.kind).collect();
        assert!(kinds.contains(&&RecordWarningKind::Separator));
        assert!(kinds.contains(&&RecordWarningKind::EmptyRecord));
        assert!(
            kinds
                .iter()
                .any(|k| matches!(k, RecordWarningKind::Sequence { expected: 1, .. }))
        );
        let strict = RecordOptions {
            strict: true,
            ..RecordOptions::default()
        };
        assert!(matches!(
            Message::parse(text, &strict),
            Err(RecordError::Separator { .. })
        ));
    }

    #[test]
    fn several_messages_and_a_missing_terminator() {
        let text = b"H|\\^&\rP|1\rL|1|N\rH|\\^&\rP|1\rO|1\rH|\\^&\rQ|1|^S1\rL|1|N\r";
        let (messages, warnings) = parse_messages(text, &RecordOptions::default()).unwrap();
        assert_eq!(messages.len(), 3);
        assert!(
            messages[0].is_complete() && !messages[1].is_complete() && messages[2].is_complete()
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.kind == RecordWarningKind::MissingTerminator)
        );
        let joined: Vec<u8> = messages
            .iter()
            .flat_map(|m| m.as_bytes().iter().copied())
            .collect();
        assert_eq!(joined, text);
    }

    #[test]
    fn hierarchy_violations_are_warnings() {
        let text = b"H|\\^&\rR|1|^^^GLU|1\rL|1|N\r";
        let (_, warnings) = Message::parse(text, &RecordOptions::default()).unwrap();
        assert!(warnings.iter().any(|w| matches!(
            w.kind,
            RecordWarningKind::Hierarchy {
                found: RecordType::RESULT,
                ..
            }
        )));
    }

    fn shift_jis(text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
        assert!(!unmappable);
        bytes.into_owned()
    }

    fn shift_jis_options() -> RecordOptions {
        RecordOptions {
            charset: Charset::ShiftJis,
            ..RecordOptions::default()
        }
    }

    /// ソ (83 5C), タ (83 5E) and ポ (83 7C) end in the bytes of `\`, `^` and `|`.
    #[test]
    fn shift_jis_trail_bytes_are_not_delimiters() {
        let text = shift_jis(
            "H|\\^&\rP|1||PID-1||ソノダ^タロウ||19720915|M\rC|1|I|ポンプ表示^再測定|G\rL|1|N\r",
        );
        assert!(text.windows(2).any(|pair| pair == [0x83, b'|']));
        let (message, warnings) = Message::parse(&text, &shift_jis_options()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let patient = message.record(1).unwrap();
        assert_eq!(patient.field_count(), 9);
        let name = patient.field(6);
        assert_eq!(name.repeats().count(), 1);
        assert_eq!(name.components().count(), 2);
        assert_eq!(name.component(1).text(), "ソノダ");
        assert_eq!(name.component(2).text(), "タロウ");
        assert_eq!(patient.field(9).text(), "M");
        let comment = message.record(2).unwrap();
        assert_eq!(comment.field_count(), 5);
        assert_eq!(comment.field(4).text(), "ポンプ表示^再測定");
        assert_eq!(comment.field(4).component(2).text(), "再測定");
        assert_eq!(comment.field(5).text(), "G");
        // Every way of reading fields agrees.
        let located = comment.locate_fields::<5>();
        let first = comment.first_fields::<5>();
        for (number, field) in comment.fields().enumerate() {
            assert_eq!(field.text(), comment.field(number + 1).text());
            assert_eq!(field.text(), located.get(number + 1).text());
            assert_eq!(field.text(), first[number].text());
        }
        let parts = name.locate_components::<4>();
        assert_eq!(parts.get(1).text(), "ソノダ");
        assert_eq!(parts.get(2).text(), "タロウ");
        assert_eq!(parts.len(), 2);
        // Past the components located: read again, and counted all the same.
        let one = name.locate_components::<1>();
        assert_eq!(one.get(2).text(), "タロウ");
        assert_eq!(one.len(), 2);
    }

    /// With `\` as the escape character (Cepheid's `|@^\`), the 0x5C that ends 表 opens no
    /// escape sequence; the real one after it does.
    #[test]
    fn shift_jis_trail_bytes_open_no_escape() {
        let text = shift_jis("H|@^\\\rC|1|I|表示\\F\\OK|G\rL|1|N\r");
        let (message, _) = Message::parse(&text, &shift_jis_options()).unwrap();
        assert_eq!(message.record(1).unwrap().field(4).text(), "表示|OK");
    }

    /// A lead byte with no trail byte after it (here a space) stands alone: it cannot
    /// hide the byte after it. A lead byte followed by a byte in the trail range is a
    /// character, whatever the sender meant: `83 7C` is ポ.
    #[test]
    fn shift_jis_lead_bytes_pair_only_with_trail_bytes() {
        let text = b"H|\\^&\rC|1|\x83 |x|G\rC|1|\x83|x|G\rL|1|N\r";
        let (message, _) = Message::parse(text, &shift_jis_options()).unwrap();
        let alone = message.record(1).unwrap();
        assert_eq!(alone.field(3).text(), "\u{fffd} ");
        assert_eq!(alone.field(4).text(), "x");
        let paired = message.record(2).unwrap();
        assert_eq!(paired.field(3).text(), "ポx");
        assert_eq!(paired.field_count(), 4);
        // Bytes that are no Shift-JIS at all decode to replacement characters.
        assert_eq!(
            decode_charset(b"\xff\xfd", Charset::ShiftJis),
            "\u{fffd}\u{fffd}"
        );
    }

    #[test]
    fn every_charset_reads_ascii_the_same() {
        for charset in [
            Charset::Utf8,
            Charset::Latin1,
            Charset::Windows1252,
            Charset::ShiftJis,
        ] {
            let options = RecordOptions {
                charset,
                ..RecordOptions::default()
            };
            let (message, _) = Message::parse(ROCHE_LIKE, &options).unwrap();
            assert_eq!(
                message.record(4).unwrap().field(4).text(),
                "Hemolysis|index 2"
            );
            assert_eq!(
                message.record(3).unwrap().field(3).component(4).text(),
                "GLU"
            );
        }
    }

    /// The word-at-a-time scans against plain loops, on the edge cases: pieces at
    /// either end, empty pieces, a stop byte in the first word or past it, delimiters
    /// exactly at a word boundary.
    #[test]
    fn word_scans_agree_with_byte_loops() {
        let inputs: [&[u8]; 8] = [
            b"",
            b"|",
            b"abc",
            b"a|b||c|",
            b"1234567|89|",
            b"12345678|1234567|",
            b"|||||||||||||||||",
            b"a^b\\c^d|e",
        ];
        for bytes in inputs {
            let naive: Vec<(usize, usize)> = {
                let mut out = Vec::new();
                let mut start = 0;
                for (at, byte) in bytes.iter().enumerate() {
                    if *byte == b'|' {
                        out.push((start, at));
                        start = at + 1;
                    }
                }
                out.push((start, bytes.len()));
                out
            };
            let (ends, count, _) = piece_ends::<32>(bytes, b'|', b'&');
            assert_eq!(count, naive.len(), "{bytes:?}");
            for (index, (start, end)) in naive.iter().enumerate() {
                assert_eq!(ends[index], *end, "{bytes:?}");
                assert_eq!(piece_range(bytes, b'|', None, index), Some((*start, *end)));
            }
            assert_eq!(piece_range(bytes, b'|', None, naive.len()), None);
            assert_eq!(
                find_byte(bytes, b'|', false),
                bytes.iter().position(|b| *b == b'|')
            );
        }
        // The stop byte ends the part that is cut.
        assert_eq!(piece_range(b"a^b\\c^d", b'^', Some(b'\\'), 1), Some((2, 3)));
        assert_eq!(piece_range(b"a^b\\c^d", b'^', Some(b'\\'), 2), None);
    }

    #[test]
    fn block_scans_agree_with_byte_loops() {
        // Every length around the block and word sizes (and past the switch to
        // memchr), with the bytes sought at every position.
        let lengths = (0..=160).chain([255, 256, 257, 300, 1000]);
        for len in lengths {
            let plain: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert_eq!(count_byte(&plain, b'|'), 0, "{len}");
            assert_eq!(find_line_end(&plain), None, "{len}");
            for at in (0..len).step_by(if len > 160 { 7 } else { 1 }) {
                let mut bytes = plain.clone();
                bytes[at] = b'|';
                assert_eq!(count_byte(&bytes, b'|'), 1, "{len} {at}");
                bytes[len - 1 - at] = b'|';
                let expected = if at == len - 1 - at { 1 } else { 2 };
                assert_eq!(count_byte(&bytes, b'|'), expected, "{len} {at}");
                for end in [CR, LF] {
                    let mut bytes = plain.clone();
                    bytes[at] = end;
                    assert_eq!(find_line_end(&bytes), Some(at), "{len} {at}");
                    bytes[len - 1] = CR;
                    assert_eq!(find_line_end(&bytes), Some(at), "{len} {at}");
                }
            }
        }
        let all = [b'|'; 40];
        for len in 0..all.len() {
            assert_eq!(count_byte(&all[..len], b'|'), len);
        }
    }

    #[test]
    fn messages_join_into_one_record_stream() {
        let mut session = Vec::new();
        let first = b"H|\\^&\rP|1\r".to_vec();
        let address = first.as_ptr();
        join_message(&mut session, first);
        // Taken over, not copied.
        assert_eq!(session.as_ptr(), address);
        join_message(&mut session, b"O|1|S1\rR|1|^^^GLU|5".to_vec());
        join_message(&mut session, Vec::new());
        join_message(&mut session, b"L|1|N\n".to_vec());
        assert_eq!(session, b"H|\\^&\rP|1\rO|1|S1\rR|1|^^^GLU|5\rL|1|N\n");
        let (messages, _) = parse_messages(&session, &RecordOptions::default()).unwrap();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].len(), 5);
        assert!(messages[0].is_complete());
        // A cleared session keeps its room.
        session.clear();
        let capacity = session.capacity();
        join_message(&mut session, b"H|\\^&".to_vec());
        assert_eq!(session, b"H|\\^&\r");
        assert_eq!(session.capacity(), capacity);
    }

    #[test]
    fn sequence_numbers_are_read_off_the_bytes() {
        assert_eq!(leading_number(b"R|12|x", b'|'), Some(12));
        assert_eq!(leading_number(b"R|1", b'|'), Some(1));
        assert_eq!(leading_number(b"R|123456789|", b'|'), Some(123_456_789));
        // Anything else goes to the general reading of field 2.
        assert_eq!(leading_number(b"R|1234567890|", b'|'), None);
        assert_eq!(leading_number(b"R||", b'|'), None);
        assert_eq!(leading_number(b"R|", b'|'), None);
        assert_eq!(leading_number(b"R| 1|", b'|'), None);
        assert_eq!(leading_number(b"R|1 |", b'|'), None);
        assert_eq!(leading_number(b"R|1^2|", b'|'), None);
        assert_eq!(leading_number(b"R@1@", b'|'), None);
        assert_eq!(leading_number(b"R", b'|'), None);
        assert_eq!(plain_number(b"007"), Some(7));
        assert_eq!(plain_number(b""), None);
        assert_eq!(plain_number(b"+1"), None);
    }

    /// Everything a [`FieldTable`] reads, against the general reading of the same
    /// record: fields, components, located components, past the end and past `N`.
    fn assert_table_reads_as_fields<const N: usize>(record: &Record<'_>) {
        let table = record.field_table::<N>();
        for number in 0..N + 3 {
            let field = record.field(number);
            let from_table = table.get(number);
            assert_eq!(from_table.raw(), field.raw(), "{record:?} field {number}");
            assert_eq!(from_table.text(), field.text(), "{record:?} field {number}");
            for component in 0..6 {
                let expected = field.component(component);
                let found = table.component(number, component);
                assert_eq!(found.raw(), expected.raw(), "{number}.{component}");
                assert_eq!(found.text(), expected.text(), "{number}.{component}");
            }
            let expected = field.locate_components::<3>();
            let found = table.components::<3>(number);
            assert_eq!(found.len(), expected.len(), "{number}");
            assert_eq!(found.is_repeated(), expected.is_repeated(), "{number}");
            assert_eq!(found.first_repeat().raw(), expected.first_repeat().raw());
            for component in 0..7 {
                assert_eq!(
                    found.get(component).text(),
                    expected.get(component).text(),
                    "{number}.{component}"
                );
            }
        }
    }

    fn assert_tables_read_as_fields(text: &[u8], options: &RecordOptions) {
        let Ok((messages, _)) = parse_messages(text, options) else {
            return;
        };
        for message in &messages {
            for record in message.records() {
                assert_table_reads_as_fields::<1>(&record);
                assert_table_reads_as_fields::<4>(&record);
                assert_table_reads_as_fields::<14>(&record);
            }
        }
    }

    #[test]
    fn field_tables_read_what_fields_read() {
        let cobas = b"H|\\^&|||cobas^2.1|||||host||P|1\rP|1|MRN-1||ALT-9|Doe^Jane||19800501|F\rO|1|S1|S1^R4^3|^^^717/\\^^^690|R\rR|1|^^^717/|5.40|mmol/L|3.9-6.1|N||F||OP1|20240301101000|20240301101502|cobas-1\rR|2|^^^1^2^3^4^5|^7.1\\8|||H\\L|||||\rR|3|abcdefghijk|a&F&b|x^y&S&z|\rL|1|N\r";
        let odd =
            b"H|@^\\\rR|1|^MTB^^Xpert@^RIF|POS@NEG||||F\rr|2|\xc2\xb5mol^\xe3\x81\x82|x\rL|1|N\r";
        for charset in [
            Charset::Utf8,
            Charset::Latin1,
            Charset::Windows1252,
            Charset::ShiftJis,
        ] {
            let options = RecordOptions {
                charset,
                ..RecordOptions::default()
            };
            for text in [&cobas[..], &odd[..], ROCHE_LIKE] {
                assert_tables_read_as_fields(text, &options);
            }
        }
        let sjis = shift_jis("H|\\^&\rP|1||PID-1||ソノダ^タロウ||19720915|M\rL|1|N\r");
        assert_tables_read_as_fields(&sjis, &shift_jis_options());
        // Indexed the fast way only when the record reads as itself.
        let (message, _) = Message::parse(cobas, &RecordOptions::default()).unwrap();
        assert!(!message.record(0).unwrap().field_table::<4>().is_fast());
        assert!(message.record(3).unwrap().field_table::<14>().is_fast());
        assert!(!message.record(5).unwrap().field_table::<14>().is_fast());
        // An escape past the fields located does not matter.
        assert!(message.record(5).unwrap().field_table::<2>().is_fast());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any field text, escaped into a record, reads back unchanged, whatever
            /// the delimiters.
            #[test]
            fn escaped_text_reads_back(
                texts in proptest::collection::vec(".{0,20}", 1..6),
                pick in 0usize..3,
            ) {
                let delimiters = [
                    Delimiters::default(),
                    Delimiters { field: b'|', repeat: b'@', component: b'^', escape: b'\\' },
                    Delimiters { field: b'!', repeat: b'~', component: b'$', escape: b'%' },
                ][pick];
                let mut text = vec![b'H'];
                text.extend_from_slice(&delimiters.header_text());
                text.extend_from_slice(b"\rR");
                for field in &texts {
                    text.push(delimiters.field);
                    escape(field, delimiters, &mut text);
                }
                text.extend_from_slice(b"\rL|1|N\r");
                let (message, _) = Message::parse(&text, &RecordOptions::default()).unwrap();
                let record = message.record(1).unwrap();
                for (index, field) in texts.iter().enumerate() {
                    prop_assert_eq!(record.field(index + 2).text(), field.as_str());
                }
                prop_assert_eq!(message.as_bytes(), &text[..]);
            }

            /// The word-at-a-time scans find what a byte loop finds, for any bytes.
            #[test]
            fn word_scans_match_byte_loops(
                bytes in proptest::collection::vec(prop_oneof![Just(b'|'), Just(b'^'), Just(b'\\'), any::<u8>()], 0..80),
                index in 0usize..12,
            ) {
                let positions: Vec<usize> = bytes
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'|')
                    .map(|(at, _)| at)
                    .collect();
                let (ends, count, escaped) = piece_ends::<8>(&bytes, b'|', b'^');
                prop_assert_eq!(count.min(9), (positions.len() + 1).min(9));
                for (slot, position) in ends.iter().zip(&positions) {
                    prop_assert_eq!(slot, position);
                }
                if positions.len() < 8 {
                    prop_assert_eq!(ends[positions.len()], bytes.len());
                }
                if positions.len() < 8 {
                    prop_assert_eq!(escaped, bytes.contains(&b'^'));
                }
                let naive = bytes.split(|b| *b == b'|').nth(index).map(|piece| {
                    let start = piece.as_ptr() as usize - bytes.as_ptr() as usize;
                    (start, start + piece.len())
                });
                prop_assert_eq!(piece_range(&bytes, b'|', None, index), naive);
                let first_repeat = bytes.split(|b| *b == b'\\').next().unwrap_or_default();
                let naive = first_repeat.split(|b| *b == b'^').nth(index).map(|piece| {
                    let start = piece.as_ptr() as usize - bytes.as_ptr() as usize;
                    (start, start + piece.len())
                });
                prop_assert_eq!(piece_range(&bytes, b'^', Some(b'\\'), index), naive);
                prop_assert_eq!(find_byte(&bytes, b'|', false), positions.first().copied());
            }

            /// Counting a byte and finding a record's end agree with byte loops.
            #[test]
            fn block_scans_match_byte_loops(
                bytes in proptest::collection::vec(prop_oneof![Just(b'|'), Just(CR), Just(LF), any::<u8>()], 0..400),
            ) {
                prop_assert_eq!(
                    count_byte(&bytes, b'|'),
                    bytes.iter().filter(|b| **b == b'|').count()
                );
                prop_assert_eq!(
                    find_line_end(&bytes),
                    bytes.iter().position(|b| *b == CR || *b == LF)
                );
            }

            /// Shift-JIS text written by the message builder reads back unchanged, and
            /// every field boundary is where the writer put it, whatever delimiter bytes
            /// the double-byte characters contain. Characters Shift-JIS lacks are written
            /// as `?`.
            #[test]
            fn shift_jis_text_reads_back(
                texts in proptest::collection::vec("[ソタポ表能十予ア-ン亜-熙a-z|^&\\\\ ]{0,12}", 1..6),
            ) {
                let mut builder = crate::write::MessageBuilder::new(Delimiters::default())
                    .unwrap()
                    .with_charset(Charset::ShiftJis);
                builder
                    .record(RecordType::HEADER, |_| {})
                    .unwrap()
                    .record(RecordType::COMMENT, |comment| {
                        for (index, field) in texts.iter().enumerate() {
                            comment.text(index + 2, field);
                        }
                    })
                    .unwrap();
                let text = builder.finish();
                let (message, _) = Message::parse(&text, &shift_jis_options()).unwrap();
                let record = message.record(1).unwrap();
                for (index, field) in texts.iter().enumerate() {
                    let expected: String = field
                        .chars()
                        .map(|character| {
                            let mut utf8 = [0u8; 4];
                            let (_, _, unmappable) =
                                encoding_rs::SHIFT_JIS.encode(character.encode_utf8(&mut utf8));
                            if unmappable { '?' } else { character }
                        })
                        .collect();
                    prop_assert_eq!(record.field(index + 2).text(), expected);
                }
            }

            /// A field table reads every record as its fields and components read,
            /// whatever the delimiters, escapes and charset.
            #[test]
            fn field_tables_match_fields(
                lines in proptest::collection::vec("[RrOPC][|^\\\\&@a-c0-9 \u{b5}ソ]{0,30}", 1..5),
                pick in 0usize..4,
            ) {
                let (bytes, options) = test_session(&lines, pick);
                assert_tables_read_as_fields(&bytes, &options);
            }

            /// Arbitrary bytes never panic, and the messages found cover the input
            /// in order.
            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
                let mut text = b"H|\\^&\r".to_vec();
                text.extend_from_slice(&bytes);
                if let Ok((messages, _)) = parse_messages(&text, &RecordOptions::default()) {
                    for message in &messages {
                        for record in message.records() {
                            for field in record.fields() {
                                let _ = field.text();
                                let _ = field.component(3).text();
                            }
                        }
                    }
                }
            }
        }
    }
}
