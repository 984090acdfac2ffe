//! The frame decoder takes any byte stream without a panic or unbounded growth.
#![no_main]

use labwire_astm::frame::FrameDecoder;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let mut decoder = FrameDecoder::new(1024);
    decoder.decode_each(bytes, |_| {});
});
