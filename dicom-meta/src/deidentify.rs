//! De-identification with the Basic Application Level Confidentiality Profile of
//! DICOM PS3.15 Annex E, and its retain options, applied to the attributes a header
//! holds.
//!
//! Every element at every depth whose tag Table E.1-1 lists gets the profile's
//! action: removed (X), emptied (Z), replaced by a dummy value (D), or its UIDs
//! replaced (U) through a caller-given mapping, which must be consistent (the same
//! UID always maps to the same replacement, PS3.15 E.1.1) and should be keyed, so
//! that nobody can recompute it. Private attributes, curves (50xx) and overlay data
//! and comments (60xx,3000/4000) are removed. Patient Identity Removed (0012,0062),
//! De-identification Method (0012,0063) and De-identification Method Code Sequence
//! (0012,0064, CID 7050: the profile and one item per option used) are added.
//!
//! Compound action codes, which depend on the attribute's type in its IOD, take the
//! most structure-preserving choice (D before Z before X), so the result stays
//! valid whatever the type; `X/Z/U*` sequences are kept and the UIDs inside them
//! replaced.
//!
//! [`Options`] selects the options of PS3.15 E.3 that a header-level tool can honour:
//! each keeps (or, for modified dates, shifts) the attributes its column of Table
//! E.1-1 marks, and nothing else. See [`Options`] for the columns and what is not
//! offered (the options that need the pixel data, free-text analysis or the
//! structured content's meaning).
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
//!
//!
//! // With options: UIDs and the device's identity kept, dates moved back 30 days.
//! let options = deidentify::Options::default()
//!     .retain_uids()
//!     .retain_device_identity()
//!     .with_dates(deidentify::Dates::Modified { offset_days: -30 });
//! let editor = deidentify::with_options(&header, &options, &mut |uid: &str| unreachable!())?;
//! let clean = editor.write_file()?;
//! let clean = parse(&clean)?;
//! assert_eq!(clean.string(tags::STUDY_INSTANCE_UID), header.string(tags::STUDY_INSTANCE_UID));
//! assert_eq!(clean.string(tags::DEVICE_SERIAL_NUMBER).as_deref(), Some("abcd"));
//! assert_eq!(clean.string(tags::STUDY_DATE).as_deref(), Some("20190505")); // was 20190604
//! assert_eq!(clean.string(tags::STUDY_TIME).as_deref(), Some("101000"));
//! assert_eq!(clean.string(tags::PATIENT_BIRTH_DATE), None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[rustfmt::skip]
mod profile;

use profile::opt;

use crate::error::Result;
use crate::header::{DataSet, Element, Header};
use crate::write::{Editor, Item, Value};
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
    /// C of the Retain Longitudinal Temporal Information with Modified Dates Option:
    /// shift the dates (DA, and the date of DT) by [`Dates::Modified`]'s offset.
    ModifyDates,
    /// C of the Clean Descriptors Option: replace the text with what the caller's
    /// [`Options::clean_descriptors`] makes of it.
    Clean,
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

/// The action for a standard tag under `options`: the Basic Profile's, or
/// [`Action::Keep`], [`Action::ModifyDates`] or [`Action::Clean`] where an option's
/// column of Table E.1-1 says so. `None` for attributes the profile keeps anyway.
///
/// Private tags give [`Action::Remove`]: whether one is kept under
/// [`Options::safe_private`] depends on its private creator, which
/// [`with_options`] reads from the header.
///
/// ```
/// use labwire_dicom_meta::deidentify::{action_with, Action, Dates, Options};
/// use labwire_dicom_meta::tags;
///
/// let options = Options::default().retain_uids().with_dates(Dates::Full);
/// assert_eq!(action_with(tags::SOP_INSTANCE_UID, &options), Some(Action::Keep));
/// assert_eq!(action_with(tags::STUDY_DATE, &options), Some(Action::Keep));
/// assert_eq!(action_with(tags::PATIENT_BIRTH_DATE, &options), Some(Action::Empty));
/// ```
#[must_use]
pub fn action_with(tag: Tag, options: &Options) -> Option<Action> {
    let basic = action(tag)?;
    if tag.is_private() {
        return Some(basic);
    }
    let flags = option_flags(tag);
    let retained = (options.uids && flags & opt::RETAIN_UIDS != 0)
        || (options.device_identity && flags & opt::RETAIN_DEVICE != 0)
        || (options.institution_identity && flags & opt::RETAIN_INSTITUTION != 0)
        || (options.patient_characteristics && flags & opt::RETAIN_PATIENT != 0)
        || (options.dates == Dates::Full && flags & opt::RETAIN_FULL_DATES != 0);
    if retained {
        return Some(Action::Keep);
    }
    if matches!(options.dates, Dates::Modified { .. }) && flags & opt::MODIFY_DATES != 0 {
        return Some(Action::ModifyDates);
    }
    if options.clean_descriptors.is_some() && flags & opt::CLEAN_DESCRIPTOR != 0 {
        return Some(Action::Clean);
    }
    Some(basic)
}

/// The option flags of a tag in Table E.1-1, 0 if it has none.
fn option_flags(tag: Tag) -> u16 {
    profile::OPTIONS
        .binary_search_by_key(&tag, |(t, _)| *t)
        .ok()
        .and_then(|index| profile::OPTIONS.get(index))
        .map_or(0, |(_, flags)| *flags)
}

/// What to do with the dates and times the Basic Profile removes: the two Retain
/// Longitudinal Temporal Information options of PS3.15 E.3.6 (Table E.1-1 columns
/// "Rtn. Long. Full Dates Opt." and "Rtn. Long. Modif. Dates Opt.").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Dates {
    /// The Basic Profile's actions (no option).
    #[default]
    Remove,
    /// Retain Longitudinal Temporal Information with Full Dates Option (DCM 113106):
    /// every attribute the column marks K (study, series, acquisition, content dates
    /// and times, date-times of procedure steps, treatments …, the timezone offset)
    /// is kept as it is. Longitudinal Temporal Information Modified (0028,0303) is set
    /// to `UNMODIFIED`.
    Full,
    /// Retain Longitudinal Temporal Information with Modified Dates Option (DCM
    /// 113107): the same attributes (the column marks them C) are kept with every DA
    /// value, and the date of every DT value, moved by `offset_days` days, so the
    /// intervals between them stay true. Times (TM, and the time of a DT) and the
    /// timezone offset are kept: a shift by whole days does not change them. A value
    /// that is not a full date (`YYYYMMDD`) gets the Basic Profile's action.
    /// Longitudinal Temporal Information Modified (0028,0303) is set to `MODIFIED`.
    Modified {
        /// Days added to every date (negative: earlier). Use one offset per patient,
        /// kept secret, as PS3.15 E.3.6 asks.
        offset_days: i32,
    },
}

/// A private data element the caller knows to be safe (PS3.15 E.3.10, Table
/// E.3.10-1 lists some): the element `element` of the block its private creator
/// `creator` reserved in `group` (PS3.5 §7.8.1), wherever the block is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SafePrivate {
    /// The odd group.
    pub group: u16,
    /// The private creator's value, as in (gggg,00xx).
    pub creator: String,
    /// The element's number within its block: the low byte of its element number.
    pub element: u8,
}

/// Options of PS3.15 E.3 applied on top of the Basic Profile, each a column of Table
/// E.1-1. Only the options a header-level tool can honour are offered: each one
/// keeps (or cleans) exactly the attributes its column marks, and adds its code to
/// De-identification Method Code Sequence (0012,0064).
///
/// | option | code (CID 7050) | what it keeps |
/// |---|---|---|
/// | [`dates`](Self::dates) = [`Dates::Full`] | 113106 | dates, times and date-times (column K) as they are |
/// | [`dates`](Self::dates) = [`Dates::Modified`] | 113107 | the same, dates shifted by a fixed number of days |
/// | [`patient_characteristics`](Self::patient_characteristics) | 113108 | Patient's Sex, Age, Size, Weight, Sex Neutered, Ethnic Group, Smoking Status, Pregnancy Status (column K) |
/// | [`device_identity`](Self::device_identity) | 113109 | Device Serial Number, Station Name, Device UID, detector, gantry, plate, cassette, lens, source and transducer identifiers, UDI, station AE titles (column K) |
/// | [`uids`](Self::uids) | 113110 | every UID the profile replaces (column K), and the reference sequences holding them |
/// | [`safe_private`](Self::safe_private) | 113111 | the listed private elements and their private creators |
/// | [`institution_identity`](Self::institution_identity) | 113112 | Institution Name, Address, Code Sequence, Department Name and Type, clinical trial site and coordinating center (column K) |
/// | [`clean_descriptors`](Self::clean_descriptors) | 113105 | descriptions and comments (column C), replaced by the caller's cleaned text |
///
/// Cells marked C that need understanding the value are not cleaned but get the
/// Basic Profile's action, which keeps less than the option allows: the Retain
/// Patient Characteristics column's Allergies, Patient State, Pre-Medication and
/// Special Needs (unless Clean Descriptors cleans the first two), and sequences of
/// the Clean Descriptors column. Not offered: Clean Pixel Data, Clean Recognizable
/// Visual Features, Clean Graphics and Clean Structured Content (113101–113104),
/// which need the pixel data or the meaning of the content.
///
/// ```
/// use labwire_dicom_meta::deidentify::{Dates, Options, SafePrivate};
///
/// let options = Options::default()
///     .retain_patient_characteristics()
///     .retain_institution_identity()
///     .with_dates(Dates::Full)
///     .retain_safe_private(SafePrivate {
///         group: 0x0029,
///         creator: "SIEMENS CSA HEADER".into(),
///         element: 0x08,
///     });
/// assert!(options.patient_characteristics && !options.uids);
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Options {
    /// The Retain Longitudinal Temporal Information options. Default
    /// [`Dates::Remove`].
    pub dates: Dates,
    /// Retain Patient Characteristics Option (DCM 113108). Default `false`.
    pub patient_characteristics: bool,
    /// Retain Device Identity Option (DCM 113109). Default `false`.
    pub device_identity: bool,
    /// Retain UIDs Option (DCM 113110): no UID is replaced, so `map_uid` is not
    /// called for the attributes the column marks K. Default `false`.
    pub uids: bool,
    /// Retain Safe Private Option (DCM 113111) when not empty: these private
    /// elements are kept (sequences with their items, to which the profile applies),
    /// and the private creators that reserve their blocks. Every other private
    /// element is removed. Default empty.
    pub safe_private: Vec<SafePrivate>,
    /// Retain Institution Identity Option (DCM 113112). Default `false`.
    pub institution_identity: bool,
    /// Clean Descriptors Option (DCM 113105) when set: the text elements the column
    /// marks C (descriptions, comments, labels, protocol names …) are replaced by
    /// what this function returns for each of their values; it must return text
    /// without identifying information (PS3.15 E.3.5). Sequences the column marks
    /// keep the Basic Profile's action. Default `None`.
    pub clean_descriptors: Option<fn(Tag, &str) -> String>,
}

impl Options {
    /// Sets [`dates`](Self::dates).
    #[must_use]
    pub fn with_dates(mut self, dates: Dates) -> Self {
        self.dates = dates;
        self
    }

    /// Sets [`patient_characteristics`](Self::patient_characteristics).
    #[must_use]
    pub fn retain_patient_characteristics(mut self) -> Self {
        self.patient_characteristics = true;
        self
    }

    /// Sets [`device_identity`](Self::device_identity).
    #[must_use]
    pub fn retain_device_identity(mut self) -> Self {
        self.device_identity = true;
        self
    }

    /// Sets [`uids`](Self::uids).
    #[must_use]
    pub fn retain_uids(mut self) -> Self {
        self.uids = true;
        self
    }

    /// Adds an element to [`safe_private`](Self::safe_private).
    #[must_use]
    pub fn retain_safe_private(mut self, element: SafePrivate) -> Self {
        self.safe_private.push(element);
        self
    }

    /// Sets [`institution_identity`](Self::institution_identity).
    #[must_use]
    pub fn retain_institution_identity(mut self) -> Self {
        self.institution_identity = true;
        self
    }

    /// Sets [`clean_descriptors`](Self::clean_descriptors).
    #[must_use]
    pub fn clean_descriptors(mut self, clean: fn(Tag, &str) -> String) -> Self {
        self.clean_descriptors = Some(clean);
        self
    }

    /// The De-identification Method codes (CID 7050) of the profile and the options
    /// used, as (code value, code meaning), the profile first.
    #[must_use]
    pub fn method_codes(&self) -> Vec<(&'static str, &'static str)> {
        let mut codes = vec![("113100", "Basic Application Confidentiality Profile")];
        if self.clean_descriptors.is_some() {
            codes.push(("113105", "Clean Descriptors Option"));
        }
        match self.dates {
            Dates::Remove => {}
            Dates::Full => codes.push((
                "113106",
                "Retain Longitudinal Temporal Information Full Dates Option",
            )),
            Dates::Modified { .. } => codes.push((
                "113107",
                "Retain Longitudinal Temporal Information Modified Dates Option",
            )),
        }
        if self.patient_characteristics {
            codes.push(("113108", "Retain Patient Characteristics Option"));
        }
        if self.device_identity {
            codes.push(("113109", "Retain Device Identity Option"));
        }
        if self.uids {
            codes.push(("113110", "Retain UIDs Option"));
        }
        if !self.safe_private.is_empty() {
            codes.push(("113111", "Retain Safe Private Option"));
        }
        if self.institution_identity {
            codes.push(("113112", "Retain Institution Identity Option"));
        }
        codes
    }
}

/// The edits that apply the Basic Profile to a header. `map_uid` gives the
/// replacement of each UID the profile replaces; write the result with
/// [`Editor::write`] or [`Editor::write_file`].
pub fn basic_profile<'h, 'a>(
    header: &'h Header<'a>,
    map_uid: &mut dyn FnMut(&str) -> String,
) -> Result<Editor<'h, 'a>> {
    with_options(header, &Options::default(), map_uid)
}

/// The edits that apply the Basic Profile with `options` to a header. `map_uid`
/// gives the replacement of each UID the profile replaces.
pub fn with_options<'h, 'a>(
    header: &'h Header<'a>,
    options: &Options,
    map_uid: &mut dyn FnMut(&str) -> String,
) -> Result<Editor<'h, 'a>> {
    let mut editor = header.editor();
    for element in header.meta().iter() {
        if action_with(element.tag(), options) == Some(Action::ReplaceUid) {
            let value = replace_uids(&element, map_uid)?;
            editor.set_element(&element, value)?;
        }
    }
    // Every data set, depth first, on an explicit stack.
    let mut stack: Vec<DataSet<'h>> = vec![header.data_set()];
    while let Some(data_set) = stack.pop() {
        for element in data_set.iter() {
            let tag = element.tag();
            let decided = if tag.is_private() && is_safe_private(&element, options) {
                None
            } else {
                action_with(tag, options)
            };
            match decided {
                Some(Action::ModifyDates) => {
                    let offset = match options.dates {
                        Dates::Modified { offset_days } => offset_days,
                        Dates::Remove | Dates::Full => 0,
                    };
                    match shifted_dates(&element, offset) {
                        Shifted::Value(value) => {
                            editor.set_element(&element, value)?;
                        }
                        Shifted::Unchanged => {}
                        Shifted::NotADate => {
                            apply(&mut editor, &element, action(tag), map_uid)?;
                        }
                    }
                }
                Some(Action::Clean) => match (options.clean_descriptors, element.strings()) {
                    (Some(clean), Ok(values)) if !element.is_sequence() => {
                        let cleaned: Vec<String> =
                            values.iter().map(|value| clean(tag, value)).collect();
                        editor.set_element(&element, Value::Text(cleaned.join("\\")))?;
                    }
                    _ => apply(&mut editor, &element, action(tag), map_uid)?,
                },
                Some(Action::Keep) | None => stack.extend(element.items()),
                basic => apply(&mut editor, &element, basic, map_uid)?,
            }
        }
    }
    editor.set_with_vr(tags::PATIENT_IDENTITY_REMOVED, Vr::CS, Value::text("YES"))?;
    let codes = options.method_codes();
    let meanings: Vec<&str> = codes.iter().map(|(_, meaning)| *meaning).collect();
    // LO, VM 1-n: one value per method, each within the 64 characters of LO.
    editor.set_with_vr(
        tags::DEIDENTIFICATION_METHOD,
        Vr::LO,
        Value::text(meanings.join("\\")),
    )?;
    let items = codes
        .iter()
        .map(|(code, meaning)| Item {
            elements: vec![
                (tags::CODE_VALUE, Vr::SH, Value::text(*code)),
                (tags::CODING_SCHEME_DESIGNATOR, Vr::SH, Value::text("DCM")),
                (tags::CODE_MEANING, Vr::LO, Value::text(*meaning)),
            ],
        })
        .collect();
    editor.set_with_vr(
        tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE,
        Vr::SQ,
        Value::Sequence(items),
    )?;
    // PS3.3 C.7.6.1: whether the dates of the instance were modified.
    let longitudinal = match options.dates {
        Dates::Remove => None,
        Dates::Full => Some("UNMODIFIED"),
        Dates::Modified { .. } => Some("MODIFIED"),
    };
    if let Some(state) = longitudinal {
        editor.set_with_vr(
            tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED,
            Vr::CS,
            Value::text(state),
        )?;
    }
    Ok(editor)
}

/// Applies a Basic Profile action to an element.
fn apply(
    editor: &mut Editor<'_, '_>,
    element: &Element<'_>,
    action: Option<Action>,
    map_uid: &mut dyn FnMut(&str) -> String,
) -> Result<()> {
    match action {
        Some(Action::Remove) => {
            editor.remove_element(element)?;
        }
        Some(Action::Empty) => {
            editor.set_element(element, Value::Empty)?;
        }
        Some(Action::Dummy) => {
            editor.set_element(element, dummy(element))?;
        }
        Some(Action::ReplaceUid) => {
            let value = replace_uids(element, map_uid)?;
            editor.set_element(element, value)?;
        }
        Some(Action::Keep | Action::ModifyDates | Action::Clean) | None => {}
    }
    Ok(())
}

/// True for a private element kept by [`Options::safe_private`], or the private
/// creator of a block that holds one (PS3.5 §7.8.1).
fn is_safe_private(element: &Element<'_>, options: &Options) -> bool {
    let tag = element.tag();
    if tag.is_private_creator() {
        let Ok(creator) = element.first_string() else {
            return false;
        };
        return options
            .safe_private
            .iter()
            .any(|safe| safe.group == tag.group() && safe.creator == creator);
    }
    let Some(creator) = element.private_creator() else {
        return false;
    };
    let [_, offset] = tag.element().to_be_bytes();
    options
        .safe_private
        .iter()
        .any(|safe| safe.group == tag.group() && safe.element == offset && safe.creator == creator)
}

/// The outcome of shifting the dates of an element.
enum Shifted {
    /// The element with its dates moved.
    Value(Value),
    /// Nothing to shift (times, the timezone offset, empty values).
    Unchanged,
    /// A value that is not a full date: the Basic Profile applies.
    NotADate,
}

/// The element with every DA value, and the date of every DT value, moved by
/// `offset_days` (PS3.15 E.3.6); TM and other VRs are unchanged by a whole-day
/// shift.
fn shifted_dates(element: &Element<'_>, offset_days: i32) -> Shifted {
    let vr = element.effective_vr();
    if element.is_sequence() || !matches!(vr, Vr::DA | Vr::DT) {
        return Shifted::Unchanged;
    }
    let Ok(values) = element.strings() else {
        return Shifted::NotADate;
    };
    let mut shifted = Vec::with_capacity(values.len());
    for value in values.iter() {
        if value.is_empty() {
            shifted.push(String::new());
            continue;
        }
        let (date, rest) = value.split_at_checked(8).unwrap_or((value, ""));
        if vr == Vr::DA && !rest.is_empty() {
            return Shifted::NotADate;
        }
        let Some(moved) = shift_date(date, offset_days) else {
            return Shifted::NotADate;
        };
        shifted.push(format!("{moved}{rest}"));
    }
    Shifted::Value(Value::Text(shifted.join("\\")))
}

/// `YYYYMMDD` moved by `days`, `None` if it is not a valid date of years 1-9999 or
/// leaves them.
fn shift_date(date: &str, days: i32) -> Option<String> {
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i64 = date.get(..4)?.parse().ok()?;
    let month: u32 = date.get(4..6)?.parse().ok()?;
    let day: u32 = date.get(6..)?.parse().ok()?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let moved = days_from_civil(year, month, day).checked_add(i64::from(days))?;
    let (year, month, day) = civil_from_days(moved);
    (1..=9999)
        .contains(&year)
        .then(|| format!("{year:04}{month:02}{day:02}"))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`); the inputs are checked, the arithmetic cannot overflow.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`); the
/// count is a valid date moved by at most 2³¹ days, far from overflowing `i64`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = u32::try_from(day_of_year - (153 * month_index + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    })
    .unwrap_or(1);
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
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

    #[test]
    fn option_table_is_sorted_and_only_names_profile_rows() {
        assert!(
            profile::OPTIONS
                .windows(2)
                .all(|pair| pair[0].0 < pair[1].0)
        );
        assert!(profile::OPTIONS.iter().all(|(tag, flags)| {
            *flags != 0
                && profile::BASIC_PROFILE
                    .binary_search_by_key(tag, |(t, _)| *t)
                    .is_ok()
        }));
        assert_eq!(
            option_flags(tags::DEVICE_UID),
            opt::RETAIN_UIDS | opt::RETAIN_DEVICE
        );
        assert_eq!(option_flags(tags::PATIENT_NAME), 0);
    }

    #[test]
    fn dates_shift_across_months_years_and_leap_days() {
        assert_eq!(shift_date("20190604", -30).as_deref(), Some("20190505"));
        assert_eq!(shift_date("20200228", 1).as_deref(), Some("20200229"));
        assert_eq!(shift_date("20200229", 1).as_deref(), Some("20200301"));
        assert_eq!(shift_date("19000228", 1).as_deref(), Some("19000301"));
        assert_eq!(shift_date("20001231", 1).as_deref(), Some("20010101"));
        assert_eq!(shift_date("20010101", -1).as_deref(), Some("20001231"));
        assert_eq!(shift_date("19700101", 0).as_deref(), Some("19700101"));
        assert_eq!(shift_date("20240101", i32::MAX), None, "past year 9999");
        assert_eq!(shift_date("00010101", -1), None);
        for invalid in [
            "20190230",
            "20191301",
            "2019060",
            "2019-06-04",
            "",
            "2019060x",
        ] {
            assert_eq!(shift_date(invalid, 1), None, "{invalid}");
        }
        // Round trip over every day of four centuries.
        let start = days_from_civil(1900, 1, 1);
        for day in start..start + 146_097 {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
            assert!(d >= 1 && d <= days_in_month(y, m));
        }
    }
}
