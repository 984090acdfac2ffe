//! A short ASCII string stored inline, for values with a small hard bound on their
//! length (decimals, LOINC codes): no heap allocation to create, `Copy` to move.

use std::hash::{Hash, Hasher};

/// Up to `N` ASCII bytes, stored inline. `N` must be at most 255.
#[derive(Clone, Copy)]
pub(crate) struct InlineAscii<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

impl<const N: usize> InlineAscii<N> {
    /// An empty string.
    pub(crate) const fn new() -> Self {
        Self {
            len: 0,
            bytes: [0; N],
        }
    }

    /// Copies `text` if it is ASCII and fits.
    pub(crate) fn from_ascii(text: &[u8]) -> Option<Self> {
        if !text.is_ascii() {
            return None;
        }
        let mut out = Self::new();
        out.bytes.get_mut(..text.len())?.copy_from_slice(text);
        out.len = u8::try_from(text.len()).ok()?;
        Some(out)
    }

    /// The concatenation of `pieces` if it is ASCII and fits: one copy per piece.
    pub(crate) fn from_pieces(pieces: &[&[u8]]) -> Option<Self> {
        let mut out = Self::new();
        let mut end = 0usize;
        for piece in pieces {
            let start = end;
            end = start.checked_add(piece.len())?;
            out.bytes.get_mut(start..end)?.copy_from_slice(piece);
        }
        if !out.bytes.get(..end)?.is_ascii() {
            return None;
        }
        out.len = u8::try_from(end).ok()?;
        Some(out)
    }

    /// Appends an ASCII byte; `false` (and no change) when full or not ASCII.
    pub(crate) fn push(&mut self, byte: u8) -> bool {
        let at = usize::from(self.len);
        match self.bytes.get_mut(at) {
            Some(slot) if byte.is_ascii() && at < usize::from(u8::MAX) => {
                *slot = byte;
                self.len += 1;
                true
            }
            _ => false,
        }
    }

    /// The bytes, with no UTF-8 check.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        let used = self.as_bytes();
        // Only ASCII is ever pushed, so this never fails.
        std::str::from_utf8(used).unwrap_or_default()
    }
}

impl<const N: usize> std::fmt::Write for InlineAscii<N> {
    /// Appends ASCII text; an error (with the text partly written) when it does not
    /// fit or is not ASCII.
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        for byte in text.bytes() {
            if !self.push(byte) {
                return Err(std::fmt::Error);
            }
        }
        Ok(())
    }
}

impl<const N: usize> std::fmt::Debug for InlineAscii<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> PartialEq for InlineAscii<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl<const N: usize> Eq for InlineAscii<N> {}

impl<const N: usize> PartialOrd for InlineAscii<N> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<const N: usize> Ord for InlineAscii<N> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl<const N: usize> Hash for InlineAscii<N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_up_to_its_capacity_and_only_ascii() {
        let mut s = InlineAscii::<3>::new();
        assert!(s.push(b'a') && s.push(b'b') && s.push(b'c'));
        assert!(!s.push(b'd'));
        assert_eq!(s.as_str(), "abc");
        assert!(InlineAscii::<3>::from_ascii(b"abcd").is_none());
        assert!(InlineAscii::<8>::from_ascii("é".as_bytes()).is_none());
        assert_eq!(InlineAscii::<8>::from_ascii(b"").unwrap().as_str(), "");
    }

    #[test]
    fn from_pieces_joins_ascii_that_fits() {
        let joined = InlineAscii::<6>::from_pieces(&[b"-", b"12", b".", b"5"]).unwrap();
        assert_eq!(joined.as_str(), "-12.5");
        assert_eq!(InlineAscii::<6>::from_pieces(&[]).unwrap().as_str(), "");
        assert!(InlineAscii::<4>::from_pieces(&[b"123", b"45"]).is_none());
        assert!(InlineAscii::<8>::from_pieces(&["é".as_bytes()]).is_none());
    }

    #[test]
    fn equality_ignores_unused_capacity() {
        let mut a = InlineAscii::<4>::from_ascii(b"ab").unwrap();
        let b = InlineAscii::<4>::from_ascii(b"ab").unwrap();
        assert_eq!(a, b);
        assert!(a.push(b'c'));
        assert_ne!(a, b);
        assert!(b < a);
    }
}
