"""The default state store: one SQLite file, locked with an OS file lock.

The lock is an flock on `<file>.lock`, so a killed run (even SIGKILL) never
leaves a stale lock behind; who holds it and since when is written into the
database for the message a second run shows.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from reconcile.errors import StateError, StateLockedError
from reconcile.state.base import LockInfo, SqlStore, now, whoami


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
            # cut may lose the last transactions, which the next run re-reads as uncertain.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.isolation_level = "DEFERRED"
            self._migrate()
        except sqlite3.Error as exc:
            raise StateError(f"{path}: cannot open the state database: {exc}") from exc

    @contextlib.contextmanager
    def lock(self, operation: str, timeout: float = 0.0) -> Iterator[LockInfo]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StateLockedError(self._holder_message()) from None
                    time.sleep(0.1)
            info = LockInfo(holder=whoami(), operation=operation, since=now())
            token = str(uuid.uuid4())
            with self._tx() as cur:
                cur.execute("DELETE FROM locks WHERE name = 'state'")
                cur.execute(
                    "INSERT INTO locks (name, holder, operation, since, token) VALUES ('state', ?, ?, ?, ?)",
                    (info.holder, info.operation, info.since, token),
                )
            try:
                yield info
            finally:
                with self._tx() as cur:
                    cur.execute("DELETE FROM locks WHERE name = 'state' AND token = ?", (token,))
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    def _holder_message(self) -> str:
        with self._tx() as cur:
            cur.execute("SELECT holder, operation, since FROM locks WHERE name = 'state'")
            row = cur.fetchone()
        if row:
            return f"the state is locked by {row[0]} running {row[1]} since {row[2]}; wait for it, or pass --lock-timeout SECONDS"
        return "the state is locked by another reconcile run; wait for it, or pass --lock-timeout SECONDS"

    def close(self) -> None:
        self._conn.close()
