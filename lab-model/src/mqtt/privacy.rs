//! Privacy profiles: what of a patient, specimen or order leaves the site.

use std::borrow::Cow;
use std::fmt;
use std::sync::MutexGuard;

use serde::{Deserialize, Serialize};

use self::prefix::Prefix;
pub(crate) use super::keyed_hash::JoinedInput;
use super::keyed_hash::{CacheSets, KeyedHash, TokenCache};
use super::result_ids::ResultIdKey;
use super::siphash::SipHash128;
use crate::{
    Container, EquipmentLog, Identifier, LabEvent, LabResult, Order, Patient, Sensitive, Specimen,
    SpecimenQuery, Text,
};

/// How much identifying data a payload carries. Topics and MQTT properties never carry
/// any, whatever the profile.
///
/// | | `full` | `pseudonymized` | `minimal` | `id-only` |
/// |---|---|---|---|---|
/// | patient, specimen, container, order ids | as sent | `pt_`/`sp_`/`or_` tokens | dropped | tokens only |
/// | patient name, birth date | as sent | dropped | dropped | dropped |
/// | patient sex | as sent | kept | dropped | dropped |
/// | accession number (imaging) | as sent | `sp_` token | dropped | token only |
/// | result operator | as sent | `op_` token | dropped | dropped |
/// | free-text notes | as sent | kept | dropped | dropped |
/// | equipment log text and file name | as sent | dropped | dropped | dropped |
/// | results, times, instrument, lots | as sent | as sent | as sent | result ids only |
///
/// Events that cannot identify a person (status, meta, inventory) are the same under
/// every profile. Tokens are keyed HMAC-SHA256 (see [`PseudonymKey`]): stable for a
/// key, so consumers can join on them, and reversible only by whoever holds the key
/// and the original ids (the LIS). Pseudonymized data is still personal data (GDPR
/// Recital 26): the profiles reduce exposure, TLS and broker ACLs still matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrivacyProfile {
    /// Everything the instrument sent. Only for a broker inside the hospital network.
    Full,
    /// Identifiers replaced by keyed tokens; names and birth dates dropped.
    #[default]
    Pseudonymized,
    /// No patient, specimen or order identifiers at all (QC, analytics).
    Minimal,
    /// Only tokens, result ids and the kind: consumers fetch details elsewhere.
    IdOnly,
}

impl PrivacyProfile {
    /// Its configuration name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Pseudonymized => "pseudonymized",
            Self::Minimal => "minimal",
            Self::IdOnly => "id-only",
        }
    }

    /// Whether the profile needs a [`PseudonymKey`]: all but `full`, because result
    /// ids are derived from specimen ids, and an unkeyed hash of a low-entropy id
    /// (a barcode, an MRN) is reversed by trying them all.
    pub fn needs_key(self) -> bool {
        self != Self::Full
    }
}

/// The secret behind tokens: at least 16 bytes, and an id naming it so consumers
/// know which key made a token when keys rotate (`token_kid` in the envelope).
#[derive(Clone)]
pub struct PseudonymKey {
    key: Sensitive<Vec<u8>>,
    key_id: String,
}

/// The shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 16;

impl PseudonymKey {
    /// A key from its bytes and id. `None` if the key is shorter than
    /// [`MIN_KEY_BYTES`] or the id is not 1 to 32 characters of `[A-Za-z0-9._-]`.
    pub fn new(key: &[u8], key_id: &str) -> Option<Self> {
        let id_ok = (1..=32).contains(&key_id.len())
            && key_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        (key.len() >= MIN_KEY_BYTES && id_ok).then(|| Self {
            key: Sensitive::new(key.to_vec()),
            key_id: key_id.to_owned(),
        })
    }

    /// A key written as hex digits (at least 32 of them).
    pub fn from_hex(hex: &str, key_id: &str) -> Option<Self> {
        let hex = hex.trim();
        if !hex.len().is_multiple_of(2) {
            return None;
        }
        let mut bytes = Vec::with_capacity(hex.len() / 2);
        for pair in hex.as_bytes().chunks(2) {
            let text = std::str::from_utf8(pair).ok()?;
            bytes.push(u8::from_str_radix(text, 16).ok()?);
        }
        Self::new(&bytes, key_id)
    }

    /// The key's id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PseudonymKey")
            .field("key", &self.key)
            .field("key_id", &self.key_id)
            .finish()
    }
}

/// Makes tokens. Holds the HMAC-SHA256 pad states after the key schedule, so a
/// token costs one SHA-256 compression per 64 bytes of input plus one, and a cache
/// of recent tokens ([`TokenCache`]), so a re-sent id costs a lookup.
pub(crate) struct Tokenizer {
    hash: KeyedHash,
    /// Result ids' key, derived from the pseudonym key.
    result_key: ResultIdKey,
    cache: Option<TokenCache>,
}

impl Clone for Tokenizer {
    /// A clone starts with an empty cache.
    fn clone(&self) -> Self {
        Self {
            hash: self.hash,
            result_key: self.result_key,
            cache: self.cache.as_ref().map(|_| TokenCache::new()),
        }
    }
}

impl fmt::Debug for Tokenizer {
    /// The keyed state is as secret as the key, the cache holds identifiers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tokenizer(<redacted>)")
    }
}

/// Token prefixes: what an opaque token stands for.
pub(crate) mod prefix {
    /// Three ASCII characters ending in `_`.
    pub(crate) type Prefix = &'static [u8; 3];
    pub(crate) const PATIENT: Prefix = b"pt_";
    pub(crate) const SPECIMEN: Prefix = b"sp_";
    pub(crate) const ORDER: Prefix = b"or_";
    pub(crate) const OPERATOR: Prefix = b"op_";
    pub(crate) const RESULT: Prefix = b"rs_";
}

/// A token: a 3-character prefix and 26 base32 characters, inline. The two parts
/// stay apart (the body as the cache holds it, the prefix a constant), so making a
/// token and writing it copy whole blocks, never a block assembled from pieces just
/// written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    prefix: Prefix,
    body: Body,
}

impl Token {
    /// `prefix` and the base32 of a 128-bit digest given as two words whose
    /// little-endian bytes, one after the other, are the digest's bytes.
    #[inline]
    pub(crate) fn of_digest(prefix: Prefix, digest: [u64; 2]) -> Self {
        let mut token = Self::new(prefix, &[0; BODY_ROOM]);
        token.set_digest(prefix, digest);
        token
    }

    /// Makes this the token of `digest` (see [`Self::of_digest`]), in place.
    #[inline]
    fn set_digest(&mut self, prefix: Prefix, digest: [u64; 2]) {
        // The digest's bytes as big-endian 32-bit words, computed in registers.
        let [first, second] = digest;
        let be = |word: u64| (word as u32).swap_bytes();
        let bits = [be(first), be(first >> 32), be(second), be(second >> 32)];
        self.prefix = prefix;
        write_base32(&mut self.body, bits);
    }

    #[inline]
    fn new(prefix: Prefix, body: &Body) -> Self {
        Self {
            prefix,
            body: *body,
        }
    }

    /// The prefix: ASCII.
    pub(crate) fn prefix(&self) -> &[u8; 3] {
        self.prefix
    }

    /// The base32 body: ASCII.
    pub(crate) fn body(&self) -> &[u8] {
        self.body.get(..TOKEN_BODY).unwrap_or_default()
    }

    /// The token's text.
    pub(crate) fn text(&self) -> [u8; 3 + TOKEN_BODY] {
        let mut text = [0u8; 3 + TOKEN_BODY];
        if let Some((head, tail)) = text.split_first_chunk_mut::<3>() {
            *head = *self.prefix;
            tail.copy_from_slice(self.body());
        }
        text
    }

    pub(crate) fn string(self) -> String {
        String::from_utf8_lossy(&self.text()).into_owned()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.string(), f)
    }
}

impl Serialize for Token {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.text();
        // Prefixes and base32 are ASCII.
        serializer.serialize_str(std::str::from_utf8(&text).unwrap_or_default())
    }
}

/// The base32 characters of a token: 128 bits in 5-bit groups.
pub(crate) const TOKEN_BODY: usize = 26;

/// Room for a token body: 32 bytes, zeros after the [`TOKEN_BODY`] characters, so a
/// body moves as two 16-byte words.
pub(crate) const BODY_ROOM: usize = 32;

/// A token body in its room.
pub(crate) type Body = [u8; BODY_ROOM];

impl Tokenizer {
    pub(crate) fn new(key: Option<&PseudonymKey>) -> Self {
        let hash = key.map_or_else(KeyedHash::plain, |key| KeyedHash::hmac(key.key.expose()));
        Self {
            hash,
            result_key: ResultIdKey::derive(&hash),
            cache: Some(TokenCache::new()),
        }
    }

    /// Turns the cache of recent tokens on or off.
    pub(crate) fn set_cache(&mut self, enabled: bool) {
        self.cache = enabled.then(TokenCache::new);
    }

    /// Whether tokens are cached.
    pub(crate) fn caches(&self) -> bool {
        self.cache.is_some()
    }

    /// `prefix` + the first 128 bits of HMAC-SHA256(key, parts joined by `|`),
    /// in lowercase unpadded base32 (26 characters). Without a key (only under the
    /// `full` profile, where the ids themselves are published) plain SHA-256.
    pub(crate) fn token(&self, prefix: Prefix, parts: &[&str]) -> String {
        self.session().inline_token(prefix, parts).string()
    }

    /// The token of an identifier: `system|value`, where the system is the
    /// assigning authority when the instrument sent one.
    pub(crate) fn identifier(&self, prefix: Prefix, id: &Identifier) -> String {
        self.session().inline_identifier(prefix, id).string()
    }

    /// Tokens for one mapping, with the cache locked once for all of them.
    pub(crate) fn session(&self) -> TokenSession<'_> {
        TokenSession {
            hash: &self.hash,
            result_key: &self.result_key,
            cache: self.cache.as_ref().and_then(TokenCache::lock),
        }
    }
}

/// The tokens of one mapping (see [`Tokenizer::session`]).
pub(crate) struct TokenSession<'t> {
    hash: &'t KeyedHash,
    result_key: &'t ResultIdKey,
    /// `None` when caching is off or another mapping holds the cache.
    cache: Option<MutexGuard<'t, Box<CacheSets>>>,
}

impl TokenSession<'_> {
    /// [`Tokenizer::token`] without the allocation.
    pub(crate) fn inline_token<P: AsRef<[u8]>>(&mut self, prefix: Prefix, parts: &[P]) -> Token {
        let mut input = JoinedInput::new();
        match input.join(parts) {
            Some(()) => self.joined_token(prefix, &input),
            // Too long to cache: hashed straight from the parts.
            None => Token::new(prefix, &base32_body(digest_bits(&self.hash.digest(parts)))),
        }
    }

    /// The token of an input already joined, from the cache when it is there.
    /// (Inlined into its callers, the result-id loop first: the lookup then stays
    /// in the loop's registers instead of a returned token being copied about.)
    #[inline(always)]
    pub(crate) fn joined_token(&mut self, prefix: Prefix, input: &JoinedInput) -> Token {
        let hash = self.hash;
        let compute = || base32_body(hash.token_bits(input));
        let body = match &mut self.cache {
            Some(cache) => cache.get_or_insert(input, compute),
            None => compute(),
        };
        Token::new(prefix, &body)
    }

    /// A result-id hash state, keyed, with nothing fed yet.
    pub(super) fn result_hasher(&self) -> SipHash128 {
        self.result_key.hasher()
    }

    /// [`Tokenizer::identifier`] without the allocation.
    pub(crate) fn inline_identifier(&mut self, prefix: Prefix, id: &Identifier) -> Token {
        let assigner = id.assigner.as_ref().map_or(&b""[..], Text::as_bytes);
        self.inline_token(prefix, &[assigner, id.value.as_bytes()])
    }
}

/// Result ids in order, the first [`TokenList::INLINE`] on the stack: a report's
/// result ids without an allocation. Each is kept as its token and its digest:
/// repeats are found by comparing digests (two words, in registers), and a token is
/// written where it stays, never copied right after being written (a copy loads
/// whole blocks that were just stored in pieces, and stalls).
pub(crate) struct TokenList {
    inline: [Token; TokenList::INLINE],
    digests: [[u64; 2]; TokenList::INLINE],
    len: usize,
    /// All of them, once there are more than fit inline.
    spilled: Vec<Token>,
    spilled_digests: Vec<[u64; 2]>,
}

impl TokenList {
    const INLINE: usize = 8;

    pub(crate) fn new() -> Self {
        Self {
            inline: [Token::new(prefix::RESULT, &[0; BODY_ROOM]); Self::INLINE],
            digests: [[0; 2]; Self::INLINE],
            len: 0,
            spilled: Vec::new(),
            spilled_digests: Vec::new(),
        }
    }

    /// Appends the token of `digest` (see [`Token::of_digest`]).
    pub(crate) fn push_digest(&mut self, prefix: Prefix, digest: [u64; 2]) {
        if self.spilled.is_empty()
            && let (Some(slot), Some(seen)) = (
                self.inline.get_mut(self.len),
                self.digests.get_mut(self.len),
            )
        {
            slot.set_digest(prefix, digest);
            *seen = digest;
            self.len += 1;
            return;
        }
        self.push_spilled(prefix, digest);
    }

    /// [`Self::push_digest`] past the inline ones: out of line, so the inline path
    /// calls nothing and saves no registers.
    #[cold]
    #[inline(never)]
    fn push_spilled(&mut self, prefix: Prefix, digest: [u64; 2]) {
        if self.spilled.is_empty() {
            self.spilled.extend_from_slice(&self.inline);
            self.spilled_digests.extend_from_slice(&self.digests);
        }
        self.spilled.push(Token::of_digest(prefix, digest));
        self.spilled_digests.push(digest);
    }

    /// Whether a token of `digest` is in the list.
    pub(crate) fn contains_digest(&self, digest: [u64; 2]) -> bool {
        let seen = if self.spilled.is_empty() {
            self.digests.get(..self.len).unwrap_or_default()
        } else {
            &self.spilled_digests
        };
        seen.contains(&digest)
    }

    pub(crate) fn as_slice(&self) -> &[Token] {
        if self.spilled.is_empty() {
            self.inline.get(..self.len).unwrap_or_default()
        } else {
            &self.spilled
        }
    }
}

/// RFC 4648 base32, lowercase, without padding, of the first 128 bits of a digest
/// (as big-endian words): 26 characters, zeros after them. Eight 5-bit groups at a
/// time are spread to the bytes of a word and turned into letters (`a`-`z` for 0 to
/// 25) and digits (`2`-`7` for 26 to 31) with word arithmetic.
fn base32_body(bits: [u32; 4]) -> Body {
    let mut body = [0u8; BODY_ROOM];
    write_base32(&mut body, bits);
    body
}

/// Writes [`base32_body`] into `body`, where it stays: a token's body is written
/// once, in place, as whole words.
#[inline(always)]
fn write_base32(body: &mut Body, bits: [u32; 4]) {
    let [a, b, c, d] = bits.map(u128::from);
    let bits = (a << 96) | (b << 64) | (c << 32) | d;
    // Eight 5-bit values, the first (most significant) to the first byte: the 40
    // bits are halved into the two 32-bit lanes of a word, each half halved into
    // 16-bit lanes, then into bytes, the more significant half to the lower lane
    // each time (three shift-and-mask steps instead of eight extractions).
    let spread = |group: u64| {
        let lanes = (group >> 20) | ((group & 0xf_ffff) << 32);
        let lanes =
            ((lanes >> 10) & 0x0000_03ff_0000_03ff) | ((lanes & 0x0000_03ff_0000_03ff) << 16);
        ((lanes >> 5) & 0x001f_001f_001f_001f) | ((lanes & 0x001f_001f_001f_001f) << 8)
    };
    // 0..=25 → b'a'.., 26..=31 → b'2'..: add `a`, and take 73 back from the bytes
    // of 26 and more (those that reach 128 when 102 is added). No byte carries.
    // (73 times a 0 or 1 byte as shifts: a multiplication vectorizes badly.)
    let ascii = |values: u64| {
        let high = ((values + 0x6666_6666_6666_6666) >> 7) & 0x0101_0101_0101_0101;
        values + 0x6161_6161_6161_6161 - ((high << 6) | (high << 3) | high)
    };
    let groups = [88u32, 48, 8].map(|shift| ((bits >> shift) as u64) & 0xff_ffff_ffff);
    // The last 8 bits: two characters, the second padded with 2 zero bits.
    let last = (bits as u64) & 0xff;
    let tail = ascii((last >> 3) | ((last & 7) << 10)) & 0xffff;
    let words = [
        ascii(spread(groups[0])),
        ascii(spread(groups[1])),
        ascii(spread(groups[2])),
        tail,
    ];
    for (chunk, word) in body.as_chunks_mut::<8>().0.iter_mut().zip(words) {
        *chunk = word.to_le_bytes();
    }
}

/// The first 128 bits of a digest as big-endian words.
fn digest_bits(digest: &[u8; 32]) -> [u32; 4] {
    let (words, _) = digest.as_chunks::<4>();
    let mut bits = [0u32; 4];
    for (bits, word) in bits.iter_mut().zip(words) {
        *bits = u32::from_be_bytes(*word);
    }
    bits
}

/// RFC 4648 base32, lowercase, without padding.
#[cfg(test)]
fn push_base32(out: &mut String, bytes: &[u8]) {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut buffer = 0u32;
    let mut bits = 0u32;
    let mut emit = |index: u32| {
        out.push(char::from(ALPHABET[(index & 31) as usize]));
    };
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            emit(buffer >> bits);
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        emit(buffer << (5 - bits));
    }
}

/// Applies a profile to the parts of an event that can identify a person.
pub(crate) struct Protector<'t> {
    tokens: &'t Tokenizer,
    /// `minimal` and `id-only` drop what `pseudonymized` tokenizes.
    minimal: bool,
}

impl<'t> Protector<'t> {
    /// `None` when the profile publishes everything.
    pub(crate) fn new(profile: PrivacyProfile, tokens: &'t Tokenizer) -> Option<Self> {
        (profile != PrivacyProfile::Full).then_some(Self {
            tokens,
            minimal: profile != PrivacyProfile::Pseudonymized,
        })
    }

    fn ids(&self, list: &mut Vec<Sensitive<Identifier>>, prefix: Prefix) {
        if self.minimal {
            list.clear();
        } else {
            for id in list.iter_mut() {
                *id = Sensitive::new(pseudonym(self.tokens, prefix, id.expose()));
            }
        }
    }

    /// A bare identifier text (container barcode, accession number, operator).
    fn text(&self, text: &mut Option<Sensitive<Text>>, prefix: Prefix) {
        *text = match (text.as_ref(), self.minimal) {
            (Some(value), false) => Some(Sensitive::new(
                self.tokens.token(prefix, &["", value.expose()]).into(),
            )),
            _ => None,
        };
    }

    pub(crate) fn patient(&self, patient: &mut Option<Patient>) {
        if self.minimal {
            *patient = None;
        } else if let Some(patient) = patient {
            self.ids(&mut patient.ids, prefix::PATIENT);
            patient.name = None;
            patient.birth_date = None;
        }
    }

    fn container(&self, container: &mut Option<Container>) {
        if let Some(container) = container {
            self.text(&mut container.id, prefix::SPECIMEN);
        }
    }

    pub(crate) fn specimen(&self, specimen: &mut Specimen) {
        self.ids(&mut specimen.ids, prefix::SPECIMEN);
        self.container(&mut specimen.container);
    }

    pub(crate) fn order(&self, order: &mut Order) {
        for id in [&mut order.placer_id, &mut order.filler_id] {
            *id = match (id.as_ref(), self.minimal) {
                (Some(found), false) => Some(Sensitive::new(pseudonym(
                    self.tokens,
                    prefix::ORDER,
                    found.expose(),
                ))),
                _ => None,
            };
        }
    }

    /// Whether [`Self::results`] would change anything, so callers can borrow instead.
    pub(crate) fn changes_results(&self, results: &[LabResult]) -> bool {
        results
            .iter()
            .any(|result| result.operator.is_some() || (self.minimal && !result.notes.is_empty()))
    }

    pub(crate) fn results(&self, results: &mut [LabResult]) {
        for result in results {
            self.text(&mut result.operator, prefix::OPERATOR);
            if self.minimal {
                result.notes.clear();
            }
        }
    }

    /// Free-text notes survive `pseudonymized` only.
    pub(crate) fn keeps_notes(&self) -> bool {
        !self.minimal
    }
}

/// The event as the profile lets it be published (before `id-only`, which
/// publishes tokens instead of a body). Borrowed when nothing changes.
pub(crate) fn protect<'e>(
    event: &'e LabEvent,
    profile: PrivacyProfile,
    tokens: &Tokenizer,
) -> Cow<'e, LabEvent> {
    let Some(protector) = Protector::new(profile, tokens) else {
        return Cow::Borrowed(event);
    };
    if !event.may_identify_a_person() {
        return Cow::Borrowed(event);
    }
    let mut event = event.clone();
    match &mut event {
        LabEvent::Results(report) => {
            protector.patient(&mut report.patient);
            if let Some(specimen) = &mut report.specimen {
                protector.specimen(specimen);
            }
            if let Some(order) = &mut report.order {
                protector.order(order);
            }
            protector.results(&mut report.results);
            if !protector.keeps_notes() {
                report.notes.clear();
            }
        }
        LabEvent::Qc(qc) => {
            if let Some(specimen) = &mut qc.specimen {
                protector.specimen(specimen);
            }
            for item in &mut qc.results {
                protector.results(std::slice::from_mut(&mut item.result));
            }
            if !protector.keeps_notes() {
                qc.notes.clear();
            }
        }
        LabEvent::Calibration(calibration) => {
            protector.results(&mut calibration.results);
            if !protector.keeps_notes() {
                calibration.notes.clear();
            }
        }
        LabEvent::ImagingStudy(study) => {
            protector.patient(&mut study.patient);
            protector.text(&mut study.accession, prefix::SPECIMEN);
            for specimen in &mut study.specimens {
                protector.specimen(specimen);
            }
        }
        LabEvent::WorkOrder(work) => {
            protector.patient(&mut work.patient);
            if let Some(specimen) = &mut work.specimen {
                protector.specimen(specimen);
            }
            protector.order(&mut work.order);
            if !protector.keeps_notes() {
                work.notes.clear();
            }
        }
        LabEvent::Query(SpecimenQuery {
            specimen_ids,
            container,
            ..
        }) => {
            protector.ids(specimen_ids, prefix::SPECIMEN);
            protector.container(container);
        }
        // A device log is free text an operator may have typed a sample id into, with
        // no field that says where, and devices name log files after runs and
        // samples: unlike notes, both go under `pseudonymized` too. The kind and
        // times stay, so consumers still see that a log arrived and what it covers.
        LabEvent::Log(EquipmentLog {
            file_name, text, ..
        }) => {
            *file_name = None;
            *text = None;
        }
        // Alarms carry no identifier fields; status, meta and inventory returned above.
        _ => {}
    }
    Cow::Owned(event)
}

/// An identifier replaced by its token; the type code stays, the value and
/// authority go.
fn pseudonym(tokens: &Tokenizer, prefix: Prefix, id: &Identifier) -> Identifier {
    Identifier {
        value: (tokens.identifier(prefix, id)).into(),
        kind: id.kind.clone(),
        assigner: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lists_keep_every_token_in_order_past_the_inline_ones() {
        let mut list = TokenList::new();
        let digests: Vec<[u64; 2]> = (0..3 * TokenList::INLINE as u64)
            .map(|n| [n.wrapping_mul(0x9e37_79b9_7f4a_7c15), !n])
            .collect();
        for (count, &digest) in digests.iter().enumerate() {
            assert!(!list.contains_digest(digest));
            list.push_digest(prefix::RESULT, digest);
            assert_eq!(list.as_slice().len(), count + 1);
            for (token, &digest) in list.as_slice().iter().zip(&digests) {
                assert!(*token == Token::of_digest(prefix::RESULT, digest));
                assert!(list.contains_digest(digest));
            }
        }
    }

    #[test]
    fn base32_matches_rfc_4648_test_vectors() {
        // RFC 4648 §10, lowercased and unpadded.
        for (input, expected) in [
            ("", ""),
            ("f", "my"),
            ("fo", "mzxq"),
            ("foo", "mzxw6"),
            ("foob", "mzxw6yq"),
            ("fooba", "mzxw6ytb"),
            ("foobar", "mzxw6ytboi"),
        ] {
            let mut out = String::new();
            push_base32(&mut out, input.as_bytes());
            assert_eq!(out, expected, "{input}");
        }
    }

    proptest::proptest! {
        #[test]
        fn token_bodies_are_base32_of_the_first_128_bits(digest in proptest::prelude::any::<[u8; 32]>()) {
            let mut expected = String::new();
            push_base32(&mut expected, &digest[..16]);
            let body = base32_body(digest_bits(&digest));
            proptest::prop_assert_eq!(std::str::from_utf8(&body[..TOKEN_BODY]).unwrap(), expected);
            proptest::prop_assert_eq!(&body[TOKEN_BODY..], &[0; BODY_ROOM - TOKEN_BODY][..]);
        }
    }

    #[test]
    fn tokens_are_keyed_hmac_sha256_truncated_to_128_bits() {
        // RFC 4231 test case 1: key 0x0b × 20, data "Hi There", HMAC-SHA256 starts
        // b0344c61d8db38535ca8afceaf0bf12b; that in base32 is the token's body.
        let key = PseudonymKey::new(&[0x0b; 20], "k1").unwrap();
        let tokens = Tokenizer::new(Some(&key));
        assert_eq!(
            tokens.token(b"pt_", &["Hi There"]),
            "pt_wa2eyyoy3m4fgxfiv7hk6c7rfm"
        );
        // Parts are joined with `|`, so ("Hi", "There") is a different input.
        assert_ne!(
            tokens.token(b"pt_", &["Hi", "There"]),
            "pt_wa2eyyoy3m4fgxfiv7hk6c7rfm"
        );
        let other_key = PseudonymKey::new(&[0x0c; 20], "k2").unwrap();
        assert_ne!(
            Tokenizer::new(Some(&other_key)).token(b"pt_", &["Hi There"]),
            "pt_wa2eyyoy3m4fgxfiv7hk6c7rfm"
        );
    }

    #[test]
    fn keys_must_be_long_and_named_plainly() {
        assert!(PseudonymKey::new(b"short", "k1").is_none());
        assert!(PseudonymKey::new(b"0123456789abcdef", "").is_none());
        assert!(PseudonymKey::new(b"0123456789abcdef", "k 1").is_none());
        let key = PseudonymKey::from_hex("000102030405060708090a0b0c0d0e0f", "k-2026").unwrap();
        assert_eq!(key.key_id(), "k-2026");
        assert!(!format!("{key:?}").contains("0a0b"));
        assert!(PseudonymKey::from_hex("0g0102030405060708090a0b0c0d0e0f", "k").is_none());
        assert!(PseudonymKey::from_hex("abc", "k").is_none());
    }
}
