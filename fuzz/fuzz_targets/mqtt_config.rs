//! Hostile configuration text is an error naming a field, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = labwire_model::mqtt::MappingConfig::from_json_str(text);
});
