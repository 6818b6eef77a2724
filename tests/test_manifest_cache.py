"""The cache of checked manifests: a run over unchanged files reuses what they loaded to,
and any change to a manifest, an items file or the cache itself is seen at once."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Project, Sandbox, cio_manifest


def cache_entries(project: Project) -> list[Path]:
    return sorted((project.root / ".reconcile" / "cache").glob("*.json"))


def test_unchanged_manifests_are_kept_and_an_edit_is_seen(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(cio_manifest(3))
    assert project.run("apply", "--auto-approve").code == 0
    (entry,) = cache_entries(project)
    again = project.run("plan", "--detailed-exitcode")
    assert again.code == 0, again.text
    assert cache_entries(project) == [entry]  # read, not rewritten
    project.manifest(cio_manifest(3).replace("job_title: Agent", "job_title: Boss", 1))
    plan = project.run("plan", "--format", "json")
    (change,) = json.loads(plan.out)["changes"]
    assert change["address"] == "cio/contacts/AGENT-00000"
    assert change["fields"] == [{"name": "job_title", "before": "Agent", "after": "Boss"}]
    assert len(cache_entries(project)) == 1  # the entry of the old content is gone
    assert project.run("apply", "--auto-approve").code == 0
    assert sandbox.cio_contacts()["AGENT-00000"]["job_title"] == "Boss"


def test_an_edited_items_file_is_seen_though_its_manifest_is_unchanged(
    project: Project, sandbox: Sandbox
) -> None:
    rows = "system_id,first_name,last_name,email\nA-1,Ann,Lee,ann@example.com\nA-2,Bob,Ray,bob@example.com\n"
    project.write("manifests/people.csv", rows)
    project.manifest("kind: ciopulse/contacts\nprovider: cio\nitems_from: people.csv\n")
    assert project.run("apply", "--auto-approve").code == 0
    assert project.run("plan", "--detailed-exitcode").code == 0
    project.write("manifests/people.csv", rows.replace("Bob,", "Robert,"))
    plan = project.run("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "~ cio/contacts/A-2" in plan.out
    assert project.run("apply", "--auto-approve").code == 0
    assert sandbox.cio_contacts()["A-2"]["first_name"] == "Robert"


def test_a_damaged_or_foreign_cache_is_ignored(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(2))
    assert project.run("apply", "--auto-approve").code == 0
    (entry,) = cache_entries(project)
    for junk in (b"\x80not json", b"[]", b'{"format": 1, "file": "x"}'):
        entry.write_bytes(junk)
        plan = project.run("plan", "--detailed-exitcode")
        assert plan.code == 0, plan.text
    # Each damaged entry was ignored, the file loaded again and a sound entry written back.
    check, _, blob = entry.read_bytes().partition(b"\n")
    doc = json.loads(blob)
    assert doc["collections"][0]["keys"] == ["AGENT-00000", "AGENT-00001"]
    # An item's fields are kept as JSON text and decoded when used: a sound entry whose
    # text was damaged is refused as a whole when read, not half way through a plan.
    entry.write_bytes(check + b"\n" + blob.replace(b'\\"email\\":', b'\\"email\\"', 1))
    plan = project.run("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.text


def test_a_cached_run_plans_exactly_what_a_fresh_load_plans(
    project: Project, sandbox: Sandbox
) -> None:
    # Fields out of name order, numbers of three JSON types: the cached items (kept as
    # JSON text) must give the same changes, in the same order, as the file itself.
    manifest = (
        "kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {id: 538}\nitems:\n"
        "  - UserData: K-1\n    Name: Zed\n    PhoneNumber1: '+4930123456'\n    Amount: 1.5\n"
        "    FirstName: Al\n    locked: true\n"
    )
    project.manifest(manifest)
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(manifest.replace("Zed", "Ann").replace("1.5", "2").replace("Al\n", "Bo\n"))
    cold = project.run("plan", "--format", "json")
    warm = project.run("plan", "--format", "json")
    assert cold.code == warm.code == 0, cold.text + warm.text
    assert len(cache_entries(project)) == 1
    (change,) = json.loads(cold.out)["changes"]
    assert [f["name"] for f in change["fields"]] == ["Name", "Amount", "FirstName"]
    assert [f["after"] for f in change["fields"]] == ["Ann", 2, "Bo"]
    assert json.loads(warm.out)["changes"] == json.loads(cold.out)["changes"]


def test_bad_input_is_still_reported_with_its_place_after_cached_runs(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(cio_manifest(2))
    assert project.run("plan", "--detailed-exitcode").code == 2
    assert project.run("plan", "--detailed-exitcode").code == 2
    project.manifest(cio_manifest(2).replace("email: agent1@example.com", "email: 12"))
    before = sandbox.requests()
    bad = project.run("plan", "--detailed-exitcode")
    assert bad.code not in (0, 2), bad.text
    assert "manifests/main.yaml:13:" in bad.text, bad.text
    assert sandbox.requests() == before


def test_the_cache_keeps_no_credentials(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(2))
    assert project.run("plan", "--detailed-exitcode").code == 2
    (entry,) = cache_entries(project)
    text = entry.read_text()
    config = (project.root / "reconcile.yaml").read_text()
    assert "sandbox0000" in config or "api_key" in config
    assert "api_key" not in text and "sandbox0000" not in text


def test_a_settings_change_is_a_miss(project: Project, sandbox: Sandbox) -> None:
    # Loaded and kept while formulas are allowed; refused again once they are not.
    project.write(
        "manifests/items.csv",
        "system_id,first_name,last_name,email\nA,=SUM(A1:A9),L,a@example.com\n",
    )
    project.manifest("kind: ciopulse/contacts\nprovider: cio\nitems_from: items.csv\n")
    project.write_config(policy="{max_delete_percent: 10, allow_csv_formulas: true}")
    assert project.run("validate").code == 0
    assert project.run("validate").code == 0
    assert len(cache_entries(project)) == 1
    project.write_config()
    refused = project.run("validate")
    assert refused.code == 1
    assert "items.csv:2:2" in refused.err and "spreadsheet formula" in refused.err


def test_items_with_lifetimes_are_not_kept(project: Project, sandbox: Sandbox) -> None:
    project.manifest(
        cio_manifest(1).replace("job_title: Agent", "job_title: Agent\n    expires: 2099-01-01")
    )
    assert project.run("validate").code == 0
    assert cache_entries(project) == []
