//! Any bytes either fail to parse with an error or give messages whose records and
//! fields can all be read.
#![no_main]

use labwire_astm::record::{RecordOptions, parse_messages};

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    if let Ok((messages, _)) = parse_messages(bytes, &RecordOptions::default()) {
        for message in &messages {
            for record in message.records() {
                for field in record.fields() {
                    let _ = field.text();
                    let _ = field.repeat(2).component(4).text();
                }
            }
        }
    }
});
