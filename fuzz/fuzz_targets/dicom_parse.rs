//! Any bytes give a header (whole or partial) or a clear error, and every element
//! of a header can be read, in bounded memory (run with -rss_limit_mb).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    if let Ok(header) = labwire_dicom_meta::parse(bytes) {
        for element in header.data_set().iter() {
            let _ = element.string();
            let _ = element.person_name();
            let _ = element.date_time();
        }
        let _ = header.by_keyword("PatientName").map(|element| element.string());
    }
});
