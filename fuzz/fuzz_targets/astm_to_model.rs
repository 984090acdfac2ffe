//! Any message that parses maps to lab events without a panic, under every dialect.
#![no_main]

use labwire_astm::model::{Dialect, to_events};
use labwire_astm::record::{RecordOptions, parse_messages};

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    if let Ok((messages, _)) = parse_messages(bytes, &RecordOptions::default()) {
        for message in &messages {
            for dialect in [Dialect::generic(), Dialect::sysmex_xn(), Dialect::roche_cobas()] {
                let _ = to_events(message, &dialect);
            }
        }
    }
});
