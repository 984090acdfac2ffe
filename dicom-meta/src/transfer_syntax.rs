//! Transfer syntaxes: what a Transfer Syntax UID says about the data set encoding.

/// Implicit VR Little Endian, the default transfer syntax (PS3.5 §A.1).
pub const IMPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2";
/// Explicit VR Little Endian (PS3.5 §A.2).
pub const EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1";
/// Encapsulated Uncompressed Explicit VR Little Endian (PS3.5 §A.4.11).
pub const ENCAPSULATED_UNCOMPRESSED_EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1.98";
/// Deflated Explicit VR Little Endian (PS3.5 §A.5).
pub const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1.99";
/// Explicit VR Big Endian, retired (PS3.5 §A.3).
pub const EXPLICIT_VR_BIG_ENDIAN: &str = "1.2.840.10008.1.2.2";
/// JPIP Referenced, explicit VR little endian with pixel data referenced (PS3.5 §A.6).
pub const JPIP_REFERENCED: &str = "1.2.840.10008.1.2.4.94";
/// JPIP Referenced Deflate, deflated explicit VR little endian (PS3.5 §A.7).
pub const JPIP_REFERENCED_DEFLATE: &str = "1.2.840.10008.1.2.4.95";
/// RLE Lossless (PS3.5 §A.4.2).
pub const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";

/// How a data set's elements are encoded: explicit or implicit VR, little or big
/// endian (PS3.5 §7.1, §7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Encoding {
    /// The VR is written in each element header.
    pub explicit_vr: bool,
    /// Numbers (tags, lengths, binary values) are big endian.
    pub big_endian: bool,
}

impl Encoding {
    /// Implicit VR Little Endian.
    pub const IMPLICIT_VR_LITTLE_ENDIAN: Self = Self {
        explicit_vr: false,
        big_endian: false,
    };
    /// Explicit VR Little Endian: the file meta information and most data sets.
    pub const EXPLICIT_VR_LITTLE_ENDIAN: Self = Self {
        explicit_vr: true,
        big_endian: false,
    };
    /// Explicit VR Big Endian.
    pub const EXPLICIT_VR_BIG_ENDIAN: Self = Self {
        explicit_vr: true,
        big_endian: true,
    };
}

/// What a transfer syntax means for reading the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransferSyntax {
    /// The data set encoding.
    pub encoding: Encoding,
    /// The data set after the file meta information is a raw DEFLATE stream (RFC 1951)
    /// of the explicit VR little endian encoding (PS3.5 §A.5).
    pub deflated: bool,
    /// Pixel data is encapsulated in fragments (JPEG, JPEG-LS, JPEG 2000, RLE …,
    /// PS3.5 §A.4); the header itself is explicit VR little endian.
    pub encapsulated: bool,
}

impl TransferSyntax {
    /// What the transfer syntax with this UID means, if it is a standard one.
    ///
    /// Every standard transfer syntax other than the implicit, big-endian and deflated
    /// ones encodes the data set in explicit VR little endian; those under
    /// `1.2.840.10008.1.2.4.` and `1.2.840.10008.1.2.5` encapsulate pixel data.
    ///
    /// ```
    /// use labwire_dicom_meta::{Encoding, TransferSyntax};
    ///
    /// let jpeg = TransferSyntax::from_uid("1.2.840.10008.1.2.4.50").unwrap();
    /// assert_eq!(jpeg.encoding, Encoding::EXPLICIT_VR_LITTLE_ENDIAN);
    /// assert!(jpeg.encapsulated && !jpeg.deflated);
    /// assert!(TransferSyntax::from_uid("1.2.3.4").is_none());
    /// ```
    #[must_use]
    pub fn from_uid(uid: &str) -> Option<Self> {
        let plain = |encoding| Self {
            encoding,
            deflated: false,
            encapsulated: false,
        };
        let explicit = Encoding::EXPLICIT_VR_LITTLE_ENDIAN;
        match uid {
            IMPLICIT_VR_LITTLE_ENDIAN => Some(plain(Encoding::IMPLICIT_VR_LITTLE_ENDIAN)),
            EXPLICIT_VR_LITTLE_ENDIAN | JPIP_REFERENCED => Some(plain(explicit)),
            EXPLICIT_VR_BIG_ENDIAN => Some(plain(Encoding::EXPLICIT_VR_BIG_ENDIAN)),
            DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN | JPIP_REFERENCED_DEFLATE => Some(Self {
                deflated: true,
                ..plain(explicit)
            }),
            ENCAPSULATED_UNCOMPRESSED_EXPLICIT_VR_LITTLE_ENDIAN | RLE_LOSSLESS => Some(Self {
                encapsulated: true,
                ..plain(explicit)
            }),
            _ => {
                let family = |prefix: &str| {
                    uid.strip_prefix(prefix).is_some_and(|rest| {
                        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                    })
                };
                if family("1.2.840.10008.1.2.4.") {
                    Some(Self {
                        encapsulated: true,
                        ..plain(explicit)
                    })
                } else if family("1.2.840.10008.1.2.6.") || family("1.2.840.10008.1.2.7.") {
                    // RFC 2557 MIME / XML encapsulation and SMPTE ST 2110: explicit VR LE
                    // data set without pixel data in it (PS3.5 §A.8-A.10).
                    Some(plain(explicit))
                } else {
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_syntaxes() {
        let implicit = TransferSyntax::from_uid(IMPLICIT_VR_LITTLE_ENDIAN).unwrap();
        assert_eq!(implicit.encoding, Encoding::IMPLICIT_VR_LITTLE_ENDIAN);
        let big = TransferSyntax::from_uid(EXPLICIT_VR_BIG_ENDIAN).unwrap();
        assert!(big.encoding.big_endian);
        assert!(
            TransferSyntax::from_uid(DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN)
                .unwrap()
                .deflated
        );
        assert!(
            TransferSyntax::from_uid(JPIP_REFERENCED_DEFLATE)
                .unwrap()
                .deflated
        );
        assert!(TransferSyntax::from_uid(RLE_LOSSLESS).unwrap().encapsulated);
        assert!(
            TransferSyntax::from_uid("1.2.840.10008.1.2.4.201")
                .unwrap()
                .encapsulated
        );
        assert!(TransferSyntax::from_uid("1.2.840.10008.1.2.4.").is_none());
        assert!(TransferSyntax::from_uid("1.2.840.113619.5.2").is_none());
    }
}
