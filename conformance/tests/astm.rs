//! ASTM: every session in `astm/tests/data/sessions` read by labwire (a receiving
//! `link::Link`, or the record parser alone for unframed records, then
//! `record::parse_messages`) against the records python `astm` 0.5 decodes
//! (`goldens/astm`).
//!
//! Compared: the records in order, each field as python astm shapes it: `null` when
//! empty, a string, a list of components (`null` for empty ones) when the field has a
//! component delimiter, a list of such lists when it has a repeat delimiter. labwire's text
//! is its decoded text (escapes and charset applied). Empty records python reports
//! (`[null]`, from a blank line) are compared as their own aspect. Sessions python astm
//! refuses are differences too (`session` aspect), so each refusal is documented.

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
use labwire_astm::frame;
use labwire_astm::link::{Instant, Link, LinkConfig, LinkEvent, Role};
use labwire_astm::record::{Charset, Field, Record, RecordOptions, RecordType, parse_messages};
use serde_json::{Value, json};

/// The session texts: the E1381 messages of each ENQ … EOT joined, as the crate's own
/// session tests do; unframed records as they are.
fn session_texts(bytes: &[u8]) -> Vec<Vec<u8>> {
    if frame::looks_framed(bytes) == Some(false) {
        return vec![bytes.to_vec()];
    }
    let mut link = Link::new(LinkConfig::new(Role::Computer)).unwrap();
    link.handle_bytes(bytes, Instant::from_millis(0));
    let mut sessions = Vec::new();
    let mut session = Vec::new();
    while let Some(event) = link.poll_event() {
        match event {
            LinkEvent::MessageReceived { text, .. } => {
                session.extend_from_slice(&text);
                // A record's CR left out before ETX still ends the record.
                if !matches!(text.last(), Some(b'\r' | b'\n')) {
                    session.push(b'\r');
                }
            }
            LinkEvent::SessionEnded { .. } if !session.is_empty() => {
                sessions.push(std::mem::take(&mut session));
            }
            _ => {}
        }
    }
    assert!(session.is_empty(), "a session was left open");
    sessions
}

fn charset(encoding: &str) -> Charset {
    match encoding {
        "utf-8" => Charset::Utf8,
        "latin-1" => Charset::Latin1,
        "cp932" => Charset::ShiftJis,
        other => panic!("golden input encoding {other:?}"),
    }
}

/// A piece of a field as python astm writes it: `null` when empty, else its text.
fn text_or_null(field: &Field<'_>) -> Value {
    if field.is_empty() {
        Value::Null
    } else {
        common::capped(&field.text())
    }
}

/// The components of one repeat (or of a field without repeats), as a list.
fn components(field: &Field<'_>) -> Value {
    Value::Array(field.components().map(|c| text_or_null(&c)).collect())
}

/// A field shaped as `astm.codec.decode_record` shapes it. H-2, the delimiter definition,
/// is one string: labwire does not split it (E1394-97 §7.1.2).
fn python_shape(
    record: &Record<'_>,
    number: usize,
    field: &Field<'_>,
    delimiters: [u8; 2],
) -> Value {
    let [repeat, component] = delimiters;
    let raw = field.raw();
    if record.kind() == RecordType::HEADER && number == 2 {
        return text_or_null(field);
    }
    if raw.contains(&repeat) {
        Value::Array(field.repeats().map(|r| components(&r)).collect())
    } else if raw.contains(&component) {
        components(field)
    } else {
        text_or_null(field)
    }
}

/// Every record labwire reads from a session capture, as python-shaped JSON.
fn our_records(bytes: &[u8], charset: Charset) -> Vec<Vec<Value>> {
    let options = RecordOptions {
        charset,
        ..RecordOptions::default()
    };
    let mut out = Vec::new();
    for text in session_texts(bytes) {
        let (messages, _warnings) = parse_messages(&text, &options).unwrap();
        for message in &messages {
            let delimiters = message.delimiters();
            for record in message.records() {
                let fields = record
                    .fields()
                    .enumerate()
                    .map(|(index, field)| {
                        python_shape(
                            &record,
                            index + 1,
                            &field,
                            [delimiters.repeat, delimiters.component],
                        )
                    })
                    .collect();
                out.push(fields);
            }
        }
    }
    out
}

/// The type letter of a python-shaped record (`?` when it has none).
fn kind_of(record: &[Value]) -> String {
    record
        .first()
        .and_then(Value::as_str)
        .map_or_else(|| "?".to_owned(), |kind| kind.to_ascii_uppercase())
}

fn compare(fixture: &str, golden: &Value, bytes: &[u8], differences: &mut Vec<Difference>) {
    let charset = charset(golden["input"]["text_encoding"].as_str().unwrap());
    let ours = our_records(bytes, charset);
    let difference = |path: String, aspect: &str, ours: Value, theirs: Value| {
        Difference::new("astm", fixture, path, aspect, ours, theirs)
    };
    if let Some(refusal) = golden.get("refused") {
        differences.push(difference(
            String::new(),
            "session",
            json!(format!("{} records", ours.len())),
            refusal.clone(),
        ));
        return;
    }
    let theirs: Vec<Vec<Value>> = golden["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| record.as_array().unwrap().clone())
        .collect();

    let mut occurrences: BTreeMap<String, usize> = BTreeMap::new();
    let mut ours_iter = ours.iter().peekable();
    for (index, their_record) in theirs.iter().enumerate() {
        // A blank line python reads as a record of one empty field.
        if their_record.as_slice() == [Value::Null] {
            differences.push(difference(
                format!("#{}", index + 1),
                "empty-record",
                Value::Null,
                json!([null]),
            ));
            continue;
        }
        let kind = kind_of(their_record);
        let occurrence = occurrences.entry(kind.clone()).or_insert(0);
        *occurrence += 1;
        let name = if *occurrence == 1 {
            kind.clone()
        } else {
            format!("{kind}({occurrence})")
        };
        let Some(our_record) = ours_iter.next() else {
            differences.push(difference(
                name,
                "record",
                Value::Null,
                Value::Array(their_record.clone()),
            ));
            continue;
        };
        let fields = their_record.len().max(our_record.len());
        for number in 1..=fields {
            let theirs = their_record.get(number - 1).unwrap_or(&Value::Null);
            let ours = our_record.get(number - 1).unwrap_or(&Value::Null);
            if theirs != ours {
                differences.push(difference(
                    format!("{name}-{number}"),
                    "field",
                    ours.clone(),
                    theirs.clone(),
                ));
            }
        }
    }
    for extra in ours_iter {
        differences.push(difference(
            kind_of(extra),
            "record",
            Value::Array(extra.clone()),
            Value::Null,
        ));
    }
}

#[test]
fn every_astm_session_reads_as_python_astm_reads_it() {
    let data = common::workspace_dir().join("astm/tests/data/sessions");
    let goldens = common::goldens("astm");
    let sessions: Vec<String> = common::files_with_extension(&data, "bin")
        .into_iter()
        .map(|name| name.trim_end_matches(".bin").to_owned())
        .collect();
    let golden_names: Vec<String> = goldens.keys().cloned().collect();
    assert_eq!(
        sessions, golden_names,
        "every session has a golden and every golden a session (rerun generate.sh)"
    );

    let mut differences = Vec::new();
    let mut records = 0;
    for (name, golden) in &goldens {
        let bytes = std::fs::read(data.join(format!("{name}.bin"))).unwrap();
        compare(name, golden, &bytes, &mut differences);
        records += golden
            .get("records")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
    }
    assert!(records > 250, "only {records} records compared");
    check_known_differences("astm", &differences);
}
