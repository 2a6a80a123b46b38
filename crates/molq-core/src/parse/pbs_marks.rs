//! PBS's full job listing, searched for submissions whose id was never
//! recorded.
//!
//! ```text
//! qstat -x -f -F json     PBS Pro: every job the server holds, history too
//! qstat -f                Torque: every job (completed ones for keep_completed)
//! ```
//!
//! molq marks each job with the variable `MOLQ_JOB_ID=<job id>` (`qsub -v`),
//! which PBS keeps in the job's `Variable_List`: a JSON object in PBS Pro's
//! `-F json`, `name=value` pairs joined by `,` in `-f` text (cut over
//! continuation lines, which are joined first). tracejob prints no variables,
//! so a job the server has forgotten is found only by the file its script
//! writes into its job directory.

use std::collections::HashSet;

use super::json::{Flex, InOrder};
use super::pbs::{key, Key};
use super::slurm::Found;

/// The variable molq sets on each job (`qsub -v MOLQ_JOB_ID=<job id>`).
pub const MARK_VARIABLE: &str = "MOLQ_JOB_ID";

#[derive(serde::Deserialize, Default)]
struct JsonJob {
    #[serde(rename = "Variable_List", default)]
    variables: InOrder<Flex>,
}

#[derive(serde::Deserialize)]
struct JsonTop {
    #[serde(rename = "Jobs", default)]
    jobs: InOrder<JsonJob>,
}

/// The molq jobs of `jobs` (their ids) that a `qstat -f` listing (JSON or
/// text) shows by their `MOLQ_JOB_ID` variable, with PBS's id for each (`123`,
/// or `123[]` for an array, also when only a subjob names it); each once,
/// where first seen. Unreadable JSON finds nothing.
pub fn find_submissions(data: &[u8], jobs: &[String]) -> Vec<Found> {
    let text = String::from_utf8_lossy(data);
    let marked = if text.trim_start().starts_with('{') {
        json_marks(&text)
    } else {
        text_marks(&text)
    };
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    for (id, mark) in marked {
        let sid = match key(&id) {
            Ok(Key::Job(n) | Key::Array(n) | Key::Task(n, _)) => n,
            Err(_) => continue,
        };
        if let Some(job_id) = jobs.iter().find(|j| **j == mark) {
            if seen.insert(job_id.as_str()) {
                found.push(Found {
                    job_id: job_id.clone(),
                    scheduler_job_id: sid,
                });
            }
        }
    }
    found
}

/// (PBS id, molq job id) of each job whose Variable_List carries the mark.
fn json_marks(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for doc in serde_json::Deserializer::from_str(text).into_iter::<JsonTop>() {
        let Ok(doc) = doc else { break };
        for (id, job) in doc.jobs.0 {
            if let Some((_, v)) = job.variables.0.iter().find(|(k, _)| k == MARK_VARIABLE) {
                out.push((id.clone(), v.as_str().to_owned()));
            }
        }
    }
    out
}

/// `qstat -f` text: the `Variable_List` of each `Job Id:` block, with its
/// continuation lines (they begin with a TAB) joined back.
fn text_marks(text: &str) -> Vec<(String, String)> {
    let mut lists: Vec<(String, String)> = Vec::new();
    let mut id: Option<&str> = None;
    let mut open = false;
    for line in text.lines().map(|l| l.trim_end_matches('\r')) {
        if let Some(rest) = line.strip_prefix("Job Id:") {
            id = Some(rest.trim());
            open = false;
        } else if let (Some(id), Some(value)) = (id, line.strip_prefix("    Variable_List = ")) {
            lists.push((id.to_owned(), value.to_owned()));
            open = true;
        } else if let (true, Some(more), Some(last)) =
            (open, line.strip_prefix('\t'), lists.last_mut())
        {
            last.1.push_str(more);
        } else {
            open = false;
        }
    }
    let prefix = format!("{MARK_VARIABLE}=");
    lists
        .into_iter()
        .filter_map(|(id, vars)| {
            let mark = vars
                .split(',')
                .find_map(|p| p.trim().strip_prefix(&prefix))?;
            Some((id, mark.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(data: &str, wanted: &[&str]) -> Vec<(String, String)> {
        let wanted: Vec<String> = wanted.iter().map(|s| (*s).to_owned()).collect();
        find_submissions(data.as_bytes(), &wanted)
            .into_iter()
            .map(|f| (f.job_id, f.scheduler_job_id))
            .collect()
    }

    fn want(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn pbspro_json_history_and_arrays() {
        let json = r#"{"timestamp":1,"pbs_version":"2022.1.1","pbs_server":"srv","Jobs":{
"101.srv":{"job_state":"F","Variable_List":{"PBS_O_HOME":"/home/a","MOLQ_JOB_ID":"j1"}},
"102[].srv":{"job_state":"B","Variable_List":{"MOLQ_JOB_ID":"j2","PBS_O_WORKDIR":"/w"}},
"102[1].srv":{"job_state":"R","Variable_List":{"MOLQ_JOB_ID":"j2"}},
"103.srv":{"job_state":"Q","Variable_List":{"PBS_O_HOME":"/home/a"}},
"104[3].srv":{"job_state":"X","Variable_List":{"MOLQ_JOB_ID":"j4"}},
"105.srv":{"job_state":"R"}}}"#;
        assert_eq!(
            pairs(json, &["j1", "j2", "j3", "j4"]),
            want(&[("j1", "101"), ("j2", "102[]"), ("j4", "104[]")])
        );
        assert!(pairs("{ not json", &["j1"]).is_empty());
        assert!(pairs(r#"{"timestamp":1}"#, &["j1"]).is_empty());
    }

    #[test]
    fn torque_text_with_a_list_cut_over_lines() {
        let text = "Job Id: 201.srv.example.org\n    Job_Name = a\n    Variable_List = PBS_O_QUEUE=batch,PBS_O_HOME=/home/alice,MOLQ_JOB_I\n\tD=j1,PBS_O_HOST=login01\n    euser = alice\n\n\
Job Id: 202.srv\n    Variable_List = PBS_O_HOME=/h,MOLQ_JOB_ID=j2\n\n\
Job Id: 203.srv\n    Variable_List = PBS_O_HOME=/h,XMOLQ_JOB_ID=j3\n    job_state = Q\n";
        assert_eq!(
            pairs(text, &["j1", "j2", "j3"]),
            want(&[("j1", "201"), ("j2", "202")])
        );
    }
}
