"""Live records that hold exactly what is declared, kept without a copy of their values.

A no-op plan of 100,000 records reads 100,000 live records that equal their
declared items. Holding each as its own dict of fresh strings doubles the
plan's memory for nothing: as a record arrives from the vendor, the reader
compares it with its declared item and, when every declared field is there
with the same type and value, keeps a reference to the declared item itself
(never modify a record's fields in place) plus the few fields the
vendor shows besides (shared between records when they are the usual
defaults). Nothing is lost: `Matched` reads as the full live record.
The diff then knows the record is unchanged without looking at a field.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, Mapping
from types import MappingProxyType

from reconcile import kinds
from reconcile.model import JSON, Collection, Desired, Live

NO_FIELDS: Mapping[str, JSON] = MappingProxyType({})
_SHARED_EXTRAS = 4096  # distinct "other fields" kept shared; beyond, each record keeps its own


class Matched(Mapping[str, JSON]):
    """A live record's fields: its declared item's fields (equal at the vendor) plus
    `extra`, the fields the vendor shows that the manifest does not declare. The declared
    fields are the item's own (decoded from its text when the item keeps one: see
    `Desired`), so a record held alike costs no copy of its values."""

    __slots__ = ("desired", "extra")

    def __init__(self, desired: Desired, extra: Mapping[str, JSON]) -> None:
        self.desired = desired
        self.extra = extra

    def __getitem__(self, key: str) -> JSON:
        try:
            return self.extra[key]
        except KeyError:
            return self.desired.fields[key]

    def __contains__(self, key: object) -> bool:
        return key in self.extra or key in self.desired.fields

    def __iter__(self) -> Iterator[str]:
        yield from self.desired.fields
        yield from self.extra

    def __len__(self) -> int:
        return len(self.desired.fields) + len(self.extra)

    def __repr__(self) -> str:
        return repr(dict(self))

    def items(self) -> ItemsView[str, JSON]:
        # The item's text decoded once for all of them (the mixin would decode it once a
        # field: a first adopt fingerprints every record).
        return {**self.desired.fields, **self.extra}.items()


def unchanged(have: Mapping[str, JSON], want: Desired) -> bool:
    """Whether `have` (a live record's fields) was matched to exactly `want` as it was read:
    every field the item declares, toggles included, is held with the same type and value,
    and the item declares no trigger."""
    return type(have) is Matched and have.desired is want


def matcher(coll: Collection) -> Callable[[Live], Live]:
    """For a provider's read: each live record as kept, matched to `coll`'s declared items."""
    if not coll.items:
        return _as_is
    declared = {d.key: d for d in coll.items}
    extras: dict[tuple[object, ...], Mapping[str, JSON]] = {}
    # A trigger (jtel's reset_token) is kept in state only, never shown by a read. A record
    # that shows one is never matched, so a matched record's item declares no trigger and
    # the diff may pass it without looking at its fields (`unchanged`).
    spec = kinds.get(coll.kind)
    state_only = tuple(spec.triggers) if spec is not None else ()
    last: list[Mapping[str, JSON]] = [NO_FIELDS]  # the extras the last record shared

    def match(rec: Live) -> Live:
        d = declared.get(rec.key)
        if d is None:
            return rec
        want, have = d.fields, rec.fields
        for name in state_only:
            if name in have:
                return rec
        # Every declared (name, value) is in the record (compared in C), and of the same type:
        # JSON's 1, 1.0 and true compare equal in Python (the diff tells them apart); a text
        # equals only a text, so only the other values' types are looked at.
        if len(have) == len(want):
            if want != have:
                return rec
        elif not (want.items() <= have.items()):
            return rec
        for k, v in want.items():
            if type(v) is not str and type(v) is not type(have[k]):
                return rec
        rid = d.key if rec.remote_id == rec.key else rec.remote_id
        if len(have) == len(want):
            return Live(d.key, rid, Matched(d, NO_FIELDS))  # nothing besides
        # Most records show the same few fields besides (jtel: Amount 0.0, locked false):
        # first try the extras the last record shared. They are this record's exactly when
        # each is held alike (type too) and undeclared, and as many as the record has besides.
        extra: Mapping[str, JSON] = last[0]
        if len(extra) == len(have) - len(want):
            for k, v in extra.items():
                if k in want or k not in have or (w := have[k]) != v or type(w) is not type(v):
                    break
            else:
                return Live(d.key, rid, Matched(d, extra))
        extra = {k: v for k, v in have.items() if k not in want}
        if len(extras) < _SHARED_EXTRAS:
            try:
                sig = (tuple(extra.items()), tuple(map(type, extra.values())))
                extra = last[0] = extras.setdefault(sig, extra)
            except TypeError:  # a list or map among them: kept as it is
                pass
        return Live(d.key, rid, Matched(d, extra))

    return match


def _as_is(rec: Live) -> Live:
    return rec
