//! The `labwire` binary, run as a user runs it.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn labwire(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_labwire"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}")))
        .collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn decode_writes_one_event_per_line_for_the_samples() {
    let output = labwire(&["decode", "samples/data"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    let events = lines(&output);
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["results", "results", "qc", "results"]);
    // The first report, checked against the capture by hand.
    let first = &events[0];
    assert_eq!(first["specimen"]["ids"][0]["value"], "S26-0001042");
    assert_eq!(first["results"][0]["test"]["code"], "GLU");
    assert_eq!(first["results"][0]["value"]["value"], "5.62");
    assert_eq!(first["results"][1]["interpretation"][0], "H");
    assert_eq!(
        first["results"][1]["notes"][0],
        "Sample slightly hemolyzed (HIL H=12)"
    );
    assert_eq!(first["results"][2]["value"]["comparator"], "<");
    // Sysmex decimal commas read as decimals.
    assert_eq!(events[3]["results"][0]["value"]["value"], "7.41");
}

#[test]
fn stdin_is_read_with_a_dash() {
    let bytes = std::fs::read(root().join("samples/data/astm-hematology-raw.astm")).unwrap();
    let output = labwire(&["decode", "-"], Some(&bytes));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(lines(&output).len(), 1);
}

#[test]
fn rejected_input_exits_1_and_the_good_input_is_still_written() {
    let dir = std::env::temp_dir().join(format!("labwire-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, b"this is not instrument data").unwrap();
    let output = labwire(
        &[
            "decode",
            bad.to_str().unwrap(),
            "samples/data/astm-hematology-raw.astm",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("bad.txt"), "{}", stderr(&output));
    assert_eq!(lines(&output).len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn strict_mode_rejects_what_lenient_mode_warns_about() {
    let text = b"H|\\^&\nP|1\nO|1|S1\nR|1|^^^GLU|5.1\nL|1|N\n";
    let lenient = labwire(&["decode", "-"], Some(text));
    assert!(lenient.status.success());
    assert!(stderr(&lenient).contains("warning"), "{}", stderr(&lenient));
    let strict = labwire(&["decode", "--strict", "-"], Some(text));
    assert_eq!(strict.status.code(), Some(1));
    assert!(stderr(&strict).contains("byte"), "{}", stderr(&strict));
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    assert_eq!(labwire(&["decode"], None).status.code(), Some(2));
    assert_eq!(labwire(&["frobnicate"], None).status.code(), Some(2));
    let output = labwire(
        &["mqtt", "--config", "no/such/file.toml", "samples/data"],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let dir = std::env::temp_dir().join(format!("labwire-cli-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("bad.toml");
    std::fs::write(&config, "site = \"Bad Site\"\ngateway = \"gw\"\n").unwrap();
    let output = labwire(
        &["mqtt", "--config", config.to_str().unwrap(), "samples/data"],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("`site`"), "{}", stderr(&output));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn mqtt_dry_run_is_reproducible_and_keeps_identifiers_out() {
    let args = [
        "mqtt",
        "--config",
        "samples/labwire.toml",
        "--now",
        "2026-11-24T09:31:00Z",
        "--seed",
        "1",
        "samples/data",
    ];
    let first = labwire(&args, None);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(first.stdout, labwire(&args, None).stdout);
    let messages = lines(&first);
    let topics: Vec<&str> = messages
        .iter()
        .map(|m| m["topic"].as_str().unwrap())
        .collect();
    assert_eq!(
        topics,
        [
            "lab/v1/demo-hospital/chemistry/cobas-c311/result",
            "lab/v1/demo-hospital/chemistry/cobas-c311/result",
            "lab/v1/demo-hospital/chemistry/cobas-c311/qc",
            "lab/v1/demo-hospital/hematology/sysmex-xn550/result",
        ]
    );
    let text = String::from_utf8(first.stdout).unwrap();
    for identifier in ["PAT-000417", "S26-0001042", "Testpatient", "1970"] {
        assert!(!text.contains(identifier), "{identifier} leaked");
    }
    assert_eq!(messages[0]["payload"]["schema"], "lab.result/1");
    assert_eq!(messages[0]["payload"]["sent_at"], "2026-11-24T09:31:00Z");
}

#[test]
fn validate_reports_every_deviation_and_exits_1() {
    let text = b"H|\\^&\nP|1\nO|1|S1\nR|3|^^^GLU|5.1\n";
    let output = labwire(&["validate", "-"], Some(text));
    assert_eq!(output.status.code(), Some(1));
    let report = stderr(&output);
    for deviation in ["Separator", "Sequence", "MissingTerminator"] {
        assert!(
            report.contains(deviation),
            "{deviation} missing from {report}"
        );
    }
    let clean = labwire(&["validate", "samples/data/astm-hematology-raw.astm"], None);
    assert!(clean.status.success(), "{}", stderr(&clean));
    assert!(stderr(&clean).contains("ok (1 events)"));
}
