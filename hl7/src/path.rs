//! Path notation for reaching a value: `OBX(2)-5`, `PID-3(1).4`, `PID-5.1.2`, `MSH-9.2`.
//!
//! ```text
//! SEG [ "(" occurrence ")" ] ("-" | ".") field [ "(" repetition ")" ] [ "." component [ "." subcomponent ] ]
//! ```
//!
//! * `SEG` is a three-character segment id (letters and digits, case-insensitive, stored
//!   upper-case); `occurrence` picks the n-th segment with that id (default 1).
//! * `field` uses HL7 numbering: `MSH-9` is the message type (MSH-1 is the separator).
//! * Without `(repetition)`, a path ending at the field means the whole field (all
//!   repetitions), and a path with a component means the first repetition.
//! * All numbers are 1-based; 0 is an error.
//!
//! ```
//! use labwire_hl7::message::{Message, ParseOptions};
//! use labwire_hl7::path::Path;
//! let msg = Message::parse(
//!     b"MSH|^~\\&|LAB||||||ORU^R01|1|P|2.5\rPID|1||A1^^^H~B2^^^L||DOE^JO&JOE\r\
//!       OBX|1|NM|X||1\rOBX|2|ST|Y||a~b\r",
//!     &ParseOptions::default(),
//! ).unwrap();
//! assert_eq!(msg.get("MSH-9.2").unwrap().raw(), b"R01");
//! assert_eq!(msg.get("PID-3(2).4").unwrap().raw(), b"L");
//! assert_eq!(msg.get("PID-3.1").unwrap().raw(), b"A1");   // first repetition
//! assert_eq!(msg.get("PID-5.2.2").unwrap().raw(), b"JOE"); // subcomponent
//! assert_eq!(msg.get("OBX(2)-5").unwrap().raw(), b"a~b");   // whole field
//! assert_eq!(msg.get("OBX(2)-5(2)").unwrap().raw(), b"b");
//! assert!(msg.get("OBX(3)-5").is_none());                   // not in the message
//! assert!(msg.try_get("OBX-0").is_err());                   // malformed
//!
//! let path: Path = "obx(2)-5(1).2".parse().unwrap();
//! assert_eq!(path.to_string(), "OBX(2)-5(1).2");
//! ```

use core::fmt;
use core::str::FromStr;

/// What is wrong with a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PathErrorKind {
    /// The path is empty.
    Empty,
    /// The segment id is not three letters or digits.
    InvalidSegmentId,
    /// A number was expected.
    ExpectedNumber,
    /// Numbers are 1-based.
    ZeroIndex,
    /// A number does not fit in 32 bits.
    NumberTooLarge,
    /// `-` (or `.`) was expected after the segment.
    ExpectedFieldSeparator,
    /// `)` was expected.
    ExpectedClosingParenthesis,
    /// Characters after the end of the path (e.g. a fourth level).
    TrailingCharacters,
}

impl fmt::Display for PathErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "empty path",
            Self::InvalidSegmentId => "segment id must be 3 letters or digits",
            Self::ExpectedNumber => "expected a number",
            Self::ZeroIndex => "indexes start at 1",
            Self::NumberTooLarge => "number too large",
            Self::ExpectedFieldSeparator => "expected '-' after the segment id",
            Self::ExpectedClosingParenthesis => "expected ')'",
            Self::TrailingCharacters => "unexpected characters after the path",
        })
    }
}

/// A malformed path: what is wrong and at which byte of the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{kind} at character {offset}")]
pub struct PathError {
    offset: usize,
    kind: PathErrorKind,
}

impl PathError {
    /// Byte offset in the path text.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What is wrong.
    pub fn kind(&self) -> PathErrorKind {
        self.kind
    }
}

/// A parsed path (no allocation; `Copy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Path {
    segment: [u8; 3],
    occurrence: u32,
    field: u32,
    repetition: Option<u32>,
    component: Option<u32>,
    subcomponent: Option<u32>,
}

struct Cursor<'p> {
    bytes: &'p [u8],
    at: usize,
}

impl Cursor<'_> {
    fn error(&self, kind: PathErrorKind) -> PathError {
        PathError {
            offset: self.at,
            kind,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn number(&mut self) -> Result<u32, PathError> {
        let start = self.at;
        let mut value: u32 = 0;
        while let Some(digit) = self.peek().filter(u8::is_ascii_digit) {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u32::from(digit - b'0')))
                .ok_or(PathError {
                    offset: start,
                    kind: PathErrorKind::NumberTooLarge,
                })?;
            self.at += 1;
        }
        if self.at == start {
            return Err(self.error(PathErrorKind::ExpectedNumber));
        }
        if value == 0 {
            return Err(PathError {
                offset: start,
                kind: PathErrorKind::ZeroIndex,
            });
        }
        Ok(value)
    }

    fn parenthesized(&mut self) -> Result<Option<u32>, PathError> {
        if !self.eat(b'(') {
            return Ok(None);
        }
        let value = self.number()?;
        if !self.eat(b')') {
            return Err(self.error(PathErrorKind::ExpectedClosingParenthesis));
        }
        Ok(Some(value))
    }
}

fn index(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl Path {
    /// Parses the notation described in the [module documentation](self).
    pub fn parse(text: &str) -> Result<Self, PathError> {
        let mut cursor = Cursor {
            bytes: text.trim().as_bytes(),
            at: 0,
        };
        if cursor.bytes.is_empty() {
            return Err(cursor.error(PathErrorKind::Empty));
        }
        let mut segment = [0u8; 3];
        for slot in &mut segment {
            match cursor.peek() {
                Some(byte) if byte.is_ascii_alphanumeric() => {
                    *slot = byte.to_ascii_uppercase();
                    cursor.at += 1;
                }
                _ => return Err(cursor.error(PathErrorKind::InvalidSegmentId)),
            }
        }
        if cursor.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
            return Err(cursor.error(PathErrorKind::InvalidSegmentId));
        }
        let occurrence = cursor.parenthesized()?.unwrap_or(1);
        if !(cursor.eat(b'-') || cursor.eat(b'.')) {
            return Err(cursor.error(PathErrorKind::ExpectedFieldSeparator));
        }
        let field = cursor.number()?;
        let repetition = cursor.parenthesized()?;
        let component = if cursor.eat(b'.') {
            Some(cursor.number()?)
        } else {
            None
        };
        let subcomponent = if component.is_some() && cursor.eat(b'.') {
            Some(cursor.number()?)
        } else {
            None
        };
        if cursor.peek().is_some() {
            return Err(cursor.error(PathErrorKind::TrailingCharacters));
        }
        Ok(Self {
            segment,
            occurrence,
            field,
            repetition,
            component,
            subcomponent,
        })
    }

    /// The segment id, upper-case.
    pub fn segment_id(&self) -> &[u8] {
        &self.segment
    }

    /// Which segment with that id (1-based).
    pub fn occurrence(&self) -> usize {
        index(self.occurrence)
    }

    /// The field number (HL7 numbering).
    pub fn field(&self) -> usize {
        index(self.field)
    }

    /// The repetition, when given.
    pub fn repetition(&self) -> Option<usize> {
        self.repetition.map(index)
    }

    /// The component, when given.
    pub fn component(&self) -> Option<usize> {
        self.component.map(index)
    }

    /// The subcomponent, when given.
    pub fn subcomponent(&self) -> Option<usize> {
        self.subcomponent.map(index)
    }
}

impl FromStr for Path {
    type Err = PathError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &byte in &self.segment {
            write!(f, "{}", char::from(byte))?;
        }
        if self.occurrence != 1 {
            write!(f, "({})", self.occurrence)?;
        }
        write!(f, "-{}", self.field)?;
        if let Some(repetition) = self.repetition {
            write!(f, "({repetition})")?;
        }
        if let Some(component) = self.component {
            write!(f, ".{component}")?;
        }
        if let Some(subcomponent) = self.subcomponent {
            write!(f, ".{subcomponent}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_level() {
        let path = Path::parse("OBX(2)-5(3).4.1").unwrap();
        assert_eq!(path.segment_id(), b"OBX");
        assert_eq!(path.occurrence(), 2);
        assert_eq!(path.field(), 5);
        assert_eq!(path.repetition(), Some(3));
        assert_eq!(path.component(), Some(4));
        assert_eq!(path.subcomponent(), Some(1));
        let short = Path::parse("PID.5").unwrap();
        assert_eq!(
            (short.occurrence(), short.field(), short.component()),
            (1, 5, None)
        );
    }

    #[test]
    fn display_round_trips() {
        for text in ["PID-3(1).4", "MSH-9.2", "OBX(2)-5", "PID-5.1.2", "ZB1-1"] {
            assert_eq!(Path::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn malformed_paths_report_where() {
        let cases = [
            ("", PathErrorKind::Empty, 0),
            ("PI-3", PathErrorKind::InvalidSegmentId, 2),
            ("PIDX-3", PathErrorKind::InvalidSegmentId, 3),
            ("PID", PathErrorKind::ExpectedFieldSeparator, 3),
            ("PID-", PathErrorKind::ExpectedNumber, 4),
            ("PID-0", PathErrorKind::ZeroIndex, 4),
            ("PID-3(2", PathErrorKind::ExpectedClosingParenthesis, 7),
            ("PID-3.1.2.3", PathErrorKind::TrailingCharacters, 9),
            ("PID-99999999999", PathErrorKind::NumberTooLarge, 4),
            ("PID(x)-1", PathErrorKind::ExpectedNumber, 4),
        ];
        for (text, kind, offset) in cases {
            let err = Path::parse(text).unwrap_err();
            assert_eq!((err.kind(), err.offset()), (kind, offset), "{text}");
        }
    }
}
