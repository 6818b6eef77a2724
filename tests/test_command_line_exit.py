"""The command users run (`python -m reconcile`, the `reconcile` script) ends the process
without freeing a run's data object by object: what it printed must still arrive whole
through a pipe, with the exit code the run decided, and state must be closed and kept."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import Project, Sandbox, cio_manifest, reconcile_subprocess_env


def command(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconcile", "-C", str(project.root), "--no-color", *args],
        capture_output=True,
        text=True,
        env={**reconcile_subprocess_env(), "RECONCILE_SHOW_VALUES": "1"},
        timeout=300,
    )


def test_a_large_output_arrives_whole_and_the_exit_code_is_the_runs(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(cio_manifest(3000))
    plan = command(project, "plan", "--format", "json", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stderr
    assert len(json.loads(plan.stdout)["changes"]) == 3000  # 1 MB of JSON, through a pipe
    applied = command(project, "apply", "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert len(sandbox.cio_contacts()) == 3000
    # State was committed and closed: a new process sees every record, and nothing to do.
    again = command(project, "plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    listed = command(project, "state", "list")
    assert listed.returncode == 0 and listed.stdout.count("cio/contacts/") == 3000
    bad = command(project, "plan", "--target", "cio/contacts/NOPE")
    assert bad.returncode == 1 and "NOPE" in bad.stderr
