"""uContact kinds: blacklist entries, SMS and e-mail dialer bases, scheduled SMS.

uContact takes these as uploads and offers nothing to read them back, so every
entry is tracked through state. Offline rules: a value that would break the
vendor's `;`-separated CSV (a `;`, CR or LF) is refused, numbers must be phone
numbers, a scheduled SMS must lie in the future (in the provider's time zone).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from typing import Any

from reconcile.errors import ConfigError, Problem
from reconcile.kinds import KindSpec, register
from reconcile.kinds.rules import check_datetime, check_email
from reconcile.model import Collection
from reconcile.phones import to_e164

CHANNELS = ("phone", "email", "customer_id")
CALLDATE = "%Y-%m-%d %H:%M:%S"
_CSV_BREAKERS = {";": "a ';'", "\r": "a carriage return", "\n": "a line break"}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 2000}
_NAME = {"type": "string", "minLength": 1, "maxLength": 255}
_PRIORITY = {"type": "integer", "minimum": 0, "maximum": 999_999}
_KEY = {"type": "string", "minLength": 1, "maxLength": 255}


def csv_breaker(value: str) -> str | None:
    """Why `value` cannot travel in one `;`-separated field (uContact has no quoting)."""
    for ch, what in _CSV_BREAKERS.items():
        if ch in value:
            return (
                f"contains {what}, which would split the uploaded CSV row (uContact has no quoting)"
            )
    return None


def _csv_safe(item: Mapping[str, Any], names: tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    for name in names:
        v = item.get(name)
        if isinstance(v, str) and (why := csv_breaker(v)):
            out.append((name, why))
    return out


def check_phone(name: str, value: Any) -> list[tuple[str, str]]:
    """A phone number in E.164, or a national number (made E.164 with the provider's
    `default_region`, checked with the settings)."""
    if not isinstance(value, str):
        return []
    if value.startswith("+"):
        if to_e164(value) is None:
            return [(name, f"{value!r} is not a possible phone number")]
        return []
    if not value.replace(" ", "").replace("-", "").replace("(", "").replace(")", "").isdigit():
        return [(name, f"{value!r} is not a phone number")]
    return []


def national_numbers(
    coll: Collection, settings: Mapping[str, Any], field_name: str
) -> list[Problem]:
    """National numbers need the provider's `default_region` to become E.164."""
    region = settings.get("default_region")
    out = []
    for d in coll.items:
        v = d.fields.get(field_name, d.key if field_name == "value" else None)
        if not isinstance(v, str) or v.startswith("+"):
            continue
        if region is None:
            out.append(Problem(d.origin, f"{field_name}: {v!r} is a national number: write it in E.164 (+...) or set default_region on provider {coll.provider}"))  # fmt: skip
        elif to_e164(v, str(region)) is None:
            out.append(Problem(d.origin, f"{field_name}: {v!r} is not a possible phone number in region {region}"))  # fmt: skip
    return out


# -- blacklist ---------------------------------------------------------------------------
def _blacklist_item(item: Mapping[str, Any]) -> list[tuple[str, str]]:
    return _csv_safe(item, ("value",))


def _blacklist_context(coll: Collection, settings: Mapping[str, Any]) -> list[Problem]:
    channel = coll.scope_ref.get("value")
    out: list[Problem] = []
    campaign = coll.scope_ref.get("campaign")
    if isinstance(campaign, str) and (why := csv_breaker(campaign)):
        out.append(Problem(coll.scope_origin, f"campaign: {why}"))
    for d in coll.items:
        found: list[tuple[str, str]] = []
        if channel == "phone":
            found = check_phone("value", d.key)
        elif channel == "email":
            found = check_email("value", d.key)
        out += [Problem(d.origin, f"{n}: {m}") for n, m in found]
    if channel == "phone":
        out += national_numbers(coll, settings, "value")
    return out


def blacklist_scope(display: str) -> tuple[bool, str | None]:
    channel, _, campaign = display.partition("@")
    return channel == "phone", (campaign or None)


BLACKLIST = register(
    KindSpec(
        name="ucontact/blacklist",
        key_field="value",
        item_schema={
            "type": "object",
            "required": ["value"],
            "additionalProperties": False,
            "properties": {"value": _KEY},
        },
        scope_field="channel",
        scope_schema={"enum": list(CHANNELS)},
        scope_extra="campaign",
        options_schema={
            "campaign": {**_NAME, "description": "one campaign; omitted = all campaigns"},
            "observe": {
                "type": "object",
                "additionalProperties": False,
                "required": ["dsn"],
                "properties": {"dsn": _NAME, "query": {"type": "string", "minLength": 1}},
                "description": "read the live blacklist through the FormGet SQL gateway",
            },
        },
        plain_items=True,
        personal_fields=frozenset({"value"}),
        check_item=_blacklist_item,
        check_in_context=_blacklist_context,
        resend_uncertain=True,
        blacklist_scope=blacklist_scope,
    )
)


# -- SMS base ----------------------------------------------------------------------------
def _sms_item(item: Mapping[str, Any]) -> list[tuple[str, str]]:
    return _csv_safe(item, ("key", "destination", "text")) + check_phone(
        "destination", item.get("destination")
    )


def _campaign_safe(coll: Collection) -> list[Problem]:
    campaign = coll.scope_ref.get("value")
    if isinstance(campaign, str) and (why := csv_breaker(campaign)):
        return [Problem(coll.scope_origin, f"{why}")]
    return []


SMS_BASE = register(
    KindSpec(
        name="ucontact/sms-base",
        key_field="key",
        key_default="destination",
        item_schema={
            "type": "object",
            "required": ["destination", "text"],
            "additionalProperties": False,
            "properties": {"key": _KEY, "destination": _KEY, "text": _TEXT, "priority": _PRIORITY},
        },
        scope_field="campaign",
        scope_schema=_NAME,
        personal_fields=frozenset({"destination", "text"}),
        dialable_fields=("destination",),
        check_item=_sms_item,
        check_in_context=lambda c, s: _campaign_safe(c) + national_numbers(c, s, "destination"),
    )
)


# -- e-mail base -------------------------------------------------------------------------
def _email_item(item: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = _csv_safe(item, ("key", "email", "body", "subject")) + check_email(
        "email", item.get("email")
    )
    for k, v in (item.get("variables") or {}).items():
        for part in (k, str(v)):
            if why := csv_breaker(part):
                out.append(("variables", f"{k}: {why}"))
            elif '"' in part:
                out.append(("variables", f'{k}: contains a \'"\', which would break the "k":"v" list'))  # fmt: skip
    return out


EMAIL_BASE = register(
    KindSpec(
        name="ucontact/email-base",
        key_field="key",
        key_default="email",
        item_schema={
            "type": "object",
            "required": ["email", "body"],
            "additionalProperties": False,
            "properties": {
                "key": _KEY,
                "email": {"type": "string", "minLength": 3, "maxLength": 254},
                "body": _TEXT,
                "subject": {"type": "string", "maxLength": 255},
                "variables": {
                    "type": "object",
                    "propertyNames": {"pattern": "^[A-Za-z0-9_.-]+$"},
                    "additionalProperties": {"type": ["string", "number", "boolean"]},
                },
                "priority": _PRIORITY,
            },
        },
        scope_field="dialer",
        scope_schema=_NAME,
        personal_fields=frozenset({"email", "body", "variables"}),
        check_item=_email_item,
        check_in_context=lambda c, s: _campaign_safe(c),
    )
)


# -- scheduled SMS -----------------------------------------------------------------------
def _scheduled_item(item: Mapping[str, Any]) -> list[tuple[str, str]]:
    return check_datetime("calldate", item.get("calldate"), CALLDATE) + check_phone(
        "destination", item.get("destination")
    )


def vendor_now(settings: Mapping[str, Any]) -> dt.datetime:
    """The vendor's local time now, without zone (calldates are written that way)."""
    name = str(settings.get("timezone") or "UTC")
    try:
        zone = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"timezone: {name!r} is not a known time zone (e.g. Europe/Madrid, America/Montevideo)"
        ) from exc
    return dt.datetime.now(zone).replace(tzinfo=None)


def _scheduled_context(coll: Collection, settings: Mapping[str, Any]) -> list[Problem]:
    out = national_numbers(coll, settings, "destination")
    now = vendor_now(settings)
    for d in coll.items:
        when = d.fields.get("calldate")
        try:
            at = dt.datetime.strptime(str(when), CALLDATE)
        except ValueError:
            continue  # reported by the item check
        if at <= now:
            out.append(
                Problem(
                    d.origin,
                    f"calldate: {when} is in the past ({settings.get('timezone') or 'UTC'} time now "
                    f"{now:%Y-%m-%d %H:%M:%S}); the SMS would go out at once",
                )
            )
    return out


SCHEDULED_SMS = register(
    KindSpec(
        name="ucontact/scheduled-sms",
        key_field="key",
        item_schema={
            "type": "object",
            "required": ["key", "calldate", "destination", "text"],
            "additionalProperties": False,
            "properties": {
                "key": _KEY,
                "calldate": {"type": "string"},
                "destination": _KEY,
                "text": _TEXT,
            },
        },
        scope_field="campaign",
        scope_schema=_NAME,
        personal_fields=frozenset({"destination", "text"}),
        dialable_fields=("destination",),
        check_item=_scheduled_item,
        check_in_context=_scheduled_context,
    )
)
