//! Grid Engine parsers against output recorded from a real SGE 8.1.9
//! (tests/fixtures/sge, see its README) and hand-written edge cases.

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../tests/fixtures/sge/", $name))
    };
}

fn state(snap: &Snapshot, id: &str) -> Option<JobState> {
    snap.get(id)
        .unwrap_or_else(|| panic!("no {id} in {snap:?}"))
        .state
}

#[test]
fn state_codes() {
    let cases: [(&str, Option<Option<JobState>>); 24] = [
        ("qw", Some(Some(Queued))),
        ("hqw", Some(Some(Queued))),
        ("hRwq", Some(Some(Queued))),
        ("Rq", Some(Some(Queued))),
        ("R", Some(Some(Queued))),
        ("r", Some(Some(Running))),
        ("t", Some(Some(Running))),
        ("Rr", Some(Some(Running))),
        ("Rt", Some(Some(Running))),
        ("s", Some(Some(Running))),
        ("ts", Some(Some(Running))),
        ("S", Some(Some(Running))),
        ("tT", Some(Some(Running))),
        ("RtS", Some(Some(Running))),
        ("dr", Some(Some(Running))),
        ("dt", Some(Some(Running))),
        ("ds", Some(Some(Running))),
        ("dRT", Some(Some(Running))),
        ("dqw", Some(Some(Cancelled))),
        ("Eqw", Some(Some(Queued))),
        ("EhRqw", Some(Some(Queued))),
        ("z", Some(None)),
        ("x", None),
        ("", None),
    ];
    for (code, want) in cases {
        assert_eq!(job_state(code), want, "{code}");
    }
}

#[test]
fn qstat_xml_recorded_queue() {
    let snap = parse_qstat_xml(fixture!("qstat_xml_mixed.stdout")).unwrap();
    assert!(snap.skipped.is_empty(), "{:?}", snap.skipped);
    assert_eq!(state(&snap, "37"), Some(Running));
    assert_eq!(
        state(&snap, "38"),
        Some(Running),
        "suspended holds its slot"
    );
    assert_eq!(state(&snap, "36"), Some(Queued));
    assert_eq!(snap.get("36").unwrap().reason, Some(ERROR_STATE_REASON));
    assert_eq!(snap.get("36").unwrap().raw_state, "Eqw");
    assert!(snap.get("40").unwrap().reason.unwrap().contains("held"));
    let run = snap.get("37").unwrap();
    assert_eq!(run.started_at, Some(1_795_559_752.0)); // 2026-11-24T22:35:52 UTC
    assert_eq!(run.partition, Some("all.q"));
    assert_eq!(run.user, Some("root"));
    assert_eq!(snap.get("38").unwrap().name, Some("molq-odd&<name>\"q'"));
    assert_eq!(snap.get("41").unwrap().name.map(str::len), Some(205));
    // the pending array 1-5:2 as a whole (3 tasks) and as printed
    assert_eq!(state(&snap, "39"), Some(Queued));
    assert_eq!(snap.get("39").unwrap().raw_state, "array: 3 queued");
    assert!(snap.contains("39.1-5:2"));
    assert_eq!(snap.get("36").unwrap().submit_time, Some(1_795_559_749.0));
}

#[test]
fn qstat_xml_array_tasks_and_deletion() {
    let snap = parse_qstat_xml(fixture!("qstat_xml_deleting.stdout")).unwrap();
    assert_eq!(
        state(&snap, "37"),
        Some(Running),
        "dr: still running while it is deleted"
    );
    assert_eq!(state(&snap, "42"), Some(Running));
    assert_eq!(
        snap.get("42").unwrap().raw_state,
        "array: 2 queued, 1 running"
    );
    let tasks: Vec<_> = snap
        .array_tasks("42")
        .map(|(t, o)| (t.to_owned(), o.state))
        .collect();
    assert_eq!(tasks, [("1".to_owned(), Some(Running))]);
    assert_eq!(state(&snap, "42.1"), Some(Running));
    assert!(snap.contains("42.2,3"));
    let empty = parse_qstat_xml(fixture!("qstat_xml_empty.stdout")).unwrap();
    assert!(empty.is_empty() && empty.skipped.is_empty());
    assert!(parse_qstat_xml(b"").unwrap().is_empty());
}

#[test]
fn qstat_xml_bad_input() {
    assert!(parse_qstat_xml(b"<job_info><job_list>").is_err());
    assert!(
        parse_qstat_xml(b"error: commlib error: got select error (Connection refused)")
            .is_ok_and(|s| s.is_empty())
    );
    let odd = b"<job_info><job_list state='x'><JB_job_number>5</JB_job_number><state>Xq</state></job_list>\
                <job_list><JB_name>no number</JB_name></job_list></job_info>";
    let snap = parse_qstat_xml(odd).unwrap();
    assert_eq!(snap.skipped.len(), 2);
    assert!(
        snap.skipped[0].reason.contains("\"Xq\""),
        "{:?}",
        snap.skipped
    );
    // kept, state unknown: the job exists, its state is left as it was
    assert_eq!(snap.get("5").map(|o| o.state), Some(None));
    assert!(snap.skipped[1].reason.contains("JB_job_number"));
}

#[test]
fn qacct_recorded_exit_codes() {
    let snap = parse_qacct(fixture!("qacct_exit_codes.stdout"));
    assert!(snap.skipped.is_empty(), "{:?}", snap.skipped);
    let ok = snap.get("29").unwrap();
    assert_eq!(
        (ok.state, ok.exit_code, ok.reason),
        (Some(Succeeded), Some(0), None)
    );
    assert_eq!(ok.started_at, Some(1_795_559_736.0));
    assert!(ok.finished_at >= ok.started_at);
    let failed = snap.get("34").unwrap();
    assert_eq!((failed.state, failed.exit_code), (Some(Failed), Some(3)));
    let segv = snap.get("35").unwrap();
    assert_eq!(
        (segv.state, segv.exit_code, segv.exit_signal),
        (Some(Failed), Some(139), Some(11))
    );
    assert_eq!(segv.reason, Some("killed by signal 11 (SIGSEGV)"));
    assert_eq!(segv.name, Some("molq-segv"));
}

#[test]
fn qacct_recorded_cancel_timelimit_array() {
    let killed = parse_qacct(fixture!("qacct_cancelled.stdout"));
    let k = killed.get("44").unwrap();
    assert_eq!((k.state, k.exit_signal), (Some(Failed), Some(9)));
    let tl = parse_qacct(fixture!("qacct_timelimit.stdout"));
    let t = tl.get("45").unwrap();
    assert_eq!(t.state, Some(TimedOut));
    assert_eq!(
        t.reason,
        Some("Grid Engine: qmaster enforced h_rt, h_cpu, or h_vmem limit")
    );
    let arr = parse_qacct(fixture!("qacct_array.stdout"));
    let whole = arr.get("30").unwrap();
    assert_eq!((whole.state, whole.exit_code), (Some(Failed), Some(1)));
    assert_eq!(
        whole.reason,
        Some("2 of 4 array tasks failed (first: task 1, exit 1)")
    );
    let tasks: Vec<_> = arr
        .array_tasks("30")
        .map(|(t, o)| (t.to_owned(), o.state, o.exit_code))
        .collect();
    assert_eq!(
        tasks,
        [
            ("1".to_owned(), Some(Failed), Some(1)),
            ("2".to_owned(), Some(Succeeded), Some(0)),
            ("3".to_owned(), Some(Failed), Some(1)),
            ("4".to_owned(), Some(Succeeded), Some(0)),
        ]
    );
}

#[test]
fn qacct_summary_only_and_since() {
    for name in [
        &fixture!("qacct_none.stdout")[..],
        b"",
        b"Total System Usage\n    WALLCLOCK  UTIME\n=====================\n",
    ] {
        let snap = parse_qacct(name);
        assert!(snap.is_empty() && snap.skipped.is_empty(), "{snap:?}");
    }
    let since = parse_qacct(fixture!("qacct_since.stdout"));
    assert!(since.skipped.is_empty(), "{:?}", since.skipped);
    for id in ["29", "30", "34", "35", "44", "45"] {
        assert!(
            since
                .get(id)
                .is_some_and(|o| o.state.is_some_and(JobState::is_terminal)),
            "{id}"
        );
    }
}

#[test]
fn qacct_rescheduled_job_counts_once_and_bad_blocks_are_skipped() {
    let text = "==========\njobnumber 7\ntaskid 2\nfailed 0\nexit_status 1\n\
                ==========\njobnumber 7\ntaskid 2\nfailed 0\nexit_status 0\n\
                ==========\njobnumber x7\nfailed 0\nexit_status 0\n\
                ==========\njobnumber 8\nfailed zero\nexit_status 0\n\
                ==========\njobnumber 9\nfailed 26 : opening input/output file\nexit_status 1\nstart_time -/-\n";
    let snap = parse_qacct(text.as_bytes());
    assert_eq!(
        snap.get("7").map(|o| o.raw_state),
        Some("array: 1 succeeded")
    );
    assert_eq!(snap.array_tasks("7").count(), 1);
    assert_eq!(snap.skipped.len(), 2, "{:?}", snap.skipped);
    let nine = snap.get("9").unwrap();
    assert_eq!(nine.state, Some(Failed));
    assert_eq!(
        nine.reason,
        Some("Grid Engine failure 26: opening input/output file")
    );
    assert_eq!(nine.started_at, None);
}

#[test]
fn qsub_ids() {
    assert_eq!(parse_qsub_id(fixture!("qsub_terse.stdout")).unwrap(), "29");
    assert_eq!(
        parse_qsub_id(fixture!("qsub_terse_array.stdout")).unwrap(),
        "30"
    );
    assert_eq!(parse_qsub_id(fixture!("qsub_plain.stdout")).unwrap(), "31");
    assert_eq!(
        parse_qsub_id(b"Your job-array 12.1-9:2 (\"a\") has been submitted\n").unwrap(),
        "12"
    );
    for bad in [
        &fixture!("qsub_name_with_space.stdout")[..],
        b"",
        b"12x",
        b"Unable to run job",
    ] {
        assert!(
            parse_qsub_id(bad).is_err(),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}
