"""The lock protocol both backends share: the whole store, or collections one by one.

A run that writes holds the store *shared* and each collection it writes
*exclusively*; a command that rewrites the whole store holds it exclusively.
So runners on disjoint collections proceed together, and a whole-store
command waits for all of them (and they for it). The backend holds the locks
(file locks, advisory locks) so that a killed run's locks vanish with it; the
`locks` table only says who holds what, for the message a second run shows.

Collections are taken in sorted order and all at once: when one is held by
another run, everything taken so far is released before waiting, so two runs
wanting overlapping sets never hold half each and wait for the other.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

from reconcile.errors import StateLockedError
from reconcile.state.base import LockInfo, now, whoami

if TYPE_CHECKING:
    from reconcile.state.sql import SqlStore

STORE = "state"  # the `locks` row of a whole-store lock (collection identities hold a '/')
POLL = 0.1  # seconds between tries while waiting with --lock-timeout


class LockSession(Protocol):
    """One backend's hold on locks; closing it (or the process dying) drops them all."""

    def try_store(self, shared: bool) -> bool: ...

    def try_collection(self, identity: str) -> bool: ...

    def release(self) -> None:
        """Drop every lock taken so far; the session stays usable."""

    def close(self) -> None: ...


@contextlib.contextmanager
def hold(
    store: SqlStore,
    open_session: Callable[[], LockSession],
    operation: str,
    timeout: float,
    collections: Iterable[str] | None,
) -> Iterator[LockInfo]:
    names = None if collections is None else sorted(set(collections))
    session = open_session()
    deadline = time.monotonic() + timeout
    try:
        while (blocked := _take(session, names)) is not None:
            session.release()
            if time.monotonic() >= deadline:
                raise StateLockedError(holder_message(store, blocked, names))
            time.sleep(POLL)
        info = LockInfo(holder=whoami(), operation=operation, since=now())
        token = str(uuid.uuid4())
        rows = [STORE] if names is None else names
        with store._tx() as cur:
            if names is None:
                cur.execute("DELETE FROM locks")  # we hold everything: any row left is a dead run's
            for name in rows:
                cur.execute(store._q("DELETE FROM locks WHERE name = ?"), (name,))
                cur.execute(
                    store._q(
                        "INSERT INTO locks (name, holder, operation, since, token) VALUES (?, ?, ?, ?, ?)"
                    ),
                    (name, info.holder, info.operation, info.since, token),
                )
        try:
            yield info
        finally:
            with store._tx() as cur:
                cur.execute(store._q("DELETE FROM locks WHERE token = ?"), (token,))
    finally:
        session.close()


def _take(session: LockSession, names: list[str] | None) -> str | None:
    """Take every lock asked for; the name of the first one another run holds, or None."""
    if names is None:
        return None if session.try_store(shared=False) else STORE
    if not session.try_store(shared=True):
        return STORE
    for name in names:
        if not session.try_collection(name):
            return name
    return None


def holder_message(store: SqlStore, blocked: str, names: list[str] | None) -> str:
    with store._tx() as cur:
        cur.execute("SELECT name, holder, operation, since FROM locks")
        rows = {r[0]: (r[1], r[2], r[3]) for r in cur.fetchall()}
    hint = "wait for it, or pass --lock-timeout SECONDS"
    if blocked != STORE:
        return f"collection {blocked} is locked by {_who(rows.get(blocked))}; {hint}"
    if STORE in rows or names is not None:
        return f"the state is locked by {_who(rows.get(STORE))}; {hint}"
    # The whole store was asked for while runs hold collections of it.
    held = sorted({who for name, who in rows.items() if name != STORE})
    if not held:
        return f"the state is locked by another reconcile run; {hint}"
    count = len(rows)
    return (
        f"the state is locked by {'; '.join(_who(w) for w in held)} "
        f"({count} collection{'s' if count != 1 else ''}); {hint}"
    )


def _who(row: tuple[str, str, str] | None) -> str:
    return f"{row[0]} running {row[1]} since {row[2]}" if row else "another reconcile run"
