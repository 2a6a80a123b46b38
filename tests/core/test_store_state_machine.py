"""Hypothesis state machine over the real store: whatever mix of submits,
scheduler evidence and cancels arrives, the store keeps its invariants."""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from molq import _core
from molq.status import JobState

STATES = [s.value for s in JobState if s not in (JobState.CREATED, JobState.SUBMITTED)]


def job_row(job_id: str) -> dict:
    return {
        "job_id": job_id,
        "cluster_name": "c",
        "scheduler": "local",
        "root_job_id": job_id,
        "attempt": 1,
        "previous_attempt_job_id": None,
        "retry_group_id": job_id,
        "command_type": "argv",
        "command_display": "true",
        "cwd": "/tmp",
        "job_dir": f"/tmp/{job_id}",
        "metadata": {},
        "request_json": "{}",
        "retry_json": None,
        "profile_name": None,
    }


class StoreMachine(RuleBasedStateMachine):
    @initialize(tmp=st.just(None))
    def open_store(self, tmp: None) -> None:
        import tempfile

        self.dir = tempfile.mkdtemp(prefix="molq-sm-")
        self.store = _core.JobStore(str(Path(self.dir) / "jobs.db"))
        self.now = 1000.0
        self.model: dict[str, JobState] = {}
        self.sid: dict[str, str] = {}

    def teardown(self) -> None:
        self.store.close()

    def tick(self) -> float:
        self.now += 1.0
        return self.now

    @rule()
    def register(self) -> None:
        job_id = f"j{len(self.model)}"
        self.store.register_job(job_row(job_id), [], self.tick())
        self.model[job_id] = JobState.CREATED

    @precondition(lambda self: any(s is JobState.CREATED for s in self.model.values()))
    @rule(data=st.data())
    def submit(self, data: st.DataObject) -> None:
        job_id = data.draw(st.sampled_from(sorted(j for j, s in self.model.items() if s is JobState.CREATED)))
        sid = str(100 + int(job_id[1:]))
        assert self.store.mark_submitted(job_id, sid, self.tick()) is not None
        self.model[job_id] = JobState.SUBMITTED
        self.sid[job_id] = sid

    @precondition(lambda self: bool(self.sid))
    @rule(data=st.data(), with_accounting=st.booleans())
    def observe(self, data: st.DataObject, with_accounting: bool) -> None:
        chosen = data.draw(st.lists(st.sampled_from(sorted(self.sid)), unique=True))
        rows = [
            (
                self.sid[j],
                data.draw(st.sampled_from(STATES)),
                data.draw(st.none() | st.integers(0, 255)),
                None,
                None,
                None,
            )
            for j in chosen
        ]
        queue = _core.Snapshot.from_observations(rows)
        accounting = _core.Snapshot.from_observations([]) if with_accounting else None
        outcome = self.store.reconcile("c", queue, accounting, self.tick(), 0.0, 2)
        observed = {sid: JobState(state) for sid, state, *_ in rows}
        for t in outcome.transitions:
            # only a live job moves; terminal states are sticky
            assert not t.old_state.is_terminal
            self.model[t.job_id] = t.new_state
        for job_id, sid in self.sid.items():
            if sid in observed and not self.model[job_id].is_terminal:
                assert self.model[job_id] in (observed[sid], JobState.RUNNING)
            if accounting is None and sid not in observed:
                assert not any(t.job_id == job_id for t in outcome.transitions)

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        job_id = data.draw(st.sampled_from(sorted(self.model)))
        t = self.store.cancel(job_id, "by test", self.tick())
        if self.model[job_id].is_terminal:
            assert t is None
        else:
            assert t is not None and t.new_state is JobState.CANCELLED
            self.model[job_id] = JobState.CANCELLED

    @invariant()
    def store_matches_model(self) -> None:
        if not hasattr(self, "store"):
            return
        for job_id, state in self.model.items():
            record = self.store.get_job(job_id)
            assert record.state is state
            chain = self.store.get_transitions(job_id)
            assert chain[0].old_state is None and chain[0].new_state is JobState.CREATED
            for before, after in zip(chain, chain[1:]):
                assert after.old_state is before.new_state
            assert chain[-1].new_state is state
            if state.is_terminal:
                assert record.finished_at is not None


TestStoreMachine = StoreMachine.TestCase
TestStoreMachine.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
