//! Laboratory message profiles mapped to and from the labwire lab model.
//!
//! [`to_events`] reads a parsed [`Message`] into [`LabEvent`]s; [`write_oul_r22`],
//! [`write_oru_r01`] and [`write_oml_o33`] build messages from the model. The syntax
//! layer is untouched by either direction: reading only borrows views, writing goes
//! through [`OwnedMessage`](crate::write::OwnedMessage), so every value is escaped.
//!
//! ```
//! use labwire_hl7::ack::{Ack, AcknowledgmentCode, ErrorCode, ErrorDetail, Severity};
//! use labwire_hl7::model::{MapOptions, to_events};
//! use labwire_hl7::{Message, ParseOptions};
//! use labwire_model::{LabEvent, LabTimestamp, ResultValue};
//!
//! let oru = "MSH|^~\\&|CHEM-01|LAB|LIS|HOSP|20240301101502||ORU^R01^ORU_R01|MSG00042|P|2.5.1\r\
//!            PID|1||MRN-4711^^^HOSP^MR||Doe^Jane||19800501|F\r\
//!            OBR|1|P-0815|F-77|24323-8^Metabolic panel^LN|||20240301080000\r\
//!            OBX|1|NM|2345-7^Glucose^LN||5.40|mmol/L^^UCUM|3.9-6.1|N|||F\r\
//!            NTE|1||Sample slightly lipemic\r\
//!            OBX|2|SN|2160-0^Creatinine^LN||<^0.5|mg/dL|0.6-1.3|L|||F\r\
//!            SPM|1|S24-000123||SER^Serum^HL70487|||||||P\r";
//! let message = Message::parse_str(oru, &ParseOptions::default())?;
//! let mapped = to_events(&message, &MapOptions::default())?;
//! assert!(mapped.warnings.is_empty());
//! let LabEvent::Results(report) = &mapped.events[0] else { panic!("a result report") };
//! assert_eq!(report.instrument.local_id.as_deref(), Some("CHEM-01"));
//! assert_eq!(report.specimen.as_ref().unwrap().ids[0].expose().value, "S24-000123");
//! let glucose = &report.results[0];
//! assert_eq!(glucose.loinc.unwrap().as_str(), "2345-7");
//! assert_eq!(glucose.notes, ["Sample slightly lipemic"]);
//! let ResultValue::Quantity(creatinine) = &report.results[1].value else { panic!() };
//! assert_eq!((creatinine.comparator.unwrap().as_str(), creatinine.value.as_str()), ("<", "0.5"));
//!
//! // Acknowledge once the events are safe (queued, published …).
//! let ack = Ack::new(
//!     AcknowledgmentCode::ApplicationAccept,
//!     "ACK-0001",
//!     LabTimestamp::parse_hl7("20240301101503")?,
//! )
//! .with_error(ErrorDetail::new(ErrorCode::MESSAGE_ACCEPTED, Severity::Information));
//! let bytes = ack.for_message(&message)?;
//! let reply = Message::parse(&bytes, &ParseOptions::strict())?;
//! assert_eq!(reply.get("MSH-9").unwrap().as_str(), Some("ACK^R01^ACK"));
//! assert_eq!(reply.get("MSA-2").unwrap().as_str(), Some("MSG00042"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Profiles read
//!
//! | MSH-9 | events | shape |
//! |---|---|---|
//! | `ORU^R01` (v2.1–2.8) | one [`LabEvent::Results`] per OBR and specimen | order first: `[ORC] OBR … {OBX [NTE]} [SPM]` |
//! | `OUL^R22`, `OUL^R23` (IHE LAW LAB-29) | one per SPM (and SAC) and OBR | specimen first: `SPM [OBX] [SAC [INV]] {[OBR] [ORC] … {OBX [SID] [NTE]}}` |
//! | `OUL^R24` | one per OBR and specimen | order first, SPM after the OBR |
//! | `OML^O33`, `OML^O35` (LAB-28) | one [`LabEvent::WorkOrder`] per specimen and order | specimen first |
//! | `OML^O21`, `ORM^O01` | one [`LabEvent::WorkOrder`] per order and specimen | order first |
//! | `QBP^Q11` (LAB-27) | one [`LabEvent::Query`] per QPD | |
//! | `ESU^U01`, `EAC^U07`, `LSU^U12` | one [`LabEvent::Status`] per EQU, then one [`LabEvent::Log`] per EQP | ISD states, ECD commands and EQP event types are the status's details; each EQP (event type, file name, start/end, log text) is a log entry; ECD parameters are warned, not mapped |
//! | `INU^U05` | one [`LabEvent::Inventory`] per EQU | |
//!
//! Anything else is [`MapError::UnsupportedMessageType`] (HL7 table 0357 code 200) or
//! [`MapError::UnsupportedTrigger`] (201).
//!
//! # Rules
//!
//! The crate-wide rules of [`labwire_model`] ("filling the model from a protocol")
//! apply; in HL7 terms:
//!
//! - **Groups.** ORC and OBR belong together in either order (ORU writes `ORC OBR`,
//!   OUL^R22 `OBR ORC`); an OBX belongs to the last order. In specimen-first profiles an
//!   OBX after SPM and before any OBR is a specimen observation and lands in a report
//!   without an order. An OBX before any order or specimen is kept in a report of its
//!   own with [`MapWarningKind::ObservationOutsideGroup`].
//! - **Notes.** NTE after OBX (or its SID/TCD) → [`LabResult::notes`]; after ORC/OBR/TQ1
//!   or SPM → report notes; after MSH or PID → notes of every report that follows
//!   (message and patient comments), before the order's own.
//! - **Specimen role** (SPM-11, table 0369): with [`MapOptions::quality_control_events`],
//!   control roles (Q, E, R, B, F, O) make a [`LabEvent::Qc`] and calibrator roles (C, V)
//!   a [`LabEvent::Calibration`]; the control or calibrator lot is the first INV
//!   substance. Otherwise they stay [`LabEvent::Results`] with that role, as the model
//!   crate's documentation of [`labwire_model::QcEvent`] describes.
//! - **Test code detail** (TCD, after its OBX, as IHE LAW sends it): TCD-8 (table
//!   0389) `R`, `D` or `F` (repeated, repeated with dilution, reflex) marks a
//!   [`LabResult::rerun`], `O` an original run. [`LabResult::dilution`] is the
//!   factor the instrument applied: the rerun dilution (TCD-3) for `D`, else the
//!   auto-dilution (TCD-2); `^1^:^10` is 10, `^5` is 5. A pre-dilution (TCD-4) is not
//!   the instrument's and other than 1 is warned ([`MapWarningKind::FieldNotMapped`]).
//!   HL7 has no run identifier, so [`LabResult::run_id`] stays empty (OBX-4, which
//!   LAW analyzers number runs with, is [`LabResult::sub_id`] as sent).
//! - **Times.** OBX-14 left empty takes OBR-7 (HL7 v2.5 §7.4.2.14: "if this field is not
//!   valued, it is assumed to be equal to OBR-7"); a specimen without SPM-17 takes OBR-7
//!   as its collection time (§4.5.3.7, "for specimen-based observations, the specimen
//!   collection date/time"). No zone is ever added.
//! - **Empty and null.** An empty field and the explicit null `""` both read as absent.
//!   Codes, identifiers, numbers and times are trimmed; free text (ST/TX/FT values,
//!   notes) keeps its spaces, and a note of spaces only is skipped.
//! - **Never drop an OBX.** Every OBX becomes a [`LabResult`] or is named in a
//!   [`MapWarning`] ([`MapWarningKind::ObservationNotMapped`] in work orders, queries and
//!   equipment messages, whose events have no results;
//!   [`MapWarningKind::ObservationNotAResult`] for an OBX whose observation type,
//!   OBX-29 (table 0936, v2.8), is `QST` or `SCI`: a question answered or clinical
//!   information sent along, not something measured. Past
//!   [`MapOptions::max_warnings`] one [`MapWarningKind::TooManyWarnings`] stands for
//!   the rest). A value that cannot be read as
//!   its OBX-2 type becomes [`ResultValue::Text`] with the decoded text and a
//!   [`MapWarningKind::ValueKeptAsText`] warning; [`LabResult::raw_value`] always holds the
//!   decoded OBX-5 (except for ED, whose data is kept verbatim in the attachment).
//! - **Identifiers** (PID-2/3/4, SPM-2, SAC-2/3, ORC/OBR-2/3, OBX-16, QPD-3) go in
//!   [`labwire_model::Sensitive`].
//! - **Where.** [`labwire_model::Provenance::location`] names the segment a report
//!   starts at, as `OBR(1)` or `SPM(2)`; warnings name the value, as `OBX(3)-5`. Both
//!   are [`Path`](crate::path::Path) notation, so `message.get(&warning.location.to_string())`
//!   finds the value.
//!
//! See [`read`] for the field-by-field mapping of each segment, and [`write`](mod@write) for the
//! messages built from the model and what they cannot carry.
//!
//! [`LabResult`]: labwire_model::LabResult
//! [`LabResult::notes`]: labwire_model::LabResult::notes
//! [`LabResult::raw_value`]: labwire_model::LabResult::raw_value
//! [`LabResult::rerun`]: labwire_model::LabResult::rerun
//! [`LabResult::dilution`]: labwire_model::LabResult::dilution
//! [`LabResult::run_id`]: labwire_model::LabResult::run_id
//! [`LabResult::sub_id`]: labwire_model::LabResult::sub_id
//! [`ResultValue::Text`]: labwire_model::ResultValue::Text

use core::fmt;

use labwire_model::{DecimalMark, EventKind, LabEvent};

use crate::error::{Error, SegmentId, WarningKind};
use crate::message::Message;

pub mod read;
mod values;
pub mod write;

pub use read::to_events;
pub use write::{Envelope, write_event, write_oml_o33, write_oru_r01, write_oul_r22};

/// How [`to_events`] reads a message.
///
/// `MapOptions::default()` is lenient, as real instruments need; each relaxation is
/// documented on its field. [`MapOptions::strict`] turns them off. The struct is
/// `#[non_exhaustive]`: start from a constructor and set fields.
///
/// ```
/// use labwire_hl7::model::{MapOptions, to_events};
/// use labwire_hl7::{Message, ParseOptions};
/// use labwire_model::{DecimalMark, LabEvent, ResultValue};
///
/// let mut options = MapOptions::default();
/// options.decimal_mark = DecimalMark::Comma; // this analyzer writes `5,4`
/// let message = Message::parse_str(
///     "MSH|^~\\&|AN-1||||||ORU^R01|1|P|2.5.1\rOBR|1\rOBX|1|NM|GLU||5,4|mmol/L||||F\r",
///     &ParseOptions::default(),
/// )?;
/// let mapped = to_events(&message, &options)?;
/// let LabEvent::Results(report) = &mapped.events[0] else { panic!() };
/// let ResultValue::Quantity(glucose) = &report.results[0].value else { panic!() };
/// assert_eq!(glucose.value.as_str(), "5.4");
///
/// // Strict: `<0.5` in an NM field is text, with a warning.
/// let message = Message::parse_str(
///     "MSH|^~\\&|AN-1||||||ORU^R01|1|P|2.5.1\rOBR|1\rOBX|1|NM|CRP||<0.5|mg/L||||F\r",
///     &ParseOptions::default(),
/// )?;
/// let mapped = to_events(&message, &MapOptions::strict())?;
/// let LabEvent::Results(report) = &mapped.events[0] else { panic!() };
/// assert_eq!(report.results[0].value, ResultValue::text("<0.5"));
/// assert_eq!(mapped.warnings[0].to_string(), "OBX(1)-5: not a number; kept as text (byte 57)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MapOptions {
    /// The decimal mark of numbers in OBX-5 (NM, SN), OBX-7 and INV quantities.
    /// HL7 v2 ch. 2A (NM) allows only a point; European LIS configurations send commas,
    /// which is a property of the connection, never guessed per value. Default: point.
    pub decimal_mark: DecimalMark,
    /// Lenient value reading (default on): a comparator in an NM value (`<0.5`, as
    /// analyzers write what SN should carry, research note quirk #14) becomes a
    /// qualified quantity; an OBX-5 without OBX-2 is read as a number when it is one
    /// (else text) with [`MapWarningKind::ValueTypeInferred`]; a message type written as
    /// `ORU_R01` in MSH-9.1 is read as `ORU^R01`; an OBX without a result status
    /// (OBX-11, required) takes its order's (OBR-25, table 0123) where both tables
    /// mean the same, with [`MapWarningKind::StatusFromOrder`] and the OBR-25 code in
    /// [`LabResult::status_raw`](labwire_model::LabResult::status_raw). Off: such
    /// values are text, such messages unsupported, such statuses empty.
    pub lenient_values: bool,
    /// Map specimens whose role (SPM-11, table 0369) is a control to [`LabEvent::Qc`] and
    /// calibrators to [`LabEvent::Calibration`] (default on). Off: they stay
    /// [`LabEvent::Results`] with their role.
    pub quality_control_events: bool,
    /// Most events one message may produce (default 10 000).
    pub max_events: usize,
    /// Most mapping warnings recorded for one message (default 1 000); one
    /// [`MapWarningKind::TooManyWarnings`] then stands for the rest.
    pub max_warnings: usize,
    /// Most bytes of shared context (patient, notes, specimen and order segments, and
    /// the warnings about them) copied into events, summed over the events of a message
    /// (default 64 MiB). Each event is complete on its own, so the patient of a message
    /// with many orders is copied into each; this bounds the copies whatever the message
    /// looks like.
    pub max_copied_bytes: usize,
}

impl Default for MapOptions {
    fn default() -> Self {
        Self {
            decimal_mark: DecimalMark::Point,
            lenient_values: true,
            quality_control_events: true,
            max_events: 10_000,
            max_warnings: 1_000,
            max_copied_bytes: 64 * 1024 * 1024,
        }
    }
}

impl MapOptions {
    /// Every relaxation off (see [`MapOptions::lenient_values`]); limits and the
    /// QC mapping as in the default.
    pub fn strict() -> Self {
        Self {
            lenient_values: false,
            ..Self::default()
        }
    }
}

/// The message profiles [`to_events`] reads (see the [module table](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Profile {
    /// `ORU^R01`: unsolicited observation results.
    OruR01,
    /// `OUL^R22`: specimen-oriented results (IHE LAW LAB-29).
    OulR22,
    /// `OUL^R23`: specimen and container oriented results.
    OulR23,
    /// `OUL^R24`: order-oriented results.
    OulR24,
    /// `OML^O21`: laboratory order.
    OmlO21,
    /// `OML^O33`: specimen-oriented order (IHE LAW LAB-28).
    OmlO33,
    /// `OML^O35`: specimen and container oriented order.
    OmlO35,
    /// `ORM^O01`: general order (before v2.5).
    OrmO01,
    /// `QBP^Q11`: query for work order steps (IHE LAW LAB-27).
    QbpQ11,
    /// `ESU^U01`: automated equipment status update.
    EsuU01,
    /// `INU^U05`: inventory update.
    InuU05,
    /// `EAC^U07`: automated equipment command.
    EacU07,
    /// `LSU^U12`: equipment log/service update.
    LsuU12,
}

impl Profile {
    const ALL: [Self; 13] = [
        Self::OruR01,
        Self::OulR22,
        Self::OulR23,
        Self::OulR24,
        Self::OmlO21,
        Self::OmlO33,
        Self::OmlO35,
        Self::OrmO01,
        Self::QbpQ11,
        Self::EsuU01,
        Self::InuU05,
        Self::EacU07,
        Self::LsuU12,
    ];

    /// Message type and trigger event (MSH-9.1, MSH-9.2).
    pub fn message_type(self) -> (&'static str, &'static str) {
        match self {
            Self::OruR01 => ("ORU", "R01"),
            Self::OulR22 => ("OUL", "R22"),
            Self::OulR23 => ("OUL", "R23"),
            Self::OulR24 => ("OUL", "R24"),
            Self::OmlO21 => ("OML", "O21"),
            Self::OmlO33 => ("OML", "O33"),
            Self::OmlO35 => ("OML", "O35"),
            Self::OrmO01 => ("ORM", "O01"),
            Self::QbpQ11 => ("QBP", "Q11"),
            Self::EsuU01 => ("ESU", "U01"),
            Self::InuU05 => ("INU", "U05"),
            Self::EacU07 => ("EAC", "U07"),
            Self::LsuU12 => ("LSU", "U12"),
        }
    }

    /// The profile for a message type and trigger (ASCII case-insensitive).
    pub fn from_type(message_type: &str, trigger: &str) -> Option<Self> {
        let (message_type, trigger) = (message_type.trim(), trigger.trim());
        Self::ALL.into_iter().find(|profile| {
            let (kind, event) = profile.message_type();
            kind.eq_ignore_ascii_case(message_type) && event.eq_ignore_ascii_case(trigger)
        })
    }

    /// [`Profile::from_type`] of ASCII bytes, already trimmed.
    fn from_type_bytes(message_type: &[u8], trigger: &[u8]) -> Option<Self> {
        Self::ALL.into_iter().find(|profile| {
            let (kind, event) = profile.message_type();
            kind.as_bytes().eq_ignore_ascii_case(message_type)
                && event.as_bytes().eq_ignore_ascii_case(trigger)
        })
    }

    /// Whether this crate reads messages of this type with some trigger.
    fn knows_type(message_type: &str) -> bool {
        let message_type = message_type.trim();
        Self::ALL
            .into_iter()
            .any(|profile| profile.message_type().0.eq_ignore_ascii_case(message_type))
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, event) = self.message_type();
        write!(f, "{kind}^{event}")
    }
}

/// What [`to_events`] produced: the events, and what it had to relax or leave out.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mapped {
    /// The profile the message was read as.
    pub profile: Profile,
    /// The events, in message order.
    pub events: Vec<LabEvent>,
    /// Every mapping warning. Each is also in the `provenance.warnings` of the events
    /// it concerns (as text), next to the parser's warnings.
    pub warnings: Vec<MapWarning>,
}

/// Where a mapping warning points: a segment by id and occurrence, narrowed to a
/// field, repetition, component and subcomponent.
///
/// Renders in [`Path`](crate::path::Path) notation with the occurrence always written:
/// `OBX(3)`, `OBX(3)-5`, `PID(1)-3(2).4.1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MapLocation {
    /// The segment id.
    pub segment: SegmentId,
    /// Which segment with that id (1-based).
    pub occurrence: u32,
    /// 1-based field number (HL7 numbering).
    pub field: Option<u32>,
    /// 1-based repetition.
    pub repetition: Option<u32>,
    /// 1-based component.
    pub component: Option<u32>,
    /// 1-based subcomponent.
    pub subcomponent: Option<u32>,
}

impl MapLocation {
    /// The `occurrence`-th segment with id `segment`.
    pub fn segment(segment: SegmentId, occurrence: u32) -> Self {
        Self {
            segment,
            occurrence,
            field: None,
            repetition: None,
            component: None,
            subcomponent: None,
        }
    }

    /// This location narrowed to field `field`.
    pub fn with_field(mut self, field: u32) -> Self {
        self.field = Some(field);
        self
    }
}

impl fmt::Display for MapLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Rendered::location(self) {
            Some(rendered) => f.write_str(rendered.as_str()),
            None => self.fmt_slowly(f),
        }
    }
}

impl MapLocation {
    /// [`fmt::Display`] piece by piece, for segment ids [`Rendered`] does not write
    /// (truncated, or with bytes the id's `Display` escapes).
    fn fmt_slowly(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.segment, f)?;
        f.write_str("(")?;
        write_number(f, u64::from(self.occurrence))?;
        f.write_str(")")?;
        let Some(field) = self.field else {
            return Ok(());
        };
        f.write_str("-")?;
        write_number(f, u64::from(field))?;
        if let Some(repetition) = self.repetition {
            f.write_str("(")?;
            write_number(f, u64::from(repetition))?;
            f.write_str(")")?;
        }
        if let Some(component) = self.component {
            f.write_str(".")?;
            write_number(f, u64::from(component))?;
            if let Some(subcomponent) = self.subcomponent {
                f.write_str(".")?;
                write_number(f, u64::from(subcomponent))?;
            }
        }
        Ok(())
    }

    /// The location as [`Text`](labwire_model::Text) (inline when short, as `OBR(1)`),
    /// for an event's provenance.
    pub(crate) fn to_text(self) -> labwire_model::Text {
        match Rendered::location(&self) {
            Some(rendered) => labwire_model::Text::from(rendered.as_str()),
            None => labwire_model::Text::from_fmt(format_args!("{self}")),
        }
    }
}

/// Room for the longest location [`Rendered`] writes: an id of eight bytes and five
/// numbers of ten digits with their punctuation.
const RENDERED_CAPACITY: usize = 72;

/// A location (or number) written byte by byte into a buffer on the stack. Every
/// event's provenance and every warning carries a location, and the formatting
/// machinery (`write!`, `to_string`) costs several times what writing the bytes does.
struct Rendered {
    bytes: [u8; RENDERED_CAPACITY],
    len: usize,
}

impl Rendered {
    fn new() -> Self {
        Self {
            bytes: [0; RENDERED_CAPACITY],
            len: 0,
        }
    }

    /// `location` as its `Display` writes it; `None` for the segment ids whose
    /// `Display` escapes or marks bytes (non-printable, truncated).
    fn location(location: &MapLocation) -> Option<Self> {
        let id = location.segment.as_bytes();
        if location.segment.is_truncated()
            || !id
                .iter()
                .all(|&byte| byte.is_ascii_graphic() || byte == b' ')
        {
            return None;
        }
        let mut out = Self::new();
        out.push(id)?;
        out.push_byte(b'(')?;
        out.number(u64::from(location.occurrence))?;
        out.push_byte(b')')?;
        let Some(field) = location.field else {
            return Some(out);
        };
        out.push_byte(b'-')?;
        out.number(u64::from(field))?;
        if let Some(repetition) = location.repetition {
            out.push_byte(b'(')?;
            out.number(u64::from(repetition))?;
            out.push_byte(b')')?;
        }
        if let Some(component) = location.component {
            out.push_byte(b'.')?;
            out.number(u64::from(component))?;
            if let Some(subcomponent) = location.subcomponent {
                out.push_byte(b'.')?;
                out.number(u64::from(subcomponent))?;
            }
        }
        Some(out)
    }

    fn push(&mut self, more: &[u8]) -> Option<()> {
        let end = self.len.checked_add(more.len())?;
        self.bytes.get_mut(self.len..end)?.copy_from_slice(more);
        self.len = end;
        Some(())
    }

    fn push_byte(&mut self, byte: u8) -> Option<()> {
        *self.bytes.get_mut(self.len)? = byte;
        self.len = self.len.checked_add(1)?;
        Some(())
    }

    /// `number` in decimal.
    fn number(&mut self, number: u64) -> Option<()> {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        let mut rest = number;
        loop {
            start = start.checked_sub(1)?;
            // `rest % 10` is a single digit.
            *digits.get_mut(start)? = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        self.push(digits.get(start..)?)
    }

    /// The bytes written, all ASCII.
    fn as_str(&self) -> &str {
        self.bytes
            .get(..self.len)
            .and_then(|bytes| core::str::from_utf8(bytes).ok())
            .unwrap_or_default()
    }
}

/// Writes `number` in decimal, ignoring the formatter's width and fill as `write!`
/// with `{}` would.
fn write_number(f: &mut fmt::Formatter<'_>, number: u64) -> fmt::Result {
    let mut rendered = Rendered::new();
    // Twenty digits always fit.
    let _ = rendered.number(number);
    f.write_str(rendered.as_str())
}

/// Why a value was kept as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueProblem {
    /// An NM value that is not a decimal number (HL7 v2 ch. 2A.49).
    NotANumber,
    /// An SN value whose comparator, numbers or separator do not fit ch. 2A.73.
    MalformedStructuredNumeric,
    /// A DT/DTM/TS value that is not a date, or a TM value (a time of day is not a
    /// point in time, which is what the model's date-time holds).
    NotADateTime,
    /// An OBX-2 value type the model has no shape for (CX, XPN, NA, MO …), or none.
    UnsupportedValueType,
}

impl ValueProblem {
    fn as_str(self) -> &'static str {
        match self {
            Self::NotANumber => "not a number",
            Self::MalformedStructuredNumeric => "malformed structured numeric",
            Self::NotADateTime => "not a date and time",
            Self::UnsupportedValueType => "value type not mapped",
        }
    }
}

impl fmt::Display for ValueProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the mapping relaxed or left out. No variant quotes the message: values can
/// identify a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MapWarningKind {
    /// A value could not be read as its OBX-2 type; it is [`labwire_model::ResultValue::Text`].
    ValueKeptAsText(ValueProblem),
    /// OBX-2 is empty and OBX-5 is not; the value was read as a number when it is one
    /// (lenient mode).
    ValueTypeInferred,
    /// A time that is not an HL7 DTM; left empty.
    InvalidTimestamp,
    /// A quantity (INV) that is not a number; left empty.
    InvalidNumber,
    /// A code in the LOINC system (`LN`) whose check digit does not match; `loinc` is
    /// left empty, the coding is kept as sent.
    InvalidLoinc,
    /// OBX-6 units on a value that holds no unit (text, code, date …): not carried.
    UnitsNotCarried,
    /// OBX-11 (required, table 0085) is empty; the status is kept empty.
    MissingStatus,
    /// OBX-11 is empty; the status was taken from the order's result status (OBR-25,
    /// lenient mode, see [`MapOptions::lenient_values`]).
    StatusFromOrder,
    /// An OBX before any order or specimen; kept in a report of its own.
    ObservationOutsideGroup,
    /// An OBX in a message whose events hold no results (a work order's
    /// ask-at-order-entry answers, an equipment message); not mapped.
    ObservationNotMapped,
    /// An OBX whose observation type (OBX-29, table 0936) is `QST` (the answer to a
    /// question) or `SCI` (supporting clinical information): sent with the results,
    /// but not one of them. Not mapped.
    ObservationNotAResult,
    /// A field whose data the model has no room for (an ECD command's parameters, a
    /// pre-dilution other than 1 in TCD-4); not mapped.
    FieldNotMapped,
    /// A segment whose data the model has no room for (EQP log data; a TCD, INV or
    /// SAC with no result or specimen to describe); not mapped.
    SegmentNotMapped,
    /// A further container (SAC) for a specimen that already has one; not mapped.
    ContainerNotMapped,
    /// A SID (substance identifier) with no OBX before it; not mapped.
    SubstanceWithoutResult,
    /// MSH-9 was repaired (lenient mode): `ORU_R01` read as `ORU^R01`.
    MessageTypeRepaired,
    /// Decoding a value relaxed the escape or charset rules (the parser's warning).
    Decoding(WarningKind),
    /// More warnings than [`MapOptions::max_warnings`]; the rest were not recorded.
    TooManyWarnings,
}

impl MapWarningKind {
    /// The text of every kind but [`MapWarningKind::Decoding`] (whose text is the
    /// parser's), in two static pieces.
    fn static_text(&self) -> Option<[&'static str; 2]> {
        let text = match self {
            Self::ValueKeptAsText(problem) => return Some([problem.as_str(), "; kept as text"]),
            Self::ValueTypeInferred => "OBX-2 empty; value type inferred",
            Self::InvalidTimestamp => "not an HL7 date/time; left empty",
            Self::InvalidNumber => "not a number; left empty",
            Self::InvalidLoinc => "LOINC check digit does not match; loinc left empty",
            Self::UnitsNotCarried => "units on a value without units; not carried",
            Self::MissingStatus => "result status (OBX-11) empty",
            Self::StatusFromOrder => "result status (OBX-11) empty; the order's (OBR-25) taken",
            Self::ObservationOutsideGroup => {
                "OBX before any order or specimen; kept in a report of its own"
            }
            Self::ObservationNotMapped => "OBX not mapped: this event holds no results",
            Self::ObservationNotAResult => {
                "OBX-29 marks a question or supporting information, not a result; not mapped"
            }
            Self::FieldNotMapped => "field not mapped: the model has no room for it",
            Self::SegmentNotMapped => "segment not mapped: the model has no room for it",
            Self::ContainerNotMapped => "further container not mapped",
            Self::SubstanceWithoutResult => "SID without an OBX before it; not mapped",
            Self::MessageTypeRepaired => "message type repaired",
            Self::Decoding(_) => return None,
            Self::TooManyWarnings => "further warnings not recorded",
        };
        Some([text, ""])
    }
}

impl fmt::Display for MapWarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.static_text()) {
            (_, Some([first, second])) => {
                f.write_str(first)?;
                f.write_str(second)
            }
            (Self::Decoding(kind), None) => write!(f, "{kind}"),
            (_, None) => Ok(()),
        }
    }
}

/// One thing the mapping relaxed or left out, with where.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MapWarning {
    /// What happened.
    pub kind: MapWarningKind,
    /// The value or segment concerned.
    pub location: MapLocation,
    /// Byte offset of that value in the input.
    pub offset: usize,
}

impl fmt::Display for MapWarning {
    /// `OBX(3)-5: not a number; kept as text (byte 812)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.location, f)?;
        f.write_str(": ")?;
        fmt::Display::fmt(&self.kind, f)?;
        f.write_str(" (byte ")?;
        write_number(f, self.offset as u64)?;
        f.write_str(")")
    }
}

impl MapWarning {
    /// The warning as its `Display` writes it, without the formatting machinery for
    /// the usual warning (see [`Rendered`]).
    pub(crate) fn to_text(self) -> String {
        use core::fmt::Write as _;
        let Some(location) = Rendered::location(&self.location) else {
            let mut text = String::with_capacity(WARNING_CAPACITY);
            // Writing to a `String` cannot fail.
            let _ = write!(text, "{self}");
            return text;
        };
        let mut offset = Rendered::new();
        // Twenty digits always fit.
        let _ = offset.number(self.offset as u64);
        let (location, offset) = (location.as_str(), offset.as_str());
        let kind = self.kind.static_text();
        let kind_len = kind.map_or(WARNING_CAPACITY, |[first, second]| {
            first.len().saturating_add(second.len())
        });
        let mut text = String::with_capacity(
            location
                .len()
                .saturating_add(kind_len)
                .saturating_add(offset.len())
                .saturating_add(10),
        );
        text.push_str(location);
        text.push_str(": ");
        match kind {
            Some([first, second]) => {
                text.push_str(first);
                text.push_str(second);
            }
            // The parser's text of a decoding relaxation.
            None => {
                // Writing to a `String` cannot fail.
                let _ = write!(text, "{}", self.kind);
            }
        }
        text.push_str(" (byte ");
        text.push_str(offset);
        text.push(')');
        text
    }
}

/// Room for most warnings as text (`OBX(12)-5: not a number; kept as text (byte 1234)`).
const WARNING_CAPACITY: usize = 64;

/// Which limit of [`MapOptions`] a message exceeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MapLimit {
    /// [`MapOptions::max_events`].
    Events,
    /// [`MapOptions::max_copied_bytes`].
    CopiedBytes,
}

impl fmt::Display for MapLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Events => "event count",
            Self::CopiedBytes => "bytes copied into events",
        })
    }
}

/// Why a message could not be mapped, or an event not written.
///
/// The syntax layer's [`Error`] is wrapped (a malformed escape in strict mode, an
/// unencodable character when writing); the other variants are the mapping's own.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// MSH-9.1 names a message type this crate does not map (table 0357 code 200).
    #[error("unsupported message type at byte {offset} (MSH-9)")]
    UnsupportedMessageType {
        /// MSH-9 as sent (at most 40 characters).
        message_type: String,
        /// Offset of MSH-9.
        offset: usize,
    },
    /// MSH-9.1 is known but MSH-9.2 is not a trigger this crate maps (code 201).
    #[error("unsupported trigger event at byte {offset} (MSH-9)")]
    UnsupportedTrigger {
        /// MSH-9 as sent (at most 40 characters).
        message_type: String,
        /// Offset of MSH-9.
        offset: usize,
    },
    /// A limit of [`MapOptions`] was exceeded.
    #[error("{limit} exceeds {max} at byte {offset} ({location})")]
    LimitExceeded {
        /// Which limit.
        limit: MapLimit,
        /// The configured maximum.
        max: usize,
        /// Offset of the segment being mapped.
        offset: usize,
        /// That segment.
        location: MapLocation,
    },
    /// An event kind that no HL7 message written here carries.
    #[error("no HL7 message is written for {} events", kind.as_str())]
    NotWritable {
        /// The event's kind.
        kind: EventKind,
    },
    /// A syntax-layer error.
    #[error(transparent)]
    Hl7(#[from] Error),
}

impl MapError {
    /// The byte offset the error refers to, when it has one.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Self::UnsupportedMessageType { offset, .. }
            | Self::UnsupportedTrigger { offset, .. }
            | Self::LimitExceeded { offset, .. } => Some(*offset),
            Self::NotWritable { .. } => None,
            Self::Hl7(error) => error.offset(),
        }
    }
}

/// The profile of a message, or why it has none.
fn detect(message: &Message<'_>, options: &MapOptions) -> Result<(Profile, bool), MapError> {
    let field = message.message_type();
    // MSH-9.1 and MSH-9.2 as sent: the first repetition's first two components,
    // split off the bytes (as the views split them) rather than located as views.
    fn split(raw: &[u8], delimiter: Option<u8>) -> (&[u8], &[u8]) {
        match delimiter.and_then(|delimiter| raw.iter().position(|&byte| byte == delimiter)) {
            Some(at) => (
                raw.get(..at).unwrap_or_default(),
                raw.get(at.saturating_add(1)..).unwrap_or_default(),
            ),
            None => (raw, &[]),
        }
    }
    let delimiters = message.delimiters();
    let (first, _) = split(field.raw(), delimiters.repetition());
    let (kind, rest) = split(first, delimiters.component());
    let (trigger, _) = split(rest, delimiters.component());
    // The usual message type, ASCII as sent: compared without building strings. (What
    // this trims, `str::trim` trims too; anything else takes the path below.)
    if let Some(profile) = Profile::from_type_bytes(kind.trim_ascii(), trigger.trim_ascii()) {
        return Ok((profile, false));
    }
    let [kind, trigger] = [kind, trigger].map(String::from_utf8_lossy);
    let (kind, trigger) = (kind.trim(), trigger.trim());
    if let Some(profile) = Profile::from_type(kind, trigger) {
        return Ok((profile, false));
    }
    // `ORU_R01` in MSH-9.1 (seen from senders that copy the structure id there).
    if options.lenient_values
        && trigger.is_empty()
        && let Some((repaired_kind, repaired_trigger)) = kind.split_once('_')
        && let Some(profile) = Profile::from_type(repaired_kind, repaired_trigger)
    {
        return Ok((profile, true));
    }
    let shown: String = String::from_utf8_lossy(field.raw())
        .chars()
        .take(40)
        .collect();
    let offset = field.offset();
    if Profile::knows_type(kind) {
        Err(MapError::UnsupportedTrigger {
            message_type: shown,
            offset,
        })
    } else {
        Err(MapError::UnsupportedMessageType {
            message_type: shown,
            offset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::ParseOptions;

    #[test]
    fn profiles_are_detected_case_insensitively_and_repaired_when_lenient() {
        let parse = |msh9: &str| {
            let text = format!("MSH|^~\\&|A||||||{msh9}|1|P|2.5.1\r");
            let message = Message::parse_str(&text, &ParseOptions::default()).unwrap();
            (
                detect(&message, &MapOptions::default()),
                detect(&message, &MapOptions::strict()),
            )
        };
        assert_eq!(parse("ORU^R01^ORU_R01").0, Ok((Profile::OruR01, false)));
        assert_eq!(parse("oul^r22").0, Ok((Profile::OulR22, false)));
        let (lenient, strict) = parse("ORU_R01");
        assert_eq!(lenient, Ok((Profile::OruR01, true)));
        assert!(matches!(
            strict,
            Err(MapError::UnsupportedMessageType { .. })
        ));
        assert!(matches!(
            parse("ORU^R30").0,
            Err(MapError::UnsupportedTrigger { .. })
        ));
        assert!(matches!(
            parse("ADT^A01").0,
            Err(MapError::UnsupportedMessageType { .. })
        ));
    }

    proptest::proptest! {
        /// The texts written without the formatting machinery are what `Display`
        /// writes.
        #[test]
        fn rendered_texts_are_the_display_texts(
            id in proptest::sample::select(vec![
                &b"OBX"[..], b"ZLONGID99", b"Z\x01X", b"", b"ABCDEFGH", b"A B",
            ]),
            occurrence in proptest::num::u32::ANY,
            field in proptest::option::of(proptest::num::u32::ANY),
            repetition in proptest::option::of(0u32..200),
            component in proptest::option::of(proptest::num::u32::ANY),
            subcomponent in proptest::option::of(0u32..20),
            kind in 0usize..22,
            offset in proptest::num::usize::ANY,
        ) {
            let location = MapLocation {
                repetition,
                component,
                subcomponent,
                field,
                ..MapLocation::segment(SegmentId::new(id), occurrence)
            };
            proptest::prop_assert_eq!(location.to_text().to_string(), location.to_string());
            let kinds = [
                MapWarningKind::ValueKeptAsText(ValueProblem::NotANumber),
                MapWarningKind::ValueKeptAsText(ValueProblem::MalformedStructuredNumeric),
                MapWarningKind::ValueKeptAsText(ValueProblem::NotADateTime),
                MapWarningKind::ValueKeptAsText(ValueProblem::UnsupportedValueType),
                MapWarningKind::ValueTypeInferred,
                MapWarningKind::InvalidTimestamp,
                MapWarningKind::InvalidNumber,
                MapWarningKind::InvalidLoinc,
                MapWarningKind::UnitsNotCarried,
                MapWarningKind::MissingStatus,
                MapWarningKind::StatusFromOrder,
                MapWarningKind::ObservationOutsideGroup,
                MapWarningKind::ObservationNotMapped,
                MapWarningKind::ObservationNotAResult,
                MapWarningKind::FieldNotMapped,
                MapWarningKind::SegmentNotMapped,
                MapWarningKind::ContainerNotMapped,
                MapWarningKind::SubstanceWithoutResult,
                MapWarningKind::MessageTypeRepaired,
                MapWarningKind::Decoding(WarningKind::EmptySegment),
                MapWarningKind::Decoding(WarningKind::TooManyWarnings),
                MapWarningKind::TooManyWarnings,
            ];
            let warning = MapWarning { kind: kinds[kind], location, offset };
            proptest::prop_assert_eq!(warning.to_text(), warning.to_string());
        }
    }

    #[test]
    fn locations_render_as_paths_with_the_occurrence() {
        let obx = MapLocation::segment(SegmentId::new(b"OBX"), 3);
        assert_eq!(obx.to_string(), "OBX(3)");
        assert_eq!(obx.with_field(5).to_string(), "OBX(3)-5");
        let deep = MapLocation {
            repetition: Some(2),
            component: Some(4),
            subcomponent: Some(1),
            ..MapLocation::segment(SegmentId::new(b"PID"), 1).with_field(3)
        };
        assert_eq!(deep.to_string(), "PID(1)-3(2).4.1");
        // Written digit by digit: the extremes as `write!` would give them.
        let extreme = MapLocation {
            repetition: Some(0),
            component: Some(u32::MAX),
            subcomponent: Some(10),
            ..MapLocation::segment(SegmentId::new(b"Z\x01LONGID99"), 0).with_field(100)
        };
        assert_eq!(
            extreme.to_string(),
            format!(
                "{}(0)-100(0).{}.10",
                SegmentId::new(b"Z\x01LONGID99"),
                u32::MAX
            )
        );
        let warning = MapWarning {
            kind: MapWarningKind::Decoding(WarningKind::EmptySegment),
            location: obx,
            offset: usize::MAX,
        };
        assert_eq!(
            warning.to_string(),
            format!(
                "OBX(3): {} (byte {})",
                WarningKind::EmptySegment,
                usize::MAX
            )
        );
        assert!(crate::path::Path::parse(&deep.to_string()).is_ok());
        for profile in Profile::ALL {
            let (kind, event) = profile.message_type();
            assert_eq!(Profile::from_type(kind, event), Some(profile));
            assert_eq!(profile.to_string(), format!("{kind}^{event}"));
        }
    }
}
