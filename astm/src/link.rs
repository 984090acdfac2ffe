//! The ASTM E1381 (CLSI LIS01) link state machine, for either end of a connection.
//!
//! [`Link`] is sans-IO: it never reads, writes, sleeps or looks at a clock. The caller feeds it
//! received bytes and the current time, writes out what it produces, and calls it again when
//! its deadline passes:
//!
//! ```
//! use labwire_astm::link::{Instant, Link, LinkConfig, LinkEvent, Role};
//!
//! let mut lis = Link::new(LinkConfig::new(Role::Computer)).unwrap();
//! let t = Instant::from_millis(0);
//! lis.handle_bytes(b"\x05", t); // the instrument asks to send (ENQ)
//! assert_eq!(lis.take_output(), b"\x06"); // ACK
//! lis.handle_bytes(b"\x021L|1|N\r\x0304\r\n", t); // frame 1, last
//! assert_eq!(lis.take_output(), b"\x06");
//! lis.handle_bytes(b"\x04", t); // EOT
//! let received: Vec<_> = std::iter::from_fn(|| lis.poll_event())
//!     .filter_map(|event| match event {
//!         LinkEvent::MessageReceived { text, .. } => Some(text),
//!         _ => None,
//!     })
//!     .collect();
//! assert_eq!(received, [b"L|1|N\r".to_vec()]);
//! ```
//!
//! A driver loop: on readable bytes call [`Link::handle_bytes`]; when [`Link::next_deadline`]
//! is reached call [`Link::handle_timeout`]; after every call write [`Link::take_output`] to
//! the transport and drain [`Link::poll_event`]. Queue outgoing messages with [`Link::send`].
//!
//! # Time
//!
//! [`Instant`] is a count of milliseconds since an epoch the caller chooses; it must not go
//! backwards (use a monotonic clock, e.g. `std::time::Instant` minus a start instant). Tests
//! construct it directly: `Instant::from_millis(15_000)`.
//!
//! # Protocol
//!
//! Clause numbers are E1381-02's (§6, "Data Link Layer"); CLSI LIS01 carries the same text in
//! its §8 (the checksum rule, E1381 §6.3.3, is quoted as LIS1-A 8.3.3.1). Timer values are
//! [`Timeouts`]' defaults.
//!
//! * **Establishment** (§6.2). With a message queued and the line neutral, send ENQ and wait
//!   15 s for a reply. ACK: transfer phase. NAK (receiver busy): wait 10 s, then ENQ again.
//!   No reply: send EOT (termination phase, §6.5.2), wait 10 s, ENQ again. After
//!   [`LinkConfig::establishment_attempts`] (6) failed attempts the message is reported
//!   [`Failed`](LinkEvent::Failed).
//! * **Contention** (§6.2.1): we sent ENQ and received ENQ. The instrument has priority. As
//!   [`Role::Computer`] we stop, send nothing, and answer the instrument's *next* ENQ (with ACK,
//!   or NAK when busy); if none arrives within 20 s the line is neutral again and we retry.
//!   As [`Role::Instrument`] we wait 1 s and send ENQ again. The 20 s is the computer's timer
//!   for the instrument's ENQ in the timeout clause (§6.5.2) as the standard is commonly
//!   reproduced; the public vendor manuals we checked document only the instrument's 1 s, so
//!   both values are configurable ([`Timeouts`]).
//! * **Transfer** (§6.3). Frames are numbered from 1 at the start of each transfer phase and
//!   continue modulo 8 across all messages sent in that session (§6.3.2). Each frame waits
//!   15 s for a reply. ACK: next frame. NAK, or any other character (§6.5.1): send the same
//!   frame again; the 6th failed transmission ([`LinkConfig::frame_attempts`]) aborts the
//!   session with EOT and the message is reported failed. No reply within 15 s: EOT, failed.
//!   The standard expects the sender to "remember the message so it can be completely
//!   repeated": [`LinkEvent::Failed`] hands the text back; whether to re-send it is the
//!   caller's decision (a message whose last ACK was lost has in fact arrived).
//! * **Receiver interrupt** (§6.3.5): EOT in reply to a frame accepts the frame and asks the
//!   sender to stop. We honour it ([`LinkConfig::honor_receiver_interrupt`]): EOT, and no ENQ
//!   for 15 s or until the other side has completed a session of its own. The message that
//!   was interrupted stays queued and is sent again from its first frame next time.
//! * **Termination** (§6.4): after the last frame of the last queued message is acknowledged,
//!   EOT. Each message is reported [`Delivered`](LinkEvent::Delivered) when its last frame is
//!   acknowledged.
//! * **Receiving**. ENQ on a neutral line: ACK, or NAK while [`Link::set_busy`] is on. A frame
//!   with an acceptable checksum ([`FrameOptions`]) and the expected number: ACK (or EOT if
//!   [`Link::request_interrupt`] was called), text appended; an ETX frame completes a message
//!   ([`MessageReceived`](LinkEvent::MessageReceived)). A bad checksum or broken frame: NAK. The
//!   last accepted frame again, identical (its ACK was lost): ACK and discard (§6.5.1 rule 3).
//!   Any other number: NAK. EOT ends the session. No frame or EOT for 30 s: the session ends
//!   (§6.5.2). A message left incomplete by EOT, timeout or anything else is reported as
//!   [`PartialMessage`](LinkEvent::PartialMessage), never dropped silently. ENQ directly
//!   followed by EOT is an empty session.
//!
//! ## Deliberate departures
//!
//! * **ENQ during a receive session.** Some senders that gave up on a session (and whose EOT
//!   was lost) start over with ENQ. ACKing that ENQ is unsafe: CR (0x0D) and ENQ (0x05) differ
//!   in one bit, so a corrupted frame trailer looks exactly like it, and the extra ACK would be
//!   taken by the sender as the acknowledgement of its *next* frame — the sender runs one
//!   frame ahead, and a message can arrive truncated yet complete-looking. By default
//!   ([`EnqWhileReceiving::EndSessionAndNak`]) the receiver reports the partial message, ends
//!   the session and answers NAK; a genuine restarting sender treats it as "busy", waits and
//!   sends ENQ again (§6.2), and gets a clean session. [`EnqWhileReceiving::RestartAndAck`]
//!   restores the lenient behaviour. An ENQ that cuts a frame in half is always answered NAK
//!   without ending the session, so a corrupted CR inside a frame only costs a retransmission.
//! * A frame interrupted by a control character gets no reply; the control character is
//!   processed on its own (the sender that sent it has given up on the frame).
//! * **Stale replies.** Bytes processed while the frame they would answer is still waiting in
//!   [`Link::take_output`] were sent before the peer could see that frame, so they are
//!   ignored instead of being taken as its reply: a duplicated ACK, or an ACK followed by
//!   stray bytes in the same read, would otherwise acknowledge (or reject) the next frame
//!   and leave the sender one frame ahead of the receiver.
//!
//! # Bounds
//!
//! The send queue ([`LinkConfig::max_queue`]), the size of a message in either direction
//! ([`LinkConfig::max_message`]), the frame size accepted ([`FrameOptions::max_text`]) and the
//! number of undrained events ([`LinkConfig::max_events`]) are capped. Crossing a cap is an
//! error or an event: a message that grows too large is reported partial and its frames are
//! NAKed; with `max_events` events pending, warnings are counted instead of queued
//! ([`Link::dropped_events`]) and new sessions and frames are refused (NAK) until the caller
//! drains events. Output only grows by one frame or one control character per item received
//! or timer fired; take it after every call.

use std::collections::VecDeque;
use std::time::Duration;

use crate::error::Error;
use crate::frame::{
    self, ACK, Checksum, ChecksumVerdict, Control, ENQ, EOT, Frame, FrameDecoder, FrameItem,
    FrameKind, FrameNumber, FrameOptions, MAX_TEXT_LIMIT, NAK, Reassembled, Reassembler,
};

/// A point in time, in milliseconds since an epoch chosen by the caller.
///
/// The link only compares instants and adds durations to them, so any monotonic epoch
/// works: the start of the process, of the connection, or of a test.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The instant `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Instant(millis)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// `self + duration`, saturating at the largest representable instant.
    #[must_use]
    pub fn saturating_add(self, duration: Duration) -> Self {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(millis))
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

/// Which end of the link this is. It only matters for contention (E1381 §6.2.1): the
/// instrument has priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The laboratory instrument (analyser).
    Instrument,
    /// The computer system (LIS).
    Computer,
}

/// Timer values. Defaults are E1381's (§6.2, §6.5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// How long a sender waits for the reply to ENQ or to a frame. Default 15 s.
    pub reply: Duration,
    /// How long a receiver waits for the next frame or EOT after its last reply. Default
    /// 30 s. (Roche's cobas e 411 uses 15 s for its own receiver.)
    pub receive: Duration,
    /// How long a sender waits after a NAK to its ENQ before sending ENQ again. Default 10 s
    /// (E1381: "at least 10 s").
    pub busy_retry: Duration,
    /// How long a sender waits before the next ENQ after a failed session (ENQ unanswered,
    /// transfer aborted). The standard names no value; default 10 s, like `busy_retry`.
    pub retry_delay: Duration,
    /// The instrument's pause before re-sending ENQ after contention. Default 1 s.
    pub contention_instrument: Duration,
    /// How long the computer waits for the instrument's ENQ after contention before the line
    /// counts as neutral again. Default 20 s.
    pub contention_computer: Duration,
    /// How long a sender that honoured a receiver interrupt stays quiet, unless the other
    /// side completes a session first. Default 15 s.
    pub interrupt_holdoff: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            reply: Duration::from_secs(15),
            receive: Duration::from_secs(30),
            busy_retry: Duration::from_secs(10),
            retry_delay: Duration::from_secs(10),
            contention_instrument: Duration::from_secs(1),
            contention_computer: Duration::from_secs(20),
            interrupt_holdoff: Duration::from_secs(15),
        }
    }
}

/// What a receiver does with an ENQ that arrives during a receive session (outside a
/// frame). See the module documentation for why the default is not to restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnqWhileReceiving {
    /// Report the partial message, end the session and answer NAK; the sender retries its
    /// ENQ after its busy delay and gets a fresh session.
    EndSessionAndNak,
    /// Report the partial message and answer ACK, starting a new session at once (what
    /// labmcp-astm-lis does). Risky on noisy lines: see the module documentation.
    RestartAndAck,
}

/// Configuration of a [`Link`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkConfig {
    /// Instrument or computer; decides who yields on contention.
    pub role: Role,
    /// Receiver tolerance for non-conforming senders, and the largest frame accepted.
    pub frame: FrameOptions,
    /// Largest frame text this side sends, 1..=64,000. Default 240 (E1381-95); raise it only
    /// for receivers known to accept LIS01-A2 frame sizes.
    pub max_text: usize,
    /// Largest message, in bytes, accepted for sending and for receiving. Default 4 MiB.
    pub max_message: usize,
    /// Most messages queued for sending. Default 64.
    pub max_queue: usize,
    /// Most events held until [`Link::poll_event`] drains them. Default 1024.
    pub max_events: usize,
    /// Timer values.
    pub timeouts: Timeouts,
    /// ENQ attempts before a message is reported failed. Default 6 (cobas e 411 manual).
    pub establishment_attempts: u32,
    /// Transmissions of one frame before the transfer is aborted. Default 6 (E1381 §6.5.1).
    pub frame_attempts: u32,
    /// Stop sending when the receiver answers a frame with EOT (§6.3.5). Default `true`; the
    /// standard lets a sender ignore the request, and with `false` EOT is treated as ACK.
    pub honor_receiver_interrupt: bool,
    /// Treat a reply to a frame that is neither ACK, NAK nor EOT as NAK and retransmit
    /// (§6.5.1). Default `true`. With `false` such bytes are ignored and only the reply
    /// timeout recovers from a garbled reply; choose that on links where the peer adds stray
    /// bytes (e.g. a CR LF after its ACK), which would otherwise cost a retransmission each.
    pub garbage_reply_is_nak: bool,
    /// What to do with ENQ during a receive session.
    pub enq_while_receiving: EnqWhileReceiving,
    /// Hold the reply to the last frame of each received message until the caller decides:
    /// [`Link::accept_message`] (ACK) or [`Link::refuse_message`] (NAK). Default `false`
    /// (ACK at once). A gateway turns it on so the instrument's "message delivered" means
    /// the message is safe downstream, not merely received; it must decide well inside the
    /// sender's 15 s reply timeout (§6.5.2).
    pub hold_message_ack: bool,
}

/// Default [`LinkConfig::max_message`].
pub const DEFAULT_MAX_MESSAGE: usize = 4 * 1024 * 1024;

impl LinkConfig {
    /// The default configuration for `role`.
    pub fn new(role: Role) -> Self {
        LinkConfig {
            role,
            frame: FrameOptions::default(),
            max_text: frame::DEFAULT_MAX_TEXT,
            max_message: DEFAULT_MAX_MESSAGE,
            max_queue: 64,
            max_events: 1024,
            timeouts: Timeouts::default(),
            establishment_attempts: 6,
            frame_attempts: 6,
            honor_receiver_interrupt: true,
            garbage_reply_is_nak: true,
            enq_while_receiving: EnqWhileReceiving::EndSessionAndNak,
            hold_message_ack: false,
        }
    }

    fn validate(&self) -> Result<(), Error> {
        let invalid = |field, reason| Err(Error::InvalidConfig { field, reason });
        if !(1..=MAX_TEXT_LIMIT).contains(&self.max_text) {
            return invalid("max_text", "must be in 1..=64000");
        }
        if !(1..=MAX_TEXT_LIMIT).contains(&self.frame.max_text) {
            return invalid("frame.max_text", "must be in 1..=64000");
        }
        if self.max_queue == 0 {
            return invalid("max_queue", "must be at least 1");
        }
        if self.max_events == 0 {
            return invalid("max_events", "must be at least 1");
        }
        if self.establishment_attempts == 0 {
            return invalid("establishment_attempts", "must be at least 1");
        }
        if self.frame_attempts == 0 {
            return invalid("frame_attempts", "must be at least 1");
        }
        if self.timeouts.reply.is_zero() {
            return invalid("timeouts.reply", "must not be zero");
        }
        if self.timeouts.receive.is_zero() {
            return invalid("timeouts.receive", "must not be zero");
        }
        Ok(())
    }
}

/// Identifies a message queued with [`Link::send`] in later events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(u64);

impl MessageId {
    /// The number: 0 for the first message sent on a link, then counting up.
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// The direction of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// We are the sender.
    Sending,
    /// We are the receiver.
    Receiving,
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionEnd {
    /// EOT after the transfer (sent or received).
    Completed,
    /// We aborted a transfer (frame rejected too often, or no reply) and sent EOT.
    Aborted,
    /// We honoured a receiver interrupt and sent EOT.
    Interrupted,
    /// The receive timeout expired.
    TimedOut,
    /// The sender sent ENQ during the session.
    PeerRestarted,
    /// [`Link::reset`] was called.
    Reset,
}

/// Why a received message is incomplete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PartialReason {
    /// EOT arrived before the message's last frame.
    EndOfTransmission,
    /// The receive timeout expired.
    TimedOut,
    /// The sender sent ENQ during the session.
    PeerRestarted,
    /// The message exceeded [`LinkConfig::max_message`]; its further frames are NAKed.
    TooLarge,
    /// [`Link::reset`] was called.
    Reset,
}

/// Why the establishment phase failed on one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EstablishFailure {
    /// The receiver answered NAK.
    Busy,
    /// No reply within the reply timeout.
    NoReply,
    /// Line contention that did not resolve into a session.
    Contention,
}

/// Why a queued message could not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailReason {
    /// The peer did not accept our ENQ in `attempts` attempts.
    NotEstablished {
        /// Attempts made.
        attempts: u32,
        /// How the last attempt failed.
        last: EstablishFailure,
    },
    /// A frame was rejected (NAK or garbage) on every one of `attempts` transmissions.
    FrameRejected {
        /// The frame's number.
        number: FrameNumber,
        /// Transmissions made.
        attempts: u32,
    },
    /// No reply to a frame within the reply timeout.
    ReplyTimeout {
        /// The frame's number.
        number: FrameNumber,
    },
}

/// Something noteworthy that did not stop the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// A frame was accepted although its checksum was not canonical
    /// ([`ChecksumPolicy::WarnAndAccept`](crate::frame::ChecksumPolicy::WarnAndAccept)).
    ChecksumAccepted {
        /// Stream offset of the frame.
        offset: u64,
        /// Its number.
        number: FrameNumber,
        /// What was wrong with its checksum.
        checksum: Checksum,
    },
    /// The first frame of the session was numbered 0
    /// ([`FrameOptions::accept_first_frame_zero`]).
    FirstFrameZero {
        /// Stream offset of the frame.
        offset: u64,
    },
    /// The sender restarted frame numbering at a message boundary
    /// ([`FrameOptions::accept_restarted_numbering`]).
    NumberingRestarted {
        /// Stream offset of the frame.
        offset: u64,
        /// The number that would have continued the sequence.
        expected: FrameNumber,
        /// The number received.
        received: FrameNumber,
    },
    /// The last accepted frame arrived again (its ACK was lost); it was acknowledged and
    /// discarded (E1381 §6.5.1 rule 3).
    DuplicateFrame {
        /// Stream offset of the repetition.
        offset: u64,
        /// Its number.
        number: FrameNumber,
    },
    /// Bytes that are neither a frame nor a control character were ignored.
    IgnoredBytes {
        /// Stream offset of the first byte.
        offset: u64,
        /// How many bytes.
        len: usize,
    },
    /// A control character arrived where the protocol has no use for it and was ignored.
    UnexpectedControl {
        /// Its stream offset.
        offset: u64,
        /// Which one.
        control: Control,
    },
    /// A frame arrived outside a receive session and was ignored.
    UnexpectedFrame {
        /// Stream offset of the frame.
        offset: u64,
    },
    /// More warnings about the same message than are kept; this many were dropped.
    WarningsDropped {
        /// How many.
        count: u32,
    },
}

/// What the link reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkEvent {
    /// A session began.
    SessionStarted {
        /// Whether we send or receive in it.
        direction: Direction,
    },
    /// A session ended; the line is neutral.
    SessionEnded {
        /// Whether we sent or received in it.
        direction: Direction,
        /// How it ended.
        reason: SessionEnd,
    },
    /// A complete message arrived: the concatenated text of its frames (E1394 records
    /// separated by CR, as the sender wrote them).
    MessageReceived {
        /// The message text.
        text: Vec<u8>,
        /// How many frames carried it.
        frames: u32,
        /// Relaxations applied to its frames (lenient checksums, numbering).
        warnings: Vec<Warning>,
    },
    /// A message that will not be completed: what arrived of it.
    PartialMessage {
        /// The text received so far (for [`PartialReason::TooLarge`]: up to the limit).
        text: Vec<u8>,
        /// How many frames carried it.
        frames: u32,
        /// Why it is incomplete.
        reason: PartialReason,
    },
    /// The last frame of a message we sent was acknowledged.
    Delivered {
        /// The message, as returned by [`Link::send`].
        id: MessageId,
    },
    /// A message we queued was given up. Its text is handed back so it can be sent again.
    Failed {
        /// The message, as returned by [`Link::send`].
        id: MessageId,
        /// Why.
        reason: FailReason,
        /// The message text.
        text: Vec<u8>,
    },
    /// Something odd that did not disturb the protocol.
    Warning(Warning),
    /// A protocol error the link recovered from (by NAK, or by ignoring bytes).
    ProtocolError(Error),
}

/// The phase the link is in, for diagnostics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkState {
    /// No session. A message may be waiting for a hold-off to pass; see [`Link::hold_until`].
    Neutral,
    /// We sent ENQ and wait for the reply.
    Establishing,
    /// We sent a frame and wait for the reply.
    Sending,
    /// We are the receiver of a session.
    Receiving,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Neutral,
    Establishing { deadline: Instant },
    Sending { deadline: Instant },
    Receiving { deadline: Instant },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HoldReason {
    /// NAK to our ENQ.
    Busy,
    /// A failed session.
    Retry,
    /// Line contention: lifted when the other side completes a session.
    Contention,
    /// We honoured a receiver interrupt: lifted when the other side completes a session.
    Interrupt,
}

/// No ENQ of ours before `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hold {
    until: Instant,
    reason: HoldReason,
}

#[derive(Debug)]
struct Outgoing {
    id: MessageId,
    text: Vec<u8>,
}

/// Sender progress through the head of the queue.
#[derive(Debug, Clone, Copy)]
struct Transmit {
    number: FrameNumber,
    /// The outstanding frame is `text[start..end]`.
    start: usize,
    end: usize,
    /// Failed transmissions of the outstanding frame.
    failures: u32,
}

/// Most warnings attached to one received message.
const MAX_MESSAGE_WARNINGS: usize = 32;

/// Receiver state of a session.
#[derive(Debug)]
struct Receive {
    expected: FrameNumber,
    /// Number and kind of the last accepted frame, to recognise its retransmission.
    last: Option<(FrameNumber, FrameKind)>,
    /// Where the text of the last accepted frame is, to compare a retransmission with.
    last_at: LastText,
    /// Its length, when it is the end of a message (`LastText::InMessage`,
    /// `LastText::InEvent`).
    last_len: usize,
    /// A copy of it, when the message it ended is no longer at hand
    /// (`LastText::Copied`).
    last_text: Vec<u8>,
    message: Reassembler,
    warnings: Vec<Warning>,
    warnings_dropped: u32,
    /// The message in progress exceeded `max_message`: NAK its frames until the sender gives
    /// up.
    overflowed: bool,
    /// A complete message was reported and its last frame waits for the caller's decision
    /// ([`LinkConfig::hold_message_ack`]).
    awaiting_decision: bool,
    /// The caller refused the message: NAK every frame (the sender's retransmissions of
    /// the last one included) until the session ends.
    refusing: bool,
}

enum Classified {
    Accept(Option<Warning>),
    Duplicate,
    Unexpected,
}

/// Where the text of the last accepted frame is kept. The text is only needed if the
/// same frame arrives again (its ACK was lost, E1381 §6.5.1 rule 3), so it is not
/// copied while the message it belongs to is still at hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LastText {
    /// In `Receive::last_text` (empty if there is no last frame).
    Copied,
    /// The end of the message being reassembled: the frame was an intermediate one.
    InMessage,
    /// The end of the text of the newest [`LinkEvent::MessageReceived`] still queued:
    /// the frame was the last of its message. Copied out when that event is polled
    /// while the session still runs.
    InEvent,
}

impl Receive {
    fn new(max_message: usize) -> Self {
        Receive {
            expected: FrameNumber::FIRST,
            last: None,
            last_at: LastText::Copied,
            last_len: 0,
            last_text: Vec::new(),
            message: Reassembler::new(max_message),
            warnings: Vec::new(),
            warnings_dropped: 0,
            overflowed: false,
            awaiting_decision: false,
            refusing: false,
        }
    }

    /// Back to the start of a session; buffers are kept for reuse.
    fn clear(&mut self) {
        self.expected = FrameNumber::FIRST;
        self.last = None;
        self.last_at = LastText::Copied;
        self.last_len = 0;
        self.last_text.clear();
        let _ = self.message.take_partial();
        self.warnings.clear();
        self.warnings_dropped = 0;
        self.overflowed = false;
        self.awaiting_decision = false;
        self.refusing = false;
    }

    /// Decides what a frame with a valid number and acceptable checksum is (E1381 §6.5.1
    /// rule 3, relaxed by `options`). `repeats_last` is whether its text is that of the
    /// last accepted frame; it is only called if the number and kind are the same.
    fn classify(
        &self,
        number: FrameNumber,
        frame: &Frame<'_>,
        options: &FrameOptions,
        repeats_last: impl FnOnce() -> bool,
    ) -> Classified {
        if self.last == Some((number, frame.kind)) && repeats_last() {
            return Classified::Duplicate;
        }
        if number == self.expected {
            return Classified::Accept(None);
        }
        let zero_allowed = number == FrameNumber::ZERO && options.accept_first_frame_zero;
        if self.last.is_none() {
            if zero_allowed {
                let offset = frame.offset;
                return Classified::Accept(Some(Warning::FirstFrameZero { offset }));
            }
        } else if options.accept_restarted_numbering
            && self.message.is_empty()
            && (number == FrameNumber::FIRST || zero_allowed)
        {
            return Classified::Accept(Some(Warning::NumberingRestarted {
                offset: frame.offset,
                expected: self.expected,
                received: number,
            }));
        }
        Classified::Unexpected
    }

    /// Notes an accepted frame, which was just pushed to `message`. Its text stays where
    /// it is: at the end of the message, or, for the last frame of a message, at the end
    /// of the event that hands the message out.
    fn remember(&mut self, number: FrameNumber, frame: &Frame<'_>) {
        self.expected = number.next();
        self.last = Some((number, frame.kind));
        self.last_len = frame.text.len();
        self.last_at = match frame.kind {
            FrameKind::Intermediate => LastText::InMessage,
            FrameKind::Last => LastText::InEvent,
        };
    }

    /// The last `last_len` bytes of `text`.
    fn tail<'t>(&self, text: &'t [u8]) -> &'t [u8] {
        text.get(text.len().saturating_sub(self.last_len)..)
            .unwrap_or_default()
    }

    /// Copies the text of the last accepted frame out of `text`, the message it ended.
    fn keep_last_text(&mut self, text: &[u8]) {
        let last = self.tail(text);
        self.last_text.clear();
        self.last_text.extend_from_slice(last);
        self.last_at = LastText::Copied;
    }

    /// Takes the message being reassembled, first copying the last accepted frame's
    /// text out of it: the frame may still be retransmitted.
    fn take_partial(&mut self) -> Option<Reassembled> {
        let partial = self.message.take_partial();
        if self.last_at == LastText::InMessage
            && let Some(partial) = &partial
        {
            self.keep_last_text(&partial.text);
        }
        partial
    }

    fn note(&mut self, warning: Warning) {
        if self.warnings.len() < MAX_MESSAGE_WARNINGS {
            self.warnings.push(warning);
        } else {
            self.warnings_dropped = self.warnings_dropped.saturating_add(1);
        }
    }

    fn take_warnings(&mut self) -> Vec<Warning> {
        let mut warnings = core::mem::take(&mut self.warnings);
        let count = core::mem::take(&mut self.warnings_dropped);
        if count > 0 {
            warnings.push(Warning::WarningsDropped { count });
        }
        warnings
    }
}

/// An E1381 link: one per connection, either role. See the [module documentation](self).
#[derive(Debug)]
pub struct Link {
    decoder: FrameDecoder,
    core: Core,
}

/// Everything but the decoder, so that items borrowed from the decoder can be handled.
#[derive(Debug)]
struct Core {
    config: LinkConfig,
    phase: Phase,
    queue: VecDeque<Outgoing>,
    next_id: u64,
    tx: Transmit,
    rx: Receive,
    hold: Option<Hold>,
    establish_failures: u32,
    busy: bool,
    interrupt_requested: bool,
    /// The previous item was a frame cut short by ENQ.
    enq_cut_frame: bool,
    /// The outstanding frame is still in `output`: the caller has not taken it yet.
    frame_unwritten: bool,
    output: Vec<u8>,
    events: VecDeque<LinkEvent>,
    /// How many of `events` are [`LinkEvent::MessageReceived`].
    queued_messages: usize,
    dropped_events: u64,
}

impl Link {
    /// A link in the neutral state. Fails if a configuration value is out of range.
    pub fn new(config: LinkConfig) -> Result<Link, Error> {
        config.validate()?;
        let decoder = FrameDecoder::new(config.frame.max_text);
        let rx = Receive::new(config.max_message);
        Ok(Link {
            decoder,
            core: Core {
                phase: Phase::Neutral,
                queue: VecDeque::new(),
                next_id: 0,
                tx: Transmit {
                    number: FrameNumber::FIRST,
                    start: 0,
                    end: 0,
                    failures: 0,
                },
                rx,
                hold: None,
                establish_failures: 0,
                busy: false,
                interrupt_requested: false,
                enq_cut_frame: false,
                frame_unwritten: false,
                output: Vec::new(),
                // A receive session queues at least three events (started, message,
                // ended): room for a few more up front instead of growing from four.
                events: VecDeque::with_capacity(8),
                queued_messages: 0,
                dropped_events: 0,
                config,
            },
        })
    }

    /// The configuration.
    pub fn config(&self) -> &LinkConfig {
        &self.core.config
    }

    /// Queues a message for sending and returns its id; starts the establishment phase at
    /// once if the line is free. `text` is the message text (E1394 records, each ending with
    /// CR); it is split into frames of [`LinkConfig::max_text`] bytes.
    ///
    /// Fails if the text is larger than [`LinkConfig::max_message`], contains a character
    /// E1381 §6.6 forbids ([`frame::is_restricted`]), or the queue is full.
    pub fn send(&mut self, text: Vec<u8>, now: Instant) -> Result<MessageId, Error> {
        let id = self.core.enqueue(text)?;
        self.core.drive(now);
        Ok(id)
    }

    /// Processes received bytes, in any chunking.
    pub fn handle_bytes(&mut self, bytes: &[u8], now: Instant) {
        let Link { decoder, core } = self;
        decoder.decode_each(bytes, |item| core.on_item(item, now));
        core.drive(now);
    }

    /// Processes the passage of time: call when [`next_deadline`](Self::next_deadline) is
    /// reached (calling it early or more often is harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.core.on_timeout(now) {
            // The session that timed out may have left half a frame behind.
            self.decoder.reset();
        }
        self.core.drive(now);
    }

    /// When [`handle_timeout`](Self::handle_timeout) next has something to do, if ever.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.core.next_deadline()
    }

    /// Takes the bytes to write to the peer, in order.
    ///
    /// Bytes received before the output containing a frame was taken cannot be a reply to
    /// that frame and are ignored; take and write the output after every call.
    pub fn take_output(&mut self) -> Vec<u8> {
        self.core.frame_unwritten = false;
        core::mem::take(&mut self.core.output)
    }

    /// Whether [`take_output`](Self::take_output) would return bytes.
    pub fn has_output(&self) -> bool {
        !self.core.output.is_empty()
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<LinkEvent> {
        let event = self.core.events.pop_front();
        if let Some(LinkEvent::MessageReceived { text, .. }) = &event {
            self.core.message_polled(text);
        }
        event
    }

    /// The current phase.
    pub fn state(&self) -> LinkState {
        match self.core.phase {
            Phase::Neutral => LinkState::Neutral,
            Phase::Establishing { .. } => LinkState::Establishing,
            Phase::Sending { .. } => LinkState::Sending,
            Phase::Receiving { .. } => LinkState::Receiving,
        }
    }

    /// Until when this side holds back its next ENQ (after NAK, a failed session,
    /// contention or a receiver interrupt), if it does.
    pub fn hold_until(&self) -> Option<Instant> {
        self.core.hold.map(|hold| hold.until)
    }

    /// While busy, an ENQ from the peer is answered with NAK (E1381 §6.2: receiver not
    /// ready). A session already running is not affected.
    pub fn set_busy(&mut self, busy: bool) {
        self.core.busy = busy;
    }

    /// Whether [`set_busy`](Self::set_busy) is on.
    pub fn is_busy(&self) -> bool {
        self.core.busy
    }

    /// Answers the next acceptable frame with EOT instead of ACK: a receiver interrupt
    /// (E1381 §6.3.5), asking the sender to end its session, e.g. to let us send. The sender
    /// may ignore it. Only affects a receive session.
    pub fn request_interrupt(&mut self) {
        self.core.interrupt_requested = true;
    }

    /// With [`LinkConfig::hold_message_ack`]: acknowledges the last frame of the message
    /// just reported by [`LinkEvent::MessageReceived`] (ACK, or EOT after
    /// [`Link::request_interrupt`]). Returns `false`, doing nothing, if no message waits
    /// for a decision (none was received, or the session ended meanwhile: the sender
    /// then counts the message as not delivered and sends it again later).
    pub fn accept_message(&mut self, now: Instant) -> bool {
        if !self.awaiting_decision() {
            return false;
        }
        self.core.rx.awaiting_decision = false;
        self.core.reply_accept(now);
        true
    }

    /// With [`LinkConfig::hold_message_ack`]: refuses the message just reported (NAK).
    /// The sender retransmits the last frame until it gives up (§6.5.1, 6 attempts);
    /// every retransmission is refused too, and the session ends with its EOT. Returns
    /// `false`, doing nothing, if no message waits for a decision.
    pub fn refuse_message(&mut self, now: Instant) -> bool {
        if !self.awaiting_decision() {
            return false;
        }
        self.core.rx.awaiting_decision = false;
        self.core.rx.refusing = true;
        self.core.reply(NAK, now);
        true
    }

    /// Whether a received message waits for [`Link::accept_message`] or
    /// [`Link::refuse_message`].
    pub fn awaiting_decision(&self) -> bool {
        matches!(self.core.phase, Phase::Receiving { .. }) && self.core.rx.awaiting_decision
    }

    /// Messages queued and not yet delivered or failed, including one being sent.
    pub fn queued(&self) -> usize {
        self.core.queue.len()
    }

    /// Warnings, protocol errors and session events not queued because
    /// [`LinkConfig::max_events`] events were pending.
    pub fn dropped_events(&self) -> u64 {
        self.core.dropped_events
    }

    /// Forgets the connection: call when the transport was replaced (e.g. a new TCP
    /// connection). A session in progress ends ([`SessionEnd::Reset`], a partial message is
    /// reported); a message being sent stays queued and starts again from its first frame;
    /// unsent output and hold-offs are dropped.
    pub fn reset(&mut self, now: Instant) {
        self.decoder.reset();
        self.core.reset();
        self.core.drive(now);
    }
}

impl Core {
    fn enqueue(&mut self, text: Vec<u8>) -> Result<MessageId, Error> {
        if text.len() > self.config.max_message {
            return Err(Error::MessageTooLarge {
                size: text.len(),
                limit: self.config.max_message,
                offset: None,
            });
        }
        frame::validate_text(&text)?;
        if self.queue.len() >= self.config.max_queue {
            return Err(Error::QueueFull {
                capacity: self.config.max_queue,
            });
        }
        let id = MessageId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        self.queue.push_back(Outgoing { id, text });
        Ok(id)
    }

    // --- events and output -------------------------------------------------------------------

    // Inlined: the event is then built where it is queued, not built and copied.
    #[inline(always)]
    fn emit(&mut self, event: LinkEvent) {
        let droppable = matches!(
            event,
            LinkEvent::Warning(_)
                | LinkEvent::ProtocolError(_)
                | LinkEvent::SessionStarted { .. }
                | LinkEvent::SessionEnded { .. }
        );
        if droppable && self.events_full() {
            self.dropped_events = self.dropped_events.saturating_add(1);
        } else {
            self.events.push_back(event);
        }
    }

    fn warn(&mut self, warning: Warning) {
        self.emit(LinkEvent::Warning(warning));
    }

    fn events_full(&self) -> bool {
        self.events.len() >= self.config.max_events
    }

    /// Appends a control character to the output.
    fn write(&mut self, byte: u8) {
        if self.output.capacity() == 0 {
            // Room for the replies to a few dozen frames at once (a receiver writes one
            // byte per frame) rather than growing from eight bytes.
            self.output.reserve(64);
        }
        self.output.push(byte);
    }

    /// Sends a reply as receiver; restarts the receive timer (E1381 §6.5.2: "when replying
    /// to a frame").
    fn reply(&mut self, byte: u8, now: Instant) {
        self.write(byte);
        if let Phase::Receiving { .. } = self.phase {
            let deadline = now.saturating_add(self.config.timeouts.receive);
            self.phase = Phase::Receiving { deadline };
        }
    }

    /// Acknowledges an accepted frame: ACK, or EOT once after [`Link::request_interrupt`].
    fn reply_accept(&mut self, now: Instant) {
        let byte = if core::mem::take(&mut self.interrupt_requested) {
            EOT
        } else {
            ACK
        };
        self.reply(byte, now);
    }

    fn hold(&mut self, now: Instant, duration: Duration, reason: HoldReason) {
        self.hold = Some(Hold {
            until: now.saturating_add(duration),
            reason,
        });
    }

    // --- the clock ---------------------------------------------------------------------------

    fn next_deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Establishing { deadline }
            | Phase::Sending { deadline }
            | Phase::Receiving { deadline } => Some(deadline),
            Phase::Neutral if self.queue.is_empty() => None,
            Phase::Neutral => self.hold.map(|hold| hold.until),
        }
    }

    /// Fires an expired timer. Returns whether a receive session timed out.
    fn on_timeout(&mut self, now: Instant) -> bool {
        match self.phase {
            Phase::Establishing { deadline } if now >= deadline => {
                // §6.5.2: no reply to ENQ within 15 s → termination phase.
                self.write(EOT);
                self.phase = Phase::Neutral;
                self.hold(now, self.config.timeouts.retry_delay, HoldReason::Retry);
                self.establish_failed(EstablishFailure::NoReply);
                false
            }
            Phase::Sending { deadline } if now >= deadline => {
                // §6.5.2: no reply to a frame within 15 s → abort, termination phase.
                let number = self.tx.number;
                self.abort_transfer(now, FailReason::ReplyTimeout { number });
                false
            }
            Phase::Receiving { deadline } if now >= deadline => {
                // §6.5.2: no frame or EOT within 30 s → discard, neutral.
                self.end_receive(SessionEnd::TimedOut, PartialReason::TimedOut);
                true
            }
            _ => false,
        }
    }

    /// Starts the establishment phase if there is something to send and nothing prevents it.
    fn drive(&mut self, now: Instant) {
        if self.phase != Phase::Neutral || self.queue.is_empty() {
            return;
        }
        if let Some(hold) = self.hold {
            if now < hold.until {
                return;
            }
            self.hold = None;
            if hold.reason == HoldReason::Contention && self.config.role == Role::Computer {
                // §6.2.1: the instrument did not follow up within 20 s; the line is neutral.
                self.establish_failed(EstablishFailure::Contention);
                if self.queue.is_empty() {
                    return;
                }
            }
        }
        self.write(ENQ);
        let deadline = now.saturating_add(self.config.timeouts.reply);
        self.phase = Phase::Establishing { deadline };
    }

    fn reset(&mut self) {
        match self.phase {
            Phase::Receiving { .. } => self.end_receive(SessionEnd::Reset, PartialReason::Reset),
            Phase::Sending { .. } => self.emit(LinkEvent::SessionEnded {
                direction: Direction::Sending,
                reason: SessionEnd::Reset,
            }),
            Phase::Neutral | Phase::Establishing { .. } => {}
        }
        self.phase = Phase::Neutral;
        self.rx.clear();
        self.hold = None;
        self.establish_failures = 0;
        self.interrupt_requested = false;
        self.enq_cut_frame = false;
        self.frame_unwritten = false;
        self.output.clear();
    }

    // --- received items ----------------------------------------------------------------------

    fn on_item(&mut self, item: FrameItem<'_>, now: Instant) {
        let enq_cut_frame = core::mem::take(&mut self.enq_cut_frame);
        if let FrameItem::Error(Error::FrameInterrupted { byte: ENQ, .. }) = item {
            self.enq_cut_frame = true;
        }
        match self.phase {
            Phase::Neutral => self.neutral_item(item, now),
            Phase::Establishing { .. } => self.establishing_item(item, now),
            Phase::Sending { .. } => self.sending_item(item, now),
            Phase::Receiving { .. } => self.receiving_item(item, now, enq_cut_frame),
        }
    }

    /// Items that no phase has a use for.
    fn ignore(&mut self, item: FrameItem<'_>) {
        match item {
            FrameItem::Frame(frame) => self.warn(Warning::UnexpectedFrame {
                offset: frame.offset,
            }),
            FrameItem::Control { control, offset } => {
                self.warn(Warning::UnexpectedControl { offset, control });
            }
            FrameItem::Junk { bytes, offset } => self.warn(Warning::IgnoredBytes {
                offset,
                len: bytes.len(),
            }),
            FrameItem::Error(error) => self.emit(LinkEvent::ProtocolError(error)),
        }
    }

    fn neutral_item(&mut self, item: FrameItem<'_>, now: Instant) {
        match item {
            FrameItem::Control {
                control: Control::Enq,
                ..
            } => self.answer_enq(now),
            // A stray EOT on a neutral line is normal (e.g. after our own abort); §6.2 ignores
            // everything but ENQ in the neutral state.
            FrameItem::Control {
                control: Control::Eot,
                ..
            } => {}
            other => self.ignore(other),
        }
    }

    /// ENQ on a neutral line: become the receiver, or refuse while busy.
    fn answer_enq(&mut self, now: Instant) {
        if self.busy || self.events_full() {
            self.write(NAK);
            return;
        }
        self.write(ACK);
        self.rx.clear();
        let deadline = now.saturating_add(self.config.timeouts.receive);
        self.phase = Phase::Receiving { deadline };
        self.emit(LinkEvent::SessionStarted {
            direction: Direction::Receiving,
        });
    }

    // --- sending -----------------------------------------------------------------------------

    fn establishing_item(&mut self, item: FrameItem<'_>, now: Instant) {
        match item {
            FrameItem::Control {
                control: Control::Ack,
                ..
            } => {
                self.establish_failures = 0;
                self.start_transfer(now);
            }
            FrameItem::Control {
                control: Control::Nak,
                ..
            } => {
                // §6.2: receiver busy; wait at least 10 s before the next ENQ.
                self.phase = Phase::Neutral;
                self.hold(now, self.config.timeouts.busy_retry, HoldReason::Busy);
                self.establish_failed(EstablishFailure::Busy);
            }
            FrameItem::Control {
                control: Control::Enq,
                ..
            } => self.contention(now),
            // §6.2: other replies are ignored; the reply timer keeps running.
            other => self.ignore(other),
        }
    }

    /// §6.2.1: both sides sent ENQ.
    fn contention(&mut self, now: Instant) {
        self.phase = Phase::Neutral;
        match self.config.role {
            Role::Computer => {
                // Stop, and answer the instrument's next ENQ. Counted as a failed attempt
                // only if that ENQ does not come (see `drive`).
                let wait = self.config.timeouts.contention_computer;
                self.hold(now, wait, HoldReason::Contention);
            }
            Role::Instrument => {
                let wait = self.config.timeouts.contention_instrument;
                self.hold(now, wait, HoldReason::Contention);
                self.establish_failed(EstablishFailure::Contention);
            }
        }
    }

    fn establish_failed(&mut self, last: EstablishFailure) {
        self.establish_failures = self.establish_failures.saturating_add(1);
        if self.establish_failures < self.config.establishment_attempts {
            return;
        }
        let attempts = core::mem::take(&mut self.establish_failures);
        if let Some(message) = self.queue.pop_front() {
            self.emit(LinkEvent::Failed {
                id: message.id,
                reason: FailReason::NotEstablished { attempts, last },
                text: message.text,
            });
        }
    }

    /// ACK to our ENQ: the transfer phase starts with frame 1 of the head message (§6.3.2).
    fn start_transfer(&mut self, now: Instant) {
        self.hold = None;
        self.emit(LinkEvent::SessionStarted {
            direction: Direction::Sending,
        });
        self.tx.number = FrameNumber::FIRST;
        self.begin_message(now);
    }

    /// Sends the first frame of the head message, or ends the session if there is none.
    fn begin_message(&mut self, now: Instant) {
        self.tx.start = 0;
        self.tx.end = self.frame_end(0);
        self.tx.failures = 0;
        if self.queue.is_empty() {
            self.finish_transfer(SessionEnd::Completed);
        } else {
            self.transmit(now);
        }
    }

    /// End of the frame of the head message that starts at `start`.
    fn frame_end(&self, start: usize) -> usize {
        let len = self.queue.front().map_or(0, |message| message.text.len());
        start.saturating_add(self.config.max_text).min(len)
    }

    /// (Re)sends the outstanding frame and starts the reply timer (§6.5.2).
    fn transmit(&mut self, now: Instant) {
        if let Some(message) = self.queue.front() {
            let kind = if self.tx.end >= message.text.len() {
                FrameKind::Last
            } else {
                FrameKind::Intermediate
            };
            let text = message
                .text
                .get(self.tx.start..self.tx.end)
                .unwrap_or_default();
            frame::write_frame_unchecked(&mut self.output, self.tx.number, kind, text);
            self.frame_unwritten = true;
        }
        let deadline = now.saturating_add(self.config.timeouts.reply);
        self.phase = Phase::Sending { deadline };
    }

    fn sending_item(&mut self, item: FrameItem<'_>, now: Instant) {
        if self.frame_unwritten {
            // The peer sent this before it could have seen the outstanding frame, which is
            // not even written yet: e.g. a second ACK for the previous frame, or stray bytes
            // after it. Taking it as the reply would put us one frame ahead of the receiver.
            self.ignore(item);
            return;
        }
        match item {
            FrameItem::Control {
                control: Control::Ack,
                ..
            } => self.frame_acknowledged(now, false),
            FrameItem::Control {
                control: Control::Eot,
                ..
            } => {
                let interrupt = self.config.honor_receiver_interrupt;
                self.frame_acknowledged(now, interrupt);
            }
            FrameItem::Control {
                control: Control::Nak,
                ..
            } => self.frame_rejected(now),
            // The control character that cut the frame short is handled on its own next.
            FrameItem::Error(error @ Error::FrameInterrupted { .. }) => {
                self.emit(LinkEvent::ProtocolError(error));
            }
            other => {
                // §6.5.1: anything but ACK, NAK or EOT counts as NAK.
                self.ignore(other);
                if self.config.garbage_reply_is_nak {
                    self.frame_rejected(now);
                }
            }
        }
    }

    /// ACK (or EOT: receiver interrupt) to the outstanding frame.
    fn frame_acknowledged(&mut self, now: Instant, interrupt: bool) {
        let message_done = self
            .queue
            .front()
            .is_none_or(|message| self.tx.end >= message.text.len());
        if message_done && let Some(message) = self.queue.pop_front() {
            self.emit(LinkEvent::Delivered { id: message.id });
        }
        self.tx.number = self.tx.number.next();
        self.tx.failures = 0;
        if interrupt {
            // §6.3.5: terminate; no ENQ for 15 s or until the other side has sent. A message
            // cut short is sent again from its first frame next session.
            self.finish_transfer(SessionEnd::Interrupted);
            self.hold(
                now,
                self.config.timeouts.interrupt_holdoff,
                HoldReason::Interrupt,
            );
        } else if message_done {
            // §6.3.2: numbering continues across the messages of a session.
            self.begin_message(now);
        } else {
            self.tx.start = self.tx.end;
            self.tx.end = self.frame_end(self.tx.start);
            self.transmit(now);
        }
    }

    /// NAK (or garbage) to the outstanding frame: retransmit, or give up (§6.5.1).
    fn frame_rejected(&mut self, now: Instant) {
        self.tx.failures = self.tx.failures.saturating_add(1);
        if self.tx.failures >= self.config.frame_attempts {
            let reason = FailReason::FrameRejected {
                number: self.tx.number,
                attempts: self.tx.failures,
            };
            self.abort_transfer(now, reason);
        } else {
            self.transmit(now);
        }
    }

    /// Gives up the head message: EOT, `Failed`, and a pause before the next ENQ.
    fn abort_transfer(&mut self, now: Instant, reason: FailReason) {
        if let Some(message) = self.queue.pop_front() {
            self.emit(LinkEvent::Failed {
                id: message.id,
                reason,
                text: message.text,
            });
        }
        self.finish_transfer(SessionEnd::Aborted);
        self.hold(now, self.config.timeouts.retry_delay, HoldReason::Retry);
    }

    /// Termination phase as sender (§6.4).
    fn finish_transfer(&mut self, reason: SessionEnd) {
        self.write(EOT);
        self.phase = Phase::Neutral;
        self.emit(LinkEvent::SessionEnded {
            direction: Direction::Sending,
            reason,
        });
    }

    // --- receiving ---------------------------------------------------------------------------

    fn receiving_item(&mut self, item: FrameItem<'_>, now: Instant, enq_cut_frame: bool) {
        match item {
            // By reference: a copy of the frame would load, as a whole, fields that
            // were just stored one by one, and stall until the stores complete.
            FrameItem::Frame(ref frame) => self.receive_frame(frame, now),
            FrameItem::Control {
                control: Control::Eot,
                ..
            } => self.end_receive(SessionEnd::Completed, PartialReason::EndOfTransmission),
            FrameItem::Control {
                control: Control::Enq,
                ..
            } => {
                if enq_cut_frame {
                    // Most likely a corrupted CR inside the frame: the sender still waits
                    // for a reply to it, and NAK makes it retransmit. A sender that really
                    // started over takes NAK as "busy" and tries again.
                    self.reply(NAK, now);
                } else {
                    self.end_receive(SessionEnd::PeerRestarted, PartialReason::PeerRestarted);
                    match self.config.enq_while_receiving {
                        EnqWhileReceiving::EndSessionAndNak => self.write(NAK),
                        EnqWhileReceiving::RestartAndAck => self.answer_enq(now),
                    }
                }
            }
            FrameItem::Error(error @ (Error::FrameTooLong { .. } | Error::EmptyFrame { .. })) => {
                // A defective frame the sender waits for a reply to (§6.5.1).
                self.reply(NAK, now);
                self.emit(LinkEvent::ProtocolError(error));
            }
            other => self.ignore(other),
        }
    }

    fn receive_frame(&mut self, frame: &Frame<'_>, now: Instant) {
        let offset = frame.offset;
        if self.rx.awaiting_decision {
            // The sender must wait for our reply to its last frame; a frame now is out of
            // turn. No reply: the one it waits for comes with the caller's decision.
            self.warn(Warning::UnexpectedFrame { offset });
            return;
        }
        if self.rx.refusing {
            // Checked before the duplicate rule: the retransmitted last frame of a refused
            // message must be refused again, not acknowledged as a lost-ACK duplicate.
            self.reply(NAK, now);
            return;
        }
        let Some(number) = frame.number() else {
            self.reply(NAK, now);
            self.emit(LinkEvent::ProtocolError(Error::InvalidFrameNumber {
                offset,
                byte: frame.number_byte,
            }));
            return;
        };
        // The usual case is decided on the variant alone (see `receiving_item`).
        let verdict = if matches!(frame.checksum, Checksum::Valid) {
            ChecksumVerdict::Accept
        } else {
            self.config.frame.checksum_verdict(frame.checksum)
        };
        if verdict == ChecksumVerdict::Reject {
            self.reply(NAK, now);
            self.emit(LinkEvent::ProtocolError(Error::ChecksumRejected {
                offset,
                number_byte: frame.number_byte,
                checksum: frame.checksum,
            }));
            return;
        }
        let repeats_last = || self.last_frame_text() == frame.text;
        let note = match self
            .rx
            .classify(number, frame, &self.config.frame, repeats_last)
        {
            Classified::Duplicate => {
                self.reply_accept(now);
                self.warn(Warning::DuplicateFrame { offset, number });
                return;
            }
            Classified::Unexpected => {
                self.reply(NAK, now);
                self.emit(LinkEvent::ProtocolError(Error::UnexpectedFrameNumber {
                    offset,
                    expected: self.rx.expected.value(),
                    received: number.value(),
                }));
                return;
            }
            Classified::Accept(note) => note,
        };
        if self.rx.overflowed || self.events_full() {
            // The message is already too large, or the caller is not draining events: refuse
            // the frame; the sender retries and eventually gives up.
            self.reply(NAK, now);
            return;
        }
        match self.rx.message.push(frame) {
            Err(error) => {
                self.report_partial(PartialReason::TooLarge);
                self.rx.overflowed = true;
                self.reply(NAK, now);
                self.emit(LinkEvent::ProtocolError(error));
            }
            Ok(complete) => {
                self.rx.remember(number, frame);
                if verdict == ChecksumVerdict::AcceptWithWarning {
                    let checksum = frame.checksum;
                    self.rx.note(Warning::ChecksumAccepted {
                        offset,
                        number,
                        checksum,
                    });
                }
                if let Some(warning) = note {
                    self.rx.note(warning);
                }
                if let Some(message) = complete {
                    let warnings = self.rx.take_warnings();
                    self.queued_messages = self.queued_messages.saturating_add(1);
                    self.emit(LinkEvent::MessageReceived {
                        text: message.text,
                        frames: message.frames,
                        warnings,
                    });
                    if self.config.hold_message_ack {
                        self.rx.awaiting_decision = true;
                        return;
                    }
                }
                self.reply_accept(now);
            }
        }
    }

    /// The text of the last accepted frame (see [`LastText`]).
    fn last_frame_text(&self) -> &[u8] {
        match self.rx.last_at {
            LastText::Copied => &self.rx.last_text,
            LastText::InMessage => self.rx.tail(self.rx.message.text()),
            LastText::InEvent => {
                let newest = self.events.iter().rev().find_map(|event| match event {
                    LinkEvent::MessageReceived { text, .. } => Some(text.as_slice()),
                    _ => None,
                });
                self.rx.tail(newest.unwrap_or_default())
            }
        }
    }

    /// A [`LinkEvent::MessageReceived`] with `text` was taken from the queue. If it was
    /// the newest and its last frame may still be retransmitted, that frame's text is
    /// copied now.
    fn message_polled(&mut self, text: &[u8]) {
        self.queued_messages = self.queued_messages.saturating_sub(1);
        if self.queued_messages == 0 && self.rx.last_at == LastText::InEvent {
            self.rx.keep_last_text(text);
        }
    }

    fn report_partial(&mut self, reason: PartialReason) {
        if let Some(partial) = self.rx.take_partial() {
            self.rx.warnings.clear();
            self.rx.warnings_dropped = 0;
            self.emit(LinkEvent::PartialMessage {
                text: partial.text,
                frames: partial.frames,
                reason,
            });
        }
    }

    /// Ends a receive session: reports what is left of a message, back to neutral.
    fn end_receive(&mut self, reason: SessionEnd, partial: PartialReason) {
        self.report_partial(partial);
        self.rx.clear();
        self.phase = Phase::Neutral;
        self.emit(LinkEvent::SessionEnded {
            direction: Direction::Receiving,
            reason,
        });
        // The other side has had its session: a contention or interrupt hold-off is over.
        if let Some(Hold {
            reason: HoldReason::Contention | HoldReason::Interrupt,
            ..
        }) = self.hold
        {
            self.hold = None;
        }
    }
}

// The tests live in `link/`; the explicit paths resolve the same whether this file is compiled
// as `crate::link` or included elsewhere with `#[path]`.
#[cfg(test)]
#[path = "link/tests.rs"]
mod tests;

#[cfg(test)]
#[path = "link/sim.rs"]
mod sim;
