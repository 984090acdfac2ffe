//! The payload envelope and its encoders.

use std::borrow::Cow;

use serde::{Serialize, Serializer};

use super::config::{MappingConfig, PayloadFormat};
use super::context::{MapContext, MsgId};
use super::privacy::{PrivacyProfile, Protector, Tokenizer, prefix, protect};
use super::topic::Slug;
use super::{MapError, schema_name};
use crate::{
    Identifier, Instrument, LabEvent, LabResult, LabTimestamp, Order, Patient, Provenance,
    ResultReport, Sensitive, SourceProtocol, Specimen,
};

/// The envelope, borrowing everything it can from the event.
#[derive(Serialize)]
struct Envelope<'a> {
    schema: &'static str,
    msg_id: MsgId,
    sent_at: LabTimestamp,
    source: Source<'a>,
    instrument: Route<'a>,
    privacy: PrivacyProfile,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_kid: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    result_ids: Vec<String>,
    body: Body<'a>,
}

#[derive(Serialize)]
struct Source<'a> {
    protocol: &'a SourceProtocol,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sender: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    received_at: Option<LabTimestamp>,
    gateway: &'a Slug,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
}

#[derive(Serialize)]
struct Route<'a> {
    id: &'a Slug,
    site: &'a Slug,
    area: &'a Slug,
}

enum Body<'a> {
    /// The event's own structure (without the `type` tag: `schema` says it).
    Event(&'a LabEvent),
    /// A results report under a protecting profile, borrowing what it does not change.
    Report(Box<ReportBody<'a>>),
    /// `id-only`: the tokens of the people, specimens and orders involved.
    Ids(IdTokens),
}

/// [`ResultReport`]'s JSON shape (same fields, order and omissions: a test compares
/// the two), with the identifying parts owned and protected and the rest borrowed, so
/// the default profile does not clone every result.
#[derive(Serialize)]
struct ReportBody<'a> {
    instrument: &'a Instrument,
    #[serde(skip_serializing_if = "Option::is_none")]
    patient: Option<Patient>,
    #[serde(skip_serializing_if = "Option::is_none")]
    specimen: Option<Specimen>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order: Option<Order>,
    #[serde(skip_serializing_if = "<[LabResult]>::is_empty")]
    results: Cow<'a, [LabResult]>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
    provenance: &'a Provenance,
}

impl<'a> ReportBody<'a> {
    fn new(report: &'a ResultReport, protector: &Protector<'_>) -> Self {
        let mut patient = report.patient.clone();
        protector.patient(&mut patient);
        let mut specimen = report.specimen.clone();
        if let Some(specimen) = &mut specimen {
            protector.specimen(specimen);
        }
        let mut order = report.order.clone();
        if let Some(order) = &mut order {
            protector.order(order);
        }
        let results = if protector.changes_results(&report.results) {
            let mut results = report.results.clone();
            protector.results(&mut results);
            Cow::Owned(results)
        } else {
            Cow::Borrowed(report.results.as_slice())
        };
        Self {
            instrument: &report.instrument,
            patient,
            specimen,
            order,
            results,
            notes: if protector.keeps_notes() {
                &report.notes
            } else {
                &[]
            },
            provenance: &report.provenance,
        }
    }
}

#[derive(Serialize, Default)]
struct IdTokens {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    patient: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    specimen: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    order: Vec<String>,
}

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Body::Ids(ids) => ids.serialize(serializer),
            Body::Report(report) => report.serialize(serializer),
            Body::Event(event) => match event {
                LabEvent::Results(inner) => inner.serialize(serializer),
                LabEvent::Qc(inner) => inner.serialize(serializer),
                LabEvent::Calibration(inner) => inner.serialize(serializer),
                LabEvent::Status(inner) => inner.serialize(serializer),
                LabEvent::Alarm(inner) => inner.serialize(serializer),
                LabEvent::InstrumentMeta(inner) => inner.serialize(serializer),
                LabEvent::ImagingStudy(inner) => inner.serialize(serializer),
                LabEvent::WorkOrder(inner) => inner.serialize(serializer),
                LabEvent::Query(inner) => inner.serialize(serializer),
                LabEvent::Inventory(inner) => inner.serialize(serializer),
            },
        }
    }
}

/// Encodes the envelope of `event`, or `None` when nothing of it is published.
pub(super) fn encode(
    event: &LabEvent,
    config: &MappingConfig,
    context: &MapContext<'_>,
    slug: &Slug,
    area: &Slug,
    msg_id: MsgId,
) -> Result<Option<Vec<u8>>, MapError> {
    let Some(event) = published_results(event, config) else {
        return Ok(None);
    };
    let tokens = config.tokens();
    let result_ids = match &*event {
        LabEvent::Results(report) => result_ids(report, config, slug, tokens),
        _ => Vec::new(),
    };
    let profile = config.privacy();
    let protected;
    let protector = Protector::new(profile, tokens);
    let body = if profile == PrivacyProfile::IdOnly && event.may_identify_a_person() {
        Body::Ids(id_tokens(&event, tokens))
    } else if let (LabEvent::Results(report), Some(protector)) = (&*event, &protector) {
        Body::Report(Box::new(ReportBody::new(report, protector)))
    } else {
        protected = protect(&event, profile, tokens);
        Body::Event(&protected)
    };
    let provenance = event.provenance();
    let envelope = Envelope {
        schema: schema_name(event.kind()),
        msg_id,
        sent_at: context.now,
        source: Source {
            protocol: &provenance.protocol,
            version: provenance.version.as_deref(),
            message_id: provenance.message_id.as_deref(),
            sender: provenance.sender.as_deref(),
            received_at: provenance.received_at,
            gateway: config.gateway(),
            warnings: &provenance.warnings,
        },
        instrument: Route {
            id: slug,
            site: config.site(),
            area,
        },
        privacy: profile,
        token_kid: config.key().map(|key| key.key_id()),
        result_ids,
        body,
    };
    // Most envelopes fit, so the payload is written without a reallocation.
    let mut payload = Vec::with_capacity(4096);
    let encoded = match config.format() {
        PayloadFormat::Json => {
            serde_json::to_writer(&mut payload, &envelope).map_err(|error| error.to_string())
        }
        PayloadFormat::Cbor => {
            ciborium::into_writer(&envelope, &mut payload).map_err(|error| error.to_string())
        }
    };
    encoded.map_err(|reason| MapError::Encode {
        format: config.format(),
        reason,
    })?;
    Ok(Some(payload))
}

/// The results event without its preliminary results unless the configuration
/// publishes them; `None` when that leaves a report that had results with none.
fn published_results<'e>(event: &'e LabEvent, config: &MappingConfig) -> Option<Cow<'e, LabEvent>> {
    let LabEvent::Results(report) = event else {
        return Some(Cow::Borrowed(event));
    };
    let preliminary = |result: &LabResult| result.status.is_preliminary();
    if config.publishes_preliminary_results() || !report.results.iter().any(preliminary) {
        return Some(Cow::Borrowed(event));
    }
    if report.results.iter().all(preliminary) {
        return None;
    }
    let mut report = report.clone();
    report.results.retain(|result| !preliminary(result));
    Some(Cow::Owned(LabEvent::Results(report)))
}

/// One id per result, stable across re-sends and corrections of the same result:
/// a token over the site, the instrument slug, the specimen's first id, the placer
/// order id, the test, its sub-id and whether it is a rerun. Results identical in
/// all of these get an occurrence number.
fn result_ids(
    report: &ResultReport,
    config: &MappingConfig,
    slug: &Slug,
    tokens: &Tokenizer,
) -> Vec<String> {
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
    let mut ids: Vec<String> = Vec::with_capacity(report.results.len());
    for result in &report.results {
        let system = result.test.system.uri();
        let parts = [
            config.site().as_str(),
            slug.as_str(),
            specimen_system,
            specimen_value,
            order_system,
            order_value,
            &system,
            &result.test.code,
            result.sub_id.as_deref().unwrap_or(""),
            if result.rerun { "rerun" } else { "" },
        ];
        let mut id = tokens.token(prefix::RESULT, &parts);
        let mut occurrence = 1usize;
        while ids.contains(&id) {
            occurrence += 1;
            let number = occurrence.to_string();
            let numbered: Vec<&str> = parts.iter().copied().chain([number.as_str()]).collect();
            id = tokens.token(prefix::RESULT, &numbered);
        }
        ids.push(id);
    }
    ids
}

/// The system (assigning authority) and value of an identifier, empty when absent.
fn id_parts(id: Option<&Identifier>) -> (&str, &str) {
    id.map_or(("", ""), |id| {
        (id.assigner.as_deref().unwrap_or(""), id.value.as_str())
    })
}

/// The tokens `id-only` publishes.
fn id_tokens(event: &LabEvent, tokens: &Tokenizer) -> IdTokens {
    let mut out = TokenCollector {
        tokens,
        ids: IdTokens::default(),
    };
    match event {
        LabEvent::Results(report) => {
            out.patient(report.patient.as_ref());
            out.specimen(report.specimen.as_ref());
            out.order(report.order.as_ref());
        }
        LabEvent::Qc(qc) => out.specimen(qc.specimen.as_ref()),
        LabEvent::ImagingStudy(study) => {
            out.patient(study.patient.as_ref());
            if let Some(accession) = &study.accession {
                out.specimen_text(accession.expose());
            }
            for item in &study.specimens {
                out.specimen(Some(item));
            }
        }
        LabEvent::WorkOrder(work) => {
            out.patient(work.patient.as_ref());
            out.specimen(work.specimen.as_ref());
            out.order(Some(&work.order));
        }
        LabEvent::Query(query) => {
            for id in &query.specimen_ids {
                push_token(&mut out.ids.specimen, tokens, prefix::SPECIMEN, id.expose());
            }
            if let Some(container) = &query.container {
                out.container(container);
            }
        }
        LabEvent::Calibration(_)
        | LabEvent::Status(_)
        | LabEvent::Alarm(_)
        | LabEvent::InstrumentMeta(_)
        | LabEvent::Inventory(_) => {}
    }
    out.ids
}

struct TokenCollector<'t> {
    tokens: &'t Tokenizer,
    ids: IdTokens,
}

impl TokenCollector<'_> {
    fn patient(&mut self, patient: Option<&Patient>) {
        for id in patient.iter().flat_map(|patient| &patient.ids) {
            push_token(
                &mut self.ids.patient,
                self.tokens,
                prefix::PATIENT,
                id.expose(),
            );
        }
    }

    fn specimen(&mut self, specimen: Option<&Specimen>) {
        let Some(specimen) = specimen else { return };
        for id in &specimen.ids {
            push_token(
                &mut self.ids.specimen,
                self.tokens,
                prefix::SPECIMEN,
                id.expose(),
            );
        }
        if let Some(container) = &specimen.container {
            self.container(container);
        }
    }

    fn container(&mut self, container: &crate::Container) {
        if let Some(id) = &container.id {
            self.specimen_text(id.expose());
        }
    }

    /// A container barcode or accession number: a specimen id without a system.
    fn specimen_text(&mut self, id: &str) {
        push_token(
            &mut self.ids.specimen,
            self.tokens,
            prefix::SPECIMEN,
            &Identifier::new(id),
        );
    }

    fn order(&mut self, order: Option<&Order>) {
        let ids = order
            .iter()
            .flat_map(|order| [&order.placer_id, &order.filler_id]);
        for id in ids.flatten() {
            push_token(&mut self.ids.order, self.tokens, prefix::ORDER, id.expose());
        }
    }
}

fn push_token(list: &mut Vec<String>, tokens: &Tokenizer, prefix: &str, id: &Identifier) {
    let token = tokens.identifier(prefix, id);
    if !list.contains(&token) {
        list.push(token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::PseudonymKey;
    use arbitrary::{Arbitrary, Unstructured};
    use proptest::prelude::*;

    proptest! {
        /// The borrowed report body writes exactly what the protected clone of the
        /// whole event writes, under every protecting profile: if `ResultReport` gains
        /// a field, this fails until `ReportBody` has it too.
        #[test]
        fn report_body_matches_the_protected_report(
            bytes in proptest::collection::vec(any::<u8>(), 0..4000),
        ) {
            let Ok(report) = ResultReport::arbitrary(&mut Unstructured::new(&bytes)) else {
                return Ok(());
            };
            let key = PseudonymKey::new(&[3; 16], "k").unwrap();
            let tokens = Tokenizer::new(Some(&key));
            let event = LabEvent::Results(report.clone());
            for profile in [PrivacyProfile::Pseudonymized, PrivacyProfile::Minimal] {
                let protector = Protector::new(profile, &tokens).unwrap();
                let borrowed = serde_json::to_string(&ReportBody::new(&report, &protector)).unwrap();
                let LabEvent::Results(cloned) = protect(&event, profile, &tokens).into_owned() else {
                    unreachable!()
                };
                prop_assert_eq!(borrowed, serde_json::to_string(&cloned).unwrap());
            }
        }
    }
}
