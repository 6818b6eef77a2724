"""jtel against every plausible reading of what its pages leave open (issue 7).

Each test sets the emulator to one behaviour a real release may have, and the
provider setting that copes with it, then checks what the vendor ends up holding.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Project, Sandbox

HEAD = "kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {name: Outbound Sales}\n"


def item(i: int, **extra: object) -> str:
    fields = {"UserData": f"CRM-{i}", "Name": f"Muster{i}", "PhoneNumber1": f"+4930123{i:04d}"}
    return "  - " + json.dumps({**fields, **extra}) + "\n"


def vendor(sandbox: Sandbox, **settings: Any) -> None:
    sandbox.admin("PUT", "/jtel/settings", json=settings)


def held(sandbox: Sandbox, campaign: int = 538) -> dict[str, dict[str, Any]]:
    return {
        c["UserData"]: c for c in sandbox.jtel_contacts() if c["DiallerCampaignsID"] == campaign
    }


def test_a_read_that_ignores_the_campaign_filter_never_touches_other_campaigns(
    project: Project, sandbox: Sandbox
) -> None:
    vendor(sandbox, campaign_filter=False)
    sandbox.admin(
        "POST",
        "/jtel/bulk",
        json=[
            {"DiallerCampaignsID": 539, "UserData": u, "Name": "Other", "PhoneNumber1": "+4930555"}
            for u in ("CRM-1", "OTHER-1", "OTHER-2")
        ],
    )
    project.manifest(HEAD + "prune: all\nitems:\n" + item(1, City="Bonn"))
    plan = project.run("plan")
    assert plan.code == 0, plan.text
    assert "3 record(s) of other campaigns" in plan.text
    assert "OTHER-1" not in plan.out and "- dialler" not in plan.out
    assert project.run("apply", "--auto-approve").code == 0
    other = held(sandbox, 539)
    assert sorted(other) == ["CRM-1", "OTHER-1", "OTHER-2"]
    assert other["CRM-1"]["Name"] == "Other" and other["CRM-1"].get("City") in (None, "")
    assert held(sandbox)["CRM-1"]["City"] == "Bonn"
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_an_empty_404_is_a_missing_endpoint_and_state_keeps_the_record(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(HEAD + "items:\n" + item(1) + item(2))
    assert project.run("apply", "--auto-approve").code == 0
    project.write_config(jtel="endpoints: {delete: 'DELETE /dialler/contacts/gone/{id}'}")
    project.manifest(HEAD + "items:\n" + item(1))
    r = project.run("apply", "--auto-approve")
    assert r.code != 0 and "empty 404" in r.text, r.text
    assert "CRM-2" in held(sandbox)
    project.write_config()
    r = project.run("plan")
    assert "- dialler/dialler-contacts/Outbound Sales/CRM-2" in r.out, r.text  # still ours
    assert project.run("apply", "--auto-approve").code == 0
    assert "CRM-2" not in held(sandbox)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_action_method_lock_with_the_wrong_method_fails_and_leaves_nothing_dialable_unsaid(
    project: Project, sandbox: Sandbox, method: str
) -> None:
    vendor(sandbox, action_method=method)
    project.manifest(HEAD + "items:\n" + item(1, locked=True))
    r = project.run("apply", "--auto-approve")
    if method == "GET":  # the default call
        assert r.code == 0 and held(sandbox)["CRM-1"]["bLocked"] is True, r.text
        return
    assert r.code != 0 and "empty 404" in r.text
    assert held(sandbox)["CRM-1"]["bLocked"] is False
    project.write_config(jtel="endpoints: {lock: 'POST /dialler/contacts/contact/{id}/lock'}")
    assert project.run("apply", "--auto-approve").code == 0
    assert held(sandbox)["CRM-1"]["bLocked"] is True


@pytest.mark.parametrize("id_field", ["ID", "DiallerContactsID", "both"])
@pytest.mark.parametrize("answer", ["record", "record_without_id", "status_only"])
def test_ids_from_either_key_and_a_create_without_id_is_still_locked(
    project: Project, sandbox: Sandbox, id_field: str, answer: str
) -> None:
    vendor(sandbox, id_field=id_field, import_answer=answer)
    project.manifest(HEAD + "items:\n" + item(1, locked=True) + item(2))
    r = project.run("apply", "--auto-approve")
    assert r.code == 0, r.text
    assert held(sandbox)["CRM-1"]["bLocked"] is True
    assert held(sandbox)["CRM-2"]["bLocked"] is False
    assert project.run("plan", "--detailed-exitcode").code == 0
    project.manifest(HEAD + "items:\n" + item(1, locked=False, City="Köln"))
    r = project.run("apply", "--auto-approve")
    assert r.code == 0, r.text
    now = held(sandbox)
    assert now["CRM-1"]["bLocked"] is False and now["CRM-1"]["City"] == "Köln"
    assert "CRM-2" not in now
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_update_names_the_contact_in_the_body_for_a_body_only_route(
    project: Project, sandbox: Sandbox
) -> None:
    vendor(sandbox, update_route="body_only")
    project.manifest(HEAD + "items:\n" + item(1, City="Bonn"))
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(HEAD + "items:\n" + item(1, City="Köln"))
    r = project.run("apply", "--auto-approve")
    assert r.code != 0 and "empty 404" in r.text  # the default URL does not exist there
    project.write_config(jtel="endpoints: {update: 'PUT /dialler/contacts/contact'}")
    assert project.run("apply", "--auto-approve").code == 0
    assert held(sandbox)["CRM-1"]["City"] == "Köln"
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_account_wide_duplicates_refuse_one_userdata_in_two_campaigns(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(HEAD + "items:\n" + item(1) + item(2), "manifests/a.yaml")
    project.manifest(
        HEAD.replace("{name: Outbound Sales}", "{id: 539}") + "items:\n" + item(2),
        "manifests/b.yaml",
    )
    assert project.run("validate").code == 0  # per campaign (the default), no clash
    project.write_config(jtel="duplicates_scope: account")
    r = project.run("plan")
    assert r.code == 1 and "manifests/b.yaml:5:5" in r.err and "manifests/a.yaml:6:5" in r.err, (
        r.err
    )
    assert "CRM-2" in r.err and sandbox.requests() == 0


@pytest.mark.parametrize("null_handling", ["clear", "ignore", "reject"])
@pytest.mark.parametrize("clear_with", ["null", "empty"])
def test_clearing_a_field_every_way_never_loops(
    project: Project, sandbox: Sandbox, null_handling: str, clear_with: str
) -> None:
    vendor(sandbox, null_handling=null_handling)
    project.write_config(jtel=f"clear_with: {clear_with}")
    project.manifest(HEAD + "items:\n" + item(1, City="Bonn", Company="ACME"))
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(HEAD + "items:\n" + item(1, City=None, Company="ACME AG"))
    r = project.run("apply", "--auto-approve")
    city = held(sandbox)["CRM-1"].get("City")
    if clear_with == "null" and null_handling == "reject":
        assert r.code != 0 and city == "Bonn"  # refused and reported; state unchanged
        return
    assert r.code == 0, r.text
    assert held(sandbox)["CRM-1"]["Company"] == "ACME AG"
    after = project.run("plan", "--detailed-exitcode")
    if clear_with == "null" and null_handling == "ignore":
        assert city == "Bonn"
        assert after.code == 0, after.text  # not planned again ...
        assert "not taken by the vendor: City" in after.text  # ... but said
        drift = project.run("drift")
        assert drift.code == 0 and "not taken by the vendor: City" in drift.text
        # A new declared value is sent again.
        project.manifest(HEAD + "items:\n" + item(1, City="Ulm", Company="ACME AG"))
        assert project.run("apply", "--auto-approve").code == 0
        assert held(sandbox)["CRM-1"]["City"] == "Ulm"
    else:
        assert city in (None, "")
        assert after.code == 0 and "not taken" not in after.text, after.text


def test_a_hand_revert_after_a_taken_write_is_drift_not_an_excuse(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(HEAD + "items:\n" + item(1, City="Bonn"))
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(HEAD + "items:\n" + item(1, City="Köln"))
    assert project.run("apply", "--auto-approve").code == 0
    assert project.run("apply", "--auto-approve").code == 0  # the read confirms it was taken
    c = held(sandbox)["CRM-1"]
    sandbox.admin("PUT", f"/jtel/contacts/{c['ID']}", json={"City": "Bonn"})
    r = project.run("plan", "--detailed-exitcode")
    assert r.code == 2 and "not taken" not in r.text


@pytest.mark.parametrize("lock_field", ["", "Locked"])
def test_lock_field_named_or_absent(project: Project, sandbox: Sandbox, lock_field: str) -> None:
    vendor(sandbox, lock_field=lock_field)
    if lock_field:
        project.write_config(jtel=f"lock_field: {lock_field}")
    project.manifest(HEAD + "items:\n" + item(1, locked=True) + item(2, locked=False))
    assert project.run("apply", "--auto-approve").code == 0
    assert held(sandbox)["CRM-1"]["bLocked"] is True
    r = project.run("plan", "--detailed-exitcode")
    assert r.code == 0, r.text
    unobservable = "lock state cannot be observed"
    assert (unobservable in r.text) is (lock_field == "")
    c = held(sandbox)["CRM-1"]
    sandbox.admin("PUT", f"/jtel/contacts/{c['ID']}", json={"bLocked": False})  # by hand
    drift = project.run("drift")
    if lock_field:
        assert drift.code == 2 and "locked" in drift.text
    else:
        assert drift.code == 0 and unobservable in drift.text  # no lock drift claimed
    project.manifest(HEAD + "items:\n" + item(1, locked=False) + item(2, locked=True))
    assert project.run("apply", "--auto-approve").code == 0
    assert held(sandbox)["CRM-2"]["bLocked"] is True


def test_release_legacy_applies_the_old_limits_at_validate(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(HEAD + "items:\n" + item(1, Company="C" * 40, Region="Nord"))
    assert project.run("validate").code == 0
    project.write_config(jtel="release: legacy")
    r = project.run("validate")
    assert r.code == 1 and "main.yaml:5:" in r.err, r.err
    assert "Company" in r.err and "at most 32" in r.err and "no Region" in r.err
    vendor(sandbox, release="legacy")
    project.manifest(HEAD + "items:\n" + item(1, Company="C" * 32))
    assert project.run("apply", "--auto-approve").code == 0
    assert held(sandbox)["CRM-1"]["Company"] == "C" * 32
