//! HL7 v2 parse: labwire and its Rust peers on the same inputs in the same run
//! (issue 9, "Peer benchmarks").
//!
//! Peers (dev-dependencies of this crate, versions pinned in `Cargo.toml`):
//! - `hl7-parser` 0.3.0 — nom parser building a tree of segments, fields, repeats,
//!   components and subcomponents (`Vec`s of `&str`). Called with
//!   `Message::parse_with_lenient_newlines(text, true)` so that it accepts the LF and
//!   CRLF terminators labwire accepts by default.
//! - `rust-hl7` 0.5.0 (`rusthl7`) — `Message::try_from(&str)`: splits on CR, then
//!   fields, repeats, components and subcomponents into `Vec`s of `&str`.
//! - `hl7` 0.1.5 (`hl7::v2`, over `er7` 0.1.4) — `hl7::v2::parse`: normalises the
//!   text (a copy), builds an owned tree (`String` per subcomponent) and picks the
//!   release's dictionary. `hl7` 0.2.0–0.2.3 declare `rust-version = "1.96"` and
//!   cannot build with the workspace toolchain (1.95): `cargo check` with
//!   `hl7 = "=0.2.3"` stops with "error: rustc 1.95.0 is not supported by the
//!   following packages: er7@0.2.2 requires rustc 1.96, hl7@0.2.3 requires rustc
//!   1.96, …". 0.1.5 is the newest that builds.
//!
//! What is timed is "parse one message and count its segments and fields", for
//! every message of the input set, for each parser as it is meant to be called.
//! labwire indexes segments and field boundaries and locates components on demand;
//! the peers build their whole tree up front. That difference is the point of the
//! comparison, not an unfairness to remove.
//!
//! Before timing, every parser's segment and field counts are compared with
//! labwire's on every input. Counts are normalised where a peer legitimately
//! counts differently:
//! - `rust-hl7` keeps the segment id as field 0 and has no MSH-1 (the field
//!   separator itself, v2.5.1 §2.14.9.1): its field count is `fields - 1`, plus 1
//!   for MSH; the empty "segment" after a final CR is not a segment.
//! - `hl7-parser` and `hl7` count MSH-1 and MSH-2 as fields, like labwire.
//!
//! On the fixture corpus (`hl7/tests/data/*.hl7`) an input a peer refuses, panics
//! on, or reads with different counts is excluded from the common input set with a
//! printed note, and the number of exclusions per peer is printed; every parser is
//! then timed on the inputs all of them read alike (29 of 44 when this was
//! written). What excludes inputs today: a UTF-8 byte order mark before `MSH`
//! (`hl7-parser` and `rust-hl7` refuse it; labwire skips it with a warning), LF
//! segment terminators (`rust-hl7` splits on CR only and sees one segment), and the
//! v2.7 truncation character in MSH-2 (`^~\&#`: `hl7-parser` reads `#` as MSH-3).
//! On the generated corpus ([`labwire_benches::hl7_corpus`], 10,000 messages of
//! 1–20 KiB) every parser must agree on every message: the bench asserts it.
//!
//! With `LABWIRE_PEERS_OUT=<dir>` set, the bench also writes the generated corpus
//! (`hl7_generated.txt`, the exact bytes it times, in [`labwire_benches::join_corpus`]
//! format) and labwire's counts per input (`hl7_generated.counts`,
//! `hl7_fixtures.counts`) for `benches/peers/peers.py`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use labwire_benches::{CorpusSpec, hl7_corpus, join_corpus};
use labwire_hl7::{Message, ParseOptions};

/// Segment and field counts of one message.
type Counts = (usize, usize);

/// One parser: its bench id and how it parses and counts. `None`: it refused.
struct Parser {
    id: &'static str,
    parse: fn(&[u8], &str) -> Option<Counts>,
}

fn labwire(bytes: &[u8], _text: &str) -> Option<Counts> {
    let message = Message::parse(bytes, &ParseOptions::default()).ok()?;
    let fields = message.segments().map(|s| s.field_count()).sum();
    Some((message.segment_count(), fields))
}

fn hl7_parser(_bytes: &[u8], text: &str) -> Option<Counts> {
    let message = hl7_parser::Message::parse_with_lenient_newlines(text, true).ok()?;
    let fields = message.segments.iter().map(|s| s.fields.len()).sum();
    Some((message.segments.len(), fields))
}

fn rust_hl7(_bytes: &[u8], text: &str) -> Option<Counts> {
    let message = rusthl7::message::Message::try_from(text).ok()?;
    let (mut segments, mut fields) = (0, 0);
    for segment in message.segments.iter().filter(|s| !s.source.is_empty()) {
        segments += 1;
        // Field 0 is the segment id; MSH-1 is not represented.
        fields += segment.fields.len() - 1 + usize::from(segment.source.starts_with("MSH"));
    }
    Some((segments, fields))
}

fn hl7_crate(_bytes: &[u8], text: &str) -> Option<Counts> {
    let message = hl7::v2::parse(text).ok()?;
    let raw = message.raw();
    let fields = raw.segments.iter().map(|s| s.fields.len()).sum();
    Some((raw.segments.len(), fields))
}

const PARSERS: [Parser; 4] = [
    Parser {
        id: "labwire",
        parse: labwire,
    },
    Parser {
        id: "hl7-parser",
        parse: hl7_parser,
    },
    Parser {
        id: "rust-hl7",
        parse: rust_hl7,
    },
    Parser {
        id: "hl7",
        parse: hl7_crate,
    },
];

/// One input: a name for notes, the bytes, and the text for the peers that take
/// `&str` (`None` when it is not UTF-8).
struct Input {
    name: String,
    bytes: Vec<u8>,
    text: Option<String>,
}

impl Input {
    fn new(name: String, bytes: Vec<u8>) -> Self {
        let text = String::from_utf8(bytes.clone()).ok();
        Self { name, bytes, text }
    }

    fn text(&self) -> &str {
        self.text.as_deref().unwrap_or_default()
    }
}

/// Every message of the corpus the HL7 crate tests with, as in `benches/hl7.rs`.
fn fixtures() -> Vec<Input> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hl7/tests/data");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "hl7"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            Input::new(name, std::fs::read(&path).unwrap())
        })
        .collect()
}

/// Runs `parser` on `input`, turning a refusal, a panic or text that is not UTF-8
/// into the reason it could not be used.
fn counts_of(parser: &Parser, input: &Input) -> Result<Counts, String> {
    if parser.id != "labwire" && input.text.is_none() {
        return Err("not UTF-8 (the peer takes &str)".into());
    }
    match catch_unwind(AssertUnwindSafe(|| {
        (parser.parse)(&input.bytes, input.text())
    })) {
        Ok(Some(counts)) => Ok(counts),
        Ok(None) => Err("refused (parse error)".into()),
        Err(_) => Err("panicked".into()),
    }
}

/// Which inputs every parser reads with labwire's counts. Prints a note for each
/// input a peer cannot use and the number of such inputs per peer.
fn common_inputs(inputs: &[Input], corpus: &str) -> (Vec<usize>, Vec<Counts>) {
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let expected: Vec<Counts> = inputs
        .iter()
        .map(|input| counts_of(&PARSERS[0], input).expect(&input.name))
        .collect();
    let mut usable = vec![true; inputs.len()];
    for parser in &PARSERS[1..] {
        let mut excluded = 0usize;
        for (index, input) in inputs.iter().enumerate() {
            let reason = match counts_of(parser, input) {
                Ok(counts) if counts == expected[index] => continue,
                Ok(counts) => format!(
                    "counts differ: labwire {:?}, {} {counts:?} (segments, fields)",
                    expected[index], parser.id
                ),
                Err(reason) => reason,
            };
            excluded += 1;
            usable[index] = false;
            eprintln!(
                "note: peers/hl7/{corpus}: {} excluded for {}: {reason}",
                input.name, parser.id
            );
        }
        eprintln!(
            "note: peers/hl7/{corpus}: {} cannot use {excluded} of {} inputs",
            parser.id,
            inputs.len()
        );
    }
    std::panic::set_hook(quiet);
    let common: Vec<usize> = (0..inputs.len()).filter(|&i| usable[i]).collect();
    eprintln!(
        "note: peers/hl7/{corpus}: {} of {} inputs read alike by every parser are timed ({} excluded)",
        common.len(),
        inputs.len(),
        inputs.len() - common.len()
    );
    (common, expected)
}

/// Times every parser over `set` (indices into `inputs`), checking the counts of
/// each message on every iteration.
fn bench_set(
    c: &mut Criterion,
    group_name: &str,
    inputs: &[Input],
    set: &[usize],
    expected: &[Counts],
    large: bool,
) {
    let bytes: u64 = set.iter().map(|&i| inputs[i].bytes.len() as u64).sum();
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Bytes(bytes));
    if large {
        // One pass over ~100 MiB takes from a tenth of a second to seconds: ten flat
        // samples instead of criterion's linear ramp of 55 iterations.
        group.sample_size(10).sampling_mode(SamplingMode::Flat);
    }
    for parser in &PARSERS {
        group.bench_function(parser.id, |b| {
            b.iter(|| {
                for &index in set {
                    let input = &inputs[index];
                    let counts = (parser.parse)(black_box(&input.bytes), black_box(input.text()));
                    assert_eq!(counts, Some(expected[index]), "{}", input.name);
                }
            });
        });
    }
    group.finish();
}

/// Writes `name` under `LABWIRE_PEERS_OUT`, if set.
fn write_out(name: &str, contents: &[u8]) {
    if let Some(dir) = std::env::var_os("LABWIRE_PEERS_OUT") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), contents).unwrap();
        eprintln!("note: wrote {}", dir.join(name).display());
    }
}

/// labwire's counts per input, for `peers.py`: segments, fields, non-empty fields
/// (hl7apy keeps only the fields that have a value), and whether the Rust peers
/// were timed on it (`timed`) or it was excluded for one of them (`excluded`).
fn counts_file(inputs: &[Input], expected: &[Counts], common: &[usize]) -> Vec<u8> {
    let mut out = String::from("# input\tsegments\tfields\tnon-empty fields\tset (labwire)\n");
    for (index, (input, (segments, fields))) in inputs.iter().zip(expected).enumerate() {
        let message = Message::parse(&input.bytes, &ParseOptions::default()).unwrap();
        let non_empty: usize = message
            .segments()
            .map(|s| s.fields().filter(|f| !f.is_empty()).count())
            .sum();
        let set = if common.contains(&index) {
            "timed"
        } else {
            "excluded"
        };
        out.push_str(&format!(
            "{}\t{segments}\t{fields}\t{non_empty}\t{set}\n",
            input.name
        ));
    }
    out.into_bytes()
}

fn fixture_corpus(c: &mut Criterion) {
    let inputs = fixtures();
    assert!(inputs.len() >= 40, "{} fixtures", inputs.len());
    let (common, expected) = common_inputs(&inputs, "fixtures");
    // Most fixtures must stay comparable, or the figure says little.
    assert!(common.len() * 2 >= inputs.len(), "{} common", common.len());
    write_out(
        "hl7_fixtures.counts",
        &counts_file(&inputs, &expected, &common),
    );
    bench_set(c, "peers/hl7/fixtures", &inputs, &common, &expected, false);
}

fn generated_corpus(c: &mut Criterion) {
    // The full corpus under `cargo bench` (or when writing it out for python); a
    // small one in test mode (`cargo test --benches`), where a debug build of four
    // parsers over 100 MiB would take minutes.
    let full = std::env::args().any(|arg| arg == "--bench")
        || std::env::var_os("LABWIRE_PEERS_OUT").is_some();
    let spec = if full {
        CorpusSpec::default()
    } else {
        CorpusSpec::smoke()
    };
    let messages = hl7_corpus(&spec);
    let inputs: Vec<Input> = messages
        .iter()
        .enumerate()
        .map(|(index, bytes)| Input::new(format!("generated[{index}]"), bytes.clone()))
        .collect();
    let (common, expected) = common_inputs(&inputs, "generated");
    assert_eq!(
        common.len(),
        inputs.len(),
        "every parser must read every generated message alike"
    );
    if full {
        write_out("hl7_generated.txt", &join_corpus(&messages));
        write_out(
            "hl7_generated.counts",
            &counts_file(&inputs, &expected, &common),
        );
    }
    bench_set(c, "peers/hl7/generated", &inputs, &common, &expected, true);
}

criterion_group!(benches, fixture_corpus, generated_corpus);
criterion_main!(benches);
