"""The same contract for every state backend: SQLite always, PostgreSQL when it is there.

PostgreSQL tests skip with a reason when no server answers, and fail instead
when RECONCILE_REQUIRE_PG=1 (as CI sets it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconcile.errors import StateLockedError
from reconcile.model import Action, Change, StateEntry, Status
from reconcile.state.base import Outcome, StateStore
from reconcile.state.sqlite import SqliteStore
from tests.conftest import Project, Sandbox, cio_manifest

PG_DSN = os.environ.get(
    "RECONCILE_TEST_PG_DSN", "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=3"
)


def _pg_schema() -> str:
    try:
        import psycopg
    except ImportError as exc:
        if os.environ.get("RECONCILE_REQUIRE_PG") == "1":
            raise
        pytest.skip(f"psycopg is not installed: {exc}")
    try:
        conn = psycopg.connect(PG_DSN, autocommit=True)
    except psycopg.Error as exc:
        if os.environ.get("RECONCILE_REQUIRE_PG") == "1":
            pytest.fail(f"RECONCILE_REQUIRE_PG=1 but PostgreSQL is not reachable: {exc}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_DSN}: {exc}")
    schema = "t_" + uuid.uuid4().hex[:12]
    conn.execute(f"CREATE SCHEMA {schema}")
    conn.close()
    return schema


def _drop(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    if request.param == "sqlite":
        yield lambda: SqliteStore(tmp_path / "state.db")
        return
    schema = _pg_schema()
    from reconcile.state.postgres import PostgresStore

    yield lambda: PostgresStore(f"{PG_DSN} options=-csearch_path={schema}")
    _drop(schema)


def _change(action: Action, key: str = "K1", after: dict[str, object] | None = None) -> Change:
    return Change(f"p/contacts/{key}", action, "p", "ciopulse/contacts", "", key, None, (), after)


def test_lineage_is_fixed_and_serial_grows_on_every_write(open_store: object) -> None:
    store: StateStore = open_store()  # type: ignore[operator]
    lineage, serial = store.lineage_serial()
    store.put(StateEntry("p/contacts/K1", "p", "ciopulse/contacts", "", "K1", "K1", {"a": 1}))
    assert store.lineage_serial() == (lineage, serial + 1)
    store.remove("p/contacts/K1")
    assert store.lineage_serial() == (lineage, serial + 2)
    store.close()
    again: StateStore = open_store()  # type: ignore[operator]
    assert again.lineage_serial()[0] == lineage
    again.close()


def test_journal_marks_uncertain_before_and_ok_after(open_store: object) -> None:
    store: StateStore = open_store()  # type: ignore[operator]
    c = _change(Action.CREATE, after={"first_name": "Ann"})
    jid = store.begin_write(c, None)
    entry = store.get(c.address)
    assert entry is not None and entry.status is Status.UNCERTAIN
    store.finish_write(jid, c, None, Outcome("ok", "K1"))
    entry = store.get(c.address)
    assert (
        entry is not None
        and entry.status is Status.OK
        and entry.fields == {"first_name": "Ann"}
        and entry.remote_id == "K1"
    )
    assert store.journal()[0]["outcome"] == "ok"
    store.close()


def test_a_refused_write_restores_what_was_there(open_store: object) -> None:
    store: StateStore = open_store()  # type: ignore[operator]
    before = StateEntry(
        "p/contacts/K1",
        "p",
        "ciopulse/contacts",
        "",
        "K1",
        "K1",
        {"x": 1},
        collection="p/ciopulse/contacts/",
    )
    store.put(before)
    c = _change(Action.UPDATE, after={"x": 2})
    jid = store.begin_write(c, before)
    store.finish_write(jid, c, before, Outcome("failed", None, "422"))
    assert store.get(c.address) == before
    created = _change(Action.CREATE, "K2", {"x": 1})
    jid = store.begin_write(created, None)
    store.finish_write(jid, created, None, Outcome("failed", None, "400"))
    assert store.get(created.address) is None
    unknown = _change(Action.CREATE, "K3", {"x": 1})
    jid = store.begin_write(unknown, None)
    store.finish_write(jid, unknown, None, Outcome("unknown", None, "timeout"))
    entry = store.get(unknown.address)
    assert entry is not None and entry.status is Status.UNCERTAIN
    store.close()


def test_lock_is_exclusive_and_names_its_holder(open_store: object) -> None:
    first: StateStore = open_store()  # type: ignore[operator]
    second: StateStore = open_store()  # type: ignore[operator]
    with first.lock("apply") as info:
        with pytest.raises(StateLockedError) as err, second.lock("apply"):
            pass
        assert info.holder in str(err.value) and "apply" in str(err.value)
    with second.lock("apply"):
        pass
    first.close()
    second.close()


def test_full_cli_flow_on_postgres_state(project: Project, sandbox: Sandbox) -> None:
    schema = _pg_schema()
    try:
        project.write_config(state='{backend: postgres, dsn: "${RECONCILE_PG_DSN}"}')
        project.manifest(cio_manifest(4))
        env = {"RECONCILE_PG_DSN": f"{PG_DSN} options=-csearch_path={schema}"}
        assert project.run("apply", "--auto-approve", env=env).code == 0
        assert project.run("plan", "--detailed-exitcode", env=env).code == 0
        assert len(project.run("state", "list", env=env).out.splitlines()) == 4
        assert not (project.root / ".reconcile").exists()
    finally:
        _drop(schema)


def test_a_state_newer_than_this_reconcile_is_refused(open_store: object) -> None:
    from reconcile.errors import StateError

    store: StateStore = open_store()  # type: ignore[operator]
    with store._tx() as cur:  # type: ignore[attr-defined]
        cur.execute(
            store._q("INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)"),
            (99, "future", "2099-01-01T00:00:00Z"),
        )  # type: ignore[attr-defined]
    store.close()
    with pytest.raises(StateError, match="newer than this reconcile"):
        open_store()  # type: ignore[operator]


def test_journal_is_trimmed_but_writes_in_flight_are_kept(open_store: object) -> None:
    store: StateStore = open_store()  # type: ignore[operator]
    in_flight = store.begin_write(_change(Action.CREATE, "K0", {"x": 0}), None)
    for i in range(1, 6):
        c = _change(Action.CREATE, f"K{i}", {"x": i})
        store.finish_write(store.begin_write(c, None), c, None, Outcome("ok", f"K{i}"))
    assert store.trim_journal(keep=2) == 3
    ids = [row["id"] for row in store.journal(100)]
    assert in_flight in ids and len(ids) == 3
    store.close()


def test_a_collection_read_whole_in_more_than_one_piece(open_store: object) -> None:
    """Plans read a collection's rows in pieces of 10,000 (SQLite): every row comes back
    once, with its own fields and status, across the piece boundaries, and each row goes
    to its own collection."""
    store: StateStore = open_store()  # type: ignore[operator]
    n = 25_001
    puts = [
        StateEntry(f"p/contacts/K{i:05d}", "p", "ciopulse/contacts", "", f"K{i:05d}",
                   f"K{i:05d}" if i % 3 else f"R{i}", {"n": i, "text": 'a\\"b\n'},
                   Status.OK if i % 7 else Status.UNCERTAIN, "p/ciopulse/contacts/")
        for i in range(n)
    ]  # fmt: skip
    other = StateEntry("q/contacts/K1", "q", "ciopulse/contacts", "", "K1", "K1", {}, Status.OK,
                       "q/ciopulse/contacts/")  # fmt: skip
    store.record_many([*puts, other], [])
    got = store.owned_by_collection(["p/ciopulse/contacts/", "q/ciopulse/contacts/"])
    assert sorted(got) == ["p/ciopulse/contacts/", "q/ciopulse/contacts/"]
    mine = got["p/ciopulse/contacts/"]
    assert len(mine) == n and list(got["q/ciopulse/contacts/"]) == ["K1"]
    for e in puts[::997] + puts[-3:]:
        back = mine[e.key]
        assert (back.address, back.remote_id, back.status, back.collection) == (
            e.address, e.remote_id, e.status, e.collection,
        )  # fmt: skip
        assert dict(back.fields) == dict(e.fields)
    store.close()


def test_a_collection_whose_rows_differ_in_scope_or_kind_is_read_whole(
    open_store: object,
) -> None:
    """Rows are read per provider, kind and scope: a collection owning rows of several
    (a blacklist's channels, a record moved in from another scope) still comes back whole,
    each row with its own."""
    store: StateStore = open_store()  # type: ignore[operator]
    owner = "u/ucontact/blacklist/phone"
    rows = [
        StateEntry(f"u/blacklist/{scope}/{key}", "u", kind, scope, key, None, {}, Status.OK, owner)
        for key, kind, scope in [
            ("+4930111", "ucontact/blacklist", "phone"),
            ("+4930222", "ucontact/blacklist", "phone@Ventas"),
            ("a@example.org", "ucontact/blacklist", "email"),
            ("+4930333", "ucontact/dialer-base", "phone"),
        ]
    ]
    store.record_many(rows, [])
    got = store.owned_by_collection([owner])[owner]
    assert {k: (e.kind, e.scope, e.address, e.remote_id) for k, e in got.items()} == {
        e.key: (e.kind, e.scope, e.address, None) for e in rows
    }
    store.close()


def test_a_batch_is_journaled_in_one_go_and_each_answer_lands_on_its_own_row(
    open_store: object,
) -> None:
    """A batch upload journals many writes in one transaction; each entry keeps its own
    journal row, and mixed answers (taken, refused, unknown, a delete) each reach theirs."""
    store: StateStore = open_store()  # type: ignore[operator]
    gone = StateEntry("p/contacts/D", "p", "ciopulse/contacts", "", "D", "D", {"x": 0})
    store.put(gone)
    creates = [_change(Action.CREATE, f"K{i}", {"x": i}) for i in range(5)]
    delete = _change(Action.DELETE, "D")
    changes = [*creates, delete]
    previous: list[StateEntry | None] = [None] * 5 + [gone]
    jids = store.begin_writes(changes, previous)
    assert len(set(jids)) == 6
    rows = {r["id"]: r for r in store.journal(limit=10)}
    assert [rows[j]["address"] for j in jids] == [c.address for c in changes]
    assert all(store.get(c.address).status is Status.UNCERTAIN for c in changes)  # type: ignore[union-attr]
    outcomes = [
        Outcome("ok", "R0"),
        Outcome("failed", None, "refused"),
        Outcome("unknown", None, "timeout"),
        Outcome("ok", "R3"),
        Outcome("ok", "R4"),
        Outcome("ok", None),
    ]
    store.finish_writes(jids, changes, previous, outcomes)
    rows = {r["id"]: r for r in store.journal(limit=10)}
    assert [rows[j]["outcome"] for j in jids] == ["ok", "failed", "unknown", "ok", "ok", "ok"]
    assert rows[jids[1]]["detail"] == "refused"
    k0 = store.get("p/contacts/K0")
    assert k0 is not None and k0.status is Status.OK and k0.remote_id == "R0"
    assert store.get("p/contacts/K1") is None  # refused create: never there
    k2 = store.get("p/contacts/K2")
    assert k2 is not None and k2.status is Status.UNCERTAIN
    assert store.get("p/contacts/D") is None  # deleted at the vendor: forgotten
    store.close()


def test_a_large_batch_crosses_statement_limits_and_each_row_keeps_its_own(
    open_store: object,
) -> None:
    """Rows are written many to a statement, at most 999 values each: a batch of 1,200 spans
    several statements of every kind (journal entries, records, answers), and each journal
    row and record still gets its own change's values; the owners of 1,200 remote ids come
    back from one call, those held only."""
    store: StateStore = open_store()  # type: ignore[operator]
    n = 1200
    changes = [_change(Action.CREATE, f"K{i:04d}", {"x": i}) for i in range(n)]
    previous: list[StateEntry | None] = [None] * n
    jids = store.begin_writes(changes, previous)
    rows = {r["id"]: r for r in store.journal(limit=n)}
    assert [rows[j]["address"] for j in jids] == [c.address for c in changes]

    def answer(i: int) -> Outcome:
        if i % 7 == 0:
            return Outcome("failed", None, f"refused {i}")
        if i % 11 == 0:
            return Outcome("unknown", None, "timeout")
        return Outcome("ok", f"R{i}")

    store.finish_writes(jids, changes, previous, [answer(i) for i in range(n)])
    rows = {r["id"]: r for r in store.journal(limit=n)}
    for i in (0, 1, 7, 11, 77, 998, 999, 1000, n - 1):
        row, entry = rows[jids[i]], store.get(changes[i].address)
        assert (row["outcome"], row["detail"] or "") == (answer(i).result, answer(i).detail), i
        if i % 7 == 0:
            assert entry is None  # refused create: never there
        elif i % 11 == 0:
            assert entry is not None and entry.status is Status.UNCERTAIN
        else:
            assert entry is not None and entry.status is Status.OK
            assert (entry.remote_id, dict(entry.fields)) == (f"R{i}", {"x": i})
    held = store.owners_of("p", "ciopulse/contacts", [f"R{i}" for i in range(n)] + ["R-none"])
    taken = [i for i in range(n) if i % 7 and i % 11]
    assert sorted(held) == sorted(f"R{i}" for i in taken)
    assert all(held[f"R{i}"].address == changes[i].address for i in taken)
    store.close()
