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
            // Formatting is independent from event to event: the worker threads do it.
            let format = move |event: &labwire_model::LabEvent, out: &mut Vec<u8>| {
                let written = if pretty {
                    serde_json::to_writer_pretty(&mut *out, event)
                } else {
                    serde_json::to_writer(&mut *out, event)
                };
                written.map_err(|err| err.to_string())?;
                out.push(b'\n');
                Ok(())
            };
            each_event(&inputs, &mut out, Sink::Parallel(&format))?
        }
        Command::Validate { inputs } => validate(&inputs)?,
        Command::Convert { inputs, to, now } => {
            let mut converter = convert::Converter::new(to, now.as_deref())?;
            let mut sink =
                |event: &labwire_model::LabEvent, out: &mut dyn Write| converter.write(event, out);
            each_event(&inputs, &mut out, Sink::InOrder(&mut sink))?
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
            each_event(&inputs, &mut out, Sink::InOrder(&mut sink))?
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
    let mut buffer = input::ReadBuffer::new();
    let mut clean = true;
    for path in input::expand(&inputs.paths)? {
        let outcome = match decode::decode_file(&path, inputs.may_be_dicom(), &options, &mut buffer)
        {
            Ok(outcome) => outcome,
            Err(message) => {
                let _ = writeln!(stderr, "{message}");
                clean = false;
                continue;
            }
        };
        let _ = decode::write_problems(&mut stderr, &path, &outcome, ["", ""], false);
        match &outcome {
            Ok(decoded) if decoded.errors.is_empty() && decoded.warnings.is_empty() => {
                let _ = writeln!(
                    stderr,
                    "{}: ok ({} events)",
                    path.display(),
                    decoded.events.len()
                );
            }
            _ => clean = false,
        }
    }
    Ok(clean)
}

/// Threads that read and decode files, at most (fewer on fewer cores).
const MAX_DECODE_THREADS: usize = 8;
/// Files a worker takes at a time, at most: enough that handing work out and results
/// back costs little next to decoding, few enough that the workers share out a short
/// list evenly.
const FILES_PER_CHUNK: usize = 32;
/// Chunks each worker may be ahead of the output: bounds memory (a chunk holds the
/// events of its files, or their output; a file's bytes are not kept once decoded).
const CHUNKS_AHEAD_PER_WORKER: usize = 4;

/// Writes one event into a chunk's output; an error rejects the event.
type EventFormatter = dyn Fn(&labwire_model::LabEvent, &mut Vec<u8>) -> Result<(), String> + Sync;

/// Where events go.
enum Sink<'a> {
    /// Each event written on its own, by the worker threads, into a chunk's output.
    Parallel(&'a EventFormatter),
    /// The events written here, in input order: the sink numbers what it writes (the
    /// message ids of `mqtt`, the control ids of `convert`).
    InOrder(&'a mut dyn FnMut(&labwire_model::LabEvent, &mut dyn Write) -> Result<(), String>),
}

/// What a worker made of a run of consecutive files.
struct Chunk {
    /// Output, with [`Sink::Parallel`].
    stdout: Vec<u8>,
    /// Warning and error lines.
    stderr: Vec<u8>,
    /// With [`Sink::InOrder`], the events of each file that gave some: the file's
    /// index, where its lines in `stderr` end, its events.
    events: Vec<(usize, usize, Vec<labwire_model::LabEvent>)>,
    /// Whether every file was accepted.
    all_good: bool,
}

/// The chunks handed out and written, shared by the workers and the output.
struct Schedule {
    state: std::sync::Mutex<ScheduleState>,
    changed: std::sync::Condvar,
    chunks: usize,
    ahead: usize,
}

struct ScheduleState {
    /// The next chunk to hand out.
    next: usize,
    /// Chunks written so far.
    written: usize,
    /// No more chunks to hand out: the output stopped.
    stop: bool,
}

impl Schedule {
    fn lock(&self) -> std::sync::MutexGuard<'_, ScheduleState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next chunk to decode, once it is no more than `ahead` chunks ahead of the
    /// output; `None` when there is none left.
    fn take(&self) -> Option<usize> {
        let mut state = self.lock();
        loop {
            if state.stop || state.next >= self.chunks {
                return None;
            }
            if state.next < state.written.saturating_add(self.ahead) {
                let index = state.next;
                state.next = index.saturating_add(1);
                return Some(index);
            }
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    fn written(&self, chunks: usize) {
        self.lock().written = chunks;
        self.changed.notify_all();
    }

    fn stop(&self) {
        self.lock().stop = true;
        self.changed.notify_all();
    }
}

/// Stops the schedule when a worker unwinds, so that the others do not wait for its
/// chunk forever.
struct StopOnPanic<'a>(&'a Schedule);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.stop();
        }
    }
}

/// Decodes every input and writes its events through `sink` to `out`, warnings and
/// errors to stderr. Returns whether every input was accepted.
///
/// Worker threads (one per core) take chunks of consecutive files in turn, read and
/// decode them and, with [`Sink::Parallel`], write their output; this thread writes
/// the chunks in input order, so the output is the same as one thread's.
fn each_event(inputs: &InputArgs, out: &mut dyn Write, mut sink: Sink<'_>) -> Result<bool, String> {
    let options = inputs.options().library();
    let files = input::expand(&inputs.paths)?;
    let progress = Progress::new(files.len());
    let may_be_dicom = inputs.may_be_dicom();
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, MAX_DECODE_THREADS);
    // Several chunks per worker, so that they share the work out evenly.
    let files_per_chunk = (files.len() / workers.saturating_mul(4)).clamp(1, FILES_PER_CHUNK);
    let chunks = files.len().div_ceil(files_per_chunk);
    let schedule = Schedule {
        state: std::sync::Mutex::new(ScheduleState {
            next: 0,
            written: 0,
            stop: false,
        }),
        changed: std::sync::Condvar::new(),
        chunks,
        ahead: workers.saturating_mul(CHUNKS_AHEAD_PER_WORKER),
    };
    let format = match &sink {
        Sink::Parallel(format) => Some(*format),
        Sink::InOrder(_) => None,
    };
    let mut all_good = true;
    let written = std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::channel::<(usize, Chunk)>();
        for _ in 0..workers.min(chunks) {
            let (sender, schedule, files, options) = (sender.clone(), &schedule, &files, &options);
            scope.spawn(move || {
                let _stop = StopOnPanic(schedule);
                // One buffer per worker for the bytes of the file being decoded.
                let mut buffer = input::ReadBuffer::new();
                while let Some(index) = schedule.take() {
                    let first = index.saturating_mul(files_per_chunk);
                    let paths = files.iter().enumerate().skip(first).take(files_per_chunk);
                    let mut chunk = Chunk {
                        stdout: Vec::new(),
                        stderr: Vec::new(),
                        events: Vec::new(),
                        all_good: true,
                    };
                    for (file, path) in paths {
                        let outcome = decode::decode_file(path, may_be_dicom, options, &mut buffer);
                        add_to_chunk(&mut chunk, file, path, outcome, format);
                    }
                    if sender.send((index, chunk)).is_err() {
                        return;
                    }
                }
            });
        }
        // Only the workers send: when they are all gone, so is the channel.
        drop(sender);
        let written = (|| {
            // Chunks that came before their turn, by index.
            let mut early = std::collections::BTreeMap::new();
            for index in 0..chunks {
                let chunk = loop {
                    if let Some(chunk) = early.remove(&index) {
                        break chunk;
                    }
                    match receiver.recv() {
                        Ok((done, chunk)) => {
                            early.insert(done, chunk);
                        }
                        // A worker failed; the scope passes its panic on.
                        Err(_) => return Ok(()),
                    }
                };
                all_good &= chunk.all_good;
                write_chunk(chunk, &files, out, &mut sink, &progress, &mut all_good)?;
                let first = index.saturating_mul(files_per_chunk);
                progress.advance(files.len().saturating_sub(first).min(files_per_chunk));
                schedule.written(index.saturating_add(1));
            }
            Ok(())
        })();
        schedule.stop();
        written
    });
    progress.finish();
    written.map_err(|err: std::io::Error| format!("writing stdout: {err}"))?;
    Ok(all_good)
}

/// Adds one file to a chunk (on a worker): its warning and error lines and, as the
/// sink wants them, its output (`format`) or its events.
fn add_to_chunk(
    chunk: &mut Chunk,
    file: usize,
    path: &std::path::Path,
    outcome: Result<decode::Outcome, String>,
    format: Option<&EventFormatter>,
) {
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(message) => {
            let _ = writeln!(chunk.stderr, "error: {message}");
            chunk.all_good = false;
            return;
        }
    };
    let accepted = decode::write_problems(
        &mut chunk.stderr,
        path,
        &outcome,
        ["warning: ", "error: "],
        true,
    );
    chunk.all_good &= accepted.unwrap_or(false);
    let Ok(decoded) = outcome else {
        return;
    };
    match format {
        Some(format) => {
            for event in &decoded.events {
                if let Err(message) = format(event, &mut chunk.stdout) {
                    // A mapping error rejects the event, not the run.
                    let _ = writeln!(chunk.stderr, "error: {}: {message}", path.display());
                    chunk.all_good = false;
                }
            }
        }
        None if decoded.events.is_empty() => {}
        None => chunk
            .events
            .push((file, chunk.stderr.len(), decoded.events)),
    }
}

/// Writes one chunk (here, in input order): its output, or its events through the
/// sink, and its lines on stderr.
fn write_chunk(
    chunk: Chunk,
    files: &[PathBuf],
    out: &mut dyn Write,
    sink: &mut Sink<'_>,
    progress: &Progress,
    all_good: &mut bool,
) -> std::io::Result<()> {
    out.write_all(&chunk.stdout)?;
    let mut reported = 0;
    if let Sink::InOrder(sink) = sink {
        for (file, lines_end, events) in &chunk.events {
            progress.report_lines(chunk.stderr.get(reported..*lines_end).unwrap_or_default());
            reported = *lines_end;
            for event in events {
                if let Err(message) = sink(event, out) {
                    // A mapping error rejects the event, not the run.
                    let name = files.get(*file).map(|path| path.display());
                    if let Some(name) = name {
                        progress.report_lines(format!("error: {name}: {message}\n").as_bytes());
                    }
                    *all_good = false;
                }
            }
        }
    }
    progress.report_lines(chunk.stderr.get(reported..).unwrap_or_default());
    Ok(())
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
        let stderr = std::cell::RefCell::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::io::stderr(),
        ));
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

    /// Prints warning and error lines (each ending in a newline) above the bar.
    fn report_lines(&self, lines: &[u8]) {
        match &self.0 {
            Some(bar) if !lines.is_empty() => {
                let lines = lines.strip_suffix(b"\n").unwrap_or(lines);
                for line in lines.split(|&byte| byte == b'\n') {
                    bar.println(String::from_utf8_lossy(line));
                }
            }
            Some(_) => {}
            None => {
                let _ = self.1.borrow_mut().write_all(lines);
            }
        }
    }

    fn advance(&self, files: usize) {
        if let Some(bar) = &self.0 {
            bar.inc(files as u64);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
        let _ = self.1.borrow_mut().flush();
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn decode_args(dir: &Path) -> InputArgs {
        let cli = Cli::try_parse_from(["labwire", "decode", dir.to_str().unwrap()]).unwrap();
        match cli.command {
            Command::Decode { inputs, .. } => inputs,
            _ => unreachable!(),
        }
    }

    fn json_line(event: &labwire_model::LabEvent, out: &mut Vec<u8>) {
        serde_json::to_writer(&mut *out, event).unwrap();
        out.push(b'\n');
    }

    #[test]
    fn events_come_out_in_input_order_from_either_sink() {
        // Enough files for several chunks per worker, some of them rejected.
        let dir = std::env::temp_dir().join(format!("labwire-each-event-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let template = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../hl7/tests/data/labwire_oru_r01_sn_values.hl7"),
        )
        .unwrap();
        for index in 0..300 {
            let content = if index % 37 == 5 {
                "not instrument data".to_owned()
            } else {
                template.replace("AU-55120", &format!("ORDER-{index:04}"))
            };
            std::fs::write(dir.join(format!("{index:04}.hl7")), content).unwrap();
        }
        // What one file at a time gives.
        let mut expected = Vec::new();
        for path in input::expand(std::slice::from_ref(&dir)).unwrap() {
            let bytes = std::fs::read(path).unwrap();
            let options = labwire::decode::DecodeOptions::default();
            if let Ok(decoded) = labwire::decode::decode(&bytes, &options) {
                for event in &decoded.events {
                    json_line(event, &mut expected);
                }
            }
        }
        assert!(expected.len() > 250);

        let inputs = decode_args(&dir);
        let format = |event: &labwire_model::LabEvent, out: &mut Vec<u8>| {
            json_line(event, out);
            Ok(())
        };
        let mut parallel = Vec::new();
        let all_good = each_event(&inputs, &mut parallel, Sink::Parallel(&format)).unwrap();
        assert!(!all_good);
        assert_eq!(
            String::from_utf8(parallel).unwrap(),
            String::from_utf8(expected.clone()).unwrap()
        );

        // A sink that numbers what it writes sees the events in input order too.
        let mut in_order = Vec::new();
        let mut numbered = 0;
        let mut sink = |event: &labwire_model::LabEvent, out: &mut dyn Write| {
            numbered += 1;
            let mut line = Vec::new();
            json_line(event, &mut line);
            out.write_all(&line).map_err(|err| err.to_string())
        };
        let all_good = each_event(&inputs, &mut in_order, Sink::InOrder(&mut sink)).unwrap();
        assert!(!all_good);
        assert_eq!(in_order, expected);
        assert_eq!(
            numbered,
            expected.iter().filter(|&&byte| byte == b'\n').count()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
