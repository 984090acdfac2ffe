//! MQTT mapping: pure functions from a [`LabEvent`] to topics, payloads and MQTT 5
//! properties. No client, no I/O: the gateway publishes what [`map`] returns.
//!
//! ```
//! use labwire_model::mqtt::{self, MapContext, MappingConfig, SequentialMsgIds};
//! use labwire_model::*;
//!
//! let config = MappingConfig::from_json_str(r#"{
//!     "site": "site-a", "area": "chem", "gateway": "gw-01", "instrument": "an-01",
//!     "privacy": "pseudonymized",
//!     "pseudonymization": { "key_hex": "000102030405060708090a0b0c0d0e0f", "key_id": "k1" }
//! }"#)?;
//!
//! let event = LabEvent::Results(ResultReport {
//!     specimen: Some(Specimen {
//!         ids: vec![Sensitive::new(Identifier::new("S24-000123"))],
//!         ..Specimen::default()
//!     }),
//!     results: vec![LabResult::new(
//!         Coding::local("GLU"),
//!         ResultValue::Quantity(Quantity::new(Decimal::parse("5.40")?).with_unit(Unit::ucum("mmol/L"))),
//!         ResultStatus::from_code("F"),
//!     )],
//!     ..ResultReport::default()
//! });
//!
//! // The clock and the id source are inputs, so the output is reproducible.
//! let ids = SequentialMsgIds::new(1);
//! let context = MapContext { now: LabTimestamp::parse_rfc3339("2024-03-01T10:15:03Z")?, msg_ids: &ids };
//! for message in mqtt::map(&event, &config, &context)? {
//!     println!("{} (qos {}, retain {})", message.topic, message.qos as u8, message.retain);
//!     println!("{}", String::from_utf8_lossy(&message.payload));
//!     assert_eq!(message.topic.as_str(), "lab/v1/site-a/chem/an-01/result");
//!     let payload = String::from_utf8(message.payload)?;
//!     assert!(payload.starts_with(r#"{"schema":"lab.result/1","msg_id":"00000000-0000-8001-8000-000000000000""#));
//!     assert!(!payload.contains("S24-000123"));   // the specimen id became a token
//!     assert!(payload.contains(r#""value":"5.40""#));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Topics
//!
//! `lab/v1/{site}/{area}/{instrument}/{kind}` by default, every level from the
//! configuration; `{kind}` is one of `result`, `qc`, `calibration`, `status`,
//! `alarm`, `meta`, `imaging`, `order`, `query`, `inventory`, `log` ([`topic_kind`]). The
//! gateway's liveness is at `lab/v1/{site}/_gw/{gateway}/status`
//! ([`gateway_birth`], [`gateway_will`]). Nothing an instrument sends can reach a
//! topic or an MQTT property: templates only know configured placeholders, and the
//! instrument is routed to a configured slug.
//!
//! # QoS, retain, expiry
//!
//! Everything is QoS 1. Only equipment status, instrument meta and gateway status are
//! retained (last value wins; none can identify a person). Alarms expire
//! (`alarm_expiry_seconds`, default one hour); nothing else does.
//!
//! # Payloads
//!
//! A versioned envelope, the same in JSON and CBOR:
//!
//! | field | |
//! |---|---|
//! | `schema` | `lab.result/1`, `lab.qc/1` … ([`schema_name`]); JSON Schemas in `lab-model/schema/` |
//! | `msg_id` | unique per message; drop QoS 1 duplicates by it |
//! | `sent_at` | when the gateway mapped it (RFC 3339) |
//! | `source` | `protocol`, `version`, `message_id`, `sender`, `received_at`, `gateway`, `warnings` |
//! | `instrument` | the configured `id` (slug), `site`, `area` |
//! | `privacy` | the profile the body was written under ([`PrivacyProfile`]) |
//! | `token_kid` | the key id behind tokens and result ids |
//! | `result_ids` | for results: one stable id per `body.results` entry, the same when the instrument re-sends or corrects the result |
//! | `body` | the event as the labwire model writes it (see the crate docs), after the privacy profile; under `id-only` just `{patient, specimen, order}` token lists |
//!
//! Decimals are strings (`"5.40"` keeps its digits), timestamps RFC 3339 with the
//! precision the instrument sent.
//!
//! # Speed
//!
//! Results events, the bulk of a gateway's traffic, are written by a hand-written
//! walker over the envelope and the report (keys pre-encoded at compile time, the
//! privacy profile applied while writing, no copy of the report); other events by
//! fast serde writers. Both produce exactly the bytes of `serde_json` and
//! `ciborium` on the serde shape, which the tests hold them to. Texts of up to 16
//! bytes (most of a lab payload: codes, units, decimals, flags) are checked for
//! JSON escapes and written as whole words; a mapping makes two heap allocations
//! (the payload, sized from the last payload of its kind, and the `msg-id`
//! property's text). Identifier tokens are HMAC-SHA256 from
//! precomputed key pads, two SHA-256 compressions for a typical input, and the last
//! 64 token inputs are cached per configuration ([`MappingConfig::with_token_cache`]):
//! a re-sent report, or the next report on the same specimen, costs lookups instead
//! of compressions. Result ids are SipHash-2-4-128 under a key derived from the
//! pseudonym key, continued per result from the state after the parts all results
//! of a report share: a few dozen nanoseconds each. A configuration can be shared between threads; a mapping that
//! finds the cache in use computes its tokens rather than wait, so give busy worker
//! threads a clone each.

mod cbor;
mod config;
mod context;
mod json;
mod keyed_hash;
mod payload;
mod privacy;
mod properties;
mod report;
mod result_ids;
mod short;
mod sink;
mod siphash;
mod topic;

use serde::Serialize;

use crate::{EventKind, LabEvent};

pub use config::{
    ConfigError, DEFAULT_ALARM_EXPIRY_SECONDS, DEFAULT_AREA, InstrumentRoute, MappingConfig,
    PayloadFormat,
};
pub use context::{MapContext, MsgId, MsgIdSource, SequentialMsgIds};
pub use privacy::{MIN_KEY_BYTES, PrivacyProfile, PseudonymKey};
pub use properties::UserProperties;
pub use topic::{
    DEFAULT_GATEWAY_TOPIC_TEMPLATE, DEFAULT_TOPIC_TEMPLATE, MAX_SLUG_BYTES, MAX_TOPIC_BYTES,
    MAX_TOPIC_LEVELS, Placeholder, Slug, TemplateError, TopicError, TopicName, TopicTemplate,
};

/// How many event kinds there are ([`kind_index`]).
const EVENT_KINDS: usize = 11;
// A kind added to the model without a slot here would share a per-kind table entry.
const _: () = assert!(EVENT_KINDS == EventKind::ALL.len());

/// A dense index of an event kind, for per-kind tables.
fn kind_index(kind: EventKind) -> usize {
    match kind {
        EventKind::Results => 0,
        EventKind::Qc => 1,
        EventKind::Calibration => 2,
        EventKind::Status => 3,
        EventKind::Alarm => 4,
        EventKind::InstrumentMeta => 5,
        EventKind::ImagingStudy => 6,
        EventKind::WorkOrder => 7,
        EventKind::Query => 8,
        EventKind::Inventory => 9,
        EventKind::Log => 10,
    }
}

/// The version of the payload envelope and bodies: the `/1` in `lab.result/1`.
pub const PAYLOAD_SCHEMA_VERSION: u32 = 1;

/// MQTT quality of service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum QoS {
    /// 0: at most once.
    AtMostOnce = 0,
    /// 1: at least once. What labwire uses: results must not be lost, and
    /// consumers drop duplicates by `msg_id`.
    AtLeastOnce = 1,
    /// 2: exactly once.
    ExactlyOnce = 2,
}

impl Serialize for QoS {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(*self as u8)
    }
}

/// The MQTT 5 PUBLISH properties labwire sets. Only three user properties exist,
/// `schema`, `msg-id` and `src` (see [`UserProperties`]), and none of them can
/// carry an identifier of a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishProperties {
    /// Content Type (0x03): `application/json` or `application/cbor`.
    pub content_type: &'static str,
    /// Payload Format Indicator (0x01): 1 for JSON (UTF-8), 0 for CBOR.
    pub payload_format_indicator: u8,
    /// Message Expiry Interval (0x02) in seconds, alarms only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_expiry_interval: Option<u32>,
    /// User Properties (0x26), in order; serialized as `[name, value]` pairs.
    pub user_properties: UserProperties,
}

/// One message to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    /// Where.
    pub topic: TopicName,
    /// The encoded envelope.
    pub payload: Vec<u8>,
    /// Always [`QoS::AtLeastOnce`] today.
    pub qos: QoS,
    /// Whether the broker keeps it as the topic's last value.
    pub retain: bool,
    /// MQTT 5 properties (carried in the envelope too, for MQTT 3.1.1 consumers).
    pub properties: PublishProperties,
}

/// Why an event could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// No route matches the instrument and there is no default slug.
    #[error(
        "no instrument route for {instrument:?} and no default `instrument` slug in the mapping configuration"
    )]
    NoRoute {
        /// The instrument's local id, name or serial number, whichever it sent.
        instrument: String,
    },
    /// A rendered topic broke a topic rule (a configured slug combined with a template
    /// made a name too long).
    #[error("topic: {0}")]
    Topic(#[from] TopicError),
    /// The payload encoder failed.
    #[error("encoding the {format:?} payload: {reason}")]
    Encode {
        /// The format.
        format: PayloadFormat,
        /// What went wrong.
        reason: String,
    },
}

/// The topic level of an event kind.
pub fn topic_kind(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Results => "result",
        EventKind::Qc => "qc",
        EventKind::Calibration => "calibration",
        EventKind::Status => "status",
        EventKind::Alarm => "alarm",
        EventKind::InstrumentMeta => "meta",
        EventKind::ImagingStudy => "imaging",
        EventKind::WorkOrder => "order",
        EventKind::Query => "query",
        EventKind::Inventory => "inventory",
        EventKind::Log => "log",
    }
}

/// The payload schema of an event kind, e.g. `lab.result/1`.
pub fn schema_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Results => "lab.result/1",
        EventKind::Qc => "lab.qc/1",
        EventKind::Calibration => "lab.calibration/1",
        EventKind::Status => "lab.status/1",
        EventKind::Alarm => "lab.alarm/1",
        EventKind::InstrumentMeta => "lab.meta/1",
        EventKind::ImagingStudy => "lab.imaging/1",
        EventKind::WorkOrder => "lab.order/1",
        EventKind::Query => "lab.query/1",
        EventKind::Inventory => "lab.inventory/1",
        EventKind::Log => "lab.log/1",
    }
}

/// The schema of gateway liveness messages.
pub const GATEWAY_SCHEMA: &str = "lab.gateway/1";

/// Whether messages of this kind are retained: state, never anything that can
/// identify a person.
pub fn is_retained(kind: EventKind) -> bool {
    matches!(kind, EventKind::Status | EventKind::InstrumentMeta)
}

/// Maps one event to the messages to publish: one for every event, or none for a
/// results event whose results were all preliminary while the configuration does
/// not publish those.
pub fn map(
    event: &LabEvent,
    config: &MappingConfig,
    context: &MapContext<'_>,
) -> Result<Vec<Outbound>, MapError> {
    Ok(map_one(event, config, context)?.into_iter().collect())
}

/// [`map`] without the `Vec`: `None` when the event is not published.
pub fn map_one(
    event: &LabEvent,
    config: &MappingConfig,
    context: &MapContext<'_>,
) -> Result<Option<Outbound>, MapError> {
    let kind = event.kind();
    let route = config.route_index(event.instrument());
    let Some((route, (slug, area))) =
        route.and_then(|index| Some((index, config.route_at(index)?)))
    else {
        let instrument = event.instrument();
        let sent = [
            &instrument.local_id,
            &instrument.name,
            &instrument.serial_number,
        ]
        .into_iter()
        .find_map(|id| id.clone())
        .unwrap_or_default();
        return Err(MapError::NoRoute {
            instrument: sent.into(),
        });
    };
    let topic = config.event_topic(route, kind, || {
        config
            .topic_template()
            .render(|placeholder| match placeholder {
                Placeholder::Site => config.site().as_str(),
                Placeholder::Area => area.as_str(),
                Placeholder::Instrument => slug.as_str(),
                Placeholder::Gateway => config.gateway().as_str(),
                Placeholder::Kind => topic_kind(kind),
            })
    })?;
    let msg_id = context.msg_ids.next_msg_id();
    let parts = payload::EnvelopeParts {
        config,
        context,
        slug,
        area,
        msg_id,
    };
    let Some(payload) = payload::encode(event, &parts)? else {
        return Ok(None);
    };
    let (content_type, payload_format_indicator) = match config.format() {
        PayloadFormat::Json => ("application/json", 1),
        PayloadFormat::Cbor => ("application/cbor", 0),
    };
    Ok(Some(Outbound {
        topic,
        payload,
        qos: QoS::AtLeastOnce,
        retain: is_retained(kind),
        properties: PublishProperties {
            content_type,
            payload_format_indicator,
            message_expiry_interval: match kind {
                EventKind::Alarm => config.alarm_expiry_seconds(),
                _ => None,
            },
            user_properties: UserProperties::event(
                schema_name(kind),
                &msg_id,
                // Only a listed protocol name: a property must not carry free text.
                event.provenance().protocol.known_code().unwrap_or("other"),
            ),
        },
    }))
}

/// The gateway's birth message: `{"online":true}`, retained, on its liveness topic.
/// Publish it after every connect; [`gateway_will`] is its counterpart. Always JSON,
/// whatever the payload format, so broker tooling can read liveness.
pub fn gateway_birth(config: &MappingConfig) -> Result<Outbound, MapError> {
    gateway_status(config, true)
}

/// The gateway's last will: `{"online":false}`, retained; give it to the client at
/// connect time and the broker publishes it if the gateway vanishes.
pub fn gateway_will(config: &MappingConfig) -> Result<Outbound, MapError> {
    gateway_status(config, false)
}

fn gateway_status(config: &MappingConfig, online: bool) -> Result<Outbound, MapError> {
    let topic = config
        .gateway_topic_template()
        .render(|placeholder| match placeholder {
            Placeholder::Site => config.site().as_str(),
            Placeholder::Area => config.area().as_str(),
            Placeholder::Gateway => config.gateway().as_str(),
            Placeholder::Instrument => "_gw",
            Placeholder::Kind => "status",
        })?;
    let payload: &[u8] = if online {
        br#"{"online":true}"#
    } else {
        br#"{"online":false}"#
    };
    Ok(Outbound {
        topic,
        payload: payload.to_vec(),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: PublishProperties {
            content_type: "application/json",
            payload_format_indicator: 1,
            message_expiry_interval: None,
            user_properties: UserProperties::schema_only(GATEWAY_SCHEMA),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_index_topic_level_and_schema() {
        let mut indexes: Vec<usize> = EventKind::ALL.into_iter().map(kind_index).collect();
        indexes.sort_unstable();
        assert_eq!(indexes, (0..EVENT_KINDS).collect::<Vec<_>>());
        let levels: std::collections::BTreeSet<&str> =
            EventKind::ALL.into_iter().map(topic_kind).collect();
        let schemas: std::collections::BTreeSet<&str> =
            EventKind::ALL.into_iter().map(schema_name).collect();
        assert_eq!(levels.len(), EVENT_KINDS);
        assert_eq!(schemas.len(), EVENT_KINDS);
        for kind in EventKind::ALL {
            assert_eq!(
                schema_name(kind),
                format!("lab.{}/{PAYLOAD_SCHEMA_VERSION}", topic_kind(kind))
            );
        }
    }
}
