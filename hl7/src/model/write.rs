//! Building HL7 v2.5.1 messages from lab events.
//!
//! [`write_oul_r22`] (IHE LAW LAB-29 shape) and [`write_oru_r01`] write a
//! [`ResultReport`]; [`write_oml_o33`] (LAB-28) writes a [`WorkOrder`]. Every value goes
//! through [`OwnedMessage::set`], so delimiters in the data are escaped and text is
//! encoded as MSH-18 `UNICODE UTF-8`, which every message written here declares. The
//! caller supplies what the model does not hold: MSH-7, MSH-10 and the other side of
//! the conversation ([`Envelope`]). No clock is read.
//!
//! Reading a written message with [`to_events`](super::to_events) gives the event back,
//! except for what the message cannot carry:
//!
//! | model | OUL^R22 | note |
//! |---|---|---|
//! | instrument | MSH-3.1 only | `local_id` (else `name`) is written; both read back as that text; other fields are not carried |
//! | specimen ids | SPM-2.1 (first without type, or `PLAC`), SPM-2.2 (first `FILL`), SAC-2 (first `ACSN`) | other ids are not carried; `PLAC` reads back without type |
//! | specimen | SPM always (the segment is required) | a report without one reads back with an empty patient specimen; `preparation` is not carried |
//! | container | SPM-27 kind, SAC-3 id, SAC-10 carrier, SAC-11 position | |
//! | order | OBR-2/3/4, ORC-1/2/3/5/9, TQ1-9 | only the first test (one OBR per report); ORC-1 is required, so an empty action is written as `SC` (`RE` in ORU, `NW` in OML); identifier types are not carried |
//! | result `test`, `alt_tests`, `loinc` | OBX-3: CWE.1–3 and one alternate CWE.4–6 | further alternates are not carried; `loinc` is written as the alternate when the test is not that LOINC code and no alternate is given, and is otherwise read back from the LN coding |
//! | `value`, `additional_values` | OBX-2 from the first value, OBX-5 repetitions | all repetitions share OBX-2 and OBX-6: values of another kind are written as their text, units of later values are those of the first |
//! | `raw_value`, `status_raw` | — | derived when reading |
//! | `Absent` value | empty OBX-5 | the reason and text are not carried (reads back as `unknown`) |
//! | `Boolean` | CWE `Y^Yes^HL70136` / `N^No^HL70136` | |
//! | `reference_range` | OBX-7 text | bounds are re-read from the text; `applies_to` is not carried |
//! | result `instrument` | OBX-18 EI repetitions | only `ids` (value and assigner) |
//! | `substances` | SID after the OBX: material, lot, manufacturer | kind, expiry and level are not carried |
//! | `dilution`, `rerun` | TCD after the OBX: TCD-2 (TCD-3 for a diluted rerun), TCD-8 `R`/`D` | `rerun: false` writes no repeat status; ORU^R01 has no TCD |
//! | `run_id` | — | no HL7 v2 field holds it |
//! | notes | NTE after OBR (or after PID, or MSH, when there is no order) | |
//! | provenance | MSH | describes the message, not the report: not carried |
//!
//! ORU^R01 carries the same except containers, accession ids, substances, dilutions
//! and repeat statuses (no SAC, SID or TCD in ORU_R01), and always has an OBR. OML^O33 carries the work order's patient,
//! specimen (as above) and order; its notes follow the OBR.

use std::borrow::Cow;

use labwire_model::{
    CodeSystem, Coding, IdentifierType, LabEvent, LabResult, LabTimestamp, Order, Patient,
    Precision, ResultReport, ResultValue, Specimen, Text, Unit, WorkOrder,
};

use super::MapError;
use crate::encoding::Delimiters;
use crate::message::{MAX_INPUT_SIZE, ParseOptions, Terminator};
use crate::write::OwnedMessage;

/// What a message written from the model needs beyond the event: MSH-7, MSH-10, MSH-11,
/// and the application and facility on the other side.
///
/// In results (OUL, ORU) the instrument sends: MSH-3 is the instrument, MSH-4
/// `instrument_facility`, MSH-5/6 the host. In work orders (OML) the host sends to
/// the instrument, so the two swap.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Envelope {
    /// MSH-10, the message control id.
    pub control_id: String,
    /// MSH-7, when the message was created.
    pub sent_at: LabTimestamp,
    /// MSH-11, the processing id (`P` production, `T` training, `D` debugging).
    pub processing_id: String,
    /// The LIS or middleware application (MSH-5 of results, MSH-3 of orders).
    pub host_application: Option<String>,
    /// Its facility.
    pub host_facility: Option<String>,
    /// The instrument's facility.
    pub instrument_facility: Option<String>,
}

impl Envelope {
    /// An envelope with a control id and a creation time, processing id `P`.
    pub fn new(control_id: impl Into<String>, sent_at: LabTimestamp) -> Self {
        Self {
            control_id: control_id.into(),
            sent_at,
            processing_id: "P".to_owned(),
            host_application: None,
            host_facility: None,
            instrument_facility: None,
        }
    }

    /// Sets the host application and facility.
    pub fn with_host(mut self, application: impl Into<String>, facility: Option<String>) -> Self {
        self.host_application = Some(application.into());
        self.host_facility = facility;
        self
    }
}

/// The version written in MSH-12.
const VERSION: &str = "2.5.1";

/// MSH-18 of every message written here: UTF-8 holds any text the model holds.
const CHARSET: &str = "UNICODE UTF-8";

/// Writes an event in the message that carries it: results as OUL^R22, work orders as
/// OML^O33.
///
/// # Errors
/// [`MapError::NotWritable`] for other event kinds; [`MapError::Hl7`] if the syntax
/// layer refuses a value.
pub fn write_event(event: &LabEvent, envelope: &Envelope) -> Result<OwnedMessage, MapError> {
    match event {
        LabEvent::Results(report) => write_oul_r22(report, envelope),
        LabEvent::WorkOrder(order) => write_oml_o33(order, envelope),
        other => Err(MapError::NotWritable { kind: other.kind() }),
    }
}

/// Writes a result report as OUL^R22 v2.5.1 (IHE LAW LAB-29: `MSH [PID] SPM [SAC]
/// [OBR ORC [NTE] [TQ1]] {OBX [TCD] [SID] [NTE]}`). See the [module table](self) for what
/// is carried.
///
/// # Errors
/// [`MapError::Hl7`] if the syntax layer refuses a value.
pub fn write_oul_r22(report: &ResultReport, envelope: &Envelope) -> Result<OwnedMessage, MapError> {
    let mut b = Builder::new();
    let instrument = instrument_name(report);
    b.header(
        envelope,
        ("OUL", "R22", "OUL_R22"),
        [
            Some(instrument),
            envelope.instrument_facility.as_deref(),
            envelope.host_application.as_deref(),
            envelope.host_facility.as_deref(),
        ],
        Some(("LAB-29", "IHE")),
    )?;
    let early_notes = report.order.is_none();
    if early_notes && report.patient.is_none() {
        b.notes(&report.notes)?;
    }
    if let Some(patient) = &report.patient {
        b.patient(patient)?;
        if early_notes {
            b.notes(&report.notes)?;
        }
    }
    let empty = Specimen::default();
    let specimen = report.specimen.as_ref().unwrap_or(&empty);
    b.specimen(specimen)?;
    b.container(specimen)?;
    if let Some(order) = &report.order {
        let obr = b.add("OBR")?;
        b.order_request(obr, order)?;
        b.order_control(order, "SC")?;
        b.notes(&report.notes)?;
        b.timing(order)?;
    }
    for result in &report.results {
        b.observation(result, true)?;
    }
    b.finish()
}

/// Writes a result report as ORU^R01 v2.5.1 (`MSH [PID] [ORC] OBR [NTE] [TQ1] {OBX
/// [NTE]} [SPM]`). ORU_R01 has no SAC or SID: containers, accession ids and
/// substances are not carried; a report without an order gets an empty OBR.
///
/// # Errors
/// [`MapError::Hl7`] if the syntax layer refuses a value.
pub fn write_oru_r01(report: &ResultReport, envelope: &Envelope) -> Result<OwnedMessage, MapError> {
    let mut b = Builder::new();
    let instrument = instrument_name(report);
    b.header(
        envelope,
        ("ORU", "R01", "ORU_R01"),
        [
            Some(instrument),
            envelope.instrument_facility.as_deref(),
            envelope.host_application.as_deref(),
            envelope.host_facility.as_deref(),
        ],
        None,
    )?;
    if let Some(patient) = &report.patient {
        b.patient(patient)?;
    }
    let empty = Order::default();
    if let Some(order) = &report.order {
        b.order_control(order, "RE")?;
    }
    let obr = b.add("OBR")?;
    b.order_request(obr, report.order.as_ref().unwrap_or(&empty))?;
    b.notes(&report.notes)?;
    if let Some(order) = &report.order {
        b.timing(order)?;
    }
    for result in &report.results {
        b.observation(result, false)?;
    }
    if let Some(specimen) = &report.specimen {
        b.specimen(specimen)?;
    }
    b.finish()
}

/// Writes a work order as OML^O33 v2.5.1 (IHE LAW LAB-28: `MSH [PID] SPM [SAC] ORC
/// [TQ1] OBR [NTE]`), from the host to the instrument.
///
/// # Errors
/// [`MapError::Hl7`] if the syntax layer refuses a value.
pub fn write_oml_o33(order: &WorkOrder, envelope: &Envelope) -> Result<OwnedMessage, MapError> {
    let mut b = Builder::new();
    let instrument = order
        .instrument
        .local_id
        .as_deref()
        .or(order.instrument.name.as_deref())
        .unwrap_or_default();
    b.header(
        envelope,
        ("OML", "O33", "OML_O33"),
        [
            envelope.host_application.as_deref(),
            envelope.host_facility.as_deref(),
            Some(instrument),
            envelope.instrument_facility.as_deref(),
        ],
        Some(("LAB-28", "IHE")),
    )?;
    if let Some(patient) = &order.patient {
        b.patient(patient)?;
    }
    let empty = Specimen::default();
    let specimen = order.specimen.as_ref().unwrap_or(&empty);
    b.specimen(specimen)?;
    b.container(specimen)?;
    b.order_control(&order.order, "NW")?;
    b.timing(&order.order)?;
    let obr = b.add("OBR")?;
    b.order_request(obr, &order.order)?;
    b.notes(&order.notes)?;
    b.finish()
}

fn instrument_name(report: &ResultReport) -> &str {
    report
        .instrument
        .local_id
        .as_deref()
        .or(report.instrument.name.as_deref())
        .unwrap_or_default()
}

/// The HL7 mnemonic (table 0396) of a code system: the reverse of reading.
fn system_mnemonic(system: &CodeSystem) -> Cow<'_, str> {
    match system {
        CodeSystem::Loinc => Cow::Borrowed("LN"),
        CodeSystem::Snomed => Cow::Borrowed("SCT"),
        CodeSystem::Ucum => Cow::Borrowed("UCUM"),
        CodeSystem::Hl7Table(table) => Cow::Owned(format!("HL7{table:04}")),
        CodeSystem::Local(name) | CodeSystem::Other(name) => Cow::Borrowed(name.as_str()),
        other => other.uri(),
    }
}

/// ED type of data (0191) and subtype (0291) for a media type: the reverse of reading.
fn ed_type(media_type: &str) -> (Cow<'_, str>, Option<Cow<'_, str>>) {
    let Some((family, subtype)) = media_type.split_once('/') else {
        return (Cow::Borrowed(media_type), None);
    };
    let kind = match family.to_ascii_lowercase().as_str() {
        "image" => "IM",
        "application" => "AP",
        "text" => "TEXT",
        "audio" => "AU",
        _ => return (Cow::Borrowed(family), Some(Cow::Borrowed(subtype))),
    };
    (
        Cow::Borrowed(kind),
        Some(Cow::Owned(subtype.to_ascii_uppercase())),
    )
}

fn ed_encoding(encoding: &str) -> &str {
    match encoding {
        "base64" => "Base64",
        "hex" => "Hex",
        other => other,
    }
}

/// The longest ST value (v2.5.1 ch. 2A.74: "up to 199 characters").
const ST_MAX: usize = 199;

fn value_type(result: &LabResult) -> &'static str {
    let values = || core::iter::once(&result.value).chain(&result.additional_values);
    let qualified = values().any(
        |value| matches!(value, ResultValue::Quantity(quantity) if quantity.comparator.is_some()),
    );
    let first = values()
        .find(|value| !matches!(value, ResultValue::Absent { .. }))
        .unwrap_or(&result.value);
    match first {
        ResultValue::Quantity(_) if qualified => "SN",
        ResultValue::Quantity(_) => "NM",
        ResultValue::Range { .. } | ResultValue::Ratio { .. } => "SN",
        ResultValue::Coded(_) | ResultValue::Boolean { .. } => "CWE",
        ResultValue::Text { .. } => {
            let short = values().all(|value| match value {
                ResultValue::Text { text } => {
                    text.chars().count() <= ST_MAX && !text.contains(['\r', '\n'])
                }
                _ => true,
            });
            if short { "ST" } else { "TX" }
        }
        ResultValue::DateTime { value } => {
            let date_only = !value.precision().is_finer_than(Precision::Day);
            if date_only && value.offset().is_none() {
                "DT"
            } else {
                "TS"
            }
        }
        ResultValue::Attachment { .. } => "ED",
        _ => "",
    }
}

/// A value written in a type it is not (a mixed repetition): its text.
fn rendered(value: &ResultValue) -> String {
    match value {
        ResultValue::Quantity(quantity) => format!(
            "{}{}",
            quantity.comparator.map_or("", |c| c.as_str()),
            quantity.value
        ),
        ResultValue::Range { low, high, .. } => format!(
            "{}-{}",
            low.as_ref().map_or("", |d| d.as_str()),
            high.as_ref().map_or("", |d| d.as_str())
        ),
        ResultValue::Ratio {
            numerator,
            denominator,
            comparator,
        } => format!(
            "{}{numerator}:{denominator}",
            comparator.map_or("", |c| c.as_str())
        ),
        ResultValue::Coded(coding) => coding.code.clone().into(),
        ResultValue::Text { text } => text.clone().into(),
        ResultValue::Boolean { value } => if *value { "Y" } else { "N" }.to_owned(),
        ResultValue::DateTime { value } => value.format_hl7(),
        ResultValue::Attachment { data, .. } => data.clone().into(),
        _ => String::new(),
    }
}

/// A segment of the message being built: the header, or the segment being written.
#[derive(Clone, Copy)]
struct Seg {
    id: &'static str,
}

const MSH: Seg = Seg { id: "MSH" };

/// Builds a message segment by segment. Each segment is written through its own small
/// [`OwnedMessage`] (with the header's delimiters and charset), so every value is
/// escaped and encoded by the syntax layer and an edit never scans the whole message.
struct Builder {
    header: OwnedMessage,
    /// The segments written so far, each CR-terminated.
    done: Vec<u8>,
    /// `MSH` plus the segment being written.
    current: Option<OwnedMessage>,
}

impl Builder {
    fn new() -> Self {
        Self {
            header: OwnedMessage::new(Delimiters::default(), Terminator::Cr),
            done: Vec::new(),
            current: None,
        }
    }

    /// Starts segment `id`; the previous one is finished.
    fn add(&mut self, id: &'static str) -> Result<Seg, MapError> {
        self.flush();
        let mut scratch = OwnedMessage::new(Delimiters::default(), Terminator::Cr);
        scratch.set("MSH-18", CHARSET)?;
        scratch.add_segment(id)?;
        self.current = Some(scratch);
        Ok(Seg { id })
    }

    fn flush(&mut self) {
        if let Some(scratch) = self.current.take()
            && let Some(bytes) = scratch.segment_bytes(1)
        {
            self.done.extend_from_slice(bytes);
            self.done.push(b'\r');
        }
    }

    /// The message: the header, then every segment.
    fn finish(mut self) -> Result<OwnedMessage, MapError> {
        self.flush();
        let mut bytes = self.header.to_bytes();
        bytes.extend_from_slice(&self.done);
        // What was built is well formed; only the size limits need lifting.
        let options = ParseOptions {
            max_message_size: MAX_INPUT_SIZE,
            max_segments: usize::MAX,
            max_fields_per_segment: usize::MAX,
            ..ParseOptions::default()
        };
        Ok(OwnedMessage::parse(&bytes, &options)?)
    }

    /// Sets `text` at `path` (after `SEG-`) unless it is empty. The text `""`
    /// would read as the explicit null, so its quotes are written as `\X22\`.
    fn put(&mut self, seg: Seg, path: &str, text: &str) -> Result<(), MapError> {
        if text.is_empty() {
            return Ok(());
        }
        let target = if seg.id == MSH.id {
            &mut self.header
        } else {
            match &mut self.current {
                Some(current) => current,
                None => return Ok(()),
            }
        };
        let full = format!("{}-{path}", seg.id);
        if text == "\"\"" {
            let escape = char::from(target.delimiters().escape().unwrap_or(b'\\'));
            let quoted = format!("{escape}X22{escape}{escape}X22{escape}");
            target.set_raw(&full, quoted.as_bytes())?;
        } else {
            target.set(&full, text)?;
        }
        Ok(())
    }

    fn put_opt(&mut self, seg: Seg, path: &str, text: Option<&str>) -> Result<(), MapError> {
        match text {
            Some(text) => self.put(seg, path, text),
            None => Ok(()),
        }
    }

    /// A coding in three components starting at `first`.
    fn coding(&mut self, seg: Seg, at: &str, first: u32, coding: &Coding) -> Result<(), MapError> {
        self.put(seg, &format!("{at}.{first}"), &coding.code)?;
        self.put_opt(
            seg,
            &format!("{at}.{}", first + 1),
            coding.display.as_deref(),
        )?;
        self.put(
            seg,
            &format!("{at}.{}", first + 2),
            &system_mnemonic(&coding.system),
        )
    }

    fn header(
        &mut self,
        envelope: &Envelope,
        (kind, trigger, structure): (&str, &str, &str),
        parties: [Option<&str>; 4],
        profile: Option<(&str, &str)>,
    ) -> Result<(), MapError> {
        let msh = MSH;
        // MSH-18 first: it decides how every later value is encoded.
        self.put(msh, "18", CHARSET)?;
        for (field, party) in (3..=6).zip(parties) {
            self.put_opt(msh, &format!("{field}.1"), party)?;
        }
        self.put(msh, "7", &envelope.sent_at.format_hl7())?;
        self.put(msh, "9.1", kind)?;
        self.put(msh, "9.2", trigger)?;
        self.put(msh, "9.3", structure)?;
        self.put(msh, "10", &envelope.control_id)?;
        self.put(msh, "11", &envelope.processing_id)?;
        self.put(msh, "12", VERSION)?;
        if let Some((id, authority)) = profile {
            self.put(msh, "21.1", id)?;
            self.put(msh, "21.2", authority)?;
        }
        Ok(())
    }

    fn notes(&mut self, notes: &[Text]) -> Result<(), MapError> {
        for (index, note) in notes.iter().enumerate() {
            let nte = self.add("NTE")?;
            self.put(nte, "1", &index.saturating_add(1).to_string())?;
            self.put(nte, "3", note)?;
        }
        Ok(())
    }

    fn patient(&mut self, patient: &Patient) -> Result<(), MapError> {
        let pid = self.add("PID")?;
        self.put(pid, "1", "1")?;
        for (index, id) in patient.ids.iter().enumerate() {
            let id = id.expose();
            let at = format!("3({})", index.saturating_add(1));
            self.put(pid, &format!("{at}.1"), &id.value)?;
            self.put_opt(pid, &format!("{at}.4.1"), id.assigner.as_deref())?;
            self.put_opt(
                pid,
                &format!("{at}.5"),
                id.kind.as_ref().map(IdentifierType::code),
            )?;
        }
        if let Some(name) = &patient.name {
            let name = name.expose();
            let parts = [
                &name.family,
                &name.given,
                &name.middle,
                &name.suffix,
                &name.prefix,
            ];
            for (component, part) in (1..).zip(parts) {
                self.put_opt(pid, &format!("5.{component}"), part.as_deref())?;
            }
        }
        if let Some(birth) = &patient.birth_date {
            self.put(pid, "7", &birth.expose().format_hl7())?;
        }
        if let Some(sex) = &patient.sex {
            self.put(pid, "8", sex.expose().code())?;
        }
        Ok(())
    }

    fn specimen(&mut self, specimen: &Specimen) -> Result<(), MapError> {
        let spm = self.add("SPM")?;
        self.put(spm, "1", "1")?;
        let first = |wanted: &dyn Fn(Option<&IdentifierType>) -> bool| {
            specimen
                .ids
                .iter()
                .map(|id| id.expose())
                .find(|id| wanted(id.kind.as_ref()))
        };
        let placer = first(&|kind| kind.is_none_or(|k| *k == IdentifierType::Placer));
        let filler = first(&|kind| kind.is_some_and(|k| *k == IdentifierType::Filler));
        for (component, id) in [(1, placer), (2, filler)] {
            if let Some(id) = id {
                self.put(spm, &format!("2.{component}.1"), &id.value)?;
                self.put_opt(spm, &format!("2.{component}.2"), id.assigner.as_deref())?;
            }
        }
        if let Some(kind) = &specimen.kind {
            self.coding(spm, "4", 1, kind)?;
        }
        self.put(spm, "11.1", specimen.role.code())?;
        self.put_opt(spm, "14", specimen.description.as_deref())?;
        if let Some(collected) = &specimen.collected_at {
            self.put(spm, "17.1", &collected.format_hl7())?;
        }
        if let Some(received) = &specimen.received_at {
            self.put(spm, "18", &received.format_hl7())?;
        }
        if let Some(kind) = specimen
            .container
            .as_ref()
            .and_then(|container| container.kind.as_ref())
        {
            self.coding(spm, "27", 1, kind)?;
        }
        Ok(())
    }

    fn container(&mut self, specimen: &Specimen) -> Result<(), MapError> {
        let accession = specimen
            .ids
            .iter()
            .map(|id| id.expose())
            .find(|id| id.kind == Some(IdentifierType::Accession));
        let container = specimen.container.as_ref();
        let id = container.and_then(|c| c.id.as_ref()).map(|id| id.expose());
        let carrier = container.and_then(|c| c.carrier.as_deref());
        let position = container.and_then(|c| c.position.as_deref());
        if accession.is_none() && id.is_none() && carrier.is_none() && position.is_none() {
            return Ok(());
        }
        let sac = self.add("SAC")?;
        if let Some(accession) = accession {
            self.put(sac, "2.1", &accession.value)?;
            self.put_opt(sac, "2.2", accession.assigner.as_deref())?;
        }
        self.put_opt(sac, "3.1", id.map(Text::as_str))?;
        self.put_opt(sac, "10.1", carrier)?;
        self.put_opt(sac, "11", position)
    }

    /// OBR: 1 set id, 2 placer, 3 filler, 4 the first test.
    fn order_request(&mut self, obr: Seg, order: &Order) -> Result<(), MapError> {
        self.put(obr, "1", "1")?;
        self.order_ids(obr, order)?;
        if let Some(test) = order.tests.first() {
            self.coding(obr, "4", 1, test)?;
        }
        Ok(())
    }

    fn order_ids(&mut self, seg: Seg, order: &Order) -> Result<(), MapError> {
        for (field, id) in [(2, &order.placer_id), (3, &order.filler_id)] {
            if let Some(id) = id {
                let id = id.expose();
                self.put(seg, &format!("{field}.1"), &id.value)?;
                self.put_opt(seg, &format!("{field}.2"), id.assigner.as_deref())?;
            }
        }
        Ok(())
    }

    /// ORC: 1 control (required: `default` when the order has none), 2/3 ids, 5
    /// status, 9 transaction time.
    fn order_control(&mut self, order: &Order, default: &str) -> Result<(), MapError> {
        let orc = self.add("ORC")?;
        self.put(orc, "1", order.action.as_deref().unwrap_or(default))?;
        self.order_ids(orc, order)?;
        self.put_opt(orc, "5", order.status.as_deref())?;
        if let Some(requested) = &order.requested_at {
            self.put(orc, "9", &requested.format_hl7())?;
        }
        Ok(())
    }

    /// TQ1-9, the priority (v2.5 moved it there from OBR-5).
    fn timing(&mut self, order: &Order) -> Result<(), MapError> {
        if let Some(priority) = &order.priority {
            let tq1 = self.add("TQ1")?;
            self.put(tq1, "1", "1")?;
            self.put(tq1, "9.1", priority.code())?;
        }
        Ok(())
    }

    /// One OBX, and in OUL^R22 (`oul`) the TCD and SID segments that may follow it.
    fn observation(&mut self, result: &LabResult, oul: bool) -> Result<(), MapError> {
        let obx = self.add("OBX")?;
        if let Some(sequence) = result.sequence {
            self.put(obx, "1", &sequence.to_string())?;
        }
        let kind = value_type(result);
        self.put(obx, "2", kind)?;
        self.coding(obx, "3", 1, &result.test)?;
        let test_is_loinc =
            |code: &str| result.test.system == CodeSystem::Loinc && result.test.code == code;
        let loinc = result
            .loinc
            .filter(|loinc| !test_is_loinc(loinc.as_str()))
            .map(|loinc| loinc.to_coding());
        if let Some(alternate) = result.alt_tests.first().or(loinc.as_ref()) {
            self.coding(obx, "3", 4, alternate)?;
        }
        self.put_opt(obx, "4", result.sub_id.as_deref())?;
        let values = core::iter::once(&result.value).chain(&result.additional_values);
        for (index, value) in values.enumerate() {
            self.value(obx, index.saturating_add(1), kind, value)?;
        }
        let unit = core::iter::once(&result.value)
            .chain(&result.additional_values)
            .find_map(|value| match value {
                ResultValue::Quantity(quantity) => quantity.unit.as_ref(),
                ResultValue::Range { unit, .. } => unit.as_ref(),
                _ => None,
            });
        if let Some(unit) = unit {
            self.unit(obx, unit)?;
        }
        if let Some(range) = &result.reference_range {
            let text = match (&range.text, &range.low, &range.high) {
                (Some(text), _, _) => Cow::Borrowed(text.as_str()),
                (None, Some(low), Some(high)) => Cow::Owned(format!("{low}-{high}")),
                (None, Some(low), None) => Cow::Owned(format!(">={low}")),
                (None, None, Some(high)) => Cow::Owned(format!("<={high}")),
                (None, None, None) => Cow::Borrowed(""),
            };
            self.put(obx, "7", &text)?;
        }
        for (index, flag) in result.interpretation.iter().enumerate() {
            self.put(obx, &format!("8({})", index.saturating_add(1)), flag.code())?;
        }
        self.put(obx, "11", result.status.code())?;
        if let Some(observed) = &result.observed_at {
            self.put(obx, "14", &observed.format_hl7())?;
        }
        if let Some(operator) = &result.operator {
            self.put(obx, "16.1", operator.expose())?;
        }
        if let Some(method) = &result.method {
            self.coding(obx, "17", 1, method)?;
        }
        if let Some(instrument) = &result.instrument {
            for (index, id) in instrument.ids.iter().enumerate() {
                let repetition = index.saturating_add(1);
                self.put(obx, &format!("18({repetition}).1"), &id.value)?;
                self.put_opt(obx, &format!("18({repetition}).2"), id.assigner.as_deref())?;
            }
        }
        if let Some(analyzed) = &result.analyzed_at {
            self.put(obx, "19", &analyzed.format_hl7())?;
        }
        if oul {
            self.test_code_detail(result)?;
            for substance in &result.substances {
                if substance.material.is_none()
                    && substance.lot.is_none()
                    && substance.manufacturer.is_none()
                {
                    continue;
                }
                let sid = self.add("SID")?;
                if let Some(material) = &substance.material {
                    self.coding(sid, "1", 1, material)?;
                }
                self.put_opt(sid, "2", substance.lot.as_deref())?;
                self.put_opt(sid, "4.1", substance.manufacturer.as_deref())?;
            }
        }
        self.notes(&result.notes)
    }

    /// TCD after the OBX (OUL^R22 only, as IHE LAW sends it) when the result is a
    /// rerun or has a dilution: TCD-8 `D` (repeated with dilution, the factor in
    /// TCD-3) for a rerun with a dilution other than 1, `R` for another rerun, and the
    /// factor in TCD-2 otherwise. A result that is not a rerun gets no TCD-8: `false`
    /// does not say it was an original run.
    fn test_code_detail(&mut self, result: &LabResult) -> Result<(), MapError> {
        if !result.rerun && result.dilution.is_none() {
            return Ok(());
        }
        let diluted = result
            .dilution
            .as_ref()
            .is_some_and(|factor| !super::values::is_one(factor));
        let tcd = self.add("TCD")?;
        self.coding(tcd, "1", 1, &result.test)?;
        let factor_field = if result.rerun && diluted {
            "3.2"
        } else {
            "2.2"
        };
        self.put_opt(
            tcd,
            factor_field,
            result.dilution.as_ref().map(|factor| factor.as_str()),
        )?;
        if result.rerun {
            self.put(tcd, "8", if diluted { "D" } else { "R" })?;
        }
        Ok(())
    }

    /// OBX-6: `code^^UCUM` for UCUM units (with the instrument's text as the
    /// alternate when it differs), else the text alone.
    fn unit(&mut self, obx: Seg, unit: &Unit) -> Result<(), MapError> {
        match &unit.ucum {
            Some(ucum) => {
                self.put(obx, "6.1", ucum)?;
                self.put(obx, "6.3", "UCUM")?;
                if *ucum != unit.original {
                    self.put(obx, "6.4", &unit.original)?;
                }
                Ok(())
            }
            None => self.put(obx, "6.1", &unit.original),
        }
    }

    fn value(
        &mut self,
        obx: Seg,
        repetition: usize,
        kind: &str,
        value: &ResultValue,
    ) -> Result<(), MapError> {
        let at = format!("5({repetition})");
        let part = |n: u8| format!("{at}.{n}");
        match (kind, value) {
            ("NM", ResultValue::Quantity(quantity)) => self.put(obx, &at, quantity.value.as_str()),
            ("SN", ResultValue::Quantity(quantity)) => {
                self.put_opt(obx, &part(1), quantity.comparator.map(|c| c.as_str()))?;
                self.put(obx, &part(2), quantity.value.as_str())
            }
            ("SN", ResultValue::Range { low, high, .. }) => {
                self.put_opt(obx, &part(2), low.as_ref().map(|d| d.as_str()))?;
                self.put(obx, &part(3), "-")?;
                self.put_opt(obx, &part(4), high.as_ref().map(|d| d.as_str()))
            }
            (
                "SN",
                ResultValue::Ratio {
                    numerator,
                    denominator,
                    comparator,
                },
            ) => {
                self.put_opt(obx, &part(1), comparator.map(|c| c.as_str()))?;
                self.put(obx, &part(2), numerator.as_str())?;
                self.put(obx, &part(3), ":")?;
                self.put(obx, &part(4), denominator.as_str())
            }
            ("CWE", ResultValue::Coded(coding)) => self.coding(obx, &at, 1, coding),
            ("CWE", ResultValue::Boolean { value }) => {
                let (code, display) = if *value { ("Y", "Yes") } else { ("N", "No") };
                self.coding(
                    obx,
                    &at,
                    1,
                    &Coding::new(CodeSystem::Hl7Table(136), code).with_display(display),
                )
            }
            (
                "ED",
                ResultValue::Attachment {
                    media_type,
                    encoding,
                    data,
                },
            ) => {
                if let Some(media_type) = media_type {
                    let (kind, subtype) = ed_type(media_type);
                    self.put(obx, &part(2), &kind)?;
                    self.put_opt(obx, &part(3), subtype.as_deref())?;
                }
                self.put_opt(obx, &part(4), encoding.as_deref().map(ed_encoding))?;
                self.put(obx, &part(5), data)
            }
            (_, ResultValue::Absent { .. }) => Ok(()),
            (_, value) => self.put(obx, &at, &rendered(value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Message, ParseOptions};
    use crate::model::{MapOptions, to_events};
    use labwire_model::{
        Comparator, Container, Decimal, Identifier, Instrument, Interpretation, LoincCode,
        PersonName, Priority, Quantity, ReferenceRange, ResultStatus, Sensitive, SpecimenRole,
    };

    fn envelope() -> Envelope {
        Envelope::new(
            "CTRL-1",
            LabTimestamp::parse_hl7("20240301101502+0100").unwrap(),
        )
        .with_host("LIS", Some("HOSP".into()))
    }

    fn report() -> ResultReport {
        let mut glucose = LabResult::new(
            Coding::local("GLU").with_display("Glucose|fasting"),
            ResultValue::Quantity(
                Quantity::new(Decimal::parse("5.40").unwrap()).with_unit(Unit {
                    original: "mmol/l".into(),
                    ucum: Some("mmol/L".into()),
                }),
            ),
            ResultStatus::Final,
        );
        glucose.sequence = Some(1);
        glucose.loinc = Some(LoincCode::parse("2345-7").unwrap());
        glucose.interpretation = vec![Interpretation::High, Interpretation::from_code("X~Y")];
        glucose.reference_range = Some(ReferenceRange::parse_lenient(
            "3.9-6.1",
            labwire_model::DecimalMark::Point,
        ));
        glucose.notes = vec!["line one\r\nline two".into(), "\"\"".into()];
        glucose.operator = Some(Sensitive::new("OP^7".into()));
        glucose.instrument = Some(Instrument {
            ids: vec![Identifier::new("SN-1").with_assigner("ROCHE")],
            ..Instrument::default()
        });
        glucose.substances = vec![labwire_model::SubstanceLot {
            lot: Some("L-1".into()),
            ..Default::default()
        }];
        let mut titer = LabResult::new(
            Coding::new(CodeSystem::Loinc, "5048-4"),
            ResultValue::Ratio {
                numerator: Decimal::parse("1").unwrap(),
                denominator: Decimal::parse("128").unwrap(),
                comparator: Some(Comparator::Lt),
            },
            ResultStatus::Preliminary,
        );
        titer.loinc = Some(LoincCode::parse("5048-4").unwrap());
        ResultReport {
            instrument: Instrument {
                local_id: Some("AN-1".into()),
                name: Some("AN-1".into()),
                ..Instrument::default()
            },
            patient: Some(Patient {
                ids: vec![Sensitive::new(
                    Identifier::new("MRN&1")
                        .with_kind(IdentifierType::MedicalRecord)
                        .with_assigner("HOSP"),
                )],
                name: Some(Sensitive::new(PersonName {
                    family: Some("Müller-Lüdenscheidt".into()),
                    given: Some("Zoë".into()),
                    ..PersonName::default()
                })),
                birth_date: Some(Sensitive::new(LabTimestamp::parse_hl7("1980").unwrap())),
                sex: Some(Sensitive::new(labwire_model::AdministrativeSex::Female)),
            }),
            specimen: Some(Specimen {
                ids: vec![
                    Sensitive::new(Identifier::new("S|1")),
                    Sensitive::new(Identifier::new("ACC-1").with_kind(IdentifierType::Accession)),
                ],
                role: SpecimenRole::Patient,
                container: Some(Container {
                    id: Some(Sensitive::new("C-1".into())),
                    carrier: Some("R-1".into()),
                    position: Some("1^2".into()),
                    kind: None,
                }),
                collected_at: Some(LabTimestamp::parse_hl7("202403010700").unwrap()),
                ..Specimen::default()
            }),
            order: Some(Order {
                placer_id: Some(Sensitive::new(Identifier::new("P-1"))),
                tests: vec![Coding::local("PANEL")],
                priority: Some(Priority::Stat),
                action: Some("SC".into()),
                ..Order::default()
            }),
            results: vec![glucose, titer],
            notes: vec!["order ~ note".into()],
            provenance: labwire_model::Provenance::default(),
        }
    }

    fn read(bytes: &[u8]) -> ResultReport {
        let message = Message::parse(bytes, &ParseOptions::strict()).unwrap();
        let mapped = to_events(&message, &MapOptions::default()).unwrap();
        assert!(mapped.warnings.is_empty(), "{:?}", mapped.warnings);
        let [LabEvent::Results(report)] = mapped.events.as_slice() else {
            panic!("{:?}", mapped.events)
        };
        report.clone()
    }

    #[test]
    fn oul_r22_escapes_and_reads_back() {
        let original = report();
        let bytes = write_oul_r22(&original, &envelope()).unwrap().to_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(
            "MSH|^~\\&|AN-1||LIS|HOSP|20240301101502+0100||OUL^R22^OUL_R22|CTRL-1|P|2.5.1||||||UNICODE UTF-8|||LAB-29^IHE\r"
        ));
        assert!(text.contains("\rNTE|2||\\X22\\\\X22\\\r"), "{text}");
        assert!(text.contains("\rOBX||SN|5048-4^^LN||<^1^:^128|"), "{text}");
        let back = read(&bytes);
        assert_eq!(back.patient, original.patient);
        assert_eq!(back.specimen, original.specimen);
        assert_eq!(back.order, original.order);
        assert_eq!(back.notes, original.notes);
        let glucose = &back.results[0];
        assert_eq!(glucose.value, original.results[0].value);
        assert_eq!(glucose.notes, original.results[0].notes);
        assert_eq!(glucose.operator, original.results[0].operator);
        assert_eq!(glucose.loinc, original.results[0].loinc);
        assert_eq!(
            glucose.alt_tests,
            [LoincCode::parse("2345-7").unwrap().to_coding()]
        );
        assert_eq!(glucose.interpretation, original.results[0].interpretation);
        assert_eq!(glucose.substances, original.results[0].substances);
        assert_eq!(back.results[1].value, original.results[1].value);
        assert_eq!(back.results[1].loinc, original.results[1].loinc);
    }

    #[test]
    fn reruns_and_dilutions_travel_in_tcd() {
        let mut original = report();
        let factor = |text: &str| Some(Decimal::parse(text).unwrap());
        let cases = [
            (true, factor("10"), "D"),
            (true, factor("1"), "R"),
            (false, factor("2"), ""),
        ];
        for (rerun, dilution, repeat) in cases {
            original.results[0].rerun = rerun;
            original.results[0].dilution = dilution;
            let bytes = write_oul_r22(&original, &envelope()).unwrap().to_bytes();
            let text = String::from_utf8(bytes.clone()).unwrap();
            let tcd = text
                .split('\r')
                .find(|segment| segment.starts_with("TCD|"))
                .unwrap();
            assert!(tcd.starts_with("TCD|GLU^Glucose\\F\\fasting|"), "{tcd}");
            assert!(tcd.ends_with(repeat), "{tcd}");
            let back = read(&bytes);
            assert_eq!(back.results[0].rerun, rerun);
            assert_eq!(back.results[0].dilution, dilution);
        }
        // Nothing to say: no TCD; and ORU^R01 has none.
        original.results[0].rerun = false;
        original.results[0].dilution = None;
        let text = write_oul_r22(&original, &envelope()).unwrap().to_bytes();
        assert!(!String::from_utf8(text).unwrap().contains("\rTCD|"));
        original.results[0].rerun = true;
        let text = write_oru_r01(&original, &envelope()).unwrap().to_bytes();
        assert!(!String::from_utf8(text).unwrap().contains("\rTCD|"));
    }

    #[test]
    fn oru_r01_and_oml_o33_read_back() {
        let original = report();
        let bytes = write_oru_r01(&original, &envelope()).unwrap().to_bytes();
        let back = read(&bytes);
        assert_eq!(back.patient, original.patient);
        assert_eq!(back.order, original.order);
        assert_eq!(back.results[0].value, original.results[0].value);
        let specimen = back.specimen.unwrap();
        assert_eq!(
            specimen.ids.len(),
            1,
            "no SAC in ORU: the accession id is lost"
        );

        let order = WorkOrder {
            instrument: original.instrument.clone(),
            patient: original.patient.clone(),
            specimen: original.specimen.clone(),
            order: Order {
                action: Some("NW".into()),
                ..original.order.clone().unwrap()
            },
            notes: vec!["please hurry".into()],
            provenance: labwire_model::Provenance::default(),
        };
        let bytes = write_event(&LabEvent::WorkOrder(order.clone()), &envelope())
            .unwrap()
            .to_bytes();
        let message = Message::parse(&bytes, &ParseOptions::strict()).unwrap();
        assert_eq!(message.get("MSH-3").unwrap().as_str(), Some("LIS"));
        assert_eq!(message.get("MSH-5").unwrap().as_str(), Some("AN-1"));
        let mapped = to_events(&message, &MapOptions::default()).unwrap();
        let [LabEvent::WorkOrder(back)] = mapped.events.as_slice() else {
            panic!()
        };
        assert_eq!(back.order, order.order);
        assert_eq!(back.specimen, order.specimen);
        assert_eq!(back.notes, order.notes);
        assert_eq!(back.instrument.local_id.as_deref(), Some("AN-1"));
        assert!(matches!(
            write_event(
                &LabEvent::Status(labwire_model::EquipmentStatus::default()),
                &envelope()
            ),
            Err(MapError::NotWritable { .. })
        ));
    }

    #[test]
    fn value_types_follow_the_values() {
        let text = |text: &str| {
            LabResult::new(
                Coding::local("X"),
                ResultValue::text(text),
                ResultStatus::Final,
            )
        };
        assert_eq!(value_type(&text("short")), "ST");
        assert_eq!(value_type(&text("two\nlines")), "TX");
        assert_eq!(value_type(&text(&"x".repeat(200))), "TX");
        let date = |text: &str| {
            LabResult::new(
                Coding::local("X"),
                ResultValue::DateTime {
                    value: LabTimestamp::parse_hl7(text).unwrap(),
                },
                ResultStatus::Final,
            )
        };
        assert_eq!(value_type(&date("20240301")), "DT");
        assert_eq!(value_type(&date("202403011015")), "TS");
        assert_eq!(value_type(&date("20240301+0100")), "TS");
        assert_eq!(
            ed_type("image/png"),
            (Cow::Borrowed("IM"), Some(Cow::Borrowed("PNG")))
        );
        assert_eq!(ed_type("x-foo/bar").0, "x-foo");
        assert_eq!(ed_type("IM").1, None);
        assert_eq!(system_mnemonic(&CodeSystem::Hl7Table(78)), "HL70078");
    }
}
