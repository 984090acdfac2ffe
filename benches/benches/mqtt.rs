//! Benchmarks of the MQTT mapping: a typical 4-result report to a JSON and a CBOR
//! message under the default (pseudonymized) and `full` profiles, and topic checks.
//! Each bench first checks what it times. The report is about 1.9 KB of JSON (1.5 KB
//! of CBOR).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use labwire_model::mqtt::{
    self, MapContext, MappingConfig, PayloadFormat, PrivacyProfile, PseudonymKey, SequentialMsgIds,
    TopicName,
};
use labwire_model::{
    Coding, Decimal, DecimalMark, Identifier, Instrument, Interpretation, LabEvent, LabResult,
    LabTimestamp, LoincCode, Order, Patient, Provenance, Quantity, ReferenceRange, ResultReport,
    ResultStatus, ResultValue, Sensitive, SourceProtocol, Specimen, Unit,
};

/// A chemistry panel as an analyzer reports it: four results, one specimen, one order.
fn four_result_report() -> LabEvent {
    let result = |code: &str, loinc: &str, value: &str, unit: &str, range: &str| {
        let mut result = LabResult::new(
            Coding::local(code),
            ResultValue::Quantity(
                Quantity::new(Decimal::parse(value).unwrap()).with_unit(Unit::ucum(unit)),
            ),
            ResultStatus::from_code("F"),
        );
        result.loinc = Some(LoincCode::parse(loinc).unwrap());
        result.interpretation = vec![Interpretation::Normal];
        result.reference_range = Some(ReferenceRange::parse_lenient(range, DecimalMark::Point));
        result.analyzed_at = Some(LabTimestamp::parse_hl7("20240301101502+0100").unwrap());
        result
    };
    LabEvent::Results(ResultReport {
        instrument: Instrument::with_local_id("chem-01"),
        patient: Some(Patient {
            ids: vec![Sensitive::new(Identifier::new("MRN-4711"))],
            ..Patient::default()
        }),
        specimen: Some(Specimen {
            ids: vec![Sensitive::new(Identifier::new("S24-000123"))],
            ..Specimen::default()
        }),
        order: Some(Order {
            placer_id: Some(Sensitive::new(Identifier::new("P-0815"))),
            ..Order::default()
        }),
        results: vec![
            result("GLU", "2345-7", "5.40", "mmol/L", "3.9-6.1"),
            result("NA", "2951-2", "141", "mmol/L", "135-145"),
            result("K", "2823-3", "4.2", "mmol/L", "3.5-5.1"),
            result("CREA", "2160-0", "78", "umol/L", "59-104"),
        ],
        provenance: Provenance {
            message_id: Some("MSG00042".into()),
            version: Some("2.5.1".into()),
            ..Provenance::new(SourceProtocol::Hl7v2)
        },
        ..ResultReport::default()
    })
}

fn config(profile: PrivacyProfile, format: PayloadFormat) -> MappingConfig {
    let key = PseudonymKey::from_hex("000102030405060708090a0b0c0d0e0f", "k1").unwrap();
    MappingConfig::new("site-a", "gw-01", profile, Some(key))
        .unwrap()
        .with_area("chem")
        .unwrap()
        .with_instrument("an-01")
        .unwrap()
        .with_format(format)
}

fn map_event(c: &mut Criterion) {
    let event = four_result_report();
    let ids = SequentialMsgIds::new(1);
    let context = MapContext {
        now: LabTimestamp::parse_rfc3339("2024-03-01T09:15:12Z").unwrap(),
        msg_ids: &ids,
    };
    let mut group = c.benchmark_group("mqtt/map_4_results");
    group.throughput(Throughput::Elements(1));
    for (name, profile, format) in [
        (
            "json_pseudonymized",
            PrivacyProfile::Pseudonymized,
            PayloadFormat::Json,
        ),
        (
            "cbor_pseudonymized",
            PrivacyProfile::Pseudonymized,
            PayloadFormat::Cbor,
        ),
        ("json_full", PrivacyProfile::Full, PayloadFormat::Json),
        ("cbor_full", PrivacyProfile::Full, PayloadFormat::Cbor),
    ] {
        let config = config(profile, format);
        let message = mqtt::map_one(&event, &config, &context).unwrap().unwrap();
        assert_eq!(message.topic.as_str(), "lab/v1/site-a/chem/an-01/result");
        assert!(
            message.payload.len() > 500,
            "{name}: {} bytes",
            message.payload.len()
        );
        if profile != PrivacyProfile::Full {
            let text = String::from_utf8_lossy(&message.payload);
            assert!(!text.contains("S24-000123"), "{name} leaks the specimen id");
        }
        group.bench_function(name, |b| {
            b.iter(|| black_box(mqtt::map_one(black_box(&event), &config, &context).unwrap()));
        });
    }
    group.finish();
}

fn topics(c: &mut Criterion) {
    const TOPIC: &str = "lab/v1/site-a/chemistry/an-01/result";
    assert!(TopicName::check(TOPIC).is_ok());
    assert!(TopicName::check("lab/v1/site-a/+/an-01/result").is_err());
    let mut group = c.benchmark_group("mqtt/topic");
    group.throughput(Throughput::Bytes(TOPIC.len() as u64));
    group.bench_function("check", |b| {
        b.iter(|| black_box(TopicName::check(black_box(TOPIC))));
    });
    group.finish();
}

criterion_group!(benches, map_event, topics);
criterion_main!(benches);
