//! Codes with their systems (LOINC, UCUM, SNOMED CT, HL7 tables, local), units and
//! identifiers.

use std::fmt;

use crate::error::{ModelError, Result};
use crate::inline::InlineAscii;
use crate::text::Text;

const LOINC_URI: &str = "http://loinc.org";
const UCUM_URI: &str = "http://unitsofmeasure.org";
const SNOMED_URI: &str = "http://snomed.info/sct";
const HL7_TABLE_PREFIX: &str = "http://terminology.hl7.org/CodeSystem/v2-";
const LOCAL_PREFIX: &str = "local:";
const LOCAL: &str = "local";

/// The system a code belongs to.
///
/// The well-known systems are variants; a sender's own code table is
/// [`CodeSystem::Local`] (HL7 `99xxx` or `L`, an ASTM instrument's test codes); any
/// other named system is [`CodeSystem::Other`]. The JSON form is one string, the FHIR
/// system URI where one exists:
///
/// | variant | JSON |
/// |---|---|
/// | `Loinc` | `"http://loinc.org"` |
/// | `Ucum` | `"http://unitsofmeasure.org"` |
/// | `Snomed` | `"http://snomed.info/sct"` |
/// | `Hl7Table(78)` | `"http://terminology.hl7.org/CodeSystem/v2-0078"` |
/// | `Local("99ABB")` | `"local:99ABB"` |
/// | `Local("")` | `"local"` (the sender's codes, unnamed) |
/// | `Other("I10")` | `"I10"` |
///
/// Equality compares that string, so `Other("http://loinc.org")` equals `Loinc`;
/// [`CodeSystem::from_uri`] always returns the specific variant.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CodeSystem {
    /// LOINC, the observation identifiers (`2345-7` glucose).
    Loinc,
    /// UCUM, the units of measure (`mmol/L`).
    Ucum,
    /// SNOMED CT.
    Snomed,
    /// An HL7 version 2 table by number (`78` is table 0078).
    Hl7Table(u16),
    /// The sending system's own codes, with the name it gives its table (may be empty).
    Local(Text),
    /// Any other named system, as its URI or mnemonic.
    Other(Text),
}

impl CodeSystem {
    /// Reads the JSON/URI form (see the type documentation); never fails, since an
    /// unrecognized name is kept as [`CodeSystem::Other`].
    #[must_use]
    pub fn from_uri(uri: &str) -> Self {
        match uri {
            LOINC_URI => return Self::Loinc,
            UCUM_URI => return Self::Ucum,
            SNOMED_URI => return Self::Snomed,
            LOCAL => return Self::Local(Text::new()),
            _ => {}
        }
        if let Some(name) = uri.strip_prefix(LOCAL_PREFIX) {
            // "local:" alone would write back as "local"; keep it verbatim instead.
            if !name.is_empty() {
                return Self::Local(name.into());
            }
        }
        // Only the canonical zero-padded spelling maps, so writing it back gives the
        // same text.
        if let Some(number) = uri.strip_prefix(HL7_TABLE_PREFIX)
            && let Ok(table) = number.parse::<u16>()
            && format!("{table:04}") == number
        {
            return Self::Hl7Table(table);
        }
        Self::Other(uri.into())
    }

    /// The JSON/URI form.
    #[must_use]
    pub fn uri(&self) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        let parts = SystemUri::of(self);
        if let Some(whole) = parts.whole() {
            return Cow::Borrowed(whole);
        }
        let tail = std::str::from_utf8(parts.tail()).unwrap_or_default();
        Cow::Owned([parts.head(), tail].concat())
    }

    /// Whether codes of this system are the sender's own.
    #[must_use]
    pub fn is_local(&self) -> bool {
        match self {
            Self::Local(_) => true,
            // Only an `Other` can name a system it is not; read it as its URI.
            Self::Other(uri) => matches!(Self::from_uri(uri), Self::Local(_)),
            _ => false,
        }
    }
}

/// A code system's URI ([`CodeSystem::uri`]) as a constant head and a tail, the URI
/// being the two one after the other: what `uri()` builds, and what the MQTT payload
/// writer and result ids take as they are, without allocating for every coding.
pub(crate) struct SystemUri<'a> {
    head: &'static str,
    tail: Tail<'a>,
}

enum Tail<'a> {
    Str(&'static str),
    Text(&'a Text),
    /// An HL7 table number: its digits (4 or 5, zero-padded to 4) at the end.
    Digits([u8; 5], usize),
}

impl<'a> SystemUri<'a> {
    /// The URI of `system` in pieces.
    pub(crate) fn of(system: &'a CodeSystem) -> Self {
        let whole = |uri: &'static str| Self {
            head: "",
            tail: Tail::Str(uri),
        };
        match system {
            CodeSystem::Loinc => whole(LOINC_URI),
            CodeSystem::Ucum => whole(UCUM_URI),
            CodeSystem::Snomed => whole(SNOMED_URI),
            CodeSystem::Local(name) if name.is_empty() => whole(LOCAL),
            CodeSystem::Local(name) => Self {
                head: LOCAL_PREFIX,
                tail: Tail::Text(name),
            },
            CodeSystem::Other(name) => Self {
                head: "",
                tail: Tail::Text(name),
            },
            CodeSystem::Hl7Table(table) => {
                // `{table:04}`: at least four digits.
                let mut digits = [b'0'; 5];
                let mut rest = *table;
                for digit in digits.iter_mut().rev() {
                    // A digit: below 10.
                    *digit = b'0' + (rest % 10) as u8;
                    rest /= 10;
                }
                let len = if *table >= 10_000 { 5 } else { 4 };
                Self {
                    head: HL7_TABLE_PREFIX,
                    tail: Tail::Digits(digits, len),
                }
            }
        }
    }

    /// The URI, when it is one piece (no head).
    pub(crate) fn whole(&self) -> Option<&'a str> {
        match self.tail {
            Tail::Str(text) if self.head.is_empty() => Some(text),
            Tail::Text(text) if self.head.is_empty() => Some(text.as_str()),
            _ => None,
        }
    }

    /// [`Self::whole`]'s bytes (UTF-8), without a UTF-8 check of a `Text`.
    pub(crate) fn whole_bytes(&self) -> Option<&'a [u8]> {
        match self.tail {
            Tail::Str(text) if self.head.is_empty() => Some(text.as_bytes()),
            Tail::Text(text) if self.head.is_empty() => Some(text.as_bytes()),
            _ => None,
        }
    }

    /// The constant head.
    pub(crate) fn head(&self) -> &'static str {
        self.head
    }

    /// The tail's bytes (UTF-8).
    pub(crate) fn tail(&self) -> &[u8] {
        match &self.tail {
            Tail::Str(text) => text.as_bytes(),
            Tail::Text(text) => text.as_bytes(),
            Tail::Digits(digits, len) => digits
                .get(digits.len().saturating_sub(*len)..)
                .unwrap_or_default(),
        }
    }

    /// Head and tail in `buffer`, when they fit: the URI's bytes (UTF-8).
    pub(crate) fn join<'b>(&self, buffer: &'b mut [u8; 64]) -> Option<&'b [u8]> {
        let (head, tail) = (self.head.as_bytes(), self.tail());
        let len = head.len().checked_add(tail.len())?;
        let (head_room, tail_room) = buffer.get_mut(..len)?.split_at_mut(head.len());
        head_room.copy_from_slice(head);
        tail_room.copy_from_slice(tail);
        buffer.get(..len)
    }
}

impl PartialEq for CodeSystem {
    /// Equal when the URIs are; compared structurally so that no URI is formatted,
    /// except that an `Other` naming a known system is read as that system.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            // Distinct strings are distinct URIs: an `Other`'s URI is its string.
            (Self::Other(a), Self::Other(b)) => a == b,
            (Self::Other(uri), known) | (known, Self::Other(uri)) => match Self::from_uri(uri) {
                Self::Other(_) => false,
                canonical => canonical == *known,
            },
            (Self::Loinc, Self::Loinc)
            | (Self::Ucum, Self::Ucum)
            | (Self::Snomed, Self::Snomed) => true,
            (Self::Hl7Table(a), Self::Hl7Table(b)) => a == b,
            (Self::Local(a), Self::Local(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for CodeSystem {}

impl std::hash::Hash for CodeSystem {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.uri().hash(state);
    }
}

impl Default for CodeSystem {
    /// A code with no stated system is the sender's own.
    fn default() -> Self {
        Self::Local(Text::new())
    }
}

impl fmt::Display for CodeSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri())
    }
}

impl serde::Serialize for CodeSystem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.uri())
    }
}

impl<'de> serde::Deserialize<'de> for CodeSystem {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(crate::text_serde::CodeVisitor(Self::from_uri))
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for CodeSystem {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u.int_in_range(0..=5)? {
            0 => Self::Loinc,
            1 => Self::Ucum,
            2 => Self::Snomed,
            3 => Self::Hl7Table(u16::arbitrary(u)?),
            4 => Self::Local(Text::arbitrary(u)?),
            _ => Self::Other(Text::arbitrary(u)?),
        })
    }
}

/// A code from a code system, with the display text the sender gave it.
///
/// This is the shape of HL7 CWE/CE components 1–3, an ASTM universal test id, a
/// DICOM code sequence item, and a FHIR `Coding`.
///
/// JSON: `{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}`
/// (`display` omitted when absent).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Coding {
    /// The code system.
    pub system: CodeSystem,
    /// The code, as sent.
    pub code: Text,
    /// Human-readable text the sender attached, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Text>,
}

impl Coding {
    /// A code in a system, without display text.
    #[must_use]
    pub fn new(system: CodeSystem, code: impl Into<Text>) -> Self {
        Self {
            system,
            code: code.into(),
            display: None,
        }
    }

    /// A code from the sender's own, unnamed table (an instrument's test code).
    #[must_use]
    pub fn local(code: impl Into<Text>) -> Self {
        Self::new(CodeSystem::default(), code)
    }

    /// Adds display text.
    #[must_use]
    pub fn with_display(mut self, display: impl Into<Text>) -> Self {
        self.display = Some(display.into());
        self
    }
}

/// A LOINC observation code whose check digit has been verified, such as `2345-7`.
///
/// LOINC codes are digits, a hyphen, and a mod-10 check digit computed with the
/// Luhn algorithm over the digits (LOINC Users' Guide). A transposed digit or a
/// truncated code is the most common mapping-table mistake, so the model refuses
/// codes whose check digit does not match. LOINC part (`LP`) and answer (`LA`)
/// codes are not observation codes and are refused.
///
/// ```
/// use labwire_model::LoincCode;
/// assert_eq!(LoincCode::parse("2345-7")?.as_str(), "2345-7");
/// assert!(LoincCode::parse("2345-8").is_err());
/// assert_eq!(LoincCode::from_number(2345)?.as_str(), "2345-7");
/// # Ok::<(), labwire_model::ModelError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LoincCode(InlineAscii<LOINC_MAX_LEN>);

/// Most digits before the hyphen; today's codes have at most 6.
const LOINC_MAX_DIGITS: usize = 8;
/// Digits, hyphen, check digit.
const LOINC_MAX_LEN: usize = LOINC_MAX_DIGITS + 2;

fn inline_loinc(text: &[u8]) -> Result<LoincCode> {
    InlineAscii::from_ascii(text)
        .map(LoincCode)
        .ok_or(loinc_error(0, "too long for a LOINC code"))
}

fn loinc_error(offset: usize, reason: &'static str) -> ModelError {
    ModelError::Loinc { offset, reason }
}

impl LoincCode {
    /// Reads and verifies a code such as `718-7`.
    ///
    /// # Errors
    /// [`ModelError::Loinc`] for a malformed code or a wrong check digit.
    pub fn parse(text: &str) -> Result<Self> {
        let bytes = text.as_bytes();
        let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return Err(loinc_error(0, "expected a digit"));
        }
        if digits > LOINC_MAX_DIGITS {
            return Err(loinc_error(LOINC_MAX_DIGITS, "too many digits"));
        }
        if bytes.get(digits) != Some(&b'-') {
            return Err(loinc_error(digits, "expected '-' before the check digit"));
        }
        let check = match bytes.get(digits + 1) {
            Some(b) if b.is_ascii_digit() => b - b'0',
            _ => return Err(loinc_error(digits + 1, "expected the check digit")),
        };
        if bytes.len() != digits + 2 {
            return Err(loinc_error(
                digits + 2,
                "unexpected text after the check digit",
            ));
        }
        let number = bytes.get(..digits).unwrap_or_default();
        if Self::check_digit(number) != Some(check) {
            return Err(loinc_error(digits + 1, "check digit does not match"));
        }
        inline_loinc(bytes)
    }

    /// Builds the code for a LOINC number, computing its check digit.
    ///
    /// # Errors
    /// [`ModelError::Loinc`] if the number has more digits than a LOINC code.
    pub fn from_number(number: u32) -> Result<Self> {
        let digits = number.to_string();
        if digits.len() > LOINC_MAX_DIGITS {
            return Err(loinc_error(LOINC_MAX_DIGITS, "too many digits"));
        }
        let check =
            Self::check_digit(digits.as_bytes()).ok_or(loinc_error(0, "expected digits"))?;
        inline_loinc(format!("{digits}-{check}").as_bytes())
    }

    /// The LOINC mod-10 (Luhn) check digit of the ASCII digits before the hyphen;
    /// `None` if `digits` is empty or holds anything but ASCII digits.
    #[must_use]
    pub fn check_digit(digits: &[u8]) -> Option<u8> {
        if digits.is_empty() {
            return None;
        }
        let mut sum: u8 = 0;
        // From the right, every other digit starting with the rightmost is doubled.
        for (position, &byte) in digits.iter().rev().enumerate() {
            if !byte.is_ascii_digit() {
                return None;
            }
            let digit = byte - b'0';
            let term = if position % 2 == 0 {
                let doubled = digit * 2;
                doubled / 10 + doubled % 10
            } else {
                digit
            };
            // Kept mod 10 as it goes, so no input length can overflow it.
            sum = (sum + term) % 10;
        }
        Some((10 - sum) % 10)
    }

    /// The same text as ASCII bytes, without the UTF-8 check `as_str` pays.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The code text, such as `2345-7`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// This code as a [`Coding`] in the LOINC system.
    #[must_use]
    pub fn to_coding(&self) -> Coding {
        Coding::new(CodeSystem::Loinc, self.as_str())
    }
}

impl fmt::Debug for LoincCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LoincCode({})", self.as_str())
    }
}

impl fmt::Display for LoincCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for LoincCode {
    type Err = ModelError;
    fn from_str(text: &str) -> Result<Self> {
        Self::parse(text)
    }
}

impl serde::Serialize for LoincCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for LoincCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(crate::text_serde::TextVisitor {
            parse: Self::parse,
            expecting: "a LOINC code such as \"2345-7\"",
        })
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for LoincCode {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Self::from_number(u.int_in_range(1..=99_999_999)?)
            .map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}

/// A unit of measure: the instrument's own text and, when known, the UCUM code.
///
/// Instruments rarely send UCUM (`mg/dl`, `x10E3/uL`, `10^9/L`); the original text is
/// always kept, and the UCUM code is filled by a mapping table where one exists.
///
/// JSON: `{"original": "mg/dl", "ucum": "mg/dL"}` (`ucum` omitted when unknown).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Unit {
    /// The unit exactly as the instrument wrote it.
    pub original: Text,
    /// The UCUM code, when the unit is known to be one or has been mapped to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ucum: Option<Text>,
}

impl Unit {
    /// A unit as written by the instrument, UCUM unknown.
    #[must_use]
    pub fn new(original: impl Into<Text>) -> Self {
        Self {
            original: original.into(),
            ucum: None,
        }
    }

    /// A unit whose text is also its UCUM code.
    #[must_use]
    pub fn ucum(code: impl Into<Text>) -> Self {
        let code = code.into();
        Self {
            original: code.clone(),
            ucum: Some(code),
        }
    }
}

/// An identifier with its type and issuer: a medical record number, an accession
/// number, a placer order number, a device serial.
///
/// Shaped after HL7 CX/EI (value, type code from table 0203, assigning authority).
/// Identifiers of people and specimens are wrapped in
/// [`Sensitive`](crate::Sensitive) where the model holds them.
///
/// JSON: `{"value": "12345", "kind": "MR", "assigner": "HOSP"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Identifier {
    /// The identifier itself.
    pub value: Text,
    /// What kind of identifier it is (HL7 table 0203).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<crate::IdentifierType>,
    /// Who issued it (HL7 assigning authority, DICOM issuer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigner: Option<Text>,
}

impl Identifier {
    /// An identifier with no stated type or issuer.
    #[must_use]
    pub fn new(value: impl Into<Text>) -> Self {
        Self {
            value: value.into(),
            kind: None,
            assigner: None,
        }
    }

    /// Sets the identifier type.
    #[must_use]
    pub fn with_kind(mut self, kind: crate::IdentifierType) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Sets the issuer.
    #[must_use]
    pub fn with_assigner(mut self, assigner: impl Into<Text>) -> Self {
        self.assigner = Some(assigner.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes checked against the LOINC table (research note, appendix A.4).
    const VALID: [&str; 9] = [
        "2345-7", "2160-0", "718-7", "6690-2", "789-8", "2951-2", "2823-3", "4548-4", "1920-8",
    ];

    #[test]
    fn known_loinc_codes_pass_the_check_digit() {
        for code in VALID {
            assert_eq!(LoincCode::parse(code).unwrap().as_str(), code);
            let (number, _) = code.split_once('-').unwrap();
            assert_eq!(
                LoincCode::from_number(number.parse().unwrap())
                    .unwrap()
                    .as_str(),
                code
            );
        }
    }

    #[test]
    fn every_wrong_check_digit_is_refused() {
        for code in VALID {
            let (number, check) = code.split_once('-').unwrap();
            for wrong in (0..=9).filter(|d| d.to_string() != check) {
                let err = LoincCode::parse(&format!("{number}-{wrong}")).unwrap_err();
                assert_eq!(
                    err,
                    ModelError::Loinc {
                        offset: number.len() + 1,
                        reason: "check digit does not match"
                    }
                );
            }
        }
    }

    #[test]
    fn malformed_loinc_codes_name_the_offset() {
        let offset = |text| match LoincCode::parse(text) {
            Err(ModelError::Loinc { offset, .. }) => offset,
            other => panic!("{other:?}"),
        };
        assert_eq!(offset(""), 0);
        assert_eq!(offset("-7"), 0);
        assert_eq!(offset("2345"), 4);
        assert_eq!(offset("2345-"), 5);
        assert_eq!(offset("2345-77"), 6);
        assert_eq!(offset("2345 -7"), 4);
        assert_eq!(offset("LP2345-7"), 0);
        assert_eq!(offset("123456789-0"), 8);
        // A transposition (2354 for 2345) is caught by the check digit.
        assert_eq!(offset("2354-7"), 5);
    }

    #[test]
    fn check_digit_rejects_non_digits() {
        assert_eq!(LoincCode::check_digit(b""), None);
        assert_eq!(LoincCode::check_digit(b"12a"), None);
        assert_eq!(LoincCode::check_digit(b"0"), Some(0));
    }

    /// The running sum is kept mod 10 (so no input length can overflow it); it must
    /// agree with the plain Luhn sum on long inputs.
    #[test]
    fn check_digit_mod_as_you_go_matches_a_wide_sum() {
        let reference = |digits: &[u8]| {
            let sum: u64 = digits
                .iter()
                .rev()
                .enumerate()
                .map(|(i, b)| {
                    let d = u64::from(b - b'0');
                    if i % 2 == 0 {
                        (d * 2) / 10 + (d * 2) % 10
                    } else {
                        d
                    }
                })
                .sum();
            u8::try_from((10 - sum % 10) % 10).unwrap()
        };
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for len in [1, 2, 7, 8, 100, 10_000] {
            let digits: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    b'0' + u8::try_from(state % 10).unwrap()
                })
                .collect();
            assert_eq!(
                LoincCode::check_digit(&digits),
                Some(reference(&digits)),
                "{len}"
            );
        }
        assert_eq!(
            LoincCode::check_digit(&[b'9'; 100_000]),
            Some(reference(&[b'9'; 100_000]))
        );
    }

    #[test]
    fn loinc_json_is_validated() {
        assert!(serde_json::from_str::<LoincCode>("\"2345-7\"").is_ok());
        let err = serde_json::from_str::<LoincCode>("\"2345-1\"").unwrap_err();
        assert!(err.to_string().contains("check digit"), "{err}");
    }

    fn joined(system: &CodeSystem) -> String {
        let uri = SystemUri::of(system);
        let mut text = uri.head().as_bytes().to_vec();
        text.extend_from_slice(uri.tail());
        String::from_utf8(text).unwrap()
    }

    /// The URIs as the model defines them, written out independently of `SystemUri`.
    fn expected_uri(system: &CodeSystem) -> String {
        match system {
            CodeSystem::Loinc => "http://loinc.org".into(),
            CodeSystem::Ucum => "http://unitsofmeasure.org".into(),
            CodeSystem::Snomed => "http://snomed.info/sct".into(),
            CodeSystem::Hl7Table(table) => {
                format!("http://terminology.hl7.org/CodeSystem/v2-{table:04}")
            }
            CodeSystem::Local(name) if name.is_empty() => "local".into(),
            CodeSystem::Local(name) => format!("local:{name}"),
            CodeSystem::Other(name) => name.clone().into(),
        }
    }

    #[test]
    fn the_uri_pieces_make_every_systems_uri() {
        let mut systems = vec![
            CodeSystem::Loinc,
            CodeSystem::Ucum,
            CodeSystem::Snomed,
            CodeSystem::Local(Text::new()),
            CodeSystem::Local("99ABB".into()),
            CodeSystem::Local("ü \"x\"".into()),
            CodeSystem::Other("I10".into()),
            CodeSystem::Other(Text::new()),
        ];
        systems.extend((0..=u16::MAX).map(CodeSystem::Hl7Table));
        let mut buffer = [0u8; 64];
        for system in &systems {
            assert_eq!(system.uri(), expected_uri(system), "{system:?}");
            assert_eq!(joined(system), expected_uri(system), "{system:?}");
            let uri = SystemUri::of(system);
            assert_eq!(
                uri.join(&mut buffer).unwrap(),
                expected_uri(system).as_bytes(),
                "{system:?}"
            );
        }
        let long = CodeSystem::Local("n".repeat(60).into());
        assert!(SystemUri::of(&long).join(&mut buffer).is_none());
        assert_eq!(joined(&long), expected_uri(&long));
    }

    #[test]
    fn code_system_uris_round_trip() {
        let systems = [
            (CodeSystem::Loinc, "http://loinc.org"),
            (CodeSystem::Ucum, "http://unitsofmeasure.org"),
            (CodeSystem::Snomed, "http://snomed.info/sct"),
            (
                CodeSystem::Hl7Table(78),
                "http://terminology.hl7.org/CodeSystem/v2-0078",
            ),
            (
                CodeSystem::Hl7Table(12345),
                "http://terminology.hl7.org/CodeSystem/v2-12345",
            ),
            (CodeSystem::Local("99ABB".into()), "local:99ABB"),
            (CodeSystem::Local(Text::new()), "local"),
            (CodeSystem::Other("I10".into()), "I10"),
            (CodeSystem::Other("local:".into()), "local:"),
            (
                CodeSystem::Other("http://terminology.hl7.org/CodeSystem/v2-078".into()),
                "http://terminology.hl7.org/CodeSystem/v2-078",
            ),
        ];
        for (system, uri) in systems {
            assert_eq!(system.uri(), uri);
            let parsed = CodeSystem::from_uri(uri);
            assert_eq!(parsed, system);
            assert_eq!(parsed.uri(), uri);
            let json = serde_json::to_string(&system).unwrap();
            assert_eq!(serde_json::from_str::<CodeSystem>(&json).unwrap(), system);
        }
        assert!(matches!(
            CodeSystem::from_uri("http://loinc.org"),
            CodeSystem::Loinc
        ));
        assert_eq!(
            CodeSystem::Other("http://loinc.org".into()),
            CodeSystem::Loinc
        );
        assert!(CodeSystem::Other("local:X".into()).is_local());
        assert!(CodeSystem::Other("local".into()).is_local());
        assert!(CodeSystem::Local(Text::new()).is_local());
        assert!(!CodeSystem::Other("local:".into()).is_local());
        assert!(!CodeSystem::Other("I10".into()).is_local());
        assert!(!CodeSystem::Loinc.is_local());
        assert!(!CodeSystem::Hl7Table(78).is_local());
    }

    /// Structural equality must agree with comparing URIs, for every pair.
    #[test]
    fn code_system_equality_agrees_with_uri_equality() {
        let systems = [
            CodeSystem::Loinc,
            CodeSystem::Ucum,
            CodeSystem::Snomed,
            CodeSystem::Hl7Table(78),
            CodeSystem::Hl7Table(79),
            CodeSystem::Local(Text::new()),
            CodeSystem::Local("99ABB".into()),
            CodeSystem::Other("http://loinc.org".into()),
            CodeSystem::Other("local".into()),
            CodeSystem::Other("local:".into()),
            CodeSystem::Other("local:99ABB".into()),
            CodeSystem::Other("http://terminology.hl7.org/CodeSystem/v2-0078".into()),
            CodeSystem::Other("I10".into()),
        ];
        for a in &systems {
            for b in &systems {
                assert_eq!(a == b, a.uri() == b.uri(), "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn coding_json_shape() {
        let coding = Coding::new(CodeSystem::Loinc, "2345-7").with_display("Glucose");
        assert_eq!(
            serde_json::to_string(&coding).unwrap(),
            r#"{"system":"http://loinc.org","code":"2345-7","display":"Glucose"}"#
        );
        assert_eq!(
            serde_json::to_string(&Coding::local("GLU")).unwrap(),
            r#"{"system":"local","code":"GLU"}"#
        );
        assert_eq!(
            LoincCode::parse("718-7").unwrap().to_coding().system,
            CodeSystem::Loinc
        );
    }

    #[test]
    fn unit_and_identifier_json_shape() {
        assert_eq!(
            serde_json::to_string(&Unit::new("mg/dl")).unwrap(),
            r#"{"original":"mg/dl"}"#
        );
        assert_eq!(Unit::ucum("mmol/L").ucum.as_deref(), Some("mmol/L"));
        let id = Identifier::new("12345")
            .with_kind(crate::IdentifierType::MedicalRecord)
            .with_assigner("HOSP");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            r#"{"value":"12345","kind":"MR","assigner":"HOSP"}"#
        );
    }
}
