//! The pydicom, highdicom and charset fixtures against goldens that pydicom 3.0.2
//! produced offline (`tools/gen_goldens.py`, committed as `tests/data/goldens.json`),
//! and the byte-exact rewrite of every readable file.

use serde_json::Value as Json;

use labwire_dicom_meta::{Header, parse};

use crate::{fixture, fixtures_in};

/// Where this crate reads a fixture differently from pydicom, and why. Each entry
/// names the file and the golden field that differs.
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[
    // A private sequence of defined length under implicit VR: pydicom keeps the
    // value as bytes (it cannot know the VR); this crate sees the item tag at the
    // start of the value and indexes the item and its 6 elements.
    (
        "pydicom/priv_SQ.dcm",
        "all_elements",
        "private SQ of defined length indexed",
    ),
    (
        "pydicom/priv_SQ.dcm",
        "items",
        "private SQ of defined length indexed",
    ),
];

fn goldens() -> Json {
    let text = String::from_utf8(fixture("goldens.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn differs(file: &str, field: &str) -> bool {
    KNOWN_DIFFERENCES
        .iter()
        .any(|(f, g, _)| *f == file && *g == field)
}

/// Element counts the way pydicom counts them: elements at every level (items and
/// delimiters are not elements), and items of sequences.
fn counts(header: &Header<'_>) -> (usize, usize, usize, usize) {
    let top = header.data_set().len();
    let mut all = 0;
    let mut items = 0;
    let mut stack = vec![header.data_set()];
    while let Some(data_set) = stack.pop() {
        for element in data_set.iter() {
            all += 1;
            for item in element.items() {
                items += 1;
                stack.push(item);
            }
        }
    }
    (header.meta().len(), top, all, items)
}

#[test]
fn every_fixture_matches_its_pydicom_golden() {
    let goldens = goldens();
    let files = goldens["files"].as_object().unwrap();
    let mut checked = 0;
    for directory in ["pydicom", "highdicom", "charset"] {
        for name in fixtures_in(directory) {
            let key = format!("{directory}/{name}");
            let golden = &files[&key];
            assert_eq!(
                golden["pydicom"], "ok",
                "{key}: pydicom read every non-hostile fixture"
            );
            let bytes = fixture(&key);
            let header = parse(&bytes).unwrap_or_else(|e| panic!("{key}: {e}"));
            assert!(header.is_complete(), "{key}: {:?}", header.error());

            assert_eq!(
                header.transfer_syntax_uid(),
                golden["transfer_syntax"].as_str(),
                "{key}"
            );
            let (meta, top, all, items) = counts(&header);
            for (field, ours) in [
                ("meta_elements", meta),
                ("top_level_elements", top),
                ("all_elements", all),
                ("items", items),
            ] {
                if !differs(&key, field) {
                    assert_eq!(Some(ours as u64), golden[field].as_u64(), "{key}: {field}");
                } else {
                    assert_ne!(
                        Some(ours as u64),
                        golden[field].as_u64(),
                        "{key}: {field} no longer differs"
                    );
                }
            }

            for (keyword, expected) in golden["attributes"].as_object().unwrap() {
                match keyword.as_str() {
                    "PatientName" => {
                        let name = header
                            .by_keyword("PatientName")
                            .unwrap()
                            .person_name()
                            .unwrap();
                        // pydicom drops trailing empty groups (`…=` → `…`), which PS3.5
                        // §6.2.1 makes insignificant; this crate keeps the text as sent.
                        assert_eq!(
                            name.as_str().trim_end_matches('='),
                            expected["text"].as_str().unwrap(),
                            "{key}"
                        );
                        assert_eq!(
                            name.alphabetic().family(),
                            expected["family"].as_str().unwrap(),
                            "{key}"
                        );
                        assert_eq!(
                            name.alphabetic().given(),
                            expected["given"].as_str().unwrap(),
                            "{key}"
                        );
                        assert_eq!(
                            name.ideographic().as_str(),
                            expected["ideographic"].as_str().unwrap(),
                            "{key}"
                        );
                        assert_eq!(
                            name.phonetic().as_str(),
                            expected["phonetic"].as_str().unwrap(),
                            "{key}"
                        );
                    }
                    "SpecimenIdentifier" => {
                        let item = header
                            .by_keyword("SpecimenDescriptionSequence")
                            .unwrap()
                            .items()
                            .next()
                            .unwrap();
                        assert_eq!(
                            item.by_keyword("SpecimenIdentifier")
                                .unwrap()
                                .string()
                                .unwrap(),
                            expected.as_str().unwrap()
                        );
                    }
                    "SpecimenPreparationSteps" => {
                        let item = header
                            .by_keyword("SpecimenDescriptionSequence")
                            .unwrap()
                            .items()
                            .next()
                            .unwrap();
                        let steps = item
                            .by_keyword("SpecimenPreparationSequence")
                            .unwrap()
                            .items()
                            .count();
                        assert_eq!(Some(steps as u64), expected.as_u64(), "{key}");
                    }
                    _ => {
                        let element = header
                            .by_keyword(keyword)
                            .unwrap_or_else(|| panic!("{key}: {keyword}"));
                        let ours = element.strings().unwrap().to_vec().join("\\");
                        assert_eq!(ours, expected.as_str().unwrap(), "{key}: {keyword}");
                    }
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 69 + 1 + 17);
}

#[test]
fn every_readable_fixture_writes_back_byte_for_byte() {
    for directory in ["pydicom", "highdicom", "charset", "hostile"] {
        for name in fixtures_in(directory) {
            let key = format!("{directory}/{name}");
            let bytes = fixture(&key);
            let Ok(header) = parse(&bytes) else {
                continue;
            };
            let written = header.to_bytes().unwrap();
            if header.is_deflated() {
                // The deflate stream holds the pixel data too: it comes back whole, up
                // to its final block; what follows it comes with the file.
                assert!(written == bytes[..written.len()], "{key}: rewrite differs");
                assert_eq!(header.editor().write_file().unwrap(), bytes, "{key}");
                continue;
            }
            let remaining = header.remaining().unwrap();
            assert_eq!(written.len() + remaining.len(), bytes.len(), "{key}");
            assert!(written == bytes[..written.len()], "{key}: rewrite differs");
            assert_eq!(header.editor().write_file().unwrap(), bytes, "{key}");
        }
    }
}
