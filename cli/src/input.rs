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
        let mut found: Vec<(PathBuf, bool)> = Vec::new();
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            // The name from the path: `file_name` would copy it.
            let hidden = path
                .file_name()
                .is_some_and(|name| name.as_encoded_bytes().starts_with(b"."));
            if hidden {
                continue;
            }
            // The directory entry's type costs no system call; a symbolic link is
            // followed to see what it points to.
            let is_dir = match entry.file_type() {
                Ok(kind) if kind.is_symlink() => path.is_dir(),
                Ok(kind) => kind.is_dir(),
                Err(_) => path.is_dir(),
            };
            found.push((path, is_dir));
        }
        // Entries of one directory differ only in their names, after the same
        // `dir/`: comparing the paths' bytes is the same order as comparing the
        // names, and the same as comparing paths, without splitting them into
        // components.
        found.sort_unstable_by(|a, b| {
            a.0.as_os_str()
                .as_encoded_bytes()
                .cmp(b.0.as_os_str().as_encoded_bytes())
        });
        let mut dirs = Vec::new();
        for (path, is_dir) in found {
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
const DICOM_PREFIX_BYTES: usize = 16 * 1024;

/// The largest input read, as a length.
const MAX_INPUT_LEN: usize = MAX_INPUT_BYTES as usize;

/// A buffer that input is read into, reused from one input to the next: reading ten
/// thousand small files then allocates (and zeroes) memory once, not ten thousand
/// times. Its bytes are always initialized; the first `filled` are the input's.
pub(crate) struct ReadBuffer {
    bytes: Vec<u8>,
    filled: usize,
}

impl ReadBuffer {
    /// The size it starts with: larger than most instrument messages and DICOM
    /// headers, so that one read system call takes a whole file.
    const INITIAL: usize = 64 * 1024;
    /// After an input larger than this, the memory is given back.
    const KEPT: usize = 1024 * 1024;

    pub(crate) fn new() -> Self {
        Self {
            bytes: vec![0; Self::INITIAL],
            filled: 0,
        }
    }

    /// The input last read.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.bytes.get(..self.filled).unwrap_or_default()
    }

    /// Empties it for the next input.
    fn clear(&mut self) {
        self.filled = 0;
        if self.bytes.len() > Self::KEPT {
            self.bytes = vec![0; Self::INITIAL];
        }
    }

    /// Reads until `limit` bytes are held or the end of the input; returns whether the
    /// end was reached. Each read asks for all the room left (up to `limit`), so a
    /// file that fits takes one read and the one that says it has ended.
    fn fill(&mut self, reader: &mut dyn Read, limit: usize) -> std::io::Result<bool> {
        while self.filled < limit {
            if self.filled == self.bytes.len() {
                let grown = self
                    .bytes
                    .len()
                    .saturating_mul(2)
                    .clamp(Self::INITIAL, limit);
                self.bytes.resize(grown, 0);
            }
            let end = self.bytes.len().min(limit);
            let Some(room) = self.bytes.get_mut(self.filled..end) else {
                break;
            };
            match reader.read(room) {
                Ok(0) => return Ok(true),
                Ok(read) => self.filled = self.filled.saturating_add(read).min(end),
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(false)
    }

    /// Reads the rest of the input; larger than [`MAX_INPUT_BYTES`] is an error.
    fn fill_whole(&mut self, reader: &mut dyn Read, name: &Path) -> Result<(), String> {
        let ended = self
            .fill(reader, MAX_INPUT_LEN.saturating_add(1))
            .map_err(|err| format!("{}: {err}", name.display()))?;
        if !ended && self.filled > MAX_INPUT_LEN {
            return Err(format!(
                "{}: larger than {MAX_INPUT_BYTES} bytes",
                name.display()
            ));
        }
        Ok(())
    }
}

/// Reads one input whole.
pub(crate) fn read(path: &Path) -> Result<Input, String> {
    let mut buffer = ReadBuffer::new();
    // Not asked to stop at a DICOM header: it is read whole.
    read_for_decoding(path, None, &mut buffer)?;
    let ReadBuffer { mut bytes, filled } = buffer;
    bytes.truncate(filled);
    Ok(Input {
        name: path.display().to_string(),
        bytes,
    })
}

/// Reads what decoding needs of one input into `buffer` (`-` is stdin): the whole
/// input, except, when `dicom` gives the options to decode DICOM with, for a DICOM
/// file whose header (everything before the pixel data) is complete within its first
/// [`DICOM_PREFIX_BYTES`]: then only those are read, the header is decoded and
/// returned (it was parsed to know that it is complete), and the file may be larger
/// than [`MAX_INPUT_BYTES`]. Errors name the input.
pub(crate) fn read_for_decoding(
    path: &Path,
    dicom: Option<&labwire::decode::DecodeOptions>,
    buffer: &mut ReadBuffer,
) -> Result<Option<labwire::decode::Decoded>, String> {
    buffer.clear();
    if path.as_os_str() == "-" {
        buffer.fill_whole(&mut std::io::stdin().lock(), path)?;
        return Ok(None);
    }
    // No `metadata` call for the size: reading until the end says it, one system
    // call fewer per file.
    let mut file = std::fs::File::open(path).map_err(|err| format!("{}: {err}", path.display()))?;
    if let Some(options) = dicom {
        let ended = buffer
            .fill(&mut file, DICOM_PREFIX_BYTES)
            .map_err(|err| format!("{}: {err}", path.display()))?;
        if ended {
            return Ok(None);
        }
        if let Some(decoded) = labwire::decode::decode_dicom_prefix(buffer.bytes(), options) {
            return Ok(Some(decoded));
        }
    }
    buffer.fill_whole(&mut file, path)?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives at most `step` bytes per read, as a pipe may.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(out.len()).min(self.bytes.len());
            let (head, tail) = self.bytes.split_at(n);
            out[..n].copy_from_slice(head);
            self.bytes = tail;
            Ok(n)
        }
    }

    #[test]
    fn a_buffer_reads_inputs_of_any_size_one_after_the_other() {
        let mut buffer = ReadBuffer::new();
        for (len, step) in [
            (0, 1),
            (10, 3),
            (ReadBuffer::INITIAL, 4096),
            (300_000, 7000),
            (5, 5),
        ] {
            let input: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            buffer.clear();
            let mut reader = Trickle {
                bytes: &input,
                step,
            };
            assert!(buffer.fill(&mut reader, usize::MAX).unwrap());
            assert_eq!(buffer.bytes(), input.as_slice());
        }
        // A limit stops the reading without reaching the end.
        buffer.clear();
        let input = [7u8; 100];
        let mut reader = Trickle {
            bytes: &input,
            step: 30,
        };
        assert!(!buffer.fill(&mut reader, 64).unwrap());
        assert_eq!(buffer.bytes(), &input[..64]);
        assert!(buffer.fill(&mut reader, 1000).unwrap());
        assert_eq!(buffer.bytes(), &input[..]);
    }

    #[test]
    fn large_dicom_files_are_read_up_to_their_header() {
        let dir = std::env::temp_dir().join(format!("labwire-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../dicom-meta/tests/data/pydicom/CT_small.dcm");
        let file = std::fs::read(&source).unwrap();
        let options = labwire::decode::DecodeOptions::default();
        let mut buffer = ReadBuffer::new();
        let decoded = read_for_decoding(&source, Some(&options), &mut buffer).unwrap();
        assert_eq!(
            decoded,
            Some(labwire::decode::decode(&file, &options).unwrap())
        );
        assert_eq!(buffer.bytes().len(), DICOM_PREFIX_BYTES);
        // Not asked to look for DICOM: the whole file.
        assert_eq!(read_for_decoding(&source, None, &mut buffer).unwrap(), None);
        assert_eq!(buffer.bytes(), file.as_slice());
        // A header cut short: everything there is.
        let cut = dir.join("cut.dcm");
        let mut truncated = file.get(..600).unwrap().to_vec();
        truncated.resize(20_000, 0xff);
        std::fs::write(&cut, &truncated).unwrap();
        assert_eq!(
            read_for_decoding(&cut, Some(&options), &mut buffer).unwrap(),
            None
        );
        assert_eq!(buffer.bytes(), truncated.as_slice());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
