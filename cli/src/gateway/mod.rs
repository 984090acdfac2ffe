//! `labwire gateway`: instruments in (HL7 over MLLP, ASTM over TCP or a serial port),
//! MQTT out, nothing lost.
//!
//! Each listener accepts instrument connections; every message is parsed, mapped to
//! lab events and MQTT messages (with the listener's instrument slug and area), and
//! handed to the [`publisher`]. The instrument gets its acknowledgement (HL7
//! ACK AA, ASTM ACK of the last frame) only when every MQTT message the message
//! produced is acknowledged by the broker or written durably to the spool. Input that
//! cannot be read is refused (HL7 AE/AR, ASTM NAK) and kept in the dead-letter folder
//! with the reason; the connection stays usable.
//!
//! With no `[broker]` in the configuration an embedded broker (rumqttd) is started
//! on loopback: see `embedded`. Serial ports (cargo feature `serial`) are served by
//! `serial` with the same ASTM session code as TCP. The counters are published with
//! the gateway status and, with `[metrics]`, served to Prometheus by [`metrics`].
//!
//! All I/O of labwire lives here and in the other CLI commands; the protocol crates
//! stay sans-IO.

mod astm;
pub(crate) mod config;
mod deadletter;
#[cfg(feature = "embedded-broker")]
mod embedded;
mod metrics;
mod mllp;
mod publication;
mod publisher;
#[cfg(feature = "serial")]
mod serial;
mod spool;

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use labwire_model::mqtt::{self, MapContext, SequentialMsgIds};
use labwire_model::{
    Coding, EquipmentStatus, Instrument, LabEvent, LabTimestamp, Provenance, SourceProtocol,
};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use self::config::{GatewayConfig, ListenerConfig, Protocol, Transport};
use self::deadletter::DeadLetters;
use self::publication::Publication;
use self::publisher::{PublisherHandle, count};

/// What every connection shares.
pub(crate) struct Shared {
    publisher: PublisherHandle,
    dead_letters: Arc<DeadLetters>,
    msg_ids: SequentialMsgIds,
    control_ids: AtomicU64,
    /// The start time: what [`Shared::now`] falls back to if the clock ever reads a
    /// time no timestamp can carry (outside years 0000–9999).
    started: LabTimestamp,
}

impl Shared {
    /// The time now, to the millisecond, in UTC.
    pub(crate) fn now(&self) -> LabTimestamp {
        crate::mqtt::send_time().unwrap_or(self.started)
    }

    /// A control id for an acknowledgement we send.
    pub(crate) fn next_control_id(&self) -> String {
        format!("LW{}", self.control_ids.fetch_add(1, Ordering::Relaxed))
    }

    /// Maps events to MQTT messages with the listener's configuration.
    pub(crate) fn map_events(
        &self,
        events: &[LabEvent],
        listener: &ListenerConfig,
        now: LabTimestamp,
    ) -> Result<Vec<Publication>, String> {
        let context = MapContext {
            now,
            msg_ids: &self.msg_ids,
        };
        let mut publications = Vec::new();
        for event in events {
            let outbound =
                mqtt::map(event, &listener.mapping, &context).map_err(|error| error.to_string())?;
            publications.extend(outbound.into_iter().map(Publication::from));
        }
        Ok(publications)
    }

    /// Maps `events` with the listener's configuration and delivers the MQTT
    /// messages: returns once each is acknowledged by the broker or spooled, so the
    /// instrument may be told. An error means it must not be: either the events
    /// could not be mapped (the input they came from is then dead-lettered as
    /// `input.{extension}`), or the messages are neither published nor spooled (nothing
    /// is dead-lettered: the instrument should send the message again).
    pub(crate) async fn publish(
        &self,
        events: &[LabEvent],
        listener: &ListenerConfig,
        now: LabTimestamp,
        (input, extension): (&[u8], &str),
    ) -> Result<(), String> {
        let publications = match self.map_events(events, listener, now) {
            Ok(publications) => publications,
            Err(error) => {
                let _ = self.dead_letter(listener, extension, input, &error);
                return Err(error);
            }
        };
        count(&self.publisher.counters.received, 1);
        count(&listener.counters.received, 1);
        self.publisher.deliver(publications).await.map_err(|error| {
            tracing::error!(listener = %listener.name, %error, "message not delivered");
            error
        })
    }

    /// Keeps refused input; counts it.
    pub(crate) fn dead_letter(
        &self,
        listener: &ListenerConfig,
        extension: &str,
        bytes: &[u8],
        reason: &str,
    ) -> std::io::Result<()> {
        count(&self.publisher.counters.dead_lettered, 1);
        count(&listener.counters.dead_lettered, 1);
        let reason = format!("{}: {reason}", listener.name);
        match self
            .dead_letters
            .write(&listener.instrument, extension, bytes, &reason)
        {
            Ok(path) => {
                tracing::info!(path = %path.display(), "dead letter written");
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, "could not write a dead letter");
                Err(error)
            }
        }
    }

    /// Counts and publishes that an instrument connected or disconnected (fire and
    /// forget).
    async fn link_status(&self, listener: &ListenerConfig, connected: bool) {
        listener.counters.link(connected);
        let mut instrument = Instrument::with_local_id(listener.instrument.clone());
        instrument.name = Some(listener.instrument.clone().into());
        let protocol = match listener.protocol {
            Protocol::Mllp => SourceProtocol::Hl7v2,
            Protocol::Astm => SourceProtocol::Astm,
        };
        let now = self.now();
        let event = LabEvent::Status(EquipmentStatus {
            instrument,
            at: Some(now),
            details: vec![Coding::local(if connected {
                "link-connected"
            } else {
                "link-disconnected"
            })],
            provenance: Provenance::new(protocol),
            ..EquipmentStatus::default()
        });
        match self.map_events(std::slice::from_ref(&event), listener, now) {
            Ok(publications) => {
                for publication in publications {
                    self.publisher.send(publication).await;
                }
            }
            Err(error) => tracing::warn!(%error, "could not map the link status"),
        }
    }
}

/// Runs the gateway until SIGINT or SIGTERM.
pub(crate) fn run(config_path: &Path) -> Result<(), String> {
    let config = config::load(config_path)?;
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("starting the runtime: {error}"))?;
    runtime.block_on(serve(config))
}

fn init_logging() {
    let level = match std::env::var("LABWIRE_LOG").as_deref() {
        Ok("error") => tracing::Level::ERROR,
        Ok("warn") => tracing::Level::WARN,
        Ok("debug") => tracing::Level::DEBUG,
        Ok("trace") => tracing::Level::TRACE,
        _ => tracing::Level::INFO,
    };
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    // The embedded broker logs every connection at INFO; only its warnings interest
    // a gateway operator.
    let filter = tracing_subscriber::filter::Targets::new()
        .with_default(level)
        .with_target("rumqttd", level.min(tracing::Level::WARN));
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false),
        )
        .with(filter)
        .try_init();
}

async fn serve(config: GatewayConfig) -> Result<(), String> {
    let client_id = format!("labwire-{}", config.mapping.gateway().as_str());
    let broker = match config.broker.clone() {
        Some(broker) => broker,
        None => embedded_broker(&config, client_id)?,
    };
    let (spool, recovered) = spool::Spool::open(&config.spool_dir)
        .map_err(|error| format!("spool {}: {error}", config.spool_dir.display()))?;
    if recovered.discarded_bytes > 0 {
        tracing::warn!(
            bytes = recovered.discarded_bytes,
            "cut a torn record off the spool"
        );
    }
    if !recovered.messages.is_empty() {
        tracing::info!(
            messages = recovered.messages.len(),
            "publishing spooled messages first"
        );
    }
    let dead_letters =
        Arc::new(DeadLetters::open(&config.dead_letter_dir).map_err(|error| {
            format!("dead letters {}: {error}", config.dead_letter_dir.display())
        })?);
    let birth = mqtt::gateway_birth(&config.mapping).map_err(|error| error.to_string())?;
    let will = mqtt::gateway_will(&config.mapping).map_err(|error| error.to_string())?;
    let offline = Publication::from(will.clone());
    let (publisher, publisher_task) = publisher::start(publisher::Setup {
        broker,
        delivery: config.delivery,
        spool,
        recovered: recovered.messages,
        last_sequence: recovered.last_sequence,
        birth: Publication::from(birth.clone()),
        will: Publication::from(will),
        dead_letters: Arc::clone(&dead_letters),
    });
    let shared = Arc::new(Shared {
        started: crate::mqtt::send_time()?,
        publisher: publisher.clone(),
        dead_letters,
        msg_ids: SequentialMsgIds::new(crate::mqtt::fresh_seed()),
        control_ids: AtomicU64::new(1),
    });
    let (stop, stopping) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let listeners: Arc<[Arc<ListenerConfig>]> =
        config.listeners.iter().cloned().map(Arc::new).collect();
    if let Some(metrics) = &config.metrics {
        let socket = TcpListener::bind(metrics.listen)
            .await
            .map_err(|error| format!("metrics.listen: bind {}: {error}", metrics.listen))?;
        let address = socket
            .local_addr()
            .map_err(|error| format!("metrics.listen: {error}"))?;
        tracing::info!(%address, "serving metrics at /metrics");
        announce(&serde_json::json!({"metrics": address.to_string()}));
        tasks.spawn(metrics::serve(
            socket,
            Arc::clone(&publisher.counters),
            Arc::clone(&listeners),
            stopping.clone(),
        ));
    }
    for listener in listeners.iter() {
        match &listener.transport {
            Transport::Tcp(bind) => {
                let socket = TcpListener::bind(bind)
                    .await
                    .map_err(|error| format!("{}: bind {bind}: {error}", listener.name))?;
                let address = socket
                    .local_addr()
                    .map_err(|error| format!("{}: {error}", listener.name))?;
                tracing::info!(listener = %listener.name, %address, instrument = %listener.instrument, "listening");
                announce(
                    &serde_json::json!({"listening": listener.name, "address": address.to_string()}),
                );
                tasks.spawn(accept_loop(
                    socket,
                    Arc::clone(listener),
                    Arc::clone(&shared),
                    stopping.clone(),
                ));
            }
            Transport::Serial(settings) => {
                announce(
                    &serde_json::json!({"listening": listener.name, "serial": settings.path.display().to_string()}),
                );
                spawn_serial(
                    &mut tasks,
                    Arc::clone(listener),
                    settings.clone(),
                    Arc::clone(&shared),
                    stopping.clone(),
                )?;
            }
        }
    }
    tasks.spawn(status_loop(
        publisher.clone(),
        Publication::from(birth),
        stopping.clone(),
    ));
    wait_for_signal().await;
    tracing::info!("stopping: finishing messages in progress");
    let _ = stop.send(true);
    let drained = tokio::time::timeout(Duration::from_secs(15), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("connections did not finish in 15 s; stopping anyway");
    }
    publisher.shutdown(offline).await;
    drop(shared);
    drop(publisher);
    let _ = publisher_task.await;
    tracing::info!("stopped");
    Ok(())
}

/// One JSON line on stdout (the listening addresses, for scripts and tests that bind
/// port 0).
fn announce(line: &serde_json::Value) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

#[cfg(feature = "serial")]
fn spawn_serial(
    tasks: &mut JoinSet<()>,
    listener: Arc<ListenerConfig>,
    settings: config::SerialSettings,
    shared: Arc<Shared>,
    stopping: watch::Receiver<bool>,
) -> Result<(), String> {
    tracing::info!(listener = %listener.name, device = %settings.path.display(), instrument = %listener.instrument, "serving the serial port");
    tasks.spawn(serial::serve(listener, settings, shared, stopping));
    Ok(())
}

#[cfg(not(feature = "serial"))]
fn spawn_serial(
    _: &mut JoinSet<()>,
    listener: Arc<ListenerConfig>,
    _: config::SerialSettings,
    _: Arc<Shared>,
    _: watch::Receiver<bool>,
) -> Result<(), String> {
    // The configuration check refuses this already; kept for a clear message.
    Err(format!(
        "{}.serial: this labwire was built without serial ports (cargo feature `serial`)",
        listener.name
    ))
}

#[cfg(feature = "embedded-broker")]
fn embedded_broker(
    config: &GatewayConfig,
    client_id: String,
) -> Result<config::BrokerConfig, String> {
    let broker = embedded::start(&config.embedded_broker, client_id)?;
    announce(&serde_json::json!({"embedded_broker": config.embedded_broker.listen.to_string()}));
    Ok(broker)
}

#[cfg(not(feature = "embedded-broker"))]
fn embedded_broker(_: &GatewayConfig, _: String) -> Result<config::BrokerConfig, String> {
    Err(
        "no [broker] in the configuration, and this labwire was built without the \
         embedded broker (feature `embedded-broker`)"
            .to_owned(),
    )
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn accept_loop(
    socket: TcpListener,
    listener: Arc<ListenerConfig>,
    shared: Arc<Shared>,
    mut stopping: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(listener.max_connections));
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = socket.accept() => accepted,
            _ = stopping.changed() => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(listener = %listener.name, %error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!(listener = %listener.name, %peer, limit = listener.max_connections, "too many connections; closing the new one");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        tracing::info!(listener = %listener.name, %peer, "instrument connected");
        let (listener, shared, stopping) =
            (Arc::clone(&listener), Arc::clone(&shared), stopping.clone());
        connections.spawn(async move {
            shared.link_status(&listener, true).await;
            let peer_name = peer.to_string();
            match listener.protocol {
                Protocol::Mllp => {
                    mllp::connection(
                        stream,
                        peer,
                        Arc::clone(&listener),
                        Arc::clone(&shared),
                        stopping,
                    )
                    .await;
                }
                Protocol::Astm if listener.framing == config::AstmFraming::Raw => {
                    astm::raw_connection(
                        stream,
                        &peer_name,
                        Arc::clone(&listener),
                        Arc::clone(&shared),
                        stopping,
                    )
                    .await;
                }
                Protocol::Astm => {
                    astm::connection(
                        stream,
                        &peer_name,
                        Arc::clone(&listener),
                        Arc::clone(&shared),
                        stopping,
                    )
                    .await;
                }
            }
            tracing::info!(listener = %listener.name, %peer, "instrument disconnected");
            shared.link_status(&listener, false).await;
            drop(slot);
        });
        // Reap finished connections so the set does not grow.
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

/// Republishes the gateway status with its counters every 30 s (retained, so a new
/// subscriber sees the latest).
async fn status_loop(
    publisher: PublisherHandle,
    birth: Publication,
    mut stopping: watch::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(Duration::from_secs(30));
    interval.tick().await;
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stopping.changed() => return,
        }
        let mut status = birth.clone();
        status.payload = serde_json::json!({
            "online": true,
            "counters": publisher.counters.to_json(),
        })
        .to_string()
        .into_bytes();
        publisher.send(status).await;
    }
}
