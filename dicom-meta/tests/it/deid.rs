//! De-identification options: each changes, against the Basic Profile alone, exactly
//! the attributes its column of PS3.15 Table E.1-1 marks, and every result parses and
//! writes back byte for byte.

use std::collections::{BTreeMap, BTreeSet};

use labwire_dicom_meta::deidentify::{self, Dates, Options, SafePrivate};
use labwire_dicom_meta::{Header, Tag, Value, Vr, parse, tags};

use crate::fixture;

const PRIVATE_CREATOR: Tag = Tag::new(0x0009, 0x0010);
const SAFE_PRIVATE: Tag = Tag::new(0x0009, 0x1001);
const UNSAFE_PRIVATE: Tag = Tag::new(0x0009, 0x1002);

/// sm_image.dcm with attributes of every option's column added: institution,
/// device, patient characteristics, descriptions, more dates, a private block.
fn enriched() -> Vec<u8> {
    let bytes = fixture("highdicom/sm_image.dcm");
    let header = parse(&bytes).unwrap();
    let mut editor = header.editor();
    for (tag, text) in [
        (tags::SERIES_DATE, "20190604"),
        (tags::SERIES_TIME, "101500"),
        (tags::INSTITUTION_NAME, "General Hospital"),
        (tags::INSTITUTION_ADDRESS, "1 Main Street"),
        (tags::STATION_NAME, "SCANNER-7"),
        (tags::STUDY_DESCRIPTION, "Biopsy of J. Doe"),
        (tags::PATIENT_AGE, "042Y"),
        (tags::PATIENT_WEIGHT, "70.5"),
        (tags::PROTOCOL_NAME, "Dr Smith's protocol"),
    ] {
        editor.set(tag, Value::text(text)).unwrap();
    }
    editor
        .set_with_vr(PRIVATE_CREATOR, Vr::LO, Value::text("LABWIRE TEST"))
        .unwrap()
        .set_with_vr(SAFE_PRIVATE, Vr::LO, Value::text("a safe value"))
        .unwrap()
        .set_with_vr(UNSAFE_PRIVATE, Vr::LO, Value::text("a patient's name"))
        .unwrap();
    editor.write_file().unwrap()
}

/// Every non-sequence element at every level (file meta information included), by
/// path, with its raw value.
fn leaves(header: &Header<'_>) -> BTreeMap<Vec<Tag>, Vec<u8>> {
    let mut out = BTreeMap::new();
    for element in header.meta().iter() {
        out.insert(vec![element.tag()], element.raw().to_vec());
    }
    let mut stack = vec![(Vec::new(), header.data_set())];
    while let Some((path, data_set)) = stack.pop() {
        for element in data_set.iter() {
            let mut here = path.clone();
            here.push(element.tag());
            if element.is_sequence() {
                for (number, item) in element.items().enumerate() {
                    // Items are told apart by their number in the path.
                    let mut item_path = here.clone();
                    item_path.push(Tag::from_u32(number as u32));
                    stack.push((item_path, item));
                }
            } else {
                out.insert(here, element.raw().to_vec());
            }
        }
    }
    out
}

/// The method attributes every run writes, which differ by design.
fn is_method(path: &[Tag]) -> bool {
    path.first().is_some_and(|tag| {
        [
            tags::DEIDENTIFICATION_METHOD,
            tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE,
            tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED,
        ]
        .contains(tag)
    })
}

/// A run of the profile: the written file, and how many UIDs were mapped.
fn run(input: &[u8], options: &Options) -> (Vec<u8>, usize) {
    let header = parse(input).unwrap();
    let mut mapped = 0;
    let editor = deidentify::with_options(&header, options, &mut |uid: &str| {
        mapped += 1;
        format!("2.25.{}", uid.len() * 1000 + mapped)
    })
    .unwrap();
    let written = editor.write_file().unwrap();
    // The result parses cleanly and writes back byte for byte.
    let reread = parse(&written).unwrap();
    assert!(
        reread.is_complete() && reread.warnings().is_empty(),
        "{:?} {:?}",
        reread.error(),
        reread.warnings()
    );
    let header_bytes = reread.to_bytes().unwrap();
    assert!(written.starts_with(&header_bytes));
    assert_eq!(reread.editor().write_file().unwrap(), written);
    (written, mapped)
}

/// The last tags of the paths whose value differs between two runs, method
/// attributes aside.
fn changed(basic: &[u8], with_option: &[u8]) -> BTreeSet<Tag> {
    let basic = parse(basic).unwrap();
    let option = parse(with_option).unwrap();
    let (a, b) = (leaves(&basic), leaves(&option));
    let paths: BTreeSet<&Vec<Tag>> = a.keys().chain(b.keys()).collect();
    paths
        .into_iter()
        .filter(|path| !is_method(path) && a.get(*path) != b.get(*path))
        .map(|path| *path.last().unwrap())
        .collect()
}

fn codes(written: &[u8]) -> Vec<String> {
    let header = parse(written).unwrap();
    header
        .get(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE)
        .unwrap()
        .items()
        .map(|item| {
            assert_eq!(
                item.string(tags::CODING_SCHEME_DESIGNATOR).as_deref(),
                Some("DCM")
            );
            assert!(item.string(tags::CODE_MEANING).is_some());
            item.string(tags::CODE_VALUE).unwrap().into_owned()
        })
        .collect()
}

#[test]
fn the_basic_profile_adds_its_method_and_code() {
    let input = enriched();
    let (written, mapped) = run(&input, &Options::default());
    assert!(mapped > 0);
    let clean = parse(&written).unwrap();
    assert_eq!(
        clean.string(tags::PATIENT_IDENTITY_REMOVED).as_deref(),
        Some("YES")
    );
    assert_eq!(
        clean.string(tags::DEIDENTIFICATION_METHOD).as_deref(),
        Some("Basic Application Confidentiality Profile")
    );
    assert_eq!(codes(&written), ["113100"]);
    assert!(
        clean
            .get(tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED)
            .is_none()
    );
    // Private attributes are removed, creator included.
    assert!(!clean.data_set().iter().any(|e| e.tag().is_private()));
    for tag in [
        tags::INSTITUTION_NAME,
        tags::STATION_NAME,
        tags::PATIENT_SEX,
        tags::STUDY_DATE,
    ] {
        assert!(
            clean
                .get(tag)
                .is_none_or(|e| e.is_empty() || e.string().unwrap() == "ANONYMIZED"),
            "{tag}"
        );
    }
}

#[test]
fn retain_uids_keeps_exactly_the_uids() {
    let input = enriched();
    let original = parse(&input).unwrap();
    let (basic, _) = run(&input, &Options::default());
    let (kept, mapped) = run(&input, &Options::default().retain_uids());
    assert_eq!(mapped, 0, "no UID of this file is outside the column");
    assert_eq!(
        changed(&basic, &kept),
        BTreeSet::from([
            tags::MEDIA_STORAGE_SOP_INSTANCE_UID,
            // The file meta group length follows the UID's length.
            tags::FILE_META_INFORMATION_GROUP_LENGTH,
            tags::SOP_INSTANCE_UID,
            tags::STUDY_INSTANCE_UID,
            tags::SERIES_INSTANCE_UID,
            tags::FRAME_OF_REFERENCE_UID,
            tags::DIMENSION_ORGANIZATION_UID,
            tags::SPECIMEN_UID,
        ])
    );
    let clean = parse(&kept).unwrap();
    for tag in [
        tags::SOP_INSTANCE_UID,
        tags::STUDY_INSTANCE_UID,
        tags::MEDIA_STORAGE_SOP_INSTANCE_UID,
    ] {
        assert_eq!(clean.string(tag), original.string(tag), "{tag}");
    }
    assert_eq!(codes(&kept), ["113100", "113110"]);
}

#[test]
fn retain_device_identity_keeps_exactly_the_device() {
    let input = enriched();
    let (basic, _) = run(&input, &Options::default());
    let (kept, _) = run(&input, &Options::default().retain_device_identity());
    assert_eq!(
        changed(&basic, &kept),
        BTreeSet::from([tags::DEVICE_SERIAL_NUMBER, tags::STATION_NAME])
    );
    let clean = parse(&kept).unwrap();
    assert_eq!(
        clean.string(tags::DEVICE_SERIAL_NUMBER).as_deref(),
        Some("abcd")
    );
    assert_eq!(
        clean.string(tags::STATION_NAME).as_deref(),
        Some("SCANNER-7")
    );
    assert_eq!(codes(&kept), ["113100", "113109"]);
}

#[test]
fn retain_institution_identity_keeps_exactly_the_institution() {
    let input = enriched();
    let (basic, _) = run(&input, &Options::default());
    let (kept, _) = run(&input, &Options::default().retain_institution_identity());
    assert_eq!(
        changed(&basic, &kept),
        BTreeSet::from([tags::INSTITUTION_NAME, tags::INSTITUTION_ADDRESS])
    );
    let clean = parse(&kept).unwrap();
    assert_eq!(
        clean.string(tags::INSTITUTION_ADDRESS).as_deref(),
        Some("1 Main Street")
    );
    assert_eq!(codes(&kept), ["113100", "113112"]);
}

#[test]
fn retain_patient_characteristics_keeps_exactly_them() {
    let input = enriched();
    let (basic, _) = run(&input, &Options::default());
    let (kept, _) = run(&input, &Options::default().retain_patient_characteristics());
    assert_eq!(
        changed(&basic, &kept),
        BTreeSet::from([tags::PATIENT_SEX, tags::PATIENT_AGE, tags::PATIENT_WEIGHT])
    );
    let clean = parse(&kept).unwrap();
    assert_eq!(clean.string(tags::PATIENT_AGE).as_deref(), Some("042Y"));
    // The birth date is no characteristic.
    assert_eq!(clean.string(tags::PATIENT_BIRTH_DATE), None);
    assert_eq!(codes(&kept), ["113100", "113108"]);
}

#[test]
fn retain_full_dates_keeps_exactly_the_dates_and_times() {
    let input = enriched();
    let original = parse(&input).unwrap();
    let (basic, _) = run(&input, &Options::default());
    let (kept, _) = run(&input, &Options::default().with_dates(Dates::Full));
    let dates = BTreeSet::from([
        tags::STUDY_DATE,
        tags::STUDY_TIME,
        tags::SERIES_DATE,
        tags::SERIES_TIME,
        tags::CONTENT_DATE,
        tags::CONTENT_TIME,
        tags::ACQUISITION_DATE_TIME,
    ]);
    assert_eq!(changed(&basic, &kept), dates);
    let clean = parse(&kept).unwrap();
    for tag in &dates {
        assert_eq!(clean.string(*tag), original.string(*tag), "{tag}");
    }
    assert_eq!(clean.string(tags::PATIENT_BIRTH_DATE), None);
    assert_eq!(
        clean
            .string(tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED)
            .as_deref(),
        Some("UNMODIFIED")
    );
    assert_eq!(codes(&kept), ["113100", "113106"]);
}

#[test]
fn retain_modified_dates_shifts_exactly_the_dates() {
    let input = enriched();
    let (basic, _) = run(&input, &Options::default());
    let options = Options::default().with_dates(Dates::Modified { offset_days: -30 });
    let (shifted, _) = run(&input, &options);
    let clean = parse(&shifted).unwrap();
    assert_eq!(
        changed(&basic, &shifted),
        BTreeSet::from([
            tags::STUDY_DATE,
            tags::STUDY_TIME,
            tags::SERIES_DATE,
            tags::SERIES_TIME,
            tags::CONTENT_DATE,
            tags::CONTENT_TIME,
            tags::ACQUISITION_DATE_TIME,
        ])
    );
    for (tag, value) in [
        (tags::STUDY_DATE, "20190505"),
        (tags::SERIES_DATE, "20190505"),
        (tags::CONTENT_DATE, "20190723"),
        (tags::ACQUISITION_DATE_TIME, "20091129095915"),
        // Times are kept: a whole-day shift keeps every interval.
        (tags::STUDY_TIME, "101000"),
        (tags::CONTENT_TIME, "113618"),
    ] {
        assert_eq!(clean.string(tag).as_deref(), Some(value), "{tag}");
    }
    assert_eq!(
        clean
            .string(tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED)
            .as_deref(),
        Some("MODIFIED")
    );
    assert_eq!(codes(&shifted), ["113100", "113107"]);

    // Across a leap day and a year, both ways.
    let (later, _) = run(
        &input,
        &Options::default().with_dates(Dates::Modified { offset_days: 366 }),
    );
    let later = parse(&later).unwrap();
    assert_eq!(later.string(tags::STUDY_DATE).as_deref(), Some("20200604"));
    assert_eq!(
        later.string(tags::ACQUISITION_DATE_TIME).as_deref(),
        Some("20101230095915")
    );
}

#[test]
fn retain_safe_private_keeps_exactly_the_listed_elements() {
    let input = enriched();
    let original = parse(&input).unwrap();
    let (basic, _) = run(&input, &Options::default());
    let options = Options::default().retain_safe_private(SafePrivate {
        group: 0x0009,
        creator: "LABWIRE TEST".into(),
        element: 0x01,
    });
    let (kept, _) = run(&input, &options);
    assert_eq!(
        changed(&basic, &kept),
        BTreeSet::from([PRIVATE_CREATOR, SAFE_PRIVATE])
    );
    let clean = parse(&kept).unwrap();
    assert_eq!(
        clean
            .data_set()
            .private_element(0x0009, "LABWIRE TEST", 0x01)
            .map(|e| e.string().unwrap().into_owned()),
        original
            .data_set()
            .private_element(0x0009, "LABWIRE TEST", 0x01)
            .map(|e| e.string().unwrap().into_owned())
    );
    assert!(clean.get(UNSAFE_PRIVATE).is_none());
    assert_eq!(codes(&kept), ["113100", "113111"]);

    // Another creator's element with the same number is not kept.
    let other = Options::default().retain_safe_private(SafePrivate {
        group: 0x0009,
        creator: "SOMEONE ELSE".into(),
        element: 0x01,
    });
    let (removed, _) = run(&input, &other);
    assert!(changed(&basic, &removed).is_empty());
}

#[test]
fn clean_descriptors_replaces_exactly_the_descriptors() {
    let input = enriched();
    let (basic, _) = run(&input, &Options::default());
    let options =
        Options::default().clean_descriptors(|tag, text| format!("CLEANED {} {}", tag, text.len()));
    let (cleaned, _) = run(&input, &options);
    assert_eq!(
        changed(&basic, &cleaned),
        BTreeSet::from([tags::STUDY_DESCRIPTION, tags::PROTOCOL_NAME])
    );
    let clean = parse(&cleaned).unwrap();
    assert_eq!(
        clean.string(tags::STUDY_DESCRIPTION).as_deref(),
        Some("CLEANED (0008,1030) 16")
    );
    assert_eq!(codes(&cleaned), ["113100", "113105"]);
}

#[test]
fn options_combine() {
    let input = enriched();
    let options = Options::default()
        .retain_uids()
        .retain_device_identity()
        .retain_institution_identity()
        .retain_patient_characteristics()
        .with_dates(Dates::Full);
    let (written, mapped) = run(&input, &options);
    assert_eq!(mapped, 0);
    assert_eq!(
        codes(&written),
        ["113100", "113106", "113108", "113109", "113110", "113112"]
    );
    let clean = parse(&written).unwrap();
    let methods = clean.get(tags::DEIDENTIFICATION_METHOD).unwrap();
    assert_eq!(methods.strings().unwrap().len(), 6);
    assert!(methods.strings().unwrap().iter().all(|m| m.len() <= 64));
    // What no option keeps is still gone.
    assert_eq!(clean.string(tags::PATIENT_NAME), None);
    assert_eq!(clean.string(tags::PATIENT_BIRTH_DATE), None);
    assert_eq!(clean.string(tags::STUDY_DESCRIPTION), None);
}

#[test]
fn action_with_follows_the_columns() {
    use deidentify::{Action, action_with};
    let all = Options::default()
        .retain_uids()
        .retain_device_identity()
        .retain_institution_identity()
        .retain_patient_characteristics()
        .with_dates(Dates::Modified { offset_days: 1 });
    assert_eq!(
        action_with(tags::STUDY_DATE, &all),
        Some(Action::ModifyDates)
    );
    assert_eq!(
        action_with(tags::SOP_INSTANCE_UID, &all),
        Some(Action::Keep)
    );
    assert_eq!(action_with(tags::PATIENT_NAME, &all), Some(Action::Empty));
    // Referenced Patient Sequence: removed even with Retain UIDs (column X).
    assert_eq!(
        action_with(tags::REFERENCED_PATIENT_SEQUENCE, &all),
        Some(Action::Remove)
    );
    assert_eq!(action_with(tags::MODALITY, &all), None);
    assert_eq!(
        action_with(Tag::new(0x0009, 0x1001), &all),
        Some(Action::Remove)
    );
}
