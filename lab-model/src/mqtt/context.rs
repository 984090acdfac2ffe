//! What a mapping needs from the outside world: the time and fresh message ids.
//! Passing them in keeps [`super::map`] a pure function, so tests assert exact bytes.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Serialize, Serializer};

use crate::LabTimestamp;
use crate::inline::InlineAscii;

/// The clock and id source of one [`super::map`] call.
#[derive(Clone, Copy)]
pub struct MapContext<'a> {
    /// When the gateway sends the message: the envelope's `sent_at`.
    pub now: LabTimestamp,
    /// Where message ids come from.
    pub msg_ids: &'a dyn MsgIdSource,
}

impl fmt::Debug for MapContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapContext")
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// A message id: 1 to 64 printable ASCII characters, usually a UUID.
///
/// Consumers drop QoS 1 duplicates by it, and a spooled message keeps its id when it
/// is finally published, so it must be unique per outbound message.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MsgId(InlineAscii<64>);

impl MsgId {
    /// Takes `text` if it is 1 to 64 printable ASCII characters (no space).
    pub fn new(text: &str) -> Option<Self> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        InlineAscii::from_ascii(text.as_bytes()).map(Self)
    }

    /// Formats 16 bytes as a UUID (`8-4-4-4-12` lowercase hex), as given.
    pub fn from_uuid_bytes(bytes: [u8; 16]) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let hex = |nibble: u8| HEX.get(usize::from(nibble & 0x0f)).copied().unwrap_or(b'0');
        let mut text = [b'-'; 36];
        let mut slots = text.iter_mut();
        for (index, byte) in bytes.into_iter().enumerate() {
            if matches!(index, 4 | 6 | 8 | 10) {
                // Keep the dash already there.
                slots.next();
            }
            for nibble in [byte >> 4, byte] {
                if let Some(slot) = slots.next() {
                    *slot = hex(nibble);
                }
            }
        }
        // 36 ASCII characters always fit.
        Self(InlineAscii::from_ascii(&text).unwrap_or_else(InlineAscii::new))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for MsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for MsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for MsgId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A source of message ids.
///
/// Implement it over a random UUID generator in production; use
/// [`SequentialMsgIds`] in tests and wherever ids must be reproducible. Any
/// `Fn() -> MsgId` is a source too.
pub trait MsgIdSource {
    /// A fresh id, never returned before by this source.
    fn next_msg_id(&self) -> MsgId;
}

impl<F: Fn() -> MsgId> MsgIdSource for F {
    fn next_msg_id(&self) -> MsgId {
        self()
    }
}

/// UUIDv8 ids made of a 64-bit `seed` and a counter: unique for as long as seeds
/// differ between runs (seed a gateway from its clock or a random number), and
/// reproducible in tests.
///
/// ```
/// use labwire_model::mqtt::{MsgIdSource, SequentialMsgIds};
///
/// let ids = SequentialMsgIds::new(0x1abe1);
/// assert_eq!(ids.next_msg_id().as_str(), "00000000-0001-8be1-8000-000000000000");
/// assert_eq!(ids.next_msg_id().as_str(), "00000000-0001-8be1-8000-000000000001");
/// ```
#[derive(Debug)]
pub struct SequentialMsgIds {
    seed: u64,
    next: AtomicU64,
}

impl SequentialMsgIds {
    /// Ids from `seed`, counting from zero.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            next: AtomicU64::new(0),
        }
    }
}

impl MsgIdSource for SequentialMsgIds {
    fn next_msg_id(&self) -> MsgId {
        let counter = self.next.fetch_add(1, Ordering::Relaxed);
        let mut bytes = [0u8; 16];
        let (high, low) = bytes.split_at_mut(8);
        high.copy_from_slice(&self.seed.to_be_bytes());
        low.copy_from_slice(&counter.to_be_bytes());
        // RFC 9562 §5.8: version 8 in the high nibble of byte 6, variant 0b10 in the
        // top bits of byte 8. They overwrite 4 seed bits and 2 counter bits.
        if let Some(version) = bytes.get_mut(6) {
            *version = (*version & 0x0f) | 0x80;
        }
        if let Some(variant) = bytes.get_mut(8) {
            *variant = (*variant & 0x3f) | 0x80;
        }
        MsgId::from_uuid_bytes(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msg_ids_are_printable_ascii_of_bounded_length() {
        assert!(MsgId::new("abc-1").is_some());
        assert!(MsgId::new("").is_none());
        assert!(MsgId::new("a b").is_none());
        assert!(MsgId::new("é").is_none());
        assert!(MsgId::new(&"a".repeat(64)).is_some());
        assert!(MsgId::new(&"a".repeat(65)).is_none());
    }

    #[test]
    fn sequential_ids_differ_and_look_like_uuids() {
        let ids = SequentialMsgIds::new(u64::MAX);
        let first = ids.next_msg_id();
        let second = ids.next_msg_id();
        assert_ne!(first, second);
        assert_eq!(first.as_str(), "ffffffff-ffff-8fff-8000-000000000000");
        assert_eq!(first.as_str().len(), 36);
    }
}
