//! The MLLP listener: HL7 v2 messages in, ACKs out after the broker (or the spool)
//! has them.

use std::sync::Arc;

use labwire_hl7::ack::{Ack, AcknowledgmentCode, ErrorCode, ErrorDetail, Severity};
use labwire_hl7::mllp::{self, MllpDecoder, Status};
use labwire_hl7::{MapOptions, Message, ParseOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Shared;
use super::config::ListenerConfig;

/// Serves one instrument connection until it closes, idles out or the gateway stops.
pub(crate) async fn connection(
    mut stream: TcpStream,
    peer: std::net::SocketAddr,
    listener: Arc<ListenerConfig>,
    shared: Arc<Shared>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let mut decoder = MllpDecoder::new(listener.max_message_bytes);
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        // Answer every complete frame before reading more: the sender waits for each ACK.
        loop {
            let payload = match decoder.next_frame() {
                Ok(Status::Complete(frame)) => frame.payload.to_vec(),
                Ok(Status::NeedMore) => break,
                Err(error) => {
                    // Oversized or broken framing: refuse it, keep it, keep the connection.
                    tracing::warn!(listener = %listener.name, %peer, %error, "MLLP framing error");
                    let _ = shared.dead_letter(&listener, "mllp", &[], &error.to_string());
                    let reply = reject_unreadable(&shared, &error);
                    if write_frame(&mut stream, &reply).await.is_err() {
                        return;
                    }
                    continue;
                }
            };
            let reply = handle_message(&payload, &listener, &shared).await;
            if write_frame(&mut stream, &reply).await.is_err() {
                return;
            }
        }
        let read = tokio::select! {
            read = tokio::time::timeout(listener.idle_timeout, stream.read(&mut buffer)) => read,
            _ = stopping.changed() => return,
        };
        let n = match read {
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(n)) => n,
            Err(_) => {
                tracing::info!(listener = %listener.name, %peer, "idle timeout; closing");
                return;
            }
        };
        if let Err(error) = decoder.push(buffer.get(..n).unwrap_or_default()) {
            tracing::warn!(listener = %listener.name, %peer, %error, "MLLP input refused");
        }
    }
}

async fn write_frame(stream: &mut TcpStream, payload: &[u8]) -> std::io::Result<()> {
    let mut framed = Vec::with_capacity(payload.len() + 3);
    if mllp::encode(payload, &mut framed).is_err() {
        return Err(std::io::Error::other("the ACK contains a framing byte"));
    }
    stream.write_all(&framed).await
}

/// Parses, maps and delivers one message; returns the ACK to send.
async fn handle_message(payload: &[u8], listener: &ListenerConfig, shared: &Shared) -> Vec<u8> {
    let now = shared.now();
    let control_id = shared.next_control_id();
    let message = match Message::parse(payload, &ParseOptions::default()) {
        Ok(message) => message,
        Err(error) => {
            tracing::warn!(listener = %listener.name, %error, "HL7 message refused");
            let _ = shared.dead_letter(listener, "hl7", payload, &error.to_string());
            return Ack::new(AcknowledgmentCode::ApplicationError, control_id, now)
                .for_parse_error(payload, &error)
                .unwrap_or_default();
        }
    };
    // AE with an ERR segment; for a message that could not be mapped or made safe.
    let error_ack = |code: ErrorCode, text: String| {
        Ack::new(
            AcknowledgmentCode::ApplicationError,
            control_id.clone(),
            now,
        )
        .with_error(ErrorDetail::new(code, Severity::Error).with_message(text))
        .for_message(&message)
        .unwrap_or_default()
    };
    let mapped = match labwire_hl7::to_events(&message, &MapOptions::default()) {
        Ok(mapped) => mapped,
        Err(error) => {
            tracing::warn!(listener = %listener.name, %error, "HL7 message not mapped");
            let _ = shared.dead_letter(listener, "hl7", payload, &error.to_string());
            return error_ack(ErrorCode::for_map_error(&error), error.to_string());
        }
    };
    for warning in &mapped.warnings {
        tracing::debug!(listener = %listener.name, %warning, "mapping warning");
    }
    match shared
        .publish(&mapped.events, listener, now, (payload, "hl7"))
        .await
    {
        Ok(()) => Ack::new(AcknowledgmentCode::ApplicationAccept, control_id, now)
            .for_message(&message)
            .unwrap_or_default(),
        // Not made safe: AE, not AR, so the instrument sends it again.
        Err(error) => error_ack(ErrorCode::APPLICATION_INTERNAL_ERROR, error),
    }
}

fn reject_unreadable(shared: &Shared, error: &labwire_hl7::Error) -> Vec<u8> {
    Ack::new(
        AcknowledgmentCode::ApplicationReject,
        shared.next_control_id(),
        shared.now(),
    )
    .for_parse_error(&[], error)
    .unwrap_or_default()
}
