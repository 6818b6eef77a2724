"""CIOPulse as a client meets it: auth, upserts, three-way updates, refusals and the GET shape."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import CIO, CIO_AUTH

ANN = {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}


def put(c: httpx.Client, sid: str, body: Any, auth: dict[str, str] = CIO_AUTH) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return c.put(
        f"{CIO}/contacts/{sid}", content=raw, headers={**auth, "Content-Type": "application/json"}
    )


def get(c: httpx.Client, path: str) -> httpx.Response:
    return c.get(CIO + path, headers=CIO_AUTH)


@pytest.mark.parametrize(
    "auth",
    [
        {},
        {"Authorization": "Basic U0FOREJPWDp3cm9uZw=="},  # SANDBOX:wrong
        {"Authorization": "Bearer sandbox000000000000000000000000000000000"},
        {"Authorization": "Basic !!!"},
    ],
)
def test_bad_credentials_get_401_with_the_documented_body(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    r = client.get(f"{CIO}/contacts", headers=auth)
    assert r.status_code == 401
    assert r.json() == {"message": "Invalid security credentials", "status": 401}


def test_create_answers_201_and_update_200_in_the_get_shape(client: httpx.Client) -> None:
    r = put(client, "A-1", {**ANN, "job_title": "Lead"})
    assert r.status_code == 201
    assert r.json() == {
        "contacts": [
            {
                "contact": {
                    "Contact_System_ID": "A-1",
                    "First_Name": "Ann",
                    "Last_Name": "Lee",
                    "Email": "ann@example.com",
                    "Job_Title": "Lead",
                    "Mobile": None,
                }
            }
        ]
    }
    r = put(client, "A-1", {"mobile": "+61411112233"})
    assert r.status_code == 200
    assert r.json()["contacts"][0]["contact"]["Mobile"] == "+61411112233"


def test_update_is_three_way_value_sets_null_clears_absent_keeps(client: httpx.Client) -> None:
    put(client, "A", {**ANN, "job_title": "Lead", "mobile": "+61411112233"})
    assert put(client, "A", {"job_title": None, "first_name": "Anna"}).status_code == 200
    c = get(client, "/contacts/A").json()["contacts"][0]["contact"]
    assert c["Job_Title"] is None and c["First_Name"] == "Anna"
    assert c["Mobile"] == "+61411112233" and c["Last_Name"] == "Lee"


def test_a_required_field_cannot_be_missing_on_create_or_cleared_on_update(
    client: httpx.Client,
) -> None:
    r = put(client, "B", {"first_name": "Bo"})
    assert (
        r.status_code == 400
        and "last_name" in r.json()["message"]
        and "email" in r.json()["message"]
    )
    put(client, "A", ANN)
    r = put(client, "A", {"email": None})
    assert r.status_code == 400 and "email" in r.json()["message"]


def test_email_is_unique_case_insensitively_with_422(client: httpx.Client) -> None:
    put(client, "A", ANN)
    r = put(client, "B", {**ANN, "email": "ANN@Example.com"})
    assert r.status_code == 422
    assert r.json() == {"message": "Email address already in use by another contact", "status": 422}
    assert put(client, "A", {"email": "Ann@example.com"}).status_code == 200  # its own address
    put(client, "A", {"email": "ann2@example.com"})
    assert put(client, "B", ANN).status_code == 201  # the old address is free again


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"first_name":"A\\u00e9","last_name":"L","email":"a@example.com"}', "backslash"),
        (b'{"first_name":"A","last_name":"L","email":"a@example.com","x":"y"}', "Unknown"),
        (b'{"first_name":NULL,"last_name":"L","email":"a@example.com"}', "JSON"),
        (b'["first_name"]', "JSON"),
        (b'{"first_name":1,"last_name":"L","email":"a@example.com"}', "first_name"),
        (b'{"first_name":"A","last_name":"L","email":"not-an-email"}', "email"),
        (
            b'{"first_name":"A","last_name":"L","email":"a@example.com","mobile":"0411 112 233"}',
            "mobile",
        ),
    ],
)
def test_bad_bodies_get_400_and_change_nothing(
    client: httpx.Client, body: bytes, words: str
) -> None:
    r = put(client, "A", body)
    assert r.status_code == 400 and r.json()["status"] == 400
    assert words.lower() in r.json()["message"].lower()
    assert get(client, "/contacts").json() == {"contacts": []}


def test_raw_utf8_is_accepted_and_system_ids_are_percent_decoded(client: httpx.Client) -> None:
    assert put(client, "team%2Fa%20b", {**ANN, "first_name": "Zoë"}).status_code == 201
    c = get(client, "/contacts/team%2Fa%20b").json()["contacts"][0]["contact"]
    assert c["Contact_System_ID"] == "team/a b" and c["First_Name"] == "Zoë"


def test_delete_answers_202_then_404(client: httpx.Client) -> None:
    put(client, "A", ANN)
    r = client.delete(f"{CIO}/contacts/A", headers=CIO_AUTH)
    assert r.status_code == 202 and r.json() == {"message": "Contact deleted", "status": 202}
    assert client.delete(f"{CIO}/contacts/A", headers=CIO_AUTH).status_code == 404
    r = get(client, "/contacts/A")
    assert r.status_code == 404 and r.json()["status"] == 404


def test_delete_is_refused_for_a_support_group_lead_or_also_alert(client: httpx.Client) -> None:
    put(client, "A", ANN)
    put(client, "B", {**ANN, "email": "bo@example.com"})
    client.put("/_admin/ciopulse/support-groups/NOC", json={"lead": "A", "also_alert": ["B"]})
    for sid in ("A", "B"):
        r = client.delete(f"{CIO}/contacts/{sid}", headers=CIO_AUTH)
        assert r.status_code == 422 and "NOC" in r.json()["message"]
    client.delete("/_admin/ciopulse/support-groups/NOC")
    assert client.delete(f"{CIO}/contacts/A", headers=CIO_AUTH).status_code == 202


def test_get_all_returns_every_contact_in_one_body(client: httpx.Client) -> None:
    rows = [
        {"system_id": f"S{i}", "first_name": "F", "last_name": "L", "email": f"s{i}@example.com"}
        for i in range(500)
    ]
    assert client.post("/_admin/ciopulse/bulk", json=rows).json() == {"loaded": 500}
    body = get(client, "/contacts").json()
    assert len(body["contacts"]) == 500
    assert body["contacts"][0]["contact"]["Contact_System_ID"] == "S0"
    assert body["contacts"][0]["contact"]["Job_Title"] is None


def test_unknown_routes_get_a_json_404(client: httpx.Client) -> None:
    for path in (f"{CIO}/segments/X", "/ciopulse/api/v4/contacts", f"{CIO}/contacts/A/B"):
        r = client.get(path, headers=CIO_AUTH)
        assert r.status_code == 404 and r.json()["status"] == 404


def test_admin_changes_records_behind_the_tools_back(client: httpx.Client) -> None:
    put(client, "A", ANN)
    client.put(
        "/_admin/ciopulse/contacts/A",
        json={"first_name": "Edited", "last_name": "Lee", "email": "x"},
    )
    held = client.get("/_admin/ciopulse/contacts").json()
    assert held == {
        "A": {
            "first_name": "Edited",
            "last_name": "Lee",
            "email": "x",
            "job_title": None,
            "mobile": None,
        }
    }
    client.delete("/_admin/ciopulse/contacts/A")
    assert get(client, "/contacts/A").status_code == 404
