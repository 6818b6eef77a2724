"""jtel Dialler REST API (dialler contacts and campaigns), emulated from its documentation.

Bearer token and ClientsID in the path (401 when either is wrong); 404 with an
empty body for an unknown route and `{"status": 404, "error": ...}` for a
missing object; lists come whole, with no paging. jtel does not publish the
update, lock, unlock, reset and history calls: they follow the URLs reconcile
assumes (README, "vendor assumptions"): `PUT /dialler/contacts/contact/{id}`
and the action as a GET (or POST) sub-path, `/dialler/contacts/contact/{id}/lock`.
Overwriting import matches UserData within the target campaign and keeps the
try counters. `/_admin/jtel/dial` plays the dialler at work.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from reconcile.sandbox.core import Emulator, Request, Response
from reconcile.sandbox.credentials import JTEL_CLIENTS_ID, JTEL_TOKEN

PHONES = tuple(f"PhoneNumber{i}" for i in range(1, 7))
# Text fields and their maximum lengths (None: unlimited), from jtel's import scheme.
LENGTHS: dict[str, int | None] = {
    "UserData": 64, "Client": 64, "Service": 64, "ReferenceNumber": 64, "Name": 64, "FirstName": 64,
    "Salutation": 16, "Title": 16, "Company": 64, "Address": 64, "PostalCode": 10, "City": 64,
    "Country": 64, "Region": 256, "AccountOwner": 64, "AccountBank": 32, "AccountNationalBankCode": 10,
    "AccountBIC": 11, "AccountNumber": 20, "AccountIBAN": 34, **dict.fromkeys(PHONES, 32), "FaxNumber": 32,
    "Email": 256, "Website": None, "Comment": None, "ReservedUsersUID": 32, "FollowUpUsersUID": 32,
    "Manufacturer": 64, "Model": 64, "Tag": 64, "ExternalSystemLink": 256,
}  # fmt: skip
DATETIMES = ("FollowUpDateTime", "dtBeginDate", "dtEndDate")
WRITABLE = (*LENGTHS, *DATETIMES, "Amount")
COUNTERS = (
    *(f"nTriesPhoneNumber{i}" for i in range(1, 7)),
    *(f"nPhoneNumber{i}LastCause" for i in range(1, 7)),
    *(f"bPhoneNumber{i}Invalid" for i in range(1, 7)),
    *(f"PhoneNumber{i}LastAcdAgentEndReasonsID" for i in range(1, 7)),
    "dtNextTry", "bLastResultMailbox", "LastAcdAgentEndReasonsID", "ResultCodesID",
)  # fmt: skip
SERVER_MANAGED = ("ID", "DiallerContactsID", "RandomSortOrder", "dtImported", "bLocked", *COUNTERS)
CAMPAIGN_KEYS = ("DiallerCampaignsID", "DiallerCampaignsName")
ACTIONS = ("lock", "unlock", "reset", "history")
_DT = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")
SEED_CAMPAIGNS = (
    (538, "Outbound Sales"),
    (539, "Renewals"),
    (540, "Winback"),
    (541, "Surveys"),
    (542, "Collections"),
)
FIRST_CONTACT_ID = 100001

Contact = dict[str, Any]


class _Refused(Exception):
    """A request the vendor refuses, carrying its answer."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def _err(status: int, message: str) -> Response:
    return Response.json(status, {"status": status, "error": message})


def _fail(status: int, message: str) -> _Refused:
    return _Refused(_err(status, message))


def _now(delta: dt.timedelta | None = None) -> str:
    return (dt.datetime.now() + (delta or dt.timedelta())).strftime("%Y-%m-%dT%H:%M:%S")


def _blank_counters(c: Contact) -> None:
    """What reset does: the contact is dialled as if it had just been imported."""
    for i in range(1, 7):
        c[f"nTriesPhoneNumber{i}"] = 0
        c[f"nPhoneNumber{i}LastCause"] = None
        c[f"bPhoneNumber{i}Invalid"] = False
        c[f"PhoneNumber{i}LastAcdAgentEndReasonsID"] = None
    c.update(
        dtNextTry=None, bLastResultMailbox=False, LastAcdAgentEndReasonsID=None, ResultCodesID=None
    )


def _list(rows: list[Contact]) -> Response:
    body = {"filter": "", "limitStart": 0, "limitPageSize": -1, "records": rows, "count": len(rows),
            "orderBy": "Name", "ascending": True, "status": 200}  # fmt: skip
    return Response.json(200, body)


def _records(rows: list[Contact]) -> Response:
    return Response.json(200, {"records": rows, "count": len(rows), "status": 200})


_OK = {"status": 200}


class JtelEmulator(Emulator):
    name = "jtel"
    prefix = "/jtel"

    def __init__(self) -> None:
        super().__init__()
        self.campaigns: dict[int, dict[str, Any]] = {}
        self.contacts: dict[int, Contact] = {}
        self.history: dict[int, list[dict[str, Any]]] = {}
        self.next_id = FIRST_CONTACT_ID
        self.reset()

    def reset(self) -> None:
        self.campaigns = {}
        for cid, name in SEED_CAMPAIGNS:
            self._add_campaign(cid, name)
        self.contacts = {}
        self.history = {}
        self.next_id = FIRST_CONTACT_ID

    def error(self, status: int, message: str) -> Response:
        return _err(status, message)

    def _add_campaign(self, cid: int, name: str) -> dict[str, Any]:
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
        if not rest and m == "GET":
            return self._list_contacts(req)
        if rest == ["import"] and m == "POST":
            return self._import(req)
        if len(rest) == 1 and rest[0].isdigit() and m == "GET":
            return _records([self._get(int(rest[0]))])
        if not rest or rest[0] != "contact" or len(rest) > 3:
            return Response(404)
        if len(rest) == 1:  # .../contact?userData=... or an ID/UserData in the PUT body
            return self._by_userdata(m, req)
        target = rest[1]
        if len(rest) == 2 and target in ACTIONS and m in ("GET", "POST"):
            matches = self._with_userdata(req)
            return self._action(matches if target == "history" else matches[:1], target)
        if not target.isdigit():
            return Response(404)
        if len(rest) == 2:
            if m == "PUT":
                return self._update(self._get(int(target)), req)
            if m == "DELETE":
                self._delete(self._get(int(target)))
                return Response.json(200, _OK)
            return Response(404)
        if rest[2] in ACTIONS and m in ("GET", "POST"):
            return self._action([self._get(int(target))], rest[2])
        return Response(404)

    def _get(self, contact_id: int) -> Contact:
        c = self.contacts.get(contact_id)
        if c is None:
            raise _fail(404, "Dialler contact not found")
        return c

    def _list_contacts(self, req: Request) -> Response:
        cid = req.param("diallerCampaignsID")
        if cid is None or cid == "":
            return _list(list(self.contacts.values()))
        if not cid.isdigit() or int(cid) not in self.campaigns:
            return _err(404, "Dialler campaign not found")
        wanted = int(cid)
        return _list([c for c in self.contacts.values() if c["DiallerCampaignsID"] == wanted])

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
            if body.get("ID") is not None:
                if not isinstance(body["ID"], int) or isinstance(body["ID"], bool):
                    raise _fail(400, "ID must be an integer")
                found = self._get(body["ID"])
            elif body.get("UserData"):
                found = next(
                    (c for c in self.contacts.values() if c.get("UserData") == body["UserData"]),
                    None,
                )
                if found is None:
                    raise _fail(404, "Dialler contact not found")
            else:
                raise _fail(400, "Missing required parameter: ID or UserData")
            return self._update(found, req)
        if m == "GET":
            return _records(self._with_userdata(req))
        if m == "DELETE":
            self._delete(self._with_userdata(req)[0])  # the first found, as jtel documents
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

    @staticmethod
    def _check_values(body: dict[str, Any]) -> None:
        unknown = sorted(set(body) - set(WRITABLE) - set(SERVER_MANAGED) - set(CAMPAIGN_KEYS))
        if unknown:
            raise _fail(400, f"Unknown field(s): {', '.join(unknown)}")
        for k, n in LENGTHS.items():
            v = body.get(k)
            if v is None:
                continue
            if not isinstance(v, str):
                raise _fail(400, f"{k} must be a string")
            if n is not None and len(v) > n:
                raise _fail(400, f"{k} is longer than {n} characters")
        for k in DATETIMES:
            v = body.get(k)
            if v is not None and (not isinstance(v, str) or not _DT.match(v)):
                raise _fail(400, f"{k} must be a datetime YYYY-MM-DDTHH:mm:ss")
        a = body.get("Amount")
        if a is not None and (isinstance(a, bool) or not isinstance(a, int | float)):
            raise _fail(400, "Amount must be a number")

    @staticmethod
    def _writable(body: dict[str, Any]) -> dict[str, Any]:
        """The writable fields sent; server-managed ones in a body are ignored, as jtel does."""
        data = {k: body[k] for k in WRITABLE if k in body}
        if "Amount" in data:
            data["Amount"] = float(data["Amount"] or 0.0)
        return data

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
        data = self._writable(body)
        if flag == "true" and body.get("UserData"):
            for c in self.contacts.values():
                if c["DiallerCampaignsID"] == cid and c.get("UserData") == body["UserData"]:
                    c.update(data)  # the fields sent; try counters are left as they are
                    return _records([c])
        return _records([self._insert(cid, data)])

    def _insert(self, cid: int, data: dict[str, Any]) -> Contact:
        c: Contact = dict.fromkeys(WRITABLE)
        c["Amount"] = 0.0
        c.update(data)
        c.update(
            ID=self.next_id,
            DiallerCampaignsID=cid,
            RandomSortOrder=None,
            dtImported=_now(),
            bLocked=False,
        )
        _blank_counters(c)
        self.contacts[self.next_id] = c
        self.next_id += 1
        return c

    def _update(self, c: Contact, req: Request) -> Response:
        body = self._body(req)
        self._check_values(body)
        data = self._writable(body)
        after = {**c, **data}
        if "Name" in data and not data["Name"]:
            return _err(400, "Name is required and cannot be cleared")
        if any(ph in data for ph in PHONES) and not any(after.get(ph) for ph in PHONES):
            return _err(400, "At least one of PhoneNumber1..PhoneNumber6 must remain")
        c.update(data)
        return _records([c])

    def _delete(self, c: Contact) -> None:
        del self.contacts[int(c["ID"])]
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
                _blank_counters(c)
        return Response.json(200, _OK)

    # -- admin routes ---------------------------------------------------------------
    def admin(self, req: Request) -> Response:
        parts = self.admin_parts(req)
        m = req.method
        if parts == ["contacts"]:
            if m == "GET":
                return Response.json(200, list(self.contacts.values()))
            if m == "POST":
                return Response.json(200, self._raw_insert(req.json()))
        if len(parts) == 2 and parts[0] == "contacts" and parts[1].isdigit():
            c = self.contacts.get(int(parts[1]))
            if c is None:
                return Response.json(404, {"error": "no such contact"})
            if m == "PUT":
                patch = req.json()
                if not isinstance(patch, dict):
                    raise ValueError("a patch is a JSON object of fields")
                patch.pop("ID", None)
                c.update(patch)
                return Response.json(200, c)
            if m == "DELETE":
                self._delete(c)
                return Response.json(200, {"deleted": True})
            return Response.json(200, c)
        if parts == ["bulk"] and m == "POST":
            rows = req.json()
            if not isinstance(rows, list):
                raise ValueError(
                    "bulk takes a JSON list of contacts with a DiallerCampaignsID each"
                )
            for row in rows:
                self._raw_insert(row)
            return Response.json(200, {"loaded": len(rows)})
        if parts == ["campaigns"]:
            if m == "GET":
                return Response.json(200, list(self.campaigns.values()))
            if m == "POST":
                body = req.json()
                cid = int(
                    body.get("id") or body.get("DiallerCampaignsID") or max(self.campaigns) + 1
                )
                name = str(body.get("name") or body["Name"])
                return Response.json(200, self._add_campaign(cid, name))
        if parts == ["dial"] and m == "POST":
            return self._dial_admin(req.json())
        return Response.json(404, {"error": "no such admin route"})

    def _raw_insert(self, row: Any) -> Contact:
        """A contact as given (no checks, duplicates allowed): one made in jtel's own UI."""
        if not isinstance(row, dict):
            raise ValueError("a contact is a JSON object")
        row = dict(row)
        cid = int(row.pop("DiallerCampaignsID"))
        if cid not in self.campaigns:
            raise ValueError(f"no campaign {cid}")
        for k in ("ID", "DiallerContactsID"):
            row.pop(k, None)
        c = self._insert(cid, {k: v for k, v in row.items() if k in WRITABLE})
        c.update(row)  # anything else as given too: a lock, counters, even odd fields
        return c

    def _dial_admin(self, body: Any) -> Response:
        if not isinstance(body, dict):
            raise ValueError('dial takes {"ids": [...]} or {"campaign": id}')
        ids = body.get("ids")
        if ids is None:
            campaign = int(body["campaign"])
            ids = [c["ID"] for c in self.contacts.values() if c["DiallerCampaignsID"] == campaign]
        unknown = [i for i in ids if int(i) not in self.contacts]
        if unknown:
            return Response.json(404, {"error": f"no such contact(s): {unknown}"})
        for i in ids:
            self._dial(self.contacts[int(i)])
        return Response.json(200, {"dialled": len(ids)})

    def _dial(self, c: Contact) -> None:
        """One call attempt by the dialler: counters and causes move, writable fields never."""
        c["nTriesPhoneNumber1"] = int(c.get("nTriesPhoneNumber1") or 0) + 1
        c["nPhoneNumber1LastCause"] = 17  # user busy
        c["PhoneNumber1LastAcdAgentEndReasonsID"] = 3
        c["dtNextTry"] = _now(dt.timedelta(hours=1))
        c["LastAcdAgentEndReasonsID"] = 3
        c["ResultCodesID"] = 12
        self.history.setdefault(int(c["ID"]), []).append(
            {
                "dtCall": _now(),
                "PhoneNumber": c.get("PhoneNumber1"),
                "Cause": 17,
                "ResultCode": 12,
                "AgentUID": None,
            }
        )
