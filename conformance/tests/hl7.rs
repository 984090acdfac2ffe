//! HL7 v2: every fixture in `hl7/tests/data` read by `labwire_hl7::Message` (default
//! options) against the goldens python `hl7` and `hl7apy` wrote (`goldens/hl7`).
//!
//! Compared, per fixture: the segment ids in order; for every non-empty leaf (field,
//! repetition, component or subcomponent, as deep as the delimiters go) its raw text
//! against python-hl7's (where hl7apy, the second reference, reads something else, the
//! golden records both and why, see [`expected_raw`]), and its unescaped text against
//! python-hl7's `Message.unescape` (hl7apy does not unescape); and no leaf that neither
//! reference read.
//! The golden paths are also looked up with `Message::get`, so the path notation is
//! checked against the tree walk.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    reason = "test code, helpers included: a failed unwrap is a failed test, output is the report"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Difference, check_known_differences, same_text};
use labwire_hl7::{Message, ParseOptions, Path};
use serde_json::Value;

/// `(segment id, occurrence, field, repetition, component, subcomponent)`, absent levels 1.
type Position = (String, usize, usize, usize, usize, usize);

fn position_of(path: &str) -> Position {
    let parsed = Path::parse(path).unwrap_or_else(|e| panic!("golden path {path:?}: {e:?}"));
    (
        String::from_utf8(parsed.segment_id().to_vec()).unwrap(),
        parsed.occurrence(),
        parsed.field(),
        parsed.repetition().unwrap_or(1),
        parsed.component().unwrap_or(1),
        parsed.subcomponent().unwrap_or(1),
    )
}

fn path_of(position: &Position) -> String {
    let (segment, occurrence, field, repetition, component, subcomponent) = position;
    let head = if *occurrence == 1 {
        segment.clone()
    } else {
        format!("{segment}({occurrence})")
    };
    format!("{head}-{field}({repetition}).{component}.{subcomponent}")
}

/// A leaf labwire reads: its raw text (in the message charset) and its decoded text.
struct Leaf {
    raw: String,
    decoded: String,
}

/// Every non-empty leaf of the message, by position, walking the whole tree.
fn our_leaves(message: &Message<'_>) -> BTreeMap<Position, Leaf> {
    let charset = message.charset();
    let text = |bytes: &[u8]| labwire_hl7::charset::decode(bytes, charset).into_owned();
    let decoded = |result: labwire_hl7::Result<std::borrow::Cow<'_, str>>| match result {
        Ok(text) => text.into_owned(),
        Err(error) => format!("<error: {error}>"),
    };
    let mut leaves = BTreeMap::new();
    let mut occurrences: BTreeMap<String, usize> = BTreeMap::new();
    for segment in message.segments() {
        let id = segment.id_str().to_owned();
        let occurrence = occurrences.entry(id.clone()).or_insert(0);
        *occurrence += 1;
        for number in 1..=segment.field_count() {
            let field = segment.field(number);
            if segment.is_header() && number <= 2 {
                if !field.is_empty() {
                    let leaf = Leaf {
                        raw: text(field.raw()),
                        decoded: decoded(field.decoded()),
                    };
                    leaves.insert((id.clone(), *occurrence, number, 1, 1, 1), leaf);
                }
                continue;
            }
            for (r, repetition) in field.repetitions().enumerate() {
                for (c, component) in repetition.components().enumerate() {
                    for (s, sub) in component.subcomponents().enumerate() {
                        if sub.is_empty() {
                            continue;
                        }
                        let leaf = Leaf {
                            raw: text(sub.raw()),
                            decoded: decoded(sub.decoded()),
                        };
                        leaves.insert((id.clone(), *occurrence, number, r + 1, c + 1, s + 1), leaf);
                    }
                }
            }
        }
    }
    leaves
}

/// The raw text python-hl7 read at a golden entry (`None` where it read nothing).
///
/// Where hl7apy read something else the golden says why (`reference_disagreements`): it
/// drops values that are only spaces, strips spaces around values, rewrites SI/NM numbers
/// (`0001` → `1`) and numbers fields and components past its version's definition of a
/// segment or data type by their order among the non-empty ones. None of these is what
/// the message says (HL7 v2.5.1 ch. 2: fields and components are positional, their text
/// is data), so labwire must agree with python-hl7 there; the hl7apy text is kept in the
/// difference for the reader.
fn expected_raw(entry: &Value) -> Option<&Value> {
    match entry {
        Value::Object(map) if map.contains_key("hl7_raw") => {
            map.get("hl7_raw").filter(|v| !v.is_null())
        }
        Value::Object(map) if map.contains_key("raw") => map.get("raw"),
        // A capped plain value, or a plain string.
        other => Some(other),
    }
}

/// What python-hl7 unescapes the leaf to, if it read one.
fn reference_unescaped(entry: &Value) -> Option<&Value> {
    match entry {
        Value::Object(map) if map.contains_key("unescaped") => map.get("unescaped"),
        _ => expected_raw(entry),
    }
}

/// `theirs` for a raw difference: the agreed text, or both references' texts.
fn theirs_raw(entry: &Value) -> Value {
    match entry {
        Value::Object(map) if map.contains_key("hl7_raw") => serde_json::json!({
            "hl7": map["hl7_raw"],
            "hl7apy": map["hl7apy_raw"],
        }),
        Value::Object(map) if map.contains_key("raw") => map["raw"].clone(),
        other => other.clone(),
    }
}

fn compare(fixture: &str, golden: &Value, bytes: &[u8], differences: &mut Vec<Difference>) {
    let message = Message::parse(bytes, &ParseOptions::default())
        .unwrap_or_else(|e| panic!("{fixture}: labwire refuses the fixture: {e}"));
    let difference = |path: &str, aspect: &str, ours: Value, theirs: Value| {
        Difference::new("hl7", fixture, path, aspect, ours, theirs)
    };

    let ours_ids: Vec<&str> = message.segments().map(|s| s.id_str()).collect();
    let theirs_ids: Vec<&str> = golden["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    if ours_ids != theirs_ids {
        differences.push(difference(
            "",
            "segments",
            serde_json::json!(ours_ids),
            serde_json::json!(theirs_ids),
        ));
    }

    let leaves = our_leaves(&message);
    let mut golden_positions = BTreeSet::new();
    for (path, entry) in golden["values"].as_object().unwrap() {
        let position = position_of(path);
        golden_positions.insert(position.clone());
        let ours = leaves.get(&position);

        // The path notation reaches the same leaf as the tree walk.
        if let Some(leaf) = ours {
            let value = message
                .get(path)
                .unwrap_or_else(|| panic!("{fixture}: get({path:?}) is None"));
            let raw = labwire_hl7::charset::decode(value.raw(), message.charset());
            assert_eq!(raw, leaf.raw, "{fixture}: get({path:?}) vs the tree walk");
        }

        let raw_agrees = match (expected_raw(entry), ours) {
            (Some(text), Some(leaf)) => same_text(&leaf.raw, text),
            (None, None) => true,
            _ => false,
        };
        if !raw_agrees {
            differences.push(difference(
                path,
                "raw",
                ours.map_or(Value::Null, |leaf| common::capped(&leaf.raw)),
                theirs_raw(entry),
            ));
            continue;
        }
        if let (Some(expected), Some(leaf)) = (reference_unescaped(entry), ours)
            && !same_text(&leaf.decoded, expected)
        {
            differences.push(difference(
                path,
                "unescaped",
                common::capped(&leaf.decoded),
                expected.clone(),
            ));
        }
    }
    for (position, leaf) in &leaves {
        if !golden_positions.contains(position) {
            differences.push(difference(
                &path_of(position),
                "raw",
                common::capped(&leaf.raw),
                Value::Null,
            ));
        }
    }
}

#[test]
fn every_hl7_fixture_reads_as_the_references_read_it() {
    let data = common::workspace_dir().join("hl7/tests/data");
    let goldens = common::goldens("hl7");
    let fixtures = common::files_with_extension(&data, "hl7");
    let stems: BTreeSet<String> = fixtures
        .iter()
        .map(|name| name.trim_end_matches(".hl7").to_owned())
        .collect();
    let golden_stems: BTreeSet<String> = goldens.keys().cloned().collect();
    assert_eq!(
        stems, golden_stems,
        "every fixture has a golden and every golden a fixture (rerun generate.sh)"
    );

    let mut differences = Vec::new();
    let mut compared = 0;
    for (stem, golden) in &goldens {
        let bytes = std::fs::read(data.join(format!("{stem}.hl7"))).unwrap();
        compare(stem, golden, &bytes, &mut differences);
        compared += golden["values"].as_object().unwrap().len();
    }
    assert!(compared > 5000, "only {compared} values compared");
    check_known_differences("hl7", &differences);
}
