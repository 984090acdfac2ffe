//! HL7 v2 (ER7, pipe-delimited) for laboratory instruments.
//!
//! Three layers, each usable alone: MLLP framing ([`mllp`], a sans-IO stream
//! decoder and an encoder), the zero-copy message syntax ([`message`], [`path`],
//! [`escape`], [`charset`], [`write`](mod@write), [`batch`]), and [`model`], which
//! maps laboratory message profiles (ORU^R01, OUL^R22, OML^O33, QBP^Q11, ESU^U01 …) to
//! [`labwire_model::LabEvent`] and back; [`ack`] builds the acknowledgments (see the
//! [`model`] documentation for an example that maps a result message and answers it).
//!
//! ```
//! use labwire_hl7::{Ack, AcknowledgmentCode, MapOptions, Message, MllpDecoder, ParseOptions, Status};
//! use labwire_model::LabEvent;
//!
//! let oru = "MSH|^~\\&|ANALYZER|LAB|LIS|HOSP|20240301101502||ORU^R01|MSG00042|P|2.5.1\r\
//!            PID|1||MRN-4711^^^HOSP^MR||Doe^Jane\r\
//!            OBR|1|P-0815|F-77|24323-8^CMP^LN\r\
//!            OBX|1|NM|2345-7^Glucose^LN||5.40|mmol/L|3.9-6.1|N|||F\r\
//!            NTE|1||Sample slightly lipemic\r\
//!            OBX|2|ST|5778-6^Color^LN||Straw \\T\\ clear||||||F\r";
//!
//! // Bytes arrive over TCP in MLLP frames, split anywhere.
//! let mut framed = Vec::new();
//! labwire_hl7::mllp::encode(oru.as_bytes(), &mut framed)?;
//! let mut decoder = MllpDecoder::new(1 << 20);
//! let mut payload = None;
//! for chunk in framed.chunks(7) {
//!     decoder.push(chunk)?;
//!     if let Status::Complete(frame) = decoder.next_frame()? {
//!         payload = Some(frame.payload.to_vec());
//!     }
//! }
//! let payload = payload.expect("one complete frame");
//!
//! let message = Message::parse(&payload, &ParseOptions::default())?;
//! assert_eq!(message.get("MSH-9.1").unwrap().as_str(), Some("ORU"));
//! assert_eq!(message.get("OBX(2)-5").unwrap().decoded()?, "Straw & clear");
//! for observation in message.observations() {
//!     let obx = observation.head();
//!     println!(
//!         "{} = {} {}",
//!         obx.field(3).component(1).decoded()?,
//!         obx.field(5).decoded()?,
//!         obx.field(6).decoded()?,
//!     );
//! }
//! assert_eq!(message.as_bytes(), oru.as_bytes()); // unedited: byte for byte
//!
//! // To the lab model, then the ACK the instrument waits for.
//! let mapped = labwire_hl7::to_events(&message, &MapOptions::default())?;
//! let LabEvent::Results(report) = &mapped.events[0] else { panic!("a results event") };
//! assert_eq!(report.results[0].loinc.map(|code| code.to_string()), Some("2345-7".into()));
//! assert_eq!(report.results[0].notes, ["Sample slightly lipemic"]);
//! let ack = Ack::new(AcknowledgmentCode::ApplicationAccept, "ACK-0001", "20240301101503")
//!     .for_message(&message)?;
//! let ack = Message::parse(&ack, &ParseOptions::default())?;
//! assert_eq!(ack.get("MSA-1").unwrap().as_str(), Some("AA"));
//! assert_eq!(ack.get("MSA-2").unwrap().as_str(), Some("MSG00042"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod ack;
pub mod batch;
pub mod charset;
pub mod encoding;
pub mod error;
pub mod escape;
pub mod message;
pub mod mllp;
pub mod model;
pub mod path;
pub mod write;

pub use ack::{Ack, AcknowledgmentCode};
pub use batch::BatchFile;
pub use charset::Charset;
pub use encoding::Delimiters;
pub use error::{Error, Location, Result, Warning, WarningKind};
pub use message::{Field, Message, ParseOptions, Segment, Value};
pub use mllp::{Frame, MllpDecoder, Status};
pub use model::{MapOptions, Mapped, to_events};
pub use path::Path;
pub use write::OwnedMessage;
