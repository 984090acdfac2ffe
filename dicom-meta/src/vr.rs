//! Value representations.

use core::fmt;

/// A value representation: the two-letter code that says how a value is encoded
/// (PS3.5 §6.2).
///
/// An open type: any two bytes read from the wire are kept as they were, so a file
/// with a VR this crate does not know (one added by a later edition of the
/// standard) is read and written back unchanged. The known codes are constants.
///
/// ```
/// use labwire_dicom_meta::Vr;
///
/// assert_eq!(Vr::from_bytes(*b"PN"), Vr::PN);
/// assert!(Vr::SQ.has_long_length() && !Vr::PN.has_long_length());
/// assert!(!Vr::from_bytes(*b"ZZ").is_known());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vr([u8; 2]);

/// The two bytes of a two-letter code, for the constants below.
const fn code_of(text: &str) -> [u8; 2] {
    match text.as_bytes() {
        [first, second] => [*first, *second],
        _ => [0, 0],
    }
}

macro_rules! vr_consts {
    ($($code:ident => $doc:literal,)*) => {
        impl Vr {
            $(
                #[doc = $doc]
                pub const $code: Self = Self(code_of(stringify!($code)));
            )*
            /// Every VR of the current standard, in alphabetical order.
            pub const KNOWN: &'static [Self] = &[$(Self::$code),*];
        }
    };
}

vr_consts! {
    AE => "Application Entity: up to 16 characters, default repertoire.",
    AS => "Age String: `nnnD`, `nnnW`, `nnnM` or `nnnY`.",
    AT => "Attribute Tag: a pair of 16-bit numbers (group, element).",
    CS => "Code String: up to 16 upper-case characters.",
    DA => "Date: `YYYYMMDD`.",
    DS => "Decimal String: a decimal number as text.",
    DT => "Date Time: `YYYYMMDDHHMMSS.FFFFFF&ZZXX`, any trailing part omitted.",
    FD => "Floating Point Double: IEEE 754 binary64.",
    FL => "Floating Point Single: IEEE 754 binary32.",
    IS => "Integer String: a decimal integer as text.",
    LO => "Long String: up to 64 characters, Specific Character Set applies.",
    LT => "Long Text: up to 10240 characters, Specific Character Set applies.",
    OB => "Other Byte: bytes whose order does not depend on the byte order.",
    OD => "Other Double: a stream of binary64 values.",
    OF => "Other Float: a stream of binary32 values.",
    OL => "Other Long: a stream of 32-bit words.",
    OV => "Other 64-bit Very Long: a stream of 64-bit words.",
    OW => "Other Word: a stream of 16-bit words.",
    PN => "Person Name: up to three `=`-separated groups of `^`-separated components.",
    SH => "Short String: up to 16 characters, Specific Character Set applies.",
    SL => "Signed Long: 32-bit signed integer.",
    SQ => "Sequence of Items.",
    SS => "Signed Short: 16-bit signed integer.",
    ST => "Short Text: up to 1024 characters, Specific Character Set applies.",
    SV => "Signed 64-bit Very Long: 64-bit signed integer.",
    TM => "Time: `HHMMSS.FFFFFF`, any trailing part omitted.",
    UC => "Unlimited Characters: Specific Character Set applies.",
    UI => "Unique Identifier: dotted decimal, padded with NUL.",
    UL => "Unsigned Long: 32-bit unsigned integer.",
    UN => "Unknown: bytes of an element whose VR the writer did not know.",
    UR => "Universal Resource Identifier or Locator (RFC 3986).",
    US => "Unsigned Short: 16-bit unsigned integer.",
    UT => "Unlimited Text: Specific Character Set applies.",
    UV => "Unsigned 64-bit Very Long: 64-bit unsigned integer.",
}

/// How an explicit VR reader treats a code: see [`Vr::class`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VrClass {
    /// Not two upper-case letters: not a VR at all.
    Implausible,
    /// Two letters, not a VR of the current standard.
    Unknown,
    /// A known VR with a 16-bit length.
    Short,
    /// A known VR with a 32-bit length, other than SQ and UN.
    Long,
    /// SQ.
    Sequence,
    /// UN.
    Un,
}

/// The class of every two-letter code, indexed by `(first - 'A') * 26 + (second - 'A')`.
static CLASSES: [VrClass; 26 * 26] = classes();

#[allow(
    clippy::indexing_slicing,
    reason = "const evaluation: an index out of bounds fails the build, never a run"
)]
const fn classes() -> [VrClass; 26 * 26] {
    let mut table = [VrClass::Unknown; 26 * 26];
    let mut i = 0;
    while i < Vr::KNOWN.len() {
        let [a, b] = Vr::KNOWN[i].0;
        let class = match Vr::KNOWN[i].0 {
            [b'S', b'Q'] => VrClass::Sequence,
            [b'U', b'N'] => VrClass::Un,
            [b'O', _]
            | [b'S', b'V']
            | [b'U', b'C']
            | [b'U', b'R']
            | [b'U', b'T']
            | [b'U', b'V'] => VrClass::Long,
            _ => VrClass::Short,
        };
        table[(a - b'A') as usize * 26 + (b - b'A') as usize] = class;
        i += 1;
    }
    table
}

impl Vr {
    /// How an explicit VR reader treats this code, in one table lookup.
    #[inline(always)]
    pub(crate) fn class(self) -> VrClass {
        let [a, b] = self.0;
        let (a, b) = (a.wrapping_sub(b'A'), b.wrapping_sub(b'A'));
        if a < 26 && b < 26 {
            CLASSES
                .get(usize::from(a) * 26 + usize::from(b))
                .copied()
                .unwrap_or(VrClass::Implausible)
        } else {
            VrClass::Implausible
        }
    }

    /// The VR with this two-byte code, known or not.
    #[must_use]
    pub const fn from_bytes(code: [u8; 2]) -> Self {
        Self(code)
    }

    /// The two bytes of the code.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 2] {
        self.0
    }

    /// The code as text (`"PN"`); `"??"` when the bytes are not two ASCII letters.
    #[must_use]
    pub fn as_str(&self) -> &str {
        if self.0.iter().all(u8::is_ascii_uppercase) {
            core::str::from_utf8(&self.0).unwrap_or("??")
        } else {
            "??"
        }
    }

    /// True for a VR of the current standard.
    #[must_use]
    pub fn is_known(self) -> bool {
        // A match, not a search of KNOWN: this runs for every explicit VR element.
        matches!(
            &self.0,
            b"AE"
                | b"AS"
                | b"AT"
                | b"CS"
                | b"DA"
                | b"DS"
                | b"DT"
                | b"FD"
                | b"FL"
                | b"IS"
                | b"LO"
                | b"LT"
                | b"OB"
                | b"OD"
                | b"OF"
                | b"OL"
                | b"OV"
                | b"OW"
                | b"PN"
                | b"SH"
                | b"SL"
                | b"SQ"
                | b"SS"
                | b"ST"
                | b"SV"
                | b"TM"
                | b"UC"
                | b"UI"
                | b"UL"
                | b"UN"
                | b"UR"
                | b"US"
                | b"UT"
                | b"UV"
        )
    }

    /// True when the bytes could be a VR code at all: two upper-case ASCII letters.
    /// An explicit-VR reader uses this to notice data written with implicit VR.
    #[must_use]
    pub const fn is_plausible(self) -> bool {
        self.0[0].is_ascii_uppercase() && self.0[1].is_ascii_uppercase()
    }

    /// True for the VRs encoded in explicit VR syntaxes with two reserved bytes and a
    /// 32-bit length (PS3.5 §7.1.2, Table 7.1-1): OB OD OF OL OV OW SQ SV UC UN UR UT
    /// UV. Unknown codes are also read this way, as PS3.5 §6.2 asks of readers that
    /// meet a VR defined after they were written.
    #[must_use]
    pub fn has_long_length(self) -> bool {
        matches!(
            self,
            Self::OB
                | Self::OD
                | Self::OF
                | Self::OL
                | Self::OV
                | Self::OW
                | Self::SQ
                | Self::SV
                | Self::UC
                | Self::UN
                | Self::UR
                | Self::UT
                | Self::UV
        ) || !self.is_known()
    }

    /// True for the text VRs whose values use the Specific Character Set (0008,0005):
    /// SH LO ST LT UC UT PN (PS3.5 §6.1.2.3). All other text VRs use the default
    /// repertoire.
    #[must_use]
    pub fn uses_specific_character_set(self) -> bool {
        matches!(
            self,
            Self::SH | Self::LO | Self::ST | Self::LT | Self::UC | Self::UT | Self::PN
        )
    }

    /// True for VRs whose value is text (all but the binary and sequence VRs).
    #[must_use]
    pub fn is_text(self) -> bool {
        matches!(
            self,
            Self::AE
                | Self::AS
                | Self::CS
                | Self::DA
                | Self::DS
                | Self::DT
                | Self::IS
                | Self::LO
                | Self::LT
                | Self::PN
                | Self::SH
                | Self::ST
                | Self::TM
                | Self::UC
                | Self::UI
                | Self::UR
                | Self::UT
        )
    }

    /// True for the VRs whose values may hold several `\`-separated values. The text
    /// VRs LT ST UT UR hold exactly one value, so a backslash in them is a character.
    #[must_use]
    pub fn is_multi_valued_text(self) -> bool {
        self.is_text() && !matches!(self, Self::LT | Self::ST | Self::UT | Self::UR)
    }

    /// The size in bytes of one binary value for fixed-size binary VRs
    /// (US SS → 2, UL SL FL AT → 4, FD SV UV → 8, and the OW/OL/OF/OD/OV streams).
    #[must_use]
    pub fn binary_width(self) -> Option<usize> {
        match self {
            Self::OB | Self::UN => Some(1),
            Self::US | Self::SS | Self::OW => Some(2),
            Self::UL | Self::SL | Self::FL | Self::AT | Self::OL | Self::OF => Some(4),
            Self::FD | Self::SV | Self::UV | Self::OD | Self::OV => Some(8),
            _ => None,
        }
    }

    /// The byte a value of this VR is padded with to an even length: NUL for UI and
    /// the binary VRs, space for text (PS3.5 §6.2).
    #[must_use]
    pub fn padding(self) -> u8 {
        if self.is_text() && self != Self::UI {
            b' '
        } else {
            0
        }
    }
}

impl fmt::Display for Vr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_plausible() {
            f.write_str(self.as_str())
        } else {
            write!(f, "{:02X}{:02X}", self.0[0], self.0[1])
        }
    }
}

impl fmt::Debug for Vr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Vr({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_table_is_sorted_and_complete() {
        assert!(Vr::KNOWN.windows(2).all(|w| w[0] < w[1]));
        assert!(Vr::KNOWN.iter().all(|vr| vr.is_known()));
        let mut known = 0;
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                known += usize::from(Vr::from_bytes([a, b]).is_known());
            }
        }
        assert_eq!(known, Vr::KNOWN.len());
        assert_eq!(Vr::KNOWN.len(), 34);
        assert_eq!(Vr::UV.to_bytes(), *b"UV");
    }

    #[test]
    fn long_length_vrs_follow_table_7_1_1() {
        let long: Vec<&str> = Vr::KNOWN
            .iter()
            .filter(|vr| vr.has_long_length())
            .map(Vr::as_str)
            .collect();
        assert_eq!(
            long,
            [
                "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"
            ]
        );
        assert!(Vr::from_bytes(*b"XY").has_long_length());
    }

    #[test]
    fn classes_agree_with_the_predicates() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let vr = Vr::from_bytes([a, b]);
                let expected = if !vr.is_plausible() {
                    VrClass::Implausible
                } else if !vr.is_known() {
                    VrClass::Unknown
                } else if vr == Vr::SQ {
                    VrClass::Sequence
                } else if vr == Vr::UN {
                    VrClass::Un
                } else if vr.has_long_length() {
                    VrClass::Long
                } else {
                    VrClass::Short
                };
                assert_eq!(vr.class(), expected, "{vr}");
            }
        }
    }

    #[test]
    fn display_of_garbage_is_hex() {
        assert_eq!(Vr::from_bytes([0x0A, 0x00]).to_string(), "0A00");
        assert_eq!(Vr::from_bytes([0x0A, 0x00]).as_str(), "??");
        assert_eq!(Vr::LO.to_string(), "LO");
    }
}
