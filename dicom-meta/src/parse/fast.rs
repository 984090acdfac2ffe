//! The fast path of the data set walk: little endian data sets, explicit or implicit
//! VR, read in one loop that keeps the walk's state in locals.
//!
//! It reads what conforming files are made of: plain elements in ascending order,
//! sequences and items of defined or undefined length, their delimiters, and the
//! ends of containers of defined length, and indexes each exactly as the general
//! path (`Walker::element`, `in_sequence`, `delimiter`, `close_frame`) would. At
//! anything else (a deviation to warn about, an error, a stop condition, the
//! Specific Character Set, a limit, big endian, encapsulated pixel data, a CP-246
//! UN sequence, the last bytes of the input) it returns, having read nothing of it,
//! and the general path takes that one step.
//!
//! Offsets: the input is cut below 4 GiB - 1, so a position plus a header plus a
//! 32-bit length is below 2³³ and is computed in `u64` without overflow, then
//! compared with a container's end before it is used as a position again.

use super::{Frame, FrameKind, OPEN_U32, UNDEFINED, Walker, starts_with_item};
use crate::dictionary::implicit_vr;
use crate::node::{Node, flags};
use crate::transfer_syntax::Encoding;
use crate::vr::VrClass;
use crate::{Tag, Vr, tags};

/// The lowest tag the fast path reads in a data set: groups 0000 to 0002 are left to
/// the general path, which warns about file meta elements in the data set.
const LOWEST: u32 = 0x0003_0000;
/// Tags from here on (items, delimiters, group FFFF) are never plain elements of the
/// fast path.
const DELIMITER_GROUP: u32 = 0xFFFE_0000;
/// The first pixel data tag at which a top-level walk stops (7FE0,0008).
const FIRST_PIXEL_DATA: u32 = 0x7FE0_0008;
const ITEM: u32 = Tag::ITEM.to_u32();
const ITEM_DELIMITATION: u32 = Tag::ITEM_DELIMITATION.to_u32();
const SEQUENCE_DELIMITATION: u32 = Tag::SEQUENCE_DELIMITATION.to_u32();
const SPECIFIC_CHARACTER_SET: u32 = tags::SPECIFIC_CHARACTER_SET.to_u32();
const PIXEL_DATA: u32 = tags::PIXEL_DATA.to_u32();
/// An item delimitation item (FFFE,E00D) with its zero length, in little endian.
const ITEM_DELIMITATION_ITEM: [u8; 8] = [0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0];
/// [`OPEN`](super::OPEN) in the `u64` offsets of this module.
const OPEN_END: u64 = u64::MAX;

/// The open container the fast path is in.
#[derive(Clone, Copy)]
struct Cur {
    kind: FrameKind,
    /// The container's node, [`NONE`](crate::node::NONE) at top level.
    node: u32,
    /// The defined end, or [`OPEN_END`].
    end: u64,
    /// The innermost defined end of this container or an enclosing one.
    limit: u64,
    /// Elements with a lower tag are out of order (or in groups 0000 to 0002).
    lower: u32,
    /// `lower` as loaded: an element was read if it moved.
    loaded_lower: u32,
    /// Elements with this tag or a higher one stop the walk or are not elements.
    upper: u32,
}

impl Cur {
    #[inline(always)]
    fn load(frame: &Frame, top_upper: u32) -> Self {
        let lower = frame
            .last_tag
            .map_or(LOWEST, |tag| tag.to_u32().saturating_add(1).max(LOWEST));
        Self {
            kind: frame.kind,
            node: frame.node,
            end: if frame.is_open() {
                OPEN_END
            } else {
                u64::from(frame.end)
            },
            limit: u64::from(frame.limit),
            lower,
            loaded_lower: lower,
            upper: if frame.kind == FrameKind::Top {
                top_upper
            } else {
                DELIMITER_GROUP
            },
        }
    }

    /// Records the last tag read into the frame it was loaded from.
    #[inline(always)]
    fn store(&self, frames: &mut [Frame]) {
        if self.lower != self.loaded_lower
            && let Some(frame) = frames.last_mut()
        {
            frame.last_tag = Some(Tag::from_u32(self.lower.wrapping_sub(1)));
        }
    }
}

/// A tag read in little endian: group then element, each two bytes.
#[inline(always)]
fn tag_le(bytes: [u8; 4]) -> u32 {
    u32::from_le_bytes(bytes).rotate_left(16)
}

/// An offset of this module as an input offset, once checked against a container end
/// (which is an input offset).
#[inline(always)]
fn offset(at: u64) -> usize {
    usize::try_from(at).unwrap_or(usize::MAX)
}

/// The walk's state while the fast path runs, moved out of the [`Walker`] so that it
/// lives in registers.
struct State<'d> {
    data: &'d [u8],
    nodes: Vec<Node>,
    frames: Vec<Frame>,
    sequence_depth: u32,
    top_upper: u32,
}

impl State<'_> {
    /// The container state of a sequence whose node is `node`, not yet entered.
    #[inline(always)]
    fn sequence(&self, node: u32, end: u64, parent_limit: u64) -> Cur {
        Cur {
            kind: FrameKind::Sequence,
            node,
            end,
            limit: end.min(parent_limit),
            lower: LOWEST,
            loaded_lower: LOWEST,
            upper: DELIMITER_GROUP,
        }
    }

    /// Enters the container `child` of `cur`: pushes its frame.
    #[inline(always)]
    fn enter(&mut self, cur: &Cur, child: Cur, encoding: Encoding) -> Cur {
        cur.store(&mut self.frames);
        self.frames.push(Frame {
            kind: child.kind,
            node: child.node,
            end: if child.end == OPEN_END {
                OPEN_U32
            } else {
                u32::try_from(child.end).unwrap_or(OPEN_U32)
            },
            limit: u32::try_from(child.limit).unwrap_or(OPEN_U32 - 1),
            encoding,
            last_tag: None,
            unsorted: false,
        });
        child
    }

    /// Closes a container the fast path read whole without a frame: its descendants
    /// end here and, for undefined length, its value ends at `value_end` (where its
    /// delimiter starts).
    #[inline(always)]
    fn close_leaf(&mut self, index: u32, value_end: Option<u64>) {
        let end = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
        if let Some(node) = self.nodes.get_mut(index as usize) {
            node.end = end;
            if let Some(value_end) = value_end {
                let len = value_end.saturating_sub(u64::from(node.value_start()));
                node.value_len = u32::try_from(len).unwrap_or(u32::MAX);
            }
        }
    }

    /// Leaves the container `cur` (never the top level); for undefined length its
    /// value ends at `value_end`. Does what `Walker::close_frame` does. `None` if the
    /// enclosing container is not one the fast path reads in this encoding.
    #[inline(always)]
    fn close(&mut self, cur: &Cur, value_end: u64, encoding: Encoding) -> Option<Cur> {
        if self.frames.len() < 2 {
            return None;
        }
        self.frames.pop();
        let end = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
        if let Some(node) = self.nodes.get_mut(cur.node as usize) {
            node.end = end;
            if cur.end == OPEN_END {
                let len = value_end.saturating_sub(u64::from(node.value_start()));
                node.value_len = u32::try_from(len).unwrap_or(u32::MAX);
            }
        }
        if cur.kind == FrameKind::Sequence {
            self.sequence_depth = self.sequence_depth.saturating_sub(1);
        }
        let frame = self.frames.last()?;
        (frame.encoding == encoding).then(|| Cur::load(frame, self.top_upper))
    }
}

impl Walker<'_, '_> {
    /// Reads as far as the fast path can, from the current position.
    pub(super) fn fast_walk(&mut self) {
        if self.implicit_switch {
            return;
        }
        match self.cur().encoding {
            Encoding::EXPLICIT_VR_LITTLE_ENDIAN => self.fast_walk_in::<true>(),
            Encoding::IMPLICIT_VR_LITTLE_ENDIAN => self.fast_walk_in::<false>(),
            _ => {}
        }
    }

    /// [`Walker::fast_walk`] for explicit (`EXPLICIT`) or implicit VR.
    fn fast_walk_in<const EXPLICIT: bool>(&mut self) {
        let options = self.options;
        let mut top_upper = DELIMITER_GROUP;
        if options.stop_at_pixel_data {
            top_upper = top_upper.min(FIRST_PIXEL_DATA);
        }
        if let Some(stop) = options.stop_before {
            top_upper = top_upper.min(stop.to_u32());
        }
        let mut state = State {
            data: self.data,
            nodes: core::mem::take(&mut self.nodes),
            frames: core::mem::take(&mut self.frames),
            sequence_depth: self.sequence_depth,
            top_upper,
        };
        let pos = state.run::<EXPLICIT>(self.pos as u64, options);
        self.pos = offset(pos);
        self.nodes = state.nodes;
        self.frames = state.frames;
        self.sequence_depth = state.sequence_depth;
    }
}

/// What [`State::item`] found at a position in a sequence.
enum Step {
    /// An item, read whole: the sequence goes on here.
    Read(u64),
    /// An item holding more than plain elements: enter it and read on here.
    Open(Cur, u64),
    /// A sequence delimitation item of length 0; after it.
    Delimiter(u64),
    /// Anything else, for the general path.
    Other,
}

impl State<'_> {
    /// Reads the item at `pos` of the sequence `sequence`: its node, and its elements
    /// if they are all plain, closing it without a frame.
    #[inline(always)]
    fn item<const EXPLICIT: bool>(
        &mut self,
        pos: u64,
        sequence: &Cur,
        max_value: u32,
        max_elements: usize,
    ) -> Step {
        let Some(&[g0, g1, e0, e1, l0, l1, l2, l3]) = self
            .data
            .get(offset(pos)..offset(sequence.limit))
            .and_then(<[u8]>::first_chunk::<8>)
        else {
            return Step::Other;
        };
        let tag = tag_le([g0, g1, e0, e1]);
        let length = u32::from_le_bytes([l0, l1, l2, l3]);
        let value_start = pos.wrapping_add(8);
        if tag != ITEM {
            return if tag == SEQUENCE_DELIMITATION && length == 0 {
                Step::Delimiter(value_start)
            } else {
                Step::Other
            };
        }
        let index = self.nodes.len();
        if index >= max_elements {
            return Step::Other;
        }
        let (item_flags, value_len, item_end) = if length == UNDEFINED {
            (flags::ITEM | flags::UNDEFINED_LENGTH, 0, OPEN_END)
        } else {
            let value_end = value_start.wrapping_add(u64::from(length));
            if value_end > sequence.limit {
                return Step::Other;
            }
            (flags::ITEM, length, value_end)
        };
        let index = index as u32;
        self.nodes.push(Node {
            tag: Tag::ITEM,
            vr: Vr::UN,
            flags: item_flags,
            header_start: pos as u32,
            value_len,
            end: index.wrapping_add(1),
            parent: sequence.node,
        });
        if length == 0 {
            return Step::Read(value_start);
        }
        // Most items hold only plain elements (codes, references): read them and
        // close the item here, without a frame; an item with anything else gets its
        // frame at the first element that is not plain.
        let mut item = Cur {
            kind: FrameKind::Item,
            node: index,
            end: item_end,
            limit: item_end.min(sequence.limit),
            lower: LOWEST,
            loaded_lower: LOWEST,
            upper: DELIMITER_GROUP,
        };
        let run_end = self.plain_run::<EXPLICIT>(value_start, &mut item, max_value, max_elements);
        if run_end == item_end {
            self.close_leaf(index, None);
            return Step::Read(run_end);
        }
        if item_end == OPEN_END
            && self
                .data
                .get(offset(run_end)..offset(sequence.limit))
                .and_then(<[u8]>::first_chunk::<8>)
                == Some(&ITEM_DELIMITATION_ITEM)
        {
            self.close_leaf(index, Some(run_end));
            return Step::Read(run_end.wrapping_add(8));
        }
        Step::Open(item, run_end)
    }

    /// Reads a sequence whose header ends at `pos` as long as its items hold only
    /// plain elements, and closes it without a frame; at anything else, enters the
    /// sequence (and the item it is in) from `cur`. Returns where to read on.
    #[inline(always)]
    fn read_sequence<const EXPLICIT: bool>(
        &mut self,
        mut pos: u64,
        cur: &mut Cur,
        sequence: Cur,
        encoding: Encoding,
        max_value: u32,
        max_elements: usize,
    ) -> u64 {
        loop {
            if pos == sequence.end {
                self.close_leaf(sequence.node, None);
                self.sequence_depth = self.sequence_depth.saturating_sub(1);
                return pos;
            }
            match self.item::<EXPLICIT>(pos, &sequence, max_value, max_elements) {
                Step::Read(next) => pos = next,
                Step::Open(item, next) => {
                    *cur = self.enter(cur, sequence, encoding);
                    *cur = self.enter(cur, item, encoding);
                    return next;
                }
                Step::Delimiter(next) if sequence.end == OPEN_END => {
                    self.close_leaf(sequence.node, Some(pos));
                    self.sequence_depth = self.sequence_depth.saturating_sub(1);
                    return next;
                }
                Step::Delimiter(_) | Step::Other => {
                    *cur = self.enter(cur, sequence, encoding);
                    return pos;
                }
            }
        }
    }

    /// Plain elements (not sequences, not undefined length, nothing to warn about)
    /// of the data set `cur`, from `pos`, in a loop with as little state as possible.
    /// Returns the position of the first element that is anything else, which the
    /// caller reads again.
    #[inline(always)]
    fn plain_run<const EXPLICIT: bool>(
        &mut self,
        pos: u64,
        cur: &mut Cur,
        max_value: u32,
        max_elements: usize,
    ) -> u64 {
        let data = self.data;
        let nodes = &mut self.nodes;
        let (mut lower, upper, parent) = (cur.lower, cur.upper, cur.node);
        let limit = offset(cur.limit);
        let mut pos = offset(pos);
        while let Some(&[g0, g1, e0, e1, v0, v1, s0, s1]) =
            data.get(pos..limit).and_then(<[u8]>::first_chunk::<8>)
        {
            let tag = tag_le([g0, g1, e0, e1]);
            if tag < lower || tag >= upper || tag == SPECIFIC_CHARACTER_SET {
                break;
            }
            let (vr, length, header_len, node_flags) = if EXPLICIT {
                let vr = Vr::from_bytes([v0, v1]);
                // A branch, not a select: predicted, it keeps the table lookup off
                // the chain of dependent loads from one element's position to the
                // next.
                match vr.class() {
                    VrClass::Short => (
                        vr,
                        u32::from(u16::from_le_bytes([s0, s1])),
                        8usize,
                        flags::EXPLICIT,
                    ),
                    VrClass::Long => {
                        let Some(&long) = data
                            .get(pos.wrapping_add(8)..limit)
                            .and_then(<[u8]>::first_chunk::<4>)
                        else {
                            break;
                        };
                        (
                            vr,
                            u32::from_le_bytes(long),
                            12,
                            flags::EXPLICIT | flags::LONG_HEADER,
                        )
                    }
                    VrClass::Sequence | VrClass::Implausible | VrClass::Unknown | VrClass::Un => {
                        break;
                    }
                }
            } else {
                let vr = implicit_vr(Tag::from_u32(tag));
                if vr == Vr::SQ || vr == Vr::UN {
                    break;
                }
                (
                    vr,
                    u32::from_le_bytes([v0, v1, s0, s1]),
                    8,
                    flags::IMPLICIT_VR,
                )
            };
            // `pos + header_len` is at most `limit`, an input offset; adding a 32-bit
            // length to it cannot overflow a 64-bit offset, and on 32 bits saturates
            // past every limit.
            let value_end = pos.wrapping_add(header_len).saturating_add(length as usize);
            let index = nodes.len();
            if length % 2 == 1 || length > max_value || value_end > limit || index >= max_elements {
                break;
            }
            let index = index as u32;
            nodes.push(Node {
                tag: Tag::from_u32(tag),
                vr,
                flags: node_flags,
                header_start: pos as u32,
                value_len: length,
                end: index.wrapping_add(1),
                parent,
            });
            lower = tag.wrapping_add(1);
            pos = value_end;
        }
        cur.lower = lower;
        pos as u64
    }

    /// The loop of the fast path, from `pos`; returns where it stopped.
    #[inline(always)]
    fn run<const EXPLICIT: bool>(&mut self, mut pos: u64, options: &crate::ParseOptions) -> u64 {
        let encoding = if EXPLICIT {
            Encoding::EXPLICIT_VR_LITTLE_ENDIAN
        } else {
            Encoding::IMPLICIT_VR_LITTLE_ENDIAN
        };
        let limits = options.limits;
        let max_value = options
            .skip_values_larger_than
            .map_or(limits.max_value_len, |skip| skip.min(limits.max_value_len));
        let max_elements = limits.max_elements as usize;
        let max_depth = limits.max_depth;
        let data = self.data;
        let Some(frame) = self.frames.last() else {
            return pos;
        };
        if frame.kind == FrameKind::Fragments {
            return pos;
        }
        let mut cur = Cur::load(frame, self.top_upper);

        loop {
            if cur.kind == FrameKind::Sequence {
                // An item, the sequence delimiter, or the end of a defined length.
                if pos == cur.end {
                    match self.close(&cur, pos, encoding) {
                        Some(parent) => cur = parent,
                        None => return pos,
                    }
                    continue;
                }
                match self.item::<EXPLICIT>(pos, &cur, max_value, max_elements) {
                    Step::Read(next) => pos = next,
                    Step::Open(item, next) => {
                        cur = self.enter(&cur, item, encoding);
                        pos = next;
                    }
                    Step::Delimiter(next) if cur.end == OPEN_END => {
                        let parent = self.close(&cur, pos, encoding);
                        pos = next;
                        match parent {
                            Some(parent) => cur = parent,
                            None => return pos,
                        }
                    }
                    Step::Delimiter(_) | Step::Other => break,
                }
                continue;
            }

            // The top-level data set or an item: first the run of plain elements that
            // makes up most of it, then whatever ended the run.
            pos = self.plain_run::<EXPLICIT>(pos, &mut cur, max_value, max_elements);
            if pos == cur.end {
                match self.close(&cur, pos, encoding) {
                    Some(parent) => cur = parent,
                    None => return pos,
                }
                continue;
            }
            let Some(&[g0, g1, e0, e1, v0, v1, s0, s1]) = data
                .get(offset(pos)..offset(cur.limit))
                .and_then(<[u8]>::first_chunk::<8>)
            else {
                break;
            };
            let tag = tag_le([g0, g1, e0, e1]);
            if tag < cur.lower || tag >= cur.upper || tag == SPECIFIC_CHARACTER_SET {
                if tag == ITEM_DELIMITATION
                    && cur.kind == FrameKind::Item
                    && cur.end == OPEN_END
                    && [v0, v1, s0, s1] == [0; 4]
                {
                    let parent = self.close(&cur, pos, encoding);
                    pos = pos.wrapping_add(8);
                    match parent {
                        Some(parent) => cur = parent,
                        None => return pos,
                    }
                    continue;
                }
                break;
            }
            let index = self.nodes.len();
            if index >= max_elements {
                break;
            }
            let index = index as u32;
            // The VR and length (PS3.5 §7.1.2 and §7.1.3), and whether a sequence:
            // the plain run read every other element the fast path reads.
            let (vr, length, header_len, mut node_flags, sequence) = if EXPLICIT {
                let vr = Vr::from_bytes([v0, v1]);
                if vr.class() != VrClass::Sequence {
                    break;
                }
                let Some(&long) = data
                    .get(offset(pos.wrapping_add(8))..offset(cur.limit))
                    .and_then(<[u8]>::first_chunk::<4>)
                else {
                    break;
                };
                (
                    vr,
                    u32::from_le_bytes(long),
                    12u64,
                    flags::EXPLICIT | flags::LONG_HEADER,
                    true,
                )
            } else {
                let vr = implicit_vr(Tag::from_u32(tag));
                (
                    vr,
                    u32::from_le_bytes([v0, v1, s0, s1]),
                    8,
                    flags::IMPLICIT_VR,
                    vr == Vr::SQ,
                )
            };
            let value_start = pos.wrapping_add(header_len);
            if length == UNDEFINED {
                // PS3.5 §7.1.2: undefined length in explicit VR is for SQ here (UN and
                // OB/OW take the general path); in implicit VR any element of
                // undefined length is a sequence, except encapsulated pixel data.
                if (EXPLICIT && !sequence)
                    || (!EXPLICIT && tag == PIXEL_DATA)
                    || self.sequence_depth >= max_depth
                {
                    break;
                }
                node_flags |= flags::SEQUENCE | flags::UNDEFINED_LENGTH;
                self.nodes.push(Node {
                    tag: Tag::from_u32(tag),
                    vr,
                    flags: node_flags,
                    header_start: pos as u32,
                    value_len: 0,
                    end: index.wrapping_add(1),
                    parent: cur.node,
                });
                cur.lower = tag.wrapping_add(1);
                self.sequence_depth = self.sequence_depth.wrapping_add(1);
                let sequence = self.sequence(index, OPEN_END, cur.limit);
                pos = self.read_sequence::<EXPLICIT>(
                    value_start,
                    &mut cur,
                    sequence,
                    encoding,
                    max_value,
                    max_elements,
                );
                continue;
            }
            let value_end = value_start.wrapping_add(u64::from(length));
            if length % 2 == 1 || length > max_value || value_end > cur.limit {
                break;
            }
            // Implicit VR: a private element of defined length whose value starts with
            // an item is a sequence the dictionary cannot name.
            let sequence = sequence
                || (!EXPLICIT
                    && vr == Vr::UN
                    && starts_with_item(
                        data.get(offset(value_start)..offset(value_end))
                            .unwrap_or_default(),
                    ));
            if sequence {
                if length != 0 && self.sequence_depth >= max_depth {
                    break;
                }
                node_flags |= flags::SEQUENCE;
            }
            self.nodes.push(Node {
                tag: Tag::from_u32(tag),
                vr,
                flags: node_flags,
                header_start: pos as u32,
                value_len: length,
                end: index.wrapping_add(1),
                parent: cur.node,
            });
            cur.lower = tag.wrapping_add(1);
            if sequence && length != 0 {
                self.sequence_depth = self.sequence_depth.wrapping_add(1);
                let sequence = self.sequence(index, value_end, cur.limit);
                pos = self.read_sequence::<EXPLICIT>(
                    value_start,
                    &mut cur,
                    sequence,
                    encoding,
                    max_value,
                    max_elements,
                );
            } else {
                pos = value_end;
            }
        }
        cur.store(&mut self.frames);
        pos
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::GENERAL_PATH_ONLY;
    use crate::{Encoding, Limits, ParseOptions, parse_data_set, parse_with, tags};

    /// The outcome of a parse with the fast path, and with the general path only.
    fn both(input: &[u8], options: &ParseOptions) -> (String, String) {
        let outcome = |general_only: bool| {
            GENERAL_PATH_ONLY.with(|flag| flag.set(general_only));
            let outcome = match parse_with(input, options) {
                Ok(header) => header.outcome_for_tests(),
                Err(error) => format!("Err({error:?})"),
            };
            GENERAL_PATH_ONLY.with(|flag| flag.set(false));
            outcome
        };
        (outcome(false), outcome(true))
    }

    fn fixtures() -> Vec<(String, Vec<u8>)> {
        let mut files = Vec::new();
        for dir in ["pydicom", "highdicom", "charset", "hostile"] {
            let path = format!("{}/tests/data/{dir}", env!("CARGO_MANIFEST_DIR"));
            for entry in std::fs::read_dir(&path).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|ext| ext == "dcm") {
                    let name = path.display().to_string();
                    files.push((name, std::fs::read(&path).unwrap()));
                }
            }
        }
        files.sort();
        assert!(files.len() > 90);
        files
    }

    fn option_sets() -> Vec<ParseOptions> {
        vec![
            ParseOptions::default(),
            ParseOptions::strict(),
            ParseOptions::default().read_pixel_data(),
            ParseOptions::default().stop_before(tags::PATIENT_NAME),
            ParseOptions::default().skip_values_larger_than(16),
            ParseOptions::default().with_limits(
                Limits::default()
                    .with_max_depth(2)
                    .with_max_elements(60)
                    .with_max_value_len(40),
            ),
        ]
    }

    #[test]
    fn fast_path_indexes_every_fixture_as_the_general_path_does() {
        for (name, bytes) in fixtures() {
            for options in option_sets() {
                let (fast, general) = both(&bytes, &options);
                assert_eq!(fast, general, "{name} with {options:?}");
            }
        }
    }

    #[test]
    fn fast_path_reads_undefined_lengths_and_delimiters_as_the_general_path_does() {
        // (0008,1140) SQ of undefined length: an item of undefined length holding a
        // plain element, an empty item, an item holding a nested SQ of defined
        // length, then (0010,0010) after the sequence delimiter.
        let mut data = Vec::new();
        data.extend_from_slice(b"\x08\x00\x40\x11SQ\x00\x00\xFF\xFF\xFF\xFF");
        data.extend_from_slice(b"\xFE\xFF\x00\xE0\xFF\xFF\xFF\xFF");
        data.extend_from_slice(b"\x08\x00\x50\x11UI\x04\x001.2\x00");
        data.extend_from_slice(b"\xFE\xFF\x0D\xE0\x00\x00\x00\x00");
        data.extend_from_slice(b"\xFE\xFF\x00\xE0\x00\x00\x00\x00");
        data.extend_from_slice(b"\xFE\xFF\x00\xE0\xFF\xFF\xFF\xFF");
        data.extend_from_slice(b"\x08\x00\x15\x92SQ\x00\x00\x14\x00\x00\x00");
        data.extend_from_slice(b"\xFE\xFF\x00\xE0\x0C\x00\x00\x00");
        data.extend_from_slice(b"\x08\x00\x00\x01SH\x04\x00ABCD");
        data.extend_from_slice(b"\xFE\xFF\x0D\xE0\x00\x00\x00\x00");
        data.extend_from_slice(b"\xFE\xFF\xDD\xE0\x00\x00\x00\x00");
        data.extend_from_slice(b"\x10\x00\x10\x00PN\x04\x00Doe^");
        for options in option_sets() {
            let outcome = |general_only: bool| {
                GENERAL_PATH_ONLY.with(|flag| flag.set(general_only));
                let header = parse_data_set(&data, Encoding::EXPLICIT_VR_LITTLE_ENDIAN, &options);
                GENERAL_PATH_ONLY.with(|flag| flag.set(false));
                header
                    .map(|h| h.outcome_for_tests())
                    .map_err(|e| e.to_string())
            };
            assert_eq!(outcome(false), outcome(true), "{options:?}");
        }
        let header = parse_data_set(
            &data,
            Encoding::EXPLICIT_VR_LITTLE_ENDIAN,
            &ParseOptions::strict(),
        )
        .unwrap();
        assert_eq!(header.element_count(), 9);
        assert_eq!(header.string(tags::PATIENT_NAME).as_deref(), Some("Doe^"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Mutated real files (bytes overwritten, lengths and tags included, and cut
        /// short) parse the same on both paths: the fast path never decides what
        /// the general path would decide differently.
        #[test]
        fn fast_path_agrees_with_the_general_path_on_mutated_files(
            file in 0usize..6,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..261), 1..8),
            cut in any::<prop::sample::Index>(),
            options in 0usize..6,
        ) {
            let name = [
                "highdicom/sm_image.dcm",
                "pydicom/CT_small.dcm",
                "pydicom/MR_small_implicit.dcm",
                "pydicom/nested_priv_SQ.dcm",
                "pydicom/rtplan.dcm",
                "pydicom/test-SR.dcm",
            ][file];
            let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
            let mut bytes = std::fs::read(path).unwrap();
            // A random byte, or a structural pattern: item, delimiters, undefined
            // length, a sequence VR.
            const PATTERNS: [&[u8]; 4] = [
                b"\xFE\xFF\x00\xE0",
                b"\xFE\xFF\x0D\xE0\x00\x00\x00\x00",
                b"\xFE\xFF\xDD\xE0\x00\x00\x00\x00",
                b"\xFF\xFF\xFF\xFF",
            ];
            for (at, edit) in edits {
                let at = at.index(bytes.len());
                let patch: Vec<u8> = match edit {
                    0..=255 => vec![edit as u8],
                    256 => b"SQ\x00\x00".to_vec(),
                    _ => PATTERNS[(edit - 257).min(3)].to_vec(),
                };
                for (i, byte) in patch.into_iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(at + i) {
                        *slot = byte;
                    }
                }
            }
            let len = bytes.len();
            bytes.truncate(len - cut.index(len / 4));
            let options = &option_sets()[options];
            let (fast, general) = both(&bytes, options);
            prop_assert_eq!(fast, general);
        }
    }
}
