//! The library side of `benches/cli/run.sh`: how fast `labwire::decode` turns a
//! directory of files, already in memory, into NDJSON lab events — the work `labwire
//! decode` does minus reading files and writing to stdout.
//!
//! ```sh
//! cargo run --release -p labwire-ffi --example decode_throughput -- DIR [SECONDS]
//! ```
//!
//! Prints one JSON line: files, bytes, events, and files/s and MB/s of the best of
//! several passes.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use labwire::decode::{DecodeOptions, decode};

fn files_under(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|entry| entry.path());
    for entry in entries {
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            files_under(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: decode_throughput DIR [SECONDS]")?,
    );
    let seconds: f64 = args.next().map_or(Ok(3.0), |s| s.parse())?;
    let mut paths = Vec::new();
    files_under(&dir, &mut paths)?;
    let inputs: Vec<Vec<u8>> = paths.iter().map(std::fs::read).collect::<Result<_, _>>()?;
    let bytes: usize = inputs.iter().map(Vec::len).sum();
    let options = DecodeOptions::default();

    let mut out = Vec::with_capacity(1 << 20);
    let mut events = 0usize;
    let mut best = Duration::MAX;
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut passes = 0;
    while passes < 3 || Instant::now() < deadline {
        events = 0;
        let started = Instant::now();
        for input in &inputs {
            // Unknown formats are the CLI's error lines; here they just give nothing.
            if let Ok(decoded) = decode(input, &options) {
                for event in &decoded.events {
                    out.clear();
                    serde_json::to_writer(&mut out, event)?;
                    out.push(b'\n');
                    events += 1;
                }
                std::hint::black_box(&decoded.warnings);
            }
            std::hint::black_box(&out);
        }
        best = best.min(started.elapsed());
        passes += 1;
    }
    let secs = best.as_secs_f64();
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        r#"{{"files":{},"bytes":{bytes},"events":{events},"passes":{passes},"best_seconds":{secs:.4},"files_per_second":{:.0},"mb_per_second":{:.1}}}"#,
        inputs.len(),
        inputs.len() as f64 / secs,
        bytes as f64 / secs / 1e6,
    )?;
    Ok(())
}
