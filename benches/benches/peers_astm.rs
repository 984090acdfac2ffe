//! ASTM receive path over the session fixtures: labwire's half of the comparison
//! with python `astm` 0.5 (issue 9, "Peer benchmarks"; there is no Rust peer).
//!
//! Input: every one-direction capture `astm/tests/data/sessions/*.bin` (the
//! `.script` files hold both directions and are not inputs), read from the files
//! `benches/peers/peers.py` reads. What is timed, per session, is "captured bytes to
//! records with their fields located": labwire feeds the bytes to a receiving
//! [`Link`] (frame decoding, checksum verification, duplicate and NAK handling,
//! reassembly, ACK/NAK output), joins the E1381 messages of each session, parses
//! the E1394 records ([`parse_messages`], with the charset the instrument uses) and
//! counts records and fields. Records sent without framing
//! (`raw_records_over_tcp_no_framing`) go straight to the record parser. The python
//! side ([`peers.py`](../peers/peers.py)) finds the frames, joins ETB chunks with
//! `astm.codec.join`, decodes each message with `astm.codec.decode_message`
//! (checksum check, records, fields, components) and skips a message it cannot
//! decode, as python-astm's server does by answering NAK.
//!
//! Two bench ids in group `peers/astm/sessions`:
//! - `labwire`: every session fixture;
//! - `labwire-python-set`: the sessions python-astm reads with labwire's record and
//!   field counts, i.e. all but [`PYTHON_EXCLUDED`]. The python figure is compared
//!   with this one. `peers.py` checks that its exclusions are exactly this list and
//!   fails if they are not, so the two sides time the same bytes.
//!
//! With `LABWIRE_PEERS_OUT=<dir>` set, labwire's counts per session are written to
//! `astm.counts`.
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
use labwire_astm::frame::looks_framed;
use labwire_astm::link::{Direction, Instant, Link, LinkConfig, LinkEvent, Role};
use labwire_astm::record::{Charset, RecordOptions, join_message, parse_messages};

/// Sessions python `astm` 0.5 cannot read as labwire does, and why. `peers.py`
/// verifies this list against what it observes.
pub const PYTHON_EXCLUDED: &[(&str, &str)] = &[
    (
        "bad_checksum_nak_retransmission",
        "the corrupted frame is an ETB chunk: astm.codec.join recomputes the checksum of the \
         joined message instead of checking each frame's (E1381 §6.5.1), so the corrupted text \
         and its retransmission are both kept",
    ),
    (
        "biorad_ih_double_cr_lowercase_extra_fields",
        "CR CR after every record: python-astm decodes an empty record between them",
    ),
    (
        "duplicate_frame_after_lost_ack",
        "no duplicate-frame detection (E1381 §6.5.1 rule 3): the repeated frame is counted twice",
    ),
    (
        "horiba_pentra_xlr_lf_only_trailers",
        "frames end in LF, not CR LF: python-astm's receiver (terminator CR LF) sees no frame",
    ),
    (
        "one_digit_checksums",
        "checksums without zero padding fail decode_message's checksum assertion",
    ),
    (
        "raw_records_over_tcp_no_framing",
        "records without E1381 framing: python-astm reads framed input only",
    ),
    (
        "record_cr_missing_before_etx",
        "no CR before ETX: decode_frame refuses the frame (\"Incomplete frame data\")",
    ),
    (
        "shift_jis_patient_name_and_comment",
        "Shift-JIS second bytes equal to a delimiter are split as delimiters (one field too many)",
    ),
];

/// The charset of the instrument a fixture imitates (as in the crate's golden tests).
fn charset(name: &str) -> Charset {
    match name {
        "latin1_patient_name_and_units" => Charset::Latin1,
        "shift_jis_patient_name_and_comment" => Charset::ShiftJis,
        _ => Charset::Utf8,
    }
}

struct Session {
    name: String,
    bytes: Vec<u8>,
    options: RecordOptions,
}

fn sessions() -> Vec<Session> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../astm/tests/data/sessions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "bin"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let options = RecordOptions {
                charset: charset(&name),
                ..RecordOptions::default()
            };
            Session {
                bytes: std::fs::read(&path).unwrap(),
                name,
                options,
            }
        })
        .collect()
}

/// Records and fields of every message in `text`.
fn count_records(text: &[u8], options: &RecordOptions, counts: &mut (usize, usize)) {
    let (messages, _warnings) = parse_messages(text, options).unwrap();
    for message in &messages {
        for record in message.records() {
            counts.0 += 1;
            counts.1 += record.field_count();
        }
    }
}

/// Captured bytes to (records, fields), through the receiving link.
fn receive(session: &Session) -> (usize, usize) {
    let mut counts = (0, 0);
    if looks_framed(&session.bytes) == Some(false) {
        count_records(&session.bytes, &session.options, &mut counts);
        return counts;
    }
    let mut link = Link::new(LinkConfig::new(Role::Computer)).unwrap();
    link.handle_bytes(&session.bytes, Instant::from_millis(0));
    black_box(link.take_output());
    let mut text = Vec::new();
    while let Some(event) = link.poll_event() {
        match event {
            // Joined into the session's record stream (a message whose last record
            // lacks its CR still ends a record); the first message is not copied.
            LinkEvent::MessageReceived { text: message, .. } => join_message(&mut text, message),
            LinkEvent::SessionEnded {
                direction: Direction::Receiving,
                ..
            } if !text.is_empty() => {
                count_records(&text, &session.options, &mut counts);
                text.clear();
            }
            _ => {}
        }
    }
    assert!(text.is_empty(), "{}: a session was left open", session.name);
    counts
}

fn bench_sessions(c: &mut Criterion) {
    let all = sessions();
    assert!(all.len() >= 30, "{} sessions", all.len());
    let expected: Vec<(usize, usize)> = all.iter().map(receive).collect();
    for (session, (records, fields)) in all.iter().zip(&expected) {
        assert!(*records > 0 && *fields > *records, "{}", session.name);
    }
    for (name, _) in PYTHON_EXCLUDED {
        assert!(
            all.iter().any(|s| s.name == *name),
            "unknown session {name}"
        );
    }
    let python_set: Vec<usize> = (0..all.len())
        .filter(|&i| !PYTHON_EXCLUDED.iter().any(|(name, _)| *name == all[i].name))
        .collect();
    eprintln!(
        "note: peers/astm/sessions: {} sessions; python-astm excluded from {} (see PYTHON_EXCLUDED)",
        all.len(),
        PYTHON_EXCLUDED.len()
    );
    if let Some(dir) = std::env::var_os("LABWIRE_PEERS_OUT") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut out = String::from("# session\trecords\tfields (labwire)\n");
        for (session, (records, fields)) in all.iter().zip(&expected) {
            out.push_str(&format!("{}.bin\t{records}\t{fields}\n", session.name));
        }
        let excluded: String = PYTHON_EXCLUDED
            .iter()
            .map(|(name, why)| format!("{name}.bin\t{why}\n"))
            .collect();
        std::fs::write(dir.join("astm.counts"), out).unwrap();
        std::fs::write(dir.join("astm.python_excluded"), excluded).unwrap();
    }

    let mut group = c.benchmark_group("peers/astm/sessions");
    for (id, set) in [
        ("labwire", (0..all.len()).collect::<Vec<_>>()),
        ("labwire-python-set", python_set),
    ] {
        group.throughput(Throughput::Bytes(
            set.iter().map(|&i| all[i].bytes.len() as u64).sum(),
        ));
        group.bench_function(id, |b| {
            b.iter(|| {
                for &index in &set {
                    assert_eq!(receive(black_box(&all[index])), expected[index]);
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_sessions);
criterion_main!(benches);
