"""Masking of personal data for output read widely (PR comments, CI logs).

A masked value keeps its shape and a few characters, plus a short hash so a
reviewer can tell two entries apart. The hash is keyed with the state's
lineage, so it is stable within a project but cannot be reversed by hashing
a phone book.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from typing import Any

_PHONE = re.compile(r"^\+?[0-9 ()./-]{6,}$")


@functools.lru_cache(maxsize=8)
def _keyed(key: str) -> hmac.HMAC:
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


def _tag(value: str, key: str) -> str:
    h = _keyed(key).copy()  # the key's padding is hashed once, not once per value
    h.update(value.encode())
    return h.hexdigest()[:6]


def mask_phone(value: str) -> str:
    """`+49 30 *** **67`: country and area code and the last two digits; the length is hidden."""
    digits = re.sub(r"\D", "", value)
    plus = "+" if value.startswith("+") else ""
    if len(digits) < 8:
        return plus + "*** **" + digits[-2:]
    return f"{plus}{digits[:2]} {digits[2:4]} *** **{digits[-2:]}"


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    host, _, tld = domain.rpartition(".")
    return f"{local[:1]}***@{host[:1]}***.{tld}" if host else f"{local[:1]}***"


def mask_text(value: str) -> str:
    return value[:1] + "***" if value else value


def mask(value: Any, key: str) -> Any:
    """The masked form of one field value."""
    if not isinstance(value, str) or not value:
        return value
    if "@" in value:
        shown = mask_email(value)
    elif _PHONE.match(value):
        shown = mask_phone(value)
    else:
        shown = mask_text(value)
    return f"{shown} #{_tag(value, key)}"


def mask_key(value: str, key: str) -> str:
    """Keys may themselves be personal (a blacklisted number): mask only those that look so."""
    if "@" in value or _PHONE.match(value):
        return str(mask(value, key))
    return value


_IN_TEXT = re.compile(r"\+[1-9][0-9]{6,14}\b|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def mask_in_text(text: str, key: str) -> str:
    """A message with every E.164 number and e-mail address in it masked (errors and
    warnings name entries: a blacklisted number, a removal's address)."""
    return _IN_TEXT.sub(lambda m: str(mask(m.group(0), key)), text)


def mask_deep(value: Any, key: str) -> Any:
    """A personal field's value masked wherever text sits in it (a metadata map, a list of
    variables, a number stored as an integer); booleans and null say nothing about a person."""
    if isinstance(value, dict):
        return {k: mask_deep(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_deep(v, key) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return mask(str(value), key)
    return mask(value, key)


class Masker:
    """One masking policy for every output of a run, so a field is masked in all of them or
    in none: a field is personal when its kind declares it (`personal_fields`, by the part
    before the first dot: `Metadata.Score` is personal when `Metadata` is); keys that look like
    numbers or e-mail addresses and numbers or addresses inside messages are masked too."""

    def __init__(self, key: str, on: bool) -> None:
        self.key = key
        self.on = on
        self._personal: dict[
            tuple[str, str], bool
        ] = {}  # a plan asks the same few thousands of times

    def personal(self, kind: str, name: str) -> bool:
        known = self._personal.get((kind, name))
        if known is None:
            from reconcile import kinds

            spec = kinds.get(kind)
            known = spec is not None and name.split(".", 1)[0] in spec.personal_fields
            self._personal[kind, name] = known
        return known

    def field(self, kind: str, name: str, value: Any) -> Any:
        if self.on and self.personal(kind, name):
            return mask_deep(value, self.key)
        return value

    def fields(self, kind: str, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        return {n: self.field(kind, n, v) for n, v in values.items()}

    def address(self, address: str | None) -> str | None:
        if not self.on or not address:
            return address
        head, _, last = address.rpartition("/")
        return f"{head}/{mask_key(last, self.key)}" if head else mask_key(last, self.key)

    def addr(self, address: str) -> str:
        return self.address(address) or ""

    def text(self, message: str) -> str:
        return mask_in_text(message, self.key) if self.on else message
