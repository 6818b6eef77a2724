"""The one orchestrator: load, refresh, then plan, apply or drift.

It owns the order of things and the providers of one run. What each verb
does lives beside it: `planning` (desired x live x state -> a plan, with the
ownership and safety rules), `applying` (journaled, concurrent writes) and
`drifting` (what changed behind the tool's back). Refresh is shared by all
three: every declared collection, and every collection state still owns
that no manifest declares any more (an orphan), read once.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from reconcile import collector, kinds
from reconcile.config import Project
from reconcile.diff import still_replaced
from reconcile.errors import ManifestError, Problem, ProviderError, UsageError
from reconcile.manifest.loader import load_collections
from reconcile.model import (
    Change,
    Collection,
    DriftReport,
    Plan,
    Prune,
    StateEntry,
    Status,
    address_matches,
    collection_identity,
)
from reconcile.providers import make_provider
from reconcile.providers.base import Provider, ReadResult
from reconcile.state.base import KnownCollection, StateStore
from reconcile.state.rows import share_texts

Progress = Callable[[int, int], None]


@dataclass
class Refreshed:
    """One collection with what the vendor and the state hold for it."""

    coll: Collection
    spec: kinds.KindSpec
    scope_id: str | None
    identity: str
    live: ReadResult | None  # None: the vendor cannot be read
    state: dict[str, StateEntry]  # by key


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
        self.last_refreshed: list[Refreshed] = []
        # Set on the first Ctrl-C of an apply: no new write starts, none is retried.
        self.stopping = threading.Event()  # what the last plan or saved-plan check read
        self.mask_personal = False  # mask numbers in errors (markdown output is read widely)
        self.not_taken: list[tuple[str, list[str]]] = []  # what the last apply's read-back found
        self.shard: tuple[int, int] | None = (
            None  # (I, N): only the I-th of N shares of collections
        )
        self.read_serials: dict[str, int] = {}  # each collection's serial when refresh read it
        self.locked: set[str] | None = None  # collections this run holds (None: not locking)
        self._locks: tuple[contextlib.ExitStack, str, float, bool] | None = None

    @contextlib.contextmanager
    def locking(
        self, operation: str, timeout: float, collections: Iterable[str] | None = None
    ) -> Iterator[None]:
        """Hold this run's locks until the block ends: `collections` at once when given (the
        ones a saved plan changes), else every collection refresh reads, before reading its
        state (an apply that plans as it goes may write any of them)."""
        with contextlib.ExitStack() as stack:
            self._locks = (stack, operation, timeout, collections is None)
            self.locked = set()
            try:
                if collections is not None:
                    self._hold(collections)
                yield
            finally:
                self._locks = None
                self.locked = None

    def _hold(self, identities: Iterable[str]) -> None:
        assert self._locks is not None and self.locked is not None
        stack, operation, timeout, _ = self._locks
        wanted = set(identities) - self.locked
        if wanted or not self.locked:
            stack.enter_context(self.store.lock(operation, timeout, wanted))
            self.locked |= wanted

    def in_shard(self, identity: str) -> bool:
        """Whether this run's share holds the collection: a stable hash of its identity, so
        every runner of a CI matrix agrees on who does what without talking to the others."""
        if self.shard is None:
            return True
        index, count = self.shard
        digest = hashlib.blake2b(identity.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") % count == index - 1

    def close(self, *, collect: bool = True) -> None:
        """Close every provider (ending vendor sessions), even when one of them fails.
        `collect=False` (a command-line run about to exit) skips giving memory back."""
        if self._collections is not None:
            # What the run froze may be garbage now: a process that runs many engines
            # (a long-lived service, the soak test) must get its memory back.
            gc.unfreeze()
            if collect:
                gc.collect()
        first: BaseException | None = None
        for p in self._providers.values():
            try:
                p.close()
            except BaseException as exc:  # the others must still end their sessions
                first = first or exc
        if first is not None:
            raise first

    def provider(self, name: str) -> Provider:
        with self._providers_lock:
            if name not in self._providers:
                cfg = self.project.providers.get(name)
                if cfg is None:
                    raise UsageError(f"no provider named {name!r} in reconcile.yaml")
                self._providers[name] = make_provider(cfg, transport=self.transport)
                self._providers[name].client.stopping = self.stopping
            return self._providers[name]

    @property
    def request_count(self) -> int:
        return sum(p.request_count for p in self._providers.values())

    # -- load -----------------------------------------------------------------------
    def collections(self, targets: Iterable[str] = ()) -> list[Collection]:
        """Declared collections, those `targets` select when given."""
        if self._collections is None:
            with collector.paused(freeze=True):  # the declared items live as long as the run
                self._collections = load_collections(self.project)
        targets = list(targets)
        if not targets:
            return self._collections
        return [c for c in self._collections if any(selects(c, t) for t in targets)]

    # -- refresh --------------------------------------------------------------------
    def refresh(self, targets: Iterable[str] = ()) -> list[Refreshed]:
        """Read every selected collection, declared or orphaned, a few at a time.

        Scopes are resolved first, so that state is found by the vendor's scope id
        whatever name the manifest uses, and two documents naming one scope are caught."""
        targets = tuple(targets)
        declared = self.collections(targets)
        scoped, problems = self._resolve(declared)
        identities = {ident for _, _, ident in scoped}
        # Rows an older reconcile wrote under the scope's display name belong to the
        # declared collection of the same vendor scope: they are found and re-keyed.
        claims: dict[str, set[str]] = {
            ident: {f"{c.provider}/{c.kind}/{c.scope}"} - {ident} for c, _, ident in scoped
        }
        orphans = self._orphans(identities, claims, targets, problems)
        if not declared and not orphans and targets:
            raise UsageError(
                f"--target {', '.join(targets)} matches no declared collection or address"
            )
        work = [w for w in scoped + orphans if self.in_shard(w[2])]
        wanted = {i for _, _, i in work} | {old for _, _, i in work for old in claims.get(i, ())}
        if self._locks is not None and self._locks[3]:
            self._hold(wanted)
        # Serials first, then the vendors and the records: a write after the serials are read
        # makes a plan look stale at apply (safe), never a stale plan look fresh. The vendor
        # reads are sent before state is read: the vendor's answer and our state read overlap.
        self.read_serials.update(self.store.collection_serials(wanted))
        lock = threading.Lock()

        def read(item: tuple[Collection, str | None, str]) -> tuple[bool, ReadResult | None]:
            coll, scope_id, _ = item
            prov = self.provider(coll.provider)
            try:
                return True, prov.read(coll, scope_id) if prov.readable(coll) else None
            except ManifestError as exc:
                with lock:
                    problems.extend(exc.problems)
                return False, None
            except ProviderError as exc:
                if not coll.orphaned:
                    raise
                with lock:
                    problems.append(
                        Problem(coll.prefix, f"{_orphan_note(coll)}, but it cannot be read: {exc}")
                    )
                return False, None

        if self.read_progress and work:
            self.read_progress(0, len(work))
        out: list[Refreshed] = []
        # Live records and state: ~5 million small containers, kept for the run.
        with (
            collector.paused(freeze=True),
            ThreadPoolExecutor(max_workers=max(1, min(4, len(work)))) as pool,
        ):
            reads = [pool.submit(read, w) for w in work]
            try:
                by_identity = self.store.owned_by_collection(sorted(wanted))
                for coll, _, ident in work:  # before the reads end: the plan's peak is then
                    share_texts(coll.items, by_identity.get(ident, {}))

                def state_of(ident: str) -> dict[str, StateEntry]:
                    if not claims.get(ident):
                        return by_identity.pop(ident, {})  # no copy: 100,000 entries are held once
                    entries: dict[str, StateEntry] = {}
                    for old in sorted(claims.get(ident, ())):
                        entries.update(by_identity.get(old, {}))
                    entries.update(by_identity.get(ident, {}))  # rows already keyed by the id win
                    return entries

                for n, ((coll, scope_id, ident), future) in enumerate(
                    zip(work, reads, strict=True), 1
                ):
                    ok, live = future.result()
                    if ok:
                        spec = kinds.get(coll.kind)
                        assert spec is not None  # the loader accepts known kinds only
                        out.append(Refreshed(coll, spec, scope_id, ident, live, state_of(ident)))
                    if self.read_progress:
                        self.read_progress(n, len(work))
            except BaseException:
                for f in reads:
                    f.cancel()
                raise
        if problems:
            raise ManifestError(problems)
        return out

    def _resolve(
        self, declared: list[Collection]
    ) -> tuple[list[tuple[Collection, str | None, str]], list[Problem]]:
        """Each declared collection with its vendor scope id and identity; one scope declared
        twice (by id in one document, by name in another) is a problem naming both."""
        problems: list[Problem] = []
        out: list[tuple[Collection, str | None, str]] = []
        seen: dict[str, Collection] = {}
        for coll in declared:
            try:
                scope_id = self.provider(coll.provider).resolve_scope(coll)
            except ManifestError as exc:
                problems.extend(exc.problems)
                continue
            ident = collection_identity(coll.provider, coll.kind, scope_id)
            first = seen.get(ident)
            if first is not None:
                problems.append(
                    Problem(
                        coll.scope_origin or coll.origin,
                        f"{coll.prefix} is the same {coll.kind} scope as {first.prefix} declared at "
                        f"{first.scope_origin or first.origin} (vendor id {scope_id}); declare each scope once",
                    )
                )
                continue
            seen[ident] = coll
            out.append((coll, scope_id, ident))
        return out, problems

    def _orphans(
        self,
        identities: set[str],
        claims: dict[str, set[str]],
        targets: tuple[str, ...],
        problems: list[Problem],
    ) -> list[tuple[Collection, str | None, str]]:
        """Collections state owns records of that no manifest declares any more."""
        claimed = {i for c in claims.values() for i in c}
        out: list[tuple[Collection, str | None, str]] = []
        for known in self.store.known_collections():
            if known.identity in identities or known.identity in claimed:
                continue
            coll = orphan_collection(known)
            if targets and not any(selects(coll, t) for t in targets):
                continue
            if known.provider not in self.project.providers:
                problems.append(
                    Problem(
                        coll.prefix,
                        f"{_orphan_note(coll)}, and provider {known.provider!r} is no longer in reconcile.yaml: "
                        "restore the provider to delete its records, or forget them with `reconcile state rm`",
                    )
                )
                continue
            scope_id = known.scope_id
            if not known.recorded:
                try:
                    scope_id = self.provider(known.provider).resolve_scope(coll)
                except ManifestError as exc:
                    problems += [
                        Problem(coll.prefix, f"{_orphan_note(coll)}, but {p.message}")
                        for p in exc.problems
                    ]
                    continue
                real = collection_identity(known.provider, known.kind, scope_id)
                if real in identities:  # an older reconcile's rows of a declared scope
                    claims[real].add(known.identity)
                    continue
            out.append((coll, scope_id, known.identity))
        return out

    def remember(self, refreshed: Iterable[Refreshed]) -> None:
        """Record how each declared collection is applied, for the day its manifest goes;
        forget the replaced values of writes this read shows were taken (see diff.not_taken)."""
        refreshed = list(refreshed)
        if self.locked is not None:  # only what this run holds: others may be writing the rest
            refreshed = [r for r in refreshed if r.identity in self.locked]
        taken = [
            e
            for r in refreshed
            if r.live is not None
            for key, old in r.state.items()
            if key in r.live.records
            and (e := still_replaced(old, r.live.records[key].fields)) is not None
        ]
        if taken:
            self.store.record_many(taken, [])
        self.store.remember_collections(
            [
                KnownCollection(
                    r.identity, r.coll.provider, r.coll.kind, r.coll.scope, r.scope_id,
                    stable_scope_ref(r.coll, r.scope_id), r.coll.prune.value,
                    r.coll.prevent_destroy, r.coll.origin,
                )
                for r in refreshed
                if not r.coll.orphaned
            ]
        )  # fmt: skip

    # -- the verbs ------------------------------------------------------------------
    def plan(self, targets: Iterable[str] = ()) -> Plan:
        from reconcile.planning import make_plan

        return make_plan(self, tuple(targets))

    def check_saved(self, plan: Plan) -> list[tuple[Change, str]]:
        from reconcile.saved_plans import check_saved

        return check_saved(self, plan)

    def enforce_safety(
        self, plan: Plan, force: bool, allow_delete: Iterable[str] = ()
    ) -> list[str]:
        from reconcile.saved_plans import enforce_safety

        return enforce_safety(plan, force, tuple(allow_delete))

    def apply(
        self,
        plan: Plan,
        *,
        skip: Iterable[tuple[Change, str]] = (),
        progress: Progress | None = None,
    ) -> ApplyResult:
        from reconcile.applying import apply_plan
        from reconcile.verifying import record_not_taken

        result = apply_plan(self, plan, skip=skip, progress=progress)
        self.not_taken = record_not_taken(self, result.succeeded)
        return result

    def drift(self, targets: Iterable[str] = ()) -> DriftReport:
        from reconcile.drifting import drift_report

        return drift_report(self, tuple(targets))

    # -- import ---------------------------------------------------------------------
    def import_record(
        self, address: str, remote_id: str, *, force: bool = False
    ) -> tuple[StateEntry, list[str]]:
        """Record an existing vendor record as ADDRESS; returns the entry and warnings."""
        from reconcile.importing import import_record

        return import_record(self, address, remote_id, force=force)

    def collection_for(self, address: str) -> tuple[Collection, str]:
        for coll in self.collections():
            if address.startswith(coll.prefix + "/"):
                key = address[len(coll.prefix) + 1 :]
                if "/" in key:
                    continue
                return coll, key.replace("%2F", "/").replace("%25", "%")
        raise UsageError(
            f"{address}: no declared collection holds this address; declare the item in a manifest first"
        )


from reconcile.applying import ApplyResult  # noqa: E402  (re-exported for the CLI)


def selects(coll: Collection, target: str) -> bool:
    return address_matches(coll.prefix, target) or target.startswith(coll.prefix + "/")


def _orphan_note(coll: Collection) -> str:
    return f"no manifest declares {coll.prefix} any more (last declared at {coll.origin or 'an unknown place'})"


def stable_scope_ref(coll: Collection, scope_id: str | None) -> dict[str, object]:
    """The scope as state keeps it: by the vendor's id where the manifest may use a name,
    so that renaming a campaign never loses the collection's records."""
    ref = dict(coll.scope_ref)
    if scope_id is not None and ("name" in ref or "id" in ref):
        return {"id": int(scope_id) if scope_id.isdigit() else scope_id}
    return ref


def orphan_collection(known: KnownCollection) -> Collection:
    """A removed manifest's collection, rebuilt from state: no items, its last policy
    (`prune: all` acts as `managed`: records nobody declared are not ours to delete)."""
    spec = kinds.get(known.kind)
    ref = dict(known.scope_ref)
    if not ref and known.scope and spec is not None and spec.scope_field:
        ref = spec.scope_ref_of(known.scope)
    prune = Prune(known.prune) if known.prune in Prune._value2member_map_ else Prune.MANAGED
    return Collection(
        provider=known.provider,
        kind=known.kind,
        scope=known.scope,
        scope_ref=ref,
        prune=Prune.MANAGED if prune is Prune.ALL else prune,
        prevent_destroy=known.prevent_destroy,
        items=(),
        origin=known.origin,
        orphaned=True,
    )


__all__ = ["ApplyResult", "Engine", "Refreshed", "Status"]
