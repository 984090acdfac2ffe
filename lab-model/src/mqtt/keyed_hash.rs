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

use super::privacy::TOKEN_BODY;

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
    pub(super) fn digest(&self, parts: &[&str]) -> [u8; 32] {
        let (inner, outer) = match self.pads {
            Some((inner, outer)) => (Sha256Stream::from_state(inner, BLOCK as u64), Some(outer)),
            None => (Sha256Stream::from_state(SHA256_IV, 0), None),
        };
        let mut stream = inner;
        for (index, part) in parts.iter().enumerate() {
            if index > 0 {
                stream.update(b"|");
            }
            stream.update(part.as_bytes());
        }
        let inner_digest = stream.finish();
        match outer {
            Some(outer) => sha256_from(outer, BLOCK as u64, &inner_digest),
            None => inner_digest,
        }
    }

    /// The MAC (or hash) of `message`, in one pass: a token input fits one or two
    /// blocks, so there is nothing to stream.
    pub(super) fn digest_bytes(&self, message: &[u8]) -> [u8; 32] {
        match self.pads {
            Some((inner, outer)) => {
                let inner_digest = sha256_from(inner, BLOCK as u64, message);
                sha256_from(outer, BLOCK as u64, &inner_digest)
            }
            None => sha256_from(SHA256_IV, 0, message),
        }
    }
}

/// Inputs longer than this are not cached (a result id's input is typically 40 to
/// 90 bytes; an identifier's 5 to 40).
pub(super) const MAX_CACHED_INPUT: usize = 120;
const SETS: usize = 16;
const WAYS: usize = 4;

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

#[derive(Clone, Copy)]
struct CacheSet {
    entries: [CacheEntry; WAYS],
    next: usize,
}

#[derive(Clone, Copy)]
struct CacheEntry {
    /// `None` while empty.
    len: Option<u8>,
    hash: u64,
    input: [u8; MAX_CACHED_INPUT],
    body: [u8; TOKEN_BODY],
}

const EMPTY_ENTRY: CacheEntry = CacheEntry {
    len: None,
    hash: 0,
    input: [0; MAX_CACHED_INPUT],
    body: [0; TOKEN_BODY],
};

const EMPTY_SET: CacheSet = CacheSet {
    entries: [EMPTY_ENTRY; WAYS],
    next: 0,
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
    /// The cached token body of `input`, or `make()`'s, remembered.
    pub(super) fn get_or_insert(
        &mut self,
        input: &[u8],
        make: impl FnOnce() -> [u8; TOKEN_BODY],
    ) -> [u8; TOKEN_BODY] {
        let Ok(len) = u8::try_from(input.len()) else {
            return make();
        };
        if input.len() > MAX_CACHED_INPUT {
            return make();
        }
        let hash = hash(input);
        let Some(set) = self.0.get_mut((hash >> 60) as usize % SETS) else {
            return make();
        };
        if let Some(found) = set.entries.iter().find(|entry| {
            entry.len == Some(len)
                && entry.hash == hash
                && entry.input.get(..input.len()) == Some(input)
        }) {
            return found.body;
        }
        let body = make();
        let way = set.next % WAYS;
        set.next = (way + 1) % WAYS;
        if let Some(entry) = set.entries.get_mut(way) {
            let mut stored = EMPTY_ENTRY.input;
            if let Some(room) = stored.get_mut(..input.len()) {
                room.copy_from_slice(input);
            }
            *entry = CacheEntry {
                len: Some(len),
                hash,
                input: stored,
                body,
            };
        }
        body
    }
}

/// FxHash-style mixing over 8-byte words; only spreads inputs over the sets (the
/// full input is compared on lookup, so collisions cost a miss, never a wrong token).
fn hash(input: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |hash: u64, word: u64| (hash.rotate_left(5) ^ word).wrapping_mul(K);
    let (words, tail) = input.as_chunks::<8>();
    let mut hash = mix(0, input.len() as u64);
    for word in words {
        hash = mix(hash, u64::from_le_bytes(*word));
    }
    // The tail as the last eight bytes (overlapping; the length is mixed in above),
    // or byte by byte when the input is shorter: no partial copy to read back.
    let last = match input.last_chunk::<8>() {
        Some(last) if !tail.is_empty() => u64::from_le_bytes(*last),
        Some(_) => return hash,
        None => tail
            .iter()
            .fold(0u64, |word, &byte| (word << 8) | u64::from(byte)),
    };
    mix(hash, last)
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
        let mut get = |input: &[u8], body: u8| {
            sets.get_or_insert(input, || {
                calls += 1;
                [body; TOKEN_BODY]
            })
        };
        assert_eq!(get(b"a|b", 1), [1; TOKEN_BODY]);
        assert_eq!(get(b"a|b", 2), [1; TOKEN_BODY]);
        assert_eq!(get(b"a|c", 3), [3; TOKEN_BODY]);
        assert_eq!(get(b"", 4), [4; TOKEN_BODY]);
        assert_eq!(get(b"", 5), [4; TOKEN_BODY]);
        let long = [b'z'; MAX_CACHED_INPUT + 1];
        assert_eq!(get(&long, 6), [6; TOKEN_BODY]);
        assert_eq!(get(&long, 7), [7; TOKEN_BODY]);
        // Many inputs evict old ones; whatever is returned still belongs to its input.
        for n in 0..1000u32 {
            let input = n.to_string();
            let body = (n % 250) as u8;
            assert_eq!(get(input.as_bytes(), body), [body; TOKEN_BODY]);
        }
        assert_eq!(calls, 1 + 1 + 1 + 2 + 1000);
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
