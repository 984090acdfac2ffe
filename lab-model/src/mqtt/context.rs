//! What a mapping needs from the outside world: the time and fresh message ids.
//! Passing them in keeps [`super::map`] a pure function, so tests assert exact bytes.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Serialize, Serializer};

use crate::LabTimestamp;

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
#[derive(Clone, Copy)]
pub struct MsgId {
    /// 1 to 64.
    len: u8,
    /// Printable ASCII up to `len`, zeros after.
    bytes: [u8; MsgId::MAX],
}

impl MsgId {
    const MAX: usize = 64;

    /// Takes `text` if it is 1 to 64 printable ASCII characters (no space).
    pub fn new(text: &str) -> Option<Self> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        let mut bytes = [0; Self::MAX];
        bytes
            .get_mut(..text.len())?
            .copy_from_slice(text.as_bytes());
        Some(Self {
            len: u8::try_from(text.len()).ok()?,
            bytes,
        })
    }

    /// Formats 16 bytes as a UUID (`8-4-4-4-12` lowercase hex), as given.
    pub fn from_uuid_bytes(bytes: [u8; 16]) -> Self {
        let (high, low) = bytes.split_at(8);
        let high = hex16(u64::from_be_bytes(high.try_into().unwrap_or_default()));
        let low = hex16(u64::from_be_bytes(low.try_into().unwrap_or_default()));
        // 8-4-4-4-12: the dashes go after hex digits 8, 12, 16 and 20.
        let mut text = [0u8; Self::MAX];
        let pieces: [(&[u8], usize); 5] = [
            (high.get(..8).unwrap_or_default(), 0),
            (high.get(8..12).unwrap_or_default(), 9),
            (high.get(12..).unwrap_or_default(), 14),
            (low.get(..4).unwrap_or_default(), 19),
            (low.get(4..).unwrap_or_default(), 24),
        ];
        for (piece, at) in pieces {
            if let Some(room) = text.get_mut(at..at + piece.len()) {
                room.copy_from_slice(piece);
            }
            if let Some(dash) = text.get_mut(at + piece.len()).filter(|_| at < 24) {
                *dash = b'-';
            }
        }
        Self {
            len: 36,
            bytes: text,
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        // Only printable ASCII is ever stored, so this never fails.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The id's bytes (printable ASCII).
    pub(super) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// The 16 lowercase hex digits of `value`, most significant first, computed on the
/// whole word: each nibble spread to a byte, then `0`-`9` or `a`-`f` added.
fn hex16(value: u64) -> [u8; 16] {
    let spread = |half: u32| {
        let x = u64::from(half);
        let x = ((x & 0xffff_0000) << 16) | (x & 0xffff);
        let x = ((x & 0x0000_ff00_0000_ff00) << 8) | (x & 0x0000_00ff_0000_00ff);
        let x = ((x & 0x00f0_00f0_00f0_00f0) << 4) | (x & 0x000f_000f_000f_000f);
        // Nibbles of 10 and more get the distance from `9` + 1 to `a` added.
        let letters = ((x + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
        let ascii = x + 0x3030_3030_3030_3030 + letters * u64::from(b'a' - b'9' - 1);
        // The most significant nibble is in the highest byte; text starts with it.
        ascii.swap_bytes().to_le_bytes()
    };
    let mut out = [0u8; 16];
    let (first, second) = out.split_at_mut(8);
    first.copy_from_slice(&spread((value >> 32) as u32));
    second.copy_from_slice(&spread(value as u32));
    out
}

impl PartialEq for MsgId {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for MsgId {}

impl PartialOrd for MsgId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MsgId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::hash::Hash for MsgId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
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
    fn uuids_are_lowercase_hex_in_8_4_4_4_12_groups() {
        fn reference(bytes: [u8; 16]) -> String {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            format!(
                "{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            )
        }
        let mut bytes = [0u8; 16];
        for round in 0..2000u32 {
            for (index, byte) in bytes.iter_mut().enumerate() {
                *byte = (round
                    .wrapping_mul(2_654_435_761)
                    .rotate_left(index as u32 * 5)
                    >> 7) as u8;
            }
            if round < 256 {
                bytes = [round as u8; 16];
            }
            let id = MsgId::from_uuid_bytes(bytes);
            assert_eq!(id.as_str(), reference(bytes));
            assert_eq!(Some(id), MsgId::new(&reference(bytes)));
        }
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
