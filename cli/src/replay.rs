//! The `replay` command: act as an instrument and send captured messages to a LIS or
//! gateway, over MLLP (HL7, waiting for each ACK) or E1381 over TCP (ASTM, through
//! the sender state machine), and report what was acknowledged.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant as Clock};

use labwire_astm::link::{Instant, Link, LinkConfig, LinkEvent, MessageId, Role};
use labwire_hl7::{Message, MllpDecoder, ParseOptions, Status};
use serde::Serialize;

/// The wire protocol to replay with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Protocol {
    /// HL7 v2 messages in MLLP frames; each waits for its ACK.
    Mllp,
    /// ASTM messages through the E1381 link protocol (ENQ, frames, EOT).
    Astm,
}

/// What happened to one message.
#[derive(Serialize)]
pub(crate) struct Outcome {
    /// The input it came from.
    pub(crate) file: String,
    /// Its number in that input, from 1.
    pub(crate) message: usize,
    /// `acknowledged`, `rejected` (an error ACK) or `failed`.
    pub(crate) outcome: &'static str,
    /// The acknowledgement code (MSA-1), for HL7.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ack: Option<String>,
    /// Why it failed, or the ACK's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) detail: Option<String>,
}

/// Sends HL7 messages over one MLLP connection, each after the previous ACK.
pub(crate) fn mllp(
    address: &str,
    file: &str,
    messages: &[Vec<u8>],
    timeout: Duration,
) -> Result<Vec<Outcome>, String> {
    let mut stream = TcpStream::connect(address).map_err(|err| format!("{address}: {err}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|err| err.to_string())?;
    let mut decoder = MllpDecoder::new(16 * 1024 * 1024);
    let mut outcomes = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        let mut framed = Vec::with_capacity(message.len() + 3);
        labwire_hl7::mllp::encode(message, &mut framed).map_err(|err| err.to_string())?;
        stream
            .write_all(&framed)
            .map_err(|err| format!("{address}: {err}"))?;
        let outcome = match read_ack(&mut stream, &mut decoder) {
            Ok(ack) => ack_outcome(&ack),
            Err(reason) => ("failed", None, Some(reason)),
        };
        outcomes.push(Outcome {
            file: file.to_owned(),
            message: index + 1,
            outcome: outcome.0,
            ack: outcome.1,
            detail: outcome.2,
        });
    }
    Ok(outcomes)
}

pub(crate) fn read_ack(
    stream: &mut TcpStream,
    decoder: &mut MllpDecoder,
) -> Result<Vec<u8>, String> {
    let mut buffer = [0u8; 8192];
    loop {
        if let Status::Complete(frame) = decoder.next_frame().map_err(|err| err.to_string())? {
            return Ok(frame.payload.to_vec());
        }
        let read = stream
            .read(&mut buffer)
            .map_err(|err| format!("waiting for the ACK: {err}"))?;
        if read == 0 {
            return Err("the connection closed before the ACK".into());
        }
        decoder
            .push(buffer.get(..read).unwrap_or_default())
            .map_err(|err| err.to_string())?;
    }
}

/// `(outcome, MSA-1, MSA-3 or ERR text)` of an ACK.
pub(crate) fn ack_outcome(ack: &[u8]) -> (&'static str, Option<String>, Option<String>) {
    let Ok(message) = Message::parse(ack, &ParseOptions::default()) else {
        return (
            "failed",
            None,
            Some("the reply is not an HL7 message".into()),
        );
    };
    let text = |path: &str| {
        message
            .get(path)
            .and_then(|value| value.decoded().ok())
            .map(|text| text.into_owned())
            .filter(|text| !text.is_empty())
    };
    let code = text("MSA-1");
    let outcome = match code.as_deref() {
        Some("AA" | "CA") => "acknowledged",
        Some(_) => "rejected",
        None => "failed",
    };
    (outcome, code, text("MSA-3").or_else(|| text("ERR-8")))
}

/// Sends ASTM messages as an instrument over one TCP connection with the E1381
/// sender state machine, until each is delivered or failed.
pub(crate) fn astm(
    address: &str,
    file: &str,
    messages: Vec<Vec<u8>>,
    timeout: Duration,
) -> Result<Vec<Outcome>, String> {
    let mut stream = TcpStream::connect(address).map_err(|err| format!("{address}: {err}"))?;
    let mut link = Link::new(LinkConfig::new(Role::Instrument)).map_err(|err| err.to_string())?;
    let started = Clock::now();
    let now =
        || Instant::from_millis(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    let mut ids: Vec<MessageId> = Vec::new();
    for message in messages {
        ids.push(link.send(message, now()).map_err(|err| err.to_string())?);
    }
    let mut results: Vec<Option<Result<(), String>>> = vec![None; ids.len()];
    let mut buffer = [0u8; 8192];
    while results.iter().any(Option::is_none) {
        let output = link.take_output();
        if !output.is_empty() {
            stream
                .write_all(&output)
                .map_err(|err| format!("{address}: {err}"))?;
        }
        while let Some(event) = link.poll_event() {
            let (id, result) = match event {
                LinkEvent::Delivered { id } => (id, Ok(())),
                LinkEvent::Failed { id, reason, .. } => (id, Err(format!("{reason:?}"))),
                _ => continue,
            };
            if let Some(slot) = ids
                .iter()
                .position(|known| *known == id)
                .and_then(|at| results.get_mut(at))
            {
                *slot = Some(result);
            }
        }
        if results.iter().all(Option::is_some) {
            break;
        }
        if started.elapsed() > timeout {
            return Err(format!("{address}: no outcome after {timeout:?}"));
        }
        // Wait for bytes until the link's next deadline (or a short poll).
        let wait = link
            .next_deadline()
            .map(|deadline| {
                Duration::from_millis(deadline.as_millis().saturating_sub(now().as_millis()))
            })
            .unwrap_or(Duration::from_millis(100))
            .clamp(Duration::from_millis(1), Duration::from_millis(500));
        stream
            .set_read_timeout(Some(wait))
            .map_err(|err| err.to_string())?;
        match stream.read(&mut buffer) {
            Ok(0) => return Err(format!("{address}: the connection closed")),
            Ok(read) => link.handle_bytes(buffer.get(..read).unwrap_or_default(), now()),
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(err) => return Err(format!("{address}: {err}")),
        }
        link.handle_timeout(now());
    }
    let _ = stream.write_all(&link.take_output());
    Ok(results
        .into_iter()
        .enumerate()
        .map(|(index, result)| {
            let failure = result.and_then(Result::err);
            Outcome {
                file: file.to_owned(),
                message: index + 1,
                outcome: if failure.is_none() {
                    "acknowledged"
                } else {
                    "failed"
                },
                ack: None,
                detail: failure,
            }
        })
        .collect())
}
