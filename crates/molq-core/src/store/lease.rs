//! The poll lease: however many threads and processes wait on one cluster's
//! jobs, at most one of them polls its scheduler per interval; the others read
//! what that poll wrote. The lease lives in the store, next to the jobs.

use rusqlite::{params, OptionalExtension};

use super::JobStore;
use crate::error::{Result, SqlContext};
use crate::model::Timestamp;

/// Failed polls double the interval up to this many times (64x).
const MAX_BACKOFF_DOUBLINGS: i64 = 6;

/// The shared polling state of one cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct PollStatus {
    /// Who polls right now (None: nobody).
    pub holder: Option<String>,
    pub lease_until: Option<Timestamp>,
    /// When the last poll began, successful or not.
    pub last_attempt_at: Option<Timestamp>,
    /// When the last successful poll began.
    pub last_poll_at: Option<Timestamp>,
    /// Failed polls in a row (the interval backs off with them).
    pub failures: i64,
    pub last_error: Option<String>,
}

impl PollStatus {
    /// The wait between two poll attempts: `min_interval`, doubled per
    /// failure in a row (at most 64x), so an outage is not hammered.
    pub fn interval(&self, min_interval: f64) -> f64 {
        min_interval * f64::from(1u32 << self.failures.clamp(0, MAX_BACKOFF_DOUBLINGS))
    }
}

impl JobStore {
    /// Try to become the one poller of `cluster` now. `false` when another
    /// holder's lease runs, or (unless `force`) when the last attempt is more
    /// recent than the interval: the caller then reads the store instead.
    /// The lease ends at `now + lease_seconds` even if its holder dies.
    pub fn begin_poll(
        &mut self,
        cluster: &str,
        holder: &str,
        now: Timestamp,
        min_interval: f64,
        lease_seconds: f64,
        force: bool,
    ) -> Result<bool> {
        let path = self.path.clone();
        let tx = self.write()?;
        if let Some(status) = read_status(&tx, &path, cluster)? {
            let leased = status.lease_until.is_some_and(|until| until > now)
                && status.holder.as_deref() != Some(holder);
            let recent = status
                .last_attempt_at
                .is_some_and(|at| now - at < status.interval(min_interval));
            if leased || (recent && !force) {
                return Ok(false);
            }
        }
        tx.prepare_cached(
            "INSERT INTO poll_leases (cluster_name, holder, lease_until, last_attempt_at) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT(cluster_name) DO UPDATE SET \
             holder = ?2, lease_until = ?3, last_attempt_at = ?4",
        )
        .at(&path)?
        .execute(params![cluster, holder, now + lease_seconds, now])
        .at(&path)?;
        tx.commit().at(&path)?;
        Ok(true)
    }

    /// End `holder`'s poll of `cluster`: `error` None records a success.
    /// Does nothing if the lease was taken over meanwhile (it had expired).
    pub fn end_poll(&mut self, cluster: &str, holder: &str, error: Option<&str>) -> Result<()> {
        let path = self.path.clone();
        let tx = self.write()?;
        tx.prepare_cached(
            "UPDATE poll_leases SET holder = NULL, lease_until = NULL, \
             last_poll_at = CASE WHEN ?3 IS NULL THEN last_attempt_at ELSE last_poll_at END, \
             failures = CASE WHEN ?3 IS NULL THEN 0 ELSE failures + 1 END, \
             last_error = ?3 WHERE cluster_name = ?1 AND holder = ?2",
        )
        .at(&path)?
        .execute(params![cluster, holder, error])
        .at(&path)?;
        tx.commit().at(&path)
    }

    /// The shared polling state of `cluster` (None: never polled through this store).
    pub fn poll_status(&self, cluster: &str) -> Result<Option<PollStatus>> {
        read_status(&self.conn, &self.path, cluster)
    }

    /// Up to `limit` job ids starting with `prefix` (of `cluster`, or of every
    /// cluster), in order: a range scan of the primary key, O(log n).
    pub fn find_by_prefix(
        &self,
        prefix: &str,
        cluster: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>> {
        // Every id with the prefix sorts below prefix + U+10FFFF (bytewise UTF-8).
        let upper = format!("{prefix}\u{10FFFF}");
        self.conn
            .prepare_cached(
                "SELECT job_id FROM jobs WHERE job_id >= ?1 AND job_id < ?2 \
                 AND (?3 IS NULL OR cluster_name = ?3) ORDER BY job_id LIMIT ?4",
            )
            .at(&self.path)?
            .query_map(params![prefix, upper, cluster, limit as i64], |r| r.get(0))
            .at(&self.path)?
            .collect::<rusqlite::Result<Vec<String>>>()
            .at(&self.path)
    }

    /// Jobs of `cluster` still in state created since before `before`, as
    /// (job_id, job_dir): submissions whose scheduler id was never recorded.
    pub fn stale_created(&self, cluster: &str, before: Timestamp) -> Result<Vec<(String, String)>> {
        self.conn
            .prepare_cached(
                "SELECT job_id, job_dir FROM jobs WHERE cluster_name = ?1 AND state = 'created' \
                 AND created_at <= ?2 ORDER BY created_at",
            )
            .at(&self.path)?
            .query_map(params![cluster, before], |r| Ok((r.get(0)?, r.get(1)?)))
            .at(&self.path)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .at(&self.path)
    }
}

fn read_status(
    conn: &rusqlite::Connection,
    path: &str,
    cluster: &str,
) -> Result<Option<PollStatus>> {
    conn.prepare_cached(
        "SELECT holder, lease_until, last_attempt_at, last_poll_at, failures, last_error \
         FROM poll_leases WHERE cluster_name = ?1",
    )
    .at(path)?
    .query_row([cluster], |r| {
        Ok(PollStatus {
            holder: r.get(0)?,
            lease_until: r.get(1)?,
            last_attempt_at: r.get(2)?,
            last_poll_at: r.get(3)?,
            failures: r.get(4)?,
            last_error: r.get(5)?,
        })
    })
    .optional()
    .at(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> JobStore {
        JobStore::open_in_memory().expect("in-memory store")
    }

    #[test]
    fn one_holder_per_interval() {
        let mut s = store();
        assert!(s.begin_poll("c", "a", 100.0, 1.0, 30.0, false).unwrap());
        // a's lease runs: b is refused even when forcing
        assert!(!s.begin_poll("c", "b", 100.1, 1.0, 30.0, true).unwrap());
        s.end_poll("c", "a", None).unwrap();
        // too soon after a's attempt
        assert!(!s.begin_poll("c", "b", 100.5, 1.0, 30.0, false).unwrap());
        assert!(s.begin_poll("c", "b", 100.5, 1.0, 30.0, true).unwrap());
        s.end_poll("c", "b", None).unwrap();
        assert!(s.begin_poll("c", "a", 101.6, 1.0, 30.0, false).unwrap());
        let status = s.poll_status("c").unwrap().unwrap();
        assert_eq!(status.holder.as_deref(), Some("a"));
        assert_eq!(status.last_poll_at, Some(100.5));
    }

    #[test]
    fn prefix_lookup_uses_the_key_range() {
        use crate::model::NewJob;
        let mut s = store();
        for (id, cluster) in [("ab1", "c"), ("ab2", "d"), ("abc", "c"), ("b", "c")] {
            let job = NewJob {
                job_id: id.into(),
                cluster_name: cluster.into(),
                scheduler: "local".into(),
                root_job_id: String::new(),
                attempt: 1,
                previous_attempt_job_id: None,
                retry_group_id: None,
                command_type: "argv".into(),
                command_display: "x".into(),
                cwd: "/".into(),
                job_dir: "/".into(),
                metadata: vec![],
                request_json: "{}".into(),
                retry_json: None,
                profile_name: None,
                array: false,
            };
            s.register_job(&job, &[], 1.0).unwrap();
        }
        assert_eq!(
            s.find_by_prefix("ab", None, 10).unwrap(),
            ["ab1", "ab2", "abc"]
        );
        assert_eq!(
            s.find_by_prefix("ab", Some("c"), 10).unwrap(),
            ["ab1", "abc"]
        );
        assert_eq!(s.find_by_prefix("ab", None, 2).unwrap(), ["ab1", "ab2"]);
        assert!(s.find_by_prefix("zz", None, 10).unwrap().is_empty());
    }

    #[test]
    fn clusters_are_independent() {
        let mut s = store();
        assert!(s.begin_poll("c1", "a", 100.0, 1.0, 30.0, false).unwrap());
        assert!(s.begin_poll("c2", "b", 100.0, 1.0, 30.0, false).unwrap());
    }

    #[test]
    fn an_expired_lease_is_taken_over_and_its_late_end_ignored() {
        let mut s = store();
        assert!(s.begin_poll("c", "dead", 100.0, 1.0, 5.0, false).unwrap());
        assert!(!s.begin_poll("c", "b", 104.0, 1.0, 5.0, false).unwrap());
        assert!(s.begin_poll("c", "b", 105.5, 1.0, 5.0, false).unwrap());
        s.end_poll("c", "dead", Some("late")).unwrap();
        let status = s.poll_status("c").unwrap().unwrap();
        assert_eq!((status.holder.as_deref(), status.failures), (Some("b"), 0));
    }

    #[test]
    fn failures_back_off_and_a_success_resets() {
        let mut s = store();
        let mut now = 100.0;
        for expected_wait in [2.0, 4.0, 8.0] {
            assert!(s.begin_poll("c", "a", now, 1.0, 30.0, false).unwrap());
            s.end_poll("c", "a", Some("squeue: Unable to contact slurm controller"))
                .unwrap();
            assert!(!s
                .begin_poll("c", "a", now + expected_wait - 0.1, 1.0, 30.0, false)
                .unwrap());
            now += expected_wait;
        }
        assert!(s.begin_poll("c", "a", now, 1.0, 30.0, false).unwrap());
        s.end_poll("c", "a", None).unwrap();
        let status = s.poll_status("c").unwrap().unwrap();
        assert_eq!((status.failures, status.last_error), (0, None));
        assert!(s.begin_poll("c", "a", now + 1.0, 1.0, 30.0, false).unwrap());
    }
}
