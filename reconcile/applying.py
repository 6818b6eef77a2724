"""Applying a plan: state-only changes in one transaction, then vendor writes phase by
phase, each journaled before it is sent and committed right after its answer."""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconcile.errors import ProviderError, RetryableError
from reconcile.model import Action, Change, Plan, StateEntry, Status
from reconcile.providers.base import Provider
from reconcile.state.base import Outcome

if TYPE_CHECKING:
    from reconcile.engine import Engine

log = logging.getLogger("reconcile.apply")

Progress = Callable[[int, int], None]
JOURNAL_KEEP = 100_000  # finished write records kept for `reconcile state journal`


@dataclass
class ApplyResult:
    succeeded: list[Change] = field(default_factory=list)
    failed: list[tuple[Change, str]] = field(default_factory=list)
    uncertain: list[tuple[Change, str]] = field(default_factory=list)
    skipped: list[tuple[Change, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.failed or self.uncertain)


def _state_only(c: Change) -> bool:
    return not c.action.writes_vendor and not (c.action is Action.ADOPT and c.fields)


def apply_plan(
    engine: Engine,
    plan: Plan,
    *,
    skip: Iterable[tuple[Change, str]] = (),
    progress: Progress | None = None,
) -> ApplyResult:
    """Apply `plan`, phase by phase; the caller holds the state lock."""
    from reconcile.planning import with_collections

    engine.remember(engine.last_refreshed)
    identities = {r.coll.prefix: r.identity for r in engine.last_refreshed}
    scope_ids = {r.coll.prefix: r.scope_id for r in engine.last_refreshed}
    result = ApplyResult()
    skipped = {c.address + c.action.value: why for c, why in skip}
    todo: list[Change] = []
    for c in with_collections(plan.changes, identities):
        why = skipped.get(c.address + c.action.value)
        if why:
            result.skipped.append((c, why))
        else:
            todo.append(c)
    total = len(todo)
    # Changes that touch only the state (move, forget, adopt without differences) go first,
    # in one transaction: no vendor call depends on them failing or not.
    record_only = [c for c in todo if _state_only(c)]
    if record_only:
        puts, removes = _record_only(engine, record_only)
        engine.store.record_many(puts, removes)
        result.succeeded += record_only
        todo = [c for c in todo if not _state_only(c)]
    done = len(record_only)
    if progress and done:
        progress(done, total)
    failed_addresses: set[str] = set()
    phases: dict[int, list[Change]] = defaultdict(list)
    for c in todo:
        phases[c.action.phase].append(c)
    for phase in sorted(phases):
        batch = []
        for c in phases[phase]:
            if c.address in failed_addresses:
                result.skipped.append((c, "an earlier change of this record failed"))
                done += 1
                continue
            batch.append(c)
        for c, outcome in _run_phase(engine, batch, scope_ids):
            done += 1
            if outcome.result == "ok":
                result.succeeded.append(c)
            elif outcome.result == "failed":
                result.failed.append((c, outcome.detail))
                failed_addresses.add(c.address)
            else:
                result.uncertain.append((c, outcome.detail))
                failed_addresses.add(c.address)
            if progress:
                progress(done, total)
    engine.store.trim_journal(keep=JOURNAL_KEEP)
    return result


def _record_only(engine: Engine, changes: list[Change]) -> tuple[list[StateEntry], list[str]]:
    puts: list[StateEntry] = []
    removes: list[str] = []
    for c in changes:
        if c.action is Action.ADOPT:
            puts.append(c.entry())
        elif c.action is Action.FORGET:
            removes.append(c.address)
        elif c.action is Action.MOVE and c.moved_from is not None:
            old = engine.store.get(c.moved_from)
            status = old.status if old is not None else Status.OK
            puts.append(c.entry(status=status))
            if c.moved_from != c.address:
                removes.append(c.moved_from)
    return puts, removes


def _run_phase(
    engine: Engine, batch: list[Change], scope_ids: Mapping[str, str | None]
) -> Iterable[tuple[Change, Outcome]]:
    """Run one phase's changes: at most `parallelism` in flight, and at most each
    provider's `concurrency` for that provider.

    Each worker journals its write, sends it and commits the answer, then takes
    the next change: the window refills without a hop through one thread. The
    store is used by one worker at a time (`db`), never concurrently.
    """
    store = engine.store
    known = store.owned_by(sorted({c.collection for c in batch}))
    queues: dict[str, deque[Change]] = defaultdict(deque)
    for c in batch:
        queues[c.provider].append(c)
    results: queue.SimpleQueue[tuple[Change, Outcome]] = queue.SimpleQueue()
    slots = threading.BoundedSemaphore(max(1, engine.parallelism))
    db = threading.Lock()
    take = threading.Lock()

    def worker(name: str, q: deque[Change]) -> None:
        provider = engine.provider(name)
        while True:
            with take:
                if not q:
                    return
                c = q.popleft()
            with slots:
                previous = known.get(c.address)
                if c.remote_id is None and previous is not None and c.action is not Action.CREATE:
                    c = dataclasses.replace(c, remote_id=previous.remote_id)
                try:
                    with db:
                        jid = store.begin_write(c, previous)
                except BaseException as exc:  # nothing was sent
                    results.put((c, Outcome("failed", None, f"could not journal the write: {exc}")))
                    continue
                outcome = _call(provider, c, scope_ids.get(c.address.rsplit("/", 1)[0]))
                try:
                    with db:
                        store.finish_write(jid, c, previous, outcome)
                except BaseException as exc:  # sent, but the answer is not recorded
                    outcome = Outcome(
                        "unknown", outcome.remote_id, f"could not record the answer: {exc}"
                    )
            results.put((c, outcome))

    threads = []
    for name, q in queues.items():
        n = min(
            len(q), max(1, engine.provider(name).config.concurrency), max(1, engine.parallelism)
        )
        for i in range(n):
            t = threading.Thread(
                target=worker, args=(name, q), name=f"apply-{name}-{i}", daemon=True
            )
            t.start()
            threads.append(t)
    for _ in range(len(batch)):
        yield results.get()
    for t in threads:
        t.join()


def _call(provider: Provider, change: Change, scope_id: str | None) -> Outcome:
    """One vendor write, its result or failure as an Outcome."""
    try:
        remote_id = provider.write(change, scope_id)
    except RetryableError as exc:
        return Outcome("unknown", None, str(exc))
    except ProviderError as exc:
        return Outcome("failed", None, str(exc))
    except Exception as exc:  # a bug or an unexpected fault: the write may have happened
        log.exception("unexpected error during a write")
        return Outcome("unknown", None, f"{type(exc).__name__}: {exc}")
    return Outcome("ok", remote_id)
