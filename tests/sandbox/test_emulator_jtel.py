"""jtel as a client meets it: auth, empty versus JSON 404s, import, overwrite, update, actions, dialling."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import JTEL, JTEL_AUTH


def call(c: httpx.Client, method: str, path: str, **kw: Any) -> httpx.Response:
    return c.request(method, JTEL + path, headers={**JTEL_AUTH, **kw.pop("headers", {})}, **kw)


def imp(c: httpx.Client, body: dict[str, Any], overwrite: bool = True) -> httpx.Response:
    flag = "true" if overwrite else "false"
    return call(c, "POST", f"/dialler/contacts/import?overwriteDuplicates={flag}", json=body)


MAX = {
    "DiallerCampaignsID": 538,
    "UserData": "CRM-1",
    "Name": "Mustermann",
    "PhoneNumber1": "+4930123456",
}


def test_a_wrong_token_or_clients_id_gets_401(client: httpx.Client) -> None:
    for path, headers in (
        (f"{JTEL}/dialler/campaigns", {"Authorization": "Bearer nope"}),
        (f"{JTEL}/dialler/campaigns", {}),
        ("/jtel/rest/v1.0/1001/dialler/campaigns", JTEL_AUTH),
    ):
        r = client.get(path, headers=headers)
        assert r.status_code == 401
        assert r.json()["status"] == 401 and r.json()["error"].startswith("Unauthorized")


def test_unknown_route_is_an_empty_404_and_a_missing_object_a_json_404(
    client: httpx.Client,
) -> None:
    for path in ("/dialler/nothing", "/dialler/contacts/contact/abc", "/calls"):
        r = call(client, "GET", path)
        assert r.status_code == 404 and r.content == b""
    r = call(client, "GET", "/dialler/contacts/99")
    assert r.status_code == 404 and r.json() == {
        "status": 404,
        "error": "Dialler contact not found",
    }
    r = call(client, "GET", "/dialler/campaigns/1")
    assert r.json() == {"status": 404, "error": "Dialler campaign not found"}
    r = call(client, "GET", "/dialler/contacts?diallerCampaignsID=1")
    assert r.status_code == 404 and r.json()["error"] == "Dialler campaign not found"


def test_campaigns_list_is_sorted_by_name_in_the_list_envelope(client: httpx.Client) -> None:
    body = call(client, "GET", "/dialler/campaigns").json()
    assert [c["Name"] for c in body["records"]] == [
        "Collections",
        "Outbound Sales",
        "Renewals",
        "Surveys",
        "Winback",
    ]
    assert body["count"] == 5 and body["limitPageSize"] == -1 and body["status"] == 200
    one = call(client, "GET", "/dialler/campaigns/538").json()
    assert one["count"] == 1 and one["records"][0]["Name"] == "Outbound Sales"
    assert one["records"][0]["ClientsID"] == 1000 and "nMaxParallelLines" in one["records"][0]


def test_import_creates_a_contact_with_every_field_and_blank_counters(client: httpx.Client) -> None:
    r = imp(client, MAX)
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 1 and body["status"] == 200
    c = body["records"][0]
    assert c["ID"] >= 1 and c["DiallerCampaignsID"] == 538 and c["bLocked"] is False
    assert c["Amount"] == 0.0 and c["Email"] is None and c["ExternalSystemLink"] is None
    assert (
        c["nTriesPhoneNumber1"] == 0
        and c["dtNextTry"] is None
        and c["bPhoneNumber6Invalid"] is False
    )
    assert call(client, "GET", f"/dialler/contacts/{c['ID']}").json()["records"] == [c]


def test_import_by_campaign_name_and_a_duplicate_name_is_a_409(client: httpx.Client) -> None:
    body = {**MAX, "DiallerCampaignsName": "Renewals"}
    del body["DiallerCampaignsID"]
    assert imp(client, body).json()["records"][0]["DiallerCampaignsID"] == 539
    assert imp(client, {**body, "DiallerCampaignsName": "Nope"}).status_code == 404
    client.post("/_admin/jtel/campaigns", json={"id": 900, "name": "Renewals"})
    r = imp(client, body)
    assert r.status_code == 409 and r.json()["status"] == 409


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"Name": None}, "Name"),
        ({"PhoneNumber1": None}, "PhoneNumber"),
        ({"DiallerCampaignsID": None}, "DiallerCampaigns"),
        ({"PostalCode": "12345678901"}, "PostalCode"),
        ({"AccountBIC": "X" * 12}, "AccountBIC"),
        ({"dtBeginDate": "2020-01-01 00:00:00"}, "dtBeginDate"),
        ({"Amount": "12"}, "Amount"),
        ({"Colour": "red"}, "Colour"),
    ],
)
def test_import_refuses_bad_bodies_with_a_400_naming_the_field(
    client: httpx.Client, change: dict[str, Any], words: str
) -> None:
    r = imp(client, {**MAX, **change})
    assert r.status_code == 400 and r.json()["status"] == 400 and words in r.json()["error"]
    assert call(client, "GET", "/dialler/contacts").json()["count"] == 0


def test_import_ignores_server_managed_fields_and_accepts_long_free_text(
    client: httpx.Client,
) -> None:
    c = imp(client, {**MAX, "nTriesPhoneNumber1": 9, "ID": 5, "Comment": "x" * 5000}).json()[
        "records"
    ][0]
    assert c["nTriesPhoneNumber1"] == 0 and c["ID"] != 5 and len(c["Comment"]) == 5000


def test_overwrite_matches_userdata_in_the_same_campaign_and_keeps_counters(
    client: httpx.Client,
) -> None:
    first = imp(client, {**MAX, "City": "Berlin"}).json()["records"][0]
    client.post("/_admin/jtel/dial", json={"ids": [first["ID"]]})
    again = imp(client, {**MAX, "Name": "Neu"}).json()["records"][0]
    assert again["ID"] == first["ID"] and again["Name"] == "Neu" and again["City"] == "Berlin"
    assert again["nTriesPhoneNumber1"] == 1
    other = imp(client, {**MAX, "DiallerCampaignsID": 539}).json()["records"][0]
    assert other["ID"] != first["ID"]
    dup = imp(client, MAX, overwrite=False).json()["records"][0]
    assert dup["ID"] not in (first["ID"], other["ID"])
    found = call(client, "GET", "/dialler/contacts/contact?userData=CRM-1").json()
    assert found["count"] == 3 and found["status"] == 200


def test_list_per_campaign_or_all_in_the_list_envelope(client: httpx.Client) -> None:
    imp(client, MAX)
    imp(client, {**MAX, "UserData": "CRM-2", "DiallerCampaignsID": 540})
    body = call(client, "GET", "/dialler/contacts?diallerCampaignsID=538").json()
    assert [c["UserData"] for c in body["records"]] == ["CRM-1"]
    assert {k: body[k] for k in ("filter", "limitStart", "limitPageSize", "orderBy", "ascending", "status")} == {
        "filter": "", "limitStart": 0, "limitPageSize": -1, "orderBy": "Name", "ascending": True, "status": 200,
    }  # fmt: skip
    assert call(client, "GET", "/dialler/contacts").json()["count"] == 2


def test_update_by_id_is_partial_and_validated(client: httpx.Client) -> None:
    c = imp(client, {**MAX, "City": "Berlin"}).json()["records"][0]
    r = call(
        client,
        "PUT",
        f"/dialler/contacts/contact/{c['ID']}",
        json={"FirstName": "Max", "City": None},
    )
    assert r.status_code == 200
    after = r.json()["records"][0]
    assert after["FirstName"] == "Max" and after["City"] is None and after["Name"] == "Mustermann"
    r = call(client, "PUT", f"/dialler/contacts/contact/{c['ID']}", json={"Title": "X" * 17})
    assert r.status_code == 400
    r = call(client, "PUT", "/dialler/contacts/contact/424242", json={"City": "Bonn"})
    assert r.status_code == 404 and r.json()["status"] == 404


def test_update_by_userdata_or_id_in_the_body(client: httpx.Client) -> None:
    c = imp(client, MAX).json()["records"][0]
    r = call(client, "PUT", "/dialler/contacts/contact", json={"UserData": "CRM-1", "City": "Köln"})
    assert r.status_code == 200 and r.json()["records"][0]["City"] == "Köln"
    r = call(client, "PUT", "/dialler/contacts/contact", json={"ID": c["ID"], "City": "Bonn"})
    assert r.json()["records"][0]["City"] == "Bonn"
    assert (
        call(client, "PUT", "/dialler/contacts/contact", json={"City": "Bonn"}).status_code == 400
    )


def test_delete_by_id_and_by_userdata(client: httpx.Client) -> None:
    a = imp(client, MAX).json()["records"][0]
    imp(client, {**MAX, "UserData": "CRM-2"})
    r = call(client, "DELETE", f"/dialler/contacts/contact/{a['ID']}")
    assert r.status_code == 200 and r.json() == {"status": 200}
    assert call(client, "DELETE", f"/dialler/contacts/contact/{a['ID']}").status_code == 404
    assert call(client, "DELETE", "/dialler/contacts/contact?userData=CRM-2").json() == {
        "status": 200
    }
    assert call(client, "DELETE", "/dialler/contacts/contact?userData=CRM-2").status_code == 404
    assert call(client, "DELETE", "/dialler/contacts/contact").status_code == 400


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_lock_unlock_and_reset_leave_writable_fields_alone(
    client: httpx.Client, method: str
) -> None:
    c = imp(client, MAX).json()["records"][0]
    base = f"/dialler/contacts/contact/{c['ID']}"
    assert call(client, method, base + "/lock").json() == {"status": 200}
    assert (
        call(client, "GET", f"/dialler/contacts/{c['ID']}").json()["records"][0]["bLocked"] is True
    )
    client.post("/_admin/jtel/dial", json={"campaign": 538})
    client.post("/_admin/jtel/dial", json={"ids": [c["ID"]]})
    dialled = call(client, "GET", f"/dialler/contacts/{c['ID']}").json()["records"][0]
    assert dialled["nTriesPhoneNumber1"] == 2 and dialled["dtNextTry"] and dialled["ResultCodesID"]
    assert dialled["bLocked"] is True and dialled["Name"] == "Mustermann"
    assert call(client, method, base + "/reset").json() == {"status": 200}
    reset = call(client, "GET", f"/dialler/contacts/{c['ID']}").json()["records"][0]
    assert (
        reset["nTriesPhoneNumber1"] == 0
        and reset["dtNextTry"] is None
        and reset["ResultCodesID"] is None
    )
    assert reset["nPhoneNumber1LastCause"] is None and reset["bLocked"] is True
    assert call(client, method, base + "/unlock").json() == {"status": 200}
    assert (
        call(client, "GET", f"/dialler/contacts/{c['ID']}").json()["records"][0]["bLocked"] is False
    )
    assert call(client, method, "/dialler/contacts/contact/424242/lock").status_code == 404


def test_history_lists_the_simulated_calls(client: httpx.Client) -> None:
    c = imp(client, MAX).json()["records"][0]
    client.post("/_admin/jtel/dial", json={"ids": [c["ID"], c["ID"]]})
    h = call(client, "GET", f"/dialler/contacts/contact/{c['ID']}/history").json()
    assert h["count"] == 2 and h["status"] == 200
    assert h["records"][0]["PhoneNumber"] == "+4930123456" and h["records"][0]["Cause"] == 17
    by_userdata = call(client, "GET", "/dialler/contacts/contact/history?userData=CRM-1").json()
    assert by_userdata["count"] == 2


def test_admin_inserts_duplicates_and_patches_behind_the_tools_back(client: httpx.Client) -> None:
    a = client.post("/_admin/jtel/contacts", json=MAX).json()
    b = client.post(
        "/_admin/jtel/contacts", json={**MAX, "bLocked": True, "nTriesPhoneNumber1": 4}
    ).json()
    assert a["ID"] != b["ID"] and a["UserData"] == b["UserData"]
    assert b["bLocked"] is True and b["nTriesPhoneNumber1"] == 4
    client.put(f"/_admin/jtel/contacts/{a['ID']}", json={"City": "Hamburg", "bLocked": True})
    held = {c["ID"]: c for c in client.get("/_admin/jtel/contacts").json()}
    assert held[a["ID"]]["City"] == "Hamburg" and held[a["ID"]]["bLocked"] is True
    client.delete(f"/_admin/jtel/contacts/{b['ID']}")
    assert call(client, "GET", f"/dialler/contacts/{b['ID']}").status_code == 404
    rows = [{**MAX, "UserData": f"U{i}"} for i in range(300)]
    assert client.post("/_admin/jtel/bulk", json=rows).json() == {"loaded": 300}
    assert call(client, "GET", "/dialler/contacts?diallerCampaignsID=538").json()["count"] == 301
