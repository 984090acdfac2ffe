//! Reading HL7 data types into model values: text, codes (CWE/CE), identifiers (EI,
//! CX), names (XPN), times (DTM/TS), numbers, units, and the OBX value types.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use labwire_model::{
    AbsentReason, CodeSystem, Coding, Comparator, Decimal, Identifier, IdentifierType, Instrument,
    Interpretation, LabResult, LabTimestamp, LoincCode, PersonName, Quantity, ReferenceRange,
    ResultStatus, ResultValue, Sensitive, SubstanceLot, SubstanceType, TEXT_INLINE_CAPACITY, Text,
    Unit,
};

use super::{MapError, MapLocation, MapOptions, MapWarning, MapWarningKind, ValueProblem};
use crate::error::{Location, SegmentId, Warning, WarningKind};
use crate::message::{Component, Field, Message, Repetition, Segment, Subcomponent, Value};

/// The result of reading one value. The error is boxed: errors are rare (strict
/// decoding, limits) and end the mapping, while a small `Result` keeps the path every
/// value takes cheap.
pub(super) type MapResult<T> = Result<T, Box<MapError>>;

/// The views whose text can be decoded, so one set of helpers reads them all.
pub(super) trait View<'m>: Copy {
    fn raw_bytes(&self) -> &'m [u8];
    fn null(&self) -> bool;
    fn simple(&self) -> bool;
    fn at(&self) -> Location;
    fn position(&self) -> usize;
    fn decode(&self, warnings: &mut Vec<Warning>) -> crate::Result<Cow<'m, str>>;
}

macro_rules! view {
    ($($name:ident),*) => {$(
        impl<'m> View<'m> for $name<'m> {
            fn raw_bytes(&self) -> &'m [u8] {
                self.raw()
            }
            fn null(&self) -> bool {
                self.is_null()
            }
            fn simple(&self) -> bool {
                self.is_simple()
            }
            fn at(&self) -> Location {
                self.location()
            }
            fn position(&self) -> usize {
                self.offset()
            }
            fn decode(&self, warnings: &mut Vec<Warning>) -> crate::Result<Cow<'m, str>> {
                self.decoded_with_warnings(warnings)
            }
        }
    )*};
}

view!(Field, Repetition, Component, Subcomponent, Value);

/// `0x0101…01`: multiplying a byte by it copies the byte into every lane of a `u64`.
const BYTE_LANES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every lane.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Whether `raw` is ASCII without the escape character, so that decoding returns it
/// unchanged. Eight bytes at a time: a word passes when no lane has its high bit set
/// and none equals the escape character (the classic "has a zero byte" test on the
/// word XOR the escape in every lane, exact for "any").
#[inline]
fn is_plain(raw: &[u8], escape: Option<u8>) -> bool {
    // Without an escape character, 0x80 stands in: no ASCII byte equals it.
    let escape = escape.unwrap_or(0x80);
    let escapes = BYTE_LANES.wrapping_mul(u64::from(escape));
    let mut words = raw.chunks_exact(8);
    for chunk in &mut words {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
            return false;
        };
        let word = u64::from_le_bytes(bytes);
        let matches = word ^ escapes;
        let has_escape = matches.wrapping_sub(BYTE_LANES) & !matches & HIGH_BITS != 0;
        if word & HIGH_BITS != 0 || has_escape {
            return false;
        }
    }
    words
        .remainder()
        .iter()
        .all(|&byte| byte.is_ascii() && byte != escape)
}

/// A few ASCII bytes to look for (delimiters), two ways: each byte in every lane of a
/// word (0x80 for an absent one, which no ASCII byte equals) for eight bytes at a
/// time, and a table for the bytes left over.
struct ByteSet {
    lanes: [u64; 4],
    members: [bool; 128],
}

impl ByteSet {
    fn new(bytes: [Option<u8>; 4]) -> Self {
        let mut members = [false; 128];
        for byte in bytes.into_iter().flatten() {
            if let Some(member) = members.get_mut(usize::from(byte)) {
                *member = true;
            }
        }
        Self {
            lanes: bytes.map(|byte| BYTE_LANES.wrapping_mul(u64::from(byte.unwrap_or(0x80)))),
            members,
        }
    }

    /// Whether `raw` is ASCII without any of the bytes.
    #[inline]
    fn is_ascii_without(&self, raw: &[u8]) -> bool {
        let has_zero_lane = |word: u64| word.wrapping_sub(BYTE_LANES) & !word & HIGH_BITS != 0;
        let mut words = raw.chunks_exact(8);
        for chunk in &mut words {
            let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
                return false;
            };
            let word = u64::from_le_bytes(bytes);
            if word & HIGH_BITS != 0 || self.lanes.iter().any(|&lane| has_zero_lane(word ^ lane)) {
                return false;
            }
        }
        words
            .remainder()
            .iter()
            .all(|&byte| self.members.get(usize::from(byte)) == Some(&false))
    }
}

/// [`str::trim`], answering at once for the usual value that neither starts nor ends
/// with whitespace.
#[inline]
fn trim(text: &str) -> &str {
    // A byte that is neither ASCII whitespace (with the vertical tab, which `trim`
    // also removes) nor part of a multi-byte character cannot begin or end a run of
    // whitespace.
    let solid = |byte: &u8| byte.is_ascii() && !byte.is_ascii_whitespace() && *byte != 0x0B;
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(first), Some(last)) if solid(first) && solid(last) => text,
        _ => text.trim(),
    }
}

/// HL7 coding system mnemonics (table 0396) and the model's systems.
#[inline]
pub(super) fn code_system(name: Option<&str>) -> CodeSystem {
    let Some(name) = name.map(trim).filter(|name| !name.is_empty()) else {
        return CodeSystem::Local(Text::new());
    };
    let is = |mnemonic: &str| name.eq_ignore_ascii_case(mnemonic);
    match name.len() {
        2 if is("LN") => return CodeSystem::Loinc,
        // SNOMED CT (SCT), and the older SNOMED International mnemonics.
        3 if is("SCT") || is("SNM") => return CodeSystem::Snomed,
        4 if is("SNM3") => return CodeSystem::Snomed,
        4 if is("UCUM") => return CodeSystem::Ucum,
        _ => {}
    }
    // `HL7nnnn`: an HL7-defined table (0396: "HL7nnnn").
    if let Some((prefix, number)) = name.split_at_checked(3)
        && prefix.eq_ignore_ascii_case("HL7")
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && let Ok(table) = number.parse::<u16>()
    {
        return CodeSystem::Hl7Table(table);
    }
    // `99zzz` and `L` are local by table 0396. Instruments also name their own tables
    // after themselves (`3DHISTECH`, `MOLIS`), so every other name is read as local
    // too: a sender's code is never taken for a standard's.
    CodeSystem::Local(name.into())
}

/// The media type of an ED/RP type of data (table 0191) and subtype (table 0291).
pub(super) fn media_type(kind: Option<&str>, subtype: Option<&str>) -> Option<Text> {
    let family = |kind: &str| {
        [
            ("IM", "image"),
            ("AP", "application"),
            ("TEXT", "text"),
            ("AU", "audio"),
        ]
        .into_iter()
        .find(|(code, _)| kind.eq_ignore_ascii_case(code))
        .map(|(_, family)| family)
    };
    // `family/subtype`, written on the stack when it fits inline in a `Text` (no
    // allocation), else into one `String`.
    let joined = |family: &str, subtype: &str, lowercase: bool| {
        let lower = |byte: u8| {
            if lowercase {
                byte.to_ascii_lowercase()
            } else {
                byte
            }
        };
        let bytes = family
            .bytes()
            .chain(core::iter::once(b'/'))
            .chain(subtype.bytes().map(lower));
        let len = family.len().saturating_add(1).saturating_add(subtype.len());
        let mut buffer = [0u8; TEXT_INLINE_CAPACITY];
        match buffer.get_mut(..len) {
            Some(inline) => {
                inline
                    .iter_mut()
                    .zip(bytes)
                    .for_each(|(slot, byte)| *slot = byte);
                // ASCII lowercasing keeps UTF-8 valid.
                Text::from(core::str::from_utf8(inline).unwrap_or_default())
            }
            None => {
                let bytes: Vec<u8> = bytes.collect();
                Text::from(String::from_utf8(bytes).unwrap_or_default())
            }
        }
    };
    match (kind, subtype) {
        (None, None) => None,
        (None, Some(subtype)) | (Some(_), Some(subtype)) if subtype.contains('/') => {
            Some(Text::from(subtype))
        }
        (Some(kind), Some(subtype)) => Some(match family(kind) {
            Some(family) => joined(family, subtype, true),
            None => joined(kind, subtype, false),
        }),
        (Some(kind), None) => Some(Text::from(kind)),
        (None, Some(subtype)) => Some(Text::from(subtype)),
    }
}

/// The ED encoding (table 0299) as the model names it.
pub(super) fn encoding_name(encoding: &str) -> Text {
    if encoding.eq_ignore_ascii_case("BASE64") {
        Text::from("base64")
    } else if encoding.eq_ignore_ascii_case("HEX") {
        Text::from("hex")
    } else {
        Text::from(encoding)
    }
}

/// Segment ids counted in a small table before [`Reader::new`] falls back to a map.
const RECENT_IDS: usize = 16;

/// Slots of the table [`Reader::new`] counts segment ids in: twice the ids it takes,
/// so that probes stay short, and a power of two (see [`slot_of`]).
const ID_SLOTS: usize = 2 * RECENT_IDS;

/// The bit that marks a used slot of that table.
const OCCUPIED: u64 = 1 << 63;

/// The first slot to probe for a packed id (Fibonacci hashing): the top bits of the
/// product, as many as index [`ID_SLOTS`] slots.
fn slot_of(key: u64) -> usize {
    const SHIFT: u32 = u64::BITS - ID_SLOTS.trailing_zeros();
    // Fewer than `ID_SLOTS` values: it fits.
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> SHIFT) as usize
}

/// A segment id of at most seven bytes as one word (its bytes and its length), so
/// that ids compare in one instruction; `None` for longer ids.
fn packed_id(id: &[u8]) -> Option<u64> {
    if id.len() > 7 {
        return None;
    }
    // Shifted in rather than copied into a buffer and read back as a word, which
    // stalls the load behind the byte stores.
    let bytes = id
        .iter()
        .rev()
        .fold(0u64, |word, &byte| (word << 8) | u64::from(byte));
    // The length (at most seven) in the top byte.
    Some(bytes | (id.len() as u64) << 56)
}

/// Occurrences kept inline: most messages have fewer segments, which then cost no
/// allocation.
const INLINE_OCCURRENCES: usize = 64;

/// The occurrence of each segment among those with its id, by segment index: the
/// first [`INLINE_OCCURRENCES`] inline, the rest (of long messages) on the heap.
struct Occurrences {
    inline: [u32; INLINE_OCCURRENCES],
    len: usize,
    more: Vec<u32>,
}

impl Occurrences {
    fn new(segments: usize) -> Self {
        Self {
            inline: [0; INLINE_OCCURRENCES],
            len: 0,
            more: Vec::with_capacity(segments.saturating_sub(INLINE_OCCURRENCES)),
        }
    }

    fn push(&mut self, occurrence: u32) {
        match self.inline.get_mut(self.len) {
            Some(slot) => {
                *slot = occurrence;
                self.len = self.len.saturating_add(1);
            }
            None => self.more.push(occurrence),
        }
    }

    #[inline]
    fn get(&self, index: usize) -> Option<u32> {
        match index.checked_sub(INLINE_OCCURRENCES) {
            None => self.inline.get(..self.len)?.get(index).copied(),
            Some(index) => self.more.get(index).copied(),
        }
    }
}

/// What a TCD says about the result before it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct TestCodeDetail {
    /// Repeated (`R`, `D`, `F`) or original (`O`); `None` when TCD-8 is empty.
    pub(super) rerun: Option<bool>,
    /// The dilution factor the instrument applied.
    pub(super) dilution: Option<Decimal>,
}

/// Whether a decimal is 1 (`1`, `1.0`, `01`, `+1`): a dilution of one part in one.
pub(super) fn is_one(decimal: &Decimal) -> bool {
    let text = decimal.as_str();
    let text = text.strip_prefix('+').unwrap_or(text);
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    whole.trim_start_matches('0') == "1" && fraction.bytes().all(|digit| digit == b'0')
}

/// The components of a value that reads as plain text throughout (see
/// [`Reader::plain_parts`]): each component is its bytes.
struct Parts<'m, const N: usize> {
    /// Components 1 to `N`; `""` past the last.
    parts: [&'m str; N],
    /// How many components there are, counted up to `N`.
    count: usize,
}

impl<'m, const N: usize> Parts<'m, N> {
    /// `text` split on `separator` (one component when there is none).
    #[inline]
    fn split(text: &'m str, separator: Option<u8>) -> Self {
        let mut split = Self {
            parts: [""; N],
            count: 0,
        };
        let mut start = 0usize;
        if let Some(separator) = separator {
            for (at, &byte) in text.as_bytes().iter().enumerate() {
                if byte == separator {
                    if split.end_part(text, start, at) {
                        return split;
                    }
                    start = at.saturating_add(1);
                }
            }
        }
        split.end_part(text, start, text.len());
        split
    }

    /// Records `text[start..end]` as the next part; true once `N` are counted.
    #[inline]
    fn end_part(&mut self, text: &'m str, start: usize, end: usize) -> bool {
        if let Some(slot) = self.parts.get_mut(self.count) {
            *slot = text.get(start..end).unwrap_or_default();
        }
        self.count = self.count.saturating_add(1);
        self.count >= N
    }

    /// Component `n` (1-based); `""` when absent.
    #[inline]
    fn get(&self, n: usize) -> &'m str {
        n.checked_sub(1)
            .and_then(|index| self.parts.get(index))
            .copied()
            .unwrap_or_default()
    }
}

/// What [`Reader::token_cow`] reads from plain text: trimmed, `None` when empty, the
/// explicit null `""` or blank.
#[inline]
fn plain_token_str(text: &str) -> Option<&str> {
    if text.is_empty() || text == "\"\"" {
        return None;
    }
    let trimmed = trim(text);
    (!trimmed.is_empty()).then_some(trimmed)
}

/// What [`Reader::token`] reads from plain text.
#[inline]
fn plain_token(text: &str) -> Option<Text> {
    plain_token_str(text).map(Text::from)
}

/// [`Reader::entity`] of plain components.
fn plain_entity(parts: &Parts<'_, 3>) -> Option<Identifier> {
    plain_token(parts.get(1)).map(|value| Identifier {
        value,
        kind: None,
        assigner: plain_token(parts.get(2)).or_else(|| plain_token(parts.get(3))),
    })
}

/// What [`Reader::text`] reads from plain text: as is, `None` when empty or the
/// explicit null `""`.
#[inline]
fn plain_text(text: &str) -> Option<Text> {
    (!text.is_empty() && text != "\"\"").then(|| Text::from(text))
}

/// [`Reader::coding_at`] of plain components.
fn plain_coding(code: &str, display: &str, system: &str) -> Option<Coding> {
    if code.is_empty() && display.is_empty() && system.is_empty() {
        return None;
    }
    let code = plain_token(code)?;
    Some(Coding {
        system: code_system(plain_token_str(system)),
        code,
        display: plain_token(display),
    })
}

/// How a value reads as text (see [`Reader::classify`]).
#[derive(Clone, Copy)]
enum Shape<'m> {
    /// Empty, or the explicit null `""`.
    Absent,
    /// ASCII without escapes: the text is the bytes.
    Plain(&'m str),
    /// Escapes or other bytes: the syntax layer decodes it.
    Encoded,
}

/// OBX-6 as the values of one OBX receive it: moved into the value when OBX-5 has
/// one repetition (the usual case), cloned for each when it has several.
pub(super) struct Units<'u> {
    unit: &'u mut Option<Unit>,
    shared: bool,
}

impl Units<'_> {
    fn get(&mut self) -> Option<Unit> {
        if self.shared {
            self.unit.clone()
        } else {
            self.unit.take()
        }
    }
}

/// Reads values of one message, collecting warnings.
pub(super) struct Reader<'m> {
    pub(super) message: &'m Message<'m>,
    pub(super) options: MapOptions,
    /// The whole message as text, when it is valid UTF-8 (see [`Reader::plain`]).
    text: Option<&'m str>,
    /// The escape character (MSH-2.3), if any.
    escape: Option<u8>,
    /// The repetition, component, subcomponent and escape characters, for
    /// [`Reader::single`].
    separators: ByteSet,
    /// The same without the component separator, for [`Reader::plain_parts`].
    plain_breaks: ByteSet,
    /// The component separator (MSH-2.1), if any.
    component_separator: Option<u8>,
    /// The occurrence of each segment among those with its id (1-based).
    occurrences: Occurrences,
    /// How many segments open a group that makes an event (OBR, SPM, EQU, QPD).
    pub(super) group_heads: usize,
    pub(super) warnings: Vec<MapWarning>,
    /// Indexes of warnings pushed since the last `take_pending`.
    pending: Vec<usize>,
    /// Decoding relaxations already reported, by offset.
    decoding_seen: HashSet<(usize, WarningKind)>,
}

impl<'m> Reader<'m> {
    pub(super) fn new(message: &'m Message<'m>, options: &MapOptions) -> Self {
        // A message uses a handful of segment ids: a small open-addressed table of
        // the first few beats hashing each one into a map; the map takes the rest, so
        // adversarial messages with thousands of distinct ids stay linear. Ids of up
        // to seven bytes (all the standard ones) are one word (see `packed_id`).
        let mut table = [(0u64, 0u32); ID_SLOTS];
        let mut table_len = 0usize;
        let mut others: HashMap<SegmentId, u32> = HashMap::new();
        let mut occurrences = Occurrences::new(message.segment_count());
        let mut group_heads = 0usize;
        for segment in message.segments() {
            let id = segment.id();
            if matches!(id, b"OBR" | b"SPM" | b"EQU" | b"QPD") {
                group_heads = group_heads.saturating_add(1);
            }
            let slot = packed_id(id).and_then(|key| {
                // The top bit marks a used slot (`packed_id` leaves it clear).
                let key = key | OCCUPIED;
                let mut index = slot_of(key);
                for _ in 0..ID_SLOTS {
                    let (used, _) = table.get(index)?;
                    if *used == key {
                        return Some(index);
                    }
                    if *used == 0 {
                        if table_len >= RECENT_IDS {
                            return None;
                        }
                        table_len = table_len.saturating_add(1);
                        *table.get_mut(index)? = (key, 0);
                        return Some(index);
                    }
                    index = index.wrapping_add(1) % ID_SLOTS;
                }
                None
            });
            let count = match slot.and_then(|index| table.get_mut(index)) {
                Some((_, count)) => {
                    *count = count.saturating_add(1);
                    *count
                }
                None => {
                    let count = others.entry(SegmentId::new(id)).or_insert(0);
                    *count = count.saturating_add(1);
                    *count
                }
            };
            occurrences.push(count);
        }
        Self {
            message,
            options: options.clone(),
            text: core::str::from_utf8(message.as_bytes()).ok(),
            escape: message.delimiters().escape(),
            separators: {
                let delimiters = message.delimiters();
                ByteSet::new([
                    delimiters.repetition(),
                    delimiters.component(),
                    delimiters.subcomponent(),
                    delimiters.escape(),
                ])
            },
            plain_breaks: {
                let delimiters = message.delimiters();
                ByteSet::new([
                    delimiters.repetition(),
                    delimiters.subcomponent(),
                    delimiters.escape(),
                    None,
                ])
            },
            component_separator: message.delimiters().component(),
            occurrences,
            group_heads,
            warnings: Vec::new(),
            pending: Vec::new(),
            decoding_seen: HashSet::new(),
        }
    }

    /// The mapping location of a syntax-layer location.
    pub(super) fn map_location(&self, location: &Location) -> MapLocation {
        let index = location
            .segment_number
            .and_then(|number| usize::try_from(number).ok())
            .and_then(|number| number.checked_sub(1));
        let occurrence = index
            .and_then(|index| self.occurrences.get(index))
            .unwrap_or(1);
        MapLocation {
            segment: location.segment_id.unwrap_or_default(),
            occurrence,
            field: location.field,
            repetition: location.repetition,
            component: location.component,
            subcomponent: location.subcomponent,
        }
    }

    #[inline]
    pub(super) fn segment_location(&self, segment: &Segment<'_>) -> MapLocation {
        MapLocation::segment(
            SegmentId::new(segment.id()),
            self.occurrences.get(segment.index()).unwrap_or(1),
        )
    }

    pub(super) fn warn(&mut self, kind: MapWarningKind, location: MapLocation, offset: usize) {
        let warning = MapWarning {
            kind,
            location,
            offset,
        };
        // A value is decoded whole and by component; the relaxation of one escape
        // sequence (one offset) is reported once, at the first, widest, location.
        if let MapWarningKind::Decoding(problem) = kind
            && !self.decoding_seen.insert((offset, problem))
        {
            return;
        }
        let warning = match self.warnings.len().cmp(&self.options.max_warnings) {
            core::cmp::Ordering::Less => warning,
            core::cmp::Ordering::Equal => MapWarning {
                kind: MapWarningKind::TooManyWarnings,
                ..warning
            },
            core::cmp::Ordering::Greater => return,
        };
        self.pending.push(self.warnings.len());
        self.warnings.push(warning);
    }

    pub(super) fn warn_at<V: View<'m>>(&mut self, kind: MapWarningKind, view: V) {
        let location = self.map_location(&view.at());
        self.warn(kind, location, view.position());
    }

    /// Warning `index` as text.
    pub(super) fn warning_text(&self, index: usize) -> Option<String> {
        self.warnings.get(index).map(|warning| warning.to_text())
    }

    /// Indexes of the warnings pushed since the last call.
    pub(super) fn take_pending(&mut self) -> Vec<usize> {
        // Drained, not taken: the buffer is kept for the next segment's warnings, and
        // the (usually empty) result allocates nothing.
        self.pending.drain(..).collect()
    }

    /// Moves the indexes of the warnings pushed since the last call to `out`.
    pub(super) fn drain_pending_into(&mut self, out: &mut Vec<usize>) {
        out.append(&mut self.pending);
    }

    /// How a value reads as text: absent (empty or the explicit null `""`), plain
    /// (see [`Reader::plain`]), or in need of decoding. The common cases answer
    /// without building a `Cow`.
    #[inline]
    fn classify<V: View<'m>>(&self, view: &V) -> Shape<'m> {
        let raw = view.raw_bytes();
        if raw.is_empty() || view.null() {
            return Shape::Absent;
        }
        match self.plain(raw, view.position(), view.simple()) {
            Some(text) => Shape::Plain(text),
            None => Shape::Encoded,
        }
    }

    /// The decoded text of a value, borrowed when there was nothing to decode;
    /// `None` when empty or the explicit null `""`.
    #[inline]
    pub(super) fn cow<V: View<'m>>(&mut self, view: V) -> MapResult<Option<Cow<'m, str>>> {
        match self.classify(&view) {
            Shape::Absent => Ok(None),
            Shape::Plain(text) => Ok(Some(Cow::Borrowed(text))),
            Shape::Encoded => self.decode(view),
        }
    }

    /// [`Reader::cow`] for values with escapes or non-ASCII bytes: the syntax layer
    /// decodes them, and its lenient-mode warnings become mapping warnings.
    #[inline(never)]
    fn decode<V: View<'m>>(&mut self, view: V) -> MapResult<Option<Cow<'m, str>>> {
        let mut relaxed = Vec::new();
        let text = view
            .decode(&mut relaxed)
            .map_err(|error| Box::new(MapError::from(error)))?;
        for warning in relaxed {
            let location = warning.location.map_or_else(
                || self.map_location(&view.at()),
                |at| self.map_location(&at),
            );
            self.warn(
                MapWarningKind::Decoding(warning.kind),
                location,
                warning.offset,
            );
        }
        Ok(Some(text))
    }

    /// `raw` (at `offset` in the message) as text when decoding would return it
    /// unchanged: ASCII, which every charset maps to itself, without an escape
    /// character (known when the view is `simple`, else checked). Borrowed from the
    /// message text validated once, so the common case costs one pass over the
    /// value's bytes.
    #[inline]
    fn plain(&self, raw: &'m [u8], offset: usize, simple: bool) -> Option<&'m str> {
        if !simple && !is_plain(raw, self.escape) {
            return None;
        }
        let text = self.text?.get(offset..offset.checked_add(raw.len())?)?;
        // The view's offset names its bytes; never trust it blindly.
        core::ptr::eq(text.as_ptr(), raw.as_ptr()).then_some(text)
    }

    /// The decoded text of a value; `None` when empty or the explicit null `""`.
    pub(super) fn text<V: View<'m>>(&mut self, view: V) -> MapResult<Option<Text>> {
        match self.classify(&view) {
            Shape::Absent => Ok(None),
            Shape::Plain(text) => Ok(Some(Text::from(text))),
            Shape::Encoded => Ok(self.decode(view)?.map(Text::from)),
        }
    }

    /// The decoded text, trimmed and borrowed where possible; `None` when nothing is
    /// left. For values that are parsed or compared rather than kept.
    #[inline(always)]
    pub(super) fn token_cow<V: View<'m>>(&mut self, view: V) -> MapResult<Option<Cow<'m, str>>> {
        match self.classify(&view) {
            Shape::Absent => Ok(None),
            Shape::Plain(text) => {
                let trimmed = trim(text);
                if trimmed.is_empty() {
                    Ok(None)
                } else {
                    Ok(Some(Cow::Borrowed(trimmed)))
                }
            }
            Shape::Encoded => self.decoded_token(view),
        }
    }

    /// [`Reader::token_cow`] for values that need decoding.
    #[inline(never)]
    fn decoded_token<V: View<'m>>(&mut self, view: V) -> MapResult<Option<Cow<'m, str>>> {
        let trimmed = match self.decode(view)? {
            None => return Ok(None),
            Some(Cow::Borrowed(text)) => Cow::Borrowed(trim(text)),
            Some(Cow::Owned(text)) => {
                let trimmed = trim(&text);
                if trimmed.len() == text.len() {
                    Cow::Owned(text)
                } else {
                    Cow::Owned(trimmed.to_owned())
                }
            }
        };
        Ok((!trimmed.is_empty()).then_some(trimmed))
    }

    /// The decoded text, trimmed; `None` when nothing is left.
    #[inline(always)]
    pub(super) fn token<V: View<'m>>(&mut self, view: V) -> MapResult<Option<Text>> {
        match self.classify(&view) {
            Shape::Absent => Ok(None),
            Shape::Plain(text) => {
                let trimmed = trim(text);
                if trimmed.is_empty() {
                    Ok(None)
                } else {
                    Ok(Some(Text::from(trimmed)))
                }
            }
            Shape::Encoded => Ok(self.decoded_token(view)?.map(Text::from)),
        }
    }

    /// A value's first `N` components as text when the value reads as plain text
    /// throughout: ASCII without a repetition or subcomponent separator or an escape
    /// (known when the view is `simple`, else checked). Its first repetition is then
    /// the value itself, each component is its bytes and its first subcomponent, and
    /// reading them needs no views (nor warns). `None` otherwise, and for views that
    /// are not slices of the message text.
    #[inline]
    fn plain_parts<V: View<'m>, const N: usize>(&self, view: &V) -> Option<Parts<'m, N>> {
        let raw = view.raw_bytes();
        if !view.simple() && !self.plain_breaks.is_ascii_without(raw) {
            return None;
        }
        let offset = view.position();
        let text = self.text?.get(offset..offset.checked_add(raw.len())?)?;
        core::ptr::eq(text.as_ptr(), raw.as_ptr())
            .then(|| Parts::split(text, self.component_separator))
    }

    /// The field's text when it is one plain value: ASCII without a repetition,
    /// component or subcomponent separator or an escape. Then its first repetition,
    /// component and subcomponent are the field itself (same bytes, same offset) and
    /// read as plain text, so reading the field stands in for locating them. Most
    /// fields are. `None` otherwise (and for fields that are not slices of the message
    /// text).
    #[inline]
    fn single(&self, field: &Field<'m>) -> Option<&'m str> {
        let raw = field.raw();
        if !self.separators.is_ascii_without(raw) {
            return None;
        }
        let offset = field.offset();
        let text = self.text?.get(offset..offset.checked_add(raw.len())?)?;
        core::ptr::eq(text.as_ptr(), raw.as_ptr()).then_some(text)
    }

    /// [`Reader::token`] of `field.component(n)`, without locating it when the field
    /// is one value.
    pub(super) fn component_token(
        &mut self,
        field: Field<'m>,
        n: usize,
    ) -> MapResult<Option<Text>> {
        if field.is_empty() {
            Ok(None)
        } else if let Some(text) = self.single(&field) {
            Ok(plain_token(text).filter(|_| n == 1))
        } else {
            self.token(field.component(n))
        }
    }

    /// [`Reader::token_cow`] of `field.component(n)`, without locating it when the
    /// field is one value.
    pub(super) fn component_token_cow(
        &mut self,
        field: Field<'m>,
        n: usize,
    ) -> MapResult<Option<Cow<'m, str>>> {
        if field.is_empty() {
            Ok(None)
        } else if let Some(text) = self.single(&field) {
            Ok(plain_token_str(text).filter(|_| n == 1).map(Cow::Borrowed))
        } else {
            self.token_cow(field.component(n))
        }
    }

    /// [`Reader::token`] of `field.repetition(1)`, without locating it when the field
    /// is one value.
    pub(super) fn first_repetition_token(&mut self, field: Field<'m>) -> MapResult<Option<Text>> {
        if field.is_empty() {
            Ok(None)
        } else if let Some(text) = self.single(&field) {
            Ok(plain_token(text))
        } else {
            self.token(field.repetition(1))
        }
    }

    /// A coding from three consecutive components (CWE/CE `code^text^system`,
    /// starting at component `first`: 1 for the primary, 4 for the alternate), out of
    /// components already split (`components[0]` is component 1); `None` when `first`
    /// is out of their range.
    fn coding_at(
        &mut self,
        components: &[Component<'m>],
        first: usize,
    ) -> MapResult<Option<Coding>> {
        let Some([code, display, system]) = first
            .checked_sub(1)
            .and_then(|start| components.get(start..))
            .and_then(|rest| rest.first_chunk::<3>())
        else {
            return Ok(None);
        };
        if code.is_empty() && display.is_empty() && system.is_empty() {
            return Ok(None);
        }
        let code = self.token(*code)?;
        let display = self.token(*display)?;
        let system = self.token_cow(*system)?;
        Ok(code.map(|code| Coding {
            system: code_system(system.as_deref()),
            code,
            display,
        }))
    }

    /// A coding from the subcomponents of one component (a CWE inside SPS or PRL).
    pub(super) fn coding_in(&mut self, component: Component<'m>) -> MapResult<Option<Coding>> {
        let code = self.token(component.subcomponent(1))?;
        let display = self.token(component.subcomponent(2))?;
        let system = self.token_cow(component.subcomponent(3))?;
        Ok(code.map(|code| Coding {
            system: code_system(system.as_deref()),
            code,
            display,
        }))
    }

    /// The primary coding, or the alternate when the primary has no code.
    pub(super) fn primary_coding(&mut self, field: Field<'m>) -> MapResult<Option<Coding>> {
        if field.is_empty() {
            return Ok(None);
        }
        if let Some(text) = self.single(&field) {
            // A code without text or system (and no alternate).
            return Ok(plain_token(text).map(|code| Coding {
                system: code_system(None),
                code,
                display: None,
            }));
        }
        if let Some(parts) = self.plain_parts::<_, 6>(&field) {
            return Ok(plain_coding(parts.get(1), parts.get(2), parts.get(3))
                .or_else(|| plain_coding(parts.get(4), parts.get(5), parts.get(6))));
        }
        let components: [Component<'m>; 6] = field.repetition(1).first_components();
        match self.coding_at(&components, 1)? {
            Some(coding) => Ok(Some(coding)),
            None => self.coding_at(&components, 4),
        }
    }

    /// EI from components: entity id, namespace id (else universal id) as assigner.
    pub(super) fn entity(&mut self, repetition: Repetition<'m>) -> MapResult<Option<Identifier>> {
        if repetition.is_empty() {
            return Ok(None);
        }
        if let Some(parts) = self.plain_parts::<_, 3>(&repetition) {
            return Ok(plain_entity(&parts));
        }
        let [id, namespace, universal] = repetition.first_components();
        let Some(value) = self.token(id)? else {
            return Ok(None);
        };
        let assigner = match self.token(namespace)? {
            Some(namespace) => Some(namespace),
            None => self.token(universal)?,
        };
        Ok(Some(Identifier {
            value,
            kind: None,
            assigner,
        }))
    }

    /// [`Reader::entity`] of the field's first repetition, without locating it when
    /// the field reads as plain text.
    pub(super) fn first_entity(&mut self, field: Field<'m>) -> MapResult<Option<Identifier>> {
        if field.is_empty() {
            return Ok(None);
        }
        match self.plain_parts::<_, 3>(&field) {
            Some(parts) => Ok(plain_entity(&parts)),
            None => self.entity(field.repetition(1)),
        }
    }

    /// EI from the subcomponents of one component (EIP, SPM-2).
    pub(super) fn entity_in(&mut self, component: Component<'m>) -> MapResult<Option<Identifier>> {
        let Some(value) = self.token(component.subcomponent(1))? else {
            return Ok(None);
        };
        let assigner = match self.token(component.subcomponent(2))? {
            Some(namespace) => Some(namespace),
            None => self.token(component.subcomponent(3))?,
        };
        Ok(Some(Identifier {
            value,
            kind: None,
            assigner,
        }))
    }

    /// CX: id, assigning authority (CX.4, HD namespace else universal id), type (CX.5).
    pub(super) fn extended_id(
        &mut self,
        repetition: Repetition<'m>,
    ) -> MapResult<Option<Identifier>> {
        if repetition.is_empty() {
            return Ok(None);
        }
        if let Some(parts) = self.plain_parts::<_, 5>(&repetition) {
            // Without subcomponents, the authority is its namespace id.
            return Ok(plain_token(parts.get(1)).map(|value| Identifier {
                value,
                kind: plain_token_str(parts.get(5)).map(IdentifierType::from_code),
                assigner: plain_token(parts.get(4)),
            }));
        }
        let [id, _, _, authority, kind] = repetition.first_components();
        let Some(value) = self.token(id)? else {
            return Ok(None);
        };
        let assigner = match self.token(authority.subcomponent(1))? {
            Some(namespace) => Some(namespace),
            None => self.token(authority.subcomponent(2))?,
        };
        let kind = self
            .token_cow(kind)?
            .map(|code| IdentifierType::from_code(&code));
        Ok(Some(Identifier {
            value,
            kind,
            assigner,
        }))
    }

    /// XPN: family (FN.1) ^ given ^ middle ^ suffix ^ prefix.
    pub(super) fn person_name(&mut self, field: Field<'m>) -> MapResult<Option<PersonName>> {
        if field.is_empty() {
            return Ok(None);
        }
        if let Some(parts) = self.plain_parts::<_, 5>(&field) {
            let name = PersonName {
                family: plain_token(parts.get(1)),
                given: plain_token(parts.get(2)),
                middle: plain_token(parts.get(3)),
                suffix: plain_token(parts.get(4)),
                prefix: plain_token(parts.get(5)),
            };
            return Ok((name != PersonName::default()).then_some(name));
        }
        let [family, given, middle, suffix, prefix] = field.repetition(1).first_components();
        let name = PersonName {
            family: self.token(family.subcomponent(1))?,
            given: self.token(given)?,
            middle: self.token(middle)?,
            suffix: self.token(suffix)?,
            prefix: self.token(prefix)?,
        };
        Ok((name != PersonName::default()).then_some(name))
    }

    /// A DTM value; an unreadable one is left empty with a warning at `view`.
    pub(super) fn timestamp<V: View<'m>>(&mut self, view: V) -> MapResult<Option<LabTimestamp>> {
        let Some(text) = self.token_cow(view)? else {
            return Ok(None);
        };
        match LabTimestamp::parse_hl7(&text) {
            Ok(timestamp) => Ok(Some(timestamp)),
            Err(_) => {
                self.warn_at(MapWarningKind::InvalidTimestamp, view);
                Ok(None)
            }
        }
    }

    /// The time of a TS (or DTM) field: its first component's first subcomponent.
    pub(super) fn time_field(&mut self, field: Field<'m>) -> MapResult<Option<LabTimestamp>> {
        if field.is_empty() {
            return Ok(None);
        }
        let text = if let Some(text) = self.single(&field) {
            plain_token_str(text).map(Cow::Borrowed)
        } else {
            let time = field.component(1).subcomponent(1);
            if time.raw_bytes().is_empty() {
                return Ok(None);
            }
            self.token_cow(time)?
        };
        match text {
            None => Ok(None),
            Some(text) => match LabTimestamp::parse_hl7(&text) {
                Ok(timestamp) => Ok(Some(timestamp)),
                Err(_) => {
                    self.warn_at(MapWarningKind::InvalidTimestamp, field);
                    Ok(None)
                }
            },
        }
    }

    /// A decimal; an unreadable one is left empty with a warning.
    pub(super) fn decimal<V: View<'m>>(&mut self, view: V) -> MapResult<Option<Decimal>> {
        let Some(text) = self.token_cow(view)? else {
            return Ok(None);
        };
        match Decimal::parse_lenient(&text, self.options.decimal_mark) {
            Ok(decimal) => Ok(Some(decimal)),
            Err(_) => {
                self.warn_at(MapWarningKind::InvalidNumber, view);
                Ok(None)
            }
        }
    }

    /// Units (OBX-6, INV-11: CWE). UCUM when the coding system says so; the
    /// instrument's own text is the alternate code when one is sent beside a UCUM code.
    pub(super) fn unit(&mut self, field: Field<'m>) -> MapResult<Option<Unit>> {
        if field.is_empty() {
            return Ok(None);
        }
        if let Some(text) = self.single(&field) {
            // A code without text or system: local units.
            return Ok(plain_token(text).map(Unit::new));
        }
        let (code, text, system, alternate) = match self.plain_parts::<_, 4>(&field) {
            Some(parts) => (
                plain_token(parts.get(1)),
                plain_token(parts.get(2)),
                plain_token_str(parts.get(3)).map(Cow::Borrowed),
                plain_token(parts.get(4)),
            ),
            None => {
                let [code, text, system, alternate] = field.repetition(1).first_components();
                (
                    self.token(code)?,
                    self.token(text)?,
                    self.token_cow(system)?,
                    self.token(alternate)?,
                )
            }
        };
        let ucum = system
            .as_deref()
            .is_some_and(|system| system.eq_ignore_ascii_case("UCUM"));
        Ok(match (code, ucum) {
            (Some(code), true) => Some(Unit {
                original: (alternate.unwrap_or_else(|| code.clone())),
                ucum: Some(code),
            }),
            (Some(code), false) => Some(Unit::new(code)),
            (None, _) => text.map(Unit::new),
        })
    }

    /// A LOINC code from a coding in the LOINC system; a wrong one is warned.
    fn loinc<V: View<'m>>(&mut self, coding: &Coding, view: V) -> Option<LoincCode> {
        if coding.system != CodeSystem::Loinc {
            return None;
        }
        match LoincCode::parse(&coding.code) {
            Ok(code) => Some(code),
            Err(_) => {
                self.warn_at(MapWarningKind::InvalidLoinc, view);
                None
            }
        }
    }

    /// EI repetitions (OBX-18, EQU-1) as an instrument known by its ids.
    pub(super) fn equipment(&mut self, field: Field<'m>) -> MapResult<Option<Instrument>> {
        if field.is_empty() {
            return Ok(None);
        }
        let mut ids = Vec::new();
        if let Some(text) = self.single(&field) {
            // One EI of an entity id only.
            if let Some(value) = plain_token(text) {
                ids = vec![Identifier {
                    value,
                    kind: None,
                    assigner: None,
                }];
            }
        } else if let Some(parts) = self.plain_parts::<_, 3>(&field) {
            // One EI.
            if let Some(id) = plain_entity(&parts) {
                ids = vec![id];
            }
        } else {
            for repetition in field.repetitions() {
                if let Some(id) = self.entity(repetition)? {
                    ids.push(id);
                }
            }
        }
        Ok((!ids.is_empty()).then(|| Instrument {
            ids,
            ..Instrument::default()
        }))
    }

    /// INV (inventory detail) as a substance lot: 1 substance, 3 type (0384), 12
    /// expiry, 16 manufacturer lot number, 17 manufacturer.
    pub(super) fn substance(&mut self, inv: Segment<'m>) -> MapResult<SubstanceLot> {
        let manufacturer = inv.field(17).repetition(1);
        Ok(SubstanceLot {
            kind: self
                .component_token_cow(inv.field(3), 1)?
                .map(|code| SubstanceType::from_code(&code)),
            material: self.primary_coding(inv.field(1))?,
            lot: self.first_repetition_token(inv.field(16))?,
            expires_at: self.time_field(inv.field(12))?,
            manufacturer: match self.token(manufacturer.component(2))? {
                Some(name) => Some(name),
                None => self.token(manufacturer.component(1))?,
            },
            level: None,
        })
    }

    /// SID (substance identifier, after an OBX): 1 application/method (CWE), 2 lot,
    /// 4 manufacturer.
    pub(super) fn substance_identifier(&mut self, sid: Segment<'m>) -> MapResult<SubstanceLot> {
        let manufacturer = sid.field(4).repetition(1);
        Ok(SubstanceLot {
            material: self.primary_coding(sid.field(1))?,
            lot: self.token(sid.field(2))?,
            manufacturer: match self.token(manufacturer.component(2))? {
                Some(name) => Some(name),
                None => self.token(manufacturer.component(1))?,
            },
            ..SubstanceLot::default()
        })
    }

    /// One OBX as a result, added to `results` (see the [`read`](super::read) module for
    /// the field list); `order_status` is its order's OBR-25.
    pub(super) fn observation(
        &mut self,
        obx: Segment<'m>,
        order_status: Option<Field<'m>>,
        results: &mut Vec<LabResult>,
    ) -> MapResult<()> {
        let sequence = self
            .token_cow(obx.field(1))?
            .and_then(|text| text.parse::<u32>().ok());
        let value_type = self.token_cow(obx.field(2))?.map(|text| {
            if text.bytes().any(|b| b.is_ascii_lowercase()) {
                Cow::Owned(text.to_ascii_uppercase())
            } else {
                text
            }
        });
        let test_field = obx.field(3);
        let mut alternates = Vec::new();
        // CWE.4–6, and CWE.10–12 (second alternate, v2.7+), which few senders reach.
        let primary = if let Some(parts) = self.plain_parts::<_, 12>(&test_field) {
            let primary = plain_coding(parts.get(1), parts.get(2), parts.get(3));
            alternates.extend(plain_coding(parts.get(4), parts.get(5), parts.get(6)));
            if parts.count >= 10 {
                alternates.extend(plain_coding(parts.get(10), parts.get(11), parts.get(12)));
            }
            primary
        } else {
            let test_repetition = test_field.repetition(1);
            let test_components: [Component<'m>; 6] = test_repetition.first_components();
            let primary = self.coding_at(&test_components, 1)?;
            if let Some(coding) = self.coding_at(&test_components, 4)? {
                alternates.push(coding);
            }
            // Counted only when there is a sixth component: most codings have three.
            if test_components.last().is_some_and(Component::is_present)
                && test_repetition.component_count() >= 10
            {
                let second = [10, 11, 12].map(|n| test_repetition.component(n));
                if let Some(coding) = self.coding_at(&second, 1)? {
                    alternates.push(coding);
                }
            }
            primary
        };
        let test = match primary {
            Some(coding) => coding,
            // No primary code: the first alternate stands in, so the test is never empty.
            None if !alternates.is_empty() => alternates.remove(0),
            None => Coding::local(""),
        };
        let loinc = match self.loinc(&test, test_field) {
            Some(code) => Some(code),
            None => {
                let mut found = None;
                for alternate in &alternates {
                    if found.is_none() {
                        found = self.loinc(alternate, test_field);
                    }
                }
                found
            }
        };
        // Built in its place in the list and filled there: a result is near a
        // kilobyte, and every move of a whole one is a copy.
        let mut result = LabResult::new(
            test,
            ResultValue::Absent {
                reason: AbsentReason::Unknown,
                text: None,
            },
            ResultStatus::Final,
        );
        result.sequence = sequence;
        result.alt_tests = alternates;
        result.loinc = loinc;
        results.push(result);
        let Some(result) = results.last_mut() else {
            return Ok(());
        };
        let value_field = obx.field(5);
        // ED data is kept verbatim in the attachment; a second copy would double it.
        if value_type.as_deref() != Some("ED") && !value_field.is_null() {
            result.raw_value = self.text(value_field)?;
        }
        let units_field = obx.field(6);
        let mut unit = self.unit(units_field)?;
        let has_unit = unit.is_some();
        let (value, additional_values) =
            self.values(value_field, value_type.as_deref(), &mut unit)?;
        let holds_unit = matches!(value, ResultValue::Quantity(_) | ResultValue::Range { .. });
        result.value = value;
        result.additional_values = additional_values;
        if has_unit && !holds_unit {
            self.warn_at(MapWarningKind::UnitsNotCarried, units_field);
        }
        let flags = obx.field(8);
        if flags.is_empty() {
            // No flags (the usual normal result).
        } else if let Some(text) = self.single(&flags) {
            if let Some(code) = plain_token_str(text) {
                result.interpretation = vec![Interpretation::from_code(code)];
            }
        } else {
            for repetition in flags.repetitions() {
                if let Some(code) = self.token_cow(repetition.component(1))? {
                    result.interpretation.push(Interpretation::from_code(&code));
                }
            }
        }
        if let Some(text) = self.token_cow(obx.field(7))? {
            let mut range = ReferenceRange::parse_lenient(&text, self.options.decimal_mark);
            range.applies_to = self.populations(obx.field(10))?;
            result.reference_range = Some(range);
        }
        let status_field = obx.field(11);
        match self.token_cow(status_field)? {
            Some(code) => result.status = ResultStatus::from_code(&code),
            None => match self.order_status(order_status)? {
                Some(code) => {
                    self.warn_at(MapWarningKind::StatusFromOrder, status_field);
                    result.status = ResultStatus::from_code(&code);
                    result.status_raw = Some(code);
                }
                None => {
                    self.warn_at(MapWarningKind::MissingStatus, status_field);
                    result.status = ResultStatus::from_code("");
                }
            },
        }
        let observer = obx.field(16);
        let operator = if observer.is_empty() {
            None
        } else if let Some(text) = self.single(&observer) {
            // An id only.
            plain_token(text)
        } else {
            self.operator(observer)?
        };
        result.operator = operator.map(Sensitive::new);
        result.sub_id = self.token(obx.field(4))?;
        result.observed_at = self.time_field(obx.field(14))?;
        result.method = self.primary_coding(obx.field(17))?;
        result.instrument = self.equipment(obx.field(18))?;
        result.analyzed_at = self.time_field(obx.field(19))?;
        Ok(())
    }

    /// OBX-16 (XCN): the id (XCN.1), else the family (FN.1) and given name.
    fn operator(&mut self, field: Field<'m>) -> MapResult<Option<Text>> {
        let (family, given) = match self.plain_parts::<_, 3>(&field) {
            Some(parts) => {
                if let Some(id) = plain_token(parts.get(1)) {
                    return Ok(Some(id));
                }
                (plain_token(parts.get(2)), plain_token(parts.get(3)))
            }
            None => {
                let [observer_id, family, given] = field.repetition(1).first_components();
                if let Some(id) = self.token(observer_id)? {
                    return Ok(Some(id));
                }
                (self.token(family.subcomponent(1))?, self.token(given)?)
            }
        };
        Ok(match (family, given) {
            (Some(family), Some(given)) => {
                let mut name = String::with_capacity(
                    family.len().saturating_add(given.len()).saturating_add(1),
                );
                name.push_str(&family);
                name.push(' ');
                name.push_str(&given);
                Some(Text::from(name))
            }
            (family, given) => family.or(given),
        })
    }

    /// Whether OBX-29 (observation type, table 0936, v2.8) says the OBX is not a
    /// result: `QST` (the answer to a question) or `SCI` (supporting clinical
    /// information). `RSLT`, an empty field and other codes are results.
    pub(super) fn is_not_a_result(&mut self, obx: Segment<'m>) -> MapResult<bool> {
        // Most OBX end well before OBX-29 (v2.8).
        if obx.field_count() < 29 {
            return Ok(false);
        }
        let field = obx.field(29);
        if field.is_empty() {
            return Ok(false);
        }
        Ok(matches!(
            self.component_token_cow(field, 1)?.as_deref(),
            Some("QST" | "SCI")
        ))
    }

    /// The status of an OBX whose OBX-11 is empty, from its order's result status
    /// (OBR-25, table 0123) where that table and table 0085 mean the same (lenient
    /// mode): `F`, `P`, `C`, `R`, `I`, `X`. The OBR-25 code is returned for
    /// [`LabResult::status_raw`]: the status was translated from another table.
    /// Other codes (`A` some results, `S` scheduled, `O` order received …) say nothing
    /// about one result.
    fn order_status(&mut self, order_status: Option<Field<'m>>) -> MapResult<Option<Text>> {
        let Some(field) = order_status.filter(|_| self.options.lenient_values) else {
            return Ok(None);
        };
        if field.is_empty() {
            return Ok(None);
        }
        Ok(self
            .component_token_cow(field, 1)?
            .filter(|code| matches!(code.as_ref(), "F" | "P" | "C" | "R" | "I" | "X"))
            .map(Text::from))
    }

    /// OBX-10 (nature of abnormal test, table 0080, repeating): the population the
    /// reference range is for, as [`ReferenceRange::applies_to`] text (`sex`,
    /// `age, sex`). `N` (a generic range) says nothing; unknown codes are kept as sent.
    fn populations(&mut self, field: Field<'m>) -> MapResult<Option<Text>> {
        if field.is_empty() {
            return Ok(None);
        }
        let mut text = String::new();
        for repetition in field.repetitions() {
            let Some(code) = self.token_cow(repetition.component(1))? else {
                continue;
            };
            let population = match code.as_ref() {
                "N" => continue,
                "A" => "age",
                "S" => "sex",
                "R" => "race",
                "SP" => "species",
                "B" => "breed",
                "ST" => "strain",
                other => other,
            };
            if !text.is_empty() {
                text.push_str(", ");
            }
            text.push_str(population);
        }
        Ok((!text.is_empty()).then(|| Text::from(text)))
    }

    /// TCD (test code detail) as IHE LAW sends it after an OBX: TCD-8 repeat status
    /// (table 0389) and the dilution the instrument applied (TCD-3 for a rerun with
    /// dilution, else TCD-2). A pre-dilution (TCD-4) other than 1 is warned: it was
    /// done before the instrument, and the model has no room for it.
    pub(super) fn test_code_detail(&mut self, tcd: Segment<'m>) -> MapResult<TestCodeDetail> {
        let repeat = self.component_token_cow(tcd.field(8), 1)?;
        // Table 0389: O original, R repeated, D repeated with dilution, F reflex.
        let rerun = match repeat.as_deref() {
            Some("O") => Some(false),
            Some("R" | "D" | "F") => Some(true),
            _ => None,
        };
        let sources: &[usize] = if repeat.as_deref() == Some("D") {
            &[3, 2]
        } else {
            &[2]
        };
        let mut dilution = None;
        for &number in sources {
            let field = tcd.field(number);
            if !field.is_empty() {
                dilution = self.dilution_factor(field)?;
                break;
            }
        }
        let pre_dilution = tcd.field(4);
        if !pre_dilution.is_empty() {
            let factor = self.factor(pre_dilution)?;
            if !factor.as_ref().is_some_and(is_one) {
                self.warn_at(MapWarningKind::FieldNotMapped, pre_dilution);
            }
        }
        Ok(TestCodeDetail { rerun, dilution })
    }

    /// A dilution factor; one that is not a factor is left empty with a warning.
    fn dilution_factor(&mut self, field: Field<'m>) -> MapResult<Option<Decimal>> {
        let factor = self.factor(field)?;
        if factor.is_none() {
            self.warn_at(MapWarningKind::InvalidNumber, field);
        }
        Ok(factor)
    }

    /// A dilution written as SN (v2 ch. 2A.73): a number (`^5`: 5) or a ratio of one
    /// part in n (`^1^:^10` or `^1^/^10`: 10). `None` for anything else (a
    /// comparator, a range, a ratio not of one part): reading those as a factor would
    /// mean computing one the sender did not write.
    fn factor(&mut self, field: Field<'m>) -> MapResult<Option<Decimal>> {
        let mark = self.options.decimal_mark;
        let [comparator, first, separator, second] = field.repetition(1).first_components();
        let comparator = self.token_cow(comparator)?;
        let first = self.token_cow(first)?;
        let separator = self.token_cow(separator)?;
        let second = self.token_cow(second)?;
        if !matches!(comparator.as_deref(), None | Some("=")) {
            return Ok(None);
        }
        let number = |text: Option<Cow<'m, str>>| {
            text.and_then(|text| Decimal::parse_lenient(&text, mark).ok())
        };
        Ok(match (number(first), separator.as_deref(), second) {
            (Some(factor), None, None) => Some(factor),
            (Some(part), Some(":" | "/"), whole) if is_one(&part) => number(whole),
            _ => None,
        })
    }

    /// OBX-5: the first non-empty repetition is the value, the others follow in order.
    fn values(
        &mut self,
        field: Field<'m>,
        value_type: Option<&str>,
        unit: &mut Option<Unit>,
    ) -> MapResult<(ResultValue, Vec<ResultValue>)> {
        let several = field.repetition_count() > 1;
        let mut units = Units {
            unit,
            shared: several,
        };
        let mut first = None;
        let mut others = Vec::new();
        for repetition in field.repetitions() {
            if repetition.is_empty() || repetition.is_null() {
                continue;
            }
            match (
                self.value(repetition, value_type, &mut units, several)?,
                &first,
            ) {
                (None, _) => {}
                (Some(value), None) => first = Some(value),
                (Some(value), Some(_)) => others.push(value),
            }
        }
        let first = first.unwrap_or(ResultValue::Absent {
            reason: AbsentReason::Unknown,
            text: None,
        });
        Ok((first, others))
    }

    fn kept_as_text(
        &mut self,
        repetition: Repetition<'m>,
        problem: ValueProblem,
        several: bool,
        text: Cow<'_, str>,
    ) -> ResultValue {
        self.warn_value(
            MapWarningKind::ValueKeptAsText(problem),
            repetition,
            several,
        );
        ResultValue::text(text.into_owned())
    }

    /// Warns at the field when it has one repetition (`OBX(3)-5`), else at the
    /// repetition (`OBX(3)-5(2)`).
    fn warn_value(&mut self, kind: MapWarningKind, repetition: Repetition<'m>, several: bool) {
        let mut location = self.map_location(&repetition.at());
        if !several {
            location.repetition = None;
        }
        self.warn(kind, location, repetition.position());
    }

    /// One repetition of OBX-5 read as its OBX-2 type (HL7 v2.5.1 table 0125).
    fn value(
        &mut self,
        repetition: Repetition<'m>,
        value_type: Option<&str>,
        units: &mut Units<'_>,
        several: bool,
    ) -> MapResult<Option<ResultValue>> {
        let Some(text) = self.cow(repetition)? else {
            return Ok(None);
        };
        let free_text = matches!(value_type, Some("ST" | "TX" | "FT"));
        if !free_text && trim(&text).is_empty() {
            return Ok(None);
        }
        let mark = self.options.decimal_mark;
        let mut with_unit = |quantity: Quantity| {
            ResultValue::Quantity(Quantity {
                unit: units.get(),
                ..quantity
            })
        };
        let value = match value_type {
            Some("ST" | "TX" | "FT") => ResultValue::text(text.into_owned()),
            Some("NM") => {
                let quantity = if self.options.lenient_values {
                    Quantity::parse_lenient(&text, mark)
                } else {
                    Decimal::parse_lenient(&text, mark).map(Quantity::new)
                };
                match quantity {
                    Ok(quantity) => with_unit(quantity),
                    Err(_) => {
                        self.kept_as_text(repetition, ValueProblem::NotANumber, several, text)
                    }
                }
            }
            Some("SN") => match self.structured_numeric(repetition, units)? {
                Some(value) => value,
                None => self.kept_as_text(
                    repetition,
                    ValueProblem::MalformedStructuredNumeric,
                    several,
                    text,
                ),
            },
            Some("CWE" | "CE" | "CNE" | "CF") => {
                let coding = match self.plain_parts::<_, 9>(&repetition) {
                    Some(parts) => plain_coding(parts.get(1), parts.get(2), parts.get(3))
                        .ok_or_else(|| {
                            plain_token(parts.get(2)).or_else(|| plain_token(parts.get(9)))
                        }),
                    None => {
                        let components: [Component<'m>; 9] = repetition.first_components();
                        match self.coding_at(&components, 1)? {
                            Some(coding) => Ok(coding),
                            None => {
                                let [_, display, .., original] = components;
                                Err(match self.token(display)? {
                                    Some(display) => Some(display),
                                    None => self.token(original)?,
                                })
                            }
                        }
                    }
                };
                // Text only (CWE.2, else CWE.9 original text).
                let coding = match coding {
                    Ok(coding) => coding,
                    Err(display) => return Ok(display.map(ResultValue::text)),
                };
                // Table 0136 (yes/no indicator) is how a boolean travels in a CWE.
                match (&coding.system, coding.code.as_str()) {
                    (CodeSystem::Hl7Table(136), "Y") => ResultValue::Boolean { value: true },
                    (CodeSystem::Hl7Table(136), "N") => ResultValue::Boolean { value: false },
                    _ => ResultValue::Coded(coding),
                }
            }
            Some("DT" | "DTM" | "TS") => {
                let time = self.token_cow(repetition.component(1))?;
                match time.as_deref().map(LabTimestamp::parse_hl7) {
                    Some(Ok(value)) => ResultValue::DateTime { value },
                    _ => self.kept_as_text(repetition, ValueProblem::NotADateTime, several, text),
                }
            }
            Some("TM") => self.kept_as_text(repetition, ValueProblem::NotADateTime, several, text),
            Some("ED") => {
                let (kind, subtype, encoding, data) = match self.plain_parts::<_, 5>(&repetition) {
                    Some(parts) => (
                        plain_token(parts.get(2)),
                        plain_token(parts.get(3)),
                        plain_token(parts.get(4)),
                        plain_text(parts.get(5)),
                    ),
                    None => {
                        let [_, kind, subtype, encoding, data] = repetition.first_components();
                        (
                            self.token(kind)?,
                            self.token(subtype)?,
                            self.token(encoding)?,
                            self.text(data)?,
                        )
                    }
                };
                ResultValue::Attachment {
                    media_type: media_type(kind.as_deref(), subtype.as_deref()),
                    encoding: encoding.as_deref().map(encoding_name),
                    data: data.unwrap_or_default(),
                }
            }
            // RP: a pointer to data held elsewhere; the pointer is the value, the
            // type of data stays in `raw_value`.
            Some("RP") => match self.text(repetition.component(1))? {
                Some(pointer) => ResultValue::text(pointer),
                None => ResultValue::text(text.into_owned()),
            },
            None if self.options.lenient_values => {
                self.warn_value(MapWarningKind::ValueTypeInferred, repetition, several);
                ResultValue::from_text_lenient(&text, units.get(), mark)
            }
            _ => self.kept_as_text(
                repetition,
                ValueProblem::UnsupportedValueType,
                several,
                text,
            ),
        };
        Ok(Some(value))
    }

    /// SN (v2 ch. 2A.73): `comparator ^ num1 ^ separator ^ num2`. `None` when the
    /// parts do not fit the type.
    fn structured_numeric(
        &mut self,
        repetition: Repetition<'m>,
        units: &mut Units<'_>,
    ) -> MapResult<Option<ResultValue>> {
        let mark = self.options.decimal_mark;
        let plain = self.plain_parts::<_, 4>(&repetition);
        let component_count = match &plain {
            Some(parts) => parts.count,
            None => repetition.component_count(),
        };
        if component_count == 1 && self.options.lenient_values {
            // `<0.5` written without components: read as NM would be.
            let text = self.cow(repetition)?.unwrap_or_default();
            return Ok(Quantity::parse_lenient(&text, mark).ok().map(|quantity| {
                ResultValue::Quantity(Quantity {
                    unit: units.get(),
                    ..quantity
                })
            }));
        }
        let (comparator_text, first, separator, second) = match plain {
            Some(parts) => {
                let part = |n| plain_token_str(parts.get(n)).map(Cow::Borrowed);
                (part(1), part(2), part(3), part(4))
            }
            None => {
                let [comparator_text, first, separator, second] = repetition.first_components();
                (
                    self.token_cow(comparator_text)?,
                    self.token_cow(first)?,
                    self.token_cow(separator)?,
                    self.token_cow(second)?,
                )
            }
        };
        let comparator = match comparator_text.as_deref() {
            None | Some("=") => None,
            Some(symbol) => match Comparator::from_symbol(symbol) {
                Some(comparator) => Some(comparator),
                None => return Ok(None),
            },
        };
        let number = |text: Option<Cow<'m, str>>| -> Result<Option<Decimal>, ()> {
            match text {
                None => Ok(None),
                Some(text) => Decimal::parse_lenient(&text, mark)
                    .map(Some)
                    .map_err(|_| ()),
            }
        };
        let (Ok(first), Ok(second)) = (number(first), number(second)) else {
            return Ok(None);
        };
        Ok(match (separator.as_deref(), first, second) {
            (None, Some(value), None) => Some(ResultValue::Quantity(Quantity {
                value,
                comparator,
                unit: units.get(),
            })),
            (Some("-"), low, high) if comparator.is_none() => Some(ResultValue::Range {
                low,
                high,
                unit: units.get(),
            }),
            (Some(":" | "/"), Some(numerator), Some(denominator)) => Some(ResultValue::Ratio {
                numerator,
                denominator,
                comparator,
            }),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coding_systems_follow_table_0396() {
        assert_eq!(code_system(Some("LN")), CodeSystem::Loinc);
        assert_eq!(code_system(Some("sct")), CodeSystem::Snomed);
        assert_eq!(code_system(Some("SNM")), CodeSystem::Snomed);
        assert_eq!(code_system(Some("UCUM")), CodeSystem::Ucum);
        assert_eq!(code_system(Some("HL70078")), CodeSystem::Hl7Table(78));
        assert_eq!(code_system(Some("HL70369")), CodeSystem::Hl7Table(369));
        assert_eq!(
            code_system(Some("99ABB")),
            CodeSystem::Local("99ABB".into())
        );
        assert_eq!(code_system(Some("HL7")), CodeSystem::Local("HL7".into()));
        assert_eq!(
            code_system(Some("HL7nnnn")),
            CodeSystem::Local("HL7nnnn".into())
        );
        assert_eq!(code_system(None), CodeSystem::Local(String::new().into()));
        assert_eq!(
            code_system(Some(" ")),
            CodeSystem::Local(String::new().into())
        );
    }

    #[test]
    fn one_is_one_however_written() {
        for (text, one) in [
            ("1", true),
            ("1.0", true),
            ("01.00", true),
            ("+1", true),
            ("10", false),
            ("0.1", false),
            ("1.01", false),
            ("-1", false),
        ] {
            assert_eq!(
                is_one(&Decimal::parse_lenient(text, labwire_model::DecimalMark::Point).unwrap()),
                one,
                "{text}"
            );
        }
    }

    #[test]
    fn fast_trim_is_str_trim() {
        let samples = [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\u{0B}a",
            "a\u{0B}",
            "\u{1C}a\u{1F}",
            "\u{A0}a",
            "a\u{2003}",
            "é",
            " é ",
            "\ta b\r\n",
        ];
        for sample in samples {
            assert_eq!(trim(sample), sample.trim(), "{sample:?}");
        }
        for byte in 0u8..0x80 {
            let text = format!("{}x{}", char::from(byte), char::from(byte));
            assert_eq!(trim(&text), text.trim(), "{byte:#x}");
        }
    }

    proptest::proptest! {
        #[test]
        fn ascii_without_means_no_such_byte(
            raw in proptest::collection::vec(proptest::sample::select(b"ab|^~&\\$\x00\x7f\x80\xff".to_vec()), 0..40),
            absent in proptest::collection::vec(proptest::option::of(proptest::sample::select(b"^~&\\$\x00".to_vec())), 4),
        ) {
            let set = ByteSet::new([absent[0], absent[1], absent[2], absent[3]]);
            let naive = raw
                .iter()
                .all(|&byte| byte.is_ascii() && absent.iter().all(|&a| a != Some(byte)));
            proptest::prop_assert_eq!(set.is_ascii_without(&raw), naive);
        }

        #[test]
        fn parts_are_what_splitting_gives(
            text in "[a-c^]{0,30}",
            separator in proptest::option::of(proptest::sample::select(b"^b".to_vec())),
        ) {
            let parts = Parts::<'_, 4>::split(&text, separator);
            let expected: Vec<&str> = match separator {
                Some(separator) => text.split(char::from(separator)).collect(),
                None => vec![text.as_str()],
            };
            proptest::prop_assert_eq!(parts.count, expected.len().min(4));
            for n in 1..=5 {
                let want = if n <= 4 { expected.get(n - 1).copied().unwrap_or("") } else { "" };
                proptest::prop_assert_eq!(parts.get(n), want);
            }
        }

        #[test]
        fn plain_means_ascii_without_the_escape(
            raw in proptest::collection::vec(proptest::sample::select(b"ab\\^\x7f\x80\xff".to_vec()), 0..40),
            escape in proptest::option::of(proptest::sample::select(b"\\$".to_vec())),
        ) {
            let naive = raw.iter().all(|&byte| byte.is_ascii() && Some(byte) != escape);
            proptest::prop_assert_eq!(is_plain(&raw, escape), naive);
        }
    }

    /// Occurrences as `Reader::new` counts them, the slow way.
    fn naive_occurrences(message: &Message<'_>) -> Vec<u32> {
        let mut seen: HashMap<SegmentId, u32> = HashMap::new();
        message
            .segments()
            .map(|segment| {
                let count = seen.entry(SegmentId::new(segment.id())).or_insert(0);
                *count += 1;
                *count
            })
            .collect()
    }

    #[test]
    fn occurrences_count_ids_however_many_and_long() {
        // More distinct ids than the table takes, ids longer than a word, ids that
        // differ only past their eighth byte (one `SegmentId`), and an empty id.
        let mut text = "MSH|^~\\&|A||||||ORU^R01|1|P|2.5.1\r".to_owned();
        for round in 0..3 {
            for n in 0..40 {
                text.push_str(&format!("Z{n:02}|{round}\r"));
            }
            text.push_str(
                "ZLONGSEGMENTID1|x\rZLONGSEGMENTID2|x\rZSEVENX|x\rZEIGHTXX|x\r|x\rOBX|1\r",
            );
        }
        let message = Message::parse_str(&text, &crate::message::ParseOptions::default()).unwrap();
        let reader = Reader::new(&message, &MapOptions::default());
        let naive = naive_occurrences(&message);
        assert!(naive.len() > INLINE_OCCURRENCES);
        for (index, expected) in naive.iter().enumerate() {
            assert_eq!(
                reader.occurrences.get(index),
                Some(*expected),
                "segment {index}"
            );
        }
        assert_eq!(reader.occurrences.get(naive.len()), None);
        // The two long ids share their first eight bytes: one id, counted together.
        assert_eq!(naive.iter().max(), Some(&6));
    }

    #[test]
    fn plain_and_decoded_values_read_the_same() {
        // `\X65\` is `e`: the same text, read once from plain bytes and once through
        // the views (escapes force them), must map to the same result.
        let message = |e: &str| {
            format!(
                "MSH|^~\\&|AN-1||||||ORU^R01|1|P|2.5.1\r\
                 PID|1||MRN-1^^^HOSP^MR||Do{e}^Jane^Q^Jr^Dr||19800501|F\r\
                 OBR|1|P-1^LIS|F-1^LAB|GLU^Glucos{e}^99LAB^2345-7^^LN|||20240301070000\r\
                 OBX|1|NM|GLU^Glucos{e}^99LAB^2345-7^^LN^^^X1^Y1^LN||5.4|mmol/L^mmol p{e}r L^UCUM^mM|3.9-6.1|H|||F|||20240301071500||OP-7^Smith^Ann|M1^M{e}thod^99LAB|AN-1^ROCH{e}|20240301101000\r\
                 OBX|2|CWE|ORG^Organism^99LAB||3092008^Staph{e}^SCT||||||F\r\
                 OBX|3|SN|CRP^CRP^99LAB||<^0.5||||||F\r\
                 OBX|4|ED|IMG^Image^99LAB||^IM^PNG^Bas{e}64^AAAA||||||F\r\
                 OBX|5|ST|CMT^C^99LAB||n{e}||||||F||||^Smith^Ann\r"
            )
        };
        let map = |text: &str| {
            let message =
                Message::parse_str(text, &crate::message::ParseOptions::default()).unwrap();
            let mapped = super::super::to_events(&message, &MapOptions::default()).unwrap();
            (mapped.events, mapped.warnings.len())
        };
        let plain = map(&message("e"));
        let escaped = map(&message("\\X65\\"));
        assert_eq!(plain.1, 0);
        assert_eq!(plain, escaped);
    }

    #[test]
    fn media_types_from_ed_type_and_subtype() {
        assert_eq!(
            media_type(Some("IM"), Some("JPEG")).as_deref(),
            Some("image/jpeg")
        );
        assert_eq!(
            media_type(Some("AP"), Some("PDF")).as_deref(),
            Some("application/pdf")
        );
        assert_eq!(
            media_type(Some("NS"), Some("Octet-stream")).as_deref(),
            Some("NS/Octet-stream")
        );
        assert_eq!(
            media_type(Some("AP"), Some("application/pdf")).as_deref(),
            Some("application/pdf")
        );
        assert_eq!(media_type(Some("IM"), None).as_deref(), Some("IM"));
        // Longer than a `Text` holds inline.
        assert_eq!(
            media_type(Some("AP"), Some("VND.OPENXMLFORMATS-SPREADSHEET")).as_deref(),
            Some("application/vnd.openxmlformats-spreadsheet")
        );
        assert_eq!(
            media_type(Some("XYZ-FAMILY-NAME"), Some("SUBTYPE-ABCDEF")).as_deref(),
            Some("XYZ-FAMILY-NAME/SUBTYPE-ABCDEF")
        );
        assert_eq!(media_type(None, None), None);
        assert_eq!(encoding_name("Base64"), "base64");
        assert_eq!(encoding_name("A"), "A");
    }
}
