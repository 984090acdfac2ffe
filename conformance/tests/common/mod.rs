//! Shared by the three conformance test binaries: finding goldens and fixtures, comparing
//! capped golden values, and checking observed differences against
//! `known_differences.json` (each documented in `KNOWN_DIFFERENCES.md`).
//!
//! A difference is one place where labwire and a reference implementation read a fixture
//! differently: `(protocol, fixture, path, aspect, ours, theirs)`. The test of a protocol
//! collects all of them and calls [`check_known_differences`], which fails when
//!
//! * a difference matches no entry of `known_differences.json` (undocumented), or
//! * an entry matches a different number of differences than its `count` says (a
//!   documented difference that no longer happens, or one that now happens in more
//!   places), or
//! * an entry's `id` has no heading in `KNOWN_DIFFERENCES.md`, or its `status` is not
//!   one of the four, or its `clause` is empty.

#![allow(
    dead_code,
    reason = "shared by the three test binaries, each of which uses a part"
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// The conformance crate's directory.
pub(crate) fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace root (fixtures live in the protocol crates' own `tests/data`).
pub(crate) fn workspace_dir() -> PathBuf {
    crate_dir()
        .parent()
        .expect("the conformance crate sits in the workspace")
        .to_path_buf()
}

/// Every golden of one protocol, by file stem, parsed.
pub(crate) fn goldens(protocol: &str) -> BTreeMap<String, Value> {
    let dir = crate_dir().join("goldens").join(protocol);
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "json") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            out.insert(stem, read_json(&path));
        }
    }
    assert!(!out.is_empty(), "no goldens in {}", dir.display());
    out
}

/// A JSON file.
pub(crate) fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The file names (not paths) in `dir` ending in `.{extension}`, sorted.
pub(crate) fn files_with_extension(dir: &Path, extension: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// FNV-1a, 64 bits, over UTF-8 bytes, as 16 hex digits (the hash `generate.py` writes for
/// values longer than its cap).
pub(crate) fn fnv1a64(text: &str) -> String {
    let mut value: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        value ^= u64::from(byte);
        value = value.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{value:016x}")
}

/// Whether `ours` is the text a golden value stands for: the same string, or for a capped
/// value (`{"head", "chars", "fnv1a64"}`) the same prefix, length and hash.
pub(crate) fn same_text(ours: &str, golden: &Value) -> bool {
    match golden {
        Value::String(text) => text == ours,
        Value::Object(capped) => {
            let head = capped["head"].as_str().unwrap();
            let chars = capped["chars"].as_u64().unwrap();
            ours.starts_with(head)
                && ours.chars().count() as u64 == chars
                && fnv1a64(ours) == capped["fnv1a64"].as_str().unwrap()
        }
        _ => false,
    }
}

/// A string as the goldens store it: capped at 200 characters like `generate.py` does.
pub(crate) fn capped(text: &str) -> Value {
    const CAP: usize = 200;
    if text.chars().count() <= CAP {
        return Value::String(text.to_owned());
    }
    let head: String = text.chars().take(CAP).collect();
    serde_json::json!({
        "head": head,
        "chars": text.chars().count(),
        "fnv1a64": fnv1a64(text),
    })
}

/// One place where labwire and a reference read a fixture differently.
#[derive(Clone, Debug)]
pub(crate) struct Difference {
    /// `hl7`, `astm` or `dicom`.
    pub(crate) protocol: &'static str,
    /// The fixture's file stem.
    pub(crate) fixture: String,
    /// Where in the fixture (`OBX(2)-5.1`, `R(3)-4`, `(0010,0010)`).
    pub(crate) path: String,
    /// What was compared (`raw`, `unescaped`, `segments`, `value`, `vr` …).
    pub(crate) aspect: String,
    /// What labwire read (`null` when it read nothing there).
    pub(crate) ours: Value,
    /// What the reference read (`null` when it read nothing there).
    pub(crate) theirs: Value,
}

impl Difference {
    /// A difference; `ours` and `theirs` become JSON.
    pub(crate) fn new(
        protocol: &'static str,
        fixture: &str,
        path: impl Into<String>,
        aspect: &str,
        ours: impl Into<Value>,
        theirs: impl Into<Value>,
    ) -> Self {
        Self {
            protocol,
            fixture: fixture.to_owned(),
            path: path.into(),
            aspect: aspect.to_owned(),
            ours: ours.into(),
            theirs: theirs.into(),
        }
    }
}

/// One entry of `known_differences.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnownDifference {
    /// Names the `KNOWN_DIFFERENCES.md` heading that explains it (entries of one kind of
    /// difference share it).
    id: String,
    protocol: String,
    /// A fixture stem, or a pattern with `*`.
    fixture: String,
    /// A path, or a pattern with `*`.
    path: String,
    aspect: String,
    /// When given (`null` included), the difference's `ours` must be exactly this.
    #[serde(default, deserialize_with = "given")]
    ours: Option<Value>,
    /// When given (`null` included), the difference's `theirs` must be exactly this.
    #[serde(default, deserialize_with = "given")]
    theirs: Option<Value>,
    /// How many observed differences the entry covers, exactly.
    count: usize,
    /// `theirs-wrong`, `both-conform`, `input-breaks-standard` or `our-bug`.
    status: String,
    /// The clause of the standard that decides it.
    clause: String,
    /// One line for the reader of the JSON; the full reasoning is in the Markdown.
    #[serde(default)]
    #[allow(dead_code)]
    summary: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnownDifferences {
    #[serde(default, rename = "$comment")]
    #[allow(dead_code)]
    comment: Value,
    differences: Vec<KnownDifference>,
}

/// A field that is present, `null` included (`Option<Value>` alone reads `null` as absent).
fn given<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

const STATUSES: [&str; 4] = [
    "theirs-wrong",
    "both-conform",
    "input-breaks-standard",
    "our-bug",
];

/// `*` matches any run of characters (including none); everything else matches itself.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

impl KnownDifference {
    fn matches(&self, difference: &Difference) -> bool {
        self.protocol == difference.protocol
            && glob(&self.fixture, &difference.fixture)
            && glob(&self.path, &difference.path)
            && self.aspect == difference.aspect
            && self
                .ours
                .as_ref()
                .is_none_or(|ours| *ours == difference.ours)
            && self
                .theirs
                .as_ref()
                .is_none_or(|theirs| *theirs == difference.theirs)
    }
}

/// Fails unless every difference of `protocol` is documented and every documented one of
/// `protocol` happens exactly `count` times. Prints the `our-bug` entries, which wait for a
/// fix in the parser.
pub(crate) fn check_known_differences(protocol: &str, differences: &[Difference]) {
    let known: KnownDifferences =
        serde_json::from_value(read_json(&crate_dir().join("known_differences.json")))
            .expect("known_differences.json has the documented shape");
    let explanations = std::fs::read_to_string(crate_dir().join("KNOWN_DIFFERENCES.md"))
        .expect("KNOWN_DIFFERENCES.md");
    let entries: Vec<&KnownDifference> = known
        .differences
        .iter()
        .filter(|entry| entry.protocol == protocol)
        .collect();

    let mut problems = String::new();
    for entry in &entries {
        if !STATUSES.contains(&entry.status.as_str()) {
            writeln!(problems, "{}: unknown status {:?}", entry.id, entry.status).unwrap();
        }
        if entry.clause.trim().is_empty() {
            writeln!(problems, "{}: no clause of the standard", entry.id).unwrap();
        }
        let heading = explanations
            .lines()
            .any(|line| line.starts_with('#') && line.contains(&format!("`{}`", entry.id)));
        if !heading {
            writeln!(
                problems,
                "{}: no heading containing `{}` in KNOWN_DIFFERENCES.md",
                entry.id, entry.id
            )
            .unwrap();
        }
    }

    let mut counts = vec![0usize; entries.len()];
    let mut undocumented = Vec::new();
    for difference in differences {
        match entries.iter().position(|entry| entry.matches(difference)) {
            Some(index) => counts[index] += 1,
            None => undocumented.push(difference),
        }
    }
    for (entry, &count) in entries.iter().zip(&counts) {
        if count != entry.count {
            writeln!(
                problems,
                "{}: documented for {} difference(s), found {count}{}",
                entry.id,
                entry.count,
                if count == 0 {
                    " (it no longer happens: remove the entry and its explanation)"
                } else {
                    ""
                }
            )
            .unwrap();
        }
    }
    if !undocumented.is_empty() {
        writeln!(
            problems,
            "{} undocumented difference(s) (fix the parser, or add an entry to \
             known_differences.json and explain it in KNOWN_DIFFERENCES.md):",
            undocumented.len()
        )
        .unwrap();
        for difference in &undocumented {
            let entry = serde_json::json!({
                "protocol": difference.protocol,
                "fixture": difference.fixture,
                "path": difference.path,
                "aspect": difference.aspect,
                "ours": difference.ours,
                "theirs": difference.theirs,
            });
            writeln!(problems, "  {entry}").unwrap();
        }
    }
    for (entry, &count) in entries.iter().zip(&counts) {
        if entry.status == "our-bug" && count > 0 {
            println!(
                "our bug, fix pending: {} ({} place(s)): {}",
                entry.id, count, entry.clause
            );
        }
    }
    assert!(problems.is_empty(), "{protocol} conformance:\n{problems}");
}

#[test]
fn glob_matches_stars_anywhere() {
    assert!(glob("*", ""));
    assert!(glob("OBX(*)-5", "OBX(12)-5"));
    assert!(!glob("OBX(*)-5", "OBX(12)-5.1"));
    assert!(glob("*-5*", "OBX(2)-5.1"));
    assert!(glob("abc", "abc"));
    assert!(!glob("abc", "abd"));
}

#[test]
fn fnv1a64_matches_the_generator() {
    // generate.py: fnv1a64("") and fnv1a64("a").
    assert_eq!(fnv1a64(""), "cbf29ce484222325");
    assert_eq!(fnv1a64("a"), "af63dc4c8601ec8c");
}
