"""The compiled check that passes a sound manifest envelope agrees with the full schema
check (which reports each problem where it is) on every kind: whatever one refuses, the
other refuses."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile import kinds
from reconcile.manifest.schemas import envelope_problems, envelope_schema, schema_problems

ODD_VALUES: list[Any] = [None, True, 7, 1.5, "", "x", "managed", [], [1], {}, {"a": 1}]


def _envelopes(name: str) -> list[dict[str, Any]]:
    spec = kinds.get(name)
    assert spec is not None
    schema = envelope_schema(spec, with_items=False)
    base: dict[str, Any] = {"kind": name, "provider": "p", "items": []}
    out = [base, {**base, "items_from": "x.csv"}, {k: v for k, v in base.items() if k != "items"}]
    out += [{**base, "frobnicate": 1}, {"kind": name, "items": []}, {**base, "kind": "other"}]
    for prop in schema["properties"]:
        out += [{**base, prop: value} for value in ODD_VALUES]
    return out


@pytest.mark.parametrize("name", sorted(kinds.all_kinds()))
def test_the_compiled_envelope_check_agrees_with_the_full_one(name: str) -> None:
    spec = kinds.get(name)
    assert spec is not None
    schema = envelope_schema(spec, with_items=False)
    for doc in _envelopes(name):
        full = schema_problems(schema, doc, "m.yaml")
        fast = envelope_problems(spec, doc, "m.yaml")
        assert fast == full, (doc, fast, full)
