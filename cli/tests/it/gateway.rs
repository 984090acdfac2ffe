//! `labwire gateway` end to end on loopback: a real mosquitto, the real binary, a
//! rumqttc subscriber, instruments played by `labwire replay`.
//!
//! mosquitto must be installed (`.ci/run` installs it and sets
//! `LABWIRE_REQUIRE_MOSQUITTO=1`, which turns a missing broker into a failure instead
//! of a skipped test). Every wait is bounded. The helpers are in `gateway_support`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::gateway_support::{
    Broker, Gateway, Subscriber, WAIT, free_port, have_mosquitto, scratch, source_ids, wait_until,
};
use super::root;

/// Runs `labwire replay`; returns its JSON lines.
fn replay(to: &str, protocol: &str, files: &[&Path]) -> Vec<serde_json::Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_labwire"))
        .args([
            "replay",
            "--timeout",
            "20",
            "--to",
            to,
            "--protocol",
            protocol,
        ])
        .args(files)
        .current_dir(root())
        .output()
        .unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// `n` ORU^R01 messages, each with one result and control id `MSG{i}`, MLLP-framed.
fn oru_messages(first: usize, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in first..first + n {
        out.push(0x0b);
        write!(
            out,
            "MSH|^~\\&|CHEM|LAB|LIS|HOSP|20240301101502||ORU^R01^ORU_R01|MSG{i}|P|2.5.1\r\
             PID|1||MRN-{i}^^^HOSP^MR\r\
             OBR|1|P-{i}||2345-7^Glucose^LN\r\
             OBX|1|NM|2345-7^Glucose^LN||5.{i}|mmol/L|3.9-6.1|N|||F\r"
        )
        .unwrap();
        out.extend_from_slice(&[0x1c, 0x0d]);
    }
    out
}

fn acknowledged(lines: &[serde_json::Value]) -> usize {
    lines
        .iter()
        .filter(|line| line["outcome"] == "acknowledged")
        .count()
}

#[test]
fn gateway_publishes_the_replayed_samples_as_the_dry_run_maps_them() {
    if !have_mosquitto() {
        return;
    }
    let dir = scratch("samples");
    let broker = Broker::start(&dir);
    let subscriber = Subscriber::start(broker.port);
    let gateway = Gateway::start(&dir, broker.port);
    let hl7 = root().join("samples/data/hl7-immunoassay-oul-r22.mllp");
    let astm = root().join("samples/data/astm-chemistry-session.astm");
    assert_eq!(acknowledged(&replay(gateway.mllp(), "mllp", &[&hl7])), 1);
    assert_eq!(acknowledged(&replay(gateway.astm(), "astm", &[&astm])), 2);

    // The dry run with the listeners' routes says what must arrive.
    let mut expected = BTreeMap::new();
    for (file, instrument, area) in [
        (&hl7, "chem-1", "chemistry"),
        (&astm, "heme-1", "hematology"),
    ] {
        let config = dir.join(format!("{instrument}.toml"));
        std::fs::write(
            &config,
            format!(
                "site = \"test-site\"\ngateway = \"gw-test\"\ninstrument = \"{instrument}\"\narea = \"{area}\"\n\
                 [pseudonymization]\nkey_hex = \"000102030405060708090a0b0c0d0e0f\"\nkey_id = \"k1\"\n"
            ),
        )
        .unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_labwire"))
            .args(["mqtt", "--config"])
            .arg(&config)
            .arg(file)
            .output()
            .unwrap();
        assert!(output.status.success());
        for line in String::from_utf8(output.stdout).unwrap().lines() {
            let line: serde_json::Value = serde_json::from_str(line).unwrap();
            let mut body = line["payload"].clone();
            body["msg_id"] = serde_json::Value::Null;
            body["sent_at"] = serde_json::Value::Null;
            expected
                .entry(line["topic"].as_str().unwrap().to_owned())
                .or_insert_with(Vec::new)
                .push(body);
        }
    }
    let count: usize = expected.values().map(Vec::len).sum();
    assert!(count >= 4, "the samples give several messages");
    wait_until("every expected message", || {
        let got = subscriber.snapshot();
        expected.iter().all(|(topic, bodies)| {
            bodies.iter().all(|body| {
                got.iter().any(|m| {
                    let mut payload = m.payload.clone();
                    payload["msg_id"] = serde_json::Value::Null;
                    payload["sent_at"] = serde_json::Value::Null;
                    &m.topic == topic && &payload == body
                })
            })
        })
    });
    // The Prometheus endpoint counts them: one HL7 and two ASTM messages in, every
    // MQTT message acknowledged by the broker.
    let metrics = gateway.scrape();
    assert_eq!(metrics.value("labwire_gateway_received_total"), 3);
    assert_eq!(metrics.value("labwire_gateway_dead_lettered_total"), 0);
    assert_eq!(metrics.listener("labwire_listener_received_total", 0), 1);
    assert_eq!(metrics.listener("labwire_listener_received_total", 1), 2);
    assert_eq!(metrics.listener("labwire_listener_received_total", 2), 0);
    assert!(metrics.listener("labwire_listener_links_total", 1) >= 1);
    assert!(
        metrics
            .text
            .contains("# TYPE labwire_gateway_published_total counter\n")
    );
    wait_until("the broker's acknowledgements to be counted", || {
        gateway.scrape().value("labwire_gateway_published_total") >= count as u64
    });
    // Liveness and link status arrive too, and no topic carries an identifier.
    let got = subscriber.snapshot();
    assert!(
        got.iter().any(
            |m| m.topic == "lab/v1/test-site/_gw/gw-test/status" && m.payload["online"] == true
        )
    );
    assert!(
        got.iter()
            .any(|m| m.topic == "lab/v1/test-site/chemistry/chem-1/status")
    );
    for m in &got {
        assert!(!m.msg_id.is_empty() || m.topic.contains("/_gw/"), "{m:?}");
    }
    assert!(gateway.stop().success());
    // A clean stop publishes the offline status (the will is only for crashes).
    wait_until("the offline status", || {
        subscriber
            .snapshot()
            .iter()
            .any(|m| m.topic.ends_with("/_gw/gw-test/status") && m.payload["online"] == false)
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_broker_outage_loses_nothing() {
    if !have_mosquitto() {
        return;
    }
    let dir = scratch("outage");
    let mut broker = Broker::start(&dir);
    let subscriber = Subscriber::start(broker.port);
    let gateway = Gateway::start(&dir, broker.port);
    let batch = |name: &str, first: usize| {
        let file = dir.join(name);
        std::fs::write(&file, oru_messages(first, 20)).unwrap();
        file
    };
    let (before, during, after) = (batch("a.mllp", 0), batch("b.mllp", 20), batch("c.mllp", 40));
    assert_eq!(
        acknowledged(&replay(gateway.mllp(), "mllp", &[&before])),
        20
    );
    subscriber.wait_for("result", 20);
    broker.stop();
    // The broker is gone: every message is still acknowledged, because it is spooled.
    assert_eq!(
        acknowledged(&replay(gateway.mllp(), "mllp", &[&during])),
        20
    );
    broker.restart();
    assert_eq!(acknowledged(&replay(gateway.mllp(), "mllp", &[&after])), 20);
    let results = subscriber.wait_for("result", 60);
    let expected: BTreeSet<String> = (0..60).map(|i| format!("MSG{i}")).collect();
    assert_eq!(source_ids(&results), expected, "{}", gateway.log());
    // Duplicates (QoS 1) carry the same msg-id: one result per message id.
    let distinct: BTreeSet<_> = results.iter().map(|m| m.msg_id.clone()).collect();
    assert_eq!(distinct.len(), 60);
    assert!(gateway.log().contains("spool"), "{}", gateway.log());
    let metrics = gateway.scrape();
    assert_eq!(metrics.value("labwire_gateway_received_total"), 60);
    assert!(
        metrics.value("labwire_gateway_spooled_total") >= 20,
        "{}",
        metrics.text
    );
    assert!(
        metrics.value("labwire_gateway_reconnects_total") >= 1,
        "{}",
        metrics.text
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn spooled_messages_survive_a_gateway_crash() {
    if !have_mosquitto() {
        return;
    }
    let dir = scratch("crash");
    let mut broker = Broker::start(&dir);
    let subscriber = Subscriber::start(broker.port);
    broker.stop();
    let gateway = Gateway::start(&dir, broker.port);
    let file = dir.join("while-down.mllp");
    std::fs::write(&file, oru_messages(100, 15)).unwrap();
    assert_eq!(acknowledged(&replay(gateway.mllp(), "mllp", &[&file])), 15);
    gateway.kill();
    broker.restart();
    let gateway = Gateway::start(&dir, broker.port);
    let results = subscriber.wait_for("result", 15);
    let expected: BTreeSet<String> = (100..115).map(|i| format!("MSG{i}")).collect();
    assert_eq!(source_ids(&results), expected, "{}", gateway.log());
    assert!(gateway.stop().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_input_is_refused_and_kept_and_the_connection_still_works() {
    if !have_mosquitto() {
        return;
    }
    let dir = scratch("malformed");
    let broker = Broker::start(&dir);
    let subscriber = Subscriber::start(broker.port);
    let gateway = Gateway::start(&dir, broker.port);
    // One connection: garbage, an oversized frame, an unsupported message type, a good message.
    let mut input = Vec::new();
    input.extend_from_slice(b"\x0bthis is not HL7\x1c\x0d");
    input.push(0x0b);
    input.extend(std::iter::repeat_n(b'A', 70_000));
    input.extend_from_slice(b"\x1c\x0d");
    input.extend_from_slice(
        b"\x0bMSH|^~\\&|A|B|C|D|20240301||ADT^A01|ADT1|P|2.5.1\rPID|1||X\r\x1c\x0d",
    );
    input.extend(oru_messages(7, 1));
    let file = dir.join("mixed.mllp");
    std::fs::write(&file, &input).unwrap();
    let lines = replay(gateway.mllp(), "mllp", &[&file]);
    let outcomes: Vec<&str> = lines
        .iter()
        .map(|l| l["ack"].as_str().unwrap_or("none"))
        .collect();
    assert_eq!(outcomes.last(), Some(&"AA"), "{lines:?}");
    assert!(
        outcomes
            .iter()
            .filter(|o| **o == "AE" || **o == "AR")
            .count()
            >= 2,
        "{lines:?}"
    );
    let results = subscriber.wait_for("result", 1);
    assert_eq!(source_ids(&results), BTreeSet::from(["MSG7".to_owned()]));
    // ASTM: a message that is not E1394 is NAKed (its retransmission too) and kept.
    let mut stream = std::net::TcpStream::connect(gateway.astm()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let reply = |stream: &mut std::net::TcpStream, bytes: &[u8]| {
        stream.write_all(bytes).unwrap();
        let mut byte = [0u8];
        std::io::Read::read_exact(stream, &mut byte).unwrap();
        byte[0]
    };
    assert_eq!(reply(&mut stream, b"\x05"), 0x06, "ENQ is accepted");
    let text = b"1this is not ASTM\r\x03";
    let sum: u32 = text.iter().map(|b| u32::from(*b)).sum();
    let mut frame = vec![0x02];
    frame.extend_from_slice(text);
    write!(frame, "{:02X}\r\n", sum % 256).unwrap();
    assert_eq!(reply(&mut stream, &frame), 0x15, "the message is refused");
    assert_eq!(
        reply(&mut stream, &frame),
        0x15,
        "and so is its retransmission"
    );
    stream.write_all(b"\x04").unwrap();
    drop(stream);
    wait_until("the ASTM dead letter", || {
        std::fs::read_dir(dir.join("dead-letter"))
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".astm"))
    });
    let dead: Vec<_> = std::fs::read_dir(dir.join("dead-letter"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let reasons = dead
        .iter()
        .filter(|name| name.ends_with(".reason.txt"))
        .count();
    assert!(reasons >= 3, "{dead:?}");
    let metrics = gateway.scrape();
    assert_eq!(metrics.value("labwire_gateway_received_total"), 1);
    assert!(metrics.listener("labwire_listener_dead_lettered_total", 0) >= 2);
    assert!(metrics.listener("labwire_listener_dead_lettered_total", 1) >= 1);
    assert_eq!(
        metrics.listener("labwire_listener_dead_lettered_total", 2),
        0
    );
    assert!(
        metrics.value("labwire_gateway_dead_lettered_total") >= 3,
        "{}",
        metrics.text
    );
    assert!(gateway.stop().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_embedded_broker_gives_a_working_pipeline_without_installing_one() {
    let dir = scratch("embedded");
    let (gateway, port) = Gateway::with_embedded_broker(&dir);
    let subscriber = Subscriber::start(port);
    let hl7 = root().join("samples/data/hl7-immunoassay-oul-r22.mllp");
    let astm = root().join("samples/data/astm-chemistry-session.astm");
    assert_eq!(
        acknowledged(&replay(gateway.mllp(), "mllp", &[&hl7])),
        1,
        "{}",
        gateway.log()
    );
    assert_eq!(
        acknowledged(&replay(gateway.astm(), "astm", &[&astm])),
        2,
        "{}",
        gateway.log()
    );
    let results = subscriber.wait_for("result", 3);
    let topics: BTreeSet<&str> = results.iter().map(|m| m.topic.as_str()).collect();
    // The load-test mode of replay: four instruments at once, one summary line.
    let output = Command::new(env!("CARGO_BIN_EXE_labwire"))
        .args(["replay", "--to", gateway.mllp(), "--protocol", "mllp"])
        .args(["--connections", "4", "--repeat", "5"])
        .arg(&hl7)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["messages"], 20);
    assert_eq!(summary["acknowledged"], 20);
    assert!(summary["latency_ms"]["p99"].as_f64().unwrap() > 0.0);
    subscriber.wait_for("result", 23);
    assert_eq!(
        topics,
        BTreeSet::from([
            "lab/v1/test-site/chemistry/chem-1/result",
            "lab/v1/test-site/hematology/heme-1/result"
        ])
    );
    assert!(gateway.stop().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn raw_astm_records_over_tcp_are_published_message_by_message() {
    let dir = scratch("raw");
    let (gateway, port) = Gateway::with_embedded_broker(&dir);
    let subscriber = Subscriber::start(port);
    let records = std::fs::read(root().join("samples/data/astm-hematology-raw.astm")).unwrap();
    let mut stream = std::net::TcpStream::connect(gateway.astm_raw()).unwrap();
    // Split anywhere: the listener must reassemble.
    let (first, second) = records.split_at(records.len() / 3);
    stream.write_all(first).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    stream.write_all(second).unwrap();
    // A second message without its L record: delivered when the connection closes.
    stream
        .write_all(b"H|\\^&|||XN-550\rP|1||PID-9\rO|1|S-9||^^^WBC\rR|1|^^^WBC|7.1|10*3/uL||N||F\r")
        .unwrap();
    drop(stream);
    let results = subscriber.wait_for("result", 2);
    assert!(
        results
            .iter()
            .all(|m| m.topic == "lab/v1/test-site/hematology/heme-raw/result")
    );
    gateway.wait_for_log("without an L record", 1);
    assert!(gateway.stop().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mqtts_with_a_client_certificate() {
    if !have_mosquitto() {
        return;
    }
    let dir = scratch("tls");
    let tls = root().join("cli/tests/data/tls");
    let (plain, secure) = (free_port(), free_port());
    let config = dir.join("mosquitto.conf");
    std::fs::write(
        &config,
        format!(
            "per_listener_settings false\nallow_anonymous true\nuser root\n\
             listener {plain} 127.0.0.1\n\
             listener {secure} 127.0.0.1\ncafile {tls}/ca.pem\ncertfile {tls}/server.pem\n\
             keyfile {tls}/server.key\nrequire_certificate true\n",
            tls = tls.display()
        ),
    )
    .unwrap();
    let mut broker = Command::new("mosquitto")
        .arg("-c")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("mosquitto to listen", || {
        std::net::TcpStream::connect(("127.0.0.1", secure)).is_ok()
    });
    let subscriber = Subscriber::start(plain);
    let gateway = Gateway::start_with(
        &dir,
        &format!(
            "[broker]\nurl = \"mqtts://127.0.0.1:{secure}\"\nca_file = \"{tls}/ca.pem\"\n\
             cert_file = \"{tls}/client.pem\"\nkey_file = \"{tls}/client.key\"",
            tls = tls.display()
        ),
    );
    let hl7 = root().join("samples/data/hl7-immunoassay-oul-r22.mllp");
    assert_eq!(acknowledged(&replay(gateway.mllp(), "mllp", &[&hl7])), 1);
    let results = subscriber.wait_for("result", 1);
    assert_eq!(results[0].topic, "lab/v1/test-site/chemistry/chem-1/result");
    assert!(
        gateway.log().contains("connected to the broker"),
        "{}",
        gateway.log()
    );
    assert!(gateway.stop().success());
    let _ = broker.kill();
    let _ = broker.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
