"""Reliability under hostile input and tampering: bad numbers, deep or huge files, links out
of the project, edited plan files, plans from another checkout. Each case ends with a clear
error and nothing sent to any vendor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconcile.state.base import whoami
from tests.conftest import Project, Sandbox, cio_manifest

JTEL = "kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {id: 538}\nitems:\n"


def jtel_item(key: str, extra: str = "") -> str:
    return f'  - {{UserData: {key}, Name: N, PhoneNumber1: "+4930123456"{extra}}}\n'


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (".nan", "not a number a vendor can receive"),
        ("-.inf", "not a number a vendor can receive"),
        ("1" + "0" * 400, "too large to be sent exactly"),
        ("12345678901234567890", "too large to be sent exactly"),
    ],
)
def test_numbers_a_vendor_cannot_receive_are_validate_errors(
    project: Project, sandbox: Sandbox, value: str, words: str
) -> None:
    project.manifest(JTEL + jtel_item("CRM-1", f", Amount: {value}"))
    for command in ("validate", "plan", "apply"):
        r = project.run(command, "--auto-approve") if command == "apply" else project.run(command)
        assert r.code == 1, r.text
        assert "main.yaml:5" in r.err and "items[0].Amount" in r.err and words in r.err
    assert sandbox.requests() == 0
    assert project.run("state", "list").out.strip() in ("", "No records in the state.")


def test_a_plan_error_anywhere_stops_every_write(project: Project, sandbox: Sandbox) -> None:
    sandbox.admin(
        "PUT",
        "/ciopulse/contacts/SOMEONE",
        json={"first_name": "S", "last_name": "O", "email": "agent0@example.com"},
    )
    project.manifest(
        cio_manifest(1) + "---\n" + JTEL + "".join(jtel_item(f"CRM-{i}") for i in range(5))
    )
    r = project.run("apply", "--auto-approve")
    assert r.code == 1 and "nothing was applied" in r.err
    assert sandbox.jtel_contacts() == []
    assert sorted(sandbox.cio_contacts()) == ["SOMEONE"]


def test_an_edited_plan_file_is_refused_naming_the_change(
    project: Project, sandbox: Sandbox, tmp_path: Path
) -> None:
    project.manifest(cio_manifest(2))
    plan_file = tmp_path / "plan.json"
    assert project.run("plan", "--out", str(plan_file)).code == 0
    saved = json.loads(plan_file.read_text())
    saved["changes"][0]["after"]["job_title"] = "Chief of Everything"
    plan_file.write_text(json.dumps(saved))
    r = project.run("apply", str(plan_file))
    assert r.code == 1
    assert "not what this checkout plans" in r.err and "create cio/contacts/AGENT-00000" in r.err
    assert sandbox.cio_contacts() == {}

    invented = json.loads(plan_file.read_text())
    invented["changes"][0]["after"]["job_title"] = "Agent"
    invented["changes"].append(
        {**invented["changes"][0], "address": "cio/contacts/EVIL", "key": "EVIL"}
    )
    plan_file.write_text(json.dumps(invented))
    r = project.run("apply", str(plan_file))
    assert r.code == 1 and "cio/contacts/EVIL: this checkout plans no such change" in r.err
    assert sandbox.cio_contacts() == {}


def test_a_plan_from_another_checkout_is_refused(
    project: Project, sandbox: Sandbox, tmp_path: Path
) -> None:
    project.manifest(cio_manifest(2))
    plan_file = tmp_path / "plan.json"
    assert project.run("plan", "--out", str(plan_file)).code == 0
    project.manifest(cio_manifest(3))  # the branch moved on after the plan was reviewed
    r = project.run("apply", str(plan_file))
    assert r.code == 1 and "made from other manifests" in r.err
    assert sandbox.cio_contacts() == {}
    project.manifest(cio_manifest(2))  # back to the reviewed files: the same plan applies
    assert project.run("apply", str(plan_file)).code == 0
    assert len(sandbox.cio_contacts()) == 2


def test_deep_nesting_is_refused_with_a_location(project: Project, sandbox: Sandbox) -> None:
    deep = "{a: " * 3000 + "1" + "}" * 3000
    project.manifest(
        f"kind: ciopulse/contacts\nprovider: cio\nitems:\n  - {{system_id: A, first_name: {deep}}}\n"
    )
    r = project.run("validate")
    assert r.code == 1 and "main.yaml:4:" in r.err and "nest more than 64 levels" in r.err


def test_a_file_over_the_size_limit_is_refused_unread(project: Project, sandbox: Sandbox) -> None:
    project.write_config(extra="limits: {max_file_mb: 0.01}")
    project.manifest(cio_manifest(200))
    r = project.run("validate")
    assert r.code == 1 and "over the limit of 0.01 MiB" in r.err and "limits.max_file_mb" in r.err


def test_a_manifest_linked_from_outside_the_project_is_refused(
    project: Project, sandbox: Sandbox, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(cio_manifest(1))
    (project.root / "manifests").mkdir(parents=True, exist_ok=True)
    (project.root / "manifests" / "linked.yaml").symlink_to(outside)
    r = project.run("plan")
    assert r.code == 1 and "leads outside the project folder" in r.err
    assert sandbox.requests() == 0


def test_a_key_with_a_line_break_is_refused(project: Project, sandbox: Sandbox) -> None:
    project.manifest(
        'kind: ciopulse/contacts\nprovider: cio\nitems:\n  - {system_id: "A\\nB", first_name: X, last_name: Y, email: a@example.com}\n'
    )
    r = project.run("validate")
    assert r.code == 1 and "main.yaml:4" in r.err and "single-line printable text" in r.err


def test_spreadsheet_formulas_in_csv_cells_are_refused_unless_allowed(
    project: Project, sandbox: Sandbox
) -> None:
    project.write(
        "manifests/items.csv",
        "system_id,first_name,last_name,email,mobile\n"
        "A,=SUM(A1:A9),L,a@example.com,+61411112233\n"
        "B,-cmd,L,b@example.com,\n",
    )
    project.manifest("kind: ciopulse/contacts\nprovider: cio\nitems_from: items.csv\n")
    r = project.run("validate")
    assert r.code == 1
    assert "items.csv:2:2" in r.err and "items.csv:3:2" in r.err and "spreadsheet formula" in r.err
    assert "items.csv:2:5" not in r.err  # +61... is a number, not a formula
    project.write_config(policy="{max_delete_percent: 10, allow_csv_formulas: true}")
    assert project.run("validate").code == 0


def test_the_lock_holder_names_the_ci_job() -> None:
    gh = whoami(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKFLOW": "reconcile",
            "GITHUB_JOB": "apply",
            "GITHUB_RUN_ID": "42",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "acme/cc",
        }
    )
    assert "GitHub Actions workflow 'reconcile' job apply" in gh and "acme/cc/actions/runs/42" in gh
    assert "pid " in gh and "@" in gh and not gh.startswith("unknown@")
    gl = whoami({"GITLAB_CI": "true", "CI_PIPELINE_ID": "7", "CI_JOB_NAME": "drift"})
    assert "GitLab pipeline 7 job drift" in gl


def test_plain_http_to_another_host_needs_insecure(project: Project, sandbox: Sandbox) -> None:
    text = (project.root / "reconcile.yaml").read_text()
    (project.root / "reconcile.yaml").write_text(
        text.replace(f"{sandbox.url}/ciopulse/api/v5", "http://cio.example.com/api/v5")
    )
    project.manifest(cio_manifest(1))
    r = project.run("validate")
    assert r.code == 1 and "reconcile.yaml:8:" in r.err
    assert "plain http:// to cio.example.com" in r.err and "insecure: true" in r.err
    project.write_config(cio="ca_bundle: certs/proxy.pem")
    r = project.run("validate")
    assert r.code == 1 and "providers.cio.ca_bundle: no such file" in r.err
    project.write("certs/proxy.pem", "not checked until a request is made\n")
    assert project.run("validate").code == 0


def test_the_same_server_error_to_every_try_is_a_refusal_not_an_uncertain_write(
    project: Project, sandbox: Sandbox
) -> None:
    project.write_config(cio="retries: 3")
    project.manifest(cio_manifest(2))
    sandbox.admin(
        "POST",
        "/faults/script",
        json={
            "vendor": "ciopulse",
            "fault": "status",
            "status": 500,
            "method": "PUT",
            "path_contains": "AGENT-00001",
            "count": 4,
        },
    )
    r = project.run("apply", "--auto-approve")
    assert r.code == 1
    assert (
        "Failed create cio/contacts/AGENT-00001" in r.out and "the same way to all 4 tries" in r.out
    )
    listed = project.run("state", "list").out
    assert "uncertain" not in listed and "AGENT-00001" not in listed  # refused: nothing there
    assert "+ cio/contacts/AGENT-00001" in project.run("plan").out  # planned again, as a create
