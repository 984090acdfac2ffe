//! A parsed view kept together with the bytes it borrows.
//!
//! The parsers are zero-copy: `labwire_hl7::Message<'a>` and
//! `labwire_dicom_meta::Header<'a>` borrow their input. A C handle must own both the
//! input and the view of it, which safe Rust cannot express (a self-referential
//! struct). [`Owned`] does it the way `yoke` and `ouroboros` do: the bytes live in a
//! heap allocation held by a raw pointer (so moving the handle never moves or retags
//! them), the view is created from a shared borrow of that allocation and dropped
//! before it, and the view is only ever handed out with a lifetime no longer than a
//! borrow of the `Owned`.

use std::mem::ManuallyDrop;
use std::ptr::NonNull;

/// A family of views borrowing bytes: `View<'a>` borrows an `&'a [u8]`.
pub(crate) trait Borrowing {
    /// The view over bytes that live for `'a`.
    type View<'a>;

    /// Shortens the lifetime of a view. Implemented as the identity, which compiles
    /// only if `View` is covariant in its lifetime: the proof that handing out a
    /// `View<'short>` where a `View<'static>` is stored cannot be used to store a
    /// shorter-lived reference in it.
    fn shorten<'short, 'long: 'short>(
        view: &'short Self::View<'long>,
    ) -> &'short Self::View<'short>;
}

/// Bytes on the heap and a view that borrows them.
pub(crate) struct Owned<B: Borrowing> {
    /// Borrows `*bytes`. Its `'static` is a lie kept private: see [`Owned::view`].
    /// Dropped by hand in `Drop`, before the bytes.
    view: ManuallyDrop<B::View<'static>>,
    /// From `Box::leak`; freed in `Drop`.
    bytes: NonNull<[u8]>,
}

impl<B: Borrowing> Owned<B> {
    /// Moves `bytes` to the heap and parses them. On failure the bytes come back with
    /// the error. `parse` is generic over the lifetime, so neither the view nor the
    /// error can keep a borrow that outlives the `Owned`.
    pub(crate) fn try_new<E>(
        bytes: Vec<u8>,
        parse: impl for<'a> FnOnce(&'a [u8]) -> Result<B::View<'a>, E>,
    ) -> Result<Self, (E, Vec<u8>)> {
        let bytes = NonNull::from(Box::leak(bytes.into_boxed_slice()));
        // SAFETY: `bytes` points to a live allocation that nothing else references and
        // that is only freed after every borrow derived here is gone (in `Drop`, after
        // the view, or below on failure, after `parse` returned without a view).
        let borrowed: &'static [u8] = unsafe { bytes.as_ref() };
        match parse(borrowed) {
            Ok(view) => Ok(Self {
                view: ManuallyDrop::new(view),
                bytes,
            }),
            Err(error) => {
                // SAFETY: the pointer is the one `Box::leak` returned above, and no view
                // exists: `parse` failed, and `E` cannot hold the borrow (it is chosen
                // outside the `for<'a>` bound).
                let boxed = unsafe { Box::from_raw(bytes.as_ptr()) };
                Err((error, boxed.into_vec()))
            }
        }
    }

    /// The view, for as long as `self` is borrowed.
    pub(crate) fn view(&self) -> &B::View<'_> {
        B::shorten(&self.view)
    }
}

impl<B: Borrowing> Drop for Owned<B> {
    fn drop(&mut self) {
        // SAFETY: the view is dropped exactly once, here, and not used afterwards.
        unsafe { ManuallyDrop::drop(&mut self.view) };
        // SAFETY: `bytes` is the pointer `Box::leak` returned in `try_new`; the only
        // borrows of it were in the view, which is gone.
        drop(unsafe { Box::from_raw(self.bytes.as_ptr()) });
    }
}

// SAFETY: an `Owned` owns its bytes exclusively, as a `Box<[u8]>` (which is `Send`)
// would, and the view's borrows point only into them, so moving both to another thread
// together is sound whenever the view itself may move.
unsafe impl<B: Borrowing> Send for Owned<B> where B::View<'static>: Send {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A view that is just the borrowed slice.
    struct Slice;

    impl Borrowing for Slice {
        type View<'a> = (&'a [u8], Vec<&'a [u8]>);

        fn shorten<'short, 'long: 'short>(
            view: &'short Self::View<'long>,
        ) -> &'short Self::View<'short> {
            view
        }
    }

    fn split(bytes: &[u8]) -> Result<(&[u8], Vec<&[u8]>), &'static str> {
        if bytes.is_empty() {
            return Err("empty");
        }
        Ok((bytes, bytes.split(|&b| b == b',').collect()))
    }

    #[test]
    fn the_view_borrows_the_owned_bytes_across_moves() {
        let owned = Owned::<Slice>::try_new(b"a,bc,def".to_vec(), split).unwrap();
        let moved = Box::new(owned);
        let (whole, parts) = moved.view();
        assert_eq!(*whole, b"a,bc,def");
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2], b"def");
        let again = *moved;
        assert_eq!(again.view().1[1], b"bc");
    }

    #[test]
    fn a_failed_parse_gives_the_bytes_back() {
        let Err((error, bytes)) = Owned::<Slice>::try_new(Vec::new(), split) else {
            panic!("an empty input fails");
        };
        assert_eq!(error, "empty");
        assert!(bytes.is_empty());
    }
}
