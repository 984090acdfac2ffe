//! Typed, lazy accessors on [`Element`]: text, person names, dates and times,
//! numbers, UIDs and attribute tags.
//!
//! Nothing is decoded until asked for. Text borrows from the input when it is ASCII
//! and is decoded with the Specific Character Set in effect otherwise; padding is
//! trimmed as PS3.5 Table 6.2-1 allows for each VR.

use std::borrow::Cow;

use labwire_model::{DicomTime, LabTimestamp};

use crate::error::Result;
use crate::header::Element;
use crate::node::flags;
use crate::{Tag, Vr};

impl<'h> Element<'h> {
    /// The whole value as text, decoded and with trailing padding removed; several
    /// values stay joined by `\`. Fails for binary VRs and sequences.
    ///
    /// ```
    /// # let bytes = std::fs::read("tests/data/highdicom/sm_image.dcm")?;
    /// use labwire_dicom_meta::{parse, tags};
    ///
    /// let header = parse(&bytes)?;
    /// let image_type = header.get(tags::IMAGE_TYPE).unwrap().string()?;
    /// assert_eq!(image_type, r"ORIGINAL\PRIMARY\VOLUME\NONE");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn string(&self) -> Result<Cow<'h, str>> {
        let vr = self.text_vr()?;
        let bytes = self.readable()?;
        let decoded = self.character_set().decode(bytes, vr);
        Ok(map_cow(decoded, |text| trim_end_padding(text)))
    }

    /// The values of a multi-valued text element (split on `\`, each trimmed as its
    /// VR allows). LT, ST, UT and UR hold a single value, backslashes included.
    pub fn strings(&self) -> Result<Strings<'h>> {
        let vr = self.text_vr()?;
        let bytes = self.readable()?;
        Ok(Strings {
            text: self.character_set().decode(bytes, vr),
            vr,
        })
    }

    /// The first value, decoded and trimmed.
    pub fn first_string(&self) -> Result<Cow<'h, str>> {
        let vr = self.text_vr()?;
        let whole = self.string()?;
        Ok(map_cow(whole, |text| {
            let first = if vr.is_multi_valued_text() {
                text.split('\\').next().unwrap_or_default()
            } else {
                text
            };
            trim_value(first, vr)
        }))
    }

    /// The first value of a PN element as a person name (PS3.5 §6.2.1).
    ///
    /// ```
    /// use labwire_dicom_meta::{parse_data_set, Encoding, ParseOptions, tags};
    ///
    /// let name = "Yamada^Tarou=山田^太郎".as_bytes(); // 26 bytes of UTF-8
    /// let mut bytes = b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 192".to_vec();
    /// bytes.extend_from_slice(b"\x10\x00\x10\x00PN\x1a\x00");
    /// bytes.extend_from_slice(name);
    /// let header = parse_data_set(&bytes, Encoding::EXPLICIT_VR_LITTLE_ENDIAN, &ParseOptions::default())?;
    /// let name = header.get(tags::PATIENT_NAME).unwrap().person_name()?;
    /// assert_eq!(name.alphabetic().family(), "Yamada");
    /// assert_eq!(name.ideographic().given(), "太郎");
    /// assert_eq!(name.phonetic().family(), "");
    /// # Ok::<(), labwire_dicom_meta::Error>(())
    /// ```
    pub fn person_name(&self) -> Result<PersonName<'h>> {
        if self.effective_vr() != Vr::PN && self.effective_vr() != Vr::UN {
            return Err(self.invalid("person name (PN)"));
        }
        Ok(PersonName {
            text: self.first_string()?,
        })
    }

    /// Every value of a PN element as a person name.
    pub fn person_names(&self) -> Result<Vec<PersonName<'static>>> {
        if self.effective_vr() != Vr::PN && self.effective_vr() != Vr::UN {
            return Err(self.invalid("person name (PN)"));
        }
        Ok(self
            .strings()?
            .iter()
            .map(|name| PersonName {
                text: Cow::Owned(name.to_owned()),
            })
            .collect())
    }

    /// The first value of a DA element (`YYYYMMDD`, or the ACR-NEMA `YYYY.MM.DD`).
    pub fn date(&self) -> Result<LabTimestamp> {
        let text = self.first_string()?;
        LabTimestamp::parse_dicom_da(&text).map_err(|_| self.invalid("date (DA)"))
    }

    /// The first value of a TM element (`HH[MM[SS[.F{1,6}]]]`), with its precision.
    pub fn time(&self) -> Result<DicomTime> {
        let text = self.first_string()?;
        DicomTime::parse_dicom_tm(&text).map_err(|_| self.invalid("time (TM)"))
    }

    /// The first value of a DT element, with its precision and UTC offset if stated.
    pub fn date_time(&self) -> Result<LabTimestamp> {
        let text = self.first_string()?;
        LabTimestamp::parse_dicom_dt(&text).map_err(|_| self.invalid("date time (DT)"))
    }

    /// The first value of a UI element, without its NUL padding.
    pub fn uid(&self) -> Result<Cow<'h, str>> {
        let vr = self.effective_vr();
        if vr != Vr::UI && vr != Vr::UN {
            return Err(self.invalid("unique identifier (UI)"));
        }
        self.first_string()
    }

    /// The integers of an element: IS as text, or US SS UL SL SV UV as binary, and
    /// OW as unsigned 16-bit words (LUT Data read under implicit VR is OW, see
    /// [`effective_vr`](Self::effective_vr)). Empty values give an empty list.
    ///
    /// The number of entries and the bits per entry of a LUT descriptor (the first
    /// and third values of (0028,1101-1103) and (0028,3002)) are unsigned even when
    /// the VR is SS (PS3.3 C.7.6.3.1.5, C.11.1.1): only the first value mapped is
    /// signed.
    pub fn ints(&self) -> Result<Vec<i64>> {
        let vr = self.effective_vr();
        let bytes = self.readable()?;
        let big = self.node.has(flags::BIG_ENDIAN);
        let out = match vr {
            Vr::IS => {
                let strings = self.strings()?;
                strings
                    .iter()
                    .filter(|value| !value.is_empty())
                    .map(|value| {
                        value
                            .parse::<i64>()
                            .map_err(|_| self.invalid("integer string (IS)"))
                    })
                    .collect::<Result<Vec<_>>>()?
            }
            Vr::US | Vr::OW => words::<2>(bytes, self)?
                .map(|b| i64::from(u16_of(b, big)))
                .collect(),
            Vr::SS if is_lut_descriptor(self.tag()) => words::<2>(bytes, self)?
                .enumerate()
                .map(|(index, b)| {
                    let word = u16_of(b, big);
                    if index == 1 {
                        i64::from(word.cast_signed())
                    } else {
                        i64::from(word)
                    }
                })
                .collect(),
            Vr::SS => words::<2>(bytes, self)?
                .map(|b| i64::from(u16_of(b, big).cast_signed()))
                .collect(),
            Vr::UL => words::<4>(bytes, self)?
                .map(|b| i64::from(u32_of(b, big)))
                .collect(),
            Vr::SL => words::<4>(bytes, self)?
                .map(|b| i64::from(u32_of(b, big).cast_signed()))
                .collect(),
            Vr::SV => words::<8>(bytes, self)?
                .map(|b| u64_of(b, big).cast_signed())
                .collect(),
            Vr::UV => words::<8>(bytes, self)?
                .map(|b| i64::try_from(u64_of(b, big)).map_err(|_| self.invalid("64-bit integer")))
                .collect::<Result<Vec<_>>>()?,
            _ => return Err(self.invalid("integer (IS, US, SS, UL, SL, SV, UV, OW)")),
        };
        Ok(out)
    }

    /// The first integer; fails when there is none.
    pub fn int(&self) -> Result<i64> {
        self.ints()?
            .first()
            .copied()
            .ok_or_else(|| self.invalid("non-empty integer"))
    }

    /// The numbers of an element as `f64`: DS as text, FL and FD as binary, and
    /// anything [`ints`](Self::ints) reads.
    pub fn floats(&self) -> Result<Vec<f64>> {
        let vr = self.effective_vr();
        let bytes = self.readable()?;
        let big = self.node.has(flags::BIG_ENDIAN);
        match vr {
            Vr::DS => {
                let strings = self.strings()?;
                strings
                    .iter()
                    .filter(|value| !value.is_empty())
                    .map(|value| {
                        value
                            .parse::<f64>()
                            .map_err(|_| self.invalid("decimal string (DS)"))
                    })
                    .collect()
            }
            Vr::FL | Vr::OF => Ok(words::<4>(bytes, self)?
                .map(|b| f64::from(f32::from_bits(u32_of(b, big))))
                .collect()),
            Vr::FD | Vr::OD => Ok(words::<8>(bytes, self)?
                .map(|b| f64::from_bits(u64_of(b, big)))
                .collect()),
            _ => Ok(self.ints()?.into_iter().map(|value| value as f64).collect()),
        }
    }

    /// The first number as `f64`; fails when there is none.
    pub fn float(&self) -> Result<f64> {
        self.floats()?
            .first()
            .copied()
            .ok_or_else(|| self.invalid("non-empty number"))
    }

    /// The tags of an AT element.
    pub fn attribute_tags(&self) -> Result<Vec<Tag>> {
        if self.effective_vr() != Vr::AT {
            return Err(self.invalid("attribute tag (AT)"));
        }
        let big = self.node.has(flags::BIG_ENDIAN);
        Ok(words::<4>(self.readable()?, self)?
            .map(|[a, b, c, d]| {
                let (group, element) = if big {
                    (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]))
                } else {
                    (u16::from_le_bytes([a, b]), u16::from_le_bytes([c, d]))
                };
                Tag::new(group, element)
            })
            .collect())
    }

    /// The VR for text decoding, or an error for binary VRs and sequences. UN values
    /// of private tags are read as text, leniently.
    fn text_vr(&self) -> Result<Vr> {
        let vr = self.effective_vr();
        if self.is_sequence() || self.is_encapsulated() {
            return Err(self.invalid("text value"));
        }
        if vr.is_text() {
            Ok(vr)
        } else if vr == Vr::UN {
            Ok(Vr::UT)
        } else {
            Err(self.invalid("text value"))
        }
    }
}

/// True for the LUT descriptors whose first and third values are unsigned whatever
/// the VR: Red, Green and Blue Palette Color Lookup Table Descriptor (0028,1101-1103,
/// PS3.3 C.7.6.3.1.5) and LUT Descriptor (0028,3002, PS3.3 C.11.1.1, C.11.2.1.1).
fn is_lut_descriptor(tag: Tag) -> bool {
    matches!(tag.to_u32(), 0x0028_1101..=0x0028_1103 | 0x0028_3002)
}

/// The fixed-size words of a binary value; fails when the length is not a multiple.
fn words<'b, const N: usize>(
    bytes: &'b [u8],
    element: &Element<'_>,
) -> Result<impl Iterator<Item = [u8; N]> + 'b> {
    if !bytes.len().is_multiple_of(N) {
        return Err(element.invalid("binary value with a whole number of values"));
    }
    Ok(bytes
        .chunks_exact(N)
        .filter_map(|chunk| chunk.first_chunk::<N>().copied()))
}

fn u16_of(bytes: [u8; 2], big: bool) -> u16 {
    if big {
        u16::from_be_bytes(bytes)
    } else {
        u16::from_le_bytes(bytes)
    }
}

fn u32_of(bytes: [u8; 4], big: bool) -> u32 {
    if big {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    }
}

fn u64_of(bytes: [u8; 8], big: bool) -> u64 {
    if big {
        u64::from_be_bytes(bytes)
    } else {
        u64::from_le_bytes(bytes)
    }
}

/// Applies a borrowing transformation to a `Cow<str>`, borrowing from the original
/// when it was borrowed.
fn map_cow<'h>(text: Cow<'h, str>, f: impl for<'s> Fn(&'s str) -> &'s str) -> Cow<'h, str> {
    match text {
        Cow::Borrowed(text) => Cow::Borrowed(f(text)),
        Cow::Owned(text) => {
            let mapped = f(&text);
            if mapped.len() == text.len() {
                Cow::Owned(text)
            } else {
                Cow::Owned(mapped.to_owned())
            }
        }
    }
}

/// Removes the trailing space and NUL padding of a whole value (PS3.5 §6.2: values
/// are padded to even length with a space, UI with NUL; writers also pad with NUL).
fn trim_end_padding(text: &str) -> &str {
    text.trim_end_matches([' ', '\0'])
}

/// Trims one value as PS3.5 Table 6.2-1 allows for its VR: trailing spaces and NULs
/// always, leading spaces except in the text VRs where they are significant.
pub(crate) fn trim_value(value: &str, vr: Vr) -> &str {
    let value = trim_end_padding(value);
    match vr {
        Vr::ST | Vr::LT | Vr::UT | Vr::UC | Vr::UR => value,
        _ => value.trim_start_matches(' '),
    }
}

/// The values of a text element: the decoded text, split on demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strings<'h> {
    text: Cow<'h, str>,
    vr: Vr,
}

impl Strings<'_> {
    /// The values, each trimmed as its VR allows. An empty element has one empty
    /// value.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let vr = self.vr;
        let text = trim_end_padding(&self.text);
        // A single-valued VR keeps its backslashes: split into at most one piece.
        let pieces = if vr.is_multi_valued_text() {
            usize::MAX
        } else {
            1
        };
        text.splitn(pieces, '\\')
            .map(move |value| trim_value(value, vr))
    }

    /// The first value.
    #[must_use]
    pub fn first(&self) -> Option<&str> {
        self.iter().next()
    }

    /// The number of values.
    #[must_use]
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// True if the element has no value at all (zero length).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        trim_end_padding(&self.text).is_empty()
    }

    /// The values as owned strings.
    #[must_use]
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }
}

/// A person name (PN, PS3.5 §6.2.1): up to three component groups separated by `=`
/// (alphabetic, ideographic, phonetic), each with up to five components separated
/// by `^` (family, given, middle, prefix, suffix).
#[derive(Clone, PartialEq, Eq)]
pub struct PersonName<'h> {
    text: Cow<'h, str>,
}

impl PersonName<'_> {
    /// A name from its text form (`Doe^Jane^^Dr`).
    #[must_use]
    pub fn parse(text: &str) -> PersonName<'_> {
        PersonName {
            text: Cow::Borrowed(text),
        }
    }

    /// The name as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn group(&self, index: usize) -> NameGroup<'_> {
        NameGroup {
            text: self.text.split('=').nth(index).unwrap_or_default(),
        }
    }

    /// The alphabetic (single-byte) representation: the first group.
    #[must_use]
    pub fn alphabetic(&self) -> NameGroup<'_> {
        self.group(0)
    }

    /// The ideographic representation (kanji, hanja, hanzi): the second group.
    #[must_use]
    pub fn ideographic(&self) -> NameGroup<'_> {
        self.group(1)
    }

    /// The phonetic representation (hiragana, hangul): the third group.
    #[must_use]
    pub fn phonetic(&self) -> NameGroup<'_> {
        self.group(2)
    }

    /// True if the name is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

impl core::fmt::Debug for PersonName<'_> {
    /// Names are patient data: never printed.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PersonName(<redacted>)")
    }
}

/// One component group of a person name.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NameGroup<'n> {
    text: &'n str,
}

impl<'n> NameGroup<'n> {
    /// The group as written (`Doe^Jane`).
    #[must_use]
    pub fn as_str(&self) -> &'n str {
        self.text
    }

    fn component(&self, index: usize) -> &'n str {
        self.text
            .split('^')
            .nth(index)
            .unwrap_or_default()
            .trim_matches(' ')
    }

    /// Family name complex.
    #[must_use]
    pub fn family(&self) -> &'n str {
        self.component(0)
    }

    /// Given name complex.
    #[must_use]
    pub fn given(&self) -> &'n str {
        self.component(1)
    }

    /// Middle name.
    #[must_use]
    pub fn middle(&self) -> &'n str {
        self.component(2)
    }

    /// Name prefix (`Dr`).
    #[must_use]
    pub fn prefix(&self) -> &'n str {
        self.component(3)
    }

    /// Name suffix (`Jr`).
    #[must_use]
    pub fn suffix(&self) -> &'n str {
        self.component(4)
    }

    /// True if every component is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.text
            .split('^')
            .all(|component| component.trim_matches(' ').is_empty())
    }
}

impl core::fmt::Debug for NameGroup<'_> {
    /// Names are patient data: never printed.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("NameGroup(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_name_groups_and_components() {
        let name = PersonName::parse("Doe^Jane^Q^Dr^Jr=ドウ^ジェーン=");
        let alphabetic = name.alphabetic();
        assert_eq!(
            [
                alphabetic.family(),
                alphabetic.given(),
                alphabetic.middle(),
                alphabetic.prefix(),
                alphabetic.suffix()
            ],
            ["Doe", "Jane", "Q", "Dr", "Jr"]
        );
        assert_eq!(name.ideographic().given(), "ジェーン");
        assert!(name.phonetic().is_empty());
        assert!(PersonName::parse("").alphabetic().is_empty());
        assert_eq!(PersonName::parse("Smith").alphabetic().given(), "");
    }

    #[test]
    fn trims_as_table_6_2_1_allows() {
        assert_eq!(trim_value("  CT ", Vr::CS), "CT");
        assert_eq!(trim_value("  text  ", Vr::LT), "  text");
        assert_eq!(trim_value("1.2.3\0", Vr::UI), "1.2.3");
        let strings = Strings {
            text: Cow::Borrowed(r"ORIGINAL\ PRIMARY \AXIAL "),
            vr: Vr::CS,
        };
        assert_eq!(strings.to_vec(), ["ORIGINAL", "PRIMARY", "AXIAL"]);
        assert_eq!(strings.len(), 3);
        let single = Strings {
            text: Cow::Borrowed(r"a\b "),
            vr: Vr::LT,
        };
        assert_eq!(single.to_vec(), [r"a\b"]);
        let empty = Strings {
            text: Cow::Borrowed(""),
            vr: Vr::DS,
        };
        assert!(empty.is_empty());
        assert_eq!(empty.len(), 1);
    }

    #[test]
    fn map_cow_keeps_borrows() {
        let borrowed = map_cow(Cow::Borrowed("abc  "), trim_end_padding);
        assert!(matches!(borrowed, Cow::Borrowed("abc")));
        let owned = map_cow(Cow::Owned("é  ".to_owned()), trim_end_padding);
        assert_eq!(owned, "é");
    }
}
