//! Benchmarks of the ASTM crate: E1394 record parsing (every record and field
//! located) and parse + map to lab events. Each bench checks what it times.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use labwire_astm::frame::{FrameDecoder, FrameItem, FrameNumber, Reassembler, encode_message_into};
use labwire_astm::model::{Dialect, to_events};
use labwire_astm::record::{RecordOptions, parse_messages};

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

criterion_group!(benches, records, frames);
criterion_main!(benches);
