//! The fast mapping paths (the hand-written results writer, the fast JSON and CBOR
//! writers, the token cache) against oracles outside the mapping: the model's own
//! serde output, and the mapping with the cache off.

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use labwire_model::mqtt::{
    self, MapContext, MappingConfig, Outbound, PayloadFormat, PrivacyProfile, PseudonymKey,
    SequentialMsgIds,
};
use labwire_model::*;
use proptest::prelude::*;

use crate::fixtures::every_kind;

const PROFILES: [PrivacyProfile; 4] = [
    PrivacyProfile::Full,
    PrivacyProfile::Pseudonymized,
    PrivacyProfile::Minimal,
    PrivacyProfile::IdOnly,
];

fn config(profile: PrivacyProfile, format: PayloadFormat) -> MappingConfig {
    let key = PseudonymKey::from_hex("000102030405060708090a0b0c0d0e0f", "k2024a").unwrap();
    MappingConfig::new("site-a", "gw-01", profile, Some(key))
        .unwrap()
        .with_area("chem")
        .unwrap()
        .with_instrument("an-01")
        .unwrap()
        .with_format(format)
        .with_preliminary_results(true)
}

fn map_with(event: &LabEvent, config: &MappingConfig, seed: u64) -> Outbound {
    let ids = SequentialMsgIds::new(seed);
    let context = MapContext {
        now: LabTimestamp::parse_rfc3339("2024-03-01T09:15:12.5Z").unwrap(),
        msg_ids: &ids,
    };
    mqtt::map_one(event, config, &context).unwrap().unwrap()
}

/// The event's own serde JSON without the `type` tag: what the `body` of a `full`
/// payload is, byte for byte. The tag is the first key of an internally tagged enum.
fn body_json(event: &LabEvent) -> String {
    let json = serde_json::to_string(event).unwrap();
    let tag = format!(
        r#"{{"type":"{}""#,
        serde_json::to_value(event.kind())
            .unwrap()
            .as_str()
            .unwrap()
    );
    let rest = json.strip_prefix(&tag).unwrap();
    match rest.strip_prefix(',') {
        Some(fields) => format!("{{{fields}"),
        None => format!("{{{rest}"),
    }
}

/// The same for CBOR: the event's fields as a map, through `ciborium`.
fn body_cbor(event: &LabEvent) -> Vec<u8> {
    let mut value: ciborium::Value = ciborium::Value::serialized(event).unwrap();
    if let ciborium::Value::Map(entries) = &mut value {
        entries.retain(|(key, _)| key.as_text() != Some("type"));
    }
    let mut bytes = Vec::new();
    ciborium::into_writer(&value, &mut bytes).unwrap();
    bytes
}

/// Under `full` the body is the event as the model serializes it, and it is the
/// envelope's last field: the payload ends with exactly those bytes.
fn check_full_body(event: &LabEvent) {
    let json = map_with(event, &config(PrivacyProfile::Full, PayloadFormat::Json), 1);
    let expected = format!(r#","body":{}}}"#, body_json(event));
    let payload = String::from_utf8(json.payload).unwrap();
    assert!(
        payload.ends_with(&expected),
        "{payload}\n does not end with\n{expected}"
    );
    let cbor = map_with(event, &config(PrivacyProfile::Full, PayloadFormat::Cbor), 1);
    let mut expected = b"\x64body".to_vec();
    expected.extend(body_cbor(event));
    assert!(cbor.payload.ends_with(&expected), "{event:?}");
}

#[test]
fn full_bodies_are_the_models_own_serialization() {
    for event in every_kind() {
        check_full_body(&event);
    }
}

#[test]
fn the_token_cache_never_changes_a_payload() {
    for profile in PROFILES {
        for format in [PayloadFormat::Json, PayloadFormat::Cbor] {
            let cached = config(profile, format);
            let uncached = config(profile, format).with_token_cache(false);
            assert!(cached.caches_tokens() && !uncached.caches_tokens());
            for event in every_kind() {
                let expected = map_with(&event, &uncached, 3);
                // First a miss, then hits.
                for _ in 0..3 {
                    assert_eq!(
                        map_with(&event, &cached, 3),
                        expected,
                        "{profile:?} {format:?}"
                    );
                }
            }
        }
    }
}

/// A report whose patient, specimen and order ids carry `n`.
fn numbered_report(n: usize) -> LabEvent {
    let mut result = LabResult::new(
        Coding::local("GLU"),
        ResultValue::Quantity(Quantity::new(Decimal::parse("5.40").unwrap())),
        ResultStatus::from_code("F"),
    );
    result.operator = Some(Sensitive::new((format!("OP-{}", n % 7)).into()));
    LabEvent::Results(ResultReport {
        instrument: Instrument::with_local_id("chem-01"),
        patient: Some(Patient {
            ids: vec![Sensitive::new(Identifier::new(format!("MRN-{n}")))],
            ..Patient::default()
        }),
        specimen: Some(Specimen {
            ids: vec![Sensitive::new(Identifier::new(format!("S-{}", n % 50)))],
            ..Specimen::default()
        }),
        order: Some(Order {
            placer_id: Some(Sensitive::new(Identifier::new(format!("P-{n}")))),
            ..Order::default()
        }),
        results: vec![result.clone(), result],
        ..ResultReport::default()
    })
}

#[test]
fn evicted_and_reused_tokens_stay_right() {
    // 500 reports, ids repeating at different periods: hits, misses and evictions.
    let cached = config(PrivacyProfile::Pseudonymized, PayloadFormat::Json);
    let uncached = cached.clone().with_token_cache(false);
    for n in 0..500 {
        let event = numbered_report(n);
        assert_eq!(
            map_with(&event, &cached, 8),
            map_with(&event, &uncached, 8),
            "{n}"
        );
    }
}

#[test]
fn a_config_shared_by_threads_maps_the_same_bytes() {
    // Threads contend for the cache; a mapping that finds it busy computes its tokens.
    let config = Arc::new(config(PrivacyProfile::Pseudonymized, PayloadFormat::Cbor));
    let uncached = config.as_ref().clone().with_token_cache(false);
    let expected: Vec<Outbound> = (0..200)
        .map(|n| map_with(&numbered_report(n), &uncached, 2))
        .collect();
    let expected = Arc::new(expected);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let config = Arc::clone(&config);
            let expected = Arc::clone(&expected);
            std::thread::spawn(move || {
                for round in 0..3 {
                    for n in 0..200 {
                        let message = map_with(&numbered_report(n), &config, 2);
                        assert_eq!(message, expected[n], "round {round}, report {n}");
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

#[test]
fn the_token_cache_is_configurable() {
    let text = r#"{
        "site": "site-a", "gateway": "gw-01", "instrument": "an-01",
        "pseudonymization": { "key_hex": "000102030405060708090a0b0c0d0e0f", "key_id": "k1" }
    }"#;
    assert!(MappingConfig::from_json_str(text).unwrap().caches_tokens());
    let off = text.replacen('{', r#"{ "token_cache": false,"#, 1);
    let config = MappingConfig::from_json_str(&off).unwrap();
    assert!(!config.caches_tokens());
    // Changing the key keeps the setting.
    let key = PseudonymKey::new(&[1; 16], "k2").unwrap();
    let config = config
        .with_privacy(PrivacyProfile::Pseudonymized, Some(key))
        .unwrap();
    assert!(!config.caches_tokens());
    let wrong = text.replacen('{', r#"{ "token_cache": "yes","#, 1);
    assert_eq!(
        MappingConfig::from_json_str(&wrong).unwrap_err().field,
        "token_cache"
    );
}

#[test]
fn topics_follow_configuration_changes() {
    let event = numbered_report(1);
    let config = config(PrivacyProfile::Pseudonymized, PayloadFormat::Json);
    assert_eq!(
        map_with(&event, &config, 1).topic.as_str(),
        "lab/v1/site-a/chem/an-01/result"
    );
    // Rendered topics are cached per route; every builder that changes one resets them.
    let config = config.with_area("hem").unwrap();
    assert_eq!(
        map_with(&event, &config, 1).topic.as_str(),
        "lab/v1/site-a/hem/an-01/result"
    );
    let config = config.with_instrument("an-02").unwrap();
    assert_eq!(
        map_with(&event, &config, 1).topic.as_str(),
        "lab/v1/site-a/hem/an-02/result"
    );
    let config = config
        .with_route("chem-01", "routed", Some("micro"))
        .unwrap();
    assert_eq!(
        map_with(&event, &config, 1).topic.as_str(),
        "lab/v1/site-a/micro/routed/result"
    );
    let config = config
        .with_topic_template("x/{site}/{instrument}/{kind}")
        .unwrap();
    assert_eq!(
        map_with(&event, &config, 1).topic.as_str(),
        "x/site-a/routed/result"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any event under `full`: the body is the model's own JSON and CBOR.
    #[test]
    fn any_full_body_is_the_models_own_serialization(
        bytes in proptest::collection::vec(any::<u8>(), 0..4000),
    ) {
        let Ok(event) = LabEvent::arbitrary(&mut Unstructured::new(&bytes)) else {
            return Ok(());
        };
        check_full_body(&event);
    }

    /// Any results report (the hand-written path) under `full`.
    #[test]
    fn any_full_results_body_is_the_models_own_serialization(
        bytes in proptest::collection::vec(any::<u8>(), 0..6000),
    ) {
        let Ok(report) = ResultReport::arbitrary(&mut Unstructured::new(&bytes)) else {
            return Ok(());
        };
        check_full_body(&LabEvent::Results(report));
    }

    /// Any results report under the protecting profiles: everything but the
    /// identifiers is the model's own JSON, and the cache changes nothing.
    #[test]
    fn protected_results_keep_everything_else(
        bytes in proptest::collection::vec(any::<u8>(), 0..6000),
    ) {
        let Ok(report) = ResultReport::arbitrary(&mut Unstructured::new(&bytes)) else {
            return Ok(());
        };
        let event = LabEvent::Results(report.clone());
        for profile in [PrivacyProfile::Pseudonymized, PrivacyProfile::Minimal] {
            let cached = config(profile, PayloadFormat::Json);
            let message = map_with(&event, &cached, 4);
            prop_assert_eq!(&message, &map_with(&event, &cached.clone().with_token_cache(false), 4));
            let payload: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
            let mut body = payload["body"].clone();
            let mut model = serde_json::to_value(&report).unwrap();
            for value in [&mut body, &mut model] {
                if let Some(map) = value.as_object_mut() {
                    for key in ["patient", "specimen", "order", "notes"] {
                        map.remove(key);
                    }
                    if let Some(results) = map.get_mut("results").and_then(|r| r.as_array_mut()) {
                        for result in results {
                            if let Some(result) = result.as_object_mut() {
                                result.remove("operator");
                                result.remove("notes");
                            }
                        }
                    }
                }
            }
            prop_assert_eq!(body, model);
        }
    }
}

/// RFC 4648 base32, lowercase, unpadded: the token alphabet, written plainly.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut bits = 0u32;
    let mut buffer = 0u32;
    let mut out = String::new();
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// A result id as the mapping documents it, computed with the `hmac` crate.
/// An identifier token as documented: the first 128 bits of HMAC-SHA256 over the
/// parts joined by `|`, in base32, after `prefix`.
fn oracle_token(prefix: &str, key: &[u8], parts: &[&str]) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(parts.join("|").as_bytes());
    format!("{prefix}{}", base32(&mac.finalize().into_bytes()[..16]))
}

/// SipHash-2-4 with a 128-bit output, written from the paper and the reference
/// `siphash.c` (`outlen = 16`) as plainly as possible: the oracle of result ids.
fn reference_siphash128(key: &[u8; 16], message: &[u8]) -> [u8; 16] {
    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }
    let k0 = u64::from_le_bytes(key[..8].try_into().unwrap());
    let k1 = u64::from_le_bytes(key[8..].try_into().unwrap());
    let mut v = [
        k0 ^ 0x736f6d6570736575,
        k1 ^ 0x646f72616e646f6d ^ 0xee,
        k0 ^ 0x6c7967656e657261,
        k1 ^ 0x7465646279746573,
    ];
    let mut padded = message.to_vec();
    while padded.len() % 8 != 7 {
        padded.push(0);
    }
    padded.push(message.len() as u8);
    for word in padded.chunks(8) {
        let m = u64::from_le_bytes(word.try_into().unwrap());
        v[3] ^= m;
        round(&mut v);
        round(&mut v);
        v[0] ^= m;
    }
    v[2] ^= 0xee;
    (0..4).for_each(|_| round(&mut v));
    let first = v[0] ^ v[1] ^ v[2] ^ v[3];
    v[1] ^= 0xdd;
    (0..4).for_each(|_| round(&mut v));
    let second = v[0] ^ v[1] ^ v[2] ^ v[3];
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&first.to_le_bytes());
    out[8..].copy_from_slice(&second.to_le_bytes());
    out
}

#[test]
fn the_reference_siphash_matches_the_published_vectors() {
    // `vectors_sip128` of github.com/veorq/SipHash `vectors.h`: key 00..0f, message
    // 00 01 .. of length 0 and 15.
    let key: [u8; 16] = std::array::from_fn(|index| index as u8);
    let message: Vec<u8> = (0..64).collect();
    assert_eq!(
        reference_siphash128(&key, &[]),
        [
            0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55,
            0x02, 0x93
        ]
    );
    assert_eq!(
        reference_siphash128(&key, &message[..15]),
        [
            0x54, 0x93, 0xe9, 0x99, 0x33, 0xb0, 0xa8, 0x11, 0x7e, 0x08, 0xec, 0x0f, 0x97, 0xcf,
            0xc3, 0xd9
        ]
    );
}

/// A result id as documented: SipHash-2-4-128 under the first 16 bytes of
/// HMAC-SHA256(key, "labwire result id 1"), over the parts joined by `|`.
fn oracle_result_id(key: &[u8], parts: &[&str]) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(b"labwire result id 1");
    let derived: [u8; 16] = mac.finalize().into_bytes()[..16].try_into().unwrap();
    let digest = reference_siphash128(&derived, parts.join("|").as_bytes());
    format!("rs_{}", base32(&digest))
}

/// Result ids whose inputs take one, two or three SHA-256 blocks, or are too long
/// for the token cache (and are hashed from their parts), with repeated results:
/// the ids of the payload are the documented keyed hash, cached or not, and the
/// identifier tokens are those of the documented `|value` inputs.
#[test]
fn result_ids_are_the_documented_keyed_hash_at_every_input_length() {
    let key: Vec<u8> = (0..16).collect();
    let cached = config(PrivacyProfile::Pseudonymized, PayloadFormat::Json);
    let uncached = cached.clone().with_token_cache(false);
    let result = |code: &str| {
        LabResult::new(
            Coding::local(code),
            ResultValue::Quantity(Quantity::new(Decimal::parse("1").unwrap())),
            ResultStatus::from_code("F"),
        )
    };
    // Systems whose URI the model formats, and a sub-id and a rerun.
    let mut coded = result("X1");
    coded.test.system = CodeSystem::Hl7Table(487);
    coded.sub_id = Some("2".into());
    let mut named = result("X2");
    named.test.system = CodeSystem::Local("99ABB".into());
    named.rerun = true;
    let mut other = result("X3");
    other.test.system = CodeSystem::Other("I10".into());
    // "site-a|an-01||<specimen>||P-1|local|GLU||" is 31 bytes plus the specimen id.
    for specimen_len in 0..=110 {
        let specimen = "S".repeat(specimen_len);
        let event = LabEvent::Results(ResultReport {
            specimen: Some(Specimen {
                ids: vec![Sensitive::new(Identifier::new(&specimen))],
                ..Specimen::default()
            }),
            order: Some(Order {
                placer_id: Some(Sensitive::new(Identifier::new("P-1"))),
                ..Order::default()
            }),
            results: vec![
                result("GLU"),
                result("NA"),
                result("GLU"),
                result("GLU"),
                coded.clone(),
                named.clone(),
                other.clone(),
            ],
            ..ResultReport::default()
        });
        let shared = ["site-a", "an-01", "", &specimen, "", "P-1"];
        let own = |result: &LabResult, occurrence: Option<&'static str>| {
            let system = result.test.system.uri();
            let mut parts: Vec<&str> = shared.to_vec();
            parts.extend([
                system.as_ref(),
                result.test.code.as_str(),
                result.sub_id.as_deref().unwrap_or(""),
                if result.rerun { "rerun" } else { "" },
            ]);
            parts.extend(occurrence);
            oracle_result_id(&key, &parts)
        };
        let expected = [
            own(&result("GLU"), None),
            own(&result("NA"), None),
            own(&result("GLU"), Some("2")),
            own(&result("GLU"), Some("3")),
            own(&coded, None),
            own(&named, None),
            own(&other, None),
        ];
        for config in [&cached, &uncached, &cached] {
            let message = map_with(&event, config, 1);
            let json: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
            let ids: Vec<&str> = json["result_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| id.as_str().unwrap())
                .collect();
            assert_eq!(ids, expected, "specimen of {specimen_len} bytes");
            let specimen_token = json["body"]["specimen"]["ids"][0]["value"]
                .as_str()
                .unwrap();
            let expected_token = oracle_token("sp_", &key, &["", &specimen]);
            assert_eq!(specimen_token, expected_token, "{specimen_len}");
        }
    }
}
