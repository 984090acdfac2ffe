//! The results envelope written by hand: the hot path of the mapping.
//!
//! A results event is what a gateway maps most, and its payload is mostly keys and
//! short values. This walks the envelope and the report once, writing through a
//! [`Sink`] (JSON or CBOR) the exact bytes the serde path writes for
//! `Envelope { body: ReportBody }` (see [`super::payload`]), with the privacy
//! profile applied while writing instead of to a protected copy.
//!
//! Keeping it in step with the model: every struct is destructured without `..`, so
//! a new field in the model is a compile error here, and a property test compares
//! this writer with the serde path on arbitrary reports under every profile, in both
//! formats. Field order and omission rules are those of the model's serde derives.

use super::context::MsgId;
use super::privacy::prefix::Prefix;
use super::privacy::{PrivacyProfile, Token, TokenSession, prefix};
use super::sink::{Key, Sink, key};
use super::topic::Slug;
use crate::coding::SystemUri;
use crate::{
    CodeSystem, Coding, Container, Decimal, Identifier, Instrument, LabResult, LabTimestamp, Order,
    Patient, PersonName, PreparationItem, PreparationStep, Provenance, Quantity, ReferenceRange,
    ResultReport, ResultValue, Specimen, SubstanceLot, Unit,
};

/// The envelope fields around a results body.
pub(super) struct ResultsEnvelope<'a> {
    pub(super) schema: &'static str,
    pub(super) msg_id: &'a MsgId,
    pub(super) sent_at: &'a LabTimestamp,
    pub(super) gateway: &'a Slug,
    pub(super) instrument: &'a Slug,
    pub(super) site: &'a Slug,
    pub(super) area: &'a Slug,
    pub(super) privacy: PrivacyProfile,
    pub(super) token_kid: Option<&'a str>,
    pub(super) result_ids: &'a [Token],
}

/// How identifying data is published: the profile's rules (as `privacy::Protector`
/// applies them to a copy) and the tokens of this mapping.
pub(super) struct Publish<'t> {
    /// Identifiers become tokens, names and birth dates are dropped.
    protects: bool,
    /// Identifiers, names and notes are dropped altogether (`minimal`).
    drops_ids: bool,
    tokens: TokenSession<'t>,
}

impl<'t> Publish<'t> {
    /// The rules of `profile`; `id-only` reports are not written here.
    pub(super) fn new(profile: PrivacyProfile, tokens: TokenSession<'t>) -> Self {
        Self {
            protects: profile != PrivacyProfile::Full,
            drops_ids: matches!(profile, PrivacyProfile::Minimal | PrivacyProfile::IdOnly),
            tokens,
        }
    }
}

/// A map being written: counts its keys, for the JSON commas and the CBOR head.
struct Map<'s, S: Sink> {
    sink: &'s mut S,
    start: usize,
    entries: usize,
}

impl<'s, S: Sink> Map<'s, S> {
    #[inline]
    fn new(sink: &'s mut S) -> Self {
        let start = sink.map_start();
        Self {
            sink,
            start,
            entries: 0,
        }
    }

    /// Writes a key; the caller writes its value to the returned sink.
    #[inline]
    fn key(&mut self, key: &'static Key) -> &mut S {
        self.sink.key(key, self.entries);
        self.entries += 1;
        self.sink
    }

    /// A text value, from its UTF-8 bytes: a `Text` or a `Decimal` gives them
    /// without the UTF-8 check that going through `&str` costs.
    #[inline]
    fn text<T: AsRef<[u8]> + ?Sized>(&mut self, key: &'static Key, value: &T) {
        self.key(key).text_bytes(value.as_ref());
    }

    #[inline]
    fn opt_text<T: AsRef<[u8]> + ?Sized>(&mut self, key: &'static Key, value: Option<&T>) {
        if let Some(value) = value {
            self.key(key).text_bytes(value.as_ref());
        }
    }

    /// A code of an open code table: one of the table's own codes needs no JSON
    /// escape check ([`Self::text`] for any other).
    #[inline]
    fn code(&mut self, key: &'static Key, (code, listed): (&str, bool)) {
        write_code(self.key(key), (code, listed));
    }

    /// A decimal: its canonical text (`-?(0|[1-9][0-9]*)(\.[0-9]+)?`) never needs a
    /// JSON escape, so the check is skipped.
    #[inline]
    fn decimal(&mut self, key: &'static Key, value: &Decimal) {
        self.key(key).clean_text(value.as_bytes());
    }

    #[inline]
    fn opt_decimal(&mut self, key: &'static Key, value: Option<&Decimal>) {
        if let Some(value) = value {
            self.decimal(key, value);
        }
    }

    #[inline]
    fn opt_timestamp(&mut self, key: &'static Key, value: Option<&LabTimestamp>) {
        if let Some(value) = value {
            self.key(key).timestamp(value);
        }
    }

    /// A list, omitted when empty (`skip_serializing_if = "Vec::is_empty"`).
    #[inline]
    fn list<T>(&mut self, key: &'static Key, items: &[T], each: impl FnMut(&mut S, &T)) {
        if !items.is_empty() {
            list(self.key(key), items, each);
        }
    }

    #[inline]
    fn end(self) {
        self.sink.map_end(self.start, self.entries);
    }
}

#[inline]
fn list<S: Sink, T>(sink: &mut S, items: &[T], mut each: impl FnMut(&mut S, &T)) {
    sink.array_start(items.len());
    for (index, item) in items.iter().enumerate() {
        sink.element(index);
        each(sink, item);
    }
    sink.array_end();
}

/// A code of an open code table (see [`Map::code`]).
#[inline]
fn write_code<S: Sink>(sink: &mut S, (code, listed): (&str, bool)) {
    if listed {
        sink.clean_text(code.as_bytes());
    } else {
        sink.text(code);
    }
}

/// Writes the whole envelope of a results event.
pub(super) fn write_envelope<S: Sink>(
    sink: &mut S,
    envelope: &ResultsEnvelope<'_>,
    report: &ResultReport,
    publish: &mut Publish<'_>,
) {
    let mut map = Map::new(sink);
    map.key(key!("schema"))
        .clean_text(envelope.schema.as_bytes());
    map.key(key!("msg_id"))
        .text_bytes(envelope.msg_id.as_bytes());
    map.key(key!("sent_at")).timestamp(envelope.sent_at);
    write_source(
        map.key(key!("source")),
        &report.provenance,
        envelope.gateway,
    );
    {
        let mut route = Map::new(map.key(key!("instrument")));
        route
            .key(key!("id"))
            .clean_text(envelope.instrument.as_str().as_bytes());
        route
            .key(key!("site"))
            .clean_text(envelope.site.as_str().as_bytes());
        route
            .key(key!("area"))
            .clean_text(envelope.area.as_str().as_bytes());
        route.end();
    }
    map.key(key!("privacy"))
        .clean_text(envelope.privacy.as_str().as_bytes());
    map.opt_text(key!("token_kid"), envelope.token_kid);
    map.list(key!("result_ids"), envelope.result_ids, |sink, id| {
        sink.token(id);
    });
    write_report(map.key(key!("body")), report, publish);
    map.end();
}

/// The envelope's `source`: the provenance fields a consumer routes by.
fn write_source<S: Sink>(sink: &mut S, provenance: &Provenance, gateway: &Slug) {
    let mut map = Map::new(sink);
    map.code(key!("protocol"), provenance.protocol.code_listed());
    map.opt_text(key!("version"), provenance.version.as_ref());
    map.opt_text(key!("message_id"), provenance.message_id.as_ref());
    map.opt_text(key!("sender"), provenance.sender.as_ref());
    map.opt_timestamp(key!("received_at"), provenance.received_at.as_ref());
    map.key(key!("gateway"))
        .clean_text(gateway.as_str().as_bytes());
    map.list(key!("warnings"), &provenance.warnings, |sink, warning| {
        sink.text(warning);
    });
    map.end();
}

/// `ResultReport`'s serde shape after the profile (`ReportBody` under a protecting
/// profile, the report itself under `full`).
fn write_report<S: Sink>(sink: &mut S, report: &ResultReport, publish: &mut Publish<'_>) {
    let ResultReport {
        instrument,
        patient,
        specimen,
        order,
        results,
        notes,
        provenance,
    } = report;
    let drops_ids = publish.drops_ids;
    let mut map = Map::new(sink);
    write_instrument(map.key(key!("instrument")), instrument);
    if let Some(patient) = patient
        && !drops_ids
    {
        write_patient(map.key(key!("patient")), patient, publish);
    }
    if let Some(specimen) = specimen {
        write_specimen(map.key(key!("specimen")), specimen, publish);
    }
    if let Some(order) = order {
        write_order(map.key(key!("order")), order, publish);
    }
    map.list(key!("results"), results, |sink, result| {
        write_result(sink, result, publish);
    });
    if !drops_ids {
        map.list(key!("notes"), notes, |sink, note| sink.text(note));
    }
    write_provenance(map.key(key!("provenance")), provenance);
    map.end();
}

fn write_instrument<S: Sink>(sink: &mut S, instrument: &Instrument) {
    let Instrument {
        local_id,
        name,
        manufacturer,
        model,
        serial_number,
        software_version,
        ids,
    } = instrument;
    let mut map = Map::new(sink);
    map.opt_text(key!("local_id"), local_id.as_ref());
    map.opt_text(key!("name"), name.as_ref());
    map.opt_text(key!("manufacturer"), manufacturer.as_ref());
    map.opt_text(key!("model"), model.as_ref());
    map.opt_text(key!("serial_number"), serial_number.as_ref());
    map.opt_text(key!("software_version"), software_version.as_ref());
    map.list(key!("ids"), ids, write_identifier);
    map.end();
}

fn write_identifier<S: Sink>(sink: &mut S, id: &Identifier) {
    let Identifier {
        value,
        kind,
        assigner,
    } = id;
    let mut map = Map::new(sink);
    map.text(key!("value"), value);
    if let Some(kind) = kind {
        map.code(key!("kind"), kind.code_listed());
    }
    map.opt_text(key!("assigner"), assigner.as_ref());
    map.end();
}

/// An identifier as published: as sent under `full`, else its token with the type
/// code kept and the assigning authority dropped (`privacy::pseudonym`).
fn write_published_id<S: Sink>(
    sink: &mut S,
    id: &Identifier,
    publish: &mut Publish<'_>,
    token_prefix: Prefix,
) {
    if !publish.protects {
        return write_identifier(sink, id);
    }
    let token = publish.tokens.inline_identifier(token_prefix, id);
    let mut map = Map::new(sink);
    map.key(key!("value")).token(&token);
    if let Some(kind) = &id.kind {
        map.code(key!("kind"), kind.code_listed());
    }
    map.end();
}

/// A bare identifier text (container barcode, operator) as published: as sent, or
/// its token (`Protector::text`). Callers skip it when the profile drops ids.
fn write_published_text<S: Sink>(
    sink: &mut S,
    text: &str,
    publish: &mut Publish<'_>,
    token_prefix: Prefix,
) {
    if publish.protects {
        let token = publish.tokens.inline_token(token_prefix, &["", text]);
        sink.token(&token);
    } else {
        sink.text(text);
    }
}

fn write_patient<S: Sink>(sink: &mut S, patient: &Patient, publish: &mut Publish<'_>) {
    let Patient {
        ids,
        name,
        birth_date,
        sex,
    } = patient;
    let mut map = Map::new(sink);
    map.list(key!("ids"), ids, |sink, id| {
        write_published_id(sink, id.expose(), publish, prefix::PATIENT);
    });
    // Names and birth dates are dropped by every protecting profile.
    if !publish.protects {
        if let Some(name) = name {
            write_person_name(map.key(key!("name")), name.expose());
        }
        map.opt_timestamp(
            key!("birth_date"),
            birth_date.as_ref().map(|date| date.expose()),
        );
    }
    if let Some(sex) = sex {
        map.code(key!("sex"), sex.expose().code_listed());
    }
    map.end();
}

fn write_person_name<S: Sink>(sink: &mut S, name: &PersonName) {
    let PersonName {
        family,
        given,
        middle,
        suffix,
        prefix,
    } = name;
    let mut map = Map::new(sink);
    map.opt_text(key!("family"), family.as_ref());
    map.opt_text(key!("given"), given.as_ref());
    map.opt_text(key!("middle"), middle.as_ref());
    map.opt_text(key!("suffix"), suffix.as_ref());
    map.opt_text(key!("prefix"), prefix.as_ref());
    map.end();
}

fn write_specimen<S: Sink>(sink: &mut S, specimen: &Specimen, publish: &mut Publish<'_>) {
    let Specimen {
        ids,
        role,
        kind,
        collected_at,
        received_at,
        container,
        description,
        preparation,
    } = specimen;
    let drops_ids = publish.drops_ids;
    let mut map = Map::new(sink);
    if !drops_ids {
        map.list(key!("ids"), ids, |sink, id| {
            write_published_id(sink, id.expose(), publish, prefix::SPECIMEN);
        });
    }
    map.code(key!("role"), role.code_listed());
    if let Some(kind) = kind {
        write_coding(map.key(key!("kind")), kind);
    }
    map.opt_timestamp(key!("collected_at"), collected_at.as_ref());
    map.opt_timestamp(key!("received_at"), received_at.as_ref());
    if let Some(container) = container {
        write_container(map.key(key!("container")), container, publish);
    }
    map.opt_text(key!("description"), description.as_ref());
    map.list(key!("preparation"), preparation, write_preparation_step);
    map.end();
}

fn write_container<S: Sink>(sink: &mut S, container: &Container, publish: &mut Publish<'_>) {
    let Container {
        id,
        kind,
        carrier,
        position,
    } = container;
    let mut map = Map::new(sink);
    if let Some(id) = id
        && !publish.drops_ids
    {
        write_published_text(map.key(key!("id")), id.expose(), publish, prefix::SPECIMEN);
    }
    if let Some(kind) = kind {
        write_coding(map.key(key!("kind")), kind);
    }
    map.opt_text(key!("carrier"), carrier.as_ref());
    map.opt_text(key!("position"), position.as_ref());
    map.end();
}

fn write_preparation_step<S: Sink>(sink: &mut S, step: &PreparationStep) {
    let PreparationStep { items } = step;
    let mut map = Map::new(sink);
    map.list(key!("items"), items, |sink, item| {
        let PreparationItem { concept, value } = item;
        let mut map = Map::new(sink);
        write_coding(map.key(key!("concept")), concept);
        write_value(map.key(key!("value")), value);
        map.end();
    });
    map.end();
}

fn write_order<S: Sink>(sink: &mut S, order: &Order, publish: &mut Publish<'_>) {
    let Order {
        placer_id,
        filler_id,
        tests,
        priority,
        requested_at,
        action,
        status,
    } = order;
    let drops_ids = publish.drops_ids;
    let mut map = Map::new(sink);
    if !drops_ids {
        if let Some(id) = placer_id {
            write_published_id(
                map.key(key!("placer_id")),
                id.expose(),
                publish,
                prefix::ORDER,
            );
        }
        if let Some(id) = filler_id {
            write_published_id(
                map.key(key!("filler_id")),
                id.expose(),
                publish,
                prefix::ORDER,
            );
        }
    }
    map.list(key!("tests"), tests, write_coding);
    if let Some(priority) = priority {
        map.code(key!("priority"), priority.code_listed());
    }
    map.opt_timestamp(key!("requested_at"), requested_at.as_ref());
    map.opt_text(key!("action"), action.as_ref());
    map.opt_text(key!("status"), status.as_ref());
    map.end();
}

fn write_result<S: Sink>(sink: &mut S, result: &LabResult, publish: &mut Publish<'_>) {
    let LabResult {
        sequence,
        sub_id,
        test,
        alt_tests,
        loinc,
        value,
        additional_values,
        raw_value,
        interpretation,
        reference_range,
        status,
        status_raw,
        observed_at,
        analyzed_at,
        instrument,
        method,
        run_id,
        dilution,
        rerun,
        substances,
        operator,
        notes,
    } = result;
    let drops_ids = publish.drops_ids;
    let mut map = Map::new(sink);
    if let Some(sequence) = sequence {
        map.key(key!("sequence")).uint(u64::from(*sequence));
    }
    map.opt_text(key!("sub_id"), sub_id.as_ref());
    write_coding(map.key(key!("test")), test);
    map.list(key!("alt_tests"), alt_tests, write_coding);
    if let Some(loinc) = loinc {
        // Digits, a dash and a check digit: nothing to escape.
        map.key(key!("loinc")).clean_text(loinc.as_bytes());
    }
    write_value(map.key(key!("value")), value);
    map.list(key!("additional_values"), additional_values, write_value);
    map.opt_text(key!("raw_value"), raw_value.as_ref());
    map.list(key!("interpretation"), interpretation, |sink, flag| {
        write_code(sink, flag.code_listed());
    });
    if let Some(range) = reference_range {
        write_reference_range(map.key(key!("reference_range")), range);
    }
    map.code(key!("status"), status.code_listed());
    map.opt_text(key!("status_raw"), status_raw.as_ref());
    map.opt_timestamp(key!("observed_at"), observed_at.as_ref());
    map.opt_timestamp(key!("analyzed_at"), analyzed_at.as_ref());
    if let Some(instrument) = instrument {
        write_instrument(map.key(key!("instrument")), instrument);
    }
    if let Some(method) = method {
        write_coding(map.key(key!("method")), method);
    }
    map.opt_text(key!("run_id"), run_id.as_ref());
    if let Some(dilution) = dilution {
        map.decimal(key!("dilution"), dilution);
    }
    if *rerun {
        map.key(key!("rerun")).boolean(true);
    }
    map.list(key!("substances"), substances, write_substance);
    if let Some(operator) = operator
        && !drops_ids
    {
        write_published_text(
            map.key(key!("operator")),
            operator.expose(),
            publish,
            prefix::OPERATOR,
        );
    }
    if !drops_ids {
        map.list(key!("notes"), notes, |sink, note| sink.text(note));
    }
    map.end();
}

/// `ResultValue` is internally tagged: `kind` first, then the variant's fields.
fn write_value<S: Sink>(sink: &mut S, value: &ResultValue) {
    let mut map = Map::new(sink);
    let kind = key!("kind");
    match value {
        ResultValue::Quantity(quantity) => {
            map.key(kind).clean_text(b"quantity");
            let Quantity {
                value,
                comparator,
                unit,
            } = quantity;
            map.decimal(key!("value"), value);
            if let Some(comparator) = comparator {
                map.text(key!("comparator"), comparator.as_str());
            }
            if let Some(unit) = unit {
                write_unit(map.key(key!("unit")), unit);
            }
        }
        ResultValue::Range { low, high, unit } => {
            map.key(kind).clean_text(b"range");
            map.opt_decimal(key!("low"), low.as_ref());
            map.opt_decimal(key!("high"), high.as_ref());
            if let Some(unit) = unit {
                write_unit(map.key(key!("unit")), unit);
            }
        }
        ResultValue::Ratio {
            numerator,
            denominator,
            comparator,
        } => {
            map.key(kind).clean_text(b"ratio");
            map.decimal(key!("numerator"), numerator);
            map.decimal(key!("denominator"), denominator);
            if let Some(comparator) = comparator {
                map.text(key!("comparator"), comparator.as_str());
            }
        }
        ResultValue::Coded(coding) => {
            map.key(kind).clean_text(b"coded");
            coding_fields(&mut map, coding);
        }
        ResultValue::Text { text } => {
            map.key(kind).clean_text(b"text");
            map.text(key!("text"), text);
        }
        ResultValue::Boolean { value } => {
            map.key(kind).clean_text(b"boolean");
            map.key(key!("value")).boolean(*value);
        }
        ResultValue::DateTime { value } => {
            map.key(kind).clean_text(b"date_time");
            map.key(key!("value")).timestamp(value);
        }
        ResultValue::Absent { reason, text } => {
            map.key(kind).clean_text(b"absent");
            map.code(key!("reason"), reason.code_listed());
            map.opt_text(key!("text"), text.as_ref());
        }
        ResultValue::Attachment {
            media_type,
            encoding,
            data,
        } => {
            map.key(kind).clean_text(b"attachment");
            map.opt_text(key!("media_type"), media_type.as_ref());
            map.opt_text(key!("encoding"), encoding.as_ref());
            map.text(key!("data"), data);
        }
    }
    map.end();
}

// The small writers of a result's parts (coding, unit, range) are inlined into the
// result's writer: the output's length then stays in a register across a result
// instead of going through memory at each call (12-17 ns less per 4-result report).
// `write_value`, much bigger, measured slower inlined, and so did `write_code_system`.
#[inline(always)]
fn write_coding<S: Sink>(sink: &mut S, coding: &Coding) {
    let mut map = Map::new(sink);
    coding_fields(&mut map, coding);
    map.end();
}

#[inline(always)]
fn coding_fields<S: Sink>(map: &mut Map<'_, S>, coding: &Coding) {
    let Coding {
        system,
        code,
        display,
    } = coding;
    write_code_system(map.key(key!("system")), system);
    map.text(key!("code"), code);
    map.opt_text(key!("display"), display.as_ref());
}

/// The system's URI, put together on the stack (`CodeSystem::uri` formats a
/// `String` for HL7 tables and named local systems).
#[inline]
fn write_code_system<S: Sink>(sink: &mut S, system: &CodeSystem) {
    let uri = SystemUri::of(system);
    if let Some(whole) = uri.whole_bytes() {
        sink.text_bytes(whole);
        return;
    }
    let mut buffer = [0u8; 64];
    match uri.join(&mut buffer) {
        Some(joined) => sink.text_bytes(joined),
        None => sink.text(&system.uri()),
    }
}

#[inline(always)]
fn write_unit<S: Sink>(sink: &mut S, unit: &Unit) {
    let Unit { original, ucum } = unit;
    let mut map = Map::new(sink);
    map.text(key!("original"), original);
    map.opt_text(key!("ucum"), ucum.as_ref());
    map.end();
}

#[inline(always)]
fn write_reference_range<S: Sink>(sink: &mut S, range: &ReferenceRange) {
    let ReferenceRange {
        low,
        high,
        text,
        applies_to,
    } = range;
    let mut map = Map::new(sink);
    map.opt_decimal(key!("low"), low.as_ref());
    map.opt_decimal(key!("high"), high.as_ref());
    map.opt_text(key!("text"), text.as_ref());
    map.opt_text(key!("applies_to"), applies_to.as_ref());
    map.end();
}

fn write_substance<S: Sink>(sink: &mut S, substance: &SubstanceLot) {
    let SubstanceLot {
        kind,
        material,
        lot,
        expires_at,
        manufacturer,
        level,
    } = substance;
    let mut map = Map::new(sink);
    if let Some(kind) = kind {
        map.code(key!("kind"), kind.code_listed());
    }
    if let Some(material) = material {
        write_coding(map.key(key!("material")), material);
    }
    map.opt_text(key!("lot"), lot.as_ref());
    map.opt_timestamp(key!("expires_at"), expires_at.as_ref());
    map.opt_text(key!("manufacturer"), manufacturer.as_ref());
    map.opt_text(key!("level"), level.as_ref());
    map.end();
}

fn write_provenance<S: Sink>(sink: &mut S, provenance: &Provenance) {
    let Provenance {
        protocol,
        version,
        message_id,
        sender,
        sent_at,
        received_at,
        gateway,
        location,
        warnings,
    } = provenance;
    let mut map = Map::new(sink);
    map.code(key!("protocol"), protocol.code_listed());
    map.opt_text(key!("version"), version.as_ref());
    map.opt_text(key!("message_id"), message_id.as_ref());
    map.opt_text(key!("sender"), sender.as_ref());
    map.opt_timestamp(key!("sent_at"), sent_at.as_ref());
    map.opt_timestamp(key!("received_at"), received_at.as_ref());
    map.opt_text(key!("gateway"), gateway.as_ref());
    map.opt_text(key!("location"), location.as_ref());
    map.list(key!("warnings"), warnings, |sink, warning| {
        sink.text(warning)
    });
    map.end();
}
