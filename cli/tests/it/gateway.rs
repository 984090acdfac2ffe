//! `labwire gateway` end to end on loopback: a real mosquitto, the real binary, a
//! rumqttc subscriber, instruments played by `labwire replay`.
//!
//! mosquitto must be installed (`.ci/run` installs it and sets
//! `LABWIRE_REQUIRE_MOSQUITTO=1`, which turns a missing broker into a failure instead
//! of a skipped test). Every wait is bounded.
#![allow(clippy::print_stderr)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::Packet;
use rumqttc::v5::{Client, Event, MqttOptions};

use super::root;

const WAIT: Duration = Duration::from_secs(20);

/// Whether mosquitto can run here; panics if it must.
fn have_mosquitto() -> bool {
    let found = Command::new("mosquitto")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("LABWIRE_REQUIRE_MOSQUITTO").is_none(),
            "mosquitto is not installed but LABWIRE_REQUIRE_MOSQUITTO is set"
        );
        eprintln!("skipped: mosquitto is not installed");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labwire-gw-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A mosquitto on a loopback port, persisting to `dir` so a restart keeps the
/// subscriber's session and its queued messages.
struct Broker {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Broker {
    fn start(dir: &Path) -> Self {
        let mut broker = Self {
            port: free_port(),
            dir: dir.to_path_buf(),
            child: None,
        };
        broker.restart();
        broker
    }

    fn restart(&mut self) {
        let config = self.dir.join("mosquitto.conf");
        std::fs::write(
            &config,
            format!(
                // `user root`: started as root, mosquitto would otherwise switch to the
                // `mosquitto` user and could not write its database into our folder
                // (the setting is ignored when not started as root).
                "listener {} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\nuser root\n",
                self.port,
                self.dir.display()
            ),
        )
        .unwrap();
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let port = self.port;
        wait_until("mosquitto to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
    }

    /// SIGTERM: mosquitto saves its sessions and exits.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&child);
            let _ = child.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
}

/// One message as the subscriber saw it.
#[derive(Debug, Clone)]
struct Received {
    topic: String,
    msg_id: String,
    payload: serde_json::Value,
}

/// A subscriber to `lab/#` with a persistent session (QoS 1), collecting in a thread.
struct Subscriber {
    messages: Arc<Mutex<Vec<Received>>>,
}

impl Subscriber {
    fn start(port: u16) -> Self {
        let messages = Arc::new(Mutex::new(Vec::new()));
        let mut options = MqttOptions::new(format!("test-sub-{port}"), "127.0.0.1", port);
        options
            .set_clean_start(false)
            .set_session_expiry_interval(Some(3600))
            .set_keep_alive(Duration::from_secs(5));
        let (client, mut connection) = Client::new(options, 100);
        let (subscribed, ready) = std::sync::mpsc::channel();
        let sink = Arc::clone(&messages);
        std::thread::spawn(move || {
            for event in connection.iter() {
                match event {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = client.subscribe("lab/#", QoS::AtLeastOnce);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = subscribed.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(publish))) => {
                        let topic = String::from_utf8_lossy(&publish.topic).into_owned();
                        let msg_id = publish
                            .properties
                            .as_ref()
                            .and_then(|p| p.user_properties.iter().find(|(k, _)| k == "msg-id"))
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default();
                        let payload = serde_json::from_slice(&publish.payload)
                            .unwrap_or(serde_json::Value::Null);
                        sink.lock().unwrap().push(Received {
                            topic,
                            msg_id,
                            payload,
                        });
                    }
                    Ok(_) => {}
                    Err(_) => std::thread::sleep(Duration::from_millis(100)),
                }
            }
        });
        ready.recv_timeout(WAIT).expect("subscribed");
        Self { messages }
    }

    fn snapshot(&self) -> Vec<Received> {
        self.messages.lock().unwrap().clone()
    }

    /// Waits until `count` distinct msg-ids arrived on topics ending in `/{kind}`.
    fn wait_for(&self, kind: &str, count: usize) -> Vec<Received> {
        let suffix = format!("/{kind}");
        let mut found: Vec<Received>;
        let start = Instant::now();
        loop {
            let mut seen = BTreeSet::new();
            found = self
                .snapshot()
                .into_iter()
                .filter(|m| m.topic.ends_with(&suffix) && seen.insert(m.msg_id.clone()))
                .collect();
            if found.len() >= count || start.elapsed() > WAIT {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(found.len(), count, "distinct {kind} messages");
        found
    }
}

/// The gateway binary with its listener addresses.
struct Gateway {
    child: Child,
    mllp: String,
    astm: String,
    astm_raw: String,
    stderr: PathBuf,
}

impl Gateway {
    fn start(dir: &Path, broker_port: u16) -> Self {
        Self::start_with(
            dir,
            &format!("[broker]\nurl = \"mqtt://127.0.0.1:{broker_port}\"\nkeep_alive_seconds = 5"),
        )
    }

    /// Starts the gateway with its embedded broker on a free port; returns the port.
    fn with_embedded_broker(dir: &Path) -> (Self, u16) {
        let port = free_port();
        let gateway = Self::start_with(
            dir,
            &format!("[embedded_broker]\nlisten = \"127.0.0.1:{port}\""),
        );
        (gateway, port)
    }

    /// Starts the gateway with `broker` as its broker section.
    fn start_with(dir: &Path, broker: &str) -> Self {
        let config = dir.join("gateway.toml");
        std::fs::write(
            &config,
            format!(
                r#"spool_dir = "spool"
dead_letter_dir = "dead-letter"
{broker}
[delivery]
spool_after_ms = 300
[mapping]
site = "test-site"
gateway = "gw-test"
privacy = "pseudonymized"
[mapping.pseudonymization]
key_hex = "000102030405060708090a0b0c0d0e0f"
key_id = "k1"
[[listeners]]
protocol = "mllp"
bind = "127.0.0.1:0"
instrument = "chem-1"
area = "chemistry"
max_message_bytes = 65536
[[listeners]]
protocol = "astm"
bind = "127.0.0.1:0"
instrument = "heme-1"
area = "hematology"
[[listeners]]
protocol = "astm"
framing = "raw"
bind = "127.0.0.1:0"
instrument = "heme-raw"
area = "hematology"
"#
            ),
        )
        .unwrap();
        let stderr = dir.join(format!(
            "gateway-{}.log",
            Instant::now().elapsed().as_nanos()
        ));
        let mut child = Command::new(env!("CARGO_BIN_EXE_labwire"))
            .args(["gateway", "--config"])
            .arg(&config)
            .env("LABWIRE_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut address = || loop {
            let line = lines.next().expect("a listening line").unwrap();
            let value: serde_json::Value = serde_json::from_str(&line).unwrap();
            if let Some(address) = value["address"].as_str() {
                return address.to_owned();
            }
        };
        let (mllp, astm, astm_raw) = (address(), address(), address());
        Self {
            child,
            mllp,
            astm,
            astm_raw,
            stderr,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// SIGTERM and wait: the clean shutdown path.
    fn stop(mut self) -> std::process::ExitStatus {
        terminate(&self.child);
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < WAIT,
                "the gateway did not stop:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: a crash.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

/// The message ids (MSH-10) carried by result payloads.
fn source_ids(messages: &[Received]) -> BTreeSet<String> {
    messages
        .iter()
        .filter_map(|m| {
            m.payload["source"]["message_id"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
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
    assert_eq!(acknowledged(&replay(&gateway.mllp, "mllp", &[&hl7])), 1);
    assert_eq!(acknowledged(&replay(&gateway.astm, "astm", &[&astm])), 2);

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
    assert_eq!(acknowledged(&replay(&gateway.mllp, "mllp", &[&before])), 20);
    subscriber.wait_for("result", 20);
    broker.stop();
    // The broker is gone: every message is still acknowledged, because it is spooled.
    assert_eq!(acknowledged(&replay(&gateway.mllp, "mllp", &[&during])), 20);
    broker.restart();
    assert_eq!(acknowledged(&replay(&gateway.mllp, "mllp", &[&after])), 20);
    let results = subscriber.wait_for("result", 60);
    let expected: BTreeSet<String> = (0..60).map(|i| format!("MSG{i}")).collect();
    assert_eq!(source_ids(&results), expected, "{}", gateway.log());
    // Duplicates (QoS 1) carry the same msg-id: one result per message id.
    let distinct: BTreeSet<_> = results.iter().map(|m| m.msg_id.clone()).collect();
    assert_eq!(distinct.len(), 60);
    assert!(gateway.log().contains("spool"), "{}", gateway.log());
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
    assert_eq!(acknowledged(&replay(&gateway.mllp, "mllp", &[&file])), 15);
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
    let lines = replay(&gateway.mllp, "mllp", &[&file]);
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
    let mut stream = std::net::TcpStream::connect(&gateway.astm).unwrap();
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
        acknowledged(&replay(&gateway.mllp, "mllp", &[&hl7])),
        1,
        "{}",
        gateway.log()
    );
    assert_eq!(
        acknowledged(&replay(&gateway.astm, "astm", &[&astm])),
        2,
        "{}",
        gateway.log()
    );
    let results = subscriber.wait_for("result", 3);
    let topics: BTreeSet<&str> = results.iter().map(|m| m.topic.as_str()).collect();
    // The load-test mode of replay: four instruments at once, one summary line.
    let output = Command::new(env!("CARGO_BIN_EXE_labwire"))
        .args(["replay", "--to", &gateway.mllp, "--protocol", "mllp"])
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
    let mut stream = std::net::TcpStream::connect(&gateway.astm_raw).unwrap();
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
    assert!(
        gateway.log().contains("without an L record"),
        "{}",
        gateway.log()
    );
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
    assert_eq!(acknowledged(&replay(&gateway.mllp, "mllp", &[&hl7])), 1);
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
