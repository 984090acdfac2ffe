//! Result ids: one token per result, stable across re-sends and corrections of the
//! same result.
//!
//! A result id is `rs_` and the base32 of SipHash-2-4-128 (see [`super::siphash`])
//! over the site, the instrument slug, the specimen's first id (assigning
//! authority and value), the placer order id (the same), the test's system and
//! code, its sub-id and whether it is a rerun, joined by `|`. Results identical in
//! all of these get an occurrence number (2, 3, …) as one more part.
//!
//! The SipHash key is the first 16 bytes of HMAC-SHA256(pseudonym key,
//! [`RESULT_ID_DOMAIN`]), so ids are as secret as identifier tokens; without a key
//! it is the first 16 bytes of SHA-256 of the same text, and ids are then as
//! public as the identifiers. Identifier tokens stay HMAC-SHA256 (one per
//! identifier, and what consumers join on); a result id is a PRF of a long shared
//! prefix and a short tail, which SipHash computes from one state cloned per result
//! at a fraction of an HMAC's two SHA-256 compressions.

use super::keyed_hash::KeyedHash;
use super::privacy::{TokenList, TokenSession, prefix};
use super::siphash::SipHash128;
use crate::coding::SystemUri;
use crate::{Identifier, LabResult, ResultReport, Sensitive, Text};

/// What the key of result ids is derived for: changing it changes every id.
pub(super) const RESULT_ID_DOMAIN: &str = "labwire result id 1";

/// The SipHash key of result ids.
#[derive(Clone, Copy)]
pub(crate) struct ResultIdKey([u8; 16]);

impl ResultIdKey {
    /// The key under `keyed` (HMAC-SHA256 under the pseudonym key, or plain
    /// SHA-256 without one).
    pub(super) fn derive(keyed: &KeyedHash) -> Self {
        let digest = keyed.digest(&[RESULT_ID_DOMAIN]);
        let mut key = [0u8; 16];
        if let Some((head, _)) = digest.split_first_chunk::<16>() {
            key = *head;
        }
        Self(key)
    }

    /// A keyed state with nothing fed yet.
    pub(super) fn hasher(&self) -> SipHash128 {
        SipHash128::new(&self.0)
    }
}

/// Appends the ids of `report`'s results on the route `slug` of `site` to `ids`, in
/// the order of the results.
pub(super) fn result_ids(
    report: &ResultReport,
    site: &str,
    slug: &str,
    tokens: &mut TokenSession<'_>,
    ids: &mut TokenList,
) {
    let specimen = report
        .specimen
        .as_ref()
        .and_then(|specimen| specimen.ids.first())
        .map(Sensitive::expose);
    let order = report
        .order
        .as_ref()
        .and_then(|order| order.placer_id.as_ref())
        .map(Sensitive::expose);
    let (specimen_system, specimen_value) = id_parts(specimen);
    let (order_system, order_value) = id_parts(order);
    let shared: [&[u8]; 6] = [
        site.as_bytes(),
        slug.as_bytes(),
        specimen_system,
        specimen_value,
        order_system,
        order_value,
    ];
    // The shared parts are hashed once; each result continues from a copy.
    let mut shared_state = tokens.result_hasher();
    let mut parts = shared.iter();
    if let Some(first) = parts.next() {
        shared_state.write(first);
    }
    for part in parts {
        shared_state.write(b"|");
        shared_state.write(part);
    }
    for result in &report.results {
        let mut own = shared_state;
        own_parts(&mut own, result);
        let mut digest = own.finish();
        let mut occurrence = 1u32;
        // Equal digests are equal ids.
        while ids.contains_digest(digest) {
            occurrence = occurrence.saturating_add(1);
            let mut numbered = own;
            numbered.write(b"|");
            // Rare (identical results in one report): a `String` is fine here.
            numbered.write(occurrence.to_string().as_bytes());
            digest = numbered.finish();
        }
        ids.push_digest(prefix::RESULT, digest);
    }
}

/// Feeds a result's own parts: the test's system and code, the sub-id and `rerun`
/// (or nothing), each after a `|`.
#[inline(always)]
fn own_parts(state: &mut SipHash128, result: &LabResult) {
    let system = SystemUri::of(&result.test.system);
    state.write(b"|");
    state.write(system.head().as_bytes());
    state.write(system.tail());
    state.write(b"|");
    state.write(result.test.code.as_bytes());
    state.write(b"|");
    state.write(result.sub_id.as_ref().map_or(&b""[..], Text::as_bytes));
    state.write(if result.rerun { b"|rerun" } else { b"|" });
}

/// The system (assigning authority) and value of an identifier, empty when absent.
fn id_parts(id: Option<&Identifier>) -> (&[u8], &[u8]) {
    id.map_or((b"", b""), |id| {
        (
            id.assigner.as_ref().map_or(&b""[..], Text::as_bytes),
            id.value.as_bytes(),
        )
    })
}
