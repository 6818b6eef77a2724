"""`reconcile state migrate`: copy the whole state to another backend, and prove the copy.

Every table that matters (meta, records, collections, collection serials, the
journal) is copied row by row in one transaction of the target, then counted
and digested on both sides through separate connections: the copy is
reported done only when each table's row count and digest match. The digest
of a table is the sum (mod 2^256) of a SHA-256 of each row, so it does not
depend on the order the two databases return rows in (their collations
differ). A target that holds anything is refused: migrate never merges.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconcile.errors import StateError, UsageError
from reconcile.state.sql import SqlStore

# Each table with its columns; the first is the primary key. `locks` and `migrations`
# belong to one database and are not copied.
TABLES: dict[str, tuple[str, ...]] = {
    "meta": ("key", "value"),
    "resources": ("address", "provider", "kind", "scope", "key", "remote_id", "fields", "status",
                  "updated_at", "collection"),
    "collections": ("identity", "provider", "kind", "scope", "scope_id", "scope_ref", "prune",
                    "prevent_destroy", "origin", "updated_at"),
    "serials": ("collection", "serial"),
    "journal": ("id", "address", "action", "previous", "intended", "started_at", "finished_at",
                "outcome", "detail", "serial"),
}  # fmt: skip
BATCH = 5000


@dataclass(frozen=True)
class TableDigest:
    rows: int
    digest: str


def open_target(spec: str) -> SqlStore:
    """A PostgreSQL DSN (`postgresql://...` or `host=... dbname=...`), else a SQLite path."""
    if spec.startswith(("postgres://", "postgresql://")) or "dbname=" in spec or "host=" in spec:
        from reconcile.state.postgres import PostgresStore

        return PostgresStore(spec)
    from reconcile.state.sqlite import SqliteStore

    return SqliteStore(Path(spec))


def describe(spec: str) -> str:
    """The target as output may show it: a DSN can carry a password, a path cannot."""
    if spec.startswith(("postgres://", "postgresql://")) or "dbname=" in spec or "host=" in spec:
        return "the PostgreSQL database"
    return spec


def digests(store: SqlStore) -> dict[str, TableDigest]:
    out: dict[str, TableDigest] = {}
    for table, columns in TABLES.items():
        total, count = 0, 0
        for row in _rows(store, table, columns):
            raw = json.dumps([_plain(v) for v in row], ensure_ascii=False, separators=(",", ":"))
            total = (total + int.from_bytes(hashlib.sha256(raw.encode()).digest(), "big")) % 2**256
            count += 1
        out[table] = TableDigest(count, f"{total:064x}")
    return out


def occupied(store: SqlStore) -> list[str]:
    """What makes a store non-empty: records, collections, serials, journal, a serial > 0."""
    found = []
    with store._tx() as cur:
        for table in ("resources", "collections", "serials", "journal"):
            cur.execute(f"SELECT count(*) FROM {table}")
            n = int(cur.fetchone()[0])
            if n:
                found.append(f"{n} {table} row{'s' if n != 1 else ''}")
    if store.lineage_serial()[1]:
        found.append(f"serial {store.lineage_serial()[1]}")
    return found


def copy(source: SqlStore, target: SqlStore) -> None:
    """Copy every table in one transaction of the target (all or nothing)."""
    with target._tx() as cur:
        cur.execute("DELETE FROM meta")  # the fresh target's own lineage gives way to the source's
        for table, columns in TABLES.items():
            sql = target._q(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
            )
            batch: list[tuple[Any, ...]] = []
            for row in _rows(source, table, columns):
                batch.append(row)
                if len(batch) >= BATCH:
                    cur.executemany(sql, batch)
                    batch = []
            if batch:
                cur.executemany(sql, batch)
        target._after_copy(cur)


def migrate_state(source: SqlStore, target_spec: str) -> dict[str, TableDigest]:
    """Copy `source` into the empty store `target_spec` names and check it; the caller holds
    the source's whole-store lock. Returns the digests both sides agree on."""
    target = open_target(target_spec)
    try:
        with target.lock("state migrate"):
            held = occupied(target)
            if held:
                raise UsageError(
                    f"{describe(target_spec)} is not an empty state ({', '.join(held)}): "
                    "migrate copies into an empty one only; choose another target or empty it first"
                )
            copy(source, target)
    finally:
        target.close()
    want = digests(source)
    check = open_target(target_spec)  # a fresh connection: what the target really holds
    try:
        got = digests(check)
    finally:
        check.close()
    bad = [
        f"{t}: {want[t].rows} row(s) {want[t].digest[:12]} here, {got[t].rows} row(s) {got[t].digest[:12]} there"
        for t in TABLES
        if want[t] != got[t]
    ]
    if bad:
        raise StateError(
            "the copy does not match the source, so the target cannot be trusted; empty it and migrate again:\n  "
            + "\n  ".join(bad)
        )
    return want


def _rows(store: SqlStore, table: str, columns: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    # A cursor of its own: the copy reads the source while it writes the target.
    cur = store._conn.cursor()
    try:
        cur.execute(f"SELECT {', '.join(columns)} FROM {table}")
        while rows := cur.fetchmany(BATCH):
            yield from (tuple(r) for r in rows)
    finally:
        cur.close()
        store._conn.commit()


def _plain(value: Any) -> Any:
    # Both backends hand back ints and strings; anything else is normalised to its text.
    if value is None or isinstance(value, (int, str)):
        return value
    return str(value)
