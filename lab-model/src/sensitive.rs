//! A wrapper that keeps protected health information out of logs.

use std::fmt;

/// A value that identifies a person or can be linked to one: a name, a birth date,
/// a medical record number, an accession number, a specimen barcode.
///
/// `Debug` and `Display` print `<redacted>`, so `tracing::debug!("{event:?}")` or a
/// panic message cannot leak it. Reading the value takes an explicit
/// [`expose`](Sensitive::expose).
///
/// Serialization is transparent (the JSON holds the plain value): the lab event's
/// JSON is a complete record for the integrator's own systems, and what may leave
/// the site is decided by the MQTT mapping's privacy profile, not by this type.
///
/// ```
/// use labwire_model::Sensitive;
///
/// let mrn = Sensitive::new("MRN-0042".to_string());
/// assert_eq!(format!("{mrn} {mrn:?}"), "<redacted> <redacted>");
/// assert_eq!(mrn.expose(), "MRN-0042");
/// assert_eq!(serde_json::to_string(&mrn).unwrap(), "\"MRN-0042\"");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    /// Wraps a value.
    #[must_use]
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// Borrows the protected value. Call sites are where PHI leaves the wrapper;
    /// keep them few and obvious.
    #[must_use]
    pub const fn expose(&self) -> &T {
        &self.0
    }

    /// Borrows the protected value mutably.
    #[must_use]
    pub fn expose_mut(&mut self) -> &mut T {
        &mut self.0
    }

    /// Unwraps the protected value.
    #[must_use]
    pub fn into_inner(self) -> T {
        self.0
    }

    /// Transforms the protected value, keeping it protected.
    #[must_use]
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Sensitive<U> {
        Sensitive(f(self.0))
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(feature = "arbitrary")]
impl<'a, T: arbitrary::Arbitrary<'a>> arbitrary::Arbitrary<'a> for Sensitive<T> {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        T::arbitrary(u).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact_even_when_nested() {
        let name = Sensitive::new(String::from("Doe^Jane"));
        let nested = Some(vec![name.clone()]);
        let printed = format!("{name} {name:?} {name:#?} {nested:?}");
        assert!(!printed.contains("Doe"), "{printed}");
        assert_eq!(
            printed,
            "<redacted> <redacted> <redacted> Some([<redacted>])"
        );
    }

    #[test]
    fn access_is_explicit() {
        let mut id = Sensitive::from(String::from("A1"));
        id.expose_mut().push('2');
        assert_eq!(id.expose(), "A12");
        let len = id.clone().map(|s| s.len());
        assert_eq!(*len.expose(), 3);
        assert_eq!(id.into_inner(), "A12");
    }

    #[test]
    fn json_is_transparent() {
        let id = Sensitive::new(42_u32);
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(serde_json::from_str::<Sensitive<u32>>("42").unwrap(), id);
    }
}
