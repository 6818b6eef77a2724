"""What each manifest kind looks like: scope, key, item schema and offline field rules.

A kind is pure data plus pure checks; it never talks to a vendor. Providers
use the same specs to know which fields are toggles (lock/unlock) or
triggers (reset) rather than plain values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconcile.model import Action

ItemCheck = Callable[[Mapping[str, Any]], list[tuple[str, str]]]
CollectionCheck = Callable[[Sequence[Mapping[str, Any]]], list[tuple[int, str, str]]]
# Checks that depend on the provider's settings (a vendor release, a uniqueness scope):
# (item, settings) -> (field, message); (collections of one provider, settings) -> (where, message).
SettingsItemCheck = Callable[[Mapping[str, Any], Mapping[str, Any]], list[tuple[str, str]]]
AcrossCheck = Callable[[Sequence[Any], Mapping[str, Any]], list[tuple[str, str]]]


def _no_item_check(item: Mapping[str, Any]) -> list[tuple[str, str]]:
    return []


def _no_collection_check(items: Sequence[Mapping[str, Any]]) -> list[tuple[int, str, str]]:
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
    from reconcile.kinds import ciopulse, jtel  # noqa: F401
