//! HMAC-SHA256 from precomputed pad states, and a small cache of recent tokens.
//!
//! A token costs one SHA-256 compression per 64 bytes of input plus one for the
//! outer hash (RFC 2104 §2, with the key's inner and outer pad blocks compressed
//! once, when the configuration is built). Going through the `hmac` crate adds
//! state copies and buffering around those compressions; here the input is fed to
//! `sha2`'s raw compression function directly. The `hmac` crate remains the oracle:
//! a property test compares the two on random keys and messages.

use std::sync::{Mutex, MutexGuard};

use sha2::block_api::compress256;
use sha2::{Digest, Sha256};

use super::privacy::{BODY_ROOM, Body};
use super::short::ShortText;

/// SHA-256 initial hash value H(0) (FIPS 180-4 §5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The SHA-256 block size in bytes.
const BLOCK: usize = 64;

/// SHA-256 over a message fed in pieces, starting from any chaining state.
#[derive(Clone)]
struct Sha256Stream {
    state: [u32; 8],
    block: [u8; BLOCK],
    filled: usize,
    /// Bytes hashed so far, including blocks absorbed before this stream started.
    total: u64,
}

impl Sha256Stream {
    /// Continues from `state`, which has absorbed `absorbed` bytes.
    fn from_state(state: [u32; 8], absorbed: u64) -> Self {
        Self {
            state,
            block: [0; BLOCK],
            filled: 0,
            total: absorbed,
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.filled > 0 {
            let take = (BLOCK - self.filled).min(data.len());
            let (head, rest) = data.split_at_checked(take).unwrap_or((data, &[]));
            if let Some(room) = self.block.get_mut(self.filled..self.filled + take) {
                room.copy_from_slice(head);
            }
            self.filled += take;
            data = rest;
            if self.filled < BLOCK {
                return;
            }
            compress256(&mut self.state, std::slice::from_ref(&self.block));
            self.filled = 0;
        }
        let (blocks, rest) = data.as_chunks::<BLOCK>();
        compress256(&mut self.state, blocks);
        if let Some(room) = self.block.get_mut(..rest.len()) {
            room.copy_from_slice(rest);
            self.filled = rest.len();
        }
    }

    /// Pads and returns the digest.
    fn finish(self) -> [u8; 32] {
        let pending = self.block.get(..self.filled).unwrap_or_default();
        let absorbed = self.total.wrapping_sub(pending.len() as u64);
        sha256_from(self.state, absorbed, pending)
    }
}

/// SHA-256 of `message` continued from `state`, which has absorbed `absorbed`
/// bytes: its whole blocks, then the padded tail (FIPS 180-4 §5.1.1: a 1 bit,
/// zeros, the total length in bits as a 64-bit big-endian number).
fn sha256_from(mut state: [u32; 8], absorbed: u64, message: &[u8]) -> [u8; 32] {
    let (blocks, rest) = message.as_chunks::<BLOCK>();
    if !blocks.is_empty() {
        compress256(&mut state, blocks);
    }
    let bits = absorbed.wrapping_add(message.len() as u64).wrapping_mul(8);
    let mut tail = [0u8; 2 * BLOCK];
    if let Some(room) = tail.get_mut(..rest.len()) {
        room.copy_from_slice(rest);
    }
    if let Some(marker) = tail.get_mut(rest.len()) {
        *marker = 0x80;
    }
    let used = if rest.len() + 1 + 8 > BLOCK { 2 } else { 1 };
    let end = used * BLOCK;
    if let Some(length) = tail.get_mut(end - 8..end) {
        length.copy_from_slice(&bits.to_be_bytes());
    }
    let (tail_blocks, _) = tail.as_chunks::<BLOCK>();
    compress256(&mut state, tail_blocks.get(..used).unwrap_or_default());
    let mut digest = [0u8; 32];
    for (out, word) in digest.as_chunks_mut::<4>().0.iter_mut().zip(state) {
        *out = word.to_be_bytes();
    }
    digest
}

/// HMAC-SHA256 with the key's pad blocks already compressed, or plain SHA-256.
#[derive(Clone, Copy)]
pub(super) struct KeyedHash {
    /// H(0) after `K ⊕ ipad` and after `K ⊕ opad`; `None` for plain SHA-256.
    pads: Option<([u32; 8], [u32; 8])>,
}

impl KeyedHash {
    /// HMAC-SHA256 under `key` (RFC 2104 §2: a key longer than the block is hashed
    /// first, then the key is zero-padded to the block).
    pub(super) fn hmac(key: &[u8]) -> Self {
        let mut padded = [0u8; BLOCK];
        if key.len() > BLOCK {
            let digest: [u8; 32] = Sha256::digest(key).into();
            if let Some(room) = padded.get_mut(..32) {
                room.copy_from_slice(&digest);
            }
        } else if let Some(room) = padded.get_mut(..key.len()) {
            room.copy_from_slice(key);
        }
        let pad_state = |pad: u8| {
            let mut state = SHA256_IV;
            compress256(&mut state, &[padded.map(|byte| byte ^ pad)]);
            state
        };
        Self {
            pads: Some((pad_state(0x36), pad_state(0x5c))),
        }
    }

    /// Plain SHA-256, for tokens without a key.
    pub(super) fn plain() -> Self {
        Self { pads: None }
    }

    /// The MAC (or hash) of the parts joined by `|`, streamed: for inputs too long
    /// to join on the stack.
    pub(super) fn digest<P: AsRef<[u8]>>(&self, parts: &[P]) -> [u8; 32] {
        let (inner, outer) = match self.pads {
            Some((inner, outer)) => (Sha256Stream::from_state(inner, BLOCK as u64), Some(outer)),
            None => (Sha256Stream::from_state(SHA256_IV, 0), None),
        };
        let mut stream = inner;
        for (index, part) in parts.iter().enumerate() {
            if index > 0 {
                stream.update(b"|");
            }
            stream.update(part.as_ref());
        }
        let inner_digest = stream.finish();
        match outer {
            Some(outer) => outer_hash(outer, &inner_digest),
            None => inner_digest,
        }
    }

    /// The MAC (or hash) of `message`, in one pass (the oracle of
    /// [`Self::token_bits`]).
    #[cfg(test)]
    pub(super) fn digest_bytes(&self, message: &[u8]) -> [u8; 32] {
        match self.pads {
            Some((inner, outer)) => outer_hash(outer, &sha256_from(inner, BLOCK as u64, message)),
            None => sha256_from(SHA256_IV, 0, message),
        }
    }
}

impl KeyedHash {
    /// The first 128 bits of the MAC (or hash) of a joined input, as big-endian
    /// words: what a token shows. The padded blocks are assembled from the input's
    /// words and the outer block from the inner state's, with no byte-wise copy.
    pub(super) fn token_bits(&self, input: &JoinedInput) -> [u32; 4] {
        let (mut state, absorbed) = match self.pads {
            Some((inner, _)) => (inner, BLOCK),
            None => (SHA256_IV, 0),
        };
        let mut blocks = [[0u8; BLOCK]; 3];
        let used = padded_blocks(&mut blocks, input, absorbed);
        compress256(&mut state, blocks.get(..used).unwrap_or_default());
        if let Some((_, outer)) = self.pads {
            let mut block = OUTER_TAIL;
            for (chunk, word) in block.as_chunks_mut::<4>().0.iter_mut().zip(state) {
                *chunk = word.to_be_bytes();
            }
            state = outer;
            compress256(&mut state, &[block]);
        }
        let [a, b, c, d, ..] = state;
        [a, b, c, d]
    }
}

/// For each length of a partial 16-byte chunk: which bytes are kept, and the
/// padding's 1 bit right after them.
const PARTIAL: [([u8; 16], [u8; 16]); 16] = [
    partial_chunk(0),
    partial_chunk(1),
    partial_chunk(2),
    partial_chunk(3),
    partial_chunk(4),
    partial_chunk(5),
    partial_chunk(6),
    partial_chunk(7),
    partial_chunk(8),
    partial_chunk(9),
    partial_chunk(10),
    partial_chunk(11),
    partial_chunk(12),
    partial_chunk(13),
    partial_chunk(14),
    partial_chunk(15),
];

/// A [`PARTIAL`] entry, at compile time.
const fn partial_chunk(len: usize) -> ([u8; 16], [u8; 16]) {
    let keep = if len == 0 {
        0
    } else {
        u128::MAX >> (8 * (16 - len))
    };
    (keep.to_le_bytes(), (0x80u128 << (8 * len)).to_le_bytes())
}

/// Writes `input`, after `absorbed` bytes already hashed, as the padded blocks of
/// its SHA-256 (FIPS 180-4 §5.1.1: a 1 bit, zeros, the total length in bits as a
/// 64-bit big-endian number) into `blocks`; returns how many blocks it takes (1 to
/// 3 for the at most [`MAX_CACHED_INPUT`] bytes of an input). Written in 16-byte
/// chunks, each computed whole (the compression function reads them as such).
fn padded_blocks(blocks: &mut [[u8; BLOCK]; 3], input: &JoinedInput, absorbed: usize) -> usize {
    let len = input.len;
    let used = (len + 9).div_ceil(BLOCK).min(3);
    let (full, partial) = (len / 16, len % 16);
    let (source, _) = input.bytes.as_chunks::<16>();
    let (chunks, _) = blocks.as_flattened_mut().as_chunks_mut::<16>();
    let last = used * (BLOCK / 16) - 1;
    let bits = ((absorbed + len) as u64).wrapping_mul(8);
    let length = (u128::from(bits.swap_bytes()) << 64).to_le_bytes();
    // The bytes of the partial chunk that are input, and where its 1 bit goes.
    let (keep, marker) = PARTIAL.get(partial).copied().unwrap_or_default();
    for (index, chunk) in chunks.iter_mut().enumerate().take(last + 1) {
        let data = source.get(index).copied().unwrap_or_default();
        let (keep, marker) = match index.cmp(&full) {
            std::cmp::Ordering::Less => ([0xff; 16], [0; 16]),
            std::cmp::Ordering::Equal => (keep, marker),
            std::cmp::Ordering::Greater => ([0; 16], [0; 16]),
        };
        let length = if index == last { length } else { [0; 16] };
        let mut out = [0u8; 16];
        for (out, (((data, keep), marker), length)) in out
            .iter_mut()
            .zip(data.iter().zip(keep).zip(marker).zip(length))
        {
            *out = (data & keep) | marker | length;
        }
        *chunk = out;
    }
    used
}

/// The outer hash of HMAC-SHA256 over the inner hash `inner`, from the state after
/// the key's outer pad block: one compression of a block whose padding is known in
/// advance (RFC 2104 §2; FIPS 180-4 §5.1.1 for 64 + 32 bytes).
fn outer_hash(outer: [u32; 8], inner: &[u8; 32]) -> [u8; 32] {
    let mut block = OUTER_TAIL;
    if let Some((head, _)) = block.split_first_chunk_mut::<32>() {
        *head = *inner;
    }
    let mut state = outer;
    compress256(&mut state, &[block]);
    let mut digest = [0u8; 32];
    for (out, word) in digest.as_chunks_mut::<4>().0.iter_mut().zip(state) {
        *out = word.to_be_bytes();
    }
    digest
}

/// The outer hash's last block after its 32 message bytes: the 1 bit, zeros, and the
/// length of pad block and inner hash, 96 bytes, in bits.
const OUTER_TAIL: [u8; BLOCK] = {
    let bits = ((BLOCK + 32) * 8) as u64;
    let mut block = [0u8; BLOCK];
    let mut rest: &mut [u8] = &mut block;
    let mut index = 0;
    // `{rest}` moves the slice out, so the loop can put its tail back.
    while let [byte, tail @ ..] = { rest } {
        if index == 32 {
            *byte = 0x80;
        } else if index >= BLOCK - 8 {
            // The length, big-endian, in the last 8 bytes.
            *byte = (bits >> (8 * (BLOCK - 1 - index))) as u8;
        }
        rest = tail;
        index += 1;
    }
    block
};

/// Inputs longer than this are not cached (an identifier's input is typically 5 to
/// 40 bytes). A multiple of 8: inputs compare as words.
pub(super) const MAX_CACHED_INPUT: usize = 120;
const SETS: usize = 16;
const WAYS: usize = 4;

/// The room of a [`JoinedInput`]: the longest cached input, and slack for writing a
/// short part as a whole 16-byte word past it.
const INPUT_ROOM: usize = MAX_CACHED_INPUT + 16;

/// A token's input: its parts joined by `|`, as the MAC reads them, on the stack.
/// Inputs longer than [`MAX_CACHED_INPUT`] are not joined (`None`) but hashed from
/// their parts. Bytes past the end are whatever was written there: reads mask them.
#[derive(Clone)]
pub(crate) struct JoinedInput {
    bytes: [u8; INPUT_ROOM],
    len: usize,
    /// What spreads inputs over the cache's sets: FxHash-style mixing of each
    /// part's length and words as it is pushed, from the registers that write it
    /// (reading the joined bytes back right after writing them piecewise stalls).
    /// Equal parts give equal hashes; the same bytes split into other parts may
    /// not, which costs a cache miss, never a wrong token (lookups compare bytes).
    hash: u64,
}

/// One step of [`JoinedInput::hash`].
#[inline(always)]
fn mix(hash: u64, word: u64) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    (hash.rotate_left(5) ^ word).wrapping_mul(K)
}

impl JoinedInput {
    /// An empty input.
    pub(crate) const fn new() -> Self {
        Self {
            bytes: [0; INPUT_ROOM],
            len: 0,
            hash: 0,
        }
    }

    /// Joins `parts`, or `None` when they do not fit.
    #[cfg(test)]
    pub(crate) fn of(parts: &[&str]) -> Option<Self> {
        let mut input = Self::new();
        input.join(parts)?;
        Some(input)
    }

    /// Appends `parts` joined by `|` to an empty input (in place: the input is too
    /// big to return cheaply), or `None` when they do not fit.
    #[inline]
    pub(crate) fn join<P: AsRef<[u8]>>(&mut self, parts: &[P]) -> Option<()> {
        let mut parts = parts.iter();
        if let Some(first) = parts.next() {
            self.push(first.as_ref())?;
        }
        for part in parts {
            self.push_separated(part.as_ref())?;
        }
        Some(())
    }

    /// Appends `|` and `part`, or `None` (and changes nothing) when they do not fit.
    #[inline]
    pub(crate) fn push_separated(&mut self, part: &[u8]) -> Option<()> {
        if self.len.checked_add(part.len())? >= MAX_CACHED_INPUT {
            return None;
        }
        *self.bytes.get_mut(self.len)? = b'|';
        self.len += 1;
        self.push(part)
    }

    /// Appends bytes, or `None` (and changes nothing) when they do not fit.
    #[inline]
    pub(crate) fn push(&mut self, part: &[u8]) -> Option<()> {
        let end = self.len.checked_add(part.len())?;
        if end > MAX_CACHED_INPUT {
            return None;
        }
        let mut hash = mix(self.hash, part.len() as u64);
        match ShortText::of(part) {
            // One 16-byte store; what it writes past the part is past the end.
            Some((short, _)) => {
                let room = self.bytes.get_mut(self.len..)?.first_chunk_mut::<16>()?;
                *room = short.to_le_bytes();
                let [low, high] = short.words();
                hash = mix(mix(hash, low), high);
            }
            None => {
                self.bytes.get_mut(self.len..end)?.copy_from_slice(part);
                // Over 16 bytes: its words, the last one overlapping.
                let (words, _) = part.as_chunks::<8>();
                for word in words {
                    hash = mix(hash, u64::from_le_bytes(*word));
                }
                if let Some(last) = part.last_chunk::<8>() {
                    hash = mix(hash, u64::from_le_bytes(*last));
                }
            }
        }
        self.len = end;
        self.hash = hash;
        Some(())
    }

    /// Its length.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The joined bytes.
    #[cfg(test)]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// The cache tag: the hash, with the length in its low byte.
    #[inline(always)]
    fn tag(&self) -> u64 {
        (self.hash & !0xff) | (self.len as u64 & 0xff)
    }
}

/// The bits of the last word of an input of `len` bytes that belong to it (all of
/// them when `len` is a multiple of 8).
#[inline(always)]
fn last_word_mask(len: usize) -> u64 {
    match len % 8 {
        0 => u64::MAX,
        used => u64::MAX >> (8 * (8 - used)),
    }
}

/// Whether the first `len` bytes of `a` and `b` are equal, compared as words.
#[inline(always)]
fn same_input(a: &[u8], b: &[u8], len: usize) -> bool {
    let (a, _) = a.as_chunks::<8>();
    let (b, _) = b.as_chunks::<8>();
    let full = len / 8;
    let mut differ = 0u64;
    for (a, b) in a.iter().zip(b).take(full) {
        differ |= u64::from_le_bytes(*a) ^ u64::from_le_bytes(*b);
    }
    if !len.is_multiple_of(8) {
        match (a.get(full), b.get(full)) {
            (Some(a), Some(b)) => {
                differ |= (u64::from_le_bytes(*a) ^ u64::from_le_bytes(*b)) & last_word_mask(len);
            }
            _ => return false,
        }
    }
    differ == 0
}

/// The token bodies (base32 of the truncated MAC) of the last inputs seen: 16 sets
/// of 4, each set replaced round-robin. A re-sent or corrected report carries the
/// same ids, and the next report on a specimen repeats its patient, specimen and
/// order ids, so most tokens are hits.
///
/// It holds up to 64 token inputs in memory, which are identifiers (PHI) in clear:
/// as sensitive as the events the gateway already holds, never printed, and gone
/// with the configuration. [`super::MappingConfig::with_token_cache`] turns it off.
pub(super) struct TokenCache {
    sets: Mutex<Box<CacheSets>>,
}

/// The cache's contents, held by one mapping at a time.
pub(super) struct CacheSets([CacheSet; SETS]);

/// One set: the tags of its ways together at the start of a cache line, so a
/// lookup that misses reads one line (most lookups miss when ids are new).
#[derive(Clone, Copy)]
#[repr(align(64))]
struct CacheSet {
    /// Each way's [`JoinedInput::tag`]; [`EMPTY_TAG`] while empty.
    tags: [u64; WAYS],
    next: usize,
    /// Each way's input, and what followed it in its [`JoinedInput`] (not compared).
    inputs: [[u8; MAX_CACHED_INPUT]; WAYS],
    bodies: [Body; WAYS],
}

/// No input has this tag: its length byte is over [`MAX_CACHED_INPUT`].
const EMPTY_TAG: u64 = 0xff;

const EMPTY_SET: CacheSet = CacheSet {
    tags: [EMPTY_TAG; WAYS],
    next: 0,
    inputs: [[0; MAX_CACHED_INPUT]; WAYS],
    bodies: [[0; BODY_ROOM]; WAYS],
};

impl TokenCache {
    pub(super) fn new() -> Self {
        Self {
            sets: Mutex::new(Box::new(CacheSets([EMPTY_SET; SETS]))),
        }
    }

    /// The contents for one mapping: one lock for all the tokens of an event (locks
    /// cost more than lookups). `None` when another thread holds them: that mapping
    /// then computes its tokens, it never waits.
    pub(super) fn lock(&self) -> Option<MutexGuard<'_, Box<CacheSets>>> {
        self.sets.try_lock().ok()
    }
}

impl CacheSets {
    /// The cached token body of `input`, or `make()`'s, remembered in place of the
    /// oldest entry of its set.
    #[inline]
    pub(super) fn get_or_insert(
        &mut self,
        input: &JoinedInput,
        make: impl FnOnce() -> Body,
    ) -> Body {
        let tag = input.tag();
        let (Some((stored, _)), Some(set)) = (
            input.bytes.split_first_chunk::<MAX_CACHED_INPUT>(),
            self.0.get_mut((tag >> 60) as usize % SETS),
        ) else {
            return make();
        };
        for ((way_tag, way_input), body) in set.tags.iter().zip(&set.inputs).zip(&set.bodies) {
            if *way_tag == tag && same_input(way_input, &input.bytes, input.len) {
                return *body;
            }
        }
        let body = make();
        let way = set.next % WAYS;
        set.next = (way + 1) % WAYS;
        if let (Some(way_tag), Some(way_input), Some(way_body)) = (
            set.tags.get_mut(way),
            set.inputs.get_mut(way),
            set.bodies.get_mut(way),
        ) {
            *way_tag = tag;
            *way_input = *stored;
            *way_body = body;
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, KeyInit, Mac};
    use proptest::prelude::*;

    fn reference_hmac(key: &[u8], parts: &[&str]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(parts.join("|").as_bytes());
        mac.finalize().into_bytes().into()
    }

    #[test]
    fn rfc_4231_test_cases() {
        // Test case 1: 20-byte key, "Hi There".
        let mac = KeyedHash::hmac(&[0x0b; 20]).digest(&["Hi There"]);
        assert_eq!(
            mac[..8],
            [0xb0, 0x34, 0x4c, 0x61, 0xd8, 0xdb, 0x38, 0x53],
            "case 1"
        );
        // Test case 6: a 131-byte key (hashed first) and a 54-byte message.
        let mac = KeyedHash::hmac(&[0xaa; 131])
            .digest(&["Test Using Larger Than Block-Size Key - Hash Key First"]);
        assert_eq!(
            mac[..8],
            [0x60, 0xe4, 0x31, 0x59, 0x1e, 0xe0, 0xb6, 0x7f],
            "case 6"
        );
    }

    #[test]
    fn padding_is_right_at_every_block_boundary() {
        let key = [7u8; 16];
        for len in 0..200 {
            let text = "x".repeat(len);
            assert_eq!(
                KeyedHash::hmac(&key).digest(&[&text]),
                reference_hmac(&key, &[&text]),
                "{len}"
            );
            assert_eq!(
                KeyedHash::hmac(&key).digest_bytes(text.as_bytes()),
                reference_hmac(&key, &[&text]),
                "{len}"
            );
            if let Some(input) = JoinedInput::of(&[&text]) {
                let first_bits = |digest: [u8; 32]| {
                    let mut bits = [0u32; 4];
                    for (bits, word) in bits.iter_mut().zip(digest.as_chunks::<4>().0) {
                        *bits = u32::from_be_bytes(*word);
                    }
                    bits
                };
                assert_eq!(
                    KeyedHash::hmac(&key).token_bits(&input),
                    first_bits(reference_hmac(&key, &[&text])),
                    "{len}"
                );
                assert_eq!(
                    KeyedHash::plain().token_bits(&input),
                    first_bits(Sha256::digest(text.as_bytes()).into()),
                    "{len}"
                );
            }
            let plain: [u8; 32] = Sha256::digest(text.as_bytes()).into();
            assert_eq!(KeyedHash::plain().digest(&[&text]), plain, "{len}");
            assert_eq!(
                KeyedHash::plain().digest_bytes(text.as_bytes()),
                plain,
                "{len}"
            );
        }
    }

    #[test]
    fn the_cache_returns_what_it_was_given_for_that_input_only() {
        let cache = TokenCache::new();
        let mut sets = cache.lock().unwrap();
        assert!(cache.lock().is_none(), "held by one mapping at a time");
        let mut calls = 0;
        let mut get = |input: &str, body: u8| {
            let input = JoinedInput::of(&[input]).unwrap();
            sets.get_or_insert(&input, || {
                calls += 1;
                [body; BODY_ROOM]
            })
        };
        assert_eq!(get("a|b", 1), [1; BODY_ROOM]);
        assert_eq!(get("a|b", 2), [1; BODY_ROOM]);
        assert_eq!(get("a|c", 3), [3; BODY_ROOM]);
        assert_eq!(get("", 4), [4; BODY_ROOM]);
        assert_eq!(get("", 5), [4; BODY_ROOM]);
        assert_eq!(
            get("a|b\0", 6),
            [6; BODY_ROOM],
            "a longer input is another input"
        );
        let longest = "z".repeat(MAX_CACHED_INPUT);
        assert_eq!(get(&longest, 7), [7; BODY_ROOM]);
        assert_eq!(get(&longest, 8), [7; BODY_ROOM]);
        // Many inputs evict old ones; whatever is returned still belongs to its input.
        for n in 0..1000u32 {
            let input = n.to_string();
            let body = (n % 250) as u8;
            assert_eq!(get(&input, body), [body; BODY_ROOM]);
        }
        assert_eq!(calls, 1 + 1 + 1 + 1 + 1 + 1000);
    }

    #[test]
    fn joined_inputs_join_with_bars_up_to_the_cached_length() {
        let input = JoinedInput::of(&["a", "bcdefghijk"]).unwrap();
        assert_eq!(input.as_bytes(), b"a|bcdefghijk");
        assert!(JoinedInput::of(&["x"; MAX_CACHED_INPUT]).is_none());
        assert!(JoinedInput::of(&["x".repeat(MAX_CACHED_INPUT + 1).as_str()]).is_none());
        assert_eq!(
            JoinedInput::of(&["x".repeat(MAX_CACHED_INPUT).as_str()])
                .unwrap()
                .as_bytes()
                .len(),
            MAX_CACHED_INPUT
        );
        // A refused part leaves the input as it was.
        let mut input = JoinedInput::of(&["y".repeat(MAX_CACHED_INPUT - 2).as_str()]).unwrap();
        assert!(input.push_separated(b"ab").is_none());
        assert!(input.push(b"abc").is_none());
        assert_eq!(input.len(), MAX_CACHED_INPUT - 2);
        assert!(input.push_separated(b"a").is_some());
        assert_eq!(input.len(), MAX_CACHED_INPUT);
    }

    #[test]
    fn only_the_bytes_of_an_input_decide_a_hit_whatever_its_tag_or_leftovers() {
        let cache = TokenCache::new();
        let mut sets = cache.lock().unwrap();
        let mut first = JoinedInput::of(&["", "S24-000123"]).unwrap();
        let mut same = JoinedInput::of(&["", "S24-000123"]).unwrap();
        let mut other = JoinedInput::of(&["", "S24-000124"]).unwrap();
        // Bytes past the end are not part of the input, whatever they hold.
        for (index, byte) in same.bytes.iter_mut().enumerate().skip(same.len) {
            *byte = index as u8 | 0x80;
        }
        // The same tag for all three, as a hash collision would give.
        let tag = first.hash;
        for input in [&mut first, &mut same, &mut other] {
            input.hash = tag;
        }
        assert_eq!(
            sets.get_or_insert(&first, || [1; BODY_ROOM]),
            [1; BODY_ROOM]
        );
        assert_eq!(sets.get_or_insert(&same, || [2; BODY_ROOM]), [1; BODY_ROOM]);
        assert_eq!(
            sets.get_or_insert(&other, || [3; BODY_ROOM]),
            [3; BODY_ROOM]
        );
        assert_eq!(
            sets.get_or_insert(&first, || [4; BODY_ROOM]),
            [1; BODY_ROOM]
        );
        let key = KeyedHash::hmac(&[5; 16]);
        assert_eq!(key.token_bits(&same), key.token_bits(&first));
    }

    proptest! {
        /// An input is its bytes: the same parts always hit, the same bytes split
        /// into other parts give the same token (and at worst miss the cache), and
        /// other bytes never get its token.
        #[test]
        fn inputs_are_their_bytes(
            shared in proptest::collection::vec(".{0,12}", 1..6),
            own in proptest::collection::vec(".{0,20}", 0..5),
            other in proptest::collection::vec(".{0,20}", 0..5),
        ) {
            let join = |parts: &[&[String]]| -> Option<JoinedInput> {
                let parts: Vec<&str> = parts.iter().flat_map(|p| p.iter().map(String::as_str)).collect();
                JoinedInput::of(&parts)
            };
            let (Some(fresh), Some(again)) = (join(&[&shared, &own]), join(&[&shared, &own])) else {
                return Ok(());
            };
            let expected = [shared.clone(), own.clone()].concat().join("|");
            prop_assert_eq!(fresh.as_bytes(), expected.as_bytes());
            let key = KeyedHash::hmac(&[5; 16]);
            let cache = TokenCache::new();
            let mut sets = cache.lock().unwrap();
            prop_assert_eq!(sets.get_or_insert(&fresh, || [1; BODY_ROOM]), [1; BODY_ROOM]);
            prop_assert_eq!(sets.get_or_insert(&again, || [2; BODY_ROOM]), [1; BODY_ROOM]);
            if let Some(whole) = JoinedInput::of(&[expected.as_str()]) {
                prop_assert_eq!(whole.as_bytes(), fresh.as_bytes());
                prop_assert_eq!(key.token_bits(&whole), key.token_bits(&fresh));
            }
            if let Some(other) = join(&[&shared, &other]) {
                let body = sets.get_or_insert(&other, || [3; BODY_ROOM]);
                if other.as_bytes() != fresh.as_bytes() {
                    prop_assert_eq!(body, [3; BODY_ROOM]);
                }
            }
        }
    }

    proptest! {
        #[test]
        fn matches_the_hmac_crate(
            key in proptest::collection::vec(any::<u8>(), 16..150),
            parts in proptest::collection::vec(".{0,90}", 0..12),
        ) {
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            prop_assert_eq!(KeyedHash::hmac(&key).digest(&parts), reference_hmac(&key, &parts));
        }
    }
}
