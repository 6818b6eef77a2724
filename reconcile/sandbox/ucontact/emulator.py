"""uContact's Integra API, emulated from its documentation: sessions, uploads, SMS, e-mail, FormGet.

Two web apps under the prefix, `Integra/resources/...` and
`IntegraChannels/resources/...`, every call a POST with a form body (sendEmail
takes JSON). getUserToken answers a JSON array whose last element is the token,
or `0`; every other call carries it as `Authorization: Basic <token>`; EndSession
ends it. Uploads answer `1` at once and are parsed later (`lists.py`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote

from reconcile.sandbox.core import Emulator, Request, Response
from reconcile.sandbox.credentials import UCONTACT_PASSWORD, UCONTACT_USER
from reconcile.sandbox.ucontact.lists import (
    CHANNELS,
    Lists,
    Refused,
    Row,
    Upload,
    parse_blacklist,
    parse_email,
    parse_sms,
)
from reconcile.sandbox.ucontact.sessions import Sessions
from reconcile.sandbox.ucontact.settings import UcontactSettings

LOGIN = ("Integra/resources/auth/getUserToken", "Integra/resources/auth/UserLogin")
END_SESSION = "Integra/resources/auth/EndSession"
SMS_UPLOAD = "Integra/resources/SMS/uploadbase"
SCHEDULE = "Integra/resources/SMS/ScheduleDialerSMS"
SEND_SMS = "Integra/resources/SMS/SendSMS"
FORM_GET = "Integra/resources/forms/FormGet"
EMAIL_UPLOAD = "IntegraChannels/resources/DialersResources/uploadDialerBase"
SEND_EMAIL = "IntegraChannels/resources/Forms/sendEmail"
BLACKLIST_REMOVE = "IntegraChannels/resources/DialersResources/removeMultiChannelBlacklist"
_CALLDATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_PARSERS: dict[str, Callable[[Upload], list[Row]]] = {
    "blacklist": parse_blacklist,
    "blacklist_removal": parse_blacklist,
    "sms_base": parse_sms,
    "email_base": parse_email,
}
_ADMIN_LISTS = {
    "blacklist": "blacklist",
    "sms-base": "sms_base",
    "email-base": "email_base",
    "scheduled-sms": "sms_scheduler",
}

Form = dict[str, str]


def _text(status: int, body: str) -> Response:
    return Response(status, {"Content-Type": "text/plain; charset=UTF-8"}, body.encode("utf-8"))


class UcontactEmulator(Emulator):
    name = "ucontact"
    prefix = "/ucontact"
    settings_type = UcontactSettings
    settings: UcontactSettings

    def __init__(self) -> None:
        super().__init__()
        self.lists = Lists()
        self.reset()

    def reset(self) -> None:
        self.lists.close()
        self.lists = Lists()
        self.sessions = Sessions()
        self.pending: list[Upload] = []
        self.rejected: list[Row] = []
        self.sent_sms: list[Form] = []
        self.sent_email: list[dict[str, Any]] = []

    def error(self, status: int, message: str) -> Response:
        # uContact answers in plain text (`0`, `ERROR`), never in a JSON envelope.
        return _text(status, message)

    def _bad(self) -> Response:
        return _text(self.settings.bad_request_status, self.settings.bad_request_body)

    def _routes(self) -> dict[str, Callable[[Request, Form], Response]]:
        routes: dict[str, Callable[[Request, Form], Response]] = {
            **dict.fromkeys(LOGIN, self._login),
            END_SESSION: self._end_session,
            SMS_UPLOAD: self._sms_upload,
            SCHEDULE: self._schedule,
            SEND_SMS: self._send_sms,
            FORM_GET: self._form_get,
            EMAIL_UPLOAD: self._email_upload,
            SEND_EMAIL: self._send_email,
            self.settings.blacklist_upload_path: self._blacklist_upload,
        }
        if self.settings.blacklist_removal_route:
            routes[BLACKLIST_REMOVE] = self._blacklist_removal
        return routes

    @staticmethod
    def _relative(req: Request) -> str:
        return unquote(req.path[len(UcontactEmulator.prefix) :]).lstrip("/")

    def route_label(self, req: Request) -> str:
        rel = self._relative(req)
        return f"{req.method} /{rel}" if rel in self._routes() else f"{req.method} (unknown)"

    # -- vendor routes --------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        with self.lock:
            self._settle()
            rel = self._relative(req)
            route = self._routes().get(rel)
            if route is None:
                return _text(404, "")
            if req.method != "POST":
                return _text(405, "")
            if rel not in (*LOGIN, END_SESSION) and not self._authorized(req):
                # Unknown, ended and expired tokens look alike: the server keeps no tombstones.
                return _text(self.settings.expired_status, "0")
            if rel == SEND_EMAIL:
                return route(req, {})
            ctype = req.headers.get_ci("content-type").split(";")[0].strip().lower()
            if (
                self.settings.require_form_content_type
                and ctype != "application/x-www-form-urlencoded"
            ):
                return _text(415, "")
            try:
                parsed = parse_qs(req.body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                return self._bad()
            return route(req, {k: v[0] for k, v in parsed.items()})

    def _authorized(self, req: Request) -> bool:
        header = req.headers.get_ci("authorization").strip()
        scheme, _, rest = header.partition(" ")
        wanted = self.settings.auth_scheme
        if wanted == "any":
            token = rest.strip() if scheme.lower() in ("basic", "bearer") else header
        elif scheme.lower() == wanted.lower():
            token = rest.strip()
        else:
            return False
        self.sessions.expire(self.settings.session_idle_seconds)
        return bool(token) and self.sessions.use(token) is not None

    def _login(self, req: Request, form: Form) -> Response:
        user, password = form.get("user"), form.get("password")
        if user != UCONTACT_USER or password != UCONTACT_PASSWORD:
            return _text(200, "0")
        s = self.settings
        self.sessions.expire(s.session_idle_seconds)
        token = self.sessions.open(
            user, s.max_sessions_per_user, s.session_cap_policy == "evict_oldest"
        )
        if token is None:
            return _text(200, "0")
        return Response.json(200, [user, "Supervisor", token])

    def _end_session(self, req: Request, form: Form) -> Response:
        # The form's token is the one ended; the header is not needed to end it.
        self.sessions.expire(self.settings.session_idle_seconds)
        ended = self.sessions.end(form.get("user", ""), form.get("token", ""))
        return _text(200, "1" if ended else "0")

    # Uploads: checked and decoded now, parsed at processing time.
    def _accept(self, kind: str, form: Form, required: tuple[str, ...]) -> Response:
        if not all(form.get(k) for k in ("filename", "fileb64", *required)):
            return self._bad()
        try:
            raw = base64.b64decode(form["fileb64"], validate=True)
        except (binascii.Error, ValueError):
            return self._bad()
        # A Java server decodes bytes without failing: a bad byte becomes U+FFFD.
        text = raw.decode(self.settings.upload_encoding, errors="replace")
        due = time.monotonic() + self.settings.processing_delay_seconds
        self.pending.append(Upload(kind, form["filename"], text, due, form, self.settings))
        return _text(200, "1")

    def _sms_upload(self, req: Request, form: Form) -> Response:
        return self._accept("sms_base", form, ("campaign",))

    def _email_upload(self, req: Request, form: Form) -> Response:
        cant = form.get("cant", "")
        if form.get("channel") != "email" or not cant.isdigit():
            return self._bad()
        if self.settings.email_count_mismatch == "refuse":
            try:
                text = base64.b64decode(form.get("fileb64", ""), validate=True).decode(
                    self.settings.upload_encoding, errors="replace"
                )
            except (binascii.Error, ValueError):
                return self._bad()
            if int(cant) != sum(1 for line in text.split("\n") if line.strip()):
                return self._bad()
        return self._accept("email_base", form, ("dialer",))

    def _blacklist_upload(self, req: Request, form: Form) -> Response:
        return self._accept("blacklist", form, ())

    def _blacklist_removal(self, req: Request, form: Form) -> Response:
        return self._accept("blacklist_removal", form, ())

    def _settle(self, everything: bool = False) -> None:
        """Process the uploads that are due (all of them with `everything`), oldest first."""
        self.lists.follow(self.settings)
        now = time.monotonic()
        while self.pending and (everything or self.pending[0].due <= now):
            up = self.pending.pop(0)
            rows = _PARSERS[up.kind](up)
            self.rejected.extend(up.rejected)
            if up.kind == "blacklist_removal":
                for row in rows:
                    self.lists.remove_blacklisted(row)
            elif up.kind == "blacklist" and up.settings.blacklist_dedupe:
                for row in rows:
                    if not self.lists.contains(row):
                        self.lists.insert("blacklist", [row])
            else:
                self.lists.insert(up.kind, rows)

    def _schedule(self, req: Request, form: Form) -> Response:
        try:
            sms = json.loads(form.get("sms", ""))
        except ValueError:
            return self._bad()
        keys = ("calldate", "campaign", "destination", "data")
        if not isinstance(sms, dict) or not all(isinstance(sms.get(k), str) for k in keys):
            return self._bad()
        if not sms["campaign"] or not sms["destination"] or not _CALLDATE.match(sms["calldate"]):
            return self._bad()
        try:
            dt.datetime.strptime(sms["calldate"], "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return self._bad()
        row = {"calldate": sms["calldate"], "campaign": sms["campaign"],
               "phone": sms["destination"], "data": sms["data"]}  # fmt: skip
        self.lists.insert("sms_scheduler", [row])
        return _text(200, "1")

    def _send_sms(self, req: Request, form: Form) -> Response:
        if not form.get("destination") or not form.get("message"):
            return _text(200, "ERROR")
        self.sent_sms.append(form)
        return _text(200, "OK")

    def _send_email(self, req: Request, form: Form) -> Response:
        try:
            body = json.loads(req.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return _text(400, "Wrong parameters")
        if not _email_ok(body):
            return _text(400, "Wrong parameters")
        guid = str(uuid.uuid4())
        self.sent_email.append({"guid": guid, **body})
        return Response.json(200, {"guid": guid})

    def _form_get(self, req: Request, form: Form) -> Response:
        if not form.get("query") or not form.get("dsn"):
            return self._bad()
        try:
            return Response.json(200, self.lists.query(form["query"], form["dsn"], self.settings))
        except Refused:
            return self._bad()

    # -- admin routes ---------------------------------------------------------------
    def admin(self, req: Request) -> Response:
        parts = self.admin_parts(req)
        m = req.method
        self._settle()
        if len(parts) == 1 and parts[0] in _ADMIN_LISTS and m == "GET":
            return Response.json(200, self.lists.rows(_ADMIN_LISTS[parts[0]]))
        if parts == ["blacklist"] and m in ("POST", "DELETE"):
            entries = req.json()
            if not isinstance(entries, list) or not all(
                isinstance(e, dict) and isinstance(e.get("value"), str) for e in entries
            ):
                raise ValueError('give a JSON list of {"value", "channel", "campaign"} entries')
            if m == "DELETE":  # someone removing entries in the UI
                removed = sum(self.lists.remove_blacklisted(e) for e in entries)
                return Response.json(200, {"removed": removed})
            rows = [_ui_entry(e) for e in entries]  # someone adding entries in the UI
            self.lists.insert("blacklist", rows)
            return Response.json(200, {"added": len(rows)})
        if parts == ["pending"] and m == "GET":
            now = time.monotonic()
            return Response.json(200, [
                {"kind": u.kind, "filename": u.filename, "lines": len(u.lines()),
                 "due_in_seconds": round(max(0.0, u.due - now), 3)}
                for u in self.pending
            ])  # fmt: skip
        if parts == ["process"] and m == "POST":
            count = len(self.pending)
            self._settle(everything=True)
            return Response.json(200, {"processed": count})
        if parts == ["rejected"] and m == "GET":
            return Response.json(200, self.rejected)
        if parts == ["sessions"] and m == "GET":
            self.sessions.expire(self.settings.session_idle_seconds)
            return Response.json(200, self.sessions.view())
        if parts == ["sent-sms"] and m == "GET":
            return Response.json(200, self.sent_sms)
        if parts == ["sent-email"] and m == "GET":
            return Response.json(200, self.sent_email)
        return Response.json(404, {"error": "no such admin route"})


def _email_ok(body: Any) -> bool:
    """sendEmail's documented shape: campaign and to; body, or else a template."""
    if not isinstance(body, dict):
        return False
    strings = all(isinstance(body.get(k), str) and body[k] for k in ("campaign", "to"))
    content = isinstance(body.get("body"), str) or isinstance(body.get("template"), str)
    attachments = body.get("attachments", [])
    lists_ok = isinstance(attachments, list) and all(isinstance(a, str) for a in attachments)
    dicts_ok = all(isinstance(body.get(k, {}), dict) for k in ("schedule", "variables"))
    return strings and content and lists_ok and dicts_ok


def _ui_entry(e: dict[str, Any]) -> Row:
    channel = e.get("channel", "phone")
    if channel not in CHANNELS:
        raise ValueError(f"channel is one of {', '.join(CHANNELS)}, not {channel!r}")
    return {"value": e["value"], "channel": channel, "campaign": e.get("campaign") or "",
            "filename": ""}  # fmt: skip
