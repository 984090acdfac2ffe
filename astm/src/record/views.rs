//! Typed views of the standard records, with the standard's field names and
//! numbers (LIS02-A2 §6–§12; E1394-97 §7–§13). `M` and `S` records stay
//! [`Record`]s: their content is manufacturer-defined or unused.

use super::{Field, Record, RecordType};

/// Declares a typed view: a newtype over [`Record`] with one accessor per field.
macro_rules! record_view {
    (
        $(#[$doc:meta])*
        $name:ident = $kind:ident {
            $( $(#[$field_doc:meta])* $field:ident = $number:literal, )*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name<'a>(Record<'a>);

        impl<'a> $name<'a> {
            /// The record underneath, for fields by number.
            pub fn record(&self) -> Record<'a> {
                self.0
            }
            $(
                $(#[$field_doc])*
                #[doc = concat!("\n\nField ", stringify!($number), ".")]
                pub fn $field(&self) -> Field<'a> {
                    self.0.field($number)
                }
            )*
        }

        impl<'a> TryFrom<Record<'a>> for $name<'a> {
            type Error = Record<'a>;

            /// The view, or the record back if it is of another type.
            fn try_from(record: Record<'a>) -> Result<Self, Record<'a>> {
                if record.kind() == RecordType::$kind {
                    Ok(Self(record))
                } else {
                    Err(record)
                }
            }
        }
    };
}

record_view! {
    /// `H`, message header.
    HeaderRecord = HEADER {
        /// The delimiter definition (`\^&`), never split.
        delimiter_definition = 2,
        /// Message control id.
        message_control_id = 3,
        /// Access password.
        access_password = 4,
        /// Sender name or id; most analyzers send `name^software version^serial`.
        sender = 5,
        /// Sender street address.
        sender_address = 6,
        /// Sender telephone number.
        sender_phone = 8,
        /// Characteristics of the sender.
        sender_characteristics = 9,
        /// Receiver id.
        receiver = 10,
        /// Comment or special instructions (Roche sends the message type here).
        comment = 11,
        /// Processing id: `P` production, `T` training, `D` debugging, `Q` QC.
        processing_id = 12,
        /// Version number.
        version = 13,
        /// Date and time of the message.
        timestamp = 14,
    }
}

record_view! {
    /// `P`, patient information.
    PatientRecord = PATIENT {
        /// Sequence number.
        sequence = 2,
        /// Practice-assigned patient id.
        practice_patient_id = 3,
        /// Laboratory-assigned patient id.
        laboratory_patient_id = 4,
        /// Patient id number 3.
        patient_id_3 = 5,
        /// Patient name: `last^first^middle^suffix^title`.
        name = 6,
        /// Mother's maiden name.
        mothers_maiden_name = 7,
        /// Birth date.
        birth_date = 8,
        /// Sex: `M`, `F`, `U`.
        sex = 9,
        /// Race or ethnic origin.
        race = 10,
        /// Address.
        address = 11,
        /// Telephone number.
        phone = 13,
        /// Attending physician id.
        attending_physician = 14,
        /// Special field 1.
        special_field_1 = 15,
        /// Special field 2.
        special_field_2 = 16,
        /// Height.
        height = 17,
        /// Weight.
        weight = 18,
        /// Known or suspected diagnosis.
        diagnosis = 19,
        /// Active medications.
        medications = 20,
        /// Diet.
        diet = 21,
        /// Practice field 1.
        practice_field_1 = 22,
        /// Practice field 2.
        practice_field_2 = 23,
        /// Admission and discharge dates.
        admission_dates = 24,
        /// Admission status.
        admission_status = 25,
        /// Location.
        location = 26,
    }
}

record_view! {
    /// `O`, test order.
    OrderRecord = ORDER {
        /// Sequence number.
        sequence = 2,
        /// Specimen id (assigned by the information system).
        specimen_id = 3,
        /// Instrument specimen id, often `id^rack^position`.
        instrument_specimen_id = 4,
        /// Universal test id (`^^^code`), repeated.
        universal_test_id = 5,
        /// Priority: `S` stat, `A` ASAP, `R` routine, `C` callback, `P` pre-op.
        priority = 6,
        /// Requested or ordered date and time.
        requested_at = 7,
        /// Specimen collection date and time.
        collected_at = 8,
        /// Collection end time.
        collection_end = 9,
        /// Collection volume.
        collection_volume = 10,
        /// Collector id.
        collector = 11,
        /// Action code: `C` cancel, `A` add, `N` new, `P` pending, `X` in process,
        /// `Q` treat as QC.
        action_code = 12,
        /// Danger code.
        danger_code = 13,
        /// Relevant clinical information.
        clinical_information = 14,
        /// Date and time the specimen was received.
        received_at = 15,
        /// Specimen descriptor: `type^source`.
        specimen_descriptor = 16,
        /// Ordering physician.
        ordering_physician = 17,
        /// Physician's telephone number.
        physician_phone = 18,
        /// User field 1.
        user_field_1 = 19,
        /// User field 2.
        user_field_2 = 20,
        /// Laboratory field 1.
        laboratory_field_1 = 21,
        /// Laboratory field 2.
        laboratory_field_2 = 22,
        /// Date and time results were reported or last modified.
        reported_at = 23,
        /// Instrument charge to the information system.
        instrument_charge = 24,
        /// Instrument section id.
        instrument_section = 25,
        /// Report type: `O` order, `C` correction, `P` preliminary, `F` final,
        /// `X` cannot be done, `I` pending, `Y` no order, `Z` no patient record,
        /// `Q` response to a query.
        report_type = 26,
        /// Location or ward of collection.
        collection_location = 28,
        /// Nosocomial infection flag.
        nosocomial_infection = 29,
        /// Specimen service.
        specimen_service = 30,
        /// Specimen institution.
        specimen_institution = 31,
    }
}

record_view! {
    /// `R`, result.
    ResultRecord = RESULT {
        /// Sequence number.
        sequence = 2,
        /// Universal test id (`^^^code`).
        universal_test_id = 3,
        /// Data or measurement value.
        value = 4,
        /// Units.
        units = 5,
        /// Reference ranges.
        reference_range = 6,
        /// Result abnormal flags: `L`, `H`, `LL`, `HH`, `<`, `>`, `N`, `A` …
        abnormal_flags = 7,
        /// Nature of abnormality testing.
        abnormality_testing = 8,
        /// Result status: `F` final, `P` preliminary, `C` correction, `X` cannot be
        /// done, `I` pending …
        status = 9,
        /// Date of change in instrument normative values or units.
        normatives_changed_at = 10,
        /// Operator identification (`performed^verified` on some instruments).
        operator = 11,
        /// Date and time the test started.
        started_at = 12,
        /// Date and time the test completed.
        completed_at = 13,
        /// Instrument identification.
        instrument = 14,
    }
}

record_view! {
    /// `C`, comment; it belongs to the record before it.
    CommentRecord = COMMENT {
        /// Sequence number.
        sequence = 2,
        /// Comment source: `P` practice, `L` information system, `I` instrument.
        source = 3,
        /// Comment text.
        text = 4,
        /// Comment type: `G` generic, `T` test name, `P` positive, `N` negative,
        /// `I` instrument flag.
        comment_type = 5,
    }
}

record_view! {
    /// `Q`, request information: an instrument's query for work.
    QueryRecord = QUERY {
        /// Sequence number.
        sequence = 2,
        /// Starting range id (`patient^specimen^…`, or `ALL`).
        starting_range = 3,
        /// Ending range id.
        ending_range = 4,
        /// Universal test id (`ALL` for every test).
        universal_test_id = 5,
        /// Nature of request time limits: `R` result date, `S` collection date.
        time_limits = 6,
        /// Beginning request results date and time.
        begin_at = 7,
        /// Ending request results date and time.
        end_at = 8,
        /// Requesting physician name.
        physician = 9,
        /// Requesting physician telephone number.
        physician_phone = 10,
        /// User field 1.
        user_field_1 = 11,
        /// User field 2.
        user_field_2 = 12,
        /// Request information status codes (`O` order query, `A` cancel …).
        status = 13,
    }
}

record_view! {
    /// `L`, message terminator.
    TerminatorRecord = TERMINATOR {
        /// Sequence number (always 1).
        sequence = 2,
        /// Termination code: `N` normal, `T` sender aborted, `R` receiver abort, `E`
        /// unknown error, `Q` error in last query, `I` no information, `F` last
        /// request processed.
        termination_code = 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Message, RecordOptions};

    #[test]
    fn views_name_the_standard_fields() {
        let text = b"H|\\^&|MSG-1||AN^1.0^SN9|||||LIS||P|LIS2-A2|20240301\rP|1|PR-1|LAB-7||Doe^Jane||19800501|F\rO|1|S1|S1^R1^3|^^^GLU|S||||||Q\rR|1|^^^GLU|5.4|mmol/L|3.9-6.1|N||F||OP|20240301101000|20240301101500|AN-1\rC|1|I|Hemolyzed|G\rQ|1|^S2||ALL||||||||O\rL|1|N\r";
        let (message, _) = Message::parse(text, &RecordOptions::default()).unwrap();
        let mut records = message.records();
        let header = HeaderRecord::try_from(records.next().unwrap()).unwrap();
        assert_eq!(header.delimiter_definition().text(), "\\^&");
        assert_eq!(header.message_control_id().text(), "MSG-1");
        assert_eq!(header.sender().component(3).text(), "SN9");
        assert_eq!(header.processing_id().text(), "P");
        let patient = PatientRecord::try_from(records.next().unwrap()).unwrap();
        assert_eq!(patient.laboratory_patient_id().text(), "LAB-7");
        assert_eq!(patient.name().component(2).text(), "Jane");
        assert_eq!(patient.sex().text(), "F");
        let order = OrderRecord::try_from(records.next().unwrap()).unwrap();
        assert_eq!(order.instrument_specimen_id().component(2).text(), "R1");
        assert_eq!(order.action_code().text(), "Q");
        let result = ResultRecord::try_from(records.next().unwrap()).unwrap();
        assert_eq!(result.value().text(), "5.4");
        assert_eq!(result.completed_at().text(), "20240301101500");
        assert_eq!(result.instrument().text(), "AN-1");
        let comment = CommentRecord::try_from(records.next().unwrap()).unwrap();
        assert_eq!(comment.text().text(), "Hemolyzed");
        let query = QueryRecord::try_from(records.next().unwrap()).unwrap();
        assert_eq!(query.starting_range().component(2).text(), "S2");
        assert_eq!(query.status().text(), "O");
        let terminator = TerminatorRecord::try_from(records.next().unwrap()).unwrap();
        assert_eq!(terminator.termination_code().text(), "N");
        assert!(ResultRecord::try_from(terminator.record()).is_err());
    }
}
