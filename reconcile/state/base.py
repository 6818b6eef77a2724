"""The state store contract and the SQL both backends share.

Write protocol (design property 1, "nothing lost, nothing doubled"):

1. `begin_write` journals the intent and marks the resource `uncertain`, in
   one committed transaction, *before* the vendor call is sent.
2. `finish_write` commits the outcome right after the answer: `ok` with the
   applied fields; `failed` restores what was there before (the vendor said
   no, so nothing changed); `unknown` leaves the resource `uncertain`.

A run killed between the two leaves `uncertain` entries; the next plan looks
each one up at the vendor and records what it finds, so nothing is sent twice
and nothing is forgotten. Every write bumps the serial; the lineage is fixed
when the store is created.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import getpass
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from reconcile.model import JSON, Action, Change, StateEntry, Status, carry_replaced

SCHEMA_VERSION = 2

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
]


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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

    @abc.abstractmethod
    def owner_of(self, provider: str, kind: str, remote_id: str) -> StateEntry | None:
        """The entry that holds this remote record, if any."""

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

    @abc.abstractmethod
    def lock(
        self, operation: str, timeout: float = 0.0
    ) -> contextlib.AbstractContextManager[LockInfo]:
        """Hold the store's one lock; raises StateLockedError naming the holder."""

    @abc.abstractmethod
    def journal(self, limit: int = 50) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    def trim_journal(self, keep: int) -> int:
        """Drop all but the newest `keep` finished journal rows; return how many went."""

    @abc.abstractmethod
    def close(self) -> None: ...


class JsonFields(Mapping[str, JSON]):
    """A state entry's fields, decoded from their JSON text on first use.

    A no-op plan of 100,000 records reads every entry but looks inside few of
    them; keeping the text until then saves most of the memory."""

    __slots__ = ("_raw", "_value")

    def __init__(self, raw: str) -> None:
        self._raw = raw
        self._value: dict[str, JSON] | None = None

    def _decoded(self) -> dict[str, JSON]:
        if self._value is None:
            self._value = json.loads(self._raw)
        return self._value

    def __getitem__(self, key: str) -> JSON:
        return self._decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __repr__(self) -> str:
        return repr(self._decoded())


_COLUMNS = "address, provider, kind, scope, key, remote_id, fields, status, collection"


def entry_from_row(row: tuple[Any, ...]) -> StateEntry:
    address, provider, kind, scope, key, remote_id, fields, status, collection = row
    return StateEntry(
        address=address,
        provider=provider,
        kind=kind,
        scope=scope,
        key=key,
        remote_id=remote_id,
        fields=JsonFields(fields),
        status=Status(status),
        collection=collection or "",
    )


def dumps(value: Mapping[str, JSON] | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, JsonFields):
        value = dict(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entry_json(e: StateEntry | None) -> str | None:
    if e is None:
        return None
    return json.dumps(
        {"address": e.address, "provider": e.provider, "kind": e.kind, "scope": e.scope, "key": e.key,
         "remote_id": e.remote_id, "fields": dict(e.fields), "status": e.status.value,
         "collection": e.collection},
        ensure_ascii=False,
    )  # fmt: skip


def entry_from_json(raw: str) -> StateEntry:
    d = json.loads(raw)
    return StateEntry(
        d["address"],
        d["provider"],
        d["kind"],
        d["scope"],
        d["key"],
        d["remote_id"],
        d["fields"],
        Status(d["status"]),
        d.get("collection", ""),
    )


class SqlStore(StateStore):
    """Shared SQL for SQLite and PostgreSQL; subclasses give the connection and the lock.

    Only one thread uses a store at a time (the applier journals from its main
    thread), so one connection is enough.
    """

    placeholder = "?"
    autoid = "INTEGER PRIMARY KEY AUTOINCREMENT"

    def __init__(self) -> None:
        self._conn: Any = None

    # -- the lock ---------------------------------------------------------------------
    # Subclasses hold the lock with something the OS or the database releases when the
    # process dies (flock, advisory lock); the `locks` row only says who holds it.
    def _lock_open(self) -> Any:
        raise NotImplementedError

    def _lock_try(self, handle: Any) -> bool:
        raise NotImplementedError

    def _lock_close(self, handle: Any) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def lock(self, operation: str, timeout: float = 0.0) -> Iterator[LockInfo]:
        from reconcile.errors import StateLockedError

        handle = self._lock_open()
        deadline = time.monotonic() + timeout
        try:
            while not self._lock_try(handle):
                if time.monotonic() >= deadline:
                    raise StateLockedError(self._holder_message())
                time.sleep(0.1)
            info = LockInfo(holder=whoami(), operation=operation, since=now())
            token = str(uuid.uuid4())
            with self._tx() as cur:
                cur.execute(self._q("DELETE FROM locks WHERE name = ?"), ("state",))
                cur.execute(
                    self._q(
                        "INSERT INTO locks (name, holder, operation, since, token) VALUES (?, ?, ?, ?, ?)"
                    ),
                    ("state", info.holder, info.operation, info.since, token),
                )
            try:
                yield info
            finally:
                with self._tx() as cur:
                    cur.execute(
                        self._q("DELETE FROM locks WHERE name = ? AND token = ?"), ("state", token)
                    )
        finally:
            self._lock_close(handle)

    def _holder_message(self) -> str:
        with self._tx() as cur:
            cur.execute(
                self._q("SELECT holder, operation, since FROM locks WHERE name = ?"), ("state",)
            )
            row = cur.fetchone()
        who = f"{row[0]} running {row[1]} since {row[2]}" if row else "another reconcile run"
        return f"the state is locked by {who}; wait for it, or pass --lock-timeout SECONDS"

    # -- plumbing -----------------------------------------------------------------
    def _q(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Any]:
        cur = self._conn.cursor()
        try:
            yield cur
            self._conn.commit()
        except BaseException:
            self._conn.rollback()
            raise
        finally:
            cur.close()

    def _migrate(self) -> None:
        with self._tx() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            cur.execute("SELECT version FROM migrations")
            done = {r[0] for r in cur.fetchall()}
        for version, name, statements in MIGRATIONS:
            if version in done:
                continue
            with self._tx() as cur:
                for stmt in statements:
                    cur.execute(stmt.format(autoid=self.autoid))
                cur.execute(
                    self._q("INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)"),
                    (version, name, now()),
                )
                if version == 1:
                    cur.execute(
                        self._q("INSERT INTO meta (key, value) VALUES (?, ?)"),
                        ("lineage", str(uuid.uuid4())),
                    )
                    cur.execute(
                        self._q("INSERT INTO meta (key, value) VALUES (?, ?)"), ("serial", "0")
                    )
        with self._tx() as cur:
            cur.execute("SELECT max(version) FROM migrations")
            top = cur.fetchone()[0]
        if top > SCHEMA_VERSION:
            from reconcile.errors import StateError

            raise StateError(
                f"the state store has schema version {top}, newer than this reconcile understands ({SCHEMA_VERSION}); upgrade reconcile"
            )

    def _bump(self, cur: Any) -> None:
        cur.execute(
            self._q(
                "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = ?"
            ),
            ("serial",),
        )

    def _upsert(self, cur: Any, e: StateEntry) -> None:
        cur.execute(
            self._q(
                "INSERT INTO resources (address, provider, kind, scope, key, remote_id, fields, status, updated_at, collection) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (address) DO UPDATE SET "
                "provider = excluded.provider, kind = excluded.kind, scope = excluded.scope, key = excluded.key, "
                "remote_id = excluded.remote_id, fields = excluded.fields, status = excluded.status, "
                "updated_at = excluded.updated_at, collection = excluded.collection"
            ),
            (
                e.address,
                e.provider,
                e.kind,
                e.scope,
                e.key,
                e.remote_id,
                dumps(e.fields),
                e.status.value,
                now(),
                e.collection or f"{e.provider}/{e.kind}/{e.scope}",
            ),
        )

    # -- reads -----------------------------------------------------------------------
    def lineage_serial(self) -> tuple[str, int]:
        with self._tx() as cur:
            cur.execute("SELECT key, value FROM meta")
            meta = dict(cur.fetchall())
        return meta["lineage"], int(meta["serial"])

    def entries(
        self, provider: str | None = None, kind: str | None = None, scope: str | None = None
    ) -> dict[str, StateEntry]:
        sql = f"SELECT {_COLUMNS} FROM resources"
        conds, args = [], []
        for col, val in (("provider", provider), ("kind", kind), ("scope", scope)):
            if val is not None:
                conds.append(f"{col} = ?")
                args.append(val)
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        with self._tx() as cur:
            cur.execute(self._q(sql + " ORDER BY address"), args)
            out: dict[str, StateEntry] = {}
            while rows := cur.fetchmany(5000):
                for r in rows:
                    out[r[0]] = entry_from_row(r)
        return out

    def get(self, address: str) -> StateEntry | None:
        with self._tx() as cur:
            cur.execute(self._q(f"SELECT {_COLUMNS} FROM resources WHERE address = ?"), (address,))
            row = cur.fetchone()
        return entry_from_row(row) if row else None

    def owned_by(self, identities: list[str]) -> dict[str, StateEntry]:
        out: dict[str, StateEntry] = {}
        if not identities:
            return out
        marks = ", ".join("?" for _ in identities)
        with self._tx() as cur:
            cur.execute(
                self._q(
                    f"SELECT {_COLUMNS} FROM resources WHERE collection IN ({marks}) ORDER BY address"
                ),
                identities,
            )
            while rows := cur.fetchmany(5000):
                for r in rows:
                    out[r[0]] = entry_from_row(r)
        return out

    def owner_of(self, provider: str, kind: str, remote_id: str) -> StateEntry | None:
        with self._tx() as cur:
            cur.execute(
                self._q(
                    f"SELECT {_COLUMNS} FROM resources WHERE provider = ? AND kind = ? AND remote_id = ?"
                ),
                (provider, kind, remote_id),
            )
            row = cur.fetchone()
        return entry_from_row(row) if row else None

    def known_collections(self) -> list[KnownCollection]:
        with self._tx() as cur:
            cur.execute(
                "SELECT identity, provider, kind, scope, scope_id, scope_ref, prune, prevent_destroy, origin FROM collections"
            )
            recorded = {r[0]: r for r in cur.fetchall()}
            # Owners of rows written before collections were recorded (or by `state mv`):
            # inferred from the rows, with the default policy.
            cur.execute("SELECT DISTINCT collection, provider, kind, scope FROM resources")
            owners = cur.fetchall()
        out: list[KnownCollection] = []
        for identity, provider, kind, scope in owners:
            r = recorded.get(identity)
            if r is not None:
                out.append(
                    KnownCollection(
                        r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], bool(r[7]), r[8]
                    )
                )
            else:
                out.append(
                    KnownCollection(
                        identity or "", provider, kind, scope, None, {}, "managed", False, ""
                    )
                )
        return out

    def remember_collections(self, collections: list[KnownCollection]) -> None:
        if not collections:
            return
        with self._tx() as cur:
            self._remember(cur, collections)

    def _remember(self, cur: Any, collections: list[KnownCollection]) -> None:
        for c in collections:
            cur.execute(
                self._q(
                    "INSERT INTO collections (identity, provider, kind, scope, scope_id, scope_ref, prune, "
                    "prevent_destroy, origin, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (identity) DO UPDATE SET scope = excluded.scope, scope_id = excluded.scope_id, "
                    "scope_ref = excluded.scope_ref, prune = excluded.prune, prevent_destroy = excluded.prevent_destroy, "
                    "origin = excluded.origin, updated_at = excluded.updated_at"
                ),
                (c.identity, c.provider, c.kind, c.scope, c.scope_id, dumps(c.scope_ref), c.prune,
                 int(c.prevent_destroy), c.origin, now()),
            )  # fmt: skip

    def journal(self, limit: int = 50) -> list[dict[str, Any]]:
        with self._tx() as cur:
            cur.execute(
                self._q(
                    "SELECT id, address, action, started_at, finished_at, outcome, detail FROM journal ORDER BY id DESC LIMIT ?"
                ),
                (limit,),
            )
            cols = ["id", "address", "action", "started_at", "finished_at", "outcome", "detail"]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def trim_journal(self, keep: int) -> int:
        with self._tx() as cur:
            cur.execute("SELECT max(id) FROM journal")
            top = cur.fetchone()[0]
            if top is None or top <= keep:
                return 0
            # Rows still in flight (no outcome) are what crash recovery reads: never dropped.
            cur.execute(
                self._q("DELETE FROM journal WHERE id <= ? AND finished_at IS NOT NULL"),
                (top - keep,),
            )
            return int(cur.rowcount or 0)

    # -- writes ----------------------------------------------------------------------
    def put(self, entry: StateEntry) -> None:
        with self._tx() as cur:
            self._upsert(cur, entry)
            self._bump(cur)

    def remove(self, address: str) -> bool:
        with self._tx() as cur:
            cur.execute(self._q("DELETE FROM resources WHERE address = ?"), (address,))
            gone = bool(cur.rowcount)
            if gone:
                self._bump(cur)
        return gone

    def record_many(self, puts: list[StateEntry], removes: list[str]) -> None:
        if not puts and not removes:
            return
        with self._tx() as cur:
            for e in puts:
                self._upsert(cur, e)
            for address in removes:
                cur.execute(self._q("DELETE FROM resources WHERE address = ?"), (address,))
            self._bump(cur)

    def restore(
        self,
        entries: list[StateEntry],
        collections: list[KnownCollection],
        lineage: str,
        serial: int,
    ) -> None:
        """Replace every record and collection, the lineage and the serial, in one
        transaction (`reconcile state push`); the journal is kept."""
        with self._tx() as cur:
            cur.execute("DELETE FROM resources")
            cur.execute("DELETE FROM collections")
            for e in entries:
                self._upsert(cur, e)
            cur.execute(self._q("UPDATE meta SET value = ? WHERE key = ?"), (lineage, "lineage"))
            cur.execute(self._q("UPDATE meta SET value = ? WHERE key = ?"), (str(serial), "serial"))
            self._remember(cur, collections)

    def begin_write(self, change: Change, previous: StateEntry | None) -> int:
        with self._tx() as cur:
            jid = self._begin(cur, change, previous)
            self._bump(cur)
        return jid

    def begin_writes(self, changes: list[Change], previous: list[StateEntry | None]) -> list[int]:
        with self._tx() as cur:  # one transaction: the batch is journaled whole or not at all
            jids = [self._begin(cur, c, p) for c, p in zip(changes, previous, strict=True)]
            self._bump(cur)
        return jids

    def finish_writes(
        self,
        journal_ids: list[int],
        changes: list[Change],
        previous: list[StateEntry | None],
        outcomes: list[Outcome],
    ) -> None:
        with self._tx() as cur:
            for j, c, p, o in zip(journal_ids, changes, previous, outcomes, strict=True):
                self._finish(cur, j, c, p, o)
            self._bump(cur)

    def _begin(self, cur: Any, change: Change, previous: StateEntry | None) -> int:
        cur.execute(
            self._q(
                "INSERT INTO journal (address, action, previous, intended, started_at) VALUES (?, ?, ?, ?, ?) RETURNING id"
            ),
            (change.address, change.action.value, entry_json(previous), dumps(change.after), now()),
        )
        jid = int(cur.fetchone()[0])
        marked = StateEntry(
            address=change.address,
            provider=change.provider,
            kind=change.kind,
            scope=change.scope,
            key=change.key,
            remote_id=change.remote_id or (previous.remote_id if previous else None),
            fields=previous.fields if previous else (change.after or {}),
            status=Status.UNCERTAIN,
            collection=change.collection or (previous.collection if previous else ""),
        )
        self._upsert(cur, marked)
        return jid

    def finish_write(
        self, journal_id: int, change: Change, previous: StateEntry | None, outcome: Outcome
    ) -> None:
        with self._tx() as cur:
            self._finish(cur, journal_id, change, previous, outcome)
            self._bump(cur)

    def _finish(
        self,
        cur: Any,
        journal_id: int,
        change: Change,
        previous: StateEntry | None,
        outcome: Outcome,
    ) -> None:
        cur.execute(
            self._q("UPDATE journal SET finished_at = ?, outcome = ?, detail = ? WHERE id = ?"),
            (now(), outcome.result, outcome.detail[:2000], journal_id),
        )
        if outcome.result == "ok":
            if change.action is Action.DELETE:
                cur.execute(self._q("DELETE FROM resources WHERE address = ?"), (change.address,))
            else:
                remote_id = (
                    outcome.remote_id
                    or change.remote_id
                    or (previous.remote_id if previous else None)
                )
                sent = {f.name for f in change.fields}
                entry = carry_replaced(change.entry(remote_id), previous, sent)
                if not entry.collection and previous is not None:
                    entry = replace(entry, collection=previous.collection)
                self._upsert(cur, entry)
        elif outcome.result == "failed":
            # The vendor refused: nothing changed there, so state goes back to what it was.
            if previous is None:
                cur.execute(self._q("DELETE FROM resources WHERE address = ?"), (change.address,))
            else:
                self._upsert(cur, previous)
