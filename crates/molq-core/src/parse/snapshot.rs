//! [`Snapshot`]: the packed arena every parser fills.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use super::ids::{IdHasher, IdIndex, IdMap};
use crate::model::{Observation, ObservationRef, Timestamp};
use crate::state::JobState;

/// A line a parser could not use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub line: String,
    pub reason: String,
}

/// Parsed scheduler evidence: one observation per scheduler job id, in the
/// order first seen, plus the lines that were skipped.
///
/// A job array is observed twice over: each task under its own id (`49_1`),
/// and the array as a whole under the array's id (`49`), which is the id the
/// submit command returned and so the one the store tracks.
///
/// Packed, as outputs run to a million lines: the text of every observation
/// (id, state word, name, reason) lies in one buffer, each user and partition
/// name is kept once, and an entry is offsets and numbers (80 bytes, where an
/// id and an [`Observation`] took 216 and two or three allocations). Reading
/// hands out [`ObservationRef`]s into it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The text of every entry and task id, one after another.
    text: String,
    entries: Vec<Entry>,
    index: IdIndex,
    /// User and partition names, each once, by number.
    names: Vec<Arc<str>>,
    numbers: HashMap<Arc<str>, u32, BuildHasherDefault<IdHasher>>,
    /// The numbers of the last user and the last partition named: lines
    /// come in runs of the same ones.
    last_names: [u32; 2],
    /// array id -> its tasks, in the order seen.
    tasks: IdMap<Vec<Task>>,
    /// Ids whose observation is a whole array, folded from its tasks' lines.
    arrays: IdMap<()>,
    /// Lines the parser could not use.
    pub skipped: Vec<Skipped>,
    /// Entries from this position on are not indexed yet (see [`Snapshot::defer_index`]).
    unindexed: Option<usize>,
}

/// One observation as a snapshot keeps it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Where its text starts in [`Snapshot::text`]: the id, the state word,
    /// the name and the reason, one after another, of these lengths.
    at: usize,
    lens: [u32; 4],
    /// Numbers of [`Snapshot::names`]; [`NO_NAME`] for none.
    user: u32,
    partition: u32,
    submit_time: Timestamp,
    started_at: Timestamp,
    finished_at: Timestamp,
    exit_code: i64,
    exit_signal: i64,
    state: Option<JobState>,
    /// A bit for each optional field that is there ([`HAS_NAME`]...).
    has: u8,
}

const NO_NAME: u32 = u32::MAX;
const HAS_NAME: u8 = 1;
const HAS_REASON: u8 = 1 << 1;
const HAS_SUBMIT_TIME: u8 = 1 << 2;
const HAS_STARTED_AT: u8 = 1 << 3;
const HAS_FINISHED_AT: u8 = 1 << 4;
const HAS_EXIT_CODE: u8 = 1 << 5;
const HAS_EXIT_SIGNAL: u8 = 1 << 6;

/// A task of an array: its id (`len` bytes of the text from `at`) and its entry.
#[derive(Debug, Clone, Copy)]
struct Task {
    at: usize,
    len: u32,
    entry: usize,
}

/// The `len` bytes of `text` from `at` ("" if that is not text: it always is).
fn text_at(text: &str, at: usize, len: u32) -> &str {
    text.get(at..at.saturating_add(len as usize)).unwrap_or("")
}

fn entry_id<'t>(text: &'t str, e: &Entry) -> &'t str {
    text_at(text, e.at, e.lens[0])
}

/// `s` cut to at most `u32::MAX` bytes, on a character boundary (no field of
/// scheduler output comes near; the cut only keeps the lengths honest).
fn capped(s: &str) -> &str {
    let mut end = s.len().min(u32::MAX as usize);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

impl Snapshot {
    pub fn new() -> Self {
        Snapshot::default()
    }

    /// An empty snapshot with room for `n` observations.
    pub fn with_capacity(n: usize) -> Self {
        Snapshot {
            entries: Vec::with_capacity(n),
            index: IdIndex::with_capacity(n),
            ..Snapshot::default()
        }
    }

    /// Room for `bytes` more of text (ids, names, reasons, state words).
    pub(crate) fn reserve_text(&mut self, bytes: usize) {
        self.text.reserve(bytes);
    }

    /// A snapshot of the given observations (a later duplicate id replaces an earlier one).
    pub fn from_observations(rows: impl IntoIterator<Item = (String, Observation)>) -> Self {
        let mut snap = Snapshot::new();
        for (id, obs) in rows {
            snap.insert(id, obs);
        }
        snap
    }

    /// Add or replace the observation for `scheduler_job_id`; returns its position.
    pub fn insert(&mut self, scheduler_job_id: String, obs: Observation) -> usize {
        self.insert_ref(&scheduler_job_id, obs.view())
    }

    /// As [`Snapshot::insert`], copying the borrowed text in.
    pub(crate) fn insert_ref(&mut self, scheduler_job_id: &str, obs: ObservationRef<'_>) -> usize {
        let entry = self.pack(scheduler_job_id, obs);
        let next = self.entries.len();
        if self.unindexed.is_some() {
            self.entries.push(entry);
            return next;
        }
        let (text, entries) = (&self.text, &self.entries);
        let i = self
            .index
            .insert(scheduler_job_id, next, |i| entry_id(text, &entries[i]));
        if i == next {
            self.entries.push(entry);
        } else {
            // The replaced entry's text stays behind in the buffer, unused.
            self.entries[i] = entry;
        }
        i
    }

    /// Add or replace the observation of task `task_id` of array `array_id`,
    /// stored under the scheduler's own id for the task (`key`, e.g. `49_1`).
    pub fn insert_task(&mut self, array_id: &str, task_id: &str, key: String, obs: Observation) {
        self.insert_task_ref(array_id, task_id, &key, obs.view());
    }

    /// As [`Snapshot::insert_task`], copying the borrowed text in.
    pub(crate) fn insert_task_ref(
        &mut self,
        array_id: &str,
        task_id: &str,
        key: &str,
        obs: ObservationRef<'_>,
    ) {
        let before = self.entries.len();
        let i = self.insert_ref(key, obs);
        if i != before {
            return;
        }
        // The task id usually ends the key (`49_1`): then it is text already.
        let task = match key.len().checked_sub(task_id.len()) {
            Some(skip) if key.ends_with(task_id) && key.len() == capped(key).len() => Task {
                at: self.entries[i].at + skip,
                len: task_id.len() as u32,
                entry: i,
            },
            _ => Task {
                at: self.text.len(),
                len: self.push_text(task_id),
                entry: i,
            },
        };
        match self.tasks.get_mut(array_id) {
            Some(tasks) => tasks.push(task),
            None => {
                self.tasks.insert(array_id.to_owned(), vec![task]);
            }
        }
    }

    /// Append `s` to the text; its length there.
    fn push_text(&mut self, s: &str) -> u32 {
        let s = capped(s);
        self.text.push_str(s);
        s.len() as u32
    }

    /// The number of user (`which` 0) or partition (1) `name`.
    fn name_number(&mut self, name: Option<&str>, which: usize) -> u32 {
        let Some(name) = name else {
            return NO_NAME;
        };
        let last = self.last_names[which];
        if self.names.get(last as usize).is_some_and(|n| **n == *name) {
            return last;
        }
        let n = match self.numbers.get(name) {
            Some(&n) => n,
            None => {
                let n = u32::try_from(self.names.len()).unwrap_or(NO_NAME);
                if n == NO_NAME {
                    return NO_NAME; // four billion names: never
                }
                let shared: Arc<str> = Arc::from(name);
                self.names.push(Arc::clone(&shared));
                self.numbers.insert(shared, n);
                n
            }
        };
        self.last_names[which] = n;
        n
    }

    fn pack(&mut self, id: &str, obs: ObservationRef<'_>) -> Entry {
        let at = self.text.len();
        let lens = [
            self.push_text(id),
            self.push_text(obs.raw_state),
            self.push_text(obs.name.unwrap_or("")),
            self.push_text(obs.reason.unwrap_or("")),
        ];
        let bit = |there: bool, bit: u8| if there { bit } else { 0 };
        Entry {
            at,
            lens,
            user: self.name_number(obs.user, 0),
            partition: self.name_number(obs.partition, 1),
            submit_time: obs.submit_time.unwrap_or(0.0),
            started_at: obs.started_at.unwrap_or(0.0),
            finished_at: obs.finished_at.unwrap_or(0.0),
            exit_code: obs.exit_code.unwrap_or(0),
            exit_signal: obs.exit_signal.unwrap_or(0),
            state: obs.state,
            has: bit(obs.name.is_some(), HAS_NAME)
                | bit(obs.reason.is_some(), HAS_REASON)
                | bit(obs.submit_time.is_some(), HAS_SUBMIT_TIME)
                | bit(obs.started_at.is_some(), HAS_STARTED_AT)
                | bit(obs.finished_at.is_some(), HAS_FINISHED_AT)
                | bit(obs.exit_code.is_some(), HAS_EXIT_CODE)
                | bit(obs.exit_signal.is_some(), HAS_EXIT_SIGNAL),
        }
    }

    /// The id and the observation of an entry.
    fn unpack(&self, e: &Entry) -> (&str, ObservationRef<'_>) {
        let mut at = e.at;
        let [id, raw_state, name, reason] = e.lens.map(|len| {
            let s = text_at(&self.text, at, len);
            at = at.saturating_add(len as usize);
            s
        });
        let has = |bit: u8| e.has & bit != 0;
        let name_of = |n: u32| self.names.get(n as usize).map(|s| &**s);
        let obs = ObservationRef {
            state: e.state,
            raw_state,
            exit_code: has(HAS_EXIT_CODE).then_some(e.exit_code),
            exit_signal: has(HAS_EXIT_SIGNAL).then_some(e.exit_signal),
            reason: has(HAS_REASON).then_some(reason),
            started_at: has(HAS_STARTED_AT).then_some(e.started_at),
            finished_at: has(HAS_FINISHED_AT).then_some(e.finished_at),
            name: has(HAS_NAME).then_some(name),
            user: name_of(e.user),
            partition: name_of(e.partition),
            submit_time: has(HAS_SUBMIT_TIME).then_some(e.submit_time),
        };
        (id, obs)
    }

    /// The tasks observed of array `array_id`, as (task id, observation), in the order seen.
    pub fn array_tasks<'a>(
        &'a self,
        array_id: &str,
    ) -> impl Iterator<Item = (&'a str, ObservationRef<'a>)> + 'a {
        self.tasks
            .get(array_id)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(|t| {
                let entry = self.entries.get(t.entry)?;
                Some((text_at(&self.text, t.at, t.len), self.unpack(entry).1))
            })
    }

    /// Whether any task of array `array_id` was observed.
    pub fn has_tasks(&self, array_id: &str) -> bool {
        self.tasks.contains_key(array_id)
    }

    /// Whether the observation of `id` is a job array's, folded from lines of
    /// its tasks (and not a line that names `id` alone).
    pub fn is_array(&self, id: &str) -> bool {
        self.arrays.contains_key(id)
    }

    /// Record that the observation of `array_id` stands for a whole array.
    pub fn mark_array(&mut self, array_id: &str) {
        if !self.arrays.contains_key(array_id) {
            self.arrays.insert(array_id.to_owned(), ());
        }
    }

    /// From here on, [`Snapshot::insert`] (and so `insert_task`) appends
    /// without looking for the id, until [`Snapshot::index_deferred`]; in
    /// between, nothing may be looked up (and positions returned are final
    /// only if every id was new). A parser that looks nothing up while it
    /// reads uses this to index its ids in one go, which for a large output is
    /// much faster.
    pub(crate) fn defer_index(&mut self) {
        if self.unindexed.is_none() {
            self.unindexed = Some(self.entries.len());
        }
    }

    /// Index the entries added since [`Snapshot::defer_index`], and make the
    /// snapshot what inserting them one by one would have made: an id that
    /// came again keeps its first position and takes its last observation.
    pub(crate) fn index_deferred(&mut self) {
        let Some(from) = self.unindexed.take() else {
            return;
        };
        let (text, entries) = (&self.text, &self.entries);
        let mut repeated = self
            .index
            .insert_new(from, entries.len(), |i| entry_id(text, &entries[i]));
        if repeated.is_empty() {
            return;
        }
        // In line order, so the last observation of an id is the one kept.
        repeated.sort_unstable();
        for &(again, first) in &repeated {
            self.entries[first] = self.entries[again];
        }
        // New positions of the deferred entries; GONE for the repeats.
        const GONE: u32 = u32::MAX;
        let mut to = vec![0u32; self.entries.len() - from];
        let mut repeats = repeated.iter().map(|&(again, _)| again).peekable();
        let mut next = from;
        for (p, slot) in (from..).zip(to.iter_mut()) {
            if repeats.next_if_eq(&p).is_some() {
                *slot = GONE;
            } else {
                // Below the length of the entries, which are indexed by u32.
                *slot = next as u32;
                next += 1;
            }
        }
        let mut at = to.iter();
        let mut kept = 0;
        self.entries.retain(|_| {
            kept += 1;
            kept <= from || at.next() != Some(&GONE)
        });
        self.index.renumber(from, &to);
        let moved = |p: usize| if p < from { p } else { to[p - from] as usize };
        for tasks in self.tasks.values_mut() {
            // A task seen again was listed on first sight only.
            tasks.retain(|t| t.entry < from || to[t.entry - from] != GONE);
            for task in tasks.iter_mut() {
                task.entry = moved(task.entry);
            }
        }
    }

    fn position(&self, scheduler_job_id: &str) -> Option<usize> {
        debug_assert!(self.unindexed.is_none(), "looked up before index_deferred");
        let (text, entries) = (&self.text, &self.entries);
        self.index
            .get(scheduler_job_id, |i| entry_id(text, &entries[i]))
    }

    pub fn get(&self, scheduler_job_id: &str) -> Option<ObservationRef<'_>> {
        self.position(scheduler_job_id)
            .map(|i| self.unpack(&self.entries[i]).1)
    }

    pub fn contains(&self, scheduler_job_id: &str) -> bool {
        self.position(scheduler_job_id).is_some()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The given ids that have no observation here, in the given order.
    pub fn missing<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        ids.into_iter().filter(|id| !self.contains(id)).collect()
    }

    /// The given ids that accounting should be asked about, in the given order:
    /// those with no observation, and those seen finished without an exit code
    /// (a queue listing shows a finished job at most briefly, and never its exit code).
    pub fn needs_accounting<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        ids.into_iter()
            .filter(|id| match self.get(id) {
                None => true,
                Some(o) => o.state.is_some_and(JobState::is_terminal) && o.exit_code.is_none(),
            })
            .collect()
    }

    /// scheduler id -> observed state, in snapshot order.
    pub fn states(&self) -> impl Iterator<Item = (&str, JobState)> {
        self.entries
            .iter()
            .map(|e| (entry_id(&self.text, e), e.state.unwrap_or(JobState::Queued)))
    }

    /// Every (scheduler id, observation), in snapshot order.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = (&str, ObservationRef<'_>)> + '_ {
        self.entries.iter().map(|e| self.unpack(e))
    }

    /// Every (scheduler id, observation) as an owned copy, in snapshot order;
    /// the copies share the snapshot's user and partition names.
    pub fn observations(&self) -> impl ExactSizeIterator<Item = (&str, Observation)> + '_ {
        let shared = |n: u32| self.names.get(n as usize).map(Arc::clone);
        self.entries.iter().map(move |e| {
            let (id, obs) = self.unpack(e);
            let obs = Observation {
                user: shared(e.user),
                partition: shared(e.partition),
                ..ObservationRef {
                    user: None,
                    partition: None,
                    ..obs
                }
                .to_observation()
            };
            (id, obs)
        })
    }

    /// The `i`th (scheduler id, observation), in snapshot order.
    pub fn entry(&self, i: usize) -> Option<(&str, ObservationRef<'_>)> {
        self.entries.get(i).map(|e| self.unpack(e))
    }

    /// Both sets of observations (`other` wins on clashes) and both skip lists.
    pub fn merged(&self, other: &Snapshot) -> Snapshot {
        let mut out = self.clone();
        for (id, obs) in other.entries() {
            out.insert_ref(id, obs);
        }
        for (array, tasks) in &other.tasks {
            let mut mine = out.tasks.remove(array).unwrap_or_default();
            let seen: std::collections::HashSet<String> = mine
                .iter()
                .map(|t| text_at(&out.text, t.at, t.len).to_owned())
                .collect();
            for t in tasks {
                let task = text_at(&other.text, t.at, t.len);
                let key = other.entries.get(t.entry).map(|e| entry_id(&other.text, e));
                if let (false, Some(entry)) =
                    (seen.contains(task), key.and_then(|k| out.position(k)))
                {
                    let at = out.text.len();
                    let len = out.push_text(task);
                    mine.push(Task { at, len, entry });
                }
            }
            out.tasks.insert(array.clone(), mine);
        }
        for array in other.arrays.keys() {
            out.mark_array(array);
        }
        out.skipped.extend(other.skipped.iter().cloned());
        out
    }

    pub(crate) fn skip(&mut self, line: &str, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            line: line.to_owned(),
            reason: reason.into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    #[test]
    fn snapshot_insert_merge_missing() {
        let a = Snapshot::from_observations([
            ("1".to_string(), Observation::of(JobState::Running)),
            ("2".to_string(), Observation::of(JobState::Queued)),
        ]);
        let b = Snapshot::from_observations([
            ("2".to_string(), Observation::of(JobState::Failed)),
            ("3".to_string(), Observation::of(JobState::Succeeded)),
        ]);
        let m = a.merged(&b);
        assert_eq!(m.len(), 3);
        assert_eq!(m.get("2").and_then(|o| o.state), Some(JobState::Failed));
        let ids: Vec<_> = m.states().map(|(id, _)| id.to_owned()).collect();
        assert_eq!(ids, ["1", "2", "3"]);
        assert_eq!(m.missing(["4", "1", "5"]), ["4", "5"]);
        assert_eq!(a.len(), 2, "merging leaves the inputs alone");
    }

    #[test]
    fn packing_keeps_every_field_apart() {
        let full = Observation {
            state: Some(JobState::Failed),
            raw_state: Cow::Owned("NODE_FAIL".into()),
            exit_code: Some(0),
            exit_signal: Some(-9),
            reason: Some(String::new()),
            started_at: Some(0.0),
            finished_at: Some(-1.5),
            name: Some("naïve | name".into()),
            user: Some("alice".into()),
            partition: Some("gpu".into()),
            submit_time: Some(1e12),
        };
        let bare = Observation::default();
        let mut snap = Snapshot::new();
        snap.insert("é1".into(), full.clone());
        snap.insert("2".into(), bare.clone());
        let swapped = Observation {
            user: Some("gpu".into()),
            partition: Some("alice".into()),
            ..Observation::of(JobState::Queued)
        };
        snap.insert("3".into(), swapped.clone());
        assert_eq!(snap.get("é1"), Some(full.view()));
        assert_eq!(snap.get("2"), Some(bare.view()));
        assert_eq!(snap.get("3"), Some(swapped.view()));
        snap.insert("é1".into(), bare.clone());
        assert_eq!(snap.get("é1"), Some(bare.view()), "replaced in place");
        let ids: Vec<_> = snap.entries().map(|(id, _)| id).collect();
        assert_eq!(ids, ["é1", "2", "3"]);
        assert_eq!(snap.entry(2), Some(("3", swapped.view())));
        assert!(snap.entry(3).is_none());
        let owned: Vec<_> = snap.observations().map(|(_, o)| o).collect();
        assert_eq!(owned[2], swapped);
        snap.insert("4".into(), full);
        let (gpu, again) = (snap.observations().nth(2), snap.observations().nth(3));
        let (gpu, again) = (gpu.unwrap().1.user, again.unwrap().1.partition);
        assert!(
            Arc::ptr_eq(&gpu.unwrap(), &again.unwrap()),
            "names are shared"
        );
    }

    #[test]
    fn array_tasks_survive_merging() {
        let mut a = Snapshot::new();
        a.insert("9".into(), Observation::of(JobState::Running));
        a.insert_task("9", "1", "9_1".into(), Observation::of(JobState::Running));
        let mut b = Snapshot::new();
        b.insert_task("9", "1", "9_1".into(), Observation::of(JobState::Failed));
        b.insert_task("9", "2", "9_2".into(), Observation::of(JobState::Queued));
        b.insert_task("4", "0", "4_0".into(), Observation::of(JobState::Queued));
        let m = a.merged(&b);
        let tasks: Vec<_> = m.array_tasks("9").map(|(t, o)| (t, o.state)).collect();
        assert_eq!(
            tasks,
            [("1", Some(JobState::Failed)), ("2", Some(JobState::Queued))]
        );
        assert!(m.has_tasks("4") && !m.has_tasks("9_1"));
        let mut c = Snapshot::new();
        c.mark_array("12");
        assert!(m.merged(&c).is_array("12") && c.merged(&m).is_array("12"));
        assert!(!m.is_array("9"), "tasks alone do not make an aggregate");
        assert_eq!(m.array_tasks("nope").count(), 0);
        assert_eq!(m.get("9_2").and_then(|o| o.state), Some(JobState::Queued));
    }
}
