//! The labwire lab model: one typed vocabulary for what laboratory instruments say,
//! whichever protocol they say it in.
//!
//! HL7 v2, ASTM E1394 and DICOM each describe results, specimens, QC and equipment in
//! their own way. The labwire protocol crates map all of them to [`LabEvent`], and the
//! MQTT mapping turns a `LabEvent` into topics and payloads. This crate knows no
//! protocol and does no I/O; it owns the vocabulary.
//!
//! ```
//! use labwire_model::*;
//!
//! // An instrument's glucose result, as an HL7 or ASTM mapper would build it.
//! let mut glucose = LabResult::new(
//!     Coding::local("GLU").with_display("Glucose"),
//!     ResultValue::Quantity(
//!         Quantity::new(Decimal::parse("5.40")?).with_unit(Unit::ucum("mmol/L")),
//!     ),
//!     ResultStatus::from_code("F"),
//! );
//! glucose.loinc = Some(LoincCode::parse("2345-7")?);
//! glucose.interpretation = vec![Interpretation::Normal];
//! glucose.reference_range = Some(ReferenceRange::parse_lenient("3.9-6.1", DecimalMark::Point));
//! glucose.analyzed_at = Some(LabTimestamp::parse_hl7("20240301101502+0100")?);
//!
//! let event = LabEvent::Results(ResultReport {
//!     instrument: Instrument::with_local_id("chem-01"),
//!     specimen: Some(Specimen {
//!         ids: vec![Sensitive::new(Identifier::new("S24-000123"))],
//!         role: SpecimenRole::Patient,
//!         ..Specimen::default()
//!     }),
//!     results: vec![glucose],
//!     provenance: Provenance {
//!         message_id: Some("MSG00042".into()),
//!         ..Provenance::new(SourceProtocol::Hl7v2)
//!     },
//!     ..ResultReport::default()
//! });
//!
//! let json = serde_json::to_string_pretty(&event)?;
//! println!("{json}");
//! assert!(json.contains(r#""value": "5.40""#));           // digits kept, never a float
//! assert!(json.contains(r#""analyzed_at": "2024-03-01T10:15:02+01:00""#));
//! assert!(!format!("{event:?}").contains("S24-000123")); // identifiers never in logs
//! assert_eq!(serde_json::from_str::<LabEvent>(&json)?, event);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is in it
//!
//! - **Events** ([`LabEvent`]): [`ResultReport`] (the results of one order on one
//!   specimen), [`QcEvent`], [`CalibrationEvent`], [`EquipmentStatus`], [`Alarm`],
//!   [`InstrumentMeta`], [`ImagingStudy`], and for the way back to instruments
//!   [`WorkOrder`], [`SpecimenQuery`], plus [`Inventory`] of consumables and
//!   [`EquipmentLog`] entries; each carries its [`Instrument`] and [`Provenance`].
//! - **Results** ([`LabResult`]): a test ([`Coding`], [`LoincCode`]), a
//!   [`ResultValue`] (quantity, range, ratio, coded, text, boolean, date-time,
//!   absent), flags ([`Interpretation`]), [`ReferenceRange`], [`ResultStatus`], times,
//!   lots ([`SubstanceLot`]), run, dilution, rerun.
//! - **Who and what**: [`Patient`], [`Specimen`] with its [`SpecimenRole`],
//!   [`Container`], [`Order`]; identifying data wrapped in [`Sensitive`].
//! - **Primitives**: [`LabTimestamp`] (precision and optional offset, never an
//!   invented zone), [`Decimal`] (digits kept as text, never `f64`), [`Comparator`],
//!   [`Quantity`], [`Unit`] (original text plus UCUM), [`CodeSystem`], [`Identifier`].
//! - **Code tables** as open enums that keep unknown codes: HL7 tables 0078, 0085,
//!   0369, 0365, 0366, 0367, 0001, 0027, 0203, 0384 and a few FHIR value sets; see
//!   [`codes`].
//!
//! # The JSON shape
//!
//! Every type serializes with serde to a stable, documented JSON shape (each type's
//! documentation shows it). The rules:
//!
//! - field names are `snake_case`; optional fields that are empty are omitted, and
//!   omitted fields read back as empty;
//! - timestamps are ISO 8601 strings with their precision (`"2024-03"`,
//!   `"2024-03-01T10:15:02.120+01:00"`), see [`LabTimestamp`];
//! - decimals are strings (`"5.40"`), so no consumer rounds them through a float;
//! - codes are bare strings (`"F"`, `"HH"`, `"OP"`), code systems URIs;
//! - enums with data carry a tag: `"type"` on [`LabEvent`], `"kind"` on [`ResultValue`];
//! - unknown fields are ignored when reading, so older readers accept newer events.
//!
//! [`LabEvent`] → JSON → [`LabEvent`] is the identity; the crate's property tests
//! check it on arbitrary events. The shape is version [`JSON_SHAPE_VERSION`]: adding
//! an optional field or an enum variant keeps the version; renaming, removing or
//! retyping anything bumps it.
//!
//! # Filling the model from a protocol
//!
//! The HL7, ASTM and DICOM crates follow the same rules, so an event means the same
//! thing whichever wire it came from:
//!
//! - **One report per order and specimen.** A message with several patients, orders
//!   or specimens becomes several [`ResultReport`]s, each with its own copy of the
//!   patient; consumers never join across events.
//! - **Keep what was sent.** [`LabResult::raw_value`] holds the value text,
//!   [`LabResult::status_raw`] the status code when it was translated into table 0085,
//!   [`Unit::original`] the unit text; code tables keep unknown codes;
//!   [`Provenance::location`] names the segment or record.
//! - **Never invent.** No time zone on a timestamp that had none, no UCUM code or
//!   LOINC code unless sent or mapped by configuration; a blank specimen role is
//!   [`SpecimenRole::Patient`], as table 0369 says.
//! - **Read numbers leniently, with the connection's [`DecimalMark`]**:
//!   [`ResultValue::from_text_lenient`], [`Quantity::parse_lenient`],
//!   [`ReferenceRange::parse_lenient`]; what is not a number stays text.
//! - **Say what was relaxed** in [`Provenance::warnings`] (a wrong checksum accepted,
//!   LF segment terminators, a value found in a vendor's component).
//! - **Protect identifiers.** Patient, specimen, order and operator identifiers go in
//!   [`Sensitive`].
//!
//! # Safety
//!
//! No function in this crate panics on any input, allocates in proportion to
//! anything but its input, or recurses. Parsers report the byte offset of the first
//! problem in a [`ModelError`], never the offending text, since that text may be a
//! birth date or an identifier.
//!
//! # Features
//!
//! - `arbitrary`: implements `arbitrary::Arbitrary` for every public type, producing
//!   only valid values (for fuzzing and property tests).
#![forbid(unsafe_code)]

/// The workspace README's examples, compiled and run as doc tests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// The version of the JSON shape documented here. Consumers that persist lab events
/// should store it beside them; it changes only on incompatible changes.
pub const JSON_SHAPE_VERSION: u32 = 1;

pub mod codes;
mod coding;
mod decimal;
mod entities;
mod error;
mod event;
mod inline;
pub mod mqtt;
mod result;
mod sensitive;
mod text;
mod text_serde;
mod time;
mod value;

pub use codes::{
    AbsentReason, AdministrativeSex, AlertLevel, CalibrationState, CalibrationType, ControlState,
    EquipmentState, IdentifierType, Interpretation, Outcome, Priority, ResultStatus,
    SourceProtocol, SpecimenRole, SubstanceType,
};
pub use coding::{CodeSystem, Coding, Identifier, LoincCode, Unit};
pub use decimal::{Comparator, Decimal, DecimalMark, MAX_DECIMAL_LEN};
pub use entities::{
    Container, Instrument, Order, Patient, PersonName, PreparationItem, PreparationStep, Specimen,
    SubstanceLot,
};
pub use error::{ModelError, Result, TimestampForm};
pub use event::{
    Alarm, CalibrationEvent, EquipmentLog, EquipmentStatus, EventKind, ImagingStudy,
    InstrumentMeta, Inventory, InventoryItem, LabEvent, Provenance, QcEvent, QcResult,
    SpecimenQuery, WorkOrder,
};
pub use result::{LabResult, ResultReport};
pub use sensitive::Sensitive;
pub use text::{TEXT_INLINE_CAPACITY, Text};
pub use time::{DicomTime, LabTimestamp, Precision, parse_utc_offset};
pub use value::{Quantity, ReferenceRange, ResultValue};
