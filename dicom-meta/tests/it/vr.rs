//! The VR values are decoded as (`Element::effective_vr`): regression tests for the
//! three bugs the conformance suite found against pydicom, and for the "OB or OW" and
//! "US or OW" ambiguities resolved alongside. Reading never changes what is written:
//! each test writes the header back byte for byte.

use labwire_dicom_meta::{Element, Encoding, Header, Tag, Vr, parse, tags};

use crate::build::{self, UNDEFINED};
use crate::fixture;

const IMPLICIT: Encoding = Encoding::IMPLICIT_VR_LITTLE_ENDIAN;
const EXPLICIT: Encoding = Encoding::EXPLICIT_VR_LITTLE_ENDIAN;

fn implicit_file(data_set: &[u8]) -> Vec<u8> {
    build::file("1.2.840.10008.1.2", data_set)
}

fn explicit_file(data_set: &[u8]) -> Vec<u8> {
    build::file("1.2.840.10008.1.2.1", data_set)
}

/// The VR on the wire (or the implicit reader's) and the effective one.
fn vrs(element: &Element<'_>) -> (Vr, Vr) {
    (element.vr(), element.effective_vr())
}

fn assert_writes_back(header: &Header<'_>, bytes: &[u8]) {
    let written = header.to_bytes().unwrap();
    assert_eq!(written, bytes.get(..written.len()).unwrap());
    if header.stop().is_none() {
        assert_eq!(written.len(), bytes.len());
    }
}

fn us(value: u16) -> [u8; 2] {
    value.to_le_bytes()
}

fn words(values: &[u16]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|value| value.to_le_bytes())
        .collect()
}

#[test]
fn private_creators_written_as_un_are_lo() {
    // pydicom/J2K_pixelrep_mismatch.dcm writes its private creators with VR UN
    // (explicit VR); PS3.5 §7.8.1 makes them LO.
    let bytes = fixture("pydicom/J2K_pixelrep_mismatch.dcm");
    let header = parse(&bytes).unwrap();
    for (tag, creator) in [
        (Tag::new(0x0009, 0x0010), "HMC"),
        (Tag::new(0x0009, 0x0011), "HMC - CT - ID"),
        (Tag::new(0x0019, 0x0010), "SET WINDOW"),
    ] {
        let element = header.get(tag).unwrap();
        assert_eq!(vrs(&element), (Vr::UN, Vr::LO), "{tag}");
        assert_eq!(element.first_string().unwrap(), creator, "{tag}");
    }
    // The elements of the block stay UN: only the creator's dictionary knows them.
    let data = header
        .data_set()
        .private_element(0x0009, "HMC - CT - ID", 0x00)
        .unwrap();
    assert_eq!(data.tag(), Tag::new(0x0009, 0x1100));
    assert_eq!(vrs(&data), (Vr::UN, Vr::UN));
    assert_eq!(data.private_creator().as_deref(), Some("HMC - CT - ID"));
    assert_writes_back(&header, &bytes);

    // Crafted, both ways: written as UN under explicit VR, and under implicit VR.
    let creator = Tag::new(0x0029, 0x0010);
    let private = Tag::new(0x0029, 0x1001);
    let mut data_set = build::element(EXPLICIT, creator, b"UN", b"ACME 1.0");
    data_set.extend(build::element(EXPLICIT, private, b"UN", b"\x01\x02"));
    let bytes = explicit_file(&data_set);
    let header = parse(&bytes).unwrap();
    assert!(header.warnings().is_empty(), "{:?}", header.warnings());
    assert_eq!(vrs(&header.get(creator).unwrap()), (Vr::UN, Vr::LO));
    assert_eq!(vrs(&header.get(private).unwrap()), (Vr::UN, Vr::UN));
    assert_eq!(
        header.get(private).unwrap().private_creator().as_deref(),
        Some("ACME 1.0")
    );
    assert_writes_back(&header, &bytes);

    let mut data_set = build::element(IMPLICIT, creator, b"LO", b"ACME 1.0");
    data_set.extend(build::element(IMPLICIT, private, b"UN", b"\x01\x02"));
    let bytes = implicit_file(&data_set);
    let header = parse(&bytes).unwrap();
    assert_eq!(vrs(&header.get(creator).unwrap()), (Vr::LO, Vr::LO));
    assert_eq!(vrs(&header.get(private).unwrap()), (Vr::UN, Vr::UN));
    assert_writes_back(&header, &bytes);
}

#[test]
fn us_or_ss_follows_pixel_representation() {
    // pydicom/MR_small_implicit.dcm: Pixel Representation 1, so Smallest and Largest
    // Image Pixel Value are SS, as MR_small.dcm (its explicit VR copy) writes them.
    let implicit_bytes = fixture("pydicom/MR_small_implicit.dcm");
    let explicit_bytes = fixture("pydicom/MR_small.dcm");
    let implicit = parse(&implicit_bytes).unwrap();
    let explicit = parse(&explicit_bytes).unwrap();
    assert_eq!(
        implicit
            .get(tags::PIXEL_REPRESENTATION)
            .unwrap()
            .int()
            .unwrap(),
        1
    );
    for tag in [
        tags::SMALLEST_IMAGE_PIXEL_VALUE,
        tags::LARGEST_IMAGE_PIXEL_VALUE,
    ] {
        let read = implicit.get(tag).unwrap();
        let written = explicit.get(tag).unwrap();
        assert_eq!(vrs(&read), (Vr::US, Vr::SS), "{tag}");
        assert_eq!(vrs(&written), (Vr::SS, Vr::SS), "{tag}");
        assert_eq!(read.ints().unwrap(), written.ints().unwrap(), "{tag}");
    }
    assert_writes_back(&implicit, &implicit_bytes);

    // Crafted, implicit VR: signed pixels at the top level; a Real World Value
    // Mapping item uses them; an icon image item has its own, unsigned.
    let minus_2048 = us(0xF800);
    let mapping_item = build::item_undefined(
        IMPLICIT,
        &build::element(
            IMPLICIT,
            tags::REAL_WORLD_VALUE_FIRST_VALUE_MAPPED,
            b"US",
            &minus_2048,
        ),
    );
    let mut icon = build::element(IMPLICIT, tags::PIXEL_REPRESENTATION, b"US", &us(0));
    icon.extend(build::element(
        IMPLICIT,
        tags::SMALLEST_IMAGE_PIXEL_VALUE,
        b"US",
        &minus_2048,
    ));
    let icon_item = build::item_defined(IMPLICIT, &icon);
    let mut data_set = build::element(IMPLICIT, tags::PIXEL_REPRESENTATION, b"US", &us(1));
    data_set.extend(build::element(
        IMPLICIT,
        tags::SMALLEST_IMAGE_PIXEL_VALUE,
        b"US",
        &minus_2048,
    ));
    data_set.extend(build::sequence_undefined(
        IMPLICIT,
        tags::REAL_WORLD_VALUE_MAPPING_SEQUENCE,
        &[mapping_item],
    ));
    data_set.extend(build::sequence_defined(
        IMPLICIT,
        tags::ICON_IMAGE_SEQUENCE,
        &[icon_item],
    ));
    let bytes = implicit_file(&data_set);
    let header = parse(&bytes).unwrap();
    assert!(header.is_complete() && header.warnings().is_empty());

    let top = header.get(tags::SMALLEST_IMAGE_PIXEL_VALUE).unwrap();
    assert_eq!(vrs(&top), (Vr::US, Vr::SS));
    assert_eq!(top.int().unwrap(), -2048);
    let mapping = header.get(tags::REAL_WORLD_VALUE_MAPPING_SEQUENCE).unwrap();
    let mapped = mapping.items().next().unwrap();
    let first = mapped
        .get(tags::REAL_WORLD_VALUE_FIRST_VALUE_MAPPED)
        .unwrap();
    assert_eq!(vrs(&first), (Vr::US, Vr::SS));
    assert_eq!(first.int().unwrap(), -2048);
    let icon = header.get(tags::ICON_IMAGE_SEQUENCE).unwrap();
    let icon = icon.items().next().unwrap();
    let smallest = icon.get(tags::SMALLEST_IMAGE_PIXEL_VALUE).unwrap();
    assert_eq!(vrs(&smallest), (Vr::US, Vr::US));
    assert_eq!(smallest.int().unwrap(), 0xF800);
    assert_writes_back(&header, &bytes);

    // No Pixel Representation, or one PS3.3 does not define: the first alternative.
    for pixel_representation in [None, Some(2u16)] {
        let mut data_set = Vec::new();
        if let Some(value) = pixel_representation {
            data_set.extend(build::element(
                IMPLICIT,
                tags::PIXEL_REPRESENTATION,
                b"US",
                &us(value),
            ));
        }
        data_set.extend(build::element(
            IMPLICIT,
            tags::SMALLEST_IMAGE_PIXEL_VALUE,
            b"US",
            &minus_2048,
        ));
        let bytes = implicit_file(&data_set);
        let header = parse(&bytes).unwrap();
        let smallest = header.get(tags::SMALLEST_IMAGE_PIXEL_VALUE).unwrap();
        assert_eq!(vrs(&smallest), (Vr::US, Vr::US), "{pixel_representation:?}");
    }

    // Explicit VR: a VR on the wire stays, except UN, which is resolved.
    let mut data_set = build::element(EXPLICIT, tags::PIXEL_REPRESENTATION, b"US", &us(1));
    data_set.extend(build::element(
        EXPLICIT,
        tags::SMALLEST_IMAGE_PIXEL_VALUE,
        b"US",
        &minus_2048,
    ));
    data_set.extend(build::element(
        EXPLICIT,
        tags::LARGEST_IMAGE_PIXEL_VALUE,
        b"UN",
        &us(0x0FA0),
    ));
    let bytes = explicit_file(&data_set);
    let header = parse(&bytes).unwrap();
    let smallest = header.get(tags::SMALLEST_IMAGE_PIXEL_VALUE).unwrap();
    assert_eq!(vrs(&smallest), (Vr::US, Vr::US));
    assert_eq!(smallest.int().unwrap(), 0xF800);
    let largest = header.get(tags::LARGEST_IMAGE_PIXEL_VALUE).unwrap();
    assert_eq!(vrs(&largest), (Vr::UN, Vr::SS));
    assert_eq!(largest.int().unwrap(), 4000);
    assert_writes_back(&header, &bytes);
}

#[test]
fn elements_read_as_sequences_are_sq() {
    // pydicom/nested_priv_SQ.dcm: (0001,0001) of undefined length under implicit VR,
    // holding an item with another; the innermost (0001,0001) is plain text.
    let bytes = fixture("pydicom/nested_priv_SQ.dcm");
    let header = parse(&bytes).unwrap();
    let tag = Tag::new(0x0001, 0x0001);
    let outer = header.get(tag).unwrap();
    assert!(outer.is_sequence() && outer.has_undefined_length());
    assert_eq!(vrs(&outer), (Vr::UN, Vr::SQ));
    let inner = outer.items().next().unwrap().get(tag).unwrap();
    assert!(inner.is_sequence());
    assert_eq!(vrs(&inner), (Vr::UN, Vr::SQ));
    let innermost = inner.items().next().unwrap().get(tag).unwrap();
    assert!(!innermost.is_sequence());
    assert_eq!(vrs(&innermost), (Vr::UN, Vr::UN));
    assert_eq!(innermost.string().unwrap(), "Double Nested SQ");
    assert_writes_back(&header, &bytes);

    // pydicom/priv_SQ.dcm: a private element of defined length whose value starts
    // with an item tag is read as a sequence, so it is SQ too (pydicom keeps UN
    // bytes: a documented difference of the conformance suite).
    let bytes = fixture("pydicom/priv_SQ.dcm");
    let header = parse(&bytes).unwrap();
    let private = header.get(Tag::new(0x3F03, 0x1001)).unwrap();
    assert!(private.is_sequence() && !private.has_undefined_length());
    assert_eq!(vrs(&private), (Vr::UN, Vr::SQ));
    assert_writes_back(&header, &bytes);

    // Crafted: a private element of undefined length under implicit VR.
    let item = build::item_undefined(
        IMPLICIT,
        &build::element(IMPLICIT, tags::CODE_VALUE, b"SH", b"T1"),
    );
    let mut data_set = build::element(IMPLICIT, Tag::new(0x0009, 0x0010), b"LO", b"ACME");
    data_set.extend(build::sequence_undefined(
        IMPLICIT,
        Tag::new(0x0009, 0x1001),
        &[item],
    ));
    let bytes = implicit_file(&data_set);
    let header = parse(&bytes).unwrap();
    let private = header.get(Tag::new(0x0009, 0x1001)).unwrap();
    assert_eq!(vrs(&private), (Vr::UN, Vr::SQ));
    let item = private.items().next().unwrap();
    assert_eq!(item.string(tags::CODE_VALUE).as_deref(), Some("T1"));
    assert_writes_back(&header, &bytes);
}

#[test]
fn lut_data_and_words_follow_their_deciding_attributes() {
    // Implicit VR, signed pixels. A modality LUT of 62720 entries: LUT Data is OW,
    // the descriptor SS with its first and third values unsigned (PS3.3 C.11.1.1).
    // A one-entry LUT: LUT Data is US. Overlay Data and an icon's Pixel Data: OW.
    let lut_item = |entries: u16, data: &[u16]| {
        let mut item = build::element(
            IMPLICIT,
            tags::LUT_DESCRIPTOR,
            b"US",
            &words(&[entries, 0xF800, 16]),
        );
        item.extend(build::element(
            IMPLICIT,
            tags::LUT_DATA,
            b"US",
            &words(data),
        ));
        build::item_defined(IMPLICIT, &item)
    };
    let mut data_set = build::element(IMPLICIT, tags::PIXEL_REPRESENTATION, b"US", &us(1));
    data_set.extend(build::sequence_defined(
        IMPLICIT,
        tags::MODALITY_LUT_SEQUENCE,
        &[lut_item(62720, &[1, 2, 65535]), lut_item(1, &[7])],
    ));
    let icon = build::element(IMPLICIT, tags::PIXEL_DATA, b"OW", &words(&[1, 2]));
    data_set.extend(build::sequence_defined(
        IMPLICIT,
        tags::ICON_IMAGE_SEQUENCE,
        &[build::item_defined(IMPLICIT, &icon)],
    ));
    data_set.extend(build::element(
        IMPLICIT,
        tags::OVERLAY_DATA,
        b"OW",
        &[0x0F, 0xF0],
    ));
    data_set.extend(build::element(
        IMPLICIT,
        Tag::new(0x6002, 0x3000),
        b"OW",
        &[0, 1],
    ));
    let bytes = implicit_file(&data_set);
    let header = parse(&bytes).unwrap();
    assert!(header.is_complete() && header.warnings().is_empty());

    let luts: Vec<_> = header
        .get(tags::MODALITY_LUT_SEQUENCE)
        .unwrap()
        .items()
        .collect();
    let descriptor = luts[0].get(tags::LUT_DESCRIPTOR).unwrap();
    assert_eq!(vrs(&descriptor), (Vr::US, Vr::SS));
    assert_eq!(descriptor.ints().unwrap(), [62720, -2048, 16]);
    let data = luts[0].get(tags::LUT_DATA).unwrap();
    assert_eq!(vrs(&data), (Vr::US, Vr::OW));
    assert_eq!(data.ints().unwrap(), [1, 2, 65535]);
    let data = luts[1].get(tags::LUT_DATA).unwrap();
    assert_eq!(vrs(&data), (Vr::US, Vr::US));
    assert_eq!(data.ints().unwrap(), [7]);

    let icon = header.get(tags::ICON_IMAGE_SEQUENCE).unwrap();
    let pixels = icon.items().next().unwrap().get(tags::PIXEL_DATA).unwrap();
    assert_eq!(vrs(&pixels), (Vr::OB, Vr::OW));
    for tag in [tags::OVERLAY_DATA, Tag::new(0x6002, 0x3000)] {
        assert_eq!(vrs(&header.get(tag).unwrap()), (Vr::OB, Vr::OW), "{tag}");
    }
    assert_writes_back(&header, &bytes);

    // An icon's encapsulated Pixel Data (undefined length) under implicit VR is OB
    // (PS3.5 Annex A.4).
    let mut fragments = build::header(IMPLICIT, tags::PIXEL_DATA, b"OB", UNDEFINED);
    fragments.extend(build::item_defined(IMPLICIT, &[]));
    fragments.extend(build::item_defined(IMPLICIT, &[0xFF, 0xD8, 0xFF, 0xD9]));
    fragments.extend(build::header(
        IMPLICIT,
        Tag::SEQUENCE_DELIMITATION,
        b"UN",
        0,
    ));
    let icon = build::item_undefined(IMPLICIT, &fragments);
    let data_set = build::sequence_undefined(IMPLICIT, tags::ICON_IMAGE_SEQUENCE, &[icon]);
    let bytes = implicit_file(&data_set);
    let header = parse(&bytes).unwrap();
    assert!(header.is_complete(), "{:?}", header.error());
    let icon = header.get(tags::ICON_IMAGE_SEQUENCE).unwrap();
    let pixels = icon.items().next().unwrap().get(tags::PIXEL_DATA).unwrap();
    assert!(pixels.is_encapsulated());
    assert_eq!(vrs(&pixels), (Vr::OB, Vr::OB));
    assert_writes_back(&header, &bytes);

    // Explicit VR: OB on the wire stays OB.
    let data_set = build::element(EXPLICIT, tags::OVERLAY_DATA, b"OB", &[0x0F, 0xF0]);
    let bytes = explicit_file(&data_set);
    let header = parse(&bytes).unwrap();
    assert_eq!(
        vrs(&header.get(tags::OVERLAY_DATA).unwrap()),
        (Vr::OB, Vr::OB)
    );
    assert_writes_back(&header, &bytes);
}
