"""PostgreSQL state for teams: the same tables as SQLite, locked with an advisory lock.

The lock is a session-level `pg_try_advisory_lock` on its own connection: the
database releases it the moment a killed run's connection goes, so a crash
never leaves a stale lock. Who holds it is written to the `locks` table for
the message a second run shows. Tables live in the DSN's search_path, so
several projects can share a database with one schema each
(`?options=-csearch_path%3Dteam_a`).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

from reconcile.errors import StateError, StateLockedError
from reconcile.state.base import LockInfo, SqlStore, now, whoami

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

    @contextlib.contextmanager
    def lock(self, operation: str, timeout: float = 0.0) -> Iterator[LockInfo]:
        assert psycopg is not None
        conn: Any = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10)
        deadline = time.monotonic() + timeout
        try:
            while True:
                got = conn.execute(
                    "SELECT pg_try_advisory_lock(%s)", (self._lock_key(),)
                ).fetchone()[0]
                if got:
                    break
                if time.monotonic() >= deadline:
                    raise StateLockedError(self._holder_message())
                time.sleep(0.2)
            info = LockInfo(holder=whoami(), operation=operation, since=now())
            token = str(uuid.uuid4())
            with self._tx() as cur:
                cur.execute("DELETE FROM locks WHERE name = 'state'")
                cur.execute(
                    "INSERT INTO locks (name, holder, operation, since, token) VALUES ('state', %s, %s, %s, %s)",
                    (info.holder, info.operation, info.since, token),
                )
            try:
                yield info
            finally:
                with self._tx() as cur:
                    cur.execute("DELETE FROM locks WHERE name = 'state' AND token = %s", (token,))
        finally:
            conn.close()  # ends the session, which releases the advisory lock

    def _lock_key(self) -> int:
        # One key per state (lineage), so projects sharing a database never block each other.
        lineage, _ = self.lineage_serial()
        digest = hashlib.blake2b(lineage.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    def _holder_message(self) -> str:
        with self._tx() as cur:
            cur.execute("SELECT holder, operation, since FROM locks WHERE name = 'state'")
            row = cur.fetchone()
        if row:
            return f"the state is locked by {row[0]} running {row[1]} since {row[2]}; wait for it, or pass --lock-timeout SECONDS"
        return "the state is locked by another reconcile run; wait for it, or pass --lock-timeout SECONDS"

    def close(self) -> None:
        self._conn.close()


def _clean(exc: Exception) -> str:
    # psycopg messages can quote the DSN; the redactor removes registered secrets, this drops the rest.
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
