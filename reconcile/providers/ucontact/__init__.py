"""uContact (Integra API): blacklists, SMS and e-mail dialer bases as CSV uploads, scheduled SMS.

Nothing can be read back through a documented call, so every entry is tracked
through state. New entries go out in batches (one base64 CSV per request, up to
`batch_size`); an upload answers `1` and is processed later, with no job id.
A blacklist collection may set `observe:` to read the live list through the
FormGet SQL gateway. No call removes a blacklist entry unless `endpoints:` names
one (`blacklist_remove`): a removal is otherwise a manual step in the UI,
settled with `reconcile state confirm`. The guessed parts (blacklist URL and
columns, the expired-session status, the token scheme) are settings; see the
README's table of vendor assumptions.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from reconcile.config import ProviderConfig
from reconcile.errors import Problem, ProviderError
from reconcile.kinds.ucontact import CALLDATE, vendor_now
from reconcile.matching import NO_FIELDS
from reconcile.model import Action, Change, Collection, Live, StateEntry
from reconcile.phones import to_e164
from reconcile.providers.base import BatchOutcome, Provider, ReadResult
from reconcile.providers.ucontact.session import Session

BLACKLIST, SMS, EMAIL, SCHEDULED = (
    "ucontact/blacklist",
    "ucontact/sms-base",
    "ucontact/email-base",
    "ucontact/scheduled-sms",
)
UPLOADS = {BLACKLIST: "blacklist_upload", SMS: "sms_upload", EMAIL: "email_upload"}
DEFAULT_QUERY = "SELECT value, channel, campaign FROM blacklist"
_names = itertools.count(1)


class UcontactProvider(Provider):
    type = "ucontact"
    can_read = False
    endpoint_defaults: ClassVar[Mapping[str, str]] = {
        "login": "POST /Integra/resources/auth/getUserToken",
        "end_session": "POST /Integra/resources/auth/EndSession",
        # Assumed: the seed's garbled line names this call; its form is uploadDialerBase's.
        "blacklist_upload": "POST /IntegraChannels/resources/DialersResources/uploadMultiChannelBlacklist",
        # Undocumented; used only when reconcile.yaml names it under `endpoints:`.
        "blacklist_remove": "POST /IntegraChannels/resources/DialersResources/removeMultiChannelBlacklist",
        "sms_upload": "POST /Integra/resources/SMS/uploadbase",
        "email_upload": "POST /IntegraChannels/resources/DialersResources/uploadDialerBase",
        "schedule_sms": "POST /Integra/resources/SMS/ScheduleDialerSMS",
        "form_get": "POST /Integra/resources/forms/FormGet",
    }

    def __init__(
        self, config: ProviderConfig, transport: httpx.BaseTransport | None = None
    ) -> None:
        super().__init__(config, transport)
        s = config.settings
        self.size = int(s.get("batch_size", 1000))
        self.columns: list[str] = list(
            s.get("blacklist_columns") or ["value", "channel", "campaign"]
        )
        self.encoding = str(s.get("upload_encoding", "utf-8"))
        self.region = s.get("default_region")
        self.session = Session(
            self.client,
            lambda name: self.endpoint(name),
            str(s.get("user", "")),
            str(s.get("password", "")),
            scheme=str(s.get("auth_scheme", "Basic")),
            expired_status=int(s.get("expired_status", 401)),
        )

    @property
    def can_remove_blacklist(self) -> bool:
        return "blacklist_remove" in self.config.endpoints

    def auth_headers(self) -> Mapping[str, str]:
        return {}  # the session token is sent per call

    def error_message(self, resp: httpx.Response) -> str:
        text = resp.text.strip()
        return text[:300] if text else "(empty body)"

    def close(self) -> None:
        try:
            self.session.end()
        finally:
            super().close()

    # -- scope and reads -------------------------------------------------------------
    def resolve_scope(self, coll: Collection) -> str | None:
        return coll.scope  # names are the vendor's ids (a campaign, a dialer, a channel)

    def readable(self, coll: Collection) -> bool:
        return coll.kind == BLACKLIST and isinstance(coll.options.get("observe"), Mapping)

    def read(self, coll: Collection, scope_id: str | None) -> ReadResult:
        """The live blacklist through FormGet: rows of this channel and campaign."""
        observe: Mapping[str, Any] = coll.options.get("observe") or {}  # type: ignore[assignment]
        query = str(observe.get("query") or DEFAULT_QUERY)
        body = self.session.call(
            "form_get",
            {"query": query, "dsn": str(observe.get("dsn"))},
            address=coll.prefix,
            idempotent=True,
        )
        try:
            rows = json.loads(body)
        except ValueError:
            rows = None
        if not isinstance(rows, list):
            raise ProviderError(
                f"FormGet answered {body[:40]!r} to the observe query of {coll.origin} "
                f"(dsn {observe.get('dsn')!r}): check the query and dsn",
                address=coll.prefix,
            )
        channel, campaign = coll.scope_ref.get("value"), coll.scope_ref.get("campaign") or ""
        by_form = {self._norm(channel, d.key): d.key for d in coll.items}
        records: dict[str, Live] = {}
        for row in rows:
            if not isinstance(row, Mapping) or row.get("value") in (None, ""):
                continue
            if "channel" in row and row["channel"] not in (None, "", channel):
                continue
            if "campaign" in row and str(row["campaign"] or "") != campaign:
                continue
            value = str(row["value"])
            key = by_form.get(self._norm(channel, value), value)
            records[key] = Live(key, value, NO_FIELDS)  # a second copy of an entry is harmless
        return ReadResult(records)

    def _norm(self, channel: Any, value: str) -> str:
        if channel == "phone":
            return to_e164(value, self.region) or value
        return value.lower() if channel == "email" else value

    # -- planning rules --------------------------------------------------------------
    def check_plan(
        self, coll: Collection, live: ReadResult, changes: list[Change]
    ) -> list[Problem]:
        out = []
        for c in changes:
            if c.action is Action.UPDATE:
                out.append(Problem(c.address, "uContact cannot change an entry once uploaded or scheduled (it may be sent already): "
                                   "give the changed entry a new key to send it as a new one"))  # fmt: skip
            elif c.action is Action.CREATE and self.encoding != "utf-8":
                for f in c.fields:
                    if isinstance(f.after, str) and not _encodable(f.after, self.encoding):
                        out.append(Problem(c.address, f"{f.name}: {f.after!r} cannot be written in {self.encoding} (upload_encoding)"))  # fmt: skip
        return out

    def shape_plan(
        self, coll: Collection, changes: list[Change], state: Mapping[str, StateEntry]
    ) -> tuple[list[Change], list[str]]:
        out: list[Change] = []
        notes: list[str] = []
        now = vendor_now(self.config.settings).strftime(CALLDATE)
        for c in changes:
            if c.action is not Action.DELETE:
                out.append(c)
                continue
            if c.kind in (SMS, EMAIL) or (
                c.kind == SCHEDULED and str(_fields(state, c).get("calldate", "")) <= now
            ):
                what = "uploaded for sending" if c.kind != SCHEDULED else "due already"
                notes.append(f"{c.address}: no longer declared, but it was {what}; removing it cannot unsend it, "
                             "so it is only forgotten (nothing is sent)")  # fmt: skip
                out.append(_forget(c))
                continue
            out.append(c)
            if c.kind == BLACKLIST and self.can_remove_blacklist:
                notes.append(f"{c.address}: HIGH RISK: removing this blacklist entry makes it reachable again (sent to the configured removal endpoint)")  # fmt: skip
            else:
                notes.append(f"{c.address}: MANUAL STEP{' (HIGH RISK)' if c.kind == BLACKLIST else ''}: uContact offers no call to remove it; "
                             f"remove it in the uContact UI, then run: reconcile state confirm '{c.address}'. "
                             "It stays in state (and in every plan) until then")  # fmt: skip
        return out, notes

    def settle_hint(self, address: str) -> str:
        return (
            "uContact cannot be read, and sending it again could message the customer twice: check at the vendor, "
            f"then run: reconcile state confirm '{address}' (it arrived) or reconcile state rm '{address}' (send it again)"
        )

    # -- writes ----------------------------------------------------------------------
    def batch_size(self, change: Change) -> int | None:
        if change.action is Action.CREATE and change.kind in UPLOADS:
            return self.size
        if (
            change.action is Action.DELETE
            and change.kind == BLACKLIST
            and self.can_remove_blacklist
        ):
            return self.size
        return None

    def write(self, change: Change, scope_id: str | None) -> str | None:
        if change.action is Action.CREATE and change.kind == SCHEDULED:
            f = change.after or {}
            sms = {"calldate": f["calldate"], "campaign": change.scope,
                   "destination": self._number(str(f["destination"])), "data": f["text"]}  # fmt: skip
            body = self.session.call(
                "schedule_sms", {"sms": json.dumps(sms, ensure_ascii=False)}, address=change.address
            )
            _expect_one(body, change.address)
            return None
        if change.action is Action.DELETE:
            raise ProviderError("uContact offers no call to remove this entry: remove it in the uContact UI, "
                                f"then run: reconcile state confirm '{change.address}'", address=change.address)  # fmt: skip
        raise ProviderError(
            f"uContact cannot {change.action.value} a {change.kind} entry", address=change.address
        )

    def write_batch(self, changes: list[Change], scope_id: str | None) -> list[BatchOutcome]:
        first = changes[0]
        if first.kind == BLACKLIST:
            lines, form = self._blacklist_csv(changes)
            call = "blacklist_remove" if first.action is Action.DELETE else "blacklist_upload"
        elif first.kind == SMS:
            lines = [self._sms_line(c) for c in changes]
            form, call = {"campaign": first.scope}, "sms_upload"
        else:
            lines = [self._email_line(c) for c in changes]
            form = {
                "channel": "email",
                "dialer": first.scope,
                "cant": str(len(lines)),
                "user": self.session.user,
            }
            call = "email_upload"
        csv = "\n".join(lines).encode(self.encoding)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        form = {"filename": f"reconcile-{first.kind.split('/')[1]}-{stamp}-{next(_names)}.csv",
                "fileb64": base64.b64encode(csv).decode("ascii"), **form}  # fmt: skip
        where = f"{first.address.rsplit('/', 1)[0]} ({len(changes)} entries)"
        body = self.session.call(call, form, address=where)
        _expect_one(body, where)
        return [BatchOutcome("ok") for _ in changes]

    # -- CSV lines ---------------------------------------------------------------------
    def _number(self, value: str) -> str:
        return to_e164(value, self.region) or value

    def _blacklist_csv(self, changes: list[Change]) -> tuple[list[str], dict[str, str]]:
        channel, _, campaign = changes[0].scope.partition("@")
        cells = {"channel": channel, "campaign": campaign, "ignore": ""}
        lines = []
        for c in changes:
            value = self._number(c.key) if channel == "phone" else c.key
            lines.append(";".join(value if col == "value" else cells[col] for col in self.columns))
        form = {k: cells[k] for k in ("channel", "campaign") if k not in self.columns}
        return lines, form

    def _sms_line(self, c: Change) -> str:
        f = c.after or {}
        return ";".join(
            [
                c.scope,
                self._number(str(f["destination"])),
                str(f["text"]),
                str(f.get("priority", 9999)),
            ]
        )

    def _email_line(self, c: Change) -> str:
        f = c.after or {}
        variables = ",".join(f'"{k}":"{v}"' for k, v in (f.get("variables") or {}).items())
        return ";".join([c.scope, str(f["email"]), str(f["body"]), str(f.get("subject") or ""), variables,
                         str(f.get("priority", 9999))])  # fmt: skip


def _expect_one(body: str, where: str) -> None:
    if body != "1":
        raise ProviderError(
            f"uContact answered {body[:80]!r} instead of 1: not accepted", address=where
        )


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _fields(state: Mapping[str, StateEntry], c: Change) -> Mapping[str, Any]:
    e = state.get(c.key)
    return e.fields if e is not None else {}


def _forget(c: Change) -> Change:
    return Change(c.address, Action.FORGET, c.provider, c.kind, c.scope, c.key, c.remote_id,
                  origin=c.origin, collection=c.collection)  # fmt: skip
