//! The `convert` command: lab events written back out as JSON, HL7 or ASTM.

use std::io::Write;

use labwire_model::{LabEvent, LabTimestamp, Precision};

/// What to convert to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Target {
    /// One lab event per line, as `decode` writes them.
    Json,
    /// HL7 v2.5.1: results as OUL^R22 (IHE LAW), work orders as OML^O33.
    Hl7,
    /// ASTM E1394: work orders as an order download (H P O L).
    Astm,
}

/// Writes events in the target format, numbering the messages it creates.
pub(crate) struct Converter {
    target: Target,
    now: LabTimestamp,
    next_id: u64,
}

impl Converter {
    /// A converter stamping messages with `now` (RFC 3339), or the clock's time.
    pub(crate) fn new(target: Target, now: Option<&str>) -> Result<Self, String> {
        let now = match now {
            Some(text) => {
                LabTimestamp::parse_rfc3339(text).map_err(|err| format!("--now {text:?}: {err}"))?
            }
            None => LabTimestamp::from_chrono(chrono::Utc::now().fixed_offset(), Precision::Second)
                .map_err(|err| format!("the clock: {err}"))?,
        };
        Ok(Self {
            target,
            now,
            next_id: 1,
        })
    }

    /// Writes one event; an event the target cannot carry is an error.
    pub(crate) fn write(&mut self, event: &LabEvent, out: &mut dyn Write) -> Result<(), String> {
        let control_id = format!("LW{:06}", self.next_id);
        self.next_id += 1;
        let bytes = match self.target {
            Target::Json => {
                let mut line = serde_json::to_vec(event).map_err(|err| err.to_string())?;
                line.push(b'\n');
                line
            }
            Target::Hl7 => {
                let envelope = labwire_hl7::model::Envelope::new(control_id, self.now);
                labwire_hl7::model::write_event(event, &envelope)
                    .map_err(|err| err.to_string())?
                    .to_bytes()
            }
            Target::Astm => match event {
                LabEvent::WorkOrder(work) => {
                    let mut header = labwire_astm::write::HeaderInfo::default();
                    header.message_id = Some(control_id);
                    header.sent_at = Some(self.now);
                    labwire_astm::write::order_message(work, &header)
                }
                other => {
                    return Err(format!(
                        "a {} event cannot be written as ASTM; only work orders can",
                        other.kind().as_str()
                    ));
                }
            },
        };
        out.write_all(&bytes).map_err(|err| err.to_string())
    }
}
