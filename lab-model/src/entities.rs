//! The things results are about: patients, specimens, orders, instruments, and the
//! reagent, calibrator and control lots that went into a measurement.

use crate::coding::{Coding, Identifier};
use crate::sensitive::Sensitive;
use crate::text::Text;
use crate::time::LabTimestamp;
use crate::value::ResultValue;
use crate::{AdministrativeSex, Priority, SpecimenRole, SubstanceType};

/// A person's name in parts (HL7 XPN, ASTM `Last^First^Middle^Suffix^Title`, DICOM PN).
///
/// JSON: `{"family": "Doe", "given": "Jane", "middle": "Q", "suffix": "Jr", "prefix": "Dr"}`,
/// absent parts omitted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PersonName {
    /// Family name (surname).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<Text>,
    /// Given (first) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given: Option<Text>,
    /// Middle names or initials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle: Option<Text>,
    /// Suffix such as `Jr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<Text>,
    /// Prefix or title such as `Dr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<Text>,
}

/// The patient a specimen came from.
///
/// Every field is protected health information and wrapped in [`Sensitive`], so no
/// log line prints it. QC and calibration events usually have no patient at all.
///
/// JSON: `{"ids": [{"value": "MRN1", "kind": "MR"}], "name": {…}, "birth_date": "1980-05", "sex": "F"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Patient {
    /// Identifiers: medical record number, national id, the instrument's patient id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<Sensitive<Identifier>>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Sensitive<PersonName>>,
    /// Birth date, with the precision it was given (often a year only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Sensitive<LabTimestamp>>,
    /// Administrative sex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sensitive<AdministrativeSex>>,
}

/// Where a specimen container sits on an instrument, and what it is.
///
/// JSON: `{"id": "C123", "kind": {…}, "carrier": "R04", "position": "3"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Container {
    /// The container's barcode or identifier (HL7 SAC-3, DICOM (0040,0512)); linkable
    /// to a patient, hence protected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Sensitive<Text>>,
    /// Container type (tube, cup, slide).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Coding>,
    /// Rack, tray or carrier identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<Text>,
    /// Position on the carrier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Text>,
}

/// A specimen (sample) measured by an instrument: a patient's serum, a control
/// material, a calibrator, a slide.
///
/// JSON: `{"ids": [{"value": "S123"}], "role": "P", "kind": {…}, "collected_at": "…",
/// "received_at": "…", "container": {…}, "description": "…", "preparation": [{…}]}`.
/// `role` is always written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Specimen {
    /// Identifiers: the sample id or barcode (no kind), accession (`ACSN`), placer
    /// (`PLAC`) and filler (`FILL`) specimen ids. Linkable to a patient, hence protected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<Sensitive<Identifier>>,
    /// Patient sample, control, calibrator … (HL7 table 0369).
    #[serde(default)]
    pub role: SpecimenRole,
    /// Specimen type (serum, whole blood, urine), as coded by the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Coding>,
    /// When the specimen was collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<LabTimestamp>,
    /// When the laboratory or instrument received it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<LabTimestamp>,
    /// Its container and position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    /// Free-text description (DICOM specimen short description, HL7 SPM-14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// How the specimen was prepared, in order: sampling, fixation, embedding,
    /// staining (DICOM Specimen Preparation Sequence (0040,0610)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preparation: Vec<PreparationStep>,
}

/// One step of a specimen's preparation, as the DICOM specimen module describes it:
/// a list of concept/value items (processing type = staining, using substance = H&E).
///
/// JSON: `{"items": [{"concept": {…}, "value": {"kind": "coded", …}}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PreparationStep {
    /// The step's items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<PreparationItem>,
}

/// One statement about a preparation step: what (a coded concept) and its value
/// (a code, text, a date-time, a quantity).
///
/// JSON: `{"concept": {"system": "http://snomed.info/sct", "code": "…"}, "value": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PreparationItem {
    /// What the item states (DICOM Concept Name Code Sequence).
    pub concept: Coding,
    /// Its value.
    pub value: ResultValue,
}

/// The order (request) a set of results answers: in IHE LAW terms, the analytical
/// work order step.
///
/// JSON: `{"placer_id": {…}, "filler_id": {…}, "tests": [{…}], "priority": "S",
/// "requested_at": "…", "action": "A", "status": "IP"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Order {
    /// The ordering system's id (HL7 ORC-2/OBR-2); linkable to a patient, protected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placer_id: Option<Sensitive<Identifier>>,
    /// The performing system's id (HL7 ORC-3/OBR-3, ASTM O-4); protected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filler_id: Option<Sensitive<Identifier>>,
    /// The tests or panels ordered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<Coding>,
    /// Priority (HL7 table 0027, ASTM O-6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// When the order was placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<LabTimestamp>,
    /// The order control or action code as sent (HL7 ORC-1, ASTM O-12 such as `Q` for
    /// QC or `A` for add), kept raw because its table differs per protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Text>,
    /// The order status as sent (HL7 ORC-5, ASTM O-26 report type), raw for the
    /// same reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Text>,
}

/// The instrument (analyzer, scanner, middleware) that produced an event.
///
/// `local_id` is the slug the site's configuration gives the instrument; it is what
/// MQTT topics use, never the serial number. The other fields are what the
/// instrument says about itself.
///
/// JSON: `{"local_id": "chem-01", "name": "…", "manufacturer": "…", "model": "…",
/// "serial_number": "…", "software_version": "…", "ids": [{…}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Instrument {
    /// The configured slug, such as `chem-01`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_id: Option<Text>,
    /// The name the instrument sends for itself (HL7 MSH-3, ASTM H-5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    /// Manufacturer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<Text>,
    /// Model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Text>,
    /// Serial number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<Text>,
    /// Software or firmware version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_version: Option<Text>,
    /// Equipment instance identifiers as sent (HL7 OBX-18/EQU-1, DICOM Device UID).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<Identifier>,
}

impl Instrument {
    /// An instrument known only by its configured slug.
    #[must_use]
    pub fn with_local_id(local_id: impl Into<Text>) -> Self {
        Self {
            local_id: Some(local_id.into()),
            ..Self::default()
        }
    }
}

/// A lot of a substance that contributed to a measurement: reagent, calibrator,
/// control material, diluent (IHE LAW "contributing substances", HL7 INV).
///
/// JSON: `{"kind": "RC", "material": {…}, "lot": "L123", "expires_at": "2025-06-30",
/// "manufacturer": "…", "level": "2"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SubstanceLot {
    /// What it is (HL7 table 0384).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<SubstanceType>,
    /// The material or product code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material: Option<Coding>,
    /// The manufacturer's lot number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<Text>,
    /// Expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<LabTimestamp>,
    /// Manufacturer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<Text>,
    /// Control or calibrator level (`1`, `2`, `high`), as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Text>,
}
