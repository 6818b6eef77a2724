"""uContact end to end: sessions, batched uploads, uncertain batches, removals, observation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Project, Sandbox

BL = "kind: ucontact/blacklist\nprovider: uc\nchannel: phone\n"
SMS = "kind: ucontact/sms-base\nprovider: uc\ncampaign: Ventas->\nitems:\n"


@pytest.fixture
def uc(sandbox: Sandbox) -> Sandbox:
    # Uploads are processed when the test says so (POST process), never by waiting.
    sandbox.admin("PUT", "/ucontact/settings", json={"processing_delay_seconds": 3600})
    return sandbox


def processed(sb: Sandbox, what: str) -> list[dict[str, Any]]:
    sb.admin("POST", "/ucontact/process")
    return list(sb.admin("GET", f"/ucontact/{what}"))


def sessions(sb: Sandbox) -> dict[str, Any]:
    return dict(sb.admin("GET", "/ucontact/sessions"))


def numbers(n: int, start: int = 0) -> list[str]:
    return [f"+4930{i:07d}" for i in range(start, start + n)]


def blacklist(items: list[str], extra: str = "") -> str:
    return BL + extra + "items: " + json.dumps(items) + "\n"


def test_blacklist_flow_uploads_once_and_ends_the_session(project: Project, uc: Sandbox) -> None:
    project.manifest(blacklist(["+4930123456", "+4930123457"], "campaign: Ventas->\n"))
    plan = project.run("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "+ uc/blacklist/phone@Ventas->/+4930123456" in plan.out
    assert sessions(uc)["open"] == 0 and sessions(uc)["logins"] == 0  # nothing to read: no login
    r = project.run("apply", "--auto-approve")
    assert r.code == 0, r.text
    rows = processed(uc, "blacklist")
    assert [(x["value"], x["channel"], x["campaign"]) for x in rows] == [
        ("+4930123456", "phone", "Ventas->"),
        ("+4930123457", "phone", "Ventas->"),
    ]
    view = sessions(uc)
    assert view["open"] == 0 and view["logins"] == 1 and view["ended"] == 1
    assert project.run("plan", "--detailed-exitcode").code == 0
    assert project.run("apply", "--auto-approve").code == 0
    assert len(processed(uc, "blacklist")) == 2  # a rerun uploads nothing


def test_sms_email_and_scheduled_sms_flow(project: Project, uc: Sandbox) -> None:
    project.manifest(
        SMS + '  - {destination: "+4930123456", text: "See you tomorrow", priority: 5}\n'
        "---\nkind: ucontact/email-base\nprovider: uc\ndialer: Newsletter\nitems:\n"
        '  - {email: ann@example.com, subject: Hello, body: "Hi {{Name}}", variables: {Name: Ann}}\n'
        "---\nkind: ucontact/scheduled-sms\nprovider: uc\ncampaign: Ventas->\nitems:\n"
        '  - {key: r1, calldate: "2099-12-01 09:00:00", destination: "+4930123456", text: "See you; at 10"}\n'
    )
    r = project.run("apply", "--auto-approve")
    assert r.code == 0, r.text
    (sms,) = processed(uc, "sms-base")
    assert (sms["campaign"], sms["phone"], sms["message"], sms["priority"]) == (
        "Ventas->", "+4930123456", "See you tomorrow", 5,
    )  # fmt: skip
    (mail,) = processed(uc, "email-base")
    assert mail["email"] == "ann@example.com" and mail["subject"] == "Hello"
    assert json.loads(mail["variables"]) == {"Name": "Ann"} and mail["priority"] == 9999
    (sched,) = uc.admin("GET", "/ucontact/scheduled-sms")
    assert sched["campaign"] == "Ventas->" and sched["data"] == "See you; at 10"
    assert project.run("plan", "--detailed-exitcode").code == 0
    assert sessions(uc)["open"] == 0


def test_ten_thousand_entries_go_in_ceil_n_over_batch_size_uploads(
    project: Project, uc: Sandbox
) -> None:
    project.write_config(ucontact="batch_size: 1500")
    project.manifest(blacklist(numbers(10_000)))
    assert project.run("apply", "--auto-approve").code == 0
    route = "ucontact POST /IntegraChannels/resources/DialersResources/uploadMultiChannelBlacklist"
    assert uc.by_route()[route] == 7  # ceil(10,000 / 1,500)
    assert len(processed(uc, "blacklist")) == 10_000
    assert project.run("apply", "--auto-approve").code == 0
    assert uc.by_route()[route] == 7


def test_a_lost_blacklist_answer_is_sent_again_on_the_next_run(
    project: Project, uc: Sandbox
) -> None:
    project.manifest(blacklist(["+4930123456"]))
    uc.admin("POST", "/faults/script", json={"vendor": "ucontact", "fault": "lost_reply",
                                             "path_contains": "Blacklist"})  # fmt: skip
    r = project.run("apply", "--auto-approve")
    assert r.code == 1 and "Unknown outcome" in r.out
    plan = project.run("plan")
    assert "+ uc/blacklist/phone/+4930123456" in plan.out and "sent again" in plan.out
    assert project.run("apply", "--auto-approve").code == 0
    assert [x["value"] for x in processed(uc, "blacklist")] == ["+4930123456"] * 2
    assert project.run("plan", "--detailed-exitcode").code == 0
    assert sessions(uc)["open"] == 0


def test_a_lost_sms_answer_is_held_until_confirmed(project: Project, uc: Sandbox) -> None:
    project.manifest(SMS + '  - {destination: "+4930123456", text: "Hi"}\n')
    uc.admin("POST", "/faults/script", json={"vendor": "ucontact", "fault": "lost_reply",
                                             "path_contains": "uploadbase"})  # fmt: skip
    assert project.run("apply", "--auto-approve").code == 1
    plan = project.run("plan", "--detailed-exitcode")
    addr = "uc/sms-base/Ventas->/+4930123456"
    assert plan.code == 0 and f"reconcile state confirm '{addr}'" in plan.out
    assert f"reconcile state rm '{addr}'" in plan.out
    assert project.run("apply", "--auto-approve").code == 0
    assert len(processed(uc, "sms-base")) == 1  # never sent twice by itself
    r = project.run("state", "confirm", addr)
    assert r.code == 0, r.text
    assert "uncertain" not in project.run("state", "list").out
    plan = project.run("plan", "--detailed-exitcode")
    assert plan.code == 0 and "unknown" not in plan.out


def test_an_expired_session_logs_in_again_once_and_every_run_ends_its_session(
    project: Project, uc: Sandbox
) -> None:
    project.manifest(SMS + '  - {destination: "+4930123456", text: "Hi"}\n')
    uc.admin("POST", "/faults/script", json={"vendor": "ucontact", "fault": "status", "status": 401,
                                             "path_contains": "uploadbase"})  # fmt: skip
    assert project.run("apply", "--auto-approve").code == 0
    assert sessions(uc)["logins"] == 2 and len(processed(uc, "sms-base")) == 1
    project.manifest(
        SMS
        + '  - {destination: "+4930123456", text: "Hi"}\n  - {destination: "+4930123457", text: "Ho"}\n'
    )
    uc.admin("POST", "/faults/script", json={"vendor": "ucontact", "fault": "status", "status": 400,
                                             "path_contains": "uploadbase"})  # fmt: skip
    r = project.run("apply", "--auto-approve")
    assert r.code == 1 and "Failed create" in r.out
    assert sessions(uc)["open"] == 0


@pytest.mark.parametrize(
    ("settings", "config"),
    [
        ({"auth_scheme": "Bearer"}, "auth_scheme: Bearer"),
        ({"expired_status": 403}, "expired_status: 403"),
        ({"expired_status": 200}, "expired_status: 200"),
        ({"blacklist_columns": ["campaign", "ignore", "value"]}, "blacklist_columns: [campaign, ignore, value]"),
        ({"upload_encoding": "latin-1"}, "upload_encoding: latin-1"),
    ],
)  # fmt: skip
def test_each_vendor_setting_has_a_provider_setting(
    project: Project, uc: Sandbox, settings: dict[str, Any], config: str
) -> None:
    uc.admin("PUT", "/ucontact/settings", json=settings)
    project.write_config(ucontact=config)
    project.manifest(
        blacklist(["+4930123456"], "campaign: Ventas->\n") + "---\n"
        + SMS.replace("Ventas->", "Sale->") + '  - {destination: "+4930123457", text: "¿Qué tal?"}\n'
    )  # fmt: skip
    if settings.get("expired_status", 200) != 200:  # the session expires in mid-run
        fault = {"vendor": "ucontact", "fault": "status", "status": settings["expired_status"],
                 "path_contains": "uploadbase"}  # fmt: skip
        uc.admin("POST", "/faults/script", json=fault)
    r = project.run("apply", "--auto-approve")
    assert r.code == 0, r.text
    rows = processed(uc, "blacklist")
    assert [(x["value"], x["campaign"]) for x in rows] == [("+4930123456", "Ventas->")]
    assert [x["message"] for x in processed(uc, "sms-base")] == ["¿Qué tal?"]
    assert sessions(uc)["open"] == 0


def test_csv_breaking_values_are_refused_before_any_request(project: Project, uc: Sandbox) -> None:
    before = uc.requests()
    project.manifest(
        SMS + '  - {destination: "+4930123456", text: "a;b"}\n'
        '  - {destination: "+4930123457", text: "line\\nbreak"}\n'
        "---\nkind: ucontact/scheduled-sms\nprovider: uc\ncampaign: Ventas->\nitems:\n"
        '  - {key: r1, calldate: "2001-01-01 09:00:00", destination: "+4930123456", text: "x"}\n'
    )
    for cmd in ("validate", "plan"):
        r = project.run(cmd)
        assert r.code == 1
        assert "main.yaml:5:40: items[0].text: contains a ';'" in r.err
        assert "main.yaml:6:40: items[1].text: contains a line break" in r.err
        assert "main.yaml:12:5: calldate: 2001-01-01 09:00:00 is in the past" in r.err
    assert uc.requests() == before


def test_a_blacklist_removal_is_a_manual_step_that_needs_force_and_stays_until_confirmed(
    project: Project, uc: Sandbox
) -> None:
    project.manifest(blacklist(["+4930123456", "+4930123457"]))
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(blacklist(["+4930123456"]))
    addr = "uc/blacklist/phone/+4930123457"
    plan = project.run("plan", "--format", "markdown", masked=True)
    assert "MANUAL STEP (HIGH RISK)" in plan.out and "+4930123457" not in plan.out
    r = project.run("apply", "--auto-approve")
    assert r.code == 1 and "refusing to apply" in r.err
    r = project.run("apply", "--auto-approve", "--force")
    assert r.code == 1 and f"reconcile state confirm '{addr}'" in r.out
    assert addr in project.run("state", "list").out  # never silently dropped
    assert "- " + addr in project.run("plan").out
    assert project.run("state", "confirm", addr).code == 0
    assert project.run("plan", "--detailed-exitcode").code == 0
    assert sessions(uc)["open"] == 0


def test_a_configured_removal_endpoint_removes_the_entry(project: Project, uc: Sandbox) -> None:
    uc.admin("PUT", "/ucontact/settings", json={"blacklist_removal_route": True})
    remove = "POST /IntegraChannels/resources/DialersResources/removeMultiChannelBlacklist"
    project.write_config(ucontact=f'endpoints: {{blacklist_remove: "{remove}"}}')
    project.manifest(blacklist(["+4930123456", "+4930123457"]))
    assert project.run("apply", "--auto-approve").code == 0
    processed(uc, "blacklist")
    project.manifest(blacklist(["+4930123456"]))
    assert project.run("apply", "--auto-approve").code == 1  # still needs --force
    r = project.run("apply", "--auto-approve", "--force")
    assert r.code == 0, r.text
    assert [x["value"] for x in processed(uc, "blacklist")] == ["+4930123456"]
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_sent_sms_removed_from_the_manifest_is_only_forgotten(
    project: Project, uc: Sandbox
) -> None:
    project.manifest(SMS + '  - {destination: "+4930123456", text: "Hi"}\n')
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(SMS + '  - {destination: "+4930123457", text: "Ho"}\n')
    plan = project.run("plan")
    assert "x uc/sms-base/Ventas->/+4930123456" in plan.out and "cannot unsend" in plan.out
    assert project.run("apply", "--auto-approve").code == 0
    assert project.run("plan", "--detailed-exitcode").code == 0


@pytest.mark.parametrize("values", ["typed", "strings"])
def test_with_observe_an_entry_deleted_by_hand_is_drift(
    project: Project, uc: Sandbox, values: str
) -> None:
    uc.admin("PUT", "/ucontact/settings", json={"formget_values": values})
    observe = "observe: {dsn: ccdata}\n"
    project.manifest(blacklist(["+4930123456", "+4930123457"], observe))
    assert project.run("apply", "--auto-approve").code == 0
    uc.admin("POST", "/ucontact/process")
    assert project.run("drift").code == 0
    uc.admin("DELETE", "/ucontact/blacklist", json=[{"value": "+4930123457"}])
    r = project.run("drift", "--format", "json")
    assert r.code == 2
    (d,) = json.loads(r.out)["drift"]
    assert d["class"] == "changed_outside" and d["address"].endswith("+4930123457")
    assert "+ uc/blacklist/phone/+4930123457" in project.run("plan").out
    nobody = project.run("drift", "--target", "uc/blacklist/phone")
    assert nobody.code == 2 and sessions(uc)["open"] == 0
    project.manifest(blacklist(["+4930123456"]))
    assert "unobservable" in project.run("drift", "--format", "json").out


def test_an_unknown_timezone_is_a_config_error(project: Project, uc: Sandbox) -> None:
    project.write_config(ucontact="timezone: Mars/Olympus")
    project.manifest(
        "kind: ucontact/scheduled-sms\nprovider: uc\ncampaign: Ventas->\nitems:\n"
        '  - {key: r1, calldate: "2099-12-01 09:00:00", destination: "+4930123456", text: "x"}\n'
    )
    r = project.run("validate")
    assert r.code == 1 and "'Mars/Olympus' is not a known time zone" in r.err
