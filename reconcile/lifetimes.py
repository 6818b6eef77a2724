"""Item lifetimes: `valid_from:` and `expires:` on an item, and the clock they are read on.

An item outside its window counts as not declared, so an expiry shows up in a plan
as a reviewable removal like any other. A date means midnight at its start in the
project's time zone (`timezone:` in reconcile.yaml, default UTC): `expires:
2026-12-01` is gone on 1 December, `valid_from: 2026-12-01` arrives that day. A
datetime without an offset is read in the same zone.

The clock is read here and only here: RECONCILE_NOW (an ISO date-time) fixes it,
for tests and for a plan that previews a future day.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FIELDS = ("valid_from", "expires")
SOON = dt.timedelta(days=7)  # the plan lists what expires within this

# Both fields accept a date or a date-time, as YAML or as a quoted string.
SCHEMA: dict[str, Any] = {
    "valid_from": {
        "type": "string",
        "description": "the item is declared from this date (midnight) or date-time, in the project's timezone",
    },
    "expires": {
        "type": "string",
        "description": "the item is no longer declared from this date (midnight) or date-time: "
        "apply then removes it (a planned delete, reviewed like any other)",
    },
}


def now() -> dt.datetime:
    """The current time, aware; RECONCILE_NOW overrides it."""
    fixed = os.environ.get("RECONCILE_NOW")
    if fixed:
        value = dt.datetime.fromisoformat(fixed)
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC)


def zone(name: str) -> ZoneInfo:
    """The zone of a `timezone:` setting; ValueError names what is wrong."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"{name!r} is not a time zone name (examples: UTC, Europe/Berlin, America/Montevideo)"
        ) from exc


def parse(value: Any, tz: dt.tzinfo) -> dt.datetime:
    """A `valid_from`/`expires` value as an aware moment; ValueError when it is neither a
    date nor a date-time."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = (
                dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
                if len(text) == 10
                else dt.datetime.fromisoformat(text)
            )
        except ValueError:
            raise ValueError(
                f"{value!r} is not a date (2026-12-01) or date-time (2026-12-01T18:00)"
            ) from None
    else:
        raise ValueError(f"{value!r} is not a date (2026-12-01) or date-time (2026-12-01T18:00)")
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


@dataclass(frozen=True, slots=True)
class Window:
    valid_from: dt.datetime | None
    expires: dt.datetime | None

    def holds(self, at: dt.datetime) -> bool:
        if self.valid_from is not None and at < self.valid_from:
            return False
        return not (self.expires is not None and at >= self.expires)

    def expires_soon(self, at: dt.datetime) -> bool:
        return self.expires is not None and at < self.expires <= at + SOON


def window_of(
    item: Mapping[str, Any], tz: dt.tzinfo
) -> tuple[Window | None, list[tuple[str, str]]]:
    """The item's window (None when it sets neither field) and (field, message) problems."""
    if not any(f in item for f in FIELDS):
        return None, []
    problems: list[tuple[str, str]] = []
    parsed: dict[str, dt.datetime | None] = {}
    for f in FIELDS:
        if item.get(f) is None:
            parsed[f] = None
            continue
        try:
            parsed[f] = parse(item[f], tz)
        except ValueError as exc:
            problems.append((f, str(exc)))
    if problems:
        return None, problems
    w = Window(parsed.get("valid_from"), parsed.get("expires"))
    if w.valid_from and w.expires and w.expires <= w.valid_from:
        problems.append(("expires", "is not after valid_from: the item would never be declared"))
    return w, problems


def shown(moment: dt.datetime, tz: dt.tzinfo) -> str:
    """A moment as plans show it, in the project's zone."""
    local = moment.astimezone(tz)
    if local.time() == dt.time():
        return local.strftime("%Y-%m-%d")
    return local.strftime("%Y-%m-%d %H:%M")
