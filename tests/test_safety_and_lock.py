"""One writer at a time, and the lock a killed run leaves behind is no lock at all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.conftest import Project, Sandbox, cio_manifest, reconcile_subprocess_env


def _apply_process(project: Project) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "reconcile", "-C", str(project.root), "--no-color", "apply", "--auto-approve"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=reconcile_subprocess_env(),
    )  # fmt: skip


def _wait_for_writes(sandbox: Sandbox, n: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(sandbox.cio_contacts()) >= n:
            return
        time.sleep(0.05)
    raise AssertionError("the first apply never started writing")


def test_second_apply_fails_at_once_naming_the_lock_holder(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(cio_manifest(300))
    sandbox.faults(latency_ms=20)
    first = _apply_process(project)
    try:
        _wait_for_writes(sandbox, 1)
        started = time.monotonic()
        second = project.run("apply", "--auto-approve")
        assert time.monotonic() - started < 5
        assert second.code == 1
        assert "locked by" in second.err and "running apply since" in second.err
        assert f"pid {first.pid}" in second.err
    finally:
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, out + err
    sandbox.faults()
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_lock_timeout_waits_for_the_other_run(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(40))
    sandbox.faults(latency_ms=20)
    first = _apply_process(project)
    try:
        _wait_for_writes(sandbox, 1)
        second = project.run("apply", "--auto-approve", "--lock-timeout", "60")
        assert second.code == 0, second.text
    finally:
        first.communicate(timeout=120)
    assert first.returncode == 0


def test_a_killed_apply_leaves_no_stale_lock(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(200))
    sandbox.faults(latency_ms=20)
    first = _apply_process(project)
    _wait_for_writes(sandbox, 5)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=30)
    sandbox.faults()
    r = project.run("apply", "--auto-approve")
    assert r.code == 0, r.text
    assert len(sandbox.cio_contacts()) == 200
