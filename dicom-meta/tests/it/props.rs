//! Property tests: generated data sets written with the editor and parsed back are
//! what was generated, in every transfer syntax; parsing then writing is the
//! identity; and no mutation of a real file makes the parser panic.

use proptest::prelude::*;

use labwire_dicom_meta::{DataSet, Item, Tag, Value, Vr, parse, tags};

use crate::{build, fixture};

/// A generated element: tag, VR (the dictionary's, so implicit VR reads it back)
/// and value.
#[derive(Debug, Clone)]
enum Gen {
    Text(Tag, Vr, Vec<String>),
    U16(Tag, Vec<u16>),
    U32(Tag, Vec<u32>),
    F64(Tag, Vec<f64>),
    Bytes(Tag, Vec<u8>),
    Sequence(Tag, Vec<Vec<Gen>>),
}

impl Gen {
    fn tag(&self) -> Tag {
        match self {
            Self::Text(tag, ..)
            | Self::U16(tag, _)
            | Self::U32(tag, _)
            | Self::F64(tag, _)
            | Self::Bytes(tag, _)
            | Self::Sequence(tag, _) => *tag,
        }
    }

    fn vr(&self) -> Vr {
        match self {
            Self::Text(_, vr, _) => *vr,
            Self::U16(..) => Vr::US,
            Self::U32(..) => Vr::UL,
            Self::F64(..) => Vr::FD,
            Self::Bytes(..) => Vr::OB,
            Self::Sequence(..) => Vr::SQ,
        }
    }

    fn value(&self) -> Value {
        match self {
            Self::Text(_, _, values) => Value::Text(values.join("\\")),
            Self::U16(_, values) => Value::U16(values.clone()),
            Self::U32(_, values) => Value::U32(values.clone()),
            Self::F64(_, values) => Value::F64(values.clone()),
            Self::Bytes(_, bytes) => Value::Bytes(bytes.clone()),
            Self::Sequence(_, items) => Value::Sequence(
                items
                    .iter()
                    .map(|item| Item {
                        elements: item.iter().map(|g| (g.tag(), g.vr(), g.value())).collect(),
                    })
                    .collect(),
            ),
        }
    }
}

fn text(tag: Tag, vr: Vr, pattern: &'static str, max_values: usize) -> impl Strategy<Value = Gen> {
    prop::collection::vec(pattern, 1..=max_values)
        .prop_map(move |values| Gen::Text(tag, vr, values))
}

/// A leaf element: one of a fixed pool of standard tags, each with a value of its
/// dictionary VR.
fn leaf() -> impl Strategy<Value = Gen> {
    prop_oneof![
        text(tags::PATIENT_ID, Vr::LO, "[A-Z0-9]{0,12}", 1),
        text(
            tags::PATIENT_NAME,
            Vr::PN,
            "[A-Z][a-z]{0,6}\\^[A-Z][a-z]{0,6}",
            1
        ),
        text(tags::IMAGE_TYPE, Vr::CS, "[A-Z]{1,8}", 4),
        text(
            tags::STUDY_DATE,
            Vr::DA,
            "(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])",
            1
        ),
        text(tags::STUDY_TIME, Vr::TM, "([01][0-9]|2[0-3])[0-5][0-9]", 1),
        text(
            tags::SOP_INSTANCE_UID,
            Vr::UI,
            "1\\.2(\\.[1-9][0-9]{0,5}){1,6}",
            1
        ),
        text(tags::CODE_VALUE, Vr::SH, "[A-Z0-9-]{1,16}", 1),
        text(
            tags::CODE_MEANING,
            Vr::LO,
            "[A-Za-z][A-Za-z0-9 ]{0,30}[a-z]",
            1
        ),
        text(tags::TEXT_VALUE, Vr::UT, "[ -\\[\\]-~]{0,60}[a-z]", 1),
        text(tags::SERIES_NUMBER, Vr::IS, "-?[1-9][0-9]{0,6}", 1),
        prop::collection::vec(any::<u16>(), 1..4).prop_map(|v| Gen::U16(tags::ROWS, v)),
        prop::collection::vec(any::<u32>(), 1..4)
            .prop_map(|v| Gen::U32(tags::SIMPLE_FRAME_LIST, v)),
        prop::collection::vec(-1.0e9f64..1.0e9, 1..3).prop_map(|v| Gen::F64(tags::TIME_RANGE, v)),
        prop::collection::vec(any::<u8>(), 0..40)
            .prop_map(|v| Gen::Bytes(tags::ENCAPSULATED_DOCUMENT, v)),
    ]
}

/// Elements with distinct tags, sequences nested up to `depth` levels.
fn data_set(depth: u32) -> BoxedStrategy<Vec<Gen>> {
    let element = if depth == 0 {
        leaf().boxed()
    } else {
        let sequence = prop::collection::vec(data_set(depth - 1), 0..3);
        prop_oneof![
            4 => leaf(),
            1 => sequence.clone().prop_map(|items| Gen::Sequence(tags::CONCEPT_NAME_CODE_SEQUENCE, items)),
            1 => sequence.prop_map(|items| Gen::Sequence(tags::SPECIMEN_DESCRIPTION_SEQUENCE, items)),
        ]
        .boxed()
    };
    prop::collection::vec(element, 0..8)
        .prop_map(|mut elements| {
            elements.sort_by_key(Gen::tag);
            elements.dedup_by_key(|g| g.tag());
            elements
        })
        .boxed()
}

/// Checks that a parsed data set holds exactly the generated elements.
fn assert_same(parsed: &DataSet<'_>, generated: &[Gen], encoding: &str) {
    let tags_read: Vec<Tag> = parsed.iter().map(|e| e.tag()).collect();
    let tags_made: Vec<Tag> = generated.iter().map(Gen::tag).collect();
    assert_eq!(tags_read, tags_made, "{encoding}");
    for made in generated {
        let element = parsed.get(made.tag()).unwrap();
        assert_eq!(element.vr(), made.vr(), "{encoding}: {}", made.tag());
        match made {
            Gen::Text(_, _, values) => {
                assert_eq!(&element.strings().unwrap().to_vec(), values, "{encoding}")
            }
            Gen::U16(_, values) => assert_eq!(
                element.ints().unwrap(),
                values.iter().map(|&v| i64::from(v)).collect::<Vec<_>>()
            ),
            Gen::U32(_, values) => assert_eq!(
                element.ints().unwrap(),
                values.iter().map(|&v| i64::from(v)).collect::<Vec<_>>()
            ),
            Gen::F64(_, values) => assert_eq!(&element.floats().unwrap(), values),
            Gen::Bytes(_, bytes) => {
                let mut padded = bytes.clone();
                if padded.len() % 2 == 1 {
                    padded.push(0);
                }
                assert_eq!(element.raw(), padded.as_slice(), "{encoding}");
            }
            Gen::Sequence(_, items) => {
                let read: Vec<DataSet<'_>> = element.items().collect();
                assert_eq!(read.len(), items.len(), "{encoding}");
                for (read, made) in read.iter().zip(items) {
                    assert_same(read, made, encoding);
                }
            }
        }
    }
}

const SYNTAXES: [&str; 4] = [
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.1.99",
];

proptest! {
    // 64 cases by default; PROPTEST_CASES raises it for a longer run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64)
    ))]

    #[test]
    fn written_data_sets_parse_back_identically(generated in data_set(2), syntax in 0..SYNTAXES.len()) {
        let syntax = SYNTAXES[syntax];
        // An empty data set; deflated, an empty deflate stream (PS3.5 §A.5).
        let empty = if syntax == SYNTAXES[3] {
            build::file(syntax, &miniz_oxide::deflate::compress_to_vec(&[], 6))
        } else {
            build::file(syntax, &[])
        };
        let header = parse(&empty).unwrap();
        let mut editor = header.editor();
        for element in &generated {
            editor.set_with_vr(element.tag(), element.vr(), element.value()).unwrap();
        }
        let written = editor.write().unwrap();
        let reread = parse(&written).unwrap();
        prop_assert!(reread.is_complete(), "{:?}", reread.error());
        prop_assert!(reread.warnings().is_empty(), "{:?}", reread.warnings());
        prop_assert_eq!(reread.transfer_syntax_uid(), Some(syntax));
        assert_same(&reread.data_set(), &generated, syntax);
        // And parsing then writing is the identity, deflated data sets included.
        prop_assert_eq!(&reread.to_bytes().unwrap(), &written);
        prop_assert_eq!(reread.editor().write_file().unwrap(), written);
    }

    #[test]
    fn mutated_files_never_panic_and_rewrite_exactly(
        file in prop::sample::select(vec!["pydicom/CT_small.dcm", "highdicom/sm_image.dcm", "pydicom/rtplan.dcm", "pydicom/MR_small_bigendian.dcm", "charset/chrSQEncoding.dcm", "pydicom/image_dfl.dcm"]),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = fixture(file);
        for (at, byte) in edits {
            let index = at.index(bytes.len());
            bytes[index] = byte;
        }
        bytes.truncate(cut.index(bytes.len() + 1).max(1));
        if let Ok(header) = parse(&bytes) {
            let _ = labwire_dicom_meta::model::imaging_study(&header);
            let written = header.to_bytes().unwrap();
            prop_assert_eq!(&written[..], &bytes[..written.len()]);
            if !header.warnings().iter().any(|w| matches!(w.kind, labwire_dicom_meta::WarningKind::InflateCapped { .. })) {
                prop_assert_eq!(header.editor().write_file().unwrap(), bytes);
            }
        }
    }
}
