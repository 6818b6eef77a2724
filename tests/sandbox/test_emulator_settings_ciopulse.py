"""CIOPulse's read shapes, Portal-made contacts, support groups and refused deletes, over HTTP."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import CIO, CIO_AUTH

ANN = {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}
BOB = {"first_name": "Bob", "last_name": "Ray", "email": "bob@example.com"}


def put(c: httpx.Client, sid: str, body: dict[str, Any]) -> httpx.Response:
    raw = json.dumps(body, ensure_ascii=False).encode()
    return c.put(f"{CIO}/contacts/{sid}", content=raw, headers=CIO_AUTH)


def get(c: httpx.Client, path: str) -> httpx.Response:
    return c.get(CIO + path, headers=CIO_AUTH)


def setting(c: httpx.Client, **changes: Any) -> None:
    r = c.put("/_admin/ciopulse/settings", json=changes)
    assert r.status_code == 200, r.text


PASCAL = {"Contact_System_ID": "A", "First_Name": "Ann", "Last_Name": "Lee",
          "Email": "ann@example.com", "Job_Title": None, "Mobile": None}  # fmt: skip
SNAKE = {"system_id": "A", "first_name": "Ann", "last_name": "Lee",
         "email": "ann@example.com", "job_title": None, "mobile": None}  # fmt: skip


@pytest.mark.parametrize(
    ("shape", "wrap"),
    [
        ("wrapped", lambda cs: {"contacts": [{"contact": c} for c in cs]}),
        ("flat", lambda cs: {"contacts": cs}),
        ("list", lambda cs: cs),
        ("data", lambda cs: {"data": cs}),
    ],
)
@pytest.mark.parametrize(("case", "record"), [("pascal", PASCAL), ("snake", SNAKE)])
def test_reads_and_put_answers_take_the_configured_shape_and_key_case(
    client: httpx.Client, shape: str, wrap: Any, case: str, record: dict[str, Any]
) -> None:
    setting(client, read_shape=shape, read_key_case=case)
    r = put(client, "A", ANN)
    assert r.status_code == 201 and r.json() == wrap([record])
    assert get(client, "/contacts").json() == wrap([record])
    assert get(client, "/contacts/A").json() == wrap([record])


@pytest.mark.parametrize(("mode", "expected"), [("null", {"Contact_System_ID": None}), ("absent", {}), ("empty", {"Contact_System_ID": ""})])  # fmt: skip
def test_portal_made_contacts_are_read_without_a_system_id(
    client: httpx.Client, mode: str, expected: dict[str, Any]
) -> None:
    setting(client, portal_system_id=mode)
    made = client.post("/_admin/ciopulse/portal-contacts", json=BOB).json()
    assert made["portal_id"] == 1 and made["email"] == "bob@example.com"
    put(client, "A", ANN)
    rows = [item["contact"] for item in get(client, "/contacts").json()["contacts"]]
    assert rows[0]["Contact_System_ID"] == "A"
    portal = {k: v for k, v in rows[1].items() if k == "Contact_System_ID"}
    assert portal == expected and rows[1]["Email"] == "bob@example.com"


def test_a_portal_contacts_email_is_taken_for_the_api(client: httpx.Client) -> None:
    client.post("/_admin/ciopulse/portal-contacts", json=BOB)
    r = put(client, "B", {**BOB, "email": "Bob@Example.com"})
    assert r.status_code == 422 and r.json()["status"] == 422
    assert client.delete("/_admin/ciopulse/portal-contacts/1").json() == {"deleted": True}
    assert put(client, "B", BOB).status_code == 201


def test_support_groups_are_read_in_the_documented_shape(client: httpx.Client) -> None:
    put(client, "A", ANN)
    put(client, "B", BOB)
    group = {"lead": "A", "also_alert": ["B"], "name": "Service Desk", "code": "SDESK"}
    assert client.put("/_admin/ciopulse/support-groups/TEAM123", json=group).status_code == 200
    client.put("/_admin/ciopulse/support-groups/TEAM456", json={"lead": "B"})
    body = get(client, "/support-groups/TEAM123").json()
    g = body["support_groups"][0]["support_group"]
    assert len(body["support_groups"]) == 1
    assert g["Support_Group_System_ID"] == "TEAM123" and g["Support_Group_Name"] == "Service Desk"
    assert g["Support_Group_Code"] == "SDESK" and g["Active"] == "Y"
    assert (g["Support_Lead_System_ID"], g["Support_Lead_Email"]) == ("A", "ann@example.com")
    assert (g["Also_Alert_1_System_ID"], g["Also_Alert_1_Email"]) == ("B", "bob@example.com")
    assert all(g[f"Also_Alert_{i}_System_ID"] is None for i in range(2, 7))
    assert all(g[f"Also_Alert_{i}_Email"] is None for i in range(2, 7))
    everyone = get(client, "/support-groups").json()["support_groups"]
    assert [x["support_group"]["Support_Group_System_ID"] for x in everyone] == ["TEAM123", "TEAM456"]  # fmt: skip


def test_support_group_routes_refuse_what_they_do_not_serve(client: httpx.Client) -> None:
    r = get(client, "/support-groups/NOPE")
    assert r.status_code == 404 and r.json() == {
        "message": "Support group not found",
        "status": 404,
    }
    r = client.put(f"{CIO}/support-groups/G", headers=CIO_AUTH, content=b"{}")
    assert r.status_code == 405 and r.json()["status"] == 405
    assert client.get(f"{CIO}/support-groups").status_code == 401
    seven = {"lead": "A", "also_alert": [f"X{i}" for i in range(7)]}
    assert client.put("/_admin/ciopulse/support-groups/G", json=seven).status_code == 400
    assert client.get("/_admin/stats").json()["requests"]["by_route"]["ciopulse GET /support-groups/{id}"] == 1  # fmt: skip


@pytest.mark.parametrize("status", [400, 409, 422])
def test_deleting_a_lead_or_also_alert_is_refused_with_the_configured_status(
    client: httpx.Client, status: int
) -> None:
    setting(client, refused_delete_status=status)
    put(client, "A", ANN)
    put(client, "B", BOB)
    client.put("/_admin/ciopulse/support-groups/NOC", json={"lead": "A", "also_alert": ["B"]})
    for sid, role in (("A", "Support Lead"), ("B", "Also Alert")):
        r = client.delete(f"{CIO}/contacts/{sid}", headers=CIO_AUTH)
        assert r.status_code == status and r.json() == {
            "message": f"Contact is the {role} of support group NOC and cannot be deleted",
            "status": status,
        }
    assert get(client, "/contacts/A").status_code == 200
    client.delete("/_admin/ciopulse/support-groups/NOC")
    assert client.delete(f"{CIO}/contacts/A", headers=CIO_AUTH).status_code == 202


def test_settings_refuse_values_outside_the_choices(client: httpx.Client) -> None:
    for bad in ({"refused_delete_status": 418}, {"read_shape": "xml"}, {"read_key_case": "camel"}):
        assert client.put("/_admin/ciopulse/settings", json=bad).status_code == 400, bad
    assert client.get("/_admin/ciopulse/settings").json() == {
        "read_shape": "wrapped", "read_key_case": "pascal",
        "portal_system_id": "null", "refused_delete_status": 422,
    }  # fmt: skip
