//! Reading HL7 data types into model values: text, codes (CWE/CE), identifiers (EI,
//! CX), names (XPN), times (DTM/TS), numbers, units, and the OBX value types.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use labwire_model::{
    AbsentReason, CodeSystem, Coding, Comparator, Decimal, Identifier, IdentifierType, Instrument,
    Interpretation, LabResult, LabTimestamp, LoincCode, PersonName, Quantity, ReferenceRange,
    ResultStatus, ResultValue, Sensitive, SubstanceLot, SubstanceType, Unit,
};

use super::{MapError, MapLocation, MapOptions, MapWarning, MapWarningKind, ValueProblem};
use crate::error::{Location, SegmentId, Warning, WarningKind};
use crate::message::{Component, Field, Message, Repetition, Segment, Subcomponent, Value};

pub(super) type MapResult<T> = Result<T, MapError>;

/// The views whose text can be decoded, so one set of helpers reads them all.
pub(super) trait View<'m>: Copy {
    fn raw_bytes(&self) -> &'m [u8];
    fn null(&self) -> bool;
    fn at(&self) -> Location;
    fn position(&self) -> usize;
    fn decode(&self, warnings: &mut Vec<Warning>) -> crate::Result<Cow<'m, str>>;
}

macro_rules! view {
    ($($name:ident),*) => {$(
        impl<'m> View<'m> for $name<'m> {
            fn raw_bytes(&self) -> &'m [u8] {
                self.raw()
            }
            fn null(&self) -> bool {
                self.is_null()
            }
            fn at(&self) -> Location {
                self.location()
            }
            fn position(&self) -> usize {
                self.offset()
            }
            fn decode(&self, warnings: &mut Vec<Warning>) -> crate::Result<Cow<'m, str>> {
                self.decoded_with_warnings(warnings)
            }
        }
    )*};
}

view!(Field, Repetition, Component, Subcomponent, Value);

/// HL7 coding system mnemonics (table 0396) and the model's systems.
pub(super) fn code_system(name: Option<&str>) -> CodeSystem {
    let Some(name) = name.map(str::trim).filter(|name| !name.is_empty()) else {
        return CodeSystem::Local(String::new());
    };
    let upper = name.to_ascii_uppercase();
    match upper.as_str() {
        "LN" => return CodeSystem::Loinc,
        // SNOMED CT (SCT), and the older SNOMED International mnemonics.
        "SCT" | "SNM" | "SNM3" => return CodeSystem::Snomed,
        "UCUM" => return CodeSystem::Ucum,
        _ => {}
    }
    // `HL7nnnn`: an HL7-defined table (0396: "HL7nnnn").
    if let Some(number) = upper.strip_prefix("HL7")
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && let Ok(table) = number.parse::<u16>()
    {
        return CodeSystem::Hl7Table(table);
    }
    // `99zzz` and `L` are local by table 0396. Instruments also name their own tables
    // after themselves (`3DHISTECH`, `MOLIS`), so every other name is read as local
    // too: a sender's code is never taken for a standard's.
    CodeSystem::Local(name.to_owned())
}

/// The media type of an ED/RP type of data (table 0191) and subtype (table 0291).
pub(super) fn media_type(kind: Option<&str>, subtype: Option<&str>) -> Option<String> {
    let family = |kind: &str| match kind.to_ascii_uppercase().as_str() {
        "IM" => Some("image"),
        "AP" => Some("application"),
        "TEXT" => Some("text"),
        "AU" => Some("audio"),
        _ => None,
    };
    match (kind, subtype) {
        (None, None) => None,
        (None, Some(subtype)) | (Some(_), Some(subtype)) if subtype.contains('/') => {
            Some(subtype.to_owned())
        }
        (Some(kind), Some(subtype)) => Some(match family(kind) {
            Some(family) => format!("{family}/{}", subtype.to_ascii_lowercase()),
            None => format!("{kind}/{subtype}"),
        }),
        (Some(kind), None) => Some(kind.to_owned()),
        (None, Some(subtype)) => Some(subtype.to_owned()),
    }
}

/// The ED encoding (table 0299) as the model names it.
pub(super) fn encoding_name(encoding: &str) -> String {
    match encoding.to_ascii_uppercase().as_str() {
        "BASE64" => "base64".to_owned(),
        "HEX" => "hex".to_owned(),
        _ => encoding.to_owned(),
    }
}

/// Reads values of one message, collecting warnings.
pub(super) struct Reader<'m> {
    pub(super) message: &'m Message<'m>,
    pub(super) options: MapOptions,
    /// The occurrence of each segment among those with its id (1-based).
    occurrences: Vec<u32>,
    pub(super) warnings: Vec<MapWarning>,
    /// Indexes of warnings pushed since the last `take_pending`.
    pending: Vec<usize>,
    /// Decoding relaxations already reported, by offset.
    decoding_seen: HashSet<(usize, WarningKind)>,
}

impl<'m> Reader<'m> {
    pub(super) fn new(message: &'m Message<'m>, options: &MapOptions) -> Self {
        let mut seen: HashMap<SegmentId, u32> = HashMap::new();
        let occurrences = message
            .segments()
            .map(|segment| {
                let count = seen.entry(SegmentId::new(segment.id())).or_insert(0);
                *count = count.saturating_add(1);
                *count
            })
            .collect();
        Self {
            message,
            options: options.clone(),
            occurrences,
            warnings: Vec::new(),
            pending: Vec::new(),
            decoding_seen: HashSet::new(),
        }
    }

    /// The mapping location of a syntax-layer location.
    pub(super) fn map_location(&self, location: &Location) -> MapLocation {
        let index = location
            .segment_number
            .and_then(|number| usize::try_from(number).ok())
            .and_then(|number| number.checked_sub(1));
        let occurrence = index
            .and_then(|index| self.occurrences.get(index).copied())
            .unwrap_or(1);
        MapLocation {
            segment: location.segment_id.unwrap_or_default(),
            occurrence,
            field: location.field,
            repetition: location.repetition,
            component: location.component,
            subcomponent: location.subcomponent,
        }
    }

    pub(super) fn segment_location(&self, segment: &Segment<'_>) -> MapLocation {
        MapLocation::segment(
            SegmentId::new(segment.id()),
            self.occurrences.get(segment.index()).copied().unwrap_or(1),
        )
    }

    pub(super) fn warn(&mut self, kind: MapWarningKind, location: MapLocation, offset: usize) {
        let warning = MapWarning {
            kind,
            location,
            offset,
        };
        // A value is decoded whole and by component; the relaxation of one escape
        // sequence (one offset) is reported once, at the first, widest, location.
        if let MapWarningKind::Decoding(problem) = kind
            && !self.decoding_seen.insert((offset, problem))
        {
            return;
        }
        let warning = match self.warnings.len().cmp(&self.options.max_warnings) {
            core::cmp::Ordering::Less => warning,
            core::cmp::Ordering::Equal => MapWarning {
                kind: MapWarningKind::TooManyWarnings,
                ..warning
            },
            core::cmp::Ordering::Greater => return,
        };
        self.pending.push(self.warnings.len());
        self.warnings.push(warning);
    }

    pub(super) fn warn_at<V: View<'m>>(&mut self, kind: MapWarningKind, view: V) {
        let location = self.map_location(&view.at());
        self.warn(kind, location, view.position());
    }

    /// Indexes of the warnings pushed since the last call.
    pub(super) fn take_pending(&mut self) -> Vec<usize> {
        core::mem::take(&mut self.pending)
    }

    /// The decoded text of a value; `None` when empty or the explicit null `""`.
    pub(super) fn text<V: View<'m>>(&mut self, view: V) -> MapResult<Option<String>> {
        if view.raw_bytes().is_empty() || view.null() {
            return Ok(None);
        }
        let mut relaxed = Vec::new();
        let text = view.decode(&mut relaxed)?.into_owned();
        for warning in relaxed {
            let location = warning.location.map_or_else(
                || self.map_location(&view.at()),
                |at| self.map_location(&at),
            );
            self.warn(
                MapWarningKind::Decoding(warning.kind),
                location,
                warning.offset,
            );
        }
        Ok(Some(text))
    }

    /// The decoded text, trimmed; `None` when nothing is left.
    pub(super) fn token<V: View<'m>>(&mut self, view: V) -> MapResult<Option<String>> {
        Ok(self.text(view)?.and_then(|text| {
            let trimmed = text.trim();
            (!trimmed.is_empty()).then(|| trimmed.to_owned())
        }))
    }

    /// A coding from three consecutive components (CWE/CE `code^text^system`,
    /// starting at `first`: 1 for the primary, 4 for the alternate).
    pub(super) fn coding(
        &mut self,
        repetition: Repetition<'m>,
        first: usize,
    ) -> MapResult<Option<Coding>> {
        let code = self.token(repetition.component(first))?;
        let display = self.token(repetition.component(first + 1))?;
        let system = self.token(repetition.component(first + 2))?;
        Ok(code.map(|code| Coding {
            system: code_system(system.as_deref()),
            code,
            display,
        }))
    }

    /// A coding from the subcomponents of one component (a CWE inside SPS or PRL).
    pub(super) fn coding_in(&mut self, component: Component<'m>) -> MapResult<Option<Coding>> {
        let code = self.token(component.subcomponent(1))?;
        let display = self.token(component.subcomponent(2))?;
        let system = self.token(component.subcomponent(3))?;
        Ok(code.map(|code| Coding {
            system: code_system(system.as_deref()),
            code,
            display,
        }))
    }

    /// The primary coding, or the alternate when the primary has no code.
    pub(super) fn primary_coding(&mut self, field: Field<'m>) -> MapResult<Option<Coding>> {
        let repetition = field.repetition(1);
        match self.coding(repetition, 1)? {
            Some(coding) => Ok(Some(coding)),
            None => self.coding(repetition, 4),
        }
    }

    /// EI from components: entity id, namespace id (else universal id) as assigner.
    pub(super) fn entity(&mut self, repetition: Repetition<'m>) -> MapResult<Option<Identifier>> {
        let Some(value) = self.token(repetition.component(1))? else {
            return Ok(None);
        };
        let assigner = match self.token(repetition.component(2))? {
            Some(namespace) => Some(namespace),
            None => self.token(repetition.component(3))?,
        };
        Ok(Some(Identifier {
            value,
            kind: None,
            assigner,
        }))
    }

    /// EI from the subcomponents of one component (EIP, SPM-2).
    pub(super) fn entity_in(&mut self, component: Component<'m>) -> MapResult<Option<Identifier>> {
        let Some(value) = self.token(component.subcomponent(1))? else {
            return Ok(None);
        };
        let assigner = match self.token(component.subcomponent(2))? {
            Some(namespace) => Some(namespace),
            None => self.token(component.subcomponent(3))?,
        };
        Ok(Some(Identifier {
            value,
            kind: None,
            assigner,
        }))
    }

    /// CX: id, assigning authority (CX.4, HD namespace else universal id), type (CX.5).
    pub(super) fn extended_id(
        &mut self,
        repetition: Repetition<'m>,
    ) -> MapResult<Option<Identifier>> {
        let Some(value) = self.token(repetition.component(1))? else {
            return Ok(None);
        };
        let authority = repetition.component(4);
        let assigner = match self.token(authority.subcomponent(1))? {
            Some(namespace) => Some(namespace),
            None => self.token(authority.subcomponent(2))?,
        };
        let kind = self
            .token(repetition.component(5))?
            .map(|code| IdentifierType::from_code(&code));
        Ok(Some(Identifier {
            value,
            kind,
            assigner,
        }))
    }

    /// XPN: family (FN.1) ^ given ^ middle ^ suffix ^ prefix.
    pub(super) fn person_name(&mut self, field: Field<'m>) -> MapResult<Option<PersonName>> {
        let repetition = field.repetition(1);
        let name = PersonName {
            family: self.token(repetition.component(1).subcomponent(1))?,
            given: self.token(repetition.component(2))?,
            middle: self.token(repetition.component(3))?,
            suffix: self.token(repetition.component(4))?,
            prefix: self.token(repetition.component(5))?,
        };
        Ok((name != PersonName::default()).then_some(name))
    }

    /// A DTM value; an unreadable one is left empty with a warning at `view`.
    pub(super) fn timestamp<V: View<'m>>(&mut self, view: V) -> MapResult<Option<LabTimestamp>> {
        let Some(text) = self.token(view)? else {
            return Ok(None);
        };
        match LabTimestamp::parse_hl7(&text) {
            Ok(timestamp) => Ok(Some(timestamp)),
            Err(_) => {
                self.warn_at(MapWarningKind::InvalidTimestamp, view);
                Ok(None)
            }
        }
    }

    /// The time of a TS (or DTM) field: its first component's first subcomponent.
    pub(super) fn time_field(&mut self, field: Field<'m>) -> MapResult<Option<LabTimestamp>> {
        let time = field.component(1).subcomponent(1);
        if time.raw_bytes().is_empty() {
            return Ok(None);
        }
        match self.token(time)? {
            None => Ok(None),
            Some(text) => match LabTimestamp::parse_hl7(&text) {
                Ok(timestamp) => Ok(Some(timestamp)),
                Err(_) => {
                    self.warn_at(MapWarningKind::InvalidTimestamp, field);
                    Ok(None)
                }
            },
        }
    }

    /// A decimal; an unreadable one is left empty with a warning.
    pub(super) fn decimal<V: View<'m>>(&mut self, view: V) -> MapResult<Option<Decimal>> {
        let Some(text) = self.token(view)? else {
            return Ok(None);
        };
        match Decimal::parse_lenient(&text, self.options.decimal_mark) {
            Ok(decimal) => Ok(Some(decimal)),
            Err(_) => {
                self.warn_at(MapWarningKind::InvalidNumber, view);
                Ok(None)
            }
        }
    }

    /// Units (OBX-6, INV-11: CWE). UCUM when the coding system says so; the
    /// instrument's own text is the alternate code when one is sent beside a UCUM code.
    pub(super) fn unit(&mut self, field: Field<'m>) -> MapResult<Option<Unit>> {
        let repetition = field.repetition(1);
        let code = self.token(repetition.component(1))?;
        let text = self.token(repetition.component(2))?;
        let system = self.token(repetition.component(3))?;
        let alternate = self.token(repetition.component(4))?;
        let ucum = system
            .as_deref()
            .is_some_and(|system| system.eq_ignore_ascii_case("UCUM"));
        Ok(match (code, ucum) {
            (Some(code), true) => Some(Unit {
                original: alternate.unwrap_or_else(|| code.clone()),
                ucum: Some(code),
            }),
            (Some(code), false) => Some(Unit::new(code)),
            (None, _) => text.map(Unit::new),
        })
    }

    /// A LOINC code from a coding in the LOINC system; a wrong one is warned.
    fn loinc<V: View<'m>>(&mut self, coding: &Coding, view: V) -> Option<LoincCode> {
        if coding.system != CodeSystem::Loinc {
            return None;
        }
        match LoincCode::parse(&coding.code) {
            Ok(code) => Some(code),
            Err(_) => {
                self.warn_at(MapWarningKind::InvalidLoinc, view);
                None
            }
        }
    }

    /// EI repetitions (OBX-18, EQU-1) as an instrument known by its ids.
    pub(super) fn equipment(&mut self, field: Field<'m>) -> MapResult<Option<Instrument>> {
        let mut ids = Vec::new();
        for repetition in field.repetitions() {
            if let Some(id) = self.entity(repetition)? {
                ids.push(id);
            }
        }
        Ok((!ids.is_empty()).then(|| Instrument {
            ids,
            ..Instrument::default()
        }))
    }

    /// INV (inventory detail) as a substance lot: 1 substance, 3 type (0384), 12
    /// expiry, 16 manufacturer lot number, 17 manufacturer.
    pub(super) fn substance(&mut self, inv: Segment<'m>) -> MapResult<SubstanceLot> {
        let manufacturer = inv.field(17).repetition(1);
        Ok(SubstanceLot {
            kind: self
                .token(inv.field(3).component(1))?
                .map(|code| SubstanceType::from_code(&code)),
            material: self.primary_coding(inv.field(1))?,
            lot: self.token(inv.field(16).repetition(1))?,
            expires_at: self.time_field(inv.field(12))?,
            manufacturer: match self.token(manufacturer.component(2))? {
                Some(name) => Some(name),
                None => self.token(manufacturer.component(1))?,
            },
            level: None,
        })
    }

    /// SID (substance identifier, after an OBX): 1 application/method (CWE), 2 lot,
    /// 4 manufacturer.
    pub(super) fn substance_identifier(&mut self, sid: Segment<'m>) -> MapResult<SubstanceLot> {
        let manufacturer = sid.field(4).repetition(1);
        Ok(SubstanceLot {
            material: self.primary_coding(sid.field(1))?,
            lot: self.token(sid.field(2))?,
            manufacturer: match self.token(manufacturer.component(2))? {
                Some(name) => Some(name),
                None => self.token(manufacturer.component(1))?,
            },
            ..SubstanceLot::default()
        })
    }

    /// One OBX as a result (see the [`read`](super::read) module for the field list).
    pub(super) fn observation(&mut self, obx: Segment<'m>) -> MapResult<LabResult> {
        let sequence = self
            .token(obx.field(1))?
            .and_then(|text| text.parse::<u32>().ok());
        let value_type = self
            .token(obx.field(2))?
            .map(|text| text.to_ascii_uppercase());
        let test_field = obx.field(3);
        let test_repetition = test_field.repetition(1);
        let primary = self.coding(test_repetition, 1)?;
        let mut alternates = Vec::new();
        // CWE.4–6, and CWE.10–12 (second alternate, v2.7+).
        for first in [4, 10] {
            if let Some(coding) = self.coding(test_repetition, first)? {
                alternates.push(coding);
            }
        }
        let test = match primary {
            Some(coding) => coding,
            // No primary code: the first alternate stands in, so the test is never empty.
            None if !alternates.is_empty() => alternates.remove(0),
            None => Coding::local(""),
        };
        let loinc = match self.loinc(&test, test_field) {
            Some(code) => Some(code),
            None => {
                let mut found = None;
                for alternate in &alternates {
                    if found.is_none() {
                        found = self.loinc(alternate, test_field);
                    }
                }
                found
            }
        };
        let value_field = obx.field(5);
        // ED data is kept verbatim in the attachment; a second copy would double it.
        let raw_value = if value_type.as_deref() == Some("ED") || value_field.is_null() {
            None
        } else {
            self.text(value_field)?
        };
        let unit = self.unit(obx.field(6))?;
        let (value, additional_values) = self.values(obx, value_type.as_deref(), unit.as_ref())?;
        let holds_unit = matches!(value, ResultValue::Quantity(_) | ResultValue::Range { .. });
        if unit.is_some() && !holds_unit {
            self.warn_at(MapWarningKind::UnitsNotCarried, obx.field(6));
        }
        let mut interpretation = Vec::new();
        for repetition in obx.field(8).repetitions() {
            if let Some(code) = self.token(repetition.component(1))? {
                interpretation.push(Interpretation::from_code(&code));
            }
        }
        let reference_range = self
            .token(obx.field(7))?
            .map(|text| ReferenceRange::parse_lenient(&text, self.options.decimal_mark));
        let status = match self.token(obx.field(11))? {
            Some(code) => ResultStatus::from_code(&code),
            None => {
                self.warn_at(MapWarningKind::MissingStatus, obx.field(11));
                ResultStatus::from_code("")
            }
        };
        let observer = obx.field(16).repetition(1);
        let operator = match self.token(observer.component(1))? {
            Some(id) => Some(id),
            None => {
                let family = self.token(observer.component(2).subcomponent(1))?;
                let given = self.token(observer.component(3))?;
                match (family, given) {
                    (Some(family), Some(given)) => Some(format!("{family} {given}")),
                    (family, given) => family.or(given),
                }
            }
        };
        let mut result = LabResult::new(test, value, status);
        result.sequence = sequence;
        result.sub_id = self.token(obx.field(4))?;
        result.alt_tests = alternates;
        result.loinc = loinc;
        result.additional_values = additional_values;
        result.raw_value = raw_value;
        result.interpretation = interpretation;
        result.reference_range = reference_range;
        result.observed_at = self.time_field(obx.field(14))?;
        result.operator = operator.map(Sensitive::new);
        result.method = self.primary_coding(obx.field(17))?;
        result.instrument = self.equipment(obx.field(18))?;
        result.analyzed_at = self.time_field(obx.field(19))?;
        Ok(result)
    }

    /// OBX-5: the first non-empty repetition is the value, the others follow in order.
    fn values(
        &mut self,
        obx: Segment<'m>,
        value_type: Option<&str>,
        unit: Option<&Unit>,
    ) -> MapResult<(ResultValue, Vec<ResultValue>)> {
        let field = obx.field(5);
        let several = field.repetition_count() > 1;
        let mut values = Vec::new();
        for repetition in field.repetitions() {
            if repetition.is_empty() || repetition.is_null() {
                continue;
            }
            let value = self.value(repetition, value_type, unit, several)?;
            values.extend(value);
        }
        let mut values = values.into_iter();
        let first = values.next().unwrap_or(ResultValue::Absent {
            reason: AbsentReason::Unknown,
            text: None,
        });
        Ok((first, values.collect()))
    }

    fn kept_as_text(
        &mut self,
        repetition: Repetition<'m>,
        problem: ValueProblem,
        several: bool,
        text: String,
    ) -> ResultValue {
        self.warn_value(
            MapWarningKind::ValueKeptAsText(problem),
            repetition,
            several,
        );
        ResultValue::text(text)
    }

    /// Warns at the field when it has one repetition (`OBX(3)-5`), else at the
    /// repetition (`OBX(3)-5(2)`).
    fn warn_value(&mut self, kind: MapWarningKind, repetition: Repetition<'m>, several: bool) {
        let mut location = self.map_location(&repetition.at());
        if !several {
            location.repetition = None;
        }
        self.warn(kind, location, repetition.position());
    }

    /// One repetition of OBX-5 read as its OBX-2 type (HL7 v2.5.1 table 0125).
    fn value(
        &mut self,
        repetition: Repetition<'m>,
        value_type: Option<&str>,
        unit: Option<&Unit>,
        several: bool,
    ) -> MapResult<Option<ResultValue>> {
        let Some(text) = self.text(repetition)? else {
            return Ok(None);
        };
        let free_text = matches!(value_type, Some("ST" | "TX" | "FT"));
        if !free_text && text.trim().is_empty() {
            return Ok(None);
        }
        let mark = self.options.decimal_mark;
        let with_unit = |quantity: Quantity| {
            ResultValue::Quantity(Quantity {
                unit: unit.cloned(),
                ..quantity
            })
        };
        let value = match value_type {
            Some("ST" | "TX" | "FT") => ResultValue::text(text),
            Some("NM") => {
                let quantity = if self.options.lenient_values {
                    Quantity::parse_lenient(&text, mark)
                } else {
                    Decimal::parse_lenient(&text, mark).map(Quantity::new)
                };
                match quantity {
                    Ok(quantity) => with_unit(quantity),
                    Err(_) => {
                        self.kept_as_text(repetition, ValueProblem::NotANumber, several, text)
                    }
                }
            }
            Some("SN") => match self.structured_numeric(repetition, unit)? {
                Some(value) => value,
                None => self.kept_as_text(
                    repetition,
                    ValueProblem::MalformedStructuredNumeric,
                    several,
                    text,
                ),
            },
            Some("CWE" | "CE" | "CNE" | "CF") => {
                let Some(coding) = self.coding(repetition, 1)? else {
                    // Text only (CWE.2, else CWE.9 original text).
                    let display = match self.token(repetition.component(2))? {
                        Some(display) => Some(display),
                        None => self.token(repetition.component(9))?,
                    };
                    return Ok(display.map(ResultValue::text));
                };
                // Table 0136 (yes/no indicator) is how a boolean travels in a CWE.
                match (&coding.system, coding.code.as_str()) {
                    (CodeSystem::Hl7Table(136), "Y") => ResultValue::Boolean { value: true },
                    (CodeSystem::Hl7Table(136), "N") => ResultValue::Boolean { value: false },
                    _ => ResultValue::Coded(coding),
                }
            }
            Some("DT" | "DTM" | "TS") => {
                let time = self.token(repetition.component(1))?;
                match time.as_deref().map(LabTimestamp::parse_hl7) {
                    Some(Ok(value)) => ResultValue::DateTime { value },
                    _ => self.kept_as_text(repetition, ValueProblem::NotADateTime, several, text),
                }
            }
            Some("TM") => self.kept_as_text(repetition, ValueProblem::NotADateTime, several, text),
            Some("ED") => {
                let kind = self.token(repetition.component(2))?;
                let subtype = self.token(repetition.component(3))?;
                let encoding = self.token(repetition.component(4))?;
                ResultValue::Attachment {
                    media_type: media_type(kind.as_deref(), subtype.as_deref()),
                    encoding: encoding.as_deref().map(encoding_name),
                    data: self.text(repetition.component(5))?.unwrap_or_default(),
                }
            }
            // RP: a pointer to data held elsewhere; the pointer is the value, the
            // type of data stays in `raw_value`.
            Some("RP") => match self.text(repetition.component(1))? {
                Some(pointer) => ResultValue::text(pointer),
                None => ResultValue::text(text),
            },
            None if self.options.lenient_values => {
                self.warn_value(MapWarningKind::ValueTypeInferred, repetition, several);
                ResultValue::from_text_lenient(&text, unit.cloned(), mark)
            }
            _ => self.kept_as_text(
                repetition,
                ValueProblem::UnsupportedValueType,
                several,
                text,
            ),
        };
        Ok(Some(value))
    }

    /// SN (v2 ch. 2A.73): `comparator ^ num1 ^ separator ^ num2`. `None` when the
    /// parts do not fit the type.
    fn structured_numeric(
        &mut self,
        repetition: Repetition<'m>,
        unit: Option<&Unit>,
    ) -> MapResult<Option<ResultValue>> {
        let mark = self.options.decimal_mark;
        if repetition.component_count() == 1 && self.options.lenient_values {
            // `<0.5` written without components: read as NM would be.
            let text = self.text(repetition)?.unwrap_or_default();
            return Ok(Quantity::parse_lenient(&text, mark).ok().map(|quantity| {
                ResultValue::Quantity(Quantity {
                    unit: unit.cloned(),
                    ..quantity
                })
            }));
        }
        let comparator_text = self.token(repetition.component(1))?;
        let first = self.token(repetition.component(2))?;
        let separator = self.token(repetition.component(3))?;
        let second = self.token(repetition.component(4))?;
        let comparator = match comparator_text.as_deref() {
            None | Some("=") => None,
            Some(symbol) => match Comparator::from_symbol(symbol) {
                Some(comparator) => Some(comparator),
                None => return Ok(None),
            },
        };
        let number = |text: Option<String>| -> Result<Option<Decimal>, ()> {
            match text {
                None => Ok(None),
                Some(text) => Decimal::parse_lenient(&text, mark)
                    .map(Some)
                    .map_err(|_| ()),
            }
        };
        let (Ok(first), Ok(second)) = (number(first), number(second)) else {
            return Ok(None);
        };
        Ok(match (separator.as_deref(), first, second) {
            (None, Some(value), None) => Some(ResultValue::Quantity(Quantity {
                value,
                comparator,
                unit: unit.cloned(),
            })),
            (Some("-"), low, high) if comparator.is_none() => Some(ResultValue::Range {
                low,
                high,
                unit: unit.cloned(),
            }),
            (Some(":" | "/"), Some(numerator), Some(denominator)) => Some(ResultValue::Ratio {
                numerator,
                denominator,
                comparator,
            }),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coding_systems_follow_table_0396() {
        assert_eq!(code_system(Some("LN")), CodeSystem::Loinc);
        assert_eq!(code_system(Some("sct")), CodeSystem::Snomed);
        assert_eq!(code_system(Some("SNM")), CodeSystem::Snomed);
        assert_eq!(code_system(Some("UCUM")), CodeSystem::Ucum);
        assert_eq!(code_system(Some("HL70078")), CodeSystem::Hl7Table(78));
        assert_eq!(code_system(Some("HL70369")), CodeSystem::Hl7Table(369));
        assert_eq!(
            code_system(Some("99ABB")),
            CodeSystem::Local("99ABB".into())
        );
        assert_eq!(code_system(Some("HL7")), CodeSystem::Local("HL7".into()));
        assert_eq!(
            code_system(Some("HL7nnnn")),
            CodeSystem::Local("HL7nnnn".into())
        );
        assert_eq!(code_system(None), CodeSystem::Local(String::new()));
        assert_eq!(code_system(Some(" ")), CodeSystem::Local(String::new()));
    }

    #[test]
    fn media_types_from_ed_type_and_subtype() {
        assert_eq!(
            media_type(Some("IM"), Some("JPEG")).as_deref(),
            Some("image/jpeg")
        );
        assert_eq!(
            media_type(Some("AP"), Some("PDF")).as_deref(),
            Some("application/pdf")
        );
        assert_eq!(
            media_type(Some("NS"), Some("Octet-stream")).as_deref(),
            Some("NS/Octet-stream")
        );
        assert_eq!(
            media_type(Some("AP"), Some("application/pdf")).as_deref(),
            Some("application/pdf")
        );
        assert_eq!(media_type(Some("IM"), None).as_deref(), Some("IM"));
        assert_eq!(media_type(None, None), None);
        assert_eq!(encoding_name("Base64"), "base64");
        assert_eq!(encoding_name("A"), "A");
    }
}
