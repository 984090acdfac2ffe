//! DICOM header parse: labwire and `dicom-object` on the same files in the same run
//! (issue 9, "Peer benchmarks").
//!
//! Peer: `dicom-object` 0.10.1 with default features off (no deflate, no inventory
//! registry: neither file needs them), called as
//! `OpenFileOptions::new().read_until(tags::PIXEL_DATA).from_reader(&bytes[..])`:
//! the file is already in memory, so no file I/O is timed on either side. It reads
//! the preamble, the file meta group and the data set up to top-level Pixel Data
//! into an in-memory tree with decoded values. labwire's `parse` reads the same
//! span into a flat index of every element and item and decodes nothing until
//! asked.
//!
//! Each file is one group (`peers/dicom/CT_small`, `peers/dicom/sm_image`) with:
//! - `labwire`, `dicom-object`: the parse alone;
//! - `labwire-read`, `dicom-object-read`: the parse, then four values read as a
//!   caller would (Patient Name, Study Instance UID and Modality as text, Study
//!   Date as a date), which is where labwire's laziness pays its deferred cost.
//!
//! Throughput is the header's bytes (the file up to Pixel Data), so criterion's
//! MB/s is over what both parsers read; the time per iteration is the time per
//! header. Before timing, the bench checks that both parsers found the same number
//! of data set elements at every nesting level (file meta group excluded:
//! `dicom-object` keeps it as a typed table, not as elements) and the same values.
//!
//! With `LABWIRE_PEERS_OUT=<dir>` set, labwire's element counts are written to
//! `dicom.counts` for `benches/peers/peers.py`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dicom_dictionary_std::tags as dicom_tags;
use dicom_object::{DefaultDicomObject, InMemDicomObject, OpenFileOptions};
use labwire_dicom_meta::{DataSet, Header, parse, tags};

fn fixture(path: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../dicom-meta/tests/data")
        .join(path);
    std::fs::read(path).unwrap()
}

fn dicom_object(bytes: &[u8]) -> DefaultDicomObject {
    OpenFileOptions::new()
        .read_until(dicom_tags::PIXEL_DATA)
        .from_reader(bytes)
        .unwrap()
}

/// Elements of the data set at every nesting level (items not counted), walked
/// with an explicit stack.
fn labwire_elements(header: &Header<'_>) -> usize {
    let mut stack: Vec<DataSet<'_>> = vec![header.data_set()];
    let mut count = 0;
    while let Some(data_set) = stack.pop() {
        for element in data_set.iter() {
            count += 1;
            stack.extend(element.items());
        }
    }
    count
}

fn dicom_object_elements(object: &InMemDicomObject) -> usize {
    let mut stack: Vec<&InMemDicomObject> = vec![object];
    let mut count = 0;
    while let Some(data_set) = stack.pop() {
        for element in data_set.iter() {
            count += 1;
            if let Some(items) = element.value().items() {
                stack.extend(items);
            }
        }
    }
    count
}

/// The four values the `-read` benches read, as text.
type Read4 = (String, String, String, String);

fn labwire_read(header: &Header<'_>) -> Read4 {
    let data = header.data_set();
    let text = |tag| data.get(tag).unwrap().string().unwrap().into_owned();
    let date = data.get(tags::STUDY_DATE).unwrap().date().unwrap();
    (
        text(tags::PATIENT_NAME),
        text(tags::STUDY_INSTANCE_UID),
        text(tags::MODALITY),
        date.to_string(),
    )
}

fn dicom_object_read(object: &InMemDicomObject) -> Read4 {
    let text = |tag| {
        object
            .element(tag)
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches(['\0', ' '])
            .to_owned()
    };
    let date = object
        .element(dicom_tags::STUDY_DATE)
        .unwrap()
        .to_date()
        .unwrap();
    (
        text(dicom_tags::PATIENT_NAME),
        text(dicom_tags::STUDY_INSTANCE_UID),
        text(dicom_tags::MODALITY),
        date.to_string(),
    )
}

fn headers(c: &mut Criterion) {
    let mut counts = String::from("# file\tdata set elements at every level (labwire)\n");
    for (name, path) in [
        ("CT_small", "pydicom/CT_small.dcm"),
        ("sm_image", "highdicom/sm_image.dcm"),
    ] {
        let bytes = fixture(path);
        let header = parse(&bytes).unwrap();
        assert!(header.is_complete() || header.stop().is_some(), "{name}");
        let header_bytes = bytes.len() - header.remaining().map_or(0, <[u8]>::len);
        let object = dicom_object(&bytes);

        let elements = labwire_elements(&header);
        assert!(elements > 50, "{name}: {elements}");
        assert_eq!(
            elements,
            dicom_object_elements(&object),
            "{name}: data set elements, labwire vs dicom-object"
        );
        let read = labwire_read(&header);
        let peer_read = dicom_object_read(&object);
        assert_eq!(
            (&read.0, &read.1, &read.2),
            (&peer_read.0, &peer_read.1, &peer_read.2),
            "{name}"
        );
        // Dates print differently (labwire 2004-01-19, dicom-core 2004-01-19 too,
        // but keep the check to the digits so a format change is not a failure).
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        assert_eq!(digits(&read.3), digits(&peer_read.3), "{name}: study date");
        eprintln!(
            "note: peers/dicom/{name}: {elements} data set elements, {header_bytes} header bytes of {}",
            bytes.len()
        );
        counts.push_str(&format!("{path}\t{elements}\n"));

        let mut group = c.benchmark_group(format!("peers/dicom/{name}"));
        group.throughput(Throughput::Bytes(header_bytes as u64));
        group.bench_function("labwire", |b| {
            b.iter(|| black_box(parse(black_box(&bytes)).unwrap()));
        });
        group.bench_function("dicom-object", |b| {
            b.iter(|| black_box(dicom_object(black_box(&bytes))));
        });
        group.bench_function("labwire-read", |b| {
            b.iter(|| labwire_read(&parse(black_box(&bytes)).unwrap()));
        });
        group.bench_function("dicom-object-read", |b| {
            b.iter(|| dicom_object_read(&dicom_object(black_box(&bytes))));
        });
        group.finish();
    }
    if let Some(dir) = std::env::var_os("LABWIRE_PEERS_OUT") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("dicom.counts"), counts).unwrap();
    }
}

criterion_group!(benches, headers);
criterion_main!(benches);
