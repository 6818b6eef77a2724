"""The default state store: one SQLite file, locked with an OS file lock.

The lock is an flock on `<file>.lock`, so a killed run (even SIGKILL) never
leaves a stale lock behind; who holds it and since when is written into the
database for the message a second run shows.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from pathlib import Path

from reconcile.errors import StateError
from reconcile.state.base import SqlStore


class SqliteStore(SqlStore):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                str(path), timeout=30, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL survives a killed process (the property we promise); a power
            # cut may lose the last transactions; the next run then finds those records at
            # the vendor by key and adopts them.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.isolation_level = "DEFERRED"
            self._migrate()
        except sqlite3.Error as exc:
            raise StateError(f"{path}: cannot open the state database: {exc}") from exc

    def _lock_open(self) -> int:
        return os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)

    def _lock_try(self, handle: int) -> bool:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _lock_close(self, handle: int) -> None:
        os.close(handle)  # closing the descriptor releases the flock

    def close(self) -> None:
        self._conn.close()
