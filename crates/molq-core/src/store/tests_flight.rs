//! Jobs in flight (flight.rs): holding at registration, claiming held jobs,
//! and the hand-over of a claimed one.

use super::tests::{job, tmp, T};
use super::*;
use crate::state::JobState::*;

fn caps(cluster: Option<i64>, partitions: &[(&str, i64)]) -> FlightCaps {
    FlightCaps {
        cluster,
        partitions: partitions
            .iter()
            .map(|(p, n)| (p.to_string(), *n))
            .collect(),
    }
}

fn in_partition(id: &str, partition: &str) -> NewJob {
    NewJob {
        request_json: format!(r#"{{"scheduling": {{"partition": "{partition}"}}}}"#),
        ..job(id, "c")
    }
}

/// Register `ids` in order at times 1, 2, ...; the hold reasons.
fn register_all(s: &mut JobStore, ids: &[&str], caps: &FlightCaps) -> Vec<Option<String>> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            s.register_job_capped(&job(id, "c"), &[], 1.0 + i as f64, caps)
                .unwrap()
        })
        .collect()
}

fn state(s: &JobStore, id: &str) -> JobState {
    s.get_job(id).unwrap().unwrap().state
}

#[test]
fn jobs_beyond_the_cap_are_held_with_the_reason() {
    let mut s = JobStore::open_in_memory().unwrap();
    let cap = caps(Some(2), &[]);
    let held = register_all(&mut s, &["a", "b", "c", "d"], &cap);
    assert_eq!(held[..2], [None, None]);
    assert_eq!(held[2].as_deref(), Some("held by molq: 2 of 2 in flight"));
    assert_eq!(state(&s, "c"), Queued);
    assert!(s.is_held("c").unwrap() && !s.is_held("a").unwrap());
    let record = s.get_job("d").unwrap().unwrap();
    assert_eq!(record.scheduler_job_id(), None);
    assert_eq!(
        record.failure_reason(),
        Some("held by molq: 2 of 2 in flight")
    );
    let history = s.get_transitions("d").unwrap();
    assert_eq!(history[1].old_state, Some(Created));
    assert_eq!(history[1].new_state, Queued);
    assert_eq!(s.in_flight("c", None).unwrap(), 2);
    // other clusters are not counted, and no cap holds nothing
    assert_eq!(
        s.register_job_capped(&job("x", "other"), &[], 9.0, &cap)
            .unwrap(),
        None
    );
    assert_eq!(
        s.register_job_capped(&job("e", "c"), &[], 9.0, &FlightCaps::default())
            .unwrap(),
        None
    );
}

#[test]
fn claims_go_oldest_first_as_room_appears() {
    let mut s = JobStore::open_in_memory().unwrap();
    let cap = caps(Some(2), &[]);
    register_all(&mut s, &["a", "b", "c", "d", "e"], &cap);
    assert!(
        s.claim_held("c", &cap, "me", 10.0).unwrap().is_empty(),
        "full"
    );
    s.mark_submitted("a", "1", 10.0).unwrap().unwrap();
    s.mark_failed("a", "gone", 11.0).unwrap().unwrap();
    assert_eq!(s.claim_held("c", &cap, "me", 12.0).unwrap(), ["c"]);
    // a claimed job counts as in flight: nothing more fits
    assert!(s.claim_held("c", &cap, "me", 12.0).unwrap().is_empty());
    // a newcomer waits behind the held ones even when room appears
    s.cancel("b", "stop", 13.0).unwrap().unwrap();
    let reason = s
        .register_job_capped(&job("f", "c"), &[], 14.0, &cap)
        .unwrap();
    assert_eq!(reason.as_deref(), Some("held by molq: 2 of 2 in flight"));
    assert_eq!(s.claim_held("c", &cap, "me", 15.0).unwrap(), ["d"]);
    // the claimed job is handed over and recorded
    let t = s.mark_submitted("c", "3", 16.0).unwrap().unwrap();
    assert_eq!((t.old_state, t.new_state), (Some(Queued), Submitted));
    let record = s.get_job("c").unwrap().unwrap();
    assert_eq!(record.scheduler_job_id(), Some("3"));
    assert_eq!(record.failure_reason(), None, "the hold reason goes");
}

#[test]
fn a_held_job_is_never_submitted_unclaimed() {
    let mut s = JobStore::open_in_memory().unwrap();
    let cap = caps(Some(1), &[]);
    register_all(&mut s, &["a", "b"], &cap);
    assert_eq!(s.mark_submitted("b", "9", 5.0).unwrap(), None);
    assert_eq!(state(&s, "b"), Queued);
}

#[test]
fn cancelling_a_held_job_touches_only_the_store() {
    let mut s = JobStore::open_in_memory().unwrap();
    let cap = caps(Some(1), &[]);
    register_all(&mut s, &["a", "b", "c"], &cap);
    let t = s
        .cancel_held("b", "cancelled by user", 5.0)
        .unwrap()
        .unwrap();
    assert_eq!((t.old_state, t.new_state), (Some(Queued), Cancelled));
    assert_eq!(s.cancel_held("a", "no", 5.0).unwrap(), None, "not held");
    s.mark_failed("a", "gone", 6.0).unwrap().unwrap();
    assert_eq!(s.claim_held("c", &cap, "me", 7.0).unwrap(), ["c"]);
    assert_eq!(s.cancel_held("c", "no", 8.0).unwrap(), None, "claimed");
}

#[test]
fn a_claimed_job_given_back_keeps_its_place() {
    let mut s = JobStore::open_in_memory().unwrap();
    let cap = caps(Some(1), &[]);
    register_all(&mut s, &["a", "b", "c"], &cap);
    s.mark_failed("a", "gone", 5.0).unwrap().unwrap();
    assert_eq!(s.claim_held("c", &cap, "me", 6.0).unwrap(), ["b"]);
    assert!(s.hold_again("b").unwrap());
    assert!(!s.hold_again("b").unwrap(), "held already");
    assert!(!s.hold_again("a").unwrap(), "ended");
    assert_eq!(s.claim_held("c", &cap, "me", 7.0).unwrap(), ["b"]);
}

#[test]
fn partition_caps_are_counted_apart() {
    let mut s = JobStore::open_in_memory().unwrap();
    let cap = caps(Some(3), &[("debug", 1)]);
    let mut reasons = Vec::new();
    for (i, (id, p)) in [
        ("d1", "debug"),
        ("d2", "debug"),
        ("l1", "long"),
        ("l2", "long"),
    ]
    .into_iter()
    .enumerate()
    {
        reasons.push(
            s.register_job_capped(&in_partition(id, p), &[], i as f64, &cap)
                .unwrap(),
        );
    }
    assert_eq!(reasons[0], None);
    assert_eq!(
        reasons[1].as_deref(),
        Some(r#"held by molq: 1 of 1 in flight in partition "debug""#)
    );
    // d2 waits for its partition; the long jobs pass it
    assert_eq!(reasons[2..], [None, None]);
    assert_eq!(s.in_flight("c", Some("debug")).unwrap(), 1);
    assert_eq!(s.in_flight("c", None).unwrap(), 3);
    s.mark_submitted("l1", "1", 5.0).unwrap().unwrap();
    s.mark_failed("l1", "gone", 6.0).unwrap().unwrap();
    assert!(
        s.claim_held("c", &cap, "me", 7.0).unwrap().is_empty(),
        "debug is full"
    );
    s.mark_failed("d1", "gone", 8.0).unwrap().unwrap();
    assert_eq!(s.claim_held("c", &cap, "me", 9.0).unwrap(), ["d2"]);
}

#[test]
fn a_claimed_job_left_without_an_id_is_an_interrupted_submission() {
    let mut s = JobStore::open_in_memory().unwrap();
    let cap = caps(Some(1), &[]);
    register_all(&mut s, &["a", "b"], &cap);
    s.mark_failed("a", "gone", 3.0).unwrap().unwrap();
    assert!(s.interrupted_submissions("c", 100.0).unwrap().is_empty());
    assert_eq!(s.claim_held("c", &cap, "dead", 50.0).unwrap(), ["b"]);
    assert!(s.interrupted_submissions("c", 49.0).unwrap().is_empty());
    let found = s.interrupted_submissions("c", 60.0).unwrap();
    assert_eq!(
        found,
        [Unrecorded {
            job_id: "b".into(),
            job_dir: String::new(),
            since: 50.0
        }]
    );
    // adopted once the scheduler shows it
    s.mark_submitted("b", "7", 50.0).unwrap().unwrap();
    assert!(s.interrupted_submissions("c", 100.0).unwrap().is_empty());
}

#[test]
fn two_connections_racing_claim_each_job_once_and_never_beyond_the_cap() {
    let (_d, path) = tmp();
    let cap = caps(Some(5), &[]);
    {
        let mut s = JobStore::open(&path, T).unwrap();
        for i in 0..40 {
            let id = format!("j{i:02}");
            s.register_job_capped(&job(&id, "c"), &[], i as f64, &cap)
                .unwrap();
        }
        assert_eq!(s.in_flight("c", None).unwrap(), 5);
        for i in 0..5 {
            s.mark_submitted(&format!("j{i:02}"), &format!("first{i}"), 50.0)
                .unwrap()
                .unwrap();
        }
    }
    let racers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|holder| {
            let path = path.clone();
            let cap = cap.clone();
            std::thread::spawn(move || {
                let mut s = JobStore::open(&path, T).unwrap();
                let mut mine = Vec::new();
                let mut sid = 0;
                for round in 0..400 {
                    let now = 100.0 + f64::from(round);
                    for id in s.claim_held("c", &cap, holder, now).unwrap() {
                        assert!(s.in_flight("c", None).unwrap() <= 5);
                        sid += 1;
                        s.mark_submitted(&id, &format!("{holder}{sid}"), now)
                            .unwrap()
                            .unwrap();
                        mine.push(id);
                    }
                    // end the oldest job in flight of either racer
                    let live = s.active_jobs("c").unwrap();
                    if let Some(first) = live.first() {
                        s.mark_failed(&first.job_id, "done", now).unwrap();
                    }
                    if s.count_active("c").unwrap() == 0 {
                        break;
                    }
                }
                mine
            })
        })
        .collect();
    let mut claimed: Vec<String> = racers.into_iter().flat_map(|r| r.join().unwrap()).collect();
    let n = claimed.len();
    claimed.sort();
    claimed.dedup();
    assert_eq!(claimed.len(), n, "a job claimed twice");
    assert_eq!(n, 35, "every held job claimed");
}

#[test]
fn a_newcomer_waits_behind_held_jobs_of_its_partition_only() {
    let mut s = JobStore::open_in_memory().unwrap();
    let cap = caps(Some(4), &[("debug", 1)]);
    for (i, (id, p)) in [("d1", "debug"), ("d2", "debug"), ("l1", "long")]
        .into_iter()
        .enumerate()
    {
        s.register_job_capped(&in_partition(id, p), &[], i as f64, &cap)
            .unwrap();
    }
    // d1 ends; d2 is not claimed yet, and takes debug's place first
    s.mark_failed("d1", "gone", 5.0).unwrap().unwrap();
    let d3 = s
        .register_job_capped(&in_partition("d3", "debug"), &[], 6.0, &cap)
        .unwrap();
    assert_eq!(
        d3.as_deref(),
        Some(r#"held by molq: 1 of 1 in flight in partition "debug""#)
    );
    // the cluster has room for d2 and two more: long jobs go at once
    for (i, id) in ["l2", "l3"].into_iter().enumerate() {
        let reason = s
            .register_job_capped(&in_partition(id, "long"), &[], 7.0 + i as f64, &cap)
            .unwrap();
        assert_eq!(reason, None, "{id}");
    }
    let l4 = s
        .register_job_capped(&in_partition("l4", "long"), &[], 9.0, &cap)
        .unwrap();
    assert_eq!(l4.as_deref(), Some("held by molq: 4 of 4 in flight"));
    assert_eq!(s.claim_held("c", &cap, "me", 10.0).unwrap(), ["d2"]);
}
