//! Result values: quantities, ranges, ratios, codes, text, and reasons for absence.

use crate::AbsentReason;
use crate::coding::{Coding, Unit};
use crate::decimal::{Comparator, Decimal, DecimalMark, trim_blanks_start};
use crate::text::Text;
use crate::time::LabTimestamp;

/// A measured amount: a decimal, an optional comparator, an optional unit.
///
/// `<0.5 mg/L` is `{value: "0.5", comparator: "<", unit: "mg/L"}`: below the
/// detection limit is a statement about the value, not text.
///
/// JSON: `{"value": "5.40", "comparator": "<", "unit": {"original": "mmol/L"}}`
/// (`comparator` and `unit` omitted when absent).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Quantity {
    /// The number, digits as sent.
    pub value: Decimal,
    /// A qualifier such as `<` for values beyond a limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparator: Option<Comparator>,
    /// The unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<Unit>,
}

impl Quantity {
    /// A bare number.
    #[must_use]
    pub fn new(value: Decimal) -> Self {
        Self {
            value,
            comparator: None,
            unit: None,
        }
    }

    /// Adds a unit.
    #[must_use]
    pub fn with_unit(mut self, unit: Unit) -> Self {
        self.unit = Some(unit);
        self
    }

    /// Adds a comparator.
    #[must_use]
    pub fn with_comparator(mut self, comparator: Comparator) -> Self {
        self.comparator = Some(comparator);
        self
    }

    /// Reads a number the way instruments write it in numeric fields: an optional
    /// comparator (`<0.5`, `> 15000.00`, `<=0.2500`), then a decimal read by
    /// [`Decimal::parse_lenient`].
    ///
    /// # Errors
    /// [`ModelError::Decimal`](crate::ModelError::Decimal) with the offset inside `text`.
    pub fn parse_lenient(text: &str, mark: DecimalMark) -> crate::Result<Self> {
        let trimmed = trim_blanks_start(text);
        let (comparator, number) = Comparator::strip_prefix(trimmed);
        let skipped = text.len() - number.len();
        let value = Decimal::parse_lenient(number, mark).map_err(|err| match err {
            crate::ModelError::Decimal { offset, reason } => crate::ModelError::Decimal {
                offset: offset + skipped,
                reason,
            },
            other => other,
        })?;
        Ok(Self {
            value,
            comparator,
            unit: None,
        })
    }
}

/// The value of one result, in the shapes laboratory results take.
///
/// These mirror the value types FHIR R4 allows on an Observation, which in turn
/// cover HL7 OBX-2 value types (NM, SN, CWE, ST/TX/FT, DT/DTM) and ASTM R-4 values.
/// The instrument's original text is kept beside the value in
/// [`LabResult::raw_value`](crate::LabResult::raw_value).
///
/// JSON: an object whose `kind` names the shape:
/// - `{"kind": "quantity", "value": "5.40", "comparator": "<", "unit": {…}}`
/// - `{"kind": "range", "low": "2", "high": "5", "unit": {…}}`
/// - `{"kind": "ratio", "numerator": "1", "denominator": "128"}`
/// - `{"kind": "coded", "system": "http://snomed.info/sct", "code": "260373001", "display": "Detected"}`
/// - `{"kind": "text", "text": "NOT DETECTED"}`
/// - `{"kind": "boolean", "value": true}`
/// - `{"kind": "date_time", "value": "2024-03-01T10:15"}`
/// - `{"kind": "absent", "reason": "error", "text": "clot detected"}`
/// - `{"kind": "attachment", "media_type": "image/png", "encoding": "base64", "data": "iVBOR…"}`
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResultValue {
    /// A number, possibly qualified and with a unit (HL7 NM, SN with one number).
    Quantity(Quantity),
    /// An interval such as `2-5` (HL7 SN `^2^-^5`); either end may be open.
    Range {
        /// Lower end.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        low: Option<Decimal>,
        /// Upper end.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        high: Option<Decimal>,
        /// Unit of both ends.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<Unit>,
    },
    /// A ratio such as a titer `1:128` (HL7 SN `^1^:^128`), possibly qualified (`<1:40`).
    Ratio {
        /// Numerator.
        numerator: Decimal,
        /// Denominator.
        denominator: Decimal,
        /// A qualifier of the whole ratio.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comparator: Option<Comparator>,
    },
    /// A coded answer (HL7 CWE, a SNOMED CT finding, an instrument's `POS`).
    Coded(Coding),
    /// Free text (HL7 ST/TX/FT, ASTM text results).
    Text {
        /// The text, unescaped.
        text: Text,
    },
    /// A yes/no answer.
    Boolean {
        /// The answer.
        value: bool,
    },
    /// A date or date-time answer (HL7 DT/DTM).
    DateTime {
        /// The timestamp, with its precision.
        value: LabTimestamp,
    },
    /// No value, and why: the instrument reported an error, the test was not performed.
    Absent {
        /// The reason.
        reason: AbsentReason,
        /// The instrument's own words, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<Text>,
    },
    /// Data that is not a value to read but a document or graph: a hematology
    /// histogram or scattergram, a PDF report (HL7 ED, ASTM M records). Kept as the
    /// text the sender transmitted (usually base64), never decoded by the model.
    Attachment {
        /// The media type when the sender states one (`image/png`, `application/pdf`),
        /// or the sender's own type name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        media_type: Option<Text>,
        /// How `data` is encoded (`base64`, `hex`, `deflate+base64`), as stated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encoding: Option<Text>,
        /// The encoded data as transmitted.
        data: Text,
    },
}

impl ResultValue {
    /// A free-text value.
    #[must_use]
    pub fn text(text: impl Into<Text>) -> Self {
        Self::Text { text: text.into() }
    }

    /// Reads a value sent as text in a numeric-or-text field (ASTM R-4, HL7 NM that
    /// instruments fill with `<0.5` or `NEG`): a [`Quantity`] when the whole text reads
    /// as a qualified number, otherwise [`ResultValue::Text`] with the text unchanged.
    /// Nothing is ever lost: anything that is not a number stays text.
    ///
    /// ```
    /// use labwire_model::{DecimalMark, ResultValue, Unit};
    ///
    /// let v = ResultValue::from_text_lenient("<0.5", Some(Unit::new("mg/L")), DecimalMark::Point);
    /// assert_eq!(serde_json::to_string(&v)?,
    ///     r#"{"kind":"quantity","value":"0.5","comparator":"<","unit":{"original":"mg/L"}}"#);
    /// let t = ResultValue::from_text_lenient("NOT DETECTED", None, DecimalMark::Point);
    /// assert_eq!(t, ResultValue::text("NOT DETECTED"));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    #[must_use]
    pub fn from_text_lenient(text: &str, unit: Option<Unit>, mark: DecimalMark) -> Self {
        // Most values are a bare canonical number: read without the comparator and
        // error handling of the general reading, which gives the same quantity.
        if let Some(value) = Decimal::parse_canonical_digits(text.as_bytes(), mark) {
            return Self::Quantity(Quantity {
                value,
                comparator: None,
                unit,
            });
        }
        match Quantity::parse_lenient(text, mark) {
            Ok(quantity) => Self::Quantity(Quantity { unit, ..quantity }),
            Err(_) => Self::text(text),
        }
    }
}

/// The reference (normal) range a result is judged against.
///
/// Senders write ranges as free text (`3.9-6.1`, `<5`, `>=10`, `70_105`, `neg`), so
/// the text is always kept and the bounds are filled only when the text is simple
/// enough to read without guessing. Bounds are inclusive, as in FHIR; the text keeps
/// the original strictness.
///
/// JSON: `{"low": "3.9", "high": "6.1", "text": "3.9-6.1", "applies_to": "female"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ReferenceRange {
    /// Lowest normal value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<Decimal>,
    /// Highest normal value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<Decimal>,
    /// The range as the sender wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    /// The population the range is for (sex, age group), as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_to: Option<Text>,
}

impl ReferenceRange {
    /// Reads a range written as text, keeping the text and filling `low`/`high` for
    /// the simple forms `a-b`, `a - b`, `a_b`, `<b`, `<=b`, `>a`, `>=a` (numbers read
    /// by [`Decimal::parse_lenient`]; negative bounds such as `-2--1` work).
    ///
    /// ```
    /// use labwire_model::{DecimalMark, ReferenceRange};
    ///
    /// let r = ReferenceRange::parse_lenient("3.9-6.1", DecimalMark::Point);
    /// assert_eq!((r.low.unwrap().as_str(), r.high.unwrap().as_str()), ("3.9", "6.1"));
    /// let r = ReferenceRange::parse_lenient("<5", DecimalMark::Point);
    /// assert_eq!((r.low, r.high.unwrap().as_str()), (None, "5"));
    /// let r = ReferenceRange::parse_lenient("neg", DecimalMark::Point);
    /// assert_eq!((r.low, r.high, r.text.as_deref()), (None, None, Some("neg")));
    /// ```
    #[must_use]
    pub fn parse_lenient(text: &str, mark: DecimalMark) -> Self {
        let (low, high) = parse_bounds(trim(text), mark).unwrap_or((None, None));
        Self {
            low,
            high,
            text: Some(text.into()),
            applies_to: None,
        }
    }
}

type Bounds = (Option<Decimal>, Option<Decimal>);

/// [`str::trim`], without its search for white space when the text starts and ends
/// with a printable ASCII character (as ranges do), which is then no white space.
fn trim(text: &str) -> &str {
    let printable = |byte: Option<&u8>| byte.is_some_and(u8::is_ascii_graphic);
    let bytes = text.as_bytes();
    if printable(bytes.first()) && printable(bytes.last()) {
        text
    } else {
        text.trim()
    }
}

fn parse_bounds(text: &str, mark: DecimalMark) -> Option<Bounds> {
    // The common canonical case without the general reading's error to carry.
    let number = |s: &str| match Decimal::parse_canonical_digits(s.as_bytes(), mark) {
        Some(number) => Some(number),
        None => Decimal::parse_lenient(s, mark).ok(),
    };
    match Comparator::strip_prefix(text) {
        (Some(Comparator::Lt | Comparator::Le), rest) => return Some((None, Some(number(rest)?))),
        (Some(Comparator::Gt | Comparator::Ge), rest) => return Some((Some(number(rest)?), None)),
        (Some(Comparator::Ne), _) => return None,
        (None, _) => {}
    }
    // The separator is the first '-' or '_' that follows a digit (possibly after
    // spaces), so a leading minus sign is never taken for it.
    let bytes = text.as_bytes();
    let mut last_was_digit = false;
    for (at, &byte) in bytes.iter().enumerate() {
        match byte {
            b'-' | b'_' if last_was_digit => {
                let low = number(text.get(..at)?)?;
                let high = number(text.get(at + 1..)?)?;
                return Some((Some(low), Some(high)));
            }
            b' ' | b'\t' => {}
            _ => last_was_digit = byte.is_ascii_digit(),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    fn bounds(text: &str) -> (Option<String>, Option<String>) {
        let r = ReferenceRange::parse_lenient(text, DecimalMark::Point);
        assert_eq!(r.text.as_deref(), Some(text), "text is always kept");
        (
            r.low.map(|v| v.as_str().to_owned()),
            r.high.map(|v| v.as_str().to_owned()),
        )
    }

    fn both(low: &str, high: &str) -> (Option<String>, Option<String>) {
        (Some(low.to_owned()), Some(high.to_owned()))
    }

    #[test]
    fn reference_ranges_read_only_the_simple_forms() {
        assert_eq!(bounds("3.9-6.1"), both("3.9", "6.1"));
        assert_eq!(bounds(" 3.9 - 6.1 "), both("3.9", "6.1"));
        assert_eq!(bounds("70_105"), both("70", "105"));
        assert_eq!(bounds("-2--1"), both("-2", "-1"));
        assert_eq!(bounds("-2 - 1"), both("-2", "1"));
        assert_eq!(bounds("<5"), (None, Some("5".to_owned())));
        assert_eq!(bounds("<= 5"), (None, Some("5".to_owned())));
        assert_eq!(bounds(">10"), (Some("10".to_owned()), None));
        assert_eq!(bounds(">=.5"), (Some("0.5".to_owned()), None));
        for unreadable in [
            "neg",
            "",
            "<>5",
            "3.9-",
            "-",
            "1-2-3",
            "a-b",
            "< neg",
            "3.9 to 6.1",
        ] {
            assert_eq!(bounds(unreadable), (None, None), "{unreadable}");
        }
        let comma = ReferenceRange::parse_lenient("3,9-6,1", DecimalMark::Comma);
        assert_eq!((comma.low, comma.high), (Some(d("3.9")), Some(d("6.1"))));
    }

    #[test]
    fn range_trim_is_str_trim() {
        for text in [
            "",
            " ",
            "3-5",
            " 3-5",
            "3-5\t",
            "\u{a0}3-5",
            "3-5\u{3000}",
            "x",
        ] {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }

    proptest::proptest! {
        /// The canonical shortcut of `from_text_lenient` gives what the quantity
        /// reading gives.
        #[test]
        fn values_read_the_same_with_the_shortcut(text in "[-+<>= \t0-9.,A-Z]{0,8}") {
            let value = ResultValue::from_text_lenient(&text, None, DecimalMark::Point);
            let general = match Quantity::parse_lenient(&text, DecimalMark::Point) {
                Ok(quantity) => ResultValue::Quantity(quantity),
                Err(_) => ResultValue::text(text.as_str()),
            };
            proptest::prop_assert_eq!(value, general);
        }
    }

    #[test]
    fn quantities_read_comparators_and_report_offsets() {
        let q = Quantity::parse_lenient(" > 15000.00", DecimalMark::Point).unwrap();
        assert_eq!(
            (q.comparator, q.value.as_str()),
            (Some(Comparator::Gt), "15000.00")
        );
        let q = Quantity::parse_lenient("<=0.2500", DecimalMark::Point).unwrap();
        assert_eq!(
            (q.comparator, q.value.as_str()),
            (Some(Comparator::Le), "0.2500")
        );
        let err = Quantity::parse_lenient("< 5x", DecimalMark::Point).unwrap_err();
        assert_eq!(
            err,
            crate::ModelError::Decimal {
                offset: 3,
                reason: "expected a digit"
            }
        );
    }

    #[test]
    fn text_values_fall_back_to_text_unchanged() {
        for text in ["NEG", "-----", "*", "Nonreactive", "5,5", "", "1e3"] {
            assert_eq!(
                ResultValue::from_text_lenient(text, None, DecimalMark::Point),
                ResultValue::text(text)
            );
        }
    }

    #[test]
    fn value_json_shapes() {
        let cases = [
            (
                ResultValue::Range {
                    low: Some(d("2")),
                    high: None,
                    unit: None,
                },
                r#"{"kind":"range","low":"2"}"#,
            ),
            (
                ResultValue::Ratio {
                    numerator: d("1"),
                    denominator: d("128"),
                    comparator: Some(Comparator::Lt),
                },
                r#"{"kind":"ratio","numerator":"1","denominator":"128","comparator":"<"}"#,
            ),
            (
                ResultValue::Coded(Coding::local("POS")),
                r#"{"kind":"coded","system":"local","code":"POS"}"#,
            ),
            (
                ResultValue::Boolean { value: true },
                r#"{"kind":"boolean","value":true}"#,
            ),
            (
                ResultValue::Absent {
                    reason: AbsentReason::Error,
                    text: None,
                },
                r#"{"kind":"absent","reason":"error"}"#,
            ),
        ];
        for (value, json) in cases {
            assert_eq!(serde_json::to_string(&value).unwrap(), json);
            assert_eq!(serde_json::from_str::<ResultValue>(json).unwrap(), value);
        }
    }
}
