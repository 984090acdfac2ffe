//! Any bytes parse to a message whose every value can be read, or to an error.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    if let Ok(message) = labwire_hl7::Message::parse(bytes, &labwire_hl7::ParseOptions::default()) {
        for segment in message.segments() {
            for field in segment.fields() {
                for repetition in field.repetitions() {
                    for component in repetition.components() {
                        let _ = component.decoded();
                    }
                }
            }
        }
        let _ = message.get("OBX(2)-5.1");
    }
});
