//! Data element tags.

use core::fmt;

/// A data element tag: group and element number (PS3.5 §7.1).
///
/// Ordered as the standard orders data elements in a data set (by group, then
/// element), so a sorted list of tags is in encoding order. Displayed as
/// `(gggg,eeee)` in upper-case hex.
///
/// ```
/// use labwire_dicom_meta::{Tag, tags};
///
/// assert_eq!(tags::PATIENT_NAME, Tag::new(0x0010, 0x0010));
/// assert_eq!(tags::PATIENT_NAME.to_string(), "(0010,0010)");
/// assert!(Tag::new(0x0009, 0x1001).is_private());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Tag(u32);

impl Tag {
    /// Item (FFFE,E000): starts an item of a sequence or a pixel data fragment (PS3.5 §7.5).
    pub const ITEM: Self = Self::new(0xFFFE, 0xE000);
    /// Item Delimitation Item (FFFE,E00D): ends an item of undefined length.
    pub const ITEM_DELIMITATION: Self = Self::new(0xFFFE, 0xE00D);
    /// Sequence Delimitation Item (FFFE,E0DD): ends a sequence of undefined length.
    pub const SEQUENCE_DELIMITATION: Self = Self::new(0xFFFE, 0xE0DD);

    /// The tag with this group and element number.
    #[must_use]
    pub const fn new(group: u16, element: u16) -> Self {
        Self(((group as u32) << 16) | element as u32)
    }

    /// The tag whose group is the high 16 bits of `value` (`0x0010_0010` is Patient Name).
    #[must_use]
    pub const fn from_u32(value: u32) -> Self {
        Self(value)
    }

    /// The group number.
    #[must_use]
    pub const fn group(self) -> u16 {
        (self.0 >> 16) as u16
    }

    /// The element number.
    #[must_use]
    pub const fn element(self) -> u16 {
        (self.0 & 0xFFFF) as u16
    }

    /// Group and element as one number, group in the high 16 bits.
    #[must_use]
    pub const fn to_u32(self) -> u32 {
        self.0
    }

    /// True for tags of a private data element or private creator: odd groups
    /// other than 0001, 0003, 0005, 0007 and FFFF (PS3.5 §7.8.1).
    #[must_use]
    pub const fn is_private(self) -> bool {
        let group = self.group();
        group % 2 == 1 && group > 0x0007 && group != 0xFFFF
    }

    /// True for a private creator element (gggg,0010-00FF) that reserves a block of
    /// private elements (PS3.5 §7.8.1).
    #[must_use]
    pub const fn is_private_creator(self) -> bool {
        self.is_private() && self.element() >= 0x0010 && self.element() <= 0x00FF
    }

    /// For a private data element (gggg,xxyy) with xx ≥ 0x10, the tag of the private
    /// creator (gggg,00xx) that reserved its block (PS3.5 §7.8.1).
    #[must_use]
    pub const fn private_creator(self) -> Option<Self> {
        let block = self.element() >> 8;
        if self.is_private() && block >= 0x10 {
            Some(Self::new(self.group(), block))
        } else {
            None
        }
    }

    /// True for a group length element (gggg,0000).
    #[must_use]
    pub const fn is_group_length(self) -> bool {
        self.element() == 0
    }

    /// True for the item and delimiter tags of group FFFE, which carry no VR in any
    /// transfer syntax (PS3.5 §7.5).
    #[must_use]
    pub const fn is_delimiter_group(self) -> bool {
        self.group() == 0xFFFE
    }

    /// True for the tags of top-level pixel data at which a header parse stops:
    /// Float Pixel Data (7FE0,0008), Double Float Pixel Data (7FE0,0009) and Pixel
    /// Data (7FE0,0010).
    #[must_use]
    pub const fn is_pixel_data(self) -> bool {
        matches!(self.0, 0x7FE0_0008 | 0x7FE0_0009 | 0x7FE0_0010)
    }

    /// The dictionary keyword (`PatientName`), if the standard dictionary knows the tag.
    #[must_use]
    pub fn keyword(self) -> Option<&'static str> {
        crate::dictionary::lookup(self)
            .map(|entry| entry.keyword())
            .filter(|keyword| !keyword.is_empty())
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:04X},{:04X})", self.group(), self.element())
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag{self}")
    }
}

impl From<(u16, u16)> for Tag {
    fn from((group, element): (u16, u16)) -> Self {
        Self::new(group, element)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_tags_follow_ps3_5_7_8() {
        assert!(!Tag::new(0x0008, 0x0010).is_private());
        assert!(!Tag::new(0x0007, 0x0010).is_private());
        assert!(!Tag::new(0xFFFF, 0x0010).is_private());
        let creator = Tag::new(0x0009, 0x0010);
        assert!(creator.is_private_creator());
        assert_eq!(Tag::new(0x0009, 0x1001).private_creator(), Some(creator));
        assert_eq!(Tag::new(0x0009, 0x0010).private_creator(), None);
        assert_eq!(Tag::new(0x0009, 0x00FF).private_creator(), None);
        assert_eq!(
            Tag::new(0x0029, 0xFF10).private_creator(),
            Some(Tag::new(0x0029, 0x00FF))
        );
    }

    #[test]
    fn order_and_display() {
        assert!(Tag::new(0x0008, 0xFFFF) < Tag::new(0x0010, 0x0000));
        assert_eq!(format!("{:?}", Tag::ITEM), "Tag(FFFE,E000)");
        assert_eq!(Tag::from((0x7FE0, 0x0010)).to_u32(), 0x7FE0_0010);
        assert!(Tag::new(0x7FE0, 0x0008).is_pixel_data());
        assert!(!Tag::new(0x7FE0, 0x0001).is_pixel_data());
    }
}
