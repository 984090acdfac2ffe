//! The `labwire` binary, run as a user runs it.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod gateway;
mod gateway_serial;
mod gateway_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn labwire(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_labwire"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}")))
        .collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn decode_writes_one_event_per_line_for_the_samples() {
    let output = labwire(&["decode", "samples/data"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    let events = lines(&output);
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "results",
            "results",
            "qc",
            "results",
            "imaging_study",
            "results"
        ]
    );
    // The first report, checked against the capture by hand.
    let first = &events[0];
    assert_eq!(first["specimen"]["ids"][0]["value"], "S26-0001042");
    assert_eq!(first["results"][0]["test"]["code"], "GLU");
    assert_eq!(first["results"][0]["value"]["value"], "5.62");
    assert_eq!(first["results"][1]["interpretation"][0], "H");
    assert_eq!(
        first["results"][1]["notes"][0],
        "Sample slightly hemolyzed (HIL H=12)"
    );
    assert_eq!(first["results"][2]["value"]["comparator"], "<");
    // Sysmex decimal commas read as decimals.
    assert_eq!(events[3]["results"][0]["value"]["value"], "7.41");
    // The HL7 sample: MLLP-framed OUL^R22, UTF-8 names, an SN value, a note.
    let slide = &events[4];
    assert_eq!(slide["modality"], "SM");
    assert_eq!(slide["specimens"][0]["container"]["id"], "S19-1_A_1_1");
    let hl7 = &events[5];
    assert_eq!(hl7["provenance"]["protocol"], "hl7v2");
    assert_eq!(hl7["patient"]["name"]["given"], "Jörg");
    assert_eq!(hl7["results"][0]["loinc"], "3016-3");
    assert_eq!(hl7["results"][0]["value"]["value"], "2.47");
    assert_eq!(
        hl7["results"][1]["notes"][0],
        "Reagent lot 41267UN25, calibrated 2026-11-20"
    );
    assert_eq!(hl7["results"][2]["value"]["comparator"], ">");
}

#[test]
fn stdin_is_read_with_a_dash() {
    let bytes = std::fs::read(root().join("samples/data/astm-hematology-raw.astm")).unwrap();
    let output = labwire(&["decode", "-"], Some(&bytes));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(lines(&output).len(), 1);
}

/// Files are decoded by several threads: the output must still follow the input
/// order, also past how far a worker may run ahead, with unreadable files among them.
#[test]
fn decoding_many_files_keeps_their_order() {
    let dir = std::env::temp_dir().join(format!("labwire-cli-order-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let template =
        std::fs::read_to_string(root().join("hl7/tests/data/labwire_oru_r01_sn_values.hl7"))
            .unwrap();
    let mut expected = Vec::new();
    for index in 0..150 {
        let path = dir.join(format!("{index:04}.hl7"));
        if index % 37 == 5 {
            std::fs::write(&path, b"not instrument data").unwrap();
            continue;
        }
        let control_id = format!("ORDER-{index:04}");
        std::fs::write(&path, template.replace("AU-55120", &control_id)).unwrap();
        expected.push(control_id);
    }
    let output = labwire(&["decode", dir.to_str().unwrap()], None);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let ids: Vec<String> = lines(&output)
        .iter()
        .map(|event| {
            event["provenance"]["message_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids, expected);
    assert_eq!(
        stderr(&output).matches("error:").count(),
        4,
        "{}",
        stderr(&output)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rejected_input_exits_1_and_the_good_input_is_still_written() {
    let dir = std::env::temp_dir().join(format!("labwire-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, b"this is not instrument data").unwrap();
    let output = labwire(
        &[
            "decode",
            bad.to_str().unwrap(),
            "samples/data/astm-hematology-raw.astm",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("bad.txt"), "{}", stderr(&output));
    assert_eq!(lines(&output).len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn strict_mode_rejects_what_lenient_mode_warns_about() {
    let text = b"H|\\^&\nP|1\nO|1|S1\nR|1|^^^GLU|5.1\nL|1|N\n";
    let lenient = labwire(&["decode", "-"], Some(text));
    assert!(lenient.status.success());
    assert!(stderr(&lenient).contains("warning"), "{}", stderr(&lenient));
    let strict = labwire(&["decode", "--strict", "-"], Some(text));
    assert_eq!(strict.status.code(), Some(1));
    assert!(stderr(&strict).contains("byte"), "{}", stderr(&strict));
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    assert_eq!(labwire(&["decode"], None).status.code(), Some(2));
    assert_eq!(labwire(&["frobnicate"], None).status.code(), Some(2));
    let output = labwire(
        &["mqtt", "--config", "no/such/file.toml", "samples/data"],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let dir = std::env::temp_dir().join(format!("labwire-cli-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("bad.toml");
    std::fs::write(&config, "site = \"Bad Site\"\ngateway = \"gw\"\n").unwrap();
    let output = labwire(
        &["mqtt", "--config", config.to_str().unwrap(), "samples/data"],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("`site`"), "{}", stderr(&output));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn mqtt_dry_run_is_reproducible_and_keeps_identifiers_out() {
    let args = [
        "mqtt",
        "--config",
        "samples/labwire.toml",
        "--now",
        "2026-11-24T09:31:00Z",
        "--seed",
        "1",
        "samples/data",
    ];
    let first = labwire(&args, None);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(first.stdout, labwire(&args, None).stdout);
    let messages = lines(&first);
    let topics: Vec<&str> = messages
        .iter()
        .map(|m| m["topic"].as_str().unwrap())
        .collect();
    assert_eq!(
        topics,
        [
            "lab/v1/demo-hospital/chemistry/cobas-c311/result",
            "lab/v1/demo-hospital/chemistry/cobas-c311/result",
            "lab/v1/demo-hospital/chemistry/cobas-c311/qc",
            "lab/v1/demo-hospital/hematology/sysmex-xn550/result",
            "lab/v1/demo-hospital/pathology/slide-scanner/imaging",
            "lab/v1/demo-hospital/immunology/architect-i2000/result",
        ]
    );
    let text = String::from_utf8(first.stdout).unwrap();
    for identifier in [
        "PAT-000417",
        "S26-0001042",
        "Testpatient",
        "1970",
        "PAT-000420",
        "Beispiel",
        "AA01",
        "S19-1_A_1_1",
        "1789-05-05",
    ] {
        assert!(!text.contains(identifier), "{identifier} leaked");
    }
    assert_eq!(messages[0]["payload"]["schema"], "lab.result/1");
    assert_eq!(messages[0]["payload"]["sent_at"], "2026-11-24T09:31:00Z");
}

#[test]
fn validate_reports_every_deviation_and_exits_1() {
    let text = b"H|\\^&\nP|1\nO|1|S1\nR|3|^^^GLU|5.1\n";
    let output = labwire(&["validate", "-"], Some(text));
    assert_eq!(output.status.code(), Some(1));
    let report = stderr(&output);
    for deviation in ["Separator", "Sequence", "MissingTerminator"] {
        assert!(
            report.contains(deviation),
            "{deviation} missing from {report}"
        );
    }
    let clean = labwire(&["validate", "samples/data/astm-hematology-raw.astm"], None);
    assert!(clean.status.success(), "{}", stderr(&clean));
    assert!(stderr(&clean).contains("ok (1 events)"));
}

/// A one-connection MLLP listener that answers AA, then AE for the second message.
fn mllp_listener() -> (String, std::thread::JoinHandle<Vec<String>>) {
    use labwire_hl7::{Message, MllpDecoder, ParseOptions, Status};
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut decoder = MllpDecoder::new(1 << 20);
        let mut control_ids = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            while let Status::Complete(frame) = decoder.next_frame().unwrap() {
                let message = Message::parse(frame.payload, &ParseOptions::default()).unwrap();
                let id = message.control_id().decoded().unwrap().into_owned();
                let code = if control_ids.len() == 1 { "AE" } else { "AA" };
                control_ids.push(id.clone());
                let ack = format!(
                    "MSH|^~\\&|LIS|LAB|AN|LAB|20261124||ACK|A{id}|P|2.5.1\rMSA|{code}|{id}|checked\r"
                );
                let mut framed = Vec::new();
                labwire_hl7::mllp::encode(ack.as_bytes(), &mut framed).unwrap();
                stream.write_all(&framed).unwrap();
            }
            let read = stream.read(&mut buffer).unwrap();
            if read == 0 {
                return control_ids;
            }
            decoder.push(&buffer[..read]).unwrap();
        }
    });
    (address, handle)
}

#[test]
fn replay_sends_hl7_over_mllp_and_reports_each_ack() {
    let (address, listener) = mllp_listener();
    let dir = std::env::temp_dir().join(format!("labwire-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("two.hl7");
    std::fs::write(
        &file,
        "MSH|^~\\&|AN|LAB|LIS|LAB|20261124||ORU^R01|M1|P|2.5.1\rPID|1||P1\rOBX|1|NM|GLU||5.1\r\
         MSH|^~\\&|AN|LAB|LIS|LAB|20261124||ORU^R01|M2|P|2.5.1\rPID|1||P2\rOBX|1|NM|GLU||6.2\r",
    )
    .unwrap();
    let output = labwire(
        &[
            "replay",
            "--to",
            &address,
            "--protocol",
            "mllp",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(listener.join().unwrap(), ["M1", "M2"]);
    let outcomes = lines(&output);
    assert_eq!(outcomes.len(), 2, "{}", stderr(&output));
    assert_eq!(outcomes[0]["outcome"], "acknowledged");
    assert_eq!(outcomes[0]["ack"], "AA");
    assert_eq!(outcomes[1]["outcome"], "rejected");
    assert_eq!(outcomes[1]["ack"], "AE");
    assert_eq!(outcomes[1]["detail"], "checked");
    assert_eq!(
        output.status.code(),
        Some(1),
        "an AE is not an acknowledgement"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn replay_sends_astm_through_the_link_protocol() {
    use labwire_astm::link::{Instant, Link, LinkConfig, LinkEvent, Role};
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let receiver = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_millis(50)))
            .unwrap();
        let started = std::time::Instant::now();
        let now = || Instant::from_millis(started.elapsed().as_millis() as u64);
        let mut link = Link::new(LinkConfig::new(Role::Computer)).unwrap();
        let mut received = Vec::new();
        let mut buffer = [0u8; 4096];
        while started.elapsed() < std::time::Duration::from_secs(20) {
            match stream.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => link.handle_bytes(&buffer[..read], now()),
                Err(_) => link.handle_timeout(now()),
            }
            stream.write_all(&link.take_output()).unwrap();
            while let Some(event) = link.poll_event() {
                if let LinkEvent::MessageReceived { text, .. } = event {
                    received.push(text);
                }
            }
        }
        received
    });
    let output = labwire(
        &[
            "replay",
            "--to",
            &address,
            "--protocol",
            "astm",
            "samples/data/astm-chemistry-session.astm",
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let outcomes = lines(&output);
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.iter().all(|o| o["outcome"] == "acknowledged"));
    let received = receiver.join().unwrap();
    assert_eq!(received.len(), 2);
    assert!(received[0].starts_with(b"H|\\^&|||c311"));
    assert!(received[1].windows(12).any(|w| w == b"QC-PCCC1-L1|"));
}

#[test]
fn convert_writes_hl7_that_maps_back_to_the_same_values() {
    let output = labwire(
        &[
            "convert",
            "--to",
            "hl7",
            "--now",
            "2026-11-24T10:00:00Z",
            "samples/data/astm-hematology-raw.astm",
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let message =
        labwire_hl7::Message::parse(&output.stdout, &labwire_hl7::ParseOptions::strict()).unwrap();
    assert_eq!(
        message.get("MSH-9").unwrap().as_str(),
        Some("OUL^R22^OUL_R22")
    );
    let mapped = labwire_hl7::to_events(&message, &labwire_hl7::MapOptions::default()).unwrap();
    let labwire_model::LabEvent::Results(report) = &mapped.events[0] else {
        panic!("{:?}", mapped.events)
    };
    let values: Vec<String> = report
        .results
        .iter()
        .map(|result| {
            serde_json::to_value(&result.value).unwrap()["value"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(values, ["7.41", "13.8", "98"]);
}

#[test]
fn convert_writes_work_orders_as_astm_and_refuses_results() {
    let output = labwire(
        &[
            "convert",
            "--to",
            "astm",
            "--now",
            "2026-11-24T10:00:00Z",
            "hl7/tests/data/labwire_oml_o33_order.hl7",
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let (messages, warnings) = labwire_astm::record::parse_messages(
        &output.stdout,
        &labwire_astm::record::RecordOptions::default(),
    )
    .unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(!messages.is_empty() && messages.iter().all(|m| m.is_complete()));
    let order = messages[0]
        .records()
        .find(|r| r.kind() == labwire_astm::record::RecordType::ORDER)
        .unwrap();
    assert_eq!(order.field(3).text(), "S24-004711");

    let refused = labwire(
        &[
            "convert",
            "--to",
            "astm",
            "samples/data/astm-hematology-raw.astm",
        ],
        None,
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("only work orders"),
        "{}",
        stderr(&refused)
    );
}

/// Compares `actual` with `cli/tests/data/golden/{name}`; `LABWIRE_BLESS=1` rewrites it.
fn golden(name: &str, actual: &str) {
    let path = root().join("cli/tests/data/golden").join(name);
    if std::env::var_os("LABWIRE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("{}: {err} (bless with LABWIRE_BLESS=1)", path.display()));
    for (number, (want, got)) in expected.lines().zip(actual.lines()).enumerate() {
        assert_eq!(got, want, "{name}, line {}", number + 1);
    }
    assert_eq!(
        actual.lines().count(),
        expected.lines().count(),
        "{name}: line count"
    );
}

#[test]
fn decode_output_of_the_samples_matches_its_golden_file() {
    let output = labwire(&["decode", "samples/data"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    golden(
        "decode-samples.ndjson",
        &String::from_utf8(output.stdout).unwrap(),
    );
}

#[test]
fn mqtt_dry_run_of_the_samples_matches_its_golden_file() {
    let output = labwire(
        &[
            "mqtt",
            "--config",
            "samples/labwire.toml",
            "--now",
            "2026-11-24T10:00:00.000Z",
            "--seed",
            "7",
            "samples/data",
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    golden(
        "mqtt-samples.ndjson",
        &String::from_utf8(output.stdout).unwrap(),
    );
}
