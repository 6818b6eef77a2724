"""Nubitalk: SIGKILL during creates leaves no contact twice and every id in state; bad
manifests are refused with file:line:col before any request."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import Project, Sandbox, reconcile_subprocess_env
from tests.test_nubitalk_flow import HEAD, contacts, manifest, nubitalk_requests, state_ids


def many(n: int) -> str:
    rows = "".join(
        f'  - {{Address: "+49301{i:07d}", Priority: 1, AgentID: 7, Metadata: {{Amount: {i}}}}}\n'
        for i in range(n)
    )
    return HEAD + "items:\n" + rows


def kill_during_apply(project: Project, sandbox: Sandbox, at: int) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconcile", "-C", str(project.root), "--no-color", "apply", "--auto-approve", "--parallelism", "16"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=reconcile_subprocess_env(),
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and len(contacts(sandbox)) < at:
        time.sleep(0.005)
    assert proc.poll() is None, "the apply finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def settle(project: Project, sandbox: Sandbox, n: int) -> None:
    """Rerun; with the default duplicate answer, the few creates whose answers died with
    the process are imported from the vendor's screen, as the plan's warning says."""
    project.run("apply", "--auto-approve")
    held = contacts(sandbox)
    for address, rid in state_ids(project).items():
        if rid == "-":
            addr = f"onecontact/contacts/486/{address}"
            assert project.run("import", addr, str(held[address]["id"])).code == 0
    final = project.run("apply", "--auto-approve")
    assert final.code == 0, final.text[-2000:]
    keys = [c["Address"] for c in sandbox.admin("GET", "/nubitalk/contacts")]
    doubled = [k for k, c in collections.Counter(keys).items() if c > 1]
    assert not doubled, f"contacts held twice: {doubled[:5]}"
    assert len(keys) == n
    assert state_ids(project) == {a: str(c["id"]) for a, c in contacts(sandbox).items()}
    assert all(line.endswith("\tok") for line in project.run("state", "list").out.splitlines())
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_sigkill_during_creates_then_a_rerun_doubles_nothing(
    project: Project, sandbox: Sandbox
) -> None:
    n = 200
    project.manifest(many(n))
    sandbox.faults(latency_ms=5)
    kill_during_apply(project, sandbox, at=60)
    sandbox.faults()
    settle(project, sandbox, n)


@pytest.mark.slow
@pytest.mark.parametrize("answer", ["failure", "existing_id"])
def test_sigkill_during_2000_creates_then_a_rerun_doubles_nothing(
    project: Project, sandbox: Sandbox, answer: str
) -> None:
    n = 2000
    sandbox.admin("PUT", "/nubitalk/settings", json={"duplicate_answer": answer})
    project.manifest(many(n))
    sandbox.faults(latency_ms=2)
    kill_during_apply(project, sandbox, at=700)
    kill_during_apply(project, sandbox, at=1400)
    sandbox.faults()
    settle(project, sandbox, n)


BAD = """\
kind: nubitalk/contacts
provider: onecontact
service: 486
required: [Address, Priority, AgentID, Bogus]
metadata: {Amount: int, Callback: datetime, VIP: boolean, Notes: string, Odd: float}
items:
  - {Address: "+49301230001", Priority: 1, AgentID: 7, NextTry: "2026-02-31T09:00:00"}
  - {Address: "+49301230002", Priority: 1, AgentID: 7, Metadata: {Amount: "three"}}
  - {Address: "+49301230003", Priority: 1, AgentID: 7, Metadata: {Callback: "2026-12-01 09:00"}}
  - {Address: "+49301230004", Priority: 1, AgentID: 7, Metadata: {VIP: "yes please"}}
  - {Address: "+49301230005", Priority: 1, AgentID: 7, Metadata: {Nope: 1}}
  - {Address: "+49301230006", Priority: 1}
  - {Address: "+49301230001", Priority: 1, AgentID: 7}
  - {Address: "+49301230008", Priority: 1, AgentID: 7, NextTry: "1700-01-01T00:00:00"}
  - {Address: "+49301230009", Priority: 1, AgentID: 7, Metadata: {Notes: 42}}
"""


def test_bad_types_dates_and_required_fields_are_validate_errors_with_places(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(BAD)
    r = project.run("validate")
    assert r.code == 1 and "main.yaml:5:" in r.err and "'float' is not allowed" in r.err
    project.manifest(BAD.replace(", Odd: float", ""))
    for command in ("validate", "plan"):
        r = project.run(command)
        assert r.code == 1
        for where, what in [
            ("main.yaml:4:", "'Bogus' is neither a field"),
            ("main.yaml:7:", "2026-02-31"),
            ("main.yaml:8:", "'three' is not an int"),
            ("main.yaml:9:", "2026-12-01 09:00"),
            ("main.yaml:10:", "not a boolean"),
            ("main.yaml:11:", "'Nope' has no type"),
            ("main.yaml:12:", "AgentID is required"),
            ("main.yaml:13:", "declared twice"),
            ("main.yaml:14:", "before 1753"),
            ("main.yaml:15:", "not a string"),
        ]:
            line = next((ln for ln in r.err.splitlines() if where in ln and what in ln), None)
            assert line is not None, (where, what, r.err)
    assert nubitalk_requests(sandbox) == 0


def test_a_collection_keyed_by_a_metadata_crm_id_follows_an_address_change(
    project: Project, sandbox: Sandbox
) -> None:
    head = HEAD.replace("metadata: {", "key: CrmId\nmetadata: {CrmId: string, ")
    sandbox.admin("PUT", "/nubitalk/services/486", json={"metadata": {"CrmId": "string"}})
    project.manifest(
        manifest(
            '  - {Address: "+49301230001", Priority: 1, AgentID: 7, Metadata: {CrmId: C-1}}\n',
            head=head,
        )
    )
    assert project.run("apply", "--auto-approve").code == 0
    assert "onecontact/contacts/486/C-1" in project.run("state", "list").out
    project.manifest(
        manifest(
            '  - {Address: "+49301230099", Priority: 1, AgentID: 7, Metadata: {CrmId: C-1}}\n',
            head=head,
        )
    )
    plan = project.run("plan")
    assert "~ onecontact/contacts/486/C-1" in plan.out and "Address" in plan.out
    assert project.run("apply", "--auto-approve").code == 0
    assert sorted(contacts(sandbox)) == ["+49301230099"]
    missing = manifest('  - {Address: "+49301230001", Priority: 1, AgentID: 7}\n', head=head)
    project.manifest(missing)
    r = project.run("validate")
    assert r.code == 1 and "Metadata.CrmId is missing" in r.err
