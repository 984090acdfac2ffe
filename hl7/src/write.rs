//! Writing messages back, and editing them.
//!
//! A parsed [`Message`] writes back byte for byte: [`Message::write_to`] copies the bytes
//! before `MSH`, then each segment and the exact bytes that followed it (its terminator and
//! any blank lines), so LF, CRLF, missing final terminators and trailing separators survive.
//!
//! [`OwnedMessage`] is an editable copy. Edits address values with the
//! [path notation](crate::path) and rewrite only the bytes of the target (plus the
//! delimiters needed to reach it), so everything else stays byte-identical.
//!
//! ```
//! use labwire_hl7::message::{Message, ParseOptions};
//! use labwire_hl7::write::OwnedMessage;
//! let input = b"MSH|^~\\&|LAB|||||20240101||ORU^R01|1|P|2.5\rPID|1||123||DOE^JANE\r";
//! let msg = Message::parse(input, &ParseOptions::default()).unwrap();
//! let mut owned = OwnedMessage::from_message(&msg);
//! owned.set("PID-5.1", "O'NEIL|SMITH").unwrap();   // escaped as needed
//! owned.set("PID-3(2).4", "LAB").unwrap();        // creates the repetition and components
//! let obx = owned.add_segment("OBX").unwrap();
//! owned.set("OBX-5", "5.4").unwrap();
//! assert_eq!(obx, 2);
//! assert_eq!(
//!     owned.to_bytes(),
//!     b"MSH|^~\\&|LAB|||||20240101||ORU^R01|1|P|2.5\rPID|1||123~^^^LAB||O'NEIL\\F\\SMITH^JANE\rOBX|||||5.4\r"
//! );
//! ```

use core::ops::Range;

use crate::charset::{self, Charset};
use crate::encoding::Delimiters;
use crate::error::{EditProblem, Error, Limit, Location, Result, SegmentId};
use crate::escape::{self, EncodeOptions};
use crate::message::{HEADER_IDS, Message, ParseOptions, Terminator};
use crate::path::Path;

/// The most delimiters or segments one edit may create to reach its target.
pub const MAX_EDIT_PADDING: usize = 10_000;

impl Message<'_> {
    /// Writes the message: prefix, then each segment followed by the bytes that followed
    /// it in the input. For an unedited message this equals [`Message::as_bytes`].
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.prefix());
        for segment in self.segments() {
            out.extend_from_slice(segment.raw());
            out.extend_from_slice(segment.trailing_bytes());
        }
    }

    /// [`Message::write_to`] into a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.as_bytes().len());
        self.write_to(&mut out);
        out
    }
}

/// One segment of an [`OwnedMessage`] with the bytes that follow it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct OwnedSegment {
    bytes: Vec<u8>,
    trailing: Vec<u8>,
}

/// An owned, editable message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedMessage {
    prefix: Vec<u8>,
    segments: Vec<OwnedSegment>,
    delimiters: Delimiters,
    terminator: Terminator,
    encode_options: EncodeOptions,
}

impl Default for OwnedMessage {
    /// A message holding only `MSH|^~\&`, CR-terminated.
    fn default() -> Self {
        Self::new(Delimiters::default(), Terminator::Cr)
    }
}

/// The target level of an edit, which decides which delimiters raw text may contain.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Field,
    Repetition,
    Component,
    Subcomponent,
}

impl OwnedMessage {
    /// A new message holding only the MSH segment with its delimiters (MSH-1, MSH-2).
    pub fn new(delimiters: Delimiters, terminator: Terminator) -> Self {
        let mut msh = b"MSH".to_vec();
        msh.push(delimiters.field());
        msh.extend_from_slice(delimiters.encoding_characters().as_bytes());
        Self {
            prefix: Vec::new(),
            segments: vec![OwnedSegment {
                bytes: msh,
                trailing: terminator.as_bytes().to_vec(),
            }],
            delimiters,
            terminator,
            encode_options: EncodeOptions::default(),
        }
    }

    /// An editable copy of a parsed message (byte-identical until edited).
    pub fn from_message(message: &Message<'_>) -> Self {
        Self {
            prefix: message.prefix().to_vec(),
            segments: message
                .segments()
                .map(|segment| OwnedSegment {
                    bytes: segment.raw().to_vec(),
                    trailing: segment.trailing_bytes().to_vec(),
                })
                .collect(),
            delimiters: *message.delimiters(),
            terminator: message.terminator(),
            encode_options: EncodeOptions::default(),
        }
    }

    /// Parses `input` and makes an editable copy.
    pub fn parse(input: &[u8], options: &ParseOptions) -> Result<Self> {
        Ok(Self::from_message(&Message::parse(input, options)?))
    }

    /// Sets how [`OwnedMessage::set`] escapes line breaks.
    pub fn with_encode_options(mut self, options: EncodeOptions) -> Self {
        self.encode_options = options;
        self
    }

    /// The message delimiters.
    pub fn delimiters(&self) -> &Delimiters {
        &self.delimiters
    }

    /// The terminator used for new segments.
    pub fn terminator(&self) -> Terminator {
        self.terminator
    }

    /// Number of segments.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// The bytes of segment `index` (without terminator).
    pub fn segment_bytes(&self, index: usize) -> Option<&[u8]> {
        self.segments
            .get(index)
            .map(|segment| segment.bytes.as_slice())
    }

    /// The charset text is written in, from the current MSH-18 (ASCII when empty; the
    /// fallback [`Charset::Auto`] writes UTF-8 for unknown names).
    pub fn charset(&self) -> Charset {
        let Some(header) = self.segments.first() else {
            return Charset::Ascii;
        };
        match Message::parse(&header.bytes, &ParseOptions::default()) {
            Ok(message) => message.charset(),
            Err(_) => Charset::Ascii,
        }
    }

    /// Writes the message.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.prefix);
        for segment in &self.segments {
            out.extend_from_slice(&segment.bytes);
            out.extend_from_slice(&segment.trailing);
        }
    }

    /// The message bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }

    /// Appends a segment holding only `id`; returns its index. The new segment takes over
    /// the bytes that followed the previous last segment (so a message without a final
    /// terminator keeps having none) and the previous last segment gets the terminator.
    pub fn add_segment(&mut self, id: &str) -> Result<usize> {
        let id = checked_id(id)?;
        let trailing = match self.segments.last_mut() {
            Some(last) => {
                core::mem::replace(&mut last.trailing, self.terminator.as_bytes().to_vec())
            }
            None => self.terminator.as_bytes().to_vec(),
        };
        self.segments.push(OwnedSegment {
            bytes: id.to_vec(),
            trailing,
        });
        Ok(self.segments.len() - 1)
    }

    /// Inserts a segment holding only `id` before position `index` (appends when `index`
    /// is the segment count or more).
    pub fn insert_segment(&mut self, index: usize, id: &str) -> Result<usize> {
        if index >= self.segments.len() {
            return self.add_segment(id);
        }
        let id = checked_id(id)?;
        self.segments.insert(
            index,
            OwnedSegment {
                bytes: id.to_vec(),
                trailing: self.terminator.as_bytes().to_vec(),
            },
        );
        Ok(index)
    }

    /// Sets the value at `path` to `text`: encoded in the MSH-18 charset, then escaped so
    /// delimiters and line breaks in `text` are data. Missing segments, fields,
    /// repetitions and components are created.
    pub fn set(&mut self, path: &str, text: &str) -> Result<()> {
        self.set_path(&Path::parse(path)?, text)
    }

    /// [`OwnedMessage::set`] with a parsed path.
    pub fn set_path(&mut self, path: &Path, text: &str) -> Result<()> {
        let encoded =
            charset::encode(text, self.charset()).map_err(|error| self.relocate(error, path))?;
        let escaped = escape::encode_bytes(&encoded, &self.delimiters, &self.encode_options)
            .map_err(|error| self.relocate(error, path))?;
        self.replace(path, &escaped)
    }

    /// Sets the value at `path` to `raw` bytes as they should appear on the wire. `raw`
    /// may contain delimiters of levels below the target (a field may hold `a~b^c`; a
    /// component may hold `x&y`), but never the field separator, CR or LF.
    pub fn set_raw(&mut self, path: &str, raw: &[u8]) -> Result<()> {
        self.set_raw_path(&Path::parse(path)?, raw)
    }

    /// [`OwnedMessage::set_raw`] with a parsed path.
    pub fn set_raw_path(&mut self, path: &Path, raw: &[u8]) -> Result<()> {
        let level = target_level(path);
        let d = &self.delimiters;
        let forbidden = |byte: u8| {
            byte == d.field()
                || byte == b'\r'
                || byte == b'\n'
                || (level >= Level::Repetition && Some(byte) == d.repetition())
                || (level >= Level::Component && Some(byte) == d.component())
                || (level >= Level::Subcomponent && Some(byte) == d.subcomponent())
        };
        if let Some(&byte) = raw.iter().find(|&&b| forbidden(b)) {
            return Err(Error::Edit {
                location: self.path_location(path, None),
                problem: EditProblem::DelimiterInRawValue { byte },
            });
        }
        self.replace(path, raw)
    }

    fn relocate(&self, error: Error, path: &Path) -> Error {
        match error {
            Error::Charset {
                offset, problem, ..
            } => Error::Charset {
                offset,
                location: self.path_location(path, None),
                problem,
            },
            Error::InvalidEscape {
                offset, problem, ..
            } => Error::InvalidEscape {
                offset,
                location: self.path_location(path, None),
                problem,
            },
            other => other,
        }
    }

    fn path_location(&self, path: &Path, segment_index: Option<usize>) -> Location {
        let number = segment_index
            .and_then(|i| u32::try_from(i.saturating_add(1)).ok())
            .unwrap_or(0);
        let mut location = Location::segment(number, SegmentId::new(path.segment_id()));
        if segment_index.is_none() {
            location.segment_number = None;
        }
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        location.field = Some(to_u32(path.field()));
        location.repetition = path.repetition().map(to_u32);
        location.component = path.component().map(to_u32);
        location.subcomponent = path.subcomponent().map(to_u32);
        location
    }

    fn find_segment(&self, path: &Path) -> core::result::Result<usize, usize> {
        let id = path.segment_id();
        let mut seen = 0usize;
        for (index, segment) in self.segments.iter().enumerate() {
            if segment_id(&segment.bytes, self.delimiters.field()) == id {
                seen += 1;
                if seen == path.occurrence() {
                    return Ok(index);
                }
            }
        }
        Err(path.occurrence().saturating_sub(seen))
    }

    /// Replaces the target of `path` with `bytes`. The edit is computed on a copy, so a
    /// failing edit leaves the message unchanged.
    fn replace(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        let header = HEADER_IDS.contains(&path.segment_id());
        if header && path.field() <= 2 {
            return Err(Error::Edit {
                location: self.path_location(path, None),
                problem: EditProblem::ReadOnly,
            });
        }
        let token = if header {
            path.field() - 1
        } else {
            path.field()
        };
        let delimiters = self.delimiters;
        match self.find_segment(path) {
            Ok(index) => {
                let location = self.path_location(path, Some(index));
                let Some(segment) = self.segments.get_mut(index) else {
                    return Ok(());
                };
                let mut edited = segment.bytes.clone();
                let target = locate(&mut edited, &delimiters, path, token, &location)?;
                edited.splice(target, bytes.iter().copied());
                segment.bytes = edited;
            }
            Err(missing) => {
                let location = self.path_location(path, None);
                if missing > MAX_EDIT_PADDING {
                    return Err(Error::LimitExceeded {
                        offset: 0,
                        location,
                        limit: Limit::EditPadding,
                        max: MAX_EDIT_PADDING,
                    });
                }
                let id = core::str::from_utf8(path.segment_id()).unwrap_or_default();
                let mut edited = checked_id(id)?.to_vec();
                let target = locate(&mut edited, &delimiters, path, token, &location)?;
                edited.splice(target, bytes.iter().copied());
                let mut index = self.segments.len();
                for _ in 0..missing {
                    index = self.add_segment(id)?;
                }
                if let Some(segment) = self.segments.get_mut(index) {
                    segment.bytes = edited;
                }
            }
        }
        Ok(())
    }
}

fn checked_id(id: &str) -> Result<&[u8]> {
    let bytes = id.as_bytes();
    if bytes.len() == 3 && bytes.iter().all(u8::is_ascii_alphanumeric) {
        Ok(bytes)
    } else {
        Err(Error::Edit {
            location: Location {
                segment_id: Some(SegmentId::new(bytes)),
                ..Location::message()
            },
            problem: EditProblem::InvalidSegmentId,
        })
    }
}

fn segment_id(bytes: &[u8], field: u8) -> &[u8] {
    let end = memchr::memchr(field, bytes).unwrap_or(bytes.len());
    bytes.get(..end).unwrap_or_default()
}

fn target_level(path: &Path) -> Level {
    if path.subcomponent().is_some() {
        Level::Subcomponent
    } else if path.component().is_some() {
        Level::Component
    } else if path.repetition().is_some() {
        Level::Repetition
    } else {
        Level::Field
    }
}

/// Finds the byte range of the target of `path` in `segment`, inserting the delimiters
/// needed to reach it.
fn locate(
    segment: &mut Vec<u8>,
    delimiters: &Delimiters,
    path: &Path,
    token: usize,
    location: &Location,
) -> Result<Range<usize>> {
    let padding_error = || Error::LimitExceeded {
        offset: 0,
        location: *location,
        limit: Limit::EditPadding,
        max: MAX_EDIT_PADDING,
    };
    // Field: the text after the `token`-th field separator.
    let field = delimiters.field();
    let separators = memchr::memchr_iter(field, segment).count();
    if separators < token {
        let missing = token - separators;
        if missing > MAX_EDIT_PADDING {
            return Err(padding_error());
        }
        segment.extend(core::iter::repeat_n(field, missing));
    }
    let start = memchr::memchr_iter(field, segment)
        .nth(token.saturating_sub(1))
        .map_or(segment.len(), |p| p + 1);
    let end = segment
        .get(start..)
        .and_then(|rest| memchr::memchr(field, rest))
        .map_or(segment.len(), |p| start + p);
    let mut range = start..end;
    let repetition = match (path.repetition(), path.component()) {
        (Some(n), _) => Some(n),
        (None, Some(_)) => Some(1),
        (None, None) => None,
    };
    let levels = [
        (repetition, delimiters.repetition()),
        (path.component(), delimiters.component()),
        (path.subcomponent(), delimiters.subcomponent()),
    ];
    for (wanted, delimiter) in levels {
        let Some(n) = wanted else { break };
        range = match delimiter {
            Some(delimiter) => {
                piece_range(segment, range, delimiter, n).ok_or_else(padding_error)?
            }
            None if n == 1 => range,
            None => {
                return Err(Error::Edit {
                    location: *location,
                    problem: EditProblem::MissingDelimiter,
                });
            }
        };
    }
    Ok(range)
}

/// The range of the `n`th (1-based) piece of `range` split on `delimiter`, inserting
/// delimiters at the end of `range` when there are fewer pieces. `None` when more than
/// [`MAX_EDIT_PADDING`] delimiters would be needed.
fn piece_range(
    segment: &mut Vec<u8>,
    range: Range<usize>,
    delimiter: u8,
    n: usize,
) -> Option<Range<usize>> {
    let text = segment.get(range.clone())?;
    let pieces = memchr::memchr_iter(delimiter, text).count() + 1;
    if n > pieces {
        let missing = n - pieces;
        if missing > MAX_EDIT_PADDING {
            return None;
        }
        segment.splice(
            range.end..range.end,
            core::iter::repeat_n(delimiter, missing),
        );
        let at = range.end + missing;
        return Some(at..at);
    }
    let start = if n == 1 {
        range.start
    } else {
        range.start + memchr::memchr_iter(delimiter, text).nth(n - 2)? + 1
    };
    let end = segment
        .get(start..range.end)
        .and_then(|rest| memchr::memchr(delimiter, rest))
        .map_or(range.end, |p| start + p);
    Some(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn owned(input: &[u8]) -> OwnedMessage {
        OwnedMessage::parse(input, &ParseOptions::default()).unwrap()
    }

    #[test]
    fn unedited_message_writes_back_byte_for_byte() {
        for input in [
            &b"MSH|^~\\&|A\rPID|1\r"[..],
            b"\xEF\xBB\xBFMSH|^~\\&|A\nPID|1|||\n\n",
            b"MSH|^~\\&|A\r\nPID|1\r\n",
            b"MSH|^~\\&|A\rPID|1\r\rOBX|1",
        ] {
            let msg = Message::parse(input, &ParseOptions::default()).unwrap();
            assert_eq!(msg.to_bytes(), input);
            assert_eq!(OwnedMessage::from_message(&msg).to_bytes(), input);
        }
    }

    #[test]
    fn set_creates_missing_levels_and_keeps_the_rest() {
        let mut m = owned(b"MSH|^~\\&|A\rPID|1||x^y\n|z\r");
        m.set("PID-3.4.2", "q").unwrap();
        assert_eq!(m.to_bytes(), b"MSH|^~\\&|A\rPID|1||x^y\n^^&q|z\r");
        m.set("PID-8", "F").unwrap();
        assert_eq!(m.segment_bytes(1).unwrap(), b"PID|1||x^y\n^^&q|z||||F");
        m.set("PID-3(3)", "r").unwrap();
        assert_eq!(m.segment_bytes(1).unwrap(), b"PID|1||x^y\n^^&q~~r|z||||F");
        m.set("PID-3(1).1", "X").unwrap();
        assert_eq!(m.segment_bytes(1).unwrap(), b"PID|1||X^y\n^^&q~~r|z||||F");
    }

    #[test]
    fn set_escapes_text_and_set_raw_does_not() {
        let mut m = owned(b"MSH|^~\\&\rNTE|1\r");
        m.set("NTE-3", "a|b^c~d&e\\f\rg").unwrap();
        assert_eq!(
            m.segment_bytes(1).unwrap(),
            b"NTE|1||a\\F\\b\\S\\c\\R\\d\\T\\e\\E\\f\\X0D\\g"
        );
        let back = m.to_bytes();
        let msg = Message::parse(&back, &ParseOptions::default()).unwrap();
        assert_eq!(
            msg.get("NTE-3").unwrap().decoded().unwrap(),
            "a|b^c~d&e\\f\rg"
        );
        m.set_raw("NTE-3", b"x~y^z").unwrap();
        assert_eq!(m.segment_bytes(1).unwrap(), b"NTE|1||x~y^z");
        assert!(m.set_raw("NTE-3(1)", b"x~y").is_err());
        assert!(m.set_raw("NTE-3.1", b"x^y").is_err());
        assert!(m.set_raw("NTE-3.1", b"x&y").is_ok());
        assert!(m.set_raw("NTE-3", b"x|y").is_err());
        assert!(m.set_raw("NTE-3", b"x\ry").is_err());
    }

    #[test]
    fn set_creates_missing_segments_and_occurrences() {
        let mut m = OwnedMessage::default();
        m.set("MSH-9", "ORU^R01").unwrap();
        assert_eq!(m.segment_bytes(0).unwrap(), b"MSH|^~\\&|||||||ORU\\S\\R01");
        m.set_raw("MSH-9", b"ORU^R01").unwrap();
        m.set("OBX(2)-5", "7").unwrap();
        assert_eq!(m.to_bytes(), b"MSH|^~\\&|||||||ORU^R01\rOBX\rOBX|||||7\r");
    }

    #[test]
    fn encoding_characters_are_read_only() {
        let mut m = OwnedMessage::default();
        assert!(matches!(
            m.set("MSH-2", "x"),
            Err(Error::Edit {
                problem: EditProblem::ReadOnly,
                ..
            })
        ));
        assert!(m.set("MSH-1", "x").is_err());
    }

    #[test]
    fn add_segment_keeps_the_messages_final_terminator_style() {
        let mut m = owned(b"MSH|^~\\&\rPID|1");
        m.add_segment("OBX").unwrap();
        assert_eq!(m.to_bytes(), b"MSH|^~\\&\rPID|1\rOBX");
        let mut m = owned(b"MSH|^~\\&\nPID|1\n");
        m.add_segment("OBX").unwrap();
        assert_eq!(m.to_bytes(), b"MSH|^~\\&\nPID|1\nOBX\n");
        m.insert_segment(1, "EVN").unwrap();
        assert_eq!(m.to_bytes(), b"MSH|^~\\&\nEVN\nPID|1\nOBX\n");
        assert!(m.add_segment("TOOLONG").is_err());
    }

    #[test]
    fn text_is_encoded_in_the_msh18_charset() {
        let mut m = OwnedMessage::default();
        assert!(matches!(
            m.set("PID-5", "Müller"),
            Err(Error::Charset { .. })
        ));
        m.set("MSH-18", "8859/1").unwrap();
        m.set("PID-5", "Müller").unwrap();
        assert_eq!(m.segment_bytes(1).unwrap(), b"PID|||||M\xFCller");
        m.set("MSH-18", "UNICODE UTF-8").unwrap();
        m.set("PID-5", "Müller").unwrap();
        assert_eq!(m.segment_bytes(1).unwrap(), "PID|||||Müller".as_bytes());
    }

    #[test]
    fn custom_delimiters_are_used_for_padding_and_escaping() {
        let mut m = owned(b"MSH#$%@!\rPID#1\r");
        m.set("PID-3(2).2.2", "a#b").unwrap();
        assert_eq!(m.segment_bytes(1).unwrap(), b"PID#1##%$!a@F@b");
    }

    #[test]
    fn huge_paths_are_refused_not_allocated() {
        let mut m = OwnedMessage::default();
        assert!(matches!(
            m.set("PID-4000000000", "x"),
            Err(Error::LimitExceeded { .. })
        ));
        assert!(m.set("OBX(4000000000)-1", "x").is_err());
        assert!(m.set("PID-1(4000000000)", "x").is_err());
    }

    fn delimiter_set() -> impl Strategy<Value = Delimiters> {
        let pool: Vec<u8> = (0x21u8..0x7F)
            .filter(|b| !b.is_ascii_alphanumeric())
            .collect();
        proptest::sample::subsequence(pool, 5)
            .prop_shuffle()
            .prop_map(|v| Delimiters::new(v[0], v[1], v[2], v[3], v[4]).unwrap())
    }

    /// Segments (after MSH) of fields of repetitions of components.
    type Model = Vec<Vec<Vec<Vec<String>>>>;

    /// A generated message, its delimiters and what it holds.
    fn message_strategy(
        segment_count: Range<usize>,
    ) -> impl Strategy<Value = (Vec<u8>, Delimiters, Model)> {
        // Letters and digits can never be delimiters, so the model stays unambiguous.
        let text = "[a-z0-9]{0,6}";
        let repetition = proptest::collection::vec(text, 1..3);
        let field = proptest::collection::vec(repetition, 1..3);
        let segment = proptest::collection::vec(field, 0..6);
        let id = "[A-Z][A-Z0-9]{2}".prop_filter("header ids number fields differently", |id| {
            !HEADER_IDS.contains(&id.as_bytes())
        });
        (
            delimiter_set(),
            proptest::collection::vec((id, segment), segment_count),
            prop_oneof![Just(&b"\r"[..]), Just(&b"\n"[..]), Just(&b"\r\n"[..])],
            any::<bool>(),
        )
            .prop_map(|(d, segments, terminator, final_terminator)| {
                let mut bytes = b"MSH".to_vec();
                bytes.push(d.field());
                bytes.extend_from_slice(d.encoding_characters().as_bytes());
                let mut model = Vec::new();
                for (id, fields) in &segments {
                    bytes.extend_from_slice(terminator);
                    bytes.extend_from_slice(id.as_bytes());
                    for field in fields {
                        bytes.push(d.field());
                        for (r, repetition) in field.iter().enumerate() {
                            if r > 0 {
                                bytes.push(d.repetition().unwrap());
                            }
                            for (c, component) in repetition.iter().enumerate() {
                                if c > 0 {
                                    bytes.push(d.component().unwrap());
                                }
                                bytes.extend_from_slice(component.as_bytes());
                            }
                        }
                    }
                    model.push(fields.clone());
                }
                if final_terminator {
                    bytes.extend_from_slice(terminator);
                }
                (bytes, d, model)
            })
    }

    proptest! {
        #[test]
        fn parse_then_write_is_identity((bytes, delimiters, model) in message_strategy(0..6)) {
            let msg = Message::parse(&bytes, &ParseOptions::default()).unwrap();
            prop_assert_eq!(msg.to_bytes(), bytes.clone());
            prop_assert_eq!(OwnedMessage::from_message(&msg).to_bytes(), bytes.clone());
            prop_assert_eq!(*msg.delimiters(), delimiters);
            prop_assert_eq!(msg.segment_count(), model.len() + 1);
            for (segment, fields) in msg.segments().skip(1).zip(&model) {
                prop_assert_eq!(segment.field_count(), fields.len());
                for (f, field) in fields.iter().enumerate() {
                    for (r, repetition) in field.iter().enumerate() {
                        for (c, component) in repetition.iter().enumerate() {
                            let view = segment.field(f + 1).repetition(r + 1).component(c + 1);
                            prop_assert_eq!(view.raw(), component.as_bytes());
                        }
                    }
                }
            }
        }

        #[test]
        fn edits_touch_only_their_target(
            (bytes, _d, model) in message_strategy(1..6),
            text in "[a-z|^~&\\\\]{0,8}",
            field in 1usize..8,
            component in 1usize..4,
        ) {
            prop_assert!(!model.is_empty());
            let msg = Message::parse(&bytes, &ParseOptions::default()).unwrap();
            let id = msg.segment(1).unwrap().id_str().to_owned();
            let mut edited = OwnedMessage::from_message(&msg);
            let path = format!("{id}-{field}.{component}");
            edited.set(&path, &text).unwrap();
            let out = edited.to_bytes();
            let reparsed = Message::parse(&out, &ParseOptions::default()).unwrap();
            // An empty value at the first level may be absent on re-read.
            let value = reparsed.get(&path).map(|v| v.decoded().unwrap().into_owned()).unwrap_or_default();
            prop_assert_eq!(value, text.clone());
            // Every other segment is untouched.
            prop_assert_eq!(reparsed.segment_count(), msg.segment_count());
            for (a, b) in msg.segments().zip(reparsed.segments()) {
                if a.index() != 1 {
                    prop_assert_eq!(a.raw(), b.raw());
                }
                prop_assert_eq!(a.trailing_bytes(), b.trailing_bytes());
            }
            // Other fields of the edited segment are untouched.
            let before = msg.segment(1).unwrap();
            let after = reparsed.segment(1).unwrap();
            for n in 1..=before.field_count() {
                if n != field {
                    prop_assert_eq!(before.field(n).raw(), after.field(n).raw());
                }
            }
        }
    }
}

/// Real messages from `tests/data` (see `tests/data/SOURCES.md`): every file round-trips
/// byte for byte, and a few values per file, checked by reading the files, come out right.
#[cfg(test)]
mod corpus_tests {
    use super::*;
    use crate::batch::BatchFile;
    use crate::charset::{Charset, Declaration};
    use crate::error::{CharsetProblem, WarningKind};
    use crate::mllp::{self, MllpDecoder, Status};

    macro_rules! corpus {
        ($($name:literal),* $(,)?) => {
            &[$(($name, include_bytes!(concat!("../tests/data/", $name)))),*]
        };
    }

    const CORPUS: &[(&str, &[u8])] = corpus![
        "nhapi_ack_v231_ae_err.hl7",
        "nhapi_ack_v251_ar_err.hl7",
        "nhapi_ack_v261_aa.hl7",
        "nhapi_orl_o34_v251.hl7",
        "nhapi_orm_o01_v22.hl7",
        "nhapi_orm_o01_v231_medcenter.hl7",
        "nhapi_orm_o01_v231_sunquest.hl7",
        "nhapi_orm_o01_v27_truncation_char.hl7",
        "nhapi_oru_r01_v21.hl7",
        "nhapi_oru_r01_v231_custom_escape_dollar.hl7",
        "nhapi_oru_r01_v23_olis_escapes.hl7",
        "nhapi_oru_r01_v24_molis_umlauts_fffd.hl7",
        "nhapi_oru_r01_v25_olis_ultra.hl7",
        "nhapi_oru_r01_v26_ihe_pcd_paceart.hl7",
        "nhapi_oml_o21_msgfile_01.hl7",
        "nhapi_oml_o21_msgfile_05.hl7",
        "nhapi_oml_o21_msgfile_07.hl7",
        "fhirconv_lab_orm_1.hl7",
        "fhirconv_lab_oru_1.hl7",
        "fhirconv_lri_2.0_ng_cbc_typ_message.hl7",
        "fhirconv_mdhhs_oml_o21_1.hl7",
        "fhirconv_oml_o21_01.hl7",
        "fhirconv_oru_r01_01.hl7",
        "fhirconv_oru_r01_rmgead.hl7",
        "fhirconv_oul_r22_01.hl7",
        "fhirconv_oul_r23_01.hl7",
        "fhirconv_oul_r24_02.hl7",
    ];

    fn file(name: &str) -> &'static [u8] {
        CORPUS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
            .unwrap()
    }

    fn parse(name: &str) -> Message<'static> {
        Message::parse(file(name), &ParseOptions::default()).unwrap()
    }

    /// The decoded value at `path`, panicking with the path if it is absent.
    fn value(msg: &Message<'_>, path: &str) -> String {
        msg.get(path)
            .unwrap_or_else(|| panic!("{path} absent"))
            .decoded()
            .unwrap()
            .into_owned()
    }

    #[test]
    fn every_corpus_file_round_trips_byte_for_byte() {
        for (name, bytes) in CORPUS {
            let msg = Message::parse(bytes, &ParseOptions::default())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(msg.to_bytes(), *bytes, "{name}");
            assert_eq!(msg.as_bytes(), *bytes, "{name}");
            let mut owned = OwnedMessage::from_message(&msg);
            assert_eq!(owned.to_bytes(), *bytes, "{name}");
            // Rewriting a value with its own raw bytes changes nothing.
            let control_id = msg.control_id().raw().to_vec();
            owned.set_raw("MSH-10", &control_id).unwrap();
            owned
                .set_raw("PID-1", msg.get("PID-1").map_or(&b""[..], |v| v.raw()))
                .ok();
            if msg.get("PID-1").is_some() {
                assert_eq!(owned.to_bytes(), *bytes, "{name}");
            }
            let file = BatchFile::parse(bytes, &ParseOptions::default()).unwrap();
            assert_eq!(file.to_bytes(), *bytes, "{name}");
            assert_eq!(file.messages().count(), 1, "{name}");
        }
    }

    #[test]
    fn every_value_of_every_corpus_file_decodes_leniently() {
        for (name, bytes) in CORPUS {
            let msg = Message::parse(bytes, &ParseOptions::default()).unwrap();
            let mut leaves = 0usize;
            for segment in msg.segments() {
                for field in segment.fields() {
                    field.decoded().unwrap();
                    for repetition in field.repetitions() {
                        for component in repetition.components() {
                            for subcomponent in component.subcomponents() {
                                subcomponent.decoded().unwrap();
                                leaves += 1;
                            }
                        }
                    }
                }
            }
            assert!(leaves > 10, "{name}: {leaves}");
        }
    }

    #[test]
    fn cr_terminated_corpus_files_pass_strict_parsing() {
        for (name, bytes) in CORPUS {
            let strict = Message::parse(bytes, &ParseOptions::strict());
            let lf = bytes.contains(&b'\n');
            match *name {
                "nhapi_oru_r01_v24_molis_umlauts_fffd.hl7" => assert!(matches!(
                    strict,
                    Err(Error::Charset {
                        problem: CharsetProblem::Unknown,
                        ..
                    })
                )),
                _ if lf => assert!(strict.is_err(), "{name}"),
                _ => assert!(strict.is_ok(), "{name}: {:?}", strict.err()),
            }
        }
    }

    #[test]
    fn corpus_files_survive_mllp_in_small_chunks() {
        let mut stream = Vec::new();
        for (_, bytes) in CORPUS {
            mllp::encode(bytes, &mut stream).unwrap();
            stream.extend_from_slice(b"\r\n");
        }
        let mut decoder = MllpDecoder::new(64 * 1024);
        let mut received = Vec::new();
        for chunk in stream.chunks(97) {
            decoder.push(chunk).unwrap();
            while let Status::Complete(frame) = decoder.next_frame().unwrap() {
                received.push(frame.payload.to_vec());
            }
        }
        assert_eq!(received.len(), CORPUS.len());
        for ((name, bytes), payload) in CORPUS.iter().zip(&received) {
            assert_eq!(payload, bytes, "{name}");
        }
    }

    #[test]
    fn nhapi_ack_v231_ae_err() {
        let msg = parse("nhapi_ack_v231_ae_err.hl7");
        assert_eq!(value(&msg, "MSH-9.1"), "ACK");
        assert_eq!(value(&msg, "MSH-9.2"), "");
        assert_eq!(value(&msg, "MSH-10"), "1125342816253.100000055");
        assert_eq!(value(&msg, "MSH-3"), "^^");
        assert_eq!(msg.get("MSH-3").unwrap().raw(), b"^^");
        assert_eq!(value(&msg, "MSA-1"), "AE");
        assert_eq!(value(&msg, "MSA-2"), "00000001");
        assert_eq!(value(&msg, "ERR-1.1"), "PID");
    }

    #[test]
    fn nhapi_ack_v251_ar_err() {
        let msg = parse("nhapi_ack_v251_ar_err.hl7");
        assert_eq!(value(&msg, "MSH-9"), "ACK^V04^ACK");
        assert_eq!(value(&msg, "MSH-10"), "12343467");
        assert_eq!(value(&msg, "MSA-1"), "AR");
        assert_eq!(value(&msg, "ERR-2.3"), "12");
        assert_eq!(value(&msg, "ERR-3.2"), "unsupported version id");
        assert_eq!(
            value(&msg, "ERR-8"),
            "Unsupported HL7 Version ID-Message rejected"
        );
        // MSH ends with `|||`: trailing empty fields are present, and kept on write.
        assert_eq!(msg.msh().unwrap().field_count(), 15);
    }

    #[test]
    fn nhapi_ack_v261_aa() {
        let msg = parse("nhapi_ack_v261_aa.hl7");
        assert_eq!(value(&msg, "MSH-10"), "9B38584D");
        assert_eq!(value(&msg, "MSA-2"), value(&msg, "MSH-10"));
        assert_eq!(value(&msg, "MSA-3"), "Everything was okay dokay!");
        assert!(msg.get("MSA-4").unwrap().is_empty());
        assert_eq!(msg.segment(1).unwrap().trailing_bytes(), b"");
    }

    #[test]
    fn nhapi_orl_o34_v251() {
        let msg = parse("nhapi_orl_o34_v251.hl7");
        assert_eq!(value(&msg, "MSH-9.3"), "ORL_O34");
        assert_eq!(value(&msg, "PID-5.1"), "SAMPLE");
        assert_eq!(value(&msg, "SPM(2)-17"), "20110329142201.267+0200");
        assert_eq!(value(&msg, "OBR-4.2"), "K-Hemogram");
        assert_eq!(value(&msg, "ORC-21.10"), "Redna ambulanta");
        assert!(msg.warnings().is_empty());
    }

    #[test]
    fn nhapi_orm_o01_v22() {
        let msg = parse("nhapi_orm_o01_v22.hl7");
        assert!(msg.control_id().is_empty());
        assert_eq!(value(&msg, "OBX-5.5"), "item5");
        assert_eq!(value(&msg, "OBX-5.4"), "");
        assert_eq!(value(&msg, "PID-11.3"), "S GRAVENHAGE");
        assert_eq!(value(&msg, "MSH-12"), "2.2");
    }

    #[test]
    fn nhapi_orm_o01_v231_medcenter() {
        let msg = parse("nhapi_orm_o01_v231_medcenter.hl7");
        assert_eq!(value(&msg, "PID-5.5"), "Mr.");
        assert_eq!(value(&msg, "PV1-44"), "20060307110111");
        assert_eq!(value(&msg, "OBR-4.2"), "Urinalysis");
        assert_eq!(msg.control_id().as_str(), Some("MSGID20060307110114"));
    }

    #[test]
    fn nhapi_orm_o01_v231_sunquest() {
        let msg = parse("nhapi_orm_o01_v231_sunquest.hl7");
        assert_eq!(value(&msg, "OBR-27.1.2"), "UNITS");
        assert_eq!(value(&msg, "OBR-16.2"), "STEELE, ANDREW W");
        assert_eq!(value(&msg, "PV1-7.2"), "ABAZA, MONA M");
        assert_eq!(value(&msg, "MSH-13"), "LAB");
    }

    #[test]
    fn nhapi_orm_o01_v27_truncation_char() {
        let msg = parse("nhapi_orm_o01_v27_truncation_char.hl7");
        assert_eq!(msg.delimiters().truncation(), Some(b'#'));
        assert_eq!(msg.msh().unwrap().field(2).raw(), b"^~\\&#");
        assert_eq!(value(&msg, "MSH-3"), "Send App");
        assert_eq!(value(&msg, "MSH-12"), "2.7");
        assert_eq!(value(&msg, "OBX-5.5"), "item5");
    }

    #[test]
    fn nhapi_oru_r01_v21() {
        let msg = parse("nhapi_oru_r01_v21.hl7");
        assert_eq!(value(&msg, "MSH-18"), "ASCII");
        assert_eq!(
            (msg.charset(), msg.charset_declaration()),
            (Charset::Ascii, Declaration::Recognized)
        );
        assert_eq!(value(&msg, "OBX-5"), "STValue");
        assert_eq!(value(&msg, "MSH-15"), "AL");
    }

    #[test]
    fn nhapi_oru_r01_v231_custom_escape_dollar() {
        // MSH-2 is `^~\$`: the order is component, repetition, escape, subcomponent, so `\`
        // stays the escape character and `$` is the subcomponent separator.
        let msg = parse("nhapi_oru_r01_v231_custom_escape_dollar.hl7");
        assert_eq!(msg.delimiters().escape(), Some(b'\\'));
        assert_eq!(msg.delimiters().subcomponent(), Some(b'$'));
        assert_eq!(msg.segments_by_id("OBX").count(), 20);
        assert_eq!(value(&msg, "OBX(1)-5"), "20.0");
        assert_eq!(value(&msg, "OBX(17)-8.2"), "Y");
        assert_eq!(value(&msg, "OBX(20)-5"), "(Ref Range: 6 fL)");
        assert_eq!(value(&msg, "PID-5.1"), "BARNES");
    }

    #[test]
    fn nhapi_oru_r01_v23_olis_escapes() {
        let msg = parse("nhapi_oru_r01_v23_olis_escapes.hl7");
        assert_eq!(value(&msg, "PID-11.5"), "M6H 2T9");
        assert_eq!(value(&msg, "OBX-5"), "2.30");
        assert_eq!(value(&msg, "OBX-6"), "mmol/L");
        let note = value(&msg, "NTE-3");
        assert!(note.starts_with("\n                  Lipid - Target Levels for Treatment \n\n"));
        assert!(note.contains("  |  Risk   |"));
        assert!(!note.contains('\\'));
        let verbatim = escape::decode(
            msg.get("NTE-3").unwrap().raw(),
            msg.delimiters(),
            &escape::DecodeOptions::default().verbatim_formatting(),
        );
        assert!(verbatim.starts_with(br"\.br\                  Lipid"));
    }

    #[test]
    fn nhapi_oru_r01_v24_molis_umlauts_fffd() {
        let msg = parse("nhapi_oru_r01_v24_molis_umlauts_fffd.hl7");
        // MSH-18 `8859` names no part of ISO 8859: unknown, decoded with the fallback
        // (UTF-8 if valid), which keeps the U+FFFD characters the file really holds.
        assert_eq!(msg.charset_declaration(), Declaration::Unknown);
        assert!(
            msg.warnings()
                .iter()
                .any(|w| w.kind == WarningKind::Charset(CharsetProblem::Unknown))
        );
        assert_eq!(
            value(&msg, "NTE(2)-3"),
            format!("Umlaute Test : {}", "\u{FFFD}".repeat(12))
        );
        assert!(value(&msg, "OBX(1)-5").contains("Drucke\n etwas l\u{FFFD}ngeren"));
        // Bare `\` used as separators in OBX-7 stay as they are, with warnings: the four of
        // them pair up into two unknown sequences.
        let range = msg.get("OBX(5)-7").unwrap();
        let mut warnings = Vec::new();
        let decoded = range.decoded_with_warnings(&mut warnings).unwrap();
        assert_eq!(decoded.as_bytes(), range.raw());
        assert_eq!(warnings.len(), 2);
        assert_eq!(value(&msg, "OBX(8)-5"), "10.3");
        assert_eq!(value(&msg, "OBX(8)-6.1"), "\u{FFFD}g/l");
        assert_eq!(msg.observations().nth(1).unwrap().members().len(), 0);
        assert_eq!(msg.observations().nth(2).unwrap().members().len(), 1);
    }

    #[test]
    fn nhapi_oru_r01_v25_olis_ultra() {
        let msg = parse("nhapi_oru_r01_v25_olis_ultra.hl7");
        assert_eq!(msg.observations().count(), 3);
        assert_eq!(value(&msg, "OBX(3)-1"), "4");
        assert!(msg.get("OBX(3)-2").is_none());
        assert_eq!(value(&msg, "PID-5.3"), "DIAMOND");
    }

    #[test]
    fn nhapi_oru_r01_v26_ihe_pcd_paceart() {
        let msg = parse("nhapi_oru_r01_v26_ihe_pcd_paceart.hl7");
        assert_eq!(
            msg.segments_by_id("PID")
                .next()
                .unwrap()
                .field(3)
                .repetition_count(),
            3
        );
        assert_eq!(value(&msg, "PID-3(3).1"), "A10000641");
        assert_eq!(value(&msg, "MSH-21.1"), "IHE_PCD_ORU_R01");
        assert_eq!(value(&msg, "OBX-5"), "20160627041809+0000");
        assert_eq!(value(&msg, "OBX-3.2"), "MDC_IDC_SESS_DTM");
    }

    #[test]
    fn nhapi_oml_o21_msgfile_01() {
        let msg = parse("nhapi_oml_o21_msgfile_01.hl7");
        assert_eq!(msg.terminator(), Terminator::Lf);
        assert_eq!(value(&msg, "PID-3.3"), "M10");
        assert_eq!(value(&msg, "PID-3.4"), "Memphis_Hosp");
        assert_eq!(value(&msg, "OBX-5"), "75");
        assert_eq!(value(&msg, "MSH-10"), "msgOP123");
        assert_eq!(msg.segments_by_id("SPM").count(), 3);
    }

    #[test]
    fn nhapi_oml_o21_msgfile_05() {
        let msg = parse("nhapi_oml_o21_msgfile_05.hl7");
        // No MSH-18 (ASCII) but UTF-8 bytes: decoded as UTF-8 with a warning.
        let name = msg.get("PID-5.2").unwrap();
        let mut warnings = Vec::new();
        assert_eq!(
            name.decoded_with_warnings(&mut warnings).unwrap(),
            "RODOLFO SEBASTIÁN"
        );
        assert_eq!(
            warnings[0].kind,
            WarningKind::Charset(CharsetProblem::NonAscii)
        );
        assert_eq!(
            value(&msg, "OBR(4)-4.2"),
            "HEMOCULTIVO BACTEC - 1 MUESTRA (CULTIVO RAPIDO)"
        );
        assert_eq!(msg.groups("ORC", &["OBR"]).count(), 4);
    }

    #[test]
    fn nhapi_oml_o21_msgfile_07() {
        let msg = parse("nhapi_oml_o21_msgfile_07.hl7");
        assert!(msg.control_id().is_empty());
        assert_eq!(value(&msg, "SPM(3)-2.1"), "123456783");
        assert_eq!(value(&msg, "OBR(2)-4.2"), "Bilateral Hand PA");
        assert_eq!(
            msg.segment(msg.segment_count() - 1)
                .unwrap()
                .trailing_bytes(),
            b""
        );
    }

    #[test]
    fn fhirconv_lab_orm_1() {
        let msg = parse("fhirconv_lab_orm_1.hl7");
        assert_eq!(msg.prefix(), b"\xEF\xBB\xBF");
        assert_eq!(value(&msg, "PID-5.1"), "DUCK");
        assert_eq!(value(&msg, "MSH-10"), "MSGID20060307110114");
        assert_eq!(
            value(&msg, "OBR-4.2"),
            "Hemogram and platelet count, automated"
        );
    }

    #[test]
    fn fhirconv_lab_oru_1() {
        let msg = parse("fhirconv_lab_oru_1.hl7");
        assert_eq!(value(&msg, "OBX(2)-5"), "4.06");
        assert_eq!(value(&msg, "OBX(4)-6"), "%");
        assert_eq!(value(&msg, "OBX(1)-11"), "I");
        assert_eq!(value(&msg, "MSH-7"), "20141006064500+0700");
        assert_eq!(
            msg.groups("OBR", &["OBX"])
                .map(|g| g.members().len())
                .collect::<Vec<_>>(),
            [5, 5]
        );
    }

    #[test]
    fn fhirconv_lri_2_0_ng_cbc_typ_message() {
        let msg = parse("fhirconv_lri_2.0_ng_cbc_typ_message.hl7");
        assert_eq!(value(&msg, "MSH-10"), "NIST-LRI-NG-002.00");
        assert_eq!(value(&msg, "PID-5.2"), "William");
        assert_eq!(value(&msg, "OBX(4)-5"), "105600");
        assert_eq!(value(&msg, "OBX(4)-8"), "HH");
    }

    #[test]
    fn fhirconv_mdhhs_oml_o21_1() {
        let msg = parse("fhirconv_mdhhs_oml_o21_1.hl7");
        assert_eq!(value(&msg, "MSH-10"), "TC09SAPartAIG030101AA");
        assert_eq!(value(&msg, "PID-5.1"), "Shine");
        assert_eq!(msg.msh().unwrap().field(21).repetition_count(), 5);
        assert_eq!(value(&msg, "MSH-21(5).1"), "LOI_PR_Component");
        assert_eq!(value(&msg, "NTE-3"), "the sky is blue");
    }

    #[test]
    fn fhirconv_oml_o21_01() {
        let msg = parse("fhirconv_oml_o21_01.hl7");
        assert_eq!(value(&msg, "MSH-9"), "OML^O21^OML_O21");
        assert_eq!(value(&msg, "MSH-10"), "MSG00019");
        assert_eq!(value(&msg, "OBX(1)-5.2"), "Salmonella");
        assert_eq!(value(&msg, "PID-5.1.1"), "EVERYMAN");
        assert_eq!(value(&msg, "PID-5.1.5"), "Aniston");
    }

    #[test]
    fn fhirconv_oru_r01_01() {
        let msg = parse("fhirconv_oru_r01_01.hl7");
        assert_eq!(value(&msg, "MSH-21.1"), "PHLabReport-Ack");
        assert_eq!(value(&msg, "PID-5.1"), "Finn");
        assert!(value(&msg, "NTE(1)-3").contains("E.coli O157:H7 & other STECs"));
    }

    #[test]
    fn fhirconv_oru_r01_rmgead() {
        let msg = parse("fhirconv_oru_r01_rmgead.hl7");
        assert_eq!(value(&msg, "OBX-2"), "SN");
        assert_eq!(value(&msg, "OBX-5.2"), "182");
        assert_eq!(value(&msg, "OBX-7"), "70_105");
        assert_eq!(value(&msg, "PID-5.1"), "EVERYWOMAN");
        assert_eq!(value(&msg, "OBR-16.3"), "PATRICIA P");
    }

    #[test]
    fn fhirconv_oul_r22_01() {
        let msg = parse("fhirconv_oul_r22_01.hl7");
        assert_eq!(msg.charset(), Charset::Utf8);
        assert_eq!(value(&msg, "MSH-9.3"), "OUL_R22");
        assert_eq!(value(&msg, "OBX(1)-5(2)"), "120");
        assert_eq!(value(&msg, "SPM-2.1.1"), "2017-PAT-123456-1");
        let slide = msg
            .segments_by_id("OBX")
            .find(|obx| obx.field(2).raw() == b"RP")
            .unwrap()
            .field(5)
            .component(1)
            .decoded()
            .unwrap()
            .into_owned();
        assert!(slide.ends_with(
            "ContainerType=CaseView&ContainerID=0&SlideID=40bcbe96bcbf8cda8b07403263b92cb4"
        ));
    }

    #[test]
    fn fhirconv_oul_r23_01() {
        let msg = parse("fhirconv_oul_r23_01.hl7");
        assert_eq!(value(&msg, "MSH-9.2"), "R23");
        assert_eq!(value(&msg, "OBX(1)-5"), "80");
        assert_eq!(value(&msg, "PID-5.2"), "AAAAAA");
    }

    #[test]
    fn fhirconv_oul_r24_02() {
        let msg = parse("fhirconv_oul_r24_02.hl7");
        assert_eq!(value(&msg, "MSH-9.3"), "OUL_R24");
        assert_eq!(value(&msg, "OBX(3)-5(1)"), "80");
        assert_eq!(value(&msg, "OBX(3)-5(2)"), "120");
    }
}
