//! The MQTT mapping: golden outputs, the privacy guarantees, the QoS/retain policy,
//! and payloads against their JSON Schemas.

use std::collections::BTreeSet;
use std::path::PathBuf;

use arbitrary::{Arbitrary, Unstructured};
use labwire_model::mqtt::{
    self, MapContext, MapError, MappingConfig, Outbound, PayloadFormat, PrivacyProfile,
    PseudonymKey, SequentialMsgIds, TopicName,
};
use labwire_model::*;
use proptest::prelude::*;
use serde_json::Value;

use crate::fixtures::{LOG_FILE_MARKER, LOG_TEXT_MARKER, PHI_MARKERS, every_kind};
use crate::mqtt_schema::{closed, documents, file_name, schema_dir};

/// The fast paths against independent oracles (declared here: `main.rs` lists the
/// test modules and is not part of the MQTT files).
#[path = "mqtt_fast.rs"]
mod fast;

const PROFILES: [PrivacyProfile; 4] = [
    PrivacyProfile::Full,
    PrivacyProfile::Pseudonymized,
    PrivacyProfile::Minimal,
    PrivacyProfile::IdOnly,
];

fn key() -> PseudonymKey {
    PseudonymKey::from_hex("000102030405060708090a0b0c0d0e0f", "k2024a").unwrap()
}

fn config(profile: PrivacyProfile, format: PayloadFormat) -> MappingConfig {
    MappingConfig::new("site-a", "gw-01", profile, Some(key()))
        .unwrap()
        .with_area("chem")
        .unwrap()
        .with_instrument("an-01")
        .unwrap()
        .with_route("wsi-01", "wsi-01", Some("pathology"))
        .unwrap()
        .with_format(format)
}

fn now() -> LabTimestamp {
    LabTimestamp::parse_rfc3339("2024-03-01T09:15:12.5Z").unwrap()
}

fn map_with(event: &LabEvent, config: &MappingConfig, seed: u64) -> Vec<Outbound> {
    let ids = SequentialMsgIds::new(seed);
    let context = MapContext {
        now: now(),
        msg_ids: &ids,
    };
    mqtt::map(event, config, &context).unwrap()
}

fn only(mut messages: Vec<Outbound>) -> Outbound {
    assert_eq!(messages.len(), 1);
    messages.pop().unwrap()
}

/// What the golden files pin besides the payload bytes.
fn metadata(message: &Outbound) -> Value {
    serde_json::json!({
        "topic": message.topic,
        "qos": message.qos,
        "retain": message.retain,
        "properties": message.properties,
    })
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/mqtt")
}

/// Compares (or with `LABWIRE_BLESS=1` writes) one golden file.
fn check_golden(name: &str, bytes: &[u8]) {
    let path = golden_dir().join(name);
    if std::env::var_os("LABWIRE_BLESS").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
    let golden = std::fs::read(&path)
        .unwrap_or_else(|err| panic!("{}: {err}; bless to create it", path.display()));
    assert!(
        golden == bytes,
        "{} differs; if the change is intended, rerun with LABWIRE_BLESS=1 and say why in the commit",
        path.display()
    );
}

/// Every event kind under every profile: topic, QoS, retain, properties and the
/// exact payload bytes. The JSON golden is the metadata line, then the payload.
#[test]
fn golden_outputs_for_every_kind_and_profile() {
    for profile in PROFILES {
        let config = config(profile, PayloadFormat::Json);
        for event in every_kind() {
            let message = only(map_with(&event, &config, 7));
            let mut golden = serde_json::to_vec(&metadata(&message)).unwrap();
            golden.push(b'\n');
            golden.extend_from_slice(&message.payload);
            golden.push(b'\n');
            let name = format!(
                "{}.{}.json",
                mqtt::topic_kind(event.kind()),
                profile.as_str()
            );
            check_golden(&name, &golden);
        }
    }
}

#[test]
fn golden_cbor_payloads_have_the_json_structure() {
    let json_config = config(PrivacyProfile::Pseudonymized, PayloadFormat::Json);
    let cbor_config = config(PrivacyProfile::Pseudonymized, PayloadFormat::Cbor);
    for event in every_kind() {
        let json = only(map_with(&event, &json_config, 7));
        let cbor = only(map_with(&event, &cbor_config, 7));
        check_golden(
            &format!("{}.pseudonymized.cbor", mqtt::topic_kind(event.kind())),
            &cbor.payload,
        );
        let from_cbor: Value = ciborium::from_reader(cbor.payload.as_slice()).unwrap();
        let from_json: Value = serde_json::from_slice(&json.payload).unwrap();
        assert_eq!(from_cbor, from_json, "{:?}", event.kind());
        assert_eq!(cbor.topic, json.topic);
        assert_eq!(cbor.properties.content_type, "application/cbor");
        assert_eq!(cbor.properties.payload_format_indicator, 0);
        assert_eq!(json.properties.content_type, "application/json");
        assert_eq!(json.properties.payload_format_indicator, 1);
        assert!(cbor.payload.len() < json.payload.len());
    }
}

#[test]
fn identifiers_never_leave_the_site_except_under_full() {
    for profile in PROFILES {
        let config = config(profile, PayloadFormat::Json);
        for event in every_kind() {
            let message = only(map_with(&event, &config, 1));
            let payload = String::from_utf8(message.payload.clone()).unwrap();
            let outside_payload = serde_json::to_string(&metadata(&message)).unwrap();
            for marker in PHI_MARKERS {
                assert!(
                    !outside_payload.contains(marker),
                    "{marker} in {outside_payload}"
                );
                if profile != PrivacyProfile::Full {
                    assert!(
                        !payload.contains(marker),
                        "{marker} in a {} payload: {payload}",
                        profile.as_str()
                    );
                }
            }
        }
    }
    // The markers do reach a `full` payload, so the check above can fail.
    let full = only(map_with(
        &every_kind()[0],
        &config(PrivacyProfile::Full, PayloadFormat::Json),
        1,
    ));
    assert!(
        String::from_utf8(full.payload)
            .unwrap()
            .contains("PHI-MRN-4711")
    );
}

/// A device log's text and file name are free text an operator may have typed a
/// sample id into: only `full` publishes them; the other profiles keep the kind and
/// the times (`id-only` publishes an empty token list, as for alarms).
#[test]
fn equipment_log_text_and_file_name_are_published_under_full_only() {
    let log = every_kind()
        .into_iter()
        .find(|event| event.kind() == EventKind::Log)
        .unwrap();
    assert!(log.may_identify_a_person());
    for profile in PROFILES {
        let message = only(map_with(&log, &config(profile, PayloadFormat::Json), 1));
        assert_eq!(message.topic.as_str(), "lab/v1/site-a/chem/an-01/log");
        assert!(!message.retain);
        assert_eq!(message.properties.message_expiry_interval, None);
        let text = String::from_utf8(message.payload.clone()).unwrap();
        let payload: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(payload["schema"], "lab.log/1");
        let body = &payload["body"];
        let published = profile == PrivacyProfile::Full;
        for marker in [LOG_TEXT_MARKER, LOG_FILE_MARKER] {
            assert_eq!(
                text.contains(marker),
                published,
                "{marker} under {profile:?}"
            );
        }
        match profile {
            PrivacyProfile::IdOnly => assert_eq!(body, &serde_json::json!({})),
            _ => {
                assert_eq!(body["kind"]["code"], "LOG");
                assert_eq!(body["started_at"], "2024-03-01T06:00:00+01:00");
                assert_eq!(body["ended_at"], "2024-03-01T10:18:00+01:00");
                assert_eq!(body.get("text").is_some(), published);
                assert_eq!(body.get("file_name").is_some(), published);
            }
        }
    }
}

#[test]
fn pseudonymized_tokens_are_stable_and_keyed() {
    let event = &every_kind()[0];
    let payload = |key: PseudonymKey| {
        let config =
            MappingConfig::new("site-a", "gw-01", PrivacyProfile::Pseudonymized, Some(key))
                .unwrap()
                .with_instrument("an-01")
                .unwrap();
        let message = only(map_with(event, &config, 1));
        serde_json::from_slice::<Value>(&message.payload).unwrap()
    };
    let first = payload(key());
    let again = payload(key());
    let other = payload(PseudonymKey::new(&[9; 16], "k2").unwrap());
    let token = &first["body"]["patient"]["ids"][0]["value"];
    assert!(token.as_str().unwrap().starts_with("pt_"), "{token}");
    assert_eq!(token, &again["body"]["patient"]["ids"][0]["value"]);
    assert_ne!(token, &other["body"]["patient"]["ids"][0]["value"]);
    assert_eq!(first["body"]["patient"].get("name"), None);
    assert_eq!(first["body"]["patient"].get("birth_date"), None);
    assert_eq!(first["body"]["patient"]["sex"], "F");
    assert!(
        first["body"]["specimen"]["ids"][0]["value"]
            .as_str()
            .unwrap()
            .starts_with("sp_")
    );
    assert!(
        first["body"]["order"]["placer_id"]["value"]
            .as_str()
            .unwrap()
            .starts_with("or_")
    );
    assert!(
        first["body"]["results"][0]["operator"]
            .as_str()
            .unwrap()
            .starts_with("op_")
    );
    assert_eq!(first["token_kid"], "k2024a");
}

#[test]
fn result_ids_survive_a_resend_and_a_correction() {
    let config = config(PrivacyProfile::Pseudonymized, PayloadFormat::Json);
    let LabEvent::Results(original) = every_kind().remove(0) else {
        panic!("the first fixture is a results event")
    };
    let ids_of = |report: &ResultReport| {
        let message = only(map_with(&LabEvent::Results(report.clone()), &config, 3));
        let payload: Value = serde_json::from_slice(&message.payload).unwrap();
        payload["result_ids"].as_array().unwrap().clone()
    };
    let first = ids_of(&original);
    assert_eq!(
        first.len(),
        original.results.len() - 1,
        "one result is preliminary"
    );
    let unique: BTreeSet<String> = first.iter().map(|id| id.to_string()).collect();
    assert_eq!(
        unique.len(),
        first.len(),
        "ids are distinct within a report"
    );

    let mut corrected = original.clone();
    corrected.provenance.message_id = Some("MSG-CORRECTION".into());
    corrected.results[0].status = ResultStatus::from_code("C");
    corrected.results[0].value =
        ResultValue::Quantity(Quantity::new(Decimal::parse("5.50").unwrap()));
    assert_eq!(ids_of(&corrected)[0], first[0]);

    let mut other_specimen = original.clone();
    other_specimen.specimen.as_mut().unwrap().ids[0] = Sensitive::new(Identifier::new("S-OTHER"));
    assert_ne!(ids_of(&other_specimen)[0], first[0]);
}

#[test]
fn preliminary_results_follow_the_configuration() {
    let event = LabEvent::Results(ResultReport {
        instrument: Instrument::with_local_id("x"),
        results: vec![LabResult::new(
            Coding::local("GLU"),
            ResultValue::text("pending"),
            ResultStatus::from_code("P"),
        )],
        ..ResultReport::default()
    });
    let withheld = config(PrivacyProfile::Full, PayloadFormat::Json);
    assert!(map_with(&event, &withheld, 1).is_empty());
    let published = withheld.clone().with_preliminary_results(true);
    assert_eq!(map_with(&event, &published, 1).len(), 1);
}

#[test]
fn qos_retain_and_expiry_follow_the_policy() {
    let config = config(PrivacyProfile::Pseudonymized, PayloadFormat::Json);
    for event in every_kind() {
        let message = only(map_with(&event, &config, 1));
        let kind = event.kind();
        assert_eq!(message.qos, mqtt::QoS::AtLeastOnce);
        assert_eq!(
            message.retain,
            matches!(kind, EventKind::Status | EventKind::InstrumentMeta),
            "{kind:?}"
        );
        if message.retain {
            assert!(
                !event.may_identify_a_person(),
                "{kind:?} is retained but may identify a person"
            );
        }
        let expected_expiry =
            (kind == EventKind::Alarm).then_some(mqtt::DEFAULT_ALARM_EXPIRY_SECONDS);
        assert_eq!(
            message.properties.message_expiry_interval, expected_expiry,
            "{kind:?}"
        );
        let names: Vec<&str> = message
            .properties
            .user_properties
            .iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(names, ["schema", "msg-id", "src"]);
    }
}

#[test]
fn gateway_birth_and_will_are_retained_liveness() {
    let config = config(PrivacyProfile::Pseudonymized, PayloadFormat::Cbor);
    let birth = mqtt::gateway_birth(&config).unwrap();
    let will = mqtt::gateway_will(&config).unwrap();
    assert_eq!(birth.topic.as_str(), "lab/v1/site-a/_gw/gw-01/status");
    assert_eq!(will.topic, birth.topic);
    assert_eq!(birth.payload, br#"{"online":true}"#);
    assert_eq!(will.payload, br#"{"online":false}"#);
    assert!(birth.retain && will.retain);
    assert_eq!(birth.properties.content_type, "application/json");
}

#[test]
fn instruments_are_routed_by_configuration_only() {
    let config = MappingConfig::new("site-a", "gw-01", PrivacyProfile::Full, None)
        .unwrap()
        .with_route("AU5800-01", "au-01", Some("chem"))
        .unwrap();
    let mut status = EquipmentStatus {
        instrument: Instrument::with_local_id("AU5800-01"),
        ..EquipmentStatus::default()
    };
    let message = only(map_with(&LabEvent::Status(status.clone()), &config, 1));
    assert_eq!(message.topic.as_str(), "lab/v1/site-a/chem/au-01/status");

    status.instrument = Instrument::with_local_id("UNKNOWN-9");
    let ids = SequentialMsgIds::new(1);
    let context = MapContext {
        now: now(),
        msg_ids: &ids,
    };
    let error = mqtt::map(&LabEvent::Status(status), &config, &context).unwrap_err();
    assert_eq!(
        error,
        MapError::NoRoute {
            instrument: "UNKNOWN-9".into()
        }
    );
}

/// The compiled, closed validators, by schema name.
fn validators() -> Vec<(String, jsonschema::Validator)> {
    documents()
        .into_iter()
        .map(|(name, _)| {
            let text = std::fs::read_to_string(schema_dir().join(file_name(name))).unwrap();
            let document: Value = serde_json::from_str(&text).unwrap();
            (
                name.to_owned(),
                jsonschema::validator_for(&closed(&document)).unwrap(),
            )
        })
        .collect()
}

fn validate(validators: &[(String, jsonschema::Validator)], payload: &[u8]) -> Result<(), String> {
    let payload: Value = serde_json::from_slice(payload).map_err(|err| err.to_string())?;
    let name = payload["schema"].as_str().ok_or("no schema field")?;
    let (_, validator) = validators
        .iter()
        .find(|(known, _)| known == name)
        .ok_or_else(|| format!("no schema document for {name}"))?;
    let errors: Vec<String> = validator
        .iter_errors(&payload)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{name}: {}\n{payload}", errors.join("; ")))
    }
}

#[test]
fn fixture_payloads_match_their_schemas() {
    let validators = validators();
    for profile in PROFILES {
        let config = config(profile, PayloadFormat::Json);
        for event in every_kind() {
            let message = only(map_with(&event, &config, 1));
            validate(&validators, &message.payload).unwrap();
        }
    }
    let config = config(PrivacyProfile::Full, PayloadFormat::Json);
    for message in [
        mqtt::gateway_birth(&config).unwrap(),
        mqtt::gateway_will(&config).unwrap(),
    ] {
        let text = String::from_utf8(message.payload).unwrap();
        let with_schema = format!(r#"{{"schema":"lab.gateway/1",{}"#, &text[1..]);
        let (_, validator) = validators
            .iter()
            .find(|(name, _)| name == "lab.gateway/1")
            .unwrap();
        let mut value: Value = serde_json::from_str(&with_schema).unwrap();
        value.as_object_mut().unwrap().remove("schema");
        assert!(validator.is_valid(&value));
    }
}

#[test]
fn a_schema_catches_a_wrong_payload() {
    let validators = validators();
    let config = config(PrivacyProfile::Full, PayloadFormat::Json);
    let message = only(map_with(&every_kind()[0], &config, 1));
    let mut payload: Value = serde_json::from_slice(&message.payload).unwrap();
    payload["body"]["results"][0]["value"]["value"] = Value::from(5.4);
    assert!(validate(&validators, payload.to_string().as_bytes()).is_err());
    payload["body"]["results"][0]["value"]["value"] = Value::from("5.40");
    payload["body"]["surprise"] = Value::from(1);
    assert!(validate(&validators, payload.to_string().as_bytes()).is_err());
}

fn event_from(bytes: &[u8]) -> Option<LabEvent> {
    LabEvent::arbitrary(&mut Unstructured::new(bytes)).ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Whatever an event contains, its topic is the one the configuration gives its
    /// kind, and the user properties are the closed set. So no identifier, and no
    /// text at all from the instrument, can reach a topic or a property.
    #[test]
    fn topics_and_properties_come_from_configuration_only(
        bytes in proptest::collection::vec(any::<u8>(), 0..4000),
        profile_index in 0usize..4,
    ) {
        let Some(event) = event_from(&bytes) else { return Ok(()) };
        let config = config(PROFILES[profile_index], PayloadFormat::Json).with_preliminary_results(true);
        let ids = SequentialMsgIds::new(42);
        let context = MapContext { now: now(), msg_ids: &ids };
        let messages = mqtt::map(&event, &config, &context).unwrap();
        prop_assert_eq!(messages.len(), 1);
        let message = &messages[0];
        let kind = mqtt::topic_kind(event.kind());
        let area = if event.instrument().local_id.as_deref() == Some("wsi-01")
            || event.instrument().name.as_deref() == Some("wsi-01")
            || event.instrument().serial_number.as_deref() == Some("wsi-01")
        {
            "pathology/wsi-01"
        } else {
            "chem/an-01"
        };
        let expected = TopicName::new(&format!("lab/v1/site-a/{area}/{kind}")).unwrap();
        prop_assert_eq!(&message.topic, &expected);
        let schema = mqtt::schema_name(event.kind());
        let protocol = event.provenance().protocol.known_code().unwrap_or("other");
        let properties: Vec<(&str, &str)> = message
            .properties
            .user_properties
            .iter()
            .collect();
        let msg_id = properties[1].1;
        prop_assert!(msg_id.starts_with("00000000-0000-802a-8000-"), "{}", msg_id);
        prop_assert_eq!(properties, vec![("schema", schema), ("msg-id", msg_id), ("src", protocol)]);
    }

    /// Arbitrary events under every profile produce payloads their schema accepts.
    #[test]
    fn arbitrary_payloads_match_their_schemas(
        bytes in proptest::collection::vec(any::<u8>(), 0..3000),
        profile_index in 0usize..4,
    ) {
        thread_local! {
            static VALIDATORS: Vec<(String, jsonschema::Validator)> = validators();
        }
        let Some(event) = event_from(&bytes) else { return Ok(()) };
        let config = config(PROFILES[profile_index], PayloadFormat::Json).with_preliminary_results(true);
        for message in map_with(&event, &config, 5) {
            VALIDATORS.with(|validators| validate(validators, &message.payload))
                .map_err(TestCaseError::fail)?;
        }
    }

    /// CBOR and JSON payloads carry the same structure, for any event.
    #[test]
    fn cbor_and_json_agree(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let Some(event) = event_from(&bytes) else { return Ok(()) };
        let json = map_with(&event, &config(PrivacyProfile::Pseudonymized, PayloadFormat::Json).with_preliminary_results(true), 9);
        let cbor = map_with(&event, &config(PrivacyProfile::Pseudonymized, PayloadFormat::Cbor).with_preliminary_results(true), 9);
        let json: Value = serde_json::from_slice(&json[0].payload).unwrap();
        let cbor: Value = ciborium::from_reader(cbor[0].payload.as_slice()).unwrap();
        prop_assert_eq!(json, cbor);
    }
}
