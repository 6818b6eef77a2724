"""PostgreSQL state for teams: the same tables as SQLite, locked with an advisory lock.

The lock is a session-level `pg_try_advisory_lock` on its own connection: the
database releases it the moment a killed run's connection goes, so a crash
never leaves a stale lock. Who holds it is written to the `locks` table for
the message a second run shows. Tables live in the DSN's search_path, so
several projects can share a database with one schema each
(`?options=-csearch_path%3Dteam_a`).
"""

from __future__ import annotations

import hashlib
from typing import Any

from reconcile.errors import StateError
from reconcile.state.base import SqlStore

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

    def _lock_open(self) -> Any:
        assert psycopg is not None
        return psycopg.connect(self.dsn, autocommit=True, connect_timeout=10)

    def _lock_try(self, handle: Any) -> bool:
        return bool(
            handle.execute("SELECT pg_try_advisory_lock(%s)", (self._lock_key(),)).fetchone()[0]
        )

    def _lock_close(self, handle: Any) -> None:
        handle.close()  # ends the session, which releases the advisory lock

    def _lock_key(self) -> int:
        # One key per state (lineage), so projects sharing a database never block each other.
        lineage, _ = self.lineage_serial()
        digest = hashlib.blake2b(lineage.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    def close(self) -> None:
        self._conn.close()


def _clean(exc: Exception) -> str:
    # psycopg messages can quote the DSN; the redactor removes registered secrets, this drops the rest.
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
