//! The MQTT 5 user properties of a message, as a closed set.
//!
//! DESIGN.md §4 allows three user properties and no others: `schema`, `msg-id` and
//! `src`. Their values come from closed sets (a schema name, a protocol name) or
//! are a validated [`MsgId`], so no identifier of a person can get into one. A type
//! with exactly these fields says so where a list of pairs could hold anything, and
//! it costs one small allocation (the message id's text) where a list of pairs
//! cost two.

use std::fmt;

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};

use super::context::MsgId;

/// The user properties of one message, in the order they are sent: `schema`, then,
/// on event messages, `msg-id` and `src`.
///
/// ```
/// use labwire_model::mqtt::{MsgId, UserProperties};
///
/// let id = MsgId::new("0190f4c2-77aa-7b1e-9d2a-6a3f1c2b9e01").unwrap();
/// let properties = UserProperties::event("lab.result/1", &id, "astm");
/// let pairs: Vec<(&str, &str)> = properties.iter().collect();
/// assert_eq!(
///     pairs,
///     [
///         ("schema", "lab.result/1"),
///         ("msg-id", "0190f4c2-77aa-7b1e-9d2a-6a3f1c2b9e01"),
///         ("src", "astm"),
///     ]
/// );
/// assert_eq!(properties.get("src"), Some("astm"));
/// assert_eq!(properties.get("patient"), None);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct UserProperties {
    schema: &'static str,
    /// `msg-id` and `src`: on every event message, not on gateway liveness.
    /// (The id's text, not the 65-byte `MsgId`: an `Outbound` is moved about.)
    event: Option<(Box<str>, &'static str)>,
}

impl UserProperties {
    /// The properties of an event message: its payload schema (`lab.result/1`), its
    /// message id, and the protocol it came from (`hl7v2`, `astm`, `dicom` or
    /// `other`: a listed name, never free text).
    pub fn event(schema: &'static str, msg_id: &MsgId, src: &'static str) -> Self {
        Self {
            schema,
            event: Some((msg_id.as_str().into(), src)),
        }
    }

    /// Only `schema`: what gateway birth and last-will messages carry.
    pub fn schema_only(schema: &'static str) -> Self {
        Self {
            schema,
            event: None,
        }
    }

    /// The `schema` property.
    pub fn schema(&self) -> &'static str {
        self.schema
    }

    /// The `msg-id` property, on event messages.
    pub fn msg_id(&self) -> Option<&str> {
        self.event.as_ref().map(|(id, _)| &**id)
    }

    /// The `src` property, on event messages.
    pub fn src(&self) -> Option<&'static str> {
        self.event.as_ref().map(|(_, src)| *src)
    }

    /// How many there are: 3 on event messages, 1 on gateway liveness.
    pub fn len(&self) -> usize {
        if self.event.is_some() { 3 } else { 1 }
    }

    /// Never: `schema` is always there. (For the `len`/`is_empty` pair.)
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The value of the property called `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find_map(|(key, value)| (key == name).then_some(value))
    }

    /// The properties as (name, value) pairs, in the order they are sent.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&'static str, &str)> + '_ {
        let (msg_id, src) = match &self.event {
            Some((msg_id, src)) => (&**msg_id, *src),
            None => ("", ""),
        };
        [("schema", self.schema), ("msg-id", msg_id), ("src", src)]
            .into_iter()
            .take(self.len())
    }
}

impl fmt::Debug for UserProperties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A list of `[name, value]` pairs, as the list of tuples it replaces was written.
impl Serialize for UserProperties {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for pair in self.iter() {
            seq.serialize_element(&pair)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_liveness_has_only_its_schema() {
        let properties = UserProperties::schema_only("lab.gateway/1");
        assert_eq!(
            properties.iter().collect::<Vec<_>>(),
            [("schema", "lab.gateway/1")]
        );
        assert_eq!(properties.len(), 1);
        assert_eq!(properties.msg_id(), None);
        assert_eq!(properties.get("msg-id"), None);
        assert_eq!(
            serde_json::to_string(&properties).unwrap(),
            r#"[["schema","lab.gateway/1"]]"#
        );
    }

    #[test]
    fn event_properties_serialize_as_name_value_pairs() {
        let id = MsgId::new("m-1").unwrap();
        let properties = UserProperties::event("lab.qc/1", &id, "hl7v2");
        assert_eq!(properties.iter().len(), 3);
        assert_eq!(properties.msg_id(), Some("m-1"));
        assert_eq!(properties.src(), Some("hl7v2"));
        assert_eq!(
            serde_json::to_string(&properties).unwrap(),
            r#"[["schema","lab.qc/1"],["msg-id","m-1"],["src","hl7v2"]]"#
        );
        assert_eq!(
            format!("{properties:?}"),
            r#"[("schema", "lab.qc/1"), ("msg-id", "m-1"), ("src", "hl7v2")]"#
        );
    }
}
