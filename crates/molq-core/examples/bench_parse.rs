//! Parse speed of squeue output at scale.
//!
//! `cargo run -p molq-core --release --example bench_parse [LINES...]`
//! (default 100000 and 1000000). Synthetic lines in molq's squeue format: mostly
//! single jobs, running and pending, with one line in ten a task of an array;
//! either all of one user (what molq polls: its own jobs, by -j or --me) or of
//! 37 users in turn (a whole cluster's queue, as `molq queue -u` lists it).
#![allow(clippy::print_stdout, clippy::disallowed_methods)] // a benchmark prints and reads the clock

use std::time::Instant;

use molq_core::{parse_queue, SchedulerKind};

fn squeue_text(lines: usize, users: usize) -> String {
    let mut out = String::with_capacity(lines * 72);
    for i in 0..lines {
        let id = 1_000_000 + i;
        let user = i % users;
        let line = match i % 10 {
            0 => format!(
                "{}_{}|RUNNING|user{user}|debug|1795558926|1795558931|None|array-{}\n",
                1_000_000 + i / 100,
                i % 100,
                i / 100
            ),
            1..=4 => format!("{id}|PENDING|user{user}|long|1795558926|N/A|Priority|job-{id}\n"),
            _ => format!("{id}|RUNNING|user{user}|debug|1795558926|1795558928|None|job-{id}\n"),
        };
        out.push_str(&line);
    }
    out
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![100_000, 1_000_000]
    } else {
        sizes
    };
    println!(
        "observation: {} bytes",
        std::mem::size_of::<molq_core::Observation>()
    );
    for (n, users) in sizes.iter().flat_map(|&n| [(n, 1), (n, 37)]) {
        let text = squeue_text(n, users);
        let mut best = f64::INFINITY;
        let mut entries = 0;
        for _ in 0..5 {
            let t = Instant::now();
            let snap = parse_queue(SchedulerKind::Slurm, text.as_bytes()).expect("slurm parses");
            let took = t.elapsed().as_secs_f64();
            entries = snap.len();
            assert!(snap.skipped.is_empty());
            drop(snap);
            best = best.min(took);
        }
        println!(
            "{n:>9} squeue lines, {users:>2} user(s) ({} MB): best of 5 {:.1} ms, {:.3} us/line, {entries} observations",
            text.len() / 1_000_000,
            best * 1e3,
            best * 1e6 / n as f64
        );
    }
}
