//! Reading messages into lab events: which field goes where.
//!
//! Numbers are HL7 v2.5.1 field numbers; versions 2.3.1 to 2.8 agree on all of them.
//!
//! | HL7 | model |
//! |---|---|
//! | MSH-3.1 (MSH-5.1 for orders and EAC, which go to the instrument) | [`Instrument::local_id`] and [`Instrument::name`] |
//! | MSH-3.1`^`MSH-4.1, MSH-7, MSH-10, MSH-12.1 | [`Provenance`] `sender`, `sent_at`, `message_id`, `version` |
//! | PID-3 (then PID-2, PID-4): CX.1 value, CX.4 assigner, CX.5 type (0203) | [`Patient::ids`] |
//! | PID-5 (first repetition): family (FN.1), given, middle, suffix, prefix | [`Patient::name`] |
//! | PID-7, PID-8 (0001) | birth date, sex |
//! | ORC-1, ORC-5, ORC-9 (else OBR-6) | [`Order`] `action`, `status`, `requested_at` |
//! | OBR-2 (else ORC-2), OBR-3 (else ORC-3): EI.1, EI.2 as assigner | `placer_id`, `filler_id` |
//! | OBR-4 | `tests` |
//! | TQ1-9, else OBR-5, else OBR-27.6, else ORC-7.6 | `priority` (0027) |
//! | OBR-7 | each result's `observed_at` when OBX-14 is empty; the specimen's `collected_at` when SPM-17 is |
//! | OBR-15.1 (SPS), OBR-14 (and OBR-7 as its collection time) | a [`Specimen`] when there is no SPM (before v2.5) and one of OBR-15 and OBR-14 is valued |
//! | SPM-2.1 (EIP placer, EI in subcomponents) | [`Specimen::ids`], no type: the sample id |
//! | SPM-2.2 (EIP filler) | [`Specimen::ids`] with type `FILL` |
//! | SPM-4, SPM-11 (0369), SPM-14, SPM-17.1, SPM-18, SPM-27 | kind, role, description, collected, received, container type |
//! | SAC-2 | [`Specimen::ids`] with type `ACSN` |
//! | SAC-3, SAC-10 (else SAC-13), SAC-11 (else SAC-14) | [`Container`] id, carrier, position |
//! | INV-1, 3 (0384), 12, 16, 17 | [`SubstanceLot`] material, kind, expiry, lot, manufacturer: every result of the specimen, and the QC control lot |
//! | OBX-1, 3 (CWE.1–3; alternates CWE.4–6 and 10–12), 4 | `sequence`, `test` and `alt_tests` (`loinc` from the first LN coding), `sub_id` |
//! | OBX-2 and OBX-5 (repetitions) | `value`, `additional_values` (see below); `raw_value` |
//! | OBX-6 (CWE; UCUM when CWE.3 says so, the alternate CWE.4 as the original text) | the value's unit |
//! | OBX-7 with OBX-10 (0080: `A` age, `S` sex …), OBX-8 (0078, repeating) | reference range with `applies_to`, interpretation |
//! | OBX-11 (0085); when empty, OBR-25 (0123) `F P C R I X` in lenient mode | `status`; the OBR-25 code in `status_raw` |
//! | OBX-29 (0936) `QST`, `SCI` | not a result: warned, not mapped |
//! | OBX-14, OBX-16 (XCN.1, else family and given name), OBX-17, OBX-18 (EI, repeating), OBX-19 | observed, operator, method, result instrument ids, analyzed |
//! | SID-1, SID-2, SID-4 after an OBX | a [`SubstanceLot`] of that result (reagent lot) |
//! | TCD-8 (0389) after an OBX; TCD-3 (for `D`) else TCD-2 | that result's `rerun` (`R`, `D`, `F`); `dilution` |
//! | NTE-3 (repetitions joined by line breaks) | notes, by the segment they follow |
//! | QPD-3 (EI, repeating), QPD-4/QPD-5 (else QPD-6/QPD-7) | [`SpecimenQuery`] `specimen_ids`, container carrier and position (IHE LAW LAB-27) |
//! | EQU-1 (EI), EQU-2, EQU-3 (0365), EQU-4 (0366), EQU-5 (0367) | instrument ids, `at`, `state`, `control`, `alert` |
//! | ISD-2, ISD-3; ECD-2 (0368); EQP-1 (0450) | [`EquipmentStatus::details`] |
//! | INV in INU^U05: as above, plus 2 (0383), 4, 5, 6, 9 (else 8) with 11 | [`InventoryItem`] status, container, carrier, position, available |
//!
//! OBX value types (OBX-2, table 0125):
//!
//! | OBX-2 | value |
//! |---|---|
//! | NM | [`ResultValue::Quantity`], digits kept ([`Decimal::parse_lenient`](labwire_model::Decimal::parse_lenient)); in lenient mode `<0.5` too |
//! | SN | `<^0.5` quantity with comparator, `^1^-^5` range, `^1^:^128` (or `/`) ratio |
//! | ST, TX, FT | text, escapes and formatting decoded, spaces kept |
//! | CWE, CE, CNE, CF | coded: CWE.3 `LN` LOINC, `SCT`/`SNM`/`SNM3` SNOMED CT, `UCUM`, `HL7nnnn` table nnnn, anything else local; `Y`/`N` of table 0136 is a boolean; text only (CWE.2, else CWE.9) is text |
//! | DT, DTM, TS | date-time with its precision |
//! | ED | attachment: media type from type of data (0191) and subtype (`IM`+`PNG` is `image/png`), encoding (`Base64` is `base64`), data as sent |
//! | RP | text: the pointer (RP.1) |
//! | TM, anything else | text, warned |

use core::fmt::Write as _;
use std::borrow::Cow;

use labwire_model::{
    AdministrativeSex, AlertLevel, CalibrationEvent, Container, ControlState, EquipmentLog,
    EquipmentState, EquipmentStatus, IdentifierType, Instrument, Inventory, InventoryItem,
    LabEvent, LabResult, LabTimestamp, Order, Patient, Priority, Provenance, QcEvent, QcResult,
    Quantity, ResultReport, Sensitive, SourceProtocol, Specimen, SpecimenQuery, SpecimenRole,
    SubstanceLot, SubstanceType, Text, WorkOrder,
};

#[cfg(doc)]
use labwire_model::{Decimal, ResultValue};

use super::values::{MapResult, Reader};
use super::{MapError, MapLimit, MapLocation, MapOptions, MapWarningKind, Mapped, Profile, detect};
use crate::message::{Field, Message, Segment};

/// Maps a parsed message to lab events (see the [module documentation](super)).
///
/// # Errors
/// [`MapError::UnsupportedMessageType`] / [`MapError::UnsupportedTrigger`] for other
/// messages, [`MapError::LimitExceeded`] past [`MapOptions`]' limits, and
/// [`MapError::Hl7`] when a value cannot be decoded under strict
/// [`ParseOptions`](crate::message::ParseOptions).
pub fn to_events(message: &Message<'_>, options: &MapOptions) -> Result<Mapped, MapError> {
    let (profile, repaired) = detect(message, options)?;
    let mut walker = Walker::new(message, options, profile);
    // Events are large; most messages make a few, about one per group head.
    let heads = walker.reader.group_heads;
    walker
        .events
        .reserve_exact(heads.clamp(1, MAX_RESERVED_EVENTS).min(options.max_events));
    if repaired {
        let field = message.message_type();
        walker
            .reader
            .warn_at(MapWarningKind::MessageTypeRepaired, field);
    }
    walker.walk().map_err(|error| *error)?;
    walker.distribute_shared();
    Ok(Mapped {
        profile,
        events: walker.events,
        warnings: walker.reader.warnings,
    })
}

/// What an NTE attaches to: the last mapped segment it can describe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Anchor {
    Message,
    Patient,
    Order,
    Specimen,
    Result,
    /// An OBX that was not mapped: its notes go with it.
    Dropped,
}

/// A specimen read from SPM (and SAC, INV), shared by the reports of its orders.
#[derive(Clone, Debug)]
struct SpecimenDraft {
    specimen: Specimen,
    substances: Vec<SubstanceLot>,
    /// Raw bytes of the INV segments behind `substances`, which every result copies.
    substances_raw: usize,
    has_container: bool,
    /// Whether a report or work order took this specimen.
    used: bool,
    notes: Vec<Text>,
    warnings: Vec<usize>,
    raw_len: usize,
    start: MapLocation,
    offset: usize,
}

/// One order group (or specimen observations without one) being read.
#[derive(Clone, Debug)]
struct Unit<'m> {
    start: MapLocation,
    offset: usize,
    orc: Option<Segment<'m>>,
    obr: Option<Segment<'m>>,
    tq1: Option<Segment<'m>>,
    specimen: Option<SpecimenDraft>,
    results: Vec<LabResult>,
    notes: Vec<Text>,
    warnings: Vec<usize>,
    raw_len: usize,
}

impl<'m> Unit<'m> {
    fn new(start: MapLocation, offset: usize) -> Self {
        Self {
            start,
            offset,
            orc: None,
            obr: None,
            tq1: None,
            specimen: None,
            results: Vec::new(),
            notes: Vec::new(),
            warnings: Vec::new(),
            raw_len: 0,
        }
    }
}

/// The order as read from ORC, OBR and TQ1, with what OBR says about its specimen.
struct OrderParts {
    order: Option<Order>,
    observed_at: Option<LabTimestamp>,
    specimen: Option<Specimen>,
}

struct Walker<'m> {
    reader: Reader<'m>,
    profile: Profile,
    specimen_first: bool,
    work_orders: bool,
    instrument: Instrument,
    provenance: Provenance,
    message_warnings: Vec<usize>,
    message_notes: Vec<Text>,
    message_raw: usize,
    patient: Option<Patient>,
    patient_warnings: Vec<usize>,
    patient_notes: Vec<Text>,
    patient_raw: usize,
    scope: Option<SpecimenDraft>,
    unit: Option<Unit<'m>>,
    anchor: Anchor,
    events: Vec<LabEvent>,
    /// The events from this index on still lack the message's instrument and
    /// provenance (see [`Walker::distribute_shared`]): order-shaped and query messages
    /// share them with every event they make, equipment messages give each event its
    /// own as it is made.
    awaiting_message: Option<usize>,
    /// The events from this index on were made while the current patient was (see
    /// [`Walker::distribute_patient`]).
    patient_events: usize,
    copied: usize,
}

/// The provenance particular to one event: its location and the mapping warnings
/// that concern it (`count` of them, in `groups`, in order). [`Walker::distribute_shared`]
/// adds the message's part.
fn event_provenance<const N: usize>(
    reader: &Reader<'_>,
    location: MapLocation,
    count: usize,
    groups: [&[usize]; N],
) -> Provenance {
    let mut texts = Vec::with_capacity(count);
    for &index in groups.into_iter().flatten() {
        texts.extend(reader.warning_text(index));
    }
    Provenance {
        location: Some(location.to_text()),
        warnings: texts,
        ..Provenance::default()
    }
}

/// Where an event built from an order group holds its patient.
fn patient_slot(event: &mut LabEvent) -> Option<&mut Option<Patient>> {
    match event {
        LabEvent::Results(report) => Some(&mut report.patient),
        LabEvent::WorkOrder(order) => Some(&mut order.patient),
        _ => None,
    }
}

/// Where an event holds its instrument.
fn instrument_slot(event: &mut LabEvent) -> Option<&mut Instrument> {
    match event {
        LabEvent::Results(report) => Some(&mut report.instrument),
        LabEvent::WorkOrder(order) => Some(&mut order.instrument),
        LabEvent::Qc(qc) => Some(&mut qc.instrument),
        LabEvent::Calibration(calibration) => Some(&mut calibration.instrument),
        LabEvent::Query(query) => Some(&mut query.instrument),
        LabEvent::Status(status) => Some(&mut status.instrument),
        LabEvent::Inventory(inventory) => Some(&mut inventory.instrument),
        LabEvent::Log(log) => Some(&mut log.instrument),
        _ => None,
    }
}

/// How many OBX start at segment `index` before the next segment that opens another
/// group (ORC, OBR, SPM, PID), at most [`MAX_RESERVED_RESULTS`]: the capacity a
/// group's result list needs.
fn observations_ahead(message: &Message<'_>, index: usize) -> usize {
    let mut count = 0usize;
    for at in index..message.segment_count() {
        let Some(segment) = message.segment(at) else {
            break;
        };
        match segment.id() {
            b"OBX" => count = count.saturating_add(1),
            b"ORC" | b"OBR" | b"SPM" | b"PID" | b"MSH" => break,
            _ => {}
        }
        if count >= MAX_RESERVED_RESULTS {
            break;
        }
    }
    count.max(1)
}

/// Room for most parser warnings as text (`segment terminator LF instead of CR at byte
/// 1234 (segment 12 (OBX))`).
const PARSER_WARNING_CAPACITY: usize = 96;

/// The most events reserved before mapping a message.
const MAX_RESERVED_EVENTS: usize = 8;

/// The most results reserved at once (see [`observations_ahead`]); a longer group
/// grows its list as usual.
const MAX_RESERVED_RESULTS: usize = 256;

fn raw_len(segment: &Segment<'_>) -> usize {
    segment.raw().len()
}

/// What one warning copied into an event's provenance is counted as against
/// [`MapOptions::max_copied_bytes`]: about the length of its text.
const WARNING_COST: usize = 96;

fn warning_cost(count: usize) -> usize {
    count.saturating_mul(WARNING_COST)
}

impl<'m> Walker<'m> {
    fn new(message: &'m Message<'m>, options: &MapOptions, profile: Profile) -> Self {
        Self {
            reader: Reader::new(message, options),
            profile,
            specimen_first: matches!(
                profile,
                Profile::OulR22 | Profile::OulR23 | Profile::OmlO33 | Profile::OmlO35
            ),
            work_orders: matches!(
                profile,
                Profile::OmlO21 | Profile::OmlO33 | Profile::OmlO35 | Profile::OrmO01
            ),
            instrument: Instrument::default(),
            provenance: Provenance::new(SourceProtocol::Hl7v2),
            message_warnings: Vec::new(),
            message_notes: Vec::new(),
            message_raw: 0,
            patient: None,
            patient_warnings: Vec::new(),
            patient_notes: Vec::new(),
            patient_raw: 0,
            scope: None,
            unit: None,
            anchor: Anchor::Message,
            events: Vec::new(),
            awaiting_message: None,
            patient_events: 0,
            copied: 0,
        }
    }

    /// Reads the message's segments in the profile's shape.
    fn walk(&mut self) -> MapResult<()> {
        self.header()?;
        match self.profile {
            Profile::QbpQ11 => self.queries(),
            Profile::EsuU01 | Profile::InuU05 | Profile::EacU07 | Profile::LsuU12 => {
                self.equipment()
            }
            _ => self.orders(),
        }
    }

    /// Provenance and instrument from MSH.
    fn header(&mut self) -> MapResult<()> {
        let Some(msh) = self.reader.message.msh() else {
            return Ok(());
        };
        let reader = &mut self.reader;
        // Orders and commands travel to the instrument: it is the receiver.
        let towards_instrument = self.work_orders || self.profile == Profile::EacU07;
        let instrument_field = if towards_instrument { 5 } else { 3 };
        let instrument_name = reader.component_token(msh.field(instrument_field), 1)?;
        // MSH-3.1 again when the instrument is the sender: the same text (and reading
        // it twice would warn of nothing new).
        let application = if towards_instrument {
            reader.component_token(msh.field(3), 1)?
        } else {
            instrument_name.clone()
        };
        self.instrument = Instrument {
            local_id: instrument_name.clone(),
            name: instrument_name,
            ..Instrument::default()
        };
        let facility = reader.component_token(msh.field(4), 1)?;
        // `application^facility`, appended in place (inline when short).
        let sender = match (application, facility) {
            (Some(mut sender), Some(facility)) => {
                sender.push_str("^");
                sender.push_str(&facility);
                Some(sender)
            }
            (Some(application), None) => Some(application),
            (None, Some(facility)) => {
                let mut sender = Text::from("^");
                sender.push_str(&facility);
                Some(sender)
            }
            (None, None) => None,
        };
        self.provenance = Provenance {
            version: reader.component_token(msh.field(12), 1)?,
            message_id: reader.token(msh.field(10))?,
            sender,
            sent_at: reader.time_field(msh.field(7))?,
            warnings: reader
                .message
                .warnings()
                .iter()
                .map(|warning| {
                    // Sized for the usual warning, so that writing it does not grow
                    // the string several times.
                    let mut text = String::with_capacity(PARSER_WARNING_CAPACITY);
                    // Writing to a `String` cannot fail.
                    let _ = write!(text, "{warning}");
                    text
                })
                .collect(),
            ..Provenance::new(SourceProtocol::Hl7v2)
        };
        self.message_warnings = reader.take_pending();
        Ok(())
    }

    /// The event provenance: the message's, located, with the warnings that concern it.
    fn provenance_for(&mut self, location: MapLocation, warnings: &[usize]) -> Provenance {
        // Clone everything but the parser's warnings, which go into a list sized for
        // them and the mapping warnings at once.
        let parser_warnings = core::mem::take(&mut self.provenance.warnings);
        let mut provenance = self.provenance.clone();
        let mut texts = Vec::with_capacity(parser_warnings.len().saturating_add(warnings.len()));
        texts.extend(parser_warnings.iter().cloned());
        self.provenance.warnings = parser_warnings;
        for &index in warnings {
            texts.extend(self.reader.warning_text(index));
        }
        provenance.warnings = texts;
        provenance.location = Some(location.to_text());
        provenance
    }

    /// The provenance particular to one event: its location and the mapping warnings
    /// that concern it. [`Walker::distribute_shared`] adds the message's part.
    fn event_provenance(&self, location: MapLocation, warnings: &[usize]) -> Provenance {
        event_provenance(&self.reader, location, warnings.len(), [warnings])
    }

    /// Marks the event just pushed, and every one after it, as receiving the
    /// message's instrument and provenance (see [`Walker::distribute_shared`]).
    fn share_with_last_event(&mut self) {
        if let Some(index) = self.events.len().checked_sub(1) {
            self.awaiting_message.get_or_insert(index);
        }
    }

    /// Gives the current patient to the events made while it was current that have
    /// room for one: a copy to each but the last, which takes the original (a
    /// message with one report copies nothing). Then no event awaits it.
    fn distribute_patient(&mut self) {
        if self.patient.is_none() {
            return;
        }
        let Some(events) = self.events.get_mut(self.patient_events..) else {
            return;
        };
        let Some(last) = events
            .iter_mut()
            .rposition(|event| patient_slot(event).is_some())
        else {
            return;
        };
        let (others, last) = events.split_at_mut(last);
        for event in others {
            if let Some(slot) = patient_slot(event) {
                slot.clone_from(&self.patient);
            }
        }
        if let Some(slot) = last.first_mut().and_then(patient_slot) {
            *slot = self.patient.take();
        }
    }

    /// Gives the message's instrument and provenance to every event that awaits them,
    /// the same way; each event's provenance keeps its location and its own warnings,
    /// after the parser's.
    fn distribute_shared(&mut self) {
        let Some(first) = self.awaiting_message.take() else {
            return;
        };
        let Some(last) = self
            .events
            .len()
            .checked_sub(1)
            .filter(|&last| last >= first)
        else {
            return;
        };
        for index in first..last {
            let Some(event) = self.events.get_mut(index) else {
                continue;
            };
            if let Some(slot) = instrument_slot(event) {
                slot.clone_from(&self.instrument);
            }
            let own = event.provenance_mut();
            let parser_warnings = core::mem::take(&mut self.provenance.warnings);
            let mut shared = self.provenance.clone();
            let mut warnings =
                Vec::with_capacity(parser_warnings.len().saturating_add(own.warnings.len()));
            warnings.extend(parser_warnings.iter().cloned());
            self.provenance.warnings = parser_warnings;
            warnings.append(&mut own.warnings);
            shared.warnings = warnings;
            shared.location = own.location.take();
            *own = shared;
        }
        if let Some(event) = self.events.get_mut(last) {
            if let Some(slot) = instrument_slot(event) {
                *slot = core::mem::take(&mut self.instrument);
            }
            let own = event.provenance_mut();
            let mut shared = core::mem::take(&mut self.provenance);
            if shared.warnings.is_empty() {
                shared.warnings = core::mem::take(&mut own.warnings);
            } else {
                shared.warnings.append(&mut own.warnings);
            }
            shared.location = own.location.take();
            *own = shared;
        }
    }

    /// Counts an event about to be pushed against [`MapOptions::max_events`] and its
    /// `copied` bytes against [`MapOptions::max_copied_bytes`].
    fn count_event(&mut self, copied: usize, unit: &Unit<'_>) -> MapResult<()> {
        let options = &self.reader.options;
        self.copied = self.copied.saturating_add(copied);
        let exceeded = if self.events.len() >= options.max_events {
            Some((MapLimit::Events, options.max_events))
        } else if self.copied > options.max_copied_bytes {
            Some((MapLimit::CopiedBytes, options.max_copied_bytes))
        } else {
            None
        };
        match exceeded {
            Some((limit, max)) => Err(Box::new(MapError::LimitExceeded {
                limit,
                max,
                offset: unit.offset,
                location: unit.start,
            })),
            None => Ok(()),
        }
    }

    fn push_event(&mut self, event: LabEvent, copied: usize, unit: &Unit<'_>) -> MapResult<()> {
        self.count_event(copied, unit)?;
        self.events.push(event);
        Ok(())
    }

    // --- order-shaped profiles: results and work orders -------------------------------

    fn orders(&mut self) -> MapResult<()> {
        let message = self.reader.message;
        for segment in message.segments().skip(1) {
            match segment.id() {
                b"PID" => self.patient(segment)?,
                b"NTE" => self.note(segment)?,
                b"ORC" => self.order_segment(segment, true)?,
                b"OBR" => self.order_segment(segment, false)?,
                b"TQ1" => {
                    if let Some(unit) = &mut self.unit
                        && unit.tq1.is_none()
                    {
                        unit.tq1 = Some(segment);
                        unit.raw_len = unit.raw_len.saturating_add(raw_len(&segment));
                    }
                }
                b"OBX" => self.observation(segment)?,
                b"SPM" => self.specimen(segment)?,
                b"SAC" => self.container(segment)?,
                b"INV" => self.inventory_of_specimen(segment)?,
                b"SID" => self.substance_of_result(segment)?,
                b"TCD" => self.test_code_detail(segment)?,
                // Segments the model has no place for (PV1, IN1, DG1, PRT, CTI, Z…) and
                // segments that only structure the message (SFT): an NTE after them
                // still belongs to what came before.
                _ => {}
            }
        }
        self.finish_unit()?;
        self.close_scope();
        self.distribute_patient();
        Ok(())
    }

    /// Ends the open specimen group; a specimen no report took (an SPM with neither
    /// orders nor results) is warned, not dropped silently.
    fn close_scope(&mut self) {
        if let Some(scope) = self.scope.take()
            && !scope.used
        {
            self.reader
                .warn(MapWarningKind::SegmentNotMapped, scope.start, scope.offset);
            let warnings = self.reader.take_pending();
            self.message_warnings.extend(warnings);
        }
    }

    fn patient(&mut self, pid: Segment<'m>) -> MapResult<()> {
        self.finish_unit()?;
        self.close_scope();
        self.distribute_patient();
        let reader = &mut self.reader;
        let mut ids = Vec::new();
        for field in [3, 2, 4] {
            for repetition in pid.field(field).repetitions() {
                if let Some(id) = reader.extended_id(repetition)? {
                    ids.push(Sensitive::new(id));
                }
            }
        }
        let patient = Patient {
            ids,
            name: reader.person_name(pid.field(5))?.map(Sensitive::new),
            birth_date: reader.time_field(pid.field(7))?.map(Sensitive::new),
            sex: reader
                .component_token_cow(pid.field(8), 1)?
                .map(|code| Sensitive::new(AdministrativeSex::from_code(&code))),
        };
        self.patient = Some(patient);
        self.patient_events = self.events.len();
        self.patient_warnings = reader.take_pending();
        self.patient_notes.clear();
        self.patient_raw = raw_len(&pid);
        self.anchor = Anchor::Patient;
        Ok(())
    }

    fn note(&mut self, nte: Segment<'m>) -> MapResult<()> {
        let comment = nte.field(3);
        let text = if comment.is_empty() {
            None
        } else if comment.repetition_count() == 1 {
            // One line (the usual note): its text as is, without building a string.
            self.reader.cow(comment.repetition(1))?
        } else {
            // The repetitions joined by line breaks, written into one string.
            let mut text = String::with_capacity(comment.raw().len());
            let mut first = true;
            for repetition in comment.repetitions() {
                if let Some(line) = self.reader.cow(repetition)? {
                    if !first {
                        text.push('\n');
                    }
                    text.push_str(&line);
                    first = false;
                }
            }
            Some(Cow::Owned(text))
        };
        let warnings = self.reader.take_pending();
        let note = text.filter(|text| !text.trim().is_empty()).map(Text::from);
        let size = raw_len(&nte);
        match (self.anchor, &mut self.unit, &mut self.scope) {
            (Anchor::Message, _, _) => {
                self.message_notes.extend(note);
                self.message_warnings.extend(warnings);
                self.message_raw = self.message_raw.saturating_add(size);
            }
            (Anchor::Patient, _, _) => {
                self.patient_notes.extend(note);
                self.patient_warnings.extend(warnings);
                self.patient_raw = self.patient_raw.saturating_add(size);
            }
            (Anchor::Result, Some(unit), _) => {
                if let (Some(result), Some(note)) = (unit.results.last_mut(), note) {
                    result.notes.push(note);
                }
                unit.warnings.extend(warnings);
            }
            (Anchor::Dropped, Some(unit), _) => unit.warnings.extend(warnings),
            (_, Some(unit), _) => {
                unit.notes.extend(note);
                unit.warnings.extend(warnings);
                unit.raw_len = unit.raw_len.saturating_add(size);
            }
            (_, None, Some(scope)) => {
                if self.anchor != Anchor::Dropped {
                    scope.notes.extend(note);
                    scope.raw_len = scope.raw_len.saturating_add(size);
                }
                scope.warnings.extend(warnings);
            }
            (_, None, None) => {
                if self.anchor != Anchor::Dropped {
                    self.message_notes.extend(note);
                    self.message_raw = self.message_raw.saturating_add(size);
                }
                self.message_warnings.extend(warnings);
            }
        }
        Ok(())
    }

    /// ORC and OBR of one order group, in either order: ORU and OML write `ORC OBR`,
    /// OUL writes `OBR ORC` (v2.5.1 OUL_R22 order group `[OBR] [ORC]`).
    fn order_segment(&mut self, segment: Segment<'m>, is_orc: bool) -> MapResult<()> {
        let obr_first = matches!(
            self.profile,
            Profile::OulR22 | Profile::OulR23 | Profile::OulR24
        );
        let joins = self.unit.as_ref().is_some_and(|unit| {
            let open = unit.results.is_empty() && unit.specimen.is_none();
            if is_orc {
                open && obr_first && unit.obr.is_some() && unit.orc.is_none()
            } else {
                open && unit.orc.is_some() && unit.obr.is_none()
            }
        });
        if !joins {
            self.finish_unit()?;
            let start = self.reader.segment_location(&segment);
            self.unit = Some(Unit::new(start, segment.offset()));
        }
        if let Some(unit) = &mut self.unit {
            if is_orc {
                unit.orc = Some(segment);
            } else {
                unit.obr = Some(segment);
                // The report is named after its OBR when it has one.
                unit.start = self.reader.segment_location(&segment);
                unit.offset = segment.offset();
            }
            unit.raw_len = unit.raw_len.saturating_add(raw_len(&segment));
        }
        self.anchor = Anchor::Order;
        Ok(())
    }

    fn observation(&mut self, obx: Segment<'m>) -> MapResult<()> {
        let not_mapped = if self.work_orders {
            Some(MapWarningKind::ObservationNotMapped)
        } else if self.reader.is_not_a_result(obx)? {
            Some(MapWarningKind::ObservationNotAResult)
        } else {
            None
        };
        if let Some(kind) = not_mapped {
            let location = self.reader.segment_location(&obx);
            self.reader.warn(kind, location, obx.offset());
            let warnings = self.reader.take_pending();
            self.route_warnings(warnings);
            self.anchor = Anchor::Dropped;
            return Ok(());
        }
        let outside = self.unit.is_none() && self.scope.is_none();
        let unit = match &mut self.unit {
            Some(unit) => unit,
            None => {
                let start = match &self.scope {
                    Some(scope) => scope.start,
                    None => self.reader.segment_location(&obx),
                };
                self.unit.insert(Unit::new(start, obx.offset()))
            }
        };
        if unit.results.capacity() == 0 {
            // Results are large: size the list once for this OBX and those that
            // follow it in the same group, rather than growing it by copying.
            unit.results
                .reserve_exact(observations_ahead(self.reader.message, obx.index()));
        }
        let order_status = unit.obr.map(|obr| obr.field(25));
        self.reader
            .observation(obx, order_status, &mut unit.results)?;
        if outside {
            // After the result's own warnings, as the result is read first.
            self.reader.warn(
                MapWarningKind::ObservationOutsideGroup,
                unit.start,
                obx.offset(),
            );
        }
        self.reader.drain_pending_into(&mut unit.warnings);
        self.anchor = Anchor::Result;
        Ok(())
    }

    /// Warnings of a segment that belongs to no unit yet go to the closest context.
    fn route_warnings(&mut self, warnings: Vec<usize>) {
        match (&mut self.unit, &mut self.scope) {
            (Some(unit), _) => unit.warnings.extend(warnings),
            (None, Some(scope)) => scope.warnings.extend(warnings),
            (None, None) => self.message_warnings.extend(warnings),
        }
    }

    fn specimen(&mut self, spm: Segment<'m>) -> MapResult<()> {
        let draft = self.read_specimen(spm)?;
        self.anchor = Anchor::Specimen;
        let own_specimen = !self.specimen_first && self.unit.is_some();
        if !own_specimen {
            self.finish_unit()?;
            self.close_scope();
            self.scope = Some(draft);
            return Ok(());
        }
        let Some(unit) = &mut self.unit else {
            return Ok(());
        };
        if unit.specimen.is_none() {
            unit.specimen = Some(draft);
            return Ok(());
        }
        // A further specimen of the same order: a report of its own (one report per
        // order and specimen), with the OBX that follow it.
        let mut sibling = Unit::new(draft.start, spm.offset());
        sibling.orc = unit.orc;
        sibling.obr = unit.obr;
        sibling.tq1 = unit.tq1;
        sibling.raw_len = unit.raw_len;
        sibling.specimen = Some(draft);
        self.finish_unit()?;
        self.unit = Some(sibling);
        Ok(())
    }

    fn read_specimen(&mut self, spm: Segment<'m>) -> MapResult<SpecimenDraft> {
        let reader = &mut self.reader;
        let mut ids = Vec::new();
        let specimen_id = spm.field(2).repetition(1);
        if let Some(id) = reader.entity_in(specimen_id.component(1))? {
            ids.push(Sensitive::new(id));
        }
        if let Some(id) = reader.entity_in(specimen_id.component(2))? {
            ids.push(Sensitive::new(id.with_kind(IdentifierType::Filler)));
        }
        let role = reader
            .component_token_cow(spm.field(11), 1)?
            .map(|code| SpecimenRole::from_code(&code))
            .unwrap_or_default();
        let mut descriptions = Vec::new();
        for repetition in spm.field(14).repetitions() {
            if let Some(text) = reader.token(repetition)? {
                descriptions.push(text);
            }
        }
        let collected = spm.field(17);
        let collected_at = if collected.is_empty() {
            None
        } else {
            reader.timestamp(collected.component(1).subcomponent(1))?
        };
        let container_kind = reader.primary_coding(spm.field(27))?;
        let specimen = Specimen {
            ids,
            role,
            kind: reader.primary_coding(spm.field(4))?,
            collected_at,
            received_at: reader.time_field(spm.field(18))?,
            container: container_kind.map(|kind| Container {
                kind: Some(kind),
                ..Container::default()
            }),
            description: (!descriptions.is_empty())
                .then(|| descriptions.join("; "))
                .map(Into::into),
            preparation: Vec::new(),
        };
        Ok(SpecimenDraft {
            specimen,
            substances: Vec::new(),
            substances_raw: 0,
            has_container: false,
            used: false,
            notes: Vec::new(),
            warnings: reader.take_pending(),
            raw_len: raw_len(&spm),
            start: reader.segment_location(&spm),
            offset: spm.offset(),
        })
    }

    /// The specimen a SAC or INV describes: the open specimen group in specimen-first
    /// profiles, the current order's specimen otherwise.
    fn open_specimen(&mut self) -> Option<&mut SpecimenDraft> {
        if self.specimen_first {
            return self.scope.as_mut();
        }
        match &mut self.unit {
            Some(unit) => unit.specimen.as_mut(),
            None => self.scope.as_mut(),
        }
    }

    fn container(&mut self, sac: Segment<'m>) -> MapResult<()> {
        let reader = &mut self.reader;
        let accession = reader.first_entity(sac.field(2))?;
        let carrier = match reader.component_token(sac.field(10), 1)? {
            Some(carrier) => Some(carrier),
            None => reader.component_token(sac.field(13), 1)?,
        };
        let position = match reader.first_repetition_token(sac.field(11))? {
            Some(position) => Some(position),
            None => reader.first_repetition_token(sac.field(14))?,
        };
        let id = reader.component_token(sac.field(3), 1)?;
        let warnings = reader.take_pending();
        let location = reader.segment_location(&sac);
        let has_container = match self.open_specimen() {
            None => None,
            Some(draft) => Some(draft.has_container),
        };
        match has_container {
            None => {
                self.reader
                    .warn(MapWarningKind::SegmentNotMapped, location, sac.offset());
                let mut warnings = warnings;
                self.reader.drain_pending_into(&mut warnings);
                self.route_warnings(warnings);
                return Ok(());
            }
            Some(true) if !self.specimen_first => {
                self.reader
                    .warn(MapWarningKind::ContainerNotMapped, location, sac.offset());
                let mut warnings = warnings;
                self.reader.drain_pending_into(&mut warnings);
                self.route_warnings(warnings);
                return Ok(());
            }
            // A further container of the specimen (OUL^R23, OML^O35): the orders that
            // follow are on this container.
            Some(true) => {
                self.finish_unit()?;
                if let Some(scope) = &mut self.scope {
                    // The container type (SPM-27) is the specimen's; the rest was the
                    // previous container's.
                    let kind = scope.specimen.container.take().and_then(|c| c.kind);
                    scope.specimen.container = kind.map(|kind| Container {
                        kind: Some(kind),
                        ..Container::default()
                    });
                    scope.substances.clear();
                    scope.substances_raw = 0;
                    scope
                        .specimen
                        .ids
                        .retain(|id| id.expose().kind != Some(IdentifierType::Accession));
                }
            }
            Some(false) => {}
        }
        let size = raw_len(&sac);
        if let Some(draft) = self.open_specimen() {
            draft.has_container = true;
            draft.raw_len = draft.raw_len.saturating_add(size);
            draft.warnings.extend(warnings);
            if let Some(accession) = accession {
                draft.specimen.ids.push(Sensitive::new(
                    accession.with_kind(IdentifierType::Accession),
                ));
            }
            if id.is_some() || carrier.is_some() || position.is_some() {
                let container = draft
                    .specimen
                    .container
                    .get_or_insert_with(Container::default);
                container.id = id.map(Sensitive::new);
                container.carrier = carrier;
                container.position = position;
            }
        }
        Ok(())
    }

    fn inventory_of_specimen(&mut self, inv: Segment<'m>) -> MapResult<()> {
        let substance = self.reader.substance(inv)?;
        let mut warnings = self.reader.take_pending();
        let location = self.reader.segment_location(&inv);
        let size = raw_len(&inv);
        match self.open_specimen() {
            Some(draft) => {
                draft.substances.push(substance);
                draft.warnings.extend(warnings);
                draft.raw_len = draft.raw_len.saturating_add(size);
                draft.substances_raw = draft.substances_raw.saturating_add(size);
            }
            None => {
                self.reader
                    .warn(MapWarningKind::SegmentNotMapped, location, inv.offset());
                self.reader.drain_pending_into(&mut warnings);
                self.route_warnings(warnings);
            }
        }
        Ok(())
    }

    fn substance_of_result(&mut self, sid: Segment<'m>) -> MapResult<()> {
        let substance = self.reader.substance_identifier(sid)?;
        let location = self.reader.segment_location(&sid);
        let result = match (self.anchor, &mut self.unit) {
            (Anchor::Result, Some(unit)) => unit.results.last_mut(),
            _ => None,
        };
        match result {
            Some(result) => result.substances.push(substance),
            None if self.anchor == Anchor::Dropped => {}
            None => {
                self.reader.warn(
                    MapWarningKind::SubstanceWithoutResult,
                    location,
                    sid.offset(),
                );
            }
        }
        let warnings = self.reader.take_pending();
        self.route_warnings(warnings);
        Ok(())
    }

    /// TCD after an OBX (IHE LAW): the result's repeat status and dilution. After
    /// anything else the model has no room for it (an order's dilution settings).
    fn test_code_detail(&mut self, tcd: Segment<'m>) -> MapResult<()> {
        let result = match (self.anchor, &mut self.unit) {
            (Anchor::Result, Some(unit)) => unit.results.last_mut(),
            _ => None,
        };
        match result {
            Some(result) => {
                let detail = self.reader.test_code_detail(tcd)?;
                if let Some(rerun) = detail.rerun {
                    result.rerun = rerun;
                }
                if detail.dilution.is_some() {
                    result.dilution = detail.dilution;
                }
            }
            // It describes an OBX that was not mapped.
            None if self.anchor == Anchor::Dropped => {}
            None => {
                let location = self.reader.segment_location(&tcd);
                self.reader
                    .warn(MapWarningKind::SegmentNotMapped, location, tcd.offset());
            }
        }
        let warnings = self.reader.take_pending();
        self.route_warnings(warnings);
        Ok(())
    }

    fn read_order(&mut self, unit: &Unit<'m>) -> MapResult<OrderParts> {
        let reader = &mut self.reader;
        if unit.orc.is_none() && unit.obr.is_none() {
            return Ok(OrderParts {
                order: None,
                observed_at: None,
                specimen: None,
            });
        }
        let field = |segment: Option<Segment<'m>>, number: usize| {
            segment.map(|segment| segment.field(number))
        };
        let mut entity = |first: Option<Field<'m>>, second: Option<Field<'m>>| {
            for candidate in [first, second].into_iter().flatten() {
                if let Some(id) = reader.first_entity(candidate)? {
                    return Ok(Some(Sensitive::new(id)));
                }
            }
            MapResult::Ok(None)
        };
        let placer_id = entity(field(unit.obr, 2), field(unit.orc, 2))?;
        let filler_id = entity(field(unit.obr, 3), field(unit.orc, 3))?;
        let tests = match field(unit.obr, 4) {
            Some(test) => reader.primary_coding(test)?.into_iter().collect(),
            None => Vec::new(),
        };
        let priority_sources = [
            (field(unit.tq1, 9), 1),
            (field(unit.obr, 5), 1),
            (field(unit.obr, 27), 6),
            (field(unit.orc, 7), 6),
        ];
        let mut priority = None;
        for (source, component) in priority_sources {
            if let Some(source) = source
                && priority.is_none()
            {
                priority = reader.component_token_cow(source, component)?;
            }
        }
        let requested_at = match field(unit.orc, 9) {
            Some(time) if !time.is_empty() => reader.time_field(time)?,
            _ => match field(unit.obr, 6) {
                Some(time) => reader.time_field(time)?,
                None => None,
            },
        };
        let action = match field(unit.orc, 1) {
            Some(action) => reader.token(action)?,
            None => None,
        };
        let status = match field(unit.orc, 5) {
            Some(status) => reader.token(status)?,
            None => None,
        };
        let order = Order {
            placer_id,
            filler_id,
            tests,
            priority: priority.map(|code| Priority::from_code(&code)),
            requested_at,
            action,
            status,
        };
        let (observed_at, specimen) = match unit.obr {
            None => (None, None),
            Some(obr) => {
                let observed_at = reader.time_field(obr.field(7))?;
                let source = obr.field(15);
                let kind = if source.is_empty() {
                    None
                } else {
                    reader.coding_in(source.component(1))?
                };
                let received_at = reader.time_field(obr.field(14))?;
                // Only OBR-15 or OBR-14 say there is a specimen; OBR-7 alone may time a
                // device observation, which has none.
                let specimen = (kind.is_some() || received_at.is_some()).then(|| Specimen {
                    kind,
                    collected_at: observed_at,
                    received_at,
                    ..Specimen::default()
                });
                (observed_at, specimen)
            }
        };
        Ok(OrderParts {
            order: Some(order),
            observed_at,
            specimen,
        })
    }

    fn finish_unit(&mut self) -> MapResult<()> {
        let Some(mut unit) = self.unit.take() else {
            return Ok(());
        };
        let parts = self.read_order(&unit)?;
        self.reader.drain_pending_into(&mut unit.warnings);
        // Sized once for the message's, patient's, specimen's and order's own.
        let (draft_notes, draft_warnings) = match (&unit.specimen, &self.scope) {
            (Some(draft), _) | (None, Some(draft)) => (draft.notes.len(), draft.warnings.len()),
            (None, None) => (0, 0),
        };
        let mut notes = Vec::with_capacity(
            self.message_notes
                .len()
                .saturating_add(self.patient_notes.len())
                .saturating_add(draft_notes)
                .saturating_add(unit.notes.len()),
        );
        notes.extend(self.message_notes.iter().cloned());
        notes.extend(self.patient_notes.iter().cloned());
        let shared_warnings = self
            .message_warnings
            .len()
            .saturating_add(self.patient_warnings.len());
        let warning_count = shared_warnings
            .saturating_add(draft_warnings)
            .saturating_add(unit.warnings.len());
        let mut copied = self
            .message_raw
            .saturating_add(self.patient_raw)
            .saturating_add(unit.raw_len)
            .saturating_add(warning_cost(
                shared_warnings.saturating_add(self.provenance.warnings.len()),
            ));
        // Every result gets its own copy of the specimen's substances.
        let draft_cost = |draft: &SpecimenDraft| {
            draft
                .raw_len
                .saturating_add(warning_cost(draft.warnings.len()))
                .saturating_add(draft.substances_raw.saturating_mul(unit.results.len()))
        };
        let mut substances = Vec::new();
        // The warnings of the order's own specimen (those of the specimen group stay
        // in `self.scope`).
        let mut own_draft_warnings = Vec::new();
        // The order's own specimen is moved into the event; the specimen group's
        // (specimen-first profiles) is shared by its orders, so each gets a copy.
        let shares_scope = unit.specimen.is_none() && self.scope.is_some();
        let mut specimen = match (unit.specimen.take(), &mut self.scope) {
            (Some(draft), _) => {
                copied = copied.saturating_add(draft_cost(&draft));
                notes.extend(draft.notes);
                own_draft_warnings = draft.warnings;
                substances = draft.substances;
                Some(draft.specimen)
            }
            (None, Some(scope)) => {
                scope.used = true;
                copied = copied.saturating_add(draft_cost(scope));
                notes.extend(scope.notes.iter().cloned());
                substances.clone_from(&scope.substances);
                Some(scope.specimen.clone())
            }
            (None, None) => parts.specimen,
        };
        if let Some(specimen) = &mut specimen
            && specimen.collected_at.is_none()
        {
            specimen.collected_at = parts.observed_at;
        }
        notes.append(&mut unit.notes);
        let mut results = core::mem::take(&mut unit.results);
        // In place: results are large, and moving them is copying them.
        for result in &mut results {
            if result.observed_at.is_none() {
                result.observed_at = parts.observed_at;
            }
            result.substances.extend(substances.iter().cloned());
        }
        self.count_event(copied, &unit)?;
        let draft_warnings = match &self.scope {
            Some(scope) if shares_scope => scope.warnings.as_slice(),
            _ => own_draft_warnings.as_slice(),
        };
        let provenance = event_provenance(
            &self.reader,
            unit.start,
            warning_count,
            [
                &self.message_warnings,
                &self.patient_warnings,
                draft_warnings,
                &unit.warnings,
            ],
        );
        let event = if self.work_orders {
            LabEvent::WorkOrder(WorkOrder {
                instrument: Instrument::default(),
                patient: None,
                specimen,
                order: parts.order.unwrap_or_default(),
                notes,
                provenance,
            })
        } else {
            let role = specimen
                .as_ref()
                .map(|s| s.role.clone())
                .unwrap_or_default();
            let options = &self.reader.options;
            if options.quality_control_events && role.is_quality_control() {
                let control = substances
                    .iter()
                    .find(|lot| lot.kind == Some(SubstanceType::Control))
                    .or(substances.first())
                    .cloned();
                LabEvent::Qc(QcEvent {
                    instrument: Instrument::default(),
                    specimen,
                    control,
                    results: results
                        .into_iter()
                        .map(|result| QcResult {
                            result,
                            target: None,
                            sd: None,
                            outcome: None,
                            rules_violated: Vec::new(),
                        })
                        .collect(),
                    notes,
                    at: None,
                    provenance,
                })
            } else if options.quality_control_events && role.is_calibration() {
                LabEvent::Calibration(CalibrationEvent {
                    instrument: Instrument::default(),
                    test: parts.order.and_then(|order| order.tests.into_iter().next()),
                    substances,
                    results,
                    notes,
                    provenance,
                    ..CalibrationEvent::default()
                })
            } else {
                LabEvent::Results(ResultReport {
                    instrument: Instrument::default(),
                    patient: None,
                    specimen,
                    order: parts.order,
                    results,
                    notes,
                    provenance,
                })
            }
        };
        self.events.push(event);
        self.share_with_last_event();
        Ok(())
    }

    // --- QBP^Q11 -----------------------------------------------------------------------

    /// QPD as IHE LAW LAB-27 fills it: QPD-3 specimen (container) id, QPD-4 carrier and
    /// QPD-5 position ("query by rack"), QPD-6 tray and QPD-7 position ("by tray").
    /// `WOS_ALL` queries fill none of them: all pending work.
    fn queries(&mut self) -> MapResult<()> {
        let message = self.reader.message;
        for segment in message.segments().skip(1) {
            if segment.id() != b"QPD" {
                continue;
            }
            let reader = &mut self.reader;
            let mut specimen_ids = Vec::new();
            for repetition in segment.field(3).repetitions() {
                if let Some(id) = reader.entity(repetition)? {
                    specimen_ids.push(Sensitive::new(id));
                }
            }
            let carrier = match reader.component_token(segment.field(4), 1)? {
                Some(carrier) => Some(carrier),
                None => reader.component_token(segment.field(6), 1)?,
            };
            let position = match reader.first_repetition_token(segment.field(5))? {
                Some(position) => Some(position),
                None => reader.first_repetition_token(segment.field(7))?,
            };
            let container = (carrier.is_some() || position.is_some()).then(|| Container {
                carrier,
                position,
                ..Container::default()
            });
            let mut warnings = self.message_warnings.clone();
            reader.drain_pending_into(&mut warnings);
            let start = reader.segment_location(&segment);
            let event = LabEvent::Query(SpecimenQuery {
                instrument: Instrument::default(),
                specimen_ids,
                container,
                tests: Vec::new(),
                status: None,
                provenance: self.event_provenance(start, &warnings),
            });
            let unit = Unit::new(start, segment.offset());
            let copied = warning_cost(
                self.message_warnings
                    .len()
                    .saturating_add(self.provenance.warnings.len()),
            );
            self.push_event(event, copied, &unit)?;
            self.share_with_last_event();
        }
        Ok(())
    }

    // --- equipment messages ------------------------------------------------------------

    fn equipment(&mut self) -> MapResult<()> {
        let message = self.reader.message;
        let inventory = self.profile == Profile::InuU05;
        let mut current: Option<(LabEvent, Unit<'m>)> = None;
        // EQP log entries of the current EQU, each an event of its own after the
        // status it belongs to.
        let mut logs: Vec<(LabEvent, Unit<'m>)> = Vec::new();
        for segment in message.segments().skip(1) {
            let location = self.reader.segment_location(&segment);
            match segment.id() {
                b"EQU" => {
                    if let Some((event, unit)) = current.take() {
                        self.finish_equipment(event, &unit)?;
                    }
                    for (log, unit) in logs.drain(..) {
                        self.finish_equipment(log, &unit)?;
                    }
                    let event = self.equipment_unit(segment, inventory)?;
                    let mut unit = Unit::new(location, segment.offset());
                    unit.warnings = self.reader.take_pending();
                    current = Some((event, unit));
                }
                b"ISD" | b"EQP" | b"INV" | b"ECD" | b"OBX" => {
                    if current.is_none() {
                        let event = self.bare_equipment_event(inventory);
                        current = Some((event, Unit::new(location, segment.offset())));
                    }
                    if let Some((event, unit)) = &mut current {
                        Self::equipment_detail(&mut self.reader, event, segment, location)?;
                        self.reader.drain_pending_into(&mut unit.warnings);
                        if segment.id() == b"EQP" && !inventory {
                            let instrument = instrument_slot(event).cloned();
                            let log = Self::equipment_log(
                                &mut self.reader,
                                instrument.unwrap_or_default(),
                                segment,
                            )?;
                            let mut log_unit = Unit::new(location, segment.offset());
                            log_unit.warnings = self.reader.take_pending();
                            logs.push((log, log_unit));
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some((event, unit)) = current {
            self.finish_equipment(event, &unit)?;
        }
        for (log, unit) in logs {
            self.finish_equipment(log, &unit)?;
        }
        Ok(())
    }

    /// EQP (LSU^U12, HL7 v2.5 §13.4.9): 1 event type (0450: `LOG`, `SER`), 2 file
    /// name, 3 start and 4 end date/time, 5 transaction data (the log text, FT,
    /// escapes decoded).
    fn equipment_log(
        reader: &mut Reader<'m>,
        instrument: Instrument,
        eqp: Segment<'m>,
    ) -> MapResult<LabEvent> {
        Ok(LabEvent::Log(EquipmentLog {
            instrument,
            kind: reader.primary_coding(eqp.field(1))?,
            file_name: reader.token(eqp.field(2))?,
            started_at: reader.time_field(eqp.field(3))?,
            ended_at: reader.time_field(eqp.field(4))?,
            text: reader.cow(eqp.field(5))?.map(Cow::into_owned),
            provenance: Provenance::default(),
        }))
    }

    fn bare_equipment_event(&self, inventory: bool) -> LabEvent {
        if inventory {
            LabEvent::Inventory(Inventory {
                instrument: self.instrument.clone(),
                ..Inventory::default()
            })
        } else {
            LabEvent::Status(EquipmentStatus {
                instrument: self.instrument.clone(),
                ..EquipmentStatus::default()
            })
        }
    }

    /// EQU: 1 equipment instance id, 2 event time, 3 state (0365), 4 local/remote
    /// control (0366), 5 alert level (0367).
    fn equipment_unit(&mut self, equ: Segment<'m>, inventory: bool) -> MapResult<LabEvent> {
        let reader = &mut self.reader;
        let mut instrument = self.instrument.clone();
        if let Some(ids) = reader.equipment(equ.field(1))? {
            instrument.ids = ids.ids;
        }
        let at = reader.time_field(equ.field(2))?;
        if inventory {
            return Ok(LabEvent::Inventory(Inventory {
                instrument,
                items: Vec::new(),
                at,
                provenance: Provenance::default(),
            }));
        }
        Ok(LabEvent::Status(EquipmentStatus {
            instrument,
            state: reader
                .component_token_cow(equ.field(3), 1)?
                .map(|code| EquipmentState::from_code(&code)),
            control: reader
                .component_token_cow(equ.field(4), 1)?
                .map(|code| ControlState::from_code(&code)),
            alert: reader
                .component_token_cow(equ.field(5), 1)?
                .map(|code| AlertLevel::from_code(&code)),
            at,
            details: Vec::new(),
            provenance: Provenance::default(),
        }))
    }

    fn equipment_detail(
        reader: &mut Reader<'m>,
        event: &mut LabEvent,
        segment: Segment<'m>,
        location: MapLocation,
    ) -> MapResult<()> {
        match (segment.id(), event) {
            (b"ISD", LabEvent::Status(status)) => {
                // ISD-2 interaction type (0368), ISD-3 interaction active state (0387).
                for field in [2, 3] {
                    if let Some(coding) = reader.primary_coding(segment.field(field))? {
                        status.details.push(coding);
                    }
                }
            }
            (b"ECD", LabEvent::Status(status)) => {
                // ECD-2 remote control command (table 0368, as ISD-2). ECD-1 (reference
                // number) and ECD-3 (response required) serve the EAR^U08 answer; the
                // requested completion time (ECD-4) and parameters (ECD-5) have no
                // place in the model.
                if let Some(coding) = reader.primary_coding(segment.field(2))? {
                    status.details.push(coding);
                }
                for number in [4, 5] {
                    let field = segment.field(number);
                    if !field.is_empty() {
                        let location = location.with_field(number as u32);
                        reader.warn(MapWarningKind::FieldNotMapped, location, field.offset());
                    }
                }
            }
            (b"EQP", LabEvent::Status(status)) => {
                // EQP-1 event type (0450: log or service) is also a detail of the
                // status; the entry itself becomes a `LabEvent::Log` (see
                // `equipment_log`).
                if let Some(coding) = reader.primary_coding(segment.field(1))? {
                    status.details.push(coding);
                }
            }
            (b"INV", LabEvent::Inventory(inventory)) => {
                let item = Self::inventory_item(reader, segment)?;
                inventory.items.push(item);
            }
            (b"OBX", _) => {
                reader.warn(
                    MapWarningKind::ObservationNotMapped,
                    location,
                    segment.offset(),
                );
            }
            _ => reader.warn(MapWarningKind::SegmentNotMapped, location, segment.offset()),
        }
        Ok(())
    }

    /// INV in INU^U05: the substance (see [`Reader::substance`]) and 2 status (0383),
    /// 4 container, 5 carrier, 6 position, 9 available quantity (else 8, current) in
    /// the units of 11.
    fn inventory_item(reader: &mut Reader<'m>, inv: Segment<'m>) -> MapResult<InventoryItem> {
        let mut status = Vec::new();
        for repetition in inv.field(2).repetitions() {
            if let Some(code) = reader.token(repetition.component(1))? {
                status.push(code);
            }
        }
        let quantity_field = if inv.field(9).is_empty() { 8 } else { 9 };
        let available = reader
            .decimal(inv.field(quantity_field))?
            .map(|value| -> MapResult<Quantity> {
                Ok(Quantity {
                    value,
                    comparator: None,
                    unit: None,
                })
            })
            .transpose()?;
        let unit = reader.unit(inv.field(11))?;
        Ok(InventoryItem {
            substance: reader.substance(inv)?,
            status: status.into_iter().collect(),
            container_id: reader.component_token(inv.field(4), 1)?,
            carrier: reader.component_token(inv.field(5), 1)?,
            position: reader.component_token(inv.field(6), 1)?,
            available: available.map(|quantity| Quantity { unit, ..quantity }),
            tests_remaining: None,
            on_board_expires_at: None,
        })
    }

    fn finish_equipment(&mut self, mut event: LabEvent, unit: &Unit<'m>) -> MapResult<()> {
        let mut warnings = self.message_warnings.clone();
        warnings.extend(unit.warnings.iter().copied());
        *event.provenance_mut() = self.provenance_for(unit.start, &warnings);
        let copied = warning_cost(
            self.message_warnings
                .len()
                .saturating_add(self.provenance.warnings.len()),
        );
        self.push_event(event, copied, unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::ParseOptions;
    use labwire_model::{CodeSystem, Comparator, Interpretation, ResultStatus, ResultValue};

    fn map(text: &str) -> Mapped {
        let message = Message::parse_str(text, &ParseOptions::default()).unwrap();
        to_events(&message, &MapOptions::default()).unwrap()
    }

    fn reports(mapped: &Mapped) -> Vec<&ResultReport> {
        mapped
            .events
            .iter()
            .filter_map(|event| match event {
                LabEvent::Results(report) => Some(report),
                _ => None,
            })
            .collect()
    }

    const ORU: &str = "MSH|^~\\&|AN-1|LAB|LIS|HOSP|20240301101502+0100||ORU^R01^ORU_R01|M1|P|2.5.1\r\
PID|1|EXT-9|MRN-1^^^HOSP&1.2.3&ISO^MR~NAT-2^^^^NI||Doe&Van^Jane^Q^Jr^Dr||19800501|F\r\
NTE|1||Patient note\r\
ORC|RE|P-1^LIS|F-1^LAB||CM||^^^^^R||20240301080000\r\
OBR|1|||GLU^Glucose^99LAB^2345-7^^LN|S||20240301070000\r\
NTE|1||Order note\r\
OBX|1|NM|GLU^Glucose^99LAB^2345-7^^LN|1|5,40|mmol/L^^UCUM|3.9-6.1|H~N|||F|||20240301071500||OP-7^Smith^Ann|M1^Method^99LAB|AN-1^ROCHE~SN-77^ROCHE|20240301101000\r\
NTE|1||Result note~second line\r\
OBX|2|SN|CRP^CRP^99LAB||<^0,5|mg/L||L|||F\r\
OBX|3|SN|TITER^Titer^99LAB||^1^:^128||||||F\r\
OBX|4|SN|RANGE^Range^99LAB||^1^-^5|/uL|||||F\r\
OBX|5|CWE|ORG^Organism^99LAB||3092008^Staphylococcus aureus^SCT~112283007^E. coli^SCT||||||P\r\
OBX|6|ST|CMT^Comment^99LAB||a\\T\\b \\F\\ c||||||F\r\
OBX|7|DT|DT^Date^99LAB||20240229||||||F\r\
OBX|8|ED|IMG^Histogram^99LAB||^IM^PNG^Base64^iVBORw0KGgo=||||||F\r\
OBX|9|NM|BAD^Bad^99LAB||abc|mg|||||F\r\
OBX|10|XPN|WHO^Who^99LAB||Doe^John||||||F\r\
OBX|11|NM|GLU^Glucose^LN^2345-8||1||||||\r\
SPM|1|S-1&LIS^F-9&LAB||SER^Serum^HL70487|||||||P|||hemolyzed|||20240301065500|20240301071000\r";

    #[test]
    fn oru_maps_patient_order_specimen_and_every_value_type() {
        let options = MapOptions {
            decimal_mark: labwire_model::DecimalMark::Comma,
            ..MapOptions::default()
        };
        let message = Message::parse_str(ORU, &ParseOptions::default()).unwrap();
        let mapped = to_events(&message, &options).unwrap();
        assert_eq!(mapped.profile, Profile::OruR01);
        let reports = reports(&mapped);
        assert_eq!(reports.len(), 1);
        let report = reports[0];
        assert_eq!(report.instrument.local_id.as_deref(), Some("AN-1"));
        assert_eq!(report.provenance.sender.as_deref(), Some("AN-1^LAB"));
        assert_eq!(report.provenance.version.as_deref(), Some("2.5.1"));
        assert_eq!(report.provenance.location.as_deref(), Some("OBR(1)"));
        let patient = report.patient.as_ref().unwrap();
        let ids: Vec<_> = patient.ids.iter().map(|id| id.expose().clone()).collect();
        assert_eq!(ids[0].value, "MRN-1");
        assert_eq!(ids[0].assigner.as_deref(), Some("HOSP"));
        assert_eq!(ids[0].kind, Some(IdentifierType::MedicalRecord));
        assert_eq!(ids[1].kind, Some(IdentifierType::NationalIndividual));
        assert_eq!(ids[2].value, "EXT-9");
        let name = patient.name.as_ref().unwrap().expose();
        assert_eq!(name.family.as_deref(), Some("Doe"));
        assert_eq!(name.prefix.as_deref(), Some("Dr"));
        assert_eq!(report.notes, ["Patient note", "Order note"]);
        let order = report.order.as_ref().unwrap();
        assert_eq!(order.placer_id.as_ref().unwrap().expose().value, "P-1");
        assert_eq!(
            order
                .filler_id
                .as_ref()
                .unwrap()
                .expose()
                .assigner
                .as_deref(),
            Some("LAB")
        );
        assert_eq!(order.priority, Some(Priority::Stat));
        assert_eq!(order.action.as_deref(), Some("RE"));
        assert_eq!(order.status.as_deref(), Some("CM"));
        assert_eq!(order.requested_at.unwrap().format_hl7(), "20240301080000");
        let specimen = report.specimen.as_ref().unwrap();
        assert_eq!(specimen.ids.len(), 2);
        assert_eq!(specimen.ids[1].expose().kind, Some(IdentifierType::Filler));
        assert_eq!(specimen.description.as_deref(), Some("hemolyzed"));
        assert_eq!(
            specimen.collected_at.unwrap().format_hl7(),
            "20240301065500"
        );

        let r = &report.results;
        assert_eq!(r.len(), 11);
        // NM with a decimal comma, UCUM unit, LOINC from the alternate, two flags.
        let ResultValue::Quantity(glucose) = &r[0].value else {
            panic!("{:?}", r[0].value)
        };
        assert_eq!(glucose.value.as_str(), "5.40");
        assert_eq!(
            glucose.unit.as_ref().unwrap().ucum.as_deref(),
            Some("mmol/L")
        );
        assert_eq!(r[0].loinc.unwrap().as_str(), "2345-7");
        assert_eq!(r[0].alt_tests[0].system, CodeSystem::Loinc);
        assert_eq!(
            r[0].interpretation,
            [Interpretation::High, Interpretation::Normal]
        );
        assert_eq!(r[0].sub_id.as_deref(), Some("1"));
        assert_eq!(r[0].operator.as_ref().unwrap().expose(), "OP-7");
        assert_eq!(r[0].method.as_ref().unwrap().code, "M1");
        assert_eq!(r[0].instrument.as_ref().unwrap().ids.len(), 2);
        assert_eq!(r[0].notes, ["Result note\nsecond line"]);
        assert_eq!(r[0].observed_at.unwrap().format_hl7(), "20240301071500");
        // OBX-14 empty: OBR-7.
        assert_eq!(r[1].observed_at.unwrap().format_hl7(), "20240301070000");
        let ResultValue::Quantity(crp) = &r[1].value else {
            panic!()
        };
        assert_eq!(crp.comparator, Some(Comparator::Lt));
        assert!(
            matches!(&r[2].value, ResultValue::Ratio { numerator, denominator, .. }
            if numerator.as_str() == "1" && denominator.as_str() == "128")
        );
        assert!(
            matches!(&r[3].value, ResultValue::Range { low: Some(low), high: Some(high), unit: Some(_) }
            if low.as_str() == "1" && high.as_str() == "5")
        );
        let ResultValue::Coded(organism) = &r[4].value else {
            panic!()
        };
        assert_eq!(organism.system, CodeSystem::Snomed);
        assert_eq!(r[4].additional_values.len(), 1);
        assert_eq!(r[4].status, ResultStatus::Preliminary);
        assert_eq!(r[5].value, ResultValue::text("a&b | c"));
        assert!(matches!(r[6].value, ResultValue::DateTime { .. }));
        assert!(
            matches!(&r[7].value, ResultValue::Attachment { media_type: Some(media), encoding: Some(encoding), data }
            if media == "image/png" && encoding == "base64" && data == "iVBORw0KGgo=")
        );
        assert_eq!(r[7].raw_value, None);
        assert_eq!(r[8].value, ResultValue::text("abc"));
        assert_eq!(r[9].value, ResultValue::text("Doe^John"));
        assert_eq!(r[10].loinc, None);

        let warnings: Vec<String> = mapped
            .warnings
            .iter()
            .map(|warning| format!("{}: {}", warning.location, warning.kind))
            .collect();
        for expected in [
            "OBX(9)-5: not a number; kept as text",
            "OBX(9)-6: units on a value without units; not carried",
            "OBX(10)-5: value type not mapped; kept as text",
            "OBX(11)-3: LOINC check digit does not match; loinc left empty",
            "OBX(11)-11: result status (OBX-11) empty",
        ] {
            assert!(
                warnings.iter().any(|w| w == expected),
                "{expected}: {warnings:?}"
            );
        }
        assert_eq!(mapped.warnings.len(), 5, "{warnings:?}");
        // Each warning is also in the event's provenance, and its location is a path.
        for warning in &mapped.warnings {
            assert!(report.provenance.warnings.contains(&warning.to_string()));
            assert!(
                message.get(&warning.location.to_string()).is_some(),
                "{warning}"
            );
        }
    }

    #[test]
    fn oul_r22_is_specimen_first_with_containers_substances_and_qc() {
        let oul = "MSH|^~\\&|AN-1||LIS||20240301101502||OUL^R22^OUL_R22|M2|P|2.5.1\r\
SPM|1|S-1||SER|||||||P\r\
SAC|||C-1|||||||R-7|3\r\
OBR|1|P-1||GLU^Glucose^99LAB\r\
ORC|SC\r\
OBX|1|NM|GLU^Glucose^99LAB||5.4|mmol/L|||||F\r\
SID|REAG^Reagent^99LAB|LOT-1||ROCHE\r\
NTE|1||result note\r\
SPM|2|QC-1||SER|||||||Q\r\
OBX|1|NM|GLU^Glucose^99LAB||6.1|mmol/L|||||F\r\
SAC|||C-2\r\
INV|CTRL^Control^99LAB|OK|CO|||||||||20251231||||LOT-C2\r\
OBR|2|P-2||GLU^Glucose^99LAB\r\
OBX|1|NM|GLU^Glucose^99LAB||6.2|mmol/L|||||F\r";
        let mapped = map(oul);
        assert_eq!(mapped.events.len(), 3, "{:?}", mapped.events);
        let LabEvent::Results(patient) = &mapped.events[0] else {
            panic!()
        };
        let container = patient
            .specimen
            .as_ref()
            .unwrap()
            .container
            .as_ref()
            .unwrap();
        assert_eq!(container.id.as_ref().unwrap().expose(), "C-1");
        assert_eq!(container.carrier.as_deref(), Some("R-7"));
        assert_eq!(container.position.as_deref(), Some("3"));
        assert_eq!(
            patient.order.as_ref().unwrap().action.as_deref(),
            Some("SC")
        );
        assert_eq!(
            patient.results[0].substances[0].lot.as_deref(),
            Some("LOT-1")
        );
        assert_eq!(patient.results[0].notes, ["result note"]);
        // The specimen observation (OBX before any OBR) and the QC order.
        let LabEvent::Qc(specimen_level) = &mapped.events[1] else {
            panic!("{:?}", mapped.events[1])
        };
        assert_eq!(
            specimen_level.provenance.location.as_deref(),
            Some("SPM(2)")
        );
        let LabEvent::Qc(qc) = &mapped.events[2] else {
            panic!()
        };
        assert_eq!(qc.control.as_ref().unwrap().lot.as_deref(), Some("LOT-C2"));
        assert_eq!(qc.results[0].result.substances.len(), 1);
        assert_eq!(qc.specimen.as_ref().unwrap().role, SpecimenRole::Control);
        assert!(mapped.warnings.is_empty(), "{:?}", mapped.warnings);

        // Without QC events, the same specimens stay results with their role.
        let message = Message::parse_str(oul, &ParseOptions::default()).unwrap();
        let options = MapOptions {
            quality_control_events: false,
            ..MapOptions::default()
        };
        let plain = to_events(&message, &options).unwrap();
        assert!(
            plain
                .events
                .iter()
                .all(|e| matches!(e, LabEvent::Results(_)))
        );
    }

    #[test]
    fn several_specimens_of_one_order_make_one_report_each() {
        let oml = "MSH|^~\\&|HIS||LIS||20240301||OML^O21^OML_O21|M3|P|2.5.1\r\
PID|1||P1\r\
ORC|NW|O-1\r\
OBR|1|O-1||GTT^Glucose tolerance^99LAB\r\
OBX|1|NM|WT^Weight^99LAB||75|kg||||F\r\
NTE|1||dropped with its OBX\r\
SPM|1|S-1||SER\r\
SPM|2|S-2||SER\r";
        let mapped = map(oml);
        assert_eq!(mapped.events.len(), 2);
        for (event, id) in mapped.events.iter().zip(["S-1", "S-2"]) {
            let LabEvent::WorkOrder(order) = event else {
                panic!()
            };
            assert_eq!(order.specimen.as_ref().unwrap().ids[0].expose().value, id);
            assert_eq!(order.order.tests[0].code, "GTT");
            assert!(order.notes.is_empty());
            assert_eq!(order.instrument.local_id.as_deref(), Some("LIS"));
        }
        assert_eq!(mapped.warnings.len(), 1);
        assert_eq!(
            mapped.warnings[0].kind,
            MapWarningKind::ObservationNotMapped
        );
        assert_eq!(mapped.warnings[0].location.to_string(), "OBX(1)");
    }

    #[test]
    fn observation_without_any_group_is_kept_and_warned() {
        let mapped = map("MSH|^~\\&|A||||||ORU^R01|1|P|2.3\rOBX|1|ST|X||y||||||F\r");
        let reports = reports(&mapped);
        assert_eq!(reports[0].results.len(), 1);
        assert_eq!(
            mapped.warnings[0].kind,
            MapWarningKind::ObservationOutsideGroup
        );
    }

    #[test]
    fn equipment_status_inventory_and_query() {
        let esu = map("MSH|^~\\&|AN-1||LIS||20240301||ESU^U01^ESU_U01|1|P|2.5.1\r\
EQU|AN-1^ROCHE|20240301101500|OP^Normal^HL70365|R|W\r\
ISD|1|INIT^Init^HL70368|OK^Ok^HL70387\r");
        let LabEvent::Status(status) = &esu.events[0] else {
            panic!()
        };
        assert_eq!(status.state, Some(EquipmentState::Operating));
        assert_eq!(status.control, Some(ControlState::Remote));
        assert_eq!(status.alert, Some(AlertLevel::Warning));
        assert_eq!(status.details.len(), 2);
        assert_eq!(status.instrument.ids[0].value, "AN-1");

        let inu = map("MSH|^~\\&|AN-1||LIS||20240301||INU^U05^INU_U05|2|P|2.5.1\r\
EQU|AN-1|20240301101500\r\
INV|GLU-R1^Glucose reagent^99LAB|OK~LW|SR|PK-1|R-1|4|500|400|380||mL|20250630||||L-77|ROCHE^Roche\r");
        let LabEvent::Inventory(inventory) = &inu.events[0] else {
            panic!()
        };
        let item = &inventory.items[0];
        assert_eq!(item.status, ["OK", "LW"]);
        assert_eq!(item.substance.lot.as_deref(), Some("L-77"));
        assert_eq!(item.substance.manufacturer.as_deref(), Some("Roche"));
        let available = item.available.as_ref().unwrap();
        assert_eq!(available.value.as_str(), "380");
        assert_eq!(available.unit.as_ref().unwrap().original, "mL");

        let qbp = map("MSH|^~\\&|AN-1||LIS||20240301||QBP^Q11^QBP_Q11|3|P|2.5.1\r\
QPD|WOS^Work Order Step^IHE_LABTF|Q-1|S-77\r\
RCP|I||R\r");
        let LabEvent::Query(query) = &qbp.events[0] else {
            panic!()
        };
        assert_eq!(query.specimen_ids[0].expose().value, "S-77");

        let eac = map("MSH|^~\\&|LIS||AN-1||20240301||EAC^U07^EAC_U07|4|P|2.5.1\r\
EQU|AN-1|20240301|OP\r\
ECD|1|SA^Start^HL70368|Y|^^^20240301|PARAM\r");
        assert_eq!(eac.events.len(), 1);
        let LabEvent::Status(command) = &eac.events[0] else {
            panic!()
        };
        assert_eq!(command.details[0].code, "SA");
        let unmapped: Vec<_> = eac
            .warnings
            .iter()
            .map(|w| w.location.to_string())
            .collect();
        assert_eq!(unmapped, ["ECD(1)-4", "ECD(1)-5"]);
        assert_eq!(eac.warnings[0].kind, MapWarningKind::FieldNotMapped);
        assert_eq!(eac.events[0].instrument().local_id.as_deref(), Some("AN-1"));
    }

    #[test]
    fn limits_stop_mapping() {
        let message = Message::parse_str(
            "MSH|^~\\&|A||||||ORU^R01|1|P|2.5.1\rOBR|1\rOBR|2\rOBR|3\r",
            &ParseOptions::default(),
        )
        .unwrap();
        let options = MapOptions {
            max_events: 2,
            ..MapOptions::default()
        };
        assert!(matches!(
            to_events(&message, &options),
            Err(MapError::LimitExceeded {
                limit: MapLimit::Events,
                ..
            })
        ));
        let options = MapOptions {
            max_copied_bytes: 10,
            ..MapOptions::default()
        };
        assert!(matches!(
            to_events(&message, &options),
            Err(MapError::LimitExceeded {
                limit: MapLimit::CopiedBytes,
                ..
            })
        ));
    }

    #[test]
    fn warnings_are_capped() {
        let mut text = "MSH|^~\\&|A||||||ORU^R01|1|P|2.5.1\rOBR|1\r".to_owned();
        for n in 1..=20 {
            text.push_str(&format!("OBX|{n}|NM|X||abc||||||F\r"));
        }
        let message = Message::parse_str(&text, &ParseOptions::default()).unwrap();
        let options = MapOptions {
            max_warnings: 5,
            ..MapOptions::default()
        };
        let mapped = to_events(&message, &options).unwrap();
        assert_eq!(mapped.warnings.len(), 6);
        assert_eq!(mapped.warnings[5].kind, MapWarningKind::TooManyWarnings);
        let LabEvent::Results(report) = &mapped.events[0] else {
            panic!()
        };
        assert_eq!(report.results.len(), 20);
        assert_eq!(report.provenance.warnings.len(), 6);
    }

    #[test]
    fn strict_decoding_errors_propagate() {
        let input = "MSH|^~\\&|A||||||ORU^R01|1|P|2.5.1\rOBR|1\rOBX|1|ST|X||a\\Q\\b||||||F\r";
        let options = ParseOptions {
            lenient_escapes: false,
            ..ParseOptions::default()
        };
        let message = Message::parse_str(input, &options).unwrap();
        assert!(matches!(
            to_events(&message, &MapOptions::default()),
            Err(MapError::Hl7(_))
        ));
        let lenient = map(input);
        assert!(matches!(
            lenient.warnings[0].kind,
            MapWarningKind::Decoding(_)
        ));
        assert_eq!(lenient.warnings[0].location.to_string(), "OBX(1)-5");
    }

    #[test]
    fn unsupported_messages_are_errors() {
        let message = Message::parse_str(
            "MSH|^~\\&|A||||||ADT^A01|1|P|2.5\r",
            &ParseOptions::default(),
        )
        .unwrap();
        assert!(matches!(
            to_events(&message, &MapOptions::default()),
            Err(MapError::UnsupportedMessageType { .. })
        ));
    }
}
