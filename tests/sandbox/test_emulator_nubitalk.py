"""Nubitalk as a client meets it: create, update, delete, auth, answers, duplicates, faults, admin."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

NUBI = "/nubitalk/standard/api/v1"
TOKEN = "SANDBOXNUBITALKTOKEN00000000"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
DOC_EXAMPLE = {
    "Address": "91112111",
    "Priority": "1",
    "AgentID": "123",
    "NextTry": "2018-04-25T12:00:00",
    "Metadata": [{"Name": "Metadata1", "Type": "string", "Value": "created"}],
}


def call(
    c: httpx.Client, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    return c.request(method, NUBI + path, content=content, headers=headers or HEADERS)


def create(c: httpx.Client, body: Any, service: int = 484, check: str = "true") -> httpx.Response:
    return call(c, "POST", f"/service/{service}/contacts/{check}", body)


def new_id(c: httpx.Client, body: Any, service: int = 484, check: str = "true") -> int:
    r = create(c, body, service, check)
    assert r.status_code == 200 and r.json()["success"] is True, r.headers.get("X-Sandbox-Reason")
    return int(r.json()["data"])


def settings(c: httpx.Client, **changes: Any) -> None:
    assert c.put("/_admin/nubitalk/settings", json=changes).status_code == 200


def stored(c: httpx.Client, contact_id: int) -> dict[str, Any]:
    r = c.get(f"/_admin/nubitalk/contacts/{contact_id}")
    assert r.status_code == 200
    return dict(r.json())


def count(c: httpx.Client) -> int:
    return len(c.get("/_admin/nubitalk/contacts").json())


def refused(r: httpx.Response, reason: str, status: int = 200) -> None:
    assert r.status_code == status and r.json() == {"success": False}
    assert reason in r.headers["X-Sandbox-Reason"]


def test_create_answers_the_new_id_and_stores_the_documented_example(client: httpx.Client) -> None:
    r = create(client, DOC_EXAMPLE)
    assert r.status_code == 200 and r.json() == {"success": True, "data": 1001}
    assert stored(client, 1001) == {
        "id": 1001,
        "service": 484,
        "Address": "91112111",
        "Priority": 1,
        "NextTry": "2018-04-25T12:00:00",
        "AgentID": 123,
        "Metadata": [{"Name": "Metadata1", "Type": "string", "Value": "created"}],
    }


def test_contact_ids_increase_and_are_unique_across_services(client: httpx.Client) -> None:
    ids = [
        new_id(client, {"Address": "1"}, 484),
        new_id(client, {"Address": "2", "Priority": 1}, 485),
        new_id(client, {"Address": "3"}, 484),
    ]
    assert ids == sorted(set(ids)) and len(ids) == 3


@pytest.mark.parametrize("flag", ["True", "yes", "1", "truee"])
def test_checkrepeated_must_be_literally_true_or_false(client: httpx.Client, flag: str) -> None:
    refused(create(client, {"Address": "1"}, check=flag), "checkrepeated")
    assert count(client) == 0


def test_there_is_no_read_route_and_unknown_routes_are_empty_404s(client: httpx.Client) -> None:
    cid = new_id(client, {"Address": "1"})
    for method, path in (
        ("GET", f"/service/484/contacts/{cid}"),
        ("GET", "/service/484/contacts"),
        ("GET", "/service/484"),
        ("PATCH", f"/service/484/contacts/{cid}"),
        ("POST", "/service/484/contacts"),
        ("PUT", f"/service/484/contacts/{cid}/x"),
        ("POST", "/services/484/contacts/true"),
    ):
        r = call(client, method, path)
        assert r.status_code == 404 and r.content == b"", (method, path)
    assert client.get("/nubitalk/service/484/contacts/true").status_code == 404


@pytest.mark.parametrize("status", [401, 403, 200])
def test_a_missing_or_wrong_token_is_refused_with_auth_status(
    client: httpx.Client, status: int
) -> None:
    settings(client, auth_status=status)
    cid = new_id(client, {"Address": "1"})
    ctype = {"Content-Type": "application/json"}
    for auth in ({}, {"Authorization": "Bearer WRONG"}, {"Authorization": f"Basic {TOKEN}"}):
        for method, path in (
            ("POST", "/service/484/contacts/false"),
            ("PUT", f"/service/484/contacts/{cid}"),
            ("DELETE", f"/service/484/contacts/{cid}"),
        ):
            r = call(client, method, path, {"Address": "2"}, {**ctype, **auth})
            refused(r, "Bearer", status)
    assert [c["Address"] for c in client.get("/_admin/nubitalk/contacts").json()] == ["1"]


def test_content_type_is_mandatory_on_every_call_delete_included(client: httpx.Client) -> None:
    cid = new_id(client, {"Address": "1"})
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for ctype in ({}, {"Content-Type": "text/plain"}):
        headers = {**auth, **ctype}
        refused(
            call(client, "POST", "/service/484/contacts/false", {"Address": "2"}, headers),
            "Content-Type",
        )
        refused(
            call(client, "PUT", f"/service/484/contacts/{cid}", {"Address": "3"}, headers),
            "Content-Type",
        )
        refused(
            call(client, "DELETE", f"/service/484/contacts/{cid}", None, headers), "Content-Type"
        )
    assert stored(client, cid)["Address"] == "1" and count(client) == 1
    charset = {**auth, "Content-Type": "application/json; charset=utf-8"}
    assert call(client, "PUT", f"/service/484/contacts/{cid}", {"Address": "4"}, charset).json()[
        "success"
    ]
    settings(client, require_content_type=False)
    assert call(client, "DELETE", f"/service/484/contacts/{cid}", None, auth).json() == {
        "success": True
    }


@pytest.mark.parametrize("status", [200, 400, 422, 500])
def test_every_refusal_is_a_bare_failure_with_failure_status(
    client: httpx.Client, status: int
) -> None:
    settings(client, failure_status=status)
    refused(create(client, {"Priority": "1"}), "mandatory", status)
    refused(create(client, "not an object"), "JSON object", status)
    r = client.post(NUBI + "/service/484/contacts/true", content=b"{oops", headers=HEADERS)
    refused(r, "not JSON", status)


@pytest.mark.parametrize("status", [404, 200, 400, 500])
def test_an_unknown_service_or_contact_answers_not_found_status(
    client: httpx.Client, status: int
) -> None:
    settings(client, not_found_status=status)
    cid = new_id(client, {"Address": "1"})
    refused(create(client, {"Address": "1"}, service=999), "no service", status)
    refused(create(client, {"Address": "1"}, service="abc"), "no service", status)  # type: ignore[arg-type]
    refused(
        call(client, "PUT", "/service/484/contacts/99999", {"Address": "2"}), "no contact", status
    )
    refused(call(client, "DELETE", "/service/484/contacts/x1"), "no contact", status)
    refused(call(client, "DELETE", f"/service/999/contacts/{cid}"), "no service", status)
    assert count(client) == 1


def test_a_contact_named_under_another_service_is_not_found_unless_ignored(
    client: httpx.Client,
) -> None:
    cid = new_id(client, {"Address": "1"}, 484)
    refused(
        call(client, "PUT", f"/service/485/contacts/{cid}", {"Address": "2"}), "in service 484", 404
    )
    refused(call(client, "DELETE", f"/service/485/contacts/{cid}"), "in service 484", 404)
    settings(client, service_mismatch="ignored")
    r = call(client, "PUT", f"/service/485/contacts/{cid}", {"Address": "2"})
    assert r.json() == {"success": True, "data": cid}
    assert stored(client, cid)["service"] == 484 and stored(client, cid)["Address"] == "2"


def test_checkrepeated_true_refuses_a_taken_address_and_false_creates_anyway(
    client: httpx.Client,
) -> None:
    first = new_id(client, {"Address": "91112111"})
    refused(create(client, {"Address": "91112111"}), "taken by contact")
    second = new_id(client, {"Address": "91112111"}, check="false")
    assert second > first and count(client) == 2
    settings(client, duplicate_answer="existing_id")
    r = create(client, {"Address": "91112111", "Priority": "9"})
    assert r.json() == {"success": True, "data": first} and count(client) == 2
    assert stored(client, first)["Priority"] is None  # nothing written either


def test_duplicate_scope_is_the_service_or_the_whole_account(client: httpx.Client) -> None:
    new_id(client, {"Address": "5"}, 484)
    other = new_id(client, {"Address": "5", "Priority": 1}, 485)  # another service: free
    settings(client, duplicate_scope="account")
    refused(create(client, {"Address": "5", "Priority": 1, "AgentID": 1}, 486), "taken")
    assert call(client, "DELETE", f"/service/485/contacts/{other}").status_code == 200
    settings(client, duplicate_scope="service")
    call(client, "DELETE", "/service/484/contacts/1001")
    assert new_id(client, {"Address": "5"}, 484) == 1003  # a deleted contact frees its Address


def test_required_fields_are_per_service(client: httpx.Client) -> None:
    refused(create(client, {"Priority": "1"}, 484), "Address")
    refused(create(client, {"Address": "1"}, 485), "Priority")
    new_id(client, {"Address": "1", "Priority": "2"}, 485)
    refused(create(client, {"Address": "1", "Priority": "2"}, 486), "AgentID")
    new_id(client, {"Address": "1", "Priority": "2", "AgentID": "7"}, 486)
    client.put("/_admin/nubitalk/services/484", json={"required": []})
    new_id(client, {"Priority": 1}, 484)
    client.put(
        "/_admin/nubitalk/services/487", json={"required": ["Score"], "metadata": {"Score": "int"}}
    )
    refused(create(client, {"Address": "1"}, 487), "Score")
    new_id(client, {"Metadata": [{"Name": "Score", "Type": "56", "Value": "3"}]}, 487)


def test_partial_update_keeps_absent_fields_and_merges_metadata_by_name(
    client: httpx.Client,
) -> None:
    cid = new_id(client, {**DOC_EXAMPLE, "Metadata": [
        {"Name": "Metadata1", "Type": "231", "Value": "a"},
        {"Name": "URL", "Type": "231", "Value": "u"},
    ]})  # fmt: skip
    body = {"Address": "2", "NextTry": "2018-04-25T12:00:00",
            "Metadata": [{"Name": "URL", "Type": "231", "Value": "updated"}]}  # fmt: skip
    assert call(client, "PUT", f"/service/484/contacts/{cid}", body).json() == {
        "success": True,
        "data": cid,
    }
    c = stored(client, cid)
    assert (c["Address"], c["Priority"], c["AgentID"]) == ("2", 1, 123)
    assert c["Metadata"] == [
        {"Name": "Metadata1", "Type": "string", "Value": "a"},
        {"Name": "URL", "Type": "string", "Value": "updated"},
    ]
    body = {"Priority": None, "Metadata": [{"Name": "Metadata1", "Type": "231", "Value": None}]}
    call(client, "PUT", f"/service/484/contacts/{cid}", body)
    c = stored(client, cid)
    assert c["Priority"] is None and c["AgentID"] == 123
    assert [m["Name"] for m in c["Metadata"]] == ["URL"]
    call(client, "PUT", f"/service/484/contacts/{cid}", {"Metadata": None})
    assert stored(client, cid)["Metadata"] == []


def test_full_update_clears_absent_fields_and_replaces_metadata(client: httpx.Client) -> None:
    settings(client, update_mode="full")
    cid = new_id(client, DOC_EXAMPLE)
    body = {"Address": "2", "Metadata": [{"Name": "URL", "Type": "231", "Value": "x"}]}
    call(client, "PUT", f"/service/484/contacts/{cid}", body)
    c = stored(client, cid)
    assert (c["Address"], c["Priority"], c["AgentID"], c["NextTry"]) == ("2", None, None, None)
    assert c["Metadata"] == [{"Name": "URL", "Type": "string", "Value": "x"}]


@pytest.mark.parametrize("mode", ["partial", "full"])
def test_update_checks_mandatory_fields_on_the_result(client: httpx.Client, mode: str) -> None:
    settings(client, update_mode=mode)
    cid = new_id(client, {"Address": "1", "Priority": "1"}, 485)
    body = {"Priority": None} if mode == "partial" else {"Address": "2"}
    refused(call(client, "PUT", f"/service/485/contacts/{cid}", body), "Priority")
    assert stored(client, cid)["Priority"] == 1 and stored(client, cid)["Address"] == "1"


@pytest.mark.parametrize(
    ("answer", "status", "content"),
    [
        ("success", 200, b'{"success":true}'),
        ("success_with_id", 200, b'{"success":true,"data":1001}'),
        ("empty", 200, b""),
        ("no_content", 204, b""),
    ],
)
def test_delete_answers_follow_delete_answer(
    client: httpx.Client, answer: str, status: int, content: bytes
) -> None:
    settings(client, delete_answer=answer)
    cid = new_id(client, {"Address": "1"})
    r = call(client, "DELETE", f"/service/484/contacts/{cid}")
    assert (r.status_code, r.content) == (status, content)
    assert count(client) == 0
    refused(call(client, "DELETE", f"/service/484/contacts/{cid}"), "no contact", 404)


def test_a_lost_reply_commits_the_create_and_a_checked_retry_then_fails(
    http: httpx.Client,
) -> None:
    script = {
        "vendor": "nubitalk",
        "fault": "lost_reply",
        "method": "POST",
        "path_contains": "/contacts/",
    }
    assert http.post("/_admin/faults/script", json=script).status_code == 200
    with pytest.raises(httpx.RemoteProtocolError):
        create(http, {"Address": "91112111"})
    assert [c["Address"] for c in http.get("/_admin/nubitalk/contacts").json()] == ["91112111"]
    refused(create(http, {"Address": "91112111"}), "taken")  # the retry meets its own create
    http.put("/_admin/nubitalk/settings", json={"duplicate_answer": "existing_id"})
    assert create(http, {"Address": "91112111"}).json() == {"success": True, "data": 1001}


def test_injected_faults_come_in_the_vendor_shape(client: httpx.Client) -> None:
    client.post(
        "/_admin/faults/script", json={"vendor": "nubitalk", "fault": "status", "status": 503}
    )
    r = create(client, {"Address": "1"})
    assert r.status_code == 503 and r.json() == {"success": False} and count(client) == 0
    client.put("/_admin/faults", json={"throttle_rate": 1.0, "retry_after": 2})
    r = create(client, {"Address": "1"})
    assert (
        r.status_code == 429 and r.headers["Retry-After"] == "2" and r.json() == {"success": False}
    )


def test_request_counts_name_routes_not_ids(client: httpx.Client) -> None:
    cid = new_id(client, {"Address": "1"})
    call(client, "PUT", f"/service/484/contacts/{cid}", {"Address": "2"})
    call(client, "DELETE", f"/service/484/contacts/{cid}")
    call(client, "GET", "/service/484/contacts/1")
    routes = client.get("/_admin/stats").json()["requests"]["by_route"]
    assert routes == {
        "nubitalk POST /service/{id}/contacts/{checkrepeated}": 1,
        "nubitalk PUT /service/{id}/contacts/{id}": 1,
        "nubitalk DELETE /service/{id}/contacts/{id}": 1,
        "nubitalk GET (unknown)": 1,
    }
