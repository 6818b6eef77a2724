"""Saved plans and safety: a plan file is applied only to the checkout and state it was
made from, with exactly the reviewed changes; deletes over a threshold need allowing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from reconcile.errors import StalePlanError, UnsafePlanError
from reconcile.model import Change, Plan, address_matches
from reconcile.planning import make_plan, source_digest

if TYPE_CHECKING:
    from reconcile.engine import Engine


def check_saved(engine: Engine, plan: Plan) -> list[tuple[Change, str]]:
    """Refuse a saved plan made against another state or another checkout, or edited since;
    list the records that moved at the vendor since (skipped, never overwritten).

    The plan is made again from this checkout and the vendors: every saved change must be
    one the checkout produces, with the same values, or apply stops and names it."""
    lineage, serial = engine.store.lineage_serial()
    if plan.lineage != lineage:
        raise StalePlanError(
            f"the plan was made for another state (lineage {plan.lineage}, this state is {lineage}); make a new plan"
        )
    if plan.collection_serials is not None:
        _check_collection_serials(engine, plan.collection_serials)
    elif plan.serial != serial:
        raise StalePlanError(
            f"the state changed since the plan was made (serial {plan.serial}, now {serial}): someone applied in between; make a new plan"
        )
    digest = source_digest(engine)
    if plan.source_digest != digest:
        raise StalePlanError(
            "the plan was made from other manifests or another reconcile.yaml than this checkout's "
            f"(plan {plan.source_digest or 'without a digest'}, checkout {digest}); make the plan from this checkout"
        )
    fresh = make_plan(engine, plan.targets)
    now = {(c.address, c.action): c for c in fresh.changes}
    live = {r.coll.prefix: r.live for r in engine.last_refreshed}
    moved: list[tuple[Change, str]] = []
    edited: list[str] = []
    for c in plan.changes:
        f = now.get((c.address, c.action))
        if f is not None and f.live_fingerprint == c.live_fingerprint:
            if f.after != c.after or f.fields != c.fields or f.remote_id != c.remote_id:
                edited.append(
                    f"{c.action.value} {c.address}: its values differ from what this checkout plans"
                )
            continue
        if f is None and c.live_fingerprint is None:
            read = live.get(c.address.rsplit("/", 1)[0])
            if read is None or c.key not in read.records:
                edited.append(f"{c.action.value} {c.address}: this checkout plans no such change")
                continue
        refused = [e for e in fresh.errors if e.startswith(c.address + ": ")]
        if refused:
            moved.append((c, f"not applied: {refused[0][len(c.address) + 2 :]}"))
            continue
        what = "appeared" if c.live_fingerprint is None else "changed or is gone"
        moved.append(
            (
                c,
                f"the live record {what} at the vendor since the plan was made; not overwritten (make a new plan)",
            )
        )
    if edited:
        raise StalePlanError(
            "\n".join(
                [
                    "the saved plan is not what this checkout plans (was it edited?):",
                    *(f"  {e}" for e in edited),
                ]
            )
        )
    return moved


def _check_collection_serials(engine: Engine, planned: Mapping[str, int]) -> None:
    """A plan is stale when a collection it changes was written since it was read; writes
    to other collections (another runner's, another shard's) leave it applicable."""
    now = engine.store.collection_serials(planned)
    moved = [f"{c} (serial {s}, now {now[c]})" for c, s in sorted(planned.items()) if now[c] != s]
    if moved:
        raise StalePlanError(
            f"the state changed since the plan was made, in {len(moved)} collection{'s' if len(moved) != 1 else ''} "
            f"it changes: {', '.join(moved)}; someone applied in between; make a new plan"
        )


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
