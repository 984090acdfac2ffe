//! Writing a header back, edited or not.
//!
//! What was not edited is copied byte for byte: the preamble, every element,
//! every delimiter, odd paddings and vendor quirks included, so an unedited header
//! writes back exactly as read. An edited element is re-encoded in the encoding of
//! the data set it sits in; every item and sequence of defined length around it
//! gets its new length, and group lengths of changed groups, (0002,0000) included,
//! are recomputed. Nothing else changes.
//!
//! ```
//! use labwire_dicom_meta::{parse, tags, Value};
//!
//! let bytes = std::fs::read("tests/data/highdicom/sm_image.dcm")?;
//! let header = parse(&bytes)?;
//!
//! // Unedited: the header bytes come back unchanged.
//! assert_eq!(header.to_bytes()?, &bytes[..bytes.len() - header.remaining().unwrap().len()]);
//!
//! // Edited: only Patient's Name changes.
//! let mut editor = header.editor();
//! editor.set(tags::PATIENT_NAME, Value::text("Doe^Jane"))?;
//! let edited = editor.write_file()?;
//! let reread = parse(&edited)?;
//! assert_eq!(reread.string(tags::PATIENT_NAME).as_deref(), Some("Doe^Jane"));
//! assert_eq!(reread.string(tags::CONTAINER_IDENTIFIER).as_deref(), Some("S19-1_A_1_1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use crate::charset::CharacterSet;
use crate::dictionary::implicit_vr;
use crate::error::{Error, Result};
use crate::header::{DataSet, Element, Header};
use crate::node::{NONE, Node, flags};
use crate::transfer_syntax::Encoding;
use crate::{Tag, Vr, tags};

/// A value to write into an element.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// Text for any text VR, encoded with the Specific Character Set of the data set
    /// it goes into and padded to even length. Several values go `\`-separated.
    Text(String),
    /// Bytes exactly as they go on the wire (OB, UN, or a value encoded by the
    /// caller); padded with NUL to even length.
    Bytes(Vec<u8>),
    /// US values.
    U16(Vec<u16>),
    /// SS values.
    I16(Vec<i16>),
    /// UL values.
    U32(Vec<u32>),
    /// SL values.
    I32(Vec<i32>),
    /// FL values.
    F32(Vec<f32>),
    /// FD values.
    F64(Vec<f64>),
    /// AT values.
    Tags(Vec<Tag>),
    /// A sequence of items, each a list of elements, written with undefined lengths.
    Sequence(Vec<Item>),
    /// No value: a zero-length element (an empty sequence for SQ).
    Empty,
}

impl Value {
    /// Text.
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }
}

/// One item of a [`Value::Sequence`]: its elements, written in tag order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Item {
    /// The elements: tag, VR and value.
    pub elements: Vec<(Tag, Vr, Value)>,
}

/// Edits to a header, applied when written. Made by [`Header::editor`].
///
/// Each edit names an element of this header; editing an element that comes from
/// another header is an [`Error::Encode`].
#[derive(Clone)]
pub struct Editor<'h, 'a> {
    header: &'h Header<'a>,
    meta_set: BTreeMap<Tag, (Vr, Value)>,
    meta_removed: BTreeSet<Tag>,
    replaced: BTreeMap<u32, Value>,
    removed: BTreeSet<u32>,
    /// Elements to add, by the item they go into ([`NONE`] for top level).
    inserted: BTreeMap<u32, BTreeMap<Tag, (Vr, Value)>>,
}

impl<'a> Header<'a> {
    /// An editor for this header.
    #[must_use]
    pub fn editor(&self) -> Editor<'_, 'a> {
        Editor {
            header: self,
            meta_set: BTreeMap::new(),
            meta_removed: BTreeSet::new(),
            replaced: BTreeMap::new(),
            removed: BTreeSet::new(),
            inserted: BTreeMap::new(),
        }
    }

    /// The header as read, up to where the parse stopped: byte for byte the input.
    /// For a deflated data set that is the whole deflate stream as read, pixel data
    /// included: a deflate stream cannot be cut where the parse stopped.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.editor().write()
    }
}

impl core::fmt::Debug for Editor<'_, '_> {
    /// Counts of edits, never their values (they may be patient data).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Editor")
            .field("header", self.header)
            .field(
                "meta_edits",
                &self.meta_set.len().saturating_add(self.meta_removed.len()),
            )
            .field("replaced", &self.replaced.len())
            .field("removed", &self.removed.len())
            .field(
                "inserted",
                &self.inserted.values().map(BTreeMap::len).sum::<usize>(),
            )
            .finish()
    }
}

/// "Not from this header".
const FOREIGN: &str = "the element or data set belongs to another header";

impl<'h, 'a> Editor<'h, 'a> {
    /// Sets a top-level element (group 0002 goes to the file meta information),
    /// replacing its value or adding it with its dictionary VR.
    pub fn set(&mut self, tag: Tag, value: Value) -> Result<&mut Self> {
        let vr = match self.header.get(tag) {
            Some(element) => element.vr(),
            None => implicit_vr(tag),
        };
        self.set_with_vr(tag, vr, value)
    }

    /// Sets a top-level element with this VR (for private tags the dictionary does
    /// not know). An existing element keeps its own VR.
    pub fn set_with_vr(&mut self, tag: Tag, vr: Vr, value: Value) -> Result<&mut Self> {
        if tag.group() == 0x0002 {
            self.meta_removed.remove(&tag);
            self.meta_set.insert(tag, (vr, value));
            return Ok(self);
        }
        if let Some(stop) = self.header.stop()
            && tag >= stop.tag
        {
            return Err(Error::Encode {
                tag,
                reason: "the tag is at or after where the parse stopped",
            });
        }
        match self.header.data_set().get(tag) {
            Some(element) => {
                self.removed.remove(&element.index);
                self.replaced.insert(element.index, value);
            }
            None => {
                self.inserted
                    .entry(NONE)
                    .or_default()
                    .insert(tag, (vr, value));
            }
        }
        Ok(self)
    }

    /// Replaces the value of an element of this header, at any depth.
    pub fn set_element(&mut self, element: &Element<'_>, value: Value) -> Result<&mut Self> {
        if self.is_meta(element) {
            self.meta_set.insert(element.tag(), (element.vr(), value));
            return Ok(self);
        }
        self.check_own(element.ctx.nodes, element.tag())?;
        self.removed.remove(&element.index);
        self.replaced.insert(element.index, value);
        Ok(self)
    }

    /// Adds (or replaces) an element in a data set of this header: the top level,
    /// an item, or the file meta information.
    pub fn set_in(
        &mut self,
        data_set: &DataSet<'_>,
        tag: Tag,
        vr: Vr,
        value: Value,
    ) -> Result<&mut Self> {
        if let Some(element) = data_set.get(tag) {
            return self.set_element(&element, value);
        }
        if data_set.is_meta() {
            return self.set_with_vr(tag, vr, value);
        }
        self.check_own(data_set.nodes(), tag)?;
        if data_set.item_index() == NONE {
            return self.set_with_vr(tag, vr, value);
        }
        self.inserted
            .entry(data_set.item_index())
            .or_default()
            .insert(tag, (vr, value));
        Ok(self)
    }

    /// Removes a top-level element (group 0002 from the file meta information), if
    /// present.
    pub fn remove(&mut self, tag: Tag) -> &mut Self {
        if tag.group() == 0x0002 {
            self.meta_set.remove(&tag);
            self.meta_removed.insert(tag);
        } else {
            if let Some(element) = self.header.data_set().get(tag) {
                self.replaced.remove(&element.index);
                self.removed.insert(element.index);
            }
            if let Some(inserted) = self.inserted.get_mut(&NONE) {
                inserted.remove(&tag);
            }
        }
        self
    }

    /// Removes an element of this header, at any depth (a sequence with its items).
    pub fn remove_element(&mut self, element: &Element<'_>) -> Result<&mut Self> {
        if self.is_meta(element) {
            self.meta_removed.insert(element.tag());
            return Ok(self);
        }
        self.check_own(element.ctx.nodes, element.tag())?;
        self.replaced.remove(&element.index);
        self.removed.insert(element.index);
        Ok(self)
    }

    /// True if nothing was edited.
    #[must_use]
    pub fn is_unchanged(&self) -> bool {
        self.meta_set.is_empty()
            && self.meta_removed.is_empty()
            && self.replaced.is_empty()
            && self.removed.is_empty()
            && self.inserted.values().all(BTreeMap::is_empty)
    }

    fn is_meta(&self, element: &Element<'_>) -> bool {
        core::ptr::eq(
            element.ctx.nodes.as_ptr(),
            self.header.meta_nodes().as_ptr(),
        ) && element.ctx.nodes.len() == self.header.meta_nodes().len()
            && element.ctx.region == crate::Region::FileMeta
    }

    fn check_own(&self, nodes: &[Node], tag: Tag) -> Result<()> {
        let own = self.header.nodes();
        if core::ptr::eq(nodes.as_ptr(), own.as_ptr()) && nodes.len() == own.len() {
            Ok(())
        } else {
            Err(Error::Encode {
                tag,
                reason: FOREIGN,
            })
        }
    }

    /// True if no element of the data set is edited (the file meta information may
    /// be).
    fn data_set_unchanged(&self) -> bool {
        self.replaced.is_empty()
            && self.removed.is_empty()
            && self.inserted.values().all(BTreeMap::is_empty)
    }

    /// The header with the edits, up to where the parse stopped.
    ///
    /// A deflated data set (PS3.5 §A.5) whose elements are not edited is written as
    /// the deflate stream that was read, byte for byte and whole (pixel data
    /// included). An edited one is deflated again, with `miniz_oxide` at level 6, up
    /// to where the parse stopped: the bytes differ from the original stream, what it
    /// inflates to differs only by the edits.
    pub fn write(&self) -> Result<Vec<u8>> {
        let header = self.header;
        let (_, meta_end) = header.meta_range();
        let mut out = Vec::with_capacity(meta_end.saturating_add(header.data_range().1));
        self.write_prefix(&mut out);
        self.write_meta(&mut out)?;
        if header.is_deflated() {
            if self.data_set_unchanged()
                && let Some(stream) = header.deflated_stream()
            {
                out.extend_from_slice(stream);
                return Ok(out);
            }
            let mut plain = Vec::new();
            self.write_data_set(&mut plain)?;
            out.extend(miniz_oxide::deflate::compress_to_vec(&plain, 6));
        } else {
            self.write_data_set(&mut out)?;
        }
        Ok(out)
    }

    /// The whole file with the edits: [`write`](Self::write) followed by what the
    /// parse did not read (the pixel data). For a deflated data set whose elements
    /// are not edited, the input after the file meta information as read; for an
    /// edited one, the rest of the inflated stream is deflated with the edited
    /// header.
    pub fn write_file(&self) -> Result<Vec<u8>> {
        let header = self.header;
        if !header.is_deflated() {
            let mut out = self.write()?;
            out.extend_from_slice(header.remaining().unwrap_or_default());
            return Ok(out);
        }
        if self.data_set_unchanged() {
            let (_, meta_end) = header.meta_range();
            let mut out = Vec::new();
            self.write_prefix(&mut out);
            self.write_meta(&mut out)?;
            out.extend_from_slice(header.input().get(meta_end..).unwrap_or_default());
            return Ok(out);
        }
        if header
            .warnings()
            .iter()
            .any(|w| matches!(w.kind, crate::WarningKind::InflateCapped { .. }))
        {
            return Err(Error::Encode {
                tag: tags::PIXEL_DATA,
                reason: "the deflated data set was cut at the inflate limit",
            });
        }
        let mut out = Vec::new();
        self.write_prefix(&mut out);
        self.write_meta(&mut out)?;
        let mut plain = Vec::new();
        self.write_data_set(&mut plain)?;
        let (_, parsed_end) = header.data_range();
        plain.extend_from_slice(header.data().get(parsed_end..).unwrap_or_default());
        out.extend(miniz_oxide::deflate::compress_to_vec(&plain, 6));
        Ok(out)
    }

    /// The preamble and `DICM` as read; when file meta information is added to a
    /// bare data set, a zero preamble and `DICM` before it (PS3.10 §7.1).
    fn write_prefix(&self, out: &mut Vec<u8>) {
        let header = self.header;
        let (meta_start, _) = header.meta_range();
        let adds_meta = !self.meta_set.is_empty() && header.meta_nodes().is_empty();
        if adds_meta && !header.has_dicm_prefix() {
            out.extend_from_slice(&[0; 128]);
            out.extend_from_slice(b"DICM");
        } else {
            out.extend_from_slice(header.input().get(..meta_start).unwrap_or_default());
        }
    }

    /// The file meta information: copied if unedited, else rebuilt element by element
    /// with a recomputed group length (PS3.10 §7.1).
    fn write_meta(&self, out: &mut Vec<u8>) -> Result<()> {
        let header = self.header;
        let input = header.input();
        let (meta_start, meta_end) = header.meta_range();
        if self.meta_set.is_empty() && self.meta_removed.is_empty() {
            out.extend_from_slice(input.get(meta_start..meta_end).unwrap_or_default());
            return Ok(());
        }
        let le = Encoding::EXPLICIT_VR_LITTLE_ENDIAN;
        let ascii = CharacterSet::default();
        // Every element but the group length, in tag order, as bytes.
        let mut elements: BTreeMap<Tag, Vec<u8>> = BTreeMap::new();
        for node in header.meta_nodes() {
            if node.tag == tags::FILE_META_INFORMATION_GROUP_LENGTH
                || self.meta_removed.contains(&node.tag)
            {
                continue;
            }
            let raw = input
                .get(node.header_start as usize..node.value_end() as usize)
                .unwrap_or_default();
            elements.insert(node.tag, raw.to_vec());
        }
        for (tag, (vr, value)) in &self.meta_set {
            if *tag == tags::FILE_META_INFORMATION_GROUP_LENGTH {
                continue;
            }
            elements.insert(*tag, encode_element(*tag, *vr, value, le, &ascii)?);
        }
        let group_length: usize = elements.values().map(Vec::len).sum();
        let group_length = u32::try_from(group_length).map_err(|_| Error::Encode {
            tag: tags::FILE_META_INFORMATION_GROUP_LENGTH,
            reason: "the file meta information is longer than 4 GiB",
        })?;
        let length = Value::U32(vec![group_length]);
        out.extend(encode_element(
            tags::FILE_META_INFORMATION_GROUP_LENGTH,
            Vr::UL,
            &length,
            le,
            &ascii,
        )?);
        for bytes in elements.values() {
            out.extend_from_slice(bytes);
        }
        Ok(())
    }

    /// The data set: a pre-order walk of the index that copies unchanged subtrees,
    /// re-encodes edited elements, and rewrites the headers of containers whose
    /// content changed. Containers are tracked on an explicit stack.
    fn write_data_set(&self, out: &mut Vec<u8>) -> Result<()> {
        let header = self.header;
        let nodes = header.nodes();
        let data = header.data();
        let plan = self.plan()?;
        let raw = |start: u32, end: u32| data.get(start as usize..end as usize).unwrap_or_default();

        /// An open container of the walk: where it ends, the delimiter to write
        /// after it, and for a data set the added elements still to write.
        struct Open<'p> {
            end: u32,
            trailer: Option<(u32, u32)>,
            pending: Option<Pending<'p>>,
        }
        type Pending<'p> = core::iter::Peekable<core::slice::Iter<'p, (Tag, Vec<u8>)>>;
        let pending_of = |container: u32| {
            plan.inserted
                .get(&container)
                .map(|list| list.iter().peekable())
        };
        let mut top_pending = pending_of(NONE);
        let mut stack: Vec<Open<'_>> = Vec::new();
        let mut index = 0u32;
        loop {
            // Close containers whose last descendant was written.
            while let Some(open) = stack.last_mut() {
                if index < open.end {
                    break;
                }
                for (_, bytes) in open.pending.iter_mut().flatten() {
                    out.extend_from_slice(bytes);
                }
                if let Some((start, end)) = open.trailer {
                    out.extend_from_slice(raw(start, end));
                }
                stack.pop();
            }
            let Some(node) = nodes.get(index as usize) else {
                for (_, bytes) in top_pending.iter_mut().flatten() {
                    out.extend_from_slice(bytes);
                }
                return Ok(());
            };
            // Added elements that sort before this one.
            let pending = match stack.last_mut() {
                Some(open) => open.pending.as_mut(),
                None => top_pending.as_mut(),
            };
            if let Some(pending) = pending {
                while let Some((_, bytes)) = pending.next_if(|(tag, _)| *tag < node.tag) {
                    out.extend_from_slice(bytes);
                }
            }
            let next = node.end.max(index.saturating_add(1));
            if plan.removed.contains(&index) {
                index = next;
                continue;
            }
            if let Some(bytes) = plan.encoded.get(&index) {
                out.extend_from_slice(bytes);
                index = next;
                continue;
            }
            if let Some(bytes) = plan.group_length(index, node, nodes)? {
                out.extend(bytes);
                index = next;
                continue;
            }
            if !plan.is_changed(index) {
                out.extend_from_slice(raw(node.header_start, node.raw_end()));
                index = next;
                continue;
            }
            // A container whose content changed: its header with the new length.
            let mut head = raw(node.header_start, node.value_start()).to_vec();
            if !node.has(flags::UNDEFINED_LENGTH) {
                set_length(&mut head, node, plan.content_of(index))?;
            }
            out.extend(head);
            let terminated = node.has(flags::UNDEFINED_LENGTH) && !node.has(flags::UNTERMINATED);
            stack.push(Open {
                end: node.end,
                trailer: terminated.then(|| (node.value_end(), node.raw_end())),
                pending: if node.has(flags::ITEM) {
                    pending_of(index)
                } else {
                    None
                },
            });
            index = index.saturating_add(1);
        }
    }

    /// Encodes the edits and computes every node's output size, bottom-up: nodes are
    /// in pre-order, so walking them backwards meets children before parents.
    fn plan(&self) -> Result<Plan> {
        let header = self.header;
        let nodes = header.nodes();
        let mut plan = Plan {
            any: false,
            encoded: BTreeMap::new(),
            removed: self.removed.clone(),
            inserted: BTreeMap::new(),
            size: Vec::new(),
            content: Vec::new(),
            changed: Vec::new(),
        };
        if self.replaced.is_empty()
            && self.removed.is_empty()
            && self.inserted.values().all(BTreeMap::is_empty)
        {
            // Nothing changes: every node is copied.
            return Ok(plan);
        }
        plan.any = true;
        plan.size = vec![0; nodes.len()];
        plan.content = vec![0; nodes.len()];
        plan.changed = vec![false; nodes.len()];
        let view = header.data_set();
        for (&index, value) in &self.replaced {
            let element = view.element_at(index).ok_or(Error::Encode {
                tag: Tag::ITEM,
                reason: FOREIGN,
            })?;
            let node = element.node;
            let encoding = Encoding {
                explicit_vr: node.has(flags::EXPLICIT),
                big_endian: node.has(flags::BIG_ENDIAN),
            };
            let bytes =
                encode_element(node.tag, node.vr, value, encoding, &element.character_set())?;
            plan.encoded.insert(index, bytes);
        }
        for (&container, elements) in &self.inserted {
            if elements.is_empty() {
                continue;
            }
            let data_set = if container == NONE {
                header.data_set()
            } else {
                view.item_at(container).ok_or(Error::Encode {
                    tag: Tag::ITEM,
                    reason: FOREIGN,
                })?
            };
            let encoding = data_set_encoding(header, container);
            let charset = data_set.character_set();
            let mut encoded = Vec::with_capacity(elements.len());
            for (&tag, (vr, value)) in elements {
                encoded.push((tag, encode_element(tag, *vr, value, encoding, &charset)?));
            }
            let added: u64 = encoded.iter().map(|(_, bytes)| bytes.len() as u64).sum();
            if let Some(content) = plan.content.get_mut(container as usize) {
                *content = content.saturating_add(added);
            }
            if let Some(changed) = plan.changed.get_mut(container as usize) {
                *changed = true;
            }
            plan.inserted.insert(container, encoded);
        }
        for index in (0..nodes.len()).rev() {
            let Some(node) = nodes.get(index) else {
                continue;
            };
            let key = u32::try_from(index).unwrap_or(u32::MAX);
            let (size, changed) = if plan.removed.contains(&key) {
                (0, true)
            } else if let Some(bytes) = plan.encoded.get(&key) {
                (bytes.len() as u64, true)
            } else if plan.is_changed(key) {
                let head = u64::from(node.value_start().saturating_sub(node.header_start));
                let trailer = u64::from(node.raw_end().saturating_sub(node.value_end()));
                (
                    head.saturating_add(plan.content_of(key))
                        .saturating_add(trailer),
                    true,
                )
            } else {
                (
                    u64::from(node.raw_end().saturating_sub(node.header_start)),
                    false,
                )
            };
            if let Some(slot) = plan.size.get_mut(index) {
                *slot = size;
            }
            let parent = node.parent as usize;
            if let Some(content) = plan.content.get_mut(parent) {
                *content = content.saturating_add(size);
            }
            if let Some(parent_changed) = plan.changed.get_mut(parent) {
                *parent_changed |= changed;
            }
        }
        Ok(plan)
    }
}

/// The edits, encoded, and the output size of every node.
struct Plan {
    /// Anything changes at all; when not, the vectors are empty.
    any: bool,
    encoded: BTreeMap<u32, Vec<u8>>,
    removed: BTreeSet<u32>,
    inserted: BTreeMap<u32, Vec<(Tag, Vec<u8>)>>,
    size: Vec<u64>,
    content: Vec<u64>,
    changed: Vec<bool>,
}

impl Plan {
    fn is_changed(&self, index: u32) -> bool {
        self.changed.get(index as usize).copied().unwrap_or(false)
    }

    fn content_of(&self, index: u32) -> u64 {
        self.content.get(index as usize).copied().unwrap_or(0)
    }

    fn size_of(&self, index: u32) -> u64 {
        self.size.get(index as usize).copied().unwrap_or(0)
    }

    /// For a group length element (gggg,0000) whose group changed in its data set,
    /// the element re-encoded with the group's new length; `None` otherwise.
    fn group_length(&self, index: u32, node: &Node, nodes: &[Node]) -> Result<Option<Vec<u8>>> {
        if !self.any
            || !node.tag.is_group_length()
            || node.tag.is_delimiter_group()
            || node.has(flags::ITEM | flags::DELIMITER | flags::SEQUENCE)
        {
            return Ok(None);
        }
        let group = node.tag.group();
        let container = node.parent;
        let inserted = self
            .inserted
            .get(&container)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut changed = false;
        let mut total = 0u64;
        for (tag, bytes) in inserted.iter().filter(|(tag, _)| tag.group() == group) {
            let _ = tag;
            changed = true;
            total = total.saturating_add(bytes.len() as u64);
        }
        // Every other element of the data set in the same group.
        let (first, end) = match nodes.get(container as usize) {
            Some(item) => (container.saturating_add(1), item.end),
            None => (0, u32::try_from(nodes.len()).unwrap_or(u32::MAX)),
        };
        let mut sibling = first;
        while sibling < end {
            let Some(other) = nodes.get(sibling as usize) else {
                break;
            };
            if sibling != index && other.tag.group() == group && !other.has(flags::DELIMITER) {
                changed |= self.removed.contains(&sibling)
                    || self.encoded.contains_key(&sibling)
                    || self.is_changed(sibling);
                total = total.saturating_add(self.size_of(sibling));
            }
            sibling = other.end.max(sibling.saturating_add(1));
        }
        if !changed {
            return Ok(None);
        }
        let encoding = Encoding {
            explicit_vr: node.has(flags::EXPLICIT),
            big_endian: node.has(flags::BIG_ENDIAN),
        };
        let value = Value::U32(vec![u32::try_from(total).unwrap_or(u32::MAX)]);
        encode_element(node.tag, Vr::UL, &value, encoding, &CharacterSet::default()).map(Some)
    }
}

/// Where `length` goes in a container header, rewritten for a new content size.
fn set_length(head: &mut [u8], node: &Node, content: u64) -> Result<()> {
    let length = u32::try_from(content)
        .ok()
        .filter(|&l| l != 0xFFFF_FFFF)
        .ok_or(Error::Encode {
            tag: node.tag,
            reason: "a value longer than 4 GiB - 2",
        })?;
    let bytes = if node.has(flags::BIG_ENDIAN) {
        length.to_be_bytes()
    } else {
        length.to_le_bytes()
    };
    // Explicit VR SQ: 12-byte header, length last; items and implicit VR: 8 bytes.
    let at: usize = if head.len() == 12 { 8 } else { 4 };
    let slot = head
        .get_mut(at..at.saturating_add(4))
        .ok_or(Error::Encode {
            tag: node.tag,
            reason: "a container header of unexpected size",
        })?;
    slot.copy_from_slice(&bytes);
    Ok(())
}

/// The encoding new elements of a data set are written in: that of its existing
/// elements, else what its sequence says, else the transfer syntax's.
fn data_set_encoding(header: &Header<'_>, container: u32) -> Encoding {
    let nodes = header.nodes();
    let of_node = |node: &Node| Encoding {
        explicit_vr: node.has(flags::EXPLICIT),
        big_endian: node.has(flags::BIG_ENDIAN),
    };
    let first_element = if container == NONE {
        nodes.first()
    } else {
        nodes
            .get(container as usize)
            .filter(|item| item.end > container.saturating_add(1))
            .and_then(|_| nodes.get((container as usize).saturating_add(1)))
    };
    if let Some(element) = first_element.filter(|n| !n.tag.is_delimiter_group()) {
        return of_node(element);
    }
    if container == NONE {
        return header.encoding();
    }
    let sequence = nodes
        .get(container as usize)
        .and_then(|item| nodes.get(item.parent as usize));
    match sequence {
        Some(sequence) if sequence.has(flags::IMPLICIT_CONTENT) => {
            Encoding::IMPLICIT_VR_LITTLE_ENDIAN
        }
        Some(sequence) => of_node(sequence),
        None => header.encoding(),
    }
}

/// The bytes of a list of numbers in the data set's byte order.
macro_rules! numbers_bytes {
    ($values:expr, $big:expr) => {
        $values
            .iter()
            .flat_map(|v| {
                if $big {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                }
            })
            .collect()
    };
}

/// One element, header and value, in an encoding. Sequences are written with
/// undefined lengths, their items in tag order, on an explicit stack.
pub(crate) fn encode_element(
    tag: Tag,
    vr: Vr,
    value: &Value,
    encoding: Encoding,
    charset: &CharacterSet,
) -> Result<Vec<u8>> {
    check_vr(tag, vr, value)?;
    let mut out = Vec::new();
    if let Value::Sequence(items) = value {
        // (remaining items of the sequence being written, remaining elements of the
        // item being written)
        type Frame<'v> = (
            core::slice::Iter<'v, Item>,
            Option<Vec<&'v (Tag, Vr, Value)>>,
        );
        let undefined = 0xFFFF_FFFF;
        write_header(&mut out, tag, Vr::SQ, undefined, encoding)?;
        let mut stack: Vec<Frame<'_>> = vec![(items.iter(), None)];
        while let Some((items, open_item)) = stack.last_mut() {
            if let Some(elements) = open_item {
                if let Some(&(tag, vr, ref value)) = elements.pop() {
                    if let Value::Sequence(inner) = value {
                        write_header(&mut out, tag, Vr::SQ, undefined, encoding)?;
                        stack.push((inner.iter(), None));
                    } else {
                        out.extend(encode_element(tag, vr, value, encoding, charset)?);
                    }
                    continue;
                }
                write_header(&mut out, Tag::ITEM_DELIMITATION, Vr::UN, 0, encoding)?;
                *open_item = None;
                continue;
            }
            match items.next() {
                Some(item) => {
                    write_header(&mut out, Tag::ITEM, Vr::UN, undefined, encoding)?;
                    let mut sorted: Vec<&(Tag, Vr, Value)> = item.elements.iter().collect();
                    // Popped from the end: sort descending.
                    sorted.sort_by_key(|element| core::cmp::Reverse(element.0));
                    *open_item = Some(sorted);
                }
                None => {
                    write_header(&mut out, Tag::SEQUENCE_DELIMITATION, Vr::UN, 0, encoding)?;
                    stack.pop();
                }
            }
        }
        return Ok(out);
    }
    let big = encoding.big_endian;
    let mut bytes: Vec<u8> = match value {
        Value::Text(text) => charset
            .encode(text, vr)
            .ok_or(Error::Encode {
                tag,
                reason: "the text is not representable in the data set's character set",
            })?
            .into_owned(),
        Value::Bytes(bytes) => bytes.clone(),
        Value::U16(values) => numbers_bytes!(values, big),
        Value::I16(values) => numbers_bytes!(values, big),
        Value::U32(values) => numbers_bytes!(values, big),
        Value::I32(values) => numbers_bytes!(values, big),
        Value::F32(values) => numbers_bytes!(values, big),
        Value::F64(values) => numbers_bytes!(values, big),
        Value::Tags(values) => values
            .iter()
            .flat_map(|t| {
                let (g, e) = if big {
                    (t.group().to_be_bytes(), t.element().to_be_bytes())
                } else {
                    (t.group().to_le_bytes(), t.element().to_le_bytes())
                };
                [g[0], g[1], e[0], e[1]]
            })
            .collect(),
        Value::Empty | Value::Sequence(_) => Vec::new(),
    };
    if bytes.len() % 2 == 1 {
        bytes.push(if matches!(value, Value::Text(_)) {
            vr.padding()
        } else {
            0
        });
    }
    let length = u32::try_from(bytes.len())
        .ok()
        .filter(|&l| l != 0xFFFF_FFFF)
        .ok_or(Error::Encode {
            tag,
            reason: "a value longer than 4 GiB - 2",
        })?;
    out.reserve(bytes.len().saturating_add(12));
    write_header(&mut out, tag, vr, length, encoding)?;
    out.extend(bytes);
    Ok(out)
}

/// Refuses a value that the VR cannot hold (text for a US, numbers for a LO), so an
/// edit never writes an element its readers would misread. UN takes anything; raw
/// bytes and an empty value go with any VR.
fn check_vr(tag: Tag, vr: Vr, value: &Value) -> Result<()> {
    let fits = vr == Vr::UN
        || match value {
            Value::Text(_) => vr.is_text(),
            Value::U16(_) | Value::I16(_) => matches!(vr, Vr::US | Vr::SS | Vr::OW),
            Value::U32(_) | Value::I32(_) => matches!(vr, Vr::UL | Vr::SL | Vr::OL),
            Value::F32(_) => matches!(vr, Vr::FL | Vr::OF),
            Value::F64(_) => matches!(vr, Vr::FD | Vr::OD),
            Value::Tags(_) => vr == Vr::AT,
            Value::Sequence(_) => vr == Vr::SQ,
            Value::Bytes(_) | Value::Empty => true,
        };
    if fits {
        Ok(())
    } else {
        Err(Error::Encode {
            tag,
            reason: "the value does not fit the element's VR",
        })
    }
}

/// An element header (PS3.5 §7.1): tag, VR when explicit, and the length in 16 or
/// 32 bits as the VR requires. Items and delimiters have no VR.
fn write_header(
    out: &mut Vec<u8>,
    tag: Tag,
    vr: Vr,
    length: u32,
    encoding: Encoding,
) -> Result<()> {
    let big = encoding.big_endian;
    let u16_bytes = |v: u16| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u32_bytes = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    out.extend(u16_bytes(tag.group()));
    out.extend(u16_bytes(tag.element()));
    if !encoding.explicit_vr || tag.is_delimiter_group() {
        out.extend(u32_bytes(length));
    } else if vr.has_long_length() {
        out.extend(vr.to_bytes());
        out.extend([0, 0]);
        out.extend(u32_bytes(length));
    } else {
        let short = u16::try_from(length).map_err(|_| Error::Encode {
            tag,
            reason: "a value longer than 65,534 bytes for a VR with a 16-bit length",
        })?;
        out.extend(vr.to_bytes());
        out.extend(u16_bytes(short));
    }
    Ok(())
}
