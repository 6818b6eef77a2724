"""jtel Dialler REST API: contacts of one campaign, keyed by our UserData.

Calls the vendor documents: list per campaign, get by id, import (with
`overwriteDuplicates=true`, so a retry matches on UserData and never doubles),
delete by id, campaigns list. Calls it does not publish (update, lock, unlock,
reset, history) use the most plausible URL and can each be overridden with
`endpoints:` in reconcile.yaml; see the README's table of vendor assumptions.

What a server may do otherwise is never trusted: a read keeps only records of
its own campaign (older releases ignore the filter), an empty 404 is a missing
endpoint and never "already gone", and no call is built without a contact id.
"""

from __future__ import annotations

import dataclasses
import operator
import threading
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import httpx
import msgspec

from reconcile.config import ProviderConfig
from reconcile.errors import ManifestError, NotFoundError, Problem, ProviderError
from reconcile.http import json_message
from reconcile.kinds.jtel import WRITABLE
from reconcile.matching import matcher
from reconcile.model import Action, Change, Collection, Live
from reconcile.providers.base import Provider, ReadResult

_WRITABLE = frozenset(WRITABLE)
_ID_KEYS = ("ID", "DiallerContactsID")
# A campaign comes whole in one body (no paging: ~1.7 KB a record, 45 MB for 26,000).
# Decoding it at once into typed records of only the fields we read is ~3x faster than
# streaming every field of every record into dicts, but holds the body: two at a time.
_WHOLE_BODIES = threading.BoundedSemaphore(2)


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
        s = config.settings
        # Settings for what the vendor leaves open (README, table of vendor assumptions).
        self.id_keys = _ID_KEYS if s.get("id_field", "auto") == "auto" else (s["id_field"],)
        self.lock_field = str(s.get("lock_field", "bLocked"))
        self.clear_value: Any = "" if s.get("clear_with", "null") == "empty" else None
        self._id_key_seen = self.id_keys[0]  # the id key reads carry: the one updates name
        self._found: dict[str | None, dict[str, str]] = {}  # scope -> UserData -> id, lookups
        self._found_lock = threading.Lock()
        # The fields a read looks at, in a fixed order; every other field is skipped by the
        # decoder. A field the body lacks decodes as UNSET (told apart from null).
        self._read_names = tuple(
            dict.fromkeys(
                ("UserData", "DiallerCampaignsID", self.lock_field, *self.id_keys, *WRITABLE)
            )
        )
        record: Any = msgspec.defstruct(
            "JtelRecord",
            [(f"f{i}", Any, msgspec.UNSET) for i in range(len(self._read_names))],
            rename={f"f{i}": name for i, name in enumerate(self._read_names)},
        )
        body = msgspec.defstruct(
            "JtelList", [("records", list.__class_getitem__(record) | None, msgspec.UNSET)]
        )
        self._list_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(body)
        at = {name: i for i, name in enumerate(self._read_names)}
        self._at_campaign, self._at_lock = at["DiallerCampaignsID"], at[self.lock_field]
        self._at_ids = tuple((k, at[k]) for k in self.id_keys)
        owned = tuple(k for k in WRITABLE if k != "UserData")
        self._owned_names, self._owned_at = owned, operator.itemgetter(*(at[k] for k in owned))

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
        foreign = unplaced = 0
        lock_shown = False
        match = matcher(coll)
        at_campaign, at_lock, unset = self._at_campaign, self._at_lock, msgspec.UNSET
        for values in self._list(method, path, coll.prefix):
            campaign = values[at_campaign]
            if campaign is None or campaign is unset:
                unplaced += 1
                continue
            if scope_id is not None and str(campaign) != str(scope_id):
                foreign += 1  # the server ignored the campaign filter: never ours here
                continue
            rec = self._parse(values)
            if rec is None:
                continue  # no UserData: not addressable, so never ours
            lock_shown = lock_shown or values[at_lock] is not unset
            rec = match(rec)
            if rec.key in records or rec.key in duplicates:
                first = records.pop(rec.key, None)
                duplicates.setdefault(rec.key, [first] if first else []).append(rec)
            else:
                records[rec.key] = rec
        warnings: list[str] = []
        if foreign:
            warnings.append(
                f"the list answered {foreign} record(s) of other campaigns (this jtel release ignores "
                "the campaign filter); they were left out: never compared, updated, locked or deleted"
            )
        if unplaced:
            warnings.append(
                f"the list answered {unplaced} record(s) without a DiallerCampaignsID; left out, "
                "since they cannot be shown to belong to this campaign"
            )
        unobservable: frozenset[str] = frozenset()
        if records and not lock_shown:
            unobservable = frozenset({"locked"})
            records = {k: _without_lock(r) for k, r in records.items()}
            warnings.append(
                f"this jtel server's reads carry no {self.lock_field!r} field, so lock state cannot be "
                "observed: locks are sent only when the declared value changes, and no lock drift is claimed"
            )
        return ReadResult(records, duplicates, tuple(warnings), unobservable)

    def _list(self, method: str, path: str, address: str) -> Iterator[tuple[Any, ...]]:
        """The records of a list body, each as the values of the fields a read looks at
        (`_read_names`; UNSET where the record lacks one); a record that is no object is
        skipped. A body without a `records` list is refused: read as empty, every record
        would look deleted."""
        with _WHOLE_BODIES:
            data = self.client.read_body(method, path, address=address)
            try:
                records = self._list_decoder.decode(data).records
                typed = True
            except msgspec.ValidationError:  # not the usual shape (a record that is no object)
                typed = False
                try:
                    whole = msgspec.json.decode(data)
                except msgspec.DecodeError as exc:
                    raise self._not_json(method, path, address, exc) from exc
                records = (
                    whole.get("records", msgspec.UNSET)
                    if isinstance(whole, dict)
                    else msgspec.UNSET
                )
            except msgspec.DecodeError as exc:
                raise self._not_json(method, path, address, exc) from exc
            del data
        if records is msgspec.UNSET or not isinstance(records, list | None):
            raise ProviderError(
                f"{self.config.name}: {method} {path}: the answer has no list of `records`; "
                "refused, since an empty read would make every record look deleted",
                address=address,
            )
        if not records:
            return
        if not typed:
            yield from (self._values(raw) for raw in records if isinstance(raw, Mapping))
            return
        astuple = msgspec.structs.astuple
        for i, rec in enumerate(records):
            records[i] = None  # each record is let go of once read
            yield astuple(rec)

    def _values(self, raw: Mapping[str, Any]) -> tuple[Any, ...]:
        unset = msgspec.UNSET
        return tuple(raw.get(name, unset) for name in self._read_names)

    def _not_json(self, method: str, path: str, address: str, exc: Exception) -> ProviderError:
        return ProviderError(
            f"{self.config.name}: {method} {path}: the body is not the JSON expected: {exc}",
            address=address,
        )

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
            return self._parse(self._values(raw)) if isinstance(raw, Mapping) else None
        return None

    def history(self, change_like: Live, scope_id: str | None) -> list[dict[str, Any]]:
        method, path = self.endpoint("history", id=change_like.remote_id)
        resp = self.client.request(method, path, idempotent=True, ok=(200,))
        body = resp.json()
        rows = body.get("records", body) if isinstance(body, Mapping) else body
        return [dict(r) for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []

    def _parse(self, values: tuple[Any, ...]) -> Live | None:
        """A live record from the values of `_read_names` (UNSET: the field is missing)."""
        key = values[0]  # UserData
        if key is None or key == "" or key is msgspec.UNSET:
            return None
        # Empty fields are left out (a missing field compares as null, and a field cleared
        # with "" reads back as ""): a jtel record carries ~40 writable fields, mostly empty.
        unset = msgspec.UNSET
        fields: dict[str, Any] = {
            k: v
            for k, v in zip(self._owned_names, self._owned_at(values), strict=True)
            if v is not None and v is not unset and v != ""
        }
        lock = values[self._at_lock]
        fields["locked"] = lock is not unset and bool(lock)
        return Live(key=str(key), remote_id=self._id_in(values) or "", fields=fields)

    def _id_in(self, values: tuple[Any, ...]) -> str | None:
        """The contact id of a record's values: the first id key it carries with a value."""
        unset = msgspec.UNSET
        for k, i in self._at_ids:
            v = values[i]
            if v is not None and v is not unset and v != "":
                self._id_key_seen = k
                return str(v)
        return None

    def _id_of(self, raw: Mapping[str, Any]) -> str | None:
        return self._id_in(self._values(raw))

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
            # An answer without the id (some releases): later calls look it up by UserData.
            return self._first_id(resp)
        remote_id = change.remote_id or None
        if a in (Action.UPDATE, Action.ADOPT):
            body = {
                f.name: self.clear_value if f.after is None else f.after
                for f in change.fields
                if f.name in _WRITABLE
            }
            if body:
                if remote_id is None and "{id}" in self._spec("update"):
                    remote_id = self._lookup(change, scope_id)
                # The vendor's page: an update names its contact by ID or UserData in the
                # body. Both are sent, so a body-identified `update` endpoint works too.
                body["UserData"] = change.key
                if remote_id is not None:
                    body[self._id_key_seen] = int(remote_id) if remote_id.isdigit() else remote_id
                method, path = self.endpoint("update", id=remote_id)
                self._act(change, method, path, (200, 201, 204), body)
            return remote_id
        if a in (Action.DELETE, Action.LOCK, Action.UNLOCK, Action.RESET):
            if remote_id is None:
                remote_id = self._lookup(change, scope_id, gone_ok=a is Action.DELETE)
                if remote_id is None:
                    return None  # a delete of a contact the campaign no longer holds
            method, path = self.endpoint(a.value, id=remote_id)
            ok = (200, 202, 204) if a is Action.DELETE else (200, 204)
            self._act(change, method, path, ok, None, gone_ok=a is Action.DELETE)
            return remote_id
        raise ProviderError(
            f"jtel dialler contacts have no {a.value} action", address=change.address
        )

    def _spec(self, name: str) -> str:
        return self.config.endpoints.get(name) or self.endpoint_defaults[name]

    def _act(
        self,
        change: Change,
        method: str,
        path: str,
        ok: tuple[int, ...],
        body: Any,
        *,
        gone_ok: bool = False,
    ) -> None:
        """One call on one contact. A 404 with a JSON body means the contact is missing
        (a delete's goal is met); an empty 404 means this server has no such endpoint."""
        resp = self.client.request(
            method, path, address=change.address, idempotent=True, ok=(*ok, 404), json_body=body
        )
        if resp.status_code != 404:
            return
        if not resp.content.strip():
            raise ProviderError(
                f"{self.config.name}: {method} {path} answered an empty 404: this jtel server has no such "
                f"endpoint; nothing changed (override `{change.action.value if change.action is not Action.ADOPT else 'update'}` "
                "under `endpoints:` in reconcile.yaml)",
                address=change.address,
                status=404,
            )
        if gone_ok:
            return
        raise NotFoundError(
            f"{self.config.name}: {method} {path} answered 404: {self.error_message(resp)} "
            "(the contact is no longer at the vendor)",
            address=change.address,
            status=404,
        )

    def _lookup(self, change: Change, scope_id: str | None, *, gone_ok: bool = False) -> str | None:
        """The id of the contact with this UserData in its campaign, from a list read (kept
        for the run, read again on a miss): for contacts whose create answer had no id."""
        with self._found_lock:
            found = self._found.get(scope_id, {})
            if change.key not in found:
                found = {}
                method, path = self.endpoint("list", campaign=scope_id)
                for raw in self.client.stream_items(
                    method, path, "records.item", address=change.address
                ):
                    if isinstance(raw, Mapping) and str(raw.get("DiallerCampaignsID")) == str(
                        scope_id
                    ):
                        rid = self._id_of(raw)
                        if raw.get("UserData") not in (None, "") and rid is not None:
                            found[str(raw["UserData"])] = rid
                self._found[scope_id] = found
            rid = found.get(change.key)
        if rid is None and not gone_ok:
            raise ProviderError(
                f"no jtel contact with UserData {change.key!r} in campaign {scope_id} to {change.action.value}",
                address=change.address,
            )
        return rid

    def _first_id(self, resp: httpx.Response) -> str | None:
        try:
            records = resp.json().get("records") or []
        except (ValueError, AttributeError):
            return None
        for r in records:
            if isinstance(r, Mapping):
                return self._id_of(r)
        return None


def _without_lock(rec: Live) -> Live:
    return Live(rec.key, rec.remote_id, {k: v for k, v in rec.fields.items() if k != "locked"})
