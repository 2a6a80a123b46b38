//! The other Slurm listings molq asks for: the tasks of one job while it is
//! being cancelled, and the queue and accounting searched for submissions
//! whose id was never recorded.
//!
//! ```text
//! squeue -h -r -j <id> -o '%i|%T'                              (SQUEUE_TASKS_FORMAT)
//! squeue --me -h -o '%i|%k|%o'                                 (SQUEUE_MARKS_FORMAT)
//! sacct -X -n -P -o JobIDRaw,Comment,SubmitLine -S now-7days   (SACCT_MARKS_FIELDS)
//! ```
//!
//! molq marks each job it submits with the comment `molq:<job id>`, and its
//! batch script lies in the job's directory; either finds the job again.

use super::lines;
use super::slurm::{job_state, Source};

/// The squeue `-o` format of [`parse_live_tasks`]: id (`<id>_<task>` for an
/// array task, with `-r`), state (long name).
pub const SQUEUE_TASKS_FORMAT: &str = "%i|%T";
/// The squeue `-o` format of [`find_submissions`] from the queue: id,
/// comment, command (the batch script).
pub const SQUEUE_MARKS_FORMAT: &str = "%i|%k|%o";
/// The sacct `-o` fields of [`find_submissions`] from accounting (with `-P`).
pub const SACCT_MARKS_FIELDS: &str = "JobIDRaw,Comment,SubmitLine";

/// What molq puts in front of its job id in a job's comment.
const MARK: &str = "molq:";

/// A part of a job that has not ended (pending, running, completing...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveTask {
    /// The job's id, or `<id>_<task>` for an array task.
    pub scheduler_job_id: String,
    /// Slurm's word for its state (`RUNNING`...), as printed.
    pub state: String,
}

/// The parts of a job that live on, from `squeue -o SQUEUE_TASKS_FORMAT`:
/// every line but those in a state that is over (squeue keeps an ended job
/// for MinJobAge). A state word Slurm may add later counts as alive.
pub fn parse_live_tasks(data: &[u8]) -> Vec<LiveTask> {
    let text = String::from_utf8_lossy(data);
    lines(&text)
        .filter_map(|line| {
            let (id, state) = line.trim().split_once('|').unwrap_or((line.trim(), ""));
            let over = job_state(state, Source::Sacct).is_some_and(|s| s.is_terminal());
            (!id.is_empty() && !over).then(|| LiveTask {
                scheduler_job_id: id.to_owned(),
                state: state.to_owned(),
            })
        })
        .collect()
}

/// Which listing [`find_submissions`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarksSource {
    /// `squeue -o SQUEUE_MARKS_FORMAT`: the command is the script path itself.
    Squeue,
    /// `sacct -o SACCT_MARKS_FIELDS`: the submit line ends with the script path.
    Sacct,
}

/// A molq job found in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub job_id: String,
    /// Slurm's id for it (an array's own id, without a task).
    pub scheduler_job_id: String,
}

/// The molq jobs of `jobs` (job id, path of its batch script, "" if none)
/// that the listing shows, by their `molq:<job id>` comment or their script;
/// each once, where first seen.
pub fn find_submissions(data: &[u8], source: MarksSource, jobs: &[(String, String)]) -> Vec<Found> {
    let text = String::from_utf8_lossy(data);
    let mut found: Vec<Found> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for line in text.lines() {
        let (sid, rest) = line.split_once('|').unwrap_or((line, ""));
        let (comment, command) = rest.split_once('|').unwrap_or((rest, ""));
        let by_mark = comment
            .strip_prefix(MARK)
            .and_then(|id| jobs.iter().find(|(job_id, _)| job_id == id));
        let by_script = || {
            jobs.iter().find(|(_, script)| {
                !script.is_empty()
                    && match source {
                        MarksSource::Squeue => command == script,
                        MarksSource::Sacct => command
                            .strip_suffix(script.as_str())
                            .is_some_and(|head| head.ends_with(' ')),
                    }
            })
        };
        if let Some((job_id, _)) = by_mark.or_else(by_script) {
            if seen.insert(job_id.as_str()) {
                found.push(Found {
                    job_id: job_id.clone(),
                    scheduler_job_id: sid.split('_').next().unwrap_or(sid).to_owned(),
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn live_tasks_leave_out_what_ended() {
        let out = b"50_1|RUNNING\n50_2|COMPLETED\n50_3|PENDING\n 51|CANCELLED \n52|COMPLETING\n53|SOME_NEW_STATE\n54\n\n";
        let got: Vec<_> = parse_live_tasks(out)
            .into_iter()
            .map(|t| (t.scheduler_job_id, t.state))
            .collect();
        let want = [
            ("50_1", "RUNNING"),
            ("50_3", "PENDING"),
            ("52", "COMPLETING"),
            ("53", "SOME_NEW_STATE"),
            ("54", ""),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        assert_eq!(got, want);
        for ended in [
            "COMPLETED",
            "CANCELLED",
            "FAILED",
            "TIMEOUT",
            "NODE_FAIL",
            "PREEMPTED",
            "BOOT_FAIL",
            "DEADLINE",
            "OUT_OF_MEMORY",
            "REVOKED",
            "SPECIAL_EXIT",
        ] {
            let line = format!("1|{ended}");
            assert!(parse_live_tasks(line.as_bytes()).is_empty(), "{ended}");
        }
        assert!(parse_live_tasks(b"").is_empty());
    }

    #[test]
    fn submissions_by_mark_or_script() {
        let wanted = jobs(&[
            ("a", "/jobs/a/run_slurm.sh"),
            ("b", "/jobs/b/run_slurm.sh"),
            ("c", ""),
            ("d", "/jobs/d d/run_slurm.sh"),
        ]);
        let squeue = b"70|molq:c|/elsewhere/x.sh\n\
71_[1-3]|molq:a|/jobs/a/run_slurm.sh\n\
71_4|molq:a|/jobs/a/run_slurm.sh\n\
72||/jobs/b/run_slurm.sh\n\
73|other|/jobs/zz/run_slurm.sh\n\
74|molq:unknown|\n";
        let pairs = |data: &[u8], source| -> Vec<(String, String)> {
            find_submissions(data, source, &wanted)
                .into_iter()
                .map(|f| (f.job_id, f.scheduler_job_id))
                .collect()
        };
        let want = |p: &[(&str, &str)]| jobs(p);
        assert_eq!(
            pairs(squeue, MarksSource::Squeue),
            want(&[("c", "70"), ("a", "71"), ("b", "72")])
        );
        let sacct = b"80|(null)|sbatch --parsable /jobs/d d/run_slurm.sh\n\
81||sbatch /jobs/b/run_slurm.sh.old\n\
82||sbatch -p x /jobs/b/run_slurm.sh\n\
83|molq:c|sbatch whatever\n";
        assert_eq!(
            pairs(sacct, MarksSource::Sacct),
            want(&[("d", "80"), ("b", "82"), ("c", "83")])
        );
        // squeue takes the script only as the whole command
        let partial = b"90||sbatch /jobs/a/run_slurm.sh\n";
        assert!(find_submissions(partial, MarksSource::Squeue, &wanted).is_empty());
    }
}
