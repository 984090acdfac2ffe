//! Unit and property tests of the frame codec.

use proptest::prelude::*;

use super::*;

/// An owned copy of a [`FrameItem`], for comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Frame {
        offset: u64,
        number_byte: u8,
        kind: FrameKind,
        text: Vec<u8>,
        checksum: Checksum,
    },
    Control(Control, u64),
    Junk(Vec<u8>, u64),
    Error(Error),
}

fn owned(item: FrameItem<'_>) -> Item {
    match item {
        FrameItem::Frame(f) => Item::Frame {
            offset: f.offset,
            number_byte: f.number_byte,
            kind: f.kind,
            text: f.text.to_vec(),
            checksum: f.checksum,
        },
        FrameItem::Control { control, offset } => Item::Control(control, offset),
        FrameItem::Junk { bytes, offset } => Item::Junk(bytes.to_vec(), offset),
        FrameItem::Error(e) => Item::Error(e),
    }
}

/// Decodes `chunks` in order with one decoder; adjacent junk pieces are merged.
fn decode_chunks(max_text: usize, chunks: &[&[u8]]) -> Vec<Item> {
    let mut decoder = FrameDecoder::new(max_text);
    let mut items: Vec<Item> = Vec::new();
    let mut total = 0u64;
    for chunk in chunks {
        decoder.decode_each(chunk, |item| {
            let item = owned(item);
            if let (Some(Item::Junk(prev, at)), Item::Junk(more, more_at)) =
                (items.last_mut(), &item)
                && *at + prev.len() as u64 == *more_at
            {
                prev.extend_from_slice(more);
                return;
            }
            items.push(item);
        });
        total += chunk.len() as u64;
        assert_eq!(decoder.position(), total);
        assert!(decoder.partial.len() <= decoder.max_text() + 1);
    }
    items
}

fn decode_whole(max_text: usize, input: &[u8]) -> Vec<Item> {
    decode_chunks(max_text, &[input])
}

fn decode_bytewise(max_text: usize, input: &[u8]) -> Vec<Item> {
    let chunks: Vec<&[u8]> = input.chunks(1).collect();
    decode_chunks(max_text, &chunks)
}

/// Decodes whole and byte by byte, asserts both agree, returns the items.
fn decode_both(max_text: usize, input: &[u8]) -> Vec<Item> {
    let whole = decode_whole(max_text, input);
    assert_eq!(
        whole,
        decode_bytewise(max_text, input),
        "chunking changed the result"
    );
    whole
}

fn fnum(n: u8) -> FrameNumber {
    FrameNumber::new(n).unwrap()
}

fn frame_bytes(number: u8, kind: FrameKind, text: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_frame(&mut out, fnum(number), kind, text).unwrap();
    out
}

fn good(offset: u64, number: u8, kind: FrameKind, text: &[u8]) -> Item {
    Item::Frame {
        offset,
        number_byte: b'0' + number,
        kind,
        text: text.to_vec(),
        checksum: Checksum::Valid,
    }
}

// --- checksum and encoding -------------------------------------------------------------------

#[test]
fn widely_copied_example_checksum_is_0a_not_40() {
    // The example as published is `<STX>7L|1|N<CR><ETX>40`; the record's CR is part of the text:
    // '7' + 'L' + '|' + '1' + '|' + 'N' + CR + ETX
    //   = 0x37 + 0x4C + 0x7C + 0x31 + 0x7C + 0x4E + 0x0D + 0x03 = 0x20A → "0A".
    assert_eq!(checksum(fnum(7), FrameKind::Last, b"L|1|N\r"), 0x0A);
    assert_eq!(
        frame_bytes(7, FrameKind::Last, b"L|1|N\r"),
        b"\x027L|1|N\r\x030A\r\n"
    );
    // Without the CR the sum is 0x1FD → "FD"; "40" is right in neither case.
    assert_eq!(checksum(fnum(7), FrameKind::Last, b"L|1|N"), 0xFD);
    let items = decode_both(240, b"\x027L|1|N\r\x0340\r\n");
    let Item::Frame { checksum, .. } = &items[0] else {
        panic!("{items:?}")
    };
    assert_eq!(
        *checksum,
        Checksum::Mismatch {
            computed: 0x0A,
            received: 0x40
        }
    );
}

#[test]
fn checksum_vectors_from_published_sessions() {
    // (frame body from FN through the text, checksum); all end with ETX.
    let vectors: [(&[u8], u8); 6] = [
        (b"1H|\\^&|||Mini LIS||||||||LIS2-A|20210309142633\r", 0x96),
        (
            b"2P|1|PID123456||NID123456|Brown^Bobby^B|White|196501020304|M\r",
            0x66,
        ),
        (
            b"3O|1|SID305||ABO|N|20210309142633|||||N||||CENTBLOOD\r",
            0x4B,
        ),
        (b"4L|1|N\r", 0x07),
        (b"1A|B|C|D\r", 0xBF),
        (
            b"1H|\\^&|||ACCESS^511550|||||LIS||P|1|20161028161600\r",
            0x21,
        ),
    ];
    for (body, expected) in vectors {
        let (digit, text) = body.split_first().unwrap();
        let number = FrameNumber::from_digit(*digit).unwrap();
        assert_eq!(checksum(number, FrameKind::Last, text), expected);
        let wire = frame_bytes(number.value(), FrameKind::Last, text);
        let items = decode_both(DEFAULT_MAX_TEXT, &wire);
        assert_eq!(items, [good(0, number.value(), FrameKind::Last, text)]);
    }
}

#[test]
fn intermediate_frames_sum_etb_not_etx() {
    // 0x31 + 0x41 + 0x17 = 0x89
    assert_eq!(
        frame_bytes(1, FrameKind::Intermediate, b"A"),
        b"\x021A\x1789\r\n"
    );
}

#[test]
fn restricted_set_is_exactly_lis01_list() {
    let listed = [
        0x01, STX, ETX, EOT, ENQ, ACK, LF, 0x10, 0x11, 0x12, 0x13, 0x14, NAK, 0x16, ETB,
    ];
    for b in 0..=255u8 {
        assert_eq!(is_restricted(b), listed.contains(&b), "byte {b:#04x}");
    }
}

#[test]
fn write_frame_rejects_restricted_characters_and_writes_nothing() {
    let mut out = b"keep".to_vec();
    let err = write_frame(&mut out, fnum(1), FrameKind::Last, b"ab\x03c").unwrap_err();
    assert_eq!(
        err,
        Error::RestrictedByte {
            offset: 2,
            byte: ETX
        }
    );
    assert_eq!(out, b"keep");
    // CR, NUL and 8-bit bytes are allowed.
    write_frame(&mut out, fnum(1), FrameKind::Last, b"\r\x00\xb5\xff").unwrap();
}

#[test]
fn encode_splits_at_max_text_and_numbers_frames() {
    let text = vec![b'x'; 500];
    let frames: Vec<_> = encode_message(&text, 240, FrameNumber::FIRST)
        .unwrap()
        .map(|f| (f.number().value(), f.kind(), f.text().len()))
        .collect();
    assert_eq!(
        frames,
        [
            (1, FrameKind::Intermediate, 240),
            (2, FrameKind::Intermediate, 240),
            (3, FrameKind::Last, 20)
        ]
    );
    let mut wire = Vec::new();
    let next = encode_message_into(&mut wire, &text, 240, FrameNumber::FIRST).unwrap();
    assert_eq!(next, fnum(4));
    assert_eq!(wire.len(), 500 + 3 * FRAME_OVERHEAD);
}

#[test]
fn empty_message_is_one_empty_last_frame() {
    let frames: Vec<_> = encode_message(b"", 240, FrameNumber::FIRST)
        .unwrap()
        .collect();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].kind(), FrameKind::Last);
    let mut wire = Vec::new();
    encode_message_into(&mut wire, b"", 240, FrameNumber::FIRST).unwrap();
    // '1' + ETX = 0x34
    assert_eq!(wire, b"\x021\x0334\r\n");
}

#[test]
fn exact_multiple_of_max_text_has_no_trailing_empty_frame() {
    let text = vec![b'y'; 480];
    let kinds: Vec<_> = encode_message(&text, 240, FrameNumber::FIRST)
        .unwrap()
        .map(|f| f.kind())
        .collect();
    assert_eq!(kinds, [FrameKind::Intermediate, FrameKind::Last]);
    assert_eq!(frame_count(480, 240), 2);
    assert_eq!(frame_count(0, 240), 1);
    assert_eq!(frame_count(481, 240), 3);
    assert_eq!(frame_count(5, 0), 5);
}

#[test]
fn frame_numbers_wrap_from_7_to_0() {
    let mut frames = encode_message(b"abcd", 1, fnum(6)).unwrap();
    assert_eq!(frames.len(), 4);
    let numbers: Vec<u8> = frames.by_ref().map(|f| f.number().value()).collect();
    assert_eq!(numbers, [6, 7, 0, 1]);
    assert_eq!(frames.next_number(), fnum(2));
}

#[test]
fn max_text_must_be_between_1_and_64000() {
    for bad in [0, MAX_TEXT_LIMIT + 1] {
        assert!(matches!(
            encode_message(b"a", bad, FrameNumber::FIRST),
            Err(Error::InvalidConfig {
                field: "max_text",
                ..
            })
        ));
    }
    assert!(encode_message(b"a", MAX_TEXT_LIMIT, FrameNumber::FIRST).is_ok());
}

#[test]
fn encode_message_rejects_restricted_text() {
    assert_eq!(
        encode_message(b"H|\\^&\r\nP|1", 240, FrameNumber::FIRST).unwrap_err(),
        Error::RestrictedByte {
            offset: 6,
            byte: LF
        }
    );
}

#[test]
fn frame_number_and_control_conversions() {
    assert_eq!(FrameNumber::new(8), None);
    assert_eq!(FrameNumber::from_digit(b'8'), None);
    assert_eq!(FrameNumber::from_digit(b'0'), Some(FrameNumber::ZERO));
    assert_eq!(fnum(7).next(), FrameNumber::ZERO);
    assert_eq!(fnum(3).digit(), b'3');
    assert_eq!(fnum(5).to_string(), "5");
    for c in [Control::Enq, Control::Ack, Control::Nak, Control::Eot] {
        assert_eq!(Control::from_byte(c.byte()), Some(c));
    }
    assert_eq!(Control::from_byte(STX), None);
    assert_eq!(
        FrameKind::from_terminator(ETB),
        Some(FrameKind::Intermediate)
    );
    assert_eq!(FrameKind::from_terminator(CR), None);
}

// --- decoding --------------------------------------------------------------------------------

#[test]
fn decodes_a_frame_in_any_chunking() {
    let wire = frame_bytes(1, FrameKind::Last, b"H|\\^&\r");
    let items = decode_both(240, &wire);
    assert_eq!(items, [good(0, 1, FrameKind::Last, b"H|\\^&\r")]);
}

#[test]
fn frames_and_controls_in_one_chunk_with_offsets() {
    let mut wire = vec![ENQ];
    let f1 = frame_bytes(1, FrameKind::Intermediate, b"abc");
    let f2 = frame_bytes(2, FrameKind::Last, b"de\r");
    wire.extend_from_slice(&f1);
    wire.push(ACK);
    wire.extend_from_slice(&f2);
    wire.push(EOT);
    let f2_at = 1 + f1.len() as u64 + 1;
    assert_eq!(
        decode_both(240, &wire),
        [
            Item::Control(Control::Enq, 0),
            good(1, 1, FrameKind::Intermediate, b"abc"),
            Item::Control(Control::Ack, 1 + f1.len() as u64),
            good(f2_at, 2, FrameKind::Last, b"de\r"),
            Item::Control(Control::Eot, f2_at + f2.len() as u64),
        ]
    );
}

#[test]
fn bytes_outside_frames_are_reported_as_junk() {
    let mut wire = b"H|\\^&\rL|1\r".to_vec();
    wire.extend_from_slice(&frame_bytes(1, FrameKind::Last, b"x"));
    assert_eq!(
        decode_both(240, &wire),
        [
            Item::Junk(b"H|\\^&\rL|1\r".to_vec(), 0),
            good(10, 1, FrameKind::Last, b"x"),
        ]
    );
}

#[test]
fn checksum_forms_are_reported() {
    // '1' + 'x' + ETX = 0x31 + 0x78 + 0x03 = 0xAC
    let cases: [(&[u8], Checksum); 7] = [
        (b"AC\r\n", Checksum::Valid),
        (b"ac\r\n", Checksum::Lowercase),
        (b"aC\r\n", Checksum::Lowercase),
        (
            b"AD\r\n",
            Checksum::Mismatch {
                computed: 0xAC,
                received: 0xAD,
            },
        ),
        (b"\r\n", Checksum::Missing { computed: 0xAC }),
        (b"", Checksum::Missing { computed: 0xAC }),
        (
            b"A\r\n",
            Checksum::Mismatch {
                computed: 0xAC,
                received: 0x0A,
            },
        ),
    ];
    for (tail, expected) in cases {
        let mut wire = b"\x021x\x03".to_vec();
        wire.extend_from_slice(tail);
        wire.push(EOT); // completes a checksum that is cut short
        let items = decode_both(240, &wire);
        let Item::Frame { checksum, .. } = &items[0] else {
            panic!("{items:?}")
        };
        assert_eq!(*checksum, expected, "tail {tail:?}");
        assert_eq!(
            items[1..],
            [Item::Control(Control::Eot, wire.len() as u64 - 1)]
        );
    }
    // A single digit that matches: '0' + 0xC0 + ETB = 0x30 + 0xC0 + 0x17 = 0x107 → 0x07, sent as "7".
    let items = decode_both(240, b"\x020\xc0\x177\r\n");
    let Item::Frame { checksum, .. } = &items[0] else {
        panic!("{items:?}")
    };
    assert_eq!(*checksum, Checksum::OneDigit);
}

#[test]
fn checksum_and_body_split_across_chunks() {
    let wire = frame_bytes(3, FrameKind::Last, b"hello\r");
    for cut in 1..wire.len() {
        let (a, b) = wire.split_at(cut);
        assert_eq!(
            decode_chunks(240, &[a, b]),
            [good(0, 3, FrameKind::Last, b"hello\r")],
            "cut at {cut}"
        );
    }
}

#[test]
fn every_trailer_variant_is_accepted() {
    let f1 = frame_bytes(1, FrameKind::Intermediate, b"ab");
    let f1 = &f1[..f1.len() - 2]; // without CR LF
    let f2 = frame_bytes(2, FrameKind::Last, b"cd");
    for trailer in [&b"\r\n"[..], b"\n", b"\r", b""] {
        let mut wire = f1.to_vec();
        wire.extend_from_slice(trailer);
        wire.extend_from_slice(&f2);
        let f2_at = (f1.len() + trailer.len()) as u64;
        assert_eq!(
            decode_both(240, &wire),
            [
                good(0, 1, FrameKind::Intermediate, b"ab"),
                good(f2_at, 2, FrameKind::Last, b"cd")
            ],
            "trailer {trailer:?}"
        );
    }
}

#[test]
fn bytes_after_the_trailer_are_junk() {
    let mut wire = frame_bytes(1, FrameKind::Last, b"a");
    let len = wire.len() as u64;
    wire.extend_from_slice(b"\r\n");
    assert_eq!(
        decode_both(240, &wire),
        [
            good(0, 1, FrameKind::Last, b"a"),
            Item::Junk(b"\r\n".to_vec(), len)
        ]
    );
}

#[test]
fn frame_of_exactly_max_text_is_accepted_longer_is_discarded_then_resync() {
    let ok = frame_bytes(1, FrameKind::Intermediate, b"abcd");
    assert_eq!(
        decode_both(4, &ok),
        [good(0, 1, FrameKind::Intermediate, b"abcd")]
    );

    let mut wire = frame_bytes(1, FrameKind::Last, b"abcdef");
    let next_at = wire.len() as u64;
    wire.extend_from_slice(&frame_bytes(2, FrameKind::Last, b"ok"));
    assert_eq!(
        decode_both(4, &wire),
        [
            Item::Error(Error::FrameTooLong {
                offset: 0,
                number_byte: b'1',
                limit: 4
            }),
            good(next_at, 2, FrameKind::Last, b"ok"),
        ]
    );
}

#[test]
fn oversized_frame_is_not_buffered() {
    let mut decoder = FrameDecoder::new(8);
    let mut wire = vec![STX, b'1'];
    wire.extend_from_slice(&[b'z'; 10_000]);
    for chunk in wire.chunks(7) {
        let (used, item) = decoder.decode(chunk);
        assert_eq!(used, chunk.len());
        assert!(item.is_none());
        assert!(decoder.partial.len() <= 9);
    }
    assert!(decoder.in_frame());
    let (_, item) = decoder.decode(b"\x03FF\r\n");
    assert_eq!(
        item.map(owned),
        Some(Item::Error(Error::FrameTooLong {
            offset: 0,
            number_byte: b'1',
            limit: 8
        }))
    );
}

#[test]
fn control_characters_cut_a_frame_short() {
    for byte in [EOT, ENQ, ACK, NAK] {
        let wire = [STX, b'1', b'a', b'b', byte];
        let control = Control::from_byte(byte).unwrap();
        assert_eq!(
            decode_both(240, &wire),
            [
                Item::Error(Error::FrameInterrupted {
                    offset: 0,
                    at: 4,
                    byte
                }),
                Item::Control(control, 4),
            ]
        );
    }
    // A second STX starts a new frame.
    let mut wire = vec![STX, b'1', b'a'];
    wire.extend_from_slice(&frame_bytes(2, FrameKind::Last, b"b"));
    assert_eq!(
        decode_both(240, &wire),
        [
            Item::Error(Error::FrameInterrupted {
                offset: 0,
                at: 3,
                byte: STX
            }),
            good(3, 2, FrameKind::Last, b"b"),
        ]
    );
}

#[test]
fn control_character_ends_an_oversized_frame_too() {
    let mut wire = vec![STX, b'1'];
    wire.extend_from_slice(b"abcdefgh");
    wire.push(EOT);
    assert_eq!(
        decode_both(4, &wire),
        [
            Item::Error(Error::FrameInterrupted {
                offset: 0,
                at: 10,
                byte: EOT
            }),
            Item::Control(Control::Eot, 10),
        ]
    );
}

#[test]
fn frame_without_number_is_an_error_and_its_checksum_is_skipped() {
    let wire = b"\x02\x0334\r\n\x05";
    assert_eq!(
        decode_both(240, wire),
        [
            Item::Error(Error::EmptyFrame { offset: 0 }),
            Item::Control(Control::Enq, 6)
        ]
    );
}

#[test]
fn non_digit_frame_number_is_reported_as_received() {
    // 'A' + 'x' + ETX = 0x41 + 0x78 + 0x03 = 0xBC
    let items = decode_both(240, b"\x02Ax\x03BC\r\n");
    assert_eq!(
        items,
        [Item::Frame {
            offset: 0,
            number_byte: b'A',
            kind: FrameKind::Last,
            text: b"x".to_vec(),
            checksum: Checksum::Valid
        }]
    );
    let mut decoder = FrameDecoder::new(240);
    let (_, item) = decoder.decode(b"\x028x\x03B3");
    let Some(FrameItem::Frame(frame)) = item else {
        panic!()
    };
    assert_eq!(frame.number(), None);
}

#[test]
fn cobas_c111_style_etb_after_every_record_reassembles_to_one_message() {
    let records: [&[u8]; 3] = [b"H|\\^&|||c111^Roche\r", b"P|1\r", b"L|1|N\r"];
    let mut wire = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let kind = if i == 2 {
            FrameKind::Last
        } else {
            FrameKind::Intermediate
        };
        wire.extend_from_slice(&frame_bytes(i as u8 + 1, kind, record));
    }
    let mut decoder = FrameDecoder::new(240);
    let mut reassembler = Reassembler::new(1000);
    let mut done = Vec::new();
    decoder.decode_each(&wire, |item| {
        let FrameItem::Frame(frame) = item else {
            panic!()
        };
        if let Some(message) = reassembler.push(&frame).unwrap() {
            done.push(message);
        }
    });
    assert_eq!(
        done,
        [Reassembled {
            text: records.concat(),
            frames: 3
        }]
    );
    assert!(reassembler.is_empty());
}

#[test]
fn reassembler_caps_message_size_and_keeps_the_partial() {
    let mut reassembler = Reassembler::new(10);
    let f = |text: &'static [u8], kind| Frame {
        offset: 99,
        number_byte: b'1',
        kind,
        text,
        checksum: Checksum::Valid,
    };
    assert_eq!(
        reassembler.push(&f(b"123456", FrameKind::Intermediate)),
        Ok(None)
    );
    assert_eq!(
        reassembler.push(&f(b"789012", FrameKind::Last)),
        Err(Error::MessageTooLarge {
            size: 12,
            limit: 10,
            offset: Some(99)
        })
    );
    assert_eq!((reassembler.len(), reassembler.frames()), (6, 1));
    assert_eq!(
        reassembler.take_partial(),
        Some(Reassembled {
            text: b"123456".to_vec(),
            frames: 1
        })
    );
    assert_eq!(reassembler.take_partial(), None);
    // An empty last frame is an empty message.
    assert_eq!(
        reassembler.push(&f(b"", FrameKind::Last)),
        Ok(Some(Reassembled {
            text: Vec::new(),
            frames: 1
        }))
    );
    // Exactly at the limit is fine.
    assert!(
        reassembler
            .push(&f(b"0123456789", FrameKind::Last))
            .unwrap()
            .is_some()
    );
}

#[test]
fn decoder_clamps_max_text() {
    assert_eq!(FrameDecoder::new(0).max_text(), 1);
    assert_eq!(FrameDecoder::new(usize::MAX).max_text(), MAX_TEXT_LIMIT);
}

#[test]
fn reset_drops_a_partial_frame() {
    let mut decoder = FrameDecoder::new(240);
    assert_eq!(decoder.decode(b"\x021abc").0, 5);
    assert!(decoder.in_frame());
    decoder.reset();
    assert!(!decoder.in_frame());
    let (_, item) = decoder.decode(b"def");
    assert_eq!(item.map(owned), Some(Item::Junk(b"def".to_vec(), 5)));
}

#[test]
fn sniffing_framed_and_raw_streams() {
    assert_eq!(looks_framed(b"\x05"), Some(true));
    assert_eq!(looks_framed(b"\r\n\x021H|"), Some(true));
    assert_eq!(looks_framed(b"\x04"), Some(true));
    assert_eq!(looks_framed(b"H|\\^&|||"), Some(false));
    assert_eq!(looks_framed(b"h|\\^&"), Some(false));
    assert_eq!(looks_framed(b"H@^\\"), Some(false));
    assert_eq!(looks_framed(b"H"), None);
    assert_eq!(looks_framed(b""), None);
    assert_eq!(looks_framed(b"\r\n"), None);
    assert_eq!(looks_framed(b"HELLO"), None);
    assert_eq!(looks_framed(b"MSH|^~\\&"), None);
}

#[test]
fn checksum_verdicts_default_and_strict() {
    let default = FrameOptions::default();
    let strict = FrameOptions::strict();
    let mismatch = Checksum::Mismatch {
        computed: 1,
        received: 2,
    };
    let missing = Checksum::Missing { computed: 1 };
    use ChecksumVerdict::*;
    let cases = [
        (Checksum::Valid, Accept, Accept),
        (Checksum::Lowercase, Accept, Reject),
        (Checksum::OneDigit, AcceptWithWarning, Reject),
        (missing, Reject, Reject),
        (mismatch, Reject, Reject),
    ];
    for (checksum, by_default, strictly) in cases {
        assert_eq!(default.checksum_verdict(checksum), by_default, "{checksum}");
        assert_eq!(strict.checksum_verdict(checksum), strictly, "{checksum}");
    }
    let lenient = FrameOptions {
        checksum_mismatch: ChecksumPolicy::WarnAndAccept,
        checksum_missing: ChecksumPolicy::Ignore,
        ..FrameOptions::default()
    };
    assert_eq!(lenient.checksum_verdict(mismatch), AcceptWithWarning);
    assert_eq!(lenient.checksum_verdict(missing), Accept);
}

// --- properties ------------------------------------------------------------------------------

/// Message text: any byte E1381 allows in frame text (everything but the restricted
/// characters; CR and 8-bit bytes included).
fn text_strategy() -> impl Strategy<Value = Vec<u8>> {
    let allowed: Vec<u8> = (0..=255u8).filter(|&b| !is_restricted(b)).collect();
    let byte = prop_oneof![4 => prop::sample::select(allowed), 1 => Just(CR)];
    prop::collection::vec(byte, 0..1500)
}

fn max_text_strategy() -> impl Strategy<Value = usize> {
    prop_oneof![1usize..=8, 1usize..=300, 1usize..=MAX_TEXT_LIMIT]
}

#[test]
fn the_body_scan_stops_at_every_terminator_and_interrupt() {
    let stops = [STX, ETX, EOT, ENQ, ACK, NAK, ETB];
    for byte in 0..=255u8 {
        assert_eq!(ends_body(byte), stops.contains(&byte), "{byte:#04x}");
    }
    // Every length around the 16-byte blocks, each stop byte at every position; CR and
    // 8-bit bytes do not stop the scan.
    for len in 0..=70usize {
        let plain: Vec<u8> = (0..len).map(|i| [b'a', CR, 0xE9, b'|'][i % 4]).collect();
        assert_eq!(find_body_end(&plain), None, "{len}");
        for at in 0..len {
            for stop in stops {
                let mut bytes = plain.clone();
                bytes[at] = stop;
                bytes[len - 1] = if at == len - 1 { stop } else { ETX };
                assert_eq!(find_body_end(&bytes), Some(at), "{len} {at} {stop:#04x}");
            }
        }
    }
}

/// Cuts `wire` at the given positions (taken modulo its length).
fn chunked<'a>(wire: &'a [u8], cuts: &[prop::sample::Index]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
    at.push(0);
    at.push(wire.len());
    at.sort_unstable();
    at.windows(2).map(|w| &wire[w[0]..w[1]]).collect()
}

proptest! {
    #[test]
    fn the_body_scan_matches_a_byte_loop(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        prop_assert_eq!(find_body_end(&bytes), bytes.iter().position(|&b| ends_body(b)));
        let original = bytes.iter().position(|&b| b == ETX || b == ETB);
        let cut = original.map_or(bytes.len(), |t| t);
        let interrupt = bytes[..cut]
            .iter()
            .position(|&b| matches!(b, STX | ENQ | EOT | ACK | NAK));
        // The single scan finds what the terminator search followed by the interrupt
        // search found.
        prop_assert_eq!(find_body_end(&bytes), interrupt.or(original));
    }

    #[test]
    fn encode_decode_reassemble_is_identity(
        text in text_strategy(),
        max_text in max_text_strategy(),
        first in 0u8..8,
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..24),
    ) {
        let first = fnum(first);
        let mut wire = vec![ENQ];
        let next = encode_message_into(&mut wire, &text, max_text, first).unwrap();
        wire.push(EOT);

        let mut decoder = FrameDecoder::new(max_text);
        let mut reassembler = Reassembler::new(text.len());
        let mut expected_number = first;
        let mut messages = Vec::new();
        let mut controls = Vec::new();
        for chunk in chunked(&wire, &cuts) {
            decoder.decode_each(chunk, |item| match item {
                FrameItem::Frame(frame) => {
                    assert_eq!(frame.checksum, Checksum::Valid);
                    assert_eq!(frame.number(), Some(expected_number));
                    assert!(frame.text.len() <= max_text);
                    expected_number = expected_number.next();
                    if let Some(message) = reassembler.push(&frame).unwrap() {
                        messages.push(message);
                    }
                }
                FrameItem::Control { control, .. } => controls.push(control),
                other => panic!("unexpected {other:?}"),
            });
        }
        prop_assert_eq!(controls, [Control::Enq, Control::Eot]);
        prop_assert_eq!(expected_number, next);
        prop_assert_eq!(messages.len(), 1);
        prop_assert_eq!(messages[0].frames as usize, frame_count(text.len(), max_text));
        prop_assert_eq!(&messages[0].text, &text);
        prop_assert_eq!(decoder.position(), wire.len() as u64);
    }

    #[test]
    fn decoder_consumes_any_input_without_panicking(
        input in prop::collection::vec(
            prop_oneof![
                3 => any::<u8>(),
                1 => prop::sample::select(vec![STX, ETX, ETB, EOT, ENQ, ACK, NAK, CR, LF, b'1', b'A']),
            ],
            0..600,
        ),
        max_text in 1usize..40,
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let whole = decode_whole(max_text, &input);
        let pieces = decode_chunks(max_text, &chunked(&input, &cuts));
        prop_assert_eq!(&whole, &pieces);
        let mut last_offset = 0;
        for item in &whole {
            let offset = match item {
                Item::Frame { offset, text, .. } => {
                    prop_assert!(text.len() <= max_text);
                    *offset
                }
                Item::Control(_, offset) | Item::Junk(_, offset) => *offset,
                Item::Error(Error::FrameTooLong { offset, .. })
                | Item::Error(Error::EmptyFrame { offset })
                | Item::Error(Error::FrameInterrupted { offset, .. }) => *offset,
                Item::Error(other) => panic!("unexpected {other:?}"),
            };
            prop_assert!(offset >= last_offset && offset < input.len() as u64);
            last_offset = offset;
        }
    }
}
