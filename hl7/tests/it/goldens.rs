//! Golden JSON for every fixture the mapping reads: `tests/data/golden/<name>.json`
//! holds `serde_json::to_string_pretty(&events)` and a newline. Regenerate with
//! `LABWIRE_BLESS=1 cargo test -p labwire-hl7 --test it goldens`; the goldens were
//! checked by hand (see `tests/data/golden/README.md`).

use std::collections::BTreeSet;

use labwire_hl7::model::MapError;

use crate::fixtures;

#[test]
fn every_mapped_fixture_matches_its_golden() {
    let bless = std::env::var_os("LABWIRE_BLESS").is_some_and(|value| value == "1");
    let golden_dir = fixtures::data_dir().join("golden");
    let mut expected = BTreeSet::new();
    let mut failures = Vec::new();
    for (name, bytes) in fixtures::all() {
        let mapped =
            match fixtures::map(&bytes) {
                Ok(mapped) => mapped,
                Err(
                    MapError::UnsupportedMessageType { .. } | MapError::UnsupportedTrigger { .. },
                ) if fixtures::UNMAPPED.contains(&name.as_str()) => continue,
                Err(error) => panic!("{name}: {error}"),
            };
        assert!(
            !fixtures::UNMAPPED.contains(&name.as_str()),
            "{name} is listed as unmapped but maps"
        );
        assert!(!mapped.events.is_empty(), "{name}: no events");
        let json = serde_json::to_string_pretty(&mapped.events).unwrap() + "\n";
        let path = golden_dir.join(format!("{name}.json"));
        expected.insert(format!("{name}.json"));
        if bless {
            std::fs::write(&path, &json).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(golden) if golden == json => {}
            Ok(_) => failures.push(format!("{name}: differs from its golden")),
            Err(_) => failures.push(format!("{name}: no golden")),
        }
        // The golden reads back as the same events.
        let back: Vec<labwire_model::LabEvent> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, mapped.events, "{name}");
    }
    let present: BTreeSet<String> = std::fs::read_dir(&golden_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    let stale: Vec<_> = present.difference(&expected).collect();
    assert!(stale.is_empty(), "goldens without a fixture: {stale:?}");
    assert!(
        failures.is_empty(),
        "{failures:#?}\n(LABWIRE_BLESS=1 regenerates)"
    );
}
