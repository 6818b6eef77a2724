"""Planning: refreshed collections -> one plan, with the ownership and safety rules.

Pure rules live in `diff` and `safety`; this module applies them to what a
refresh found and says what is wrong with the plan (errors, which keep the
records they name out of it) and what needs a second look (warnings, guards).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from reconcile.diff import not_taken_note, plan_collection
from reconcile.errors import ProviderError, StalePlanError, UnsafePlanError, UsageError
from reconcile.masking import mask
from reconcile.model import (
    Action,
    Change,
    Guard,
    Live,
    Plan,
    Prune,
    StateEntry,
    Status,
    address_matches,
    fingerprint,
)
from reconcile.providers.base import ReadResult
from reconcile.safety import over_threshold, prevent_destroy

if TYPE_CHECKING:
    from reconcile.engine import Engine, Refreshed


def make_plan(engine: Engine, targets: tuple[str, ...]) -> Plan:
    refreshed = engine.refresh(targets)
    engine.last_refreshed = refreshed
    lineage, serial = engine.store.lineage_serial()
    changes: list[Change] = []
    errors: list[str] = []
    warnings: list[str] = []
    unobservable: list[str] = []
    guards: list[Guard] = []
    for r in refreshed:
        live = _live_or_state(r)
        if r.live is None:
            unobservable.append(r.coll.prefix)
        cp = plan_collection(r.coll, r.spec, live.records, r.state, r.identity, live.unobservable)
        warnings += [f"{r.coll.prefix}: {w}" for w in live.warnings]
        warnings += [not_taken_note(address, names) for address, names in cp.not_taken]
        coll_changes = _moves(r) + list(cp.changes)
        blocked = _duplicates(r, live, lineage, errors, warnings)
        coll_changes = [c for c in coll_changes if c.key not in blocked]
        for p in engine.provider(r.coll.provider).check_plan(r.coll, live, coll_changes):
            errors.append(str(p))
            blocked.add(p.where)
        coll_changes = [c for c in coll_changes if c.address not in blocked]
        coll_changes = _one_owner(engine, coll_changes, errors)
        coll_changes, problems = prevent_destroy(r.coll, coll_changes)
        errors += [str(p) for p in problems]
        in_scope = len(live.records) if r.coll.prune is Prune.ALL else len(r.state)
        message = over_threshold(r.coll, coll_changes, in_scope, engine.project.policy)
        if message:
            guards.append(Guard(r.coll.prefix, message))
        if r.live is None:
            coll_changes = _hold_uncertain(r, coll_changes, warnings)
        if r.coll.orphaned and r.state:
            fate = "forgotten (prune: none)" if r.coll.prune is Prune.NONE else "deleted"
            warnings.append(
                f"{r.coll.prefix}: no manifest declares this collection any more (last declared at "
                f"{r.coll.origin or 'an unknown place'}); its {len(r.state)} record(s) are planned to be {fate}. "
                "Restore the document to keep them, or `reconcile state rm` them to leave them at the vendor unmanaged"
            )
        changes += coll_changes
    if targets:
        _check_targets(refreshed, targets)
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
        guards=tuple(guards),
    )


def _live_or_state(r: Refreshed) -> ReadResult:
    if r.live is not None:
        return r.live
    # No read API: what state last applied stands in for the vendor.
    return ReadResult(
        {
            k: Live(k, e.remote_id or "", e.fields)
            for k, e in r.state.items()
            if e.status is Status.OK
        }
    )


def _moves(r: Refreshed) -> list[Change]:
    """State entries whose address or owner no longer follows the manifest: re-keyed in state,
    nothing sent (a scope now named instead of numbered, rows of an older reconcile)."""
    out = []
    for e in r.state.values():
        address = r.coll.address(e.key)
        if address == e.address and e.collection == r.identity:
            continue
        out.append(
            Change(
                address=address, action=Action.MOVE, provider=e.provider, kind=e.kind,
                scope=r.coll.scope, key=e.key, remote_id=e.remote_id, after=e.fields,
                collection=r.identity, moved_from=e.address, origin=r.coll.origin,
            )
        )  # fmt: skip
    return out


def _duplicates(
    r: Refreshed, live: ReadResult, lineage: str, errors: list[str], warnings: list[str]
) -> set[str]:
    """Keys the vendor holds twice: those we declare or manage are blocked, with an error."""
    blocked: set[str] = set()
    declared = {d.key for d in r.coll.items}
    for key, recs in live.duplicates.items():
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
    return blocked


def _one_owner(engine: Engine, changes: list[Change], errors: list[str]) -> list[Change]:
    """A live record state already holds under another address is not adopted a second time."""
    kept = []
    moving = {c.moved_from for c in changes if c.action is Action.MOVE}
    for c in changes:
        if c.action is Action.ADOPT and c.remote_id:
            owner = engine.store.owner_of(c.provider, c.kind, c.remote_id)
            if owner is not None and owner.address != c.address and owner.address not in moving:
                errors.append(
                    f"{c.address}: the vendor's record {c.remote_id} is already owned by {owner.address} in state; "
                    f"one record has one owner: `reconcile state mv '{owner.address}' '{c.address}'` if it moved"
                )
                continue
        kept.append(c)
    return kept


def _hold_uncertain(r: Refreshed, changes: list[Change], warnings: list[str]) -> list[Change]:
    """No read API: an uncertain write cannot be looked up, and planning it again could
    double it. Hold it back and say exactly how to settle it."""
    for e in r.state.values():
        if e.status is not Status.UNCERTAIN:
            continue
        changes = [c for c in changes if c.address != e.address or c.action is Action.MOVE]
        warnings.append(
            f"{e.address}: the last write's outcome is unknown and {r.coll.provider} cannot be read; check it at "
            f"the vendor, then run: reconcile import '{e.address}' REMOTE_ID (or reconcile state rm '{e.address}' "
            "if it does not exist there); it is left out of this plan until then"
        )
    return changes


def _check_targets(refreshed: list[Refreshed], targets: tuple[str, ...]) -> None:
    """A target inside a collection must name a record that is declared, managed or live."""
    known: set[str] = set()
    for r in refreshed:
        known.add(r.coll.prefix)
        known.update(r.coll.address(d.key) for d in r.coll.items)
        known.update(r.coll.address(k) for k in r.state)
        if r.live is not None:
            known.update(r.coll.address(k) for k in r.live.records)
    missing = [t for t in targets if not any(address_matches(a, t) for a in known)]
    if missing:
        raise UsageError(
            "\n".join(f"--target {t} matches nothing{did_you_mean(t, known)}" for t in missing)
        )


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def _describe(rec: Live, key: str) -> str:
    """A duplicate record for an error message: its id and its numbers, masked."""
    numbers = [
        mask(v, key) for k, v in sorted(rec.fields.items()) if k.startswith("PhoneNumber") and v
    ]
    return f"id {rec.remote_id}" + (f" {', '.join(map(str, numbers))}" if numbers else "")


# -- saved plans and safety --------------------------------------------------------------
def check_saved(engine: Engine, plan: Plan) -> list[tuple[Change, str]]:
    """Refuse a saved plan made against another state; list the records that moved since."""
    lineage, serial = engine.store.lineage_serial()
    if plan.lineage != lineage:
        raise StalePlanError(
            f"the plan was made for another state (lineage {plan.lineage}, this state is {lineage}); make a new plan"
        )
    if plan.serial != serial:
        raise StalePlanError(
            f"the state changed since the plan was made (serial {plan.serial}, now {serial}): someone applied in between; make a new plan"
        )
    prefixes = sorted({c.address.rsplit("/", 1)[0] for c in plan.changes})
    refreshed = engine.refresh(prefixes) if prefixes else []
    engine.last_refreshed = refreshed
    by_prefix = {r.coll.prefix: r for r in refreshed}
    moved: list[tuple[Change, str]] = []
    for c in plan.changes:
        r = by_prefix.get(c.address.rsplit("/", 1)[0])
        if (
            r is None
            or r.live is None
            or not c.action.writes_vendor
            and c.action is not Action.ADOPT
        ):
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


def enforce_safety(plan: Plan, force: bool, allow_delete: tuple[str, ...]) -> list[str]:
    """Refuse a plan over a safety threshold, unless `--force`, or `--allow-delete` names
    the collection; returns a note for each threshold passed that way."""
    notes, refused = [], []
    for g in plan.guards:
        allowed = [a for a in allow_delete if address_matches(g.collection, a)]
        if force or allowed:
            how = "--force" if force else f"--allow-delete {allowed[0]}"
            notes.append(f"{g.message.split(';')[0]}: allowed by {how}")
        else:
            refused.append(g)
    unused = [
        a for a in allow_delete if not any(address_matches(g.collection, a) for g in plan.guards)
    ]
    if refused:
        raise UnsafePlanError(
            "\n".join(
                [
                    "refusing to apply:",
                    *(f"  {g.message}" for g in refused),
                    "pass --allow-delete COLLECTION for each reviewed collection (or --force for all)",
                ]
            )
        )
    notes += [
        f"--allow-delete {a}: no collection of this plan is over a threshold there" for a in unused
    ]
    return notes


def with_collections(changes: Iterable[Change], identities: Mapping[str, str]) -> list[Change]:
    """Changes of a saved plan made before plans named the owning collection."""
    return [
        c
        if c.collection
        else dataclasses.replace(c, collection=identities.get(c.address.rsplit("/", 1)[0], ""))
        for c in changes
    ]


# -- import ---------------------------------------------------------------------------
def import_record(
    engine: Engine, address: str, remote_id: str, *, force: bool = False
) -> tuple[StateEntry, list[str]]:
    """Record an existing vendor record as `address`. Only a declared item is imported:
    an undeclared one would be deleted by the next plan, so that takes `force`."""
    coll, key = engine.collection_for(address)
    warnings: list[str] = []
    declared = next((d for d in coll.items if d.key == key), None)
    if declared is None:
        if not force:
            raise UsageError(
                f"{address}: no manifest declares this item{did_you_mean(address, (coll.address(d.key) for d in coll.items))}; "
                "declare it first (or pass --force: the next plan will then delete it)"
            )
        warnings.append(
            f"{address} is not declared: the next plan will delete it (prune: {coll.prune.value})"
        )
    refreshed = engine.refresh([coll.prefix])
    r = next(r for r in refreshed if r.coll.prefix == coll.prefix)
    owner = engine.store.owner_of(coll.provider, coll.kind, remote_id)
    if owner is not None and owner.address != address:
        raise UsageError(
            f"{address}: the vendor's record {remote_id} is already owned by {owner.address}; "
            f"one record has one owner: `reconcile state mv '{owner.address}' '{address}'` to rename it"
        )
    prov = engine.provider(coll.provider)
    if not prov.can_read:
        # Nothing to look up: the vendor's values are unknown, so none are recorded and the
        # next apply sends the declared fields once.
        fields: dict[str, object] = {}
        warnings.append(
            f"{coll.provider} cannot be read, so the record's values there are unknown: the next apply sends the declared fields once"
        )
    else:
        rec = prov.fetch_one(coll, r.scope_id, remote_id)
        if rec is None:
            raise ProviderError(
                f"{coll.provider} has no record with id {remote_id!r} in {coll.prefix}",
                address=address,
            )
        if rec.key != key:
            raise UsageError(
                f"{address}: the vendor's record {remote_id!r} has key {rec.key!r}, not {key!r}"
            )
        remote_id = rec.remote_id
        managed = dict(declared.fields) if declared else dict(rec.fields)
        fields = {k: rec.fields.get(k) for k in managed}
    entry = StateEntry(
        address, coll.provider, coll.kind, coll.scope, key, remote_id, fields, Status.OK, r.identity
    )
    engine.store.put(entry)
    engine.remember(refreshed)
    return entry, warnings
