"""The jtel emulator's admin routes: look and change behind the tool's back, play the dialler.

Admin answers show contacts in the emulator's stored form (`ID`, `bLocked`), whatever
the settings make the vendor routes send.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from reconcile.sandbox.core import Response
from reconcile.sandbox.jtel.schema import WRITABLE, Contact, now, stored

if TYPE_CHECKING:
    from reconcile.sandbox.core import Request
    from reconcile.sandbox.jtel.emulator import JtelEmulator


def admin(emu: JtelEmulator, req: Request) -> Response:
    parts = emu.admin_parts(req)
    m = req.method
    if parts == ["contacts"]:
        if m == "GET":
            return Response.json(200, list(emu.contacts.values()))
        if m == "POST":
            return Response.json(200, _raw_insert(emu, req.json()))
    if len(parts) == 2 and parts[0] == "contacts" and parts[1].isdigit():
        c = emu.contacts.get(int(parts[1]))
        if c is None:
            return Response.json(404, {"error": "no such contact"})
        if m == "PUT":
            patch = req.json()
            if not isinstance(patch, dict):
                raise ValueError("a patch is a JSON object of fields")
            patch.pop("ID", None)
            before = c["DiallerCampaignsID"]
            c.update(patch)
            emu.moved(c, before)  # a patch may move the contact to another campaign
            return Response.json(200, c)
        if m == "DELETE":
            emu.delete(c)
            return Response.json(200, {"deleted": True})
        return Response.json(200, c)
    if parts == ["bulk"] and m == "POST":
        rows = req.json()
        if not isinstance(rows, list):
            raise ValueError("bulk takes a JSON list of contacts with a DiallerCampaignsID each")
        for row in rows:
            _raw_insert(emu, row)
        return Response.json(200, {"loaded": len(rows)})
    if parts == ["campaigns"]:
        if m == "GET":
            return Response.json(200, list(emu.campaigns.values()))
        if m == "POST":
            body = req.json()
            cid = int(body.get("id") or body.get("DiallerCampaignsID") or max(emu.campaigns) + 1)
            name = str(body.get("name") or body["Name"])
            return Response.json(200, emu.add_campaign(cid, name))
    if parts == ["dial"] and m == "POST":
        return _dial_admin(emu, req.json())
    return Response.json(404, {"error": "no such admin route"})


def _raw_insert(emu: JtelEmulator, row: Any) -> Contact:
    """A contact as given (no checks, duplicates allowed): one made in jtel's own UI."""
    if not isinstance(row, dict):
        raise ValueError("a contact is a JSON object")
    row = dict(row)
    cid = int(row.pop("DiallerCampaignsID"))
    if cid not in emu.campaigns:
        raise ValueError(f"no campaign {cid}")
    for k in ("ID", "DiallerContactsID"):
        row.pop(k, None)
    c = emu.insert(cid, stored({k: v for k, v in row.items() if k in WRITABLE}))
    c.update(row)  # anything else as given too: a lock, counters, even odd fields
    return c


def _dial_admin(emu: JtelEmulator, body: Any) -> Response:
    if not isinstance(body, dict):
        raise ValueError('dial takes {"ids": [...]} or {"campaign": id}')
    ids = body.get("ids")
    if ids is None:
        campaign = int(body["campaign"])
        ids = [c["ID"] for c in emu.contacts.values() if c["DiallerCampaignsID"] == campaign]
    unknown = [i for i in ids if int(i) not in emu.contacts]
    if unknown:
        return Response.json(404, {"error": f"no such contact(s): {unknown}"})
    for i in ids:
        _dial(emu, emu.contacts[int(i)])
    return Response.json(200, {"dialled": len(ids)})


def _dial(emu: JtelEmulator, c: Contact) -> None:
    """One call attempt by the dialler: counters and causes move, writable fields never."""
    c["nTriesPhoneNumber1"] = int(c.get("nTriesPhoneNumber1") or 0) + 1
    c["nPhoneNumber1LastCause"] = 17  # user busy
    c["PhoneNumber1LastAcdAgentEndReasonsID"] = 3
    c["dtNextTry"] = now(dt.timedelta(hours=1))
    c["LastAcdAgentEndReasonsID"] = 3
    c["ResultCodesID"] = 12
    emu.history.setdefault(int(c["ID"]), []).append(
        {
            "dtCall": now(),
            "PhoneNumber": c.get("PhoneNumber1"),
            "Cause": 17,
            "ResultCode": 12,
            "AgentUID": None,
        }
    )
