"""The whole CLI flow against the CIOPulse emulator, checking what the vendor ends up holding."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Project, Sandbox, cio_manifest


def test_plan_apply_plan_is_empty_and_vendor_holds_the_manifest(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(cio_manifest(5))
    assert project.run("validate").code == 0

    plan = project.run("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "+ cio/contacts/AGENT-00000" in plan.out
    assert "Plan: 5 to create, 0 to update, 0 to delete." in plan.out

    applied = project.run("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    held = sandbox.cio_contacts()
    assert sorted(held) == [f"AGENT-{i:05d}" for i in range(5)]
    assert held["AGENT-00003"]["email"] == "agent3@example.com"

    again = project.run("plan", "--detailed-exitcode")
    assert again.code == 0, again.text
    assert "No changes" in again.out


def test_update_sends_only_changed_fields_and_leaves_unmanaged_fields(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(cio_manifest(2))
    assert project.run("apply", "--auto-approve").code == 0
    # A field the manifest never mentions, set at the vendor, is not ours to change.
    c = sandbox.cio_contacts()["AGENT-00001"]
    sandbox.admin("PUT", "/ciopulse/contacts/AGENT-00001", json={**c, "mobile": "+61411112233"})
    project.manifest(
        cio_manifest(2).replace(
            "job_title: Agent\n  - system_id: AGENT-00001",
            "job_title: Boss\n  - system_id: AGENT-00001",
        )
    )
    plan = project.run("plan", "--format", "json")
    doc = json.loads(plan.out)
    assert doc["summary"]["update"] == 1
    (change,) = doc["changes"]
    assert change["address"] == "cio/contacts/AGENT-00000"
    assert change["fields"] == [{"name": "job_title", "before": "Agent", "after": "Boss"}]
    assert project.run("apply", "--auto-approve").code == 0
    held = sandbox.cio_contacts()
    assert held["AGENT-00000"]["job_title"] == "Boss"
    assert held["AGENT-00001"]["mobile"] == "+61411112233"


def test_explicit_null_clears_a_field(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(1))
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(cio_manifest(1).replace("job_title: Agent", "job_title: null"))
    assert project.run("apply", "--auto-approve").code == 0
    assert sandbox.cio_contacts()["AGENT-00000"]["job_title"] is None
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_removed_item_is_deleted_under_prune_managed_with_force_over_threshold(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(cio_manifest(12))
    assert project.run("apply", "--auto-approve").code == 0
    sandbox.admin(
        "PUT",
        "/ciopulse/contacts/OTHER-1",
        json={"first_name": "Not", "last_name": "Ours", "email": "x@example.com"},
    )
    project.manifest(cio_manifest(10))
    refused = project.run("apply", "--auto-approve")
    assert refused.code == 1
    assert "max_delete_percent" in refused.text and "AGENT-00010, AGENT-00011" in refused.text
    assert "AGENT-00011" in sandbox.cio_contacts()
    assert project.run("apply", "--auto-approve", "--force").code == 0
    held = sandbox.cio_contacts()
    assert "AGENT-00010" not in held and "AGENT-00011" not in held
    assert "OTHER-1" in held  # never ours: prune managed leaves it


def test_prune_all_deletes_unknown_records_and_prune_none_forgets(
    project: Project, sandbox: Sandbox
) -> None:
    sandbox.admin(
        "PUT",
        "/ciopulse/contacts/OTHER-1",
        json={"first_name": "Not", "last_name": "Ours", "email": "x@example.com"},
    )
    project.manifest(cio_manifest(1, prune="all"))
    drift = project.run("drift", "--format", "json")
    assert drift.code == 2
    assert any(
        d["class"] == "unmanaged" and d["address"] == "cio/contacts/OTHER-1"
        for d in json.loads(drift.out)["drift"]
    )
    assert project.run("apply", "--auto-approve", "--force").code == 0
    assert sorted(sandbox.cio_contacts()) == ["AGENT-00000"]

    project.manifest(cio_manifest(0, prune="none").replace("items:\n", "items: []\n"))
    plan = project.run("plan", "--format", "json")
    assert json.loads(plan.out)["summary"]["forget"] == 1
    assert project.run("apply", "--auto-approve").code == 0
    assert sorted(sandbox.cio_contacts()) == ["AGENT-00000"]
    assert project.run("state", "list").out == ""


def test_prevent_destroy_blocks_deletes_even_with_force(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(2, extra="prevent_destroy: true\n"))
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(cio_manifest(1, extra="prevent_destroy: true\n"))
    plan = project.run("plan")
    assert plan.code == 1
    assert "prevent_destroy" in plan.text
    assert project.run("apply", "--auto-approve", "--force").code == 1
    assert "AGENT-00001" in sandbox.cio_contacts()


def test_drift_reports_an_edit_made_behind_the_tools_back_and_apply_repairs_it(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(cio_manifest(2))
    assert project.run("apply", "--auto-approve").code == 0
    assert project.run("drift").code == 0
    c = sandbox.cio_contacts()["AGENT-00001"]
    sandbox.admin("PUT", "/ciopulse/contacts/AGENT-00001", json={**c, "job_title": "Intern"})
    drift = project.run("drift", "--format", "json")
    assert drift.code == 2
    doc = json.loads(drift.out)
    assert doc["summary"] == {"pending": 0, "changed_outside": 1, "unmanaged": 0}
    assert doc["drift"][0]["fields"] == [
        {"name": "job_title", "before": "Agent", "after": "Intern"}
    ]
    assert project.run("apply", "--auto-approve").code == 0
    assert sandbox.cio_contacts()["AGENT-00001"]["job_title"] == "Agent"
    assert project.run("drift").code == 0


def test_pending_drift_when_git_changed_but_not_applied(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(1))
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(cio_manifest(2))
    drift = project.run("drift", "--format", "json")
    assert drift.code == 2
    assert json.loads(drift.out)["summary"]["pending"] == 1


def test_adopt_records_an_existing_live_contact_and_updates_differences(
    project: Project, sandbox: Sandbox
) -> None:
    sandbox.admin(
        "PUT",
        "/ciopulse/contacts/AGENT-00000",
        json={"first_name": "First0", "last_name": "Old", "email": "agent0@example.com"},
    )
    project.manifest(cio_manifest(1))
    plan = json.loads(project.run("plan", "--format", "json").out)
    (c,) = plan["changes"]
    assert c["action"] == "adopt"
    assert {f["name"] for f in c["fields"]} == {"last_name", "job_title"}
    assert project.run("apply", "--auto-approve").code == 0
    assert sandbox.cio_contacts()["AGENT-00000"]["last_name"] == "Last0"
    assert "cio/contacts/AGENT-00000" in project.run("state", "list").out


def test_saved_plan_applies_and_a_stale_one_is_refused(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(2))
    planfile = project.root / "plan.json"
    assert project.run("plan", "--out", str(planfile)).code == 0
    assert project.run("apply", str(planfile)).code == 0
    assert len(sandbox.cio_contacts()) == 2
    stale = project.run("apply", str(planfile))
    assert stale.code == 1
    assert "state changed since the plan was made" in stale.text


def test_saved_plan_skips_a_record_that_moved_since(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(2))
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(cio_manifest(2).replace("Agent", "Lead"))
    planfile = project.root / "plan.json"
    assert project.run("plan", "--out", str(planfile)).code == 0
    c = sandbox.cio_contacts()["AGENT-00001"]
    sandbox.admin("PUT", "/ciopulse/contacts/AGENT-00001", json={**c, "last_name": "Changed"})
    result = project.run("apply", str(planfile))
    assert result.code == 1
    assert "Skipped update cio/contacts/AGENT-00001" in result.out
    held = sandbox.cio_contacts()
    assert held["AGENT-00000"]["job_title"] == "Lead"
    assert held["AGENT-00001"]["last_name"] == "Changed"
    assert held["AGENT-00001"]["job_title"] == "Agent"


def test_apply_without_terminal_refuses_without_auto_approve(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(cio_manifest(1))
    r = project.run("apply")
    assert r.code == 1
    assert "--auto-approve" in r.text
    assert sandbox.cio_contacts() == {}


def test_usage_errors_exit_1_never_2(project: Project) -> None:
    assert project.run("plan", "--no-such-flag").code == 1
    assert project.run("no-such-command").code == 1
    assert project.run("plan", "--format", "yaml").code == 1
    assert project.run("drift", "--parallelism", "5").code == 1


def test_vendor_refusal_names_the_address_and_the_vendors_message(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(cio_manifest(1))
    assert project.run("apply", "--auto-approve").code == 0
    sandbox.admin(
        "PUT", "/ciopulse/support-groups/G1", json={"lead": "AGENT-00000", "also_alert": []}
    )
    project.manifest("kind: ciopulse/contacts\nprovider: cio\nitems: []\n")
    r = project.run("apply", "--auto-approve", "--force")
    assert r.code == 1
    assert "cio/contacts/AGENT-00000" in r.out
    assert "G1" in r.out
    assert "AGENT-00000" in sandbox.cio_contacts()
    assert "cio/contacts/AGENT-00000\t" in project.run("state", "list").out


def test_email_taken_by_another_live_contact_is_a_plan_error(
    project: Project, sandbox: Sandbox
) -> None:
    sandbox.admin(
        "PUT",
        "/ciopulse/contacts/SOMEONE",
        json={"first_name": "S", "last_name": "O", "email": "agent1@example.com"},
    )
    project.manifest(cio_manifest(2))
    r = project.run("plan")
    assert r.code == 1
    assert "cio/contacts/AGENT-00001" in r.text and "422" in r.text
    applied = project.run("apply", "--auto-approve")
    assert applied.code == 1 and "nothing was applied" in applied.err
    assert sorted(sandbox.cio_contacts()) == ["SOMEONE"]  # nothing sent while anything is wrong
    rest = project.run("apply", "--auto-approve", "--target", "cio/contacts/AGENT-00000")
    assert rest.code == 0, rest.text
    assert sorted(sandbox.cio_contacts()) == ["AGENT-00000", "SOMEONE"]


def test_export_then_adopt_gives_an_empty_plan(project: Project, sandbox: Sandbox) -> None:
    for i in range(3):
        sandbox.admin(
            "PUT",
            f"/ciopulse/contacts/EX-{i}",
            json={
                "first_name": f"F{i}",
                "last_name": "L",
                "email": f"ex{i}@example.com",
                "job_title": None,
                "mobile": None,
            },
        )
    exported = project.run(
        "export",
        "--provider",
        "cio",
        "--kind",
        "ciopulse/contacts",
        "--out",
        str(project.root / "manifests/exported.yaml"),
    )
    assert exported.code == 0, exported.text
    plan = json.loads(project.run("plan", "--format", "json").out)
    assert plan["summary"]["adopt"] == 3 and all(not c["fields"] for c in plan["changes"])
    assert project.run("apply", "--auto-approve").code == 0
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_import_then_state_show_rm_mv(project: Project, sandbox: Sandbox) -> None:
    sandbox.admin(
        "PUT",
        "/ciopulse/contacts/AGENT-00000",
        json={
            "first_name": "First0",
            "last_name": "Last0",
            "email": "agent0@example.com",
            "job_title": "Agent",
        },
    )
    project.manifest(cio_manifest(2))
    imp = project.run("import", "cio/contacts/AGENT-00000", "AGENT-00000")
    assert imp.code == 0, imp.text
    shown = json.loads(project.run("state", "show", "cio/contacts/AGENT-00000").out)
    assert shown["remote_id"] == "AGENT-00000" and shown["fields"]["email"] == "agent0@example.com"
    plan = json.loads(project.run("plan", "--format", "json").out)
    assert [c["action"] for c in plan["changes"]] == ["create"]
    assert project.run("import", "cio/contacts/AGENT-00001", "NOPE").code == 1
    assert (
        project.run("state", "mv", "cio/contacts/AGENT-00000", "cio/contacts/AGENT-00001").code == 0
    )
    assert "AGENT-00001" in project.run("state", "list").out
    assert project.run("state", "rm", "cio/contacts/AGENT-00001").code == 0
    assert project.run("state", "list").out == ""
    assert project.run("state", "rm", "cio/contacts/AGENT-00001").code == 1


def test_target_limits_plan_and_apply(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(3))
    r = project.run("apply", "--auto-approve", "--target", "cio/contacts/AGENT-00001")
    assert r.code == 0, r.text
    assert sorted(sandbox.cio_contacts()) == ["AGENT-00001"]
    assert project.run("plan", "--target", "cio/nothing").code == 1


def test_markdown_masks_personal_data_unless_asked(project: Project, sandbox: Sandbox) -> None:
    project.manifest(
        cio_manifest(1).replace(
            "job_title: Agent", "job_title: Agent\n    mobile: '+4930123456767'"
        )
    )
    md = project.run("plan", "--format", "markdown", masked=True).out
    assert "agent0@example.com" not in md and "+4930123456767" not in md and "First0" not in md
    assert "+49 30 *** **67 #" in md
    shown = project.run("plan", "--format", "markdown", "--show-values").out
    assert "agent0@example.com" in shown


def test_create_without_required_fields_is_a_plan_error_naming_the_address(
    project: Project, sandbox: Sandbox
) -> None:
    # Valid for a contact that exists (an update may be partial), not for a new one.
    project.manifest(
        "kind: ciopulse/contacts\nprovider: cio\nitems:\n  - {system_id: NEW-1, job_title: Agent}\n"
    )
    assert project.run("validate").code == 0
    r = project.run("plan")
    assert r.code == 1
    assert (
        "cio/contacts/NEW-1" in r.text and "first_name, last_name, email must be declared" in r.text
    )
    sandbox.admin(
        "PUT",
        "/ciopulse/contacts/NEW-1",
        json={"first_name": "A", "last_name": "B", "email": "n@example.com"},
    )
    assert project.run("apply", "--auto-approve").code == 0
    assert sandbox.cio_contacts()["NEW-1"]["job_title"] == "Agent"


def test_rate_limit_caps_requests_per_second_at_the_vendor(
    project: Project, sandbox: Sandbox
) -> None:
    project.write_config(cio="rate_limit: 10")
    project.manifest(cio_manifest(25))
    assert project.run("apply", "--auto-approve").code == 0
    stats = sandbox.admin("GET", "/stats")["requests"]
    times = sorted(stats["times"])
    assert len(times) == 27  # one read, 25 writes, one read back (writes not taken)
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 20, busiest  # 10 per second, after a first burst of 10
    # The write route's first and last arrival (what the write benchmarks time): the 15
    # writes after the burst take at least 1.4 s at 10 a second.
    (route,) = [r for r in stats["by_route"] if r.startswith("ciopulse PUT")]
    first, last = stats["spans"][route]
    assert stats["by_route"][route] == 25 and last - first >= 1.4, (route, last - first)


def test_a_plan_made_for_another_state_is_refused(
    project: Project, sandbox: Sandbox, tmp_path: Path
) -> None:
    project.manifest(cio_manifest(1))
    other = Project(tmp_path / "other", sandbox.url)
    other.manifest(cio_manifest(1))
    planfile = tmp_path / "other-plan.json"
    assert other.run("plan", "--out", str(planfile)).code == 0
    r = project.run("apply", str(planfile))
    assert r.code == 1 and "made for another state" in r.err
    assert sandbox.cio_contacts() == {}
