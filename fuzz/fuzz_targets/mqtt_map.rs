//! Any event maps under every privacy profile without a panic, and its topic is
//! always the configured one.
#![no_main]

use labwire_model::LabEvent;
use labwire_model::mqtt::{self, MapContext, MappingConfig, PrivacyProfile, PseudonymKey};

libfuzzer_sys::fuzz_target!(|input: (LabEvent, u8)| {
    let (event, profile) = input;
    let profile = [
        PrivacyProfile::Full,
        PrivacyProfile::Pseudonymized,
        PrivacyProfile::Minimal,
        PrivacyProfile::IdOnly,
    ][usize::from(profile % 4)];
    let key = PseudonymKey::new(&[7; 16], "k1");
    let config = MappingConfig::new("site", "gw", profile, key)
        .and_then(|config| config.with_instrument("an-01"))
        .unwrap();
    let ids = mqtt::SequentialMsgIds::new(1);
    let now = labwire_model::LabTimestamp::parse_rfc3339("2024-01-01T00:00:00Z").unwrap();
    let context = MapContext { now, msg_ids: &ids };
    for message in mqtt::map(&event, &config, &context).unwrap() {
        assert!(message.topic.as_str().starts_with("lab/v1/site/lab/an-01/"));
    }
});
