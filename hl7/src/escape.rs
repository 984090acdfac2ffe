//! Escape sequences: decoding values and encoding text (HL7 v2 ch. 2, "use of escape
//! sequences in text fields").
//!
//! An escape sequence is the message's escape character, a code, optional data and the
//! escape character again; sequences do not nest and are read left to right in pairs, so
//! `\X0D\\X0A\` is two sequences. Decoding uses the message's own delimiters: with
//! `MSH|^~$&`, `$F$` is the field separator and `\` is ordinary data.
//!
//! | Sequence | Meaning | Decoded as |
//! |---|---|---|
//! | `\F\` `\S\` `\T\` `\R\` `\E\` | field, component, subcomponent, repetition, escape character | that delimiter |
//! | `\P\` | truncation character (v2.7+) | that character (unknown if MSH-2 has no 5th char) |
//! | `\Xhhhh…\` | bytes, as pairs of hex digits, in the message charset | those bytes (then decoded with MSH-18); `\X\` is nothing |
//! | `\.br\` | line break (FT) | a line break ([`LineBreak`]) |
//! | `\.sp n\` | end line, skip `n` (default 1) lines (FT) | `n` line breaks (at most 64) |
//! | `\.sk n\` | skip `n` (default 1) spaces (FT) | `n` spaces (at most 64) |
//! | `\.ce\` | end line and centre the next (FT) | a line break |
//! | `\.fi\` `\.nf\` | fill / no-fill mode (FT) | nothing (layout state only) |
//! | `\.in ±n\` `\.ti ±n\` | indent / temporary indent (FT) | nothing (layout state only) |
//! | `\H\` `\N\` | start / end highlighting | kept verbatim |
//! | `\Zxxx\` | locally defined | kept verbatim |
//! | `\Cxxyy\` `\Mxxyy\` `\Mxxyyzz\` | ISO 2022 charset switches (with MSH-18/MSH-20) | kept verbatim |
//!
//! With [`FormattingEscapes::Verbatim`], the `\.xx\` formatting commands are all kept
//! verbatim too, for callers that render FT themselves.
//!
//! Malformed input never fails in lenient mode: an unknown code, a `\X…\` with an odd
//! number of digits or a non-hex digit, and an escape character without a closing one are
//! kept verbatim with a [`Warning`]; strict mode returns [`Error::InvalidEscape`] instead.
//! Values without the escape character are returned borrowed, untouched.
//!
//! ```
//! use labwire_hl7::encoding::Delimiters;
//! use labwire_hl7::escape::{decode, encode, DecodeOptions, EncodeOptions};
//! let d = Delimiters::default();
//! assert_eq!(decode(br"A\T\E\.br\B", &d, &DecodeOptions::default()).as_ref(), b"A&E\nB");
//! assert_eq!(encode("1|2^3", &d, &EncodeOptions::default()).unwrap(), r"1\F\2\S\3");
//! ```

use std::borrow::Cow;

use crate::encoding::Delimiters;
use crate::error::{Error, EscapeProblem, Location, Result, Warning, WarningKind};

/// The most line breaks or spaces one `\.sp n\` / `\.sk n\` may produce; larger counts are
/// clamped so a tiny value cannot expand into a huge allocation.
pub const MAX_FORMATTING_REPEAT: usize = 64;

/// What to do with the `\.xx\` formatting commands of formatted text (FT).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum FormattingEscapes {
    /// Turn them into plain text as the module table says (`\.br\` → line break).
    #[default]
    Interpret,
    /// Keep every formatting command verbatim.
    Verbatim,
}

/// The line break produced for `\.br\`, `\.sp\` and `\.ce\`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum LineBreak {
    /// `\n`.
    #[default]
    Lf,
    /// `\r\n`.
    CrLf,
}

impl LineBreak {
    fn bytes(self) -> &'static [u8] {
        match self {
            Self::Lf => b"\n",
            Self::CrLf => b"\r\n",
        }
    }
}

/// Options for decoding escapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// Interpret or keep the formatting commands.
    pub formatting: FormattingEscapes,
    /// The line break to produce.
    pub line_break: LineBreak,
}

impl DecodeOptions {
    /// Keep formatting commands verbatim.
    pub fn verbatim_formatting(mut self) -> Self {
        self.formatting = FormattingEscapes::Verbatim;
        self
    }

    /// Produce `\r\n` for line breaks.
    pub fn crlf_line_breaks(mut self) -> Self {
        self.line_break = LineBreak::CrLf;
        self
    }
}

/// How to write CR and LF found in text (they cannot appear raw: CR ends a segment).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum LineBreakEscape {
    /// CR as `\X0D\`, LF as `\X0A\` (exact; decodes back to the same bytes).
    #[default]
    Hex,
    /// Each CRLF, CR or LF as `\.br\` (the FT line break; decodes to [`LineBreak`]).
    FormattedBreak,
}

/// Options for encoding text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct EncodeOptions {
    /// How to write line breaks.
    pub line_breaks: LineBreakEscape,
}

impl EncodeOptions {
    /// Write line breaks as `\.br\`.
    pub fn formatted_line_breaks(mut self) -> Self {
        self.line_breaks = LineBreakEscape::FormattedBreak;
        self
    }
}

/// The outcome of reading one escape sequence.
enum Sequence<'s> {
    /// Replace the sequence with these bytes (a borrowed slice or one delimiter byte).
    Bytes(&'s [u8]),
    Byte(u8),
    Hex(&'s [u8]),
    Repeat(&'static [u8], usize),
    /// Keep the sequence as it is on the wire (a known code we do not interpret).
    Verbatim,
    Problem(EscapeProblem),
}

fn parse_count(argument: &[u8]) -> Option<usize> {
    let digits = argument.trim_ascii();
    let digits = digits
        .strip_prefix(b"+")
        .or_else(|| digits.strip_prefix(b"-"))
        .unwrap_or(digits);
    if digits.is_empty() {
        return Some(1);
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut value = 0usize;
    for digit in digits {
        value = value
            .saturating_mul(10)
            .saturating_add(usize::from(digit - b'0'));
    }
    Some(value.min(MAX_FORMATTING_REPEAT))
}

fn classify<'s>(
    content: &'s [u8],
    delimiters: &Delimiters,
    options: &DecodeOptions,
) -> Sequence<'s> {
    let delimiter =
        |value: Option<u8>| value.map_or(Sequence::Problem(EscapeProblem::Unknown), Sequence::Byte);
    match content {
        b"F" => Sequence::Byte(delimiters.field()),
        b"S" => delimiter(delimiters.component()),
        b"T" => delimiter(delimiters.subcomponent()),
        b"R" => delimiter(delimiters.repetition()),
        b"E" => delimiter(delimiters.escape()),
        b"P" => delimiter(delimiters.truncation()),
        b"H" | b"N" => Sequence::Verbatim,
        [b'X', digits @ ..] => {
            if digits.len() % 2 == 0 && digits.iter().all(u8::is_ascii_hexdigit) {
                Sequence::Hex(digits)
            } else {
                Sequence::Problem(EscapeProblem::InvalidHex)
            }
        }
        [b'Z', ..] => Sequence::Verbatim,
        [b'C', digits @ ..] if digits.len() == 4 && digits.iter().all(u8::is_ascii_hexdigit) => {
            Sequence::Verbatim
        }
        [b'M', digits @ ..]
            if (digits.len() == 4 || digits.len() == 6)
                && digits.iter().all(u8::is_ascii_hexdigit) =>
        {
            Sequence::Verbatim
        }
        [b'.', command @ ..] => classify_formatting(command, options),
        _ => Sequence::Problem(EscapeProblem::Unknown),
    }
}

fn classify_formatting<'s>(command: &'s [u8], options: &DecodeOptions) -> Sequence<'s> {
    let (name, argument) = command.split_at_checked(2).unwrap_or((command, b""));
    let takes_number = matches!(name, b"sp" | b"sk" | b"in" | b"ti");
    let count = if takes_number {
        parse_count(argument)
    } else if argument.is_empty() {
        Some(1)
    } else {
        None
    };
    let Some(count) = count else {
        return Sequence::Problem(EscapeProblem::Unknown);
    };
    if !matches!(
        name,
        b"br" | b"sp" | b"sk" | b"ce" | b"fi" | b"nf" | b"in" | b"ti"
    ) {
        return Sequence::Problem(EscapeProblem::Unknown);
    }
    if options.formatting == FormattingEscapes::Verbatim {
        return Sequence::Verbatim;
    }
    let line_break = options.line_break.bytes();
    match name {
        b"br" | b"ce" => Sequence::Bytes(line_break),
        b"sp" => Sequence::Repeat(line_break, count),
        b"sk" => Sequence::Repeat(b" ", count),
        _ => Sequence::Bytes(b""),
    }
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

/// Decodes escapes in a raw value, lenient: problems are kept verbatim and not reported.
/// Borrows when the value has no escape character.
pub fn decode<'a>(
    raw: &'a [u8],
    delimiters: &Delimiters,
    options: &DecodeOptions,
) -> Cow<'a, [u8]> {
    let mut ignored = Vec::new();
    match decode_inner(raw, delimiters, options, false, 0, None, &mut ignored) {
        Ok(decoded) => decoded,
        Err(_) => Cow::Borrowed(raw),
    }
}

/// Decodes escapes in a raw value. With `strict`, the first malformed sequence is an
/// error; otherwise it is kept verbatim and reported in `warnings`. `base_offset` is the
/// offset of `raw` in the message, used in errors and warnings.
///
/// ```
/// use labwire_hl7::encoding::Delimiters;
/// use labwire_hl7::escape::{decode_checked, DecodeOptions};
/// let d = Delimiters::default();
/// let mut warnings = Vec::new();
/// let text = decode_checked(br"4\5", &d, &DecodeOptions::default(), false, 0, &mut warnings).unwrap();
/// assert_eq!(text.as_ref(), br"4\5");
/// assert_eq!(warnings.len(), 1);
/// assert!(decode_checked(br"4\5", &d, &DecodeOptions::default(), true, 0, &mut warnings).is_err());
/// ```
pub fn decode_checked<'a>(
    raw: &'a [u8],
    delimiters: &Delimiters,
    options: &DecodeOptions,
    strict: bool,
    base_offset: usize,
    warnings: &mut Vec<Warning>,
) -> Result<Cow<'a, [u8]>> {
    decode_inner(
        raw,
        delimiters,
        options,
        strict,
        base_offset,
        None,
        warnings,
    )
}

pub(crate) fn decode_inner<'a>(
    raw: &'a [u8],
    delimiters: &Delimiters,
    options: &DecodeOptions,
    strict: bool,
    base_offset: usize,
    location: Option<Location>,
    warnings: &mut Vec<Warning>,
) -> Result<Cow<'a, [u8]>> {
    let Some(escape) = delimiters.escape() else {
        return Ok(Cow::Borrowed(raw));
    };
    let Some(first) = memchr::memchr(escape, raw) else {
        return Ok(Cow::Borrowed(raw));
    };
    let mut out = Vec::with_capacity(raw.len());
    out.extend_from_slice(raw.get(..first).unwrap_or_default());
    let mut start = first;
    // Invariant: `raw[start]` is an escape character (or `start == raw.len()`).
    while let Some(after_open) = raw.get(start.saturating_add(1)..) {
        let report = |problem: EscapeProblem, warnings: &mut Vec<Warning>| -> Result<()> {
            let offset = base_offset.saturating_add(start);
            if strict {
                return Err(Error::InvalidEscape {
                    offset,
                    location: location.unwrap_or_default(),
                    problem,
                });
            }
            warnings.push(Warning::new(WarningKind::Escape(problem), offset, location));
            Ok(())
        };
        let Some(content_len) = memchr::memchr(escape, after_open) else {
            report(EscapeProblem::Unterminated, warnings)?;
            out.extend_from_slice(raw.get(start..).unwrap_or_default());
            break;
        };
        let content = after_open.get(..content_len).unwrap_or_default();
        let close = start.saturating_add(1).saturating_add(content_len);
        let whole = raw.get(start..=close).unwrap_or_default();
        match classify(content, delimiters, options) {
            Sequence::Bytes(bytes) => out.extend_from_slice(bytes),
            Sequence::Byte(byte) => out.push(byte),
            Sequence::Hex(digits) => {
                out.extend(digits.chunks_exact(2).map(|pair| match pair {
                    [high, low] => (hex_value(*high) << 4) | hex_value(*low),
                    _ => 0,
                }));
            }
            Sequence::Repeat(bytes, count) => {
                for _ in 0..count {
                    out.extend_from_slice(bytes);
                }
            }
            Sequence::Verbatim => out.extend_from_slice(whole),
            Sequence::Problem(problem) => {
                report(problem, warnings)?;
                out.extend_from_slice(whole);
            }
        }
        let next = close.saturating_add(1);
        let rest = raw.get(next..).unwrap_or_default();
        match memchr::memchr(escape, rest) {
            Some(position) => {
                out.extend_from_slice(rest.get(..position).unwrap_or_default());
                start = next.saturating_add(position);
            }
            None => {
                out.extend_from_slice(rest);
                break;
            }
        }
    }
    Ok(Cow::Owned(out))
}

/// Escapes text so it can be placed in a value: every delimiter becomes `\F\`, `\S\`,
/// `\T\`, `\R\` or `\E\`, and CR/LF become `\X0D\`/`\X0A\` (or `\.br\`). The truncation
/// character is data and left alone. Borrows when nothing needs escaping. Fails with
/// [`EscapeProblem::NoEscapeCharacter`] when escaping is needed but MSH-2 defines no
/// escape character.
///
/// ```
/// use labwire_hl7::encoding::Delimiters;
/// use labwire_hl7::escape::{encode, EncodeOptions};
/// let d = Delimiters::default();
/// assert_eq!(encode("a\rb", &d, &EncodeOptions::default()).unwrap(), r"a\X0D\b");
/// assert_eq!(encode("a\r\nb", &d, &EncodeOptions::default().formatted_line_breaks()).unwrap(), r"a\.br\b");
/// ```
pub fn encode<'a>(
    text: &'a str,
    delimiters: &Delimiters,
    options: &EncodeOptions,
) -> Result<Cow<'a, str>> {
    Ok(match encode_bytes(text.as_bytes(), delimiters, options)? {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        // Only ASCII bytes were replaced by ASCII sequences, so the result is UTF-8.
        Cow::Owned(bytes) => Cow::Owned(match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
        }),
    })
}

/// [`encode`] for bytes in any ASCII-compatible charset.
pub fn encode_bytes<'a>(
    bytes: &'a [u8],
    delimiters: &Delimiters,
    options: &EncodeOptions,
) -> Result<Cow<'a, [u8]>> {
    let needs_escape = |b: u8| delimiters.is_structural(b) || b == b'\r' || b == b'\n';
    let Some(first) = bytes.iter().position(|&b| needs_escape(b)) else {
        return Ok(Cow::Borrowed(bytes));
    };
    let Some(escape) = delimiters.escape() else {
        return Err(Error::InvalidEscape {
            offset: first,
            location: Location::message(),
            problem: EscapeProblem::NoEscapeCharacter,
        });
    };
    let mut out = Vec::with_capacity(bytes.len().saturating_add(16));
    out.extend_from_slice(bytes.get(..first).unwrap_or_default());
    let mut rest = bytes.get(first..).unwrap_or_default();
    let sequence = |out: &mut Vec<u8>, code: &[u8]| {
        out.push(escape);
        out.extend_from_slice(code);
        out.push(escape);
    };
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        let code: &[u8] = if byte == delimiters.field() {
            b"F"
        } else if Some(byte) == delimiters.component() {
            b"S"
        } else if Some(byte) == delimiters.subcomponent() {
            b"T"
        } else if Some(byte) == delimiters.repetition() {
            b"R"
        } else if byte == escape {
            b"E"
        } else if byte == b'\r' || byte == b'\n' {
            match options.line_breaks {
                LineBreakEscape::Hex if byte == b'\r' => b"X0D",
                LineBreakEscape::Hex => b"X0A",
                LineBreakEscape::FormattedBreak => {
                    if byte == b'\r'
                        && let Some(after_lf) = rest.strip_prefix(b"\n")
                    {
                        rest = after_lf;
                    }
                    b".br"
                }
            }
        } else {
            out.push(byte);
            continue;
        };
        sequence(&mut out, code);
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lenient(raw: &[u8]) -> (Vec<u8>, Vec<Warning>) {
        let mut warnings = Vec::new();
        let decoded = decode_checked(
            raw,
            &Delimiters::default(),
            &DecodeOptions::default(),
            false,
            0,
            &mut warnings,
        )
        .unwrap();
        (decoded.into_owned(), warnings)
    }

    #[test]
    fn delimiter_escapes_use_the_message_delimiters() {
        let custom = Delimiters::new(b'#', b'$', b'%', b'@', b'!').unwrap();
        let decoded = decode(
            b"a@F@b@S@c@T@d@R@e@E@f\\F\\",
            &custom,
            &DecodeOptions::default(),
        );
        assert_eq!(decoded.as_ref(), b"a#b$c!d%e@f\\F\\");
    }

    #[test]
    fn value_without_escape_is_borrowed() {
        let raw = b"plain text";
        assert!(matches!(
            decode(raw, &Delimiters::default(), &DecodeOptions::default()),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn hex_escape_yields_bytes() {
        assert_eq!(lenient(br"\XC3A9\").0, "é".as_bytes());
        assert_eq!(lenient(br"a\X\b").0, b"ab");
        let (decoded, warnings) = lenient(br"\X0\\XZZ\");
        assert_eq!(decoded, br"\X0\\XZZ\");
        assert_eq!(warnings.len(), 2);
        assert_eq!(warnings[1].offset, 4);
    }

    #[test]
    fn back_to_back_escapes_are_read_pairwise() {
        assert_eq!(lenient(br"\X0D\\X0A\").0, b"\r\n");
    }

    #[test]
    fn escape_character_at_end_of_field_does_not_panic() {
        // Efferent HL7-dotnetcore #113: `…\E\\` at the end of a field.
        let (decoded, warnings) = lenient(br"abc\E\\");
        assert_eq!(decoded, br"abc\\");
        assert_eq!(
            warnings[0].kind,
            WarningKind::Escape(EscapeProblem::Unterminated)
        );
        assert_eq!(lenient(br"\").0, br"\");
    }

    #[test]
    fn bare_escape_character_in_z_segment_is_literal() {
        // Efferent HL7-dotnetcore #77: `4\5`.
        let (decoded, warnings) = lenient(br"4\5");
        assert_eq!(decoded, br"4\5");
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn formatting_commands_interpreted_or_verbatim() {
        let raw = br"a\.br\b\.sp2\c\.sk 3\d\.in+4\\.fi\e\.ce\";
        assert_eq!(lenient(raw).0, b"a\nb\n\nc   de\n");
        let verbatim = decode(
            raw,
            &Delimiters::default(),
            &DecodeOptions::default().verbatim_formatting(),
        );
        assert_eq!(verbatim.as_ref(), raw);
        let crlf = decode(
            br"a\.br\b",
            &Delimiters::default(),
            &DecodeOptions::default().crlf_line_breaks(),
        );
        assert_eq!(crlf.as_ref(), b"a\r\nb");
        let (_, warnings) = lenient(br"\.xx\\.spx\");
        assert_eq!(warnings.len(), 2);
    }

    #[test]
    fn huge_formatting_count_is_clamped() {
        assert_eq!(
            lenient(br"\.sp99999999999999999999999\").0.len(),
            MAX_FORMATTING_REPEAT
        );
    }

    #[test]
    fn highlight_custom_and_charset_escapes_kept_verbatim_without_warning() {
        let raw = br"\H\bold\N\ \Zabc\ \C2842\ \M2442\ \M242842\";
        let (decoded, warnings) = lenient(raw);
        assert_eq!(decoded, raw);
        assert!(warnings.is_empty());
    }

    #[test]
    fn truncation_escape_needs_a_truncation_character() {
        let with = Delimiters::default().with_truncation(b'#').unwrap();
        assert_eq!(
            decode(br"a\P\", &with, &DecodeOptions::default()).as_ref(),
            b"a#"
        );
        assert_eq!(lenient(br"a\P\").1.len(), 1);
    }

    #[test]
    fn unbalanced_range_in_molis_reference_text_stays_verbatim() {
        // nhapi_oru_r01_v24_molis: OBX-7 uses a bare `\` as a visual separator.
        let raw = br"(1.6-12.0)a \ (8.0-22.0)Peak \ (0.9-12.0)Luteal";
        let (decoded, warnings) = lenient(raw);
        assert_eq!(decoded, raw);
        // The two backslashes pair up into one unknown sequence.
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].offset, 12);
    }

    #[test]
    fn strict_mode_reports_offset_of_escape_character() {
        let err = decode_checked(
            br"ab\Q\",
            &Delimiters::default(),
            &DecodeOptions::default(),
            true,
            10,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert_eq!(err.offset(), Some(12));
    }

    #[test]
    fn encode_without_escape_character_fails_only_when_needed() {
        let (no_escape, _) = Delimiters::from_header(b"MSH|^~|", 0, false).unwrap();
        assert_eq!(
            encode("abc", &no_escape, &EncodeOptions::default()).unwrap(),
            "abc"
        );
        assert!(encode("a^b", &no_escape, &EncodeOptions::default()).is_err());
    }

    #[test]
    fn encode_leaves_truncation_character_alone() {
        let with = Delimiters::default().with_truncation(b'#').unwrap();
        assert_eq!(
            encode("a#b", &with, &EncodeOptions::default()).unwrap(),
            "a#b"
        );
    }

    fn delimiter_set() -> impl Strategy<Value = Delimiters> {
        let pool: Vec<u8> = (0x20u8..0x7F)
            .filter(|b| !b.is_ascii_alphanumeric())
            .collect();
        proptest::sample::subsequence(pool, 5)
            .prop_shuffle()
            .prop_map(|v| Delimiters::new(v[0], v[1], v[2], v[3], v[4]).unwrap())
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(text in "\\PC*|[\\\\|^~&#$%@!\r\n a-c]*", delimiters in delimiter_set()) {
            let encoded = encode(&text, &delimiters, &EncodeOptions::default()).unwrap();
            let mut warnings = Vec::new();
            let decoded = decode_checked(
                encoded.as_bytes(), &delimiters, &DecodeOptions::default(), true, 0, &mut warnings,
            ).unwrap();
            prop_assert_eq!(decoded.as_ref(), text.as_bytes());
            prop_assert!(warnings.is_empty());
            // Encoded text contains no structural byte except escape characters.
            for byte in encoded.bytes() {
                prop_assert!(byte == delimiters.escape().unwrap() || !delimiters.is_structural(byte));
                prop_assert!(byte != b'\r' && byte != b'\n');
            }
        }

        #[test]
        fn decode_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..64), delimiters in delimiter_set()) {
            let _ = decode(&raw, &delimiters, &DecodeOptions::default());
        }
    }
}
