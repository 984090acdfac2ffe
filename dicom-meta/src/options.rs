//! Parse options and resource limits.

use crate::Tag;

/// Resource limits of a parse. Every limit holds whatever the input declares, so a
/// few hundred hostile bytes cannot make the parser allocate or work in proportion
/// to a length or count they claim.
///
/// Memory used by a parse is bounded by the input, about 32 bytes per element (at
/// most [`max_elements`](Self::max_elements)), a stack of at most twice
/// [`max_depth`](Self::max_depth) frames, the warnings and, for deflated data sets,
/// [`max_inflated_len`](Self::max_inflated_len).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Limits {
    /// Values longer than this many bytes are not read. Tolerant mode keeps the
    /// element in the index without its value (accessors fail with
    /// [`Error::ValueTooLarge`](crate::Error::ValueTooLarge)) and warns; strict mode
    /// fails. Default 16 MiB.
    pub max_value_len: u32,
    /// Maximum nesting of sequences. Default 64; the walk uses an explicit stack, so
    /// the limit protects the index size, not the native stack.
    pub max_depth: u32,
    /// Maximum number of elements and items indexed. Default 500,000 (at most 16 MB of
    /// index; real headers have hundreds, a tiled slide's per-frame functional groups
    /// tens of thousands).
    pub max_elements: u32,
    /// Maximum size of an inflated deflated data set. A stream that inflates to more
    /// is cut there (the header usually fits) with a warning. Default 16 MiB.
    pub max_inflated_len: u64,
    /// Maximum number of warnings kept; later ones are only counted. Default 64.
    pub max_warnings: u32,
}

impl Limits {
    /// Sets [`max_value_len`](Self::max_value_len).
    #[must_use]
    pub fn with_max_value_len(mut self, bytes: u32) -> Self {
        self.max_value_len = bytes;
        self
    }

    /// Sets [`max_depth`](Self::max_depth).
    #[must_use]
    pub fn with_max_depth(mut self, depth: u32) -> Self {
        self.max_depth = depth;
        self
    }

    /// Sets [`max_elements`](Self::max_elements).
    #[must_use]
    pub fn with_max_elements(mut self, elements: u32) -> Self {
        self.max_elements = elements;
        self
    }

    /// Sets [`max_inflated_len`](Self::max_inflated_len).
    #[must_use]
    pub fn with_max_inflated_len(mut self, bytes: u64) -> Self {
        self.max_inflated_len = bytes;
        self
    }

    /// Sets [`max_warnings`](Self::max_warnings).
    #[must_use]
    pub fn with_max_warnings(mut self, warnings: u32) -> Self {
        self.max_warnings = warnings;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_value_len: 16 << 20,
            max_depth: 64,
            max_elements: 500_000,
            max_inflated_len: 16 << 20,
            max_warnings: 64,
        }
    }
}

/// How to parse: where to stop, what to skip, how strict to be, and the [`Limits`].
///
/// The default reads the preamble, the file meta information and every element of
/// the data set up to top-level pixel data, accepting the deviations real devices
/// produce (each reported as a [`Warning`](crate::Warning)).
///
/// ```
/// use labwire_dicom_meta::{Limits, ParseOptions, tags};
///
/// let options = ParseOptions::default()
///     .stop_before(tags::PIXEL_DATA)
///     .skip_values_larger_than(64 * 1024)
///     .with_limits(Limits::default().with_max_depth(16));
/// assert!(!options.strict);
/// assert!(ParseOptions::strict().strict);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Stop before top-level Float Pixel Data (7FE0,0008), Double Float Pixel Data
    /// (7FE0,0009) and Pixel Data (7FE0,0010). Pixel data nested in a sequence (an
    /// Icon Image Sequence) never stops the parse. Default `true`.
    pub stop_at_pixel_data: bool,
    /// Stop before the first top-level element whose tag is at or after this one.
    /// Default `None`.
    pub stop_before: Option<Tag>,
    /// Index, but neither read nor descend into, values longer than this many bytes
    /// (a per-frame functional groups sequence of a tiled slide, overlay data). Only
    /// values of defined length can be skipped. Default `None`.
    pub skip_values_larger_than: Option<u32>,
    /// Fail on every deviation from the standard that tolerant mode reports as a
    /// warning, and on every structural error instead of returning a partial header.
    /// Default `false`.
    pub strict: bool,
    /// Resource limits.
    pub limits: Limits,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self {
            stop_at_pixel_data: true,
            stop_before: None,
            skip_values_larger_than: None,
            strict: false,
            limits: Limits::default(),
        }
    }
}

impl ParseOptions {
    /// Defaults, but strict: any deviation from the standard fails the parse.
    #[must_use]
    pub fn strict() -> Self {
        Self {
            strict: true,
            ..Self::default()
        }
    }

    /// Stops before the first top-level element at or after `tag`.
    #[must_use]
    pub fn stop_before(mut self, tag: Tag) -> Self {
        self.stop_before = Some(tag);
        self
    }

    /// Reads past top-level pixel data (to index what follows it).
    #[must_use]
    pub fn read_pixel_data(mut self) -> Self {
        self.stop_at_pixel_data = false;
        self
    }

    /// Indexes values longer than `len` bytes without reading them.
    #[must_use]
    pub fn skip_values_larger_than(mut self, len: u32) -> Self {
        self.skip_values_larger_than = Some(len);
        self
    }

    /// Replaces the limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}
