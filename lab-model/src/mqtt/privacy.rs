//! Privacy profiles: what of a patient, specimen or order leaves the site.

use std::borrow::Cow;
use std::fmt;
use std::sync::MutexGuard;

use serde::{Deserialize, Serialize};

use self::prefix::Prefix;
use super::keyed_hash::{CacheSets, KeyedHash, MAX_CACHED_INPUT, TokenCache};
use crate::{
    Container, Identifier, LabEvent, LabResult, Order, Patient, Sensitive, Specimen, SpecimenQuery,
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
    cache: Option<TokenCache>,
}

impl Clone for Tokenizer {
    /// A clone starts with an empty cache.
    fn clone(&self) -> Self {
        Self {
            hash: self.hash,
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

/// A token: a 3-character prefix and 26 base32 characters, inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token([u8; 3 + TOKEN_BODY]);

impl Token {
    fn new(prefix: Prefix, body: &[u8; TOKEN_BODY]) -> Self {
        let mut bytes = [0u8; 3 + TOKEN_BODY];
        if let Some((head, tail)) = bytes.split_first_chunk_mut::<3>() {
            *head = *prefix;
            if let Ok(tail) = <&mut [u8; TOKEN_BODY]>::try_from(tail) {
                *tail = *body;
            }
        }
        Self(bytes)
    }

    /// The token's bytes: ASCII.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for Token {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The base32 characters of a token: 128 bits in 5-bit groups.
pub(crate) const TOKEN_BODY: usize = 26;

/// A token's input: its parts joined by `|`, as the MAC reads them, on the stack.
/// Longer inputs than [`MAX_CACHED_INPUT`] are not joined (`None`).
#[derive(Clone)]
pub(crate) struct JoinedInput {
    bytes: [u8; MAX_CACHED_INPUT],
    len: usize,
}

impl JoinedInput {
    pub(crate) fn new() -> Self {
        Self {
            bytes: [0; MAX_CACHED_INPUT],
            len: 0,
        }
    }

    /// Joins `parts`, or `None` when they do not fit.
    pub(crate) fn of(parts: &[&str]) -> Option<Self> {
        let mut input = Self::new();
        for (index, part) in parts.iter().enumerate() {
            if index > 0 {
                input.push(b"|")?;
            }
            input.push(part.as_bytes())?;
        }
        Some(input)
    }

    /// Appends bytes, or `None` when they do not fit.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Option<()> {
        let end = self.len.checked_add(bytes.len())?;
        copy_short(self.bytes.get_mut(self.len..end)?, bytes);
        self.len = end;
        Some(())
    }

    /// Its length, to [`Self::truncate`] back to.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Drops what was pushed after `len`.
    pub(crate) fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

/// `to.copy_from_slice(from)` for slices of equal length, without a `memcpy` call
/// for the short parts of a token input: up to 16 bytes move as two overlapping
/// fixed-size words.
fn copy_short(to: &mut [u8], from: &[u8]) {
    fn words<const N: usize>(to: &mut [u8], from: &[u8]) -> bool {
        match (
            from.first_chunk::<N>(),
            from.last_chunk::<N>(),
            to.len() == from.len(),
        ) {
            (Some(first), Some(last), true) => {
                if let Some(head) = to.first_chunk_mut::<N>() {
                    *head = *first;
                }
                if let Some(tail) = to.last_chunk_mut::<N>() {
                    *tail = *last;
                }
                true
            }
            _ => false,
        }
    }
    let done = match from.len() {
        0..4 => {
            for (to, from) in to.iter_mut().zip(from) {
                *to = *from;
            }
            to.len() == from.len()
        }
        4..8 => words::<4>(to, from),
        8..=16 => words::<8>(to, from),
        _ => false,
    };
    if !done && to.len() == from.len() {
        to.copy_from_slice(from);
    }
}

impl Tokenizer {
    pub(crate) fn new(key: Option<&PseudonymKey>) -> Self {
        Self {
            hash: key.map_or_else(KeyedHash::plain, |key| KeyedHash::hmac(key.key.expose())),
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
        self.session()
            .inline_token(prefix, parts)
            .as_str()
            .to_owned()
    }

    /// The token of an identifier: `system|value`, where the system is the
    /// assigning authority when the instrument sent one.
    pub(crate) fn identifier(&self, prefix: Prefix, id: &Identifier) -> String {
        self.session()
            .inline_identifier(prefix, id)
            .as_str()
            .to_owned()
    }

    /// Tokens for one mapping, with the cache locked once for all of them.
    pub(crate) fn session(&self) -> TokenSession<'_> {
        TokenSession {
            hash: &self.hash,
            cache: self.cache.as_ref().and_then(TokenCache::lock),
        }
    }
}

/// The tokens of one mapping (see [`Tokenizer::session`]).
pub(crate) struct TokenSession<'t> {
    hash: &'t KeyedHash,
    /// `None` when caching is off or another mapping holds the cache.
    cache: Option<MutexGuard<'t, Box<CacheSets>>>,
}

impl TokenSession<'_> {
    /// [`Tokenizer::token`] without the allocation.
    pub(crate) fn inline_token(&mut self, prefix: Prefix, parts: &[&str]) -> Token {
        match JoinedInput::of(parts) {
            Some(input) => self.joined_token(prefix, &input),
            // Too long to cache: hashed straight from the parts.
            None => Token::new(prefix, &base32_body(&self.hash.digest(parts))),
        }
    }

    /// The token of an input already joined, from the cache when it is there.
    pub(crate) fn joined_token(&mut self, prefix: Prefix, input: &JoinedInput) -> Token {
        let input = input.as_bytes();
        let hash = self.hash;
        let compute = || base32_body(&hash.digest_bytes(input));
        let body = match &mut self.cache {
            Some(cache) => cache.get_or_insert(input, compute),
            None => compute(),
        };
        Token::new(prefix, &body)
    }

    /// [`Tokenizer::identifier`] without the allocation.
    pub(crate) fn inline_identifier(&mut self, prefix: Prefix, id: &Identifier) -> Token {
        self.inline_token(prefix, &[id.assigner.as_deref().unwrap_or(""), &id.value])
    }
}

/// RFC 4648 base32, lowercase, without padding, of the first 128 bits of a digest:
/// three groups of 5 bytes (8 characters each), then the last byte (2 characters).
fn base32_body(digest: &[u8; 32]) -> [u8; TOKEN_BODY] {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let symbol = |bits: u64| {
        ALPHABET
            .get(usize::try_from(bits & 31).unwrap_or(0))
            .copied()
            .unwrap_or(b'a')
    };
    let mut body = [0u8; TOKEN_BODY];
    let (groups, _) = digest.as_chunks::<5>();
    let (out_groups, out_rest) = body.as_chunks_mut::<8>();
    for (group, out) in groups.iter().zip(out_groups.iter_mut()) {
        let mut word = [0u8; 8];
        if let Some(low) = word.get_mut(3..) {
            low.copy_from_slice(group);
        }
        let bits = u64::from_be_bytes(word);
        for (index, slot) in out.iter_mut().enumerate() {
            *slot = symbol(bits >> (35 - 5 * index));
        }
    }
    // The 16th byte: 8 bits as two symbols, the second padded with 2 zero bits.
    let last = u64::from(digest.get(15).copied().unwrap_or(0));
    if let [first, second] = out_rest {
        *first = symbol(last >> 3);
        *second = symbol(last << 2);
    }
    body
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
    fn text(&self, text: &mut Option<Sensitive<String>>, prefix: Prefix) {
        *text = match (text.as_ref(), self.minimal) {
            (Some(value), false) => Some(Sensitive::new(
                self.tokens.token(prefix, &["", value.expose()]),
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
        // Alarms carry no identifier fields; status, meta and inventory returned above.
        _ => {}
    }
    Cow::Owned(event)
}

/// An identifier replaced by its token; the type code stays, the value and
/// authority go.
fn pseudonym(tokens: &Tokenizer, prefix: Prefix, id: &Identifier) -> Identifier {
    Identifier {
        value: tokens.identifier(prefix, id),
        kind: id.kind.clone(),
        assigner: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn short_copies_copy_every_length() {
        let from: Vec<u8> = (1..=40).collect();
        for len in 0..=40 {
            let mut to = vec![0u8; len];
            copy_short(&mut to, &from[..len]);
            assert_eq!(to, &from[..len], "{len}");
        }
        let mut input = JoinedInput::of(&["a", "bcdefghijk"]).unwrap();
        let len = input.len();
        input.push(b"|tail").unwrap();
        input.truncate(len);
        assert_eq!(input.as_bytes(), b"a|bcdefghijk");
        assert!(JoinedInput::of(&["x"; MAX_CACHED_INPUT]).is_none());
    }

    proptest::proptest! {
        #[test]
        fn token_bodies_are_base32_of_the_first_128_bits(digest in proptest::prelude::any::<[u8; 32]>()) {
            let mut expected = String::new();
            push_base32(&mut expected, &digest[..16]);
            let body = base32_body(&digest);
            proptest::prop_assert_eq!(std::str::from_utf8(&body).unwrap(), expected);
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
