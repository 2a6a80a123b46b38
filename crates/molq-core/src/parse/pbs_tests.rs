//! PBS parsers against fixtures written to PBS Pro's and Torque's documented
//! formats (tests/fixtures/pbs, see its README) and hand-written edge cases.

use super::*;
use crate::model::ObservationRef;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../tests/fixtures/pbs/", $name))
    };
}

fn obs<'a>(snap: &'a Snapshot, id: &str) -> ObservationRef<'a> {
    snap.get(id).unwrap_or_else(|| {
        let all: Vec<_> = snap.entries().collect();
        panic!("no {id} in {all:?}")
    })
}

#[test]
fn state_table_is_complete_and_unique() {
    let letters: Vec<&str> = STATES.iter().map(|s| s.0).collect();
    for l in [
        "B", "E", "F", "H", "M", "Q", "R", "S", "T", "U", "W", "X", "C",
    ] {
        assert_eq!(letters.iter().filter(|x| **x == l).count(), 1, "{l}");
    }
}

#[test]
fn ids() {
    assert_eq!(key("123.pbs01"), Ok(Key::Job("123".into())));
    assert_eq!(key("123"), Ok(Key::Job("123".into())));
    assert_eq!(
        key("123[].pbs01.example.org"),
        Ok(Key::Array("123[]".into()))
    );
    assert_eq!(
        key("123[7].pbs01"),
        Ok(Key::Task("123[]".into(), "7".into()))
    );
    assert_eq!(key("1234567.pbs-serv*"), Ok(Key::Job("1234567".into())));
    for bad in [
        "",
        "abc",
        "12345678901234*",
        "12[x].s",
        "12[",
        ".pbs01",
        "12[1-3].s",
    ] {
        assert!(key(bad).is_err(), "{bad}");
    }
}

#[test]
fn finished_outcomes() {
    type Case = (Option<i64>, Option<i64>, bool, JobState, Option<i64>);
    let cases: [Case; 11] = [
        (Some(0), Some(92), true, Succeeded, None),
        (Some(3), Some(93), true, Failed, None),
        (Some(265), None, true, Failed, Some(9)),
        (Some(271), Some(91), true, Cancelled, None),
        (Some(-29), None, true, TimedOut, None),
        (Some(-10), None, true, Failed, None),
        (Some(-27), None, true, OutOfMemory, None),
        (Some(-26), None, true, Failed, None),
        (None, Some(91), false, Cancelled, None),
        (None, None, false, Cancelled, None),
        (None, None, true, Failed, None),
    ];
    for (exit, sub, ran, state, signal) in cases {
        let (s, sig, _) = finished(exit, sub, ran);
        assert_eq!((s, sig), (state, signal), "{exit:?} {sub:?} {ran}");
    }
    assert_eq!(
        finished(Some(-10), None, true).2.as_deref(),
        Some("invalid uid/gid for the job (Exit_status -10)")
    );
    assert_eq!(
        finished(Some(-27), None, true).2.as_deref(),
        Some("job exceeded its mem limit (Exit_status -27)")
    );
    assert_eq!(
        finished(Some(-99), None, true).2.as_deref(),
        Some("PBS could not run the job (Exit_status -99)")
    );
    assert_eq!(
        finished(Some(265), None, true).2.as_deref(),
        Some("killed by signal 9 (SIGKILL)")
    );
}

#[test]
fn json_queue_every_live_state() {
    let snap = parse(fixture!("qstat_f_json_queue.stdout")).unwrap();
    let want = [
        ("1001", Some(Running)),
        ("1002", Some(Queued)),
        ("1003", Some(Queued)),
        ("1004", Some(Queued)),
        ("1005", Some(Running)),
        ("1006", Some(Running)),
        ("1008", Some(Queued)),
        ("1009", Some(Queued)),
        ("1010", Some(Running)),
        ("1011", Some(Queued)),
        ("1012", None),
    ];
    for (id, state) in want {
        assert_eq!(obs(&snap, id).state, state, "{id}");
    }
    let run = obs(&snap, "1001");
    assert_eq!(run.started_at, Some(1_717_236_001.0));
    assert_eq!(run.submit_time, Some(1_717_236_000.0));
    assert_eq!(run.user, Some("alice"));
    assert_eq!(run.partition, Some("workq"));
    assert_eq!(run.exit_code, None);
    let waiting = obs(&snap, "1002");
    assert_eq!(waiting.name, Some("molq waiting with spaces in its name"));
    assert!(waiting
        .reason
        .unwrap()
        .starts_with("Not Running: Insufficient"));
    assert_eq!(obs(&snap, "1003").reason, Some("job is held"));
    assert_eq!(obs(&snap, "1003").user, Some("bob"));
    assert_eq!(
        obs(&snap, "1006").exit_code,
        None,
        "E: still running, even with an Exit_status"
    );
    assert!(obs(&snap, "1011").name.unwrap().ends_with("-end"));
    // Z is no PBS state: kept (state unknown) and reported
    assert_eq!(snap.skipped.len(), 1, "{:?}", snap.skipped);
    assert!(snap.skipped[0].reason.contains("\"Z\""));
    assert_eq!(obs(&snap, "1012").raw_state, "Z");
}

#[test]
fn json_queue_array_per_subjob_and_whole() {
    let snap = parse(fixture!("qstat_f_json_queue.stdout")).unwrap();
    let whole = obs(&snap, "1007[]");
    assert_eq!(whole.state, Some(Running));
    assert_eq!(whole.raw_state, "array: 2 queued, 1 running, 1 succeeded");
    let tasks: Vec<_> = snap
        .array_tasks("1007[]")
        .map(|(t, o)| (t.to_owned(), o.state))
        .collect();
    assert_eq!(
        tasks,
        [
            ("1".to_owned(), Some(Succeeded)),
            ("2".to_owned(), Some(Running)),
            ("3".to_owned(), Some(Queued)),
            ("4".to_owned(), Some(Queued)),
        ]
    );
    assert_eq!(obs(&snap, "1007[2]").started_at, Some(1_717_236_016.0));
}

#[test]
fn json_history_outcomes() {
    let snap = parse(fixture!("qstat_xf_json_history.stdout")).unwrap();
    assert!(snap.skipped.is_empty(), "{:?}", snap.skipped);
    let cases = [
        ("1020", Succeeded, Some(0), None),
        ("1021", Failed, Some(3), None),
        ("1022", Failed, Some(265), Some(9)),
        ("1023", TimedOut, Some(-29), None),
        ("1024", Cancelled, Some(271), None),
        ("1025", Cancelled, None, None),
        ("1026", Failed, Some(-10), None),
    ];
    for (id, state, code, signal) in cases {
        let o = obs(&snap, id);
        assert_eq!(
            (o.state, o.exit_code, o.exit_signal),
            (Some(state), code, signal),
            "{id}"
        );
    }
    let ok = obs(&snap, "1020");
    assert_eq!(
        (ok.started_at, ok.finished_at),
        (Some(1_717_236_001.0), Some(1_717_236_011.0))
    );
    assert_eq!(
        obs(&snap, "1025").finished_at,
        Some(1_717_236_009.0),
        "mtime when there is no obittime"
    );
    let arr = obs(&snap, "1027[]");
    assert_eq!((arr.state, arr.exit_code), (Some(Failed), Some(1)));
    assert_eq!(
        arr.reason,
        Some("2 of 3 array tasks failed (first: task 1, exit 1)")
    );
    assert_eq!(snap.array_tasks("1027[]").count(), 3);
    let bare = obs(&snap, "1028[]");
    assert_eq!(
        bare.state,
        Some(Cancelled),
        "parent Exit_status 2: subjobs deleted"
    );
}

#[test]
fn json_documents_back_to_back() {
    let mut two = fixture!("qstat_f_json_queue.stdout").to_vec();
    two.extend_from_slice(b"\n");
    two.extend_from_slice(fixture!("qstat_xf_json_history.stdout"));
    let snap = parse(&two).unwrap();
    assert_eq!(obs(&snap, "1001").state, Some(Running));
    assert_eq!(obs(&snap, "1021").exit_code, Some(3));
    assert_eq!(snap.array_tasks("1027[]").count(), 3);
    assert!(
        parse(b"{\"Jobs\":{}} {").is_err(),
        "a broken second document spoils the whole"
    );
}

#[test]
fn json_empty_and_broken() {
    let empty = parse(fixture!("qstat_f_json_empty.stdout")).unwrap();
    assert!(empty.is_empty());
    assert!(parse(b"").unwrap().is_empty());
    let err = parse(b"{\"Jobs\":{\"1.s\":{\"job_state\":\"R\"}")
        .unwrap_err()
        .to_string();
    assert!(err.contains("json"), "{err}");
    let odd = parse(b"{\"Jobs\":{\"x.s\":{\"job_state\":\"R\"},\"2.s\":{\"job_state\":\"F\",\"Exit_status\":\"two\"}}}").unwrap();
    assert_eq!(odd.skipped.len(), 2, "{:?}", odd.skipped);
    assert!(odd.is_empty());
    let numbers_as_text = parse(b"{\"Jobs\":{\"3.s\":{\"job_state\":\"F\",\"Exit_status\":\"4\",\"stime\":\"1717236001\"}}}").unwrap();
    assert_eq!(obs(&numbers_as_text, "3").exit_code, Some(4));
    assert_eq!(obs(&numbers_as_text, "3").started_at, Some(1_717_236_001.0));
}

#[test]
fn torque_full_text_with_continuations() {
    let snap = parse(fixture!("qstat_f_torque.stdout")).unwrap();
    assert!(snap.skipped.is_empty(), "{:?}", snap.skipped);
    let cases = [
        ("2001", Some(Running), None),
        ("2002", Some(Queued), None),
        ("2003", Some(Succeeded), Some(0)),
        ("2004", Some(Failed), Some(2)),
        ("2005", Some(Failed), Some(271)),
        ("2006", Some(Failed), Some(-1)),
        ("2007", Some(Cancelled), None),
        ("2009", Some(Queued), None),
        ("2010", Some(Queued), None),
    ];
    for (id, state, code) in cases {
        assert_eq!(
            (obs(&snap, id).state, obs(&snap, id).exit_code),
            (state, code),
            "{id}"
        );
    }
    assert_eq!(obs(&snap, "2001").started_at, Some(1_717_236_001.0));
    assert_eq!(obs(&snap, "2002").name, Some("molq queued name"));
    assert_eq!(obs(&snap, "2003").finished_at, Some(1_717_232_411.0));
    assert_eq!(obs(&snap, "2005").exit_signal, Some(15));
    assert_eq!(obs(&snap, "2008[]").state, Some(Running));
    assert_eq!(snap.array_tasks("2008[]").count(), 2);
}

#[test]
fn full_text_continuations_and_junk() {
    let text = "Job Id: 5.s\n    Job_Name = a long na\n\tme\n    job_state = Q\n    comment = wrapped\n  text\nstray line\n\nJob Id: 6.s\n    job_state = Y\n";
    let snap = parse(text.as_bytes()).unwrap();
    assert_eq!(obs(&snap, "5").name, Some("a long name"));
    assert_eq!(obs(&snap, "5").reason, Some("wrappedtext"));
    assert_eq!(snap.skipped.len(), 2, "{:?}", snap.skipped);
    assert_eq!(snap.skipped[0].line, "stray line");
    assert_eq!(obs(&snap, "6").state, None);
}

#[test]
fn tables() {
    let pro = parse(fixture!("qstat_table_pbspro.stdout")).unwrap();
    assert_eq!(obs(&pro, "1001").state, Some(Running));
    assert_eq!(obs(&pro, "1002").name, Some("molq waiting wi*"));
    assert_eq!(obs(&pro, "1003").user, Some("bob"));
    assert_eq!(obs(&pro, "1007[]").state, Some(Running));
    assert_eq!(
        obs(&pro, "1020").state,
        None,
        "F in a table: finished, outcome unknown"
    );
    assert_eq!(pro.skipped.len(), 2, "{:?}", pro.skipped);
    let torque = parse(fixture!("qstat_table_torque.stdout")).unwrap();
    assert!(torque.skipped.is_empty(), "{:?}", torque.skipped);
    assert_eq!(obs(&torque, "2002").name, Some("molq queued name"));
    assert_eq!(obs(&torque, "2003").state, None);
    let alt = parse(fixture!("qstat_a_pbspro.stdout")).unwrap();
    assert!(alt.skipped.is_empty(), "{:?}", alt.skipped);
    assert_eq!(alt.len(), 3);
    assert_eq!(obs(&alt, "1002").name, Some("molq wait*"));
    assert_eq!(obs(&alt, "1002").state, Some(Queued));
    assert_eq!(obs(&alt, "1001").partition, Some("workq"));
}

#[test]
fn tracejob_sections() {
    let snap = parse(fixture!("tracejob_batch.stdout")).unwrap();
    assert!(snap.skipped.is_empty(), "{:?}", snap.skipped);
    let failed = obs(&snap, "1040");
    assert_eq!((failed.state, failed.exit_code), (Some(Failed), Some(3)));
    assert_eq!(
        (failed.started_at, failed.finished_at),
        (Some(1_717_236_001.0), Some(1_717_236_011.0))
    );
    assert_eq!(failed.name, Some("molq-exit3"));
    assert_eq!(obs(&snap, "1041").state, Some(Cancelled));
    assert_eq!(obs(&snap, "1042").state, Some(TimedOut));
    assert!(!snap.contains("1043"), "no evidence, no observation");
}

#[test]
fn qsub_ids() {
    assert_eq!(parse_qsub_id(fixture!("qsub.stdout")).unwrap(), "1030");
    assert_eq!(
        parse_qsub_id(fixture!("qsub_array.stdout")).unwrap(),
        "1031[]"
    );
    assert_eq!(parse_qsub_id(b"  77\n").unwrap(), "77");
    for bad in [
        &fixture!("qsub_bad_queue.stdout")[..],
        b"qsub: Unknown queue",
        b"5[3].s",
    ] {
        assert!(
            parse_qsub_id(bad).is_err(),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}
