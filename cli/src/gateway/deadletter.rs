//! The dead-letter folder: input that could not be read (or that the broker refused),
//! kept with the reason so nothing an instrument sent is silently lost.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes dead letters into one folder.
#[derive(Debug)]
pub(crate) struct DeadLetters {
    dir: PathBuf,
    counter: AtomicU64,
}

impl DeadLetters {
    /// Creates the folder if needed.
    pub(crate) fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            counter: AtomicU64::new(0),
        })
    }

    /// Writes `bytes` as `{millis}-{source}-{n}.{extension}` and the reason next to it
    /// as `….reason.txt`; both are synced before returning, since the sender is told
    /// the message was refused only after this.
    pub(crate) fn write(
        &self,
        source: &str,
        extension: &str,
        bytes: &[u8],
        reason: &str,
    ) -> std::io::Result<PathBuf> {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis());
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let stem = format!("{millis}-{source}-{n}");
        let data = self.dir.join(format!("{stem}.{extension}"));
        let mut file = std::fs::File::create(&data)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        let mut note = std::fs::File::create(self.dir.join(format!("{stem}.reason.txt")))?;
        note.write_all(reason.as_bytes())?;
        note.write_all(b"\n")?;
        note.sync_all()?;
        Ok(data)
    }
}
