//! Any message that parses maps to lab events (or a clear error) and gets an ACK;
//! any that does not still gets a reject ACK. Never a panic.
#![no_main]

use labwire_hl7::{Ack, AcknowledgmentCode, MapOptions, Message, ParseOptions};

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let ack = Ack::new(AcknowledgmentCode::ApplicationAccept, "ACK-1", "20240101120000");
    match Message::parse(bytes, &ParseOptions::default()) {
        Ok(message) => {
            let _ = labwire_hl7::to_events(&message, &MapOptions::default());
            let _ = ack.for_message(&message);
        }
        Err(error) => {
            let _ = ack.for_parse_error(bytes, &error);
        }
    }
});
