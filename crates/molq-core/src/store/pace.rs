//! The pace of scheduler commands: one token bucket per cluster, kept in the
//! store so that every process using it draws from the same bucket. Each
//! command (a submit, a poll, a cancel...) takes a token; an empty bucket
//! answers how long until the next one, and the caller waits (the core never
//! sleeps, nor reads a clock: `now` is passed in).

use rusqlite::{params, OptionalExtension};

use super::JobStore;
use crate::error::{Result, SqlContext};
use crate::model::Timestamp;

impl JobStore {
    /// Take one of `cluster`'s command tokens at `now`: 0.0 when taken, else
    /// the seconds until one is due (nothing is taken). The bucket refills
    /// at `per_second` up to `burst` tokens (at least 1) and starts full. A
    /// `per_second` that is not above 0 paces nothing.
    pub fn take_command_token(
        &mut self,
        cluster: &str,
        now: Timestamp,
        per_second: f64,
        burst: f64,
    ) -> Result<f64> {
        // NaN too: only a positive rate paces
        if per_second.is_nan() || per_second <= 0.0 {
            return Ok(0.0);
        }
        let burst = burst.max(1.0);
        // Not a job row: the active sets read before stay current.
        self.on_lease(|s| {
            let path = s.path.clone();
            let tx = s.write()?;
            let stored: Option<(f64, f64)> = tx
                .prepare_cached(
                    "SELECT tokens, refilled_at FROM command_buckets WHERE cluster_name = ?1",
                )
                .at(&path)?
                .query_row([cluster], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .at(&path)?;
            let (tokens, refilled_at) = stored.unwrap_or((burst, now));
            // A clock that went back refills nothing (and does not drain either).
            let elapsed = (now - refilled_at).max(0.0);
            let tokens = (tokens + elapsed * per_second).min(burst);
            let refilled_at = refilled_at.max(now);
            let (left, wait) = if tokens >= 1.0 {
                (tokens - 1.0, 0.0)
            } else {
                (tokens, (1.0 - tokens) / per_second)
            };
            tx.prepare_cached(
                "INSERT INTO command_buckets (cluster_name, tokens, refilled_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(cluster_name) DO UPDATE SET tokens = ?2, refilled_at = ?3",
            )
            .at(&path)?
            .execute(params![cluster, left, refilled_at])
            .at(&path)?;
            tx.commit().at(&path)?;
            Ok(wait)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_gives_its_burst_then_paces() {
        let mut s = JobStore::open_in_memory().unwrap();
        for _ in 0..3 {
            assert_eq!(s.take_command_token("c", 100.0, 2.0, 3.0).unwrap(), 0.0);
        }
        let wait = s.take_command_token("c", 100.0, 2.0, 3.0).unwrap();
        assert!((wait - 0.5).abs() < 1e-9, "{wait}");
        // half a second later one token has come back
        assert_eq!(s.take_command_token("c", 100.5, 2.0, 3.0).unwrap(), 0.0);
        assert!(s.take_command_token("c", 100.5, 2.0, 3.0).unwrap() > 0.0);
        // never more than the burst, however long the wait
        for _ in 0..3 {
            assert_eq!(s.take_command_token("c", 1000.0, 2.0, 3.0).unwrap(), 0.0);
        }
        assert!(s.take_command_token("c", 1000.0, 2.0, 3.0).unwrap() > 0.0);
    }

    #[test]
    fn clusters_have_their_own_buckets_and_no_rate_means_no_pace() {
        let mut s = JobStore::open_in_memory().unwrap();
        assert_eq!(s.take_command_token("a", 1.0, 1.0, 1.0).unwrap(), 0.0);
        assert!(s.take_command_token("a", 1.0, 1.0, 1.0).unwrap() > 0.0);
        assert_eq!(s.take_command_token("b", 1.0, 1.0, 1.0).unwrap(), 0.0);
        assert_eq!(s.take_command_token("a", 1.0, 0.0, 1.0).unwrap(), 0.0);
    }

    #[test]
    fn a_clock_going_back_does_not_refill() {
        let mut s = JobStore::open_in_memory().unwrap();
        assert_eq!(s.take_command_token("c", 50.0, 1.0, 1.0).unwrap(), 0.0);
        assert!(s.take_command_token("c", 10.0, 1.0, 1.0).unwrap() > 0.0);
        assert_eq!(s.take_command_token("c", 51.0, 1.0, 1.0).unwrap(), 0.0);
    }

    #[test]
    fn two_connections_share_one_bucket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.db");
        let path = path.to_str().unwrap();
        let t = std::time::Duration::from_secs(10);
        let mut a = JobStore::open(path, t).unwrap();
        let mut b = JobStore::open(path, t).unwrap();
        assert_eq!(a.take_command_token("c", 5.0, 1.0, 2.0).unwrap(), 0.0);
        assert_eq!(b.take_command_token("c", 5.0, 1.0, 2.0).unwrap(), 0.0);
        assert!(a.take_command_token("c", 5.0, 1.0, 2.0).unwrap() > 0.0);
        assert!(b.take_command_token("c", 5.0, 1.0, 2.0).unwrap() > 0.0);
    }
}
