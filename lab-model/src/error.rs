//! The one error type of this crate.

use std::fmt;

/// Which textual form a timestamp was being read or written in.
///
/// Carried by [`ModelError::Timestamp`] so a message says which grammar was applied.
///
/// Serializes as `snake_case` (`"hl7_dtm"`, `"dicom_da"`), for machine-readable
/// error reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TimestampForm {
    /// HL7 v2 DTM/TS: `YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ]`.
    Hl7Dtm,
    /// ASTM E1394 / LIS02 date-time: `YYYYMMDD[HHMM[SS]]`.
    Astm,
    /// DICOM DA: `YYYYMMDD`.
    DicomDa,
    /// DICOM TM: `HH[MM[SS[.FFFFFF]]]`.
    DicomTm,
    /// DICOM DT: `YYYY[MM[DD[HH[MM[SS[.FFFFFF]]]]]][&ZZXX]`.
    DicomDt,
    /// RFC 3339 `date-time` (full precision, mandatory offset).
    Rfc3339,
    /// The model's own ISO 8601 form with reduced precision (its JSON form).
    Iso8601,
    /// A UTC offset such as `+0100` or `-0330`.
    UtcOffset,
}

impl fmt::Display for TimestampForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Hl7Dtm => "HL7 DTM",
            Self::Astm => "ASTM date-time",
            Self::DicomDa => "DICOM DA",
            Self::DicomTm => "DICOM TM",
            Self::DicomDt => "DICOM DT",
            Self::Rfc3339 => "RFC 3339",
            Self::Iso8601 => "ISO 8601",
            Self::UtcOffset => "UTC offset",
        })
    }
}

/// Everything that can go wrong building or reading a model value.
///
/// Errors carry the byte offset inside the value being read and what was expected
/// there, never the value itself: the text may be a birth date or an identifier,
/// and error messages end up in logs. The protocol crates wrap this error with the
/// message-level location (`PID-7`, ASTM frame 4, DICOM tag (0010,0030)).
///
/// Errors serialize (for the CLI's and the C API's machine-readable reports) as
/// `{"error": "timestamp", "form": "hl7_dtm", "offset": 6, "reason": "…"}`; they do
/// not deserialize, since nothing reads errors back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(tag = "error", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ModelError {
    /// A timestamp did not match its textual form or named a date that does not exist.
    #[error("invalid {form} timestamp at byte {offset}: {reason}")]
    Timestamp {
        /// The grammar that was applied.
        form: TimestampForm,
        /// Byte offset inside the timestamp text where reading stopped.
        offset: usize,
        /// What was expected or why the value is impossible.
        reason: &'static str,
    },
    /// A timestamp cannot be written in the requested form without losing or
    /// inventing information (e.g. RFC 3339 needs an offset and seconds).
    #[error("timestamp cannot be written as {form}: {reason}")]
    TimestampNotRepresentable {
        /// The form that was requested.
        form: TimestampForm,
        /// Why it cannot be written.
        reason: &'static str,
    },
    /// A decimal number was not valid.
    #[error("invalid decimal at byte {offset}: {reason}")]
    Decimal {
        /// Byte offset inside the number text.
        offset: usize,
        /// What was expected there.
        reason: &'static str,
    },
    /// A LOINC code was malformed or its check digit did not match.
    #[error("invalid LOINC code at byte {offset}: {reason}")]
    Loinc {
        /// Byte offset inside the code.
        offset: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// A code system name was empty or not usable.
    #[error("invalid code system: {reason}")]
    CodeSystem {
        /// What was wrong.
        reason: &'static str,
    },
}

/// Shorthand for results whose error is [`ModelError`].
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialize_as_machine_readable_reports() {
        let err = ModelError::Timestamp {
            form: TimestampForm::Hl7Dtm,
            offset: 6,
            reason: "day does not exist in that month",
        };
        assert_eq!(
            serde_json::to_string(&err).unwrap(),
            r#"{"error":"timestamp","form":"hl7_dtm","offset":6,"reason":"day does not exist in that month"}"#
        );
        assert_eq!(
            err.to_string(),
            "invalid HL7 DTM timestamp at byte 6: day does not exist in that month"
        );
        let err = ModelError::TimestampNotRepresentable {
            form: TimestampForm::Rfc3339,
            reason: "RFC 3339 needs a UTC offset",
        };
        assert_eq!(
            serde_json::to_string(&err).unwrap(),
            r#"{"error":"timestamp_not_representable","form":"rfc3339","reason":"RFC 3339 needs a UTC offset"}"#
        );
    }
}
