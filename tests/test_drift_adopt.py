"""drift --adopt: a change made at the vendor is written back into the manifests."""

from __future__ import annotations

from tests.conftest import Project, Sandbox

CIO = """\
# Escalation contacts: this comment must survive adoption.
kind: ciopulse/contacts
provider: cio
items:
  - system_id: AGENT-1
    first_name: Ada
    last_name: Lovelace
    email: ada@example.com
    job_title: Team Lead   # promoted 2026-01
  - system_id: AGENT-2
    first_name: Grace
    last_name: Hopper
    email: grace@example.com
"""


def test_adopt_writes_ciopulse_changes_into_the_manifest_and_drift_is_then_empty(
    project: Project, sandbox: Sandbox
) -> None:
    path = project.manifest(CIO)
    assert project.run("apply", "--auto-approve").code == 0
    held = sandbox.cio_contacts()["AGENT-1"]
    sandbox.admin("PUT", "/ciopulse/contacts/AGENT-1", json={**held, "job_title": "Director"})
    before = sandbox.requests()
    r = project.run("drift", "--adopt")
    assert r.code == 2, r.text  # drift was found: the job opens a pull request
    assert "Adopted 1 record" in r.err and "manifests/main.yaml" in r.err
    text = path.read_text()
    # Only the value changes; the comment stays at its column.
    assert text == CIO.replace("job_title: Team Lead   #", "job_title: Director    #"), text
    assert sandbox.requests() - before == 1  # one read; adoption sends nothing to the vendor
    assert sandbox.cio_contacts()["AGENT-1"]["job_title"] == "Director"
    assert project.run("drift").code == 0
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_adopt_writes_jtel_changes_into_yaml_and_csv_item_files(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(
        "kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {name: Outbound Sales}\n"
        'items:\n  - {UserData: CRM-1, Name: Muster, PhoneNumber1: "+4930123001"}  # flow style\n'
        "---\nkind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {id: 539}\nitems_from: renewals.csv\n"
    )
    csv_path = project.write(
        "manifests/renewals.csv",
        "UserData,Name,PhoneNumber1\nR-1,Alpha,+4930555001\nR-2,Beta,+4930555002\n",
    )
    assert project.run("apply", "--auto-approve").code == 0
    by_key = {c["UserData"]: c for c in sandbox.jtel_contacts()}
    sandbox.admin("PUT", f"/jtel/contacts/{by_key['CRM-1']['ID']}", json={"Name": "Changed"})
    sandbox.admin(
        "PUT", f"/jtel/contacts/{by_key['R-2']['ID']}", json={"PhoneNumber1": "+4930555999"}
    )
    r = project.run("drift", "--adopt")
    assert r.code == 2, r.text
    assert "Adopted 2 records" in r.err
    yaml_text = (project.root / "manifests/main.yaml").read_text()
    assert "Name: Changed" in yaml_text and "# flow style" in yaml_text
    assert (
        csv_path.read_text()
        == "UserData,Name,PhoneNumber1\nR-1,Alpha,+4930555001\nR-2,Beta,+4930555999\n"
    )
    assert project.run("drift").code == 0
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_adopt_leaves_a_record_deleted_at_the_vendor_to_a_person(
    project: Project, sandbox: Sandbox
) -> None:
    path = project.manifest(CIO)
    assert project.run("apply", "--auto-approve").code == 0
    sandbox.admin("DELETE", "/ciopulse/contacts/AGENT-2")
    r = project.run("drift", "--adopt")
    assert r.code == 2
    assert "Not adopted: cio/contacts/AGENT-2" in r.err
    assert path.read_text() == CIO
