//! Any header maps to an ImagingStudy without a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    if let Ok(header) = labwire_dicom_meta::parse(bytes) {
        let _ = labwire_dicom_meta::model::lab_event(&header);
    }
});
