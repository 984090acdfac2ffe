//! An outbound MQTT message as the gateway keeps it: owned, and encodable for the
//! spool.

use labwire_model::mqtt::Outbound;

/// One MQTT 5 PUBLISH to make (always QoS 1: DESIGN.md §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Publication {
    pub(crate) topic: String,
    pub(crate) payload: Vec<u8>,
    pub(crate) retain: bool,
    pub(crate) content_type: String,
    pub(crate) payload_format_indicator: u8,
    pub(crate) message_expiry: Option<u32>,
    pub(crate) user_properties: Vec<(String, String)>,
}

impl From<Outbound> for Publication {
    fn from(outbound: Outbound) -> Self {
        Self {
            topic: outbound.topic.as_str().to_owned(),
            payload: outbound.payload,
            retain: outbound.retain,
            content_type: outbound.properties.content_type.to_owned(),
            payload_format_indicator: outbound.properties.payload_format_indicator,
            message_expiry: outbound.properties.message_expiry_interval,
            user_properties: outbound
                .properties
                .user_properties
                .iter()
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
                .collect(),
        }
    }
}

impl Publication {
    /// The `msg-id` user property, for logs.
    pub(crate) fn msg_id(&self) -> &str {
        self.user_properties
            .iter()
            .find(|(key, _)| key == "msg-id")
            .map_or("", |(_, value)| value.as_str())
    }

    /// Appends the spool encoding: flags, expiry, then length-prefixed topic, content
    /// type, user properties and payload.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(self.retain));
        out.push(self.payload_format_indicator);
        match self.message_expiry {
            Some(seconds) => {
                out.push(1);
                out.extend_from_slice(&seconds.to_le_bytes());
            }
            None => out.push(0),
        }
        put(out, self.topic.as_bytes());
        put(out, self.content_type.as_bytes());
        out.extend_from_slice(&(self.user_properties.len() as u32).to_le_bytes());
        for (key, value) in &self.user_properties {
            put(out, key.as_bytes());
            put(out, value.as_bytes());
        }
        put(out, &self.payload);
    }

    /// The length [`encode`](Self::encode) writes.
    #[cfg(test)]
    pub(crate) fn encoded_len(&self) -> usize {
        let mut out = Vec::new();
        self.encode(&mut out);
        out.len()
    }

    /// Reads what [`encode`](Self::encode) wrote; `None` if it is not that.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let mut reader = Reader(bytes);
        let retain = reader.byte()? == 1;
        let payload_format_indicator = reader.byte()?;
        let message_expiry = match reader.byte()? {
            0 => None,
            1 => Some(reader.u32()?),
            _ => return None,
        };
        let topic = String::from_utf8(reader.bytes()?.to_vec()).ok()?;
        let content_type = String::from_utf8(reader.bytes()?.to_vec()).ok()?;
        let count = reader.u32()?;
        let mut user_properties = Vec::new();
        for _ in 0..count {
            // Each property takes at least 8 bytes, so a lying count ends at the data.
            let key = String::from_utf8(reader.bytes()?.to_vec()).ok()?;
            let value = String::from_utf8(reader.bytes()?.to_vec()).ok()?;
            user_properties.push((key, value));
        }
        let payload = reader.bytes()?.to_vec();
        reader.0.is_empty().then_some(Self {
            topic,
            payload,
            retain,
            content_type,
            payload_format_indicator,
            message_expiry,
            user_properties,
        })
    }
}

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }
    fn byte(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let length = usize::try_from(self.u32()?).ok()?;
        self.take(length)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_and_rejects_every_truncation() {
        let publication = Publication {
            topic: "lab/v1/s/a/i/alarm".into(),
            payload: b"{\"x\":1}".to_vec(),
            retain: false,
            content_type: "application/json".into(),
            payload_format_indicator: 1,
            message_expiry: Some(3600),
            user_properties: vec![
                ("schema".into(), "lab.alarm/1".into()),
                ("msg-id".into(), "0192".into()),
            ],
        };
        let mut bytes = Vec::new();
        publication.encode(&mut bytes);
        assert_eq!(Publication::decode(&bytes), Some(publication.clone()));
        assert_eq!(publication.msg_id(), "0192");
        for cut in 0..bytes.len() {
            assert_eq!(Publication::decode(&bytes[..cut]), None, "cut at {cut}");
        }
        bytes.push(0);
        assert_eq!(Publication::decode(&bytes), None);
    }
}
