"""JSON Schemas of every file reconcile reads or writes.

They are built here from the kind specs so that code and schema cannot
disagree; `reconcile schema` prints them and specs/ holds a copy of each
(a test keeps specs/ in step).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from reconcile import kinds, lifetimes, provider_types
from reconcile.errors import Problem
from reconcile.manifest.located import where_of
from reconcile.manifest.report_schemas import drift_schema, plan_schema

DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE = "https://reconcile.dev/schemas/"


def config_schema() -> dict[str, Any]:
    # One schema per provider type, chosen by `type`: a typo in a setting is an unknown
    # field with a suggestion, never silently ignored.
    provider = {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": sorted(provider_types.TYPES)}},
        "allOf": [
            {
                "if": {"properties": {"type": {"const": t.name}}, "required": ["type"]},
                "then": {
                    "required": list(t.required),
                    "properties": t.properties(),
                    "additionalProperties": False,
                },
            }
            for t in provider_types.TYPES.values()
        ],
    }
    return {
        "$schema": DIALECT,
        "$id": BASE + "reconcile.schema.json",
        "title": "reconcile.yaml",
        "type": "object",
        "required": ["version", "providers"],
        "additionalProperties": False,
        "properties": {
            "version": {"const": 1},
            "timezone": {
                "type": "string",
                "default": "UTC",
                "description": "IANA zone in which item lifetimes (valid_from, expires) are read",
            },
            "state": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "backend": {"enum": ["sqlite", "postgres"]},
                    "path": {"type": "string"},
                    "dsn": {"type": "string"},
                },
                "allOf": [
                    {
                        "if": {"properties": {"backend": {"const": "postgres"}}},
                        "then": {"required": ["dsn"]},
                    }
                ],
            },
            "manifests": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "policy": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "max_delete_percent": {"type": "number", "minimum": 0, "maximum": 100},
                    "max_blacklist_removals": {"type": "integer", "minimum": 0},
                    "threshold_min_records": {"type": "integer", "minimum": 0},
                    "allow_csv_formulas": {"type": "boolean"},
                },
            },
            "limits": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "max_file_mb": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "description": "manifest and items files larger than this are refused unread (default 64)",
                    },
                },
            },
            "providers": {
                "type": "object",
                "propertyNames": {"pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
                "additionalProperties": provider,
            },
        },
    }


def envelope_schema(spec: kinds.KindSpec, *, with_items: bool = True) -> dict[str, Any]:
    """The schema of one manifest document of `spec`'s kind."""
    props: dict[str, Any] = {
        "kind": {"const": spec.name},
        "provider": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "prune": {"enum": ["managed", "all", "none"], "default": "managed"},
        "prevent_destroy": {"type": "boolean", "default": False},
        "items_from": {"type": "string", "pattern": "\\.(csv|ya?ml)$"},
        "items": {"type": "array", "items": _item_schema(spec)}
        if with_items
        else {"type": "array"},
    }
    if spec.dialable_fields:
        props["allow_blacklisted"] = {
            "type": "boolean",
            "description": "let this collection dial blacklisted numbers (a warning in every plan)",
        }
    props.update(spec.options_schema)
    required = ["kind", "provider"]
    if spec.scope_field:
        props[spec.scope_field] = dict(spec.scope_schema or {"type": ["string", "integer"]})
        required.append(spec.scope_field)
    return {
        "$schema": DIALECT,
        "$id": BASE + spec.name.replace("/", "-") + ".schema.json",
        "title": f"manifest document of kind {spec.name}",
        "type": "object",
        "required": required,
        "additionalProperties": False,
        "properties": props,
        "oneOf": [{"required": ["items"]}, {"required": ["items_from"]}],
    }


def _item_schema(spec: kinds.KindSpec) -> dict[str, Any]:
    # Every kind's items may carry a lifetime; the loader takes it off before the item
    # schema sees the item, so only this editor-facing schema names it.
    item = dict(spec.item_schema)
    item["properties"] = {**item.get("properties", {}), **lifetimes.SCHEMA}
    if spec.plain_items:
        return {"oneOf": [dict(spec.item_schema["properties"][spec.key_field]), item]}
    return item


def manifest_schema() -> dict[str, Any]:
    """Any manifest document, chosen by its `kind` (if kind is X then X's schema): the one
    schema an editor needs for every manifest file. Self-contained: each kind's schema sits
    in $defs, so it works offline and from a local file."""
    defs = {}
    for name, spec in kinds.all_kinds().items():
        one = envelope_schema(spec)
        one.pop("$schema")
        one.pop("$id")
        defs[name.replace("/", "-")] = one
    return {
        "$schema": DIALECT,
        "$id": BASE + "manifest.schema.json",
        "title": "reconcile manifest document (any kind)",
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"enum": sorted(kinds.all_kinds())}},
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": name}}, "required": ["kind"]},
                "then": {"$ref": f"#/$defs/{name.replace('/', '-')}"},
            }
            for name in sorted(kinds.all_kinds())
        ],
        "$defs": defs,
    }


def all_schemas() -> dict[str, dict[str, Any]]:
    """Every schema by its name in specs/ (without the .schema.json suffix)."""
    out = {"reconcile": config_schema(), "plan": plan_schema(), "drift": drift_schema()}
    out["manifest"] = manifest_schema()
    for name, spec in kinds.all_kinds().items():
        out[name.replace("/", "-")] = envelope_schema(spec)
    return out


def config_problems(value: Any, fallback: str) -> list[Problem]:
    """Every way a reconcile.yaml breaks its schema."""
    return _checked(None, value, fallback)


def envelope_problems(spec: kinds.KindSpec, value: Any, fallback: str) -> list[Problem]:
    """Every way a manifest document's envelope (all but its items) breaks its kind's schema."""
    return _checked(spec.name, value, fallback)


def _schema_of(kind: str | None) -> dict[str, Any]:
    """reconcile.yaml's schema (None), or the envelope schema of a kind."""
    if kind is None:
        return config_schema()
    spec = kinds.get(kind)
    assert spec is not None
    return envelope_schema(spec, with_items=False)


def _checked(kind: str | None, value: Any, fallback: str) -> list[Problem]:
    """A sound document (every run's case) is passed by a compiled validator; jsonschema,
    which reports each problem with its path (and costs ~9 MB and 50-60 ms to import with
    its dependencies), is loaded only for a document with problems."""
    import fastjsonschema

    try:
        _compiled(kind)(value)
        return []
    except fastjsonschema.JsonSchemaException:
        return schema_problems(_schema_of(kind), value, fallback)


@functools.cache
def _compiled(kind: str | None) -> Callable[[Any], Any]:
    import fastjsonschema

    # The schemas' keywords (if/then, const, pattern, propertyNames, enum) mean the same in
    # draft 7, which fastjsonschema implements. Defaults are never filled in.
    check: Callable[[Any], Any] = fastjsonschema.compile(_schema_of(kind), use_default=False)
    return check


def schema_problems(
    schema: Mapping[str, Any], value: Any, fallback: str, prefix: tuple[Any, ...] = ()
) -> list[Problem]:
    """Every way `value` breaks `schema`, each located at the offending spot."""
    import jsonschema

    v = jsonschema.Draft202012Validator(schema)
    out = []
    for err in v.iter_errors(value):
        path = list(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, Mapping):
            # One problem per unknown key, at the key, with the closest known name.
            known = list((err.schema.get("properties") or {}).keys())
            for extra in sorted(k for k in err.instance if k not in known):
                dotted = ".".join(str(p) for p in (*prefix, *path, extra))
                hint = suggest(str(extra), known)
                out.append(
                    Problem(
                        where_of(value, [*path, extra], fallback), f"{dotted}: unknown field{hint}"
                    )
                )
            continue
        where = where_of(value, path, fallback)
        dotted = ".".join(str(p) for p in (*prefix, *path))
        out.append(Problem(where, f"{dotted + ': ' if dotted else ''}{_message(err)}"))
    return out


def suggest(word: str, known: Iterable[str]) -> str:
    """' (did you mean X?)' for a misspelt name, or a list of what is known."""
    names = [str(k) for k in known]
    close = difflib.get_close_matches(word, names, n=2, cutoff=0.6)
    if close:
        return f" (did you mean {' or '.join(repr(c) for c in close)}?)"
    return f" (known: {', '.join(names)})" if names else ""


def _message(err: Any) -> str:
    if err.validator == "enum" and isinstance(err.instance, str):
        return f"{err.instance!r} is not allowed{suggest(err.instance, err.validator_value)}"
    if err.validator == "additionalProperties":
        return str(err.message).replace("Additional properties are not allowed", "unknown field")
    if err.validator == "oneOf" and "items" in str(err.schema):
        return "give either items: or items_from:, not both and not neither"
    if err.validator == "required":
        return str(err.message).replace("is a required property", "is required")
    if err.validator == "type" and "string" in (
        err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
    ):
        if isinstance(err.instance, bool):
            return f"{err.message} (YAML reads unquoted yes/no/on/off/true/false as booleans: quote the value)"
        if isinstance(err.instance, int | float):
            return f"{err.message} (YAML reads unquoted digits as a number, and 0123 as octal: quote the value)"
    return str(err.message)
