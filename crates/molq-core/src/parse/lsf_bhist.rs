//! `bhist -l`: the event history of LSF jobs, read only for jobs bjobs has
//! forgotten (finished longer ago than `CLEAN_PERIOD`).
//!
//! ```text
//! Job <1000>, Job Name <myjob>, User <alice>, Project <default>, Command <sleep 1
//!                      00>
//! Mon Jun 11 10:11:12 2018: Submitted from host <hostA>, to Queue <normal>, CWD <$HOME>;
//! Mon Jun 11 10:11:14 2018: Starting (Pid 12345);
//! Mon Jun 11 10:12:54 2018: Exited with exit code 3. The CPU time used is 0.1 seconds;
//! Mon Jun 11 10:12:54 2018: Completed <exit>.
//!
//! Summary of time in seconds spent in various states by  Mon Jun 11 10:12:55 2018
//!   PEND     PSUSP    RUN      USUSP    SSUSP    UNKWN    TOTAL
//! ------------------------------------------------------------------------------
//! ```
//!
//! bhist cuts lines at 80 columns, mid-word, and continues them on lines
//! indented by 21 spaces: those are joined back before reading. Only the
//! dated events are read, each from its own wording, so a command line or job
//! name that happens to say "done" or "exit" cannot change the outcome. The
//! year appears when `LSB_DISPLAY_YEAR=Y` (molq sets it); without it times
//! are placed near the caller's `#now` line, or left out. Sections of several jobs are separated by a line of dashes.

use super::lsf::{term_outcome, Collector};
use super::{signal_text, when, Snapshot};
use crate::model::{Observation, Timestamp};
use crate::state::JobState::{self, *};

#[derive(Default)]
struct History {
    header: String,
    events: Vec<(Option<Timestamp>, String)>,
}

/// Parse one or more `bhist -l` sections.
pub fn parse_bhist(text: &str, now: Option<Timestamp>) -> Snapshot {
    let mut c = Collector::default();
    let mut job: Option<History> = None;
    let mut in_summary = false;
    for line in text.lines().map(|l| l.trim_end_matches('\r')) {
        let t = line.trim();
        if t.len() >= 10 && t.bytes().all(|b| b == b'-') {
            if let Some(h) = job.take() {
                conclude(&mut c, h);
            }
            continue;
        }
        if line.starts_with("Job <") {
            if let Some(h) = job.take() {
                conclude(&mut c, h);
            }
            job = Some(History {
                header: line.to_owned(),
                events: Vec::new(),
            });
            in_summary = false;
            continue;
        }
        let Some(h) = job.as_mut() else {
            if !t.is_empty() && !t.starts_with("No matching job") {
                c.snap.skip(line, "outside any 'Job <id>' section");
            }
            continue;
        };
        if t.is_empty() || in_summary {
            continue;
        }
        if t.starts_with("Summary of time") {
            in_summary = true;
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            // a continuation of the line before (cut at 80 columns, mid-word)
            match h.events.last_mut() {
                Some((_, event)) => event.push_str(line.trim_start()),
                None => h.header.push_str(line.trim_start()),
            }
            continue;
        }
        if let Some((prefix, event)) = line.split_once(": ") {
            if when::starts_with_weekday_month(prefix) {
                h.events
                    .push((when::month_day_near(prefix, now), event.to_owned()));
                continue;
            }
        }
        // Section titles ("MEMORY USAGE:") and their lines carry no outcome.
    }
    if let Some(h) = job.take() {
        conclude(&mut c, h);
    }
    c.finish()
}

/// The text between `<` and `>` after `label <` in `text`.
fn angle<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let start = text.find(&format!("{label} <"))? + label.len() + 2;
    let end = text[start..].find('>')?;
    Some(&text[start..start + end])
}

/// The integer at the start of `text` (`3. The CPU time...` -> 3).
fn leading_int(text: &str) -> Option<i64> {
    let t = text.trim_start();
    let end = t
        .char_indices()
        .find(|&(i, ch)| !(ch.is_ascii_digit() || (i == 0 && ch == '-')))
        .map_or(t.len(), |(i, _)| i);
    t[..end].parse().ok()
}

fn conclude(c: &mut Collector, h: History) {
    let Some(jobid) = angle(&h.header, "Job") else {
        return c
            .snap
            .skip(&h.header, "no 'Job <id>' in the section header");
    };
    let mut obs = Observation {
        name: angle(&h.header, "Job Name").map(str::to_owned),
        user: angle(&h.header, "User").and_then(|u| c.names.get(u)),
        raw_state: "bhist".into(),
        ..Observation::default()
    };
    let mut outcome: Option<JobState> = None;
    let mut term: Option<&str> = None;
    let mut kill_requested = false;
    let mut signal = None;
    let mut exit = None;
    for (at, event) in &h.events {
        let e = event.as_str();
        if e.starts_with("Submitted from host") {
            obs.submit_time = obs.submit_time.or(*at);
            obs.partition = angle(e, "to Queue").and_then(|q| c.names.get(q));
        } else if e.starts_with("Starting (Pid") || e.starts_with("Running with execution home") {
            obs.started_at = obs.started_at.or(*at);
        } else if e.starts_with("Done successfully") {
            (outcome, exit) = (Some(Succeeded), Some(0));
            obs.finished_at = *at;
        } else if let Some(rest) = e.strip_prefix("Exited with exit code ") {
            (outcome, exit) = (Some(Failed), leading_int(rest));
            obs.finished_at = *at;
        } else if let Some(rest) = e.strip_prefix("Exited by signal ") {
            outcome = Some(Failed);
            signal = leading_int(rest);
            obs.finished_at = *at;
            // some releases give the reason on this line: "Exited by signal 15. TERM_OWNER: ..."
            term = term.or_else(|| {
                rest.split(|c: char| c.is_whitespace() || c == ':' || c == ';' || c == '.')
                    .find(|w| w.starts_with("TERM_"))
            });
        } else if let Some(rest) =
            e.strip_prefix("Exited; job has been forced to exit with exit code ")
        {
            (outcome, exit) = (Some(Failed), leading_int(rest));
            obs.finished_at = *at;
        } else if e.starts_with("Exited") {
            outcome = Some(Failed);
            obs.finished_at = *at;
        } else if let Some(rest) = e.strip_prefix("Completed <exit>; ") {
            term = rest
                .split(':')
                .next()
                .map(str::trim)
                .filter(|w| w.starts_with("TERM_"));
            outcome = outcome.or(Some(Failed));
        } else if e.starts_with("Completed <done>") {
            outcome = outcome.or(Some(Succeeded));
        } else if e.starts_with("Signal <KILL> requested by") {
            kill_requested = true;
        } else if e.contains("requeued") || e.starts_with("Pending: Job has been requeued") {
            // a requeued job runs again: what came before is not its end
            (outcome, term, exit, signal, kill_requested) = (None, None, None, None, false);
            obs.finished_at = None;
        }
    }
    let Some(mut state) = outcome else {
        return; // no end in the history: no evidence of how (or whether) it finished
    };
    let mut reason = None;
    if let Some(t) = term {
        let (s, why) = term_outcome(t);
        state = s;
        reason = Some(format!("{why} ({t})"));
    } else if state == Failed && kill_requested {
        state = Cancelled;
        reason = Some("killed on request (bkill)".to_owned());
    } else if let (Failed, Some(sig)) = (state, signal) {
        reason = Some(signal_text(sig));
    }
    obs.state = Some(state);
    obs.exit_code = exit;
    obs.exit_signal = signal;
    obs.reason = reason;
    let header = h.header.clone();
    c.place(jobid, obs, || header);
}
