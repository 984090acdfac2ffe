//! [`Text`]: the model's string type, stored inline when short.

use std::borrow::{Borrow, Cow};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// The longest text stored without a heap allocation, in bytes.
pub const TEXT_INLINE_CAPACITY: usize = 23;

/// A string as the model stores it: UTF-8 text of any length, kept inline (no heap
/// allocation) up to [`TEXT_INLINE_CAPACITY`] bytes.
///
/// Nearly every string an instrument sends is short: test codes, units, flags,
/// ranges, operator ids, lot numbers. A result used to carry seven to fifteen of them
/// as `String`s, and allocating and freeing those cost more than parsing the message.
/// `Text` reads like a `&str` (it derefs to one), compares equal to `str` and
/// `String`, converts from both, and serializes as a plain string, so the JSON and
/// CBOR forms are unchanged.
///
/// ```
/// use labwire_model::Text;
///
/// let unit = Text::from("mmol/L");
/// assert!(unit.is_inline());
/// assert_eq!(unit, "mmol/L");
/// assert_eq!(unit.len(), 6);
/// let long = Text::from("a comment longer than twenty-three bytes");
/// assert!(!long.is_inline());
/// assert_eq!(serde_json::to_string(&unit).unwrap(), r#""mmol/L""#);
/// ```
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Inline(Inline),
    Heap(Box<str>),
}

/// Inline bytes; `len` last so that the enum's tag can live in its unused values and
/// `Text` stays the size of a `String` (24 bytes on 64-bit targets).
#[derive(Clone, Copy)]
#[repr(C)]
struct Inline {
    bytes: [u8; TEXT_INLINE_CAPACITY],
    len: InlineLen,
}

macro_rules! inline_len {
    ($($name:ident = $value:literal),+ $(,)?) => {
        /// A length from 0 to [`TEXT_INLINE_CAPACITY`]: an enum, so the values above
        /// it are free for the layout.
        #[derive(Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        enum InlineLen { $($name = $value),+ }

        impl InlineLen {
            const fn new(len: usize) -> Option<Self> {
                match len {
                    $($value => Some(Self::$name),)+
                    _ => None,
                }
            }
        }
    };
}

inline_len!(
    L0 = 0,
    L1 = 1,
    L2 = 2,
    L3 = 3,
    L4 = 4,
    L5 = 5,
    L6 = 6,
    L7 = 7,
    L8 = 8,
    L9 = 9,
    L10 = 10,
    L11 = 11,
    L12 = 12,
    L13 = 13,
    L14 = 14,
    L15 = 15,
    L16 = 16,
    L17 = 17,
    L18 = 18,
    L19 = 19,
    L20 = 20,
    L21 = 21,
    L22 = 22,
    L23 = 23,
);

const EMPTY: Inline = Inline {
    bytes: [0; TEXT_INLINE_CAPACITY],
    len: InlineLen::L0,
};

impl Inline {
    fn new(text: &str) -> Option<Self> {
        let len = InlineLen::new(text.len())?;
        let mut bytes = [0; TEXT_INLINE_CAPACITY];
        bytes
            .get_mut(..text.len())?
            .copy_from_slice(text.as_bytes());
        Some(Self { bytes, len })
    }

    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len as usize).unwrap_or_default()
    }

    fn as_str(&self) -> &str {
        let used = self.as_bytes();
        // Only whole `str`s are copied in, so this never fails; without `unsafe`
        // the check is the price (a few nanoseconds for 23 bytes).
        std::str::from_utf8(used).unwrap_or_default()
    }
}

impl Text {
    /// The empty text.
    #[must_use]
    pub const fn new() -> Self {
        Self(Repr::Inline(EMPTY))
    }

    /// The text as a `&str`.
    #[must_use]
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline(inline) => inline.as_str(),
            Repr::Heap(heap) => heap,
        }
    }

    /// The text's UTF-8 bytes. Cheaper than `as_str().as_bytes()`: the inline
    /// bytes are not validated again (writers of JSON and CBOR want bytes).
    #[must_use]
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(inline) => inline.as_bytes(),
            Repr::Heap(heap) => heap.as_bytes(),
        }
    }

    /// The length in bytes (what `str::len` gives, without going through `&str`).
    #[must_use]
    #[inline]
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Inline(inline) => inline.len as usize,
            Repr::Heap(heap) => heap.len(),
        }
    }

    /// Whether the text is empty.
    #[must_use]
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the text is stored inline (at most [`TEXT_INLINE_CAPACITY`] bytes).
    #[must_use]
    pub fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline(_))
    }

    /// Text written by `format_args!`, inline when it fits: `Text::from_fmt(format_args!("O record {n}"))`
    /// makes no heap allocation where `format!` would make one.
    #[must_use]
    pub fn from_fmt(args: fmt::Arguments<'_>) -> Self {
        match args.as_str() {
            Some(text) => Self::from(text),
            None => {
                let mut text = Self::new();
                // Writing to a `Text` cannot fail.
                let _ = fmt::Write::write_fmt(&mut text, args);
                text
            }
        }
    }

    /// Appends `more`, moving to the heap when the result no longer fits inline.
    /// (Each append to heap text reallocates: to build long text, use a `String`
    /// and convert it once.)
    pub fn push_str(&mut self, more: &str) {
        if more.is_empty() {
            return;
        }
        if let Repr::Inline(inline) = &mut self.0 {
            let at = inline.len as usize;
            let end = at.saturating_add(more.len());
            if let (Some(len), Some(room)) = (InlineLen::new(end), inline.bytes.get_mut(at..end)) {
                room.copy_from_slice(more.as_bytes());
                inline.len = len;
                return;
            }
        }
        let joined = match &self.0 {
            Repr::Inline(inline) => {
                let mut joined = String::with_capacity(inline.len as usize + more.len());
                joined.push_str(inline.as_str());
                joined.push_str(more);
                joined
            }
            Repr::Heap(heap) => {
                let mut joined = String::with_capacity(heap.len() + more.len());
                joined.push_str(heap);
                joined.push_str(more);
                joined
            }
        };
        *self = Self::from(joined);
    }

    /// The text as a `String`.
    #[must_use]
    pub fn into_string(self) -> String {
        match self.0 {
            Repr::Inline(inline) => inline.as_str().to_owned(),
            Repr::Heap(heap) => heap.into_string(),
        }
    }
}

impl Default for Text {
    fn default() -> Self {
        Self::new()
    }
}

impl Deref for Text {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Text {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Text {
    #[inline]
    fn from(text: &str) -> Self {
        match Inline::new(text) {
            Some(inline) => Self(Repr::Inline(inline)),
            None => Self(Repr::Heap(Box::from(text))),
        }
    }
}

impl From<&mut str> for Text {
    fn from(text: &mut str) -> Self {
        Self::from(&*text)
    }
}

impl From<String> for Text {
    /// Short text moves inline (and the `String`'s buffer is freed); long text keeps
    /// its buffer.
    fn from(text: String) -> Self {
        match Inline::new(&text) {
            Some(inline) => Self(Repr::Inline(inline)),
            None => Self(Repr::Heap(text.into_boxed_str())),
        }
    }
}

impl From<&String> for Text {
    fn from(text: &String) -> Self {
        Self::from(text.as_str())
    }
}

impl From<Box<str>> for Text {
    fn from(text: Box<str>) -> Self {
        match Inline::new(&text) {
            Some(inline) => Self(Repr::Inline(inline)),
            None => Self(Repr::Heap(text)),
        }
    }
}

impl From<Cow<'_, str>> for Text {
    fn from(text: Cow<'_, str>) -> Self {
        match text {
            Cow::Borrowed(text) => Self::from(text),
            Cow::Owned(text) => Self::from(text),
        }
    }
}

impl From<&Text> for Text {
    fn from(text: &Text) -> Self {
        text.clone()
    }
}

impl From<char> for Text {
    fn from(c: char) -> Self {
        Self::from(c.encode_utf8(&mut [0; 4]) as &str)
    }
}

impl From<Text> for String {
    fn from(text: Text) -> Self {
        text.into_string()
    }
}

impl std::str::FromStr for Text {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(text))
    }
}

impl FromIterator<char> for Text {
    fn from_iter<I: IntoIterator<Item = char>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<String>())
    }
}

impl<'a> FromIterator<&'a str> for Text {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<String>())
    }
}

impl fmt::Write for Text {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.push_str(text);
        Ok(())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Self) -> Ordering {
        // `str` orders by its bytes.
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Hash for Text {
    /// Hashes as the `str` does, as [`Borrow<str>`] requires.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

macro_rules! eq_with {
    ($($other:ty),+) => {$(
        impl PartialEq<$other> for Text {
            fn eq(&self, other: &$other) -> bool {
                self.as_bytes() == AsRef::<str>::as_ref(other).as_bytes()
            }
        }

        impl PartialEq<Text> for $other {
            fn eq(&self, other: &Text) -> bool {
                AsRef::<str>::as_ref(self).as_bytes() == other.as_bytes()
            }
        }
    )+};
}

eq_with!(str, &str, String, Cow<'_, str>);

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl serde::de::Visitor<'_> for TextVisitor {
            type Value = Text;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Text, E> {
                Ok(Text::from(text))
            }

            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Text, E> {
                Ok(Text::from(text))
            }

            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Text, E> {
                std::str::from_utf8(bytes)
                    .map(Text::from)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Bytes(bytes), &self))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Text {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        <&str>::arbitrary(u).map(Text::from)
    }

    fn size_hint(depth: usize) -> (usize, Option<usize>) {
        <&str as arbitrary::Arbitrary>::size_hint(depth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_the_size_of_a_string_also_as_an_option() {
        assert_eq!(size_of::<Text>(), size_of::<String>());
        assert_eq!(size_of::<Option<Text>>(), size_of::<String>());
    }

    #[test]
    fn short_text_is_inline_and_long_text_on_the_heap() {
        for len in 0..=40 {
            let source = "é".repeat(len / 2) + &"x".repeat(len % 2);
            let text = Text::from(source.as_str());
            assert_eq!(text, source);
            assert_eq!(
                text.is_inline(),
                source.len() <= TEXT_INLINE_CAPACITY,
                "{len}"
            );
            assert_eq!(Text::from(source.clone()), text);
            assert_eq!(text.clone().into_string(), source);
        }
    }

    #[test]
    fn push_str_moves_to_the_heap_when_needed() {
        let mut text = Text::from("0123456789");
        text.push_str("0123456789");
        assert!(text.is_inline());
        text.push_str("0123");
        assert!(!text.is_inline());
        assert_eq!(text, "012345678901234567890123");
        text.push_str("!");
        assert_eq!(text.len(), 25);
    }

    #[test]
    fn from_fmt_writes_inline_when_it_fits() {
        let number = 12;
        let short = Text::from_fmt(format_args!("O record {number}"));
        assert_eq!(short, "O record 12");
        assert!(short.is_inline());
        let long = Text::from_fmt(format_args!("{number} and then some more text after it"));
        assert_eq!(long, "12 and then some more text after it");
        assert_eq!(Text::from_fmt(format_args!("plain")), "plain");
    }

    #[test]
    fn compares_and_hashes_like_str() {
        use std::collections::HashSet;
        let set: HashSet<Text> = ["a", "b"].into_iter().map(Text::from).collect();
        assert!(set.contains("a"));
        assert!("a" < "b");
        assert_eq!("a", Text::from("a"));
        assert_eq!(String::from("a"), Text::from("a"));
    }

    #[test]
    fn serializes_as_a_plain_string() {
        let text: Text = serde_json::from_str(r#""a\nb""#).unwrap();
        assert_eq!(text, "a\nb");
        assert_eq!(serde_json::to_string(&text).unwrap(), r#""a\nb""#);
        let long = "x".repeat(100);
        let text: Text = serde_json::from_str(&format!("\"{long}\"")).unwrap();
        assert_eq!(text, long.as_str());
    }
}
