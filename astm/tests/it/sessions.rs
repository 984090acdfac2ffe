//! Golden tests over the session fixtures in `tests/data/sessions/`.
//!
//! Each fixture is fed to a receiving [`Link`] (as the LIS, [`Role::Computer`]) in several
//! chunkings, or, for records sent without E1381 framing, straight to the record parser. The
//! E1381 messages of one session (ENQ … EOT) are joined into one text before the records are
//! parsed, because senders split messages into E1381 messages in different ways: one per
//! record (Roche "Elecsys type"), one per E1394 message, or all in one. Each E1394 message is
//! mapped with [`to_events`] and the session's events are compared, as pretty JSON, with
//! `tests/data/golden/<fixture>.json`. `LABWIRE_BLESS=1` rewrites the goldens; they were then
//! checked by hand against the fixtures (see `tests/data/golden/README.md`).

use std::fs;
use std::path::PathBuf;

use labwire_astm::Error;
use labwire_astm::frame::{self, ACK, Checksum, FrameDecoder, FrameItem, FrameKind, NAK};
use labwire_astm::link::{Direction, Instant, Link, LinkConfig, LinkEvent, Role, Warning};
use labwire_astm::model::{CalibrationMarkers, Dialect, to_events};
use labwire_astm::record::{Charset, Message, RecordOptions, parse_messages};
use labwire_model::{CalibrationState, LabEvent, LabResult, Outcome, ResultValue, SubstanceType};

/// How a fixture's bytes reach the record parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    /// ENQ, E1381 frames, EOT: through a receiving link.
    Framed,
    /// E1394 records without E1381 framing (raw TCP, files).
    Raw,
}

/// One fixture and how to read it.
struct Fixture {
    name: &'static str,
    transport: Transport,
    dialect: Dialect,
    charset: Charset,
    /// NAK replies the link must send (frames it must refuse).
    naks: usize,
}

const fn framed(name: &'static str, dialect: Dialect) -> Fixture {
    Fixture {
        name,
        transport: Transport::Framed,
        dialect,
        charset: Charset::Utf8,
        naks: 0,
    }
}

const GENERIC: Dialect = Dialect::generic();
const ROCHE: Dialect = Dialect::roche_cobas();
const SYSMEX: Dialect = Dialect::sysmex_xn();
/// A site whose analyzer sends calibrator runs as orders with `CAL` in O-16.
const SITE_CALIBRATORS: Dialect = Dialect {
    calibration: CalibrationMarkers {
        specimen_types: &["CAL"],
        ..CalibrationMarkers::NONE
    },
    ..Dialect::generic()
};

/// Every fixture, with the dialect and charset of the instrument it imitates.
const FIXTURES: &[Fixture] = &[
    framed("lis2a2_single_frame", GENERIC),
    framed("records_span_frames_etb_240", GENERIC),
    framed("roche_elecsys_one_record_per_frame", ROCHE),
    framed("roche_cobas_c311_several_records_per_frame", ROCHE),
    framed("roche_cobas_c111_etb_after_every_record", ROCHE),
    framed("several_messages_one_session", GENERIC),
    Fixture {
        naks: 1,
        ..framed("bad_checksum_nak_retransmission", GENERIC)
    },
    framed("duplicate_frame_after_lost_ack", GENERIC),
    framed("lowercase_checksums", GENERIC),
    framed("one_digit_checksums", GENERIC),
    framed("horiba_pentra_xlr_lf_only_trailers", GENERIC),
    framed("first_frame_numbered_zero", GENERIC),
    Fixture {
        transport: Transport::Raw,
        ..framed("raw_records_over_tcp_no_framing", GENERIC)
    },
    framed("enq_eot_keepalive_then_results", GENERIC),
    framed("record_cr_missing_before_etx", GENERIC),
    framed("cepheid_genexpert_delimiters", GENERIC),
    framed("sysmex_xn_decimal_comma", SYSMEX),
    framed("sysmex_xn_query", SYSMEX),
    framed("abbott_architect_long_test_ids", GENERIC),
    framed("serology_comparators_and_text_values", GENERIC),
    framed("microbiology_mic_sequence_restart", GENERIC),
    framed("qc_run_action_code_q", ROCHE),
    framed("yumizen_h500_qc_message_h12_q", GENERIC),
    framed("yumizen_h500_histogram_m_record_26kb", GENERIC),
    framed("host_query_q_record", GENERIC),
    framed("comments_after_patient_order_result", GENERIC),
    Fixture {
        charset: Charset::Latin1,
        ..framed("latin1_patient_name_and_units", GENERIC)
    },
    framed("timestamps_8_12_14_digits", GENERIC),
    framed("phadia_immunocap_zero_dates", GENERIC),
    framed("missing_l_record", GENERIC),
    framed("biorad_ih_double_cr_lowercase_extra_fields", GENERIC),
    Fixture {
        charset: Charset::ShiftJis,
        ..framed("shift_jis_patient_name_and_comment", ROCHE)
    },
    framed("roche_cobas_c111_calibration_m_cr", ROCHE),
    framed("calibrator_orders_specimen_descriptor", SITE_CALIBRATORS),
];

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn fixture(name: &str) -> &'static Fixture {
    FIXTURES
        .iter()
        .find(|fixture| fixture.name == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

fn bytes_of(fixture: &Fixture) -> Vec<u8> {
    let path = data_dir()
        .join("sessions")
        .join(format!("{}.bin", fixture.name));
    fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// What a receiving link made of a capture.
#[derive(Debug, Clone, PartialEq)]
struct LinkRun {
    /// The text of each session: its E1381 messages joined.
    sessions: Vec<Vec<u8>>,
    /// Every event but the received messages.
    events: Vec<LinkEvent>,
    /// The relaxations applied to the frames of received messages.
    message_warnings: Vec<Warning>,
    /// Everything the link wrote back (ACK, NAK).
    output: Vec<u8>,
}

/// Feeds `bytes` to a receiving link `chunk` bytes at a time, a millisecond apart.
fn run_link(bytes: &[u8], chunk: usize) -> LinkRun {
    let mut link = Link::new(LinkConfig::new(Role::Computer)).unwrap();
    let mut run = LinkRun {
        sessions: Vec::new(),
        events: Vec::new(),
        message_warnings: Vec::new(),
        output: Vec::new(),
    };
    let mut session = Vec::new();
    for (millis, piece) in bytes.chunks(chunk.max(1)).enumerate() {
        link.handle_bytes(piece, Instant::from_millis(millis as u64));
        run.output.extend(link.take_output());
        while let Some(event) = link.poll_event() {
            match event {
                LinkEvent::MessageReceived { text, warnings, .. } => {
                    run.message_warnings.extend(warnings);
                    session.extend_from_slice(&text);
                    // A sender that leaves the record's CR out before ETX (one record per
                    // E1381 message) still means a record boundary there.
                    if !matches!(text.last(), Some(b'\r' | b'\n')) {
                        session.push(b'\r');
                    }
                }
                LinkEvent::SessionEnded {
                    direction: Direction::Receiving,
                    ..
                } => {
                    if !session.is_empty() {
                        run.sessions.push(std::mem::take(&mut session));
                    }
                    run.events.push(event);
                }
                other => run.events.push(other),
            }
        }
    }
    assert!(session.is_empty(), "a session was left open");
    run
}

/// The session texts of a fixture: through the link in several chunkings (which must agree),
/// or the raw bytes.
fn session_texts(fixture: &Fixture) -> (Vec<Vec<u8>>, Option<LinkRun>) {
    let bytes = bytes_of(fixture);
    match fixture.transport {
        Transport::Raw => {
            assert_eq!(frame::looks_framed(&bytes), Some(false));
            (vec![bytes], None)
        }
        Transport::Framed => {
            assert_eq!(frame::looks_framed(&bytes), Some(true));
            let whole = run_link(&bytes, usize::MAX);
            for chunk in [1, 2, 7, 64, 240] {
                assert_eq!(
                    run_link(&bytes, chunk),
                    whole,
                    "{}: fed {chunk} bytes at a time",
                    fixture.name
                );
            }
            (whole.sessions.clone(), Some(whole))
        }
    }
}

fn options(fixture: &Fixture) -> RecordOptions {
    RecordOptions {
        charset: fixture.charset,
        ..RecordOptions::default()
    }
}

/// The messages of a session text; checks that they write back byte for byte.
fn messages<'a>(fixture: &Fixture, text: &'a [u8]) -> Vec<Message<'a>> {
    let (messages, _warnings) = parse_messages(text, &options(fixture))
        .unwrap_or_else(|err| panic!("{}: {err}", fixture.name));
    let mut rest = text;
    for message in &messages {
        let skipped = rest
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t'))
            .count();
        rest = &rest[skipped..];
        assert!(
            rest.starts_with(message.as_bytes()),
            "{}: a message does not write back as it was read",
            fixture.name
        );
        rest = &rest[message.as_bytes().len()..];
    }
    assert!(
        rest.iter()
            .all(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t'))
    );
    messages
}

/// The lab events of a fixture, all sessions and messages in order.
fn events_of(fixture: &Fixture) -> Vec<LabEvent> {
    let (texts, _) = session_texts(fixture);
    let mut events = Vec::new();
    for text in &texts {
        for message in messages(fixture, text) {
            events.extend(to_events(&message, &fixture.dialect));
        }
    }
    events
}

/// Result records in session texts, counted without the parser: lines starting with `R`.
fn result_records(texts: &[Vec<u8>]) -> usize {
    texts
        .iter()
        .flat_map(|text| text.split(|b| *b == b'\r' || *b == b'\n'))
        .filter(|line| matches!(line.first(), Some(b'R' | b'r')))
        .count()
}

/// The results the R records became: in result reports, QC runs, and calibrations read
/// from orders (a calibration read from a manufacturer record has its calibrator levels as
/// results, which are no R records).
fn results(events: &[LabEvent]) -> Vec<&LabResult> {
    events
        .iter()
        .flat_map(|event| -> Vec<&LabResult> {
            match event {
                LabEvent::Results(report) => report.results.iter().collect(),
                LabEvent::Qc(qc) => qc.results.iter().map(|qc| &qc.result).collect(),
                LabEvent::Calibration(calibration)
                    if calibration
                        .provenance
                        .location
                        .as_deref()
                        .is_some_and(|location| location.starts_with("O record")) =>
                {
                    calibration.results.iter().collect()
                }
                _ => Vec::new(),
            }
        })
        .collect()
}

fn golden_json(events: &[LabEvent]) -> String {
    serde_json::to_string_pretty(events).unwrap() + "\n"
}

#[test]
fn every_session_matches_its_golden() {
    let bless = std::env::var_os("LABWIRE_BLESS").is_some_and(|value| value == "1");
    let mut mismatches = Vec::new();
    for fixture in FIXTURES {
        let events = events_of(fixture);
        let json = golden_json(&events);
        let path = data_dir()
            .join("golden")
            .join(format!("{}.json", fixture.name));
        if bless {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, &json).unwrap();
            continue;
        }
        match fs::read_to_string(&path) {
            Ok(golden) if golden == json => {}
            Ok(golden) => {
                let line = golden
                    .lines()
                    .zip(json.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| golden.lines().count().min(json.lines().count()));
                mismatches.push(format!("{}: differs from line {}", fixture.name, line + 1));
            }
            Err(err) => mismatches.push(format!("{}: {err}", path.display())),
        }
    }
    assert!(
        mismatches.is_empty(),
        "goldens differ (rerun with LABWIRE_BLESS=1 and check the diff by hand):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn every_result_record_becomes_exactly_one_result() {
    for fixture in FIXTURES {
        let (texts, _) = session_texts(fixture);
        let events = events_of(fixture);
        assert_eq!(
            results(&events).len(),
            result_records(&texts),
            "{}: results lost or invented",
            fixture.name
        );
    }
}

/// Parsing borrows the text and keeps every byte: an unedited message writes back as it came.
#[test]
fn unedited_messages_write_back_byte_for_byte() {
    for fixture in FIXTURES {
        let (texts, _) = session_texts(fixture);
        for text in &texts {
            // `messages` asserts it, message by message.
            assert!(!messages(fixture, text).is_empty(), "{}", fixture.name);
        }
    }
}

#[test]
fn links_accept_every_frame_but_the_corrupted_ones() {
    for fixture in FIXTURES {
        let (_, run) = session_texts(fixture);
        let Some(run) = run else { continue };
        let naks = run.output.iter().filter(|b| **b == NAK).count();
        assert_eq!(naks, fixture.naks, "{}: NAKs", fixture.name);
        assert!(
            run.output.iter().all(|b| *b == ACK || *b == NAK),
            "{}: the receiver only ever answers ACK or NAK",
            fixture.name
        );
        assert!(
            !run.events
                .iter()
                .any(|event| matches!(event, LinkEvent::PartialMessage { .. })),
            "{}: {:?}",
            fixture.name,
            run.events
        );
    }
}

#[test]
fn every_fixture_file_is_in_the_table_and_has_a_golden() {
    let mut names: Vec<String> = fs::read_dir(data_dir().join("sessions"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter_map(|name| name.strip_suffix(".bin").map(str::to_owned))
        .collect();
    names.sort();
    let mut table: Vec<String> = FIXTURES.iter().map(|f| f.name.to_owned()).collect();
    table.sort();
    assert_eq!(names, table);
    assert!(FIXTURES.len() >= 25);
    for name in &names {
        let golden = data_dir().join("golden").join(format!("{name}.json"));
        assert!(golden.exists(), "{} is missing", golden.display());
    }
}

#[test]
fn the_link_reports_the_relaxations_it_applied() {
    let warnings = |name: &str| -> Vec<Warning> {
        let (_, run) = session_texts(fixture(name));
        let run = run.unwrap();
        let events = run.events.into_iter().filter_map(|event| match event {
            LinkEvent::Warning(warning) => Some(warning),
            _ => None,
        });
        events.chain(run.message_warnings).collect()
    };
    let one_digit = warnings("one_digit_checksums");
    assert_eq!(
        one_digit
            .iter()
            .filter(|w| matches!(
                w,
                Warning::ChecksumAccepted {
                    checksum: Checksum::OneDigit,
                    ..
                }
            ))
            .count(),
        3,
        "{one_digit:?}"
    );
    assert!(matches!(
        warnings("first_frame_numbered_zero").as_slice(),
        [Warning::FirstFrameZero { .. }]
    ));
    assert!(matches!(
        warnings("duplicate_frame_after_lost_ack").as_slice(),
        [Warning::DuplicateFrame { .. }]
    ));
    // Lowercase checksums and LF-only trailers are accepted silently by default.
    assert!(warnings("lowercase_checksums").is_empty());
    assert!(warnings("horiba_pentra_xlr_lf_only_trailers").is_empty());

    let (_, run) = session_texts(fixture("bad_checksum_nak_retransmission"));
    let errors: Vec<&Error> = run
        .as_ref()
        .unwrap()
        .events
        .iter()
        .filter_map(|event| match event {
            LinkEvent::ProtocolError(error) => Some(error),
            _ => None,
        })
        .collect();
    assert!(
        matches!(
            errors.as_slice(),
            [Error::ChecksumRejected {
                checksum: Checksum::Mismatch { .. },
                ..
            }]
        ),
        "{errors:?}"
    );
}

#[test]
fn empty_sessions_produce_no_message() {
    let (texts, run) = session_texts(fixture("enq_eot_keepalive_then_results"));
    assert_eq!(texts.len(), 1);
    let ended = run
        .unwrap()
        .events
        .iter()
        .filter(|event| matches!(event, LinkEvent::SessionEnded { .. }))
        .count();
    assert_eq!(ended, 3);
}

#[test]
fn the_corrupted_frame_is_never_used() {
    let events = events_of(fixture("bad_checksum_nak_retransmission"));
    let tsh = results(&events)[0];
    assert_eq!(tsh.raw_value.as_deref(), Some("2.35"));
}

/// The frames of a fixture as the decoder sees them: (number byte, kind, text length,
/// checksum form).
fn frames_of(name: &str) -> Vec<(u8, FrameKind, usize, Checksum)> {
    let mut decoder = FrameDecoder::new(frame::MAX_TEXT_LIMIT);
    let mut frames = Vec::new();
    decoder.decode_each(&bytes_of(fixture(name)), |item| {
        if let FrameItem::Frame(frame) = item {
            frames.push((
                frame.number_byte,
                frame.kind,
                frame.text.len(),
                frame.checksum,
            ));
        }
    });
    frames
}

/// The generator made each fixture the shape its name says.
#[test]
fn fixtures_have_the_framing_they_claim() {
    let intermediate = |frames: &[(u8, FrameKind, usize, Checksum)]| {
        frames
            .iter()
            .filter(|f| f.1 == FrameKind::Intermediate)
            .count()
    };
    let longest =
        |frames: &[(u8, FrameKind, usize, Checksum)]| frames.iter().map(|f| f.2).max().unwrap_or(0);

    let span = frames_of("records_span_frames_etb_240");
    assert!(span.len() >= 4 && intermediate(&span) == span.len() - 1);
    assert_eq!(longest(&span), 240);

    let c311 = frames_of("roche_cobas_c311_several_records_per_frame");
    assert!(c311.len() == 1 && c311[0].2 > 240);

    let c111 = frames_of("roche_cobas_c111_etb_after_every_record");
    assert_eq!((c111.len(), intermediate(&c111)), (6, 5));

    let elecsys = frames_of("roche_elecsys_one_record_per_frame");
    assert!(elecsys.len() >= 8 && intermediate(&elecsys) == 0);
    assert!(
        elecsys.iter().any(|f| f.0 == b'0'),
        "frame numbers wrap 7 → 0"
    );

    let histogram = frames_of("yumizen_h500_histogram_m_record_26kb");
    assert!(histogram.len() > 100 && longest(&histogram) == 240);

    assert_eq!(frames_of("first_frame_numbered_zero")[0].0, b'0');
    // A checksum of two decimal digits has no case; every other one is lowercase.
    let lowercase = frames_of("lowercase_checksums");
    assert!(
        lowercase
            .iter()
            .all(|f| matches!(f.3, Checksum::Lowercase | Checksum::Valid))
    );
    assert!(
        lowercase
            .iter()
            .filter(|f| f.3 == Checksum::Lowercase)
            .count()
            >= 2
    );
    let pentra = bytes_of(fixture("horiba_pentra_xlr_lf_only_trailers"));
    assert!(!pentra.windows(2).any(|w| w == b"\r\n"), "LF-only trailers");
    assert_eq!(frames_of("horiba_pentra_xlr_lf_only_trailers").len(), 7);

    let several = frames_of("several_messages_one_session");
    let numbers: Vec<u8> = several.iter().map(|f| f.0).collect();
    assert_eq!(numbers, b"123");

    let bad = frames_of("bad_checksum_nak_retransmission");
    assert!(matches!(bad[1].3, Checksum::Mismatch { .. }));
    assert_eq!(bad[2].3, Checksum::Valid);

    // The Shift-JIS session is cut between the two bytes of `ポ` (83 7C).
    let (sjis_texts, _) = session_texts(fixture("shift_jis_patient_name_and_comment"));
    let sjis = bytes_of(fixture("shift_jis_patient_name_and_comment"));
    let cut = sjis.windows(2).position(|w| w == [0x83, 0x17]).unwrap();
    // Lead byte, ETB, checksum, CR LF, STX, frame number 2, then the trail byte.
    assert_eq!(&sjis[cut + 4..cut + 8], b"\r\n\x022");
    assert_eq!(sjis[cut + 8], 0x7C, "the trail byte opens the second frame");
    assert!(sjis_texts[0].windows(2).any(|w| w == [0x83, 0x7C]));

    let large = bytes_of(fixture("yumizen_h500_histogram_m_record_26kb"));
    let (texts, _) = session_texts(fixture("yumizen_h500_histogram_m_record_26kb"));
    let m_record = texts[0]
        .split(|b| *b == b'\r')
        .find(|record| record.starts_with(b"M|1|"))
        .unwrap();
    assert!(m_record.len() > 26_000 && large.len() > m_record.len());
}

/// One step of a `.script`: bytes the instrument sends, or bytes the host must answer.
enum Step {
    Instrument(Vec<u8>),
    Host(Vec<u8>),
}

/// Reads a `.script`: `> …` instrument to host, `< …` host to instrument, `#` comments;
/// `<NAME>` stands for a control byte or CR/LF and `<xHH>` for a byte; any other `<` is text.
fn read_script(text: &str) -> Vec<Step> {
    const NAMES: [(&str, u8); 9] = [
        ("STX", 0x02),
        ("ETX", 0x03),
        ("EOT", 0x04),
        ("ENQ", 0x05),
        ("ACK", 0x06),
        ("NAK", 0x15),
        ("ETB", 0x17),
        ("CR", 0x0D),
        ("LF", 0x0A),
    ];
    let decode = |line: &str| -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = line;
        while let Some(open) = rest.find('<') {
            out.extend_from_slice(&rest.as_bytes()[..open]);
            let after = &rest[open + 1..];
            let mnemonic = after.find('>').map(|close| &after[..close]);
            let byte = mnemonic.and_then(|name| {
                NAMES
                    .iter()
                    .find(|(known, _)| *known == name)
                    .map(|(_, byte)| *byte)
                    .or_else(|| {
                        name.strip_prefix('x')
                            .filter(|hex| hex.len() == 2)
                            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    })
            });
            match (byte, mnemonic) {
                (Some(byte), Some(name)) => {
                    out.push(byte);
                    rest = &after[name.len() + 1..];
                }
                _ => {
                    out.push(b'<');
                    rest = after;
                }
            }
        }
        out.extend_from_slice(rest.as_bytes());
        out
    };
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| match line.split_at(2) {
            ("> ", bytes) => Step::Instrument(decode(bytes)),
            ("< ", bytes) => Step::Host(decode(bytes)),
            _ => panic!("bad script line {line:?}"),
        })
        .collect()
}

/// Drives a receiving link through a `.script`: after each thing the instrument sends, the
/// link must answer exactly what the script says the host answers.
#[test]
fn scripted_sessions_get_the_expected_replies() {
    for name in [
        "bad_checksum_nak_retransmission",
        "duplicate_frame_after_lost_ack",
    ] {
        let path = data_dir().join("sessions").join(format!("{name}.script"));
        let steps = read_script(&fs::read_to_string(&path).unwrap());
        let mut link = Link::new(LinkConfig::new(Role::Computer)).unwrap();
        let mut texts = Vec::new();
        let mut instrument_bytes = Vec::new();
        let mut expected_reply = Vec::new();
        let mut now = 0;
        let check = |link: &mut Link, expected: &mut Vec<u8>| {
            assert_eq!(link.take_output(), *expected, "{name}: reply");
            expected.clear();
        };
        for step in steps {
            match step {
                Step::Instrument(bytes) => {
                    check(&mut link, &mut expected_reply);
                    now += 10;
                    link.handle_bytes(&bytes, Instant::from_millis(now));
                    instrument_bytes.extend_from_slice(&bytes);
                }
                Step::Host(bytes) => expected_reply.extend_from_slice(&bytes),
            }
            while let Some(event) = link.poll_event() {
                if let LinkEvent::MessageReceived { text, .. } = event {
                    texts.push(text);
                }
            }
        }
        check(&mut link, &mut expected_reply);
        // The script's instrument side is the capture, byte for byte.
        assert_eq!(instrument_bytes, bytes_of(fixture(name)), "{name}");
        let (sessions, _) = session_texts(fixture(name));
        assert_eq!(vec![texts.concat()], sessions, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Mapping bugs the goldens exposed. Each test says what the instrument said; they are ignored
// until `model.rs` is fixed, then the goldens are re-blessed.
// ---------------------------------------------------------------------------------------------

fn reports(name: &str) -> Vec<LabEvent> {
    events_of(fixture(name))
}

#[test]
fn sysmex_xn_sample_number_in_o4_component_3_is_the_specimen_id() {
    let events = reports("sysmex_xn_decimal_comma");
    let LabEvent::Results(report) = &events[0] else {
        panic!("{events:?}")
    };
    let specimen = report.specimen.as_ref().unwrap();
    let ids: Vec<&str> = specimen
        .ids
        .iter()
        .map(|id| id.expose().value.as_str())
        .collect();
    assert_eq!(ids, ["S24-000777"]);
    // The sample number is not a rack position.
    let container = specimen.container.as_ref();
    assert_ne!(
        container.and_then(|c| c.position.as_deref()),
        Some("S24-000777")
    );
}

#[test]
fn sysmex_xn_patient_name_is_first_then_last() {
    let events = reports("sysmex_xn_decimal_comma");
    let LabEvent::Results(report) = &events[0] else {
        panic!("{events:?}")
    };
    let name = report.patient.as_ref().unwrap().name.as_ref().unwrap();
    assert_eq!(name.expose().given.as_deref(), Some("Erik"));
    assert_eq!(name.expose().family.as_deref(), Some("Larsen"));
}

#[test]
fn sysmex_xn_query_reads_the_sample_number_from_q3_component_3() {
    let events = reports("sysmex_xn_query");
    let LabEvent::Query(query) = &events[0] else {
        panic!("{events:?}")
    };
    let ids: Vec<&str> = query
        .specimen_ids
        .iter()
        .map(|id| id.expose().value.as_str())
        .collect();
    assert_eq!(ids, ["S24-000778"]);
    let container = query.container.as_ref().unwrap();
    assert_eq!(container.carrier.as_deref(), Some("2"));
    assert_eq!(container.position.as_deref(), Some("1"));
}

#[test]
fn query_for_all_tests_has_no_test_codes() {
    let events = reports("host_query_q_record");
    let LabEvent::Query(query) = &events[1] else {
        panic!("{events:?}")
    };
    assert!(query.tests.is_empty(), "{:?}", query.tests);
}

#[test]
fn value_in_component_2_of_r4_is_not_lost() {
    let events = reports("cepheid_genexpert_delimiters");
    let ct = results(&events)[1];
    assert_eq!(ct.raw_value.as_deref(), Some("^24.7"));
    let ResultValue::Quantity(quantity) = &ct.value else {
        panic!("{:?}", ct.value)
    };
    assert_eq!(quantity.value.as_str(), "24.7");
}

#[test]
fn components_of_r4_after_the_value_are_kept() {
    let events = reports("biorad_ih_double_cr_lowercase_extra_fields");
    let grade = results(&events)[0];
    assert_eq!(grade.raw_value.as_deref(), Some("4+^4+^0"));
}

#[test]
fn universal_test_id_components_beyond_the_code_are_kept() {
    let events = reports("microbiology_mic_sequence_restart");
    let all = results(&events);
    let (mic, interpretation) = (all[0], all[1]);
    assert_eq!(mic.test.code, interpretation.test.code);
    assert!(
        mic.test != interpretation.test
            || mic.sub_id != interpretation.sub_id
            || mic.alt_tests != interpretation.alt_tests,
        "R|1|^^^AMK^MIC and R|2|^^^AMK^INTERP map to the same test"
    );
}

#[test]
fn header_comment_is_kept_on_the_reports_that_follow() {
    let events = reports("comments_after_patient_order_result");
    let LabEvent::Results(report) = &events[0] else {
        panic!("{events:?}")
    };
    assert!(
        report
            .notes
            .iter()
            .any(|note| note == "Header note, not about a specimen"),
        "{:?}",
        report.notes
    );
}

#[test]
fn qc_order_comments_are_kept() {
    let events = reports("qc_run_action_code_q");
    let json = serde_json::to_string(&events).unwrap();
    assert!(json.contains("Control lot 2304A, level 1"), "{json}");
}

#[test]
fn records_after_the_l_record_do_not_lose_the_messages_before_them() {
    // A raw TCP stream (no framing) with a stray, repeated terminator after a message.
    let text = b"H|\\^&\rP|1\rO|1|S1\rR|1|^^^GLU|5.4\rL|1|N\rL|1|N\rH|\\^&\rL|1|N\r";
    let (messages, warnings) = parse_messages(text, &RecordOptions::default()).unwrap();
    assert_eq!(messages.len(), 2);
    assert!(
        warnings
            .iter()
            .any(|w| w.kind == labwire_astm::record::RecordWarningKind::AfterTerminator)
    );
}

// ---------------------------------------------------------------------------------------------
// Shift-JIS and calibration
// ---------------------------------------------------------------------------------------------

/// `ソ` (83 5C), `タ` (83 5E) and `ポ` (83 7C) end in the bytes of `\`, `^` and `|`: read as
/// Shift-JIS, each stays one character and no field, repeat or component is cut at it.
#[test]
fn shift_jis_double_byte_characters_are_never_cut_at_a_delimiter_byte() {
    let events = reports("shift_jis_patient_name_and_comment");
    let [LabEvent::Results(report)] = events.as_slice() else {
        panic!("{events:?}")
    };
    let name = report
        .patient
        .as_ref()
        .unwrap()
        .name
        .as_ref()
        .unwrap()
        .expose();
    assert_eq!(name.family.as_deref(), Some("ソノダ"));
    assert_eq!(name.given.as_deref(), Some("タロウ"));
    assert_eq!(report.notes, ["ポンプ表示異常のため再測定"]);
    let codes: Vec<&str> = report
        .results
        .iter()
        .map(|r| r.test.code.as_str())
        .collect();
    assert_eq!(codes, ["717", "690"]);
    assert_eq!(report.results[0].notes, ["溶血 軽度"]);
    assert_eq!(
        report
            .patient
            .as_ref()
            .unwrap()
            .sex
            .as_ref()
            .unwrap()
            .expose()
            .code(),
        "M",
        "the fields after the name keep their numbers"
    );
    let tests: Vec<&str> = report
        .order
        .as_ref()
        .unwrap()
        .tests
        .iter()
        .map(|test| test.code.as_str())
        .collect();
    assert_eq!(tests, ["717", "690"]);
}

/// The same bytes read as Latin-1 (a misconfigured instrument) fall apart exactly where the
/// Shift-JIS scan keeps them together: the check that the fixture tests what it claims.
#[test]
fn shift_jis_bytes_read_as_latin1_are_cut_at_the_trail_bytes() {
    let (texts, _) = session_texts(fixture("shift_jis_patient_name_and_comment"));
    let options = RecordOptions {
        charset: Charset::Latin1,
        ..RecordOptions::default()
    };
    let (messages, _) = parse_messages(&texts[0], &options).unwrap();
    let patient = messages[0].record(1).unwrap();
    // `ソ`'s 0x5C is taken for the repeat delimiter, `タ`'s 0x5E for a component.
    assert_eq!(patient.field(6).repeats().count(), 2);
    let comment = messages[0].record(3).unwrap();
    // `ポ`'s 0x7C is taken for a field delimiter: the comment has a field too many.
    assert_eq!(comment.field_count(), 6);
}

#[test]
fn roche_calibration_records_become_calibrations() {
    let events = reports("roche_cobas_c111_calibration_m_cr");
    let [
        LabEvent::Calibration(glucose),
        LabEvent::Calibration(sodium),
    ] = events.as_slice()
    else {
        panic!("{events:?}")
    };
    let test = glucose.test.as_ref().unwrap();
    assert_eq!(
        (test.code.as_str(), test.display.as_deref()),
        ("717", Some("GLUC2"))
    );
    assert_eq!(glucose.state, Some(CalibrationState::Calibrated));
    assert_eq!(glucose.outcome, Some(Outcome::Pass));
    assert_eq!(glucose.at.unwrap().format_astm(), "20240402071522");
    assert_eq!(glucose.instrument.name.as_deref(), Some("c111"));
    let lots: Vec<(Option<SubstanceType>, Option<&str>)> = glucose
        .substances
        .iter()
        .map(|lot| (lot.kind.clone(), lot.lot.as_deref()))
        .collect();
    assert_eq!(
        lots,
        [
            (Some(SubstanceType::SingleTestReagent), Some("61472301")),
            (Some(SubstanceType::Calibrator), Some("17354601")),
        ]
    );
    // Two levels, each its signal and two replicates; the target in a note.
    assert_eq!(glucose.results.len(), 2);
    let high = &glucose.results[1];
    assert_eq!(high.sequence, Some(2));
    let ResultValue::Quantity(signal) = &high.value else {
        panic!("{:?}", high.value)
    };
    assert_eq!(signal.value.as_str(), "0.4817");
    assert_eq!(high.additional_values.len(), 2);
    assert_eq!(
        high.raw_value.as_deref(),
        Some("16.2^0.4817^0.4809^0.4825^0^0")
    );
    assert_eq!(high.notes, ["calibrator level 2, target 16.2 mmol/L"]);
    assert!(high.interpretation.is_empty(), "data alarm 0 is no flag");
    assert_eq!(high.operator.as_ref().unwrap().expose(), "$SYS$");
    assert!(
        glucose
            .notes
            .iter()
            .any(|note| note == "Calibration after reagent lot change"),
        "the comment after the record: {:?}",
        glucose.notes
    );
    assert!(
        glucose
            .notes
            .iter()
            .any(|note| note.starts_with("curve parameters 3.364000E+01"))
    );

    // The ISE calibration was calculated with flags and not accepted: no verdict.
    assert_eq!((sodium.state.clone(), sodium.outcome.clone()), (None, None));
    assert!(
        sodium
            .notes
            .iter()
            .any(|note| note.contains("with flags, not accepted"))
    );
    assert_eq!(sodium.results.len(), 1);
    assert_eq!(sodium.results[0].additional_values.len(), 1);
    assert_eq!(sodium.results[0].interpretation[0].code(), "1");
    assert_eq!(
        sodium.substances[0].kind,
        Some(SubstanceType::OtherSubstance)
    );
    assert!(
        sodium.provenance.warnings.is_empty(),
        "{:?}",
        sodium.provenance
    );
}

#[test]
fn calibration_records_stay_raw_for_dialects_without_them() {
    let (texts, _) = session_texts(fixture("roche_cobas_c111_calibration_m_cr"));
    let (messages, _) = parse_messages(&texts[0], &RecordOptions::default()).unwrap();
    let events = to_events(&messages[0], &Dialect::generic());
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn calibrator_orders_become_calibrations_and_patient_orders_stay_results() {
    let events = reports("calibrator_orders_specimen_descriptor");
    let [
        LabEvent::Calibration(low),
        LabEvent::Calibration(high),
        LabEvent::Results(patient),
    ] = events.as_slice()
    else {
        panic!("{events:?}")
    };
    assert_eq!(low.test.as_ref().unwrap().code, "GLU");
    assert_eq!(low.results.len(), 2);
    assert_eq!(low.at.unwrap().format_astm(), "20240403060530");
    assert_eq!(
        low.substances[0].material.as_ref().unwrap().code,
        "CAL-GLU-1",
        "the calibrator specimen names the material"
    );
    assert_eq!(high.results[0].notes, ["Calibrator lot 17354601"]);
    assert_eq!((low.state.clone(), low.outcome.clone()), (None, None));
    assert_eq!(patient.results.len(), 1);
    assert_eq!(
        patient.specimen.as_ref().unwrap().ids[0].expose().value,
        "S24-9001"
    );
    // Without the site's marker, the same session is three result reports.
    let (texts, _) = session_texts(fixture("calibrator_orders_specimen_descriptor"));
    let (messages, _) = parse_messages(&texts[0], &RecordOptions::default()).unwrap();
    let plain = to_events(&messages[0], &Dialect::generic());
    assert!(
        plain
            .iter()
            .all(|event| matches!(event, LabEvent::Results(_)))
    );
    assert_eq!(plain.len(), 3);
}
