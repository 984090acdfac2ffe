//! The JSON shape is a contract with every consumer: it is pinned in a golden file.
//!
//! A change to the shape fails this test. If the change is intended, regenerate the
//! file with `LABWIRE_BLESS=1 cargo test -p labwire-model --test it golden` and say in
//! the commit why consumers must change.

use std::path::PathBuf;

use labwire_model::{EventKind, LabEvent};

use crate::fixtures::every_kind;

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/every_kind.json")
}

#[test]
fn json_shape_matches_the_golden_file() {
    let events = every_kind();
    let json = serde_json::to_string_pretty(&events).unwrap() + "\n";
    let path = golden_path();
    if std::env::var_os("LABWIRE_BLESS").is_some() {
        std::fs::write(&path, &json).unwrap();
    }
    let golden = std::fs::read_to_string(&path).unwrap();
    assert!(
        json == golden,
        "the JSON shape changed; diff {} against the output of this test",
        path.display()
    );
}

#[test]
fn golden_file_reads_back_to_the_same_events() {
    if std::env::var_os("LABWIRE_BLESS").is_some() {
        return; // the file is being rewritten by the test above
    }
    let golden = std::fs::read_to_string(golden_path()).unwrap();
    let events: Vec<LabEvent> = serde_json::from_str(&golden).unwrap();
    assert_eq!(events, every_kind());
    let kinds: Vec<EventKind> = events.iter().map(LabEvent::kind).collect();
    assert_eq!(kinds, EventKind::ALL);
}

#[test]
fn unknown_fields_from_newer_writers_are_ignored() {
    let json = r#"{"type":"status","instrument":{"local_id":"chem-01","future":1},
        "state":"OP","provenance":{"protocol":"hl7v2"},"added_in_v2":{"x":[1,2]}}"#;
    let event: LabEvent = serde_json::from_str(json).unwrap();
    assert_eq!(event.kind(), EventKind::Status);
    assert_eq!(event.instrument().local_id.as_deref(), Some("chem-01"));
}

#[test]
fn omitted_optional_fields_read_as_empty() {
    let json = r#"{"type":"results","instrument":{},"provenance":{"protocol":"astm"},
        "results":[{"test":{"system":"local","code":"GLU"},
                    "value":{"kind":"text","text":"NEG"},"status":"F"}]}"#;
    let LabEvent::Results(report) = serde_json::from_str(json).unwrap() else {
        panic!("expected results");
    };
    assert!(report.patient.is_none() && report.specimen.is_none());
    let result = &report.results[0];
    assert!(result.interpretation.is_empty() && !result.rerun && result.loinc.is_none());
}

#[test]
fn invalid_values_are_rejected_with_their_reason() {
    let bad = [
        (
            r#"{"type":"results","instrument":{},"provenance":{"protocol":"astm"},
            "results":[{"test":{"system":"local","code":"G"},"loinc":"2345-8",
            "value":{"kind":"text","text":"x"},"status":"F"}]}"#,
            "check digit",
        ),
        (
            r#"{"type":"status","instrument":{},"provenance":{"protocol":"hl7v2"},
            "at":"2024-02-30"}"#,
            "day",
        ),
        (
            r#"{"type":"results","instrument":{},"provenance":{"protocol":"astm"},
            "results":[{"test":{"system":"local","code":"G"},
            "value":{"kind":"quantity","value":".5"},"status":"F"}]}"#,
            "decimal",
        ),
        (
            r#"{"type":"nonsense","instrument":{},"provenance":{"protocol":"astm"}}"#,
            "variant",
        ),
    ];
    for (json, expected) in bad {
        let err = serde_json::from_str::<LabEvent>(json)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(expected),
            "{err:?} should mention {expected:?}"
        );
    }
}
