//! The ASTM listener: E1381-framed E1394 records over TCP or a serial port, through
//! the receiver link state machine. The last frame of an LIS02 message (the one
//! carrying its L record) is acknowledged only after the broker or the spool has every
//! MQTT message it produced.
//!
//! A session is generic over its byte stream: a TCP connection and a serial port go
//! through the same code, so they give the same delivery guarantee. The one
//! difference is the idle timeout: a TCP connection that stays quiet is closed, a
//! serial line is not (there is nothing to reconnect; see [`idle_timeout`]).
//!
//! Many instruments send each record as its own E1381 message (one ETX per record);
//! others send the whole H…L in one. Records are therefore collected across E1381
//! messages until an L record completes the LIS02 message; the E1381 messages before
//! it are acknowledged at once, the one with the L record waits. Records left without
//! an L when the session ends are still mapped and delivered (they were acknowledged
//! already, so they must not be lost), flagged by a warning in the log.

use std::sync::Arc;
use std::time::Duration;

use labwire_astm::link::{Instant, Link, LinkConfig, LinkEvent, Role};
use labwire_astm::record::parse_messages;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::Shared;
use super::config::{ListenerConfig, Transport};
use crate::decode::record_options;

/// How long a session may stay quiet before it is closed: the listener's
/// `idle_timeout` for TCP; never for a serial port, where closing would only reopen
/// the same line (and flap the link status) while the instrument has nothing to say.
pub(crate) fn idle_timeout(listener: &ListenerConfig) -> Option<Duration> {
    match listener.transport {
        Transport::Tcp(_) => Some(listener.idle_timeout),
        Transport::Serial(_) => None,
    }
}

/// What one read gave.
enum Read {
    Bytes(usize),
    Closed,
    Idle,
}

/// Reads what is there, giving up after `idle` without a byte (`None`: never).
async fn read_some<S: AsyncRead + Unpin>(
    stream: &mut S,
    buffer: &mut [u8],
    idle: Option<Duration>,
) -> Read {
    let read = stream.read(buffer);
    let result = match idle {
        Some(idle) => match tokio::time::timeout(idle, read).await {
            Ok(result) => result,
            Err(_) => return Read::Idle,
        },
        None => read.await,
    };
    match result {
        Ok(0) => Read::Closed,
        Ok(n) => Read::Bytes(n),
        Err(error) => {
            tracing::debug!(%error, "read failed; ending the session");
            Read::Closed
        }
    }
}

/// Serves one instrument session (a TCP connection, or a serial port while it is
/// open) until it closes, idles out or the gateway stops. `peer` names the other end
/// in logs.
pub(crate) async fn connection<S>(
    mut stream: S,
    peer: &str,
    listener: Arc<ListenerConfig>,
    shared: Arc<Shared>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let idle = idle_timeout(&listener);
    let mut config = LinkConfig::new(Role::Computer);
    config.hold_message_ack = true;
    config.max_message = listener.max_message_bytes;
    let mut link = match Link::new(config) {
        Ok(link) => link,
        Err(error) => {
            tracing::error!(listener = %listener.name, %error, "link configuration");
            return;
        }
    };
    let started = std::time::Instant::now();
    let clock =
        || Instant::from_millis(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    let mut records: Vec<u8> = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    let mut stop_requested = false;
    loop {
        // Events first: a completed message is decided before anything else is read.
        while let Some(event) = link.poll_event() {
            match event {
                LinkEvent::MessageReceived { text, .. } => {
                    if records.len().saturating_add(text.len()) > listener.max_message_bytes {
                        let reason = "records without an L record exceed max_message_bytes";
                        let _ = shared.dead_letter(&listener, "astm", &records, reason);
                        records.clear();
                    }
                    if records.is_empty() && !starts_with_header(&text) {
                        // Not the start of an LIS02 message: nothing to collect it with.
                        let reason = "an E1381 message that does not start with an H record, outside an H…L message";
                        tracing::warn!(listener = %listener.name, %peer, reason);
                        let _ = shared.dead_letter(&listener, "astm", &text, reason);
                        link.refuse_message(clock());
                        continue;
                    }
                    records.extend_from_slice(&text);
                    if ends_with_terminator(&records) {
                        let accepted = deliver(&records, &listener, &shared).await;
                        records.clear();
                        if accepted {
                            link.accept_message(clock());
                        } else {
                            link.refuse_message(clock());
                        }
                    } else {
                        link.accept_message(clock());
                    }
                }
                LinkEvent::SessionEnded { .. } if !records.is_empty() => {
                    tracing::warn!(listener = %listener.name, %peer, "session ended without an L record; delivering the records received");
                    let _ = deliver(&records, &listener, &shared).await;
                    records.clear();
                }
                LinkEvent::PartialMessage { reason, frames, .. } => {
                    // Not acknowledged, so the instrument still has it and sends it again.
                    tracing::info!(listener = %listener.name, %peer, ?reason, frames, "incomplete E1381 message discarded");
                }
                LinkEvent::ProtocolError(error) => {
                    tracing::debug!(listener = %listener.name, %peer, %error, "E1381 protocol error");
                }
                _ => {}
            }
        }
        let output = link.take_output();
        if !output.is_empty() && stream.write_all(&output).await.is_err() {
            break;
        }
        if stop_requested && link.state() != labwire_astm::link::LinkState::Receiving {
            break;
        }
        let deadline = link.next_deadline().map(|deadline| {
            let millis = deadline.saturating_duration_since(clock());
            tokio::time::Instant::now() + millis
        });
        let timer = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            read = read_some(&mut stream, &mut buffer, idle) => {
                match read {
                    Read::Closed => break,
                    Read::Bytes(n) => link.handle_bytes(buffer.get(..n).unwrap_or_default(), clock()),
                    Read::Idle => {
                        tracing::info!(listener = %listener.name, %peer, "idle timeout; closing");
                        break;
                    }
                }
            }
            () = timer => link.handle_timeout(clock()),
            _ = stopping.changed(), if !stop_requested => stop_requested = true,
        }
    }
    if !records.is_empty() {
        tracing::warn!(listener = %listener.name, %peer, "connection closed without an L record; delivering the records received");
        let _ = deliver(&records, &listener, &shared).await;
    }
}

/// Serves a session that streams LIS02 records without E1381 framing: each
/// complete H…L message is delivered as it arrives (there is no acknowledgement to
/// hold back in this mode).
pub(crate) async fn raw_connection<S>(
    mut stream: S,
    peer: &str,
    listener: Arc<ListenerConfig>,
    shared: Arc<Shared>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) where
    S: AsyncRead + Unpin,
{
    let idle = idle_timeout(&listener);
    let mut pending: Vec<u8> = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = tokio::select! {
            read = read_some(&mut stream, &mut buffer, idle) => read,
            _ = stopping.changed() => break,
        };
        let n = match read {
            Read::Closed => break,
            Read::Bytes(n) => n,
            Read::Idle => {
                tracing::info!(listener = %listener.name, %peer, "idle timeout; closing");
                break;
            }
        };
        pending.extend_from_slice(buffer.get(..n).unwrap_or_default());
        // Deliver every complete message: up to the end of the last L record.
        while let Some(end) = end_of_terminator(&pending) {
            let message: Vec<u8> = pending.drain(..end).collect();
            let _ = deliver(&message, &listener, &shared).await;
        }
        if pending.len() > listener.max_message_bytes {
            let reason = "raw records without an L record exceed max_message_bytes";
            tracing::warn!(listener = %listener.name, %peer, reason);
            let _ = shared.dead_letter(&listener, "astm", &pending, reason);
            pending.clear();
        }
    }
    if pending.iter().any(|b| !b.is_ascii_whitespace()) {
        tracing::warn!(listener = %listener.name, %peer, "connection closed without an L record; delivering the records received");
        let _ = deliver(&pending, &listener, &shared).await;
    }
}

/// The end (after its CR or LF) of the first complete L record in `text`, if any.
fn end_of_terminator(text: &[u8]) -> Option<usize> {
    let mut start = 0;
    while let Some(offset) = text
        .get(start..)?
        .iter()
        .position(|b| matches!(b, b'\r' | b'\n'))
    {
        let end = start + offset;
        let record = text.get(start..end)?;
        let first = record.iter().find(|b| !b.is_ascii_whitespace());
        if matches!(first, Some(b'L' | b'l')) {
            return Some(end + 1);
        }
        start = end + 1;
    }
    None
}

/// Whether `text` starts (after blank lines) with an H record.
fn starts_with_header(text: &[u8]) -> bool {
    let first = text.iter().find(|b| !matches!(b, b'\r' | b'\n' | b' '));
    matches!(first, Some(b'H' | b'h'))
}

/// Whether the last record in `text` is an L (message terminator) record.
fn ends_with_terminator(text: &[u8]) -> bool {
    let trimmed = text
        .iter()
        .rposition(|b| !matches!(b, b'\r' | b'\n' | b' '))
        .and_then(|end| text.get(..=end))
        .unwrap_or_default();
    let start = trimmed
        .iter()
        .rposition(|b| matches!(b, b'\r' | b'\n'))
        .map_or(0, |at| at + 1);
    matches!(trimmed.get(start), Some(b'L' | b'l'))
}

/// Parses, maps and delivers the records of one LIS02 message (or several); `false`
/// if they were refused (and dead-lettered) or could not be made safe.
async fn deliver(text: &[u8], listener: &ListenerConfig, shared: &Shared) -> bool {
    let options = record_options(false, listener.charset);
    let events = match parse_messages(text, &options) {
        Ok((messages, warnings)) => {
            for warning in &warnings {
                tracing::debug!(listener = %listener.name, offset = warning.offset, record = warning.record, kind = ?warning.kind, "record warning");
            }
            let dialect = listener.dialect.dialect();
            messages
                .iter()
                .flat_map(|message| labwire_astm::model::to_events(message, &dialect))
                .collect::<Vec<_>>()
        }
        Err(error) => {
            tracing::warn!(listener = %listener.name, %error, "ASTM records refused");
            let _ = shared.dead_letter(listener, "astm", text, &error.to_string());
            return false;
        }
    };
    shared
        .publish(&events, listener, shared.now(), (text, "astm"))
        .await
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_messages_end_after_the_l_record() {
        let text = b"H|\\^&\rR|1|^^^GLU|5\rL|1|N\rH|\\^&\rR|1";
        let end = end_of_terminator(text).unwrap();
        assert_eq!(&text[..end], b"H|\\^&\rR|1|^^^GLU|5\rL|1|N\r");
        assert_eq!(end_of_terminator(&text[end..]), None);
        assert_eq!(
            end_of_terminator(b"L|1|N"),
            None,
            "not complete without its CR"
        );
        assert_eq!(end_of_terminator(b"\nL|1\n"), Some(5));
    }

    #[test]
    fn a_message_starts_with_its_header() {
        assert!(starts_with_header(b"H|\\^&\r"));
        assert!(starts_with_header(b"\r\nh|\\^&"));
        assert!(!starts_with_header(b"P|1\r"));
        assert!(!starts_with_header(b""));
    }

    #[test]
    fn the_terminator_is_the_last_record() {
        assert!(ends_with_terminator(b"H|\\^&\rL|1|N\r"));
        assert!(ends_with_terminator(b"L|1\r\n"));
        assert!(ends_with_terminator(b"H|\\^&\rl|1|N"));
        assert!(!ends_with_terminator(b"H|\\^&\rR|1|^^^GLU|5.4\r"));
        assert!(!ends_with_terminator(b""));
        assert!(!ends_with_terminator(b"H|\\^&\rL|1|N\rH|\\^&\r"));
    }
}
