//! DICOM headers without pixels, for pathology scanners, gel imagers and analyzers.
//!
//! ```
//! use labwire_dicom_meta::{parse, tags};
//!
//! let bytes = std::fs::read("tests/data/highdicom/sm_image.dcm")?;
//! let header = parse(&bytes)?; // stops before the pixel data
//!
//! let name = header.get(tags::PATIENT_NAME).unwrap().person_name()?;
//! println!("patient    {} {}", name.alphabetic().given(), name.alphabetic().family());
//! println!("study      {}", header.string(tags::STUDY_INSTANCE_UID).unwrap_or_default());
//! println!("modality   {}", header.string(tags::MODALITY).unwrap_or_default());
//! println!("container  {}", header.string(tags::CONTAINER_IDENTIFIER).unwrap_or_default());
//!
//! assert_eq!(name.alphabetic().family(), "Test");
//! assert_eq!(header.string(tags::CONTAINER_IDENTIFIER).as_deref(), Some("S19-1_A_1_1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The parser reads the preamble, the File Meta Information (group 0002) and the
//! data set in the transfer syntax it names, over a borrowed `&[u8]` (a whole file,
//! a memory map, or a prefix), and stops before top-level pixel data. It builds a
//! flat index of every element and item, nested ones included, and decodes nothing
//! until an accessor asks: [`Element::string`], [`Element::person_name`],
//! [`Element::date`], [`Element::ints`], [`Element::items`] …
//!
//! # Hostile input
//!
//! No input makes it panic, allocate in proportion to a length or count the input
//! declares, or recurse: a declared length is checked against the bytes present
//! before anything else ([`Error::Truncated`]); sequences nest on an explicit stack
//! capped by [`Limits::max_depth`]; the element count, value size, inflated size and
//! warning count are capped by [`Limits`].
//!
//! # Tolerant and strict
//!
//! By default the parser accepts what real devices write (no preamble, no file
//! meta information, a wrong group length, implicit VR data under an explicit VR
//! transfer syntax, UN sequences of undefined length …) and reports each deviation
//! as a [`Warning`] citing the clause it relaxes. A structural error ends the walk
//! but returns the header read so far, with [`Header::error`] set.
//! [`ParseOptions::strict`] turns every warning and error into an `Err`.
//!
//! # What is in it
//!
//! - [`parse`], [`parse_with`], [`parse_data_set`]: preamble (optional; `DICM` at 128,
//!   at 0, or absent), file meta information read by group number, then the data set
//!   in implicit VR LE, explicit VR LE or BE, deflated (inflated up to a cap), or an
//!   encapsulated syntax; no or an unknown transfer syntax is guessed from the data.
//! - [`Header`], [`DataSet`], [`Element`]: borrowed views over the index; items of
//!   sequences are data sets ([`Element::items`]), private elements are found by
//!   their creator ([`DataSet::private_element`]).
//! - Typed values: text with padding trimmed and `\`-separated values
//!   ([`Element::strings`]), decoded with the Specific Character Set
//!   ([`CharacterSet`]: ISO 8859 parts, UTF-8, GB18030, GBK, and ISO 2022 code
//!   extensions for Japanese, Korean and Chinese); person names ([`PersonName`]);
//!   DA, TM and DT with their precision and offset (as `labwire_model` timestamps);
//!   numbers; UIDs; attribute tags.
//! - [`dictionary`] and [`tags`]: the standard data dictionary, keyword ↔ tag.
//! - [`Editor`] ([`Header::editor`]): write back byte for byte (deflated data sets
//!   too), or with edits; only what changed is re-encoded. [`deidentify`]: the
//!   PS3.15 Basic Profile and its retain options.
//! - [`model`]: the header as a `labwire_model::LabEvent::ImagingStudy`, specimens
//!   and their container and preparation included.
#![forbid(unsafe_code)]

/// The crate README's example, compiled and run as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod charset;
pub mod deidentify;
pub mod dictionary;
mod error;
mod header;
pub mod model;
mod node;
mod options;
mod parse;
#[rustfmt::skip]
pub mod tags;
mod tag;
pub mod transfer_syntax;
mod value;
mod vr;
mod write;

pub use charset::{CharacterSet, CharsetTerm};
pub use error::{Error, Location, Region, Result, Warning, WarningKind};
pub use header::{DataSet, Element, Elements, Header, Items, Stop};
pub use options::{Limits, ParseOptions};
pub use parse::{parse, parse_data_set, parse_with};
pub use tag::Tag;
pub use transfer_syntax::{Encoding, TransferSyntax};
pub use value::{NameGroup, PersonName, Strings};
pub use vr::Vr;
pub use write::{Editor, Item, Value};
