//! DICOM headers without pixels, for pathology scanners, gel imagers and analyzers.
//!
//! This crate will parse the preamble, the file meta group and the header
//! attributes of a DICOM file over a borrowed slice, safely on hostile input (no
//! allocation trusted from declared lengths, capped nesting), and map the attributes
//! a laboratory needs to [`labwire_model::ImagingStudy`]. See the DICOM issue for the
//! full scope; nothing is implemented yet.
#![forbid(unsafe_code)]
