//! Writing E1394 / LIS02-A2 records and messages, and the lab model's work orders as an
//! ASTM order download (host → instrument).
//!
//! Two layers, like the reading side:
//!
//! * [`MessageBuilder`] writes records from field texts with a message's delimiters. Every
//!   value is escaped ([`record::escape`] for the delimiters, CR and LF; `&Xhh&` for the other
//!   characters E1381 §6.6 forbids in frame text), so any text reads back unchanged and any
//!   message it builds can be framed. The `H` record starts `H|\^&` (the delimiter
//!   definition, LIS02-A2 §6.2) and every record ends with CR (LIS02-A2 §5.2).
//! * [`order_message`] writes a [`WorkOrder`] as `H P O [C…] L`, the shape instruments accept
//!   for order download; [`query_answer_message`] answers an instrument's query (`Q` record)
//!   the same way. [`work_orders_from_message`] reads such a message back, and
//!   [`normalize_for_astm`] says exactly which parts of a work order survive the trip.
//!
//! Messages read from the wire need no writer: an unedited [`Message`] writes back byte for
//! byte with [`Message::as_bytes`].
//!
//! ```
//! use labwire_astm::frame::{self, FrameNumber};
//! use labwire_astm::model::Dialect;
//! use labwire_astm::record::{Message, RecordOptions};
//! use labwire_astm::write::{HeaderInfo, normalize_for_astm, order_message, work_orders_from_message};
//! use labwire_model::{Coding, Identifier, Order, Priority, Sensitive, Specimen, WorkOrder};
//!
//! let work = WorkOrder {
//!     specimen: Some(Specimen {
//!         ids: vec![Sensitive::new(Identifier::new("S24-000123"))],
//!         ..Specimen::default()
//!     }),
//!     order: Order {
//!         tests: vec![Coding::local("GLU"), Coding::local("CRP")],
//!         priority: Some(Priority::Stat),
//!         ..Order::default()
//!     },
//!     ..WorkOrder::default()
//! };
//! let mut header = HeaderInfo::default();
//! header.sender = vec!["LIS".into()];
//! let text = order_message(&work, &header);
//! assert_eq!(
//!     text,
//!     b"H|\\^&|||LIS|||||||P|LIS2-A2\rP|1\rO|1|S24-000123||^^^GLU\\^^^CRP|S||||||N||||||||||||||O\rL|1|N\r"
//! );
//!
//! // Framed for the wire: STX 1 … ETX checksum CR LF.
//! let mut wire = Vec::new();
//! frame::encode_message_into(&mut wire, &text, frame::DEFAULT_MAX_TEXT, FrameNumber::FIRST)?;
//!
//! // Read back: what ASTM carries of the work order.
//! let (message, _) = Message::parse(&text, &RecordOptions::default())?;
//! let orders = work_orders_from_message(&message, &Dialect::generic());
//! assert_eq!(orders, [normalize_for_astm(&work, &header)]);
//! # Ok::<(), labwire_astm::Error>(())
//! ```

use std::fmt;

use labwire_model::{
    AdministrativeSex, Coding, Container, Identifier, Instrument, LabTimestamp, Order, Patient,
    PersonName, Precision, Priority, Provenance, Sensitive, SourceProtocol, Specimen, SpecimenRole,
    Text, WorkOrder,
};

use crate::error::Error;
use crate::frame;
use crate::model::{
    Dialect, comment_text, patient_of, read_timestamp, test_code, text, timestamp, trimmed,
};
use crate::record::{self, Charset, Delimiters, Message, Record, RecordError, RecordType};

/// Record separator (LIS02-A2 §5.2).
const CR: u8 = b'\r';

/// The highest field number a [`RecordWriter`] writes. LIS02-A2's longest record, the patient
/// record, has 35 fields and vendors add a few; the limit only keeps a mistyped number from
/// writing a record of millions of empty fields.
pub const MAX_FIELD_NUMBER: usize = 255;

/// The highest component number [`HeaderInfo::test_code_component`] may name.
pub const MAX_TEST_CODE_COMPONENT: usize = 16;

// ---------------------------------------------------------------------------------------------
// Records and messages
// ---------------------------------------------------------------------------------------------

/// Builds a message record by record. See the [module documentation](self).
///
/// ```
/// use labwire_astm::record::{Delimiters, Message, RecordOptions, RecordType};
/// use labwire_astm::write::MessageBuilder;
///
/// let mut message = MessageBuilder::new(Delimiters::default())?;
/// message.record(RecordType::HEADER, |h| {
///     h.text(5, "LIS");
/// })?;
/// message.record(RecordType::COMMENT, |c| {
///     c.text(2, "1").text(3, "L").text(4, "clotted | re-run").text(5, "G");
/// })?;
/// message.record(RecordType::TERMINATOR, |l| {
///     l.text(2, "1").text(3, "N");
/// })?;
/// let text = message.finish();
/// assert_eq!(text, b"H|\\^&|||LIS\rC|1|L|clotted &F& re-run|G\rL|1|N\r");
/// let (parsed, _) = Message::parse(&text, &RecordOptions::default())?;
/// assert_eq!(parsed.record(1).unwrap().field(4).text(), "clotted | re-run");
/// # Ok::<(), labwire_astm::Error>(())
/// ```
#[derive(Clone)]
pub struct MessageBuilder {
    delimiters: Delimiters,
    charset: Charset,
    text: Vec<u8>,
    records: usize,
    replaced: usize,
}

impl fmt::Debug for MessageBuilder {
    /// Record contents can identify patients, so Debug shows only sizes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageBuilder")
            .field("delimiters", &self.delimiters)
            .field("charset", &self.charset)
            .field("records", &self.records)
            .field("len", &self.text.len())
            .finish()
    }
}

impl MessageBuilder {
    /// A builder writing with `delimiters`, in UTF-8.
    ///
    /// Fails with [`RecordError::Delimiters`] (as [`Error::Record`]) when the delimiters could
    /// not be read back: a letter, digit, space, line end or non-ASCII byte, two equal ones
    /// (the rules [`Delimiters::from_header`] applies), or a control character, which E1381
    /// §6.6 forbids in frame text or which no reader expects as a delimiter.
    pub fn new(delimiters: Delimiters) -> Result<Self, Error> {
        let [field, repeat, component, escape] = delimiters.header_text();
        Delimiters::from_header(&[b'H', field, repeat, component, escape])?;
        if delimiters
            .header_text()
            .iter()
            .any(|byte| byte.is_ascii_control())
        {
            return Err(Error::Record(RecordError::Delimiters {
                offset: 0,
                reason: "a delimiter is a control character",
            }));
        }
        Ok(Self {
            delimiters,
            charset: Charset::Utf8,
            text: Vec::new(),
            records: 0,
            replaced: 0,
        })
    }

    /// Writes text in `charset` instead of UTF-8. The standard says ISO 8859-1 (E1394 §5.1);
    /// which one an instrument expects is configured per instrument, like the reading side's
    /// [`RecordOptions::charset`](crate::record::RecordOptions::charset).
    #[must_use]
    pub fn with_charset(mut self, charset: Charset) -> Self {
        self.charset = charset;
        self
    }

    /// The delimiters.
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    /// The character set text is written in.
    pub fn charset(&self) -> Charset {
        self.charset
    }

    /// Appends one record of type `kind`, whose fields `fill` sets, and its CR.
    ///
    /// Fails with [`Error::InvalidConfig`], writing nothing, when `kind` is not an ASCII
    /// letter: the reader takes a record's first character for its type, so anything else
    /// would not read back as a record of that type.
    pub fn record(
        &mut self,
        kind: RecordType,
        fill: impl FnOnce(&mut RecordWriter),
    ) -> Result<&mut Self, Error> {
        if !kind.0.is_ascii_alphabetic() {
            return Err(Error::InvalidConfig {
                field: "record type",
                reason: "must be an ASCII letter",
            });
        }
        let mut record = RecordWriter {
            kind,
            delimiters: self.delimiters,
            charset: self.charset,
            fields: Vec::new(),
            replaced: 0,
        };
        fill(&mut record);
        record.write_to(&mut self.text);
        self.records = self.records.saturating_add(1);
        self.replaced = self.replaced.saturating_add(record.replaced);
        Ok(self)
    }

    /// How many records were written.
    pub fn len(&self) -> usize {
        self.records
    }

    /// Whether no record was written yet.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// How many characters the charset could not represent; each was written as `?`. Always 0
    /// for UTF-8.
    pub fn replaced(&self) -> usize {
        self.replaced
    }

    /// The message text written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.text
    }

    /// The message text.
    pub fn finish(self) -> Vec<u8> {
        self.text
    }
}

/// The fields of one record being written; see [`MessageBuilder::record`].
///
/// Fields are numbered as the standard numbers them: the record type letter is field 1, so
/// the first field a writer sets is 2 (the sequence number) and, in the `H` record, 3 (field 2
/// is the delimiter definition, always written from the builder's delimiters). A number below
/// that, or above [`MAX_FIELD_NUMBER`], is ignored. Fields may be set in any order and set
/// again; fields never set are empty, and empty fields at the end of the record are not
/// written (`P|1`, not `P|1||||`).
#[derive(Clone)]
pub struct RecordWriter {
    kind: RecordType,
    delimiters: Delimiters,
    charset: Charset,
    /// Encoded fields; `fields[0]` is field 2.
    fields: Vec<Vec<u8>>,
    replaced: usize,
}

impl fmt::Debug for RecordWriter {
    /// Field contents can identify patients, so Debug shows only the type and size.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordWriter")
            .field("kind", &self.kind)
            .field("fields", &self.fields.len())
            .finish()
    }
}

impl RecordWriter {
    /// The record type.
    pub fn kind(&self) -> RecordType {
        self.kind
    }

    /// Sets field `number` to one value (a single component of a single repeat).
    pub fn text(&mut self, number: usize, text: &str) -> &mut Self {
        self.repeats(number, [[text]])
    }

    /// Sets field `number` to one repeat of `components` (`^^^GLU` is `["", "", "", "GLU"]`).
    pub fn components<C: AsRef<str>>(
        &mut self,
        number: usize,
        components: impl IntoIterator<Item = C>,
    ) -> &mut Self {
        self.repeats(number, [components])
    }

    /// Sets field `number` to `repeats`, each a list of components
    /// (`^^^GLU\^^^CRP` is `[["", "", "", "GLU"], ["", "", "", "CRP"]]`).
    pub fn repeats<R, C>(
        &mut self,
        number: usize,
        repeats: impl IntoIterator<Item = R>,
    ) -> &mut Self
    where
        R: IntoIterator<Item = C>,
        C: AsRef<str>,
    {
        let Some(slot) = self.slot(number) else {
            return self;
        };
        let mut encoded = Vec::new();
        let mut replaced = 0usize;
        for (repeat_index, repeat) in repeats.into_iter().enumerate() {
            if repeat_index > 0 {
                encoded.push(self.delimiters.repeat);
            }
            for (component_index, component) in repeat.into_iter().enumerate() {
                if component_index > 0 {
                    encoded.push(self.delimiters.component);
                }
                replaced = replaced.saturating_add(encode_value(
                    component.as_ref(),
                    self.delimiters,
                    self.charset,
                    &mut encoded,
                ));
            }
        }
        if let Some(field) = self.fields.get_mut(slot) {
            *field = encoded;
        }
        self.replaced = self.replaced.saturating_add(replaced);
        self
    }

    /// The index in `fields` of field `number`, growing `fields` to hold it; `None` for a
    /// number that cannot be set (see the type documentation).
    fn slot(&mut self, number: usize) -> Option<usize> {
        let first = if self.kind == RecordType::HEADER {
            3
        } else {
            2
        };
        if !(first..=MAX_FIELD_NUMBER).contains(&number) {
            return None;
        }
        let slot = number - 2;
        if self.fields.len() <= slot {
            self.fields.resize_with(slot + 1, Vec::new);
        }
        Some(slot)
    }

    /// Appends the record and its CR to `out`.
    fn write_to(&self, out: &mut Vec<u8>) {
        out.push(self.kind.0);
        if self.kind == RecordType::HEADER {
            // H-2, the delimiter definition: the field delimiter, then repeat, component and
            // escape (LIS02-A2 §6.2).
            out.extend_from_slice(&self.delimiters.header_text());
        }
        let written = self
            .fields
            .iter()
            .rposition(|field| !field.is_empty())
            .map_or(0, |last| last + 1);
        for (slot, field) in self.fields.iter().take(written).enumerate() {
            // In the H record, slot 0 is H-2, already written with its delimiter.
            if self.kind == RecordType::HEADER && slot == 0 {
                continue;
            }
            out.push(self.delimiters.field);
            out.extend_from_slice(field);
        }
        out.push(CR);
    }
}

/// Appends `text` to `out` escaped for a field, in `charset`. Returns how many characters
/// `charset` could not represent (written as `?`).
///
/// Delimiters, CR and LF are escaped by [`record::escape`]; the other
/// characters E1381 §6.6 forbids in frame text (STX, ETX, ENQ …) become `&Xhh&`, which the
/// reader decodes back to the byte, so the text survives framing.
fn encode_value(text: &str, delimiters: Delimiters, charset: Charset, out: &mut Vec<u8>) -> usize {
    let mut replaced = 0usize;
    let mut run_start = 0usize;
    for (at, character) in text.char_indices() {
        let restricted_ascii = u8::try_from(character)
            .ok()
            .filter(|byte| byte.is_ascii() && frame::is_restricted(*byte) && *byte != b'\n');
        let needs_charset = !character.is_ascii() && charset != Charset::Utf8;
        if restricted_ascii.is_none() && !needs_charset {
            continue;
        }
        record::escape(text.get(run_start..at).unwrap_or_default(), delimiters, out);
        run_start = at + character.len_utf8();
        match restricted_ascii {
            Some(byte) => {
                out.push(delimiters.escape);
                out.push(b'X');
                out.push(hex_digit(byte >> 4));
                out.push(hex_digit(byte));
                out.push(delimiters.escape);
            }
            None => {
                if !push_in_charset(character, charset, out) {
                    out.push(b'?');
                    replaced = replaced.saturating_add(1);
                }
            }
        }
    }
    record::escape(text.get(run_start..).unwrap_or_default(), delimiters, out);
    replaced
}

/// Uppercase hex digit of the low nibble.
fn hex_digit(nibble: u8) -> u8 {
    match nibble & 0x0F {
        digit @ 0..=9 => b'0' + digit,
        digit => b'A' + (digit - 10),
    }
}

/// Appends the bytes of a non-ASCII `character` in `charset`; `false` (nothing written)
/// when the charset has no such character.
fn push_in_charset(character: char, charset: Charset, out: &mut Vec<u8>) -> bool {
    if charset == Charset::ShiftJis {
        // One character: at most two bytes. Written raw, also when the second byte has a
        // delimiter's value: readers of Shift-JIS step over double-byte characters (see
        // `Charset::ShiftJis`), and escaping half a character would mean nothing to them.
        let mut utf8 = [0u8; 4];
        let (bytes, _, unmappable) =
            encoding_rs::SHIFT_JIS.encode(character.encode_utf8(&mut utf8));
        if unmappable {
            return false;
        }
        out.extend_from_slice(&bytes);
        return true;
    }
    match single_byte(character, charset) {
        Some(byte) => {
            out.push(byte);
            true
        }
        None => false,
    }
}

/// The byte `character` is written as in a single-byte `charset`, if it has one.
fn single_byte(character: char, charset: Charset) -> Option<u8> {
    let code = u32::from(character);
    match charset {
        // UTF-8 text never reaches here; a multi-byte character has no single byte.
        // Shift-JIS is not single-byte (see `push_in_charset`).
        Charset::Utf8 | Charset::ShiftJis => None,
        Charset::Latin1 => u8::try_from(code).ok(),
        Charset::Windows1252 => {
            // Windows-1252 is Latin-1 except in 0x80..=0x9F, which the reader's table decodes;
            // search that table rather than keep a second copy of it.
            let direct = u8::try_from(code)
                .ok()
                .filter(|byte| !(0x80..=0x9F).contains(byte));
            direct.or_else(|| {
                (0x80..=0x9F_u8).find(|byte| {
                    record::decode_charset(&[*byte], Charset::Windows1252)
                        .chars()
                        .eq([character])
                })
            })
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Order download
// ---------------------------------------------------------------------------------------------

/// What the host says about itself in the `H` record of a message it writes, and how it
/// writes the message. The library reads no clock and invents no ids: what is `None` is left
/// empty.
///
/// Messages are written with the standard's delimiters `|\^&`, which LIS02-A2 recommends and
/// instruments read from the header anyway; build the records with [`MessageBuilder`] for
/// others.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeaderInfo {
    /// H-3, message control id.
    pub message_id: Option<String>,
    /// H-4, access password; some instruments check it.
    pub password: Option<Sensitive<String>>,
    /// H-5, sender name or id, as components (`LIS^2.1`).
    pub sender: Vec<String>,
    /// H-10, receiver id, as components: the instrument, as it names itself.
    pub receiver: Vec<String>,
    /// H-11, comment or special instructions, as components (Roche's message type, such as
    /// `TSDWN^REAL` for a real-time order download).
    pub special_instructions: Vec<String>,
    /// H-12, processing id: `P` production (the default), `T` training, `D` debugging, `Q`
    /// quality control.
    pub processing_id: String,
    /// H-13, version. Default `LIS2-A2`; instruments accept what they send themselves, and
    /// some only that (`1`, `E 1394-97`).
    pub version: Option<String>,
    /// H-14, date and time of the message. Written `YYYYMMDDHHMMSS` (or fewer digits, as
    /// precise as it is), without fraction or offset: see [`astm_timestamp`].
    pub sent_at: Option<LabTimestamp>,
    /// The character set of the bytes written. Default UTF-8; most instruments expect
    /// ISO 8859-1 ([`Charset::Latin1`], E1394 §5.1). Characters the charset lacks are
    /// written as `?`.
    pub charset: Charset,
    /// The component of the universal test id (O-5) that carries the test code: 4 in
    /// LIS02-A2 (`^^^GLU`, the default), 5 on Sysmex XN (`^^^^WBC`). Values outside
    /// 1..=[`MAX_TEST_CODE_COMPONENT`] are clamped to that range.
    pub test_code_component: usize,
}

impl Default for HeaderInfo {
    fn default() -> Self {
        Self {
            message_id: None,
            password: None,
            sender: Vec::new(),
            receiver: Vec::new(),
            special_instructions: Vec::new(),
            processing_id: "P".to_owned(),
            version: Some("LIS2-A2".to_owned()),
            sent_at: None,
            charset: Charset::Utf8,
            test_code_component: 4,
        }
    }
}

impl HeaderInfo {
    /// [`Self::test_code_component`], clamped.
    fn code_component(&self) -> usize {
        self.test_code_component.clamp(1, MAX_TEST_CODE_COMPONENT)
    }
}

/// A timestamp as ASTM writes it: `YYYYMMDDHHMMSS`, or fewer digits when it is less precise
/// (`YYYYMMDD` for a birth date). Fractions of a second and the UTC offset are dropped:
/// LIS02-A2 dates have neither, and instruments refuse what they do not expect.
pub fn astm_timestamp(timestamp: LabTimestamp) -> String {
    let local = timestamp.with_offset(None).unwrap_or(timestamp);
    local.truncate(Precision::Second).format_astm()
}

/// Writes one work order as an order download message: `H`, `P` (patient), `O` (the order),
/// a `C` record per note, `L`. See [`orders_message`].
pub fn order_message(work: &WorkOrder, header: &HeaderInfo) -> Vec<u8> {
    orders_message(std::slice::from_ref(work), header)
}

/// Writes work orders as one order download message: `H`, then per order a `P` record, its
/// `O` record and a `C` record per note, then `L|1|N`.
///
/// | field | from |
/// |---|---|
/// | P-3, P-4, P-5 | the patient's first three non-blank ids |
/// | P-6 | name, `family^given^middle^suffix^prefix` |
/// | P-8, P-9 | birth date, sex code |
/// | O-3 | the specimen's first non-blank id, else the order's placer id |
/// | O-4 | `filler id^rack^position` (the container's carrier and position), when any is known |
/// | O-5 | the tests, `^^^code` repeated with `\` (the code in [`HeaderInfo::test_code_component`]) |
/// | O-6, O-7, O-8, O-15 | priority, requested, collected, received |
/// | O-12 | the order's action code; else `Q` for a control specimen, else `N` (new order) |
/// | O-16 | the specimen type's code |
/// | O-26 | the order's status; else `O` (an order, LIS02-A2 report type) |
/// | C-3, C-4, C-5 | `L` (from the information system), the note, `G` (generic) |
///
/// Everything else in a work order has no place in these records and is not written;
/// [`normalize_for_astm`] shows what is left. Blank values are left empty.
pub fn orders_message(works: &[WorkOrder], header: &HeaderInfo) -> Vec<u8> {
    write_orders(works, header, "O", "N")
}

/// Writes the host's answer to an instrument's query (a `Q` record): the work orders found,
/// as in [`orders_message`] but with report type `Q` (response to query) in O-26 unless an
/// order states its own, and termination code `F` (last request processed) in L-3; or, when
/// there is no work for the specimen, `H` and `L|1|I` (no information available, E1394
/// §13.1.3).
pub fn query_answer_message(works: &[WorkOrder], header: &HeaderInfo) -> Vec<u8> {
    let termination = if works.is_empty() { "I" } else { "F" };
    write_orders(works, header, "Q", termination)
}

fn write_orders(
    works: &[WorkOrder],
    header: &HeaderInfo,
    report_type: &str,
    termination: &str,
) -> Vec<u8> {
    let Ok(builder) = MessageBuilder::new(Delimiters::default()) else {
        // The standard delimiters are valid; this branch is never taken.
        return Vec::new();
    };
    let mut message = builder.with_charset(header.charset);
    // Every record type below is a letter, so `record` cannot fail.
    let _ = message.record(RecordType::HEADER, |h| write_header(h, header));
    for (index, work) in works.iter().enumerate() {
        let sequence = (index + 1).to_string();
        let _ = message.record(RecordType::PATIENT, |p| {
            write_patient(p, &sequence, work.patient.as_ref());
        });
        let _ = message.record(RecordType::ORDER, |o| {
            write_order(o, work, header, report_type);
        });
        let notes = work.notes.iter().filter(|note| !note.trim().is_empty());
        for (number, note) in notes.enumerate() {
            let _ = message.record(RecordType::COMMENT, |c| {
                c.text(2, &(number + 1).to_string())
                    .text(3, "L")
                    .text(4, note)
                    .text(5, "G");
            });
        }
    }
    let _ = message.record(RecordType::TERMINATOR, |l| {
        l.text(2, "1").text(3, termination);
    });
    message.finish()
}

fn write_header(h: &mut RecordWriter, header: &HeaderInfo) {
    if let Some(id) = &header.message_id {
        h.text(3, id);
    }
    if let Some(password) = &header.password {
        h.text(4, password.expose());
    }
    h.components(5, &header.sender)
        .components(10, &header.receiver)
        .components(11, &header.special_instructions)
        .text(12, &header.processing_id);
    if let Some(version) = &header.version {
        h.text(13, version);
    }
    if let Some(sent_at) = header.sent_at {
        h.text(14, &astm_timestamp(sent_at));
    }
}

fn write_patient(p: &mut RecordWriter, sequence: &str, patient: Option<&Patient>) {
    p.text(2, sequence);
    let Some(patient) = patient else {
        return;
    };
    let ids = patient
        .ids
        .iter()
        .map(|id| id.expose().value.as_str())
        .filter(|id| !id.trim().is_empty());
    for (number, id) in (3..=5).zip(ids) {
        p.text(number, id);
    }
    if let Some(name) = &patient.name {
        let name = name.expose();
        let parts = [
            &name.family,
            &name.given,
            &name.middle,
            &name.suffix,
            &name.prefix,
        ]
        .map(|part| part.as_deref().unwrap_or_default());
        p.components(6, trim_trailing_empty(&parts));
    }
    if let Some(birth_date) = &patient.birth_date {
        p.text(8, &astm_timestamp(*birth_date.expose()));
    }
    if let Some(sex) = &patient.sex {
        p.text(9, sex.expose().code());
    }
}

fn write_order(o: &mut RecordWriter, work: &WorkOrder, header: &HeaderInfo, report_type: &str) {
    let specimen = work.specimen.as_ref();
    let order = &work.order;
    o.text(2, "1");
    if let Some(id) = specimen_id(work) {
        o.text(3, id);
    }
    let container = specimen.and_then(|specimen| specimen.container.as_ref());
    let instrument_specimen_id = [
        order
            .filler_id
            .as_ref()
            .map(|id| id.expose().value.as_str()),
        container.and_then(|container| container.carrier.as_deref()),
        container.and_then(|container| container.position.as_deref()),
    ]
    .map(Option::unwrap_or_default);
    o.components(4, trim_trailing_empty(&instrument_specimen_id));
    let leading = header.code_component() - 1;
    let tests = order
        .tests
        .iter()
        .filter(|test| !test.code.trim().is_empty())
        .map(|test| std::iter::repeat_n("", leading).chain([test.code.as_str()]));
    o.repeats(5, tests);
    if let Some(priority) = &order.priority {
        o.text(6, priority.code());
    }
    if let Some(requested_at) = order.requested_at {
        o.text(7, &astm_timestamp(requested_at));
    }
    if let Some(collected_at) = specimen.and_then(|specimen| specimen.collected_at) {
        o.text(8, &astm_timestamp(collected_at));
    }
    o.text(12, &action_code(work));
    if let Some(received_at) = specimen.and_then(|specimen| specimen.received_at) {
        o.text(15, &astm_timestamp(received_at));
    }
    if let Some(kind) = specimen.and_then(|specimen| specimen.kind.as_ref()) {
        o.text(16, &kind.code);
    }
    o.text(
        26,
        non_blank(order.status.as_deref()).unwrap_or(report_type),
    );
}

/// O-3: the specimen's first non-blank id, else the order's placer id.
fn specimen_id(work: &WorkOrder) -> Option<&str> {
    let specimen_ids = work
        .specimen
        .iter()
        .flat_map(|specimen| specimen.ids.iter())
        .map(|id| id.expose().value.as_str());
    let placer_id = work
        .order
        .placer_id
        .as_ref()
        .map(|id| id.expose().value.as_str());
    specimen_ids
        .chain(placer_id)
        .find(|id| !id.trim().is_empty())
}

/// O-12: the order's own action code; else `Q` ("treat specimen as a QC test specimen",
/// LIS02-A2 §8.4.12) for a control specimen; else `N` (new order).
fn action_code(work: &WorkOrder) -> String {
    if let Some(action) = non_blank(work.order.action.as_deref()) {
        return action.to_owned();
    }
    let control = work
        .specimen
        .as_ref()
        .is_some_and(|specimen| specimen.role.is_quality_control());
    if control { "Q" } else { "N" }.to_owned()
}

fn non_blank(text: Option<&str>) -> Option<&str> {
    text.filter(|text| !text.trim().is_empty())
}

/// The components up to the last non-empty one (`["", "R1", ""]` → `["", "R1"]`), so a
/// field with nothing in it stays empty.
fn trim_trailing_empty<'a>(components: &'a [&'a str]) -> &'a [&'a str] {
    let end = components
        .iter()
        .rposition(|component| !component.is_empty())
        .map_or(0, |last| last + 1);
    components.get(..end).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Reading orders back
// ---------------------------------------------------------------------------------------------

/// Reads the orders of a message (an order download, or a query answer) as work orders: one
/// per `O` record, with the patient of the `P` record before it.
///
/// The fields are those [`orders_message`] writes, read the way [`crate::model`] reads them
/// from result messages (trimmed, test codes by `dialect`, the Delphi zero date `18991230`
/// read as no date), plus O-4's first component as the order's filler id. The instrument is
/// the receiver named in H-10.
///
/// Comments belong to the record before them (LIS02-A2: C records have no level of their
/// own): those after the `O` record are the order's notes; those after the `H` record apply
/// to every order of the message and those after a `P` record to every order of that patient,
/// so they come first in each such order's notes. `R`, `Q`, `S` and manufacturer records are
/// not orders: they are skipped, and so are the comments on them. A message without its `L`
/// record says so in each order's [`Provenance::warnings`].
pub fn work_orders_from_message(message: &Message<'_>, dialect: &Dialect) -> Vec<WorkOrder> {
    /// The record the next comment is about.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Commented {
        Header,
        Patient,
        Order,
        Skipped,
    }
    let mut orders: Vec<WorkOrder> = Vec::new();
    let Some(header) = message.header() else {
        return orders;
    };
    let provenance = Provenance {
        version: text(header.field(13)),
        message_id: text(header.field(3)),
        sender: text(header.field(5)),
        sent_at: timestamp(header.field(14)),
        ..Provenance::new(SourceProtocol::Astm)
    };
    let instrument = Instrument {
        name: text(header.field(10).component(1)),
        ..Instrument::default()
    };
    let mut patient: Option<Patient> = None;
    let mut header_notes: Vec<Text> = Vec::new();
    let mut patient_notes: Vec<Text> = Vec::new();
    let mut commented = Commented::Skipped;
    for record in message.records() {
        match record.kind() {
            RecordType::HEADER => commented = Commented::Header,
            RecordType::PATIENT => {
                // Orders are written `last^first` whatever the dialect.
                patient = Some(patient_of(&record, &Dialect::generic()));
                patient_notes.clear();
                commented = Commented::Patient;
            }
            RecordType::ORDER => {
                let mut work = order_of(&record, dialect);
                work.instrument = instrument.clone();
                work.patient = patient.clone();
                work.notes = header_notes.iter().chain(&patient_notes).cloned().collect();
                work.provenance = Provenance {
                    location: Some(Text::from_fmt(format_args!("O record {}", record.index()))),
                    ..provenance.clone()
                };
                orders.push(work);
                commented = Commented::Order;
            }
            RecordType::COMMENT => {
                let note = comment_text(&record);
                if note.is_empty() {
                    continue;
                }
                match commented {
                    Commented::Header => header_notes.push(note),
                    Commented::Patient => patient_notes.push(note),
                    Commented::Order => {
                        if let Some(work) = orders.last_mut() {
                            work.notes.push(note);
                        }
                    }
                    Commented::Skipped => {}
                }
            }
            // A manufacturer record, like a comment, has no level: the next comment is still
            // about the record before it.
            RecordType::MANUFACTURER => {}
            _ => commented = Commented::Skipped,
        }
    }
    if !message.is_complete() {
        for work in &mut orders {
            work.provenance
                .warnings
                .push("message has no L record: incomplete".into());
        }
    }
    orders
}

/// What ASTM carries of `work`: the work order [`work_orders_from_message`] reads back from
/// [`order_message`]`(work, header)`. Use it to see what an order download loses, or to
/// compare what an instrument echoes with what was sent.
///
/// * Texts are trimmed and blank ones dropped; identifiers keep only their value (no type or
///   issuer); codes (tests, specimen type) become local codes without display text.
/// * The patient keeps at most three ids, name, birth date and sex; it is present (perhaps
///   empty) even when `work` has none, because the `P` record always is.
/// * The specimen keeps the id written in O-3 (also the order's placer id), its type, its
///   collection and receipt times and its container's carrier and position; its role is
///   [`SpecimenRole::Control`] when the action code is `Q`, else [`SpecimenRole::Patient`].
/// * The order keeps its filler id, tests, priority, requested time, action code (`N` or `Q`
///   when it had none, see [`orders_message`]) and status (`O` when it had none).
/// * Times lose fractions and offsets ([`astm_timestamp`]); a date on 1899-12-30 is dropped.
/// * The instrument is only a name, `header.receiver`'s first component; the provenance is
///   built from `header`.
pub fn normalize_for_astm(work: &WorkOrder, header: &HeaderInfo) -> WorkOrder {
    let patient = work
        .patient
        .as_ref()
        .map_or_else(Patient::default, normalize_patient);
    let action = action_code(work).trim().to_owned();
    let specimen_id = specimen_id(work).map(|id| Sensitive::new(Identifier::new(id.trim())));
    let order = &work.order;
    let filler_id = order
        .filler_id
        .as_ref()
        .and_then(|id| trimmed(&id.expose().value))
        .map(|id| Sensitive::new(Identifier::new(id)));
    let source = work.specimen.clone().unwrap_or_default();
    let container = source.container.unwrap_or_default();
    let (carrier, position) = (
        container.carrier.as_deref().and_then(trimmed),
        container.position.as_deref().and_then(trimmed),
    );
    let specimen = Specimen {
        // O-4's first component stands in for a missing O-3, as the reader takes it.
        ids: specimen_id
            .clone()
            .or_else(|| filler_id.clone())
            .into_iter()
            .collect(),
        role: if action.eq_ignore_ascii_case("Q") {
            SpecimenRole::Control
        } else {
            SpecimenRole::Patient
        },
        kind: source
            .kind
            .as_ref()
            .and_then(|kind| trimmed(&kind.code))
            .map(Coding::local),
        collected_at: source.collected_at.and_then(normalize_timestamp),
        received_at: source.received_at.and_then(normalize_timestamp),
        container: (carrier.is_some() || position.is_some()).then(|| Container {
            carrier,
            position,
            ..Container::default()
        }),
        ..Specimen::default()
    };
    let order = Order {
        placer_id: specimen_id,
        filler_id,
        tests: order
            .tests
            .iter()
            .filter_map(|test| trimmed(&test.code))
            .map(Coding::local)
            .collect(),
        priority: order
            .priority
            .as_ref()
            .and_then(|priority| trimmed(priority.code()))
            .map(|code| Priority::from_code(&code)),
        requested_at: order.requested_at.and_then(normalize_timestamp),
        action: Some(action.into()),
        status: Some(
            non_blank(order.status.as_deref())
                .unwrap_or("O")
                .trim()
                .into(),
        ),
    };
    let components = |parts: &[String]| trimmed(&parts.join("^"));
    WorkOrder {
        instrument: Instrument {
            name: header.receiver.first().and_then(|name| trimmed(name)),
            ..Instrument::default()
        },
        patient: Some(patient),
        specimen: Some(specimen),
        order,
        notes: work.notes.iter().filter_map(|note| trimmed(note)).collect(),
        provenance: Provenance {
            version: header.version.as_deref().and_then(trimmed),
            message_id: header.message_id.as_deref().and_then(trimmed),
            sender: components(&header.sender),
            sent_at: header.sent_at.and_then(normalize_timestamp),
            location: Some("O record 2".into()),
            ..Provenance::new(SourceProtocol::Astm)
        },
    }
}

fn normalize_patient(patient: &Patient) -> Patient {
    let name = patient.name.as_ref().map(|name| {
        let name = name.expose();
        PersonName {
            family: name.family.as_deref().and_then(trimmed),
            given: name.given.as_deref().and_then(trimmed),
            middle: name.middle.as_deref().and_then(trimmed),
            suffix: name.suffix.as_deref().and_then(trimmed),
            prefix: name.prefix.as_deref().and_then(trimmed),
        }
    });
    Patient {
        ids: patient
            .ids
            .iter()
            .filter_map(|id| trimmed(&id.expose().value))
            .take(3)
            .map(|id| Sensitive::new(Identifier::new(id)))
            .collect(),
        name: name
            .filter(|name| *name != PersonName::default())
            .map(Sensitive::new),
        birth_date: patient
            .birth_date
            .as_ref()
            .and_then(|date| normalize_timestamp(*date.expose()))
            .map(Sensitive::new),
        sex: patient
            .sex
            .as_ref()
            .and_then(|sex| trimmed(sex.expose().code()))
            .map(|code| Sensitive::new(AdministrativeSex::from_code(&code))),
    }
}

/// The timestamp as it reads back from [`astm_timestamp`]'s text.
fn normalize_timestamp(timestamp: LabTimestamp) -> Option<LabTimestamp> {
    read_timestamp(&astm_timestamp(timestamp))
}

// The readers are `crate::model`'s, so that an O record means the same whether it
// came with results or as an order.

/// O-3 specimen id, O-4 `filler id^rack^position`, O-5 tests, O-6 priority, O-7 requested,
/// O-8 collected, O-12 action code, O-15 received, O-16 specimen type, O-26 report type.
fn order_of(record: &Record<'_>, dialect: &Dialect) -> WorkOrder {
    let instrument_specimen_id = record.field(4);
    let placer_id = text(record.field(3).component(1));
    let filler_id = text(instrument_specimen_id.component(1));
    let action = text(record.field(12));
    let control = action
        .as_deref()
        .is_some_and(|code| code.eq_ignore_ascii_case("Q"));
    let carrier = text(instrument_specimen_id.component(2));
    let position = text(instrument_specimen_id.component(3));
    let specimen = Specimen {
        ids: placer_id
            .clone()
            .or_else(|| filler_id.clone())
            .map(|id| Sensitive::new(Identifier::new(id)))
            .into_iter()
            .collect(),
        role: if control {
            SpecimenRole::Control
        } else {
            SpecimenRole::Patient
        },
        kind: text(record.field(16).component(1)).map(Coding::local),
        collected_at: timestamp(record.field(8)),
        received_at: timestamp(record.field(15)),
        container: (carrier.is_some() || position.is_some()).then(|| Container {
            carrier,
            position,
            ..Container::default()
        }),
        ..Specimen::default()
    };
    let order = Order {
        placer_id: placer_id.map(|id| Sensitive::new(Identifier::new(id))),
        filler_id: filler_id.map(|id| Sensitive::new(Identifier::new(id))),
        tests: record
            .field(5)
            .repeats()
            .filter_map(|test| test_code(test, dialect))
            .map(Coding::local)
            .collect(),
        priority: text(record.field(6)).map(|code| Priority::from_code(&code)),
        requested_at: timestamp(record.field(7)),
        action,
        status: text(record.field(26)),
    };
    WorkOrder {
        specimen: Some(specimen),
        order,
        ..WorkOrder::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordOptions;
    use proptest::prelude::*;

    fn parse(text: &[u8]) -> Message<'_> {
        Message::parse(text, &RecordOptions::default()).unwrap().0
    }

    #[test]
    fn records_end_with_cr_and_drop_trailing_empty_fields() {
        let mut message = MessageBuilder::new(Delimiters::default()).unwrap();
        message
            .record(RecordType::HEADER, |_| {})
            .unwrap()
            .record(RecordType::PATIENT, |p| {
                p.text(2, "1").text(9, "").text(40, "");
            })
            .unwrap()
            .record(RecordType::ORDER, |o| {
                o.text(5, "late").text(2, "1").text(5, "GLU");
            })
            .unwrap();
        assert_eq!(message.len(), 3);
        assert_eq!(message.finish(), b"H|\\^&\rP|1\rO|1|||GLU\r");
    }

    #[test]
    fn field_numbers_below_the_first_writable_one_or_too_high_are_ignored() {
        let mut message = MessageBuilder::new(Delimiters::default()).unwrap();
        message
            .record(RecordType::HEADER, |h| {
                h.text(0, "x").text(1, "x").text(2, "x").text(3, "ID");
            })
            .unwrap()
            .record(RecordType::RESULT, |r| {
                r.text(1, "x").text(MAX_FIELD_NUMBER + 1, "x").text(2, "1");
            })
            .unwrap();
        assert_eq!(message.as_bytes(), b"H|\\^&|ID\rR|1\r");
    }

    #[test]
    fn invalid_delimiters_and_record_types_are_refused() {
        let same = Delimiters {
            repeat: b'|',
            ..Delimiters::default()
        };
        assert!(matches!(
            MessageBuilder::new(same),
            Err(Error::Record(RecordError::Delimiters { .. }))
        ));
        let control = Delimiters {
            escape: 0x02,
            ..Delimiters::default()
        };
        assert!(MessageBuilder::new(control).is_err());
        let mut message = MessageBuilder::new(Delimiters::default()).unwrap();
        assert!(matches!(
            message.record(RecordType(b'|'), |_| {}),
            Err(Error::InvalidConfig { .. })
        ));
        assert!(message.is_empty());
    }

    #[test]
    fn values_are_escaped_so_they_read_back_and_can_be_framed() {
        let mut message = MessageBuilder::new(Delimiters::default()).unwrap();
        let nasty = "a|b\\c^d&e\rf\ng\x02h\x17i";
        message
            .record(RecordType::HEADER, |_| {})
            .unwrap()
            .record(RecordType::COMMENT, |c| {
                c.text(4, nasty);
            })
            .unwrap();
        let text = message.finish();
        assert_eq!(
            text,
            b"H|\\^&\rC|||a&F&b&R&c&S&d&E&e&X0D&f&X0A&g&X02&h&X17&i\r"
        );
        frame::validate_text(&text).unwrap();
        assert_eq!(parse(&text).record(1).unwrap().field(4).text(), nasty);
    }

    /// Shift-JIS characters are written as their two bytes, raw even when the second
    /// byte is a delimiter's (ソ is 83 5C): readers of Shift-JIS step over them.
    /// Characters Shift-JIS lacks become `?` and are counted.
    #[test]
    fn shift_jis_writes_double_byte_characters_raw() {
        let mut message = MessageBuilder::new(Delimiters::default())
            .unwrap()
            .with_charset(Charset::ShiftJis);
        message
            .record(RecordType::HEADER, |_| {})
            .unwrap()
            .record(RecordType::PATIENT, |p| {
                p.components(6, ["ソノダ", "タロウ"]).text(7, "€|");
            })
            .unwrap();
        assert_eq!(message.replaced(), 1);
        let text = message.finish();
        assert!(text.windows(3).any(|w| w == [0x83, 0x5C, 0x83]), "ソノ raw");
        let options = RecordOptions {
            charset: Charset::ShiftJis,
            ..RecordOptions::default()
        };
        let (parsed, _) = Message::parse(&text, &options).unwrap();
        let patient = parsed.record(1).unwrap();
        assert_eq!(patient.field(6).component(1).text(), "ソノダ");
        assert_eq!(patient.field(6).component(2).text(), "タロウ");
        assert_eq!(patient.field(7).text(), "?|");
        frame::validate_text(&text).unwrap();
    }

    #[test]
    fn single_byte_charsets_write_one_byte_per_character() {
        let mut message = MessageBuilder::new(Delimiters::default())
            .unwrap()
            .with_charset(Charset::Latin1);
        message
            .record(RecordType::PATIENT, |p| {
                p.text(6, "Müller µ €");
            })
            .unwrap();
        assert_eq!(message.replaced(), 1);
        assert_eq!(message.finish(), b"P|||||M\xfcller \xb5 ?\r");

        let mut message = MessageBuilder::new(Delimiters::default())
            .unwrap()
            .with_charset(Charset::Windows1252);
        message
            .record(RecordType::PATIENT, |p| {
                p.text(6, "€ ‰ é \u{81} \u{80}");
            })
            .unwrap();
        assert_eq!(message.replaced(), 1);
        assert_eq!(message.finish(), b"P|||||\x80 \x89 \xe9 \x81 ?\r");
    }

    #[test]
    fn cepheid_delimiters_are_written_in_the_header() {
        let cepheid = Delimiters {
            field: b'|',
            repeat: b'@',
            component: b'^',
            escape: b'\\',
        };
        let mut message = MessageBuilder::new(cepheid).unwrap();
        message
            .record(RecordType::HEADER, |h| {
                h.text(3, "URM-1");
            })
            .unwrap()
            .record(RecordType::ORDER, |o| {
                o.repeats(5, [["", "", "", "MTB@RIF"], ["", "", "", "HIV"]]);
            })
            .unwrap();
        let text = message.finish();
        assert_eq!(text, b"H|@^\\|URM-1\rO||||^^^MTB\\R\\RIF@^^^HIV\r");
        let message = parse(&text);
        let order = message.record(1).unwrap();
        assert_eq!(order.field(5).repeat(1).component(4).text(), "MTB@RIF");
        assert_eq!(order.field(5).repeat(2).component(4).text(), "HIV");
    }

    #[test]
    fn timestamps_are_written_without_fraction_or_offset() {
        let stamp = LabTimestamp::parse_hl7("20240301101502.123+0100").unwrap();
        assert_eq!(astm_timestamp(stamp), "20240301101502");
        let date = LabTimestamp::parse_astm("19800501").unwrap();
        assert_eq!(astm_timestamp(date), "19800501");
    }

    #[test]
    fn a_query_without_work_is_answered_with_no_information() {
        let text = query_answer_message(&[], &HeaderInfo::default());
        assert_eq!(text, b"H|\\^&||||||||||P|LIS2-A2\rL|1|I\r");
        let work = WorkOrder {
            specimen: Some(Specimen {
                ids: vec![Sensitive::new(Identifier::new("S1"))],
                ..Specimen::default()
            }),
            ..WorkOrder::default()
        };
        let text = query_answer_message(&[work], &HeaderInfo::default());
        let message = parse(&text);
        let order = message.record(2).unwrap();
        assert_eq!(order.field(26).text(), "Q");
        assert_eq!(message.record(3).unwrap().field(3).text(), "F");
    }

    #[test]
    fn comments_belong_to_the_record_before_them() {
        let text = b"H|\\^&\rC|1|L|batch 7|G\rP|1\rC|1|L|fasting|G\rO|1|S1\rC|1|L|tube 2|G\r\
            M|1|X\rC|2|L|haemolysed|G\rR|1|^^^GLU|5\rC|1|I|result note|G\rO|2|S2\r\
            P|2\rO|1|S3\rL|1|N\r";
        let orders = work_orders_from_message(&parse(text), &Dialect::generic());
        let notes: Vec<&[Text]> = orders.iter().map(|work| work.notes.as_slice()).collect();
        assert_eq!(
            notes,
            [
                &["batch 7", "fasting", "tube 2", "haemolysed"][..],
                &["batch 7", "fasting"][..],
                &["batch 7"][..],
            ]
        );
        assert_eq!(
            orders[1].provenance.location.as_deref(),
            Some("O record 10")
        );
    }

    #[test]
    fn sysmex_codes_go_in_component_5_and_read_back_with_the_sysmex_dialect() {
        let work = WorkOrder {
            order: Order {
                tests: vec![Coding::local("WBC"), Coding::local("RBC")],
                ..Order::default()
            },
            ..WorkOrder::default()
        };
        let header = HeaderInfo {
            test_code_component: 5,
            ..HeaderInfo::default()
        };
        let text = order_message(&work, &header);
        let message = parse(&text);
        assert_eq!(
            message.record(2).unwrap().field(5).raw(),
            b"^^^^WBC\\^^^^RBC"
        );
        let orders = work_orders_from_message(&message, &Dialect::sysmex_xn());
        assert_eq!(orders, [normalize_for_astm(&work, &header)]);
    }

    /// Four distinct ASCII punctuation characters: a legal delimiter set.
    fn delimiters() -> impl Strategy<Value = Delimiters> {
        let punctuation: Vec<u8> = (0x21..0x7f_u8).filter(u8::is_ascii_punctuation).collect();
        Just(punctuation)
            .prop_shuffle()
            .prop_map(|shuffled| Delimiters {
                field: shuffled[0],
                repeat: shuffled[1],
                component: shuffled[2],
                escape: shuffled[3],
            })
    }

    proptest! {
        /// Any texts in any fields, repeats and components, with any legal delimiters, read
        /// back unchanged; the message writes back byte for byte and can be framed.
        #[test]
        fn written_fields_read_back(
            delimiters in delimiters(),
            fields in proptest::collection::vec(
                proptest::collection::vec(proptest::collection::vec(any::<String>(), 1..4), 1..3),
                1..6,
            ),
        ) {
            let mut message = MessageBuilder::new(delimiters).unwrap();
            message.record(RecordType::HEADER, |h| { h.text(3, "id"); }).unwrap();
            message.record(RecordType::RESULT, |r| {
                for (index, repeats) in fields.iter().enumerate() {
                    r.repeats(index + 2, repeats);
                }
            }).unwrap();
            let text = message.finish();
            frame::validate_text(&text).unwrap();
            let (parsed, _) = Message::parse(&text, &RecordOptions::default()).unwrap();
            prop_assert_eq!(parsed.as_bytes(), &text[..]);
            prop_assert_eq!(parsed.delimiters(), delimiters);
            let record = parsed.record(1).unwrap();
            for (index, repeats) in fields.iter().enumerate() {
                let field = record.field(index + 2);
                let read: Vec<Vec<String>> = field
                    .repeats()
                    .map(|repeat| repeat.components().map(|c| c.text().into_owned()).collect())
                    .collect();
                // A field left empty (even one not written at the end of the record) reads
                // back as one empty repeat of one empty component, which is what it was.
                prop_assert_eq!(&read, repeats);
            }
        }
    }
}
