//! Finding the library cargo built for this test run, and running programs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The crate directory (`ffi/`).
pub(crate) fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The fixtures the C, C++ and Python tests read.
pub(crate) fn data_dir() -> PathBuf {
    crate_dir().join("tests/data")
}

/// A scratch directory for this test binary's outputs.
pub(crate) fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).expect("the scratch directory can be created");
    dir
}

fn has_library(dir: &Path) -> bool {
    dir.join("liblabwire.a").is_file() && dir.join(shared_library_name()).is_file()
}

/// `liblabwire.so`, or the platform's name for it.
pub(crate) fn shared_library_name() -> &'static str {
    if cfg!(target_os = "macos") {
        "liblabwire.dylib"
    } else {
        "liblabwire.so"
    }
}

/// The directory holding `liblabwire.a` and `liblabwire.so` of this build.
///
/// Cargo compiles every crate type of the library (rlib, cdylib, staticlib) in the one
/// rustc run that builds it for this test, into `<profile>/deps` next to the test
/// binary; so these are always the sources under test, whatever `CARGO_TARGET_DIR`,
/// `--target` or `--release` say. Should a cargo version put them elsewhere, the
/// profile directory is tried, then `cargo build -p labwire-ffi` is run into the same
/// target directory.
pub(crate) fn library_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test binary knows its path");
        let deps = exe.parent().expect("the test binary is in <profile>/deps");
        let profile = deps.parent().expect("deps is in the profile directory");
        for dir in [deps, profile] {
            if has_library(dir) {
                return dir.to_path_buf();
            }
        }
        let target_dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join(".."));
        let mut build = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        build
            .args(["build", "-p", "labwire-ffi", "--target-dir"])
            .arg(&target_dir);
        if profile.file_name().is_some_and(|name| name == "release") {
            build.arg("--release");
        }
        let output = build.output().expect("cargo runs");
        assert!(
            output.status.success(),
            "cargo build -p labwire-ffi failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            has_library(profile),
            "no liblabwire.a and {} in {} or {}",
            shared_library_name(),
            deps.display(),
            profile.display()
        );
        profile.to_path_buf()
    })
}

/// Runs a command and panics with its output unless it succeeds.
pub(crate) fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Whether `program --version` runs.
pub(crate) fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}
