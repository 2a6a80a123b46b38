//! Every parser takes arbitrary bytes without panicking.

use molq_core::{parse_accounting, parse_queue, parse_submit_id, SchedulerKind};
use proptest::prelude::*;

const KINDS: [SchedulerKind; 5] = [
    SchedulerKind::Shell,
    SchedulerKind::Slurm,
    SchedulerKind::Sge,
    SchedulerKind::Pbs,
    SchedulerKind::Lsf,
];

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

/// Bytes that look like squeue and sacct lines: array ids, states, times, exit codes.
fn slurm_like() -> impl Strategy<Value = Vec<u8>> {
    let field = prop_oneof![
        Just(String::new()),
        "[0-9]{1,20}",
        "[0-9]{1,4}_[0-9]{1,20}",
        "[0-9]{1,4}_\\[[0-9,%:\\-]{0,12}\\]?",
        "[0-9]{1,4}(\\.batch|\\+1)?",
        "-?[0-9]{1,3}:-?[0-9]{1,3}",
        "20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}",
        prop::sample::select(vec![
            "PENDING",
            "RUNNING",
            "COMPLETED",
            "FAILED",
            "CANCELLED by 0",
            "TIMEOUT",
            "PR",
            "OOM",
            "N/A",
            "Unknown",
            "None",
            "BOGUS",
        ])
        .prop_map(str::to_owned),
        ".{0,8}",
    ];
    prop::collection::vec(prop::collection::vec(field, 0..10), 0..20).prop_map(|lines| {
        lines
            .into_iter()
            .map(|fields| fields.join("|"))
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes()
    })
}

/// Token soup for the structured PBS, LSF and Grid Engine formats (XML tags,
/// JSON punctuation, `key = value` attributes, qacct and bhist blocks), so that
/// random input gets past the first line of those parsers.
fn markup_like() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        prop::sample::select(vec![
            "<?xml version='1.0'?>",
            "<job_info>",
            "</job_info>",
            "<job_list state=\"running\">",
            "<job_list>",
            "</job_list>",
            "<JB_job_number>",
            "</JB_job_number>",
            "<state>",
            "</state>",
            "<tasks>",
            "</tasks>",
            "<JB_name>",
            "</JB_name>",
            "<JAT_start_time>",
            "&amp;",
            "&#x41;",
            "&bogus;",
            "%lt;",
            "<![CDATA[",
            "]]>",
            "<!--",
            "-->",
            "/>",
            "==============================",
            "jobnumber",
            "taskid",
            "failed",
            "exit_status",
            "start_time",
            "end_time",
            "100 : assumedly after job",
            "undefined",
            "-/-",
            "{",
            "}",
            "[",
            "]",
            ":",
            ",",
            "\"",
            "\"Jobs\"",
            "\"RECORDS\"",
            "\"JOBID\"",
            "\"STAT\"",
            "\"job_state\"",
            "\"Exit_status\"",
            "\"array_id\"",
            "null",
            "true",
            "-3.5e9",
            "Job Id: ",
            "    job_state = ",
            "    Exit_status = ",
            "    exit_status = ",
            "\t",
            "Job <",
            ">, ",
            "Job Name <",
            "Exited with exit code ",
            "Done successfully.",
            "Completed <exit>; TERM_OWNER: job killed by owner.",
            "Signal <KILL> requested",
            "Summary of time",
            "Job: ",
            "Exit_status=",
            "  S    ",
            "06/01/2024 10:00:00",
            "Tue Nov 24 22:35:36 2026",
            "Jun 11 13:47",
            "2026-11-24T22:29:59",
            "123[]",
            "123[4]",
            "123.server",
            "|",
            "-",
            "qw",
            "Eqw",
            "dr",
            "PEND",
            "RUN",
            "DONE",
            "EXIT",
            "ZOMBI",
            "F",
            "X",
            "R",
            "Q",
            "C",
            "B",
        ])
        .prop_map(str::to_owned),
        "[0-9]{1,12}",
        "[ \n]{1,3}",
        ".{0,6}",
    ];
    prop::collection::vec(token, 0..80).prop_map(|t| t.concat().into_bytes())
}

fn any_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        status_like(),
        slurm_like(),
        markup_like()
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn queue_parsers_never_panic(data in any_input()) {
        for kind in KINDS {
            // Each line gives at most an observation and its array's aggregate.
            if let Ok(snap) = parse_queue(kind, &data) {
                prop_assert!(snap.len() + snap.skipped.len() <= 2 * data.len());
                let ids: Vec<&str> = snap.entries().map(|(id, _)| id).collect();
                prop_assert!(snap.needs_accounting(ids).len() <= snap.len());
            }
            if let Ok(snap) = parse_accounting(kind, &data) {
                prop_assert!(snap.len() + snap.skipped.len() <= 2 * data.len());
                for (id, _) in snap.entries() {
                    prop_assert!(snap.get(id).is_some());
                    let _ = snap.array_tasks(id).count();
                }
            }
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
