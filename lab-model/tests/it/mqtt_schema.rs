//! The JSON Schemas of MQTT payloads, one document per `schema` name, in
//! `lab-model/schema/`.
//!
//! The documents are written from the definitions below (run with `LABWIRE_BLESS=1`
//! to rewrite them) and this test fails when the checked-in files differ. Produced
//! payloads are validated against them in `mqtt.rs`, with every object made closed
//! (`additionalProperties: false`) so a field added to the model without its schema
//! fails the build. The published documents stay open, so consumers that validate
//! keep working when a later version 1 payload gains an optional field.

use std::path::PathBuf;

use labwire_model::EventKind;
use labwire_model::mqtt::{GATEWAY_SCHEMA, schema_name};
use serde_json::{Value, json};

pub(crate) fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema")
}

/// `lab.result/1` → `lab.result-1.schema.json`.
pub(crate) fn file_name(schema: &str) -> String {
    format!("{}.schema.json", schema.replace('/', "-"))
}

fn string() -> Value {
    json!({"type": "string"})
}

fn strings() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
}

fn def(name: &str) -> Value {
    json!({"$ref": format!("#/$defs/{name}")})
}

fn list_of(name: &str) -> Value {
    json!({"type": "array", "items": def(name)})
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}

/// The definitions every document carries.
fn definitions() -> Value {
    let timestamp = json!({
        "type": "string",
        "description": "ISO 8601 with the precision the instrument sent: YYYY, YYYY-MM, YYYY-MM-DD, then THH, THH:MM, THH:MM:SS or THH:MM:SS.F (1-9 digits); after any of them Z, ±HH:MM or nothing when no offset was stated",
        "pattern": "^[0-9]{4}(-[0-9]{2}(-[0-9]{2}(T[0-9]{2}(:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?)?)?)?)?(Z|[+-][0-9]{2}:[0-9]{2})?$"
    });
    let decimal = json!({
        "type": "string",
        "description": "a decimal kept as text: the digits the instrument sent",
        "pattern": "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$"
    });
    let code =
        json!({"type": "string", "description": "a wire code; unknown codes are kept as sent"});
    let result_value = {
        let variant = |kind: &str, required: &[&str], mut properties: Value| {
            properties["kind"] = json!({"const": kind});
            let mut required = required.to_vec();
            required.push("kind");
            object(&required, properties)
        };
        json!({"oneOf": [
            variant("quantity", &["value"], json!({
                "value": def("decimal"), "comparator": def("comparator"), "unit": def("unit")})),
            variant("range", &[], json!({
                "low": def("decimal"), "high": def("decimal"), "unit": def("unit")})),
            variant("ratio", &["numerator", "denominator"], json!({
                "numerator": def("decimal"), "denominator": def("decimal"),
                "comparator": def("comparator")})),
            variant("coded", &["system", "code"], json!({
                "system": string(), "code": string(), "display": string()})),
            variant("text", &["text"], json!({"text": string()})),
            variant("boolean", &["value"], json!({"value": {"type": "boolean"}})),
            variant("date_time", &["value"], json!({"value": def("timestamp")})),
            variant("absent", &["reason"], json!({"reason": def("code"), "text": string()})),
            variant("attachment", &["data"], json!({
                "media_type": string(), "encoding": string(), "data": string()})),
        ]})
    };
    let lab_result = object(
        &["test", "value", "status"],
        json!({
            "sequence": {"type": "integer", "minimum": 0},
            "sub_id": string(),
            "test": def("coding"),
            "alt_tests": list_of("coding"),
            "loinc": {"type": "string", "pattern": "^[0-9]{1,8}-[0-9]$"},
            "value": def("result_value"),
            "additional_values": list_of("result_value"),
            "raw_value": string(),
            "interpretation": {"type": "array", "items": def("code")},
            "reference_range": def("reference_range"),
            "status": def("code"),
            "status_raw": string(),
            "observed_at": def("timestamp"),
            "analyzed_at": def("timestamp"),
            "instrument": def("instrument"),
            "method": def("coding"),
            "run_id": string(),
            "dilution": def("decimal"),
            "rerun": {"type": "boolean"},
            "substances": list_of("substance_lot"),
            "operator": {"type": "string", "description": "as sent under `full`; an `op_` token under `pseudonymized`"},
            "notes": strings(),
        }),
    );
    json!({
        "timestamp": timestamp,
        "decimal": decimal,
        "code": code,
        "comparator": {"enum": ["<", "<=", ">", ">=", "<>"]},
        "coding": object(&["system", "code"], json!({
            "system": {"type": "string", "description": "a URI such as http://loinc.org, or local / local:NAME"},
            "code": string(), "display": string()})),
        "unit": object(&["original"], json!({"original": string(), "ucum": string()})),
        "identifier": object(&["value"], json!({
            "value": {"type": "string", "description": "as sent under `full`; a pt_/sp_/or_ token otherwise"},
            "kind": def("code"), "assigner": string()})),
        "quantity": object(&["value"], json!({
            "value": def("decimal"), "comparator": def("comparator"), "unit": def("unit")})),
        "result_value": result_value,
        "reference_range": object(&[], json!({
            "low": def("decimal"), "high": def("decimal"), "text": string(), "applies_to": string()})),
        "person_name": object(&[], json!({
            "family": string(), "given": string(), "middle": string(), "suffix": string(),
            "prefix": string()})),
        "patient": object(&[], json!({
            "ids": list_of("identifier"), "name": def("person_name"),
            "birth_date": def("timestamp"), "sex": def("code")})),
        "container": object(&[], json!({
            "id": string(), "kind": def("coding"), "carrier": string(), "position": string()})),
        "specimen": object(&[], json!({
            "ids": list_of("identifier"),
            "role": def("code"),
            "kind": def("coding"),
            "collected_at": def("timestamp"),
            "received_at": def("timestamp"),
            "container": def("container"),
            "description": string(),
            "preparation": {"type": "array", "items": object(&[], json!({
                "items": {"type": "array", "items": object(&["concept", "value"], json!({
                    "concept": def("coding"), "value": def("result_value")}))}}))},
        })),
        "order": object(&[], json!({
            "placer_id": def("identifier"), "filler_id": def("identifier"),
            "tests": list_of("coding"), "priority": def("code"),
            "requested_at": def("timestamp"), "action": string(), "status": string()})),
        "instrument": object(&[], json!({
            "local_id": string(), "name": string(), "manufacturer": string(), "model": string(),
            "serial_number": string(), "software_version": string(),
            "ids": list_of("identifier")})),
        "substance_lot": object(&[], json!({
            "kind": def("code"), "material": def("coding"), "lot": string(),
            "expires_at": def("timestamp"), "manufacturer": string(), "level": string()})),
        "provenance": object(&["protocol"], json!({
            "protocol": def("code"), "version": string(), "message_id": string(),
            "sender": string(), "sent_at": def("timestamp"), "received_at": def("timestamp"),
            "gateway": string(), "location": string(), "warnings": strings()})),
        "lab_result": lab_result,
        "qc_result": object(&["result"], json!({
            "result": def("lab_result"), "target": def("decimal"), "sd": def("decimal"),
            "outcome": def("code"), "rules_violated": strings()})),
        "inventory_item": object(&["substance"], json!({
            "substance": def("substance_lot"), "status": strings(), "container_id": string(),
            "carrier": string(), "position": string(), "available": def("quantity"),
            "tests_remaining": {"type": "integer", "minimum": 0},
            "on_board_expires_at": def("timestamp")})),
        "id_tokens": object(&[], json!({
            "patient": {"type": "array", "items": {"type": "string", "pattern": "^pt_[a-z2-7]{26}$"}},
            "specimen": {"type": "array", "items": {"type": "string", "pattern": "^sp_[a-z2-7]{26}$"}},
            "order": {"type": "array", "items": {"type": "string", "pattern": "^or_[a-z2-7]{26}$"}}})),
    })
}

/// The body of an event kind: the event's fields without its `type` tag.
fn body(kind: EventKind) -> Value {
    let common = |required: &[&str], mut properties: Value| {
        properties["instrument"] = def("instrument");
        properties["provenance"] = def("provenance");
        let mut required = required.to_vec();
        required.extend(["instrument", "provenance"]);
        object(&required, properties)
    };
    match kind {
        EventKind::Results => common(
            &[],
            json!({
            "patient": def("patient"), "specimen": def("specimen"), "order": def("order"),
            "results": list_of("lab_result"), "notes": strings()}),
        ),
        EventKind::Qc => common(
            &[],
            json!({
            "specimen": def("specimen"), "control": def("substance_lot"),
            "results": list_of("qc_result"), "notes": strings(),
            "at": def("timestamp")}),
        ),
        EventKind::Calibration => common(
            &[],
            json!({
            "test": def("coding"), "kind": def("code"), "state": def("code"),
            "outcome": def("code"), "at": def("timestamp"), "valid_until": def("timestamp"),
            "substances": list_of("substance_lot"), "results": list_of("lab_result"),
            "notes": strings()}),
        ),
        EventKind::Status => common(
            &[],
            json!({
            "state": def("code"), "control": def("code"), "alert": def("code"),
            "at": def("timestamp"), "details": list_of("coding")}),
        ),
        EventKind::Alarm => common(
            &[],
            json!({
            "code": def("coding"), "text": string(), "level": def("code"),
            "active": {"type": "boolean"}, "at": def("timestamp")}),
        ),
        EventKind::InstrumentMeta => common(&[], json!({"tests": list_of("coding")})),
        EventKind::ImagingStudy => common(
            &[],
            json!({
            "study_uid": string(), "series_uid": string(), "instance_uid": string(),
            "sop_class_uid": string(), "modality": string(), "study_at": def("timestamp"),
            "acquired_at": def("timestamp"), "accession": string(), "patient": def("patient"),
            "specimens": list_of("specimen"), "image_type": strings(),
            "institution": string(), "department": string()}),
        ),
        EventKind::WorkOrder => common(
            &["order"],
            json!({
            "patient": def("patient"), "specimen": def("specimen"), "order": def("order"),
            "notes": strings()}),
        ),
        EventKind::Query => common(
            &[],
            json!({
            "specimen_ids": list_of("identifier"), "container": def("container"),
            "tests": list_of("coding"), "status": string()}),
        ),
        EventKind::Inventory => common(
            &[],
            json!({
            "items": list_of("inventory_item"), "at": def("timestamp")}),
        ),
        EventKind::Log => common(
            &[],
            json!({
            "kind": def("coding"),
            "file_name": {"type": "string", "description": "under `full` only"},
            "started_at": def("timestamp"), "ended_at": def("timestamp"),
            "text": {"type": "string", "description": "the device's log text; under `full` only"}}),
        ),
        _ => unreachable!("every kind is listed"),
    }
}

/// Kinds whose events may identify a person: their body is only tokens under
/// `id-only`.
fn may_identify_a_person(kind: EventKind) -> bool {
    !matches!(
        kind,
        EventKind::Status | EventKind::InstrumentMeta | EventKind::Inventory
    )
}

/// The whole document for one kind.
pub(crate) fn document(kind: EventKind) -> Value {
    let name = schema_name(kind);
    let mut defs = definitions();
    defs["body"] = body(kind);
    let body_rule = if may_identify_a_person(kind) {
        json!({"allOf": [{
            "if": {"properties": {"privacy": {"const": "id-only"}}},
            "then": {"properties": {"body": def("id_tokens")}},
            "else": {"properties": {"body": def("body")}}
        }]})
    } else {
        json!({"allOf": [{"properties": {"body": def("body")}}]})
    };
    let mut document = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("urn:labwire:schema:{name}"),
        "title": format!("labwire {name} MQTT payload"),
        "description": "The labwire MQTT envelope; see the labwire_model::mqtt docs. Optional fields may be added within a schema version; fields are never removed or changed.",
        "type": "object",
        "required": ["schema", "msg_id", "sent_at", "source", "instrument", "privacy", "body"],
        "properties": {
            "schema": {"const": name},
            "msg_id": {"type": "string", "minLength": 1, "maxLength": 64},
            "sent_at": def("timestamp"),
            "source": object(&["protocol", "gateway"], json!({
                "protocol": def("code"), "version": string(), "message_id": string(),
                "sender": string(), "received_at": def("timestamp"), "gateway": string(),
                "warnings": strings()})),
            "instrument": object(&["id", "site", "area"], json!({
                "id": string(), "site": string(), "area": string()})),
            "privacy": {"enum": ["full", "pseudonymized", "minimal", "id-only"]},
            "token_kid": string(),
            "result_ids": {"type": "array", "items": {"type": "string", "pattern": "^rs_[a-z2-7]{26}$"}},
            "body": {}
        },
        "$defs": defs,
    });
    if let (Some(target), Some(rule)) = (document.as_object_mut(), body_rule.as_object()) {
        target.extend(rule.clone());
    }
    document
}

/// The gateway liveness document.
pub(crate) fn gateway_document() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("urn:labwire:schema:{GATEWAY_SCHEMA}"),
        "title": format!("labwire {GATEWAY_SCHEMA} MQTT payload (birth and last will)"),
        "type": "object",
        "required": ["online"],
        "properties": {"online": {"type": "boolean"}}
    })
}

/// Every document with its schema name.
pub(crate) fn documents() -> Vec<(&'static str, Value)> {
    let mut all: Vec<(&'static str, Value)> = EventKind::ALL
        .into_iter()
        .map(|kind| (schema_name(kind), document(kind)))
        .collect();
    all.push((GATEWAY_SCHEMA, gateway_document()));
    all
}

/// A copy in which every object schema is closed, for our own tests.
pub(crate) fn closed(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out: serde_json::Map<String, Value> = map
                .iter()
                .map(|(key, value)| (key.clone(), closed(value)))
                .collect();
            if map.get("type") == Some(&json!("object"))
                && map.contains_key("properties")
                && !map.contains_key("additionalProperties")
            {
                out.insert("additionalProperties".into(), json!(false));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(closed).collect()),
        other => other.clone(),
    }
}

#[test]
fn schema_files_match_their_definitions() {
    let bless = std::env::var_os("LABWIRE_BLESS").is_some();
    for (name, document) in documents() {
        let path = schema_dir().join(file_name(name));
        let text = serde_json::to_string_pretty(&document).unwrap() + "\n";
        if bless {
            std::fs::create_dir_all(schema_dir()).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("{}: {err}; bless to create it", path.display()));
        assert!(
            on_disk == text,
            "{} is stale; run LABWIRE_BLESS=1 cargo test -p labwire-model --test it mqtt",
            path.display()
        );
    }
}

#[test]
fn every_schema_file_is_a_valid_json_schema() {
    for (name, _) in documents() {
        let text = std::fs::read_to_string(schema_dir().join(file_name(name))).unwrap();
        let document: Value = serde_json::from_str(&text).unwrap();
        jsonschema::meta::validate(&document)
            .unwrap_or_else(|err| panic!("{name} is not a valid JSON Schema: {err}"));
        jsonschema::validator_for(&closed(&document)).unwrap();
    }
}
