"""After an apply: read back what was written and record the fields the vendor did not take.

A vendor may answer 200 to a write and ignore part of it (a null it does not
clear, a field its release does not know). Planning the same change again
would loop forever, so the read right after the write decides: a field that
still shows the value the write replaced is recorded in state (`REPLACED`),
and later plans and drift say "not taken by the vendor" instead of resending
it, until the manifest or the vendor's value changes (`diff.not_taken`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from reconcile.diff import same
from reconcile.errors import ProviderError
from reconcile.model import REPLACED, Action, Change, StateEntry

if TYPE_CHECKING:
    from reconcile.engine import Engine

log = logging.getLogger("reconcile.apply")
_WRITES_FIELDS = (Action.CREATE, Action.UPDATE, Action.ADOPT)


def record_not_taken(engine: Engine, succeeded: Iterable[Change]) -> list[tuple[str, list[str]]]:
    """One read per collection written to; returns (address, fields) the vendor ignored."""
    by_prefix: dict[str, list[Change]] = defaultdict(list)
    for c in succeeded:
        if c.action in _WRITES_FIELDS and c.fields:
            by_prefix[c.address.rsplit("/", 1)[0]].append(c)
    found: list[tuple[str, list[str]]] = []
    puts: list[StateEntry] = []
    for r in engine.last_refreshed:
        changes = by_prefix.get(r.coll.prefix)
        provider = engine.provider(r.coll.provider)
        if not changes or not provider.can_read:
            continue
        try:
            live = provider.read(r.coll, r.scope_id).records
        except ProviderError as exc:  # the writes are recorded; only this check is lost
            log.warning("%s: could not read back after the apply: %s", r.coll.prefix, exc)
            continue
        for c in changes:
            have = live.get(c.key)
            if have is None:
                continue
            ignored = {
                f.name: f.before
                for f in c.fields
                if not same(have.fields.get(f.name), f.after)
                and same(have.fields.get(f.name), f.before)
            }
            # Read state only for the few records the vendor ignored part of: a lookup per
            # write would cost more than the read-back itself.
            entry = engine.store.get(c.address) if ignored else None
            if entry is None:
                continue
            found.append((c.address, sorted(ignored)))
            old = entry.fields.get(REPLACED)
            marks = {**(old if isinstance(old, dict) else {}), **ignored}
            puts.append(dataclasses.replace(entry, fields={**entry.fields, REPLACED: marks}))
    if puts:
        engine.store.record_many(puts, [])
    return found
