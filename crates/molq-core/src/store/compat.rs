//! The writes of the original molq's `JobStore` API: field updates by name,
//! a state change that holds only if the state is still the expected one,
//! transitions and dependency edges written by the caller, one poll stamp for
//! many jobs, and the memory of the allocations (partition, account, qos,
//! reservation) a cluster's jobs used. Each call is one transaction.
//!
//! molq's own engine moves states only through the compare-and-set methods
//! of `mod.rs`; these exist so that programs written against the original
//! keep working on the same file.

use rusqlite::params;
use rusqlite::types::Value;

use super::{current_state, insert_transition, JobStore, CHUNK};
use crate::error::{Error, Result, SqlContext};
use crate::model::{Dependency, Timestamp, Transition};
use crate::state::JobState;

/// The job columns [`JobStore::update_fields`] may set, with the kind of
/// value each takes.
pub const UPDATABLE_FIELDS: [(&str, FieldKind); 9] = [
    ("state", FieldKind::State),
    ("scheduler_job_id", FieldKind::Text),
    ("submitted_at", FieldKind::Real),
    ("started_at", FieldKind::Real),
    ("finished_at", FieldKind::Real),
    ("last_polled", FieldKind::Real),
    ("exit_code", FieldKind::Integer),
    ("failure_reason", FieldKind::Text),
    ("cleaned_at", FieldKind::Real),
];

/// What an updatable column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    State,
    Text,
    Real,
    Integer,
}

/// A value for one column of [`JobStore::update_fields`].
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    State(JobState),
    Text(String),
    Real(f64),
    Integer(i64),
}

impl FieldValue {
    fn kind(&self) -> FieldKind {
        match self {
            FieldValue::State(_) => FieldKind::State,
            FieldValue::Text(_) => FieldKind::Text,
            FieldValue::Real(_) => FieldKind::Real,
            FieldValue::Integer(_) => FieldKind::Integer,
        }
    }

    fn sql(&self) -> Value {
        match self {
            FieldValue::State(s) => Value::Text(s.as_str().to_owned()),
            FieldValue::Text(t) => Value::Text(t.clone()),
            FieldValue::Real(r) => Value::Real(*r),
            FieldValue::Integer(i) => Value::Integer(*i),
        }
    }
}

/// A partition/account/qos/reservation combination a cluster's jobs used.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    pub partition: Option<String>,
    pub account: Option<String>,
    pub qos: Option<String>,
    pub reservation: Option<String>,
    pub label: Option<String>,
    pub last_used: Timestamp,
    pub use_count: i64,
}

/// The identity of an allocation; `None` is stored as '' so that a missing
/// field can take part in the primary key (NULLs never compare equal).
fn key(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("")
}

fn unkey(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

fn check_fields(fields: &[(String, FieldValue)]) -> Result<()> {
    for (name, value) in fields {
        let known = UPDATABLE_FIELDS.iter().find(|(n, _)| n == name);
        match known {
            Some((_, kind)) if *kind == value.kind() => {}
            Some((_, kind)) => {
                return Err(Error::InvalidField(format!(
                    "{name} takes a {kind:?} value, got {:?}",
                    value.kind()
                )))
            }
            None => {
                let names: Vec<&str> = UPDATABLE_FIELDS.iter().map(|(n, _)| *n).collect();
                return Err(Error::InvalidField(format!(
                    "{name} cannot be updated (updatable: {})",
                    names.join(", ")
                )));
            }
        }
    }
    Ok(())
}

impl JobStore {
    /// Set the named columns of one job. With no fields it only checks that
    /// the job exists. Unknown jobs raise [`Error::JobNotFound`].
    pub fn update_fields(&mut self, job_id: &str, fields: &[(String, FieldValue)]) -> Result<()> {
        check_fields(fields)?;
        let path = self.path.clone();
        let tx = self.write()?;
        current_state(&tx, &path, job_id)?;
        if !fields.is_empty() {
            let mut sets: Vec<String> = fields.iter().map(|(n, _)| format!("{n} = ?")).collect();
            let mut values: Vec<Value> = fields.iter().map(|(_, v)| v.sql()).collect();
            for (_, value) in fields {
                if let FieldValue::State(state) = value {
                    sets.push("is_terminal = ?".to_owned());
                    values.push(Value::Integer(state.is_terminal().into()));
                }
            }
            let sql = format!("UPDATE jobs SET {} WHERE job_id = ?", sets.join(", "));
            values.push(Value::Text(job_id.to_owned()));
            tx.execute(&sql, rusqlite::params_from_iter(values))
                .at(&path)?;
        }
        tx.commit().at(&path)
    }

    /// Move `job_id` from `expected` to `new_state` and set `fields`, only if
    /// its state is still `expected`; `false` (nothing written) otherwise.
    pub fn compare_and_update(
        &mut self,
        job_id: &str,
        expected: JobState,
        new_state: JobState,
        fields: &[(String, FieldValue)],
    ) -> Result<bool> {
        check_fields(fields)?;
        let path = self.path.clone();
        let tx = self.write()?;
        let mut sets = vec!["state = ?".to_owned(), "is_terminal = ?".to_owned()];
        let mut values = vec![
            Value::Text(new_state.as_str().to_owned()),
            Value::Integer(new_state.is_terminal().into()),
        ];
        for (name, value) in fields {
            sets.push(format!("{name} = ?"));
            values.push(value.sql());
        }
        values.push(Value::Text(job_id.to_owned()));
        values.push(Value::Text(expected.as_str().to_owned()));
        let sql = format!(
            "UPDATE jobs SET {} WHERE job_id = ? AND state = ?",
            sets.join(", ")
        );
        let changed = tx
            .execute(&sql, rusqlite::params_from_iter(values))
            .at(&path)?;
        tx.commit().at(&path)?;
        Ok(changed == 1)
    }

    /// Append a transition row as given (the caller has changed the state).
    pub fn record_transition(&mut self, t: &Transition) -> Result<()> {
        let path = self.path.clone();
        let tx = self.write()?;
        current_state(&tx, &path, &t.job_id)?;
        insert_transition(
            &tx,
            &path,
            &t.job_id,
            t.old_state,
            t.new_state,
            t.timestamp,
            t.reason.as_deref(),
        )?;
        tx.commit().at(&path)
    }

    /// Add dependency edges to a registered job.
    pub fn add_dependencies(&mut self, job_id: &str, deps: &[Dependency]) -> Result<()> {
        let path = self.path.clone();
        let tx = self.write()?;
        current_state(&tx, &path, job_id)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO job_dependencies (job_id, dependency_job_id, dependency_type, \
                     scheduler_dependency) VALUES (?1, ?2, ?3, ?4)",
                )
                .at(&path)?;
            for d in deps {
                stmt.execute(params![
                    job_id,
                    d.dependency_job_id,
                    d.dependency_type,
                    d.scheduler_dependency
                ])
                .at(&path)?;
            }
        }
        tx.commit().at(&path)
    }

    /// Stamp `last_polled` on the given jobs (ids may repeat), in one write.
    pub fn mark_polled(&mut self, job_ids: &[String], at: Timestamp) -> Result<()> {
        if job_ids.is_empty() {
            return Ok(());
        }
        let mut ids: Vec<&str> = job_ids.iter().map(String::as_str).collect();
        ids.sort_unstable();
        ids.dedup();
        let path = self.path.clone();
        let tx = self.write()?;
        for chunk in ids.chunks(CHUNK) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = format!("UPDATE jobs SET last_polled = ? WHERE job_id IN ({marks})");
            let values = std::iter::once(Value::Real(at))
                .chain(chunk.iter().map(|id| Value::Text((*id).to_owned())));
            tx.execute(&sql, rusqlite::params_from_iter(values))
                .at(&path)?;
        }
        tx.commit().at(&path)
    }

    /// Remember that a job of `cluster` used this combination: the first use
    /// adds it, a later one counts it and moves `last_used` forward. A
    /// combination with all four fields `None` is not worth remembering.
    pub fn record_allocation(
        &mut self,
        cluster: &str,
        allocation: &Allocation,
        now: Timestamp,
    ) -> Result<()> {
        let a = allocation;
        if a.partition.is_none()
            && a.account.is_none()
            && a.qos.is_none()
            && a.reservation.is_none()
        {
            return Ok(());
        }
        let path = self.path.clone();
        let tx = self.write()?;
        tx.prepare_cached(
            "INSERT INTO allocations (cluster_name, partition, account, qos, reservation, label, \
             last_used, use_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1) \
             ON CONFLICT (cluster_name, partition, account, qos, reservation) DO UPDATE SET \
             use_count = use_count + 1, last_used = max(last_used, excluded.last_used), \
             label = coalesce(excluded.label, label)",
        )
        .at(&path)?
        .execute(params![
            cluster,
            key(&a.partition),
            key(&a.account),
            key(&a.qos),
            key(&a.reservation),
            a.label,
            now
        ])
        .at(&path)?;
        tx.commit().at(&path)
    }

    /// The remembered allocations of `cluster`, most recently used first.
    pub fn list_allocations(&self, cluster: &str, limit: Option<usize>) -> Result<Vec<Allocation>> {
        let limit = limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        self.conn
            .prepare_cached(
                "SELECT partition, account, qos, reservation, label, last_used, use_count \
                 FROM allocations WHERE cluster_name = ?1 \
                 ORDER BY last_used DESC, use_count DESC LIMIT ?2",
            )
            .at(&self.path)?
            .query_map(params![cluster, limit], |r| {
                Ok(Allocation {
                    partition: unkey(r.get(0)?),
                    account: unkey(r.get(1)?),
                    qos: unkey(r.get(2)?),
                    reservation: unkey(r.get(3)?),
                    label: r.get(4)?,
                    last_used: r.get(5)?,
                    use_count: r.get(6)?,
                })
            })
            .at(&self.path)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .at(&self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NewJob;

    fn store_with(ids: &[&str]) -> JobStore {
        let mut s = JobStore::open_in_memory().unwrap();
        for id in ids {
            let job = NewJob {
                job_id: (*id).to_owned(),
                cluster_name: "dev".to_owned(),
                scheduler: "local".to_owned(),
                ..NewJob::default()
            };
            s.register_job(&job, &[], 1.0).unwrap();
        }
        s
    }

    #[test]
    fn update_fields_sets_named_columns_and_refuses_others() {
        let mut s = store_with(&["a"]);
        let fields = vec![
            ("state".to_owned(), FieldValue::State(JobState::Succeeded)),
            ("exit_code".to_owned(), FieldValue::Integer(0)),
            ("finished_at".to_owned(), FieldValue::Real(9.0)),
        ];
        s.update_fields("a", &fields).unwrap();
        let r = s.get_job("a").unwrap().unwrap();
        assert_eq!(
            (r.state(), r.exit_code(), r.finished_at()),
            (JobState::Succeeded, Some(0), Some(9.0))
        );
        let bad = vec![("job_id".to_owned(), FieldValue::Text("b".to_owned()))];
        assert!(matches!(
            s.update_fields("a", &bad),
            Err(Error::InvalidField(_))
        ));
        let wrong_kind = vec![("exit_code".to_owned(), FieldValue::Text("x".to_owned()))];
        assert!(matches!(
            s.update_fields("a", &wrong_kind),
            Err(Error::InvalidField(_))
        ));
        assert!(matches!(
            s.update_fields("nope", &[]),
            Err(Error::JobNotFound(_))
        ));
    }

    #[test]
    fn compare_and_update_writes_only_from_the_expected_state() {
        let mut s = store_with(&["a"]);
        assert!(s
            .compare_and_update("a", JobState::Created, JobState::Submitted, &[])
            .unwrap());
        assert!(!s
            .compare_and_update("a", JobState::Created, JobState::Failed, &[])
            .unwrap());
        assert_eq!(
            s.get_job("a").unwrap().unwrap().state(),
            JobState::Submitted
        );
    }

    #[test]
    fn transitions_dependencies_and_poll_stamps() {
        let mut s = store_with(&["a", "b"]);
        s.record_transition(&Transition {
            job_id: "a".to_owned(),
            old_state: Some(JobState::Created),
            new_state: JobState::Submitted,
            timestamp: 2.0,
            reason: Some("by hand".to_owned()),
        })
        .unwrap();
        assert_eq!(s.get_transitions("a").unwrap().len(), 2);
        let dep = Dependency {
            dependency_job_id: "a".to_owned(),
            dependency_type: "after_success".to_owned(),
            scheduler_dependency: "afterok:1".to_owned(),
        };
        s.add_dependencies("b", &[dep]).unwrap();
        assert_eq!(s.get_dependents("a").unwrap()[0].job_id, "b");
        s.mark_polled(&["a".to_owned(), "a".to_owned(), "b".to_owned()], 5.0)
            .unwrap();
        s.mark_polled(&[], 6.0).unwrap();
    }

    #[test]
    fn allocations_count_uses_and_keep_none_apart() {
        let mut s = store_with(&[]);
        let alloc = |p: Option<&str>, a: Option<&str>| Allocation {
            partition: p.map(str::to_owned),
            account: a.map(str::to_owned),
            qos: None,
            reservation: None,
            label: None,
            last_used: 0.0,
            use_count: 0,
        };
        s.record_allocation("hpc", &alloc(Some("main"), None), 1.0)
            .unwrap();
        s.record_allocation("hpc", &alloc(None, Some("main")), 2.0)
            .unwrap();
        s.record_allocation("hpc", &alloc(Some("main"), None), 3.0)
            .unwrap();
        s.record_allocation("hpc", &alloc(None, None), 4.0).unwrap();
        let got = s.list_allocations("hpc", None).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            (
                got[0].partition.as_deref(),
                got[0].use_count,
                got[0].last_used
            ),
            (Some("main"), 2, 3.0)
        );
        assert_eq!(got[1].account.as_deref(), Some("main"));
        assert_eq!(s.list_allocations("hpc", Some(1)).unwrap().len(), 1);
        assert!(s.list_allocations("other", None).unwrap().is_empty());
    }
}
