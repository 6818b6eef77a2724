"""Integra API sessions: tokens handed out by getUserToken, ended by EndSession or by idling."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass
class Session:
    user: str
    opened: float  # monotonic
    last_used: float  # monotonic


class Sessions:
    """Open sessions by token, with the counts an admin view shows (tokens never leave here)."""

    def __init__(self) -> None:
        self.by_token: dict[str, Session] = {}
        self.logins = 0
        self.ended = 0
        self.expired = 0
        self.evicted = 0

    def open(self, user: str, cap: int | None, evict: bool) -> str | None:
        """A new token (base64 of `user:uuid4`, like the doc's example), or None at the cap."""
        now = time.monotonic()
        if cap is not None:
            mine = sorted((s.opened, t) for t, s in self.by_token.items() if s.user == user)
            if len(mine) >= cap:
                if not evict:
                    return None
                for _, token in mine[: len(mine) - cap + 1]:
                    del self.by_token[token]
                    self.evicted += 1
        token = base64.b64encode(f"{user}:{uuid.uuid4()}".encode()).decode("ascii")
        self.by_token[token] = Session(user, now, now)
        self.logins += 1
        return token

    def use(self, token: str) -> Session | None:
        """The live session of `token`, now marked as used; None if unknown, ended or expired."""
        s = self.by_token.get(token)
        if s is None:
            return None
        s.last_used = time.monotonic()
        return s

    def end(self, user: str, token: str) -> bool:
        s = self.by_token.get(token)
        if s is None or s.user != user:
            return False
        del self.by_token[token]
        self.ended += 1
        return True

    def expire(self, idle_seconds: float) -> None:
        """Drop the sessions idle longer than `idle_seconds` (called before every lookup)."""
        cutoff = time.monotonic() - idle_seconds
        dead = [t for t, s in self.by_token.items() if s.last_used <= cutoff]
        for token in dead:
            del self.by_token[token]
        self.expired += len(dead)

    def view(self) -> dict[str, Any]:
        now = time.monotonic()
        listed = [
            {
                "user": s.user,
                "open_seconds": round(now - s.opened, 3),
                "idle_seconds": round(now - s.last_used, 3),
            }
            for s in sorted(self.by_token.values(), key=lambda s: s.opened)
        ]
        return {
            "open": len(listed),
            "sessions": listed,
            "logins": self.logins,
            "ended": self.ended,
            "expired": self.expired,
            "evicted": self.evicted,
        }
