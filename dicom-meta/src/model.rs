//! Mapping a header to the lab model: [`LabEvent::ImagingStudy`].
//!
//! The mapping follows the lab model's rules for every protocol (see
//! `labwire_model`, "Filling the model from a protocol"): values are kept as sent,
//! nothing is invented (no time zone unless (0008,0201) Timezone Offset From UTC
//! states one), identifiers of patients, specimens, containers and accessions are
//! wrapped in [`Sensitive`], and what the parser relaxed is listed in
//! [`Provenance::warnings`]. Preparation items whose value is a specimen identifier
//! are left out, since a preparation item cannot protect its value.
//!
//! ```
//! use labwire_dicom_meta::{model, parse};
//!
//! let bytes = std::fs::read("tests/data/highdicom/sm_image.dcm")?;
//! let study = model::imaging_study(&parse(&bytes)?);
//! assert_eq!(study.modality.as_deref(), Some("SM"));
//! let slide = &study.specimens[0];
//! let container = slide.container.as_ref().unwrap();
//! assert_eq!(container.id.as_ref().unwrap().expose(), "S19-1_A_1_1");
//! assert_eq!(container.kind.as_ref().unwrap().display.as_deref(), Some("Microscope slide"));
//! assert_eq!(slide.preparation.len(), 3); // sampling, sampling, staining
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use labwire_model::{
    AdministrativeSex, CodeSystem, Coding, Container, Decimal, Identifier, ImagingStudy,
    Instrument, LabEvent, LabTimestamp, Patient, PersonName as ModelPersonName, PreparationItem,
    PreparationStep, Provenance, Quantity, ResultValue, Sensitive, SourceProtocol, Specimen, Text,
    Unit, parse_utc_offset,
};

use crate::header::{DataSet, Header};
use crate::value::PersonName;
use crate::{Tag, tags};

/// The FHIR system URI of the DICOM Controlled Terminology (PS3.16), scheme `DCM`.
pub const DCM_SYSTEM: &str = "http://dicom.nema.org/resources/ontology/DCM";

/// The header as a lab event.
#[must_use]
pub fn lab_event(header: &Header<'_>) -> LabEvent {
    LabEvent::ImagingStudy(imaging_study(header))
}

/// The header as an [`ImagingStudy`]: identity (study, series, instance, SOP class,
/// modality), patient, accession, device, institution, acquisition time, image type
/// and, for specimen-bearing objects such as VL Whole Slide Microscopy, the
/// specimens with their container and preparation steps.
#[must_use]
pub fn imaging_study(header: &Header<'_>) -> ImagingStudy {
    let top = header.data_set();
    let mut warnings: Vec<String> = header.warnings().iter().map(ToString::to_string).collect();
    if let Some(error) = header.error() {
        warnings.push(format!("header read partially: {error}"));
    }
    let zone = top.string(tags::TIMEZONE_OFFSET_FROM_UTC);
    let zone = zone.as_deref();

    let study_at = date_and_time(&top, tags::STUDY_DATE, tags::STUDY_TIME, zone);
    let acquired_at = date_time(&top, tags::ACQUISITION_DATE_TIME, zone)
        .or_else(|| date_and_time(&top, tags::ACQUISITION_DATE, tags::ACQUISITION_TIME, zone));
    let instance_uid = header
        .string(tags::SOP_INSTANCE_UID)
        .or_else(|| header.string(tags::MEDIA_STORAGE_SOP_INSTANCE_UID))
        .map(String::from);
    let sop_class_uid = header
        .string(tags::SOP_CLASS_UID)
        .or_else(|| header.string(tags::MEDIA_STORAGE_SOP_CLASS_UID))
        .map(String::from);

    let specimens = specimens(&top, &mut warnings);
    ImagingStudy {
        study_uid: owned(&top, tags::STUDY_INSTANCE_UID),
        series_uid: owned(&top, tags::SERIES_INSTANCE_UID),
        instance_uid: instance_uid.clone().map(Into::into),
        sop_class_uid: sop_class_uid.map(Into::into),
        modality: owned(&top, tags::MODALITY),
        study_at,
        acquired_at,
        accession: owned(&top, tags::ACCESSION_NUMBER).map(Sensitive::new),
        patient: patient(&top),
        instrument: instrument(&top),
        specimens,
        image_type: top
            .get(tags::IMAGE_TYPE)
            .and_then(|element| element.strings().ok())
            .map(|values| {
                values
                    .iter()
                    .filter(|v| !v.is_empty())
                    .map(Text::from)
                    .collect()
            })
            .unwrap_or_default(),
        institution: owned(&top, tags::INSTITUTION_NAME),
        department: owned(&top, tags::INSTITUTIONAL_DEPARTMENT_NAME),
        provenance: Provenance {
            version: header
                .transfer_syntax_uid()
                .map(str::to_owned)
                .map(Into::into),
            message_id: instance_uid.map(Into::into),
            sender: header
                .string(tags::SOURCE_APPLICATION_ENTITY_TITLE)
                .or_else(|| top.string(tags::STATION_NAME))
                .map(String::from)
                .map(Into::into),
            sent_at: date_and_time(
                &top,
                tags::INSTANCE_CREATION_DATE,
                tags::INSTANCE_CREATION_TIME,
                zone,
            ),
            warnings,
            ..Provenance::new(SourceProtocol::Dicom)
        },
    }
}

/// A person name in the lab model's parts: the alphabetic group, which every PN
/// has; `None` when it is empty.
#[must_use]
pub fn person_name(name: &PersonName<'_>) -> Option<ModelPersonName> {
    let group = name.alphabetic();
    let part = |text: &str| (!text.is_empty()).then(|| text.to_owned());
    let parts = ModelPersonName {
        family: part(group.family()).map(Into::into),
        given: part(group.given()).map(Into::into),
        middle: part(group.middle()).map(Into::into),
        suffix: part(group.suffix()).map(Into::into),
        prefix: part(group.prefix()).map(Into::into),
    };
    (parts != ModelPersonName::default()).then_some(parts)
}

/// A coded entry of a code sequence item (PS3.3 Table 8.8-1): the code value (or
/// long or URN code value), its scheme as a code system, and the code meaning.
#[must_use]
pub fn coding(item: &DataSet<'_>) -> Option<Coding> {
    let code = item
        .string(tags::CODE_VALUE)
        .or_else(|| item.string(tags::LONG_CODE_VALUE))
        .or_else(|| item.string(tags::URN_CODE_VALUE))?;
    let system = match item.string(tags::CODING_SCHEME_DESIGNATOR).as_deref() {
        Some("SCT" | "SRT") => CodeSystem::Snomed,
        Some("LN") => CodeSystem::Loinc,
        Some("UCUM") => CodeSystem::Ucum,
        Some("DCM") => CodeSystem::Other(DCM_SYSTEM.into()),
        Some(other) => CodeSystem::Other(other.into()),
        None => CodeSystem::Local(String::new().into()),
    };
    let mut coding = Coding::new(system, code);
    coding.display = item
        .string(tags::CODE_MEANING)
        .map(String::from)
        .map(Into::into);
    Some(coding)
}

fn owned(data_set: &DataSet<'_>, tag: Tag) -> Option<Text> {
    data_set.string(tag).map(Text::from)
}

/// The first item of a code sequence as a coding.
fn first_coding(data_set: &DataSet<'_>, sequence: Tag) -> Option<Coding> {
    data_set
        .get(sequence)?
        .items()
        .next()
        .as_ref()
        .and_then(coding)
}

/// A DT attribute; the data set's Timezone Offset From UTC applies when the value
/// states no offset (PS3.3 C.12.1.1.8).
fn date_time(data_set: &DataSet<'_>, tag: Tag, zone: Option<&str>) -> Option<LabTimestamp> {
    let value = data_set.get(tag)?.date_time().ok()?;
    Some(with_zone(value, zone))
}

/// A DA and a TM attribute as one timestamp; the date alone when the time is absent.
fn date_and_time(
    data_set: &DataSet<'_>,
    date: Tag,
    time: Tag,
    zone: Option<&str>,
) -> Option<LabTimestamp> {
    let date = data_set.get(date)?.date().ok()?;
    let joined = data_set
        .get(time)
        .and_then(|element| element.time().ok())
        .and_then(|time| LabTimestamp::from_dicom_date_time(&date, &time).ok())
        .unwrap_or(date);
    Some(with_zone(joined, zone))
}

fn with_zone(value: LabTimestamp, zone: Option<&str>) -> LabTimestamp {
    if value.offset().is_some() {
        return value;
    }
    zone.and_then(|zone| parse_utc_offset(zone).ok())
        .and_then(|offset| value.with_offset(Some(offset)).ok())
        .unwrap_or(value)
}

/// The issuer named in an issuer sequence item (PS3.3 Table 10-17 HL7v2 Hierarchic
/// Designator): the local namespace, else the universal entity id.
fn issuer(data_set: &DataSet<'_>, sequence: Tag) -> Option<String> {
    let item = data_set.get(sequence)?.items().next()?;
    item.string(tags::LOCAL_NAMESPACE_ENTITY_ID)
        .or_else(|| item.string(tags::UNIVERSAL_ENTITY_ID))
        .map(String::from)
}

fn patient(top: &DataSet<'_>) -> Option<Patient> {
    let mut patient = Patient::default();
    if let Some(id) = top.string(tags::PATIENT_ID) {
        let mut identifier = Identifier::new(id);
        identifier.assigner = top
            .string(tags::ISSUER_OF_PATIENT_ID)
            .map(String::from)
            .or_else(|| issuer(top, tags::ISSUER_OF_PATIENT_ID_QUALIFIERS_SEQUENCE))
            .map(Into::into);
        patient.ids.push(Sensitive::new(identifier));
    }
    patient.name = top
        .get(tags::PATIENT_NAME)
        .and_then(|element| element.person_name().ok())
        .as_ref()
        .and_then(person_name)
        .map(Sensitive::new);
    patient.birth_date = top
        .get(tags::PATIENT_BIRTH_DATE)
        .and_then(|element| element.date().ok())
        .map(Sensitive::new);
    patient.sex = top
        .string(tags::PATIENT_SEX)
        .map(|sex| Sensitive::new(AdministrativeSex::from_code(&sex)));
    (patient != Patient::default()).then_some(patient)
}

fn instrument(top: &DataSet<'_>) -> Instrument {
    Instrument {
        name: owned(top, tags::STATION_NAME),
        manufacturer: owned(top, tags::MANUFACTURER),
        model: owned(top, tags::MANUFACTURER_MODEL_NAME),
        serial_number: owned(top, tags::DEVICE_SERIAL_NUMBER),
        // Software Versions is multi-valued; the values stay `\`-separated as sent.
        software_version: top
            .get(tags::SOFTWARE_VERSIONS)
            .and_then(|element| element.string().ok())
            .filter(|text| !text.is_empty())
            .map(String::from)
            .map(Into::into),
        ids: owned(top, tags::DEVICE_UID)
            .map(Identifier::new)
            .into_iter()
            .collect(),
        ..Instrument::default()
    }
}

/// The specimens of the Specimen Module (PS3.3 C.7.6.22): one per item of the
/// Specimen Description Sequence (0040,0560), each in the container (0040,0512); a
/// container without a description is one specimen with only the container.
fn specimens(top: &DataSet<'_>, warnings: &mut Vec<String>) -> Vec<Specimen> {
    let container_id = top.string(tags::CONTAINER_IDENTIFIER);
    let container = (container_id.is_some()
        || top.get(tags::CONTAINER_TYPE_CODE_SEQUENCE).is_some())
    .then(|| Container {
        id: container_id.map(|id| Sensitive::new(Text::from(id))),
        kind: first_coding(top, tags::CONTAINER_TYPE_CODE_SEQUENCE),
        ..Container::default()
    });
    let mut out: Vec<Specimen> = top
        .get(tags::SPECIMEN_DESCRIPTION_SEQUENCE)
        .map(|sequence| {
            sequence
                .items()
                .map(|item| specimen(&item, container.clone(), warnings))
                .collect()
        })
        .unwrap_or_default();
    if out.is_empty()
        && let Some(container) = container
    {
        out.push(Specimen {
            container: Some(container),
            ..Specimen::default()
        });
    }
    out
}

fn specimen(
    item: &DataSet<'_>,
    container: Option<Container>,
    warnings: &mut Vec<String>,
) -> Specimen {
    let mut ids = Vec::new();
    if let Some(id) = item.string(tags::SPECIMEN_IDENTIFIER) {
        let mut identifier = Identifier::new(id);
        identifier.assigner =
            issuer(item, tags::ISSUER_OF_THE_SPECIMEN_IDENTIFIER_SEQUENCE).map(Into::into);
        ids.push(Sensitive::new(identifier));
    }
    if let Some(uid) = item.string(tags::SPECIMEN_UID) {
        ids.push(Sensitive::new(Identifier::new(uid)));
    }
    let preparation = item
        .get(tags::SPECIMEN_PREPARATION_SEQUENCE)
        .map(|sequence| {
            sequence
                .items()
                .map(|step| PreparationStep {
                    items: step
                        .get(tags::SPECIMEN_PREPARATION_STEP_CONTENT_ITEM_SEQUENCE)
                        .map(|content| {
                            content
                                .items()
                                .filter_map(|c| content_item(&c, warnings))
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    Specimen {
        ids,
        kind: first_coding(item, tags::SPECIMEN_TYPE_CODE_SEQUENCE),
        container,
        description: owned(item, tags::SPECIMEN_SHORT_DESCRIPTION),
        preparation,
        ..Specimen::default()
    }
}

/// Concepts of preparation items whose value identifies a specimen (PS3.16 CID 8110
/// and TID 8001): DCM 121041 Specimen Identifier and 111705 Parent Specimen
/// Identifier. The model's preparation items cannot hold a [`Sensitive`] value, so
/// these are not mapped; the specimen's own identifier is in [`Specimen::ids`].
const IDENTIFIER_CONCEPTS: [&str; 2] = ["121041", "111705"];

/// One content item of a preparation step (PS3.3 C.7.6.22, Table 10-2 Content Item
/// Macro): its concept name and its value by Value Type.
fn content_item(item: &DataSet<'_>, warnings: &mut Vec<String>) -> Option<PreparationItem> {
    let concept = first_coding(item, tags::CONCEPT_NAME_CODE_SEQUENCE)?;
    if concept.system == CodeSystem::Other(DCM_SYSTEM.into())
        && IDENTIFIER_CONCEPTS.contains(&concept.code.as_str())
    {
        return None;
    }
    let value_type = item.string(tags::VALUE_TYPE);
    let value = match value_type.as_deref() {
        Some("CODE") => first_coding(item, tags::CONCEPT_CODE_SEQUENCE).map(ResultValue::Coded),
        Some("TEXT") => item.string(tags::TEXT_VALUE).map(ResultValue::text),
        Some("UIDREF") => item.string(tags::UID).map(ResultValue::text),
        Some("DATETIME") => item
            .get(tags::DATE_TIME)
            .and_then(|e| e.date_time().ok())
            .map(|value| ResultValue::DateTime { value }),
        Some("DATE") => item
            .get(tags::DATE)
            .and_then(|e| e.date().ok())
            .map(|value| ResultValue::DateTime { value }),
        Some("NUM") => numeric(item),
        _ => None,
    };
    if value.is_none() {
        warnings.push(format!(
            "specimen preparation item {} of value type {} not read",
            concept.code,
            value_type.as_deref().unwrap_or("(none)")
        ));
    }
    Some(PreparationItem {
        concept,
        value: value?,
    })
}

/// A NUM content item: Measured Value Sequence (0040,A300) with its Numeric Value
/// (0040,A30A) kept as the decimal text it was sent as, and its units.
fn numeric(item: &DataSet<'_>) -> Option<ResultValue> {
    let measured = item.get(tags::MEASURED_VALUE_SEQUENCE)?.items().next()?;
    let text = measured.string(tags::NUMERIC_VALUE)?;
    let first = text.split('\\').next().unwrap_or_default();
    let mut quantity = Quantity::new(Decimal::parse(first.trim()).ok()?);
    quantity.unit = first_coding(&measured, tags::MEASUREMENT_UNITS_CODE_SEQUENCE).map(|units| {
        let mut unit = Unit::new(units.code.clone());
        if units.system == CodeSystem::Ucum {
            unit.ucum = Some(units.code);
        }
        unit
    });
    Some(ResultValue::Quantity(quantity))
}
