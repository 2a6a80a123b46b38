//! Slurm: `squeue`, `sacct` and `sbatch --parsable` output.
//!
//! molq runs (with `SLURM_TIME_FORMAT=%s`, so times are epoch seconds):
//!
//! ```text
//! squeue -h -o '%i|%T|%u|%P|%V|%S|%r|%j' -j <ids>
//! sacct -X -n -P --noconvert -o JobID,JobIDRaw,State,ExitCode,Start,End,Reason -S <date> -j <ids>
//! sbatch --parsable <script>
//! ```
//!
//! Times are read as integers (epoch seconds) or, for output captured without
//! `SLURM_TIME_FORMAT=%s`, as `YYYY-MM-DDTHH:MM:SS`, which Slurm prints in the
//! cluster's local time but which is read here as UTC (the core has no time
//! zone database; molq itself always asks for epoch seconds). `N/A`, `Unknown`,
//! `None` and an empty field mean "no time".
//!
//! Job arrays: squeue prints a started task as `49_1` and pending tasks
//! collapsed as `49_[2-5]` (or `49_[3-10%2]` with a limit on tasks at once);
//! sacct -X prints each started task as `49_1`... and still-pending ones
//! collapsed too. Each `49_N` line is a task observation; every `49_...` line
//! also counts toward the aggregate observation of the array, keyed `49`.

use std::borrow::Cow;

pub use super::slurm_lists::{
    find_submissions, parse_live_tasks, Found, LiveTask, MarksSource, SACCT_MARKS_FIELDS,
    SQUEUE_MARKS_FORMAT, SQUEUE_TASKS_FORMAT,
};

use super::array::{task_range, Arrays, Tasks};
use super::{lines, signal_text, Snapshot};
use crate::error::{Error, Result};
use crate::model::{Observation, ObservationRef, Timestamp};
use crate::state::JobState::{self, *};

/// The squeue `-o` format the parser reads: id, state (long name), user,
/// partition, submit time, start time, reason, name. The name is last because
/// it may contain `|`.
pub const SQUEUE_FORMAT: &str = "%i|%T|%u|%P|%V|%S|%r|%j";
/// Number of fields of [`SQUEUE_FORMAT`].
pub const SQUEUE_FIELD_COUNT: usize = 8;
/// The sacct `-o` field list the parser reads (with `-P`: `|`-separated).
pub const SACCT_FIELDS: &str = "JobID,JobIDRaw,State,ExitCode,Start,End,Reason";
/// Number of fields of [`SACCT_FIELDS`].
pub const SACCT_FIELD_COUNT: usize = 7;

/// Every Slurm job state: (long name, short code, meaning in squeue, meaning
/// in sacct). They differ only for PREEMPTED: in the queue a preempted job may
/// be requeued; in accounting it is over.
pub const STATES: [(&str, &str, JobState, JobState); 24] = [
    ("PENDING", "PD", Queued, Queued),
    ("RUNNING", "R", Running, Running),
    ("COMPLETING", "CG", Running, Running),
    ("COMPLETED", "CD", Succeeded, Succeeded),
    ("CONFIGURING", "CF", Queued, Queued),
    ("CANCELLED", "CA", Cancelled, Cancelled),
    ("FAILED", "F", Failed, Failed),
    ("TIMEOUT", "TO", TimedOut, TimedOut),
    ("PREEMPTED", "PR", Queued, Failed),
    ("NODE_FAIL", "NF", Failed, Failed),
    ("REVOKED", "RV", Cancelled, Cancelled),
    ("SUSPENDED", "S", Running, Running),
    ("STOPPED", "ST", Running, Running),
    ("SPECIAL_EXIT", "SE", Failed, Failed),
    ("STAGE_OUT", "SO", Running, Running),
    ("BOOT_FAIL", "BF", Failed, Failed),
    ("DEADLINE", "DL", TimedOut, TimedOut),
    ("OUT_OF_MEMORY", "OOM", OutOfMemory, OutOfMemory),
    ("REQUEUED", "RQ", Queued, Queued),
    ("REQUEUE_HOLD", "RH", Queued, Queued),
    ("REQUEUE_FED", "RF", Queued, Queued),
    ("RESIZING", "RS", Running, Running),
    ("RESV_DEL_HOLD", "RD", Queued, Queued),
    ("SIGNALING", "SI", Running, Running),
];

/// Which command printed a state word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Squeue,
    Sacct,
}

/// molq's state for a Slurm state word (long name or short code); `None` if unknown.
pub fn job_state(word: &str, source: Source) -> Option<JobState> {
    lookup(word, source).map(|(state, _)| state)
}

/// The state and the table's own copy of the word.
fn lookup(word: &str, source: Source) -> Option<(JobState, &'static str)> {
    STATES.iter().find_map(|&(long, short, queue, acct)| {
        let name = if long == word {
            long
        } else if short == word {
            short
        } else {
            return None;
        };
        Some((
            if source == Source::Squeue {
                queue
            } else {
                acct
            },
            name,
        ))
    })
}

/// Parse `squeue -h -o SQUEUE_FORMAT` output.
pub fn parse_squeue(data: &[u8]) -> Snapshot {
    parse(data, Source::Squeue)
}

/// Parse `sacct -n -P -o SACCT_FIELDS` output (with or without `-X`: step lines
/// such as `48.batch` are ignored).
pub fn parse_sacct(data: &[u8]) -> Snapshot {
    parse(data, Source::Sacct)
}

fn parse(data: &[u8], source: Source) -> Snapshot {
    parse_with(data, source, true)
}

/// `defer`: index the ids in one go at the end, which reading can afford as
/// it looks nothing up; otherwise one by one (the tests compare the two).
fn parse_with(data: &[u8], source: Source, defer: bool) -> Snapshot {
    let text = String::from_utf8_lossy(data);
    // One observation per line, near enough: size the snapshot once.
    let mut snap = Snapshot::with_capacity(bytecount_newlines(data) + 1);
    // A line's id, state word, name and reason are never longer than it.
    snap.reserve_text(text.len());
    if defer {
        snap.defer_index();
    }
    let arrays = read(&text, source, &mut snap);
    snap.index_deferred();
    if !arrays.is_empty() {
        arrays.finish(&mut snap);
    }
    snap
}

/// Read every line into `snap`; the arrays seen are left to finish.
fn read(text: &str, source: Source, snap: &mut Snapshot) -> Arrays {
    let mut arrays = Arrays::default();
    for line in lines(text) {
        let read = match source {
            Source::Squeue => squeue_line(line).map(|row| {
                add(snap, &mut arrays, line, row.id, row.view());
            }),
            Source::Sacct => sacct_line(line).map(|row| {
                if let Some(row) = row {
                    add(snap, &mut arrays, line, row.id, row.obs.view());
                }
            }),
        };
        if let Err(reason) = read {
            snap.skip(line, reason);
        }
    }
    arrays
}

/// The first `N - 1` `|`-separated fields and the rest of the line as the
/// last (a job name may contain `|`); `None` if there are fewer. One pass over
/// the bytes: for lines this short it beats a searcher per field.
fn fields<const N: usize>(line: &str) -> Option<[&str; N]> {
    let mut out = [""; N];
    let mut start = 0;
    let mut k = 0;
    for (i, &b) in line.as_bytes().iter().enumerate() {
        if b == b'|' && k + 1 < N {
            // '|' is ASCII, so both sides are on character boundaries.
            out[k] = line.get(start..i)?;
            k += 1;
            start = i + 1;
            if k + 1 == N {
                break;
            }
        }
    }
    if k + 1 != N {
        return None;
    }
    out[k] = line.get(start..)?;
    Some(out)
}

fn bytecount_newlines(data: &[u8]) -> usize {
    data.iter().filter(|&&b| b == b'\n').count()
}

/// One readable line of accounting: the job id as printed and what it says
/// (`obs.state` is `None` for a state word molq does not know).
struct Row<'a> {
    id: &'a str,
    obs: Observation,
}

/// One readable line of the queue, as [`Row`] but borrowing all it can from
/// the line: a queue listing runs to a million lines.
struct QueueRow<'a> {
    id: &'a str,
    /// All but the reason, which molq may have to word itself.
    obs: ObservationRef<'a>,
    reason: Option<Cow<'a, str>>,
}

impl QueueRow<'_> {
    fn view(&self) -> ObservationRef<'_> {
        ObservationRef {
            reason: self.reason.as_deref(),
            ..self.obs
        }
    }
}

/// Add what line `line` says about job `id` (its state `None` if the state
/// word is unknown, which is reported).
fn add(snap: &mut Snapshot, arrays: &mut Arrays, line: &str, id: &str, obs: ObservationRef<'_>) {
    if obs.state.is_none() {
        let reason = format!(
            "unknown Slurm job state {:?} (the job's state is left as it was)",
            obs.raw_state
        );
        snap.skip(line, reason);
    }
    let Some((array_id, task)) = split_array_id(id) else {
        if obs.state.is_some() {
            snap.insert_ref(id, obs);
        }
        return;
    };
    let (first, count, single) = match task {
        TaskPart::One(n) => (Some(n), 1, true),
        TaskPart::Range(Some((first, count))) => (Some(first), count, false),
        TaskPart::Range(None) => (None, 1, false),
    };
    let tasks = Tasks {
        array_id,
        first,
        count,
    };
    // A task in a state molq cannot read still keeps its array undecided.
    arrays.feed(snap, tasks, obs);
    if obs.state.is_none() {
        return;
    }
    if single {
        let task_id = &id[array_id.len() + 1..];
        snap.insert_task_ref(array_id, task_id, id, obs);
    } else {
        // Kept as printed, so a queue listing shows what squeue showed.
        snap.insert_ref(id, obs);
    }
}

enum TaskPart {
    /// `49_3`: one task.
    One(u64),
    /// `49_[2-5]`: pending tasks, collapsed (first task and count, if readable).
    Range(Option<(u64, u64)>),
}

/// `49_3` -> ("49", One(3)); `49_[2-5%2]` -> ("49", Range); anything else is
/// not an array id (heterogeneous components such as `70+1` stay plain ids).
fn split_array_id(id: &str) -> Option<(&str, TaskPart)> {
    let (array, task) = id.split_once('_')?;
    if array.is_empty() || !array.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(list) = task.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return Some((array, TaskPart::Range(task_range(list))));
    }
    if task.is_empty() || !task.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    task.parse().ok().map(|n| (array, TaskPart::One(n)))
}

fn squeue_line(line: &str) -> std::result::Result<QueueRow<'_>, String> {
    let Some([id, word, user, partition, submit, start, reason, name]) = fields(line) else {
        return Err(format!(
            "expected {SQUEUE_FIELD_COUNT} '|'-separated fields ({SQUEUE_FORMAT})"
        ));
    };
    let id = id.trim();
    if id.is_empty() {
        return Err("empty job id".to_owned());
    }
    let word = word.trim();
    let submit_time = slurm_time(submit, "submit time")?;
    let start = slurm_time(start, "start time")?;
    let known = lookup(word, Source::Squeue);
    let mut row = QueueRow {
        id,
        obs: ObservationRef {
            state: known.map(|k| k.0),
            raw_state: known.map_or(word, |k| k.1),
            submit_time,
            user: non_empty(user),
            partition: non_empty(partition),
            name: non_empty(name),
            ..ObservationRef::default()
        },
        reason: None,
    };
    let Some((state, _)) = known else {
        return Ok(row);
    };
    // A pending job's start time is the scheduler's estimate, and a job listed
    // as cancelled may never have started: neither is a start.
    if !matches!(state, Queued | Cancelled) {
        row.obs.started_at = start;
    }
    row.reason = if state.is_terminal() {
        terminal_reason(word, state, None).map(Cow::Owned)
    } else if state == Queued {
        slurm_reason(reason).map(Cow::Borrowed)
    } else {
        None
    };
    Ok(row)
}

fn sacct_line(line: &str) -> std::result::Result<Option<Row<'_>>, String> {
    let Some([id, _raw_id, state_text, exit, start, end, reason]) = fields(line) else {
        return Err(format!(
            "expected {SACCT_FIELD_COUNT} '|'-separated fields ({SACCT_FIELDS})"
        ));
    };
    let id = id.trim();
    if id.contains('.') {
        return Ok(None); // a job step (48.batch): the job line speaks for the job
    }
    if id.is_empty() {
        return Err("empty job id".to_owned());
    }
    let state_text = state_text.trim();
    // "CANCELLED by 0": the word, then who did it.
    let (word, by) = match state_text.split_once(' ') {
        Some((w, rest)) => (w, rest.trim().strip_prefix("by ").map(str::trim)),
        None => (state_text, None),
    };
    let (exit_code, exit_signal) = exit_code(exit)?;
    let start = slurm_time(start, "start time")?;
    let end = slurm_time(end, "end time")?;
    let known = lookup(word, Source::Sacct);
    let mut obs = Observation {
        state: known.map(|k| k.0),
        raw_state: match known {
            Some((_, name)) if by.is_none() && name == state_text => Cow::Borrowed(name),
            _ => Cow::Owned(state_text.to_owned()),
        },
        ..Observation::default()
    };
    let Some((state, _)) = known else {
        return Ok(Some(Row { id, obs }));
    };
    if state.is_terminal() && end.is_none() {
        // slurmdbd can hold a half-written record (seen right after it
        // restarts: FAILED, ExitCode 0:0, End Unknown). It does not say how
        // the job ended: reported, and a later, complete record decides.
        obs.state = None;
        obs.raw_state = Cow::Owned(format!(
            "{state_text} (accounting record incomplete: no end time)"
        ));
        return Ok(Some(Row { id, obs }));
    }
    // Slurm stamps a job cancelled while pending (by --kill-on-invalid-dep,
    // say) with Start = End = the cancel time: read that as never started, at
    // the cost of the start of a job cancelled within a second of starting.
    let never_ran = state == Cancelled && start.is_some() && start == end;
    if state != Queued && !never_ran {
        obs.started_at = start;
    }
    if state.is_terminal() {
        obs.finished_at = end;
        obs.exit_code = exit_code;
        obs.exit_signal = exit_signal;
        obs.reason = match by {
            Some(uid) if state == Cancelled && !uid.is_empty() => {
                Some(format!("cancelled by uid {uid}"))
            }
            _ => terminal_reason(word, state, exit_signal),
        };
    } else if state == Queued {
        obs.reason = slurm_reason(reason).map(str::to_owned);
    }
    Ok(Some(Row { id, obs }))
}

/// Why a job ended, when its state or exit says more than molq's default reasons.
fn terminal_reason(word: &str, state: JobState, signal: Option<i64>) -> Option<String> {
    let text = match word {
        "NODE_FAIL" | "NF" => "node failure",
        "BOOT_FAIL" | "BF" => "node failed to boot",
        "PREEMPTED" | "PR" => "preempted",
        "SPECIAL_EXIT" | "SE" => "special exit (requeued in a held state)",
        "DEADLINE" | "DL" => "job reached its deadline",
        "REVOKED" | "RV" => "revoked (the job ran on another cluster of its federation)",
        _ => match (state, signal) {
            (Failed, Some(sig)) if sig != 0 => return Some(signal_text(sig)),
            // The exit code alone: molq's default reason names it.
            _ => return None,
        },
    };
    Some(text.to_owned())
}

/// A reason as Slurm prints it; `None` (the word) and empty mean none.
fn slurm_reason(field: &str) -> Option<&str> {
    match field.trim() {
        "" | "None" | "(null)" => None,
        r => Some(r),
    }
}

fn non_empty(field: &str) -> Option<&str> {
    let field = field.trim();
    (!field.is_empty()).then_some(field)
}

/// `code:signal` -> both halves; an empty field -> neither.
fn exit_code(field: &str) -> std::result::Result<(Option<i64>, Option<i64>), String> {
    let field = field.trim();
    if field.is_empty() {
        return Ok((None, None));
    }
    let parsed = field
        .split_once(':')
        .and_then(|(c, s)| Some((c.parse::<i64>().ok()?, s.parse::<i64>().ok()?)));
    match parsed {
        Some((code, sig)) => Ok((Some(code), Some(sig))),
        None => Err(format!("exit code {field:?} is not code:signal")),
    }
}

/// Epoch seconds, or `YYYY-MM-DDTHH:MM:SS` read as UTC; no-time words give `None`.
pub(crate) fn slurm_time(
    field: &str,
    what: &str,
) -> std::result::Result<Option<Timestamp>, String> {
    let field = field.trim();
    match field {
        "" | "N/A" | "Unknown" | "None" => return Ok(None),
        _ => {}
    }
    let digits = field.strip_prefix('-').unwrap_or(field);
    if !digits.is_empty() && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()) {
        // At most 15 digits: an exact f64, and no overflow.
        if let Ok(v) = field.parse::<i64>() {
            return Ok(Some(v as f64));
        }
    }
    iso_utc(field)
        .map(Some)
        .ok_or_else(|| format!("{what} {field:?} is neither epoch seconds nor YYYY-MM-DDTHH:MM:SS"))
}

/// `YYYY-MM-DDTHH:MM:SS` as UTC epoch seconds.
fn iso_utc(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = &b[r];
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0_i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60
    {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some((days * 86_400 + h * 3_600 + mi * 60 + sec) as f64)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date: count in 400-year eras
/// of 146097 days, with years starting in March so the leap day comes last.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = (m + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The job id from `sbatch --parsable`: `70` or `70;cluster`.
pub fn parse_sbatch_id(data: &[u8]) -> Result<String> {
    let text = String::from_utf8_lossy(data);
    let first = lines(&text).next().map(str::trim).unwrap_or("");
    let id = first.split(';').next().unwrap_or("").trim();
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(id.to_owned());
    }
    let mut shown: String = text.chars().take(200).collect();
    if shown.len() < text.len() {
        shown.push_str("...");
    }
    Err(Error::parse(
        "slurm",
        format!(
            "expected the job id from sbatch --parsable (\"70\" or \"70;cluster\"), got {shown:?}"
        ),
    ))
}

#[cfg(test)]
#[path = "slurm_tests.rs"]
mod tests;
