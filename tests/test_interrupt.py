"""Ctrl-C during apply, for every vendor: the first SIGINT stops new writes, lets those in
flight finish and be recorded, releases the lock and any vendor session, says what was and
was not done, and exits 130; a second SIGINT exits at once. A rerun converges with nothing
doubled and nothing lost."""

from __future__ import annotations

import random
import signal
import time

import pytest

from tests.conftest import Project, Sandbox
from tests.vendors import MANIFESTS, converge, finish, held, prepare, start_apply


def wait_for(sandbox: Sandbox, vendor: str, count: int, proc: object) -> None:
    deadline = time.monotonic() + 60
    while (
        time.monotonic() < deadline
        and proc.poll() is None  # type: ignore[attr-defined]
        and len(set(held(sandbox, vendor))) < count
    ):
        time.sleep(0.02)


def interrupt_trials(
    project: Project, sandbox: Sandbox, vendor: str, trials: int, n: int
) -> list[int]:
    prepare(project, sandbox, vendor, n)
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    # Slow enough that the signal always lands while writes are left (uploads carry 5 each).
    sandbox.faults(latency_ms=150 if vendor == "ucontact" else 20)
    codes = []
    for _ in range(trials):
        already = len(set(held(sandbox, vendor)))
        if already >= n - 60:  # keep enough left that the signal lands mid-apply
            break
        proc = start_apply(project, "--parallelism", "4")
        started = time.monotonic()
        wait_for(sandbox, vendor, already + rng.randrange(1, 15), proc)
        waited = round(time.monotonic() - started, 1)
        assert proc.poll() is None, f"apply finished before the signal (seed {seed})"
        proc.send_signal(signal.SIGINT)
        out, err = finish(proc)
        codes.append(proc.returncode)
        why = (seed, already, waited, out[-800:], err[-1500:])
        assert proc.returncode == 130, why
        assert "Interrupted:" in out and "not started" in out, why
        assert "Traceback" not in err and "Segmentation" not in err, why
        if vendor == "ucontact":
            assert sandbox.admin("GET", "/ucontact/sessions")["open"] == 0
        # every write in flight finished and was recorded
        assert "uncertain" not in project.run("state", "list").out
    sandbox.faults()
    converge(project, sandbox, vendor, n)
    return codes


@pytest.mark.parametrize("vendor", list(MANIFESTS))
def test_ctrl_c_stops_cleanly_exits_130_and_a_rerun_converges(
    project: Project, sandbox: Sandbox, vendor: str
) -> None:
    codes = interrupt_trials(project, sandbox, vendor, trials=2, n=200)
    assert codes and set(codes) == {130}


@pytest.mark.slow
@pytest.mark.parametrize("vendor", list(MANIFESTS))
def test_twenty_ctrl_c_at_random_moments_never_double_or_lose(
    project: Project, sandbox: Sandbox, vendor: str
) -> None:
    codes = interrupt_trials(project, sandbox, vendor, trials=20, n=2000)
    assert len(codes) == 20 and set(codes) == {130}


@pytest.mark.parametrize("vendor", list(MANIFESTS))
def test_a_second_ctrl_c_exits_at_once_and_the_journal_settles_it(
    project: Project, sandbox: Sandbox, vendor: str
) -> None:
    n = 120
    prepare(project, sandbox, vendor, n)
    sandbox.faults(latency_ms=300)  # writes stay in flight while the second signal arrives
    proc = start_apply(project, "--parallelism", "4")
    wait_for(sandbox, vendor, 3, proc)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = finish(proc, timeout=60)
    assert proc.returncode == 130, (out[-1500:], err[-1500:])
    assert "Stopped at once" in err
    if vendor == "ucontact":  # the session was ended on the way out
        assert sandbox.admin("GET", "/ucontact/sessions")["open"] == 0
    sandbox.faults()
    converge(project, sandbox, vendor, n)
