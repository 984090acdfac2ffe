//! E1394 / CLSI LIS02-A2 records: zero-copy views over a reassembled message text.
//!
//! A message is `H` … `L`, one record per line (CR; LF and CR LF tolerated). The `H`
//! record defines the delimiters: `H|\^&` gives field `|`, repeat `\`, component `^`
//! and escape `&` (LIS02-A2 §6.2), and any other choice such as Cepheid's `H|@^\` is
//! read the same way. Fields nest as repeats then components; there is no
//! sub-component level. Field numbers follow the standard: the record type letter is
//! field 1, so `R.4` is the value and [`Record::field`]`(4)` returns it.
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
        b"HPORCQMSL".contains(&self.0)
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
    delimiters: Delimiters,
    charset: Charset,
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
        self.delimiters
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
    pub fn records(&self) -> impl Iterator<Item = Record<'a>> + '_ {
        (0..self.records.len()).filter_map(|index| self.record(index))
    }

    /// One record by index (0 is the H record).
    pub fn record(&self, index: usize) -> Option<Record<'a>> {
        let (start, end) = *self.records.get(index)?;
        let text = self.text.get(start as usize..end as usize)?;
        Some(Record {
            text,
            index,
            offset: start as usize,
            delimiters: self.delimiters,
            charset: self.charset,
        })
    }

    /// The `H` record.
    pub fn header(&self) -> Option<Record<'a>> {
        self.record(0)
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
        let mut own = Vec::new();
        let message = parse_one(rest, options, &mut own)?;
        let used = message.text.len().max(1);
        warnings.extend(own.into_iter().map(|mut warning| {
            warning.offset += consumed;
            warning
        }));
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
    let mut records: Vec<(u32, u32)> = Vec::new();
    let mut complete = false;
    let mut at = 0usize;
    let mut end_of_message = text.len();
    let mut warned_separator = false;
    let mut hierarchy = Hierarchy::default();
    while at < text.len() {
        let rest = text.get(at..).unwrap_or_default();
        let line_len = memchr::memchr2(CR, LF, rest).unwrap_or(rest.len());
        let line_end = at + line_len;
        // The separator: CR, CR LF or LF.
        let separator_len = match rest.get(line_len..) {
            Some([CR, LF, ..]) => 2,
            Some([CR, ..]) | Some([LF, ..]) => 1,
            _ => 0,
        };
        let is_lf = matches!(rest.get(line_len..), Some([LF, ..]) | Some([CR, LF, ..]));
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
            index,
            offset: at,
            delimiters,
            charset: options.charset,
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
    Ok(Message {
        text: text.get(..end_of_message).unwrap_or(text),
        delimiters,
        charset: options.charset,
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
        let allowed: &[u8] = match kind.0 {
            b'H' => b"",
            b'P' => b"HPORQS",
            b'O' => b"POR",
            b'R' => b"OR",
            _ => b"HPORQSL",
        };
        if record.index > 0 && !allowed.contains(&after.0) {
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

/// One record.
#[derive(Clone, Copy)]
pub struct Record<'a> {
    text: &'a [u8],
    index: usize,
    offset: usize,
    delimiters: Delimiters,
    charset: Charset,
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
    pub fn field_count(&self) -> usize {
        1 + memchr::memchr_iter(self.delimiters.field, self.text).count()
    }

    /// Field `number`, counting the record type letter as field 1 (`R.4` is the
    /// value). In the H record, field 2 is the delimiter definition (`\^&`), returned
    /// whole. A field past the end is empty.
    pub fn field(&self, number: usize) -> Field<'a> {
        let raw = self.field_raw(number).unwrap_or_default();
        Field {
            raw,
            delimiters: self.delimiters,
            charset: self.charset,
            structured: !(self.kind() == RecordType::HEADER && number == 2),
        }
    }

    fn field_raw(&self, number: usize) -> Option<&'a [u8]> {
        let index = number.checked_sub(1)?;
        let mut fields = self.text.split(|b| *b == self.delimiters.field);
        if self.kind() == RecordType::HEADER && index >= 1 {
            // `H|\^&|…`: the delimiter definition cannot contain the field delimiter,
            // so plain splitting is right; it only must not be split further.
            return fields.nth(index);
        }
        fields.nth(index)
    }

    /// The first `N` fields in one pass over the record (`fields[0]` is the type
    /// letter, so `fields[3]` is field 4); missing fields are empty. Reading many
    /// fields this way is linear, where repeated [`Record::field`] calls rescan.
    pub fn first_fields<const N: usize>(&self) -> [Field<'a>; N] {
        let structured = self.kind() != RecordType::HEADER;
        let empty = Field {
            raw: &[],
            delimiters: self.delimiters,
            charset: self.charset,
            structured: true,
        };
        let mut fields = [empty; N];
        for (index, (slot, raw)) in fields
            .iter_mut()
            .zip(self.text.split(|b| *b == self.delimiters.field))
            .enumerate()
        {
            slot.raw = raw;
            slot.structured = structured || index != 1;
        }
        fields
    }

    /// The fields, the type letter first.
    pub fn fields(&self) -> impl Iterator<Item = Field<'a>> + '_ {
        (1..=self.field_count()).map(|number| self.field(number))
    }
}

/// One field: repeats of components.
#[derive(Clone, Copy)]
pub struct Field<'a> {
    raw: &'a [u8],
    delimiters: Delimiters,
    charset: Charset,
    /// False for H-2, the delimiter definition, which is not split.
    structured: bool,
}

impl fmt::Debug for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Field")
            .field("len", &self.raw.len())
            .finish()
    }
}

impl<'a> Field<'a> {
    /// The raw bytes, escapes not decoded.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The repeats (at least one, possibly empty).
    pub fn repeats(&self) -> impl Iterator<Item = Field<'a>> + '_ {
        let repeat = if self.structured {
            Some(self.delimiters.repeat)
        } else {
            None
        };
        self.raw
            .split(move |b| Some(*b) == repeat)
            .map(|raw| Field { raw, ..*self })
    }

    /// Repeat `number` (1-based); the field itself if it has no repeats and
    /// `number` is 1; empty past the end.
    pub fn repeat(&self, number: usize) -> Field<'a> {
        let raw = number
            .checked_sub(1)
            .and_then(|index| self.repeats().nth(index))
            .map_or(&[][..], |field| field.raw);
        Field { raw, ..*self }
    }

    /// Component `number` (1-based) of the first repeat; empty past the end.
    pub fn component(&self, number: usize) -> Field<'a> {
        let first = self.repeat(1);
        let component = self.delimiters.component;
        let raw = number
            .checked_sub(1)
            .and_then(|index| first.raw.split(|b| *b == component).nth(index))
            .unwrap_or_default();
        Field { raw, ..*self }
    }

    /// The components of the first repeat.
    pub fn components(&self) -> impl Iterator<Item = Field<'a>> + '_ {
        let component = self.delimiters.component;
        let first = self.repeat(1);
        first
            .raw
            .split(move |b| *b == component)
            .map(move |raw| Field { raw, ..first })
    }

    /// The text with escapes decoded and the charset applied; borrowed when
    /// nothing needed decoding. Undefined escapes are kept verbatim (see
    /// [`Field::decode`] to learn about them).
    pub fn text(&self) -> Cow<'a, str> {
        self.decode(&mut |_| {})
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
    pub fn decode(&self, unknown: &mut dyn FnMut(&str)) -> Cow<'a, str> {
        let escape = self.delimiters.escape;
        // The common case, in one pass: short ASCII text without escapes.
        if self.raw.iter().all(|b| b.is_ascii() && *b != escape) {
            return Cow::Borrowed(std::str::from_utf8(self.raw).unwrap_or_default());
        }
        if !self.structured || !self.raw.contains(&escape) {
            return decode_charset(self.raw, self.charset);
        }
        let mut bytes = Vec::with_capacity(self.raw.len());
        let mut rest = self.raw;
        while let Some(start) = memchr::memchr(escape, rest) {
            bytes.extend_from_slice(rest.get(..start).unwrap_or_default());
            let after = rest.get(start + 1..).unwrap_or_default();
            let Some(close) = memchr::memchr(escape, after) else {
                // An unclosed escape character is data.
                bytes.extend_from_slice(rest.get(start..).unwrap_or_default());
                rest = &[];
                break;
            };
            let body = after.get(..close).unwrap_or_default();
            match body {
                b"F" => bytes.push(self.delimiters.field),
                b"R" => bytes.push(self.delimiters.repeat),
                b"S" => bytes.push(self.delimiters.component),
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
                    unknown(&String::from_utf8_lossy(verbatim));
                    bytes.extend_from_slice(verbatim);
                }
            }
            rest = after.get(close + 1..).unwrap_or_default();
        }
        bytes.extend_from_slice(rest);
        Cow::Owned(decode_charset(&bytes, self.charset).into_owned())
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
                delimiters,
                charset: Charset::Utf8,
                structured: true,
            };
            assert_eq!(field.text(), text, "{}", String::from_utf8_lossy(&escaped));
        }
        let field = Field {
            raw: b"A&H&B&N&C&X41&&Zlocal&&",
            delimiters,
            charset: Charset::Utf8,
            structured: true,
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
