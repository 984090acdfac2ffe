//! A header that parses writes back byte for byte (a deflated data set as the deflate
//! stream it was read from), the whole file too unless a deflated data set was cut at
//! the inflate limit, and the bytes written parse again.
#![no_main]

use labwire_dicom_meta::WarningKind;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let Ok(header) = labwire_dicom_meta::parse(bytes) else { return };
    let Ok(written) = header.to_bytes() else { return };
    assert_eq!(written.as_slice(), header.input().get(..written.len()).unwrap_or_default());
    let capped = header
        .warnings()
        .iter()
        .any(|w| matches!(w.kind, WarningKind::InflateCapped { .. }));
    if !capped {
        assert_eq!(header.editor().write_file().ok().as_deref(), Some(header.input()));
    }
    let _ = labwire_dicom_meta::parse(&written);
});
