//! A compact JSON writer: a serde [`Serializer`](serde::Serializer) over a
//! `Vec<u8>` that writes the bytes `serde_json::to_writer` writes, faster. It writes
//! the payloads of every event but results (see [`super::report`]), and its string
//! writer serves both.
//!
//! `serde_json` escapes strings one byte at a time and pushes every fragment through
//! `io::Write`; on a lab payload, which is mostly short clean strings, that is most
//! of the mapping's time. This writer checks eight bytes per step for a byte that
//! needs escaping (`"`, `\`, a control character: RFC 8259 §7) and copies clean runs
//! in one piece.
//!
//! Exactness is the contract: the payload goldens and a property test over arbitrary
//! events hold it to `serde_json`'s bytes. Where matching `serde_json` would need its
//! number formatting (floats) or its error messages (non-string map keys, failing
//! `Serialize` impls), the writer gives up with [`Fallback`] and the caller writes the
//! value with `serde_json` instead, so the output is the same either way.

use std::fmt::{self, Display, Write as _};

use serde::Serialize;
use serde::ser::{self, Impossible};

use super::short::{ShortText, extend_mid, has_short_room, word_needs_escape};

/// The writer gave up: write this value with `serde_json`, which produces the same
/// bytes or the real error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fallback;

impl Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not written by the fast writer")
    }
}

impl std::error::Error for Fallback {}

impl ser::Error for Fallback {
    fn custom<T: Display>(_message: T) -> Self {
        Fallback
    }
}

/// Appends `value` as compact JSON to `out`. On [`Fallback`], `out` holds a partial
/// value: the caller truncates it.
pub(super) fn write<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Fallback> {
    value.serialize(&mut JsonWriter { out })
}

/// Appends `text` as a JSON string, quotes included.
#[inline]
pub(super) fn write_str(out: &mut Vec<u8>, text: &str) {
    write_bytes_str(out, text.as_bytes());
}

/// Appends UTF-8 `text` as a JSON string, quotes included.
#[inline]
pub(super) fn write_bytes_str(out: &mut Vec<u8>, text: &[u8]) {
    match ShortText::of(text) {
        Some((short, false)) if has_short_room(out) => short.write_json(out),
        _ => write_long_str(out, text),
    }
}

/// Appends `text`, which needs no escape by construction of its type (tokens,
/// slugs, message ids, timestamps), as a JSON string.
#[inline]
pub(super) fn write_clean_str(out: &mut Vec<u8>, text: &[u8]) {
    match ShortText::of(text) {
        Some((short, _)) if has_short_room(out) => short.write_json(out),
        _ => write_long_clean(out, text),
    }
}

/// [`write_long_clean_str`] out of line: the short path stays a leaf.
#[inline(never)]
fn write_long_clean(out: &mut Vec<u8>, bytes: &[u8]) {
    write_long_clean_str(out, bytes);
}

/// A string over [`ShortText::MAX`] bytes, or one that needs escapes.
#[inline(never)]
fn write_long_str(out: &mut Vec<u8>, bytes: &[u8]) {
    if is_clean(bytes) {
        write_long_clean_str(out, bytes);
    } else {
        write_escaped_str(out, bytes);
    }
}

#[inline]
fn write_long_clean_str(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if !extend_mid(out, bytes) {
        out.extend_from_slice(bytes);
    }
    out.push(b'"');
}

#[cold]
fn write_escaped_str(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 8);
    out.push(b'"');
    write_str_contents(out, bytes);
    out.push(b'"');
}

/// Appends the escaped contents of a JSON string (RFC 8259 §7): `"` and `\` get a
/// backslash, control characters U+0000..U+001F their short form (`\n`) or `\u00XX`
/// with lowercase hex digits, as `serde_json` writes them; everything else is copied.
fn write_str_contents(out: &mut Vec<u8>, mut bytes: &[u8]) {
    loop {
        let clean = clean_prefix_len(bytes);
        let Some((run, rest)) = bytes.split_at_checked(clean) else {
            // `clean` never exceeds the length; copy everything if it somehow did.
            out.extend_from_slice(bytes);
            return;
        };
        out.extend_from_slice(run);
        let Some((&byte, rest)) = rest.split_first() else {
            return;
        };
        write_escape(out, byte);
        bytes = rest;
    }
}

fn write_escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match byte {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => {
            let digit = |nibble: u8| HEX.get(usize::from(nibble & 0x0f)).copied().unwrap_or(b'0');
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', digit(byte >> 4), digit(byte)]);
            return;
        }
    };
    out.extend_from_slice(&[b'\\', short]);
}

/// Whether a byte must be escaped in a JSON string.
const fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

fn word_at(chunk: &[u8; 8]) -> u64 {
    u64::from_le_bytes(*chunk)
}

/// Whether no byte of `bytes` must be escaped: whole words, then the last eight
/// bytes again (overlapping) for the tail, so short and long texts take no byte loop.
#[inline]
fn is_clean(bytes: &[u8]) -> bool {
    if bytes.len() < 8 {
        // 4 to 7 bytes as one word of two overlapping halves; shorter byte by byte.
        return match (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
            (Some(first), Some(last)) => {
                let word = u64::from(u32::from_le_bytes(*first))
                    | (u64::from(u32::from_le_bytes(*last)) << 32);
                !word_needs_escape(word)
            }
            _ => !bytes.iter().any(|&byte| needs_escape(byte)),
        };
    }
    let (words, _) = bytes.as_chunks::<8>();
    if words.iter().any(|word| word_needs_escape(word_at(word))) {
        return false;
    }
    match bytes.last_chunk::<8>() {
        Some(last) => !word_needs_escape(word_at(last)),
        None => true,
    }
}

/// The length of the longest prefix of `bytes` without a byte to escape.
fn clean_prefix_len(bytes: &[u8]) -> usize {
    let (words, _) = bytes.as_chunks::<8>();
    let mut clean = 0usize;
    for word in words {
        if word_needs_escape(word_at(word)) {
            break;
        }
        clean += 8;
    }
    let rest = bytes.get(clean..).unwrap_or_default();
    clean
        + rest
            .iter()
            .position(|&b| needs_escape(b))
            .unwrap_or(rest.len())
}

/// Decimal digits of an unsigned integer, as `itoa` (and so `serde_json`) writes them.
pub(super) fn write_u64(out: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(slot) = digits.get_mut(start) {
            // `value % 10` is below 10, so the cast cannot truncate.
            *slot = b'0' + (value % 10) as u8;
        }
        value /= 10;
        if value == 0 || start == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(start..).unwrap_or_default());
}

fn write_i64(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    write_u64(out, value.unsigned_abs());
}

fn write_display(out: &mut Vec<u8>, value: impl Display) -> Result<(), Fallback> {
    let mut adapter = VecText { out };
    write!(adapter, "{value}").map_err(|_| Fallback)
}

/// `fmt::Write` appending raw text to the output.
struct VecText<'o> {
    out: &'o mut Vec<u8>,
}

impl fmt::Write for VecText<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.out.extend_from_slice(text.as_bytes());
        Ok(())
    }
}

struct JsonWriter<'o> {
    out: &'o mut Vec<u8>,
}

/// Where a compound is: `serde_json`'s `State`. `Empty` is a sequence or map whose
/// declared length was zero, already closed when it was opened.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Empty,
    First,
    Rest,
}

pub(super) struct Compound<'a, 'o> {
    writer: &'a mut JsonWriter<'o>,
    state: State,
}

impl Compound<'_, '_> {
    fn separator(&mut self) {
        if self.state != State::First {
            self.writer.out.push(b',');
        }
        self.state = State::Rest;
    }
}

impl<'o> JsonWriter<'o> {
    fn open(&mut self, open: u8, close: u8, len: Option<usize>) -> Compound<'_, 'o> {
        self.out.push(open);
        let state = if len == Some(0) {
            self.out.push(close);
            State::Empty
        } else {
            State::First
        };
        Compound {
            writer: self,
            state,
        }
    }

    /// `{"variant":` before the value of an externally tagged variant.
    fn variant_key(&mut self, variant: &str) {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.push(b':');
    }
}

impl<'a, 'o> ser::Serializer for &'a mut JsonWriter<'o> {
    type Ok = ();
    type Error = Fallback;
    type SerializeSeq = Compound<'a, 'o>;
    type SerializeTuple = Compound<'a, 'o>;
    type SerializeTupleStruct = Compound<'a, 'o>;
    type SerializeTupleVariant = Compound<'a, 'o>;
    type SerializeMap = Compound<'a, 'o>;
    type SerializeStruct = Compound<'a, 'o>;
    type SerializeStructVariant = Compound<'a, 'o>;

    fn serialize_bool(self, value: bool) -> Result<(), Fallback> {
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, value: i8) -> Result<(), Fallback> {
        self.serialize_i64(value.into())
    }

    fn serialize_i16(self, value: i16) -> Result<(), Fallback> {
        self.serialize_i64(value.into())
    }

    fn serialize_i32(self, value: i32) -> Result<(), Fallback> {
        self.serialize_i64(value.into())
    }

    fn serialize_i64(self, value: i64) -> Result<(), Fallback> {
        write_i64(self.out, value);
        Ok(())
    }

    fn serialize_i128(self, value: i128) -> Result<(), Fallback> {
        write_display(self.out, value)
    }

    fn serialize_u8(self, value: u8) -> Result<(), Fallback> {
        self.serialize_u64(value.into())
    }

    fn serialize_u16(self, value: u16) -> Result<(), Fallback> {
        self.serialize_u64(value.into())
    }

    fn serialize_u32(self, value: u32) -> Result<(), Fallback> {
        self.serialize_u64(value.into())
    }

    fn serialize_u64(self, value: u64) -> Result<(), Fallback> {
        write_u64(self.out, value);
        Ok(())
    }

    fn serialize_u128(self, value: u128) -> Result<(), Fallback> {
        write_display(self.out, value)
    }

    /// `serde_json` formats floats with `ryu`; the model has none (decimals are text).
    fn serialize_f32(self, _value: f32) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_f64(self, _value: f64) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_char(self, value: char) -> Result<(), Fallback> {
        self.serialize_str(value.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, value: &str) -> Result<(), Fallback> {
        write_str(self.out, value);
        Ok(())
    }

    /// An array of numbers, as `serde_json` writes bytes.
    fn serialize_bytes(self, value: &[u8]) -> Result<(), Fallback> {
        self.out.push(b'[');
        for (index, byte) in value.iter().enumerate() {
            if index > 0 {
                self.out.push(b',');
            }
            write_u64(self.out, u64::from(*byte));
        }
        self.out.push(b']');
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Fallback> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Fallback> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Fallback> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Fallback> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Fallback> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Fallback> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Fallback> {
        self.variant_key(variant);
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a, 'o>, Fallback> {
        Ok(self.open(b'[', b']', len))
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'a, 'o>, Fallback> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'a, 'o>, Fallback> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a, 'o>, Fallback> {
        self.variant_key(variant);
        self.serialize_seq(Some(len))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a, 'o>, Fallback> {
        Ok(self.open(b'{', b'}', len))
    }

    /// `serde_json`'s own number and raw-value tokens are structs with private names;
    /// leave those to it.
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Compound<'a, 'o>, Fallback> {
        if name.starts_with("$serde_json::private::") {
            return Err(Fallback);
        }
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a, 'o>, Fallback> {
        self.variant_key(variant);
        self.serialize_map(Some(len))
    }

    /// Formats straight into the output, then escapes in place if the text needs it.
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<(), Fallback> {
        self.out.push(b'"');
        let start = self.out.len();
        write_display(self.out, value)?;
        let written = self.out.get(start..).unwrap_or_default();
        if !is_clean(written) {
            let raw = self.out.split_off(start);
            write_str_contents(self.out, &raw);
        }
        self.out.push(b'"');
        Ok(())
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        self.separator();
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), Fallback> {
        if self.state != State::Empty {
            self.writer.out.push(b']');
        }
        Ok(())
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Result<(), Fallback> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Result<(), Fallback> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Result<(), Fallback> {
        let out = &mut *self.writer.out;
        if self.state != State::Empty {
            out.push(b']');
        }
        out.push(b'}');
        Ok(())
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Fallback> {
        self.separator();
        key.serialize(MapKey {
            out: &mut *self.writer.out,
        })
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        self.writer.out.push(b':');
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), Fallback> {
        if self.state != State::Empty {
            self.writer.out.push(b'}');
        }
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Fallback> {
        self.separator();
        let out = &mut *self.writer.out;
        write_str(out, key);
        out.push(b':');
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), Fallback> {
        ser::SerializeMap::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Fallback> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }

    fn end(self) -> Result<(), Fallback> {
        let out = &mut *self.writer.out;
        if self.state != State::Empty {
            out.push(b'}');
        }
        out.push(b'}');
        Ok(())
    }
}

/// A map key: JSON object keys are strings, so strings are written as such and
/// integers and booleans quoted, as `serde_json` does. Anything else is an error
/// there, so it is left to `serde_json`.
struct MapKey<'o> {
    out: &'o mut Vec<u8>,
}

impl MapKey<'_> {
    fn quoted(self, write: impl FnOnce(&mut Vec<u8>)) -> Result<(), Fallback> {
        self.out.push(b'"');
        write(self.out);
        self.out.push(b'"');
        Ok(())
    }
}

impl ser::Serializer for MapKey<'_> {
    type Ok = ();
    type Error = Fallback;
    type SerializeSeq = Impossible<(), Fallback>;
    type SerializeTuple = Impossible<(), Fallback>;
    type SerializeTupleStruct = Impossible<(), Fallback>;
    type SerializeTupleVariant = Impossible<(), Fallback>;
    type SerializeMap = Impossible<(), Fallback>;
    type SerializeStruct = Impossible<(), Fallback>;
    type SerializeStructVariant = Impossible<(), Fallback>;

    fn serialize_bool(self, value: bool) -> Result<(), Fallback> {
        self.quoted(|out| out.extend_from_slice(if value { b"true" } else { b"false" }))
    }

    fn serialize_i8(self, value: i8) -> Result<(), Fallback> {
        self.serialize_i64(value.into())
    }

    fn serialize_i16(self, value: i16) -> Result<(), Fallback> {
        self.serialize_i64(value.into())
    }

    fn serialize_i32(self, value: i32) -> Result<(), Fallback> {
        self.serialize_i64(value.into())
    }

    fn serialize_i64(self, value: i64) -> Result<(), Fallback> {
        self.quoted(|out| write_i64(out, value))
    }

    fn serialize_u8(self, value: u8) -> Result<(), Fallback> {
        self.serialize_u64(value.into())
    }

    fn serialize_u16(self, value: u16) -> Result<(), Fallback> {
        self.serialize_u64(value.into())
    }

    fn serialize_u32(self, value: u32) -> Result<(), Fallback> {
        self.serialize_u64(value.into())
    }

    fn serialize_u64(self, value: u64) -> Result<(), Fallback> {
        self.quoted(|out| write_u64(out, value))
    }

    fn serialize_f32(self, _value: f32) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_f64(self, _value: f64) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_char(self, value: char) -> Result<(), Fallback> {
        self.serialize_str(value.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, value: &str) -> Result<(), Fallback> {
        write_str(self.out, value);
        Ok(())
    }

    fn serialize_bytes(self, _value: &[u8]) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_none(self) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Fallback> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Fallback> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Fallback> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Fallback> {
        Err(Fallback)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Fallback> {
        Err(Fallback)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Fallback> {
        Err(Fallback)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Fallback> {
        Err(Fallback)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Fallback> {
        Err(Fallback)
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Fallback> {
        Err(Fallback)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Fallback> {
        Err(Fallback)
    }

    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<(), Fallback> {
        let start = self.out.len();
        write_display(self.out, value)?;
        let raw = self.out.split_off(start);
        let text = std::str::from_utf8(&raw).map_err(|_| Fallback)?;
        write_str(self.out, text);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use proptest::prelude::*;

    fn fast<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Fallback> {
        let mut out = Vec::new();
        write(&mut out, value).map(|()| out)
    }

    fn same_as_serde_json<T: Serialize + ?Sized>(value: &T) {
        assert_eq!(
            String::from_utf8(fast(value).unwrap()).unwrap(),
            serde_json::to_string(value).unwrap()
        );
    }

    #[test]
    fn escapes_as_serde_json_does() {
        for text in [
            "",
            "plain",
            "\"",
            "\\",
            "a\"b\\c",
            "\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1f}\u{7f} ",
            "exactly8",
            "sixteen bytes!!!",
            "seventeen bytes!\"",
            "ü € 😀 / ' < > &",
            "long clean run of text before the quote at the end of it\"",
            "\u{1f}1234567\u{1f}1234567",
        ] {
            same_as_serde_json(text);
        }
    }

    #[test]
    fn writes_the_serde_data_model_as_serde_json_does() {
        #[derive(Serialize)]
        struct Unit;
        #[derive(Serialize)]
        struct Newtype(u8);
        #[derive(Serialize)]
        struct Tuple(u8, &'static str);
        #[derive(Serialize)]
        enum Enum {
            Unit,
            Newtype(i32),
            Tuple(u8, u8),
            EmptyTuple(),
            Struct { a: u8 },
            EmptyStruct {},
        }
        #[derive(Serialize)]
        #[serde(tag = "kind")]
        enum Tagged {
            Inner { a: Option<u8> },
            Wrapped(Newtype2),
        }
        #[derive(Serialize)]
        struct Newtype2 {
            b: bool,
        }
        #[derive(Serialize)]
        struct Flattened {
            a: u8,
            #[serde(flatten)]
            rest: BTreeMap<String, u8>,
        }
        same_as_serde_json(&(true, false, -1i8, i16::MIN, i32::MAX, i64::MIN, u64::MAX));
        same_as_serde_json(&(i128::MIN, u128::MAX, 0u8, 'x', '"'));
        same_as_serde_json(&(Unit, Newtype(3), Tuple(1, "a"), (), None::<u8>, Some(4)));
        same_as_serde_json(&[Enum::Unit, Enum::Newtype(-5), Enum::Tuple(1, 2)]);
        same_as_serde_json(&[
            Enum::EmptyTuple(),
            Enum::Struct { a: 1 },
            Enum::EmptyStruct {},
        ]);
        same_as_serde_json(&[
            Tagged::Inner { a: None },
            Tagged::Wrapped(Newtype2 { b: true }),
        ]);
        same_as_serde_json(&Flattened {
            a: 1,
            rest: [("x\"".to_owned(), 2)].into(),
        });
        same_as_serde_json(&serde_bytes_like(&[0, 1, 255]));
        same_as_serde_json(&Vec::<u8>::new());
        same_as_serde_json(&BTreeMap::<String, u8>::new());
        same_as_serde_json(&BTreeMap::from([(1u32, "a"), (2, "b")]));
        same_as_serde_json(&BTreeMap::from([(-1i64, ())]));
        same_as_serde_json(&BTreeMap::from([(true, 1u8)]));
        same_as_serde_json(&BTreeMap::from([('k', 1u8)]));
        same_as_serde_json(&format_args!("{}\n{}", "a\"", 5));
        same_as_serde_json(&crate::LabTimestamp::parse_rfc3339("2024-03-01T09:15:12.5Z").unwrap());
    }

    /// Bytes through `serialize_bytes`, the way `serde_bytes` writes them.
    fn serde_bytes_like(bytes: &[u8]) -> impl Serialize + '_ {
        struct Bytes<'b>(&'b [u8]);
        impl Serialize for Bytes<'_> {
            fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_bytes(self.0)
            }
        }
        Bytes(bytes)
    }

    #[test]
    fn leaves_floats_odd_keys_and_failures_to_serde_json() {
        assert_eq!(fast(&1.5f64), Err(Fallback));
        assert_eq!(fast(&[0.25f32]), Err(Fallback));
        assert_eq!(fast(&BTreeMap::from([((1u8, 2u8), 3u8)])), Err(Fallback));
        assert_eq!(fast(&BTreeMap::from([(None::<u8>, 3u8)])), Err(Fallback));
        struct Failing;
        impl Serialize for Failing {
            fn serialize<S: ser::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(ser::Error::custom("no"))
            }
        }
        assert_eq!(fast(&Failing), Err(Fallback));
    }

    #[test]
    fn short_strings_are_the_same_whatever_room_the_buffer_has() {
        // The short path needs 24 bytes of spare capacity; with less, the long
        // path writes (and grows). Both must give the same bytes.
        let text: String = ('a'..='z').chain(['"', '\\', '\n']).collect();
        for len in 0..=text.len() {
            let part = &text[..len];
            let expected = serde_json::to_vec(part).unwrap();
            for spare in 0..=30 {
                for clean in [false, true] {
                    if clean && part.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
                        continue;
                    }
                    let mut out = Vec::with_capacity(3 + spare);
                    out.extend_from_slice(b"xyz");
                    out.shrink_to(3 + spare);
                    let room = out.capacity() - out.len();
                    if clean {
                        write_clean_str(&mut out, part.as_bytes());
                    } else {
                        write_bytes_str(&mut out, part.as_bytes());
                    }
                    assert_eq!(
                        out,
                        [&b"xyz"[..], &expected].concat(),
                        "{len} {room} {clean}"
                    );
                }
            }
        }
    }

    proptest! {
        #[test]
        fn any_string_is_escaped_as_serde_json_does(text in any::<String>()) {
            prop_assert_eq!(
                String::from_utf8(fast(&text).unwrap()).unwrap(),
                serde_json::to_string(&text).unwrap()
            );
        }

        #[test]
        fn ascii_with_many_escapes_is_escaped_as_serde_json_does(
            bytes in proptest::collection::vec(prop_oneof![0u8..0x20, Just(b'"'), Just(b'\\'), 0x20u8..0x80], 0..80),
        ) {
            let text = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(
                String::from_utf8(fast(&text).unwrap()).unwrap(),
                serde_json::to_string(&text).unwrap()
            );
        }

        #[test]
        fn integers_are_written_as_serde_json_does(a in any::<i64>(), b in any::<u64>(), c in any::<i128>()) {
            prop_assert_eq!(
                String::from_utf8(fast(&(a, b, c)).unwrap()).unwrap(),
                serde_json::to_string(&(a, b, c)).unwrap()
            );
        }
    }
}
