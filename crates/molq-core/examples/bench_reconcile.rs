//! Cost of one reconcile transaction at scale, the store alone (no Python,
//! no scheduler command): `cargo run -p molq-core --release --example
//! bench_reconcile [JOBS]` (default 100000).
//!
//! Three cycles on a store of JOBS submitted jobs, each on a fresh copy:
//! every job starts running; 10% finish (the queue no longer lists them and
//! accounting reports their end); nothing changes (the queue repeats itself).
#![allow(clippy::print_stdout, clippy::disallowed_methods)] // a benchmark prints and reads the clock

use std::time::{Duration, Instant};

use molq_core::{parse_accounting, parse_queue, JobStore, LostPolicy, NewJob, SchedulerKind};

const NOW: f64 = 1_795_558_926.0;

fn squeue(ids: std::ops::Range<usize>, state: &str) -> String {
    ids.map(|i| {
        format!(
            "{i}|{state}|alice|compute|{}|{}|None|job-{i}\n",
            NOW - 600.0,
            NOW - 60.0
        )
    })
    .collect()
}

fn sacct(ids: std::ops::Range<usize>) -> String {
    ids.map(|i| format!("{i}|{i}|COMPLETED|0:0|{}|{}|None\n", NOW - 60.0, NOW - 5.0))
        .collect()
}

fn build(path: &str, jobs: usize) -> Result<(), Box<dyn std::error::Error>> {
    let mut store = JobStore::open(path, Duration::from_secs(30))?;
    for i in 1..=jobs {
        let job_id = format!("job-{i:07}");
        let job = NewJob {
            job_id: job_id.clone(),
            cluster_name: "hpc".into(),
            scheduler: "slurm".into(),
            attempt: 1,
            command_type: "argv".into(),
            command_display: "python train.py --lr 0.01".into(),
            cwd: "/home/alice/project".into(),
            job_dir: format!("/home/alice/.molq/jobs/{job_id}"),
            metadata: vec![
                ("sweep".into(), "lr".into()),
                ("seed".into(), i.to_string()),
            ],
            request_json: "{}".into(),
            ..NewJob::default()
        };
        store.register_job(&job, &[], NOW - 900.0)?;
        store.mark_submitted(&job_id, &i.to_string(), NOW - 900.0)?;
    }
    Ok(())
}

/// Timed repetitions of the cheap cases (LOOPS, default 5).
fn loops_from_env() -> i32 {
    std::env::var("LOOPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let jobs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("molq-bench-reconcile-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // The store to copy is kept between runs (building it takes a while); it
    // is migrated like any store when a copy is opened.
    let base = std::env::temp_dir().join(format!("molq-bench-reconcile-{jobs}.db"));
    let base = base.to_str().ok_or("non-UTF-8 temp dir")?;
    if !std::path::Path::new(base).exists() {
        let t = Instant::now();
        let partial = format!("{base}.partial");
        build(&partial, jobs)?;
        std::fs::rename(&partial, base)?;
        println!("(setup: {jobs} jobs in {:.1} s)", t.elapsed().as_secs_f64());
    }
    let cases = [
        ("all start running", squeue(1..jobs + 1, "RUNNING"), None),
        (
            "10% finished",
            squeue(1..jobs * 9 / 10 + 1, "RUNNING"),
            Some(sacct(jobs * 9 / 10 + 1..jobs + 1)),
        ),
    ];
    for (name, queue, accounting) in cases {
        let run = dir.join("run.db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", run.display()));
        }
        std::fs::copy(base, &run)?;
        let mut store = JobStore::open(run.to_str().ok_or("path")?, Duration::from_secs(30))?;
        let queue = parse_queue(SchedulerKind::Slurm, queue.as_bytes())?;
        let accounting = match accounting {
            Some(text) => Some(parse_accounting(SchedulerKind::Slurm, text.as_bytes())?),
            None => None,
        };
        let t = Instant::now();
        let out = store.reconcile(
            "hpc",
            &queue,
            accounting.as_ref(),
            NOW,
            LostPolicy::default(),
        )?;
        println!(
            "{name:<24} {:>8.1} ms  ({} transitions)",
            t.elapsed().as_secs_f64() * 1e3,
            out.transitions.len()
        );
        if accounting.is_none() {
            let mut reads = Vec::new();
            for _ in 0..loops_from_env() {
                let t = Instant::now();
                let set = store.active_set("hpc")?;
                reads.push(t.elapsed().as_secs_f64() * 1e3);
                assert_eq!(set.jobs.len(), jobs);
            }
            reads.sort_by(f64::total_cmp);
            println!(
                "{:<24} {:>8.1} ms  median",
                "read the active set",
                reads[reads.len() / 2]
            );
            let mut times = Vec::new();
            let loops = loops_from_env();
            for k in 1..=loops {
                let t = Instant::now();
                let out = store.reconcile(
                    "hpc",
                    &queue,
                    None,
                    NOW + f64::from(k),
                    LostPolicy::default(),
                )?;
                times.push(t.elapsed().as_secs_f64() * 1e3);
                assert!(out.transitions.is_empty());
            }
            times.sort_by(f64::total_cmp);
            println!(
                "{:<24} {:>8.1} ms  median of {loops} ({:.1}-{:.1})",
                "nothing changed",
                times[times.len() / 2],
                times[0],
                times[times.len() - 1]
            );
        }
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
