"""The SQL both state backends share: records, collections, serials and the journal.

Subclasses give the connection, the placeholder style and a lock session
(`locks`); the schema and its migrations are in `migrations`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from sys import intern
from typing import Any, TypeVar

from reconcile.model import Action, Change, StateEntry, Status, carry_replaced
from reconcile.state.base import Answered, KnownCollection, LockInfo, Outcome, StateStore, now
from reconcile.state.locks import LockSession, hold
from reconcile.state.migrations import migrate
from reconcile.state.rows import COLUMNS, STATUS, JsonFields, dumps, entry_from_row, entry_json

T = TypeVar("T")


class SqlStore(StateStore):
    """Shared SQL for SQLite and PostgreSQL; subclasses give the connection and the locks.

    Only one thread uses a store at a time (the applier's workers take turns), so one
    connection is enough.
    """

    placeholder = "?"
    autoid = "INTEGER PRIMARY KEY AUTOINCREMENT"

    def __init__(self) -> None:
        self._conn: Any = None

    # -- the locks -------------------------------------------------------------------
    def _lock_session(self) -> LockSession:
        raise NotImplementedError

    def lock(
        self, operation: str, timeout: float = 0.0, collections: Iterable[str] | None = None
    ) -> contextlib.AbstractContextManager[LockInfo]:
        return hold(self, self._lock_session, operation, timeout, collections)

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

    def _after_copy(self, cur: Any) -> None:
        """Called in the transaction that copied another store's rows in (`state migrate`)."""

    def _migrate(self) -> None:
        migrate(self)

    def _bump(self, cur: Any, collections: Iterable[str]) -> int:
        """Grow the serial by one and make it the serial of each collection this transaction
        touched. Every writer updates the one `meta` row, so the database serialises the
        bumps of concurrent runners: no two transactions see the same serial."""
        cur.execute(
            self._q(
                "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = ? RETURNING value"
            ),
            ("serial",),
        )
        serial = int(cur.fetchone()[0])
        for identity in sorted(set(collections)):
            cur.execute(
                self._q(
                    "INSERT INTO serials (collection, serial) VALUES (?, ?) "
                    "ON CONFLICT (collection) DO UPDATE SET serial = excluded.serial"
                ),
                (identity, serial),
            )
        return serial

    _UPSERT_INTO = "INSERT INTO resources (address, provider, kind, scope, key, remote_id, fields, status, updated_at, collection)"
    _UPSERT_ON = (
        " ON CONFLICT (address) DO UPDATE SET "
        "provider = excluded.provider, kind = excluded.kind, scope = excluded.scope, key = excluded.key, "
        "remote_id = excluded.remote_id, fields = excluded.fields, status = excluded.status, "
        "updated_at = excluded.updated_at, collection = excluded.collection"
    )  # fmt: skip
    # Values bound by one statement at most: SQLite's oldest default limit, well under
    # PostgreSQL's 65,535.
    _MAX_PARAMS = 999

    def _upsert(self, cur: Any, e: StateEntry, at: str | None = None) -> str:
        """Write one record; returns the identity of the collection that owns it."""
        return self._upsert_many(cur, [e], at)[0]

    def _upsert_many(self, cur: Any, entries: list[StateEntry], at: str | None = None) -> list[str]:
        """Write records in as few statements as the parameter limit allows; returns the
        identity of each one's collection."""
        if not entries:
            return []
        at = at or now()
        owners = [e.collection or f"{e.provider}/{e.kind}/{e.scope}" for e in entries]
        rows = {
            e.address: (e.address, e.provider, e.kind, e.scope, e.key, e.remote_id,
                        dumps(e.fields), e.status.value, at, owner)
            for e, owner in zip(entries, owners, strict=True)
        }  # fmt: skip
        # One row per address, the last given: what upserting them one after another leaves,
        # and PostgreSQL refuses a statement that would update one row twice.
        self._insert(cur, self._UPSERT_INTO, list(rows.values()), self._UPSERT_ON)
        return owners

    def _insert(self, cur: Any, into: str, rows: Sequence[Sequence[Any]], tail: str = "") -> None:
        """`into` VALUES (...), (...) `tail` for `rows`, as few statements as the parameter
        limit allows. A statement per row (executemany) steps SQLite once a row, and each
        step lets go of the interpreter: a 1,000-entry upload's journal transaction took
        25 ms with nobody else running and twice that beside busy threads; in statements
        of 99 records (166 journal rows) it takes 17 and 21 ms."""
        if not rows:
            return
        group = self._marks(len(rows[0]))
        for chunk in self._pieces(rows, width=len(rows[0])):
            cur.execute(
                f"{into} VALUES {', '.join([group] * len(chunk))}{tail}",
                [v for row in chunk for v in row],
            )

    def _marks(self, n: int) -> str:
        """`(?, ?, ...)`: n placeholders in parentheses, for a row or an IN list."""
        return "(" + ", ".join([self.placeholder] * n) + ")"

    def _pieces(self, items: Sequence[T], width: int = 1, taken: int = 0) -> Iterator[Sequence[T]]:
        """`items` in pieces whose values (`width` each, `taken` more beside them) fit in
        one statement."""
        per = max(1, (self._MAX_PARAMS - taken) // width)
        for start in range(0, len(items), per):
            yield items[start : start + per]

    def _delete(self, cur: Any, address: str) -> list[str]:
        """Forget one record; returns the identity of its collection (empty if it was not there)."""
        cur.execute(
            self._q("DELETE FROM resources WHERE address = ? RETURNING collection"), (address,)
        )
        return [r[0] or "" for r in cur.fetchall()]

    # -- reads -----------------------------------------------------------------------
    def lineage_serial(self) -> tuple[str, int]:
        with self._tx() as cur:
            cur.execute("SELECT key, value FROM meta")
            meta = dict(cur.fetchall())
        return meta["lineage"], int(meta["serial"])

    def entries(
        self, provider: str | None = None, kind: str | None = None, scope: str | None = None
    ) -> dict[str, StateEntry]:
        sql = f"SELECT {COLUMNS} FROM resources"
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
            shared: dict[str, str] = {}
            while rows := cur.fetchmany(5000):
                for r in rows:
                    out[r[0]] = entry_from_row(r, shared)
        return out

    def get(self, address: str) -> StateEntry | None:
        with self._tx() as cur:
            cur.execute(self._q(f"SELECT {COLUMNS} FROM resources WHERE address = ?"), (address,))
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
                    f"SELECT {COLUMNS} FROM resources WHERE collection IN ({marks}) ORDER BY address"
                ),
                identities,
            )
            shared: dict[str, str] = {}
            while rows := cur.fetchmany(5000):
                for r in rows:
                    out[r[0]] = entry_from_row(r, shared)
        return out

    def owned_by_collection(self, identities: list[str]) -> dict[str, dict[str, StateEntry]]:
        # The hot read of every plan (a million rows at the largest projects measured). A
        # collection's rows share a provider, a kind and (nearly always) a scope: each
        # combination is read on its own, so rows carry only what differs and the texts
        # they share are kept once.
        out: dict[str, dict[str, StateEntry]] = {}
        with self._tx() as cur:
            for collection in identities:
                cur.execute(
                    self._q(
                        "SELECT DISTINCT provider, kind, scope FROM resources WHERE collection = ?"
                    ),
                    (collection,),
                )
                entries: dict[str, StateEntry] = {}
                for provider, kind, scope in cur.fetchall():
                    for address, key, remote_id, fields, status in self._rows_of(
                        cur, collection, provider, kind, scope
                    ):
                        key = intern(key)  # the declared item's key, when the cache interned it
                        entries[key] = StateEntry(
                            address, provider, kind, scope, key,
                            key if remote_id == key else remote_id,
                            JsonFields(fields), STATUS.get(status) or Status(status), collection,
                        )  # fmt: skip
                if entries:
                    out[collection] = entries
        return out

    def _rows_of(
        self, cur: Any, collection: str, provider: str, kind: str, scope: str
    ) -> Iterator[Sequence[Any]]:
        """(address, key, remote_id, fields, status) of every row of a collection with
        that provider, kind and scope."""
        cur.execute(
            self._q(
                "SELECT address, key, remote_id, fields, status FROM resources "
                "WHERE collection = ? AND provider = ? AND kind = ? AND scope = ?"
            ),
            (collection, provider, kind, scope),
        )
        while rows := cur.fetchmany(5000):
            yield from rows

    def owners_of(
        self, provider: str, kind: str, remote_ids: Iterable[str]
    ) -> dict[str, StateEntry]:
        # A first adopt of 100,000 records asks for all of them: a statement per 997, not
        # per record (0.7 s of a 9 s adopt).
        out: dict[str, StateEntry] = {}
        with self._tx() as cur:
            for chunk in self._pieces(sorted(set(remote_ids)), taken=2):
                cur.execute(
                    self._q(
                        f"SELECT {COLUMNS} FROM resources WHERE provider = ? AND kind = ? AND remote_id IN "
                    )
                    + self._marks(len(chunk)),
                    [provider, kind, *chunk],
                )
                for row in cur.fetchall():
                    entry = entry_from_row(row)
                    out[str(entry.remote_id)] = entry
        return out

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

    def collection_serials(self, identities: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(identities))
        out = dict.fromkeys(wanted, 0)
        if not wanted:
            return out
        marks = ", ".join("?" for _ in wanted)
        with self._tx() as cur:
            cur.execute(
                self._q(f"SELECT collection, serial FROM serials WHERE collection IN ({marks})"),
                wanted,
            )
            out.update((r[0], int(r[1])) for r in cur.fetchall())
        return out

    def journal(self, limit: int = 50) -> list[dict[str, Any]]:
        with self._tx() as cur:
            cur.execute(
                self._q(
                    "SELECT id, address, action, started_at, finished_at, outcome, detail, serial FROM journal ORDER BY id DESC LIMIT ?"
                ),
                (limit,),
            )
            cols = [
                "id",
                "address",
                "action",
                "started_at",
                "finished_at",
                "outcome",
                "detail",
                "serial",
            ]
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
            self._bump(cur, [self._upsert(cur, entry)])

    def remove(self, address: str) -> bool:
        with self._tx() as cur:
            owners = self._delete(cur, address)
            if owners:
                self._bump(cur, owners)
        return bool(owners)

    def record_many(self, puts: list[StateEntry], removes: list[str]) -> None:
        if not puts and not removes:
            return
        with self._tx() as cur:
            owners = self._upsert_many(cur, puts)
            for address in removes:
                owners += self._delete(cur, address)
            self._bump(cur, owners)

    def restore(
        self,
        entries: list[StateEntry],
        collections: list[KnownCollection],
        lineage: str,
        serial: int,
    ) -> None:
        """Replace every record and collection, the lineage and the serial, in one
        transaction (`reconcile state push`); the journal is kept. Every collection takes
        the new serial, so a plan made before against any of them is stale."""
        with self._tx() as cur:
            cur.execute("SELECT DISTINCT collection FROM resources")
            owners = [r[0] or "" for r in cur.fetchall()]
            cur.execute("DELETE FROM resources")
            cur.execute("DELETE FROM collections")
            owners += self._upsert_many(cur, entries)
            cur.execute(self._q("UPDATE meta SET value = ? WHERE key = ?"), (lineage, "lineage"))
            cur.execute(
                self._q("UPDATE meta SET value = ? WHERE key = ?"), (str(serial - 1), "serial")
            )
            self._bump(cur, owners)
            self._remember(cur, collections)

    def begin_write(self, change: Change, previous: StateEntry | None) -> int:
        return self.begin_writes([change], [previous])[0]

    def begin_writes(self, changes: list[Change], previous: list[StateEntry | None]) -> list[int]:
        return self.finish_and_begin((), changes, previous)

    def finish_write(
        self, journal_id: int, change: Change, previous: StateEntry | None, outcome: Outcome
    ) -> None:
        self.finish_writes([journal_id], [change], [previous], [outcome])

    def finish_writes(
        self,
        journal_ids: list[int],
        changes: list[Change],
        previous: list[StateEntry | None],
        outcomes: list[Outcome],
    ) -> None:
        self.finish_and_begin([Answered(journal_ids, changes, previous, outcomes)], [], [])

    def finish_and_begin(
        self,
        answered: Sequence[Answered],
        changes: list[Change],
        previous: list[StateEntry | None],
    ) -> list[int]:
        if not answered and not changes:
            return []
        # One transaction, one serial and one commit for all: the new unit is journaled
        # whole or not at all, and the answers ride along instead of costing a commit each.
        with self._tx() as cur:
            at = now()
            owners: list[str] = []
            finished: list[tuple[Any, ...]] = []
            settled: list[StateEntry] = []
            for a in answered:
                for j, c, p, o in zip(
                    a.journal_ids, a.changes, a.previous, a.outcomes, strict=True
                ):
                    finished.append((at, o.result, o.detail[:2000], j))
                    entry, owner = _settled(c, p, o)
                    if entry is not None:
                        settled.append(entry)
                    elif owner is None:  # a record the vendor no longer holds
                        owners += self._upsert_many(cur, settled, at)
                        settled = []
                        owners += self._delete(cur, c.address)
                    else:
                        owners.append(owner)
            self._finish(cur, finished)
            owners += self._upsert_many(cur, settled, at)
            owners += [_owner(c, p) for c, p in zip(changes, previous, strict=True)]
            serial = self._bump(cur, owners)
            jids = self._begin(cur, changes, previous, serial, at)
        return jids

    def _finish(self, cur: Any, finished: list[tuple[Any, ...]]) -> None:
        """Record answers in the journal: (finished_at, outcome, detail, id) rows, one
        statement for each distinct answer (a batch's 1,000 "ok" are one)."""
        same: dict[tuple[Any, ...], list[Any]] = {}
        for at, outcome, detail, jid in finished:
            same.setdefault((at, outcome, detail), []).append(jid)
        for answer, ids in same.items():
            for chunk in self._pieces(ids, taken=3):
                cur.execute(
                    self._q(
                        "UPDATE journal SET finished_at = ?, outcome = ?, detail = ? WHERE id IN "
                    )
                    + self._marks(len(chunk)),
                    [*answer, *chunk],
                )

    def _begin(
        self,
        cur: Any,
        changes: list[Change],
        previous: list[StateEntry | None],
        serial: int,
        at: str,
    ) -> list[int]:
        """Journal `changes` and mark their records uncertain; returns the journal ids."""
        if not changes:
            return []
        rows = [
            (c.address, c.action.value, entry_json(p), dumps(c.after), at, serial)
            for c, p in zip(changes, previous, strict=True)
        ]
        into = "INSERT INTO journal (address, action, previous, intended, started_at, serial)"
        if len(rows) == 1:
            cur.execute(self._q(into + " VALUES (?, ?, ?, ?, ?, ?) RETURNING id"), rows[0])
            jids = [int(cur.fetchone()[0])]
        else:
            # A batch (one upload of many entries) in few statements; its ids are found by
            # this transaction's serial, which no other transaction shares. A unit's
            # addresses are distinct.
            cur.execute("SELECT COALESCE(MAX(id), 0) FROM journal")
            floor = int(cur.fetchone()[0])
            self._insert(cur, into, rows)
            cur.execute(
                self._q("SELECT address, id FROM journal WHERE id > ? AND serial = ?"),
                (floor, serial),
            )
            ids = dict(cur.fetchall())
            jids = [int(ids[c.address]) for c in changes]
        marked = [
            StateEntry(
                address=c.address,
                provider=c.provider,
                kind=c.kind,
                scope=c.scope,
                key=c.key,
                remote_id=c.remote_id or (p.remote_id if p else None),
                fields=p.fields if p else (c.after or {}),
                status=Status.UNCERTAIN,
                collection=_owner(c, p),
            )
            for c, p in zip(changes, previous, strict=True)
        ]
        self._upsert_many(cur, marked, at)
        return jids


def _settled(
    change: Change, previous: StateEntry | None, outcome: Outcome
) -> tuple[StateEntry | None, str | None]:
    """What one answer makes of the record: the entry to write, or (None, owner) when
    nothing is written, or (None, None) when the record is to be forgotten."""
    if outcome.result == "ok":
        if change.action is Action.DELETE:
            return None, None
        remote_id = (
            outcome.remote_id or change.remote_id or (previous.remote_id if previous else None)
        )
        sent = {f.name for f in change.fields}
        entry = carry_replaced(change.entry(remote_id), previous, sent)
        if not entry.collection and previous is not None:
            entry = replace(entry, collection=previous.collection)
        return entry, None
    if outcome.result == "failed":
        # The vendor refused: nothing changed there, so state goes back to what it was.
        if previous is None:
            return None, None
        return previous, None
    return None, _owner(change, previous)


def _owner(change: Change, previous: StateEntry | None) -> str:
    owner = change.collection or (previous.collection if previous else "")
    return owner or f"{change.provider}/{change.kind}/{change.scope}"
