//! ASTM over a serial port (feature `serial`), end to end: a pseudo-terminal pair
//! stands in for the cable. The gateway opens the slave side as its serial port (by a
//! symbolic link, so the "device" can vanish and come back); the test drives the
//! master side as the instrument, with the E1381 sender state machine, and checks
//! what reaches the broker. A pty ignores the line settings (baud rate, parity …),
//! which is fine: they are checked by the unit tests. Every wait is bounded.
#![cfg(all(unix, feature = "serial"))]

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use labwire_astm::link::{Instant as LinkInstant, Link, LinkConfig, LinkEvent, MessageId, Role};
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

use super::gateway_support::{
    Broker, Gateway, Subscriber, WAIT, embedded_broker, have_mosquitto, mosquitto_broker, scratch,
    source_ids, wait_until,
};

/// The master side of a pseudo-terminal; the gateway opens [`Pty::path`].
struct Pty {
    master: OwnedFd,
    path: PathBuf,
}

impl Pty {
    fn open() -> Self {
        let master =
            openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let name = ptsname(&master, Vec::new()).unwrap();
        let path = PathBuf::from(OsString::from_vec(name.into_bytes()));
        Self { master, path }
    }

    fn write_all(&self, mut bytes: &[u8]) {
        let start = Instant::now();
        while !bytes.is_empty() {
            match rustix::io::write(&self.master, bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => {}
                Err(error) => panic!("writing to the pty: {error}"),
            }
            assert!(start.elapsed() < WAIT, "the pty does not take our bytes");
        }
    }

    /// What the gateway wrote, waiting at most `wait`; empty if nothing came.
    fn read(&self, buffer: &mut [u8], wait: Duration) -> usize {
        let timeout = Timespec::try_from(wait).unwrap();
        let mut fds = [PollFd::new(&self.master, PollFlags::IN)];
        match rustix::event::poll(&mut fds, Some(&timeout)) {
            Ok(0) | Err(rustix::io::Errno::INTR) => return 0,
            Ok(_) => {}
            Err(error) => panic!("polling the pty: {error}"),
        }
        if !fds[0].revents().contains(PollFlags::IN) {
            // POLLHUP: no one has the slave side open (the gateway is reopening it).
            std::thread::sleep(wait);
            return 0;
        }
        match rustix::io::read(&self.master, buffer) {
            Ok(n) => n,
            Err(rustix::io::Errno::IO | rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) => 0,
            Err(error) => panic!("reading the pty: {error}"),
        }
    }
}

/// Sends `messages` as the instrument, each its own E1381 message, through the
/// sender state machine (as `labwire replay` does over TCP); returns each one's
/// outcome: delivered (the receiver acknowledged its last frame) or failed.
fn send_astm(pty: &Pty, messages: Vec<Vec<u8>>) -> Vec<Result<(), String>> {
    let mut config = LinkConfig::new(Role::Instrument);
    // After a refused message the sender pauses before its next ENQ (10 s by default);
    // the instrument's choice, shortened here to keep the test quick.
    config.timeouts.retry_delay = Duration::from_millis(300);
    let mut link = Link::new(config).unwrap();
    let started = Instant::now();
    let now = || LinkInstant::from_millis(started.elapsed().as_millis() as u64);
    let ids: Vec<MessageId> = messages
        .into_iter()
        .map(|message| link.send(message, now()).unwrap())
        .collect();
    let mut results: Vec<Option<Result<(), String>>> = vec![None; ids.len()];
    let mut buffer = [0u8; 4096];
    // E1381's own timeouts bound each message (15 s per ACK, six tries).
    let limit = WAIT * 3;
    while results.iter().any(Option::is_none) {
        assert!(started.elapsed() < limit, "no outcome: {results:?}");
        let output = link.take_output();
        if !output.is_empty() {
            pty.write_all(&output);
        }
        while let Some(event) = link.poll_event() {
            let (id, result) = match event {
                LinkEvent::Delivered { id } => (id, Ok(())),
                LinkEvent::Failed { id, reason, .. } => (id, Err(format!("{reason:?}"))),
                _ => continue,
            };
            let at = ids.iter().position(|known| *known == id).unwrap();
            results[at] = Some(result);
        }
        if results.iter().all(Option::is_some) {
            break;
        }
        let wait = link
            .next_deadline()
            .map(|deadline| {
                Duration::from_millis(deadline.as_millis().saturating_sub(now().as_millis()))
            })
            .unwrap_or(Duration::from_millis(100))
            .clamp(Duration::from_millis(1), Duration::from_millis(200));
        let n = pty.read(&mut buffer, wait);
        if n > 0 {
            link.handle_bytes(&buffer[..n], now());
        }
        link.handle_timeout(now());
    }
    // The EOT that ends the session.
    pty.write_all(&link.take_output());
    results.into_iter().map(Option::unwrap).collect()
}

/// An LIS02 message with one glucose result; `SER{i}` is its message control id.
fn astm_message(i: usize) -> Vec<u8> {
    format!(
        "H|\\^&|SER{i}||ANALYZER^1.0|||||||P|1\rP|1||PID-{i}\rO|1|S-{i}||^^^GLU\r\
         R|1|^^^GLU|5.{i}|mmol/L||N||F\rL|1|N\r"
    )
    .into_bytes()
}

/// A serial listener on `device` with every line setting spelled out (the E1381
/// defaults).
fn serial_listener(device: &Path) -> String {
    format!(
        "[[listeners]]\nprotocol = \"astm\"\nserial = \"{}\"\ninstrument = \"analyzer-1\"\n\
         area = \"chemistry\"\nbaud_rate = 9600\ndata_bits = 8\nparity = \"none\"\n\
         stop_bits = 1\nflow_control = \"none\"\n",
        device.display()
    )
}

/// Points the symbolic link `device` at `pty`'s slave side.
fn plug(device: &Path, pty: &Pty) {
    let _ = std::fs::remove_file(device);
    std::os::unix::fs::symlink(&pty.path, device).unwrap();
}

fn ids(range: std::ops::RangeInclusive<usize>) -> std::collections::BTreeSet<String> {
    range.map(|i| format!("SER{i}")).collect()
}

#[test]
fn serial_astm_is_acknowledged_once_the_broker_or_the_spool_has_it() {
    if !have_mosquitto() {
        return;
    }
    let dir = scratch("serial");
    let mut broker = Broker::start(&dir);
    let subscriber = Subscriber::start(broker.port);
    let device = dir.join("tty-analyzer");
    let pty = Pty::open();
    plug(&device, &pty);
    let gateway = Gateway::start_listeners(
        &dir,
        &mosquitto_broker(broker.port),
        &serial_listener(&device),
    );
    assert_eq!(gateway.listeners, [device.display().to_string()]);
    gateway.wait_for_log("serial port open", 1);

    // Three messages, each acknowledged (last frame ACK) only once published.
    let outcomes = send_astm(&pty, (1..=3).map(astm_message).collect());
    assert_eq!(outcomes, [Ok(()), Ok(()), Ok(())], "{}", gateway.log());
    let results = subscriber.wait_for("result", 3);
    assert_eq!(source_ids(&results), ids(1..=3));
    assert!(
        results
            .iter()
            .all(|m| m.topic == "lab/v1/test-site/chemistry/analyzer-1/result"),
        "{results:?}"
    );
    wait_until("the link-connected status", || {
        subscriber.snapshot().iter().any(|m| {
            m.topic == "lab/v1/test-site/chemistry/analyzer-1/status"
                && m.payload.to_string().contains("link-connected")
        })
    });

    // The broker is down: the message is acknowledged from the spool, and published
    // when the broker is back.
    broker.stop();
    let outcomes = send_astm(&pty, vec![astm_message(4)]);
    assert_eq!(outcomes, [Ok(())], "{}", gateway.log());
    broker.restart();
    let results = subscriber.wait_for("result", 4);
    assert_eq!(source_ids(&results), ids(1..=4));

    // Not E1394: refused (NAK, each retransmission too) and dead-lettered; the line
    // stays usable for the next message.
    let outcomes = send_astm(&pty, vec![b"this is not ASTM\r".to_vec(), astm_message(5)]);
    assert!(outcomes[0].is_err(), "{outcomes:?}");
    assert_eq!(outcomes[1], Ok(()), "{}", gateway.log());
    let results = subscriber.wait_for("result", 5);
    assert_eq!(source_ids(&results), ids(1..=5));
    let dead: Vec<String> = std::fs::read_dir(dir.join("dead-letter"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(dead.iter().any(|name| name.ends_with(".astm")), "{dead:?}");
    assert!(
        dead.iter().any(|name| name.ends_with(".reason.txt")),
        "{dead:?}"
    );

    let metrics = gateway.scrape();
    assert_eq!(metrics.listener("labwire_listener_received_total", 0), 5);
    assert!(metrics.listener("labwire_listener_dead_lettered_total", 0) >= 1);
    assert_eq!(metrics.listener("labwire_listener_links_up", 0), 1);
    assert_eq!(metrics.listener("labwire_listener_links_total", 0), 1);
    assert_eq!(
        metrics.listener("labwire_listener_open_failures_total", 0),
        0
    );
    assert!(metrics.value("labwire_gateway_spooled_total") >= 1);
    assert!(
        metrics
            .text
            .contains("instrument=\"analyzer-1\",transport=\"serial\"}"),
        "{}",
        metrics.text
    );

    // The device goes away (the cable, or a USB adapter, unplugged) and comes back as
    // another pty: the gateway opens it again and messages flow.
    drop(pty);
    gateway.wait_for_log("serial port lost", 1);
    wait_until("the link-disconnected status", || {
        subscriber
            .snapshot()
            .iter()
            .any(|m| m.payload.to_string().contains("link-disconnected"))
    });
    let pty = Pty::open();
    plug(&device, &pty);
    gateway.wait_for_log("serial port open", 2);
    let outcomes = send_astm(&pty, vec![astm_message(6)]);
    assert_eq!(outcomes, [Ok(())], "{}", gateway.log());
    let results = subscriber.wait_for("result", 6);
    assert_eq!(source_ids(&results), ids(1..=6));
    let metrics = gateway.scrape();
    assert_eq!(metrics.listener("labwire_listener_links_total", 0), 2);
    assert_eq!(metrics.listener("labwire_listener_received_total", 0), 6);
    assert!(gateway.stop().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_serial_device_is_opened_once_it_appears() {
    let dir = scratch("serial-late");
    let device = dir.join("tty-not-yet");
    let (broker, port) = embedded_broker();
    let gateway = Gateway::start_listeners(&dir, &broker, &serial_listener(&device));
    let subscriber = Subscriber::start(port);
    // The gateway runs and says why the port is not served, naming listener and device.
    gateway.wait_for_log("cannot open the serial port", 1);
    let log = gateway.log();
    let warning = log
        .lines()
        .find(|line| line.contains("cannot open the serial port"))
        .unwrap();
    assert!(warning.contains("listeners[0]"), "{warning}");
    assert!(warning.contains("tty-not-yet"), "{warning}");
    wait_until("a second attempt", || {
        gateway
            .scrape()
            .listener("labwire_listener_open_failures_total", 0)
            >= 2
    });
    assert_eq!(gateway.scrape().listener("labwire_listener_links_up", 0), 0);
    // Plugged in: opened on a later attempt (the pause is at most 5 s).
    let pty = Pty::open();
    plug(&device, &pty);
    gateway.wait_for_log("serial port open", 1);
    let outcomes = send_astm(&pty, vec![astm_message(1)]);
    assert_eq!(outcomes, [Ok(())], "{}", gateway.log());
    let results = subscriber.wait_for("result", 1);
    assert_eq!(source_ids(&results), ids(1..=1));
    assert!(gateway.stop().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn invalid_serial_settings_stop_the_gateway_naming_the_field() {
    let dir = scratch("serial-config");
    let config = dir.join("gateway.toml");
    std::fs::write(
        &config,
        "[mapping]\nsite = \"s\"\ngateway = \"gw\"\nprivacy = \"full\"\n\
         [[listeners]]\nprotocol = \"astm\"\nserial = \"/dev/ttyUSB0\"\ninstrument = \"a\"\n\
         parity = \"mark\"\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_labwire"))
        .args(["gateway", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("listeners[0].parity"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
