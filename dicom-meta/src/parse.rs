//! The parser: preamble, file meta information, transfer syntax, and an iterative
//! walk of the data set that builds the element index.
//!
//! Rules that hold everywhere in this module:
//! - every read goes through [`read_array`], which returns `None` past the end;
//! - no length or count read from the input sizes an allocation: nodes are pushed
//!   one per element actually present, and the only buffer sized up front is the
//!   inflate output, capped by [`Limits::max_inflated_len`](crate::Limits);
//! - nesting uses an explicit stack whose depth is checked before each push.

use std::borrow::Cow;

use crate::charset::CharacterSet;
use crate::dictionary::implicit_vr;
use crate::error::{Error, Location, Region, Result, Warning, WarningKind};
use crate::header::{DataSetSyntax, Header, Magic, Stop, Warnings};
use crate::node::{NONE, Node, flags};
use crate::options::ParseOptions;
use crate::transfer_syntax::{Encoding, TransferSyntax};
use crate::{Tag, Vr, tags};

mod fast;

/// The value of a length field that means "undefined length" (PS3.5 §7.1.1).
pub(crate) const UNDEFINED: u32 = 0xFFFF_FFFF;
const MAGIC: &[u8; 4] = b"DICM";
/// The most input read: offsets are kept in 32 bits, and `u32::MAX` marks a
/// container of undefined length.
const MAX_INPUT: usize = (u32::MAX - 1) as usize;
const PREAMBLE_LEN: usize = 128;

/// Reads a DICOM file (or a bare data set) with the default options.
///
/// ```
/// let bytes = std::fs::read("tests/data/highdicom/sm_image.dcm")?;
/// let header = labwire_dicom_meta::parse(&bytes)?;
/// assert_eq!(header.string(labwire_dicom_meta::tags::MODALITY).as_deref(), Some("SM"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse(input: &[u8]) -> Result<Header<'_>> {
    parse_with(input, &ParseOptions::default())
}

/// Reads a DICOM file (or a bare data set) with the given options.
///
/// The input is usually a whole file (memory-mapped or read) or a prefix of it: a
/// parse that needs more bytes than the prefix holds ends with
/// [`Error::Truncated`], so a caller can read more and try again. Inputs over
/// 4 GiB - 2 bytes are read up to there (offsets are kept in 32 bits).
///
/// In tolerant mode (the default) the result is `Ok` as soon as anything DICOM was
/// found: structural errors end the walk and are kept in
/// [`Header::error`](crate::Header::error) with what was read before them. In strict
/// mode they are returned as `Err`.
pub fn parse_with<'a>(input: &'a [u8], options: &ParseOptions) -> Result<Header<'a>> {
    let input = input.get(..MAX_INPUT).unwrap_or(input);
    let mut warnings = Warnings::new(options.limits.max_warnings);
    let strict = options.strict;
    let relax = |warnings: &mut Warnings, kind, offset: usize, region| {
        let warning = Warning {
            offset: offset as u64,
            location: Location::region(region),
            kind,
        };
        if strict {
            Err(Error::NonConformant {
                offset: warning.offset,
                location: warning.location,
                warning: kind,
            })
        } else {
            warnings.push(warning);
            Ok(())
        }
    };

    // PS3.10 §7.1: a 128-byte preamble, `DICM`, then the file meta information.
    let (magic, meta_start) = if input.get(PREAMBLE_LEN..PREAMBLE_LEN + 4) == Some(MAGIC) {
        (Magic::AfterPreamble, PREAMBLE_LEN + 4)
    } else if input.get(..4) == Some(MAGIC) {
        relax(&mut warnings, WarningKind::NoPreamble, 0, Region::Preamble)?;
        (Magic::AtStart, 4)
    } else if looks_like_file_meta(input) {
        relax(&mut warnings, WarningKind::NoMagic, 0, Region::Preamble)?;
        (Magic::Missing, 0)
    } else {
        let encoding = sniff(input, 0).ok_or(Error::NotDicom {
            offset: 0,
            reason: "no DICM prefix and no data element at the start",
        })?;
        relax(&mut warnings, WarningKind::NoFileMeta, 0, Region::Preamble)?;
        let syntax = DataSetSyntax {
            uid: None,
            encoding,
            deflated: false,
            encapsulated: false,
            guessed: true,
        };
        let meta = Meta::empty();
        return walk_data_set(
            input,
            meta,
            Magic::Missing,
            syntax,
            Cow::Borrowed(input),
            0,
            options,
            warnings,
        );
    };

    let meta = read_meta(input, meta_start, options, &mut warnings)?;
    if let Some(error) = meta.error.clone() {
        if strict {
            return Err(error);
        }
        let syntax = DataSetSyntax {
            uid: meta.transfer_syntax,
            encoding: Encoding::EXPLICIT_VR_LITTLE_ENDIAN,
            deflated: false,
            encapsulated: false,
            guessed: true,
        };
        let end = meta.end;
        let mut header = Header::new(
            input,
            meta,
            magic,
            syntax,
            Cow::Borrowed(input),
            end,
            warnings,
        );
        header.set_outcome(end, None, Some(error));
        return Ok(header);
    }
    let data_start = meta.end;

    // PS3.10 §7.1: the transfer syntax of the data set is (0002,0010).
    let uid_text = meta
        .transfer_syntax
        .and_then(|(start, len)| {
            input.get(start as usize..(start as usize).saturating_add(len as usize))
        })
        .map(trim_uid);
    let known = uid_text.and_then(TransferSyntax::from_uid);
    let syntax = match (uid_text, known) {
        (Some(_), Some(ts)) => DataSetSyntax {
            uid: meta.transfer_syntax,
            encoding: ts.encoding,
            deflated: ts.deflated,
            encapsulated: ts.encapsulated,
            guessed: false,
        },
        (uid, _) => {
            let kind = if uid.is_some() {
                WarningKind::UnknownTransferSyntax
            } else {
                WarningKind::MissingTransferSyntax
            };
            relax(&mut warnings, kind, data_start, Region::FileMeta)?;
            DataSetSyntax {
                uid: meta.transfer_syntax,
                encoding: sniff(input, data_start).unwrap_or(Encoding::IMPLICIT_VR_LITTLE_ENDIAN),
                deflated: false,
                encapsulated: false,
                guessed: true,
            }
        }
    };

    if syntax.deflated {
        let deflated = input.get(data_start..).unwrap_or_default();
        // Offsets into the inflated stream are 32-bit too.
        let cap = options.limits.max_inflated_len.min(MAX_INPUT as u64);
        let inflated = inflate(deflated, cap);
        let (data, early_end, stream_len) = match inflated {
            Ok(Inflated {
                data,
                capped,
                ended_early,
                stream_len,
            }) => {
                if capped {
                    warnings.push(Warning {
                        offset: data_start as u64,
                        location: Location::region(Region::InflatedDataSet),
                        kind: WarningKind::InflateCapped {
                            limit: options.limits.max_inflated_len,
                        },
                    });
                }
                (data, ended_early, stream_len)
            }
            Err(reason) => {
                let error = Error::Inflate {
                    offset: data_start as u64,
                    reason,
                };
                if strict {
                    return Err(error);
                }
                let mut header = Header::new(
                    input,
                    meta,
                    magic,
                    syntax,
                    Cow::Borrowed(&[][..]),
                    0,
                    warnings,
                );
                header.set_outcome(0, None, Some(error));
                header.set_deflated_stream(data_start, input.len());
                return Ok(header);
            }
        };
        let mut header = walk_data_set(
            input,
            meta,
            magic,
            syntax,
            Cow::Owned(data),
            0,
            options,
            warnings,
        )?;
        // The deflate stream as read, for a byte-exact rewrite: up to its final block,
        // or to the end of the input when it has none or was not inflated whole.
        let stream_end = stream_len.map_or(input.len(), |len| data_start.saturating_add(len));
        header.set_deflated_stream(data_start, stream_end);
        if early_end && header.error().is_none() {
            let error = Error::Inflate {
                offset: data_start as u64,
                reason: "the deflate stream ends early",
            };
            if strict {
                return Err(error);
            }
            header.set_error(error);
        }
        return Ok(header);
    }
    walk_data_set(
        input,
        meta,
        magic,
        syntax,
        Cow::Borrowed(input),
        data_start,
        options,
        warnings,
    )
}

/// Reads a bare data set (no preamble, no file meta information) in a known
/// encoding, such as one received over the network (PS3.7 §6.3.1).
///
/// ```
/// use labwire_dicom_meta::{parse_data_set, Encoding, ParseOptions, tags};
///
/// // (0010,0010) PN "Doe^John" in explicit VR little endian.
/// let bytes = b"\x10\x00\x10\x00PN\x08\x00Doe^John";
/// let header = parse_data_set(bytes, Encoding::EXPLICIT_VR_LITTLE_ENDIAN, &ParseOptions::default())?;
/// assert_eq!(header.string(tags::PATIENT_NAME).as_deref(), Some("Doe^John"));
/// # Ok::<(), labwire_dicom_meta::Error>(())
/// ```
pub fn parse_data_set<'a>(
    input: &'a [u8],
    encoding: Encoding,
    options: &ParseOptions,
) -> Result<Header<'a>> {
    let input = input.get(..MAX_INPUT).unwrap_or(input);
    let syntax = DataSetSyntax {
        uid: None,
        encoding,
        deflated: false,
        encapsulated: false,
        guessed: false,
    };
    let warnings = Warnings::new(options.limits.max_warnings);
    walk_data_set(
        input,
        Meta::empty(),
        Magic::Missing,
        syntax,
        Cow::Borrowed(input),
        0,
        options,
        warnings,
    )
}

/// The file meta information as read: its nodes and where the group ends.
#[derive(Debug)]
pub(crate) struct Meta {
    pub(crate) nodes: Vec<Node>,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) group_length: Option<u32>,
    /// Offset and length of the Transfer Syntax UID value in the input.
    pub(crate) transfer_syntax: Option<(u32, u32)>,
    pub(crate) error: Option<Error>,
}

impl Meta {
    fn empty() -> Self {
        Self {
            nodes: Vec::new(),
            start: 0,
            end: 0,
            group_length: None,
            transfer_syntax: None,
            error: None,
        }
    }
}

/// True if the input starts with a group 0002 element in explicit VR little endian:
/// file meta information whose `DICM` prefix was lost.
fn looks_like_file_meta(input: &[u8]) -> bool {
    matches!(read_array::<6>(input, 0), Some([0x02, 0x00, _, _, a, b]) if Vr::from_bytes([a, b]).is_known())
}

/// Guesses the encoding of a data set from its first element (what pydicom and
/// DCMTK do for files without a transfer syntax): explicit if a known VR follows
/// the tag, big endian if the group reads smaller that way. `None` if the bytes do
/// not look like the start of a data set at all.
fn sniff(data: &[u8], start: usize) -> Option<Encoding> {
    let [g0, g1, _, _, v0, v1, _, _] = read_array::<8>(data, start)?;
    let little = u16::from_le_bytes([g0, g1]);
    let big = u16::from_be_bytes([g0, g1]);
    let big_endian = big < little;
    let group = little.min(big);
    // A data set starts with a low, even group (0008 in practice); anything else is
    // not DICOM, or not a data set start this parser can trust.
    if group > 0x0FFF || group % 2 == 1 {
        return None;
    }
    let explicit_vr = Vr::from_bytes([v0, v1]).is_known();
    Some(Encoding {
        explicit_vr,
        // There is no implicit VR big endian transfer syntax.
        big_endian: big_endian && explicit_vr,
    })
}

/// Reads group 0002 element by element, by group number: PS3.10 §7.1 says the group
/// length (0002,0000) gives its size, but files where it is missing or wrong are
/// common, and trusting it either drops data set elements or leaks meta elements
/// into the data set.
fn read_meta(
    input: &[u8],
    start: usize,
    options: &ParseOptions,
    warnings: &mut Warnings,
) -> Result<Meta> {
    let mut meta = Meta {
        start,
        end: start,
        // Room for the group 0002 elements of PS3.10 Table 7.1-1 without regrowing.
        nodes: Vec::with_capacity(12),
        ..Meta::empty()
    };
    let mut pos = start;
    let mut encoding = Encoding::EXPLICIT_VR_LITTLE_ENDIAN;
    let mut group_length_end = None;
    let location = |tag| Location::element(Region::FileMeta, tag);
    while let Some([0x02, 0x00]) = read_array::<2>(input, pos) {
        let parsed = match read_element_header(input, pos, encoding) {
            Ok(HeaderRead::Element(parsed)) => parsed,
            Ok(HeaderRead::ImplicitInExplicit) => {
                let warning = WarningKind::FileMetaNotExplicitLittleEndian;
                if options.strict {
                    return Err(Error::NonConformant {
                        offset: pos as u64,
                        location: Location::region(Region::FileMeta),
                        warning,
                    });
                }
                warnings.push(Warning {
                    offset: pos as u64,
                    location: Location::region(Region::FileMeta),
                    kind: warning,
                });
                encoding = Encoding::IMPLICIT_VR_LITTLE_ENDIAN;
                continue;
            }
            Err(needed) => {
                meta.error = Some(Error::Truncated {
                    offset: pos as u64,
                    location: Location::region(Region::FileMeta),
                    needed: needed as u64,
                    available: input.len().saturating_sub(pos) as u64,
                });
                break;
            }
        };
        let value_start = pos.saturating_add(usize::from(parsed.header_len));
        if parsed.length == UNDEFINED {
            meta.error = Some(Error::UnexpectedTag {
                offset: pos as u64,
                location: location(parsed.tag),
                found: parsed.tag,
                expected: "a file meta element of defined length",
            });
            break;
        }
        let value_end = value_start.saturating_add(parsed.length as usize);
        if value_end > input.len() {
            meta.error = Some(Error::Truncated {
                offset: pos as u64,
                location: location(parsed.tag),
                needed: u64::from(parsed.header_len).saturating_add(u64::from(parsed.length)),
                available: input.len().saturating_sub(pos) as u64,
            });
            break;
        }
        if parsed.length > options.limits.max_value_len {
            meta.error = Some(Error::ValueTooLarge {
                offset: pos as u64,
                location: location(parsed.tag),
                length: parsed.length,
                limit: options.limits.max_value_len,
            });
            break;
        }
        if parsed.tag == tags::FILE_META_INFORMATION_GROUP_LENGTH {
            if let Some(bytes) = read_array::<4>(input, value_start).filter(|_| parsed.length == 4)
            {
                meta.group_length = Some(u32::from_le_bytes(bytes));
                group_length_end = Some(value_end);
            }
        } else if parsed.tag == tags::TRANSFER_SYNTAX_UID {
            meta.transfer_syntax = Some((value_start as u32, parsed.length));
        }
        if meta.nodes.len() >= options.limits.max_elements as usize {
            meta.error = Some(Error::TooManyElements {
                offset: pos as u64,
                location: location(parsed.tag),
                limit: options.limits.max_elements,
            });
            break;
        }
        let mut node_flags = if encoding.explicit_vr {
            flags::EXPLICIT
        } else {
            flags::IMPLICIT_VR
        };
        if parsed.header_len == 12 {
            node_flags |= flags::LONG_HEADER;
        }
        meta.nodes.push(Node {
            tag: parsed.tag,
            vr: parsed.vr,
            flags: node_flags,
            header_start: pos as u32,
            value_len: parsed.length,
            end: u32::try_from(meta.nodes.len().saturating_add(1)).unwrap_or(u32::MAX),
            parent: NONE,
        });
        pos = value_end;
        meta.end = pos;
    }
    if meta.error.is_none() {
        let relax = |warnings: &mut Warnings, kind| {
            if options.strict {
                Err(Error::NonConformant {
                    offset: start as u64,
                    location: location(tags::FILE_META_INFORMATION_GROUP_LENGTH),
                    warning: kind,
                })
            } else {
                warnings.push(Warning {
                    offset: start as u64,
                    location: location(tags::FILE_META_INFORMATION_GROUP_LENGTH),
                    kind,
                });
                Ok(())
            }
        };
        match (meta.group_length, group_length_end) {
            (Some(declared), Some(after)) => {
                let actual = u32::try_from(meta.end.saturating_sub(after)).unwrap_or(u32::MAX);
                if declared != actual {
                    relax(
                        warnings,
                        WarningKind::GroupLengthMismatch { declared, actual },
                    )?;
                }
            }
            _ => relax(warnings, WarningKind::MissingGroupLength)?,
        }
    }
    Ok(meta)
}

/// The outcome of inflating a deflated data set.
struct Inflated {
    data: Vec<u8>,
    /// The stream inflates to more than the limit; `data` is its first `limit` bytes.
    capped: bool,
    /// The stream ends before its final block.
    ended_early: bool,
    /// How many input bytes the stream took, when it ended with its final block.
    stream_len: Option<usize>,
}

/// Inflates a raw DEFLATE stream (RFC 1951, PS3.5 §A.5) into at most `limit` bytes.
/// The output buffer grows by doubling from a small start, so memory follows the
/// bytes actually produced, never a size the input claims.
fn inflate(deflated: &[u8], limit: u64) -> core::result::Result<Inflated, &'static str> {
    use miniz_oxide::inflate::TINFLStatus;
    use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};

    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut out = vec![0u8; deflated.len().saturating_mul(2).clamp(1024, limit.max(1))];
    let mut decompressor = Box::<DecompressorOxide>::default();
    let mut input = deflated;
    let mut out_pos = 0usize;
    loop {
        let (status, consumed, written) = decompress(
            &mut decompressor,
            input,
            &mut out,
            out_pos,
            inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
        );
        out_pos = out_pos.saturating_add(written).min(out.len());
        input = input.get(consumed..).unwrap_or_default();
        match status {
            TINFLStatus::Done => {
                out.truncate(out_pos);
                return Ok(Inflated {
                    data: out,
                    capped: false,
                    ended_early: false,
                    stream_len: Some(deflated.len().saturating_sub(input.len())),
                });
            }
            TINFLStatus::HasMoreOutput => {
                if out.len() >= limit {
                    out.truncate(out_pos);
                    return Ok(Inflated {
                        data: out,
                        capped: true,
                        ended_early: false,
                        stream_len: None,
                    });
                }
                let grown = out.len().saturating_mul(2).min(limit);
                out.resize(grown, 0);
            }
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress if out_pos > 0 => {
                out.truncate(out_pos);
                return Ok(Inflated {
                    data: out,
                    capped: false,
                    ended_early: true,
                    stream_len: None,
                });
            }
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                return Err("the deflate stream is empty or cut short");
            }
            _ => return Err("the deflate stream is corrupt"),
        }
    }
}

/// A parsed element header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ElementHeader {
    pub(crate) tag: Tag,
    pub(crate) vr: Vr,
    /// The VR was read from the wire.
    pub(crate) explicit: bool,
    pub(crate) length: u32,
    pub(crate) header_len: u8,
}

pub(crate) enum HeaderRead {
    Element(ElementHeader),
    /// Explicit VR was expected but the VR bytes are not letters.
    ImplicitInExplicit,
}

/// Reads the element header at `pos`. `Err(n)` when fewer than the `n` bytes the
/// header needs remain.
#[inline(always)]
pub(crate) fn read_element_header(
    data: &[u8],
    pos: usize,
    encoding: Encoding,
) -> core::result::Result<HeaderRead, usize> {
    let big = encoding.big_endian;
    let [a, b, c, d] = read_array::<4>(data, pos).ok_or(4usize)?;
    let tag = if big {
        Tag::new(u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]))
    } else {
        Tag::new(u16::from_le_bytes([a, b]), u16::from_le_bytes([c, d]))
    };
    let u32_at = |at: usize| {
        read_array::<4>(data, at).map(|bytes| {
            if big {
                u32::from_be_bytes(bytes)
            } else {
                u32::from_le_bytes(bytes)
            }
        })
    };
    // Items and delimiters have no VR in any transfer syntax (PS3.5 §7.5).
    if tag.is_delimiter_group() || !encoding.explicit_vr {
        let length = u32_at(pos.saturating_add(4)).ok_or(8usize)?;
        let vr = if tag.is_delimiter_group() {
            Vr::UN
        } else {
            implicit_vr(tag)
        };
        return Ok(HeaderRead::Element(ElementHeader {
            tag,
            vr,
            explicit: false,
            length,
            header_len: 8,
        }));
    }
    let [v0, v1] = read_array::<2>(data, pos.saturating_add(4)).ok_or(8usize)?;
    let vr = Vr::from_bytes([v0, v1]);
    if !vr.is_plausible() {
        return Ok(HeaderRead::ImplicitInExplicit);
    }
    if vr.has_long_length() {
        // PS3.5 Table 7.1-1: two reserved bytes, then a 32-bit length.
        let length = u32_at(pos.saturating_add(8)).ok_or(12usize)?;
        Ok(HeaderRead::Element(ElementHeader {
            tag,
            vr,
            explicit: true,
            length,
            header_len: 12,
        }))
    } else {
        let [l0, l1] = read_array::<2>(data, pos.saturating_add(6)).ok_or(8usize)?;
        let length = if big {
            u16::from_be_bytes([l0, l1])
        } else {
            u16::from_le_bytes([l0, l1])
        };
        Ok(HeaderRead::Element(ElementHeader {
            tag,
            vr,
            explicit: true,
            length: u32::from(length),
            header_len: 8,
        }))
    }
}

/// `N` bytes at `pos`, or `None` past the end.
#[inline(always)]
pub(crate) fn read_array<const N: usize>(data: &[u8], pos: usize) -> Option<[u8; N]> {
    data.get(pos..)?.first_chunk::<N>().copied()
}

/// A UID value without its NUL or space padding.
fn trim_uid(bytes: &[u8]) -> &str {
    let end = bytes
        .iter()
        .rposition(|&b| b != 0 && b != b' ')
        .map_or(0, |last| last.saturating_add(1));
    core::str::from_utf8(bytes.get(..end).unwrap_or_default()).unwrap_or("")
}

#[cfg(test)]
thread_local! {
    /// Set by tests to walk with the general path only, to compare both paths.
    static GENERAL_PATH_ONLY: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// False when a test asks for the general path only.
#[cfg(test)]
fn fast_path_enabled() -> bool {
    !GENERAL_PATH_ONLY.with(core::cell::Cell::get)
}

/// The fast path is always on outside tests.
#[cfg(not(test))]
#[inline(always)]
fn fast_path_enabled() -> bool {
    true
}

/// What a frame of the walk's stack is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    /// The top-level data set.
    Top,
    /// Inside a sequence: items and the sequence delimiter.
    Sequence,
    /// Inside encapsulated pixel data: fragment items and the sequence delimiter.
    Fragments,
    /// Inside an item: a data set.
    Item,
}

/// The `end` of a frame of undefined length.
const OPEN: usize = usize::MAX;

/// [`OPEN`] as stored in a [`Frame`]; inputs are cut below 4 GiB - 1 so no real
/// offset takes this value.
const OPEN_U32: u32 = u32::MAX;

/// Stands in for the top-level frame, which is never popped.
const TOP: Frame = Frame {
    kind: FrameKind::Top,
    node: NONE,
    end: OPEN_U32,
    limit: 0,
    encoding: Encoding::EXPLICIT_VR_LITTLE_ENDIAN,
    last_tag: None,
    unsorted: false,
};

/// One open container of the walk: 24 bytes, copied on every push and pop.
#[derive(Debug, Clone, Copy)]
struct Frame {
    kind: FrameKind,
    /// The node of the sequence, item or pixel data element; [`NONE`] at top level.
    node: u32,
    /// The end offset of a container of defined length, or [`OPEN_U32`].
    end: u32,
    /// The innermost defined end of this frame or any enclosing one: nothing inside
    /// may reach past it.
    limit: u32,
    encoding: Encoding,
    /// The last element tag seen in this data set (ascending-order check).
    last_tag: Option<Tag>,
    /// The data set was found out of order (warned once).
    unsorted: bool,
}

impl Frame {
    fn is_open(&self) -> bool {
        self.end == OPEN_U32
    }

    /// The end offset, [`OPEN`] for undefined length.
    fn end(&self) -> usize {
        if self.is_open() {
            OPEN
        } else {
            self.end as usize
        }
    }

    fn limit(&self) -> usize {
        self.limit as usize
    }
}

struct Walker<'o, 'd> {
    data: &'d [u8],
    pos: usize,
    options: &'o ParseOptions,
    region: Region,
    nodes: Vec<Node>,
    /// The open frames, the top level first and the innermost last; never empty.
    frames: Vec<Frame>,
    warnings: Warnings,
    /// Explicit VR data turned out to be implicit: read the rest as implicit.
    implicit_switch: bool,
    top_charset: u32,
    /// (item node, its (0008,0005) node).
    item_charsets: Vec<(u32, u32)>,
    sequence_depth: u32,
}

/// How the walk ended.
enum End {
    /// All input read.
    Complete,
    /// A stop condition before a top-level element.
    Stopped(Stop),
}

#[allow(clippy::too_many_arguments)]
fn walk_data_set<'a>(
    input: &'a [u8],
    meta: Meta,
    magic: Magic,
    syntax: DataSetSyntax,
    data: Cow<'a, [u8]>,
    start: usize,
    options: &ParseOptions,
    warnings: Warnings,
) -> Result<Header<'a>> {
    let region = if syntax.deflated {
        Region::InflatedDataSet
    } else {
        Region::DataSet
    };
    let buffer: &[u8] = &data;
    // Room for a typical header without regrowing; never more than the input allows.
    let capacity = (buffer.len().saturating_sub(start) / 32)
        .clamp(8, 1024)
        .min(options.limits.max_elements as usize);
    // Room for eight levels of nesting (real headers use four or five) without
    // regrowing; deeper inputs grow it, up to twice `max_depth` frames.
    let mut frames = Vec::with_capacity(16);
    frames.push(Frame {
        kind: FrameKind::Top,
        node: NONE,
        end: OPEN_U32,
        limit: u32::try_from(buffer.len()).unwrap_or(OPEN_U32 - 1),
        encoding: syntax.encoding,
        last_tag: None,
        unsorted: false,
    });
    let mut walker = Walker {
        data: buffer,
        pos: start,
        options,
        region,
        nodes: Vec::with_capacity(capacity),
        frames,
        warnings,
        implicit_switch: false,
        top_charset: NONE,
        item_charsets: Vec::new(),
        sequence_depth: 0,
    };
    let outcome = walker.walk();
    let (stop, error) = match outcome {
        Ok(End::Complete) => (None, None),
        Ok(End::Stopped(stop)) => (Some(stop), None),
        Err(error) => {
            if options.strict {
                return Err(error);
            }
            walker.close_open_frames();
            (None, Some(error))
        }
    };
    let parsed_end = walker.pos;
    let top_unsorted = walker.frames.first().is_some_and(|top| top.unsorted);
    let Walker {
        nodes,
        warnings,
        top_charset,
        item_charsets,
        ..
    } = walker;
    let mut header = Header::new(input, meta, magic, syntax, data, start, warnings);
    header.set_index(
        nodes,
        top_charset,
        item_charsets,
        top_unsorted,
        options.limits.max_value_len,
    );
    header.set_outcome(parsed_end, stop, error);
    Ok(header)
}

impl Walker<'_, '_> {
    fn walk(&mut self) -> Result<End> {
        loop {
            if fast_path_enabled() {
                self.fast_walk();
            }
            // Close a container of defined length whose end is reached.
            if !self.cur().is_open() && self.pos >= self.cur().end() {
                self.close_frame(self.pos);
                continue;
            }
            if self.pos >= self.data.len() {
                if self.cur().kind == FrameKind::Top {
                    return Ok(End::Complete);
                }
                // An item or sequence of undefined length without its delimiter.
                return Err(Error::Truncated {
                    offset: self.pos as u64,
                    location: self.location(None),
                    needed: 8,
                    available: 0,
                });
            }
            let encoding = self.encoding();
            let limit = self.cur().limit();
            let header = match read_element_header(self.data, self.pos, encoding) {
                Ok(HeaderRead::Element(header)) => header,
                Ok(HeaderRead::ImplicitInExplicit) => {
                    self.relax(WarningKind::ImplicitVrInExplicitSyntax, None)?;
                    self.implicit_switch = true;
                    continue;
                }
                Err(needed) => return Err(self.out_of_bytes(None, needed as u64, limit)),
            };
            if usize::from(header.header_len) > limit.saturating_sub(self.pos) {
                return Err(self.out_of_bytes(
                    Some(header.tag),
                    u64::from(header.header_len),
                    limit,
                ));
            }
            if self.cur().kind == FrameKind::Top && self.should_stop(header.tag) {
                return Ok(End::Stopped(Stop {
                    tag: header.tag,
                    offset: self.pos as u64,
                }));
            }
            match self.cur().kind {
                FrameKind::Sequence => self.in_sequence(header, encoding, limit)?,
                FrameKind::Fragments => self.in_fragments(header, encoding, limit)?,
                FrameKind::Item | FrameKind::Top => self.in_data_set(header, encoding, limit)?,
            }
        }
    }

    /// The innermost open frame.
    #[inline(always)]
    fn cur(&self) -> &Frame {
        self.frames.last().unwrap_or(&TOP)
    }

    /// The encoding of the current data set, after any switch to implicit VR.
    fn encoding(&self) -> Encoding {
        if self.implicit_switch {
            Encoding {
                explicit_vr: false,
                ..self.cur().encoding
            }
        } else {
            self.cur().encoding
        }
    }

    fn should_stop(&self, tag: Tag) -> bool {
        (self.options.stop_at_pixel_data && tag.is_pixel_data())
            || self.options.stop_before.is_some_and(|stop| tag >= stop)
    }

    /// An item or the delimiter inside a sequence.
    fn in_sequence(
        &mut self,
        header: ElementHeader,
        encoding: Encoding,
        limit: usize,
    ) -> Result<()> {
        let start = self.pos;
        match header.tag {
            Tag::ITEM => {
                let value_start = start.saturating_add(8);
                if header.length == UNDEFINED {
                    let node = self.push_node(
                        header,
                        start,
                        0,
                        flags::ITEM | flags::UNDEFINED_LENGTH,
                        encoding,
                    )?;
                    self.push_frame(FrameKind::Item, node, OPEN, encoding);
                } else {
                    let value_end = self.check_fits(header, limit)?;
                    let node =
                        self.push_node(header, start, header.length, flags::ITEM, encoding)?;
                    if header.length > 0 {
                        self.push_frame(FrameKind::Item, node, value_end, encoding);
                    }
                }
                self.pos = value_start;
                Ok(())
            }
            Tag::SEQUENCE_DELIMITATION => self.delimiter(header, FrameKind::Sequence, encoding),
            Tag::ITEM_DELIMITATION => self.stray_delimiter(header, encoding),
            found => Err(Error::UnexpectedTag {
                offset: start as u64,
                location: self.location(Some(found)),
                found,
                expected: "an item or a sequence delimiter",
            }),
        }
    }

    /// A fragment or the delimiter inside encapsulated pixel data (PS3.5 §A.4).
    fn in_fragments(
        &mut self,
        header: ElementHeader,
        encoding: Encoding,
        limit: usize,
    ) -> Result<()> {
        let start = self.pos;
        match header.tag {
            Tag::ITEM if header.length != UNDEFINED => {
                // Fragments are walked by length, never scanned for a delimiter: their
                // bytes may contain FE FF DD E0.
                let value_end = self.check_fits(header, limit)?;
                self.push_node(header, start, header.length, flags::ITEM, encoding)?;
                self.pos = value_end;
                Ok(())
            }
            Tag::SEQUENCE_DELIMITATION => self.delimiter(header, FrameKind::Fragments, encoding),
            found => Err(Error::UnexpectedTag {
                offset: start as u64,
                location: self.location(Some(found)),
                found,
                expected: "a fragment of defined length or a sequence delimiter",
            }),
        }
    }

    /// A data element or delimiter in the top-level data set or an item.
    fn in_data_set(
        &mut self,
        header: ElementHeader,
        encoding: Encoding,
        limit: usize,
    ) -> Result<()> {
        let start = self.pos;
        match header.tag {
            Tag::ITEM_DELIMITATION => {
                if self.cur().kind == FrameKind::Item && self.cur().is_open() {
                    self.delimiter(header, FrameKind::Item, encoding)
                } else {
                    self.stray_delimiter(header, encoding)
                }
            }
            Tag::SEQUENCE_DELIMITATION => {
                // An item of undefined length whose delimiter is missing: the sequence
                // delimiter ends both.
                let sequence_open = self
                    .frames
                    .len()
                    .checked_sub(2)
                    .and_then(|i| self.frames.get(i))
                    .is_some_and(|f| f.kind == FrameKind::Sequence && f.is_open());
                if self.cur().kind == FrameKind::Item && self.cur().is_open() && sequence_open {
                    self.relax(
                        WarningKind::UnexpectedDelimiter(header.tag),
                        Some(header.tag),
                    )?;
                    self.close_frame_unterminated(start);
                    Ok(())
                } else {
                    self.stray_delimiter(header, encoding)
                }
            }
            Tag::ITEM => Err(Error::UnexpectedTag {
                offset: start as u64,
                location: self.location(Some(header.tag)),
                found: header.tag,
                expected: "a data element",
            }),
            _ => self.element(header, encoding, limit),
        }
    }

    fn element(&mut self, header: ElementHeader, encoding: Encoding, limit: usize) -> Result<()> {
        let start = self.pos;
        let tag = header.tag;
        self.check_order(tag)?;
        if header.explicit && !header.vr.is_known() {
            self.relax(WarningKind::UnknownVr(header.vr), Some(tag))?;
        }
        let value_start = start.saturating_add(usize::from(header.header_len));
        let vr = header.vr;
        if header.length == UNDEFINED {
            // PS3.5 §7.1.2: undefined length is for SQ, UN (CP-246) and encapsulated
            // pixel data. In implicit VR any element of undefined length is a sequence.
            let (kind, content_encoding, extra) = if !header.explicit {
                if tag == tags::PIXEL_DATA {
                    (FrameKind::Fragments, encoding, 0)
                } else {
                    (FrameKind::Sequence, encoding, 0)
                }
            } else if vr == Vr::SQ {
                (FrameKind::Sequence, encoding, 0)
            } else if vr == Vr::UN {
                // CP-246: the items of a UN sequence are implicit VR little endian.
                (
                    FrameKind::Sequence,
                    Encoding::IMPLICIT_VR_LITTLE_ENDIAN,
                    flags::IMPLICIT_CONTENT,
                )
            } else if vr == Vr::OB || vr == Vr::OW {
                (FrameKind::Fragments, encoding, 0)
            } else {
                self.relax(WarningKind::UndefinedLengthNotAllowed(vr), Some(tag))?;
                (FrameKind::Sequence, encoding, 0)
            };
            let container = if kind == FrameKind::Sequence {
                self.enter_sequence(tag)?;
                flags::SEQUENCE
            } else {
                flags::FRAGMENTS
            };
            let node = self.push_node(
                header,
                start,
                0,
                container | flags::UNDEFINED_LENGTH | extra,
                encoding,
            )?;
            self.push_frame(kind, node, OPEN, content_encoding);
            self.pos = value_start;
            return Ok(());
        }

        let value_end = self.check_fits(header, limit)?;
        if header.length % 2 == 1 {
            self.relax(
                WarningKind::OddLength {
                    length: header.length,
                },
                Some(tag),
            )?;
        }
        if let Some(skip) = self.options.skip_values_larger_than
            && header.length > skip
        {
            self.push_node(header, start, header.length, flags::SKIPPED, encoding)?;
            self.pos = value_end;
            return Ok(());
        }
        if header.length > self.options.limits.max_value_len {
            if self.options.strict {
                return Err(Error::ValueTooLarge {
                    offset: start as u64,
                    location: self.location(Some(tag)),
                    length: header.length,
                    limit: self.options.limits.max_value_len,
                });
            }
            self.warn(
                WarningKind::ValueSkipped {
                    length: header.length,
                },
                Some(tag),
            );
            self.push_node(
                header,
                start,
                header.length,
                flags::SKIPPED | flags::OVER_LIMIT,
                encoding,
            )?;
            self.pos = value_end;
            return Ok(());
        }

        let value = self.data.get(value_start..value_end).unwrap_or_default();
        let sequence_encoding = if header.explicit {
            if vr == Vr::SQ {
                Some((encoding, 0))
            } else if vr == Vr::UN && implicit_vr(tag) == Vr::SQ {
                // CP-246: a sequence written as UN is implicit VR little endian inside.
                Some((Encoding::IMPLICIT_VR_LITTLE_ENDIAN, flags::IMPLICIT_CONTENT))
            } else {
                None
            }
        } else if vr == Vr::SQ || (vr == Vr::UN && starts_with_item(value)) {
            // A private sequence of defined length under implicit VR: the dictionary
            // cannot say it is one, but its value starting with an item tag does.
            Some((encoding, 0))
        } else {
            None
        };
        match sequence_encoding {
            Some((content_encoding, extra)) if header.length > 0 => {
                self.enter_sequence(tag)?;
                let node = self.push_node(
                    header,
                    start,
                    header.length,
                    flags::SEQUENCE | extra,
                    encoding,
                )?;
                self.push_frame(FrameKind::Sequence, node, value_end, content_encoding);
                self.pos = value_start;
            }
            Some((_, extra)) => {
                self.push_node(header, start, 0, flags::SEQUENCE | extra, encoding)?;
                self.pos = value_start;
            }
            None => {
                let node = self.push_node(header, start, header.length, 0, encoding)?;
                if tag == tags::SPECIFIC_CHARACTER_SET {
                    self.note_charset(node);
                    if CharacterSet::parse(value).has_unknown_terms() {
                        self.relax(WarningKind::UnknownCharacterSet, Some(tag))?;
                    }
                }
                self.pos = value_end;
            }
        }
        Ok(())
    }

    /// Checks the ascending-order rule of PS3.5 §7.1 in the current data set.
    fn check_order(&mut self, tag: Tag) -> Result<()> {
        let last = self
            .frames
            .last_mut()
            .and_then(|cur| cur.last_tag.replace(tag));
        if tag.group() == 0x0002 && self.cur().kind == FrameKind::Top {
            self.relax(WarningKind::FileMetaElementInDataSet, Some(tag))?;
        }
        if let Some(previous) = last
            && tag <= previous
            && !self.cur().unsorted
        {
            if let Some(cur) = self.frames.last_mut() {
                cur.unsorted = true;
            }
            let index = self.cur().node as usize;
            if let Some(node) = self.nodes.get_mut(index) {
                node.flags |= flags::UNSORTED;
            }
            self.relax(WarningKind::NotAscending { previous }, Some(tag))?;
        }
        Ok(())
    }

    /// Records (0008,0005) as the character set of the current data set.
    fn note_charset(&mut self, node: u32) {
        match self.cur().kind {
            FrameKind::Item => self.item_charsets.push((self.cur().node, node)),
            FrameKind::Top => self.top_charset = node,
            FrameKind::Sequence | FrameKind::Fragments => {}
        }
    }

    fn enter_sequence(&mut self, tag: Tag) -> Result<()> {
        let limit = self.options.limits.max_depth;
        if self.sequence_depth >= limit {
            return Err(Error::DepthExceeded {
                offset: self.pos as u64,
                location: self.location(Some(tag)),
                limit,
            });
        }
        self.sequence_depth = self.sequence_depth.saturating_add(1);
        Ok(())
    }

    /// A delimiter that closes the current frame if it is open and of the given kind.
    fn delimiter(
        &mut self,
        header: ElementHeader,
        kind: FrameKind,
        encoding: Encoding,
    ) -> Result<()> {
        let start = self.pos;
        if self.cur().kind != kind || !self.cur().is_open() {
            return self.stray_delimiter(header, encoding);
        }
        if header.length != 0 {
            self.relax(
                WarningKind::DelimiterWithLength {
                    length: header.length,
                },
                Some(header.tag),
            )?;
        }
        self.close_frame(start);
        self.pos = start.saturating_add(8);
        Ok(())
    }

    /// A delimiter where none belongs, kept as a node so the bytes write back.
    fn stray_delimiter(&mut self, header: ElementHeader, encoding: Encoding) -> Result<()> {
        self.relax(
            WarningKind::UnexpectedDelimiter(header.tag),
            Some(header.tag),
        )?;
        let start = self.pos;
        self.push_node(header, start, 0, flags::DELIMITER, encoding)?;
        self.pos = start.saturating_add(8);
        Ok(())
    }

    /// Returns the end of the value, or the error for a value that does not fit.
    fn check_fits(&self, header: ElementHeader, limit: usize) -> Result<usize> {
        let value_start = self.pos.saturating_add(usize::from(header.header_len));
        let value_end = value_start.saturating_add(header.length as usize);
        if value_end > limit {
            let needed = u64::from(header.header_len).saturating_add(u64::from(header.length));
            return Err(self.out_of_bytes(Some(header.tag), needed, limit));
        }
        Ok(value_end)
    }

    fn out_of_bytes(&self, tag: Option<Tag>, needed: u64, limit: usize) -> Error {
        let offset = self.pos as u64;
        let location = self.location(tag);
        let available = self.data.len().saturating_sub(self.pos) as u64;
        if limit >= self.data.len() || needed > available {
            Error::Truncated {
                offset,
                location,
                needed,
                available,
            }
        } else {
            Error::ExceedsContainer {
                offset,
                location,
                needed,
                room: limit.saturating_sub(self.pos) as u64,
            }
        }
    }

    /// Adds a node for an element, item or delimiter read by the general path.
    fn push_node(
        &mut self,
        header: ElementHeader,
        start: usize,
        value_len: u32,
        extra: u16,
        encoding: Encoding,
    ) -> Result<u32> {
        let limit = self.options.limits.max_elements;
        let index = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
        if index >= limit {
            return Err(Error::TooManyElements {
                offset: start as u64,
                location: self.location(Some(header.tag)),
                limit,
            });
        }
        let mut node_flags = extra;
        if header.explicit {
            node_flags |= flags::EXPLICIT;
        } else if !header.tag.is_delimiter_group() {
            node_flags |= flags::IMPLICIT_VR;
        }
        if encoding.big_endian {
            node_flags |= flags::BIG_ENDIAN;
        }
        if header.header_len == 12 {
            node_flags |= flags::LONG_HEADER;
        }
        self.nodes.push(Node {
            tag: header.tag,
            vr: header.vr,
            flags: node_flags,
            header_start: start as u32,
            value_len,
            end: index.saturating_add(1),
            parent: self.cur().node,
        });
        Ok(index)
    }

    /// Enters a container: `end` is its defined end or [`OPEN`].
    #[inline]
    fn push_frame(&mut self, kind: FrameKind, node: u32, end: usize, encoding: Encoding) {
        // Offsets fit in u32: the input is cut below 4 GiB - 1.
        let end = u32::try_from(end).unwrap_or(OPEN_U32);
        let limit = end.min(self.cur().limit);
        self.frames.push(Frame {
            kind,
            node,
            end,
            limit,
            encoding,
            last_tag: None,
            unsorted: false,
        });
    }

    /// Leaves the current container; for undefined length its value ends at
    /// `value_end`. The top level is never left.
    #[inline]
    fn close_frame(&mut self, value_end: usize) {
        if self.frames.len() < 2 {
            return;
        }
        let Some(frame) = self.frames.pop() else {
            return;
        };
        let end = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
        if let Some(node) = self.nodes.get_mut(frame.node as usize) {
            node.end = end;
            if frame.is_open() {
                node.value_len =
                    u32::try_from(value_end.saturating_sub(node.value_start() as usize))
                        .unwrap_or(u32::MAX);
            }
        }
        if frame.kind == FrameKind::Sequence {
            self.sequence_depth = self.sequence_depth.saturating_sub(1);
        }
    }

    /// Leaves the current container, which ended without its delimiter.
    fn close_frame_unterminated(&mut self, value_end: usize) {
        let index = self.cur().node as usize;
        self.close_frame(value_end);
        if let Some(node) = self.nodes.get_mut(index) {
            node.flags |= flags::UNTERMINATED;
        }
    }

    /// After an error: closes every open container at the current position.
    fn close_open_frames(&mut self) {
        let pos = self.pos;
        while self.cur().kind != FrameKind::Top {
            let index = self.cur().node as usize;
            self.close_frame(pos);
            if let Some(node) = self.nodes.get_mut(index) {
                node.flags |= flags::UNTERMINATED;
                node.value_len = u32::try_from(pos.saturating_sub(node.value_start() as usize))
                    .unwrap_or(u32::MAX);
            }
        }
    }

    fn location(&self, tag: Option<Tag>) -> Location {
        let frames = || self.frames.iter();
        let tag_of = |frame: &Frame| self.nodes.get(frame.node as usize).map(|n| n.tag);
        let top_level = frames()
            .find(|f| f.kind != FrameKind::Top)
            .and_then(tag_of)
            .or(tag);
        let depth = frames().filter(|f| f.kind == FrameKind::Item).count();
        Location {
            region: self.region,
            top_level,
            tag: tag.or_else(|| tag_of(self.cur())),
            depth: u32::try_from(depth).unwrap_or(u32::MAX),
        }
    }

    fn warn(&mut self, kind: WarningKind, tag: Option<Tag>) {
        let warning = Warning {
            offset: self.pos as u64,
            location: self.location(tag),
            kind,
        };
        self.warnings.push(warning);
    }

    /// Accepts a deviation with a warning, or fails in strict mode.
    fn relax(&mut self, kind: WarningKind, tag: Option<Tag>) -> Result<()> {
        if self.options.strict {
            return Err(Error::NonConformant {
                offset: self.pos as u64,
                location: self.location(tag),
                warning: kind,
            });
        }
        self.warn(kind, tag);
        Ok(())
    }
}

/// True if a value starts with an item tag in little endian (FFFE,E000).
fn starts_with_item(value: &[u8]) -> bool {
    value.len() >= 8 && value.get(..4) == Some(&[0xFE, 0xFF, 0x00, 0xE0][..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_element_headers_in_every_encoding() {
        let explicit = b"\x10\x00\x10\x00PN\x08\x00";
        let Ok(HeaderRead::Element(h)) =
            read_element_header(explicit, 0, Encoding::EXPLICIT_VR_LITTLE_ENDIAN)
        else {
            panic!()
        };
        assert_eq!(
            (h.tag, h.vr, h.length, h.header_len),
            (tags::PATIENT_NAME, Vr::PN, 8, 8)
        );

        let long = b"\x40\x00\x60\xA1UT\x00\x00\xF0\xFF\xFF\xFF";
        let Ok(HeaderRead::Element(h)) =
            read_element_header(long, 0, Encoding::EXPLICIT_VR_LITTLE_ENDIAN)
        else {
            panic!()
        };
        assert_eq!((h.vr, h.length, h.header_len), (Vr::UT, 0xFFFF_FFF0, 12));

        let big = b"\x00\x10\x00\x10PN\x00\x08";
        let Ok(HeaderRead::Element(h)) =
            read_element_header(big, 0, Encoding::EXPLICIT_VR_BIG_ENDIAN)
        else {
            panic!()
        };
        assert_eq!((h.tag, h.length), (tags::PATIENT_NAME, 8));

        let implicit = b"\x10\x00\x10\x00\x08\x00\x00\x00";
        let Ok(HeaderRead::Element(h)) =
            read_element_header(implicit, 0, Encoding::IMPLICIT_VR_LITTLE_ENDIAN)
        else {
            panic!()
        };
        assert_eq!((h.vr, h.explicit, h.length), (Vr::PN, false, 8));

        assert!(matches!(
            read_element_header(implicit, 0, Encoding::EXPLICIT_VR_LITTLE_ENDIAN),
            Ok(HeaderRead::ImplicitInExplicit)
        ));
        assert!(matches!(
            read_element_header(&long[..10], 0, Encoding::EXPLICIT_VR_LITTLE_ENDIAN),
            Err(12)
        ));
        assert!(matches!(
            read_element_header(&long[..3], 0, Encoding::EXPLICIT_VR_LITTLE_ENDIAN),
            Err(4)
        ));
    }

    #[test]
    fn sniffs_encodings() {
        assert_eq!(
            sniff(b"\x08\x00\x05\x00CS\x0a\x00", 0),
            Some(Encoding::EXPLICIT_VR_LITTLE_ENDIAN)
        );
        assert_eq!(
            sniff(b"\x00\x08\x00\x05CS\x00\x0a", 0),
            Some(Encoding::EXPLICIT_VR_BIG_ENDIAN)
        );
        assert_eq!(
            sniff(b"\x08\x00\x05\x00\x0a\x00\x00\x00", 0),
            Some(Encoding::IMPLICIT_VR_LITTLE_ENDIAN)
        );
        assert_eq!(sniff(b"\x1f\x8b\x08\x08\x00\x00\x00\x00", 0), None);
        assert_eq!(sniff(b"\x08\x00", 0), None);
    }

    #[test]
    fn inflate_caps_output() {
        let zeros = vec![0u8; 1 << 20];
        let deflated = miniz_oxide::deflate::compress_to_vec(&zeros, 6);
        let capped = inflate(&deflated, 4096).unwrap();
        assert!(capped.capped);
        assert_eq!(capped.data.len(), 4096);
        let full = inflate(&deflated, 2 << 20).unwrap();
        assert!(!full.capped && !full.ended_early);
        assert_eq!(full.data, zeros);
        let early = inflate(&deflated[..deflated.len() / 2], 2 << 20).unwrap();
        assert!(early.ended_early);
        assert!(inflate(&[0xFF; 16], 1024).is_err());
        assert!(inflate(&[], 1024).is_err());
    }

    #[test]
    fn trims_uid_padding() {
        assert_eq!(trim_uid(b"1.2.840.10008.1.2\0"), "1.2.840.10008.1.2");
        assert_eq!(trim_uid(b"1.2 "), "1.2");
        assert_eq!(trim_uid(b"\0\0"), "");
    }
}
