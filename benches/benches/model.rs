//! Benchmarks of the lab model's parsers: timestamps, decimals, and the JSON form of
//! a lab event. Each bench first checks that what it times produces the right value.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use labwire_model::{
    Coding, Decimal, DecimalMark, Identifier, Instrument, Interpretation, LabEvent, LabResult,
    LabTimestamp, LoincCode, Provenance, Quantity, ReferenceRange, ResultReport, ResultStatus,
    ResultValue, Sensitive, SourceProtocol, Specimen, Unit,
};

/// Timestamps as analyzers and LIS send them: every HL7 precision, offsets, ASTM.
const HL7_TIMESTAMPS: [&str; 8] = [
    "20240301101502",
    "20240301101502+0100",
    "20240301101502.1234-0330",
    "202403011015",
    "20240301",
    "2024030110",
    "19650102",
    "20241231235959.123+0000",
];

/// Numbers as instruments write them.
const DECIMALS: [&str; 8] = [
    "5.40", "-0.001", "123.456", "0", "7", "15000.00", "0.2500", "98.6",
];

fn total_len(items: &[&str]) -> u64 {
    items.iter().map(|s| s.len() as u64).sum()
}

fn timestamps(c: &mut Criterion) {
    let mut group = c.benchmark_group("model/timestamp");
    group.throughput(Throughput::Bytes(total_len(&HL7_TIMESTAMPS)));
    let parsed: Vec<LabTimestamp> = HL7_TIMESTAMPS
        .iter()
        .map(|text| LabTimestamp::parse_hl7(text).unwrap())
        .collect();
    for (text, ts) in HL7_TIMESTAMPS.iter().zip(&parsed) {
        assert_eq!(&ts.format_hl7(), text, "the bench input must round-trip");
    }
    group.bench_function("parse_hl7", |b| {
        b.iter(|| {
            for text in HL7_TIMESTAMPS {
                black_box(LabTimestamp::parse_hl7(black_box(text)).unwrap());
            }
        });
    });
    group.bench_function("format_hl7", |b| {
        b.iter(|| {
            for ts in &parsed {
                black_box(black_box(ts).format_hl7());
            }
        });
    });
    let iso: Vec<String> = parsed.iter().map(LabTimestamp::to_iso8601).collect();
    let iso_refs: Vec<&str> = iso.iter().map(String::as_str).collect();
    group.throughput(Throughput::Bytes(total_len(&iso_refs)));
    group.bench_function("parse_iso8601", |b| {
        b.iter(|| {
            for text in &iso_refs {
                black_box(LabTimestamp::parse_iso8601(black_box(text)).unwrap());
            }
        });
    });
    group.finish();
}

fn decimals(c: &mut Criterion) {
    let mut group = c.benchmark_group("model/decimal");
    group.throughput(Throughput::Bytes(total_len(&DECIMALS)));
    for text in DECIMALS {
        assert_eq!(Decimal::parse(text).unwrap().as_str(), text);
    }
    group.bench_function("parse", |b| {
        b.iter(|| {
            for text in DECIMALS {
                black_box(Decimal::parse(black_box(text)).unwrap());
            }
        });
    });
    group.bench_function("parse_lenient", |b| {
        b.iter(|| {
            for text in DECIMALS {
                black_box(Decimal::parse_lenient(black_box(text), DecimalMark::Point).unwrap());
            }
        });
    });
    group.finish();
}

/// LOINC codes of a chemistry panel.
const LOINC_CODES: [&str; 8] = [
    "2345-7", "2160-0", "718-7", "6690-2", "789-8", "2951-2", "2823-3", "4548-4",
];

/// Reference ranges as instruments write them.
const RANGES: [&str; 6] = ["3.9-6.1", "70_105", "<5", ">=10", " 3.5 - 5.1 ", "-2--1"];

fn codes_and_ranges(c: &mut Criterion) {
    let mut group = c.benchmark_group("model/codes");
    group.throughput(Throughput::Bytes(total_len(&LOINC_CODES)));
    for code in LOINC_CODES {
        assert_eq!(LoincCode::parse(code).unwrap().as_str(), code);
    }
    group.bench_function("loinc_parse", |b| {
        b.iter(|| {
            for code in LOINC_CODES {
                black_box(LoincCode::parse(black_box(code)).unwrap());
            }
        });
    });
    group.throughput(Throughput::Bytes(total_len(&RANGES)));
    for range in RANGES {
        let parsed = ReferenceRange::parse_lenient(range, DecimalMark::Point);
        assert!(parsed.low.is_some() || parsed.high.is_some(), "{range}");
    }
    group.bench_function("reference_range_parse_lenient", |b| {
        b.iter(|| {
            for range in RANGES {
                black_box(ReferenceRange::parse_lenient(
                    black_box(range),
                    DecimalMark::Point,
                ));
            }
        });
    });
    group.finish();
}

/// A report of 20 results, the size of a chemistry panel.
fn panel() -> LabEvent {
    let results = (0..20_u32)
        .map(|i| {
            let mut result = LabResult::new(
                Coding::local(format!("T{i:02}")).with_display("Analyte"),
                ResultValue::Quantity(
                    Quantity::new(Decimal::parse("5.40").unwrap()).with_unit(Unit::ucum("mmol/L")),
                ),
                ResultStatus::Final,
            );
            result.sequence = Some(i + 1);
            result.loinc = Some(LoincCode::from_number(2345 + i).unwrap());
            result.interpretation = vec![Interpretation::Normal];
            result.reference_range =
                Some(ReferenceRange::parse_lenient("3.9-6.1", DecimalMark::Point));
            result.analyzed_at = Some(LabTimestamp::parse_hl7("20240301101502+0100").unwrap());
            result
        })
        .collect();
    LabEvent::Results(ResultReport {
        instrument: Instrument::with_local_id("chem-01"),
        specimen: Some(Specimen {
            ids: vec![Sensitive::new(Identifier::new("S24-000123"))],
            ..Specimen::default()
        }),
        results,
        provenance: Provenance::new(SourceProtocol::Hl7v2),
        ..ResultReport::default()
    })
}

fn event_json(c: &mut Criterion) {
    let event = panel();
    let json = serde_json::to_vec(&event).unwrap();
    assert_eq!(serde_json::from_slice::<LabEvent>(&json).unwrap(), event);
    let mut group = c.benchmark_group("model/event_json");
    group.throughput(Throughput::Bytes(json.len() as u64));
    group.bench_function("serialize", |b| {
        b.iter(|| black_box(serde_json::to_vec(black_box(&event)).unwrap()));
    });
    group.bench_function("deserialize", |b| {
        b.iter(|| black_box(serde_json::from_slice::<LabEvent>(black_box(&json)).unwrap()));
    });
    group.finish();
}

criterion_group!(benches, timestamps, decimals, codes_and_ranges, event_json);
criterion_main!(benches);
