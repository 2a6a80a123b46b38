//! `tracejob` output (PBS Pro and Torque): the server, MoM and accounting log
//! lines of each job, read only for jobs `qstat` no longer knows.
//!
//! ```text
//! Job: 123.server
//!
//! 06/01/2024 10:00:01  S    Job Run at request of Scheduler@host on exec_vnode (node:ncpus=1)
//! 06/01/2024 10:00:11  S    Exit_status=3 resources_used.cput=00:00:00 ...
//! 06/01/2024 10:00:11  A    user=u ... start=1717236001 ... end=1717236011 Exit_status=3 ...
//! ```
//!
//! Several jobs' sections may follow one another (molq runs tracejob for a
//! chunk of ids in one shell command). A section that shows neither an exit
//! status nor a deletion gives no observation: the logs do not say how it ended.

use super::pbs::{finished, key, Collector, SUBSTATE_TERMINATED};
use super::when;
use super::Snapshot;
use crate::model::{Observation, Timestamp};
use crate::state::JobState;

#[derive(Default)]
struct Trace<'a> {
    id: &'a str,
    first: Option<Timestamp>,
    run: Option<Timestamp>,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    exit: Option<i64>,
    exit_at: Option<Timestamp>,
    deleted: bool,
    walltime: bool,
    queue: Option<&'a str>,
    name: Option<&'a str>,
    user: Option<&'a str>,
}

/// Parse one or more tracejob sections.
pub fn parse_tracejob(text: &str) -> Snapshot {
    let mut c = Collector::default();
    let mut trace: Option<Trace<'_>> = None;
    for line in text.lines().map(|l| l.trim_end_matches('\r')) {
        if let Some(id) = line.strip_prefix("Job:") {
            if let Some(t) = trace.take() {
                conclude(&mut c, t);
            }
            trace = Some(Trace {
                id: id.trim(),
                ..Trace::default()
            });
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let Some(t) = trace.as_mut() else {
            c.snap.skip(line, "outside any 'Job:' section");
            continue;
        };
        let mut words = line.split_whitespace();
        let (Some(date), Some(time), Some(_source)) = (words.next(), words.next(), words.next())
        else {
            c.snap
                .skip(line, "expected 'MM/DD/YYYY HH:MM:SS source message'");
            continue;
        };
        let Some(at) = when::month_day_year(date, time) else {
            // tracejob's own notes ("tracejob: could not open ...") are not log lines
            continue;
        };
        let message = message_of(line);
        t.first = t.first.or(Some(at));
        if message.starts_with("Job Run at request") {
            t.run = Some(at);
        }
        if message.contains("Job deleted at request of")
            || message.contains("delete job request received")
        {
            t.deleted = true;
        }
        if message.contains("walltime") && message.contains("exceeded limit") {
            t.walltime = true;
        }
        for word in message.split_whitespace() {
            let Some((k, v)) = word.split_once('=') else {
                continue;
            };
            match k {
                "Exit_status" => {
                    if let Ok(code) = v.parse() {
                        t.exit = Some(code);
                        t.exit_at = Some(at);
                    }
                }
                "start" => t.start = when::epoch(v).or(t.start),
                "end" => t.end = when::epoch(v).or(t.end),
                "queue" => t.queue = Some(v),
                "jobname" => t.name = Some(v),
                "user" => t.user = Some(v),
                _ => {}
            }
        }
    }
    if let Some(t) = trace.take() {
        conclude(&mut c, t);
    }
    c.finish()
}

/// The text after the date, time and source columns.
fn message_of(line: &str) -> &str {
    let mut rest = line.trim_start();
    for _ in 0..3 {
        rest = rest.trim_start();
        rest = rest.find(char::is_whitespace).map_or("", |i| &rest[i..]);
    }
    rest.trim()
}

fn conclude(c: &mut Collector, t: Trace<'_>) {
    if t.exit.is_none() && !t.deleted {
        return;
    }
    let k = match key(t.id) {
        Ok(k) => k,
        Err(why) => return c.snap.skip(&format!("Job: {}", t.id), why),
    };
    let start = t.start.or(t.run);
    let substate = t.deleted.then_some(SUBSTATE_TERMINATED);
    let (mut state, signal, mut reason) =
        finished(t.exit, substate, start.is_some() || t.exit.is_some());
    if t.walltime && state != JobState::Cancelled {
        state = JobState::TimedOut;
        reason = Some("job exceeded its walltime limit".to_owned());
    }
    let obs = Observation {
        state: Some(state),
        raw_state: "tracejob".into(),
        exit_code: t.exit,
        exit_signal: signal,
        reason,
        started_at: start,
        finished_at: t.end.or(t.exit_at),
        name: t.name.map(str::to_owned),
        user: t.user.and_then(|u| c.names.get(u)),
        partition: t.queue.and_then(|q| c.names.get(q)),
        submit_time: t.first,
    };
    c.place(k, obs);
}
