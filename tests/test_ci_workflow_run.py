"""The example GitHub workflow, run step by step against the sandbox.

The jobs' shell steps run as written, in order, in the project folder; `gh` is a stand-in
that writes the forge's side (comments, issues, artifacts) to files, and the `uses:` steps
are done by the harness (checkout: the folder is there; upload-artifact: a copy). What is
shown: a PR gets one plan comment, updated on the next push and masked; the merge applies
exactly that plan; a plan gone stale is not applied and the PR is told; the nightly drift
job opens one issue, updates it, and closes it when drift is gone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CIO_KEY, Project, Sandbox, cio_manifest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = yaml.safe_load((ROOT / "examples/ci/github-actions.yml").read_text(encoding="utf-8"))
REPO = "team/contact-data"

pytestmark = pytest.mark.skipif(
    shutil.which("jq") is None, reason="needs jq (as on GitHub runners)"
)


class Forge:
    def __init__(self, project: Project, tmp: Path) -> None:
        self.project = project
        self.dir = tmp / "forge"
        self.bin = tmp / "bin"
        self.dir.mkdir()
        self.bin.mkdir()
        self.runs = 0
        (self.dir / "forge.json").write_text(json.dumps(
            {"comments": [], "issues": [], "runs": [], "merged": {}, "heads": {}, "calls": []}
        ))  # fmt: skip
        py = sys.executable
        (self.bin / "gh").write_text(f'#!/bin/sh\nexec "{py}" "{ROOT}/tests/ci_forge.py" "$@"\n')
        (self.bin / "reconcile").write_text(f'#!/bin/sh\nexec "{py}" -m reconcile "$@"\n')
        for f in self.bin.iterdir():
            f.chmod(0o755)

    @property
    def db(self) -> dict[str, Any]:
        return dict(json.loads((self.dir / "forge.json").read_text()))

    def _edit(self, change: dict[str, Any]) -> None:
        db = self.db
        for k, v in change.items():
            db[k].update(v) if isinstance(db[k], dict) else db[k].append(v)
        (self.dir / "forge.json").write_text(json.dumps(db))

    def run_job(self, job: str, event: dict[str, Any], sha: str) -> int:
        """Run one job's steps; returns the exit code of the first failing step (0: all passed)."""
        self.runs += 1
        run_id = self.runs
        spec = WORKFLOW["jobs"][job]
        ctx = {
            "github.server_url": "https://github.example",
            "github.repository": REPO,
            "github.run_id": str(run_id),
            "github.token": "token-of-the-run",
            "github.event.pull_request.number": str(event.get("pr", "")),
            "secrets.RECONCILE_PG_DSN": "",
            "secrets.CIOPULSE_PORTAL_CODE": "SANDBOX",
            "secrets.CIOPULSE_API_KEY": CIO_KEY,
        }

        def expand(v: Any) -> str:
            return re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", lambda m: ctx[m.group(1)], str(v))

        env = {k: v for k, v in os.environ.items() if k != "RECONCILE_SHOW_VALUES"}
        env.update({k: expand(v) for k, v in {**WORKFLOW["env"], **spec.get("env", {})}.items()})
        env.update(
            PATH=f"{self.bin}{os.pathsep}{env['PATH']}", PYTHONPATH=str(ROOT),
            FAKE_FORGE_DIR=str(self.dir), GITHUB_REPOSITORY=REPO, GITHUB_SHA=sha,
            GITHUB_WORKFLOW=WORKFLOW["name"], GITHUB_OUTPUT=str(self.dir / "output"),
        )  # fmt: skip
        work = self.project.root
        before = {p for p in work.rglob("*") if ".reconcile" not in p.parts}
        code = 0
        try:
            for step in spec["steps"]:
                uses = step.get("uses", "")
                if uses.startswith(("actions/checkout", "actions/setup-python")):
                    continue
                if step.get("name") == "Install reconcile":
                    continue  # the checkout under test is on PYTHONPATH already
                if uses.startswith("actions/upload-artifact"):
                    dest = self.dir / "artifacts" / str(run_id) / step["with"]["name"]
                    dest.mkdir(parents=True)
                    for name in step["with"]["path"].split():
                        if (work / name).exists():
                            shutil.copy2(work / name, dest / name)
                    continue
                assert "run" in step, step
                r = subprocess.run(
                    ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                    cwd=work, env=env, capture_output=True, text=True,
                )  # fmt: skip
                self.log = getattr(self, "log", "") + r.stdout + r.stderr
                if r.returncode != 0:
                    code = r.returncode
                    break
        finally:
            for p in sorted({p for p in work.rglob("*") if ".reconcile" not in p.parts} - before,
                            reverse=True):  # fmt: skip
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        if job == "plan":
            self._edit({"runs": {"id": run_id, "head": sha, "ok": code == 0}})
        return code

    def pr_push(self, pr: int, sha: str) -> int:
        self._edit({"heads": {str(pr): sha}})
        return self.run_job("plan", {"pr": pr}, sha)

    def merge(self, pr: int, merge_sha: str) -> int:
        self._edit({"merged": {merge_sha: pr}})
        return self.run_job("apply", {}, merge_sha)


PERSONAL = ["First1", "Last2", "agent0@example.com", "agent3@example.com"]


def test_the_github_workflow_works_end_to_end(
    project: Project, sandbox: Sandbox, tmp_path: Path
) -> None:
    forge = Forge(project, tmp_path)
    # A pull request adds three contacts, then a fourth in a second push.
    project.manifest(cio_manifest(3))
    assert forge.pr_push(1, "sha-pr1-a") == 0, forge.log
    project.manifest(cio_manifest(4))
    assert forge.pr_push(1, "sha-pr1-b") == 0, forge.log
    (comment,) = forge.db["comments"]  # one comment, updated in place
    assert comment["edits"] == 1 and comment["body"].startswith("<!-- reconcile:plan -->")
    assert "**4 to create**" in comment["body"]
    assert not [p for p in PERSONAL if p in comment["body"]], comment["body"]
    saved = forge.dir / "artifacts" / "2" / "reconcile-plan"
    assert (saved / "plan.json").stat().st_mode & 0o077 == 0  # the plan file is private
    assert "<svg" in (saved / "plan.html").read_text()
    assert sandbox.cio_contacts() == {}  # nothing sent before the merge

    # The merge applies exactly the reviewed plan.
    assert forge.merge(1, "sha-merge-1") == 0, forge.log
    assert sorted(sandbox.cio_contacts()) == [f"AGENT-{i:05d}" for i in range(4)]

    # PR 2 changes a title; before it merges, main moves on (another change lands):
    project.manifest(
        cio_manifest(4).replace(
            "job_title: Agent\n  - system_id: AGENT-00001",
            "job_title: Lead\n  - system_id: AGENT-00001",
        )
    )
    assert forge.pr_push(2, "sha-pr2") == 0, forge.log
    project.manifest(
        cio_manifest(5).replace(
            "job_title: Agent\n  - system_id: AGENT-00001",
            "job_title: Lead\n  - system_id: AGENT-00001",
        )
    )
    # ... so the merge commit is not what was reviewed: nothing is applied, the PR is told.
    assert forge.merge(2, "sha-merge-2") == 1, forge.log
    held = sandbox.cio_contacts()
    assert len(held) == 4 and held["AGENT-00000"]["job_title"] == "Agent"
    stale = [c for c in forge.db["comments"] if c["pr"] == 2 and "did not apply" in c["body"]]
    assert (
        len(stale) == 1 and "1 to create" in stale[0]["body"] and "1 to update" in stale[0]["body"]
    )
    assert not [p for p in PERSONAL if p in stale[0]["body"]]

    # Nightly: the unapplied change is drift; one issue, updated, then closed once applied.
    assert forge.run_job("drift", {}, "sha-merge-2") == 0, forge.log
    assert forge.run_job("drift", {}, "sha-merge-2") == 0, forge.log
    (issue,) = forge.db["issues"]
    assert issue["open"] and issue["edits"] == 1 and "reconcile-drift" in issue["labels"]
    assert "pending" in issue["body"] and not [p for p in PERSONAL if p in issue["body"]]
    assert project.run("apply", "--auto-approve").code == 0
    assert forge.run_job("drift", {}, "sha-merge-2") == 0, forge.log
    (issue,) = forge.db["issues"]
    assert not issue["open"]
