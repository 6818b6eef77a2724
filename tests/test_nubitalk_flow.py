"""Nubitalk contacts end to end: writes, no reads at all, typed metadata, refusals, drift."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Project, Sandbox

HEAD = (
    "kind: nubitalk/contacts\nprovider: onecontact\nservice: 486\n"
    "required: [Address, Priority, AgentID]\n"
    "metadata: {Amount: int, Callback: datetime, VIP: boolean, Notes: string}\n"
)


def item(i: int, **extra: Any) -> str:
    fields = {"Address": f"+4930123{i:04d}", "Priority": 1, "AgentID": 7, **extra}
    return "  - " + json.dumps(fields) + "\n"


def manifest(*items: str, head: str = HEAD) -> str:
    return head + ("items:\n" + "".join(items) if items else "items: []\n")


def contacts(sandbox: Sandbox, service: int = 486) -> dict[str, dict[str, Any]]:
    return {
        c["Address"]: c
        for c in sandbox.admin("GET", "/nubitalk/contacts")
        if c["service"] == service
    }


def meta(contact: dict[str, Any]) -> dict[str, Any]:
    return {m["Name"]: m["Value"] for m in contact["Metadata"] or []}


def nubitalk_requests(sandbox: Sandbox) -> int:
    return sum(n for route, n in sandbox.by_route().items() if route.startswith("nubitalk"))


def state_ids(project: Project) -> dict[str, str]:
    r = project.run("state", "list")
    rows = [line.split("\t") for line in r.out.splitlines() if line.startswith("onecontact/")]
    return {addr.rsplit("/", 1)[1]: rid for addr, rid, _status in rows}


def test_full_flow_writes_only_what_changed_and_drift_says_unobservable(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(
        manifest(
            item(1, Metadata={"Amount": 3, "VIP": True}), item(2, NextTry="2026-12-01T09:00:00")
        )
    )
    assert project.run("validate").code == 0
    plan = project.run("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "+ onecontact/contacts/486/+49301230001" in plan.out
    assert "Metadata.Amount" in plan.out
    assert nubitalk_requests(sandbox) == 0
    assert project.run("apply", "--auto-approve").code == 0
    held = contacts(sandbox)
    assert sorted(held) == ["+49301230001", "+49301230002"]
    assert meta(held["+49301230001"]) == {"Amount": 3, "VIP": True}
    assert held["+49301230002"]["NextTry"] == "2026-12-01T09:00:00"
    ids = state_ids(project)
    assert ids == {a: str(c["id"]) for a, c in held.items()}
    before = sandbox.requests()
    again = project.run("plan", "--detailed-exitcode")
    assert again.code == 0, again.text
    assert sandbox.requests() == before  # a plan makes no request at all
    project.manifest(
        manifest(item(1, Metadata={"Amount": 4, "Notes": "call after 5"}), item(2, Priority=5))
    )
    plan = project.run("plan")
    assert "Metadata.Amount : 3 -> 4" in plan.out
    assert "Metadata.VIP    : true -> null" in plan.out
    assert 'Metadata.Notes  : null -> "call after 5"' in plan.out
    assert "Priority : 1 -> 5" in plan.out
    assert project.run("apply", "--auto-approve").code == 0
    held = contacts(sandbox)
    assert meta(held["+49301230001"]) == {"Amount": 4, "Notes": "call after 5"}
    assert held["+49301230002"]["Priority"] == 5
    assert held["+49301230002"]["NextTry"] == "2026-12-01T09:00:00"  # partial: kept
    assert project.run("plan", "--detailed-exitcode").code == 0
    for fmt in ("text", "json", "markdown"):
        d = project.run("drift", "--format", fmt)
        assert d.code == 0, d.text
        assert "unobservable" in d.out.lower()
        assert "no drift" not in d.out.lower()
    assert json.loads(project.run("drift", "--format", "json").out)["unobservable"]
    assert project.run("drift", "--fail-on-unobservable").code == 2
    project.manifest(manifest(item(1, Metadata={"Amount": 4, "Notes": "call after 5"})))
    assert project.run("apply", "--auto-approve").code == 0
    assert sorted(contacts(sandbox)) == ["+49301230001"]
    assert nubitalk_requests(sandbox) == 2 + 2 + 1


def test_every_call_sends_bearer_and_content_type_delete_included(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(manifest(item(1)))
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(manifest())
    r = project.run("apply", "--auto-approve")
    assert r.code == 0, r.text
    assert contacts(sandbox) == {}


@pytest.mark.parametrize(
    "settings",
    [
        {"update_mode": "full"},
        {"numeric_form": "number"},
        {"numeric_form": "string"},
        {"value_form": "string"},
        {"metadata_type_form": "code"},
        {"address_form": "digits"},
        {"failure_status": 422, "not_found_status": 404},
        {"delete_answer": "empty"},
        {"delete_answer": "no_content"},
        {"delete_answer": "success_with_id"},
        {"unknown_fields": "refuse", "unknown_metadata": "refuse"},
        {"duplicate_scope": "account"},
    ],
    ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()),
)
def test_the_flow_holds_under_each_vendor_setting(
    project: Project, sandbox: Sandbox, settings: dict[str, Any]
) -> None:
    sandbox.admin("PUT", "/nubitalk/settings", json=settings)
    config = {
        "update_mode": "update: full",
        "numeric_form": "numeric_form: number" if settings.get("numeric_form") == "number" else "",
        "metadata_type_form": "",
        "address_form": "address_form: digits",
    }
    lines = "\n".join(v for k, v in config.items() if k in settings and v)
    project.write_config(nubitalk=lines)
    project.manifest(
        manifest(
            item(
                1,
                NextTry="2026-12-01T09:00:00",
                Metadata={"Amount": 3, "Callback": "2026-12-02T10:00:00"},
            ),
            item(2, Metadata={"VIP": False, "Notes": "x"}),
        )
    )
    r = project.run("apply", "--auto-approve")
    assert r.code == 0, r.text
    key = "4930123000" if settings.get("address_form") == "digits" else "+4930123000"
    held = contacts(sandbox)
    assert sorted(held) == [key + "1", key + "2"]
    assert meta(held[key + "1"]) == {"Amount": 3, "Callback": "2026-12-02T10:00:00"}
    project.manifest(
        manifest(
            item(
                1,
                NextTry="2026-12-01T09:00:00",
                Metadata={"Amount": 5, "Callback": "2026-12-02T10:00:00"},
            ),
        )
    )
    r = project.run("apply", "--auto-approve")
    assert r.code == 0, r.text
    held = contacts(sandbox)
    assert sorted(held) == [key + "1"]
    c = held[key + "1"]
    assert (c["Priority"], c["AgentID"], c["NextTry"]) == (1, 7, "2026-12-01T09:00:00")
    assert meta(c) == {"Amount": 5, "Callback": "2026-12-02T10:00:00"}
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_name_type_form_and_native_values_work_where_the_vendor_wants_them(
    project: Project, sandbox: Sandbox
) -> None:
    sandbox.admin("PUT", "/nubitalk/settings", json={"metadata_type_form": "name"})
    project.write_config(nubitalk="metadata_type_form: name\nmetadata_value_form: native")
    project.manifest(manifest(item(1, Metadata={"Amount": 3, "VIP": True})))
    r = project.run("apply", "--auto-approve")
    assert r.code == 0, r.text
    assert meta(contacts(sandbox)["+49301230001"]) == {"Amount": 3, "VIP": True}


@pytest.mark.parametrize("status", [200, 400, 422, 500])
def test_a_refusal_names_the_address_and_says_the_vendor_gives_no_reason(
    project: Project, sandbox: Sandbox, status: int
) -> None:
    sandbox.admin("PUT", "/nubitalk/settings", json={"failure_status": status})
    # The service requires AgentID, which this collection forgets to list.
    head = HEAD.replace("required: [Address, Priority, AgentID]\n", "")
    project.manifest(manifest('  - {Address: "+49301230001", Priority: 1}\n', head=head))
    r = project.run("apply", "--auto-approve")
    assert r.code == 1, r.text
    assert "onecontact/contacts/486/+49301230001" in r.text
    assert f"answered {status}" in r.text and "no reason" in r.text
    assert "required" in r.text
    assert contacts(sandbox) == {}
    assert state_ids(project) == {}
    assert "uncertain" not in project.run("state", "list").out


def test_a_wrong_token_is_an_auth_error_naming_the_setting(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(manifest(item(1)))
    r = project.run("apply", "--auto-approve", env={"NUBITALK_TOKEN": "WRONG"})
    assert r.code == 1
    assert "providers.onecontact.token" in r.text
    assert "WRONG" not in r.text


def test_the_example_project_runs_unchanged_against_the_sandbox(
    tmp_path: Any, sandbox: Sandbox
) -> None:
    import shutil
    from pathlib import Path

    example = Path(__file__).parent.parent / "examples" / "nubitalk"
    root = tmp_path / "example"
    shutil.copytree(example, root)
    env = {"NUBITALK_URL": f"{sandbox.url}/nubitalk/standard/api/v1"}
    example_project = Project.__new__(Project)  # its own reconcile.yaml, unchanged
    example_project.root, example_project.url = root, sandbox.url
    run = example_project.run
    assert run("validate").code == 0
    applied = run("apply", "--auto-approve", env=env)
    assert applied.code == 0, applied.text
    assert len(contacts(sandbox)) == 2 and len(contacts(sandbox, 485)) == 1
    assert run("plan", "--detailed-exitcode", env=env).code == 0
