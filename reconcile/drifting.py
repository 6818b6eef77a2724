"""Drift: what changed behind the tool's back, in the three classes of the design
(pending, changed outside, unmanaged), and the collections that cannot be observed."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from reconcile.diff import drift_collection
from reconcile.model import Drift, DriftReport, address_matches

if TYPE_CHECKING:
    from reconcile.engine import Engine


def drift_report(engine: Engine, targets: tuple[str, ...]) -> DriftReport:
    out: list[Drift] = []
    unobservable: list[str] = []
    warnings: list[str] = []
    for r in engine.refresh(targets):
        if r.live is None:
            unobservable.append(
                f"{r.coll.prefix}: {r.coll.provider} has no read API; drift cannot be observed"
            )
            continue
        for key, recs in r.live.duplicates.items():
            warnings.append(
                f"{r.coll.address(key)}: the vendor holds {len(recs)} records with this key; not compared"
            )
        warnings += [f"{r.coll.prefix}: {w}" for w in r.live.warnings]
        doubled = {r.coll.address(k) for k in r.live.duplicates}
        found = drift_collection(
            r.coll, r.spec, r.live.records, r.state, r.live.unobservable, warnings
        )
        out += [
            dataclasses.replace(d, kind=r.coll.kind, collection=r.coll.prefix)
            for d in found
            if d.address not in doubled
        ]
    if targets:
        out = [d for d in out if any(address_matches(d.address, t) for t in targets)]
    out.sort(key=lambda d: (d.drift_class.value, d.address))
    return DriftReport(tuple(out), tuple(unobservable), tuple(warnings))
