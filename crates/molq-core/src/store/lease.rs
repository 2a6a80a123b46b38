//! Leases and claims, the store's two kinds of "this process does it":
//!
//! - the poll lease: however many threads and processes wait on one cluster's
//!   jobs, at most one of them polls its scheduler per interval; the others
//!   read what that poll wrote;
//! - retry claims: each due retry is submitted by exactly one process.
//!
//! Both name their holder (the caller's token: host, pid and process start
//! time), so no lease or claim outlives its holder: a caller that finds one
//! held by a process it knows has died takes it over at once
//! ([`JobStore::take_over_poll`], the `dead_holders` of
//! [`JobStore::claim_due_retries`]). Deciding that a process died is the
//! caller's part; the core only records and compares names.

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
        self.on_lease(|s| {
            let path = s.path.clone();
            let tx = s.write()?;
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
        })
    }

    /// Take the poll lease of `cluster` from `dead`, a holder the caller
    /// knows has died (mid-poll: its lease would otherwise run to its end).
    /// Compare-and-set: `false` if `dead` no longer holds it. The dead poll
    /// counts as a failed one, so a poll that kills its poller backs off.
    pub fn take_over_poll(
        &mut self,
        cluster: &str,
        dead: &str,
        holder: &str,
        now: Timestamp,
        lease_seconds: f64,
    ) -> Result<bool> {
        self.on_lease(|s| {
            let path = s.path.clone();
            let tx = s.write()?;
            let n = tx
                .prepare_cached(
                    "UPDATE poll_leases SET holder = ?3, lease_until = ?4, last_attempt_at = ?5, \
                     failures = failures + 1, last_error = ?6 \
                     WHERE cluster_name = ?1 AND holder = ?2",
                )
                .at(&path)?
                .execute(params![
                    cluster,
                    dead,
                    holder,
                    now + lease_seconds,
                    now,
                    format!("the poller {dead} died during its poll")
                ])
                .at(&path)?;
            tx.commit().at(&path)?;
            Ok(n == 1)
        })
    }

    /// End `holder`'s poll of `cluster`: `error` None records a success.
    /// Does nothing if the lease was taken over meanwhile (it had expired).
    pub fn end_poll(&mut self, cluster: &str, holder: &str, error: Option<&str>) -> Result<()> {
        self.on_lease(|s| {
            let path = s.path.clone();
            let tx = s.write()?;
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
        })
    }

    /// The shared polling state of `cluster` (None: never polled through this store).
    pub fn poll_status(&self, cluster: &str) -> Result<Option<PollStatus>> {
        read_status(&self.conn, &self.path, cluster)
    }

    /// The holders of the retry claims of `cluster` now (the caller checks
    /// which of them died and passes those to [`JobStore::claim_due_retries`]).
    pub fn retry_claim_holders(&self, cluster: &str) -> Result<Vec<String>> {
        self.conn
            .prepare_cached(
                "SELECT DISTINCT retry_claimed_by FROM jobs WHERE cluster_name = ?1 \
                 AND retry_state = 'claimed' AND retry_claimed_by IS NOT NULL",
            )
            .at(&self.path)?
            .query_map([cluster], |r| r.get(0))
            .at(&self.path)?
            .collect::<rusqlite::Result<Vec<String>>>()
            .at(&self.path)
    }

    /// Claim for `holder` the retries of `cluster` that are due (scheduled ->
    /// claimed); each is claimed by exactly one caller. First, in the same
    /// transaction, the claims of `dead_holders` (and claims naming no holder,
    /// left by molq before schema 4) are given back: as done when their next
    /// attempt was already registered (the holder died after that), else
    /// scheduled again, so they are claimed here.
    pub fn claim_due_retries(
        &mut self,
        cluster: &str,
        now: Timestamp,
        holder: &str,
        dead_holders: &[String],
    ) -> Result<Vec<String>> {
        let path = self.path.clone();
        let tx = self.write()?;
        {
            let mut release = tx
                .prepare_cached(
                    "UPDATE jobs SET retry_claimed_by = NULL, retry_state = CASE WHEN EXISTS \
                     (SELECT 1 FROM jobs AS later WHERE later.root_job_id = jobs.root_job_id \
                     AND later.attempt > jobs.attempt) THEN 'done' ELSE 'scheduled' END \
                     WHERE cluster_name = ?1 AND retry_state = 'claimed' \
                     AND (retry_claimed_by IS ?2)",
                )
                .at(&path)?;
            release
                .execute(params![cluster, Option::<&str>::None])
                .at(&path)?;
            for dead in dead_holders {
                release.execute(params![cluster, dead]).at(&path)?;
            }
        }
        let ids = tx
            .prepare_cached(
                "UPDATE jobs SET retry_state = 'claimed', retry_claimed_by = ?3 \
                 WHERE cluster_name = ?1 AND retry_state = 'scheduled' AND retry_due_at <= ?2 \
                 RETURNING job_id",
            )
            .at(&path)?
            .query_map(params![cluster, now, holder], |r| r.get(0))
            .at(&path)?
            .collect::<rusqlite::Result<Vec<String>>>()
            .at(&path)?;
        tx.commit().at(&path)?;
        Ok(ids)
    }

    /// Claimed -> done, once the next attempt is registered. `false` if the
    /// retry was not claimed.
    pub fn finish_retry(&mut self, job_id: &str) -> Result<bool> {
        let path = self.path.clone();
        let tx = self.write()?;
        super::current_state(&tx, &path, job_id)?;
        let n = tx
            .prepare_cached(
                "UPDATE jobs SET retry_state = 'done' WHERE job_id = ?1 AND retry_state = 'claimed'",
            )
            .at(&path)?
            .execute([job_id])
            .at(&path)?;
        tx.commit().at(&path)?;
        Ok(n == 1)
    }

    /// Schedule a retry of `job_id` (an ended attempt with no retry yet, or
    /// one whose retry the caller claimed) at `due_at`: used when an attempt
    /// could not be submitted for a passing reason, so the next try is a due
    /// time in the store rather than a sleep. `false` if the job has not
    /// ended, or its retry is scheduled, done or cancelled already.
    pub fn schedule_retry(&mut self, job_id: &str, due_at: Timestamp) -> Result<bool> {
        let path = self.path.clone();
        let tx = self.write()?;
        super::current_state(&tx, &path, job_id)?;
        let n = tx
            .prepare_cached(&format!(
                "UPDATE jobs SET retry_state = 'scheduled', retry_due_at = ?2, retry_claimed_by = NULL \
                 WHERE job_id = ?1 AND (retry_state IS NULL OR retry_state = 'claimed') \
                 AND state IN {}",
                crate::state::JobState::TERMINAL_SQL
            ))
            .at(&path)?
            .execute(params![job_id, due_at])
            .at(&path)?;
        tx.commit().at(&path)?;
        Ok(n == 1)
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
    fn a_dead_holders_lease_is_taken_over_at_once() {
        let mut s = store();
        assert!(s.begin_poll("c", "dead", 100.0, 1.0, 120.0, false).unwrap());
        assert!(!s.begin_poll("c", "b", 100.5, 1.0, 120.0, true).unwrap());
        assert!(!s
            .take_over_poll("c", "someone else", "b", 100.5, 120.0)
            .unwrap());
        assert!(s.take_over_poll("c", "dead", "b", 100.5, 120.0).unwrap());
        assert!(
            !s.take_over_poll("c", "dead", "x", 100.6, 120.0).unwrap(),
            "once"
        );
        let status = s.poll_status("c").unwrap().unwrap();
        assert_eq!((status.holder.as_deref(), status.failures), (Some("b"), 1));
        assert!(status.last_error.unwrap().contains("dead"));
        s.end_poll("c", "b", None).unwrap();
        assert_eq!(s.poll_status("c").unwrap().unwrap().failures, 0);
    }

    fn failed(s: &mut JobStore, id: &str, root: &str, attempt: i64, retry: bool) {
        use crate::model::NewJob;
        let job = NewJob {
            job_id: id.into(),
            cluster_name: "c".into(),
            scheduler: "local".into(),
            root_job_id: root.into(),
            attempt,
            command_type: "argv".into(),
            request_json: "{}".into(),
            ..NewJob::default()
        };
        s.register_job(&job, &[], 1.0).unwrap();
        s.mark_failed(id, "boom", 2.0).unwrap();
        if retry {
            assert!(s.schedule_retry(id, 3.0).unwrap());
            assert!(!s.schedule_retry(id, 3.0).unwrap(), "one retry per attempt");
        }
    }

    #[test]
    fn a_dead_holders_claims_are_given_back() {
        let mut s = store();
        failed(&mut s, "a1", "a1", 1, true);
        failed(&mut s, "b1", "b1", 1, true);
        assert_eq!(
            s.claim_due_retries("c", 5.0, "dead", &[]).unwrap(),
            ["a1", "b1"]
        );
        // The holder died after registering b1's next attempt, before finishing.
        failed(&mut s, "b2", "b1", 2, false);
        assert_eq!(s.retry_claim_holders("c").unwrap(), ["dead"]);
        assert!(
            s.claim_due_retries("c", 6.0, "live", &[])
                .unwrap()
                .is_empty(),
            "held"
        );
        let claimed = s
            .claim_due_retries("c", 6.0, "live", &["dead".into()])
            .unwrap();
        assert_eq!(claimed, ["a1"], "b1 is done: its next attempt exists");
        assert_eq!(
            s.get_job("b1").unwrap().unwrap().retry_state(),
            Some("done")
        );
        assert_eq!(s.retry_claim_holders("c").unwrap(), ["live"]);
    }

    #[test]
    fn schedule_retry_needs_an_ended_job() {
        use crate::model::NewJob;
        let mut s = store();
        let job = NewJob {
            job_id: "r".into(),
            cluster_name: "c".into(),
            scheduler: "local".into(),
            command_type: "argv".into(),
            request_json: "{}".into(),
            ..NewJob::default()
        };
        s.register_job(&job, &[], 1.0).unwrap();
        assert!(!s.schedule_retry("r", 3.0).unwrap());
        assert!(s.schedule_retry("nope", 3.0).is_err());
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
