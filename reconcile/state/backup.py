"""`reconcile state pull` and `state push`: the whole state as one versioned JSON document.

For a vendor that cannot be read, state is the only copy of which contacts exist
there and of their ids: a backup of it is worth keeping. The document holds
records and collections, never credentials (state holds none).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from reconcile.errors import UsageError
from reconcile.model import StateEntry, Status
from reconcile.state.base import KnownCollection, StateStore

FORMAT = "reconcile-state"
FORMAT_VERSION = 1


def pull(store: StateStore) -> dict[str, Any]:
    lineage, serial = store.lineage_serial()
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "lineage": lineage,
        "serial": serial,
        "pulled_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "resources": [
            {
                "address": e.address, "provider": e.provider, "kind": e.kind, "scope": e.scope,
                "key": e.key, "remote_id": e.remote_id, "fields": dict(e.fields),
                "status": e.status.value, "collection": e.collection,
            }
            for e in store.entries().values()
        ],
        "collections": [
            {
                "identity": c.identity, "provider": c.provider, "kind": c.kind, "scope": c.scope,
                "scope_id": c.scope_id, "scope_ref": dict(c.scope_ref), "prune": c.prune,
                "prevent_destroy": c.prevent_destroy, "origin": c.origin,
            }
            for c in store.known_collections()
            if c.recorded
        ],
    }  # fmt: skip


def push(store: StateStore, doc: Any, source: str, *, force: bool) -> tuple[int, list[str]]:
    """Restore `doc` into `store`; returns the number of records and notes. Refuses a
    document it does not understand, and, without `force`, one that would replace
    records of another lineage or a newer serial of the same one."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise UsageError(
            f"{source}: not a reconcile state document (made by `reconcile state pull`)"
        )
    if doc.get("format_version") != FORMAT_VERSION:
        raise UsageError(
            f"{source}: state document version {doc.get('format_version')!r}; this reconcile reads version {FORMAT_VERSION}"
        )
    try:
        entries = [
            StateEntry(
                r["address"], r["provider"], r["kind"], r["scope"], r["key"], r["remote_id"],
                dict(r["fields"]), Status(r["status"]), r.get("collection", ""),
            )
            for r in doc["resources"]
        ]  # fmt: skip
        collections = [
            KnownCollection(
                c["identity"], c["provider"], c["kind"], c["scope"], c["scope_id"],
                dict(c["scope_ref"]), c["prune"], bool(c["prevent_destroy"]), c["origin"],
            )
            for c in doc["collections"]
        ]  # fmt: skip
        lineage, serial = str(doc["lineage"]), int(doc["serial"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{source}: a record is incomplete or malformed ({exc!r})") from exc
    notes: list[str] = []
    here_lineage, here_serial = store.lineage_serial()
    held = store.entries()
    if held and lineage != here_lineage:
        if not force:
            raise UsageError(
                f"this state holds {len(held)} record(s) of another lineage ({here_lineage}; the backup is {lineage}): "
                "pushing would replace them. Push into an empty state, or pass --force if you mean to replace them"
            )
        notes.append(f"replaced {len(held)} record(s) of lineage {here_lineage} (--force)")
    elif held and serial < here_serial:
        if not force:
            raise UsageError(
                f"the backup is older (serial {serial}) than this state (serial {here_serial}): pushing would lose "
                "later writes. Pass --force if you mean to go back"
            )
        notes.append(f"went back from serial {here_serial} to {serial} (--force)")
    # The serial only grows, so plans made against either store are refused as stale.
    store.restore(entries, collections, lineage, max(serial, here_serial) + 1)
    return len(entries), notes
