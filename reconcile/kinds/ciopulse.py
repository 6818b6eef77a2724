"""`ciopulse/contacts`: CIOPulse Contacts API v5, keyed by our own system_id."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from reconcile.kinds import KindSpec, register
from reconcile.kinds.rules import check_e164, check_email, duplicate_values, strings

FIELDS = ("first_name", "last_name", "email", "job_title", "mobile")
REQUIRED_ON_CREATE = ("first_name", "last_name", "email")

# No length limits are documented: none are invented. E-mail: RFC 5321's 254; mobile: E.164.
_nullable_string = {"type": ["string", "null"]}

ITEM_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "required": ["system_id"],
    "additionalProperties": False,
    "properties": {
        "system_id": {"type": "string", "minLength": 1, "pattern": "^[^/\\\\]+$"},
        "first_name": _nullable_string,
        "last_name": _nullable_string,
        "email": {"type": ["string", "null"], "maxLength": 254},
        "job_title": _nullable_string,
        "mobile": {"type": ["string", "null"], "maxLength": 16},
    },
}


_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')


def unsendable(value: str) -> str | None:
    """Why `value` cannot go into a CIOPulse body: the vendor rejects any backslash,
    so nothing that JSON can only carry escaped (`"`, `\\`, control characters) can be sent."""
    m = _NEEDS_ESCAPE.search(value)
    if m is None:
        return None
    ch = m.group()
    if ch == "\\":
        return "contains a backslash; CIOPulse rejects any request body with a backslash in it"
    if ch == '"':
        return 'contains a double quote, which JSON can only carry as \\" and CIOPulse rejects backslashes'
    return f"contains the control character U+{ord(ch):04X}, which JSON can only carry escaped and CIOPulse rejects backslashes"


def check_item(item: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, value in strings(item):
        if name == "system_id":
            continue
        why = unsendable(value)
        if why:
            out.append((name, why))
    for name in REQUIRED_ON_CREATE:
        if name in item and item[name] is None:
            out.append((name, f"{name} cannot be cleared: CIOPulse requires it on every contact"))
        elif isinstance(item.get(name), str) and not item[name].strip():
            out.append(
                (name, f"{name} cannot be empty or blank: CIOPulse requires it on every contact")
            )
    out += check_email("email", item.get("email"))
    out += check_e164("mobile", item.get("mobile"))
    return out


def check_collection(items: Sequence[Mapping[str, Any]]) -> list[tuple[int, str, str]]:
    # CIOPulse answers 422 when two contacts share an e-mail address (case does not matter).
    return duplicate_values(items, "email", fold_case=True)


CONTACTS = register(
    KindSpec(
        name="ciopulse/contacts",
        key_field="system_id",
        item_schema=ITEM_SCHEMA,
        personal_fields=frozenset({"first_name", "last_name", "email", "mobile"}),
        check_item=check_item,
        check_collection=check_collection,
    )
)
