//! The C program and the C++ file in `tests/c/`, built with the system compilers
//! against the static and the shared library, and run on the fixtures; under valgrind
//! too when `LABWIRE_VALGRIND=1` and valgrind is installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{
    available, crate_dir, data_dir, library_dir, run, scratch_dir, shared_library_name,
};

/// The libraries a Rust static library needs on Linux (`rustc --print
/// native-static-libs`).
const NATIVE_STATIC_LIBS: &[&str] = &["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl"];

#[derive(Clone, Copy, Debug)]
enum Language {
    C,
    Cxx,
}

#[derive(Clone, Copy, Debug)]
enum Linkage {
    Static,
    Shared,
}

impl Language {
    fn compiler(self) -> String {
        let (variable, default) = match self {
            Self::C => ("CC", "cc"),
            Self::Cxx => ("CXX", "c++"),
        };
        std::env::var(variable).unwrap_or_else(|_| default.to_owned())
    }

    fn source(self) -> PathBuf {
        crate_dir().join(match self {
            Self::C => "tests/c/test_labwire.c",
            Self::Cxx => "tests/c/test_labwire.cpp",
        })
    }

    fn standard(self) -> &'static str {
        match self {
            Self::C => "-std=c11",
            Self::Cxx => "-std=c++17",
        }
    }
}

/// Compiles one test program and returns its path.
fn build(language: Language, linkage: Linkage) -> PathBuf {
    let compiler = language.compiler();
    assert!(
        available(&compiler),
        "the {language:?} tests need a compiler: `{compiler}` does not run (set CC / CXX, or \
         install gcc/g++ or clang)"
    );
    let lib = library_dir();
    let out = scratch_dir("c_api").join(format!("test_{language:?}_{linkage:?}").to_lowercase());
    let mut command = Command::new(&compiler);
    command
        .args([
            language.standard(),
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-g",
        ])
        .arg("-I")
        .arg(crate_dir().join("include"))
        .arg(language.source())
        .arg("-o")
        .arg(&out);
    match linkage {
        Linkage::Static => {
            command
                .arg(lib.join("liblabwire.a"))
                .args(NATIVE_STATIC_LIBS);
        }
        Linkage::Shared => {
            command
                .arg("-L")
                .arg(lib)
                .arg("-llabwire")
                .arg(format!("-Wl,-rpath,{}", lib.display()));
        }
    }
    run(&mut command);
    if let Linkage::Shared = linkage {
        // The program must load the library, not contain it.
        let size = std::fs::metadata(&out).map(|meta| meta.len()).unwrap_or(0);
        let library = std::fs::metadata(lib.join(shared_library_name()))
            .map(|meta| meta.len())
            .unwrap_or(0);
        assert!(
            size < library / 4,
            "{} seems statically linked",
            out.display()
        );
    }
    out
}

/// Runs a test program on the fixtures, and under valgrind when asked.
fn run_program(program: &Path) {
    let output = run(Command::new(program).arg(data_dir()));
    eprintln!(
        "{}: {}",
        program.display(),
        String::from_utf8_lossy(&output.stdout).trim()
    );
    if std::env::var_os("LABWIRE_VALGRIND").is_some_and(|value| value == "1") {
        if available("valgrind") {
            run(Command::new("valgrind")
                .args(["--error-exitcode=1", "--leak-check=full", "--quiet"])
                .arg(program)
                .arg(data_dir()));
            eprintln!("{}: valgrind clean", program.display());
        } else {
            eprintln!("LABWIRE_VALGRIND=1 but valgrind is not installed: skipped");
        }
    }
}

#[test]
fn c_program_against_the_static_library() {
    run_program(&build(Language::C, Linkage::Static));
}

#[test]
fn c_program_against_the_shared_library() {
    run_program(&build(Language::C, Linkage::Shared));
}

#[test]
fn cpp_program_against_the_static_library() {
    run_program(&build(Language::Cxx, Linkage::Static));
}

#[test]
fn cpp_program_against_the_shared_library() {
    run_program(&build(Language::Cxx, Linkage::Shared));
}
