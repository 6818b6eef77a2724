"""Field rules shared by several kinds (phone numbers, e-mail addresses, datetimes)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
EMAIL = re.compile(r"^[^@\s\"\\]+@[^@\s\"\\]+\.[^@\s\"\\.]+$")
DATETIME = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d$"
)


def check_e164(name: str, value: Any) -> list[tuple[str, str]]:
    if value is None or not isinstance(value, str):
        return []
    if not E164.match(value):
        return [
            (
                name,
                f"{value!r} is not an E.164 number: '+', country code, number without the leading 0, no spaces or hyphens (e.g. +4930123456)",
            )
        ]
    return []


# The forms every kind uses, checked without strptime (~9 µs a value; a manifest of
# 100,000 scheduled messages): fromisoformat checks the calendar.
_ISO_FORMS = {
    "%Y-%m-%dT%H:%M:%S": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", re.ASCII),
    "%Y-%m-%d %H:%M:%S": re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", re.ASCII),
}


def check_datetime(name: str, value: Any, form: str = "%Y-%m-%dT%H:%M:%S") -> list[tuple[str, str]]:
    """A real calendar date and time in `form` (no zone): 2026-02-31 is refused."""
    if value is None or not isinstance(value, str):
        return []
    iso = _ISO_FORMS.get(form)
    if iso is not None and iso.fullmatch(value):
        with contextlib.suppress(ValueError):  # all parts two digits: only the calendar to check
            dt.datetime.fromisoformat(value)
            return []
    shown = form.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")
    shown = shown.replace("%H", "hh").replace("%M", "mm").replace("%S", "ss")
    try:
        parsed = dt.datetime.strptime(value, form)
    except ValueError:
        return [(name, f"{value!r} is not a real date and time in the form {shown}")]
    # strptime accepts single digits ("2026-1-5T9:0:0"): only the canonical form is sent.
    if parsed.strftime(form) != value:
        return [(name, f"{value!r} is not in the form {shown} (two digits for each part)")]
    return []


def check_email(name: str, value: Any) -> list[tuple[str, str]]:
    if value is None or not isinstance(value, str):
        return []
    if not EMAIL.match(value):
        return [(name, f"{value!r} is not a valid e-mail address")]
    return []


def duplicate_values(
    items: Sequence[Mapping[str, Any]], name: str, *, fold_case: bool = False
) -> list[tuple[int, str, str]]:
    """Report every item whose `name` repeats an earlier item's value."""
    seen: dict[Any, int] = {}
    out: list[tuple[int, str, str]] = []
    for i, item in enumerate(items):
        v = item.get(name)
        if v is None:
            continue
        k = v.lower() if fold_case and isinstance(v, str) else v
        if k in seen:
            out.append(
                (
                    i,
                    name,
                    f"{v!r} is already used by item {seen[k] + 1} of this collection; it must be unique",
                )
            )
        else:
            seen[k] = i
    return out


def strings(item: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    for k, v in item.items():
        if isinstance(v, str):
            yield k, v
