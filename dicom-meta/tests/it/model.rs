//! The mapping to the lab model.

use labwire_dicom_meta::{model, parse};
use labwire_model::{
    AdministrativeSex, CodeSystem, LabEvent, Precision, ResultValue, SourceProtocol,
};

use crate::fixture;

#[test]
fn whole_slide_image_maps_to_an_imaging_study_with_its_specimen() {
    let bytes = fixture("highdicom/sm_image.dcm");
    let header = parse(&bytes).unwrap();
    let study = model::imaging_study(&header);

    let goldens: serde_json::Value = serde_json::from_slice(&fixture("goldens.json")).unwrap();
    let golden = &goldens["files"]["highdicom/sm_image.dcm"]["attributes"];
    assert_eq!(
        study.study_uid.as_deref(),
        golden["StudyInstanceUID"].as_str()
    );
    assert_eq!(
        study.series_uid.as_deref(),
        golden["SeriesInstanceUID"].as_str()
    );
    assert_eq!(
        study.instance_uid.as_deref(),
        golden["SOPInstanceUID"].as_str()
    );
    assert!(
        study
            .study_uid
            .as_deref()
            .unwrap()
            .starts_with("1.2.826.0.1.3680043.9.7433.3.")
    );
    assert_eq!(
        study.sop_class_uid.as_deref(),
        Some("1.2.840.10008.5.1.4.1.1.77.1.6")
    );
    assert_eq!(study.modality.as_deref(), Some("SM"));
    assert_eq!(study.accession.as_ref().unwrap().expose(), "S19-1_A_1_1");
    assert_eq!(study.image_type, ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"]);

    // Times keep their precision and invent no zone.
    let acquired = study.acquired_at.unwrap();
    assert_eq!(acquired.to_iso8601(), "2009-12-29T09:59:15");
    assert_eq!(acquired.precision(), Precision::Second);
    assert_eq!(study.study_at.unwrap().to_iso8601(), "2019-06-04T10:10:00");

    let patient = study.patient.unwrap();
    assert_eq!(patient.ids[0].expose().value, "AA01");
    assert_eq!(
        patient.ids[0].expose().assigner.as_deref(),
        Some("http://test.org/mrns")
    );
    let name = patient.name.unwrap();
    assert_eq!(name.expose().family.as_deref(), Some("Test"));
    assert_eq!(name.expose().given.as_deref(), Some("Patient"));
    assert_eq!(
        patient.birth_date.unwrap().expose().to_iso8601(),
        "1789-05-05"
    );
    assert_eq!(*patient.sex.unwrap().expose(), AdministrativeSex::OtherSex);

    let device = &study.instrument;
    assert_eq!(device.manufacturer.as_deref(), Some("Test Manufacturer"));
    assert_eq!(device.model.as_deref(), Some("Test Model"));
    assert_eq!(device.serial_number.as_deref(), Some("abcd"));
    assert_eq!(
        device.software_version.as_deref(),
        Some("Test Version v0.1.0")
    );

    assert_eq!(study.specimens.len(), 1);
    let specimen = &study.specimens[0];
    assert_eq!(specimen.ids[0].expose().value, "S19-1_A_1_1");
    assert_eq!(
        specimen.ids[0].expose().assigner.as_deref(),
        Some("http://test.org/specimens/2019")
    );
    assert_eq!(
        specimen.ids[1].expose().value,
        "2.25.281821656492584880365678271074145532563"
    );
    assert_eq!(specimen.kind.as_ref().unwrap().code, "430856003");
    let container = specimen.container.as_ref().unwrap();
    assert_eq!(container.id.as_ref().unwrap().expose(), "S19-1_A_1_1");
    let slide = container.kind.as_ref().unwrap();
    assert_eq!(
        (slide.system.clone(), slide.code.as_str()),
        (CodeSystem::Snomed, "433466003")
    );

    // Three steps: sampling, sampling, staining; every item read.
    assert_eq!(specimen.preparation.len(), 3);
    // Identifier items (specimen and parent specimen identifiers) are left out: the
    // model cannot protect them there.
    let first = &specimen.preparation[0].items;
    assert!(
        first
            .iter()
            .all(|item| !["121041", "111705"].contains(&item.concept.code.as_str()))
    );
    assert_eq!(first[0].concept.code, "111724");
    let processing = first
        .iter()
        .find(|item| item.concept.code == "111701")
        .unwrap();
    let ResultValue::Coded(coding) = &processing.value else {
        panic!()
    };
    assert_eq!(
        coding.display.as_deref(),
        Some("Sampling of tissue specimen")
    );
    let when = first
        .iter()
        .find(|item| item.concept.code == "111702")
        .unwrap();
    let ResultValue::DateTime { value } = &when.value else {
        panic!()
    };
    assert_eq!(value.to_iso8601(), "2019-06-04T07:20:00Z");
    let staining = &specimen.preparation[2].items;
    assert!(staining.iter().any(|item| matches!(&item.value, ResultValue::Coded(c) if c.display.as_deref().is_some_and(|d| d.contains("eosin")))));

    assert_eq!(study.provenance.protocol, SourceProtocol::Dicom);
    assert_eq!(
        study.provenance.version.as_deref(),
        Some("1.2.840.10008.1.2.1")
    );
    assert_eq!(study.provenance.message_id, study.instance_uid);
    assert!(
        study.provenance.warnings.is_empty(),
        "{:?}",
        study.provenance.warnings
    );
}

#[test]
fn identifiers_never_reach_debug_output_and_json_round_trips() {
    let bytes = fixture("highdicom/sm_image.dcm");
    let event = model::lab_event(&parse(&bytes).unwrap());
    let debug = format!("{event:?}");
    for secret in ["AA01", "Test^Patient", "S19-1_A_1_1", "17890505"] {
        assert!(!debug.contains(secret), "{secret} in Debug");
    }
    let json = serde_json::to_string(&event).unwrap();
    assert!(json.contains(r#""type":"imaging_study""#));
    assert!(json.contains(r#""modality":"SM""#));
    let back: LabEvent = serde_json::from_str(&json).unwrap();
    assert_eq!(back, event);
}

#[test]
fn other_objects_map_what_they_have() {
    for name in [
        "pydicom/CT_small.dcm",
        "pydicom/rtplan.dcm",
        "pydicom/MR_small_bigendian.dcm",
        "pydicom/image_dfl.dcm",
        "charset/chrH31.dcm",
    ] {
        let bytes = fixture(name);
        let study = model::imaging_study(&parse(&bytes).unwrap());
        assert!(study.study_uid.is_some(), "{name}");
        assert!(study.specimens.is_empty(), "{name}");
        assert!(
            study.provenance.warnings.is_empty(),
            "{name}: {:?}",
            study.provenance.warnings
        );
    }
    let bytes = fixture("pydicom/CT_small.dcm");
    let study = model::imaging_study(&parse(&bytes).unwrap());
    assert_eq!(study.modality.as_deref(), Some("CT"));
    assert_eq!(
        study.instrument.manufacturer.as_deref(),
        Some("GE MEDICAL SYSTEMS")
    );
    assert_eq!(
        study
            .patient
            .unwrap()
            .name
            .unwrap()
            .expose()
            .family
            .as_deref(),
        Some("CompressedSamples")
    );

    // Japanese: the model's name is the alphabetic group.
    let bytes = fixture("charset/chrH31.dcm");
    let study = model::imaging_study(&parse(&bytes).unwrap());
    assert_eq!(
        study
            .patient
            .unwrap()
            .name
            .unwrap()
            .expose()
            .family
            .as_deref(),
        Some("Yamada")
    );
}

#[test]
fn partial_headers_say_so_in_provenance() {
    let bytes = fixture("hostile/huge_ut_expl.dcm");
    let study = model::imaging_study(&parse(&bytes).unwrap());
    assert!(
        study
            .provenance
            .warnings
            .iter()
            .any(|w| w.starts_with("header read partially: truncated"))
    );
    assert_eq!(
        study
            .patient
            .unwrap()
            .name
            .unwrap()
            .expose()
            .family
            .as_deref(),
        Some("Doe")
    );
}
