//! Benchmarks of the DICOM header parser: whole headers indexed (every top-level and
//! nested element), then a few typed reads. Each bench checks what it times.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use labwire_dicom_meta::{parse, tags};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../dicom-meta/tests/data")
        .join(name);
    std::fs::read(path).unwrap()
}

fn headers(c: &mut Criterion) {
    let mut group = c.benchmark_group("dicom/header");
    for (name, path, elements) in [
        ("CT_small", "pydicom/CT_small.dcm", 100),
        ("sm_image", "highdicom/sm_image.dcm", 100),
    ] {
        let bytes = fixture(path);
        let header = parse(&bytes).unwrap();
        assert!(
            header.element_count() > elements,
            "{name}: {}",
            header.element_count()
        );
        assert!(header.data_set().get(tags::STUDY_INSTANCE_UID).is_some());
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("parse/{name}"), |b| {
            b.iter(|| black_box(parse(black_box(&bytes)).unwrap()));
        });
        group.bench_function(format!("parse_and_read/{name}"), |b| {
            b.iter(|| {
                let header = parse(black_box(&bytes)).unwrap();
                let data = header.data_set();
                black_box(data.get(tags::PATIENT_NAME).map(|e| e.person_name()));
                black_box(data.get(tags::STUDY_INSTANCE_UID).map(|e| e.string()));
                black_box(data.get(tags::MODALITY).map(|e| e.string()));
                black_box(data.get(tags::STUDY_DATE).map(|e| e.date()));
            });
        });
    }
    group.finish();
}

criterion_group!(benches, headers);
criterion_main!(benches);
