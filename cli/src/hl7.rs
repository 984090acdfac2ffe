//! HL7 v2 input: MLLP frames, batch files or plain messages, parsed and mapped.

use labwire_hl7::{BatchFile, MapOptions, Message, MllpDecoder, ParseOptions, Status};

use crate::decode::Decoded;

/// Splits HL7 input into messages: MLLP frames if framed, else at each `MSH`
/// segment. Batch files (FHS/BHS) are handled by [`decode`] before this.
pub(crate) fn messages(bytes: &[u8]) -> Vec<Vec<u8>> {
    // A UTF-8 byte order mark, then blank lines, may come before the first MSH.
    let bom = if bytes.starts_with(b"\xef\xbb\xbf") {
        3
    } else {
        0
    };
    let start = bytes
        .iter()
        .skip(bom)
        .position(|b| !b.is_ascii_whitespace())
        .map_or(0, |at| at + bom);
    if bytes.get(start) == Some(&0x0b) {
        let mut decoder = MllpDecoder::new(crate::input::MAX_INPUT_BYTES as usize);
        let mut messages = Vec::new();
        if decoder.push(bytes).is_ok() {
            while let Ok(Status::Complete(frame)) = decoder.next_frame() {
                messages.push(frame.payload.to_vec());
            }
        }
        return messages;
    }
    let mut starts: Vec<usize> = Vec::new();
    for (index, window) in bytes.windows(3).enumerate() {
        let at_line_start =
            index == start || matches!(bytes.get(index.wrapping_sub(1)), Some(b'\r' | b'\n'));
        if at_line_start && window == b"MSH" {
            starts.push(index);
        }
    }
    let mut messages = Vec::new();
    for (position, begin) in starts.iter().enumerate() {
        let end = starts.get(position + 1).copied().unwrap_or(bytes.len());
        if let Some(message) = bytes.get(*begin..end) {
            messages.push(message.to_vec());
        }
    }
    messages
}

/// Decodes HL7 input into lab events; each message is parsed and mapped on its
/// own, so one bad message does not hide the others.
pub(crate) fn decode(name: &str, bytes: &[u8], strict: bool) -> Decoded {
    let mut decoded = Decoded::default();
    let parse_options = if strict {
        ParseOptions::strict()
    } else {
        ParseOptions::default()
    };
    let map_options = if strict {
        MapOptions::strict()
    } else {
        MapOptions::default()
    };
    let trimmed = bytes
        .strip_prefix(b"\xef\xbb\xbf".as_slice())
        .unwrap_or(bytes);
    let trimmed = trimmed
        .get(
            trimmed
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(0)..,
        )
        .unwrap_or_default();
    if trimmed.starts_with(b"FHS") || trimmed.starts_with(b"BHS") {
        match BatchFile::parse(bytes, &parse_options) {
            Ok(batch) => {
                decoded.warnings.extend(
                    batch
                        .warnings()
                        .iter()
                        .map(|warning| format!("{name}: {warning}")),
                );
                for (index, message) in batch.messages().enumerate() {
                    map_one(
                        &format!("{name}: message {}", index + 1),
                        message,
                        &map_options,
                        &mut decoded,
                    );
                }
            }
            Err(error) => decoded.errors.push(format!("{name}: {error}")),
        }
        return decoded;
    }
    let messages = messages(bytes);
    if messages.is_empty() {
        decoded.errors.push(format!("{name}: no HL7 message found"));
    }
    let several = messages.len() > 1;
    for (index, text) in messages.iter().enumerate() {
        let location = if several {
            format!("{name}: message {}", index + 1)
        } else {
            name.to_owned()
        };
        match Message::parse(text, &parse_options) {
            Ok(message) => map_one(&location, &message, &map_options, &mut decoded),
            Err(error) => decoded.errors.push(format!("{location}: {error}")),
        }
    }
    decoded
}

fn map_one(location: &str, message: &Message<'_>, options: &MapOptions, decoded: &mut Decoded) {
    decoded.warnings.extend(
        message
            .warnings()
            .iter()
            .map(|warning| format!("{location}: {warning}")),
    );
    match labwire_hl7::to_events(message, options) {
        Ok(mapped) => {
            decoded.warnings.extend(
                mapped
                    .warnings
                    .iter()
                    .map(|warning| format!("{location}: {warning}")),
            );
            decoded.events.extend(mapped.events);
        }
        Err(error) => decoded.errors.push(format!("{location}: {error}")),
    }
}
