//! What parses writes back byte for byte, directly and through the editable form.
#![no_main]

use labwire_hl7::{Message, OwnedMessage, ParseOptions};

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let Ok(message) = Message::parse(bytes, &ParseOptions::default()) else { return };
    assert_eq!(message.to_bytes(), message.as_bytes());
    assert_eq!(OwnedMessage::from_message(&message).to_bytes(), message.as_bytes());
});
