//! Specific Character Set decoding on the pydicom charset files (the goldens check
//! every patient name; these check the rest of what the sets cover).

use labwire_dicom_meta::{CharsetTerm, parse, tags};

use crate::fixture;

fn name(file: &str) -> String {
    let bytes = fixture(file);
    let header = parse(&bytes).unwrap();
    header
        .get(tags::PATIENT_NAME)
        .unwrap()
        .string()
        .unwrap()
        .into_owned()
}

#[test]
fn single_byte_sets() {
    assert_eq!(name("charset/chrFren.dcm"), "Buc^Jérôme");
    assert_eq!(name("charset/chrGerm.dcm"), "Äneas^Rüdiger");
    assert_eq!(name("charset/chrGreek.dcm"), "Διονυσιος");
    // The file mixes Latin look-alikes (c e y p) into the Cyrillic, as sent.
    assert_eq!(name("charset/chrRuss.dcm"), "Люкceмбypг");
    assert_eq!(name("charset/chrArab.dcm"), "قباني^لنزار");
    assert_eq!(name("charset/chrHbrw.dcm"), "שרון^דבורה");
}

#[test]
fn multi_byte_sets() {
    assert_eq!(name("charset/chrX1.dcm"), "Wang^XiaoDong=王^小東=");
    assert_eq!(name("charset/chrX2.dcm"), "Wang^XiaoDong=王^小东=");
    assert_eq!(
        name("charset/chrH31.dcm"),
        "Yamada^Tarou=山田^太郎=やまだ^たろう"
    );
    assert_eq!(
        name("charset/chrH32.dcm"),
        "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"
    );
    assert_eq!(name("charset/chrI2.dcm"), "Hong^Gildong=洪^吉洞=홍^길동");
}

#[test]
fn character_set_of_a_nested_item() {
    let bytes = fixture("charset/chrSQEncoding.dcm");
    let header = parse(&bytes).unwrap();
    assert!(header.character_set().is_utf8());
    let item = header
        .get(tags::REQUESTED_PROCEDURE_CODE_SEQUENCE)
        .unwrap()
        .items()
        .next()
        .unwrap();
    assert_eq!(
        item.character_set().terms(),
        [CharsetTerm::JisX0201, CharsetTerm::JisX0208]
    );
    let name = item.get(tags::PATIENT_NAME).unwrap().person_name().unwrap();
    assert_eq!(name.ideographic().family(), "山田");
    assert_eq!(name.phonetic().given(), "たろう");
}

#[test]
fn every_value_of_the_multi_value_files_decodes() {
    for file in [
        "charset/chrJapMulti.dcm",
        "charset/chrJapMultiExplicitIR6.dcm",
        "charset/chrKoreanMulti.dcm",
        "charset/chrFrenMulti.dcm",
    ] {
        let bytes = fixture(file);
        let header = parse(&bytes).unwrap();
        for element in header.data_set().iter() {
            if element.vr().uses_specific_character_set() {
                let text = element.string().unwrap();
                assert!(!text.contains('\u{FFFD}'), "{file}: {}", element.tag());
                assert!(!text.contains('\u{1B}'), "{file}: {}", element.tag());
            }
        }
    }
}
