"""The state schema and its migrations, applied in order when a store is opened.

Each migration runs in its own transaction and is recorded in `migrations`;
a store whose schema is newer than this reconcile is refused, never guessed at.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from reconcile.state.base import now

if TYPE_CHECKING:
    from reconcile.state.sql import SqlStore

SCHEMA_VERSION = 3

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "initial",
        [
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            """CREATE TABLE IF NOT EXISTS resources (
                address TEXT PRIMARY KEY, provider TEXT NOT NULL, kind TEXT NOT NULL,
                scope TEXT NOT NULL, key TEXT NOT NULL, remote_id TEXT,
                fields TEXT NOT NULL, status TEXT NOT NULL, updated_at TEXT NOT NULL)""",
            "CREATE INDEX IF NOT EXISTS resources_collection ON resources (provider, kind, scope)",
            """CREATE TABLE IF NOT EXISTS journal (
                id {autoid}, address TEXT NOT NULL, action TEXT NOT NULL,
                previous TEXT, intended TEXT, started_at TEXT NOT NULL,
                finished_at TEXT, outcome TEXT, detail TEXT)""",
            """CREATE TABLE IF NOT EXISTS locks (
                name TEXT PRIMARY KEY, holder TEXT NOT NULL, operation TEXT NOT NULL,
                since TEXT NOT NULL, token TEXT NOT NULL)""",
        ],
    ),
    (
        2,
        "collections own their records",
        [
            # Which collection owns each record, by a stable identity (provider, kind, the
            # vendor's scope id), and what each collection was last applied with, so that
            # a removed manifest's records are still deleted or forgotten by its policy.
            "ALTER TABLE resources ADD COLUMN collection TEXT",
            "UPDATE resources SET collection = provider || '/' || kind || '/' || scope",
            "CREATE INDEX IF NOT EXISTS resources_owner ON resources (collection)",
            "CREATE INDEX IF NOT EXISTS resources_remote ON resources (provider, kind, remote_id)",
            """CREATE TABLE IF NOT EXISTS collections (
                identity TEXT PRIMARY KEY, provider TEXT NOT NULL, kind TEXT NOT NULL,
                scope TEXT NOT NULL, scope_id TEXT, scope_ref TEXT NOT NULL, prune TEXT NOT NULL,
                prevent_destroy INTEGER NOT NULL, origin TEXT NOT NULL, updated_at TEXT NOT NULL)""",
        ],
    ),
    (
        3,
        "collections have their own serial",
        [
            # The serial the state had when a write last touched the collection: a saved
            # plan is stale only when a collection it changes moved, so runners applying
            # other collections in parallel do not invalidate each other's plans.
            "CREATE TABLE IF NOT EXISTS serials (collection TEXT PRIMARY KEY, serial BIGINT NOT NULL)",
            # Which serial each journaled write produced: concurrent writers never share one.
            "ALTER TABLE journal ADD COLUMN serial BIGINT",
        ],
    ),
]


def migrate(store: SqlStore) -> None:
    """Bring the store's tables up to SCHEMA_VERSION; refuse a newer schema."""
    with store._tx() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        cur.execute("SELECT version FROM migrations")
        done = {r[0] for r in cur.fetchall()}
    for version, name, statements in MIGRATIONS:
        if version in done:
            continue
        with store._tx() as cur:
            for stmt in statements:
                cur.execute(stmt.format(autoid=store.autoid))
            cur.execute(
                store._q("INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)"),
                (version, name, now()),
            )
            if version == 1:
                cur.execute(
                    store._q("INSERT INTO meta (key, value) VALUES (?, ?)"),
                    ("lineage", str(uuid.uuid4())),
                )
                cur.execute(
                    store._q("INSERT INTO meta (key, value) VALUES (?, ?)"), ("serial", "0")
                )
    with store._tx() as cur:
        cur.execute("SELECT max(version) FROM migrations")
        top = cur.fetchone()[0]
    if top > SCHEMA_VERSION:
        from reconcile.errors import StateError

        raise StateError(
            f"the state store has schema version {top}, newer than this reconcile understands ({SCHEMA_VERSION}); upgrade reconcile"
        )
