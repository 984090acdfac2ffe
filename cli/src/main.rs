//! The `labwire` command-line tool.
//!
//! It will decode instrument data (HL7 v2, ASTM, DICOM) into lab events, map them to
//! MQTT, and run the gateway. See the CLI issue; until it lands this binary only
//! reports its version.
#![forbid(unsafe_code)]

use std::io::Write;

fn main() -> std::process::ExitCode {
    let mut out = std::io::stdout().lock();
    match writeln!(
        out,
        "labwire {}: the command-line tool is not implemented yet",
        env!("CARGO_PKG_VERSION")
    ) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(_) => std::process::ExitCode::FAILURE,
    }
}
