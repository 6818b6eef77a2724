"""jtel dialler contacts end to end: campaigns, dialling activity, locks, resets, duplicates."""

from __future__ import annotations

import json

from tests.conftest import Project, Sandbox

HEAD = "kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {name: Outbound Sales}\nitems:\n"


def item(i: int, **extra: object) -> str:
    fields = {
        "UserData": f"CRM-{i}",
        "Name": f"Muster{i}",
        "PhoneNumber1": f"+4930123{i:04d}",
        **extra,
    }
    return "  - " + json.dumps(fields) + "\n"


def contacts(sandbox: Sandbox) -> dict[str, dict[str, object]]:
    return {c["UserData"]: c for c in sandbox.jtel_contacts() if c["DiallerCampaignsID"] == 538}


def test_flow_creates_in_the_named_campaign_and_converges(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(HEAD + item(1, FirstName="Max", Amount=10) + item(2, Email="e@example.com"))
    plan = project.run("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "+ dialler/dialler-contacts/Outbound Sales/CRM-1" in plan.out
    assert project.run("apply", "--auto-approve").code == 0
    held = contacts(sandbox)
    assert sorted(held) == ["CRM-1", "CRM-2"]
    assert held["CRM-1"]["FirstName"] == "Max" and held["CRM-1"]["Amount"] == 10
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_campaign_by_id_works_and_an_unknown_campaign_names_the_manifest(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(HEAD.replace("{name: Outbound Sales}", "{id: 539}") + item(1))
    assert project.run("apply", "--auto-approve").code == 0
    assert [c["UserData"] for c in sandbox.jtel_contacts() if c["DiallerCampaignsID"] == 539] == [
        "CRM-1"
    ]
    project.manifest(HEAD.replace("Outbound Sales", "No Such Campaign") + item(1))
    r = project.run("plan")
    assert r.code == 1
    assert "main.yaml:3:11" in r.err and "No Such Campaign" in r.err


def test_dialling_activity_is_never_drift(project: Project, sandbox: Sandbox) -> None:
    project.manifest(HEAD + item(1) + item(2))
    assert project.run("apply", "--auto-approve").code == 0
    ids = [c["ID"] for c in contacts(sandbox).values()]
    for _ in range(3):
        sandbox.admin("POST", "/jtel/dial", json={"ids": ids})
    assert contacts(sandbox)["CRM-1"]["nTriesPhoneNumber1"] == 3
    assert project.run("plan", "--detailed-exitcode").code == 0
    assert project.run("drift").code == 0


def test_out_of_band_edit_of_a_managed_field_is_drift(project: Project, sandbox: Sandbox) -> None:
    project.manifest(HEAD + item(1) + item(2))
    assert project.run("apply", "--auto-approve").code == 0
    c = contacts(sandbox)["CRM-2"]
    sandbox.admin("PUT", f"/jtel/contacts/{c['ID']}", json={"PhoneNumber1": "+4930999999"})
    r = project.run("drift", "--format", "json")
    assert r.code == 2
    (d,) = json.loads(r.out)["drift"]
    assert d["class"] == "changed_outside" and d["fields"][0]["name"] == "PhoneNumber1"
    assert project.run("apply", "--auto-approve").code == 0
    assert contacts(sandbox)["CRM-2"]["PhoneNumber1"] == "+49301230002"


def test_duplicate_live_userdata_is_an_error_for_that_key_only(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(HEAD + item(1) + item(2))
    sandbox.admin(
        "POST",
        "/jtel/contacts",
        json={
            "DiallerCampaignsID": 538,
            "UserData": "CRM-1",
            "Name": "A",
            "PhoneNumber1": "+4930111111",
        },
    )
    sandbox.admin(
        "POST",
        "/jtel/contacts",
        json={
            "DiallerCampaignsID": 538,
            "UserData": "CRM-1",
            "Name": "B",
            "PhoneNumber1": "+4930222222",
        },
    )
    r = project.run("plan", "--format", "json")
    assert r.code == 1
    doc = json.loads(r.out)
    assert any("CRM-1" in e and "2 records" in e for e in doc["errors"])
    assert [c["address"] for c in doc["changes"]] == [
        "dialler/dialler-contacts/Outbound Sales/CRM-2"
    ]
    text = project.run("plan").out
    assert "+4930111111" not in text  # the error shows ids, not numbers


def test_lock_and_unlock_round_trip(project: Project, sandbox: Sandbox) -> None:
    project.manifest(HEAD + item(1, locked=True) + item(2))
    plan = json.loads(project.run("plan", "--format", "json").out)
    assert [c["action"] for c in plan["changes"]] == ["create", "create", "lock"]
    assert project.run("apply", "--auto-approve").code == 0
    assert contacts(sandbox)["CRM-1"]["bLocked"] is True
    assert project.run("plan", "--detailed-exitcode").code == 0
    project.manifest(HEAD + item(1, locked=False) + item(2))
    plan = json.loads(project.run("plan", "--format", "json").out)
    assert [c["action"] for c in plan["changes"]] == ["unlock"]
    assert project.run("apply", "--auto-approve").code == 0
    assert contacts(sandbox)["CRM-1"]["bLocked"] is False
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_one_reset_per_reset_token_change(project: Project, sandbox: Sandbox) -> None:
    project.manifest(HEAD + item(1, reset_token="t1"))
    assert project.run("apply", "--auto-approve").code == 0
    cid = contacts(sandbox)["CRM-1"]["ID"]
    sandbox.admin("POST", "/jtel/dial", json={"ids": [cid]})
    assert project.run("plan", "--detailed-exitcode").code == 0  # same token: nothing
    project.manifest(HEAD + item(1, reset_token="t2"))
    plan = json.loads(project.run("plan", "--format", "json").out)
    assert [c["action"] for c in plan["changes"]] == ["reset"]
    assert project.run("apply", "--auto-approve").code == 0
    assert contacts(sandbox)["CRM-1"]["nTriesPhoneNumber1"] == 0
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_export_import_and_history(project: Project, sandbox: Sandbox) -> None:
    created = sandbox.admin(
        "POST",
        "/jtel/contacts",
        json={
            "DiallerCampaignsID": 540,
            "UserData": "W-1",
            "Name": "Win",
            "PhoneNumber1": "+4930555555",
        },
    )
    cid = created["ID"]
    r = project.run(
        "export",
        "--provider",
        "dialler",
        "--kind",
        "jtel/dialler-contacts",
        "--scope",
        "Winback",
        "--out",
        str(project.root / "manifests/winback.yaml"),
    )
    assert r.code == 0, r.text
    plan = json.loads(project.run("plan", "--format", "json").out)
    assert [c["action"] for c in plan["changes"]] == ["adopt"]
    assert project.run("apply", "--auto-approve").code == 0
    assert project.run("plan", "--detailed-exitcode").code == 0
    assert project.run("state", "rm", "dialler/dialler-contacts/Winback/W-1").code == 0
    assert project.run("import", "dialler/dialler-contacts/Winback/W-1", str(cid)).code == 0
    assert project.run("plan", "--detailed-exitcode").code == 0
    sandbox.admin("POST", "/jtel/dial", json={"ids": [cid]})
    hist = project.run("history", "dialler/dialler-contacts/Winback/W-1")
    assert hist.code == 0 and "+4930555555" in hist.out


def test_update_sends_only_managed_fields(project: Project, sandbox: Sandbox) -> None:
    project.manifest(HEAD + item(1, City="Berlin"))
    assert project.run("apply", "--auto-approve").code == 0
    c = contacts(sandbox)["CRM-1"]
    sandbox.admin("PUT", f"/jtel/contacts/{c['ID']}", json={"Comment": "set by an agent"})
    project.manifest(HEAD + item(1, City="Hamburg"))
    assert project.run("apply", "--auto-approve").code == 0
    c = contacts(sandbox)["CRM-1"]
    assert c["City"] == "Hamburg" and c["Comment"] == "set by an agent"


def test_endpoint_overrides_are_used_and_unknown_ones_refused(
    project: Project, sandbox: Sandbox
) -> None:
    project.write_config(jtel='endpoints: {lock: "POST /dialler/contacts/contact/{id}/lock"}')
    project.manifest(HEAD + item(1, locked=True))
    assert project.run("apply", "--auto-approve").code == 0
    assert contacts(sandbox)["CRM-1"]["bLocked"] is True
    routes = sandbox.by_route()
    assert routes.get("jtel POST /dialler/contacts/contact/{id}/lock") == 1
    assert "jtel GET /dialler/contacts/contact/{id}/lock" not in routes
    project.write_config(jtel='endpoints: {lok: "POST /x"}')
    r = project.run("plan")
    assert r.code == 1 and "endpoints: 'lok' is not allowed (did you mean 'lock'" in r.err


def test_an_endpoint_the_server_lacks_is_named_as_such(project: Project, sandbox: Sandbox) -> None:
    project.manifest(HEAD + item(1))
    assert project.run("apply", "--auto-approve").code == 0
    project.write_config(jtel='endpoints: {update: "PUT /dialler/contacts/edit/{id}"}')
    project.manifest(HEAD + item(1, City="Köln"))
    r = project.run("apply", "--auto-approve")
    assert r.code == 1
    assert "dialler/dialler-contacts/Outbound Sales/CRM-1" in r.out and "no such endpoint" in r.out


def test_wrong_token_or_client_id_is_a_401_naming_the_credentials(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(HEAD + item(1))
    for env in ({"JTEL_TOKEN": "not-the-token"}, {"JTEL_CLIENT_ID": "2000"}):
        r = project.run("plan", env=env)
        assert r.code == 1
        assert "401" in r.err and "credentials" in r.err
        assert "not-the-token" not in r.text


def test_duplicates_of_a_key_nobody_declares_are_not_our_business(
    project: Project, sandbox: Sandbox
) -> None:
    for name in ("A", "B"):
        sandbox.admin(
            "POST",
            "/jtel/contacts",
            json={
                "DiallerCampaignsID": 538,
                "UserData": "OTHER",
                "Name": name,
                "PhoneNumber1": "+4930111111",
            },
        )
    project.manifest(HEAD + item(1))
    assert project.run("plan").code == 0
    assert project.run("apply", "--auto-approve").code == 0
    assert project.run("drift").code == 0
