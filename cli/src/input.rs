//! Reading inputs: files, directories (recursively, in a stable order) and stdin.

use std::io::Read;
use std::path::{Path, PathBuf};

/// One input: where it came from and its bytes.
pub(crate) struct Input {
    /// The path as given (or `-` for stdin).
    pub(crate) name: String,
    /// Its content.
    pub(crate) bytes: Vec<u8>,
}

/// The largest input read, in bytes: DICOM headers and instrument captures are far
/// smaller, and reading a multi-gigabyte file by mistake should fail, not swap.
pub(crate) const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// Expands the paths: `-` is stdin, directories are walked recursively (sorted, so
/// output order is reproducible), hidden files are skipped inside directories.
pub(crate) fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            files.push(path.clone());
        } else if path.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    // An explicit stack: deep trees must not exhaust ours.
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                !path
                    .file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with('.'))
            })
            .collect();
        found.sort();
        let mut dirs = Vec::new();
        for path in found {
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
        // Visit subdirectories in sorted order after this directory's files.
        pending.extend(dirs.into_iter().rev());
    }
    Ok(())
}

/// Reads one input.
pub(crate) fn read(path: &Path) -> Result<Input, String> {
    let name = path.display().to_string();
    let mut bytes = Vec::new();
    let result = if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path)
            .and_then(|file| file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes))
    };
    result.map_err(|err| format!("{name}: {err}"))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(format!("{name}: larger than {MAX_INPUT_BYTES} bytes"));
    }
    Ok(Input { name, bytes })
}
