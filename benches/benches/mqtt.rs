//! Benchmarks of the MQTT mapping: a typical 4-result report to a JSON and a CBOR
//! message under the default (pseudonymized) and `full` profiles, and topic checks.
//! The report is about 1.9 KB of JSON (1.5 KB of CBOR).
//!
//! Identifier tokens (keyed HMAC-SHA256) are cached per configuration, so mapping
//! the same report again mostly looks them up; result ids (keyed SipHash) are always
//! computed. The plain cases measure that (a re-sent report, or the next report on
//! the same specimen); the `fresh_ids` cases cycle through 64 reports with distinct
//! patient, specimen and order ids, more token inputs than the cache holds, so every
//! token is computed; `no_cache` maps one report with the cache
//! off. Each bench first checks what it times: the topic, no identifier in clear,
//! the same bytes as a configuration without the cache, and the number of heap
//! allocations of a mapping (the payload and the `msg-id` property's text: two).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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

/// The system allocator, counting allocations while [`COUNTING`] is on.
struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

fn count_allocation() {
    if COUNTING.load(Ordering::Relaxed) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// The one place with `unsafe`: `GlobalAlloc` is an unsafe trait. Every call is
// forwarded to `System` with the caller's arguments, so its contract is `System`'s.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_allocation();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// The heap allocations (and reallocations) `work` makes.
fn allocations<T>(work: impl FnOnce() -> T) -> (T, usize) {
    ALLOCATIONS.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let output = work();
    COUNTING.store(false, Ordering::Relaxed);
    (output, ALLOCATIONS.load(Ordering::Relaxed))
}

/// A chemistry panel as an analyzer reports it: four results, one specimen, one order.
/// `n` makes the patient, specimen and order ids distinct (0: the usual ids).
fn four_result_report(n: usize) -> LabEvent {
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
    let id = |base: &str| {
        let value = if n == 0 {
            base.to_owned()
        } else {
            format!("{base}-{n}")
        };
        Sensitive::new(Identifier::new(&value))
    };
    LabEvent::Results(ResultReport {
        instrument: Instrument::with_local_id("chem-01"),
        patient: Some(Patient {
            ids: vec![id("MRN-4711")],
            ..Patient::default()
        }),
        specimen: Some(Specimen {
            ids: vec![id("S24-000123")],
            ..Specimen::default()
        }),
        order: Some(Order {
            placer_id: Some(id("P-0815")),
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

fn now() -> LabTimestamp {
    LabTimestamp::parse_rfc3339("2024-03-01T09:15:12Z").unwrap()
}

/// Maps `event` with message ids from `seed`, as the bench does.
fn payload(event: &LabEvent, config: &MappingConfig, seed: u64) -> Vec<u8> {
    let ids = SequentialMsgIds::new(seed);
    let context = MapContext {
        now: now(),
        msg_ids: &ids,
    };
    mqtt::map_one(event, config, &context)
        .unwrap()
        .unwrap()
        .payload
}

/// What every case checks before it is timed.
fn check(name: &str, events: &[LabEvent], config: &MappingConfig) {
    let uncached = config.clone().with_token_cache(false);
    // Twice over the events: the second round reads the cache where it can.
    for (round, event) in events.iter().chain(events).enumerate() {
        let seed = round as u64;
        let ids = SequentialMsgIds::new(seed);
        let context = MapContext {
            now: now(),
            msg_ids: &ids,
        };
        let (message, allocated) =
            allocations(|| mqtt::map_one(event, config, &context).unwrap().unwrap());
        // The first payload of a kind may grow its buffer once; later ones start
        // at the size of the one before.
        if round > 0 {
            assert_eq!(allocated, 2, "{name}: heap allocations per mapping");
        }
        assert_eq!(message.topic.as_str(), "lab/v1/site-a/chem/an-01/result");
        assert!(
            message.payload.len() > 500,
            "{name}: {} bytes",
            message.payload.len()
        );
        assert_eq!(
            message.payload,
            payload(event, &uncached, seed),
            "{name}: the cache changed the payload"
        );
        let text = String::from_utf8_lossy(&message.payload);
        if config.privacy() != PrivacyProfile::Full {
            assert!(!text.contains("S24-000123"), "{name} leaks the specimen id");
            assert!(!text.contains("MRN-4711"), "{name} leaks the patient id");
        }
        if config.format() == PayloadFormat::Json {
            let json: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
            assert_eq!(json["result_ids"].as_array().unwrap().len(), 4, "{name}");
            assert_eq!(
                json["body"]["results"].as_array().unwrap().len(),
                4,
                "{name}"
            );
        }
    }
}

fn map_event(c: &mut Criterion) {
    let same = vec![four_result_report(0)];
    // 64 reports × 3 identifier tokens: more distinct inputs than the cache's 64 entries.
    let fresh: Vec<LabEvent> = (1..=64).map(four_result_report).collect();
    let ids = SequentialMsgIds::new(1);
    let context = MapContext {
        now: now(),
        msg_ids: &ids,
    };
    let mut group = c.benchmark_group("mqtt/map_4_results");
    group.throughput(Throughput::Elements(1));
    let pseudonymized = PrivacyProfile::Pseudonymized;
    let full = PrivacyProfile::Full;
    let (json, cbor) = (PayloadFormat::Json, PayloadFormat::Cbor);
    for (name, profile, format, events, cache) in [
        ("json_pseudonymized", pseudonymized, json, &same, true),
        ("cbor_pseudonymized", pseudonymized, cbor, &same, true),
        ("json_full", full, json, &same, true),
        ("cbor_full", full, cbor, &same, true),
        (
            "json_pseudonymized_fresh_ids",
            pseudonymized,
            json,
            &fresh,
            true,
        ),
        (
            "cbor_pseudonymized_fresh_ids",
            pseudonymized,
            cbor,
            &fresh,
            true,
        ),
        ("json_full_fresh_ids", full, json, &fresh, true),
        (
            "json_pseudonymized_no_cache",
            pseudonymized,
            json,
            &same,
            false,
        ),
    ] {
        let config = config(profile, format).with_token_cache(cache);
        check(name, events, &config);
        let mut next = events.iter().cycle();
        group.bench_function(name, |b| {
            b.iter(|| {
                let event = next.next().unwrap();
                black_box(mqtt::map_one(black_box(event), &config, &context).unwrap())
            });
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
