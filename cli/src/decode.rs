//! Content detection and decoding of one input into lab events.

use labwire_astm::link::{Instant, Link, LinkConfig, LinkEvent, Role};
use labwire_astm::model::Dialect;
use labwire_astm::record::{Charset, RecordOptions, parse_messages};
use labwire_model::LabEvent;

/// A wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Decide from the content.
    Auto,
    /// HL7 v2 (ER7), with or without MLLP framing.
    Hl7,
    /// ASTM E1394 records, E1381-framed or raw.
    Astm,
    /// DICOM Part 10 or a bare data set.
    Dicom,
}

/// The ASTM dialect to read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum AstmDialect {
    /// CLSI LIS02-A2 as written.
    Generic,
    /// Sysmex XN series.
    SysmexXn,
    /// Roche cobas.
    RocheCobas,
}

/// The character set of ASTM text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TextCharset {
    /// UTF-8.
    Utf8,
    /// ISO 8859-1.
    Latin1,
    /// Windows-1252.
    Windows1252,
    /// Shift-JIS (Windows code page 932), as Japanese analyzers send.
    ShiftJis,
}

/// How to read inputs.
#[derive(Debug, Clone)]
pub(crate) struct DecodeOptions {
    pub(crate) format: Format,
    pub(crate) strict: bool,
    pub(crate) dialect: AstmDialect,
    pub(crate) charset: TextCharset,
}

/// What one input gave.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    /// The events, in input order.
    pub(crate) events: Vec<LabEvent>,
    /// Things accepted despite not following the standard, with their location.
    pub(crate) warnings: Vec<String>,
    /// Parts of the input that were rejected, with their location. Other parts may
    /// still have produced events.
    pub(crate) errors: Vec<String>,
}

/// Decides the format of `bytes` from its first bytes.
pub(crate) fn detect(bytes: &[u8]) -> Option<Format> {
    let dicom_at_128 = bytes.get(128..132) == Some(b"DICM".as_slice());
    if dicom_at_128 || bytes.starts_with(b"DICM") {
        return Some(Format::Dicom);
    }
    let text = bytes
        .strip_prefix(b"\xef\xbb\xbf".as_slice())
        .unwrap_or(bytes);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let text = text.get(start..)?;
    if text.starts_with(&[0x0b])
        || text.starts_with(b"MSH")
        || text.starts_with(b"FHS")
        || text.starts_with(b"BHS")
    {
        return Some(Format::Hl7);
    }
    if labwire_astm::frame::looks_framed(text).is_some() {
        return Some(Format::Astm);
    }
    // A data set without preamble: group 0002 or 0008 little endian comes first.
    if matches!(bytes.get(..2), Some([0x02 | 0x08, 0x00])) {
        return Some(Format::Dicom);
    }
    None
}

/// Decodes one input.
pub(crate) fn decode(name: &str, bytes: &[u8], options: &DecodeOptions) -> Decoded {
    let format = match options.format {
        Format::Auto => detect(bytes),
        chosen => Some(chosen),
    };
    match format {
        Some(Format::Astm) => decode_astm(name, bytes, options),
        Some(Format::Hl7) => crate::hl7::decode(name, bytes, options.strict),
        Some(Format::Dicom) => decode_dicom(name, bytes, options.strict),
        Some(Format::Auto) | None => Decoded {
            errors: vec![format!(
                "{name}: not HL7 (MSH or MLLP), ASTM (ENQ, STX or an H record) or DICOM (DICM); use --format"
            )],
            ..Decoded::default()
        },
    }
}

/// A DICOM file's header as an imaging study event. A header cut short (truncated
/// file, a limit reached) still maps what was read, and the problem is an error.
fn decode_dicom(name: &str, bytes: &[u8], strict: bool) -> Decoded {
    let mut decoded = Decoded::default();
    let mut options = labwire_dicom_meta::ParseOptions::default();
    options.strict = strict;
    match labwire_dicom_meta::parse_with(bytes, &options) {
        Ok(header) => {
            decoded.warnings.extend(
                header
                    .warnings()
                    .iter()
                    .map(|warning| format!("{name}: {warning}")),
            );
            if let Some(error) = header.error() {
                decoded.errors.push(format!("{name}: {error}"));
            }
            decoded
                .events
                .push(labwire_dicom_meta::model::lab_event(&header));
        }
        Err(error) => decoded.errors.push(format!("{name}: {error}")),
    }
    decoded
}

/// The message texts of an ASTM input: received through a link if framed, else
/// split at each H record.
pub(crate) fn astm_messages(name: &str, bytes: &[u8], decoded: &mut Decoded) -> Vec<Vec<u8>> {
    let texts = if labwire_astm::frame::looks_framed(bytes) == Some(true) {
        receive_framed(name, bytes, decoded)
    } else {
        vec![bytes.to_vec()]
    };
    let mut messages = Vec::new();
    for text in texts {
        match parse_messages(&text, &RecordOptions::default()) {
            Ok((parsed, _)) => {
                messages.extend(parsed.iter().map(|message| message.as_bytes().to_vec()))
            }
            Err(error) => decoded.errors.push(format!("{name}: {error}")),
        }
    }
    messages
}

fn decode_astm(name: &str, bytes: &[u8], options: &DecodeOptions) -> Decoded {
    let mut decoded = Decoded::default();
    let texts = if labwire_astm::frame::looks_framed(bytes) == Some(true) {
        receive_framed(name, bytes, &mut decoded)
    } else {
        vec![bytes.to_vec()]
    };
    let record_options = record_options(options.strict, options.charset);
    let dialect = options.dialect.dialect();
    for (index, text) in texts.iter().enumerate() {
        let location = if texts.len() > 1 {
            format!("{name}: message text {}", index + 1)
        } else {
            name.to_owned()
        };
        match parse_messages(text, &record_options) {
            Ok((messages, warnings)) => {
                decoded.warnings.extend(warnings.iter().map(|warning| {
                    format!(
                        "{location}: byte {}, record {}: {:?}",
                        warning.offset, warning.record, warning.kind
                    )
                }));
                for message in &messages {
                    decoded
                        .events
                        .extend(labwire_astm::model::to_events(message, &dialect));
                }
            }
            Err(error) => decoded.errors.push(format!("{location}: {error}")),
        }
    }
    decoded
}

/// Record-layer options for ASTM text in `charset`.
pub(crate) fn record_options(strict: bool, charset: TextCharset) -> RecordOptions {
    RecordOptions {
        strict,
        charset: match charset {
            TextCharset::Utf8 => Charset::Utf8,
            TextCharset::Latin1 => Charset::Latin1,
            TextCharset::Windows1252 => Charset::Windows1252,
            TextCharset::ShiftJis => Charset::ShiftJis,
        },
        ..RecordOptions::default()
    }
}

impl AstmDialect {
    /// The mapping dialect.
    pub(crate) fn dialect(self) -> Dialect {
        match self {
            AstmDialect::Generic => Dialect::generic(),
            AstmDialect::SysmexXn => Dialect::sysmex_xn(),
            AstmDialect::RocheCobas => Dialect::roche_cobas(),
        }
    }
}

/// Runs a capture through a receiving E1381 link, as the computer would have: frames
/// are checked, retransmissions dropped, messages reassembled.
fn receive_framed(name: &str, bytes: &[u8], decoded: &mut Decoded) -> Vec<Vec<u8>> {
    let mut texts = Vec::new();
    let mut link = match Link::new(LinkConfig::new(Role::Computer)) {
        Ok(link) => link,
        Err(error) => {
            decoded.errors.push(format!("{name}: {error}"));
            return texts;
        }
    };
    link.handle_bytes(bytes, Instant::from_millis(0));
    let _ = link.take_output();
    while let Some(event) = link.poll_event() {
        match event {
            LinkEvent::MessageReceived { text, warnings, .. } => {
                decoded.warnings.extend(
                    warnings
                        .iter()
                        .map(|warning| format!("{name}: {warning:?}")),
                );
                texts.push(text);
            }
            LinkEvent::PartialMessage { text, reason, .. } => {
                decoded.errors.push(format!(
                    "{name}: an incomplete message ({} bytes) was cut off: {reason:?}",
                    text.len()
                ));
            }
            LinkEvent::ProtocolError(error) => decoded.warnings.push(format!("{name}: {error}")),
            LinkEvent::Warning(warning) => decoded.warnings.push(format!("{name}: {warning:?}")),
            _ => {}
        }
    }
    texts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_detected_by_content() {
        assert_eq!(detect(b"MSH|^~\\&|"), Some(Format::Hl7));
        assert_eq!(detect(b"\x0bMSH|^~\\&|"), Some(Format::Hl7));
        assert_eq!(detect(b"\r\nH|\\^&|||"), Some(Format::Astm));
        assert_eq!(detect(b"\x05\x021H|"), Some(Format::Astm));
        let mut dicom = vec![0u8; 128];
        dicom.extend_from_slice(b"DICM");
        assert_eq!(detect(&dicom), Some(Format::Dicom));
        assert_eq!(detect(b"hello"), None);
    }
}
