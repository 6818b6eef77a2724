"""The big list answers, byte for byte, against a plain computation from the stored records.

The jtel list reads a campaign's contacts from an index kept beside `contacts`, and
CIOPulse builds its list from a snapshot outside the lock: both must answer exactly
what filtering and encoding every stored record would, after every kind of change."""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx

from reconcile.sandbox.ciopulse.wire import FIELDS
from reconcile.sandbox.core import Sandbox
from reconcile.sandbox.jtel.emulator import JtelEmulator
from reconcile.sandbox.jtel.schema import JtelSettings, present
from tests.sandbox.conftest import CIO, CIO_AUTH, JTEL, JTEL_AUTH


def _encoded(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _jtel_expected(emu: JtelEmulator, cid: int | None) -> bytes:
    rows = [
        present(c, emu.settings)
        for c in emu.contacts.values()
        if cid is None or c["DiallerCampaignsID"] == cid
    ]
    return _encoded(
        {
            "filter": "",
            "limitStart": 0,
            "limitPageSize": -1,
            "records": rows,
            "count": len(rows),
            "orderBy": "Name",
            "ascending": True,
            "status": 200,
        }
    )


def _check_jtel_lists(client: httpx.Client, emu: JtelEmulator) -> None:
    for cid in [*emu.campaigns, None]:
        url = f"{JTEL}/dialler/contacts" + (f"?diallerCampaignsID={cid}" if cid else "")
        r = client.get(url, headers=JTEL_AUTH)
        assert r.status_code == 200
        want = _jtel_expected(emu, cid if emu.settings.campaign_filter else None)
        assert r.content == want, f"campaign {cid}"


def _row(cid: int, i: int) -> dict[str, Any]:
    return {"DiallerCampaignsID": cid, "UserData": f"U{i}", "Name": f"N{i}", "PhoneNumber1": f"+49{i}"}  # fmt: skip


def test_jtel_campaign_lists_follow_every_change(sb: Sandbox, client: httpx.Client) -> None:
    emu = sb.emulator("jtel")
    assert isinstance(emu, JtelEmulator)
    for cid in (700, 701, 702):
        client.post("/_admin/jtel/campaigns", json={"id": cid, "name": f"C{cid}"})
    # Interleaved campaigns, so that a campaign's contacts are not one run of ids.
    rows = [_row(700 + i % 3, i) for i in range(30)]
    assert client.post("/_admin/jtel/bulk", json=rows).status_code == 200
    _check_jtel_lists(client, emu)

    def imp(body: dict[str, Any], overwrite: bool = False) -> httpx.Response:
        flag = "true" if overwrite else "false"
        url = f"{JTEL}/dialler/contacts/import?overwriteDuplicates={flag}"
        return client.post(url, json=body, headers=JTEL_AUTH)

    assert imp({**_row(701, 100), "City": "Köln"}).status_code == 200
    assert imp({**_row(702, 101), "DiallerCampaignsID": None, "DiallerCampaignsName": "C702"}).status_code == 200  # fmt: skip
    # An overwriting import in account scope moves an old contact into another campaign.
    client.put("/_admin/jtel/settings", json={"duplicates_scope": "account"})
    assert imp({**_row(702, 0), "City": "Bonn"}, overwrite=True).status_code == 200
    assert imp({**_row(700, 100)}, overwrite=True).status_code == 200
    _check_jtel_lists(client, emu)
    client.put("/_admin/jtel/settings", json={"duplicates_scope": "account_stay"})
    assert imp({**_row(701, 3), "City": "Ulm"}, overwrite=True).status_code == 200
    client.put("/_admin/jtel/settings", json={"duplicates_scope": "campaign"})
    assert imp({**_row(701, 4), "City": "Jena"}, overwrite=True).status_code == 200
    _check_jtel_lists(client, emu)

    ids = list(emu.contacts)
    # Vendor updates, actions and deletes.
    assert client.put(f"{JTEL}/dialler/contacts/contact/{ids[5]}", json={"City": "Kiel"}, headers=JTEL_AUTH).status_code == 200  # fmt: skip
    assert client.post(f"{JTEL}/dialler/contacts/contact/{ids[6]}/lock", headers=JTEL_AUTH).status_code == 200  # fmt: skip
    assert client.delete(f"{JTEL}/dialler/contacts/contact/{ids[7]}", headers=JTEL_AUTH).status_code == 200  # fmt: skip
    assert client.delete(f"{JTEL}/dialler/contacts/contact?userData=U8", headers=JTEL_AUTH).status_code == 200  # fmt: skip
    # Admin patches: moves to another campaign (also as an equal float, a string, a list),
    # a patch that keeps the campaign, and admin deletes.
    for i, value in ((9, 700), (10, 702), (11, 701.0), (12, "700"), (13, [700])):
        r = client.put(f"/_admin/jtel/contacts/{ids[i]}", json={"DiallerCampaignsID": value})
        assert r.status_code == 200
    _check_jtel_lists(client, emu)
    client.put(f"/_admin/jtel/contacts/{ids[11]}", json={"DiallerCampaignsID": 700})
    client.put(f"/_admin/jtel/contacts/{ids[13]}", json={"DiallerCampaignsID": 702})
    client.put(f"/_admin/jtel/contacts/{ids[14]}", json={"Name": "Renamed", "odd": 1})
    client.delete(f"/_admin/jtel/contacts/{ids[15]}")
    client.delete(f"/_admin/jtel/contacts/{ids[9]}")  # deleted after a move
    client.post("/_admin/jtel/dial", json={"campaign": 701})
    client.post("/_admin/jtel/dial", json={"ids": [ids[1], ids[2]]})
    _check_jtel_lists(client, emu)
    rows = [_row(700 + i % 3, i) for i in range(200, 210)]
    assert client.post("/_admin/jtel/bulk", json=rows).status_code == 200  # after the moves
    _check_jtel_lists(client, emu)

    # The other wire forms, and servers that ignore the campaign parameter.
    defaults = JtelSettings().to_dict()
    for changes in (
        {"id_field": "both", "lock_field": "", "release": "legacy"},
        {"id_field": "DiallerContactsID", "lock_field": "locked"},
        {"campaign_filter": False},
    ):
        client.put("/_admin/jtel/settings", json=changes)
        _check_jtel_lists(client, emu)
        client.put("/_admin/jtel/settings", json={k: defaults[k] for k in changes})
    r = client.get(f"{JTEL}/dialler/contacts?diallerCampaignsID=999", headers=JTEL_AUTH)
    assert r.status_code == 404

    # A reset empties the index with the contacts.
    client.post("/_admin/reset")
    for cid in (700, 701):
        client.post("/_admin/jtel/campaigns", json={"id": cid, "name": f"C{cid}"})
    assert client.post("/_admin/jtel/bulk", json=[_row(701, 1), _row(700, 2)]).status_code == 200  # fmt: skip
    _check_jtel_lists(client, emu)


def _cio_item(system_id: str | None, c: dict[str, Any], s: dict[str, Any]) -> dict[str, Any]:
    """One contact as read, computed the plain way (the emulator's original code)."""
    pascal = {"system_id": "Contact_System_ID", "first_name": "First_Name", "last_name": "Last_Name",
              "email": "Email", "job_title": "Job_Title", "mobile": "Mobile"}  # fmt: skip
    fields: dict[str, Any] = {}
    if system_id is not None:
        fields["system_id"] = system_id
    elif s["portal_system_id"] != "absent":
        fields["system_id"] = None if s["portal_system_id"] == "null" else ""
    fields.update((f, c.get(f)) for f in FIELDS)
    if s["read_key_case"] == "pascal":
        fields = {pascal[k]: v for k, v in fields.items()}
    return {"contact": fields} if s["read_shape"] == "wrapped" else fields


def _cio_expected(client: httpx.Client) -> bytes:
    s = client.get("/_admin/ciopulse/settings").json()
    contacts = client.get("/_admin/ciopulse/contacts").json()
    portal = client.get("/_admin/ciopulse/portal-contacts").json()
    items = [_cio_item(sid, c, s) for sid, c in contacts.items()]
    items += [_cio_item(None, c, s) for c in portal.values()]
    shape = s["read_shape"]
    return _encoded(
        items if shape == "list" else {"data" if shape == "data" else "contacts": items}
    )


def test_ciopulse_list_is_the_plain_encoding_in_every_shape(client: httpx.Client) -> None:
    rows = [{"system_id": f"S{i}", "first_name": f"F{i}", "last_name": "Müller", "email": f"e{i}@x.org",
             "job_title": None if i % 2 else "Agent", "mobile": f"+61400{i:06d}"} for i in range(20)]  # fmt: skip
    assert client.post("/_admin/ciopulse/bulk", json=rows).status_code == 200
    body = {"first_name": "Ann", "last_name": "Lee", "email": "ann@x.org"}
    assert client.put(f"{CIO}/contacts/NEW1", json=body, headers=CIO_AUTH).status_code == 201
    assert client.put(f"{CIO}/contacts/S3", json={"mobile": None, "job_title": "Boss"}, headers=CIO_AUTH).status_code == 200  # fmt: skip
    assert client.delete(f"{CIO}/contacts/S4", headers=CIO_AUTH).status_code == 202
    client.put("/_admin/ciopulse/contacts/S5", json={"first_name": "Ed", "email": "ed@x.org"})
    client.delete("/_admin/ciopulse/contacts/S6")
    client.post("/_admin/ciopulse/portal-contacts", json={"first_name": "Por", "email": "p@x.org"})
    client.post("/_admin/ciopulse/portal-contacts", json={"first_name": "Tal", "email": "t@x.org"})
    for shape, case, portal in itertools.product(
        ("wrapped", "flat", "list", "data"), ("pascal", "snake"), ("null", "absent", "empty")
    ):
        changes = {"read_shape": shape, "read_key_case": case, "portal_system_id": portal}
        client.put("/_admin/ciopulse/settings", json=changes)
        r = client.get(f"{CIO}/contacts", headers=CIO_AUTH)
        assert r.status_code == 200
        assert r.content == _cio_expected(client), changes
        one = client.get(f"{CIO}/contacts/S3", headers=CIO_AUTH)
        c = client.get("/_admin/ciopulse/contacts/S3").json()
        single = [_cio_item("S3", c, client.get("/_admin/ciopulse/settings").json())]
        assert one.content == _encoded(single if shape == "list" else {"data" if shape == "data" else "contacts": single})  # fmt: skip
