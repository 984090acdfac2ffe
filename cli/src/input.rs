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
        let mut found: Vec<(std::ffi::OsString, PathBuf, bool)> = Vec::new();
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            if name.as_encoded_bytes().starts_with(b".") {
                continue;
            }
            let path = entry.path();
            // The directory entry's type costs no system call; a symbolic link is
            // followed to see what it points to.
            let is_dir = match entry.file_type() {
                Ok(kind) if kind.is_symlink() => path.is_dir(),
                Ok(kind) => kind.is_dir(),
                Err(_) => path.is_dir(),
            };
            found.push((name, path, is_dir));
        }
        // Entries of one directory differ only in their names: comparing those is
        // the same order as comparing paths, without splitting them into components.
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut dirs = Vec::new();
        for (_, path, is_dir) in found {
            if is_dir {
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

/// How much of a DICOM file is read first. The header ends where the pixel data
/// starts, so this is enough for most files (else the rest is read), and a
/// whole-slide image of gigabytes is not read to get its header.
const DICOM_PREFIX_BYTES: u64 = 16 * 1024;

/// Reads one input whole.
pub(crate) fn read(path: &Path) -> Result<Input, String> {
    read_for_decoding(path, false)
}

/// Reads what decoding needs of one input: the whole input, except, when
/// `header_prefix` allows it, for a DICOM file whose header (everything before the
/// pixel data) is complete within its first [`DICOM_PREFIX_BYTES`]: then only those,
/// and the file may be larger than [`MAX_INPUT_BYTES`].
pub(crate) fn read_for_decoding(path: &Path, header_prefix: bool) -> Result<Input, String> {
    let name = path.display().to_string();
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|err| format!("{name}: {err}"))?;
        return within_limit(name, bytes);
    }
    let mut file = std::fs::File::open(path).map_err(|err| format!("{name}: {err}"))?;
    // The size is a hint only: the file may change while it is read.
    let size = file.metadata().map_or(0, |metadata| metadata.len());
    let prefix_only = header_prefix && size > DICOM_PREFIX_BYTES;
    let limit = if prefix_only {
        DICOM_PREFIX_BYTES
    } else {
        MAX_INPUT_BYTES + 1
    };
    // One more than the size, so reading to the end needs no reallocation.
    let mut bytes = Vec::with_capacity(size.min(limit) as usize + 1);
    file.by_ref()
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|err| format!("{name}: {err}"))?;
    if prefix_only {
        if labwire::decode::detect(&bytes) == Some(labwire::decode::Format::Dicom)
            && dicom_header_complete(&bytes)
        {
            return Ok(Input { name, bytes });
        }
        let rest = (MAX_INPUT_BYTES + 1).saturating_sub(bytes.len() as u64);
        file.take(rest)
            .read_to_end(&mut bytes)
            .map_err(|err| format!("{name}: {err}"))?;
    }
    within_limit(name, bytes)
}

/// Whether `prefix` holds a DICOM file's whole header: the parse stopped at the pixel
/// data, not at the end of the bytes.
fn dicom_header_complete(prefix: &[u8]) -> bool {
    labwire_dicom_meta::parse(prefix)
        .is_ok_and(|header| header.error().is_none() && header.stop().is_some())
}

fn within_limit(name: String, bytes: Vec<u8>) -> Result<Input, String> {
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(format!("{name}: larger than {MAX_INPUT_BYTES} bytes"));
    }
    Ok(Input { name, bytes })
}
