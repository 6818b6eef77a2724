"""Crashes and vendor faults lose nothing and double nothing (CIOPulse and jtel)."""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import Project, Sandbox, cio_manifest, reconcile_subprocess_env


def jtel_manifest(n: int) -> str:
    rows = "".join(
        f'  - {{UserData: CRM-{i:05d}, Name: Name{i}, PhoneNumber1: "+49301{i:07d}"}}\n'
        for i in range(n)
    )
    return (
        "kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {name: Outbound Sales}\nitems:\n"
        + rows
    )


def held_keys(sandbox: Sandbox, vendor: str) -> list[str]:
    if vendor == "ciopulse":
        return list(sandbox.cio_contacts())
    return [c["UserData"] for c in sandbox.jtel_contacts() if c.get("DiallerCampaignsID") == 538]


def check_converged(project: Project, sandbox: Sandbox, vendor: str, n: int) -> None:
    keys = held_keys(sandbox, vendor)
    doubled = [k for k, c in collections.Counter(keys).items() if c > 1]
    assert not doubled, f"records held twice: {doubled[:5]}"
    assert len(keys) == n
    listed = project.run("state", "list").out.splitlines()
    assert len(listed) == n and all(line.endswith("\tok") for line in listed)
    plan = project.run("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.text


MANIFESTS = {"ciopulse": cio_manifest, "jtel": jtel_manifest}


@pytest.mark.slow
@pytest.mark.parametrize("vendor", ["ciopulse", "jtel"])
def test_sigkill_during_2000_creates_then_apply_again_converges(
    project: Project, sandbox: Sandbox, vendor: str
) -> None:
    n = 2000
    project.manifest(MANIFESTS[vendor](n))
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    sandbox.faults(latency_ms=2)
    kills = 0
    for _round in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-m", "reconcile", "-C", str(project.root), "--no-color", "apply", "--auto-approve", "--parallelism", "16"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=reconcile_subprocess_env(),
        )  # fmt: skip
        target = rng.randrange(50, n - 50)
        deadline = time.monotonic() + 120
        while (
            time.monotonic() < deadline
            and proc.poll() is None
            and len(held_keys(sandbox, vendor)) < target
        ):
            time.sleep(0.01)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
        target = len(held_keys(sandbox, vendor))
        if target >= n:
            break
    assert kills >= 1, f"the apply finished before it could be killed (seed {seed})"
    sandbox.faults()
    final = project.run("apply", "--auto-approve")
    assert final.code == 0, f"seed {seed}: {final.text[-2000:]}"
    check_converged(project, sandbox, vendor, n)


@pytest.mark.slow
@pytest.mark.parametrize("vendor", ["ciopulse", "jtel"])
def test_twenty_percent_faults_converge_without_duplicates(
    project: Project, sandbox: Sandbox, vendor: str
) -> None:
    n = 300
    project.manifest(MANIFESTS[vendor](n))
    sandbox.faults(
        error_rate=0.05,
        throttle_rate=0.05,
        drop_rate=0.05,
        lost_reply_rate=0.05,
        retry_after=0,
        seed=7,
    )
    codes = []
    for _ in range(4):
        r = project.run("apply", "--auto-approve", "--parallelism", "16")
        codes.append(r.code)
        if r.code == 0:
            break
    assert codes[-1] == 0, codes
    sandbox.faults()
    check_converged(project, sandbox, vendor, n)


def test_a_write_whose_answer_is_lost_is_resolved_on_the_next_run(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(cio_manifest(3))
    project.write_config(cio="retries: 0")
    sandbox.faults(lost_reply_rate=1.0)
    r = project.run("apply", "--auto-approve")
    assert r.code == 1
    assert "Unknown outcome" in r.out
    assert all(
        line.endswith("\tuncertain") for line in project.run("state", "list").out.splitlines()
    )
    assert len(sandbox.cio_contacts()) == 3  # committed at the vendor, answer lost
    journal = project.run("state", "journal").out.splitlines()
    assert len(journal) == 3 and all("\tcreate\t" in ln and "\tunknown" in ln for ln in journal)
    sandbox.faults()
    plan = project.run("plan", "--format", "json")
    assert '"action": "adopt"' in plan.out and '"action": "create"' not in plan.out
    assert project.run("apply", "--auto-approve").code == 0
    check_converged(project, sandbox, "ciopulse", 3)


def test_rate_limit_answers_are_retried_after_the_vendors_delay(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(cio_manifest(20))
    sandbox.faults(throttle_rate=0.5, retry_after=0, seed=3)
    r = project.run("apply", "--auto-approve")
    assert r.code == 0, r.text
    sandbox.faults()
    check_converged(project, sandbox, "ciopulse", 20)


def test_a_plan_error_stops_everything_and_a_vendor_refusal_stops_only_its_record(
    project: Project, sandbox: Sandbox
) -> None:
    sandbox.admin(
        "PUT",
        "/ciopulse/contacts/LEAD",
        json={"first_name": "L", "last_name": "L", "email": "lead@example.com"},
    )
    sandbox.admin("PUT", "/ciopulse/support-groups/G2", json={"lead": "LEAD", "also_alert": []})
    project.manifest(cio_manifest(5, prune="all"))
    r = project.run("apply", "--auto-approve", "--force")
    assert r.code == 1 and "nothing was applied" in r.err
    # The plan refuses the delete before anything is sent (the support groups are read).
    assert "cio/contacts/LEAD: cannot be deleted" in r.out and "'G2'" in r.out
    assert sorted(sandbox.cio_contacts()) == ["LEAD"]

    project.manifest(cio_manifest(5))  # the LEAD problem gone; one create refused by the vendor
    sandbox.admin(
        "POST",
        "/faults/script",
        json={
            "vendor": "ciopulse",
            "fault": "status",
            "status": 400,
            "method": "PUT",
            "path_contains": "AGENT-00002",
        },
    )
    r = project.run("apply", "--auto-approve")
    assert r.code == 1 and "Failed create cio/contacts/AGENT-00002" in r.out
    assert "4 succeeded, 1 failed" in r.out
    assert sorted(sandbox.cio_contacts()) == [
        "AGENT-00000",
        "AGENT-00001",
        "AGENT-00003",
        "AGENT-00004",
        "LEAD",
    ]
