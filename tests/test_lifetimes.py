"""Item lifetimes on a fixed clock: valid_from, expires, the project's time zone."""

from __future__ import annotations

import json

from tests.conftest import Project, Sandbox

MANIFEST = """\
kind: ciopulse/contacts
provider: cio
items:
  - {system_id: AGENT-1, first_name: F, last_name: L, email: a@example.com}
  - {system_id: AGENT-2, first_name: F, last_name: T, email: t@example.com, expires: 2026-12-03}
  - {system_id: AGENT-3, first_name: F, last_name: L, email: l@example.com, valid_from: "2026-12-02T09:00"}
"""


def at(when: str) -> dict[str, str]:
    return {"RECONCILE_NOW": when}


def test_an_item_expires_as_a_reviewable_delete_and_is_announced_a_week_ahead(
    project: Project, sandbox: Sandbox
) -> None:
    project.write_config(extra="timezone: Europe/Berlin")
    project.manifest(MANIFEST)
    first = project.run("plan", "--format", "json", env=at("2026-12-01T12:00:00+00:00"))
    assert first.code == 0, first.text
    plan = json.loads(first.out)
    created = sorted(c["key"] for c in plan["changes"] if c["action"] == "create")
    assert created == ["AGENT-1", "AGENT-2"]  # AGENT-3 is not valid yet
    assert {(u["address"], u["event"], u["when"]) for u in plan["upcoming"]} == {
        ("cio/contacts/AGENT-2", "expires", "2026-12-03"),
        ("cio/contacts/AGENT-3", "valid_from", "2026-12-02 09:00"),
    }
    text = project.run("plan", env=at("2026-12-01T12:00:00+00:00")).out
    assert "cio/contacts/AGENT-2 expires 2026-12-03" in text
    assert project.run("apply", "--auto-approve", env=at("2026-12-01T12:00:00+00:00")).code == 0
    assert sorted(sandbox.cio_contacts()) == ["AGENT-1", "AGENT-2"]

    # 2 December, 08:30 UTC is 09:30 in Berlin: AGENT-3 has arrived.
    r = project.run("apply", "--auto-approve", env=at("2026-12-02T08:30:00+00:00"))
    assert r.code == 0, r.text
    assert sorted(sandbox.cio_contacts()) == ["AGENT-1", "AGENT-2", "AGENT-3"]

    # 2 December 23:30 UTC is already 3 December in Berlin: AGENT-2 has expired and the
    # plan shows it as a delete, which apply then makes.
    late = at("2026-12-02T23:30:00+00:00")
    p = project.run("plan", "--detailed-exitcode", env=late)
    assert p.code == 2
    assert "- cio/contacts/AGENT-2" in p.out
    assert project.run("apply", "--auto-approve", env=late).code == 0
    assert sorted(sandbox.cio_contacts()) == ["AGENT-1", "AGENT-3"]
    assert project.run("plan", "--detailed-exitcode", env=late).code == 0


def test_bad_lifetimes_are_named_at_their_line_before_any_request(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(
        "kind: ciopulse/contacts\nprovider: cio\nitems:\n"
        "  - {system_id: A, first_name: F, last_name: A, email: a@example.com, expires: tomorrow}\n"
        "  - {system_id: B, valid_from: 2026-12-05, expires: 2026-12-01}\n"
    )
    before = sandbox.requests()
    r = project.run("plan")
    assert r.code == 1
    assert "main.yaml:4:" in r.err and "items[0].expires" in r.err and "not a date" in r.err
    assert "main.yaml:5:" in r.err and "not after valid_from" in r.err
    assert sandbox.requests() == before
    project.write_config(extra="timezone: Mars/Olympus")
    bad = project.run("validate")
    assert bad.code == 1 and "reconcile.yaml" in bad.err and "not a time zone" in bad.err


def test_lifetimes_work_in_csv_item_files(project: Project, sandbox: Sandbox) -> None:
    project.write(
        "manifests/people.csv",
        "system_id,first_name,last_name,email,expires\nA,Ann,A,a@example.com,2026-12-01\nB,Bob,B,b@example.com,\n",
    )
    project.manifest("kind: ciopulse/contacts\nprovider: cio\nitems_from: people.csv\n")
    r = project.run("plan", "--format", "json", env=at("2026-12-05T00:00:00"))
    assert r.code == 0, r.text
    assert [c["key"] for c in json.loads(r.out)["changes"]] == ["B"]
