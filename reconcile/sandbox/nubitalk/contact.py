"""A Nubitalk contact and the checks its JSON body goes through, as pure functions.

A body becomes a `Patch` (`parse`), a patch applied to a contact gives the
contact to store (`apply`), and the service's mandatory fields are checked on
that result (`check_required`). Every refusal is an `Invalid` carrying the
reason the vendor never tells (the sandbox puts it in a diagnostic header).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from reconcile.sandbox.nubitalk.settings import NubitalkSettings

FIELDS = ("Address", "Priority", "NextTry", "AgentID")
NUMERIC = ("Priority", "AgentID")
TYPE_CODES = {"231": "string", "56": "int", "61": "datetime", "104": "boolean"}
TYPE_NAMES = tuple(TYPE_CODES.values())
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # the codes are SQL Server's: int is 32 bits
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
_INT = re.compile(r"^-?\d+$")
_DIGITS = re.compile(r"^\d+$")
_TRUE, _FALSE = ("true", "1"), ("false", "0")

Entry = tuple[str, Any]  # a Metadata entry as stored: (type name, converted value)


class Invalid(Exception):
    """The vendor refuses the request (it answers `{"success": false}`, reason untold)."""


@dataclass(frozen=True)
class Service:
    """A OneContact service: its mandatory fields (Contact List Setup) and extra fields."""

    id: int
    name: str
    required: tuple[str, ...] = ()  # names among FIELDS or of its extra fields
    metadata: dict[str, str] = field(default_factory=dict)  # extra field name -> type name

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "required": list(self.required),
            "metadata": dict(self.metadata),
        }


@dataclass
class Contact:
    id: int
    service: int
    fields: dict[str, Any] = field(default_factory=dict)  # a field absent here is not set
    metadata: dict[str, Entry] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "service": self.service,
            **{f: self.fields.get(f) for f in FIELDS},
            "Metadata": [{"Name": n, "Type": t, "Value": v} for n, (t, v) in self.metadata.items()],
        }


@dataclass(frozen=True)
class Patch:
    """What a body says: a field mapped to None is cleared; `metadata` None is `"Metadata": null`."""

    fields: dict[str, Any]
    metadata: dict[str, Entry | None] | None


def type_name(raw: Any) -> str | None:
    """The type name a Metadata `Type` denotes (code or name, string or number), else None."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        return None
    text = str(raw)
    return TYPE_CODES.get(text) or (text if text in TYPE_NAMES else None)


def is_datetime(value: Any) -> bool:
    """`YYYY-MM-DDThh:mm:ss`, a real calendar date within SQL Server's datetime range."""
    if not isinstance(value, str) or not _DATETIME.match(value):
        return False
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S").year >= 1753
    except ValueError:
        return False


def parse(body: Any, service: Service, s: NubitalkSettings) -> Patch:
    if not isinstance(body, dict):
        raise Invalid("the body must be one JSON object (a contact)")
    unknown = sorted(set(body) - {*FIELDS, "Metadata"})
    if unknown and s.unknown_fields == "refuse":
        raise Invalid(f"unknown field(s): {', '.join(unknown)}")
    fields = {f: _field(f, body[f], s) for f in FIELDS if f in body}
    if "Metadata" not in body:
        return Patch(fields, {})
    raw = body["Metadata"]
    if raw is None:
        return Patch(fields, None)
    if not isinstance(raw, list):
        raise Invalid("Metadata must be a list of {Name, Type, Value}")
    metadata: dict[str, Entry | None] = {}
    for item in raw:
        name, entry = _entry(item, service, s)
        if name in metadata:
            raise Invalid(f"Metadata {name!r} is given twice")
        metadata[name] = entry
    return Patch(fields, metadata)


def _field(name: str, value: Any, s: NubitalkSettings) -> Any:
    if value is None:
        return None  # null clears the field
    if name == "Address":
        if not isinstance(value, str) or not value.strip():
            raise Invalid("Address must be a non-empty string")
        if s.address_form == "digits" and not _DIGITS.match(value):
            raise Invalid("Address must be digits only")
        return value
    if name == "NextTry":
        if not is_datetime(value):
            raise Invalid("NextTry must be a real date as YYYY-MM-DDThh:mm:ss")
        return value
    is_number = isinstance(value, int) and not isinstance(value, bool)
    is_text = isinstance(value, str) and bool(_DIGITS.match(value))
    allowed = {"any": is_number or is_text, "string": is_text, "number": is_number}
    if not allowed[s.numeric_form] or not 0 <= int(value) <= INT_MAX:
        raise Invalid(f"{name} must be a whole number ({s.numeric_form} form)")
    return int(value)


def _entry(item: Any, service: Service, s: NubitalkSettings) -> tuple[str, Entry | None]:
    if not isinstance(item, dict) or not {"Name", "Type", "Value"} <= set(item):
        raise Invalid("a Metadata entry is {Name, Type, Value}")
    name, raw_type = item["Name"], item["Type"]
    if not isinstance(name, str) or not name:
        raise Invalid("a Metadata Name must be a non-empty string")
    kind = type_name(raw_type)
    is_code = str(raw_type) in TYPE_CODES
    if kind is None or (s.metadata_type_form == "code" and not is_code):
        raise Invalid(f"Metadata {name!r}: unknown Type {raw_type!r}")
    if s.metadata_type_form == "name" and is_code:
        raise Invalid(f"Metadata {name!r}: Type must be a name, not a code")
    declared = service.metadata.get(name)
    if declared is None and s.unknown_metadata == "refuse":
        raise Invalid(f"Metadata {name!r} is not defined for service {service.id}")
    if declared is not None and declared != kind:
        raise Invalid(f"Metadata {name!r} is a {declared} field, not {kind}")
    if item["Value"] is None:
        return name, None  # null removes the entry
    return name, (kind, convert(kind, item["Value"], s.value_form == "string", name))


def convert(kind: str, value: Any, strings_only: bool, name: str = "Value") -> Any:
    """A Metadata Value converted to its type, as the typed column would hold it.

    string: any string (or, unless strings_only, a number or boolean as its JSON
    text); int: a 32-bit whole number or its decimal string; datetime: as
    NextTry; boolean: true/false, "true"/"false" (any case), "1"/"0" or 1/0.
    """
    if isinstance(value, dict | list) or (strings_only and not isinstance(value, str)):
        raise Invalid(f"Metadata {name!r}: Value must be a string")
    if kind == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else str(value)
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok or (isinstance(value, str) and _INT.match(value)):
            number = int(value)
            if INT_MIN <= number <= INT_MAX:
                return number
        raise Invalid(f"Metadata {name!r}: {value!r} is not a 32-bit int")
    if kind == "datetime":
        if is_datetime(value):
            return value
        raise Invalid(f"Metadata {name!r}: {value!r} is not a datetime YYYY-MM-DDThh:mm:ss")
    text = str(value).lower() if not isinstance(value, float) else ""
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise Invalid(f"Metadata {name!r}: {value!r} is not a boolean")


def apply(contact: Contact, patch: Patch, full: bool) -> Contact:
    """The contact after the patch; `full` clears absent fields and replaces Metadata."""
    fields = {} if full else dict(contact.fields)
    fields.update(patch.fields)
    metadata: dict[str, Entry | None] = {}
    if not full and patch.metadata is not None:
        metadata.update(contact.metadata)
    metadata.update(patch.metadata or {})
    return Contact(
        contact.id,
        contact.service,
        {k: v for k, v in fields.items() if v is not None},
        {k: v for k, v in metadata.items() if v is not None},
    )


def check_required(contact: Contact, service: Service) -> None:
    missing = [
        name
        for name in service.required
        if (contact.fields.get(name) is None if name in FIELDS else name not in contact.metadata)
    ]
    if missing:
        raise Invalid(f"mandatory field(s) of service {service.id} missing: {', '.join(missing)}")
