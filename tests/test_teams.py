"""Teams: per-collection locks, concurrent writers, sharded runs and state migrate, on both
state backends (PostgreSQL skips with a reason when absent, fails when CI requires it)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconcile.model import collection_identity
from reconcile.state import open_store
from reconcile.state.base import StateStore
from reconcile.state.sql import SqlStore
from reconcile.state.sqlite import SqliteStore
from reconcile.state.transfer import digests
from tests.conftest import Project, Sandbox, cio_manifest, reconcile_subprocess_env
from tests.test_state_backends import PG_DSN, _drop, _pg_schema

CAMPAIGNS = {538: "Outbound Sales", 539: "Renewals", 540: "Winback", 541: "Surveys"}


def jtel_doc(campaign: str, n: int, start: int = 0, tag: str = "") -> str:
    items = "".join(
        "  - " + json.dumps({"UserData": f"CRM-{i}", "Name": f"Muster{i}{tag}",
                             "PhoneNumber1": f"+4930{start // 100 + 1:02d}{i:05d}"}) + "\n"
        for i in range(start, start + n)
    )  # fmt: skip
    return f"kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {{name: {campaign}}}\nitems:\n{items}"


def write_project(project: Project, n: int = 12, tag: str = "") -> None:
    docs = [jtel_doc(name, n, k * 100, tag) for k, name in enumerate(CAMPAIGNS.values())]
    project.manifest("---\n".join(docs), "manifests/jtel.yaml")
    project.manifest(cio_manifest(n), "manifests/cio.yaml")


class Backend:
    """Where a test project keeps its state: a SQLite file, or a schema of its own in PostgreSQL."""

    def __init__(self, name: str, schema: str | None) -> None:
        self.name = name
        self.schema = schema

    def configure(self, project: Project) -> None:
        if self.schema is None:
            project.write_config()
        else:
            project.write_config(state='{backend: postgres, dsn: "${RECONCILE_PG_DSN}"}')
        self.project = project

    @property
    def env(self) -> dict[str, str]:
        return {"RECONCILE_PG_DSN": self.dsn} if self.schema else {}

    @property
    def dsn(self) -> str:
        return f"{PG_DSN} options=-csearch_path={self.schema}"

    def open(self) -> StateStore:
        if self.schema is None:
            from reconcile.state.sqlite import SqliteStore

            return SqliteStore(self.project.root / ".reconcile" / "state.db")
        from reconcile.state.postgres import PostgresStore

        return PostgresStore(self.dsn)

    def run(self, *args: str) -> Any:
        return self.project.run(*args, env=self.env)

    def process(self, *args: str) -> subprocess.Popen[str]:
        env = {**reconcile_subprocess_env(), **self.env}
        return subprocess.Popen(
            [sys.executable, "-m", "reconcile", "-C", str(self.project.root), "--no-color", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", None)
        return
    schema = _pg_schema()
    yield Backend("postgres", schema)
    _drop(schema)


def finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    out = []
    for p in procs:
        o, e = p.communicate(timeout=300)
        out.append((p.returncode, o + e))
    return out


def jtel_held(sandbox: Sandbox) -> list[tuple[int, str, str, str]]:
    return sorted(
        (c["DiallerCampaignsID"], c["UserData"], c["Name"], c["PhoneNumber1"])
        for c in sandbox.jtel_contacts()
    )


def test_a_run_on_a_held_collection_fails_naming_the_holder_and_others_proceed(
    project: Project, sandbox: Sandbox, backend: Backend
) -> None:
    backend.configure(project)
    write_project(project, 3)
    outbound = collection_identity("dialler", "jtel/dialler-contacts", "538")
    holder = backend.open()
    try:
        with holder.lock("apply", collections=[outbound]) as info:
            blocked = backend.run(
                "apply", "--auto-approve", "--target", "dialler/dialler-contacts/Outbound Sales"
            )
            assert blocked.code == 1
            assert (
                f"collection {outbound} is locked by {info.holder} running apply since"
                in blocked.err
            )
            assert not any(c[0] == 538 for c in jtel_held(sandbox)), (
                "nothing is sent to a locked collection"
            )
            # jtel's other campaigns and CIOPulse are other collections: they go ahead.
            other = backend.run(
                "apply",
                "--auto-approve",
                "--target",
                "dialler/dialler-contacts/Renewals",
                "--target",
                "cio",
            )
            assert other.code == 0, other.text
            assert (
                len(sandbox.cio_contacts()) == 3
                and sum(c[0] == 539 for c in jtel_held(sandbox)) == 3
            )
            # A command that rewrites the whole store waits for every collection's holder.
            whole = backend.run("state", "rm", "cio/contacts/AGENT-00000")
            assert whole.code == 1 and info.holder in whole.err
    finally:
        holder.close()
    assert backend.run("apply", "--auto-approve").code == 0
    assert backend.run("plan", "--detailed-exitcode").code == 0


def test_four_concurrent_writers_keep_serial_journal_and_ownership_consistent(
    project: Project, sandbox: Sandbox, backend: Backend
) -> None:
    backend.configure(project)
    write_project(project, 15)
    sandbox.faults(latency_ms=5)
    assert backend.run("plan").code == 0  # creates the state before the race
    names = list(CAMPAIGNS.values())
    targets = [
        [f"dialler/dialler-contacts/{names[0]}"],
        [f"dialler/dialler-contacts/{names[1]}", "cio"],
        [f"dialler/dialler-contacts/{names[2]}"],
        [
            f"dialler/dialler-contacts/{names[3]}",
            f"dialler/dialler-contacts/{names[0]}",
        ],  # overlaps the first
    ]
    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:  # the serial another reader sees never goes back
        store = backend.open()
        try:
            while not stop.is_set():
                seen.append(store.lineage_serial()[1])
        finally:
            store.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        procs = [
            backend.process(
                "apply",
                "--auto-approve",
                "--lock-timeout",
                "240",
                *(a for t in ts for a in ("--target", t)),
            )
            for ts in targets
        ]
        results = finish(procs)
    finally:
        stop.set()
        watcher.join()
    assert all(code == 0 for code, _ in results), results
    assert seen == sorted(seen) and len(seen) > 1
    sandbox.faults()
    assert backend.run("plan", "--detailed-exitcode").code == 0
    held = jtel_held(sandbox)
    assert len(held) == 60 and len({(c, k) for c, k, *_ in held}) == 60, "every contact once"
    assert len(sandbox.cio_contacts()) == 15
    store = backend.open()
    try:
        journal = store.journal(10_000)
        entries = store.entries()
        lineage, serial = store.lineage_serial()
        coll_serials = store.collection_serials({e.collection for e in entries.values()})
    finally:
        store.close()
    assert len(journal) == 75, "one journal row per vendor write, none lost"
    assert all(r["outcome"] == "ok" for r in journal)
    serials = [r["serial"] for r in journal]
    assert len(set(serials)) == len(serials), "no two writes saw the same serial"
    assert max(serials) < serial
    remote = [(e.provider, e.remote_id) for e in entries.values()]
    assert len(entries) == 75 and len(set(remote)) == 75, "no record owned twice"
    assert all(0 < s <= serial for s in coll_serials.values()) and len(coll_serials) == 5


def test_three_shards_in_parallel_reach_what_one_unsharded_apply_reaches(
    project: Project, sandbox: Sandbox, backend: Backend, tmp_path: Path
) -> None:
    backend.configure(project)
    write_project(project, 10)
    plans = [
        json.loads(backend.run("plan", "--format", "json", "--shard", f"{i}/3").out)
        for i in (1, 2, 3)
    ]
    shares = [{c["address"] for c in p["changes"]} for p in plans]
    whole = {
        c["address"] for c in json.loads(backend.run("plan", "--format", "json").out)["changes"]
    }
    assert sum(len(s) for s in shares) == len(whole) == 50 and set().union(*shares) == whole
    assert sum(1 for s in shares if s) >= 2, "the five collections spread over the shards"
    results = finish(
        [backend.process("apply", "--auto-approve", "--shard", f"{i}/3") for i in (1, 2, 3)]
    )
    assert all(code == 0 for code, _ in results), results
    sharded_vendor = (jtel_held(sandbox), sandbox.cio_contacts())
    sharded_state = _contents(backend)
    for i in (1, 2, 3):
        assert backend.run("drift", "--shard", f"{i}/3").code == 0

    sandbox.admin("POST", "/reset")
    single = Project(tmp_path / "single", sandbox.url)
    write_project(single, 10)
    assert single.run("apply", "--auto-approve").code == 0
    assert (jtel_held(sandbox), sandbox.cio_contacts()) == sharded_vendor
    store = open_store(_sqlite_config(single))
    try:
        assert _store_contents(store) == sharded_state
    finally:
        store.close()


def _sqlite_config(project: Project) -> Any:
    from reconcile.config import load_project

    return load_project(project.root, None).state


def _contents(backend: Backend) -> Any:
    store = backend.open()
    try:
        return _store_contents(store)
    finally:
        store.close()


def _store_contents(store: StateStore) -> Any:
    # Remote ids are the vendor's to choose (jtel numbers contacts as they come): compared apart.
    records = sorted(
        (e.address, e.collection, e.status.value, json.dumps(dict(e.fields), sort_keys=True))
        for e in store.entries().values()
    )
    colls = sorted(
        (c.identity, c.scope, c.scope_id, c.prune, c.origin) for c in store.known_collections()
    )
    return records, colls


def test_a_saved_plan_is_stale_only_when_a_collection_it_changes_moved(
    project: Project, sandbox: Sandbox, backend: Backend
) -> None:
    backend.configure(project)
    write_project(project, 2)
    assert (
        backend.run("plan", "--out", str(project.root / "jtel.json"), "--target", "dialler").code
        == 0
    )
    assert backend.run("apply", "--auto-approve", "--target", "cio").code == 0  # another collection
    assert backend.run("apply", str(project.root / "jtel.json")).code == 0
    write_project(project, 2, tag="x")
    assert backend.run("plan", "--out", str(project.root / "again.json")).code == 0
    assert (
        backend.run("apply", "--auto-approve", "--target", "dialler/dialler-contacts/Renewals").code
        == 0
    )
    stale = backend.run("apply", str(project.root / "again.json"))
    assert stale.code == 1 and "dialler/jtel/dialler-contacts/539 (serial" in stale.err
    assert "the state changed since the plan was made" in stale.err


def test_state_migrates_between_backends_checked_and_never_into_a_non_empty_target(
    project: Project, sandbox: Sandbox, tmp_path: Path
) -> None:
    schema = _pg_schema()
    dsn = f"{PG_DSN} options=-csearch_path={schema}"
    try:
        write_project(project, 5)
        assert project.run("apply", "--auto-approve").code == 0
        source = open_store(_sqlite_config(project))
        assert isinstance(source, SqlStore)
        before = digests(source)
        source.close()
        moved = project.run("state", "migrate", "--to", dsn)
        assert moved.code == 0, moved.text
        assert "resources: 25 rows" in moved.out and "journal: 25 rows" in moved.out
        assert "password" not in moved.text and schema not in moved.text
        again = project.run("state", "migrate", "--to", dsn)
        assert again.code == 1 and "not an empty state (25 resources rows" in again.err
        # The team now works on PostgreSQL: same lineage, nothing to do, new writes number on.
        pg = Backend("postgres", schema)
        pg.configure(project)
        assert pg.run("plan", "--detailed-exitcode").code == 0
        write_project(project, 5, tag="y")
        assert pg.run("apply", "--auto-approve").code == 0
        store = pg.open()
        ids = [r["id"] for r in store.journal(1000)]
        store.close()
        assert len(ids) == len(set(ids)) == 45  # 25 creates, then 20 jtel renames
        # And back to a new SQLite file, which then holds exactly what PostgreSQL holds.
        back = tmp_path / "back.db"
        assert pg.run("state", "migrate", "--to", str(back)).code == 0
        pg_store, sqlite_store = pg.open(), SqliteStore(back)
        try:
            assert isinstance(pg_store, SqlStore) and isinstance(sqlite_store, SqlStore)
            assert digests(pg_store) == digests(sqlite_store) != before
        finally:
            pg_store.close()
            sqlite_store.close()
    finally:
        _drop(schema)
