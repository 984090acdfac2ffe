//! SipHash-2-4 with a 128-bit output (Aumasson and Bernstein, "SipHash: a fast
//! short-input PRF", 2012; the 128-bit variant of the reference implementation,
//! `outlen = 16`): the keyed hash of result ids.
//!
//! Result ids hash short inputs (about 50 bytes) four or more times per report, all
//! sharing a long prefix. SipHash is a PRF built for exactly that: a keyed state
//! that can be cloned after the shared prefix, then a few rounds per result, where
//! SHA-256 costs a whole compression (and HMAC two) per result.

/// A SipHash-2-4-128 state, fed in pieces.
#[derive(Clone, Copy)]
pub(super) struct SipHash128 {
    v: [u64; 4],
    /// Bytes fed but not yet compressed (fewer than 8), little-endian.
    tail: u64,
    tail_len: usize,
    /// Bytes fed in all, modulo 256 as the algorithm uses it.
    len: usize,
}

impl SipHash128 {
    /// A state under the 128-bit `key`.
    pub(super) fn new(key: &[u8; 16]) -> Self {
        let (k0, k1) = key.split_at(8);
        let word = |bytes: &[u8]| {
            bytes
                .first_chunk::<8>()
                .map_or(0, |word| u64::from_le_bytes(*word))
        };
        let (k0, k1) = (word(k0), word(k1));
        Self {
            v: [
                k0 ^ 0x736f_6d65_7073_6575,
                // The 128-bit variant marks its first state with 0xee.
                k1 ^ 0x646f_7261_6e64_6f6d ^ 0xee,
                k0 ^ 0x6c79_6765_6e65_7261,
                k1 ^ 0x7465_6462_7974_6573,
            ],
            tail: 0,
            tail_len: 0,
            len: 0,
        }
    }

    /// Feeds `bytes`. Pieces are gathered into words in registers (no buffer in
    /// memory): a result id is fed as a dozen short pieces, and a word stored
    /// byte-wise then loaded whole stalls the pipeline.
    #[inline(always)]
    pub(super) fn write(&mut self, bytes: &[u8]) {
        self.len = self.len.wrapping_add(bytes.len());
        let (words, rest) = bytes.as_chunks::<8>();
        for word in words {
            self.push(u64::from_le_bytes(*word), 8);
        }
        if !rest.is_empty() {
            self.push(load_short(rest), rest.len());
        }
    }

    /// Appends the low `count` (1 to 8) bytes of `word` (zeros above them) to the
    /// pending bytes, absorbing a word when 8 are pending.
    #[inline(always)]
    fn push(&mut self, word: u64, count: usize) {
        let pending = self.tail_len;
        // Below 8 pending bytes, so the shift is below 64.
        let joined = self.tail | (word << (8 * pending));
        if pending + count >= 8 {
            self.absorb(joined);
            // The bytes of `word` that did not fit in the absorbed word.
            self.tail = word.checked_shr(8 * (8 - pending) as u32).unwrap_or(0);
            self.tail_len = pending + count - 8;
        } else {
            self.tail = joined;
            self.tail_len = pending + count;
        }
    }

    /// The 128-bit output, as two words: the reference writes the first one's
    /// little-endian bytes, then the second's.
    #[inline]
    pub(super) fn finish(mut self) -> [u64; 2] {
        // The last word: the remaining bytes and the length's low byte on top.
        self.absorb(self.tail | ((self.len as u64) << 56));
        self.v[2] ^= 0xee;
        self.rounds(4);
        let [v0, v1, v2, v3] = self.v;
        let first = v0 ^ v1 ^ v2 ^ v3;
        self.v[1] ^= 0xdd;
        self.rounds(4);
        let [v0, v1, v2, v3] = self.v;
        [first, v0 ^ v1 ^ v2 ^ v3]
    }

    /// One message word: two compression rounds.
    #[inline(always)]
    fn absorb(&mut self, word: u64) {
        self.v[3] ^= word;
        self.rounds(2);
        self.v[0] ^= word;
    }

    #[inline(always)]
    fn rounds(&mut self, count: usize) {
        let [mut v0, mut v1, mut v2, mut v3] = self.v;
        for _ in 0..count {
            v0 = v0.wrapping_add(v1);
            v1 = v1.rotate_left(13);
            v1 ^= v0;
            v0 = v0.rotate_left(32);
            v2 = v2.wrapping_add(v3);
            v3 = v3.rotate_left(16);
            v3 ^= v2;
            v0 = v0.wrapping_add(v3);
            v3 = v3.rotate_left(21);
            v3 ^= v0;
            v2 = v2.wrapping_add(v1);
            v1 = v1.rotate_left(17);
            v1 ^= v2;
            v2 = v2.rotate_left(32);
        }
        self.v = [v0, v1, v2, v3];
    }
}

/// Up to 8 bytes as a little-endian word (zeros above them), read without a
/// variable-length copy: 4 to 8 bytes as two overlapping 4-byte loads, 1 to 3 as
/// the first, middle and last byte.
#[inline(always)]
fn load_short(bytes: &[u8]) -> u64 {
    let len = bytes.len();
    match (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
        (Some(low), Some(high)) if len <= 8 => {
            u64::from(u32::from_le_bytes(*low))
                | (u64::from(u32::from_le_bytes(*high)) << (8 * (len - 4)))
        }
        _ => {
            let byte = |at: usize| bytes.get(at).map_or(0, |&byte| u64::from(byte) << (8 * at));
            if len <= 3 {
                byte(0) | byte(len / 2) | byte(len.saturating_sub(1))
            } else {
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap())
            .collect()
    }

    const KEY: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

    fn bytes(output: [u64; 2]) -> Vec<u8> {
        output.iter().flat_map(|word| word.to_le_bytes()).collect()
    }

    fn one_shot(message: &[u8]) -> Vec<u8> {
        let mut state = SipHash128::new(&KEY);
        state.write(message);
        bytes(state.finish())
    }

    /// Entries of `vectors_sip128` in the reference repository's `vectors.h`
    /// (github.com/veorq/SipHash): the key 00..0f, the message 00 01 .. of each
    /// length.
    #[test]
    fn reference_vectors() {
        let message: Vec<u8> = (0..64).collect();
        for (len, expected) in [
            (0, "a3817f04ba25a8e66df67214c7550293"),
            (1, "da87c1d86b99af44347659119b22fc45"),
            (2, "8177228da4a45dc7fca38bdef60affe4"),
            (7, "a1f1ebbed8dbc153c0b84aa61ff08239"),
            (8, "3b62a9ba6258f5610f83e264f31497b4"),
            (9, "264499060ad9baabc47f8b02bb6d71ed"),
            (10, "00110dc378146956c95447d3f3d0fbba"),
            (63, "5150d1772f50834a503e069a973fbd7c"),
        ] {
            assert_eq!(one_shot(&message[..len]), hex(expected), "{len}");
        }
    }

    #[test]
    fn short_loads_are_the_bytes_little_endian() {
        let source = [0x11u8, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];
        for len in 0..=8 {
            let mut word = [0u8; 8];
            word[..len].copy_from_slice(&source[..len]);
            assert_eq!(
                load_short(&source[..len]),
                u64::from_le_bytes(word),
                "{len}"
            );
        }
    }

    proptest! {
        #[test]
        fn pieces_hash_as_the_whole(message in proptest::collection::vec(any::<u8>(), 0..200), cuts in proptest::collection::vec(0usize..200, 0..6)) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|cut| cut.min(message.len())).collect();
            cuts.sort_unstable();
            let mut state = SipHash128::new(&KEY);
            let mut at = 0;
            for cut in cuts {
                state.write(&message[at..cut]);
                at = cut;
            }
            state.write(&message[at..]);
            prop_assert_eq!(bytes(state.finish()), one_shot(&message));
        }
    }
}
