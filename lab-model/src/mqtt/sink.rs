//! Where the hand-written payload writer ([`super::report`]) puts its output: the
//! same walk over an envelope produces JSON through [`JsonSink`] and CBOR through
//! [`CborSink`], byte for byte what `serde_json` and `ciborium` write for the serde
//! shape.
//!
//! What makes it faster than a serde `Serializer`: keys are constants known at
//! compile time (`"loinc":`, or the CBOR text head and bytes), so a key is one
//! fixed-size copy with no escaping; texts that cannot need escaping (tokens, slugs,
//! timestamps) skip the scan; short texts are copied without a `memcpy` call;
//! timestamps are formatted without `fmt`, and a repeated one is copied.

use std::ops::Range;

use super::cbor;
use super::json;
use super::privacy::{TOKEN_BODY, Token};
use crate::{LabTimestamp, Precision};

/// A map key, pre-encoded for both formats: `json` is `"name":`, `cbor` the text
/// head and the name's bytes.
pub(super) struct Key {
    pub(super) json: &'static [u8],
    pub(super) cbor: &'static [u8],
}

/// The CBOR encoding of a key name: a one-byte text head (RFC 8949 §3.1, major
/// type 3, length below 24) and the bytes. Only runs at compile time: the asserts
/// make a key that is too long, or that JSON would have to escape, a build error.
pub(super) const fn cbor_key<const N: usize>(name: &str) -> [u8; N] {
    let bytes = name.as_bytes();
    assert!(bytes.len() < 24 && bytes.len() + 1 == N);
    let mut out = [0u8; N];
    let mut rest: &mut [u8] = &mut out;
    let mut source = bytes;
    // Below 24, so the cast cannot truncate.
    let mut next = 0x60 | bytes.len() as u8;
    // `{rest}` moves the slice out, so the loop can put its tail back.
    while let [to, tail @ ..] = { rest } {
        *to = next;
        rest = tail;
        if let [from, from_rest @ ..] = source {
            assert!(from.is_ascii_lowercase() || from.is_ascii_digit() || *from == b'_');
            next = *from;
            source = from_rest;
        }
    }
    out
}

/// A [`Key`] for a snake_case field name, built at compile time.
macro_rules! key {
    ($name:literal) => {{
        const KEY: $crate::mqtt::sink::Key = $crate::mqtt::sink::Key {
            json: concat!("\"", $name, "\":").as_bytes(),
            cbor: &$crate::mqtt::sink::cbor_key::<{ $name.len() + 1 }>($name),
        };
        &KEY
    }};
}
pub(super) use key;

/// The output of one payload.
pub(super) trait Sink {
    /// Opens a map; the value is what [`Self::map_end`] needs back.
    fn map_start(&mut self) -> usize;
    /// The `index`-th key of the open map.
    fn key(&mut self, key: &'static Key, index: usize);
    /// Closes the map opened at `start`, which got `entries` keys.
    fn map_end(&mut self, start: usize, entries: usize);
    /// Opens an array of `len` elements.
    fn array_start(&mut self, len: usize);
    /// Before the `index`-th element.
    fn element(&mut self, index: usize);
    /// Closes the array.
    fn array_end(&mut self);
    /// Any text.
    fn text(&mut self, text: &str);
    /// Text as its UTF-8 bytes (which may need JSON escapes).
    fn text_bytes(&mut self, text: &[u8]);
    /// Text that no JSON string escape applies to (printable ASCII without `"`
    /// or `\`), by construction of its type: tokens, slugs, timestamps, decimals,
    /// the listed codes of a code table.
    fn clean_text(&mut self, text: &[u8]);
    /// A token (ASCII, no JSON escapes).
    fn token(&mut self, token: &Token);
    /// An unsigned integer.
    fn uint(&mut self, value: u64);
    /// `true` or `false`.
    fn boolean(&mut self, value: bool);
    /// A timestamp as its serde form, the ISO 8601 text.
    fn timestamp(&mut self, timestamp: &LabTimestamp);
}

/// Where the last timestamp was written in this payload: the results of a panel
/// usually share their times, and a repeat is then a copy of those bytes.
/// `LabTimestamp` equality is structural (date-time, precision, offset), so equal
/// timestamps have the same text.
#[derive(Default)]
struct TimestampMemo {
    last: Option<(LabTimestamp, Range<usize>)>,
}

impl TimestampMemo {
    /// Writes `timestamp`'s text with `write`, or copies it from where it was
    /// written last.
    fn write(
        &mut self,
        out: &mut Vec<u8>,
        timestamp: &LabTimestamp,
        write: impl FnOnce(&mut Vec<u8>, &[u8]),
    ) {
        if let Some((last, range)) = &self.last
            && last == timestamp
            && range.end <= out.len()
        {
            out.extend_from_within(range.clone());
            return;
        }
        let start = out.len();
        let text = Iso8601::of(timestamp);
        write(out, text.as_bytes());
        self.last = Some((*timestamp, start..out.len()));
    }

    /// Bytes were inserted before the end: the remembered range is stale.
    fn forget(&mut self) {
        self.last = None;
    }
}

/// The serde (and `Display`) form of a [`LabTimestamp`], formatted on the stack
/// without `fmt` machinery: `YYYY`, `-MM`, `-DD`, `Thh`, `:mm`, `:ss`, `.f…` as far
/// as the precision goes (ISO 8601 extended format), then `Z` or `±hh:mm` when the
/// sender gave an offset. A leap second (chrono's second 59 with a nanosecond
/// count of a second or more) is second 60. The model's invariants (year
/// 0000..=9999, 1 to 9 fraction digits, offsets in whole minutes) keep every field
/// in its width; digits beyond a width would be cut as the model's own writer cuts
/// them. A property test holds this to `Display` for arbitrary timestamps.
struct Iso8601 {
    bytes: [u8; 40],
    len: usize,
}

/// `00` to `99`: two digits per lookup.
const TWO_DIGITS: [[u8; 2]; 100] = {
    let mut table = [[0u8; 2]; 100];
    let mut rest: &mut [[u8; 2]] = &mut table;
    let mut value = 0u8;
    // `{rest}` moves the slice out, so the loop can put its tail back.
    while let [pair, tail @ ..] = { rest } {
        *pair = [b'0' + value / 10, b'0' + value % 10];
        rest = tail;
        value += 1;
    }
    table
};

/// The two digits of `value % 100`.
#[inline(always)]
fn two_digits(value: u32) -> [u8; 2] {
    TWO_DIGITS
        .get((value % 100) as usize)
        .copied()
        .unwrap_or_default()
}

impl Iso8601 {
    /// Where the text ends at each precision up to seconds: `YYYY`, `-MM`, `-DD`,
    /// `Thh`, `:mm`, `:ss`.
    const ENDS: [usize; 6] = [4, 7, 10, 13, 16, 19];

    fn of(timestamp: &LabTimestamp) -> Self {
        use chrono::{Datelike, Timelike};
        const NANOS_PER_SECOND: u32 = 1_000_000_000;
        let naive = timestamp.naive();
        let precision = timestamp.precision();
        let rank = match precision {
            Precision::Year => 0,
            Precision::Month => 1,
            Precision::Day => 2,
            Precision::Hour => 3,
            Precision::Minute => 4,
            Precision::Second | Precision::Fraction(_) => 5,
        };
        // The whole `YYYY-MM-DDThh:mm:ss` at fixed places, then cut to the
        // precision: no per-byte length bookkeeping.
        let year = naive.year().unsigned_abs();
        let seconds = naive.num_seconds_from_midnight();
        let nanos = naive.nanosecond();
        let [y0, y1] = two_digits(year / 100);
        let [y2, y3] = two_digits(year);
        let [mo0, mo1] = two_digits(naive.month());
        let [d0, d1] = two_digits(naive.day());
        let [h0, h1] = two_digits(seconds / 3600);
        let [mi0, mi1] = two_digits(seconds / 60 % 60);
        let [s0, s1] = two_digits(seconds % 60 + nanos / NANOS_PER_SECOND);
        let mut bytes = [0u8; 40];
        if let Some((head, _)) = bytes.split_first_chunk_mut::<19>() {
            *head = [
                y0, y1, y2, y3, b'-', mo0, mo1, b'-', d0, d1, b'T', h0, h1, b':', mi0, mi1, b':',
                s0, s1,
            ];
        }
        let mut text = Self {
            bytes,
            len: Self::ENDS.get(rank).copied().unwrap_or(19),
        };
        let digits = precision.fraction_digits();
        if digits > 0 {
            text.push(b'.');
            text.fraction(nanos % NANOS_PER_SECOND, digits);
        }
        if let Some(offset) = timestamp.offset() {
            let seconds = offset.local_minus_utc();
            if seconds == 0 {
                text.push(b'Z');
            } else {
                text.push(if seconds < 0 { b'-' } else { b'+' });
                let seconds = seconds.unsigned_abs();
                let [h0, h1] = two_digits(seconds / 3600);
                let [m0, m1] = two_digits(seconds / 60 % 60);
                text.extend([h0, h1, b':', m0, m1]);
            }
        }
        text
    }

    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }

    fn extend<const N: usize>(&mut self, bytes: [u8; N]) {
        if let Some(room) = self
            .bytes
            .get_mut(self.len..)
            .and_then(<[u8]>::first_chunk_mut::<N>)
        {
            *room = bytes;
            self.len += N;
        }
    }

    /// The first `digits` (1 to 9) digits of a nanosecond count below 10⁹.
    fn fraction(&mut self, nanos: u32, digits: u8) {
        let mut all = [0u8; 9];
        let mut rest = nanos;
        for slot in all.iter_mut().rev() {
            // A digit: below 10.
            *slot = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        for &digit in all.iter().take(usize::from(digits.min(9))) {
            self.push(digit);
        }
    }

    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

/// Compact JSON, as `serde_json::to_writer` writes it.
pub(super) struct JsonSink {
    /// Owned while writing: the compiler then knows that writing the bytes does not
    /// change the `Vec`'s length and capacity, and keeps them in registers.
    out: Vec<u8>,
    timestamps: TimestampMemo,
}

impl JsonSink {
    /// Appends to `out`.
    pub(super) fn new(out: Vec<u8>) -> Self {
        Self {
            out,
            timestamps: TimestampMemo::default(),
        }
    }

    /// The payload.
    pub(super) fn into_inner(self) -> Vec<u8> {
        self.out
    }
}

impl Sink for JsonSink {
    #[inline]
    fn map_start(&mut self) -> usize {
        self.out.push(b'{');
        0
    }

    #[inline]
    fn key(&mut self, key: &'static Key, index: usize) {
        if index > 0 {
            self.out.push(b',');
        }
        // A constant: the copy compiles to stores, not a `memcpy` call. (Choosing
        // between `"k":` and `,"k":` instead makes its length variable: a call.)
        self.out.extend_from_slice(key.json);
    }

    #[inline]
    fn map_end(&mut self, _start: usize, _entries: usize) {
        self.out.push(b'}');
    }

    #[inline]
    fn array_start(&mut self, _len: usize) {
        self.out.push(b'[');
    }

    #[inline]
    fn element(&mut self, index: usize) {
        if index > 0 {
            self.out.push(b',');
        }
    }

    #[inline]
    fn array_end(&mut self) {
        self.out.push(b']');
    }

    #[inline(always)]
    fn text(&mut self, text: &str) {
        json::write_str(&mut self.out, text);
    }

    #[inline]
    fn text_bytes(&mut self, text: &[u8]) {
        json::write_bytes_str(&mut self.out, text);
    }

    #[inline]
    fn token(&mut self, token: &Token) {
        let out = &mut self.out;
        out.reserve(2 + 3 + TOKEN_BODY);
        out.push(b'"');
        out.extend_from_slice(token.prefix());
        out.extend_from_slice(token.body());
        out.push(b'"');
    }

    #[inline]
    fn clean_text(&mut self, text: &[u8]) {
        json::write_clean_str(&mut self.out, text);
    }

    #[inline]
    fn uint(&mut self, value: u64) {
        json::write_u64(&mut self.out, value);
    }

    #[inline]
    fn boolean(&mut self, value: bool) {
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn timestamp(&mut self, timestamp: &LabTimestamp) {
        self.timestamps
            .write(&mut self.out, timestamp, json::write_clean_str);
    }
}

/// CBOR, as `ciborium::into_writer` writes it: structs are maps of the number of
/// fields written, which is only known at the end, so a map starts with a one-byte
/// head that is patched then (or widened, for 24 entries or more).
pub(super) struct CborSink {
    /// Owned while writing: the compiler then knows that writing the bytes does not
    /// change the `Vec`'s length and capacity, and keeps them in registers.
    out: Vec<u8>,
    timestamps: TimestampMemo,
}

impl CborSink {
    /// Appends to `out`.
    pub(super) fn new(out: Vec<u8>) -> Self {
        Self {
            out,
            timestamps: TimestampMemo::default(),
        }
    }

    /// The payload.
    pub(super) fn into_inner(self) -> Vec<u8> {
        self.out
    }
}

impl CborSink {
    /// A map of 24 entries or more: its head needs more than the placeholder byte.
    #[cold]
    fn widen_map_head(&mut self, start: usize, entries: usize) {
        let mut head = Vec::with_capacity(9);
        cbor::write_head(&mut head, cbor::major::MAP, entries as u64);
        self.out.splice(start..=start, head);
        self.timestamps.forget();
    }
}

impl Sink for CborSink {
    #[inline]
    fn map_start(&mut self) -> usize {
        let start = self.out.len();
        self.out.push(0xa0);
        start
    }

    #[inline]
    fn key(&mut self, key: &'static Key, _index: usize) {
        self.out.extend_from_slice(key.cbor);
    }

    #[inline(always)]
    fn map_end(&mut self, start: usize, entries: usize) {
        match u8::try_from(entries) {
            Ok(small) if small < 24 => {
                if let Some(head) = self.out.get_mut(start) {
                    *head = 0xa0 | small;
                }
            }
            _ => self.widen_map_head(start, entries),
        }
    }

    #[inline]
    fn array_start(&mut self, len: usize) {
        cbor::write_head(&mut self.out, cbor::major::ARRAY, len as u64);
    }

    #[inline]
    fn element(&mut self, _index: usize) {}

    #[inline]
    fn array_end(&mut self) {}

    #[inline]
    fn text(&mut self, text: &str) {
        cbor::write_text(&mut self.out, text);
    }

    #[inline]
    fn text_bytes(&mut self, text: &[u8]) {
        cbor::write_text_bytes(&mut self.out, text);
    }

    #[inline]
    fn token(&mut self, token: &Token) {
        // RFC 8949 §3.1: a text of 24 to 255 bytes has its length in one more byte.
        const HEAD: [u8; 2] = [(cbor::major::TEXT << 5) | 24, (3 + TOKEN_BODY) as u8];
        let out = &mut self.out;
        out.reserve(2 + 3 + TOKEN_BODY);
        out.extend_from_slice(&HEAD);
        out.extend_from_slice(token.prefix());
        out.extend_from_slice(token.body());
    }

    #[inline]
    fn clean_text(&mut self, text: &[u8]) {
        cbor::write_text_bytes(&mut self.out, text);
    }

    #[inline]
    fn uint(&mut self, value: u64) {
        cbor::write_head(&mut self.out, cbor::major::UNSIGNED, value);
    }

    #[inline]
    fn boolean(&mut self, value: bool) {
        self.out.push(if value { 0xf5 } else { 0xf4 });
    }

    fn timestamp(&mut self, timestamp: &LabTimestamp) {
        self.timestamps
            .write(&mut self.out, timestamp, cbor::write_text_bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_at_compile_time() {
        let key = key!("reference_range");
        assert_eq!(key.json, b"\"reference_range\":");
        assert_eq!(key.cbor, b"\x6freference_range");
    }

    #[test]
    fn timestamps_are_written_as_their_display_form() {
        for text in [
            "2024",
            "2024-03",
            "2024-03-01",
            "2024-03-01T10",
            "2024-03-01T10:15",
            "2024-03-01T10:15:02",
            "2024-03-01T10:15:02.1",
            "2024-03-01T10:15:02.123456789",
            "2024-03-01T10:15:02.120+01:00",
            "2024-03-01T10:15:02Z",
            "2024-03-01T10:15-05:30",
            "0000-01-01T00:00:00.000000001-23:59",
            "9999-12-31T23:59:60.5+23:59",
            "2016-12-31T23:59:60Z",
        ] {
            let timestamp = LabTimestamp::parse_iso8601(text).unwrap();
            let ours = Iso8601::of(&timestamp);
            assert_eq!(
                std::str::from_utf8(ours.as_bytes()).unwrap(),
                timestamp.to_string(),
                "{text}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_timestamps_are_written_as_their_display_form(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        ) {
            use arbitrary::Arbitrary;
            let Ok(timestamp) = LabTimestamp::arbitrary(&mut arbitrary::Unstructured::new(&bytes)) else {
                return Ok(());
            };
            let ours = Iso8601::of(&timestamp);
            proptest::prop_assert_eq!(std::str::from_utf8(ours.as_bytes()).unwrap(), timestamp.to_string());
        }
    }

    #[test]
    fn big_cbor_maps_get_a_wider_head() {
        let mut sink = CborSink::new(Vec::new());
        let start = sink.map_start();
        for index in 0..30 {
            sink.key(key!("k"), index);
            sink.uint(index as u64);
        }
        sink.map_end(start, 30);
        let out = sink.into_inner();
        assert_eq!(out.first(), Some(&0xb8));
        assert_eq!(out.get(1), Some(&30));
        assert_eq!(out.get(2..4), Some(&b"\x61k"[..]));
    }
}
