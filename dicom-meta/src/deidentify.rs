//! De-identification with the Basic Application Level Confidentiality Profile of
//! DICOM PS3.15 Annex E, applied to the attributes a header holds.
//!
//! Every element at every depth whose tag Table E.1-1 lists gets the profile's
//! action: removed (X), emptied (Z), replaced by a dummy value (D), or its UIDs
//! replaced (U) through a caller-given mapping, which must be consistent (the same
//! UID always maps to the same replacement, PS3.15 E.1.1) and should be keyed, so
//! that nobody can recompute it. Private attributes, curves (50xx) and overlay data
//! and comments (60xx,3000/4000) are removed. Patient Identity Removed (0012,0062)
//! and De-identification Method (0012,0063) are added.
//!
//! Compound action codes, which depend on the attribute's type in its IOD, take the
//! most structure-preserving choice (D before Z before X), so the result stays
//! valid whatever the type; `X/Z/U*` sequences are kept and the UIDs inside them
//! replaced.
//!
//! Out of scope: pixel data (burned-in annotations), and whatever follows where the
//! parse stopped ([`Editor::write_file`] appends it unchanged, which can include a
//! trailing Digital Signatures Sequence or padding after the pixel data).
//!
//! ```
//! use labwire_dicom_meta::{deidentify, parse, tags};
//!
//! let bytes = std::fs::read("tests/data/highdicom/sm_image.dcm")?;
//! let header = parse(&bytes)?;
//! let mut next = 0;
//! let editor = deidentify::basic_profile(&header, &mut |_uid: &str| {
//!     next += 1;
//!     format!("2.25.{next}") // use a keyed hash in practice
//! })?;
//! let clean = editor.write_file()?;
//! let clean = parse(&clean)?;
//! assert_eq!(clean.string(tags::PATIENT_NAME), None);
//! assert_eq!(clean.string(tags::CONTAINER_IDENTIFIER).as_deref(), Some("ANONYMIZED"));
//! assert_eq!(clean.string(tags::PATIENT_IDENTITY_REMOVED).as_deref(), Some("YES"));
//! assert_eq!(clean.string(tags::MODALITY).as_deref(), Some("SM"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[rustfmt::skip]
mod profile;

use crate::error::Result;
use crate::header::{DataSet, Element, Header};
use crate::write::{Editor, Value};
use crate::{Tag, Vr, tags};

/// What the profile does with an attribute (PS3.15 E.1.1 action codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// D: replace with a non-zero-length dummy value consistent with the VR.
    Dummy,
    /// Z: replace with a zero-length value.
    Empty,
    /// X: remove.
    Remove,
    /// K: keep (sequences: keep, and apply the profile to their items).
    Keep,
    /// U: replace the UID with another, consistently.
    ReplaceUid,
}

/// The text put in place of text attributes with action D.
pub const DUMMY_TEXT: &str = "ANONYMIZED";

/// The Basic Profile's action for a tag, `None` for attributes the profile keeps.
///
/// ```
/// use labwire_dicom_meta::{deidentify::{action, Action}, tags, Tag};
///
/// assert_eq!(action(tags::PATIENT_NAME), Some(Action::Empty));
/// assert_eq!(action(tags::SOP_INSTANCE_UID), Some(Action::ReplaceUid));
/// assert_eq!(action(tags::CONTAINER_IDENTIFIER), Some(Action::Dummy));
/// assert_eq!(action(Tag::new(0x0029, 0x1010)), Some(Action::Remove)); // private
/// assert_eq!(action(tags::MODALITY), None);
/// ```
#[must_use]
pub fn action(tag: Tag) -> Option<Action> {
    if tag.is_private() {
        return Some(Action::Remove);
    }
    let group = tag.group();
    // Curve data (50xx,xxxx), overlay data and comments (60xx,3000) and (60xx,4000):
    // the repeating groups are even groups 5000-501E and 6000-601E (PS3.5 §7.6).
    if (0x5000..=0x501E).contains(&group) && group.is_multiple_of(2) {
        return Some(Action::Remove);
    }
    if (0x6000..=0x601E).contains(&group)
        && group.is_multiple_of(2)
        && matches!(tag.element(), 0x3000 | 0x4000)
    {
        return Some(Action::Remove);
    }
    profile::BASIC_PROFILE
        .binary_search_by_key(&tag, |(t, _)| *t)
        .ok()
        .and_then(|index| profile::BASIC_PROFILE.get(index))
        .map(|(_, action)| *action)
        .filter(|action| *action != Action::Keep)
}

/// The edits that apply the Basic Profile to a header. `map_uid` gives the
/// replacement of each UID the profile replaces; write the result with
/// [`Editor::write`] or [`Editor::write_file`].
pub fn basic_profile<'h, 'a>(
    header: &'h Header<'a>,
    map_uid: &mut dyn FnMut(&str) -> String,
) -> Result<Editor<'h, 'a>> {
    let mut editor = header.editor();
    for element in header.meta().iter() {
        if action(element.tag()) == Some(Action::ReplaceUid) {
            let value = replace_uids(&element, map_uid)?;
            editor.set_element(&element, value)?;
        }
    }
    // Every data set, depth first, on an explicit stack.
    let mut stack: Vec<DataSet<'h>> = vec![header.data_set()];
    while let Some(data_set) = stack.pop() {
        for element in data_set.iter() {
            match action(element.tag()) {
                Some(Action::Remove) => {
                    editor.remove_element(&element)?;
                }
                Some(Action::Empty) => {
                    editor.set_element(&element, Value::Empty)?;
                }
                Some(Action::Dummy) => {
                    editor.set_element(&element, dummy(&element))?;
                }
                Some(Action::ReplaceUid) => {
                    let value = replace_uids(&element, map_uid)?;
                    editor.set_element(&element, value)?;
                }
                Some(Action::Keep) | None => stack.extend(element.items()),
            }
        }
    }
    editor.set_with_vr(tags::PATIENT_IDENTITY_REMOVED, Vr::CS, Value::text("YES"))?;
    editor.set_with_vr(
        tags::DEIDENTIFICATION_METHOD,
        Vr::LO,
        Value::text("DICOM PS3.15 E.1 Basic Application Level Confidentiality Profile"),
    )?;
    Ok(editor)
}

/// A dummy value consistent with the element's VR (PS3.15 E.1.1, action D). A
/// sequence is emptied: a dummy item would have to invent its content.
fn dummy(element: &Element<'_>) -> Value {
    if element.is_sequence() {
        return Value::Empty;
    }
    let vr = element.effective_vr();
    match vr {
        Vr::DA => Value::text("19000101"),
        Vr::TM => Value::text("000000"),
        Vr::DT => Value::text("19000101000000"),
        Vr::AS => Value::text("000Y"),
        Vr::DS | Vr::IS => Value::text("0"),
        Vr::UR | Vr::UI => Value::Empty,
        _ if vr.is_text() => Value::text(DUMMY_TEXT),
        // Binary values: as many zero bytes as there were.
        _ => Value::Bytes(vec![0; element.raw().len()]),
    }
}

/// Every UID of a UI value replaced through the mapping.
fn replace_uids(element: &Element<'_>, map_uid: &mut dyn FnMut(&str) -> String) -> Result<Value> {
    let strings = element.strings()?;
    let mapped: Vec<String> = strings
        .iter()
        .map(|uid| {
            if uid.is_empty() {
                String::new()
            } else {
                map_uid(uid)
            }
        })
        .collect();
    Ok(Value::Text(mapped.join("\\")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_table_is_sorted_and_resolved() {
        assert!(
            profile::BASIC_PROFILE
                .windows(2)
                .all(|pair| pair[0].0 < pair[1].0)
        );
        assert!(profile::BASIC_PROFILE.len() > 400);
        assert_eq!(action(tags::ACQUISITION_DATE_TIME), Some(Action::Dummy)); // X/Z/D
        assert_eq!(action(tags::ACQUISITION_DATE), Some(Action::Empty)); // X/Z
        assert_eq!(action(tags::REFERENCED_IMAGE_SEQUENCE), None); // X/Z/U*: kept
        assert_eq!(
            action(tags::REFERENCED_SOP_INSTANCE_UID),
            Some(Action::ReplaceUid)
        );
        assert_eq!(
            action(tags::MEDIA_STORAGE_SOP_INSTANCE_UID),
            Some(Action::ReplaceUid)
        );
        assert_eq!(action(Tag::new(0x6002, 0x3000)), Some(Action::Remove));
        assert_eq!(action(Tag::new(0x6002, 0x0010)), None);
        assert_eq!(action(Tag::new(0x5010, 0x0005)), Some(Action::Remove));
        assert_eq!(action(tags::PIXEL_DATA), None);
    }
}
