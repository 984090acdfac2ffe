//! Character sets: MSH-18 (HL7 table 0211) and decoding of values to text.
//!
//! The structure of a message is parsed on bytes (all delimiters are ASCII), and each value
//! is turned into text only when asked, through the charset named in the first repetition
//! of MSH-18. Decoding borrows the input whenever it is ASCII or valid UTF-8 (for the
//! UTF-8 family) and allocates only to transcode single-byte charsets or repair bad bytes.
//!
//! | MSH-18 (case-insensitive, trimmed) | [`Charset`] | Notes |
//! |---|---|---|
//! | empty, `ASCII`, `ISO IR6`, `US-ASCII` | [`Charset::Ascii`] | table 0211 default is 7-bit ASCII |
//! | `8859/1`, `ISO-8859-1`, `ISO 8859-1`, `ISO8859-1`, `ISO IR100`, `LATIN1`, `LATIN-1` | [`Charset::Latin1`] | each byte is the code point |
//! | `8859/15`, `ISO-8859-15`, `ISO 8859-15`, `ISO8859-15`, `LATIN9`, `LATIN-9` | [`Charset::Latin9`] | Latin-1 with € Š š Ž ž Œ œ Ÿ |
//! | `WINDOWS-1252`, `CP1252` | [`Charset::Windows1252`] | not in table 0211; seen in the wild |
//! | `UNICODE UTF-8`, `UNICODE`, `UTF-8`, `UTF8`, `ISO IR192` | [`Charset::Utf8`] | `UNICODE` (v2.3.1) is read as UTF-8: UTF-16 could not have been split on single-byte delimiters |
//! | `8859/2` … `8859/9`, `ISO IR14`, `ISO IR87`, `ISO IR159`, `GB 18030-2000`, `KS X 1001`, `CNS 11643-1992`, `BIG-5`, `UNICODE UTF-16`, `UNICODE UTF-32` | unsupported | warning, decoded with the fallback |
//! | anything else (e.g. `8859`) | unknown | warning, decoded with the fallback |
//!
//! Decisions (lenient mode, the default):
//! * **ASCII declared, bytes above 0x7F found**: the value is decoded as
//!   [`Charset::Auto`] (UTF-8 if it is valid UTF-8, else Windows-1252) with a
//!   [`CharsetProblem::NonAscii`] warning. Real feeds leave MSH-18 empty and send UTF-8 or
//!   Windows-1252 names; Windows-1252 is a superset of Latin-1's printable characters.
//! * **UTF-8 declared, invalid sequence**: each invalid sequence becomes U+FFFD, with one
//!   [`CharsetProblem::InvalidUtf8`] warning per value naming the first bad byte's offset.
//! * **Unsupported or unknown MSH-18**: one warning at parse time, then values are decoded
//!   with `ParseOptions::fallback_charset` (default [`Charset::Auto`]).
//!
//! In strict mode each of these is an [`Error::Charset`] instead.

use std::borrow::Cow;

use crate::error::{CharsetProblem, Error, Location, Result, Warning, WarningKind};

/// A character set values can be decoded from and encoded to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Charset {
    /// 7-bit US-ASCII, the HL7 default when MSH-18 is empty.
    #[default]
    Ascii,
    /// ISO 8859-1: each byte is the Unicode code point of the same value.
    Latin1,
    /// ISO 8859-15 (Latin-9).
    Latin9,
    /// Windows code page 1252 (Latin-1 with printable characters in 0x80–0x9F).
    Windows1252,
    /// UTF-8.
    Utf8,
    /// UTF-8 when the value is valid UTF-8, else Windows-1252. Used for undeclared or
    /// unknown charsets; never produces an error.
    Auto,
}

/// How an MSH-18 value was understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Declaration {
    /// MSH-18 is empty: ASCII by definition.
    Absent,
    /// A name this crate decodes.
    Recognized,
    /// A table-0211 name this crate does not decode.
    Unsupported,
    /// Not a known name.
    Unknown,
}

const UNSUPPORTED: &[&str] = &[
    "8859/2",
    "8859/3",
    "8859/4",
    "8859/5",
    "8859/6",
    "8859/7",
    "8859/8",
    "8859/9",
    "ISO IR14",
    "ISO IR87",
    "ISO IR159",
    "GB 18030-2000",
    "KS X 1001",
    "CNS 11643-1992",
    "BIG-5",
    "UNICODE UTF-16",
    "UNICODE UTF-32",
];

/// Maps the first repetition of MSH-18 to a charset; returns `fallback` for unsupported
/// and unknown names, together with how the name was understood.
///
/// ```
/// use labwire_hl7::charset::{resolve, Charset, Declaration};
/// assert_eq!(resolve(b"UNICODE UTF-8", Charset::Auto), (Charset::Utf8, Declaration::Recognized));
/// assert_eq!(resolve(b"8859/1", Charset::Auto), (Charset::Latin1, Declaration::Recognized));
/// assert_eq!(resolve(b"", Charset::Auto), (Charset::Ascii, Declaration::Absent));
/// assert_eq!(resolve(b"8859/2", Charset::Auto), (Charset::Auto, Declaration::Unsupported));
/// ```
pub fn resolve(msh18: &[u8], fallback: Charset) -> (Charset, Declaration) {
    let trimmed = msh18.trim_ascii();
    if trimmed.is_empty() {
        return (Charset::Ascii, Declaration::Absent);
    }
    let is = |names: &[&str]| {
        names
            .iter()
            .any(|name| trimmed.eq_ignore_ascii_case(name.as_bytes()))
    };
    let recognized = if is(&["ASCII", "ISO IR6", "US-ASCII"]) {
        Some(Charset::Ascii)
    } else if is(&[
        "8859/1",
        "ISO-8859-1",
        "ISO 8859-1",
        "ISO8859-1",
        "ISO IR100",
        "LATIN1",
        "LATIN-1",
    ]) {
        Some(Charset::Latin1)
    } else if is(&[
        "8859/15",
        "ISO-8859-15",
        "ISO 8859-15",
        "ISO8859-15",
        "LATIN9",
        "LATIN-9",
    ]) {
        Some(Charset::Latin9)
    } else if is(&["WINDOWS-1252", "CP1252"]) {
        Some(Charset::Windows1252)
    } else if is(&["UNICODE UTF-8", "UNICODE", "UTF-8", "UTF8", "ISO IR192"]) {
        Some(Charset::Utf8)
    } else {
        None
    };
    match recognized {
        Some(charset) => (charset, Declaration::Recognized),
        None if is(UNSUPPORTED) => (fallback, Declaration::Unsupported),
        None => (fallback, Declaration::Unknown),
    }
}

/// Windows-1252 0x80–0x9F; the five undefined positions map to the C1 control of the same
/// value, as the WHATWG encoding standard does.
const WINDOWS_1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}',
    '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
];

/// The eight positions where ISO 8859-15 differs from ISO 8859-1.
const LATIN9_DIFFERENCES: [(u8, char); 8] = [
    (0xA4, '\u{20AC}'),
    (0xA6, '\u{0160}'),
    (0xA8, '\u{0161}'),
    (0xB4, '\u{017D}'),
    (0xB8, '\u{017E}'),
    (0xBC, '\u{0152}'),
    (0xBD, '\u{0153}'),
    (0xBE, '\u{0178}'),
];

fn single_byte_char(charset: Charset, byte: u8) -> char {
    match charset {
        Charset::Latin9 => LATIN9_DIFFERENCES
            .iter()
            .find(|(b, _)| *b == byte)
            .map_or(char::from(byte), |(_, c)| *c),
        Charset::Windows1252 | Charset::Auto | Charset::Ascii => {
            if (0x80..0xA0).contains(&byte) {
                WINDOWS_1252_HIGH
                    .get(usize::from(byte - 0x80))
                    .copied()
                    .unwrap_or(char::from(byte))
            } else {
                char::from(byte)
            }
        }
        Charset::Latin1 | Charset::Utf8 => char::from(byte),
    }
}

fn transcode_single_byte(bytes: &[u8], charset: Charset) -> String {
    let mut text = String::with_capacity(bytes.len().saturating_add(bytes.len() / 2));
    text.extend(bytes.iter().map(|&b| single_byte_char(charset, b)));
    text
}

/// Where decoded bytes came from, for error offsets.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Origin {
    /// Offset of the value in the input.
    pub(crate) offset: usize,
    /// True when the bytes are the input bytes themselves (so offsets within are exact).
    pub(crate) exact: bool,
    pub(crate) location: Option<Location>,
}

impl Origin {
    fn at(&self, index: usize) -> usize {
        if self.exact {
            self.offset.saturating_add(index)
        } else {
            self.offset
        }
    }

    fn error(&self, index: usize, problem: CharsetProblem) -> Error {
        Error::Charset {
            offset: self.at(index),
            location: self.location.unwrap_or_default(),
            problem,
        }
    }

    fn warning(&self, index: usize, problem: CharsetProblem) -> Warning {
        Warning::new(WarningKind::Charset(problem), self.at(index), self.location)
    }
}

/// Decodes `bytes` (borrowed or owned) to text.
pub(crate) fn decode_cow<'a>(
    bytes: Cow<'a, [u8]>,
    charset: Charset,
    strict: bool,
    origin: &Origin,
    warnings: &mut Vec<Warning>,
) -> Result<Cow<'a, str>> {
    match charset {
        Charset::Utf8 => match bytes {
            Cow::Borrowed(slice) => match core::str::from_utf8(slice) {
                Ok(text) => Ok(Cow::Borrowed(text)),
                Err(error) => repair_utf8(slice, error.valid_up_to(), strict, origin, warnings)
                    .map(Cow::Owned),
            },
            Cow::Owned(vec) => match String::from_utf8(vec) {
                Ok(text) => Ok(Cow::Owned(text)),
                Err(error) => {
                    let valid = error.utf8_error().valid_up_to();
                    repair_utf8(error.as_bytes(), valid, strict, origin, warnings).map(Cow::Owned)
                }
            },
        },
        Charset::Ascii => {
            if let Some(index) = bytes.iter().position(|b| !b.is_ascii()) {
                if strict {
                    return Err(origin.error(index, CharsetProblem::NonAscii));
                }
                warnings.push(origin.warning(index, CharsetProblem::NonAscii));
                decode_cow(bytes, Charset::Auto, strict, origin, warnings)
            } else {
                Ok(ascii_to_text(bytes))
            }
        }
        Charset::Auto => match bytes {
            Cow::Borrowed(slice) => match core::str::from_utf8(slice) {
                Ok(text) => Ok(Cow::Borrowed(text)),
                Err(_) => Ok(Cow::Owned(transcode_single_byte(
                    slice,
                    Charset::Windows1252,
                ))),
            },
            Cow::Owned(vec) => match String::from_utf8(vec) {
                Ok(text) => Ok(Cow::Owned(text)),
                Err(error) => Ok(Cow::Owned(transcode_single_byte(
                    error.as_bytes(),
                    Charset::Windows1252,
                ))),
            },
        },
        Charset::Latin1 | Charset::Latin9 | Charset::Windows1252 => {
            if bytes.is_ascii() {
                Ok(ascii_to_text(bytes))
            } else {
                Ok(Cow::Owned(transcode_single_byte(&bytes, charset)))
            }
        }
    }
}

/// Turns known-ASCII bytes into text without copying borrowed input.
fn ascii_to_text(bytes: Cow<'_, [u8]>) -> Cow<'_, str> {
    match bytes {
        Cow::Borrowed(slice) => match core::str::from_utf8(slice) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => Cow::Owned(String::from_utf8_lossy(slice).into_owned()),
        },
        Cow::Owned(vec) => match String::from_utf8(vec) {
            Ok(text) => Cow::Owned(text),
            Err(error) => Cow::Owned(String::from_utf8_lossy(error.as_bytes()).into_owned()),
        },
    }
}

fn repair_utf8(
    bytes: &[u8],
    first_invalid: usize,
    strict: bool,
    origin: &Origin,
    warnings: &mut Vec<Warning>,
) -> Result<String> {
    if strict {
        return Err(origin.error(first_invalid, CharsetProblem::InvalidUtf8));
    }
    warnings.push(origin.warning(first_invalid, CharsetProblem::InvalidUtf8));
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// Decodes bytes in `charset` to text, lenient (never fails; problems are repaired as the
/// module documentation describes). Borrows when no transcoding is needed.
///
/// ```
/// use labwire_hl7::charset::{decode, Charset};
/// assert_eq!(decode(b"M\xFCller", Charset::Latin1), "Müller");
/// assert_eq!(decode("Müller".as_bytes(), Charset::Auto), "Müller");
/// assert_eq!(decode(b"M\xFCller", Charset::Auto), "Müller");
/// assert_eq!(decode(b"\x80", Charset::Windows1252), "€");
/// ```
pub fn decode(bytes: &[u8], charset: Charset) -> Cow<'_, str> {
    let origin = Origin {
        offset: 0,
        exact: true,
        location: None,
    };
    let mut ignored = Vec::new();
    match decode_cow(Cow::Borrowed(bytes), charset, false, &origin, &mut ignored) {
        Ok(text) => text,
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Decodes bytes in `charset` to text; with `strict`, a byte that does not belong to the
/// charset is an error, otherwise it is repaired and reported in `warnings`. Offsets are
/// relative to `bytes` plus `base_offset`.
pub fn decode_checked<'a>(
    bytes: &'a [u8],
    charset: Charset,
    strict: bool,
    base_offset: usize,
    warnings: &mut Vec<Warning>,
) -> Result<Cow<'a, str>> {
    let origin = Origin {
        offset: base_offset,
        exact: true,
        location: None,
    };
    decode_cow(Cow::Borrowed(bytes), charset, strict, &origin, warnings)
}

/// Encodes text for a message in `charset`. Characters the charset cannot represent are
/// an error ([`CharsetProblem::Unencodable`]; the offset is the character's byte offset
/// in `text`). UTF-8 and [`Charset::Auto`] borrow the text.
///
/// ```
/// use labwire_hl7::charset::{encode, Charset};
/// assert_eq!(encode("Müller", Charset::Latin1).unwrap().as_ref(), b"M\xFCller");
/// assert!(encode("Müller", Charset::Ascii).is_err());
/// ```
pub fn encode(text: &str, charset: Charset) -> Result<Cow<'_, [u8]>> {
    match charset {
        Charset::Utf8 | Charset::Auto => Ok(Cow::Borrowed(text.as_bytes())),
        _ if text.is_ascii() => Ok(Cow::Borrowed(text.as_bytes())),
        _ => {
            let mut bytes = Vec::with_capacity(text.len());
            for (index, character) in text.char_indices() {
                match encode_char(character, charset) {
                    Some(byte) => bytes.push(byte),
                    None => {
                        return Err(Error::Charset {
                            offset: index,
                            location: Location::message(),
                            problem: CharsetProblem::Unencodable { character },
                        });
                    }
                }
            }
            Ok(Cow::Owned(bytes))
        }
    }
}

fn encode_char(character: char, charset: Charset) -> Option<u8> {
    if character.is_ascii() {
        return u8::try_from(character).ok();
    }
    match charset {
        Charset::Ascii | Charset::Utf8 | Charset::Auto => None,
        Charset::Latin1 => u8::try_from(character).ok(),
        Charset::Latin9 => {
            if let Some((byte, _)) = LATIN9_DIFFERENCES.iter().find(|(_, c)| *c == character) {
                return Some(*byte);
            }
            let byte = u8::try_from(character).ok()?;
            // Positions Latin-9 reassigned cannot carry their Latin-1 meaning.
            (!LATIN9_DIFFERENCES.iter().any(|(b, _)| *b == byte)).then_some(byte)
        }
        Charset::Windows1252 => {
            if let Some(index) = WINDOWS_1252_HIGH.iter().position(|c| *c == character) {
                return u8::try_from(index + 0x80).ok();
            }
            u8::try_from(character).ok().filter(|b| *b >= 0xA0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict_decode(bytes: &[u8], charset: Charset) -> Result<Cow<'_, str>> {
        decode_checked(bytes, charset, true, 100, &mut Vec::new())
    }

    #[test]
    fn msh18_spellings_seen_in_the_wild() {
        for name in [
            "UNICODE UTF-8",
            "unicode utf-8",
            " UTF-8 ",
            "UTF8",
            "UNICODE",
        ] {
            assert_eq!(
                resolve(name.as_bytes(), Charset::Auto).0,
                Charset::Utf8,
                "{name}"
            );
        }
        assert_eq!(resolve(b"8859/15", Charset::Auto).0, Charset::Latin9);
        assert_eq!(resolve(b"ISO-8859-1", Charset::Auto).0, Charset::Latin1);
        assert_eq!(
            resolve(b"8859", Charset::Latin1),
            (Charset::Latin1, Declaration::Unknown)
        );
        assert_eq!(
            resolve(b"ISO IR87", Charset::Auto),
            (Charset::Auto, Declaration::Unsupported)
        );
    }

    #[test]
    fn ascii_and_valid_utf8_are_borrowed() {
        assert!(matches!(
            decode(b"abc", Charset::Latin1),
            Cow::Borrowed("abc")
        ));
        assert!(matches!(
            decode("é".as_bytes(), Charset::Utf8),
            Cow::Borrowed("é")
        ));
        assert!(matches!(
            decode("é".as_bytes(), Charset::Auto),
            Cow::Borrowed("é")
        ));
    }

    #[test]
    fn invalid_utf8_is_an_error_in_strict_mode_with_its_offset() {
        let err = strict_decode(b"ab\xFFcd", Charset::Utf8).unwrap_err();
        assert_eq!(err.offset(), Some(102));
        let mut warnings = Vec::new();
        let text = decode_checked(b"ab\xFFcd", Charset::Utf8, false, 100, &mut warnings).unwrap();
        assert_eq!(text, "ab\u{FFFD}cd");
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].offset, 102);
    }

    #[test]
    fn non_ascii_in_ascii_message_falls_back_with_warning() {
        let mut warnings = Vec::new();
        let text = decode_checked(b"M\xFCller", Charset::Ascii, false, 0, &mut warnings).unwrap();
        assert_eq!(text, "Müller");
        assert_eq!(
            warnings[0].kind,
            WarningKind::Charset(CharsetProblem::NonAscii)
        );
        assert_eq!(warnings[0].offset, 1);
        assert!(strict_decode(b"M\xFCller", Charset::Ascii).is_err());
        assert_eq!(decode("Müller".as_bytes(), Charset::Ascii), "Müller");
    }

    #[test]
    fn latin9_and_windows1252_differ_from_latin1() {
        assert_eq!(decode(b"\xA4", Charset::Latin1), "\u{A4}");
        assert_eq!(decode(b"\xA4", Charset::Latin9), "€");
        assert_eq!(decode(b"\x80\x8A\x9F", Charset::Windows1252), "€ŠŸ");
    }

    #[test]
    fn encode_round_trips_each_single_byte_charset() {
        for charset in [Charset::Latin1, Charset::Latin9, Charset::Windows1252] {
            let bytes: Vec<u8> = (0x20u8..=0xFF).filter(|b| *b != 0x7F).collect();
            let text = decode(&bytes, charset).into_owned();
            let back = encode(&text, charset).unwrap();
            assert_eq!(back.as_ref(), &bytes[..], "{charset:?}");
        }
        assert!(encode("€", Charset::Latin1).is_err());
        assert!(encode("\u{A4}", Charset::Latin9).is_err());
    }
}
