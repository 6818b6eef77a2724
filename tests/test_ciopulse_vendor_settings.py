"""CIOPulse against every plausible reading of what its pages leave open (issue 7)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import CIO_KEY, Project, Sandbox, cio_manifest

ADDR = "cio/contacts/AGENT-"


def vendor(sandbox: Sandbox, **settings: Any) -> None:
    sandbox.admin("PUT", "/ciopulse/settings", json=settings)


@pytest.mark.parametrize("shape", ["wrapped", "flat", "list", "data"])
@pytest.mark.parametrize("case", ["pascal", "snake"])
@pytest.mark.parametrize("portal", ["null", "absent", "empty"])
def test_every_read_shape_and_portal_contacts_are_skipped_never_fatal(
    project: Project, sandbox: Sandbox, shape: str, case: str, portal: str
) -> None:
    vendor(sandbox, read_shape=shape, read_key_case=case, portal_system_id=portal)
    sandbox.admin(
        "POST",
        "/ciopulse/portal-contacts",
        json={"first_name": "Hand", "last_name": "Made", "email": "hand@example.com"},
    )
    project.manifest(cio_manifest(3, prune="all"))
    assert project.run("apply", "--auto-approve").code == 0
    r = project.run("plan", "--detailed-exitcode")
    assert r.code == 0, r.text
    assert "1 live contact(s) have no system id" in r.text
    assert len(sandbox.admin("GET", "/ciopulse/portal-contacts")) == 1
    assert sorted(sandbox.cio_contacts()) == ["AGENT-00000", "AGENT-00001", "AGENT-00002"]
    # The shape pinned by the setting reads the same.
    project.write_config(cio=f"read_shape: {shape}")
    assert project.run("plan", "--detailed-exitcode").code == 0
    assert project.run("drift").code == 0


def test_read_fields_maps_the_vendors_names(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(2))
    assert project.run("apply", "--auto-approve").code == 0
    # A wrong mapping reads no job titles: every contact would need an update.
    project.write_config(cio="read_fields: {job_title: Position}")
    assert project.run("plan", "--detailed-exitcode").code == 2
    project.write_config(cio="read_fields: {job_title: Job_Title, system_id: Contact_System_ID}")
    assert project.run("plan", "--detailed-exitcode").code == 0


@pytest.mark.parametrize("value", ["''", "'   '"])
@pytest.mark.parametrize("name", ["first_name", "last_name", "email"])
def test_a_blank_mandatory_field_is_a_validate_error(
    project: Project, sandbox: Sandbox, name: str, value: str
) -> None:
    text = cio_manifest(1).replace(
        f"    {name}: {'agent0@example.com' if name == 'email' else ('First0' if name == 'first_name' else 'Last0')}",
        f"    {name}: {value}",
    )
    project.manifest(text)
    r = project.run("validate")
    assert r.code == 1 and f"{name} cannot be empty or blank" in r.err and "main.yaml:" in r.err
    assert sandbox.requests() == 0


def test_no_invented_length_limit(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(1).replace("job_title: Agent", "job_title: " + "J" * 300))
    assert project.run("apply", "--auto-approve").code == 0
    assert sandbox.cio_contacts()["AGENT-00000"]["job_title"] == "J" * 300


@pytest.mark.parametrize("role", ["lead", "also_alert"])
def test_a_plan_deleting_a_support_group_member_fails_naming_the_group(
    project: Project, sandbox: Sandbox, role: str
) -> None:
    project.manifest(cio_manifest(3))
    assert project.run("apply", "--auto-approve").code == 0
    member: Any = "AGENT-00001" if role == "lead" else ["AGENT-00009", "AGENT-00001"]
    sandbox.admin("PUT", "/ciopulse/support-groups/SG1", json={role: member, "name": "Night Shift"})
    project.manifest(cio_manifest(1))
    before = sandbox.by_route()
    r = project.run("plan")
    assert r.code == 1, r.text
    assert f"{ADDR}00001" in r.text and "Night Shift" in r.text
    assert f"{ADDR}00002" not in r.err  # only the member is refused
    # Apply sends nothing while the plan has an error; --target applies the rest.
    r = project.run("apply", "--auto-approve")
    assert r.code == 1 and "nothing was applied" in r.err
    assert sorted(sandbox.cio_contacts()) == ["AGENT-00000", "AGENT-00001", "AGENT-00002"]
    r = project.run("apply", "--auto-approve", "--target", f"{ADDR}00002")
    assert r.code == 0, r.text
    deletes = {k: n for k, n in sandbox.by_route().items() if "DELETE" in k}
    assert sum(deletes.values()) - sum(n for k, n in before.items() if "DELETE" in k) == 1
    assert sorted(sandbox.cio_contacts()) == ["AGENT-00000", "AGENT-00001"]


@pytest.mark.parametrize("status", [400, 409, 422])
def test_a_refused_delete_at_apply_keeps_the_record(
    project: Project, sandbox: Sandbox, status: int
) -> None:
    vendor(sandbox, refused_delete_status=status)
    project.manifest(cio_manifest(2))
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(cio_manifest(1))
    assert project.run("plan", "--out", str(project.root / "p.json")).code == 0
    # The group changes between the plan and its apply: the re-plan of the saved plan
    # sees it and holds the delete back, naming the group.
    sandbox.admin("PUT", "/ciopulse/support-groups/SG1", json={"lead": "AGENT-00001"})
    r = project.run("apply", str(project.root / "p.json"))
    assert r.code != 0 and "Support Lead" in r.text, r.text
    assert "AGENT-00001" in sandbox.cio_contacts()
    sandbox.admin("DELETE", "/ciopulse/support-groups/SG1")
    # A refusal the plan could not foresee: the vendor answers the delete with `status`.
    sandbox.admin(
        "POST",
        "/faults/script",
        json={"vendor": "ciopulse", "fault": "status", "status": status, "method": "DELETE"},
    )
    r = project.run("apply", "--auto-approve")
    assert r.code == 1 and f"{ADDR}00001" in r.out and str(status) in r.out, r.text
    assert "AGENT-00001" in sandbox.cio_contacts()
    r = project.run("plan")
    assert f"- {ADDR}00001" in r.out, r.text  # still managed: planned again
    assert project.run("apply", "--auto-approve").code == 0
    assert "AGENT-00001" not in sandbox.cio_contacts()


def test_an_api_key_of_the_wrong_length_is_a_config_error_without_the_value(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(cio_manifest(1))
    short = "Q" + CIO_KEY[:38]
    r = project.run("validate", env={"CIOPULSE_API_KEY": short})
    assert r.code != 0 and "reconcile.yaml:10:14" in r.err and "40 characters" in r.err, r.err
    assert short not in r.text and sandbox.requests() == 0
    assert project.run("validate").code == 0
