"""CIOPulse Contacts API v5: PUT upsert by our system_id, DELETE, GET all.

Assumptions (README, table of vendor assumptions): the GET body shape is
undocumented, so by default (`read_shape: auto`) the parser accepts the wrapped
`{"contacts": [{"contact": {...}}]}` form, a flat list, `{"contacts": [{...}]}`
or `{"data": [...]}`, with keys in any case (`First_Name`, `first_name`);
`read_shape` and `read_fields` pin them. A contact made in the Portal has no
system id: it is counted and skipped. A delete the vendor would refuse (the
contact leads or is alerted by a support group) fails the plan, from the
documented support-group read; a refusal anyway (400, 409 or 422) is reported.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import httpx

from reconcile.config import ProviderConfig
from reconcile.errors import NotFoundError, Problem, ProviderError
from reconcile.http import json_message
from reconcile.kinds.ciopulse import FIELDS, REQUIRED_ON_CREATE
from reconcile.matching import matcher
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
        "support_groups": "GET /support-groups",
    }
    _SHAPES: ClassVar[Mapping[str, str]] = {
        "wrapped": "contacts.item", "flat": "contacts.item", "list": "item", "data": "data.item",
    }  # fmt: skip

    def __init__(
        self, config: ProviderConfig, transport: httpx.BaseTransport | None = None
    ) -> None:
        super().__init__(config, transport)
        self.shape = str(config.settings.get("read_shape", "auto"))
        self._layouts: dict[
            tuple[str, ...], tuple[tuple[str, ...], tuple[tuple[str, str], ...]]
        ] = {}
        names = dict(config.settings.get("read_fields") or {})
        # our field -> the vendor keys it may come under, folded (exact names given win)
        self.keys: dict[str, tuple[str, ...]] = {
            "system_id": (names["system_id"].lower(),) if "system_id" in names else _ID_KEYS,
            **{
                f: (names[f].lower(),) if f in names else aliases
                for f, aliases in _FIELD_KEYS.items()
            },
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
        portal = 0
        prefix = self._SHAPES.get(self.shape, _list_prefix)
        match = matcher(coll)
        for value in self.client.stream_items(method, path, prefix, address=coll.prefix):
            for raw in _contacts(value) if not _is_entry(value) else [_unwrap(value)]:
                rec = self._parse(raw)
                if rec is None and not self._is_contact(raw):
                    raise ProviderError(
                        f"{self.config.name}: {method} {path} answered a record that is not a contact; "
                        "refusing to plan against a body reconcile does not understand (see read_shape, read_fields)",
                        address=coll.prefix,
                    )
                if rec is None:
                    portal += 1  # made in the Portal: no system id, so never addressable here
                    continue
                rec = match(rec)
                records[rec.key] = rec  # the declared key: one copy of the text
        warnings = []
        if portal:
            warnings.append(
                f"{portal} live contact(s) have no system id (made in the CIOPulse Portal): "
                "skipped, never compared or deleted; give them a system id to manage them"
            )
        return ReadResult(records, warnings=tuple(warnings))

    def fetch_one(self, coll: Collection, scope_id: str | None, remote_id: str) -> Live | None:
        method, path = self.endpoint("get", id=remote_id)
        try:
            resp = self.client.request(
                method, path, address=coll.address(remote_id), idempotent=True, ok=(200,)
            )
        except NotFoundError:
            return None
        for raw in _contacts(resp.json()):
            rec = self._parse(raw)
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
        moving: dict[str, str | None] = {}
        for c in changes:
            if c.action is Action.DELETE:
                moving[c.key] = None
            elif c.action in (Action.CREATE, Action.UPDATE, Action.ADOPT):
                for f in c.fields:
                    if f.name == "email":
                        moving[c.key] = f.after
        final: dict[str, str] = {}  # e-mail (folded) -> key, as the vendor will hold them
        for key, rec in live.records.items() if moving else ():
            e = rec.fields.get("email")
            if isinstance(e, str):
                final[e.lower()] = key
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
        problems += self._support_group_refusals(coll, live, changes)
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

    def _support_group_refusals(
        self, coll: Collection, live: ReadResult, changes: list[Change]
    ) -> list[Problem]:
        """CIOPulse refuses to delete a support group's lead or also-alert contact: such
        deletes fail the plan, naming the group, before anything is sent."""
        deleting = {c.key: c for c in changes if c.action is Action.DELETE}
        if not deleting:
            return []
        by_email = {
            str(r.fields["email"]).lower(): k
            for k, r in live.records.items()
            if isinstance(r.fields.get("email"), str)
        }
        method, path = self.endpoint("support_groups")
        resp = self.client.request(method, path, address=coll.prefix, idempotent=True, ok=(200,))
        problems = []
        for group in _groups(resp.json()):
            name = next(
                (
                    group[k]
                    for k in ("support_group_name", "name", "support_group_system_id", "system_id")
                    if group.get(k)
                ),
                "?",
            )
            for role, sid, email in _members(group):
                key = str(sid) if str(sid) in deleting else by_email.get(str(email or "").lower())
                if key in deleting:
                    problems.append(
                        Problem(
                            coll.address(key),
                            f"cannot be deleted: it is the {role} of CIOPulse support group {name!r}; "
                            "change the group in CIOPulse first, or keep the contact declared",
                        )
                    )
        return problems

    def _is_contact(self, raw: Mapping[str, Any]) -> bool:
        """A record with a contact's mandatory fields (a Portal contact has no system id)."""
        folded = {k.lower() for k in raw}
        return any(a in folded for f in REQUIRED_ON_CREATE for a in self.keys[f])

    def _layout(
        self, names: tuple[str, ...]
    ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """For a record with these keys: the keys that may hold its system id, in order, and
        (its key, our field) for each field it has. A 100,000-record body has one or a few
        distinct key lists: the case-folding and alias lookups run once per list, not per record."""
        layout = self._layouts.get(names)
        if layout is None:
            by_folded = {
                k.lower(): k for k in names
            }  # the last of two spellings wins, as in a dict
            ids = tuple(by_folded[a] for a in self.keys["system_id"] if a in by_folded)
            fields = []
            for name in FIELDS:
                for a in self.keys[name]:
                    if a in by_folded:
                        fields.append((by_folded[a], name))
                        break
            layout = self._layouts[names] = (ids, tuple(fields))
        return layout

    def _parse(self, raw: Mapping[str, Any]) -> Live | None:
        ids, layout = self._layout(tuple(raw))
        for k in ids:  # the first id key with a value (a loop: read once per live record)
            key = raw[k]
            if key is not None and key != "":
                break
        else:
            return None
        fields = {name: None if (v := raw[k]) == "" else v for k, name in layout}
        key = key if type(key) is str else str(key)
        return Live(key, key, fields)


def _groups(body: Any) -> Iterable[Mapping[str, Any]]:
    """Support groups from `{"support_groups": [{"support_group": {...}}]}` (the documented
    shape) or a flat variant, with keys folded to lower case."""
    rows = body.get("support_groups", body.get("data", [])) if isinstance(body, Mapping) else body
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, Mapping):
            inner = row.get("support_group") or row.get("Support_Group") or row
            if isinstance(inner, Mapping):
                yield {k.lower(): v for k, v in inner.items()}


def _members(group: Mapping[str, Any]) -> Iterable[tuple[str, str | None, str | None]]:
    yield "Support Lead", group.get("support_lead_system_id"), group.get("support_lead_email")
    for i in range(1, 7):
        yield (
            f"Also Alert {i}",
            group.get(f"also_alert_{i}_system_id"),
            group.get(f"also_alert_{i}_email"),
        )


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
    if not isinstance(value, Mapping):
        return False
    if value.keys().isdisjoint(_LIST_KEYS):
        return True  # the usual record: none of those keys at all, decided in C
    return not any(isinstance(value.get(k), list) for k in _LIST_KEYS)


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
