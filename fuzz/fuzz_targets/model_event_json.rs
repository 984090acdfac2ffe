//! A lab event read from arbitrary JSON bytes: never a panic, and whatever reads
//! writes back to JSON that reads to the same event.
#![no_main]

use labwire_model::LabEvent;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(event) = serde_json::from_slice::<LabEvent>(data) {
        let json = serde_json::to_vec(&event).unwrap();
        assert_eq!(serde_json::from_slice::<LabEvent>(&json).unwrap(), event);
    }
});
