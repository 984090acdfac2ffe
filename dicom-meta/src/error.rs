//! The crate's error type, locations in DICOM terms, and lenient-mode warnings.
//!
//! Every problem carries the byte offset where it was found and a [`Location`]: the
//! region of the file and the element path (outermost and innermost tag, nesting
//! depth). Neither errors nor warnings ever echo a value, since values are patient
//! data.

use core::fmt;

use crate::{Tag, Vr};

/// Shorthand for `Result<T, labwire_dicom_meta::Error>`.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// The part of a file a byte offset refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Region {
    /// The 128-byte preamble and the `DICM` prefix (PS3.10 §7.1).
    Preamble,
    /// The File Meta Information, group 0002 (PS3.10 §7.1).
    FileMeta,
    /// The data set; offsets count from the start of the input.
    DataSet,
    /// The data set of a deflated transfer syntax; offsets count bytes of the
    /// inflated stream, not of the file.
    InflatedDataSet,
    /// A value read through a typed accessor or written by the writer.
    Value,
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Preamble => "preamble",
            Self::FileMeta => "file meta information",
            Self::DataSet => "data set",
            Self::InflatedDataSet => "inflated data set",
            Self::Value => "value",
        })
    }
}

/// Where in the file a problem is, in DICOM terms.
///
/// Displayed as `data set (0040,0560) > … > (0040,A160) at depth 2`: the region, the
/// outermost (top-level) element, the innermost element being read and how deep in
/// sequences it sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    /// The region of the file.
    pub region: Region,
    /// The top-level element that contains the problem, if any.
    pub top_level: Option<Tag>,
    /// The element being read when the problem was found, if known.
    pub tag: Option<Tag>,
    /// Sequence nesting depth: 0 in the top-level data set, 1 inside an item of a
    /// top-level sequence, and so on.
    pub depth: u32,
}

impl Location {
    /// A location in a region with no element known.
    #[must_use]
    pub const fn region(region: Region) -> Self {
        Self {
            region,
            top_level: None,
            tag: None,
            depth: 0,
        }
    }

    /// A location naming one top-level element of a region.
    #[must_use]
    pub const fn element(region: Region, tag: Tag) -> Self {
        Self {
            region,
            top_level: Some(tag),
            tag: Some(tag),
            depth: 0,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.region)?;
        match (self.top_level, self.tag) {
            (Some(top), Some(tag)) if top != tag => {
                write!(f, " {top}")?;
                if self.depth > 1 {
                    f.write_str(" > …")?;
                }
                write!(f, " > {tag}")?;
            }
            (Some(tag), _) | (None, Some(tag)) => write!(f, " {tag}")?,
            (None, None) => {}
        }
        if self.depth > 0 {
            write!(f, " at depth {}", self.depth)?;
        }
        Ok(())
    }
}

/// Everything that can go wrong reading or writing a DICOM header.
///
/// Each variant carries the byte offset of the problem and its [`Location`]; see
/// [`Error::offset`] and [`Error::location`]. In tolerant mode (the default) the
/// structural errors end the parse but do not fail it: the parser returns the
/// header read so far and [`Header::error`](crate::Header::error) holds the error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not a DICOM file or data set: no `DICM` prefix and no plausible
    /// data element at its start.
    #[error("not DICOM at offset {offset}: {reason}")]
    NotDicom {
        /// Offset of the bytes that were examined.
        offset: u64,
        /// What was expected.
        reason: &'static str,
    },
    /// The input ends inside an element: its header or its declared value length
    /// reaches beyond the last byte. Nothing is ever allocated for such a length.
    #[error(
        "truncated {location} at offset {offset}: {needed} bytes needed, {available} available"
    )]
    Truncated {
        /// Offset of the element header.
        offset: u64,
        /// The element.
        location: Location,
        /// Bytes the element needs from its header on.
        needed: u64,
        /// Bytes left in the input.
        available: u64,
    },
    /// An element or item reaches past the end of the item or sequence of defined
    /// length that encloses it (PS3.5 §7.5).
    #[error(
        "{location} at offset {offset} needs {needed} bytes but its enclosing item or sequence has {room} left"
    )]
    ExceedsContainer {
        /// Offset of the element header.
        offset: u64,
        /// The element.
        location: Location,
        /// Bytes the element needs from its header on.
        needed: u64,
        /// Bytes left in the enclosing container.
        room: u64,
    },
    /// A value is longer than [`Limits::max_value_len`](crate::Limits::max_value_len)
    /// (strict mode; tolerant mode skips the value with a warning).
    #[error("value of {location} at offset {offset} is {length} bytes, over the limit of {limit}")]
    ValueTooLarge {
        /// Offset of the element header.
        offset: u64,
        /// The element.
        location: Location,
        /// Declared length.
        length: u32,
        /// The configured limit.
        limit: u32,
    },
    /// Sequences nest deeper than [`Limits::max_depth`](crate::Limits::max_depth).
    #[error("sequences nest deeper than {limit} at {location}, offset {offset}")]
    DepthExceeded {
        /// Offset of the sequence that would exceed the limit.
        offset: u64,
        /// The sequence.
        location: Location,
        /// The configured limit.
        limit: u32,
    },
    /// The header has more elements and items than
    /// [`Limits::max_elements`](crate::Limits::max_elements).
    #[error("more than {limit} elements, at {location}, offset {offset}")]
    TooManyElements {
        /// Offset of the first element over the limit.
        offset: u64,
        /// That element.
        location: Location,
        /// The configured limit.
        limit: u32,
    },
    /// A tag that cannot appear where it was found: a data element directly inside a
    /// sequence (where only items and the sequence delimiter may be), an item outside
    /// a sequence, a fragment of undefined length (PS3.5 §7.5, §A.4).
    #[error("unexpected {found} at {location}, offset {offset}: expected {expected}")]
    UnexpectedTag {
        /// Offset of the tag.
        offset: u64,
        /// Where it was found.
        location: Location,
        /// The tag found.
        found: Tag,
        /// What the standard allows there.
        expected: &'static str,
    },
    /// The deflated data set could not be inflated (PS3.5 §A.5).
    #[error("deflated data set at offset {offset}: {reason}")]
    Inflate {
        /// Offset of the deflated stream in the file.
        offset: u64,
        /// What went wrong.
        reason: &'static str,
    },
    /// Strict mode met something the tolerant mode would have accepted with this
    /// warning.
    #[error("not conformant at {location}, offset {offset}: {warning}")]
    NonConformant {
        /// Offset of the problem.
        offset: u64,
        /// Where.
        location: Location,
        /// What tolerant mode would have reported.
        warning: WarningKind,
    },
    /// A typed accessor could not read a value as the requested type (a DA that is not
    /// a date, an IS that is not an integer, a US with an odd byte count).
    #[error("{location} at offset {offset} ({vr}) is not a valid {expected}")]
    InvalidValue {
        /// Offset of the element header.
        offset: u64,
        /// The element.
        location: Location,
        /// Its VR.
        vr: Vr,
        /// What the accessor wanted.
        expected: &'static str,
    },
    /// The writer could not encode a value: text outside the data set's character
    /// set, a value longer than 2³² − 2 bytes, an edit of an element that is not there.
    #[error("cannot encode {tag}: {reason}")]
    Encode {
        /// The element.
        tag: Tag,
        /// Why.
        reason: &'static str,
    },
}

impl Error {
    /// The byte offset of the problem (see [`Region`] for what offsets count).
    #[must_use]
    pub fn offset(&self) -> u64 {
        match *self {
            Self::NotDicom { offset, .. }
            | Self::Truncated { offset, .. }
            | Self::ExceedsContainer { offset, .. }
            | Self::ValueTooLarge { offset, .. }
            | Self::DepthExceeded { offset, .. }
            | Self::TooManyElements { offset, .. }
            | Self::UnexpectedTag { offset, .. }
            | Self::Inflate { offset, .. }
            | Self::NonConformant { offset, .. }
            | Self::InvalidValue { offset, .. } => offset,
            Self::Encode { .. } => 0,
        }
    }

    /// Where the problem is.
    #[must_use]
    pub fn location(&self) -> Location {
        match *self {
            Self::NotDicom { .. } => Location::region(Region::Preamble),
            Self::Inflate { .. } => Location::region(Region::DataSet),
            Self::Truncated { location, .. }
            | Self::ExceedsContainer { location, .. }
            | Self::ValueTooLarge { location, .. }
            | Self::DepthExceeded { location, .. }
            | Self::TooManyElements { location, .. }
            | Self::UnexpectedTag { location, .. }
            | Self::NonConformant { location, .. }
            | Self::InvalidValue { location, .. } => location,
            Self::Encode { tag, .. } => Location::element(Region::Value, tag),
        }
    }
}

/// Something tolerant mode accepted, with the offset and location it was found at.
///
/// Strict mode turns each of these into [`Error::NonConformant`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Warning {
    /// Offset of the problem (see [`Region`] for what offsets count).
    pub offset: u64,
    /// Where.
    pub location: Location,
    /// What was relaxed.
    pub kind: WarningKind,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {}, offset {}",
            self.kind, self.location, self.offset
        )
    }
}

/// What tolerant mode relaxed, with the clause of the standard it relaxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// `DICM` at offset 0 with no 128-byte preamble (PS3.10 §7.1).
    NoPreamble,
    /// No `DICM` prefix and no File Meta Information: the input is a bare data set,
    /// as written by some devices and older toolkits (PS3.10 §7.1).
    NoFileMeta,
    /// File Meta Information without the `DICM` prefix in front of it (PS3.10 §7.1).
    NoMagic,
    /// File Meta Information Group Length (0002,0000) is missing (PS3.10 §7.1).
    MissingGroupLength,
    /// File Meta Information Group Length (0002,0000) disagrees with the group 0002
    /// elements actually present; the elements are read by group number.
    GroupLengthMismatch {
        /// The length the file declares.
        declared: u32,
        /// The length of the group 0002 elements that follow it.
        actual: u32,
    },
    /// The File Meta Information is not in Explicit VR Little Endian (PS3.10 §7.1).
    FileMetaNotExplicitLittleEndian,
    /// Transfer Syntax UID (0002,0010) is missing: the data set encoding was guessed
    /// from its first bytes (PS3.10 §7.1).
    MissingTransferSyntax,
    /// The transfer syntax is not one this crate knows: the data set encoding was
    /// guessed from its first bytes (PS3.5 §10).
    UnknownTransferSyntax,
    /// Elements of an explicit-VR data set were written with implicit VR; the rest of
    /// the data set was read as implicit VR (PS3.5 §7.1.2).
    ImplicitVrInExplicitSyntax,
    /// A VR code this crate does not know, read with a 32-bit length (PS3.5 §6.2).
    UnknownVr(Vr),
    /// An odd value length; values have even lengths (PS3.5 §7.1.1).
    OddLength {
        /// The declared length.
        length: u32,
    },
    /// Undefined length on an element that is not a sequence, UN or encapsulated
    /// pixel data; its value was read as a sequence (PS3.5 §7.1.2).
    UndefinedLengthNotAllowed(Vr),
    /// An item or sequence delimiter with a non-zero length (PS3.5 §7.5.2).
    DelimiterWithLength {
        /// The length found.
        length: u32,
    },
    /// A delimiter where none belongs: a sequence delimiter closing a sequence of
    /// defined length, an item delimiter in the top-level data set (PS3.5 §7.5).
    UnexpectedDelimiter(Tag),
    /// Data elements not in ascending tag order, or a tag repeated (PS3.5 §7.1).
    NotAscending {
        /// The tag before it.
        previous: Tag,
    },
    /// A value longer than [`Limits::max_value_len`](crate::Limits::max_value_len) was
    /// indexed but not read; its accessors return [`Error::ValueTooLarge`].
    ValueSkipped {
        /// The declared length.
        length: u32,
    },
    /// The deflated data set inflates to more than
    /// [`Limits::max_inflated_len`](crate::Limits::max_inflated_len); only that much
    /// was inflated and parsed.
    InflateCapped {
        /// The configured limit in bytes.
        limit: u64,
    },
    /// A Specific Character Set (0008,0005) term this crate does not know; text in its
    /// scope is decoded as ISO 8859-1 (PS3.3 C.12.1.1.2).
    UnknownCharacterSet,
    /// A group 0002 element after the File Meta Information (PS3.10 §7.1).
    FileMetaElementInDataSet,
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NoPreamble => f.write_str("no 128-byte preamble before DICM (PS3.10 §7.1)"),
            Self::NoFileMeta => f.write_str("no DICM prefix or file meta information (PS3.10 §7.1)"),
            Self::NoMagic => f.write_str("file meta information without the DICM prefix (PS3.10 §7.1)"),
            Self::MissingGroupLength => {
                f.write_str("file meta information group length (0002,0000) missing (PS3.10 §7.1)")
            }
            Self::GroupLengthMismatch { declared, actual } => write!(
                f,
                "file meta information group length says {declared} bytes, group 0002 has {actual} (PS3.10 §7.1)"
            ),
            Self::FileMetaNotExplicitLittleEndian => f.write_str(
                "file meta information not in explicit VR little endian (PS3.10 §7.1)",
            ),
            Self::MissingTransferSyntax => {
                f.write_str("transfer syntax UID missing, encoding guessed (PS3.10 §7.1)")
            }
            Self::UnknownTransferSyntax => {
                f.write_str("unknown transfer syntax, encoding guessed (PS3.5 §10)")
            }
            Self::ImplicitVrInExplicitSyntax => {
                f.write_str("implicit VR data in an explicit VR transfer syntax (PS3.5 §7.1.2)")
            }
            Self::UnknownVr(vr) => write!(f, "unknown VR {vr} read with a 32-bit length (PS3.5 §6.2)"),
            Self::OddLength { length } => write!(f, "odd value length {length} (PS3.5 §7.1.1)"),
            Self::UndefinedLengthNotAllowed(vr) => {
                write!(f, "undefined length on a {vr} element, read as a sequence (PS3.5 §7.1.2)")
            }
            Self::DelimiterWithLength { length } => {
                write!(f, "delimiter with length {length} instead of 0 (PS3.5 §7.5.2)")
            }
            Self::UnexpectedDelimiter(tag) => write!(f, "unexpected delimiter {tag} (PS3.5 §7.5)"),
            Self::NotAscending { previous } => {
                write!(f, "data element not in ascending order after {previous} (PS3.5 §7.1)")
            }
            Self::ValueSkipped { length } => {
                write!(f, "value of {length} bytes over the value size limit, not read")
            }
            Self::InflateCapped { limit } => {
                write!(f, "deflated data set inflates beyond the limit of {limit} bytes")
            }
            Self::UnknownCharacterSet => f.write_str(
                "unknown specific character set term, text decoded as ISO 8859-1 (PS3.3 C.12.1.1.2)",
            ),
            Self::FileMetaElementInDataSet => {
                f.write_str("group 0002 element in the data set (PS3.10 §7.1)")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_display_names_the_path() {
        let location = Location {
            region: Region::DataSet,
            top_level: Some(Tag::new(0x0040, 0x0560)),
            tag: Some(Tag::new(0x0040, 0xA160)),
            depth: 2,
        };
        assert_eq!(
            location.to_string(),
            "data set (0040,0560) > … > (0040,A160) at depth 2"
        );
        assert_eq!(
            Location::element(Region::FileMeta, Tag::new(2, 0x10)).to_string(),
            "file meta information (0002,0010)"
        );
    }

    #[test]
    fn errors_report_offset_and_location() {
        let error = Error::Truncated {
            offset: 300,
            location: Location::element(Region::DataSet, Tag::new(0x0040, 0xA160)),
            needed: 0xFFFF_FFF8,
            available: 4,
        };
        assert_eq!(error.offset(), 300);
        assert_eq!(error.location().tag, Some(Tag::new(0x0040, 0xA160)));
        assert_eq!(
            error.to_string(),
            "truncated data set (0040,A160) at offset 300: 4294967288 bytes needed, 4 available"
        );
    }
}
