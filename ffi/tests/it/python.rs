//! `examples/decode.py`, the ctypes example of the README, works.

use std::process::Command;

use crate::support::{available, crate_dir, data_dir, library_dir, run, shared_library_name};

#[test]
fn the_python_example_decodes_a_file() {
    if !available("python3") {
        // `ffi/ci.sh` installs python3 and sets this, so CI cannot skip the test.
        assert!(
            std::env::var_os("LABWIRE_REQUIRE_PYTHON").is_none(),
            "python3 is not installed but LABWIRE_REQUIRE_PYTHON is set"
        );
        eprintln!("python3 is not installed: the Python example test is skipped");
        return;
    }
    let output = run(Command::new("python3")
        .arg(crate_dir().join("examples/decode.py"))
        .arg(data_dir().join("labwire_oru_r01_sn_values.hl7"))
        .env("LABWIRE_LIB", library_dir().join(shared_library_name())));
    let stdout = String::from_utf8(output.stdout).expect("the example prints UTF-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one event:\n{stdout}");
    let event: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON line");
    assert!(event.is_object());
    assert!(stdout.contains("1988-5"), "{stdout}");

    // A file of no known format: the error on stderr, exit status 1.
    let output = Command::new("python3")
        .arg(crate_dir().join("examples/decode.py"))
        .arg(data_dir().join("SOURCES.md"))
        .env("LABWIRE_LIB", library_dir().join(shared_library_name()))
        .output()
        .expect("python3 runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("LABWIRE_RESULT_UNKNOWN_FORMAT"), "{stderr}");
}
