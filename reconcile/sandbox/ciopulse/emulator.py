"""CIOPulse Contacts API v5, emulated from its documentation.

Basic auth with portal code and API key; PUT upserts by system_id (201 new,
200 updated) with three-way partial updates (value sets, null clears, absent
keeps); any backslash in a body is refused; e-mail unique across contacts,
case-insensitive (422); DELETE answers 202 and is refused for a support
group's lead or also-alert contacts; GET answers our assumed wrapped,
PascalCase shape (`{"contacts":[{"contact":{"Contact_System_ID": ...}}]}`),
all contacts in one body.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from reconcile.sandbox.core import Emulator, Request, Response
from reconcile.sandbox.credentials import CIOPULSE_API_KEY, CIOPULSE_PORTAL_CODE

FIELDS = ("first_name", "last_name", "email", "job_title", "mobile")
REQUIRED = ("first_name", "last_name", "email")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_MOBILE = re.compile(r"^\+[1-9][0-9]{6,14}$")
_API = "/api/v5"

Record = dict[str, str | None]


def _wire(system_id: str, c: Record) -> dict[str, Any]:
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


def _fold(email: str | None) -> str | None:
    return email.casefold() if email else None


class CiopulseEmulator(Emulator):
    name = "ciopulse"
    prefix = "/ciopulse"

    def __init__(self) -> None:
        super().__init__()
        self.contacts: dict[str, Record] = {}
        self.emails: dict[str, str] = {}  # folded e-mail -> system_id
        self.groups: dict[str, dict[str, Any]] = {}
        self.reset()

    def reset(self) -> None:
        self.contacts = {}
        self.emails = {}
        self.groups = {}

    def error(self, status: int, message: str) -> Response:
        return Response.json(status, {"message": message, "status": status})

    def route_label(self, req: Request) -> str:
        parts = req.segments(self.prefix + _API)
        if not req.under(self.prefix + _API) or not parts or parts[0] != "contacts":
            return f"{req.method} (unknown)"
        return f"{req.method} /contacts" + ("/{id}" if len(parts) > 1 else "")

    # -- vendor routes --------------------------------------------------------------
    def _authorized(self, req: Request) -> bool:
        scheme, _, token = req.headers.get_ci("authorization").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded == f"{CIOPULSE_PORTAL_CODE}:{CIOPULSE_API_KEY}"

    def handle(self, req: Request) -> Response:
        if not req.under(self.prefix + _API):
            return self.error(404, "Not found")
        if not self._authorized(req):
            return self.error(401, "Invalid security credentials")
        parts = req.segments(self.prefix + _API)
        if not parts or parts[0] != "contacts" or len(parts) > 2:
            return self.error(404, "Resource not found")
        if len(parts) == 1:
            if req.method != "GET":
                return self.error(405, "Method not allowed")
            with self.lock:
                body = [_wire(k, c) for k, c in self.contacts.items()]
                return Response.json(200, {"contacts": body})
        system_id = parts[1]
        with self.lock:
            if req.method == "GET":
                c = self.contacts.get(system_id)
                if c is None:
                    return self.error(404, "Contact not found")
                return Response.json(200, {"contacts": [_wire(system_id, c)]})
            if req.method == "PUT":
                return self._put(system_id, req.body)
            if req.method == "DELETE":
                return self._delete(system_id)
        return self.error(405, "Method not allowed")

    def _put(self, system_id: str, raw: bytes) -> Response:
        if b"\\" in raw:
            return self.error(400, "Invalid JSON: backslashes are not allowed in the request body")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return self.error(400, "Invalid JSON payload")
        if not isinstance(body, dict):
            return self.error(400, "Invalid JSON payload: expected one contact object")
        unknown = sorted(set(body) - set(FIELDS))
        if unknown:
            return self.error(400, f"Unknown field(s): {', '.join(unknown)}")
        for k, v in body.items():
            if v is not None and not isinstance(v, str):
                return self.error(400, f"Invalid value for {k}: expected a string or null")
        existing = self.contacts.get(system_id)
        if existing is None:
            missing = [f for f in REQUIRED if not body.get(f)]
            if missing:
                return self.error(400, f"Missing mandatory field(s): {', '.join(missing)}")
        else:
            cleared = [f for f in REQUIRED if f in body and not body[f]]
            if cleared:
                return self.error(
                    400, f"Mandatory field(s) cannot be cleared: {', '.join(cleared)}"
                )
        email = body.get("email")
        if email is not None and not _EMAIL.match(email):
            return self.error(400, "Invalid email address")
        mobile = body.get("mobile")
        if mobile is not None and not _MOBILE.match(mobile):
            return self.error(
                400,
                "Invalid mobile number: use + and the country code, no leading zero, no spaces or hyphens",
            )
        if email is not None:
            holder = self.emails.get(email.casefold())
            if holder is not None and holder != system_id and holder in self.contacts:
                return self.error(422, "Email address already in use by another contact")
        record: Record = dict(existing) if existing else dict.fromkeys(FIELDS)
        record.update(body)
        self._store(system_id, record)
        return Response.json(
            201 if existing is None else 200, {"contacts": [_wire(system_id, record)]}
        )

    def _delete(self, system_id: str) -> Response:
        if system_id not in self.contacts:
            return self.error(404, "Contact not found")
        for gid, g in self.groups.items():
            if g.get("lead") == system_id:
                return self.error(
                    422, f"Contact is the Support Lead of support group {gid} and cannot be deleted"
                )
            if system_id in (g.get("also_alert") or []):
                return self.error(
                    422, f"Contact is an Also Alert of support group {gid} and cannot be deleted"
                )
        self._remove(system_id)
        return self.error(202, "Contact deleted")

    def _store(self, system_id: str, record: Record) -> None:
        """Write a record and keep the e-mail index in step (no checks)."""
        self._remove(system_id)
        self.contacts[system_id] = record
        folded = _fold(record.get("email"))
        if folded:
            self.emails[folded] = system_id

    def _remove(self, system_id: str) -> Record | None:
        old = self.contacts.pop(system_id, None)
        folded = _fold(old.get("email")) if old else None
        if folded and self.emails.get(folded) == system_id:
            del self.emails[folded]
        return old

    # -- admin routes ---------------------------------------------------------------
    def admin(self, req: Request) -> Response:
        parts = self.admin_parts(req)
        m = req.method
        if parts == ["contacts"] and m == "GET":
            return Response.json(200, self.contacts)
        if len(parts) == 2 and parts[0] == "contacts":
            sid = parts[1]
            if m == "GET":
                c = self.contacts.get(sid)
                if c is None:
                    return Response.json(404, {"error": "no such contact"})
                return Response.json(200, c)
            if m == "PUT":
                self._store(sid, self._record(req.json()))
                return Response.json(200, self.contacts[sid])
            if m == "DELETE":
                return Response.json(200, {"deleted": self._remove(sid) is not None})
        if parts == ["bulk"] and m == "POST":
            rows = req.json()
            if not isinstance(rows, list):
                raise ValueError("bulk takes a JSON list of records with a system_id each")
            for row in rows:
                self._store(str(row["system_id"]), self._record(row))
            return Response.json(200, {"loaded": len(rows)})
        if parts == ["support-groups"] and m == "GET":
            return Response.json(200, self.groups)
        if len(parts) == 2 and parts[0] == "support-groups":
            if m == "PUT":
                body = req.json()
                if not isinstance(body, dict):
                    raise ValueError('a support group is {"lead": id, "also_alert": [ids]}')
                also = body.get("also_alert") or []
                if not isinstance(also, list):
                    raise ValueError("also_alert must be a list of system ids")
                self.groups[parts[1]] = {"lead": body.get("lead"), "also_alert": list(also)}
                return Response.json(200, self.groups[parts[1]])
            if m == "DELETE":
                return Response.json(200, {"deleted": self.groups.pop(parts[1], None) is not None})
        return Response.json(404, {"error": "no such admin route"})

    @staticmethod
    def _record(data: Any) -> Record:
        """A record as given, with no checks: a change made in the vendor's UI."""
        if not isinstance(data, dict):
            raise ValueError("a contact record is a JSON object")
        return {f: data.get(f) for f in FIELDS}
