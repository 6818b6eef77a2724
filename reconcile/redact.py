"""Keeps credentials out of every output: values registered here are replaced by `***`.

Config loading registers each secret it resolves; the CLI's output and the
log handler pass every line through `scrub`. Providers also never put
credentials in messages, so this is the second line, not the only one.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_secrets: set[str] = set()


def register(value: str) -> None:
    from reconcile.sandbox.credentials import PUBLISHED

    if value and len(value) >= 4 and value not in PUBLISHED:
        with _lock:
            _secrets.add(value)


def scrub(text: str) -> str:
    if not _secrets:
        return text
    for s in sorted(_secrets, key=len, reverse=True):
        if s in text:
            text = text.replace(s, "***")
    return text
