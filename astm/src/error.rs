//! The crate's error type.
//!
//! One `#[non_exhaustive]` enum for every layer of the crate. Link-layer variants carry the
//! stream byte offset of the frame they concern (counted from the first byte ever fed to the
//! [`FrameDecoder`](crate::frame::FrameDecoder) of the connection) and, where one was read, the
//! frame number byte. Variants about a message being sent carry the offset inside that message
//! text instead. Record-layer (E1394) errors are [`Error::Record`], with offsets into the
//! message text.
//!
//! Most link-layer errors are not returned from a function: the [`Link`](crate::link::Link)
//! recovers from them (by a NAK, or by ignoring the bytes) and reports them as
//! [`LinkEvent::ProtocolError`](crate::link::LinkEvent::ProtocolError).

use crate::frame::Checksum;

/// Everything that can go wrong in `labwire-astm`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A frame's text was longer than the configured limit
    /// ([`FrameOptions::max_text`](crate::frame::FrameOptions::max_text)). The decoder discarded
    /// it up to its terminator (ETB or ETX) without buffering it; a receiver answers NAK.
    #[error("frame at byte {offset}: text longer than {limit} bytes, discarded")]
    FrameTooLong {
        /// Stream offset of the frame's STX.
        offset: u64,
        /// The byte in the frame-number position.
        number_byte: u8,
        /// The limit that was exceeded.
        limit: usize,
    },

    /// `STX` directly followed by `ETB` or `ETX`: there is not even a frame number.
    #[error("frame at byte {offset}: no frame number between STX and the terminator")]
    EmptyFrame {
        /// Stream offset of the frame's STX.
        offset: u64,
    },

    /// A frame was cut off by a control character (STX, ENQ, EOT, ACK or NAK) before its
    /// terminator. These characters may not occur in frame text (E1381 §6.6, LIS01 §8.6), so the
    /// partial frame is dropped and the control character is processed on its own.
    #[error("frame at byte {offset}: cut off by control byte {byte:#04x} at byte {at}")]
    FrameInterrupted {
        /// Stream offset of the frame's STX.
        offset: u64,
        /// Stream offset of the interrupting control character.
        at: u64,
        /// The interrupting control character.
        byte: u8,
    },

    /// The byte after STX is not an ASCII digit `0`..=`7` (E1381 §6.3.2).
    #[error("frame at byte {offset}: frame number byte {byte:#04x} is not a digit 0-7")]
    InvalidFrameNumber {
        /// Stream offset of the frame's STX.
        offset: u64,
        /// The byte found in the frame-number position.
        byte: u8,
    },

    /// The frame number is neither the expected one nor a repetition of the last accepted frame
    /// (E1381 §6.5.1 rule 3); a receiver answers NAK.
    #[error("frame at byte {offset}: frame number {received}, expected {expected}")]
    UnexpectedFrameNumber {
        /// Stream offset of the frame's STX.
        offset: u64,
        /// The frame number the receiver expected (0..=7).
        expected: u8,
        /// The frame number received (0..=7).
        received: u8,
    },

    /// The checksum did not pass the configured policy (E1381 §6.3.3); a receiver answers NAK.
    #[error("frame {number_byte:#04x} at byte {offset}: checksum rejected: {checksum}")]
    ChecksumRejected {
        /// Stream offset of the frame's STX.
        offset: u64,
        /// The byte in the frame-number position.
        number_byte: u8,
        /// What was wrong with the checksum.
        checksum: Checksum,
    },

    /// A message is larger than the configured maximum. When receiving, `offset` is the stream
    /// offset of the frame that crossed the limit; when sending, it is `None`.
    #[error("message of at least {size} bytes exceeds the limit of {limit} bytes")]
    MessageTooLarge {
        /// Size reached (received) or requested (sent), in bytes.
        size: usize,
        /// The configured limit.
        limit: usize,
        /// Stream offset of the frame that crossed the limit, when receiving.
        offset: Option<u64>,
    },

    /// A message to be sent contains a character that E1381 §6.6 (LIS01 §8.6) forbids in frame
    /// text; see [`is_restricted`](crate::frame::is_restricted).
    #[error("restricted character {byte:#04x} at offset {offset} of the message text")]
    RestrictedByte {
        /// Offset of the byte inside the message text.
        offset: usize,
        /// The offending byte.
        byte: u8,
    },

    /// The send queue is full; the message was not queued.
    #[error("send queue is full ({capacity} messages)")]
    QueueFull {
        /// The configured queue capacity.
        capacity: usize,
    },

    /// A configuration value is out of range.
    #[error("invalid configuration: {field}: {reason}")]
    InvalidConfig {
        /// Name of the offending field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// An E1394 message was refused (strict mode, or no usable H record).
    #[error(transparent)]
    Record(#[from] crate::record::RecordError),
}
