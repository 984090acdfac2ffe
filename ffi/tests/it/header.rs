//! `include/labwire.h` must be what cbindgen generates from the sources now.

use std::path::Path;

/// Regenerates the header in memory with the pinned cbindgen and compares it with the
/// checked-in file. `LABWIRE_BLESS=1` rewrites the file instead.
#[test]
fn header_is_fresh() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("ffi/cbindgen.toml is readable");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen understands the sources")
        .write(&mut generated);
    let path = crate_dir.join("include/labwire.h");
    if std::env::var_os("LABWIRE_BLESS").is_some_and(|value| value == "1") {
        std::fs::write(&path, &generated).expect("include/labwire.h is writable");
        return;
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    if checked_in != generated {
        let first_difference = checked_in
            .split(|&b| b == b'\n')
            .zip(generated.split(|&b| b == b'\n'))
            .position(|(old, new)| old != new)
            .map_or_else(
                || "one file is a prefix of the other".to_owned(),
                |line| format!("first difference at line {}", line + 1),
            );
        panic!(
            "ffi/include/labwire.h is stale ({first_difference}); regenerate it with \
             `LABWIRE_BLESS=1 cargo test -p labwire-ffi --test it header_is_fresh` and check it in"
        );
    }
}
