//! Timing checks at scale. Ignored by default; run with
//! `cargo test -p molq-core --release --test perf -- --ignored --nocapture`.
#![allow(clippy::print_stderr, clippy::disallowed_methods)] // timing needs the clock

use std::time::{Duration, Instant};

use molq_core::{parse_queue, JobStore, LostPolicy, NewJob, SchedulerKind};

#[test]
#[ignore = "slow in debug builds; run in release"]
fn reconcile_and_list_100k() {
    let n = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let mut store = JobStore::open(path.to_str().unwrap(), Duration::from_secs(30)).unwrap();
    let t = Instant::now();
    for i in 0..n {
        let job = NewJob {
            job_id: format!("job-{i:06}"),
            cluster_name: "big".into(),
            scheduler: "local".into(),
            attempt: 1,
            metadata: vec![("molq.job_dir".into(), format!("/tmp/jobs/{i}"))],
            request_json: r#"{"argv": ["sleep", "1"]}"#.into(),
            ..NewJob::default()
        };
        store.register_job(&job, &[], i as f64).unwrap();
        store
            .mark_submitted(&job.job_id, &(i + 1).to_string(), i as f64)
            .unwrap();
    }
    eprintln!("register+submit {n} jobs (2 txns each): {:?}", t.elapsed());

    let text: String = (0..n)
        .map(|i| format!("{}|running||{i}|\n", i + 1))
        .collect();
    let t = Instant::now();
    let snap = parse_queue(SchedulerKind::Shell, text.as_bytes()).unwrap();
    eprintln!("parse {n} status lines: {:?}", t.elapsed());
    let t = Instant::now();
    let out = store
        .reconcile("big", &snap, None, 1e6, LostPolicy::default())
        .unwrap();
    let took = t.elapsed();
    eprintln!("reconcile {n} jobs that all change state: {took:?}");
    assert_eq!(out.transitions.len(), n);
    let t = Instant::now();
    let out = store
        .reconcile("big", &snap, None, 1e6 + 1.0, LostPolicy::default())
        .unwrap();
    eprintln!("reconcile {n} jobs, nothing changes: {:?}", t.elapsed());
    assert!(out.transitions.is_empty());

    let t = Instant::now();
    let all = store.list_jobs(Some("big"), true, None).unwrap();
    eprintln!("list_jobs {} records: {:?}", all.len(), t.elapsed());
    assert_eq!(all.len(), n);
    let ids: Vec<String> = all.iter().map(|r| r.job_id().to_owned()).collect();
    let t = Instant::now();
    assert_eq!(store.delete_records(&ids).unwrap(), n);
    eprintln!("delete_records {n}: {:?}", t.elapsed());
    assert!(took < Duration::from_secs(2), "reconcile took {took:?}");
}
