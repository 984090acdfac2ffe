//! A non-deflated header that parses completely writes back byte for byte, and the
//! bytes written parse again.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let Ok(header) = labwire_dicom_meta::parse(bytes) else { return };
    let Ok(written) = header.to_bytes() else { return };
    if header.is_complete() && !header.is_deflated() {
        assert_eq!(written.as_slice(), header.input().get(..written.len()).unwrap_or_default());
    }
    let _ = labwire_dicom_meta::parse(&written);
});
