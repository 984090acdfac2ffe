//! The `mqtt` command: events through `labwire_model::mqtt::map`, written as JSON lines.

use std::io::Write;
use std::path::Path;

use labwire_model::mqtt::{self, MapContext, MappingConfig, PayloadFormat, SequentialMsgIds};
use labwire_model::{LabEvent, LabTimestamp, Precision};
use serde::Serialize;

/// A loaded configuration with its clock and id source.
pub(crate) struct Mapper {
    config: MappingConfig,
    now: LabTimestamp,
    ids: SequentialMsgIds,
}

/// One line of output.
#[derive(Serialize)]
struct Line<'a> {
    topic: &'a str,
    qos: mqtt::QoS,
    retain: bool,
    properties: &'a mqtt::PublishProperties,
    /// The payload: inline JSON, or base64 for CBOR.
    payload: PayloadOut<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum PayloadOut<'a> {
    Json(&'a serde_json::value::RawValue),
    Base64(String),
}

impl Mapper {
    /// Loads the configuration; `now` and `seed` fix the clock and ids.
    pub(crate) fn load(path: &Path, now: Option<&str>, seed: Option<u64>) -> Result<Self, String> {
        let text =
            std::fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()))?;
        let config = if path.extension().is_some_and(|ext| ext == "json") {
            MappingConfig::from_json_str(&text)
        } else {
            MappingConfig::from_toml_str(&text)
        }
        .map_err(|err| format!("{}: {err}", path.display()))?;
        let now = match now {
            Some(text) => {
                LabTimestamp::parse_rfc3339(text).map_err(|err| format!("--now {text:?}: {err}"))?
            }
            None => send_time()?,
        };
        let seed = seed.unwrap_or_else(fresh_seed);
        Ok(Self {
            config,
            now,
            ids: SequentialMsgIds::new(seed),
        })
    }

    /// Maps one event and writes its messages.
    pub(crate) fn write(&self, event: &LabEvent, out: &mut dyn Write) -> Result<(), String> {
        let context = MapContext {
            now: self.now,
            msg_ids: &self.ids,
        };
        let messages = mqtt::map(event, &self.config, &context).map_err(|err| err.to_string())?;
        for message in &messages {
            let payload = match self.config.format() {
                PayloadFormat::Json => {
                    let text =
                        std::str::from_utf8(&message.payload).map_err(|err| err.to_string())?;
                    PayloadOut::Json(serde_json::from_str(text).map_err(|err| err.to_string())?)
                }
                _ => PayloadOut::Base64(base64(&message.payload)),
            };
            let line = Line {
                topic: message.topic.as_str(),
                qos: message.qos,
                retain: message.retain,
                properties: &message.properties,
                payload,
            };
            serde_json::to_writer(&mut *out, &line).map_err(|err| err.to_string())?;
            out.write_all(b"\n").map_err(|err| err.to_string())?;
        }
        Ok(())
    }
}

/// The time now, to the millisecond, as MQTT messages are stamped.
pub(crate) fn send_time() -> Result<LabTimestamp, String> {
    LabTimestamp::from_chrono(chrono::Utc::now().fixed_offset(), Precision::Fraction(3))
        .map_err(|err| format!("the clock: {err}"))
}

/// A seed for message ids that differs across runs and restarts: nanoseconds since
/// the epoch and the process id.
pub(crate) fn fresh_seed() -> u64 {
    let nanos = chrono::Utc::now()
        .timestamp_nanos_opt()
        .unwrap_or_default()
        .unsigned_abs();
    nanos ^ (u64::from(std::process::id()) << 48)
}

/// RFC 4648 base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let symbol =
        |index: u32| char::from(ALPHABET.get((index & 63) as usize).copied().unwrap_or(b'A'));
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let [a, b, c] = [0, 1, 2].map(|i| u32::from(chunk.get(i).copied().unwrap_or(0)));
        let group = (a << 16) | (b << 8) | c;
        out.push(symbol(group >> 18));
        out.push(symbol(group >> 12));
        out.push(if chunk.len() > 1 {
            symbol(group >> 6)
        } else {
            '='
        });
        out.push(if chunk.len() > 2 { symbol(group) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_test_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }
}
