"""Scripted faults hit exactly the calls they aim at; settings change only what they name."""

from __future__ import annotations

import httpx
import pytest

from reconcile.sandbox.core import Faults, Request, Sandbox, ScriptedFault

AUTH = {"Authorization": "Bearer sandbox-jtel-token"}


def call(sb: Sandbox, method: str, path: str, body: bytes = b"") -> object:
    return sb.dispatch(Request.build(method, path, AUTH, body))


def test_scripted_lost_reply_commits_then_drops_only_the_next_matching_call() -> None:
    sb = Sandbox(Faults())
    sb.dispatch(
        Request.build(
            "POST",
            "/_admin/faults/script",
            {},
            b'{"vendor": "jtel", "fault": "lost_reply", "method": "POST", "path_contains": "/import"}',
        )
    )
    body = (
        b'{"DiallerCampaignsID": 538, "Name": "A", "PhoneNumber1": "+4930123456", "UserData": "U1"}'
    )
    first = sb.dispatch(
        Request.build(
            "POST",
            "/jtel/rest/v1.0/1000/dialler/contacts/import?overwriteDuplicates=true",
            AUTH,
            body,
        )
    )
    assert first.drop
    jtel = sb.emulator("jtel")
    assert [c["UserData"] for c in jtel.contacts.values()] == ["U1"]  # committed before the loss
    second = sb.dispatch(
        Request.build(
            "POST",
            "/jtel/rest/v1.0/1000/dialler/contacts/import?overwriteDuplicates=true",
            AUTH,
            body,
        )
    )
    assert not second.drop and second.status == 200


@pytest.mark.parametrize(
    ("fault", "status", "ctype"),
    [("status", 503, "application/json"), ("html", 502, "text/html")],
)
def test_scripted_error_answers_are_not_processed(fault: str, status: int, ctype: str) -> None:
    sb = Sandbox(Faults())
    sb.dispatch(
        Request.build(
            "POST",
            "/_admin/faults/script",
            {},
            f'{{"vendor": "jtel", "fault": "{fault}", "status": {status}}}'.encode(),
        )
    )
    body = (
        b'{"DiallerCampaignsID": 538, "Name": "A", "PhoneNumber1": "+4930123456", "UserData": "U1"}'
    )
    resp = sb.dispatch(
        Request.build(
            "POST",
            "/jtel/rest/v1.0/1000/dialler/contacts/import?overwriteDuplicates=true",
            AUTH,
            body,
        )
    )
    assert resp.status == status and resp.headers["Content-Type"].startswith(ctype)
    assert not sb.emulator("jtel").contacts


def test_truncated_answer_is_not_json() -> None:
    sb = Sandbox(Faults())
    sb.dispatch(
        Request.build(
            "POST", "/_admin/faults/script", {}, b'{"vendor": "jtel", "fault": "truncated"}'
        )
    )
    resp = sb.dispatch(Request.build("GET", "/jtel/rest/v1.0/1000/dialler/campaigns", AUTH))
    with pytest.raises(ValueError):
        httpx.Response(200, content=resp.body).json()


def test_bad_scripts_and_settings_are_refused_with_a_reason() -> None:
    sb = Sandbox(Faults())
    bad = sb.dispatch(
        Request.build(
            "POST", "/_admin/faults/script", {}, b'{"vendor": "jtel", "fault": "gremlins"}'
        )
    )
    assert bad.status == 400 and b"fault must be one of" in bad.body
    nobody = sb.dispatch(
        Request.build("POST", "/_admin/faults/script", {}, b'{"vendor": "acme", "fault": "drop"}')
    )
    assert nobody.status == 400
    unknown = sb.dispatch(Request.build("PUT", "/_admin/ciopulse/settings", {}, b'{"no_such": 1}'))
    assert unknown.status == 400 and b"unknown setting" in unknown.body


def test_reset_clears_the_script() -> None:
    sb = Sandbox(Faults())
    sb.dispatch(
        Request.build(
            "POST", "/_admin/faults/script", {}, b'{"vendor": "jtel", "fault": "drop", "count": 5}'
        )
    )
    assert ScriptedFault is not None
    sb.reset()
    listed = sb.dispatch(Request.build("GET", "/_admin/faults/script", {}))
    assert listed.body == b"[]"
