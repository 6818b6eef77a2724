"""jtel Dialler REST API: contacts of one campaign, keyed by our UserData.

Calls the vendor documents: list per campaign, get by id, import (with
`overwriteDuplicates=true`, so a retry matches on UserData and never doubles),
delete by id, campaigns list. Calls it does not publish (update, lock, unlock,
reset, history) use the most plausible URL and can each be overridden with
`endpoints:` in reconcile.yaml; see the README's table of vendor assumptions.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from reconcile.config import ProviderConfig
from reconcile.errors import ManifestError, NotFoundError, Problem, ProviderError
from reconcile.http import json_message
from reconcile.kinds.jtel import WRITABLE
from reconcile.model import Action, Change, Collection, Live
from reconcile.providers.base import Provider, ReadResult

_WRITABLE = frozenset(WRITABLE)
LOCK_FIELD = "bLocked"  # assumption: how a contact's lock shows in list/get answers


class JtelProvider(Provider):
    type = "jtel"
    endpoint_defaults: ClassVar[Mapping[str, str]] = {
        "campaigns": "GET /dialler/campaigns",
        "list": "GET /dialler/contacts?diallerCampaignsID={campaign}",
        "get": "GET /dialler/contacts/{id}",
        "import": "POST /dialler/contacts/import?overwriteDuplicates=true",
        "update": "PUT /dialler/contacts/contact/{id}",
        "delete": "DELETE /dialler/contacts/contact/{id}",
        "lock": "GET /dialler/contacts/contact/{id}/lock",
        "unlock": "GET /dialler/contacts/contact/{id}/unlock",
        "reset": "GET /dialler/contacts/contact/{id}/reset",
        "history": "GET /dialler/contacts/contact/{id}/history",
    }

    def __init__(
        self, config: ProviderConfig, transport: httpx.BaseTransport | None = None
    ) -> None:
        client_id = str(config.settings.get("client_id", "")).strip("/")
        super().__init__(dataclasses.replace(config, url=f"{config.url}/{client_id}"), transport)
        self._campaigns: list[Mapping[str, Any]] | None = None
        self._campaigns_lock = threading.Lock()

    def auth_headers(self) -> Mapping[str, str]:
        return {
            "Authorization": f"Bearer {self.config.settings['token']}",
            "Accept": "application/json",
        }

    def error_message(self, resp: httpx.Response) -> str:
        if resp.status_code == 404 and not resp.content.strip():
            return "empty 404: this jtel server has no such endpoint (override the call under `endpoints:` in reconcile.yaml)"
        return json_message(resp, "error", "message")

    # -- scope ----------------------------------------------------------------------
    def campaigns(self) -> list[Mapping[str, Any]]:
        with self._campaigns_lock:
            if self._campaigns is None:
                method, path = self.endpoint("campaigns")
                resp = self.client.request(
                    method,
                    path,
                    address=f"{self.config.name}/campaigns",
                    idempotent=True,
                    ok=(200,),
                )
                records = resp.json().get("records") or []
                self._campaigns = [r for r in records if isinstance(r, Mapping)]
            return self._campaigns

    def resolve_scope(self, coll: Collection) -> str | None:
        ref = coll.scope_ref
        camps = self.campaigns()
        if "id" in ref:
            match = [
                c for c in camps if str(c.get("DiallerCampaignsID", c.get("ID"))) == str(ref["id"])
            ]
        else:
            match = [c for c in camps if c.get("Name") == ref.get("name")]
        if len(match) == 1:
            return str(match[0].get("DiallerCampaignsID", match[0].get("ID")))
        known = ", ".join(
            f"{c.get('DiallerCampaignsID', c.get('ID'))} {c.get('Name')!r}" for c in camps[:20]
        )
        what = f"id {ref['id']}" if "id" in ref else f"name {ref.get('name')!r}"
        if not match:
            raise ManifestError(
                [
                    Problem(
                        coll.scope_origin or coll.origin,
                        f"campaign: no jtel campaign with {what} at provider {coll.provider} (campaigns: {known or 'none'})",
                    )
                ]
            )
        raise ManifestError(
            [
                Problem(
                    coll.scope_origin or coll.origin,
                    f"campaign: {len(match)} jtel campaigns have {what}; use campaign: {{id: N}}",
                )
            ]
        )

    # -- reads ----------------------------------------------------------------------
    def read(self, coll: Collection, scope_id: str | None) -> ReadResult:
        method, path = self.endpoint("list", campaign=scope_id)
        records: dict[str, Live] = {}
        duplicates: dict[str, list[Live]] = {}
        for raw in self.client.stream_items(method, path, "records.item", address=coll.prefix):
            rec = _parse(raw)
            if rec is None:
                continue  # no UserData: not addressable, so never ours
            if rec.key in records or rec.key in duplicates:
                first = records.pop(rec.key, None)
                duplicates.setdefault(rec.key, [first] if first else []).append(rec)
            else:
                records[rec.key] = rec
        return ReadResult(records, duplicates)

    def fetch_one(self, coll: Collection, scope_id: str | None, remote_id: str) -> Live | None:
        method, path = self.endpoint("get", id=remote_id)
        try:
            resp = self.client.request(
                method, path, address=coll.prefix, idempotent=True, ok=(200,)
            )
        except NotFoundError:
            return None
        for raw in resp.json().get("records") or []:
            if scope_id is not None and str(raw.get("DiallerCampaignsID")) != str(scope_id):
                raise ProviderError(
                    f"jtel contact {remote_id} belongs to campaign {raw.get('DiallerCampaignsID')}, not {scope_id}",
                    address=coll.prefix,
                )
            return _parse(raw)
        return None

    def history(self, change_like: Live, scope_id: str | None) -> list[dict[str, Any]]:
        method, path = self.endpoint("history", id=change_like.remote_id)
        resp = self.client.request(method, path, idempotent=True, ok=(200,))
        body = resp.json()
        rows = body.get("records", body) if isinstance(body, Mapping) else body
        return [dict(r) for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []

    # -- writes ---------------------------------------------------------------------
    def write(self, change: Change, scope_id: str | None) -> str | None:
        a = change.action
        if a is Action.CREATE:
            body: dict[str, Any] = {
                "DiallerCampaignsID": int(scope_id)
                if scope_id and scope_id.isdigit()
                else scope_id,
                "UserData": change.key,
            }
            body.update({k: v for k, v in (change.after or {}).items() if k in _WRITABLE})
            method, path = self.endpoint("import")
            safe = "overwriteDuplicates=true" in path  # matches on UserData: a retry cannot double
            resp = self.client.request(
                method, path, address=change.address, idempotent=safe, ok=(200, 201), json_body=body
            )
            return _first_id(resp) or change.remote_id
        if change.remote_id is None:
            raise ProviderError(
                f"no jtel contact id known for this {a.value}", address=change.address
            )
        if a in (Action.UPDATE, Action.ADOPT):
            body = {f.name: f.after for f in change.fields if f.name in _WRITABLE}
            if body:
                method, path = self.endpoint("update", id=change.remote_id)
                self.client.request(
                    method,
                    path,
                    address=change.address,
                    idempotent=True,
                    ok=(200, 201, 204),
                    json_body=body,
                )
            return change.remote_id
        if a is Action.DELETE:
            method, path = self.endpoint("delete", id=change.remote_id)
            try:
                self.client.request(
                    method, path, address=change.address, idempotent=True, ok=(200, 202, 204)
                )
            except NotFoundError:
                pass  # already gone
            return change.remote_id
        if a in (Action.LOCK, Action.UNLOCK, Action.RESET):
            method, path = self.endpoint(a.value, id=change.remote_id)
            self.client.request(
                method, path, address=change.address, idempotent=True, ok=(200, 204)
            )
            return change.remote_id
        raise ProviderError(
            f"jtel dialler contacts have no {a.value} action", address=change.address
        )


def _first_id(resp: httpx.Response) -> str | None:
    try:
        records = resp.json().get("records") or []
    except (ValueError, AttributeError):
        return None
    for r in records:
        if isinstance(r, Mapping) and r.get("ID") is not None:
            return str(r["ID"])
    return None


def _parse(raw: Mapping[str, Any]) -> Live | None:
    key = raw.get("UserData")
    if key in (None, ""):
        return None
    # Empty fields are left out (a missing field compares as null): a jtel record carries
    # ~40 writable fields, mostly empty, and a campaign can hold tens of thousands.
    fields: dict[str, Any] = {
        k: v for k, v in raw.items() if v is not None and k in _WRITABLE and k != "UserData"
    }
    fields["locked"] = bool(raw.get(LOCK_FIELD))
    rid = raw.get("ID", raw.get("DiallerContactsID"))
    return Live(key=str(key), remote_id=str(rid), fields=fields)
