//! ASTM E1394 messages mapped to the labwire lab model.
//!
//! One [`LabEvent::Results`] per order record (`O`, one specimen) with the results
//! under it; control samples (action code `Q` in O-12, or processing id `Q` in H-12)
//! become [`LabEvent::Qc`]; calibrations become [`LabEvent::Calibration`], where the
//! instrument says so (see [`CalibrationMarkers`]: LIS02-A2 has no code for a
//! calibrator); query records (`Q`) become [`LabEvent::Query`]. Comments attach to
//! the record before them. Times have no zone (ASTM sends none), values keep their
//! text. What a [`Dialect`] changes is data, not code.
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
    CalibrationEvent, CalibrationState, CodeSystem, Coding, Container, DecimalMark, Identifier,
    Instrument, Interpretation, LabEvent, LabResult, LabTimestamp, LoincCode, Order, Outcome,
    Patient, PersonName, Priority, Provenance, QcEvent, QcResult, ReferenceRange, ResultReport,
    ResultStatus, ResultValue, Sensitive, SourceProtocol, Specimen, SpecimenQuery, SpecimenRole,
    SubstanceLot, SubstanceType, Text, Unit,
};

use std::borrow::Cow;

use crate::record::{Field, LocatedComponents, LocatedFields, Message, Record, RecordType};

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
    /// How the instrument marks calibrations (none in LIS02-A2).
    pub calibration: CalibrationMarkers,
}

/// How an instrument marks calibration data. LIS02-A2 has no code for a calibrator:
/// O-12 action codes are C, A, N, P, L, X and Q (QC), O-26 report types have no
/// calibration either, and H-12 processing ids are P, T, D and Q. Instruments that
/// send calibrations do it their own way; each way is a marker here, and every
/// marker empty (the generic profile) means no calibration is ever read.
///
/// An order record a marker matches becomes a [`LabEvent::Calibration`] with the
/// order's results as its measurements; a manufacturer record of the named type
/// becomes one with its calibrator levels as measurements (see
/// [`CalibrationMarkers::manufacturer_record`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CalibrationMarkers {
    /// O-12 action codes that mark the order's specimen as a calibrator (compared
    /// ignoring case and padding).
    pub action_codes: &'static [&'static str],
    /// O-16 specimen descriptor values (component 1) that mark a calibrator.
    pub specimen_types: &'static [&'static str],
    /// A component of O-4 (instrument specimen id) and its values that mark a
    /// calibrator, for instruments that put a sample type there (Roche writes
    /// `no^rack^position^^type^container`, with `QC` for controls).
    pub instrument_specimen_type: Option<(usize, &'static [&'static str])>,
    /// The record type sub-id (M-3 component 1) of a manufacturer record holding one
    /// calibration, laid out as Roche's photometric calibration result record
    /// (cobas c 111 host interface manual §5.2.2.10, "M.CR"): M-4 `test
    /// number^name`, M-5 reagent lot, M-6 units, M-7 `container type^reagent name`,
    /// M-10 replicates, M-11 calibration time, M-12 `state^operator` (A accepted, O
    /// calculated, F calculated with flags, X cannot be measured), M-14 curve
    /// parameters, M-15 `container type^^^calibrator lot`, M-16 one repeat per
    /// calibrator level, `target^signal^replicate…^data alarm^prozone`.
    pub manufacturer_record: Option<&'static str>,
}

impl CalibrationMarkers {
    /// No markers: LIS02-A2 as written.
    pub const NONE: Self = Self {
        action_codes: &[],
        specimen_types: &[],
        instrument_specimen_type: None,
        manufacturer_record: None,
    };
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
            calibration: CalibrationMarkers::NONE,
        }
    }

    /// Sysmex XN series (XN-L, XN-550 … XN-9000, public ASTM interface
    /// specification): test code in component 5 (`^^^^WBC^1`, the dilution in 6),
    /// decimal commas on European configurations, O-4 and Q-3 as
    /// `rack^position^sample number^attribute` (the sample number right-aligned in
    /// 22 characters), patient names as `^first^last`. Its O-12 action codes are N
    /// (first analysis), A (rerun, reflex) and Q (QC): the XN interface sends no
    /// calibration, so the profile marks none.
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
    /// code in component 4 with the dilution after a slash (`^^^717/`), decimal
    /// point; calibrations in manufacturer records of type `CR` (cobas c 111
    /// photometric and ISE calibration results, see
    /// [`CalibrationMarkers::manufacturer_record`]).
    pub const fn roche_cobas() -> Self {
        Self {
            name: "Roche cobas",
            test_code_components: &[4, 1],
            lenient_comma: false,
            test_code_suffix_separator: Some('/'),
            calibration: CalibrationMarkers {
                manufacturer_record: Some("CR"),
                ..CalibrationMarkers::NONE
            },
            ..Self::generic()
        }
    }
}

impl Default for Dialect {
    fn default() -> Self {
        Self::generic()
    }
}

/// What the specimen of an order is measured as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// A patient's sample: results.
    Patient,
    /// A control: QC.
    Control,
    /// A calibrator: a calibration.
    Calibrator,
}

/// The event being built.
#[allow(
    clippy::large_enum_variant,
    reason = "one lives on the stack per message; boxing the report would cost an allocation per order"
)]
enum Pending {
    /// The results of one order record (or of results sent without one).
    Report {
        report: ResultReport,
        purpose: Purpose,
    },
    /// A calibration read from a manufacturer record; the comments after the record
    /// are its notes.
    Calibration(CalibrationEvent),
}

/// Maps a parsed message to lab events.
pub fn to_events(message: &Message<'_>, dialect: &Dialect) -> Vec<LabEvent> {
    let mut events = Vec::new();
    let Some(header) = message.header() else {
        return events;
    };
    // H-3 … H-14, located once.
    let header_fields = header.locate_fields::<14>();
    let provenance = provenance(&header_fields);
    let instrument = instrument(&header_fields);
    let message_purpose = if header_fields
        .get(12)
        .text()
        .trim()
        .eq_ignore_ascii_case("Q")
    {
        Purpose::Control
    } else {
        Purpose::Patient
    };
    let mut patient: Option<Patient> = None;
    let mut times = RecentTimes::default();
    let mut pending: Option<Pending> = None;
    let mut last = RecordType::HEADER;
    // Comments on the header belong to every report of the message; comments on a
    // patient to every report of that patient.
    let mut header_notes: Vec<Text> = Vec::new();
    let mut patient_notes: Vec<Text> = Vec::new();
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
                let (order, specimen, purpose) = order_of(&record, dialect);
                let mut report = ResultReport {
                    results: Vec::with_capacity(results_under(message, record.index())),
                    instrument: instrument.clone(),
                    patient: patient.clone(),
                    specimen: Some(specimen),
                    order: Some(order),
                    provenance: provenance.clone(),
                    ..ResultReport::default()
                };
                report.provenance.location =
                    Some(Text::from_fmt(format_args!("O record {}", record.index())));
                report
                    .notes
                    .extend(header_notes.iter().chain(&patient_notes).cloned());
                // A calibrator stays one in a QC message; anything else in a QC
                // message is a control.
                let purpose = match purpose {
                    Purpose::Patient => message_purpose,
                    other => other,
                };
                pending = Some(Pending::Report { report, purpose });
            }
            RecordType::RESULT => {
                if !matches!(pending, Some(Pending::Report { .. })) {
                    // A result without an order: keep it, in a report of its own.
                    flush(&mut pending, &mut events);
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
                    pending = Some(Pending::Report {
                        report,
                        purpose: message_purpose,
                    });
                }
                let Some(Pending::Report { report, .. }) = &mut pending else {
                    continue;
                };
                // Filled where it stays: a result is a large value, and moving it
                // into place costs more than most of its fields.
                report.results.push(LabResult::new(
                    Coding::default(),
                    ResultValue::text(""),
                    ResultStatus::Final,
                ));
                if let Some(result) = report.results.last_mut() {
                    fill_result(
                        result,
                        &record,
                        dialect,
                        &mut times,
                        &mut report.provenance.warnings,
                    );
                }
            }
            RecordType::COMMENT => {
                let text = comment_text(&record);
                if text.is_empty() {
                    continue;
                }
                match (last, &mut pending) {
                    (RecordType::RESULT, Some(Pending::Report { report, .. })) => {
                        if let Some(result) = report.results.last_mut() {
                            result.notes.push(text);
                        }
                    }
                    (RecordType::ORDER, Some(Pending::Report { report, .. })) => {
                        report.notes.push(text);
                    }
                    (RecordType::MANUFACTURER, Some(Pending::Calibration(calibration))) => {
                        calibration.notes.push(text);
                    }
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
            RecordType::MANUFACTURER if is_calibration_record(&record, dialect) => {
                flush(&mut pending, &mut events);
                let mut calibration = calibration_of_record(&record, dialect);
                calibration.instrument = instrument.clone();
                calibration.provenance = Provenance {
                    location: Some(Text::from_fmt(format_args!("M record {}", record.index()))),
                    warnings: calibration.provenance.warnings,
                    ..provenance.clone()
                };
                pending = Some(Pending::Calibration(calibration));
                // Comments after this record are about the calibration.
                last = kind;
                continue;
            }
            _ => {
                let warning = format!("{kind} record {} kept raw, not mapped", record.index());
                match &mut pending {
                    Some(Pending::Report { report, .. }) => {
                        report.provenance.warnings.push(warning);
                    }
                    Some(Pending::Calibration(calibration)) => {
                        calibration.provenance.warnings.push(warning);
                    }
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
    let report = match pending {
        Pending::Calibration(calibration) => return LabEvent::Calibration(calibration),
        Pending::Report {
            report,
            purpose: Purpose::Patient,
        } => return LabEvent::Results(report),
        Pending::Report {
            report,
            purpose: Purpose::Calibrator,
        } => return LabEvent::Calibration(calibration_of_report(report)),
        Pending::Report {
            report,
            purpose: Purpose::Control,
        } => report,
    };
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

/// How many R records follow the O record at `order` before the next record that
/// ends its results, so that the report's results are allocated once.
fn results_under(message: &Message<'_>, order: usize) -> usize {
    (order.saturating_add(1)..message.len())
        .filter_map(|index| message.record(index))
        .map(|record| record.kind())
        .take_while(|kind| {
            !matches!(
                *kind,
                RecordType::PATIENT
                    | RecordType::ORDER
                    | RecordType::QUERY
                    | RecordType::HEADER
                    | RecordType::TERMINATOR
            )
        })
        .filter(|kind| *kind == RecordType::RESULT)
        .count()
}

/// A field's decoded text, trimmed; `None` when blank.
pub(crate) fn text(field: Field<'_>) -> Option<Text> {
    peek(field).map(Text::from)
}

/// A field's decoded text, trimmed, and borrowed from the message when nothing
/// needed decoding: for reading a field without keeping it. `None` when blank.
// Always inlined: read a dozen times per result, and a call costs more than the
// borrowed case it usually takes.
#[inline(always)]
fn peek(field: Field<'_>) -> Option<Cow<'_, str>> {
    match field.text() {
        Cow::Borrowed(text) => Some(trim(text))
            .filter(|text| !text.is_empty())
            .map(Cow::Borrowed),
        Cow::Owned(text) => {
            let trimmed = trim(&text);
            if trimmed.is_empty() {
                None
            } else if trimmed.len() == text.len() {
                Some(Cow::Owned(text))
            } else {
                Some(Cow::Owned(trimmed.to_owned()))
            }
        }
    }
}

/// `text` trimmed; `None` when blank.
pub(crate) fn trimmed(text: &str) -> Option<Text> {
    let trimmed = trim(text);
    (!trimmed.is_empty()).then(|| Text::from(trimmed))
}

/// [`str::trim`], with the ASCII white space that fields are padded with stripped by
/// a byte scan first (the same characters `char::is_whitespace` knows in ASCII, so
/// the result is the same).
fn trim(text: &str) -> &str {
    let is_space = |byte: &u8| matches!(byte, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r');
    let bytes = text.as_bytes();
    // Most fields start and end with printable ASCII: nothing to trim.
    let printable = |byte: Option<&u8>| byte.is_some_and(|byte| byte.is_ascii_graphic());
    if printable(bytes.first()) && printable(bytes.last()) {
        return text;
    }
    let start = bytes
        .iter()
        .position(|byte| !is_space(byte))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|byte| !is_space(byte))
        .map_or(start, |last| last + 1);
    // Both ends are next to ASCII bytes, hence on character boundaries.
    let inner = text.get(start..end).unwrap_or_default();
    let non_ascii_end = |byte: Option<&u8>| byte.is_some_and(|byte| !byte.is_ascii());
    if non_ascii_end(inner.as_bytes().first()) || non_ascii_end(inner.as_bytes().last()) {
        // Other white space (U+00A0, U+3000 …) only str::trim knows.
        inner.trim()
    } else {
        inner
    }
}

/// Timestamps already read in a message, by the bytes of their field. Instruments
/// repeat the same start and completion times (R-12, R-13) on every result of a
/// sample, and reading one, calendar checks included, costs more than most fields of
/// a result. Fields of one message with the same bytes read the same.
#[derive(Default)]
struct RecentTimes<'a> {
    /// The last two fields read and what they read as.
    recent: [Option<(&'a [u8], Option<LabTimestamp>)>; 2],
    /// The slot to replace next.
    next: usize,
}

impl<'a> RecentTimes<'a> {
    /// [`timestamp`], remembered.
    fn read(&mut self, field: Field<'a>) -> Option<LabTimestamp> {
        let raw = field.raw();
        if let Some((_, stamp)) = self.recent.iter().flatten().find(|(seen, _)| *seen == raw) {
            return *stamp;
        }
        let stamp = timestamp(field);
        if let Some(slot) = self.recent.get_mut(self.next) {
            *slot = Some((raw, stamp));
        }
        self.next = (self.next + 1) % self.recent.len();
        stamp
    }
}

/// A date/time field's first component as a timestamp.
pub(crate) fn timestamp(field: Field<'_>) -> Option<LabTimestamp> {
    read_timestamp(&field.component(1).text())
}

/// An ASTM date/time text; `None` when blank, unreadable or Delphi's zero date
/// (1899-12-30), which Phadia and others send for "no date".
pub(crate) fn read_timestamp(text: &str) -> Option<LabTimestamp> {
    let trimmed = trim(text);
    if trimmed.is_empty() || trimmed.starts_with("18991230") {
        return None;
    }
    LabTimestamp::parse_astm(trimmed).ok()
}

fn provenance(header: &LocatedFields<'_, 14>) -> Provenance {
    Provenance {
        version: text(header.get(13)),
        message_id: text(header.get(3)),
        sender: text(header.get(5)),
        sent_at: timestamp(header.get(14)),
        ..Provenance::new(SourceProtocol::Astm)
    }
}

/// H-5, sender name or id: `name^software version^serial number` on most analyzers
/// (Abbott `ARCHITECT^9.45^F3452430028`, Sysmex `XN-550^00-22^11001`).
fn instrument(header: &LocatedFields<'_, 14>) -> Instrument {
    let sender = header.get(5).locate_components::<3>();
    let name = text(sender.get(1));
    Instrument {
        local_id: name.clone(),
        name,
        software_version: text(sender.get(2)),
        serial_number: text(sender.get(3)),
        ..Instrument::default()
    }
}

pub(crate) fn patient_of(record: &Record<'_>, dialect: &Dialect) -> Patient {
    let fields = record.field_table::<9>();
    let field = |number: usize| fields.get(number);
    let ids = [(3, "PI"), (4, "PT"), (5, "PN")]
        .into_iter()
        .filter_map(|(number, _kind)| text(fields.component(number, 1)))
        .map(|value| Sensitive::new(Identifier::new(value)))
        .collect();
    let name_parts = fields.components::<5>(6);
    let [family, given, middle] = dialect.patient_name_components;
    let name = PersonName {
        family: text(name_parts.get(family)),
        given: text(name_parts.get(given)),
        middle: text(name_parts.get(middle)),
        suffix: text(name_parts.get(4)),
        prefix: text(name_parts.get(5)),
    };
    let has_name = name != PersonName::default();
    Patient {
        ids,
        name: has_name.then(|| Sensitive::new(name)),
        birth_date: read_timestamp(&fields.component(8, 1).text()).map(Sensitive::new),
        sex: text(field(9))
            .map(|code| Sensitive::new(labwire_model::AdministrativeSex::from_code(&code))),
    }
}

/// O-3 specimen id, O-4 instrument specimen id (`id^rack^position`), O-5 tests, O-6
/// priority, O-7 requested, O-8 collected, O-12 action code, O-15 received, O-16
/// specimen descriptor, O-26 report type.
fn order_of(record: &Record<'_>, dialect: &Dialect) -> (Order, Specimen, Purpose) {
    let fields = record.field_table::<26>();
    let field = |number: usize| fields.get(number);
    let [id, carrier, position] = dialect.instrument_specimen_components;
    let specimen_id = text(fields.component(3, 1)).or_else(|| text(fields.component(4, id)));
    let action = text(field(12));
    let markers = &dialect.calibration;
    let calibrator = action
        .as_deref()
        .is_some_and(|code| one_of(code, markers.action_codes))
        || peek(fields.component(16, 1)).is_some_and(|kind| one_of(&kind, markers.specimen_types))
        || markers
            .instrument_specimen_type
            .is_some_and(|(component, codes)| {
                peek(fields.component(4, component)).is_some_and(|kind| one_of(&kind, codes))
            });
    let purpose = if calibrator {
        Purpose::Calibrator
    } else if action
        .as_deref()
        .is_some_and(|code| code.eq_ignore_ascii_case("Q"))
    {
        Purpose::Control
    } else {
        Purpose::Patient
    };
    let specimen = Specimen {
        ids: specimen_id
            .into_iter()
            .map(|id| Sensitive::new(Identifier::new(id)))
            .collect(),
        role: match purpose {
            Purpose::Patient => SpecimenRole::Patient,
            Purpose::Control => SpecimenRole::Control,
            Purpose::Calibrator => SpecimenRole::Calibrator,
        },
        kind: text(fields.component(16, 1)).map(Coding::local),
        collected_at: read_timestamp(&fields.component(8, 1).text()),
        received_at: read_timestamp(&fields.component(15, 1).text()),
        container: rack_position(fields.component(4, carrier), fields.component(4, position)),
        ..Specimen::default()
    };
    let order = Order {
        placer_id: text(fields.component(3, 1)).map(|id| Sensitive::new(Identifier::new(id))),
        tests: field(5)
            .repeats()
            .filter_map(|test| test_code(test, dialect))
            .map(Coding::local)
            .collect(),
        priority: text(field(6)).map(|code| Priority::from_code(&code)),
        requested_at: read_timestamp(&fields.component(7, 1).text()),
        action,
        status: text(field(26)),
        ..Order::default()
    };
    (order, specimen, purpose)
}

/// Whether `code` is one of `codes`, ignoring case (instruments write `cal` and
/// `CAL`).
fn one_of(code: &str, codes: &[&str]) -> bool {
    codes.iter().any(|listed| listed.eq_ignore_ascii_case(code))
}

/// Whether a manufacturer record is the dialect's calibration record.
fn is_calibration_record(record: &Record<'_>, dialect: &Dialect) -> bool {
    dialect.calibration.manufacturer_record.is_some_and(|kind| {
        peek(record.field(3).component(1)).is_some_and(|sent| one_of(&sent, &[kind]))
    })
}

/// A calibrator order's report as a calibration: its results are the
/// measurements; the test is the one all of them (or the order) name; the time is
/// when the last of them was measured; the calibrator specimen's id names the
/// calibrator material. Patient, priority and order ids have no place in a
/// calibration and are dropped.
fn calibration_of_report(report: ResultReport) -> CalibrationEvent {
    let mut codes = report.results.iter().map(|result| &result.test);
    let test = match codes.next() {
        Some(first) if codes.all(|other| other.code == first.code) => Some(first.clone()),
        Some(_) => None,
        None => report
            .order
            .as_ref()
            .and_then(|order| (order.tests.len() == 1).then(|| order.tests.first().cloned()))
            .flatten(),
    };
    let at = report
        .results
        .iter()
        .rev()
        .find_map(|result| result.analyzed_at.or(result.observed_at));
    let calibrator = report
        .specimen
        .as_ref()
        .and_then(|specimen| specimen.ids.first())
        .map(|id| SubstanceLot {
            kind: Some(SubstanceType::Calibrator),
            material: Some(Coding::local(id.expose().value.clone())),
            ..SubstanceLot::default()
        });
    CalibrationEvent {
        instrument: report.instrument,
        test,
        at,
        substances: calibrator.into_iter().collect(),
        results: report.results,
        notes: report.notes,
        provenance: report.provenance,
        ..CalibrationEvent::default()
    }
}

/// A manufacturer calibration record (see
/// [`CalibrationMarkers::manufacturer_record`]) as a calibration, instrument and
/// provenance left for the caller. One measurement per calibrator level: its value
/// is the signal, the replicate signals follow as further values, the whole level
/// is kept raw, and the level's target concentration is said in a note.
fn calibration_of_record(record: &Record<'_>, dialect: &Dialect) -> CalibrationEvent {
    let fields = record.locate_fields::<16>();
    let test_id = fields.get(4).locate_components::<2>();
    let test = peek(test_id.get(1)).map(|code| {
        let mut test = Coding::local(code.into_owned());
        test.display = text(test_id.get(2));
        test
    });
    let units = text(fields.get(6));
    let container = fields.get(7).locate_components::<2>();
    let reagent = SubstanceLot {
        // A bottle set holds one test's reagents; an ISE electrode is not a reagent.
        kind: match peek(container.get(1)).as_deref() {
            Some("BS") => Some(SubstanceType::SingleTestReagent),
            Some(_) => Some(SubstanceType::OtherSubstance),
            None => None,
        },
        material: text(container.get(2)).map(Coding::local),
        lot: text(fields.get(5)),
        ..SubstanceLot::default()
    };
    let calibrator = SubstanceLot {
        kind: Some(SubstanceType::Calibrator),
        lot: text(fields.get(15).component(4)),
        ..SubstanceLot::default()
    };
    let replicates: usize = peek(fields.get(10))
        .and_then(|count| count.parse().ok())
        .unwrap_or(1)
        .min(MAX_CALIBRATION_REPLICATES);
    let state_field = fields.get(12);
    let state = peek(state_field.component(1));
    let operator = text(state_field.component(2)).map(Sensitive::new);
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    let (state, outcome) = match state.as_deref() {
        None => (None, None),
        Some("A") => (Some(CalibrationState::Calibrated), Some(Outcome::Pass)),
        Some("X") => (None, Some(Outcome::Fail)),
        Some(code @ ("O" | "F")) => {
            let flags = if code == "F" {
                "with flags"
            } else {
                "without flags"
            };
            notes.push(format!("calculated {flags}, not accepted (M-12 {code})"));
            (None, None)
        }
        Some(code) => {
            warnings.push(format!(
                "M record {}: calibration state {code:?} (M-12) not understood",
                record.index()
            ));
            (None, None)
        }
    };
    let curve: Vec<Cow<'_, str>> = fields.get(14).components().filter_map(peek).collect();
    if !curve.is_empty() {
        notes.push(format!("curve parameters {}", curve.join(" ")));
    }
    let results = fields
        .get(16)
        .repeats()
        .enumerate()
        .filter(|(_, level)| !trim(&level.text()).is_empty())
        .map(|(index, level)| {
            let number = index + 1;
            let level_result =
                calibration_level(level, test.clone().unwrap_or_default(), replicates, dialect);
            LabResult {
                sequence: u32::try_from(number).ok(),
                operator: operator.clone(),
                analyzed_at: timestamp(fields.get(11)),
                notes: peek(level.component(1))
                    .map(|target| {
                        let unit = units
                            .as_deref()
                            .map_or(String::new(), |unit| format!(" {unit}"));
                        Text::from(format!("calibrator level {number}, target {target}{unit}"))
                    })
                    .into_iter()
                    .collect(),
                ..level_result
            }
        })
        .collect();
    CalibrationEvent {
        test,
        state,
        outcome,
        at: timestamp(fields.get(11)),
        // A lot the record does not name is left out rather than listed empty.
        substances: [reagent, calibrator]
            .into_iter()
            .filter(|lot| lot.lot.is_some() || lot.material.is_some())
            .collect(),
        results,
        notes: notes.into_iter().map(Into::into).collect(),
        provenance: Provenance {
            warnings,
            ..Provenance::new(SourceProtocol::Astm)
        },
        ..CalibrationEvent::default()
    }
}

/// The most replicate signals read from one calibrator level: the record's count
/// (M-10) comes from the wire.
const MAX_CALIBRATION_REPLICATES: usize = 16;

/// One calibrator level of a manufacturer calibration record,
/// `target^signal^replicate…^data alarm^prozone`: the signal as the value, the
/// replicates as further values, a data alarm other than `0` as the flag.
fn calibration_level(
    level: Field<'_>,
    test: Coding,
    replicates: usize,
    dialect: &Dialect,
) -> LabResult {
    let number = |component: usize| {
        peek(level.component(component)).map(|text| {
            let mark = decimal_mark(&text, dialect);
            ResultValue::from_text_lenient(&text, None, mark)
        })
    };
    let mut result = LabResult::new(test, ResultValue::text(""), ResultStatus::from_code("F"));
    if let Some(signal) = number(2) {
        result.value = signal;
    }
    result.additional_values = (3..3 + replicates).filter_map(number).collect();
    result.interpretation = peek(level.component(3 + replicates))
        .filter(|alarm| alarm != "0")
        .map(|alarm| Interpretation::from_code(&alarm))
        .into_iter()
        .collect();
    let raw = level.text();
    let raw = trim(&raw);
    result.raw_value = (!raw.is_empty()).then(|| Text::from(raw));
    result
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
pub(crate) fn test_code(field: Field<'_>, dialect: &Dialect) -> Option<Text> {
    let components = field.locate_components::<UNIVERSAL_TEST_ID_COMPONENTS>();
    test_code_at(&components, dialect).map(|(_, code)| Text::from(code))
}

/// Components of a universal test id located in one pass; LIS02-A2 defines four and
/// instruments use up to eleven (Abbott Architect). Any further ones are read on
/// demand.
const UNIVERSAL_TEST_ID_COMPONENTS: usize = 12;

/// The test code and the component it was found in.
fn test_code_at<'a, const N: usize>(
    components: &LocatedComponents<'a, N>,
    dialect: &Dialect,
) -> Option<(usize, Cow<'a, str>)> {
    let (number, code) = dialect
        .test_code_components
        .iter()
        .find_map(|number| peek(components.get(*number)).map(|code| (*number, code)))?;
    let Some(separator) = dialect.test_code_suffix_separator else {
        return Some((number, code));
    };
    let code = match code {
        Cow::Borrowed(code) => Cow::Borrowed(before_suffix(code, separator).unwrap_or(code)),
        Cow::Owned(code) => {
            let cut = before_suffix(&code, separator)
                .filter(|head| head.len() < code.len())
                .map(str::to_owned);
            Cow::Owned(cut.unwrap_or(code))
        }
    };
    Some((number, code))
}

/// The code before its suffix (`717` of `717/2`), trimmed; `None` when that is blank,
/// so that a code that is all suffix (`/2`) keeps its text rather than becoming blank.
fn before_suffix(code: &str, separator: char) -> Option<&str> {
    // An ASCII separator (all real ones) is found byte by byte: codes are short, and
    // a general character search costs more than the scan.
    let found = match u8::try_from(separator) {
        Ok(byte) if byte.is_ascii() => code.bytes().position(|other| other == byte),
        _ => code.find(separator),
    };
    let end = found.unwrap_or(code.len());
    let head = trim(code.get(..end)?);
    (!head.is_empty()).then_some(head)
}

/// The decimal mark of a value or range: the dialect's, or a comma when the dialect
/// reads one leniently and the text has exactly one comma and no point (`7,41`).
fn decimal_mark(raw: &str, dialect: &Dialect) -> DecimalMark {
    if dialect.decimal_mark == DecimalMark::Comma {
        return DecimalMark::Comma;
    }
    let bytes = raw.as_bytes();
    let one_comma =
        || bytes.iter().filter(|byte| **byte == b',').count() == 1 && !bytes.contains(&b'.');
    if dialect.lenient_comma && one_comma() {
        DecimalMark::Comma
    } else {
        DecimalMark::Point
    }
}

/// R-3 test, R-4 value, R-5 units, R-6 range, R-7 flags, R-9 status, R-11 operator,
/// R-12 started, R-13 completed, R-14 instrument.
/// `result` is new (`LabResult::new`, final, empty text); `warnings` are the report's.
fn fill_result<'a>(
    result: &mut LabResult,
    record: &Record<'a>,
    dialect: &Dialect,
    times: &mut RecentTimes<'a>,
    warnings: &mut Vec<String>,
) {
    // R-3 test, R-4 value, R-5 units, R-6 range, R-7 flags, R-9 status, R-11 operator,
    // R-12 started, R-13 completed, R-14 instrument: located in one pass, each made
    // where it is read.
    let fields = record.field_table::<14>();
    let test_field = fields.get(3);
    let test_id = fields.components::<UNIVERSAL_TEST_ID_COMPONENTS>(3);
    let (code_component, code) = test_code_at(&test_id, dialect).unwrap_or((0, Cow::Borrowed("")));
    let display = peek(test_id.get(2))
        .filter(|display| *display != code)
        .map(Text::from);
    result.test.code = Text::from(code);
    result.test.display = display;
    universal_test_id_extras(test_field, &test_id, code_component, result);

    // The value is in R-4 component 1 (or the dialect's); some instruments put it
    // elsewhere (GeneXpert Ct values as `^24.7`), so an empty one falls back to the
    // first non-empty component, with a warning. The whole field is kept raw.
    let value_field = fields.get(4);
    let raw = value_field.text();
    let raw = trim(&raw);
    let mut value_text = peek(fields.component(4, dialect.value_component));
    if value_text.is_none()
        && let Some((number, found)) = value_field
            .components()
            .enumerate()
            .find_map(|(index, component)| peek(component).map(|found| (index + 1, found)))
    {
        warnings.push(format!(
            "R record {}: value read from R-4 component {number}",
            record.index()
        ));
        value_text = Some(found);
    }
    if let Some(value_text) = &value_text {
        let unit = text(fields.get(5)).map(Unit::new);
        result.value =
            ResultValue::from_text_lenient(value_text, unit, decimal_mark(value_text, dialect));
    }
    result.raw_value = (!raw.is_empty()).then(|| Text::from(raw));
    let (status, status_raw) = status_of(peek(fields.get(9)).as_deref());
    result.status = status;
    result.status_raw = status_raw;
    result.sequence = peek(fields.get(2)).and_then(|n| n.parse().ok());
    result.reference_range = peek(fields.component(6, 1)).map(|range| {
        let mark = decimal_mark(&range, dialect);
        ReferenceRange::parse_lenient(&range, mark)
    });
    // Mostly one flag or none: a blank field makes no list, and the list is made
    // for the flags there are rather than collected through an iterator.
    let flags = fields.get(7);
    if !flags.is_empty() {
        let mut interpretation = Vec::with_capacity(1);
        for flag in flags.repeats().filter_map(peek) {
            interpretation.push(Interpretation::from_code(&flag));
        }
        result.interpretation = interpretation;
    }
    result.operator = text(fields.component(11, 1)).map(Sensitive::new);
    result.observed_at = times.read(fields.get(12));
    result.analyzed_at = times.read(fields.get(13));
    result.instrument = text(fields.get(14)).map(Instrument::with_local_id);
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
fn status_of(sent: Option<&str>) -> (ResultStatus, Option<Text>) {
    match sent {
        None => (ResultStatus::Final, Some(Text::new())),
        Some("F") => (ResultStatus::Final, None),
        Some(code @ ("P" | "C" | "X" | "I" | "S")) => (ResultStatus::from_code(code), None),
        Some(code @ ("R" | "V" | "M" | "N" | "Q")) => {
            (ResultStatus::from_code("F"), Some(Text::from(code)))
        }
        Some(code @ "W") => (ResultStatus::from_code("P"), Some(Text::from(code))),
        Some(other) => (ResultStatus::from_code(other), None),
    }
}

/// What a universal test id says beyond the test code: a LOINC code in any
/// component, and, when any component besides the code and the name is filled
/// (result type `MIC`/`INTERP`, dilution, analyte, reagent lot …), the whole id as
/// an alternative coding in the `local:UTID` system, so results that differ only
/// there stay distinct and nothing is lost.
fn universal_test_id_extras<const N: usize>(
    field: Field<'_>,
    components: &LocatedComponents<'_, N>,
    code_component: usize,
    result: &mut LabResult,
) {
    let mut more = false;
    for number in 1..=components.len() {
        if number == code_component || number == 2 {
            continue;
        }
        let Some(value) = peek(components.get(number)) else {
            continue;
        };
        if result.loinc.is_none()
            && value.contains('-')
            && let Ok(loinc) = LoincCode::parse(&value)
        {
            result.loinc = Some(loinc);
            continue;
        }
        more = true;
    }
    if more || components.is_repeated() {
        result.alt_tests.push(Coding::new(
            CodeSystem::Local("UTID".into()),
            trim(&field.text()),
        ));
    }
}

/// C-4, the comment text: its repeats and components joined by spaces.
pub(crate) fn comment_text(record: &Record<'_>) -> Text {
    let mut joined = String::new();
    for repeat in record.field(4).repeats() {
        for part in repeat.components().filter_map(peek) {
            if !joined.is_empty() {
                joined.push(' ');
            }
            joined.push_str(&part);
        }
    }
    Text::from(joined)
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
    provenance.location = Some(Text::from_fmt(format_args!("Q record {}", record.index())));
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
    fn trim_is_str_trim() {
        for text in [
            "",
            " ",
            "a",
            " a ",
            "\ta\r\n",
            "\u{b}x\u{c}",
            "\u{a0}x\u{3000}",
            " \u{3000} y ",
            "é ",
            "x\u{85}",
        ] {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }

    mod properties {
        use super::*;
        use crate::record::test_session;
        use proptest::prelude::*;

        /// Every calibration marker set, to reach every path.
        const ALL_MARKERS: Dialect = Dialect {
            calibration: CalibrationMarkers {
                action_codes: &["C"],
                specimen_types: &["CAL"],
                instrument_specimen_type: Some((5, &["CA"])),
                manufacturer_record: Some("CR"),
            },
            ..Dialect::generic()
        };

        proptest! {
            #[test]
            fn trim_is_str_trim_for_any_text(text in "[ \t\r\n\u{b}\u{c}\u{a0}\u{3000}a-zé]{0,12}") {
                prop_assert_eq!(trim(&text), text.trim());
            }

            /// Records of any shape, in any charset, map under every dialect without a
            /// panic, and every R record is a result somewhere.
            #[test]
            fn any_records_map_without_panic(
                lines in proptest::collection::vec(
                    prop_oneof![
                        "[HPORCMQLhporcml][|^\\\\&0-9A-Z .,<>\\-ソタポ]{0,40}",
                        "M\\|1\\|CR\\^BM\\|[|^\\\\&0-9A-Z .\\-ソ]{0,60}",
                        "O\\|1\\|[A-Z0-9]{0,4}\\|[0-9^]{0,8}\\|\\^\\^\\^[A-Z]{1,3}\\|R\\|{0,10}[CQN]?\\|{0,4}(CAL)?",
                    ],
                    0..14,
                ),
                pick in 0usize..4,
            ) {
                let (bytes, options) = test_session(&lines, pick);
                let Ok((messages, _)) = crate::record::parse_messages(&bytes, &options) else {
                    return Ok(());
                };
                for message in &messages {
                    for dialect in [Dialect::generic(), Dialect::sysmex_xn(), Dialect::roche_cobas(), ALL_MARKERS] {
                        let events = to_events(message, &dialect);
                        let results: usize = events
                            .iter()
                            .map(|event| match event {
                                LabEvent::Results(report) => report.results.len(),
                                LabEvent::Qc(qc) => qc.results.len(),
                                LabEvent::Calibration(calibration)
                                    if calibration
                                        .provenance
                                        .location
                                        .as_deref()
                                        .is_some_and(|at| at.starts_with("O record")) =>
                                {
                                    calibration.results.len()
                                }
                                _ => 0,
                            })
                            .sum();
                        let r_records = message
                            .records()
                            .filter(|record| record.kind() == RecordType::RESULT)
                            .count();
                        prop_assert_eq!(results, r_records);
                    }
                }
            }
        }
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
