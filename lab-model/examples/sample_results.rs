//! Reads the bundled sample result tables and prints one lab event per sample as
//! NDJSON: the model's lenient readers at work on what instruments actually send
//! (decimal commas, `>8`, `<0.5`, ranges as text, timestamps with and without zone).
//!
//! `cargo run -p labwire-model --example sample_results [FILE.tsv ...]`
//!
//! Until the `labwire` CLI decodes HL7, ASTM and DICOM, this is the README's
//! "main job on sample data".
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line example"
)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use labwire_model::{
    Coding, DecimalMark, Identifier, Instrument, Interpretation, LabEvent, LabResult, LabTimestamp,
    LoincCode, ModelError, Provenance, ReferenceRange, ResultReport, ResultStatus, ResultValue,
    Sensitive, SourceProtocol, Specimen, SpecimenRole, Unit,
};

/// One table: its settings and rows grouped by sample, in order of appearance.
struct Table {
    instrument: String,
    mark: DecimalMark,
    samples: Vec<(String, SpecimenRole, Vec<LabResult>)>,
}

fn non_empty(field: &str) -> Option<&str> {
    Some(field.trim()).filter(|f| !f.is_empty())
}

fn read_row(fields: &[&str], mark: DecimalMark) -> Result<LabResult, ModelError> {
    let field = |i: usize| fields.get(i).copied().and_then(non_empty);
    let unit = field(5).map(Unit::new);
    let raw_value = field(4).unwrap_or_default();
    let mut result = LabResult::new(
        Coding::local(field(2).unwrap_or_default()),
        ResultValue::from_text_lenient(raw_value, unit, mark),
        ResultStatus::from_code(field(8).unwrap_or("F")),
    );
    result.raw_value = Some(raw_value.into());
    result.loinc = field(3).map(LoincCode::parse).transpose()?;
    result.reference_range = field(6).map(|r| ReferenceRange::parse_lenient(r, mark));
    result.interpretation = field(7)
        .map(Interpretation::from_code)
        .into_iter()
        .collect();
    result.analyzed_at = field(9).map(LabTimestamp::parse_astm).transpose()?;
    Ok(result)
}

fn read_table(path: &Path) -> Result<Table, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut table = Table {
        instrument: String::from("instrument"),
        mark: DecimalMark::Point,
        samples: Vec::new(),
    };
    for (number, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["# decimal_mark", "comma"] => table.mark = DecimalMark::Comma,
            ["# instrument", slug] => table.instrument = (*slug).to_owned(),
            [first, ..] if first.starts_with('#') || line.trim().is_empty() => {}
            [sample, role, ..] => {
                // The error names the place, never the value (it may be an identifier).
                let result = read_row(&fields, table.mark)
                    .map_err(|e| format!("{}:{}: {e}", path.display(), number + 1))?;
                let role = SpecimenRole::from_code(role);
                match table.samples.last_mut() {
                    Some((last, _, results)) if last == sample => results.push(result),
                    _ => table
                        .samples
                        .push(((*sample).to_owned(), role, vec![result])),
                }
            }
            _ => {
                return Err(format!(
                    "{}:{}: expected tab-separated columns",
                    path.display(),
                    number + 1
                ));
            }
        }
    }
    Ok(table)
}

fn events(table: Table, file_name: &str) -> impl Iterator<Item = LabEvent> {
    let instrument = table.instrument;
    let file_name = file_name.to_owned();
    table
        .samples
        .into_iter()
        .map(move |(sample, role, mut results)| {
            for (index, result) in results.iter_mut().enumerate() {
                result.sequence = u32::try_from(index + 1).ok();
            }
            LabEvent::Results(ResultReport {
                instrument: Instrument::with_local_id(instrument.clone()),
                specimen: Some(Specimen {
                    ids: vec![Sensitive::new(Identifier::new(sample))],
                    role,
                    ..Specimen::default()
                }),
                results,
                provenance: Provenance {
                    message_id: Some(file_name.clone().into()),
                    ..Provenance::new(SourceProtocol::Other("sample-table".into()))
                },
                ..ResultReport::default()
            })
        })
}

fn main() -> ExitCode {
    let mut paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
        paths = vec![data.join("chem-01.tsv"), data.join("elisa-01.tsv")];
    }
    let mut status = ExitCode::SUCCESS;
    for path in paths {
        let table = match read_table(&path) {
            Ok(table) => table,
            Err(message) => {
                eprintln!("error: {message}");
                status = ExitCode::FAILURE;
                continue;
            }
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for event in events(table, &name) {
            match serde_json::to_string(&event) {
                Ok(json) => println!("{json}"),
                Err(e) => {
                    eprintln!("error: {name}: {e}");
                    status = ExitCode::FAILURE;
                }
            }
        }
    }
    status
}
