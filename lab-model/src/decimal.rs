//! Decimal numbers kept as text, and the comparators that qualify them.
//!
//! A laboratory value carries its significance in its digits: `5.40` says the
//! instrument resolved hundredths, `5.4` does not. A binary float would erase that,
//! so the model keeps the digits it received and never holds an `f64`.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::error::{ModelError, Result};
use crate::inline::InlineAscii;

/// The longest decimal text the model accepts, in bytes.
///
/// No instrument reports a value with more digits (HL7 NM and DICOM DS hold at most 16
/// characters, a double has 17 significant digits); a longer run is garbage, and
/// refusing it keeps a `Decimal` at 32 bytes, stored inline.
pub const MAX_DECIMAL_LEN: usize = 31;

/// A decimal number kept exactly as written, in canonical form.
///
/// The canonical form is `-?(0|[1-9][0-9]*)(\.[0-9]+)?`: an optional minus, an integer
/// part without leading zeros, and an optional fraction with at least one digit. No
/// exponent, no `+`, no grouping, at most [`MAX_DECIMAL_LEN`] bytes. Trailing zeros are
/// kept: they are significant.
///
/// [`Decimal::parse`] accepts only the canonical form. [`Decimal::parse_lenient`]
/// also reads what instruments actually send and normalizes it:
///
/// | input | strict [`parse`](Decimal::parse) | [`parse_lenient`](Decimal::parse_lenient) |
/// |---|---|---|
/// | `5.40` | `5.40` | `5.40` |
/// | `-0.001` | `-0.001` | `-0.001` |
/// | `.5` | error | `0.5` |
/// | `5.` | error | `5` |
/// | `+5` | error | `5` |
/// | `065.88` | error | `65.88` |
/// | `  5.5 ` | error | `5.5` |
/// | `5,5` | error | `5.5` with [`DecimalMark::Comma`] |
/// | `1e3`, `1,000.0`, `NaN` | error | error |
///
/// Equality is textual (`5.40 != 5.4`), because the digits are the data; use
/// [`Decimal::cmp_value`] to compare magnitudes.
///
/// ```
/// use labwire_model::{Decimal, DecimalMark};
///
/// let v = Decimal::parse("5.40")?;
/// assert_eq!(v.as_str(), "5.40");
/// assert_eq!(v.fraction_digits(), 2);
/// assert!(Decimal::parse(".5").is_err());
/// assert_eq!(Decimal::parse_lenient(".5", DecimalMark::Point)?.as_str(), "0.5");
/// assert_eq!(Decimal::parse_lenient(" 7,41", DecimalMark::Comma)?.as_str(), "7.41");
/// # Ok::<(), labwire_model::ModelError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal(InlineAscii<MAX_DECIMAL_LEN>);

/// Which character separates the integer part from the fraction in lenient input.
///
/// European analyzers and LIS configurations write `7,41`; whether a comma is a
/// decimal mark is a property of the connection, never guessed per value.
///
/// JSON (in configuration files): `"point"` or `"comma"`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DecimalMark {
    /// `.` as in `7.41` (the HL7, ASTM and DICOM standards).
    #[default]
    Point,
    /// `,` as in `7,41`; a `.` is then refused.
    Comma,
}

/// `text` without the spaces and tabs it starts with (`trim_start_matches([' ', '\t'])`).
pub(crate) fn trim_blanks_start(text: &str) -> &str {
    let blanks = text
        .as_bytes()
        .iter()
        .take_while(|byte| matches!(byte, b' ' | b'\t'))
        .count();
    // Spaces and tabs are ASCII: the rest starts on a character boundary.
    text.get(blanks..).unwrap_or_default()
}

fn decimal_error(offset: usize, reason: &'static str) -> ModelError {
    ModelError::Decimal { offset, reason }
}

impl Decimal {
    /// Reads a decimal in canonical form only (see the type documentation).
    ///
    /// # Errors
    /// [`ModelError::Decimal`] with the byte offset of the first offending character.
    pub fn parse(text: &str) -> Result<Self> {
        validate_canonical(text.as_bytes())?;
        // Canonical text is ASCII and at most MAX_DECIMAL_LEN bytes (checked above).
        InlineAscii::from_ascii(text.as_bytes())
            .map(Self)
            .ok_or(decimal_error(0, "more digits than any measurement has"))
    }

    /// Reads a decimal as instruments send it and normalizes it to canonical form.
    ///
    /// Relaxations (each documented in the type's table): surrounding ASCII spaces and
    /// tabs, a leading `+`, leading zeros, a missing integer part (`.5`), a trailing
    /// mark without fraction (`5.`), and a comma as decimal mark when `mark` is
    /// [`DecimalMark::Comma`]. An exponent, a thousands separator, or anything else is
    /// still an error, so a value such as `1,000.5` is never misread.
    ///
    /// # Errors
    /// [`ModelError::Decimal`] with the byte offset inside `text`.
    #[inline]
    pub fn parse_lenient(text: &str, mark: DecimalMark) -> Result<Self> {
        match Self::parse_canonical_digits(text.as_bytes(), mark) {
            Some(decimal) => Ok(decimal),
            None => Self::parse_lenient_general(text, mark),
        }
    }

    /// [`Decimal::parse_lenient`] for any text: kept out of line, so that the common
    /// case pays for none of it.
    #[inline(never)]
    fn parse_lenient_general(text: &str, mark: DecimalMark) -> Result<Self> {
        let bytes = text.as_bytes();
        let start = bytes
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t'))
            .unwrap_or(bytes.len());
        let end = bytes
            .iter()
            .rposition(|b| !matches!(b, b' ' | b'\t'))
            .map_or(start, |last| last + 1);
        let body = bytes.get(start..end).unwrap_or_default();
        if body.is_empty() {
            return Err(decimal_error(start, "expected a number"));
        }
        let mark_byte = match mark {
            DecimalMark::Point => b'.',
            DecimalMark::Comma => b',',
        };

        let (negative, digits_start) = match body.first() {
            Some(b'-') => (true, 1),
            Some(b'+') => (false, 1),
            _ => (false, 0),
        };
        let rest = body.get(digits_start..).unwrap_or_default();
        let at = |index: usize| start + digits_start + index;
        // One pass: digits, then at most one mark, then digits.
        let mut mark_at = None;
        for (index, &byte) in rest.iter().enumerate() {
            if byte.is_ascii_digit() {
                continue;
            }
            if byte == mark_byte && mark_at.is_none() {
                mark_at = Some(index);
                continue;
            }
            return Err(match mark_at {
                None => decimal_error(at(index), "expected a digit"),
                Some(_) => decimal_error(at(index), "expected a digit in the fraction"),
            });
        }
        let (int_part, frac_part) = match mark_at {
            Some(at) => (
                rest.get(..at).unwrap_or_default(),
                rest.get(at + 1..).unwrap_or_default(),
            ),
            None => (rest, &[][..]),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(decimal_error(at(0), "expected a digit"));
        }

        // Most values are canonical already (`5.40`, `-2`, `0.5`): copied as they are.
        let canonical = body.first() != Some(&b'+')
            && (int_part.len() == 1 || int_part.first().is_some_and(|&first| first != b'0'))
            && (mark_at.is_none() || (mark_byte == b'.' && !frac_part.is_empty()));
        let joined = if canonical {
            InlineAscii::from_ascii(body)
        } else {
            let significant = int_part
                .iter()
                .position(|&b| b != b'0')
                .map_or(&b"0"[..], |first| int_part.get(first..).unwrap_or(b"0"));
            let sign: &[u8] = if negative { b"-" } else { b"" };
            let point: &[u8] = if frac_part.is_empty() { b"" } else { b"." };
            InlineAscii::from_pieces(&[sign, significant, point, frac_part])
        };
        joined
            .map(Self)
            .ok_or(decimal_error(start, "more digits than any measurement has"))
    }

    /// What most instruments send: a number already in canonical form, without
    /// padding or `+`, with `.` as the mark when the mark is a point (a comma is
    /// always normalized). `None` for anything else, which the general reading of
    /// [`Decimal::parse_lenient`] handles; what this accepts, that reading copies
    /// unchanged, so the result is the same.
    #[inline]
    pub(crate) fn parse_canonical_digits(bytes: &[u8], mark: DecimalMark) -> Option<Self> {
        if mark != DecimalMark::Point {
            return None;
        }
        // Checked and copied in the same pass, byte by byte: a handful of stores cost
        // less than a call to copy a slice.
        let mut text = InlineAscii::new();
        let digits = match bytes {
            [b'-', rest @ ..] => {
                text.push(b'-');
                rest
            }
            _ => bytes,
        };
        let (&lead, rest) = digits.split_first()?;
        if !lead.is_ascii_digit() || !text.push(lead) {
            return None;
        }
        let mut in_fraction = false;
        let mut fraction_digits = 0usize;
        for &byte in rest {
            if byte.is_ascii_digit() {
                // No leading zero in the integer part.
                if !in_fraction && lead == b'0' {
                    return None;
                }
                fraction_digits += usize::from(in_fraction);
            } else if byte == b'.' && !in_fraction {
                in_fraction = true;
            } else {
                return None;
            }
            // Full: longer than MAX_DECIMAL_LEN, which the general reading refuses.
            if !text.push(byte) {
                return None;
            }
        }
        if in_fraction && fraction_digits == 0 {
            return None;
        }
        Some(Self(text))
    }

    /// The same text as ASCII bytes, without the UTF-8 check `as_str` pays.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The canonical text, as it will be written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Whether the number is written with a minus sign.
    #[must_use]
    pub fn is_negative(&self) -> bool {
        self.as_str().starts_with('-')
    }

    /// How many digits follow the decimal point: the resolution the sender stated.
    #[must_use]
    pub fn fraction_digits(&self) -> usize {
        let text = self.as_str();
        text.find('.').map_or(0, |dot| text.len() - dot - 1)
    }

    /// Whether every digit is zero (`0`, `-0.00`).
    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.as_str()
            .bytes()
            .all(|b| matches!(b, b'0' | b'.' | b'-'))
    }

    /// The nearest `f64`, for charts and dashboards that need a number. Lossy by
    /// nature: never store it back into the model.
    #[must_use]
    pub fn to_f64(&self) -> f64 {
        // The canonical grammar is a subset of Rust's float grammar.
        self.as_str().parse().unwrap_or(f64::NAN)
    }

    /// Compares magnitudes exactly, ignoring trailing fraction zeros and the sign of
    /// zero (`5.40` equals `5.4`, `-0` equals `0`).
    #[must_use]
    pub fn cmp_value(&self, other: &Self) -> Ordering {
        let (a_neg, a_int, a_frac) = self.parts();
        let (b_neg, b_int, b_frac) = other.parts();
        let a_neg = a_neg && !self.is_zero();
        let b_neg = b_neg && !other.is_zero();
        match (a_neg, b_neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (negative, _) => {
                // Canonical integer parts have no leading zeros: longer means larger.
                let magnitude = a_int
                    .len()
                    .cmp(&b_int.len())
                    .then_with(|| a_int.cmp(b_int))
                    .then_with(|| a_frac.cmp(b_frac));
                if negative {
                    magnitude.reverse()
                } else {
                    magnitude
                }
            }
        }
    }

    /// Sign, integer digits, and fraction digits without trailing zeros.
    fn parts(&self) -> (bool, &str, &str) {
        let text = self.as_str();
        let (negative, body) = match text.strip_prefix('-') {
            Some(body) => (true, body),
            None => (false, text),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        (negative, int, frac.trim_end_matches('0'))
    }
}

/// Checks the canonical grammar; returns the offset of the first violation.
fn validate_canonical(bytes: &[u8]) -> Result<()> {
    if bytes.len() > MAX_DECIMAL_LEN {
        return Err(decimal_error(0, "more digits than any measurement has"));
    }
    let mut i = usize::from(bytes.first() == Some(&b'-'));
    let int_start = i;
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    match i - int_start {
        0 => return Err(decimal_error(i, "expected a digit")),
        1 => {}
        _ if bytes.get(int_start) == Some(&b'0') => {
            return Err(decimal_error(int_start, "leading zero"));
        }
        _ => {}
    }
    match bytes.get(i) {
        None => return Ok(()),
        Some(b'.') => i += 1,
        Some(_) => return Err(decimal_error(i, "expected a digit or '.'")),
    }
    let frac_start = i;
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if i == frac_start {
        return Err(decimal_error(i, "expected a digit after '.'"));
    }
    if i != bytes.len() {
        return Err(decimal_error(i, "expected a digit"));
    }
    Ok(())
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({})", self.as_str())
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Decimal {
    type Err = ModelError;
    fn from_str(text: &str) -> Result<Self> {
        Self::parse(text)
    }
}

impl TryFrom<&str> for Decimal {
    type Error = ModelError;
    fn try_from(text: &str) -> Result<Self> {
        Self::parse(text)
    }
}

macro_rules! decimal_from_int {
    ($($int:ty),*) => {$(
        impl From<$int> for Decimal {
            fn from(value: $int) -> Self {
                // An integer has at most 20 digits and a sign: it always fits.
                Self(InlineAscii::from_ascii(value.to_string().as_bytes()).unwrap_or(InlineAscii::new()))
            }
        }
    )*};
}
decimal_from_int!(i8, i16, i32, i64, u8, u16, u32, u64);

impl serde::Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Decimal {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(crate::text_serde::TextVisitor {
            parse: Self::parse,
            expecting: "a decimal number as a string, such as \"5.40\"",
        })
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Decimal {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let negative = bool::arbitrary(u)?;
        let int = u64::arbitrary(u)?;
        let frac_digits = u.int_in_range(0..=12)?;
        let mut text = if negative {
            format!("-{int}")
        } else {
            int.to_string()
        };
        if frac_digits > 0 {
            text.push('.');
            for _ in 0..frac_digits {
                text.push(char::from(b'0' + u.int_in_range(0..=9)?));
            }
        }
        // At most 1 + 20 + 1 + 12 canonical ASCII bytes: always valid.
        Self::parse(&text).map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}

/// A comparator qualifying a value or a bound: `<0.5`, `>=10`, `<>0`.
///
/// Only the comparators that change meaning are kept; `=` (allowed by HL7 SN) is no
/// comparator at all, so [`Comparator::strip_prefix`] drops it. The set is closed: a
/// text starting with anything else is not a qualified number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Comparator {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<>` (HL7 SN "not equal")
    Ne,
}

impl Comparator {
    /// Every comparator.
    pub const ALL: [Self; 5] = [Self::Lt, Self::Le, Self::Gt, Self::Ge, Self::Ne];

    /// The comparator's symbol.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Ne => "<>",
        }
    }

    /// Reads a symbol exactly (`<`, `<=`, `>`, `>=`, `<>`).
    #[must_use]
    pub fn from_symbol(symbol: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == symbol)
    }

    /// Splits a leading comparator off a value such as `<=0.25` or `> 15000`.
    ///
    /// Returns the comparator (none for `=` or no symbol) and the rest with leading
    /// spaces removed. The two-character symbols are tried first.
    ///
    /// ```
    /// use labwire_model::Comparator;
    /// assert_eq!(Comparator::strip_prefix("<=0.25"), (Some(Comparator::Le), "0.25"));
    /// assert_eq!(Comparator::strip_prefix("> 15000"), (Some(Comparator::Gt), "15000"));
    /// assert_eq!(Comparator::strip_prefix("=5"), (None, "5"));
    /// assert_eq!(Comparator::strip_prefix("5"), (None, "5"));
    /// ```
    #[must_use]
    pub fn strip_prefix(text: &str) -> (Option<Self>, &str) {
        // Matched on the bytes, the two-character symbols first: values are read by
        // the million, and most have no comparator at all.
        let (comparator, symbol_len) = match text.as_bytes() {
            [b'<', b'=', ..] => (Some(Self::Le), 2),
            [b'>', b'=', ..] => (Some(Self::Ge), 2),
            [b'<', b'>', ..] => (Some(Self::Ne), 2),
            [b'<', ..] => (Some(Self::Lt), 1),
            [b'>', ..] => (Some(Self::Gt), 1),
            [b'=', ..] => (None, 1),
            _ => (None, 0),
        };
        // The symbols are ASCII, so the rest starts on a character boundary.
        let rest = text.get(symbol_len..).unwrap_or_default();
        (comparator, trim_blanks_start(rest))
    }
}

impl fmt::Display for Comparator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Comparator {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Comparator {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Comparator;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("one of \"<\", \"<=\", \">\", \">=\", \"<>\"")
            }
            fn visit_str<E: serde::de::Error>(self, symbol: &str) -> Result<Comparator, E> {
                Comparator::from_symbol(symbol)
                    .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(symbol), &self))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Comparator {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(*u.choose(&Self::ALL)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offset_of(result: Result<Decimal>) -> usize {
        match result {
            Err(ModelError::Decimal { offset, .. }) => offset,
            other => panic!("expected a decimal error, got {other:?}"),
        }
    }

    #[test]
    fn canonical_values_are_kept_digit_for_digit() {
        for text in [
            "5.40",
            "-0.001",
            "0",
            "0.0",
            "-0",
            "123456789.000",
            "10",
            "7",
        ] {
            assert_eq!(Decimal::parse(text).unwrap().as_str(), text);
        }
    }

    #[test]
    fn strict_parse_rejects_non_canonical_forms_with_offsets() {
        assert_eq!(offset_of(Decimal::parse(".5")), 0);
        assert_eq!(offset_of(Decimal::parse("5.")), 2);
        assert_eq!(offset_of(Decimal::parse("+5")), 0);
        assert_eq!(offset_of(Decimal::parse("065.88")), 0);
        assert_eq!(offset_of(Decimal::parse("-065")), 1);
        assert_eq!(offset_of(Decimal::parse("1e3")), 1);
        assert_eq!(offset_of(Decimal::parse("5,5")), 1);
        assert_eq!(offset_of(Decimal::parse("1.2.3")), 3);
        assert_eq!(offset_of(Decimal::parse("")), 0);
        assert_eq!(offset_of(Decimal::parse("-")), 1);
        assert_eq!(offset_of(Decimal::parse(" 5")), 0);
        assert_eq!(offset_of(Decimal::parse("NaN")), 0);
        assert_eq!(offset_of(Decimal::parse("١")), 0); // a non-ASCII digit
    }

    #[test]
    fn lenient_parse_normalizes_what_instruments_send() {
        let lenient = |text| Decimal::parse_lenient(text, DecimalMark::Point).unwrap();
        assert_eq!(lenient(".5").as_str(), "0.5");
        assert_eq!(lenient("-.5").as_str(), "-0.5");
        assert_eq!(lenient("5.").as_str(), "5");
        assert_eq!(lenient("+5").as_str(), "5");
        assert_eq!(lenient("065.88").as_str(), "65.88");
        assert_eq!(lenient("000").as_str(), "0");
        assert_eq!(lenient("  5.5 ").as_str(), "5.5");
        assert_eq!(lenient("\t5.50\t").as_str(), "5.50");
        assert_eq!(lenient("5.40").as_str(), "5.40");
    }

    #[test]
    fn lenient_parse_still_refuses_ambiguous_numbers() {
        let lenient = |text| Decimal::parse_lenient(text, DecimalMark::Point);
        assert_eq!(offset_of(lenient("1,000.5")), 1);
        assert_eq!(offset_of(lenient("1e3")), 1);
        assert_eq!(offset_of(lenient("  ")), 2);
        assert_eq!(offset_of(lenient(" .")), 1);
        assert_eq!(offset_of(lenient("+")), 1);
        assert_eq!(offset_of(lenient("5 5")), 1);
        assert_eq!(offset_of(lenient("-----")), 1);
        assert_eq!(offset_of(lenient("5.5.5")), 3);
        let comma = |text| Decimal::parse_lenient(text, DecimalMark::Comma);
        assert_eq!(comma("7,41").unwrap().as_str(), "7.41");
        assert_eq!(comma("25,2").unwrap().as_str(), "25.2");
        assert_eq!(offset_of(comma("7.41")), 1);
    }

    #[test]
    fn overlong_numbers_are_refused() {
        let long = "1".repeat(MAX_DECIMAL_LEN + 1);
        assert!(Decimal::parse(&long).is_err());
        assert!(Decimal::parse_lenient(&long, DecimalMark::Point).is_err());
        assert!(Decimal::parse(&long[..MAX_DECIMAL_LEN]).is_ok());
        // Leading zeros do not count against the limit once normalized away.
        let padded = format!("{}{}", "0".repeat(100), "5");
        assert_eq!(
            Decimal::parse_lenient(&padded, DecimalMark::Point)
                .unwrap()
                .as_str(),
            "5"
        );
    }

    #[test]
    fn value_comparison_is_exact() {
        let d = |text| Decimal::parse(text).unwrap();
        assert_eq!(d("5.40").cmp_value(&d("5.4")), Ordering::Equal);
        assert_eq!(d("-0").cmp_value(&d("0.00")), Ordering::Equal);
        assert_eq!(d("10").cmp_value(&d("9.999")), Ordering::Greater);
        assert_eq!(d("-10").cmp_value(&d("-9.999")), Ordering::Less);
        assert_eq!(d("0.1").cmp_value(&d("0.09")), Ordering::Greater);
        assert_eq!(d("-0.1").cmp_value(&d("0")), Ordering::Less);
        assert_eq!(d("123").cmp_value(&d("124")), Ordering::Less);
        assert_ne!(d("5.40"), d("5.4"), "equality is textual");
    }

    proptest::proptest! {
        /// `cmp_value` agrees with comparing as floats wherever floats are exact
        /// enough to tell (at most 15 significant digits).
        #[test]
        fn value_comparison_agrees_with_floats(
            a_int in -99_999_999_i64..99_999_999, a_frac in 0_u32..10_000_000, a_digits in 0_usize..7,
            b_int in -99_999_999_i64..99_999_999, b_frac in 0_u32..10_000_000, b_digits in 0_usize..7,
        ) {
            let make = |int: i64, frac: u32, digits: usize| {
                let frac = format!("{frac:07}");
                let text = if digits == 0 { int.to_string() } else { format!("{int}.{}", &frac[..digits]) };
                Decimal::parse(&text).unwrap()
            };
            let (a, b) = (make(a_int, a_frac, a_digits), make(b_int, b_frac, b_digits));
            let floats = a.to_f64().partial_cmp(&b.to_f64()).unwrap();
            proptest::prop_assert_eq!(a.cmp_value(&b), floats, "{} vs {}", a, b);
            proptest::prop_assert_eq!(b.cmp_value(&a), floats.reverse());
        }

        /// Lenient reading of canonical text is the identity, and leading zeros,
        /// a plus sign and padding never change the value read.
        #[test]
        fn lenient_reading_normalizes_without_changing_values(
            int in 0_u64..1_000_000_000, frac in proptest::option::of("[0-9]{1,6}"),
            zeros in 0_usize..4, plus in proptest::bool::ANY, pad in 0_usize..3,
        ) {
            let canonical = match &frac { Some(f) => format!("{int}.{f}"), None => int.to_string() };
            let d = Decimal::parse(&canonical).unwrap();
            proptest::prop_assert_eq!(Decimal::parse_lenient(&canonical, DecimalMark::Point).unwrap(), d);
            let messy = format!(
                "{}{}{}{canonical}{}",
                " ".repeat(pad), if plus { "+" } else { "" }, "0".repeat(zeros), " ".repeat(pad)
            );
            proptest::prop_assert_eq!(Decimal::parse_lenient(&messy, DecimalMark::Point).unwrap(), d);
            let comma = messy.replace('.', ",");
            proptest::prop_assert_eq!(Decimal::parse_lenient(&comma, DecimalMark::Comma).unwrap(), d);
        }
    }

    /// `Comparator::strip_prefix` as it was first written: the reference for the
    /// byte-matching version.
    fn strip_prefix_by_patterns(text: &str) -> (Option<Comparator>, &str) {
        let (comparator, rest) = [
            (Some(Comparator::Le), "<="),
            (Some(Comparator::Ge), ">="),
            (Some(Comparator::Ne), "<>"),
            (Some(Comparator::Lt), "<"),
            (Some(Comparator::Gt), ">"),
            (None, "="),
        ]
        .into_iter()
        .find_map(|(comparator, symbol)| text.strip_prefix(symbol).map(|rest| (comparator, rest)))
        .unwrap_or((None, text));
        (comparator, rest.trim_start_matches([' ', '\t']))
    }

    proptest::proptest! {
        /// The canonical shortcut reads what the general reading reads, or leaves the
        /// text to it; and the two together are `parse_lenient`.
        #[test]
        fn canonical_shortcut_agrees_with_the_general_reading(
            text in "[-+ \t0-9.,e]{0,8}|-?[0-9]{1,40}(\\.[0-9]{0,3})?",
            comma in proptest::bool::ANY,
        ) {
            let mark = if comma { DecimalMark::Comma } else { DecimalMark::Point };
            let general = Decimal::parse_lenient_general(&text, mark);
            if let Some(shortcut) = Decimal::parse_canonical_digits(text.as_bytes(), mark) {
                proptest::prop_assert_eq!(Ok(shortcut), general);
            }
            proptest::prop_assert_eq!(Decimal::parse_lenient(&text, mark), general);
        }

        /// Byte matching splits comparators off as the pattern list does.
        #[test]
        fn strip_prefix_matches_patterns(text in "[<>= \t\u{a0}5x]{0,5}") {
            proptest::prop_assert_eq!(Comparator::strip_prefix(&text), strip_prefix_by_patterns(&text));
        }
    }

    #[test]
    fn canonical_shortcut_takes_only_canonical_text() {
        for canonical in ["0", "-0", "5.40", "-0.001", "123456", "0.5"] {
            let read = Decimal::parse_canonical_digits(canonical.as_bytes(), DecimalMark::Point);
            assert_eq!(
                read.map(|d| d.as_str().to_owned()).as_deref(),
                Some(canonical)
            );
        }
        for other in [
            "", "-", ".5", "5.", "05", "+5", " 5", "5 ", "5,5", "1e3", "--1", "5.4.3",
        ] {
            let read = Decimal::parse_canonical_digits(other.as_bytes(), DecimalMark::Point);
            assert_eq!(read, None, "{other:?}");
        }
        assert_eq!(
            Decimal::parse_canonical_digits(b"5", DecimalMark::Comma),
            None
        );
        let longest = "1".repeat(MAX_DECIMAL_LEN);
        assert!(Decimal::parse_canonical_digits(longest.as_bytes(), DecimalMark::Point).is_some());
        let longer = "1".repeat(MAX_DECIMAL_LEN + 1);
        assert!(Decimal::parse_canonical_digits(longer.as_bytes(), DecimalMark::Point).is_none());
        assert!(Decimal::parse_lenient(&longer, DecimalMark::Point).is_err());
    }

    #[test]
    fn helpers() {
        let d = Decimal::parse("-12.500").unwrap();
        assert!(d.is_negative());
        assert_eq!(d.fraction_digits(), 3);
        assert!((d.to_f64() + 12.5).abs() < f64::EPSILON);
        assert!(Decimal::parse("-0.000").unwrap().is_zero());
        assert_eq!(Decimal::from(-42_i32).as_str(), "-42");
        assert_eq!(format!("{d} {d:?}"), "-12.500 Decimal(-12.500)");
    }

    #[test]
    fn json_is_a_string_and_validated() {
        let d = Decimal::parse("5.40").unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"5.40\"");
        assert_eq!(serde_json::from_str::<Decimal>("\"5.40\"").unwrap(), d);
        assert!(serde_json::from_str::<Decimal>("\".5\"").is_err());
        assert!(serde_json::from_str::<Decimal>("5.40").is_err());
    }

    #[test]
    fn decimal_mark_reads_from_configuration() {
        assert_eq!(
            serde_json::to_string(&DecimalMark::Comma).unwrap(),
            r#""comma""#
        );
        assert_eq!(
            serde_json::from_str::<DecimalMark>(r#""point""#).unwrap(),
            DecimalMark::Point
        );
        assert!(serde_json::from_str::<DecimalMark>(r#""Comma""#).is_err());
        assert_eq!(DecimalMark::default(), DecimalMark::Point);
    }

    #[test]
    fn comparators() {
        for c in Comparator::ALL {
            assert_eq!(Comparator::from_symbol(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<Comparator>(&json).unwrap(), c);
        }
        assert_eq!(Comparator::from_symbol("="), None);
        assert_eq!(Comparator::strip_prefix("<>0"), (Some(Comparator::Ne), "0"));
        assert_eq!(
            Comparator::strip_prefix(">=\t10"),
            (Some(Comparator::Ge), "10")
        );
        assert_eq!(Comparator::strip_prefix(""), (None, ""));
        assert!(serde_json::from_str::<Comparator>("\"=\"").is_err());
    }
}
