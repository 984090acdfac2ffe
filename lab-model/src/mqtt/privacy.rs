//! Privacy profiles: what of a patient, specimen or order leaves the site.

use std::borrow::Cow;
use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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

/// Makes tokens. Holds the HMAC state after the key schedule, so a token costs two
/// SHA-256 compressions rather than four.
#[derive(Clone)]
pub(crate) struct Tokenizer {
    keyed: Option<Hmac<Sha256>>,
}

impl fmt::Debug for Tokenizer {
    /// The keyed state is as secret as the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tokenizer(<redacted>)")
    }
}

/// Token prefixes: what an opaque token stands for.
pub(crate) mod prefix {
    pub(crate) const PATIENT: &str = "pt_";
    pub(crate) const SPECIMEN: &str = "sp_";
    pub(crate) const ORDER: &str = "or_";
    pub(crate) const OPERATOR: &str = "op_";
    pub(crate) const RESULT: &str = "rs_";
}

impl Tokenizer {
    pub(crate) fn new(key: Option<&PseudonymKey>) -> Self {
        let keyed = key.and_then(|key| Hmac::<Sha256>::new_from_slice(key.key.expose()).ok());
        Self { keyed }
    }

    /// `prefix` + the first 128 bits of HMAC-SHA256(key, parts joined by `|`),
    /// in lowercase unpadded base32 (26 characters). Without a key (only under the
    /// `full` profile, where the ids themselves are published) plain SHA-256.
    pub(crate) fn token(&self, prefix: &str, parts: &[&str]) -> String {
        let digest: [u8; 32] = match &self.keyed {
            Some(keyed) => {
                let mut mac = keyed.clone();
                for (index, part) in parts.iter().enumerate() {
                    if index > 0 {
                        mac.update(b"|");
                    }
                    mac.update(part.as_bytes());
                }
                mac.finalize().into_bytes().into()
            }
            None => {
                let mut hash = Sha256::new();
                for (index, part) in parts.iter().enumerate() {
                    if index > 0 {
                        hash.update(b"|");
                    }
                    hash.update(part.as_bytes());
                }
                hash.finalize().into()
            }
        };
        let mut token = String::with_capacity(prefix.len() + 26);
        token.push_str(prefix);
        let mut truncated = [0u8; 16];
        truncated.copy_from_slice(digest.get(..16).unwrap_or(&[0; 16]));
        push_base32(&mut token, &truncated);
        token
    }

    /// The token of an identifier: `system|value`, where the system is the
    /// assigning authority when the instrument sent one.
    pub(crate) fn identifier(&self, prefix: &str, id: &Identifier) -> String {
        self.token(prefix, &[id.assigner.as_deref().unwrap_or(""), &id.value])
    }
}

/// RFC 4648 base32, lowercase, without padding.
fn push_base32(out: &mut String, bytes: &[u8]) {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut buffer = 0u32;
    let mut bits = 0u32;
    let mut emit = |index: u32| {
        let symbol = ALPHABET
            .get(usize::try_from(index & 31).unwrap_or(0))
            .copied()
            .unwrap_or(b'a');
        out.push(char::from(symbol));
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

    fn ids(&self, list: &mut Vec<Sensitive<Identifier>>, prefix: &str) {
        if self.minimal {
            list.clear();
        } else {
            for id in list.iter_mut() {
                *id = Sensitive::new(pseudonym(self.tokens, prefix, id.expose()));
            }
        }
    }

    /// A bare identifier text (container barcode, accession number, operator).
    fn text(&self, text: &mut Option<Sensitive<String>>, prefix: &str) {
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
fn pseudonym(tokens: &Tokenizer, prefix: &str, id: &Identifier) -> Identifier {
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
    fn tokens_are_keyed_hmac_sha256_truncated_to_128_bits() {
        // RFC 4231 test case 1: key 0x0b × 20, data "Hi There", HMAC-SHA256 starts
        // b0344c61d8db38535ca8afceaf0bf12b; that in base32 is the token's body.
        let key = PseudonymKey::new(&[0x0b; 20], "k1").unwrap();
        let tokens = Tokenizer::new(Some(&key));
        assert_eq!(
            tokens.token("pt_", &["Hi There"]),
            "pt_wa2eyyoy3m4fgxfiv7hk6c7rfm"
        );
        // Parts are joined with `|`, so ("Hi", "There") is a different input.
        assert_ne!(
            tokens.token("pt_", &["Hi", "There"]),
            "pt_wa2eyyoy3m4fgxfiv7hk6c7rfm"
        );
        let other_key = PseudonymKey::new(&[0x0c; 20], "k2").unwrap();
        assert_ne!(
            Tokenizer::new(Some(&other_key)).token("pt_", &["Hi There"]),
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
