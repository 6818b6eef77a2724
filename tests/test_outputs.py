"""Output contracts: JSON documents match their schemas, UTF-8 goes out raw, the demo runs."""

from __future__ import annotations

import json

import jsonschema
import pytest

from reconcile.cli import run_cli
from reconcile.manifest.schemas import drift_schema, plan_schema
from tests.conftest import Project, Sandbox, cio_manifest


def test_plan_and_drift_json_match_their_schemas(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(3))
    plan = json.loads(project.run("plan", "--format", "json").out)
    jsonschema.validate(plan, plan_schema())
    assert plan["format_version"] == 1 and plan["summary"]["create"] == 3
    assert project.run("apply", "--auto-approve").code == 0
    c = sandbox.cio_contacts()["AGENT-00002"]
    sandbox.admin("PUT", "/ciopulse/contacts/AGENT-00002", json={**c, "last_name": "X"})
    drift = json.loads(project.run("drift", "--format", "json").out)
    jsonschema.validate(drift, drift_schema())
    assert drift["summary"]["changed_outside"] == 1


def test_non_ascii_values_are_sent_as_raw_utf8(project: Project, sandbox: Sandbox) -> None:
    # The emulator, like CIOPulse, refuses any backslash: a \\u escape would fail the apply.
    project.manifest(
        "kind: ciopulse/contacts\nprovider: cio\nitems:\n  - {system_id: U1, first_name: Jürgen, last_name: Ødegård, email: jürgen@example.com, job_title: Straßenbahn 🚋}\n"
    )
    r = project.run("apply", "--auto-approve")
    assert r.code == 0, r.text
    held = sandbox.cio_contacts()["U1"]
    assert held["first_name"] == "Jürgen" and held["job_title"] == "Straßenbahn 🚋"
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_demo_walks_through_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["--no-color", "demo"]) == 0
    out = capsys.readouterr().out
    for step in (
        "1. Validate",
        "3. Apply it",
        "6. The scheduled drift check notices (exit 2)",
        "Drift: 1 changed outside",
        "Demo finished: every step behaved as expected.",
    ):
        assert step in out
