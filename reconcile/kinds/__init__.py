"""What each manifest kind looks like: scope, key, item schema and offline field rules.

A kind is pure data plus pure checks; it never talks to a vendor. Providers
use the same specs to know which fields are toggles (lock/unlock) or
triggers (reset) rather than plain values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconcile.errors import Problem
from reconcile.model import Action, Collection

ItemCheck = Callable[[Mapping[str, Any]], list[tuple[str, str]]]
CollectionCheck = Callable[[Sequence[Mapping[str, Any]]], list[tuple[int, str, str]]]
# Checks that need the document's own settings (declared types, required fields):
# (document options, items) -> (item index, path inside the item, message).
DocumentCheck = Callable[
    [Mapping[str, Any], Sequence[Mapping[str, Any]]], list[tuple[int, tuple[str, ...], str]]
]
# The path to an item's key, from the document's options (a collection may choose its key).
KeyPath = Callable[[Mapping[str, Any]], tuple[str, ...]]
FieldRefiner = Callable[[list[Any]], list[Any]]
# Checks that need the provider's settings (a time zone, a default region): still offline.
ContextCheck = Callable[[Collection, Mapping[str, Any]], list[Problem]]
# A blacklist's scope display -> (whether it holds phone numbers, its campaign or None for all).
BlacklistScope = Callable[[str], tuple[bool, str | None]]
# Checks that depend on the provider's settings (a vendor release, a uniqueness scope):
# (item, settings) -> (field, message); (collections of one provider, settings) -> (where, message).
SettingsItemCheck = Callable[[Mapping[str, Any], Mapping[str, Any]], list[tuple[str, str]]]
AcrossCheck = Callable[[Sequence[Any], Mapping[str, Any]], list[tuple[str, str]]]


def _no_item_check(item: Mapping[str, Any]) -> list[tuple[str, str]]:
    return []


def _no_collection_check(items: Sequence[Mapping[str, Any]]) -> list[tuple[int, str, str]]:
    return []


def _no_document_check(
    options: Mapping[str, Any], items: Sequence[Mapping[str, Any]]
) -> list[tuple[int, tuple[str, ...], str]]:
    return []


def _no_settings_check(
    item: Mapping[str, Any], settings: Mapping[str, Any]
) -> list[tuple[str, str]]:
    return []


def _no_across_check(colls: Sequence[Any], settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    return []


@dataclass(frozen=True)
class KindSpec:
    """How one kind is declared and checked."""

    name: str  # "<provider type>/<resource>"
    key_field: str
    item_schema: Mapping[str, Any]
    scope_field: str | None = None  # the manifest key holding the scope
    scope_schema: Mapping[str, Any] | None = None
    # field -> (action when it becomes true, action when it becomes false)
    toggles: Mapping[str, tuple[Action, Action]] = field(default_factory=dict)
    # field -> action planned once whenever the declared value changes (kept in state only)
    triggers: Mapping[str, Action] = field(default_factory=dict)
    personal_fields: frozenset[str] = frozenset()
    # Fields holding numbers a dialler calls or texts (the blacklist compliance rule
    # checks them), and a boolean field that, when true, stops the item being dialled.
    dialable_fields: tuple[str, ...] = ()
    dialable_unless: str | None = None
    check_item: ItemCheck = _no_item_check
    check_collection: CollectionCheck = _no_collection_check
    # Settings a document of this kind may carry beside kind/provider/items (JSON Schema
    # properties), checks that read them, and where the key is when the document says.
    options_schema: Mapping[str, Any] = field(default_factory=dict)
    check_document: DocumentCheck = _no_document_check
    key_path: KeyPath | None = None
    key_in_fields: bool = False  # the key is also a field sent to the vendor
    # Field changes made finer for display and partial writes (a map as one change per entry).
    refine_changes: FieldRefiner | None = None
    check_in_context: ContextCheck | None = None
    # The field that keys an item when `key_field` is not written (`destination` for an SMS).
    key_default: str | None = None
    # Items may be written as plain strings: the string is the key.
    plain_items: bool = False
    # An optional manifest key that narrows the scope (a blacklist's `campaign`).
    scope_extra: str | None = None
    # A write whose outcome is unknown on a vendor that cannot be read is sent again
    # (a second copy is harmless) instead of being held for a person to settle.
    resend_uncertain: bool = False
    # Set on blacklist kinds: the compliance rule reads their entries through it.
    blacklist_scope: BlacklistScope | None = None
    check_with_settings: SettingsItemCheck = _no_settings_check
    check_across: AcrossCheck = _no_across_check  # all of one provider's collections of this kind

    @property
    def provider_type(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def resource(self) -> str:
        return self.name.split("/", 1)[1]

    def scope_display(self, scope: Any) -> str:
        """The scope as written in addresses: a name, or an id."""
        if self.scope_field is None or scope is None:
            return ""
        if isinstance(scope, Mapping):
            for k in ("name", "id"):
                if k in scope:
                    return str(scope[k])
        return str(scope)

    def scope_of(self, doc: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """(the scope as written in addresses, the scope as state keeps it) of a document."""
        raw = doc.get(self.scope_field) if self.scope_field else None
        ref = dict(raw) if isinstance(raw, Mapping) else ({"value": raw} if raw is not None else {})
        display = self.scope_display(raw)
        extra = doc.get(self.scope_extra) if self.scope_extra else None
        if extra is not None:
            ref[self.scope_extra or ""] = extra
            display = f"{display}@{extra}"
        return display, ref

    def scope_ref_of(self, display: str) -> dict[str, Any]:
        """The scope as a manifest would write it, from its display form (for state rows
        recorded before scopes were kept as written)."""
        props = (self.scope_schema or {}).get("properties") or {}
        if "id" in props or "name" in props:
            return {"id": int(display)} if display.isdigit() else {"name": display}
        return {"value": display}


_REGISTRY: dict[str, KindSpec] = {}


def register(spec: KindSpec) -> KindSpec:
    _REGISTRY[spec.name] = spec
    return spec


def get(name: str) -> KindSpec | None:
    _load_builtin()
    return _REGISTRY.get(name)


def all_kinds() -> dict[str, KindSpec]:
    _load_builtin()
    return dict(sorted(_REGISTRY.items()))


_loaded = False


def _load_builtin() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from reconcile.kinds import ciopulse, jtel, nubitalk, ucontact  # noqa: F401
