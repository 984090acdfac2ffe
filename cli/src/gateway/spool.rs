//! The spool: an append-only file of outbound messages the broker has not
//! acknowledged yet, written with `fsync` before the instrument is acknowledged.
//!
//! Layout: the magic `LWSPOOL1`, then records `[body length: u32 LE][CRC-32 of body:
//! u32 LE][body]`. A body is `M` (a message: sequence number and the publication) or
//! `A` (the broker acknowledged that sequence number). Acknowledgements are appended
//! without `fsync`: losing one in a crash only means the message is published again
//! with its original `msg-id`, which a QoS 1 consumer must handle anyway. When every
//! spooled message is acknowledged the file is truncated back to the magic.
//!
//! A crash can leave a torn last record; reading stops at the first record whose
//! length or checksum is wrong, and the file is cut there so later appends stay
//! readable.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::publication::Publication;

const MAGIC: &[u8; 8] = b"LWSPOOL1";
const MESSAGE: u8 = b'M';
const ACKNOWLEDGED: u8 = b'A';

/// The largest record read back; anything claiming more is corruption. Messages are
/// capped well below this by the listeners' `max_message_bytes`.
const MAX_RECORD: u32 = 256 << 20;

/// The durable queue.
pub(crate) struct Spool {
    file: File,
    path: PathBuf,
    /// Spooled messages not acknowledged yet.
    outstanding: usize,
    /// The file length after the magic and everything written so far.
    length: u64,
}

/// What [`Spool::open`] found.
pub(crate) struct Recovered {
    /// Messages to publish again, in their original order.
    pub(crate) messages: Vec<(u64, Publication)>,
    /// The highest sequence number seen, so new numbers continue after it.
    pub(crate) last_sequence: u64,
    /// Bytes cut off a torn or corrupt tail.
    pub(crate) discarded_bytes: u64,
}

impl Spool {
    /// Opens (or creates) the spool in `dir` and reads back what is outstanding.
    pub(crate) fn open(dir: &Path) -> io::Result<(Self, Recovered)> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("spool.lws");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let (messages, last_sequence, valid) = if bytes.is_empty() {
            file.write_all(MAGIC)?;
            file.sync_all()?;
            sync_dir(dir)?;
            (BTreeMap::new(), 0, MAGIC.len() as u64)
        } else if bytes.starts_with(MAGIC) {
            read_records(&bytes)
        } else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not a labwire spool", path.display()),
            ));
        };
        let discarded_bytes = (bytes.len() as u64).saturating_sub(valid);
        if discarded_bytes > 0 {
            file.set_len(valid)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::Start(valid))?;
        let messages: Vec<(u64, Publication)> = messages.into_iter().collect();
        let spool = Self {
            file,
            path,
            outstanding: messages.len(),
            length: valid,
        };
        Ok((
            spool,
            Recovered {
                messages,
                last_sequence,
                discarded_bytes,
            },
        ))
    }

    /// Appends messages and makes them durable with one `fsync` (a group commit).
    pub(crate) fn append<'a>(
        &mut self,
        messages: impl IntoIterator<Item = (u64, &'a Publication)>,
    ) -> io::Result<()> {
        let mut buffer = Vec::new();
        let mut count = 0;
        for (sequence, publication) in messages {
            let mut body = vec![MESSAGE];
            body.extend_from_slice(&sequence.to_le_bytes());
            publication.encode(&mut body);
            push_record(&mut buffer, &body)?;
            count += 1;
        }
        if count == 0 {
            return Ok(());
        }
        self.write(&buffer)?;
        self.file.sync_data()?;
        self.outstanding += count;
        Ok(())
    }

    /// Records that the broker acknowledged a spooled message. When none is left the
    /// file is emptied.
    pub(crate) fn acknowledge(&mut self, sequence: u64) -> io::Result<()> {
        self.outstanding = self.outstanding.saturating_sub(1);
        if self.outstanding == 0 {
            self.file.set_len(MAGIC.len() as u64)?;
            self.file.seek(SeekFrom::Start(MAGIC.len() as u64))?;
            self.length = MAGIC.len() as u64;
            return Ok(());
        }
        let mut body = vec![ACKNOWLEDGED];
        body.extend_from_slice(&sequence.to_le_bytes());
        let mut buffer = Vec::new();
        push_record(&mut buffer, &body)?;
        self.write(&buffer)
    }

    /// Spooled messages not acknowledged yet.
    #[cfg(test)]
    pub(crate) fn outstanding(&self) -> usize {
        self.outstanding
    }

    /// The file, for messages.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Err(error) = self.file.write_all(bytes) {
            // Cut a partial write off so the next append starts on a record boundary.
            let _ = self.file.set_len(self.length);
            let _ = self.file.seek(SeekFrom::Start(self.length));
            return Err(error);
        }
        self.length += bytes.len() as u64;
        Ok(())
    }
}

fn push_record(buffer: &mut Vec<u8>, body: &[u8]) -> io::Result<()> {
    let length = u32::try_from(body.len())
        .ok()
        .filter(|length| *length <= MAX_RECORD)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "message too large to spool"))?;
    buffer.extend_from_slice(&length.to_le_bytes());
    buffer.extend_from_slice(&crc32(body).to_le_bytes());
    buffer.extend_from_slice(body);
    Ok(())
}

/// Reads records after the magic: the outstanding messages, the highest sequence
/// number, and the length of the valid prefix.
fn read_records(bytes: &[u8]) -> (BTreeMap<u64, Publication>, u64, u64) {
    let mut messages = BTreeMap::new();
    let mut last_sequence = 0;
    let mut at = MAGIC.len();
    while let Some(header) = bytes.get(at..at.saturating_add(8)) {
        let word = |range: std::ops::Range<usize>| {
            header
                .get(range)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map_or(0, u32::from_le_bytes)
        };
        let (length, checksum) = (word(0..4), word(4..8));
        if length > MAX_RECORD {
            break;
        }
        let start = at + 8;
        let Some(body) = bytes.get(start..start.saturating_add(length as usize)) else {
            break;
        };
        if crc32(body) != checksum {
            break;
        }
        let sequence = body
            .get(1..9)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_le_bytes);
        match (body.first(), sequence) {
            (Some(&MESSAGE), Some(sequence)) => {
                let Some(publication) = body.get(9..).and_then(Publication::decode) else {
                    break;
                };
                last_sequence = last_sequence.max(sequence);
                messages.insert(sequence, publication);
            }
            (Some(&ACKNOWLEDGED), Some(sequence)) => {
                messages.remove(&sequence);
            }
            _ => break,
        }
        at = start + length as usize;
    }
    (messages, last_sequence, at as u64)
}

/// `fsync` on a directory makes a new file's name durable (POSIX).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// CRC-32 (IEEE 802.3, reflected, as in zlib and Ethernet).
fn crc32(bytes: &[u8]) -> u32 {
    // Indexing is fine here: a const block, and `n < 256` is the loop condition.
    #[allow(clippy::indexing_slicing)]
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut n = 0;
        while n < 256 {
            let mut c = n as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[n] = c;
            n += 1;
        }
        table
    };
    let mut crc = !0u32;
    for &byte in bytes {
        let index = ((crc ^ u32::from(byte)) & 0xFF) as usize;
        crc = TABLE.get(index).copied().unwrap_or(0) ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publication(n: u8) -> Publication {
        Publication {
            topic: format!("lab/v1/s/a/i/result{n}"),
            payload: vec![n; 100 + usize::from(n)],
            retain: n.is_multiple_of(2),
            content_type: "application/json".into(),
            payload_format_indicator: 1,
            message_expiry: (n == 3).then_some(60),
            user_properties: vec![("msg-id".into(), format!("id-{n}"))],
        }
    }

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("labwire-spool-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn crc32_matches_the_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn spooled_messages_survive_a_reopen_in_order_minus_the_acknowledged() {
        let dir = dir("reopen");
        let (mut spool, recovered) = Spool::open(&dir).unwrap();
        assert!(recovered.messages.is_empty());
        let messages: Vec<_> = (1..=4).map(publication).collect();
        spool
            .append(messages.iter().enumerate().map(|(i, p)| (i as u64 + 10, p)))
            .unwrap();
        spool.acknowledge(11).unwrap();
        drop(spool);
        let (spool, recovered) = Spool::open(&dir).unwrap();
        let sequences: Vec<u64> = recovered.messages.iter().map(|(s, _)| *s).collect();
        assert_eq!(sequences, [10, 12, 13]);
        assert_eq!(recovered.messages[1].1, messages[2]);
        assert_eq!(recovered.last_sequence, 13);
        assert_eq!(spool.outstanding(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_file_is_emptied_when_everything_is_acknowledged() {
        let dir = dir("empty");
        let (mut spool, _) = Spool::open(&dir).unwrap();
        let message = publication(1);
        spool.append([(1, &message), (2, &message)]).unwrap();
        spool.acknowledge(1).unwrap();
        spool.acknowledge(2).unwrap();
        assert_eq!(
            std::fs::metadata(spool.path()).unwrap().len(),
            MAGIC.len() as u64
        );
        // Sequence numbers are not reused after an empty spool: the caller continues
        // from its own counter, and the file holds nothing to collide with.
        let (_, recovered) = Spool::open(&dir).unwrap();
        assert!(recovered.messages.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_torn_tail_is_cut_and_later_appends_stay_readable() {
        let dir = dir("torn");
        let (mut spool, _) = Spool::open(&dir).unwrap();
        spool
            .append([(1, &publication(1)), (2, &publication(2))])
            .unwrap();
        let path = spool.path().to_path_buf();
        drop(spool);
        let full = std::fs::read(&path).unwrap();
        // Every cut inside the second record keeps exactly the first.
        let first_end = MAGIC.len() + 8 + 9 + publication(1).encoded_len();
        for cut in first_end..full.len() {
            std::fs::write(&path, &full[..cut]).unwrap();
            let (mut spool, recovered) = Spool::open(&dir).unwrap();
            assert_eq!(recovered.messages.len(), 1, "cut at {cut}");
            assert_eq!(recovered.discarded_bytes, (cut - first_end) as u64);
            spool.append([(3, &publication(3))]).unwrap();
            drop(spool);
            let (_, recovered) = Spool::open(&dir).unwrap();
            let sequences: Vec<u64> = recovered.messages.iter().map(|(s, _)| *s).collect();
            assert_eq!(sequences, [1, 3], "cut at {cut}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_flipped_bit_ends_the_readable_part() {
        let dir = dir("flip");
        let (mut spool, _) = Spool::open(&dir).unwrap();
        spool
            .append([(1, &publication(1)), (2, &publication(2))])
            .unwrap();
        let path = spool.path().to_path_buf();
        drop(spool);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        let (_, recovered) = Spool::open(&dir).unwrap();
        assert_eq!(recovered.messages.len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_foreign_file_is_refused() {
        let dir = dir("foreign");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("spool.lws"), b"something else").unwrap();
        assert!(Spool::open(&dir).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
