use std::path::PathBuf;

use super::*;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/slurm")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_dir().join(format!("{name}.stdout"))).unwrap()
}

fn clean(snap: &Snapshot) -> &Snapshot {
    assert!(snap.skipped.is_empty(), "skipped: {:?}", snap.skipped);
    snap
}

fn all(snap: &Snapshot) -> Vec<(&str, ObservationRef<'_>)> {
    snap.entries().collect()
}

fn state_of(snap: &Snapshot, id: &str) -> Option<JobState> {
    snap.get(id).unwrap_or_else(|| panic!("no {id}")).state
}

#[test]
fn every_state_maps_long_and_short() {
    let want: [(&str, &str, JobState, JobState); 24] = [
        ("PENDING", "PD", Queued, Queued),
        ("REQUEUED", "RQ", Queued, Queued),
        ("REQUEUE_FED", "RF", Queued, Queued),
        ("REQUEUE_HOLD", "RH", Queued, Queued),
        ("RESV_DEL_HOLD", "RD", Queued, Queued),
        ("CONFIGURING", "CF", Queued, Queued),
        ("PREEMPTED", "PR", Queued, Failed),
        ("RUNNING", "R", Running, Running),
        ("COMPLETING", "CG", Running, Running),
        ("SIGNALING", "SI", Running, Running),
        ("STAGE_OUT", "SO", Running, Running),
        ("RESIZING", "RS", Running, Running),
        ("SUSPENDED", "S", Running, Running),
        ("STOPPED", "ST", Running, Running),
        ("COMPLETED", "CD", Succeeded, Succeeded),
        ("FAILED", "F", Failed, Failed),
        ("NODE_FAIL", "NF", Failed, Failed),
        ("BOOT_FAIL", "BF", Failed, Failed),
        ("SPECIAL_EXIT", "SE", Failed, Failed),
        ("CANCELLED", "CA", Cancelled, Cancelled),
        ("REVOKED", "RV", Cancelled, Cancelled),
        ("TIMEOUT", "TO", TimedOut, TimedOut),
        ("DEADLINE", "DL", TimedOut, TimedOut),
        ("OUT_OF_MEMORY", "OOM", OutOfMemory, OutOfMemory),
    ];
    for (long, short, queue, acct) in want {
        for word in [long, short] {
            assert_eq!(job_state(word, Source::Squeue), Some(queue), "{word}");
            assert_eq!(job_state(word, Source::Sacct), Some(acct), "{word}");
        }
        let sq = parse_squeue(format!("1|{short}|u|p|1|2|None|n").as_bytes());
        assert_eq!(state_of(clean(&sq), "1"), Some(queue), "{short}");
        let sa = parse_sacct(format!("1|1|{long}|0:0|1|2|None").as_bytes());
        assert_eq!(state_of(clean(&sa), "1"), Some(acct), "{long}");
    }
    assert_eq!(STATES.len(), want.len());
    let mut names: Vec<_> = STATES.iter().flat_map(|s| [s.0, s.1]).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 48, "every name and code is distinct");
    for word in ["", "pending", "BOGUS", "R ", "CANCELLED+"] {
        assert_eq!(job_state(word, Source::Sacct), None, "{word:?}");
    }
}

#[test]
fn unknown_states_are_reported_and_move_nothing() {
    let text = "1|WEIRD|u|p|1|N/A|None|a\n2|RUNNING|u|p|1|5|None|b\n";
    let snap = parse_squeue(text.as_bytes());
    assert!(!snap.contains("1"));
    assert_eq!(state_of(&snap, "2"), Some(Running));
    assert_eq!(snap.skipped.len(), 1);
    assert_eq!(snap.skipped[0].line, "1|WEIRD|u|p|1|N/A|None|a");
    assert!(
        snap.skipped[0].reason.contains("\"WEIRD\""),
        "{:?}",
        snap.skipped
    );
    // In an array, the task is reported and the array stays undecided.
    let snap = parse_sacct(b"5_1|6|COMPLETED|0:0|1|2|None\n5_2|5|LIMBO|0:0|1|2|None\n");
    assert_eq!(snap.skipped.len(), 1);
    assert_eq!(state_of(&snap, "5"), None);
    assert!(!snap.contains("5_2"));
    assert_eq!(snap.needs_accounting(["5"]), Vec::<&str>::new());
}

#[test]
fn squeue_fields_and_times() {
    let snap = parse_squeue(
        b"7|RUNNING|ann|debug|1795558926|1795558928|None|a|b|c\n\
          8|PENDING|bob|long|2026-11-24T22:22:08|1795559999|Priority|  \n\
          9|PD|bob|long|N/A|Unknown|JobHeldUser|x\n",
    );
    let snap = clean(&snap);
    let o = snap.get("7").unwrap();
    assert_eq!(o.name, Some("a|b|c"), "the name keeps its '|'");
    assert_eq!((o.user, o.partition), (Some("ann"), Some("debug")));
    assert_eq!(
        (o.submit_time, o.started_at),
        (Some(1795558926.0), Some(1795558928.0))
    );
    assert_eq!((o.reason, o.raw_state), (None, "RUNNING"));
    let o = snap.get("8").unwrap();
    assert_eq!(o.submit_time, Some(1795558928.0), "ISO is read as UTC");
    assert_eq!(o.started_at, None, "a pending job's start is an estimate");
    assert_eq!((o.reason, o.name), (Some("Priority"), None));
    let o = snap.get("9").unwrap();
    assert_eq!((o.submit_time, o.raw_state), (None, "PD"));
}

#[test]
fn sacct_exit_codes_signals_and_cancellers() {
    let snap = parse_sacct(
        b"1|1|CANCELLED by 1000|0:0|10|20|None\n\
          2|2|FAILED|0:9|10|20|None\n\
          3|3|FAILED|3:0|10|20|None\n\
          4|4|OUT_OF_MEMORY|0:125|10|20|None\n\
          5|5|FAILED|0:42|10|20|None\n\
          6|6|RUNNING|0:0|10|Unknown|None\n\
          7|7|PENDING|0:0|Unknown|Unknown|JobHeldUser\n\
          8|8|PREEMPTED|0:15|10|20|None\n\
          9|9|CANCELLED|0:15|10|20|None\n\
          9.batch|9.batch|WHATEVER|x|y|z|\n",
    );
    let snap = clean(&snap);
    let got = |id: &str| {
        let o = snap.get(id).unwrap();
        (
            o.state,
            o.exit_code,
            o.exit_signal,
            o.reason.map(str::to_owned),
        )
    };
    let s = |t: &str| Some(t.to_owned());
    assert_eq!(
        got("1"),
        (
            Some(Cancelled),
            Some(0),
            Some(0),
            s("cancelled by uid 1000")
        )
    );
    assert_eq!(snap.get("1").unwrap().raw_state, "CANCELLED by 1000");
    assert_eq!(
        got("2"),
        (
            Some(Failed),
            Some(0),
            Some(9),
            s("killed by signal 9 (SIGKILL)")
        )
    );
    assert_eq!(got("3"), (Some(Failed), Some(3), Some(0), None));
    assert_eq!(
        got("4"),
        (Some(OutOfMemory), Some(0), Some(125), None),
        "the state says it all: the default reason names the limit"
    );
    assert_eq!(
        got("5"),
        (Some(Failed), Some(0), Some(42), s("killed by signal 42"))
    );
    assert_eq!(got("6"), (Some(Running), None, None, None));
    assert_eq!(got("7"), (Some(Queued), None, None, s("JobHeldUser")));
    assert_eq!(got("8"), (Some(Failed), Some(0), Some(15), s("preempted")));
    assert_eq!(got("9"), (Some(Cancelled), Some(0), Some(15), None));
    let o = snap.get("6").unwrap();
    assert_eq!((o.started_at, o.finished_at), (Some(10.0), None));
    let o = snap.get("9").unwrap();
    assert_eq!((o.started_at, o.finished_at), (Some(10.0), Some(20.0)));
    assert_eq!(snap.len(), 9, "the step line is ignored, not skipped");
    // Cancelled while pending (an unsatisfiable dependency): Start = End, never ran.
    let snap = parse_sacct(b"77|77|CANCELLED|0:0|1795559872|1795559872|None\n");
    let o = snap.get("77").unwrap();
    assert_eq!((o.started_at, o.finished_at), (None, Some(1795559872.0)));
}

#[test]
fn malformed_lines_are_skipped_and_the_rest_parse() {
    let snap = parse_squeue(
        b"1|RUNNING|u|p|1|2|None\n\
          |RUNNING|u|p|1|2|None|n\n\
          2|RUNNING|u|p|soon|2|None|n\n\
          3|RUNNING|u|p|2026-13-01T00:00:00|2|None|n\n\
          4|RUNNING|u|p|1|2|None|ok\n",
    );
    assert_eq!(snap.entries().len(), 1);
    assert!(snap.contains("4"));
    let reasons: Vec<_> = snap.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(reasons.len(), 4);
    assert!(reasons[0].contains("8 '|'-separated fields"), "{reasons:?}");
    assert!(reasons[1].contains("empty job id"));
    assert!(reasons[2].contains("\"soon\""));
    let snap = parse_sacct(
        b"1|1|FAILED|3|1|2|None\n2|2|FAILED|a:b|1|2|None\n3|3|FAILED\n4|4|COMPLETED|0:0|1|2|None\n",
    );
    assert_eq!((snap.len(), snap.skipped.len()), (1, 3));
    assert!(snap.skipped[0].reason.contains("code:signal"));
}

#[test]
fn times() {
    let t = |s: &str| slurm_time(s, "t");
    assert_eq!(t("1795558928"), Ok(Some(1795558928.0)));
    assert_eq!(t("2026-11-24T22:22:08"), Ok(Some(1795558928.0)));
    assert_eq!(t("1970-01-01T00:00:00"), Ok(Some(0.0)));
    assert_eq!(t("2024-02-29T12:00:00"), Ok(Some(1709208000.0)));
    assert_eq!(t("2000-03-01T00:00:00"), Ok(Some(951868800.0)));
    assert_eq!(t("1969-12-31T23:59:59"), Ok(Some(-1.0)));
    for none in ["", " ", "N/A", "Unknown", "None"] {
        assert_eq!(t(none), Ok(None), "{none:?}");
    }
    for bad in [
        "2023-02-29T00:00:00",
        "2024-04-31T00:00:00",
        "2024-01-01T24:00:00",
        "2024-01-01 00:00:00",
        "2024-1-01T00:00:00",
        "1e9",
        "12345678901234567890",
        "-",
        "+5",
    ] {
        assert!(t(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn array_tasks_and_aggregates_in_the_queue() {
    let snap = parse_squeue(&fixture("squeue_array_partial"));
    let snap = clean(&snap);
    let ids: Vec<_> = snap.entries().map(|(id, _)| id).collect();
    assert_eq!(
        ids,
        ["20", "20_[2-5]", "20_1"],
        "the array sits where it was first seen"
    );
    let a = snap.get("20").unwrap();
    assert_eq!(a.state, Some(Running));
    assert_eq!(a.started_at, Some(1795558931.0), "the running task's start");
    assert_eq!(a.raw_state, "array: 4 queued, 1 running");
    assert_eq!(a.name, Some("molq-array"));
    let tasks: Vec<_> = snap.array_tasks("20").map(|(t, o)| (t, o.state)).collect();
    assert_eq!(
        tasks,
        [("1", Some(Running))],
        "collapsed pending tasks are not tasks"
    );
    let iso = parse_squeue(&fixture("squeue_array_partial_iso"));
    for (id, obs) in clean(&iso).entries() {
        assert_eq!(Some(obs), snap.get(id), "{id}: ISO and epoch agree");
    }
    for (name, id, reason) in [
        ("squeue_array_pending", "25", "JobHeldUser"),
        ("squeue_array_throttled", "28", "JobHeldUser"),
    ] {
        let snap = parse_squeue(&fixture(name));
        let a = clean(&snap).get(id).unwrap();
        assert_eq!((a.state, a.reason), (Some(Queued), Some(reason)), "{name}");
        assert!(!snap.has_tasks(id));
    }
}

#[test]
fn array_aggregates_in_accounting() {
    let snap = parse_sacct(&fixture("sacct_array"));
    let a = clean(&snap).get("34").unwrap();
    assert_eq!(
        (a.state, a.exit_code, a.exit_signal),
        (Some(Failed), Some(5), Some(0))
    );
    assert_eq!(
        a.reason,
        Some("2 of 4 array tasks failed (first: task 1, exit 5)")
    );
    assert_eq!(
        (a.started_at, a.finished_at),
        (Some(1795558967.0), Some(1795558967.0))
    );
    let tasks: Vec<_> = snap
        .array_tasks("34")
        .map(|(t, o)| (t, o.state, o.exit_code))
        .collect();
    assert_eq!(
        tasks,
        [
            ("1", Some(Failed), Some(5)),
            ("2", Some(Succeeded), Some(0)),
            ("3", Some(Failed), Some(5)),
            ("4", Some(Succeeded), Some(0)),
        ]
    );
    let steps = parse_sacct(&fixture("sacct_array_steps"));
    assert_eq!(all(clean(&steps)), all(&snap), "steps change nothing");

    let snap = parse_sacct(&fixture("sacct_array_cancelled"));
    for id in ["20", "25"] {
        let a = clean(&snap).get(id).unwrap();
        assert_eq!(a.state, Some(Cancelled), "{id}");
        assert_eq!(
            a.reason,
            Some("5 of 5 array tasks cancelled (first: task 1)")
        );
    }
    let snap = parse_sacct(&fixture("sacct_active"));
    assert_eq!(
        state_of(clean(&snap), "20"),
        Some(Running),
        "live tasks: not over"
    );
    assert_eq!(state_of(&snap, "25"), Some(Queued));
    assert_eq!(snap.get("25").unwrap().exit_code, None);
}

#[test]
fn needs_accounting_asks_for_the_missing_and_the_finished_without_exit_code() {
    let sq = parse_squeue(b"1|RUNNING|u|p|1|2|None|a\n2|CD|u|p|1|2|None|b\n3|F|u|p|1|2|None|c\n");
    assert_eq!(sq.needs_accounting(["1", "2", "3", "4"]), ["2", "3", "4"]);
    let sa = parse_sacct(b"2|2|COMPLETED|0:0|1|2|None\n");
    assert_eq!(sa.needs_accounting(["2", "5"]), ["5"]);
}

#[test]
fn sbatch_ids() {
    assert_eq!(parse_sbatch_id(b"70\n").unwrap(), "70");
    assert_eq!(parse_sbatch_id(b"70;molq\n").unwrap(), "70");
    assert_eq!(parse_sbatch_id(b"\n 71 \n").unwrap(), "71");
    for bad in [
        &b""[..],
        b"\n",
        b"Submitted batch job 70",
        b";molq",
        b"70_1",
        b"-3",
    ] {
        let err = parse_sbatch_id(bad).unwrap_err().to_string();
        assert!(err.contains("sbatch --parsable"), "{err}");
        assert!(
            err.contains(&format!("{:?}", String::from_utf8_lossy(bad))),
            "{err}"
        );
    }
}

/// Every recorded output: squeue and sacct stdout parse without a skipped line
/// (their stderr never reaches a parser), and sbatch stdout gives an id exactly
/// when sbatch succeeded.
#[test]
fn every_fixture() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let Some(case) = name.strip_suffix(".stdout") else {
            continue;
        };
        let data = std::fs::read(&path).unwrap();
        let rc: i32 = std::fs::read_to_string(path.with_extension("rc"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let lines = data
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count();
        if case.starts_with("squeue_") || case.starts_with("sacct_") {
            let snap = if case.starts_with("squeue_") {
                parse_squeue(&data)
            } else {
                parse_sacct(&data)
            };
            assert!(snap.skipped.is_empty(), "{case}: {:?}", snap.skipped);
            assert!(snap.len() >= lines.min(1), "{case}");
            for (id, obs) in snap.entries() {
                assert!(obs.state.is_some(), "{case}: {id}");
                if obs.state == Some(Queued) {
                    assert_eq!(obs.started_at, None, "{case}: {id}");
                }
            }
            seen += 1;
        } else if case.starts_with("sbatch_") {
            let id = parse_sbatch_id(&data);
            assert_eq!(id.is_ok(), rc == 0, "{case}: {id:?}");
            if let Ok(id) = id {
                assert!(id.bytes().all(|b| b.is_ascii_digit()), "{case}: {id}");
            }
            seen += 1;
        }
    }
    assert!(seen >= 30, "only {seen} fixtures found");
}

#[test]
fn named_fixtures() {
    let snap = parse_squeue(&fixture("squeue_me"));
    let snap = clean(&snap);
    assert_eq!(snap.get("27").unwrap().name, Some("pipe|in|name"));
    assert_eq!(
        snap.get("26").unwrap().name,
        Some("name with  spaces ünïcødé ✓")
    );
    assert_eq!(state_of(snap, "24"), Some(Queued));
    assert_eq!(snap.get("24").unwrap().reason, Some("JobHeldAdmin"));
    assert_eq!(state_of(snap, "20"), Some(Running));
    let snap = parse_squeue(&fixture("squeue_completing"));
    let o = clean(&snap).get("29").unwrap();
    assert_eq!((o.state, o.started_at), (Some(Running), Some(1795558937.0)));

    let snap = parse_sacct(&fixture("sacct_terminal"));
    let snap = clean(&snap);
    let iso = parse_sacct(&fixture("sacct_terminal_iso"));
    assert_eq!(all(clean(&iso)), all(snap), "ISO and epoch agree");
    let steps = parse_sacct(&fixture("sacct_terminal_steps"));
    assert_eq!(all(clean(&steps)), all(snap));
    let got: Vec<_> = snap
        .entries()
        .map(|(id, o)| (id, o.state.unwrap(), o.exit_code, o.exit_signal))
        .collect();
    assert_eq!(
        got,
        [
            ("19", Cancelled, Some(0), Some(0)),
            ("23", Cancelled, Some(0), Some(0)),
            ("29", Cancelled, Some(0), Some(0)),
            ("30", TimedOut, Some(0), Some(0)),
            ("31", Succeeded, Some(0), Some(0)),
            ("32", Failed, Some(3), Some(0)),
            ("33", Failed, Some(0), Some(9)),
        ]
    );
    let held = snap.get("23").unwrap();
    assert_eq!(
        (held.started_at, held.finished_at),
        (None, Some(1795558935.0))
    );
    assert_eq!(held.reason, Some("cancelled by uid 0"));
    assert_eq!(
        snap.get("33").unwrap().reason,
        Some("killed by signal 9 (SIGKILL)")
    );
    let lagging = parse_sacct(&fixture("sacct_just_submitted"));
    assert_eq!(state_of(clean(&lagging), "20"), Some(Queued));
}

/// `a` and `b` hold the same observations, tasks, arrays and skipped lines,
/// and `a` finds each of its ids where it is.
fn assert_same(a: &Snapshot, b: &Snapshot) {
    assert_eq!(all(a), all(b));
    assert_eq!(a.skipped, b.skipped);
    for (id, obs) in a.entries() {
        assert_eq!(a.get(id), Some(obs), "{id} is found");
        assert_eq!(a.is_array(id), b.is_array(id), "{id}");
        let tasks: Vec<_> = a.array_tasks(id).collect();
        assert_eq!(tasks, b.array_tasks(id).collect::<Vec<_>>(), "{id}");
    }
}

#[test]
fn ids_seen_again_read_as_line_by_line() {
    let text = "5|RUNNING|u|p|1|2|None|a\n\
                7_1|PENDING|u|p|1|N/A|Priority|b\n\
                7|RUNNING|u|p|1|2|None|c\n\
                5|COMPLETED|u|p|1|2|None|a\n\
                9|RUNNING|u|p|1|2|None|d\n\
                9_2|RUNNING|u|p|1|2|None|d\n\
                7_1|RUNNING|u|p|1|3|None|b\n\
                7_[3-4]|PENDING|u|p|1|N/A|None|b\n\
                7_[3-4]|PENDING|u|p|1|N/A|Dependency|b\n\
                8|BOGUS|u|p|1|2|None|e\n\
                8|BOGUS|u|p|1|2|None|e\n";
    let snap = parse_squeue(text.as_bytes());
    assert_same(&snap, &parse_with(text.as_bytes(), Source::Squeue, false));
    let ids: Vec<_> = snap.entries().map(|(id, _)| id).collect();
    assert_eq!(ids, ["5", "7", "7_1", "9", "9_2", "7_[3-4]"]);
    assert_eq!(state_of(&snap, "5"), Some(Succeeded), "the last line wins");
    assert_eq!(state_of(&snap, "7"), Some(Running), "the aggregate wins");
    assert!(snap.is_array("7") && snap.is_array("9"));
    let tasks: Vec<_> = snap.array_tasks("7").map(|(t, o)| (t, o.state)).collect();
    assert_eq!(tasks, [("1", Some(Running))], "a task is listed once");
    let range = snap.get("7_[3-4]").unwrap();
    assert_eq!(range.reason, Some("Dependency"));
    assert_eq!(snap.skipped.len(), 2);
}

#[test]
fn a_large_listing_with_repeats_reads_as_line_by_line() {
    // Enough lines that the ids are sorted by slot before indexing.
    let mut text = String::new();
    for i in 0..40_000 {
        let line = match i % 7 {
            0 => format!("{}_{}|RUNNING|u|p|1|2|None|n\n", i % 500, i % 3),
            1 => format!("{}|FAILED|u|p|1|2|None|n\n", i % 1_000),
            _ => format!("{i}|PENDING|u|p|1|N/A|Priority|n\n"),
        };
        text.push_str(&line);
    }
    let snap = parse_squeue(text.as_bytes());
    assert_same(&snap, &parse_with(text.as_bytes(), Source::Squeue, false));
    assert!(snap.len() < 40_000 && snap.is_array("3"));
}

proptest::proptest! {
    #[test]
    fn deferred_indexing_reads_as_line_by_line(
        lines in proptest::collection::vec(
            (
                "[1-9]{1,2}(_[0-9]|_\\[[1-3]-[4-5]\\])?",
                proptest::sample::select(vec!["PENDING", "RUNNING", "COMPLETED", "FAILED", "BOGUS", "CANCELLED by 7"]),
                "[0-9]{1,2}:[0-9]",
                "(Priority|None|)",
            ),
            0..60,
        )
    ) {
        let squeue: String = lines
            .iter()
            .map(|(id, state, _, reason)| format!("{id}|{state}|u|p|1|2|{reason}|n\n"))
            .collect();
        let sacct: String = lines
            .iter()
            .map(|(id, state, exit, reason)| format!("{id}|{id}|{state}|{exit}|1|2|{reason}\n"))
            .collect();
        for (text, source) in [(squeue, Source::Squeue), (sacct, Source::Sacct)] {
            let deferred = parse_with(text.as_bytes(), source, true);
            assert_same(&deferred, &parse_with(text.as_bytes(), source, false));
        }
    }
}
