//! Benchmarks for the labwire crates; the benches live in `benches/`.
//!
//! Every bench checks the result of what it times before timing it, reports
//! throughput in bytes, and runs in test mode in CI (`cargo bench --no-run`, or
//! `cargo test --benches` to execute each once). Run them for real with
//! `cargo bench -p labwire-benches`.
//!
//! This library holds what the peer benches (`peers_*`, issue 9) share with the
//! python script in `benches/peers/`: a deterministic generator of a large HL7 corpus
//! ([`hl7_corpus`]) and the file format both sides read it in ([`join_corpus`]).
//! The generator uses its own small PRNG ([`SplitMix64`]) so that the bytes depend
//! on nothing but the [`CorpusSpec`]: the same spec gives the same bytes on every
//! machine and every run, which is what lets a python peer time exactly the input
//! the Rust peers were timed on.
#![forbid(unsafe_code)]

use std::fmt::Write as _;

/// SplitMix64 (Steele, Lea, Flood 2014; the seeding generator of xoshiro): one
/// `u64` of state, a fixed increment and a mixing function. Statistically good
/// enough for test data, trivially reproducible, no dependency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose whole future is decided by `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (0 when `bound` is 0). The modulo bias is below
    /// 2^-40 for the bounds used here, which test data does not care about.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64().checked_rem(bound).unwrap_or(0)
    }

    /// A number in `low..=high` (`low` when `high < low`).
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        let span = high.saturating_sub(low).saturating_add(1);
        low.saturating_add(self.below(span))
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element of `choices` (the empty string when there is none).
    pub fn pick<'c>(&mut self, choices: &[&'c str]) -> &'c str {
        let index = usize::try_from(self.below(choices.len() as u64)).unwrap_or(0);
        choices.get(index).copied().unwrap_or_default()
    }
}

/// What [`hl7_corpus`] generates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorpusSpec {
    /// How many messages.
    pub messages: usize,
    /// Each message's size is drawn uniformly from `min_size..=max_size` bytes; the
    /// message is then filled with segments up to that size without passing it
    /// (the first segments, about 600 bytes, are always there).
    pub min_size: usize,
    /// See `min_size`.
    pub max_size: usize,
    /// The PRNG seed.
    pub seed: u64,
}

impl Default for CorpusSpec {
    /// The corpus of the peer benchmarks: 10,000 ORU^R01 and OUL^R22 messages of
    /// 1–20 KiB (about 100 MiB).
    fn default() -> Self {
        Self {
            messages: 10_000,
            min_size: 1024,
            max_size: 20 * 1024,
            seed: 0x6C61_6277_6972_6539, // "labwire9"
        }
    }
}

impl CorpusSpec {
    /// The same kind of corpus with 200 messages: for the benches' test mode
    /// (`cargo test --benches`), where the full corpus in a debug build would take
    /// minutes.
    #[must_use]
    pub fn smoke() -> Self {
        Self {
            messages: 200,
            ..Self::default()
        }
    }
}

/// Generates the corpus `spec` describes: every message is one `Vec<u8>`, segments
/// terminated by CR (v2.5.1 §2.5.4), no trailing LF, no byte 0x0A anywhere (so
/// [`join_corpus`] can separate messages with LF). About 55 % are ORU^R01 (ELR-style
/// results with several OBR groups), the rest OUL^R22 (specimen-oriented, with SPM,
/// as LAW analyzers send them). One message in ten has UTF-8 names and declares
/// `UNICODE UTF-8` in MSH-18; values use repetitions, components, subcomponents and
/// escape sequences (`\T\`, `\S\`, `\.br\`) the way real feeds do.
#[must_use]
pub fn hl7_corpus(spec: &CorpusSpec) -> Vec<Vec<u8>> {
    let mut rng = SplitMix64::new(spec.seed);
    (0..spec.messages)
        .map(|index| {
            let target = usize::try_from(rng.between(spec.min_size as u64, spec.max_size as u64))
                .unwrap_or(spec.min_size);
            hl7_message(&mut rng, index, target)
        })
        .collect()
}

/// The corpus as one file: every message followed by one LF. Messages contain no LF
/// ([`hl7_corpus`]), so a reader splits on LF and drops the empty tail.
#[must_use]
pub fn join_corpus(messages: &[Vec<u8>]) -> Vec<u8> {
    let total = messages.iter().fold(0usize, |sum, m| {
        sum.saturating_add(m.len()).saturating_add(1)
    });
    let mut out = Vec::with_capacity(total);
    for message in messages {
        out.extend_from_slice(message);
        out.push(b'\n');
    }
    out
}

const FAMILY: &[&str] = &[
    "Smith",
    "Johnson",
    "Garcia",
    "Nguyen",
    "Schmidt",
    "Rossi",
    "Dubois",
    "Kowalski",
    "Okafor",
    "Tanaka",
    "Andersen",
    "Silva",
    "O'Brien",
    "Van der Berg",
];
const FAMILY_UTF8: &[&str] = &["Müller", "Łukasiewicz", "Søndergaard", "Núñez", "Ébrard"];
const GIVEN: &[&str] = &[
    "Anna", "John", "Maria", "Wei", "Fatima", "Lukas", "Sofia", "Kenji", "Amara", "Pierre",
];
const GIVEN_UTF8: &[&str] = &["Zoë", "José", "Jürgen", "Åsa", "Łucja"];
const CITY: &[&str] = &[
    "Springfield",
    "Riverton",
    "Lakeside",
    "Hillcrest",
    "Fairview",
];
const SENDER: &[&str] = &[
    "cobas-8000^0123456789^EUI-64",
    "ARCHITECT-ci4100^1.3.6.1.4.1.99999.1^ISO",
    "XN-1000^SYSMEX^L",
    "AU5800^BECKMAN^L",
    "LABWIRE-GEN",
];
/// (LOINC, name, unit, low, high, decimals, local code)
const TESTS: &[(&str, &str, &str, u64, u64, u32, &str)] = &[
    (
        "2345-7",
        "Glucose [Mass/volume] in Serum or Plasma",
        "mg/dL",
        70,
        99,
        0,
        "GLU",
    ),
    (
        "2951-2",
        "Sodium [Moles/volume] in Serum or Plasma",
        "mmol/L",
        136,
        145,
        0,
        "NA",
    ),
    (
        "2823-3",
        "Potassium [Moles/volume] in Serum or Plasma",
        "mmol/L",
        35,
        51,
        1,
        "K",
    ),
    (
        "2160-0",
        "Creatinine [Mass/volume] in Serum or Plasma",
        "mg/dL",
        60,
        120,
        2,
        "CREA",
    ),
    (
        "1742-6",
        "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
        "U/L",
        7,
        56,
        0,
        "ALT",
    ),
    (
        "718-7",
        "Hemoglobin [Mass/volume] in Blood",
        "g/dL",
        120,
        175,
        1,
        "HGB",
    ),
    (
        "6690-2",
        "Leukocytes [#/volume] in Blood by Automated count",
        "10*3/uL",
        45,
        110,
        1,
        "WBC",
    ),
    (
        "777-3",
        "Platelets [#/volume] in Blood by Automated count",
        "10*3/uL",
        150,
        400,
        0,
        "PLT",
    ),
    (
        "1988-5",
        "C reactive protein [Mass/volume] in Serum or Plasma",
        "mg/L",
        0,
        50,
        1,
        "CRP",
    ),
    (
        "3016-3",
        "Thyrotropin [Units/volume] in Serum or Plasma",
        "m[IU]/L",
        40,
        400,
        2,
        "TSH",
    ),
    (
        "4548-4",
        "Hemoglobin A1c/Hemoglobin.total in Blood",
        "%",
        40,
        60,
        1,
        "HBA1C",
    ),
    (
        "2093-3",
        "Cholesterol [Mass/volume] in Serum or Plasma",
        "mg/dL",
        120,
        200,
        0,
        "CHOL",
    ),
];
const COMMENTS: &[&str] = &[
    "Specimen slightly hemolyzed \\T\\ lipemic; result may be affected.",
    "Repeated after 1:2 dilution.\\.br\\Confirmed by second run.",
    "Reference range updated 2024-01-15 (see lab bulletin 12\\S\\B).",
    "Critical value called to ward 4B, read back by nurse on duty.",
    "Calibration verified with control lot 24A117 \\T\\ 24A118.",
];

/// Writes `value / 10^decimals` with exactly `decimals` digits after the point.
fn decimal(out: &mut String, value: u64, decimals: u32) {
    let scale = 10u64.saturating_pow(decimals);
    let whole = value.checked_div(scale).unwrap_or(value);
    let fraction = value.checked_rem(scale).unwrap_or(0);
    if decimals == 0 {
        let _ = write!(out, "{whole}");
    } else {
        let width = decimals as usize;
        let _ = write!(out, "{whole}.{fraction:0width$}");
    }
}

/// A timestamp `2024MMDDhhmmss+0100` derived from `minute` minutes after a base.
fn timestamp(out: &mut String, minute: u64) {
    let day = minute / (24 * 60) % 28 + 1;
    let month = minute / (28 * 24 * 60) % 12 + 1;
    let hour = minute / 60 % 24;
    let min = minute % 60;
    let _ = write!(out, "2024{month:02}{day:02}{hour:02}{min:02}00+0100");
}

/// One message of about `target` bytes (never more, once the fixed part is written).
fn hl7_message(rng: &mut SplitMix64, index: usize, target: usize) -> Vec<u8> {
    let oru = rng.chance(55);
    let utf8 = rng.chance(10);
    let minute = rng.below(365 * 24 * 60);
    let mut text = String::with_capacity(target.saturating_add(512));

    // MSH (v2.5.1 §2.14.9); MSH-18 only when the message is not plain ASCII.
    let _ = write!(
        text,
        "MSH|^~\\&|{}|LAB-{}|LIS|HOSP|",
        rng.pick(SENDER),
        rng.below(8)
    );
    timestamp(&mut text, minute);
    let (event, structure) = if oru {
        ("ORU^R01", "ORU_R01")
    } else {
        ("OUL^R22", "OUL_R22")
    };
    let _ = write!(
        text,
        "||{event}^{structure}|MSG{index:08}|P|2.5.1|||AL|NE{}\r",
        if utf8 { "||UNICODE UTF-8" } else { "" }
    );

    // PID with two identifiers (a repetition) and an XPN name.
    let (family, given) = if utf8 {
        (rng.pick(FAMILY_UTF8), rng.pick(GIVEN_UTF8))
    } else {
        (rng.pick(FAMILY), rng.pick(GIVEN))
    };
    let _ = write!(
        text,
        "PID|1||MRN{:07}^^^HOSP&1.2.276.0.7230010.3&ISO^MR~{:09}^^^NATION^NI||{family}^{given}^{}^^^^L||19{:02}{:02}{:02}|{}|||{} Main St^^{}^^{:05}^USA^H||^PRN^PH^^1^555^{:07}\r",
        rng.below(10_000_000),
        rng.below(1_000_000_000),
        rng.pick(&["A", "B", "", "M"]),
        rng.between(30, 99),
        rng.between(1, 12),
        rng.between(1, 28),
        rng.pick(&["F", "M", "U"]),
        rng.between(1, 999),
        rng.pick(CITY),
        rng.below(100_000),
        rng.below(10_000_000),
    );
    if oru {
        let _ = write!(text, "PV1|1|O|LAB^^^HOSP^^^^^Outpatient lab\r");
    } else {
        let _ = write!(
            text,
            "SPM|1|S{:08}&LIS&1.2.3&ISO^R{:03}-{:02}&ANALYZER||SER^Serum^HL70487|||||||P^Patient^HL70369|||||",
            rng.below(100_000_000),
            rng.below(1000),
            rng.between(1, 10)
        );
        timestamp(&mut text, minute.saturating_sub(90));
        text.push('\r');
    }

    // Order groups and results until the target size.
    let mut order = 0u64;
    let mut observation = 0u64;
    loop {
        let mut group = String::with_capacity(1024);
        if order == 0 || rng.chance(12) {
            order += 1;
            observation = 0;
            let placer = rng.below(100_000_000);
            let _ = write!(group, "ORC|RE|P{placer:08}|F{placer:08}||CM\r");
            let _ = write!(
                group,
                "OBR|{order}|P{placer:08}|F{placer:08}|24323-8^Comprehensive metabolic 2000 panel^LN^CMP^Chemistry panel^L|||"
            );
            timestamp(&mut group, minute.saturating_sub(60));
            let _ = write!(group, "|||||||");
            timestamp(&mut group, minute.saturating_sub(55));
            let _ = write!(group, "||1234^Welby^Marcus^^^Dr^MD||||||");
            timestamp(&mut group, minute);
            group.push_str("|||F\r");
        }
        observation += 1;
        let test = TESTS
            .get(usize::try_from(rng.below(TESTS.len() as u64)).unwrap_or(0))
            .copied()
            .unwrap_or(("2345-7", "Glucose", "mg/dL", 70, 99, 0, "GLU"));
        let (loinc, name, unit, low, high, decimals, local) = test;
        let value = rng.between(low.saturating_mul(7) / 10, high.saturating_mul(13) / 10);
        let flag = if value < low {
            "L"
        } else if value > high {
            "H"
        } else {
            "N"
        };
        let _ = write!(
            group,
            "OBX|{observation}|NM|{loinc}^{name}^LN^{local}^{local}^L||"
        );
        decimal(&mut group, value, decimals);
        let _ = write!(group, "|{unit}^{unit}^UCUM|");
        decimal(&mut group, low, decimals);
        group.push('-');
        decimal(&mut group, high, decimals);
        let _ = write!(group, "|{flag}|||F|||");
        timestamp(&mut group, minute);
        let _ = write!(
            group,
            "||OP{:03}^Tech^Lab|{}^{:06}|",
            rng.below(1000),
            rng.pick(&["cobas-c702", "ARCHITECT", "XN-1000", "AU5800"]),
            rng.below(1_000_000)
        );
        timestamp(&mut group, minute.saturating_add(2));
        group.push('\r');
        if rng.chance(8) {
            let _ = write!(group, "NTE|1|L|{}|RE^Remark^HL70364\r", rng.pick(COMMENTS));
        }
        if text.len().saturating_add(group.len()) > target {
            break;
        }
        text.push_str(&group);
    }
    // The segment terminator of the last segment stays: most senders write it.
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FNV-1a 64: pins the generator's output without a hashing dependency.
    fn fnv1a(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xCBF2_9CE4_8422_2325, |hash, &b| {
            (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
        })
    }

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // First outputs for seed 0 from the reference C implementation.
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn corpus_is_deterministic_and_sized() {
        let spec = CorpusSpec::smoke();
        let corpus = hl7_corpus(&spec);
        assert_eq!(corpus, hl7_corpus(&spec));
        assert_eq!(corpus.len(), 200);
        for message in &corpus {
            assert!(message.starts_with(b"MSH|^~\\&|"));
            assert!(message.len() <= spec.max_size, "{}", message.len());
            assert!(message.len() >= 500, "{}", message.len());
            assert!(!message.contains(&b'\n'));
            assert!(std::str::from_utf8(message).is_ok());
            assert_eq!(message.last(), Some(&b'\r'));
        }
        let mean = corpus.iter().map(Vec::len).sum::<usize>() / corpus.len();
        assert!((8 * 1024..13 * 1024).contains(&mean), "{mean}");
        assert!(corpus.iter().any(|m| m.windows(7).any(|w| w == b"OUL^R22")));
        assert!(corpus.iter().any(|m| m.windows(7).any(|w| w == b"ORU^R01")));
        assert!(
            corpus
                .iter()
                .any(|m| m.windows(13).any(|w| w == b"UNICODE UTF-8"))
        );
    }

    #[test]
    fn corpus_bytes_are_pinned() {
        // The python peers read the bytes the bench writes out, so a change here is
        // not a correctness problem; but published figures name this corpus, so a
        // change must be deliberate (update RESULTS.md with the new figures).
        let joined = join_corpus(&hl7_corpus(&CorpusSpec::smoke()));
        assert_eq!(
            fnv1a(&joined),
            PINNED_SMOKE_FNV1A,
            "{:#018X}",
            fnv1a(&joined)
        );
    }

    const PINNED_SMOKE_FNV1A: u64 = 0x8B60_4B08_9D0B_AAE7;

    #[test]
    fn join_corpus_separates_with_lf() {
        let joined = join_corpus(&[b"MSH|a\r".to_vec(), b"MSH|b\r".to_vec()]);
        assert_eq!(joined, b"MSH|a\r\nMSH|b\r\n");
    }
}
