//! ASTM E1381 (CLSI LIS01) and E1394 (CLSI LIS02) for laboratory instruments.
//!
//! Three layers, each usable alone: [`link`], the E1381 link state machine for either
//! role over [`frame`], the frame codec (sans-IO: fed bytes and time, it returns bytes
//! to write and events); [`record`], the E1394 records (H P O R C Q M S L, delimiters
//! from the H record); and [`model`], which maps messages to
//! [`labwire_model::LabEvent`].
//!
//! A captured session, fed byte by byte to a receiver, then mapped:
//!
//! ```
//! use labwire_astm::frame::FrameNumber;
//! use labwire_astm::link::{Instant, Link, LinkConfig, LinkEvent, Role};
//! use labwire_astm::model::{Dialect, to_events};
//! use labwire_astm::record::{Message, RecordOptions};
//! use labwire_model::{LabEvent, ResultValue};
//!
//! // ENQ, one frame (STX 1 … ETX checksum CR LF), EOT, as an analyzer sends them.
//! let text = b"H|\\^&|||AN-1\rP|1\rO|1|S24-0007\rR|1|^^^GLU|5.40|mmol/L\rR|2|^^^CRP|<0.5|mg/L\rL|1|N\r";
//! let mut session = vec![0x05];
//! labwire_astm::frame::encode_message_into(&mut session, text, 240, FrameNumber::FIRST)?;
//! session.push(0x04);
//!
//! let mut link = Link::new(LinkConfig::new(Role::Computer))?;
//! let mut messages = Vec::new();
//! for (millis, byte) in session.iter().enumerate() {
//!     link.handle_bytes(std::slice::from_ref(byte), Instant::from_millis(millis as u64));
//!     let _to_send = link.take_output(); // ACKs, written back to the instrument
//!     while let Some(event) = link.poll_event() {
//!         if let LinkEvent::MessageReceived { text, .. } = event {
//!             messages.push(text);
//!         }
//!     }
//! }
//!
//! let (message, _warnings) = Message::parse(&messages[0], &RecordOptions::default())?;
//! for event in to_events(&message, &Dialect::generic()) {
//!     let LabEvent::Results(report) = event else { continue };
//!     for result in &report.results {
//!         if let ResultValue::Quantity(quantity) = &result.value {
//!             let unit = quantity.unit.as_ref().map_or("", |unit| unit.original.as_str());
//!             println!("{} {} {unit}", result.test.code, quantity.value);
//!         }
//!     }
//!     assert_eq!(report.results.len(), 2);
//! }
//! # Ok::<(), labwire_astm::error::Error>(())
//! ```
#![forbid(unsafe_code)]

pub mod error;
pub mod frame;
pub mod link;
pub mod model;
pub mod record;
pub mod write;

pub use error::Error;
