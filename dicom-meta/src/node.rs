//! The element index a parse builds: one fixed-size node per element and item.

use crate::{Tag, Vr};

/// "No node": the parent of a top-level element.
pub(crate) const NONE: u32 = u32::MAX;

/// One element, item, fragment or stray delimiter, in document (pre-)order: 24
/// bytes, so a header of a few hundred elements indexes into a few kilobytes.
///
/// A node's descendants are the nodes after it up to `end`, so the next sibling of
/// node `i` is node `nodes[i].end` and no node needs a child list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) tag: Tag,
    /// The VR from the wire, or from the dictionary under implicit VR
    /// ([`flags::IMPLICIT_VR`]). Meaningless for items and delimiters.
    pub(crate) vr: Vr,
    pub(crate) flags: u16,
    /// Offset of the tag in the data buffer; the value follows 8 bytes later, or 12
    /// with [`flags::LONG_HEADER`].
    pub(crate) header_start: u32,
    /// Bytes of value: the declared length, or for undefined length the bytes up to
    /// the delimiter.
    pub(crate) value_len: u32,
    /// Index one past the last descendant.
    pub(crate) end: u32,
    /// Index of the enclosing node (the item of an element, the sequence of an
    /// item), [`NONE`] at top level.
    pub(crate) parent: u32,
}

impl Node {
    pub(crate) fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }

    /// The offset of the value.
    pub(crate) fn value_start(&self) -> u32 {
        let header_len = if self.has(flags::LONG_HEADER) { 12 } else { 8 };
        self.header_start.saturating_add(header_len)
    }

    /// The offset one past the value (before any delimiter).
    pub(crate) fn value_end(&self) -> u32 {
        self.value_start().saturating_add(self.value_len)
    }

    /// The offset one past everything this node covers, delimiter included.
    pub(crate) fn raw_end(&self) -> u32 {
        if self.has(flags::UNDEFINED_LENGTH) && !self.has(flags::UNTERMINATED) {
            self.value_end().saturating_add(8)
        } else {
            self.value_end()
        }
    }
}

/// Node flags.
pub(crate) mod flags {
    /// Declared length was undefined (FFFFFFFF): a delimiter ends the value.
    pub(crate) const UNDEFINED_LENGTH: u16 = 1;
    /// A sequence: the children are items holding data sets.
    pub(crate) const SEQUENCE: u16 = 1 << 1;
    /// Encapsulated pixel data: the children are fragment items holding bytes.
    pub(crate) const FRAGMENTS: u16 = 1 << 2;
    /// An item (FFFE,E000), of a sequence or of encapsulated pixel data.
    pub(crate) const ITEM: u16 = 1 << 3;
    /// A delimiter where none belongs, kept so the bytes write back unchanged.
    pub(crate) const DELIMITER: u16 = 1 << 4;
    /// The VR came from the dictionary, not the wire.
    pub(crate) const IMPLICIT_VR: u16 = 1 << 5;
    /// Numbers in the element are big endian.
    pub(crate) const BIG_ENDIAN: u16 = 1 << 6;
    /// The sequence's items are implicit VR little endian whatever the transfer
    /// syntax (PS3.5 §6.2.2 note, CP-246: a UN element holding a sequence).
    pub(crate) const IMPLICIT_CONTENT: u16 = 1 << 7;
    /// The value was not read (skip option or value size limit).
    pub(crate) const SKIPPED: u16 = 1 << 8;
    /// The value is larger than the value size limit; typed accessors refuse it.
    pub(crate) const OVER_LIMIT: u16 = 1 << 9;
    /// The parse ended inside this container: no delimiter, value cut short.
    pub(crate) const UNTERMINATED: u16 = 1 << 10;
    /// For items: the item's elements are not in ascending tag order.
    pub(crate) const UNSORTED: u16 = 1 << 11;
    /// The element was written in explicit VR.
    pub(crate) const EXPLICIT: u16 = 1 << 12;
    /// The header is 12 bytes (explicit VR with a 32-bit length), not 8.
    pub(crate) const LONG_HEADER: u16 = 1 << 13;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_24_bytes() {
        assert_eq!(size_of::<Node>(), 24);
    }
}
