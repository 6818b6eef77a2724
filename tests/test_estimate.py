"""The plan's estimate: vendor calls counted as apply really makes them."""

from __future__ import annotations

import json

from tests.conftest import Project, Sandbox, cio_manifest

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def writes(before: dict[str, int], after: dict[str, int]) -> int:
    return sum(
        n - before.get(route, 0) for route, n in after.items() if route.split()[1] in WRITE_METHODS
    )


def test_estimated_calls_match_the_writes_apply_makes(project: Project, sandbox: Sandbox) -> None:
    project.write_config(cio="rate_limit: 20")
    jtel = "".join(
        f'  - {{UserData: CRM-{i}, Name: N{i}, PhoneNumber1: "+49301230{i:02d}"}}\n'
        for i in range(12)
    )
    project.manifest(cio_manifest(30))
    project.manifest(
        "kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {name: Outbound Sales}\nitems:\n"
        + jtel,
        name="manifests/jtel.yaml",
    )
    r = project.run("plan", "--format", "json", "--out", str(project.root / "plan.json"))
    assert r.code == 0, r.text
    est = json.loads(r.out)["estimate"]
    assert est["calls_by_provider"] == {"cio": 30, "dialler": 12}
    assert est["calls"] == 42
    # 30 calls at 20 a second take at least 1.5 s, whatever the concurrency.
    assert 1.5 <= est["seconds"] < 4
    text = project.run("plan").out
    assert "apply will make 42 vendor write calls (30 to cio, 12 to dialler)" in text
    assert "assuming 250 ms per call" in text
    md = project.run("plan", "--format", "markdown").out
    assert "**Estimate:** apply will make 42" in md
    before = sandbox.by_route()
    assert project.run("apply", str(project.root / "plan.json")).code == 0
    assert writes(before, sandbox.by_route()) == est["calls"]


def test_a_batch_counts_once(project: Project, sandbox: Sandbox) -> None:
    project.write_config(ucontact="batch_size: 10")
    items = "".join(f'  - "+4930555{i:04d}"\n' for i in range(25))
    project.manifest("kind: ucontact/blacklist\nprovider: uc\nchannel: phone\nitems:\n" + items)
    r = project.run("plan", "--format", "json", "--out", str(project.root / "plan.json"))
    assert r.code == 0, r.text
    est = json.loads(r.out)["estimate"]
    assert est["calls_by_provider"] == {"uc": 3}
    before = sandbox.by_route()
    assert project.run("apply", str(project.root / "plan.json")).code == 0
    after = sandbox.by_route()
    uploads = (
        "ucontact POST /IntegraChannels/resources/DialersResources/uploadMultiChannelBlacklist"
    )
    assert after[uploads] - before.get(uploads, 0) == 3
    # Besides the writes, the run opens and closes one uContact session (not estimated).
    assert writes(before, after) == 3 + 2
