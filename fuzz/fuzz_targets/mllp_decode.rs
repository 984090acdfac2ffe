//! The MLLP decoder survives any byte stream in any chunking, with a bounded buffer.
#![no_main]

use labwire_hl7::{MllpDecoder, Status};

libfuzzer_sys::fuzz_target!(|input: (Vec<u8>, u8)| {
    let (bytes, chunk) = input;
    let mut decoder = MllpDecoder::new(4096);
    for piece in bytes.chunks(usize::from(chunk).max(1)) {
        if decoder.push(piece).is_err() {
            // Full: drain, then the piece is accepted.
        }
        while let Ok(Status::Complete(frame)) = decoder.next_frame() {
            assert!(frame.payload.len() <= 4096);
        }
    }
});
