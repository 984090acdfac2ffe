//! DICOM: every file in `dicom-meta/tests/data/{pydicom,highdicom,charset}` read by
//! `labwire_dicom_meta::parse` (default options) against what pydicom read
//! (`goldens/dicom`, plus the transfer syntax from the crate's own earlier pydicom goldens,
//! `dicom-meta/tests/data/goldens.json`, which this suite reuses rather than repeats).
//!
//! Compared, per file: the transfer syntax; every element up to the pixel data, file meta
//! and nested ones included, by its path (tags from the top, 1-based item numbers): its
//! VR (labwire's effective VR), VM and the value length its header declares (or
//! `undefined`); and the lab attributes value by value after Specific Character Set
//! decoding, person names by group and component (trailing empty groups dropped: PS3.5
//! §6.2.1 makes them insignificant), and the identifiers of every specimen.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    reason = "test code, helpers included: a failed unwrap is a failed test, output is the report"
)]

mod common;

use std::collections::BTreeMap;

use common::{Difference, check_known_differences};
use labwire_dicom_meta::{DataSet, Element, Header, Vr, parse};
use serde_json::{Value, json};

/// An element as the goldens list it: `[VR, VM, length]`.
fn describe(element: &Element<'_>) -> [Value; 3] {
    let vr = element.effective_vr();
    let length = if element.has_undefined_length() {
        json!("undefined")
    } else {
        json!(element.len())
    };
    [
        json!(vr.to_string()),
        json!(value_multiplicity(element, vr)),
        length,
    ]
}

/// The VM the way pydicom counts it (`DataElement.VM`): 1 for a sequence; 0 for an empty
/// value; the number of `\`-separated values of multi-valued text (PS3.5 §6.4); the
/// number of fixed-size binary values; 1 for byte streams and single-valued text.
fn value_multiplicity(element: &Element<'_>, vr: Vr) -> usize {
    if element.is_sequence() || vr == Vr::SQ {
        return 1;
    }
    if element.is_empty() {
        return 0;
    }
    if vr.is_text() {
        return match element.strings() {
            Ok(strings) if strings.is_empty() => 0,
            Ok(strings) => strings.len(),
            Err(_) => 1,
        };
    }
    match vr {
        Vr::US | Vr::SS | Vr::UL | Vr::SL | Vr::FL | Vr::FD | Vr::AT | Vr::SV | Vr::UV => vr
            .binary_width()
            .map_or(1, |width| element.len() as usize / width),
        _ => 1,
    }
}

/// Every element of a data set, nested ones included, by path.
fn walk(prefix: &str, data_set: DataSet<'_>, out: &mut BTreeMap<String, [Value; 3]>) {
    let mut stack = vec![(prefix.to_owned(), data_set)];
    while let Some((prefix, data_set)) = stack.pop() {
        for element in data_set.iter() {
            let path = format!("{prefix}{}", element.tag());
            out.insert(path.clone(), describe(&element));
            for (index, item) in element.items().enumerate() {
                stack.push((format!("{path}[{}]", index + 1), item));
            }
        }
    }
}

fn our_elements(header: &Header<'_>) -> BTreeMap<String, [Value; 3]> {
    let mut out = BTreeMap::new();
    walk("meta", header.meta(), &mut out);
    walk("", header.data_set(), &mut out);
    out
}

/// A text element's values, decoded; `[]` when empty.
fn values(element: &Element<'_>) -> Value {
    match element.strings() {
        Ok(strings) if strings.is_empty() => json!([]),
        Ok(strings) => Value::Array(strings.iter().map(common::capped).collect()),
        Err(error) => json!(format!("<error: {error}>")),
    }
}

/// A PN element as groups of five components, trailing empty groups dropped.
fn person_names(element: &Element<'_>) -> Value {
    let names = match element.person_names() {
        Ok(names) => names,
        Err(error) => return json!(format!("<error: {error}>")),
    };
    let mut out = Vec::new();
    for name in names.iter().filter(|name| !name.is_empty()) {
        let mut groups: Vec<Value> = [name.alphabetic(), name.ideographic(), name.phonetic()]
            .iter()
            .map(|group| {
                json!([
                    group.family(),
                    group.given(),
                    group.middle(),
                    group.prefix(),
                    group.suffix()
                ])
            })
            .collect();
        let groups_written = name.as_str().split('=').count().min(3);
        groups.truncate(groups_written);
        while groups
            .last()
            .is_some_and(|group| group.as_array().unwrap().iter().all(|c| c == ""))
        {
            groups.pop();
        }
        out.push(Value::Array(groups));
    }
    Value::Array(out)
}

fn our_attributes(header: &Header<'_>, keywords: &[String]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for keyword in keywords {
        let Some(element) = header.by_keyword(keyword) else {
            continue;
        };
        let value = match keyword.as_str() {
            "PatientName" => person_names(&element),
            "SpecimenDescriptionSequence" => Value::Array(
                element
                    .items()
                    .map(|item| {
                        let mut identifiers = serde_json::Map::new();
                        for keyword in ["SpecimenIdentifier", "SpecimenUID"] {
                            if let Some(element) = item.by_keyword(keyword) {
                                identifiers.insert(keyword.to_owned(), values(&element));
                            }
                        }
                        Value::Object(identifiers)
                    })
                    .collect(),
            ),
            _ => values(&element),
        };
        out.insert(keyword.clone(), value);
    }
    out
}

fn compare(
    stem: &str,
    golden: &Value,
    earlier: &Value,
    bytes: &[u8],
    differences: &mut Vec<Difference>,
) {
    let difference = |path: String, aspect: &str, ours: Value, theirs: Value| {
        Difference::new("dicom", stem, path, aspect, ours, theirs)
    };
    let header = parse(bytes).unwrap_or_else(|e| panic!("{stem}: labwire refuses the file: {e}"));

    let syntax = json!(header.transfer_syntax_uid());
    if syntax != earlier["transfer_syntax"] {
        differences.push(difference(
            String::new(),
            "transfer-syntax",
            syntax,
            earlier["transfer_syntax"].clone(),
        ));
    }

    let mut ours = our_elements(&header);
    for entry in golden["elements"].as_array().unwrap() {
        let entry = entry.as_array().unwrap();
        let path = entry[0].as_str().unwrap().to_owned();
        let Some(mine) = ours.remove(&path) else {
            differences.push(difference(path, "element", Value::Null, json!(entry[1..])));
            continue;
        };
        for (aspect, index) in [("vr", 1), ("vm", 2), ("length", 3)] {
            let theirs = &entry[index];
            // pydicom keeps no length for elements it converted while reading.
            if aspect == "length" && theirs.is_null() {
                continue;
            }
            if mine[index - 1] != *theirs {
                differences.push(difference(
                    path.clone(),
                    aspect,
                    mine[index - 1].clone(),
                    theirs.clone(),
                ));
            }
        }
    }
    for (path, mine) in ours {
        differences.push(difference(path, "element", json!(mine), Value::Null));
    }

    let attributes = golden["attributes"].as_object().unwrap();
    let keywords: Vec<String> = attributes.keys().cloned().collect();
    let mine = our_attributes(&header, &keywords);
    for (keyword, theirs) in attributes {
        let ours = mine.get(keyword).cloned().unwrap_or(Value::Null);
        if ours != *theirs {
            differences.push(difference(keyword.clone(), "value", ours, theirs.clone()));
        }
    }
    // The lab attributes pydicom did not find must be absent for labwire too.
    for keyword in [
        "PatientName",
        "PatientID",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "SOPInstanceUID",
        "SOPClassUID",
        "Modality",
        "AccessionNumber",
        "Manufacturer",
        "ManufacturerModelName",
        "DeviceSerialNumber",
        "SoftwareVersions",
        "InstitutionName",
        "StudyDate",
        "StudyTime",
        "AcquisitionDateTime",
        "ContainerIdentifier",
        "SpecimenDescriptionSequence",
    ] {
        if !attributes.contains_key(keyword) && header.by_keyword(keyword).is_some() {
            differences.push(difference(
                keyword.to_owned(),
                "value",
                json!("present"),
                Value::Null,
            ));
        }
    }
}

#[test]
fn every_dicom_fixture_reads_as_pydicom_reads_it() {
    let data = common::workspace_dir().join("dicom-meta/tests/data");
    let goldens = common::goldens("dicom");
    let earlier = common::read_json(&data.join("goldens.json"));
    let mut fixtures = Vec::new();
    for directory in ["pydicom", "highdicom", "charset"] {
        for name in common::files_with_extension(&data.join(directory), "dcm") {
            fixtures.push(format!("{directory}__{}", name.trim_end_matches(".dcm")));
        }
    }
    let golden_names: Vec<String> = goldens.keys().cloned().collect();
    fixtures.sort();
    assert_eq!(
        fixtures, golden_names,
        "every fixture has a golden and every golden a fixture (rerun generate.sh)"
    );

    let mut differences = Vec::new();
    let mut elements = 0;
    for (stem, golden) in &goldens {
        let (directory, name) = stem.split_once("__").unwrap();
        let key = format!("{directory}/{name}.dcm");
        let bytes = std::fs::read(data.join(&key)).unwrap();
        compare(
            stem,
            golden,
            &earlier["files"][&key],
            &bytes,
            &mut differences,
        );
        elements += golden["elements"].as_array().unwrap().len();
    }
    assert!(elements > 3000, "only {elements} elements compared");
    check_known_differences("dicom", &differences);
}
