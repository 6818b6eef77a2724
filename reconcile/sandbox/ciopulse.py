"""CIOPulse Contacts API v5, as its documentation describes it.

Basic auth with portal code and API key; PUT upserts by system_id (201 new,
200 updated) with three-way partial updates (value sets, null clears, absent
keeps); any backslash in a body is refused; e-mail unique across contacts
(422); DELETE answers 202 and is refused for a support group's lead or
also-alert contacts; GET answers our assumed wrapped shape.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from reconcile.sandbox.core import Emulator, Request, Response
from reconcile.sandbox.credentials import CIOPULSE_API_KEY, CIOPULSE_PORTAL_CODE

FIELDS = ("first_name", "last_name", "email", "job_title", "mobile")
REQUIRED = ("first_name", "last_name", "email")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MOBILE = re.compile(r"^\+[1-9][0-9]{6,14}$")
_API = "/api/v5"


def _error(status: int, message: str) -> Response:
    return Response.json(status, {"message": message, "status": status})


def _wire(system_id: str, c: dict[str, Any]) -> dict[str, Any]:
    return {
        "contact": {
            "Contact_System_ID": system_id,
            "First_Name": c.get("first_name"),
            "Last_Name": c.get("last_name"),
            "Email": c.get("email"),
            "Job_Title": c.get("job_title"),
            "Mobile": c.get("mobile"),
        }
    }


class CiopulseEmulator(Emulator):
    name = "ciopulse"
    prefix = "/ciopulse"

    def __init__(self) -> None:
        super().__init__()
        self.reset()
        token = base64.b64encode(f"{CIOPULSE_PORTAL_CODE}:{CIOPULSE_API_KEY}".encode()).decode()
        self._auth = f"Basic {token}"

    def reset(self) -> None:
        self.contacts: dict[str, dict[str, Any]] = {}
        self.emails: dict[str, str] = {}  # folded e-mail -> system_id
        self.groups: dict[str, dict[str, Any]] = {}

    def route_label(self, req: Request) -> str:
        parts = req.segments(self.prefix + _API)
        return f"{req.method} /contacts" + ("/{id}" if len(parts) > 1 else "")

    # -- vendor routes --------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if not req.path.startswith(self.prefix + _API):
            return _error(404, "Not found")
        if req.headers.get_ci("authorization") != self._auth:
            return _error(401, "Invalid security credentials")
        parts = req.segments(self.prefix + _API)
        if not parts or parts[0] != "contacts" or len(parts) > 2:
            return _error(404, "Resource not found")
        with self.lock:
            if len(parts) == 1:
                if req.method == "GET":
                    body = [_wire(k, c) for k, c in self.contacts.items()]
                    return Response.json(200, {"contacts": body})
                return _error(405, "Method not allowed")
            system_id = parts[1]
            if req.method == "GET":
                c = self.contacts.get(system_id)
                if c is None:
                    return _error(404, f"Contact {system_id} not found")
                return Response.json(200, {"contacts": [_wire(system_id, c)]})
            if req.method == "PUT":
                return self._put(system_id, req.body)
            if req.method == "DELETE":
                return self._delete(system_id)
        return _error(405, "Method not allowed")

    def _put(self, system_id: str, raw: bytes) -> Response:
        if b"\\" in raw:
            return _error(400, "Invalid JSON: backslashes are not allowed in the request body")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return _error(400, "Invalid JSON payload")
        if not isinstance(body, dict):
            return _error(400, "The JSON payload must be one contact object")
        unknown = sorted(set(body) - set(FIELDS))
        if unknown:
            return _error(400, f"Unknown field(s): {', '.join(unknown)}")
        for k, v in body.items():
            if v is not None and not isinstance(v, str):
                return _error(400, f"Invalid value for {k}")
        existing = self.contacts.get(system_id)
        merged = dict(existing or {})
        merged.update(body)
        missing = [f for f in REQUIRED if not merged.get(f)]
        if missing:
            what = (
                "Missing mandatory field(s)"
                if existing is None
                else "Mandatory field(s) cannot be cleared"
            )
            return _error(400, f"{what}: {', '.join(missing)}")
        email = merged["email"]
        if not _EMAIL.match(email):
            return _error(400, f"Invalid email address: {email}")
        mobile = merged.get("mobile")
        if mobile is not None and not _MOBILE.match(mobile):
            return _error(
                400, "Invalid mobile number: use + and the country code, no spaces or hyphens"
            )
        holder = self.emails.get(email.lower())
        if holder is not None and holder != system_id:
            return _error(422, "Email address already in use by another contact")
        if existing is not None:
            self.emails.pop(existing["email"].lower(), None)
        self.emails[email.lower()] = system_id
        record = {f: merged.get(f) for f in FIELDS}
        self.contacts[system_id] = record
        return Response.json(
            201 if existing is None else 200, {"contacts": [_wire(system_id, record)]}
        )

    def _delete(self, system_id: str) -> Response:
        c = self.contacts.get(system_id)
        if c is None:
            return _error(404, f"Contact {system_id} not found")
        for gid, g in self.groups.items():
            if g.get("lead") == system_id or system_id in (g.get("also_alert") or []):
                return _error(
                    422,
                    f"Contact is the Support Lead or an Also Alert of support group {gid} and cannot be deleted",
                )
        del self.contacts[system_id]
        self.emails.pop(str(c["email"]).lower(), None)
        return _error(202, "Contact deleted")

    # -- admin routes ---------------------------------------------------------------
    def admin(self, req: Request, parts: list[str]) -> Response:
        if parts == ["contacts"] and req.method == "GET":
            return Response.json(200, self.contacts)
        if len(parts) == 2 and parts[0] == "contacts":
            sid = parts[1]
            if req.method == "GET":
                c = self.contacts.get(sid)
                return (
                    Response.json(200, c)
                    if c is not None
                    else Response.json(404, {"error": "no such contact"})
                )
            if req.method == "PUT":
                self._force(sid, req.json())
                return Response.json(200, self.contacts[sid])
            if req.method == "DELETE":
                c = self.contacts.pop(sid, None)
                if c and c.get("email"):
                    self.emails.pop(str(c["email"]).lower(), None)
                return Response.json(200, {"deleted": c is not None})
        if parts == ["bulk"] and req.method == "POST":
            rows = req.json()
            for row in rows:
                self._force(str(row["system_id"]), row)
            return Response.json(200, {"loaded": len(rows)})
        if len(parts) == 2 and parts[0] == "support-groups":
            if req.method == "PUT":
                self.groups[parts[1]] = dict(req.json())
                return Response.json(200, self.groups[parts[1]])
            if req.method == "DELETE":
                self.groups.pop(parts[1], None)
                return Response.json(200, {"deleted": True})
        return Response.json(404, {"error": "no such admin route"})

    def _force(self, sid: str, data: dict[str, Any]) -> None:
        """Write a record as given, with no checks: a change made in the vendor's UI."""
        old = self.contacts.get(sid)
        if old and old.get("email"):
            self.emails.pop(str(old["email"]).lower(), None)
        record = {f: data.get(f) for f in FIELDS}
        self.contacts[sid] = record
        if record.get("email"):
            self.emails[str(record["email"]).lower()] = sid
