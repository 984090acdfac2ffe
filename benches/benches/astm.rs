//! Benchmarks of the ASTM crate: E1381 frame decoding, E1394 record parsing (every
//! record and field located), parse + map to lab events, and the whole receive path
//! from the framed session bytes to lab events. Each bench checks what it times.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use labwire_astm::frame::{FrameDecoder, FrameItem, FrameNumber, Reassembler, encode_message_into};
use labwire_astm::model::{Dialect, to_events};
use labwire_astm::record::{RecordOptions, parse_messages};
use labwire_model::LabEvent;

/// A chemistry session: 50 messages of one patient, one order and 20 results each.
fn session() -> Vec<u8> {
    let mut text = Vec::new();
    for message in 0..50 {
        text.extend_from_slice(b"H|\\^&|||cobas^2.1^SN77|||||host||P|1|20240301101502\r");
        text.extend_from_slice(
            format!("P|1|MRN-{message}||ALT-9|Doe^Jane||19800501|F\r").as_bytes(),
        );
        text.extend_from_slice(format!("O|1|S24-{message}|S24-{message}^R4^3|^^^717/|R|20240301080000|20240301083000||||N||||SER\r").as_bytes());
        for result in 0..20 {
            text.extend_from_slice(
                format!("R|{}|^^^{}/|5.{result:02}|mmol/L|3.9-6.1|N||F||OP1|20240301101000|20240301101502|cobas-1\r", result + 1, 700 + result)
                    .as_bytes(),
            );
        }
        text.extend_from_slice(b"L|1|N\r");
    }
    text
}

fn records(c: &mut Criterion) {
    let text = session();
    let options = RecordOptions::default();
    let (messages, warnings) = parse_messages(&text, &options).unwrap();
    assert_eq!(messages.len(), 50);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(messages.iter().map(|m| m.len()).sum::<usize>(), 50 * 24);
    let fields: usize = messages
        .iter()
        .flat_map(|m| m.records())
        .map(|r| r.field_count())
        .sum();
    assert!(fields > 50 * 20 * 14);

    let mut group = c.benchmark_group("astm/records");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| black_box(parse_messages(black_box(&text), &options).unwrap()));
    });
    group.bench_function("parse_and_locate_every_field", |b| {
        b.iter(|| {
            let (messages, _) = parse_messages(black_box(&text), &options).unwrap();
            let fields: usize = messages
                .iter()
                .flat_map(|m| m.records())
                .map(|r| r.field_count())
                .sum();
            black_box(fields)
        });
    });
    group.bench_function("parse_and_map", |b| {
        let dialect = Dialect::roche_cobas();
        b.iter(|| {
            let (messages, _) = parse_messages(black_box(&text), &options).unwrap();
            let events: usize = messages.iter().map(|m| to_events(m, &dialect).len()).sum();
            assert_eq!(events, 50);
            black_box(events)
        });
    });
    group.finish();
}

/// The session in E1381 frames of 240 bytes, as a serial line carries it.
fn frames(c: &mut Criterion) {
    let text = session();
    let mut wire = vec![0x05];
    encode_message_into(&mut wire, &text, 240, FrameNumber::FIRST).unwrap();
    wire.push(0x04);
    let decode = |wire: &[u8]| {
        let mut decoder = FrameDecoder::new(240);
        let mut message = Reassembler::new(1 << 24);
        let mut frames = 0usize;
        let mut complete = 0usize;
        decoder.decode_each(wire, |item| {
            if let FrameItem::Frame(frame) = item {
                assert_eq!(frame.checksum, labwire_astm::frame::Checksum::Valid);
                frames += 1;
                if message.push(&frame).unwrap().is_some() {
                    complete += 1;
                }
            }
        });
        (frames, complete)
    };
    let (frames, complete) = decode(&wire);
    assert_eq!(frames, text.len().div_ceil(240));
    assert_eq!(complete, 1);

    let mut group = c.benchmark_group("astm/frames");
    group.throughput(Throughput::Bytes(wire.len() as u64));
    group.bench_function("decode_verify_reassemble_240", |b| {
        b.iter(|| black_box(decode(black_box(&wire))));
    });
    group.finish();
}

/// The session as an analyzer sends it: ENQ, each H…L message as its own E1381
/// message in frames of at most 240 bytes (frame numbers running on across
/// messages), EOT.
fn framed_session() -> Vec<u8> {
    let text = session();
    let mut wire = vec![0x05];
    let mut number = FrameNumber::FIRST;
    let mut rest = &text[..];
    while !rest.is_empty() {
        let end = rest
            .windows(6)
            .position(|w| w == b"L|1|N\r")
            .map_or(rest.len(), |at| at + 6);
        let (message, after) = rest.split_at(end);
        number = encode_message_into(&mut wire, message, 240, number).unwrap();
        rest = after;
    }
    wire.push(0x04);
    wire
}

/// What the receive path produces: the events, and how many results they carry.
fn session_events(
    wire: &[u8],
    options: &RecordOptions,
    dialect: &Dialect,
    on_event: &mut impl FnMut(LabEvent),
) {
    let mut decoder = FrameDecoder::new(240);
    let mut reassembler = Reassembler::new(1 << 24);
    let mut session_text = Vec::new();
    decoder.decode_each(wire, |item| match item {
        FrameItem::Frame(frame) => {
            assert_eq!(frame.checksum, labwire_astm::frame::Checksum::Valid);
            if let Some(message) = reassembler.push(&frame).unwrap() {
                session_text.extend_from_slice(&message.text);
            }
        }
        FrameItem::Control { .. } | FrameItem::Junk { .. } | FrameItem::Error(_) => {}
    });
    let (messages, _) = parse_messages(&session_text, options).unwrap();
    for message in &messages {
        for event in to_events(message, dialect) {
            on_event(event);
        }
    }
}

fn results_in(event: &LabEvent) -> usize {
    match event {
        LabEvent::Results(report) => report.results.len(),
        _ => 0,
    }
}

/// Framed session bytes (ENQ, frames, EOT) to lab events: frame decode with checksum
/// verification, reassembly, record parse and mapping.
fn session_to_events(c: &mut Criterion) {
    let wire = framed_session();
    let options = RecordOptions::default();
    let dialect = Dialect::roche_cobas();
    let (mut events, mut results) = (0usize, 0usize);
    let mut first = None;
    session_events(&wire, &options, &dialect, &mut |event| {
        events += 1;
        results += results_in(&event);
        first.get_or_insert(event);
    });
    assert_eq!((events, results), (50, 50 * 20));
    assert!(matches!(first, Some(LabEvent::Results(_))), "{first:?}");
    if let Some(LabEvent::Results(report)) = first {
        let codes: Vec<&str> = report
            .results
            .iter()
            .map(|r| r.test.code.as_str())
            .collect();
        assert_eq!(codes.first().copied(), Some("700"));
        assert_eq!(codes.last().copied(), Some("719"));
        let patient_ids: Vec<&str> = report
            .patient
            .iter()
            .flat_map(|patient| &patient.ids)
            .map(|id| id.expose().value.as_str())
            .collect();
        assert_eq!(patient_ids, ["MRN-0", "ALT-9"], "patient context");
    }

    let mut group = c.benchmark_group("astm/session");
    group.throughput(Throughput::Bytes(wire.len() as u64));
    group.bench_function("framed_bytes_to_events", |b| {
        b.iter(|| {
            let mut results = 0usize;
            session_events(black_box(&wire), &options, &dialect, &mut |event| {
                results += results_in(&event);
                black_box(event);
            });
            assert_eq!(results, 50 * 20);
            results
        });
    });
    group.finish();
}

criterion_group!(benches, records, frames, session_to_events);
criterion_main!(benches);
