"""How records are stored in SQL rows: fields as compact JSON text, decoded lazily.

Fields are written in their own order, as a declared item's text is (`Desired.text`): a
record applied from an item and not changed since holds the same text as the item, and a
plan keeps one copy of it (`share_texts`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from reconcile.model import JSON, Desired, StateEntry, Status, compact_json, decode_fields


class JsonFields(Mapping[str, JSON]):
    """A state entry's fields, decoded from their JSON text on first use.

    A no-op plan of 100,000 records reads every entry but looks inside few of
    them; keeping the text until then saves most of the memory."""

    __slots__ = ("_raw", "_value")

    def __init__(self, raw: str) -> None:
        self._raw = raw
        self._value: dict[str, JSON] | None = None

    def _decoded(self) -> dict[str, JSON]:
        if self._value is None:
            self._value = decode_fields(self._raw)
        return self._value

    def peek(self) -> Mapping[str, JSON]:
        """The decoded fields for one look, not kept: a drift check of 100,000 unchanged
        records compares each once and must not hold 100,000 decoded copies after."""
        return self._value if self._value is not None else decode_fields(self._raw)

    @property
    def text(self) -> str:
        return self._raw

    def share(self, text: str) -> None:
        """Hold `text` instead of an equal copy of it (see `share_texts`)."""
        if self._raw == text:
            self._raw = text

    def __getitem__(self, key: str) -> JSON:
        return self._decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __repr__(self) -> str:
        return repr(self._decoded())


COLUMNS = "address, provider, kind, scope, key, remote_id, fields, status, collection"


STATUS = {s.value: s for s in Status}


def entry_from_row(row: tuple[Any, ...], shared: dict[str, str] | None = None) -> StateEntry:
    """`shared`, when given, keeps one copy of the texts many rows repeat (provider, kind,
    scope, collection): 100,000 rows of one collection then hold them once, not 100,000 times."""
    address, provider, kind, scope, key, remote_id, fields, status, collection = row
    if shared is not None:
        provider = shared.setdefault(provider, provider)
        kind = shared.setdefault(kind, kind)
        scope = shared.setdefault(scope, scope)
        collection = shared.setdefault(collection, collection) if collection else collection
    return StateEntry(
        address=address,
        provider=provider,
        kind=kind,
        scope=scope,
        key=key,
        remote_id=key if remote_id == key else remote_id,  # most vendors' ids are our keys
        fields=JsonFields(fields),
        status=STATUS.get(status) or Status(status),
        collection=collection or "",
    )


def dumps(value: Mapping[str, JSON] | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, JsonFields):
        return value.text  # stored as read (rows of earlier releases have sorted names)
    return compact_json(value)


def share_texts(items: Iterable[Desired], entries: Mapping[str, StateEntry]) -> None:
    """Let each state entry whose fields' text equals its declared item's hold the item's
    text, so that a plan keeps one copy (16 MB of 100,000 contacts). Texts are compared
    only where the item keeps one (read from the cache of checked manifests)."""
    for d in items:
        text = d.kept_text
        if text is None:
            continue
        e = entries.get(d.key)
        if e is not None and type(e.fields) is JsonFields:
            e.fields.share(text)


def entry_json(e: StateEntry | None) -> str | None:
    if e is None:
        return None
    return json.dumps(
        {"address": e.address, "provider": e.provider, "kind": e.kind, "scope": e.scope, "key": e.key,
         "remote_id": e.remote_id, "fields": dict(e.fields), "status": e.status.value,
         "collection": e.collection},
        ensure_ascii=False,
    )  # fmt: skip


def entry_from_json(raw: str) -> StateEntry:
    d = json.loads(raw)
    return StateEntry(
        d["address"],
        d["provider"],
        d["kind"],
        d["scope"],
        d["key"],
        d["remote_id"],
        d["fields"],
        Status(d["status"]),
        d.get("collection", ""),
    )
