//! `labwire_mqtt_mapper`: lab events to MQTT topics, payloads and properties.

use core::ffi::c_char;

use labwire_model::LabEvent;
use labwire_model::LabTimestamp;
use labwire_model::mqtt::{self, MapContext, MappingConfig, Outbound, SequentialMsgIds};

use crate::boundary::{
    CBuf, Done, Failure, Outcome, Status, call_mut, call_ref, free_handle, impl_handle, input_text,
    new_handle, out_param,
};
use crate::{labwire_error, labwire_result};

/// One message to publish, as `labwire_mqtt_mapper_message` returns it. Pointers are
/// owned by the mapper (valid until its next non-const call, or its free); strings are
/// NUL-terminated, the NUL not counted.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct labwire_mqtt_message {
    /// The topic, e.g. `lab/v1/site-a/chem/an-01/result`; never carries an identifier
    /// of a patient or specimen.
    pub topic: *const c_char,
    /// Length of `topic`.
    pub topic_len: usize,
    /// The payload: the JSON or CBOR envelope, per the configuration's `format`.
    pub payload: *const u8,
    /// Length of `payload`.
    pub payload_len: usize,
    /// The QoS to publish with (always 1 today).
    pub qos: u8,
    /// Whether to publish with the retain flag (equipment status and instrument meta).
    pub retain: bool,
    /// MQTT 5 Content Type (0x03): `application/json` or `application/cbor`.
    pub content_type: *const c_char,
    /// Length of `content_type`.
    pub content_type_len: usize,
    /// MQTT 5 Payload Format Indicator (0x01): 1 for JSON (UTF-8), 0 for CBOR.
    pub payload_format_indicator: u8,
    /// Whether to set MQTT 5 Message Expiry Interval (0x02) (alarms only).
    pub has_message_expiry_interval: bool,
    /// The Message Expiry Interval in seconds, when `has_message_expiry_interval`.
    pub message_expiry_interval: u32,
    /// How many MQTT 5 User Properties (0x26) to set: read them with
    /// `labwire_mqtt_mapper_user_property`.
    pub user_property_count: usize,
}

/// A stored outbound message with its C strings.
struct Stored {
    topic: CBuf,
    payload: CBuf,
    qos: u8,
    retain: bool,
    content_type: CBuf,
    payload_format_indicator: u8,
    message_expiry_interval: Option<u32>,
    user_properties: Vec<(CBuf, CBuf)>,
}

impl Stored {
    fn new(outbound: Outbound) -> Self {
        let properties = &outbound.properties;
        Self {
            topic: CBuf::from_bytes(outbound.topic.as_str().as_bytes()),
            qos: outbound.qos as u8,
            retain: outbound.retain,
            content_type: CBuf::from_bytes(properties.content_type.as_bytes()),
            payload_format_indicator: properties.payload_format_indicator,
            message_expiry_interval: properties.message_expiry_interval,
            user_properties: properties
                .user_properties
                .iter()
                .map(|(name, value)| {
                    (
                        CBuf::from_bytes(name.as_bytes()),
                        CBuf::from_bytes(value.as_bytes()),
                    )
                })
                .collect(),
            payload: {
                let mut payload = CBuf::default();
                payload.set_vec(outbound.payload);
                payload
            },
        }
    }

    fn to_c(&self) -> labwire_mqtt_message {
        labwire_mqtt_message {
            topic: self.topic.c_ptr(),
            topic_len: self.topic.len(),
            payload: self.payload.ptr(),
            payload_len: self.payload.len(),
            qos: self.qos,
            retain: self.retain,
            content_type: self.content_type.c_ptr(),
            content_type_len: self.content_type.len(),
            payload_format_indicator: self.payload_format_indicator,
            has_message_expiry_interval: self.message_expiry_interval.is_some(),
            message_expiry_interval: self.message_expiry_interval.unwrap_or(0),
            user_property_count: self.user_properties.len(),
        }
    }
}

/// Maps lab events (the JSON `labwire_decoder` writes) to the MQTT messages to publish:
/// topics, payload envelopes (JSON or CBOR, with the configured privacy profile) and
/// MQTT 5 properties. No client, no I/O: publish what it returns with any MQTT client.
///
/// Create with `labwire_mqtt_mapper_new`, configure with
/// `labwire_mqtt_mapper_configure`, then call `labwire_mqtt_mapper_map` per event (or
/// batch of events). Owned by the caller; free with `labwire_mqtt_mapper_free`. Not
/// for concurrent use: one thread at a time (it may move between threads).
pub struct labwire_mqtt_mapper {
    status: Status,
    config: Option<MappingConfig>,
    ids: SequentialMsgIds,
    messages: Vec<Stored>,
}

impl_handle!(labwire_mqtt_mapper);

impl labwire_mqtt_mapper {
    fn map(&mut self, events: &str, now: &str) -> Result<usize, Failure> {
        self.messages.clear();
        let Some(config) = &self.config else {
            return Err(Failure::new(
                labwire_result::InvalidState,
                "the mapper is not configured: call labwire_mqtt_mapper_configure first",
            ));
        };
        let now = LabTimestamp::parse_rfc3339(now).map_err(|error| {
            Failure::new(
                labwire_result::InvalidTimestamp,
                format!("`now` {now:?} is not an RFC 3339 timestamp: {error}"),
            )
            .at("now")
        })?;
        // One JSON object, or several separated by whitespace (JSON lines); all are
        // read before any is mapped, so a bad one maps nothing.
        let mut parsed = Vec::new();
        for event in serde_json::Deserializer::from_str(events).into_iter::<LabEvent>() {
            let event = event.map_err(|error| {
                Failure::new(
                    labwire_result::ModelJson,
                    format!("not a lab event: {error}"),
                )
                .at(format!(
                    "event {}, line {}, column {}",
                    parsed.len().saturating_add(1),
                    error.line(),
                    error.column()
                ))
            })?;
            parsed.push(event);
        }
        if parsed.is_empty() {
            return Err(
                Failure::new(labwire_result::ModelJson, "no lab event in the input").at("events"),
            );
        }
        let context = MapContext {
            now,
            msg_ids: &self.ids,
        };
        let mut messages = Vec::new();
        for (index, event) in parsed.iter().enumerate() {
            let mapped = mqtt::map(event, config, &context).map_err(|error| {
                Failure::new(labwire_result::MqttMap, error.to_string())
                    .at(format!("event {}", index.saturating_add(1)))
            })?;
            messages.extend(mapped.into_iter().map(Stored::new));
        }
        self.messages = messages;
        Ok(self.messages.len())
    }

    fn message(&self, index: usize) -> Result<&Stored, Failure> {
        self.messages.get(index).ok_or_else(|| {
            Failure::new(
                labwire_result::IndexOutOfRange,
                format!("index {index}, but there are {}", self.messages.len()),
            )
            .at("index")
        })
    }
}

/// Creates an unconfigured mapper. On success `*out` is the new handle; on failure it
/// is NULL.
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER` if `out` is NULL.
///
/// # Safety
/// `out` is NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_mqtt_mapper_new(
    out: *mut *mut labwire_mqtt_mapper,
) -> labwire_result {
    // SAFETY: forwarded from the caller.
    unsafe {
        new_handle(out, || {
            Ok(labwire_mqtt_mapper {
                status: Status::default(),
                config: None,
                ids: SequentialMsgIds::new(0),
                messages: Vec::new(),
            })
        })
    }
}

/// Frees a mapper and everything it returned. NULL is ignored.
///
/// # Safety
/// `mapper` is NULL or a handle from `labwire_mqtt_mapper_new` not yet freed; it is not
/// used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_mqtt_mapper_free(mapper: *mut labwire_mqtt_mapper) {
    // SAFETY: forwarded from the caller.
    unsafe { free_handle(mapper) }
}

/// Configures the mapper from a JSON mapping configuration `(config_json, len)`:
/// `site`, `area`, `gateway`, `instrument` (the default slug), `instruments` (routes),
/// `topic_template`, `format` (`json` or `cbor`), `privacy` and `pseudonymization` (see
/// `labwire_model::mqtt::MappingConfig`). Message ids are UUIDv8 made of `seed` and a
/// counter: give each run a different seed (the clock, a random number) so ids stay
/// unique, or a fixed one for reproducible output.
///
/// Errors: `LABWIRE_RESULT_MQTT_CONFIG` if the configuration is refused (the mapper
/// keeps its previous configuration); `LABWIRE_RESULT_INVALID_UTF8`;
/// `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `mapper` is NULL or a live handle, not used by another thread during the call;
/// `config_json` is NULL or valid for reading `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_mqtt_mapper_configure(
    mapper: *mut labwire_mqtt_mapper,
    config_json: *const c_char,
    len: usize,
    seed: u64,
) -> labwire_result {
    let body = |mapper: &mut labwire_mqtt_mapper| -> Outcome {
        // SAFETY: the caller guarantees the input is NULL or readable.
        let text = unsafe { input_text(config_json, len, "config_json") }?;
        let config = MappingConfig::from_json_str(text).map_err(|error| {
            Failure::new(labwire_result::MqttConfig, error.to_string()).at("config_json")
        })?;
        mapper.config = Some(config);
        mapper.ids = SequentialMsgIds::new(seed);
        mapper.messages.clear();
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `mapper` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(mapper, body) }
}

/// Maps lab events `(events_json, len)` to MQTT messages: one event as a JSON object,
/// or several as JSON lines (what `labwire_decoder_events_json` returns). `(now,
/// now_len)` is the send time stamped in the envelopes, RFC 3339
/// (`2024-03-01T10:15:03Z`); the library reads no clock. `*count` receives the number
/// of messages (an event may give none: preliminary results when the configuration
/// does not publish them); read them with `labwire_mqtt_mapper_message`.
///
/// All or nothing: on an error no message is kept and `*count` is 0.
///
/// Errors: `LABWIRE_RESULT_MODEL_JSON` for text that is not lab events (the location
/// names the event, line and column); `LABWIRE_RESULT_MQTT_MAP` for an event that
/// cannot be mapped (no route for its instrument); `LABWIRE_RESULT_INVALID_TIMESTAMP`;
/// `LABWIRE_RESULT_INVALID_STATE` if not configured; `LABWIRE_RESULT_INVALID_UTF8`;
/// `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `mapper` is NULL or a live handle, not used by another thread during the call; the
/// text arguments are NULL or valid for reading their lengths and are not this
/// handle's outputs; `count` is NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_mqtt_mapper_map(
    mapper: *mut labwire_mqtt_mapper,
    events_json: *const c_char,
    len: usize,
    now: *const c_char,
    now_len: usize,
    count: *mut usize,
) -> labwire_result {
    let body = |mapper: &mut labwire_mqtt_mapper| -> Outcome {
        // SAFETY: the caller guarantees the pointers are NULL or valid.
        let count = unsafe { out_param(count, "count") }?;
        count.write(0);
        // SAFETY: as above; the texts are copied before the handle changes.
        let events = unsafe { input_text(events_json, len, "events_json") }?.to_owned();
        // SAFETY: as above.
        let now = unsafe { input_text(now, now_len, "now") }?.to_owned();
        count.write(mapper.map(&events, &now)?);
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `mapper` is NULL or a live handle that no other
    // thread uses during the call.
    unsafe { call_mut(mapper, body) }
}

/// Message `index` (from 0) of the last `labwire_mqtt_mapper_map`, into `*message`.
///
/// Errors: `LABWIRE_RESULT_INDEX_OUT_OF_RANGE`; `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `mapper` is NULL or a live handle, not changed during the call; `message` is NULL or
/// valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_mqtt_mapper_message(
    mapper: *const labwire_mqtt_mapper,
    index: usize,
    message: *mut labwire_mqtt_message,
) -> labwire_result {
    let body = |mapper: &labwire_mqtt_mapper| -> Outcome {
        // SAFETY: the caller guarantees `message` is NULL or valid for writes.
        let message = unsafe { out_param(message, "message") }?;
        message.write(mapper.message(index)?.to_c());
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `mapper` is NULL or a live handle that nothing
    // changes during the call.
    unsafe { call_ref(mapper, body) }
}

/// User property `property` (from 0, below the message's `user_property_count`) of
/// message `index`: `schema` (e.g. `lab.result/1`), `msg-id`, `src` (the protocol),
/// none of which can identify a person. The strings are owned by the mapper.
///
/// Errors: `LABWIRE_RESULT_INDEX_OUT_OF_RANGE`; `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `mapper` is NULL or a live handle, not changed during the call; the out pointers
/// are NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_mqtt_mapper_user_property(
    mapper: *const labwire_mqtt_mapper,
    index: usize,
    property: usize,
    name: *mut *const c_char,
    name_len: *mut usize,
    value: *mut *const c_char,
    value_len: *mut usize,
) -> labwire_result {
    let body = |mapper: &labwire_mqtt_mapper| -> Outcome {
        // SAFETY: the caller guarantees the pointers are NULL or valid for writes.
        let name = unsafe { out_param(name, "name") }?;
        // SAFETY: as above.
        let name_len = unsafe { out_param(name_len, "name_len") }?;
        // SAFETY: as above.
        let value = unsafe { out_param(value, "value") }?;
        // SAFETY: as above.
        let value_len = unsafe { out_param(value_len, "value_len") }?;
        let stored = mapper.message(index)?;
        let (stored_name, stored_value) =
            stored.user_properties.get(property).ok_or_else(|| {
                Failure::new(
                    labwire_result::IndexOutOfRange,
                    format!(
                        "property {property}, but message {index} has {}",
                        stored.user_properties.len()
                    ),
                )
                .at("property")
            })?;
        name.write(stored_name.c_ptr());
        name_len.write(stored_name.len());
        value.write(stored_value.c_ptr());
        value_len.write(stored_value.len());
        Ok(Done::Ok)
    };
    // SAFETY: the caller guarantees `mapper` is NULL or a live handle that nothing
    // changes during the call.
    unsafe { call_ref(mapper, body) }
}

/// The last error of the mapper: how its last non-const call failed (code
/// `LABWIRE_RESULT_OK` if it did not).
///
/// Errors: `LABWIRE_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `mapper` is NULL or a live handle, not changed during the call; `error` is NULL or
/// valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn labwire_mqtt_mapper_last_error(
    mapper: *const labwire_mqtt_mapper,
    error: *mut labwire_error,
) -> labwire_result {
    // SAFETY: forwarded from the caller.
    unsafe { crate::api::last_error(mapper, error) }
}

#[cfg(test)]
mod tests {
    use std::ptr::{null, null_mut};

    use super::*;

    const CONFIG: &str = r#"{"site": "site-a", "area": "chem", "gateway": "gw-01",
        "instrument": "an-01", "privacy": "full"}"#;
    const NOW: &str = "2024-03-01T10:15:03Z";

    fn configured() -> *mut labwire_mqtt_mapper {
        let mut mapper = null_mut();
        // SAFETY: valid pointers.
        unsafe {
            labwire_mqtt_mapper_new(&mut mapper);
            let code =
                labwire_mqtt_mapper_configure(mapper, CONFIG.as_ptr().cast(), CONFIG.len(), 1);
            assert_eq!(code, labwire_result::Ok);
        }
        mapper
    }

    fn map(mapper: *mut labwire_mqtt_mapper, events: &str) -> (labwire_result, usize) {
        let mut count = 99;
        // SAFETY: a live handle and valid pointers.
        let code = unsafe {
            labwire_mqtt_mapper_map(
                mapper,
                events.as_ptr().cast(),
                events.len(),
                NOW.as_ptr().cast(),
                NOW.len(),
                &mut count,
            )
        };
        (code, count)
    }

    fn status_event() -> String {
        let event = LabEvent::Status(labwire_model::EquipmentStatus::default());
        serde_json::to_string(&event).unwrap()
    }

    #[test]
    fn events_map_to_messages() {
        let mapper = configured();
        let events = format!("{}\n{}\n", status_event(), status_event());
        assert_eq!(map(mapper, &events), (labwire_result::Ok, 2));
        let mut message = std::mem::MaybeUninit::<labwire_mqtt_message>::uninit();
        // SAFETY: a live handle and a valid out pointer.
        let code = unsafe { labwire_mqtt_mapper_message(mapper, 1, message.as_mut_ptr()) };
        assert_eq!(code, labwire_result::Ok);
        // SAFETY: written on OK.
        let message = unsafe { message.assume_init() };
        // SAFETY: the mapper owns `topic_len` bytes at `topic`.
        let topic =
            unsafe { std::slice::from_raw_parts(message.topic.cast::<u8>(), message.topic_len) };
        assert_eq!(topic, b"lab/v1/site-a/chem/an-01/status");
        assert!(message.retain);
        assert_eq!(message.qos, 1);
        assert_eq!(message.user_property_count, 3);
        let (mut name, mut name_len, mut value, mut value_len) = (null(), 0, null(), 0);
        // SAFETY: a live handle and valid out pointers.
        let code = unsafe {
            labwire_mqtt_mapper_user_property(
                mapper,
                1,
                0,
                &mut name,
                &mut name_len,
                &mut value,
                &mut value_len,
            )
        };
        assert_eq!(code, labwire_result::Ok);
        // SAFETY: the mapper owns `name_len` bytes at `name`.
        let name = unsafe { std::slice::from_raw_parts(name.cast::<u8>(), name_len) };
        assert_eq!(name, b"schema");
        // SAFETY: as above.
        let code = unsafe {
            labwire_mqtt_mapper_user_property(
                mapper,
                1,
                3,
                &mut null(),
                &mut name_len,
                &mut null(),
                &mut value_len,
            )
        };
        assert_eq!(code, labwire_result::IndexOutOfRange);
        // SAFETY: a handle from `labwire_mqtt_mapper_new`, freed once.
        unsafe { labwire_mqtt_mapper_free(mapper) };
    }

    #[test]
    fn bad_input_maps_nothing() {
        let mapper = configured();
        assert_eq!(map(mapper, "{\"kind\": 1}").0, labwire_result::ModelJson);
        assert_eq!(map(mapper, "  ").0, labwire_result::ModelJson);
        let mut count = 5;
        let events = status_event();
        // SAFETY: a live handle and valid pointers.
        let code = unsafe {
            labwire_mqtt_mapper_map(
                mapper,
                events.as_ptr().cast(),
                events.len(),
                b"yesterday".as_ptr().cast(),
                9,
                &mut count,
            )
        };
        assert_eq!(code, labwire_result::InvalidTimestamp);
        assert_eq!(count, 0);
        let bad = "{\"site\": \"\"}";
        // SAFETY: a live handle and valid pointers.
        let code =
            unsafe { labwire_mqtt_mapper_configure(mapper, bad.as_ptr().cast(), bad.len(), 0) };
        assert_eq!(code, labwire_result::MqttConfig);
        // SAFETY: a handle from `labwire_mqtt_mapper_new`, freed once.
        unsafe { labwire_mqtt_mapper_free(mapper) };
        let mut unconfigured = null_mut();
        // SAFETY: valid pointers.
        unsafe { labwire_mqtt_mapper_new(&mut unconfigured) };
        assert_eq!(map(unconfigured, &events).0, labwire_result::InvalidState);
        // SAFETY: a handle from `labwire_mqtt_mapper_new`, freed once.
        unsafe { labwire_mqtt_mapper_free(unconfigured) };
    }
}
