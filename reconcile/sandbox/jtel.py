"""jtel Dialler REST API (contacts and campaigns), as its documentation describes it.

Bearer token and ClientsID in the path (401 for either wrong); 404 with an
empty body for an unknown route and with `{"status": 404, "error": ...}` for a
missing object; lists come whole, with no paging. Update, lock, unlock, reset
and history follow the URLs reconcile assumes (see the README), since jtel
does not publish them. `/_admin/jtel/dial` simulates the dialler at work.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from reconcile.sandbox.core import Emulator, Request, Response
from reconcile.sandbox.credentials import JTEL_CLIENTS_ID, JTEL_TOKEN

PHONES = [f"PhoneNumber{i}" for i in range(1, 7)]
LENGTHS: dict[str, int | None] = {
    "UserData": 64, "Client": 64, "Service": 64, "ReferenceNumber": 64, "Name": 64, "FirstName": 64,
    "Salutation": 16, "Title": 16, "Company": 64, "Address": 64, "PostalCode": 10, "City": 64,
    "Country": 64, "Region": 256, "AccountOwner": 64, "AccountBank": 32, "AccountNationalBankCode": 10,
    "AccountBIC": 11, "AccountNumber": 20, "AccountIBAN": 34, **{p: 32 for p in PHONES}, "FaxNumber": 32,
    "Email": 256, "Website": None, "Comment": None, "ReservedUsersUID": 32, "FollowUpUsersUID": 32,
    "Manufacturer": 64, "Model": 64, "Tag": 64, "ExternalSystemLink": 256,
}  # fmt: skip
DATETIMES = ("FollowUpDateTime", "dtBeginDate", "dtEndDate")
WRITABLE = (*LENGTHS, *DATETIMES, "Amount")
READ_ONLY = (
    "ID", "DiallerCampaignsID", "RandomSortOrder", "dtImported", "dtNextTry", "bLocked", "bLastResultMailbox",
    "LastAcdAgentEndReasonsID", "ResultCodesID",
    *(f"nTriesPhoneNumber{i}" for i in range(1, 7)),
    *(f"nPhoneNumber{i}LastCause" for i in range(1, 7)),
    *(f"bPhoneNumber{i}Invalid" for i in range(1, 7)),
    *(f"PhoneNumber{i}LastAcdAgentEndReasonsID" for i in range(1, 7)),
)  # fmt: skip
_DT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
_BASE = "/rest/v1.0/"
SEED_CAMPAIGNS = [
    (538, "Outbound Sales"),
    (539, "Renewals"),
    (540, "Winback"),
    (541, "Surveys"),
    (542, "Collections"),
]


def _err(status: int, message: str) -> Response:
    return Response.json(status, {"status": status, "error": message})


def _now() -> str:
    return dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S")


def _blank_counters(c: dict[str, Any]) -> None:
    for i in range(1, 7):
        c[f"nTriesPhoneNumber{i}"] = 0
        c[f"nPhoneNumber{i}LastCause"] = None
        c[f"bPhoneNumber{i}Invalid"] = False
        c[f"PhoneNumber{i}LastAcdAgentEndReasonsID"] = None
    c.update(
        dtNextTry=None, bLastResultMailbox=False, LastAcdAgentEndReasonsID=None, ResultCodesID=None
    )


class JtelEmulator(Emulator):
    name = "jtel"
    prefix = "/jtel"

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        self.campaigns: dict[int, dict[str, Any]] = {}
        for cid, name in SEED_CAMPAIGNS:
            self._add_campaign(cid, name)
        self.contacts: dict[int, dict[str, Any]] = {}
        self.history: dict[int, list[dict[str, Any]]] = {}
        self.next_id = 100001

    def _add_campaign(self, cid: int, name: str) -> dict[str, Any]:
        camp = {
            "DiallerCampaignsID": cid, "ID": cid, "Name": name, "ClientsID": int(JTEL_CLIENTS_ID),
            "nMaxParallelLines": 10, "ContactPreviewTime": 0, "bCallerIDActive": True,
            "bCloseContactsOnIncomingCallsMatchCallerID": False, "LanguagesID": 1, "dtTo": None,
        }  # fmt: skip
        self.campaigns[cid] = camp
        return camp

    def route_label(self, req: Request) -> str:
        parts = req.segments(self.prefix)
        tail = parts[3:] if len(parts) > 3 else parts
        label = "/".join("{id}" if p.isdigit() else p for p in tail)
        return f"{req.method} /{label}"

    # -- vendor routes --------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        parts = req.segments(self.prefix)
        if len(parts) < 3 or parts[0] != "rest" or parts[1] != "v1.0":
            return Response(404)
        if (
            req.headers.get_ci("authorization") != f"Bearer {JTEL_TOKEN}"
            or parts[2] != JTEL_CLIENTS_ID
        ):
            return _err(401, "Unauthorized: invalid token or ClientsID")
        p = parts[3:]
        m = req.method
        with self.lock:
            try:
                return self._route(m, p, req)
            except (ValueError, TypeError) as exc:
                return _err(400, f"Bad request: {exc}")

    def _route(self, m: str, p: list[str], req: Request) -> Response:
        if p[:2] == ["dialler", "campaigns"]:
            if len(p) == 2 and m == "GET":
                return self._list(sorted(self.campaigns.values(), key=lambda c: str(c["Name"])))
            if len(p) == 3 and m == "GET" and p[2].isdigit():
                c = self.campaigns.get(int(p[2]))
                return self._records([c]) if c else _err(404, "Dialler campaign not found")
            return Response(404)
        if p[:2] != ["dialler", "contacts"]:
            return Response(404)
        rest = p[2:]
        if not rest and m == "GET":
            cid = req.param("diallerCampaignsID")
            if cid is not None:
                if not cid.isdigit() or int(cid) not in self.campaigns:
                    return _err(404, "Dialler campaign not found")
                rows = [c for c in self.contacts.values() if c["DiallerCampaignsID"] == int(cid)]
            else:
                rows = list(self.contacts.values())
            return self._list(rows)
        if rest == ["import"] and m == "POST":
            return self._import(req)
        if len(rest) == 1 and rest[0].isdigit() and m == "GET":
            c = self.contacts.get(int(rest[0]))
            return self._records([c]) if c else _err(404, "Dialler contact not found")
        if rest and rest[0] == "contact":
            if len(rest) == 1:
                return self._by_userdata(m, req)
            if not rest[1].isdigit():
                return Response(404)
            contact_id = int(rest[1])
            c = self.contacts.get(contact_id)
            if len(rest) == 2:
                if m == "PUT":
                    if c is None:
                        return _err(404, "Dialler contact not found")
                    return self._update(c, req)
                if m == "DELETE":
                    if c is None:
                        return _err(404, "Dialler contact not found")
                    del self.contacts[contact_id]
                    return Response.json(200, {"status": 200})
                return Response(404)
            if (
                len(rest) == 3
                and m in ("GET", "POST")
                and rest[2] in ("lock", "unlock", "reset", "history")
            ):
                if c is None:
                    return _err(404, "Dialler contact not found")
                return self._action(c, rest[2])
        return Response(404)

    def _list(self, rows: list[dict[str, Any]]) -> Response:
        body = {"filter": "", "limitStart": 0, "limitPageSize": -1, "records": rows, "count": len(rows),
                "orderBy": "Name", "ascending": True, "status": 200}  # fmt: skip
        return Response.json(200, body)

    def _records(self, rows: list[dict[str, Any]]) -> Response:
        return Response.json(200, {"records": rows, "count": len(rows), "status": 200})

    def _check_fields(self, body: dict[str, Any], *, creating: bool) -> str | None:
        allowed = (
            set(WRITABLE) | {"DiallerCampaignsID", "DiallerCampaignsName", "ID"} | set(READ_ONLY)
        )
        unknown = sorted(set(body) - allowed)
        if unknown:
            return f"Unknown field(s): {', '.join(unknown)}"
        for k, n in LENGTHS.items():
            v = body.get(k)
            if v is not None and not isinstance(v, str):
                return f"{k} must be a string"
            if isinstance(v, str) and n is not None and len(v) > n:
                return f"{k} is longer than {n} characters"
        for k in DATETIMES:
            v = body.get(k)
            if v is not None and (not isinstance(v, str) or not _DT.match(v)):
                return f"{k} must be a datetime YYYY-MM-DDTHH:mm:ss"
        a = body.get("Amount")
        if a is not None and (isinstance(a, bool) or not isinstance(a, int | float)):
            return "Amount must be a number"
        if creating:
            if not body.get("Name"):
                return "Missing required parameter: Name"
            if not any(body.get(ph) for ph in PHONES):
                return "Missing required parameter: at least one of PhoneNumber1..PhoneNumber6"
        return None

    def _body(self, req: Request) -> dict[str, Any]:
        body = json.loads(req.body.decode("utf-8") or "null")
        if not isinstance(body, dict):
            raise ValueError("the body must be one JSON object")
        return body

    def _campaign_of(self, body: dict[str, Any]) -> int | Response:
        if body.get("DiallerCampaignsID") is not None:
            cid = body["DiallerCampaignsID"]
            if not isinstance(cid, int) or cid not in self.campaigns:
                return _err(404, "Dialler campaign not found")
            return cid
        name = body.get("DiallerCampaignsName")
        if not name:
            return _err(
                400, "Missing required parameter: DiallerCampaignsID or DiallerCampaignsName"
            )
        match = [c for c in self.campaigns.values() if c["Name"] == name]
        if not match:
            return _err(404, "Dialler campaign not found")
        if len(match) > 1:
            return _err(409, f"More than one dialler campaign is named {name!r}")
        return int(match[0]["DiallerCampaignsID"])

    def _import(self, req: Request) -> Response:
        overwrite = (req.param("overwriteDuplicates") or "false").lower() == "true"
        body = self._body(req)
        problem = self._check_fields(body, creating=True)
        if problem:
            return _err(400, problem)
        cid = self._campaign_of(body)
        if isinstance(cid, Response):
            return cid
        data = {k: body[k] for k in WRITABLE if k in body}
        if overwrite and body.get("UserData"):
            for c in self.contacts.values():
                if c["DiallerCampaignsID"] == cid and c.get("UserData") == body["UserData"]:
                    c.update(data)  # try counters are left as they are
                    return self._records([c])
        return self._records([self._insert(cid, data)])

    def _insert(self, cid: int, data: dict[str, Any]) -> dict[str, Any]:
        c: dict[str, Any] = {k: None for k in WRITABLE}
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

    def _update(self, c: dict[str, Any], req: Request) -> Response:
        body = self._body(req)
        problem = self._check_fields(body, creating=False)
        if problem:
            return _err(400, problem)
        c.update(
            {k: body[k] for k in WRITABLE if k in body and k != "UserData"}
            | ({"UserData": body["UserData"]} if "UserData" in body else {})
        )
        return self._records([c])

    def _by_userdata(self, m: str, req: Request) -> Response:
        ud = req.param("userData")
        if m == "PUT":
            body = self._body(req)
            found = self.contacts.get(int(body["ID"])) if body.get("ID") is not None else None
            if found is None and body.get("UserData"):
                found = next(
                    (c for c in self.contacts.values() if c.get("UserData") == body["UserData"]),
                    None,
                )
            if found is None:
                return _err(404, "Dialler contact not found")
            return self._update(found, req)
        if not ud:
            return _err(400, "Missing required parameter: userData")
        matches = [c for c in self.contacts.values() if c.get("UserData") == ud]
        if not matches:
            return _err(404, "Dialler contact not found")
        if m == "GET":
            return self._records(matches)
        if m == "DELETE":
            del self.contacts[matches[0]["ID"]]
            return Response.json(200, {"status": 200})
        return Response(404)

    def _action(self, c: dict[str, Any], action: str) -> Response:
        if action == "lock":
            c["bLocked"] = True
        elif action == "unlock":
            c["bLocked"] = False
        elif action == "reset":
            _blank_counters(c)
        else:
            rows = self.history.get(int(c["ID"]), [])
            return Response.json(200, {"records": rows, "count": len(rows), "status": 200})
        return Response.json(200, {"status": 200})

    # -- admin routes ---------------------------------------------------------------
    def admin(self, req: Request, parts: list[str]) -> Response:
        m = req.method
        if parts == ["contacts"]:
            if m == "GET":
                return Response.json(200, list(self.contacts.values()))
            if m == "POST":
                body = req.json()
                cid = int(body.pop("DiallerCampaignsID"))
                return Response.json(200, self._insert(cid, body))
        if len(parts) == 2 and parts[0] == "contacts" and parts[1].isdigit():
            c = self.contacts.get(int(parts[1]))
            if c is None:
                return Response.json(404, {"error": "no such contact"})
            if m == "PUT":
                c.update(req.json())
                return Response.json(200, c)
            if m == "DELETE":
                del self.contacts[int(parts[1])]
                return Response.json(200, {"deleted": True})
            return Response.json(200, c)
        if parts == ["bulk"] and m == "POST":
            rows = req.json()
            for row in rows:
                row = dict(row)
                self._insert(int(row.pop("DiallerCampaignsID")), row)
            return Response.json(200, {"loaded": len(rows)})
        if parts == ["campaigns"] and m == "POST":
            body = req.json()
            cid = int(body.get("id") or max(self.campaigns) + 1)
            return Response.json(200, self._add_campaign(cid, str(body["name"])))
        if parts == ["dial"] and m == "POST":
            body = req.json()
            ids = body.get("ids")
            if ids is None:
                ids = [
                    c["ID"]
                    for c in self.contacts.values()
                    if c["DiallerCampaignsID"] == int(body["campaign"])
                ]
            for i in ids:
                self._dial(self.contacts[int(i)])
            return Response.json(200, {"dialled": len(ids)})
        return Response.json(404, {"error": "no such admin route"})

    def _dial(self, c: dict[str, Any]) -> None:
        """One call attempt by the dialler: counters and causes move, writable fields never."""
        c["nTriesPhoneNumber1"] = int(c.get("nTriesPhoneNumber1") or 0) + 1
        c["nPhoneNumber1LastCause"] = 17  # user busy
        c["dtNextTry"] = (dt.datetime.now() + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
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
