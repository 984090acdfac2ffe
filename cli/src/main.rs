//! `labwire`: decode laboratory instrument data (HL7 v2, ASTM E1381/E1394) into lab
//! events, and map them to MQTT topics and payloads.
//!
//! ```text
//! labwire decode [--format auto|hl7|astm|dicom] [--strict] [--pretty] PATH...
//! labwire validate PATH...
//! labwire convert --to json|hl7|astm PATH...
//! labwire mqtt --config FILE [--now RFC3339] [--seed N] PATH...
//! labwire replay --to HOST:PORT --protocol mllp|astm PATH...
//! labwire gateway --config FILE
//! ```
//!
//! Paths may be files, directories (read recursively) or `-` for stdin. Events go to
//! stdout as JSON lines; warnings and errors go to stderr with the file name and
//! location. Exit status: 0 all good, 1 some input rejected (everything else is still
//! written), 2 usage or configuration error.
#![forbid(unsafe_code)]

mod convert;
mod decode;
mod gateway;
mod input;
mod load;
mod mqtt;
mod replay;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::decode::{AstmDialect, DecodeOptions, Format, TextCharset};

/// Laboratory instrument data to lab events and MQTT.
#[derive(Parser)]
#[command(name = "labwire", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode files into lab events, one JSON object per line.
    Decode {
        #[command(flatten)]
        inputs: InputArgs,
        /// Indent the JSON for people.
        #[arg(long)]
        pretty: bool,
    },
    /// Check files against the standard: every deviation is reported with its
    /// location on stderr; exit status 1 if there is any.
    Validate {
        #[command(flatten)]
        inputs: InputArgs,
    },
    /// Convert instrument data through the lab model: to JSON lines (`json`), to HL7
    /// v2.5.1 (`hl7`: results as OUL^R22, work orders as OML^O33) or to ASTM
    /// (`astm`: work orders as an order download). Events the target cannot carry
    /// are reported on stderr and exit status is 1.
    Convert {
        #[command(flatten)]
        inputs: InputArgs,
        /// The output format.
        #[arg(long, value_enum)]
        to: convert::Target,
        /// The message time to write (RFC 3339); default now.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
    },
    /// Act as an instrument: send the messages of each file to HOST:PORT over MLLP
    /// (HL7; each waits for its ACK) or E1381 (ASTM; through the sender state
    /// machine), and write one JSON line per message saying what was acknowledged.
    Replay {
        /// Where to send: the LIS or gateway listener.
        #[arg(long, value_name = "HOST:PORT")]
        to: String,
        /// The wire protocol.
        #[arg(long, value_enum)]
        protocol: replay::Protocol,
        /// Seconds to wait for an acknowledgement (MLLP) or for all messages (ASTM).
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        /// Load test (MLLP only): this many instruments send in parallel, and one
        /// summary line (throughput, ACK latency percentiles) replaces the
        /// per-message lines.
        #[arg(long, value_name = "N", default_value_t = 1)]
        connections: usize,
        /// Load test (MLLP only): each connection sends the messages this many times.
        #[arg(long, value_name = "N", default_value_t = 1)]
        repeat: usize,
        /// Files, directories (read recursively) or `-` for stdin.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Run the gateway: listen for instruments (HL7 over MLLP, ASTM over TCP, ASTM
    /// over a serial port with the `serial` feature) and publish what they send to an
    /// MQTT broker. An instrument's message is acknowledged only once the broker has
    /// it or it is safely spooled on disk. Writes one JSON line per listener
    /// (`{"listening", "address"}` or `"serial"`) on stdout, and `{"metrics"}` when
    /// `[metrics]` serves Prometheus counters; logs on stderr (level from LABWIRE_LOG:
    /// error, warn, info, debug); stops cleanly on SIGINT or SIGTERM.
    Gateway {
        /// The gateway configuration (TOML): listeners, broker, mapping, spool.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Decode files and map them to MQTT messages, one JSON object per line:
    /// topic, qos, retain, properties and payload. No broker needed: a dry run to
    /// design ACLs and consumers against.
    Mqtt {
        #[command(flatten)]
        inputs: InputArgs,
        /// The mapping configuration (TOML, or JSON if the name ends in .json).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The send time to stamp (RFC 3339); default now.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
        /// Seed of the message ids (reproducible output); default from the clock.
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
    },
}

#[derive(Args)]
struct InputArgs {
    /// Files, directories (read recursively) or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The input format.
    #[arg(long, value_enum, default_value = "auto")]
    format: Format,
    /// Reject input that deviates from the standard instead of warning.
    #[arg(long)]
    strict: bool,
    /// How the ASTM instrument fills its fields.
    #[arg(long, value_enum, default_value = "generic")]
    astm_dialect: AstmDialect,
    /// The character set of ASTM text.
    #[arg(long, value_enum, default_value = "utf8")]
    astm_charset: TextCharset,
}

impl InputArgs {
    /// Whether an input may be read as DICOM, so that only its header need be read.
    fn may_be_dicom(&self) -> bool {
        matches!(self.format, Format::Auto | Format::Dicom)
    }

    fn options(&self) -> DecodeOptions {
        DecodeOptions {
            format: self.format,
            strict: self.strict,
            dialect: self.astm_dialect,
            charset: self.astm_charset,
        }
    }
}

/// Exit status 1: some input was rejected.
const REJECTED: u8 = 1;
/// Exit status 2: usage or configuration error.
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(REJECTED),
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "labwire: {message}");
            ExitCode::from(USAGE)
        }
    }
}

/// Runs a command: `Ok(true)` when every input was accepted, `Ok(false)` when some
/// were rejected, `Err` for usage and configuration errors.
fn run(cli: Cli) -> Result<bool, String> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let all_good = match cli.command {
        Command::Decode { inputs, pretty } => {
            let mut sink = |event: &labwire_model::LabEvent, out: &mut dyn Write| {
                let written = if pretty {
                    serde_json::to_writer_pretty(&mut *out, event)
                } else {
                    serde_json::to_writer(&mut *out, event)
                };
                written.map_err(|err| err.to_string())?;
                out.write_all(b"\n").map_err(|err| err.to_string())
            };
            each_event(&inputs, &mut out, &mut sink)?
        }
        Command::Validate { inputs } => validate(&inputs)?,
        Command::Convert { inputs, to, now } => {
            let mut converter = convert::Converter::new(to, now.as_deref())?;
            let mut sink =
                |event: &labwire_model::LabEvent, out: &mut dyn Write| converter.write(event, out);
            each_event(&inputs, &mut out, &mut sink)?
        }
        Command::Replay {
            to,
            protocol,
            timeout,
            connections,
            repeat,
            paths,
        } if connections > 1 || repeat > 1 => {
            if protocol != replay::Protocol::Mllp {
                return Err("--connections and --repeat are for --protocol mllp".into());
            }
            let mut messages = Vec::new();
            for path in input::expand(&paths)? {
                let split = labwire::decode::split_hl7(&input::read(&path)?.bytes);
                if let Some(error) = split.errors.first() {
                    return Err(format!("{}: {error}", path.display()));
                }
                messages.extend(split.messages);
            }
            if messages.is_empty() {
                return Err("no HL7 message to send".into());
            }
            let summary = load::mllp(
                &to,
                &messages,
                connections.max(1),
                repeat.max(1),
                std::time::Duration::from_secs(timeout),
            )?;
            serde_json::to_writer(&mut out, &summary).map_err(|err| err.to_string())?;
            out.write_all(b"\n").map_err(|err| err.to_string())?;
            summary.acknowledged == summary.messages
        }
        Command::Replay {
            to,
            protocol,
            timeout,
            paths,
            ..
        } => replay_files(
            &to,
            protocol,
            std::time::Duration::from_secs(timeout),
            &paths,
            &mut out,
        )?,
        Command::Gateway { config } => {
            gateway::run(&config)?;
            true
        }
        Command::Mqtt {
            inputs,
            config,
            now,
            seed,
        } => {
            let mapper = mqtt::Mapper::load(&config, now.as_deref(), seed)?;
            let mut sink =
                |event: &labwire_model::LabEvent, out: &mut dyn Write| mapper.write(event, out);
            each_event(&inputs, &mut out, &mut sink)?
        }
    };
    out.flush()
        .map_err(|err| format!("writing stdout: {err}"))?;
    Ok(all_good)
}

/// Replays every file; `Ok(false)` if any message was not acknowledged.
fn replay_files(
    to: &str,
    protocol: replay::Protocol,
    timeout: std::time::Duration,
    paths: &[PathBuf],
    out: &mut dyn Write,
) -> Result<bool, String> {
    let mut all_acknowledged = true;
    let mut stderr = std::io::stderr().lock();
    for path in input::expand(paths)? {
        let input = input::read(&path)?;
        let sent = match protocol {
            replay::Protocol::Mllp => {
                let split = labwire::decode::split_hl7(&input.bytes);
                for problem in decode::named(&input.name, &split.errors) {
                    let _ = writeln!(stderr, "{problem}");
                }
                replay::mllp(to, &input.name, &split.messages, timeout)
            }
            replay::Protocol::Astm => {
                let split = labwire::decode::split_astm(
                    &input.bytes,
                    &labwire::decode::DecodeOptions::default(),
                );
                for problem in decode::named(&input.name, &split.errors)
                    .iter()
                    .chain(&decode::named(&input.name, &split.warnings))
                {
                    let _ = writeln!(stderr, "{problem}");
                }
                replay::astm(to, &input.name, split.messages, timeout)
            }
        };
        let outcomes = match sent {
            Ok(outcomes) => outcomes,
            Err(message) => {
                let _ = writeln!(stderr, "error: {}: {message}", input.name);
                all_acknowledged = false;
                continue;
            }
        };
        for outcome in &outcomes {
            all_acknowledged &= outcome.outcome == "acknowledged";
            serde_json::to_writer(&mut *out, outcome).map_err(|err| err.to_string())?;
            out.write_all(b"\n").map_err(|err| err.to_string())?;
        }
    }
    Ok(all_acknowledged)
}

/// Reads every input leniently and reports each deviation (warnings included) as a
/// problem; `Ok(false)` if there was any.
fn validate(inputs: &InputArgs) -> Result<bool, String> {
    let options = inputs.options().library();
    let mut stderr = std::io::stderr().lock();
    let mut clean = true;
    for path in input::expand(&inputs.paths)? {
        let decoded = match input::read_for_decoding(&path, inputs.may_be_dicom()) {
            Ok(input) => decode::decode(&input.name, &input.bytes, &options),
            Err(message) => decode::Decoded {
                errors: vec![message],
                ..decode::Decoded::default()
            },
        };
        for problem in decoded.errors.iter().chain(&decoded.warnings) {
            let _ = writeln!(stderr, "{problem}");
        }
        clean &= decoded.errors.is_empty() && decoded.warnings.is_empty();
        if decoded.errors.is_empty() && decoded.warnings.is_empty() {
            let _ = writeln!(
                stderr,
                "{}: ok ({} events)",
                path.display(),
                decoded.events.len()
            );
        }
    }
    Ok(clean)
}

/// Threads that read and decode files, at most (fewer on fewer cores).
const MAX_DECODE_THREADS: usize = 8;
/// Decoded files a worker may hold before the output takes them: bounds memory
/// (events only; a file's bytes are dropped once decoded).
const DECODED_AHEAD: usize = 32;

/// Decodes every input and hands each event to `sink`; reports warnings and errors
/// on stderr. Returns whether every input was accepted.
fn each_event(
    inputs: &InputArgs,
    out: &mut dyn Write,
    sink: &mut dyn FnMut(&labwire_model::LabEvent, &mut dyn Write) -> Result<(), String>,
) -> Result<bool, String> {
    let options = inputs.options().library();
    let files = input::expand(&inputs.paths)?;
    let progress = Progress::new(files.len());
    let may_be_dicom = inputs.may_be_dicom();
    let mut all_good = true;
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, MAX_DECODE_THREADS);
    std::thread::scope(|scope| {
        // Files are read and decoded by `workers` threads, file i by worker
        // i % workers, and taken back here in input order: the output is the same as
        // one thread's. Each worker runs at most DECODED_AHEAD files ahead, and holds
        // the bytes of one file at a time.
        let (files, options) = (&files, &options);
        let mut results = Vec::with_capacity(workers);
        for worker in 0..workers {
            let (sender, receiver) = std::sync::mpsc::sync_channel(DECODED_AHEAD);
            results.push(receiver);
            scope.spawn(move || {
                for path in files.iter().skip(worker).step_by(workers) {
                    let outcome = input::read_for_decoding(path, may_be_dicom).map(|input| {
                        let decoded = decode::decode(&input.name, &input.bytes, options);
                        (input.name, decoded)
                    });
                    if sender.send(outcome).is_err() {
                        return;
                    }
                }
            });
        }
        for index in 0..files.len() {
            let Some(Ok(outcome)) = results.get(index % workers).map(|worker| worker.recv()) else {
                break;
            };
            let (name, decoded) = match outcome {
                Ok(decoded) => decoded,
                Err(message) => {
                    progress.report(&format!("error: {message}"));
                    all_good = false;
                    progress.advance();
                    continue;
                }
            };
            for warning in &decoded.warnings {
                progress.report(&format!("warning: {warning}"));
            }
            for error in &decoded.errors {
                progress.report(&format!("error: {error}"));
            }
            all_good &= decoded.errors.is_empty();
            for event in &decoded.events {
                if let Err(message) = sink(event, out) {
                    // A mapping error rejects the event, not the run.
                    progress.report(&format!("error: {name}: {message}"));
                    all_good = false;
                }
            }
            progress.advance();
        }
    });
    progress.finish();
    Ok(all_good)
}

/// A progress bar on stderr when there are more than a handful of files and stderr is
/// a terminal; otherwise messages go to stderr through a buffer (thousands of warning
/// lines must not cost a system call each), flushed at the end.
struct Progress(
    Option<indicatif::ProgressBar>,
    std::cell::RefCell<std::io::BufWriter<std::io::Stderr>>,
);

impl Progress {
    /// More files than this get a bar.
    const HANDFUL: usize = 8;

    fn new(files: usize) -> Self {
        use std::io::IsTerminal;
        let stderr = std::cell::RefCell::new(std::io::BufWriter::new(std::io::stderr()));
        if files <= Self::HANDFUL || !std::io::stderr().is_terminal() {
            return Self(None, stderr);
        }
        let bar = indicatif::ProgressBar::new(files as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} files, {per_sec}, {eta} left",
        ) {
            bar.set_style(style);
        }
        Self(Some(bar), stderr)
    }

    /// Prints a warning or error line above the bar.
    fn report(&self, line: &str) {
        match &self.0 {
            Some(bar) => bar.println(line),
            None => {
                let _ = writeln!(self.1.borrow_mut(), "{line}");
            }
        }
    }

    fn advance(&self) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
        let _ = self.1.borrow_mut().flush();
    }
}
