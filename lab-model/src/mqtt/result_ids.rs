//! Result ids: one token per result, stable across re-sends and corrections of the
//! same result.
//!
//! A result id is the `rs_` token over the site, the instrument slug, the
//! specimen's first id (assigning authority and value), the placer order id (the
//! same), the test's system and code, its sub-id and whether it is a rerun, joined
//! by `|`. Results identical in all of these get an occurrence number (2, 3, …) as
//! one more part.
//!

use super::privacy::{JoinedInput, Token, TokenList, TokenSession, prefix};
use crate::coding::SystemUri;
use crate::{Identifier, LabResult, ResultReport, Sensitive};

/// Appends the ids of `report`'s results on the route `slug` of `site` to `ids`, in
/// the order of the results. (One function, with the input buffer a local: the
/// compiler keeps the whole loop, cache lookups included, in registers.)
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
    let shared = [
        site,
        slug,
        specimen_system,
        specimen_value,
        order_system,
        order_value,
    ];
    // The shared parts are joined once; each result's own parts replace the
    // previous result's after them.
    let mut joined = JoinedInput::new();
    let shared_len = joined.join(&shared).map(|()| joined.len());
    for result in &report.results {
        let input = shared_len.and_then(|shared_len| {
            joined.truncate(shared_len);
            own_parts(&mut joined, result).map(|()| &joined)
        });
        let mut id = match input {
            Some(input) => tokens.joined_token(prefix::RESULT, input),
            None => from_parts(&shared, result, None, tokens),
        };
        let mut occurrence = 1usize;
        while ids.as_slice().contains(&id) {
            occurrence += 1;
            id = from_parts(&shared, result, Some(occurrence), tokens);
        }
        ids.push(id);
    }
}

/// A result id from its parts, with the occurrence number of a result identical to
/// earlier ones.
fn from_parts(
    shared: &[&str; 6],
    result: &LabResult,
    occurrence: Option<usize>,
    tokens: &mut TokenSession<'_>,
) -> Token {
    let system = result.test.system.uri();
    let number = occurrence.map(|occurrence| occurrence.to_string());
    let [
        site,
        slug,
        specimen_system,
        specimen_value,
        order_system,
        order_value,
    ] = *shared;
    let parts = [
        site,
        slug,
        specimen_system,
        specimen_value,
        order_system,
        order_value,
        system.as_ref(),
        result.test.code.as_str(),
        result.sub_id.as_deref().unwrap_or(""),
        if result.rerun { "rerun" } else { "" },
        number.as_deref().unwrap_or(""),
    ];
    let used = if number.is_some() { 11 } else { 10 };
    tokens.inline_token(prefix::RESULT, parts.get(..used).unwrap_or(&parts))
}

/// Appends a result's own parts to its input: the test's system and code, the
/// sub-id and `rerun` (or nothing), each after a `|`.
fn own_parts(input: &mut JoinedInput, result: &LabResult) -> Option<()> {
    let system = SystemUri::of(&result.test.system);
    input.push_separated(system.head().as_bytes())?;
    input.push(system.tail())?;
    input.push_separated(result.test.code.as_bytes())?;
    input.push_separated(result.sub_id.as_deref().unwrap_or("").as_bytes())?;
    input.push_separated(if result.rerun { b"rerun" } else { b"" })
}

/// The system (assigning authority) and value of an identifier, empty when absent.
fn id_parts(id: Option<&Identifier>) -> (&str, &str) {
    id.map_or(("", ""), |id| {
        (id.assigner.as_deref().unwrap_or(""), id.value.as_str())
    })
}
