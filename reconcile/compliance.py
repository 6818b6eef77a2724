"""The blacklist compliance rule: no number on a blacklist may be dialable anywhere.

A number on a declared blacklist (or recorded as blacklisted in state), for all
campaigns or for the campaign in question, that a declared dialler collection
would call or text (any kind's `dialable_fields`, unless its `dialable_unless`
field is true, e.g. a locked jtel contact) is a conflict. Numbers are compared in
E.164. A dialler collection may opt out with `allow_blacklisted: true`, which is
a warning every time. A campaign-specific entry applies to every dialler
collection whose campaign has that name, whatever the vendor: erring towards
the conflict is the safe side of a legal rule.

Pure: collections and state entries in, problems and warnings out; no network,
so `validate` runs it as well as plan and apply.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconcile import kinds
from reconcile.errors import Problem
from reconcile.model import Collection, StateEntry
from reconcile.phones import to_e164

_CANONICAL = re.compile(r"^\+[1-9][0-9]{6,14}$")
Shown = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class _Listed:
    campaign: str | None  # None: all campaigns
    where: str  # file:line:col of the entry, or its state address
    collection: str


def e164(value: Any, region: str | None) -> str | None:
    """A number in E.164; canonical values pass without a parse (100,000s of numbers)."""
    if not isinstance(value, str) or not value:
        return None
    if _CANONICAL.match(value):
        return value
    if "@" in value:
        return None
    return to_e164(value, region)


def _regions(settings: Mapping[str, Mapping[str, Any]]) -> dict[str, str | None]:
    return {name: (s.get("default_region") or None) for name, s in settings.items()}


def blacklisted(
    collections: Iterable[Collection],
    state: Iterable[StateEntry],
    regions: Mapping[str, str | None],
) -> dict[str, list[_Listed]]:
    """Every blacklisted phone number (E.164) with where it is listed and for which campaign."""
    out: dict[str, list[_Listed]] = {}
    declared: set[tuple[str, str | None]] = set()
    for coll in collections:
        spec = kinds.get(coll.kind)
        if spec is None or spec.blacklist_scope is None:
            continue
        is_phone, campaign = spec.blacklist_scope(coll.scope)
        if not is_phone:
            continue
        region = regions.get(coll.provider)
        for d in coll.items:
            n = e164(d.key, region)
            if n is not None:
                out.setdefault(n, []).append(_Listed(campaign, d.origin, coll.prefix))
                declared.add((n, campaign))
    for e in state:
        spec = kinds.get(e.kind)
        if spec is None or spec.blacklist_scope is None:
            continue
        is_phone, campaign = spec.blacklist_scope(e.scope)
        n = e164(e.key, regions.get(e.provider)) if is_phone else None
        if n is not None and (n, campaign) not in declared:
            out.setdefault(n, []).append(
                _Listed(campaign, f"{e.address} (in state)", e.address.rsplit("/", 1)[0])
            )
    return out


def check(
    collections: list[Collection],
    state: Iterable[StateEntry],
    settings: Mapping[str, Mapping[str, Any]],
    shown: Shown = lambda n: n,
) -> tuple[list[Problem], list[str]]:
    """(every conflict, a warning per collection that opts out)."""
    regions = _regions(settings)
    listed = blacklisted(collections, state, regions)
    problems: list[Problem] = []
    warnings: list[str] = []
    for coll in collections:
        spec = kinds.get(coll.kind)
        if spec is None or not spec.dialable_fields:
            continue
        allow = coll.options.get("allow_blacklisted") is True
        campaign = coll.scope if spec.scope_field == "campaign" else None
        region = regions.get(coll.provider)
        waived = 0
        for d in coll.items if listed else ():  # nothing blacklisted: nothing to look up
            if spec.dialable_unless and d.fields.get(spec.dialable_unless) is True:
                continue
            for name in spec.dialable_fields:
                raw = d.key if name == spec.key_field else d.fields.get(name)
                n = e164(raw, region)
                hits = listed.get(n, ()) if n is not None else ()
                hit = next((h for h in hits if h.campaign is None or h.campaign == campaign), None)
                if hit is None:
                    continue
                if allow:
                    waived += 1
                    continue
                scope = "all campaigns" if hit.campaign is None else f"campaign {hit.campaign}"
                problems.append(
                    Problem(
                        d.origin,
                        f"{name}: {shown(str(n))} is blacklisted for {scope} ({hit.collection} at {hit.where}) "
                        f"but dialable in {coll.prefix}: remove it here"
                        + (f", set {spec.dialable_unless}: true" if spec.dialable_unless else "")
                        + ", or set allow_blacklisted: true on the collection",
                    )
                )
        if allow:
            warnings.append(
                f"{coll.prefix} ({coll.origin}) sets allow_blacklisted: true: the blacklist compliance rule does not "
                f"stop it ({waived} blacklisted number{'s' if waived != 1 else ''} dialable now)"
            )
    return problems, warnings
