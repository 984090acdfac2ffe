//! A CBOR writer: a serde [`Serializer`](serde::Serializer) over a `Vec<u8>` that
//! writes the bytes `ciborium::into_writer` writes.
//!
//! CBOR (RFC 8949) needs no escaping: every item is a head (major type and argument,
//! §3) followed by its bytes, so this is a head encoder and a copy. Heads use the
//! shortest argument form (§4.2.1, "preferred serialization"), as ciborium does;
//! sequences and maps of unknown length are indefinite (§3.2.2) with a break byte,
//! structs are maps with the field count serde passes, enum variants
//! `{variant: value}`, and `is_human_readable` is false, all as in ciborium 0.2.
//!
//! Floats (ciborium picks the shortest of half, single or double precision) and
//! ciborium's tag pseudo-types are left to ciborium through [`Fallback`]; the model
//! has neither.

use std::fmt::{self, Display, Write as _};

use serde::Serialize;
use serde::ser;

use super::json::Fallback;
use super::short::{ShortText, extend_mid, has_short_room};

/// Appends `value` as CBOR to `out`. On [`Fallback`], `out` holds a partial value:
/// the caller truncates it.
pub(super) fn write<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Fallback> {
    value.serialize(&mut CborWriter { out })
}

/// RFC 8949 §3.1 major types.
pub(super) mod major {
    pub(in crate::mqtt) const UNSIGNED: u8 = 0;
    pub(in crate::mqtt) const NEGATIVE: u8 = 1;
    pub(in crate::mqtt) const BYTES: u8 = 2;
    pub(in crate::mqtt) const TEXT: u8 = 3;
    pub(in crate::mqtt) const ARRAY: u8 = 4;
    pub(in crate::mqtt) const MAP: u8 = 5;
    pub(in crate::mqtt) const TAG: u8 = 6;
}

/// RFC 8949 §3.3 simple values and §3.2.1 break.
const FALSE: u8 = 0xf4;
const TRUE: u8 = 0xf5;
const NULL: u8 = 0xf6;
const BREAK: u8 = 0xff;
/// §3.4.3: tags 2 and 3, unsigned and negative bignums.
const TAG_BIGNUM: u64 = 2;
const TAG_NEGATIVE_BIGNUM: u64 = 3;

/// A head with the shortest argument encoding (§3, §4.2.1).
#[inline]
pub(super) fn write_head(out: &mut Vec<u8>, major: u8, argument: u64) {
    let major = major << 5;
    if argument < 24 {
        // Below 24, so the cast cannot truncate.
        out.push(major | argument as u8);
    } else if let Ok(byte) = u8::try_from(argument) {
        out.extend_from_slice(&[major | 24, byte]);
    } else if let Ok(short) = u16::try_from(argument) {
        let [a, b] = short.to_be_bytes();
        out.extend_from_slice(&[major | 25, a, b]);
    } else if let Ok(word) = u32::try_from(argument) {
        let [a, b, c, d] = word.to_be_bytes();
        out.extend_from_slice(&[major | 26, a, b, c, d]);
    } else {
        out.push(major | 27);
        out.extend_from_slice(&argument.to_be_bytes());
    }
}

/// The head of a sequence or map: definite, or indefinite (§3.2.2, additional
/// information 31) when the length is unknown.
fn write_collection_head(out: &mut Vec<u8>, major: u8, len: Option<usize>) {
    match len {
        Some(len) => write_head(out, major, len as u64),
        None => out.push((major << 5) | 31),
    }
}

#[inline]
pub(super) fn write_text(out: &mut Vec<u8>, text: &str) {
    write_text_bytes(out, text.as_bytes());
}

/// A text item from bytes the caller knows to be UTF-8.
#[inline]
pub(super) fn write_text_bytes(out: &mut Vec<u8>, text: &[u8]) {
    match ShortText::of(text) {
        Some((short, _)) if has_short_room(out) => short.write_cbor(out),
        _ => write_long_text(out, text),
    }
}

/// A text over [`ShortText::MAX`] bytes, or one that needs the buffer to grow: the
/// same heads `write_head` writes. Out of line, so the short path calls nothing.
#[inline(never)]
fn write_long_text(out: &mut Vec<u8>, text: &[u8]) {
    out.reserve(text.len() + 9);
    match u8::try_from(text.len()) {
        Ok(len) if len < 24 => out.push((major::TEXT << 5) | len),
        Ok(len) => out.extend_from_slice(&[(major::TEXT << 5) | 24, len]),
        Err(_) => write_head(out, major::TEXT, text.len() as u64),
    }
    if !extend_mid(out, text) {
        out.extend_from_slice(text);
    }
}

fn write_i64(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        // §3.1 major type 1 carries -1 - n; for negative n that is !n.
        write_head(out, major::NEGATIVE, !(value as u64));
    } else {
        write_head(out, major::UNSIGNED, value as u64);
    }
}

/// Integers beyond 64 bits: a bignum (§3.4.3) of the big-endian magnitude without
/// leading zero bytes, as ciborium writes it.
fn write_u128_bignum(out: &mut Vec<u8>, tag: u64, raw: u128) {
    let bytes = raw.to_be_bytes();
    let skip = bytes.iter().take_while(|&&byte| byte == 0).count();
    let magnitude = bytes.get(skip..).unwrap_or_default();
    write_head(out, major::TAG, tag);
    write_head(out, major::BYTES, magnitude.len() as u64);
    out.extend_from_slice(magnitude);
}

struct CborWriter<'o> {
    out: &'o mut Vec<u8>,
}

pub(super) struct Compound<'a, 'o> {
    writer: &'a mut CborWriter<'o>,
    /// An indefinite-length item, closed by a break.
    indefinite: bool,
}

impl<'o> CborWriter<'o> {
    fn open(&mut self, major: u8, len: Option<usize>) -> Compound<'_, 'o> {
        write_collection_head(self.out, major, len);
        Compound {
            writer: self,
            indefinite: len.is_none(),
        }
    }

    /// `{variant: …}`, the externally tagged form of an enum variant.
    fn variant_key(&mut self, variant: &str) {
        write_head(self.out, major::MAP, 1);
        write_text(self.out, variant);
    }
}

/// ciborium's name for its tag and untagged-value pseudo-types.
const CIBORIUM_TAG: &str = "@@TAG@@";

impl<'a, 'o> ser::Serializer for &'a mut CborWriter<'o> {
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
        self.out.push(if value { TRUE } else { FALSE });
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
        if let Ok(small) = i64::try_from(value) {
            return self.serialize_i64(small);
        }
        // Beyond i64 but within ±2^64 is still a plain integer head.
        let (tag, raw) = if value < 0 {
            (TAG_NEGATIVE_BIGNUM, !(value as u128))
        } else {
            (TAG_BIGNUM, value as u128)
        };
        match u64::try_from(raw) {
            Ok(argument) if tag == TAG_BIGNUM => write_head(self.out, major::UNSIGNED, argument),
            Ok(argument) => write_head(self.out, major::NEGATIVE, argument),
            Err(_) => write_u128_bignum(self.out, tag, raw),
        }
        Ok(())
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
        write_head(self.out, major::UNSIGNED, value);
        Ok(())
    }

    fn serialize_u128(self, value: u128) -> Result<(), Fallback> {
        match u64::try_from(value) {
            Ok(small) => write_head(self.out, major::UNSIGNED, small),
            Err(_) => write_u128_bignum(self.out, TAG_BIGNUM, value),
        }
        Ok(())
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
        write_text(self.out, value);
        Ok(())
    }

    fn serialize_bytes(self, value: &[u8]) -> Result<(), Fallback> {
        write_head(self.out, major::BYTES, value.len() as u64);
        self.out.extend_from_slice(value);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Fallback> {
        self.out.push(NULL);
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Fallback> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Fallback> {
        self.serialize_none()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Fallback> {
        self.serialize_none()
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
        name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Fallback> {
        if name == CIBORIUM_TAG {
            return Err(Fallback);
        }
        self.variant_key(variant);
        value.serialize(self)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a, 'o>, Fallback> {
        Ok(self.open(major::ARRAY, len))
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
        name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a, 'o>, Fallback> {
        if name == CIBORIUM_TAG {
            return Err(Fallback);
        }
        self.variant_key(variant);
        self.serialize_seq(Some(len))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a, 'o>, Fallback> {
        Ok(self.open(major::MAP, len))
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'a, 'o>, Fallback> {
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

    /// Formats straight into the output, then puts the text head in front: the
    /// length is only known afterwards.
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<(), Fallback> {
        let start = self.out.len();
        let mut text = VecText {
            out: &mut *self.out,
        };
        write!(text, "{value}").map_err(|_| Fallback)?;
        let len = self.out.len().saturating_sub(start);
        let mut head = Vec::with_capacity(9);
        write_head(&mut head, major::TEXT, len as u64);
        self.out.splice(start..start, head);
        Ok(())
    }

    fn is_human_readable(&self) -> bool {
        false
    }
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

impl Compound<'_, '_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        value.serialize(&mut *self.writer)
    }

    fn finish(self) -> Result<(), Fallback> {
        if self.indefinite {
            self.writer.out.push(BREAK);
        }
        Ok(())
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        self.element(value)
    }

    fn end(self) -> Result<(), Fallback> {
        self.finish()
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        self.element(value)
    }

    fn end(self) -> Result<(), Fallback> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        self.element(value)
    }

    fn end(self) -> Result<(), Fallback> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        self.element(value)
    }

    fn end(self) -> Result<(), Fallback> {
        self.finish()
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Fallback> {
        self.element(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        self.element(value)
    }

    fn end(self) -> Result<(), Fallback> {
        self.finish()
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
        write_text(self.writer.out, key);
        self.element(value)
    }

    fn end(self) -> Result<(), Fallback> {
        self.finish()
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
        write_text(self.writer.out, key);
        self.element(value)
    }

    fn end(self) -> Result<(), Fallback> {
        self.finish()
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

    fn reference<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(value, &mut out).unwrap();
        out
    }

    fn same_as_ciborium<T: Serialize + ?Sized>(value: &T) {
        assert_eq!(fast(value).unwrap(), reference(value));
    }

    #[test]
    fn heads_use_the_shortest_argument() {
        for value in [
            0u64,
            23,
            24,
            255,
            256,
            65_535,
            65_536,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
            u64::MAX,
        ] {
            same_as_ciborium(&value);
        }
        for value in [-1i64, -24, -25, -256, -257, -65_537, i64::MIN] {
            same_as_ciborium(&value);
        }
        for value in [
            i128::MIN,
            -(1i128 << 64),
            -(1i128 << 64) - 1,
            i128::from(i64::MIN) - 1,
            i128::from(u64::MAX),
            i128::from(u64::MAX) + 1,
            i128::MAX,
        ] {
            same_as_ciborium(&value);
        }
        same_as_ciborium(&u128::MAX);
        same_as_ciborium(&(u128::from(u64::MAX) + 1));
        same_as_ciborium(&"x".repeat(70_000));
    }

    #[test]
    fn writes_the_serde_data_model_as_ciborium_does() {
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
            Struct { a: u8 },
        }
        #[derive(Serialize)]
        #[serde(tag = "kind")]
        enum Tagged {
            Inner {
                #[serde(skip_serializing_if = "Option::is_none")]
                a: Option<u8>,
            },
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
        same_as_ciborium(&(true, false, 'x', "text", (), None::<u8>, Some(4)));
        same_as_ciborium(&(Unit, Newtype(3), Tuple(1, "a")));
        same_as_ciborium(&[
            Enum::Unit,
            Enum::Newtype(-5),
            Enum::Tuple(1, 2),
            Enum::Struct { a: 1 },
        ]);
        same_as_ciborium(&[
            Tagged::Inner { a: None },
            Tagged::Wrapped(Newtype2 { b: true }),
        ]);
        same_as_ciborium(&Flattened {
            a: 1,
            rest: [("x".to_owned(), 2)].into(),
        });
        same_as_ciborium(&BTreeMap::from([(1u32, "a"), (2, "b")]));
        same_as_ciborium(&format_args!("{}-{}", "a", 5));
        same_as_ciborium(&format_args!("{}", "y".repeat(300)));
        same_as_ciborium(&crate::LabTimestamp::parse_rfc3339("2024-03-01T09:15:12.5Z").unwrap());
        struct Bytes;
        impl Serialize for Bytes {
            fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_bytes(&[1, 2, 3])
            }
        }
        same_as_ciborium(&Bytes);
        /// A sequence of unknown length, as iterator adapters serialize.
        struct Unsized;
        impl Serialize for Unsized {
            fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq((0..3).filter(|n| n % 2 == 0))
            }
        }
        same_as_ciborium(&Unsized);
    }

    #[test]
    fn leaves_floats_to_ciborium() {
        assert_eq!(fast(&1.5f64), Err(Fallback));
        assert_eq!(fast(&[0.25f32]), Err(Fallback));
    }

    #[test]
    fn short_texts_are_the_same_whatever_room_the_buffer_has() {
        // The short path needs 24 bytes of spare capacity; with less, the long
        // path writes (and grows). Both must give the same bytes.
        let text: String = ('a'..='z').collect();
        for len in 0..=text.len() {
            let part = &text[..len];
            for spare in 0..=30 {
                let mut out = Vec::with_capacity(3 + spare);
                out.extend_from_slice(b"xyz");
                out.shrink_to(3 + spare);
                write_text_bytes(&mut out, part.as_bytes());
                assert_eq!(
                    out,
                    [&b"xyz"[..], &reference(&part)].concat(),
                    "{len} {spare}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn strings_and_integers_are_written_as_ciborium_does(
            text in any::<String>(), a in any::<i64>(), b in any::<u64>(), c in any::<i128>(),
        ) {
            prop_assert_eq!(fast(&(&text, a, b, c)).unwrap(), reference(&(&text, a, b, c)));
        }
    }
}
