//! LSF's job listing, searched for submissions whose id was never recorded.
//!
//! ```text
//! bjobs -a -noheader -o "<BJOBS_MARKS_FORMAT>"   the caller's jobs, recently finished too
//! ```
//!
//! molq marks each job with the description `molq:<job id>` (`bsub -Jd`);
//! every element of an array lists under the array's id. bhist prints no
//! description, so a job LSF has cleaned from bjobs is found only by the
//! file its script writes into its job directory.

use std::collections::HashSet;

use super::lines;
use super::slurm::Found;

/// The `bjobs -o` argument [`find_submissions`] reads: id, description.
pub const BJOBS_MARKS_FORMAT: &str = "jobid job_description delimiter='|'";

/// What molq puts in front of its job id in a job's description.
pub const MARK: &str = "molq:";

/// The molq jobs of `jobs` (their ids) that `bjobs -o BJOBS_MARKS_FORMAT`
/// shows by their `molq:<job id>` description; each once, where first seen.
pub fn find_submissions(data: &[u8], jobs: &[String]) -> Vec<Found> {
    let text = String::from_utf8_lossy(data);
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    for line in lines(&text) {
        let (sid, description) = line.split_once('|').unwrap_or((line, ""));
        let sid = sid.trim();
        if sid.is_empty() || !sid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Some(mark) = description.trim().strip_prefix(MARK) else {
            continue;
        };
        if let Some(job_id) = jobs.iter().find(|j| **j == mark) {
            if seen.insert(job_id.as_str()) {
                found.push(Found {
                    job_id: job_id.clone(),
                    scheduler_job_id: sid.to_owned(),
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_description_arrays_once() {
        let out = b"301|molq:j1\n302|molq:j2\n302|molq:j2\n303|-\n304|molq:other\n305|xmolq:j3\nJOBID|JOB_DESCRIPTION\n\n";
        let wanted: Vec<String> = ["j1", "j2", "j3"].iter().map(|s| (*s).to_owned()).collect();
        let got: Vec<(String, String)> = find_submissions(out, &wanted)
            .into_iter()
            .map(|f| (f.job_id, f.scheduler_job_id))
            .collect();
        let want: Vec<(String, String)> = [("j1", "301"), ("j2", "302")]
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        assert_eq!(got, want);
        assert!(find_submissions(b"", &wanted).is_empty());
    }
}
