"""Pure diffing: desired x live x state -> changes, and the drift classes.

Records are matched by key in dicts; a record's managed fields are compared
as a whole first and field by field only when they differ. Only fields the
manifest writes are owned: anything else the vendor holds is never compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reconcile.kinds import KindSpec
from reconcile.matching import unchanged
from reconcile.model import (
    JSON,
    REPLACED,
    Action,
    Change,
    Collection,
    Desired,
    Drift,
    DriftClass,
    FieldChange,
    Live,
    Prune,
    StateEntry,
    Status,
    fingerprint,
)


@dataclass(frozen=True, slots=True)
class CollectionPlan:
    changes: tuple[Change, ...]
    managed_count: int  # records of this collection that state holds
    not_taken: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (address, fields) the vendor ignored


def not_taken(
    want: Mapping[str, JSON], have: Mapping[str, JSON], known: StateEntry | None
) -> set[str]:
    """Fields of `want` that reconcile sent and the vendor accepted, but whose live value is
    still the one the write replaced: the vendor did not take them. Not resent in a loop."""
    if known is None or known.status is not Status.OK:
        return set()
    replaced = known.fields.get(REPLACED)
    if not isinstance(replaced, Mapping):
        return set()
    return {
        k
        for k, v in want.items()
        if k in replaced
        and k in known.fields
        and same(known.fields[k], v)
        and not same(have.get(k), v)
        and same(have.get(k), replaced[k])
    }


def still_replaced(entry: StateEntry, have: Mapping[str, JSON]) -> StateEntry | None:
    """`entry` without the replaced values a read now shows were taken; None if unchanged."""
    replaced = entry.fields.get(REPLACED)
    if not isinstance(replaced, Mapping):
        return None
    keep = {k: v for k, v in replaced.items() if not same(have.get(k), entry.fields.get(k))}
    if len(keep) == len(replaced):
        return None
    fields = {k: v for k, v in entry.fields.items() if k != REPLACED}
    if keep:
        fields[REPLACED] = keep
    return StateEntry(
        entry.address, entry.provider, entry.kind, entry.scope, entry.key, entry.remote_id,
        fields, entry.status, entry.collection,
    )  # fmt: skip


def same(a: JSON, b: JSON) -> bool:
    # JSON has one number type: 10 and 10.0 are the same value at the vendor.
    if type(a) is not type(b) and isinstance(a, int | float) and isinstance(b, int | float):
        return not isinstance(a, bool) and not isinstance(b, bool) and float(a) == float(b)
    return bool(a == b)


def field_changes(want: Mapping[str, JSON], have: Mapping[str, JSON]) -> list[FieldChange]:
    """Field-level differences of the fields in `want` (a missing field counts as null)."""
    out = []
    for k, v in want.items():
        h = have.get(k)
        if type(h) is type(v) and h == v:
            continue  # the no-op hot path: `same` without a call
        if not same(h, v):
            out.append(FieldChange(k, h, v))
    return out


def split_fields(
    spec: KindSpec, fields: Mapping[str, JSON]
) -> tuple[Mapping[str, JSON], Mapping[str, JSON], Mapping[str, JSON]]:
    """(plain fields sent in bodies, toggles applied by actions, triggers kept in state)."""
    if not spec.toggles and not spec.triggers:
        return fields, {}, {}  # the common case: no copies on the no-op hot path
    plain: dict[str, JSON] = {}
    toggles: dict[str, JSON] = {}
    triggers: dict[str, JSON] = {}
    for k, v in fields.items():
        if k in spec.toggles:
            toggles[k] = v
        elif k in spec.triggers:
            triggers[k] = v
        else:
            plain[k] = v
    return plain, toggles, triggers


def plan_collection(
    coll: Collection,
    spec: KindSpec,
    live: Mapping[str, Live],
    state: Mapping[str, StateEntry],
    identity: str = "",
    unobservable: frozenset[str] = frozenset(),
) -> CollectionPlan:
    """The changes that make the vendor hold `coll`; `state` is keyed by record key and
    `identity` names the owning collection in state. Toggles in `unobservable` are not
    shown by reads: they are planned from what state last applied."""
    changes: list[Change] = []
    ignored: list[tuple[str, tuple[str, ...]]] = []

    def change(action: Action, key: str, remote_id: str | None, fields: list[FieldChange] | tuple[FieldChange, ...] = (),
               after: Mapping[str, JSON] | None = None, live_rec: Live | None = None, origin: str = "") -> None:  # fmt: skip
        changes.append(
            Change(
                address=coll.address(key),
                action=action,
                provider=coll.provider,
                kind=coll.kind,
                scope=coll.scope,
                key=key,
                remote_id=remote_id,
                fields=tuple(fields),
                after=after,
                live_fingerprint=fingerprint(live_rec.fields) if live_rec is not None else None,
                origin=origin,
                collection=identity,
            )
        )

    in_state = 0  # declared items state knows: when all of state, no entry is left over
    # A matched record (see `unchanged`: every declared field held alike, toggles too, and
    # no trigger declared) that state knows plans nothing, unless reads hide a toggle.
    quiet = not unobservable
    ok = Status.OK
    for d in coll.items:
        known = state.get(d.key)
        have = live.get(d.key)
        if known is not None:
            in_state += 1
        if (
            quiet
            and known is not None
            and have is not None
            and known.status is ok
            and unchanged(have.fields, d)
        ):
            continue  # the no-op hot path: the vendor holds exactly what is declared
        after = d.fields  # decoded once (an item from the cache keeps its fields as text)
        plain, toggles, triggers = split_fields(spec, after)
        if have is None:
            created = field_changes(plain, {})
            if spec.refine_changes is not None:
                created = spec.refine_changes(created)
            change(Action.CREATE, d.key, None, created, after, origin=d.origin)
            for name, want in toggles.items():
                if want:
                    change(
                        spec.toggles[name][0],
                        d.key,
                        None,
                        [FieldChange(name, False, True)],
                        after,
                        origin=d.origin,
                    )
            continue
        diffs = [] if unchanged(have.fields, d) else field_changes(plain, have.fields)
        skipped = not_taken(plain, have.fields, known) if diffs else set()
        if skipped:
            ignored.append((coll.address(d.key), tuple(sorted(skipped))))
            diffs = [f for f in diffs if f.name not in skipped]
        if diffs and spec.refine_changes is not None:
            diffs = spec.refine_changes(diffs)
        if known is None or known.status is not Status.OK:
            change(Action.ADOPT, d.key, have.remote_id, diffs, after, have, d.origin)
        elif diffs:
            change(Action.UPDATE, d.key, have.remote_id, diffs, after, have, d.origin)
        for name, want in toggles.items():
            if name in unobservable:
                # Sent only when the declared value changes (first seen: a lock is sent).
                last = known.fields.get(name) if known is not None else None
                is_on = bool(last)
            else:
                is_on = bool(have.fields.get(name, False))
            if bool(want) != is_on:
                on, off = spec.toggles[name]
                change(
                    on if want else off,
                    d.key,
                    have.remote_id,
                    [FieldChange(name, is_on, bool(want))],
                    after,
                    have,
                    d.origin,
                )
        if known is not None:
            # A trigger fires once per new value; written for the first time on a record
            # we already manage, it fires too. Adopted records only record it.
            for name, want in triggers.items():
                before = known.fields.get(name)
                if name not in known.fields or not same(before, want):
                    change(
                        spec.triggers[name],
                        d.key,
                        have.remote_id,
                        [FieldChange(name, before, want)],
                        after,
                        have,
                        d.origin,
                    )

    # Keys are unique in a collection (the loader refuses one twice): a 100,000-key set is
    # built only when state holds entries the manifest no longer declares, or for prune: all.
    leftover = in_state < len(state)
    declared = {d.key for d in coll.items} if leftover or coll.prune is Prune.ALL else set()
    for key, entry in state.items() if leftover else ():
        if key in declared:
            continue
        have = live.get(key)
        if have is None:
            change(Action.FORGET, key, entry.remote_id, (), None, origin=coll.origin)
        elif coll.prune is Prune.NONE:
            change(Action.FORGET, key, have.remote_id, (), None, have, coll.origin)
        else:
            change(
                Action.DELETE, key, have.remote_id, field_changes({}, {}), None, have, coll.origin
            )

    if coll.prune is Prune.ALL:
        for key, have in live.items():
            if key not in declared and key not in state:
                change(Action.DELETE, key, have.remote_id, (), None, have, coll.origin)

    changes.sort(key=lambda c: c.sort_key)
    return CollectionPlan(tuple(changes), len(state), tuple(ignored))


def drift_collection(
    coll: Collection,
    spec: KindSpec,
    live: Mapping[str, Live],
    state: Mapping[str, StateEntry],
    unobservable: frozenset[str] = frozenset(),
    notes: list[str] | None = None,
) -> list[Drift]:
    """Pending (declared, not applied), changed outside (live moved from what we applied)
    and unmanaged (live records in a `prune: all` scope that nothing declares). Fields the
    vendor did not take are added to `notes`, not claimed as drift."""
    out: list[Drift] = []
    declared: dict[str, Desired] = {d.key: d for d in coll.items}
    for key, d in declared.items():
        known = state.get(key)
        have = live.get(key)
        if (
            have is not None
            and known is not None
            and known.status is Status.OK
            and not unobservable
            and unchanged(have.fields, d)
            and _applied(known.fields, d)
        ):
            continue  # the nightly hot path: declared, applied and held alike
        plain, toggles, _triggers = split_fields(spec, d.fields)
        toggles = {k: v for k, v in toggles.items() if k not in unobservable}
        owned = {**plain, **toggles}
        addr = coll.address(key)
        if have is None:
            if known is not None and known.status is Status.OK:
                out.append(Drift(addr, DriftClass.CHANGED_OUTSIDE, (), "deleted at the vendor"))
            else:
                out.append(
                    Drift(
                        addr, DriftClass.PENDING, tuple(field_changes(owned, {})), "to be created"
                    )
                )
            continue
        live_fields = _with_toggles(have.fields, toggles)
        outside: list[FieldChange] = []
        pending: list[FieldChange] = []
        ignored = not_taken(plain, have.fields, known)
        if ignored and notes is not None:
            notes.append(not_taken_note(addr, ignored))
        for name, want in owned.items():
            if name in ignored:
                continue
            now = live_fields.get(name)
            if known is not None and name in known.fields and not same(now, known.fields[name]):
                outside.append(FieldChange(name, known.fields[name], now))
            elif not same(now, want):
                pending.append(FieldChange(name, now, want))
        if outside:
            out.append(Drift(addr, DriftClass.CHANGED_OUTSIDE, tuple(outside)))
        if pending:
            out.append(Drift(addr, DriftClass.PENDING, tuple(pending)))
        elif known is None:
            out.append(Drift(addr, DriftClass.PENDING, (), "to be adopted"))
    for key, known in state.items():
        if key in declared:
            continue
        addr = coll.address(key)
        if key in live and coll.prune is not Prune.NONE:
            out.append(Drift(addr, DriftClass.PENDING, (), "no longer declared: to be deleted"))
        elif key in live:
            out.append(
                Drift(
                    addr,
                    DriftClass.PENDING,
                    (),
                    "no longer declared: to be forgotten (prune: none)",
                )
            )
        elif key not in live and known.status is Status.OK:
            out.append(
                Drift(
                    addr,
                    DriftClass.PENDING,
                    (),
                    "gone at the vendor and no longer declared: to be forgotten",
                )
            )
    if coll.prune is Prune.ALL:
        for key in live:
            if key not in declared and key not in state:
                out.append(
                    Drift(
                        coll.address(key),
                        DriftClass.UNMANAGED,
                        (),
                        "live record that no manifest declares",
                    )
                )
    return out


def _applied(last: Mapping[str, JSON], item: Desired) -> bool:
    """Whether what state last applied agrees with every declared field it records."""
    kept = item.kept_text
    if kept is not None and getattr(last, "text", None) == kept:
        return True  # the very text the item declares (see state.rows.share_texts)
    peek = getattr(last, "peek", None)  # state's lazily decoded fields: looked at, not kept
    seen: Mapping[str, JSON] = peek() if peek is not None else last
    for k, v in item.fields.items():
        if k in seen:
            w = seen[k]
            if type(w) is not type(v) or w != v:
                return False
    return True


def not_taken_note(address: str, names: Iterable[str]) -> str:
    return (
        f"{address}: not taken by the vendor: {', '.join(sorted(names))} (the vendor accepted the "
        "change but still shows the value it replaced); not sent again until the manifest or the vendor's value changes"
    )


def _with_toggles(fields: Mapping[str, JSON], toggles: Mapping[str, JSON]) -> Mapping[str, JSON]:
    if not toggles:
        return fields
    out = dict(fields)
    for name in toggles:
        out[name] = bool(fields.get(name, False))
    return out
