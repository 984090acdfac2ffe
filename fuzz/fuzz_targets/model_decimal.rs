//! Decimal parsers on arbitrary text: never a panic; strict parsing keeps the text;
//! lenient parsing always yields a canonical decimal.
#![no_main]

use labwire_model::{Decimal, DecimalMark, Quantity, ReferenceRange};

libfuzzer_sys::fuzz_target!(|text: &str| {
    if let Ok(d) = Decimal::parse(text) {
        assert_eq!(d.as_str(), text);
    }
    for mark in [DecimalMark::Point, DecimalMark::Comma] {
        if let Ok(d) = Decimal::parse_lenient(text, mark) {
            assert_eq!(Decimal::parse(d.as_str()).as_ref(), Ok(&d));
        }
        let _ = Quantity::parse_lenient(text, mark);
        let _ = ReferenceRange::parse_lenient(text, mark);
    }
    let _ = labwire_model::LoincCode::parse(text);
});
