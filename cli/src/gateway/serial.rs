//! ASTM over a serial port (cargo feature `serial`): one instrument per port.
//!
//! The port is opened with the listener's line settings and served by the same ASTM
//! session code as a TCP connection ([`astm::connection`] or
//! [`astm::raw_connection`]), so the delivery guarantee is the same: the frame with
//! the L record is acknowledged only after every MQTT message of its LIS02 message is
//! acknowledged by the broker or fsynced to the spool.
//!
//! A port that is missing (not plugged in yet) or goes away (a USB adapter unplugged,
//! read errors) is opened again after a pause that grows from 250 ms to 5 s; the rest
//! of the gateway keeps running. The first failure in a row is logged as a warning
//! naming the listener and the device, the next ones at debug level, and each is
//! counted (`labwire_listener_open_failures_total`). While the port is open the
//! instrument counts as connected: link status `link-connected` when it opens,
//! `link-disconnected` when it closes.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_serial::{SerialPortBuilder, SerialPortBuilderExt, SerialStream};

use super::config::{
    AstmFraming, DataBits, FlowControl, ListenerConfig, Parity, SerialSettings, StopBits,
};
use super::publisher::count;
use super::{Shared, astm};

/// The longest pause between attempts to open the port.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A session shorter than this counts as a failure for the back-off, so a port that
/// opens but fails at once is not reopened in a tight loop.
const HEALTHY_SESSION: Duration = Duration::from_secs(2);

/// The pause before the next attempt after `failures` failures in a row: 250 ms,
/// 500 ms, 1 s, 2 s, 4 s, then 5 s.
pub(crate) fn backoff(failures: u32) -> Duration {
    let shift = failures.saturating_sub(1).min(5);
    Duration::from_millis(250u64 << shift).min(MAX_BACKOFF)
}

/// The port builder for `settings` (what tokio-serial opens).
pub(crate) fn builder(settings: &SerialSettings) -> SerialPortBuilder {
    tokio_serial::new(settings.path.to_string_lossy(), settings.baud_rate)
        .data_bits(match settings.data_bits {
            DataBits::Seven => tokio_serial::DataBits::Seven,
            DataBits::Eight => tokio_serial::DataBits::Eight,
        })
        .parity(match settings.parity {
            Parity::None => tokio_serial::Parity::None,
            Parity::Even => tokio_serial::Parity::Even,
            Parity::Odd => tokio_serial::Parity::Odd,
        })
        .stop_bits(match settings.stop_bits {
            StopBits::One => tokio_serial::StopBits::One,
            StopBits::Two => tokio_serial::StopBits::Two,
        })
        .flow_control(match settings.flow_control {
            FlowControl::None => tokio_serial::FlowControl::None,
            FlowControl::Software => tokio_serial::FlowControl::Software,
            FlowControl::Hardware => tokio_serial::FlowControl::Hardware,
        })
}

/// Opens the port (exclusively, so no second reader steals the instrument's bytes).
fn open(settings: &SerialSettings) -> Result<SerialStream, tokio_serial::Error> {
    builder(settings).open_native_async()
}

/// Serves the serial port of `listener` until the gateway stops: opens it, runs ASTM
/// sessions on it, and opens it again whenever it fails.
pub(crate) async fn serve(
    listener: Arc<ListenerConfig>,
    settings: SerialSettings,
    shared: Arc<Shared>,
    mut stopping: watch::Receiver<bool>,
) {
    let device = settings.path.display().to_string();
    let mut failures: u32 = 0;
    loop {
        if *stopping.borrow() {
            return;
        }
        match open(&settings) {
            Ok(port) => {
                tracing::info!(listener = %listener.name, %device, baud_rate = settings.baud_rate, instrument = %listener.instrument, "serial port open");
                shared.link_status(&listener, true).await;
                let started = tokio::time::Instant::now();
                match listener.framing {
                    AstmFraming::E1381 => {
                        astm::connection(
                            port,
                            &device,
                            Arc::clone(&listener),
                            Arc::clone(&shared),
                            stopping.clone(),
                        )
                        .await;
                    }
                    AstmFraming::Raw => {
                        astm::raw_connection(
                            port,
                            &device,
                            Arc::clone(&listener),
                            Arc::clone(&shared),
                            stopping.clone(),
                        )
                        .await;
                    }
                }
                shared.link_status(&listener, false).await;
                if *stopping.borrow() {
                    tracing::info!(listener = %listener.name, %device, "serial port closed");
                    return;
                }
                tracing::warn!(listener = %listener.name, %device, "serial port lost; opening it again");
                failures = if started.elapsed() < HEALTHY_SESSION {
                    failures.saturating_add(1)
                } else {
                    1
                };
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                count(&listener.counters.open_failures, 1);
                if failures == 1 {
                    tracing::warn!(listener = %listener.name, %device, %error, "cannot open the serial port; trying again until it is there");
                } else {
                    tracing::debug!(listener = %listener.name, %device, %error, failures, "cannot open the serial port");
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff(failures)) => {}
            _ = stopping.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_serial::SerialPort;

    #[test]
    fn serial_backoff_grows_to_five_seconds() {
        let pauses: Vec<u64> = (0..9)
            .map(|failures| u64::try_from(backoff(failures).as_millis()).unwrap())
            .collect();
        assert_eq!(pauses, [250, 250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn serial_settings_reach_the_port_builder() {
        let mut settings = SerialSettings::new("/dev/ttyUSB0".into());
        settings.baud_rate = 19_200;
        settings.data_bits = DataBits::Seven;
        settings.parity = Parity::Even;
        settings.stop_bits = StopBits::Two;
        settings.flow_control = FlowControl::Hardware;
        // The builder keeps its settings private; its Debug output shows them.
        let text = format!("{:?}", builder(&settings));
        for expected in [
            "\"/dev/ttyUSB0\"",
            "19200",
            "Seven",
            "Even",
            "Two",
            "Hardware",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
    }

    #[tokio::test]
    async fn serial_ports_that_do_not_exist_fail_to_open() {
        let settings = SerialSettings::new("/nonexistent/labwire-serial-test".into());
        let error = open(&settings).map(|port| port.name()).unwrap_err();
        assert!(!error.to_string().is_empty());
    }
}
