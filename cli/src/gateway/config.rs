//! The gateway's configuration file (TOML).
//!
//! ```toml
//! spool_dir = "/var/lib/labwire/spool"           # durable queue; default ./labwire-spool
//! dead_letter_dir = "/var/lib/labwire/dead-letter" # default ./labwire-dead-letter
//!
//! [embedded_broker]                               # used when there is no [broker]
//! listen = "127.0.0.1:1883"                       # the default; MQTT 5 only
//!
//! [broker]                                        # omit for the embedded broker
//! url = "mqtt://127.0.0.1:1883"                   # or mqtts://host:8883
//! client_id = "labwire-gw-01"                     # default labwire-{gateway}
//! username = "gateway"
//! password_env = "LABWIRE_MQTT_PASSWORD"          # or password_file = "…"
//! ca_file = "ca.pem"                              # mqtts: the CA to trust
//! cert_file = "client.pem"                        # mqtts: client certificate …
//! key_file = "client.key"                         # … and its key
//!
//! [mapping]                                       # as for `labwire mqtt --config`
//! site = "demo-hospital"
//! gateway = "gw-01"
//!
//! [[listeners]]
//! protocol = "mllp"                               # mllp | astm (framing = "e1381" | "raw")
//! bind = "0.0.0.0:2575"
//! instrument = "cobas-c311"                       # the topic slug of what connects here
//! area = "chemistry"                              # default: the mapping's area
//! site = "north-campus"                           # default: the mapping's site
//! max_message_bytes = 1048576                     # default 1 MiB (1 KiB … 64 MiB)
//! max_connections = 16                            # TCP only; the default
//! idle_timeout_seconds = 600                      # TCP only; the default
//!
//! [[listeners]]                                   # ASTM over a serial port
//! protocol = "astm"                               # serial ports carry ASTM only
//! serial = "/dev/ttyUSB0"                         # instead of `bind`; feature `serial`
//! instrument = "sysmex-xn"
//! baud_rate = 9600                                # default 9600
//! data_bits = 8                                   # 7 | 8, default 8
//! parity = "none"                                 # none | even | odd, default none
//! stop_bits = 1                                   # 1 | 2, default 1
//! flow_control = "none"                           # none | software | hardware
//!
//! [metrics]                                       # optional Prometheus endpoint
//! listen = "127.0.0.1:9464"                       # the default; GET /metrics
//! ```
//!
//! A listener has either `bind` (a TCP address instruments connect to) or `serial`
//! (the device of a serial port with one instrument on the other end of the cable;
//! labwire must be built with the cargo feature `serial`). The defaults of the line
//! settings are those of ASTM E1381-02 §5 (physical layer), also CLSI LIS01-A2:
//! 9600 baud, 8 data bits, no parity, 1 stop bit. The port is opened when the gateway
//! starts and opened again, with a growing pause (up to 5 s), whenever it is missing
//! or goes away (a USB adapter unplugged): the gateway keeps running meanwhile. The
//! port being open counts as the instrument being connected for the link status
//! published on the instrument's `status` topic.
//!
//! The metrics endpoint serves the gateway's counters in the Prometheus text format
//! (0.0.4); it has no authentication, so keep it on loopback or a management network.
//!
//! Secrets are read from files or the environment, never from the configuration text
//! itself, and are never logged.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use labwire_model::mqtt::MappingConfig;
use serde::Deserialize;
use serde_json::Value;

use super::metrics::ListenerCounters;
use crate::decode::{AstmDialect, TextCharset};

/// The whole gateway configuration.
#[derive(Debug)]
pub(crate) struct GatewayConfig {
    /// Where messages wait for the broker, durably.
    pub(crate) spool_dir: PathBuf,
    /// Where input that could not be read is kept, with the reason.
    pub(crate) dead_letter_dir: PathBuf,
    /// The broker; `None` runs the embedded one.
    pub(crate) broker: Option<BrokerConfig>,
    /// Where the embedded broker listens when there is no `[broker]`.
    #[cfg_attr(not(feature = "embedded-broker"), allow(dead_code))]
    pub(crate) embedded_broker: EmbeddedBroker,
    /// The mapping used for the gateway's own messages (birth, will, counters).
    pub(crate) mapping: MappingConfig,
    /// The instrument listeners.
    pub(crate) listeners: Vec<ListenerConfig>,
    /// Delivery tuning.
    pub(crate) delivery: DeliveryConfig,
    /// The Prometheus endpoint, if any.
    pub(crate) metrics: Option<MetricsConfig>,
}

/// Where the Prometheus text endpoint listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MetricsConfig {
    /// Its TCP address; `GET /metrics` answers there.
    pub(crate) listen: SocketAddr,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        // The port Prometheus' exporter list gives to OpenTelemetry-style exporters;
        // loopback because the endpoint has no authentication.
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9464)),
        }
    }
}

/// How to reach the broker.
#[derive(Debug, Clone)]
pub(crate) struct BrokerConfig {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) tls: Option<TlsFiles>,
    pub(crate) client_id: String,
    pub(crate) username: Option<String>,
    /// Never printed: [`Secret`]'s Debug hides it.
    pub(crate) password: Option<Secret>,
    pub(crate) keep_alive: Duration,
}

/// The embedded broker's ports (loopback by default: it has no authentication).
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "embedded-broker"), allow(dead_code))]
pub(crate) struct EmbeddedBroker {
    /// Where it listens for MQTT 5 clients; the gateway connects here too.
    pub(crate) listen: SocketAddr,
    /// Largest payload accepted.
    pub(crate) max_payload_bytes: usize,
}

impl Default for EmbeddedBroker {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 1883)),
            max_payload_bytes: 1 << 20,
        }
    }
}

/// PEM files for `mqtts://`.
#[derive(Debug, Clone)]
pub(crate) struct TlsFiles {
    pub(crate) ca: Vec<u8>,
    pub(crate) client: Option<(Vec<u8>, Secret)>,
}

/// A password or private key: kept out of Debug output and logs.
#[derive(Clone)]
pub(crate) struct Secret(pub(crate) Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<secret>")
    }
}

/// The wire protocol of a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Protocol {
    /// HL7 v2 over MLLP.
    Mllp,
    /// ASTM E1394 records (over TCP or a serial port), E1381-framed or raw.
    Astm,
}

/// Where a listener's instruments are attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transport {
    /// A TCP address instruments connect to (`bind`).
    Tcp(SocketAddr),
    /// A serial port with one instrument on the other end (`serial`).
    Serial(SerialSettings),
}

impl Transport {
    /// `tcp` or `serial`, for logs and metrics labels.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Tcp(_) => "tcp",
            Self::Serial(_) => "serial",
        }
    }
}

/// A serial port and its line settings. The defaults are E1381-02 §5's (CLSI
/// LIS01-A2): 9600 baud, 8 data bits, no parity, 1 stop bit, no flow control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SerialSettings {
    /// The device, e.g. `/dev/ttyUSB0` or `/dev/serial/by-id/…`.
    pub(crate) path: PathBuf,
    pub(crate) baud_rate: u32,
    pub(crate) data_bits: DataBits,
    pub(crate) parity: Parity,
    pub(crate) stop_bits: StopBits,
    pub(crate) flow_control: FlowControl,
}

impl SerialSettings {
    /// The E1381 defaults for the port at `path`.
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            baud_rate: 9600,
            data_bits: DataBits::Eight,
            parity: Parity::None,
            stop_bits: StopBits::One,
            flow_control: FlowControl::None,
        }
    }
}

/// Data bits per character (E1381 allows 7 with a parity bit, or 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataBits {
    Seven,
    Eight,
}

/// The parity bit of each character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parity {
    None,
    Even,
    Odd,
}

/// Stop bits per character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopBits {
    One,
    Two,
}

/// Flow control on the line. E1381 itself needs none (the receiver paces the sender
/// with its ACKs), but some instruments insist on one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlowControl {
    None,
    /// XON/XOFF.
    Software,
    /// RTS/CTS.
    Hardware,
}

/// One instrument listener.
#[derive(Debug, Clone)]
pub(crate) struct ListenerConfig {
    /// `listeners[N]`, for messages.
    pub(crate) name: String,
    pub(crate) protocol: Protocol,
    pub(crate) transport: Transport,
    /// The mapping for what arrives here: the base mapping with this listener's
    /// instrument slug and area.
    pub(crate) mapping: MappingConfig,
    /// The slug, for logs and file names.
    pub(crate) instrument: String,
    pub(crate) max_message_bytes: usize,
    pub(crate) max_connections: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) dialect: AstmDialect,
    pub(crate) charset: TextCharset,
    /// ASTM only: E1381 framing (ENQ, frames, EOT) or raw LIS02 records.
    pub(crate) framing: AstmFraming,
    /// What happened on this listener so far (shared by every clone of it).
    pub(crate) counters: Arc<ListenerCounters>,
}

/// How an ASTM listener's bytes are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AstmFraming {
    /// E1381 (CLSI LIS01): the link protocol, with its acknowledgements.
    E1381,
    /// LIS02 records streamed as text (`H|…` to `L|…`), as some analyzers and
    /// middleware do over TCP. There is no acknowledgement to hold back: every
    /// complete message is delivered, and records left without an L record when the
    /// connection closes are delivered too.
    Raw,
}

/// When to spool instead of waiting for the broker.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeliveryConfig {
    /// A message not acknowledged by the broker within this time is written to the
    /// spool, so the instrument gets its acknowledgement well inside its own timeout
    /// (E1381's sender waits 15 s; MLLP senders typically 10–30 s).
    pub(crate) spool_after: Duration,
    /// Messages held in memory at most; beyond that, instruments wait (back-pressure).
    pub(crate) max_queue: usize,
    /// QoS 1 messages in flight to the broker at once.
    pub(crate) max_inflight: u16,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            spool_after: Duration::from_millis(2000),
            max_queue: 10_000,
            max_inflight: 100,
        }
    }
}

/// A configuration error naming the field.
fn error(field: &str, reason: impl std::fmt::Display) -> String {
    format!("{field}: {reason}")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    spool_dir: Option<PathBuf>,
    dead_letter_dir: Option<PathBuf>,
    broker: Option<RawBroker>,
    embedded_broker: Option<RawEmbedded>,
    mapping: Value,
    #[serde(default)]
    listeners: Vec<RawListener>,
    #[serde(default)]
    delivery: RawDelivery,
    metrics: Option<RawMetrics>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    listen: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBroker {
    url: String,
    client_id: Option<String>,
    username: Option<String>,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    keep_alive_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmbedded {
    listen: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDelivery {
    spool_after_ms: Option<u64>,
    max_queue: Option<usize>,
    max_inflight: Option<u16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawListener {
    protocol: Protocol,
    bind: Option<String>,
    serial: Option<PathBuf>,
    baud_rate: Option<u32>,
    data_bits: Option<u8>,
    parity: Option<String>,
    stop_bits: Option<u8>,
    flow_control: Option<String>,
    instrument: String,
    site: Option<String>,
    area: Option<String>,
    max_message_bytes: Option<usize>,
    max_connections: Option<usize>,
    idle_timeout_seconds: Option<u64>,
    dialect: Option<String>,
    charset: Option<String>,
    framing: Option<String>,
}

/// Reads and checks a configuration file. Relative paths in it are relative to the
/// file's folder.
pub(crate) fn load(path: &Path) -> Result<GatewayConfig, String> {
    let text = std::fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&text, base).map_err(|err| format!("{}: {err}", path.display()))
}

/// Parses configuration text; `base` resolves relative paths.
pub(crate) fn parse(text: &str, base: &Path) -> Result<GatewayConfig, String> {
    let raw: RawConfig = toml::from_str(text).map_err(|err| err.to_string())?;
    let resolve = |path: &Path| {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            base.join(path)
        }
    };
    let mapping_value = raw.mapping;
    let mapping = MappingConfig::from_value(mapping_value.clone())
        .map_err(|err| error(&format!("mapping.{}", err.field), err.reason))?;
    let broker = raw
        .broker
        .map(|broker| broker_config(broker, &mapping, &resolve))
        .transpose()?;
    let mut listeners = Vec::new();
    for (index, listener) in raw.listeners.into_iter().enumerate() {
        listeners.push(listener_config(index, listener, &mapping_value, &resolve)?);
    }
    if listeners.is_empty() {
        return Err(error("listeners", "at least one listener is needed"));
    }
    for (index, listener) in listeners.iter().enumerate() {
        let earlier = || listeners.iter().take(index).map(|other| &other.transport);
        match &listener.transport {
            // Port 0 asks the system for a free port: several listeners may.
            Transport::Tcp(bind) => {
                if bind.port() != 0 && earlier().any(|other| other == &Transport::Tcp(*bind)) {
                    return Err(error(&listener.name, "bind address used twice"));
                }
            }
            Transport::Serial(settings) => {
                if !cfg!(feature = "serial") {
                    return Err(error(
                        &format!("{}.serial", listener.name),
                        "this labwire was built without serial ports (cargo feature `serial`)",
                    ));
                }
                let same_port = |other: &Transport| matches!(other, Transport::Serial(other) if other.path == settings.path);
                if earlier().any(same_port) {
                    // One instrument per port: a second reader would steal its bytes.
                    return Err(error(
                        &format!("{}.serial", listener.name),
                        "serial port used by two listeners",
                    ));
                }
            }
        }
    }
    let metrics = raw
        .metrics
        .map(|raw| match raw.listen {
            None => Ok(MetricsConfig::default()),
            Some(text) => text
                .parse::<SocketAddr>()
                .map(|listen| MetricsConfig { listen })
                .map_err(|_| error("metrics.listen", "expected an address like 127.0.0.1:9464")),
        })
        .transpose()?;
    let mut embedded_broker = EmbeddedBroker::default();
    if let Some(raw) = raw.embedded_broker {
        if broker.is_some() {
            return Err(error(
                "embedded_broker",
                "not used when [broker] names a broker",
            ));
        }
        if let Some(text) = &raw.listen {
            embedded_broker.listen = text.parse::<SocketAddr>().map_err(|_| {
                error(
                    "embedded_broker.listen",
                    "expected an address like 127.0.0.1:1883",
                )
            })?;
        }
    }
    let defaults = DeliveryConfig::default();
    let delivery = DeliveryConfig {
        spool_after: raw
            .delivery
            .spool_after_ms
            .map_or(defaults.spool_after, Duration::from_millis),
        max_queue: raw.delivery.max_queue.unwrap_or(defaults.max_queue).max(1),
        max_inflight: raw
            .delivery
            .max_inflight
            .unwrap_or(defaults.max_inflight)
            .max(1),
    };
    Ok(GatewayConfig {
        spool_dir: resolve(
            raw.spool_dir
                .as_deref()
                .unwrap_or(Path::new("labwire-spool")),
        ),
        dead_letter_dir: resolve(
            raw.dead_letter_dir
                .as_deref()
                .unwrap_or(Path::new("labwire-dead-letter")),
        ),
        broker,
        embedded_broker,
        mapping,
        listeners,
        delivery,
        metrics,
    })
}

fn broker_config(
    raw: RawBroker,
    mapping: &MappingConfig,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<BrokerConfig, String> {
    let (tls, rest) = if let Some(rest) = raw.url.strip_prefix("mqtts://") {
        (true, rest)
    } else if let Some(rest) = raw.url.strip_prefix("mqtt://") {
        (false, rest)
    } else {
        return Err(error("broker.url", "must start with mqtt:// or mqtts://"));
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => (
            host,
            port.parse::<u16>()
                .map_err(|_| error("broker.url", "the port is not a number"))?,
        ),
        _ => (rest, if tls { 8883 } else { 1883 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(error("broker.url", "no host"));
    }
    let read = |field: &str, path: &Path| {
        std::fs::read(resolve(path))
            .map_err(|err| error(field, format!("{}: {err}", path.display())))
    };
    let password = match (&raw.password_env, &raw.password_file) {
        (Some(_), Some(_)) => {
            return Err(error(
                "broker",
                "give password_env or password_file, not both",
            ));
        }
        (Some(variable), None) => Some(Secret(
            std::env::var(variable)
                .map_err(|_| error("broker.password_env", format!("{variable} is not set")))?
                .into_bytes(),
        )),
        (None, Some(file)) => {
            let mut bytes = read("broker.password_file", file)?;
            // A trailing newline is how editors save files, not part of the password.
            while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                bytes.pop();
            }
            Some(Secret(bytes))
        }
        (None, None) => None,
    };
    if password.is_some() && raw.username.is_none() {
        return Err(error("broker.username", "a password needs a username"));
    }
    let tls = if tls {
        let ca = match &raw.ca_file {
            Some(file) => read("broker.ca_file", file)?,
            None => return Err(error("broker.ca_file", "mqtts:// needs the CA to trust")),
        };
        let client = match (&raw.cert_file, &raw.key_file) {
            (Some(cert), Some(key)) => Some((
                read("broker.cert_file", cert)?,
                Secret(read("broker.key_file", key)?),
            )),
            (None, None) => None,
            _ => {
                return Err(error("broker", "cert_file and key_file go together"));
            }
        };
        Some(TlsFiles { ca, client })
    } else {
        if raw.ca_file.is_some() || raw.cert_file.is_some() || raw.key_file.is_some() {
            return Err(error("broker.url", "certificate files need mqtts://"));
        }
        None
    };
    Ok(BrokerConfig {
        host: host.to_owned(),
        port,
        tls,
        client_id: raw
            .client_id
            .unwrap_or_else(|| format!("labwire-{}", mapping.gateway().as_str())),
        username: raw.username,
        password,
        keep_alive: Duration::from_secs(raw.keep_alive_seconds.unwrap_or(30).max(5)),
    })
}

fn listener_config(
    index: usize,
    raw: RawListener,
    mapping: &Value,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<ListenerConfig, String> {
    let name = format!("listeners[{index}]");
    let field = |suffix: &str| format!("{name}.{suffix}");
    let transport = match (&raw.bind, &raw.serial) {
        (Some(_), Some(_)) => {
            return Err(error(&name, "give bind (TCP) or serial (a port), not both"));
        }
        (None, None) => {
            return Err(error(
                &field("bind"),
                "missing: give bind (TCP) or serial (a port)",
            ));
        }
        (Some(bind), None) => {
            let bind = bind
                .parse()
                .map_err(|_| error(&field("bind"), "expected an address like 0.0.0.0:2575"))?;
            let serial_only = [
                ("baud_rate", raw.baud_rate.is_some()),
                ("data_bits", raw.data_bits.is_some()),
                ("parity", raw.parity.is_some()),
                ("stop_bits", raw.stop_bits.is_some()),
                ("flow_control", raw.flow_control.is_some()),
            ];
            if let Some((key, _)) = serial_only.iter().find(|(_, given)| *given) {
                return Err(error(&field(key), "only for serial listeners"));
            }
            Transport::Tcp(bind)
        }
        (None, Some(path)) => {
            if raw.protocol != Protocol::Astm {
                return Err(error(&field("serial"), "serial ports carry ASTM only"));
            }
            if path.as_os_str().is_empty() {
                return Err(error(&field("serial"), "empty device path"));
            }
            // A serial port is one instrument: there is nothing to accept or time out.
            if raw.max_connections.is_some() {
                return Err(error(
                    &field("max_connections"),
                    "only for TCP listeners (a serial port has one instrument)",
                ));
            }
            if raw.idle_timeout_seconds.is_some() {
                return Err(error(
                    &field("idle_timeout_seconds"),
                    "only for TCP listeners (a quiet serial line stays open)",
                ));
            }
            Transport::Serial(serial_settings(&raw, resolve(path), &field)?)
        }
    };
    // The listener's instrument and area replace the mapping's default route, and the
    // mapping's per-id routes are dropped: what connects here *is* this instrument,
    // whatever it calls itself.
    let mut value = mapping.clone();
    if let Value::Object(table) = &mut value {
        table.insert("instrument".into(), Value::String(raw.instrument.clone()));
        if let Some(site) = &raw.site {
            table.insert("site".into(), Value::String(site.clone()));
        }
        if let Some(area) = &raw.area {
            table.insert("area".into(), Value::String(area.clone()));
        }
        table.remove("instruments");
    }
    let listener_mapping = MappingConfig::from_value(value).map_err(|err| error(&name, err))?;
    let dialect = match raw.dialect.as_deref() {
        None | Some("generic") => AstmDialect::Generic,
        Some("sysmex-xn") => AstmDialect::SysmexXn,
        Some("roche-cobas") => AstmDialect::RocheCobas,
        Some(other) => {
            return Err(error(
                &field("dialect"),
                format!("{other:?}: expected generic, sysmex-xn or roche-cobas"),
            ));
        }
    };
    let charset = match raw.charset.as_deref() {
        None | Some("utf8") => TextCharset::Utf8,
        Some("latin1") => TextCharset::Latin1,
        Some("windows1252") => TextCharset::Windows1252,
        Some("shift-jis") => TextCharset::ShiftJis,
        Some(other) => {
            return Err(error(
                &field("charset"),
                format!("{other:?}: expected utf8, latin1, windows1252 or shift-jis"),
            ));
        }
    };
    let framing = match raw.framing.as_deref() {
        None | Some("e1381") => AstmFraming::E1381,
        Some("raw") => AstmFraming::Raw,
        Some(other) => {
            return Err(error(
                &field("framing"),
                format!("{other:?}: expected e1381 or raw"),
            ));
        }
    };
    if raw.protocol == Protocol::Mllp
        && (raw.dialect.is_some() || raw.charset.is_some() || raw.framing.is_some())
    {
        return Err(error(
            &name,
            "dialect, charset and framing are for ASTM listeners",
        ));
    }
    Ok(ListenerConfig {
        name,
        protocol: raw.protocol,
        transport,
        mapping: listener_mapping,
        instrument: raw.instrument,
        max_message_bytes: raw
            .max_message_bytes
            .unwrap_or(1 << 20)
            .clamp(1024, 64 << 20),
        max_connections: raw.max_connections.unwrap_or(16).max(1),
        idle_timeout: Duration::from_secs(raw.idle_timeout_seconds.unwrap_or(600).max(1)),
        dialect,
        charset,
        framing,
        counters: Arc::default(),
    })
}

/// The line settings of a serial listener; errors name the field.
fn serial_settings(
    raw: &RawListener,
    path: PathBuf,
    field: &dyn Fn(&str) -> String,
) -> Result<SerialSettings, String> {
    let mut settings = SerialSettings::new(path);
    if let Some(baud_rate) = raw.baud_rate {
        if baud_rate == 0 {
            return Err(error(&field("baud_rate"), "must be above 0, e.g. 9600"));
        }
        settings.baud_rate = baud_rate;
    }
    settings.data_bits = match raw.data_bits {
        None | Some(8) => DataBits::Eight,
        Some(7) => DataBits::Seven,
        Some(other) => {
            return Err(error(
                &field("data_bits"),
                format!("{other}: expected 7 or 8"),
            ));
        }
    };
    settings.parity = match raw.parity.as_deref() {
        None | Some("none") => Parity::None,
        Some("even") => Parity::Even,
        Some("odd") => Parity::Odd,
        Some(other) => {
            return Err(error(
                &field("parity"),
                format!("{other:?}: expected none, even or odd"),
            ));
        }
    };
    settings.stop_bits = match raw.stop_bits {
        None | Some(1) => StopBits::One,
        Some(2) => StopBits::Two,
        Some(other) => {
            return Err(error(
                &field("stop_bits"),
                format!("{other}: expected 1 or 2"),
            ));
        }
    };
    settings.flow_control = match raw.flow_control.as_deref() {
        None | Some("none") => FlowControl::None,
        Some("software") => FlowControl::Software,
        Some("hardware") => FlowControl::Hardware,
        Some(other) => {
            return Err(error(
                &field("flow_control"),
                format!("{other:?}: expected none, software or hardware"),
            ));
        }
    };
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(extra: &str) -> Result<GatewayConfig, String> {
        let text = format!(
            "{extra}\n[mapping]\nsite = \"site-a\"\ngateway = \"gw-01\"\nprivacy = \"full\"\n\
             [[mapping.instruments]]\nid = \"X\"\nslug = \"elsewhere\"\n\
             [[listeners]]\nprotocol = \"mllp\"\nbind = \"127.0.0.1:2575\"\ninstrument = \"chem-1\"\n"
        );
        parse(&text, Path::new("/etc/labwire"))
    }

    #[test]
    fn a_minimal_configuration_gets_defaults() {
        let config = with("").unwrap();
        assert!(config.broker.is_none());
        assert_eq!(config.spool_dir, Path::new("/etc/labwire/labwire-spool"));
        let listener = &config.listeners[0];
        assert_eq!(listener.protocol, Protocol::Mllp);
        assert_eq!(listener.mapping.instrument().unwrap().as_str(), "chem-1");
        assert!(listener.mapping.instruments().is_empty());
        assert_eq!(config.mapping.instruments().len(), 1);
        assert_eq!(listener.mapping.site().as_str(), "site-a");
        let text = "[mapping]\nsite = \"site-a\"\ngateway = \"gw\"\nprivacy = \"full\"\n\
                    [[listeners]]\nprotocol = \"astm\"\nbind = \"127.0.0.1:1\"\n\
                    instrument = \"i\"\nsite = \"site-b\"\narea = \"hem\"\n";
        let config = parse(text, Path::new(".")).unwrap();
        let mapping = &config.listeners[0].mapping;
        assert_eq!(
            (mapping.site().as_str(), mapping.area().as_str()),
            ("site-b", "hem")
        );
    }

    #[test]
    fn broker_urls_are_read() {
        let config = with("[broker]\nurl = \"mqtt://broker.local\"").unwrap();
        let broker = config.broker.unwrap();
        assert_eq!((broker.host.as_str(), broker.port), ("broker.local", 1883));
        assert_eq!(broker.client_id, "labwire-gw-01");
        let config = with("[broker]\nurl = \"mqtt://10.0.0.5:11883/\"").unwrap();
        let broker = config.broker.unwrap();
        assert_eq!((broker.host.as_str(), broker.port), ("10.0.0.5", 11883));
        let error = with("[broker]\nurl = \"http://x\"").unwrap_err();
        assert!(error.starts_with("broker.url"), "{error}");
        let error = with("[broker]\nurl = \"mqtts://x\"").unwrap_err();
        assert!(error.starts_with("broker.ca_file"), "{error}");
    }

    #[test]
    fn errors_name_the_field() {
        let error = with("[broker]\nurl = \"mqtt://x\"\npassword_env = \"LABWIRE_TEST_UNSET_VARIABLE\"\nusername = \"u\"")
            .unwrap_err();
        assert!(error.starts_with("broker.password_env"), "{error}");
        let error = parse(
            "[mapping]\nsite = \"Site A\"\ngateway = \"gw\"\n[[listeners]]\nprotocol = \"mllp\"\nbind = \"127.0.0.1:1\"\ninstrument = \"i\"",
            Path::new("."),
        )
        .unwrap_err();
        assert!(error.starts_with("mapping.site: "), "{error}");
        let error = parse(
            "[mapping]\nsite = \"s\"\ngateway = \"gw\"\nprivacy = \"full\"\n[[listeners]]\nprotocol = \"mllp\"\nbind = \"nowhere\"\ninstrument = \"i\"",
            Path::new("."),
        )
        .unwrap_err();
        assert!(error.starts_with("listeners[0].bind"), "{error}");
        let error = parse(
            "[mapping]\nsite = \"s\"\ngateway = \"gw\"\nprivacy = \"full\"",
            Path::new("."),
        )
        .unwrap_err();
        assert!(error.starts_with("listeners"), "{error}");
    }

    /// The first listener of a configuration with `listener` as its only one, parsed
    /// without the `serial` feature check (the line settings are read either way).
    fn one_listener(listener: &str) -> Result<ListenerConfig, String> {
        let raw: RawListener = toml::from_str(listener).map_err(|err| err.to_string())?;
        let mapping = serde_json::json!({"site": "s", "gateway": "gw", "privacy": "full"});
        listener_config(0, raw, &mapping, &|path: &Path| {
            Path::new("/etc/labwire").join(path)
        })
    }

    fn serial_listener(extra: &str) -> Result<ListenerConfig, String> {
        one_listener(&format!(
            "protocol = \"astm\"\nserial = \"/dev/ttyUSB0\"\ninstrument = \"i\"\n{extra}"
        ))
    }

    #[test]
    fn serial_listeners_default_to_9600_8n1() {
        let listener = serial_listener("").unwrap();
        let Transport::Serial(settings) = &listener.transport else {
            panic!("{:?}", listener.transport)
        };
        assert_eq!(settings, &SerialSettings::new("/dev/ttyUSB0".into()));
        assert_eq!(
            (
                settings.baud_rate,
                settings.data_bits,
                settings.parity,
                settings.stop_bits,
                settings.flow_control
            ),
            (
                9600,
                DataBits::Eight,
                Parity::None,
                StopBits::One,
                FlowControl::None
            )
        );
        assert_eq!(listener.transport.kind(), "serial");
        assert_eq!(listener.framing, AstmFraming::E1381);
    }

    #[test]
    fn serial_line_settings_are_read() {
        let listener = serial_listener(
            "baud_rate = 19200\ndata_bits = 7\nparity = \"even\"\nstop_bits = 2\n\
             flow_control = \"software\"\nframing = \"raw\"",
        )
        .unwrap();
        let Transport::Serial(settings) = &listener.transport else {
            panic!("{:?}", listener.transport)
        };
        assert_eq!(settings.baud_rate, 19_200);
        assert_eq!(settings.data_bits, DataBits::Seven);
        assert_eq!(settings.parity, Parity::Even);
        assert_eq!(settings.stop_bits, StopBits::Two);
        assert_eq!(settings.flow_control, FlowControl::Software);
        assert_eq!(listener.framing, AstmFraming::Raw);
        let listener = serial_listener("parity = \"odd\"\nflow_control = \"hardware\"").unwrap();
        let Transport::Serial(settings) = &listener.transport else {
            panic!("{:?}", listener.transport)
        };
        assert_eq!(
            (settings.parity, settings.flow_control),
            (Parity::Odd, FlowControl::Hardware)
        );
        // Relative device paths are relative to the configuration file, like the rest.
        let listener =
            one_listener("protocol = \"astm\"\nserial = \"tty-lab\"\ninstrument = \"i\"").unwrap();
        let Transport::Serial(settings) = &listener.transport else {
            panic!("{:?}", listener.transport)
        };
        assert_eq!(settings.path, Path::new("/etc/labwire/tty-lab"));
    }

    #[test]
    fn serial_setting_errors_name_the_field() {
        for (extra, field) in [
            ("baud_rate = 0", "listeners[0].baud_rate: "),
            ("data_bits = 6", "listeners[0].data_bits: "),
            ("parity = \"mark\"", "listeners[0].parity: "),
            ("stop_bits = 3", "listeners[0].stop_bits: "),
            ("flow_control = \"rts\"", "listeners[0].flow_control: "),
            ("max_connections = 2", "listeners[0].max_connections: "),
            (
                "idle_timeout_seconds = 9",
                "listeners[0].idle_timeout_seconds: ",
            ),
            ("bind = \"127.0.0.1:1\"", "listeners[0]: "),
        ] {
            let error = serial_listener(extra).unwrap_err();
            assert!(error.starts_with(field), "{extra}: {error}");
        }
        let error = serial_listener("baud_rate = -1").unwrap_err();
        assert!(error.contains("baud_rate"), "{error}");
        for (listener, field) in [
            (
                "protocol = \"mllp\"\nserial = \"/dev/ttyS0\"\ninstrument = \"i\"",
                "listeners[0].serial: ",
            ),
            (
                "protocol = \"astm\"\nserial = \"\"\ninstrument = \"i\"",
                "listeners[0].serial: ",
            ),
            (
                "protocol = \"astm\"\ninstrument = \"i\"",
                "listeners[0].bind: ",
            ),
            (
                "protocol = \"astm\"\nbind = \"127.0.0.1:1\"\ninstrument = \"i\"\nparity = \"even\"",
                "listeners[0].parity: ",
            ),
        ] {
            let error = one_listener(listener).unwrap_err();
            assert!(error.starts_with(field), "{listener}: {error}");
        }
    }

    const SERIAL_CONFIG: &str = "[mapping]\nsite = \"s\"\ngateway = \"gw\"\nprivacy = \"full\"\n\
        [[listeners]]\nprotocol = \"astm\"\nserial = \"/dev/ttyUSB0\"\ninstrument = \"a\"\n";

    #[cfg(feature = "serial")]
    #[test]
    fn serial_ports_serve_one_listener_each() {
        let config = parse(SERIAL_CONFIG, Path::new(".")).unwrap();
        assert_eq!(config.listeners[0].transport.kind(), "serial");
        let twice = format!(
            "{SERIAL_CONFIG}[[listeners]]\nprotocol = \"astm\"\nserial = \"/dev/ttyUSB0\"\ninstrument = \"b\"\n"
        );
        let error = parse(&twice, Path::new(".")).unwrap_err();
        assert!(error.starts_with("listeners[1].serial: "), "{error}");
    }

    #[cfg(not(feature = "serial"))]
    #[test]
    fn serial_listeners_need_the_serial_feature() {
        let error = parse(SERIAL_CONFIG, Path::new(".")).unwrap_err();
        assert!(error.starts_with("listeners[0].serial: "), "{error}");
        assert!(error.contains("feature `serial`"), "{error}");
    }

    #[test]
    fn the_metrics_endpoint_is_optional_and_defaults_to_loopback() {
        assert_eq!(with("").unwrap().metrics, None);
        let config = with("[metrics]").unwrap();
        assert_eq!(
            config.metrics.unwrap().listen,
            "127.0.0.1:9464".parse().unwrap()
        );
        let config = with("[metrics]\nlisten = \"0.0.0.0:9100\"").unwrap();
        assert_eq!(config.metrics.unwrap().listen.port(), 9100);
        let error = with("[metrics]\nlisten = \"nowhere\"").unwrap_err();
        assert!(error.starts_with("metrics.listen: "), "{error}");
        let error = with("[metrics]\nport = 1").unwrap_err();
        assert!(error.contains("port"), "{error}");
    }

    #[test]
    fn secrets_do_not_print() {
        let secret = Secret(b"hunter2".to_vec());
        assert_eq!(format!("{secret:?}"), "<secret>");
    }
}
