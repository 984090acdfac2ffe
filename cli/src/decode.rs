//! Decoding one input into lab events: `labwire::decode` (the library behind the C
//! API's decoder too), with the CLI's options and messages that name the file.

use labwire_astm::model::Dialect;
use labwire_astm::record::{Charset, RecordOptions};
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

impl DecodeOptions {
    /// The library's options for these.
    pub(crate) fn library(&self) -> labwire::decode::DecodeOptions {
        let mut options = labwire::decode::DecodeOptions::default();
        options.format = match self.format {
            Format::Auto => None,
            Format::Hl7 => Some(labwire::decode::Format::Hl7),
            Format::Astm => Some(labwire::decode::Format::Astm),
            Format::Dicom => Some(labwire::decode::Format::Dicom),
        };
        options.strict = self.strict;
        options.astm_dialect = self.dialect.dialect();
        options.astm_charset = charset(self.charset);
        options
    }
}

/// Decodes one input; every problem names the input first.
pub(crate) fn decode(
    name: &str,
    bytes: &[u8],
    options: &labwire::decode::DecodeOptions,
) -> Decoded {
    match labwire::decode::decode(bytes, options) {
        Ok(decoded) => Decoded {
            events: decoded.events,
            warnings: named(name, &decoded.warnings),
            errors: named(name, &decoded.errors),
        },
        Err(error) => Decoded {
            errors: vec![format!("{name}: {error}; use --format")],
            ..Decoded::default()
        },
    }
}

/// Problems as `name: location: what`.
pub(crate) fn named(name: &str, problems: &[labwire::decode::Problem]) -> Vec<String> {
    problems
        .iter()
        .map(|problem| format!("{name}: {problem}"))
        .collect()
}

/// Record-layer options for ASTM text in `charset`.
pub(crate) fn record_options(strict: bool, text: TextCharset) -> RecordOptions {
    RecordOptions {
        strict,
        charset: charset(text),
        ..RecordOptions::default()
    }
}

fn charset(text: TextCharset) -> Charset {
    match text {
        TextCharset::Utf8 => Charset::Utf8,
        TextCharset::Latin1 => Charset::Latin1,
        TextCharset::Windows1252 => Charset::Windows1252,
        TextCharset::ShiftJis => Charset::ShiftJis,
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
