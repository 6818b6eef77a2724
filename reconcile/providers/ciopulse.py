"""CIOPulse Contacts API v5: PUT upsert by our system_id, DELETE, GET all.

Assumptions (README, table of vendor assumptions): the GET body shape is
undocumented, so the parser accepts the wrapped `{"contacts": [{"contact":
{...}}]}` form, a flat list, or `{"contacts": [{...}]}`, with keys in any
case (`First_Name`, `first_name`); a refused delete (support-group lead)
answers 4xx and is reported, not retried.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import httpx

from reconcile.errors import NotFoundError, Problem, ProviderError
from reconcile.http import json_message
from reconcile.kinds.ciopulse import FIELDS, REQUIRED_ON_CREATE
from reconcile.model import Action, Change, Collection, Live
from reconcile.providers.base import Provider, ReadResult

_ID_KEYS = ("contact_system_id", "system_id", "systemid", "contactsystemid")
_FIELD_KEYS = {f: (f, f.replace("_", ""), "contact_" + f) for f in FIELDS}


class CiopulseProvider(Provider):
    type = "ciopulse"
    endpoint_defaults: ClassVar[Mapping[str, str]] = {
        "list": "GET /contacts",
        "get": "GET /contacts/{id}",
        "upsert": "PUT /contacts/{id}",
        "delete": "DELETE /contacts/{id}",
    }

    def auth_headers(self) -> Mapping[str, str]:
        s = self.config.settings
        raw = f"{s['portal_code']}:{s['api_key']}".encode()
        return {
            "Authorization": "Basic " + base64.b64encode(raw).decode(),
            "Accept": "application/json",
        }

    def error_message(self, resp: httpx.Response) -> str:
        return json_message(resp, "message", "error")

    # -- reads --------------------------------------------------------------------
    def read(self, coll: Collection, scope_id: str | None) -> ReadResult:
        method, path = self.endpoint("list")
        records: dict[str, Live] = {}
        for value in self.client.stream_items(method, path, _list_prefix, address=coll.prefix):
            for raw in _contacts(value) if not _is_entry(value) else [_unwrap(value)]:
                rec = _parse(raw)
                if rec is None:
                    raise ProviderError(
                        f"{self.config.name}: {method} {path} answered a record without a system id; "
                        "refusing to plan against a body reconcile does not understand",
                        address=coll.prefix,
                    )
                records[rec.key] = rec
        return ReadResult(records)

    def fetch_one(self, coll: Collection, scope_id: str | None, remote_id: str) -> Live | None:
        method, path = self.endpoint("get", id=remote_id)
        try:
            resp = self.client.request(
                method, path, address=coll.address(remote_id), idempotent=True, ok=(200,)
            )
        except NotFoundError:
            return None
        for raw in _contacts(resp.json()):
            rec = _parse(raw)
            if rec is not None and rec.key == remote_id:
                return rec
        return None

    # -- writes -------------------------------------------------------------------
    def write(self, change: Change, scope_id: str | None) -> str | None:
        if change.action is Action.DELETE:
            method, path = self.endpoint("delete", id=change.key)
            try:
                self.client.request(
                    method, path, address=change.address, idempotent=True, ok=(200, 202, 204)
                )
            except NotFoundError:
                pass  # already gone: the goal is met
            return change.key
        if change.action in (Action.CREATE, Action.UPDATE, Action.ADOPT):
            if change.action is Action.CREATE:
                body = {k: v for k, v in (change.after or {}).items() if k in _FIELD_KEYS}
            else:
                body = {f.name: f.after for f in change.fields}
            if not body:
                return change.key
            raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            if b"\\" in raw:
                # Validation stops these first; never send what the vendor is known to refuse.
                raise ProviderError(
                    "a value needs a JSON escape, which CIOPulse rejects", address=change.address
                )
            method, path = self.endpoint("upsert", id=change.key)
            self.client.request(
                method, path, address=change.address, idempotent=True, ok=(200, 201),
                content=raw, headers={"Content-Type": "application/json; charset=utf-8"},
            )  # fmt: skip
            return change.key
        raise ProviderError(
            f"CIOPulse contacts have no {change.action.value} action", address=change.address
        )

    # -- checks -------------------------------------------------------------------
    def check_plan(
        self, coll: Collection, live: ReadResult, changes: list[Change]
    ) -> list[Problem]:
        problems: list[Problem] = []
        final: dict[str, str] = {}  # e-mail (folded) -> key, as the vendor will hold them
        for key, rec in live.records.items():
            e = rec.fields.get("email")
            if isinstance(e, str):
                final[e.lower()] = key
        moving: dict[str, str | None] = {}
        for c in changes:
            if c.action is Action.DELETE:
                moving[c.key] = None
            elif c.action in (Action.CREATE, Action.UPDATE, Action.ADOPT):
                for f in c.fields:
                    if f.name == "email":
                        moving[c.key] = f.after
        for key in moving:
            old = live.records.get(key)
            old_email = old.fields.get("email") if old else None
            if isinstance(old_email, str) and final.get(old_email.lower()) == key:
                del final[old_email.lower()]
        for c in changes:
            if c.action is Action.CREATE:
                after = c.after or {}
                missing = [f for f in REQUIRED_ON_CREATE if not after.get(f)]
                if missing:
                    problems.append(
                        Problem(
                            c.address,
                            f"{', '.join(missing)} must be declared to create a CIOPulse contact (declared at {c.origin})",
                        )
                    )
        for key, email in moving.items():
            if not isinstance(email, str):
                continue
            holder = final.get(email.lower())
            if holder is not None and holder != key:
                problems.append(
                    Problem(
                        coll.address(key),
                        f"email {email!r} is already used by {coll.address(holder)} at the vendor; CIOPulse would answer 422",
                    )
                )
            else:
                final[email.lower()] = key
        return problems


_LIST_KEYS = ("contacts", "data", "records", "items", "results")
_HEAD = re.compile(rb'^\s*\{\s*"([A-Za-z_]+)"\s*:\s*\[')


def _list_prefix(head: bytes) -> str:
    """Where the contacts are in a GET body, from its first bytes: stream them when the
    shape is one we know, else parse the whole document (""), tolerantly."""
    stripped = head.lstrip()
    if stripped.startswith(b"["):
        return "item"
    m = _HEAD.match(head)
    if m and m.group(1).decode().lower() in _LIST_KEYS:
        return m.group(1).decode() + ".item"
    return ""


def _is_entry(value: Any) -> bool:
    return isinstance(value, Mapping) and not any(
        isinstance(value.get(k), list) for k in _LIST_KEYS
    )


def _unwrap(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = entry.get("contact") or entry.get("Contact")
    return inner if isinstance(inner, Mapping) else entry


def _contacts(body: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(body, Mapping):
        for k in _LIST_KEYS:
            if isinstance(body.get(k), list):
                body = body[k]
                break
        else:
            body = [body]
    if not isinstance(body, list):
        return
    for entry in body:
        if isinstance(entry, Mapping):
            yield _unwrap(entry)


def _parse(raw: Mapping[str, Any]) -> Live | None:
    folded = {k.lower(): v for k, v in raw.items()}
    key = next((folded[k] for k in _ID_KEYS if folded.get(k) not in (None, "")), None)
    if key is None:
        return None
    fields: dict[str, Any] = {}
    for name, aliases in _FIELD_KEYS.items():
        for a in aliases:
            if a in folded:
                v = folded[a]
                fields[name] = None if v == "" else v
                break
    return Live(key=str(key), remote_id=str(key), fields=fields)
