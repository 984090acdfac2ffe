//! Decoding one input into lab events: `labwire::decode` (the library behind the C
//! API's decoder too), with the CLI's options and messages that name the file.

use std::io::Write;
use std::path::Path;

use labwire_astm::model::Dialect;
use labwire_astm::record::{Charset, RecordOptions};

use crate::input::{self, ReadBuffer};

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

/// What the library made of one input: its events and problems, or why its format
/// was not recognized.
pub(crate) type Outcome = Result<labwire::decode::Decoded, labwire::decode::DecodeError>;

/// Reads and decodes one input (`may_be_dicom`: only the header of a DICOM file is
/// read, see [`input::read_for_decoding`]); `Err` says, naming the input, why it could
/// not be read.
pub(crate) fn decode_file(
    path: &Path,
    may_be_dicom: bool,
    options: &labwire::decode::DecodeOptions,
    buffer: &mut ReadBuffer,
) -> Result<Outcome, String> {
    let header = input::read_for_decoding(path, may_be_dicom.then_some(options), buffer)?;
    Ok(match header {
        Some(decoded) => Ok(decoded),
        None => labwire::decode::decode(buffer.bytes(), options),
    })
}

/// Writes one line per problem of an input, `{level}{name}: {problem}`, `level`
/// being `warning: `, `error: ` or nothing; an input of unknown format is one error.
/// `warnings_first` orders the warnings before the errors. Returns whether there was
/// no error.
pub(crate) fn write_problems(
    out: &mut dyn Write,
    path: &Path,
    outcome: &Outcome,
    [warning, error]: [&str; 2],
    warnings_first: bool,
) -> std::io::Result<bool> {
    let decoded = match outcome {
        Ok(decoded) => decoded,
        Err(unknown) => {
            writeln!(out, "{error}{}: {unknown}; use --format", path.display())?;
            return Ok(false);
        }
    };
    if decoded.warnings.is_empty() && decoded.errors.is_empty() {
        return Ok(true);
    }
    // Formatted once, not once per line.
    let name = path.display().to_string();
    let warnings = decoded.warnings.iter().map(|problem| (warning, problem));
    let errors = decoded.errors.iter().map(|problem| (error, problem));
    let lines: &mut dyn Iterator<Item = _> = if warnings_first {
        &mut warnings.chain(errors)
    } else {
        &mut errors.chain(warnings)
    };
    for (level, problem) in lines {
        writeln!(out, "{level}{name}: {problem}")?;
    }
    Ok(decoded.errors.is_empty())
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
