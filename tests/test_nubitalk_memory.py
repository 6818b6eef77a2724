"""Nubitalk cannot be read: lost answers, imports, and the state backup never double a
contact or lose its id."""

from __future__ import annotations

import json

from tests.conftest import Project, Sandbox
from tests.test_nubitalk_flow import contacts, item, manifest, nubitalk_requests, state_ids

ADDR = "onecontact/contacts/486/+49301230001"


def lose_next_create(sandbox: Sandbox, count: int = 1) -> None:
    sandbox.admin(
        "POST",
        "/faults/script",
        json={"vendor": "nubitalk", "fault": "lost_reply", "method": "POST", "count": count},
    )


def status_of(project: Project, address: str) -> str:
    for line in project.run("state", "list").out.splitlines():
        if line.startswith(address + "\t"):
            return line.split("\t")[2]
    return "absent"


def test_a_lost_create_answer_with_the_duplicate_refusal_asks_for_an_import(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(manifest(item(1), item(2)))
    lose_next_create(sandbox)
    r = project.run("apply", "--auto-approve")
    assert r.code == 1
    assert f"reconcile import '{ADDR}' CONTACT_ID" in r.text or "reconcile import" in r.text
    assert len(contacts(sandbox)) == 2  # the lost one exists once, the other was created
    lost = [a for a in contacts(sandbox) if state_ids(project).get(a, "-") == "-"]
    assert len(lost) == 1
    address = f"onecontact/contacts/486/{lost[0]}"
    assert status_of(project, address) == "uncertain"
    plan = project.run("plan")
    assert f"reconcile import '{address}' CONTACT_ID" in plan.text
    assert "+ " + address in plan.out  # sent again: checkrepeated=true cannot double it
    again = project.run("apply", "--auto-approve")
    assert again.code == 1 and "no reason" in again.text and address in again.text
    assert len(contacts(sandbox)) == 2
    cid = contacts(sandbox)[lost[0]]["id"]
    assert project.run("import", address, str(cid)).code == 0
    plan = project.run("plan")
    assert "~ " + address in plan.out and "unknown values" in plan.text
    assert project.run("apply", "--auto-approve").code == 0
    assert project.run("plan", "--detailed-exitcode").code == 0
    assert state_ids(project) == {a: str(c["id"]) for a, c in contacts(sandbox).items()}


def test_a_lost_create_answer_with_the_existing_id_answer_settles_itself(
    project: Project, sandbox: Sandbox
) -> None:
    sandbox.admin("PUT", "/nubitalk/settings", json={"duplicate_answer": "existing_id"})
    project.manifest(manifest(item(1), item(2)))
    lose_next_create(sandbox)
    r = project.run("apply", "--auto-approve")
    assert r.code == 0, r.text
    assert len(contacts(sandbox)) == 2
    assert state_ids(project) == {a: str(c["id"]) for a, c in contacts(sandbox).items()}
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_a_lost_create_answer_without_check_repeated_is_never_resent(
    project: Project, sandbox: Sandbox
) -> None:
    head = manifest().replace("items: []\n", "check_repeated: false\n")
    project.manifest(manifest(item(1), head=head))
    lose_next_create(sandbox)
    assert project.run("apply", "--auto-approve").code == 1
    assert status_of(project, ADDR) == "uncertain"
    before = nubitalk_requests(sandbox)
    plan = project.run("plan", "--detailed-exitcode")
    assert f"reconcile import '{ADDR}'" in plan.text and f"reconcile state rm '{ADDR}'" in plan.text
    assert project.run("apply", "--auto-approve").code == 0
    assert nubitalk_requests(sandbox) == before  # held back: nothing sent
    assert len(contacts(sandbox)) == 1
    cid = next(iter(contacts(sandbox).values()))["id"]
    assert project.run("import", ADDR, str(cid)).code == 0
    assert project.run("apply", "--auto-approve").code == 0
    assert len(contacts(sandbox)) == 1 and state_ids(project) == {"+49301230001": str(cid)}


def test_lost_update_and_delete_answers_are_resent(project: Project, sandbox: Sandbox) -> None:
    project.manifest(manifest(item(1), item(2)))
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(manifest(item(1, Priority=9)))
    project.write_config(nubitalk="retries: 0")  # the answers are lost, and so stay unknown
    sandbox.admin(
        "POST", "/faults/script", json={"vendor": "nubitalk", "fault": "lost_reply", "count": 2}
    )
    r = project.run("apply", "--auto-approve", "--force")
    assert r.code == 1
    assert "uncertain" in project.run("state", "list").out
    plan = project.run("plan")
    assert "+ onecontact" not in plan.out and "- onecontact" in plan.out
    assert project.run("apply", "--auto-approve", "--force").code == 0, project.run("plan").text
    held = contacts(sandbox)
    assert sorted(held) == ["+49301230001"] and held["+49301230001"]["Priority"] == 9
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_bulk_import_adopts_contacts_made_before_the_tool_and_checks_every_row_first(
    project: Project, sandbox: Sandbox
) -> None:
    ids = []
    for i in (1, 2, 3):
        c = sandbox.admin(
            "POST", "/nubitalk/contacts", json={"service": 486, "Address": f"+4930123000{i}"}
        )
        ids.append(c["id"])
    project.manifest(manifest(item(1), item(2), item(3)))
    rows = "".join(
        f"onecontact/contacts/486/+4930123000{i},{cid}\n"
        for i, cid in zip((1, 2, 3), ids, strict=True)
    )
    project.write("bad.csv", "address,contact_id\n" + rows + "onecontact/contacts/486/+49999,x1\n")
    bad = project.run("import", "--from-csv", str(project.root / "bad.csv"))
    assert bad.code == 1
    assert "bad.csv:5:1" in bad.text and "no manifest declares" in bad.text
    assert "not a Nubitalk contact id" in bad.text
    assert state_ids(project) == {}  # nothing recorded when any row is wrong
    project.write("ok.csv", "address,contact_id\n" + rows)
    r = project.run("import", "--from-csv", str(project.root / "ok.csv"))
    assert r.code == 0, r.text
    assert "unknown" in r.text
    plan = project.run("plan")
    assert plan.out.count("~ onecontact/") == 3 and "+ onecontact" not in plan.out
    assert project.run("apply", "--auto-approve").code == 0
    held = contacts(sandbox)
    assert len(held) == 3 and all(c["Priority"] == 1 and c["AgentID"] == 7 for c in held.values())
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_state_pull_push_round_trip_restores_every_id(
    project: Project, sandbox: Sandbox, tmp_path: object
) -> None:
    project.manifest(manifest(item(1), item(2)))
    assert project.run("apply", "--auto-approve").code == 0
    pulled = project.run("state", "pull")
    doc = json.loads(pulled.out)
    assert doc["format"] == "reconcile-state" and doc["format_version"] == 1
    assert "SANDBOXNUBITALKTOKEN" not in pulled.out
    backup = project.write("backup.json", pulled.out)
    ids = state_ids(project)
    (project.root / ".reconcile" / "state.db").unlink()
    fresh = project.run("plan")
    assert "this state is new" in fresh.text and "state push" in fresh.text
    assert project.run("state", "push", str(backup)).code == 0
    assert state_ids(project) == ids
    assert project.run("plan", "--detailed-exitcode").code == 0
    # Another lineage is refused without --force.
    other = dict(doc, lineage="another-lineage")
    path = project.write("other.json", json.dumps(other))
    refused = project.run("state", "push", str(path))
    assert refused.code == 1 and "another lineage" in refused.text
    assert project.run("state", "push", "--force", str(path)).code == 0
    assert len(contacts(sandbox)) == 2
