//! Grid Engine's full job listing, searched for submissions whose id was
//! never recorded.
//!
//! ```text
//! qstat -j '*'        every job qmaster holds, one block each
//! ```
//!
//! Each block starts with a line of `=` and lists `key: value` lines, among
//! them `job_number` (an array's own number), `script_file` (the script path
//! as qsub was given it) and `context` (`name=value` pairs joined by `,`, set
//! with `qsub -ac`). molq marks each job with the context `molq=<job id>`, and
//! its script lies in the job's directory; either finds the job again. Grid
//! Engine's accounting keeps neither (qacct prints no context, working
//! directory or script), so a job that has left qmaster is found only by the
//! file its script writes into its job directory.

use std::collections::HashSet;

use super::lines;
use super::slurm::Found;

/// The context variable molq sets on each job (`qsub -ac molq=<job id>`).
pub const MARK_VARIABLE: &str = "molq";

/// One block of `qstat -j` output, as far as molq reads it.
#[derive(Default)]
struct Block<'a> {
    number: &'a str,
    script: &'a str,
    context: &'a str,
}

/// The molq jobs of `jobs` (job id, path of its job script, "" if none) that
/// `qstat -j '*'` shows, by their `molq=<job id>` context or their script;
/// each once, where first seen.
pub fn find_submissions(data: &[u8], jobs: &[(String, String)]) -> Vec<Found> {
    let text = String::from_utf8_lossy(data);
    let mut blocks: Vec<Block<'_>> = Vec::new();
    for line in lines(&text) {
        if line.trim_start().starts_with("=====") {
            blocks.push(Block::default());
            continue;
        }
        let Some(block) = blocks.last_mut() else {
            continue;
        };
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "job_number" => block.number = value,
            "script_file" => block.script = value,
            "context" => block.context = value,
            _ => {}
        }
    }
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    for block in blocks {
        if block.number.is_empty() || !block.number.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let marked = block.context.split(',').find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            (name.trim() == MARK_VARIABLE).then_some(value.trim())
        });
        let by_mark = marked.and_then(|id| jobs.iter().find(|(job_id, _)| job_id == id));
        let by_script = || {
            jobs.iter()
                .find(|(_, script)| !script.is_empty() && script == block.script)
        };
        if let Some((job_id, _)) = by_mark.or_else(by_script) {
            if seen.insert(job_id.as_str()) {
                found.push(Found {
                    job_id: job_id.clone(),
                    scheduler_job_id: block.number.to_owned(),
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::super::recorded;
    use super::*;

    fn jobs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    fn pairs(data: &[u8], wanted: &[(String, String)]) -> Vec<(String, String)> {
        find_submissions(data, wanted)
            .into_iter()
            .map(|f| (f.job_id, f.scheduler_job_id))
            .collect()
    }

    #[test]
    fn recorded_listing_by_context_or_script() {
        let (rc, stdout, _) = recorded("sge", "qstat_j_marked");
        assert_eq!(rc, 0);
        let wanted = jobs(&[
            ("11111111-aaaa-4bbb-8ccc-000000000001", ""),
            ("11111111-aaaa-4bbb-8ccc-000000000002", ""),
            ("unmarked", "/tmp/molq-sge-fixtures/jobs/c/run_sge.sh"),
            ("absent", "/nowhere/run_sge.sh"),
        ]);
        let got = pairs(&stdout, &wanted);
        let want: Vec<(String, String)> = [
            ("11111111-aaaa-4bbb-8ccc-000000000001", "12"),
            ("11111111-aaaa-4bbb-8ccc-000000000002", "13"),
            ("unmarked", "14"),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn context_among_others_and_first_block_wins() {
        let data = b"==============================================================\n\
job_number:                 7\n\
script_file:                /x/run_sge.sh\n\
context:                    a=b,molq=j1,c=d\n\
==============================================================\n\
job_number:                 8\n\
context:                    molq=j1\n\
==============================================================\n\
job_number:                 9\n\
context:                    xmolq=j2,molq2=j2\n";
        let wanted = jobs(&[("j1", ""), ("j2", "")]);
        assert_eq!(pairs(data, &wanted), jobs(&[("j1", "7")]));
        assert!(find_submissions(b"", &wanted).is_empty());
        // a context line outside any block, a block without a number
        let stray = b"context: molq=j1\n=====\ncontext: molq=j2\n";
        assert!(find_submissions(stray, &wanted).is_empty());
    }
}
