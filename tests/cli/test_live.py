"""The live view: the pure renderer by value, and the real thing in a tmux
terminal of fixed size (skipped when tmux is not installed)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from molq.cli.live import LiveRow, LiveState, change_line, count, order, render, summary_line

Molq = Any  # the fixture type lives in conftest.py
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
NOW = 1_800_000_000.0


def row(n: int, state: str, **kw: Any) -> LiveRow:
    job_id = f"{n:08x}-0000-4000-8000-000000000000"
    fields: dict[str, Any] = {"submitted_at": NOW - 100 + n, "started_at": NOW - 90 + n, "command": f"job {n}"}
    if state in ("succeeded", "failed", "cancelled", "timed_out", "out_of_memory", "lost"):
        fields["finished_at"] = NOW - 10
    fields.update(kw)
    return LiveRow(key=job_id, job_id=job_id, cluster="local", state=state, **fields)


def state_of(rows: list[LiveRow], **kw: Any) -> LiveState:
    return LiveState("watch", tuple(rows), now=NOW, updated_at=NOW, **kw)


MIXED = [
    row(1, "succeeded"),
    row(2, "running"),
    row(3, "failed", note="exit 3"),
    row(4, "queued"),
    row(5, "succeeded"),
    row(6, "cancelled"),
    row(7, "running"),
    row(8, "timed_out"),
]


def test_counts_and_progress() -> None:
    c = count(MIXED)
    assert (c.total, c.running, c.pending, c.succeeded, c.failed, c.cancelled, c.finished) == (8, 2, 1, 2, 2, 1, 5)
    lines = render(state_of(MIXED), 80, 24)
    assert lines[1] == "8 jobs   running 2   pending 1   succeeded 2   failed 2   cancelled 1"
    bar = lines[2]
    assert bar.endswith(" 5/8 finished  62%")
    inside = bar[1 : bar.index("]")]
    assert len(inside) == 80 - len(" 5/8 finished  62%") - 2
    assert inside.count("#") == round(len(inside) * 5 / 8)


def test_out_of_memory_is_a_failure() -> None:
    rows = [row(1, "succeeded"), row(2, "out_of_memory", note="job exceeded its memory limit"), row(3, "running")]
    c = count(rows)
    assert (c.failed, c.finished, c.pending) == (1, 2, 0)
    assert [r.state for r in order(rows)] == ["out_of_memory", "running", "succeeded"]
    assert rows[1].finished
    lines = render(state_of(rows), 100, 30)
    header = next(line for line in lines if line.startswith("STATE"))
    shown = next(line for line in lines if line.startswith("out_of_memory"))
    assert shown.index("[job exceeded") == header.index("COMMAND"), "the state column fits the longest state"


def test_failures_first_then_running_pending_succeeded() -> None:
    lines = render(state_of(MIXED), 100, 30)
    header = next(i for i, line in enumerate(lines) if line.startswith("STATE"))
    states = [line.split()[0] for line in lines[header + 1 : header + 1 + len(MIXED)]]
    assert states == ["timed_out", "failed", "cancelled", "running", "running", "queued", "succeeded", "succeeded"]
    assert [r.state for r in order(MIXED)][:2] == ["timed_out", "failed"]
    failed_line = next(line for line in lines if line.startswith("failed"))
    assert "[exit 3] job 3" in failed_line


@pytest.mark.parametrize("width,height", [(20, 3), (40, 8), (80, 24), (100, 30), (300, 100)])
def test_frame_fits_the_terminal(width: int, height: int) -> None:
    many = [row(i, ["running", "failed", "succeeded", "queued"][i % 4]) for i in range(60)]
    for color in (False, True):
        lines = render(state_of(many, notes=("cluster x: poll failed",)), width, height, color=color, unicode=True)
        assert len(lines) <= height
        for line in lines:
            assert len(ANSI.sub("", line)) <= width, line
        if not color:
            assert not any("\x1b" in line for line in lines)


def test_overflow_says_how_many_more() -> None:
    many = [row(i, "running") for i in range(40)]
    lines = render(state_of(many), 100, 20)
    assert len(lines) == 20
    assert re.match(r"\.\.\. \d+ more \(\d+ running", lines[-2])
    assert lines[-1].startswith("q quit")


def test_elapsed_ticks_with_now() -> None:
    r = row(1, "running", started_at=NOW - 65)
    assert r.elapsed(NOW) == 65
    line = next(line for line in render(state_of([r]), 100, 10) if line.startswith("running"))
    assert "1m05s" in line


def test_retry_pending_is_not_finished() -> None:
    r = row(1, "failed", retry_pending=True)
    c = count([r])
    assert (c.finished, c.failed, c.pending) == (0, 0, 1)


def test_plain_lines() -> None:
    r = row(3, "failed", note="exit 3", attempt=2)
    assert change_line(r, "running", NOW).endswith("00000003  local  running -> failed  (attempt 2; exit 3)")
    assert summary_line(MIXED) == "8 jobs: 2 succeeded, 2 failed, 1 cancelled, 3 not finished"


# -- in a real terminal -------------------------------------------------------------------
class Tmux:
    """A private tmux server with one pane of a fixed size running bash."""

    def __init__(self, molq: Molq, width: int = 100, height: int = 30) -> None:
        self.socket = f"molq-test-{uuid.uuid4().hex[:8]}"
        self.molq = molq
        self.tmux(
            [
                "new-session",
                "-d",
                "-x",
                str(width),
                "-y",
                str(height),
                "-s",
                "t",
                "env",
                "-i",
                f"PATH={molq.env['PATH']}",
                f"HOME={molq.env.get('HOME', '/root')}",
                f"MOLQ_HOME={molq.home}",
                "TERM=xterm-256color",
                "LANG=C.UTF-8",
                "bash",
                "--norc",
                "--noprofile",
            ]
        )
        self.send(f"cd {shlex.quote(str(molq.cwd))}; PS1='$ '; clear")

    def tmux(self, args: list[str]) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True, timeout=30
        ).stdout

    def send(self, *keys: str, enter: bool = True) -> None:
        self.tmux(["send-keys", "-t", "t", *keys, *(["Enter"] if enter else [])])

    def screen(self) -> str:
        return self.tmux(["capture-pane", "-p", "-t", "t"])

    def flags(self) -> str:
        return self.tmux(["display-message", "-p", "-t", "t", "#{alternate_on} #{cursor_flag}"]).strip()

    def until(self, check: Callable[[str], bool], timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if check(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"the screen never got there:\n{text}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


@pytest.fixture
def tmux(molq: Molq) -> Any:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux); the live view is checked through it")
    pane = Tmux(molq)
    yield pane
    pane.close()


def exited(screen: str) -> bool:
    return re.search(r"^EXIT=\d+", screen, re.M) is not None


def molq_cmd(molq: Molq, args: str) -> str:
    return f"{shlex.join(molq.argv)} {args}"


def _body(screen: str) -> list[str]:
    lines = screen.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("STATE"))
    return [line for line in lines[start + 1 :] if line.strip() and not line.startswith(("q quit", "..."))]


def test_watch_all_live_then_quit_with_q(molq: Molq, tmux: Tmux) -> None:
    # two at a time on a 2-CPU machine: the short jobs run beside the first long one
    first = molq.submit("--", "sleep", "60")
    bad = [molq.submit("--command", "exit 1") for _ in range(2)]
    good = molq.submit("--", "true")
    long = [first, molq.submit("--", "sleep", "60")]
    tmux.send("stty -g > before.stty")
    tmux.send(molq_cmd(molq, "watch --all --interval 0.3") + "; echo EXIT=$?; stty -g > after.stty")
    screen = tmux.until(lambda s: "failed 2" in s and "succeeded 1" in s and "running 2" in s)
    lines = screen.splitlines()
    assert lines[0].startswith("molq watch") and "updated" in lines[0]
    assert lines[1] == "5 jobs   running 2   pending 0   succeeded 1   failed 2   cancelled 0"
    assert lines[2].startswith("[") and lines[2].rstrip().endswith("3/5 finished  60%")
    assert all(len(line) <= 100 for line in lines)
    states = [line.split()[0] for line in _body(screen)]
    assert states == ["failed", "failed", "running", "running", "succeeded"]
    body = "\n".join(_body(screen))
    for job in (*long, *bad, good):
        assert job[:8] in body
    assert tmux.flags() == "1 0"  # alternate screen, cursor hidden
    tmux.send("q", enter=False)
    after = tmux.until(exited)
    assert "EXIT=0" in after
    assert "STATE" not in after and "finished" not in after  # the live view left no trace
    assert tmux.flags() == "0 1"  # normal screen, cursor visible
    tmux.until(lambda s: (molq.cwd / "after.stty").exists() and s.rstrip().endswith("$"))
    assert (molq.cwd / "before.stty").read_text() == (molq.cwd / "after.stty").read_text()
    molq.ok("cancel", *long)


def test_monitor_leaves_a_clean_terminal_on_ctrl_c(molq: Molq, tmux: Tmux) -> None:
    job = molq.submit("--", "sleep", "60")
    tmux.send("stty -g > before.stty")
    tmux.send(molq_cmd(molq, "monitor") + "; echo EXIT=$?; stty -g > after.stty")
    tmux.until(lambda s: "running 1" in s and job[:8] in s)
    assert tmux.flags() == "1 0"
    tmux.send("C-c", enter=False)
    after = tmux.until(exited)
    assert "EXIT=0" in after and "Traceback" not in after and "STATE" not in after
    assert tmux.flags() == "0 1"
    tmux.until(lambda s: (molq.cwd / "after.stty").exists() and s.rstrip().endswith("$"))
    assert (molq.cwd / "before.stty").read_text() == (molq.cwd / "after.stty").read_text()
    molq.ok("cancel", job)


def test_watch_ends_by_itself_with_a_summary(molq: Molq, tmux: Tmux) -> None:
    jobs = [molq.submit("--command", "sleep 0.5"), molq.submit("--command", "sleep 0.5; exit 9")]
    tmux.send(molq_cmd(molq, "watch " + " ".join(j[:8] for j in jobs)) + "; echo EXIT=$?")
    after = tmux.until(exited)
    assert "EXIT=1" in after
    assert "2 jobs: 1 succeeded, 1 failed" in after
    table = after[after.index("JOB ID") :]
    assert table.index(jobs[1][:8]) < table.index(jobs[0][:8])  # the failure first
    assert tmux.flags() == "0 1"


def test_submit_wait_progress_line_in_a_terminal(molq: Molq, tmux: Tmux) -> None:
    tmux.send(molq_cmd(molq, "submit --wait -- sleep 1.5") + "; echo EXIT=$?")
    during = tmux.until(lambda s: " running " in s)
    assert re.search(r"job [0-9a-f]{8} running \d+s", during)
    after = tmux.until(exited)
    assert "EXIT=0" in after and re.search(r"Job [0-9a-f-]{36} succeeded", after)
    assert " running " not in after  # the progress line was wiped


def test_monitor_in_a_pipe_prints_one_line_per_change(molq: Molq) -> None:
    job = molq.submit("--command", "sleep 1")
    proc = subprocess.Popen(
        [*molq.argv, "monitor", "--interval", "0.2"],
        cwd=molq.cwd,
        env=molq.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen.append(line)
        if "-> succeeded" in line:
            break
    proc.terminate()
    proc.wait(timeout=10)
    assert any(job[:8] in line and line.rstrip().endswith("running") for line in seen), seen
    assert any("running -> succeeded" in line for line in seen), seen
    assert not any("\x1b" in line for line in seen)


def test_ctrl_z_gives_the_shell_a_clean_terminal_and_fg_takes_it_back(molq: Molq, tmux: Tmux) -> None:
    job = molq.submit("--", "sleep", "60")
    tmux.send(molq_cmd(molq, "monitor"))
    tmux.until(lambda s: "running 1" in s)
    tmux.send("C-z", enter=False)
    stopped = tmux.until(lambda s: "Stopped" in s)
    assert "STATE" not in stopped
    assert tmux.flags() == "0 1"
    tmux.send("fg")
    tmux.until(lambda s: "running 1" in s and job[:8] in s)
    assert tmux.flags() == "1 0"
    tmux.send("q", enter=False)
    tmux.until(lambda s: "running 1" not in s and s.rstrip().endswith("$"))
    assert tmux.flags() == "0 1"
    molq.ok("cancel", job)


def test_colour_on_a_terminal_only(molq: Molq, tmux: Tmux) -> None:
    assert molq("submit", "--wait", "--command", "exit 1").returncode == 1

    def escapes() -> str:
        return tmux.tmux(["capture-pane", "-p", "-e", "-t", "t"])

    tmux.send(molq_cmd(molq, "list") + "; echo DONE1")
    tmux.until(lambda s: re.search(r"^DONE1", s, re.M) is not None)
    assert "\x1b[31mfailed" in escapes()  # red
    tmux.send("clear; NO_COLOR=1 " + molq_cmd(molq, "list") + "; echo DONE2")
    tmux.until(lambda s: re.search(r"^DONE2", s, re.M) is not None)
    plain = escapes()
    assert "failed" in plain and "\x1b[31m" not in plain
