"""The one orchestrator: refresh -> plan -> apply, and drift, import, export.

It owns the order of things: validate every manifest before the first
request, read each collection once, diff, apply the safety rules, and apply
writes concurrently while journaling each one in the state store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import logging
import queue
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from reconcile import kinds
from reconcile.config import Project
from reconcile.diff import drift_collection, plan_collection
from reconcile.errors import (
    ManifestError,
    Problem,
    ProviderError,
    RetryableError,
    StalePlanError,
    UnsafePlanError,
    UsageError,
)
from reconcile.manifest.loader import load_collections
from reconcile.masking import mask
from reconcile.model import (
    Action,
    Change,
    Collection,
    Drift,
    DriftReport,
    Live,
    Plan,
    Prune,
    StateEntry,
    Status,
    address_matches,
    fingerprint,
)
from reconcile.providers import make_provider
from reconcile.providers.base import Provider, ReadResult
from reconcile.safety import over_threshold, prevent_destroy
from reconcile.state.base import Outcome, StateStore

log = logging.getLogger("reconcile.engine")

Progress = Callable[[int, int], None]
JOURNAL_KEEP = 100_000  # finished write records kept for `reconcile state journal`


@dataclass
class Refreshed:
    """One collection with what the vendor and the state hold for it."""

    coll: Collection
    scope_id: str | None
    live: ReadResult | None  # None: the vendor cannot be read
    state: dict[str, StateEntry]  # by key


@dataclass
class ApplyResult:
    succeeded: list[Change] = field(default_factory=list)
    failed: list[tuple[Change, str]] = field(default_factory=list)
    uncertain: list[tuple[Change, str]] = field(default_factory=list)
    skipped: list[tuple[Change, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.failed or self.uncertain)


class Engine:
    def __init__(
        self,
        project: Project,
        store: StateStore,
        *,
        transport: httpx.BaseTransport | None = None,
        parallelism: int | None = None,
    ) -> None:
        self.project = project
        self.store = store
        self.transport = transport
        self.parallelism = parallelism or 10
        self.read_progress: Progress | None = None  # called as collections finish reading
        self._providers: dict[str, Provider] = {}
        self._providers_lock = threading.Lock()
        self._collections: list[Collection] | None = None

    def close(self) -> None:
        for p in self._providers.values():
            p.close()

    def provider(self, name: str) -> Provider:
        with self._providers_lock:
            if name not in self._providers:
                cfg = self.project.providers.get(name)
                if cfg is None:
                    raise UsageError(f"no provider named {name!r} in reconcile.yaml")
                self._providers[name] = make_provider(cfg, transport=self.transport)
            return self._providers[name]

    @property
    def request_count(self) -> int:
        return sum(p.request_count for p in self._providers.values())

    # -- load -----------------------------------------------------------------------
    def collections(self, targets: Iterable[str] = ()) -> list[Collection]:
        if self._collections is None:
            self._collections = load_collections(self.project)
            gc.freeze()  # the declared items live as long as the run: keep them out of later collections
        targets = list(targets)
        if not targets:
            return self._collections
        chosen = [c for c in self._collections if any(_selects(c, t) for t in targets)]
        if not chosen:
            raise UsageError(
                f"--target {', '.join(targets)} matches no declared collection or address"
            )
        return chosen

    def refresh(self, collections: list[Collection]) -> list[Refreshed]:
        """Read every collection from its vendor, a few collections at a time."""

        def one(coll: Collection) -> Refreshed:
            prov = self.provider(coll.provider)
            scope_id = prov.resolve_scope(coll)
            live = prov.read(coll, scope_id) if prov.can_read else None
            state = {
                e.key: e for e in self.store.entries(coll.provider, coll.kind, coll.scope).values()
            }
            return Refreshed(coll, scope_id, live, state)

        if self.read_progress and collections:
            self.read_progress(0, len(collections))
        if len(collections) <= 1:
            out1 = [one(c) for c in collections]
            if self.read_progress and collections:
                self.read_progress(1, 1)
            return out1
        # Providers are made here, first, so that two threads never build the same one.
        for c in collections:
            self.provider(c.provider)
        errors: list[Problem] = []
        out: list[Refreshed] = []
        state_lock = threading.Lock()

        def guarded(coll: Collection) -> Refreshed | None:
            try:
                prov = self.provider(coll.provider)
                scope_id = prov.resolve_scope(coll)
                live = prov.read(coll, scope_id) if prov.can_read else None
            except ManifestError as exc:
                with state_lock:
                    errors.extend(exc.problems)
                return None
            with state_lock:
                state = {
                    e.key: e
                    for e in self.store.entries(coll.provider, coll.kind, coll.scope).values()
                }
            return Refreshed(coll, scope_id, live, state)

        with ThreadPoolExecutor(max_workers=min(4, len(collections))) as pool:
            for n, r in enumerate(pool.map(guarded, collections), 1):
                if r is not None:
                    out.append(r)
                if self.read_progress:
                    self.read_progress(n, len(collections))
        if errors:
            raise ManifestError(errors)
        return out

    def _refreshed(self, targets: tuple[str, ...]) -> list[tuple[Refreshed, kinds.KindSpec]]:
        out = []
        for r in self.refresh(self.collections(targets)):
            spec = kinds.get(r.coll.kind)
            assert spec is not None  # the loader accepts known kinds only
            out.append((r, spec))
        return out

    # -- plan -----------------------------------------------------------------------
    def plan(self, targets: Iterable[str] = ()) -> Plan:
        targets = tuple(targets)
        refreshed = self._refreshed(targets)
        lineage, serial = self.store.lineage_serial()
        changes: list[Change] = []
        errors: list[str] = []
        warnings: list[str] = []
        unobservable: list[str] = []
        for r, spec in refreshed:
            if r.live is None:
                unobservable.append(r.coll.prefix)
                live: Mapping[str, Live] = {
                    k: Live(k, e.remote_id or "", e.fields)
                    for k, e in r.state.items()
                    if e.status is Status.OK
                }
                result = ReadResult(live)
            else:
                result = r.live
            cp = plan_collection(r.coll, spec, result.records, r.state)
            coll_changes = list(cp.changes)
            blocked: set[str] = set()
            declared = {d.key for d in r.coll.items}
            for key, recs in result.duplicates.items():
                ids = ", ".join(_describe(rec, lineage) for rec in recs)
                if key in declared or key in r.state:
                    blocked.add(key)
                    errors.append(
                        f"{r.coll.address(key)}: the vendor holds {len(recs)} records with this key ({ids}); "
                        "reconcile will not guess which one is meant: delete the extra ones at the vendor, or give them other keys"
                    )
                elif r.coll.prune is Prune.ALL:
                    warnings.append(
                        f"{r.coll.address(key)}: {len(recs)} undeclared records share this key ({ids}); "
                        "prune: all does not delete them, since reconcile deletes by key: remove them at the vendor"
                    )
            coll_changes = [c for c in coll_changes if c.key not in blocked]
            for p in self.provider(r.coll.provider).check_plan(r.coll, result, coll_changes):
                errors.append(str(p))
                blocked.add(p.where)
            coll_changes = [c for c in coll_changes if c.address not in blocked]
            coll_changes, problems = prevent_destroy(r.coll, coll_changes)
            errors += [str(p) for p in problems]
            message = over_threshold(r.coll, coll_changes, cp.managed_count, self.project.policy)
            if message:
                warnings.append(message)
            if r.live is None:
                # No read API: an uncertain write cannot be looked up, and planning it again
                # could double it. Hold it back and say exactly how to settle it.
                for e in r.state.values():
                    if e.status is not Status.UNCERTAIN:
                        continue
                    coll_changes = [c for c in coll_changes if c.address != e.address]
                    warnings.append(
                        f"{e.address}: the last write's outcome is unknown and {r.coll.provider} cannot be read; check it at "
                        f"the vendor, then run: reconcile import '{e.address}' REMOTE_ID (or reconcile state rm '{e.address}' "
                        "if it does not exist there); it is left out of this plan until then"
                    )
            changes += coll_changes
        if targets:
            changes = [c for c in changes if any(address_matches(c.address, t) for t in targets)]
        changes.sort(key=lambda c: c.sort_key)
        return Plan(
            lineage=lineage,
            serial=serial,
            changes=tuple(changes),
            warnings=tuple(warnings),
            errors=tuple(errors),
            unobservable=tuple(unobservable),
            targets=targets,
            created_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )

    # -- apply ----------------------------------------------------------------------
    def check_saved(self, plan: Plan) -> list[tuple[Change, str]]:
        """Refuse a saved plan made against another state; list the records that moved since."""
        lineage, serial = self.store.lineage_serial()
        if plan.lineage != lineage:
            raise StalePlanError(
                f"the plan was made for another state (lineage {plan.lineage}, this state is {lineage}); make a new plan"
            )
        if plan.serial != serial:
            raise StalePlanError(
                f"the state changed since the plan was made (serial {plan.serial}, now {serial}): someone applied in between; make a new plan"
            )
        touched = {c.address for c in plan.changes}
        colls = [
            c for c in self.collections() if any(a.startswith(c.prefix + "/") for a in touched)
        ]
        moved: list[tuple[Change, str]] = []
        refreshed = {r.coll.prefix: r for r in self.refresh(colls)}
        for c in plan.changes:
            r = next((r for p, r in refreshed.items() if c.address.startswith(p + "/")), None)
            if r is None or r.live is None or c.action is Action.FORGET:
                continue
            now = r.live.records.get(c.key)
            now_fp = fingerprint(now.fields) if now is not None else None
            if now_fp != c.live_fingerprint:
                if c.action.phase >= Action.UNLOCK.phase and c.live_fingerprint is None:
                    continue  # lock after a create in this same plan
                what = (
                    "was created"
                    if c.live_fingerprint is None
                    else ("is gone" if now is None else "changed")
                )
                moved.append(
                    (
                        c,
                        f"the live record {what} at the vendor since the plan was made; not overwritten (make a new plan)",
                    )
                )
        return moved

    def enforce_safety(self, plan: Plan, force: bool) -> None:
        if force:
            return
        by_coll: dict[str, list[Change]] = defaultdict(list)
        for c in plan.changes:
            by_coll[c.address.rsplit("/", 1)[0]].append(c)
        messages = []
        for coll in self.collections():
            cs = by_coll.get(coll.prefix)
            if not cs:
                continue
            managed = len(self.store.entries(coll.provider, coll.kind, coll.scope))
            m = over_threshold(coll, cs, managed, self.project.policy)
            if m:
                messages.append(m)
        if messages:
            raise UnsafePlanError("\n".join(["refusing to apply:", *(f"  {m}" for m in messages)]))

    def apply(
        self,
        plan: Plan,
        *,
        skip: Iterable[tuple[Change, str]] = (),
        progress: Progress | None = None,
    ) -> ApplyResult:
        """Apply `plan`, phase by phase; the caller holds the state lock."""
        result = ApplyResult()
        skipped = {c.address + c.action.value: why for c, why in skip}
        todo: list[Change] = []
        for c in plan.changes:
            why = skipped.get(c.address + c.action.value)
            if why:
                result.skipped.append((c, why))
            else:
                todo.append(c)
        scope_ids = self._scope_ids(todo)
        total = len(todo)
        # Changes that touch only the state (forget, adopt without differences) go first,
        # in one transaction: no vendor call depends on them failing or not.
        record_only = [
            c
            for c in todo
            if not c.action.writes_vendor and not (c.action is Action.ADOPT and c.fields)
        ]
        if record_only:
            self.store.record_many(
                [StateEntry(c.address, c.provider, c.kind, c.scope, c.key, c.remote_id, dict(c.after or {}), Status.OK)
                 for c in record_only if c.action is Action.ADOPT],
                [c.address for c in record_only if c.action is Action.FORGET],
            )  # fmt: skip
            result.succeeded += record_only
            todo = [
                c for c in todo if c.action.writes_vendor or (c.action is Action.ADOPT and c.fields)
            ]
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
            for c, outcome in self._run_phase(batch, scope_ids):
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
        self.store.trim_journal(keep=JOURNAL_KEEP)
        return result

    def _scope_ids(self, changes: list[Change]) -> dict[str, str | None]:
        prefixes = {c.address.rsplit("/", 1)[0] for c in changes}
        out: dict[str, str | None] = {}
        for coll in self.collections():
            if coll.prefix in prefixes:
                out[coll.prefix] = self.provider(coll.provider).resolve_scope(coll)
        return out

    def _run_phase(
        self, batch: list[Change], scope_ids: Mapping[str, str | None]
    ) -> Iterable[tuple[Change, Outcome]]:
        """Run one phase's changes: at most `parallelism` in flight, and at most each
        provider's `concurrency` for that provider.

        Each worker journals its write, sends it and commits the answer, then takes
        the next change: the window refills without a hop through one thread. The
        store is used by one worker at a time (`db`), never concurrently.
        """
        known: dict[str, StateEntry] = {}
        for provider, kind, scope in {(c.provider, c.kind, c.scope) for c in batch}:
            known.update(self.store.entries(provider, kind, scope))
        queues: dict[str, deque[Change]] = defaultdict(deque)
        for c in batch:
            queues[c.provider].append(c)
        results: queue.SimpleQueue[tuple[Change, Outcome]] = queue.SimpleQueue()
        slots = threading.BoundedSemaphore(max(1, self.parallelism))
        db = threading.Lock()
        take = threading.Lock()

        def worker(name: str, q: deque[Change]) -> None:
            provider = self.provider(name)
            while True:
                with take:
                    if not q:
                        return
                    c = q.popleft()
                with slots:
                    previous = known.get(c.address)
                    if (
                        c.remote_id is None
                        and previous is not None
                        and c.action is not Action.CREATE
                    ):
                        c = dataclasses.replace(c, remote_id=previous.remote_id)
                    try:
                        with db:
                            jid = self.store.begin_write(c, previous)
                    except BaseException as exc:  # nothing was sent
                        results.put(
                            (c, Outcome("failed", None, f"could not journal the write: {exc}"))
                        )
                        continue
                    outcome = _call(provider, c, scope_ids.get(c.address.rsplit("/", 1)[0]))
                    try:
                        with db:
                            self.store.finish_write(jid, c, previous, outcome)
                    except BaseException as exc:  # sent, but the answer is not recorded
                        outcome = Outcome(
                            "unknown", outcome.remote_id, f"could not record the answer: {exc}"
                        )
                results.put((c, outcome))

        threads = []
        for name, q in queues.items():
            n = min(
                len(q), max(1, self.provider(name).config.concurrency), max(1, self.parallelism)
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

    # -- drift ----------------------------------------------------------------------
    def drift(self, targets: Iterable[str] = ()) -> DriftReport:
        targets = tuple(targets)
        out: list[Drift] = []
        unobservable: list[str] = []
        warnings: list[str] = []
        for r, spec in self._refreshed(targets):
            if r.live is None:
                unobservable.append(
                    f"{r.coll.prefix}: {r.coll.provider} has no read API; drift cannot be observed"
                )
                continue
            for key, recs in r.live.duplicates.items():
                warnings.append(
                    f"{r.coll.address(key)}: the vendor holds {len(recs)} records with this key; not compared"
                )
            doubled = {r.coll.address(k) for k in r.live.duplicates}
            found = drift_collection(r.coll, spec, r.live.records, r.state)
            out += [d for d in found if d.address not in doubled]
        if targets:
            out = [d for d in out if any(address_matches(d.address, t) for t in targets)]
        out.sort(key=lambda d: (d.drift_class.value, d.address))
        return DriftReport(tuple(out), tuple(unobservable), tuple(warnings))

    # -- import / export ------------------------------------------------------------
    def import_record(self, address: str, remote_id: str) -> StateEntry:
        coll, key = self._collection_for(address)
        prov = self.provider(coll.provider)
        declared = next((d for d in coll.items if d.key == key), None)
        if not prov.can_read:
            # Nothing to look up: record the id as given, with the fields as declared.
            if declared is None:
                raise UsageError(
                    f"{address}: declare the item first; {coll.provider} cannot be read to learn its fields"
                )
            entry = StateEntry(
                address,
                coll.provider,
                coll.kind,
                coll.scope,
                key,
                remote_id,
                dict(declared.fields),
                Status.OK,
            )
            self.store.put(entry)
            return entry
        scope_id = prov.resolve_scope(coll)
        rec = prov.fetch_one(coll, scope_id, remote_id)
        if rec is None:
            raise ProviderError(
                f"{coll.provider} has no record with id {remote_id!r} in {coll.prefix}",
                address=address,
            )
        if rec.key != key:
            raise UsageError(
                f"{address}: the vendor's record {remote_id!r} has key {rec.key!r}, not {key!r}"
            )
        managed = dict(declared.fields) if declared else dict(rec.fields)
        fields = {k: rec.fields.get(k) for k in managed}
        entry = StateEntry(
            address, coll.provider, coll.kind, coll.scope, key, rec.remote_id, fields, Status.OK
        )
        self.store.put(entry)
        return entry

    def _collection_for(self, address: str) -> tuple[Collection, str]:
        for coll in self.collections():
            if address.startswith(coll.prefix + "/"):
                key = address[len(coll.prefix) + 1 :]
                if "/" in key:
                    continue
                return coll, key.replace("%2F", "/").replace("%25", "%")
        raise UsageError(
            f"{address}: no declared collection holds this address; declare the item in a manifest first"
        )


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


def _describe(rec: Live, key: str) -> str:
    """A duplicate record for an error message: its id and its numbers, masked."""
    numbers = [
        mask(v, key) for k, v in sorted(rec.fields.items()) if k.startswith("PhoneNumber") and v
    ]
    return f"id {rec.remote_id}" + (f" {', '.join(map(str, numbers))}" if numbers else "")


def _selects(coll: Collection, target: str) -> bool:
    return address_matches(coll.prefix, target) or target.startswith(coll.prefix + "/")
