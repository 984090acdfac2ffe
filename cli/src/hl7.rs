//! HL7 v2 input: MLLP frames or plain messages, parsed and mapped.

use crate::decode::Decoded;

/// Decodes HL7 input. The mapping to lab events lands with `labwire_hl7::model`.
pub(crate) fn decode(name: &str, bytes: &[u8], strict: bool) -> Decoded {
    let _ = (bytes, strict);
    Decoded {
        errors: vec![format!("{name}: HL7 is not supported by this build yet")],
        ..Decoded::default()
    }
}
