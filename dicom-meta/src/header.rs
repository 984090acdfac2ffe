//! The parsed header and its borrowed views: [`Header`], [`DataSet`], [`Element`].

use core::fmt;
use std::borrow::Cow;

use crate::charset::CharacterSet;
use crate::dictionary::Ambiguity;
use crate::error::{Error, Location, Region, Warning};
use crate::node::{NONE, Node, flags};
use crate::parse::Meta;
use crate::transfer_syntax::Encoding;
use crate::{Tag, Vr, dictionary, tags};

/// Where the `DICM` prefix was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Magic {
    /// At offset 128, after the preamble (PS3.10 §7.1).
    AfterPreamble,
    /// At offset 0, no preamble.
    AtStart,
    /// Absent.
    Missing,
}

/// The data set encoding in effect and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DataSetSyntax {
    /// Offset and length of the Transfer Syntax UID value in the input.
    pub(crate) uid: Option<(u32, u32)>,
    pub(crate) encoding: Encoding,
    pub(crate) deflated: bool,
    pub(crate) encapsulated: bool,
    /// The encoding was guessed from the data (no or unknown transfer syntax).
    pub(crate) guessed: bool,
}

/// Where and why the parse stopped before the end of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stop {
    /// The top-level element the parse stopped before (pixel data, or the first at
    /// or after [`ParseOptions::stop_before`](crate::ParseOptions::stop_before)).
    pub tag: Tag,
    /// The offset of its header.
    pub offset: u64,
}

/// Warnings, capped.
#[derive(Debug, Clone, Default)]
pub(crate) struct Warnings {
    kept: Vec<Warning>,
    limit: u32,
    dropped: u32,
}

impl Warnings {
    pub(crate) fn new(limit: u32) -> Self {
        Self {
            kept: Vec::new(),
            limit,
            dropped: 0,
        }
    }

    pub(crate) fn push(&mut self, warning: Warning) {
        if self.kept.len() < self.limit as usize {
            self.kept.push(warning);
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }
}

/// A parsed DICOM header: the preamble, the file meta information and the data set
/// up to where the parse stopped, indexed but not decoded.
///
/// Values stay in the input (or, for a deflated data set, in the inflated buffer)
/// and are decoded when an accessor asks for them. Element lookups at top level go
/// through [`Header::get`] and [`Header::by_keyword`]; group 0002 tags are found in
/// the file meta information.
#[derive(Clone)]
pub struct Header<'a> {
    input: &'a [u8],
    magic: Magic,
    meta: Vec<Node>,
    meta_start: u32,
    meta_end: u32,
    meta_group_length: Option<u32>,
    syntax: DataSetSyntax,
    data: Cow<'a, [u8]>,
    data_start: u32,
    parsed_end: u32,
    nodes: Vec<Node>,
    top_charset: u32,
    /// (item node, its (0008,0005) node), sorted by item.
    item_charsets: Vec<(u32, u32)>,
    top_unsorted: bool,
    value_limit: u32,
    stop: Option<Stop>,
    error: Option<Error>,
    warnings: Warnings,
    /// For a deflated data set, the input range of the deflate stream as read.
    deflated_stream: Option<(u32, u32)>,
}

impl<'a> Header<'a> {
    pub(crate) fn new(
        input: &'a [u8],
        meta: Meta,
        magic: Magic,
        syntax: DataSetSyntax,
        data: Cow<'a, [u8]>,
        data_start: usize,
        warnings: Warnings,
    ) -> Self {
        Self {
            input,
            magic,
            meta_start: meta.start as u32,
            meta_end: meta.end as u32,
            meta_group_length: meta.group_length,
            meta: meta.nodes,
            syntax,
            data,
            data_start: data_start as u32,
            parsed_end: data_start as u32,
            nodes: Vec::new(),
            top_charset: NONE,
            item_charsets: Vec::new(),
            top_unsorted: false,
            value_limit: u32::MAX,
            stop: None,
            error: None,
            warnings,
            deflated_stream: None,
        }
    }

    pub(crate) fn set_deflated_stream(&mut self, start: usize, end: usize) {
        self.deflated_stream = Some((
            u32::try_from(start).unwrap_or(u32::MAX),
            u32::try_from(end).unwrap_or(u32::MAX),
        ));
    }

    pub(crate) fn set_index(
        &mut self,
        nodes: Vec<Node>,
        top_charset: u32,
        mut item_charsets: Vec<(u32, u32)>,
        top_unsorted: bool,
        value_limit: u32,
    ) {
        item_charsets.sort_unstable();
        self.nodes = nodes;
        self.value_limit = value_limit;
        self.top_charset = top_charset;
        self.item_charsets = item_charsets;
        self.top_unsorted = top_unsorted;
    }

    pub(crate) fn set_outcome(
        &mut self,
        parsed_end: usize,
        stop: Option<Stop>,
        error: Option<Error>,
    ) {
        self.parsed_end = u32::try_from(parsed_end).unwrap_or(u32::MAX);
        self.stop = stop;
        self.error = error;
    }

    pub(crate) fn set_error(&mut self, error: Error) {
        self.error = Some(error);
    }

    /// The 128-byte preamble, if the file has one (PS3.10 §7.1). Its content is
    /// application defined (TIFF headers, zeros) and is written back unchanged.
    #[must_use]
    pub fn preamble(&self) -> Option<&'a [u8; 128]> {
        match self.magic {
            Magic::AfterPreamble => self.input.first_chunk::<128>(),
            Magic::AtStart | Magic::Missing => None,
        }
    }

    /// True if the input had the `DICM` prefix (at offset 128, or leniently at 0).
    #[must_use]
    pub fn has_dicm_prefix(&self) -> bool {
        self.magic != Magic::Missing
    }

    /// The file meta information (group 0002); empty for a bare data set.
    #[must_use]
    pub fn meta(&self) -> DataSet<'_> {
        DataSet {
            ctx: Ctx {
                nodes: &self.meta,
                data: self.input,
                top_charset: NONE,
                item_charsets: &[],
                region: Region::FileMeta,
                value_limit: self.value_limit,
                top_sorted: false,
            },
            first: 0,
            end: len_u32(self.meta.len()),
            item: NONE,
            sorted: false,
        }
    }

    /// The top-level data set.
    #[must_use]
    pub fn data_set(&self) -> DataSet<'_> {
        DataSet {
            ctx: self.ctx(),
            first: 0,
            end: len_u32(self.nodes.len()),
            item: NONE,
            sorted: !self.top_unsorted,
        }
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            nodes: &self.nodes,
            data: &self.data,
            top_charset: self.top_charset,
            item_charsets: &self.item_charsets,
            value_limit: self.value_limit,
            top_sorted: !self.top_unsorted,
            region: if self.syntax.deflated {
                Region::InflatedDataSet
            } else {
                Region::DataSet
            },
        }
    }

    /// A top-level element by tag; group 0002 tags are looked up in the file meta
    /// information.
    #[must_use]
    pub fn get(&self, tag: Tag) -> Option<Element<'_>> {
        if tag.group() == 0x0002 {
            self.meta().get(tag).or_else(|| self.data_set().get(tag))
        } else {
            self.data_set().get(tag)
        }
    }

    /// A top-level element by dictionary keyword (`"PatientName"`).
    #[must_use]
    pub fn by_keyword(&self, keyword: &str) -> Option<Element<'_>> {
        dictionary::tag_for_keyword(keyword).and_then(|tag| self.get(tag))
    }

    /// The first value of a top-level text element, decoded and trimmed; `None` if
    /// the element is absent, empty or not text. A shortcut for
    /// [`Element::string`] that gives up on errors.
    #[must_use]
    pub fn string(&self, tag: Tag) -> Option<Cow<'_, str>> {
        self.get(tag)
            .and_then(|element| element.first_string().ok())
            .filter(|s| !s.is_empty())
    }

    /// The Transfer Syntax UID (0002,0010), without padding; `None` for a bare data
    /// set or file meta information without it.
    #[must_use]
    pub fn transfer_syntax_uid(&self) -> Option<&'a str> {
        let (start, len) = self.syntax.uid?;
        let start = start as usize;
        let bytes = self.input.get(start..start.saturating_add(len as usize))?;
        let end = bytes
            .iter()
            .rposition(|&b| b != 0 && b != b' ')
            .map_or(0, |i| i.saturating_add(1));
        core::str::from_utf8(bytes.get(..end)?).ok()
    }

    /// The encoding the data set was read in.
    #[must_use]
    pub fn encoding(&self) -> Encoding {
        self.syntax.encoding
    }

    /// True if the data set was deflated (PS3.5 §A.5); offsets in its elements count
    /// bytes of the inflated stream.
    #[must_use]
    pub fn is_deflated(&self) -> bool {
        self.syntax.deflated
    }

    /// True if the transfer syntax encapsulates pixel data (JPEG, RLE …).
    #[must_use]
    pub fn is_encapsulated(&self) -> bool {
        self.syntax.encapsulated
    }

    /// True if the encoding was guessed from the data because the transfer syntax
    /// was missing or unknown.
    #[must_use]
    pub fn is_encoding_guessed(&self) -> bool {
        self.syntax.guessed
    }

    /// The group length (0002,0000) as declared, which may be wrong.
    #[must_use]
    pub fn meta_group_length(&self) -> Option<u32> {
        self.meta_group_length
    }

    /// Where the parse stopped before the end of the input, if it did.
    #[must_use]
    pub fn stop(&self) -> Option<Stop> {
        self.stop
    }

    /// The error that ended a tolerant parse early, if any. The header holds every
    /// element before it.
    #[must_use]
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// True if the parse reached the end of the input or a stop condition without
    /// error.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.error.is_none()
    }

    /// What tolerant mode accepted, in input order (at most
    /// [`Limits::max_warnings`](crate::Limits::max_warnings)).
    #[must_use]
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings.kept
    }

    /// How many warnings were dropped over the limit.
    #[must_use]
    pub fn warnings_dropped(&self) -> u32 {
        self.warnings.dropped
    }

    /// The number of elements and items indexed, at every level, file meta
    /// information included.
    #[must_use]
    pub fn element_count(&self) -> usize {
        self.meta.len().saturating_add(self.nodes.len())
    }

    /// The Specific Character Set of the top-level data set.
    #[must_use]
    pub fn character_set(&self) -> CharacterSet {
        self.data_set().character_set()
    }

    /// The input bytes after what was parsed: the pixel data and anything after it
    /// when the parse stopped there. `None` for a deflated data set, whose offsets
    /// are not input offsets.
    #[must_use]
    pub fn remaining(&self) -> Option<&'a [u8]> {
        if self.syntax.deflated {
            None
        } else {
            self.input.get(self.parsed_end as usize..)
        }
    }

    /// The input this header was parsed from.
    #[must_use]
    pub fn input(&self) -> &'a [u8] {
        self.input
    }

    // Accessors for the writer.

    pub(crate) fn meta_nodes(&self) -> &[Node] {
        &self.meta
    }

    pub(crate) fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub(crate) fn data(&self) -> &[u8] {
        &self.data
    }

    pub(crate) fn meta_range(&self) -> (usize, usize) {
        (self.meta_start as usize, self.meta_end as usize)
    }

    /// For a deflated data set, the deflate stream as read from the input.
    pub(crate) fn deflated_stream(&self) -> Option<&'a [u8]> {
        let (start, end) = self.deflated_stream?;
        self.input.get(start as usize..end as usize)
    }

    pub(crate) fn data_range(&self) -> (usize, usize) {
        (self.data_start as usize, self.parsed_end as usize)
    }

    /// Everything a parse decided, for tests that compare two ways of parsing.
    #[cfg(test)]
    pub(crate) fn outcome_for_tests(&self) -> String {
        format!(
            "{:?}",
            (
                &self.meta,
                &self.nodes,
                self.top_charset,
                &self.item_charsets,
                self.top_unsorted,
                (self.meta_end, self.data_start, self.parsed_end),
                self.stop,
                &self.error,
                &self.warnings.kept,
                self.warnings.dropped,
            )
        )
    }
}

fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// What element views need: the node table, the bytes it points into, and the
/// top-level character set for inheritance.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'h> {
    pub(crate) nodes: &'h [Node],
    pub(crate) data: &'h [u8],
    pub(crate) top_charset: u32,
    /// (item node, its (0008,0005) node), sorted by item.
    pub(crate) item_charsets: &'h [(u32, u32)],
    pub(crate) region: Region,
    /// [`Limits::max_value_len`](crate::Limits::max_value_len) of the parse.
    pub(crate) value_limit: u32,
    /// The top-level elements are in ascending tag order.
    pub(crate) top_sorted: bool,
}

impl<'h> Ctx<'h> {
    fn node(&self, index: u32) -> Option<&'h Node> {
        self.nodes.get(index as usize)
    }

    /// The Specific Character Set in effect for elements inside `container` (an item
    /// node or [`NONE`]): the innermost item that has (0008,0005), else the top
    /// level's (PS3.5 §6.1.2.5.1: items inherit the set of the enclosing data set).
    fn character_set(&self, mut container: u32) -> CharacterSet {
        let mut charset = self.top_charset;
        while let Some(node) = self.node(container) {
            if node.has(flags::ITEM)
                && let Ok(found) = self
                    .item_charsets
                    .binary_search_by_key(&container, |&(item, _)| item)
                && let Some(&(_, own)) = self.item_charsets.get(found)
            {
                charset = own;
                break;
            }
            container = node.parent;
        }
        self.node(charset)
            .and_then(|node| {
                self.data
                    .get(node.value_start() as usize..node.value_end() as usize)
            })
            .map(CharacterSet::parse)
            .unwrap_or_default()
    }

    /// The data set whose elements are the children of `container`: an item node, or
    /// [`NONE`] for the top level.
    fn data_set(&self, container: u32) -> DataSet<'h> {
        match self.node(container) {
            Some(item) => DataSet {
                ctx: *self,
                first: container.saturating_add(1),
                end: item.end,
                item: container,
                sorted: !item.has(flags::UNSORTED),
            },
            None => DataSet {
                ctx: *self,
                first: 0,
                end: len_u32(self.nodes.len()),
                item: NONE,
                sorted: self.top_sorted,
            },
        }
    }

    /// The element `tag` of the data set `container` (an item node or [`NONE`]), else
    /// of the nearest enclosing data set that has it, up to the top level. A loop
    /// over parent links, as long as the nesting is deep.
    fn find_in_scope(&self, mut container: u32, tag: Tag) -> Option<Element<'h>> {
        loop {
            if let Some(element) = self.data_set(container).get(tag) {
                return Some(element);
            }
            // An item's parent is its sequence, whose parent is the enclosing item.
            let sequence = self.node(container)?.parent;
            container = self.node(sequence)?.parent;
        }
    }

    /// The location of a node: its outermost ancestor and depth.
    pub(crate) fn location(&self, index: u32) -> Location {
        let tag = self.node(index).map(|n| n.tag);
        let mut top_level = tag;
        let mut depth = 0u32;
        let mut current = self.node(index).map_or(NONE, |n| n.parent);
        while let Some(node) = self.node(current) {
            if node.has(flags::ITEM) {
                depth = depth.saturating_add(1);
            } else {
                top_level = Some(node.tag);
            }
            current = node.parent;
        }
        Location {
            region: self.region,
            top_level,
            tag,
            depth,
        }
    }
}

/// A data set: the top-level one, an item of a sequence, or the file meta
/// information. A borrowed view; copying it is free.
#[derive(Clone, Copy)]
pub struct DataSet<'h> {
    ctx: Ctx<'h>,
    /// Index of the first element.
    first: u32,
    /// Index one past the last descendant.
    end: u32,
    /// The item node, or [`NONE`] for top level and meta.
    item: u32,
    /// Elements are in ascending tag order, so a lookup can stop early.
    sorted: bool,
}

impl<'h> DataSet<'h> {
    /// The element with this tag, if present. Data sets are sorted by tag, so this
    /// walks at most to where the tag would be; an unsorted data set is walked whole.
    #[must_use]
    pub fn get(&self, tag: Tag) -> Option<Element<'h>> {
        let mut index = self.first;
        while index < self.end {
            let node = self.ctx.node(index)?;
            if node.tag == tag && !node.has(flags::DELIMITER) {
                return Some(Element {
                    ctx: self.ctx,
                    index,
                    node: *node,
                });
            }
            if self.sorted && node.tag > tag {
                return None;
            }
            index = node.end.max(index.saturating_add(1));
        }
        None
    }

    /// The element with this dictionary keyword (`"PatientName"`), if present.
    #[must_use]
    pub fn by_keyword(&self, keyword: &str) -> Option<Element<'h>> {
        dictionary::tag_for_keyword(keyword).and_then(|tag| self.get(tag))
    }

    /// The elements, in input order.
    #[must_use]
    pub fn iter(&self) -> Elements<'h> {
        Elements {
            ctx: self.ctx,
            next: self.first,
            end: self.end,
        }
    }

    /// The number of elements (not counting those nested in sequences).
    #[must_use]
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// True if the data set has no elements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The first value of a text element, decoded and trimmed; `None` if absent,
    /// empty or not text.
    #[must_use]
    pub fn string(&self, tag: Tag) -> Option<Cow<'h, str>> {
        self.get(tag)
            .and_then(|element| element.first_string().ok())
            .filter(|s| !s.is_empty())
    }

    /// The Specific Character Set in effect in this data set: its own (0008,0005),
    /// or the enclosing data set's.
    #[must_use]
    pub fn character_set(&self) -> CharacterSet {
        self.ctx.character_set(self.item)
    }

    /// The offset of the item header, or 0 for a top-level data set.
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.ctx
            .node(self.item)
            .map_or(0, |n| u64::from(n.header_start))
    }

    /// A private element by its creator (PS3.5 §7.8.1): the element `offset` of the
    /// block that the private creator `creator` reserved in `group`. For example the
    /// element (0029,xx10) of creator `"SIEMENS CSA HEADER"`, wherever the block is.
    #[must_use]
    pub fn private_element(&self, group: u16, creator: &str, offset: u8) -> Option<Element<'h>> {
        let block = (0x10u16..=0xFF).find(|&block| {
            self.get(Tag::new(group, block))
                .and_then(|element| element.first_string().ok())
                .is_some_and(|name| name == creator)
        })?;
        self.get(Tag::new(group, (block << 8) | u16::from(offset)))
    }

    pub(crate) fn item_index(&self) -> u32 {
        self.item
    }

    pub(crate) fn is_meta(&self) -> bool {
        self.ctx.region == Region::FileMeta
    }

    pub(crate) fn nodes(&self) -> &'h [Node] {
        self.ctx.nodes
    }

    /// The element at a node index of the same header.
    pub(crate) fn element_at(&self, index: u32) -> Option<Element<'h>> {
        let node = self.ctx.node(index)?;
        (!node.has(flags::ITEM)).then_some(Element {
            ctx: self.ctx,
            index,
            node: *node,
        })
    }

    /// The item data set at a node index of the same header.
    pub(crate) fn item_at(&self, index: u32) -> Option<DataSet<'h>> {
        let node = self.ctx.node(index)?;
        node.has(flags::ITEM).then_some(DataSet {
            ctx: self.ctx,
            first: index.saturating_add(1),
            end: node.end,
            item: index,
            sorted: !node.has(flags::UNSORTED),
        })
    }
}

impl<'h> IntoIterator for DataSet<'h> {
    type Item = Element<'h>;
    type IntoIter = Elements<'h>;

    fn into_iter(self) -> Elements<'h> {
        self.iter()
    }
}

/// The elements of a data set, in input order.
#[derive(Clone)]
pub struct Elements<'h> {
    ctx: Ctx<'h>,
    next: u32,
    end: u32,
}

impl<'h> Iterator for Elements<'h> {
    type Item = Element<'h>;

    fn next(&mut self) -> Option<Element<'h>> {
        while self.next < self.end {
            let index = self.next;
            let node = self.ctx.node(index)?;
            self.next = node.end.max(index.saturating_add(1));
            if !node.has(flags::DELIMITER) {
                return Some(Element {
                    ctx: self.ctx,
                    index,
                    node: *node,
                });
            }
        }
        None
    }
}

/// One data element: a borrowed view with typed, lazy accessors.
#[derive(Clone, Copy)]
pub struct Element<'h> {
    pub(crate) ctx: Ctx<'h>,
    pub(crate) index: u32,
    pub(crate) node: Node,
}

impl<'h> Element<'h> {
    /// The tag.
    #[must_use]
    pub fn tag(&self) -> Tag {
        self.node.tag
    }

    /// The VR: as written, or from the dictionary when the transfer syntax is
    /// implicit VR (UN for tags the dictionary does not know).
    #[must_use]
    pub fn vr(&self) -> Vr {
        self.node.vr
    }

    /// The VR values are decoded as. [`vr`](Self::vr) says what the input said; this
    /// says what it means:
    ///
    /// - An element indexed as a sequence ([`is_sequence`](Self::is_sequence)) is SQ,
    ///   whatever its header said: under implicit VR only a sequence has an undefined
    ///   length (PS3.5 §7.1.3) and a value made of items is a sequence (§7.5); a UN
    ///   element of undefined length holds one (§6.2.2, CP-246).
    /// - An element written as UN takes the VR an implicit VR reader gives its tag
    ///   (§6.2.2): the dictionary's, UL for a group length, LO for a private creator
    ///   (gggg,0010-00FF, §7.8.1); other private elements stay UN.
    /// - Where that VR (or the one an implicit VR reader gave) has alternatives in
    ///   PS3.6, the element's data set decides (PS3.5 §7.1.3, Annex A.1):
    ///   - "US or SS" follows Pixel Representation (0028,0103), 0 → US, 1 → SS,
    ///     taken from the element's own data set, else the nearest enclosing one that
    ///     has it, up to the top level (an icon image item has its own; a Real World
    ///     Value Mapping item uses the image's).
    ///   - "US or OW", LUT Data (0028,3006), follows the first value of LUT Descriptor
    ///     (0028,3002) in the same data set: US for a one-entry table, OW otherwise.
    ///   - "OB or OW" is OW (Annex A.1 encodes Pixel, Overlay and Waveform Data as
    ///     OW under implicit VR), OB for encapsulated pixel data (Annex A.4).
    ///
    ///   Without the deciding attribute (or with a value it does not define) the VR
    ///   stays the first alternative, US or OB. A VR on the wire other than UN is
    ///   never second-guessed.
    ///
    /// Only reading changes: writing keeps the bytes and the VR as they were.
    ///
    /// ```
    /// use labwire_dicom_meta::{parse_data_set, Encoding, ParseOptions, Tag, Vr};
    ///
    /// // Implicit VR: Pixel Representation (0028,0103) = 1, Smallest Image Pixel
    /// // Value (0028,0106) = -2048.
    /// let bytes = b"\x28\x00\x03\x01\x02\x00\x00\x00\x01\x00\
    ///               \x28\x00\x06\x01\x02\x00\x00\x00\x00\xf8";
    /// let options = ParseOptions::default();
    /// let header = parse_data_set(bytes, Encoding::IMPLICIT_VR_LITTLE_ENDIAN, &options)?;
    /// let smallest = header.get(Tag::new(0x0028, 0x0106)).unwrap();
    /// assert_eq!((smallest.vr(), smallest.effective_vr()), (Vr::US, Vr::SS));
    /// assert_eq!(smallest.int()?, -2048);
    /// # Ok::<(), labwire_dicom_meta::Error>(())
    /// ```
    #[must_use]
    pub fn effective_vr(&self) -> Vr {
        if self.node.has(flags::SEQUENCE) {
            return Vr::SQ;
        }
        let assumed = if self.node.has(flags::IMPLICIT_VR) {
            self.node.vr
        } else if self.node.vr == Vr::UN {
            dictionary::implicit_vr(self.node.tag)
        } else {
            return self.node.vr;
        };
        // Every ambiguous entry's first alternative is US or OB: one comparison
        // keeps the common case off the tag match.
        if assumed != Vr::US && assumed != Vr::OB {
            return assumed;
        }
        match dictionary::ambiguity(self.node.tag) {
            Some(Ambiguity::PixelRepresentation) => {
                match self.first_word_in_scope(tags::PIXEL_REPRESENTATION, true) {
                    Some(0) => Vr::US,
                    Some(1) => Vr::SS,
                    _ => assumed,
                }
            }
            Some(Ambiguity::LutData) => {
                match self.first_word_in_scope(tags::LUT_DESCRIPTOR, false) {
                    Some(1) => Vr::US,
                    Some(_) => Vr::OW,
                    None => assumed,
                }
            }
            Some(Ambiguity::Words) if self.node.has(flags::FRAGMENTS) => Vr::OB,
            Some(Ambiguity::Words) => Vr::OW,
            None => assumed,
        }
    }

    /// The first 16-bit value of the element `tag` in this element's data set, or
    /// with `enclosing` in the nearest enclosing data set that has it. Read from the
    /// bytes, not through [`effective_vr`](Self::effective_vr) (the attributes that
    /// decide are 16-bit binary however written), so nothing here recurses.
    fn first_word_in_scope(&self, tag: Tag, enclosing: bool) -> Option<u16> {
        let element = if enclosing {
            self.ctx.find_in_scope(self.node.parent, tag)?
        } else {
            self.ctx.data_set(self.node.parent).get(tag)?
        };
        let binary = element.node.has(flags::IMPLICIT_VR)
            || matches!(element.node.vr, Vr::US | Vr::SS | Vr::OW | Vr::UN);
        if !binary || element.is_sequence() {
            return None;
        }
        let bytes = *element.readable().ok()?.first_chunk::<2>()?;
        Some(if element.is_big_endian() {
            u16::from_be_bytes(bytes)
        } else {
            u16::from_le_bytes(bytes)
        })
    }

    /// True if the VR came from the dictionary (implicit VR transfer syntax).
    #[must_use]
    pub fn is_vr_implicit(&self) -> bool {
        self.node.has(flags::IMPLICIT_VR)
    }

    /// The dictionary keyword, if the tag is a standard one.
    #[must_use]
    pub fn keyword(&self) -> Option<&'static str> {
        self.node.tag.keyword()
    }

    /// The offset of the element header (see [`Region`] for what offsets count).
    #[must_use]
    pub fn offset(&self) -> u64 {
        u64::from(self.node.header_start)
    }

    /// The value length: as declared, or for undefined length the bytes up to the
    /// delimiter.
    #[must_use]
    pub fn len(&self) -> u32 {
        self.node.value_len
    }

    /// True if the value is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.node.value_len == 0
    }

    /// True if the length was undefined (a delimiter ends the value).
    #[must_use]
    pub fn has_undefined_length(&self) -> bool {
        self.node.has(flags::UNDEFINED_LENGTH)
    }

    /// True if the value was not read because of
    /// [`ParseOptions::skip_values_larger_than`](crate::ParseOptions::skip_values_larger_than)
    /// or the value size limit; a skipped sequence has no items.
    #[must_use]
    pub fn is_skipped(&self) -> bool {
        self.node.has(flags::SKIPPED)
    }

    /// True if numbers in the value are big endian.
    #[must_use]
    pub fn is_big_endian(&self) -> bool {
        self.node.has(flags::BIG_ENDIAN)
    }

    /// The raw value bytes, as in the input. For a sequence or encapsulated pixel
    /// data, the encoded items.
    #[must_use]
    pub fn raw(&self) -> &'h [u8] {
        let start = self.node.value_start() as usize;
        self.ctx
            .data
            .get(start..self.node.value_end() as usize)
            .unwrap_or_default()
    }

    /// True if the element is a sequence of items (SQ, or a UN holding one).
    #[must_use]
    pub fn is_sequence(&self) -> bool {
        self.node.has(flags::SEQUENCE)
    }

    /// True if the element is encapsulated pixel data (fragments).
    #[must_use]
    pub fn is_encapsulated(&self) -> bool {
        self.node.has(flags::FRAGMENTS)
    }

    /// The items of a sequence; empty for any other element.
    #[must_use]
    pub fn items(&self) -> Items<'h> {
        Items {
            ctx: self.ctx,
            next: self.index.saturating_add(1),
            end: if self.is_sequence() {
                self.node.end
            } else {
                self.index.saturating_add(1)
            },
        }
    }

    /// The fragments of encapsulated pixel data (the first is the basic offset
    /// table); empty for any other element.
    pub fn fragments(&self) -> impl Iterator<Item = &'h [u8]> + 'h {
        let ctx = self.ctx;
        let (start, end) = if self.is_encapsulated() {
            (self.index.saturating_add(1), self.node.end)
        } else {
            (0, 0)
        };
        (start..end).filter_map(move |index| {
            let node = ctx.node(index)?;
            if !node.has(flags::ITEM) {
                return None;
            }
            ctx.data
                .get(node.value_start() as usize..node.value_end() as usize)
        })
    }

    /// The Specific Character Set its text is decoded with.
    #[must_use]
    pub fn character_set(&self) -> CharacterSet {
        self.ctx.character_set(self.node.parent)
    }

    /// For a private element, the name of its private creator (PS3.5 §7.8.1).
    #[must_use]
    pub fn private_creator(&self) -> Option<Cow<'h, str>> {
        let creator = self.node.tag.private_creator()?;
        self.ctx.data_set(self.node.parent).string(creator)
    }

    /// The location of this element for error reports.
    pub(crate) fn location(&self) -> Location {
        self.ctx.location(self.index)
    }

    pub(crate) fn invalid(&self, expected: &'static str) -> Error {
        Error::InvalidValue {
            offset: self.offset(),
            location: self.location(),
            vr: self.node.vr,
            expected,
        }
    }

    /// Fails for a value not read because it is over the value size limit.
    pub(crate) fn readable(&self) -> Result<&'h [u8], Error> {
        if self.node.has(flags::OVER_LIMIT) {
            return Err(Error::ValueTooLarge {
                offset: self.offset(),
                location: self.location(),
                length: self.node.value_len,
                limit: self.ctx.value_limit,
            });
        }
        Ok(self.raw())
    }
}

/// The items of a sequence, as data sets.
#[derive(Clone)]
pub struct Items<'h> {
    ctx: Ctx<'h>,
    next: u32,
    end: u32,
}

impl<'h> Iterator for Items<'h> {
    type Item = DataSet<'h>;

    fn next(&mut self) -> Option<DataSet<'h>> {
        while self.next < self.end {
            let index = self.next;
            let node = self.ctx.node(index)?;
            self.next = node.end.max(index.saturating_add(1));
            if node.has(flags::ITEM) {
                return Some(DataSet {
                    ctx: self.ctx,
                    first: index.saturating_add(1),
                    end: node.end,
                    item: index,
                    sorted: !node.has(flags::UNSORTED),
                });
            }
        }
        None
    }
}

// Debug output shows structure, never values or input bytes: headers carry patient
// data, and debug output ends up in logs.

impl fmt::Debug for Header<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Header")
            .field("input_len", &self.input.len())
            .field("transfer_syntax", &self.transfer_syntax_uid())
            .field("encoding", &self.syntax.encoding)
            .field("deflated", &self.syntax.deflated)
            .field("elements", &self.element_count())
            .field("stop", &self.stop)
            .field("error", &self.error)
            .field("warnings", &self.warnings.kept.len())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("nodes", &self.nodes.len())
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for DataSet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataSet")
            .field("region", &self.ctx.region)
            .field("offset", &self.offset())
            .field("elements", &self.len())
            .finish()
    }
}

impl fmt::Debug for Element<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Element")
            .field("tag", &self.tag())
            .field("vr", &self.vr())
            .field("offset", &self.offset())
            .field("len", &self.len())
            .finish()
    }
}

impl fmt::Debug for Elements<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Elements")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Items<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Items")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use crate::{Encoding, ParseOptions, parse_data_set, tags};

    #[test]
    fn debug_output_never_shows_values() {
        let bytes = b"\x10\x00\x10\x00PN\x08\x00Doe^John";
        let header = parse_data_set(
            bytes,
            Encoding::EXPLICIT_VR_LITTLE_ENDIAN,
            &ParseOptions::default(),
        )
        .unwrap();
        let element = header.get(tags::PATIENT_NAME).unwrap();
        let name = element.person_name().unwrap();
        for debug in [
            format!("{header:?}"),
            format!("{:?}", header.data_set()),
            format!("{element:?}"),
            format!("{name:?}"),
            format!("{:?}", name.alphabetic()),
        ] {
            assert!(!debug.contains("Doe"), "{debug}");
            assert!(!debug.contains("68, 111, 101"), "{debug}");
        }
    }
}
