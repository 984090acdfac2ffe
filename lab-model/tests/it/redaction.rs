//! Identifying data never reaches `Debug` output, and always reaches JSON.

use labwire_model::EventKind;

use crate::fixtures::{PHI_MARKERS, every_kind};

#[test]
fn debug_output_of_every_event_kind_holds_no_identifier() {
    for event in every_kind() {
        for printed in [format!("{event:?}"), format!("{event:#?}")] {
            for marker in PHI_MARKERS {
                assert!(
                    !printed.contains(marker),
                    "{marker} leaked into Debug of {:?}",
                    event.kind()
                );
            }
            let holds_protected_fields = matches!(
                event.kind(),
                EventKind::Results
                    | EventKind::Qc
                    | EventKind::ImagingStudy
                    | EventKind::WorkOrder
                    | EventKind::Query
            );
            assert_eq!(
                printed.contains("<redacted>"),
                holds_protected_fields,
                "{:?}",
                event.kind()
            );
        }
    }
}

#[test]
fn json_keeps_every_identifier() {
    let json = serde_json::to_string(&every_kind()).unwrap();
    for marker in PHI_MARKERS {
        assert!(json.contains(marker), "{marker} missing from JSON");
    }
}

#[test]
fn only_status_and_instrument_meta_are_free_of_personal_data() {
    for event in every_kind() {
        let identifying = PHI_MARKERS
            .iter()
            .any(|m| serde_json::to_string(&event).unwrap().contains(m));
        if identifying {
            assert!(event.may_identify_a_person(), "{:?}", event.kind());
        }
    }
}
