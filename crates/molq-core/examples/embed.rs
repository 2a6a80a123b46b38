//! Use molq's job store from plain Rust: register two jobs, submit them, read
//! the local backend's status lines and reconcile.
//!
//! Run with `cargo run -p molq-core --example embed`.
#![allow(clippy::print_stdout)]

use std::time::Duration;

use molq_core::{parse_queue, JobStore, LostPolicy, NewJob, SchedulerKind};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("molq-embed-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("jobs.db");
    let mut store = JobStore::open(
        path.to_str().ok_or("non-UTF-8 temp dir")?,
        Duration::from_secs(30),
    )?;

    // Times are plain epoch seconds chosen by the caller; the core never reads a clock.
    let t0 = 1_700_000_000.0;
    for (job_id, pid) in [("train", "4101"), ("eval", "4102")] {
        let job = NewJob {
            job_id: job_id.into(),
            cluster_name: "laptop".into(),
            scheduler: "local".into(),
            attempt: 1,
            command_type: "argv".into(),
            command_display: format!("python {job_id}.py"),
            ..NewJob::default()
        };
        store.register_job(&job, &[], t0)?;
        store.mark_submitted(job_id, pid, t0 + 1.0)?;
    }

    // What the local backend prints: pid|status|exit_code|started_at|finished_at.
    let status = format!(
        "4101|running||{}|\n4102|exited|1|{}|{}\n",
        t0 + 2.0,
        t0 + 2.0,
        t0 + 9.0
    );
    let snapshot = parse_queue(SchedulerKind::Shell, status.as_bytes())?;
    let outcome = store.reconcile("laptop", &snapshot, None, t0 + 10.0, LostPolicy::default())?;

    println!("transitions:");
    for t in &outcome.transitions {
        let from = t.old_state.map_or("-", |s| s.as_str());
        let reason = t.reason.as_deref().unwrap_or("");
        println!(
            "  {:<6} {from} -> {} at +{:.0}s ({reason})",
            t.job_id,
            t.new_state,
            t.timestamp - t0
        );
    }
    println!("records:");
    for r in store.list_jobs(Some("laptop"), true, None)? {
        println!(
            "  {:<6} {:<10} pid={} exit_code={:?} reason={:?}",
            r.job_id(),
            r.state().as_str(),
            r.scheduler_job_id().unwrap_or("-"),
            r.exit_code(),
            r.failure_reason()
        );
    }
    drop(store);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
