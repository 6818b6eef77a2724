"""Frozen values the rest of reconcile passes around: addresses, records, changes, plans.

Nothing here does I/O. Field values are JSON values (str, int, float, bool,
None, lists and dicts of them); mappings handed to these classes are never
mutated afterwards.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import msgspec

FORMAT_VERSION = 1

JSON = Any  # a JSON value


class Action(enum.StrEnum):
    """What a change does. Order of the members is the order changes are applied in."""

    MOVE = "move"  # state only: an entry's address or owning collection follows the manifest
    FORGET = "forget"  # in state, gone at the vendor (or no longer managed): state only
    DELETE = "delete"
    UPDATE = "update"
    ADOPT = "adopt"  # a live record with our key that state does not know yet
    CREATE = "create"
    UNLOCK = "unlock"
    LOCK = "lock"
    RESET = "reset"

    @property
    def phase(self) -> int:
        return _PHASES[self]

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]

    @property
    def writes_vendor(self) -> bool:
        return self not in (Action.FORGET, Action.ADOPT, Action.MOVE)


_PHASES = {a: i for i, a in enumerate(Action)}
# Lock, unlock and reset run after creates and updates, which may supply the id they act on.
_PHASES[Action.UNLOCK] = _PHASES[Action.LOCK] = _PHASES[Action.RESET] = len(Action)
_SYMBOLS = {
    Action.MOVE: ">",
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DELETE: "-",
    Action.ADOPT: "<",
    Action.FORGET: "x",
    Action.LOCK: "L",
    Action.UNLOCK: "U",
    Action.RESET: "R",
}


class Prune(enum.StrEnum):
    MANAGED = "managed"
    ALL = "all"
    NONE = "none"


class Status(enum.StrEnum):
    OK = "ok"
    UNCERTAIN = "uncertain"  # a write was sent and its outcome is unknown


def escape_part(part: str) -> str:
    """Address parts may hold any text; `/` is written `%2F` (and `%` as `%25`)."""
    return part.replace("%", "%25").replace("/", "%2F")


def make_address(provider: str, resource: str, scope: str | None, key: str) -> str:
    parts = [provider, resource] + ([scope] if scope else []) + [key]
    return "/".join(escape_part(p) for p in parts)


def collection_identity(provider: str, kind: str, scope_id: str | None) -> str:
    """A collection's stable identity in state: its provider, kind and the vendor's id of its
    scope (a jtel campaign id, not the name the manifest happens to use)."""
    return f"{provider}/{kind}/{scope_id or ''}"


def address_matches(address: str, target: str) -> bool:
    """`--target` selects an address or every address below a prefix."""
    return address == target or address.startswith(target.rstrip("/") + "/")


def fingerprint(fields: Mapping[str, JSON]) -> str:
    """A short stable hash of a record's fields, to tell whether it moved since a plan."""
    # Any Mapping (state and reads hand out lazily decoded ones) hashes as the dict it
    # stands for, taken through items(): one decode for a matched record, not one a field.
    plain = fields if isinstance(fields, dict) else dict(fields.items())
    raw = canonical_json(plain)
    return hashlib.blake2b(raw.encode(), digest_size=10).hexdigest()


# A state entry's fields also keep, under this key, fields a write sent that the read
# right after it showed were not taken (with the value the write meant to replace): they
# are reported, not resent forever (see `verifying`). No manifest field has this name
# (item schemas refuse unknown fields).
REPLACED = "~replaced"


def carry_replaced(entry: StateEntry, previous: StateEntry | None, sent: set[str]) -> StateEntry:
    """`entry` keeping what `previous` recorded as not taken, for fields it did not send."""
    old = previous.fields.get(REPLACED) if previous is not None else None
    if not isinstance(old, Mapping):
        return entry
    kept = {k: v for k, v in old.items() if k not in sent}
    if not kept:
        return entry
    return StateEntry(
        entry.address, entry.provider, entry.kind, entry.scope, entry.key, entry.remote_id,
        {**entry.fields, REPLACED: kept}, entry.status, entry.collection,
    )  # fmt: skip


def canonical_json(fields: Mapping[str, JSON]) -> str:
    """Fields as one canonical JSON text (sorted names), whatever their order: for fingerprints."""
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def compact_json(fields: Mapping[str, JSON]) -> str:
    """Fields as one compact JSON text in their own order: a declared item's, so that its
    changes are listed in the manifest's order whether it came from the file or the cache."""
    if not fields:
        return "{}"  # a blacklist entry's: 100,000s of them journaled and stored
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


# msgspec decodes an item's text in about 40% of the stdlib's time (a 1,000,000-item plan
# decodes each once or twice). The cache keeps only texts it gives back exactly.
decode_fields: Callable[[str], Any] = msgspec.json.Decoder().decode


# The record types below are made 100,000 at a time: plain slotted classes, not frozen
# dataclasses (a frozen dataclass's __init__ is ~6x slower: 0.35 s of a 100,000-record
# no-op plan). Never assign to their attributes: make a new one (dataclasses.replace for
# Live and StateEntry).
class Desired:
    """One declared item: its key, the fields the manifest owns, and where it was written.

    An item read from the cache of checked manifests keeps its fields as their compact
    JSON text (about a third of the memory of a dict of strings: 100,000 items are ~30 MB
    less), decoded afresh on each use of `fields` and never kept decoded. Code that looks
    at `fields` more than once in a loop takes it once. Never modify `fields`."""

    __slots__ = ("key", "_fields", "origin")

    def __init__(self, key: str, fields: Mapping[str, JSON] | str, origin: str) -> None:
        self.key = key
        self._fields = fields  # a mapping, or its compact JSON text
        self.origin = origin  # "file:line:col"

    @property
    def fields(self) -> Mapping[str, JSON]:
        f = self._fields
        if type(f) is str:
            value: Mapping[str, JSON] = decode_fields(f)
            return value
        return cast(Mapping[str, JSON], f)  # no check here: read a million times a plan

    @property
    def text(self) -> str:
        """The fields as compact JSON text, in their declared order."""
        f = self._fields
        return f if isinstance(f, str) else compact_json(f)

    @property
    def kept_text(self) -> str | None:
        """The text the item keeps its fields as, or None when it keeps a mapping."""
        f = self._fields
        return f if isinstance(f, str) else None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Desired):
            return NotImplemented
        return (self.key, self.origin, self.fields) == (other.key, other.origin, other.fields)

    __hash__ = None  # type: ignore[assignment]  # as the dataclass it replaced: mutable, unhashable

    def __repr__(self) -> str:
        return f"Desired(key={self.key!r}, fields={dict(self.fields)!r}, origin={self.origin!r})"


@dataclass(slots=True)
class Live:
    """One record as the vendor holds it now, with fields named as in manifests."""

    key: str
    remote_id: str
    fields: Mapping[str, JSON]


@dataclass(slots=True)
class StateEntry:
    """What reconcile knows of one managed record."""

    address: str
    provider: str
    kind: str
    scope: str
    key: str
    remote_id: str | None
    fields: Mapping[str, JSON]  # managed fields as last applied
    status: Status = Status.OK
    collection: str = ""  # identity of the owning collection (collection_identity)


@dataclass(frozen=True, slots=True)
class Collection:
    """One manifest document: a provider, a kind, a scope and its declared items.

    A collection that state remembers but no manifest declares any more (a removed
    document or file) is rebuilt from state with no items and `orphaned` set."""

    provider: str
    kind: str
    scope: str  # display form used in addresses ("" when the kind has no scope)
    scope_ref: Mapping[str, JSON]  # the scope as written: {"name": "Outbound Sales"}, {"id": 538}
    prune: Prune
    prevent_destroy: bool
    items: tuple[Desired, ...]
    origin: str
    options: Mapping[str, JSON] = field(default_factory=dict)
    scope_origin: str = ""  # file:line:col of the scope, for errors about it
    orphaned: bool = False
    sources: tuple[str, ...] = ()  # the files it was read from, relative to the project
    # Items whose lifetime window opens or closes within a week: (key, "expires" or
    # "valid_from", the moment as shown in the project's zone).
    upcoming: tuple[tuple[str, str, str], ...] = ()

    @property
    def resource(self) -> str:
        return self.kind.split("/", 1)[1]

    @property
    def prefix(self) -> str:
        return make_address(self.provider, self.resource, self.scope or None, "")[:-1]

    def address(self, key: str) -> str:
        return make_address(self.provider, self.resource, self.scope or None, key)


@dataclass(frozen=True, slots=True)
class FieldChange:
    name: str
    before: JSON
    after: JSON


@dataclass(frozen=True, slots=True)
class Change:
    """One step of a plan."""

    address: str
    action: Action
    provider: str
    kind: str
    scope: str
    key: str
    remote_id: str | None
    fields: tuple[FieldChange, ...] = ()
    after: Mapping[str, JSON] | None = None  # managed fields once applied (None for delete)
    live_fingerprint: str | None = None  # of the live record the change was planned against
    origin: str = ""
    collection: str = ""  # identity of the owning collection
    moved_from: str | None = None  # MOVE: the address state knew the record by

    def entry(self, remote_id: str | None = None, status: Status = Status.OK) -> StateEntry:
        """The state entry this change leaves behind when it succeeds."""
        return StateEntry(
            self.address, self.provider, self.kind, self.scope, self.key,
            remote_id or self.remote_id, dict(self.after or {}), status, self.collection,
        )  # fmt: skip

    @property
    def sort_key(self) -> tuple[int, str, str]:
        return (self.action.phase, self.address, self.action.value)


@dataclass(frozen=True, slots=True)
class Guard:
    """A collection whose deletes pass a safety threshold: apply needs them allowed."""

    collection: str  # the collection's address prefix
    message: str


@dataclass(frozen=True, slots=True)
class Upcoming:
    """An item whose `expires:` or `valid_from:` falls within the next week: a later plan
    removes (or creates) it."""

    address: str
    event: str  # "expires" | "valid_from"
    when: str  # in the project's time zone


@dataclass(frozen=True, slots=True)
class Estimate:
    """What applying a plan costs: vendor calls per provider (a batch counts once) and
    about how many seconds, assuming `latency` seconds per call."""

    calls: Mapping[str, int]
    seconds: float
    latency: float

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@dataclass(frozen=True, slots=True)
class Plan:
    """A value tied to the state it was computed from (lineage, serial)."""

    lineage: str
    serial: int
    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    unobservable: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    created_at: str = ""
    guards: tuple[Guard, ...] = ()
    source_digest: str = ""  # of the config, manifests and item files the plan was made from
    # The serial of each collection the plan changes, when it was read; None in plans made
    # before collections had serials (then the whole state's serial is checked).
    collection_serials: Mapping[str, int] | None = None
    shard: str = ""  # "I/N" when the plan covers one share of the collections
    upcoming: tuple[Upcoming, ...] = ()
    estimate: Estimate | None = None

    def summary(self) -> dict[str, int]:
        counts = {a.value: 0 for a in Action}
        for c in self.changes:
            counts[c.action.value] += 1
        return counts

    @property
    def empty(self) -> bool:
        return not self.changes


class DriftClass(enum.StrEnum):
    PENDING = "pending"  # git changed, not yet applied
    CHANGED_OUTSIDE = "changed_outside"  # live differs from what we last applied
    UNMANAGED = "unmanaged"  # live records in a pruned scope no manifest declares


@dataclass(frozen=True, slots=True)
class Drift:
    address: str
    drift_class: DriftClass
    fields: tuple[FieldChange, ...] = ()
    detail: str = ""
    kind: str = ""  # of the owning collection: which fields are personal
    collection: str = ""  # the owning collection's address prefix: reports group by it


@dataclass(frozen=True, slots=True)
class DriftReport:
    drift: tuple[Drift, ...]
    unobservable: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def summary(self) -> dict[str, int]:
        counts = {c.value: 0 for c in DriftClass}
        for d in self.drift:
            counts[d.drift_class.value] += 1
        return counts
