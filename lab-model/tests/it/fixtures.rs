//! Events that exercise every field, shared by the golden and redaction tests.

use labwire_model::*;

/// Markers planted in every field that may identify a person; none may appear in
/// `Debug` output.
pub(crate) const PHI_MARKERS: [&str; 14] = [
    "PHI-MRN-4711",
    "PHI-DOE",
    "PHI-JANE",
    "PHI-SPECIMEN-S24",
    "PHI-ACCESSION-A9",
    "PHI-CONTAINER-C7",
    "PHI-PLACER-P1",
    "PHI-FILLER-F1",
    "PHI-OPERATOR-OP3",
    "PHI-DICOM-ACCESSION",
    "PHI-DICOM-PATIENT",
    "PHI-ORDER-PATIENT",
    "PHI-QUERY-SPECIMEN",
    "PHI-ORDER-SPECIMEN",
];

/// Planted in an equipment log's text and file name: free text, not a protected
/// field (so `Debug` shows it), that only the `full` MQTT profile may publish.
pub(crate) const LOG_TEXT_MARKER: &str = "LOG-TYPED-SAMPLE-S24";
/// See [`LOG_TEXT_MARKER`].
pub(crate) const LOG_FILE_MARKER: &str = "run_LOG-FILE-S24.log";

fn ts(text: &str) -> LabTimestamp {
    LabTimestamp::parse_hl7(text).unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::parse(text).unwrap()
}

fn provenance(protocol: SourceProtocol, message_id: &str, location: &str) -> Provenance {
    Provenance {
        version: Some("2.5.1".into()),
        message_id: Some(message_id.into()),
        sender: Some("ANALYZER^LAB".into()),
        sent_at: Some(ts("20240301101510+0100")),
        received_at: Some(LabTimestamp::parse_rfc3339("2024-03-01T09:15:11.250Z").unwrap()),
        gateway: Some("gw-01".into()),
        location: Some(location.into()),
        warnings: vec!["segment terminator LF, not CR".into()],
        ..Provenance::new(protocol)
    }
}

fn analyzer() -> Instrument {
    Instrument {
        local_id: Some("chem-01".into()),
        name: Some("ANALYZER".into()),
        manufacturer: Some("Acme Diagnostics".into()),
        model: Some("XYZ-500".into()),
        serial_number: Some("SN-000987".into()),
        software_version: Some("4.2.1".into()),
        ids: vec![Identifier::new("XYZ-500-000987").with_assigner("ACME")],
    }
}

fn patient(mrn: &str, family: &str, given: &str) -> Patient {
    Patient {
        ids: vec![Sensitive::new(
            Identifier::new(mrn)
                .with_kind(IdentifierType::MedicalRecord)
                .with_assigner("HOSP"),
        )],
        name: Some(Sensitive::new(PersonName {
            family: Some(family.into()),
            given: Some(given.into()),
            ..PersonName::default()
        })),
        birth_date: Some(Sensitive::new(ts("198005"))),
        sex: Some(Sensitive::new(AdministrativeSex::Female)),
    }
}

fn reagent() -> SubstanceLot {
    SubstanceLot {
        kind: Some(SubstanceType::SingleTestReagent),
        material: Some(Coding::local("GLU-R1")),
        lot: Some("R1-2024-031".into()),
        expires_at: Some(ts("20250630")),
        manufacturer: Some("Acme Diagnostics".into()),
        level: None,
    }
}

fn glucose() -> LabResult {
    let mut result = LabResult::new(
        Coding::local("GLU").with_display("Glucose"),
        ResultValue::Quantity(Quantity::new(dec("5.40")).with_unit(Unit {
            original: "mmol/l".into(),
            ucum: Some("mmol/L".into()),
        })),
        ResultStatus::Final,
    );
    result.sequence = Some(1);
    result.sub_id = Some("1".into());
    result.alt_tests = vec![Coding::new(CodeSystem::Local("99ACME".into()), "1001")];
    result.loinc = Some(LoincCode::parse("2345-7").unwrap());
    result.raw_value = Some("5.40".into());
    result.interpretation = vec![Interpretation::Normal];
    result.reference_range = Some(ReferenceRange {
        applies_to: Some("adult".into()),
        ..ReferenceRange::parse_lenient("3.9-6.1", DecimalMark::Point)
    });
    result.observed_at = Some(ts("202403010830+0100"));
    result.analyzed_at = Some(ts("20240301101502.123+0100"));
    result.method = Some(Coding::local("HEXOKINASE"));
    result.run_id = Some("RUN-0815".into());
    result.dilution = Some(dec("1"));
    result.substances = vec![reagent()];
    result.operator = Some(Sensitive::new("PHI-OPERATOR-OP3".into()));
    result.notes = vec!["Sample slightly lipemic".into()];
    result
}

fn crp_below_limit() -> LabResult {
    let mut result = LabResult::new(
        Coding::local("CRP"),
        ResultValue::from_text_lenient("<0.5", Some(Unit::ucum("mg/L")), DecimalMark::Point),
        ResultStatus::from_code("C"),
    );
    result.sequence = Some(2);
    result.raw_value = Some("<0.5".into());
    result.status_raw = Some("C".into());
    result.interpretation = vec![
        Interpretation::from_code("<"),
        Interpretation::from_code("ZZ"),
    ];
    result.rerun = true;
    result
}

fn titer() -> LabResult {
    let mut result = LabResult::new(
        Coding::new(CodeSystem::Loinc, "5370-2"),
        ResultValue::Ratio {
            numerator: dec("1"),
            denominator: dec("128"),
            comparator: None,
        },
        ResultStatus::Preliminary,
    );
    result.sequence = Some(3);
    result
}

fn text_and_absent() -> [LabResult; 2] {
    let mut text = LabResult::new(
        Coding::local("SARSCOV2"),
        ResultValue::text("NOT DETECTED"),
        ResultStatus::Final,
    );
    text.sequence = Some(4);
    let mut absent = LabResult::new(
        Coding::local("K"),
        ResultValue::Absent {
            reason: AbsentReason::Error,
            text: Some("Clot detected".into()),
        },
        ResultStatus::CannotObtain,
    );
    absent.sequence = Some(5);
    [text, absent]
}

/// One event of every kind, each with every field that kind has filled in.
pub(crate) fn every_kind() -> Vec<LabEvent> {
    let [text, absent] = text_and_absent();
    let mut histogram = LabResult::new(
        Coding::local("RBC_HISTOGRAM"),
        ResultValue::Attachment {
            media_type: Some("image/png".into()),
            encoding: Some("base64".into()),
            data: "iVBORw0KGgo=".into(),
        },
        ResultStatus::Final,
    );
    histogram.sequence = Some(6);
    let mut organisms = LabResult::new(
        Coding::local("ORG"),
        ResultValue::Coded(Coding::new(CodeSystem::Snomed, "112283007").with_display("E. coli")),
        ResultStatus::Final,
    );
    organisms.sequence = Some(7);
    organisms.additional_values = vec![ResultValue::Coded(
        Coding::new(CodeSystem::Snomed, "3092008").with_display("S. aureus"),
    )];
    let results = LabEvent::Results(ResultReport {
        instrument: analyzer(),
        patient: Some(patient("PHI-MRN-4711", "PHI-DOE", "PHI-JANE")),
        specimen: Some(Specimen {
            ids: vec![
                Sensitive::new(Identifier::new("PHI-SPECIMEN-S24")),
                Sensitive::new(
                    Identifier::new("PHI-ACCESSION-A9").with_kind(IdentifierType::Accession),
                ),
            ],
            role: SpecimenRole::Patient,
            kind: Some(Coding::new(CodeSystem::Hl7Table(487), "SER").with_display("Serum")),
            collected_at: Some(ts("202403010830+0100")),
            received_at: Some(ts("202403010905+0100")),
            container: Some(Container {
                id: Some(Sensitive::new("PHI-CONTAINER-C7".into())),
                kind: Some(Coding::local("TUBE-SST")),
                carrier: Some("R04".into()),
                position: Some("3".into()),
            }),
            description: Some("Serum, fasting".into()),
            preparation: Vec::new(),
        }),
        order: Some(Order {
            placer_id: Some(Sensitive::new(
                Identifier::new("PHI-PLACER-P1").with_kind(IdentifierType::Placer),
            )),
            filler_id: Some(Sensitive::new(
                Identifier::new("PHI-FILLER-F1").with_kind(IdentifierType::Filler),
            )),
            tests: vec![Coding::new(CodeSystem::Loinc, "24323-8").with_display("CMP")],
            priority: Some(Priority::Stat),
            requested_at: Some(ts("202403010800+0100")),
            action: Some("A".into()),
            status: Some("CM".into()),
        }),
        results: vec![
            glucose(),
            crp_below_limit(),
            titer(),
            text,
            absent,
            histogram,
            organisms,
        ],
        notes: vec!["Fasting sample".into()],
        provenance: provenance(SourceProtocol::Hl7v2, "MSG00042", "OBR(1)"),
    });

    let mut qc_measurement = LabResult::new(
        Coding::local("GLU"),
        ResultValue::Quantity(Quantity::new(dec("5.62")).with_unit(Unit::ucum("mmol/L"))),
        ResultStatus::Final,
    );
    qc_measurement.analyzed_at = Some(ts("20240301070000"));
    let qc = LabEvent::Qc(QcEvent {
        instrument: analyzer(),
        specimen: Some(Specimen {
            ids: vec![Sensitive::new(Identifier::new("QC-LEVEL-2"))],
            role: SpecimenRole::Control,
            ..Specimen::default()
        }),
        control: Some(SubstanceLot {
            kind: Some(SubstanceType::Control),
            lot: Some("QC-45120".into()),
            level: Some("2".into()),
            ..SubstanceLot::default()
        }),
        results: vec![QcResult {
            result: qc_measurement,
            target: Some(dec("5.20")),
            sd: Some(dec("0.20")),
            outcome: Some(Outcome::Warning),
            rules_violated: vec!["1-2s".into()],
        }],
        notes: vec!["Control reconstituted 06:40".into()],
        at: Some(ts("20240301070000")),
        provenance: provenance(SourceProtocol::Astm, "QC-1", "O record 1"),
    });

    let calibration = LabEvent::Calibration(CalibrationEvent {
        instrument: analyzer(),
        test: Some(Coding::local("GLU")),
        kind: Some(CalibrationType::TwoPoint),
        state: Some(CalibrationState::Calibrated),
        outcome: Some(Outcome::Pass),
        at: Some(ts("20240301063000")),
        valid_until: Some(ts("20240315063000")),
        substances: vec![SubstanceLot {
            kind: Some(SubstanceType::Calibrator),
            lot: Some("CAL-778".into()),
            ..SubstanceLot::default()
        }],
        results: Vec::new(),
        notes: vec!["Two-point calibration accepted".into()],
        provenance: provenance(SourceProtocol::Astm, "CAL-1", "M record 1"),
    });

    let status = LabEvent::Status(EquipmentStatus {
        instrument: analyzer(),
        state: Some(EquipmentState::Operating),
        control: Some(ControlState::Remote),
        alert: Some(AlertLevel::Normal),
        at: Some(ts("20240301101500+0100")),
        details: vec![Coding::new(CodeSystem::Other("ACME-STATE".into()), "RUN")],
        provenance: provenance(SourceProtocol::Hl7v2, "ESU-1", "EQU"),
    });

    let alarm = LabEvent::Alarm(Alarm {
        instrument: analyzer(),
        code: Some(Coding::local("E-1203")),
        text: Some("Reagent GLU-R1 below 5 %".into()),
        level: Some(AlertLevel::Warning),
        active: Some(true),
        at: Some(ts("20240301101700+0100")),
        provenance: provenance(SourceProtocol::Hl7v2, "ESU-2", "EQU"),
    });

    let meta = LabEvent::InstrumentMeta(InstrumentMeta {
        instrument: analyzer(),
        tests: vec![Coding::local("GLU"), Coding::local("CRP")],
        provenance: provenance(SourceProtocol::Astm, "H-1", "H record"),
    });

    let imaging = LabEvent::ImagingStudy(ImagingStudy {
        study_uid: Some("1.2.826.0.1.3680043.8.498.1".into()),
        series_uid: Some("1.2.826.0.1.3680043.8.498.2".into()),
        instance_uid: Some("1.2.826.0.1.3680043.8.498.3".into()),
        sop_class_uid: Some("1.2.840.10008.5.1.4.1.1.77.1.6".into()),
        modality: Some("SM".into()),
        study_at: Some(LabTimestamp::parse_dicom_dt("20240301101502.123456").unwrap()),
        acquired_at: Some(LabTimestamp::parse_dicom_dt("20240301101502+0100").unwrap()),
        accession: Some(Sensitive::new("PHI-DICOM-ACCESSION".into())),
        patient: Some(patient("PHI-DICOM-PATIENT", "PHI-DOE", "PHI-JANE")),
        instrument: Instrument {
            local_id: Some("wsi-01".into()),
            manufacturer: Some("Acme Imaging".into()),
            ..Instrument::default()
        },
        specimens: vec![Specimen {
            ids: vec![Sensitive::new(Identifier::new("PHI-SPECIMEN-S24"))],
            container: Some(Container {
                id: Some(Sensitive::new("PHI-CONTAINER-C7".into())),
                ..Container::default()
            }),
            description: Some("H&E".into()),
            preparation: vec![PreparationStep {
                items: vec![
                    PreparationItem {
                        concept: Coding::new(CodeSystem::Snomed, "111701001")
                            .with_display("Processing type"),
                        value: ResultValue::Coded(
                            Coding::new(CodeSystem::Snomed, "127790008").with_display("Staining"),
                        ),
                    },
                    PreparationItem {
                        concept: Coding::new(CodeSystem::Snomed, "424361007")
                            .with_display("Using substance"),
                        value: ResultValue::text("hematoxylin and eosin"),
                    },
                ],
            }],
            ..Specimen::default()
        }],
        image_type: vec!["ORIGINAL".into(), "PRIMARY".into(), "VOLUME".into()],
        institution: Some("General Hospital".into()),
        department: Some("Pathology".into()),
        provenance: Provenance {
            version: Some("1.2.840.10008.1.2.1".into()),
            ..Provenance::new(SourceProtocol::Dicom)
        },
    });

    let work_order = LabEvent::WorkOrder(WorkOrder {
        instrument: analyzer(),
        patient: Some(patient("PHI-ORDER-PATIENT", "PHI-DOE", "PHI-JANE")),
        specimen: Some(Specimen {
            ids: vec![Sensitive::new(Identifier::new("PHI-ORDER-SPECIMEN"))],
            container: Some(Container {
                carrier: Some("R07".into()),
                position: Some("2".into()),
                ..Container::default()
            }),
            ..Specimen::default()
        }),
        order: Order {
            tests: vec![Coding::local("GLU"), Coding::local("CRP")],
            priority: Some(Priority::Routine),
            action: Some("NW".into()),
            ..Order::default()
        },
        notes: vec!["Please repeat if hemolyzed".into()],
        provenance: provenance(SourceProtocol::Hl7v2, "OML-7", "ORC(1)"),
    });

    let query = LabEvent::Query(SpecimenQuery {
        instrument: analyzer(),
        specimen_ids: vec![Sensitive::new(Identifier::new("PHI-QUERY-SPECIMEN"))],
        container: Some(Container {
            carrier: Some("R07".into()),
            position: Some("2".into()),
            ..Container::default()
        }),
        tests: Vec::new(),
        status: Some("O".into()),
        provenance: provenance(SourceProtocol::Astm, "Q-1", "Q record 1"),
    });

    let inventory = LabEvent::Inventory(Inventory {
        instrument: analyzer(),
        items: vec![InventoryItem {
            substance: reagent(),
            status: vec!["OK".into()],
            container_id: Some("PACK-0031".into()),
            carrier: Some("REAGENT-DISK".into()),
            position: Some("14".into()),
            available: Some(Quantity::new(dec("12.5")).with_unit(Unit::ucum("mL"))),
            tests_remaining: Some(87),
            on_board_expires_at: Some(ts("20240329")),
        }],
        at: Some(ts("20240301101800+0100")),
        provenance: provenance(SourceProtocol::Hl7v2, "INU-1", "INV(1)"),
    });

    let log = LabEvent::Log(EquipmentLog {
        instrument: analyzer(),
        kind: Some(Coding::new(CodeSystem::Hl7Table(450), "LOG").with_display("Log Event")),
        file_name: Some(LOG_FILE_MARKER.into()),
        started_at: Some(ts("20240301060000+0100")),
        ended_at: Some(ts("20240301101800+0100")),
        text: Some(format!(
            "06:02 Start-up check passed\n09:47 Operator reran sample {LOG_TEXT_MARKER} \"clot\"\n10:18 Shift end"
        )),
        provenance: provenance(SourceProtocol::Hl7v2, "LSU-1", "EQP(1)"),
    });

    vec![
        results,
        qc,
        calibration,
        status,
        alarm,
        meta,
        imaging,
        work_order,
        query,
        inventory,
        log,
    ]
}
