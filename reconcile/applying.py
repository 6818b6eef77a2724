"""Applying a plan: state-only changes in one transaction, then vendor writes phase by
phase, each journaled before it is sent; answers are committed in groups, with the
next write's journal entry."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import queue
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconcile.errors import ProviderError, RetryableError
from reconcile.model import Action, Change, Plan, StateEntry, Status
from reconcile.providers.base import Provider
from reconcile.state.base import Answered, Outcome

if TYPE_CHECKING:
    from reconcile.engine import Engine

log = logging.getLogger("reconcile.apply")

Progress = Callable[[int, int], None]
JOURNAL_KEEP = 100_000
INTERRUPTED = "not started: the run was interrupted"  # finished write records kept for `reconcile state journal`


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
    from reconcile.saved_plans import with_collections

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
        if engine.stopping.is_set():
            result.skipped += [(c, INTERRUPTED) for c in phases[phase]]
            continue
        batch = []
        for c in phases[phase]:
            if c.address in failed_addresses:
                result.skipped.append((c, "an earlier change of this record failed"))
                done += 1
                continue
            batch.append(c)
        # closing(): on Ctrl-C or an error here, the phase's workers finish before we go on.
        answered: set[tuple[str, str]] = set()
        with contextlib.closing(_run_phase(engine, batch, scope_ids)) as answers:
            for c, outcome in answers:
                answered.add((c.address, c.action.value))
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
        if engine.stopping.is_set():
            result.skipped += [
                (c, INTERRUPTED) for c in batch if (c.address, c.action.value) not in answered
            ]
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


def _units(engine: Engine, changes: list[Change]) -> list[list[Change]]:
    """The phase's changes as units of work: one change, or a batch of changes of one
    collection and action that the provider sends in one request."""
    units: list[list[Change]] = []
    open_batches: dict[tuple[str, str], list[Change]] = {}
    for c in changes:
        size = engine.provider(c.provider).batch_size(c)
        if not size or size < 1:
            units.append([c])
            continue
        key = (c.collection or c.address.rsplit("/", 1)[0], c.action.value)
        batch = open_batches.get(key)
        if batch is None or len(batch) >= size:
            batch = open_batches[key] = []
            units.append(batch)
        batch.append(c)
    return units


def _run_phase(
    engine: Engine, batch: list[Change], scope_ids: Mapping[str, str | None]
) -> Generator[tuple[Change, Outcome], None, None]:
    """Run one phase's changes: at most `parallelism` requests in flight, and at most
    each provider's `concurrency` for that provider.

    Each worker journals its unit (one change, or a batch sent in one request) and sends
    it, then takes the next: the window refills without a hop through one thread. The
    answer is committed with the next unit's journal entry, its own or another worker's
    (one transaction instead of two per write); a worker that stops commits what is
    left. The store is used by one worker at a time (`db`). When the
    caller stops early (Ctrl-C, an error), no new unit is started and every request
    in flight is answered and recorded before this returns: a provider's session is
    ended only after its last write.
    """
    store = engine.store
    known = store.owned_by(sorted({c.collection for c in batch}))
    queues: dict[str, deque[list[Change]]] = defaultdict(deque)
    for unit in _units(engine, batch):
        queues[unit[0].provider].append(unit)
    results: queue.SimpleQueue[tuple[Change, Outcome]] = queue.SimpleQueue()
    slots = threading.BoundedSemaphore(max(1, engine.parallelism))
    db = threading.Lock()
    take = threading.Lock()
    stop = threading.Event()

    def prepared(c: Change) -> tuple[Change, StateEntry | None]:
        previous = known.get(c.address)
        if c.remote_id is None and previous is not None and c.action is not Action.CREATE:
            c = dataclasses.replace(c, remote_id=previous.remote_id)
        return c, previous

    pending: deque[Answered] = deque()  # answered, not yet committed: still "uncertain"

    def commit(changes: list[Change], previous: list[StateEntry | None]) -> list[int]:
        """Under `db`: the answers waiting and the next unit's journal entries (if any), in
        one transaction (group commit). An answer is reported once it is recorded."""
        answered = [pending.popleft() for _ in range(len(pending))]
        try:
            jids = store.finish_and_begin(answered, changes, previous)
        except BaseException as exc:  # sent, but these answers are not recorded
            for a in answered:
                for c, o in zip(a.changes, a.outcomes, strict=True):
                    why = f"could not record the answer: {exc}"
                    results.put((c, Outcome("unknown", o.remote_id, why)))
            raise
        for a in answered:
            for c, o in zip(a.changes, a.outcomes, strict=True):
                results.put((c, o))
        return jids

    def worker(name: str, q: deque[list[Change]]) -> None:
        provider = engine.provider(name)
        try:
            while True:
                with take:
                    if not q or stop.is_set() or engine.stopping.is_set():
                        return
                    unit = q.popleft()
                with slots:
                    pairs = [prepared(c) for c in unit]
                    changes = [c for c, _ in pairs]
                    previous = [p for _, p in pairs]
                    try:
                        with db:  # committed before the request is sent: the crash promise
                            jids = commit(changes, previous)
                    except BaseException as exc:  # nothing was sent
                        for c in changes:
                            why = f"could not journal the write: {exc}"
                            results.put((c, Outcome("failed", None, why)))
                        continue
                    scope_id = scope_ids.get(changes[0].address.rsplit("/", 1)[0])
                    if len(unit) == 1 and not provider.batch_size(changes[0]):
                        outcomes = [_call(provider, changes[0], scope_id)]
                    else:
                        outcomes = _call_batch(provider, changes, scope_id)
                    # Recorded by this worker's next commit, or another's, whichever is first.
                    pending.append(Answered(jids, changes, previous, outcomes))
        finally:
            # The last answers wait for no later write: each worker leaves nothing pending.
            if pending:
                with db, contextlib.suppress(Exception):  # reported as unknown by commit()
                    commit([], [])

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
    try:
        received = 0
        while received < len(batch):
            try:
                answer = results.get(timeout=0.2)
            except queue.Empty:
                idle = not any(t.is_alive() for t in threads) and results.empty()
                if engine.stopping.is_set() and idle:
                    break  # interrupted: what was not started is reported by the caller
                continue
            received += 1
            yield answer
    finally:
        stop.set()
        for t in threads:
            t.join()


def _call_batch(provider: Provider, changes: list[Change], scope_id: str | None) -> list[Outcome]:
    """One request carrying many changes: an outcome for each."""
    try:
        answers = provider.write_batch(changes, scope_id)
    except RetryableError as exc:
        return [Outcome("unknown", None, str(exc)) for _ in changes]
    except ProviderError as exc:
        return [Outcome("failed", None, str(exc)) for _ in changes]
    except Exception as exc:  # a bug or an unexpected fault: the upload may have happened
        log.exception("unexpected error during a batch write")
        return [Outcome("unknown", None, f"{type(exc).__name__}: {exc}") for _ in changes]
    if len(answers) != len(changes):
        return [
            Outcome("unknown", None, "the provider answered for another number of changes")
            for _ in changes
        ]
    return [Outcome(a.result, a.remote_id, a.detail) for a in answers]


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
