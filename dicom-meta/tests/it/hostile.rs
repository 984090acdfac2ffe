//! Hostile and malformed input: every file answers with a result or a clear error,
//! under 64 MB of allocation and well under 100 ms.

use std::time::{Duration, Instant};

use labwire_dicom_meta::{
    Encoding, Error, Header, Limits, ParseOptions, Tag, Vr, WarningKind, parse, parse_with, tags,
};

use crate::alloc_count::measure;
use crate::build::{self, UNDEFINED};
use crate::{fixture, fixtures_in};

const MEMORY_BOUND: usize = 64 << 20;
/// A sanity bound, not a benchmark: generous enough for a debug build on a busy
/// machine.
const TIME_BOUND: Duration = Duration::from_millis(100);

/// Parses with the given options, checking the memory and time bounds, and returns
/// the outcome with the peak allocation.
fn bounded<'a>(bytes: &'a [u8], options: &ParseOptions) -> (Result<Header<'a>, Error>, usize) {
    bounded_within(bytes, options, TIME_BOUND)
}

fn bounded_within<'a>(
    bytes: &'a [u8],
    options: &ParseOptions,
    time: Duration,
) -> (Result<Header<'a>, Error>, usize) {
    let started = Instant::now();
    let (result, peak) = measure(|| parse_with(bytes, options));
    let elapsed = started.elapsed();
    assert!(peak < MEMORY_BOUND, "peak allocation {peak} bytes");
    assert!(elapsed < time, "took {elapsed:?}");
    (result, peak)
}

fn kinds(header: &Header<'_>) -> Vec<WarningKind> {
    header.warnings().iter().map(|w| w.kind).collect()
}

#[test]
fn every_hostile_fixture_is_answered_in_bounded_memory_and_time() {
    let names = fixtures_in("hostile");
    assert_eq!(names.len(), 11);
    for name in names {
        let bytes = fixture(&format!("hostile/{name}"));
        for options in [ParseOptions::default(), ParseOptions::strict()] {
            let (result, peak) = bounded(&bytes, &options);
            // A few hundred bytes of input never cost more than a few pages.
            assert!(peak < 64 * 1024 + 64 * bytes.len(), "{name}: {peak} bytes");
            match result {
                Ok(header) => {
                    let _ = header.error();
                }
                Err(error) => assert!(!error.to_string().is_empty()),
            }
        }
    }
}

#[test]
fn huge_declared_lengths_are_truncation_errors_not_allocations() {
    for (name, tag, needed) in [
        (
            "huge_ut_expl.dcm",
            Tag::new(0x0040, 0xA160),
            0xFFFF_FFF0u64 + 12,
        ),
        (
            "huge_ob_expl.dcm",
            Tag::new(0x0009, 0x1001),
            0xFFFF_FFF0 + 12,
        ),
        (
            "huge_ol_expl.dcm",
            Tag::new(0x0028, 0x1201),
            0xFFFF_FFF0 + 12,
        ),
        (
            "huge_pn_impl.dcm",
            Tag::new(0x0010, 0x0010),
            0xFFFF_FFF0 + 8,
        ),
    ] {
        let bytes = fixture(&format!("hostile/{name}"));
        let (result, peak) = bounded(&bytes, &ParseOptions::default());
        assert!(peak < 16 * 1024, "{name}: {peak}");
        let header = result.unwrap();
        match header.error() {
            Some(&Error::Truncated {
                location,
                needed: n,
                ..
            }) => {
                assert_eq!(location.tag, Some(tag), "{name}");
                assert_eq!(n, needed, "{name}");
            }
            other => panic!("{name}: {other:?}"),
        }
        // What came before is there.
        let expected_name = if name == "huge_pn_impl.dcm" {
            None
        } else {
            Some("Doe^John")
        };
        assert_eq!(
            header.string(tags::PATIENT_NAME).as_deref(),
            expected_name,
            "{name}"
        );
        // Strict mode fails, on the truncation or on an earlier deviation (the private
        // creator of huge_ob_expl.dcm comes after Patient's Name).
        let strict = parse_with(&bytes, &ParseOptions::strict()).unwrap_err();
        assert!(
            matches!(
                strict,
                Error::Truncated { .. } | Error::NonConformant { .. }
            ),
            "{name}: {strict}"
        );
    }
    let meta = fixture("hostile/huge_meta_ob.dcm");
    let header = parse(&meta).unwrap();
    assert!(
        matches!(header.error(), Some(Error::Truncated { location, .. }) if location.tag == Some(Tag::new(0x0002, 0x0102)))
    );
    assert_eq!(header.data_set().len(), 0);
}

#[test]
fn wrong_meta_group_lengths_do_not_move_elements() {
    for (name, declared) in [("meta_len_long.dcm", 0x88), ("meta_len_short.dcm", 0x54)] {
        let bytes = fixture(&format!("hostile/{name}"));
        let header = parse(&bytes).unwrap();
        assert!(header.is_complete());
        assert_eq!(
            kinds(&header),
            [WarningKind::GroupLengthMismatch {
                declared,
                actual: 0x6e
            }]
        );
        assert_eq!(header.meta().len(), 6, "{name}");
        assert_eq!(header.data_set().len(), 2, "{name}");
        assert_eq!(
            header.string(tags::PATIENT_NAME).as_deref(),
            Some("Doe^John")
        );
        assert_eq!(
            header.string(tags::IMPLEMENTATION_CLASS_UID).as_deref(),
            Some("1.2.3.4.5")
        );
        let strict = parse_with(&bytes, &ParseOptions::strict()).unwrap_err();
        assert!(matches!(
            strict,
            Error::NonConformant {
                warning: WarningKind::GroupLengthMismatch { .. },
                ..
            }
        ));
    }
}

#[test]
fn preamble_and_meta_variants() {
    let tiny_bytes = fixture("hostile/tiny_ok.dcm");
    let tiny = parse(&tiny_bytes).unwrap();
    assert!(tiny.warnings().is_empty() && tiny.is_complete());
    assert!(tiny.preamble().is_some());
    assert_eq!(tiny.transfer_syntax_uid(), Some("1.2.840.10008.1.2.1"));

    let no_preamble_bytes = fixture("hostile/nopreamble_dicm.dcm");
    let no_preamble = parse(&no_preamble_bytes).unwrap();
    assert_eq!(kinds(&no_preamble), [WarningKind::NoPreamble]);
    assert!(no_preamble.preamble().is_none() && no_preamble.has_dicm_prefix());
    assert_eq!(
        no_preamble.string(tags::PATIENT_NAME).as_deref(),
        Some("Doe^John")
    );

    let bare_bytes = fixture("hostile/dataset_only_expl.dcm");
    let bare = parse(&bare_bytes).unwrap();
    assert_eq!(kinds(&bare), [WarningKind::NoFileMeta]);
    assert!(bare.is_encoding_guessed());
    assert_eq!(bare.encoding(), Encoding::EXPLICIT_VR_LITTLE_ENDIAN);
    assert_eq!(bare.string(tags::PATIENT_NAME).as_deref(), Some("Doe^John"));
    assert!(bare.character_set().is_utf8());
}

#[test]
fn the_generated_deep_file_follows_the_corpus_pattern() {
    assert_eq!(build::deep_nesting(1000), fixture("hostile/deep_1k.dcm"));
}

#[test]
fn deep_nesting_stops_at_the_depth_limit() {
    for depth in [1_000, 100_000] {
        let bytes = build::deep_nesting(depth);
        let (result, peak) = bounded(&bytes, &ParseOptions::default());
        let header = result.unwrap();
        match header.error() {
            Some(Error::DepthExceeded {
                limit: 64,
                location,
                ..
            }) => {
                assert_eq!(location.top_level, Some(Tag::new(0x0040, 0xA730)));
                assert_eq!(location.depth, 64);
            }
            other => panic!("{depth}: {other:?}"),
        }
        assert!(peak < 64 * 1024, "{depth}: {peak}");
        // 64 sequences and 64 items were indexed, and the name before them is there.
        assert_eq!(header.data_set().len(), 3);
        assert_eq!(
            header.string(tags::PATIENT_NAME).as_deref(),
            Some("Doe^John")
        );
        let (strict, _) = bounded(&bytes, &ParseOptions::strict());
        assert!(matches!(
            strict,
            Err(Error::DepthExceeded { limit: 64, .. })
        ));
    }
}

#[test]
fn deep_nesting_within_a_raised_limit_uses_no_native_recursion() {
    // 100,000 levels parse completely when allowed: the walk keeps its own stack, so
    // the depth costs heap (bounded by the input), never the thread's stack.
    let bytes = build::deep_nesting(100_000);
    let options = ParseOptions::default().with_limits(Limits::default().with_max_depth(200_000));
    // 200,000 nodes in a debug build, beside the other tests: time is not the point.
    let (result, peak) = bounded_within(&bytes, &options, Duration::from_secs(10));
    let header = result.unwrap();
    assert!(header.is_complete(), "{:?}", header.error());
    assert_eq!(header.element_count(), 6 + 2 + 200_000);
    assert!(peak < MEMORY_BOUND, "{peak}");
    let mut depth = 0;
    let mut data_set = header.data_set();
    while let Some(sequence) = data_set.get(Tag::new(0x0040, 0xA730)) {
        data_set = sequence.items().next().unwrap();
        depth += 1;
    }
    assert_eq!(depth, 100_000);
}

#[test]
fn element_count_limit() {
    let bytes = fixture("pydicom/CT_small.dcm");
    let options = ParseOptions::default().with_limits(Limits::default().with_max_elements(10));
    let header = parse_with(&bytes, &options).unwrap();
    assert!(matches!(
        header.error(),
        Some(Error::TooManyElements { limit: 10, .. })
    ));
    assert_eq!(header.data_set().len(), 10);
}

#[test]
fn empty_and_garbage_inputs_are_not_dicom() {
    for bytes in [&b""[..], b"\x1f\x8b\x08\x08garbage!", b"DIC", &[0xFF; 300]] {
        assert!(
            matches!(parse(bytes), Err(Error::NotDicom { .. })),
            "{bytes:?}"
        );
    }
    // `DICM` and nothing else: an empty file meta information with warnings.
    let header = parse(b"DICM").unwrap();
    assert_eq!(header.element_count(), 0);
}

const LE: Encoding = Encoding::EXPLICIT_VR_LITTLE_ENDIAN;

fn le_file(data_set: &[u8]) -> Vec<u8> {
    build::file("1.2.840.10008.1.2.1", data_set)
}

#[test]
fn odd_length_is_a_warning() {
    let data_set = build::element(LE, tags::PATIENT_ID, b"LO", b"ABC");
    let bytes = le_file(&data_set);
    let header = parse(&bytes).unwrap();
    assert_eq!(kinds(&header), [WarningKind::OddLength { length: 3 }]);
    assert_eq!(header.string(tags::PATIENT_ID).as_deref(), Some("ABC"));
}

#[test]
fn delimiter_with_a_length_is_a_warning() {
    let mut item = build::header(LE, Tag::ITEM, b"  ", UNDEFINED);
    item.extend(build::element(LE, tags::CODE_VALUE, b"SH", b"T-1"));
    item.extend(build::header(LE, Tag::ITEM_DELIMITATION, b"  ", 4));
    let data_set = build::sequence_undefined(LE, tags::CONCEPT_NAME_CODE_SEQUENCE, &[item]);
    let bytes = le_file(&data_set);
    let header = parse(&bytes).unwrap();
    assert!(header.is_complete());
    assert!(kinds(&header).contains(&WarningKind::DelimiterWithLength { length: 4 }));
    let sequence = header.get(tags::CONCEPT_NAME_CODE_SEQUENCE).unwrap();
    assert_eq!(sequence.items().count(), 1);
}

#[test]
fn sequence_delimiter_inside_a_defined_length_sequence_is_kept() {
    let item = build::item_defined(LE, &build::element(LE, tags::CODE_VALUE, b"SH", b"T1"));
    let stray = build::header(LE, Tag::SEQUENCE_DELIMITATION, b"  ", 0);
    let mut data_set =
        build::sequence_defined(LE, tags::CONCEPT_NAME_CODE_SEQUENCE, &[item, stray]);
    data_set.extend(build::element(LE, tags::TEXT_VALUE, b"LT", b"ID"));
    let bytes = le_file(&data_set);
    let header = parse(&bytes).unwrap();
    assert!(header.is_complete());
    assert_eq!(
        kinds(&header),
        [WarningKind::UnexpectedDelimiter(Tag::SEQUENCE_DELIMITATION)]
    );
    assert_eq!(
        header
            .get(tags::CONCEPT_NAME_CODE_SEQUENCE)
            .unwrap()
            .items()
            .count(),
        1
    );
    assert_eq!(header.string(tags::TEXT_VALUE).as_deref(), Some("ID"));
}

#[test]
fn truncated_header_and_item() {
    let data_set = build::element(LE, tags::PATIENT_ID, b"LO", b"ID");
    let mut bytes = le_file(&data_set);
    bytes.extend_from_slice(&[0x10, 0x00, 0x20]);
    let header = parse(&bytes).unwrap();
    assert!(matches!(
        header.error(),
        Some(Error::Truncated {
            needed: 4,
            available: 3,
            ..
        })
    ));
    assert_eq!(header.string(tags::PATIENT_ID).as_deref(), Some("ID"));

    // A sequence of defined length that the file cuts short is itself truncated.
    let item = build::item_defined(LE, &build::element(LE, tags::CODE_VALUE, b"SH", b"T1"));
    let data_set = build::sequence_defined(
        LE,
        tags::CONCEPT_NAME_CODE_SEQUENCE,
        std::slice::from_ref(&item),
    );
    let bytes = le_file(&data_set[..data_set.len() - 2]);
    let header = parse(&bytes).unwrap();
    assert!(
        matches!(
            header.error(),
            Some(Error::Truncated {
                needed: 30,
                available: 28,
                ..
            })
        ),
        "{:?}",
        header.error()
    );
    assert!(header.get(tags::CONCEPT_NAME_CODE_SEQUENCE).is_none());

    // In a sequence of undefined length, the item is: the sequence stays, unterminated.
    let data_set = build::sequence_undefined(LE, tags::CONCEPT_NAME_CODE_SEQUENCE, &[item]);
    let bytes = le_file(&data_set[..data_set.len() - 10]);
    let header = parse(&bytes).unwrap();
    match header.error() {
        Some(Error::Truncated {
            location,
            needed: 18,
            available: 16,
            ..
        }) => {
            assert_eq!(location.top_level, Some(tags::CONCEPT_NAME_CODE_SEQUENCE));
            assert_eq!(location.tag, Some(Tag::ITEM));
        }
        other => panic!("{other:?}"),
    }
    let sequence = header.get(tags::CONCEPT_NAME_CODE_SEQUENCE).unwrap();
    assert_eq!(sequence.items().count(), 0);
}

#[test]
fn lengths_near_u32_max_never_wrap() {
    for length in [0xFFFF_FFFEu32, 0xFFFF_FFF8, 0x8000_0000] {
        let mut data_set = build::header(LE, tags::ENCAPSULATED_DOCUMENT, b"OB", length);
        data_set.extend_from_slice(b"abcd");
        let bytes = le_file(&data_set);
        let header = parse(&bytes).unwrap();
        assert!(
            matches!(header.error(), Some(Error::Truncated { .. })),
            "{length:#x}"
        );
        // Inside an item, the same length exceeds the item before the file.
        let inner = [
            build::header(LE, tags::ENCAPSULATED_DOCUMENT, b"OB", length),
            b"abcd".to_vec(),
        ]
        .concat();
        let data_set = build::sequence_defined(
            LE,
            tags::CONCEPT_NAME_CODE_SEQUENCE,
            &[build::item_defined(LE, &inner)],
        );
        let bytes = le_file(&data_set);
        let header = parse(&bytes).unwrap();
        assert!(matches!(
            header.error(),
            Some(Error::Truncated { .. } | Error::ExceedsContainer { .. })
        ));
    }
}

#[test]
fn element_crossing_its_item_is_an_error() {
    // The item says 10 bytes; the element inside needs 12.
    let inner = build::element(LE, tags::CODE_VALUE, b"SH", b"ABCD");
    let mut item = build::header(LE, Tag::ITEM, b"  ", 10);
    item.extend(&inner);
    let data_set = build::sequence_undefined(LE, tags::CONCEPT_NAME_CODE_SEQUENCE, &[item]);
    let bytes = le_file(&data_set);
    let header = parse(&bytes).unwrap();
    match header.error() {
        Some(Error::ExceedsContainer {
            needed: 12,
            room: 10,
            location,
            ..
        }) => {
            assert_eq!(location.top_level, Some(tags::CONCEPT_NAME_CODE_SEQUENCE));
            assert_eq!(location.tag, Some(tags::CODE_VALUE));
            assert_eq!(location.depth, 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn deflate_bomb_is_capped() {
    // 64 MiB of zeros deflate to about 64 KB; the default cap inflates 16 MiB of it.
    let zeros = vec![0u8; 64 << 20];
    let deflated = miniz_oxide_deflate(&zeros);
    let bytes = build::file("1.2.840.10008.1.2.1.99", &deflated);
    drop(zeros);
    let (result, peak) = measure(|| parse(&bytes));
    assert!(peak < MEMORY_BOUND, "{peak}");
    let header = result.unwrap();
    assert!(
        header
            .warnings()
            .iter()
            .any(|w| matches!(w.kind, WarningKind::InflateCapped { .. }))
    );
    // Zeros are elements (0000,0000) of length 0: a data set that ends cleanly, or an
    // error; never more memory.
    let _ = header.error();
}

/// Compresses with the same crate the parser inflates with.
fn miniz_oxide_deflate(bytes: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec(bytes, 6)
}

#[test]
fn pixel_data_nested_in_an_icon_sequence_does_not_stop_the_parse() {
    let icon = [
        build::element(LE, tags::ROWS, b"US", &2u16.to_le_bytes()),
        build::element(LE, tags::PIXEL_DATA, b"OW", &[1, 2, 3, 4]),
    ]
    .concat();
    let mut data_set = build::sequence_undefined(
        LE,
        tags::ICON_IMAGE_SEQUENCE,
        &[build::item_undefined(LE, &icon)],
    );
    data_set.extend(build::element(LE, tags::PIXEL_DATA, b"OW", &[9, 9, 9, 9]));
    data_set.extend(build::element(LE, Tag::new(0xFFFC, 0xFFFC), b"OB", &[0, 0]));
    let bytes = le_file(&data_set);
    let header = parse(&bytes).unwrap();
    assert!(header.is_complete());
    assert_eq!(header.stop().unwrap().tag, tags::PIXEL_DATA);
    let icon = header
        .get(tags::ICON_IMAGE_SEQUENCE)
        .unwrap()
        .items()
        .next()
        .unwrap();
    assert_eq!(icon.get(tags::PIXEL_DATA).unwrap().raw(), [1, 2, 3, 4]);
    assert_eq!(header.remaining().unwrap().len(), 12 + 4 + 12 + 2);

    // Reading past the pixel data indexes the padding after it.
    let all = parse_with(&bytes, &ParseOptions::default().read_pixel_data()).unwrap();
    assert!(all.stop().is_none() && all.is_complete());
    assert!(all.get(Tag::new(0xFFFC, 0xFFFC)).is_some());
}

#[test]
fn encapsulated_fragments_are_walked_by_length() {
    // A fragment whose bytes contain a sequence delimiter must not end the pixel data.
    let fragment = [0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0];
    let mut data_set = build::header(LE, tags::PIXEL_DATA, b"OB", UNDEFINED);
    data_set.extend(build::item_defined(LE, &[]));
    data_set.extend(build::item_defined(LE, &fragment));
    data_set.extend(build::header(LE, Tag::SEQUENCE_DELIMITATION, b"  ", 0));
    data_set.extend(build::element(LE, Tag::new(0xFFFC, 0xFFFC), b"OB", &[0, 0]));
    let bytes = build::file("1.2.840.10008.1.2.4.50", &data_set);
    let header = parse_with(&bytes, &ParseOptions::default().read_pixel_data()).unwrap();
    assert!(header.is_complete(), "{:?}", header.error());
    let pixels = header.get(tags::PIXEL_DATA).unwrap();
    assert!(pixels.is_encapsulated());
    let fragments: Vec<&[u8]> = pixels.fragments().collect();
    assert_eq!(fragments, [&[][..], &fragment[..]]);
    assert!(header.get(Tag::new(0xFFFC, 0xFFFC)).is_some());
}

#[test]
fn private_creator_blocks() {
    let data_set = [
        build::element(LE, Tag::new(0x0009, 0x0010), b"LO", b"ACME"),
        build::element(LE, Tag::new(0x0009, 0x0011), b"LO", b"OTHER "),
        build::element(LE, Tag::new(0x0009, 0x1001), b"LO", b"acme value"),
        build::element(LE, Tag::new(0x0009, 0x1101), b"LO", b"other value "),
    ]
    .concat();
    let bytes = le_file(&data_set);
    let header = parse(&bytes).unwrap();
    let data_set = header.data_set();
    let acme = data_set.private_element(0x0009, "ACME", 0x01).unwrap();
    assert_eq!(acme.string().unwrap(), "acme value");
    assert_eq!(acme.private_creator().as_deref(), Some("ACME"));
    let other = data_set.private_element(0x0009, "OTHER", 0x01).unwrap();
    assert_eq!(other.tag(), Tag::new(0x0009, 0x1101));
    assert!(data_set.private_element(0x0009, "NOBODY", 0x01).is_none());
}

#[test]
fn specific_character_set_changes_inside_an_item() {
    let inner = [
        build::element(LE, tags::SPECIFIC_CHARACTER_SET, b"CS", b"ISO_IR 144"),
        build::element(LE, tags::PATIENT_NAME, b"PN", b"\xbb\xee\xda^"),
    ]
    .concat();
    let data_set = [
        build::element(LE, tags::SPECIFIC_CHARACTER_SET, b"CS", b"ISO_IR 100"),
        build::element(LE, tags::PATIENT_NAME, b"PN", b"J\xe9r\xf4me^"),
        build::sequence_undefined(
            LE,
            tags::OTHER_PATIENT_IDS_SEQUENCE,
            &[build::item_undefined(LE, &inner)],
        ),
    ]
    .concat();
    let bytes = le_file(&data_set);
    let header = parse(&bytes).unwrap();
    assert_eq!(
        header.string(tags::PATIENT_NAME).as_deref(),
        Some("Jérôme^")
    );
    let item = header
        .get(tags::OTHER_PATIENT_IDS_SEQUENCE)
        .unwrap()
        .items()
        .next()
        .unwrap();
    assert_eq!(item.string(tags::PATIENT_NAME).as_deref(), Some("Люк^"));
}

#[test]
fn value_size_limit_skips_in_tolerant_mode_and_fails_in_strict() {
    let data_set = [
        build::element(LE, tags::PATIENT_ID, b"LO", b"ID"),
        build::element(LE, tags::ENCAPSULATED_DOCUMENT, b"OB", &[0u8; 4096]),
        build::element(LE, Tag::new(0x0042, 0x0012), b"LO", b"application/pdf "),
    ]
    .concat();
    let bytes = le_file(&data_set);
    let limits = Limits::default().with_max_value_len(1024);
    let header = parse_with(&bytes, &ParseOptions::default().with_limits(limits)).unwrap();
    assert!(header.is_complete());
    assert_eq!(kinds(&header), [WarningKind::ValueSkipped { length: 4096 }]);
    let document = header.get(tags::ENCAPSULATED_DOCUMENT).unwrap();
    assert!(document.is_skipped());
    assert!(matches!(
        document.ints(),
        Err(Error::ValueTooLarge { limit: 1024, .. })
    ));
    assert_eq!(
        header.string(Tag::new(0x0042, 0x0012)).as_deref(),
        Some("application/pdf")
    );
    let strict = parse_with(&bytes, &ParseOptions::strict().with_limits(limits)).unwrap_err();
    assert!(matches!(
        strict,
        Error::ValueTooLarge {
            length: 4096,
            limit: 1024,
            ..
        }
    ));

    // Skipping on request: no warning, and a skipped sequence is not descended.
    let skip = ParseOptions::default().skip_values_larger_than(100);
    let header = parse_with(&bytes, &skip).unwrap();
    assert!(header.warnings().is_empty());
    assert!(
        header
            .get(tags::ENCAPSULATED_DOCUMENT)
            .unwrap()
            .is_skipped()
    );
}

#[test]
fn stop_before_any_tag() {
    let bytes = fixture("pydicom/CT_small.dcm");
    let header = parse_with(
        &bytes,
        &ParseOptions::default().stop_before(tags::PATIENT_NAME),
    )
    .unwrap();
    assert_eq!(header.stop().unwrap().tag, tags::PATIENT_NAME);
    assert!(header.get(tags::PATIENT_NAME).is_none());
    assert!(header.get(tags::MODALITY).is_some());
    assert_eq!(
        u64::try_from(bytes.len() - header.remaining().unwrap().len()).unwrap(),
        header.stop().unwrap().offset
    );
}

#[test]
fn implicit_vr_data_under_an_explicit_transfer_syntax() {
    let implicit = Encoding::IMPLICIT_VR_LITTLE_ENDIAN;
    let data_set = [
        build::element(implicit, tags::PATIENT_NAME, b"PN", b"Doe^Jane"),
        build::element(implicit, tags::PATIENT_ID, b"LO", b"ID"),
    ]
    .concat();
    let bytes = le_file(&data_set);
    let header = parse(&bytes).unwrap();
    assert!(header.is_complete());
    assert_eq!(kinds(&header), [WarningKind::ImplicitVrInExplicitSyntax]);
    assert_eq!(
        header.string(tags::PATIENT_NAME).as_deref(),
        Some("Doe^Jane")
    );
    assert!(header.get(tags::PATIENT_ID).unwrap().is_vr_implicit());
}

#[test]
fn un_sequence_of_undefined_length_is_implicit_inside() {
    // CP-246: a private SQ sent as UN with undefined length, items in implicit VR LE,
    // in an explicit VR big endian file.
    let be = Encoding::EXPLICIT_VR_BIG_ENDIAN;
    let implicit = Encoding::IMPLICIT_VR_LITTLE_ENDIAN;
    let inner = build::element(implicit, tags::CODE_VALUE, b"SH", b"T1");
    let mut data_set = build::element(be, tags::PATIENT_ID, b"LO", b"ID");
    data_set.extend(build::header(
        be,
        Tag::new(0x0009, 0x1010),
        b"UN",
        UNDEFINED,
    ));
    data_set.extend(build::item_undefined(implicit, &inner));
    data_set.extend(build::header(
        implicit,
        Tag::SEQUENCE_DELIMITATION,
        b"  ",
        0,
    ));
    data_set.extend(build::element(be, Tag::new(0x0010, 0x0020), b"LO", b"X2"));
    let bytes = build::file("1.2.840.10008.1.2.2", &data_set);
    let header = parse(&bytes).unwrap();
    assert!(header.is_complete(), "{:?}", header.error());
    let sequence = header.get(Tag::new(0x0009, 0x1010)).unwrap();
    assert!(sequence.is_sequence());
    let item = sequence.items().next().unwrap();
    assert_eq!(item.string(tags::CODE_VALUE).as_deref(), Some("T1"));
    assert!(!item.get(tags::CODE_VALUE).unwrap().is_big_endian());
}

#[test]
fn un_of_defined_length_holding_a_standard_sequence() {
    // CP-246: a sequence forwarded as UN keeps its implicit VR little endian items;
    // the dictionary says (0008,1115) is a sequence.
    let implicit = Encoding::IMPLICIT_VR_LITTLE_ENDIAN;
    let item = build::item_defined(
        implicit,
        &build::element(implicit, tags::SERIES_INSTANCE_UID, b"UI", b"1.2.3.4\0"),
    );
    let data_set = build::element(LE, tags::REFERENCED_SERIES_SEQUENCE, b"UN", &item);
    let bytes = le_file(&data_set);
    let header = parse(&bytes).unwrap();
    assert!(header.is_complete() && header.warnings().is_empty());
    let sequence = header.get(tags::REFERENCED_SERIES_SEQUENCE).unwrap();
    assert_eq!((sequence.vr(), sequence.effective_vr()), (Vr::UN, Vr::SQ));
    let item = sequence.items().next().unwrap();
    assert_eq!(
        item.string(tags::SERIES_INSTANCE_UID).as_deref(),
        Some("1.2.3.4")
    );
    assert!(
        item.get(tags::SERIES_INSTANCE_UID)
            .unwrap()
            .is_vr_implicit()
    );
    assert_eq!(header.to_bytes().unwrap(), bytes);
}

#[test]
fn unsorted_elements_are_found_and_warned_once() {
    let data_set = [
        build::element(LE, tags::PATIENT_ID, b"LO", b"ID"),
        build::element(LE, tags::PATIENT_NAME, b"PN", b"Doe^"),
        build::element(LE, tags::MODALITY, b"CS", b"SM"),
    ]
    .concat();
    let bytes = le_file(&data_set);
    let header = parse(&bytes).unwrap();
    assert_eq!(
        kinds(&header),
        [WarningKind::NotAscending {
            previous: tags::PATIENT_ID
        }]
    );
    assert_eq!(header.string(tags::PATIENT_NAME).as_deref(), Some("Doe^"));
    assert_eq!(header.string(tags::MODALITY).as_deref(), Some("SM"));
}

#[test]
fn warnings_are_capped() {
    let data_set: Vec<u8> = (0..200u16)
        .rev()
        .flat_map(|i| build::element(LE, Tag::new(0x0011, 0x1000 + i), b"LO", b"odd"))
        .collect();
    let options = ParseOptions::default().with_limits(Limits::default().with_max_warnings(5));
    let bytes = le_file(&data_set);
    let header = parse_with(&bytes, &options).unwrap();
    assert_eq!(header.warnings().len(), 5);
    assert!(header.warnings_dropped() > 0);
}
