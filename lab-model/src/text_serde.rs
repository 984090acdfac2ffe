//! serde for the types whose JSON form is one string read by a parser: codes,
//! decimals, LOINC codes, timestamps. One visitor each for infallible and fallible
//! readers, so every such type reads borrowed and owned strings the same way.

use std::fmt;

use serde::de;

use crate::error::ModelError;

/// Reads a string through a reader that accepts anything (an open code table).
pub(crate) struct CodeVisitor<T>(pub(crate) fn(&str) -> T);

impl<T> de::Visitor<'_> for CodeVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a code string")
    }

    fn visit_str<E: de::Error>(self, code: &str) -> Result<T, E> {
        Ok((self.0)(code))
    }
}

/// Reads a string through a validating parser; the error is the [`ModelError`]
/// message, which never quotes the text.
pub(crate) struct TextVisitor<T> {
    /// The parser.
    pub(crate) parse: fn(&str) -> Result<T, ModelError>,
    /// What the JSON should hold, for serde's type errors.
    pub(crate) expecting: &'static str,
}

impl<T> de::Visitor<'_> for TextVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    /// Borrowed and owned strings arrive here too (serde forwards them).
    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        (self.parse)(text).map_err(E::custom)
    }
}
