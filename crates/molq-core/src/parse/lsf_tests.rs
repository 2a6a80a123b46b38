//! LSF parsers against fixtures written to LSF 10.1's documented formats
//! (tests/fixtures/lsf, see its README) and hand-written edge cases.

use super::*;
use crate::model::ObservationRef;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../tests/fixtures/lsf/", $name))
    };
}

fn obs<'a>(snap: &'a Snapshot, id: &str) -> ObservationRef<'a> {
    snap.get(id).unwrap_or_else(|| {
        let all: Vec<_> = snap.entries().collect();
        panic!("no {id} in {all:?}")
    })
}

#[test]
fn format_constants_agree() {
    assert_eq!(
        BJOBS_FORMAT,
        format!("{BJOBS_FIELDS} delimiter='{BJOBS_DELIMITER}'")
    );
    assert_eq!(BJOBS_FIELDS.split(' ').count(), FIELD_COUNT);
    assert!(
        BJOBS_FIELDS.ends_with("job_name"),
        "the name last: it may hold the delimiter"
    );
    for stat in [
        "PEND", "PROV", "PSUSP", "WAIT", "RUN", "USUSP", "SSUSP", "UNKWN", "DONE", "EXIT", "ZOMBI",
    ] {
        assert_eq!(STATES.iter().filter(|s| s.0 == stat).count(), 1, "{stat}");
    }
}

#[test]
fn elements() {
    assert_eq!(element("12", Some("x")), Ok(("12", None)));
    assert_eq!(element("12", Some("arr[3]")), Ok(("12", Some("3"))));
    assert_eq!(element("12[3]", Some("whatever")), Ok(("12", Some("3"))));
    assert_eq!(
        element("12", Some("a[b]")),
        Ok(("12", None)),
        "not an index: a plain name"
    );
    assert!(element("x12", None).is_err());
    assert!(element("12[x]", None).is_err());
    assert!(element("", None).is_err());
}

#[test]
fn bjobs_rows_every_status() {
    let snap = parse(fixture!("bjobs_o_queue.stdout")).unwrap();
    let want = [
        ("3001", Some(Running)),
        ("3002", Some(Queued)),
        ("3003", Some(Queued)),
        ("3004", Some(Running)),
        ("3005", Some(Running)),
        ("3006", Some(Running)),
        ("3007", Some(Queued)),
        ("3008", Some(Queued)),
        ("3010", Some(Running)),
        ("3011", Some(Succeeded)),
        ("3012", Some(Failed)),
        ("3013", Some(Failed)),
        ("3014", None),
    ];
    for (id, state) in want {
        assert_eq!(obs(&snap, id).state, state, "{id}");
    }
    assert_eq!(obs(&snap, "3002").name, Some("molq waiting with spaces"));
    assert_eq!(obs(&snap, "3010").name, Some("name|with|pipes"));
    assert_eq!(obs(&snap, "3010").user, Some("bob"));
    assert_eq!(obs(&snap, "3010").partition, Some("long"));
    assert_eq!(
        obs(&snap, "3011").exit_code,
        Some(0),
        "DONE: exit 0 even when bjobs prints '-'"
    );
    assert_eq!(obs(&snap, "3012").exit_code, Some(3));
    assert_eq!(
        obs(&snap, "3001").started_at,
        None,
        "a year-less time cannot be placed without #now"
    );
    let mut with_now = b"#now 1717236100\n".to_vec();
    with_now.extend_from_slice(fixture!("bjobs_o_queue.stdout"));
    let placed = parse(&with_now).unwrap();
    assert_eq!(obs(&placed, "3001").started_at, Some(1_717_236_000.0));
    assert_eq!(obs(&placed, "3011").finished_at, Some(1_717_232_700.0));
    assert!(obs(&snap, "3006").reason.unwrap().contains("UNKWN"));
    assert_eq!(snap.skipped.len(), 1, "{:?}", snap.skipped);
    assert!(snap.skipped[0].reason.contains("\"BLOCKED\""));
    // array 3009: element 1 running, 2 and 3 pending
    assert_eq!(obs(&snap, "3009").state, Some(Running));
    assert_eq!(obs(&snap, "3009").raw_state, "array: 2 queued, 1 running");
    let tasks: Vec<_> = snap
        .array_tasks("3009")
        .map(|(t, o)| (t.to_owned(), o.state))
        .collect();
    assert_eq!(
        tasks,
        [
            ("1".to_owned(), Some(Running)),
            ("2".to_owned(), Some(Queued)),
            ("3".to_owned(), Some(Queued))
        ]
    );
}

#[test]
fn bjobs_finished_array_and_times_with_a_year() {
    let snap = parse(fixture!("bjobs_o_array_done.stdout")).unwrap();
    let whole = obs(&snap, "3030");
    assert_eq!((whole.state, whole.exit_code), (Some(Failed), Some(1)));
    assert_eq!(
        whole.reason,
        Some("2 of 4 array tasks failed (first: task 2, exit 1)")
    );
    assert_eq!(obs(&snap, "3030[4]").exit_code, Some(130));
    let with_year =
        parse(b"7|DONE|-|a|q|Jun  1 10:00 2024|Jun  1 10:00 2024|Jun  1 10:01 2024|n\n").unwrap();
    let o = obs(&with_year, "7");
    assert_eq!(
        (o.started_at, o.finished_at),
        (Some(1_717_236_000.0), Some(1_717_236_060.0))
    );
}

#[test]
fn bjobs_nothing_and_junk() {
    for f in [
        &fixture!("bjobs_o_none.stdout")[..],
        fixture!("bjobs_o_unknown.stdout"),
        b"No unfinished job found\n",
    ] {
        let snap = parse(f).unwrap();
        assert!(snap.is_empty() && snap.skipped.is_empty());
    }
    let snap = parse(b"1|RUN|-\nx|RUN|-|u|q|||-|n\n2|EXIT|three|u|q|||-|n\n").unwrap();
    assert!(snap.is_empty());
    assert_eq!(snap.skipped.len(), 3, "{:?}", snap.skipped);
}

#[test]
fn bjobs_json() {
    let snap = parse(fixture!("bjobs_json.stdout")).unwrap();
    assert!(snap.skipped.is_empty(), "{:?}", snap.skipped);
    assert_eq!(obs(&snap, "3001").state, Some(Running));
    assert_eq!(
        obs(&snap, "3012").name,
        Some("molq \"quoted\" | piped name")
    );
    assert_eq!(obs(&snap, "3012").exit_code, Some(3));
    assert_eq!(obs(&snap, "3011").exit_code, Some(0));
    assert_eq!(obs(&snap, "3009[2]").state, Some(Queued));
    assert!(!snap.contains("999999"), "not found is no evidence");
    assert!(parse(b"{\"RECORDS\":[").is_err());
    let other_error =
        parse(b"{\"RECORDS\":[{\"JOBID\":\"5\",\"ERROR\":\"Permission denied\"}]}").unwrap();
    assert_eq!(other_error.skipped.len(), 1);
}

#[test]
fn bhist_long_form() {
    let snap = parse(fixture!("bhist_l_batch.stdout")).unwrap();
    assert!(snap.skipped.is_empty(), "{:?}", snap.skipped);
    let done = obs(&snap, "3040");
    assert_eq!((done.state, done.exit_code), (Some(Succeeded), Some(0)));
    assert_eq!(done.started_at, Some(1_717_236_001.0));
    assert_eq!(done.finished_at, Some(1_717_236_011.0));
    assert_eq!(done.submit_time, Some(1_717_236_000.0));
    assert_eq!(done.partition, Some("normal"));
    assert_eq!(done.name, Some("molq-done"));
    let exit3 = obs(&snap, "3041");
    assert_eq!((exit3.state, exit3.exit_code), (Some(Failed), Some(3)));
    let killed = obs(&snap, "3042");
    assert_eq!(
        killed.state,
        Some(Cancelled),
        "a name saying 'done' changes nothing"
    );
    assert_eq!(
        killed.reason,
        Some("killed by its owner (bkill) (TERM_OWNER)")
    );
    let limit = obs(&snap, "3043");
    assert_eq!((limit.state, limit.exit_code), (Some(TimedOut), Some(140)));
    let task = obs(&snap, "3044[2]");
    assert_eq!((task.state, task.exit_signal), (Some(Failed), Some(11)));
    assert_eq!(task.reason, Some("killed by signal 11 (SIGSEGV)"));
    assert_eq!(
        obs(&snap, "3044").state,
        Some(Failed),
        "the element counts toward its array"
    );
    assert!(!snap.contains("3045"), "no end in the history, no evidence");
    let memory = obs(&snap, "3046");
    assert_eq!(
        (memory.state, memory.exit_signal),
        (Some(OutOfMemory), Some(9))
    );
    assert_eq!(
        memory.reason,
        Some("killed after reaching its memory limit (TERM_MEMLIMIT)")
    );
}

#[test]
fn bhist_requeue_and_kill_without_term() {
    let text = "Job <9>, User <u>, Project <default>, Command <x>\n\
                Sat Jun  1 10:00:00 2024: Submitted from host <h>, to Queue <q>, CWD <$HOME>;\n\
                Sat Jun  1 10:00:01 2024: Exited with exit code 1. The CPU time used is 0.0 seconds;\n\
                Sat Jun  1 10:00:02 2024: Pending: Job has been requeued;\n\
                Sat Jun  1 10:00:03 2024: Done successfully. The CPU time used is 0.0 seconds;\n\
                ------------------------------------------------------------------------------\n\
                Job <10>, User <u>, Project <default>, Command <x>\n\
                Sat Jun  1 10:00:00: Signal <KILL> requested by user or administrator <u>;\n\
                Sat Jun  1 10:00:00: Exited with exit code 137. The CPU time used is 0.0 seconds;\n";
    let snap = parse(text.as_bytes()).unwrap();
    assert_eq!(obs(&snap, "9").state, Some(Succeeded));
    let ten = obs(&snap, "10");
    assert_eq!(
        (ten.state, ten.finished_at),
        (Some(Cancelled), None),
        "no year: no time"
    );
    let placed = parse(format!("#now 1717236100\n{text}").as_bytes()).unwrap();
    assert_eq!(obs(&placed, "10").finished_at, Some(1_717_236_000.0));
    assert!(parse(fixture!("bhist_l_unknown.stdout"))
        .unwrap()
        .is_empty());
}

#[test]
fn bhist_reason_on_the_exit_line_and_short_kill_request() {
    let text = "Job <11>, User <u>, Project <default>, Command <sleep 500>\n\
                Mon Jan  1 10:01:45: Signal <KILL> requested by user <u>;\n\
                Mon Jan  1 10:01:46: Exited by signal 15. TERM_OWNER: job killed by owner.\n\
                ------------------------------------------------------------------------------\n\
                Job <12>, User <u>, Project <default>, Command <x>\n\
                Mon Jan  1 10:01:45: Signal <KILL> requested by user <u>;\n\
                Mon Jan  1 10:01:46: Exited with exit code 137. The CPU time used is 0.0 seconds;\n";
    let snap = parse(text.as_bytes()).unwrap();
    let owner = obs(&snap, "11");
    assert_eq!(
        (owner.state, owner.exit_signal),
        (Some(Cancelled), Some(15))
    );
    assert_eq!(
        owner.reason,
        Some("killed by its owner (bkill) (TERM_OWNER)")
    );
    assert_eq!(obs(&snap, "12").state, Some(Cancelled));
}

#[test]
fn bsub_ids() {
    assert_eq!(parse_bsub_id(fixture!("bsub.stdout")).unwrap(), "3020");
    assert_eq!(
        parse_bsub_id(fixture!("bsub_default_queue.stdout")).unwrap(),
        "3021"
    );
    let noisy = b"Warning: something\nJob <77> is submitted to queue <gpu>.\n";
    assert_eq!(parse_bsub_id(noisy).unwrap(), "77");
    for bad in [
        &fixture!("bsub_bad_queue.stdout")[..],
        b"Job <x> is submitted",
        b"Job <5> was not",
    ] {
        assert!(parse_bsub_id(bad).is_err());
    }
}
