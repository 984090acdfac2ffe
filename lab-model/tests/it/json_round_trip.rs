//! `LabEvent` → JSON → `LabEvent` is the identity, on arbitrary events.
//!
//! Events come from the `arbitrary` implementations (which produce only valid
//! values) driven by proptest's byte vectors, so failures shrink to a small input.

use arbitrary::{Arbitrary, Unstructured};
use labwire_model::{EventKind, LabEvent};
use proptest::prelude::*;

fn event_from(bytes: &[u8]) -> Option<LabEvent> {
    LabEvent::arbitrary(&mut Unstructured::new(bytes)).ok()
}

fn assert_round_trip(event: &LabEvent) -> Result<(), TestCaseError> {
    let json = serde_json::to_string(event).unwrap();
    let back: LabEvent = serde_json::from_str(&json)
        .map_err(|err| TestCaseError::fail(format!("{err} in {json}")))?;
    prop_assert_eq!(&back, event);
    // Writing again gives the same text: the JSON form is canonical.
    prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn lab_event_json_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..6000)) {
        if let Some(event) = event_from(&bytes) {
            assert_round_trip(&event)?;
        }
    }

    #[test]
    fn pretty_json_reads_back_too(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        if let Some(event) = event_from(&bytes) {
            let json = serde_json::to_string_pretty(&event).unwrap();
            prop_assert_eq!(serde_json::from_str::<LabEvent>(&json).unwrap(), event);
        }
    }

    #[test]
    fn hostile_json_is_an_error_not_a_panic(text in ".{0,400}") {
        let _ = serde_json::from_str::<LabEvent>(&text);
    }
}

/// A deterministic byte stream (xorshift), so the coverage check below is stable.
fn pseudo_random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// The property above is only as good as its generator: check that it reaches
/// every event kind and fills the deep fields, not just empty shells.
#[test]
fn the_generator_reaches_every_kind_and_deep_fields() {
    let mut kinds = std::collections::HashSet::new();
    let (mut results, mut timestamps, mut phi) = (0_usize, 0_usize, 0_usize);
    // About 60 seeds per kind: results (with their patient ids) are one kind in
    // `EventKind::ALL.len()`, so the count grows with the kinds.
    for seed in 0..60 * EventKind::ALL.len() as u64 {
        let Some(event) = event_from(&pseudo_random_bytes(seed, 4096)) else {
            continue;
        };
        assert_round_trip(&event).unwrap();
        kinds.insert(event.kind());
        let json = serde_json::to_string(&event).unwrap();
        results += json.matches("\"status\":").count();
        timestamps += json.matches("_at\":").count();
        if let LabEvent::Results(report) = &event {
            phi += report.patient.as_ref().map_or(0, |p| p.ids.len());
        }
    }
    for kind in EventKind::ALL {
        assert!(kinds.contains(&kind), "{kind:?} never generated");
    }
    assert!(results > 100, "only {results} results generated");
    assert!(timestamps > 100, "only {timestamps} timestamps generated");
    assert!(phi > 10, "only {phi} patient ids generated");
}
