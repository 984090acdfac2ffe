//! Results and the report that groups the results of one order.

use crate::coding::{Coding, LoincCode};
use crate::decimal::Decimal;
use crate::entities::{Instrument, Order, Patient, Specimen, SubstanceLot};
use crate::event::Provenance;
use crate::sensitive::Sensitive;
use crate::text::Text;
use crate::time::LabTimestamp;
use crate::value::{ReferenceRange, ResultValue};
use crate::{Interpretation, ResultStatus};

/// One measured or observed result: a test, its value, and everything needed to
/// trust it (status, flags, range, times, lots, run).
///
/// Shaped after FHIR Observation and IHE LAW, filled from an HL7 OBX, an ASTM R
/// record, or an instrument's QC export.
///
/// JSON (absent fields omitted; `status` always written):
/// ```json
/// {"sequence": 1, "test": {"system": "local", "code": "GLU"}, "loinc": "2345-7",
///  "value": {"kind": "quantity", "value": "5.40", "unit": {"original": "mmol/L"}},
///  "raw_value": "5.40", "interpretation": ["N"], "reference_range": {…},
///  "status": "F", "observed_at": "…", "analyzed_at": "…", "run_id": "…",
///  "dilution": "2", "rerun": true, "substances": [{…}], "notes": ["…"]}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct LabResult {
    /// Position in the source message (HL7 OBX-1, ASTM R-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u32>,
    /// Groups results that belong together, such as a value and its interpretation
    /// (HL7 OBX-4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_id: Option<Text>,
    /// The test as the sender identified it (HL7 OBX-3, ASTM R-3): usually the
    /// instrument's local code.
    pub test: Coding,
    /// Other codes the sender gave for the same test (HL7 CWE alternate code).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alt_tests: Vec<Coding>,
    /// The LOINC code, when the sender gave one or a mapping table (LIVD) supplied it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loinc: Option<LoincCode>,
    /// The value.
    pub value: ResultValue,
    /// Further values when the source repeats the value field (HL7 OBX-5
    /// repetitions, such as several organisms identified), in order. Nothing a
    /// sender repeats is dropped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_values: Vec<ResultValue>,
    /// The value exactly as the instrument wrote it, unescaped, for audit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_value: Option<Text>,
    /// Abnormal flags and interpretations (HL7 OBX-8, ASTM R-7).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interpretation: Vec<Interpretation>,
    /// The reference range (HL7 OBX-7, ASTM R-6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_range: Option<ReferenceRange>,
    /// Result status in HL7 table 0085 terms.
    pub status: ResultStatus,
    /// The status code as received when it was translated from another table (ASTM
    /// R-9); `None` when `status` is the code received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_raw: Option<Text>,
    /// When the observation was made (HL7 OBX-14; for lab results, usually collection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<LabTimestamp>,
    /// When the instrument measured (HL7 OBX-19, ASTM R-13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analyzed_at: Option<LabTimestamp>,
    /// The device that measured, when it differs from the report's instrument (a
    /// module of a track system, HL7 OBX-18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument: Option<Instrument>,
    /// The method (HL7 OBX-17).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Coding>,
    /// The run or batch the measurement belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<Text>,
    /// Dilution factor applied by the instrument.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dilution: Option<Decimal>,
    /// Whether this is a repeated measurement (rerun, reflex).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rerun: bool,
    /// Reagent, calibrator and control lots used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub substances: Vec<SubstanceLot>,
    /// Who performed or released the result (HL7 OBX-16, ASTM R-11); staff
    /// identifiers are protected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Sensitive<Text>>,
    /// Comments attached to the result (HL7 NTE, ASTM C records).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Text>,
}

impl LabResult {
    /// A result with a test, a value and a status; every other field empty.
    #[must_use]
    pub fn new(test: Coding, value: ResultValue, status: ResultStatus) -> Self {
        Self {
            sequence: None,
            sub_id: None,
            test,
            alt_tests: Vec::new(),
            loinc: None,
            value,
            additional_values: Vec::new(),
            raw_value: None,
            interpretation: Vec::new(),
            reference_range: None,
            status,
            status_raw: None,
            observed_at: None,
            analyzed_at: None,
            instrument: None,
            method: None,
            run_id: None,
            dilution: None,
            rerun: false,
            substances: Vec::new(),
            operator: None,
            notes: Vec::new(),
        }
    }
}

/// The results of one order on one specimen, with who and what they are about: the
/// unit a consumer acts on (in IHE LAW terms, an AWOS result set).
///
/// A message holding several patients, specimens or orders becomes several reports,
/// each complete on its own, so a consumer never has to join across messages.
///
/// JSON: `{"instrument": {…}, "patient": {…}, "specimen": {…}, "order": {…},
/// "results": [{…}], "notes": ["…"], "provenance": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ResultReport {
    /// The instrument that produced the results.
    pub instrument: Instrument,
    /// The patient, if the specimen is a patient's and the sender identified them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<Patient>,
    /// The specimen measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specimen: Option<Specimen>,
    /// The order the results answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
    /// The results.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<LabResult>,
    /// Comments on the order or patient (HL7 NTE after OBR/PID, ASTM C after O/P).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Text>,
    /// Where the report came from.
    pub provenance: Provenance,
}
