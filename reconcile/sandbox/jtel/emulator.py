"""jtel Dialler REST API (dialler contacts and campaigns), emulated from its documentation.

Bearer token and ClientsID in the path (401 when either is wrong); 404 with an
empty body for an unknown route and `{"status": 404, "error": ...}` for a
missing object; lists come whole, with no paging. jtel does not publish the
update, lock, unlock, reset and history calls: by default they follow the URLs
reconcile assumes (README, "vendor assumptions"): `PUT /dialler/contacts/contact/{id}`
(and the body-identified `PUT /dialler/contacts/contact`) and the action as a
GET or POST sub-path, `/dialler/contacts/contact/{id}/lock`. Overwriting import
keeps the try counters. Every other open point is a setting (`schema.JtelSettings`).
`/_admin/jtel/dial` plays the dialler at work.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from reconcile.sandbox.core import Emulator, Request, Response
from reconcile.sandbox.credentials import JTEL_CLIENTS_ID, JTEL_TOKEN
from reconcile.sandbox.jtel.admin import admin as admin_routes
from reconcile.sandbox.jtel.schema import (
    PHONES,
    WRITABLE,
    Contact,
    JtelSettings,
    blank_counters,
    check_values,
    now,
    present,
    stored,
    writable,
)

ACTIONS = ("lock", "unlock", "reset", "history")
SEED_CAMPAIGNS = (
    (538, "Outbound Sales"),
    (539, "Renewals"),
    (540, "Winback"),
    (541, "Surveys"),
    (542, "Collections"),
)
FIRST_CONTACT_ID = 100001


class _Refused(Exception):
    """A request the vendor refuses, carrying its answer."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def _err(status: int, message: str) -> Response:
    return Response.json(status, {"status": status, "error": message})


def _fail(status: int, message: str) -> _Refused:
    return _Refused(_err(status, message))


def _list(rows: list[Contact]) -> Response:
    body: dict[str, Any] = {"filter": "", "limitStart": 0, "limitPageSize": -1, "records": rows, "count": len(rows),
            "orderBy": "Name", "ascending": True, "status": 200}  # fmt: skip
    return Response.json(200, body)


def _records(rows: list[Contact]) -> Response:
    return Response.json(200, {"records": rows, "count": len(rows), "status": 200})


_OK = {"status": 200}


class JtelEmulator(Emulator):
    name = "jtel"
    prefix = "/jtel"
    settings_type = JtelSettings
    settings: JtelSettings

    def __init__(self) -> None:
        super().__init__()
        self.campaigns: dict[int, dict[str, Any]] = {}
        self.contacts: dict[int, Contact] = {}
        # The contacts of each campaign, so a campaign's list does not scan every campaign's
        # contacts (19 lists of 500,000 contacts in the benchmarks). Keyed by the stored
        # DiallerCampaignsID value as dict keys compare, which is how the list filter's `==`
        # compares it too; every change of a contact's campaign goes through `moved`.
        self.by_campaign: dict[Any, dict[int, Contact]] = {}
        self.unsorted: set[Any] = set()  # campaigns a contact moved into, out of id order
        self.history: dict[int, list[dict[str, Any]]] = {}
        self.next_id = FIRST_CONTACT_ID
        self.reset()

    def reset(self) -> None:
        self.campaigns = {}
        for cid, name in SEED_CAMPAIGNS:
            self.add_campaign(cid, name)
        self.contacts = {}
        self.by_campaign = {}
        self.unsorted = set()
        self.history = {}
        self.next_id = FIRST_CONTACT_ID

    def error(self, status: int, message: str) -> Response:
        return _err(status, message)

    def add_campaign(self, cid: int, name: str) -> dict[str, Any]:
        camp = {
            "DiallerCampaignsID": cid, "ID": cid, "Name": name, "ClientsID": int(JTEL_CLIENTS_ID),
            "nMaxParallelLines": 10, "ContactPreviewTime": 0, "bCallerIDActive": True,
            "bCloseContactsOnIncomingCallsMatchCallerID": False, "LanguagesID": 1, "dtTo": None,
            "AbortOnNoTelNumberResultCodesID": None, "IncomingCallResultCodesID": None,
        }  # fmt: skip
        self.campaigns[cid] = camp
        return camp

    def route_label(self, req: Request) -> str:
        parts = req.segments(self.prefix)
        if parts[:2] != ["rest", "v1.0"] or len(parts) < 3:
            return f"{req.method} (unknown)"
        label = "/".join("{id}" if p.isdigit() else p for p in parts[3:])
        return f"{req.method} /{label}"

    # -- vendor routes --------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        parts = req.segments(self.prefix)
        if len(parts) < 3 or parts[:2] != ["rest", "v1.0"]:
            return Response(404)
        auth = req.headers.get_ci("authorization")
        if auth != f"Bearer {JTEL_TOKEN}" or parts[2] != JTEL_CLIENTS_ID:
            return _err(401, "Unauthorized: invalid token or ClientsID")
        with self.lock:
            try:
                return self._route(req.method, parts[3:], req)
            except _Refused as refused:
                return refused.response

    def _route(self, m: str, p: list[str], req: Request) -> Response:
        if p[:2] == ["dialler", "campaigns"]:
            if len(p) == 2 and m == "GET":
                return _list(sorted(self.campaigns.values(), key=lambda c: str(c["Name"])))
            if len(p) == 3 and m == "GET" and p[2].isdigit():
                c = self.campaigns.get(int(p[2]))
                return _records([c]) if c else _err(404, "Dialler campaign not found")
            return Response(404)
        if p[:2] != ["dialler", "contacts"]:
            return Response(404)
        rest = p[2:]
        s = self.settings
        if not rest and m == "GET":
            return self._list_contacts(req)
        if rest == ["import"] and m == "POST":
            return self._import(req)
        if len(rest) == 1 and rest[0].isdigit() and m == "GET":
            return self._records([self._get(int(rest[0]))])
        if not rest or rest[0] != "contact" or len(rest) > 3:
            return Response(404)
        if len(rest) == 1:  # .../contact?userData=... or an ID/UserData in the PUT body
            return self._by_userdata(m, req)
        target = rest[1]
        if len(rest) == 2 and target in ACTIONS and m in s.action_methods:
            matches = self._with_userdata(req)
            return self._action(matches if target == "history" else matches[:1], target)
        if not target.isdigit():
            return Response(404)
        if len(rest) == 2:
            if m == "PUT" and s.update_route == "url_id":
                return self._update_at(int(target), req)
            if m == "DELETE":
                self.delete(self._get(int(target)))
                return Response.json(200, _OK)
            return Response(404)  # no such endpoint (also PUT, when updates are body_only)
        if rest[2] in ACTIONS and m in s.action_methods:
            return self._action([self._get(int(target))], rest[2])
        return Response(404)

    def _records(self, rows: list[Contact]) -> Response:
        return _records([present(c, self.settings) for c in rows])

    def _get(self, contact_id: int) -> Contact:
        c = self.contacts.get(contact_id)
        if c is None:
            raise _fail(404, "Dialler contact not found")
        return c

    def _list_contacts(self, req: Request) -> Response:
        cid = req.param("diallerCampaignsID")
        if cid and self.settings.campaign_filter:  # older releases ignore the parameter
            if not cid.isdigit() or int(cid) not in self.campaigns:
                return _err(404, "Dialler campaign not found")
            rows = list(self._campaign_contacts(int(cid)))
        else:
            rows = list(self.contacts.values())
        return _list([present(c, self.settings) for c in rows])

    def _campaign_contacts(self, cid: int) -> Iterable[Contact]:
        """A campaign's contacts in the order of `self.contacts`, as a scan would give them."""
        if cid in self.unsorted:
            # Ids are handed out in increasing order and never reused, so the order of
            # `self.contacts` is the order of the ids.
            self.by_campaign[cid] = dict(sorted(self.by_campaign[cid].items()))
            self.unsorted.discard(cid)
        return self.by_campaign.get(cid, {}).values()

    def _file(self, c: Contact) -> None:
        """Put a contact in its campaign's index (after the campaign's other contacts)."""
        try:
            bucket = self.by_campaign.setdefault(c["DiallerCampaignsID"], {})
        except TypeError:  # unhashable (an admin patch may store anything): no list shows it
            return
        if bucket and next(reversed(bucket)) > c["ID"]:
            self.unsorted.add(c["DiallerCampaignsID"])
        bucket[c["ID"]] = c

    def _unfile(self, c: Contact, campaign: Any) -> None:
        """Take a contact out of the index of `campaign`, the DiallerCampaignsID it had."""
        try:
            bucket = self.by_campaign.get(campaign)
        except TypeError:
            return
        if bucket is not None:
            bucket.pop(c["ID"], None)

    def moved(self, c: Contact, before: Any) -> None:
        """Keep the index in step after a change that may have set the contact's
        DiallerCampaignsID; `before` is the value it had."""
        if c["DiallerCampaignsID"] is before:
            return  # not set: the contact keeps its place in its campaign's order
        self._unfile(c, before)
        self._file(c)

    def _with_userdata(self, req: Request) -> list[Contact]:
        ud = req.param("userData")
        if not ud:
            raise _fail(400, "Missing required parameter: userData")
        matches = [c for c in self.contacts.values() if c.get("UserData") == ud]
        if not matches:
            raise _fail(404, "Dialler contact not found")
        return matches

    def _by_userdata(self, m: str, req: Request) -> Response:
        if m == "PUT":
            body = self._body(req)
            found: Contact | None = None
            given = self._body_id(body)
            if given is not None:
                found = self._get(given)
            elif body.get("UserData"):
                found = next(
                    (c for c in self.contacts.values() if c.get("UserData") == body["UserData"]),
                    None,
                )
                if found is None:
                    raise _fail(404, "Dialler contact not found")
            else:
                keys = " or ".join(self.settings.id_keys)
                raise _fail(400, f"Missing required parameter: {keys} or UserData")
            return self._update(found, body)
        if m == "GET":
            return self._records(self._with_userdata(req))
        if m == "DELETE":
            self.delete(self._with_userdata(req)[0])  # the first found, as jtel documents
            return Response.json(200, _OK)
        return Response(404)

    # -- validation -----------------------------------------------------------------
    @staticmethod
    def _body(req: Request) -> dict[str, Any]:
        try:
            body = json.loads(req.body.decode("utf-8")) if req.body.strip() else None
        except (ValueError, UnicodeDecodeError) as exc:
            raise _fail(400, f"Invalid JSON body: {exc}") from None
        if not isinstance(body, dict):
            raise _fail(400, "The body must be one JSON object (a dialler contact)")
        return body

    def _check_values(self, body: dict[str, Any]) -> None:
        problem = check_values(body, self.settings)
        if problem:
            raise _fail(400, problem)

    def _body_id(self, body: dict[str, Any]) -> int | None:
        """The contact id an update body names under this server's id key(s), if any."""
        for key in self.settings.id_keys:
            v = body.get(key)
            if v is not None:
                if not isinstance(v, int) or isinstance(v, bool):
                    raise _fail(400, f"{key} must be an integer")
                return v
        return None

    def _with_nulls(self, data: dict[str, Any], refuse: bool) -> dict[str, Any]:
        """Nulls as this server treats them: clear the field, keep the old value, or a 400."""
        nulls = sorted(k for k, v in data.items() if v is None)
        if not nulls or self.settings.null_handling == "clear":
            return data
        if self.settings.null_handling == "ignore" or not refuse:
            return {k: v for k, v in data.items() if v is not None}
        raise _fail(400, f"null is not a valid value for {', '.join(nulls)}")

    def _campaign_of(self, body: dict[str, Any]) -> int:
        cid = body.get("DiallerCampaignsID")
        if cid is not None:
            if isinstance(cid, str) and cid.isdigit():
                cid = int(cid)
            if not isinstance(cid, int) or isinstance(cid, bool) or cid not in self.campaigns:
                raise _fail(404, "Dialler campaign not found")
            return cid
        name = body.get("DiallerCampaignsName")
        match = [c for c in self.campaigns.values() if c["Name"] == name]
        if not match:
            raise _fail(404, "Dialler campaign not found")
        if len(match) > 1:
            raise _fail(409, f"More than one dialler campaign is named {name!r}")
        return int(match[0]["DiallerCampaignsID"])

    # -- writes ---------------------------------------------------------------------
    def _import(self, req: Request) -> Response:
        flag = (req.param("overwriteDuplicates") or "false").lower()
        if flag not in ("true", "false"):
            return _err(400, "overwriteDuplicates must be true or false")
        body = self._body(req)
        missing = []
        if not body.get("Name"):
            missing.append("Name")
        if body.get("DiallerCampaignsID") is None and not body.get("DiallerCampaignsName"):
            missing.append("DiallerCampaignsID or DiallerCampaignsName")
        if not any(body.get(ph) for ph in PHONES):
            missing.append("at least one of PhoneNumber1..PhoneNumber6")
        if missing:
            return _err(400, f"Missing required parameter(s): {'; '.join(missing)}")
        self._check_values(body)
        cid = self._campaign_of(body)
        data = writable(body)
        if flag == "true" and body.get("UserData"):
            found = self._duplicate(cid, body["UserData"])
            if found is not None:
                # The fields sent (nulls as an update treats them, but never refused: the
                # documented import example sends nulls); try counters are left as they are.
                found.update(stored(self._with_nulls(data, refuse=False)))
                if self.settings.duplicates_scope == "account":
                    before = found["DiallerCampaignsID"]
                    found["DiallerCampaignsID"] = cid  # overwritten with the row's campaign too
                    self.moved(found, before)
                return self._import_answer(found)
        return self._import_answer(self.insert(cid, stored(data)))

    def _duplicate(self, cid: int, user_data: str) -> Contact | None:
        """The contact an overwriting import overwrites: the first with this UserData in the
        target campaign, or (account scope) anywhere in the client account."""
        in_campaign = self.settings.duplicates_scope == "campaign"
        for c in self.contacts.values():
            if c.get("UserData") == user_data and (
                not in_campaign or c["DiallerCampaignsID"] == cid
            ):
                return c
        return None

    def _import_answer(self, c: Contact) -> Response:
        answer = self.settings.import_answer
        if answer == "status_only":
            return Response.json(200, _OK)
        return _records([present(c, self.settings, with_id=answer == "record")])

    def insert(self, cid: int, data: dict[str, Any]) -> Contact:
        c: Contact = dict.fromkeys(WRITABLE)
        c["Amount"] = 0.0
        c.update(data)
        c.update(
            ID=self.next_id,
            DiallerCampaignsID=cid,
            RandomSortOrder=None,
            dtImported=now(),
            bLocked=False,
        )
        blank_counters(c)
        self.contacts[self.next_id] = c
        self._file(c)
        self.next_id += 1
        return c

    def _update_at(self, contact_id: int, req: Request) -> Response:
        """`PUT .../contact/{id}`: an id or UserData in the body must name the same contact."""
        c = self._get(contact_id)
        body = self._body(req)
        for key in self.settings.id_keys:
            if body.get(key) is not None and body[key] != contact_id:
                raise _fail(400, f"{key} in the body does not match the contact in the URL")
        if body.get("UserData") is not None and body["UserData"] != c.get("UserData"):
            raise _fail(400, "UserData in the body does not match the contact in the URL")
        return self._update(c, body)

    def _update(self, c: Contact, body: dict[str, Any]) -> Response:
        self._check_values(body)
        data = stored(self._with_nulls(writable(body), refuse=True))
        after = {**c, **data}
        if "Name" in data and not data["Name"]:
            return _err(400, "Name is required and cannot be cleared")
        if any(ph in data for ph in PHONES) and not any(after.get(ph) for ph in PHONES):
            return _err(400, "At least one of PhoneNumber1..PhoneNumber6 must remain")
        c.update(data)
        return self._records([c])

    def delete(self, c: Contact) -> None:
        del self.contacts[int(c["ID"])]
        self._unfile(c, c["DiallerCampaignsID"])
        self.history.pop(int(c["ID"]), None)

    def _action(self, contacts: list[Contact], action: str) -> Response:
        if action == "history":
            rows = [h for c in contacts for h in self.history.get(int(c["ID"]), [])]
            return Response.json(200, {"records": rows, "count": len(rows), "status": 200})
        for c in contacts:
            if action == "lock":
                c["bLocked"] = True
            elif action == "unlock":
                c["bLocked"] = False
            else:
                blank_counters(c)
        return Response.json(200, _OK)

    def admin(self, req: Request) -> Response:
        return admin_routes(self, req)
