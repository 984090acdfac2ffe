//! Every OBX of every fixture is accounted for: it became a result, or a warning
//! names it.

use labwire_hl7::model::{MapWarningKind, to_events};
use labwire_hl7::{Message, ParseOptions};
use labwire_model::LabEvent;

use crate::fixtures;

/// The test code the mapping gives an OBX: OBX-3.1, else the alternate OBX-3.4.
fn test_code(obx: labwire_hl7::Segment<'_>) -> String {
    let test = obx.field(3);
    let primary = test.component(1).decoded().unwrap().trim().to_owned();
    if primary.is_empty() {
        test.component(4).decoded().unwrap().trim().to_owned()
    } else {
        primary
    }
}

#[test]
fn every_obx_becomes_a_result_or_a_warning() {
    let mut checked = 0;
    for (name, bytes) in fixtures::all() {
        let message = Message::parse(&bytes, &ParseOptions::default()).unwrap();
        let obx: Vec<_> = message.segments_by_id("OBX").collect();
        let Ok(mapped) = to_events(&message, &labwire_hl7::MapOptions::default()) else {
            assert!(fixtures::UNMAPPED.contains(&name.as_str()), "{name}");
            assert!(obx.is_empty(), "{name}: an unmapped message with OBX");
            continue;
        };
        let mut results: Vec<labwire_model::Text> = Vec::new();
        for event in &mapped.events {
            match event {
                LabEvent::Results(report) => {
                    results.extend(report.results.iter().map(|r| r.test.code.clone()));
                }
                LabEvent::Qc(qc) => {
                    results.extend(qc.results.iter().map(|r| r.result.test.code.clone()));
                }
                LabEvent::Calibration(calibration) => {
                    results.extend(calibration.results.iter().map(|r| r.test.code.clone()));
                }
                _ => {}
            }
        }
        let mut not_mapped: Vec<u32> = mapped
            .warnings
            .iter()
            .filter(|warning| {
                matches!(
                    warning.kind,
                    MapWarningKind::ObservationNotMapped | MapWarningKind::ObservationNotAResult
                )
            })
            .map(|warning| {
                assert_eq!(
                    warning.location.segment.as_bytes(),
                    b"OBX",
                    "{name}: {warning}"
                );
                assert_eq!(warning.location.field, None, "{name}: {warning}");
                warning.location.occurrence
            })
            .collect();
        not_mapped.sort_unstable();
        not_mapped.dedup();
        assert_eq!(
            results.len() + not_mapped.len(),
            obx.len(),
            "{name}: {} OBX, {} results, {} warned",
            obx.len(),
            results.len(),
            not_mapped.len()
        );
        // The same tests: every OBX not warned about is a result, in message order.
        let expected: Vec<String> = obx
            .iter()
            .zip(1u32..)
            .filter(|(_, occurrence)| !not_mapped.contains(occurrence))
            .map(|(segment, _)| test_code(*segment))
            .collect();
        let mut sorted_results = results.clone();
        let mut sorted_expected = expected.clone();
        sorted_results.sort();
        sorted_expected.sort();
        assert_eq!(sorted_results, sorted_expected, "{name}");
        checked += obx.len();
    }
    assert!(checked > 120, "only {checked} OBX checked");
}
