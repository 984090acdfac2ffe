//! ASTM E1394 messages mapped to the labwire lab model.
//!
//! One [`LabEvent::Results`] per order record (`O`, one specimen) with the results
//! under it; control samples (action code `Q` in O-12, or processing id `Q` in H-12)
//! become [`LabEvent::Qc`]; query records (`Q`) become [`LabEvent::Query`]. Comments
//! attach to the record before them. Times have no zone (ASTM sends none), values
//! keep their text. What a [`Dialect`] changes is data, not code.
//!
//! ```
//! use labwire_astm::model::{Dialect, to_events};
//! use labwire_astm::record::{Message, RecordOptions};
//! use labwire_model::{LabEvent, ResultValue};
//!
//! let text = b"H|\\^&|||XN-550^00-22^11001|||||||P|1|20240301101502\rP|1||PAT-1\rO|1||S24-0007^2^3|^^^^WBC\rR|1|^^^^WBC^1|7,41|10*3/uL||N||F||||20240301101500\rL|1|N\r";
//! let (message, _) = Message::parse(text, &RecordOptions::default())?;
//! let events = to_events(&message, &Dialect::sysmex_xn());
//! let LabEvent::Results(report) = &events[0] else { panic!() };
//! let result = &report.results[0];
//! assert_eq!(result.test.code, "WBC");
//! let ResultValue::Quantity(quantity) = &result.value else { panic!() };
//! assert_eq!(quantity.value.as_str(), "7.41"); // the decimal comma read as a decimal
//! # Ok::<(), labwire_astm::record::RecordError>(())
//! ```

use labwire_model::{
    CodeSystem, Coding, Container, DecimalMark, Identifier, Instrument, Interpretation, LabEvent,
    LabResult, LabTimestamp, LoincCode, Order, Patient, PersonName, Priority, Provenance, QcEvent,
    QcResult, ReferenceRange, ResultReport, ResultStatus, ResultValue, Sensitive, SourceProtocol,
    Specimen, SpecimenQuery, SpecimenRole, Unit,
};

use crate::record::{Field, Message, Record, RecordType};

/// How one instrument family fills the standard's fields. Data, not a fork of the
/// parser: every dialect runs the same code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialect {
    /// A name for logs.
    pub name: &'static str,
    /// Components of the universal test id (R-3, O-5) to try for the test code, in
    /// order; the first non-empty one wins. LIS02-A2 puts the local code in 4.
    pub test_code_components: &'static [usize],
    /// The decimal mark of values and ranges.
    pub decimal_mark: DecimalMark,
    /// Accept a decimal comma even when `decimal_mark` is a point, when the value
    /// has exactly one comma and no point (`7,41`).
    pub lenient_comma: bool,
    /// The component of R-4 that holds the value (1 in the standard).
    pub value_component: usize,
    /// Characters after which a test code carries a suffix to drop (Roche sends
    /// `717/` with a dilution after the slash).
    pub test_code_suffix_separator: Option<char>,
    /// Components of O-4 (instrument specimen id) holding the specimen id, the
    /// carrier (rack) and the position: LIS02-A2 has `id^rack^position`.
    pub instrument_specimen_components: [usize; 3],
    /// Components of Q-3 (starting range id) holding the specimen id, the carrier
    /// and the position: LIS02-A2 has `patient^specimen^…`, most instruments
    /// `^specimen^rack^position`.
    pub query_range_components: [usize; 3],
    /// Components of P-6 holding the family, given and middle names (0: none).
    /// LIS02-A2 has `last^first^middle`.
    pub patient_name_components: [usize; 3],
}

impl Dialect {
    /// CLSI LIS02-A2 as written.
    pub const fn generic() -> Self {
        Self {
            name: "LIS02-A2",
            test_code_components: &[4, 1, 5],
            decimal_mark: DecimalMark::Point,
            lenient_comma: true,
            value_component: 1,
            test_code_suffix_separator: None,
            instrument_specimen_components: [1, 2, 3],
            query_range_components: [2, 3, 4],
            patient_name_components: [1, 2, 3],
        }
    }

    /// Sysmex XN series (XN-L, XN-550 … XN-9000, public ASTM interface
    /// specification): test code in component 5 (`^^^^WBC^1`, the dilution in 6),
    /// decimal commas on European configurations, O-4 and Q-3 as
    /// `rack^position^sample number^attribute` (the sample number right-aligned in
    /// 22 characters), patient names as `^first^last`.
    pub const fn sysmex_xn() -> Self {
        Self {
            name: "Sysmex XN",
            test_code_components: &[5, 4, 1],
            instrument_specimen_components: [3, 1, 2],
            query_range_components: [3, 1, 2],
            patient_name_components: [3, 2, 0],
            ..Self::generic()
        }
    }

    /// Roche cobas (e 411, c 111, cobas 6000 host interface manuals): application
    /// code in component 4 with the dilution after a slash (`^^^717/`), decimal point.
    pub const fn roche_cobas() -> Self {
        Self {
            name: "Roche cobas",
            test_code_components: &[4, 1],
            lenient_comma: false,
            test_code_suffix_separator: Some('/'),
            ..Self::generic()
        }
    }
}

impl Default for Dialect {
    fn default() -> Self {
        Self::generic()
    }
}

/// The report being built for one order record.
struct Pending {
    report: ResultReport,
    qc: bool,
}

/// Maps a parsed message to lab events.
pub fn to_events(message: &Message<'_>, dialect: &Dialect) -> Vec<LabEvent> {
    let mut events = Vec::new();
    let Some(header) = message.header() else {
        return events;
    };
    let provenance = provenance(&header);
    let instrument = instrument(&header);
    let message_is_qc = header.field(12).text().trim().eq_ignore_ascii_case("Q");
    let mut patient: Option<Patient> = None;
    let mut pending: Option<Pending> = None;
    let mut last = RecordType::HEADER;
    // Comments on the header belong to every report of the message; comments on a
    // patient to every report of that patient.
    let mut header_notes: Vec<String> = Vec::new();
    let mut patient_notes: Vec<String> = Vec::new();
    // Said about the message as a whole: added to every event at the end.
    let mut message_warnings: Vec<String> = Vec::new();
    let flush = |pending: &mut Option<Pending>, events: &mut Vec<LabEvent>| {
        if let Some(done) = pending.take() {
            events.push(finish(done));
        }
    };
    for record in message.records() {
        let kind = record.kind();
        match kind {
            RecordType::PATIENT => {
                flush(&mut pending, &mut events);
                patient_notes.clear();
                patient = Some(patient_of(&record, dialect));
            }
            RecordType::ORDER => {
                flush(&mut pending, &mut events);
                let (order, specimen, qc) = order_of(&record, dialect);
                let mut report = ResultReport {
                    instrument: instrument.clone(),
                    patient: patient.clone(),
                    specimen: Some(specimen),
                    order: Some(order),
                    provenance: provenance.clone(),
                    ..ResultReport::default()
                };
                report.provenance.location = Some(format!("O record {}", record.index()));
                report
                    .notes
                    .extend(header_notes.iter().chain(&patient_notes).cloned());
                pending = Some(Pending {
                    report,
                    qc: qc || message_is_qc,
                });
            }
            RecordType::RESULT => {
                let mut result_warnings = Vec::new();
                let result = result_of(&record, dialect, &mut result_warnings);
                match &mut pending {
                    Some(open) => {
                        open.report.results.push(result);
                        open.report.provenance.warnings.append(&mut result_warnings);
                    }
                    None => {
                        // A result without an order: keep it, in a report of its own.
                        let mut report = ResultReport {
                            instrument: instrument.clone(),
                            patient: patient.clone(),
                            provenance: provenance.clone(),
                            ..ResultReport::default()
                        };
                        report.provenance.warnings.push(format!(
                            "R record {} has no O record before it",
                            record.index()
                        ));
                        report.results.push(result);
                        report.provenance.warnings.append(&mut result_warnings);
                        pending = Some(Pending {
                            report,
                            qc: message_is_qc,
                        });
                    }
                }
            }
            RecordType::COMMENT => {
                let text = comment_text(&record);
                if text.is_empty() {
                    continue;
                }
                match (last, &mut pending) {
                    (RecordType::RESULT, Some(open)) => {
                        if let Some(result) = open.report.results.last_mut() {
                            result.notes.push(text);
                        }
                    }
                    (RecordType::ORDER, Some(open)) => open.report.notes.push(text),
                    (RecordType::HEADER, _) => header_notes.push(text),
                    (RecordType::PATIENT, _) => patient_notes.push(text),
                    // After a query or a terminator: no event has room for it.
                    _ => message_warnings.push(format!(
                        "C record {} after {last} record not mapped: {text:?}",
                        record.index()
                    )),
                }
            }
            RecordType::QUERY => {
                flush(&mut pending, &mut events);
                events.push(query_of(&record, &instrument, &provenance, dialect));
            }
            RecordType::TERMINATOR | RecordType::HEADER => {}
            _ => {
                let warning = format!("{kind} record {} kept raw, not mapped", record.index());
                match &mut pending {
                    Some(open) => open.report.provenance.warnings.push(warning),
                    None => message_warnings.push(warning),
                }
            }
        }
        if kind != RecordType::COMMENT && kind != RecordType::MANUFACTURER {
            last = kind;
        }
    }
    flush(&mut pending, &mut events);
    if !message.is_complete() {
        message_warnings.push("message has no L record: incomplete".into());
    }
    for event in &mut events {
        event
            .provenance_mut()
            .warnings
            .extend(message_warnings.iter().cloned());
    }
    events
}

fn finish(pending: Pending) -> LabEvent {
    if !pending.qc {
        return LabEvent::Results(pending.report);
    }
    let report = pending.report;
    let mut specimen = report.specimen;
    if let Some(specimen) = &mut specimen {
        specimen.role = SpecimenRole::Control;
    }
    LabEvent::Qc(QcEvent {
        instrument: report.instrument,
        specimen,
        results: report
            .results
            .into_iter()
            .map(|result| QcResult {
                result,
                target: None,
                sd: None,
                outcome: None,
                rules_violated: Vec::new(),
            })
            .collect(),
        notes: report.notes,
        provenance: report.provenance,
        ..QcEvent::default()
    })
}

/// A field's decoded text, trimmed; `None` when blank.
pub(crate) fn text(field: Field<'_>) -> Option<String> {
    trimmed(&field.text())
}

/// `text` trimmed; `None` when blank.
pub(crate) fn trimmed(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// A date/time field's first component as a timestamp.
pub(crate) fn timestamp(field: Field<'_>) -> Option<LabTimestamp> {
    read_timestamp(&field.component(1).text())
}

/// An ASTM date/time text; `None` when blank, unreadable or Delphi's zero date
/// (1899-12-30), which Phadia and others send for "no date".
pub(crate) fn read_timestamp(text: &str) -> Option<LabTimestamp> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.starts_with("18991230") {
        return None;
    }
    LabTimestamp::parse_astm(trimmed).ok()
}

fn provenance(header: &Record<'_>) -> Provenance {
    Provenance {
        version: text(header.field(13)),
        message_id: text(header.field(3)),
        sender: text(header.field(5)),
        sent_at: timestamp(header.field(14)),
        ..Provenance::new(SourceProtocol::Astm)
    }
}

/// H-5, sender name or id: `name^software version^serial number` on most analyzers
/// (Abbott `ARCHITECT^9.45^F3452430028`, Sysmex `XN-550^00-22^11001`).
fn instrument(header: &Record<'_>) -> Instrument {
    let sender = header.field(5);
    Instrument {
        local_id: text(sender.component(1)),
        name: text(sender.component(1)),
        software_version: text(sender.component(2)),
        serial_number: text(sender.component(3)),
        ..Instrument::default()
    }
}

pub(crate) fn patient_of(record: &Record<'_>, dialect: &Dialect) -> Patient {
    let ids = [(3, "PI"), (4, "PT"), (5, "PN")]
        .into_iter()
        .filter_map(|(number, _kind)| text(record.field(number).component(1)))
        .map(|value| Sensitive::new(Identifier::new(value)))
        .collect();
    let name_field = record.field(6);
    let [family, given, middle] = dialect.patient_name_components;
    let name = PersonName {
        family: text(name_field.component(family)),
        given: text(name_field.component(given)),
        middle: text(name_field.component(middle)),
        suffix: text(name_field.component(4)),
        prefix: text(name_field.component(5)),
    };
    let has_name = name != PersonName::default();
    Patient {
        ids,
        name: has_name.then(|| Sensitive::new(name)),
        birth_date: timestamp(record.field(8)).map(Sensitive::new),
        sex: text(record.field(9))
            .map(|code| Sensitive::new(labwire_model::AdministrativeSex::from_code(&code))),
    }
}

/// O-3 specimen id, O-4 instrument specimen id (`id^rack^position`), O-5 tests, O-6
/// priority, O-7 requested, O-8 collected, O-12 action code, O-15 received, O-16
/// specimen descriptor, O-26 report type.
fn order_of(record: &Record<'_>, dialect: &Dialect) -> (Order, Specimen, bool) {
    let instrument_id = record.field(4);
    let [id, carrier, position] = dialect.instrument_specimen_components;
    let specimen_id =
        text(record.field(3).component(1)).or_else(|| text(instrument_id.component(id)));
    let action = text(record.field(12));
    let qc = action
        .as_deref()
        .is_some_and(|code| code.eq_ignore_ascii_case("Q"));
    let specimen = Specimen {
        ids: specimen_id
            .into_iter()
            .map(|id| Sensitive::new(Identifier::new(id)))
            .collect(),
        role: if qc {
            SpecimenRole::Control
        } else {
            SpecimenRole::Patient
        },
        kind: text(record.field(16).component(1)).map(Coding::local),
        collected_at: timestamp(record.field(8)),
        received_at: timestamp(record.field(15)),
        container: rack_position(
            instrument_id.component(carrier),
            instrument_id.component(position),
        ),
        ..Specimen::default()
    };
    let order = Order {
        placer_id: text(record.field(3).component(1)).map(|id| Sensitive::new(Identifier::new(id))),
        tests: record
            .field(5)
            .repeats()
            .filter_map(|test| test_code(test, dialect))
            .map(Coding::local)
            .collect(),
        priority: text(record.field(6)).map(|code| Priority::from_code(&code)),
        requested_at: timestamp(record.field(7)),
        action,
        status: text(record.field(26)),
        ..Order::default()
    };
    (order, specimen, qc)
}

/// A container known by its rack (carrier) and position, if either was sent.
fn rack_position(carrier: Field<'_>, position: Field<'_>) -> Option<Container> {
    let (carrier, position) = (text(carrier), text(position));
    (carrier.is_some() || position.is_some()).then(|| Container {
        carrier,
        position,
        ..Container::default()
    })
}

/// The test code of a universal test id, per the dialect.
pub(crate) fn test_code(field: Field<'_>, dialect: &Dialect) -> Option<String> {
    test_code_at(field, dialect).map(|(_, code)| code)
}

/// The test code and the component it was found in.
fn test_code_at(field: Field<'_>, dialect: &Dialect) -> Option<(usize, String)> {
    let (number, code) = dialect
        .test_code_components
        .iter()
        .find_map(|number| text(field.component(*number)).map(|code| (*number, code)))?;
    // A code that is all suffix (`/2`) keeps its text rather than becoming blank.
    let code = match dialect.test_code_suffix_separator {
        Some(separator) => code
            .split(separator)
            .next()
            .and_then(trimmed)
            .unwrap_or(code),
        None => code,
    };
    Some((number, code))
}

fn decimal_mark(raw: &str, dialect: &Dialect) -> DecimalMark {
    let one_comma = raw.matches(',').count() == 1 && !raw.contains('.');
    if dialect.decimal_mark == DecimalMark::Comma || (dialect.lenient_comma && one_comma) {
        DecimalMark::Comma
    } else {
        DecimalMark::Point
    }
}

/// R-3 test, R-4 value, R-5 units, R-6 range, R-7 flags, R-9 status, R-11 operator,
/// R-12 started, R-13 completed, R-14 instrument.
fn result_of(record: &Record<'_>, dialect: &Dialect, warnings: &mut Vec<String>) -> LabResult {
    let [
        _,
        sequence,
        test_field,
        value_field,
        units,
        range,
        flags,
        _,
        status,
        _,
        operator,
        started,
        completed,
        instrument,
    ] = record.first_fields::<14>();
    let (code_component, code) = test_code_at(test_field, dialect).unwrap_or((0, String::new()));
    let mut test = Coding::local(code);
    test.display = text(test_field.component(2)).filter(|display| *display != test.code);
    let mut result = LabResult::new(test, ResultValue::text(""), ResultStatus::from_code("F"));
    universal_test_id_extras(test_field, code_component, &mut result);

    // The value is in R-4 component 1 (or the dialect's); some instruments put it
    // elsewhere (GeneXpert Ct values as `^24.7`), so an empty one falls back to the
    // first non-empty component, with a warning. The whole field is kept raw.
    let raw = value_field.text();
    let raw = raw.trim();
    let mut value_text = text(value_field.component(dialect.value_component));
    if value_text.is_none()
        && let Some((number, found)) = value_field
            .components()
            .enumerate()
            .find_map(|(index, component)| text(component).map(|found| (index + 1, found)))
    {
        warnings.push(format!(
            "R record {}: value read from R-4 component {number}",
            record.index()
        ));
        value_text = Some(found);
    }
    let unit = text(units).map(Unit::new);
    if let Some(value_text) = &value_text {
        result.value =
            ResultValue::from_text_lenient(value_text, unit, decimal_mark(value_text, dialect));
    }
    result.raw_value = (!raw.is_empty()).then(|| raw.to_owned());
    let (status, status_raw) = status_of(text(status));
    result.status = status;
    result.status_raw = status_raw;
    result.sequence = text(sequence).and_then(|n| n.parse().ok());
    result.reference_range = text(range.component(1)).map(|range| {
        let mark = decimal_mark(&range, dialect);
        ReferenceRange::parse_lenient(&range, mark)
    });
    result.interpretation = flags
        .repeats()
        .filter_map(|flag| text(flag))
        .map(|flag| Interpretation::from_code(&flag))
        .collect();
    result.operator = text(operator.component(1)).map(Sensitive::new);
    result.observed_at = timestamp(started);
    result.analyzed_at = timestamp(completed);
    result.instrument = text(instrument).map(Instrument::with_local_id);
    result
}

/// R-9 in HL7 table 0085 terms, and the code as sent when it had to be translated.
///
/// | R-9 | status | why |
/// |---|---|---|
/// | `F` `P` `C` `X` `I` `S` | the same | the same meaning in both tables |
/// | `R` (previously transmitted), `V` (operator verified), `M` (MIC), `N` (new order info), `Q` (query response) | `F` | final results, re-sent or annotated; 0085's `R`, `N` mean something else |
/// | `W` (warning: may be invalid) | `P` | not final until reviewed; 0085's `W` means "wrong" |
/// | blank | `F` | what instruments mean by it; `status_raw` is `""` so it stays visible |
/// | anything else | kept as sent | unknown codes survive |
fn status_of(sent: Option<String>) -> (ResultStatus, Option<String>) {
    match sent.as_deref() {
        None => (ResultStatus::from_code("F"), Some(String::new())),
        Some(code @ ("F" | "P" | "C" | "X" | "I" | "S")) => (ResultStatus::from_code(code), None),
        Some("R" | "V" | "M" | "N" | "Q") => (ResultStatus::from_code("F"), sent),
        Some("W") => (ResultStatus::from_code("P"), sent),
        Some(other) => (ResultStatus::from_code(other), None),
    }
}

/// What a universal test id says beyond the test code: a LOINC code in any
/// component, and, when any component besides the code and the name is filled
/// (result type `MIC`/`INTERP`, dilution, analyte, reagent lot …), the whole id as
/// an alternative coding in the `local:UTID` system, so results that differ only
/// there stay distinct and nothing is lost.
fn universal_test_id_extras(field: Field<'_>, code_component: usize, result: &mut LabResult) {
    let mut more = false;
    for (index, component) in field.components().enumerate() {
        let number = index + 1;
        let Some(value) = text(component) else {
            continue;
        };
        if number == code_component || number == 2 {
            continue;
        }
        if result.loinc.is_none()
            && value.contains('-')
            && let Ok(loinc) = LoincCode::parse(&value)
        {
            result.loinc = Some(loinc);
            continue;
        }
        more = true;
    }
    if more || field.repeats().nth(1).is_some() {
        result.alt_tests.push(Coding::new(
            CodeSystem::Local("UTID".into()),
            field.text().trim(),
        ));
    }
}

/// C-4, the comment text: its repeats and components joined by spaces.
pub(crate) fn comment_text(record: &Record<'_>) -> String {
    let mut parts: Vec<String> = Vec::new();
    for repeat in record.field(4).repeats() {
        parts.extend(repeat.components().filter_map(text));
    }
    parts.join(" ")
}

/// Q-3 starting range id (`patient id^specimen id^…`), Q-5 tests, Q-13 status.
fn query_of(
    record: &Record<'_>,
    instrument: &Instrument,
    provenance: &Provenance,
    dialect: &Dialect,
) -> LabEvent {
    let range = record.field(3);
    let [id, carrier, position] = dialect.query_range_components;
    let specimen_ids = range
        .repeats()
        .filter_map(|repeat| text(repeat.component(id)).or_else(|| text(repeat.component(1))))
        .filter(|id| !id.eq_ignore_ascii_case("ALL"))
        .map(|id| Sensitive::new(Identifier::new(id)))
        .collect();
    let mut provenance = provenance.clone();
    provenance.location = Some(format!("Q record {}", record.index()));
    LabEvent::Query(SpecimenQuery {
        instrument: instrument.clone(),
        specimen_ids,
        container: rack_position(range.component(carrier), range.component(position)),
        // `ALL` in Q-5 asks for every test: no test list.
        tests: record
            .field(5)
            .repeats()
            .filter_map(|test| test_code(test, dialect))
            .filter(|code| !code.eq_ignore_ascii_case("ALL"))
            .map(Coding::local)
            .collect(),
        status: text(record.field(13)),
        provenance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordOptions;

    fn events(text: &[u8], dialect: &Dialect) -> Vec<LabEvent> {
        let (message, _) = Message::parse(text, &RecordOptions::default()).unwrap();
        to_events(&message, dialect)
    }

    #[test]
    fn results_carry_their_patient_order_and_specimen() {
        let text = b"H|\\^&|||cobas^2.1^SN77|||||host||P|1|20240301101502\rP|1|MRN-1||ALT-9|Doe^Jane||19800501|F\rO|1|S24-1|S24-1^R4^3|^^^717/\\^^^690|S|20240301080000|20240301083000||||N||||SER\rR|1|^^^717/|5.40|mmol/L|3.9-6.1|N||F||OP1|20240301101000|20240301101502|cobas-1\rC|1|I|Lipemic^index 2|G\rR|2|^^^690/|< 0.5|mg/L||L||F\rL|1|N\r";
        let events = events(text, &Dialect::roche_cobas());
        assert_eq!(events.len(), 1);
        let LabEvent::Results(report) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(report.instrument.software_version.as_deref(), Some("2.1"));
        assert_eq!(report.provenance.version.as_deref(), Some("1"));
        let patient = report.patient.as_ref().unwrap();
        assert_eq!(patient.ids.len(), 2);
        assert_eq!(
            patient.name.as_ref().unwrap().expose().family.as_deref(),
            Some("Doe")
        );
        let specimen = report.specimen.as_ref().unwrap();
        assert_eq!(specimen.ids[0].expose().value, "S24-1");
        assert_eq!(
            specimen.container.as_ref().unwrap().carrier.as_deref(),
            Some("R4")
        );
        let order = report.order.as_ref().unwrap();
        assert_eq!(
            order
                .tests
                .iter()
                .map(|t| t.code.as_str())
                .collect::<Vec<_>>(),
            ["717", "690"]
        );
        assert_eq!(order.priority, Some(Priority::from_code("S")));
        let glucose = &report.results[0];
        assert_eq!(glucose.test.code, "717");
        assert_eq!(glucose.notes, ["Lipemic index 2"]);
        assert_eq!(glucose.analyzed_at.unwrap().format_astm(), "20240301101502");
        assert_eq!(glucose.interpretation, [Interpretation::Normal]);
        let ResultValue::Quantity(crp) = &report.results[1].value else {
            panic!()
        };
        assert_eq!(crp.value.as_str(), "0.5");
        assert_eq!(crp.comparator, Some(labwire_model::Comparator::Lt));
    }

    #[test]
    fn control_samples_become_qc_events() {
        let text = b"H|\\^&\rO|1|QC-L2||^^^GLU|||||||Q\rR|1|^^^GLU|5.62|mmol/L\rL|1|N\r";
        let events = events(text, &Dialect::generic());
        let LabEvent::Qc(qc) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(qc.results.len(), 1);
        assert_eq!(qc.specimen.as_ref().unwrap().role, SpecimenRole::Control);
    }

    #[test]
    fn text_values_and_missing_values_are_kept() {
        let text = b"H|\\^&\rP|1\rC|1|L|Fasting|G\rO|1|S1\rC|1|I|Tube 2|G\rR|1|^^^COV|NOT DETECTED\rR|2|^^^K|-----\rR|3|^^^X|\rL|1|N\r";
        let events = events(text, &Dialect::generic());
        let LabEvent::Results(report) = &events[0] else {
            panic!()
        };
        assert_eq!(report.results[0].value, ResultValue::text("NOT DETECTED"));
        assert_eq!(report.results[1].value, ResultValue::text("-----"));
        assert_eq!(report.results.len(), 3);
        assert_eq!(report.notes, ["Fasting", "Tube 2"]);
    }

    #[test]
    fn queries_become_query_events() {
        let text = b"H|\\^&\rQ|1|^S24-000123^R7^2||ALL||||||||O\rL|1|N\r";
        let events = events(text, &Dialect::generic());
        let LabEvent::Query(query) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(query.specimen_ids[0].expose().value, "S24-000123");
        assert_eq!(query.status.as_deref(), Some("O"));
    }

    #[test]
    fn an_incomplete_message_says_so() {
        let text = b"H|\\^&\rO|1|S1\rR|1|^^^GLU|5\r";
        let events = events(text, &Dialect::generic());
        assert!(
            events[0]
                .provenance()
                .warnings
                .iter()
                .any(|w| w.contains("incomplete"))
        );
    }
}
