//! Delimiters (the "encoding characters") read from MSH-1/MSH-2, FHS-1/FHS-2 or BHS-1/BHS-2.
//!
//! HL7 v2 ch. 2 ("message delimiters"): the byte right after the segment id `MSH` is the
//! field separator (it *is* MSH-1), and MSH-2 lists, in this order, the component,
//! repetition, escape and subcomponent characters. v2.7 (§2.5.5.2) adds an optional fifth,
//! the truncation character (`#` by convention). Any characters may be chosen; this crate
//! never assumes `|^~\&`.
//!
//! ```
//! use labwire_hl7::encoding::Delimiters;
//! let (delimiters, _) = Delimiters::from_header(b"MSH#$%@!#APP", 0, false).unwrap();
//! assert_eq!(delimiters.field(), b'#');
//! assert_eq!(delimiters.component(), Some(b'$'));
//! assert_eq!(delimiters.repetition(), Some(b'%'));
//! assert_eq!(delimiters.escape(), Some(b'@'));
//! assert_eq!(delimiters.subcomponent(), Some(b'!'));
//! ```

use crate::error::{DelimiterProblem, Error, Location, Result, SegmentId, Warning, WarningKind};

/// Alias used by the HL7 standard for the same thing.
pub type EncodingCharacters = Delimiters;

/// The delimiters of one message.
///
/// The component, repetition, escape and subcomponent characters are optional because
/// some senders write fewer than four encoding characters; a missing one is "not used"
/// (its level cannot be split or escaped). The truncation character exists from v2.7 on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Delimiters {
    field: u8,
    component: Option<u8>,
    repetition: Option<u8>,
    escape: Option<u8>,
    subcomponent: Option<u8>,
    truncation: Option<u8>,
}

impl Default for Delimiters {
    /// The conventional `|^~\&` without a truncation character.
    fn default() -> Self {
        Self {
            field: b'|',
            component: Some(b'^'),
            repetition: Some(b'~'),
            escape: Some(b'\\'),
            subcomponent: Some(b'&'),
            truncation: None,
        }
    }
}

/// What [`Delimiters::from_header`] learned besides the delimiters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeaderInfo {
    /// Number of encoding characters in MSH-2 (0 to 5).
    pub encoding_len: usize,
    /// Set when fewer than four encoding characters were accepted (lenient mode).
    pub warning: Option<Warning>,
}

fn check_allowed(byte: u8) -> core::result::Result<(), DelimiterProblem> {
    if byte.is_ascii_alphanumeric() || byte == b'\r' || byte == b'\n' || !byte.is_ascii() {
        Err(DelimiterProblem::NotAllowed { byte })
    } else {
        Ok(())
    }
}

impl Delimiters {
    /// Builds a full delimiter set, checking that the five characters are distinct and
    /// allowed (not a letter, digit, CR, LF or non-ASCII byte).
    ///
    /// ```
    /// use labwire_hl7::encoding::Delimiters;
    /// assert!(Delimiters::new(b'|', b'^', b'~', b'\\', b'&').is_ok());
    /// assert!(Delimiters::new(b'|', b'^', b'^', b'\\', b'&').is_err());
    /// assert!(Delimiters::new(b'|', b'A', b'~', b'\\', b'&').is_err());
    /// ```
    pub fn new(
        field: u8,
        component: u8,
        repetition: u8,
        escape: u8,
        subcomponent: u8,
    ) -> Result<Self> {
        let delimiters = Self {
            field,
            component: Some(component),
            repetition: Some(repetition),
            escape: Some(escape),
            subcomponent: Some(subcomponent),
            truncation: None,
        };
        delimiters
            .validate()
            .map_err(|problem| invalid(0, problem))?;
        Ok(delimiters)
    }

    /// The same delimiters with a v2.7 truncation character added.
    pub fn with_truncation(mut self, truncation: u8) -> Result<Self> {
        self.truncation = Some(truncation);
        self.validate().map_err(|problem| invalid(0, problem))?;
        Ok(self)
    }

    /// Reads the delimiters from a header segment (`MSH`, `FHS` or `BHS` followed by the
    /// field separator and MSH-2). `base_offset` is the offset of `header` in the input,
    /// used in errors. With `strict`, fewer than four encoding characters is an error;
    /// otherwise it is accepted with a warning.
    pub fn from_header(
        header: &[u8],
        base_offset: usize,
        strict: bool,
    ) -> Result<(Self, HeaderInfo)> {
        let fail = |offset: usize, problem: DelimiterProblem| Error::InvalidDelimiters {
            offset,
            location: msh2_location(header),
            problem,
        };
        let field_offset = base_offset.saturating_add(3);
        let Some((&field, rest)) = header.get(3..).and_then(<[u8]>::split_first) else {
            return Err(fail(field_offset, DelimiterProblem::MissingFieldSeparator));
        };
        check_allowed(field).map_err(|problem| fail(field_offset, problem))?;
        let encoding_len = rest
            .iter()
            .position(|&b| b == field || b == b'\r' || b == b'\n')
            .unwrap_or(rest.len());
        let encoding = rest.get(..encoding_len).unwrap_or_default();
        if encoding.len() > 5 {
            return Err(invalid(
                field_offset.saturating_add(6),
                DelimiterProblem::TooMany,
            ));
        }
        let mut warning = None;
        if encoding.len() < 4 {
            let found = encoding.len() as u8;
            if strict {
                return Err(invalid(
                    field_offset.saturating_add(1),
                    DelimiterProblem::TooFew { found },
                ));
            }
            warning = Some(Warning::new(
                WarningKind::MissingEncodingCharacters { found },
                field_offset.saturating_add(1),
                Some(msh2_location(header)),
            ));
        }
        let at = |i: usize| encoding.get(i).copied();
        let delimiters = Self {
            field,
            component: at(0),
            repetition: at(1),
            escape: at(2),
            subcomponent: at(3),
            truncation: at(4),
        };
        delimiters.validate().map_err(|problem| {
            let offset = match problem {
                DelimiterProblem::Repeated { byte } | DelimiterProblem::NotAllowed { byte } => {
                    encoding
                        .iter()
                        .rposition(|&b| b == byte)
                        .map_or(field_offset, |i| {
                            field_offset.saturating_add(1).saturating_add(i)
                        })
                }
                _ => field_offset,
            };
            let mut error = invalid(offset, problem);
            if let Error::InvalidDelimiters { location, .. } = &mut error {
                *location = msh2_location(header);
            }
            error
        })?;
        Ok((
            delimiters,
            HeaderInfo {
                encoding_len,
                warning,
            },
        ))
    }

    fn validate(&self) -> core::result::Result<(), DelimiterProblem> {
        let all = self.all();
        for (i, byte) in all.iter().enumerate() {
            let Some(byte) = *byte else { continue };
            check_allowed(byte)?;
            if all.iter().skip(i + 1).any(|other| *other == Some(byte)) {
                return Err(DelimiterProblem::Repeated { byte });
            }
        }
        Ok(())
    }

    fn all(&self) -> [Option<u8>; 6] {
        [
            Some(self.field),
            self.component,
            self.repetition,
            self.escape,
            self.subcomponent,
            self.truncation,
        ]
    }

    /// The field separator (MSH-1).
    pub fn field(&self) -> u8 {
        self.field
    }

    /// The component separator (1st character of MSH-2).
    pub fn component(&self) -> Option<u8> {
        self.component
    }

    /// The repetition separator (2nd character of MSH-2).
    pub fn repetition(&self) -> Option<u8> {
        self.repetition
    }

    /// The escape character (3rd character of MSH-2).
    pub fn escape(&self) -> Option<u8> {
        self.escape
    }

    /// The subcomponent separator (4th character of MSH-2).
    pub fn subcomponent(&self) -> Option<u8> {
        self.subcomponent
    }

    /// The truncation character (5th character of MSH-2, v2.7+).
    pub fn truncation(&self) -> Option<u8> {
        self.truncation
    }

    /// True when `byte` is the field, component, repetition, escape or subcomponent
    /// character (the truncation character is data except as a value's last character).
    pub fn is_structural(&self, byte: u8) -> bool {
        byte == self.field
            || Some(byte) == self.component
            || Some(byte) == self.repetition
            || Some(byte) == self.escape
            || Some(byte) == self.subcomponent
    }

    /// MSH-2 as written: the encoding characters in standard order, up to the last
    /// defined one.
    pub fn encoding_characters(&self) -> EncodingChars {
        let mut bytes = [0u8; 5];
        let mut len = 0;
        for byte in [
            self.component,
            self.repetition,
            self.escape,
            self.subcomponent,
            self.truncation,
        ]
        .into_iter()
        .map_while(|b| b)
        {
            if let Some(slot) = bytes.get_mut(len) {
                *slot = byte;
                len += 1;
            }
        }
        EncodingChars { bytes, len }
    }
}

/// MSH-2 as bytes (see [`Delimiters::encoding_characters`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncodingChars {
    bytes: [u8; 5],
    len: usize,
}

impl EncodingChars {
    /// The encoding characters.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

fn msh2_location(header: &[u8]) -> Location {
    Location::segment(1, SegmentId::new(header.get(..3).unwrap_or_default())).with_field(2)
}

/// An error for delimiters given to a constructor (not read from a message).
fn invalid(offset: usize, problem: DelimiterProblem) -> Error {
    Error::InvalidDelimiters {
        offset,
        location: Location::message(),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_conventional_and_custom_sets() {
        let (d, info) = Delimiters::from_header(b"MSH|^~\\&|A", 0, true).unwrap();
        assert_eq!(d, Delimiters::default());
        assert_eq!(info.encoding_len, 4);
        let (d, _) = Delimiters::from_header(b"MSH|^~\\&#|A", 0, true).unwrap();
        assert_eq!(d.truncation(), Some(b'#'));
        assert_eq!(d.encoding_characters().as_bytes(), b"^~\\&#");
        let (d, _) = Delimiters::from_header(b"MSH|^~\\$|LAB", 0, true).unwrap();
        assert_eq!(d.escape(), Some(b'\\'));
        assert_eq!(d.subcomponent(), Some(b'$'));
    }

    #[test]
    fn header_without_more_fields_ends_at_terminator() {
        let (d, info) = Delimiters::from_header(b"MSH|^~\\&\rPID|1", 0, true).unwrap();
        assert_eq!(d, Delimiters::default());
        assert_eq!(info.encoding_len, 4);
    }

    #[test]
    fn rejects_repeated_alphanumeric_and_line_break_delimiters() {
        for header in [
            &b"MSH|^^\\&|"[..],
            b"MSH|^~\\A|",
            b"MSH\r^~\\&|",
            b"MSH|^~\\&#!|",
        ] {
            let err = Delimiters::from_header(header, 0, false).unwrap_err();
            assert!(
                matches!(err, Error::InvalidDelimiters { .. }),
                "{header:?}: {err}"
            );
        }
        assert!(matches!(
            Delimiters::from_header(b"MSH", 0, false),
            Err(Error::InvalidDelimiters {
                problem: DelimiterProblem::MissingFieldSeparator,
                ..
            })
        ));
    }

    #[test]
    fn short_encoding_characters_warn_in_lenient_mode_and_fail_in_strict() {
        let (d, info) = Delimiters::from_header(b"MSH|^~|X", 0, false).unwrap();
        assert_eq!(d.component(), Some(b'^'));
        assert_eq!(d.escape(), None);
        assert!(matches!(
            info.warning.unwrap().kind,
            WarningKind::MissingEncodingCharacters { found: 2 }
        ));
        assert!(Delimiters::from_header(b"MSH|^~|X", 0, true).is_err());
    }

    #[test]
    fn error_offset_points_at_the_repeated_byte() {
        let err = Delimiters::from_header(b"MSH|^~\\~|", 10, false).unwrap_err();
        assert_eq!(err.offset(), Some(17));
        assert_eq!(err.location().unwrap().to_string(), "MSH-2");
    }
}
