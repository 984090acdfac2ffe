//! Editing: only what changed is re-encoded, lengths around it and group lengths
//! follow, the rest stays byte for byte.

use labwire_dicom_meta::{Encoding, Error, Header, Item, Tag, Value, Vr, deidentify, parse, tags};

use crate::build;
use crate::fixture;

/// The raw bytes of every element at every level, by path, for comparing two headers
/// outside the edited elements.
fn raw_elements(header: &Header<'_>) -> Vec<(Vec<Tag>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![(Vec::new(), header.data_set())];
    while let Some((path, data_set)) = stack.pop() {
        for element in data_set.iter() {
            let mut here = path.clone();
            here.push(element.tag());
            if element.is_sequence() {
                for item in element.items() {
                    stack.push((here.clone(), item));
                }
            } else {
                out.push((here, element.raw().to_vec()));
            }
        }
    }
    out.sort();
    out
}

fn without(mut elements: Vec<(Vec<Tag>, Vec<u8>)>, tag: Tag) -> Vec<(Vec<Tag>, Vec<u8>)> {
    elements.retain(|(path, _)| path.last() != Some(&tag));
    elements
}

#[test]
fn editing_one_element_leaves_every_other_byte() {
    for name in [
        "pydicom/CT_small.dcm",
        "pydicom/MR_small_bigendian.dcm",
        "pydicom/MR_small_implicit.dcm",
        "pydicom/rtplan.dcm",
        "highdicom/sm_image.dcm",
        "pydicom/image_dfl.dcm",
    ] {
        let bytes = fixture(name);
        let header = parse(&bytes).unwrap();
        let mut editor = header.editor();
        editor
            .set(tags::PATIENT_NAME, Value::text("Edited^Name^X"))
            .unwrap();
        let written = editor.write_file().unwrap();
        let reread = parse(&written).unwrap();
        assert!(reread.is_complete(), "{name}: {:?}", reread.error());
        assert_eq!(reread.warnings(), header.warnings(), "{name}");
        // Odd text is padded with a space to even length (PS3.5 §6.2).
        assert_eq!(
            reread.get(tags::PATIENT_NAME).unwrap().raw(),
            b"Edited^Name^X ",
            "{name}"
        );
        assert_eq!(
            reread.string(tags::PATIENT_NAME).as_deref(),
            Some("Edited^Name^X"),
            "{name}"
        );
        assert_eq!(
            without(raw_elements(&reread), tags::PATIENT_NAME),
            without(raw_elements(&header), tags::PATIENT_NAME),
            "{name}"
        );
        if !header.is_deflated() {
            assert_eq!(
                reread.remaining(),
                header.remaining(),
                "{name}: pixel data untouched"
            );
        }
    }
}

#[test]
fn editing_inside_sequences_fixes_defined_lengths() {
    // sm_image.dcm uses sequences and items of defined length: the edit changes the
    // length of an item and its sequence.
    let bytes = fixture("highdicom/sm_image.dcm");
    let header = parse(&bytes).unwrap();
    let container_type = header.get(tags::CONTAINER_TYPE_CODE_SEQUENCE).unwrap();
    assert!(!container_type.has_undefined_length());
    let item = container_type.items().next().unwrap();
    let meaning = item.get(tags::CODE_MEANING).unwrap();
    let mut editor = header.editor();
    editor
        .set_element(
            &meaning,
            Value::text("A much longer code meaning than before"),
        )
        .unwrap();
    // And add an element to the same item, and one to a nested item.
    editor
        .set_in(
            &item,
            tags::CODING_SCHEME_VERSION,
            Vr::SH,
            Value::text("2024"),
        )
        .unwrap();
    let specimen = header
        .get(tags::SPECIMEN_DESCRIPTION_SEQUENCE)
        .unwrap()
        .items()
        .next()
        .unwrap();
    editor
        .set_in(
            &specimen,
            tags::SPECIMEN_SHORT_DESCRIPTION,
            Vr::LO,
            Value::text("Brain, left"),
        )
        .unwrap();
    let written = editor.write_file().unwrap();
    let reread = parse(&written).unwrap();
    assert!(
        reread.is_complete() && reread.warnings().is_empty(),
        "{:?}",
        reread.error()
    );
    let item = reread
        .get(tags::CONTAINER_TYPE_CODE_SEQUENCE)
        .unwrap()
        .items()
        .next()
        .unwrap();
    assert_eq!(
        item.string(tags::CODE_MEANING).as_deref(),
        Some("A much longer code meaning than before")
    );
    assert_eq!(
        item.string(tags::CODING_SCHEME_VERSION).as_deref(),
        Some("2024")
    );
    assert_eq!(item.string(tags::CODE_VALUE).as_deref(), Some("433466003"));
    let specimen = reread
        .get(tags::SPECIMEN_DESCRIPTION_SEQUENCE)
        .unwrap()
        .items()
        .next()
        .unwrap();
    assert_eq!(
        specimen.string(tags::SPECIMEN_SHORT_DESCRIPTION).as_deref(),
        Some("Brain, left")
    );
    assert_eq!(
        specimen.string(tags::SPECIMEN_IDENTIFIER).as_deref(),
        Some("S19-1_A_1_1")
    );
    assert_eq!(reread.remaining(), header.remaining());
}

#[test]
fn removing_and_adding_top_level_elements() {
    let bytes = fixture("pydicom/CT_small.dcm");
    let header = parse(&bytes).unwrap();
    let mut editor = header.editor();
    editor.remove(tags::PATIENT_ID);
    editor
        .set(tags::CONTAINER_IDENTIFIER, Value::text("SLIDE-1"))
        .unwrap();
    editor.set(tags::SERIES_NUMBER, Value::text("42")).unwrap();
    let reread_bytes = editor.write_file().unwrap();
    let reread = parse(&reread_bytes).unwrap();
    assert!(reread.is_complete() && reread.warnings().is_empty());
    assert!(reread.get(tags::PATIENT_ID).is_none());
    assert_eq!(
        reread.string(tags::CONTAINER_IDENTIFIER).as_deref(),
        Some("SLIDE-1")
    );
    assert_eq!(reread.get(tags::SERIES_NUMBER).unwrap().int().unwrap(), 42);
    // One removed, one added, one replaced (CT_small.dcm has a Series Number).
    assert!(header.get(tags::SERIES_NUMBER).is_some());
    assert_eq!(reread.data_set().len(), header.data_set().len());
}

#[test]
fn data_set_group_lengths_are_recomputed_for_changed_groups_only() {
    let le = Encoding::EXPLICIT_VR_LITTLE_ENDIAN;
    let group_10 = [
        build::element(le, tags::PATIENT_NAME, b"PN", b"Doe^John"),
        build::element(le, tags::PATIENT_ID, b"LO", b"ID"),
    ]
    .concat();
    // Group 0008 declares a wrong length on purpose: it must stay as it is.
    let data_set = [
        build::element(le, Tag::new(0x0008, 0x0000), b"UL", &999u32.to_le_bytes()),
        build::element(le, tags::MODALITY, b"CS", b"SM"),
        build::element(
            le,
            Tag::new(0x0010, 0x0000),
            b"UL",
            &u32::try_from(group_10.len()).unwrap().to_le_bytes(),
        ),
        group_10,
    ]
    .concat();
    let bytes = build::file("1.2.840.10008.1.2.1", &data_set);
    let header = parse(&bytes).unwrap();
    let mut editor = header.editor();
    editor
        .set(tags::PATIENT_NAME, Value::text("Roe^Richard"))
        .unwrap();
    let reread_bytes = editor.write().unwrap();
    let reread = parse(&reread_bytes).unwrap();
    assert_eq!(
        reread.get(Tag::new(0x0010, 0x0000)).unwrap().int().unwrap(),
        12 + 8 + 10
    );
    assert_eq!(
        reread.get(Tag::new(0x0008, 0x0000)).unwrap().int().unwrap(),
        999
    );
}

#[test]
fn meta_edits_recompute_the_group_length() {
    // meta_len_long.dcm declares a wrong (0002,0000); an unedited write keeps it,
    // an edit of the meta group recomputes it.
    let bytes = fixture("hostile/meta_len_long.dcm");
    let header = parse(&bytes).unwrap();
    assert_eq!(header.to_bytes().unwrap(), bytes);
    let mut editor = header.editor();
    editor
        .set(
            tags::IMPLEMENTATION_VERSION_NAME,
            Value::text("LABWIRE_0_1"),
        )
        .unwrap();
    let written = editor.write().unwrap();
    let reread = parse(&written).unwrap();
    assert!(reread.warnings().is_empty(), "{:?}", reread.warnings());
    assert_eq!(
        reread.string(tags::IMPLEMENTATION_VERSION_NAME).as_deref(),
        Some("LABWIRE_0_1")
    );
    assert_eq!(reread.meta_group_length(), Some(0x6e + 8 + 12));
    assert_eq!(
        reread.string(tags::PATIENT_NAME).as_deref(),
        Some("Doe^John")
    );
}

#[test]
fn text_is_encoded_in_the_data_sets_character_set() {
    let bytes = fixture("charset/chrFren.dcm"); // ISO_IR 100
    let header = parse(&bytes).unwrap();
    let mut editor = header.editor();
    editor
        .set(tags::PATIENT_NAME, Value::text("Dubois^Hélène"))
        .unwrap();
    let written = editor.write().unwrap();
    let reread = parse(&written).unwrap();
    assert_eq!(
        reread.get(tags::PATIENT_NAME).unwrap().raw(),
        b"Dubois^H\xe9l\xe8ne "
    );
    assert_eq!(
        reread.string(tags::PATIENT_NAME).as_deref(),
        Some("Dubois^Hélène")
    );

    let mut editor = header.editor();
    editor
        .set(tags::PATIENT_NAME, Value::text("Ли^Юн"))
        .unwrap();
    assert!(matches!(editor.write(), Err(Error::Encode { .. })));
}

#[test]
fn values_of_every_kind_round_trip_in_every_encoding() {
    for ts in [
        "1.2.840.10008.1.2",
        "1.2.840.10008.1.2.1",
        "1.2.840.10008.1.2.2",
        "1.2.840.10008.1.2.1.99",
    ] {
        let bytes = build::file(ts, &[]);
        let header = parse(&bytes).unwrap();
        let mut editor = header.editor();
        editor.set(tags::ROWS, Value::U16(vec![512])).unwrap();
        editor
            .set(tags::PIXEL_PADDING_VALUE, Value::I16(vec![-2000]))
            .unwrap();
        editor
            .set(tags::SIMPLE_FRAME_LIST, Value::U32(vec![1, 2, 3]))
            .unwrap();
        editor
            .set(tags::REFERENCE_PIXEL_X0, Value::I32(vec![-7]))
            .unwrap();
        editor
            .set(
                tags::RECOMMENDED_DISPLAY_FRAME_RATE_IN_FLOAT,
                Value::F32(vec![2.5]),
            )
            .unwrap();
        editor
            .set(tags::TIME_RANGE, Value::F64(vec![-1.25]))
            .unwrap();
        editor
            .set(
                tags::FRAME_INCREMENT_POINTER,
                Value::Tags(vec![tags::FRAME_TIME]),
            )
            .unwrap();
        editor
            .set(tags::PATIENT_NAME, Value::text("Doe^John"))
            .unwrap();
        editor
            .set(tags::IMAGE_TYPE, Value::text(r"ORIGINAL\PRIMARY"))
            .unwrap();
        editor
            .set(
                tags::CONCEPT_NAME_CODE_SEQUENCE,
                Value::Sequence(vec![Item {
                    elements: vec![
                        (tags::CODE_VALUE, Vr::SH, Value::text("T-1")),
                        (tags::CODING_SCHEME_DESIGNATOR, Vr::SH, Value::text("99X")),
                    ],
                }]),
            )
            .unwrap();
        let written = editor.write().unwrap();
        let reread = parse(&written).unwrap();
        assert!(
            reread.is_complete() && reread.warnings().is_empty(),
            "{ts}: {:?} {:?}",
            reread.error(),
            reread.warnings()
        );
        assert_eq!(
            reread.get(tags::ROWS).unwrap().ints().unwrap(),
            [512],
            "{ts}"
        );
        assert_eq!(
            reread
                .get(tags::PIXEL_PADDING_VALUE)
                .unwrap()
                .ints()
                .unwrap(),
            [65536 - 2000],
            "{ts}: US by the dictionary"
        );
        assert_eq!(
            reread.get(tags::SIMPLE_FRAME_LIST).unwrap().ints().unwrap(),
            [1, 2, 3],
            "{ts}"
        );
        assert_eq!(
            reread
                .get(tags::REFERENCE_PIXEL_X0)
                .unwrap()
                .ints()
                .unwrap(),
            [-7],
            "{ts}"
        );
        assert_eq!(
            reread
                .get(tags::RECOMMENDED_DISPLAY_FRAME_RATE_IN_FLOAT)
                .unwrap()
                .floats()
                .unwrap(),
            [2.5],
            "{ts}"
        );
        assert_eq!(
            reread.get(tags::TIME_RANGE).unwrap().floats().unwrap(),
            [-1.25],
            "{ts}"
        );
        assert_eq!(
            reread
                .get(tags::FRAME_INCREMENT_POINTER)
                .unwrap()
                .attribute_tags()
                .unwrap(),
            [tags::FRAME_TIME],
            "{ts}"
        );
        assert_eq!(
            reread
                .get(tags::IMAGE_TYPE)
                .unwrap()
                .strings()
                .unwrap()
                .to_vec(),
            ["ORIGINAL", "PRIMARY"]
        );
        let code = reread
            .get(tags::CONCEPT_NAME_CODE_SEQUENCE)
            .unwrap()
            .items()
            .next()
            .unwrap();
        assert_eq!(
            code.string(tags::CODING_SCHEME_DESIGNATOR).as_deref(),
            Some("99X"),
            "{ts}"
        );
    }
}

#[test]
fn edits_of_foreign_elements_and_past_the_stop_are_refused() {
    let a = fixture("pydicom/CT_small.dcm");
    let b = fixture("pydicom/MR_small.dcm");
    let header_a = parse(&a).unwrap();
    let header_b = parse(&b).unwrap();
    let foreign = header_b.get(tags::PATIENT_NAME).unwrap();
    let mut editor = header_a.editor();
    assert!(matches!(
        editor.set_element(&foreign, Value::Empty),
        Err(Error::Encode { .. })
    ));
    assert!(matches!(
        editor.set(Tag::new(0xFFFA, 0xFFFA), Value::Empty),
        Err(Error::Encode { .. })
    ));
    assert!(editor.is_unchanged());
}

#[test]
fn basic_profile_de_identification() {
    let bytes = fixture("highdicom/sm_image.dcm");
    let header = parse(&bytes).unwrap();
    let mut mapped = Vec::new();
    let editor = deidentify::basic_profile(&header, &mut |uid: &str| {
        mapped.push(uid.to_owned());
        format!("2.25.{}", 1000 + mapped.len())
    })
    .unwrap();
    let written = editor.write_file().unwrap();
    let clean = parse(&written).unwrap();
    assert!(
        clean.is_complete() && clean.warnings().is_empty(),
        "{:?}",
        clean.error()
    );
    for tag in [
        tags::PATIENT_NAME,
        tags::PATIENT_ID,
        tags::PATIENT_BIRTH_DATE,
        tags::ACCESSION_NUMBER,
        tags::STUDY_DATE,
    ] {
        let element = clean.get(tag).unwrap();
        assert!(element.is_empty(), "{tag} emptied (Z)");
    }
    assert!(
        clean
            .get(tags::DEVICE_SERIAL_NUMBER)
            .is_some_and(|e| e.string().unwrap() == "ANONYMIZED")
    );
    assert!(
        clean
            .get(tags::REFERRING_PHYSICIAN_NAME)
            .unwrap()
            .is_empty()
    );
    let uid = clean.string(tags::SOP_INSTANCE_UID).unwrap();
    assert!(uid.starts_with("2.25."));
    // The same UID maps the same way wherever it is: the mapping saw it once per place.
    assert_eq!(
        clean.string(tags::MEDIA_STORAGE_SOP_INSTANCE_UID),
        header
            .string(tags::MEDIA_STORAGE_SOP_INSTANCE_UID)
            .map(|_| clean.string(tags::MEDIA_STORAGE_SOP_INSTANCE_UID).unwrap())
    );
    // Nested: the specimen identifier is a dummy, its UID replaced.
    let specimen = clean
        .get(tags::SPECIMEN_DESCRIPTION_SEQUENCE)
        .unwrap()
        .items()
        .next()
        .unwrap();
    assert_eq!(
        specimen.string(tags::SPECIMEN_IDENTIFIER).as_deref(),
        Some("ANONYMIZED")
    );
    assert!(
        specimen
            .string(tags::SPECIMEN_UID)
            .unwrap()
            .starts_with("2.25.")
    );
    // Specimen Preparation Sequence is emptied (Z).
    assert_eq!(
        specimen
            .get(tags::SPECIMEN_PREPARATION_SEQUENCE)
            .unwrap()
            .items()
            .count(),
        0
    );
    assert_eq!(
        clean.string(tags::DEIDENTIFICATION_METHOD).as_deref(),
        Some("Basic Application Confidentiality Profile")
    );
    let method = clean
        .get(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE)
        .unwrap()
        .items()
        .next()
        .unwrap();
    assert_eq!(method.string(tags::CODE_VALUE).as_deref(), Some("113100"));
    assert_eq!(
        method.string(tags::CODING_SCHEME_DESIGNATOR).as_deref(),
        Some("DCM")
    );
    // The result writes back byte for byte.
    assert_eq!(clean.editor().write_file().unwrap(), written);
    // What the profile keeps is kept.
    assert_eq!(clean.string(tags::MODALITY).as_deref(), Some("SM"));
    assert_eq!(clean.remaining(), header.remaining());
    assert!(!mapped.is_empty());
}

#[test]
fn de_identification_removes_private_attributes() {
    let bytes = fixture("pydicom/CT_small.dcm");
    let header = parse(&bytes).unwrap();
    assert!(header.data_set().iter().any(|e| e.tag().is_private()));
    let editor =
        deidentify::basic_profile(&header, &mut |uid: &str| format!("2.25.{}", uid.len())).unwrap();
    let written = editor.write_file().unwrap();
    let clean = parse(&written).unwrap();
    assert!(clean.is_complete());
    assert!(!clean.data_set().iter().any(|e| e.tag().is_private()));
}

#[test]
fn values_must_fit_their_vr() {
    let bytes = fixture("pydicom/CT_small.dcm");
    let header = parse(&bytes).unwrap();
    let mut editor = header.editor();
    editor.set(tags::ROWS, Value::text("512")).unwrap();
    assert!(matches!(editor.write(), Err(Error::Encode { tag, .. }) if tag == tags::ROWS));
    let mut editor = header.editor();
    editor.set(tags::PATIENT_NAME, Value::U16(vec![1])).unwrap();
    assert!(editor.write().is_err());
    let mut editor = header.editor();
    editor.set(tags::ROWS, Value::Bytes(vec![0, 2])).unwrap();
    let reread_bytes = editor.write().unwrap();
    assert_eq!(
        parse(&reread_bytes)
            .unwrap()
            .get(tags::ROWS)
            .unwrap()
            .int()
            .unwrap(),
        512
    );
}

#[test]
fn file_meta_added_to_a_bare_data_set_gets_a_preamble() {
    let bytes = fixture("hostile/dataset_only_expl.dcm");
    let header = parse(&bytes).unwrap();
    let mut editor = header.editor();
    editor
        .set(
            tags::TRANSFER_SYNTAX_UID,
            Value::text("1.2.840.10008.1.2.1"),
        )
        .unwrap();
    editor
        .set(
            tags::MEDIA_STORAGE_SOP_CLASS_UID,
            Value::text("1.2.840.10008.5.1.4.1.1.7"),
        )
        .unwrap();
    let written = editor.write().unwrap();
    assert_eq!(&written[128..132], b"DICM");
    let reread = parse(&written).unwrap();
    assert!(reread.warnings().is_empty(), "{:?}", reread.warnings());
    assert_eq!(reread.transfer_syntax_uid(), Some("1.2.840.10008.1.2.1"));
    assert_eq!(
        reread.string(tags::PATIENT_NAME).as_deref(),
        Some("Doe^John")
    );
}

#[test]
fn unedited_deflated_data_set_writes_back_byte_for_byte() {
    // Regression: the deflate stream used to be re-made on every write, so an
    // unedited deflated file came back with different (equally valid) bytes.
    let bytes = fixture("pydicom/image_dfl.dcm");
    let header = parse(&bytes).unwrap();
    assert!(header.is_deflated());
    assert_eq!(header.editor().write_file().unwrap(), bytes);
    // The header is the file up to the end of the deflate stream, which holds the
    // whole data set; this file has 8 more bytes after it (a gzip trailer), which
    // belong to the file, not the header.
    let written = header.to_bytes().unwrap();
    assert_eq!(written.len(), bytes.len() - 8);
    assert!(written == bytes[..written.len()]);
    // As does anything else after the stream.
    let mut trailing = bytes.clone();
    trailing.extend_from_slice(b"trailer!");
    let header = parse(&trailing).unwrap();
    assert_eq!(header.to_bytes().unwrap(), written);
    assert_eq!(header.editor().write_file().unwrap(), trailing);
}

#[test]
fn meta_edits_keep_the_deflate_stream() {
    let bytes = fixture("pydicom/image_dfl.dcm");
    let header = parse(&bytes).unwrap();
    let mut editor = header.editor();
    editor
        .set(
            tags::IMPLEMENTATION_VERSION_NAME,
            Value::text("LABWIRE_TEST"),
        )
        .unwrap();
    let written = editor.write_file().unwrap();
    let reread = parse(&written).unwrap();
    assert_eq!(
        reread.string(tags::IMPLEMENTATION_VERSION_NAME).as_deref(),
        Some("LABWIRE_TEST")
    );
    // Everything after the file meta information is the input's, byte for byte.
    let after_meta = |header: &Header<'_>, bytes: &[u8]| {
        let meta_len: usize = header
            .meta()
            .iter()
            .map(|e| if e.vr() == Vr::OB { 12 } else { 8 } + e.len() as usize)
            .sum();
        bytes[132 + meta_len..].to_vec()
    };
    assert_eq!(after_meta(&reread, &written), after_meta(&header, &bytes));
    assert_eq!(
        reread.string(tags::PATIENT_NAME),
        header.string(tags::PATIENT_NAME)
    );
}

#[test]
fn edited_deflated_data_set_is_deflated_again() {
    let bytes = fixture("pydicom/image_dfl.dcm");
    let header = parse(&bytes).unwrap();
    let mut editor = header.editor();
    editor
        .set(tags::PATIENT_NAME, Value::text("Edited^Name"))
        .unwrap();
    let written = editor.write_file().unwrap();
    assert_ne!(written, bytes);
    let reread = parse(&written).unwrap();
    assert!(reread.is_deflated() && reread.is_complete());
    assert_eq!(
        reread.string(tags::PATIENT_NAME).as_deref(),
        Some("Edited^Name")
    );
    assert_eq!(
        without(raw_elements(&reread), tags::PATIENT_NAME),
        without(raw_elements(&header), tags::PATIENT_NAME)
    );
    // The re-deflated file, unedited, now writes back byte for byte in turn.
    assert_eq!(reread.editor().write_file().unwrap(), written);
}
