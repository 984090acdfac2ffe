//! What the gateway tests share: a mosquitto on a loopback port, a subscriber, the
//! gateway binary with its listeners, a scraper for its metrics endpoint. Every wait
//! is bounded.
#![allow(clippy::print_stderr)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::Packet;
use rumqttc::v5::{Client, Event, MqttOptions};

pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// Whether mosquitto can run here; panics if it must.
pub(crate) fn have_mosquitto() -> bool {
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

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labwire-gw-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A mosquitto on a loopback port, persisting to `dir` so a restart keeps the
/// subscriber's session and its queued messages.
pub(crate) struct Broker {
    pub(crate) port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Broker {
    pub(crate) fn start(dir: &Path) -> Self {
        let mut broker = Self {
            port: free_port(),
            dir: dir.to_path_buf(),
            child: None,
        };
        broker.restart();
        broker
    }

    pub(crate) fn restart(&mut self) {
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
    pub(crate) fn stop(&mut self) {
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

pub(crate) fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
}

/// One message as the subscriber saw it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) topic: String,
    pub(crate) msg_id: String,
    pub(crate) payload: serde_json::Value,
}

/// A subscriber to `lab/#` with a persistent session (QoS 1), collecting in a thread.
pub(crate) struct Subscriber {
    messages: Arc<Mutex<Vec<Received>>>,
}

impl Subscriber {
    pub(crate) fn start(port: u16) -> Self {
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

    pub(crate) fn snapshot(&self) -> Vec<Received> {
        self.messages.lock().unwrap().clone()
    }

    /// Waits until `count` distinct msg-ids arrived on topics ending in `/{kind}`.
    pub(crate) fn wait_for(&self, kind: &str, count: usize) -> Vec<Received> {
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

/// The three TCP listeners most tests use: MLLP, ASTM (E1381), raw ASTM.
pub(crate) const STANDARD_LISTENERS: &str = r#"[[listeners]]
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
"#;

/// The broker section for mosquitto on `port`.
pub(crate) fn mosquitto_broker(port: u16) -> String {
    format!("[broker]\nurl = \"mqtt://127.0.0.1:{port}\"\nkeep_alive_seconds = 5")
}

/// The broker section for the embedded broker on a free port, and that port.
pub(crate) fn embedded_broker() -> (String, u16) {
    let port = free_port();
    (
        format!("[embedded_broker]\nlisten = \"127.0.0.1:{port}\""),
        port,
    )
}

/// The gateway binary with its listener addresses and metrics endpoint.
pub(crate) struct Gateway {
    child: Child,
    /// Per listener, in configuration order: its TCP address or serial device.
    pub(crate) listeners: Vec<String>,
    /// The Prometheus endpoint (`host:port`).
    pub(crate) metrics: String,
    stderr: PathBuf,
}

impl Gateway {
    pub(crate) fn start(dir: &Path, broker_port: u16) -> Self {
        Self::start_with(dir, &mosquitto_broker(broker_port))
    }

    /// Starts the gateway with its embedded broker on a free port; returns the port.
    pub(crate) fn with_embedded_broker(dir: &Path) -> (Self, u16) {
        let (broker, port) = embedded_broker();
        (Self::start_with(dir, &broker), port)
    }

    /// Starts the gateway with `broker` as its broker section and the standard
    /// listeners.
    pub(crate) fn start_with(dir: &Path, broker: &str) -> Self {
        Self::start_listeners(dir, broker, STANDARD_LISTENERS)
    }

    /// Starts the gateway with `broker` as its broker section and `listeners` (TOML
    /// `[[listeners]]` tables); the metrics endpoint is on a free loopback port.
    pub(crate) fn start_listeners(dir: &Path, broker: &str, listeners: &str) -> Self {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let config = dir.join("gateway.toml");
        std::fs::write(
            &config,
            format!(
                r#"spool_dir = "spool"
dead_letter_dir = "dead-letter"
{broker}
[delivery]
spool_after_ms = 300
[metrics]
listen = "127.0.0.1:0"
[mapping]
site = "test-site"
gateway = "gw-test"
privacy = "pseudonymized"
[mapping.pseudonymization]
key_hex = "000102030405060708090a0b0c0d0e0f"
key_id = "k1"
{listeners}"#
            ),
        )
        .unwrap();
        let stderr = dir.join(format!(
            "gateway-{}.log",
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let mut child = Command::new(env!("CARGO_BIN_EXE_labwire"))
            .args(["gateway", "--config"])
            .arg(&config)
            .env("LABWIRE_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        // One line per listener on stdout (after the metrics line), in order.
        let expected = listeners.matches("[[listeners]]").count();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut found = Vec::new();
        let mut metrics = None;
        while found.len() < expected {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.wait();
                panic!(
                    "the gateway stopped before listening:\n{}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                );
            };
            let value: serde_json::Value = serde_json::from_str(&line).unwrap();
            if let Some(address) = value["metrics"].as_str() {
                metrics = Some(address.to_owned());
            }
            if let Some(at) = value["address"].as_str().or(value["serial"].as_str()) {
                found.push(at.to_owned());
            }
        }
        Self {
            child,
            listeners: found,
            metrics: metrics.expect("the metrics line comes before the listeners"),
            stderr,
        }
    }

    /// The standard MLLP listener's address.
    pub(crate) fn mllp(&self) -> &str {
        &self.listeners[0]
    }

    /// The standard E1381 ASTM listener's address.
    pub(crate) fn astm(&self) -> &str {
        &self.listeners[1]
    }

    /// The standard raw ASTM listener's address.
    pub(crate) fn astm_raw(&self) -> &str {
        &self.listeners[2]
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits until the log has `count` lines containing `text`.
    pub(crate) fn wait_for_log(&self, text: &str, count: usize) {
        let start = Instant::now();
        while self.log().matches(text).count() < count {
            assert!(
                start.elapsed() < WAIT,
                "timed out waiting for {count} × {text:?} in the log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Scrapes the metrics endpoint.
    pub(crate) fn scrape(&self) -> Scrape {
        scrape(&self.metrics)
    }

    /// SIGTERM and wait: the clean shutdown path.
    pub(crate) fn stop(mut self) -> std::process::ExitStatus {
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
    pub(crate) fn kill(mut self) {
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

/// A Prometheus scrape: the response body, checked for the text format.
pub(crate) struct Scrape {
    pub(crate) text: String,
}

impl Scrape {
    /// The value of the sample `series` (`name` or `name{labels}`, exactly as written).
    pub(crate) fn value(&self, series: &str) -> u64 {
        self.text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .find_map(|line| {
                let (name, value) = line.rsplit_once(' ')?;
                (name == series).then(|| value.parse().unwrap())
            })
            .unwrap_or_else(|| panic!("no {series} in\n{}", self.text))
    }

    /// The value of `name` for the listener `listeners[index]`.
    pub(crate) fn listener(&self, name: &str, index: usize) -> u64 {
        let label = format!("{name}{{listener=\"listeners[{index}]\",");
        self.text
            .lines()
            .find_map(|line| {
                let rest = line.strip_prefix(&label)?;
                rest.rsplit_once(' ')
                    .map(|(_, value)| value.parse().unwrap())
            })
            .unwrap_or_else(|| panic!("no {label}…}} in\n{}", self.text))
    }
}

/// `GET /metrics` over a plain TCP connection.
pub(crate) fn scrape(address: &str) -> Scrape {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: labwire\r\nAccept: text/plain\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
        "{head}"
    );
    assert!(
        head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())),
        "{head}"
    );
    Scrape {
        text: body.to_owned(),
    }
}

/// The message ids (MSH-10 or the ASTM H-record's) carried by result payloads.
pub(crate) fn source_ids(messages: &[Received]) -> BTreeSet<String> {
    messages
        .iter()
        .filter_map(|m| {
            m.payload["source"]["message_id"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}
