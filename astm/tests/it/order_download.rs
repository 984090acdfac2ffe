//! Work orders written as ASTM order downloads ([`labwire_astm::write`]), framed, carried by
//! a link pair and read back.

use arbitrary::{Arbitrary, Unstructured};
use labwire_astm::frame::{self, FrameNumber};
use labwire_astm::link::{Instant, Link, LinkConfig, LinkEvent, Role};
use labwire_astm::model::{Dialect, to_events};
use labwire_astm::record::{Charset, Message, RecordOptions};
use labwire_astm::write::{
    HeaderInfo, normalize_for_astm, order_message, orders_message, query_answer_message,
    work_orders_from_message,
};
use labwire_model::{
    AdministrativeSex, Coding, Container, Identifier, LabEvent, LabTimestamp, Order, Patient,
    PersonName, Priority, Sensitive, Specimen, SpecimenRole, WorkOrder,
};
use proptest::prelude::*;

fn id(value: &str) -> Sensitive<Identifier> {
    Sensitive::new(Identifier::new(value))
}

fn header() -> HeaderInfo {
    let mut header = HeaderInfo::default();
    header.message_id = Some("MSG-0042".into());
    header.sender = vec!["labwire".into(), "0.1".into()];
    header.receiver = vec!["cobas-e411".into()];
    header.sent_at = Some(LabTimestamp::parse_astm("20240301101502").unwrap());
    header
}

fn sample_order(tests: usize) -> WorkOrder {
    WorkOrder {
        patient: Some(Patient {
            ids: vec![id("MRN-0001"), id("NAT-77")],
            name: Some(Sensitive::new(PersonName {
                family: Some("Doe".into()),
                given: Some("Jane".into()),
                ..PersonName::default()
            })),
            birth_date: Some(Sensitive::new(
                LabTimestamp::parse_astm("19800501").unwrap(),
            )),
            sex: Some(Sensitive::new(AdministrativeSex::Female)),
        }),
        specimen: Some(Specimen {
            ids: vec![id("S24-000123")],
            kind: Some(Coding::local("SER")),
            collected_at: Some(LabTimestamp::parse_astm("202403010800").unwrap()),
            container: Some(Container {
                carrier: Some("R04".into()),
                position: Some("3".into()),
                ..Container::default()
            }),
            ..Specimen::default()
        }),
        order: Order {
            tests: (0..tests)
                .map(|n| Coding::local(format!("T{n:03}")))
                .collect(),
            priority: Some(Priority::Stat),
            requested_at: Some(LabTimestamp::parse_astm("20240301081500").unwrap()),
            ..Order::default()
        },
        notes: vec!["Fasting".into(), "Second tube | lipemic".into()],
        ..WorkOrder::default()
    }
}

fn parse(text: &[u8]) -> Message<'_> {
    let (message, warnings) = Message::parse(text, &RecordOptions::default()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    message
}

#[test]
fn an_order_download_is_h_p_o_c_l() {
    let text = order_message(&sample_order(2), &header());
    assert_eq!(
        String::from_utf8(text).unwrap(),
        "H|\\^&|MSG-0042||labwire^0.1|||||cobas-e411||P|LIS2-A2|20240301101502\r\
         P|1|MRN-0001|NAT-77||Doe^Jane||19800501|F\r\
         O|1|S24-000123|^R04^3|^^^T000\\^^^T001|S|20240301081500|202403010800||||N||||SER||||||||||O\r\
         C|1|L|Fasting|G\r\
         C|2|L|Second tube &F& lipemic|G\r\
         L|1|N\r"
    );
}

#[test]
fn a_long_order_spans_several_240_byte_frames_and_reassembles() {
    let work = sample_order(60);
    let text = order_message(&work, &header());
    let mut wire = vec![frame::ENQ];
    frame::encode_message_into(
        &mut wire,
        &text,
        frame::DEFAULT_MAX_TEXT,
        FrameNumber::FIRST,
    )
    .unwrap();
    wire.push(frame::EOT);
    let expected_frames = frame::frame_count(text.len(), frame::DEFAULT_MAX_TEXT);
    assert!(expected_frames >= 3, "{expected_frames}");

    let mut instrument = Link::new(LinkConfig::new(Role::Instrument)).unwrap();
    instrument.handle_bytes(&wire, Instant::from_millis(0));
    let acks = instrument.take_output();
    assert_eq!(acks, vec![frame::ACK; expected_frames + 1]);
    let received: Vec<(Vec<u8>, u32)> = std::iter::from_fn(|| instrument.poll_event())
        .filter_map(|event| match event {
            LinkEvent::MessageReceived { text, frames, .. } => Some((text, frames)),
            _ => None,
        })
        .collect();
    assert_eq!(received, [(text.clone(), expected_frames as u32)]);

    let message = parse(&text);
    let orders = work_orders_from_message(&message, &Dialect::generic());
    assert_eq!(orders, [normalize_for_astm(&work, &header())]);
}

/// The host's link sends the order; the instrument's link receives it; both sides speak.
#[test]
fn a_host_link_delivers_an_order_to_an_instrument_link() {
    let text = order_message(&sample_order(40), &header());
    let mut host = Link::new(LinkConfig::new(Role::Computer)).unwrap();
    let mut instrument = Link::new(LinkConfig::new(Role::Instrument)).unwrap();
    let id = host.send(text.clone(), Instant::from_millis(0)).unwrap();
    let mut delivered = false;
    let mut received = Vec::new();
    for millis in 1..200 {
        let now = Instant::from_millis(millis);
        let to_instrument = host.take_output();
        instrument.handle_bytes(&to_instrument, now);
        let to_host = instrument.take_output();
        host.handle_bytes(&to_host, now);
        while let Some(event) = host.poll_event() {
            if event == (LinkEvent::Delivered { id }) {
                delivered = true;
            }
        }
        while let Some(event) = instrument.poll_event() {
            if let LinkEvent::MessageReceived { text, .. } = event {
                received.push(text);
            }
        }
        if delivered && !host.has_output() {
            break;
        }
    }
    assert!(delivered);
    assert_eq!(received, [text]);
}

#[test]
fn the_result_mapping_reads_an_order_download_as_the_order_reader_does() {
    let work = sample_order(3);
    let text = order_message(&work, &header());
    let message = parse(&text);
    let expected = normalize_for_astm(&work, &header());
    let events = to_events(&message, &Dialect::generic());
    let [LabEvent::Results(report)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(report.patient, expected.patient);
    assert_eq!(report.specimen, expected.specimen);
    assert_eq!(report.order.as_ref(), Some(&expected.order));
    assert_eq!(report.notes, expected.notes);
}

#[test]
fn several_orders_in_one_message_and_a_query_answer() {
    let first = sample_order(1);
    let mut second = sample_order(2);
    second.specimen.as_mut().unwrap().ids = vec![id("S24-000124")];
    second.specimen.as_mut().unwrap().role = SpecimenRole::Control;
    let text = orders_message(&[first, second], &header());
    let orders = work_orders_from_message(&parse(&text), &Dialect::generic());
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[1].order.action.as_deref(), Some("Q"));
    assert_eq!(
        orders[1].specimen.as_ref().unwrap().role,
        SpecimenRole::Control
    );
    assert_eq!(orders[1].notes.len(), 2);

    let answer = query_answer_message(&[sample_order(1)], &header());
    let message = parse(&answer);
    let orders = work_orders_from_message(&message, &Dialect::generic());
    assert_eq!(orders[0].order.status.as_deref(), Some("Q"));
    let terminator = message.records().last().unwrap();
    assert_eq!(terminator.field(3).text(), "F");
}

#[test]
fn latin1_orders_are_written_in_latin1() {
    let mut work = sample_order(1);
    work.patient.as_mut().unwrap().name = Some(Sensitive::new(PersonName {
        family: Some("Müller".into()),
        ..PersonName::default()
    }));
    let mut header = header();
    header.charset = Charset::Latin1;
    let text = order_message(&work, &header);
    assert!(text.windows(6).any(|w| w == b"M\xfcller"));
    let options = RecordOptions {
        charset: Charset::Latin1,
        ..RecordOptions::default()
    };
    let (message, _) = Message::parse(&text, &options).unwrap();
    let orders = work_orders_from_message(&message, &Dialect::generic());
    assert_eq!(orders, [normalize_for_astm(&work, &header)]);
}

/// Whole work orders from arbitrary bytes, every field filled with anything `Arbitrary`
/// makes (control characters, delimiters, offsets, fractions, any year).
fn work_order() -> impl Strategy<Value = WorkOrder> {
    proptest::collection::vec(any::<u8>(), 0..1500)
        .prop_filter_map("too few bytes for a work order", |bytes| {
            WorkOrder::arbitrary(&mut Unstructured::new(&bytes)).ok()
        })
}

fn header_info() -> impl Strategy<Value = HeaderInfo> {
    (
        proptest::option::of(".{0,12}"),
        proptest::collection::vec(".{0,8}", 0..3),
        proptest::collection::vec(".{0,8}", 0..3),
        proptest::option::of(".{0,8}"),
    )
        .prop_map(|(message_id, sender, receiver, version)| {
            let mut header = HeaderInfo::default();
            header.message_id = message_id;
            header.sender = sender;
            header.receiver = receiver;
            header.version = version;
            header
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// model → ASTM → model is the identity on what ASTM carries; the message is valid
    /// E1394 (no warnings), can be framed, and the result mapping agrees with the order
    /// reader on patient, specimen and order.
    #[test]
    fn work_orders_survive_an_order_download(work in work_order(), header in header_info()) {
        let text = order_message(&work, &header);
        frame::validate_text(&text).unwrap();
        let (message, warnings) = Message::parse(&text, &RecordOptions::default()).unwrap();
        prop_assert!(warnings.is_empty(), "{:?}", warnings);
        prop_assert_eq!(message.as_bytes(), &text[..]);
        let expected = normalize_for_astm(&work, &header);
        let orders = work_orders_from_message(&message, &Dialect::generic());
        prop_assert_eq!(&orders, std::slice::from_ref(&expected));

        let events = to_events(&message, &Dialect::generic());
        prop_assert_eq!(events.len(), 1);
        let mut order_without_filler = expected.order.clone();
        order_without_filler.filler_id = None;
        match &events[0] {
            LabEvent::Results(report) => {
                prop_assert_eq!(&report.patient, &expected.patient);
                prop_assert_eq!(&report.specimen, &expected.specimen);
                // The result mapping does not read O-4's first component as a filler id.
                prop_assert_eq!(report.order.as_ref(), Some(&order_without_filler));
                prop_assert_eq!(&report.notes, &expected.notes);
            }
            LabEvent::Qc(qc) => {
                prop_assert_eq!(expected.specimen.as_ref().map(|s| &s.role), Some(&SpecimenRole::Control));
                prop_assert_eq!(&qc.specimen, &expected.specimen);
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    /// The same in Latin-1, for texts Latin-1 can write.
    #[test]
    fn latin1_work_orders_survive(
        family in "[ -~\u{a0}-\u{ff}]{0,12}",
        specimen_id in "[ -~\u{a0}-\u{ff}]{1,12}",
        note in "[ -~\u{a0}-\u{ff}]{0,20}",
    ) {
        let work = WorkOrder {
            patient: Some(Patient {
                name: Some(Sensitive::new(PersonName { family: Some(family.into()), ..PersonName::default() })),
                ..Patient::default()
            }),
            specimen: Some(Specimen { ids: vec![id(&specimen_id)], ..Specimen::default() }),
            notes: vec![note.into()],
            ..WorkOrder::default()
        };
        let mut header = HeaderInfo::default();
        header.charset = Charset::Latin1;
        let text = order_message(&work, &header);
        let options = RecordOptions { charset: Charset::Latin1, ..RecordOptions::default() };
        let (message, _) = Message::parse(&text, &options).unwrap();
        prop_assert_eq!(
            work_orders_from_message(&message, &Dialect::generic()),
            vec![normalize_for_astm(&work, &header)]
        );
    }
}
