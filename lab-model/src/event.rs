//! Lab events: what the protocol crates produce and the MQTT mapping consumes.

use crate::coding::Coding;
use crate::coding::Identifier;
use crate::decimal::Decimal;
use crate::entities::{Container, Instrument, Order, Patient, Specimen, SubstanceLot};
use crate::result::{LabResult, ResultReport};
use crate::sensitive::Sensitive;
use crate::text::Text;
use crate::time::LabTimestamp;
use crate::value::Quantity;
use crate::{
    AlertLevel, CalibrationState, CalibrationType, ControlState, EquipmentState, Outcome,
    SourceProtocol,
};

/// Where an event came from: protocol, message, sender, times.
///
/// Every event carries one, so a consumer can trace any value back to the message
/// and position it was read from, and de-duplicate re-sent messages.
///
/// JSON: `{"protocol": "hl7v2", "version": "2.5.1", "message_id": "MSG00042",
/// "sender": "ANALYZER^LAB", "sent_at": "…", "received_at": "…", "gateway": "gw-01",
/// "location": "OBR(1)", "warnings": ["…"]}`. `protocol` is always written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Provenance {
    /// The wire protocol.
    pub protocol: SourceProtocol,
    /// The protocol version the sender declared (HL7 MSH-12, ASTM H-13, DICOM transfer
    /// syntax UID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Text>,
    /// The sender's message id (HL7 MSH-10, ASTM H-3, DICOM SOP Instance UID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<Text>,
    /// The sending application or device as named in the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<Text>,
    /// When the sender says it created the message (HL7 MSH-7, ASTM H-14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<LabTimestamp>,
    /// When labwire received it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<LabTimestamp>,
    /// The gateway that received it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Text>,
    /// Where in the message the event was read (`OBR(2)`, `P record 3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Text>,
    /// What the reader had to relax to produce this event (a wrong checksum
    /// accepted, a decimal comma, a value found in a vendor's component); empty when
    /// the input followed the standard. Consumers decide how far to trust it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Provenance {
    /// Provenance naming only the protocol.
    #[must_use]
    pub fn new(protocol: SourceProtocol) -> Self {
        Self {
            protocol,
            version: None,
            message_id: None,
            sender: None,
            sent_at: None,
            received_at: None,
            gateway: None,
            location: None,
            warnings: Vec::new(),
        }
    }
}

impl Default for Provenance {
    /// Provenance with an empty protocol name, for events built by hand.
    fn default() -> Self {
        Self::new(SourceProtocol::Other(Text::new()))
    }
}

/// The state of an instrument: operating, paused, in maintenance; who controls it;
/// how urgent its condition is (HL7 EQU, vendor status records).
///
/// The latest status is what a dashboard shows, so the MQTT mapping publishes it
/// retained. It has no patient fields by construction.
///
/// JSON: `{"instrument": {…}, "state": "OP", "control": "R", "alert": "N", "at": "…",
/// "details": [{…}], "provenance": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct EquipmentStatus {
    /// The instrument.
    pub instrument: Instrument,
    /// Operating state (HL7 table 0365).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<EquipmentState>,
    /// Local or remote control (HL7 table 0366).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<ControlState>,
    /// Alert level (HL7 table 0367).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<AlertLevel>,
    /// When the state was reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<LabTimestamp>,
    /// Further vendor-coded detail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Coding>,
    /// Where the status came from.
    pub provenance: Provenance,
}

/// An alarm or error an instrument raised or cleared: a clot, a reagent running out,
/// a temperature out of range.
///
/// JSON: `{"instrument": {…}, "code": {…}, "text": "…", "level": "S", "active": true,
/// "at": "…", "provenance": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Alarm {
    /// The instrument.
    pub instrument: Instrument,
    /// The vendor's alarm code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Coding>,
    /// The alarm text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    /// Severity (HL7 table 0367).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<AlertLevel>,
    /// `true` when raised, `false` when cleared, absent when the sender does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// When it happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<LabTimestamp>,
    /// Where the alarm came from.
    pub provenance: Provenance,
}

/// A calibration performed on an instrument, with its verdict and the lots used.
///
/// JSON: `{"instrument": {…}, "test": {…}, "kind": "two-point", "state": "calibrated",
/// "outcome": "pass", "at": "…", "valid_until": "…", "substances": [{…}],
/// "results": [{…}], "notes": ["…"], "provenance": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct CalibrationEvent {
    /// The instrument.
    pub instrument: Instrument,
    /// The test (assay) calibrated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<Coding>,
    /// Calibration type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<CalibrationType>,
    /// Resulting calibration state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<CalibrationState>,
    /// Accepted or rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// When it was performed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<LabTimestamp>,
    /// Until when the calibration is valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<LabTimestamp>,
    /// Calibrator and reagent lots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub substances: Vec<SubstanceLot>,
    /// Measurements taken during calibration (signal per calibrator level).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<LabResult>,
    /// Comments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Text>,
    /// Where the event came from.
    pub provenance: Provenance,
}

/// One analyte's QC measurement with its target, spread and verdict.
///
/// JSON: `{"result": {…}, "target": "5.0", "sd": "0.2", "outcome": "warning",
/// "rules_violated": ["1-2s"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct QcResult {
    /// The measurement.
    pub result: LabResult,
    /// The control material's target (mean) value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Decimal>,
    /// The allowed standard deviation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd: Option<Decimal>,
    /// Accepted, warning, rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// The QC rules violated, as named by the instrument (Westgard `1-3s`, `2-2s` …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules_violated: Vec<Text>,
}

/// A quality-control run: control material measured, with per-analyte verdicts.
///
/// Control samples measured like patient samples (an HL7 OUL with SPM-11 `Q`, an
/// ASTM order with action code `Q` or H-12 `Q`) become this event too, with targets
/// and verdicts left empty when the instrument did not send them: QC then has its
/// own MQTT topic and never carries a patient.
///
/// JSON: `{"instrument": {…}, "specimen": {…}, "control": {…}, "results": [{…}],
/// "at": "…", "provenance": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct QcEvent {
    /// The instrument.
    pub instrument: Instrument,
    /// The control specimen (role `Q`, `E` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specimen: Option<Specimen>,
    /// The control material lot and level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<SubstanceLot>,
    /// Per-analyte measurements and verdicts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<QcResult>,
    /// Comments on the control run (HL7 NTE after OBR, ASTM C after O).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Text>,
    /// When the run was performed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<LabTimestamp>,
    /// Where the event came from.
    pub provenance: Provenance,
}

/// What an instrument is and what it can do: its identity and test menu. Published
/// once per connection, like a birth certificate.
///
/// JSON: `{"instrument": {…}, "tests": [{…}], "provenance": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct InstrumentMeta {
    /// The instrument.
    pub instrument: Instrument,
    /// Tests the instrument offers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<Coding>,
    /// Where the description came from.
    pub provenance: Provenance,
}

/// A DICOM image's header as a lab event: which study, series and instance, which
/// device, which specimen and container (a pathology slide, a gel). Never pixels.
///
/// JSON: `{"study_uid": "…", "series_uid": "…", "instance_uid": "…",
/// "sop_class_uid": "…", "modality": "SM", "study_at": "…", "acquired_at": "…",
/// "accession": "…", "patient": {…}, "instrument": {…}, "specimens": [{…}],
/// "image_type": ["ORIGINAL", "PRIMARY", "VOLUME"], "institution": "…",
/// "department": "…", "provenance": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ImagingStudy {
    /// Study Instance UID (0020,000D).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study_uid: Option<Text>,
    /// Series Instance UID (0020,000E).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series_uid: Option<Text>,
    /// SOP Instance UID (0008,0018).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_uid: Option<Text>,
    /// SOP Class UID (0008,0016): what kind of image (whole-slide, secondary capture).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sop_class_uid: Option<Text>,
    /// Modality (0008,0060), such as `SM` for slide microscopy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modality: Option<Text>,
    /// Study date and time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study_at: Option<LabTimestamp>,
    /// Acquisition date and time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquired_at: Option<LabTimestamp>,
    /// Accession number (0008,0050), the join key to the LIS order; protected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accession: Option<Sensitive<Text>>,
    /// The patient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<Patient>,
    /// The scanner or imager.
    pub instrument: Instrument,
    /// Specimens imaged, with container (slide) ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub specimens: Vec<Specimen>,
    /// Image Type (0008,0008) values, such as `VOLUME` or `LABEL` for slide pyramids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_type: Vec<Text>,
    /// Institution name (0008,0080).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution: Option<Text>,
    /// Department name (0008,1040).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<Text>,
    /// Where the header came from.
    pub provenance: Provenance,
}

/// An order for work on one specimen, sent by a LIS to an instrument or received
/// from one: HL7 OML^O33 (IHE LAW LAB-28), OML^O21, ORM^O01, ASTM host order
/// records. The reverse of a [`ResultReport`]: the same who and what, no results.
///
/// JSON: `{"instrument": {…}, "patient": {…}, "specimen": {…}, "order": {…},
/// "notes": ["…"], "provenance": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct WorkOrder {
    /// The instrument that is to perform, or that reported, the order.
    pub instrument: Instrument,
    /// The patient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<Patient>,
    /// The specimen to measure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specimen: Option<Specimen>,
    /// The order: tests, priority, ids, and the action (new, cancel …).
    pub order: Order,
    /// Comments on the order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Text>,
    /// Where the order came from.
    pub provenance: Provenance,
}

/// An instrument asking the host for work on a specimen it has just read: HL7
/// QBP^Q11 (IHE LAW LAB-27), ASTM Q records. The host answers with [`WorkOrder`]s.
///
/// JSON: `{"instrument": {…}, "specimen_ids": [{…}], "container": {…}, "tests": [{…}],
/// "status": "O", "provenance": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SpecimenQuery {
    /// The instrument asking.
    pub instrument: Instrument,
    /// The specimens asked about (barcodes read); linkable to a patient, protected.
    /// Empty for "all pending work".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub specimen_ids: Vec<Sensitive<Identifier>>,
    /// Where the specimen sits, when the query is by rack and position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    /// Tests asked about; empty for all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<Coding>,
    /// The request status code as sent (ASTM Q-13, e.g. `O` for orders, `A` to cancel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Text>,
    /// Where the query came from.
    pub provenance: Provenance,
}

/// One consumable on an instrument with how much is left: a reagent pack, a
/// control, a diluent (HL7 INV).
///
/// JSON: `{"substance": {…}, "status": ["OK"], "container_id": "…", "carrier": "…",
/// "position": "…", "available": {…}, "tests_remaining": 87, "on_board_expires_at": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct InventoryItem {
    /// What it is: kind, material, lot, expiry.
    pub substance: SubstanceLot,
    /// Status codes as sent (HL7 table 0383: `OK`, `EM` empty, `EX` expired, `QC` …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<Text>,
    /// The container's identifier on the instrument.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<Text>,
    /// Carrier or rack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<Text>,
    /// Position on the carrier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Text>,
    /// Quantity left, with its unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available: Option<Quantity>,
    /// Tests left, when the instrument counts in tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests_remaining: Option<u32>,
    /// When on-board stability runs out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_board_expires_at: Option<LabTimestamp>,
}

/// The consumables on an instrument (HL7 INU^U05): what a reagent dashboard shows
/// and what a "running low" alert watches. Holds no patient data.
///
/// JSON: `{"instrument": {…}, "items": [{…}], "at": "…", "provenance": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Inventory {
    /// The instrument.
    pub instrument: Instrument,
    /// The consumables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<InventoryItem>,
    /// When the inventory was reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<LabTimestamp>,
    /// Where it came from.
    pub provenance: Provenance,
}

/// A log or service entry an instrument reported (HL7 LSU^U12, v2.5 chapter 13.3.11:
/// one per EQP segment): an event log excerpt, a maintenance record, with the file it
/// came from and the period it covers.
///
/// The text is whatever the device wrote, which may include sample ids an operator
/// typed, so the MQTT mapping publishes it (and the file name) only under the `full`
/// profile.
///
/// JSON: `{"instrument": {…}, "kind": {"system": "…", "code": "LOG"},
/// "file_name": "…", "started_at": "…", "ended_at": "…", "text": "…",
/// "provenance": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct EquipmentLog {
    /// The instrument (HL7 EQU-1).
    pub instrument: Instrument,
    /// What kind of entry it is (HL7 EQP-1, table 0450: `LOG` log event, `SER`
    /// service event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Coding>,
    /// The name of the log file on the instrument (HL7 EQP-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<Text>,
    /// When the logged period or service began (HL7 EQP-3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<LabTimestamp>,
    /// When the logged period or service ended (HL7 EQP-4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<LabTimestamp>,
    /// The log text itself (HL7 EQP-5, formatted text): escapes decoded, `\.br\`
    /// written as a line break. Can be long, hence a `String`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Where the entry came from.
    pub provenance: Provenance,
}

/// The kind of a [`LabEvent`], for routing (the MQTT topic's last level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// [`LabEvent::Results`]
    Results,
    /// [`LabEvent::Qc`]
    Qc,
    /// [`LabEvent::Calibration`]
    Calibration,
    /// [`LabEvent::Status`]
    Status,
    /// [`LabEvent::Alarm`]
    Alarm,
    /// [`LabEvent::InstrumentMeta`]
    InstrumentMeta,
    /// [`LabEvent::ImagingStudy`]
    ImagingStudy,
    /// [`LabEvent::WorkOrder`]
    WorkOrder,
    /// [`LabEvent::Query`]
    Query,
    /// [`LabEvent::Inventory`]
    Inventory,
    /// [`LabEvent::Log`]
    Log,
}

impl EventKind {
    /// Every kind, in the order of [`LabEvent`]'s variants.
    pub const ALL: [Self; 11] = [
        Self::Results,
        Self::Qc,
        Self::Calibration,
        Self::Status,
        Self::Alarm,
        Self::InstrumentMeta,
        Self::ImagingStudy,
        Self::WorkOrder,
        Self::Query,
        Self::Inventory,
        Self::Log,
    ];

    /// The name used in JSON (`"results"`, `"instrument_meta"` …).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Results => "results",
            Self::Qc => "qc",
            Self::Calibration => "calibration",
            Self::Status => "status",
            Self::Alarm => "alarm",
            Self::InstrumentMeta => "instrument_meta",
            Self::ImagingStudy => "imaging_study",
            Self::WorkOrder => "work_order",
            Self::Query => "query",
            Self::Inventory => "inventory",
            Self::Log => "log",
        }
    }
}

/// Everything labwire reads from an instrument, as one type: the shared vocabulary
/// between the protocol crates and the MQTT mapping.
///
/// JSON: the variant's object with a `type` field naming the variant:
/// `{"type": "results", "instrument": {…}, "results": [{…}], "provenance": {…}}`,
/// `{"type": "status", …}`, `{"type": "instrument_meta", …}`. Unknown fields are
/// ignored when reading, so a consumer on an older version reads newer events.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "the variants are within a few hundred bytes of each other; boxing would cost every consumer an indirection for no gain"
)]
pub enum LabEvent {
    /// Results of one order on one specimen.
    Results(ResultReport),
    /// A QC run.
    Qc(QcEvent),
    /// A calibration.
    Calibration(CalibrationEvent),
    /// Equipment status.
    Status(EquipmentStatus),
    /// An alarm raised or cleared.
    Alarm(Alarm),
    /// The instrument's identity and capabilities.
    InstrumentMeta(InstrumentMeta),
    /// A DICOM image header.
    ImagingStudy(ImagingStudy),
    /// An order for work, to or from an instrument.
    WorkOrder(WorkOrder),
    /// An instrument asking for its work.
    Query(SpecimenQuery),
    /// The consumables on an instrument.
    Inventory(Inventory),
    /// A log or service entry from an instrument.
    Log(EquipmentLog),
}

impl LabEvent {
    /// The event's kind.
    #[must_use]
    pub fn kind(&self) -> EventKind {
        match self {
            Self::Results(_) => EventKind::Results,
            Self::Qc(_) => EventKind::Qc,
            Self::Calibration(_) => EventKind::Calibration,
            Self::Status(_) => EventKind::Status,
            Self::Alarm(_) => EventKind::Alarm,
            Self::InstrumentMeta(_) => EventKind::InstrumentMeta,
            Self::ImagingStudy(_) => EventKind::ImagingStudy,
            Self::WorkOrder(_) => EventKind::WorkOrder,
            Self::Query(_) => EventKind::Query,
            Self::Inventory(_) => EventKind::Inventory,
            Self::Log(_) => EventKind::Log,
        }
    }

    /// The instrument the event is about.
    #[must_use]
    pub fn instrument(&self) -> &Instrument {
        match self {
            Self::Results(e) => &e.instrument,
            Self::Qc(e) => &e.instrument,
            Self::Calibration(e) => &e.instrument,
            Self::Status(e) => &e.instrument,
            Self::Alarm(e) => &e.instrument,
            Self::InstrumentMeta(e) => &e.instrument,
            Self::ImagingStudy(e) => &e.instrument,
            Self::WorkOrder(e) => &e.instrument,
            Self::Query(e) => &e.instrument,
            Self::Inventory(e) => &e.instrument,
            Self::Log(e) => &e.instrument,
        }
    }

    /// Where the event came from.
    #[must_use]
    pub fn provenance(&self) -> &Provenance {
        match self {
            Self::Results(e) => &e.provenance,
            Self::Qc(e) => &e.provenance,
            Self::Calibration(e) => &e.provenance,
            Self::Status(e) => &e.provenance,
            Self::Alarm(e) => &e.provenance,
            Self::InstrumentMeta(e) => &e.provenance,
            Self::ImagingStudy(e) => &e.provenance,
            Self::WorkOrder(e) => &e.provenance,
            Self::Query(e) => &e.provenance,
            Self::Inventory(e) => &e.provenance,
            Self::Log(e) => &e.provenance,
        }
    }

    /// Mutable access to the provenance, for the gateway to stamp `received_at`.
    #[must_use]
    pub fn provenance_mut(&mut self) -> &mut Provenance {
        match self {
            Self::Results(e) => &mut e.provenance,
            Self::Qc(e) => &mut e.provenance,
            Self::Calibration(e) => &mut e.provenance,
            Self::Status(e) => &mut e.provenance,
            Self::Alarm(e) => &mut e.provenance,
            Self::InstrumentMeta(e) => &mut e.provenance,
            Self::ImagingStudy(e) => &mut e.provenance,
            Self::WorkOrder(e) => &mut e.provenance,
            Self::Query(e) => &mut e.provenance,
            Self::Inventory(e) => &mut e.provenance,
            Self::Log(e) => &mut e.provenance,
        }
    }

    /// Whether the event can hold data that identifies a person: a patient, a
    /// specimen, an order, an operator, or free text. Only equipment status,
    /// instrument descriptions and inventories cannot, which is what lets them be retained on a
    /// broker. Alarms count as identifying because vendors put sample barcodes in
    /// alarm text; equipment logs because their text is whatever the device wrote,
    /// sample ids an operator typed included.
    #[must_use]
    pub fn may_identify_a_person(&self) -> bool {
        match self {
            Self::Results(_)
            | Self::Qc(_)
            | Self::Calibration(_)
            | Self::ImagingStudy(_)
            | Self::Alarm(_)
            | Self::WorkOrder(_)
            | Self::Query(_)
            | Self::Log(_) => true,
            Self::Status(_) | Self::InstrumentMeta(_) | Self::Inventory(_) => false,
        }
    }
}
