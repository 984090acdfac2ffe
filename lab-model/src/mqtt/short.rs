//! Short texts in registers: most strings of a lab payload (codes, units, decimals,
//! flags, statuses) are 1 to 16 bytes. Such a text is read as two little-endian
//! words with overlapping loads, checked for JSON escapes with word arithmetic, and
//! written with its opening quote (or CBOR head) and closing quote as three
//! fixed-size words, then cut to length: no byte loops, no `memcpy` call, one
//! branch on the length class.

/// A text of at most [`ShortText::MAX`] bytes as two words, zero past its end.
#[derive(Clone, Copy)]
pub(super) struct ShortText {
    /// Bytes 0..8, little-endian.
    low: u64,
    /// Bytes 8..16, little-endian.
    high: u64,
    len: usize,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any of the eight bytes of `word` must be escaped in a JSON string
/// (RFC 8259 §7: `"`, `\`, U+0000..U+001F), with SWAR: a word has a byte below
/// 0x20 when `(w - 0x20…20) & !w & 0x80…80` is not zero, and a byte equal to `c`
/// when the same test for zero holds on `w ^ c…c`. Exact about whether such a
/// byte exists (only which byte can be off, which is not asked).
#[inline(always)]
pub(super) fn word_needs_escape(word: u64) -> bool {
    let below = |word: u64, n: u64| word.wrapping_sub(ONES.wrapping_mul(n)) & !word & HIGHS;
    (below(word, 0x20)
        | below(word ^ (ONES * u64::from(b'"')), 1)
        | below(word ^ (ONES * u64::from(b'\\')), 1))
        != 0
}

impl ShortText {
    /// The longest short text.
    pub(super) const MAX: usize = 16;

    /// The room a write takes: the head, the text and the tail as three whole
    /// words, cut to length after.
    pub(super) const ROOM: usize = 24;

    /// The words of `bytes` and whether one of its bytes needs a JSON escape;
    /// `None` when it is longer than [`Self::MAX`].
    #[inline(always)]
    pub(super) fn of(bytes: &[u8]) -> Option<(Self, bool)> {
        let len = bytes.len();
        if let (Some(first), Some(last)) = (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
            if len > Self::MAX {
                return None;
            }
            let low = u64::from_le_bytes(*first);
            let last = u64::from_le_bytes(*last);
            // `last` holds bytes len-8..len; shifted down by 16 - len bytes it holds
            // bytes 8..len (nothing when len is 8: the shift is the whole word).
            let high = last.checked_shr(8 * (16 - len) as u32).unwrap_or(0);
            let dirty = word_needs_escape(low) || word_needs_escape(last);
            return Some((Self { low, high, len }, dirty));
        }
        if let (Some(first), Some(last)) = (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
            // 4 to 7 bytes: the two halves overlap on equal bytes, so OR-ing them
            // into place gives the text.
            let first = u64::from(u32::from_le_bytes(*first));
            let last = u64::from(u32::from_le_bytes(*last));
            let low = first | last.wrapping_shl(8 * (len as u32).wrapping_sub(4));
            let dirty = word_needs_escape(first | (last << 32));
            return Some((Self { low, high: 0, len }, dirty));
        }
        // 0 to 3 bytes, padded with `a`s (clean) for the check.
        let low = match *bytes {
            [a, b, c, ..] => u64::from_le_bytes([a, b, c, 0, 0, 0, 0, 0]),
            [a, b] => u64::from(u16::from_le_bytes([a, b])),
            [a] => u64::from(a),
            [] => 0,
        };
        let padding = u64::from_le_bytes([b'a'; 8]).wrapping_shl(8 * len as u32);
        Some((Self { low, high: 0, len }, word_needs_escape(low | padding)))
    }

    /// The text as two little-endian words, zeros after it.
    #[inline(always)]
    pub(super) fn words(self) -> [u64; 2] {
        [self.low, self.high]
    }

    /// The text in 16 bytes, zeros after it.
    #[inline(always)]
    pub(super) fn to_le_bytes(self) -> [u8; 16] {
        (u128::from(self.low) | (u128::from(self.high) << 64)).to_le_bytes()
    }

    /// Appends `head`, the text, and `tail` when there is one, as three words cut to
    /// length: `"text"` for JSON, a one-byte head and the text for CBOR.
    #[inline(always)]
    fn write_between(self, out: &mut Vec<u8>, head: u8, tail: Option<u8>) {
        let Self { low, high, len } = self;
        let mut words = [
            u64::from(head) | (low << 8),
            (low >> 56) | (high << 8),
            high >> 56,
        ];
        let mut total = len + 1;
        if let Some(tail) = tail {
            // The closing byte goes right after the text, at `total` (1..=17).
            let word = total / 8;
            let shift = 8 * (total % 8) as u32;
            for (index, slot) in words.iter_mut().enumerate() {
                if index == word {
                    *slot |= u64::from(tail) << shift;
                }
            }
            total += 1;
        }
        // Word by word straight into the buffer: a 24-byte copy of words just
        // stored would load them in 16-byte pieces, which cannot be forwarded from
        // the 8-byte stores and stall. The room is made (zeroed) in one step, so
        // the capacity is checked once, not per word.
        let start = out.len();
        out.extend_from_slice(&[0; Self::ROOM]);
        if let Some(room) = out.last_chunk_mut::<{ Self::ROOM }>() {
            for (chunk, word) in room.as_chunks_mut::<8>().0.iter_mut().zip(words) {
                *chunk = word.to_le_bytes();
            }
        }
        out.truncate(start + total);
    }

    /// Appends the text as a JSON string, quotes included; the caller checked that
    /// it needs no escape.
    #[inline(always)]
    pub(super) fn write_json(self, out: &mut Vec<u8>) {
        self.write_between(out, b'"', Some(b'"'));
    }

    /// Appends the text as a CBOR text item (RFC 8949 §3.1: major type 3, a length
    /// below 24 in the head byte).
    #[inline(always)]
    pub(super) fn write_cbor(self, out: &mut Vec<u8>) {
        // At most 16, so the cast cannot truncate.
        self.write_between(out, 0x60 | self.len as u8, None);
    }
}

/// Whether `out` has room for a short text without growing: the writers check it
/// first and leave the growing to their long path, so the short path calls
/// nothing and needs no saved registers.
#[inline(always)]
pub(super) fn has_short_room(out: &Vec<u8>) -> bool {
    out.capacity() - out.len() >= ShortText::ROOM
}

/// Appends a text of 16 to 48 bytes (tokens, message ids, timestamps) as two or
/// three overlapping 16-byte copies, which compile to plain loads and stores;
/// `false` (and nothing written) for other lengths.
#[inline(always)]
pub(super) fn extend_mid(out: &mut Vec<u8>, text: &[u8]) -> bool {
    let (Some(first), Some(last), true) = (
        text.first_chunk::<16>(),
        text.last_chunk::<16>(),
        text.len() <= 48,
    ) else {
        return false;
    };
    let start = out.len();
    out.reserve(48);
    out.extend_from_slice(first);
    if let Some(middle) = text.get(16..).and_then(<[u8]>::first_chunk::<16>) {
        out.extend_from_slice(middle);
    }
    out.truncate(start + text.len() - 16);
    out.extend_from_slice(last);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs_escape(byte: u8) -> bool {
        byte < 0x20 || byte == b'"' || byte == b'\\'
    }

    #[test]
    fn every_length_and_escape_position_is_seen() {
        let text: Vec<u8> = (b'a'..=b'z').collect();
        for len in 0..=17 {
            let bytes = &text[..len];
            let Some((short, dirty)) = ShortText::of(bytes) else {
                assert!(len > ShortText::MAX);
                continue;
            };
            assert!(!dirty, "{len}");
            let mut json = b"xy".to_vec();
            short.write_json(&mut json);
            assert_eq!(json, [b"xy\"", bytes, b"\""].concat(), "{len}");
            let mut cbor = vec![7];
            short.write_cbor(&mut cbor);
            assert_eq!(cbor, [&[7, 0x60 | len as u8][..], bytes].concat(), "{len}");
            for at in 0..len {
                for bad in [0u8, 0x1f, b'"', b'\\'] {
                    let mut dirty_text = bytes.to_vec();
                    dirty_text[at] = bad;
                    let (_, dirty) = ShortText::of(&dirty_text).unwrap();
                    assert!(dirty, "{len} {at} {bad}");
                }
            }
        }
    }

    #[test]
    fn mid_texts_are_copied_whole() {
        let text: Vec<u8> = (0..60).collect();
        for len in 0..=60 {
            let mut out = vec![9];
            let copied = extend_mid(&mut out, &text[..len]);
            assert_eq!(copied, (16..=48).contains(&len), "{len}");
            let expected = if copied {
                [&[9][..], &text[..len]].concat()
            } else {
                vec![9]
            };
            assert_eq!(out, expected, "{len}");
        }
    }

    proptest::proptest! {
        #[test]
        fn short_texts_are_written_and_checked_exactly(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..20),
        ) {
            match ShortText::of(&bytes) {
                None => proptest::prop_assert!(bytes.len() > ShortText::MAX),
                Some((short, dirty)) => {
                    proptest::prop_assert_eq!(dirty, bytes.iter().any(|&b| needs_escape(b)));
                    let mut json = Vec::new();
                    short.write_json(&mut json);
                    proptest::prop_assert_eq!(json, [b"\"", &bytes[..], b"\""].concat());
                    let mut cbor = Vec::new();
                    short.write_cbor(&mut cbor);
                    proptest::prop_assert_eq!(cbor, [&[0x60 | bytes.len() as u8][..], &bytes[..]].concat());
                }
            }
        }
    }
}
