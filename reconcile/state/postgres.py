"""PostgreSQL state for teams: the same tables as SQLite, locked with advisory locks.

The locks are session-level advisory locks on a connection of their own: the
whole store is one key (shared by runs that write some collections, exclusive
for commands that rewrite the store), each collection another key, both
derived from the lineage, so projects sharing a database never block each
other. The database drops a killed run's locks the moment its connection
goes, so a crash never leaves a stale lock. Who holds what is written to the
`locks` table for the message a second run shows. Tables live in the DSN's
search_path, so several projects can share a database with one schema each
(`?options=-csearch_path%3Dteam_a`).
"""

from __future__ import annotations

import hashlib
from typing import Any

from reconcile.errors import StateError
from reconcile.state.locks import LockSession
from reconcile.state.sql import SqlStore

try:
    import psycopg
except ImportError:  # pragma: no cover - depends on the install
    psycopg = None  # type: ignore[assignment]

_MIGRATE_KEY = 0x7265636F6E63  # "reconc": serialises first-time table creation


class PostgresStore(SqlStore):
    placeholder = "%s"
    autoid = "BIGSERIAL PRIMARY KEY"

    def __init__(self, dsn: str) -> None:
        super().__init__()
        if psycopg is None:
            raise StateError(
                "the postgres state backend needs psycopg: pip install 'reconcile[postgres]'"
            )
        self.dsn = dsn
        try:
            self._conn = psycopg.connect(dsn, connect_timeout=10)
            with self._tx() as cur:
                cur.execute("SELECT pg_advisory_lock(%s)", (_MIGRATE_KEY,))
            try:
                self._migrate()
            finally:
                with self._tx() as cur:
                    cur.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATE_KEY,))
        except psycopg.Error as exc:
            raise StateError(f"cannot use the PostgreSQL state database: {_clean(exc)}") from exc

    def _lock_session(self) -> LockSession:
        assert psycopg is not None
        lineage, _ = self.lineage_serial()
        try:
            conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise StateError(
                f"cannot reach the PostgreSQL state database to lock: {_clean(exc)}"
            ) from exc
        return _AdvisoryLocks(conn, lineage)

    def _after_copy(self, cur: Any) -> None:
        # Journal ids were copied as they were: the next write must number after them.
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('journal', 'id'), "
            "coalesce((SELECT max(id) FROM journal), 0) + 1, false)"
        )

    def close(self) -> None:
        self._conn.close()


def _clean(exc: Exception) -> str:
    # psycopg messages can quote the DSN; the redactor removes registered secrets, this drops the rest.
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class _AdvisoryLocks:
    def __init__(self, conn: Any, lineage: str) -> None:
        self._conn = conn
        self._lineage = lineage

    def _key(self, name: str | None) -> int:
        # The store's key is the lineage's alone, as older reconciles took it, so that an
        # older and a newer runner on one state still exclude each other.
        raw = self._lineage if name is None else f"{self._lineage}\0{name}"
        return int.from_bytes(
            hashlib.blake2b(raw.encode(), digest_size=8).digest(), "big", signed=True
        )

    def _try(self, call: str, key: int) -> bool:
        return bool(self._conn.execute(f"SELECT {call}(%s)", (key,)).fetchone()[0])

    def try_store(self, shared: bool) -> bool:
        call = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
        return self._try(call, self._key(None))

    def try_collection(self, identity: str) -> bool:
        return self._try("pg_try_advisory_lock", self._key(identity))

    def release(self) -> None:
        self._conn.execute("SELECT pg_advisory_unlock_all()")

    def close(self) -> None:
        self._conn.close()  # ends the session, which releases every advisory lock
