"""Live records equal to their items are held as the declared values (reconcile/matching.py).

What must not change with that: a value of another JSON type is still a change, fields the
manifest does not declare still count where they matter, and drift still sees a hand edit
of a record whose live values equal the manifest again."""

from __future__ import annotations

import json

from tests.conftest import Project, Sandbox, cio_manifest

JTEL = "kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {id: 538}\nitems:\n"


def _jtel_item(**fields: object) -> str:
    return (
        "  - "
        + json.dumps(
            {"UserData": "CRM-1", "Name": "Muster", "PhoneNumber1": "+49301230001", **fields}
        )
        + "\n"
    )


def _jtel_contact(sandbox: Sandbox) -> dict[str, object]:
    (c,) = [c for c in sandbox.jtel_contacts() if c["UserData"] == "CRM-1"]
    return dict(c)


def test_a_value_equal_in_python_but_of_another_json_type_is_still_a_change(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(JTEL + _jtel_item(Amount=1))
    assert project.run("apply", "--auto-approve").code == 0
    c = _jtel_contact(sandbox)
    sandbox.admin("PUT", f"/jtel/contacts/{c['ID']}", json={"Amount": True})  # 1 == True in Python
    plan = project.run("plan", "--format", "json")
    doc = json.loads(plan.out)
    assert [
        (f["name"], f["before"], f["after"]) for ch in doc["changes"] for f in ch["fields"]
    ] == [("Amount", True, 1)]
    assert project.run("apply", "--auto-approve").code == 0
    assert _jtel_contact(sandbox)["Amount"] == 1 and _jtel_contact(sandbox)["Amount"] is not True
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_fields_the_manifest_leaves_out_still_count_for_the_vendors_rules(
    project: Project, sandbox: Sandbox
) -> None:
    # AGENT-00000 is declared without an e-mail and matches its item on every declared
    # field; the e-mail the vendor holds for it must still block another contact taking it.
    sandbox.admin(
        "PUT",
        "/ciopulse/contacts/AGENT-00000",
        json={"first_name": "First0", "last_name": "Last0", "email": "taken@example.com"},
    )
    project.manifest(
        "kind: ciopulse/contacts\nprovider: cio\nitems:\n"
        "  - {system_id: AGENT-00000, first_name: First0, last_name: Last0}\n"
        "  - {system_id: AGENT-00001, first_name: First1, last_name: Last1, email: taken@example.com}\n"
    )
    r = project.run("plan")
    assert r.code == 1, r.text
    assert "cio/contacts/AGENT-00001" in r.text and "AGENT-00000" in r.text and "422" in r.text
    assert sorted(sandbox.cio_contacts()) == ["AGENT-00000"]


def test_drift_still_sees_a_hand_edit_that_equals_a_manifest_change_not_yet_applied(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(cio_manifest(2))
    assert project.run("apply", "--auto-approve").code == 0
    # The manifest changes a job title (not applied) and someone makes the same edit by
    # hand: live equals the manifest, yet state applied the old value: that is drift.
    project.manifest(cio_manifest(2).replace("job_title: Agent", "job_title: Lead", 1))
    c = sandbox.cio_contacts()["AGENT-00000"]
    sandbox.admin("PUT", "/ciopulse/contacts/AGENT-00000", json={**c, "job_title": "Lead"})
    drift = project.run("drift", "--format", "json")
    assert drift.code == 2, drift.text
    doc = json.loads(drift.out)
    assert [d["address"] for d in doc["drift"]] == ["cio/contacts/AGENT-00000"], doc
    assert doc["drift"][0]["fields"] == [{"name": "job_title", "before": "Agent", "after": "Lead"}]
    assert project.run("plan", "--detailed-exitcode").code == 0  # nothing left to send
