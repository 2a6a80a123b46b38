//! Every parser takes arbitrary bytes without panicking.

use molq_core::{parse_accounting, parse_queue, parse_submit_id, SchedulerKind};
use proptest::prelude::*;

const KINDS: [SchedulerKind; 1] = [SchedulerKind::Shell];

/// Bytes that look like status lines often enough to reach the deep paths.
fn status_like() -> impl Strategy<Value = Vec<u8>> {
    let field = prop_oneof![
        Just(String::new()),
        "[0-9]{1,20}",
        "-?[0-9]{1,5}\\.[0-9]{0,3}",
        Just("running".to_owned()),
        Just("exited".to_owned()),
        Just("vanished".to_owned()),
        Just("nan".to_owned()),
        Just("inf".to_owned()),
        ".{0,8}",
    ];
    prop::collection::vec(prop::collection::vec(field, 0..7), 0..20).prop_map(|lines| {
        lines
            .into_iter()
            .map(|fields| fields.join("|"))
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes()
    })
}

fn any_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..512), status_like()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn queue_parsers_never_panic(data in any_input()) {
        for kind in KINDS {
            if let Ok(snap) = parse_queue(kind, &data) {
                prop_assert!(snap.len() + snap.skipped.len() <= data.len());
            }
            let _ = parse_accounting(kind, &data);
            if let Ok(id) = parse_submit_id(kind, &data) {
                prop_assert!(!id.is_empty());
            }
        }
    }

    #[test]
    fn unknown_kinds_are_errors_not_panics(name in ".{0,16}") {
        if let Ok(kind) = SchedulerKind::parse(&name) {
            prop_assert_eq!(kind.as_str(), name);
        }
    }
}
