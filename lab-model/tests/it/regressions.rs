//! One test per bug or surprise found, named after it.

use labwire_model::LabTimestamp;

/// Found by `fuzz/model_timestamp` on its first run: `2024-03-00:00` (a month with
/// the offset `-00:00`) reads as UTC and writes back as `2024-03Z`. Every spelling of
/// a zero offset reads as the same value; the JSON form always writes `Z`.
#[test]
fn fuzz_iso8601_zero_offset_spellings_read_as_one_value() {
    let spellings = ["2024-03Z", "2024-03+00:00", "2024-03-00:00"];
    let values: Vec<LabTimestamp> = spellings
        .iter()
        .map(|text| LabTimestamp::parse_iso8601(text).unwrap())
        .collect();
    for value in &values {
        assert_eq!(value, &values[0]);
        assert_eq!(value.to_iso8601(), "2024-03Z");
        assert_eq!(value.offset_minutes(), Some(0));
    }
    // The month stays a month: `-00:00` after `2024-03` is an offset, not a day.
    assert_eq!(values[2].precision(), labwire_model::Precision::Month);
}
