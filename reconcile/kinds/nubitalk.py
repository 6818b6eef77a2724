"""`nubitalk/contacts`: contacts of one Nubitalk OneContact service, keyed by Address
(or by any field or metadata entry the collection names with `key:`).

The collection declares its metadata types once (`metadata: {Score: int}`) and the
fields the service's Contact List Setup makes mandatory (`required:`); items give
plain values, checked against those types before anything is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from reconcile.kinds import KindSpec, register
from reconcile.kinds.rules import check_datetime, duplicate_values
from reconcile.model import FieldChange

FIELDS = ("Address", "Priority", "NextTry", "AgentID")
NUMERIC = ("Priority", "AgentID")
# The documented metadata types: name -> code (the codes are SQL Server type ids).
METADATA_TYPES: Mapping[str, int] = {"string": 231, "int": 56, "datetime": 61, "boolean": 104}
INT_RANGE = (-(2**31), 2**31 - 1)  # a SQL int column
EARLIEST_YEAR = 1753  # a SQL datetime column starts there

_value = {"type": ["string", "integer", "boolean", "null"]}
_number = {"type": ["integer", "null"], "minimum": 0, "maximum": INT_RANGE[1]}

ITEM_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "Address": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^\\S(.*\\S)?$"},
        "Priority": _number,
        "NextTry": {"type": ["string", "null"]},
        "AgentID": _number,
        "Metadata": {
            "type": ["object", "null"],
            "propertyNames": {"minLength": 1},
            "additionalProperties": _value,
        },
    },
}

OPTIONS_SCHEMA: Mapping[str, Any] = {
    "check_repeated": {
        "type": "boolean",
        "default": True,
        "description": "create with checkrepeated=true: the vendor refuses a second contact with the same Address",
    },
    "key": {
        "type": "string",
        "minLength": 1,
        "description": "the field or metadata entry that identifies an item (default Address)",
    },
    "required": {
        "type": "array",
        "uniqueItems": True,
        "items": {"type": "string", "minLength": 1},
        "description": "fields the service's Contact List Setup makes mandatory",
    },
    "metadata": {
        "type": "object",
        "propertyNames": {"minLength": 1},
        "additionalProperties": {"enum": list(METADATA_TYPES)},
        "description": "the service's extra fields and their types, declared once",
    },
}


def key_path(options: Mapping[str, Any]) -> tuple[str, ...]:
    key = options.get("key") or "Address"
    return (key,) if key in FIELDS else ("Metadata", str(key))


def declared_types(options: Mapping[str, Any]) -> Mapping[str, str]:
    types = options.get("metadata")
    return types if isinstance(types, Mapping) else {}


def check_value(kind: str, value: Any) -> str | None:
    """Why `value` is not a value of the metadata type `kind`, or None."""
    if value is None:
        return None
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{value!r} is not an int (declared int in metadata:)"
        if not INT_RANGE[0] <= value <= INT_RANGE[1]:
            return f"{value} is outside the 32-bit range of a Nubitalk int"
        return None
    if kind == "boolean":
        return None if isinstance(value, bool) else f"{value!r} is not a boolean (true or false)"
    if kind == "datetime":
        if not isinstance(value, str):
            return f"{value!r} is not a datetime: write it as a quoted YYYY-MM-DDThh:mm:ss"
        return _datetime_problem(value)
    if not isinstance(value, str):
        return f"{value!r} is not a string (declared string in metadata:): quote it"
    return None


def _datetime_problem(value: str) -> str | None:
    problems = check_datetime("", value)
    if problems:
        return problems[0][1]
    if dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S").year < EARLIEST_YEAR:
        return f"{value!r} is before {EARLIEST_YEAR}, the first year Nubitalk can store"
    return None


def check_document(
    options: Mapping[str, Any], items: Sequence[Mapping[str, Any]]
) -> list[tuple[int, tuple[str, ...], str]]:
    types = declared_types(options)
    required = [r for r in options.get("required") or () if isinstance(r, str)]
    out: list[tuple[int, tuple[str, ...], str]] = []
    # Index -1: a problem of the document itself, at the named setting.
    key = options.get("key")
    if isinstance(key, str) and key not in FIELDS and key not in types:
        out.append(
            (
                -1,
                ("key",),
                f"key: {key!r} is neither a field ({', '.join(FIELDS)}) nor declared in metadata:",
            )
        )
    for r in required:
        if r not in FIELDS and r not in types:
            out.append(
                (
                    -1,
                    ("required",),
                    f"required: {r!r} is neither a field ({', '.join(FIELDS)}) nor declared in metadata:",
                )
            )
    for i, item in enumerate(items):
        nt = item.get("NextTry")
        if isinstance(nt, str):
            why = _datetime_problem(nt)
            if why:
                out.append((i, ("NextTry",), why))
        meta = item.get("Metadata") or {}
        for name, value in meta.items():
            kind = types.get(name)
            if kind is None:
                hint = f"declared: {', '.join(types)}" if types else "none is declared"
                out.append(
                    (
                        i,
                        ("Metadata", name),
                        f"metadata {name!r} has no type: declare it in the collection's metadata: ({hint})",
                    )
                )
                continue
            why = check_value(kind, value)
            if why:
                out.append((i, ("Metadata", name), why))
        for r in required:
            have = meta.get(r) if r in types else item.get(r)
            if have is None:
                out.append(
                    (
                        i,
                        (),
                        f"{r} is required by this service (required: in the collection); give it a value",
                    )
                )
    if options.get("check_repeated", True) is not False:
        # The vendor refuses the second of two contacts with one Address: say so now.
        for i, _name, message in duplicate_values(items, "Address"):
            out.append((i, ("Address",), f"{message} (check_repeated: true)"))
    return out


def refine_changes(changes: list[FieldChange]) -> list[FieldChange]:
    """`Metadata` as one change per entry (`Metadata.Score: 3 -> 4`, added, removed)."""
    if not any(c.name == "Metadata" for c in changes):
        return changes
    out: list[FieldChange] = []
    for c in changes:
        if c.name != "Metadata":
            out.append(c)
            continue
        before = c.before if isinstance(c.before, Mapping) else {}
        after = c.after if isinstance(c.after, Mapping) else {}
        out += metadata_changes(before, after)
    return out


def metadata_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldChange]:
    found: dict[str, FieldChange] = {}
    if not before or not after:  # deepdiff reports an empty side as one root change
        for name in {**before, **after}:
            found[name] = FieldChange(f"Metadata.{name}", before.get(name), after.get(name))
        return [found[k] for k in sorted(found)]
    # Imported here: it costs ~0.1 s, and every run loads every kind (the compliance rule
    # looks at all of them), most with no Nubitalk metadata to compare.
    from deepdiff import DeepDiff

    diff = DeepDiff(dict(before), dict(after), view="tree")
    for group in (
        "values_changed",
        "type_changes",
        "dictionary_item_added",
        "dictionary_item_removed",
    ):
        for node in diff.get(group, ()):
            path = node.path(output_format="list")
            name = str(path[0])
            found[name] = FieldChange(f"Metadata.{name}", before.get(name), after.get(name))
    return [found[k] for k in sorted(found)]


CONTACTS = register(
    KindSpec(
        name="nubitalk/contacts",
        key_field="Address",
        item_schema=ITEM_SCHEMA,
        scope_field="service",
        scope_schema={"type": "integer", "minimum": 1},
        personal_fields=frozenset({"Address", "Metadata"}),
        dialable_fields=("Address",),
        options_schema=OPTIONS_SCHEMA,
        check_document=check_document,
        key_path=key_path,
        key_in_fields=True,
        refine_changes=refine_changes,
    )
)
