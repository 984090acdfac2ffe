//! Unit tests of the link state machine: explicit bytes in, explicit times, exact bytes and
//! events out.

use super::*;
use crate::frame::{Checksum, ChecksumPolicy, ETB, ETX, STX, write_frame};

const SEC: u64 = 1000;

fn t(millis: u64) -> Instant {
    Instant::from_millis(millis)
}

fn link(role: Role) -> Link {
    Link::new(LinkConfig::new(role)).unwrap()
}

fn link_with(role: Role, edit: impl FnOnce(&mut LinkConfig)) -> Link {
    let mut config = LinkConfig::new(role);
    edit(&mut config);
    Link::new(config).unwrap()
}

fn fnum(n: u8) -> FrameNumber {
    FrameNumber::new(n).unwrap()
}

fn frame(n: u8, kind: FrameKind, text: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_frame(&mut out, fnum(n), kind, text).unwrap();
    out
}

fn last(n: u8, text: &[u8]) -> Vec<u8> {
    frame(n, FrameKind::Last, text)
}

fn mid(n: u8, text: &[u8]) -> Vec<u8> {
    frame(n, FrameKind::Intermediate, text)
}

fn events(link: &mut Link) -> Vec<LinkEvent> {
    std::iter::from_fn(|| link.poll_event()).collect()
}

/// Events other than session starts/ends.
fn main_events(link: &mut Link) -> Vec<LinkEvent> {
    events(link)
        .into_iter()
        .filter(|e| {
            !matches!(
                e,
                LinkEvent::SessionStarted { .. } | LinkEvent::SessionEnded { .. }
            )
        })
        .collect()
}

fn received(text: &[u8], frames: u32) -> LinkEvent {
    LinkEvent::MessageReceived {
        text: text.to_vec(),
        frames,
        warnings: Vec::new(),
    }
}

/// A computer link with a receive session open at time 0; output and events drained.
fn receiving() -> Link {
    receiving_with(|_| {})
}

fn receiving_with(edit: impl FnOnce(&mut LinkConfig)) -> Link {
    let mut link = link_with(Role::Computer, edit);
    link.handle_bytes(&[ENQ], t(0));
    assert_eq!(link.take_output(), [ACK]);
    assert_eq!(link.state(), LinkState::Receiving);
    events(&mut link);
    link
}

/// An instrument link that sent ENQ for `text` at time 0 and got ACK at 1 s: frame 1 is out.
fn sending(text: &[u8]) -> (Link, MessageId) {
    sending_with(text, |_| {})
}

fn sending_with(text: &[u8], edit: impl FnOnce(&mut LinkConfig)) -> (Link, MessageId) {
    let mut link = link_with(Role::Instrument, edit);
    let id = link.send(text.to_vec(), t(0)).unwrap();
    assert_eq!(link.take_output(), [ENQ]);
    link.handle_bytes(&[ACK], t(SEC));
    assert_eq!(link.state(), LinkState::Sending);
    assert_eq!(
        events(&mut link),
        [LinkEvent::SessionStarted {
            direction: Direction::Sending
        }]
    );
    (link, id)
}

// --- configuration and time ------------------------------------------------------------------

#[test]
fn invalid_configuration_is_rejected() {
    type Edit = fn(&mut LinkConfig);
    let cases: [(&str, Edit); 8] = [
        ("max_text", |c| c.max_text = 0),
        ("max_text", |c| c.max_text = 64_001),
        ("frame.max_text", |c| c.frame.max_text = 0),
        ("max_queue", |c| c.max_queue = 0),
        ("max_events", |c| c.max_events = 0),
        ("establishment_attempts", |c| c.establishment_attempts = 0),
        ("frame_attempts", |c| c.frame_attempts = 0),
        ("timeouts.reply", |c| c.timeouts.reply = Duration::ZERO),
    ];
    for (field, edit) in cases {
        let mut config = LinkConfig::new(Role::Computer);
        edit(&mut config);
        assert!(
            matches!(Link::new(config), Err(Error::InvalidConfig { field: f, .. }) if f == field),
            "{field}"
        );
    }
}

#[test]
fn instant_arithmetic_saturates() {
    assert_eq!(t(1).saturating_add(Duration::from_secs(2)), t(2001));
    assert_eq!(t(u64::MAX - 1).saturating_add(Duration::MAX), t(u64::MAX));
    assert_eq!(t(5).saturating_duration_since(t(9)), Duration::ZERO);
    assert_eq!(
        t(9).saturating_duration_since(t(5)),
        Duration::from_millis(4)
    );
    assert_eq!(Instant::from_millis(15_000).as_millis(), 15_000);
}

#[test]
fn idle_link_has_no_deadline_and_no_output() {
    let mut link = link(Role::Computer);
    assert_eq!(link.next_deadline(), None);
    link.handle_timeout(t(1_000_000));
    assert!(!link.has_output());
    assert_eq!(link.state(), LinkState::Neutral);
}

// --- establishment ---------------------------------------------------------------------------

#[test]
fn send_on_a_neutral_line_sends_enq_and_waits_15_s() {
    let mut link = link(Role::Instrument);
    let id = link.send(b"L|1|N\r".to_vec(), t(500)).unwrap();
    assert_eq!(id.get(), 0);
    assert_eq!(link.take_output(), [ENQ]);
    assert_eq!(link.state(), LinkState::Establishing);
    assert_eq!(link.next_deadline(), Some(t(15_500)));
    assert_eq!(link.queued(), 1);
}

#[test]
fn ack_to_enq_starts_the_transfer_with_frame_1() {
    let (mut link, _) = sending(b"L|1|N\r");
    assert_eq!(link.take_output(), last(1, b"L|1|N\r"));
    assert_eq!(link.next_deadline(), Some(t(16 * SEC)));
}

#[test]
fn nak_to_enq_waits_10_s_then_sends_enq_again() {
    let mut link = link(Role::Instrument);
    link.send(b"x".to_vec(), t(0)).unwrap();
    assert_eq!(link.take_output(), [ENQ]);
    link.handle_bytes(&[NAK], t(2 * SEC));
    assert!(!link.has_output());
    assert_eq!(link.state(), LinkState::Neutral);
    assert_eq!(link.next_deadline(), Some(t(12 * SEC)));
    assert_eq!(link.hold_until(), Some(t(12 * SEC)));
    link.handle_timeout(t(12 * SEC - 1));
    assert!(!link.has_output());
    link.handle_timeout(t(12 * SEC));
    assert_eq!(link.take_output(), [ENQ]);
    assert_eq!(link.next_deadline(), Some(t(27 * SEC)));
}

#[test]
fn unanswered_enq_times_out_sends_eot_and_retries_after_10_s() {
    let mut link = link(Role::Instrument);
    link.send(b"x".to_vec(), t(0)).unwrap();
    assert_eq!(link.take_output(), [ENQ]);
    link.handle_timeout(t(15 * SEC - 1));
    assert!(!link.has_output());
    link.handle_timeout(t(15 * SEC));
    assert_eq!(link.take_output(), [EOT]);
    assert_eq!(link.state(), LinkState::Neutral);
    assert_eq!(link.next_deadline(), Some(t(25 * SEC)));
    link.handle_timeout(t(25 * SEC));
    assert_eq!(link.take_output(), [ENQ]);
}

#[test]
fn establishment_gives_up_after_6_attempts() {
    let mut link = link(Role::Instrument);
    let id = link.send(b"msg".to_vec(), t(0)).unwrap();
    let mut now = 0;
    for attempt in 1..=6 {
        assert_eq!(link.take_output(), [ENQ], "attempt {attempt}");
        now += SEC;
        link.handle_bytes(&[NAK], t(now));
        now += 10 * SEC;
        link.handle_timeout(t(now));
    }
    assert!(!link.has_output());
    assert_eq!(link.queued(), 0);
    assert_eq!(link.next_deadline(), None);
    assert_eq!(
        events(&mut link),
        [LinkEvent::Failed {
            id,
            reason: FailReason::NotEstablished {
                attempts: 6,
                last: EstablishFailure::Busy
            },
            text: b"msg".to_vec(),
        }]
    );
}

#[test]
fn the_next_message_gets_fresh_attempts() {
    let mut link = link_with(Role::Instrument, |c| c.establishment_attempts = 2);
    let first = link.send(b"a".to_vec(), t(0)).unwrap();
    let second = link.send(b"b".to_vec(), t(0)).unwrap();
    assert_eq!(link.take_output(), [ENQ]);
    link.handle_timeout(t(15 * SEC)); // attempt 1: no reply
    assert_eq!(link.take_output(), [EOT]);
    link.handle_timeout(t(25 * SEC));
    assert_eq!(link.take_output(), [ENQ]);
    link.handle_bytes(&[NAK], t(26 * SEC)); // attempt 2: busy → first fails
    let failed: Vec<_> = events(&mut link);
    assert!(matches!(
        failed.as_slice(),
        [LinkEvent::Failed { id, reason: FailReason::NotEstablished { attempts: 2, last: EstablishFailure::Busy }, .. }]
            if *id == first
    ));
    // The busy hold still applies to the next message.
    link.handle_timeout(t(36 * SEC));
    assert_eq!(link.take_output(), [ENQ]);
    link.handle_bytes(&[ACK], t(37 * SEC));
    assert_eq!(link.take_output(), last(1, b"b"));
    link.handle_bytes(&[ACK], t(38 * SEC));
    assert_eq!(link.take_output(), [EOT]);
    assert!(main_events(&mut link).contains(&LinkEvent::Delivered { id: second }));
}

#[test]
fn other_bytes_during_establishment_are_ignored() {
    let mut link = link(Role::Instrument);
    link.send(b"x".to_vec(), t(0)).unwrap();
    link.take_output();
    link.handle_bytes(b"\r\nzz\x04", t(SEC));
    assert!(!link.has_output());
    assert_eq!(link.state(), LinkState::Establishing);
    assert_eq!(
        events(&mut link),
        [
            LinkEvent::Warning(Warning::IgnoredBytes { offset: 0, len: 4 }),
            LinkEvent::Warning(Warning::UnexpectedControl {
                offset: 4,
                control: Control::Eot
            }),
        ]
    );
    link.handle_bytes(&[ACK], t(2 * SEC));
    assert_eq!(link.take_output(), last(1, b"x"));
}

// --- contention ------------------------------------------------------------------------------

#[test]
fn computer_yields_on_contention_and_answers_the_instruments_next_enq() {
    let mut lis = link(Role::Computer);
    lis.send(b"O|1\r".to_vec(), t(0)).unwrap();
    assert_eq!(lis.take_output(), [ENQ]);
    lis.handle_bytes(&[ENQ], t(100)); // the instrument's ENQ crossed ours
    assert!(
        !lis.has_output(),
        "the computer must not answer the colliding ENQ"
    );
    assert_eq!(lis.state(), LinkState::Neutral);
    assert_eq!(lis.hold_until(), Some(t(20_100)));
    // The instrument waits 1 s and sends ENQ again.
    lis.handle_bytes(&[ENQ], t(1_100));
    assert_eq!(lis.take_output(), [ACK]);
    assert_eq!(lis.state(), LinkState::Receiving);
    lis.handle_bytes(&last(1, b"R|1\r"), t(1_200));
    assert_eq!(lis.take_output(), [ACK]);
    // After the instrument's EOT the computer may send at once.
    lis.handle_bytes(&[EOT], t(1_300));
    assert_eq!(lis.take_output(), [ENQ]);
    assert_eq!(lis.hold_until(), None);
    assert!(main_events(&mut lis).contains(&received(b"R|1\r", 1)));
    lis.handle_bytes(&[ACK], t(1_400));
    assert_eq!(lis.take_output(), last(1, b"O|1\r"));
}

#[test]
fn computer_retries_when_the_instrument_does_not_follow_up_within_20_s() {
    let mut lis = link_with(Role::Computer, |c| c.establishment_attempts = 2);
    let id = lis.send(b"O|1\r".to_vec(), t(0)).unwrap();
    lis.take_output();
    lis.handle_bytes(&[ENQ], t(0));
    assert_eq!(lis.next_deadline(), Some(t(20 * SEC)));
    lis.handle_timeout(t(20 * SEC - 1));
    assert!(!lis.has_output());
    lis.handle_timeout(t(20 * SEC));
    assert_eq!(
        lis.take_output(),
        [ENQ],
        "contention without follow-up counts as one attempt"
    );
    lis.handle_bytes(&[ENQ], t(21 * SEC));
    lis.handle_timeout(t(41 * SEC));
    assert!(!lis.has_output());
    assert_eq!(
        events(&mut lis),
        [LinkEvent::Failed {
            id,
            reason: FailReason::NotEstablished {
                attempts: 2,
                last: EstablishFailure::Contention
            },
            text: b"O|1\r".to_vec(),
        }]
    );
}

#[test]
fn instrument_waits_1_s_and_sends_enq_again_on_contention() {
    let mut analyser = link(Role::Instrument);
    analyser.send(b"R|1\r".to_vec(), t(0)).unwrap();
    assert_eq!(analyser.take_output(), [ENQ]);
    analyser.handle_bytes(&[ENQ], t(200));
    assert!(!analyser.has_output());
    assert_eq!(analyser.next_deadline(), Some(t(1_200)));
    analyser.handle_timeout(t(1_199));
    assert!(!analyser.has_output());
    analyser.handle_timeout(t(1_200));
    assert_eq!(analyser.take_output(), [ENQ]);
    analyser.handle_bytes(&[ACK], t(1_300));
    assert_eq!(analyser.take_output(), last(1, b"R|1\r"));
}

#[test]
fn instrument_counts_contention_as_a_failed_attempt() {
    let mut analyser = link_with(Role::Instrument, |c| c.establishment_attempts = 2);
    analyser.send(b"R".to_vec(), t(0)).unwrap();
    analyser.take_output();
    analyser.handle_bytes(&[ENQ], t(0));
    analyser.handle_timeout(t(SEC));
    assert_eq!(analyser.take_output(), [ENQ]);
    analyser.handle_bytes(&[ENQ], t(SEC));
    assert!(matches!(
        events(&mut analyser).as_slice(),
        [LinkEvent::Failed {
            reason: FailReason::NotEstablished {
                attempts: 2,
                last: EstablishFailure::Contention
            },
            ..
        }]
    ));
}

// --- transfer --------------------------------------------------------------------------------

#[test]
fn a_long_message_goes_out_in_240_byte_frames() {
    let text = vec![b'a'; 500];
    let (mut link, id) = sending(&text);
    assert_eq!(link.take_output(), mid(1, &text[..240]));
    link.handle_bytes(&[ACK], t(2 * SEC));
    assert_eq!(link.take_output(), mid(2, &text[240..480]));
    assert_eq!(link.next_deadline(), Some(t(17 * SEC)));
    link.handle_bytes(&[ACK], t(3 * SEC));
    assert_eq!(link.take_output(), last(3, &text[480..]));
    link.handle_bytes(&[ACK], t(4 * SEC));
    assert_eq!(link.take_output(), [EOT]);
    assert_eq!(link.state(), LinkState::Neutral);
    assert_eq!(
        events(&mut link),
        [
            LinkEvent::Delivered { id },
            LinkEvent::SessionEnded {
                direction: Direction::Sending,
                reason: SessionEnd::Completed
            },
        ]
    );
    assert_eq!(link.next_deadline(), None);
}

#[test]
fn nak_retransmits_the_same_frame_with_the_same_number() {
    let (mut link, _) = sending(b"abc");
    let first = link.take_output();
    link.handle_bytes(&[NAK], t(2 * SEC));
    assert_eq!(link.take_output(), first);
    assert_eq!(link.next_deadline(), Some(t(17 * SEC)));
    link.handle_bytes(&[ACK], t(3 * SEC));
    assert_eq!(link.take_output(), [EOT]);
}

#[test]
fn garbage_in_reply_to_a_frame_counts_as_nak() {
    let (mut link, _) = sending(b"abc");
    let first = link.take_output();
    link.handle_bytes(b"?", t(2 * SEC));
    assert_eq!(link.take_output(), first);
    link.handle_bytes(&[ENQ], t(3 * SEC));
    assert_eq!(link.take_output(), first);

    let (mut tolerant, _) = sending_with(b"abc", |c| c.garbage_reply_is_nak = false);
    tolerant.take_output();
    tolerant.handle_bytes(b"\r\n", t(2 * SEC));
    assert!(!tolerant.has_output());
    tolerant.handle_bytes(&[ACK], t(3 * SEC));
    assert_eq!(tolerant.take_output(), [EOT]);
}

#[test]
fn replies_received_before_the_frame_is_written_are_stale() {
    let text = vec![b'q'; 600];
    let (mut link, _) = sending(&text);
    link.take_output();
    // A doubled ACK and a trailing CR LF in one read: only the first byte is the reply.
    link.handle_bytes(&[ACK, ACK, b'\r', b'\n'], t(2 * SEC));
    assert_eq!(link.take_output(), mid(2, &text[240..480]));
    assert_eq!(
        events(&mut link),
        [
            // (Offset 0 was the ACK to our ENQ.)
            LinkEvent::Warning(Warning::UnexpectedControl {
                offset: 2,
                control: Control::Ack
            }),
            LinkEvent::Warning(Warning::IgnoredBytes { offset: 3, len: 2 }),
        ]
    );
    // Also across calls, as long as the frame has not been taken.
    link.handle_bytes(&[ACK], t(3 * SEC));
    link.handle_bytes(&[NAK], t(3 * SEC));
    assert_eq!(link.take_output(), last(3, &text[480..]));
    link.handle_bytes(&[ACK], t(4 * SEC));
    assert_eq!(link.take_output(), [EOT]);
}

#[test]
fn six_failed_transmissions_abort_with_eot() {
    let (mut link, id) = sending(b"abc");
    let first = link.take_output();
    for n in 1..6 {
        link.handle_bytes(&[NAK], t((1 + n) * SEC));
        assert_eq!(link.take_output(), first, "retransmission {n}");
    }
    link.handle_bytes(&[NAK], t(7 * SEC));
    assert_eq!(link.take_output(), [EOT]);
    assert_eq!(link.state(), LinkState::Neutral);
    assert_eq!(
        events(&mut link),
        [
            LinkEvent::Failed {
                id,
                reason: FailReason::FrameRejected {
                    number: FrameNumber::FIRST,
                    attempts: 6
                },
                text: b"abc".to_vec(),
            },
            LinkEvent::SessionEnded {
                direction: Direction::Sending,
                reason: SessionEnd::Aborted
            },
        ]
    );
}

#[test]
fn after_an_abort_the_next_message_waits_10_s() {
    let (mut link, _) = sending_with(b"abc", |c| c.frame_attempts = 1);
    link.send(b"next".to_vec(), t(SEC)).unwrap();
    link.take_output();
    link.handle_bytes(&[NAK], t(2 * SEC));
    assert_eq!(link.take_output(), [EOT]);
    assert_eq!(link.next_deadline(), Some(t(12 * SEC)));
    link.handle_timeout(t(12 * SEC));
    assert_eq!(link.take_output(), [ENQ]);
    link.handle_bytes(&[ACK], t(13 * SEC));
    assert_eq!(link.take_output(), last(1, b"next"));
}

#[test]
fn no_reply_to_a_frame_within_15_s_aborts() {
    let (mut link, id) = sending(b"abc");
    link.take_output();
    link.handle_timeout(t(16 * SEC - 1));
    assert!(!link.has_output());
    link.handle_timeout(t(16 * SEC));
    assert_eq!(link.take_output(), [EOT]);
    assert_eq!(
        main_events(&mut link),
        [LinkEvent::Failed {
            id,
            reason: FailReason::ReplyTimeout {
                number: FrameNumber::FIRST
            },
            text: b"abc".to_vec(),
        }]
    );
}

#[test]
fn eot_in_reply_to_a_frame_is_a_receiver_interrupt() {
    let text = vec![b'q'; 300];
    let (mut link, id) = sending(&text);
    assert_eq!(link.take_output(), mid(1, &text[..240]));
    link.handle_bytes(&[EOT], t(2 * SEC));
    assert_eq!(link.take_output(), [EOT]);
    assert_eq!(link.state(), LinkState::Neutral);
    assert_eq!(link.queued(), 1, "the interrupted message stays queued");
    assert_eq!(
        events(&mut link),
        [LinkEvent::SessionEnded {
            direction: Direction::Sending,
            reason: SessionEnd::Interrupted
        }]
    );
    // No ENQ for 15 s.
    assert_eq!(link.next_deadline(), Some(t(17 * SEC)));
    link.handle_timeout(t(17 * SEC - 1));
    assert!(!link.has_output());
    link.handle_timeout(t(17 * SEC));
    assert_eq!(link.take_output(), [ENQ]);
    // The message starts over from its first frame.
    link.handle_bytes(&[ACK], t(18 * SEC));
    assert_eq!(link.take_output(), mid(1, &text[..240]));
    link.handle_bytes(&[ACK], t(19 * SEC));
    assert_eq!(link.take_output(), last(2, &text[240..]));
    link.handle_bytes(&[ACK], t(20 * SEC));
    assert_eq!(link.take_output(), [EOT]);
    assert!(main_events(&mut link).contains(&LinkEvent::Delivered { id }));
}

#[test]
fn interrupt_on_the_last_frame_delivers_the_message() {
    let (mut link, id) = sending(b"abc");
    link.take_output();
    link.handle_bytes(&[EOT], t(2 * SEC));
    assert_eq!(link.take_output(), [EOT]);
    assert_eq!(main_events(&mut link), [LinkEvent::Delivered { id }]);
}

#[test]
fn interrupt_hold_ends_when_the_other_side_has_sent() {
    let (mut link, _) = sending(b"abc");
    link.send(b"second".to_vec(), t(SEC)).unwrap();
    link.take_output();
    link.handle_bytes(&[EOT], t(2 * SEC)); // interrupt: the receiver wants to send
    assert_eq!(link.take_output(), [EOT]);
    link.handle_bytes(&[ENQ], t(3 * SEC));
    assert_eq!(link.take_output(), [ACK]);
    link.handle_bytes(&last(1, b"Q|1\r"), t(4 * SEC));
    assert_eq!(link.take_output(), [ACK]);
    link.handle_bytes(&[EOT], t(5 * SEC));
    assert_eq!(link.take_output(), [ENQ], "no need to wait the full 15 s");
}

#[test]
fn interrupt_can_be_ignored_by_configuration() {
    let text = vec![b'q'; 300];
    let (mut link, _) = sending_with(&text, |c| c.honor_receiver_interrupt = false);
    link.take_output();
    link.handle_bytes(&[EOT], t(2 * SEC));
    assert_eq!(link.take_output(), last(2, &text[240..]));
}

#[test]
fn several_messages_share_a_session_and_numbering_continues() {
    let mut link = link(Role::Instrument);
    let ids: Vec<_> = (0..8)
        .map(|i| link.send(vec![b'a' + i], t(0)).unwrap())
        .collect();
    assert_eq!(link.take_output(), [ENQ]);
    link.handle_bytes(&[ACK], t(SEC));
    for (i, expected_number) in [1u8, 2, 3, 4, 5, 6, 7, 0].into_iter().enumerate() {
        assert_eq!(link.take_output(), last(expected_number, &[b'a' + i as u8]));
        link.handle_bytes(&[ACK], t(2 * SEC));
    }
    assert_eq!(link.take_output(), [EOT]);
    let delivered: Vec<_> = main_events(&mut link)
        .into_iter()
        .map(|e| match e {
            LinkEvent::Delivered { id } => id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(delivered, ids);
}

#[test]
fn an_empty_message_is_one_empty_frame() {
    let (mut link, _) = sending(b"");
    assert_eq!(link.take_output(), b"\x021\x0334\r\n");
}

#[test]
fn send_rejects_oversized_restricted_and_overflowing_input() {
    let mut link = link_with(Role::Computer, |c| {
        c.max_message = 10;
        c.max_queue = 2;
    });
    assert_eq!(
        link.send(vec![b'x'; 11], t(0)),
        Err(Error::MessageTooLarge {
            size: 11,
            limit: 10,
            offset: None
        })
    );
    assert_eq!(
        link.send(b"a\x02b".to_vec(), t(0)),
        Err(Error::RestrictedByte {
            offset: 1,
            byte: STX
        })
    );
    link.send(b"1".to_vec(), t(0)).unwrap();
    link.send(b"2".to_vec(), t(0)).unwrap();
    assert_eq!(
        link.send(b"3".to_vec(), t(0)),
        Err(Error::QueueFull { capacity: 2 })
    );
    assert_eq!(link.take_output(), [ENQ], "one ENQ for the queue");
}

#[test]
fn a_message_queued_while_receiving_waits_for_the_session_to_end() {
    let mut link = receiving();
    link.send(b"O|1\r".to_vec(), t(SEC)).unwrap();
    assert!(!link.has_output());
    assert_eq!(link.state(), LinkState::Receiving);
    link.handle_bytes(&[EOT], t(2 * SEC));
    assert_eq!(link.take_output(), [ENQ]);
}

// --- receiving -------------------------------------------------------------------------------

#[test]
fn enq_on_a_neutral_line_is_acked_or_nakked_when_busy() {
    let mut link = link(Role::Computer);
    link.set_busy(true);
    assert!(link.is_busy());
    link.handle_bytes(&[ENQ], t(0));
    assert_eq!(link.take_output(), [NAK]);
    assert_eq!(link.state(), LinkState::Neutral);
    link.set_busy(false);
    link.handle_bytes(&[ENQ], t(10 * SEC));
    assert_eq!(link.take_output(), [ACK]);
    assert_eq!(link.next_deadline(), Some(t(40 * SEC)));
    assert_eq!(
        events(&mut link),
        [LinkEvent::SessionStarted {
            direction: Direction::Receiving
        }]
    );
}

#[test]
fn frames_are_acked_and_an_etx_frame_completes_the_message() {
    let mut link = receiving();
    link.handle_bytes(&mid(1, b"H|\\^&\rP|1\r"), t(SEC));
    assert_eq!(link.take_output(), [ACK]);
    assert_eq!(link.next_deadline(), Some(t(31 * SEC)));
    assert_eq!(events(&mut link), []);
    link.handle_bytes(&last(2, b"L|1|N\r"), t(2 * SEC));
    assert_eq!(link.take_output(), [ACK]);
    assert_eq!(events(&mut link), [received(b"H|\\^&\rP|1\rL|1|N\r", 2)]);
    link.handle_bytes(&[EOT], t(3 * SEC));
    assert!(!link.has_output());
    assert_eq!(link.state(), LinkState::Neutral);
    assert_eq!(
        events(&mut link),
        [LinkEvent::SessionEnded {
            direction: Direction::Receiving,
            reason: SessionEnd::Completed
        }]
    );
}

#[test]
fn a_frame_in_many_pieces_gets_one_reply() {
    let mut link = receiving();
    for (i, byte) in last(1, b"R|1|^^^GLU|5.4\r").iter().enumerate() {
        link.handle_bytes(&[*byte], t(SEC + i as u64));
    }
    assert_eq!(link.take_output(), [ACK]);
    assert_eq!(events(&mut link), [received(b"R|1|^^^GLU|5.4\r", 1)]);
}

#[test]
fn bad_checksum_is_nakked_and_the_retransmission_accepted() {
    let mut link = receiving();
    let good = last(1, b"abc");
    let mut bad = good.clone();
    bad[2] = b'x';
    link.handle_bytes(&bad, t(SEC));
    assert_eq!(link.take_output(), [NAK]);
    assert!(matches!(
        events(&mut link).as_slice(),
        [LinkEvent::ProtocolError(Error::ChecksumRejected {
            offset: 1,
            number_byte: b'1',
            checksum: Checksum::Mismatch { .. }
        })]
    ));
    link.handle_bytes(&good, t(2 * SEC));
    assert_eq!(link.take_output(), [ACK]);
    assert_eq!(events(&mut link), [received(b"abc", 1)]);
}

#[test]
fn a_repeated_last_frame_is_recognised_after_its_message_was_polled() {
    // The text of a message's last frame is kept in the queued event until the event is
    // polled, and copied then: the duplicate rule must not depend on when events are
    // drained.
    let mut link = receiving();
    let f1 = last(1, b"abc");
    link.handle_bytes(&f1, t(SEC));
    assert_eq!(link.take_output(), [ACK]);
    assert_eq!(events(&mut link), [received(b"abc", 1)]);
    let at = 1 + f1.len() as u64;
    link.handle_bytes(&f1, t(2 * SEC)); // our ACK was lost
    assert_eq!(link.take_output(), [ACK]);
    assert_eq!(
        events(&mut link),
        [LinkEvent::Warning(Warning::DuplicateFrame {
            offset: at,
            number: fnum(1)
        })]
    );
    // The same number with another text is a new message (numbering restarted).
    let f2 = last(1, b"xyz");
    link.handle_bytes(&f2, t(3 * SEC));
    assert_eq!(link.take_output(), [ACK]);
    assert_eq!(
        events(&mut link),
        [LinkEvent::MessageReceived {
            text: b"xyz".to_vec(),
            frames: 1,
            warnings: vec![Warning::NumberingRestarted {
                offset: at + f1.len() as u64,
                expected: fnum(2),
                received: fnum(1),
            }],
        }]
    );
}

#[test]
fn the_last_frame_of_the_newest_queued_message_is_the_one_compared() {
    let mut link = receiving();
    let (f1, f2) = (last(1, b"abc"), last(2, b"def"));
    link.handle_bytes(&f1, t(SEC));
    link.handle_bytes(&f2, t(SEC));
    assert_eq!(link.take_output(), [ACK, ACK]);
    // The older message is taken, the newer one stays queued.
    assert_eq!(link.poll_event(), Some(received(b"abc", 1)));
    link.handle_bytes(&f2, t(2 * SEC));
    assert_eq!(link.take_output(), [ACK]);
    let at = 1 + (f1.len() + f2.len()) as u64;
    assert_eq!(
        events(&mut link),
        [
            received(b"def", 1),
            LinkEvent::Warning(Warning::DuplicateFrame {
                offset: at,
                number: fnum(2)
            }),
        ]
    );
    // Polled meanwhile: the copy taken then still recognises it.
    link.handle_bytes(&f2, t(3 * SEC));
    assert_eq!(link.take_output(), [ACK]);
    assert!(matches!(
        events(&mut link).as_slice(),
        [LinkEvent::Warning(Warning::DuplicateFrame { .. })]
    ));
}

#[test]
fn invalid_frame_number_is_nakked() {
    let mut link = receiving();
    // '9' + 'a' + ETX = 0x39 + 0x61 + 0x03 = 0x9D
    link.handle_bytes(b"\x029a\x039D\r\n", t(SEC));
    assert_eq!(link.take_output(), [NAK]);
    assert_eq!(
        events(&mut link),
        [LinkEvent::ProtocolError(Error::InvalidFrameNumber {
            offset: 1,
            byte: b'9'
        })]
    );
}

#[test]
fn a_repeated_frame_is_acked_and_discarded() {
    let mut link = receiving();
    let f1 = mid(1, b"abc");
    link.handle_bytes(&f1, t(SEC));
    assert_eq!(link.take_output(), [ACK]);
    let at = 1 + f1.len() as u64;
    link.handle_bytes(&f1, t(2 * SEC)); // our ACK was lost
    assert_eq!(link.take_output(), [ACK]);
    assert_eq!(
        events(&mut link),
        [LinkEvent::Warning(Warning::DuplicateFrame {
            offset: at,
            number: fnum(1)
        })]
    );
    let f2 = last(2, b"def");
    link.handle_bytes(&f2, t(3 * SEC));
    link.handle_bytes(&f2, t(4 * SEC)); // lost again: not delivered twice
    assert_eq!(link.take_output(), [ACK, ACK]);
    let delivered: Vec<_> = main_events(&mut link)
        .into_iter()
        .filter(|e| matches!(e, LinkEvent::MessageReceived { .. }))
        .collect();
    assert_eq!(delivered, [received(b"abcdef", 2)]);
}

#[test]
fn an_unexpected_frame_number_is_nakked() {
    let mut link = receiving();
    link.handle_bytes(&mid(1, b"a"), t(SEC));
    link.take_output();
    let f4 = mid(4, b"b");
    let at = 1 + mid(1, b"a").len() as u64;
    link.handle_bytes(&f4, t(2 * SEC));
    assert_eq!(link.take_output(), [NAK]);
    assert_eq!(
        events(&mut link),
        [LinkEvent::ProtocolError(Error::UnexpectedFrameNumber {
            offset: at,
            expected: 2,
            received: 4
        })]
    );
}

#[test]
fn the_last_number_with_different_content_is_nakked() {
    let mut link = receiving();
    link.handle_bytes(&mid(1, b"a"), t(SEC));
    link.handle_bytes(&mid(1, b"b"), t(2 * SEC));
    assert_eq!(link.take_output(), [ACK, NAK]);
}

#[test]
fn no_frame_for_30_s_ends_the_session_and_reports_the_partial_message() {
    let mut link = receiving();
    link.handle_bytes(&mid(1, b"part"), t(10 * SEC));
    link.take_output();
    link.handle_bytes(b"\x022half a fr", t(20 * SEC)); // no reply: the deadline stays
    assert_eq!(link.next_deadline(), Some(t(40 * SEC)));
    link.handle_timeout(t(40 * SEC - 1));
    assert_eq!(link.state(), LinkState::Receiving);
    link.handle_timeout(t(40 * SEC));
    assert_eq!(link.state(), LinkState::Neutral);
    assert!(!link.has_output());
    assert_eq!(
        events(&mut link),
        [
            LinkEvent::PartialMessage {
                text: b"part".to_vec(),
                frames: 1,
                reason: PartialReason::TimedOut
            },
            LinkEvent::SessionEnded {
                direction: Direction::Receiving,
                reason: SessionEnd::TimedOut
            },
        ]
    );
    // The half frame was dropped: the rest of it is junk, and a new ENQ works.
    link.handle_bytes(b"me\x03", t(41 * SEC));
    link.handle_bytes(&[ENQ], t(42 * SEC));
    assert_eq!(link.take_output(), [ACK]);
}

#[test]
fn eot_in_the_middle_of_a_message_reports_it_partial() {
    let mut link = receiving();
    link.handle_bytes(&mid(1, b"H|\\^&\r"), t(SEC));
    link.handle_bytes(&mid(2, b"P|1\r"), t(SEC));
    link.handle_bytes(&[EOT], t(SEC));
    assert_eq!(link.take_output(), [ACK, ACK]);
    assert_eq!(
        main_events(&mut link),
        [LinkEvent::PartialMessage {
            text: b"H|\\^&\rP|1\r".to_vec(),
            frames: 2,
            reason: PartialReason::EndOfTransmission
        }]
    );
}

#[test]
fn enq_during_a_session_ends_it_with_nak_by_default() {
    let mut link = receiving();
    link.handle_bytes(&mid(1, b"abc"), t(SEC));
    assert_eq!(link.take_output(), [ACK]);
    link.handle_bytes(&[ENQ], t(2 * SEC));
    assert_eq!(link.take_output(), [NAK]);
    assert_eq!(link.state(), LinkState::Neutral);
    assert_eq!(
        events(&mut link),
        [
            LinkEvent::PartialMessage {
                text: b"abc".to_vec(),
                frames: 1,
                reason: PartialReason::PeerRestarted
            },
            LinkEvent::SessionEnded {
                direction: Direction::Receiving,
                reason: SessionEnd::PeerRestarted
            },
        ]
    );
    // The sender retries after its busy delay and gets a fresh session.
    link.handle_bytes(&[ENQ], t(12 * SEC));
    assert_eq!(link.take_output(), [ACK]);
    link.handle_bytes(&last(1, b"new"), t(13 * SEC));
    assert_eq!(link.take_output(), [ACK]);
}

#[test]
fn enq_during_a_session_can_restart_it_with_ack() {
    let mut link = receiving_with(|c| c.enq_while_receiving = EnqWhileReceiving::RestartAndAck);
    link.handle_bytes(&mid(1, b"abc"), t(SEC));
    link.handle_bytes(&[ENQ], t(2 * SEC));
    assert_eq!(link.take_output(), [ACK, ACK]);
    assert_eq!(link.state(), LinkState::Receiving);
    assert_eq!(
        events(&mut link),
        [
            LinkEvent::PartialMessage {
                text: b"abc".to_vec(),
                frames: 1,
                reason: PartialReason::PeerRestarted
            },
            LinkEvent::SessionEnded {
                direction: Direction::Receiving,
                reason: SessionEnd::PeerRestarted
            },
            LinkEvent::SessionStarted {
                direction: Direction::Receiving
            },
        ]
    );
    link.handle_bytes(&last(1, b"new"), t(3 * SEC));
    assert_eq!(link.take_output(), [ACK]);
    assert_eq!(events(&mut link), [received(b"new", 1)]);
}

#[test]
fn enq_inside_a_frame_is_nakked_and_the_session_goes_on() {
    let mut link = receiving();
    let good = mid(1, b"P|1\rO|1\r");
    // The CR of the first record was corrupted into ENQ (0x0D → 0x05).
    let mut corrupted = good.clone();
    corrupted[5] = ENQ;
    link.handle_bytes(&corrupted, t(SEC));
    assert_eq!(link.take_output(), [NAK]);
    assert_eq!(link.state(), LinkState::Receiving);
    assert!(matches!(
        events(&mut link).as_slice(),
        [
            LinkEvent::ProtocolError(Error::FrameInterrupted {
                offset: 1,
                at: 6,
                byte: ENQ
            }),
            LinkEvent::Warning(Warning::IgnoredBytes { .. }),
        ]
    ));
    link.handle_bytes(&good, t(2 * SEC));
    assert_eq!(link.take_output(), [ACK]);
}

#[test]
fn stray_bytes_during_a_receive_session_get_no_reply() {
    let mut link = receiving();
    link.handle_bytes(&[ACK, NAK], t(SEC));
    link.handle_bytes(b"\r\nnoise", t(2 * SEC));
    // A frame cut short by the next frame's STX: only the complete one is answered.
    link.handle_bytes(b"\x021abc", t(3 * SEC));
    link.handle_bytes(&last(1, b"x"), t(4 * SEC));
    assert_eq!(link.take_output(), [ACK]);
    assert_eq!(
        events(&mut link),
        [
            LinkEvent::Warning(Warning::UnexpectedControl {
                offset: 1,
                control: Control::Ack
            }),
            LinkEvent::Warning(Warning::UnexpectedControl {
                offset: 2,
                control: Control::Nak
            }),
            LinkEvent::Warning(Warning::IgnoredBytes { offset: 3, len: 7 }),
            LinkEvent::ProtocolError(Error::FrameInterrupted {
                offset: 10,
                at: 15,
                byte: STX
            }),
            received(b"x", 1),
        ]
    );
    // Ignored bytes do not restart the receive timer; the reply to the frame did.
    assert_eq!(link.next_deadline(), Some(t(34 * SEC)));
}

#[test]
fn enq_followed_by_eot_is_an_empty_session() {
    let mut link = link(Role::Computer);
    link.handle_bytes(&[ENQ, EOT], t(0));
    assert_eq!(link.take_output(), [ACK]);
    assert_eq!(
        events(&mut link),
        [
            LinkEvent::SessionStarted {
                direction: Direction::Receiving
            },
            LinkEvent::SessionEnded {
                direction: Direction::Receiving,
                reason: SessionEnd::Completed
            },
        ]
    );
}

#[test]
fn requested_interrupt_replaces_one_ack_with_eot() {
    let mut link = receiving();
    link.request_interrupt();
    link.handle_bytes(&mid(1, b"a"), t(SEC));
    assert_eq!(link.take_output(), [EOT]);
    // The sender may ignore it and go on.
    link.handle_bytes(&last(2, b"b"), t(2 * SEC));
    assert_eq!(link.take_output(), [ACK]);
    assert_eq!(events(&mut link), [received(b"ab", 2)]);
}

#[test]
fn lowercase_checksum_is_accepted_silently() {
    let mut link = receiving();
    // '1' + 'x' + ETX = 0xAC
    link.handle_bytes(b"\x021x\x03ac\r\n", t(SEC));
    assert_eq!(link.take_output(), [ACK]);
    assert_eq!(events(&mut link), [received(b"x", 1)]);

    let mut strict = receiving_with(|c| c.frame = FrameOptions::strict());
    strict.handle_bytes(b"\x021x\x03ac\r\n", t(SEC));
    assert_eq!(strict.take_output(), [NAK]);
}

#[test]
fn one_digit_checksum_is_accepted_with_a_warning() {
    let mut link = receiving();
    // '1' + 0xCC + ETX = 0x31 + 0xCC + 0x03 = 0x100 → 0x00, written as the single digit "0".
    link.handle_bytes(b"\x021\xcc\x030\r\n", t(SEC));
    assert_eq!(link.take_output(), [ACK]);
    assert_eq!(
        events(&mut link),
        [LinkEvent::MessageReceived {
            text: b"\xcc".to_vec(),
            frames: 1,
            warnings: vec![Warning::ChecksumAccepted {
                offset: 1,
                number: fnum(1),
                checksum: Checksum::OneDigit
            }],
        }]
    );
}

#[test]
fn missing_checksum_is_rejected_unless_configured() {
    let mut link = receiving();
    link.handle_bytes(b"\x021x\x03\r\n", t(SEC));
    assert_eq!(link.take_output(), [NAK]);

    let mut vidas = receiving_with(|c| c.frame.checksum_missing = ChecksumPolicy::Ignore);
    vidas.handle_bytes(b"\x021x\x03\r\n", t(SEC));
    assert_eq!(vidas.take_output(), [ACK]);
    assert_eq!(events(&mut vidas), [received(b"x", 1)]);
}

#[test]
fn wrong_checksum_can_be_accepted_with_a_warning() {
    let mut link = receiving_with(|c| c.frame.checksum_mismatch = ChecksumPolicy::WarnAndAccept);
    link.handle_bytes(b"\x021x\x0300\r\n", t(SEC));
    assert_eq!(link.take_output(), [ACK]);
    assert!(matches!(
        events(&mut link).as_slice(),
        [LinkEvent::MessageReceived { warnings, .. }]
            if warnings == &[Warning::ChecksumAccepted {
                offset: 1,
                number: fnum(1),
                checksum: Checksum::Mismatch { computed: 0xAC, received: 0 },
            }]
    ));
}

#[test]
fn first_frame_zero_is_accepted_unless_strict() {
    let mut link = receiving();
    link.handle_bytes(&mid(0, b"a"), t(SEC));
    link.handle_bytes(&last(1, b"b"), t(SEC));
    assert_eq!(link.take_output(), [ACK, ACK]);
    assert_eq!(
        events(&mut link),
        [LinkEvent::MessageReceived {
            text: b"ab".to_vec(),
            frames: 2,
            warnings: vec![Warning::FirstFrameZero { offset: 1 }],
        }]
    );

    let mut strict = receiving_with(|c| c.frame = FrameOptions::strict());
    strict.handle_bytes(&mid(0, b"a"), t(SEC));
    assert_eq!(strict.take_output(), [NAK]);
}

#[test]
fn numbering_restarted_per_message_is_accepted_unless_strict() {
    let mut link = receiving();
    let m1 = last(1, b"first");
    link.handle_bytes(&m1, t(SEC));
    link.handle_bytes(&mid(1, b"sec"), t(SEC)); // restarts at 1, different content
    link.handle_bytes(&last(2, b"ond"), t(SEC));
    link.handle_bytes(&last(1, b"third"), t(SEC)); // restarts at 1 again
    link.handle_bytes(&last(1, b"third"), t(SEC)); // a true retransmission
    assert_eq!(link.take_output(), [ACK; 5]);
    let restarted = |offset, expected| Warning::NumberingRestarted {
        offset,
        expected: fnum(expected),
        received: fnum(1),
    };
    let m2_at = 1 + m1.len() as u64;
    let m3_at = m2_at + mid(1, b"sec").len() as u64 + last(2, b"ond").len() as u64;
    let m3_again = m3_at + last(1, b"third").len() as u64;
    assert_eq!(
        events(&mut link),
        [
            received(b"first", 1),
            LinkEvent::MessageReceived {
                text: b"second".to_vec(),
                frames: 2,
                warnings: vec![restarted(m2_at, 2)],
            },
            LinkEvent::MessageReceived {
                text: b"third".to_vec(),
                frames: 1,
                warnings: vec![restarted(m3_at, 3)],
            },
            LinkEvent::Warning(Warning::DuplicateFrame {
                offset: m3_again,
                number: fnum(1)
            }),
        ]
    );

    let mut strict = receiving_with(|c| c.frame = FrameOptions::strict());
    strict.handle_bytes(&last(1, b"first"), t(SEC));
    strict.handle_bytes(&last(1, b"again"), t(SEC));
    assert_eq!(strict.take_output(), [ACK, NAK]);
}

#[test]
fn restarted_numbering_is_not_accepted_in_the_middle_of_a_message() {
    let mut link = receiving();
    link.handle_bytes(&mid(1, b"a"), t(SEC));
    link.handle_bytes(&mid(2, b"b"), t(SEC));
    link.handle_bytes(&last(1, b"c"), t(SEC));
    assert_eq!(link.take_output(), [ACK, ACK, NAK]);
}

#[test]
fn too_long_and_empty_frames_are_nakked() {
    let mut link = receiving_with(|c| c.frame.max_text = 4);
    link.handle_bytes(&last(1, b"12345"), t(SEC));
    link.handle_bytes(b"\x02\x0334\r\n", t(SEC));
    link.handle_bytes(&last(1, b"1234"), t(SEC));
    assert_eq!(link.take_output(), [NAK, NAK, ACK]);
    assert_eq!(
        main_events(&mut link),
        [
            LinkEvent::ProtocolError(Error::FrameTooLong {
                offset: 1,
                number_byte: b'1',
                limit: 4
            }),
            LinkEvent::ProtocolError(Error::EmptyFrame { offset: 13 }),
            received(b"1234", 1),
        ]
    );
}

#[test]
fn a_message_over_the_size_limit_is_reported_partial_and_nakked() {
    let mut link = receiving_with(|c| c.max_message = 5);
    link.handle_bytes(&mid(1, b"abc"), t(SEC));
    link.handle_bytes(&mid(2, b"def"), t(SEC));
    assert_eq!(link.take_output(), [ACK, NAK]);
    let at = 1 + mid(1, b"abc").len() as u64;
    assert_eq!(
        events(&mut link),
        [
            LinkEvent::PartialMessage {
                text: b"abc".to_vec(),
                frames: 1,
                reason: PartialReason::TooLarge
            },
            LinkEvent::ProtocolError(Error::MessageTooLarge {
                size: 6,
                limit: 5,
                offset: Some(at)
            }),
        ]
    );
    // Retransmissions and further frames of the message are refused…
    link.handle_bytes(&mid(2, b"def"), t(2 * SEC));
    link.handle_bytes(&mid(2, b"d"), t(2 * SEC));
    assert_eq!(link.take_output(), [NAK, NAK]);
    // …until the sender gives up; the next session is fine.
    link.handle_bytes(&[EOT, ENQ], t(3 * SEC));
    link.handle_bytes(&last(1, b"small"), t(3 * SEC));
    assert_eq!(link.take_output(), [ACK, ACK]);
    assert!(main_events(&mut link).contains(&received(b"small", 1)));
}

#[test]
fn undrained_events_make_the_receiver_refuse() {
    let mut link = receiving_with(|c| c.max_events = 2);
    link.handle_bytes(&last(1, b"a"), t(SEC));
    link.handle_bytes(&last(2, b"b"), t(SEC));
    link.handle_bytes(&last(3, b"c"), t(SEC)); // two events pending: refused
    link.handle_bytes(b"junk", t(SEC)); // warning dropped
    assert_eq!(link.take_output(), [ACK, ACK, NAK]);
    assert_eq!(link.dropped_events(), 1);
    link.handle_bytes(&[EOT], t(SEC));
    link.handle_bytes(&[ENQ], t(SEC));
    assert_eq!(
        link.take_output(),
        [NAK],
        "no new session while events are pending"
    );
    assert_eq!(events(&mut link), [received(b"a", 1), received(b"b", 1)]);
    assert_eq!(
        link.dropped_events(),
        2,
        "the session end was not queued either"
    );
    link.handle_bytes(&[ENQ], t(2 * SEC));
    assert_eq!(link.take_output(), [ACK]);
}

#[test]
fn trailers_cr_lf_lf_cr_or_none_are_all_fine() {
    let mut link = receiving();
    let f = |n, kind, text: &[u8], trailer: &[u8]| {
        let mut bytes = frame(n, kind, text);
        bytes.truncate(bytes.len() - 2);
        bytes.extend_from_slice(trailer);
        bytes
    };
    let mut wire = f(1, FrameKind::Intermediate, b"a", b"\n");
    wire.extend_from_slice(&f(2, FrameKind::Intermediate, b"b", b"\r"));
    wire.extend_from_slice(&f(3, FrameKind::Last, b"c", b""));
    wire.push(EOT);
    link.handle_bytes(&wire, t(SEC));
    assert_eq!(link.take_output(), [ACK, ACK, ACK]);
    assert_eq!(main_events(&mut link), [received(b"abc", 3)]);
}

#[test]
fn frames_and_stray_bytes_on_a_neutral_line_are_ignored() {
    let mut link = link(Role::Computer);
    let f = last(1, b"x");
    link.handle_bytes(&f, t(0));
    link.handle_bytes(&[ACK, NAK, EOT], t(0));
    assert!(!link.has_output());
    let n = f.len() as u64;
    assert_eq!(
        events(&mut link),
        [
            LinkEvent::Warning(Warning::UnexpectedFrame { offset: 0 }),
            LinkEvent::Warning(Warning::UnexpectedControl {
                offset: n,
                control: Control::Ack
            }),
            LinkEvent::Warning(Warning::UnexpectedControl {
                offset: n + 1,
                control: Control::Nak
            }),
        ]
    );
}

#[test]
fn received_messages_keep_8_bit_bytes_and_multiple_records() {
    let mut link = receiving();
    let text = b"H|\\^&|||cobas\rR|1|^^^685/|5,4|\xb5mol/l\rL|1|N\r";
    link.handle_bytes(&last(1, text), t(SEC));
    assert_eq!(events(&mut link), [received(text, 1)]);
}

#[test]
fn reset_while_receiving_reports_the_partial_message() {
    let mut link = receiving();
    link.handle_bytes(&mid(1, b"abc"), t(SEC));
    link.handle_bytes(b"\x022de", t(SEC));
    link.reset(t(2 * SEC));
    assert_eq!(link.state(), LinkState::Neutral);
    assert!(!link.has_output(), "unsent output is dropped");
    assert_eq!(
        events(&mut link),
        [
            LinkEvent::PartialMessage {
                text: b"abc".to_vec(),
                frames: 1,
                reason: PartialReason::Reset
            },
            LinkEvent::SessionEnded {
                direction: Direction::Receiving,
                reason: SessionEnd::Reset
            },
        ]
    );
    link.handle_bytes(&[ENQ], t(3 * SEC));
    assert_eq!(link.take_output(), [ACK]);
}

#[test]
fn reset_while_sending_keeps_the_message_and_starts_over() {
    let text = vec![b'z'; 300];
    let (mut link, id) = sending(&text);
    link.take_output();
    link.handle_bytes(&[ACK], t(2 * SEC));
    assert_eq!(link.take_output(), last(2, &text[240..]));
    link.reset(t(3 * SEC));
    assert_eq!(link.take_output(), [ENQ]);
    assert_eq!(link.queued(), 1);
    link.handle_bytes(&[ACK], t(4 * SEC));
    assert_eq!(link.take_output(), mid(1, &text[..240]));
    link.handle_bytes(&[ACK], t(5 * SEC));
    assert_eq!(link.take_output(), last(2, &text[240..]));
    link.handle_bytes(&[ACK], t(6 * SEC));
    assert_eq!(link.take_output(), [EOT]);
    assert!(main_events(&mut link).contains(&LinkEvent::Delivered { id }));
}

#[test]
fn frame_bytes_checked_by_hand() {
    // A fully spelled-out frame, independent of `write_frame`.
    let mut link = receiving();
    let mut wire = vec![STX, b'1'];
    wire.extend_from_slice(b"L|1|N\r");
    wire.extend_from_slice(&[ETX, b'0', b'4', b'\r', b'\n']);
    link.handle_bytes(&wire, t(SEC));
    assert_eq!(link.take_output(), [ACK]);
    let mut etb = vec![STX, b'2'];
    etb.extend_from_slice(b"A");
    // '2' + 'A' + ETB = 0x32 + 0x41 + 0x17 = 0x8A
    etb.extend_from_slice(&[ETB, b'8', b'A', b'\r', b'\n']);
    link.handle_bytes(&etb, t(SEC));
    assert_eq!(link.take_output(), [ACK]);
}

// --- holding the last frame's reply for the caller's decision ----------------------------------

fn holding() -> Link {
    receiving_with(|config| config.hold_message_ack = true)
}

#[test]
fn a_held_message_gets_no_reply_until_accepted() {
    let mut link = holding();
    link.handle_bytes(&mid(1, b"H|\\^&\r"), t(SEC));
    assert_eq!(
        link.take_output(),
        [ACK],
        "intermediate frames are answered at once"
    );
    link.handle_bytes(&last(2, b"L|1|N\r"), t(2 * SEC));
    assert_eq!(link.take_output(), Vec::<u8>::new());
    assert_eq!(main_events(&mut link), [received(b"H|\\^&\rL|1|N\r", 2)]);
    assert!(link.awaiting_decision());
    assert!(link.accept_message(t(3 * SEC)));
    assert_eq!(link.take_output(), [ACK]);
    assert!(!link.awaiting_decision());
    assert!(
        !link.accept_message(t(3 * SEC)),
        "a second decision does nothing"
    );
    link.handle_bytes(&[EOT], t(4 * SEC));
    assert_eq!(link.state(), LinkState::Neutral);
}

#[test]
fn a_refused_message_is_nakd_and_so_is_its_retransmission() {
    let mut link = holding();
    link.handle_bytes(&last(1, b"garbage\r"), t(SEC));
    assert_eq!(main_events(&mut link), [received(b"garbage\r", 1)]);
    assert!(link.refuse_message(t(2 * SEC)));
    assert_eq!(link.take_output(), [NAK]);
    // The sender retransmits the same frame: without the refusal it would look like a
    // lost-ACK duplicate and be acknowledged.
    for attempt in 0..5 {
        link.handle_bytes(&last(1, b"garbage\r"), t((3 + attempt) * SEC));
        assert_eq!(link.take_output(), [NAK], "attempt {attempt}");
    }
    assert_eq!(main_events(&mut link), []);
    link.handle_bytes(&[EOT], t(9 * SEC));
    assert_eq!(link.state(), LinkState::Neutral);
    // The next session is received normally.
    link.handle_bytes(&[ENQ], t(10 * SEC));
    assert_eq!(link.take_output(), [ACK]);
    link.handle_bytes(&last(1, b"L|1|N\r"), t(11 * SEC));
    assert_eq!(main_events(&mut link), [received(b"L|1|N\r", 1)]);
    assert!(link.accept_message(t(11 * SEC)));
    assert_eq!(link.take_output(), [ACK]);
}

#[test]
fn frames_out_of_turn_while_a_decision_is_pending_get_no_reply() {
    let mut link = holding();
    link.handle_bytes(&last(1, b"L|1|N\r"), t(SEC));
    events(&mut link);
    link.handle_bytes(&last(2, b"L|1|N\r"), t(2 * SEC));
    assert_eq!(link.take_output(), Vec::<u8>::new());
    assert!(link.awaiting_decision());
    assert!(link.accept_message(t(3 * SEC)));
    assert_eq!(link.take_output(), [ACK]);
}

#[test]
fn a_decision_after_the_session_ended_does_nothing() {
    let mut link = holding();
    link.handle_bytes(&last(1, b"L|1|N\r"), t(SEC));
    events(&mut link);
    // The sender gave up waiting (its 15 s reply timeout) and ended the session.
    link.handle_bytes(&[EOT], t(16 * SEC));
    assert!(!link.awaiting_decision());
    assert!(!link.accept_message(t(17 * SEC)));
    assert!(!link.refuse_message(t(17 * SEC)));
    assert_eq!(link.take_output(), Vec::<u8>::new());
}

#[test]
fn without_holding_the_last_frame_is_acknowledged_at_once() {
    let mut link = receiving();
    link.handle_bytes(&last(1, b"L|1|N\r"), t(SEC));
    assert_eq!(link.take_output(), [ACK]);
    assert!(!link.awaiting_decision());
    assert!(!link.accept_message(t(SEC)));
}
