//! The embedded broker (feature `embedded-broker`, on by default): rumqttd on
//! loopback, so `labwire gateway` with no `[broker]` is a working pipeline on a fresh
//! machine. It speaks MQTT 5 only (`mosquitto_sub -V mqttv5`): rumqttd 0.20 cannot
//! forward an MQTT 5 message, which carries properties, to an MQTT 3.1.1 subscriber
//! (its connection task panics), so no 3.1.1 listener is offered.
//!
//! It is a convenience for trying labwire and for small single-box sites: it keeps
//! messages in memory only. A site that must not lose messages across a broker
//! restart runs a real broker (mosquitto with persistence, EMQX) and names it in
//! `[broker]`.

use super::config::{BrokerConfig, EmbeddedBroker};

/// Starts the broker on its own thread and returns how the gateway reaches it.
pub(crate) fn start(embedded: &EmbeddedBroker, client_id: String) -> Result<BrokerConfig, String> {
    let text = format!(
        r#"id = 0
[router]
id = 0
max_connections = 1000
max_outgoing_packet_count = 200
# Per-filter commit log: small segments keep the resident size low.
max_segment_size = 4194304
max_segment_count = 4
[v5.1]
name = "mqtt5"
listen = "{listen}"
next_connection_delay_ms = 1
[v5.1.connections]
connection_timeout_ms = 60000
max_payload_size = {max_payload}
max_inflight_count = 200
"#,
        listen = embedded.listen,
        max_payload = embedded.max_payload_bytes,
    );
    let config: rumqttd::Config =
        toml::from_str(&text).map_err(|error| format!("embedded broker configuration: {error}"))?;
    // Fail early and clearly if the port is taken, instead of inside the broker thread.
    let address = embedded.listen;
    std::net::TcpListener::bind(address)
        .map_err(|error| format!("embedded broker: cannot listen on {address}: {error}"))?;
    let mut broker = rumqttd::Broker::new(config);
    std::thread::Builder::new()
        .name("embedded-broker".into())
        .spawn(move || {
            if let Err(error) = broker.start() {
                tracing::error!(%error, "the embedded broker stopped");
            }
        })
        .map_err(|error| format!("embedded broker thread: {error}"))?;
    tracing::info!(%address, "embedded MQTT 5 broker started");
    Ok(BrokerConfig {
        host: address.ip().to_string(),
        port: address.port(),
        tls: None,
        client_id,
        username: None,
        password: None,
        keep_alive: std::time::Duration::from_secs(30),
    })
}
