//! The mechanics of the C boundary: panics caught, pointers checked, errors recorded
//! per handle, outputs kept alive in the handle.
//!
//! Every `extern "C"` function is a thin shell around one of [`call`], [`call_mut`],
//! [`call_ref`], [`new_handle`] or [`free_handle`], which own the `catch_unwind`, the
//! handle pointer check and the last-error bookkeeping; the pointer arguments go
//! through [`out_param`], [`input_bytes`], [`input_text`] and [`copy_out`], which own
//! the NULL checks. The rest of the crate deals in references and [`Failure`]s.

use core::ffi::c_char;
use std::mem::MaybeUninit;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::{LABWIRE_NO_OFFSET, labwire_error, labwire_result};

/// Why a call failed, as `_last_error` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The code the call returns.
    pub(crate) code: labwire_result,
    /// What went wrong.
    pub(crate) message: String,
    /// Where, in the input's terms (or the argument's name).
    pub(crate) location: String,
    /// Byte offset in the input, when known.
    pub(crate) offset: Option<u64>,
}

impl Failure {
    /// A failure with no location.
    pub(crate) fn new(code: labwire_result, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            location: String::new(),
            offset: None,
        }
    }

    /// This failure, located.
    pub(crate) fn at(mut self, location: impl Into<String>) -> Self {
        self.location = location.into();
        self
    }

    /// This failure, at a byte offset.
    pub(crate) fn with_offset(mut self, offset: Option<u64>) -> Self {
        self.offset = offset;
        self
    }

    /// A pointer argument that is NULL.
    pub(crate) fn null(argument: &'static str) -> Self {
        Self::new(
            labwire_result::NullParameter,
            format!("`{argument}` must not be NULL"),
        )
        .at(argument)
    }

    /// An argument out of range.
    pub(crate) fn invalid(argument: &'static str, why: impl Into<String>) -> Self {
        Self::new(labwire_result::InvalidArgument, why).at(argument)
    }
}

/// How a call that did not fail ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Done {
    /// `LABWIRE_RESULT_OK`.
    Ok,
    /// `LABWIRE_RESULT_NEED_MORE`.
    NeedMore,
    /// `LABWIRE_RESULT_PARTIAL`, with what was rejected (kept as the last error).
    Partial(Failure),
}

/// What a call's body returns.
pub(crate) type Outcome = Result<Done, Failure>;

/// An empty C string, for outputs that have never been set.
static EMPTY: [u8; 1] = [0];

/// Bytes owned by a handle and handed to C, always followed by a NUL that is not part
/// of them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct CBuf {
    /// Empty, or the bytes and a NUL.
    bytes: Vec<u8>,
}

impl CBuf {
    /// A buffer holding `data`.
    pub(crate) fn from_bytes(data: &[u8]) -> Self {
        let mut buf = Self::default();
        buf.set(data);
        buf
    }

    /// Replaces the content with `data`.
    pub(crate) fn set(&mut self, data: &[u8]) {
        self.bytes.clear();
        self.bytes.reserve(data.len().saturating_add(1));
        self.bytes.extend_from_slice(data);
        self.bytes.push(0);
    }

    /// Takes `data` as the content without copying it.
    pub(crate) fn set_vec(&mut self, mut data: Vec<u8>) {
        data.push(0);
        self.bytes = data;
    }

    /// Empties the buffer (keeping its allocation).
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
    }

    /// The content, without the NUL.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes
            .split_last()
            .map_or(&[][..], |(_nul, content)| content)
    }

    /// Length of the content.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len().saturating_sub(1)
    }

    /// Pointer to the content, valid while the buffer is neither changed nor dropped.
    pub(crate) fn ptr(&self) -> *const u8 {
        if self.bytes.is_empty() {
            EMPTY.as_ptr()
        } else {
            self.bytes.as_ptr()
        }
    }

    /// [`CBuf::ptr`] as a C string.
    pub(crate) fn c_ptr(&self) -> *const c_char {
        self.ptr().cast()
    }
}

/// A recorded error, in the shape `labwire_error` exposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorRecord {
    code: labwire_result,
    message: CBuf,
    location: CBuf,
    offset: Option<u64>,
}

impl Default for ErrorRecord {
    fn default() -> Self {
        Self {
            code: labwire_result::Ok,
            message: CBuf::default(),
            location: CBuf::default(),
            offset: None,
        }
    }
}

impl ErrorRecord {
    /// The record of `failure`.
    pub(crate) fn from_failure(failure: &Failure) -> Self {
        Self {
            code: failure.code,
            message: CBuf::from_bytes(failure.message.as_bytes()),
            location: CBuf::from_bytes(failure.location.as_bytes()),
            offset: failure.offset,
        }
    }

    /// The C view; its pointers live as long as the record.
    pub(crate) fn to_c(&self) -> labwire_error {
        labwire_error {
            code: self.code,
            message: self.message.c_ptr(),
            message_len: self.message.len(),
            location: self.location.c_ptr(),
            location_len: self.location.len(),
            offset: self.offset.unwrap_or(LABWIRE_NO_OFFSET),
        }
    }
}

/// What the boundary keeps in every handle: its last error, and whether a panic
/// left it in an unknown state.
#[derive(Debug, Default)]
pub(crate) struct Status {
    last_error: ErrorRecord,
    poisoned: bool,
}

impl Status {
    /// The last error, in its C shape.
    pub(crate) fn last_error(&self) -> labwire_error {
        self.last_error.to_c()
    }
}

/// A type behind a C handle.
pub(crate) trait Handle {
    /// The boundary's state in the handle.
    fn status(&self) -> &Status;
    /// The same, mutable.
    fn status_mut(&mut self) -> &mut Status;
}

/// Implements [`Handle`] for a struct with a `status: Status` field.
macro_rules! impl_handle {
    ($handle:ty) => {
        impl $crate::boundary::Handle for $handle {
            fn status(&self) -> &$crate::boundary::Status {
                &self.status
            }
            fn status_mut(&mut self) -> &mut $crate::boundary::Status {
                &mut self.status
            }
        }
    };
}
pub(crate) use impl_handle;

/// The failure recorded in a handle when a panic is caught.
fn panic_failure() -> Failure {
    Failure::new(
        labwire_result::Panic,
        "a panic was caught in labwire (a bug: please report it); this handle can only be freed now",
    )
}

/// The code of an outcome.
fn code_of(outcome: &Outcome) -> labwire_result {
    match outcome {
        Ok(Done::Ok) => labwire_result::Ok,
        Ok(Done::NeedMore) => labwire_result::NeedMore,
        Ok(Done::Partial(_)) => labwire_result::Partial,
        Err(failure) => failure.code,
    }
}

/// Runs a call that takes no handle.
pub(crate) fn call(body: impl FnOnce() -> Outcome) -> labwire_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(outcome) => code_of(&outcome),
        Err(_) => labwire_result::Panic,
    }
}

/// Runs a call on a handle it may change, and records how it ended as the handle's
/// last error. A panic poisons the handle.
///
/// # Safety
/// `handle` is NULL or a pointer returned by the handle's `_new` and not yet freed,
/// which no other thread uses during the call.
pub(crate) unsafe fn call_mut<H: Handle>(
    handle: *mut H,
    body: impl FnOnce(&mut H) -> Outcome,
) -> labwire_result {
    let guarded = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller guarantees `handle` is NULL or valid and not aliased.
        let Some(handle) = (unsafe { handle.as_mut() }) else {
            return labwire_result::NullParameter;
        };
        if handle.status().poisoned {
            return labwire_result::Panic;
        }
        // The body may leave the handle half-updated if it panics: the handle is
        // poisoned then, so that state is never observed.
        let outcome = catch_unwind(AssertUnwindSafe(|| body(&mut *handle)));
        let status = handle.status_mut();
        match outcome {
            Ok(outcome) => {
                let code = code_of(&outcome);
                status.last_error = match &outcome {
                    Ok(Done::Ok | Done::NeedMore) => ErrorRecord::default(),
                    Ok(Done::Partial(failure)) | Err(failure) => ErrorRecord::from_failure(failure),
                };
                code
            }
            Err(_) => {
                status.poisoned = true;
                status.last_error = ErrorRecord::from_failure(&panic_failure());
                labwire_result::Panic
            }
        }
    }));
    guarded.unwrap_or(labwire_result::Panic)
}

/// Runs a read-only call on a handle. It records nothing: a const handle's outputs
/// and last error stay as they were.
///
/// # Safety
/// `handle` is NULL or a pointer returned by the handle's `_new` and not yet freed,
/// which no other thread changes during the call.
pub(crate) unsafe fn call_ref<H: Handle>(
    handle: *const H,
    body: impl FnOnce(&H) -> Outcome,
) -> labwire_result {
    let guarded = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller guarantees `handle` is NULL or valid and not being changed.
        let Some(handle) = (unsafe { handle.as_ref() }) else {
            return labwire_result::NullParameter;
        };
        if handle.status().poisoned {
            return labwire_result::Panic;
        }
        code_of(&body(handle))
    }));
    guarded.unwrap_or(labwire_result::Panic)
}

/// Creates a handle and stores it in `*out` (NULL on failure).
///
/// # Safety
/// `out` is NULL or valid for writing a pointer.
pub(crate) unsafe fn new_handle<H>(
    out: *mut *mut H,
    make: impl FnOnce() -> Result<H, Failure>,
) -> labwire_result {
    call(|| {
        // SAFETY: the caller guarantees `out` is NULL or valid for writes.
        let out = unsafe { out_param(out, "out") }?;
        out.write(std::ptr::null_mut());
        let handle = make()?;
        out.write(Box::into_raw(Box::new(handle)));
        Ok(Done::Ok)
    })
}

/// Frees a handle; NULL is ignored.
///
/// # Safety
/// `handle` is NULL or a pointer returned by the handle's `_new` and not yet freed,
/// which nothing uses during or after the call.
pub(crate) unsafe fn free_handle<H>(handle: *mut H) {
    // A panic in a destructor would leak the rest of the handle, nothing worse; it
    // must not unwind into C.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if !handle.is_null() {
            // SAFETY: the caller guarantees the pointer came from `Box::into_raw` in
            // `new_handle` and is not used again.
            drop(unsafe { Box::from_raw(handle) });
        }
    }));
}

/// An out parameter, checked for NULL.
///
/// # Safety
/// `ptr` is NULL or valid and aligned for writing a `T`, and not otherwise used during
/// the call.
pub(crate) unsafe fn out_param<'a, T>(
    ptr: *mut T,
    name: &'static str,
) -> Result<&'a mut MaybeUninit<T>, Failure> {
    // SAFETY: the caller guarantees validity; `MaybeUninit<T>` has `T`'s layout and
    // accepts uninitialized memory, which a C out parameter may point to.
    unsafe { ptr.cast::<MaybeUninit<T>>().as_mut() }.ok_or_else(|| Failure::null(name))
}

/// A byte input `(ptr, len)`; NULL with length 0 is the empty input.
///
/// # Safety
/// `ptr` is NULL or valid for reading `len` bytes, which nothing changes during the
/// call and which do not belong to a handle the call changes.
pub(crate) unsafe fn input_bytes<'a>(
    ptr: *const u8,
    len: usize,
    name: &'static str,
) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(Failure::null(name))
        };
    }
    if isize::try_from(len).is_err() {
        return Err(Failure::invalid(
            name,
            format!("length {len} is over PTRDIFF_MAX"),
        ));
    }
    // SAFETY: non-NULL, `len` fits `isize`, and the caller guarantees the bytes are
    // readable and unchanged for the call.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A text input `(ptr, len)`: UTF-8, no terminator needed.
///
/// # Safety
/// As [`input_bytes`].
pub(crate) unsafe fn input_text<'a>(
    ptr: *const c_char,
    len: usize,
    name: &'static str,
) -> Result<&'a str, Failure> {
    // SAFETY: forwarded from the caller.
    let bytes = unsafe { input_bytes(ptr.cast::<u8>(), len, name) }?;
    std::str::from_utf8(bytes).map_err(|error| {
        Failure::new(
            labwire_result::InvalidUtf8,
            format!("`{name}` is not UTF-8: {error}"),
        )
        .at(name)
        .with_offset(Some(error.valid_up_to() as u64))
    })
}

/// Copies `value` and a NUL into the caller's buffer `(buf, capacity)`, and writes the
/// length of `value` to `len_out` in every case, so a call with `capacity` 0 (and
/// `buf` NULL) asks for the size.
///
/// # Safety
/// `buf` is NULL or valid for writing `capacity` bytes, not overlapping `value`;
/// `len_out` as [`out_param`].
pub(crate) unsafe fn copy_out(
    value: &[u8],
    buf: *mut u8,
    capacity: usize,
    len_out: *mut usize,
) -> Outcome {
    // SAFETY: forwarded from the caller.
    let len_out = unsafe { out_param(len_out, "len") }?;
    len_out.write(value.len());
    if capacity <= value.len() {
        return Err(Failure::new(
            labwire_result::InsufficientSize,
            format!(
                "the value needs {} bytes and a NUL; the buffer holds {capacity}",
                value.len()
            ),
        )
        .at("buf"));
    }
    if buf.is_null() {
        return Err(Failure::null("buf"));
    }
    // SAFETY: `buf` is valid for `capacity` > `value.len()` bytes and does not overlap
    // `value` (caller guarantee), so the copy and the NUL after it stay inside it.
    unsafe {
        std::ptr::copy_nonoverlapping(value.as_ptr(), buf, value.len());
        buf.add(value.len()).write(0);
    }
    Ok(Done::Ok)
}

/// Writes a `(ptr, len)` output pair from a handle-owned buffer.
pub(crate) fn write_buf(
    buf: &CBuf,
    ptr_out: &mut MaybeUninit<*const u8>,
    len_out: &mut MaybeUninit<usize>,
) {
    ptr_out.write(buf.ptr());
    len_out.write(buf.len());
}

/// [`write_buf`] for text outputs.
pub(crate) fn write_text(
    buf: &CBuf,
    ptr_out: &mut MaybeUninit<*const c_char>,
    len_out: &mut MaybeUninit<usize>,
) {
    ptr_out.write(buf.c_ptr());
    len_out.write(buf.len());
}

/// An enum argument, passed as `uint32_t` and checked against the valid values: an
/// out-of-range value in a Rust enum parameter would be undefined behaviour.
pub(crate) fn enum_arg<T: Copy>(
    value: u32,
    all: &[(u32, T)],
    argument: &'static str,
) -> Result<T, Failure> {
    all.iter()
        .find(|(code, _)| *code == value)
        .map(|(_, item)| *item)
        .ok_or_else(|| Failure::invalid(argument, format!("{value} is not a valid `{argument}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Thing {
        status: Status,
        value: u32,
    }
    impl_handle!(Thing);

    #[test]
    fn a_cbuf_is_nul_terminated_and_empty_by_default() {
        let mut buf = CBuf::default();
        assert_eq!(buf.len(), 0);
        // SAFETY: the pointer of an empty buffer is the static NUL.
        assert_eq!(unsafe { *buf.ptr() }, 0);
        buf.set(b"abc");
        assert_eq!(buf.as_bytes(), b"abc");
        assert_eq!(buf.len(), 3);
        // SAFETY: `ptr` is valid for `len + 1` bytes.
        let with_nul = unsafe { std::slice::from_raw_parts(buf.ptr(), 4) };
        assert_eq!(with_nul, b"abc\0");
        buf.set_vec(b"xy".to_vec());
        assert_eq!(buf.as_bytes(), b"xy");
        buf.clear();
        assert_eq!(buf.as_bytes(), b"");
    }

    /// A `Thing` handle as C holds one: from `Box::into_raw`, used only through the
    /// pointer until it is freed.
    fn thing() -> *mut Thing {
        Box::into_raw(Box::default())
    }

    /// Reads the handle as a const call would.
    fn status(handle: *mut Thing) -> labwire_error {
        // SAFETY: a live handle from `thing()`, not in use.
        unsafe { &*handle }.status.last_error()
    }

    #[test]
    fn failures_are_recorded_and_success_clears_them() {
        let handle = thing();
        // SAFETY: `handle` is a live `Thing` used by this thread only.
        let code = unsafe {
            call_mut(handle, |_| {
                Err(Failure::new(labwire_result::NotFound, "gone").at("here"))
            })
        };
        assert_eq!(code, labwire_result::NotFound);
        let error = status(handle);
        assert_eq!(error.code, labwire_result::NotFound);
        assert_eq!(error.message_len, 4);
        assert_eq!(error.offset, LABWIRE_NO_OFFSET);
        // SAFETY: as above.
        let code = unsafe {
            call_mut(handle, |thing| {
                thing.value = 7;
                Ok(Done::Ok)
            })
        };
        assert_eq!(code, labwire_result::Ok);
        // SAFETY: as above.
        assert_eq!(unsafe { &*handle }.value, 7);
        assert_eq!(status(handle).code, labwire_result::Ok);
        assert_eq!(status(handle).message_len, 0);
        // SAFETY: from `thing()`, freed once.
        unsafe { free_handle(handle) };
    }

    #[test]
    fn a_panic_poisons_the_handle() {
        let handle = thing();
        // SAFETY: `handle` is a live `Thing` used by this thread only.
        let code = unsafe {
            call_mut(handle, |_| -> Outcome {
                std::panic::resume_unwind(Box::new("test"))
            })
        };
        assert_eq!(code, labwire_result::Panic);
        assert_eq!(status(handle).code, labwire_result::Panic);
        // SAFETY: as above.
        let code = unsafe { call_mut(handle, |_| Ok(Done::Ok)) };
        assert_eq!(code, labwire_result::Panic);
        // SAFETY: as above.
        let code = unsafe { call_ref(handle.cast_const(), |_| Ok(Done::Ok)) };
        assert_eq!(code, labwire_result::Panic);
        // SAFETY: from `thing()`, freed once.
        unsafe { free_handle(handle) };
    }

    #[test]
    fn null_handles_and_pointers_are_refused() {
        // SAFETY: NULL is allowed.
        let code = unsafe { call_mut(std::ptr::null_mut::<Thing>(), |_| Ok(Done::Ok)) };
        assert_eq!(code, labwire_result::NullParameter);
        // SAFETY: NULL is allowed.
        let code = unsafe { call_ref(std::ptr::null::<Thing>(), |_| Ok(Done::Ok)) };
        assert_eq!(code, labwire_result::NullParameter);
        // SAFETY: NULL is allowed.
        let empty = unsafe { input_bytes(std::ptr::null(), 0, "x") };
        assert_eq!(empty, Ok(&[][..]));
        // SAFETY: NULL is allowed.
        let error = unsafe { input_bytes(std::ptr::null(), 1, "x") }.unwrap_err();
        assert_eq!(error.code, labwire_result::NullParameter);
        let bytes = b"ok\xff";
        // SAFETY: `bytes` is valid for its length.
        let error = unsafe { input_text(bytes.as_ptr().cast(), 3, "t") }.unwrap_err();
        assert_eq!(error.code, labwire_result::InvalidUtf8);
        assert_eq!(error.offset, Some(2));
        // SAFETY: NULL is allowed.
        let error = unsafe { out_param(std::ptr::null_mut::<usize>(), "n") }.unwrap_err();
        assert_eq!(error.code, labwire_result::NullParameter);
    }

    #[test]
    fn copy_out_reports_the_size_needed() {
        let mut len = 0usize;
        // SAFETY: NULL with capacity 0 is a size query; `len` is valid.
        let outcome = unsafe { copy_out(b"hello", std::ptr::null_mut(), 0, &mut len) };
        assert_eq!(outcome.unwrap_err().code, labwire_result::InsufficientSize);
        assert_eq!(len, 5);
        let mut small = [0u8; 5];
        // SAFETY: `small` is valid for 5 bytes.
        let outcome = unsafe { copy_out(b"hello", small.as_mut_ptr(), 5, &mut len) };
        assert_eq!(outcome.unwrap_err().code, labwire_result::InsufficientSize);
        let mut exact = [1u8; 6];
        // SAFETY: `exact` is valid for 6 bytes.
        let outcome = unsafe { copy_out(b"hello", exact.as_mut_ptr(), 6, &mut len) };
        assert_eq!(outcome, Ok(Done::Ok));
        assert_eq!(exact, *b"hello\0");
        // SAFETY: NULL with a capacity is refused before any write.
        let outcome = unsafe { copy_out(b"hi", std::ptr::null_mut(), 8, &mut len) };
        assert_eq!(outcome.unwrap_err().code, labwire_result::NullParameter);
    }

    #[test]
    fn enum_arguments_are_checked() {
        let all = [(1, 'a'), (2, 'b')];
        assert_eq!(enum_arg(2, &all, "letter"), Ok('b'));
        assert_eq!(
            enum_arg(3, &all, "letter").unwrap_err().code,
            labwire_result::InvalidArgument
        );
    }
}
