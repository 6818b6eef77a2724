"""Every jtel setting's alternatives, met through real requests as a client would meet them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import JTEL, JTEL_AUTH

MAX = {"DiallerCampaignsID": 538, "UserData": "CRM-1", "Name": "Muster", "PhoneNumber1": "+4930123"}


def call(c: httpx.Client, method: str, path: str, **kw: Any) -> httpx.Response:
    return c.request(method, JTEL + path, headers=JTEL_AUTH, **kw)


def imp(c: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return call(c, "POST", "/dialler/contacts/import?overwriteDuplicates=true", json=body)


def setting(c: httpx.Client, **changes: Any) -> None:
    r = c.put("/_admin/jtel/settings", json=changes)
    assert r.status_code == 200, r.text


def stored(c: httpx.Client) -> list[dict[str, Any]]:
    """The emulator's own view (admin), whatever the vendor routes show."""
    return list(c.get("/_admin/jtel/contacts").json())


def one(c: httpx.Client, contact_id: int) -> dict[str, Any]:
    return dict(call(c, "GET", f"/dialler/contacts/{contact_id}").json()["records"][0])


def test_settings_are_listed_changed_checked_and_reset(client: httpx.Client) -> None:
    assert client.get("/_admin/jtel/settings").json() == {
        "campaign_filter": True, "id_field": "ID", "import_answer": "record",
        "update_route": "url_id", "duplicates_scope": "campaign", "null_handling": "clear",
        "lock_field": "bLocked", "release": "current", "action_method": "both",
    }  # fmt: skip
    setting(client, release="legacy", campaign_filter=False)
    assert client.get("/_admin/jtel/settings").json()["release"] == "legacy"
    for bad in ({"release": "3.18"}, {"campaign_filter": "no"}, {"lock_field": "Name"}):
        r = client.put("/_admin/jtel/settings", json=bad)
        assert r.status_code == 400, bad
    client.post("/_admin/reset")
    assert client.get("/_admin/jtel/settings").json()["release"] == "current"


def test_without_campaign_filter_the_list_is_the_whole_client_account(
    client: httpx.Client,
) -> None:
    imp(client, MAX)
    imp(client, {**MAX, "UserData": "CRM-2", "DiallerCampaignsID": 539})
    setting(client, campaign_filter=False)
    for cid in ("538", "1"):  # an unknown campaign is not even looked at
        body = call(client, "GET", f"/dialler/contacts?diallerCampaignsID={cid}").json()
        assert sorted(r["UserData"] for r in body["records"]) == ["CRM-1", "CRM-2"]


@pytest.mark.parametrize(
    ("id_field", "keys"),
    [("ID", {"ID"}), ("DiallerContactsID", {"DiallerContactsID"}), ("both", {"ID", "DiallerContactsID"})],
)  # fmt: skip
def test_records_carry_the_configured_id_keys_and_updates_identify_by_them(
    client: httpx.Client, id_field: str, keys: set[str]
) -> None:
    setting(client, id_field=id_field)
    created = imp(client, MAX).json()["records"][0]
    cid = stored(client)[0]["ID"]
    assert {k for k in created if k in ("ID", "DiallerContactsID")} == keys
    assert all(created[k] == cid for k in keys)
    listed = call(client, "GET", "/dialler/contacts").json()["records"][0]
    assert {k for k in listed if k in ("ID", "DiallerContactsID")} == keys
    key = sorted(keys)[-1]
    r = call(client, "PUT", "/dialler/contacts/contact", json={key: cid, "City": "Bonn"})
    assert r.status_code == 200 and r.json()["records"][0]["City"] == "Bonn"


def test_an_id_key_the_server_does_not_use_does_not_identify_a_contact(
    client: httpx.Client,
) -> None:
    setting(client, id_field="DiallerContactsID")
    imp(client, MAX)
    cid = stored(client)[0]["ID"]
    r = call(client, "PUT", "/dialler/contacts/contact", json={"ID": cid, "City": "Bonn"})
    assert r.status_code == 400 and "DiallerContactsID or UserData" in r.json()["error"]


def test_import_answer_without_id_or_with_the_status_only(client: httpx.Client) -> None:
    setting(client, import_answer="record_without_id")
    r = imp(client, MAX).json()
    assert r["count"] == 1 and r["records"][0]["UserData"] == "CRM-1"
    assert "ID" not in r["records"][0] and "DiallerContactsID" not in r["records"][0]
    setting(client, import_answer="status_only")
    assert imp(client, {**MAX, "UserData": "CRM-2"}).json() == {"status": 200}
    assert sorted(c["UserData"] for c in stored(client)) == ["CRM-1", "CRM-2"]


def test_body_only_update_has_no_url_route(client: httpx.Client) -> None:
    setting(client, update_route="body_only")
    cid = imp(client, MAX).json()["records"][0]["ID"]
    r = call(client, "PUT", f"/dialler/contacts/contact/{cid}", json={"City": "Bonn"})
    assert r.status_code == 404 and r.content == b""  # no such endpoint
    r = call(client, "PUT", "/dialler/contacts/contact", json={"ID": cid, "City": "Bonn"})
    assert r.status_code == 200 and r.json()["records"][0]["City"] == "Bonn"
    r = call(client, "PUT", "/dialler/contacts/contact", json={"UserData": "CRM-1", "City": "Ulm"})
    assert r.json()["records"][0]["City"] == "Ulm"
    assert call(client, "DELETE", f"/dialler/contacts/contact/{cid}").status_code == 200


def test_url_update_refuses_a_body_naming_another_contact(client: httpx.Client) -> None:
    cid = imp(client, MAX).json()["records"][0]["ID"]
    path = f"/dialler/contacts/contact/{cid}"
    for body in ({"ID": cid + 1, "City": "Bonn"}, {"UserData": "CRM-9", "City": "Bonn"}):
        r = call(client, "PUT", path, json=body)
        assert r.status_code == 400 and "does not match" in r.json()["error"]
    r = call(client, "PUT", path, json={"ID": cid, "UserData": "CRM-1", "City": "Bonn"})
    assert r.status_code == 200 and stored(client)[0]["City"] == "Bonn"


@pytest.mark.parametrize(("scope", "campaign"), [("account", 539), ("account_stay", 538)])
def test_account_scope_overwrites_the_contact_in_another_campaign(
    client: httpx.Client, scope: str, campaign: int
) -> None:
    setting(client, duplicates_scope=scope)
    first = imp(client, {**MAX, "City": "Berlin"}).json()["records"][0]
    client.post("/_admin/jtel/dial", json={"ids": [first["ID"]]})
    again = imp(client, {**MAX, "DiallerCampaignsID": 539, "Name": "Neu"}).json()["records"][0]
    assert again["ID"] == first["ID"] and again["Name"] == "Neu" and again["City"] == "Berlin"
    assert again["DiallerCampaignsID"] == campaign and again["nTriesPhoneNumber1"] == 1
    assert len(stored(client)) == 1


@pytest.mark.parametrize(("mode", "city"), [("clear", None), ("ignore", "Berlin")])
def test_a_null_clears_or_is_ignored_on_update_and_overwrite(
    client: httpx.Client, mode: str, city: str | None
) -> None:
    setting(client, null_handling=mode)
    cid = imp(client, {**MAX, "City": "Berlin", "Tag": "t"}).json()["records"][0]["ID"]
    r = call(client, "PUT", f"/dialler/contacts/contact/{cid}", json={"City": None, "Tag": ""})
    assert r.status_code == 200 and r.json()["records"][0]["City"] == city
    assert r.json()["records"][0]["Tag"] == ""  # an empty string always clears
    call(client, "PUT", f"/dialler/contacts/contact/{cid}", json={"City": "Berlin"})
    assert imp(client, {**MAX, "City": None}).json()["records"][0]["City"] == city


def test_a_null_in_an_update_can_be_refused(client: httpx.Client) -> None:
    setting(client, null_handling="reject")
    cid = imp(client, {**MAX, "City": "Berlin", "FollowUpDateTime": None}).json()["records"][0][
        "ID"
    ]
    r = call(client, "PUT", f"/dialler/contacts/contact/{cid}", json={"City": None, "Tag": "x"})
    assert r.status_code == 400 and r.json() == {
        "status": 400,
        "error": "null is not a valid value for City",
    }
    assert stored(client)[0]["City"] == "Berlin" and stored(client)[0]["Tag"] is None
    r = call(client, "PUT", f"/dialler/contacts/contact/{cid}", json={"City": ""})
    assert r.status_code == 200 and r.json()["records"][0]["City"] == ""


@pytest.mark.parametrize(("field", "shown"), [("Locked", {"Locked"}), ("", set())])
def test_the_lock_shows_under_the_configured_field_or_not_at_all(
    client: httpx.Client, field: str, shown: set[str]
) -> None:
    setting(client, lock_field=field)
    cid = imp(client, MAX).json()["records"][0]["ID"]
    assert call(client, "GET", f"/dialler/contacts/contact/{cid}/lock").json() == {"status": 200}
    read = one(client, cid)
    assert {k for k in read if k in ("bLocked", "Locked")} == shown
    assert all(read[k] is True for k in shown) and stored(client)[0]["bLocked"] is True


def test_legacy_release_has_32_character_limits_and_no_region(client: httpx.Client) -> None:
    assert imp(client, {**MAX, "Name": "N" * 64, "Region": "Bayern"}).status_code == 200
    setting(client, release="legacy")
    r = imp(client, {**MAX, "UserData": "CRM-2", "Name": "N" * 33})
    assert r.status_code == 400 and r.json()["error"] == "Name is longer than 32 characters"
    r = imp(client, {**MAX, "UserData": "CRM-2", "Region": "Bayern"})
    assert r.status_code == 400 and "Region" in r.json()["error"]
    created = imp(client, {**MAX, "UserData": "U" * 32, "Name": "N" * 32}).json()["records"][0]
    assert "Region" not in created
    r = call(client, "PUT", f"/dialler/contacts/contact/{created['ID']}", json={"City": "C" * 33})
    assert r.status_code == 400 and "32" in r.json()["error"]
    r = imp(client, {**MAX, "UserData": "CRM-3", "PostalCode": "12345678901"})
    assert r.status_code == 400 and "10" in r.json()["error"]  # unchanged limits stay


@pytest.mark.parametrize(("allowed", "refused"), [("GET", "POST"), ("POST", "GET")])
def test_actions_answer_only_the_configured_method(
    client: httpx.Client, allowed: str, refused: str
) -> None:
    setting(client, action_method=allowed)
    cid = imp(client, MAX).json()["records"][0]["ID"]
    for action in ("lock", "unlock", "reset", "history"):
        for path in (f"/dialler/contacts/contact/{cid}/{action}", f"/dialler/contacts/contact/{action}?userData=CRM-1"):  # fmt: skip
            assert call(client, allowed, path).status_code == 200
            r = call(client, refused, path)
            assert r.status_code == 404 and r.content == b"", (refused, path)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/dialler/contacts/424242"),
        ("DELETE", "/dialler/contacts/contact/424242"),
        ("GET", "/dialler/contacts/contact/424242/lock"),
        ("POST", "/dialler/contacts/contact/424242/unlock"),
        ("GET", "/dialler/contacts/contact/424242/reset"),
        ("GET", "/dialler/contacts/contact/424242/history"),
        ("PUT", "/dialler/contacts/contact/424242"),
        ("GET", "/dialler/contacts/contact/history?userData=nobody"),
        ("DELETE", "/dialler/contacts/contact?userData=nobody"),
    ],
)
def test_a_missing_contact_is_a_json_404_on_every_route(
    client: httpx.Client, method: str, path: str
) -> None:
    r = call(client, method, path, json={"City": "Bonn"} if method == "PUT" else None)
    assert r.status_code == 404 and r.json() == {
        "status": 404,
        "error": "Dialler contact not found",
    }
    setting(client, update_route="body_only")
    r = call(client, "PUT", "/dialler/contacts/contact", json={"ID": 424242, "City": "Bonn"})
    assert r.status_code == 404 and r.json()["status"] == 404
