//! Byte builders for crafted test inputs: elements, sequences and files in each
//! encoding, written out by hand so tests do not depend on the writer under test.

use labwire_dicom_meta::{Encoding, Tag};

pub(crate) const UNDEFINED: u32 = 0xFFFF_FFFF;

/// One element in the given encoding. Long-length VRs get the 12-byte header.
pub(crate) fn element(encoding: Encoding, tag: Tag, vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
    header(encoding, tag, vr, u32::try_from(value.len()).unwrap())
        .into_iter()
        .chain(value.iter().copied())
        .collect()
}

/// An element header with an explicit length (possibly `UNDEFINED`).
pub(crate) fn header(encoding: Encoding, tag: Tag, vr: &[u8; 2], length: u32) -> Vec<u8> {
    let mut out = tag_bytes(encoding, tag);
    if encoding.explicit_vr && tag.group() != 0xFFFE {
        out.extend_from_slice(vr);
        let long = matches!(
            vr,
            b"OB"
                | b"OD"
                | b"OF"
                | b"OL"
                | b"OV"
                | b"OW"
                | b"SQ"
                | b"SV"
                | b"UC"
                | b"UN"
                | b"UR"
                | b"UT"
                | b"UV"
        );
        if long {
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&u32_bytes(encoding, length));
        } else {
            out.extend_from_slice(&u16_bytes(encoding, u16::try_from(length).unwrap()));
        }
    } else {
        out.extend_from_slice(&u32_bytes(encoding, length));
    }
    out
}

pub(crate) fn tag_bytes(encoding: Encoding, tag: Tag) -> Vec<u8> {
    let mut out = u16_bytes(encoding, tag.group()).to_vec();
    out.extend_from_slice(&u16_bytes(encoding, tag.element()));
    out
}

pub(crate) fn u16_bytes(encoding: Encoding, value: u16) -> [u8; 2] {
    if encoding.big_endian {
        value.to_be_bytes()
    } else {
        value.to_le_bytes()
    }
}

pub(crate) fn u32_bytes(encoding: Encoding, value: u32) -> [u8; 4] {
    if encoding.big_endian {
        value.to_be_bytes()
    } else {
        value.to_le_bytes()
    }
}

/// An item of undefined length with its delimiter.
pub(crate) fn item_undefined(encoding: Encoding, content: &[u8]) -> Vec<u8> {
    let mut out = header(encoding, Tag::ITEM, b"  ", UNDEFINED);
    out.extend_from_slice(content);
    out.extend(header(encoding, Tag::ITEM_DELIMITATION, b"  ", 0));
    out
}

/// An item of defined length.
pub(crate) fn item_defined(encoding: Encoding, content: &[u8]) -> Vec<u8> {
    let mut out = header(
        encoding,
        Tag::ITEM,
        b"  ",
        u32::try_from(content.len()).unwrap(),
    );
    out.extend_from_slice(content);
    out
}

/// A sequence of undefined length holding the given encoded items.
pub(crate) fn sequence_undefined(encoding: Encoding, tag: Tag, items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = header(encoding, tag, b"SQ", UNDEFINED);
    for item in items {
        out.extend_from_slice(item);
    }
    out.extend(header(encoding, Tag::SEQUENCE_DELIMITATION, b"  ", 0));
    out
}

/// A sequence of defined length holding the given encoded items.
pub(crate) fn sequence_defined(encoding: Encoding, tag: Tag, items: &[Vec<u8>]) -> Vec<u8> {
    let content: Vec<u8> = items.concat();
    let mut out = header(encoding, tag, b"SQ", u32::try_from(content.len()).unwrap());
    out.extend(content);
    out
}

/// A Part 10 file: zero preamble, `DICM`, file meta information with a correct group
/// length, then the data set bytes as given.
pub(crate) fn file(transfer_syntax: &str, data_set: &[u8]) -> Vec<u8> {
    let le = Encoding::EXPLICIT_VR_LITTLE_ENDIAN;
    let mut uid = transfer_syntax.as_bytes().to_vec();
    if uid.len() % 2 == 1 {
        uid.push(0);
    }
    let mut meta = Vec::new();
    meta.extend(element(le, Tag::new(0x0002, 0x0001), b"OB", &[0, 1]));
    meta.extend(element(
        le,
        Tag::new(0x0002, 0x0002),
        b"UI",
        b"1.2.840.10008.5.1.4.1.1.7\0",
    ));
    meta.extend(element(le, Tag::new(0x0002, 0x0003), b"UI", b"1.2.3.4\0"));
    meta.extend(element(le, Tag::new(0x0002, 0x0010), b"UI", &uid));
    meta.extend(element(le, Tag::new(0x0002, 0x0012), b"UI", b"1.2.3.4.5\0"));
    let mut out = vec![0u8; 128];
    out.extend_from_slice(b"DICM");
    out.extend(element(
        le,
        Tag::new(0x0002, 0x0000),
        b"UL",
        &u32::try_from(meta.len()).unwrap().to_le_bytes(),
    ));
    out.extend(meta);
    out.extend_from_slice(data_set);
    out
}

/// The nested-sequence bomb of the hostile corpus (`deep_1k.dcm`) at any depth:
/// Content Sequence (0040,A730) of undefined length, one item of undefined length
/// holding the next, `depth` times, after a small header.
pub(crate) fn deep_nesting(depth: usize) -> Vec<u8> {
    let le = Encoding::EXPLICIT_VR_LITTLE_ENDIAN;
    let mut data_set = element(le, Tag::new(0x0008, 0x0005), b"CS", b"ISO_IR 192");
    data_set.extend(element(le, Tag::new(0x0010, 0x0010), b"PN", b"Doe^John"));
    let open = [
        header(le, Tag::new(0x0040, 0xA730), b"SQ", UNDEFINED),
        header(le, Tag::ITEM, b"  ", UNDEFINED),
    ]
    .concat();
    let close = [
        header(le, Tag::ITEM_DELIMITATION, b"  ", 0),
        header(le, Tag::SEQUENCE_DELIMITATION, b"  ", 0),
    ]
    .concat();
    data_set.reserve(depth * (open.len() + close.len()));
    for _ in 0..depth {
        data_set.extend_from_slice(&open);
    }
    for _ in 0..depth {
        data_set.extend_from_slice(&close);
    }
    file("1.2.840.10008.1.2.1", &data_set)
}
