"""CIOPulse Contacts and Support Groups API v5, emulated from its documentation.

Basic auth with portal code and API key; PUT upserts by system_id (201 new,
200 updated) with three-way partial updates (value sets, null clears, absent
keeps); any backslash in a body is refused; e-mail unique across contacts,
case-insensitive (422), Portal-made contacts included; DELETE answers 202 and
is refused for a support group's lead or also-alert contacts; GET answers all
contacts in one body, by default in our assumed wrapped, PascalCase shape
(`{"contacts":[{"contact":{"Contact_System_ID": ...}}]}`), otherwise as the
settings say (`wire.CiopulseSettings`). Support groups are read-only here, as
the documented `{"support_groups":[{"support_group":{...}}]}`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from reconcile.sandbox.ciopulse import wire
from reconcile.sandbox.ciopulse.wire import FIELDS, CiopulseSettings, Record, SupportGroup
from reconcile.sandbox.core import Emulator, Request, Response
from reconcile.sandbox.credentials import CIOPULSE_API_KEY, CIOPULSE_PORTAL_CODE

REQUIRED = ("first_name", "last_name", "email")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_MOBILE = re.compile(r"^\+[1-9][0-9]{6,14}$")
_API = "/api/v5"
RESOURCES = ("contacts", "support-groups")


def _fold(email: str | None) -> str | None:
    return email.casefold() if email else None


class CiopulseEmulator(Emulator):
    name = "ciopulse"
    prefix = "/ciopulse"
    settings_type = CiopulseSettings
    settings: CiopulseSettings

    def __init__(self) -> None:
        super().__init__()
        self.contacts: dict[str, Record] = {}
        self.emails: dict[str, str] = {}  # folded e-mail -> system_id
        self.portal: dict[int, Record] = {}  # contacts made in the Portal: no system id
        self.groups: dict[str, SupportGroup] = {}
        self.reset()

    def reset(self) -> None:
        self.contacts = {}
        self.emails = {}
        self.portal = {}
        self.groups = {}

    def error(self, status: int, message: str) -> Response:
        return Response.json(status, {"message": message, "status": status})

    def route_label(self, req: Request) -> str:
        parts = req.segments(self.prefix + _API)
        if not req.under(self.prefix + _API) or not parts or parts[0] not in RESOURCES:
            return f"{req.method} (unknown)"
        return f"{req.method} /{parts[0]}" + ("/{id}" if len(parts) > 1 else "")

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
        if not parts or parts[0] not in RESOURCES or len(parts) > 2:
            return self.error(404, "Resource not found")
        if parts[0] == "support-groups":
            return self._groups(req, parts[1:])
        s = self.settings
        if len(parts) == 1:
            if req.method != "GET":
                return self.error(405, "Method not allowed")
            with self.lock:
                # Records are replaced whole on every change (`_store`, the Portal's POST),
                # never changed in place, so the records themselves are a snapshot: the
                # items and the 17.6 MB body of 100,000 contacts are built without the
                # lock, which writes need meanwhile.
                records = list(self.contacts.items())
                portal = list(self.portal.values())
            return Response.json(200, wire.contacts(wire.contact_list(records, portal, s), s))
        system_id = parts[1]
        with self.lock:
            if req.method == "GET":
                c = self.contacts.get(system_id)
                if c is None:
                    return self.error(404, "Contact not found")
                return Response.json(200, wire.contacts([wire.contact(system_id, c, s)], s))
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
            taken = holder is not None and holder != system_id and holder in self.contacts
            if taken or any(
                _fold(c.get("email")) == email.casefold() for c in self.portal.values()
            ):
                return self.error(422, "Email address already in use by another contact")
        record: Record = dict(existing) if existing else dict.fromkeys(FIELDS)
        record.update(body)
        self._store(system_id, record)
        s = self.settings
        answer = wire.contacts([wire.contact(system_id, record, s)], s)
        return Response.json(201 if existing is None else 200, answer)

    def _delete(self, system_id: str) -> Response:
        if system_id not in self.contacts:
            return self.error(404, "Contact not found")
        for gid, g in self.groups.items():
            for role, member in g.members():
                if member == system_id:
                    return self.error(
                        self.settings.refused_delete_status,
                        f"Contact is the {role} of support group {gid} and cannot be deleted",
                    )
        self._remove(system_id)
        return self.error(202, "Contact deleted")

    def _groups(self, req: Request, ids: list[str]) -> Response:
        """`GET /support-groups[/{system_id}]` in the documented shape; no writes here."""
        if req.method != "GET":
            return self.error(405, "Method not allowed")
        with self.lock:
            if ids and ids[0] not in self.groups:
                return self.error(404, "Support group not found")
            wanted = ids or list(self.groups)
            items = [self.groups[gid].wire(gid, self._email_of) for gid in wanted]
            return Response.json(200, {"support_groups": items})

    def _email_of(self, system_id: str | None) -> str | None:
        c = self.contacts.get(system_id) if system_id is not None else None
        return c.get("email") if c else None

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
        if parts == ["portal-contacts"]:
            if m == "GET":
                return Response.json(200, {str(k): c for k, c in self.portal.items()})
            if m == "POST":  # made by hand in the Portal: no system id, the API cannot address it
                pid = max(self.portal, default=0) + 1
                self.portal[pid] = self._record(req.json())
                return Response.json(200, {"portal_id": pid, **self.portal[pid]})
        if len(parts) == 2 and parts[0] == "portal-contacts" and m == "DELETE":
            gone = parts[1].isdigit() and self.portal.pop(int(parts[1]), None) is not None
            return Response.json(200, {"deleted": gone})
        if parts == ["support-groups"] and m == "GET":
            return Response.json(200, {gid: g.to_admin() for gid, g in self.groups.items()})
        if len(parts) == 2 and parts[0] == "support-groups":
            if m == "PUT":
                self.groups[parts[1]] = SupportGroup.from_admin(parts[1], req.json())
                return Response.json(200, self.groups[parts[1]].to_admin())
            if m == "DELETE":
                return Response.json(200, {"deleted": self.groups.pop(parts[1], None) is not None})
        return Response.json(404, {"error": "no such admin route"})

    @staticmethod
    def _record(data: Any) -> Record:
        """A record as given, with no checks: a change made in the vendor's UI."""
        if not isinstance(data, dict):
            raise ValueError("a contact record is a JSON object")
        return {f: data.get(f) for f in FIELDS}
