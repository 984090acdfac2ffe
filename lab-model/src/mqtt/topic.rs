//! Topic names: MQTT 5's rules plus ours, checked without allocating.

use std::fmt;
use std::sync::Arc;

use serde::{Serialize, Serializer};

/// At most this many levels (AWS IoT Core allows 7 slashes, i.e. 8 levels; we keep
/// one in reserve so a site can prefix its own level without breaking the limit).
pub const MAX_TOPIC_LEVELS: usize = 7;

/// The MQTT 5 limit on a topic name in bytes (a 2-byte length prefix, §1.5.4).
pub const MAX_TOPIC_BYTES: usize = 65_535;

/// Why a topic name, a slug or a topic template was refused.
///
/// `offset` is the byte offset in the checked text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TopicError {
    /// Zero-length names are only legal with a topic alias (MQTT-4.7.3-1).
    #[error("topic name is empty")]
    Empty,
    /// Longer than 65,535 bytes (MQTT-4.7.3-3).
    #[error("topic name is {len} bytes, more than 65535")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// U+0000 (MQTT-4.7.3-2).
    #[error("topic name contains U+0000 at byte {offset}")]
    Nul {
        /// Where.
        offset: usize,
    },
    /// `+` or `#` (MQTT-4.7.0-1, MQTT-3.3.2-2).
    #[error("topic name contains the wildcard {wildcard:?} at byte {offset}")]
    Wildcard {
        /// Where.
        offset: usize,
        /// `+` or `#`.
        wildcard: char,
    },
    /// Starts with `$`, reserved for the broker (MQTT 5 §4.7.2).
    #[error("topic name starts with '$', which is reserved for brokers")]
    DollarPrefix,
    /// Our policy: starts with `/` (a distinct, easily mistyped topic).
    #[error("topic name starts with '/'")]
    LeadingSlash,
    /// Our policy: `//` or a trailing `/`.
    #[error("topic name has an empty level at byte {offset}")]
    EmptyLevel {
        /// Where the empty level starts.
        offset: usize,
    },
    /// Our policy: levels are made of `a-z`, `0-9`, `.`, `_` and `-`.
    #[error("topic name has {found:?} at byte {offset}; levels may only use a-z 0-9 . _ -")]
    Character {
        /// Where.
        offset: usize,
        /// The character found.
        found: char,
    },
    /// Our policy: at most [`MAX_TOPIC_LEVELS`] levels.
    #[error("topic name has {levels} levels, more than {MAX_TOPIC_LEVELS}")]
    TooManyLevels {
        /// How many it has.
        levels: usize,
    },
}

/// A topic name that MQTT 5 accepts and that follows labwire's policy.
///
/// MQTT 5 (§1.5.4, §4.7): UTF-8, no U+0000, 1..=65,535 bytes, no `+` or `#`. Policy:
/// not starting with `$` (brokers reserve it, and some accept it anyway), no leading
/// `/`, no empty level, levels from `[a-z0-9._-]`, at most [`MAX_TOPIC_LEVELS`]
/// levels. The policy is a subset of MQTT 5, so a `TopicName` is valid everywhere.
///
/// Cloning is cheap (a shared string), which lets a mapper keep its topics ready.
///
/// ```
/// use labwire_model::mqtt::{TopicError, TopicName};
///
/// let topic = TopicName::new("lab/v1/site-a/chem/an-01/result")?;
/// assert_eq!(topic.levels().count(), 6);
/// assert_eq!(TopicName::check("lab/+/x"), Err(TopicError::Wildcard { offset: 4, wildcard: '+' }));
/// assert_eq!(TopicName::check("lab//x"), Err(TopicError::EmptyLevel { offset: 4 }));
/// # Ok::<(), TopicError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicName(Arc<str>);

impl TopicName {
    /// Validates `name` and keeps it.
    pub fn new(name: &str) -> Result<Self, TopicError> {
        Self::check(name)?;
        Ok(Self(Arc::from(name)))
    }

    /// Validates `name` without allocating.
    pub fn check(name: &str) -> Result<(), TopicError> {
        // Valid names (all that a mapper builds) are confirmed eight bytes at a
        // time; anything else goes through the byte-wise check, which names the
        // first broken rule.
        if valid_by_words(name.as_bytes()) {
            return Ok(());
        }
        Self::check_bytewise(name)
    }

    /// [`Self::check`] one byte at a time: the rules in order, the first broken
    /// one reported.
    fn check_bytewise(name: &str) -> Result<(), TopicError> {
        if name.is_empty() {
            return Err(TopicError::Empty);
        }
        if name.len() > MAX_TOPIC_BYTES {
            return Err(TopicError::TooLong { len: name.len() });
        }
        if name.starts_with('$') {
            return Err(TopicError::DollarPrefix);
        }
        if name.starts_with('/') {
            return Err(TopicError::LeadingSlash);
        }
        let mut levels = 1usize;
        let mut level_start = 0usize;
        for (offset, byte) in name.bytes().enumerate() {
            match byte {
                b'/' => {
                    if offset == level_start {
                        return Err(TopicError::EmptyLevel { offset });
                    }
                    levels += 1;
                    level_start = offset + 1;
                }
                b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => {}
                _ => return Err(refusal_at(name, offset)),
            }
        }
        if level_start == name.len() {
            return Err(TopicError::EmptyLevel {
                offset: level_start,
            });
        }
        if levels > MAX_TOPIC_LEVELS {
            return Err(TopicError::TooManyLevels { levels });
        }
        Ok(())
    }

    /// The topic name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its levels, in order.
    pub fn levels(&self) -> std::str::Split<'_, char> {
        self.0.split('/')
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const LOWS: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each zero byte of `word`, exactly (no borrow between bytes).
#[inline]
fn zero_bytes(word: u64) -> u64 {
    !(((word & LOWS) + LOWS) | word) & HIGHS
}

/// The high bit of each byte of `word` in `low..=high`; every byte of `word` must
/// be ASCII (below 0x80), so no sum carries into the next byte.
#[inline]
fn bytes_in(word: u64, low: u8, high: u8) -> u64 {
    let at_least_low = word + ONES * u64::from(0x80 - low);
    let above_high = word + ONES * u64::from(0x7f - high);
    at_least_low & !above_high & HIGHS
}

/// Whether `name` passes every rule of [`TopicName::check`], decided eight bytes at
/// a time: ASCII, only `a-z 0-9 . _ - /`, no leading, trailing or doubled `/`, at
/// most [`MAX_TOPIC_LEVELS`] levels. `false` for any name that breaks a rule.
fn valid_by_words(name: &[u8]) -> bool {
    if name.is_empty()
        || name.len() > MAX_TOPIC_BYTES
        || name.first() == Some(&b'/')
        || name.last() == Some(&b'/')
    {
        return false;
    }
    let (words, tail) = name.as_chunks::<8>();
    // The tail padded with a letter, which breaks no rule.
    let mut last = [b'a'; 8];
    if let Some(room) = last.get_mut(..tail.len()) {
        room.copy_from_slice(tail);
    }
    let mut slashes = 0u32;
    let mut after_slash = false;
    for word in words.iter().chain([&last]) {
        let word = u64::from_le_bytes(*word);
        if word & HIGHS != 0 {
            return false;
        }
        // `-` `.` `/` and the digits are 0x2d..=0x39.
        let allowed = bytes_in(word, b'a', b'z')
            | bytes_in(word, b'-', b'9')
            | zero_bytes(word ^ (ONES * u64::from(b'_')));
        let slash = zero_bytes(word ^ (ONES * u64::from(b'/')));
        // A `/` right after a `/`: within the word (the lower byte comes first),
        // or across the word boundary.
        let doubled = (slash & (slash << 8)) != 0 || (after_slash && slash & 0x80 != 0);
        if allowed != HIGHS || doubled {
            return false;
        }
        after_slash = slash >> 63 != 0;
        slashes += slash.count_ones();
    }
    (slashes as usize) < MAX_TOPIC_LEVELS
}

/// Names the MQTT rule a refused byte breaks, most specific first.
fn refusal_at(name: &str, offset: usize) -> TopicError {
    let found = name
        .get(offset..)
        .and_then(|rest| rest.chars().next())
        .unwrap_or(char::REPLACEMENT_CHARACTER);
    match found {
        '\0' => TopicError::Nul { offset },
        '+' | '#' => TopicError::Wildcard {
            offset,
            wildcard: found,
        },
        _ => TopicError::Character { offset, found },
    }
}

impl fmt::Display for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl AsRef<str> for TopicName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for TopicName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// One configured topic level: a site, area, instrument or gateway name.
///
/// `[a-z0-9][a-z0-9._-]*`, at most 64 bytes. The first character may not be `.`,
/// `_` or `-`: `_gw` and other `_` levels are reserved for labwire itself.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(Box<str>);

/// The longest slug, in bytes.
pub const MAX_SLUG_BYTES: usize = 64;

impl Slug {
    /// Validates a slug.
    pub fn new(text: &str) -> Result<Self, TopicError> {
        if text.is_empty() {
            return Err(TopicError::Empty);
        }
        if text.len() > MAX_SLUG_BYTES {
            return Err(TopicError::TooLong { len: text.len() });
        }
        for (offset, byte) in text.bytes().enumerate() {
            let allowed = match byte {
                b'a'..=b'z' | b'0'..=b'9' => true,
                b'.' | b'_' | b'-' => offset > 0,
                _ => false,
            };
            if !allowed {
                return Err(refusal_at(text, offset));
            }
        }
        Ok(Self(text.into()))
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Serialize for Slug {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Slug {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Slug::new(&text).map_err(|error| {
            serde::de::Error::custom(format_args!("invalid slug {text:?}: {error}"))
        })
    }
}

/// A placeholder a topic template may use. The set is closed, and every value comes
/// from configuration: nothing read from an instrument can reach a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placeholder {
    /// `{site}`.
    Site,
    /// `{area}`.
    Area,
    /// `{instrument}`: the configured slug of the instrument.
    Instrument,
    /// `{gateway}`.
    Gateway,
    /// `{kind}`: `result`, `qc`, `status` … (see [`super::topic_kind`]).
    Kind,
}

impl Placeholder {
    /// Every placeholder.
    pub const ALL: [Placeholder; 5] = [
        Placeholder::Site,
        Placeholder::Area,
        Placeholder::Instrument,
        Placeholder::Gateway,
        Placeholder::Kind,
    ];

    /// Its name between braces.
    pub fn name(self) -> &'static str {
        match self {
            Placeholder::Site => "site",
            Placeholder::Area => "area",
            Placeholder::Instrument => "instrument",
            Placeholder::Gateway => "gateway",
            Placeholder::Kind => "kind",
        }
    }
}

/// A piece of a template level.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(Box<str>),
    Value(Placeholder),
}

/// A topic template such as `lab/v1/{site}/{area}/{instrument}/{kind}`.
///
/// A placeholder fills a whole level or part of one (`{instrument}-{kind}`); literal
/// text follows the topic policy. Parsing rejects unknown placeholders, so a typo
/// such as `{specimen}` fails when the configuration is loaded, not at 3 a.m.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicTemplate {
    text: Box<str>,
    pieces: Vec<Piece>,
}

/// The default template for events.
pub const DEFAULT_TOPIC_TEMPLATE: &str = "lab/v1/{site}/{area}/{instrument}/{kind}";

/// The default template for the gateway's liveness topic.
pub const DEFAULT_GATEWAY_TOPIC_TEMPLATE: &str = "lab/v1/{site}/_gw/{gateway}/status";

/// Why a topic template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// `{name}` is not one of [`Placeholder::ALL`].
    #[error(
        "unknown placeholder {{{name}}} at byte {offset}; use site, area, instrument, gateway or kind"
    )]
    UnknownPlaceholder {
        /// Where.
        offset: usize,
        /// The name used.
        name: String,
    },
    /// A `{` without its `}`.
    #[error("unclosed '{{' at byte {offset}")]
    Unclosed {
        /// Where.
        offset: usize,
    },
    /// The template needs this placeholder.
    #[error("the template must contain {{{}}}", .0.name())]
    Missing(Placeholder),
    /// The literal text breaks the topic rules.
    #[error("{0}")]
    Topic(#[from] TopicError),
}

impl TopicTemplate {
    /// Parses a template.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut pieces = Vec::new();
        let mut rest = text;
        let mut offset = 0usize;
        while !rest.is_empty() {
            if let Some(after_brace) = rest.strip_prefix('{') {
                let Some(close) = after_brace.find('}') else {
                    return Err(TemplateError::Unclosed { offset });
                };
                let name = after_brace.get(..close).unwrap_or_default();
                let placeholder = Placeholder::ALL
                    .into_iter()
                    .find(|p| p.name() == name)
                    .ok_or_else(|| TemplateError::UnknownPlaceholder {
                        offset,
                        name: name.to_owned(),
                    })?;
                pieces.push(Piece::Value(placeholder));
                let used = close + 2;
                rest = rest.get(used..).unwrap_or_default();
                offset += used;
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                let literal = rest.get(..end).unwrap_or_default();
                pieces.push(Piece::Literal(literal.into()));
                rest = rest.get(end..).unwrap_or_default();
                offset += end;
            }
        }
        // Check the literal skeleton with every placeholder standing in as `x`: the
        // values are slugs, so this finds every rule a filled template could break
        // except length, which `render` checks.
        let mut skeleton = String::with_capacity(text.len());
        for piece in &pieces {
            match piece {
                Piece::Literal(literal) => skeleton.push_str(literal),
                Piece::Value(_) => skeleton.push('x'),
            }
        }
        TopicName::check(&skeleton).map_err(|error| remap_skeleton_error(error, &pieces))?;
        Ok(Self {
            text: text.into(),
            pieces,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the template uses `placeholder`.
    pub fn uses(&self, placeholder: Placeholder) -> bool {
        self.pieces.contains(&Piece::Value(placeholder))
    }

    /// Fills the template. `value` answers each placeholder.
    pub fn render<'v>(
        &self,
        value: impl Fn(Placeholder) -> &'v str,
    ) -> Result<TopicName, TopicError> {
        let mut topic = String::with_capacity(self.text.len() + 32);
        for piece in &self.pieces {
            match piece {
                Piece::Literal(literal) => topic.push_str(literal),
                Piece::Value(placeholder) => topic.push_str(value(*placeholder)),
            }
        }
        TopicName::check(&topic)?;
        Ok(TopicName(Arc::from(topic)))
    }
}

/// Maps an offset in the skeleton (placeholders as one `x`) back to the template.
fn remap_skeleton_error(error: TopicError, pieces: &[Piece]) -> TopicError {
    let to_template = |skeleton_offset: usize| {
        let (mut skeleton_at, mut template_at) = (0usize, 0usize);
        for piece in pieces {
            let (in_skeleton, in_template) = match piece {
                Piece::Literal(literal) => (literal.len(), literal.len()),
                Piece::Value(p) => (1, p.name().len() + 2),
            };
            if skeleton_offset < skeleton_at + in_skeleton {
                return match piece {
                    Piece::Literal(_) => template_at + (skeleton_offset - skeleton_at),
                    Piece::Value(_) => template_at,
                };
            }
            skeleton_at += in_skeleton;
            template_at += in_template;
        }
        template_at
    };
    match error {
        TopicError::Nul { offset } => TopicError::Nul {
            offset: to_template(offset),
        },
        TopicError::Wildcard { offset, wildcard } => TopicError::Wildcard {
            offset: to_template(offset),
            wildcard,
        },
        TopicError::EmptyLevel { offset } => TopicError::EmptyLevel {
            offset: to_template(offset),
        },
        TopicError::Character { offset, found } => TopicError::Character {
            offset: to_template(offset),
            found,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The word-wise check accepts exactly what the byte-wise one accepts.
        #[test]
        fn the_word_check_agrees_with_the_byte_check(
            name in "[a-c0-9._/+#$ \\-]{0,40}|[a-z/]{0,80}|(lab/[a-z]{1,9}){0,9}|.{0,20}",
        ) {
            proptest::prop_assert_eq!(
                valid_by_words(name.as_bytes()),
                TopicName::check_bytewise(&name).is_ok(),
                "{:?}", name
            );
        }
    }

    #[test]
    fn the_word_check_sees_every_byte_position() {
        for len in 1..=40 {
            let valid = "a".repeat(len);
            assert!(valid_by_words(valid.as_bytes()), "{len}");
            for at in 0..len {
                for bad in [
                    b'+', b'#', b'A', b' ', 0, 0x7f, b'`', b'{', b',', b':', b'@', b'^',
                ] {
                    let mut name = valid.clone().into_bytes();
                    name[at] = bad;
                    assert!(!valid_by_words(&name), "{len} {at} {bad}");
                }
                if at > 0 && at + 1 < len {
                    let mut name = valid.clone().into_bytes();
                    name[at] = b'/';
                    assert!(valid_by_words(&name), "{len} {at}");
                    name[at + 1] = b'/';
                    assert!(!valid_by_words(&name), "{len} {at} //");
                }
            }
        }
        assert!(valid_by_words(b"a/b/c/d/e/f/g"));
        assert!(!valid_by_words(b"a/b/c/d/e/f/g/h"));
        assert!(!valid_by_words("é".as_bytes()));
    }

    #[test]
    fn accepts_the_documented_topics() {
        for topic in [
            "lab/v1/site-a/chem/an-01/result",
            "lab/v1/site-a/_gw/gw-01/status",
            "a",
            "x.y_z-0",
        ] {
            assert_eq!(TopicName::check(topic), Ok(()), "{topic}");
        }
    }

    #[test]
    fn each_mqtt_rule_is_enforced() {
        assert_eq!(TopicName::check(""), Err(TopicError::Empty));
        let long = "a".repeat(MAX_TOPIC_BYTES + 1);
        assert_eq!(
            TopicName::check(&long),
            Err(TopicError::TooLong {
                len: MAX_TOPIC_BYTES + 1
            })
        );
        assert_eq!(
            TopicName::check("lab/\0"),
            Err(TopicError::Nul { offset: 4 })
        );
        assert_eq!(
            TopicName::check("lab/#"),
            Err(TopicError::Wildcard {
                offset: 4,
                wildcard: '#'
            })
        );
        assert_eq!(TopicName::check("$SYS/x"), Err(TopicError::DollarPrefix));
    }

    #[test]
    fn each_policy_rule_is_enforced() {
        assert_eq!(TopicName::check("/lab"), Err(TopicError::LeadingSlash));
        assert_eq!(
            TopicName::check("lab/"),
            Err(TopicError::EmptyLevel { offset: 4 })
        );
        assert_eq!(
            TopicName::check("lab/Chem"),
            Err(TopicError::Character {
                offset: 4,
                found: 'C'
            })
        );
        assert_eq!(
            TopicName::check("lab/é"),
            Err(TopicError::Character {
                offset: 4,
                found: 'é'
            })
        );
        assert_eq!(
            TopicName::check("lab/a b"),
            Err(TopicError::Character {
                offset: 5,
                found: ' '
            })
        );
        assert_eq!(TopicName::check("1/2/3/4/5/6/7"), Ok(()));
        assert_eq!(
            TopicName::check("1/2/3/4/5/6/7/8"),
            Err(TopicError::TooManyLevels { levels: 8 })
        );
    }

    #[test]
    fn slugs_reserve_a_leading_underscore() {
        assert!(Slug::new("chem-01").is_ok());
        assert!(Slug::new("0a").is_ok());
        assert_eq!(
            Slug::new("_gw"),
            Err(TopicError::Character {
                offset: 0,
                found: '_'
            })
        );
        assert_eq!(
            Slug::new("a/b"),
            Err(TopicError::Character {
                offset: 1,
                found: '/'
            })
        );
        assert_eq!(Slug::new(""), Err(TopicError::Empty));
        assert!(Slug::new(&"a".repeat(65)).is_err());
    }

    #[test]
    fn templates_take_only_the_closed_placeholder_set() {
        let template = TopicTemplate::parse(DEFAULT_TOPIC_TEMPLATE).unwrap();
        assert!(template.uses(Placeholder::Kind));
        let topic = template
            .render(|p| match p {
                Placeholder::Site => "site-a",
                Placeholder::Area => "chem",
                Placeholder::Instrument => "an-01",
                Placeholder::Gateway => "gw",
                Placeholder::Kind => "result",
            })
            .unwrap();
        assert_eq!(topic.as_str(), "lab/v1/site-a/chem/an-01/result");

        assert_eq!(
            TopicTemplate::parse("lab/{specimen}/{kind}"),
            Err(TemplateError::UnknownPlaceholder {
                offset: 4,
                name: "specimen".into()
            })
        );
        assert_eq!(
            TopicTemplate::parse("lab/{kind"),
            Err(TemplateError::Unclosed { offset: 4 })
        );
        assert_eq!(
            TopicTemplate::parse("lab/{site}/+/{kind}"),
            Err(TemplateError::Topic(TopicError::Wildcard {
                offset: 11,
                wildcard: '+'
            }))
        );
        assert_eq!(
            TopicTemplate::parse("lab/{site}//{kind}"),
            Err(TemplateError::Topic(TopicError::EmptyLevel { offset: 11 }))
        );
        assert_eq!(
            TopicTemplate::parse("a/b/c/d/e/f/{site}/{kind}"),
            Err(TemplateError::Topic(TopicError::TooManyLevels {
                levels: 8
            }))
        );
        let joined = TopicTemplate::parse("lab/{instrument}-{kind}").unwrap();
        assert_eq!(
            joined.render(|p| p.name()).unwrap().as_str(),
            "lab/instrument-kind"
        );
    }
}
