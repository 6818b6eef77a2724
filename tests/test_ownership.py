"""Ownership is exact: no record orphaned, none owned twice, every plan honest.

Each test drives the CLI against the sandbox and checks what the vendor and the
state end up holding.
"""

from __future__ import annotations

import json
import sqlite3

from tests.conftest import Project, Sandbox, cio_manifest


def jtel_doc(campaign: str, *keys: str, extra: str = "") -> str:
    lines = [
        f"kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {campaign}\n{extra}items:\n"
    ]
    for i, k in enumerate(keys):
        fields = {"UserData": k, "Name": f"N{k}", "PhoneNumber1": f"+49301234{i:04d}"}
        lines.append("  - " + json.dumps(fields) + "\n")
    return "".join(lines)


def state_rows(project: Project) -> list[tuple[str, str | None, str]]:
    db = sqlite3.connect(project.root / ".reconcile" / "state.db")
    try:
        return sorted(db.execute("SELECT address, remote_id, collection FROM resources").fetchall())
    finally:
        db.close()


def jtel_keys(sandbox: Sandbox, campaign: int) -> list[str]:
    return sorted(
        str(c["UserData"]) for c in sandbox.jtel_contacts() if c["DiallerCampaignsID"] == campaign
    )


# 1 ------------------------------------------------------------------------------------------
def test_removing_a_manifest_file_plans_its_records_for_deletion(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(cio_manifest(3))
    extra = project.manifest(jtel_doc("{name: Renewals}", "REN-1", "REN-2"), "manifests/ren.yaml")
    assert project.run("apply", "--auto-approve").code == 0
    assert jtel_keys(sandbox, 539) == ["REN-1", "REN-2"]
    extra.unlink()
    plan = project.run("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "- dialler/dialler-contacts/Renewals/REN-1" in plan.out
    assert "no manifest declares this collection any more" in plan.out and "ren.yaml" in plan.out
    # the whole collection goes: 100% of it is past the threshold once it is big enough
    assert project.run("apply", "--auto-approve").code == 0
    assert jtel_keys(sandbox, 539) == []
    assert len(sandbox.cio_contacts()) == 3  # the other collection untouched
    assert project.run("plan", "--detailed-exitcode").code == 0
    assert [a for a, _, _ in state_rows(project) if a.startswith("dialler/")] == []


def test_a_removed_document_with_prune_none_is_forgotten_not_deleted(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(
        cio_manifest(1) + "---\n" + jtel_doc("{id: 539}", "REN-1", extra="prune: none\n")
    )
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(cio_manifest(1))
    plan = project.run("plan")
    assert (
        "x dialler/dialler-contacts/539/REN-1" in plan.out and "forgotten (prune: none)" in plan.out
    )
    assert project.run("apply", "--auto-approve").code == 0
    assert jtel_keys(sandbox, 539) == ["REN-1"]  # left at the vendor
    assert all(not a.startswith("dialler/") for a, _, _ in state_rows(project))


def test_a_removed_collection_counts_against_the_threshold_and_keeps_prevent_destroy(
    project: Project, sandbox: Sandbox
) -> None:
    guarded = cio_manifest(12).replace(
        "prune: managed\n", "prune: managed\nprevent_destroy: true\n"
    )
    project.manifest(guarded)
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(jtel_doc("{id: 538}", "CRM-1"))  # the CIOPulse document is gone
    plan = project.run("plan")
    assert plan.code == 1
    assert "prevent_destroy: true" in plan.text and "AGENT-00000" in plan.text
    assert project.run("apply", "--auto-approve", "--force").code == 1
    assert len(sandbox.cio_contacts()) == 12  # still protected by what state recorded

    project.manifest(cio_manifest(12))  # prevent_destroy lifted, applied, then removed
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(jtel_doc("{id: 538}", "CRM-1"))
    refused = project.run("apply", "--auto-approve")
    assert refused.code == 1 and "12 of 12 records managed would be deleted" in refused.text
    assert len(sandbox.cio_contacts()) == 12
    ok = project.run("apply", "--auto-approve", "--allow-delete", "cio/contacts")
    assert ok.code == 0, ok.text
    assert sandbox.cio_contacts() == {}


def test_a_glob_that_stops_matching_orphans_nothing(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(2), "manifests/team/a.yaml")
    assert project.run("apply", "--auto-approve").code == 0
    text = (project.root / "reconcile.yaml").read_text()
    (project.root / "reconcile.yaml").write_text(
        text.replace('manifests: ["manifests/**/*.yaml"]', 'manifests: ["other/*.yaml"]')
    )
    project.manifest(jtel_doc("{id: 538}", "CRM-1"), "other/x.yaml")
    plan = project.run("plan")
    assert "- cio/contacts/AGENT-00000" in plan.out and "- cio/contacts/AGENT-00001" in plan.out


# 2 ------------------------------------------------------------------------------------------
def test_renaming_a_scope_reference_moves_state_and_never_owns_twice(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(jtel_doc("{id: 539}", "REN-1", "REN-2"))
    assert project.run("apply", "--auto-approve").code == 0
    before = state_rows(project)
    project.manifest(jtel_doc("{name: Renewals}", "REN-1", "REN-2"))
    plan = project.run("plan", "--detailed-exitcode")
    assert "> dialler/dialler-contacts/Renewals/REN-1" in plan.out
    assert "state address was dialler/dialler-contacts/539/REN-1" in plan.out
    assert "adopt" not in plan.out and "create" not in plan.out.split("Plan:")[0]
    requests = sandbox.requests()
    assert project.run("apply", "--auto-approve").code == 0
    after = state_rows(project)
    assert [a for a, _, _ in after] == [
        "dialler/dialler-contacts/Renewals/REN-1",
        "dialler/dialler-contacts/Renewals/REN-2",
    ]
    assert [r for _, r, _ in after] == [r for _, r, _ in before]  # the same remote records
    assert {c for _, _, c in after} == {"dialler/jtel/dialler-contacts/539"}
    assert sandbox.requests() - requests <= 4  # reads only: nothing written to the vendor
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_one_scope_declared_twice_is_an_error_naming_both(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(jtel_doc("{id: 539}", "REN-1"), "manifests/a.yaml")
    project.manifest(jtel_doc("{name: Renewals}", "REN-2"), "manifests/b.yaml")
    plan = project.run("plan")
    assert plan.code == 1
    assert "is the same jtel/dialler-contacts scope as" in plan.err
    assert "a.yaml:3" in plan.err and "b.yaml:3" in plan.err
    assert sandbox.jtel_contacts() == []


def test_a_record_owned_elsewhere_is_not_adopted_again(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(1))
    assert project.run("apply", "--auto-approve").code == 0
    owner = state_rows(project)[0][0]
    imported = project.run("state", "mv", owner, "cio/contacts/AGENT-00000")
    assert imported.code == 1  # same address: already in state
    # importing the same remote id under a second declared address is refused
    project.manifest(cio_manifest(2))
    second = project.run("import", "cio/contacts/AGENT-00001", "AGENT-00000")
    assert second.code == 1
    assert "already owned by cio/contacts/AGENT-00000" in second.err


# 3 ------------------------------------------------------------------------------------------
def test_import_refuses_an_undeclared_address_unless_forced(
    project: Project, sandbox: Sandbox
) -> None:
    sandbox.admin(
        "PUT",
        "/ciopulse/contacts/LEGACY-1",
        json={"first_name": "Old", "last_name": "Timer", "email": "old@example.com"},
    )
    project.manifest(cio_manifest(1))
    refused = project.run("import", "cio/contacts/LEGACY-1", "LEGACY-1")
    assert refused.code == 1 and "no manifest declares this item" in refused.err
    assert not any(a == "cio/contacts/LEGACY-1" for a, _, _ in state_rows(project))
    forced = project.run("import", "--force", "cio/contacts/LEGACY-1", "LEGACY-1")
    assert forced.code == 0 and "the next plan will delete it" in forced.err
    assert "- cio/contacts/LEGACY-1" in project.run("plan").out


# 4 ------------------------------------------------------------------------------------------
def test_a_plan_with_errors_never_says_no_changes(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(1))
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(cio_manifest(1) + "  - {system_id: NEW-1, job_title: Lead}\n")
    plan = project.run("plan")
    assert plan.code == 1
    assert "No changes: the vendors hold" not in plan.text
    first = (plan.out or plan.err).splitlines()[0]
    assert first.startswith("Error: ") and "NEW-1" in first, plan.text


# 5 ------------------------------------------------------------------------------------------
def test_prune_all_counts_deletes_against_the_scope_and_names_them(
    project: Project, sandbox: Sandbox
) -> None:
    for i in range(12):
        sandbox.admin(
            "PUT",
            f"/ciopulse/contacts/OTHER-{i:02d}",
            json={"first_name": "Not", "last_name": "Ours", "email": f"o{i}@example.com"},
        )
    project.manifest(cio_manifest(1, prune="all"))
    plan = project.run("plan")
    assert "12 of 12 records in its scope would be deleted" in plan.out, plan.out
    assert "OTHER-00, OTHER-01" in plan.out and "and 7 more" in plan.out
    assert project.run("apply", "--auto-approve").code == 1
    assert len(sandbox.cio_contacts()) == 12


# 6 ------------------------------------------------------------------------------------------
def test_small_collections_have_no_percentage_threshold(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(3))
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(cio_manifest(2))
    applied = project.run("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    assert sorted(sandbox.cio_contacts()) == ["AGENT-00000", "AGENT-00001"]


def test_allow_delete_opens_one_collection_and_not_the_others(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(
        cio_manifest(12) + "---\n" + jtel_doc("{id: 539}", *[f"R{i}" for i in range(12)])
    )
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(
        cio_manifest(10) + "---\n" + jtel_doc("{id: 539}", *[f"R{i}" for i in range(10)])
    )
    one = project.run("apply", "--auto-approve", "--allow-delete", "cio/contacts")
    assert one.code == 1
    assert "dialler/dialler-contacts/539: 2 of 12" in one.text
    assert "--allow-delete COLLECTION" in one.text
    assert len(sandbox.cio_contacts()) == 12 and len(jtel_keys(sandbox, 539)) == 12  # nothing sent
    both = project.run(
        "apply",
        "--auto-approve",
        "--allow-delete",
        "cio/contacts",
        "--allow-delete",
        "dialler/dialler-contacts/539",
    )
    assert both.code == 0, both.text
    assert "allowed by --allow-delete cio/contacts" in both.out
    assert len(sandbox.cio_contacts()) == 10 and len(jtel_keys(sandbox, 539)) == 10


# 7 ------------------------------------------------------------------------------------------
def test_a_target_that_matches_nothing_is_an_error_with_suggestions(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(cio_manifest(2))
    r = project.run("plan", "--target", "cio/contacts/AGENT-0001")
    assert r.code == 1
    assert "--target cio/contacts/AGENT-0001 matches nothing" in r.err
    assert "did you mean cio/contacts/AGENT-00001" in r.err
    nope = project.run("plan", "--target", "cio/contacts/NOPE")
    assert nope.code == 1 and "matches nothing" in nope.err
    assert project.run("plan", "--target", "cio/contacts/AGENT-00001").code == 0
    assert project.run("plan", "--target", "cio/contacts").code == 0


# 8 ------------------------------------------------------------------------------------------
def test_provider_option_typos_are_validate_errors_with_suggestions(
    project: Project, sandbox: Sandbox
) -> None:
    project.write_config(
        cio="concurency: 4\nratelimit: 5", jtel='timout: 3\nendpoints: {lok: "GET /x"}'
    )
    project.manifest(cio_manifest(1))
    r = project.run("validate")
    assert r.code == 1
    assert "providers.cio.concurency: unknown field (did you mean 'concurrency'?)" in r.err
    assert "providers.cio.ratelimit: unknown field (did you mean 'rate_limit'?)" in r.err
    assert "providers.dialler.timout: unknown field (did you mean 'timeout'?)" in r.err
    assert "'lok' is not allowed (did you mean 'lock'" in r.err
    assert "reconcile.yaml:" in r.err
    assert sandbox.requests() == 0


def test_kind_field_and_command_typos_get_suggestions(project: Project, sandbox: Sandbox) -> None:
    project.manifest("kind: ciopulse/contact\nprovider: cio\nitems: []\n")
    r = project.run("validate")
    assert r.code == 1 and "did you mean 'ciopulse/contacts'" in r.err
    project.manifest(
        "kind: ciopulse/contacts\nprovider: cio\nitems:\n  - {system_id: A, first_nme: X}\n"
    )
    r = project.run("validate")
    assert r.code == 1 and "did you mean 'first_name'" in r.err
    r = project.run("plna")
    assert r.code == 1 and "Did you mean 'plan'" in r.err


# 9 ------------------------------------------------------------------------------------------
def test_the_printed_sandbox_urls_go_into_the_config_as_they_are(
    project: Project, sandbox: Sandbox
) -> None:
    from reconcile.sandbox.credentials import banner

    lines = banner(sandbox.url).splitlines()
    jtel_url = next(ln.split()[1] for ln in lines if ln.strip().startswith("jtel"))
    text = (project.root / "reconcile.yaml").read_text()
    (project.root / "reconcile.yaml").write_text(
        text.replace(f"{sandbox.url}/jtel/rest/v1.0", jtel_url)
    )
    project.manifest(jtel_doc("{id: 538}", "CRM-1"))
    r = project.run("apply", "--auto-approve")
    assert r.code == 0, r.text
    assert jtel_keys(sandbox, 538) == ["CRM-1"]


# 10 -----------------------------------------------------------------------------------------
def test_a_refused_connection_names_the_provider_and_url_and_leaves_nothing_uncertain(
    project: Project, sandbox: Sandbox
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    dead = f"http://127.0.0.1:{port}/ciopulse/api/v5"
    text = (project.root / "reconcile.yaml").read_text()
    (project.root / "reconcile.yaml").write_text(
        text.replace(f"{sandbox.url}/ciopulse/api/v5", dead, 1)
    )
    project.manifest(cio_manifest(2))
    r = project.run("plan")
    assert r.code == 1
    assert f"provider cio: cannot connect to {dead}" in r.err
    assert "providers.cio.url" in r.err and "nothing was sent" in r.err
