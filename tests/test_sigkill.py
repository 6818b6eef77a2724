"""SIGKILL at random moments of an apply, for every vendor: the journal holds every write
that may have been sent, and reruns converge with nothing doubled and nothing forgotten
(three trials per vendor here; fifty in the slow run, figures in the README)."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest

from tests.conftest import Project, Sandbox
from tests.vendors import MANIFESTS, converge, finish, held, prepare, start_apply


def kill_trials(project: Project, sandbox: Sandbox, vendor: str, trials: int, n: int) -> int:
    prepare(project, sandbox, vendor, n)
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    sandbox.faults(latency_ms=150 if vendor == "ucontact" else 5)
    kills = 0
    for _ in range(trials):
        already = len(set(held(sandbox, vendor)))
        if already >= n - 30:
            break
        proc = start_apply(project, "--parallelism", "8")
        target = already + rng.randrange(1, 25)
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline
            and proc.poll() is None
            and len(set(held(sandbox, vendor))) < target
        ):
            time.sleep(0.01)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        finish(proc)
    sandbox.faults()
    converge(project, sandbox, vendor, n, sessions_closed=False)
    if vendor == "ucontact":  # the rerun's own session was ended; only the killed ones remain
        assert sandbox.admin("GET", "/ucontact/sessions")["open"] <= kills
    return kills


@pytest.mark.parametrize("vendor", list(MANIFESTS))
def test_three_kills_then_a_rerun_converges(
    project: Project, sandbox: Sandbox, vendor: str
) -> None:
    assert kill_trials(project, sandbox, vendor, trials=3, n=200) >= 1


@pytest.mark.slow
@pytest.mark.parametrize("vendor", list(MANIFESTS))
def test_fifty_kills_then_a_rerun_converges(
    project: Project, sandbox: Sandbox, vendor: str
) -> None:
    kills = kill_trials(project, sandbox, vendor, trials=50, n=5000)
    print(f"{vendor}: {kills} kills")
    assert kills == 50


@pytest.mark.parametrize("vendor", ["ciopulse", "nubitalk"])
def test_answers_are_recorded_while_a_write_hangs_and_a_kill_leaves_only_that_one(
    project: Project, sandbox: Sandbox, vendor: str
) -> None:
    """Answers are committed in groups, with a later write's journal entry; a worker whose
    write hangs must not hold the others' answers back, and the hanging write's entry is
    committed before it is sent. So a kill then leaves exactly that write uncertain."""
    n = 40
    prepare(project, sandbox, vendor, n)
    method = "PUT" if vendor == "ciopulse" else "POST"
    slow = {"vendor": vendor, "fault": "slow", "method": method, "seconds": 8}
    sandbox.admin("POST", "/faults/script", json=[slow])
    proc = start_apply(project, "--parallelism", "4")

    def statuses() -> list[str]:
        return [ln.rsplit("\t", 1)[1] for ln in project.run("state", "list").out.splitlines()]

    deadline = time.monotonic() + 6
    seen = statuses()
    while time.monotonic() < deadline and sorted(seen) != ["ok"] * (n - 1) + ["uncertain"]:
        time.sleep(0.1)
        seen = statuses()
    held_then = len(set(held(sandbox, vendor)))
    os.kill(proc.pid, signal.SIGKILL)
    finish(proc)
    assert sorted(seen) == ["ok"] * (n - 1) + ["uncertain"], seen
    assert held_then == n - 1  # the hanging write had not been processed yet
    assert sorted(statuses()) == ["ok"] * (n - 1) + ["uncertain"]
    deadline = time.monotonic() + 30  # the vendor processes it once its sleep is over
    while time.monotonic() < deadline and len(set(held(sandbox, vendor))) < n:
        time.sleep(0.2)
    converge(project, sandbox, vendor, n, sessions_closed=False)
