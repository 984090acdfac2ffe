//! model → OUL^R22 → parse → model gives the report back, as far as HL7 carries it
//! ([`carried_by_oul_r22`] names what it does not); writing arbitrary events never
//! panics and always parses back; mangled fixtures never make the mapping panic.

use arbitrary::{Arbitrary, Unstructured};
use labwire_hl7::model::{Envelope, MapOptions, to_events, write_event, write_oul_r22};
use labwire_hl7::{Message, ParseOptions};
use labwire_model::{
    AbsentReason, AdministrativeSex, CodeSystem, Coding, Comparator, Container, Decimal,
    DecimalMark, Identifier, IdentifierType, Instrument, Interpretation, LabEvent, LabResult,
    LabTimestamp, LoincCode, Order, Patient, PersonName, PreparationStep, Priority, Provenance,
    Quantity, ReferenceRange, ResultReport, ResultStatus, ResultValue, Sensitive, Specimen,
    SpecimenRole, SubstanceLot, SubstanceType, Unit,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use crate::fixtures;

// --- what OUL^R22 carries ---------------------------------------------------------------

/// The part of a report an OUL^R22 written by `write_oul_r22` carries, per the table
/// in `labwire_hl7::model::write`. Applied to both sides before comparing, so every
/// field left out here is one the test shows to round-trip exactly.
fn carried_by_oul_r22(report: &ResultReport) -> ResultReport {
    let mut report = report.clone();
    // Provenance describes the message (MSH), not the report.
    report.provenance = Provenance::default();
    // The instrument is MSH-3.1: `local_id`, else `name`; both read back as it.
    let id = report
        .instrument
        .local_id
        .clone()
        .or_else(|| report.instrument.name.clone());
    report.instrument = Instrument {
        local_id: id.clone(),
        name: id,
        ..Instrument::default()
    };
    if let Some(patient) = &mut report.patient
        && patient
            .name
            .as_ref()
            .is_some_and(|name| *name.expose() == PersonName::default())
    {
        patient.name = None;
    }
    // SPM is required in OUL^R22: a report without a specimen gets an empty one.
    let specimen = report.specimen.get_or_insert_with(Specimen::default);
    specimen.preparation.clear();
    let first = |wanted: &dyn Fn(Option<&IdentifierType>) -> bool| {
        specimen
            .ids
            .iter()
            .map(|id| id.expose().clone())
            .find(|id| wanted(id.kind.as_ref()))
    };
    // SPM-2.1 (no type, or PLAC, read back without type), SPM-2.2 FILL, SAC-2 ACSN.
    let placer = first(&|kind| kind.is_none_or(|k| *k == IdentifierType::Placer))
        .map(|id| Identifier { kind: None, ..id });
    let filler = first(&|kind| kind.is_some_and(|k| *k == IdentifierType::Filler));
    let accession = first(&|kind| kind.is_some_and(|k| *k == IdentifierType::Accession));
    specimen.ids = [placer, filler, accession]
        .into_iter()
        .flatten()
        .map(Sensitive::new)
        .collect();
    if specimen.container.as_ref() == Some(&Container::default()) {
        specimen.container = None;
    }
    if let Some(order) = &mut report.order {
        // One OBR per report: one test; ORC-1 is required.
        order.tests.truncate(1);
        order.action.get_or_insert_with(|| "SC".into());
        for id in [&mut order.placer_id, &mut order.filler_id]
            .into_iter()
            .flatten()
        {
            id.expose_mut().kind = None;
        }
    }
    for result in &mut report.results {
        carried_result(result);
    }
    report
}

fn carried_result(result: &mut LabResult) {
    // OBX-3 holds one alternate: the first alternate test, else the LOINC code when
    // the test is not that code; `loinc` is read back from the first LN coding.
    let test = result.test.clone();
    let loinc_alternate = result
        .loinc
        .filter(|loinc| !(test.system == CodeSystem::Loinc && test.code == loinc.as_str()))
        .map(|loinc| loinc.to_coding());
    let alternate = result.alt_tests.first().cloned().or(loinc_alternate);
    result.alt_tests = alternate.into_iter().collect();
    let loinc_of = |coding: &Coding| {
        (coding.system == CodeSystem::Loinc)
            .then(|| LoincCode::parse(&coding.code).ok())
            .flatten()
    };
    result.loinc = loinc_of(&result.test).or_else(|| result.alt_tests.first().and_then(loinc_of));
    // Derived when reading.
    result.raw_value = None;
    result.status_raw = None;
    // One OBX-6 for every repetition: the first unit given.
    let unit = core::iter::once(&result.value)
        .chain(&result.additional_values)
        .find_map(|value| match value {
            ResultValue::Quantity(quantity) => quantity.unit.clone(),
            ResultValue::Range { unit, .. } => unit.clone(),
            _ => None,
        });
    for value in core::iter::once(&mut result.value).chain(&mut result.additional_values) {
        match value {
            ResultValue::Quantity(quantity) => quantity.unit.clone_from(&unit),
            ResultValue::Range { unit: own, .. } => own.clone_from(&unit),
            _ => {}
        }
    }
    if let ResultValue::Absent { .. } = result.value {
        result.value = ResultValue::Absent {
            reason: AbsentReason::Unknown,
            text: None,
        };
    }
    if let Some(range) = &mut result.reference_range {
        range.applies_to = None;
    }
    // OBX-18 holds equipment ids (EI: value and assigner) only.
    result.instrument = result.instrument.take().and_then(|instrument| {
        let ids: Vec<Identifier> = instrument
            .ids
            .into_iter()
            .map(|id| Identifier { kind: None, ..id })
            .collect();
        (!ids.is_empty()).then(|| Instrument {
            ids,
            ..Instrument::default()
        })
    });
    // No HL7 field holds it (TCD carries the dilution and the repeat status).
    result.run_id = None;
    // SID: material, lot, manufacturer.
    for substance in &mut result.substances {
        substance.kind = None;
        substance.expires_at = None;
        substance.level = None;
    }
    result.substances.retain(|substance| {
        substance.material.is_some() || substance.lot.is_some() || substance.manufacturer.is_some()
    });
}

// --- generators ---------------------------------------------------------------------------

/// Codes and ids: delimiters, the escape character, quotes and non-ASCII included;
/// no surrounding spaces (codes are trimmed when read). `""` is the explicit null on
/// the wire and must be escaped.
fn token() -> BoxedStrategy<String> {
    prop_oneof![
        9 => r##"[A-Za-z0-9é漢|^~&\\"#.-]{1,10}"##,
        1 => Just("\"\"".to_owned()),
    ]
    .boxed()
}

/// Display texts and descriptions: words with inner spaces.
fn words() -> BoxedStrategy<String> {
    r#"[A-Za-z0-9é|^~&\\#.-]{1,8}( [A-Za-z0-9ß|^~&\\#.-]{1,8}){0,3}"#.boxed()
}

/// Free text (notes, ST/TX values): kept as sent, line breaks and spaces included.
fn free_text() -> BoxedStrategy<String> {
    prop_oneof![
        r"[ -~é漢\r\n\t]{1,40}".prop_filter("not blank", |text| !text.trim().is_empty()),
        Just("\"\"".to_owned()),
        "[a-z]{200,240}",
    ]
    .boxed()
}

fn from_arbitrary<T: for<'a> Arbitrary<'a> + core::fmt::Debug>() -> impl Strategy<Value = T> {
    vec(any::<u8>(), 32..64).prop_filter_map("arbitrary input too short", |bytes| {
        T::arbitrary(&mut Unstructured::new(&bytes)).ok()
    })
}

fn timestamp() -> BoxedStrategy<LabTimestamp> {
    from_arbitrary::<LabTimestamp>().boxed()
}

fn decimal() -> BoxedStrategy<Decimal> {
    r"-?(0|[1-9][0-9]{0,5})(\.[0-9]{1,4})?"
        .prop_map(|text| Decimal::parse(&text).unwrap())
        .boxed()
}

/// A code table: a listed code, or any other code.
fn open<T: Clone + core::fmt::Debug + 'static>(
    known: &'static [T],
    from_code: fn(&str) -> T,
) -> impl Strategy<Value = T> {
    prop_oneof![
        select(known.to_vec()),
        token().prop_map(move |code| from_code(&code)),
    ]
}

/// Code systems HL7 names: `Other` is not among them, since every name that is not a
/// known mnemonic reads back as local.
fn system() -> BoxedStrategy<CodeSystem> {
    prop_oneof![
        Just(CodeSystem::Loinc),
        Just(CodeSystem::Snomed),
        Just(CodeSystem::Ucum),
        (0u16..10_000).prop_map(CodeSystem::Hl7Table),
        "99[A-Z]{1,5}".prop_map(|name| CodeSystem::Local(name.into())),
        Just(CodeSystem::Local(String::new().into())),
        Just(CodeSystem::Local("L".into())),
    ]
    .boxed()
}

fn coding() -> BoxedStrategy<Coding> {
    (token(), option::of(words()), system())
        .prop_map(|(code, display, system)| Coding {
            system,
            code: code.into(),
            display: display.map(Into::into),
        })
        .boxed()
}

fn loinc() -> BoxedStrategy<LoincCode> {
    (1u32..100_000)
        .prop_map(|number| LoincCode::from_number(number).unwrap())
        .boxed()
}

fn identifier(kinds: Vec<Option<IdentifierType>>) -> impl Strategy<Value = Identifier> {
    (token(), select(kinds), option::of(token())).prop_map(|(value, kind, assigner)| Identifier {
        value: value.into(),
        kind,
        assigner: assigner.map(Into::into),
    })
}

fn any_identifier() -> BoxedStrategy<Identifier> {
    (
        token(),
        option::of(open(IdentifierType::KNOWN, IdentifierType::from_code)),
        option::of(token()),
    )
        .prop_map(|(value, kind, assigner)| Identifier {
            value: value.into(),
            kind,
            assigner: assigner.map(Into::into),
        })
        .boxed()
}

fn unit() -> BoxedStrategy<Unit> {
    (token(), 0..3u8, token())
        .prop_map(|(original, ucum, other)| Unit {
            ucum: match ucum {
                0 => None,
                1 => Some(original.clone().into()),
                _ => Some(other.into()),
            },
            original: original.into(),
        })
        .boxed()
}

fn quantity() -> BoxedStrategy<ResultValue> {
    (
        decimal(),
        option::of(select(Comparator::ALL.to_vec())),
        option::of(unit()),
    )
        .prop_map(|(value, comparator, unit)| {
            ResultValue::Quantity(Quantity {
                value,
                comparator,
                unit,
            })
        })
        .boxed()
}

fn range() -> BoxedStrategy<ResultValue> {
    (
        option::of(decimal()),
        option::of(decimal()),
        option::of(unit()),
    )
        .prop_map(|(low, high, unit)| ResultValue::Range { low, high, unit })
        .boxed()
}

fn ratio() -> BoxedStrategy<ResultValue> {
    (
        decimal(),
        decimal(),
        option::of(select(Comparator::ALL.to_vec())),
    )
        .prop_map(|(numerator, denominator, comparator)| ResultValue::Ratio {
            numerator,
            denominator,
            comparator,
        })
        .boxed()
}

fn coded() -> BoxedStrategy<ResultValue> {
    // `Y`/`N` of table 0136 is how a boolean travels.
    coding()
        .prop_filter("not a boolean", |coding| {
            !(coding.system == CodeSystem::Hl7Table(136)
                && matches!(coding.code.as_str(), "Y" | "N"))
        })
        .prop_map(ResultValue::Coded)
        .boxed()
}

fn attachment() -> BoxedStrategy<ResultValue> {
    (
        option::of(select(vec![
            "image/png",
            "application/pdf",
            "text/plain",
            "IM",
            "x-vendor/scattergram",
        ])),
        option::of(select(vec!["base64", "hex", "A"])),
        prop_oneof![r"[A-Za-z0-9+/]{1,60}={0,2}", token()],
    )
        .prop_map(|(media_type, encoding, data)| ResultValue::Attachment {
            media_type: media_type.map(str::to_owned).map(Into::into),
            encoding: encoding.map(str::to_owned).map(Into::into),
            data: data.into(),
        })
        .boxed()
}

/// A value and further values of the same kind (OBX-5 repetitions share OBX-2).
fn values() -> BoxedStrategy<(ResultValue, Vec<ResultValue>)> {
    fn same<S: Strategy<Value = ResultValue>>(
        make: impl Fn() -> S,
    ) -> impl Strategy<Value = (ResultValue, Vec<ResultValue>)> {
        (make(), vec(make(), 0..3))
    }
    prop_oneof![
        3 => same(quantity),
        1 => same(range),
        1 => same(ratio),
        2 => same(coded),
        2 => same(|| free_text().prop_map(ResultValue::text)),
        1 => same(|| any::<bool>().prop_map(|value| ResultValue::Boolean { value })),
        1 => same(|| timestamp().prop_map(|value| ResultValue::DateTime { value })),
        1 => same(attachment),
        1 => (select(AbsentReason::KNOWN.to_vec()), option::of(free_text()))
            .prop_map(|(reason, text)| (ResultValue::Absent { reason, text: text.map(Into::into) }, Vec::new())),
    ]
    .boxed()
}

fn substance() -> BoxedStrategy<SubstanceLot> {
    (
        option::of(open(SubstanceType::KNOWN, SubstanceType::from_code)),
        option::of(coding()),
        option::of(token()),
        option::of(timestamp()),
        option::of(token()),
        option::of(token()),
    )
        .prop_map(
            |(kind, material, lot, expires_at, manufacturer, level)| SubstanceLot {
                kind,
                material,
                lot: lot.map(Into::into),
                expires_at,
                manufacturer: manufacturer.map(Into::into),
                level: level.map(Into::into),
            },
        )
        .boxed()
}

fn instrument() -> BoxedStrategy<Instrument> {
    (
        option::of(token()),
        option::of(token()),
        option::of(token()),
        option::of(token()),
        vec(any_identifier(), 0..3),
    )
        .prop_map(
            |(local_id, name, manufacturer, serial_number, ids)| Instrument {
                local_id: local_id.map(Into::into),
                name: name.map(Into::into),
                manufacturer: manufacturer.map(Into::into),
                serial_number: serial_number.map(Into::into),
                ids,
                ..Instrument::default()
            },
        )
        .boxed()
}

/// The test, its alternates and LOINC code.
fn test_codes() -> BoxedStrategy<(Coding, Vec<Coding>, Option<LoincCode>)> {
    prop_oneof![
        // A LOINC test.
        loinc().prop_map(|loinc| (loinc.to_coding(), Vec::new(), Some(loinc))),
        // A local test with or without alternates and a LOINC code.
        (coding(), vec(coding(), 0..3), option::of(loinc())),
    ]
    .boxed()
}

fn result() -> BoxedStrategy<LabResult> {
    let identity = (
        option::of(any::<u32>()),
        option::of(token()),
        test_codes(),
        values(),
        vec(open(Interpretation::KNOWN, Interpretation::from_code), 0..3),
        option::of(
            (
                prop_oneof![
                    "[0-9]{1,2}\\.[0-9]-[0-9]{1,3}\\.[0-9]",
                    "[<>]=?[0-9]{1,3}",
                    words()
                ],
                option::of(words()),
            )
                .prop_map(|(text, applies_to)| ReferenceRange {
                    applies_to: applies_to.map(Into::into),
                    ..ReferenceRange::parse_lenient(&text, DecimalMark::Point)
                }),
        ),
        open(ResultStatus::KNOWN, ResultStatus::from_code),
    );
    let context = (
        option::of(timestamp()),
        option::of(timestamp()),
        option::of(instrument()),
        option::of(coding()),
        option::of(token()),
        option::of(decimal()),
        any::<bool>(),
        vec(substance(), 0..3),
        option::of(token()),
        vec(free_text(), 0..3),
        option::of(free_text()),
    );
    (identity, context)
        .prop_map(
            |(
                (
                    sequence,
                    sub_id,
                    (test, alt_tests, loinc),
                    (value, additional_values),
                    flags,
                    range,
                    status,
                ),
                (
                    observed_at,
                    analyzed_at,
                    instrument,
                    method,
                    run_id,
                    dilution,
                    rerun,
                    substances,
                    operator,
                    notes,
                    raw_value,
                ),
            )| {
                let mut result = LabResult::new(test, value, status);
                result.sequence = sequence;
                result.sub_id = sub_id.map(Into::into);
                result.alt_tests = alt_tests;
                result.loinc = loinc;
                result.additional_values = additional_values;
                result.raw_value = raw_value.map(Into::into);
                result.interpretation = flags;
                result.reference_range = range;
                result.observed_at = observed_at;
                result.analyzed_at = analyzed_at;
                result.instrument = instrument;
                result.method = method;
                result.run_id = run_id.map(Into::into);
                result.dilution = dilution;
                result.rerun = rerun;
                result.substances = substances;
                result.operator = operator.map(|value| Sensitive::new(value.into()));
                result.notes = notes.into_iter().map(Into::into).collect();
                result
            },
        )
        .boxed()
}

fn patient() -> BoxedStrategy<Patient> {
    (
        vec(any_identifier(), 0..3),
        option::of(
            (
                option::of(words()),
                option::of(words()),
                option::of(words()),
                option::of(words()),
                option::of(words()),
            )
                .prop_map(|(family, given, middle, suffix, prefix)| PersonName {
                    family: family.map(Into::into),
                    given: given.map(Into::into),
                    middle: middle.map(Into::into),
                    suffix: suffix.map(Into::into),
                    prefix: prefix.map(Into::into),
                }),
        ),
        option::of(timestamp()),
        option::of(open(AdministrativeSex::KNOWN, AdministrativeSex::from_code)),
    )
        .prop_map(|(ids, name, birth_date, sex)| Patient {
            ids: ids.into_iter().map(Sensitive::new).collect(),
            name: name.map(Sensitive::new),
            birth_date: birth_date.map(Sensitive::new),
            sex: sex.map(Sensitive::new),
        })
        .boxed()
}

fn specimen() -> BoxedStrategy<Specimen> {
    let kinds = vec![
        None,
        Some(IdentifierType::Placer),
        Some(IdentifierType::Filler),
        Some(IdentifierType::Accession),
        Some(IdentifierType::MedicalRecord),
    ];
    (
        vec(identifier(kinds), 0..4),
        open(SpecimenRole::KNOWN, SpecimenRole::from_code),
        option::of(coding()),
        option::of(timestamp()),
        option::of(timestamp()),
        option::of(
            (
                option::of(token()),
                option::of(coding()),
                option::of(token()),
                option::of(token()),
            )
                .prop_map(|(id, kind, carrier, position)| Container {
                    id: id.map(|value| Sensitive::new(value.into())),
                    kind,
                    carrier: carrier.map(Into::into),
                    position: position.map(Into::into),
                }),
        ),
        option::of(words()),
        vec(from_arbitrary::<PreparationStep>(), 0..2),
    )
        .prop_map(
            |(ids, role, kind, collected_at, received_at, container, description, preparation)| {
                Specimen {
                    ids: ids.into_iter().map(Sensitive::new).collect(),
                    role,
                    kind,
                    collected_at,
                    received_at,
                    container,
                    description: description.map(Into::into),
                    preparation,
                }
            },
        )
        .boxed()
}

fn order() -> BoxedStrategy<Order> {
    (
        option::of(any_identifier()),
        option::of(any_identifier()),
        vec(coding(), 0..3),
        option::of(open(Priority::KNOWN, Priority::from_code)),
        option::of(timestamp()),
        option::of(token()),
        option::of(token()),
    )
        .prop_map(
            |(placer, filler, tests, priority, requested_at, action, status)| Order {
                placer_id: placer.map(Sensitive::new),
                filler_id: filler.map(Sensitive::new),
                tests,
                priority,
                requested_at,
                action: action.map(Into::into),
                status: status.map(Into::into),
            },
        )
        .boxed()
}

fn report() -> BoxedStrategy<ResultReport> {
    (
        instrument(),
        option::of(patient()),
        option::of(specimen()),
        option::of(order()),
        vec(result(), 0..4),
        vec(free_text(), 0..3),
    )
        // A specimen with neither an order nor results is no report on the wire.
        .prop_filter("an order or results", |(_, _, _, order, results, _)| {
            order.is_some() || !results.is_empty()
        })
        .prop_map(
            |(instrument, patient, specimen, order, results, notes)| ResultReport {
                instrument,
                patient,
                specimen,
                order,
                results,
                notes: notes.into_iter().map(Into::into).collect(),
                provenance: Provenance::default(),
            },
        )
        .boxed()
}

fn envelope() -> Envelope {
    Envelope::new(
        "CTRL-0001",
        LabTimestamp::parse_hl7("20240301101502.1234+0100").unwrap(),
    )
    .with_host("LIS", Some("HOSP".to_owned()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn oul_r22_round_trips_what_hl7_carries(report in report()) {
        let bytes = write_oul_r22(&report, &envelope()).unwrap().to_bytes();
        let message = Message::parse(&bytes, &ParseOptions::strict()).unwrap();
        // Specimen roles stay on the report: a control specimen is still this report.
        let mut options = MapOptions::default();
        options.quality_control_events = false;
        let mapped = to_events(&message, &options).unwrap();
        prop_assert_eq!(mapped.events.len(), 1, "{}", String::from_utf8_lossy(&bytes));
        let LabEvent::Results(back) = &mapped.events[0] else {
            panic!("{:?}", mapped.events)
        };
        prop_assert_eq!(back.provenance.message_id.as_deref(), Some("CTRL-0001"));
        prop_assert_eq!(back.provenance.version.as_deref(), Some("2.5.1"));
        prop_assert_eq!(back.provenance.sent_at, Some(envelope().sent_at));
        prop_assert_eq!(
            carried_by_oul_r22(back),
            carried_by_oul_r22(&report),
            "{}",
            String::from_utf8_lossy(&bytes)
        );
    }

    /// Any event the model can hold is written without panicking; what is written
    /// parses strictly and maps back to one event.
    #[test]
    fn arbitrary_events_are_written_and_read_back(bytes in vec(any::<u8>(), 0..4096)) {
        let Ok(event) = LabEvent::arbitrary(&mut Unstructured::new(&bytes)) else {
            return Ok(());
        };
        match write_event(&event, &envelope()) {
            Ok(message) => {
                let written = message.to_bytes();
                let parsed = Message::parse(&written, &ParseOptions::strict()).unwrap();
                let mut options = MapOptions::default();
                options.quality_control_events = false;
                let mapped = to_events(&parsed, &options).unwrap();
                // A specimen with neither an order nor results is warned, not an event.
                let empty = matches!(&event, LabEvent::Results(report)
                    if report.order.is_none() && report.results.is_empty());
                prop_assert_eq!(mapped.events.len(), usize::from(!empty));
                if let Some(back) = mapped.events.first() {
                    prop_assert_eq!(back.kind(), event.kind());
                }
            }
            Err(labwire_hl7::model::MapError::NotWritable { kind }) => {
                prop_assert!(!matches!(event, LabEvent::Results(_) | LabEvent::WorkOrder(_)), "{:?}", kind);
            }
            Err(error) => panic!("{error}"),
        }
    }

    /// Fixtures with bytes replaced or inserted (delimiters, CR, LF, escapes, non-ASCII)
    /// never make the mapping panic, and what it maps serializes.
    #[test]
    fn mangled_fixtures_never_panic(
        index in any::<proptest::sample::Index>(),
        edits in vec((any::<proptest::sample::Index>(), select(b"|^~\\&\r\n\"#0A.-<>: \xC3\xFF".to_vec()), any::<bool>()), 1..12),
    ) {
        let all = fixtures::all();
        let (_, bytes) = index.get(&all);
        let mut bytes = bytes.clone();
        for (at, byte, insert) in edits {
            let at = at.index(bytes.len() + 1);
            if insert || at == bytes.len() {
                bytes.insert(at, byte);
            } else {
                bytes[at] = byte;
            }
        }
        for options in [MapOptions::default(), MapOptions::strict()] {
            if let Ok(message) = Message::parse(&bytes, &ParseOptions::default())
                && let Ok(mapped) = to_events(&message, &options)
            {
                let _ = serde_json::to_string(&mapped.events).unwrap();
                for warning in &mapped.warnings {
                    let _ = warning.to_string();
                }
            }
        }
    }
}
