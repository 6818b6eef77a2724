"""The state store contract and its values; the SQL both backends share is in `sql`.

Write protocol (design property 1, "nothing lost, nothing doubled"):

1. `begin_write` journals the intent and marks the resource `uncertain`, in
   one committed transaction, *before* the vendor call is sent.
2. `finish_write` commits the outcome after the answer: `ok` with the
   applied fields; `failed` restores what was there before (the vendor said
   no, so nothing changed); `unknown` leaves the resource `uncertain`.
   Answers may wait and be committed together with the next write's step 1
   (`finish_and_begin`, group commit): until then their entries are simply
   still `uncertain`, the state a crash between the two steps leaves anyway.

A run killed between the two leaves `uncertain` entries; the next plan looks
each one up at the vendor and records what it finds, so nothing is sent twice
and nothing is forgotten. Every write bumps the serial, and records it as the
serial of each collection it touched; the lineage is fixed when the store is
created.

Locks (design property 3, per collection): a run that writes holds the
collections it writes, and the store itself shared; a command that rewrites
the whole store (`state rm`, `push`, `migrate`, `import`) holds the store
exclusively. Runners writing disjoint collections proceed in parallel; two on
one collection do not. Each backend holds its locks with something the OS or
the database drops when the process dies.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import getpass
import os
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from reconcile.model import JSON, Change, StateEntry

_last: tuple[int, str] = (-1, "")


def now() -> str:
    """The time, to the second, as state and the journal write it (formatted once a
    second: an apply writes it hundreds of times a second)."""
    global _last
    second = int(time.time())
    if _last[0] != second:
        stamp = dt.datetime.fromtimestamp(second, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        _last = (second, stamp)
    return _last[1]


def whoami(env: Mapping[str, str] | None = None) -> str:
    """Who holds the lock, for the message a second run shows: the OS user, the host and
    the pid, and in CI the pipeline and job that ran it."""
    env = os.environ if env is None else env
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid (some containers)
        user = env.get("USER") or env.get("USERNAME") or f"uid {os.getuid()}"
    who = f"{user}@{socket.gethostname()} (pid {os.getpid()}"
    if env.get("GITHUB_ACTIONS") == "true":
        run = f"{env.get('GITHUB_SERVER_URL', '')}/{env.get('GITHUB_REPOSITORY', '')}/actions/runs/{env.get('GITHUB_RUN_ID', '?')}"
        who += f", GitHub Actions workflow {env.get('GITHUB_WORKFLOW', '?')!r} job {env.get('GITHUB_JOB', '?')} run {run}"
    elif env.get("GITLAB_CI") == "true":
        who += (
            f", GitLab pipeline {env.get('CI_PIPELINE_ID', '?')} job {env.get('CI_JOB_NAME', '?')}"
            f" {env.get('CI_JOB_URL', '')}".rstrip()
        )
    return who + ")"


@dataclass(frozen=True, slots=True)
class LockInfo:
    holder: str
    operation: str
    since: str


@dataclass(frozen=True, slots=True)
class KnownCollection:
    """A collection as last applied: enough to handle its records once its manifest is gone."""

    identity: str
    provider: str
    kind: str
    scope: str  # display form, as in addresses
    scope_id: str | None
    scope_ref: Mapping[str, JSON]
    prune: str
    prevent_destroy: bool
    origin: str
    recorded: bool = True  # False: inferred from rows written before collections were recorded


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the vendor answered for one write."""

    result: str  # "ok" | "failed" | "unknown"
    remote_id: str | None = None
    detail: str = ""


class Answered(NamedTuple):
    """The vendor's answer to one unit of writes (one change, or a batch sent in one request)."""

    journal_ids: list[int]
    changes: list[Change]
    previous: list[StateEntry | None]
    outcomes: list[Outcome]


class StateStore(abc.ABC):
    """What reconcile knows of every managed record, plus the journal and the lock."""

    @abc.abstractmethod
    def lineage_serial(self) -> tuple[str, int]: ...

    @abc.abstractmethod
    def entries(
        self, provider: str | None = None, kind: str | None = None, scope: str | None = None
    ) -> dict[str, StateEntry]: ...

    @abc.abstractmethod
    def owned_by(self, identities: list[str]) -> dict[str, StateEntry]:
        """Every entry owned by one of these collections, by address."""

    def owned_by_collection(self, identities: list[str]) -> dict[str, dict[str, StateEntry]]:
        """The same entries by owning collection, then by key."""
        out: dict[str, dict[str, StateEntry]] = {}
        for e in self.owned_by(identities).values():
            out.setdefault(e.collection, {})[e.key] = e
        return out

    def owner_of(self, provider: str, kind: str, remote_id: str) -> StateEntry | None:
        """The entry that holds this remote record, if any."""
        return self.owners_of(provider, kind, [remote_id]).get(remote_id)

    @abc.abstractmethod
    def owners_of(
        self, provider: str, kind: str, remote_ids: Iterable[str]
    ) -> dict[str, StateEntry]:
        """The entries that hold these remote records, by remote id (those held only)."""

    @abc.abstractmethod
    def known_collections(self) -> list[KnownCollection]:
        """Every collection that owns records, as last applied (or inferred for old rows)."""

    @abc.abstractmethod
    def remember_collections(self, collections: list[KnownCollection]) -> None:
        """Record how collections were last applied (no serial bump: no record changed)."""

    @abc.abstractmethod
    def get(self, address: str) -> StateEntry | None: ...

    @abc.abstractmethod
    def put(self, entry: StateEntry) -> None:
        """Record one entry as it is (import, adopt, state mv); bumps the serial."""

    @abc.abstractmethod
    def remove(self, address: str) -> bool:
        """Forget one entry; bumps the serial. False if it was not there."""

    @abc.abstractmethod
    def restore(
        self,
        entries: list[StateEntry],
        collections: list[KnownCollection],
        lineage: str,
        serial: int,
    ) -> None:
        """Replace the whole store's content with a backup's, in one transaction."""

    @abc.abstractmethod
    def record_many(self, puts: list[StateEntry], removes: list[str]) -> None:
        """Record and forget many entries in one transaction (adopts and forgets: no vendor call)."""

    @abc.abstractmethod
    def begin_write(self, change: Change, previous: StateEntry | None) -> int:
        """Journal a vendor write before it is sent; returns the journal id."""

    @abc.abstractmethod
    def finish_write(
        self, journal_id: int, change: Change, previous: StateEntry | None, outcome: Outcome
    ) -> None:
        """Commit the vendor's answer to a journaled write."""

    def begin_writes(self, changes: list[Change], previous: list[StateEntry | None]) -> list[int]:
        """Journal the members of one batch (one request) before it is sent."""
        return [self.begin_write(c, p) for c, p in zip(changes, previous, strict=True)]

    def finish_writes(
        self,
        journal_ids: list[int],
        changes: list[Change],
        previous: list[StateEntry | None],
        outcomes: list[Outcome],
    ) -> None:
        """Commit the answer to one batch, for each of its members."""
        for j, c, p, o in zip(journal_ids, changes, previous, outcomes, strict=True):
            self.finish_write(j, c, p, o)

    def finish_and_begin(
        self,
        answered: Sequence[Answered],
        changes: list[Change],
        previous: list[StateEntry | None],
    ) -> list[int]:
        """Commit earlier answers, then journal the next unit (nothing: [] and []) before it
        is sent; a backend may do both in one transaction. Returns the new journal ids."""
        for a in answered:
            self.finish_writes(a.journal_ids, a.changes, a.previous, a.outcomes)
        return self.begin_writes(changes, previous) if changes else []

    @abc.abstractmethod
    def lock(
        self, operation: str, timeout: float = 0.0, collections: Iterable[str] | None = None
    ) -> contextlib.AbstractContextManager[LockInfo]:
        """Hold the whole store (`collections` None), or only these collections (by identity)
        with the store shared; raises StateLockedError naming the holder once `timeout`
        seconds pass."""

    @abc.abstractmethod
    def collection_serials(self, identities: Iterable[str]) -> dict[str, int]:
        """The serial of each collection's last write (0: none recorded)."""

    @abc.abstractmethod
    def journal(self, limit: int = 50) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    def trim_journal(self, keep: int) -> int:
        """Drop all but the newest `keep` finished journal rows; return how many went."""

    @abc.abstractmethod
    def close(self) -> None: ...
