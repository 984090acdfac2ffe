//! Batches and files: `[FHS] { [BHS] { MSH … } [BTS] } [FTS]` (HL7 v2 ch. 2 §2.10, batch
//! protocol).
//!
//! The input is cut at each `FHS`, `BHS`, `MSH`, `BTS` and `FTS` found at the start of a
//! segment; every piece is parsed on its own slice (so each message keeps its own
//! delimiters, charset and terminator), and the pieces together cover the input exactly,
//! so [`BatchFile::write_to`] reproduces it byte for byte. Messages outside any BHS/BTS
//! pair form an implicit batch without header, which also covers a plain file of
//! messages, or one MLLP frame carrying several messages.
//!
//! BTS-1 (messages in the batch) and FTS-1 (batches in the file) are checked when present:
//! a mismatch is a warning in lenient mode and an error in strict mode.
//!
//! Offsets inside each [`Message`] are relative to that message's slice; add
//! [`Part::offset`] for the offset in the file.
//!
//! ```
//! use labwire_hl7::batch::BatchFile;
//! use labwire_hl7::message::ParseOptions;
//! let file = b"FHS|^~\\&|LAB\rBHS|^~\\&|LAB\rMSH|^~\\&|LAB||||||ORU^R01|1|P|2.5\rPID|1\r\
//!              MSH|^~\\&|LAB||||||ORU^R01|2|P|2.5\rPID|2\rBTS|2\rFTS|1\r";
//! let parsed = BatchFile::parse(file, &ParseOptions::default()).unwrap();
//! assert!(parsed.warnings().is_empty());
//! let batch = parsed.batches().next().unwrap();
//! assert_eq!(batch.message_count(), 2);
//! assert_eq!(batch.trailer().unwrap().field(1).raw(), b"2");
//! assert_eq!(parsed.header().unwrap().field(3).raw(), b"LAB"); // FHS numbering is like MSH
//! let ids: Vec<_> = parsed.messages().map(|m| m.control_id().raw()).collect();
//! assert_eq!(ids, [b"1", b"2"]);
//! assert_eq!(parsed.to_bytes(), file);
//! ```

use core::ops::Range;

use crate::encoding::Delimiters;
use crate::error::{BatchProblem, Error, Limit, Location, Result, SegmentId, Warning, WarningKind};
use crate::message::{Message, ParseOptions, Segment, WarningSink, check_size, find_header_start};

/// What a piece of a batch file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PartKind {
    /// FHS and what follows it up to the next structural segment.
    FileHeader,
    /// BHS.
    BatchHeader,
    /// A message (MSH …).
    Message,
    /// BTS.
    BatchTrailer,
    /// FTS.
    FileTrailer,
}

impl PartKind {
    fn from_id(id: &[u8]) -> Option<Self> {
        match id {
            b"FHS" => Some(Self::FileHeader),
            b"BHS" => Some(Self::BatchHeader),
            b"MSH" => Some(Self::Message),
            b"BTS" => Some(Self::BatchTrailer),
            b"FTS" => Some(Self::FileTrailer),
            _ => None,
        }
    }
}

/// One piece of a batch file, parsed over its own slice.
#[derive(Clone, Debug)]
pub struct Part<'a> {
    kind: PartKind,
    offset: usize,
    message: Message<'a>,
}

impl<'a> Part<'a> {
    /// What the piece is.
    pub fn kind(&self) -> PartKind {
        self.kind
    }

    /// Offset of the piece in the file.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The piece, parsed (for headers and trailers: one segment plus any stray lines).
    pub fn message(&self) -> &Message<'a> {
        &self.message
    }
}

#[derive(Clone, Debug, Default)]
struct BatchIndex {
    header: Option<usize>,
    messages: Range<usize>,
    trailer: Option<usize>,
}

/// A parsed batch file.
#[derive(Clone, Debug)]
pub struct BatchFile<'a> {
    input: &'a [u8],
    parts: Vec<Part<'a>>,
    header: Option<usize>,
    trailer: Option<usize>,
    batches: Vec<BatchIndex>,
    warnings: Vec<Warning>,
}

/// One batch of a [`BatchFile`].
#[derive(Clone, Copy, Debug)]
pub struct Batch<'f, 'a> {
    file: &'f BatchFile<'a>,
    index: &'f BatchIndex,
}

impl<'f, 'a> Batch<'f, 'a> {
    /// The BHS segment, if the batch has one.
    pub fn header(&self) -> Option<Segment<'f>> {
        self.file.part_segment(self.index.header)
    }

    /// The BTS segment, if the batch has one.
    pub fn trailer(&self) -> Option<Segment<'f>> {
        self.file.part_segment(self.index.trailer)
    }

    /// The messages of the batch.
    pub fn messages(&self) -> impl Iterator<Item = &'f Message<'a>> + use<'f, 'a> {
        self.file
            .parts
            .get(self.index.messages.clone())
            .unwrap_or_default()
            .iter()
            .map(|part| &part.message)
    }

    /// Number of messages.
    pub fn message_count(&self) -> usize {
        self.index.messages.len()
    }
}

/// A structural line found while cutting the file.
struct Cut {
    offset: usize,
    kind: PartKind,
}

impl<'a> BatchFile<'a> {
    /// Parses a batch file (or a plain sequence of messages).
    pub fn parse(input: &'a [u8], options: &ParseOptions) -> Result<Self> {
        check_size(input, options)?;
        // Skipped leading bytes are reported by the first part's own parse.
        let start = find_header_start(
            input,
            options,
            &[b"FHS", b"BHS", b"MSH"],
            "FHS, BHS or MSH",
            &mut WarningSink::new(0),
        )?;
        let mut sink = WarningSink::new(options.max_warnings);
        let cuts = cut(input, start, options)?;
        let mut parts: Vec<Part<'a>> = Vec::with_capacity(cuts.len());
        let mut delimiters = Delimiters::default();
        for (i, cut) in cuts.iter().enumerate() {
            // The first piece includes any bytes skipped before the header.
            let from = if i == 0 { 0 } else { cut.offset };
            let to = cuts.get(i + 1).map_or(input.len(), |next| next.offset);
            let slice = input.get(from..to).unwrap_or_default();
            let message = match cut.kind {
                PartKind::FileHeader | PartKind::BatchHeader | PartKind::Message => {
                    let id: &[u8] = match cut.kind {
                        PartKind::FileHeader => b"FHS",
                        PartKind::BatchHeader => b"BHS",
                        _ => b"MSH",
                    };
                    let message =
                        Message::parse_with_headers(slice, options, &[id], "FHS, BHS or MSH")
                            .map_err(|error| shift(error, from))?;
                    if cut.kind != PartKind::Message {
                        delimiters = *message.delimiters();
                    }
                    message
                }
                PartKind::BatchTrailer | PartKind::FileTrailer => {
                    Message::parse_with_delimiters(slice, delimiters, options)
                        .map_err(|error| shift(error, from))?
                }
            };
            parts.push(Part {
                kind: cut.kind,
                offset: from,
                message,
            });
        }
        let mut file = Self {
            input,
            parts,
            header: None,
            trailer: None,
            batches: Vec::new(),
            warnings: Vec::new(),
        };
        file.structure(options, &mut sink)?;
        file.check_counts(options, &mut sink)?;
        file.warnings = sink.into_vec();
        Ok(file)
    }

    fn problem(
        &self,
        part: usize,
        problem: BatchProblem,
        options: &ParseOptions,
        sink: &mut WarningSink,
    ) -> Result<()> {
        let (offset, location) = self.part_location(part);
        if !options.lenient_batches {
            return Err(Error::Batch {
                offset,
                location,
                problem,
            });
        }
        sink.push(Warning::new(
            WarningKind::Batch(problem),
            offset,
            Some(location),
        ));
        Ok(())
    }

    fn part_location(&self, part: usize) -> (usize, Location) {
        let Some(found) = self.parts.get(part) else {
            return (0, Location::message());
        };
        let segment = found.message.segment(0);
        // The first part's slice starts at 0, every other at the part offset.
        let offset = found
            .offset
            .saturating_add(segment.map_or(0, |s| s.offset()));
        let id = segment.map_or(&b""[..], |s| s.id());
        (offset, Location::segment(1, SegmentId::new(id)))
    }

    /// Groups the parts into batches.
    fn structure(&mut self, options: &ParseOptions, sink: &mut WarningSink) -> Result<()> {
        let mut current: Option<BatchIndex> = None;
        let mut closed = false;
        for index in 0..self.parts.len() {
            let Some(kind) = self.parts.get(index).map(|p| p.kind) else {
                continue;
            };
            if closed {
                self.problem(index, BatchProblem::Misplaced, options, sink)?;
            }
            match kind {
                PartKind::FileHeader => {
                    if index == 0 {
                        self.header = Some(index);
                    } else {
                        self.problem(index, BatchProblem::Misplaced, options, sink)?;
                    }
                }
                PartKind::BatchHeader => {
                    if let Some(open) = current.take() {
                        if open.header.is_some() {
                            // A BHS without its BTS.
                            self.problem(index, BatchProblem::Misplaced, options, sink)?;
                        }
                        self.batches.push(open);
                    }
                    current = Some(BatchIndex {
                        header: Some(index),
                        messages: index + 1..index + 1,
                        trailer: None,
                    });
                }
                PartKind::Message => {
                    let batch = current.get_or_insert(BatchIndex {
                        header: None,
                        messages: index..index,
                        trailer: None,
                    });
                    if batch.messages.end != index {
                        // Messages are consecutive parts, so this cannot happen; keep the
                        // first run rather than index wrongly.
                        self.problem(index, BatchProblem::Misplaced, options, sink)?;
                    } else {
                        batch.messages.end = index + 1;
                    }
                }
                PartKind::BatchTrailer => {
                    let mut batch = current.take().unwrap_or(BatchIndex {
                        header: None,
                        messages: index..index,
                        trailer: None,
                    });
                    if batch.header.is_none() {
                        self.problem(index, BatchProblem::Misplaced, options, sink)?;
                    }
                    batch.trailer = Some(index);
                    self.batches.push(batch);
                }
                PartKind::FileTrailer => {
                    if let Some(open) = current.take() {
                        if open.header.is_some() {
                            self.problem(index, BatchProblem::Misplaced, options, sink)?;
                        }
                        self.batches.push(open);
                    }
                    self.trailer = Some(index);
                    closed = true;
                }
            }
        }
        if let Some(open) = current.take() {
            if open.header.is_some() {
                let last = self.parts.len().saturating_sub(1);
                self.problem(last, BatchProblem::Misplaced, options, sink)?;
            }
            self.batches.push(open);
        }
        Ok(())
    }

    fn check_counts(&self, options: &ParseOptions, sink: &mut WarningSink) -> Result<()> {
        for batch in &self.batches {
            if let Some(trailer) = batch.trailer {
                self.check_count(trailer, batch.messages.len(), options, sink)?;
            }
        }
        if let Some(trailer) = self.trailer {
            self.check_count(trailer, self.batches.len(), options, sink)?;
        }
        Ok(())
    }

    fn check_count(
        &self,
        part: usize,
        actual: usize,
        options: &ParseOptions,
        sink: &mut WarningSink,
    ) -> Result<()> {
        let Some(segment) = self.part_segment(Some(part)) else {
            return Ok(());
        };
        let declared = segment.field(1).raw().trim_ascii();
        if declared.is_empty() {
            return Ok(());
        }
        let parsed = core::str::from_utf8(declared)
            .ok()
            .and_then(|text| text.parse::<u64>().ok());
        match parsed {
            None => self.problem(part, BatchProblem::InvalidCount, options, sink),
            Some(declared) if declared != actual as u64 => self.problem(
                part,
                BatchProblem::CountMismatch {
                    declared,
                    actual: actual as u64,
                },
                options,
                sink,
            ),
            Some(_) => Ok(()),
        }
    }

    fn part_segment(&self, part: Option<usize>) -> Option<Segment<'_>> {
        self.parts.get(part?)?.message.segment(0)
    }

    /// The FHS segment, if the file has one.
    pub fn header(&self) -> Option<Segment<'_>> {
        self.part_segment(self.header)
    }

    /// The FTS segment, if the file has one.
    pub fn trailer(&self) -> Option<Segment<'_>> {
        self.part_segment(self.trailer)
    }

    /// The batches in order (messages outside BHS/BTS form batches without header).
    pub fn batches(&self) -> impl Iterator<Item = Batch<'_, 'a>> {
        self.batches
            .iter()
            .map(move |index| Batch { file: self, index })
    }

    /// Number of batches.
    pub fn batch_count(&self) -> usize {
        self.batches.len()
    }

    /// Every message of the file in order.
    pub fn messages(&self) -> impl Iterator<Item = &Message<'a>> {
        self.parts
            .iter()
            .filter(|part| part.kind == PartKind::Message)
            .map(|part| &part.message)
    }

    /// All pieces in file order.
    pub fn parts(&self) -> &[Part<'a>] {
        &self.parts
    }

    /// Structure and count problems lenient mode tolerated (each message also has its
    /// own [`Message::warnings`]).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The whole input.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.input
    }

    /// Writes every piece back in order; equals the input for a parsed file.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        for part in &self.parts {
            part.message.write_to(out);
        }
    }

    /// [`BatchFile::write_to`] into a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.input.len());
        self.write_to(&mut out);
        out
    }
}

/// Moves a piece-relative error offset to a file offset.
fn shift(error: Error, by: usize) -> Error {
    match error {
        Error::MissingHeader { offset, expected } => Error::MissingHeader {
            offset: offset.saturating_add(by),
            expected,
        },
        Error::InvalidDelimiters {
            offset,
            location,
            problem,
        } => Error::InvalidDelimiters {
            offset: offset.saturating_add(by),
            location,
            problem,
        },
        Error::LimitExceeded {
            offset,
            location,
            limit,
            max,
        } => Error::LimitExceeded {
            offset: offset.saturating_add(by),
            location,
            limit,
            max,
        },
        Error::NonStandardTerminator {
            offset,
            location,
            found,
        } => Error::NonStandardTerminator {
            offset: offset.saturating_add(by),
            location,
            found,
        },
        Error::EmptySegment { offset, location } => Error::EmptySegment {
            offset: offset.saturating_add(by),
            location,
        },
        Error::InvalidSegmentId { offset, location } => Error::InvalidSegmentId {
            offset: offset.saturating_add(by),
            location,
        },
        Error::Charset {
            offset,
            location,
            problem,
        } => Error::Charset {
            offset: offset.saturating_add(by),
            location,
            problem,
        },
        other => other,
    }
}

/// Finds the structural lines (FHS, BHS, MSH, BTS, FTS at the start of a segment).
fn cut(input: &[u8], start: usize, options: &ParseOptions) -> Result<Vec<Cut>> {
    let body = input.get(start..).unwrap_or_default();
    let split = match memchr::memchr2(b'\r', b'\n', body).and_then(|p| body.get(p)) {
        Some(b'\n') => b'\n',
        _ => b'\r',
    };
    let mut cuts = Vec::new();
    let consider = |line_start: usize, cuts: &mut Vec<Cut>| -> Result<()> {
        let Some(kind) = input
            .get(line_start..line_start.saturating_add(3))
            .and_then(PartKind::from_id)
        else {
            return Ok(());
        };
        if cuts.len() >= options.max_segments {
            return Err(Error::LimitExceeded {
                offset: line_start,
                location: Location::message(),
                limit: Limit::Segments,
                max: options.max_segments,
            });
        }
        cuts.push(Cut {
            offset: line_start,
            kind,
        });
        Ok(())
    };
    consider(start, &mut cuts)?;
    for relative in memchr::memchr_iter(split, body) {
        let mut next = start + relative + 1;
        if split == b'\r' && input.get(next) == Some(&b'\n') {
            next += 1;
        }
        if next < input.len() {
            consider(next, &mut cuts)?;
        }
    }
    Ok(cuts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lenient(input: &[u8]) -> BatchFile<'_> {
        BatchFile::parse(input, &ParseOptions::default()).unwrap()
    }

    #[test]
    fn plain_sequence_of_messages_is_one_implicit_batch() {
        let input =
            b"MSH|^~\\&|A||||||ADT^A01|1|P|2.5\rPID|1\r\rMSH|^~\\&|A||||||ADT^A01|2|P|2.5\rPID|2\r";
        let file = lenient(input);
        assert_eq!(file.batch_count(), 1);
        let batch = file.batches().next().unwrap();
        assert!(batch.header().is_none());
        assert_eq!(batch.message_count(), 2);
        assert_eq!(file.to_bytes(), input);
    }

    #[test]
    fn custom_delimiters_per_message_survive() {
        let input = b"BHS|^~\\&\rMSH#$%@!#A\rPID#1\rMSH|^~\\&|B\rBTS|2\r";
        let file = lenient(input);
        let messages: Vec<_> = file.messages().collect();
        assert_eq!(messages[0].msh().unwrap().field(3).raw(), b"A");
        assert_eq!(messages[1].msh().unwrap().field(3).raw(), b"B");
        assert!(file.warnings().is_empty());
    }

    #[test]
    fn count_mismatch_warns_in_lenient_and_fails_in_strict() {
        let input = b"FHS|^~\\&\rBHS|^~\\&\rMSH|^~\\&|A\rBTS|3\rFTS|1\r";
        let file = lenient(input);
        assert_eq!(file.warnings().len(), 1);
        assert_eq!(
            file.warnings()[0].kind,
            WarningKind::Batch(BatchProblem::CountMismatch {
                declared: 3,
                actual: 1
            })
        );
        assert_eq!(file.warnings()[0].offset, 29);
        assert!(matches!(
            BatchFile::parse(input, &ParseOptions::strict()),
            Err(Error::Batch { .. })
        ));
        let bad = b"BHS|^~\\&\rMSH|^~\\&|A\rBTS|x\r";
        assert_eq!(
            lenient(bad).warnings()[0].kind,
            WarningKind::Batch(BatchProblem::InvalidCount)
        );
    }

    #[test]
    fn misplaced_trailers_are_reported() {
        let file = lenient(b"MSH|^~\\&|A\rBTS|1\rBHS|^~\\&\rMSH|^~\\&|B\r");
        assert_eq!(file.batch_count(), 2);
        assert_eq!(file.warnings().len(), 2);
    }

    #[test]
    fn lf_files_with_bom_round_trip() {
        let input = b"\xEF\xBB\xBFFHS|^~\\&\nBHS|^~\\&\nMSH|^~\\&|A\nPID|1\nBTS|1\nFTS|1\n";
        let file = lenient(input);
        assert_eq!(file.header().unwrap().id(), b"FHS");
        assert_eq!(file.trailer().unwrap().field(1).raw(), b"1");
        assert_eq!(file.to_bytes(), input);
        assert!(file.warnings().is_empty());
    }

    #[test]
    fn errors_in_a_later_message_carry_file_offsets() {
        let input = b"MSH|^~\\&|A\rMSH|^^\\&|B\r";
        let err = BatchFile::parse(input, &ParseOptions::default()).unwrap_err();
        assert_eq!(err.offset(), Some(16));
    }

    #[test]
    fn input_that_is_not_hl7_is_rejected() {
        assert!(matches!(
            BatchFile::parse(b"hello", &ParseOptions::default()),
            Err(Error::MissingHeader { .. })
        ));
    }
}
