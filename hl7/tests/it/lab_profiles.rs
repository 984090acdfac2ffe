//! Fields of the laboratory profiles beyond the basic result: repeat status and
//! dilution (TCD, IHE LAW), observation type (OBX-29), a status from the order (OBR-25),
//! the population of a reference range (OBX-10), and equipment commands (ECD). The
//! expected values were read off the fixtures by hand.

use labwire_hl7::model::{MapOptions, Mapped, to_events};
use labwire_hl7::{Message, ParseOptions};
use labwire_model::{CodeSystem, Comparator, LabEvent, LabResult, ResultStatus, ResultValue};

use crate::fixtures;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures::data_dir().join(format!("{name}.hl7"))).unwrap()
}

fn map_fixture(name: &str) -> Mapped {
    fixtures::map(&fixture(name)).unwrap()
}

fn results(mapped: &Mapped) -> Vec<&LabResult> {
    mapped
        .events
        .iter()
        .flat_map(|event| match event {
            LabEvent::Results(report) => report.results.iter().collect::<Vec<_>>(),
            other => panic!("not a result report: {other:?}"),
        })
        .collect()
}

fn warnings(mapped: &Mapped) -> Vec<String> {
    mapped
        .warnings
        .iter()
        .map(|warning| format!("{}: {:?}", warning.location, warning.kind))
        .collect()
}

#[test]
fn law_test_code_detail_gives_repeat_status_and_dilution() {
    let mapped = map_fixture("labwire_oul_r22_law_rerun_dilution");
    assert_eq!(mapped.events.len(), 3, "one report per OBR");
    let r = results(&mapped);
    let summary: Vec<_> = r
        .iter()
        .map(|result| {
            (
                result.test.code.as_str(),
                result.rerun,
                result.dilution.map(|dilution| dilution.as_str().to_owned()),
                result.run_id.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            // TCD-8 `O`, TCD-2 1:1.
            ("ALT", false, Some("1".to_owned()), None),
            // TCD-8 `D`: the rerun dilution (TCD-3) 1:10.
            ("ALT", true, Some("10".to_owned()), None),
            // `R`: repeated without dilution.
            ("K", true, Some("1".to_owned()), None),
            // `F`: a reflex test; TCD-4 (pre-dilution 1:2) is not the instrument's.
            ("GGT", true, Some("1".to_owned()), None),
        ]
    );
    let ResultValue::Quantity(original) = &r[0].value else {
        panic!("{:?}", r[0].value)
    };
    assert_eq!(original.comparator, Some(Comparator::Gt));
    assert_eq!(original.value.as_str(), "700");
    let ResultValue::Quantity(rerun) = &r[1].value else {
        panic!("{:?}", r[1].value)
    };
    assert_eq!(rerun.value.as_str(), "1184");
    // The NTE after the TCD still belongs to the result.
    assert_eq!(
        r[1].notes,
        ["Rerun 1:10 after result above the measuring range"]
    );
    assert_eq!(
        r[3].reference_range
            .as_ref()
            .unwrap()
            .high
            .unwrap()
            .as_str(),
        "60"
    );
    assert_eq!(warnings(&mapped), ["TCD(4)-4: FieldNotMapped"]);
}

#[test]
fn observation_type_keeps_questions_and_clinical_information_out_of_results() {
    let mapped = map_fixture("labwire_oru_r01_observation_types");
    let r = results(&mapped);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].test.code, "TSH");
    assert_eq!(r[0].loinc.unwrap().as_str(), "3016-3");
    assert_eq!(r[0].notes, ["Within the reference interval"]);
    assert_eq!(
        warnings(&mapped),
        [
            "OBX(1): ObservationNotAResult",
            "OBX(2): ObservationNotAResult"
        ]
    );
    let LabEvent::Results(report) = &mapped.events[0] else {
        panic!()
    };
    assert_eq!(report.provenance.warnings.len(), 2);
}

#[test]
fn an_empty_status_takes_the_order_status_where_the_tables_agree() {
    let mapped = map_fixture("labwire_oru_r01_status_ranges");
    assert_eq!(mapped.events.len(), 2);
    let r = results(&mapped);
    let statuses: Vec<_> = r
        .iter()
        .map(|result| (result.status.code(), result.status_raw.as_deref()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("C", None),
            // OBX-11 empty: OBR-25 `C` (table 0123) is also a table 0085 code.
            ("C", Some("C")),
            ("F", None),
            // OBR-25 `A` (some results available) says nothing about this one.
            ("", None),
        ]
    );
    assert_eq!(r[1].status, ResultStatus::Corrected);
    let populations: Vec<_> = r
        .iter()
        .map(|result| {
            result
                .reference_range
                .as_ref()
                .and_then(|range| range.applies_to.as_deref())
        })
        .collect();
    // OBX-10 (table 0080): S sex-based, A~S age- and sex-based, N generic, empty.
    assert_eq!(populations, [Some("sex"), Some("age, sex"), None, None]);
    assert_eq!(
        warnings(&mapped),
        ["OBX(2)-11: StatusFromOrder", "OBX(4)-11: MissingStatus"]
    );

    // Strict: OBX-11 is required; nothing is taken from the order.
    let bytes = fixture("labwire_oru_r01_status_ranges");
    let message = Message::parse(&bytes, &ParseOptions::default()).unwrap();
    let strict = to_events(&message, &MapOptions::strict()).unwrap();
    let r = results(&strict);
    assert_eq!((r[1].status.code(), r[1].status_raw.as_deref()), ("", None));
    assert_eq!(
        warnings(&strict),
        ["OBX(2)-11: MissingStatus", "OBX(4)-11: MissingStatus"]
    );
}

#[test]
fn equipment_commands_are_status_details() {
    let mapped = map_fixture("labwire_eac_u07_command");
    let LabEvent::Status(status) = &mapped.events[0] else {
        panic!()
    };
    let commands: Vec<_> = status
        .details
        .iter()
        .map(|coding| (coding.system.clone(), coding.code.as_str()))
        .collect();
    assert_eq!(
        commands,
        [
            (CodeSystem::Hl7Table(368), "PA"),
            (CodeSystem::Hl7Table(368), "CL")
        ]
    );
    assert!(mapped.warnings.is_empty(), "{:?}", warnings(&mapped));

    // A command's parameters and requested time have no place in the model.
    let mapped = map_fixture("labwire_eac_u07_command_parameters");
    let LabEvent::Status(status) = &mapped.events[0] else {
        panic!()
    };
    assert_eq!(status.details[0].code, "LO");
    assert_eq!(
        warnings(&mapped),
        ["ECD(1)-4: FieldNotMapped", "ECD(1)-5: FieldNotMapped"]
    );
}

#[test]
fn equipment_log_entries_are_log_events_after_their_status() {
    let mapped = map_fixture("labwire_lsu_u12_service_log");
    assert_eq!(mapped.events.len(), 2);
    let LabEvent::Status(status) = &mapped.events[0] else {
        panic!()
    };
    assert_eq!(status.details[0].code, "SER");
    let LabEvent::Log(log) = &mapped.events[1] else {
        panic!("{:?}", mapped.events[1])
    };
    assert_eq!(
        log.kind.as_ref().map(|kind| kind.code.as_str()),
        Some("SER")
    );
    assert_eq!(log.file_name.as_deref(), Some("svc-20240301.log"));
    assert_eq!(
        log.started_at.map(|at| at.to_iso8601()),
        Some("2024-03-01T18:30:00+01:00".to_owned())
    );
    assert_eq!(
        log.ended_at.map(|at| at.to_iso8601()),
        Some("2024-03-01T18:55:00+01:00".to_owned())
    );
    assert_eq!(
        log.text.as_deref(),
        Some("Photometer lamp replaced; calibration required for all photometric assays")
    );
    assert_eq!(log.instrument, status.instrument);
    assert_eq!(log.provenance.location.as_deref(), Some("EQP(1)"));
    assert!(mapped.warnings.is_empty(), "{:?}", mapped.warnings);
}
