//! Specific Character Set (0008,0005): decoding and encoding text values.
//!
//! PS3.3 C.12.1.1.2 lists the defined terms; PS3.5 §6.1 says how they apply:
//!
//! - one term without `ISO 2022` in it (`ISO_IR 100`, `ISO_IR 192`, `GB18030`,
//!   `GBK`) names the one character set of every text value;
//! - `ISO 2022` terms, or several terms, enable code extensions: escape sequences
//!   inside a value switch the G0 (bytes 0x21-0x7E) or G1 (0xA1-0xFE) character set
//!   (PS3.5 §6.1.2.5), and the sets named by the first term come back before every
//!   line break, form feed, tab, and the delimiters of the value (`\` between
//!   values; `^` and `=` in person names, PS3.5 §6.1.2.5.3).
//!
//! Only the VRs SH LO ST LT UC UT PN use it; the others are in the default
//! repertoire. Bytes that are not valid in the named set decode to U+FFFD; bytes
//! above 0x7F where no set says what they are decode as ISO 8859-1, which is what
//! files without (0008,0005) but with accented names almost always mean.

#[rustfmt::skip]
mod tables;

use std::borrow::Cow;

use crate::Vr;

const ESC: u8 = 0x1B;

/// One defined term of Specific Character Set (PS3.3 Tables C.12-2 to C.12-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CharsetTerm {
    /// The default repertoire, ISO-IR 6 (ASCII): an empty value, `ISO_IR 6` or
    /// `ISO 2022 IR 6`.
    Default,
    /// ISO-IR 100, ISO 8859-1, Latin alphabet No. 1.
    Latin1,
    /// ISO-IR 101, ISO 8859-2, Latin alphabet No. 2.
    Latin2,
    /// ISO-IR 109, ISO 8859-3, Latin alphabet No. 3.
    Latin3,
    /// ISO-IR 110, ISO 8859-4, Latin alphabet No. 4.
    Latin4,
    /// ISO-IR 144, ISO 8859-5, Cyrillic.
    Cyrillic,
    /// ISO-IR 127, ISO 8859-6, Arabic.
    Arabic,
    /// ISO-IR 126, ISO 8859-7, Greek.
    Greek,
    /// ISO-IR 138, ISO 8859-8, Hebrew.
    Hebrew,
    /// ISO-IR 148, ISO 8859-9, Latin alphabet No. 5 (Turkish).
    Latin5,
    /// ISO-IR 166, TIS 620-2533, Thai.
    Thai,
    /// ISO-IR 13 and 14: JIS X 0201 katakana in G1 and romaji in G0.
    JisX0201,
    /// ISO-IR 87: JIS X 0208 kanji (code extensions only).
    JisX0208,
    /// ISO-IR 159: JIS X 0212 supplementary kanji (code extensions only).
    JisX0212,
    /// ISO-IR 149: KS X 1001 Korean (code extensions only).
    KsX1001,
    /// ISO-IR 58: GB 2312 Chinese (code extensions only).
    Gb2312,
    /// ISO-IR 192: Unicode in UTF-8 (no code extensions).
    Utf8,
    /// GB 18030 Chinese (no code extensions).
    Gb18030,
    /// GBK Chinese (no code extensions).
    Gbk,
    /// A term this crate does not know; text is decoded as ISO 8859-1.
    Unknown,
}

impl CharsetTerm {
    /// Reads one defined term, with or without the `ISO 2022` code-extension form.
    /// Returns the term and whether it was the code-extension form.
    fn parse(term: &[u8]) -> (Self, bool) {
        let padding = |b: &u8| *b == b' ' || *b == 0;
        let start = term.iter().position(|b| !padding(b)).unwrap_or(term.len());
        let end = term
            .iter()
            .rposition(|b| !padding(b))
            .map_or(start, |last| last.saturating_add(1));
        let term = term.get(start..end).unwrap_or_default();
        let (number, extension) = if let Some(rest) = term.strip_prefix(b"ISO 2022 IR ") {
            (rest, true)
        } else if let Some(rest) = term.strip_prefix(b"ISO_IR ") {
            (rest, false)
        } else {
            let named = match term {
                b"" => Self::Default,
                b"GB18030" => Self::Gb18030,
                // CP-1234 spells these two with the ISO 2022 prefix as well.
                b"GBK" | b"ISO 2022 GBK" => Self::Gbk,
                b"ISO 2022 58" => return (Self::Gb2312, true),
                _ => Self::Unknown,
            };
            return (named, false);
        };
        let parsed = match number {
            b"6" => Self::Default,
            b"100" => Self::Latin1,
            b"101" => Self::Latin2,
            b"109" => Self::Latin3,
            b"110" => Self::Latin4,
            b"144" => Self::Cyrillic,
            b"127" => Self::Arabic,
            b"126" => Self::Greek,
            b"138" => Self::Hebrew,
            b"148" => Self::Latin5,
            b"166" => Self::Thai,
            b"13" => Self::JisX0201,
            b"87" => Self::JisX0208,
            b"159" => Self::JisX0212,
            b"149" => Self::KsX1001,
            b"58" => Self::Gb2312,
            b"192" => Self::Utf8,
            _ => Self::Unknown,
        };
        (parsed, extension)
    }

    /// The G1 set a term designates by itself.
    fn g1(self) -> G1 {
        match self {
            Self::Latin1 => G1::Latin1,
            Self::Latin2 => G1::Table(&tables::LATIN2),
            Self::Latin3 => G1::Table(&tables::LATIN3),
            Self::Latin4 => G1::Table(&tables::LATIN4),
            Self::Cyrillic => G1::Table(&tables::CYRILLIC),
            Self::Arabic => G1::Table(&tables::ARABIC),
            Self::Greek => G1::Table(&tables::GREEK),
            Self::Hebrew => G1::Table(&tables::HEBREW),
            Self::Latin5 => G1::Table(&tables::LATIN5),
            Self::Thai => G1::Table(&tables::THAI),
            Self::JisX0201 => G1::Katakana,
            Self::KsX1001 => G1::KsX1001,
            Self::Gb2312 => G1::Gb2312,
            _ => G1::Fallback,
        }
    }
}

/// The most terms kept from (0008,0005); real files use at most three.
const MAX_TERMS: usize = 4;

/// A parsed Specific Character Set (0008,0005).
///
/// ```
/// use labwire_dicom_meta::{CharacterSet, Vr};
///
/// let latin1 = CharacterSet::parse(b"ISO_IR 100");
/// assert_eq!(latin1.decode(b"M\xfcller^Hans", Vr::PN), "Müller^Hans");
///
/// // PS3.5 Annex H: Japanese with JIS X 0208 behind escape sequences.
/// let japanese = CharacterSet::parse(b"\\ISO 2022 IR 87");
/// let name = b"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B";
/// assert_eq!(japanese.decode(name, Vr::PN), "Yamada^Tarou=山田^太郎");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CharacterSet {
    terms: [CharsetTerm; MAX_TERMS],
    len: u8,
    code_extensions: bool,
    unknown: bool,
}

impl Default for CharacterSet {
    /// The default repertoire: no (0008,0005).
    fn default() -> Self {
        Self {
            terms: [CharsetTerm::Default; MAX_TERMS],
            len: 1,
            code_extensions: false,
            unknown: false,
        }
    }
}

impl CharacterSet {
    /// Reads the raw value of (0008,0005): `\`-separated defined terms, padded with
    /// spaces. Never fails; unknown terms are kept as [`CharsetTerm::Unknown`].
    #[must_use]
    pub fn parse(value: &[u8]) -> Self {
        let mut set = Self {
            len: 0,
            ..Self::default()
        };
        // On the bytes: the separator, the padding and every defined term are ASCII,
        // so a term with other bytes is unknown whatever they decode to, and nothing
        // needs allocating.
        let end = value
            .iter()
            .rposition(|&b| b != b' ' && b != 0)
            .map_or(0, |last| last.saturating_add(1));
        let value = value.get(..end).unwrap_or_default();
        let count = value.split(|&b| b == b'\\').count();
        set.code_extensions = count > 1;
        for (slot, raw) in set.terms.iter_mut().zip(value.split(|&b| b == b'\\')) {
            let (term, extension) = CharsetTerm::parse(raw);
            *slot = term;
            set.code_extensions |= extension;
            set.unknown |= term == CharsetTerm::Unknown;
            set.len = set.len.saturating_add(1);
        }
        set.unknown |= count > MAX_TERMS;
        set.len = set.len.max(1);
        set
    }

    /// The terms, in order.
    #[must_use]
    pub fn terms(&self) -> &[CharsetTerm] {
        self.terms.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// True if escape sequences may switch character sets inside values.
    #[must_use]
    pub fn has_code_extensions(&self) -> bool {
        self.code_extensions
    }

    /// True if a term was not recognized.
    #[must_use]
    pub fn has_unknown_terms(&self) -> bool {
        self.unknown
    }

    /// True for ISO_IR 192, where every value is UTF-8.
    #[must_use]
    pub fn is_utf8(&self) -> bool {
        self.first() == CharsetTerm::Utf8
    }

    fn first(&self) -> CharsetTerm {
        self.terms.first().copied().unwrap_or(CharsetTerm::Default)
    }

    /// Decodes a text value of the given VR. VRs that do not use the Specific
    /// Character Set (PS3.5 §6.1.2.3) are decoded in the default repertoire.
    /// Borrows when the bytes are ASCII, the common case.
    #[must_use]
    pub fn decode<'b>(&self, bytes: &'b [u8], vr: Vr) -> Cow<'b, str> {
        if bytes.is_ascii() && !bytes.contains(&ESC) {
            // ASCII is valid UTF-8 and means the same in every set DICOM allows.
            return core::str::from_utf8(bytes)
                .map_or_else(|_| String::from_utf8_lossy(bytes), Cow::Borrowed);
        }
        let set = if vr.uses_specific_character_set() {
            *self
        } else {
            Self::default()
        };
        Cow::Owned(set.decode_owned(bytes, vr))
    }

    fn decode_owned(&self, bytes: &[u8], vr: Vr) -> String {
        match self.first() {
            CharsetTerm::Utf8 => return String::from_utf8_lossy(bytes).into_owned(),
            CharsetTerm::Gb18030 => return decode_with(encoding_rs::GB18030, bytes),
            CharsetTerm::Gbk => return decode_with(encoding_rs::GBK, bytes),
            _ => {}
        }
        let first = self.first();
        let initial = State {
            g0: G0::Ascii,
            g1: first.g1(),
        };
        let mut out = Decoded::with_capacity(bytes.len());
        let mut state = initial;
        let mut rest = bytes;
        while let Some((&byte, tail)) = rest.split_first() {
            if byte == ESC && self.code_extensions {
                match escape(tail) {
                    Some((designation, after)) => {
                        designation.apply(&mut state);
                        rest = after;
                    }
                    None => {
                        out.push_char('\u{FFFD}');
                        rest = tail;
                    }
                }
                continue;
            }
            match state.g0 {
                G0::JisX0208 | G0::JisX0212 if (0x21..0x7F).contains(&byte) => {
                    let Some((&second, after)) = tail.split_first() else {
                        out.push_char('\u{FFFD}');
                        break;
                    };
                    let lead = if state.g0 == G0::JisX0212 {
                        Some(0x8F)
                    } else {
                        None
                    };
                    out.push_multi(Multi::EucJp, lead, [byte | 0x80, second | 0x80]);
                    rest = after;
                    continue;
                }
                _ => {}
            }
            if byte < 0x80 {
                out.push_char(char::from(byte));
                if is_delimiter(byte, vr) {
                    state = initial;
                }
                rest = tail;
                continue;
            }
            rest = match state.g1 {
                G1::Fallback | G1::Latin1 => {
                    out.push_char(char::from(byte));
                    tail
                }
                G1::Table(table) => {
                    out.push_char(single_byte(table, byte));
                    tail
                }
                G1::Katakana => {
                    out.push_char(katakana(byte));
                    tail
                }
                G1::KsX1001 | G1::Gb2312 => match tail.split_first() {
                    Some((&second, after)) if byte >= 0xA1 && second >= 0xA1 => {
                        let kind = if state.g1 == G1::KsX1001 {
                            Multi::EucKr
                        } else {
                            Multi::Gbk
                        };
                        out.push_multi(kind, None, [byte, second]);
                        after
                    }
                    _ => {
                        out.push_char('\u{FFFD}');
                        tail
                    }
                },
            };
        }
        out.finish()
    }

    /// Encodes text for a value of this character set, for the writer. Supports the
    /// stand-alone sets (UTF-8, GB18030, GBK), the single-byte sets, and ASCII under
    /// any set; `None` if a character cannot be written without code extensions.
    #[must_use]
    pub fn encode<'t>(&self, text: &'t str, vr: Vr) -> Option<Cow<'t, [u8]>> {
        if text.is_ascii() {
            return Some(Cow::Borrowed(text.as_bytes()));
        }
        if !vr.uses_specific_character_set() {
            return None;
        }
        let encode_with = |encoding: &'static encoding_rs::Encoding| {
            let (bytes, _, had_errors) = encoding.encode(text);
            (!had_errors).then(|| Cow::Owned(bytes.into_owned()))
        };
        match self.first() {
            CharsetTerm::Utf8 => Some(Cow::Borrowed(text.as_bytes())),
            CharsetTerm::Gb18030 => encode_with(encoding_rs::GB18030),
            CharsetTerm::Gbk => encode_with(encoding_rs::GBK),
            first => {
                let g1 = first.g1();
                let mut out = Vec::with_capacity(text.len());
                for ch in text.chars() {
                    out.push(encode_single(g1, ch)?);
                }
                Some(Cow::Owned(out))
            }
        }
    }
}

/// The byte of a character in a single-byte G1 set, or ASCII.
fn encode_single(g1: G1, ch: char) -> Option<u8> {
    let code = u32::from(ch);
    if code < 0x80 {
        return u8::try_from(code).ok();
    }
    match g1 {
        G1::Latin1 => u8::try_from(code).ok(),
        G1::Table(table) => {
            if (0x80..0xA0).contains(&code) {
                return u8::try_from(code).ok();
            }
            let position = table
                .iter()
                .position(|&c| u32::from(c) == code && c != 0xFFFD)?;
            u8::try_from(position.saturating_add(0xA0)).ok()
        }
        G1::Katakana => (0xFF61..=0xFF9F)
            .contains(&code)
            .then(|| u8::try_from(code - 0xFF61 + 0xA1).ok())
            .flatten(),
        G1::Fallback | G1::KsX1001 | G1::Gb2312 => None,
    }
}

fn decode_with(encoding: &'static encoding_rs::Encoding, bytes: &[u8]) -> String {
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

/// True for the bytes before which the first term's character sets come back
/// (PS3.5 §6.1.2.5.3).
fn is_delimiter(byte: u8, vr: Vr) -> bool {
    match byte {
        b'\r' | b'\n' | b'\t' | 0x0C => true,
        b'\\' => vr.is_multi_valued_text(),
        b'^' | b'=' => vr == Vr::PN,
        _ => false,
    }
}

fn single_byte(table: &[u16; 96], byte: u8) -> char {
    if byte < 0xA0 {
        // C1 controls, the same in every ISO 8859 part.
        return char::from(byte);
    }
    table
        .get(usize::from(byte - 0xA0))
        .and_then(|&code| char::from_u32(u32::from(code)))
        .unwrap_or('\u{FFFD}')
}

/// JIS X 0201 katakana (ISO-IR 13): 0xA1-0xDF are the half-width katakana.
fn katakana(byte: u8) -> char {
    if (0xA1..=0xDF).contains(&byte) {
        char::from_u32(0xFF61 + u32::from(byte - 0xA1)).unwrap_or('\u{FFFD}')
    } else {
        '\u{FFFD}'
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum G0 {
    /// ASCII (ISO-IR 6) or JIS X 0201 romaji (ISO-IR 14), read the same way here, as
    /// pydicom and DCMTK do.
    Ascii,
    JisX0208,
    JisX0212,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum G1 {
    /// No G1 set designated: ISO 8859-1 as the fallback.
    Fallback,
    Latin1,
    Table(&'static [u16; 96]),
    Katakana,
    KsX1001,
    Gb2312,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    g0: G0,
    g1: G1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Designation {
    G0(G0),
    G1(G1),
}

impl Designation {
    fn apply(self, state: &mut State) {
        match self {
            Self::G0(g0) => state.g0 = g0,
            Self::G1(g1) => state.g1 = g1,
        }
    }
}

/// Reads the escape sequence after an ESC (PS3.3 Tables C.12-3 and C.12-4).
fn escape(after_esc: &[u8]) -> Option<(Designation, &[u8])> {
    use Designation::{G0 as D0, G1 as D1};
    let (designation, len) = match after_esc {
        [b'(', b'B', ..] | [b'(', b'J', ..] => (D0(G0::Ascii), 2),
        [b')', b'I', ..] => (D1(G1::Katakana), 2),
        [b'$', b'B', ..] => (D0(G0::JisX0208), 2),
        [b'$', b'(', b'D', ..] => (D0(G0::JisX0212), 3),
        [b'$', b')', b'C', ..] => (D1(G1::KsX1001), 3),
        [b'$', b')', b'A', ..] => (D1(G1::Gb2312), 3),
        [b'-', b'A', ..] => (D1(G1::Latin1), 2),
        [b'-', final_byte, ..] => {
            let table = match final_byte {
                b'B' => &tables::LATIN2,
                b'C' => &tables::LATIN3,
                b'D' => &tables::LATIN4,
                b'L' => &tables::CYRILLIC,
                b'G' => &tables::ARABIC,
                b'F' => &tables::GREEK,
                b'H' => &tables::HEBREW,
                b'M' => &tables::LATIN5,
                b'T' => &tables::THAI,
                _ => return None,
            };
            (D1(G1::Table(table)), 2)
        }
        _ => return None,
    };
    Some((designation, after_esc.get(len..).unwrap_or_default()))
}

/// The multi-byte decoders, fed converted bytes in runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Multi {
    EucJp,
    EucKr,
    Gbk,
}

impl Multi {
    fn encoding(self) -> &'static encoding_rs::Encoding {
        match self {
            Self::EucJp => encoding_rs::EUC_JP,
            Self::EucKr => encoding_rs::EUC_KR,
            Self::Gbk => encoding_rs::GBK,
        }
    }
}

/// The output of a decode: text, plus a pending run of multi-byte characters that
/// is decoded in one call when the run ends.
struct Decoded {
    text: String,
    run: Vec<u8>,
    run_kind: Option<Multi>,
}

impl Decoded {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            text: String::with_capacity(capacity),
            run: Vec::new(),
            run_kind: None,
        }
    }

    fn flush(&mut self) {
        if let Some(kind) = self.run_kind.take() {
            let (decoded, _) = kind.encoding().decode_without_bom_handling(&self.run);
            self.text.push_str(&decoded);
            self.run.clear();
        }
    }

    fn push_char(&mut self, ch: char) {
        self.flush();
        self.text.push(ch);
    }

    fn push_multi(&mut self, kind: Multi, lead: Option<u8>, pair: [u8; 2]) {
        if self.run_kind != Some(kind) {
            self.flush();
            self.run_kind = Some(kind);
        }
        self.run.extend(lead);
        self.run.extend_from_slice(&pair);
    }

    fn finish(mut self) -> String {
        self.flush();
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(set: &[u8], bytes: &[u8], vr: Vr) -> String {
        CharacterSet::parse(set).decode(bytes, vr).into_owned()
    }

    #[test]
    fn parses_terms() {
        let set = CharacterSet::parse(b"ISO 2022 IR 13\\ISO 2022 IR 87 ");
        assert_eq!(set.terms(), [CharsetTerm::JisX0201, CharsetTerm::JisX0208]);
        assert!(set.has_code_extensions() && !set.has_unknown_terms());
        let set = CharacterSet::parse(b"ISO_IR 192");
        assert!(set.is_utf8() && !set.has_code_extensions());
        assert!(CharacterSet::parse(b"ISO_IR 999").has_unknown_terms());
        assert_eq!(CharacterSet::parse(b"").terms(), [CharsetTerm::Default]);
        assert_eq!(
            CharacterSet::parse(b"\\ISO 2022 IR 149").terms()[0],
            CharsetTerm::Default
        );
    }

    #[test]
    fn single_byte_sets() {
        assert_eq!(
            decode(b"ISO_IR 100", b"Buc^J\xe9r\xf4me", Vr::PN),
            "Buc^Jérôme"
        );
        assert_eq!(
            decode(b"ISO_IR 144", b"\xbb\xee\xdace\xdc\xd1\xe3\xe0\xd3", Vr::PN),
            "Люкceмбург"
        );
        assert_eq!(
            decode(
                b"ISO_IR 126",
                b"\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2",
                Vr::PN
            ),
            "Διονυσιος"
        );
        assert_eq!(decode(b"ISO_IR 13", b"\xd4\xcf\xc0\xde", Vr::PN), "ﾔﾏﾀﾞ");
        // No (0008,0005): high bytes read as ISO 8859-1.
        assert_eq!(decode(b"", b"M\xfcller", Vr::LO), "Müller");
        // VRs outside PS3.5 §6.1.2.3 ignore the set.
        assert_eq!(decode(b"ISO_IR 144", b"\xbb", Vr::CS), "»");
    }

    #[test]
    fn stand_alone_multi_byte_sets() {
        assert_eq!(
            decode(b"ISO_IR 192", "Wang^XiaoDong=王^小東=".as_bytes(), Vr::PN),
            "Wang^XiaoDong=王^小東="
        );
        assert_eq!(
            decode(
                b"GB18030",
                b"Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab=",
                Vr::PN
            ),
            "Wang^XiaoDong=王^小东="
        );
        assert_eq!(decode(b"ISO_IR 192", b"bad \xff", Vr::LO), "bad \u{FFFD}");
    }

    #[test]
    fn iso_2022_korean_and_chinese() {
        // PS3.5 Annex I.2: Korean.
        let korean = b"Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf";
        assert_eq!(
            decode(b"\\ISO 2022 IR 149", korean, Vr::PN),
            "Hong^Gildong=洪^吉洞=홍^길동"
        );
        // PS3.5 Annex K: Chinese GB 2312.
        let chinese = b"Zhang^XiaoDong=\x1b$)A\xd5\xc5^\x1b$)A\xd0\xa1\xb6\xab=";
        assert_eq!(
            decode(b"\\ISO 2022 IR 58", chinese, Vr::PN),
            "Zhang^XiaoDong=张^小东="
        );
    }

    #[test]
    fn delimiters_reset_the_designations() {
        // After `^` the G1 set designated by the escape is gone: 0xE9 is Latin-1 again.
        let bytes = b"\x1b-L\xbb^\xe9";
        assert_eq!(
            decode(b"ISO 2022 IR 100\\ISO 2022 IR 144", bytes, Vr::PN),
            "Л^é"
        );
        // In a LO the caret is an ordinary character.
        assert_eq!(
            decode(b"ISO 2022 IR 100\\ISO 2022 IR 144", bytes, Vr::LO),
            "Л^щ"
        );
        // Unknown escape sequences become U+FFFD.
        assert_eq!(
            decode(b"\\ISO 2022 IR 87", b"a\x1bZb", Vr::LO),
            "a\u{FFFD}Zb"
        );
        // A lone lead byte at the end.
        assert_eq!(decode(b"\\ISO 2022 IR 87", b"\x1b$B;", Vr::LO), "\u{FFFD}");
    }

    #[test]
    fn japanese_supplementary_kanji() {
        // JIS X 0212 0x30 0x21 is U+4E02.
        assert_eq!(
            decode(b"\\ISO 2022 IR 159", b"\x1b$(D0!\x1b(B", Vr::LO),
            "丂"
        );
    }

    #[test]
    fn encodes_what_it_can() {
        let latin1 = CharacterSet::parse(b"ISO_IR 100");
        assert_eq!(
            latin1.encode("Jérôme", Vr::PN).unwrap().as_ref(),
            b"J\xe9r\xf4me"
        );
        assert!(latin1.encode("Люк", Vr::PN).is_none());
        assert!(latin1.encode("é", Vr::CS).is_none());
        let cyrillic = CharacterSet::parse(b"ISO_IR 144");
        assert_eq!(
            cyrillic.encode("Люк", Vr::PN).unwrap().as_ref(),
            b"\xbb\xee\xda"
        );
        let utf8 = CharacterSet::parse(b"ISO_IR 192");
        assert_eq!(utf8.encode("王", Vr::PN).unwrap().as_ref(), "王".as_bytes());
        let gb = CharacterSet::parse(b"GB18030");
        assert_eq!(gb.encode("王", Vr::PN).unwrap().as_ref(), b"\xcd\xf5");
        assert_eq!(
            CharacterSet::default()
                .encode("plain", Vr::LO)
                .unwrap()
                .as_ref(),
            b"plain"
        );
        // The default repertoire has no é: writing ISO 8859-1 bytes without declaring
        // (0008,0005) would be wrong.
        assert!(CharacterSet::default().encode("é", Vr::LO).is_none());
    }
}
