//! Timestamps that keep their precision and never invent a time zone.
//!
//! Laboratory sources state times in many shapes. ASTM analysers write 8, 12 or 14
//! digits and no zone; HL7 v2 sends anything from a bare year to fractions of a
//! second, with a UTC offset only when the sender knows it; DICOM keeps the date and
//! the time of day in separate attributes. A lab model must not turn `2024-03` into
//! a midnight instant, nor assume the zone of the gateway it happens to run on: both
//! would make a collection time look more exact, or different, than what the
//! instrument said, and that error would survive every later conversion.
//!
//! [`LabTimestamp`] therefore stores the wall-clock reading, the [`Precision`] it was
//! stated with and the offset only if one was sent, and writes each form back with
//! exactly the digits it received. The parsers work on bytes, never allocate, and
//! report the byte offset of the first wrong component without echoing the text,
//! which may be a birth date.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, Timelike, Utc,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{ModelError, Result, TimestampForm};

const NANOS_PER_SECOND: u32 = 1_000_000_000;
/// ±23:59 is the widest offset any of the forms can write.
const MAX_OFFSET_SECONDS: i32 = 23 * 3600 + 59 * 60;

/// How much of a timestamp the sender actually stated.
///
/// Kept with every value so that `2024-03` stays a month instead of becoming
/// midnight on the first, and so a value is written back with the digits it came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Precision {
    /// Only the year is known.
    Year,
    /// Year and month are known.
    Month,
    /// A calendar date.
    Day,
    /// Date and hour.
    Hour,
    /// Date, hour and minute (ASTM 12-digit times).
    Minute,
    /// Whole seconds.
    Second,
    /// Seconds with this many fractional digits (1..=9); the count is kept because a
    /// sender writing `.120` claims milliseconds while `.12` claims hundredths.
    Fraction(u8),
}

impl Precision {
    /// The JSON name: `year` … `second`, and `fraction_N` for N fraction digits.
    #[must_use]
    pub fn name(self) -> std::borrow::Cow<'static, str> {
        use std::borrow::Cow;
        Cow::Borrowed(match self {
            Self::Year => "year",
            Self::Month => "month",
            Self::Day => "day",
            Self::Hour => "hour",
            Self::Minute => "minute",
            Self::Second => "second",
            Self::Fraction(digits) => return Cow::Owned(format!("fraction_{digits}")),
        })
    }

    /// Reads a [`name`](Self::name); `fraction_N` only for N in 1..=9.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "year" => Self::Year,
            "month" => Self::Month,
            "day" => Self::Day,
            "hour" => Self::Hour,
            "minute" => Self::Minute,
            "second" => Self::Second,
            _ => match name.strip_prefix("fraction_")?.as_bytes() {
                [digit @ b'1'..=b'9'] => Self::Fraction(digit - b'0'),
                _ => return None,
            },
        })
    }

    /// Coarse-to-fine position, so that precisions can be compared.
    const fn rank(self) -> u16 {
        match self {
            Self::Year => 0,
            Self::Month => 1,
            Self::Day => 2,
            Self::Hour => 3,
            Self::Minute => 4,
            Self::Second => 5,
            Self::Fraction(digits) => 5 + digits as u16,
        }
    }

    /// Inverse of `rank` for the valid precisions; generators pick a rank.
    #[cfg(any(test, feature = "arbitrary"))]
    const fn from_rank(rank: u16) -> Self {
        match rank {
            0 => Self::Year,
            1 => Self::Month,
            2 => Self::Day,
            3 => Self::Hour,
            4 => Self::Minute,
            5 => Self::Second,
            n if n >= 14 => Self::Fraction(9),
            n => Self::Fraction((n - 5) as u8),
        }
    }

    /// Whether `self` states more than `other`, e.g. to refuse inventing digits.
    #[must_use]
    pub const fn is_finer_than(self, other: Self) -> bool {
        self.rank() > other.rank()
    }

    /// Whether `self` states less than `other`, e.g. to check a form can hold a value.
    #[must_use]
    pub const fn is_coarser_than(self, other: Self) -> bool {
        self.rank() < other.rank()
    }

    /// Number of fractional-second digits to write: 0 unless [`Precision::Fraction`].
    #[must_use]
    pub const fn fraction_digits(self) -> u8 {
        match self {
            Self::Fraction(digits) => digits,
            _ => 0,
        }
    }

    /// `Fraction(0)` and `Fraction(10..)` can be built but state nothing meaningful.
    const fn is_valid(self) -> bool {
        match self {
            Self::Fraction(digits) => matches!(digits, 1..=9),
            _ => true,
        }
    }

    /// Nanoseconds are stated only in multiples of this (Second and Fraction).
    const fn nano_step(self) -> u32 {
        let digits = self.fraction_digits();
        let digits = if digits > 9 { 9 } else { digits };
        10u32.pow(9 - digits as u32)
    }
}

/// A point in time as a lab instrument or system stated it: a wall-clock reading,
/// its [`Precision`], and a UTC offset only when the sender gave one.
///
/// Every constructor enforces: year 0000..=9999, components finer than the precision
/// are zero, offsets are whole minutes within ±23:59. A leap second is kept the chrono
/// way (second 59, nanosecond ≥ 1 000 000 000) and written back as second 60.
///
/// Equality compares statements, not instants: `10:00+01:00` and `09:00Z` differ, as
/// do `2024-03` and `2024-03-01`. Compare [`to_utc`](Self::to_utc) values for instants.
///
/// ```
/// use labwire_model::{LabTimestamp, Precision};
///
/// let t = LabTimestamp::parse_hl7("202403011015-0330")?;
/// assert_eq!(t.precision(), Precision::Minute);
/// assert_eq!(t.to_iso8601(), "2024-03-01T10:15-03:30"); // the JSON form
/// assert_eq!(t.to_utc().unwrap().to_rfc3339(), "2024-03-01T13:45:00+00:00");
///
/// let astm = LabTimestamp::parse_astm("20240301")?;      // no zone stated: none invented
/// assert_eq!((astm.to_iso8601().as_str(), astm.to_utc()), ("2024-03-01", None));
/// assert!(LabTimestamp::parse_hl7("20240230").is_err()); // no February 30th
/// # Ok::<(), labwire_model::ModelError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LabTimestamp {
    date_time: NaiveDateTime,
    precision: Precision,
    offset: Option<FixedOffset>,
}

/// A DICOM TM value: a time of day with no date and no zone.
///
/// DICOM stores dates and times in separate DA and TM attributes; a TM alone is not
/// a point in time and becomes one only through [`LabTimestamp::from_dicom_date_time`].
/// Precision is [`Precision::Hour`] to `Fraction(6)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DicomTime {
    time: NaiveTime,
    precision: Precision,
}

const fn not_representable(form: TimestampForm, reason: &'static str) -> ModelError {
    ModelError::TimestampNotRepresentable { form, reason }
}

fn truncate_time(time: NaiveTime, precision: Precision) -> Option<NaiveTime> {
    match precision {
        Precision::Year | Precision::Month | Precision::Day => Some(NaiveTime::MIN),
        Precision::Hour => NaiveTime::from_hms_opt(time.hour(), 0, 0),
        Precision::Minute => NaiveTime::from_hms_opt(time.hour(), time.minute(), 0),
        Precision::Second | Precision::Fraction(_) => {
            // A leap second's extra 1e9 ns is a multiple of every step, so it survives.
            let nanos = time.nanosecond();
            let nanos = nanos - nanos % precision.nano_step();
            NaiveTime::from_hms_nano_opt(time.hour(), time.minute(), time.second(), nanos)
        }
    }
}

fn truncate_date_time(date_time: NaiveDateTime, precision: Precision) -> Option<NaiveDateTime> {
    let date = match precision {
        Precision::Year => NaiveDate::from_ymd_opt(date_time.year(), 1, 1)?,
        Precision::Month => NaiveDate::from_ymd_opt(date_time.year(), date_time.month(), 1)?,
        _ => date_time.date(),
    };
    Some(NaiveDateTime::new(
        date,
        truncate_time(date_time.time(), precision)?,
    ))
}

/// Builds a time of day, turning a stated second 60 into chrono's leap-second form.
fn leap_time(hour: u32, minute: u32, second: u32, nanos: u32) -> Option<NaiveTime> {
    if second == 60 {
        NaiveTime::from_hms_nano_opt(hour, minute, 59, nanos.checked_add(NANOS_PER_SECOND)?)
    } else {
        NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
    }
}

fn check_offset(offset: Option<FixedOffset>) -> Result<()> {
    match offset {
        Some(o)
            if o.local_minus_utc() % 60 != 0 || o.local_minus_utc().abs() > MAX_OFFSET_SECONDS =>
        {
            Err(not_representable(
                TimestampForm::Iso8601,
                "offset must be whole minutes within ±23:59",
            ))
        }
        _ => Ok(()),
    }
}

impl LabTimestamp {
    /// Builds a timestamp from parts a caller already holds (a database row, a
    /// computed time), dropping components finer than the stated `precision`.
    ///
    /// Fails when the year is outside 0000..=9999, the precision is `Fraction(0)` or
    /// more than 9 digits, or the offset is not whole minutes within ±23:59, because
    /// no textual form could carry such a value.
    pub fn new(
        date_time: NaiveDateTime,
        precision: Precision,
        offset: Option<FixedOffset>,
    ) -> Result<Self> {
        const FORM: TimestampForm = TimestampForm::Iso8601;
        if !precision.is_valid() {
            return Err(not_representable(
                FORM,
                "fraction precision must have 1..9 digits",
            ));
        }
        if !(0..=9999).contains(&date_time.year()) {
            return Err(not_representable(FORM, "year must be 0000..9999"));
        }
        check_offset(offset)?;
        let date_time = truncate_date_time(date_time, precision)
            .ok_or(not_representable(FORM, "date does not exist"))?;
        Ok(Self {
            date_time,
            precision,
            offset,
        })
    }

    /// Takes a zoned chrono value (e.g. the current time of a LIS) at a stated precision.
    pub fn from_chrono(date_time: DateTime<FixedOffset>, precision: Precision) -> Result<Self> {
        Self::new(
            date_time.naive_local(),
            precision,
            Some(*date_time.offset()),
        )
    }

    /// Joins a DICOM DA and TM (e.g. Study Date and Study Time) into one timestamp,
    /// because DICOM never stores them together.
    ///
    /// The date must have [`Precision::Day`]; the result has the time's precision
    /// and the date's offset (normally none: DICOM zones live in a separate attribute).
    pub fn from_dicom_date_time(date: &Self, time: &DicomTime) -> Result<Self> {
        if date.precision != Precision::Day {
            return Err(not_representable(
                TimestampForm::DicomDt,
                "the DICOM date must have day precision",
            ));
        }
        Ok(Self {
            date_time: NaiveDateTime::new(date.date(), time.time),
            precision: time.precision,
            offset: date.offset,
        })
    }

    /// The wall-clock reading as stated, in the sender's (possibly unknown) zone.
    #[must_use]
    pub fn naive(self) -> NaiveDateTime {
        self.date_time
    }

    /// The calendar date of the reading; for `Year`/`Month` precision the unstated
    /// parts are 1, so check [`precision`](Self::precision) before trusting them.
    #[must_use]
    pub fn date(self) -> NaiveDate {
        self.date_time.date()
    }

    /// How much of the timestamp the sender stated.
    #[must_use]
    pub fn precision(self) -> Precision {
        self.precision
    }

    /// The UTC offset, only if the sender gave one.
    #[must_use]
    pub fn offset(self) -> Option<FixedOffset> {
        self.offset
    }

    /// The UTC offset in minutes east of UTC, for consumers that store it as a number.
    #[must_use]
    pub fn offset_minutes(self) -> Option<i32> {
        self.offset.map(|o| o.local_minus_utc() / 60)
    }

    /// The zoned chrono value, or `None` without an offset: we never guess a zone.
    #[must_use]
    pub fn to_fixed(self) -> Option<DateTime<FixedOffset>> {
        self.offset
            .and_then(|o| self.date_time.and_local_timezone(o).single())
    }

    /// The instant in UTC, or `None` without an offset: we never guess a zone.
    #[must_use]
    pub fn to_utc(self) -> Option<DateTime<Utc>> {
        self.to_fixed().map(|d| d.with_timezone(&Utc))
    }

    /// Records the offset the reading was made in (e.g. the configured zone of an
    /// instrument that sends none), or removes it; the wall-clock reading is unchanged.
    pub fn with_offset(self, offset: Option<FixedOffset>) -> Result<Self> {
        check_offset(offset)?;
        Ok(Self { offset, ..self })
    }

    /// Drops components finer than `precision`, e.g. to compare at day level.
    ///
    /// Never invents precision: a finer (or invalid) `precision` returns `self` unchanged.
    #[must_use]
    pub fn truncate(self, precision: Precision) -> Self {
        if !precision.is_valid() || precision.is_finer_than(self.precision) {
            return self;
        }
        match truncate_date_time(self.date_time, precision) {
            Some(date_time) => Self {
                date_time,
                precision,
                ..self
            },
            None => self,
        }
    }

    /// Reads an HL7 v2 DTM/TS value:
    /// `YYYY[MM[DD[HH[MM[SS[.F{1,9}]]]]]][(+|-)HHMM]`.
    ///
    /// HL7 v2.5 §2.A.22 (DTM) allows at most 4 fraction digits; up to 9 are accepted
    /// because real feeds send micro- and nanoseconds and rejecting them would lose
    /// whole messages.
    pub fn parse_hl7(text: &str) -> Result<Self> {
        parse_compact(text.as_bytes(), TimestampForm::Hl7Dtm, 9)
    }

    /// Writes the HL7 v2 DTM form with exactly the stated precision; the offset, if
    /// any, follows whatever precision there is (`20240301+0100` is valid HL7).
    #[must_use]
    pub fn format_hl7(&self) -> String {
        self.compact_string()
    }

    /// Reads an ASTM E1394 / CLSI LIS02 date-time.
    ///
    /// The standard writes `YYYYMMDDHHMMSS`; instruments send 8, 10, 12 or 14 digits
    /// and some add HL7-style fractions and offsets, so the HL7 grammar is applied.
    /// The Delphi zero date `18991230`, which some instruments send for "no date", is
    /// a valid date here: deciding that it means nothing is the mapping's job.
    pub fn parse_astm(text: &str) -> Result<Self> {
        parse_compact(text.as_bytes(), TimestampForm::Astm, 9)
    }

    /// Writes the ASTM form: the same digits as [`format_hl7`](Self::format_hl7).
    #[must_use]
    pub fn format_astm(&self) -> String {
        self.compact_string()
    }

    /// Reads a DICOM DA value: `YYYYMMDD`, or the ACR-NEMA `YYYY.MM.DD` that PS3.5
    /// §6.2 (Table 6.2-1, DA) asks readers to accept. Trailing spaces (even-length
    /// padding, PS3.5 §6.2) are ignored.
    /// The result has [`Precision::Day`] and no offset.
    pub fn parse_dicom_da(text: &str) -> Result<Self> {
        let mut r = Reader::new(
            trim_trailing_spaces(text.as_bytes()),
            TimestampForm::DicomDa,
        );
        r.not_empty()?;
        let year = r.year()?;
        let acr_nema = r.eat(b'.');
        let month = r.field(&MONTH)?;
        if acr_nema {
            r.expect(b'.', "expected '.' before the day")?;
        }
        let date = r.day(year, month)?;
        r.finish("unexpected character")?;
        Ok(Self {
            date_time: NaiveDateTime::new(date, NaiveTime::MIN),
            precision: Precision::Day,
            offset: None,
        })
    }

    /// Writes the date part as a DICOM DA (`YYYYMMDD`); fails when the precision is
    /// coarser than a day, since DA cannot state a partial date.
    pub fn format_dicom_da(&self) -> Result<String> {
        if self.precision.is_coarser_than(Precision::Day) {
            return Err(not_representable(
                TimestampForm::DicomDa,
                "a DICOM DA needs a full date",
            ));
        }
        let date = self.date_time.date();
        let mut out = String::with_capacity(8);
        // Writing into a String cannot fail.
        let _ = put_num(&mut out, date.year().unsigned_abs(), 4)
            .and_then(|()| put_num(&mut out, date.month(), 2))
            .and_then(|()| put_num(&mut out, date.day(), 2));
        Ok(out)
    }

    /// Reads a DICOM DT value: `YYYY[MM[DD[HH[MM[SS[.F{1,6}]]]]]][&ZZXX]` where `&` is
    /// `+` or `-`. Trailing spaces (even-length padding) are ignored.
    pub fn parse_dicom_dt(text: &str) -> Result<Self> {
        parse_compact(
            trim_trailing_spaces(text.as_bytes()),
            TimestampForm::DicomDt,
            6,
        )
    }

    /// Writes a DICOM DT value; fails for more than 6 fraction digits, which DT
    /// cannot hold and which we refuse to round silently.
    pub fn format_dicom_dt(&self) -> Result<String> {
        if self.precision.fraction_digits() > 6 {
            return Err(not_representable(
                TimestampForm::DicomDt,
                "a DICOM DT holds at most 6 fraction digits",
            ));
        }
        Ok(self.compact_string())
    }

    /// Reads an RFC 3339 `date-time`:
    /// `YYYY-MM-DD(T|t| )HH:MM:SS[.F{1,9}](Z|z|(+|-)HH:MM)`.
    ///
    /// For machine interfaces (FHIR, REST) that always send full times with a zone.
    /// `-00:00` ("UTC, local offset unknown") is stored as `+00:00`. More than 9
    /// fraction digits are rejected rather than rounded.
    pub fn parse_rfc3339(text: &str) -> Result<Self> {
        parse_extended(text.as_bytes(), TimestampForm::Rfc3339, true)
    }

    /// Writes RFC 3339 with the stated fraction digits, `T`, and `Z` for a zero offset.
    ///
    /// Fails without an offset or with less than second precision: RFC 3339 requires
    /// both, and inventing them would misstate what was sent.
    pub fn to_rfc3339(&self) -> Result<String> {
        if self.offset.is_none() {
            return Err(not_representable(
                TimestampForm::Rfc3339,
                "RFC 3339 needs a UTC offset",
            ));
        }
        if self.precision.is_coarser_than(Precision::Second) {
            return Err(not_representable(
                TimestampForm::Rfc3339,
                "RFC 3339 needs seconds",
            ));
        }
        Ok(self.to_iso8601())
    }

    /// Reads the model's own ISO 8601 form (see [`to_iso8601`](Self::to_iso8601)),
    /// which is also its JSON form. Every upper-case RFC 3339 string is accepted.
    pub fn parse_iso8601(text: &str) -> Result<Self> {
        parse_extended(text.as_bytes(), TimestampForm::Iso8601, false)
    }

    /// Writes the model's ISO 8601 form with reduced precision: `YYYY`, `YYYY-MM`,
    /// `YYYY-MM-DD`, `…THH`, `…THH:MM`, `…THH:MM:SS`, `…THH:MM:SS.F{1,9}`, then `Z`
    /// for a zero offset or `±HH:MM`, or nothing when no offset was stated.
    ///
    /// This is the one form that keeps every value exactly, so it is the JSON form.
    #[must_use]
    pub fn to_iso8601(&self) -> String {
        let mut out = String::with_capacity(35);
        // Writing into a String cannot fail.
        let _ = self.write_to(&mut out, true);
        out
    }

    fn compact_string(&self) -> String {
        let mut out = String::with_capacity(28);
        // Writing into a String cannot fail.
        let _ = self.write_to(&mut out, false);
        out
    }

    /// One writer for the compact (HL7, ASTM, DICOM DT) and extended (ISO 8601) forms.
    fn write_to<W: fmt::Write>(&self, w: &mut W, extended: bool) -> fmt::Result {
        let date = self.date_time.date();
        let rank = self.precision.rank();
        put_num(w, date.year().unsigned_abs(), 4)?;
        if rank >= Precision::Month.rank() {
            put_sep(w, extended, '-')?;
            put_num(w, date.month(), 2)?;
        }
        if rank >= Precision::Day.rank() {
            put_sep(w, extended, '-')?;
            put_num(w, date.day(), 2)?;
        }
        if rank >= Precision::Hour.rank() {
            put_sep(w, extended, 'T')?;
            write_time(w, self.date_time.time(), self.precision, extended)?;
        }
        if let Some(offset) = self.offset {
            write_offset(w, offset, extended)?;
        }
        Ok(())
    }
}

impl fmt::Display for LabTimestamp {
    /// The ISO 8601 form of [`LabTimestamp::to_iso8601`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f, true)
    }
}

impl FromStr for LabTimestamp {
    type Err = ModelError;

    /// The ISO 8601 form of [`LabTimestamp::parse_iso8601`].
    fn from_str(s: &str) -> Result<Self> {
        Self::parse_iso8601(s)
    }
}

impl DicomTime {
    /// Builds a TM value from a time of day, dropping digits finer than `precision`;
    /// fails unless the precision is `Hour` to `Fraction(6)`, the range DICOM TM holds.
    pub fn new(time: NaiveTime, precision: Precision) -> Result<Self> {
        if !matches!(
            precision,
            Precision::Hour | Precision::Minute | Precision::Second | Precision::Fraction(1..=6)
        ) {
            return Err(not_representable(
                TimestampForm::DicomTm,
                "a DICOM TM has hour to microsecond precision",
            ));
        }
        let time = truncate_time(time, precision).ok_or(not_representable(
            TimestampForm::DicomTm,
            "time does not exist",
        ))?;
        Ok(Self { time, precision })
    }

    /// Reads a DICOM TM value: `HH[MM[SS[.F{1,6}]]]` or the ACR-NEMA
    /// `HH:MM[:SS[.F{1,6}]]` that PS3.5 asks readers to accept. Trailing spaces are
    /// ignored; second 60 (a leap second) is accepted.
    pub fn parse_dicom_tm(text: &str) -> Result<Self> {
        let mut r = Reader::new(
            trim_trailing_spaces(text.as_bytes()),
            TimestampForm::DicomTm,
        );
        r.not_empty()?;
        let mut parts = Parts::new(0);
        parts.hour = r.field(&HOUR)?;
        parts.precision = Precision::Hour;
        let separator = (r.peek() == Some(b':')).then_some(b':');
        r.minutes_seconds(&mut parts, separator, false)?;
        r.fraction_part(&mut parts, 6)?;
        r.finish("unexpected character")?;
        let time = leap_time(parts.hour, parts.minute, parts.second, parts.nanos)
            .ok_or_else(|| r.err_at(0, "time does not exist"))?;
        Ok(Self {
            time,
            precision: parts.precision,
        })
    }

    /// Writes the compact DICOM TM form with exactly the stated digits.
    #[must_use]
    pub fn format_dicom_tm(&self) -> String {
        let mut out = String::with_capacity(13);
        // Writing into a String cannot fail.
        let _ = write_time(&mut out, self.time, self.precision, false);
        out
    }

    /// The time of day; a leap second has nanosecond ≥ 1 000 000 000.
    #[must_use]
    pub fn time(self) -> NaiveTime {
        self.time
    }

    /// How much of the time the sender stated.
    #[must_use]
    pub fn precision(self) -> Precision {
        self.precision
    }
}

impl fmt::Display for DicomTime {
    /// The compact DICOM TM form of [`DicomTime::format_dicom_tm`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_time(f, self.time, self.precision, false)
    }
}

impl FromStr for DicomTime {
    type Err = ModelError;

    /// The DICOM TM form of [`DicomTime::parse_dicom_tm`].
    fn from_str(s: &str) -> Result<Self> {
        Self::parse_dicom_tm(s)
    }
}

/// Reads a UTC offset as HL7 and DICOM write it (`+0100`, `-0330`, `+0000`), e.g. an
/// instrument's configured zone or DICOM's Timezone Offset From UTC (0008,0201).
/// Hours must be 00..23 and minutes 00..59.
pub fn parse_utc_offset(text: &str) -> Result<FixedOffset> {
    let mut r = Reader::new(text.as_bytes(), TimestampForm::UtcOffset);
    r.not_empty()?;
    let offset = r.offset(false)?;
    r.finish("unexpected text after the offset")?;
    Ok(offset)
}

// ---------------------------------------------------------------------------------
// Writing

/// Writes `value` as exactly `width` decimal digits (at most 10), zero-padded.
fn put_num<W: fmt::Write>(w: &mut W, value: u32, width: u32) -> fmt::Result {
    let mut divisor = 10u32.pow(width.saturating_sub(1).min(9));
    while divisor > 0 {
        let digit = (value / divisor % 10) as u8;
        w.write_char(char::from(b'0' + digit))?;
        divisor /= 10;
    }
    Ok(())
}

fn put_sep<W: fmt::Write>(w: &mut W, extended: bool, separator: char) -> fmt::Result {
    if extended {
        w.write_char(separator)
    } else {
        Ok(())
    }
}

fn write_time<W: fmt::Write>(
    w: &mut W,
    time: NaiveTime,
    precision: Precision,
    extended: bool,
) -> fmt::Result {
    let rank = precision.rank();
    put_num(w, time.hour(), 2)?;
    if rank >= Precision::Minute.rank() {
        put_sep(w, extended, ':')?;
        put_num(w, time.minute(), 2)?;
    }
    if rank >= Precision::Second.rank() {
        put_sep(w, extended, ':')?;
        // chrono keeps a leap second as second 59 plus a full second of nanoseconds.
        put_num(w, time.second() + time.nanosecond() / NANOS_PER_SECOND, 2)?;
    }
    let digits = precision.fraction_digits();
    if digits > 0 {
        w.write_char('.')?;
        let fraction = time.nanosecond() % NANOS_PER_SECOND / precision.nano_step();
        put_num(w, fraction, u32::from(digits))?;
    }
    Ok(())
}

fn write_offset<W: fmt::Write>(w: &mut W, offset: FixedOffset, extended: bool) -> fmt::Result {
    let seconds = offset.local_minus_utc();
    if extended && seconds == 0 {
        return w.write_char('Z');
    }
    w.write_char(if seconds < 0 { '-' } else { '+' })?;
    let seconds = seconds.unsigned_abs();
    put_num(w, seconds / 3600, 2)?;
    put_sep(w, extended, ':')?;
    put_num(w, seconds / 60 % 60, 2)
}

// ---------------------------------------------------------------------------------
// Reading

/// A two-digit component: its allowed range and what to say when it is wrong.
struct Field {
    min: u32,
    max: u32,
    digits: &'static str,
    range: &'static str,
}

const MONTH: Field = Field {
    min: 1,
    max: 12,
    digits: "month must have two digits",
    range: "month must be 01..12",
};
const DAY: Field = Field {
    min: 1,
    max: 31,
    digits: "day must have two digits",
    range: "day must be 01..31",
};
const HOUR: Field = Field {
    min: 0,
    max: 23,
    digits: "hour must have two digits",
    range: "hour must be 00..23",
};
const MINUTE: Field = Field {
    min: 0,
    max: 59,
    digits: "minute must have two digits",
    range: "minute must be 00..59",
};
const SECOND: Field = Field {
    min: 0,
    max: 60,
    digits: "second must have two digits",
    range: "second must be 00..60",
};
const OFFSET_HOURS: Field = Field {
    min: 0,
    max: 23,
    digits: "offset hours must have two digits",
    range: "offset hours must be 00..23",
};
const OFFSET_MINUTES: Field = Field {
    min: 0,
    max: 59,
    digits: "offset minutes must have two digits",
    range: "offset minutes must be 00..59",
};

/// DICOM pads values to even length with spaces, which carry no meaning.
fn trim_trailing_spaces(mut bytes: &[u8]) -> &[u8] {
    while let [rest @ .., b' '] = bytes {
        bytes = rest;
    }
    bytes
}

/// The components read so far; unstated ones keep their zero value.
struct Parts {
    year: i32,
    month: u32,
    date: Option<NaiveDate>,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    precision: Precision,
}

impl Parts {
    const fn new(year: i32) -> Self {
        Self {
            year,
            month: 1,
            date: None,
            hour: 0,
            minute: 0,
            second: 0,
            nanos: 0,
            precision: Precision::Year,
        }
    }

    fn into_timestamp(self, r: &Reader<'_>, offset: Option<FixedOffset>) -> Result<LabTimestamp> {
        // Both fallbacks are unreachable: every component was range-checked on reading.
        let date = match self.date {
            Some(date) => date,
            None => NaiveDate::from_ymd_opt(self.year, self.month, 1)
                .ok_or_else(|| r.err_at(0, "date does not exist"))?,
        };
        let time = leap_time(self.hour, self.minute, self.second, self.nanos)
            .ok_or_else(|| r.err_at(0, "time does not exist"))?;
        Ok(LabTimestamp {
            date_time: NaiveDateTime::new(date, time),
            precision: self.precision,
            offset,
        })
    }
}

/// A cursor over the input bytes; every error names the form and the byte offset.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    form: TimestampForm,
}

impl<'a> Reader<'a> {
    const fn new(bytes: &'a [u8], form: TimestampForm) -> Self {
        Self {
            bytes,
            pos: 0,
            form,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_digit(&self) -> bool {
        self.peek().is_some_and(|b| b.is_ascii_digit())
    }

    const fn err_at(&self, offset: usize, reason: &'static str) -> ModelError {
        ModelError::Timestamp {
            form: self.form,
            offset,
            reason,
        }
    }

    const fn err(&self, reason: &'static str) -> ModelError {
        self.err_at(self.pos, reason)
    }

    fn not_empty(&self) -> Result<()> {
        if self.bytes.is_empty() {
            Err(self.err("empty value"))
        } else {
            Ok(())
        }
    }

    fn finish(&self, reason: &'static str) -> Result<()> {
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(self.err(reason))
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect(&mut self, byte: u8, reason: &'static str) -> Result<()> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(self.err(reason))
        }
    }

    fn digit(&mut self) -> Option<u32> {
        let byte = self.peek().filter(u8::is_ascii_digit)?;
        self.pos += 1;
        Some(u32::from(byte - b'0'))
    }

    /// Reads two digits and checks their range; a range error points at the first digit.
    fn field(&mut self, field: &Field) -> Result<u32> {
        let start = self.pos;
        let high = self.digit().ok_or_else(|| self.err(field.digits))?;
        let low = self.digit().ok_or_else(|| self.err(field.digits))?;
        let value = high * 10 + low;
        if (field.min..=field.max).contains(&value) {
            Ok(value)
        } else {
            Err(self.err_at(start, field.range))
        }
    }

    fn year(&mut self) -> Result<i32> {
        let mut year = 0;
        for _ in 0..4 {
            let digit = self
                .digit()
                .ok_or_else(|| self.err("year must have four digits"))?;
            year = year * 10 + digit;
        }
        // At most 9999.
        Ok(year as i32)
    }

    /// Reads the day and checks the whole date exists (30 February does not).
    fn day(&mut self, year: i32, month: u32) -> Result<NaiveDate> {
        let start = self.pos;
        let day = self.field(&DAY)?;
        NaiveDate::from_ymd_opt(year, month, day)
            .ok_or_else(|| self.err_at(start, "day does not exist in that month"))
    }

    /// Whether the next component is present, consuming its separator if there is one.
    /// Without a separator (compact forms) a component is present when a digit follows.
    fn next_component(
        &mut self,
        separator: Option<u8>,
        required: bool,
        reason: &'static str,
    ) -> Result<bool> {
        match separator {
            None => Ok(self.peek_digit()),
            Some(byte) if self.eat(byte) => Ok(true),
            Some(_) if required => Err(self.err(reason)),
            Some(_) => Ok(false),
        }
    }

    /// Reads the optional minutes and seconds that follow an hour.
    fn minutes_seconds(
        &mut self,
        parts: &mut Parts,
        separator: Option<u8>,
        required: bool,
    ) -> Result<()> {
        if !self.next_component(separator, required, "expected ':' before the minutes")? {
            return Ok(());
        }
        parts.minute = self.field(&MINUTE)?;
        parts.precision = Precision::Minute;
        if !self.next_component(separator, required, "expected ':' before the seconds")? {
            return Ok(());
        }
        parts.second = self.field(&SECOND)?;
        parts.precision = Precision::Second;
        Ok(())
    }

    /// Reads an optional `.F{1,max}`; only seconds may carry a fraction.
    fn fraction_part(&mut self, parts: &mut Parts, max: u8) -> Result<()> {
        if self.peek() != Some(b'.') {
            return Ok(());
        }
        if parts.precision != Precision::Second {
            return Err(self.err("a fraction needs seconds"));
        }
        self.pos += 1;
        let mut value = 0u32;
        let mut digits = 0u8;
        loop {
            let start = self.pos;
            let Some(digit) = self.digit() else { break };
            if digits >= max {
                return Err(self.err_at(start, "too many fraction digits"));
            }
            // `max` is at most 9, so `value` stays below 10^9.
            value = value * 10 + digit;
            digits += 1;
        }
        if digits == 0 {
            return Err(self.err("expected a fraction digit"));
        }
        parts.precision = Precision::Fraction(digits);
        parts.nanos = value * parts.precision.nano_step();
        Ok(())
    }

    /// Reads `(+|-)HHMM`, or `(+|-)HH:MM` in the extended forms.
    fn offset(&mut self, extended: bool) -> Result<FixedOffset> {
        let negative = match self.peek() {
            Some(b'+') => false,
            Some(b'-') => true,
            _ => return Err(self.err("expected '+' or '-'")),
        };
        let start = self.pos;
        self.pos += 1;
        let hours = self.field(&OFFSET_HOURS)?;
        if extended {
            self.expect(b':', "expected ':' in the offset")?;
        }
        let minutes = self.field(&OFFSET_MINUTES)?;
        // At most 23:59, far inside i32 and inside chrono's ±24 h.
        let seconds = (hours * 3600 + minutes * 60) as i32;
        FixedOffset::east_opt(if negative { -seconds } else { seconds })
            .ok_or_else(|| self.err_at(start, "offset out of range"))
    }

    /// Consumes a `Z`: zero offset, as RFC 3339 and ISO 8601 spell UTC.
    fn utc(&mut self) -> FixedOffset {
        self.pos += 1;
        Utc.fix()
    }

    /// In the reduced ISO form `2024-03:00` is a year with offset -03:00, not a month.
    fn extended_offset_ahead(&self) -> bool {
        matches!(
            self.bytes.get(self.pos..),
            Some([b'+' | b'-', b'0'..=b'9', b'0'..=b'9', b':', ..])
        )
    }

    /// Whether a `-MM`/`-DD` component follows in the extended forms.
    fn extended_date_component(&self, required: bool) -> bool {
        required || (self.peek() == Some(b'-') && !self.extended_offset_ahead())
    }
}

/// The HL7 / ASTM / DICOM DT grammar:
/// `YYYY[MM[DD[HH[MM[SS[.F{1,max}]]]]]][(+|-)HHMM]`.
fn parse_compact(bytes: &[u8], form: TimestampForm, max_fraction: u8) -> Result<LabTimestamp> {
    let mut r = Reader::new(bytes, form);
    r.not_empty()?;
    let year = r.year()?;
    let mut parts = Parts::new(year);
    'components: {
        if !r.peek_digit() {
            break 'components;
        }
        parts.month = r.field(&MONTH)?;
        parts.precision = Precision::Month;
        if !r.peek_digit() {
            break 'components;
        }
        parts.date = Some(r.day(year, parts.month)?);
        parts.precision = Precision::Day;
        if !r.peek_digit() {
            break 'components;
        }
        parts.hour = r.field(&HOUR)?;
        parts.precision = Precision::Hour;
        r.minutes_seconds(&mut parts, None, false)?;
    }
    r.fraction_part(&mut parts, max_fraction)?;
    let offset = match r.peek() {
        Some(b'+' | b'-') => Some(r.offset(false)?),
        _ => None,
    };
    r.finish(if offset.is_some() {
        "unexpected text after the offset"
    } else {
        "unexpected character"
    })?;
    parts.into_timestamp(&r, offset)
}

/// The ISO 8601 reduced-precision grammar, or with `rfc` the strict RFC 3339 one
/// (every component and the offset required, lower-case `t`/`z` and a space allowed).
fn parse_extended(bytes: &[u8], form: TimestampForm, rfc: bool) -> Result<LabTimestamp> {
    let mut r = Reader::new(bytes, form);
    r.not_empty()?;
    let year = r.year()?;
    let mut parts = Parts::new(year);
    'components: {
        if !r.extended_date_component(rfc) {
            break 'components;
        }
        r.expect(b'-', "expected '-' before the month")?;
        parts.month = r.field(&MONTH)?;
        parts.precision = Precision::Month;
        if !r.extended_date_component(rfc) {
            break 'components;
        }
        r.expect(b'-', "expected '-' before the day")?;
        parts.date = Some(r.day(year, parts.month)?);
        parts.precision = Precision::Day;
        match r.peek() {
            Some(b'T') => {}
            Some(b't' | b' ') if rfc => {}
            _ if rfc => return Err(r.err("expected 'T' before the time")),
            _ => break 'components,
        }
        r.pos += 1;
        parts.hour = r.field(&HOUR)?;
        parts.precision = Precision::Hour;
        r.minutes_seconds(&mut parts, Some(b':'), rfc)?;
    }
    r.fraction_part(&mut parts, 9)?;
    let offset = match r.peek() {
        Some(b'Z') => Some(r.utc()),
        Some(b'z') if rfc => Some(r.utc()),
        Some(b'+' | b'-') => Some(r.offset(true)?),
        _ if rfc => return Err(r.err("expected 'Z' or an offset")),
        _ => None,
    };
    r.finish(if offset.is_some() {
        "unexpected text after the offset"
    } else {
        "unexpected character"
    })?;
    parts.into_timestamp(&r, offset)
}

// ---------------------------------------------------------------------------------
// serde

impl Serialize for Precision {
    /// As its [`name`](Precision::name).
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for Precision {
    /// From a [`name`](Precision::name).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_str(crate::text_serde::TextVisitor {
            parse: |name| {
                Self::from_name(name).ok_or(ModelError::TimestampNotRepresentable {
                    form: TimestampForm::Iso8601,
                    reason: "unknown precision name",
                })
            },
            expecting: "a precision name such as \"second\" or \"fraction_3\"",
        })
    }
}

impl Serialize for LabTimestamp {
    /// As the ISO 8601 string of [`LabTimestamp::to_iso8601`].
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        // Formatting into a stack buffer and handing over one `&str` is several
        // times faster than `collect_str`, which escapes each formatted piece.
        let mut text = crate::inline::InlineAscii::<48>::new();
        match self.write_to(&mut text, true) {
            Ok(()) => serializer.serialize_str(text.as_str()),
            Err(fmt::Error) => serializer.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for LabTimestamp {
    /// From the ISO 8601 string of [`LabTimestamp::parse_iso8601`].
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_str(crate::text_serde::TextVisitor {
            parse: Self::parse_iso8601,
            expecting: "an ISO 8601 timestamp string",
        })
    }
}

impl Serialize for DicomTime {
    /// As the compact DICOM TM string of [`DicomTime::format_dicom_tm`].
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DicomTime {
    /// From a DICOM TM string, as [`DicomTime::parse_dicom_tm`] reads it.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_str(crate::text_serde::TextVisitor {
            parse: Self::parse_dicom_tm,
            expecting: "a DICOM TM string",
        })
    }
}

// ---------------------------------------------------------------------------------
// arbitrary

/// Hand-written so fuzzers and property tests only ever see values a parser could
/// produce: every precision, real calendar days, occasional leap seconds, offsets
/// of whole minutes within ±23:59. Short input falls back to valid minimal values.
#[cfg(feature = "arbitrary")]
mod arbitrary_impls {
    use arbitrary::{Arbitrary, Error, Unstructured};
    use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};

    use super::{DicomTime, LabTimestamp, NANOS_PER_SECOND, Precision};

    impl<'a> Arbitrary<'a> for Precision {
        fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
            Ok(Self::from_rank(u.int_in_range(0..=14)?))
        }
    }

    fn time_of_day(u: &mut Unstructured<'_>, precision: Precision) -> arbitrary::Result<NaiveTime> {
        let hour = u.int_in_range(0..=23)?;
        let minute = u.int_in_range(0..=59)?;
        let second = u.int_in_range(0..=59)?;
        let nanos = u.int_in_range(0..=NANOS_PER_SECOND - 1)?;
        let leap = !precision.is_coarser_than(Precision::Second) && u.ratio(1u8, 16)?;
        let time = if leap {
            NaiveTime::from_hms_nano_opt(hour, minute, 59, nanos + NANOS_PER_SECOND)
        } else {
            NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
        };
        time.ok_or(Error::IncorrectFormat)
    }

    impl<'a> Arbitrary<'a> for LabTimestamp {
        fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
            let precision = Precision::arbitrary(u)?;
            let year = u.int_in_range(0..=9999)?;
            let month = u.int_in_range(1..=12)?;
            let last_day = (28..=31)
                .rev()
                .find(|&day| NaiveDate::from_ymd_opt(year, month, day).is_some())
                .unwrap_or(28);
            let date = NaiveDate::from_ymd_opt(year, month, u.int_in_range(1..=last_day)?)
                .ok_or(Error::IncorrectFormat)?;
            let time = time_of_day(u, precision)?;
            let offset = if u.arbitrary()? {
                FixedOffset::east_opt(u.int_in_range(-1439..=1439)? * 60)
            } else {
                None
            };
            Self::new(NaiveDateTime::new(date, time), precision, offset)
                .map_err(|_| Error::IncorrectFormat)
        }
    }

    impl<'a> Arbitrary<'a> for DicomTime {
        fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
            // Ranks 3..=11 are Hour to Fraction(6), what DICOM TM holds.
            let precision = Precision::from_rank(u.int_in_range(3..=11)?);
            let time = time_of_day(u, precision)?;
            Self::new(time, precision).map_err(|_| Error::IncorrectFormat)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn off(minutes: i32) -> Option<FixedOffset> {
        Some(FixedOffset::east_opt(minutes * 60).unwrap())
    }

    fn ts(
        (y, mo, d): (i32, u32, u32),
        (h, mi, s, nanos): (u32, u32, u32, u32),
        precision: Precision,
        offset: Option<FixedOffset>,
    ) -> LabTimestamp {
        let dt = NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_nano_opt(h, mi, s, nanos)
            .unwrap();
        LabTimestamp::new(dt, precision, offset).unwrap()
    }

    fn hl7(text: &str) -> LabTimestamp {
        LabTimestamp::parse_hl7(text).unwrap()
    }

    fn err(form: TimestampForm, offset: usize, reason: &'static str) -> ModelError {
        ModelError::Timestamp {
            form,
            offset,
            reason,
        }
    }

    #[test]
    fn hl7_every_precision() {
        let cases: &[(&str, LabTimestamp)] = &[
            (
                "2024",
                ts((2024, 1, 1), (0, 0, 0, 0), Precision::Year, None),
            ),
            (
                "202403",
                ts((2024, 3, 1), (0, 0, 0, 0), Precision::Month, None),
            ),
            (
                "20240301",
                ts((2024, 3, 1), (0, 0, 0, 0), Precision::Day, None),
            ),
            (
                "2024030110",
                ts((2024, 3, 1), (10, 0, 0, 0), Precision::Hour, None),
            ),
            (
                "202403011015",
                ts((2024, 3, 1), (10, 15, 0, 0), Precision::Minute, None),
            ),
            (
                "20240301101502",
                ts((2024, 3, 1), (10, 15, 2, 0), Precision::Second, None),
            ),
            (
                "20240301101502.1",
                ts(
                    (2024, 3, 1),
                    (10, 15, 2, 100_000_000),
                    Precision::Fraction(1),
                    None,
                ),
            ),
            (
                "20240301101502.12",
                ts(
                    (2024, 3, 1),
                    (10, 15, 2, 120_000_000),
                    Precision::Fraction(2),
                    None,
                ),
            ),
            (
                "20240301101502.1234",
                ts(
                    (2024, 3, 1),
                    (10, 15, 2, 123_400_000),
                    Precision::Fraction(4),
                    None,
                ),
            ),
            (
                "20240301101502.123456789",
                ts(
                    (2024, 3, 1),
                    (10, 15, 2, 123_456_789),
                    Precision::Fraction(9),
                    None,
                ),
            ),
            (
                "20240301101502+0100",
                ts((2024, 3, 1), (10, 15, 2, 0), Precision::Second, off(60)),
            ),
            (
                "20240301101502-0330",
                ts((2024, 3, 1), (10, 15, 2, 0), Precision::Second, off(-210)),
            ),
            (
                "20240301101502+0000",
                ts((2024, 3, 1), (10, 15, 2, 0), Precision::Second, off(0)),
            ),
            (
                "20240301+0100",
                ts((2024, 3, 1), (0, 0, 0, 0), Precision::Day, off(60)),
            ),
            (
                "2024-0500",
                ts((2024, 1, 1), (0, 0, 0, 0), Precision::Year, off(-300)),
            ),
        ];
        for (text, expected) in cases {
            let parsed = hl7(text);
            assert_eq!(parsed, *expected, "{text}");
            assert_eq!(parsed.format_hl7(), *text, "{text}");
        }
        assert_eq!(hl7("20240301").precision(), Precision::Day);
        assert_eq!(hl7("20240301101502-0330").offset_minutes(), Some(-210));
        assert_eq!(hl7("20240301").offset(), None);
    }

    #[test]
    fn astm_forms() {
        for text in ["20240301", "202403011015", "20240301101502", "18991230"] {
            let parsed = LabTimestamp::parse_astm(text).unwrap();
            assert_eq!(parsed.format_astm(), text);
            assert_eq!(parsed, hl7(text));
        }
        let delphi = LabTimestamp::parse_astm("18991230").unwrap();
        assert_eq!(
            delphi.date(),
            NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()
        );
        assert_eq!(
            LabTimestamp::parse_astm("2024030"),
            Err(err(TimestampForm::Astm, 7, "day must have two digits"))
        );
    }

    #[test]
    fn dicom_da() {
        let expected = ts((2024, 3, 1), (0, 0, 0, 0), Precision::Day, None);
        for text in ["20240301", "2024.03.01", "20240301 ", "2024.03.01  "] {
            assert_eq!(LabTimestamp::parse_dicom_da(text), Ok(expected), "{text}");
        }
        assert_eq!(expected.format_dicom_da().unwrap(), "20240301");
        assert_eq!(
            hl7("20240301101502+0100").format_dicom_da().unwrap(),
            "20240301"
        );
        assert!(matches!(
            hl7("202403").format_dicom_da(),
            Err(ModelError::TimestampNotRepresentable {
                form: TimestampForm::DicomDa,
                ..
            })
        ));
        let form = TimestampForm::DicomDa;
        for (text, offset, reason) in [
            ("", 0, "empty value"),
            ("  ", 0, "empty value"),
            ("2024-03-01", 4, "month must have two digits"),
            ("202403", 6, "day must have two digits"),
            ("2024.03-01", 7, "expected '.' before the day"),
            ("2024030110", 8, "unexpected character"),
            ("20240230", 6, "day does not exist in that month"),
            ("2024.13.01", 5, "month must be 01..12"),
        ] {
            assert_eq!(
                LabTimestamp::parse_dicom_da(text),
                Err(err(form, offset, reason)),
                "{text}"
            );
        }
    }

    #[test]
    fn dicom_tm() {
        let time = |h, m, s, n| NaiveTime::from_hms_nano_opt(h, m, s, n).unwrap();
        let cases = [
            ("10", time(10, 0, 0, 0), Precision::Hour, "10"),
            ("1015", time(10, 15, 0, 0), Precision::Minute, "1015"),
            ("101502", time(10, 15, 2, 0), Precision::Second, "101502"),
            (
                "101502.123456",
                time(10, 15, 2, 123_456_000),
                Precision::Fraction(6),
                "101502.123456",
            ),
            ("10:15", time(10, 15, 0, 0), Precision::Minute, "1015"),
            (
                "10:15:02.5",
                time(10, 15, 2, 500_000_000),
                Precision::Fraction(1),
                "101502.5",
            ),
            ("101502 ", time(10, 15, 2, 0), Precision::Second, "101502"),
            (
                "235960",
                time(23, 59, 59, 1_000_000_000),
                Precision::Second,
                "235960",
            ),
        ];
        for (text, t, precision, formatted) in cases {
            let parsed = DicomTime::parse_dicom_tm(text).unwrap();
            assert_eq!(parsed.time(), t, "{text}");
            assert_eq!(parsed.precision(), precision, "{text}");
            assert_eq!(parsed.format_dicom_tm(), formatted, "{text}");
            assert_eq!(parsed, DicomTime::new(t, precision).unwrap());
        }
        let form = TimestampForm::DicomTm;
        for (text, offset, reason) in [
            ("", 0, "empty value"),
            ("24", 0, "hour must be 00..23"),
            ("1", 1, "hour must have two digits"),
            ("10:", 3, "minute must have two digits"),
            ("1015.5", 4, "a fraction needs seconds"),
            ("101502.1234567", 13, "too many fraction digits"),
            ("101561", 4, "second must be 00..60"),
            ("10:1502", 5, "unexpected character"),
        ] {
            assert_eq!(
                DicomTime::parse_dicom_tm(text),
                Err(err(form, offset, reason)),
                "{text}"
            );
        }
        assert!(DicomTime::new(time(1, 2, 3, 4), Precision::Day).is_err());
        assert!(DicomTime::new(time(1, 2, 3, 4), Precision::Fraction(7)).is_err());
        assert_eq!(
            DicomTime::new(time(1, 2, 3, 456_789), Precision::Minute)
                .unwrap()
                .time(),
            time(1, 2, 0, 0)
        );
    }

    #[test]
    fn dicom_dt_and_combination() {
        let dt = LabTimestamp::parse_dicom_dt("20240301101502.123456+0100 ").unwrap();
        assert_eq!(
            dt,
            ts(
                (2024, 3, 1),
                (10, 15, 2, 123_456_000),
                Precision::Fraction(6),
                off(60)
            )
        );
        assert_eq!(dt.format_dicom_dt().unwrap(), "20240301101502.123456+0100");
        assert_eq!(
            LabTimestamp::parse_dicom_dt("202403-0500").unwrap(),
            ts((2024, 3, 1), (0, 0, 0, 0), Precision::Month, off(-300))
        );
        assert_eq!(
            LabTimestamp::parse_dicom_dt("20240301101502.1234567"),
            Err(err(TimestampForm::DicomDt, 21, "too many fraction digits"))
        );
        assert!(matches!(
            hl7("20240301101502.1234567").format_dicom_dt(),
            Err(ModelError::TimestampNotRepresentable {
                form: TimestampForm::DicomDt,
                ..
            })
        ));

        let date = LabTimestamp::parse_dicom_da("20240301").unwrap();
        let time = DicomTime::parse_dicom_tm("101502.5").unwrap();
        let joined = LabTimestamp::from_dicom_date_time(&date, &time).unwrap();
        assert_eq!(joined, hl7("20240301101502.5"));
        assert!(LabTimestamp::from_dicom_date_time(&hl7("202403"), &time).is_err());
        let zoned = hl7("20240301+0100");
        assert_eq!(
            LabTimestamp::from_dicom_date_time(&zoned, &time).unwrap(),
            hl7("20240301101502.5+0100")
        );
    }

    #[test]
    fn rfc3339() {
        let expected = ts(
            (2024, 3, 1),
            (10, 15, 2, 120_000_000),
            Precision::Fraction(3),
            off(60),
        );
        for text in [
            "2024-03-01T10:15:02.120+01:00",
            "2024-03-01t10:15:02.120+01:00",
            "2024-03-01 10:15:02.120+01:00",
        ] {
            assert_eq!(LabTimestamp::parse_rfc3339(text), Ok(expected), "{text}");
        }
        assert_eq!(
            expected.to_rfc3339().unwrap(),
            "2024-03-01T10:15:02.120+01:00"
        );
        let utc = ts((2024, 3, 1), (10, 15, 2, 0), Precision::Second, off(0));
        for text in [
            "2024-03-01T10:15:02Z",
            "2024-03-01T10:15:02z",
            "2024-03-01T10:15:02-00:00",
            "2024-03-01T10:15:02+00:00",
        ] {
            assert_eq!(LabTimestamp::parse_rfc3339(text), Ok(utc), "{text}");
        }
        assert_eq!(utc.to_rfc3339().unwrap(), "2024-03-01T10:15:02Z");
        let form = TimestampForm::Rfc3339;
        for (text, offset, reason) in [
            ("2024-03-01T10:15:02", 19, "expected 'Z' or an offset"),
            ("2024-03-01T10:15Z", 16, "expected ':' before the seconds"),
            ("2024-03-01", 10, "expected 'T' before the time"),
            ("2024-03", 7, "expected '-' before the day"),
            ("2024-03-01T10:15:02+0100", 22, "expected ':' in the offset"),
            ("2024-03-01T10:15:02.Z", 20, "expected a fraction digit"),
            (
                "2024-02-30T10:15:02Z",
                8,
                "day does not exist in that month",
            ),
        ] {
            assert_eq!(
                LabTimestamp::parse_rfc3339(text),
                Err(err(form, offset, reason)),
                "{text}"
            );
        }
        assert!(hl7("20240301101502").to_rfc3339().is_err());
        assert!(hl7("202403011015+0100").to_rfc3339().is_err());
    }

    #[test]
    fn iso8601_every_precision() {
        let cases = [
            ("2024", "2024"),
            ("2024-03", "202403"),
            ("2024-03-01", "20240301"),
            ("2024-03-01T10", "2024030110"),
            ("2024-03-01T10:15", "202403011015"),
            ("2024-03-01T10:15:02", "20240301101502"),
            ("2024-03-01T10:15:02.5", "20240301101502.5"),
            ("2024-03-01T10:15:02.123456789", "20240301101502.123456789"),
            ("2024Z", "2024+0000"),
            ("2024-03:30", "2024-0330"),
            ("2024-03-05:00", "202403-0500"),
            ("2024-03-01-05:00", "20240301-0500"),
            ("2024-03-01T10+01:00", "2024030110+0100"),
            ("2024-03-01T10:15:02.120Z", "20240301101502.120+0000"),
        ];
        for (iso, hl7_text) in cases {
            let parsed = LabTimestamp::parse_iso8601(iso).unwrap();
            assert_eq!(parsed, hl7(hl7_text), "{iso}");
            assert_eq!(parsed.to_iso8601(), iso);
            assert_eq!(parsed.to_string(), iso);
            assert_eq!(iso.parse::<LabTimestamp>(), Ok(parsed));
        }
        let form = TimestampForm::Iso8601;
        for (text, offset, reason) in [
            ("2024-02-30", 8, "day does not exist in that month"),
            ("2024-03-01t10:15", 10, "unexpected character"),
            ("2024-03-01T10:15z", 16, "unexpected character"),
            ("2024-03-01T", 11, "hour must have two digits"),
            ("2024-03-01T10:15.5", 16, "a fraction needs seconds"),
            ("2024-3", 6, "month must have two digits"),
            ("2024-03-01T10Z+", 14, "unexpected text after the offset"),
            ("20240301", 4, "unexpected character"),
        ] {
            assert_eq!(
                LabTimestamp::parse_iso8601(text),
                Err(err(form, offset, reason)),
                "{text}"
            );
        }
    }

    #[test]
    fn json() {
        let value = LabTimestamp::parse_rfc3339("2024-03-01T10:15:02.120+01:00").unwrap();
        let json = serde_json::to_string(&value).unwrap();
        assert_eq!(json, r#""2024-03-01T10:15:02.120+01:00""#);
        assert_eq!(serde_json::from_str::<LabTimestamp>(&json).unwrap(), value);
        let owned: LabTimestamp =
            serde_json::from_value(serde_json::Value::String(json.trim_matches('"').into()))
                .unwrap();
        assert_eq!(owned, value);
        let month: LabTimestamp = serde_json::from_str(r#""2024-03""#).unwrap();
        assert_eq!(month.precision(), Precision::Month);

        let bad = serde_json::from_str::<LabTimestamp>(r#""2024-02-30""#).unwrap_err();
        assert!(bad.to_string().contains("day does not exist"), "{bad}");
        assert!(!bad.to_string().contains("2024-02-30"), "{bad}");

        let time = DicomTime::parse_dicom_tm("10:15:02.5").unwrap();
        let json = serde_json::to_string(&time).unwrap();
        assert_eq!(json, r#""101502.5""#);
        assert_eq!(serde_json::from_str::<DicomTime>(&json).unwrap(), time);
    }

    #[test]
    fn precision_names_round_trip_and_refuse_invalid_digits() {
        let all = [
            Precision::Year,
            Precision::Month,
            Precision::Day,
            Precision::Hour,
            Precision::Minute,
            Precision::Second,
        ]
        .into_iter()
        .chain((1..=9).map(Precision::Fraction));
        for precision in all {
            assert_eq!(Precision::from_name(&precision.name()), Some(precision));
            let json = serde_json::to_string(&precision).unwrap();
            assert_eq!(serde_json::from_str::<Precision>(&json).unwrap(), precision);
        }
        assert_eq!(Precision::Fraction(3).name(), "fraction_3");
        for bad in ["fraction_0", "fraction_10", "fraction_", "Second", ""] {
            assert_eq!(Precision::from_name(bad), None, "{bad}");
        }
        assert!(serde_json::from_str::<Precision>(r#""fraction_0""#).is_err());
    }

    #[test]
    fn error_offsets_and_reasons() {
        let form = TimestampForm::Hl7Dtm;
        for (text, offset, reason) in [
            ("", 0, "empty value"),
            ("202", 3, "year must have four digits"),
            ("2024023", 7, "day must have two digits"),
            ("20240230", 6, "day does not exist in that month"),
            ("20230229", 6, "day does not exist in that month"),
            ("20241301", 4, "month must be 01..12"),
            ("20240001", 4, "month must be 01..12"),
            ("20240300", 6, "day must be 01..31"),
            ("2024030124", 8, "hour must be 00..23"),
            ("202403011060", 10, "minute must be 00..59"),
            ("20240301101561", 12, "second must be 00..60"),
            ("20240301101502.", 15, "expected a fraction digit"),
            ("202403011015.5", 12, "a fraction needs seconds"),
            ("20240301101502.1234567890", 24, "too many fraction digits"),
            ("20240301+01", 11, "offset minutes must have two digits"),
            ("20240301+2400", 9, "offset hours must be 00..23"),
            ("20240301+0160", 11, "offset minutes must be 00..59"),
            ("20240301+0100Z", 13, "unexpected text after the offset"),
            ("20240301+0100+0100", 13, "unexpected text after the offset"),
            ("20240301 ", 8, "unexpected character"),
            ("2024-03-01", 7, "offset minutes must have two digits"),
            ("20240301101502.5.5", 16, "unexpected character"),
        ] {
            assert_eq!(
                LabTimestamp::parse_hl7(text),
                Err(err(form, offset, reason)),
                "{text:?}"
            );
        }
        assert!(LabTimestamp::parse_hl7("20240229").is_ok());
        let form = TimestampForm::UtcOffset;
        assert_eq!(parse_utc_offset("+0100"), Ok(off(60).unwrap()));
        assert_eq!(parse_utc_offset("-0330"), Ok(off(-210).unwrap()));
        assert_eq!(parse_utc_offset("+0000"), Ok(off(0).unwrap()));
        for (text, offset, reason) in [
            ("", 0, "empty value"),
            ("0100", 0, "expected '+' or '-'"),
            ("+2400", 1, "offset hours must be 00..23"),
            ("+0160", 3, "offset minutes must be 00..59"),
            ("+01", 3, "offset minutes must have two digits"),
            ("+01000", 5, "unexpected text after the offset"),
        ] {
            assert_eq!(
                parse_utc_offset(text),
                Err(err(form, offset, reason)),
                "{text}"
            );
        }
        let message = LabTimestamp::parse_hl7("19700230").unwrap_err().to_string();
        assert_eq!(
            message,
            "invalid HL7 DTM timestamp at byte 6: day does not exist in that month"
        );
    }

    #[test]
    fn leap_second_round_trip() {
        let leap = hl7("20161231235960");
        assert_eq!(leap.naive().time().second(), 59);
        assert_eq!(leap.naive().time().nanosecond(), 1_000_000_000);
        assert_eq!(leap.format_hl7(), "20161231235960");
        assert_eq!(leap.to_iso8601(), "2016-12-31T23:59:60");
        let zoned = LabTimestamp::parse_rfc3339("2016-12-31T23:59:60.5Z").unwrap();
        assert_eq!(zoned.to_rfc3339().unwrap(), "2016-12-31T23:59:60.5Z");
        assert_eq!(
            LabTimestamp::parse_dicom_dt("20161231235960.25")
                .unwrap()
                .format_dicom_dt()
                .unwrap(),
            "20161231235960.25"
        );
        assert_eq!(
            zoned.truncate(Precision::Second).to_iso8601(),
            "2016-12-31T23:59:60Z"
        );
        assert_eq!(
            zoned.truncate(Precision::Minute).to_iso8601(),
            "2016-12-31T23:59Z"
        );
        let via_chrono =
            LabTimestamp::from_chrono(zoned.to_fixed().unwrap(), Precision::Fraction(1));
        assert_eq!(via_chrono, Ok(zoned));
    }

    #[test]
    fn zones_are_never_guessed() {
        let value = hl7("20240301101502-0330");
        assert_eq!(
            value.to_utc().unwrap().to_rfc3339(),
            "2024-03-01T13:45:02+00:00"
        );
        assert_eq!(
            value.to_fixed().unwrap().offset().local_minus_utc(),
            -12_600
        );
        let local = hl7("20240301101502");
        assert_eq!(local.to_utc(), None);
        assert_eq!(local.to_fixed(), None);
        let attached = local.with_offset(off(60)).unwrap();
        assert_eq!(attached, hl7("20240301101502+0100"));
        assert_eq!(attached.with_offset(None), Ok(local));
        assert!(local.with_offset(FixedOffset::east_opt(30)).is_err());
        assert!(local.with_offset(FixedOffset::east_opt(86_399)).is_err());
    }

    #[test]
    fn truncate_never_refines() {
        let value = hl7("20240301101502.123+0100");
        assert_eq!(value.truncate(Precision::Fraction(9)), value);
        assert_eq!(value.truncate(Precision::Fraction(0)), value);
        assert_eq!(
            value.truncate(Precision::Fraction(1)),
            hl7("20240301101502.1+0100")
        );
        assert_eq!(value.truncate(Precision::Day), hl7("20240301+0100"));
        assert_eq!(value.truncate(Precision::Year), hl7("2024+0100"));
        let month = hl7("202403");
        assert_eq!(month.truncate(Precision::Second), month);
        assert_eq!(
            month.truncate(Precision::Second).precision(),
            Precision::Month
        );
        assert!(Precision::Fraction(1).is_finer_than(Precision::Second));
        assert!(Precision::Year.is_coarser_than(Precision::Month));
        assert_eq!(Precision::Fraction(4).fraction_digits(), 4);
        assert_eq!(Precision::Second.fraction_digits(), 0);
    }

    #[test]
    fn new_validates_and_truncates() {
        let dt = NaiveDate::from_ymd_opt(2024, 3, 17)
            .unwrap()
            .and_hms_nano_opt(10, 15, 2, 123_456_789)
            .unwrap();
        let minute = LabTimestamp::new(dt, Precision::Minute, None).unwrap();
        assert_eq!(
            minute.naive().time(),
            NaiveTime::from_hms_opt(10, 15, 0).unwrap()
        );
        let ms = LabTimestamp::new(dt, Precision::Fraction(3), None).unwrap();
        assert_eq!(ms.naive().time().nanosecond(), 123_000_000);
        let year = LabTimestamp::new(dt, Precision::Year, None).unwrap();
        assert_eq!(
            year.naive(),
            NaiveDate::from_ymd_opt(2024, 1, 1)
                .unwrap()
                .and_time(NaiveTime::MIN)
        );
        assert!(LabTimestamp::new(dt, Precision::Fraction(0), None).is_err());
        assert!(LabTimestamp::new(dt, Precision::Fraction(10), None).is_err());
        let far = NaiveDate::from_ymd_opt(10_000, 1, 1)
            .unwrap()
            .and_time(NaiveTime::MIN);
        assert!(LabTimestamp::new(far, Precision::Day, None).is_err());
        let bc = NaiveDate::from_ymd_opt(-1, 1, 1)
            .unwrap()
            .and_time(NaiveTime::MIN);
        assert!(LabTimestamp::new(bc, Precision::Day, None).is_err());
    }

    // ---- property tests ------------------------------------------------------

    prop_compose! {
        fn precision()(rank in 0u16..=14) -> Precision {
            Precision::from_rank(rank)
        }
    }

    prop_compose! {
        fn time_of_day(finest: u16)(
            rank in 3u16..=finest,
            hour in 0u32..24,
            minute in 0u32..60,
            second in 0u32..60,
            nanos in 0u32..NANOS_PER_SECOND,
            leap in prop::bool::weighted(0.1),
        ) -> (NaiveTime, Precision) {
            let time = if leap {
                NaiveTime::from_hms_nano_opt(hour, minute, 59, nanos + NANOS_PER_SECOND)
            } else {
                NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
            };
            (time.unwrap(), Precision::from_rank(rank))
        }
    }

    prop_compose! {
        fn lab_timestamp()(
            precision in precision(),
            year in 0i32..=9999,
            month in 1u32..=12,
            day in 1u32..=31,
            (time, _) in time_of_day(14),
            offset in prop::option::of(-1439i32..=1439),
        ) -> LabTimestamp {
            let day = (1..=day).rev().find(|&d| NaiveDate::from_ymd_opt(year, month, d).is_some()).unwrap();
            let date = NaiveDate::from_ymd_opt(year, month, day).unwrap();
            let offset = offset.map(|m| FixedOffset::east_opt(m * 60).unwrap());
            LabTimestamp::new(NaiveDateTime::new(date, time), precision, offset).unwrap()
        }
    }

    prop_compose! {
        fn dicom_time()((time, precision) in time_of_day(11)) -> DicomTime {
            DicomTime::new(time, precision).unwrap()
        }
    }

    /// Checks a parser result: errors point inside the text, successes re-parse to themselves.
    fn check<T: PartialEq + fmt::Debug>(
        text: &str,
        result: Result<T>,
        reformat: impl Fn(&T) -> Option<String>,
        reparse: impl Fn(&str) -> Result<T>,
    ) {
        match result {
            Err(ModelError::Timestamp { offset, .. }) => assert!(offset <= text.len(), "{text:?}"),
            Err(other) => panic!("unexpected error kind {other:?} for {text:?}"),
            Ok(value) => {
                if let Some(again) = reformat(&value) {
                    assert_eq!(
                        reparse(&again).as_ref(),
                        Ok(&value),
                        "{text:?} -> {again:?}"
                    );
                }
            }
        }
    }

    fn exercise(text: &str) {
        check(
            text,
            LabTimestamp::parse_hl7(text),
            |v| Some(v.format_hl7()),
            LabTimestamp::parse_hl7,
        );
        check(
            text,
            LabTimestamp::parse_astm(text),
            |v| Some(v.format_astm()),
            LabTimestamp::parse_astm,
        );
        check(
            text,
            LabTimestamp::parse_dicom_da(text),
            |v| v.format_dicom_da().ok(),
            LabTimestamp::parse_dicom_da,
        );
        check(
            text,
            LabTimestamp::parse_dicom_dt(text),
            |v| v.format_dicom_dt().ok(),
            LabTimestamp::parse_dicom_dt,
        );
        check(
            text,
            LabTimestamp::parse_rfc3339(text),
            |v| v.to_rfc3339().ok(),
            LabTimestamp::parse_rfc3339,
        );
        check(
            text,
            LabTimestamp::parse_iso8601(text),
            |v| Some(v.to_iso8601()),
            LabTimestamp::parse_iso8601,
        );
        check(
            text,
            DicomTime::parse_dicom_tm(text),
            |v| Some(v.format_dicom_tm()),
            DicomTime::parse_dicom_tm,
        );
        check(text, parse_utc_offset(text), |_| None, parse_utc_offset);
        let _ = serde_json::from_value::<LabTimestamp>(serde_json::Value::String(text.into()));
    }

    /// Valid text in some form with one edit, to reach deep parser states.
    fn mutated() -> impl Strategy<Value = String> {
        (
            lab_timestamp(),
            0u8..4,
            0u8..3,
            any::<prop::sample::Index>(),
            prop::sample::select(b"0123456789+-.:TZtz &".to_vec()),
        )
            .prop_map(|(value, form, edit, index, byte)| {
                let mut bytes = match form {
                    0 => value.format_hl7(),
                    1 => value.to_iso8601(),
                    2 => value.format_dicom_dt().unwrap_or_default(),
                    _ => value.to_rfc3339().unwrap_or_else(|_| value.to_iso8601()),
                }
                .into_bytes();
                let at = index.index(bytes.len() + 1);
                match edit {
                    0 => bytes.truncate(at),
                    1 => bytes.insert(at, byte),
                    _ if at < bytes.len() => bytes[at] = byte,
                    _ => bytes.push(byte),
                }
                String::from_utf8(bytes).unwrap()
            })
    }

    proptest! {
        #[test]
        fn iso8601_round_trip(value in lab_timestamp()) {
            prop_assert_eq!(LabTimestamp::parse_iso8601(&value.to_iso8601()), Ok(value));
            prop_assert_eq!(value.to_string().parse::<LabTimestamp>(), Ok(value));
        }

        #[test]
        fn hl7_and_astm_round_trip(value in lab_timestamp()) {
            prop_assert_eq!(LabTimestamp::parse_hl7(&value.format_hl7()), Ok(value));
            prop_assert_eq!(LabTimestamp::parse_astm(&value.format_astm()), Ok(value));
        }

        #[test]
        fn dicom_dt_round_trip(value in lab_timestamp()) {
            match value.format_dicom_dt() {
                Ok(text) => prop_assert_eq!(LabTimestamp::parse_dicom_dt(&text), Ok(value)),
                Err(_) => prop_assert!(value.precision().fraction_digits() > 6),
            }
        }

        #[test]
        fn dicom_da_round_trip(value in lab_timestamp()) {
            if let Ok(text) = value.format_dicom_da() {
                let day = value.truncate(Precision::Day).with_offset(None).unwrap();
                prop_assert_eq!(LabTimestamp::parse_dicom_da(&text), Ok(day));
            }
        }

        #[test]
        fn rfc3339_round_trip(value in lab_timestamp()) {
            match value.to_rfc3339() {
                Ok(text) => prop_assert_eq!(LabTimestamp::parse_rfc3339(&text), Ok(value)),
                Err(_) => prop_assert!(
                    value.offset().is_none() || value.precision().is_coarser_than(Precision::Second)
                ),
            }
        }

        #[test]
        fn json_round_trip(value in lab_timestamp(), time in dicom_time()) {
            let json = serde_json::to_string(&value).unwrap();
            prop_assert_eq!(serde_json::from_str::<LabTimestamp>(&json).unwrap(), value);
            let json = serde_json::to_string(&time).unwrap();
            prop_assert_eq!(serde_json::from_str::<DicomTime>(&json).unwrap(), time);
        }

        #[test]
        fn dicom_tm_round_trip(time in dicom_time()) {
            prop_assert_eq!(DicomTime::parse_dicom_tm(&time.format_dicom_tm()), Ok(time));
        }

        #[test]
        fn strategy_values_satisfy_invariants(value in lab_timestamp(), target in precision()) {
            prop_assert_eq!(LabTimestamp::new(value.naive(), value.precision(), value.offset()), Ok(value));
            let truncated = value.truncate(target);
            prop_assert!(!truncated.precision().is_finer_than(value.precision()));
            prop_assert_eq!(LabTimestamp::parse_iso8601(&truncated.to_iso8601()), Ok(truncated));
        }

        #[test]
        fn never_panics_on_any_string(text in any::<String>()) {
            exercise(&text);
        }

        #[test]
        fn never_panics_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..48)) {
            exercise(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn never_panics_on_timestamp_alphabet(text in "[0123456789+.:TZtz &-]{0,40}") {
            exercise(&text);
        }

        #[test]
        fn never_panics_on_digit_runs(text in "[0-9]{0,16}([.][0-9]{0,11})?([+-][0-9]{0,5})? ?") {
            exercise(&text);
        }

        #[test]
        fn never_panics_on_mutated_values(text in mutated()) {
            exercise(&text);
        }
    }

    #[cfg(feature = "arbitrary")]
    mod arbitrary_values {
        use super::super::*;
        use arbitrary::{Arbitrary, Unstructured};
        use proptest::prelude::*;

        #[test]
        fn empty_input_still_gives_values() {
            let mut u = Unstructured::new(&[]);
            assert!(LabTimestamp::arbitrary(&mut u).is_ok());
            assert!(DicomTime::arbitrary(&mut u).is_ok());
            assert!(Precision::arbitrary(&mut u).is_ok());
        }

        proptest! {
            #[test]
            fn arbitrary_values_are_valid(bytes in prop::collection::vec(any::<u8>(), 0..96)) {
                let mut u = Unstructured::new(&bytes);
                let value = LabTimestamp::arbitrary(&mut u).unwrap();
                prop_assert_eq!(
                    LabTimestamp::new(value.naive(), value.precision(), value.offset()),
                    Ok(value)
                );
                let json = serde_json::to_string(&value).unwrap();
                prop_assert_eq!(serde_json::from_str::<LabTimestamp>(&json).unwrap(), value);
                prop_assert_eq!(LabTimestamp::parse_hl7(&value.format_hl7()), Ok(value));
                let time = DicomTime::arbitrary(&mut u).unwrap();
                prop_assert_eq!(DicomTime::new(time.time(), time.precision()), Ok(time));
                prop_assert_eq!(DicomTime::parse_dicom_tm(&time.format_dicom_tm()), Ok(time));
            }
        }
    }
}
