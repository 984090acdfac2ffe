//! Every timestamp parser on arbitrary text: never a panic, and whatever parses
//! writes back to text that parses to the same value.
#![no_main]

use labwire_model::{DicomTime, LabTimestamp};

libfuzzer_sys::fuzz_target!(|text: &str| {
    if let Ok(t) = LabTimestamp::parse_hl7(text) {
        assert_eq!(LabTimestamp::parse_hl7(&t.format_hl7()), Ok(t));
        assert_eq!(LabTimestamp::parse_iso8601(&t.to_iso8601()), Ok(t));
    }
    if let Ok(t) = LabTimestamp::parse_astm(text) {
        assert_eq!(LabTimestamp::parse_astm(&t.format_astm()), Ok(t));
    }
    if let Ok(t) = LabTimestamp::parse_dicom_dt(text) {
        assert_eq!(LabTimestamp::parse_dicom_dt(&t.format_dicom_dt().unwrap()), Ok(t));
    }
    if let Ok(t) = LabTimestamp::parse_dicom_da(text) {
        assert_eq!(LabTimestamp::parse_dicom_da(&t.format_dicom_da().unwrap()), Ok(t));
    }
    if let Ok(t) = DicomTime::parse_dicom_tm(text) {
        assert_eq!(DicomTime::parse_dicom_tm(&t.format_dicom_tm()), Ok(t));
    }
    if let Ok(t) = LabTimestamp::parse_rfc3339(text) {
        assert_eq!(LabTimestamp::parse_rfc3339(&t.to_rfc3339().unwrap()), Ok(t));
    }
    if let Ok(t) = LabTimestamp::parse_iso8601(text) {
        // Not `to_iso8601() == text`: `Z`, `+00:00` and `-00:00` all read as UTC.
        assert_eq!(LabTimestamp::parse_iso8601(&t.to_iso8601()), Ok(t));
    }
    let _ = labwire_model::parse_utc_offset(text);
});
