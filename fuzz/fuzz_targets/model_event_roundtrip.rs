//! Structured fuzzing: arbitrary valid events survive JSON unchanged.
#![no_main]

use labwire_model::LabEvent;

libfuzzer_sys::fuzz_target!(|event: LabEvent| {
    let json = serde_json::to_vec(&event).unwrap();
    assert_eq!(serde_json::from_slice::<LabEvent>(&json).unwrap(), event);
});
