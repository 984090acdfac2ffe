//! ACKs built for every fixture and parsed back, field by field.

use labwire_hl7::ack::{
    Ack, AckMode, AcknowledgmentCode, ErrorCode, ErrorDetail, ErrorLocation, Severity,
};
use labwire_hl7::model::{MapError, MapOptions, to_events};
use labwire_hl7::{Message, ParseOptions};
use labwire_model::LabTimestamp;

use crate::fixtures;

/// Parses an ACK strictly, except that MSH-18 may name a charset this crate does not
/// decode: it is copied from the original, whatever it says.
fn reply(bytes: &[u8]) -> Message<'_> {
    assert!(bytes.ends_with(b"\r"), "CR-terminated");
    assert!(!bytes.contains(&b'\n'), "no LF");
    let mut options = ParseOptions::strict();
    options.lenient_charset = true;
    Message::parse(bytes, &options).unwrap()
}

fn text(message: &Message<'_>, path: &str) -> String {
    message
        .get(path)
        .map(|value| value.decoded().unwrap().into_owned())
        .unwrap_or_default()
}

fn raw<'m>(message: &'m Message<'_>, path: &str) -> &'m [u8] {
    message.get(path).map_or(&[][..], |value| value.raw())
}

fn version_at_least(raw_version: &[u8], minimum: [u32; 3]) -> bool {
    let text = String::from_utf8_lossy(raw_version);
    let text = text.trim().trim_start_matches('V');
    let mut numbers = [0u32; 3];
    for (slot, part) in numbers.iter_mut().zip(text.split('.')) {
        *slot = part.parse().unwrap_or(0);
    }
    numbers >= minimum
}

#[test]
fn acks_for_every_fixture_swap_parties_and_echo_the_control_id() {
    let time = LabTimestamp::parse_hl7("20240301101503.120+0100").unwrap();
    for (name, bytes) in fixtures::all() {
        let original = Message::parse(&bytes, &ParseOptions::default()).unwrap();
        let mode = AckMode::of(&original);
        let code = AcknowledgmentCode::accept(mode);
        let ack = Ack::new(code.clone(), "ACK-0001", time);
        let out = ack.for_message(&original).unwrap();
        let ack_message = reply(&out);
        assert_eq!(ack_message.segment_count(), 2, "{name}");
        // Same delimiters (MSH-1, MSH-2 including a truncation character).
        assert_eq!(ack_message.delimiters(), original.delimiters(), "{name}");
        assert_eq!(
            raw(&ack_message, "MSH-2"),
            raw(&original, "MSH-2"),
            "{name}"
        );
        // Sender and receiver swapped, byte for byte.
        for (to, from) in [(3, 5), (4, 6), (5, 3), (6, 4)] {
            assert_eq!(
                raw(&ack_message, &format!("MSH-{to}")),
                raw(&original, &format!("MSH-{from}")),
                "{name} MSH-{to}"
            );
        }
        assert_eq!(
            text(&ack_message, "MSH-7"),
            "20240301101503.120+0100",
            "{name}"
        );
        let trigger = text(&original, "MSH-9.2");
        let expected_type = if version_at_least(raw(&original, "MSH-12.1"), [2, 3, 1]) {
            format!("ACK^{trigger}^ACK")
        } else if trigger.is_empty() {
            "ACK".to_owned()
        } else {
            format!("ACK^{trigger}")
        };
        assert_eq!(text(&ack_message, "MSH-9"), expected_type, "{name}");
        assert_eq!(text(&ack_message, "MSH-10"), "ACK-0001", "{name}");
        for field in ["MSH-11", "MSH-12", "MSH-18"] {
            assert_eq!(
                raw(&ack_message, field),
                raw(&original, field),
                "{name} {field}"
            );
        }
        assert_eq!(text(&ack_message, "MSA-1"), code.code(), "{name}");
        assert_eq!(
            raw(&ack_message, "MSA-2"),
            raw(&original, "MSH-10"),
            "{name}"
        );
    }
}

#[test]
fn mapping_warnings_become_err_segments() {
    for (name, bytes) in fixtures::all() {
        let original = Message::parse(&bytes, &ParseOptions::default()).unwrap();
        let Ok(mapped) = to_events(&original, &MapOptions::default()) else {
            continue;
        };
        if mapped.warnings.is_empty() {
            continue;
        }
        let mut ack = Ack::new(AcknowledgmentCode::ApplicationError, "ACK-2", "20240301");
        for warning in &mapped.warnings {
            ack = ack.with_error(ErrorDetail::for_warning(warning));
        }
        let out = ack.for_message(&original).unwrap();
        let ack_message = reply(&out);
        let legacy = !version_at_least(raw(&original, "MSH-12.1"), [2, 5, 0]);
        let errors: Vec<_> = ack_message.segments_by_id("ERR").collect();
        assert_eq!(errors.len(), mapped.warnings.len(), "{name}");
        for (err, warning) in errors.iter().zip(&mapped.warnings) {
            let location = &warning.location;
            let erl = err.field(2);
            let number = |n: usize| erl.component(n).decoded().unwrap().into_owned();
            let show = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
            assert_eq!(number(1), location.segment.to_string(), "{name} {warning}");
            assert_eq!(number(2), location.occurrence.to_string(), "{name}");
            assert_eq!(number(3), show(location.field), "{name}");
            assert_eq!(number(4), show(location.repetition), "{name}");
            assert_eq!(number(5), show(location.component), "{name}");
            assert_eq!(number(6), show(location.subcomponent), "{name}");
            let code = ErrorCode::for_warning(&warning.kind);
            assert_eq!(
                err.field(3).component(1).as_str(),
                Some(code.to_string().as_str())
            );
            assert_eq!(
                err.field(3).component(2).decoded().unwrap(),
                code.meaning().unwrap()
            );
            assert_eq!(err.field(3).component(3).as_str(), Some("HL70357"));
            assert_eq!(err.field(4).as_str(), Some("W"));
            assert_eq!(err.field(8).decoded().unwrap(), warning.kind.to_string());
            // v2.4 and earlier also get the ELD form in ERR-1.
            assert_eq!(!err.field(1).is_empty(), legacy, "{name}");
            if legacy {
                let eld = err.field(1);
                assert_eq!(
                    eld.component(1).decoded().unwrap(),
                    location.segment.to_string()
                );
                assert_eq!(
                    eld.component(4).subcomponent(1).as_str(),
                    Some(code.to_string().as_str())
                );
            }
        }
        if legacy {
            assert_eq!(
                text(&ack_message, "MSA-3"),
                mapped.warnings[0].kind.to_string(),
                "{name}"
            );
        } else {
            assert!(ack_message.get("MSA-3").is_none(), "{name}");
        }
    }
}

#[test]
fn unsupported_messages_are_answered_with_200() {
    let bytes = fixtures::all()
        .into_iter()
        .find(|(name, _)| name == "nhapi_orl_o34_v251")
        .unwrap()
        .1;
    let original = Message::parse(&bytes, &ParseOptions::default()).unwrap();
    let error = to_events(&original, &MapOptions::default()).unwrap_err();
    assert!(matches!(error, MapError::UnsupportedMessageType { .. }));
    let detail = ErrorDetail::for_map_error(&error, &original);
    let out = Ack::new(AcknowledgmentCode::ApplicationReject, "A-9", "20240301")
        .with_error(detail)
        .for_message(&original)
        .unwrap();
    let ack = reply(&out);
    assert_eq!(text(&ack, "MSA-1"), "AR");
    assert_eq!(text(&ack, "MSA-2"), "90");
    assert_eq!(text(&ack, "ERR-2"), "MSH^1^9");
    assert_eq!(text(&ack, "ERR-3"), "200^Unsupported message type^HL70357");
    assert_eq!(text(&ack, "ERR-4"), "E");
    assert!(text(&ack, "ERR-8").starts_with("unsupported message type"));
}

#[test]
fn a_parse_error_is_answered_from_the_salvaged_msh() {
    // LF terminators are refused in strict mode; the MSH line is still readable.
    let (_, bytes) = fixtures::all()
        .into_iter()
        .find(|(name, _)| name == "labwire_oru_r01_ed_lf")
        .unwrap();
    let error = Message::parse(&bytes, &ParseOptions::strict()).unwrap_err();
    let out = Ack::new(
        AcknowledgmentCode::ApplicationAccept,
        "ACK-3",
        "20240304080501",
    )
    .for_parse_error(&bytes, &error)
    .unwrap();
    let ack = reply(&out);
    assert_eq!(text(&ack, "MSH-3"), "LIS");
    assert_eq!(text(&ack, "MSH-5"), "XN-1000^SYSMEX");
    assert_eq!(text(&ack, "MSH-9"), "ACK^R01^ACK");
    assert_eq!(text(&ack, "MSH-12"), "2.5.1");
    assert_eq!(text(&ack, "MSA-1"), "AR", "a parse error is a reject");
    assert_eq!(text(&ack, "MSA-2"), "XN-12001");
    assert_eq!(text(&ack, "ERR-2"), "MSH^1");
    assert_eq!(text(&ack, "ERR-3.1"), "100");
    assert_eq!(text(&ack, "ERR-4"), "E");
    assert_eq!(text(&ack, "ERR-8"), error.to_string());

    // A commit code asked for gives a commit reject.
    let out = Ack::new(AcknowledgmentCode::CommitAccept, "ACK-4", "2024")
        .for_parse_error(&bytes, &error)
        .unwrap();
    assert_eq!(text(&reply(&out), "MSA-1"), "CR");
}

#[test]
fn bytes_without_a_header_get_a_minimal_ack() {
    let input = b"PID|1||MRN-1\rOBX|1|NM|GLU||5.4\r";
    let error = Message::parse(input, &ParseOptions::default()).unwrap_err();
    let out = Ack::new(AcknowledgmentCode::ApplicationAccept, "ACK-5", "20240301")
        .with_error(
            ErrorDetail::new(ErrorCode::APPLICATION_INTERNAL_ERROR, Severity::Information)
                .with_message("logged for review"),
        )
        .for_parse_error(input, &error)
        .unwrap();
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        "MSH|^~\\&|||||20240301||ACK|ACK-5|P|2.5.1\r\
         MSA|AR\r\
         ERR|||100^Segment sequence error^HL70357|E||||not HL7 v2: expected MSH at byte 0\r\
         ERR|||207^Application internal error^HL70357|I||||logged for review\r"
    );
    let ack = reply(&out);
    assert!(ack.get("MSA-2").is_none());
    let out = Ack::new(AcknowledgmentCode::ApplicationAccept, "ACK-6", "2024")
        .with_fallback("T", "2.3.1")
        .for_parse_error(b"\x00garbage", &error)
        .unwrap();
    let ack = reply(&out);
    assert_eq!(text(&ack, "MSH-11"), "T");
    assert_eq!(text(&ack, "MSH-12"), "2.3.1");
    assert_eq!(text(&ack, "ERR-1"), "^^^100&Segment sequence error&HL70357");
}

#[test]
fn parse_errors_inside_the_message_name_the_segment_occurrence() {
    let input = b"MSH|^~\\&|AN||LIS||20240301||ORU^R01|M-7|P|2.5.1\rOBR|1\rOBX|1|ST|A||x\rOBX|2|ST|B||a\\Qb\\c\r";
    let mut options = ParseOptions::default();
    options.lenient_escapes = false;
    let message = Message::parse(input, &options).unwrap();
    let error = to_events(&message, &MapOptions::default()).unwrap_err();
    let MapError::Hl7(syntax) = &error else {
        panic!("{error}")
    };
    let out = Ack::new(AcknowledgmentCode::ApplicationError, "A-1", "2024")
        .with_error(ErrorDetail::for_map_error(&error, &message))
        .for_message(&message)
        .unwrap();
    let ack = reply(&out);
    // Segment 4 is the second OBX: ERL.2 counts occurrences, not positions.
    assert_eq!(text(&ack, "ERR-2"), "OBX^2^5");
    assert_eq!(text(&ack, "ERR-3.1"), "102");
    assert_eq!(text(&ack, "ERR-8"), syntax.to_string());
}

#[test]
fn enhanced_mode_and_custom_delimiters_are_answered_in_kind() {
    for (name, bytes) in fixtures::all() {
        let original = Message::parse(&bytes, &ParseOptions::default()).unwrap();
        let enhanced = !original.get("MSH-15").is_none_or(|v| v.is_empty())
            || !original.get("MSH-16").is_none_or(|v| v.is_empty());
        assert_eq!(
            AckMode::of(&original) == AckMode::Enhanced,
            enhanced,
            "{name}"
        );
    }
    let original = Message::parse(
        b"MSH#$%@!#AN#LAB#LIS#H#20240301##ORU$R01#M@F@1#P#2.7\r",
        &ParseOptions::default(),
    )
    .unwrap();
    let out = Ack::new(AcknowledgmentCode::ApplicationError, "A#1", "2024")
        .with_error(
            ErrorDetail::new(ErrorCode::DATA_TYPE_ERROR, Severity::Error)
                .at(ErrorLocation::field("OBX", 1, 5))
                .with_message("a|b#c$d"),
        )
        .for_message(&original)
        .unwrap();
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        "MSH#$%@!#LIS#H#AN#LAB#2024##ACK$R01$ACK#A@F@1#P#2.7\r\
         MSA#AE#M@F@1\r\
         ERR##OBX$1$5#102$Data type error$HL70357#E####a|b@F@c@S@d\r"
    );
    let ack = Message::parse(&out, &ParseOptions::strict()).unwrap();
    assert_eq!(text(&ack, "MSA-2"), "M#1");
    assert_eq!(text(&ack, "ERR-8"), "a|b#c$d");
}
