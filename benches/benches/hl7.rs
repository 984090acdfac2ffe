//! Benchmarks of the HL7 crate: the structural parse (every segment and field
//! located) over the bundled corpus, the parse with the mapping to lab events, the
//! mapping alone, and MLLP decoding. Each bench checks what it times.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use labwire_hl7::{Message, MllpDecoder, ParseOptions, Status};

/// Every message of the corpus the HL7 crate tests with.
fn corpus() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../hl7/tests/data");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "hl7"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| std::fs::read(path).unwrap())
        .collect()
}

fn count_fields(message: &Message<'_>) -> usize {
    message
        .segments()
        .map(|segment| segment.field_count())
        .sum()
}

fn parse(c: &mut Criterion) {
    let corpus = corpus();
    assert!(corpus.len() >= 20);
    let options = ParseOptions::default();
    let expected: Vec<usize> = corpus
        .iter()
        .map(|bytes| count_fields(&Message::parse(bytes, &options).unwrap()))
        .collect();
    assert!(expected.iter().all(|fields| *fields > 3));

    let mut group = c.benchmark_group("hl7/corpus");
    group.throughput(Throughput::Bytes(
        corpus.iter().map(|m| m.len() as u64).sum(),
    ));
    group.bench_function("parse_every_field", |b| {
        b.iter(|| {
            for (bytes, fields) in corpus.iter().zip(&expected) {
                let message = Message::parse(black_box(bytes), &options).unwrap();
                assert_eq!(count_fields(&message), *fields);
            }
        });
    });
    group.finish();

    // Parse and map the messages the mapping supports (ACKs and ORL are not events).
    let map_options = labwire_hl7::MapOptions::default();
    let mappable: Vec<&Vec<u8>> = corpus
        .iter()
        .filter(|bytes| {
            let message = Message::parse(bytes, &options).unwrap();
            labwire_hl7::to_events(&message, &map_options).is_ok()
        })
        .collect();
    assert!(mappable.len() >= 30, "{} mappable messages", mappable.len());
    let events: usize = mappable
        .iter()
        .map(|bytes| {
            let message = Message::parse(bytes, &options).unwrap();
            labwire_hl7::to_events(&message, &map_options)
                .unwrap()
                .events
                .len()
        })
        .sum();
    let mut group = c.benchmark_group("hl7/corpus");
    group.throughput(Throughput::Bytes(
        mappable.iter().map(|m| m.len() as u64).sum(),
    ));
    group.bench_function("parse_and_map", |b| {
        b.iter(|| {
            let mut count = 0usize;
            for bytes in &mappable {
                let message = Message::parse(black_box(bytes), &options).unwrap();
                count += labwire_hl7::to_events(&message, &map_options)
                    .unwrap()
                    .events
                    .len();
            }
            assert_eq!(count, events);
        });
    });
    // The mapping alone, over messages parsed once: where `parse_and_map` spends the
    // time `parse_every_field` does not account for.
    let parsed: Vec<Message<'_>> = mappable
        .iter()
        .map(|bytes| Message::parse(bytes, &options).unwrap())
        .collect();
    group.bench_function("map_parsed", |b| {
        b.iter(|| {
            let mut count = 0usize;
            for message in &parsed {
                count += labwire_hl7::to_events(black_box(message), &map_options)
                    .unwrap()
                    .events
                    .len();
            }
            assert_eq!(count, events);
        });
    });
    group.finish();

    let mut stream = Vec::new();
    for message in &corpus {
        labwire_hl7::mllp::encode(message, &mut stream).unwrap();
    }
    let mut group = c.benchmark_group("hl7/mllp");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function("decode_stream_in_1500_byte_chunks", |b| {
        b.iter(|| {
            let mut decoder = MllpDecoder::new(1 << 20);
            let mut frames = 0usize;
            for chunk in black_box(&stream).chunks(1500) {
                decoder.push(chunk).unwrap();
                while let Status::Complete(_) = decoder.next_frame().unwrap() {
                    frames += 1;
                }
            }
            assert_eq!(frames, corpus.len());
        });
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
