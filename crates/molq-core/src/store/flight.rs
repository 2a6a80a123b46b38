//! Jobs in flight: a cap on how many of a cluster's jobs the scheduler has
//! at once, over every process sharing the store.
//!
//! A job is in flight from its registration until it ends, unless molq holds
//! it back: a held job waits in state queued with no scheduler id (`held =
//! 1`). Registration decides, under the write lock, whether a new job fits;
//! [`JobStore::claim_held`] later takes the held jobs that fit, oldest first,
//! for one caller to hand over (the claim clears the flag, so the job counts
//! as in flight from then on and no other caller can take it). A claimed job
//! that never got its scheduler id is an interrupted submission, found by
//! [`JobStore::interrupted_submissions`] like a created one.
//!
//! The caps are the caller's: each process passes its own, and every job of
//! the cluster counts toward them, whoever submitted it.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

use super::JobStore;
use crate::error::{Result, SqlContext};
use crate::model::{Timestamp, Transition};
use crate::state::JobState;

/// How many of a cluster's jobs may be in flight at once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlightCaps {
    /// For the whole cluster (None: no cap).
    pub cluster: Option<i64>,
    /// For named partitions, each counted apart: a job counts toward the cap
    /// of the partition it asked for (a job that names none, toward none).
    pub partitions: Vec<(String, i64)>,
}

impl FlightCaps {
    /// No cap at all: every job goes straight to the scheduler.
    pub fn is_empty(&self) -> bool {
        self.cluster.is_none() && self.partitions.is_empty()
    }

    fn of_partition(&self, partition: &str) -> Option<i64> {
        self.partitions
            .iter()
            .find(|(name, _)| name == partition)
            .map(|(_, cap)| *cap)
    }
}

/// A submission whose scheduler id was never recorded: a created job, or a
/// held one claimed for its hand-over. `since` is when it was handed over
/// (its registration, or its claim).
#[derive(Debug, Clone, PartialEq)]
pub struct Unrecorded {
    pub job_id: String,
    pub job_dir: String,
    pub since: Timestamp,
}

/// The room the caps leave, counted once per transaction and kept up to
/// date as jobs are let through.
struct Room<'a> {
    caps: &'a FlightCaps,
    cluster: &'a str,
    in_flight: i64,
    by_partition: HashMap<String, i64>,
}

impl<'a> Room<'a> {
    fn count(
        conn: &Connection,
        path: &str,
        cluster: &'a str,
        caps: &'a FlightCaps,
    ) -> Result<Self> {
        let in_flight = if caps.cluster.is_some() {
            in_flight(conn, path, cluster, None)?
        } else {
            0
        };
        Ok(Room {
            caps,
            cluster,
            in_flight,
            by_partition: HashMap::new(),
        })
    }

    /// Why a job of `partition` cannot go now (None: it fits).
    fn full(
        &mut self,
        conn: &Connection,
        path: &str,
        partition: Option<&str>,
    ) -> Result<Option<String>> {
        if let Some(cap) = self.caps.cluster {
            if self.in_flight >= cap {
                return Ok(Some(format!(
                    "held by molq: {} of {cap} in flight",
                    self.in_flight
                )));
            }
        }
        let Some((name, cap)) = partition.and_then(|p| Some((p, self.caps.of_partition(p)?)))
        else {
            return Ok(None);
        };
        let n = self.partition_count(conn, path, name)?;
        Ok((n >= cap)
            .then(|| format!("held by molq: {n} of {cap} in flight in partition {name:?}")))
    }

    fn partition_count(&mut self, conn: &Connection, path: &str, name: &str) -> Result<i64> {
        if let Some(n) = self.by_partition.get(name) {
            return Ok(*n);
        }
        let n = in_flight(conn, path, self.cluster, Some(name))?;
        self.by_partition.insert(name.to_owned(), n);
        Ok(n)
    }

    /// Count a job of `partition` as in flight (call after `full` said it fits).
    fn take(&mut self, partition: Option<&str>) {
        self.in_flight += 1;
        if let Some(n) = partition.and_then(|p| self.by_partition.get_mut(p)) {
            *n += 1;
        }
    }

    /// No held job can fit any more (there is a cluster cap and it is reached).
    fn cluster_full(&self) -> bool {
        self.caps.cluster.is_some_and(|cap| self.in_flight >= cap)
    }
}

/// Jobs of `cluster` (of `partition` only, if given) in flight: active and not held.
fn in_flight(conn: &Connection, path: &str, cluster: &str, partition: Option<&str>) -> Result<i64> {
    let count = |r: &rusqlite::Row<'_>| r.get(0);
    match partition {
        // Two index-only counts: the active jobs, less the held ones.
        None => conn
            .prepare_cached(
                "SELECT (SELECT COUNT(*) FROM jobs WHERE cluster_name = ?1 AND is_terminal = 0) - \
                 (SELECT COUNT(*) FROM jobs WHERE cluster_name = ?1 AND held = 1 AND is_terminal = 0)",
            )
            .at(path)?
            .query_row([cluster], count),
        Some(p) => conn
            .prepare_cached(
                "SELECT COUNT(*) FROM jobs WHERE cluster_name = ?1 AND partition = ?2 \
                 AND is_terminal = 0 AND held = 0",
            )
            .at(path)?
            .query_row([cluster, p], count),
    }
    .at(path)
}

/// The held jobs of `cluster` that fit in `room`, oldest first, each counted
/// into it. Stops reading once the cluster's cap is reached.
fn let_through(conn: &Connection, path: &str, room: &mut Room<'_>) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if room.cluster_full() {
        return Ok(out);
    }
    let mut stmt = conn
        .prepare_cached(
            "SELECT job_id, partition FROM jobs WHERE cluster_name = ?1 AND held = 1 \
             AND is_terminal = 0 ORDER BY created_at, rowid",
        )
        .at(path)?;
    let mut rows = stmt.query([room.cluster]).at(path)?;
    while let Some(row) = rows.next().at(path)? {
        let (job_id, partition): (String, Option<String>) =
            (row.get(0).at(path)?, row.get(1).at(path)?);
        if room.full(conn, path, partition.as_deref())?.is_none() {
            room.take(partition.as_deref());
            out.push(job_id);
            if room.cluster_full() {
                break;
            }
        }
    }
    Ok(out)
}

/// The partition a stored request asks for (`scheduling.partition`).
pub(crate) fn requested_partition(request_json: &str) -> Option<String> {
    let request: serde_json::Value = serde_json::from_str(request_json).ok()?;
    request
        .pointer("/scheduling/partition")?
        .as_str()
        .map(str::to_owned)
}

/// Whether the job being registered (of `partition`) must be held, and why:
/// the caps are full, or the held jobs before it take the room that is left
/// (they go first: jobs reach the scheduler in the order they came).
///
/// Counted by partition, not job by job: the held jobs of a partition take
/// as many places as its cap leaves (all of them, uncapped), and all of them
/// together at most what the cluster's cap leaves. Which ones is the claim's
/// business; whether a place is left after them does not depend on it.
pub(crate) fn hold_reason(
    conn: &Connection,
    path: &str,
    cluster: &str,
    partition: Option<&str>,
    caps: &FlightCaps,
) -> Result<Option<String>> {
    if caps.is_empty() {
        return Ok(None);
    }
    if let (Some(cap), true) = (caps.cluster, caps.partitions.is_empty()) {
        // Held or in flight, every active job takes a place: a count that
        // stops at the cap, not a walk of every held job.
        let taken = active_up_to(conn, path, cluster, cap)?;
        return Ok((taken >= cap).then(|| format!("held by molq: {taken} of {cap} in flight")));
    }
    let mut room = Room::count(conn, path, cluster, caps)?;
    let mut taken = 0;
    for (held_partition, held) in held_by_partition(conn, path, cluster)? {
        let capped = held_partition
            .as_deref()
            .and_then(|p| Some((p, caps.of_partition(p)?)));
        let Some((name, cap)) = capped else {
            taken += held;
            continue;
        };
        let in_flight = room.partition_count(conn, path, name)?;
        let fits = held.min((cap - in_flight).max(0));
        taken += fits;
        room.by_partition.insert(name.to_owned(), in_flight + fits);
    }
    if let Some(cap) = caps.cluster {
        // the held ones take at most the places the cap leaves
        room.in_flight = (room.in_flight + taken).min(cap.max(room.in_flight));
    }
    room.full(conn, path, partition)
}

/// The active jobs of `cluster`, counted up to `cap` (index only).
fn active_up_to(conn: &Connection, path: &str, cluster: &str, cap: i64) -> Result<i64> {
    conn.prepare_cached(
        "SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE cluster_name = ?1 AND is_terminal = 0 LIMIT ?2)",
    )
    .at(path)?
    .query_row(params![cluster, cap], |r| r.get(0))
    .at(path)
}

/// The held jobs of `cluster`, counted by partition (one walk of the held index).
fn held_by_partition(
    conn: &Connection,
    path: &str,
    cluster: &str,
) -> Result<Vec<(Option<String>, i64)>> {
    conn.prepare_cached(
        "SELECT partition, COUNT(*) FROM jobs WHERE cluster_name = ?1 AND held = 1 \
         AND is_terminal = 0 GROUP BY partition",
    )
    .at(path)?
    .query_map([cluster], |r| Ok((r.get(0)?, r.get(1)?)))
    .at(path)?
    .collect::<rusqlite::Result<Vec<_>>>()
    .at(path)
}

impl JobStore {
    /// Claim for `holder` the held jobs of `cluster` that fit under `caps`
    /// now, oldest first: each is claimed by exactly one caller, who hands
    /// it to the scheduler and records its id with
    /// [`JobStore::mark_submitted`].
    pub fn claim_held(
        &mut self,
        cluster: &str,
        caps: &FlightCaps,
        holder: &str,
        now: Timestamp,
    ) -> Result<Vec<String>> {
        let path = self.path.clone();
        let tx = self.write()?;
        let mut room = Room::count(&tx, &path, cluster, caps)?;
        let ids = let_through(&tx, &path, &mut room)?;
        {
            let mut claim = tx
                .prepare_cached(
                    "UPDATE jobs SET held = 0, released_by = ?2, released_at = ?3 \
                     WHERE job_id = ?1 AND held = 1 AND is_terminal = 0",
                )
                .at(&path)?;
            for id in &ids {
                claim.execute(params![id, holder, now]).at(&path)?;
            }
        }
        tx.commit().at(&path)?;
        Ok(ids)
    }

    /// Give a claimed job back to the hold (its hand-over met a passing
    /// failure, nothing reached the scheduler): it keeps its place in line.
    /// `false` if it is not a claimed job waiting for its id.
    pub fn hold_again(&mut self, job_id: &str) -> Result<bool> {
        let path = self.path.clone();
        let tx = self.write()?;
        let n = tx
            .prepare_cached(
                "UPDATE jobs SET held = 1 WHERE job_id = ?1 AND state = 'queued' AND held = 0 \
                 AND scheduler_job_id IS NULL AND released_by IS NOT NULL",
            )
            .at(&path)?
            .execute([job_id])
            .at(&path)?;
        tx.commit().at(&path)?;
        Ok(n == 1)
    }

    /// Held -> cancelled, in the store only (the scheduler never had it).
    /// `None` when the job is not held (any more): it may be being handed
    /// over, and must be cancelled as a submitted one is.
    pub fn cancel_held(
        &mut self,
        job_id: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<Option<Transition>> {
        self.change_state(
            job_id,
            JobState::Cancelled,
            now,
            reason,
            |s| s == JobState::Queued,
            |tx, path, from| {
                tx.prepare_cached(
                    "UPDATE jobs SET state = 'cancelled', is_terminal = 1, finished_at = ?2, \
                     failure_reason = ?3 WHERE job_id = ?1 AND state = ?4 AND held = 1",
                )
                .at(path)?
                .execute(params![job_id, now, reason, from.as_str()])
                .at(path)
            },
        )
    }

    /// Jobs of `cluster` in flight now (of `partition` only, if given).
    pub fn in_flight(&self, cluster: &str, partition: Option<&str>) -> Result<i64> {
        in_flight(&self.conn, &self.path, cluster, partition)
    }

    /// Whether `job_id` is held back by molq (queued, waiting for room).
    pub fn is_held(&self, job_id: &str) -> Result<bool> {
        let held: Option<bool> = self
            .conn
            .prepare_cached("SELECT held = 1 AND is_terminal = 0 FROM jobs WHERE job_id = ?1")
            .at(&self.path)?
            .query_row([job_id], |r| r.get(0))
            .optional()
            .at(&self.path)?;
        Ok(held.unwrap_or(false))
    }

    /// The submissions of `cluster` handed over before `before` whose
    /// scheduler id was never recorded: created jobs, and held jobs claimed
    /// for their hand-over. Oldest hand-over first.
    pub fn interrupted_submissions(
        &self,
        cluster: &str,
        before: Timestamp,
    ) -> Result<Vec<Unrecorded>> {
        self.conn
            .prepare_cached(
                "SELECT job_id, job_dir, created_at FROM jobs WHERE cluster_name = ?1 \
                 AND state = 'created' AND created_at <= ?2 \
                 UNION ALL SELECT job_id, job_dir, released_at FROM jobs WHERE cluster_name = ?1 \
                 AND state = 'queued' AND held = 0 AND scheduler_job_id IS NULL AND released_at <= ?2 \
                 ORDER BY 3",
            )
            .at(&self.path)?
            .query_map(params![cluster, before], |r| {
                Ok(Unrecorded {
                    job_id: r.get(0)?,
                    job_dir: r.get(1)?,
                    since: r.get(2)?,
                })
            })
            .at(&self.path)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .at(&self.path)
    }
}
